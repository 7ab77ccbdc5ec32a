//! Plan rewrites: filters pushed down through inner joins into scans, equalities between the
//! two sides of a join turned into hash-join keys, equality on indexed columns turned into
//! index lookups, and simple comparisons with constants handed to storage for block skipping.

use storage::catalog::Catalog;
use storage::scan::{BlockPredicate, PredicateOp};
use storage::types::Value;

use crate::plan::{Expr, JoinKind, Plan};

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
        } => Plan::Limit {
            input: Box::new(optimize(*input, catalog)),
            limit,
            offset,
        },
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
        Expr::Session { .. } => ok = false,
        Expr::Call { .. } => {}
        _ => {}
    });
    ok
}

/// `column = value` conjuncts covering a prefix of a B-tree index become an index lookup.
fn index_scan(
    table: u32,
    width: usize,
    row_id: bool,
    parts: &[Expr],
    catalog: &Catalog,
) -> Option<Plan> {
    let mut equal: Vec<(usize, &Expr, usize)> = Vec::new();
    for (k, p) in parts.iter().enumerate() {
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
fn decorrelate(conjunct: &Expr) -> Option<(JoinKind, Vec<Expr>, Vec<Expr>, Plan)> {
    let (kind, plan, in_left) = match conjunct {
        Expr::Subquery {
            plan,
            kind: crate::plan::SubqueryKind::Exists,
            ..
        } => (JoinKind::Semi, plan, None),
        Expr::Not(inner) => match inner.as_ref() {
            Expr::Subquery {
                plan,
                kind: crate::plan::SubqueryKind::Exists,
                ..
            } => (JoinKind::Anti, plan, None),
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
            (JoinKind::Semi, plan, Some(left.as_ref().clone()))
        }
        _ => return None,
    };
    // Peel the select list (kept for IN: its first column is a key).
    let (body, selected) = match plan.as_ref() {
        Plan::Project { input, exprs } => (input.as_ref().clone(), exprs.first().cloned()),
        other => (other.clone(), Some(Expr::Column(0))),
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
    if let Some(left) = in_left {
        let selected = selected?;
        if !no_outer(&selected) {
            return None;
        }
        left_keys.push(left);
        right_keys.push(selected);
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
fn unnest_subqueries(input: Plan, parts: Vec<Expr>, catalog: &Catalog) -> (Plan, Vec<Expr>) {
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
