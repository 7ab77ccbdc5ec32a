//! Statement dispatch: transaction control, session settings, queries, DML and DDL.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use sqlparser::ast::{self, Statement as Ast};
use storage::catalog::Catalog;
use storage::types::Value;
use storage::Transaction;

use super::api::{Column, Outcome};
use super::session::{Prepared, Session, Statement, TxnState};
use crate::bind::Binder;
use crate::error::{code, SqlError, SqlResult};
use crate::exec::{Effects, ExecCtx};
use crate::pgtype::SqlType;
use crate::plan::{OutputColumn, Plan};

pub fn columns_of(output: &[OutputColumn]) -> Vec<Column> {
    output
        .iter()
        .map(|c| Column {
            name: c.name.clone(),
            table_oid: c.table_oid,
            column_number: c.attnum,
            sql_type: if c.sql_type == SqlType::Unknown {
                SqlType::Text
            } else {
                c.sql_type.clone()
            },
        })
        .collect()
}

impl Session {
    pub(crate) fn search_path(&self) -> Vec<String> {
        crate::catalog_access::parse_search_path(
            self.settings.get("search_path").unwrap_or("public"),
        )
    }

    /// The catalog the current (or next) transaction sees.
    pub(crate) fn catalog(&self) -> Arc<Catalog> {
        match &self.txn {
            TxnState::Implicit(t) | TxnState::Block(t) | TxnState::Failed(t) => t.catalog(),
            TxnState::None => self.database.storage.catalog(),
        }
    }

    /// Runs `f` with a binder over the current catalog.
    pub(crate) fn with_binder<T>(
        &self,
        params: Vec<Option<SqlType>>,
        f: impl FnOnce(&mut Binder) -> SqlResult<T>,
    ) -> SqlResult<T> {
        let catalog = self.catalog();
        let user = self.current_user();
        let path = crate::catalog_access::effective_path(&catalog, &self.search_path(), user);
        let settings = &self.settings;
        let setting = |name: &str| settings.get(name).map(str::to_string);
        let mut binder = Binder::new(
            catalog.clone(),
            &self.settings.format,
            user,
            path,
            params,
            &setting,
        );
        binder.index_catalog = self.database.storage.catalog();
        binder.sql_text = self.current_sql.clone();
        let result = f(&mut binder)?;
        // The privilege stage: what the statement reads and writes, for the current user.
        crate::acl::check::check(&catalog, user, &binder.privileges)?;
        Ok(result)
    }

    pub(crate) fn prepare_inner(
        &mut self,
        statement: Statement,
        param_types: &[Option<SqlType>],
    ) -> SqlResult<Prepared> {
        if let TxnState::Failed(_) = self.txn {
            if !is_transaction_end(&statement.ast) {
                return Err(in_failed_transaction());
            }
        }
        let params: Vec<Option<SqlType>> = param_types.to_vec();
        let mut cached = None;
        let mut privileges = None;
        let mut bound_for = None;
        let (param_types, columns) = match statement.ast.as_ref() {
            Ast::Query(q) => {
                let catalog = self.catalog();
                let (plan, types, columns, required, per_role) = self.with_binder(params, |b| {
                    let (plan, columns) = b.bind_query(q)?;
                    let per_role = b.rls.depends_on_role;
                    Ok((
                        plan,
                        b.param_types(),
                        columns,
                        b.privileges.clone(),
                        per_role,
                    ))
                })?;
                privileges = Some(Arc::new(required));
                // A plan with row-level security is the current role's (see `run_query`).
                if per_role {
                    bound_for = Some(self.row_security_key());
                }
                let plan = crate::optimize::optimize_all(plan, &self.database.storage.catalog());
                if !crate::governance::masking::is_masked_role(&catalog, self.current_user()) {
                    cached = Some(Arc::new((plan, catalog)));
                }
                (types, Some(columns_of(&columns)))
            }
            Ast::Insert(_) | Ast::Update(_) | Ast::Delete(_) => {
                let ast = statement.ast.clone();
                self.with_binder(params, |b| {
                    let columns = crate::dml::describe(b, &ast)?;
                    Ok((b.param_types(), columns.map(|c| columns_of(&c))))
                })?
            }
            Ast::ShowVariable { variable } => {
                let name = variable_name(variable);
                let column = if name.eq_ignore_ascii_case("all") {
                    vec![
                        Column::computed("name", SqlType::Text),
                        Column::computed("setting", SqlType::Text),
                        Column::computed("description", SqlType::Text),
                    ]
                } else {
                    vec![Column::computed(
                        super::settings::Settings::display_name(&name),
                        SqlType::Text,
                    )]
                };
                (param_types_or_text(param_types), Some(column))
            }
            Ast::Explain { statement, .. } => {
                // The explained query's parameters are typed from their context, as for the
                // query itself (`ORDER BY embedding <-> $1` makes `$1` a vector).
                let types = match statement.as_ref() {
                    Ast::Query(q) => self.with_binder(params, |b| {
                        b.bind_query(q)?;
                        Ok(b.param_types())
                    })?,
                    _ => param_types_or_text(param_types),
                };
                (
                    types,
                    Some(vec![Column::computed("QUERY PLAN", SqlType::Text)]),
                )
            }
            _ => (param_types_or_text(param_types), None),
        };
        Ok(Prepared {
            statement,
            param_types,
            columns,
            plan: cached,
            privileges,
            bound_for,
        })
    }

