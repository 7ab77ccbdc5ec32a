//! Grouping: rewriting expressions over the output of an aggregation (group expressions
//! and aggregate placeholders become its columns), GROUPING(), and the structural equality
//! of bound expressions that GROUP BY and ORDER BY matching rely on.

use storage::types::Value;

use super::Scope;
use crate::error::{code, SqlError, SqlResult};
use crate::plan::Expr;

/// `GROUPING(a, b)`: a bitmask of which arguments are not grouped in the current
/// grouping set, read from the aggregate's last column (0 without grouping sets).
pub(super) fn grouping_calls(
    e: Expr,
    groups: &[Expr],
    visible: usize,
    mask_column: Option<usize>,
) -> SqlResult<Expr> {
    let mut failure = None;
    let rebuilt = e.transform(&mut |x| match x {
        Expr::Call {
            name: "grouping",
            args,
            ..
        } => {
            let mut positions = Vec::new();
            for a in &args {
                match groups[..visible].iter().position(|g| expr_eq(g, a)) {
                    Some(p) => positions.push(Expr::Const(Value::Int4(p as i32))),
                    None => {
                        failure.get_or_insert(SqlError::new(
                            code::GROUPING_ERROR,
                            "arguments to GROUPING must be grouping expressions of the associated query level",
                        ));
                    }
                }
            }
            match mask_column {
                None => Expr::Const(Value::Int4(0)),
                Some(mask) => {
                    let mut call_args = vec![
                        Expr::Column(mask),
                        Expr::Const(Value::Int4(groups.len() as i32)),
                    ];
                    call_args.extend(positions);
                    Expr::Call {
                        name: "grouping",
                        func: grouping_bits,
                        args: call_args,
                        strict: false,
                    }
                }
            }
        }
        other => other,
    });
    match failure {
        Some(e) => Err(e),
        None => Ok(rebuilt),
    }
}

/// GROUPING()'s value from the grouping-set mask (bit `n - 1 - i` set when group
/// expression `i` is not grouped): arguments are the mask, `n`, then group positions.
fn grouping_bits(_: &crate::func::FnCtx, args: &[Value]) -> SqlResult<Value> {
    let mask = match args.first() {
        Some(Value::Int8(m)) => *m,
        _ => 0,
    };
    let n = match args.get(1) {
        Some(Value::Int4(n)) => *n as i64,
        _ => 0,
    };
    let mut out = 0i32;
    for a in &args[2..] {
        let Value::Int4(p) = a else { continue };
        let bit = (mask >> (n - 1 - i64::from(*p))) & 1;
        out = (out << 1) | bit as i32;
    }
    Ok(Value::Int4(out))
}

