//! INSERT: binding the target columns and source rows (VALUES with `DEFAULT`, or a query),
//! ON CONFLICT arbiter indexes and DO NOTHING / DO UPDATE, and running the statement.
//!
//! Every new row is completed and checked ([`super::checks`]) before the first one is
//! written, since the source may read the table being inserted into.

use sqlparser::ast;
use storage::catalog::{Catalog, IdentityKind, Oid, TableDef};
use storage::types::{Row, Value};

use super::checks::{
    check_references, check_row, compute_generated, finish_rows, rows_with_key, table_expressions,
    unique_error,
};
use super::triggered::{before_row, unconstrained};
use super::{
    assign, bind_assignments, bind_returning, eval_row, is_default_keyword, outcome, resolve_table,
    table_scope,
};
use crate::bind::expr::ExprContext;
use crate::bind::rls::{self, Command, RowCheck};
use crate::bind::{ident_name, object_name_parts, Binder, Scope};
use crate::engine::{Outcome, Session};
use crate::error::{code, SqlError, SqlResult};
use crate::exec::{eval, truthy, Env};
use crate::pgtype::SqlType;
use crate::plan::{Expr, OutputColumn, Plan};
use crate::plpgsql::triggers::{Event, Fired};

/// A bound INSERT.
pub(super) struct BoundInsert {
    table: TableDef,
    /// The source rows' plan and, per source column, the attnum it fills.
    source: Plan,
    targets: Vec<usize>,
    /// Per column (by position): the default expression, if any.
    defaults: Vec<Option<Expr>>,
    generated: Vec<Option<Expr>>,
    checks: Vec<(String, Expr)>,
    conflict: Option<Conflict>,
    /// Row-level security: checks of the rows proposed for insertion, of the existing row
    /// ON CONFLICT DO UPDATE takes, and of the row it makes of it.
    rls: [Vec<RowCheck>; 3],
    pub(super) returning: Option<(Vec<Expr>, Vec<OutputColumn>)>,
    overriding_system: bool,
}

enum Conflict {
    Nothing {
        indexes: Vec<Oid>,
    },
    Update {
        indexes: Vec<Oid>,
        /// (column position, expression over existing row ++ excluded row).
        sets: Vec<(usize, Expr)>,
        filter: Option<Expr>,
    },
}

/// Marker for `DEFAULT` in VALUES.
const DEFAULT_MARKER: &str = "\u{0}custos-default\u{0}";

