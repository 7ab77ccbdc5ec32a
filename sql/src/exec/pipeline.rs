//! A fused pipeline for the analyst's query: an aggregate over a table scan probed through
//! inner hash joins (`SELECT region, sum(x) FROM big JOIN dim1 ... JOIN dim2 ... WHERE ...
//! GROUP BY ...`).
//!
//! The operator-at-a-time executor would materialize every joined row before aggregating
//! them. Here the build sides are materialized once (they are the small dimension tables),
//! and each visible row of the scanned table flows through the filters and hash probes
//! straight into per-worker aggregate states, reading only the columns the query uses; the
//! workers' groups are merged at the end. Results are the same as the unfused plan's: same
//! join semantics (a NULL key never matches, the residual condition is applied to the joined
//! row), same aggregates.

use rayon::prelude::*;
use storage::scan::{BlockPredicate, ScanOptions};
use storage::types::{Row, Value};

use super::hashing::FastMap;
use super::parallel::{cancelled, parallel_safe, work_units, Groups, Shared, PARALLEL_MIN_ROWS};
use super::{eval, run, truthy, Env, ExecCtx};
use crate::error::SqlResult;
use crate::func::hash_key;
use crate::plan::{AggCall, Expr, JoinKind, Plan};

/// One step applied to the row flowing up from the scan.
enum Stage<'p> {
    Filter(&'p Expr),
    /// An inner hash join probed with the current row; each match appends the build row.
    Probe {
        keys: &'p [Expr],
        residual: Option<&'p Expr>,
        table: JoinTable,
        rows: Vec<Row>,
    },
}

/// Build rows by join key. A single key whose values are all integers is kept as `i64`
/// (the common case: a foreign key to a dimension table); any other key as `hash_key` bytes.
enum JoinTable {
    Ints(FastMap<i64, Vec<usize>>),
    Bytes(FastMap<Vec<u8>, Vec<usize>>),
}

impl JoinTable {
    fn build(keys: &[Expr], rows: &[Row], ctx: &ExecCtx) -> SqlResult<JoinTable> {
        let mut values = Vec::with_capacity(rows.len());
        for r in rows {
            let env = Env {
                row: r,
                parent: None,
            };
            let mut key = Vec::with_capacity(keys.len());
            for k in keys {
                key.push(eval(k, &env, ctx)?);
            }
            values.push(key);
        }
        let ints: Option<Vec<Option<i64>>> = (keys.len() == 1)
            .then(|| {
                values
                    .iter()
                    .map(|key| match &key[0] {
                        Value::Null => Some(None),
                        v => integer(v).map(Some),
                    })
                    .collect()
            })
            .flatten();
        if let Some(ints) = ints {
            let mut table = FastMap::<i64, Vec<usize>>::default();
            for (j, key) in ints.into_iter().enumerate() {
                if let Some(key) = key {
                    table.entry(key).or_default().push(j);
                }
            }
            return Ok(JoinTable::Ints(table));
        }
        let mut table = FastMap::<Vec<u8>, Vec<usize>>::default();
        'rows: for (j, key) in values.iter().enumerate() {
            let mut bytes = Vec::new();
            for v in key {
                if v.is_null() {
                    continue 'rows;
                }
                hash_key(v, &mut bytes);
            }
            table.entry(bytes).or_default().push(j);
        }
        Ok(JoinTable::Bytes(table))
    }

    /// The build rows matching the probe row's keys (none when a key is NULL).
    fn probe<'t>(
        &'t self,
        keys: &[Expr],
        row: &[Value],
        ctx: &ExecCtx,
        buffer: &mut Vec<u8>,
    ) -> SqlResult<Option<&'t Vec<usize>>> {
        match self {
            JoinTable::Ints(table) => {
                let env = Env { row, parent: None };
                let value = match &keys[0] {
                    Expr::Column(i) => match row.get(*i) {
                        Some(v) => std::borrow::Cow::Borrowed(v),
                        None => return Ok(None),
                    },
                    other => std::borrow::Cow::Owned(eval(other, &env, ctx)?),
                };
                // A non-integral number never equals an integer key.
                Ok(integer(&value).and_then(|k| table.get(&k)))
            }
            JoinTable::Bytes(table) => {
                if !fill_key(keys, row, ctx, buffer)? {
                    return Ok(None);
                }
                Ok(table.get(buffer.as_slice()))
            }
        }
    }
}

