//! `ORDER BY ... LIMIT k` straight over a table scan: each worker keeps the best `k` rows of
//! its chunks in a bounded heap, computing the sort keys from the few columns they read and
//! building a whole row only for the rows that enter the heap. The workers' candidates are
//! then sorted together. Same result as sorting every row and keeping the first `k`.

use std::cmp::Ordering;

use rayon::prelude::*;
use storage::scan::{BlockPredicate, ScanOptions};
use storage::types::{Row, Value};

use super::parallel::{
    cancelled, columns_used, parallel_safe, remap, work_units, Shared, PARALLEL_MIN_ROWS,
};
use super::{compare_key, eval, truthy, Env, ExecCtx};
use crate::error::SqlResult;
use crate::plan::{Expr, Plan, SortKey};

/// Larger limits go through the ordinary sort (the heap would not save much).
const MAX_HEAP_ROWS: usize = 10_000;

/// One candidate: its sort key values and the whole row.
type Entry = (Vec<Value>, Row);

fn order(keys: &[SortKey], a: &[Value], b: &[Value]) -> Ordering {
    for (i, key) in keys.iter().enumerate() {
        let o = compare_key(&a[i], &b[i], key);
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// A max-heap (by sort order) of at most `k` entries: the root is the worst kept row.
struct Bounded<'a> {
    keys: &'a [SortKey],
    k: usize,
    heap: Vec<Entry>,
}

impl Bounded<'_> {
    /// Whether a row with these key values would be kept.
    fn admits(&self, values: &[Value]) -> bool {
        self.heap.len() < self.k || order(self.keys, values, &self.heap[0].0) == Ordering::Less
    }

    fn push(&mut self, entry: Entry) {
        if self.heap.len() < self.k {
            self.heap.push(entry);
            let mut i = self.heap.len() - 1;
            while i > 0 {
                let parent = (i - 1) / 2;
                if order(self.keys, &self.heap[i].0, &self.heap[parent].0) != Ordering::Greater {
                    break;
                }
                self.heap.swap(i, parent);
                i = parent;
            }
            return;
        }
        self.heap[0] = entry;
        let mut i = 0;
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut largest = i;
            for c in [l, r] {
                if c < self.heap.len()
                    && order(self.keys, &self.heap[c].0, &self.heap[largest].0) == Ordering::Greater
                {
                    largest = c;
                }
            }
            if largest == i {
                break;
            }
            self.heap.swap(i, largest);
            i = largest;
        }
    }
}

/// `Sort { input, keys, limit: k }` when `input` is a table scan, possibly under a
/// projection (the sort keys are then rewritten over the scan's columns and only the `k`
/// rows kept are projected); `None` for other shapes.
pub fn over_scan(
    input: &Plan,
    keys: &[SortKey],
    k: usize,
    ctx: &ExecCtx,
) -> Option<SqlResult<Vec<Row>>> {
    match input {
        Plan::SeqScan {
            table,
            width,
            filter,
            predicates,
            row_id: false,
        } => scan(*table, *width, filter.as_ref(), predicates, keys, k, ctx),
        Plan::Project { input, exprs } => {
            let Plan::SeqScan {
                table,
                width,
                filter,
                predicates,
                row_id: false,
            } = input.as_ref()
            else {
                return None;
            };
            let inner: Vec<SortKey> = keys
                .iter()
                .map(|key| SortKey {
                    expr: key.expr.clone().transform(&mut |x| match x {
                        Expr::Column(i) => exprs.get(i).cloned().unwrap_or(Expr::Column(i)),
                        other => other,
                    }),
                    descending: key.descending,
                    nulls_first: key.nulls_first,
                })
                .collect();
            let rows = match scan(*table, *width, filter.as_ref(), predicates, &inner, k, ctx)? {
                Ok(rows) => rows,
                Err(e) => return Some(Err(e)),
            };
            Some(
                rows.iter()
                    .map(|row| {
                        let env = Env { row, parent: None };
                        exprs.iter().map(|e| eval(e, &env, ctx)).collect()
                    })
                    .collect(),
            )
        }
        _ => None,
    }
}