pub(super) fn bind_insert(b: &mut Binder, ins: &ast::Insert) -> SqlResult<BoundInsert> {
    let ast::TableObject::TableName(name) = &ins.table else {
        return Err(SqlError::unsupported("INSERT INTO a table function"));
    };
    let table = resolve_table(b, name)?;
    let live: Vec<usize> = (0..table.columns.len())
        .filter(|&i| !table.columns[i].dropped)
        .collect();
    let mut targets = Vec::new();
    if ins.columns.is_empty() {
        targets = live.clone();
    } else {
        for c in &ins.columns {
            let parts = object_name_parts(c);
            let cname = parts.last().cloned().unwrap_or_default();
            let pos = table
                .columns
                .iter()
                .position(|x| !x.dropped && x.name == cname)
                .ok_or_else(|| {
                    SqlError::new(
                        code::UNDEFINED_COLUMN,
                        format!(
                            "column \"{cname}\" of relation \"{}\" does not exist",
                            table.name
                        ),
                    )
                })?;
            if targets.contains(&pos) {
                return Err(SqlError::new(
                    code::DUPLICATE_COLUMN,
                    format!("column \"{cname}\" specified more than once"),
                ));
            }
            targets.push(pos);
        }
    }
    let index = b.privileges.relation(table.oid);
    b.privileges.accesses[index].insert =
        Some(targets.iter().map(|t| table.columns[*t].attnum).collect());
    let overriding_system = matches!(ins.overriding, Some(ast::InsertOverriding::System));
    for &t in &targets {
        let c = &table.columns[t];
        if c.generated.is_some() {
            // Only DEFAULT may be written into a generated column; checked per value below.
        }
        let _ = c;
    }
    // Source rows.
    let source = match &ins.source {
        None => Plan::Values {
            rows: vec![table
                .columns
                .iter()
                .map(|_| Expr::Const(Value::Text(DEFAULT_MARKER.into())))
                .take(0)
                .collect()],
            width: 0,
        },
        Some(q) => {
            match q.body.as_ref() {
                ast::SetExpr::Values(values)
                    if q.order_by.is_none() && q.limit_clause.is_none() =>
                {
                    let empty = Scope::default();
                    let mut rows = Vec::new();
                    for row in &values.rows {
                        if row.content.len() > targets.len() {
                            return Err(SqlError::syntax(
                                "INSERT has more expressions than target columns",
                            ));
                        }
                        if row.content.len() < targets.len() {
                            return Err(SqlError::syntax(
                                "INSERT has more target columns than expressions",
                            ));
                        }
                        let mut exprs = Vec::new();
                        for (e, &t) in row.content.iter().zip(targets.iter()) {
                            let column = &table.columns[t];
                            if is_default_keyword(e) {
                                exprs.push(Expr::Const(Value::Text(DEFAULT_MARKER.into())));
                                continue;
                            }
                            if column.generated.is_some() {
                                return Err(SqlError::new(
                                    code::GENERATED_ALWAYS,
                                    format!(
                                        "cannot insert a non-DEFAULT value into column \"{}\"",
                                        column.name
                                    ),
                                )
                                .with_detail(format!(
                                    "Column \"{}\" is a generated column.",
                                    column.name
                                )));
                            }
                            if column.identity == Some(IdentityKind::Always) && !overriding_system {
                                return Err(SqlError::new(
                                code::GENERATED_ALWAYS,
                                format!("cannot insert a non-DEFAULT value into column \"{}\"", column.name),
                            )
                            .with_detail(format!("Column \"{}\" is an identity column defined as GENERATED ALWAYS.", column.name))
                            .with_hint("Use OVERRIDING SYSTEM VALUE to override."));
                            }
                            let mut cx = ExprContext::plain("VALUES");
                            let typed = b.bind_expr(e, &empty, &mut cx)?;
                            let target = SqlType::from_data_type(&column.data_type);
                            exprs.push(assign(b, typed, &target, &column.name)?);
                        }
                        rows.push(exprs);
                    }
                    Plan::Values {
                        rows,
                        width: targets.len(),
                    }
                }
                _ => {
                    let (plan, columns) = b.bind_query(q)?;
                    if columns.len() > targets.len() {
                        return Err(SqlError::syntax(
                            "INSERT has more expressions than target columns",
                        ));
                    }
                    if columns.len() < targets.len() {
                        return Err(SqlError::syntax(
                            "INSERT has more target columns than expressions",
                        ));
                    }
                    let mut exprs = Vec::new();
                    for (i, (c, &t)) in columns.iter().zip(targets.iter()).enumerate() {
                        let column = &table.columns[t];
                        let target = SqlType::from_data_type(&column.data_type);
                        exprs.push(assign(
                            b,
                            (Expr::Column(i), c.sql_type.clone()),
                            &target,
                            &column.name,
                        )?);
                    }
                    Plan::Project {
                        input: Box::new(plan),
                        exprs,
                    }
                }
            }
        }
    };
    b.privileges.suspended = true;
    let expressions = table_expressions(b, &table);
    b.privileges.suspended = false;
    let (defaults, generated, checks) = expressions?;
    let alias = ins
        .table_alias
        .as_ref()
        .map(|a| ident_name(&a.alias))
        .unwrap_or_else(|| table.name.clone());
    let scope = table_scope(&b.catalog, &table, &alias);
    let conflict = match &ins.on {
        None => None,
        Some(ast::OnInsert::OnConflict(oc)) => {
            let indexes = conflict_indexes(&b.catalog, &table, oc.conflict_target.as_ref())?;
            match &oc.action {
                ast::OnConflictAction::DoNothing => Some(Conflict::Nothing { indexes }),
                ast::OnConflictAction::DoUpdate(du) => {
                    if oc.conflict_target.is_none() {
                        return Err(SqlError::syntax(
                            "ON CONFLICT DO UPDATE requires inference specification or constraint name",
                        )
                        .with_hint("For example, ON CONFLICT (column_name)."));
                    }
                    let mut both = scope.clone();
                    let mut excluded = table_scope(&b.catalog, &table, "excluded");
                    for c in &mut excluded.columns {
                        c.qualified_only = true;
                    }
                    both.columns.extend(excluded.columns);
                    let sets = bind_assignments(b, &table, &du.assignments, &both)?;
                    let updated: Vec<storage::catalog::AttNum> = sets
                        .iter()
                        .map(|(pos, _)| table.columns[*pos].attnum)
                        .collect();
                    b.privileges.accesses[index].update = Some(updated);
                    let filter = match &du.selection {
                        Some(w) => {
                            let mut cx = ExprContext::plain("WHERE");
                            Some(b.bind_predicate(w, &both, &mut cx)?)
                        }
                        None => None,
                    };
                    Some(Conflict::Update {
                        indexes,
                        sets,
                        filter,
                    })
                }
            }
        }
        Some(_) => return Err(SqlError::unsupported("ON DUPLICATE KEY")),
    };
    let returning = match &ins.returning {
        Some(items) => Some(bind_returning(b, items, &scope)?),
        None => None,
    };
    let rls = insert_checks(b, &table, index, &conflict)?;
    Ok(BoundInsert {
        table,
        source,
        targets,
        defaults,
        generated,
        checks,
        conflict,
        rls,
        returning,
        overriding_system,
    })
}

