//! Runs a [`VectorScan`]: evaluates the query vector and `k`, hands storage the WHERE
//! conditions (and the join's match test) as its row filter, and puts the rows found in the
//! order the replaced sort would have given.
//!
//! `k` is LIMIT + OFFSET (with LIMIT's and OFFSET's own checks); a NULL LIMIT means every
//! row, searched exactly. The index is searched with the session's `hnsw.ef_search` and
//! `ivfflat.probes`; `SET enable_indexscan = off` searches exactly, as it makes PostgreSQL
//! sort (how one gets the exact answer to compare an index with). pgvector 0.8's
//! `hnsw.iterative_scan` / `ivfflat.iterative_scan` are accepted and ignored: they exist to
//! make pgvector's post-filtered index scans return enough rows, and this scan's filtered
//! search always returns `min(k, qualifying rows)`.
//!
//! The filter runs on this thread with this statement's context (storage calls it from the
//! search loop, never from another thread), and its first error is the statement's error.
//! Ordering: storage orders by the `f32` distance the index computes; the rows found are
//! then sorted (stably) by the ORDER BY expression itself, the SQL operator's `f64` value,
//! NaN after numbers and NULL last, so ties and rounding come out as the sort's would.

use std::cmp::Ordering;

use index::distance::VectorMathError;
use index::segment_index::{SearchParams, DEFAULT_EF_SEARCH, DEFAULT_PROBES};
use storage::types::{Row, Value};
use storage::vector_search::{VectorHit, VectorQuery};
use storage::StorageError;

use super::hashing::FastMap;
use super::{eval, run, truthy, Env, ExecCtx};
use crate::error::{code, SqlError, SqlResult};
use crate::func::hash_key;
use crate::plan::{Expr, VectorJoin, VectorScan};

/// The search's error: the statement's, whatever part of the search raised it.
struct SearchFailure(SqlError);

impl From<StorageError> for SearchFailure {
    fn from(error: StorageError) -> SearchFailure {
        SearchFailure(error.into())
    }
}

impl From<VectorMathError> for SearchFailure {
    fn from(error: VectorMathError) -> SearchFailure {
        SearchFailure(SqlError::new(code::DATA_EXCEPTION, error.to_string()))
    }
}

/// The other side of a join, hashed on its keys.
struct JoinSide<'p> {
    join: &'p VectorJoin,
    rows: Vec<Row>,
    by_key: FastMap<Vec<u8>, Vec<usize>>,
}

