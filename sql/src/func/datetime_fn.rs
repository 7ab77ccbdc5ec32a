//! Date/time functions: `now` and the other clocks (`transaction_timestamp`,
//! `statement_timestamp`, `clock_timestamp`, `current_date`, `localtimestamp`,
//! `localtime`), `age`, `make_date`, `make_time`, `make_timestamp`, `make_timestamptz`,
//! `make_interval`, `justify_*`, `to_timestamp(double precision)`, `date_bin`, `isfinite`
//! and `timezone` (what `AT TIME ZONE` maps to). Fields and truncation are in
//! `datetime_fields`, text formatting in `to_char`.
//!
//! Zones named in `timezone(...)` and `make_timestamptz(..., zone)` are read as PostgreSQL
//! reads them: a fixed abbreviation (`EST`, `CEST`), an IANA name, or a POSIX string where
//! `+02` means two hours *west* of Greenwich.

use std::time::{SystemTime, UNIX_EPOCH};

use storage::types::{Interval, Value};

use super::calendar::{
    self, date2j, days_in_month, is_infinite, local_to_utc, utc_to_local, DateTime,
    POSTGRES_EPOCH_JDATE, UNIX_EPOCH_JDATE, USECS_PER_DAY, USECS_PER_SEC,
};
use super::datetime_ops::{justify_days, justify_hours, justify_interval};
use super::registry::Registry;
use super::{args, FnCtx, Volatility};
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;
use crate::types::{parse_text, SessionTimeZone};

pub fn register(reg: &mut Registry) {
    use SqlType::{Bool, Date, Float8, Int4, Interval as Iv, Text, Time, Timestamp, Timestamptz};
    for name in ["now", "transaction_timestamp", "current_timestamp"] {
        reg.typed(name, &[], Timestamptz, now)
            .volatility(Volatility::Stable);
    }
    reg.typed("statement_timestamp", &[], Timestamptz, statement_timestamp)
        .volatility(Volatility::Stable);
    reg.typed("clock_timestamp", &[], Timestamptz, clock_timestamp)
        .volatility(Volatility::Volatile);
    reg.typed("timeofday", &[], Text, timeofday)
        .volatility(Volatility::Volatile);
    reg.typed("current_date", &[], Date, current_date)
        .volatility(Volatility::Stable);
    reg.typed("localtimestamp", &[], Timestamp, local_timestamp)
        .volatility(Volatility::Stable);
    reg.typed("localtime", &[], Time, local_time)
        .volatility(Volatility::Stable);
    reg.typed("age", &[Timestamp, Timestamp], Iv.clone(), age);
    reg.typed("age", &[Timestamptz, Timestamptz], Iv.clone(), age)
        .volatility(Volatility::Stable);
    reg.typed("age", &[Timestamp], Iv.clone(), age_from_today)
        .volatility(Volatility::Stable);
    reg.typed("age", &[Timestamptz], Iv.clone(), age_from_today)
        .volatility(Volatility::Stable);
    reg.typed("make_date", &[Int4, Int4, Int4], Date, make_date);
    reg.typed("make_time", &[Int4, Int4, Float8], Time, make_time);
    reg.typed(
        "make_timestamp",
        &[Int4, Int4, Int4, Int4, Int4, Float8],
        Timestamp,
        make_timestamp,
    );
    reg.typed(
        "make_timestamptz",
        &[Int4, Int4, Int4, Int4, Int4, Float8],
        Timestamptz,
        make_timestamptz,
    )
    .volatility(Volatility::Stable);
    reg.typed(
        "make_timestamptz",
        &[Int4, Int4, Int4, Int4, Int4, Float8, Text],
        Timestamptz,
        make_timestamptz,
    )
    .volatility(Volatility::Stable);
    let interval_params = [Int4, Int4, Int4, Int4, Int4, Int4, Float8];
    for n in 0..=interval_params.len() {
        reg.typed(
            "make_interval",
            &interval_params[..n],
            Iv.clone(),
            make_interval,
        );
    }
    reg.typed("justify_days", [Iv.clone()], Iv.clone(), justify_days_fn);
    reg.typed("justify_hours", [Iv.clone()], Iv.clone(), justify_hours_fn);
    reg.typed(
        "justify_interval",
        [Iv.clone()],
        Iv.clone(),
        justify_interval_fn,
    );
    reg.typed("to_timestamp", &[Float8], Timestamptz, to_timestamp_epoch);
    reg.typed(
        "date_bin",
        &[Iv.clone(), Timestamp, Timestamp],
        Timestamp,
        date_bin,
    );
    reg.typed(
        "date_bin",
        &[Iv.clone(), Timestamptz, Timestamptz],
        Timestamptz,
        date_bin,
    );
    for t in [Date, Timestamp, Timestamptz, Iv.clone()] {
        reg.typed("isfinite", &[t], Bool, isfinite);
    }
    reg.typed(
        "timezone",
        &[Text, Timestamp],
        Timestamptz,
        timezone_of_local,
    );
    reg.typed(
        "timezone",
        &[Text, Timestamptz],
        Timestamp,
        timezone_of_instant,
    );
    reg.typed(
        "timezone",
        &[Iv.clone(), Timestamp],
        Timestamptz,
        timezone_of_local,
    );
    reg.typed(
        "timezone",
        &[Iv, Timestamptz],
        Timestamp,
        timezone_of_instant,
    );
}

