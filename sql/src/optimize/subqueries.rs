//! Subqueries in plans: decorrelation of `EXISTS`, `NOT EXISTS` and `x IN (SELECT ...)`
//! conjuncts into semi / anti hash joins, and optimization of the plans nested inside
//! expressions ([`optimize_all`]). Also [`plan_width`], the column count of a plan.
//!
//! A subquery is decorrelated only when its sole references to the outer row are
//! equalities in its top-level filter; anything else keeps the correlated form.

use storage::catalog::Catalog;

use super::{and_all, conjuncts, optimize, refs, same_key_type};
use crate::plan::{Expr, JoinKind, Plan};

/// The number of columns a plan produces.
pub fn plan_width(p: &Plan) -> usize {
    match p {
        Plan::Values { width, .. }
        | Plan::CteScan { width, .. }
        | Plan::FunctionScan { width, .. } => *width,
        Plan::SeqScan { width, row_id, .. } | Plan::IndexScan { width, row_id, .. } => {
            width + usize::from(*row_id)
        }
        Plan::SystemScan { table, .. } => table.columns.len(),
        Plan::VectorScan(scan) => scan.output_width(),
        Plan::Filter { input, .. }
        | Plan::Sort { input, .. }
        | Plan::Limit { input, .. }
        | Plan::Distinct { input, .. } => plan_width(input),
        Plan::Project { exprs, .. } => exprs.len(),
        Plan::Lateral {
            left, right_width, ..
        } => plan_width(left) + right_width,
        Plan::NestedLoopJoin {
            kind,
            left_width,
            right_width,
            ..
        }
        | Plan::HashJoin {
            kind,
            left_width,
            right_width,
            ..
        } => match kind {
            JoinKind::Semi | JoinKind::Anti => *left_width,
            _ => left_width + right_width,
        },
        Plan::Aggregate {
            groups, aggs, sets, ..
        } => groups.len() + aggs.len() + usize::from(sets.is_some()),
        Plan::Window { input, calls } => plan_width(input) + calls.len(),
        Plan::SetOp { left, .. } => plan_width(left),
        Plan::With { body, .. } => plan_width(body),
        Plan::RecursiveCte { base, .. } => plan_width(base),
        Plan::Zip { inputs } => inputs.iter().map(plan_width).sum(),
    }
}

/// Whether any expression of the plan reads an outer row.
fn reads_outer(plan: &Plan) -> bool {
    let mut found = false;
    let _ = plan.clone().map_exprs(0, &mut |e, _| {
        e.walk(&mut |x| {
            if matches!(x, Expr::Outer { .. })
                || matches!(
                    x,
                    Expr::Subquery {
                        correlated: true,
                        ..
                    } | Expr::InSubquery {
                        correlated: true,
                        ..
                    }
                )
            {
                found = true;
            }
        });
        Ok(e)
    });
    found
}

/// Whether an expression reads only outer level-1 columns (no row columns, no deeper
/// outer references, no subqueries).
fn outer_only(e: &Expr) -> bool {
    let mut only = true;
    let mut any = false;
    e.walk(&mut |x| match x {
        Expr::Outer { level: 1, .. } => any = true,
        Expr::Outer { .. }
        | Expr::Column(_)
        | Expr::Subquery { .. }
        | Expr::InSubquery { .. }
        | Expr::Session { .. }
        | Expr::AggRef(_)
        | Expr::WindowRef(_) => only = false,
        _ => {}
    });
    only && any
}

fn no_outer(e: &Expr) -> bool {
    let mut ok = true;
    e.walk(&mut |x| {
        if matches!(
            x,
            Expr::Outer { .. }
                | Expr::Subquery {
                    correlated: true,
                    ..
                }
                | Expr::InSubquery {
                    correlated: true,
                    ..
                }
        ) {
            ok = false;
        }
    });
    ok
}

fn outer_to_columns(e: Expr) -> Expr {
    e.transform(&mut |x| match x {
        Expr::Outer { level: 1, index } => Expr::Column(index),
        other => other,
    })
}