/// The row-level security checks of an INSERT (see [`BoundInsert::rls`]): INSERT's WITH
/// CHECK on every proposed row; for ON CONFLICT DO UPDATE, UPDATE's USING on the existing
/// row (an error, never a silent skip) and its WITH CHECK on the new one; SELECT's USING
/// on each of them when the statement reads the table (RETURNING, DO UPDATE).
fn insert_checks(
    b: &mut Binder,
    table: &TableDef,
    access: usize,
    conflict: &Option<Conflict>,
) -> SqlResult<[Vec<RowCheck>; 3]> {
    let do_update = matches!(conflict, Some(Conflict::Update { .. }));
    let reads = b.privileges.accesses[access].select || do_update;
    let mut inserted = b.row_checks(table.oid, Command::Insert, false)?;
    if reads {
        inserted.extend(b.row_checks(table.oid, Command::Select, false)?);
    }
    let mut existing = Vec::new();
    let mut updated = Vec::new();
    if do_update {
        existing = b.row_checks(table.oid, Command::Update, true)?;
        let mut select = b.row_checks(table.oid, Command::Select, false)?;
        for c in &mut select {
            c.using = true;
        }
        existing.extend(select);
        updated = b.row_checks(table.oid, Command::Update, false)?;
        updated.extend(b.row_checks(table.oid, Command::Select, false)?);
    }
    Ok([inserted, existing, updated])
}

