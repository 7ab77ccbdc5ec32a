//! Calls of user functions in `LANGUAGE sql`, inlined into the calling query at bind time.
//!
//! The body's last statement is a query; its parameters (`$1`, or the argument names) read
//! the call's arguments. Two shapes:
//!
//! * **Expression inlining** — a body `SELECT <expr>` (no FROM, no clauses) becomes `<expr>`
//!   with each parameter replaced by the argument expression, as PostgreSQL's own inliner
//!   does. STRICT wraps it in `CASE WHEN arg IS NULL ... THEN NULL`. Used when no argument
//!   that is volatile would be evaluated more than once and the body has no subquery reading
//!   the parameters.
//! * **Subquery** — anything else becomes a correlated scalar subquery
//!   `Limit 1 (Project (Lateral (args, body)))`: a one-row plan evaluates the arguments once,
//!   the body is bound with that row as its enclosing scope, STRICT filters the argument row
//!   (no row: NULL), and the first row of the body is the result, as PostgreSQL returns it.
//!   The argument expressions move one query level in (their column references become outer
//!   references), which is refused for arguments holding aggregates, window functions or
//!   correlated subqueries (0A000).
//!
//! Set-returning functions (RETURNS SETOF / TABLE) are read in FROM through
//! [`table_function`]. A function calling itself (directly or not) is refused: inlining it
//! would not end.

use std::cell::RefCell;
use std::sync::Arc;

use sqlparser::ast;
use sqlparser::tokenizer::Token;
use storage::catalog::{Catalog, FunctionDef, Oid};
use storage::types::Value;

use super::functions::{signature, Returns, Signature};
use super::sqltext::rewrite_tokens;
use crate::bind::expr::{ExprContext, Typed};
use crate::bind::{Binder, Scope, ScopeColumn};
use crate::error::{code, SqlError, SqlResult};
use crate::func::{cast_allowed, CastContext};
use crate::pgtype::SqlType;
use crate::plan::{
    Expr, JoinKind, OutputColumn, Plan, SubqueryKind, WindowCall, WindowFn, WindowFunc,
};

thread_local! {
    /// Functions being inlined on this thread, innermost last (recursion guard).
    static INLINING: RefCell<Vec<Oid>> = const { RefCell::new(Vec::new()) };
}

/// Whether some user function has this name (callers check before binding arguments).
pub fn exists(catalog: &Catalog, name: &str) -> bool {
    catalog.functions.values().any(|f| f.name == name)
}

/// A call of a user function named `name`, inlined; `None` when no user function of that
/// name takes these arguments (the built-in functions get their turn).
pub fn inline_call(binder: &mut Binder, name: &str, args: &[Typed]) -> SqlResult<Option<Typed>> {
    inline_call_in(binder, None, name, args)
}

/// [`inline_call`] for a schema-qualified name (`schema.name(...)`); `schema` None searches
/// the search path.
pub fn inline_call_in(
    binder: &mut Binder,
    schema: Option<&str>,
    name: &str,
    args: &[Typed],
) -> SqlResult<Option<Typed>> {
    let Some(f) = resolve(binder, schema, name, args)? else {
        return Ok(None);
    };
    let sig = signature(&f)?;
    if f.language == "plpgsql" {
        let args = coerce_args(binder, &sig, args)?;
        return crate::plpgsql::bind_call(binder, &f, args).map(Some);
    }
    let Returns::Scalar(result_type) = sig.returns.clone() else {
        if let Returns::Void = sig.returns {
            return Err(SqlError::unsupported(format!(
                "calling function {name}() that returns void"
            )));
        }
        return Err(SqlError::new(
            code::FEATURE_NOT_SUPPORTED,
            format!("set-returning function {name}() is only supported in FROM"),
        )
        .with_hint(format!("Write SELECT * FROM {name}(...).")));
    };
    let args = coerce_args(binder, &sig, args)?;
    let definer = binder.privileges.definer;
    let caller = binder.privileges.call_function(&f);
    let result = guarded(f.oid, &f.name, || {
        if let Some(inlined) = inline_expression(binder, &f, &sig, &args, &result_type)? {
            return Ok(Some((inlined, result_type.clone())));
        }
        let body = bind_body(binder, &f, &sig)?;
        let expr = subquery_call(binder, &f, &sig, &args, body, &result_type)?;
        Ok(Some((expr, result_type.clone())))
    });
    binder.privileges.view_owner = caller;
    binder.privileges.definer = definer;
    result
}

