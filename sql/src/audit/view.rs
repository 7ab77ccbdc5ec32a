//! Reading the audit log through SQL: the system view `pg_catalog.custos_audit` (found as
//! `custos_audit` through the search path) and `custos_audit_verify()`.
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `seq` | int8 | sequence number, from 1, no gaps |
//! | `ts` | timestamptz | when the record was written |
//! | `class` | text | `LOGIN`, pgaudit class (`READ`, `WRITE`...), `RAG`, `DETOKENIZE`, `AUDIT` |
//! | `command` | text | `SELECT`, `INSERT`, `LOGIN`, `rag_context`... |
//! | `outcome` | text | `success`, `failure`, `denied` |
//! | `session_user_name`, `current_user_name` | text | the authenticated role and the role the statement ran as (`session_user` / `current_user` are SQL keywords) |
//! | `database`, `client_addr` | text | where |
//! | `statement` | text | statement text, classified literals redacted (login: the reason) |
//! | `parameters` | text[] | parameter values, classified ones `<redacted>` |
//! | `rows` | int8 | rows returned or affected (NULL: unknown) |
//! | `duration_us` | int8 | statement duration |
//! | `sqlstate` | text | `00000` on success |
//! | `objects` | text[] | relations the statement names |
//! | `payload` | jsonb | details (RAG: question, row keys, masked columns, model) |
//! | `prev_hash`, `hash` | text | the chain, hex |
//!
//! Both are for superusers and members of [`super::READER_ROLE`]; anyone else gets 42501.
//! `custos_audit_verify()` returns `OK: n records` or `BROKEN at record s: reason` for the
//! first broken link. The view is a system relation: INSERT / UPDATE / DELETE / TRUNCATE /
//! ALTER / DROP of it fail with 42501 for everyone (see [`refuse_change`]).

use storage::catalog::Catalog;
use storage::types::{Array, Row, Value};

use crate::error::{code, SqlError, SqlResult};
use crate::func::registry::Registry;
use crate::func::{FnCtx, Volatility};
use crate::pg_catalog::oids::rel;
use crate::pg_catalog::{SystemCtx, SystemTable};
use crate::pgtype::SqlType;

/// The view's name in `pg_catalog`.
pub const VIEW_NAME: &str = "custos_audit";
/// Relation OID of `custos_audit` (system view range, clear of `custos_models`).
pub const CUSTOS_AUDIT_OID: u32 = rel::FIRST_VIEW + 510;
/// Microseconds from 1970-01-01 to 2000-01-01.
const UNIX_TO_PG_EPOCH_US: i64 = 946_684_800_000_000;

pub fn system_tables() -> Vec<SystemTable> {
    use SqlType::{Int8, Jsonb, Text, Timestamptz};
    let text_array = SqlType::Array(Box::new(Text));
    vec![SystemTable {
        schema: "pg_catalog",
        name: VIEW_NAME,
        oid: CUSTOS_AUDIT_OID,
        columns: vec![
            ("seq", Int8),
            ("ts", Timestamptz),
            ("class", Text),
            ("command", Text),
            ("outcome", Text),
            ("session_user_name", Text),
            ("current_user_name", Text),
            ("database", Text),
            ("client_addr", Text),
            ("statement", Text),
            ("parameters", text_array.clone()),
            ("rows", Int8),
            ("duration_us", Int8),
            ("sqlstate", Text),
            ("objects", text_array),
            ("payload", Jsonb),
            ("prev_hash", Text),
            ("hash", Text),
        ],
        rows: custos_audit_rows,
    }]
}

pub fn register(reg: &mut Registry) {
    reg.typed(
        "custos_audit_verify",
        Vec::<SqlType>::new(),
        SqlType::Text,
        custos_audit_verify,
    )
    .volatility(Volatility::Volatile);
}

/// Whether `user` may read the audit log: a superuser, or a member of the reader role.
pub fn can_read(catalog: &Catalog, user: &str) -> bool {
    if catalog.roles.is_empty() {
        return true;
    }
    let oid = crate::acl::check::role_of(catalog, user);
    if crate::acl::is_superuser(catalog, oid) {
        return true;
    }
    let Some(reader) = catalog
        .roles
        .values()
        .find(|r| r.name == super::READER_ROLE)
    else {
        return false;
    };
    crate::acl::member_closure(catalog, oid, false).contains(&reader.oid)
}

