//! Batching `embed()` across the rows of a statement.
//!
//! Expressions are evaluated one row at a time, but the model is fast only on batches. So
//! before an operator evaluates expressions over a batch of rows (a projection, the generated
//! columns of the rows an INSERT, UPDATE or COPY writes), it calls [`prefetch_rows`]: that
//! finds the `embed(...)` calls in the expressions, evaluates their text argument over every
//! row of the batch, embeds the distinct texts in one [`super::embed_texts`] call, and keeps
//! the vectors in a thread-local table for as long as the returned [`Prefetched`] guard lives.
//! The row-by-row evaluation that follows finds each text there (see [`prefetched`]) and does
//! not run the model.
//!
//! Prefetching is an optimisation only; the per-row evaluation stays the source of truth:
//! - an argument that fails to evaluate for a row is skipped here and fails there, with the
//!   error and at the row the statement would report anyway;
//! - an argument that is not safe to evaluate twice (a volatile or stable function such as
//!   `random()` or `nextval()`, a subquery, a session function) disables prefetching for that
//!   call, which then embeds row by row (through the cache);
//! - rows the guard does not cover (another thread of a parallel plan) just miss the table.
//!
//! The table is keyed by the sha256 of the text (as the cache is) and holds one batch: callers
//! cut their rows into batches of [`PREFETCH_BATCH_ROWS`] and prefetch one batch at a time,
//! so memory stays bounded however many rows a statement touches.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use storage::types::Value;

use super::cache::{text_key, TextKey};
use crate::error::{code, SqlResult};
use crate::exec::{eval, Env, ExecCtx};
use crate::func::{registry, Volatility};
use crate::plan::Expr;

/// Rows embedded per model call when a statement writes or projects many rows: large enough
/// to keep every pool session busy (16 work units of 32) so that little time is lost at the
/// batch's tail, small enough that a cancel request is seen between batches (a few seconds).
pub const PREFETCH_BATCH_ROWS: usize = 512;

/// Name under which `embed` is registered (and appears in bound expressions).
pub const EMBED_FUNCTION: &str = "embed";

thread_local! {
    /// Stack of prefetched tables of this thread, innermost last.
    static PREFETCHED: RefCell<Vec<HashMap<TextKey, Arc<[f32]>>>> = const { RefCell::new(Vec::new()) };
}

/// Keeps a batch's prefetched vectors visible to [`prefetched`] on this thread until dropped.
#[must_use = "the prefetched vectors are dropped with the guard"]
pub struct Prefetched {
    /// Whether this guard pushed a table (and so must pop one).
    pushed: bool,
}

impl Drop for Prefetched {
    fn drop(&mut self) {
        if self.pushed {
            PREFETCHED.with(|stack| {
                stack.borrow_mut().pop();
            });
        }
    }
}

/// The vector prefetched for `text` by an enclosing [`prefetch_rows`] on this thread.
pub fn prefetched(text: &str) -> Option<Arc<[f32]>> {
    PREFETCHED.with(|stack| {
        let stack = stack.borrow();
        if stack.is_empty() {
            return None;
        }
        let key = text_key(text);
        stack
            .iter()
            .rev()
            .find_map(|table| table.get(&key).map(Arc::clone))
    })
}

/// The argument expressions of the `embed` calls in `exprs` that can be evaluated ahead of
/// the row-by-row pass (see the module docs).
fn embed_arguments(exprs: &[&Expr]) -> Vec<Expr> {
    let mut found = Vec::new();
    for expr in exprs {
        expr.walk(&mut |node| {
            if let Expr::Call { name, args, .. } = node {
                if *name == EMBED_FUNCTION {
                    if let Some(text) = args.first() {
                        if safe_to_evaluate_twice(text) {
                            found.push(text.clone());
                        }
                    }
                }
            }
        });
    }
    found
}

/// Whether evaluating `expr` one extra time per row changes nothing: it only reads the row,
/// parameters, constants and immutable functions, and embeds nothing itself.
fn safe_to_evaluate_twice(expr: &Expr) -> bool {
    let mut safe = true;
    expr.walk(&mut |node| match node {
        Expr::Call { name, .. } => {
            let immutable = registry()
                .overloads(name)
                .iter()
                .all(|overload| overload.volatility == Volatility::Immutable);
            if *name == EMBED_FUNCTION || !immutable {
                safe = false;
            }
        }
        Expr::Subquery { .. }
        | Expr::InSubquery { .. }
        | Expr::Session { .. }
        | Expr::AggRef(_)
        | Expr::WindowRef(_) => safe = false,
        _ => {}
    });
    safe
}

/// Whether any of `exprs` calls `embed`.
pub fn calls_embed(exprs: &[&Expr]) -> bool {
    let mut found = false;
    for expr in exprs {
        expr.walk(&mut |node| {
            if matches!(node, Expr::Call { name, .. } if *name == EMBED_FUNCTION) {
                found = true;
            }
        });
    }
    found
}

/// Embeds, in one batch, the texts that the `embed` calls of `exprs` will ask for over
/// `rows` (each evaluated with `outer` as its enclosing row), and makes them visible to
/// [`prefetched`] while the guard lives. Cheap when `exprs` call no `embed`: one walk.
pub fn prefetch_rows<'r, R>(
    exprs: &[&Expr],
    rows: R,
    outer: Option<&Env>,
    ctx: &ExecCtx,
) -> SqlResult<Prefetched>
where
    R: IntoIterator<Item = &'r [Value]>,
{
    let arguments = embed_arguments(exprs);
    if arguments.is_empty() {
        return Ok(Prefetched { pushed: false });
    }
    let mut texts: Vec<String> = Vec::new();
    let mut seen: std::collections::HashSet<TextKey> = std::collections::HashSet::new();
    for row in rows {
        let env = Env { row, parent: outer };
        for argument in &arguments {
            // Errors are left to the row-by-row pass (see the module docs).
            if let Ok(Value::Text(text)) = eval(argument, &env, ctx) {
                if seen.insert(text_key(&text)) {
                    texts.push(text);
                }
            }
        }
    }
    let mut table: HashMap<TextKey, Arc<[f32]>> = HashMap::with_capacity(texts.len());
    for batch in texts.chunks(PREFETCH_BATCH_ROWS) {
        ctx.check_cancel()?;
        let inputs: Vec<Option<&str>> = batch.iter().map(|text| Some(text.as_str())).collect();
        let vectors = super::embed_texts(&inputs)?;
        for (text, vector) in batch.iter().zip(vectors) {
            if let Some(vector) = vector {
                table.insert(text_key(text), Arc::from(vector));
            }
        }
    }
    PREFETCHED.with(|stack| stack.borrow_mut().push(table));
    Ok(Prefetched { pushed: true })
}

/// [`prefetch_rows`] as an optimisation only: a failure other than a cancel request is left
/// to the row-by-row evaluation, which reports it at the row it belongs to (nothing is
/// prefetched then). A cancel request is returned, as it must not be lost.
pub fn prefetch_or_fall_back<'r>(
    exprs: &[&Expr],
    rows: impl IntoIterator<Item = &'r [Value]>,
    outer: Option<&Env>,
    ctx: &ExecCtx,
) -> SqlResult<Option<Prefetched>> {
    match prefetch_rows(exprs, rows, outer, ctx) {
        Ok(guard) => Ok(Some(guard)),
        Err(error) if error.code == code::QUERY_CANCELED => Err(error),
        Err(_) => Ok(None),
    }
}