/// The value of an integral number that fits in `i64` (integers, and floats or numerics
/// without a fractional part, which compare equal to them); `None` otherwise.
fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::Int2(x) => Some(i64::from(*x)),
        Value::Int4(x) => Some(i64::from(*x)),
        Value::Int8(x) => Some(*x),
        Value::Float4(x) => float_integer(f64::from(*x)),
        Value::Float8(x) => float_integer(*x),
        Value::Numeric(n) => match &**n {
            storage::types::Numeric::Finite(d) if d.is_integer() => {
                bigdecimal::ToPrimitive::to_i64(d)
            }
            _ => None,
        },
        _ => None,
    }
}

fn float_integer(x: f64) -> Option<i64> {
    (x.fract() == 0.0 && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&x))
        .then_some(x as i64)
}

/// The shape this module fuses, read off the plan: the scan at the bottom and what is applied
/// above it, bottom-up.
struct Spine<'p> {
    table: u32,
    width: usize,
    filter: Option<&'p Expr>,
    predicates: &'p [BlockPredicate],
    /// Bottom-up: filters and (build plan, left keys, right keys, residual, right width).
    steps: Vec<Step<'p>>,
}

enum Step<'p> {
    Filter(&'p Expr),
    Join {
        build: &'p Plan,
        left_keys: &'p [Expr],
        right_keys: &'p [Expr],
        residual: Option<&'p Expr>,
        right_width: usize,
    },
}

fn spine(plan: &Plan) -> Option<Spine<'_>> {
    match plan {
        Plan::SeqScan {
            table,
            width,
            filter,
            predicates,
            row_id: false,
        } => Some(Spine {
            table: *table,
            width: *width,
            filter: filter.as_ref(),
            predicates,
            steps: Vec::new(),
        }),
        Plan::Filter { input, predicate } => {
            let mut s = spine(input)?;
            s.steps.push(Step::Filter(predicate));
            Some(s)
        }
        Plan::HashJoin {
            left,
            right,
            kind: JoinKind::Inner,
            left_keys,
            right_keys,
            residual,
            right_width,
            ..
        } => {
            let mut s = spine(left)?;
            s.steps.push(Step::Join {
                build: right,
                left_keys,
                right_keys,
                residual: residual.as_ref(),
                right_width: *right_width,
            });
            Some(s)
        }
        _ => None,
    }
}

/// Runs `Aggregate { input, groups, aggs }` as one pipeline when `input` is a table scan with
/// at least one inner hash join above it; `None` when the plan has another shape.
pub fn aggregate_over_joins(
    input: &Plan,
    groups: &[Expr],
    aggs: &[AggCall],
    ctx: &ExecCtx,
) -> Option<SqlResult<Vec<Row>>> {
    let spine = spine(input)?;
    if !spine.steps.iter().any(|s| matches!(s, Step::Join { .. })) {
        return None;
    }
    // Every expression evaluated per row must be safe on a worker.
    let mut exprs: Vec<&Expr> = groups.iter().collect();
    for a in aggs {
        if !a.order_by.is_empty() {
            return None;
        }
        exprs.extend(a.args.iter());
        exprs.extend(a.filter.iter());
    }
    exprs.extend(spine.filter);
    for step in &spine.steps {
        match step {
            Step::Filter(f) => exprs.push(f),
            Step::Join {
                left_keys,
                residual,
                ..
            } => {
                exprs.extend(left_keys.iter());
                exprs.extend(residual.iter());
            }
        }
    }
    if !exprs.iter().all(|e| parallel_safe(e)) {
        return None;
    }
    Some(execute(&spine, &exprs, groups, aggs, ctx))
}