fn permission_denied(what: &str) -> SqlError {
    SqlError::new(
        code::INSUFFICIENT_PRIVILEGE,
        format!("permission denied for {what}"),
    )
    .with_hint(format!(
        "Reading the audit log requires superuser or membership in role \"{}\".",
        super::READER_ROLE
    ))
}

/// The error for any attempt to change the audit log through SQL.
pub fn refuse_change(action: &str) -> SqlError {
    SqlError::new(
        code::INSUFFICIENT_PRIVILEGE,
        format!(
            "permission denied: the audit log is append-only and cannot be changed by {action}"
        ),
    )
    .with_detail("Nobody, superusers included, may modify pg_catalog.custos_audit.")
}

/// Whether a relation name as written is the audit view.
fn names_view(name: &str) -> bool {
    let name = name.replace('"', "");
    name.eq_ignore_ascii_case(VIEW_NAME)
        || name.eq_ignore_ascii_case(&format!("pg_catalog.{VIEW_NAME}"))
}

/// Refuses, before anything runs, a statement that would change the audit view: DML into it,
/// TRUNCATE, COPY FROM, and DDL on it (ALTER, DROP, policies, triggers, views over it).
pub fn guard(statement: &crate::engine::Statement) -> SqlResult<()> {
    if !statement.sql().contains(VIEW_NAME) {
        return Ok(());
    }
    let (class, command, objects) = super::classify::classify(&statement.ast, statement.sql());
    let targeted = objects.iter().any(|o| names_view(o));
    let refused = match class {
        super::classify::WRITE => targeted,
        super::classify::DDL => objects.is_empty() || targeted,
        _ => false,
    };
    if refused {
        return Err(refuse_change(command));
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn text_array(items: Vec<String>) -> Value {
    Value::Array(Box::new(Array::from_list(
        items.into_iter().map(Value::Text).collect(),
    )))
}

fn custos_audit_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    if !can_read(ctx.catalog, ctx.user) {
        return Err(permission_denied("view custos_audit"));
    }
    let Some(log) = ctx.audit else {
        return Ok(Vec::new());
    };
    let records = log
        .records()
        .map_err(|e| SqlError::new(code::IO_ERROR, e.to_string()))?;
    Ok(records
        .into_iter()
        .map(|record| {
            let event = record.event().unwrap_or_default();
            let text = |s: String| Value::Text(s);
            vec![
                Value::Int8(record.seq as i64),
                Value::Timestamptz(record.ts - UNIX_TO_PG_EPOCH_US),
                text(event.class),
                text(event.command),
                text(event.outcome),
                text(event.session_user),
                text(event.current_user),
                text(event.database),
                text(event.client_addr),
                text(event.statement),
                text_array(event.parameters),
                event.rows.map_or(Value::Null, |r| Value::Int8(r as i64)),
                Value::Int8(event.duration_us as i64),
                text(event.sqlstate),
                text_array(event.objects),
                if event.payload.is_null() {
                    Value::Null
                } else {
                    Value::Jsonb(event.payload.to_string())
                },
                text(hex(&record.prev_hash)),
                text(hex(&record.hash)),
            ]
        })
        .collect())
}

/// `custos_audit_verify() → text`.
fn custos_audit_verify(ctx: &FnCtx, _: &[Value]) -> SqlResult<Value> {
    if !can_read(ctx.catalog, ctx.user) {
        return Err(permission_denied("function custos_audit_verify"));
    }
    let log = ctx.queries.and_then(|q| q.audit_log()).ok_or_else(|| {
        SqlError::new(
            code::FEATURE_NOT_SUPPORTED,
            "custos_audit_verify() cannot run in this context",
        )
    })?;
    let verification = log
        .verify()
        .map_err(|e| SqlError::new(code::IO_ERROR, e.to_string()))?;
    Ok(Value::Text(verification.summary()))
}
