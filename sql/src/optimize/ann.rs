//! Nearest-neighbour queries: `ORDER BY column <op> query LIMIT k` becomes a
//! [`VectorScan`] that asks storage for the k nearest rows instead of sorting the table.
//!
//! The shape recognised is the binder's `Limit → Sort → Project → source` where
//! - the sort has one key, ascending with NULLs last (PostgreSQL's default), that is a
//!   distance between a vector column of the source's table and an expression that reads no
//!   column of it (a constant, a parameter, `embed('...')`, an outer reference): the
//!   operators `<-> <=> <#> <+>`, or the functions `l2_distance`, `cosine_distance`,
//!   `l1_distance` and `vector_negative_inner_product` (those are searched exactly, as
//!   pgvector never uses an index for them); the key may be a select-list alias;
//! - the source is a scan of that table (its WHERE conditions become the scan's filter), or
//!   an inner hash join of such a scan with anything else (the LangChain shape: embeddings
//!   joined with their collection), which becomes a filter on the table's rows (a row
//!   qualifies when it has a match) and an expansion of the rows found;
//! - `k` is LIMIT + OFFSET, evaluated when the statement runs (parameters allowed).
//!
//! The vector index used is one on exactly that column whose operator class matches the
//! operator (`vector_l2_ops` ↔ `<->`, `vector_cosine_ops` ↔ `<=>`, `vector_ip_ops` ↔ `<#>`,
//! `vector_l1_ops` ↔ `<+>`), HNSW preferred over IVF. Without one the scan is exact. Either
//! way the rows and their order are the sort's (up to the index's recall): the filter is
//! applied inside the search, so it returns `min(k, qualifying rows)` rows.

use index::distance::Metric;
use storage::catalog::{Catalog, IndexMethodDef};
use storage::types::DataType;

use crate::pgtype::SqlType;
use crate::plan::{Expr, JoinKind, Plan, SortKey, VectorJoin, VectorScan};

/// Rewrites `plan` if it is a nearest-neighbour query (see the module documentation);
/// returns it unchanged otherwise.
pub fn nearest_neighbours(plan: Plan, catalog: &Catalog) -> Plan {
    let Plan::Limit {
        input,
        limit: Some(limit),
        offset,
    } = plan
    else {
        return plan;
    };
    match rewrite(&input, &limit, &offset, catalog) {
        Some(rewritten) => Plan::Limit {
            input: Box::new(rewritten),
            limit: Some(limit),
            offset,
        },
        None => Plan::Limit {
            input,
            limit: Some(limit),
            offset,
        },
    }
}

/// The distance expressions ORDER BY may use: name, metric, and whether an index may
/// answer it (pgvector's index scans only serve the operators).
fn distance_function(name: &str) -> Option<(Metric, bool)> {
    Some(match name {
        "<->" => (Metric::L2, true),
        "<=>" => (Metric::Cosine, true),
        "<#>" => (Metric::InnerProduct, true),
        "<+>" => (Metric::L1, true),
        "l2_distance" => (Metric::L2, false),
        "cosine_distance" => (Metric::Cosine, false),
        "l1_distance" => (Metric::L1, false),
        "vector_negative_inner_product" => (Metric::InnerProduct, false),
        _ => return None,
    })
}

/// `Sort → Project → source` as a vector scan under the same projection.
fn rewrite(input: &Plan, limit: &Expr, offset: &Option<Expr>, catalog: &Catalog) -> Option<Plan> {
    let Plan::Sort { input, keys, .. } = input else {
        return None;
    };
    let [SortKey {
        expr: Expr::Column(key),
        descending: false,
        nulls_first: false,
    }] = keys.as_slice()
    else {
        return None;
    };
    let Plan::Project { input, exprs } = input.as_ref() else {
        return None;
    };
    let distance = exprs.get(*key)?;
    let Expr::Call { name, args, .. } = distance else {
        return None;
    };
    let (metric, indexable) = distance_function(name)?;
    let (column, query) = match args.as_slice() {
        [c, q] | [q, c] if vector_column(c).is_some() && reads_no_row(q) => {
            (vector_column(c)?, q.clone())
        }
        _ => return None,
    };
    if !reads_no_row(limit) || offset.as_ref().is_some_and(|o| !reads_no_row(o)) {
        return None;
    }
    let Source {
        table,
        width,
        filter,
        join,
        position,
        masks,
    } = source_of(input, column)?;
    let def = catalog.tables.get(&table)?;
    let attnum = u16::try_from(position + 1).ok()?;
    let vector_column = def.column(attnum)?;
    if vector_column.dropped || !matches!(vector_column.data_type, DataType::Vector(_)) {
        return None;
    }
    let index = if indexable {
        vector_index(catalog, table, attnum, metric)
    } else {
        None
    };
    let original_distance = distance.clone();
    // The ORDER BY expression over a table row, for the final ordering.
    let distance = distance.clone().transform(&mut |e| match e {
        Expr::Column(c) if c == column => Expr::Column(position),
        other => other,
    });
    let scan = VectorScan {
        table,
        width,
        index,
        column: position,
        operator: name,
        metric,
        query,
        distance,
        limit: limit.clone(),
        offset: offset.clone(),
        filter,
        join,
    };
    let mut found = Plan::VectorScan(Box::new(scan));
    let mut exprs = exprs.clone();
    if let Some(mut masks) = masks {
        if masks
            .get(column)
            .is_some_and(|e| !matches!(e, Expr::Column(_)))
        {
            // Ranking by a column masked as NULL: the ranking's own distance (the ORDER BY
            // expression, wherever the select list repeats it) is computed from the row
            // the index ranked; the column itself stays NULL.
            let raw = masks.len();
            masks.push(Expr::Column(position));
            exprs = exprs
                .into_iter()
                .map(|e| {
                    e.transform(&mut |x| {
                        if same_expr(&x, &original_distance) {
                            x.transform(&mut |y| match y {
                                Expr::Column(c) if c == column => Expr::Column(raw),
                                other => other,
                            })
                        } else {
                            x
                        }
                    })
                })
                .collect();
        }
        found = Plan::Project {
            input: Box::new(found),
            exprs: masks,
        };
    }
    Some(Plan::Project {
        input: Box::new(found),
        exprs,
    })
}

