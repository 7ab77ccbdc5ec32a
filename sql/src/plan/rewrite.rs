//! Rewriting the expressions of a plan tree: [`Plan::map_exprs`] visits every expression a
//! plan holds directly, with the number of row environments between it and the plan's root;
//! [`map_outer_refs`] renumbers an expression's references to an enclosing row, inside
//! correlated subqueries too. Both return the first error `f` / `map` returns.

use std::sync::Arc;

use storage::types::Value;

use super::{AggCall, Expr, Plan, SortKey, WindowCall};

impl Plan {
    /// Rewrites every expression held directly by this plan tree (not inside subquery
    /// plans, which `f` handles itself). `f` receives the number of row environments
    /// between the expression and the plan's root (LATERAL right sides add one).
    pub fn map_exprs(
        self,
        depth: usize,
        f: &mut dyn FnMut(Expr, usize) -> crate::error::SqlResult<Expr>,
    ) -> crate::error::SqlResult<Plan> {
        type R<T> = crate::error::SqlResult<T>;
        let all = |v: Vec<Expr>,
                   d: usize,
                   f: &mut dyn FnMut(Expr, usize) -> R<Expr>|
         -> R<Vec<Expr>> { v.into_iter().map(|e| f(e, d)).collect() };
        let opt = |e: Option<Expr>,
                   d: usize,
                   f: &mut dyn FnMut(Expr, usize) -> R<Expr>|
         -> R<Option<Expr>> { e.map(|e| f(e, d)).transpose() };
        let keys = |k: Vec<SortKey>,
                    d: usize,
                    f: &mut dyn FnMut(Expr, usize) -> R<Expr>|
         -> R<Vec<SortKey>> {
            k.into_iter()
                .map(|k| {
                    Ok(SortKey {
                        expr: f(k.expr, d)?,
                        ..k
                    })
                })
                .collect()
        };
        let sub = |p: Box<Plan>,
                   d: usize,
                   f: &mut dyn FnMut(Expr, usize) -> R<Expr>|
         -> R<Box<Plan>> { Ok(Box::new(p.map_exprs(d, f)?)) };
        Ok(match self {
            Plan::Values { rows, width } => Plan::Values {
                rows: rows
                    .into_iter()
                    .map(|r| all(r, depth, f))
                    .collect::<R<_>>()?,
                width,
            },
            Plan::SeqScan {
                table,
                width,
                filter,
                predicates,
                row_id,
            } => Plan::SeqScan {
                table,
                width,
                filter: opt(filter, depth, f)?,
                predicates,
                row_id,
            },
            Plan::IndexScan {
                table,
                index,
                width,
                key,
                filter,
                row_id,
            } => Plan::IndexScan {
                table,
                index,
                width,
                key: all(key, depth, f)?,
                filter: opt(filter, depth, f)?,
                row_id,
            },
            Plan::SystemScan { table, filter } => Plan::SystemScan {
                table,
                filter: opt(filter, depth, f)?,
            },
            Plan::FunctionScan {
                name,
                func,
                args,
                width,
                ordinality,
            } => Plan::FunctionScan {
                name,
                func,
                args: all(args, depth, f)?,
                width,
                ordinality,
            },
            Plan::Filter { input, predicate } => Plan::Filter {
                input: sub(input, depth, f)?,
                predicate: f(predicate, depth)?,
            },
            Plan::Project { input, exprs } => Plan::Project {
                input: sub(input, depth, f)?,
                exprs: all(exprs, depth, f)?,
            },
            Plan::Lateral {
                left,
                right,
                kind,
                right_width,
            } => Plan::Lateral {
                left: sub(left, depth, f)?,
                right: sub(right, depth + 1, f)?,
                kind,
                right_width,
            },
            Plan::NestedLoopJoin {
                left,
                right,
                kind,
                on,
                left_width,
                right_width,
            } => Plan::NestedLoopJoin {
                left: sub(left, depth, f)?,
                right: sub(right, depth, f)?,
                kind,
                on: opt(on, depth, f)?,
                left_width,
                right_width,
            },
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
                left: sub(left, depth, f)?,
                right: sub(right, depth, f)?,
                kind,
                left_keys: all(left_keys, depth, f)?,
                right_keys: all(right_keys, depth, f)?,
                residual: opt(residual, depth, f)?,
                left_width,
                right_width,
            },
            Plan::Aggregate {
                input,
                groups,
                aggs,
                sets,
            } => Plan::Aggregate {
                input: sub(input, depth, f)?,
                groups: all(groups, depth, f)?,
                aggs: aggs
                    .into_iter()
                    .map(|a| {
                        Ok(AggCall {
                            args: all(a.args, depth, f)?,
                            filter: opt(a.filter, depth, f)?,
                            order_by: keys(a.order_by, depth, f)?,
                            ..a
                        })
                    })
                    .collect::<R<_>>()?,
                sets,
            },
            Plan::Window { input, calls } => Plan::Window {
                input: sub(input, depth, f)?,
                calls: calls
                    .into_iter()
                    .map(|c| {
                        Ok(WindowCall {
                            args: all(c.args, depth, f)?,
                            partition_by: all(c.partition_by, depth, f)?,
                            order_by: keys(c.order_by, depth, f)?,
                            filter: opt(c.filter, depth, f)?,
                            ..c
                        })
                    })
                    .collect::<R<_>>()?,
            },
            Plan::Sort {
                input,
                keys: k,
                limit,
            } => Plan::Sort {
                input: sub(input, depth, f)?,
                keys: keys(k, depth, f)?,
                limit,
            },
            Plan::Limit {
                input,
                limit,
                offset,
            } => Plan::Limit {
                input: sub(input, depth, f)?,
                limit: opt(limit, depth, f)?,
                offset: opt(offset, depth, f)?,
            },
            Plan::Distinct { input, on } => Plan::Distinct {
                input: sub(input, depth, f)?,
                on: on.map(|v| all(v, depth, f)).transpose()?,
            },
            Plan::SetOp {
                kind,
                all: a,
                left,
                right,
            } => Plan::SetOp {
                kind,
                all: a,
                left: sub(left, depth, f)?,
                right: sub(right, depth, f)?,
            },
            Plan::With { ctes, body } => Plan::With {
                ctes: ctes
                    .into_iter()
                    .map(|(id, p)| Ok((id, p.map_exprs(depth, f)?)))
                    .collect::<R<_>>()?,
                body: sub(body, depth, f)?,
            },
            Plan::RecursiveCte {
                id,
                base,
                step,
                union_all,
            } => Plan::RecursiveCte {
                id,
                base: sub(base, depth, f)?,
                step: sub(step, depth, f)?,
                union_all,
            },
            Plan::Zip { inputs } => Plan::Zip {
                inputs: inputs
                    .into_iter()
                    .map(|p| p.map_exprs(depth, f))
                    .collect::<R<_>>()?,
            },
            other @ Plan::CteScan { .. } => other,
            Plan::VectorScan(scan) => {
                let scan = *scan;
                let join = match scan.join {
                    Some(join) => Some(super::VectorJoin {
                        other: join.other.map_exprs(depth, f)?,
                        table_keys: all(join.table_keys, depth, f)?,
                        other_keys: all(join.other_keys, depth, f)?,
                        residual: opt(join.residual, depth, f)?,
                        ..join
                    }),
                    None => None,
                };
                Plan::VectorScan(Box::new(super::VectorScan {
                    query: f(scan.query, depth)?,
                    distance: f(scan.distance, depth)?,
                    limit: f(scan.limit, depth)?,
                    offset: opt(scan.offset, depth, f)?,
                    filter: opt(scan.filter, depth, f)?,
                    join,
                    ..scan
                }))
            }
        })
    }
}

