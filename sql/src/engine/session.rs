//! A session: its settings, its transaction, and the execution of statements.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use storage::types::{Row, Value};
use storage::Transaction;

use super::api::{Column, CopyIn, Notice, Outcome, TransactionStatus};
use super::settings::Settings;
use super::Database;
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;
use crate::types::SessionFormat;

/// One statement of a query string, parsed.
#[derive(Clone, Debug)]
pub struct Statement {
    pub(crate) sql: String,
    /// Characters before this statement in the query string it came from.
    pub(crate) offset: u32,
    pub(crate) ast: Arc<sqlparser::ast::Statement>,
}

impl Statement {
    /// The statement's own text.
    pub fn sql(&self) -> &str {
        &self.sql
    }
}

/// A statement ready to execute: parameter types and result columns are known.
#[derive(Clone)]
pub struct Prepared {
    pub(crate) statement: Statement,
    pub(crate) param_types: Vec<SqlType>,
    pub(crate) columns: Option<Vec<Column>>,
    /// The optimized plan of a query and the catalog it was planned against: reused while
    /// the catalog is unchanged.
    pub(crate) plan: Option<Arc<(crate::plan::Plan, Arc<storage::catalog::Catalog>)>>,
    /// What the cached plan reads, checked again at each execution (the current user may
    /// have changed with SET ROLE since it was planned).
    pub(crate) privileges: Option<Arc<crate::acl::check::Required>>,
    /// For a plan with row-level security: the role and `row_security` it was bound for
    /// ([`Session::row_security_key`]); it is reused only while they are the same.
    pub(crate) bound_for: Option<String>,
}

impl Prepared {
    /// The type of every `$n`, as ParameterDescription reports them.
    pub fn param_types(&self) -> &[SqlType] {
        &self.param_types
    }

    /// The result columns, `None` for a statement that returns no rows.
    pub fn columns(&self) -> Option<&[Column]> {
        self.columns.as_deref()
    }

    pub fn sql(&self) -> &str {
        &self.statement.sql
    }
}

/// Moves an error position inside a statement to a position in the query string.
fn shift(mut e: SqlError, offset: u32) -> SqlError {
    if let Some(p) = e.position {
        e.position = Some(p + offset);
    }
    e
}

pub(crate) enum TxnState {
    /// No transaction open.
    None,
    /// A transaction opened by a statement outside BEGIN; committed by `commit_implicit`.
    Implicit(Transaction),
    /// BEGIN ... COMMIT.
    Block(Transaction),
    /// A block in which a statement failed: only ROLLBACK (or COMMIT, which rolls back) and
    /// ROLLBACK TO SAVEPOINT are accepted.
    Failed(Transaction),
}

/// One client's session.
pub struct Session {
    pub(crate) database: Arc<Database>,
    pub(crate) user: String,
    pub(crate) process_id: i32,
    pub(crate) settings: Settings,
    pub(crate) txn: TxnState,
    pub(crate) notices: Vec<Notice>,
    pub(crate) cancel: Arc<AtomicBool>,
    /// Named savepoints of the open block, innermost last.
    pub(crate) savepoints: Vec<(String, storage::Savepoint)>,
    /// The text of the statement being executed (DDL keeps expressions as written).
    pub(crate) current_sql: String,
    /// Rows a utility statement produced (CREATE TABLE AS), for its command tag.
    pub(crate) last_row_count: Option<u64>,
    /// When the current transaction started (microseconds since 2000-01-01 UTC): `now()`.
    pub(crate) txn_start: i64,
    /// The client's address, for audit records.
    pub(crate) client_addr: String,
    /// Highest audit record of this session to sync before its transaction commits (0: none).
    pub(crate) audit_pending: u64,
    /// `pgaudit.log` as last parsed, and its classes.
    pub(crate) audit_classes_cache: Option<(String, u16)>,
}

