//! The rows of a table as DDL sees them: checking that existing rows satisfy a new
//! constraint (NOT NULL, CHECK, FOREIGN KEY, UNIQUE) and rewriting every row when a column
//! gets values it did not have (a volatile default, a new type).
//!
//! Everything runs in the session's transaction against the catalog as the statement has
//! changed it so far; rows are read fully widened to the table (dropped columns NULL), so an
//! expression bound over [`crate::dml::table_scope`] evaluates against them directly.
//! A rewrite holds the new rows of the whole table in memory before writing them.

use std::collections::HashSet;

use sqlparser::ast;
use storage::catalog::{AttNum, ConstraintKind, Oid, TableDef};
use storage::scan::ScanOptions;
use storage::types::{Row, Value};

use crate::bind::expr::{ExprContext, Typed};
use crate::engine::Session;
use crate::error::{code, SqlError, SqlResult};
use crate::exec::{eval, Env, ExecCtx};
use crate::pgtype::SqlType;
use crate::plan::Expr;

/// Binds `e` over the columns of `table`.
pub fn bind_on_table(
    session: &Session,
    table: &TableDef,
    e: &ast::Expr,
    clause: &'static str,
) -> SqlResult<Typed> {
    session.with_binder(Vec::new(), |b| {
        let scope = crate::dml::table_scope(&b.catalog, table, &table.name);
        b.bind_expr(e, &scope, &mut ExprContext::plain(clause))
    })
}

