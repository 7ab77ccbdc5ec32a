//! Parallel execution of the two shapes that dominate large scans: a filtered table scan,
//! and an aggregate directly over one. Storage partitions (segments, memtables) are scanned
//! on rayon's pool, each worker with its own execution context; aggregates are computed per
//! worker and merged. Only columns the plan reads are decoded.

use std::sync::atomic::Ordering;

use rayon::prelude::*;
use storage::scan::{BlockPredicate, ScanOptions};
use storage::types::{Row, Value};

use super::hashing::FastMap;
use super::{eval, truthy, Effects, Env, ExecCtx};
use crate::error::{SqlError, SqlResult};
use crate::func::hash_key;
use crate::func::Accumulator;
use crate::plan::{AggCall, Expr};

/// Tables with fewer stored rows than this are scanned on the calling thread.
pub(super) const PARALLEL_MIN_ROWS: usize = 50_000;

/// Whether an expression can be evaluated by a worker (no subquery, session function or
/// outer reference, which need the statement's shared state).
pub(super) fn parallel_safe(e: &Expr) -> bool {
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

pub(super) fn columns_used(exprs: &[&Expr], out: &mut Vec<usize>) {
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

pub(super) fn remap(e: &Expr, used: &[usize]) -> Expr {
    e.clone().transform(&mut |x| match x {
        Expr::Column(i) => Expr::Column(used.iter().position(|u| *u == i).unwrap_or(0)),
        other => other,
    })
}

/// What a worker context needs from the statement, gathered so it can cross threads.
pub(super) struct Shared<'a> {
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
    pub(super) fn of(ctx: &ExecCtx<'a>) -> Shared<'a> {
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

    pub(super) fn run<T>(&self, f: impl FnOnce(&ExecCtx) -> SqlResult<T>) -> SqlResult<T> {
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
            instrument: Default::default(),
            notices: Default::default(),
        };
        f(&ctx)
    }
}

/// Splits the partitions into ranges of chunks, a few per thread, so that one large
/// segment or memtable is scanned by every thread.
pub(super) fn work_units(
    partitions: &[storage::ScanPartition],
) -> Vec<(usize, std::ops::Range<usize>)> {
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

pub(super) fn cancelled(ctx: &ExecCtx) -> SqlResult<()> {
    if ctx.cancel.load(Ordering::Relaxed) {
        return Err(SqlError::query_canceled());
    }
    Ok(())
}

/// A filtered table scan over column chunks (on several threads for large tables): the
/// filter is evaluated over the few columns it reads, and whole rows are built only for the
/// rows that pass. `None` when the filter needs the statement's shared state.
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
    let mut used = Vec::new();
    columns_used(&filter.into_iter().collect::<Vec<_>>(), &mut used);
    used.sort_unstable();
    if used.iter().any(|c| *c >= width) {
        return None;
    }
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
    let worker =
        |(p, range): (usize, std::ops::Range<usize>), w: &ExecCtx| -> SqlResult<Vec<Row>> {
            let mut out = Vec::new();
            let mut narrow: Vec<Value> = Vec::with_capacity(used.len());
            for chunk in range {
                cancelled(w)?;
                let Some(chunk) = partitions[p].column_chunk(chunk)? else {
                    continue;
                };
                let mut failure = None;
                chunk.for_each_visible(|i| {
                    if failure.is_some() {
                        return;
                    }
                    if let Some(f) = &narrow_filter {
                        narrow.clear();
                        narrow.extend(used.iter().map(|c| chunk.columns[*c][i].clone()));
                        let env = Env {
                            row: &narrow,
                            parent: None,
                        };
                        match eval(f, &env, w) {
                            Ok(v) if truthy(&v) => {}
                            Ok(_) => return,
                            Err(e) => {
                                failure = Some(e);
                                return;
                            }
                        }
                    }
                    out.push(chunk.columns.iter().map(|c| c[i].clone()).collect());
                });
                if let Some(e) = failure {
                    return Err(e);
                }
            }
            Ok(out)
        };
    let parts: Vec<SqlResult<Vec<Row>>> =
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
    let mut rows = Vec::new();
    for p in parts {
        match p {
            Ok(r) => rows.extend(r),
            Err(e) => return Some(Err(e)),
        }
    }
    Some(Ok(rows))
}

/// The groups one worker has seen: keys and aggregate states by slot.
pub(super) struct Groups {
    /// Single integer group keys.
    ints: FastMap<i64, usize>,
    /// Slot of the NULL key of a single group column.
    null: Option<usize>,
    /// Every other key, as `hash_key` bytes.
    bytes: FastMap<Vec<u8>, usize>,
    pub(super) keys: Vec<Row>,
    pub(super) states: Vec<Vec<Box<dyn Accumulator>>>,
    /// Per group, per DISTINCT aggregate: its distinct argument lists by `hash_key` bytes,
    /// fed to the accumulator (in sorted order, as PostgreSQL's sort-based DISTINCT does)
    /// only when the groups of every worker have been merged.
    distinct: Vec<Vec<Option<DistinctInputs>>>,
}

/// The distinct argument lists of one DISTINCT aggregate of one group, by `hash_key` bytes.
type DistinctInputs = FastMap<Vec<u8>, Vec<Value>>;

/// A DISTINCT aggregate's inputs, ordered as PostgreSQL sorts them (NULLs last).
fn sorted_inputs(set: DistinctInputs) -> Vec<Vec<Value>> {
    let key = crate::plan::SortKey {
        expr: Expr::Const(Value::Null),
        descending: false,
        nulls_first: false,
    };
    let mut inputs: Vec<Vec<Value>> = set.into_values().collect();
    inputs.sort_by(|a, b| {
        a.iter()
            .zip(b)
            .map(|(x, y)| super::compare_key(x, y, &key))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    inputs
}

impl Groups {
    pub(super) fn new() -> Groups {
        Groups {
            ints: FastMap::default(),
            null: None,
            bytes: FastMap::default(),
            keys: Vec::new(),
            states: Vec::new(),
            distinct: Vec::new(),
        }
    }

    pub(super) fn add(&mut self, keys: Row, aggs: &[&AggCall]) -> usize {
        self.keys.push(keys);
        self.states
            .push(aggs.iter().map(|a| (a.aggregate.create)()).collect());
        self.distinct.push(
            aggs.iter()
                .map(|a| a.distinct.then(FastMap::default))
                .collect(),
        );
        self.keys.len() - 1
    }

    /// Adds one input row of aggregate `n` of group `slot`.
    #[inline]
    pub(super) fn update(
        &mut self,
        slot: usize,
        n: usize,
        f: &crate::func::FnCtx,
        args: &[Value],
        buffer: &mut Vec<u8>,
    ) -> SqlResult<()> {
        let Some(seen) = &mut self.distinct[slot][n] else {
            return self.states[slot][n].update(f, args);
        };
        // Like the serial path: a single NULL argument is not an input of a DISTINCT
        // aggregate (its transition function is strict).
        if args.len() == 1 && args[0].is_null() {
            return Ok(());
        }
        buffer.clear();
        for a in args {
            hash_key(a, buffer);
        }
        if !seen.contains_key(buffer.as_slice()) {
            seen.insert(buffer.clone(), args.to_vec());
        }
        Ok(())
    }

    /// The slot of the group whose single key is `v`.
    #[inline]
    pub(super) fn single(&mut self, v: &Value, aggs: &[&AggCall], buffer: &mut Vec<u8>) -> usize {
        let int = match v {
            Value::Int2(x) => Some(i64::from(*x)),
            Value::Int4(x) => Some(i64::from(*x)),
            Value::Int8(x) => Some(*x),
            Value::Null => {
                return match self.null {
                    Some(slot) => slot,
                    None => {
                        let slot = self.add(vec![Value::Null], aggs);
                        self.null = Some(slot);
                        slot
                    }
                }
            }
            _ => None,
        };
        if let Some(int) = int {
            if let Some(&slot) = self.ints.get(&int) {
                return slot;
            }
            let slot = self.add(vec![v.clone()], aggs);
            self.ints.insert(int, slot);
            return slot;
        }
        buffer.clear();
        hash_key(v, buffer);
        self.by_bytes(buffer, || vec![v.clone()], aggs)
    }

    #[inline]
    fn by_bytes(&mut self, key: &[u8], keys: impl FnOnce() -> Row, aggs: &[&AggCall]) -> usize {
        if let Some(&slot) = self.bytes.get(key) {
            return slot;
        }
        let slot = self.add(keys(), aggs);
        self.bytes.insert(key.to_vec(), slot);
        slot
    }

    /// The slot of the group with key values `keys` (any number of group columns).
    pub(super) fn slot_of(
        &mut self,
        keys: &[Value],
        aggs: &[&AggCall],
        buffer: &mut Vec<u8>,
    ) -> usize {
        if keys.len() == 1 {
            return self.single(&keys[0], aggs, buffer);
        }
        buffer.clear();
        for k in keys {
            hash_key(k, buffer);
        }
        self.by_bytes(buffer, || keys.to_vec(), aggs)
    }
}

/// Where an input of the aggregation comes from, per visible row of a column chunk.
enum Input {
    /// Column `i` of the chunk, read in place.
    Column(usize),
    /// Any other expression, evaluated over the row built from the chunk.
    Expr(Expr),
}

impl Input {
    fn of(e: Expr) -> Input {
        match e {
            Expr::Column(i) => Input::Column(i),
            other => Input::Expr(other),
        }
    }

    fn needs_row(&self) -> bool {
        matches!(self, Input::Expr(_))
    }
}

/// The aggregation, with its expressions over the chunk's columns.
struct ScanAggregate<'a> {
    filter: Option<Expr>,
    groups: Vec<Input>,
    /// Per aggregate: its arguments and its FILTER.
    args: Vec<(Vec<Input>, Option<Expr>)>,
    aggs: Vec<&'a AggCall>,
    needs_row: bool,
}

impl ScanAggregate<'_> {
    /// Aggregates the chunks `range` of `partition` into `local`.
    fn run(
        &self,
        partition: &storage::ScanPartition,
        range: std::ops::Range<usize>,
        local: &mut Groups,
        w: &ExecCtx,
    ) -> SqlResult<()> {
        let mut row: Vec<Value> = Vec::new();
        let mut keys: Vec<Value> = Vec::with_capacity(self.groups.len());
        let mut buffer = Vec::new();
        let mut args: Vec<Value> = Vec::new();
        for chunk in range {
            cancelled(w)?;
            let Some(chunk) = partition.column_chunk(chunk)? else {
                continue;
            };
            let columns = &chunk.columns;
            let mut failure = None;
            w.with_fn(|f| {
                chunk.for_each_visible(|i| {
                    if failure.is_some() {
                        return;
                    }
                    if let Err(e) = self.row(
                        columns,
                        i,
                        f,
                        w,
                        local,
                        &mut row,
                        &mut keys,
                        &mut buffer,
                        &mut args,
                    ) {
                        failure = Some(e);
                    }
                })
            });
            if let Some(e) = failure {
                return Err(e);
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn row(
        &self,
        columns: &[std::sync::Arc<Vec<Value>>],
        i: usize,
        f: &crate::func::FnCtx,
        w: &ExecCtx,
        local: &mut Groups,
        row: &mut Vec<Value>,
        keys: &mut Vec<Value>,
        buffer: &mut Vec<u8>,
        args: &mut Vec<Value>,
    ) -> SqlResult<()> {
        if self.needs_row {
            row.clear();
            row.extend(columns.iter().map(|c| c[i].clone()));
        }
        let env = Env {
            row: row.as_slice(),
            parent: None,
        };
        if let Some(filter) = &self.filter {
            if !truthy(&eval(filter, &env, w)?) {
                return Ok(());
            }
        }
        let slot = match self.groups.as_slice() {
            [] => {
                if local.keys.is_empty() {
                    local.add(Vec::new(), &self.aggs);
                }
                0
            }
            [Input::Column(c)] => local.single(&columns[*c][i], &self.aggs, buffer),
            groups => {
                keys.clear();
                for g in groups {
                    keys.push(match g {
                        Input::Column(c) => columns[*c][i].clone(),
                        Input::Expr(e) => eval(e, &env, w)?,
                    });
                }
                local.slot_of(keys, &self.aggs, buffer)
            }
        };
        for (n, (inputs, afilter)) in self.args.iter().enumerate() {
            if let Some(af) = afilter {
                if !truthy(&eval(af, &env, w)?) {
                    continue;
                }
            }
            match inputs.as_slice() {
                [] => local.update(slot, n, f, &[], buffer)?,
                [Input::Column(c)] => {
                    local.update(slot, n, f, std::slice::from_ref(&columns[*c][i]), buffer)?
                }
                inputs => {
                    args.clear();
                    for input in inputs {
                        args.push(match input {
                            Input::Column(c) => columns[*c][i].clone(),
                            Input::Expr(e) => eval(e, &env, w)?,
                        });
                    }
                    local.update(slot, n, f, args, buffer)?;
                }
            }
        }
        Ok(())
    }
}

/// GROUP BY over a table scan, reading column chunks (on several threads for large tables);
/// `None` when not applicable.
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
        if !a.order_by.is_empty() {
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
    let plan = {
        let groups: Vec<Input> = groups.iter().map(|g| Input::of(remap(g, &used))).collect();
        let args: Vec<(Vec<Input>, Option<Expr>)> = aggs
            .iter()
            .map(|a| {
                (
                    a.args.iter().map(|x| Input::of(remap(x, &used))).collect(),
                    a.filter.as_ref().map(|f| remap(f, &used)),
                )
            })
            .collect();
        let needs_row = filter.is_some()
            || groups.iter().any(Input::needs_row)
            || args
                .iter()
                .any(|(inputs, f)| f.is_some() || inputs.iter().any(Input::needs_row));
        ScanAggregate {
            filter: filter.map(|f| remap(f, &used)),
            groups,
            args,
            aggs: aggs.iter().collect(),
            needs_row,
        }
    };
    let options = ScanOptions {
        columns: Some(used.iter().map(|i| *i as u16 + 1).collect()),
        predicates: predicates.to_vec(),
    };
    let partitions = match ctx.txn.scan_partitions(table, &options) {
        Ok(p) => p,
        Err(e) => return Some(Err(e.into())),
    };
    let total: usize = partitions.iter().map(|p| p.stored_rows()).sum();
    let units = work_units(&partitions);
    let locals: Vec<SqlResult<Groups>> =
        if total < PARALLEL_MIN_ROWS || rayon::current_num_threads() < 2 {
            vec![(|| {
                let mut local = Groups::new();
                for (p, range) in &units {
                    plan.run(&partitions[*p], range.clone(), &mut local, ctx)?;
                }
                Ok(local)
            })()]
        } else {
            let shared = Shared::of(ctx);
            units
                .par_iter()
                .map(|(p, range)| {
                    shared.run(|w| {
                        let mut local = Groups::new();
                        plan.run(&partitions[*p], range.clone(), &mut local, w)?;
                        Ok(local)
                    })
                })
                .collect()
        };
    Some(merge(locals, &plan.aggs, groups.is_empty(), ctx))
}

/// Folds the workers' groups together and finishes every aggregate.
pub(super) fn merge(
    locals: Vec<SqlResult<Groups>>,
    aggs: &[&AggCall],
    grand_total: bool,
    ctx: &ExecCtx,
) -> SqlResult<Vec<Row>> {
    let mut merged = Groups::new();
    let mut buffer = Vec::new();
    let mut first = true;
    for local in locals {
        let local = local?;
        if first {
            merged = local;
            first = false;
            continue;
        }
        let groups = local.keys.into_iter().zip(local.states).zip(local.distinct);
        for ((keys, states), distinct) in groups {
            let before = merged.keys.len();
            let slot = if keys.is_empty() {
                if merged.keys.is_empty() {
                    merged.add(Vec::new(), aggs);
                }
                0
            } else {
                merged.slot_of(&keys, aggs, &mut buffer)
            };
            if merged.keys.len() > before {
                merged.states[slot] = states;
                merged.distinct[slot] = distinct;
                continue;
            }
            for (i, s) in states.into_iter().enumerate() {
                ctx.with_fn(|f| merged.states[slot][i].merge(f, s))?;
            }
            for (i, set) in distinct.into_iter().enumerate() {
                if let (Some(into), Some(set)) = (&mut merged.distinct[slot][i], set) {
                    for (key, args) in set {
                        into.entry(key).or_insert(args);
                    }
                }
            }
        }
    }
    if merged.keys.is_empty() && grand_total {
        merged.add(Vec::new(), aggs);
    }
    let mut out = Vec::with_capacity(merged.keys.len());
    let groups = merged
        .keys
        .into_iter()
        .zip(merged.states)
        .zip(merged.distinct);
    for ((mut keys, mut states), distinct) in groups {
        for (s, set) in states.iter_mut().zip(distinct) {
            if let Some(set) = set {
                for args in sorted_inputs(set) {
                    ctx.with_fn(|f| s.update(f, &args))?;
                }
            }
            keys.push(ctx.with_fn(|f| s.finish(f))?);
        }
        out.push(keys);
    }
    Ok(out)
}
