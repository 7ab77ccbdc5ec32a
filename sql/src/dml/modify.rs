//! UPDATE (with FROM), DELETE (with USING) and TRUNCATE, and the foreign keys of other
//! tables that reference the rows they change: NO ACTION / RESTRICT errors, and ON DELETE
//! CASCADE / SET NULL / SET DEFAULT.
//!
//! The target rows are found first (each once, by row id, however many FROM / USING rows
//! join it), then written.

use super::triggered::before_row;
use crate::plpgsql::triggers::{Event, Fired};
use sqlparser::ast;
use storage::catalog::{Catalog, ConstraintKind, Oid, ReferentialAction, TableDef};
use storage::types::{Row, Value};

use super::checks::{
    check_references, check_row, compute_generated, key_exists, prefetch_or_fall_back,
    rows_with_key, table_expressions, unique_error,
};
use super::{bind_assignments, bind_returning, eval_row, outcome, resolve_table, table_scope};
use crate::bind::expr::ExprContext;
use crate::bind::rls::{with_scan_filter, Command, RowCheck};
use crate::bind::{ident_name, Binder, Scope, ScopeColumn};
use crate::embedding::prefetch;
use crate::engine::{Outcome, Session};
use crate::error::{code, SqlError, SqlResult};
use crate::exec::{eval, Env, ExecCtx};
use crate::pgtype::SqlType;
use crate::plan::{Expr, OutputColumn, Plan};

pub(super) struct BoundUpdate {
    table: TableDef,
    /// Rows: the table's columns, its row id, then other FROM columns.
    plan: Plan,
    sets: Vec<(usize, Expr)>,
    generated: Vec<Option<Expr>>,
    checks: Vec<(String, Expr)>,
    /// Row-level security checks of the new rows.
    rls_checks: Vec<RowCheck>,
    pub(super) returning: Option<(Vec<Expr>, Vec<OutputColumn>)>,
}

/// The target table's scan (with row ids) joined with the FROM / USING items, filtered.
fn target_rows(
    b: &mut Binder,
    table: &TableDef,
    alias: &str,
    from: &[ast::TableWithJoins],
    selection: Option<&ast::Expr>,
) -> SqlResult<(Plan, Scope)> {
    let mut scope = table_scope(&b.catalog, table, alias);
    scope.columns.push(ScopeColumn {
        qualifier: Some(alias.to_string()),
        schema: None,
        name: "ctid".into(),
        sql_type: SqlType::Int8,
        table_oid: table.oid,
        attnum: -1,
        hidden: true,
        qualified_only: true,
    });
    let width = table.columns.len();
    let mut plan = Plan::SeqScan {
        table: table.oid,
        width,
        filter: None,
        predicates: Vec::new(),
        row_id: true,
    };
    if !from.is_empty() {
        let other = b.bind_from(from)?;
        let left_width = scope.width();
        let right_width = other.scope.width();
        plan = Plan::NestedLoopJoin {
            left: Box::new(plan),
            right: Box::new(other.plan),
            kind: crate::plan::JoinKind::Inner,
            on: None,
            left_width,
            right_width,
        };
        scope.columns.extend(other.scope.columns);
    }
    if let Some(w) = selection {
        let mut cx = ExprContext::plain("WHERE");
        let predicate = b.bind_predicate(w, &scope, &mut cx)?;
        plan = Plan::Filter {
            input: Box::new(plan),
            predicate,
        };
    }
    Ok((plan, scope))
}

/// The target rows' plan with the row-level security quals of `command` in the target's
/// scan (and those of SELECT when the statement reads the table's columns), optimized.
fn secured_target(
    b: &mut Binder,
    table: &TableDef,
    plan: Plan,
    access: usize,
    command: Command,
) -> SqlResult<Plan> {
    let mut commands = vec![command];
    if b.privileges.accesses[access].select {
        commands.push(Command::Select);
    }
    let plan = match b.security_quals(table.oid, &commands)? {
        Some(quals) => with_scan_filter(plan, table.oid, quals),
        None => plan,
    };
    Ok(crate::optimize::optimize_all(plan, &b.index_catalog))
}

