//! Where a PL/pgSQL body's SQL runs.
//!
//! * [`QueryHost`]: a call inside a query. Statements are bound as the session binds a
//!   client's query (`Session::with_binder`: catalog, role, search path, privilege check,
//!   the governance rewrites) and run in a nested execution context sharing the statement's
//!   transaction, like the RAG functions' nested queries (`crate::rag::query`). Bound plans
//!   are cached per thread by text, parameter types, role and search path, for the catalog
//!   they were bound against (a WHERE clause calls the function once per row).
//! * [`SessionHost`]: a trigger. Statements run through the session (prepare, execute), so
//!   they may write and fire triggers of their own.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use sqlparser::ast::Statement as Ast;
use storage::catalog::Catalog;
use storage::types::Value;

use super::interp::{Host, Produced};
use super::parse::SqlKind;
use crate::acl::check::Required;
use crate::bind::Binder;
use crate::engine::{Notice, Outcome, Session};
use crate::error::{code, SqlError, SqlResult};
use crate::exec::{Effects, ExecCtx};
use crate::pgtype::SqlType;
use crate::plan::Plan;

/// A bound statement and what it was bound against.
struct Bound {
    catalog: Arc<Catalog>,
    plan: Arc<Plan>,
    types: Vec<SqlType>,
    required: Arc<Required>,
}

thread_local! {
    static PLANS: RefCell<HashMap<String, Bound>> = RefCell::new(HashMap::new());
}

const MAX_PLANS: usize = 512;

/// Errors of the body's own statements carry no position in the client's statement.
fn without_position(mut e: SqlError) -> SqlError {
    e.position = None;
    e
}

pub struct QueryHost<'c, 'a> {
    ctx: &'c ExecCtx<'a>,
    user: String,
}

impl<'c, 'a> QueryHost<'c, 'a> {
    pub fn new(ctx: &'c ExecCtx<'a>, user: String) -> Self {
        QueryHost { ctx, user }
    }

    fn bind(&self, sql: &str, params: &[(Value, SqlType)]) -> SqlResult<(Arc<Plan>, Vec<SqlType>)> {
        let ctx = self.ctx;
        let busy = || SqlError::internal("the session is busy in this statement");
        let (search_path, row_security) = {
            let effects = ctx.effects.try_borrow().map_err(|_| busy())?;
            let get = |name: &str| effects.settings.get(name).map(str::to_string);
            (
                get("search_path").unwrap_or_else(|| "public".into()),
                get("row_security"),
            )
        };
        let mut key = format!("{}\u{0}{search_path}\u{0}{row_security:?}", self.user);
        for (_, t) in params {
            key.push('\u{0}');
            key.push_str(&t.display_name());
        }
        key.push('\u{0}');
        key.push_str(sql);
        let cached = PLANS.with(|p| {
            p.borrow().get(&key).and_then(|b| {
                Arc::ptr_eq(&b.catalog, &ctx.catalog)
                    .then(|| (b.plan.clone(), b.types.clone(), b.required.clone()))
            })
        });
        if let Some((plan, types, required)) = cached {
            crate::acl::check::check(&ctx.catalog, &self.user, &required)?;
            return Ok((plan, types));
        }
        let statements = crate::parse::parse_statements(sql).map_err(without_position)?;
        let [statement] = statements.as_slice() else {
            return Err(SqlError::syntax(format!(
                "query \"{sql}\" is not a single statement"
            )));
        };
        let Ast::Query(query) = statement.ast.as_ref() else {
            return Err(SqlError::internal("a PL/pgSQL query must be a SELECT"));
        };
        let (settings, database) = {
            let effects = ctx.effects.try_borrow().map_err(|_| busy())?;
            (effects.settings.clone(), effects.database)
        };
        let path = crate::catalog_access::effective_path(
            &ctx.catalog,
            &crate::catalog_access::parse_search_path(&search_path),
            &self.user,
        );
        let setting = |name: &str| settings.get(name).map(str::to_string);
        let types: Vec<Option<SqlType>> = params.iter().map(|(_, t)| Some(t.clone())).collect();
        let mut binder = Binder::new(
            ctx.catalog.clone(),
            &ctx.format,
            &self.user,
            path,
            types,
            &setting,
        );
        binder.index_catalog = database.storage.catalog();
        binder.sql_text = sql.to_string();
        let (plan, columns) = binder.bind_query(query).map_err(without_position)?;
        crate::acl::check::check(&ctx.catalog, &self.user, &binder.privileges)?;
        let plan = Arc::new(crate::optimize::optimize_all(
            plan,
            &database.storage.catalog(),
        ));
        let types: Vec<SqlType> = columns.iter().map(|c| c.sql_type.clone()).collect();
        let bound = Bound {
            catalog: ctx.catalog.clone(),
            plan: plan.clone(),
            types: types.clone(),
            required: Arc::new(binder.privileges.clone()),
        };
        PLANS.with(|p| {
            let mut p = p.borrow_mut();
            if p.len() >= MAX_PLANS {
                p.clear();
            }
            p.insert(key, bound);
        });
        Ok((plan, types))
    }
}