/// A user function in FROM: its rows as a plan, their columns (named as the alias and its
/// column list say; `ordinality` appends the `ordinality` bigint), and the name that
/// qualifies them. `args` are bound where the FROM item is (no current row; lateral
/// references as outer level 1). `None` when no user function of that name fits.
pub fn table_function(
    binder: &mut Binder,
    schema: Option<&str>,
    name: &str,
    args: &[Typed],
    alias: Option<&ast::TableAlias>,
    ordinality: bool,
) -> SqlResult<Option<(Plan, Vec<OutputColumn>, String)>> {
    let Some(f) = resolve(binder, schema, name, args)? else {
        return Ok(None);
    };
    let sig = signature(&f)?;
    let args = coerce_args(binder, &sig, args)?;
    let qualifier = alias.map_or_else(|| name.to_string(), |a| crate::bind::ident_name(&a.name));
    if f.language == "plpgsql" {
        // A PL/pgSQL function in FROM: one row holding its result.
        let (call, t) = crate::plpgsql::bind_call(binder, &f, args)?;
        let plan = Plan::Project {
            input: Box::new(unit()),
            exprs: vec![call],
        };
        return Ok(Some((
            plan,
            vec![OutputColumn::computed(qualifier.clone(), t)],
            qualifier,
        )));
    }
    let definer = binder.privileges.definer;
    let caller = binder.privileges.call_function(&f);
    let bound = guarded(
        f.oid,
        &f.name,
        || -> SqlResult<(Plan, Vec<OutputColumn>)> {
            match &sig.returns {
                Returns::Scalar(t) => {
                    let body = bind_body(binder, &f, &sig)?;
                    let call = subquery_call(binder, &f, &sig, &args, body, t)?;
                    Ok((
                        Plan::Project {
                            input: Box::new(unit()),
                            exprs: vec![call],
                        },
                        vec![OutputColumn::computed(qualifier.clone(), t.clone())],
                    ))
                }
                Returns::Void => Err(SqlError::unsupported(format!(
                    "function {name}() returning void in FROM"
                ))),
                Returns::SetOf(t) => {
                    let columns = vec![(qualifier.clone(), t.clone())];
                    rows_plan(binder, &f, &sig, &args, &columns)
                }
                Returns::Table(columns) => rows_plan(binder, &f, &sig, &args, columns),
            }
        },
    );
    binder.privileges.view_owner = caller;
    binder.privileges.definer = definer;
    let (plan, mut columns) = bound?;
    let plan = if ordinality {
        columns.push(OutputColumn::computed("ordinality", SqlType::Int8));
        Plan::Window {
            input: Box::new(plan),
            calls: vec![WindowCall {
                func: WindowFunc::Builtin(WindowFn::RowNumber),
                args: Vec::new(),
                partition_by: Vec::new(),
                order_by: Vec::new(),
                frame: None,
                filter: None,
            }],
        }
    } else {
        plan
    };
    let renames = alias.map_or(&[][..], |a| a.columns.as_slice());
    if renames.len() > columns.len() {
        return Err(SqlError::new(
            code::INVALID_COLUMN_REFERENCE,
            format!(
                "table \"{qualifier}\" has {} columns available but {} columns specified",
                columns.len(),
                renames.len()
            ),
        ));
    }
    for (c, n) in columns.iter_mut().zip(renames) {
        c.name = crate::bind::ident_name(&n.name);
    }
    Ok(Some((plan, columns, qualifier)))
}

fn guarded<T>(oid: Oid, name: &str, f: impl FnOnce() -> SqlResult<T>) -> SqlResult<T> {
    let recursive = INLINING.with(|s| s.borrow().contains(&oid));
    if recursive {
        return Err(SqlError::new(
            code::FEATURE_NOT_SUPPORTED,
            format!("recursive SQL function \"{name}\" is not supported"),
        ));
    }
    INLINING.with(|s| s.borrow_mut().push(oid));
    let result = f();
    INLINING.with(|s| s.borrow_mut().pop());
    result
}