fn conflict_indexes(
    catalog: &Catalog,
    table: &TableDef,
    target: Option<&ast::ConflictTarget>,
) -> SqlResult<Vec<Oid>> {
    let unique: Vec<&storage::catalog::IndexDef> =
        catalog.indexes_of(table.oid).filter(|i| i.unique).collect();
    match target {
        None => Ok(unique.iter().map(|i| i.oid).collect()),
        Some(ast::ConflictTarget::Columns { columns: cols, .. }) => {
            let mut attnums: Vec<u16> = Vec::new();
            for c in cols {
                let name = ident_name(c);
                let col = table.column_by_name(&name).ok_or_else(|| {
                    SqlError::new(
                        code::UNDEFINED_COLUMN,
                        format!("column \"{name}\" does not exist"),
                    )
                })?;
                attnums.push(col.attnum);
            }
            attnums.sort();
            let found: Vec<Oid> = unique
                .iter()
                .filter(|i| {
                    let mut a = i.columns.clone();
                    a.sort();
                    a == attnums
                })
                .map(|i| i.oid)
                .collect();
            if found.is_empty() {
                return Err(SqlError::new(
                    code::INVALID_COLUMN_REFERENCE,
                    "there is no unique or exclusion constraint matching the ON CONFLICT specification",
                ));
            }
            Ok(found)
        }
        Some(ast::ConflictTarget::OnConstraint(name)) => {
            let n = object_name_parts(name).pop().unwrap_or_default();
            unique
                .iter()
                .find(|i| i.name == n)
                .map(|i| vec![i.oid])
                .ok_or_else(|| {
                    SqlError::new(
                        code::UNDEFINED_OBJECT,
                        format!(
                            "constraint \"{n}\" for table \"{}\" does not exist",
                            table.name
                        ),
                    )
                })
        }
    }
}

