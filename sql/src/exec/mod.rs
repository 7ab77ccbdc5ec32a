//! Execution: runs a [`Plan`] inside a transaction and returns its rows.
//!
//! Plans are run operator by operator, each producing its rows in full (the row counts of
//! customer-360 queries make this cheap, and it keeps every operator simple and exact);
//! table scans read storage's partitions batch by batch, and the cancel flag is checked
//! between batches and between operators.

mod aggregate;
pub mod eval;
mod hashing;
mod join;
mod parallel;
mod pipeline;
mod set_op;
mod sort;
mod top_k;
mod values;
mod vector_scan;
mod window;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use storage::catalog::Catalog;
use storage::scan::ScanOptions;
use storage::types::{Row, Value};
use storage::Transaction;

use crate::embedding::prefetch;
use crate::engine::settings::Settings;
use crate::engine::Database;
use crate::error::{code, SqlError, SqlResult};
use crate::func::{hash_key, FnCtx};
use crate::plan::{Expr, JoinKind, Plan};
use crate::types::SessionFormat;

pub use eval::{eval, Env};
pub use sort::{compare_key, sort_rows};
pub use values::{input_text, input_value, output_text, sequence_last_value};

use join::{hash_join, nested_loop};
use set_op::set_op;

/// What statements may change in the session while they run.
pub struct Effects<'a> {
    pub settings: &'a mut Settings,
    pub database: &'a Database,
    pub process_id: i32,
    pub in_transaction: bool,
}

/// Correlated subquery results by (subquery id, outer key).
pub type Memo = HashMap<(usize, Vec<u8>), Rc<Vec<Row>>>;
/// Outer columns (level, index) each correlated subquery reads.
pub type MemoKeys = HashMap<usize, Option<Vec<(usize, usize)>>>;

/// Everything an executing statement reads.
pub struct ExecCtx<'a> {
    pub txn: &'a Transaction,
    pub catalog: Arc<Catalog>,
    pub params: &'a [Value],
    pub format: SessionFormat,
    pub user: &'a str,
    pub statement_start: i64,
    pub cancel: &'a AtomicBool,
    pub effects: RefCell<Effects<'a>>,
    /// Results of CTEs by id.
    pub ctes: RefCell<HashMap<usize, Rc<Vec<Row>>>>,
    /// Results of uncorrelated subqueries by id.
    pub subqueries: RefCell<HashMap<usize, Rc<Vec<Row>>>>,
    /// Results of correlated subqueries by id and the values of the outer columns they
    /// read (a subquery runs once per distinct outer key, not once per row).
    pub memo: RefCell<Memo>,
    /// Per correlated subquery: the outer columns it reads (level, index), or `None` when
    /// it must run every time (it calls a session function).
    pub memo_keys: RefCell<MemoKeys>,
    /// EXPLAIN ANALYZE: what each plan node (by address) produced, when collecting.
    pub instrument: RefCell<Option<HashMap<usize, NodeStats>>>,
    /// Notices raised while the statement runs (PL/pgSQL's RAISE), in order; the session
    /// sends them before the statement's result.
    pub notices: RefCell<Vec<crate::engine::Notice>>,
}

/// What one plan node did during EXPLAIN ANALYZE.
#[derive(Debug, Default, Clone, Copy)]
pub struct NodeStats {
    pub rows: u64,
    pub loops: u64,
    pub seconds: f64,
}

impl ExecCtx<'_> {
    /// Calls `f` with a function context.
    pub fn with_fn<T>(&self, f: impl FnOnce(&FnCtx) -> T) -> T {
        let setting = |name: &str| -> Option<String> {
            self.effects
                .try_borrow()
                .ok()
                .and_then(|e| e.settings.get(name).map(str::to_string))
        };
        let ctx = FnCtx {
            format: &self.format,
            catalog: &self.catalog,
            user: self.user,
            database: crate::engine::DATABASE_NAME,
            statement_start: self.statement_start,
            setting: &setting,
            queries: Some(self),
        };
        f(&ctx)
    }

    pub fn check_cancel(&self) -> SqlResult<()> {
        if self.cancel.swap(false, Ordering::Relaxed) {
            return Err(SqlError::query_canceled());
        }
        Ok(())
    }
}