pub(super) fn run_vector_scan(
    scan: &VectorScan,
    ctx: &ExecCtx,
    outer: Option<&Env>,
) -> SqlResult<Vec<Row>> {
    let env = Env {
        row: &[],
        parent: outer,
    };
    let query = match eval(&scan.query, &env, ctx)? {
        Value::Vector(v) => Some(v),
        Value::Null => None,
        other => {
            return Err(SqlError::internal(format!(
                "nearest-neighbour query is not a vector: {other:?}"
            )))
        }
    };
    let (k, exact) = match row_count(scan, &env, ctx)? {
        Some(k) => (k, false),
        // No limit: every row, in order; an exact search over all of them.
        None => (usize::MAX, true),
    };
    let side = match &scan.join {
        Some(join) => Some(hash_other_side(join, ctx, outer)?),
        None => None,
    };
    let settings = |name: &str, default: usize| -> usize {
        ctx.effects
            .borrow()
            .settings
            .get(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let index_allowed = ctx.effects.borrow().settings.get("enable_indexscan") != Some("off");
    let mut filter_columns = Vec::new();
    let reads_row = scan.filter.is_some() || side.is_some();
    if reads_row {
        columns_read(scan, &mut filter_columns);
    }
    let request = VectorQuery {
        table: scan.table,
        column: (scan.column + 1) as u16,
        index: scan.index.filter(|_| index_allowed && !exact),
        metric: scan.metric,
        vector: query.as_deref(),
        k,
        params: SearchParams {
            ef_search: settings("hnsw.ef_search", DEFAULT_EF_SEARCH),
            probes: settings("ivfflat.probes", DEFAULT_PROBES),
        },
        filter_columns,
    };
    let filter = |row: &[Value]| -> Result<bool, SearchFailure> {
        qualifies(scan, side.as_ref(), row, ctx, outer).map_err(SearchFailure)
    };
    let hits = if reads_row {
        ctx.txn.vector_search(&request, Some(&filter))
    } else {
        ctx.txn.vector_search(&request, None)
    }
    .map_err(|SearchFailure(e)| e)?;
    ctx.check_cancel()?;
    let ordered = order_as_sorted(scan, hits, ctx, outer)?;
    match side {
        None => Ok(ordered),
        Some(side) => expand_join(scan, &side, ordered, ctx, outer),
    }
}

/// LIMIT + OFFSET, with their checks; `None` for a NULL (absent) LIMIT.
fn row_count(scan: &VectorScan, env: &Env, ctx: &ExecCtx) -> SqlResult<Option<usize>> {
    let count = |v: &Value| -> Option<i64> {
        match v {
            Value::Int2(x) => Some(i64::from(*x)),
            Value::Int4(x) => Some(i64::from(*x)),
            Value::Int8(x) => Some(*x),
            _ => None,
        }
    };
    let limit = match eval(&scan.limit, env, ctx)? {
        Value::Null => None,
        v => {
            let n = count(&v).unwrap_or(0);
            if n < 0 {
                return Err(SqlError::new(
                    code::INVALID_ROW_COUNT_IN_LIMIT_CLAUSE,
                    "LIMIT must not be negative",
                ));
            }
            Some(n as u64)
        }
    };
    let offset = match &scan.offset {
        None => 0,
        Some(o) => match eval(o, env, ctx)? {
            Value::Null => 0,
            v => {
                let n = count(&v).unwrap_or(0);
                if n < 0 {
                    return Err(SqlError::new(
                        code::INVALID_ROW_COUNT_IN_RESULT_OFFSET_CLAUSE,
                        "OFFSET must not be negative",
                    ));
                }
                n as u64
            }
        },
    };
    Ok(limit.map(|l| usize::try_from(l.saturating_add(offset)).unwrap_or(usize::MAX)))
}

/// Columns of the table row the filter and the join's match test read.
fn columns_read(scan: &VectorScan, out: &mut Vec<u16>) {
    let mut add = |e: &Expr, shift: Option<usize>| {
        e.walk(&mut |x| {
            if let Expr::Column(i) = x {
                let position = match shift {
                    None => Some(*i),
                    Some(first) => i.checked_sub(first).filter(|p| *p < scan.width),
                };
                if let Some(attnum) = position.and_then(|p| u16::try_from(p + 1).ok()) {
                    if !out.contains(&attnum) {
                        out.push(attnum);
                    }
                }
            }
        });
    };
    if let Some(filter) = &scan.filter {
        add(filter, None);
    }
    if let Some(join) = &scan.join {
        join.table_keys.iter().for_each(|k| add(k, None));
        if let Some(residual) = &join.residual {
            let first = if join.table_is_left {
                0
            } else {
                join.other_width
            };
            add(residual, Some(first));
        }
    }
}

/// Runs the join's other side and hashes its rows on their keys (NULL keys never match).
fn hash_other_side<'p>(
    join: &'p VectorJoin,
    ctx: &ExecCtx,
    outer: Option<&Env>,
) -> SqlResult<JoinSide<'p>> {
    let rows = run(&join.other, ctx, outer)?;
    let mut by_key: FastMap<Vec<u8>, Vec<usize>> = FastMap::default();
    let mut key = Vec::new();
    for (position, row) in rows.iter().enumerate() {
        if key_of(row, &join.other_keys, &mut key, ctx, outer)? {
            by_key.entry(key.clone()).or_default().push(position);
        }
    }
    Ok(JoinSide { join, rows, by_key })
}

/// Writes the join key of `row` into `key`; false when a part of it is NULL.
fn key_of(
    row: &[Value],
    keys: &[Expr],
    key: &mut Vec<u8>,
    ctx: &ExecCtx,
    outer: Option<&Env>,
) -> SqlResult<bool> {
    let env = Env { row, parent: outer };
    key.clear();
    for k in keys {
        let v = eval(k, &env, ctx)?;
        if v.is_null() {
            return Ok(false);
        }
        hash_key(&v, key);
    }
    Ok(true)
}