/// Microseconds since 2000-01-01 UTC, now.
pub fn clock_now() -> i64 {
    let unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0);
    unix - (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) as i64 * USECS_PER_DAY
}

fn now(ctx: &FnCtx, _: &[Value]) -> SqlResult<Value> {
    Ok(Value::Timestamptz(ctx.format.now_micros()))
}

fn statement_timestamp(ctx: &FnCtx, _: &[Value]) -> SqlResult<Value> {
    Ok(Value::Timestamptz(ctx.statement_start))
}

fn clock_timestamp(_: &FnCtx, _: &[Value]) -> SqlResult<Value> {
    Ok(Value::Timestamptz(clock_now()))
}

/// `timeofday()`: the clock as text, `Wed Nov 25 15:42:01.123456 2026 UTC` style.
fn timeofday(ctx: &FnCtx, _: &[Value]) -> SqlResult<Value> {
    let t = clock_now();
    let local = utc_to_local(&ctx.format.time_zone, t);
    let dt = DateTime::from_timestamp(local);
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let dow = calendar::j2day(date2j(dt.year, dt.month, dt.day)) as usize;
    let zone = ctx
        .format
        .time_zone
        .abbreviation_at(t)
        .unwrap_or_else(|| ctx.format.time_zone.to_string());
    Ok(Value::Text(format!(
        "{} {} {:02} {:02}:{:02}:{:02}.{:06} {} {}",
        DAYS[dow],
        MONTHS[(dt.month - 1) as usize],
        dt.day,
        dt.hour,
        dt.minute,
        dt.second,
        dt.micros,
        dt.year,
        zone
    )))
}

fn local_now(ctx: &FnCtx) -> i64 {
    utc_to_local(&ctx.format.time_zone, ctx.format.now_micros())
}

fn current_date(ctx: &FnCtx, _: &[Value]) -> SqlResult<Value> {
    Ok(Value::Date(local_now(ctx).div_euclid(USECS_PER_DAY) as i32))
}

fn local_timestamp(ctx: &FnCtx, _: &[Value]) -> SqlResult<Value> {
    Ok(Value::Timestamp(local_now(ctx)))
}

fn local_time(ctx: &FnCtx, _: &[Value]) -> SqlResult<Value> {
    Ok(Value::Time(local_now(ctx).rem_euclid(USECS_PER_DAY)))
}

