//! The `pg_catalog` views clients read instead of the catalogs: `pg_settings`, `pg_tables`,
//! `pg_views`, `pg_indexes`, `pg_matviews` (empty: custos has no materialized views),
//! `pg_sequences`, `pg_policies`, `pg_stat_user_tables` (counters are zero: custos keeps no
//! access statistics) and `pg_available_extensions`.
//!
//! `pg_tables` lists system catalogs as PostgreSQL does; `pg_views` lists user views only
//! (the system views have no SQL definition here).

use storage::types::{Row, Value};

use super::datum::*;
use super::ddl::{index_definition, view_definition};
use super::misc_tables::policy_command_letter;
use super::names::{namespace_name, relations, role_by_oid, Relation};
use super::oids::{exposed_namespace_oid, rel};
use super::type_tables::no_rows;
use super::{table, SystemCtx, SystemTable};
use crate::deparse::DeparseCtx;
use crate::error::SqlResult;
use crate::pgtype::SqlType;
use crate::types::SessionFormat;

/// The pgvector version `pg_available_extensions` offers.
pub const VECTOR_EXTENSION_VERSION: &str = "0.8.0";

pub(super) fn tables() -> Vec<SystemTable> {
    let view = |n: u32| rel::FIRST_VIEW + n;
    vec![
        table(
            "pg_catalog",
            "pg_settings",
            view(3),
            vec![
                ("name", TEXT),
                ("setting", TEXT),
                ("unit", TEXT),
                ("category", TEXT),
                ("short_desc", TEXT),
                ("extra_desc", TEXT),
                ("context", TEXT),
                ("vartype", TEXT),
                ("source", TEXT),
                ("min_val", TEXT),
                ("max_val", TEXT),
                ("enumvals", array_of(TEXT)),
                ("boot_val", TEXT),
                ("reset_val", TEXT),
                ("sourcefile", TEXT),
                ("sourceline", INT4),
                ("pending_restart", BOOL),
            ],
            pg_settings_rows,
        ),
        table(
            "pg_catalog",
            "pg_tables",
            view(4),
            vec![
                ("schemaname", NAME),
                ("tablename", NAME),
                ("tableowner", NAME),
                ("tablespace", NAME),
                ("hasindexes", BOOL),
                ("hasrules", BOOL),
                ("hastriggers", BOOL),
                ("rowsecurity", BOOL),
            ],
            pg_tables_rows,
        ),
        table(
            "pg_catalog",
            "pg_views",
            view(5),
            vec![
                ("schemaname", NAME),
                ("viewname", NAME),
                ("viewowner", NAME),
                ("definition", TEXT),
            ],
            pg_views_rows,
        ),
        table(
            "pg_catalog",
            "pg_indexes",
            view(6),
            vec![
                ("schemaname", NAME),
                ("tablename", NAME),
                ("indexname", NAME),
                ("tablespace", NAME),
                ("indexdef", TEXT),
            ],
            pg_indexes_rows,
        ),
        table(
            "pg_catalog",
            "pg_matviews",
            view(7),
            vec![
                ("schemaname", NAME),
                ("matviewname", NAME),
                ("matviewowner", NAME),
                ("tablespace", NAME),
                ("hasindexes", BOOL),
                ("ispopulated", BOOL),
                ("definition", TEXT),
            ],
            no_rows,
        ),
        table(
            "pg_catalog",
            "pg_sequences",
            view(8),
            vec![
                ("schemaname", NAME),
                ("sequencename", NAME),
                ("sequenceowner", NAME),
                ("data_type", SqlType::RegType),
                ("start_value", INT8),
                ("min_value", INT8),
                ("max_value", INT8),
                ("increment_by", INT8),
                ("cycle", BOOL),
                ("cache_size", INT8),
                ("last_value", INT8),
            ],
            pg_sequences_rows,
        ),
        table(
            "pg_catalog",
            "pg_policies",
            view(9),
            vec![
                ("schemaname", NAME),
                ("tablename", NAME),
                ("policyname", NAME),
                ("permissive", TEXT),
                ("roles", array_of(NAME)),
                ("cmd", TEXT),
                ("qual", TEXT),
                ("with_check", TEXT),
            ],
            pg_policies_rows,
        ),
        table(
            "pg_catalog",
            "pg_stat_user_tables",
            view(10),
            vec![
                ("relid", OID),
                ("schemaname", NAME),
                ("relname", NAME),
                ("seq_scan", INT8),
                ("last_seq_scan", TIMESTAMPTZ),
                ("seq_tup_read", INT8),
                ("idx_scan", INT8),
                ("last_idx_scan", TIMESTAMPTZ),
                ("idx_tup_fetch", INT8),
                ("n_tup_ins", INT8),
                ("n_tup_upd", INT8),
                ("n_tup_del", INT8),
                ("n_tup_hot_upd", INT8),
                ("n_tup_newpage_upd", INT8),
                ("n_live_tup", INT8),
                ("n_dead_tup", INT8),
                ("n_mod_since_analyze", INT8),
                ("n_ins_since_vacuum", INT8),
                ("last_vacuum", TIMESTAMPTZ),
                ("last_autovacuum", TIMESTAMPTZ),
                ("last_analyze", TIMESTAMPTZ),
                ("last_autoanalyze", TIMESTAMPTZ),
                ("vacuum_count", INT8),
                ("autovacuum_count", INT8),
                ("analyze_count", INT8),
                ("autoanalyze_count", INT8),
            ],
            pg_stat_user_tables_rows,
        ),
        table(
            "pg_catalog",
            "pg_available_extensions",
            view(11),
            vec![
                ("name", NAME),
                ("default_version", TEXT),
                ("installed_version", TEXT),
                ("comment", TEXT),
            ],
            pg_available_extensions_rows,
        ),
        table(
            "pg_catalog",
            "pg_stat_progress_create_index",
            view(40),
            vec![
                ("pid", INT4),
                ("datid", OID),
                ("datname", NAME),
                ("relid", OID),
                ("index_relid", OID),
                ("command", TEXT),
                ("phase", TEXT),
                ("lockers_total", INT8),
                ("lockers_done", INT8),
                ("current_locker_pid", INT8),
                ("blocks_total", INT8),
                ("blocks_done", INT8),
                ("tuples_total", INT8),
                ("tuples_done", INT8),
                ("partitions_total", INT8),
                ("partitions_done", INT8),
            ],
            pg_stat_progress_create_index_rows,
        ),
    ]
}