/// The user function `name` these arguments call: same number of arguments, each argument
/// of the parameter's type or implicitly castable to it; the fewest casts win.
fn resolve(
    binder: &Binder,
    schema: Option<&str>,
    name: &str,
    args: &[Typed],
) -> SqlResult<Option<FunctionDef>> {
    let path_schemas: Vec<Oid> = match schema {
        Some(s) => binder
            .catalog
            .schema_by_name(s)
            .map(|s| s.oid)
            .into_iter()
            .collect(),
        None => binder
            .search_path
            .iter()
            .filter_map(|s| binder.catalog.schema_by_name(s).map(|s| s.oid))
            .collect(),
    };
    let mut best: Vec<(usize, usize, &FunctionDef)> = Vec::new();
    for f in binder.catalog.functions.values() {
        if f.name != name || f.arguments.len() != args.len() {
            continue;
        }
        let Some(schema_rank) = path_schemas.iter().position(|s| *s == f.schema) else {
            continue;
        };
        let mut casts = 0;
        let mut fits = true;
        for ((_, t), (_, declared)) in args.iter().zip(&f.arguments) {
            let declared = SqlType::from_data_type(declared);
            // An untyped literal fits a string parameter best, as PostgreSQL prefers the
            // string category for unknown.
            if t.same_type(&declared) || (*t == SqlType::Unknown && declared.category() == 'S') {
                continue;
            }
            if *t == SqlType::Unknown || cast_allowed(t, &declared, CastContext::Implicit) {
                casts += 1;
            } else {
                fits = false;
                break;
            }
        }
        if fits {
            best.push((schema_rank, casts, f));
        }
    }
    best.sort_by_key(|(rank, casts, _)| (*rank, *casts));
    match best.as_slice() {
        [] => Ok(None),
        [(r0, c0, _), (r1, c1, _), ..] if r0 == r1 && c0 == c1 => {
            let types: Vec<String> = args.iter().map(|(_, t)| t.display_name()).collect();
            Err(SqlError::new(
                code::AMBIGUOUS_FUNCTION,
                format!("function {name}({}) is not unique", types.join(", ")),
            )
            .with_hint("Could not choose a best candidate function. You might need to add explicit type casts."))
        }
        [(_, _, f), ..] => Ok(Some((*f).clone())),
    }
}

fn coerce_args(binder: &mut Binder, sig: &Signature, args: &[Typed]) -> SqlResult<Vec<Expr>> {
    let mut out = Vec::new();
    for ((e, t), (_, declared)) in args.iter().zip(&sig.args) {
        out.push(binder.coerce(e.clone(), t, declared)?);
    }
    Ok(out)
}

/// The scope the body sees: `$1..$n`, then the named parameters (qualified by the function's
/// name too); and for each scope column, the argument it reads.
fn parameter_scope(f: &FunctionDef, sig: &Signature) -> (Scope, Vec<usize>) {
    let column = |qualifier: Option<String>, name: String, t: &SqlType| ScopeColumn {
        qualifier,
        schema: None,
        name,
        sql_type: t.clone(),
        table_oid: 0,
        attnum: 0,
        hidden: false,
        qualified_only: false,
    };
    let mut columns = Vec::new();
    let mut positions = Vec::new();
    for (i, (_, t)) in sig.args.iter().enumerate() {
        columns.push(column(None, format!("${}", i + 1), t));
        positions.push(i);
    }
    for (i, (n, t)) in sig.args.iter().enumerate() {
        if !n.is_empty() {
            columns.push(column(Some(f.name.clone()), n.clone(), t));
            positions.push(i);
        }
    }
    (Scope { columns }, positions)
}

