//! Window frames: the rows of a partition that make up each row's frame, for ROWS, RANGE
//! and GROUPS frames with any bounds (offsets included) and an EXCLUDE clause, the way
//! PostgreSQL's `nodeWindowAgg.c` computes them.
//!
//! The partition arrives sorted by the window's ORDER BY, with its peer groups computed.
//! Offsets are evaluated once per partition. A RANGE offset needs exactly one ORDER BY key
//! (the binder checks it); the frame boundary for a row is found with `in_range` semantics:
//! `key ± offset` compared with the other rows' keys, NULL keys forming their own group.

use std::cmp::Ordering;

use storage::types::{Interval, Value};

use super::super::{eval, Env, ExecCtx};
use crate::error::{code, SqlError, SqlResult};
use crate::func::compare;
use crate::pgtype::SqlType;
use crate::plan::{Frame, FrameBound, FrameExclude, FrameUnits, SortKey};

/// SQLSTATE of a negative or NaN frame offset (`invalid_preceding_or_following_size`).
const INVALID_PRECEDING_OR_FOLLOWING_SIZE: &str = "22013";

/// The rows of one frame: at most three ranges `[lo, hi)` (an EXCLUDE clause cuts one
/// range into up to three pieces), in partition order.
#[derive(Debug, Clone, Copy)]
pub struct FrameRows {
    parts: [(usize, usize); 3],
    len: usize,
}

impl FrameRows {
    fn push(&mut self, lo: usize, hi: usize) {
        if lo < hi {
            self.parts[self.len] = (lo, hi);
            self.len += 1;
        }
    }

    /// The row positions of the frame, in order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.parts[..self.len].iter().flat_map(|&(lo, hi)| lo..hi)
    }

    pub fn first(&self) -> Option<usize> {
        self.iter().next()
    }

    pub fn last(&self) -> Option<usize> {
        self.parts[..self.len].last().map(|&(_, hi)| hi - 1)
    }

    /// The `k`th row (0-based) of the frame.
    pub fn nth(&self, k: usize) -> Option<usize> {
        let mut k = k;
        for &(lo, hi) in &self.parts[..self.len] {
            if k < hi - lo {
                return Some(lo + k);
            }
            k -= hi - lo;
        }
        None
    }
}

/// The frame of every row of one partition.
pub struct Frames<'a> {
    frame: Option<&'a Frame>,
    ordered: bool,
    n: usize,
    peer_start: &'a [usize],
    peer_end: &'a [usize],
    /// Per row: the index of its peer group; per group: its first row (and `n` at the end).
    group_of: Vec<usize>,
    group_starts: Vec<usize>,
    start_offset: Option<Value>,
    end_offset: Option<Value>,
    /// RANGE with offsets: the single ORDER BY key of each row and its sort direction.
    keys: Vec<&'a Value>,
    key: Option<&'a SortKey>,
    /// The rows whose RANGE key is not NULL.
    non_null: (usize, usize),
}

