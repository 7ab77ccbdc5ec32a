//! The arithmetic aggregates: `sum`, `avg`, `stddev*`, `var*`/`variance`, `corr`,
//! `covar_pop`, `covar_samp`, `regr_*`, and pgvector's `sum(vector)` / `avg(vector)`.
//!
//! Results follow PostgreSQL's transition functions: `sum(int2/int4)` is `bigint`,
//! `sum(int8)` and every integer/numeric `avg` or variance is `numeric` computed exactly and
//! divided with `select_div_scale` (so `avg` of 1 and 2 is `1.5000000000000000`); floats use
//! the Youngs-Cramer updates of `float8_accum` / `float8_regr_accum` and their combine
//! functions for merges; NaN and infinities propagate as in PostgreSQL 14+.

use std::sync::Arc;

use bigdecimal::num_bigint::BigInt;
use bigdecimal::{BigDecimal, Zero};
use storage::types::{Interval, Numeric, Value};

use super::aggregate::{any_impl, downcast};
use super::arith::{float_overflow, int_out_of_range};
use super::datetime_ops::{interval_divided, interval_sum};
use super::{decimal, vector::vector_error, Accumulator, FnCtx};
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;

type Factory = Arc<dyn Fn() -> Box<dyn Accumulator> + Send + Sync>;

/// What a statistics accumulator returns.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stat {
    Sum,
    Avg,
    VarSamp,
    VarPop,
    StddevSamp,
    StddevPop,
}

fn stat_of(name: &str) -> Option<Stat> {
    Some(match name {
        "sum" => Stat::Sum,
        "avg" => Stat::Avg,
        "variance" | "var_samp" => Stat::VarSamp,
        "var_pop" => Stat::VarPop,
        "stddev" | "stddev_samp" => Stat::StddevSamp,
        "stddev_pop" => Stat::StddevPop,
        _ => return None,
    })
}

pub fn factory(name: &'static str, input: &SqlType, ret: &SqlType) -> SqlResult<Factory> {
    if let Some(stat) = stat_of(name) {
        return Ok(match input {
            SqlType::Float4 | SqlType::Float8 => {
                let single = *input == SqlType::Float4 && stat == Stat::Sum;
                Arc::new(move || {
                    Box::new(FloatStats {
                        stat,
                        single,
                        n: 0.0,
                        sx: 0.0,
                        sxx: 0.0,
                    })
                })
            }
            SqlType::Int2 | SqlType::Int4 if stat == Stat::Sum => {
                Arc::new(|| Box::new(IntSum { sum: None }))
            }
            SqlType::Interval => Arc::new(move || {
                Box::new(IntervalStats {
                    stat,
                    n: 0,
                    sum: Interval::default(),
                })
            }),
            SqlType::Vector(_) => Arc::new(move || {
                Box::new(VectorStats {
                    stat,
                    n: 0,
                    sum: Vec::new(),
                })
            }),
            _ => Arc::new(move || Box::new(NumericStats::new(stat))),
        });
    }
    let regr = match name {
        "corr" => Regr::Corr,
        "covar_pop" => Regr::CovarPop,
        "covar_samp" => Regr::CovarSamp,
        "regr_count" => Regr::Count,
        "regr_sxx" => Regr::Sxx,
        "regr_syy" => Regr::Syy,
        "regr_sxy" => Regr::Sxy,
        "regr_avgx" => Regr::AvgX,
        "regr_avgy" => Regr::AvgY,
        "regr_r2" => Regr::R2,
        "regr_slope" => Regr::Slope,
        "regr_intercept" => Regr::Intercept,
        other => {
            return Err(SqlError::internal(format!(
                "no accumulator for aggregate {other} returning {}",
                ret.display_name()
            )))
        }
    };
    Ok(Arc::new(move || {
        Box::new(RegrStats {
            kind: regr,
            s: [0.0; 6],
        })
    }))
}

/// `sum(int2)` / `sum(int4)`: a `bigint` sum.
struct IntSum {
    sum: Option<i64>,
}

impl IntSum {
    fn add(&mut self, v: i64) -> SqlResult<()> {
        self.sum = Some(match self.sum {
            None => v,
            Some(s) => s.checked_add(v).ok_or_else(|| int_out_of_range(64))?,
        });
        Ok(())
    }
}