/// The body's result query, with `$n` turned into the names of the parameter scope.
pub fn body_query(body: &str, nargs: usize) -> SqlResult<ast::Query> {
    let text = rewrite_tokens(body, |tokens, i| match &tokens[i].token {
        Token::Placeholder(p) => {
            let n: usize = p.trim_start_matches('$').parse().unwrap_or(0);
            if n == 0 || n > nargs {
                return Err(SqlError::new(
                    code::UNDEFINED_PARAMETER,
                    format!("there is no parameter {p}"),
                ));
            }
            Ok(Some(format!("\"{p}\"")))
        }
        _ => Ok(None),
    })?;
    let statements = crate::parse::parse_statements(&text)?;
    let mut last = None;
    for s in statements {
        match s.ast.as_ref() {
            ast::Statement::Query(q) => last = Some(q.as_ref().clone()),
            other => {
                return Err(SqlError::unsupported(format!(
                    "{} in a SQL function body (only queries are)",
                    other
                        .to_string()
                        .split_whitespace()
                        .next()
                        .unwrap_or("statement")
                )))
            }
        }
    }
    last.ok_or_else(|| {
        SqlError::new(
            code::INVALID_FUNCTION_DEFINITION,
            "SQL function body has no statement",
        )
    })
}

/// `SELECT <expr>` and nothing else: the expression.
fn single_expression(q: &ast::Query) -> Option<&ast::Expr> {
    let ast::SetExpr::Select(s) = q.body.as_ref() else {
        return None;
    };
    let plain_query = q.with.is_none()
        && q.order_by.is_none()
        && q.limit_clause.is_none()
        && q.fetch.is_none()
        && q.locks.is_empty();
    let plain_select = s.from.is_empty()
        && s.selection.is_none()
        && s.having.is_none()
        && s.distinct.is_none()
        && s.into.is_none()
        && s.qualify.is_none()
        && s.named_window.is_empty()
        && matches!(&s.group_by, ast::GroupByExpr::Expressions(g, m) if g.is_empty() && m.is_empty());
    if !plain_query || !plain_select {
        return None;
    }
    match s.projection.as_slice() {
        [ast::SelectItem::UnnamedExpr(e)] | [ast::SelectItem::ExprWithAlias { expr: e, .. }] => {
            Some(e)
        }
        _ => None,
    }
}

/// Runs `f` with the binder seeing only `outer` as enclosing scopes and no CTEs.
fn in_body_context<T>(
    binder: &mut Binder,
    outer: Vec<Scope>,
    f: impl FnOnce(&mut Binder) -> SqlResult<T>,
) -> SqlResult<T> {
    let saved_outer = std::mem::replace(&mut binder.outer, outer);
    let saved_ctes = std::mem::take(&mut binder.ctes);
    let saved_refs = binder.outer_refs;
    let result = f(binder);
    binder.outer = saved_outer;
    binder.ctes = saved_ctes;
    binder.outer_refs = saved_refs;
    result
}

/// Whether evaluating `e` twice may differ or have effects (volatile functions,
/// sequences, subqueries).
fn volatile(e: &Expr) -> bool {
    super::alter::is_volatile(e)
}

/// Expression inlining (see the module doc); `None` when the body does not allow it.
fn inline_expression(
    binder: &mut Binder,
    f: &FunctionDef,
    sig: &Signature,
    args: &[Expr],
    result_type: &SqlType,
) -> SqlResult<Option<Expr>> {
    let q = body_query(&f.body, sig.args.len())?;
    let Some(e) = single_expression(&q) else {
        return Ok(None);
    };
    let (scope, positions) = parameter_scope(f, sig);
    let bound = in_body_context(binder, Vec::new(), |b| {
        let mut cx = ExprContext::plain("SQL function bodies");
        b.bind_expr(e, &scope, &mut cx)
    });
    let Ok((body, body_type)) = bound else {
        return Ok(None);
    };
    let mut reads_parameters_below = false;
    let mut uses = vec![0usize; args.len()];
    body.walk(&mut |x| match x {
        Expr::Column(k) => {
            if let Some(p) = positions.get(*k) {
                uses[*p] += 1;
            }
        }
        Expr::Subquery {
            correlated: true, ..
        }
        | Expr::InSubquery {
            correlated: true, ..
        } => {
            reads_parameters_below = true;
        }
        _ => {}
    });
    let strict = sig.strict;
    let repeated = |i: usize| uses[i] + usize::from(strict) > 1;
    if reads_parameters_below || (0..args.len()).any(|i| repeated(i) && volatile(&args[i])) {
        return Ok(None);
    }
    let body = body.transform(&mut |x| match x {
        Expr::Column(k) => positions
            .get(k)
            .map(|p| args[*p].clone())
            .unwrap_or(Expr::Const(Value::Null)),
        other => other,
    });
    check_result(sig, &[OutputColumn::computed("", body_type.clone())])?;
    let body = binder.coerce_to((body, body_type), result_type, "return value")?;
    if !strict {
        return Ok(Some(body));
    }
    let tests: Vec<Expr> = args
        .iter()
        .filter(|a| !matches!(a, Expr::Const(v) if !v.is_null()))
        .map(|a| Expr::IsNull(Box::new(a.clone())))
        .collect();
    if tests.is_empty() {
        return Ok(Some(body));
    }
    Ok(Some(Expr::Case {
        whens: vec![(Expr::Or(tests), Expr::Const(Value::Null))],
        otherwise: Box::new(body),
    }))
}