/// After aggregation: group expressions become columns of the aggregate's output,
/// aggregate placeholders the columns after them; any other column reference is an error.
pub(super) fn regroup(e: Expr, groups: &[Expr], ngroups: usize, scope: &Scope) -> SqlResult<Expr> {
    if let Some(i) = groups.iter().position(|g| expr_eq(g, &e)) {
        return Ok(Expr::Column(i));
    }
    let mut error = None;
    let rebuilt = match e {
        // GROUPING()'s arguments name group expressions: `grouping_calls` resolves them.
        call @ Expr::Call {
            name: "grouping", ..
        } => call,
        Expr::AggRef(k) => Expr::Column(ngroups + k),
        Expr::Column(i) => {
            let c = &scope.columns[i];
            let q = c
                .qualifier
                .clone()
                .map(|q| format!("{q}."))
                .unwrap_or_default();
            error = Some(SqlError::new(
                code::GROUPING_ERROR,
                format!(
                    "column \"{q}{}\" must appear in the GROUP BY clause or be used in an aggregate function",
                    c.name
                ),
            ));
            Expr::Column(i)
        }
        Expr::Subquery { .. } | Expr::InSubquery { .. } => {
            // Correlated references inside point at the FROM row: after grouping they must
            // name grouped columns, which move to the aggregate's output positions.
            let e = match e {
                Expr::InSubquery {
                    left,
                    plan,
                    op,
                    op_name,
                    all,
                    correlated,
                    id,
                } => Expr::InSubquery {
                    left: Box::new(regroup(*left, groups, ngroups, scope)?),
                    plan,
                    op,
                    op_name,
                    all,
                    correlated,
                    id,
                },
                other => other,
            };
            let mut map = |i: usize| -> SqlResult<usize> {
                groups
                    .iter()
                    .position(|g| matches!(g, Expr::Column(j) if *j == i))
                    .ok_or_else(|| {
                        let c = &scope.columns[i];
                        let q = c
                            .qualifier
                            .clone()
                            .map(|q| format!("{q}."))
                            .unwrap_or_default();
                        SqlError::new(
                            code::GROUPING_ERROR,
                            format!(
                                "subquery uses ungrouped column \"{q}{}\" from outer query",
                                c.name
                            ),
                        )
                    })
            };
            crate::plan::map_outer_refs(e, 0, &mut map)?
        }
        other => {
            let mut failure = None;
            let rebuilt = map_children(other, &mut |child| match regroup(
                child, groups, ngroups, scope,
            ) {
                Ok(x) => x,
                Err(err) => {
                    failure.get_or_insert(err);
                    Expr::Const(Value::Null)
                }
            });
            if let Some(err) = failure {
                return Err(err);
            }
            rebuilt
        }
    };
    match error {
        Some(err) => Err(err),
        None => Ok(rebuilt),
    }
}

/// Applies `f` to the direct children of `e`.
fn map_children(e: Expr, f: &mut dyn FnMut(Expr) -> Expr) -> Expr {
    let mut first = true;
    // `transform` is bottom-up over all nodes; to touch only direct children we rebuild by
    // hand through a one-level transform.
    let _ = &mut first;
    match e {
        Expr::Call {
            name,
            func,
            args,
            strict,
        } => Expr::Call {
            name,
            func,
            args: args.into_iter().map(&mut *f).collect(),
            strict,
        },
        Expr::Cast {
            expr,
            from,
            to,
            explicit,
        } => Expr::Cast {
            expr: Box::new(f(*expr)),
            from,
            to,
            explicit,
        },
        Expr::And(v) => Expr::And(v.into_iter().map(&mut *f).collect()),
        Expr::Or(v) => Expr::Or(v.into_iter().map(&mut *f).collect()),
        Expr::Not(x) => Expr::Not(Box::new(f(*x))),
        Expr::IsNull(x) => Expr::IsNull(Box::new(f(*x))),
        Expr::IsNotNull(x) => Expr::IsNotNull(Box::new(f(*x))),
        Expr::BoolTest {
            expr,
            value,
            negated,
        } => Expr::BoolTest {
            expr: Box::new(f(*expr)),
            value,
            negated,
        },
        Expr::Distinct {
            left,
            right,
            eq,
            negated,
        } => Expr::Distinct {
            left: Box::new(f(*left)),
            right: Box::new(f(*right)),
            eq,
            negated,
        },
        Expr::Case { whens, otherwise } => Expr::Case {
            whens: whens.into_iter().map(|(w, t)| (f(w), f(t))).collect(),
            otherwise: Box::new(f(*otherwise)),
        },
        Expr::Coalesce(v) => Expr::Coalesce(v.into_iter().map(&mut *f).collect()),
        Expr::NullIf { left, right, eq } => Expr::NullIf {
            left: Box::new(f(*left)),
            right: Box::new(f(*right)),
            eq,
        },
        Expr::Extreme { args, greatest } => Expr::Extreme {
            args: args.into_iter().map(&mut *f).collect(),
            greatest,
        },
        Expr::AnyArray {
            left,
            array,
            op,
            all,
        } => Expr::AnyArray {
            left: Box::new(f(*left)),
            array: Box::new(f(*array)),
            op,
            all,
        },
        Expr::Array {
            elements,
            element_type,
        } => Expr::Array {
            elements: elements.into_iter().map(&mut *f).collect(),
            element_type,
        },
        Expr::Subscript { array, subscripts } => Expr::Subscript {
            array: Box::new(f(*array)),
            subscripts: subscripts
                .into_iter()
                .map(|(a, b, s)| (a.map(&mut *f), b.map(&mut *f), s))
                .collect(),
        },
        Expr::Row(v) => Expr::Row(v.into_iter().map(&mut *f).collect()),
        Expr::Session { func, args } => Expr::Session {
            func,
            args: args.into_iter().map(&mut *f).collect(),
        },
        Expr::InSubquery {
            left,
            plan,
            op,
            op_name,
            all,
            correlated,
            id,
        } => Expr::InSubquery {
            op_name,
            left: Box::new(f(*left)),
            plan,
            op,
            all,
            correlated,
            id,
        },
        other => other,
    }
}

