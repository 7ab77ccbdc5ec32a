//! Hash aggregation, with DISTINCT / FILTER / ORDER BY inside aggregates and grouping sets.

use std::collections::{HashMap, HashSet};

use storage::types::{Row, Value};

use super::{compare_key, eval, row_key, truthy, Env, ExecCtx};
use crate::error::SqlResult;
use crate::func::aggregate::skips_nulls;
use crate::func::hash_key;
use crate::func::Accumulator;
use crate::plan::{AggCall, Expr};

/// An ordered aggregate's buffered input: sort keys and arguments.
type Buffered = (Vec<Value>, Vec<Value>);

struct Group {
    keys: Row,
    states: Vec<Box<dyn Accumulator>>,
    /// Per DISTINCT aggregate: argument keys seen.
    seen: Vec<Option<HashSet<Vec<u8>>>>,
    /// Per ordered aggregate: (sort keys, args) buffered until the end.
    buffered: Vec<Option<Vec<Buffered>>>,
}

fn new_group(keys: Row, aggs: &[AggCall]) -> Group {
    Group {
        keys,
        states: aggs.iter().map(|a| (a.aggregate.create)()).collect(),
        seen: aggs
            .iter()
            .map(|a| {
                if a.distinct {
                    Some(HashSet::new())
                } else {
                    None
                }
            })
            .collect(),
        buffered: aggs
            .iter()
            .map(|a| {
                if a.order_by.is_empty() {
                    None
                } else {
                    Some(Vec::new())
                }
            })
            .collect(),
    }
}

fn feed(
    group: &mut Group,
    aggs: &[AggCall],
    row: &Row,
    ctx: &ExecCtx,
    outer: Option<&Env>,
) -> SqlResult<()> {
    let env = Env { row, parent: outer };
    for (i, agg) in aggs.iter().enumerate() {
        if let Some(f) = &agg.filter {
            if !truthy(&eval(f, &env, ctx)?) {
                continue;
            }
        }
        let args: Vec<Value> = agg
            .args
            .iter()
            .map(|a| eval(a, &env, ctx))
            .collect::<SqlResult<_>>()?;
        if let Some(seen) = &mut group.seen[i] {
            // DISTINCT ignores NULL inputs for single-argument aggregates like PostgreSQL's
            // strict transition functions do.
            if args.len() == 1 && args[0].is_null() && skips_nulls(agg.aggregate.name) {
                continue;
            }
            let mut key = Vec::new();
            for a in &args {
                hash_key(a, &mut key);
            }
            if !seen.insert(key) {
                continue;
            }
        }
        if let Some(buffer) = &mut group.buffered[i] {
            let keys: Vec<Value> = agg
                .order_by
                .iter()
                .map(|k| eval(&k.expr, &env, ctx))
                .collect::<SqlResult<_>>()?;
            buffer.push((keys, args));
            continue;
        }
        ctx.with_fn(|f| group.states[i].update(f, &args))?;
    }
    Ok(())
}

fn finish(mut group: Group, aggs: &[AggCall], ctx: &ExecCtx) -> SqlResult<Row> {
    let mut row = std::mem::take(&mut group.keys);
    for (i, agg) in aggs.iter().enumerate() {
        if let Some(mut buffer) = group.buffered[i].take() {
            buffer.sort_by(|a, b| {
                for (k, key) in agg.order_by.iter().enumerate() {
                    let o = compare_key(&a.0[k], &b.0[k], key);
                    if o.is_ne() {
                        return o;
                    }
                }
                std::cmp::Ordering::Equal
            });
            for (_, args) in buffer {
                ctx.with_fn(|f| group.states[i].update(f, &args))?;
            }
        }
        row.push(ctx.with_fn(|f| group.states[i].finish(f))?);
    }
    Ok(row)
}

/// Groups `rows` by `groups` and computes `aggs` per group. With grouping sets, each set
/// is aggregated in turn (columns outside the set are NULL) and a GROUPING() bitmask column
/// follows the aggregates.
pub fn aggregate(
    rows: Vec<Row>,
    groups: &[Expr],
    aggs: &[AggCall],
    sets: Option<&[Vec<usize>]>,
    ctx: &ExecCtx,
    outer: Option<&Env>,
) -> SqlResult<Vec<Row>> {
    let Some(sets) = sets else {
        return aggregate_set(&rows, groups, None, aggs, ctx, outer);
    };
    let mut out = Vec::new();
    for set in sets {
        let mut part = aggregate_set(&rows, groups, Some(set), aggs, ctx, outer)?;
        let mut mask = 0i64;
        for i in 0..groups.len() {
            if !set.contains(&i) {
                mask |= 1 << (groups.len() - 1 - i);
            }
        }
        for r in &mut part {
            r.push(Value::Int8(mask));
        }
        out.extend(part);
    }
    Ok(out)
}

fn aggregate_set(
    rows: &[Row],
    groups: &[Expr],
    set: Option<&[usize]>,
    aggs: &[AggCall],
    ctx: &ExecCtx,
    outer: Option<&Env>,
) -> SqlResult<Vec<Row>> {
    let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut table: Vec<Group> = Vec::new();
    for (n, row) in rows.iter().enumerate() {
        if n % 4096 == 0 {
            ctx.check_cancel()?;
        }
        let env = Env { row, parent: outer };
        let mut keys = Vec::with_capacity(groups.len());
        for (i, g) in groups.iter().enumerate() {
            if set.is_some_and(|s| !s.contains(&i)) {
                keys.push(Value::Null);
            } else {
                keys.push(eval(g, &env, ctx)?);
            }
        }
        let key = row_key(&keys);
        let slot = match index.get(&key) {
            Some(&i) => i,
            None => {
                table.push(new_group(keys, aggs));
                index.insert(key, table.len() - 1);
                table.len() - 1
            }
        };
        feed(&mut table[slot], aggs, row, ctx, outer)?;
    }
    // An aggregate without GROUP BY has one row even over no input.
    let grand_total = groups.is_empty() || set.is_some_and(|s| s.is_empty());
    if table.is_empty() && grand_total {
        let keys = vec![Value::Null; groups.len()];
        table.push(new_group(keys, aggs));
    }
    table.into_iter().map(|g| finish(g, aggs, ctx)).collect()
}
