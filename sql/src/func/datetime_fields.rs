//! Fields of dates, times, timestamps and intervals: `date_part` (double precision),
//! `extract` (numeric, PostgreSQL 14+; the binder maps `EXTRACT(f FROM x)` to
//! `extract('f', x)`) and `date_trunc`.
//!
//! Field names and their abbreviations are PostgreSQL's (`units` table in `datetime.c`).
//! `timestamptz` fields are those of the local time in the session zone (or the zone given
//! to `date_trunc`). `extract` keeps PostgreSQL's scales: seconds and epochs with six
//! decimals, milliseconds with three, everything else integral. Infinite inputs give
//! ±Infinity for the unbounded fields (year, epoch, ...) and NULL for the others.

use bigdecimal::num_bigint::BigInt;
use bigdecimal::BigDecimal;
use storage::types::{Interval, Numeric, Value};

use super::calendar::{
    date2j, is_infinite, j2date, j2day, local_to_utc, utc_to_local, DateTime, POSTGRES_EPOCH_JDATE,
    USECS_PER_DAY, USECS_PER_HOUR, USECS_PER_MINUTE, USECS_PER_SEC,
};
use super::registry::Registry;
use super::{args, decimal, FnCtx, Volatility};
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::{SqlType, NUMERIC};
use crate::types::SessionTimeZone;

pub fn register(reg: &mut Registry) {
    use SqlType::{Date, Float8, Interval as Iv, Text, Time, Timestamp, Timestamptz};
    for t in [Timestamp, Date, Time, Iv.clone()] {
        reg.typed("date_part", &[Text, t.clone()], Float8, date_part);
        reg.typed("extract", &[Text, t], NUMERIC, extract);
    }
    reg.typed("date_part", &[Text, Timestamptz], Float8, date_part)
        .volatility(Volatility::Stable);
    reg.typed("extract", &[Text, Timestamptz], NUMERIC, extract)
        .volatility(Volatility::Stable);
    reg.typed("date_trunc", &[Text, Timestamp], Timestamp, date_trunc);
    reg.typed("date_trunc", &[Text, Timestamptz], Timestamptz, date_trunc)
        .volatility(Volatility::Stable);
    reg.typed(
        "date_trunc",
        &[Text, Timestamptz, Text],
        Timestamptz,
        date_trunc_zone,
    );
    reg.typed("date_trunc", &[Text, Iv.clone()], Iv, date_trunc);
}

/// A field name normalised (PostgreSQL's unit abbreviations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Microseconds,
    Milliseconds,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
    Decade,
    Century,
    Millennium,
    Epoch,
    Dow,
    IsoDow,
    Doy,
    Timezone,
    TimezoneHour,
    TimezoneMinute,
    Julian,
    IsoYear,
}

pub fn unit_of(name: &str) -> Option<Unit> {
    use Unit::*;
    Some(match name.to_ascii_lowercase().as_str() {
        "microsecond" | "microseconds" | "us" | "usec" | "usecs" | "useconds" => Microseconds,
        "millisecond" | "milliseconds" | "ms" | "msec" | "msecs" | "mseconds" => Milliseconds,
        "second" | "seconds" | "s" | "sec" | "secs" => Second,
        "minute" | "minutes" | "m" | "min" | "mins" => Minute,
        "hour" | "hours" | "h" | "hr" | "hrs" => Hour,
        "day" | "days" | "d" => Day,
        "week" | "weeks" | "w" => Week,
        "month" | "months" | "mon" | "mons" => Month,
        "quarter" | "qtr" => Quarter,
        "year" | "years" | "y" | "yr" | "yrs" => Year,
        "decade" | "decades" | "dec" | "decs" => Decade,
        "century" | "centuries" | "c" | "cent" => Century,
        "millennium" | "millennia" | "mil" | "mils" | "millenniums" => Millennium,
        "epoch" => Epoch,
        "dow" => Dow,
        "isodow" => IsoDow,
        "doy" => Doy,
        "timezone" => Timezone,
        "timezone_h" | "timezone_hour" => TimezoneHour,
        "timezone_m" | "timezone_minute" => TimezoneMinute,
        "julian" | "j" => Julian,
        "isoyear" => IsoYear,
        _ => return None,
    })
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Timestamptz(_) => "timestamp with time zone",
        Value::Date(_) => "date",
        Value::Time(_) => "time without time zone",
        Value::Interval(_) => "interval",
        _ => "timestamp without time zone",
    }
}

