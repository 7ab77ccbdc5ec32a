//! Parallel execution of the two shapes that dominate large scans: a filtered table scan,
//! and an aggregate directly over one. Storage partitions (segments, memtables) are scanned
//! on rayon's pool, each worker with its own execution context; aggregates are computed per
//! worker and merged. Only columns the plan reads are decoded.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use rayon::prelude::*;
use storage::scan::{BlockPredicate, ScanOptions};
use storage::types::{Row, Value};

use super::{eval, row_key, truthy, Effects, Env, ExecCtx};
use crate::error::{SqlError, SqlResult};
use crate::func::Accumulator;
use crate::plan::{AggCall, Expr};

/// Tables with fewer stored rows than this are scanned on the calling thread.
const PARALLEL_MIN_ROWS: usize = 50_000;

/// Whether an expression can be evaluated by a worker (no subquery, session function or
/// outer reference, which need the statement's shared state).
fn parallel_safe(e: &Expr) -> bool {
    let mut ok = true;
    e.walk(&mut |x| {
        if matches!(
            x,
            Expr::Subquery { .. }
                | Expr::InSubquery { .. }
                | Expr::Session { .. }
                | Expr::Outer { .. }
                | Expr::AggRef(_)
                | Expr::WindowRef(_)
        ) {
            ok = false;
        }
    });
    ok
}

fn columns_used(exprs: &[&Expr], out: &mut Vec<usize>) {
    for e in exprs {
        e.walk(&mut |x| {
            if let Expr::Column(i) = x {
                if !out.contains(i) {
                    out.push(*i);
                }
            }
        });
    }
}

fn remap(e: &Expr, used: &[usize]) -> Expr {
    e.clone().transform(&mut |x| match x {
        Expr::Column(i) => Expr::Column(used.iter().position(|u| *u == i).unwrap_or(0)),
        other => other,
    })
}

/// What a worker context needs from the statement, gathered so it can cross threads.
struct Shared<'a> {
    txn: &'a storage::Transaction,
    catalog: std::sync::Arc<storage::catalog::Catalog>,
    params: &'a [Value],
    format: crate::types::SessionFormat,
    user: &'a str,
    statement_start: i64,
    cancel: &'a std::sync::atomic::AtomicBool,
    settings: crate::engine::settings::Settings,
    database: &'a crate::engine::Database,
    process_id: i32,
    in_transaction: bool,
}

