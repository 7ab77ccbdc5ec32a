//! INSERT, UPDATE, DELETE (with RETURNING, ON CONFLICT, UPDATE ... FROM, DELETE ... USING),
//! COPY statements, and the row checks every write goes through: defaults, identity and
//! serial values, generated columns, NOT NULL, CHECK, foreign keys and unique keys with
//! PostgreSQL's messages.

use std::sync::Arc;

use sqlparser::ast::{self, SelectItem, Statement as Ast};
use storage::catalog::{Catalog, ConstraintKind, IdentityKind, Oid, ReferentialAction, TableDef};
use storage::types::{Row, Value};
use storage::StorageError;

use crate::bind::expr::ExprContext;
use crate::bind::{ident_name, object_name_parts, split_name, Binder, Scope, ScopeColumn};
use crate::engine::run::columns_of;
use crate::engine::{CopyFormat, CopyIn, CopyOptions, Outcome, Prepared, Session};
use crate::error::{code, SqlError, SqlResult};
use crate::exec::{eval, truthy, Env, ExecCtx};
use crate::pgtype::SqlType;
use crate::plan::{Expr, OutputColumn, Plan};

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
            .ok_or_else(|| SqlError::undefined_table(&rel)),
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

/// A bound INSERT.
struct BoundInsert {
    table: TableDef,
    /// The source rows' plan and, per source column, the attnum it fills.
    source: Plan,
    targets: Vec<usize>,
    /// Per column (by position): the default expression, if any.
    defaults: Vec<Option<Expr>>,
    generated: Vec<Option<Expr>>,
    checks: Vec<(String, Expr)>,
    conflict: Option<Conflict>,
    returning: Option<(Vec<Expr>, Vec<OutputColumn>)>,
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

fn is_default_keyword(e: &ast::Expr) -> bool {
    matches!(e, ast::Expr::Identifier(i) if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("default"))
}

/// Binds the default, generated and CHECK expressions of a table.
#[allow(clippy::type_complexity)]
fn table_expressions(
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

fn bind_insert(b: &mut Binder, ins: &ast::Insert) -> SqlResult<BoundInsert> {
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
    let (defaults, generated, checks) = table_expressions(b, &table)?;
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
    Ok(BoundInsert {
        table,
        source,
        targets,
        defaults,
        generated,
        checks,
        conflict,
        returning,
        overriding_system,
    })
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

struct BoundUpdate {
    table: TableDef,
    /// Rows: the table's columns, its row id, then other FROM columns.
    plan: Plan,
    sets: Vec<(usize, Expr)>,
    generated: Vec<Option<Expr>>,
    checks: Vec<(String, Expr)>,
    returning: Option<(Vec<Expr>, Vec<OutputColumn>)>,
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
    Ok((crate::optimize::optimize_all(plan, &b.index_catalog), scope))
}

fn bind_update(b: &mut Binder, upd: &ast::Update) -> SqlResult<BoundUpdate> {
    let TableFactorName { name, alias } = factor_name(&upd.table.relation)?;
    let table = resolve_table(b, &name)?;
    let alias = alias.unwrap_or_else(|| table.name.clone());
    let from: Vec<ast::TableWithJoins> = match &upd.from {
        Some(ast::UpdateTableFromKind::BeforeSet(f))
        | Some(ast::UpdateTableFromKind::AfterSet(f)) => f.clone(),
        None => Vec::new(),
    };
    let (plan, scope) = target_rows(b, &table, &alias, &from, upd.selection.as_ref())?;
    let sets = bind_assignments(b, &table, &upd.assignments, &scope)?;
    let (_, generated, checks) = table_expressions(b, &table)?;
    let returning = match &upd.returning {
        Some(items) => Some(bind_returning(b, items, &scope)?),
        None => None,
    };
    Ok(BoundUpdate {
        table,
        plan,
        sets,
        generated,
        checks,
        returning,
    })
}

struct BoundDelete {
    table: TableDef,
    plan: Plan,
    returning: Option<(Vec<Expr>, Vec<OutputColumn>)>,
}

fn bind_delete(b: &mut Binder, del: &ast::Delete) -> SqlResult<BoundDelete> {
    let items = match &del.from {
        ast::FromTable::WithFromKeyword(t) | ast::FromTable::WithoutKeyword(t) => t,
    };
    let first = items
        .first()
        .ok_or_else(|| SqlError::syntax("DELETE without a table"))?;
    let TableFactorName { name, alias } = factor_name(&first.relation)?;
    let table = resolve_table(b, &name)?;
    let alias = alias.unwrap_or_else(|| table.name.clone());
    let using = del.using.clone().unwrap_or_default();
    let (plan, scope) = target_rows(b, &table, &alias, &using, del.selection.as_ref())?;
    let returning = match &del.returning {
        Some(items) => Some(bind_returning(b, items, &scope)?),
        None => None,
    };
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

/// Completes a new row: defaults, generated columns, then checks it.
fn finish_row(
    table: &TableDef,
    mut row: Row,
    provided: &[bool],
    defaults: &[Option<Expr>],
    generated: &[Option<Expr>],
    checks: &[(String, Expr)],
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
    compute_generated(table, &mut row, generated, ctx)?;
    check_row(table, &row, checks, ctx)?;
    Ok(row)
}

fn compute_generated(
    table: &TableDef,
    row: &mut Row,
    generated: &[Option<Expr>],
    ctx: &ExecCtx,
) -> SqlResult<()> {
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

fn check_row(
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
fn check_references(table: &TableDef, row: &[Value], ctx: &ExecCtx) -> SqlResult<()> {
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
            let names: Vec<String> = columns
                .iter()
                .filter_map(|a| table.column(*a).map(|c| c.name.clone()))
                .collect();
            let values: Vec<String> = columns
                .iter()
                .zip(&key)
                .map(|(a, v)| {
                    let t = table
                        .column(*a)
                        .map(|c| SqlType::from_data_type(&c.data_type))
                        .unwrap_or(SqlType::Text);
                    crate::exec::output_value_for(ctx, v, &t)
                })
                .collect();
            return Err(SqlError::new(
                code::FOREIGN_KEY_VIOLATION,
                format!(
                    "insert or update on table \"{}\" violates foreign key constraint \"{}\"",
                    table.name, k.name
                ),
            )
            .with_detail(format!(
                "Key ({})=({}) is not present in table \"{}\".",
                names.join(", "),
                values.join(", "),
                referenced.name
            )));
        }
    }
    Ok(())
}

/// Whether a visible row of `table` has `key` in `columns` (through an index when one fits).
fn key_exists(ctx: &ExecCtx, table: &TableDef, columns: &[u16], key: &[Value]) -> SqlResult<bool> {
    Ok(!rows_with_key(ctx, table, columns, key, true)?.is_empty())
}

/// Visible rows of `table` whose `columns` equal `key`, with their ids.
fn rows_with_key(
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

fn unique_error(e: StorageError, table: &TableDef, row: &[Value], ctx: &ExecCtx) -> SqlError {
    if let StorageError::UniqueViolation { index, .. } = &e {
        if let Some(def) = ctx
            .catalog
            .indexes
            .values()
            .find(|i| &i.name == index && i.table == table.oid)
        {
            let names: Vec<String> = def
                .columns
                .iter()
                .filter_map(|a| table.column(*a).map(|c| c.name.clone()))
                .collect();
            let values: Vec<String> = def
                .columns
                .iter()
                .map(|a| {
                    let v = &row[usize::from(*a) - 1];
                    let t = table
                        .column(*a)
                        .map(|c| SqlType::from_data_type(&c.data_type))
                        .unwrap_or(SqlType::Text);
                    crate::exec::output_value_for(ctx, v, &t)
                })
                .collect();
            return SqlError::new(
                code::UNIQUE_VIOLATION,
                format!("duplicate key value violates unique constraint \"{index}\""),
            )
            .with_detail(format!(
                "Key ({})=({}) already exists.",
                names.join(", "),
                values.join(", ")
            ));
        }
    }
    e.into()
}

fn run_insert(session: &mut Session, bound: BoundInsert, params: &[Value]) -> SqlResult<Outcome> {
    let BoundInsert {
        table,
        source,
        targets,
        defaults,
        generated,
        checks,
        conflict,
        returning,
        overriding_system,
    } = bound;
    let _ = overriding_system;
    // Compute every new row first (the source may read the table itself).
    let rows = session.with_exec(params, |ctx| {
        let source_rows = crate::exec::run(&source, ctx, None)?;
        let mut rows = Vec::with_capacity(source_rows.len());
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
            rows.push(finish_row(
                &table, row, &provided, &defaults, &generated, &checks, ctx,
            )?);
        }
        for row in &rows {
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
                            let mut new = old.clone();
                            for (pos, e) in sets {
                                new[*pos] = eval(e, &env, ctx)?;
                            }
                            compute_generated(&table, &mut new, &generated, ctx)?;
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
        let txn = session.transaction();
        match txn.insert(table.oid, row.clone()) {
            Ok(id) => {
                touched.insert(id);
            }
            Err(e) => {
                return Err(session.with_exec(params, |ctx| Ok(unique_error(e, &table, &row, ctx)))?)
            }
        }
        count += 1;
        inserted.push(row);
    }
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

fn run_update(session: &mut Session, bound: BoundUpdate, params: &[Value]) -> SqlResult<Outcome> {
    let BoundUpdate {
        table,
        plan,
        sets,
        generated,
        checks,
        returning,
    } = bound;
    let width = table.columns.len();
    let changes = session.with_exec(params, |ctx| {
        let rows = crate::exec::run(&plan, ctx, None)?;
        let mut seen = std::collections::HashSet::new();
        let mut changes = Vec::new();
        for joined in rows {
            let Value::Int8(row_id) = joined[width] else {
                return Err(SqlError::internal("row id missing"));
            };
            if !seen.insert(row_id) {
                continue;
            }
            let env = Env {
                row: &joined,
                parent: None,
            };
            let mut new: Row = joined[..width].to_vec();
            for (pos, e) in &sets {
                new[*pos] = eval(e, &env, ctx)?;
            }
            compute_generated(&table, &mut new, &generated, ctx)?;
            check_row(&table, &new, &checks, ctx)?;
            check_references(&table, &new, ctx)?;
            let ret = match &returning {
                Some((exprs, _)) => {
                    let mut r = new.clone();
                    r.push(Value::Int8(row_id));
                    r.extend(joined[width + 1..].iter().cloned());
                    Some(eval_row(exprs, &r, ctx)?)
                }
                None => None,
            };
            changes.push((row_id as u64, joined[..width].to_vec(), new, ret));
        }
        Ok(changes)
    })?;
    // Rows that other tables reference must keep their key (NO ACTION / RESTRICT).
    let referencing = referencing_constraints(&session.catalog(), table.oid);
    let mut out = Vec::new();
    let count = changes.len();
    for (row_id, old, new, ret) in changes {
        if !referencing.is_empty() {
            session.with_exec(params, |ctx| {
                check_still_referenced(ctx, &table, &old, Some(&new), &referencing)
            })?;
        }
        let txn = session.transaction();
        if let Err(e) = txn.update(table.oid, row_id, new.clone()) {
            return Err(session.with_exec(params, |ctx| Ok(unique_error(e, &table, &new, ctx)))?);
        }
        if let Some(r) = ret {
            out.push(r);
        }
    }
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
            let names: Vec<String> = referenced
                .iter()
                .filter_map(|a| table.column(*a).map(|c| c.name.clone()))
                .collect();
            let values: Vec<String> = referenced
                .iter()
                .zip(&key)
                .map(|(a, v)| {
                    let ty = table
                        .column(*a)
                        .map(|c| SqlType::from_data_type(&c.data_type))
                        .unwrap_or(SqlType::Text);
                    crate::exec::output_value_for(ctx, v, &ty)
                })
                .collect();
            return Err(SqlError::new(
                code::FOREIGN_KEY_VIOLATION,
                format!(
                    "update or delete on table \"{}\" violates foreign key constraint \"{name}\" on table \"{}\"",
                    table.name, t.name
                ),
            )
            .with_detail(format!(
                "Key ({})=({}) is still referenced from table \"{}\".",
                names.join(", "),
                values.join(", "),
                t.name
            )));
        }
    }
    Ok(())
}

fn run_delete(session: &mut Session, bound: BoundDelete, params: &[Value]) -> SqlResult<Outcome> {
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
    let count = victims.len();
    let mut out = Vec::new();
    for (row_id, old, ret) in victims {
        delete_row(session, &table, row_id, &old, params)?;
        if let Some(r) = ret {
            out.push(r);
        }
    }
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

/// COPY rows into a table: the given columns, defaults for the others, every check.
pub fn copy_rows(
    session: &mut Session,
    table: u32,
    attnums: &[u16],
    rows: Vec<Row>,
) -> SqlResult<()> {
    let catalog = session.catalog();
    let def = catalog
        .tables
        .get(&table)
        .cloned()
        .ok_or_else(|| SqlError::internal("COPY target vanished"))?;
    let (defaults, generated, checks) =
        session.with_binder(Vec::new(), |b| table_expressions(b, &def))?;
    let positions: Vec<usize> = attnums.iter().map(|a| usize::from(*a) - 1).collect();
    let complete = session.with_exec(&[], |ctx| {
        let mut out = Vec::with_capacity(rows.len());
        for src in rows {
            let mut row: Row = vec![Value::Null; def.columns.len()];
            let mut provided = vec![false; def.columns.len()];
            for (v, &p) in src.into_iter().zip(positions.iter()) {
                row[p] = v;
                provided[p] = true;
            }
            let row = finish_row(&def, row, &provided, &defaults, &generated, &checks, ctx)?;
            check_references(&def, &row, ctx)?;
            out.push(row);
        }
        Ok(out)
    })?;
    for row in complete {
        if let Err(e) = session.transaction().insert(table, row.clone()) {
            return Err(session.with_exec(&[], |ctx| Ok(unique_error(e, &def, &row, ctx)))?);
        }
    }
    Ok(())
}

/// `COPY table [(columns)] FROM STDIN | TO STDOUT [WITH (...)]`, `COPY (query) TO STDOUT`.
pub fn copy_statement(session: &mut Session, ast: &Ast) -> SqlResult<Outcome> {
    let Ast::Copy {
        source,
        to,
        target,
        options,
        legacy_options,
        ..
    } = ast
    else {
        return Err(SqlError::internal("not a COPY"));
    };
    let mut opts = CopyOptions::defaults(CopyFormat::Text);
    let mut explicit_delimiter = None;
    let mut explicit_null = None;
    for o in options {
        match o {
            ast::CopyOption::Format(f) => {
                opts.format = match f.value.to_lowercase().as_str() {
                    "text" => CopyFormat::Text,
                    "csv" => CopyFormat::Csv,
                    "binary" => CopyFormat::Binary,
                    other => {
                        return Err(SqlError::new(
                            code::INVALID_PARAMETER_VALUE,
                            format!("COPY format \"{other}\" not recognized"),
                        ))
                    }
                }
            }
            ast::CopyOption::Delimiter(c) => explicit_delimiter = Some(*c),
            ast::CopyOption::Null(s) => explicit_null = Some(s.clone()),
            ast::CopyOption::Header(h) => opts.header = *h,
            ast::CopyOption::Quote(c) => opts.quote = *c,
            ast::CopyOption::Escape(c) => opts.escape = *c,
            other => return Err(SqlError::unsupported(format!("COPY option {other}"))),
        }
    }
    for o in legacy_options {
        match o {
            ast::CopyLegacyOption::Binary => opts.format = CopyFormat::Binary,
            ast::CopyLegacyOption::Csv(csv) => {
                opts.format = CopyFormat::Csv;
                for c in csv {
                    match c {
                        ast::CopyLegacyCsvOption::Header => opts.header = true,
                        ast::CopyLegacyCsvOption::Quote(q) => opts.quote = *q,
                        ast::CopyLegacyCsvOption::Escape(e) => opts.escape = *e,
                        _ => return Err(SqlError::unsupported(format!("COPY option {c}"))),
                    }
                }
            }
            ast::CopyLegacyOption::Delimiter(c) => explicit_delimiter = Some(*c),
            ast::CopyLegacyOption::Null(s) => explicit_null = Some(s.clone()),
            other => return Err(SqlError::unsupported(format!("COPY option {other}"))),
        }
    }
    let defaults = CopyOptions::defaults(opts.format);
    if explicit_delimiter.is_none() {
        opts.delimiter = defaults.delimiter;
    }
    if explicit_null.is_none() {
        opts.null = defaults.null;
    }
    if let Some(d) = explicit_delimiter {
        opts.delimiter = d;
    }
    if let Some(n) = explicit_null {
        opts.null = n;
    }
    if opts.format != CopyFormat::Csv && opts.header && opts.format == CopyFormat::Binary {
        return Err(SqlError::new(
            code::FEATURE_NOT_SUPPORTED,
            "cannot specify HEADER in BINARY mode",
        ));
    }
    match (source, to, target) {
        (
            ast::CopySource::Table {
                table_name,
                columns,
            },
            false,
            ast::CopyTarget::Stdin,
        ) => {
            let (def, attnums) = session.with_binder(Vec::new(), |b| {
                let def = resolve_table(b, table_name)?;
                let attnums = copy_columns(&def, columns)?;
                Ok((def, attnums))
            })?;
            let cols: Vec<crate::engine::Column> = attnums
                .iter()
                .map(|a| {
                    let c = def.column(*a).cloned().unwrap_or_default();
                    crate::engine::Column {
                        name: c.name.clone(),
                        table_oid: def.oid,
                        column_number: *a as i16,
                        sql_type: SqlType::from_data_type(&c.data_type),
                    }
                })
                .collect();
            session.transaction();
            Ok(Outcome::CopyIn(CopyIn {
                columns: cols,
                options: opts,
                target: crate::engine::copy::CopyTarget {
                    table: def.oid,
                    attnums,
                    rows: 0,
                },
            }))
        }
        (
            ast::CopySource::Table {
                table_name,
                columns,
            },
            true,
            ast::CopyTarget::Stdout,
        ) => {
            let names: Vec<String> = columns.iter().map(ident_name).collect();
            let list = if names.is_empty() {
                "*".to_string()
            } else {
                names
                    .iter()
                    .map(|n| format!("\"{}\"", n.replace('"', "\"\"")))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let q = crate::parse::parse_one(&format!("SELECT {list} FROM {table_name}"))?;
            copy_out_query(session, &q, opts)
        }
        (ast::CopySource::Query(q), true, ast::CopyTarget::Stdout) => {
            copy_out_query(session, &Ast::Query(q.clone()), opts)
        }
        (_, _, ast::CopyTarget::File { .. }) | (_, _, ast::CopyTarget::Program { .. }) => {
            Err(SqlError::new(
                code::INSUFFICIENT_PRIVILEGE,
                "COPY to or from a file or program is not allowed",
            )
            .with_hint("Use COPY ... FROM STDIN / TO STDOUT (psql's \\copy)."))
        }
        _ => Err(SqlError::unsupported("this form of COPY")),
    }
}

fn copy_columns(def: &TableDef, columns: &[ast::Ident]) -> SqlResult<Vec<u16>> {
    if columns.is_empty() {
        return Ok(def
            .columns
            .iter()
            .filter(|c| !c.dropped && c.generated.is_none())
            .map(|c| c.attnum)
            .collect());
    }
    columns
        .iter()
        .map(|c| {
            let name = ident_name(c);
            def.column_by_name(&name).map(|c| c.attnum).ok_or_else(|| {
                SqlError::new(
                    code::UNDEFINED_COLUMN,
                    format!(
                        "column \"{name}\" of relation \"{}\" does not exist",
                        def.name
                    ),
                )
            })
        })
        .collect()
}

fn copy_out_query(session: &mut Session, q: &Ast, options: CopyOptions) -> SqlResult<Outcome> {
    let Ast::Query(q) = q else {
        return Err(SqlError::internal("COPY query expected"));
    };
    let (plan, columns) = session.plan_query(q, &[])?;
    let rows = session.with_exec(&[], |ctx| crate::exec::run(&plan, ctx, None))?;
    Ok(Outcome::CopyOut {
        columns: columns_of(&columns),
        rows,
        options,
    })
}