    pub(crate) fn execute_inner(
        &mut self,
        prepared: &Prepared,
        params: &[Value],
    ) -> SqlResult<Outcome> {
        let ast = prepared.statement.ast.clone();
        if let TxnState::Failed(_) = self.txn {
            if !is_transaction_end(&ast) {
                return Err(in_failed_transaction());
            }
        }
        match ast.as_ref() {
            Ast::StartTransaction { .. } => self.begin(),
            Ast::Commit { chain, .. } => {
                let _ = chain;
                self.commit_block()
            }
            Ast::Rollback {
                savepoint: Some(name),
                ..
            } => self.rollback_to(&crate::bind::ident_name(name)),
            Ast::Rollback { .. } => self.rollback_block(),
            Ast::Savepoint { name } => self.savepoint(&crate::bind::ident_name(name)),
            Ast::ReleaseSavepoint { name } => self.release(&crate::bind::ident_name(name)),
            Ast::Set(set) => self.set(set),
            Ast::Reset(reset) => self.reset(reset),
            Ast::ShowVariable { variable } => self.show(variable),
            Ast::Discard { .. } => {
                self.settings.end_transaction(false);
                // DISCARD ALL includes SET SESSION AUTHORIZATION DEFAULT.
                crate::acl::identity::set_session_authorization(self, None, false)?;
                Ok(Outcome::Command {
                    tag: "DISCARD ALL".into(),
                })
            }
            Ast::Vacuum(_) => Ok(Outcome::Command {
                tag: "VACUUM".into(),
            }),
            Ast::Analyze(_) => Ok(Outcome::Command {
                tag: "ANALYZE".into(),
            }),
            Ast::Query(q) => self.run_query(q, prepared, params),
            Ast::Explain {
                analyze, statement, ..
            } => {
                let statement = statement.clone();
                let analyze = *analyze;
                self.explain(&statement, analyze, prepared, params)
            }
            Ast::Insert(_) | Ast::Update(_) | Ast::Delete(_) => {
                crate::dml::execute(self, &ast, prepared, params)
            }
            Ast::Copy { .. } => {
                crate::acl::ddl::check_utility(self, &ast, &prepared.statement.sql)?;
                crate::dml::copy_statement(self, &ast)
            }
            Ast::Flush {
                object_type: ast::FlushType::Privileges,
                ..
            } => crate::acl::execute(self, &prepared.statement.sql),
            Ast::Flush { .. } if crate::governance::seclabel::is_stand_in(&ast) => {
                crate::governance::seclabel::execute(self, &prepared.statement.sql)
            }
            _ => crate::ddl::execute(self, &ast, &prepared.statement.sql),
        }
    }