/// Vector index builds running now (storage lists them per segment being built).
fn pg_stat_progress_create_index_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let count = |n: u64| int8(i64::try_from(n).unwrap_or(i64::MAX));
    Ok(storage::vector_progress::builds_in_progress()
        .into_iter()
        .map(|build| {
            vec![
                Value::Int4(build.pid),
                oid(super::DATABASE_OID),
                name(ctx.database),
                oid(build.table),
                oid(build.index),
                text("CREATE INDEX"),
                text(build.phase),
                int8(0),
                int8(0),
                int8(0),
                count(build.blocks_total),
                count(build.blocks_done),
                count(build.tuples_total),
                count(build.tuples_done),
                int8(0),
                int8(0),
            ]
        })
        .collect())
}

/// A memory setting (`4MB`) as PostgreSQL shows it: a number of kB.
fn memory_in_kb(value: &str) -> Option<String> {
    let value = value.trim();
    let (number, factor) = if let Some(n) = value.strip_suffix("kB") {
        (n, 1)
    } else if let Some(n) = value.strip_suffix("MB") {
        (n, 1024)
    } else if let Some(n) = value.strip_suffix("GB") {
        (n, 1024 * 1024)
    } else {
        return None;
    };
    number
        .trim()
        .parse::<i64>()
        .ok()
        .map(|n| (n * factor).to_string())
}

fn pg_settings_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let mut settings: Vec<&(String, String)> = ctx.settings.iter().collect();
    settings.sort_by_key(|(n, _)| n.to_ascii_lowercase());
    Ok(settings
        .into_iter()
        .map(|(setting_name, value)| {
            let lower = setting_name.to_ascii_lowercase();
            let (setting, unit) = match memory_in_kb(value) {
                Some(kb) => (kb, Some("kB")),
                None if lower.ends_with("_timeout") => (value.clone(), Some("ms")),
                None => (value.clone(), None),
            };
            let vartype = if matches!(value.as_str(), "on" | "off") {
                "bool"
            } else if setting.parse::<i64>().is_ok() {
                "integer"
            } else if setting.parse::<f64>().is_ok() {
                "real"
            } else {
                "string"
            };
            let context = match lower.as_str() {
                "server_version"
                | "server_version_num"
                | "server_encoding"
                | "block_size"
                | "integer_datetimes"
                | "max_identifier_length"
                | "lc_collate"
                | "lc_ctype" => "internal",
                "max_connections" => "postmaster",
                _ => "user",
            };
            let category = if lower.contains('.') {
                "Customized Options"
            } else {
                "Ungrouped"
            };
            vec![
                text(setting_name.clone()),
                text(setting.clone()),
                text_or_null(unit),
                text(category),
                text(""),
                Value::Null,
                text(context),
                text(vartype),
                text("default"),
                Value::Null,
                Value::Null,
                Value::Null,
                text(setting.clone()),
                text(setting),
                Value::Null,
                Value::Null,
                boolean(false),
            ]
        })
        .collect())
}

fn owner_name(ctx: &SystemCtx, owner: u32) -> Value {
    role_by_oid(ctx.catalog, ctx.user, owner).map_or(Value::Null, |r| name(r.name))
}

