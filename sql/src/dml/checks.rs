//! The checks every written row goes through, with PostgreSQL's messages: defaults and
//! generated columns (bound from the catalog's stored SQL text), NOT NULL, CHECK, foreign
//! keys, and unique violations reported from storage.
//!
//! Rows here are complete table rows, indexed by column position (`attnum - 1`), dropped
//! columns included.

use sqlparser::ast::{self, SelectItem, Statement as Ast};
use storage::catalog::{ConstraintKind, TableDef};
use storage::types::{Row, Value};
use storage::StorageError;

use super::table_scope;
use crate::bind::expr::ExprContext;
use crate::bind::{Binder, Scope};
use crate::embedding::prefetch;
use crate::error::{code, SqlError, SqlResult};
use crate::exec::{eval, Env, ExecCtx};
use crate::pgtype::SqlType;
use crate::plan::Expr;

/// Binds the default, generated and CHECK expressions of a table.
#[allow(clippy::type_complexity)]
pub(super) fn table_expressions(
    b: &mut Binder,
    table: &TableDef,
) -> SqlResult<(Vec<Option<Expr>>, Vec<Option<Expr>>, Vec<(String, Expr)>)> {
    let scope = table_scope(&b.catalog, table, &table.name);
    let empty = Scope::default();
    let mut defaults = Vec::new();
    let mut generated = Vec::new();
    for c in &table.columns {
        let t = SqlType::from_data_type(&c.data_type);
        let default = match (&c.default, &c.identity) {
            (_, Some(_)) | (Some(_), _) if c.default.is_some() => {
                let e = parse_expr(c.default.as_deref().unwrap_or("NULL"))?;
                let mut cx = ExprContext::plain("DEFAULT expressions");
                let typed = b.bind_expr(&e, &empty, &mut cx)?;
                Some(b.coerce_to(typed, &t, "default")?)
            }
            _ => None,
        };
        defaults.push(default);
        let gen = match &c.generated {
            Some(text) => {
                let e = parse_expr(text)?;
                let mut cx = ExprContext::plain("column generation expressions");
                let typed = b.bind_expr(&e, &scope, &mut cx)?;
                Some(b.coerce_to(typed, &t, "generated column")?)
            }
            None => None,
        };
        generated.push(gen);
    }
    let mut checks = Vec::new();
    for k in &table.constraints {
        if let ConstraintKind::Check { expression } = &k.kind {
            let e = parse_expr(expression)?;
            let mut cx = ExprContext::plain("check constraints");
            checks.push((k.name.clone(), b.bind_predicate(&e, &scope, &mut cx)?));
        }
    }
    Ok((defaults, generated, checks))
}

/// Parses an expression stored as SQL text in the catalog.
pub fn parse_expr(text: &str) -> SqlResult<ast::Expr> {
    let statement = crate::parse::parse_one(&format!("SELECT {text}"))?;
    if let Ast::Query(q) = statement {
        if let ast::SetExpr::Select(s) = q.body.as_ref() {
            if let Some(SelectItem::UnnamedExpr(e)) = s.projection.first() {
                return Ok(e.clone());
            }
        }
    }
    Err(SqlError::internal(format!(
        "stored expression does not parse: {text}"
    )))
}

/// Completes a new row: defaults, generated columns, then checks it (the row-level
/// security checks `rls` first).
pub(super) fn finish_row(
    table: &TableDef,
    (row, provided): (Row, &[bool]),
    defaults: &[Option<Expr>],
    generated: &[Option<Expr>],
    checks: &[(String, Expr)],
    rls: &[crate::bind::rls::RowCheck],
    ctx: &ExecCtx,
) -> SqlResult<Row> {
    let mut row = fill_defaults(table, row, provided, defaults, ctx)?;
    compute_generated(table, &mut row, generated, ctx)?;
    // Row-level security's WITH CHECK comes before NOT NULL and CHECK, as in PostgreSQL.
    crate::bind::rls::check_row(rls, &row, ctx)?;
    check_row(table, &row, checks, ctx)?;
    Ok(row)
}

