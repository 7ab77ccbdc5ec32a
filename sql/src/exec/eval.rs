//! Expression evaluation with SQL's three-valued logic.

use std::rc::Rc;

use storage::types::{Array, ArrayDim, Value};

use super::{run, truthy, ExecCtx};
use crate::error::{code, SqlError, SqlResult};
use crate::func::compare;
use crate::func::{cast_value_in, CastContext};
use crate::plan::{Expr, SessionFn, SubqueryKind};

/// The row an expression is evaluated against, and the rows of the enclosing queries.
pub struct Env<'a> {
    pub row: &'a [Value],
    pub parent: Option<&'a Env<'a>>,
}

pub fn eval(e: &Expr, env: &Env, ctx: &ExecCtx) -> SqlResult<Value> {
    match e {
        Expr::Column(i) => env
            .row
            .get(*i)
            .cloned()
            .ok_or_else(|| SqlError::internal(format!("column {i} outside the row"))),
        Expr::Outer { level, index } => {
            let mut scope = env;
            for _ in 0..*level {
                scope = scope
                    .parent
                    .ok_or_else(|| SqlError::internal("outer reference without outer row"))?;
            }
            scope
                .row
                .get(*index)
                .cloned()
                .ok_or_else(|| SqlError::internal("outer column outside the row"))
        }
        Expr::Const(v) => Ok(v.clone()),
        Expr::Param(n) => ctx.params.get(*n).cloned().ok_or_else(|| {
            SqlError::new(
                code::UNDEFINED_PARAMETER,
                format!("there is no parameter ${}", n + 1),
            )
        }),
        Expr::Call {
            func, args, strict, ..
        } => {
            // One and two arguments (operators, most functions) are passed from the stack.
            match args.as_slice() {
                [a] => {
                    let a = eval(a, env, ctx)?;
                    if *strict && a.is_null() {
                        return Ok(Value::Null);
                    }
                    return ctx.with_fn(|f| func(f, std::slice::from_ref(&a)));
                }
                [a, b] => {
                    let a = eval(a, env, ctx)?;
                    if *strict && a.is_null() {
                        return Ok(Value::Null);
                    }
                    let b = eval(b, env, ctx)?;
                    if *strict && b.is_null() {
                        return Ok(Value::Null);
                    }
                    let values = [a, b];
                    return ctx.with_fn(|f| func(f, &values));
                }
                _ => {}
            }
            let mut values = Vec::with_capacity(args.len());
            for a in args {
                let v = eval(a, env, ctx)?;
                if *strict && v.is_null() {
                    return Ok(Value::Null);
                }
                values.push(v);
            }
            ctx.with_fn(|f| func(f, &values))
        }
        Expr::Cast {
            expr,
            from,
            to,
            explicit,
        } => {
            let v = eval(expr, env, ctx)?;
            if v.is_null() {
                return Ok(Value::Null);
            }
            let context = if *explicit {
                CastContext::Explicit
            } else {
                CastContext::Assignment
            };
            ctx.with_fn(|f| cast_value_in(f, v, from, to, context))
        }
        Expr::And(items) => {
            let mut unknown = false;
            for i in items {
                match eval(i, env, ctx)? {
                    Value::Bool(false) => return Ok(Value::Bool(false)),
                    Value::Null => unknown = true,
                    _ => {}
                }
            }
            Ok(if unknown {
                Value::Null
            } else {
                Value::Bool(true)
            })
        }
        Expr::Or(items) => {
            let mut unknown = false;
            for i in items {
                match eval(i, env, ctx)? {
                    Value::Bool(true) => return Ok(Value::Bool(true)),
                    Value::Null => unknown = true,
                    _ => {}
                }
            }
            Ok(if unknown {
                Value::Null
            } else {
                Value::Bool(false)
            })
        }
        Expr::Not(x) => Ok(match eval(x, env, ctx)? {
            Value::Bool(b) => Value::Bool(!b),
            _ => Value::Null,
        }),
        Expr::IsNull(x) => Ok(Value::Bool(is_null_value(&eval(x, env, ctx)?))),
        Expr::IsNotNull(x) => Ok(Value::Bool(is_not_null_value(&eval(x, env, ctx)?))),
        Expr::BoolTest {
            expr,
            value,
            negated,
        } => {
            let v = eval(expr, env, ctx)?;
            let hit = match (value, &v) {
                (None, Value::Null) => true,
                (Some(b), Value::Bool(x)) => b == x,
                _ => false,
            };
            Ok(Value::Bool(hit != *negated))
        }
        Expr::Distinct {
            left,
            right,
            eq,
            negated,
        } => {
            let l = eval(left, env, ctx)?;
            let r = eval(right, env, ctx)?;
            let distinct = match (l.is_null(), r.is_null()) {
                (true, true) => false,
                (true, false) | (false, true) => true,
                _ => !truthy(&ctx.with_fn(|f| eq(f, &[l, r]))?),
            };
            Ok(Value::Bool(distinct != *negated))
        }
        Expr::Case { whens, otherwise } => {
            for (w, t) in whens {
                if truthy(&eval(w, env, ctx)?) {
                    return eval(t, env, ctx);
                }
            }
            eval(otherwise, env, ctx)
        }
        Expr::Coalesce(items) => {
            for i in items {
                let v = eval(i, env, ctx)?;
                if !v.is_null() {
                    return Ok(v);
                }
            }
            Ok(Value::Null)
        }
        Expr::NullIf { left, right, eq } => {
            let l = eval(left, env, ctx)?;
            let r = eval(right, env, ctx)?;
            if l.is_null() || r.is_null() {
                return Ok(l);
            }
            if truthy(&ctx.with_fn(|f| eq(f, &[l.clone(), r]))?) {
                Ok(Value::Null)
            } else {
                Ok(l)
            }
        }
        Expr::Extreme { args, greatest } => {
            let mut best: Option<Value> = None;
            for a in args {
                let v = eval(a, env, ctx)?;
                if v.is_null() {
                    continue;
                }
                best = Some(match best {
                    None => v,
                    Some(b) => {
                        let o = compare(&v, &b);
                        if (*greatest && o.is_gt()) || (!*greatest && o.is_lt()) {
                            v
                        } else {
                            b
                        }
                    }
                });
            }
            Ok(best.unwrap_or(Value::Null))
        }
        Expr::AnyArray {
            left,
            array,
            op,
            all,
        } => {
            let l = eval(left, env, ctx)?;
            let a = eval(array, env, ctx)?;
            let Value::Array(a) = a else {
                return Ok(Value::Null);
            };
            let items = a.elements.clone();
            any_all(l, items.into_iter(), *op, *all, ctx)
        }
        Expr::Array {
            elements,
            element_type: _,
        } => {
            let mut values = Vec::with_capacity(elements.len());
            for x in elements {
                values.push(eval(x, env, ctx)?);
            }
            build_array(values)
        }
        Expr::Subscript { array, subscripts } => {
            let a = eval(array, env, ctx)?;
            let Value::Array(a) = a else {
                return Ok(Value::Null);
            };
            let mut bounds = Vec::new();
            for (lo, hi, slice) in subscripts {
                let lo = match lo {
                    Some(x) => match eval(x, env, ctx)? {
                        Value::Null => return Ok(Value::Null),
                        v => Some(int_of(&v)),
                    },
                    None => None,
                };
                let hi = match hi {
                    Some(x) => match eval(x, env, ctx)? {
                        Value::Null => return Ok(Value::Null),
                        v => Some(int_of(&v)),
                    },
                    None => None,
                };
                bounds.push((lo, hi, *slice));
            }
            Ok(subscript(&a, &bounds))
        }
        Expr::Row(items) => {
            let mut parts = Vec::new();
            for i in items {
                let v = eval(i, env, ctx)?;
                parts.push(v);
            }
            Ok(Value::Array(Box::new(Array::from_list(parts))))
        }
        Expr::Subquery {
            plan,
            kind,
            correlated,
            id,
        } => {
            let rows = subquery_rows(plan, *correlated, *id, env, ctx)?;
            match kind {
                SubqueryKind::Exists => Ok(Value::Bool(!rows.is_empty())),
                SubqueryKind::Scalar => match rows.len() {
                    0 => Ok(Value::Null),
                    1 => Ok(rows[0].first().cloned().unwrap_or(Value::Null)),
                    _ => Err(SqlError::new(
                        code::CARDINALITY_VIOLATION,
                        "more than one row returned by a subquery used as an expression",
                    )),
                },
                SubqueryKind::Array => {
                    let values: Vec<Value> = rows
                        .iter()
                        .map(|r| r.first().cloned().unwrap_or(Value::Null))
                        .collect();
                    if values.is_empty() {
                        return Ok(Value::Array(Box::new(Array::from_list(vec![]))));
                    }
                    build_array(values)
                }
            }
        }
        Expr::InSubquery {
            left,
            plan,
            op,
            op_name,
            all,
            correlated,
            id,
        } => {
            let l = eval(left, env, ctx)?;
            let rows = subquery_rows(plan, *correlated, *id, env, ctx)?;
            if matches!(*op_name, "row=" | "row<>") {
                // Multi-column: each subquery row is compared whole.
                let items = rows
                    .iter()
                    .map(|r| Value::Array(Box::new(Array::from_list(r.clone()))));
                return any_all(l, items, *op, *all, ctx);
            }
            let items: Vec<Value> = rows
                .iter()
                .map(|r| r.first().cloned().unwrap_or(Value::Null))
                .collect();
            any_all(l, items.into_iter(), *op, *all, ctx)
        }
        Expr::Session { func, args } => {
            let mut values = Vec::with_capacity(args.len());
            for a in args {
                values.push(eval(a, env, ctx)?);
            }
            super::values::session_function(*func, &values, ctx)
        }
        Expr::AggRef(_) | Expr::WindowRef(_) => Err(SqlError::internal(
            "aggregate or window placeholder left in an expression",
        )),
    }
}

