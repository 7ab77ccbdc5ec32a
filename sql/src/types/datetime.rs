//! `date`, `time`, `timestamp` and `timestamptz`: PostgreSQL's `date_in`/`date_out`,
//! `time_in`/`time_out`, `timestamp_in`/`timestamp_out` and `timestamptz_in`/`timestamptz_out`.
//!
//! Input runs the two decoding stages ([`parse_fields`], then [`decode_date_time`] or
//! [`decode_time_only`]) and converts the broken-down time, reporting errors through
//! [`datetime_error`] exactly as PostgreSQL's `DateTimeParseError`. Output follows
//! `EncodeDateOnly`, `EncodeTimeOnly` and `EncodeDateTime` in every `DateStyle`; `timestamptz`
//! is shown in the session's time zone. Values are the storage encodings: days since
//! 2000-01-01 and microseconds since 2000-01-01 (UTC for `timestamptz`), with the extreme
//! integers standing for `-infinity` and `infinity`.

use super::calendar::{
    date2j, dt2time, is_valid_date, is_valid_julian, j2date, j2day, time2t, timestamp2tm,
    tm2timestamp, Tm, DATE_NOBEGIN, DATE_NOEND, DAY_ABBREVS, MONTH_ABBREVS, POSTGRES_EPOCH_JDATE,
    TIMESTAMP_NOBEGIN, TIMESTAMP_NOEND, UNIX_EPOCH_JDATE, USECS_PER_DAY, USECS_PER_SEC,
};
use super::datetime_decode::{decode_date_time, decode_time_only, Decoded, DecodedKind};
use super::datetime_parse::{parse_fields, DateTimeError, DATETIME_WORKBUF};
use super::error::{sqlstate, TypeError};
use super::session::{DateOrder, DateOutputStyle, SessionFormat};

/// PostgreSQL's `DateTimeParseError`: the error a date/time decoder code becomes.
pub(crate) fn datetime_error(err: DateTimeError, text: &str, type_name: &str) -> TypeError {
    match err {
        DateTimeError::FieldOverflow => TypeError::new(
            sqlstate::DATETIME_FIELD_OVERFLOW,
            format!("date/time field value out of range: \"{text}\""),
        ),
        DateTimeError::MonthDayFieldOverflow => TypeError::new(
            sqlstate::DATETIME_FIELD_OVERFLOW,
            format!("date/time field value out of range: \"{text}\""),
        )
        .with_hint("Perhaps you need a different \"datestyle\" setting."),
        DateTimeError::IntervalOverflow => TypeError::new(
            sqlstate::INTERVAL_FIELD_OVERFLOW,
            format!("interval field value out of range: \"{text}\""),
        ),
        DateTimeError::TzDispOverflow => TypeError::new(
            sqlstate::INVALID_TIME_ZONE_DISPLACEMENT_VALUE,
            format!("time zone displacement out of range: \"{text}\""),
        ),
        DateTimeError::BadTimezone(zone) => TypeError::new(
            sqlstate::INVALID_PARAMETER_VALUE,
            format!("time zone \"{zone}\" not recognized"),
        ),
        DateTimeError::BadFormat => TypeError::new(
            sqlstate::INVALID_DATETIME_FORMAT,
            format!("invalid input syntax for type {type_name}: \"{text}\""),
        ),
    }
}

fn decode(text: &str, session: &SessionFormat, type_name: &str) -> Result<Decoded, TypeError> {
    parse_fields(text, DATETIME_WORKBUF)
        .and_then(|fields| decode_date_time(&fields, session))
        .map_err(|e| datetime_error(e, text, type_name))
}

/// The epoch, 1970-01-01, in days since 2000-01-01.
const EPOCH_DAYS: i32 = UNIX_EPOCH_JDATE - POSTGRES_EPOCH_JDATE;

/// `date_in`: days since 2000-01-01.
pub(crate) fn parse_date(text: &str, session: &SessionFormat) -> Result<i32, TypeError> {
    let decoded = decode(text, session, "date")?;
    let tm = match decoded.kind {
        DecodedKind::Date => decoded.tm,
        DecodedKind::Epoch => return Ok(EPOCH_DAYS),
        DecodedKind::Late => return Ok(DATE_NOEND),
        DecodedKind::Early => return Ok(DATE_NOBEGIN),
    };
    let out_of_range = || {
        TypeError::new(
            sqlstate::DATETIME_FIELD_OVERFLOW,
            format!("date out of range: \"{text}\""),
        )
    };
    if !is_valid_julian(tm.year, tm.mon) {
        return Err(out_of_range());
    }
    let days = date2j(tm.year, tm.mon, tm.mday) as i64 - POSTGRES_EPOCH_JDATE as i64;
    if !is_valid_date(days) {
        return Err(out_of_range());
    }
    Ok(days as i32)
}