fn execute(
    spine: &Spine,
    exprs: &[&Expr],
    groups: &[Expr],
    aggs: &[AggCall],
    ctx: &ExecCtx,
) -> SqlResult<Vec<Row>> {
    // Columns of the final (widest) row that anything reads; positions never move as the
    // row grows, so one set covers every stage.
    let mut needed = Vec::new();
    super::parallel::columns_used(exprs, &mut needed);
    needed.sort_unstable();

    let mut stages = Vec::with_capacity(spine.steps.len());
    let mut offset = spine.width;
    for step in &spine.steps {
        match step {
            Step::Filter(f) => stages.push(Stage::Filter(f)),
            Step::Join {
                build,
                left_keys,
                right_keys,
                residual,
                right_width,
            } => {
                let mut rows = run(build, ctx, None)?;
                let table = JoinTable::build(right_keys, &rows, ctx)?;
                for r in rows.iter_mut() {
                    // Values nothing above reads are not carried into joined rows.
                    r.resize(*right_width, Value::Null);
                    for (i, v) in r.iter_mut().enumerate() {
                        if needed.binary_search(&(offset + i)).is_err() {
                            *v = Value::Null;
                        }
                    }
                }
                stages.push(Stage::Probe {
                    keys: left_keys,
                    residual: *residual,
                    table,
                    rows,
                });
                offset += right_width;
            }
        }
    }

    let scan_columns: Vec<usize> = needed
        .iter()
        .copied()
        .filter(|i| *i < spine.width)
        .collect();
    let options = ScanOptions {
        columns: Some(scan_columns.iter().map(|i| *i as u16 + 1).collect()),
        predicates: spine.predicates.to_vec(),
    };
    let partitions = ctx.txn.scan_partitions(spine.table, &options)?;
    let total: usize = partitions.iter().map(|p| p.stored_rows()).sum();
    let units = work_units(&partitions);
    let agg_refs: Vec<&AggCall> = aggs.iter().collect();
    let pipeline = Pipeline {
        width: spine.width,
        scan_columns: &scan_columns,
        filter: spine.filter,
        stages: &stages,
        groups,
        aggs: &agg_refs,
    };
    let locals: Vec<SqlResult<Groups>> =
        if total < PARALLEL_MIN_ROWS || rayon::current_num_threads() < 2 {
            let mut local = Groups::new();
            let result = units.iter().try_for_each(|(p, range)| {
                pipeline.run(&partitions[*p], range.clone(), &mut local, ctx)
            });
            vec![result.map(|_| local)]
        } else {
            let shared = Shared::of(ctx);
            units
                .par_iter()
                .map(|(p, range)| {
                    shared.run(|w| {
                        let mut local = Groups::new();
                        pipeline.run(&partitions[*p], range.clone(), &mut local, w)?;
                        Ok(local)
                    })
                })
                .collect()
        };
    super::parallel::merge(locals, &agg_refs, groups.is_empty(), ctx)
}

/// Writes the key of `row` into `key`; false when a key value is NULL.
fn fill_key(keys: &[Expr], row: &[Value], ctx: &ExecCtx, key: &mut Vec<u8>) -> SqlResult<bool> {
    key.clear();
    let env = Env { row, parent: None };
    for k in keys {
        let v = match k {
            Expr::Column(i) => match row.get(*i) {
                Some(Value::Null) | None => return Ok(false),
                Some(v) => {
                    hash_key(v, key);
                    continue;
                }
            },
            other => eval(other, &env, ctx)?,
        };
        if v.is_null() {
            return Ok(false);
        }
        hash_key(&v, key);
    }
    Ok(true)
}

struct Pipeline<'a> {
    width: usize,
    scan_columns: &'a [usize],
    filter: Option<&'a Expr>,
    stages: &'a [Stage<'a>],
    groups: &'a [Expr],
    aggs: &'a [&'a AggCall],
}

/// Per-worker scratch space.
#[derive(Default)]
struct Scratch {
    keys: Vec<Value>,
    key_bytes: Vec<Vec<u8>>,
    group_bytes: Vec<u8>,
    args: Vec<Value>,
}

