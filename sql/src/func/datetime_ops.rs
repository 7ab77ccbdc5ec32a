//! Date/time arithmetic: `date ± integer`, `date - date`, `date/timestamp/timestamptz ±
//! interval`, `timestamp - timestamp`, `date + time`, `time ± interval`, `time - time`, and
//! `interval` `+ - * /` and unary minus, as `date.c` / `timestamp.c` compute them.
//!
//! Adding months clamps to the month's last day (`Jan 31 + 1 month = Feb 29`); months and
//! days of an interval added to a `timestamptz` move the local wall clock in the session
//! time zone, the time part moves the instant. Differences of timestamps are justified into
//! days and time (`justify_hours`). Multiplying or dividing an interval cascades fractions
//! of months into days and of days into time exactly as PostgreSQL 16 does.

use storage::types::{Interval, Value};

use super::calendar::{
    self, date2j, date_to_timestamp, days_in_month, is_infinite, j2date, local_to_utc,
    timestamp_out_of_range, utc_to_local, DateTime, DATE_NOBEGIN, DATE_NOEND, USECS_PER_DAY,
    USECS_PER_SEC,
};
use super::registry::Registry;
use super::{args, FnCtx};
use crate::error::{SqlError, SqlResult};
use crate::pgtype::SqlType;

pub fn register(reg: &mut Registry) {
    use SqlType::{Date, Float8, Int4, Interval as Iv, Time, Timestamp, Timestamptz};
    reg.typed("+", &[Date, Int4], Date, date_plus_int);
    reg.typed("+", &[Int4, Date], Date, int_plus_date);
    reg.typed("-", &[Date, Int4], Date, date_minus_int);
    reg.typed("-", &[Date, Date], Int4, date_minus_date);
    reg.typed("+", &[Date, Iv], Timestamp, date_plus_interval);
    reg.typed("+", &[Iv, Date], Timestamp, interval_plus_date);
    reg.typed("-", &[Date, Iv], Timestamp, date_minus_interval);
    reg.typed("+", &[Date, Time], Timestamp, date_plus_time);
    reg.typed("+", &[Time, Date], Timestamp, time_plus_date);
    reg.typed("+", &[Timestamp, Iv], Timestamp, timestamp_plus);
    reg.typed("+", &[Iv, Timestamp], Timestamp, interval_plus_timestamp);
    reg.typed("-", &[Timestamp, Iv], Timestamp, timestamp_minus);
    reg.typed("-", &[Timestamp, Timestamp], Iv, timestamp_diff);
    reg.typed("+", &[Timestamptz, Iv], Timestamptz, timestamptz_plus)
        .volatility(super::Volatility::Stable);
    reg.typed(
        "+",
        &[Iv, Timestamptz],
        Timestamptz,
        interval_plus_timestamptz,
    )
    .volatility(super::Volatility::Stable);
    reg.typed("-", &[Timestamptz, Iv], Timestamptz, timestamptz_minus)
        .volatility(super::Volatility::Stable);
    reg.typed("-", &[Timestamptz, Timestamptz], Iv, timestamp_diff);
    reg.typed("+", &[Time, Iv], Time, time_plus_interval);
    reg.typed("+", &[Iv, Time], Time, interval_plus_time);
    reg.typed("-", &[Time, Iv], Time, time_minus_interval);
    reg.typed("-", &[Time, Time], Iv, time_diff);
    reg.typed("+", &[Iv.clone(), Iv.clone()], Iv.clone(), interval_add);
    reg.typed("-", &[Iv.clone(), Iv.clone()], Iv.clone(), interval_sub);
    reg.typed("-", [Iv.clone()], Iv.clone(), interval_neg);
    reg.typed("+", [Iv.clone()], Iv.clone(), interval_identity);
    reg.typed("*", &[Iv.clone(), Float8], Iv.clone(), interval_mul_fn);
    reg.typed("*", &[Float8, Iv.clone()], Iv.clone(), float_mul_interval);
    reg.typed("/", &[Iv.clone(), Float8], Iv, interval_div_fn);
    for t in [Timestamptz, Timestamp, Time] {
        reg.typed(
            "overlaps",
            &[t.clone(), t.clone(), t.clone(), t],
            SqlType::Bool,
            overlaps,
        )
        .strict(false);
    }
}