impl Session {
    pub(crate) fn new(
        database: Arc<Database>,
        user: &str,
        process_id: i32,
        options: &[(String, String)],
    ) -> SqlResult<Session> {
        let login = database.login_info(user);
        let superuser = login.as_ref().is_some_and(|l| l.superuser);
        let mut session = Session {
            database,
            user: user.to_string(),
            process_id,
            settings: Settings::new(user, superuser),
            txn: TxnState::None,
            notices: Vec::new(),
            cancel: Arc::new(AtomicBool::new(false)),
            savepoints: Vec::new(),
            current_sql: String::new(),
            last_row_count: None,
            txn_start: 0,
            client_addr: String::new(),
            audit_pending: 0,
            audit_classes_cache: None,
        };
        let classes = session.database.audit_log_classes.clone();
        session
            .settings
            .set_server_default("pgaudit.log", &classes)?;
        // Settings given with ALTER ROLE ... SET apply at session start; the startup
        // packet's options come after and win, as in PostgreSQL. A value that no longer
        // applies is skipped rather than refusing the login.
        let role_settings = session
            .database
            .storage
            .catalog()
            .roles
            .values()
            .find(|r| r.name == user)
            .map(|r| r.settings.clone())
            .unwrap_or_default();
        for (name, value) in &role_settings {
            let _ = session.settings.set_from_role(name, value);
        }
        for (name, value) in options {
            match name.as_str() {
                "user" | "database" | "replication" => {}
                "options" => {
                    // `-c name=value` pairs, as libpq's PGOPTIONS sends them.
                    let mut words = value.split_whitespace();
                    while let Some(word) = words.next() {
                        let pair = if word == "-c" {
                            words.next().unwrap_or("")
                        } else if let Some(rest) = word.strip_prefix("-c") {
                            rest
                        } else if let Some(rest) = word.strip_prefix("--") {
                            rest
                        } else {
                            continue;
                        };
                        if let Some((n, v)) = pair.split_once('=') {
                            session.settings.set(n, Some(v), false, false)?;
                        }
                    }
                }
                _ => session.settings.set(name, Some(value), false, false)?,
            }
        }
        session.settings.take_changes();
        Ok(session)
    }

    /// OID of the current user's role (the bootstrap superuser when roles are not set up;
    /// [`crate::acl::identity::NO_ROLE`] when the role was dropped meanwhile).
    pub(crate) fn role_oid(&self) -> u32 {
        let catalog = self.catalog();
        if catalog.roles.is_empty() {
            return crate::pg_catalog::BOOTSTRAP_SUPERUSER_OID;
        }
        crate::acl::check::role_of(&catalog, self.current_user())
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn process_id(&self) -> i32 {
        self.process_id
    }

    /// Set from another thread to cancel the running statement (checked between batches).
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        self.cancel.clone()
    }

    pub(crate) fn check_cancel(&self) -> SqlResult<()> {
        if self.cancel.swap(false, Ordering::Relaxed) {
            return Err(SqlError::query_canceled());
        }
        Ok(())
    }

    /// How values print in this session.
    pub fn format(&self) -> &SessionFormat {
        &self.settings.format
    }

    /// The ParameterStatus values to send after authentication.
    pub fn reported_parameters(&self) -> Vec<(String, String)> {
        self.settings.reported()
    }

    /// Reported settings that changed since the last call (to send as ParameterStatus).
    pub fn take_parameter_changes(&mut self) -> Vec<(String, String)> {
        self.settings.take_changes()
    }

    pub fn take_notices(&mut self) -> Vec<Notice> {
        std::mem::take(&mut self.notices)
    }

    pub(crate) fn notice(&mut self, message: impl Into<String>) {
        self.notices.push(Notice {
            severity: "NOTICE",
            code: "00000",
            message: message.into(),
            detail: None,
            hint: None,
        });
    }

    pub(crate) fn warning(&mut self, code: &'static str, message: impl Into<String>) {
        self.notices.push(Notice {
            severity: "WARNING",
            code,
            message: message.into(),
            detail: None,
            hint: None,
        });
    }

    /// Whether the open transaction has written anything.
    pub(crate) fn transaction_wrote(&self) -> bool {
        match &self.txn {
            TxnState::Implicit(t) | TxnState::Block(t) => t.has_writes(),
            _ => false,
        }
    }

    pub fn transaction_status(&self) -> TransactionStatus {
        match self.txn {
            TxnState::None | TxnState::Implicit(_) => TransactionStatus::Idle,
            TxnState::Block(_) => TransactionStatus::InBlock,
            TxnState::Failed(_) => TransactionStatus::Failed,
        }
    }

    /// Reads `text` as a value of `sql_type` (text-format parameters, COPY text/CSV fields).
    pub fn input_text(&self, text: &str, sql_type: &SqlType) -> SqlResult<Value> {
        crate::exec::input_text(self, text, sql_type)
    }

    /// Prints a value of `sql_type` as PostgreSQL's output function does.
    pub fn output_text(&self, value: &Value, sql_type: &SqlType) -> String {
        crate::exec::output_text(self, value, sql_type)
    }

    /// Splits a query string into statements (for the simple query protocol). An empty
    /// string gives no statements.
    pub fn parse(&mut self, sql: &str) -> SqlResult<Vec<Statement>> {
        crate::parse::parse_statements(sql)
    }

    /// Binds a statement: infers the types of its parameters (`param_types[i]` is the type
    /// the client gave for `$i+1`, `None` when unspecified) and describes its result.
    pub fn prepare(
        &mut self,
        statement: Statement,
        param_types: &[Option<SqlType>],
    ) -> SqlResult<Prepared> {
        self.current_sql.clear();
        self.current_sql.push_str(&statement.sql);
        let offset = statement.offset;
        let started = std::time::Instant::now();
        let audited = statement.clone();
        let result = crate::audit::view::guard(&statement)
            .and_then(|_| self.prepare_inner(statement, param_types))
            .map_err(|e| shift(e, offset));
        if let Err(error) = &result {
            // A statement refused while binding (privileges, policies) is a denial too.
            if error.code == code::INSUFFICIENT_PRIVILEGE {
                if let Err(audit_error) =
                    self.audit_statement(&audited, &[], &[], Err(error), started.elapsed())
                {
                    self.fail_transaction();
                    return Err(audit_error);
                }
            }
            self.fail_transaction();
        }
        result
    }

