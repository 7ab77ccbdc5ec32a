//! Sorting: the order of one sort key's values ([`compare_key`], NULLs first or last as the
//! key says) and [`sort_rows`], a full sort or, with a limit, a top-k selection.

use storage::types::{Row, Value};

use super::{eval, Env, ExecCtx};
use crate::error::SqlResult;
use crate::func::compare;
use crate::plan::{Expr, SortKey};

/// Orders two values of a sort key: NULLs per `nulls_first`, others by `compare`.
pub fn compare_key(a: &Value, b: &Value, key: &SortKey) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (a.is_null(), b.is_null()) {
        (true, true) => Equal,
        (true, false) => {
            if key.nulls_first {
                Less
            } else {
                Greater
            }
        }
        (false, true) => {
            if key.nulls_first {
                Greater
            } else {
                Less
            }
        }
        (false, false) => {
            let o = compare(a, b);
            if key.descending {
                o.reverse()
            } else {
                o
            }
        }
    }
}

pub fn sort_rows(
    rows: Vec<Row>,
    keys: &[SortKey],
    limit: Option<usize>,
    ctx: &ExecCtx,
    outer: Option<&Env>,
) -> SqlResult<Vec<Row>> {
    // Sort keys that are plain columns are read in place; others are computed once.
    let simple: Option<Vec<usize>> = keys
        .iter()
        .map(|k| match k.expr {
            Expr::Column(i) => Some(i),
            _ => None,
        })
        .collect();
    let mut keyed: Vec<(Vec<Value>, Row)> = Vec::with_capacity(rows.len());
    for row in rows {
        let values = match &simple {
            Some(cols) => cols.iter().map(|&i| row[i].clone()).collect(),
            None => {
                let env = Env {
                    row: &row,
                    parent: outer,
                };
                keys.iter()
                    .map(|k| eval(&k.expr, &env, ctx))
                    .collect::<SqlResult<Vec<_>>>()?
            }
        };
        keyed.push((values, row));
    }
    ctx.check_cancel()?;
    let cmp = |a: &(Vec<Value>, Row), b: &(Vec<Value>, Row)| {
        for (i, k) in keys.iter().enumerate() {
            let o = compare_key(&a.0[i], &b.0[i], k);
            if o != std::cmp::Ordering::Equal {
                return o;
            }
        }
        std::cmp::Ordering::Equal
    };
    if let Some(k) = limit {
        if k < keyed.len() {
            if k == 0 {
                return Ok(Vec::new());
            }
            keyed.select_nth_unstable_by(k - 1, cmp);
            keyed.truncate(k);
        }
    }
    keyed.sort_by(cmp);
    Ok(keyed.into_iter().map(|(_, r)| r).collect())
}