    /// Makes sure a transaction is open (starting an implicit one) and returns it.
    pub(crate) fn transaction(&mut self) -> &mut Transaction {
        if let TxnState::None = self.txn {
            self.txn = TxnState::Implicit(self.database.storage.begin());
            self.txn_start = now_micros();
        }
        match &mut self.txn {
            TxnState::Implicit(t) | TxnState::Block(t) | TxnState::Failed(t) => t,
            TxnState::None => unreachable!("a transaction was just opened"),
        }
    }

    pub(crate) fn in_block(&self) -> bool {
        matches!(self.txn, TxnState::Block(_) | TxnState::Failed(_))
    }

    /// Runs `f` with an execution context over the session's transaction.
    pub(crate) fn with_exec<T>(
        &mut self,
        params: &[Value],
        f: impl FnOnce(&ExecCtx) -> SqlResult<T>,
    ) -> SqlResult<T> {
        self.transaction();
        let in_transaction = self.in_block();
        let txn_start = self.txn_start;
        let current_user = self.current_user().to_string();
        let user = &current_user;
        let Session {
            database,
            process_id,
            settings,
            txn,
            cancel,
            notices,
            ..
        } = self;
        let txn = match txn {
            TxnState::Implicit(t) | TxnState::Block(t) | TxnState::Failed(t) => &*t,
            TxnState::None => return Err(SqlError::internal("no transaction")),
        };
        let mut format = settings.format.clone();
        format.transaction_start = Some(txn_start);
        let ctx = ExecCtx {
            txn,
            catalog: txn.catalog(),
            params,
            format,
            user,
            statement_start: now_micros(),
            cancel,
            effects: RefCell::new(Effects {
                settings,
                database,
                process_id: *process_id,
                in_transaction,
            }),
            ctes: RefCell::new(HashMap::new()),
            subqueries: RefCell::new(HashMap::new()),
            memo: RefCell::new(HashMap::new()),
            memo_keys: RefCell::new(HashMap::new()),
            instrument: RefCell::new(None),
            notices: RefCell::new(Vec::new()),
        };
        let result = f(&ctx);
        notices.extend(ctx.notices.take());
        result
    }

    fn run_query(
        &mut self,
        q: &ast::Query,
        prepared: &Prepared,
        params: &[Value],
    ) -> SqlResult<Outcome> {
        if let (Some(cached), Some(columns)) = (&prepared.plan, &prepared.columns) {
            // The plan holds while the transaction sees the catalog it was planned against
            // (and, with row-level security, for the role it was bound for). Masks depend on
            // the role: a masked role's plans are never cached (see below) nor a cached plan
            // reused for one (the role may have changed with SET ROLE).
            let same_role = prepared
                .bound_for
                .as_ref()
                .is_none_or(|key| *key == self.row_security_key());
            if same_role
                && std::ptr::eq(self.transaction().catalog_ref(), Arc::as_ptr(&cached.1))
                && !crate::governance::masking::is_masked_role(&cached.1, self.current_user())
            {
                if let Some(required) = &prepared.privileges {
                    crate::acl::check::check(&cached.1, self.current_user(), required)?;
                }
                let rows = self.with_exec(params, |ctx| crate::exec::run(&cached.0, ctx, None))?;
                let tag = format!("SELECT {}", rows.len());
                return Ok(Outcome::Rows {
                    columns: columns.clone(),
                    rows,
                    tag,
                });
            }
        }
        let types: Vec<Option<SqlType>> = prepared.param_types.iter().cloned().map(Some).collect();
        let (plan, columns) = self.with_binder(types, |b| b.bind_query(q))?;
        let plan = crate::optimize::optimize_all(plan, &self.database.storage.catalog());
        let rows = self.with_exec(params, |ctx| crate::exec::run(&plan, ctx, None))?;
        let tag = format!("SELECT {}", rows.len());
        Ok(Outcome::Rows {
            columns: columns_of(&columns),
            rows,
            tag,
        })
    }

    /// What a plan with row-level security depends on besides the catalog: the current
    /// user (policies are chosen for it) and `row_security`.
    pub(crate) fn row_security_key(&self) -> String {
        format!(
            "{}\u{0}{}",
            self.current_user(),
            self.settings.get("row_security").unwrap_or("on")
        )
    }

