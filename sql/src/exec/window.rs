//! Window functions: rows are partitioned and ordered, then each call is computed over its
//! frame (`frame`: ROWS, RANGE and GROUPS bounds with offsets, EXCLUDE). Output rows keep
//! the input order of the partition sort (PostgreSQL gives no other guarantee without an
//! ORDER BY on the query). An aggregate whose frames only grow (the default frame, or one
//! from UNBOUNDED PRECEDING without exclusion) runs once per partition; other frames are
//! aggregated row by row.

use std::cmp::Ordering;

use storage::types::{Row, Value};

use super::{compare_key, eval, row_key, truthy, Env, ExecCtx};
use crate::error::{code, SqlError, SqlResult};
use crate::plan::{SortKey, WindowCall, WindowFn, WindowFunc};

mod frame;

use frame::{FrameRows, Frames};

pub fn window(
    rows: Vec<Row>,
    calls: &[WindowCall],
    ctx: &ExecCtx,
    outer: Option<&Env>,
) -> SqlResult<Vec<Row>> {
    let mut rows: Vec<Row> = rows;
    for call in calls {
        rows = one_call(rows, call, ctx, outer)?;
    }
    Ok(rows)
}

fn one_call(
    rows: Vec<Row>,
    call: &WindowCall,
    ctx: &ExecCtx,
    outer: Option<&Env>,
) -> SqlResult<Vec<Row>> {
    // Evaluate partition and order keys per row.
    let mut keyed: Vec<(Vec<u8>, Vec<Value>, Row)> = Vec::with_capacity(rows.len());
    for row in rows {
        let env = Env {
            row: &row,
            parent: outer,
        };
        let mut pk = Vec::new();
        for p in &call.partition_by {
            pk.push(eval(p, &env, ctx)?);
        }
        let ok: Vec<Value> = call
            .order_by
            .iter()
            .map(|k| eval(&k.expr, &env, ctx))
            .collect::<SqlResult<_>>()?;
        keyed.push((row_key(&pk), ok, row));
    }
    let order = |a: &[Value], b: &[Value], keys: &[SortKey]| -> Ordering {
        for (i, k) in keys.iter().enumerate() {
            let o = compare_key(&a[i], &b[i], k);
            if o.is_ne() {
                return o;
            }
        }
        Ordering::Equal
    };
    keyed.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| order(&a.1, &b.1, &call.order_by))
    });
    let mut out = Vec::with_capacity(keyed.len());
    let mut start = 0;
    while start < keyed.len() {
        let mut end = start + 1;
        while end < keyed.len() && keyed[end].0 == keyed[start].0 {
            end += 1;
        }
        let part = &keyed[start..end];
        let results = partition(part, call, ctx, outer, &order)?;
        for ((_, _, row), v) in part.iter().zip(results) {
            let mut r = row.clone();
            r.push(v);
            out.push(r);
        }
        start = end;
    }
    Ok(out)
}

type Keyed = (Vec<u8>, Vec<Value>, Row);

/// Compares two rows' ORDER BY keys.
type OrderFn = dyn Fn(&[Value], &[Value], &[SortKey]) -> Ordering;