/// Completes a batch of new rows as [`finish_row`] does each, in order, but with the
/// `embed()` calls of the generated columns run once per batch of
/// [`prefetch::PREFETCH_BATCH_ROWS`] rows instead of once per row. Each row's error is the
/// one [`finish_row`] would give, and the first failing row (by position in `rows`) is the
/// one reported: per batch, defaults are filled up to the first row whose default fails,
/// the rows before it are completed and checked, and only then is that default's error
/// returned.
pub(super) fn finish_rows(
    table: &TableDef,
    rows: Vec<(Row, &[bool])>,
    defaults: &[Option<Expr>],
    generated: &[Option<Expr>],
    checks: &[(String, Expr)],
    rls: &[crate::bind::rls::RowCheck],
    ctx: &ExecCtx,
) -> Result<Vec<Row>, (usize, SqlError)> {
    let generated_exprs: Vec<&Expr> = generated.iter().flatten().collect();
    let mut out = Vec::with_capacity(rows.len());
    if !prefetch::calls_embed(&generated_exprs) {
        for (position, (row, provided)) in rows.into_iter().enumerate() {
            let row = finish_row(
                table,
                (row, provided),
                defaults,
                generated,
                checks,
                rls,
                ctx,
            )
            .map_err(|error| (position, error))?;
            out.push(row);
        }
        return Ok(out);
    }
    let mut rows = rows.into_iter();
    let mut base = 0;
    loop {
        let batch: Vec<(Row, &[bool])> =
            rows.by_ref().take(prefetch::PREFETCH_BATCH_ROWS).collect();
        if batch.is_empty() {
            return Ok(out);
        }
        let batch_len = batch.len();
        let mut filled = Vec::with_capacity(batch_len);
        let mut default_error = None;
        for (offset, (row, provided)) in batch.into_iter().enumerate() {
            match fill_defaults(table, row, provided, defaults, ctx) {
                Ok(row) => filled.push(row),
                Err(error) => {
                    default_error = Some((base + offset, error));
                    break;
                }
            }
        }
        let _prefetched =
            prefetch_or_fall_back(&generated_exprs, filled.iter().map(Vec::as_slice), ctx)
                .map_err(|error| (base, error))?;
        for (offset, mut row) in filled.into_iter().enumerate() {
            compute_generated(table, &mut row, generated, ctx)
                .and_then(|()| crate::bind::rls::check_row(rls, &row, ctx))
                .and_then(|()| check_row(table, &row, checks, ctx))
                .map_err(|error| (base + offset, error))?;
            out.push(row);
        }
        if let Some(failure) = default_error {
            return Err(failure);
        }
        base += batch_len;
    }
}

/// Prefetches the embeddings `exprs` will ask for over `rows` (see
/// [`prefetch::prefetch_or_fall_back`]).
pub(super) fn prefetch_or_fall_back<'r>(
    exprs: &[&Expr],
    rows: impl IntoIterator<Item = &'r [Value]>,
    ctx: &ExecCtx,
) -> SqlResult<Option<prefetch::Prefetched>> {
    prefetch::prefetch_or_fall_back(exprs, rows, None, ctx)
}

/// `row` with the defaults of the columns it does not supply (generated columns are left
/// for [`compute_generated`]; dropped columns are NULL).
pub(super) fn fill_defaults(
    table: &TableDef,
    mut row: Row,
    provided: &[bool],
    defaults: &[Option<Expr>],
    ctx: &ExecCtx,
) -> SqlResult<Row> {
    for (i, c) in table.columns.iter().enumerate() {
        if c.dropped {
            row[i] = Value::Null;
            continue;
        }
        if !provided[i] && c.generated.is_none() {
            row[i] = match &defaults[i] {
                Some(d) => eval(
                    d,
                    &Env {
                        row: &[],
                        parent: None,
                    },
                    ctx,
                )?,
                None => Value::Null,
            };
        }
    }
    Ok(row)
}

pub(super) fn compute_generated(
    table: &TableDef,
    row: &mut Row,
    generated: &[Option<Expr>],
    ctx: &ExecCtx,
) -> SqlResult<()> {
    // Tokenized columns first: what is generated from them sees the token.
    crate::governance::tokenize::tokenize_row(&ctx.catalog, table, row)?;
    for (i, g) in generated.iter().enumerate() {
        if let Some(g) = g {
            let v = eval(g, &Env { row, parent: None }, ctx)?;
            row[i] = v;
        }
    }
    let _ = table;
    Ok(())
}

fn failing_row(row: &[Value], table: &TableDef, ctx: &ExecCtx) -> String {
    let parts: Vec<String> = table
        .columns
        .iter()
        .zip(row)
        .filter(|(c, _)| !c.dropped)
        .map(|(c, v)| {
            if v.is_null() {
                "null".to_string()
            } else {
                crate::exec::output_value_for(ctx, v, &SqlType::from_data_type(&c.data_type))
            }
        })
        .collect();
    format!("Failing row contains ({}).", parts.join(", "))
}

pub(super) fn check_row(
    table: &TableDef,
    row: &[Value],
    checks: &[(String, Expr)],
    ctx: &ExecCtx,
) -> SqlResult<()> {
    for (c, v) in table.columns.iter().zip(row) {
        if c.not_null && !c.dropped && v.is_null() {
            return Err(SqlError::new(
                code::NOT_NULL_VIOLATION,
                format!(
                    "null value in column \"{}\" of relation \"{}\" violates not-null constraint",
                    c.name, table.name
                ),
            )
            .with_detail(failing_row(row, table, ctx)));
        }
    }
    for (name, check) in checks {
        let v = eval(check, &Env { row, parent: None }, ctx)?;
        if matches!(v, Value::Bool(false)) {
            return Err(SqlError::new(
                code::CHECK_VIOLATION,
                format!(
                    "new row for relation \"{}\" violates check constraint \"{name}\"",
                    table.name
                ),
            )
            .with_detail(failing_row(row, table, ctx)));
        }
    }
    Ok(())
}