/// The first `k` rows of `table` (filtered) in `keys` order; `None` when not applicable.
fn scan(
    table: u32,
    width: usize,
    filter: Option<&Expr>,
    predicates: &[BlockPredicate],
    keys: &[SortKey],
    k: usize,
    ctx: &ExecCtx,
) -> Option<SqlResult<Vec<Row>>> {
    if k == 0 || k > MAX_HEAP_ROWS {
        return None;
    }
    let mut exprs: Vec<&Expr> = keys.iter().map(|k| &k.expr).collect();
    exprs.extend(filter);
    if !exprs.iter().all(|e| parallel_safe(e)) {
        return None;
    }
    let mut used = Vec::new();
    columns_used(&exprs, &mut used);
    used.sort_unstable();
    if used.iter().any(|c| *c >= width) {
        return None;
    }
    let narrow_keys: Vec<Expr> = keys.iter().map(|k| remap(&k.expr, &used)).collect();
    let narrow_filter = filter.map(|f| remap(f, &used));
    let options = ScanOptions {
        columns: Some((1..=width as u16).collect()),
        predicates: predicates.to_vec(),
    };
    let partitions = match ctx.txn.scan_partitions(table, &options) {
        Ok(p) => p,
        Err(e) => return Some(Err(e.into())),
    };
    let total: usize = partitions.iter().map(|p| p.stored_rows()).sum();
    let units = work_units(&partitions);
    let worker = |range: (usize, std::ops::Range<usize>), w: &ExecCtx| -> SqlResult<Vec<Entry>> {
        let mut best = Bounded {
            keys,
            k,
            heap: Vec::with_capacity(k),
        };
        let mut narrow: Vec<Value> = Vec::with_capacity(used.len());
        let mut values: Vec<Value> = Vec::with_capacity(keys.len());
        for chunk in range.1 {
            cancelled(w)?;
            let Some(chunk) = partitions[range.0].column_chunk(chunk)? else {
                continue;
            };
            let mut failure = None;
            chunk.for_each_visible(|i| {
                if failure.is_some() {
                    return;
                }
                narrow.clear();
                narrow.extend(used.iter().map(|c| chunk.columns[*c][i].clone()));
                let env = Env {
                    row: &narrow,
                    parent: None,
                };
                let mut step = || -> SqlResult<bool> {
                    if let Some(f) = &narrow_filter {
                        if !truthy(&eval(f, &env, w)?) {
                            return Ok(false);
                        }
                    }
                    values.clear();
                    for key in &narrow_keys {
                        values.push(eval(key, &env, w)?);
                    }
                    Ok(best.admits(&values))
                };
                match step() {
                    Ok(true) => {
                        let row: Row = chunk.columns.iter().map(|c| c[i].clone()).collect();
                        best.push((values.clone(), row));
                    }
                    Ok(false) => {}
                    Err(e) => failure = Some(e),
                }
            });
            if let Some(e) = failure {
                return Err(e);
            }
        }
        Ok(best.heap)
    };
    let parts: Vec<SqlResult<Vec<Entry>>> =
        if total < PARALLEL_MIN_ROWS || rayon::current_num_threads() < 2 {
            vec![units.into_iter().try_fold(Vec::new(), |mut all, unit| {
                all.extend(worker(unit, ctx)?);
                Ok(all)
            })]
        } else {
            let shared = Shared::of(ctx);
            units
                .into_par_iter()
                .map(|unit| shared.run(|w| worker(unit, w)))
                .collect()
        };
    let mut all = Vec::new();
    for part in parts {
        match part {
            Ok(p) => all.extend(p),
            Err(e) => return Some(Err(e)),
        }
    }
    all.sort_by(|a, b| order(keys, &a.0, &b.0));
    all.truncate(k);
    Some(Ok(all
        .into_iter()
        .map(|(_, mut row)| {
            row.resize(width, Value::Null);
            row
        })
        .collect()))
}