/// Structural equality of bound expressions (GROUP BY matching, ORDER BY reuse).
pub fn expr_eq(a: &Expr, b: &Expr) -> bool {
    use Expr as X;
    let all =
        |x: &[Expr], y: &[Expr]| x.len() == y.len() && x.iter().zip(y).all(|(p, q)| expr_eq(p, q));
    match (a, b) {
        (X::Column(x), X::Column(y)) => x == y,
        (
            X::Outer {
                level: l1,
                index: i1,
            },
            X::Outer {
                level: l2,
                index: i2,
            },
        ) => l1 == l2 && i1 == i2,
        (X::Const(x), X::Const(y)) => x == y,
        (X::Param(x), X::Param(y)) => x == y,
        (
            X::Call {
                name: n1, args: a1, ..
            },
            X::Call {
                name: n2, args: a2, ..
            },
        ) => n1 == n2 && all(a1, a2),
        (
            X::Cast {
                expr: e1, to: t1, ..
            },
            X::Cast {
                expr: e2, to: t2, ..
            },
        ) => t1 == t2 && expr_eq(e1, e2),
        (X::And(x), X::And(y))
        | (X::Or(x), X::Or(y))
        | (X::Coalesce(x), X::Coalesce(y))
        | (X::Row(x), X::Row(y)) => all(x, y),
        (X::Not(x), X::Not(y))
        | (X::IsNull(x), X::IsNull(y))
        | (X::IsNotNull(x), X::IsNotNull(y)) => expr_eq(x, y),
        (
            X::Case {
                whens: w1,
                otherwise: o1,
            },
            X::Case {
                whens: w2,
                otherwise: o2,
            },
        ) => {
            w1.len() == w2.len()
                && w1
                    .iter()
                    .zip(w2)
                    .all(|((a, b), (c, d))| expr_eq(a, c) && expr_eq(b, d))
                && expr_eq(o1, o2)
        }
        (X::AggRef(x), X::AggRef(y)) | (X::WindowRef(x), X::WindowRef(y)) => x == y,
        (X::Session { func: f1, args: a1 }, X::Session { func: f2, args: a2 }) => {
            f1 == f2 && all(a1, a2)
        }
        (
            X::Extreme {
                args: a1,
                greatest: g1,
            },
            X::Extreme {
                args: a2,
                greatest: g2,
            },
        ) => g1 == g2 && all(a1, a2),
        (
            X::NullIf {
                left: l1,
                right: r1,
                ..
            },
            X::NullIf {
                left: l2,
                right: r2,
                ..
            },
        ) => expr_eq(l1, l2) && expr_eq(r1, r2),
        (
            X::Subscript {
                array: a1,
                subscripts: s1,
            },
            X::Subscript {
                array: a2,
                subscripts: s2,
            },
        ) => {
            expr_eq(a1, a2)
                && s1.len() == s2.len()
                && s1
                    .iter()
                    .zip(s2)
                    .all(|(x, y)| x.2 == y.2 && opt_eq(&x.0, &y.0) && opt_eq(&x.1, &y.1))
        }
        _ => false,
    }
}

fn opt_eq(a: &Option<Expr>, b: &Option<Expr>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => expr_eq(x, y),
        _ => false,
    }
}