/// PostgreSQL's `timestamp_age`: the symbolic difference of two broken-down local times.
pub fn symbolic_age(t1: i64, t2: i64) -> SqlResult<Interval> {
    if is_infinite(t1) || is_infinite(t2) {
        return Err(SqlError::new(
            code::DATETIME_FIELD_OVERFLOW,
            "cannot subtract infinite timestamps",
        ));
    }
    let (a, b) = (DateTime::from_timestamp(t1), DateTime::from_timestamp(t2));
    let negative = t1 < t2;
    let sign = if negative { -1 } else { 1 };
    let mut usec = sign * (a.micros - b.micros);
    let mut sec = sign * (a.second - b.second) as i64;
    let mut min = sign * (a.minute - b.minute) as i64;
    let mut hour = sign * (a.hour - b.hour) as i64;
    let mut mday = sign * (a.day - b.day) as i64;
    let mut mon = sign * (a.month - b.month) as i64;
    let mut year = sign * (a.year - b.year) as i64;
    while usec < 0 {
        usec += USECS_PER_SEC;
        sec -= 1;
    }
    while sec < 0 {
        sec += 60;
        min -= 1;
    }
    while min < 0 {
        min += 60;
        hour -= 1;
    }
    while hour < 0 {
        hour += 24;
        mday -= 1;
    }
    while mday < 0 {
        let (y, m) = if negative {
            (a.year, a.month)
        } else {
            (b.year, b.month)
        };
        mday += days_in_month(y, m) as i64;
        mon -= 1;
    }
    while mon < 0 {
        mon += 12;
        year -= 1;
    }
    let months = sign * (year * 12 + mon);
    let days = sign * mday;
    let micros = sign * (((hour * 60 + min) * 60 + sec) * USECS_PER_SEC + usec);
    Ok(Interval {
        months: i32::try_from(months).map_err(|_| calendar::interval_out_of_range())?,
        days: days as i32,
        micros,
    })
}

/// The local wall-clock value of a timestamp argument (timestamptz in the session zone).
fn local_of(ctx: &FnCtx, v: &Value) -> SqlResult<i64> {
    match v {
        Value::Timestamptz(t) => Ok(utc_to_local(&ctx.format.time_zone, *t)),
        Value::Timestamp(t) => Ok(*t),
        other => Err(SqlError::internal(format!(
            "expected a timestamp, got {other:?}"
        ))),
    }
}

fn age(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let t1 = local_of(ctx, args::arg(a, 0)?)?;
    let t2 = local_of(ctx, args::arg(a, 1)?)?;
    Ok(Value::Interval(symbolic_age(t1, t2)?))
}

fn age_from_today(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let today = local_now(ctx).div_euclid(USECS_PER_DAY) * USECS_PER_DAY;
    let t = local_of(ctx, args::arg(a, 0)?)?;
    Ok(Value::Interval(symbolic_age(today, t)?))
}

fn date_field_error(y: i64, m: i64, d: i64) -> SqlError {
    SqlError::new(
        code::DATETIME_FIELD_OVERFLOW,
        format!("date field value out of range: {y}-{m:02}-{d:02}"),
    )
}

/// Validates a calendar date (negative years are BC; there is no year 0) and returns the
/// astronomical year.
fn valid_date(y: i64, m: i64, d: i64) -> SqlResult<(i32, i32, i32)> {
    if y == 0 || !(1..=12).contains(&m) || d < 1 || y.abs() > 5_874_897 {
        return Err(date_field_error(y, m, d));
    }
    let year = if y < 0 { y + 1 } else { y } as i32;
    if d > days_in_month(year, m as i32) as i64 {
        return Err(date_field_error(y, m, d));
    }
    Ok((year, m as i32, d as i32))
}

/// Validates a time of day; returns microseconds since midnight.
fn valid_time(h: i64, m: i64, sec: f64) -> SqlResult<i64> {
    let micros = (sec * 1e6).round_ties_even() as i64;
    let total = (h * 60 + m) * 60 * USECS_PER_SEC + micros;
    if h < 0
        || !(0..=59).contains(&m)
        || !(0.0..=60.0).contains(&sec)
        || sec.is_nan()
        || total > USECS_PER_DAY
    {
        let s = if sec.fract() == 0.0 {
            format!("{:02}", sec as i64)
        } else {
            format!("{sec:02}")
        };
        return Err(SqlError::new(
            code::DATETIME_FIELD_OVERFLOW,
            format!("time field value out of range: {h}:{m:02}:{s}"),
        ));
    }
    Ok(total)
}