/// `(s1, e1) OVERLAPS (s2, e2)` (`overlaps_timestamp`): each period may be given in either
/// order and one end may be NULL (the period is then an instant); NULL when the answer
/// depends on a missing end.
fn overlaps(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    use super::compare::compare;
    use std::cmp::Ordering::{Greater, Less};
    let period = |s: &Value, e: &Value| -> Option<(Value, Option<Value>)> {
        match (s.is_null(), e.is_null()) {
            (true, true) => None,
            (true, false) => Some((e.clone(), None)),
            (false, true) => Some((s.clone(), None)),
            (false, false) if compare(s, e) == Greater => Some((e.clone(), Some(s.clone()))),
            (false, false) => Some((s.clone(), Some(e.clone()))),
        }
    };
    let (Some((ts1, te1)), Some((ts2, te2))) = (period(&a[0], &a[1]), period(&a[2], &a[3])) else {
        return Ok(Value::Null);
    };
    let result = match compare(&ts1, &ts2) {
        Greater => match &te2 {
            None => None,
            Some(te2) if compare(&ts1, te2) == Less => Some(true),
            Some(_) => te1.as_ref().map(|_| false),
        },
        Less => match &te1 {
            None => None,
            Some(te1) if compare(&ts2, te1) == Less => Some(true),
            Some(_) => te2.as_ref().map(|_| false),
        },
        // Equal starts overlap, unless an end is unknown.
        _ => (te1.is_some() && te2.is_some()).then_some(true),
    };
    Ok(result.map_or(Value::Null, Value::Bool))
}

pub fn interval_overflow() -> SqlError {
    calendar::interval_out_of_range()
}

fn date_out_of_range() -> SqlError {
    calendar::date_out_of_range()
}

/// `date + days` with the range check.
pub fn date_plus_days(d: i32, days: i64) -> SqlResult<i32> {
    if d == DATE_NOBEGIN || d == DATE_NOEND {
        return Ok(d);
    }
    let r = d as i64 + days;
    if calendar::is_valid_date(r) {
        Ok(r as i32)
    } else {
        Err(date_out_of_range())
    }
}

fn date_plus_int(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Date(date_plus_days(
        args::date(a, 0)?,
        args::int(a, 1)?,
    )?))
}

fn int_plus_date(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Date(date_plus_days(
        args::date(a, 1)?,
        args::int(a, 0)?,
    )?))
}

fn date_minus_int(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Date(date_plus_days(
        args::date(a, 0)?,
        -args::int(a, 1)?,
    )?))
}

fn date_minus_date(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = (args::date(a, 0)?, args::date(a, 1)?);
    if [x, y]
        .iter()
        .any(|d| *d == DATE_NOBEGIN || *d == DATE_NOEND)
    {
        return Err(SqlError::new(
            crate::error::code::DATETIME_FIELD_OVERFLOW,
            "cannot subtract infinite dates",
        ));
    }
    Ok(Value::Int4(x - y))
}

/// PostgreSQL's `timestamp_pl_interval` on a local (zone-less) timestamp: months, then days,
/// then time.
pub fn add_interval_local(t: i64, span: &Interval) -> SqlResult<i64> {
    add_interval_with(t, span, None)
}

/// `timestamptz_pl_interval`: months and days in local time of `zone`, time in UTC.
pub fn add_interval_zoned(
    zone: &crate::types::SessionTimeZone,
    t: i64,
    span: &Interval,
) -> SqlResult<i64> {
    add_interval_with(t, span, Some(zone))
}

fn add_interval_with(
    t: i64,
    span: &Interval,
    zone: Option<&crate::types::SessionTimeZone>,
) -> SqlResult<i64> {
    if is_infinite(t) {
        return Ok(t);
    }
    let mut t = t;
    if span.months != 0 || span.days != 0 {
        let local = match zone {
            Some(z) => utc_to_local(z, t),
            None => t,
        };
        let mut tm = DateTime::from_timestamp(local);
        if span.months != 0 {
            let total = tm.year as i64 * 12 + (tm.month as i64 - 1) + span.months as i64;
            tm.year = i32::try_from(total.div_euclid(12)).map_err(|_| timestamp_out_of_range())?;
            tm.month = (total.rem_euclid(12) + 1) as i32;
            tm.day = tm.day.min(days_in_month(tm.year, tm.month));
        }
        if span.days != 0 {
            let julian = date2j(tm.year, tm.month, tm.day) as i64 + span.days as i64;
            if !(0..=i32::MAX as i64).contains(&julian) {
                return Err(timestamp_out_of_range());
            }
            let (y, m, d) = j2date(julian as i32);
            tm.year = y;
            tm.month = m;
            tm.day = d;
        }
        let new_local = tm.to_timestamp()?;
        t = match zone {
            Some(z) => local_to_utc(z, new_local),
            None => new_local,
        };
    }
    let r = t
        .checked_add(span.micros)
        .ok_or_else(timestamp_out_of_range)?;
    if calendar::is_valid_timestamp(r) {
        Ok(r)
    } else {
        Err(timestamp_out_of_range())
    }
}