impl Host for QueryHost<'_, '_> {
    fn run(
        &mut self,
        kind: SqlKind,
        sql: &str,
        params: &[(Value, SqlType)],
    ) -> SqlResult<Produced> {
        if kind != SqlKind::Select {
            return Err(SqlError::new(
                code::FEATURE_NOT_SUPPORTED,
                "INSERT, UPDATE and DELETE in a PL/pgSQL function called from a query are not supported",
            )
            .with_hint("custos runs data changes of PL/pgSQL in trigger functions."));
        }
        let ctx = self.ctx;
        let (plan, types) = self.bind(sql, params)?;
        // The nested statement shares the session's settings (set_config in the body
        // lasts, as in PostgreSQL); nothing else uses them while it runs.
        let mut effects = ctx
            .effects
            .try_borrow_mut()
            .map_err(|_| SqlError::internal("the session is busy in this statement"))?;
        let (database, process_id, in_transaction) =
            (effects.database, effects.process_id, effects.in_transaction);
        let settings = &mut *effects.settings;
        let values: Vec<Value> = params.iter().map(|(v, _)| v.clone()).collect();
        let nested = ExecCtx {
            txn: ctx.txn,
            catalog: ctx.catalog.clone(),
            params: &values,
            format: ctx.format.clone(),
            user: &self.user,
            statement_start: ctx.statement_start,
            cancel: ctx.cancel,
            effects: RefCell::new(Effects {
                settings,
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
        ctx.notices.borrow_mut().extend(nested.notices.take());
        drop(nested);
        drop(effects);
        let rows = rows?;
        Ok(Produced {
            types,
            count: rows.len() as u64,
            rows,
        })
    }

    fn notice(&mut self, notice: Notice) {
        self.ctx.notices.borrow_mut().push(notice);
    }

    fn check_cancel(&self) -> SqlResult<()> {
        self.ctx.check_cancel()
    }
}

pub struct SessionHost<'s> {
    pub session: &'s mut Session,
}

impl Host for SessionHost<'_> {
    fn run(
        &mut self,
        kind: SqlKind,
        sql: &str,
        params: &[(Value, SqlType)],
    ) -> SqlResult<Produced> {
        let session = &mut *self.session;
        if kind == SqlKind::Select {
            // Queries and expressions: bound once and cached, as in a query.
            let user = session.current_user().to_string();
            return session.with_exec(&[], |ctx| QueryHost::new(ctx, user).run(kind, sql, params));
        }
        let mut statements = crate::parse::parse_statements(sql).map_err(without_position)?;
        if statements.len() != 1 {
            return Err(SqlError::syntax(format!(
                "query \"{sql}\" is not a single statement"
            )));
        }
        let statement = statements.remove(0);
        let types: Vec<Option<SqlType>> = params.iter().map(|(_, t)| Some(t.clone())).collect();
        let values: Vec<Value> = params.iter().map(|(v, _)| v.clone()).collect();
        let prepared = session
            .prepare_inner(statement, &types)
            .map_err(without_position)?;
        let outcome = session
            .execute_inner(&prepared, &values)
            .map_err(without_position)?;
        match outcome {
            Outcome::Rows { columns, rows, tag } => Ok(Produced {
                types: columns.into_iter().map(|c| c.sql_type).collect(),
                count: tag_count(&tag).unwrap_or(rows.len() as u64),
                rows,
            }),
            Outcome::Command { tag } => Ok(Produced {
                types: Vec::new(),
                rows: Vec::new(),
                count: tag_count(&tag).unwrap_or(0),
            }),
            _ => Err(SqlError::internal(
                "unexpected outcome of a PL/pgSQL statement",
            )),
        }
    }

    fn notice(&mut self, notice: Notice) {
        self.session.notices.push(notice);
    }

    fn check_cancel(&self) -> SqlResult<()> {
        self.session.check_cancel()
    }
}

/// The row count at the end of a command tag (`INSERT 0 3`, `UPDATE 2`).
fn tag_count(tag: &str) -> Option<u64> {
    tag.rsplit(' ').next()?.parse().ok()
}