fn subquery_rows(
    plan: &crate::plan::Plan,
    correlated: bool,
    id: usize,
    env: &Env,
    ctx: &ExecCtx,
) -> SqlResult<Rc<Vec<Vec<Value>>>> {
    if !correlated {
        if let Some(rows) = ctx.subqueries.borrow().get(&id) {
            return Ok(rows.clone());
        }
        let rows = Rc::new(run(plan, ctx, Some(env))?);
        ctx.subqueries.borrow_mut().insert(id, rows.clone());
        return Ok(rows);
    }
    let refs = ctx
        .memo_keys
        .borrow_mut()
        .entry(id)
        .or_insert_with(|| outer_columns(plan))
        .clone();
    let Some(refs) = refs else {
        return Ok(Rc::new(run(plan, ctx, Some(env))?));
    };
    let mut key = Vec::new();
    for (level, index) in &refs {
        let mut scope = env;
        for _ in 1..*level {
            match scope.parent {
                Some(p) => scope = p,
                None => return Ok(Rc::new(run(plan, ctx, Some(env))?)),
            }
        }
        match scope.row.get(*index) {
            Some(v) => crate::func::hash_key(v, &mut key),
            None => return Ok(Rc::new(run(plan, ctx, Some(env))?)),
        }
    }
    if let Some(rows) = ctx.memo.borrow().get(&(id, key.clone())) {
        return Ok(rows.clone());
    }
    let rows = Rc::new(run(plan, ctx, Some(env))?);
    let mut memo = ctx.memo.borrow_mut();
    if memo.len() < 100_000 {
        memo.insert((id, key), rows.clone());
    }
    Ok(rows)
}