pub(super) fn bind_update(b: &mut Binder, upd: &ast::Update) -> SqlResult<BoundUpdate> {
    let TableFactorName { name, alias } = factor_name(&upd.table.relation)?;
    let table = resolve_table(b, &name)?;
    let target_access = b.privileges.relation(table.oid);
    let alias = alias.unwrap_or_else(|| table.name.clone());
    let from: Vec<ast::TableWithJoins> = match &upd.from {
        Some(ast::UpdateTableFromKind::BeforeSet(f))
        | Some(ast::UpdateTableFromKind::AfterSet(f)) => f.clone(),
        None => Vec::new(),
    };
    let (plan, scope) = target_rows(b, &table, &alias, &from, upd.selection.as_ref())?;
    let sets = bind_assignments(b, &table, &upd.assignments, &scope)?;
    let updated: Vec<storage::catalog::AttNum> = sets
        .iter()
        .map(|(pos, _)| table.columns[*pos].attnum)
        .collect();
    b.privileges.accesses[target_access].update = Some(updated);
    b.privileges.suspended = true;
    let expressions = table_expressions(b, &table);
    b.privileges.suspended = false;
    let (_, generated, checks) = expressions?;
    let returning = match &upd.returning {
        Some(items) => Some(bind_returning(b, items, &scope)?),
        None => None,
    };
    let plan = secured_target(b, &table, plan, target_access, Command::Update)?;
    let mut rls_checks = b.row_checks(table.oid, Command::Update, false)?;
    if b.privileges.accesses[target_access].select {
        rls_checks.extend(b.row_checks(table.oid, Command::Select, false)?);
    }
    Ok(BoundUpdate {
        table,
        plan,
        sets,
        generated,
        checks,
        rls_checks,
        returning,
    })
}

pub(super) struct BoundDelete {
    table: TableDef,
    plan: Plan,
    pub(super) returning: Option<(Vec<Expr>, Vec<OutputColumn>)>,
}

pub(super) fn bind_delete(b: &mut Binder, del: &ast::Delete) -> SqlResult<BoundDelete> {
    let items = match &del.from {
        ast::FromTable::WithFromKeyword(t) | ast::FromTable::WithoutKeyword(t) => t,
    };
    let first = items
        .first()
        .ok_or_else(|| SqlError::syntax("DELETE without a table"))?;
    let TableFactorName { name, alias } = factor_name(&first.relation)?;
    let table = resolve_table(b, &name)?;
    let index = b.privileges.relation(table.oid);
    b.privileges.accesses[index].delete = true;
    let alias = alias.unwrap_or_else(|| table.name.clone());
    let using = del.using.clone().unwrap_or_default();
    let (plan, scope) = target_rows(b, &table, &alias, &using, del.selection.as_ref())?;
    let returning = match &del.returning {
        Some(items) => Some(bind_returning(b, items, &scope)?),
        None => None,
    };
    let plan = secured_target(b, &table, plan, index, Command::Delete)?;
    Ok(BoundDelete {
        table,
        plan,
        returning,
    })
}

struct TableFactorName {
    name: ast::ObjectName,
    alias: Option<String>,
}

fn factor_name(f: &ast::TableFactor) -> SqlResult<TableFactorName> {
    match f {
        ast::TableFactor::Table { name, alias, .. } => Ok(TableFactorName {
            name: name.clone(),
            alias: alias.as_ref().map(|a| ident_name(&a.name)),
        }),
        _ => Err(SqlError::unsupported("this DML target")),
    }
}