fn not_recognized(unit: &str, v: &Value) -> SqlError {
    SqlError::new(
        code::INVALID_PARAMETER_VALUE,
        format!("unit \"{unit}\" not recognized for type {}", type_name(v)),
    )
}

fn not_supported(unit: &str, v: &Value) -> SqlError {
    SqlError::new(
        code::FEATURE_NOT_SUPPORTED,
        format!("unit \"{unit}\" not supported for type {}", type_name(v)),
    )
}

/// PostgreSQL's `date2isoweek`.
pub fn iso_week(year: i32, month: i32, day: i32) -> i32 {
    let dayn = date2j(year, month, day);
    let mut day4 = date2j(year, 1, 4);
    let mut day0 = j2day(day4 - 1);
    if dayn < day4 - day0 {
        day4 = date2j(year - 1, 1, 4);
        day0 = j2day(day4 - 1);
    }
    let mut result = (dayn - (day4 - day0)) / 7 + 1;
    if result >= 52 {
        let next4 = date2j(year + 1, 1, 4);
        let next0 = j2day(next4 - 1);
        if dayn >= next4 - next0 {
            result = (dayn - (next4 - next0)) / 7 + 1;
        }
    }
    result
}

/// PostgreSQL's `date2isoyear`.
pub fn iso_year(year: i32, month: i32, day: i32) -> i32 {
    let dayn = date2j(year, month, day);
    let mut year = year;
    let mut day4 = date2j(year, 1, 4);
    let mut day0 = j2day(day4 - 1);
    if dayn < day4 - day0 {
        day4 = date2j(year - 1, 1, 4);
        day0 = j2day(day4 - 1);
        year -= 1;
    }
    let result = (dayn - (day4 - day0)) / 7 + 1;
    if result >= 52 {
        let next4 = date2j(year + 1, 1, 4);
        let next0 = j2day(next4 - 1);
        if dayn >= next4 - next0 {
            year += 1;
        }
    }
    year
}

/// A field value: an exact integer, or micro-units to be divided by 10^scale.
enum FieldValue {
    Int(i64),
    Scaled(i64, u32),
    Infinite(bool),
    Null,
}

fn timestamp_field(unit: Unit, t: i64, tz_east: Option<i64>) -> FieldValue {
    use Unit::*;
    if is_infinite(t) {
        return match unit {
            Epoch | Year | Decade | Century | Millennium | Julian | IsoYear => {
                FieldValue::Infinite(t > 0)
            }
            _ => FieldValue::Null,
        };
    }
    let dt = DateTime::from_timestamp(t);
    let micros_of_minute = dt.second as i64 * USECS_PER_SEC + dt.micros;
    let (y, m, d) = (dt.year, dt.month, dt.day);
    FieldValue::Int(match unit {
        Microseconds => micros_of_minute,
        Milliseconds => return FieldValue::Scaled(micros_of_minute, 3),
        Second => return FieldValue::Scaled(micros_of_minute, 6),
        Minute => dt.minute as i64,
        Hour => dt.hour as i64,
        Day => d as i64,
        Week => iso_week(y, m, d) as i64,
        Month => m as i64,
        Quarter => ((m - 1) / 3 + 1) as i64,
        Year => (if y > 0 { y } else { y - 1 }) as i64,
        Decade => {
            (if y >= 0 {
                y / 10
            } else {
                -((8 - (y - 1)) / 10)
            }) as i64
        }
        Century => {
            (if y > 0 {
                (y + 99) / 100
            } else {
                -((99 - (y - 1)) / 100)
            }) as i64
        }
        Millennium => {
            (if y > 0 {
                (y + 999) / 1000
            } else {
                -((999 - (y - 1)) / 1000)
            }) as i64
        }
        Dow => j2day(date2j(y, m, d)) as i64,
        IsoDow => match j2day(date2j(y, m, d)) {
            0 => 7,
            n => n as i64,
        },
        Doy => (date2j(y, m, d) - date2j(y, 1, 1) + 1) as i64,
        IsoYear => {
            let iy = iso_year(y, m, d);
            (if iy > 0 { iy } else { iy - 1 }) as i64
        }
        Julian => {
            let day_micros = t.rem_euclid(USECS_PER_DAY);
            if day_micros == 0 {
                date2j(y, m, d) as i64
            } else {
                return FieldValue::Scaled(date2j(y, m, d) as i64 * USECS_PER_DAY + day_micros, 0);
            }
        }
        Epoch => {
            let unix_shift =
                (POSTGRES_EPOCH_JDATE - super::calendar::UNIX_EPOCH_JDATE) as i64 * USECS_PER_DAY;
            let utc = t - tz_east.unwrap_or(0) * USECS_PER_SEC;
            return FieldValue::Scaled(utc + unix_shift, 6);
        }
        Timezone => match tz_east {
            Some(e) => e,
            None => return FieldValue::Null,
        },
        TimezoneHour => match tz_east {
            Some(e) => e / 3600,
            None => return FieldValue::Null,
        },
        TimezoneMinute => match tz_east {
            Some(e) => (e / 60) % 60,
            None => return FieldValue::Null,
        },
    })
}