impl Accumulator for IntSum {
    fn update(&mut self, _: &FnCtx, args: &[Value]) -> SqlResult<()> {
        match args.first() {
            Some(Value::Int2(v)) => self.add(*v as i64),
            Some(Value::Int4(v)) => self.add(*v as i64),
            Some(Value::Int8(v)) => self.add(*v),
            _ => Ok(()),
        }
    }
    fn merge(&mut self, _: &FnCtx, other: Box<dyn Accumulator>) -> SqlResult<()> {
        match downcast::<IntSum>(other)?.sum {
            Some(v) => self.add(v),
            None => Ok(()),
        }
    }
    fn finish(&mut self, _: &FnCtx) -> SqlResult<Value> {
        Ok(self.sum.map_or(Value::Null, Value::Int8))
    }
    any_impl!();
}

/// Exact sums for integer and numeric inputs (`do_numeric_accum`).
struct NumericStats {
    stat: Stat,
    n: i64,
    /// Integer inputs are summed in `i128` until they no longer fit.
    int_sum: i128,
    int_sum_sq: i128,
    int_exact: bool,
    sum: BigDecimal,
    sum_sq: BigDecimal,
    nan: u64,
    pinf: u64,
    ninf: u64,
}

impl NumericStats {
    fn new(stat: Stat) -> NumericStats {
        NumericStats {
            stat,
            n: 0,
            int_sum: 0,
            int_sum_sq: 0,
            int_exact: true,
            sum: BigDecimal::zero(),
            sum_sq: BigDecimal::zero(),
            nan: 0,
            pinf: 0,
            ninf: 0,
        }
    }

    fn squares(&self) -> bool {
        !matches!(self.stat, Stat::Sum | Stat::Avg)
    }

    fn add_int(&mut self, v: i64) {
        self.n += 1;
        let v = v as i128;
        let sq = v.checked_mul(v);
        match (
            self.int_sum.checked_add(v),
            sq.and_then(|s| self.int_sum_sq.checked_add(s)),
        ) {
            (Some(s), Some(q)) if self.int_exact => {
                self.int_sum = s;
                self.int_sum_sq = q;
            }
            _ => {
                self.spill();
                let d = BigDecimal::from(BigInt::from(v));
                if self.squares() {
                    self.sum_sq += &d * &d;
                }
                self.sum += d;
            }
        }
    }

    /// Moves the `i128` partial sums into the exact ones.
    fn spill(&mut self) {
        if self.int_sum != 0 || self.int_sum_sq != 0 {
            self.sum += BigDecimal::from(BigInt::from(self.int_sum));
            self.sum_sq += BigDecimal::from(BigInt::from(self.int_sum_sq));
            self.int_sum = 0;
            self.int_sum_sq = 0;
        }
        self.int_exact = false;
    }

    fn add_numeric(&mut self, n: &Numeric) {
        self.n += 1;
        match n {
            Numeric::NaN => self.nan += 1,
            Numeric::Infinity => self.pinf += 1,
            Numeric::NegInfinity => self.ninf += 1,
            Numeric::Finite(d) => {
                if self.squares() {
                    self.sum_sq += d * d;
                }
                self.sum += d;
            }
        }
    }

    fn total_sum(&self) -> BigDecimal {
        &self.sum + BigDecimal::from(BigInt::from(self.int_sum))
    }

    fn total_sum_sq(&self) -> BigDecimal {
        &self.sum_sq + BigDecimal::from(BigInt::from(self.int_sum_sq))
    }

    fn special(&self) -> Option<Numeric> {
        if self.nan > 0 || (self.pinf > 0 && self.ninf > 0) {
            Some(Numeric::NaN)
        } else if self.pinf > 0 {
            Some(Numeric::Infinity)
        } else if self.ninf > 0 {
            Some(Numeric::NegInfinity)
        } else {
            None
        }
    }
}

