//! Plan rewrites: filters pushed down through inner joins into scans, equalities between the
//! two sides of a join turned into hash-join keys, equality on indexed columns turned into
//! index lookups, and simple comparisons with constants handed to storage for block skipping.
//! EXISTS, NOT EXISTS and IN subqueries in filters become semi / anti joins (`subqueries`).

pub mod ann;
mod subqueries;

use storage::catalog::Catalog;
use storage::scan::{BlockPredicate, PredicateOp};
use storage::types::Value;

use crate::plan::{Expr, JoinKind, Plan};

pub use subqueries::{optimize_all, plan_width};

use subqueries::{decorrelate, unnest_subqueries};

/// Splits a predicate into its AND-ed parts.
pub fn conjuncts(e: Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::And(items) => items.into_iter().for_each(|i| conjuncts(i, out)),
        other => out.push(other),
    }
}

fn and_all(mut items: Vec<Expr>) -> Option<Expr> {
    match items.len() {
        0 => None,
        1 => items.pop(),
        _ => Some(Expr::And(items)),
    }
}

/// Range of row columns an expression reads, and whether it can move (no correlated
/// subquery, whose outer references depend on the row layout).
struct Refs {
    min: usize,
    max: usize,
    any: bool,
    movable: bool,
}

fn refs(e: &Expr) -> Refs {
    let mut r = Refs {
        min: usize::MAX,
        max: 0,
        any: false,
        movable: true,
    };
    e.walk(&mut |x| match x {
        Expr::Column(i) => {
            r.min = r.min.min(*i);
            r.max = r.max.max(*i);
            r.any = true;
        }
        Expr::Subquery {
            correlated: true, ..
        }
        | Expr::InSubquery {
            correlated: true, ..
        } => r.movable = false,
        Expr::AggRef(_) | Expr::WindowRef(_) => r.movable = false,
        _ => {}
    });
    r
}

fn shift(e: Expr, by: usize) -> Expr {
    e.transform(&mut |x| match x {
        Expr::Column(i) => Expr::Column(i - by),
        other => other,
    })
}

/// Builds a join, extracting equality keys for a hash join when there are some.
pub fn plan_join(
    left: Plan,
    right: Plan,
    kind: JoinKind,
    on: Option<Expr>,
    left_width: usize,
    right_width: usize,
) -> Plan {
    let mut parts = Vec::new();
    if let Some(on) = on {
        conjuncts(on, &mut parts);
    }
    let mut left_keys = Vec::new();
    let mut right_keys = Vec::new();
    let mut residual = Vec::new();
    for p in parts {
        if let Some((l, r)) = equi_key(&p, left_width) {
            left_keys.push(l);
            right_keys.push(r);
        } else {
            residual.push(p);
        }
    }
    if left_keys.is_empty() {
        return Plan::NestedLoopJoin {
            left: Box::new(left),
            right: Box::new(right),
            kind,
            on: and_all(residual),
            left_width,
            right_width,
        };
    }
    Plan::HashJoin {
        left: Box::new(left),
        right: Box::new(right),
        kind,
        left_keys,
        right_keys,
        residual: and_all(residual),
        left_width,
        right_width,
    }
}

/// `a = b` with `a` over the left columns and `b` over the right ones (or the reverse).
fn equi_key(p: &Expr, left_width: usize) -> Option<(Expr, Expr)> {
    let Expr::Call {
        name: "=", args, ..
    } = p
    else {
        return None;
    };
    if args.len() != 2 {
        return None;
    }
    let (a, b) = (&args[0], &args[1]);
    let (ra, rb) = (refs(a), refs(b));
    if !ra.any || !rb.any || !ra.movable || !rb.movable {
        return None;
    }
    if !same_key_type(p) {
        return None;
    }
    if ra.max < left_width && rb.min >= left_width {
        return Some((a.clone(), shift(b.clone(), left_width)));
    }
    if rb.max < left_width && ra.min >= left_width {
        return Some((b.clone(), shift(a.clone(), left_width)));
    }
    None
}

/// Hash keys must compare like `=` does; only equalities whose implementation is the
/// same-type one are used (cross-type ones stay residual conditions).
fn same_key_type(p: &Expr) -> bool {
    let Expr::Call { args, .. } = p else {
        return false;
    };
    !args.iter().any(|a| matches!(a, Expr::Cast { .. }))
        || args.iter().all(|a| matches!(a, Expr::Cast { .. }))
}