/// The field of any date/time value, or the PostgreSQL error for an unsupported unit.
fn field(ctx: &FnCtx, a: &[Value]) -> SqlResult<FieldValue> {
    use Unit::*;
    let name = args::text(a, 0)?;
    let v = args::arg(a, 1)?;
    let unit = unit_of(name).ok_or_else(|| not_recognized(name, v))?;
    match v {
        Value::Timestamp(t) => {
            if matches!(unit, Timezone | TimezoneHour | TimezoneMinute) {
                return Err(not_supported(name, v));
            }
            Ok(timestamp_field(unit, *t, None))
        }
        Value::Timestamptz(t) => {
            let local = utc_to_local(&ctx.format.time_zone, *t);
            let east = if is_infinite(*t) {
                0
            } else {
                (local - t) / USECS_PER_SEC
            };
            Ok(timestamp_field(unit, local, Some(east)))
        }
        Value::Date(d) => {
            if matches!(
                unit,
                Microseconds
                    | Milliseconds
                    | Second
                    | Minute
                    | Hour
                    | Timezone
                    | TimezoneHour
                    | TimezoneMinute
            ) {
                return Err(not_supported(name, v));
            }
            let t = match *d {
                i32::MIN => i64::MIN,
                i32::MAX => i64::MAX,
                d => d as i64 * USECS_PER_DAY,
            };
            Ok(match timestamp_field(unit, t, None) {
                FieldValue::Scaled(micros, 6) if unit == Epoch => {
                    FieldValue::Int(micros / USECS_PER_SEC)
                }
                other => other,
            })
        }
        Value::Time(t) => {
            let micros_of_minute = t % USECS_PER_MINUTE;
            Ok(match unit {
                Microseconds => FieldValue::Int(micros_of_minute),
                Milliseconds => FieldValue::Scaled(micros_of_minute, 3),
                Second => FieldValue::Scaled(micros_of_minute, 6),
                Minute => FieldValue::Int(t / USECS_PER_MINUTE % 60),
                Hour => FieldValue::Int(t / USECS_PER_HOUR),
                Epoch => FieldValue::Scaled(*t, 6),
                _ => return Err(not_supported(name, v)),
            })
        }
        Value::Interval(i) => interval_field(unit, i).ok_or_else(|| not_supported(name, v)),
        other => Err(SqlError::internal(format!("date_part of {other:?}"))),
    }
}