    /// Binds and optimizes a query (for EXPLAIN).
    pub(crate) fn plan_query(
        &mut self,
        q: &ast::Query,
        param_types: &[SqlType],
    ) -> SqlResult<(Plan, Vec<OutputColumn>)> {
        let types: Vec<Option<SqlType>> = param_types.iter().cloned().map(Some).collect();
        let (plan, columns) = self.with_binder(types, |b| b.bind_query(q))?;
        Ok((
            crate::optimize::optimize_all(plan, &self.database.storage.catalog()),
            columns,
        ))
    }

    fn explain(
        &mut self,
        statement: &Ast,
        analyze: bool,
        prepared: &Prepared,
        params: &[Value],
    ) -> SqlResult<Outcome> {
        let Ast::Query(q) = statement else {
            return Err(SqlError::unsupported("EXPLAIN of this statement"));
        };
        let planning = std::time::Instant::now();
        let (plan, _) = self.plan_query(q, &prepared.param_types)?;
        let planning = planning.elapsed().as_secs_f64() * 1000.0;
        let catalog = self.catalog();
        let lines = if analyze {
            let start = std::time::Instant::now();
            let stats = self.with_exec(params, |ctx| {
                ctx.instrument.replace(Some(HashMap::new()));
                crate::exec::run(&plan, ctx, None)?;
                Ok(ctx.instrument.take().unwrap_or_default())
            })?;
            let ms = start.elapsed().as_secs_f64() * 1000.0;
            let mut lines = crate::explain::explain_analyzed(&plan, &catalog, &stats);
            lines.push(format!("Planning Time: {planning:.3} ms"));
            lines.push(format!("Execution Time: {ms:.3} ms"));
            lines
        } else {
            crate::explain::explain(&plan, &catalog)
        };
        let rows = lines.into_iter().map(|l| vec![Value::Text(l)]).collect();
        Ok(Outcome::Rows {
            columns: vec![Column::computed("QUERY PLAN", SqlType::Text)],
            rows,
            tag: "EXPLAIN".into(),
        })
    }

    fn begin(&mut self) -> SqlResult<Outcome> {
        match std::mem::replace(&mut self.txn, TxnState::None) {
            TxnState::None => {
                self.txn = TxnState::Block(self.database.storage.begin());
                self.txn_start = now_micros();
            }
            TxnState::Implicit(t) => self.txn = TxnState::Block(t),
            other => {
                self.txn = other;
                self.warning(
                    code::ACTIVE_SQL_TRANSACTION,
                    "there is already a transaction in progress",
                );
            }
        }
        Ok(Outcome::Command {
            tag: "BEGIN".into(),
        })
    }

    fn commit_block(&mut self) -> SqlResult<Outcome> {
        // The audit records of the transaction are durable before it commits.
        self.audit_sync_pending()?;
        self.savepoints.clear();
        match std::mem::replace(&mut self.txn, TxnState::None) {
            TxnState::Block(t) => {
                let result = t.commit();
                self.settings.end_transaction(result.is_ok());
                result?;
                Ok(Outcome::Command {
                    tag: "COMMIT".into(),
                })
            }
            TxnState::Failed(t) => {
                self.discard(t);
                self.settings.end_transaction(false);
                Ok(Outcome::Command {
                    tag: "ROLLBACK".into(),
                })
            }
            TxnState::Implicit(t) => {
                let result = t.commit();
                self.settings.end_transaction(result.is_ok());
                result?;
                self.warning(
                    code::NO_ACTIVE_SQL_TRANSACTION,
                    "there is no transaction in progress",
                );
                Ok(Outcome::Command {
                    tag: "COMMIT".into(),
                })
            }
            TxnState::None => {
                self.warning(
                    code::NO_ACTIVE_SQL_TRANSACTION,
                    "there is no transaction in progress",
                );
                Ok(Outcome::Command {
                    tag: "COMMIT".into(),
                })
            }
        }
    }