/// Rewrites a plan bottom-up: filter pushdown, join keys, index lookups.
pub fn optimize(plan: Plan, catalog: &Catalog) -> Plan {
    match plan {
        Plan::Filter { input, predicate } => {
            let input = optimize(*input, catalog);
            let mut parts = Vec::new();
            conjuncts(predicate, &mut parts);
            // Subqueries become joins after the other conditions are pushed down.
            let (plain, subqueries): (Vec<Expr>, Vec<Expr>) =
                parts.into_iter().partition(|p| decorrelate(p).is_none());
            let pushed = push_filter(input, plain, catalog);
            let (joined, rest) = unnest_subqueries(pushed, subqueries, catalog);
            wrap_filter(joined, rest)
        }
        Plan::Project { input, exprs } => Plan::Project {
            input: Box::new(optimize(*input, catalog)),
            exprs,
        },
        // A scan the binder gave a filter (row-level security's quals): index lookups and
        // block skipping from it too; its conjuncts keep their order.
        Plan::SeqScan {
            table,
            width,
            filter: Some(filter),
            predicates,
            row_id,
        } if predicates.is_empty() => {
            let mut parts = Vec::new();
            conjuncts(filter, &mut parts);
            let scan = Plan::SeqScan {
                table,
                width,
                filter: None,
                predicates,
                row_id,
            };
            push_filter(scan, parts, catalog)
        }
        Plan::NestedLoopJoin {
            left,
            right,
            kind,
            on,
            left_width,
            right_width,
        } => {
            let left = optimize(*left, catalog);
            let right = optimize(*right, catalog);
            plan_join(left, right, kind, on, left_width, right_width)
        }
        Plan::HashJoin {
            left,
            right,
            kind,
            left_keys,
            right_keys,
            residual,
            left_width,
            right_width,
        } => Plan::HashJoin {
            left: Box::new(optimize(*left, catalog)),
            right: Box::new(optimize(*right, catalog)),
            kind,
            left_keys,
            right_keys,
            residual,
            left_width,
            right_width,
        },
        Plan::Lateral {
            left,
            right,
            kind,
            right_width,
        } => Plan::Lateral {
            left: Box::new(optimize(*left, catalog)),
            right: Box::new(optimize(*right, catalog)),
            kind,
            right_width,
        },
        Plan::Aggregate {
            input,
            groups,
            aggs,
            sets,
        } => Plan::Aggregate {
            input: Box::new(optimize(*input, catalog)),
            groups,
            aggs,
            sets,
        },
        Plan::Window { input, calls } => Plan::Window {
            input: Box::new(optimize(*input, catalog)),
            calls,
        },
        Plan::Sort { input, keys, limit } => Plan::Sort {
            input: Box::new(optimize(*input, catalog)),
            keys,
            limit,
        },
        Plan::Limit {
            input,
            limit,
            offset,
        } => {
            // A constant LIMIT (+ OFFSET) over a sort needs only the first rows: top-k.
            let input = match (optimize(*input, catalog), constant_count(limit.as_ref())) {
                (
                    Plan::Sort {
                        input,
                        keys,
                        limit: None,
                    },
                    Some(Some(k)),
                ) if matches!(constant_count(offset.as_ref()), None | Some(Some(_))) => {
                    let skip = constant_count(offset.as_ref()).flatten().unwrap_or(0);
                    Plan::Sort {
                        input,
                        keys,
                        limit: Some(k.saturating_add(skip)),
                    }
                }
                (other, _) => other,
            };
            let limited = Plan::Limit {
                input: Box::new(input),
                limit,
                offset,
            };
            ann::nearest_neighbours(limited, catalog)
        }
        Plan::Distinct { input, on } => Plan::Distinct {
            input: Box::new(optimize(*input, catalog)),
            on,
        },
        Plan::SetOp {
            kind,
            all,
            left,
            right,
        } => Plan::SetOp {
            kind,
            all,
            left: Box::new(optimize(*left, catalog)),
            right: Box::new(optimize(*right, catalog)),
        },
        Plan::With { ctes, body } => Plan::With {
            ctes: ctes
                .into_iter()
                .map(|(id, p)| (id, optimize(p, catalog)))
                .collect(),
            body: Box::new(optimize(*body, catalog)),
        },
        Plan::RecursiveCte {
            id,
            base,
            step,
            union_all,
        } => Plan::RecursiveCte {
            id,
            base: Box::new(optimize(*base, catalog)),
            step: Box::new(optimize(*step, catalog)),
            union_all,
        },
        other => other,
    }
}