impl Accumulator for NumericStats {
    fn update(&mut self, _: &FnCtx, args: &[Value]) -> SqlResult<()> {
        match args.first() {
            Some(Value::Int2(v)) => self.add_int(*v as i64),
            Some(Value::Int4(v)) => self.add_int(*v as i64),
            Some(Value::Int8(v)) => self.add_int(*v),
            Some(Value::Numeric(n)) => self.add_numeric(n),
            _ => {}
        }
        Ok(())
    }
    fn merge(&mut self, _: &FnCtx, other: Box<dyn Accumulator>) -> SqlResult<()> {
        let o = downcast::<NumericStats>(other)?;
        self.n += o.n;
        self.nan += o.nan;
        self.pinf += o.pinf;
        self.ninf += o.ninf;
        self.sum += o.total_sum();
        self.sum_sq += o.total_sum_sq();
        Ok(())
    }
    fn finish(&mut self, _: &FnCtx) -> SqlResult<Value> {
        if self.n == 0 {
            return Ok(Value::Null);
        }
        let numeric = |n: Numeric| Value::Numeric(Box::new(n));
        let special = self.special();
        let sum = decimal::with_display_scale(self.total_sum());
        match self.stat {
            Stat::Sum => Ok(numeric(special.unwrap_or(Numeric::Finite(sum)))),
            Stat::Avg => {
                if let Some(s) = special {
                    return Ok(numeric(s));
                }
                let count = BigDecimal::from(self.n);
                Ok(numeric(Numeric::Finite(decimal::div(
                    &sum,
                    &count,
                    decimal::div_scale(&sum, &count),
                ))))
            }
            stat => {
                if special.is_some() {
                    return Ok(numeric(Numeric::NaN));
                }
                let sample = matches!(stat, Stat::VarSamp | Stat::StddevSamp);
                if self.n <= sample as i64 {
                    return Ok(Value::Null);
                }
                let n = BigDecimal::from(self.n);
                let rscale = decimal::dscale(&sum) * 2;
                let sum_sq_n = decimal::round(&(&n * self.total_sum_sq()), rscale);
                let numerator = sum_sq_n - decimal::round(&(&sum * &sum), rscale);
                if numerator <= BigDecimal::zero() {
                    return Ok(numeric(Numeric::from_i64(0)));
                }
                let denominator = if sample {
                    &n * (&n - BigDecimal::from(1))
                } else {
                    &n * &n
                };
                let scale = decimal::div_scale(&numerator, &denominator);
                let variance = decimal::div(&numerator, &denominator, scale);
                let result = if matches!(stat, Stat::StddevSamp | Stat::StddevPop) {
                    sqrt_at(&variance, scale)
                } else {
                    variance
                };
                Ok(numeric(Numeric::Finite(result)))
            }
        }
    }
    any_impl!();
}

/// A square root rounded to `scale` digits (`sqrt_var` with the caller's scale).
fn sqrt_at(d: &BigDecimal, scale: i64) -> BigDecimal {
    let work = scale + 2;
    let (m, _) = d.with_scale(2 * work).into_bigint_and_exponent();
    decimal::round(&BigDecimal::new(m.sqrt(), work), scale)
}

/// `float8_accum`: N, Sx, Sxx with the Youngs-Cramer update (and plain sums for `sum`).
struct FloatStats {
    stat: Stat,
    /// `sum(real)` adds in single precision and returns `real`.
    single: bool,
    n: f64,
    sx: f64,
    sxx: f64,
}

impl FloatStats {
    fn add(&mut self, x: f64) -> SqlResult<()> {
        let old_n = self.n;
        let old_sx = self.sx;
        self.n += 1.0;
        if self.single {
            let r = (self.sx as f32 + x as f32) as f64;
            if r.is_infinite() && !old_sx.is_infinite() && !x.is_infinite() {
                return Err(float_overflow());
            }
            self.sx = r;
            return Ok(());
        }
        self.sx += x;
        if old_n > 0.0 {
            let tmp = x * self.n - self.sx;
            self.sxx += tmp * tmp / (self.n * old_n);
            if self.sx.is_infinite() || self.sxx.is_infinite() {
                if !old_sx.is_infinite() && !x.is_infinite() {
                    return Err(float_overflow());
                }
                self.sxx = f64::NAN;
            }
        } else if !x.is_finite() {
            self.sxx = f64::NAN;
        }
        Ok(())
    }
}