    fn rollback_block(&mut self) -> SqlResult<Outcome> {
        self.savepoints.clear();
        match std::mem::replace(&mut self.txn, TxnState::None) {
            TxnState::Block(t) | TxnState::Failed(t) => {
                self.discard(t);
                self.settings.end_transaction(false);
            }
            TxnState::Implicit(t) => {
                self.discard(t);
                self.settings.end_transaction(false);
                self.warning(
                    code::NO_ACTIVE_SQL_TRANSACTION,
                    "there is no transaction in progress",
                );
            }
            TxnState::None => self.warning(
                code::NO_ACTIVE_SQL_TRANSACTION,
                "there is no transaction in progress",
            ),
        }
        Ok(Outcome::Command {
            tag: "ROLLBACK".into(),
        })
    }

    fn savepoint(&mut self, name: &str) -> SqlResult<Outcome> {
        if !self.in_block() {
            return Err(SqlError::new(
                code::NO_ACTIVE_SQL_TRANSACTION,
                "SAVEPOINT can only be used in transaction blocks",
            ));
        }
        let sp = self.transaction().savepoint();
        self.savepoints.push((name.to_string(), sp));
        Ok(Outcome::Command {
            tag: "SAVEPOINT".into(),
        })
    }

    fn find_savepoint(&self, name: &str, what: &str) -> SqlResult<usize> {
        if !self.in_block() {
            return Err(SqlError::new(
                code::NO_ACTIVE_SQL_TRANSACTION,
                format!("{what} can only be used in transaction blocks"),
            ));
        }
        self.savepoints
            .iter()
            .rposition(|(n, _)| n == name)
            .ok_or_else(|| {
                SqlError::new(
                    code::INVALID_SAVEPOINT_SPECIFICATION,
                    format!("savepoint \"{name}\" does not exist"),
                )
            })
    }

    fn rollback_to(&mut self, name: &str) -> SqlResult<Outcome> {
        let i = self.find_savepoint(name, "ROLLBACK TO SAVEPOINT")?;
        let sp = self.savepoints[i].1;
        self.savepoints.truncate(i + 1);
        self.txn = match std::mem::replace(&mut self.txn, TxnState::None) {
            TxnState::Failed(t) | TxnState::Block(t) => TxnState::Block(t),
            other => other,
        };
        if let TxnState::Block(t) = &mut self.txn {
            t.rollback_to(sp);
        }
        Ok(Outcome::Command {
            tag: "ROLLBACK".into(),
        })
    }

    fn release(&mut self, name: &str) -> SqlResult<Outcome> {
        let i = self.find_savepoint(name, "RELEASE SAVEPOINT")?;
        self.savepoints.truncate(i);
        Ok(Outcome::Command {
            tag: "RELEASE".into(),
        })
    }

    fn set(&mut self, set: &ast::Set) -> SqlResult<Outcome> {
        let in_tx = self.in_block();
        match set {
            ast::Set::SingleAssignment {
                scope,
                variable,
                values,
                ..
            } => {
                let name = crate::bind::object_name_parts(variable).join(".");
                let local = matches!(scope, Some(ast::ContextModifier::Local));
                let value = set_value(values)?;
                if local && !in_tx {
                    self.warning(
                        code::NO_ACTIVE_SQL_TRANSACTION,
                        "SET LOCAL can only be used in transaction blocks",
                    );
                    return Ok(Outcome::Command { tag: "SET".into() });
                }
                self.settings.set(&name, value.as_deref(), local, in_tx)?;
            }
            ast::Set::SetTimeZone { local, value } => {
                let v = match value {
                    ast::Expr::Value(v) => match &v.value {
                        ast::Value::SingleQuotedString(s) => s.clone(),
                        other => other.to_string(),
                    },
                    ast::Expr::Identifier(i) if i.value.eq_ignore_ascii_case("local") => {
                        "UTC".into()
                    }
                    ast::Expr::Identifier(i) => i.value.clone(),
                    other => other.to_string(),
                };
                let value = if v.eq_ignore_ascii_case("default") {
                    None
                } else {
                    Some(v)
                };
                self.settings
                    .set("TimeZone", value.as_deref(), *local, in_tx)?;
            }
            ast::Set::SetNames { charset_name, .. } => {
                self.settings
                    .set("client_encoding", Some(&charset_name.value), false, in_tx)?;
            }
            ast::Set::SetSessionParam(_) | ast::Set::SetRole { .. } => {
                return Err(SqlError::unsupported(format!("{set}")));
            }
            ast::Set::SetSessionAuthorization(_) => {
                return Err(SqlError::unsupported("SET SESSION AUTHORIZATION"));
            }
            other => return Err(SqlError::unsupported(format!("{other}"))),
        }
        Ok(Outcome::Command { tag: "SET".into() })
    }

