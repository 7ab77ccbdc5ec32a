//! INSERT, UPDATE, DELETE (with RETURNING, ON CONFLICT, UPDATE ... FROM, DELETE ... USING),
//! COPY statements, and the row checks every write goes through: defaults, identity and
//! serial values, generated columns, NOT NULL, CHECK, foreign keys and unique keys with
//! PostgreSQL's messages.
//!
//! This module holds the entry points ([`describe`], [`execute`]) and the binding helpers
//! the statements share (target table, RETURNING, SET lists, assignment casts); INSERT is in
//! `insert`, UPDATE / DELETE / TRUNCATE in `modify`, the row checks in `checks`, COPY in
//! `copy`.

mod checks;
mod copy;
mod insert;
mod modify;
mod triggered;

use std::sync::Arc;

use sqlparser::ast::{self, SelectItem, Statement as Ast};
use storage::catalog::{Catalog, IdentityKind, TableDef};
use storage::types::{Row, Value};

use crate::bind::expr::ExprContext;
use crate::bind::{ident_name, object_name_parts, split_name, Binder, Scope, ScopeColumn};
use crate::engine::run::columns_of;
use crate::engine::{Outcome, Prepared, Session};
use crate::error::{code, SqlError, SqlResult};
use crate::exec::{eval, Env, ExecCtx};
use crate::pgtype::SqlType;
use crate::plan::{Expr, OutputColumn};

pub use checks::parse_expr;
pub use copy::{copy_rows, copy_statement, CopyPlan, CopyRowStage, CopyRowsError};
use insert::{bind_insert, run_insert};
pub use modify::truncate;
use modify::{bind_delete, bind_update, run_delete, run_update};

/// A table's columns as a scope (qualified by `alias`).
pub fn table_scope(catalog: &Catalog, table: &TableDef, alias: &str) -> Scope {
    let schema = catalog.schemas.get(&table.schema).map(|s| s.name.clone());
    Scope {
        columns: table
            .columns
            .iter()
            .map(|c| ScopeColumn {
                qualifier: Some(alias.to_string()),
                schema: schema.clone(),
                name: c.name.clone(),
                sql_type: SqlType::from_data_type(&c.data_type),
                table_oid: table.oid,
                attnum: c.attnum as i16,
                hidden: c.dropped,
                qualified_only: false,
            })
            .collect(),
    }
}

fn resolve_table(b: &Binder, name: &ast::ObjectName) -> SqlResult<TableDef> {
    let (schema, rel) = split_name(name)?;
    match crate::catalog_access::resolve_relation(
        &b.catalog,
        schema.as_deref(),
        &rel,
        &b.search_path,
    )? {
        crate::catalog_access::Relation::Table(oid) => b
            .catalog
            .tables
            .get(&oid)
            .cloned()
            .ok_or_else(|| SqlError::undefined_table(&rel))
            .and_then(|t| {
                crate::governance::masking::check_write(&b.catalog, b.user, &t)?;
                Ok(t)
            }),
        crate::catalog_access::Relation::View(_) => Err(SqlError::new(
            code::FEATURE_NOT_SUPPORTED,
            format!("cannot change view \"{rel}\""),
        )
        .with_detail("Views that are not automatically updatable are not supported.")),
        _ => Err(SqlError::new(
            code::WRONG_OBJECT_TYPE,
            format!("cannot change relation \"{rel}\""),
        )),
    }
}

/// RETURNING items bound over `scope`.
fn bind_returning(
    b: &mut Binder,
    items: &[SelectItem],
    scope: &Scope,
) -> SqlResult<(Vec<Expr>, Vec<OutputColumn>)> {
    let mut exprs = Vec::new();
    let mut columns = Vec::new();
    for item in items {
        match item {
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => {
                for (i, c) in scope.columns.iter().enumerate() {
                    if c.hidden || c.qualified_only {
                        continue;
                    }
                    b.note_column(c);
                    exprs.push(Expr::Column(i));
                    columns.push(c.output());
                }
            }
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                let mut cx = ExprContext::plain("RETURNING");
                let (x, t) = b.bind_expr(e, scope, &mut cx)?;
                let name = match item {
                    SelectItem::ExprWithAlias { alias, .. } => ident_name(alias),
                    _ => match e {
                        ast::Expr::Identifier(i) => ident_name(i),
                        ast::Expr::CompoundIdentifier(p) => {
                            p.last().map(ident_name).unwrap_or_default()
                        }
                        ast::Expr::Function(f) => object_name_parts(&f.name)
                            .last()
                            .cloned()
                            .unwrap_or_else(|| "?column?".into()),
                        _ => "?column?".into(),
                    },
                };
                let (table_oid, attnum) = match &x {
                    Expr::Column(i) => (scope.columns[*i].table_oid, scope.columns[*i].attnum),
                    _ => (0, 0),
                };
                let t = if t == SqlType::Unknown {
                    SqlType::Text
                } else {
                    t
                };
                exprs.push(x);
                columns.push(OutputColumn {
                    name,
                    sql_type: t,
                    table_oid,
                    attnum,
                });
            }
            _ => return Err(SqlError::unsupported("this RETURNING item")),
        }
    }
    Ok((exprs, columns))
}

/// Result columns of a DML statement (its RETURNING list), binding everything so that
/// parameter types are inferred.
pub fn describe(b: &mut Binder, ast: &Ast) -> SqlResult<Option<Vec<OutputColumn>>> {
    match ast {
        Ast::Insert(ins) => Ok(bind_insert(b, ins)?.returning.map(|r| r.1)),
        Ast::Update(upd) => Ok(bind_update(b, upd)?.returning.map(|r| r.1)),
        Ast::Delete(del) => Ok(bind_delete(b, del)?.returning.map(|r| r.1)),
        _ => Ok(None),
    }
}