impl Accumulator for FloatStats {
    fn update(&mut self, _: &FnCtx, args: &[Value]) -> SqlResult<()> {
        match args.first() {
            Some(Value::Float4(x)) => self.add(*x as f64),
            Some(Value::Float8(x)) => self.add(*x),
            _ => Ok(()),
        }
    }
    fn merge(&mut self, _: &FnCtx, other: Box<dyn Accumulator>) -> SqlResult<()> {
        let o = downcast::<FloatStats>(other)?;
        if o.n == 0.0 {
            return Ok(());
        }
        if self.n == 0.0 {
            self.n = o.n;
            self.sx = o.sx;
            self.sxx = o.sxx;
            return Ok(());
        }
        let n = self.n + o.n;
        let tmp = self.sx / self.n - o.sx / o.n;
        self.sxx = self.sxx + o.sxx + self.n * o.n * tmp * tmp / n;
        self.sx += o.sx;
        self.n = n;
        Ok(())
    }
    fn finish(&mut self, _: &FnCtx) -> SqlResult<Value> {
        if self.n == 0.0 {
            return Ok(Value::Null);
        }
        let v = match self.stat {
            Stat::Sum if self.single => return Ok(Value::Float4(self.sx as f32)),
            Stat::Sum => self.sx,
            Stat::Avg => self.sx / self.n,
            Stat::VarPop => self.sxx / self.n,
            Stat::StddevPop => (self.sxx / self.n).sqrt(),
            Stat::VarSamp | Stat::StddevSamp if self.n <= 1.0 => return Ok(Value::Null),
            Stat::VarSamp => self.sxx / (self.n - 1.0),
            Stat::StddevSamp => (self.sxx / (self.n - 1.0)).sqrt(),
        };
        Ok(Value::Float8(v))
    }
    any_impl!();
}

struct IntervalStats {
    stat: Stat,
    n: i64,
    sum: Interval,
}

impl Accumulator for IntervalStats {
    fn update(&mut self, _: &FnCtx, args: &[Value]) -> SqlResult<()> {
        if let Some(Value::Interval(i)) = args.first() {
            self.sum = interval_sum(&self.sum, i)?;
            self.n += 1;
        }
        Ok(())
    }
    fn merge(&mut self, _: &FnCtx, other: Box<dyn Accumulator>) -> SqlResult<()> {
        let o = downcast::<IntervalStats>(other)?;
        self.sum = interval_sum(&self.sum, &o.sum)?;
        self.n += o.n;
        Ok(())
    }
    fn finish(&mut self, _: &FnCtx) -> SqlResult<Value> {
        if self.n == 0 {
            return Ok(Value::Null);
        }
        Ok(Value::Interval(match self.stat {
            Stat::Avg => interval_divided(&self.sum, self.n as f64)?,
            _ => self.sum,
        }))
    }
    any_impl!();
}

/// pgvector's `sum(vector)` (single-precision adds) and `avg(vector)` (double sums).
struct VectorStats {
    stat: Stat,
    n: i64,
    sum: Vec<f64>,
}

impl VectorStats {
    fn add(&mut self, v: &[f32]) -> SqlResult<()> {
        if self.n == 0 {
            self.sum = vec![0.0; v.len()];
        } else if self.sum.len() != v.len() {
            return Err(SqlError::new(
                code::DATA_EXCEPTION,
                format!("expected {} dimensions, not {}", self.sum.len(), v.len()),
            ));
        }
        for (s, x) in self.sum.iter_mut().zip(v) {
            *s = if self.stat == Stat::Sum {
                (*s as f32 + *x) as f64
            } else {
                *s + *x as f64
            };
        }
        self.n += 1;
        Ok(())
    }
}

impl Accumulator for VectorStats {
    fn update(&mut self, _: &FnCtx, args: &[Value]) -> SqlResult<()> {
        match args.first() {
            Some(Value::Vector(v)) => self.add(v),
            _ => Ok(()),
        }
    }
    fn merge(&mut self, _: &FnCtx, other: Box<dyn Accumulator>) -> SqlResult<()> {
        let o = downcast::<VectorStats>(other)?;
        if o.n == 0 {
            return Ok(());
        }
        if self.n == 0 {
            *self = *o;
            return Ok(());
        }
        if o.sum.len() != self.sum.len() {
            return Err(vector_error(
                index::distance::VectorMathError::DimensionMismatch {
                    left: self.sum.len(),
                    right: o.sum.len(),
                },
            ));
        }
        for (s, x) in self.sum.iter_mut().zip(&o.sum) {
            *s += *x;
        }
        self.n += o.n;
        Ok(())
    }
    fn finish(&mut self, _: &FnCtx) -> SqlResult<Value> {
        if self.n == 0 {
            return Ok(Value::Null);
        }
        let divisor = if self.stat == Stat::Avg {
            self.n as f64
        } else {
            1.0
        };
        let out: Vec<f32> = self.sum.iter().map(|s| (s / divisor) as f32).collect();
        if out.iter().any(|x| x.is_infinite()) {
            return Err(float_overflow());
        }
        Ok(Value::Vector(out))
    }
    any_impl!();
}