fn make_date(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (y, m, d) = valid_date(args::int(a, 0)?, args::int(a, 1)?, args::int(a, 2)?)?;
    Ok(Value::Date(date2j(y, m, d) - POSTGRES_EPOCH_JDATE))
}

fn make_time(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Time(valid_time(
        args::int(a, 0)?,
        args::int(a, 1)?,
        args::float(a, 2)?,
    )?))
}

fn local_from_args(a: &[Value]) -> SqlResult<i64> {
    let (y, m, d) = valid_date(args::int(a, 0)?, args::int(a, 1)?, args::int(a, 2)?)?;
    let time = valid_time(args::int(a, 3)?, args::int(a, 4)?, args::float(a, 5)?)?;
    let days = (date2j(y, m, d) - POSTGRES_EPOCH_JDATE) as i64;
    let t = days * USECS_PER_DAY + time;
    if !calendar::is_valid_timestamp(t) {
        return Err(SqlError::new(
            code::DATETIME_FIELD_OVERFLOW,
            format!(
                "timestamp out of range: {}-{:02}-{:02}",
                args::int(a, 0)?,
                m,
                d
            ),
        ));
    }
    Ok(t)
}

fn make_timestamp(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Timestamp(local_from_args(a)?))
}

fn make_timestamptz(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let local = local_from_args(a)?;
    let zone = if a.len() > 6 {
        zone_named(args::text(a, 6)?)?
    } else {
        ctx.format.time_zone.clone()
    };
    Ok(Value::Timestamptz(local_to_utc(&zone, local)))
}

fn make_interval(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let int = |i: usize| -> SqlResult<i64> {
        if i < a.len() {
            args::int(a, i)
        } else {
            Ok(0)
        }
    };
    let secs = if a.len() > 6 { args::float(a, 6)? } else { 0.0 };
    let overflow = calendar::interval_out_of_range;
    let (years, month_count, weeks, day_count) = (int(0)?, int(1)?, int(2)?, int(3)?);
    let months = years
        .checked_mul(12)
        .and_then(|y| y.checked_add(month_count))
        .and_then(|m| i32::try_from(m).ok())
        .ok_or_else(overflow)?;
    let days = weeks
        .checked_mul(7)
        .and_then(|w| w.checked_add(day_count))
        .and_then(|d| i32::try_from(d).ok())
        .ok_or_else(overflow)?;
    let micros = (int(4)? as f64 * 3600.0 + int(5)? as f64 * 60.0 + secs) * 1e6;
    if !micros.is_finite() || micros.abs() >= 9.2e18 {
        return Err(overflow());
    }
    Ok(Value::Interval(Interval {
        months,
        days,
        micros: micros.round_ties_even() as i64,
    }))
}

fn justify_days_fn(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Interval(justify_days(args::interval(a, 0)?)))
}

fn justify_hours_fn(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Interval(justify_hours(args::interval(a, 0)?)))
}

fn justify_interval_fn(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Interval(justify_interval(args::interval(a, 0)?)))
}

/// `to_timestamp(epoch seconds)`.
pub fn timestamp_from_epoch(ctx: &FnCtx, seconds: f64) -> SqlResult<i64> {
    if seconds.is_nan() {
        return Err(SqlError::new(
            code::DATETIME_FIELD_OVERFLOW,
            "timestamp cannot be NaN",
        ));
    }
    if seconds.is_infinite() {
        return Ok(if seconds > 0.0 { i64::MAX } else { i64::MIN });
    }
    let shift = (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) as f64 * 86_400.0;
    let micros = ((seconds - shift) * 1e6).round_ties_even();
    if micros.abs() >= 9.2e18 || !calendar::is_valid_timestamp(micros as i64) {
        let text = super::cast::output_text(ctx, &Value::Float8(seconds), &SqlType::Float8);
        return Err(SqlError::new(
            code::DATETIME_FIELD_OVERFLOW,
            format!("timestamp out of range: \"{text}\""),
        ));
    }
    Ok(micros as i64)
}