fn partition(
    part: &[Keyed],
    call: &WindowCall,
    ctx: &ExecCtx,
    outer: Option<&Env>,
    order: &OrderFn,
) -> SqlResult<Vec<Value>> {
    let n = part.len();
    // Peer groups: rows equal on the ORDER BY keys.
    let mut peer_start = vec![0usize; n];
    let mut peer_end = vec![0usize; n];
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && order(&part[i].1, &part[j].1, &call.order_by).is_eq() {
            j += 1;
        }
        for k in i..j {
            peer_start[k] = i;
            peer_end[k] = j;
        }
        i = j;
    }
    let arg = |row: usize, k: usize| -> SqlResult<Value> {
        let env = Env {
            row: &part[row].2,
            parent: outer,
        };
        eval(&call.args[k], &env, ctx)
    };
    let uses_frame = matches!(
        call.func,
        WindowFunc::Aggregate(_)
            | WindowFunc::Builtin(WindowFn::FirstValue | WindowFn::LastValue | WindowFn::NthValue)
    );
    let frames = if uses_frame {
        Some(Frames::new(
            call.frame.as_ref(),
            &call.order_by,
            part.iter().map(|k| k.1.as_slice()).collect(),
            &peer_start,
            &peer_end,
            ctx,
            outer,
        )?)
    } else {
        None
    };
    let frame_of = |r: usize| -> SqlResult<FrameRows> {
        match &frames {
            Some(f) => f.rows(r, ctx),
            None => Err(SqlError::internal("window frame not prepared")),
        }
    };
    let mut out = Vec::with_capacity(n);
    match &call.func {
        WindowFunc::Builtin(f) => {
            let mut dense = 0i64;
            for r in 0..n {
                if peer_start[r] == r {
                    dense += 1;
                }
                let v = match f {
                    WindowFn::RowNumber => Value::Int8(r as i64 + 1),
                    WindowFn::Rank => Value::Int8(peer_start[r] as i64 + 1),
                    WindowFn::DenseRank => Value::Int8(dense),
                    WindowFn::PercentRank => Value::Float8(if n <= 1 {
                        0.0
                    } else {
                        peer_start[r] as f64 / (n - 1) as f64
                    }),
                    WindowFn::CumeDist => Value::Float8(peer_end[r] as f64 / n as f64),
                    WindowFn::Ntile => {
                        let buckets = match arg(r, 0)? {
                            Value::Int4(b) if b > 0 => b as usize,
                            Value::Null => {
                                out.push(Value::Null);
                                continue;
                            }
                            _ => {
                                return Err(SqlError::new(
                                    code::INVALID_PARAMETER_VALUE,
                                    "argument of ntile must be greater than zero",
                                ))
                            }
                        };
                        let per = n / buckets;
                        let extra = n % buckets;
                        // The first `extra` buckets hold one more row.
                        let big = extra * (per + 1);
                        let bucket = if r < big {
                            r / (per + 1)
                        } else {
                            extra + (r - big) / per.max(1)
                        };
                        Value::Int4(bucket as i32 + 1)
                    }
                    WindowFn::Lag | WindowFn::Lead => {
                        let offset = match arg(r, 1)? {
                            Value::Int4(o) => o as i64,
                            Value::Null => {
                                out.push(Value::Null);
                                continue;
                            }
                            _ => 1,
                        };
                        let target = if *f == WindowFn::Lag {
                            r as i64 - offset
                        } else {
                            r as i64 + offset
                        };
                        if target >= 0 && (target as usize) < n {
                            arg(target as usize, 0)?
                        } else {
                            arg(r, 2)?
                        }
                    }
                    WindowFn::FirstValue => match frame_of(r)?.first() {
                        Some(k) => arg(k, 0)?,
                        None => Value::Null,
                    },
                    WindowFn::LastValue => match frame_of(r)?.last() {
                        Some(k) => arg(k, 0)?,
                        None => Value::Null,
                    },
                    WindowFn::NthValue => {
                        let nth = match arg(r, 1)? {
                            Value::Int4(x) if x > 0 => x as usize,
                            Value::Null => {
                                out.push(Value::Null);
                                continue;
                            }
                            _ => {
                                return Err(SqlError::new(
                                    code::INVALID_PARAMETER_VALUE,
                                    "argument of nth_value must be greater than zero",
                                ))
                            }
                        };
                        match frame_of(r)?.nth(nth - 1) {
                            Some(k) => arg(k, 0)?,
                            None => Value::Null,
                        }
                    }
                };
                out.push(v);
            }
        }
        WindowFunc::Aggregate(agg) => {
            let frames = frames
                .as_ref()
                .ok_or_else(|| SqlError::internal("window frame not prepared"))?;
            if frames.is_growing() {
                // Frames that only grow are one running aggregate: the accumulators may be
                // finished repeatedly, with more input in between.
                let mut state = (agg.create)();
                let mut done = 0;
                let mut current = None;
                for r in 0..n {
                    let (_, end) = frames.bounds(r, ctx)?;
                    if end > done || current.is_none() {
                        for k in done..end {
                            feed(&mut *state, k, call, ctx, outer, part)?;
                        }
                        done = done.max(end);
                        current = Some(ctx.with_fn(|f| state.finish(f))?);
                    }
                    out.push(current.clone().unwrap_or(Value::Null));
                }
            } else {
                for r in 0..n {
                    let rows = frames.rows(r, ctx)?;
                    let mut state = (agg.create)();
                    for k in rows.iter() {
                        feed(&mut *state, k, call, ctx, outer, part)?;
                    }
                    out.push(ctx.with_fn(|f| state.finish(f))?);
                }
            }
        }
    }
    Ok(out)
}

fn feed(
    state: &mut dyn crate::func::Accumulator,
    row: usize,
    call: &WindowCall,
    ctx: &ExecCtx,
    outer: Option<&Env>,
    part: &[Keyed],
) -> SqlResult<()> {
    let env = Env {
        row: &part[row].2,
        parent: outer,
    };
    if let Some(f) = &call.filter {
        if !truthy(&eval(f, &env, ctx)?) {
            return Ok(());
        }
    }
    let args: Vec<Value> = call
        .args
        .iter()
        .map(|a| eval(a, &env, ctx))
        .collect::<SqlResult<_>>()?;
    ctx.with_fn(|f| state.update(f, &args))
}