pub(super) fn run_update(
    session: &mut Session,
    bound: BoundUpdate,
    params: &[Value],
) -> SqlResult<Outcome> {
    let BoundUpdate {
        table,
        plan,
        sets,
        generated,
        checks,
        rls_checks,
        returning,
    } = bound;
    let width = table.columns.len();
    let updated: Vec<usize> = sets.iter().map(|(p, _)| *p).collect();
    let mut fired = Fired::for_statement(&session.catalog(), &table, Event::Update, &updated);
    let changes = session.with_exec(params, |ctx| {
        let rows = crate::exec::run(&plan, ctx, None)?;
        let mut seen = std::collections::HashSet::new();
        let mut targets = Vec::with_capacity(rows.len());
        for joined in rows {
            let Value::Int8(row_id) = joined[width] else {
                return Err(SqlError::internal("row id missing"));
            };
            if seen.insert(row_id) {
                targets.push((row_id, joined));
            }
        }
        // In batches, so that `embed()` in SET and in generated columns runs once per batch
        // of rows; per row, the steps and their errors are those of a row-by-row update.
        let set_exprs: Vec<&Expr> = sets.iter().map(|(_, e)| e).collect();
        let generated_exprs: Vec<&Expr> = generated.iter().flatten().collect();
        let mut changes = Vec::with_capacity(targets.len());
        for batch in targets.chunks(prefetch::PREFETCH_BATCH_ROWS) {
            let _sets_prefetched = prefetch_or_fall_back(
                &set_exprs,
                batch.iter().map(|(_, joined)| joined.as_slice()),
                ctx,
            )?;
            let mut news = Vec::with_capacity(batch.len());
            let mut set_error = None;
            for (_, joined) in batch {
                let env = Env {
                    row: joined,
                    parent: None,
                };
                let mut new: Row = joined[..width].to_vec();
                let assigned = sets.iter().try_for_each(|(pos, e)| {
                    new[*pos] = eval(e, &env, ctx)?;
                    Ok::<(), SqlError>(())
                });
                if let Err(error) = assigned {
                    set_error = Some(error);
                    break;
                }
                news.push(new);
            }
            let _generated_prefetched =
                prefetch_or_fall_back(&generated_exprs, news.iter().map(Vec::as_slice), ctx)?;
            for ((row_id, joined), mut new) in batch.iter().zip(news) {
                compute_generated(&table, &mut new, &generated, ctx)?;
                if !fired.has_before() {
                    crate::bind::rls::check_row(&rls_checks, &new, ctx)?;
                    check_row(&table, &new, &checks, ctx)?;
                    check_references(&table, &new, ctx)?;
                }
                let ret = match &returning {
                    Some((exprs, _)) => {
                        let mut r = new.clone();
                        r.push(Value::Int8(*row_id));
                        r.extend(joined[width + 1..].iter().cloned());
                        Some(eval_row(exprs, &r, ctx)?)
                    }
                    None => None,
                };
                let extra = joined[width + 1..].to_vec();
                changes.push((*row_id as u64, joined[..width].to_vec(), new, ret, extra));
            }
            if let Some(error) = set_error {
                return Err(error);
            }
        }
        Ok(changes)
    })?;
    // Rows that other tables reference must keep their key (NO ACTION / RESTRICT).
    let referencing = referencing_constraints(&session.catalog(), table.oid);
    let mut out = Vec::new();
    let mut count = 0usize;
    for (row_id, old, new, ret, extra) in changes {
        let (new, ret) = if fired.is_empty() {
            (new, ret)
        } else {
            let proposed = Some(new.clone());
            let row = before_row(
                session,
                &fired,
                params,
                &table,
                Some(&old),
                proposed,
                &generated,
                &checks,
                &rls_checks,
            )?;
            match (row, &returning) {
                (None, _) => continue,
                (Some(row), Some((exprs, _))) if row != new => {
                    let mut r = row.clone();
                    r.push(Value::Int8(row_id as i64));
                    r.extend(extra);
                    let ret = session.with_exec(params, |ctx| eval_row(exprs, &r, ctx))?;
                    (row, Some(ret))
                }
                (Some(row), _) => (row, ret),
            }
        };
        count += 1;
        if !referencing.is_empty() {
            session.with_exec(params, |ctx| {
                check_still_referenced(ctx, &table, &old, Some(&new), &referencing)
            })?;
        }
        let txn = session.transaction();
        if let Err(e) = txn.update(table.oid, row_id, new.clone()) {
            return Err(session.with_exec(params, |ctx| Ok(unique_error(e, &table, &new, ctx)))?);
        }
        fired.written(Some(old), Some(new));
        if let Some(r) = ret {
            out.push(r);
        }
    }
    fired.finish(session, &table)?;
    Ok(outcome(format!("UPDATE {count}"), returning, out))
}

/// Foreign keys of other tables pointing at `table`: (referencing table, constraint name,
/// referencing columns, referenced columns, ON DELETE action).
type Referencing = Vec<(TableDef, String, Vec<u16>, Vec<u16>, ReferentialAction)>;

fn referencing_constraints(catalog: &Catalog, table: Oid) -> Referencing {
    let mut out = Vec::new();
    for t in catalog.tables.values() {
        for k in &t.constraints {
            if let ConstraintKind::ForeignKey {
                columns,
                referenced_table,
                referenced_columns,
                on_delete,
                ..
            } = &k.kind
            {
                if *referenced_table == table {
                    out.push((
                        t.clone(),
                        k.name.clone(),
                        columns.clone(),
                        referenced_columns.clone(),
                        *on_delete,
                    ));
                }
            }
        }
    }
    out
}

/// Errors if a key that is going away (delete, or update changing it) is still referenced
/// by rows with NO ACTION / RESTRICT; returns the rows to cascade to otherwise.
fn check_still_referenced(
    ctx: &ExecCtx,
    table: &TableDef,
    old: &[Value],
    new: Option<&[Value]>,
    referencing: &Referencing,
) -> SqlResult<()> {
    for (t, name, columns, referenced, action) in referencing {
        let key: Vec<Value> = referenced
            .iter()
            .map(|a| old[usize::from(*a) - 1].clone())
            .collect();
        if key.iter().any(Value::is_null) {
            continue;
        }
        if let Some(new) = new {
            let unchanged = referenced.iter().all(|a| {
                let i = usize::from(*a) - 1;
                !new[i].is_null() && crate::func::compare(&old[i], &new[i]).is_eq()
            });
            if unchanged {
                continue;
            }
        } else if !matches!(
            action,
            ReferentialAction::NoAction | ReferentialAction::Restrict
        ) {
            continue;
        }
        if key_exists(ctx, t, columns, &key)? {
            return Err(SqlError::new(
                code::FOREIGN_KEY_VIOLATION,
                format!(
                    "update or delete on table \"{}\" violates foreign key constraint \"{name}\" on table \"{}\"",
                    table.name, t.name
                ),
            )
            .with_detail(format!(
                "Key {} is still referenced from table \"{}\".",
                super::checks::key_description(ctx, table, referenced, &key),
                t.name
            )));
        }
    }
    Ok(())
}