fn to_timestamp_epoch(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Timestamptz(timestamp_from_epoch(
        ctx,
        args::float(a, 0)?,
    )?))
}

fn date_bin(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let stride = args::interval(a, 0)?;
    let (t, origin) = (args::timestamp(a, 1)?, args::timestamp(a, 2)?);
    if is_infinite(t) || is_infinite(origin) {
        return Err(SqlError::new(
            code::DATETIME_FIELD_OVERFLOW,
            "timestamps cannot be binned into infinite intervals",
        ));
    }
    if stride.months != 0 {
        return Err(SqlError::new(
            code::FEATURE_NOT_SUPPORTED,
            "timestamps cannot be binned into intervals containing months or years",
        ));
    }
    let stride_micros = stride.days as i64 * USECS_PER_DAY + stride.micros;
    if stride_micros <= 0 {
        return Err(SqlError::new(
            code::DATETIME_FIELD_OVERFLOW,
            "stride must be greater than zero",
        ));
    }
    let diff = t - origin;
    let mut binned = diff - diff % stride_micros;
    if diff < 0 && diff % stride_micros != 0 {
        binned -= stride_micros;
    }
    let r = origin + binned;
    Ok(match args::arg(a, 1)? {
        Value::Timestamptz(_) => Value::Timestamptz(r),
        _ => Value::Timestamp(r),
    })
}

fn isfinite(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Bool(match args::arg(a, 0)? {
        Value::Date(d) => *d != i32::MIN && *d != i32::MAX,
        Value::Timestamp(t) | Value::Timestamptz(t) => !is_infinite(*t),
        _ => true,
    }))
}

/// A fixed-offset zone (`offset_east` seconds east of Greenwich).
fn fixed_zone(offset_east: i64) -> SqlResult<SessionTimeZone> {
    let abs = offset_east.unsigned_abs();
    let (h, m, s) = (abs / 3600, abs % 3600 / 60, abs % 60);
    // POSIX offsets are west-positive.
    let sign = if offset_east > 0 { '-' } else { '+' };
    let name = format!(
        "<{}{h:02}{m:02}{s:02}>{sign}{h}:{m:02}:{s:02}",
        if offset_east >= 0 { '+' } else { '-' }
    );
    SessionTimeZone::parse(&name).map_err(|_| SqlError::internal(format!("fixed zone {name}")))
}

/// A zone named in `AT TIME ZONE` / `timezone()`: a fixed abbreviation, an IANA name, a
/// POSIX string, or a bare `[+-]hh[:mm]` offset read the POSIX way (west-positive).
pub fn zone_named(name: &str) -> SqlResult<SessionTimeZone> {
    let trimmed = name.trim();
    let unknown = || {
        SqlError::new(
            code::INVALID_PARAMETER_VALUE,
            format!("time zone \"{name}\" not recognized"),
        )
    };
    if trimmed.is_empty() {
        return Err(unknown());
    }
    let body = trimmed.trim_start_matches(['+', '-']);
    if !body.is_empty() && body.chars().all(|c| c.is_ascii_digit() || c == ':') {
        let mut parts = body.split(':').map(|p| p.parse::<i64>().unwrap_or(0));
        let (h, m, s) = (
            parts.next().unwrap_or(0),
            parts.next().unwrap_or(0),
            parts.next().unwrap_or(0),
        );
        let west = (h * 3600 + m * 60 + s) * if trimmed.starts_with('-') { -1 } else { 1 };
        return fixed_zone(-west);
    }
    if trimmed.chars().all(|c| c.is_ascii_alphabetic()) {
        // An abbreviation has one offset all year; read it through timestamptz input.
        let offset_on = |date: &str| {
            let text = format!("{date} 00:00:00 {trimmed}");
            let format = crate::types::SessionFormat::default();
            match parse_text(&storage::types::DataType::Timestamptz, &text, &format) {
                Ok(Value::Timestamptz(t)) => {
                    let local = match parse_text(
                        &storage::types::DataType::Timestamp,
                        &format!("{date} 00:00:00"),
                        &format,
                    ) {
                        Ok(Value::Timestamp(l)) => l,
                        _ => return None,
                    };
                    Some((local - t) / USECS_PER_SEC)
                }
                _ => None,
            }
        };
        if let (Some(jan), Some(jul)) = (offset_on("2000-01-15"), offset_on("2000-07-15")) {
            if jan == jul {
                return fixed_zone(jan);
            }
        }
    }
    SessionTimeZone::parse(trimmed).map_err(|_| unknown())
}