/// The body bound as a query whose enclosing scope is the parameter row.
fn bind_body(
    binder: &mut Binder,
    f: &FunctionDef,
    sig: &Signature,
) -> SqlResult<(Plan, Vec<OutputColumn>)> {
    let q = body_query(&f.body, sig.args.len())?;
    let (scope, _) = parameter_scope(f, sig);
    in_body_context(binder, vec![scope], |b| b.bind_query(&q))
}

/// Binds a function's body as its calls will (with NULL arguments of the declared types)
/// and checks its result against the declaration: CREATE FUNCTION's check of the body.
pub fn validate(binder: &mut Binder, f: &FunctionDef) -> SqlResult<()> {
    let sig = signature(f)?;
    let args: Vec<Expr> = sig.args.iter().map(|_| Expr::Const(Value::Null)).collect();
    guarded(f.oid, &f.name, || match &sig.returns {
        Returns::Void => bind_body(binder, f, &sig).map(|_| ()),
        Returns::Scalar(t) => {
            if inline_expression(binder, f, &sig, &args, t)?.is_none() {
                let body = bind_body(binder, f, &sig)?;
                subquery_call(binder, f, &sig, &args, body, t)?;
            }
            Ok(())
        }
        Returns::SetOf(t) => {
            let columns = vec![(f.name.clone(), t.clone())];
            rows_plan(binder, f, &sig, &args, &columns).map(|_| ())
        }
        Returns::Table(columns) => rows_plan(binder, f, &sig, &args, columns).map(|_| ()),
    })
}

fn unit() -> Plan {
    Plan::Values {
        rows: vec![Vec::new()],
        width: 0,
    }
}

/// The one-row plan of the parameter row: the arguments, then the named parameters again
/// (as [`parameter_scope`] lays them out); STRICT filters it out when an argument is NULL.
fn parameter_row(f: &FunctionDef, sig: &Signature, args: Vec<Expr>) -> (Plan, usize) {
    let (_, positions) = parameter_scope(f, sig);
    let n = args.len();
    let mut plan = Plan::Project {
        input: Box::new(unit()),
        exprs: args,
    };
    if sig.strict && n > 0 {
        plan = Plan::Filter {
            input: Box::new(plan),
            predicate: Expr::And(
                (0..n)
                    .map(|i| Expr::IsNotNull(Box::new(Expr::Column(i))))
                    .collect(),
            ),
        };
    }
    if positions.len() > n {
        plan = Plan::Project {
            input: Box::new(plan),
            exprs: positions.iter().map(|p| Expr::Column(*p)).collect(),
        };
    }
    (plan, positions.len())
}

/// Moves an argument expression one query level in: its row becomes the enclosing row.
fn shift_in(e: Expr) -> SqlResult<Expr> {
    let mut refused = None;
    e.walk(&mut |x| match x {
        Expr::AggRef(_) | Expr::WindowRef(_) => refused = Some("aggregate or window function"),
        Expr::Subquery {
            correlated: true, ..
        }
        | Expr::InSubquery {
            correlated: true, ..
        } => refused = Some("correlated subquery"),
        _ => {}
    });
    if let Some(what) = refused {
        return Err(SqlError::unsupported(format!(
            "a {what} as argument of a SQL function whose body is not a single expression"
        )));
    }
    Ok(e.transform(&mut |x| match x {
        Expr::Column(index) => Expr::Outer { level: 1, index },
        Expr::Outer { level, index } => Expr::Outer {
            level: level + 1,
            index,
        },
        other => other,
    }))
}