pub(super) fn run_insert(
    session: &mut Session,
    bound: BoundInsert,
    params: &[Value],
) -> SqlResult<Outcome> {
    let BoundInsert {
        table,
        source,
        targets,
        defaults,
        generated,
        checks,
        conflict,
        rls,
        returning,
        overriding_system,
    } = bound;
    let [rls_inserted, rls_existing, rls_updated] = rls;
    let _ = overriding_system;
    // Compute every new row first (the source may read the table itself).
    let mut fired = Fired::for_statement(&session.catalog(), &table, Event::Insert, &[]);
    // With BEFORE triggers, constraints are checked on the rows the triggers return.
    let deferred = fired.has_before().then(|| unconstrained(&table));
    let rows = session.with_exec(params, |ctx| {
        let source_rows = crate::exec::run(&source, ctx, None)?;
        // Rows with what they supply; completed together so `embed()` runs per batch.
        let mut placed: Vec<(Row, Vec<bool>)> = Vec::with_capacity(source_rows.len());
        for src in source_rows {
            let mut row: Row = vec![Value::Null; table.columns.len()];
            let mut provided = vec![false; table.columns.len()];
            for (v, &t) in src.into_iter().zip(targets.iter()) {
                if matches!(&v, Value::Text(s) if s == DEFAULT_MARKER) {
                    continue;
                }
                row[t] = v;
                provided[t] = true;
            }
            if targets.is_empty() && table.columns.is_empty() {
                continue;
            }
            placed.push((row, provided));
        }
        let (placed_rows, provided): (Vec<Row>, Vec<Vec<bool>>) = placed.into_iter().unzip();
        let rows = finish_rows(
            deferred.as_ref().unwrap_or(&table),
            placed_rows
                .into_iter()
                .zip(provided.iter().map(Vec::as_slice))
                .collect(),
            &defaults,
            &generated,
            if deferred.is_some() { &[] } else { &checks },
            if deferred.is_some() {
                &[]
            } else {
                &rls_inserted
            },
            ctx,
        )
        .map_err(|(_, error)| error)?;
        for row in rows.iter().filter(|_| deferred.is_none()) {
            check_references(&table, row, ctx)?;
        }
        Ok(rows)
    })?;
    let mut inserted: Vec<Row> = Vec::new();
    let mut count = 0u64;
    // Rows this statement inserted or updated: ON CONFLICT DO UPDATE may not touch one twice.
    let mut touched: std::collections::HashSet<u64> = std::collections::HashSet::new();
    for row in rows {
        // ON CONFLICT: look for an existing row with the same key in the arbiter indexes.
        if let Some(c) = &conflict {
            let indexes = match c {
                Conflict::Nothing { indexes } | Conflict::Update { indexes, .. } => indexes.clone(),
            };
            let existing = session.with_exec(params, |ctx| {
                for index in &indexes {
                    let Some(def) = ctx.catalog.indexes.get(index) else {
                        continue;
                    };
                    let key: Vec<Value> = def
                        .columns
                        .iter()
                        .map(|a| row[usize::from(*a) - 1].clone())
                        .collect();
                    if key.iter().any(Value::is_null) {
                        continue;
                    }
                    if let Some(found) = rows_with_key(ctx, &table, &def.columns, &key, true)?
                        .into_iter()
                        .next()
                    {
                        return Ok(Some(found));
                    }
                }
                Ok(None)
            })?;
            if let Some((row_id, old)) = existing {
                if matches!(c, Conflict::Update { .. }) && touched.contains(&row_id) {
                    return Err(SqlError::new(
                        code::CARDINALITY_VIOLATION,
                        "ON CONFLICT DO UPDATE command cannot affect row a second time",
                    )
                    .with_hint(
                        "Ensure that no rows proposed for insertion within the same command have duplicate constrained values.",
                    ));
                }
                match c {
                    Conflict::Nothing { .. } => continue,
                    Conflict::Update { sets, filter, .. } => {
                        let new = session.with_exec(params, |ctx| {
                            let mut both = old.clone();
                            both.extend(row.iter().cloned());
                            let env = Env {
                                row: &both,
                                parent: None,
                            };
                            if let Some(f) = filter {
                                if !truthy(&eval(f, &env, ctx)?) {
                                    return Ok(None);
                                }
                            }
                            rls::check_row(&rls_existing, &old, ctx)?;
                            let mut new = old.clone();
                            for (pos, e) in sets {
                                new[*pos] = eval(e, &env, ctx)?;
                            }
                            compute_generated(&table, &mut new, &generated, ctx)?;
                            rls::check_row(&rls_updated, &new, ctx)?;
                            check_row(&table, &new, &checks, ctx)?;
                            check_references(&table, &new, ctx)?;
                            Ok(Some(new))
                        })?;
                        if let Some(new) = new {
                            let txn = session.transaction();
                            match txn.update(table.oid, row_id, new.clone()) {
                                Ok(new_id) => {
                                    touched.insert(new_id);
                                }
                                Err(e) => {
                                    return Err(session.with_exec(params, |ctx| {
                                        Ok(unique_error(e, &table, &new, ctx))
                                    })?)
                                }
                            }
                            count += 1;
                            inserted.push(new);
                        }
                        continue;
                    }
                }
            }
        }
        let row = if fired.is_empty() {
            row
        } else {
            let new = Some(row);
            match before_row(
                session,
                &fired,
                params,
                &table,
                None,
                new,
                &generated,
                &checks,
                &rls_inserted,
            )? {
                Some(row) => row,
                None => continue,
            }
        };
        let txn = session.transaction();
        match txn.insert(table.oid, row.clone()) {
            Ok(id) => {
                touched.insert(id);
                fired.written(None, Some(row.clone()));
            }
            Err(e) => {
                return Err(session.with_exec(params, |ctx| Ok(unique_error(e, &table, &row, ctx)))?)
            }
        }
        count += 1;
        inserted.push(row);
    }
    fired.finish(session, &table)?;
    session.check_cancel()?;
    let out_rows = match &returning {
        Some((exprs, _)) => session.with_exec(params, |ctx| {
            inserted
                .iter()
                .map(|r| eval_row(exprs, r, ctx))
                .collect::<SqlResult<Vec<_>>>()
        })?,
        None => Vec::new(),
    };
    Ok(outcome(format!("INSERT 0 {count}"), returning, out_rows))
}