/// Whether two expressions of the shapes a distance takes (columns, parameters, constants,
/// casts and calls of them) are the same.
fn same_expr(a: &Expr, b: &Expr) -> bool {
    match (a, b) {
        (Expr::Column(x), Expr::Column(y)) | (Expr::Param(x), Expr::Param(y)) => x == y,
        (Expr::Const(x), Expr::Const(y)) => x == y,
        (
            Expr::Outer {
                level: l1,
                index: i1,
            },
            Expr::Outer {
                level: l2,
                index: i2,
            },
        ) => l1 == l2 && i1 == i2,
        (
            Expr::Cast {
                expr: e1, to: t1, ..
            },
            Expr::Cast {
                expr: e2, to: t2, ..
            },
        ) => t1 == t2 && same_expr(e1, e2),
        (
            Expr::Call {
                name: n1, args: a1, ..
            },
            Expr::Call {
                name: n2, args: a2, ..
            },
        ) => n1 == n2 && a1.len() == a2.len() && a1.iter().zip(a2).all(|(x, y)| same_expr(x, y)),
        _ => false,
    }
}

/// The column `e` reads, when it is a column (possibly cast from `vector(n)` to `vector`).
fn vector_column(e: &Expr) -> Option<usize> {
    match e {
        Expr::Column(c) => Some(*c),
        Expr::Cast {
            expr,
            from: SqlType::Vector(_),
            to: SqlType::Vector(_),
            ..
        } => vector_column(expr),
        _ => None,
    }
}

/// The table under a nearest-neighbour sort.
struct Source {
    table: u32,
    width: usize,
    filter: Option<Expr>,
    join: Option<VectorJoin>,
    /// Position in the table's row of the sorted-on column.
    position: usize,
    /// The masking projection over the table's rows (a masked role's scan), kept above the
    /// vector scan.
    masks: Option<Vec<Expr>>,
}