fn schema_name(ctx: &SystemCtx, schema: u32) -> Value {
    text_or_null(namespace_name(
        ctx.catalog,
        exposed_namespace_oid(ctx.catalog, schema),
    ))
}

fn pg_tables_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let catalog = ctx.catalog;
    let system_owner = super::names::bootstrap_owner(catalog, ctx.user);
    let mut rows = Vec::new();
    for relation in relations(catalog) {
        let (owner, has_indexes, row_security) = match relation {
            Relation::Table(t) => (
                t.owner,
                catalog.indexes_of(t.oid).next().is_some(),
                t.row_security,
            ),
            Relation::System(_) if relation.kind() == 'r' => (system_owner, false, false),
            _ => continue,
        };
        rows.push(vec![
            text_or_null(namespace_name(catalog, relation.namespace(catalog))),
            name(relation.name()),
            owner_name(ctx, owner),
            Value::Null,
            boolean(has_indexes),
            boolean(false),
            boolean(false),
            boolean(row_security),
        ]);
    }
    Ok(rows)
}

fn pg_views_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    Ok(ctx
        .catalog
        .views
        .values()
        .map(|v| {
            vec![
                schema_name(ctx, v.schema),
                name(v.name.clone()),
                owner_name(ctx, v.owner),
                text_or_null(view_definition(ctx.catalog, v.oid)),
            ]
        })
        .collect())
}

fn pg_indexes_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let catalog = ctx.catalog;
    let format = SessionFormat::default();
    let deparse_ctx = DeparseCtx {
        catalog,
        format: &format,
    };
    Ok(catalog
        .indexes
        .values()
        .filter_map(|i| {
            let table = catalog.tables.get(&i.table)?;
            Some(vec![
                schema_name(ctx, table.schema),
                name(table.name.clone()),
                name(i.name.clone()),
                Value::Null,
                text_or_null(index_definition(&deparse_ctx, i.oid, 0, false)),
            ])
        })
        .collect())
}

fn pg_sequences_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    Ok(ctx
        .catalog
        .sequences
        .values()
        .map(|s| {
            vec![
                schema_name(ctx, s.schema),
                name(s.name.clone()),
                owner_name(ctx, s.owner),
                oid(crate::pgtype::oid::INT8),
                int8(s.start),
                int8(s.min_value),
                int8(s.max_value),
                int8(s.increment),
                boolean(s.cycle),
                int8(1),
                s.last_value.map_or(Value::Null, int8),
            ]
        })
        .collect())
}

fn pg_policies_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let catalog = ctx.catalog;
    Ok(catalog
        .policies
        .values()
        .filter_map(|p| {
            let table = catalog.tables.get(&p.table)?;
            let roles: Vec<String> = if p.roles.is_empty() {
                vec!["public".to_string()]
            } else {
                p.roles
                    .iter()
                    .map(|r| {
                        role_by_oid(catalog, ctx.user, *r).map_or_else(|| r.to_string(), |r| r.name)
                    })
                    .collect()
            };
            let cmd = match policy_command_letter(&p.command) {
                'r' => "SELECT",
                'a' => "INSERT",
                'w' => "UPDATE",
                'd' => "DELETE",
                _ => "ALL",
            };
            Some(vec![
                schema_name(ctx, table.schema),
                name(table.name.clone()),
                name(p.name.clone()),
                text(if p.permissive {
                    "PERMISSIVE"
                } else {
                    "RESTRICTIVE"
                }),
                text_array(roles),
                text(cmd),
                text_or_null(p.using.clone()),
                text_or_null(p.with_check.clone()),
            ])
        })
        .collect())
}

fn pg_stat_user_tables_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let catalog = ctx.catalog;
    Ok(catalog
        .tables
        .values()
        .map(|t| {
            let indexed = catalog.indexes_of(t.oid).next().is_some();
            let zero_if_indexed = if indexed { int8(0) } else { Value::Null };
            vec![
                oid(t.oid),
                schema_name(ctx, t.schema),
                name(t.name.clone()),
                int8(0),
                Value::Null,
                int8(0),
                zero_if_indexed.clone(),
                Value::Null,
                zero_if_indexed,
                int8(0),
                int8(0),
                int8(0),
                int8(0),
                int8(0),
                int8(0),
                int8(0),
                int8(0),
                int8(0),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                int8(0),
                int8(0),
                int8(0),
                int8(0),
            ]
        })
        .collect())
}

fn pg_available_extensions_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let mut rows = vec![vec![
        name("vector"),
        text(VECTOR_EXTENSION_VERSION),
        text_or_null(ctx.catalog.extensions.get("vector").cloned()),
        text("vector data type and ivfflat and hnsw access methods"),
    ]];
    for (extname, version) in &ctx.catalog.extensions {
        if extname != "vector" {
            rows.push(vec![
                name(extname.clone()),
                text(version.clone()),
                text(version.clone()),
                Value::Null,
            ]);
        }
    }
    Ok(rows)
}