/// Calls `visit` with every visible row of `table` (and its id) until it returns false.
pub fn scan(
    session: &mut Session,
    table: Oid,
    mut visit: impl FnMut(&ExecCtx, u64, &Row) -> SqlResult<bool>,
) -> SqlResult<()> {
    session.with_exec(&[], |ctx| {
        for partition in ctx.txn.scan_partitions(table, &ScanOptions::default())? {
            for batch in partition.iter() {
                let batch = batch?;
                ctx.check_cancel()?;
                for (id, row) in batch.row_ids.into_iter().zip(batch.rows) {
                    if !visit(ctx, id, &row)? {
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    })
}

/// Whether `table` has no visible row.
pub fn is_empty(session: &mut Session, table: Oid) -> SqlResult<bool> {
    let mut empty = true;
    scan(session, table, |_, _, _| {
        empty = false;
        Ok(false)
    })?;
    Ok(empty)
}

/// Replaces every row of `table` by what `change` makes of it.
pub fn rewrite(
    session: &mut Session,
    table: Oid,
    mut change: impl FnMut(&ExecCtx, &Row) -> SqlResult<Row>,
) -> SqlResult<()> {
    let mut new_rows = Vec::new();
    scan(session, table, |ctx, id, row| {
        new_rows.push((id, change(ctx, row)?));
        Ok(true)
    })?;
    let txn = session.transaction();
    for (id, row) in new_rows {
        txn.update(table, id, row)?;
    }
    Ok(())
}

/// Evaluates a bound expression against one row.
pub fn eval_on(ctx: &ExecCtx, e: &Expr, row: &[Value]) -> SqlResult<Value> {
    eval(e, &Env { row, parent: None }, ctx)
}

fn column_type(table: &TableDef, attnum: AttNum) -> SqlType {
    table
        .column(attnum)
        .map(|c| SqlType::from_data_type(&c.data_type))
        .unwrap_or(SqlType::Text)
}

fn key_text(
    ctx: &ExecCtx,
    table: &TableDef,
    columns: &[AttNum],
    key: &[Value],
) -> (String, String) {
    let names: Vec<String> = columns
        .iter()
        .filter_map(|a| table.column(*a).map(|c| c.name.clone()))
        .collect();
    let values: Vec<String> = columns
        .iter()
        .zip(key)
        .map(|(a, v)| {
            if v.is_null() {
                "null".to_string()
            } else {
                crate::exec::output_value_for(ctx, v, &column_type(table, *a))
            }
        })
        .collect();
    (names.join(", "), values.join(", "))
}

/// SET NOT NULL, a new NOT NULL column, a new primary key: 23502 when a row has NULL there.
pub fn check_not_null(session: &mut Session, table: &TableDef, attnum: AttNum) -> SqlResult<()> {
    let position = usize::from(attnum) - 1;
    let mut found = false;
    scan(session, table.oid, |_, _, row| {
        found = row.get(position).is_none_or(Value::is_null);
        Ok(!found)
    })?;
    if found {
        let column = table
            .column(attnum)
            .map(|c| c.name.clone())
            .unwrap_or_default();
        return Err(SqlError::new(
            code::NOT_NULL_VIOLATION,
            format!(
                "column \"{column}\" of relation \"{}\" contains null values",
                table.name
            ),
        ));
    }
    Ok(())
}

/// A new CHECK constraint: 23514 when some row makes its expression false.
pub fn check_expression(
    session: &mut Session,
    table: &TableDef,
    name: &str,
    expression: &str,
) -> SqlResult<()> {
    let e = crate::dml::parse_expr(expression)?;
    let predicate = session.with_binder(Vec::new(), |b| {
        let scope = crate::dml::table_scope(&b.catalog, table, &table.name);
        b.bind_predicate(&e, &scope, &mut ExprContext::plain("check constraints"))
    })?;
    let mut violated = false;
    scan(session, table.oid, |ctx, _, row| {
        violated = matches!(eval_on(ctx, &predicate, row)?, Value::Bool(false));
        Ok(!violated)
    })?;
    if violated {
        return Err(SqlError::new(
            code::CHECK_VIOLATION,
            format!(
                "check constraint \"{name}\" of relation \"{}\" is violated by some row",
                table.name
            ),
        ));
    }
    Ok(())
}

/// A new unique index or constraint: 23505 when two rows share a key without NULLs.
pub fn check_unique(
    session: &mut Session,
    table: &TableDef,
    columns: &[AttNum],
    index: &str,
) -> SqlResult<()> {
    let mut seen = HashSet::new();
    let mut duplicate: Option<(String, String)> = None;
    scan(session, table.oid, |ctx, _, row| {
        let key: Vec<Value> = columns
            .iter()
            .map(|a| row.get(usize::from(*a) - 1).cloned().unwrap_or(Value::Null))
            .collect();
        if key.iter().any(Value::is_null) {
            return Ok(true);
        }
        if !seen.insert(crate::exec::row_key(&key)) {
            duplicate = Some(key_text(ctx, table, columns, &key));
            return Ok(false);
        }
        Ok(true)
    })?;
    if let Some((names, values)) = duplicate {
        return Err(SqlError::new(
            code::UNIQUE_VIOLATION,
            format!("could not create unique index \"{index}\""),
        )
        .with_detail(format!("Key ({names})=({values}) is duplicated.")));
    }
    Ok(())
}

/// A new FOREIGN KEY constraint: 23503 when a row's key (without NULLs) is not in the
/// referenced table.
pub fn check_foreign_key(
    session: &mut Session,
    table: &TableDef,
    constraint: &str,
) -> SqlResult<()> {
    let catalog = session.catalog();
    let Some(ConstraintKind::ForeignKey {
        columns,
        referenced_table,
        referenced_columns,
        ..
    }) = table
        .constraints
        .iter()
        .find(|k| k.name == constraint)
        .map(|k| k.kind.clone())
    else {
        return Ok(());
    };
    let referenced = match catalog.tables.get(&referenced_table) {
        Some(t) if t.oid != table.oid => t.clone(),
        _ => table.clone(),
    };
    let key_of = |ctx: &ExecCtx, row: &Row, attnums: &[AttNum], types: &TableDef| -> Vec<Value> {
        attnums
            .iter()
            .zip(&referenced_columns)
            .map(|(a, target)| {
                let v = row.get(usize::from(*a) - 1).cloned().unwrap_or(Value::Null);
                let t = types
                    .column(*target)
                    .map(|c| c.data_type.clone())
                    .unwrap_or(storage::types::DataType::Text);
                crate::exec::key_for(ctx, v, &t).unwrap_or(Value::Null)
            })
            .collect()
    };
    let mut present = HashSet::new();
    scan(session, referenced.oid, |ctx, _, row| {
        let key = key_of(ctx, row, &referenced_columns, &referenced);
        if !key.iter().any(Value::is_null) {
            present.insert(crate::exec::row_key(&key));
        }
        Ok(true)
    })?;
    let mut missing: Option<(String, String)> = None;
    scan(session, table.oid, |ctx, _, row| {
        let key = key_of(ctx, row, &columns, &referenced);
        if key.iter().any(Value::is_null) || present.contains(&crate::exec::row_key(&key)) {
            return Ok(true);
        }
        let raw: Vec<Value> = columns
            .iter()
            .map(|a| row.get(usize::from(*a) - 1).cloned().unwrap_or(Value::Null))
            .collect();
        missing = Some(key_text(ctx, table, &columns, &raw));
        Ok(false)
    })?;
    if let Some((names, values)) = missing {
        return Err(SqlError::new(
            code::FOREIGN_KEY_VIOLATION,
            format!(
                "insert or update on table \"{}\" violates foreign key constraint \"{constraint}\"",
                table.name
            ),
        )
        .with_detail(format!(
            "Key ({names})=({values}) is not present in table \"{}\".",
            referenced.name
        )));
    }
    Ok(())
}

/// Checks the existing rows of `table` against its constraint `name`.
pub fn validate_constraint(session: &mut Session, table: &TableDef, name: &str) -> SqlResult<()> {
    let Some(k) = table.constraints.iter().find(|k| k.name == name) else {
        return Ok(());
    };
    match &k.kind {
        ConstraintKind::Check { expression } => check_expression(session, table, name, expression),
        ConstraintKind::ForeignKey { .. } => check_foreign_key(session, table, name),
        ConstraintKind::PrimaryKey { columns, .. } => {
            for a in columns {
                check_not_null(session, table, *a)?;
            }
            check_unique(session, table, columns, name)
        }
        ConstraintKind::Unique { columns, .. } => check_unique(session, table, columns, name),
    }
}
