//! The audit trail, SQL side: which events are recorded, what a record says, when it is made
//! durable, and who may read it. The file itself is `storage::audit` (hash-chained,
//! append-only, in the data directory).
//!
//! # What is recorded
//!
//! - **Logins**, successful and failed (with the reason and SQLSTATE): always
//!   ([`Database::audit_login`], called by the server's authentication).
//! - **Statements**, by pgaudit class as `pgaudit.log` selects them (`READ`, `WRITE`,
//!   `FUNCTION`, `ROLE`, `DDL`, `MISC`, `MISC_SET`, `ALL`, `none`, `-class` to subtract),
//!   with the statement text and parameters (classified values redacted, see [`redact`]),
//!   session and current user, client address, rows returned or affected, duration, SQLSTATE
//!   and the relations named. The default is [`DEFAULT_LOG_CLASSES`] (`ddl, role, write`);
//!   the server's configuration (`pgaudit_log`) changes it for every session, a superuser
//!   may `SET pgaudit.log` for a session; anyone else gets 42501.
//! - **Denials** (SQLSTATE 42501: privileges, row-level security, masking): always, whatever
//!   the classes, and synced at once, so a rollback or a crash does not erase them.
//! - **Reads of the audit log** (statements naming `custos_audit`): always (PCI DSS 10.2.1.3).
//! - **RAG retrievals** (`rag_context`, `rag_prompt`, `rag_answer`): always, with the
//!   question (redacted), the returned row keys, the masked columns of the sources and the
//!   model name and sha256 ([`audit_retrieval`]).
//! - **Other events** through [`record_function_event`]: the hook for functions such as
//!   `detokenize()` that must audit every call.
//!
//! # Durability
//!
//! A record is written (write(2)) when its statement ends, so it survives the process being
//! killed. A record of a transaction that writes (or of a WRITE / DDL / ROLE / FUNCTION
//! statement) is fsynced before that transaction commits, that is before COMMIT (or the
//! implicit commit of a single statement) is acknowledged: a committed transaction always has
//! its audit records. Records of read-only transactions ride along with the next fsync.
//! Concurrent sessions share fsyncs (group sync). If the audit log cannot be written the
//! statement fails (fail-closed, PCI DSS 10.7).
//!
//! # Reading
//!
//! `pg_catalog.custos_audit` ([`view`]) and `custos_audit_verify()`: superusers and members
//! of the role [`READER_ROLE`] only; nobody can change the log through SQL.

pub mod classify;
pub mod redact;
pub mod view;

use std::time::Duration;

use storage::types::Value;

use crate::engine::{Database, Outcome, Session, Statement};
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;

pub use storage::audit::{AuditEvent, AuditLog};

/// Members of this role (and superusers) may read the audit log. Only a superuser may create
/// it (see `acl::roles`).
pub const READER_ROLE: &str = "custos_audit_reader";
/// `pgaudit.log` when the configuration says nothing.
pub const DEFAULT_LOG_CLASSES: &str = "ddl, role, write";
/// Classes whose records are synced before the transaction commits even when it wrote nothing.
const SYNCED_CLASSES: u16 = classify::WRITE | classify::DDL | classify::ROLE | classify::FUNCTION;

/// Checks `SET pgaudit.*` (`key` lower-case): only `pgaudit.log`, only by a superuser, only
/// valid class lists.
pub(crate) fn check_setting(key: &str, value: Option<&str>, superuser: bool) -> SqlResult<()> {
    if key != "pgaudit.log" {
        return Err(SqlError::new(
            code::FEATURE_NOT_SUPPORTED,
            format!("parameter \"{key}\" is not supported (custos implements pgaudit.log only)"),
        ));
    }
    if !superuser {
        return Err(SqlError::new(
            code::INSUFFICIENT_PRIVILEGE,
            format!("permission denied to set parameter \"{key}\""),
        ));
    }
    if let Some(value) = value {
        classify::parse_classes(value)?;
    }
    Ok(())
}

fn audit_error(error: storage::audit::AuditError) -> SqlError {
    SqlError::new(code::IO_ERROR, format!("audit log: {error}"))
}

impl Database {
    /// The audit log of this database.
    pub fn audit_log(&self) -> &AuditLog {
        &self.audit
    }