/// `EXISTS (SELECT ... FROM b WHERE b.x = outer.y AND ...)`, `NOT EXISTS (...)` and
/// `x IN (SELECT ...)` in a WHERE clause become semi / anti hash joins, when the
/// subquery's only references to the outer row are equalities.
pub(super) fn decorrelate(conjunct: &Expr) -> Option<(JoinKind, Vec<Expr>, Vec<Expr>, Plan)> {
    let (kind, plan, in_left, row_in) = match conjunct {
        Expr::Subquery {
            plan,
            kind: crate::plan::SubqueryKind::Exists,
            ..
        } => (JoinKind::Semi, plan, None, false),
        Expr::Not(inner) => match inner.as_ref() {
            Expr::Subquery {
                plan,
                kind: crate::plan::SubqueryKind::Exists,
                ..
            } => (JoinKind::Anti, plan, None, false),
            _ => return None,
        },
        Expr::InSubquery {
            left,
            plan,
            op_name: "=",
            all: false,
            ..
        } => {
            if !no_outer(left) {
                return None;
            }
            (JoinKind::Semi, plan, Some(left.as_ref().clone()), false)
        }
        // `(a, b) IN (SELECT x, y ...)`: one key per column.
        Expr::InSubquery {
            left,
            plan,
            op_name: "row=",
            all: false,
            ..
        } => {
            if !no_outer(left) || !matches!(left.as_ref(), Expr::Row(_)) {
                return None;
            }
            (JoinKind::Semi, plan, Some(left.as_ref().clone()), true)
        }
        _ => return None,
    };
    // Peel the select list (kept for IN: its columns are keys).
    let width = plan_width(plan);
    let (body, selected) = match plan.as_ref() {
        Plan::Project { input, exprs } => (input.as_ref().clone(), exprs.clone()),
        other => (other.clone(), (0..width).map(Expr::Column).collect()),
    };
    let (base, predicate) = match body {
        Plan::Filter { input, predicate } => (*input, Some(predicate)),
        other => (other, None),
    };
    if reads_outer(&base) {
        return None;
    }
    let mut parts = Vec::new();
    if let Some(p) = predicate {
        conjuncts(p, &mut parts);
    }
    let mut left_keys = Vec::new();
    let mut right_keys = Vec::new();
    let mut rest = Vec::new();
    for p in parts {
        if let Expr::Call {
            name: "=", args, ..
        } = &p
        {
            if args.len() == 2 && same_key_type(&p) {
                let (a, b) = (&args[0], &args[1]);
                if outer_only(a) && no_outer(b) && refs(b).any {
                    left_keys.push(outer_to_columns(a.clone()));
                    right_keys.push(b.clone());
                    continue;
                }
                if outer_only(b) && no_outer(a) && refs(a).any {
                    left_keys.push(outer_to_columns(b.clone()));
                    right_keys.push(a.clone());
                    continue;
                }
            }
        }
        if !no_outer(&p) {
            return None;
        }
        rest.push(p);
    }
    match (in_left, row_in) {
        (Some(Expr::Row(fields)), true) => {
            if fields.len() != selected.len() || !selected.iter().all(no_outer) {
                return None;
            }
            left_keys.extend(fields);
            right_keys.extend(selected);
        }
        (Some(left), false) => {
            let selected = selected.into_iter().next()?;
            if !no_outer(&selected) {
                return None;
            }
            left_keys.push(left);
            right_keys.push(selected);
        }
        (Some(_), true) => return None,
        (None, _) => {}
    }
    if left_keys.is_empty() {
        return None;
    }
    let right = match and_all(rest) {
        Some(predicate) => Plan::Filter {
            input: Box::new(base),
            predicate,
        },
        None => base,
    };
    Some((kind, left_keys, right_keys, right))
}

/// Applies [`optimize`] to the plans of subqueries inside an expression.
fn optimize_subqueries(e: Expr, catalog: &Catalog) -> Expr {
    e.transform(&mut |x| match x {
        Expr::Subquery {
            plan,
            kind,
            correlated,
            id,
        } => Expr::Subquery {
            plan: std::sync::Arc::new(optimize_all(std::sync::Arc::unwrap_or_clone(plan), catalog)),
            kind,
            correlated,
            id,
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
            left,
            plan: std::sync::Arc::new(optimize_all(std::sync::Arc::unwrap_or_clone(plan), catalog)),
            op,
            op_name,
            all,
            correlated,
            id,
        },
        other => other,
    })
}

/// Optimizes a plan and the subqueries in its expressions.
pub fn optimize_all(plan: Plan, catalog: &Catalog) -> Plan {
    let plan = optimize(plan, catalog);
    plan.clone()
        .map_exprs(0, &mut |e, _| Ok(optimize_subqueries(e, catalog)))
        .unwrap_or(plan)
}

/// Turns decorrelatable subquery conjuncts of a filter into semi / anti joins.
pub(super) fn unnest_subqueries(
    input: Plan,
    parts: Vec<Expr>,
    catalog: &Catalog,
) -> (Plan, Vec<Expr>) {
    let mut plan = input;
    let mut rest = Vec::new();
    for p in parts {
        match decorrelate(&p) {
            Some((kind, left_keys, right_keys, right)) => {
                let left_width = plan_width(&plan);
                let right_width = plan_width(&right);
                plan = Plan::HashJoin {
                    left: Box::new(plan),
                    right: Box::new(optimize(right, catalog)),
                    kind,
                    left_keys,
                    right_keys,
                    residual: None,
                    left_width,
                    right_width,
                };
            }
            None => rest.push(p),
        }
    }
    (plan, rest)
}