impl<'a> Frames<'a> {
    /// Prepares the frames of a partition of `n` rows; `order_keys[i]` holds row `i`'s ORDER
    /// BY values.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        frame: Option<&'a Frame>,
        order_by: &'a [SortKey],
        order_keys: Vec<&'a [Value]>,
        peer_start: &'a [usize],
        peer_end: &'a [usize],
        ctx: &ExecCtx,
        outer: Option<&Env>,
    ) -> SqlResult<Frames<'a>> {
        let n = peer_start.len();
        let mut group_of = Vec::with_capacity(n);
        let mut group_starts = Vec::new();
        for (r, &start) in peer_start.iter().enumerate() {
            if start == r {
                group_starts.push(r);
            }
            group_of.push(group_starts.len().saturating_sub(1));
        }
        group_starts.push(n);
        let units = frame.map(|f| f.units);
        let offset = |b: &FrameBound, which: &str| -> SqlResult<Option<Value>> {
            match b {
                FrameBound::Preceding(e) | FrameBound::Following(e) => {
                    Ok(Some(frame_offset(e, which, units, ctx, outer)?))
                }
                _ => Ok(None),
            }
        };
        let (start_offset, end_offset) = match frame {
            Some(f) => (offset(&f.start, "starting")?, offset(&f.end, "ending")?),
            None => (None, None),
        };
        let range_offsets =
            units == Some(FrameUnits::Range) && (start_offset.is_some() || end_offset.is_some());
        let (keys, key, non_null) = if range_offsets {
            let keys: Vec<&Value> = order_keys
                .iter()
                .map(|k| k.first().unwrap_or(&Value::Null))
                .collect();
            let lo = keys.iter().position(|v| !v.is_null()).unwrap_or(n);
            let hi = keys
                .iter()
                .rposition(|v| !v.is_null())
                .map_or(lo, |p| p + 1);
            (keys, order_by.first(), (lo, hi))
        } else {
            (Vec::new(), None, (0, n))
        };
        Ok(Frames {
            frame,
            ordered: !order_by.is_empty(),
            n,
            peer_start,
            peer_end,
            group_of,
            group_starts,
            start_offset,
            end_offset,
            keys,
            key,
            non_null,
        })
    }

    /// Whether every frame starts at the partition's first row and no row is excluded, so
    /// that the frames only grow from one row to the next.
    pub fn is_growing(&self) -> bool {
        match self.frame {
            None => true,
            Some(f) => {
                matches!(f.start, FrameBound::UnboundedPreceding)
                    && f.exclude == FrameExclude::NoOthers
                    && matches!(
                        f.end,
                        FrameBound::CurrentRow | FrameBound::UnboundedFollowing
                    )
            }
        }
    }

    /// The frame of row `r`, without its exclusion: `[lo, hi)`.
    pub fn bounds(&self, r: usize, ctx: &ExecCtx) -> SqlResult<(usize, usize)> {
        let n = self.n;
        let Some(frame) = self.frame else {
            return Ok(if self.ordered {
                (0, self.peer_end[r])
            } else {
                (0, n)
            });
        };
        let start = match &frame.start {
            FrameBound::UnboundedPreceding => 0,
            FrameBound::UnboundedFollowing => n,
            FrameBound::CurrentRow => match frame.units {
                FrameUnits::Rows => r,
                _ => self.peer_start[r],
            },
            FrameBound::Preceding(_) | FrameBound::Following(_) => {
                let following = matches!(frame.start, FrameBound::Following(_));
                self.offset_start(r, frame.units, following, ctx)?
            }
        };
        let end = match &frame.end {
            FrameBound::UnboundedFollowing => n,
            FrameBound::UnboundedPreceding => 0,
            FrameBound::CurrentRow => match frame.units {
                FrameUnits::Rows => r + 1,
                _ => self.peer_end[r],
            },
            FrameBound::Preceding(_) | FrameBound::Following(_) => {
                let following = matches!(frame.end, FrameBound::Following(_));
                self.offset_end(r, frame.units, following, ctx)?
            }
        };
        Ok((start, end.max(start)))
    }

    /// The frame of row `r` with its EXCLUDE clause applied.
    pub fn rows(&self, r: usize, ctx: &ExecCtx) -> SqlResult<FrameRows> {
        let (lo, hi) = self.bounds(r, ctx)?;
        let mut out = FrameRows {
            parts: [(0, 0); 3],
            len: 0,
        };
        let exclude = self.frame.map_or(FrameExclude::NoOthers, |f| f.exclude);
        let (ps, pe) = if self.ordered {
            (self.peer_start[r], self.peer_end[r])
        } else {
            (0, self.n)
        };
        let cut = |out: &mut FrameRows, holes: &[(usize, usize)]| {
            let mut at = lo;
            for &(a, b) in holes {
                out.push(at, a.clamp(at, hi));
                at = at.max(b.min(hi));
            }
            out.push(at, hi);
        };
        match exclude {
            FrameExclude::NoOthers => out.push(lo, hi),
            FrameExclude::CurrentRow => cut(&mut out, &[(r, r + 1)]),
            FrameExclude::Group => cut(&mut out, &[(ps, pe)]),
            FrameExclude::Ties => cut(&mut out, &[(ps, r), (r + 1, pe)]),
        }
        Ok(out)
    }

    fn offset_start(
        &self,
        r: usize,
        units: FrameUnits,
        following: bool,
        ctx: &ExecCtx,
    ) -> SqlResult<usize> {
        let n = self.n;
        let offset = self.start_offset.as_ref().unwrap_or(&Value::Null);
        Ok(match units {
            FrameUnits::Rows => {
                let k = count_of(offset);
                if following {
                    r.saturating_add(k).min(n)
                } else {
                    r.saturating_sub(k)
                }
            }
            FrameUnits::Groups => {
                let g = self.group_of[r];
                let k = count_of(offset);
                let target = if following {
                    g.saturating_add(k).min(self.group_starts.len() - 1)
                } else {
                    g.saturating_sub(k)
                };
                self.group_starts[target]
            }
            FrameUnits::Range => {
                let current = self.keys[r];
                if current.is_null() {
                    return Ok(self.peer_start[r]);
                }
                let key = self
                    .key
                    .ok_or_else(|| SqlError::internal("RANGE without key"))?;
                // The frame head is the first row that satisfies in_range(..., less = false).
                let sub = !following;
                let (sub, less) = if key.descending {
                    (!sub, true)
                } else {
                    (sub, false)
                };
                let limit = shifted(current, offset, sub, ctx)?;
                let (lo, hi) = self.non_null;
                lo + self.keys[lo..hi]
                    .partition_point(|v| !in_range(v, current, offset, &limit, sub, less))
            }
        })
    }

    fn offset_end(
        &self,
        r: usize,
        units: FrameUnits,
        following: bool,
        ctx: &ExecCtx,
    ) -> SqlResult<usize> {
        let n = self.n;
        let offset = self.end_offset.as_ref().unwrap_or(&Value::Null);
        Ok(match units {
            FrameUnits::Rows => {
                let k = count_of(offset);
                if following {
                    r.saturating_add(k).saturating_add(1).min(n)
                } else {
                    (r + 1).saturating_sub(k)
                }
            }
            FrameUnits::Groups => {
                let g = self.group_of[r];
                let k = count_of(offset);
                let groups = self.group_starts.len() - 1;
                if following {
                    let target = g.saturating_add(k).min(groups - 1);
                    self.group_starts[target + 1]
                } else if k > g {
                    0
                } else {
                    self.group_starts[g - k + 1]
                }
            }
            FrameUnits::Range => {
                let current = self.keys[r];
                if current.is_null() {
                    return Ok(self.peer_end[r]);
                }
                let key = self
                    .key
                    .ok_or_else(|| SqlError::internal("RANGE without key"))?;
                // The frame tail is the last row that satisfies in_range(..., less = true).
                let sub = !following;
                let (sub, less) = if key.descending {
                    (!sub, false)
                } else {
                    (sub, true)
                };
                let limit = shifted(current, offset, sub, ctx)?;
                let (lo, hi) = self.non_null;
                lo + self.keys[lo..hi]
                    .partition_point(|v| in_range(v, current, offset, &limit, sub, less))
            }
        })
    }
}