pub(super) fn run_delete(
    session: &mut Session,
    bound: BoundDelete,
    params: &[Value],
) -> SqlResult<Outcome> {
    let BoundDelete {
        table,
        plan,
        returning,
    } = bound;
    let width = table.columns.len();
    let victims = session.with_exec(params, |ctx| {
        let rows = crate::exec::run(&plan, ctx, None)?;
        let mut seen = std::collections::HashSet::new();
        let mut victims = Vec::new();
        for joined in rows {
            let Value::Int8(row_id) = joined[width] else {
                return Err(SqlError::internal("row id missing"));
            };
            if !seen.insert(row_id) {
                continue;
            }
            let ret = match &returning {
                Some((exprs, _)) => Some(eval_row(exprs, &joined, ctx)?),
                None => None,
            };
            victims.push((row_id as u64, joined[..width].to_vec(), ret));
        }
        Ok(victims)
    })?;
    let mut fired = Fired::for_statement(&session.catalog(), &table, Event::Delete, &[]);
    let mut count = 0usize;
    let mut out = Vec::new();
    for (row_id, old, ret) in victims {
        if !fired.is_empty() && fired.before(session, &table, Some(&old), None)?.0.is_none() {
            continue;
        }
        count += 1;
        delete_row(session, &table, row_id, &old, params)?;
        fired.written(Some(old), None);
        if let Some(r) = ret {
            out.push(r);
        }
    }
    fired.finish(session, &table)?;
    Ok(outcome(format!("DELETE {count}"), returning, out))
}

/// Deletes one row, applying the ON DELETE actions of foreign keys that reference it.
fn delete_row(
    session: &mut Session,
    table: &TableDef,
    row_id: u64,
    old: &[Value],
    params: &[Value],
) -> SqlResult<()> {
    let referencing = referencing_constraints(&session.catalog(), table.oid);
    if !referencing.is_empty() {
        session.with_exec(params, |ctx| {
            check_still_referenced(ctx, table, old, None, &referencing)
        })?;
        for (t, _, columns, referenced, action) in &referencing {
            if matches!(
                action,
                ReferentialAction::NoAction | ReferentialAction::Restrict
            ) {
                continue;
            }
            let key: Vec<Value> = referenced
                .iter()
                .map(|a| old[usize::from(*a) - 1].clone())
                .collect();
            let children =
                session.with_exec(params, |ctx| rows_with_key(ctx, t, columns, &key, false))?;
            for (child_id, child) in children {
                match action {
                    ReferentialAction::Cascade => delete_row(session, t, child_id, &child, params)?,
                    ReferentialAction::SetNull | ReferentialAction::SetDefault => {
                        let mut new = child.clone();
                        for a in columns {
                            new[usize::from(*a) - 1] = Value::Null;
                        }
                        session.transaction().update(t.oid, child_id, new)?;
                    }
                    _ => {}
                }
            }
        }
    }
    session.transaction().delete(table.oid, row_id)?;
    Ok(())
}

/// TRUNCATE: deletes every row of the tables.
pub fn truncate(session: &mut Session, tables: &[TableDef]) -> SqlResult<()> {
    for table in tables {
        let catalog = session.catalog();
        for (t, name, _, _, _) in referencing_constraints(&catalog, table.oid) {
            if !tables.iter().any(|x| x.oid == t.oid) {
                return Err(SqlError::new(
                    code::FEATURE_NOT_SUPPORTED,
                    "cannot truncate a table referenced in a foreign key constraint",
                )
                .with_detail(format!(
                    "Table \"{}\" references \"{}\" ({name}).",
                    t.name, table.name
                ))
                .with_hint(format!(
                    "Truncate table \"{}\" at the same time, or use TRUNCATE ... CASCADE.",
                    t.name
                )));
            }
        }
        let ids: Vec<u64> = session
            .transaction()
            .scan_all(table.oid)?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let txn = session.transaction();
        for id in ids {
            txn.delete(table.oid, id)?;
        }
    }
    Ok(())
}
