//! Running a query from inside a function, as the caller.
//!
//! The RAG functions retrieve through the engine's own query path — parse, bind (name
//! resolution, privilege checks, and the governance rewrites the binder applies: row-level
//! security, masking), optimise (`ORDER BY vec <=> $1 LIMIT $2` becomes an ANN scan) and
//! execute — inside the calling statement's transaction and snapshot, with the caller's role
//! and settings. They never read storage directly, so whatever governs a user's `SELECT`
//! governs what RAG returns.
//!
//! The steps mirror `Session::with_binder` and `Session::run_query` (bind, the privilege check
//! of `crate::acl::check` for the current role, optimise, run); the nested statement gets an
//! execution context of its own (its parameters, empty CTE and subquery caches, a copy of the
//! session settings, as the parallel scan workers do), sharing the caller's transaction,
//! catalog, role, statement start time and cancel flag. Anything added to the session's query
//! path for governance must be added here too (a test in `tests/tests/rag.rs` checks that a
//! role without SELECT on a table gets nothing of it through RAG).

use std::cell::RefCell;
use std::collections::HashMap;

use sqlparser::ast::Statement as Ast;
use storage::types::{Row, Value};

use crate::bind::Binder;
use crate::error::{SqlError, SqlResult};
use crate::exec::{Effects, ExecCtx};
use crate::pgtype::SqlType;

/// What a function may ask of the statement that calls it beyond its arguments.
pub trait QueryRunner {
    /// Runs one query (a SELECT, given as SQL text written by the engine itself, never by a
    /// client) with typed parameters `$1..$n`, as the calling statement's role, in its
    /// transaction; returns the rows.
    fn run_query(&self, sql: &str, params: &[(Value, SqlType)]) -> SqlResult<Vec<Row>>;

    /// The audit log of the database the statement runs in.
    fn audit_log(&self) -> Option<&storage::audit::AuditLog> {
        None
    }

    /// Appends an audit record for an event inside the statement (the session user is
    /// filled in) and syncs it (see `crate::audit::record_function_event`).
    fn audit_event(&self, event: storage::audit::AuditEvent) -> SqlResult<()> {
        let _ = event;
        Ok(())
    }
}

impl QueryRunner for ExecCtx<'_> {
    fn audit_log(&self) -> Option<&storage::audit::AuditLog> {
        let database: &crate::engine::Database = self.effects.try_borrow().ok()?.database;
        Some(database.audit_log())
    }

    fn audit_event(&self, mut event: storage::audit::AuditEvent) -> SqlResult<()> {
        let database = {
            let effects = self
                .effects
                .try_borrow()
                .map_err(|_| SqlError::internal("the session is busy in this statement"))?;
            if event.session_user.is_empty() {
                event.session_user = effects
                    .settings
                    .get("session_authorization")
                    .filter(|u| !u.is_empty())
                    .unwrap_or(self.user)
                    .to_string();
            }
            effects.database
        };
        let log = database.audit_log();
        let seq = log
            .append(&event)
            .map_err(|e| SqlError::new(crate::error::code::IO_ERROR, format!("audit log: {e}")))?;
        log.sync(seq)
            .map_err(|e| SqlError::new(crate::error::code::IO_ERROR, format!("audit log: {e}")))
    }

    fn run_query(&self, sql: &str, params: &[(Value, SqlType)]) -> SqlResult<Vec<Row>> {
        self.check_cancel()?;
        let statements = crate::parse::parse_statements(sql).map_err(without_position)?;
        let [statement] = statements.as_slice() else {
            return Err(SqlError::internal("a nested query must be one statement"));
        };
        let Ast::Query(query) = statement.ast.as_ref() else {
            return Err(SqlError::internal("a nested query must be a SELECT"));
        };
        let (mut settings, database, process_id, in_transaction) = {
            let effects = self
                .effects
                .try_borrow()
                .map_err(|_| SqlError::internal("the session is busy in this statement"))?;
            (
                effects.settings.clone(),
                effects.database,
                effects.process_id,
                effects.in_transaction,
            )
        };
        let plan = {
            let search_path = crate::catalog_access::parse_search_path(
                settings.get("search_path").unwrap_or("public"),
            );
            let path =
                crate::catalog_access::effective_path(&self.catalog, &search_path, self.user);
            let setting = |name: &str| settings.get(name).map(str::to_string);
            let param_types = params.iter().map(|(_, t)| Some(t.clone())).collect();
            let mut binder = Binder::new(
                self.catalog.clone(),
                &self.format,
                self.user,
                path,
                param_types,
                &setting,
            );
            binder.index_catalog = database.storage.catalog();
            binder.sql_text = sql.to_string();
            let (plan, _columns) = binder.bind_query(query).map_err(without_position)?;
            // The privilege stage, as for the caller's own statements.
            crate::acl::check::check(&self.catalog, self.user, &binder.privileges)?;
            crate::optimize::optimize_all(plan, &database.storage.catalog())
        };
        let values: Vec<Value> = params.iter().map(|(v, _)| v.clone()).collect();
        let nested = ExecCtx {
            txn: self.txn,
            catalog: self.catalog.clone(),
            params: &values,
            format: self.format.clone(),
            user: self.user,
            statement_start: self.statement_start,
            cancel: self.cancel,
            effects: RefCell::new(Effects {
                settings: &mut settings,
                database,
                process_id,
                in_transaction,
            }),
            ctes: RefCell::new(HashMap::new()),
            subqueries: RefCell::new(HashMap::new()),
            memo: RefCell::new(HashMap::new()),
            memo_keys: RefCell::new(HashMap::new()),
            instrument: RefCell::new(None),
            notices: RefCell::new(Vec::new()),
        };
        let rows = crate::exec::run(&plan, &nested, None).map_err(without_position);
        self.notices.borrow_mut().extend(nested.notices.take());
        rows
    }
}

/// A position inside the engine's own query text means nothing to the client.
fn without_position(mut error: SqlError) -> SqlError {
    error.position = None;
    error
}