/// A ROWS / GROUPS offset (checked non-negative when evaluated).
fn count_of(v: &Value) -> usize {
    match v {
        Value::Int8(k) => usize::try_from(*k).unwrap_or(usize::MAX),
        Value::Int4(k) => usize::try_from(*k).unwrap_or(usize::MAX),
        Value::Int2(k) => usize::try_from(*k).unwrap_or(usize::MAX),
        _ => 0,
    }
}

/// Evaluates a frame offset (once per partition) and checks it as PostgreSQL does.
fn frame_offset(
    e: &crate::plan::Expr,
    which: &str,
    units: Option<FrameUnits>,
    ctx: &ExecCtx,
    outer: Option<&Env>,
) -> SqlResult<Value> {
    let env = Env {
        row: &[],
        parent: outer,
    };
    let v = eval(e, &env, ctx)?;
    let invalid = || {
        SqlError::new(
            INVALID_PRECEDING_OR_FOLLOWING_SIZE,
            "invalid preceding or following size in window function",
        )
    };
    match &v {
        Value::Null => {
            return Err(SqlError::new(
                code::NULL_VALUE_NOT_ALLOWED,
                format!("frame {which} offset must not be null"),
            ))
        }
        Value::Int2(_) | Value::Int4(_) | Value::Int8(_) if units != Some(FrameUnits::Range) => {
            let negative = matches!(v, Value::Int2(x) if x < 0)
                || matches!(v, Value::Int4(x) if x < 0)
                || matches!(v, Value::Int8(x) if x < 0);
            if negative {
                return Err(SqlError::new(
                    INVALID_PRECEDING_OR_FOLLOWING_SIZE,
                    format!("frame {which} offset must not be negative"),
                ));
            }
        }
        Value::Int2(x) if *x < 0 => return Err(invalid()),
        Value::Int4(x) if *x < 0 => return Err(invalid()),
        Value::Int8(x) if *x < 0 => return Err(invalid()),
        Value::Float4(x) if x.is_nan() || *x < 0.0 => return Err(invalid()),
        Value::Float8(x) if x.is_nan() || *x < 0.0 => return Err(invalid()),
        Value::Numeric(_) => {
            let zero = Value::Int4(0);
            if is_nan(&v) || compare(&v, &zero) == Ordering::Less {
                return Err(invalid());
            }
        }
        Value::Interval(i) if i.span_micros() < 0 => return Err(invalid()),
        _ => {}
    }
    Ok(v)
}

