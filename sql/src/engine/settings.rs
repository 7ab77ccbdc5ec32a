//! Session settings (PostgreSQL's GUCs): the values SHOW, SET, RESET, `current_setting` and
//! `set_config` read and write, with SET LOCAL undone at the end of the transaction, and the
//! ones PostgreSQL reports to the client in ParameterStatus whenever they change.

use std::collections::BTreeMap;

use crate::error::{code, SqlError, SqlResult};
use crate::types::{
    DateOrder, DateOutputStyle, DateStyle, IntervalStyle, SessionFormat, SessionTimeZone,
};

/// The server version custos reports (PostgreSQL 16 compatible).
pub const SERVER_VERSION: &str = "16.4";
pub const SERVER_VERSION_NUM: &str = "160004";

/// Settings PostgreSQL 16 sends as ParameterStatus at startup and on change (GUC_REPORT).
pub const REPORTED: &[&str] = &[
    "application_name",
    "client_encoding",
    "DateStyle",
    "default_transaction_read_only",
    "in_hot_standby",
    "integer_datetimes",
    "IntervalStyle",
    "is_superuser",
    "server_encoding",
    "server_version",
    "session_authorization",
    "standard_conforming_strings",
    "TimeZone",
];

/// Built-in settings: name as PostgreSQL spells it, default value.
const DEFAULTS: &[(&str, &str)] = &[
    ("application_name", ""),
    ("client_encoding", "UTF8"),
    ("client_min_messages", "notice"),
    ("DateStyle", "ISO, MDY"),
    ("default_transaction_isolation", "read committed"),
    ("default_transaction_read_only", "off"),
    ("transaction_isolation", "read committed"),
    ("transaction_read_only", "off"),
    ("extra_float_digits", "1"),
    ("in_hot_standby", "off"),
    ("integer_datetimes", "on"),
    ("IntervalStyle", "postgres"),
    ("is_superuser", "on"),
    ("lc_collate", "C.UTF-8"),
    ("lc_ctype", "C.UTF-8"),
    ("lc_messages", "C.UTF-8"),
    ("lc_monetary", "C.UTF-8"),
    ("lc_numeric", "C.UTF-8"),
    ("lc_time", "C.UTF-8"),
    ("max_identifier_length", "63"),
    ("max_connections", "100"),
    ("search_path", "\"$user\", public"),
    ("server_encoding", "UTF8"),
    ("server_version", SERVER_VERSION),
    ("server_version_num", SERVER_VERSION_NUM),
    ("session_authorization", ""),
    ("role", "none"),
    ("standard_conforming_strings", "on"),
    ("statement_timeout", "0"),
    ("lock_timeout", "0"),
    ("idle_in_transaction_session_timeout", "0"),
    ("TimeZone", "UTC"),
    ("timezone_abbreviations", "Default"),
    ("row_security", "on"),
    ("synchronous_commit", "on"),
    ("work_mem", "4MB"),
    ("maintenance_work_mem", "64MB"),
    ("bytea_output", "hex"),
    ("escape_string_warning", "on"),
    ("jit", "off"),
    ("default_text_search_config", "pg_catalog.english"),
    ("block_size", "8192"),
    ("hnsw.ef_search", "40"),
    ("ivfflat.probes", "1"),
    ("hnsw.iterative_scan", "off"),
    ("ivfflat.iterative_scan", "off"),
    // What rag_prompt does with chunks that carry safety flags: quote | omit (sql/src/rag).
    ("custos.rag_flagged", "quote"),
    ("enable_seqscan", "on"),
    ("enable_indexscan", "on"),
    ("enable_hashjoin", "on"),
    ("enable_nestloop", "on"),
    ("enable_mergejoin", "on"),
    ("enable_sort", "on"),
    ("max_parallel_workers_per_gather", "2"),
    ("geqo", "on"),
    ("array_nulls", "on"),
    ("check_function_bodies", "on"),
    ("search_path_extra", ""),
    // pgaudit's statement classes (sql/src/audit); superuser only.
    ("pgaudit.log", crate::audit::DEFAULT_LOG_CLASSES),
];

/// The settings of one session.
#[derive(Debug, Clone)]
pub struct Settings {
    values: BTreeMap<String, String>,
    /// Values to restore at transaction end (SET LOCAL, and SET inside a transaction that
    /// rolls back).
    saved: Vec<(String, Option<String>, bool)>,
    /// Reported settings changed since the last call to `take_changes`.
    changed: Vec<String>,
    /// What RESET goes back to when it is not the built-in default (`pgaudit.log` from the
    /// server's configuration), by canonical key.
    reset_values: BTreeMap<String, String>,
    pub format: SessionFormat,
}