/// The row filter storage calls: the WHERE conditions, then (with a join) whether the row
/// has at least one match.
fn qualifies(
    scan: &VectorScan,
    side: Option<&JoinSide>,
    row: &[Value],
    ctx: &ExecCtx,
    outer: Option<&Env>,
) -> SqlResult<bool> {
    if let Some(filter) = &scan.filter {
        let env = Env { row, parent: outer };
        if !truthy(&eval(filter, &env, ctx)?) {
            return Ok(false);
        }
    }
    match side {
        None => Ok(true),
        Some(side) => Ok(!matches(side, row, ctx, outer, true)?.is_empty()),
    }
}

/// The other-side rows joining `row` (only the first when `first_only`).
fn matches(
    side: &JoinSide,
    row: &[Value],
    ctx: &ExecCtx,
    outer: Option<&Env>,
    first_only: bool,
) -> SqlResult<Vec<usize>> {
    let mut key = Vec::new();
    if !key_of(row, &side.join.table_keys, &mut key, ctx, outer)? {
        return Ok(Vec::new());
    }
    let Some(candidates) = side.by_key.get(key.as_slice()) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut joined = Vec::new();
    for &position in candidates {
        if let Some(residual) = &side.join.residual {
            joined_row(side.join, row, &side.rows[position], &mut joined);
            let env = Env {
                row: &joined,
                parent: outer,
            };
            if !truthy(&eval(residual, &env, ctx)?) {
                continue;
            }
        }
        out.push(position);
        if first_only {
            break;
        }
    }
    Ok(out)
}

fn joined_row(join: &VectorJoin, table_row: &[Value], other_row: &[Value], out: &mut Row) {
    out.clear();
    if join.table_is_left {
        out.extend_from_slice(table_row);
        out.extend_from_slice(other_row);
    } else {
        out.extend_from_slice(other_row);
        out.extend_from_slice(table_row);
    }
}

/// The rows found, sorted (stably) by the ORDER BY expression as the sort would.
fn order_as_sorted(
    scan: &VectorScan,
    hits: Vec<VectorHit>,
    ctx: &ExecCtx,
    outer: Option<&Env>,
) -> SqlResult<Vec<Row>> {
    let mut keyed = Vec::with_capacity(hits.len());
    for mut hit in hits {
        hit.row.resize(scan.width, Value::Null);
        let key = match hit.distance {
            None => None,
            Some(_) => {
                let env = Env {
                    row: &hit.row,
                    parent: outer,
                };
                match eval(&scan.distance, &env, ctx)? {
                    Value::Float8(d) => Some(d),
                    Value::Float4(d) => Some(f64::from(d)),
                    _ => None,
                }
            }
        };
        keyed.push((key, hit.row));
    }
    keyed.sort_by(|a, b| sort_order(a.0, b.0));
    Ok(keyed.into_iter().map(|(_, row)| row).collect())
}

/// PostgreSQL's ascending float order with NULLS LAST: numbers, then NaN, then NULL.
fn sort_order(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => match (a.is_nan(), b.is_nan()) {
            (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
        },
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Each table row followed by its join matches, as joined rows.
fn expand_join(
    scan: &VectorScan,
    side: &JoinSide,
    rows: Vec<Row>,
    ctx: &ExecCtx,
    outer: Option<&Env>,
) -> SqlResult<Vec<Row>> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        for position in matches(side, &row, ctx, outer, false)? {
            let mut joined = Vec::with_capacity(scan.output_width());
            joined_row(side.join, &row, &side.rows[position], &mut joined);
            out.push(joined);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_order_puts_nan_after_numbers_and_null_last() {
        let mut keys = [None, Some(f64::NAN), Some(2.0), Some(-1.0), None, Some(0.5)];
        keys.sort_by(|a, b| sort_order(*a, *b));
        let shown: Vec<String> = keys.iter().map(|k| format!("{k:?}")).collect();
        assert_eq!(
            shown,
            [
                "Some(-1.0)",
                "Some(0.5)",
                "Some(2.0)",
                "Some(NaN)",
                "None",
                "None"
            ]
        );
    }
}