    /// Records a login attempt (`failure`: SQLSTATE and message of the refusal) and syncs it.
    pub fn audit_login(
        &self,
        user: &str,
        database: &str,
        client_addr: &str,
        failure: Option<(&str, &str)>,
    ) -> SqlResult<()> {
        let (outcome, sqlstate, reason) = match failure {
            None => ("success", code::SUCCESSFUL_COMPLETION, String::new()),
            Some((sqlstate, message)) => ("failure", sqlstate, message.to_string()),
        };
        let event = AuditEvent {
            class: "LOGIN".into(),
            command: "LOGIN".into(),
            outcome: outcome.into(),
            session_user: user.into(),
            current_user: user.into(),
            database: database.into(),
            client_addr: client_addr.into(),
            statement: reason,
            sqlstate: sqlstate.into(),
            payload: serde_json::Value::Null,
            ..Default::default()
        };
        let seq = self.audit.append(&event).map_err(audit_error)?;
        self.audit.sync(seq).map_err(audit_error)
    }
}

/// Rows a statement returned or changed, from its outcome.
fn rows_of(outcome: &Outcome) -> Option<u64> {
    match outcome {
        Outcome::Rows { rows, .. } | Outcome::CopyOut { rows, .. } => Some(rows.len() as u64),
        Outcome::Command { tag } => tag.rsplit(' ').next().and_then(|n| n.parse().ok()),
        Outcome::CopyIn(_) | Outcome::Empty => None,
    }
}

impl Session {
    /// The client's address, for audit records (the server sets it after login).
    pub fn set_client_addr(&mut self, addr: impl Into<String>) {
        self.client_addr = addr.into();
    }

    /// The classes `pgaudit.log` selects now (parsed once per value).
    fn audit_classes(&mut self) -> u16 {
        let value = self.settings.get("pgaudit.log").unwrap_or("");
        if let Some((cached, classes)) = &self.audit_classes_cache {
            if cached == value {
                return *classes;
            }
        }
        let classes = classify::parse_classes(value).unwrap_or(classify::ALL);
        self.audit_classes_cache = Some((value.to_string(), classes));
        classes
    }

    /// Records a statement that ended (successfully or not) if its class is selected, or it
    /// was denied, or it reads the audit log. Denials are synced at once; records of writing
    /// transactions are synced before their commit ([`Session::audit_sync_pending`]).
    pub(crate) fn audit_statement(
        &mut self,
        statement: &Statement,
        params: &[Value],
        param_types: &[SqlType],
        result: Result<&Outcome, &SqlError>,
        elapsed: Duration,
    ) -> SqlResult<()> {
        let (class, command, objects) = classify::classify(&statement.ast, &statement.sql);
        let denied = matches!(result, Err(e) if e.code == code::INSUFFICIENT_PRIVILEGE);
        let reads_log = statement.sql.contains("custos_audit");
        if !denied && !reads_log && self.audit_classes() & class == 0 {
            return Ok(());
        }
        let (outcome, sqlstate, rows) = match result {
            Ok(outcome) => ("success", code::SUCCESSFUL_COMPLETION, rows_of(outcome)),
            Err(e) if denied => ("denied", e.code, None),
            Err(e) => ("failure", e.code, None),
        };
        let parameters = self.audit_parameters(statement, params, param_types);
        let event = AuditEvent {
            class: classify::class_name(class).into(),
            command: command.into(),
            outcome: outcome.into(),
            session_user: self.session_user().into(),
            current_user: self.current_user().into(),
            database: crate::engine::DATABASE_NAME.into(),
            client_addr: self.client_addr.clone(),
            statement: redact::redact_statement(&statement.sql),
            parameters,
            rows,
            duration_us: elapsed.as_micros() as u64,
            sqlstate: sqlstate.into(),
            objects,
            payload: match result {
                Err(e) => serde_json::json!({ "error": e.message }),
                Ok(_) => serde_json::Value::Null,
            },
        };
        let audit = &self.database.audit;
        let seq = audit.append(&event).map_err(audit_error)?;
        let wrote = self.transaction_wrote();
        if denied {
            audit.sync(seq).map_err(audit_error)?;
        } else if wrote || class & SYNCED_CLASSES != 0 {
            self.audit_pending = seq;
        }
        Ok(())
    }

    fn audit_parameters(
        &self,
        statement: &Statement,
        params: &[Value],
        param_types: &[SqlType],
    ) -> Vec<String> {
        if params.is_empty() {
            return Vec::new();
        }
        let catalog = self.catalog();
        let labelled = if catalog.security_labels.is_empty() {
            Vec::new()
        } else {
            redact::labelled_parameters(&statement.ast, &catalog, &self.search_path())
        };
        params
            .iter()
            .enumerate()
            .map(|(i, value)| {
                if matches!(value, Value::Null) {
                    return "NULL".to_string();
                }
                let text = match param_types.get(i) {
                    Some(t) => self.output_text(value, t),
                    None => format!("{value:?}"),
                };
                if labelled.contains(&i) || redact::looks_classified(&text) {
                    redact::REDACTED.to_string()
                } else {
                    text
                }
            })
            .collect()
    }