pub fn negate_interval(i: &Interval) -> SqlResult<Interval> {
    Ok(Interval {
        months: i.months.checked_neg().ok_or_else(interval_overflow)?,
        days: i.days.checked_neg().ok_or_else(interval_overflow)?,
        micros: i.micros.checked_neg().ok_or_else(interval_overflow)?,
    })
}

fn date_plus_interval(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let t = date_to_timestamp(args::date(a, 0)?)?;
    Ok(Value::Timestamp(add_interval_local(
        t,
        &args::interval(a, 1)?,
    )?))
}

fn interval_plus_date(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let t = date_to_timestamp(args::date(a, 1)?)?;
    Ok(Value::Timestamp(add_interval_local(
        t,
        &args::interval(a, 0)?,
    )?))
}

fn date_minus_interval(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let t = date_to_timestamp(args::date(a, 0)?)?;
    let span = negate_interval(&args::interval(a, 1)?)?;
    Ok(Value::Timestamp(add_interval_local(t, &span)?))
}

fn time_of(a: &[Value], i: usize) -> SqlResult<i64> {
    match args::arg(a, i)? {
        Value::Time(t) => Ok(*t),
        other => Err(SqlError::internal(format!("expected time, got {other:?}"))),
    }
}

fn date_plus_time(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let t = date_to_timestamp(args::date(a, 0)?)?;
    combine_date_time(t, time_of(a, 1)?)
}

fn time_plus_date(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let t = date_to_timestamp(args::date(a, 1)?)?;
    combine_date_time(t, time_of(a, 0)?)
}

fn combine_date_time(t: i64, time: i64) -> SqlResult<Value> {
    if is_infinite(t) {
        return Ok(Value::Timestamp(t));
    }
    let r = t + time;
    if calendar::is_valid_timestamp(r) {
        Ok(Value::Timestamp(r))
    } else {
        Err(timestamp_out_of_range())
    }
}

fn timestamp_plus(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Timestamp(add_interval_local(
        args::timestamp(a, 0)?,
        &args::interval(a, 1)?,
    )?))
}

fn interval_plus_timestamp(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Timestamp(add_interval_local(
        args::timestamp(a, 1)?,
        &args::interval(a, 0)?,
    )?))
}

fn timestamp_minus(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let span = negate_interval(&args::interval(a, 1)?)?;
    Ok(Value::Timestamp(add_interval_local(
        args::timestamp(a, 0)?,
        &span,
    )?))
}

fn timestamptz_plus(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Timestamptz(add_interval_zoned(
        &ctx.format.time_zone,
        args::timestamp(a, 0)?,
        &args::interval(a, 1)?,
    )?))
}

fn interval_plus_timestamptz(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Timestamptz(add_interval_zoned(
        &ctx.format.time_zone,
        args::timestamp(a, 1)?,
        &args::interval(a, 0)?,
    )?))
}

fn timestamptz_minus(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let span = negate_interval(&args::interval(a, 1)?)?;
    Ok(Value::Timestamptz(add_interval_zoned(
        &ctx.format.time_zone,
        args::timestamp(a, 0)?,
        &span,
    )?))
}

/// `timestamp - timestamp`: the difference in time, justified into days.
pub fn timestamp_difference(x: i64, y: i64) -> SqlResult<Interval> {
    if is_infinite(x) || is_infinite(y) {
        return Err(SqlError::new(
            crate::error::code::DATETIME_FIELD_OVERFLOW,
            "cannot subtract infinite timestamps",
        ));
    }
    let micros = x.checked_sub(y).ok_or_else(interval_overflow)?;
    Ok(justify_hours(Interval {
        months: 0,
        days: 0,
        micros,
    }))
}

fn timestamp_diff(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Interval(timestamp_difference(
        args::timestamp(a, 0)?,
        args::timestamp(a, 1)?,
    )?))
}

/// `justify_hours`: whole days of the time part move to days, signs made consistent.
pub fn justify_hours(mut i: Interval) -> Interval {
    let whole_days = i.micros / USECS_PER_DAY;
    i.micros -= whole_days * USECS_PER_DAY;
    i.days = i.days.saturating_add(whole_days as i32);
    if i.days > 0 && i.micros < 0 {
        i.micros += USECS_PER_DAY;
        i.days -= 1;
    } else if i.days < 0 && i.micros > 0 {
        i.micros -= USECS_PER_DAY;
        i.days += 1;
    }
    i
}