/// `time_in`: microseconds since midnight (`24:00:00` included).
pub(crate) fn parse_time(text: &str, session: &SessionFormat) -> Result<i64, TypeError> {
    let decoded = parse_fields(text, DATETIME_WORKBUF)
        .and_then(|fields| decode_time_only(&fields, session))
        .map_err(|e| datetime_error(e, text, "time"))?;
    let tm = decoded.tm;
    Ok(time2t(tm.hour, tm.min, tm.sec, decoded.fsec))
}

/// `timestamp_in`: microseconds since 2000-01-01 00:00:00, any zone in the text ignored.
pub(crate) fn parse_timestamp(text: &str, session: &SessionFormat) -> Result<i64, TypeError> {
    let decoded = decode(text, session, "timestamp")?;
    finish_timestamp(decoded, None, text)
}

/// `timestamptz_in`: microseconds since 2000-01-01 00:00:00 UTC.
pub(crate) fn parse_timestamptz(text: &str, session: &SessionFormat) -> Result<i64, TypeError> {
    let decoded = decode(text, session, "timestamp with time zone")?;
    let zone = decoded.tz_west;
    finish_timestamp(decoded, Some(zone), text)
}

fn finish_timestamp(decoded: Decoded, tz_west: Option<i32>, text: &str) -> Result<i64, TypeError> {
    match decoded.kind {
        DecodedKind::Date => tm2timestamp(&decoded.tm, decoded.fsec, tz_west).ok_or_else(|| {
            TypeError::new(
                sqlstate::DATETIME_FIELD_OVERFLOW,
                format!("timestamp out of range: \"{text}\""),
            )
        }),
        DecodedKind::Epoch => Ok(EPOCH_DAYS as i64 * USECS_PER_DAY),
        DecodedKind::Late => Ok(TIMESTAMP_NOEND),
        DecodedKind::Early => Ok(TIMESTAMP_NOBEGIN),
    }
}

/// `date_out`.
pub(crate) fn format_date(days: i32, session: &SessionFormat) -> String {
    match days {
        DATE_NOBEGIN => return "-infinity".into(),
        DATE_NOEND => return "infinity".into(),
        _ => {}
    }
    let (year, mon, mday) = j2date(days.saturating_add(POSTGRES_EPOCH_JDATE));
    let tm = Tm {
        year,
        mon,
        mday,
        ..Tm::default()
    };
    encode_date_only(&tm, session)
}

/// `time_out`.
pub(crate) fn format_time(micros: i64) -> String {
    let (hour, min, sec, fsec) = dt2time(micros);
    let mut out = format!("{hour:02}:{min:02}:");
    append_seconds(&mut out, sec, fsec, true);
    out
}

/// `timestamp_out`.
pub(crate) fn format_timestamp(t: i64, session: &SessionFormat) -> String {
    match t {
        TIMESTAMP_NOBEGIN => return "-infinity".into(),
        TIMESTAMP_NOEND => return "infinity".into(),
        _ => {}
    }
    match timestamp2tm(t) {
        Some((tm, fsec)) => encode_date_time(&tm, fsec, None, session),
        None => format!("{t}"),
    }
}

/// `timestamptz_out`, in the session's time zone.
pub(crate) fn format_timestamptz(t: i64, session: &SessionFormat) -> String {
    match t {
        TIMESTAMP_NOBEGIN => return "-infinity".into(),
        TIMESTAMP_NOEND => return "infinity".into(),
        _ => {}
    }
    let zone = &session.time_zone;
    let offset_east = zone.offset_east_at(t);
    let local = t.checked_add(offset_east as i64 * USECS_PER_SEC);
    match local.and_then(timestamp2tm) {
        Some((tm, fsec)) => {
            let name = zone.abbreviation_at(t);
            encode_date_time(&tm, fsec, Some((-offset_east, name.as_deref())), session)
        }
        // Local time before Julian day 0 (PostgreSQL reports "timestamp out of range"): show
        // the instant in UTC rather than fail.
        None => match timestamp2tm(t) {
            Some((tm, fsec)) => encode_date_time(&tm, fsec, Some((0, None)), session),
            None => format!("{t}"),
        },
    }
}

/// Years print as at least four digits, BC years counted from 1.
fn display_year(year: i32) -> String {
    let shown = if year > 0 {
        year as i64
    } else {
        1 - year as i64
    };
    format!("{shown:04}")
}