/// Runs a plan; `outer` is the enclosing query's current row (correlated subqueries).
pub fn run(plan: &Plan, ctx: &ExecCtx, outer: Option<&Env>) -> SqlResult<Vec<Row>> {
    if ctx.instrument.borrow().is_none() {
        return run_node(plan, ctx, outer);
    }
    let start = std::time::Instant::now();
    let rows = run_node(plan, ctx, outer)?;
    let seconds = start.elapsed().as_secs_f64();
    if let Some(stats) = ctx.instrument.borrow_mut().as_mut() {
        let entry = stats.entry(plan as *const Plan as usize).or_default();
        entry.rows += rows.len() as u64;
        entry.loops += 1;
        entry.seconds += seconds;
    }
    Ok(rows)
}

fn run_node(plan: &Plan, ctx: &ExecCtx, outer: Option<&Env>) -> SqlResult<Vec<Row>> {
    ctx.check_cancel()?;
    match plan {
        Plan::Values { rows, .. } => {
            let env = Env {
                row: &[],
                parent: outer,
            };
            // `embed()` calls of a batch of rows run in one model call (see
            // `embedding::prefetch`).
            let mut out = Vec::with_capacity(rows.len());
            for batch in rows.chunks(prefetch::PREFETCH_BATCH_ROWS) {
                let cells: Vec<&Expr> = batch.iter().flatten().collect();
                let _prefetched = prefetch::prefetch_or_fall_back(&cells, [&[][..]], outer, ctx)?;
                for r in batch {
                    out.push(
                        r.iter()
                            .map(|e| eval(e, &env, ctx))
                            .collect::<SqlResult<_>>()?,
                    );
                }
            }
            Ok(out)
        }
        Plan::SeqScan {
            table,
            width,
            filter,
            predicates,
            row_id,
        } => {
            if !*row_id && outer.is_none() {
                if let Some(result) =
                    parallel::scan(*table, *width, filter.as_ref(), predicates, ctx)
                {
                    return result;
                }
            }
            let options = ScanOptions {
                columns: None,
                predicates: predicates.clone(),
            };
            let partitions = ctx.txn.scan_partitions(*table, &options)?;
            let mut out = Vec::new();
            for partition in &partitions {
                for batch in partition.iter() {
                    let batch = batch?;
                    ctx.check_cancel()?;
                    for (id, mut row) in batch.row_ids.into_iter().zip(batch.rows) {
                        row.resize(*width, Value::Null);
                        if *row_id {
                            row.push(Value::Int8(id as i64));
                        }
                        if let Some(f) = filter {
                            let env = Env {
                                row: &row,
                                parent: outer,
                            };
                            if !truthy(&eval(f, &env, ctx)?) {
                                continue;
                            }
                        }
                        out.push(row);
                    }
                }
            }
            Ok(out)
        }
        Plan::IndexScan {
            table,
            index,
            width,
            key,
            filter,
            row_id,
        } => {
            let env = Env {
                row: &[],
                parent: outer,
            };
            let def = ctx
                .catalog
                .indexes
                .get(index)
                .ok_or_else(|| SqlError::internal("index vanished"))?;
            let table_def = ctx
                .catalog
                .tables
                .get(table)
                .ok_or_else(|| SqlError::internal("table vanished"))?;
            let mut values = Vec::new();
            for (k, attnum) in key.iter().zip(def.columns.iter()) {
                let v = eval(k, &env, ctx)?;
                let column = table_def
                    .column(*attnum)
                    .ok_or_else(|| SqlError::internal("index column vanished"))?;
                match values::key_for_column(ctx, v, &column.data_type) {
                    Some(v) => values.push(v),
                    None => return Ok(Vec::new()),
                }
            }
            let mut out = Vec::new();
            for (id, mut row) in ctx.txn.index_lookup(*index, &values)? {
                row.resize(*width, Value::Null);
                if *row_id {
                    row.push(Value::Int8(id as i64));
                }
                if let Some(f) = filter {
                    let env = Env {
                        row: &row,
                        parent: outer,
                    };
                    if !truthy(&eval(f, &env, ctx)?) {
                        continue;
                    }
                }
                out.push(row);
            }
            Ok(out)
        }
        Plan::VectorScan(scan) => vector_scan::run_vector_scan(scan, ctx, outer),
        Plan::SystemScan { table, filter } => {
            let (settings, database) = {
                let effects = ctx.effects.borrow();
                (effects.settings.all(), effects.database)
            };
            let sys = crate::pg_catalog::SystemCtx {
                catalog: &ctx.catalog,
                user: ctx.user,
                database: crate::engine::DATABASE_NAME,
                settings: &settings,
                audit: Some(database.audit_log()),
            };
            let rows = (table.rows)(&sys)?;
            match filter {
                None => Ok(rows),
                Some(f) => {
                    let mut out = Vec::new();
                    for row in rows {
                        let env = Env {
                            row: &row,
                            parent: outer,
                        };
                        if truthy(&eval(f, &env, ctx)?) {
                            out.push(row);
                        }
                    }
                    Ok(out)
                }
            }
        }
        Plan::FunctionScan {
            name,
            func,
            args,
            width,
            ordinality,
        } => {
            let env = Env {
                row: &[],
                parent: outer,
            };
            let values: Vec<Value> = args
                .iter()
                .map(|a| eval(a, &env, ctx))
                .collect::<SqlResult<_>>()?;
            // A strict set-returning function gives no rows for a NULL argument (all built-in
            // ones are strict but `rag_context`, whose NULL `sources` means "every table").
            if values.iter().any(Value::is_null)
                && crate::func::registry()
                    .overloads(name)
                    .iter()
                    .all(|o| o.strict)
            {
                return Ok(Vec::new());
            }
            let mut rows = ctx.with_fn(|f| func(f, &values))?;
            if *ordinality {
                for (i, row) in rows.iter_mut().enumerate() {
                    row.push(Value::Int8(i as i64 + 1));
                }
            }
            for row in &mut rows {
                row.resize(*width, Value::Null);
            }
            Ok(rows)
        }
        Plan::Filter { input, predicate } => {
            let rows = run(input, ctx, outer)?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let env = Env {
                    row: &row,
                    parent: outer,
                };
                if truthy(&eval(predicate, &env, ctx)?) {
                    out.push(row);
                }
            }
            Ok(out)
        }
        Plan::Project { input, exprs } => {
            let rows = run(input, ctx, outer)?;
            let mut out = Vec::with_capacity(rows.len());
            // `embed()` calls run once per batch of rows (see `embedding::prefetch`).
            let expr_refs: Vec<&Expr> = exprs.iter().collect();
            let batch_rows = if prefetch::calls_embed(&expr_refs) {
                prefetch::PREFETCH_BATCH_ROWS
            } else {
                usize::MAX
            };
            for batch in rows.chunks(batch_rows) {
                let _prefetched = if batch_rows == usize::MAX {
                    None
                } else {
                    prefetch::prefetch_or_fall_back(
                        &expr_refs,
                        batch.iter().map(Vec::as_slice),
                        outer,
                        ctx,
                    )?
                };
                for row in batch {
                    let env = Env { row, parent: outer };
                    let projected: Row = exprs
                        .iter()
                        .map(|e| eval(e, &env, ctx))
                        .collect::<SqlResult<_>>()?;
                    out.push(projected);
                }
            }
            Ok(out)
        }
        Plan::Lateral {
            left,
            right,
            kind,
            right_width,
        } => {
            let rows = run(left, ctx, outer)?;
            let mut out = Vec::new();
            for l in rows {
                let env = Env {
                    row: &l,
                    parent: outer,
                };
                let rs = run(right, ctx, Some(&env))?;
                if rs.is_empty() && *kind == JoinKind::Left {
                    let mut row = l.clone();
                    row.extend(std::iter::repeat_n(Value::Null, *right_width));
                    out.push(row);
                }
                for r in rs {
                    let mut row = l.clone();
                    row.extend(r);
                    out.push(row);
                }
            }
            Ok(out)
        }
        Plan::NestedLoopJoin {
            left,
            right,
            kind,
            on,
            left_width,
            right_width,
        } => {
            let ls = run(left, ctx, outer)?;
            let rs = run(right, ctx, outer)?;
            nested_loop(
                ls,
                rs,
                *kind,
                on.as_ref(),
                *left_width,
                *right_width,
                ctx,
                outer,
            )
        }
        Plan::HashJoin {
            left,
            right,
            kind,
            left_keys,
            right_keys,
            residual,
            left_width,
            right_width,
        } => {
            let ls = run(left, ctx, outer)?;
            let rs = run(right, ctx, outer)?;
            hash_join(
                ls,
                rs,
                *kind,
                left_keys,
                right_keys,
                residual.as_ref(),
                (*left_width, *right_width),
                ctx,
                outer,
            )
        }
        Plan::Aggregate {
            input,
            groups,
            aggs,
            sets,
        } => {
            if let (
                Plan::SeqScan {
                    table,
                    filter,
                    predicates,
                    row_id: false,
                    ..
                },
                None,
                None,
            ) = (input.as_ref(), sets, outer)
            {
                if let Some(result) =
                    parallel::aggregate(*table, filter.as_ref(), predicates, groups, aggs, ctx)
                {
                    return result;
                }
            }
            if sets.is_none() && outer.is_none() {
                if let Some(result) = pipeline::aggregate_over_joins(input, groups, aggs, ctx) {
                    return result;
                }
            }
            let rows = run(input, ctx, outer)?;
            aggregate::aggregate(rows, groups, aggs, sets.as_deref(), ctx, outer)
        }
        Plan::Window { input, calls } => {
            let rows = run(input, ctx, outer)?;
            window::window(rows, calls, ctx, outer)
        }
        Plan::Sort { input, keys, limit } => {
            if let (Some(k), None) = (limit, outer) {
                if let Some(result) = top_k::over_scan(input, keys, *k, ctx) {
                    return result;
                }
            }
            let rows = run(input, ctx, outer)?;
            sort_rows(rows, keys, *limit, ctx, outer)
        }
        Plan::Limit {
            input,
            limit,
            offset,
        } => {
            let env = Env {
                row: &[],
                parent: outer,
            };
            let limit = match limit {
                Some(l) => match eval(l, &env, ctx)? {
                    Value::Null => None,
                    v => {
                        let n = as_i64(&v);
                        if n < 0 {
                            return Err(SqlError::new(
                                code::INVALID_ROW_COUNT_IN_LIMIT_CLAUSE,
                                "LIMIT must not be negative",
                            ));
                        }
                        Some(n as usize)
                    }
                },
                None => None,
            };
            let offset = match offset {
                Some(o) => match eval(o, &env, ctx)? {
                    Value::Null => 0,
                    v => {
                        let n = as_i64(&v);
                        if n < 0 {
                            return Err(SqlError::new(
                                code::INVALID_ROW_COUNT_IN_RESULT_OFFSET_CLAUSE,
                                "OFFSET must not be negative",
                            ));
                        }
                        n as usize
                    }
                },
                None => 0,
            };
            if limit == Some(0) {
                return Ok(Vec::new());
            }
            let rows = run(input, ctx, outer)?;
            let it = rows.into_iter().skip(offset);
            Ok(match limit {
                Some(n) => it.take(n).collect(),
                None => it.collect(),
            })
        }
        Plan::Distinct { input, on } => {
            let rows = run(input, ctx, outer)?;
            let mut seen = std::collections::HashSet::new();
            let mut out = Vec::new();
            for row in rows {
                let mut key = Vec::new();
                match on {
                    None => row.iter().for_each(|v| hash_key(v, &mut key)),
                    Some(exprs) => {
                        let env = Env {
                            row: &row,
                            parent: outer,
                        };
                        for e in exprs {
                            hash_key(&eval(e, &env, ctx)?, &mut key);
                        }
                    }
                }
                if seen.insert(key) {
                    out.push(row);
                }
            }
            Ok(out)
        }
        Plan::SetOp {
            kind,
            all,
            left,
            right,
        } => {
            let ls = run(left, ctx, outer)?;
            let rs = run(right, ctx, outer)?;
            Ok(set_op(*kind, *all, ls, rs))
        }
        Plan::Zip { inputs } => {
            let mut parts = Vec::new();
            for p in inputs {
                parts.push((crate::optimize::plan_width(p), run(p, ctx, outer)?));
            }
            let n = parts.iter().map(|(_, rows)| rows.len()).max().unwrap_or(0);
            let mut out = Vec::with_capacity(n);
            for i in 0..n {
                let mut row = Vec::new();
                for (width, rows) in &parts {
                    match rows.get(i) {
                        Some(r) => row.extend(r.iter().cloned()),
                        None => row.extend(std::iter::repeat_n(Value::Null, *width)),
                    }
                }
                out.push(row);
            }
            Ok(out)
        }
        Plan::With { ctes, body } => {
            for (id, plan) in ctes {
                let rows = run(plan, ctx, outer)?;
                ctx.ctes.borrow_mut().insert(*id, Rc::new(rows));
            }
            run(body, ctx, outer)
        }
        Plan::CteScan { id, .. } => {
            let rows = ctx
                .ctes
                .borrow()
                .get(id)
                .cloned()
                .ok_or_else(|| SqlError::internal("CTE read before it was computed"))?;
            Ok((*rows).clone())
        }
        Plan::RecursiveCte {
            id,
            base,
            step,
            union_all,
        } => {
            let mut seen = std::collections::HashSet::new();
            let mut result = Vec::new();
            let mut working = Vec::new();
            for row in run(base, ctx, outer)? {
                if *union_all || seen.insert(row_key(&row)) {
                    working.push(row.clone());
                    result.push(row);
                }
            }
            while !working.is_empty() {
                ctx.check_cancel()?;
                ctx.ctes
                    .borrow_mut()
                    .insert(*id, Rc::new(std::mem::take(&mut working)));
                for row in run(step, ctx, outer)? {
                    if *union_all || seen.insert(row_key(&row)) {
                        working.push(row.clone());
                        result.push(row);
                    }
                }
                if result.len() > 50_000_000 {
                    return Err(SqlError::new(
                        code::PROGRAM_LIMIT_EXCEEDED,
                        "recursive query produced more than 50000000 rows",
                    ));
                }
            }
            ctx.ctes.borrow_mut().insert(*id, Rc::new(result.clone()));
            Ok(result)
        }
    }
}

pub fn truthy(v: &Value) -> bool {
    matches!(v, Value::Bool(true))
}

fn as_i64(v: &Value) -> i64 {
    match v {
        Value::Int2(x) => i64::from(*x),
        Value::Int4(x) => i64::from(*x),
        Value::Int8(x) => *x,
        _ => 0,
    }
}

pub fn row_key(row: &[Value]) -> Vec<u8> {
    let mut key = Vec::new();
    for v in row {
        hash_key(v, &mut key);
    }
    key
}

/// Text output of a value inside execution (error details).
pub fn output_value_for(ctx: &ExecCtx, v: &Value, t: &crate::pgtype::SqlType) -> String {
    values::output_value(&ctx.catalog, &ctx.format, v, t)
}

/// A value as a key of a column of storage type `t`.
pub fn key_for(ctx: &ExecCtx, v: Value, t: &storage::types::DataType) -> Option<Value> {
    values::key_for_column(ctx, v, t)
}