fn interval_field(unit: Unit, i: &Interval) -> Option<FieldValue> {
    use Unit::*;
    let years = (i.months / 12) as i64;
    Some(match unit {
        Microseconds => FieldValue::Int(i.micros % USECS_PER_MINUTE),
        Milliseconds => FieldValue::Scaled(i.micros % USECS_PER_MINUTE, 3),
        Second => FieldValue::Scaled(i.micros % USECS_PER_MINUTE, 6),
        Minute => FieldValue::Int(i.micros / USECS_PER_MINUTE % 60),
        Hour => FieldValue::Int(i.micros / USECS_PER_HOUR),
        Day => FieldValue::Int(i.days as i64),
        Month => FieldValue::Int((i.months % 12) as i64),
        Quarter => FieldValue::Int(((i.months % 12) / 3 + 1) as i64),
        Year => FieldValue::Int(years),
        Decade => FieldValue::Int(years / 10),
        Century => FieldValue::Int(years / 100),
        Millennium => FieldValue::Int(years / 1000),
        Epoch => {
            // 365.25 days a year, 30 days a month, as PostgreSQL counts.
            let year_secs = 36_525 * 864 * USECS_PER_SEC;
            let micros = years as i128 * year_secs as i128
                + ((i.months % 12) as i128 * 30 + i.days as i128) * USECS_PER_DAY as i128
                + i.micros as i128;
            FieldValue::Scaled(micros.clamp(i64::MIN as i128, i64::MAX as i128) as i64, 6)
        }
        _ => return None,
    })
}

fn date_part(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(match field(ctx, a)? {
        FieldValue::Int(v) => Value::Float8(v as f64),
        FieldValue::Scaled(v, 0) => Value::Float8(v as f64 / USECS_PER_DAY as f64),
        FieldValue::Scaled(v, s) => Value::Float8(v as f64 / 10f64.powi(s as i32)),
        FieldValue::Infinite(pos) => Value::Float8(if pos {
            f64::INFINITY
        } else {
            f64::NEG_INFINITY
        }),
        FieldValue::Null => Value::Null,
    })
}

fn extract(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let n = match field(ctx, a)? {
        FieldValue::Int(v) => Numeric::from_i64(v),
        FieldValue::Scaled(v, 0) => {
            // Julian day with a time part: days plus a fraction, as numeric division.
            let days = BigDecimal::from(v.div_euclid(USECS_PER_DAY));
            let frac = BigDecimal::from(v.rem_euclid(USECS_PER_DAY));
            let per_day = BigDecimal::from(USECS_PER_DAY);
            let q = decimal::div(&frac, &per_day, decimal::div_scale(&frac, &per_day));
            Numeric::Finite(days + q)
        }
        FieldValue::Scaled(v, s) => Numeric::Finite(BigDecimal::new(BigInt::from(v), s as i64)),
        FieldValue::Infinite(pos) => {
            if pos {
                Numeric::Infinity
            } else {
                Numeric::NegInfinity
            }
        }
        FieldValue::Null => return Ok(Value::Null),
    };
    Ok(Value::Numeric(Box::new(n)))
}

/// Truncates local broken-down time to `unit`.
fn truncate_fields(unit: Unit, dt: &mut DateTime) -> bool {
    use Unit::*;
    let y = dt.year;
    match unit {
        Millennium => {
            dt.year = if y > 0 {
                (y + 999) / 1000 * 1000 - 999
            } else {
                -((999 - (y - 1)) / 1000) * 1000 + 1
            };
        }
        Century => {
            dt.year = if y > 0 {
                (y + 99) / 100 * 100 - 99
            } else {
                -((99 - (y - 1)) / 100) * 100 + 1
            };
        }
        Decade => {
            dt.year = if y > 0 {
                y / 10 * 10
            } else {
                -((8 - (y - 1)) / 10) * 10
            };
        }
        Week => {
            let jd = date2j(dt.year, dt.month, dt.day);
            let monday = jd - (j2day(jd) + 6) % 7;
            let (yy, mm, dd) = j2date(monday);
            *dt = DateTime {
                year: yy,
                month: mm,
                day: dd,
                ..DateTime::default()
            };
            return true;
        }
        _ => {}
    }
    let order = [
        Millennium,
        Century,
        Decade,
        Year,
        Quarter,
        Month,
        Day,
        Hour,
        Minute,
        Second,
        Milliseconds,
        Microseconds,
    ];
    let Some(level) = order.iter().position(|u| *u == unit) else {
        return false;
    };
    if level <= 4 && unit == Quarter {
        dt.month = (dt.month - 1) / 3 * 3 + 1;
    }
    if level <= 3 {
        dt.month = 1;
    }
    if level <= 5 {
        dt.day = 1;
    }
    if level <= 6 {
        dt.hour = 0;
    }
    if level <= 7 {
        dt.minute = 0;
    }
    if level <= 8 {
        dt.second = 0;
    }
    if level <= 9 {
        dt.micros = 0;
    }
    if level == 10 {
        dt.micros = dt.micros / 1000 * 1000;
    }
    true
}