fn push_filter(input: Plan, parts: Vec<Expr>, catalog: &Catalog) -> Plan {
    match input {
        Plan::NestedLoopJoin {
            left,
            right,
            kind: JoinKind::Inner,
            on,
            left_width,
            right_width,
        } => {
            let mut to_left = Vec::new();
            let mut to_right = Vec::new();
            let mut join = Vec::new();
            if let Some(on) = on {
                conjuncts(on, &mut join);
            }
            let mut stay = Vec::new();
            for p in parts {
                let r = refs(&p);
                if !r.movable {
                    stay.push(p);
                } else if !r.any || r.max < left_width {
                    to_left.push(p);
                } else if r.min >= left_width {
                    to_right.push(shift(p, left_width));
                } else {
                    join.push(p);
                }
            }
            let left = if to_left.is_empty() {
                *left
            } else {
                push_filter(*left, to_left, catalog)
            };
            let right = if to_right.is_empty() {
                *right
            } else {
                push_filter(*right, to_right, catalog)
            };
            let joined = plan_join(
                left,
                right,
                JoinKind::Inner,
                and_all(join),
                left_width,
                right_width,
            );
            wrap_filter(joined, stay)
        }
        Plan::HashJoin {
            left,
            right,
            kind: JoinKind::Inner,
            left_keys,
            right_keys,
            residual,
            left_width,
            right_width,
        } => {
            let mut to_left = Vec::new();
            let mut to_right = Vec::new();
            let mut stay = Vec::new();
            let mut extra = Vec::new();
            if let Some(r) = residual {
                conjuncts(r, &mut extra);
            }
            for p in parts {
                let r = refs(&p);
                if !r.movable {
                    stay.push(p);
                } else if !r.any || r.max < left_width {
                    to_left.push(p);
                } else if r.min >= left_width {
                    to_right.push(shift(p, left_width));
                } else {
                    extra.push(p);
                }
            }
            let left = if to_left.is_empty() {
                *left
            } else {
                push_filter(*left, to_left, catalog)
            };
            let right = if to_right.is_empty() {
                *right
            } else {
                push_filter(*right, to_right, catalog)
            };
            let joined = Plan::HashJoin {
                left: Box::new(left),
                right: Box::new(right),
                kind: JoinKind::Inner,
                left_keys,
                right_keys,
                residual: and_all(extra),
                left_width,
                right_width,
            };
            wrap_filter(joined, stay)
        }
        // A projection over a scan that passes the filtered columns through (the masking
        // projection of a masked role's scan, `bind/mask.rs`): the conditions on those
        // columns move into the scan, as without the projection; the rest stay above.
        Plan::Project { input, exprs } if matches!(*input, Plan::SeqScan { .. }) => {
            let mut below = Vec::new();
            let mut stay = Vec::new();
            for p in parts {
                let mut through = refs(&p).movable;
                p.walk(&mut |x| {
                    if let Expr::Column(i) = x {
                        through &= matches!(exprs.get(*i), Some(Expr::Column(_)));
                    }
                });
                if through {
                    below.push(p.transform(&mut |x| match x {
                        Expr::Column(i) => exprs[i].clone(),
                        other => other,
                    }));
                } else {
                    stay.push(p);
                }
            }
            let input = if below.is_empty() {
                *input
            } else {
                push_filter(*input, below, catalog)
            };
            wrap_filter(
                Plan::Project {
                    input: Box::new(input),
                    exprs,
                },
                stay,
            )
        }
        Plan::SeqScan {
            table,
            width,
            filter,
            mut predicates,
            row_id,
        } => {
            let mut all = Vec::new();
            if let Some(f) = filter {
                conjuncts(f, &mut all);
            }
            all.extend(parts);
            // Correlated subqueries read the scan row through outer references: fine here,
            // since the scan row is the row they were bound against.
            if let Some(plan) = index_scan(table, width, row_id, &all, catalog) {
                return plan;
            }
            for p in &all {
                if let Some(bp) = block_predicate(p) {
                    predicates.push(bp);
                }
            }
            Plan::SeqScan {
                table,
                width,
                filter: and_all(all),
                predicates,
                row_id,
            }
        }
        Plan::SystemScan { table, filter } => {
            let mut all = Vec::new();
            if let Some(f) = filter {
                conjuncts(f, &mut all);
            }
            all.extend(parts);
            Plan::SystemScan {
                table,
                filter: and_all(all),
            }
        }
        Plan::Filter { input, predicate } => {
            let mut all = parts;
            conjuncts(predicate, &mut all);
            push_filter(*input, all, catalog)
        }
        other => wrap_filter(other, parts),
    }
}

fn wrap_filter(plan: Plan, parts: Vec<Expr>) -> Plan {
    match and_all(parts) {
        Some(predicate) => Plan::Filter {
            input: Box::new(plan),
            predicate,
        },
        None => plan,
    }
}

/// Whether an expression is the same for every row of the scan (constants, parameters,
/// outer references).
fn row_independent(e: &Expr) -> bool {
    let mut ok = true;
    e.walk(&mut |x| match x {
        Expr::Column(_)
        | Expr::Subquery { .. }
        | Expr::InSubquery { .. }
        | Expr::AggRef(_)
        | Expr::WindowRef(_) => ok = false,
        // Stable reads of the session (a policy's `current_setting(...)`) are one value
        // for the scan; those that change something or count are not.
        Expr::Session { func, .. } if !stable_session_fn(*func) => ok = false,
        Expr::Call { .. } => {}
        _ => {}
    });
    ok
}