/// PostgreSQL's `EncodeDateOnly`.
fn encode_date_only(tm: &Tm, session: &SessionFormat) -> String {
    let style = session.date_style;
    let year = display_year(tm.year);
    let (mon, mday) = (tm.mon, tm.mday);
    let mut out = match style.output {
        DateOutputStyle::Iso => format!("{year}-{mon:02}-{mday:02}"),
        DateOutputStyle::Sql if style.order == DateOrder::Dmy => {
            format!("{mday:02}/{mon:02}/{year}")
        }
        DateOutputStyle::Sql => format!("{mon:02}/{mday:02}/{year}"),
        DateOutputStyle::German => format!("{mday:02}.{mon:02}.{year}"),
        DateOutputStyle::Postgres if style.order == DateOrder::Dmy => {
            format!("{mday:02}-{mon:02}-{year}")
        }
        DateOutputStyle::Postgres => format!("{mon:02}-{mday:02}-{year}"),
    };
    if tm.year <= 0 {
        out.push_str(" BC");
    }
    out
}

/// PostgreSQL's `EncodeDateTime`. `zone` is the displacement (seconds west) and abbreviation
/// to print for `timestamptz`, `None` for `timestamp`.
fn encode_date_time(
    tm: &Tm,
    fsec: i64,
    zone: Option<(i32, Option<&str>)>,
    session: &SessionFormat,
) -> String {
    let style = session.date_style;
    let year = display_year(tm.year);
    let (mon, mday, hour, min) = (tm.mon, tm.mday, tm.hour, tm.min);
    let mut out = String::with_capacity(40);
    let mut time = format!("{hour:02}:{min:02}:");
    append_seconds(&mut time, tm.sec, fsec, true);
    match style.output {
        DateOutputStyle::Iso => {
            out.push_str(&format!("{year}-{mon:02}-{mday:02} {time}"));
            if let Some((tz_west, _)) = zone {
                encode_timezone(&mut out, tz_west);
            }
        }
        DateOutputStyle::Sql | DateOutputStyle::German => {
            let date = match style.output {
                DateOutputStyle::German => format!("{mday:02}.{mon:02}.{year}"),
                _ if style.order == DateOrder::Dmy => format!("{mday:02}/{mon:02}/{year}"),
                _ => format!("{mon:02}/{mday:02}/{year}"),
            };
            out.push_str(&format!("{date} {time}"));
            match zone {
                Some((_, Some(name))) => {
                    out.push(' ');
                    out.push_str(name);
                }
                Some((tz_west, None)) => encode_timezone(&mut out, tz_west),
                None => {}
            }
        }
        DateOutputStyle::Postgres => {
            let weekday = DAY_ABBREVS[j2day(date2j(tm.year, mon, mday)) as usize];
            let month = MONTH_ABBREVS[(mon - 1).clamp(0, 11) as usize];
            if style.order == DateOrder::Dmy {
                out.push_str(&format!("{weekday} {mday:02} {month} {time} {year}"));
            } else {
                out.push_str(&format!("{weekday} {month} {mday:02} {time} {year}"));
            }
            match zone {
                Some((_, Some(name))) => {
                    out.push(' ');
                    out.push_str(name);
                }
                Some((tz_west, None)) => {
                    out.push(' ');
                    encode_timezone(&mut out, tz_west);
                }
                None => {}
            }
        }
    }
    if tm.year <= 0 {
        out.push_str(" BC");
    }
    out
}

/// PostgreSQL's `EncodeTimezone`: `+hh`, `+hh:mm` or `+hh:mm:ss` from seconds west.
pub(crate) fn encode_timezone(out: &mut String, tz_west: i32) {
    let total = tz_west.unsigned_abs();
    let (hour, min, sec) = (total / 3600, total % 3600 / 60, total % 60);
    out.push(if tz_west <= 0 { '+' } else { '-' });
    if sec != 0 {
        out.push_str(&format!("{hour:02}:{min:02}:{sec:02}"));
    } else if min != 0 {
        out.push_str(&format!("{hour:02}:{min:02}"));
    } else {
        out.push_str(&format!("{hour:02}"));
    }
}

/// PostgreSQL's `AppendSeconds` with six fractional digits: whole seconds, then the fraction
/// without trailing zeros. Signs are dropped, as in PostgreSQL.
pub(crate) fn append_seconds(out: &mut String, sec: i32, fsec: i64, fill_zeros: bool) {
    let sec = sec.unsigned_abs();
    if fill_zeros {
        out.push_str(&format!("{sec:02}"));
    } else {
        out.push_str(&sec.to_string());
    }
    if fsec != 0 {
        let fraction = format!("{:06}", fsec.unsigned_abs());
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
}

#[cfg(test)]
#[path = "datetime_tests.rs"]
mod tests;