/// The outer columns (level relative to the subquery's caller, index) a subquery plan
/// reads; `None` when its result may differ between runs with the same outer values
/// (session functions such as nextval, volatile calls are not distinguished here).
fn outer_columns(plan: &crate::plan::Plan) -> Option<Vec<(usize, usize)>> {
    let mut refs: Vec<(usize, usize)> = Vec::new();
    let mut ok = true;
    collect_outer(plan, 0, &mut refs, &mut ok);
    ok.then_some(refs)
}

fn collect_outer(
    plan: &crate::plan::Plan,
    depth: usize,
    refs: &mut Vec<(usize, usize)>,
    ok: &mut bool,
) {
    let _ = plan.clone().map_exprs(depth, &mut |e, d| {
        collect_expr(&e, d, refs, ok);
        Ok(e)
    });
}

fn collect_expr(e: &Expr, depth: usize, refs: &mut Vec<(usize, usize)>, ok: &mut bool) {
    e.walk(&mut |x| match x {
        Expr::Outer { level, index } if *level > depth => {
            let r = (*level - depth, *index);
            if !refs.contains(&r) {
                refs.push(r);
            }
        }
        Expr::Session { .. } => *ok = false,
        Expr::Call { name, .. }
            if matches!(
                *name,
                "random"
                    | "gen_random_uuid"
                    | "clock_timestamp"
                    | "nextval"
                    | "setval"
                    | "uuid_generate_v4"
            ) =>
        {
            *ok = false
        }
        Expr::Subquery { plan, .. } | Expr::InSubquery { plan, .. } => {
            collect_outer(plan, depth + 1, refs, ok)
        }
        _ => {}
    });
}

/// `l op ANY/ALL (items)` with SQL's NULL rules.
fn any_all(
    l: Value,
    items: impl Iterator<Item = Value>,
    op: crate::func::ScalarFn,
    all: bool,
    ctx: &ExecCtx,
) -> SqlResult<Value> {
    let mut unknown = false;
    let mut any_item = false;
    for item in items {
        any_item = true;
        if l.is_null() || item.is_null() {
            unknown = true;
            continue;
        }
        let r = ctx.with_fn(|f| op(f, &[l.clone(), item]))?;
        match (r, all) {
            (Value::Bool(true), false) => return Ok(Value::Bool(true)),
            (Value::Bool(false), true) => return Ok(Value::Bool(false)),
            (Value::Null, _) => unknown = true,
            _ => {}
        }
    }
    if !any_item {
        return Ok(Value::Bool(all));
    }
    Ok(if unknown {
        Value::Null
    } else {
        Value::Bool(all)
    })
}