fn zone_arg(a: &[Value]) -> SqlResult<SessionTimeZone> {
    match args::arg(a, 0)? {
        Value::Interval(i) => {
            if i.months != 0 || i.days != 0 {
                return Err(SqlError::new(
                    code::INVALID_PARAMETER_VALUE,
                    "interval time zone must not include months or days",
                ));
            }
            fixed_zone(i.micros / USECS_PER_SEC)
        }
        _ => zone_named(args::text(a, 0)?),
    }
}

/// `timestamp AT TIME ZONE zone`: the local time read in `zone`.
fn timezone_of_local(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let zone = zone_arg(a)?;
    Ok(Value::Timestamptz(local_to_utc(
        &zone,
        args::timestamp(a, 1)?,
    )))
}

/// `timestamptz AT TIME ZONE zone`: the wall clock in `zone`.
fn timezone_of_instant(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let zone = zone_arg(a)?;
    Ok(Value::Timestamp(utc_to_local(
        &zone,
        args::timestamp(a, 1)?,
    )))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{err, ok};
    use crate::pgtype::SqlType::{
        Float8, Int4, Interval as Iv, Text, Timestamp, Timestamptz, Unknown,
    };

    #[test]
    fn constructors_and_age_match_postgres() {
        assert_eq!(
            ok(
                "age",
                &[("2024-03-01", Timestamp), ("2023-01-31 10:00", Timestamp)]
            ),
            "1 year 1 mon 14:00:00"
        );
        assert_eq!(
            ok(
                "age",
                &[("2023-01-31", Timestamp), ("2024-03-01 10:00", Timestamp)]
            ),
            "-1 years -1 mons -1 days -10:00:00"
        );
        assert_eq!(
            ok(
                "age",
                &[
                    ("2024-03-10 12:00+00", Timestamptz),
                    ("2024-03-01 00:00+00", Timestamptz)
                ]
            ),
            "9 days 12:00:00"
        );
        assert_eq!(
            ok("make_date", &[("2024", Int4), ("2", Int4), ("29", Int4)]),
            "2024-02-29"
        );
        assert_eq!(
            ok("make_time", &[("10", Int4), ("5", Int4), ("3.25", Float8)]),
            "10:05:03.25"
        );
        assert_eq!(
            ok("make_time", &[("23", Int4), ("59", Int4), ("60", Float8)]),
            "24:00:00"
        );
        let ts: Vec<(&str, crate::pgtype::SqlType)> = vec![
            ("2024", Int4),
            ("1", Int4),
            ("1", Int4),
            ("10", Int4),
            ("0", Int4),
            ("0.5", Float8),
        ];
        assert_eq!(ok("make_timestamp", &ts), "2024-01-01 10:00:00.5");
        let mut tz = ts.clone();
        tz[1] = ("7", Int4);
        tz[3] = ("12", Int4);
        tz[5] = ("0", Float8);
        tz.push(("America/New_York", Text));
        assert_eq!(ok("make_timestamptz", &tz), "2024-07-01 16:00:00+00");
        let iv = [
            ("1", Int4),
            ("2", Int4),
            ("3", Int4),
            ("4", Int4),
            ("5", Int4),
            ("6", Int4),
            ("7.5", Float8),
        ];
        assert_eq!(ok("make_interval", &iv), "1 year 2 mons 25 days 05:06:07.5");
        assert_eq!(
            ok("to_timestamp", &[("1700000000.5", Float8)]),
            "2023-11-14 22:13:20.5+00"
        );
        assert_eq!(
            ok(
                "date_bin",
                &[
                    ("15 minutes", Iv),
                    ("2024-01-01 10:17", Timestamp),
                    ("2024-01-01", Timestamp)
                ]
            ),
            "2024-01-01 10:15:00"
        );
        assert_eq!(ok("isfinite", &[("infinity", Timestamp)]), "f");
        assert_eq!(ok("justify_days", &[("35 days", Iv)]), "1 mon 5 days");
        assert_eq!(ok("justify_hours", &[("27 hours", Iv)]), "1 day 03:00:00");
        assert_eq!(
            ok("justify_interval", &[("1 mon -1 hour", Iv)]),
            "29 days 23:00:00"
        );
    }

    #[test]
    fn time_zones_match_postgres() {
        assert_eq!(
            ok(
                "timezone",
                &[
                    ("America/New_York", Unknown),
                    ("2024-07-01 12:00", Timestamp)
                ]
            ),
            "2024-07-01 16:00:00+00"
        );
        assert_eq!(
            ok(
                "timezone",
                &[("EST", Unknown), ("2024-07-01 12:00+00", Timestamptz)]
            ),
            "2024-07-01 07:00:00"
        );
        assert_eq!(
            ok(
                "timezone",
                &[("+02", Unknown), ("2024-07-01 12:00+00", Timestamptz)]
            ),
            "2024-07-01 10:00:00"
        );
        assert_eq!(
            ok(
                "timezone",
                &[("-03:00", Iv), ("2024-07-01 12:00+00", Timestamptz)]
            ),
            "2024-07-01 09:00:00"
        );
        assert_eq!(
            ok(
                "timezone",
                &[("PDT", Unknown), ("2024-01-01 12:00+00", Timestamptz)]
            ),
            "2024-01-01 05:00:00"
        );
        assert_eq!(
            err(
                "timezone",
                &[("foo", Unknown), ("2024-07-01 12:00+00", Timestamptz)]
            ),
            ("22023".into(), "time zone \"foo\" not recognized".into())
        );
    }

    #[test]
    fn datetime_errors_match_postgres() {
        assert_eq!(
            err("make_date", &[("2024", Int4), ("2", Int4), ("30", Int4)]).1,
            "date field value out of range: 2024-02-30"
        );
        assert_eq!(
            err("make_date", &[("0", Int4), ("1", Int4), ("1", Int4)]).1,
            "date field value out of range: 0-01-01"
        );
        assert_eq!(
            err("make_time", &[("10", Int4), ("60", Int4), ("0", Float8)]).1,
            "time field value out of range: 10:60:00"
        );
        assert_eq!(
            err("to_timestamp", &[("NaN", Float8)]).1,
            "timestamp cannot be NaN"
        );
        assert_eq!(
            err("to_timestamp", &[("1e20", Float8)]).1,
            "timestamp out of range: \"1e+20\""
        );
        assert_eq!(
            err(
                "date_bin",
                &[
                    ("1 month", Iv),
                    ("2024-01-01", Timestamp),
                    ("2024-01-01", Timestamp)
                ]
            )
            .1,
            "timestamps cannot be binned into intervals containing months or years"
        );
        assert_eq!(
            err(
                "date_bin",
                &[
                    ("-1 hour", Iv),
                    ("2024-01-01", Timestamp),
                    ("2024-01-01", Timestamp)
                ]
            ),
            ("22008".into(), "stride must be greater than zero".into())
        );
    }
}