/// `justify_days`: every 30 days move to months.
pub fn justify_days(mut i: Interval) -> Interval {
    let whole_months = i.days / 30;
    i.days -= whole_months * 30;
    i.months = i.months.saturating_add(whole_months);
    if i.months > 0 && i.days < 0 {
        i.days += 30;
        i.months -= 1;
    } else if i.months < 0 && i.days > 0 {
        i.days -= 30;
        i.months += 1;
    }
    i
}

/// `justify_interval`: both, with one sign throughout.
pub fn justify_interval(mut i: Interval) -> Interval {
    let whole_days = i.micros / USECS_PER_DAY;
    i.micros -= whole_days * USECS_PER_DAY;
    i.days = i.days.saturating_add(whole_days as i32);
    let whole_months = i.days / 30;
    i.days -= whole_months * 30;
    i.months = i.months.saturating_add(whole_months);
    if i.months > 0 && (i.days < 0 || (i.days == 0 && i.micros < 0)) {
        i.days += 30;
        i.months -= 1;
    } else if i.months < 0 && (i.days > 0 || (i.days == 0 && i.micros > 0)) {
        i.days -= 30;
        i.months += 1;
    }
    if i.days > 0 && i.micros < 0 {
        i.micros += USECS_PER_DAY;
        i.days -= 1;
    } else if i.days < 0 && i.micros > 0 {
        i.micros -= USECS_PER_DAY;
        i.days += 1;
    }
    i
}

fn time_add(t: i64, micros: i64) -> i64 {
    (t + micros % USECS_PER_DAY).rem_euclid(USECS_PER_DAY)
}

fn time_plus_interval(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Time(time_add(
        time_of(a, 0)?,
        args::interval(a, 1)?.micros,
    )))
}

fn interval_plus_time(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Time(time_add(
        time_of(a, 1)?,
        args::interval(a, 0)?.micros,
    )))
}

fn time_minus_interval(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Time(time_add(
        time_of(a, 0)?,
        -args::interval(a, 1)?.micros,
    )))
}

fn time_diff(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Interval(Interval {
        months: 0,
        days: 0,
        micros: time_of(a, 0)? - time_of(a, 1)?,
    }))
}

pub fn interval_sum(x: &Interval, y: &Interval) -> SqlResult<Interval> {
    Ok(Interval {
        months: x
            .months
            .checked_add(y.months)
            .ok_or_else(interval_overflow)?,
        days: x.days.checked_add(y.days).ok_or_else(interval_overflow)?,
        micros: x
            .micros
            .checked_add(y.micros)
            .ok_or_else(interval_overflow)?,
    })
}

pub(super) fn interval_add(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Interval(interval_sum(
        &args::interval(a, 0)?,
        &args::interval(a, 1)?,
    )?))
}

pub(super) fn interval_sub(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let y = negate_interval(&args::interval(a, 1)?)?;
    Ok(Value::Interval(interval_sum(&args::interval(a, 0)?, &y)?))
}

fn interval_neg(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Interval(negate_interval(&args::interval(a, 0)?)?))
}

fn interval_identity(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Interval(args::interval(a, 0)?))
}

/// `TSROUND`: rounds to microsecond precision in seconds.
fn ts_round(x: f64) -> f64 {
    (x * 1_000_000.0).round_ties_even() / 1_000_000.0
}

fn fits_i32(x: f64) -> bool {
    !x.is_nan() && x >= i32::MIN as f64 && x < -(i32::MIN as f64)
}

/// `interval_mul` / `interval_div` (a division is a multiplication by `1/factor` computed
/// with the division's own rounding).
fn scale_interval(span: &Interval, factor: f64, divide: bool) -> SqlResult<Interval> {
    let apply = |x: f64| if divide { x / factor } else { x * factor };
    let months_f = apply(span.months as f64);
    let days_f = apply(span.days as f64);
    if !fits_i32(months_f) || !fits_i32(days_f) {
        return Err(interval_overflow());
    }
    let months = months_f as i32;
    let mut days = days_f as i32;
    let month_remainder_days = ts_round((months_f - months as f64) * 30.0);
    let mut sec_remainder = ts_round(
        (days_f - days as f64 + month_remainder_days - month_remainder_days.trunc()) * 86_400.0,
    );
    if sec_remainder.abs() >= 86_400.0 {
        let whole = (sec_remainder / 86_400.0) as i32;
        days = days.checked_add(whole).ok_or_else(interval_overflow)?;
        sec_remainder -= whole as f64 * 86_400.0;
    }
    days = days
        .checked_add(month_remainder_days as i32)
        .ok_or_else(interval_overflow)?;
    let micros =
        (apply(span.micros as f64) + sec_remainder * USECS_PER_SEC as f64).round_ties_even();
    if micros.is_nan() || micros < i64::MIN as f64 || micros >= -(i64::MIN as f64) {
        return Err(interval_overflow());
    }
    Ok(Interval {
        months,
        days,
        micros: micros as i64,
    })
}