/// `IS NULL` on a row value is true when every field is NULL; here values are scalars or
/// arrays, and an array is never NULL as a whole unless it is SQL NULL.
fn is_null_value(v: &Value) -> bool {
    v.is_null()
}

fn is_not_null_value(v: &Value) -> bool {
    !v.is_null()
}

fn int_of(v: &Value) -> i64 {
    match v {
        Value::Int2(x) => i64::from(*x),
        Value::Int4(x) => i64::from(*x),
        Value::Int8(x) => *x,
        _ => 0,
    }
}

/// An array from element values; elements that are arrays make one more dimension.
pub fn build_array(values: Vec<Value>) -> SqlResult<Value> {
    let nested = values.iter().any(|v| matches!(v, Value::Array(_)));
    if !nested {
        return Ok(Value::Array(Box::new(Array::from_list(values))));
    }
    let mut dims: Option<Vec<ArrayDim>> = None;
    let mut elements = Vec::new();
    for v in &values {
        match v {
            Value::Array(a) => {
                match &dims {
                    None => dims = Some(a.dims.clone()),
                    Some(d) if *d != a.dims => {
                        return Err(SqlError::new(
                            code::ARRAY_SUBSCRIPT_ERROR,
                            "multidimensional arrays must have array expressions with matching dimensions",
                        ))
                    }
                    _ => {}
                }
                elements.extend(a.elements.iter().cloned());
            }
            _ => {
                return Err(SqlError::new(
                    code::ARRAY_SUBSCRIPT_ERROR,
                    "multidimensional arrays must have array expressions with matching dimensions",
                ))
            }
        }
    }
    let inner = dims.unwrap_or_default();
    if inner.is_empty() {
        return Ok(Value::Array(Box::new(Array::from_list(vec![]))));
    }
    let mut all_dims = vec![ArrayDim {
        len: values.len() as u32,
        lower: 1,
    }];
    all_dims.extend(inner);
    Ok(Value::Array(Box::new(Array {
        dims: all_dims,
        elements,
    })))
}

/// `a[i][j]` (element) or `a[i:j]` (slice), PostgreSQL's rules: out of range is NULL (or
/// an empty array for slices).
fn subscript(a: &Array, bounds: &[(Option<i64>, Option<i64>, bool)]) -> Value {
    let slice = bounds.iter().any(|b| b.2);
    if !slice {
        if bounds.len() != a.dims.len() {
            return Value::Null;
        }
        let mut offset = 0usize;
        for (d, (lo, _, _)) in a.dims.iter().zip(bounds) {
            let i = lo.unwrap_or(0) - i64::from(d.lower);
            if i < 0 || i >= i64::from(d.len) {
                return Value::Null;
            }
            offset = offset * d.len as usize + i as usize;
        }
        return a.elements.get(offset).cloned().unwrap_or(Value::Null);
    }
    // Slices: one-dimensional arrays (the common case).
    if a.dims.len() != 1 {
        return Value::Array(Box::new(Array::from_list(vec![])));
    }
    let d = &a.dims[0];
    let (lo, hi, _) = bounds[0];
    let first = lo.unwrap_or(i64::from(d.lower)).max(i64::from(d.lower));
    let last = hi
        .unwrap_or(i64::from(d.lower) + i64::from(d.len) - 1)
        .min(i64::from(d.lower) + i64::from(d.len) - 1);
    if first > last {
        return Value::Array(Box::new(Array::from_list(vec![])));
    }
    let start = (first - i64::from(d.lower)) as usize;
    let end = (last - i64::from(d.lower)) as usize;
    Value::Array(Box::new(Array::from_list(a.elements[start..=end].to_vec())))
}

/// `SessionFn` needs to know its own variant names in error messages.
pub fn session_fn_name(f: SessionFn) -> &'static str {
    match f {
        SessionFn::CurrentSetting | SessionFn::CurrentSettingMissingOk => "current_setting",
        SessionFn::SetConfig => "set_config",
        SessionFn::CurrentUser => "current_user",
        SessionFn::SessionUser => "session_user",
        SessionFn::CurrentDatabase => "current_database",
        SessionFn::CurrentSchema => "current_schema",
        SessionFn::CurrentSchemas => "current_schemas",
        SessionFn::Version => "version",
        SessionFn::BackendPid => "pg_backend_pid",
        SessionFn::Nextval => "nextval",
        SessionFn::Currval => "currval",
        SessionFn::Setval => "setval",
        SessionFn::Lastval => "lastval",
        SessionFn::TxidCurrent => "txid_current",
        SessionFn::TypeOf => "pg_typeof",
        SessionFn::Sleep => "pg_sleep",
        SessionFn::UserFunction => "plpgsql function",
    }
}