fn is_nan(v: &Value) -> bool {
    match v {
        Value::Numeric(n) => n.to_string() == "NaN",
        Value::Float4(x) => x.is_nan(),
        Value::Float8(x) => x.is_nan(),
        _ => false,
    }
}

/// `base - offset` (`sub`) or `base + offset`, in a form [`in_range`] compares against;
/// `None` when the sum is beyond every value of the type (no row is past it).
fn shifted(base: &Value, offset: &Value, sub: bool, ctx: &ExecCtx) -> SqlResult<Option<Value>> {
    let int = |v: &Value| -> Option<i128> {
        match v {
            Value::Int2(x) => Some(i128::from(*x)),
            Value::Int4(x) => Some(i128::from(*x)),
            Value::Int8(x) => Some(i128::from(*x)),
            _ => None,
        }
    };
    if let (Some(b), Some(o)) = (int(base), int(offset)) {
        let sum = if sub { b - o } else { b + o };
        // Every integer key fits an i64: a sum outside it is past every row.
        return Ok(i64::try_from(sum).ok().map(Value::Int8));
    }
    match (base, offset) {
        (Value::Float4(_) | Value::Float8(_), _) => Ok(None),
        (Value::Time(t), Value::Interval(Interval { micros, .. })) => {
            let sum = if sub {
                t.checked_sub(*micros)
            } else {
                t.checked_add(*micros)
            };
            Ok(sum.map(Value::Time))
        }
        _ => {
            let base_type = type_of(base);
            let offset_type = type_of(offset);
            let op = if sub { "-" } else { "+" };
            let resolved = crate::func::registry()
                .resolve_operator(op, Some(&base_type), &offset_type)
                .map_err(|_| {
                    SqlError::new(
                        code::FEATURE_NOT_SUPPORTED,
                        format!(
                            "RANGE with offset PRECEDING/FOLLOWING is not supported for column type {}",
                            base_type.display_name()
                        ),
                    )
                })?;
            let crate::func::Implementation::Scalar(func) = resolved.overload.implementation else {
                return Err(SqlError::internal("RANGE offset arithmetic is not scalar"));
            };
            // As in PostgreSQL, a date/time sum out of range is an error.
            ctx.with_fn(|f| func(f, &[base.clone(), offset.clone()]))
                .map(Some)
        }
    }
}