/// Checks the foreign keys of `table` for a new row.
pub(super) fn check_references(table: &TableDef, row: &[Value], ctx: &ExecCtx) -> SqlResult<()> {
    for k in &table.constraints {
        let ConstraintKind::ForeignKey {
            columns,
            referenced_table,
            referenced_columns,
            ..
        } = &k.kind
        else {
            continue;
        };
        let key: Vec<Value> = columns
            .iter()
            .map(|a| row[usize::from(*a) - 1].clone())
            .collect();
        if key.iter().any(Value::is_null) {
            continue;
        }
        let referenced = ctx
            .catalog
            .tables
            .get(referenced_table)
            .ok_or_else(|| SqlError::internal("referenced table vanished"))?;
        if !key_exists(ctx, referenced, referenced_columns, &key)? {
            return Err(SqlError::new(
                code::FOREIGN_KEY_VIOLATION,
                format!(
                    "insert or update on table \"{}\" violates foreign key constraint \"{}\"",
                    table.name, k.name
                ),
            )
            .with_detail(format!(
                "Key {} is not present in table \"{}\".",
                key_description(ctx, table, columns, &key),
                referenced.name
            )));
        }
    }
    Ok(())
}

/// Whether a visible row of `table` has `key` in `columns` (through an index when one fits).
pub(super) fn key_exists(
    ctx: &ExecCtx,
    table: &TableDef,
    columns: &[u16],
    key: &[Value],
) -> SqlResult<bool> {
    Ok(!rows_with_key(ctx, table, columns, key, true)?.is_empty())
}

/// Visible rows of `table` whose `columns` equal `key`, with their ids.
pub(super) fn rows_with_key(
    ctx: &ExecCtx,
    table: &TableDef,
    columns: &[u16],
    key: &[Value],
    first_only: bool,
) -> SqlResult<Vec<(u64, Row)>> {
    let key: Vec<Value> = key
        .iter()
        .zip(columns)
        .map(|(v, a)| {
            let t = &table
                .column(*a)
                .map(|c| c.data_type.clone())
                .unwrap_or(storage::types::DataType::Text);
            crate::exec::key_for(ctx, v.clone(), t).unwrap_or(Value::Null)
        })
        .collect();
    if key.iter().any(Value::is_null) {
        return Ok(Vec::new());
    }
    let index = ctx.catalog.indexes_of(table.oid).find(|i| {
        i.expressions.is_empty()
            && i.predicate.is_none()
            && i.columns.starts_with(columns)
            && matches!(i.method, storage::catalog::IndexMethodDef::Btree)
    });
    let candidates = match index {
        Some(i) => ctx.txn.index_lookup(i.oid, &key)?,
        None => ctx.txn.scan_all(table.oid)?,
    };
    let mut out = Vec::new();
    for (id, row) in candidates {
        let matches = columns.iter().zip(&key).all(|(a, v)| {
            let stored = &row[usize::from(*a) - 1];
            !stored.is_null() && crate::func::compare(stored, v).is_eq()
        });
        if matches {
            out.push((id, row));
            if first_only {
                break;
            }
        }
    }
    Ok(out)
}

pub(super) fn unique_error(
    e: StorageError,
    table: &TableDef,
    row: &[Value],
    ctx: &ExecCtx,
) -> SqlError {
    if let StorageError::UniqueViolation { index, .. } = &e {
        if let Some(def) = ctx
            .catalog
            .indexes
            .values()
            .find(|i| &i.name == index && i.table == table.oid)
        {
            let key: Vec<Value> = def
                .columns
                .iter()
                .map(|a| row[usize::from(*a) - 1].clone())
                .collect();
            return SqlError::new(
                code::UNIQUE_VIOLATION,
                format!("duplicate key value violates unique constraint \"{index}\""),
            )
            .with_detail(format!(
                "Key {} already exists.",
                key_description(ctx, table, &def.columns, &key)
            ));
        }
    }
    e.into()
}

/// `(a, b)=(1, x)`: the columns and values of a key, as PostgreSQL's constraint errors
/// show them.
pub(super) fn key_description(
    ctx: &ExecCtx,
    table: &TableDef,
    columns: &[u16],
    key: &[Value],
) -> String {
    let names: Vec<String> = columns
        .iter()
        .filter_map(|a| table.column(*a).map(|c| c.name.clone()))
        .collect();
    let values: Vec<String> = columns
        .iter()
        .zip(key)
        .map(|(a, v)| {
            let t = table
                .column(*a)
                .map(|c| SqlType::from_data_type(&c.data_type))
                .unwrap_or(SqlType::Text);
            crate::exec::output_value_for(ctx, v, &t)
        })
        .collect();
    format!("({})=({})", names.join(", "), values.join(", "))
}