impl Pipeline<'_> {
    fn run(
        &self,
        partition: &storage::ScanPartition,
        range: std::ops::Range<usize>,
        local: &mut Groups,
        w: &ExecCtx,
    ) -> SqlResult<()> {
        let mut row: Vec<Value> = Vec::with_capacity(self.width * 2);
        let mut scratch = Scratch {
            key_bytes: vec![Vec::new(); self.stages.len()],
            ..Scratch::default()
        };
        for chunk in range {
            cancelled(w)?;
            let Some(chunk) = partition.column_chunk(chunk)? else {
                continue;
            };
            let mut failure = None;
            chunk.for_each_visible(|i| {
                if failure.is_some() {
                    return;
                }
                row.clear();
                row.resize(self.width, Value::Null);
                for (column, position) in chunk.columns.iter().zip(self.scan_columns) {
                    row[*position] = column[i].clone();
                }
                let result = match self.filter {
                    Some(f) => eval(
                        f,
                        &Env {
                            row: &row,
                            parent: None,
                        },
                        w,
                    )
                    .map(|v| truthy(&v)),
                    None => Ok(true),
                };
                let result = match result {
                    Ok(true) => self.stage(0, &mut row, local, &mut scratch, w),
                    Ok(false) => Ok(()),
                    Err(e) => Err(e),
                };
                if let Err(e) = result {
                    failure = Some(e);
                }
            });
            if let Some(e) = failure {
                return Err(e);
            }
        }
        Ok(())
    }

    /// Applies stages `n..` to `row`, then feeds the aggregates.
    fn stage(
        &self,
        n: usize,
        row: &mut Vec<Value>,
        local: &mut Groups,
        scratch: &mut Scratch,
        w: &ExecCtx,
    ) -> SqlResult<()> {
        let Some(stage) = self.stages.get(n) else {
            return self.feed(row, local, scratch, w);
        };
        match stage {
            Stage::Filter(f) => {
                if truthy(&eval(f, &Env { row, parent: None }, w)?) {
                    self.stage(n + 1, row, local, scratch, w)?;
                }
                Ok(())
            }
            Stage::Probe {
                keys,
                residual,
                table,
                rows,
            } => {
                let mut key = std::mem::take(&mut scratch.key_bytes[n]);
                let candidates = table.probe(keys, row, w, &mut key);
                scratch.key_bytes[n] = key;
                let candidates = candidates?;
                let Some(candidates) = candidates else {
                    return Ok(());
                };
                let base = row.len();
                for &j in candidates {
                    row.truncate(base);
                    row.extend_from_slice(&rows[j]);
                    if let Some(r) = residual {
                        if !truthy(&eval(r, &Env { row, parent: None }, w)?) {
                            continue;
                        }
                    }
                    self.stage(n + 1, row, local, scratch, w)?;
                }
                row.truncate(base);
                Ok(())
            }
        }
    }

    fn feed(
        &self,
        row: &[Value],
        local: &mut Groups,
        scratch: &mut Scratch,
        w: &ExecCtx,
    ) -> SqlResult<()> {
        let env = Env { row, parent: None };
        let slot = match self.groups {
            [] => {
                if local.keys.is_empty() {
                    local.add(Vec::new(), self.aggs);
                }
                0
            }
            [Expr::Column(c)] => local.single(&row[*c], self.aggs, &mut scratch.group_bytes),
            groups => {
                scratch.keys.clear();
                for g in groups {
                    scratch.keys.push(eval(g, &env, w)?);
                }
                local.slot_of(&scratch.keys, self.aggs, &mut scratch.group_bytes)
            }
        };
        let buffer = &mut scratch.group_bytes;
        w.with_fn(|f| {
            for (i, agg) in self.aggs.iter().enumerate() {
                if let Some(af) = &agg.filter {
                    if !truthy(&eval(af, &env, w)?) {
                        continue;
                    }
                }
                match agg.args.as_slice() {
                    [] => local.update(slot, i, f, &[], buffer)?,
                    [Expr::Column(c)] => {
                        local.update(slot, i, f, std::slice::from_ref(&row[*c]), buffer)?
                    }
                    args => {
                        scratch.args.clear();
                        for a in args {
                            scratch.args.push(eval(a, &env, w)?);
                        }
                        local.update(slot, i, f, &scratch.args, buffer)?;
                    }
                }
            }
            Ok(())
        })
    }
}