fn trunc_local(unit_name: &str, v: &Value, local: i64) -> SqlResult<i64> {
    let unit = unit_of(unit_name).ok_or_else(|| not_recognized(unit_name, v))?;
    if is_infinite(local) {
        return Ok(local);
    }
    let mut dt = DateTime::from_timestamp(local);
    if !truncate_fields(unit, &mut dt) {
        return Err(not_supported(unit_name, v));
    }
    dt.to_timestamp()
}

fn trunc_zoned(zone: &SessionTimeZone, unit: &str, v: &Value, t: i64) -> SqlResult<i64> {
    if is_infinite(t) {
        return Ok(t);
    }
    let local = trunc_local(unit, v, utc_to_local(zone, t))?;
    Ok(local_to_utc(zone, local))
}

fn date_trunc(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let unit = args::text(a, 0)?;
    let v = args::arg(a, 1)?;
    match v {
        Value::Timestamp(t) => Ok(Value::Timestamp(trunc_local(unit, v, *t)?)),
        Value::Timestamptz(t) => Ok(Value::Timestamptz(trunc_zoned(
            &ctx.format.time_zone,
            unit,
            v,
            *t,
        )?)),
        Value::Interval(i) => Ok(Value::Interval(trunc_interval(unit, v, i)?)),
        other => Err(SqlError::internal(format!("date_trunc of {other:?}"))),
    }
}

fn date_trunc_zone(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let zone = super::datetime_fn::zone_named(args::text(a, 2)?)?;
    let t = args::timestamp(a, 1)?;
    Ok(Value::Timestamptz(trunc_zoned(
        &zone,
        args::text(a, 0)?,
        args::arg(a, 1)?,
        t,
    )?))
}

