//! Joins of two materialized inputs: nested loop (any ON condition) and hash join (equality
//! keys plus an optional residual condition), for every [`JoinKind`].
//!
//! Output rows are the left row followed by the right row; unmatched sides of outer joins are
//! padded with NULLs, and semi / anti joins emit left rows only. A NULL key never matches.

use storage::types::{Row, Value};

use super::hashing::FastMap;
use super::{eval, truthy, Env, ExecCtx};
use crate::error::SqlResult;
use crate::func::hash_key;
use crate::plan::{Expr, JoinKind};

#[allow(clippy::too_many_arguments)]
pub(super) fn nested_loop(
    ls: Vec<Row>,
    rs: Vec<Row>,
    kind: JoinKind,
    on: Option<&Expr>,
    left_width: usize,
    right_width: usize,
    ctx: &ExecCtx,
    outer: Option<&Env>,
) -> SqlResult<Vec<Row>> {
    let mut out = Vec::new();
    let mut right_matched = vec![false; rs.len()];
    let mut row = Vec::with_capacity(left_width + right_width);
    for (n, l) in ls.iter().enumerate() {
        if n % 1024 == 0 {
            ctx.check_cancel()?;
        }
        let mut matched = false;
        for (j, r) in rs.iter().enumerate() {
            row.clear();
            row.extend_from_slice(l);
            row.extend_from_slice(r);
            let ok = match on {
                None => true,
                Some(p) => truthy(&eval(
                    p,
                    &Env {
                        row: &row,
                        parent: outer,
                    },
                    ctx,
                )?),
            };
            if ok {
                matched = true;
                right_matched[j] = true;
                match kind {
                    JoinKind::Semi | JoinKind::Anti => break,
                    _ => out.push(row.clone()),
                }
            }
        }
        finish_left_row(kind, l, matched, right_width, &mut out);
    }
    add_unmatched_right(kind, &rs, &right_matched, left_width, &mut out);
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn hash_join(
    ls: Vec<Row>,
    rs: Vec<Row>,
    kind: JoinKind,
    left_keys: &[Expr],
    right_keys: &[Expr],
    residual: Option<&Expr>,
    (left_width, right_width): (usize, usize),
    ctx: &ExecCtx,
    outer: Option<&Env>,
) -> SqlResult<Vec<Row>> {
    // Writes the key of `row` into `key`; false when a key value is NULL (never joins).
    let key_of = |row: &Row, keys: &[Expr], key: &mut Vec<u8>| -> SqlResult<bool> {
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
    };
    let mut key = Vec::new();
    let mut table: FastMap<Vec<u8>, Vec<usize>> = FastMap::default();
    for (j, r) in rs.iter().enumerate() {
        if key_of(r, right_keys, &mut key)? {
            table.entry(key.clone()).or_default().push(j);
        }
    }
    let mut out = Vec::new();
    let mut right_matched = vec![false; rs.len()];
    let mut row = Vec::with_capacity(left_width + right_width);
    for (n, l) in ls.iter().enumerate() {
        if n % 4096 == 0 {
            ctx.check_cancel()?;
        }
        let mut matched = false;
        if key_of(l, left_keys, &mut key)? {
            if let Some(candidates) = table.get(key.as_slice()) {
                for &j in candidates {
                    row.clear();
                    row.extend_from_slice(l);
                    row.extend_from_slice(&rs[j]);
                    let ok = match residual {
                        None => true,
                        Some(p) => truthy(&eval(
                            p,
                            &Env {
                                row: &row,
                                parent: outer,
                            },
                            ctx,
                        )?),
                    };
                    if ok {
                        matched = true;
                        right_matched[j] = true;
                        match kind {
                            JoinKind::Semi | JoinKind::Anti => break,
                            _ => out.push(row.clone()),
                        }
                    }
                }
            }
        }
        finish_left_row(kind, l, matched, right_width, &mut out);
    }
    add_unmatched_right(kind, &rs, &right_matched, left_width, &mut out);
    Ok(out)
}

/// After a left row's matches: its NULL-extended row for an outer join without a match,
/// or the row itself for a semi / anti join.
fn finish_left_row(kind: JoinKind, l: &Row, matched: bool, right_width: usize, out: &mut Vec<Row>) {
    match kind {
        JoinKind::Left | JoinKind::Full if !matched => {
            let mut row = l.clone();
            row.extend(std::iter::repeat_n(Value::Null, right_width));
            out.push(row);
        }
        JoinKind::Semi if matched => out.push(l.clone()),
        JoinKind::Anti if !matched => out.push(l.clone()),
        _ => {}
    }
}

/// RIGHT / FULL joins: the right rows no left row matched, NULL-extended on the left.
fn add_unmatched_right(
    kind: JoinKind,
    rs: &[Row],
    right_matched: &[bool],
    left_width: usize,
    out: &mut Vec<Row>,
) {
    if matches!(kind, JoinKind::Right | JoinKind::Full) {
        for (r, matched) in rs.iter().zip(right_matched) {
            if !matched {
                let mut row: Row = std::iter::repeat_n(Value::Null, left_width).collect();
                row.extend_from_slice(r);
                out.push(row);
            }
        }
    }
}