/// Settings that carry the session's identity claims (a tenant id bound at login): only a
/// superuser or the login role's `ALTER ROLE ... SET` give them a value, so that row-level
/// security policies can rely on `current_setting('custos.claim.tenant_id')`.
pub const CLAIM_PREFIX: &str = "custos.claim.";

/// The canonical (lower-case) key of a setting name.
fn key(name: &str) -> String {
    name.to_ascii_lowercase()
}

impl Settings {
    pub fn new(user: &str, superuser: bool) -> Settings {
        let mut values = BTreeMap::new();
        for (name, value) in DEFAULTS {
            values.insert(key(name), value.to_string());
        }
        values.insert("session_authorization".into(), user.to_string());
        values.insert(
            "is_superuser".into(),
            if superuser { "on" } else { "off" }.into(),
        );
        Settings {
            values,
            saved: Vec::new(),
            changed: Vec::new(),
            reset_values: BTreeMap::new(),
            format: SessionFormat::default(),
        }
    }

    /// The spelling PostgreSQL uses for a built-in setting (`DateStyle`), else the name given.
    pub fn display_name(name: &str) -> String {
        DEFAULTS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(n, _)| n.to_string())
            .unwrap_or_else(|| name.to_string())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(&key(name)).map(|s| s.as_str())
    }

    /// SHOW's value, or 42704 for an unknown setting (custom `a.b` settings are allowed once
    /// set, as in PostgreSQL).
    pub fn show(&self, name: &str) -> SqlResult<String> {
        self.get(name).map(str::to_string).ok_or_else(|| {
            SqlError::new(
                code::UNDEFINED_OBJECT,
                format!("unrecognized configuration parameter \"{name}\""),
            )
        })
    }

    /// Every setting, for `pg_settings` and SHOW ALL.
    pub fn all(&self) -> Vec<(String, String)> {
        self.values
            .iter()
            .map(|(k, v)| (Settings::display_name(k), v.clone()))
            .collect()
    }

    pub fn reported(&self) -> Vec<(String, String)> {
        REPORTED
            .iter()
            .map(|n| (n.to_string(), self.get(n).unwrap_or("").to_string()))
            .collect()
    }

    pub fn take_changes(&mut self) -> Vec<(String, String)> {
        let changed = std::mem::take(&mut self.changed);
        let mut out: Vec<(String, String)> = Vec::new();
        for name in changed {
            if let Some(reported) = REPORTED.iter().find(|r| r.eq_ignore_ascii_case(&name)) {
                if !out.iter().any(|(n, _)| n == reported) {
                    out.push((
                        reported.to_string(),
                        self.get(reported).unwrap_or("").into(),
                    ));
                }
            }
        }
        out
    }

    /// SET name = value (value None: RESET / SET ... TO DEFAULT). `in_transaction` records
    /// the old value so that a rollback (or, for `local`, any transaction end) restores it.
    pub fn set(
        &mut self,
        name: &str,
        value: Option<&str>,
        local: bool,
        in_transaction: bool,
    ) -> SqlResult<()> {
        let k = key(name);
        let known = DEFAULTS.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
        if !known && !k.contains('.') {
            return Err(SqlError::new(
                code::UNDEFINED_OBJECT,
                format!("unrecognized configuration parameter \"{name}\""),
            ));
        }
        if matches!(
            k.as_str(),
            "server_version"
                | "server_version_num"
                | "server_encoding"
                | "integer_datetimes"
                | "lc_collate"
                | "lc_ctype"
                | "max_identifier_length"
                | "block_size"
                | "in_hot_standby"
                | "max_connections"
                | "is_superuser"
        ) {
            return Err(SqlError::new(
                code::CANT_CHANGE_RUNTIME_PARAM,
                format!("parameter \"{name}\" cannot be changed"),
            ));
        }
        if k.starts_with("pgaudit.") {
            crate::audit::check_setting(&k, value, self.get("is_superuser") == Some("on"))?;
        }
        if k == "role" || k == "session_authorization" {
            // The session's identity changes only through SET ROLE / SET SESSION
            // AUTHORIZATION, which check who may become whom (`crate::acl::identity`).
            return Err(SqlError::new(
                code::FEATURE_NOT_SUPPORTED,
                format!("parameter \"{name}\" can only be changed with SET ROLE or SET SESSION AUTHORIZATION"),
            ));
        }
        if k.starts_with(CLAIM_PREFIX) && self.get("is_superuser") != Some("on") {
            return Err(SqlError::new(
                code::INSUFFICIENT_PRIVILEGE,
                format!("permission denied to set parameter \"{name}\""),
            ));
        }
        self.set_unchecked(&k, value, local, in_transaction)
    }

    /// Sets a setting's value and the value RESET restores, without the checks of SET (the
    /// server's configuration).
    pub(crate) fn set_server_default(&mut self, name: &str, value: &str) -> SqlResult<()> {
        self.reset_values.insert(key(name), value.to_string());
        self.set_unchecked(&key(name), Some(value), false, false)
    }

    /// A setting of the login role (`ALTER ROLE ... SET`), applied at session start: the
    /// only way besides a superuser's SET that claims (`custos.claim.*`) get a value.
    pub(crate) fn set_from_role(&mut self, name: &str, value: &str) -> SqlResult<()> {
        let k = key(name);
        if k.starts_with(CLAIM_PREFIX) {
            return self.set_unchecked(&k, Some(value), false, false);
        }
        self.set(name, Some(value), false, false)
    }

    /// Changes the identity settings (`role`, `session_authorization`, `is_superuser`) with
    /// the transaction semantics of SET: the caller has checked that the change is allowed.
    pub(crate) fn set_identity(
        &mut self,
        name: &str,
        value: Option<&str>,
        local: bool,
        in_transaction: bool,
    ) -> SqlResult<()> {
        self.set_unchecked(&key(name), value, local, in_transaction)
    }

    fn set_unchecked(
        &mut self,
        k: &str,
        value: Option<&str>,
        local: bool,
        in_transaction: bool,
    ) -> SqlResult<()> {
        let name = k;
        let k = k.to_string();
        let new_value = match value {
            Some(v) => self.normalise(&k, v)?,
            None => match self.reset_values.get(name) {
                Some(v) => v.clone(),
                None => DEFAULTS
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.to_string())
                    .unwrap_or_default(),
            },
        };
        if local || in_transaction {
            let old = self.values.get(&k).cloned();
            self.saved.push((k.clone(), old, local));
        }
        self.apply(&k, new_value);
        Ok(())
    }

    /// Validates a value and returns the form SHOW prints.
    fn normalise(&self, k: &str, v: &str) -> SqlResult<String> {
        let invalid = || {
            SqlError::new(
                code::INVALID_PARAMETER_VALUE,
                format!(
                    "invalid value for parameter \"{}\": \"{v}\"",
                    Settings::display_name(k)
                ),
            )
        };
        Ok(match k {
            "timezone" => {
                let zone = SessionTimeZone::parse(v).map_err(|_| invalid())?;
                let _ = zone;
                v.to_string()
            }
            "datestyle" => {
                let style = parse_date_style(v, self.format.date_style).ok_or_else(invalid)?;
                format_date_style(style)
            }
            "custos.rag_flagged" => match v.trim().to_ascii_lowercase().as_str() {
                "quote" | "omit" => v.trim().to_ascii_lowercase(),
                _ => return Err(invalid().with_hint("Available values: quote, omit.")),
            },
            "intervalstyle" => match v.to_ascii_lowercase().as_str() {
                "postgres" | "postgres_verbose" | "sql_standard" | "iso_8601" => {
                    v.to_ascii_lowercase()
                }
                _ => return Err(invalid()),
            },
            "extra_float_digits" => {
                let n: i32 = v.trim().parse().map_err(|_| invalid())?;
                if !(-15..=3).contains(&n) {
                    return Err(invalid());
                }
                n.to_string()
            }
            "client_encoding" => match v.to_ascii_uppercase().replace(['-', '_'], "").as_str() {
                "UTF8" | "UNICODE" => "UTF8".into(),
                "SQLASCII" => "SQL_ASCII".into(),
                _ => {
                    return Err(SqlError::new(
                        code::INVALID_PARAMETER_VALUE,
                        format!("invalid value for parameter \"client_encoding\": \"{v}\""),
                    ))
                }
            },
            "standard_conforming_strings" => match v.to_ascii_lowercase().as_str() {
                "on" | "true" | "1" | "yes" => "on".into(),
                _ => {
                    return Err(SqlError::new(
                        code::FEATURE_NOT_SUPPORTED,
                        "standard_conforming_strings = off is not supported",
                    ))
                }
            },
            "row_security"
            | "enable_seqscan"
            | "enable_indexscan"
            | "enable_hashjoin"
            | "enable_nestloop"
            | "enable_mergejoin"
            | "enable_sort"
            | "jit"
            | "geqo"
            | "escape_string_warning"
            | "array_nulls"
            | "check_function_bodies"
            | "default_transaction_read_only"
            | "transaction_read_only" => match v.to_ascii_lowercase().as_str() {
                "on" | "true" | "1" | "yes" | "t" => "on".into(),
                "off" | "false" | "0" | "no" | "f" => "off".into(),
                _ => {
                    return Err(SqlError::new(
                        code::INVALID_PARAMETER_VALUE,
                        format!(
                            "parameter \"{}\" requires a Boolean value",
                            Settings::display_name(k)
                        ),
                    ))
                }
            },
            "hnsw.ef_search" | "ivfflat.probes" => {
                // pgvector's bounds: ef_search 1..1000, probes 1..32768 (its most lists).
                let max = if k == "hnsw.ef_search" { 1000 } else { 32768 };
                let n: i64 = v.trim().parse().map_err(|_| invalid())?;
                if !(1..=max).contains(&n) {
                    return Err(SqlError::new(
                        code::INVALID_PARAMETER_VALUE,
                        format!(
                            "{n} is outside the valid range for parameter \"{k}\" (1 .. {max})"
                        ),
                    ));
                }
                n.to_string()
            }
            // pgvector 0.8's iterative scans. Accepted and shown, but a no-op: custos's
            // filtered vector search always returns min(k, qualifying rows) rows.
            "hnsw.iterative_scan" | "ivfflat.iterative_scan" => {
                let allowed: &[&str] = if k == "hnsw.iterative_scan" {
                    &["off", "relaxed_order", "strict_order"]
                } else {
                    &["off", "relaxed_order"]
                };
                let lower = v.trim().to_ascii_lowercase();
                if !allowed.contains(&lower.as_str()) {
                    let hint = format!("Available values: {}.", allowed.join(", "));
                    return Err(invalid().with_hint(hint));
                }
                lower
            }
            _ => v.to_string(),
        })
    }

    fn apply(&mut self, k: &str, value: String) {
        match k {
            "timezone" => {
                if let Ok(zone) = SessionTimeZone::parse(&value) {
                    self.format.time_zone = zone;
                }
            }
            "datestyle" => {
                if let Some(style) = parse_date_style(&value, self.format.date_style) {
                    self.format.date_style = style;
                }
            }
            "intervalstyle" => {
                self.format.interval_style = match value.as_str() {
                    "postgres_verbose" => IntervalStyle::PostgresVerbose,
                    "sql_standard" => IntervalStyle::SqlStandard,
                    "iso_8601" => IntervalStyle::Iso8601,
                    _ => IntervalStyle::Postgres,
                }
            }
            "extra_float_digits" => {
                self.format.extra_float_digits = value.parse().unwrap_or(1);
            }
            _ => {}
        }
        self.values.insert(k.to_string(), value);
        self.changed.push(k.to_string());
    }

    /// End of a transaction: SET LOCAL values always revert; plain SETs made in the
    /// transaction revert only when it rolls back.
    pub fn end_transaction(&mut self, committed: bool) {
        let saved = std::mem::take(&mut self.saved);
        // Restore newest first, so that the value from before the transaction wins.
        for (k, old, local) in saved.into_iter().rev() {
            if committed && !local {
                continue;
            }
            match old {
                Some(old) => self.apply(&k, old),
                None => {
                    self.values.remove(&k);
                }
            }
        }
    }
}

fn parse_date_style(text: &str, current: DateStyle) -> Option<DateStyle> {
    let mut style = current;
    for part in text.split(',') {
        match part.trim().to_ascii_lowercase().as_str() {
            "iso" => style.output = DateOutputStyle::Iso,
            "sql" => style.output = DateOutputStyle::Sql,
            "postgres" => style.output = DateOutputStyle::Postgres,
            "german" => style.output = DateOutputStyle::German,
            "mdy" | "us" | "noneuropean" => style.order = DateOrder::Mdy,
            "dmy" | "euro" | "european" => style.order = DateOrder::Dmy,
            "ymd" => style.order = DateOrder::Ymd,
            "default" => {}
            _ => return None,
        }
    }
    Some(style)
}

fn format_date_style(style: DateStyle) -> String {
    let output = match style.output {
        DateOutputStyle::Iso => "ISO",
        DateOutputStyle::Sql => "SQL",
        DateOutputStyle::Postgres => "Postgres",
        DateOutputStyle::German => "German",
    };
    let order = match style.order {
        DateOrder::Mdy => "MDY",
        DateOrder::Dmy => "DMY",
        DateOrder::Ymd => "YMD",
    };
    format!("{output}, {order}")
}
