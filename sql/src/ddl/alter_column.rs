//! ALTER TABLE ... ALTER COLUMN: SET/DROP NOT NULL, SET/DROP DEFAULT, and TYPE, which
//! converts every row's value (with the USING expression or the assignment cast) before the
//! catalog takes the new type, and refuses when a view or a generated column reads the
//! column (as PostgreSQL does).

use sqlparser::ast::{self, AlterColumnOperation};
use storage::catalog::{AttNum, ConstraintKind, Oid, TableDef};
use storage::types::Value;

use super::alter::{column_of, current, store};
use super::dependents::{changed_views, rename_identifier, view_shapes};
use super::rows;
use super::table::quote_ident;
use crate::bind::expr::ExprContext;
use crate::bind::Scope;
use crate::engine::Session;
use crate::error::{code, SqlError, SqlResult};
use crate::func::{cast_allowed, CastContext};
use crate::pgtype::SqlType;

pub fn alter_column(
    session: &mut Session,
    oid: Oid,
    name: &str,
    op: &AlterColumnOperation,
    sql: &str,
) -> SqlResult<()> {
    let mut table = current(session, oid)?;
    let attnum = column_of(&table, name)?;
    let index = usize::from(attnum) - 1;
    let column = table.columns[index].clone();
    let kind_error = |what: &str| {
        SqlError::new(
            code::SYNTAX_ERROR,
            format!("column \"{name}\" of relation \"{}\" is {what}", table.name),
        )
    };
    match op {
        AlterColumnOperation::SetNotNull => {
            if !column.not_null {
                rows::check_not_null(session, &table, attnum)?;
                table.columns[index].not_null = true;
            }
        }
        AlterColumnOperation::DropNotNull => {
            if column.identity.is_some() {
                return Err(kind_error("an identity column"));
            }
            let in_key = table.constraints.iter().any(|k| {
                matches!(&k.kind, ConstraintKind::PrimaryKey { columns, .. } if columns.contains(&attnum))
            });
            if in_key {
                return Err(SqlError::new(
                    code::INVALID_TABLE_DEFINITION,
                    format!("column \"{name}\" is in a primary key"),
                ));
            }
            table.columns[index].not_null = false;
        }
        AlterColumnOperation::SetDefault { value } => {
            if column.generated.is_some() {
                return Err(kind_error("a generated column"));
            }
            if column.identity.is_some() {
                return Err(kind_error("an identity column"));
            }
            let sql_type = SqlType::from_data_type(&column.data_type);
            session.with_binder(Vec::new(), |b| {
                let mut cx = ExprContext::plain("DEFAULT expressions");
                let typed = b.bind_expr(value, &Scope::default(), &mut cx)?;
                b.coerce_to(typed, &sql_type, "default")
            })?;
            table.columns[index].default = Some(super::table::default_text(
                sql,
                value,
                &table.columns[index].data_type,
            ));
        }
        AlterColumnOperation::DropDefault => {
            if column.identity.is_some() {
                return Err(kind_error("an identity column"));
            }
            table.columns[index].default = None;
        }
        AlterColumnOperation::SetDataType {
            data_type, using, ..
        } => return change_type(session, table, attnum, data_type, using.as_ref()),
        other => return Err(SqlError::unsupported(format!("ALTER COLUMN ... {other}"))),
    }
    store(session, table);
    Ok(())
}

/// ALTER COLUMN ... TYPE: every row gets the column's value converted (by the USING
/// expression, or by the assignment cast), then the catalog takes the new type.
fn change_type(
    session: &mut Session,
    mut table: TableDef,
    attnum: AttNum,
    data_type: &ast::DataType,
    using: Option<&ast::Expr>,
) -> SqlResult<()> {
    let index = usize::from(attnum) - 1;
    let name = table.columns[index].name.clone();
    let target = crate::bind::types::sql_type(data_type)?;
    let stored = target.to_data_type().ok_or_else(|| {
        SqlError::new(
            code::FEATURE_NOT_SUPPORTED,
            format!(
                "column \"{name}\" cannot be of type {}",
                target.display_name()
            ),
        )
    })?;
    if table.columns[index].data_type == stored && using.is_none() {
        return Ok(());
    }
    if table.columns[index].generated.is_some() {
        return Err(SqlError::unsupported(
            "changing the type of a generated column",
        ));
    }
    for c in table.live_columns() {
        if let Some(g) = &c.generated {
            let mentions = rename_identifier(g, &name, "\u{1}") != *g;
            if mentions {
                return Err(SqlError::new(
                    code::FEATURE_NOT_SUPPORTED,
                    "cannot alter type of a column used by a generated column",
                )
                .with_detail(format!(
                    "Column \"{name}\" is used by generated column \"{}\".",
                    c.name
                )));
            }
        }
    }
    let source = match using {
        Some(e) => e.clone(),
        None => ast::Expr::Identifier(ast::Ident::with_quote('"', name.clone())),
    };
    let typed = rows::bind_on_table(session, &table, &source, "transform expressions")?;
    let from = typed.1.clone();
    let converted = session.with_binder(Vec::new(), |b| b.coerce_to(typed, &target, "column"));
    let converted = converted.map_err(|_| {
        let message = if using.is_some() {
            format!(
                "result of USING clause for column \"{name}\" cannot be cast automatically to type {}",
                target.display_name()
            )
        } else {
            format!(
                "column \"{name}\" cannot be cast automatically to type {}",
                target.display_name()
            )
        };
        let error = SqlError::new(code::DATATYPE_MISMATCH, message);
        if using.is_none() && cast_allowed(&from, &target, CastContext::Explicit) {
            error.with_hint(format!(
                "You might need to specify \"USING {}::{}\".",
                quote_ident(&name),
                target.display_name()
            ))
        } else {
            error
        }
    })?;
    let before = view_shapes(session);
    // New rows are computed before the catalog changes (stored values are read with the
    // old type) and written after (they are checked against the new one).
    let mut new_rows = Vec::new();
    rows::scan(session, table.oid, |ctx, id, row| {
        let mut row = row.clone();
        row[index] = rows::eval_on(ctx, &converted, &row)?;
        new_rows.push((id, row));
        Ok(true)
    })?;
    table.columns[index].data_type = stored;
    table.columns[index].missing_value = Value::Null;
    if let Some(text) = table.columns[index].default.clone() {
        let e = crate::dml::parse_expr(&text)?;
        let bound = session.with_binder(Vec::new(), |b| {
            let mut cx = ExprContext::plain("DEFAULT expressions");
            let typed = b.bind_expr(&e, &Scope::default(), &mut cx)?;
            b.coerce_to(typed, &target, "default")
        });
        if bound.is_err() {
            return Err(SqlError::new(
                code::DATATYPE_MISMATCH,
                format!(
                    "default for column \"{name}\" cannot be cast automatically to type {}",
                    target.display_name()
                ),
            ));
        }
    }
    let oid = table.oid;
    store(session, table);
    if let Some((_, view)) = changed_views(session, &before).first() {
        return Err(SqlError::new(
            code::FEATURE_NOT_SUPPORTED,
            "cannot alter type of a column used by a view or rule",
        )
        .with_detail(format!(
            "rule _RETURN on view {view} depends on column \"{name}\""
        )));
    }
    let txn = session.transaction();
    for (id, row) in new_rows {
        txn.update(oid, id, row)?;
    }
    Ok(())
}