/// The call as a correlated scalar subquery (see the module doc).
fn subquery_call(
    binder: &mut Binder,
    f: &FunctionDef,
    sig: &Signature,
    args: &[Expr],
    (body, columns): (Plan, Vec<OutputColumn>),
    result_type: &SqlType,
) -> SqlResult<Expr> {
    check_result(sig, &columns)?;
    let shifted = args
        .iter()
        .cloned()
        .map(shift_in)
        .collect::<SqlResult<Vec<_>>>()?;
    let (params, width) = parameter_row(f, sig, shifted);
    let value = binder.coerce_to(
        (Expr::Column(width), columns[0].sql_type.clone()),
        result_type,
        "return value",
    )?;
    let plan = Plan::Limit {
        input: Box::new(Plan::Project {
            input: Box::new(Plan::Lateral {
                left: Box::new(params),
                right: Box::new(body),
                kind: JoinKind::Inner,
                right_width: columns.len(),
            }),
            exprs: vec![value],
        }),
        limit: Some(Expr::Const(Value::Int8(1))),
        offset: None,
    };
    let id = binder.next_id();
    Ok(Expr::Subquery {
        plan: Arc::new(plan),
        kind: SubqueryKind::Scalar,
        correlated: true,
        id,
    })
}

/// All rows of the body, cast to the declared columns (SETOF / TABLE in FROM).
fn rows_plan(
    binder: &mut Binder,
    f: &FunctionDef,
    sig: &Signature,
    args: &[Expr],
    declared: &[(String, SqlType)],
) -> SqlResult<(Plan, Vec<OutputColumn>)> {
    let (body, columns) = bind_body(binder, f, sig)?;
    check_result(sig, &columns)?;
    let (params, width) = parameter_row(f, sig, args.to_vec());
    let mut exprs = Vec::new();
    for (i, (_, t)) in declared.iter().enumerate() {
        exprs.push(binder.coerce_to(
            (Expr::Column(width + i), columns[i].sql_type.clone()),
            t,
            "return value",
        )?);
    }
    let plan = Plan::Project {
        input: Box::new(Plan::Lateral {
            left: Box::new(params),
            right: Box::new(body),
            kind: JoinKind::Inner,
            right_width: columns.len(),
        }),
        exprs,
    };
    let out = declared
        .iter()
        .map(|(n, t)| OutputColumn::computed(n.clone(), t.clone()))
        .collect();
    Ok((plan, out))
}

/// The body's result must fit what the function declares (42P13 otherwise).
pub fn check_result(sig: &Signature, columns: &[OutputColumn]) -> SqlResult<()> {
    let declared: Vec<SqlType> = match &sig.returns {
        Returns::Void => return Ok(()),
        Returns::Scalar(t) | Returns::SetOf(t) => vec![t.clone()],
        Returns::Table(c) => c.iter().map(|(_, t)| t.clone()).collect(),
    };
    let shown = match &sig.returns {
        Returns::Table(_) => "record".to_string(),
        _ => declared[0].display_name(),
    };
    let mismatch = |detail: String| {
        SqlError::new(
            code::INVALID_FUNCTION_DEFINITION,
            format!("return type mismatch in function declared to return {shown}"),
        )
        .with_detail(detail)
    };
    if !matches!(sig.returns, Returns::Table(_)) && columns.len() != 1 {
        return Err(mismatch(
            "Final statement must return exactly one column.".into(),
        ));
    }
    if columns.len() > declared.len() {
        return Err(mismatch("Final statement returns too many columns.".into()));
    }
    if columns.len() < declared.len() {
        return Err(mismatch("Final statement returns too few columns.".into()));
    }
    for (c, t) in columns.iter().zip(&declared) {
        let fits = c.sql_type.same_type(t)
            || c.sql_type == SqlType::Unknown
            || cast_allowed(&c.sql_type, t, CastContext::Assignment);
        if !fits {
            return Err(mismatch(format!(
                "Actual return type is {}.",
                c.sql_type.display_name()
            )));
        }
    }
    Ok(())
}