fn trunc_interval(unit_name: &str, v: &Value, i: &Interval) -> SqlResult<Interval> {
    use Unit::*;
    let unit = unit_of(unit_name).ok_or_else(|| not_recognized(unit_name, v))?;
    let (mut years, mut months) = (i.months / 12, i.months % 12);
    let mut days = i.days;
    let (mut hours, mut minutes) = (i.micros / USECS_PER_HOUR, i.micros / USECS_PER_MINUTE % 60);
    let mut micros = i.micros % USECS_PER_MINUTE;
    match unit {
        Millennium | Century | Decade | Year => {
            let div = match unit {
                Millennium => 1000,
                Century => 100,
                Decade => 10,
                _ => 1,
            };
            years = years / div * div;
            months = 0;
            days = 0;
            hours = 0;
            minutes = 0;
            micros = 0;
        }
        Quarter => {
            months = months / 3 * 3;
            days = 0;
            hours = 0;
            minutes = 0;
            micros = 0;
        }
        Month => {
            days = 0;
            hours = 0;
            minutes = 0;
            micros = 0;
        }
        Day => {
            hours = 0;
            minutes = 0;
            micros = 0;
        }
        Hour => {
            minutes = 0;
            micros = 0;
        }
        Minute => micros = 0,
        Second => micros = micros / USECS_PER_SEC * USECS_PER_SEC,
        Milliseconds => micros = micros / 1000 * 1000,
        Microseconds => {}
        Week => {
            return Err(SqlError::new(
                code::FEATURE_NOT_SUPPORTED,
                format!("unit \"{unit_name}\" not supported for type interval"),
            )
            .with_detail("Months usually have fractional weeks."))
        }
        _ => return Err(not_supported(unit_name, v)),
    }
    Ok(Interval {
        months: years * 12 + months,
        days,
        micros: hours * USECS_PER_HOUR + minutes * USECS_PER_MINUTE + micros,
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{err, ok};
    use crate::pgtype::SqlType::{Date, Interval as Iv, Text, Timestamp, Timestamptz, Unknown};

    #[test]
    fn extract_matches_postgres() {
        let ts = || ("2020-01-01 10:00:12.5", Timestamp);
        assert_eq!(ok("extract", &[("second", Text), ts()]), "12.500000");
        assert_eq!(ok("extract", &[("epoch", Text), ts()]), "1577872812.500000");
        assert_eq!(ok("extract", &[("millisecond", Text), ts()]), "12500.000");
        assert_eq!(ok("extract", &[("microsecond", Text), ts()]), "12500000");
        assert_eq!(ok("extract", &[("year", Text), ts()]), "2020");
        assert_eq!(ok("extract", &[("dow", Text), ("2024-03-10", Date)]), "0");
        assert_eq!(ok("extract", &[("week", Text), ("2024-01-01", Date)]), "1");
        assert_eq!(
            ok("extract", &[("julian", Text), ("2024-01-01", Date)]),
            "2460311"
        );
        assert_eq!(
            ok("extract", &[("epoch", Text), ("2024-01-01", Date)]),
            "1704067200"
        );
        assert_eq!(
            ok(
                "extract",
                &[("epoch", Text), ("1 year 2 mons 3 days 04:05:06.7", Iv)]
            ),
            "37015506.700000"
        );
        assert_eq!(ok("extract", &[("hour", Text), ("1 day 25:00", Iv)]), "25");
        assert_eq!(
            ok(
                "extract",
                &[("timezone", Text), ("2024-01-01 00:00+02", Timestamptz)]
            ),
            "0"
        );
        assert_eq!(ok("date_part", &[("second", Text), ts()]), "12.5");
        assert_eq!(ok("date_part", &[("epoch", Text), ts()]), "1577872812.5");
        assert_eq!(ok("date_part", &[("month", Text), ("14 mons", Iv)]), "2");
        assert_eq!(
            ok("date_part", &[("year", Text), ("infinity", Timestamp)]),
            "Infinity"
        );
        assert_eq!(
            err("extract", &[("hour", Text), ("2024-01-01", Date)]),
            (
                "0A000".into(),
                "unit \"hour\" not supported for type date".into()
            )
        );
        assert_eq!(
            err("extract", &[("foo", Text), ts()]),
            (
                "22023".into(),
                "unit \"foo\" not recognized for type timestamp without time zone".into()
            )
        );
        assert_eq!(
            err("extract", &[("timezone", Text), ts()]).1,
            "unit \"timezone\" not supported for type timestamp without time zone"
        );
    }

    #[test]
    fn date_trunc_matches_postgres() {
        assert_eq!(
            ok(
                "date_trunc",
                &[("week", Text), ("2024-03-14 10:11:12", Timestamp)]
            ),
            "2024-03-11 00:00:00"
        );
        assert_eq!(
            ok(
                "date_trunc",
                &[("quarter", Text), ("2024-05-14", Timestamp)]
            ),
            "2024-04-01 00:00:00"
        );
        assert_eq!(
            ok("date_trunc", &[("hour", Text), ("1 day 02:30", Iv)]),
            "1 day 02:00:00"
        );
        assert_eq!(
            ok(
                "date_trunc",
                &[
                    ("day", Text),
                    ("2024-03-10 12:00+00", Timestamptz),
                    ("America/New_York", Unknown)
                ]
            ),
            "2024-03-10 05:00:00+00"
        );
        assert_eq!(
            ok(
                "date_trunc",
                &[("century", Text), ("2024-01-01", Timestamp)]
            ),
            "2001-01-01 00:00:00"
        );
        assert_eq!(
            ok(
                "date_trunc",
                &[("millennium", Text), ("2024-01-01", Timestamp)]
            ),
            "2001-01-01 00:00:00"
        );
        assert_eq!(
            ok("date_trunc", &[("decade", Text), ("2024-01-01", Timestamp)]),
            "2020-01-01 00:00:00"
        );
        assert_eq!(
            ok(
                "date_trunc",
                &[("month", Text), ("2024-05-14 10:00", Timestamptz)]
            ),
            "2024-05-01 00:00:00+00"
        );
    }
}