    fn reset(&mut self, reset: &ast::ResetStatement) -> SqlResult<Outcome> {
        let in_tx = self.in_block();
        match &reset.reset {
            ast::Reset::ALL => {
                for (name, _) in self.settings.all() {
                    let _ = self.settings.set(&name, None, false, in_tx);
                }
            }
            ast::Reset::ConfigurationParameter(name) => {
                let name = crate::bind::object_name_parts(name).join(".");
                self.settings.set(&name, None, false, in_tx)?;
            }
            ast::Reset::SessionAuthorization => {}
        }
        Ok(Outcome::Command {
            tag: "RESET".into(),
        })
    }

    fn show(&mut self, variable: &[ast::Ident]) -> SqlResult<Outcome> {
        let name = variable_name(variable);
        if name.eq_ignore_ascii_case("all") {
            let rows = self
                .settings
                .all()
                .into_iter()
                .map(|(n, v)| vec![Value::Text(n), Value::Text(v), Value::Text(String::new())])
                .collect();
            return Ok(Outcome::Rows {
                columns: vec![
                    Column::computed("name", SqlType::Text),
                    Column::computed("setting", SqlType::Text),
                    Column::computed("description", SqlType::Text),
                ],
                rows,
                tag: "SHOW".into(),
            });
        }
        let value = self.settings.show(&name)?;
        Ok(Outcome::Rows {
            columns: vec![Column::computed(
                super::settings::Settings::display_name(&name),
                SqlType::Text,
            )],
            rows: vec![vec![Value::Text(value)]],
            tag: "SHOW".into(),
        })
    }
}

fn variable_name(variable: &[ast::Ident]) -> String {
    let joined = variable
        .iter()
        .map(|i| i.value.clone())
        .collect::<Vec<_>>()
        .join(" ");
    match joined.to_lowercase().as_str() {
        "time zone" => "TimeZone".into(),
        "transaction isolation level" => "transaction_isolation".into(),
        _ => variable
            .iter()
            .map(|i| i.value.clone())
            .collect::<Vec<_>>()
            .join("."),
    }
}

fn set_value(values: &[ast::Expr]) -> SqlResult<Option<String>> {
    let mut parts = Vec::new();
    for v in values {
        let text = match v {
            ast::Expr::Value(v) => match &v.value {
                ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s.clone(),
                ast::Value::Number(n, _) => n.clone(),
                ast::Value::Boolean(b) => if *b { "on" } else { "off" }.to_string(),
                other => other.to_string(),
            },
            ast::Expr::Identifier(i) => {
                if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("default") {
                    return Ok(None);
                }
                if i.quote_style.is_some() {
                    format!("\"{}\"", i.value)
                } else {
                    i.value.clone()
                }
            }
            ast::Expr::UnaryOp {
                op: ast::UnaryOperator::Minus,
                expr,
            } => format!("-{expr}"),
            other => other.to_string(),
        };
        parts.push(text);
    }
    Ok(Some(parts.join(", ")))
}

fn param_types_or_text(given: &[Option<SqlType>]) -> Vec<SqlType> {
    given
        .iter()
        .map(|t| t.clone().unwrap_or(SqlType::Text))
        .collect()
}

fn is_transaction_end(ast: &Ast) -> bool {
    matches!(ast, Ast::Commit { .. } | Ast::Rollback { .. })
}

fn in_failed_transaction() -> SqlError {
    SqlError::new(
        code::IN_FAILED_SQL_TRANSACTION,
        "current transaction is aborted, commands ignored until end of transaction block",
    )
}

pub fn now_micros() -> i64 {
    crate::types::SessionFormat::default().now_micros()
}