fn stable_session_fn(f: crate::plan::SessionFn) -> bool {
    use crate::plan::SessionFn as F;
    matches!(
        f,
        F::CurrentSetting
            | F::CurrentSettingMissingOk
            | F::CurrentUser
            | F::SessionUser
            | F::CurrentDatabase
            | F::CurrentSchema
            | F::CurrentSchemas
    )
}

/// `column = value` conjuncts covering a prefix of a B-tree index become an index lookup
/// (also as `(column = value) IS TRUE`, the form of a row-level security policy's).
fn index_scan(
    table: u32,
    width: usize,
    row_id: bool,
    parts: &[Expr],
    catalog: &Catalog,
) -> Option<Plan> {
    let mut equal: Vec<(usize, &Expr, usize)> = Vec::new();
    for (k, p) in parts.iter().enumerate() {
        let p = match p {
            Expr::BoolTest {
                expr,
                value: Some(true),
                negated: false,
            } => expr.as_ref(),
            other => other,
        };
        let Expr::Call {
            name: "=", args, ..
        } = p
        else {
            continue;
        };
        if args.len() != 2 {
            continue;
        }
        match (&args[0], &args[1]) {
            (Expr::Column(c), v) | (v, Expr::Column(c)) if row_independent(v) => {
                equal.push((*c, v, k))
            }
            _ => {}
        }
    }
    if equal.is_empty() {
        return None;
    }
    let mut best: Option<(u32, Vec<usize>)> = None;
    for index in catalog.indexes_of(table) {
        if !matches!(index.method, storage::catalog::IndexMethodDef::Btree)
            || !index.expressions.is_empty()
            || index.predicate.is_some()
        {
            continue;
        }
        let mut used = Vec::new();
        for attnum in &index.columns {
            match equal.iter().find(|(c, _, _)| *c + 1 == *attnum as usize) {
                Some(&(_, _, k)) => used.push(k),
                None => break,
            }
        }
        if used.is_empty() {
            continue;
        }
        let full = used.len() == index.columns.len();
        let better = match &best {
            None => true,
            Some((_, b)) => used.len() > b.len() || (full && index.unique),
        };
        if better {
            best = Some((index.oid, used));
        }
    }
    let (index, used) = best?;
    let key = used
        .iter()
        .map(|&k| {
            equal
                .iter()
                .find(|(_, _, kk)| *kk == k)
                .map(|(_, v, _)| (*v).clone())
                .unwrap_or(Expr::Const(Value::Null))
        })
        .collect();
    let rest: Vec<Expr> = parts
        .iter()
        .enumerate()
        .filter(|(k, _)| !used.contains(k))
        .map(|(_, p)| p.clone())
        .collect();
    Some(Plan::IndexScan {
        table,
        index,
        width,
        key,
        filter: and_all(rest),
        row_id,
    })
}

/// `column <op> constant` for storage's block skipping.
fn block_predicate(p: &Expr) -> Option<BlockPredicate> {
    let Expr::Call { name, args, .. } = p else {
        return None;
    };
    if args.len() != 2 {
        return None;
    }
    let (column, value, flipped) = match (&args[0], &args[1]) {
        (Expr::Column(c), Expr::Const(v)) => (*c, v, false),
        (Expr::Const(v), Expr::Column(c)) => (*c, v, true),
        _ => return None,
    };
    if matches!(value, Value::Null) {
        return None;
    }
    let op = match (*name, flipped) {
        ("=", _) => PredicateOp::Eq,
        ("<", false) | (">", true) => PredicateOp::Lt,
        ("<=", false) | (">=", true) => PredicateOp::Le,
        (">", false) | ("<", true) => PredicateOp::Gt,
        (">=", false) | ("<=", true) => PredicateOp::Ge,
        _ => return None,
    };
    Some(BlockPredicate {
        attnum: u16::try_from(column + 1).ok()?,
        op,
        value: value.clone(),
    })
}

/// The value of a LIMIT or OFFSET known before execution: `None` without one, `Some(None)`
/// when it is not a non-negative integer constant (evaluated, and checked, at run time).
fn constant_count(e: Option<&Expr>) -> Option<Option<usize>> {
    let e = e?;
    let value = match e {
        Expr::Const(v) => v,
        Expr::Cast { expr, .. } => match expr.as_ref() {
            Expr::Const(v) => v,
            _ => return Some(None),
        },
        _ => return Some(None),
    };
    Some(match value {
        Value::Int2(v) => usize::try_from(*v).ok(),
        Value::Int4(v) => usize::try_from(*v).ok(),
        Value::Int8(v) => usize::try_from(*v).ok(),
        _ => None,
    })
}