impl<'a> Shared<'a> {
    fn of(ctx: &ExecCtx<'a>) -> Shared<'a> {
        let effects = ctx.effects.borrow();
        Shared {
            txn: ctx.txn,
            catalog: ctx.catalog.clone(),
            params: ctx.params,
            format: ctx.format.clone(),
            user: ctx.user,
            statement_start: ctx.statement_start,
            cancel: ctx.cancel,
            settings: effects.settings.clone(),
            database: effects.database,
            process_id: effects.process_id,
            in_transaction: effects.in_transaction,
        }
    }

    fn run<T>(&self, f: impl FnOnce(&ExecCtx) -> SqlResult<T>) -> SqlResult<T> {
        let mut settings = self.settings.clone();
        let ctx = ExecCtx {
            txn: self.txn,
            catalog: self.catalog.clone(),
            params: self.params,
            format: self.format.clone(),
            user: self.user,
            statement_start: self.statement_start,
            cancel: self.cancel,
            effects: std::cell::RefCell::new(Effects {
                settings: &mut settings,
                database: self.database,
                process_id: self.process_id,
                in_transaction: self.in_transaction,
            }),
            ctes: Default::default(),
            subqueries: Default::default(),
            memo: Default::default(),
            memo_keys: Default::default(),
        };
        f(&ctx)
    }
}

/// Splits the partitions into ranges of chunks, a few per thread, so that one large
/// segment or memtable is scanned by every thread.
fn work_units(partitions: &[storage::ScanPartition]) -> Vec<(usize, std::ops::Range<usize>)> {
    let total: usize = partitions.iter().map(|p| p.chunk_count()).sum();
    let pieces = rayon::current_num_threads().max(1) * 4;
    let size = total.div_ceil(pieces).max(1);
    let mut units = Vec::new();
    for (i, p) in partitions.iter().enumerate() {
        let n = p.chunk_count();
        let mut start = 0;
        while start < n {
            let end = (start + size).min(n);
            units.push((i, start..end));
            start = end;
        }
    }
    units
}

fn cancelled(ctx: &ExecCtx) -> SqlResult<()> {
    if ctx.cancel.load(Ordering::Relaxed) {
        return Err(SqlError::query_canceled());
    }
    Ok(())
}

/// A filtered scan on several threads; `None` when the scan is better run serially.
pub fn scan(
    table: u32,
    width: usize,
    filter: Option<&Expr>,
    predicates: &[BlockPredicate],
    ctx: &ExecCtx,
) -> Option<SqlResult<Vec<Row>>> {
    if filter.is_some_and(|f| !parallel_safe(f)) {
        return None;
    }
    let options = ScanOptions {
        columns: None,
        predicates: predicates.to_vec(),
    };
    let partitions = match ctx.txn.scan_partitions(table, &options) {
        Ok(p) => p,
        Err(e) => return Some(Err(e.into())),
    };
    let total: usize = partitions.iter().map(|p| p.stored_rows()).sum();
    if total < PARALLEL_MIN_ROWS || rayon::current_num_threads() < 2 {
        return None;
    }
    let shared = Shared::of(ctx);
    let units = work_units(&partitions);
    let parts: Vec<SqlResult<Vec<Row>>> = units
        .par_iter()
        .map(|(p, range)| {
            shared.run(|w| {
                let mut out = Vec::new();
                for batch in partitions[*p].iter_chunks(range.clone()) {
                    let batch = batch?;
                    cancelled(w)?;
                    for mut row in batch.rows {
                        row.resize(width, Value::Null);
                        if let Some(f) = filter {
                            if !truthy(&eval(
                                f,
                                &Env {
                                    row: &row,
                                    parent: None,
                                },
                                w,
                            )?) {
                                continue;
                            }
                        }
                        out.push(row);
                    }
                }
                Ok(out)
            })
        })
        .collect();
    let mut rows = Vec::with_capacity(total);
    for p in parts {
        match p {
            Ok(r) => rows.extend(r),
            Err(e) => return Some(Err(e)),
        }
    }
    Some(Ok(rows))
}

struct Groups {
    index: HashMap<Vec<u8>, usize>,
    keys: Vec<Row>,
    states: Vec<Vec<Box<dyn Accumulator>>>,
}

/// GROUP BY over a table scan on several threads; `None` when not applicable.
#[allow(clippy::too_many_arguments)]
pub fn aggregate(
    table: u32,
    filter: Option<&Expr>,
    predicates: &[BlockPredicate],
    groups: &[Expr],
    aggs: &[AggCall],
    ctx: &ExecCtx,
) -> Option<SqlResult<Vec<Row>>> {
    let mut exprs: Vec<&Expr> = groups.iter().collect();
    for a in aggs {
        if a.distinct || !a.order_by.is_empty() {
            return None;
        }
        exprs.extend(a.args.iter());
        if let Some(f) = &a.filter {
            exprs.push(f);
        }
    }
    if let Some(f) = filter {
        exprs.push(f);
    }
    if !exprs.iter().all(|e| parallel_safe(e)) {
        return None;
    }
    let mut used = Vec::new();
    columns_used(&exprs, &mut used);
    used.sort();
    let groups: Vec<Expr> = groups.iter().map(|g| remap(g, &used)).collect();
    let filter = filter.map(|f| remap(f, &used));
    let aggs: Vec<(Vec<Expr>, Option<Expr>, &AggCall)> = aggs
        .iter()
        .map(|a| {
            (
                a.args.iter().map(|x| remap(x, &used)).collect(),
                a.filter.as_ref().map(|f| remap(f, &used)),
                a,
            )
        })
        .collect();
    let options = ScanOptions {
        columns: Some(used.iter().map(|i| *i as u16 + 1).collect()),
        predicates: predicates.to_vec(),
    };
    let partitions = match ctx.txn.scan_partitions(table, &options) {
        Ok(p) => p,
        Err(e) => return Some(Err(e.into())),
    };
    let total: usize = partitions.iter().map(|p| p.stored_rows()).sum();
    if total < PARALLEL_MIN_ROWS || rayon::current_num_threads() < 2 {
        return None;
    }
    let shared = Shared::of(ctx);
    let width = used.len();
    let units = work_units(&partitions);
    let locals: Vec<SqlResult<Groups>> = units
        .par_iter()
        .map(|(p, range)| {
            shared.run(|w| {
                let mut local = Groups {
                    index: HashMap::new(),
                    keys: Vec::new(),
                    states: Vec::new(),
                };
                let mut keys = Vec::with_capacity(groups.len());
                for batch in partitions[*p].iter_chunks(range.clone()) {
                    let batch = batch?;
                    cancelled(w)?;
                    for mut row in batch.rows {
                        row.resize(width, Value::Null);
                        let env = Env {
                            row: &row,
                            parent: None,
                        };
                        if let Some(f) = &filter {
                            if !truthy(&eval(f, &env, w)?) {
                                continue;
                            }
                        }
                        keys.clear();
                        for g in &groups {
                            keys.push(eval(g, &env, w)?);
                        }
                        let key = row_key(&keys);
                        let slot = match local.index.get(&key) {
                            Some(&s) => s,
                            None => {
                                local.keys.push(keys.clone());
                                local
                                    .states
                                    .push(aggs.iter().map(|a| (a.2.aggregate.create)()).collect());
                                local.index.insert(key, local.keys.len() - 1);
                                local.keys.len() - 1
                            }
                        };
                        for (i, (args, afilter, _)) in aggs.iter().enumerate() {
                            if let Some(f) = afilter {
                                if !truthy(&eval(f, &env, w)?) {
                                    continue;
                                }
                            }
                            let values: Vec<Value> = args
                                .iter()
                                .map(|a| eval(a, &env, w))
                                .collect::<SqlResult<_>>()?;
                            w.with_fn(|f| local.states[slot][i].update(f, &values))?;
                        }
                    }
                }
                Ok(local)
            })
        })
        .collect();
    // Merge the workers' tables.
    let mut merged = Groups {
        index: HashMap::new(),
        keys: Vec::new(),
        states: Vec::new(),
    };
    for local in locals {
        let local = match local {
            Ok(l) => l,
            Err(e) => return Some(Err(e)),
        };
        for (keys, states) in local.keys.into_iter().zip(local.states) {
            let key = row_key(&keys);
            match merged.index.get(&key) {
                Some(&slot) => {
                    for (i, s) in states.into_iter().enumerate() {
                        if let Err(e) = ctx.with_fn(|f| merged.states[slot][i].merge(f, s)) {
                            return Some(Err(e));
                        }
                    }
                }
                None => {
                    merged.keys.push(keys);
                    merged.states.push(states);
                    merged.index.insert(key, merged.keys.len() - 1);
                }
            }
        }
    }
    if merged.keys.is_empty() && groups.is_empty() {
        merged.keys.push(Vec::new());
        merged
            .states
            .push(aggs.iter().map(|a| (a.2.aggregate.create)()).collect());
    }
    let mut out = Vec::with_capacity(merged.keys.len());
    for (mut keys, mut states) in merged.keys.into_iter().zip(merged.states) {
        for s in states.iter_mut() {
            match ctx.with_fn(|f| s.finish(f)) {
                Ok(v) => keys.push(v),
                Err(e) => return Some(Err(e)),
            }
        }
        out.push(keys);
    }
    Some(Ok(out))
}