pub fn interval_times(span: &Interval, factor: f64) -> SqlResult<Interval> {
    scale_interval(span, factor, false)
}

pub fn interval_divided(span: &Interval, factor: f64) -> SqlResult<Interval> {
    if factor == 0.0 {
        return Err(SqlError::division_by_zero());
    }
    scale_interval(span, factor, true)
}

pub(super) fn interval_mul_fn(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Interval(interval_times(
        &args::interval(a, 0)?,
        args::float(a, 1)?,
    )?))
}

fn float_mul_interval(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Interval(interval_times(
        &args::interval(a, 1)?,
        args::float(a, 0)?,
    )?))
}

fn interval_div_fn(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Interval(interval_divided(
        &args::interval(a, 0)?,
        args::float(a, 1)?,
    )?))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{call_in, ok, with_zone};
    use crate::pgtype::SqlType::{
        Date, Float8, Int4, Interval as Iv, Time, Timestamp, Timestamptz,
    };

    #[test]
    fn date_and_timestamp_arithmetic_matches_postgres() {
        assert_eq!(
            ok("+", &[("2024-01-31", Date), ("1 month", Iv)]),
            "2024-02-29 00:00:00"
        );
        assert_eq!(
            ok(
                "+",
                &[("2024-01-31 10:00", Timestamp), ("1 mon 1 day 1 hour", Iv)]
            ),
            "2024-03-01 11:00:00"
        );
        assert_eq!(ok("-", &[("2024-03-01", Date), ("2024-01-01", Date)]), "60");
        assert_eq!(ok("+", &[("2024-03-01", Date), ("30", Int4)]), "2024-03-31");
        assert_eq!(
            ok(
                "-",
                &[
                    ("2024-03-10 10:00", Timestamp),
                    ("2024-03-01 12:30", Timestamp)
                ]
            ),
            "8 days 21:30:00"
        );
        assert_eq!(
            ok("+", &[("2024-01-01", Date), ("10:00", Time)]),
            "2024-01-01 10:00:00"
        );
        assert_eq!(
            ok("+", &[("infinity", Timestamp), ("1 day", Iv)]),
            "infinity"
        );
        assert_eq!(ok("+", &[("23:00", Time), ("2 hours", Iv)]), "01:00:00");
        assert_eq!(ok("-", &[("10:00", Time), ("12:30", Time)]), "-02:30:00");
    }

    #[test]
    fn interval_arithmetic_matches_postgres() {
        assert_eq!(ok("*", &[("1 mon", Iv), ("1.5", Float8)]), "1 mon 15 days");
        assert_eq!(ok("/", &[("1 day", Iv), ("3", Float8)]), "08:00:00");
        assert_eq!(
            ok("*", &[("2 hours", Iv), ("0.3333", Float8)]),
            "00:39:59.76"
        );
        assert_eq!(
            ok("-", &[("1 mon 2 days 3 hours", Iv)]),
            "-1 mons -2 days -03:00:00"
        );
        assert_eq!(
            ok(
                "*",
                &[("1 year 2 mons 3 days 04:05:06", Iv), ("2.5", Float8)]
            ),
            "2 years 11 mons 7 days 22:12:45"
        );
        assert_eq!(
            ok("/", &[("3 mons", Iv), ("7", Float8)]),
            "12 days 20:34:17.1552"
        );
    }

    #[test]
    fn timestamptz_arithmetic_uses_the_session_zone() {
        with_zone("America/New_York", |ctx| {
            let run = |args: &[(&str, crate::pgtype::SqlType)]| call_in(ctx, "+", args).unwrap();
            assert_eq!(
                run(&[("2024-03-09 12:00-05", Timestamptz), ("1 day", Iv)]),
                "2024-03-10 12:00:00-04"
            );
            assert_eq!(
                run(&[("2024-03-09 12:00-05", Timestamptz), ("24 hours", Iv)]),
                "2024-03-10 13:00:00-04"
            );
            let diff = call_in(
                ctx,
                "-",
                &[
                    ("2024-03-11 12:00", Timestamptz),
                    ("2024-03-09 12:00", Timestamptz),
                ],
            )
            .unwrap();
            assert_eq!(diff, "1 day 23:00:00");
        });
    }
}