#[derive(Clone, Copy)]
enum Regr {
    Corr,
    CovarPop,
    CovarSamp,
    Count,
    Sxx,
    Syy,
    Sxy,
    AvgX,
    AvgY,
    R2,
    Slope,
    Intercept,
}

/// `float8_regr_accum`: N, Sx, Sxx, Sy, Syy, Sxy. Arguments are (Y, X) as in PostgreSQL.
struct RegrStats {
    kind: Regr,
    s: [f64; 6],
}

impl Accumulator for RegrStats {
    fn update(&mut self, _: &FnCtx, args: &[Value]) -> SqlResult<()> {
        let num = |v: Option<&Value>| match v {
            Some(Value::Float8(x)) => Some(*x),
            Some(Value::Float4(x)) => Some(*x as f64),
            _ => None,
        };
        let (Some(y), Some(x)) = (num(args.first()), num(args.get(1))) else {
            return Ok(());
        };
        let [n, sx, sxx, sy, syy, sxy] = self.s;
        let n1 = n + 1.0;
        let (sx1, sy1) = (sx + x, sy + y);
        let (mut sxx1, mut syy1, mut sxy1) = (sxx, syy, sxy);
        if n > 0.0 {
            let tx = x * n1 - sx1;
            let ty = y * n1 - sy1;
            let scale = 1.0 / (n1 * n);
            sxx1 += tx * tx * scale;
            syy1 += ty * ty * scale;
            sxy1 += tx * ty * scale;
            if [sx1, sxx1, sy1, syy1, sxy1].iter().any(|v| v.is_infinite())
                && [sx, sy, x, y].iter().all(|v| v.is_finite())
            {
                return Err(float_overflow());
            }
        } else {
            if !x.is_finite() {
                sxx1 = f64::NAN;
                sxy1 = f64::NAN;
            }
            if !y.is_finite() {
                syy1 = f64::NAN;
                sxy1 = f64::NAN;
            }
        }
        self.s = [n1, sx1, sxx1, sy1, syy1, sxy1];
        Ok(())
    }
    fn merge(&mut self, _: &FnCtx, other: Box<dyn Accumulator>) -> SqlResult<()> {
        let o = downcast::<RegrStats>(other)?.s;
        let a = self.s;
        if o[0] == 0.0 {
            return Ok(());
        }
        if a[0] == 0.0 {
            self.s = o;
            return Ok(());
        }
        let n = a[0] + o[0];
        let tx = a[1] / a[0] - o[1] / o[0];
        let ty = a[3] / a[0] - o[3] / o[0];
        let w = a[0] * o[0] / n;
        self.s = [
            n,
            a[1] + o[1],
            a[2] + o[2] + w * tx * tx,
            a[3] + o[3],
            a[4] + o[4] + w * ty * ty,
            a[5] + o[5] + w * tx * ty,
        ];
        Ok(())
    }
    fn finish(&mut self, _: &FnCtx) -> SqlResult<Value> {
        let [n, sx, sxx, sy, syy, sxy] = self.s;
        if let Regr::Count = self.kind {
            return Ok(Value::Int8(n as i64));
        }
        if n < 1.0 {
            return Ok(Value::Null);
        }
        let v = match self.kind {
            Regr::Sxx => sxx,
            Regr::Syy => syy,
            Regr::Sxy => sxy,
            Regr::AvgX => sx / n,
            Regr::AvgY => sy / n,
            Regr::CovarPop => sxy / n,
            Regr::CovarSamp if n < 2.0 => return Ok(Value::Null),
            Regr::CovarSamp => sxy / (n - 1.0),
            Regr::Corr if sxx == 0.0 || syy == 0.0 => return Ok(Value::Null),
            Regr::Corr => sxy / (sxx * syy).sqrt(),
            Regr::R2 if sxx == 0.0 => return Ok(Value::Null),
            Regr::R2 if syy == 0.0 => 1.0,
            Regr::R2 => (sxy * sxy) / (sxx * syy),
            Regr::Slope if sxx == 0.0 => return Ok(Value::Null),
            Regr::Slope => sxy / sxx,
            Regr::Intercept if sxx == 0.0 => return Ok(Value::Null),
            Regr::Intercept => (sy - sx * sxy / sxx) / n,
            Regr::Count => n,
        };
        Ok(Value::Float8(v))
    }
    any_impl!();
}