/// The table column a masking projection's output `e` stands for: a column passed through,
/// or a generated column hidden behind the ranking marker (NULL, but rankable).
fn unmasked_column(e: &Expr) -> Option<usize> {
    match e {
        Expr::Column(p) => Some(*p),
        Expr::Call { name, args, .. }
            if *name == crate::governance::masking::MASKED_RANKING_MARKER =>
        {
            match args.as_slice() {
                [Expr::Column(p)] => Some(*p),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A masked role's scan, `[Filter →] Project(masks) → scan`, as a source: the filter moves
/// into the scan when it reads only columns the masks pass through (or hide as NULL), with
/// those columns read from the table's row; the projection stays above the vector scan.
fn masked_source(source: &Plan, column: usize) -> Option<Source> {
    let (predicate, project) = match source {
        Plan::Filter { input, predicate } => (Some(predicate), input.as_ref()),
        other => (None, other),
    };
    let Plan::Project { input, exprs } = project else {
        return None;
    };
    if !matches!(input.as_ref(), Plan::SeqScan { .. }) {
        return None;
    }
    let position = unmasked_column(exprs.get(column)?)?;
    let mut inner = source_of(input, position)?;
    if let Some(predicate) = predicate {
        let mut movable = movable(predicate);
        predicate.walk(&mut |x| {
            if let Expr::Column(i) = x {
                movable &= exprs.get(*i).is_some_and(|e| unmasked_column(e).is_some());
            }
        });
        if !movable {
            return None;
        }
        let inlined = predicate.clone().transform(&mut |x| match x {
            Expr::Column(i) => exprs[i].clone(),
            other => other,
        });
        inner.filter = Some(match inner.filter.take() {
            Some(f) => Expr::And(vec![f, inlined]),
            None => inlined,
        });
    }
    inner.masks = Some(exprs.clone());
    Some(inner)
}

/// The table scanned by `source` and where the source's output column `column` is in it.
fn source_of(source: &Plan, column: usize) -> Option<Source> {
    match source {
        Plan::SeqScan {
            table,
            width,
            filter,
            row_id: false,
            ..
        } if column < *width => Some(Source {
            table: *table,
            width: *width,
            filter: filter.clone(),
            join: None,
            position: column,
            masks: None,
        }),
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
            let table_is_left = column < *left_width;
            let (scan, other, table_keys, other_keys, position, other_width) = if table_is_left {
                (left, right, left_keys, right_keys, column, *right_width)
            } else {
                (
                    right,
                    left,
                    right_keys,
                    left_keys,
                    column - left_width,
                    *left_width,
                )
            };
            let Plan::SeqScan {
                table,
                width,
                filter,
                row_id: false,
                ..
            } = scan.as_ref()
            else {
                return None;
            };
            if position >= *width || residual.as_ref().is_some_and(|r| !movable(r)) {
                return None;
            }
            let join = VectorJoin {
                other: other.as_ref().clone(),
                other_width,
                table_is_left,
                table_keys: table_keys.clone(),
                other_keys: other_keys.clone(),
                residual: residual.clone(),
            };
            Some(Source {
                table: *table,
                width: *width,
                filter: filter.clone(),
                join: Some(join),
                position,
                masks: None,
            })
        }
        Plan::Filter { .. } | Plan::Project { .. } => masked_source(source, column),
        _ => None,
    }
}

/// A vector index on exactly `attnum` of `table` whose operator class is `metric`'s,
/// HNSW before IVF.
fn vector_index(catalog: &Catalog, table: u32, attnum: u16, metric: Metric) -> Option<u32> {
    let mut best: Option<(u32, bool)> = None;
    for def in catalog.indexes_of(table) {
        let hnsw = match def.method {
            IndexMethodDef::Hnsw => true,
            IndexMethodDef::IvfFlat => false,
            IndexMethodDef::Btree => continue,
        };
        if def.columns.as_slice() != [attnum]
            || !def.expressions.is_empty()
            || def.predicate.is_some()
        {
            continue;
        }
        let opclass = def
            .opclasses
            .first()
            .map_or("vector_l2_ops", String::as_str);
        let opclass = opclass.rsplit('.').next().unwrap_or(opclass);
        if Metric::from_operator_class(opclass) != Some(metric) {
            continue;
        }
        if best.is_none_or(|(_, best_hnsw)| hnsw && !best_hnsw) {
            best = Some((def.oid, hnsw));
        }
    }
    best.map(|(oid, _)| oid)
}

/// Whether an expression reads nothing of the current row, so it is one value for the
/// whole scan (outer references, parameters and uncorrelated subqueries are fine).
fn reads_no_row(e: &Expr) -> bool {
    let mut ok = true;
    e.walk(&mut |x| {
        if matches!(
            x,
            Expr::Column(_)
                | Expr::AggRef(_)
                | Expr::WindowRef(_)
                | Expr::Subquery {
                    correlated: true,
                    ..
                }
                | Expr::InSubquery { .. }
        ) {
            ok = false;
        }
    });
    ok
}

/// Whether a join condition can be evaluated over a (table row ++ other row) by the scan:
/// no aggregate or window placeholders and no correlated subquery.
fn movable(e: &Expr) -> bool {
    let mut ok = true;
    e.walk(&mut |x| {
        if matches!(
            x,
            Expr::AggRef(_)
                | Expr::WindowRef(_)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_map_to_metrics_and_functions_are_exact_only() {
        assert_eq!(distance_function("<=>"), Some((Metric::Cosine, true)));
        assert_eq!(distance_function("<#>"), Some((Metric::InnerProduct, true)));
        assert_eq!(distance_function("l2_distance"), Some((Metric::L2, false)));
        assert_eq!(distance_function("inner_product"), None);
        assert_eq!(distance_function("="), None);
    }

    #[test]
    fn query_expressions_must_not_read_the_row() {
        assert!(reads_no_row(&Expr::Param(0)));
        assert!(reads_no_row(&Expr::Outer { level: 1, index: 3 }));
        assert!(!reads_no_row(&Expr::Column(2)));
        assert!(!reads_no_row(&Expr::Not(Box::new(Expr::Column(0)))));
    }
}