/// Rewrites the references of `e` (at `depth` environments below the row of interest) to
/// that row's columns with `map(index)`; descends into subquery plans.
pub fn map_outer_refs(
    e: Expr,
    depth: usize,
    map: &mut dyn FnMut(usize) -> crate::error::SqlResult<usize>,
) -> crate::error::SqlResult<Expr> {
    let mut failure = None;
    let rebuilt = e.transform(&mut |x| match x {
        Expr::Outer { level, index } if level == depth && depth > 0 => match map(index) {
            Ok(i) => Expr::Outer { level, index: i },
            Err(err) => {
                failure.get_or_insert(err);
                Expr::Outer { level, index }
            }
        },
        Expr::Subquery {
            plan,
            kind,
            correlated,
            id,
        } if correlated => {
            let inner = Arc::unwrap_or_clone(plan);
            match inner.map_exprs(depth + 1, &mut |e, d| map_outer_refs(e, d, map)) {
                Ok(p) => Expr::Subquery {
                    plan: Arc::new(p),
                    kind,
                    correlated,
                    id,
                },
                Err(err) => {
                    failure.get_or_insert(err);
                    Expr::Const(Value::Null)
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
        } if correlated => {
            let inner = Arc::unwrap_or_clone(plan);
            match inner.map_exprs(depth + 1, &mut |e, d| map_outer_refs(e, d, map)) {
                Ok(p) => Expr::InSubquery {
                    left,
                    plan: Arc::new(p),
                    op,
                    op_name,
                    all,
                    correlated,
                    id,
                },
                Err(err) => {
                    failure.get_or_insert(err);
                    Expr::Const(Value::Null)
                }
            }
        }
        other => other,
    });
    match failure {
        Some(err) => Err(err),
        None => Ok(rebuilt),
    }
}