    /// Makes this session's audit records durable before its transaction commits.
    pub(crate) fn audit_sync_pending(&mut self) -> SqlResult<()> {
        if self.audit_pending > 0 {
            self.database
                .audit
                .sync(self.audit_pending)
                .map_err(audit_error)?;
            self.audit_pending = 0;
        }
        Ok(())
    }

    /// Records an event of this session (class, command, details), synced at once: the hook
    /// for events that are not statements. See also [`record_function_event`].
    pub fn audit(
        &mut self,
        class: &str,
        command: &str,
        payload: serde_json::Value,
    ) -> SqlResult<()> {
        let event = AuditEvent {
            class: class.into(),
            command: command.into(),
            outcome: "success".into(),
            session_user: self.session_user().into(),
            current_user: self.current_user().into(),
            database: crate::engine::DATABASE_NAME.into(),
            client_addr: self.client_addr.clone(),
            statement: redact::redact_statement(&self.current_sql),
            sqlstate: code::SUCCESSFUL_COMPLETION.into(),
            payload,
            ..Default::default()
        };
        let seq = self.database.audit.append(&event).map_err(audit_error)?;
        self.database.audit.sync(seq).map_err(audit_error)
    }
}

/// Records an event from inside a function call (`detokenize()`, a RAG retrieval): class
/// (`DETOKENIZE`, `RAG`), command (the function name), the objects it touched and details.
/// Synced before the function returns; fails the calling statement when the log cannot be
/// written. Outside a statement (binding, tests) there is no log and nothing is recorded.
pub fn record_function_event(
    ctx: &crate::func::FnCtx,
    class: &str,
    command: &str,
    objects: Vec<String>,
    payload: serde_json::Value,
) -> SqlResult<()> {
    let Some(runner) = ctx.queries else {
        return Ok(());
    };
    runner.audit_event(AuditEvent {
        class: class.into(),
        command: command.into(),
        outcome: "success".into(),
        current_user: ctx.user.into(),
        database: ctx.database.into(),
        sqlstate: code::SUCCESSFUL_COMPLETION.into(),
        objects,
        payload,
        ..Default::default()
    })
}

/// Records a RAG retrieval: the question (redacted), the returned row keys, the masked
/// columns of the sources (columns with an `anon` SECURITY LABEL) and the model.
pub fn audit_retrieval(
    ctx: &crate::func::FnCtx,
    function: &str,
    question: &str,
    chunks: &[crate::rag::context::Chunk],
) -> SqlResult<()> {
    let mut tables: Vec<u32> = chunks.iter().map(|c| c.source.table).collect();
    tables.sort_unstable();
    tables.dedup();
    let objects: Vec<String> = tables
        .iter()
        .map(|oid| {
            ctx.catalog
                .tables
                .get(oid)
                .map_or_else(|| oid.to_string(), |t| t.name.clone())
        })
        .collect();
    let masked: Vec<String> = ctx
        .catalog
        .security_labels
        .iter()
        .filter(|l| tables.contains(&l.object) && l.column > 0 && l.provider == "anon")
        .filter(|l| {
            l.label
                .trim_start()
                .to_ascii_uppercase()
                .starts_with("MASKED")
        })
        .filter_map(|l| {
            let table = ctx.catalog.tables.get(&l.object)?;
            let column = table.columns.iter().find(|c| c.attnum == l.column)?;
            Some(format!("{}.{}", table.name, column.name))
        })
        .collect();
    let rows: Vec<serde_json::Value> = chunks
        .iter()
        .map(|c| {
            serde_json::json!({
                "table": c.source.table,
                "key": c.row_key,
                "rank": c.rank,
                "flags": c.flags.iter().map(|f| f.name()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let model = crate::embedding::service().status();
    let question = if redact::looks_classified(question) {
        redact::REDACTED.to_string()
    } else {
        question.to_string()
    };
    record_function_event(
        ctx,
        "RAG",
        function,
        objects,
        serde_json::json!({
            "question": question,
            "rows": rows,
            "masked_columns": masked,
            "model": model.name,
            "model_sha256": model.sha256,
        }),
    )
}
