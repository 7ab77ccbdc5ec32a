//! Ordered-set aggregates: `percentile_cont`, `percentile_disc` (one fraction or an array of
//! them) and `mode`, called as `agg(direct args) WITHIN GROUP (ORDER BY x)`.
//!
//! The binder passes the direct arguments first and the ordered value last, and asks the
//! executor to sort the rows by the WITHIN GROUP key, so `update` sees the values already in
//! order (as PostgreSQL's tuplesort hands them to `orderedsetaggs.c`). NULL values are not
//! counted; a NULL fraction gives NULL. The fraction is read from the first row, as
//! PostgreSQL evaluates the direct arguments once per group.

use storage::types::{Array, Value};

use super::aggregate::{any_impl, downcast};
use super::compare::equal;
use super::{datetime_ops, Accumulator, FnCtx};
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;

/// The ordered-set aggregates.
pub const ORDERED_SET_AGGREGATES: &[&str] = &["percentile_cont", "percentile_disc", "mode"];

type Factory = std::sync::Arc<dyn Fn() -> Box<dyn Accumulator> + Send + Sync>;

/// A fresh-state factory for an ordered-set aggregate with these argument types.
pub fn factory(name: &'static str, args: &[SqlType]) -> Factory {
    match name {
        "mode" => std::sync::Arc::new(|| Box::new(Mode { values: Vec::new() })),
        _ => {
            let continuous = name == "percentile_cont";
            let interval = args.last() == Some(&SqlType::Interval);
            std::sync::Arc::new(move || {
                Box::new(Percentile {
                    continuous,
                    interval,
                    fraction: None,
                    values: Vec::new(),
                })
            })
        }
    }
}

struct Percentile {
    continuous: bool,
    /// `percentile_cont` over intervals (else over double precision).
    interval: bool,
    /// The direct argument of the first row: a float8 or a float8[].
    fraction: Option<Value>,
    values: Vec<Value>,
}

impl Accumulator for Percentile {
    fn update(&mut self, _: &FnCtx, args: &[Value]) -> SqlResult<()> {
        if self.fraction.is_none() {
            self.fraction = args.first().cloned();
        }
        match args.last() {
            Some(v) if !v.is_null() && args.len() > 1 => self.values.push(v.clone()),
            _ => {}
        }
        Ok(())
    }
    fn merge(&mut self, _: &FnCtx, other: Box<dyn Accumulator>) -> SqlResult<()> {
        // Only unordered partial states merge; the executor never splits an ordered one.
        let other = downcast::<Percentile>(other)?;
        if self.fraction.is_none() {
            self.fraction = other.fraction;
        }
        self.values.extend(other.values);
        Ok(())
    }
    fn finish(&mut self, ctx: &FnCtx) -> SqlResult<Value> {
        let Some(fraction) = self.fraction.clone() else {
            return Ok(Value::Null);
        };
        match fraction {
            Value::Null => Ok(Value::Null),
            Value::Array(fractions) => {
                if self.values.is_empty() {
                    return Ok(Value::Null);
                }
                let mut out = Vec::with_capacity(fractions.elements.len());
                for f in &fractions.elements {
                    out.push(match f {
                        Value::Null => Value::Null,
                        f => self.at(ctx, fraction_of(f)?)?,
                    });
                }
                Ok(Value::Array(Box::new(Array {
                    dims: fractions.dims.clone(),
                    elements: out,
                })))
            }
            f => {
                let p = fraction_of(&f)?;
                if self.values.is_empty() {
                    return Ok(Value::Null);
                }
                self.at(ctx, p)
            }
        }
    }
    any_impl!();
}

impl Percentile {
    /// The value at fraction `p` of the (non-empty, sorted) values.
    fn at(&self, ctx: &FnCtx, p: f64) -> SqlResult<Value> {
        let n = self.values.len();
        if !self.continuous {
            // The first value whose position reaches the fraction.
            let row = (p * n as f64).ceil() as usize;
            return Ok(self.values[row.clamp(1, n) - 1].clone());
        }
        let position = p * (n - 1) as f64;
        let first = position.floor() as usize;
        let second = position.ceil() as usize;
        let lo = &self.values[first.min(n - 1)];
        if first == second {
            return Ok(lo.clone());
        }
        let hi = &self.values[second.min(n - 1)];
        let weight = position - first as f64;
        if self.interval {
            // lo + (hi - lo) * weight, with interval arithmetic.
            let diff = datetime_ops::interval_sub(ctx, &[hi.clone(), lo.clone()])?;
            let scaled = datetime_ops::interval_mul_fn(ctx, &[diff, Value::Float8(weight)])?;
            return datetime_ops::interval_add(ctx, &[lo.clone(), scaled]);
        }
        match (lo, hi) {
            (Value::Float8(a), Value::Float8(b)) => Ok(Value::Float8(a + (b - a) * weight)),
            _ => Err(SqlError::internal("percentile_cont over a non-float value")),
        }
    }
}

/// A fraction argument, checked to lie in [0, 1].
fn fraction_of(v: &Value) -> SqlResult<f64> {
    let p = match v {
        Value::Float8(p) => *p,
        Value::Float4(p) => f64::from(*p),
        _ => return Err(SqlError::internal("percentile fraction is not a float")),
    };
    if !(0.0..=1.0).contains(&p) {
        return Err(SqlError::new(
            code::NUMERIC_VALUE_OUT_OF_RANGE,
            format!("percentile value {} is not between 0 and 1", format_g(p)),
        ));
    }
    Ok(p)
}

/// C's `%g` for the error message: six significant digits, trailing zeros dropped.
fn format_g(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return "0".into();
    }
    let exponent = x.abs().log10().floor() as i32;
    if !(-5..6).contains(&exponent) {
        let text = format!("{:.5e}", x);
        let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
        let mantissa = trim_zeros(mantissa);
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    let decimals = (5 - exponent).max(0) as usize;
    trim_zeros(&format!("{:.*}", decimals, x))
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// `mode()`: the most frequent value; among equally frequent ones the first in sort order.
struct Mode {
    values: Vec<Value>,
}

impl Accumulator for Mode {
    fn update(&mut self, _: &FnCtx, args: &[Value]) -> SqlResult<()> {
        match args.last() {
            Some(v) if !v.is_null() => self.values.push(v.clone()),
            _ => {}
        }
        Ok(())
    }
    fn merge(&mut self, _: &FnCtx, other: Box<dyn Accumulator>) -> SqlResult<()> {
        self.values.extend(downcast::<Mode>(other)?.values);
        Ok(())
    }
    fn finish(&mut self, _: &FnCtx) -> SqlResult<Value> {
        let mut best: Option<(&Value, usize)> = None;
        let mut i = 0;
        while i < self.values.len() {
            let mut j = i + 1;
            while j < self.values.len() && equal(&self.values[i], &self.values[j]) {
                j += 1;
            }
            if best.is_none_or(|(_, count)| j - i > count) {
                best = Some((&self.values[i], j - i));
            }
            i = j;
        }
        Ok(best.map_or(Value::Null, |(v, _)| v.clone()))
    }
    any_impl!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_g_matches_c() {
        assert_eq!(format_g(1.5), "1.5");
        assert_eq!(format_g(2.0), "2");
        assert_eq!(format_g(-0.1), "-0.1");
        assert_eq!(format_g(1234567.0), "1.23457e+06");
        assert_eq!(format_g(0.1234567), "0.123457");
    }
}