fn is_default_keyword(e: &ast::Expr) -> bool {
    matches!(e, ast::Expr::Identifier(i) if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("default"))
}

/// Assignment of a value to a column: PostgreSQL's assignment cast, with its error.
fn assign(
    b: &mut Binder,
    (e, t): (Expr, SqlType),
    target: &SqlType,
    column: &str,
) -> SqlResult<Expr> {
    if t == SqlType::Unknown
        || t.same_type(target)
        || crate::func::cast_allowed(&t, target, crate::func::CastContext::Assignment)
    {
        return b.coerce(e, &t, target);
    }
    Err(SqlError::new(
        code::DATATYPE_MISMATCH,
        format!(
            "column \"{column}\" is of type {} but expression is of type {}",
            target.display_name(),
            t.display_name()
        ),
    )
    .with_hint("You will need to rewrite or cast the expression."))
}

/// `SET col = expr, (a, b) = (x, y)` bound over `scope`.
fn bind_assignments(
    b: &mut Binder,
    table: &TableDef,
    assignments: &[ast::Assignment],
    scope: &Scope,
) -> SqlResult<Vec<(usize, Expr)>> {
    let mut sets: Vec<(usize, Expr)> = Vec::new();
    for a in assignments {
        let (names, values): (Vec<&ast::ObjectName>, Vec<&ast::Expr>) = match &a.target {
            ast::AssignmentTarget::ColumnName(n) => (vec![n], vec![&a.value]),
            ast::AssignmentTarget::Tuple(ns) => {
                let values: Vec<&ast::Expr> = match &a.value {
                    ast::Expr::Tuple(items) => items.iter().collect(),
                    _ => {
                        return Err(SqlError::unsupported(
                            "multiple-column assignment from a subquery",
                        ))
                    }
                };
                if values.len() != ns.len() {
                    return Err(SqlError::syntax(
                        "number of columns does not match number of values",
                    ));
                }
                (ns.iter().collect(), values)
            }
        };
        for (n, v) in names.into_iter().zip(values) {
            let parts = object_name_parts(n);
            let cname = parts.last().cloned().unwrap_or_default();
            let pos = table
                .columns
                .iter()
                .position(|c| !c.dropped && c.name == cname)
                .ok_or_else(|| {
                    SqlError::new(
                        code::UNDEFINED_COLUMN,
                        format!(
                            "column \"{cname}\" of relation \"{}\" does not exist",
                            table.name
                        ),
                    )
                })?;
            if sets.iter().any(|(p, _)| *p == pos) {
                return Err(SqlError::new(
                    code::DUPLICATE_COLUMN,
                    format!("multiple assignments to same column \"{cname}\""),
                ));
            }
            let column = &table.columns[pos];
            let target = SqlType::from_data_type(&column.data_type);
            if is_default_keyword(v) {
                let expr = match &column.default {
                    Some(d) => {
                        let e = parse_expr(d)?;
                        let mut cx = ExprContext::plain("DEFAULT expressions");
                        let typed = b.bind_expr(&e, &Scope::default(), &mut cx)?;
                        b.coerce_to(typed, &target, "default")?
                    }
                    None => Expr::Const(Value::Null),
                };
                sets.push((pos, expr));
                continue;
            }
            if column.generated.is_some() {
                return Err(SqlError::new(
                    code::GENERATED_ALWAYS,
                    format!("column \"{cname}\" can only be updated to DEFAULT"),
                )
                .with_detail(format!("Column \"{cname}\" is a generated column.")));
            }
            if column.identity == Some(IdentityKind::Always) {
                return Err(SqlError::new(
                    code::GENERATED_ALWAYS,
                    format!("column \"{cname}\" can only be updated to DEFAULT"),
                )
                .with_detail(format!(
                    "Column \"{cname}\" is an identity column defined as GENERATED ALWAYS."
                )));
            }
            let mut cx = ExprContext::plain("UPDATE");
            let typed = b.bind_expr(v, scope, &mut cx)?;
            sets.push((pos, assign(b, typed, &target, &cname)?));
        }
    }
    Ok(sets)
}

/// Executes INSERT / UPDATE / DELETE.
pub fn execute(
    session: &mut Session,
    ast: &Arc<Ast>,
    prepared: &Prepared,
    params: &[Value],
) -> SqlResult<Outcome> {
    let types: Vec<Option<SqlType>> = prepared.param_types().iter().cloned().map(Some).collect();
    match ast.as_ref() {
        Ast::Insert(ins) => {
            let bound = session.with_binder(types, |b| bind_insert(b, ins))?;
            run_insert(session, bound, params)
        }
        Ast::Update(upd) => {
            let bound = session.with_binder(types, |b| bind_update(b, upd))?;
            run_update(session, bound, params)
        }
        Ast::Delete(del) => {
            let bound = session.with_binder(types, |b| bind_delete(b, del))?;
            run_delete(session, bound, params)
        }
        _ => Err(SqlError::internal("not a DML statement")),
    }
}

fn outcome(
    tag: String,
    returning: Option<(Vec<Expr>, Vec<OutputColumn>)>,
    rows: Vec<Row>,
) -> Outcome {
    match returning {
        Some((_, columns)) => Outcome::Rows {
            columns: columns_of(&columns),
            rows,
            tag,
        },
        None => Outcome::Command { tag },
    }
}

fn eval_row(exprs: &[Expr], row: &[Value], ctx: &ExecCtx) -> SqlResult<Row> {
    let env = Env { row, parent: None };
    exprs.iter().map(|e| eval(e, &env, ctx)).collect()
}