/// The SQL type of a RANGE key or offset value.
fn type_of(v: &Value) -> SqlType {
    match v {
        Value::Date(_) => SqlType::Date,
        Value::Time(_) => SqlType::Time,
        Value::Timestamp(_) => SqlType::Timestamp,
        Value::Timestamptz(_) => SqlType::Timestamptz,
        Value::Interval(_) => SqlType::Interval,
        Value::Float4(_) => SqlType::Float4,
        Value::Float8(_) => SqlType::Float8,
        Value::Int2(_) => SqlType::Int2,
        Value::Int4(_) => SqlType::Int4,
        Value::Int8(_) => SqlType::Int8,
        Value::Numeric(_) => crate::pgtype::NUMERIC,
        _ => SqlType::Text,
    }
}

/// PostgreSQL's `in_range(val, base, offset, sub, less)`: whether `val` is on the `less`
/// side of `base ± offset` (`limit`, computed by [`shifted`]; `None` when the sum overflowed).
fn in_range(
    val: &Value,
    base: &Value,
    offset: &Value,
    limit: &Option<Value>,
    sub: bool,
    less: bool,
) -> bool {
    if let (Some(v), Some(b), Some(o)) = (float_of(val), float_of(base), float_of(offset)) {
        return in_range_float(v, b, o, sub, less);
    }
    match limit {
        // An overflowed sum lies beyond every value: below all when subtracting.
        None => {
            if sub {
                !less
            } else {
                less
            }
        }
        Some(limit) => {
            let o = compare(val, limit);
            if less {
                o != Ordering::Greater
            } else {
                o != Ordering::Less
            }
        }
    }
}

fn float_of(v: &Value) -> Option<f64> {
    match v {
        Value::Float4(x) => Some(f64::from(*x)),
        Value::Float8(x) => Some(*x),
        _ => None,
    }
}

/// `in_range_float8_float8`, with PostgreSQL's rules for NaN and infinities.
fn in_range_float(val: f64, base: f64, offset: f64, sub: bool, less: bool) -> bool {
    // NaN sorts above every other value and equals itself.
    if val.is_nan() {
        return if base.is_nan() { true } else { !less };
    }
    if base.is_nan() {
        return less;
    }
    // base ± offset would be NaN: +inf infinitely precedes +inf, -inf infinitely follows -inf.
    if offset.is_infinite() && base.is_infinite() && (if sub { base > 0.0 } else { base < 0.0 }) {
        return true;
    }
    let sum = if sub { base - offset } else { base + offset };
    if less {
        val <= sum
    } else {
        val >= sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_in_range_follows_postgres_for_nan_and_infinity() {
        assert!(in_range_float(f64::NAN, f64::NAN, 1.0, true, true));
        assert!(!in_range_float(f64::NAN, 1.0, 1.0, true, true));
        assert!(in_range_float(1.0, f64::NAN, 1.0, true, true));
        assert!(in_range_float(
            5.0,
            f64::INFINITY,
            f64::INFINITY,
            true,
            false
        ));
        assert!(in_range_float(2.0, 3.0, 1.0, true, false));
        assert!(!in_range_float(1.5, 3.0, 1.0, true, false));
    }

    #[test]
    fn frame_rows_cut_by_exclusion() {
        let mut rows = FrameRows {
            parts: [(0, 0); 3],
            len: 0,
        };
        rows.push(0, 2);
        rows.push(3, 3);
        rows.push(4, 6);
        assert_eq!(rows.iter().collect::<Vec<_>>(), [0, 1, 4, 5]);
        assert_eq!(rows.nth(2), Some(4));
        assert_eq!(rows.last(), Some(5));
    }
}