    /// Executes a prepared statement with parameter values (already converted to the
    /// statement's parameter types). Starts an implicit transaction when none is open; the
    /// server ends it with [`Session::commit_implicit`] at Sync or at the end of a simple
    /// query. On error the open block is marked failed and an implicit transaction rolled
    /// back.
    pub fn execute(&mut self, prepared: &Prepared, params: &[Value]) -> SqlResult<Outcome> {
        let _backend = storage::vector_progress::BackendGuard::enter(self.process_id);
        self.cancel.store(false, Ordering::Relaxed);
        // Reuses the buffer: no allocation per execution.
        self.current_sql.clear();
        self.current_sql.push_str(&prepared.statement.sql);
        self.last_row_count = None;
        let offset = prepared.statement.offset;
        let started = std::time::Instant::now();
        let mut result = self
            .execute_inner(prepared, params)
            .map_err(|e| shift(e, offset));
        if let Err(audit_error) = self.audit_statement(
            &prepared.statement,
            params,
            &prepared.param_types,
            result.as_ref(),
            started.elapsed(),
        ) {
            // Fail-closed: a statement whose audit record cannot be written fails.
            result = Err(audit_error);
        }
        if result.is_err() {
            self.fail_transaction();
        }
        result
    }

    /// Commits the implicit transaction, if one is open (Sync, end of a simple query).
    pub fn commit_implicit(&mut self) -> SqlResult<()> {
        let _backend = storage::vector_progress::BackendGuard::enter(self.process_id);
        if let TxnState::Implicit(_) = self.txn {
            let TxnState::Implicit(txn) = std::mem::replace(&mut self.txn, TxnState::None) else {
                unreachable!()
            };
            // The audit records of the transaction are durable before it commits.
            if let Err(error) = self.audit_sync_pending() {
                self.discard(txn);
                self.settings.end_transaction(false);
                return Err(error);
            }
            let result = txn.commit();
            self.settings.end_transaction(result.is_ok());
            result?;
        }
        Ok(())
    }

    /// An error happened: a block becomes failed, an implicit transaction is rolled back.
    pub fn fail_transaction(&mut self) {
        match std::mem::replace(&mut self.txn, TxnState::None) {
            TxnState::Block(txn) | TxnState::Failed(txn) => self.txn = TxnState::Failed(txn),
            TxnState::Implicit(txn) => {
                self.discard(txn);
                self.settings.end_transaction(false);
            }
            TxnState::None => {}
        }
    }

    /// Adds decoded COPY rows (one value per column of `copy.columns`). On an error the
    /// COPY is over (its transaction failed); the error names the row of the batch that
    /// caused it, when one did.
    pub fn copy_in_rows(
        &mut self,
        copy: &mut CopyIn,
        rows: Vec<Row>,
    ) -> Result<(), crate::dml::CopyRowsError> {
        let result = crate::dml::copy_rows(self, &mut copy.target, rows);
        match result {
            Ok(added) => {
                copy.target.rows += added;
                Ok(())
            }
            Err(error) => {
                self.fail_transaction();
                Err(error)
            }
        }
    }

    /// Ends a COPY FROM; returns its command tag (`COPY n`).
    pub fn copy_in_finish(&mut self, copy: CopyIn) -> SqlResult<String> {
        Ok(format!("COPY {}", copy.target.rows))
    }

    /// The client sent CopyFail (or vanished): nothing of the COPY remains. Returns the error
    /// to report.
    pub fn copy_in_abort(&mut self, copy: CopyIn, reason: &str) -> SqlError {
        drop(copy);
        self.fail_transaction();
        SqlError::new(
            code::QUERY_CANCELED,
            format!("COPY from stdin failed: {reason}"),
        )
    }

    /// Rolls a transaction back; sequences it created are forgotten (their OIDs will be
    /// handed out again).
    pub(crate) fn discard(&self, txn: Transaction) {
        let committed = self.database.storage.catalog();
        for oid in txn.catalog().sequences.keys() {
            if !committed.sequences.contains_key(oid) {
                self.database.sequences.forget(*oid);
            }
        }
        txn.rollback();
    }

    /// The connection is closing: roll back whatever is open.
    pub fn close(mut self) {
        match std::mem::replace(&mut self.txn, TxnState::None) {
            TxnState::Implicit(t) | TxnState::Block(t) | TxnState::Failed(t) => self.discard(t),
            TxnState::None => {}
        }
        self.database.sequences.end_session(self.process_id);
    }
}
