//! `interval`: PostgreSQL 16's `interval_in` (`DecodeInterval`, falling back to
//! `DecodeISO8601Interval`) and `interval_out` (`EncodeInterval` in all four
//! `IntervalStyle`s).
//!
//! An interval keeps months, days and microseconds apart. Input reads the fields right to
//! left, so that a unit word applies to the number before it; a bare number is seconds and a
//! number before `hh:mm:ss` is days. PostgreSQL 16 has no infinite intervals.

use storage::types::Interval;

use super::calendar::{
    DAYS_PER_MONTH, MONTHS_PER_YEAR, USECS_PER_DAY, USECS_PER_HOUR, USECS_PER_MINUTE, USECS_PER_SEC,
};
use super::datetime::{append_seconds, datetime_error};
use super::datetime_fields::{parse_fraction, parse_fractional_second, strtoint, strtol};
use super::datetime_parse::{
    interval_keyword, parse_fields, DateTimeError, Field, FieldKind, IntervalKeyword, IntervalUnit,
    INTERVAL_WORKBUF,
};
use super::error::{sqlstate, TypeError};
use super::float::strtod;
use super::session::{IntervalStyle, SessionFormat};

/// PostgreSQL's `pg_itm_in`: the interval being assembled.
#[derive(Debug, Default, Clone, Copy)]
struct ItmIn {
    usec: i64,
    mday: i32,
    mon: i32,
    year: i32,
}

// Field-mask bits for the units an interval may name once each.
const M_MONTH: u32 = 1 << 1;
const M_YEAR: u32 = 1 << 2;
const M_DAY: u32 = 1 << 3;
const M_HOUR: u32 = 1 << 10;
const M_MINUTE: u32 = 1 << 11;
const M_SECOND: u32 = 1 << 12;
const M_MILLISECOND: u32 = 1 << 13;
const M_MICROSECOND: u32 = 1 << 14;
const M_WEEK: u32 = 1 << 24;
const M_DECADE: u32 = 1 << 25;
const M_CENTURY: u32 = 1 << 26;
const M_MILLENNIUM: u32 = 1 << 27;
const M_TIME: u32 = M_HOUR | M_MINUTE | M_SECOND | M_MILLISECOND | M_MICROSECOND;
const M_ALL_SECS: u32 = M_SECOND | M_MILLISECOND | M_MICROSECOND;

/// `interval_in`.
pub(crate) fn parse_interval(text: &str, session: &SessionFormat) -> Result<Interval, TypeError> {
    let mut result = parse_fields(text, INTERVAL_WORKBUF)
        .and_then(|fields| decode_interval(&fields, session.interval_style));
    if matches!(result, Err(DateTimeError::BadFormat)) {
        result = decode_iso8601_interval(text);
    }
    let itm = result.map_err(|err| {
        let err = if err == DateTimeError::FieldOverflow {
            DateTimeError::IntervalOverflow
        } else {
            err
        };
        datetime_error(err, text, "interval")
    })?;
    let months = itm.year as i64 * MONTHS_PER_YEAR as i64 + itm.mon as i64;
    let months = i32::try_from(months)
        .map_err(|_| TypeError::new(sqlstate::DATETIME_FIELD_OVERFLOW, "interval out of range"))?;
    Ok(Interval {
        months,
        days: itm.mday,
        micros: itm.usec,
    })
}

/// The unit a number takes when it has no unit word after it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pending {
    /// No unit seen yet: seconds.
    Unset,
    Unit(IntervalUnit),
    /// After `ago` (PostgreSQL sets the type to 0, which no number accepts).
    Invalid,
}

/// PostgreSQL's `DecodeInterval` with the full field range.
fn decode_interval(fields: &[Field], style: IntervalStyle) -> Result<ItmIn, DateTimeError> {
    let mut itm = ItmIn::default();
    let nf = fields.len();
    let mut force_negative = false;
    if style == IntervalStyle::SqlStandard && nf > 0 && fields[0].text.starts_with('-') {
        force_negative = !fields[1..]
            .iter()
            .any(|f| f.text.starts_with('-') || f.text.starts_with('+'));
    }
    let mut fmask: u32 = 0;
    let mut pending = Pending::Unset;
    let mut is_before = false;

    for i in (0..nf).rev() {
        let text = fields[i].text.as_str();
        let tmask: u32;
        let mut kind = fields[i].kind;
        if kind == FieldKind::Tz && text[1..].contains(':') {
            let mut attempt = itm;
            if decode_time_for_interval(&text[1..], &mut attempt).is_ok() {
                itm = attempt;
                if text.starts_with('-') {
                    itm.usec = itm.usec.checked_neg().ok_or(DateTimeError::FieldOverflow)?;
                }
                if force_negative && itm.usec > 0 {
                    itm.usec = -itm.usec;
                }
                pending = Pending::Unit(IntervalUnit::Day);
                if M_TIME & fmask != 0 {
                    return Err(DateTimeError::BadFormat);
                }
                fmask |= M_TIME;
                continue;
            }
            kind = FieldKind::Number;
        }
        match kind {
            FieldKind::Time => {
                decode_time_for_interval(text, &mut itm)?;
                if force_negative && itm.usec > 0 {
                    itm.usec = -itm.usec;
                }
                tmask = M_TIME;
                pending = Pending::Unit(IntervalUnit::Day);
            }
            FieldKind::Tz | FieldKind::Date | FieldKind::Number => {
                // A number with no unit word after it is seconds, and so is the next one.
                if pending == Pending::Unset {
                    pending = Pending::Unit(IntervalUnit::Second);
                }
                let (val, rest) = strtol(text);
                let mut val = val.map_err(|_| DateTimeError::FieldOverflow)?;
                let mut fval: f64;
                if let Some(after) = rest.strip_prefix('-') {
                    // SQL "years-months" syntax.
                    let (val2, rest2) = strtoint(after);
                    let mut val2 = val2.map_err(|_| DateTimeError::FieldOverflow)?;
                    if !(0..MONTHS_PER_YEAR).contains(&val2) {
                        return Err(DateTimeError::FieldOverflow);
                    }
                    if !rest2.is_empty() {
                        return Err(DateTimeError::BadFormat);
                    }
                    // Years-months also sets the unit the next number defaults to.
                    pending = Pending::Unit(IntervalUnit::Month);
                    if text.starts_with('-') {
                        val2 = -val2;
                    }
                    val = val
                        .checked_mul(MONTHS_PER_YEAR as i64)
                        .and_then(|v| v.checked_add(val2 as i64))
                        .ok_or(DateTimeError::FieldOverflow)?;
                    fval = 0.0;
                } else if rest.starts_with('.') {
                    fval = parse_fraction(rest)?;
                    if text.starts_with('-') {
                        fval = -fval;
                    }
                } else if rest.is_empty() {
                    fval = 0.0;
                } else {
                    return Err(DateTimeError::BadFormat);
                }
                if force_negative {
                    if val > 0 {
                        val = -val;
                    }
                    if fval > 0.0 {
                        fval = -fval;
                    }
                }
                let Pending::Unit(unit) = pending else {
                    return Err(DateTimeError::BadFormat);
                };
                let overflow = DateTimeError::FieldOverflow;
                tmask = match unit {
                    IntervalUnit::Microsecond => {
                        adjust_microseconds(val, fval, 1, &mut itm).ok_or(overflow)?;
                        M_MICROSECOND
                    }
                    IntervalUnit::Millisecond => {
                        adjust_microseconds(val, fval, 1000, &mut itm).ok_or(overflow)?;
                        M_MILLISECOND
                    }
                    IntervalUnit::Second => {
                        adjust_microseconds(val, fval, USECS_PER_SEC, &mut itm).ok_or(overflow)?;
                        if fval == 0.0 {
                            M_SECOND
                        } else {
                            M_ALL_SECS
                        }
                    }
                    IntervalUnit::Minute => {
                        adjust_microseconds(val, fval, USECS_PER_MINUTE, &mut itm)
                            .ok_or(overflow)?;
                        M_MINUTE
                    }
                    IntervalUnit::Hour => {
                        adjust_microseconds(val, fval, USECS_PER_HOUR, &mut itm).ok_or(overflow)?;
                        pending = Pending::Unit(IntervalUnit::Day);
                        M_HOUR
                    }
                    IntervalUnit::Day => {
                        adjust_days(val, 1, &mut itm)
                            .and_then(|_| adjust_fract_microseconds(fval, USECS_PER_DAY, &mut itm))
                            .ok_or(overflow)?;
                        M_DAY
                    }
                    IntervalUnit::Week => {
                        adjust_days(val, 7, &mut itm)
                            .and_then(|_| adjust_fract_days(fval, 7, &mut itm))
                            .ok_or(overflow)?;
                        M_WEEK
                    }
                    IntervalUnit::Month => {
                        adjust_months(val, &mut itm)
                            .and_then(|_| adjust_fract_days(fval, DAYS_PER_MONTH, &mut itm))
                            .ok_or(overflow)?;
                        M_MONTH
                    }
                    IntervalUnit::Year => {
                        adjust_years(val, fval, 1, &mut itm).ok_or(overflow)?;
                        M_YEAR
                    }
                    IntervalUnit::Decade => {
                        adjust_years(val, fval, 10, &mut itm).ok_or(overflow)?;
                        M_DECADE
                    }
                    IntervalUnit::Century => {
                        adjust_years(val, fval, 100, &mut itm).ok_or(overflow)?;
                        M_CENTURY
                    }
                    IntervalUnit::Millennium => {
                        adjust_years(val, fval, 1000, &mut itm).ok_or(overflow)?;
                        M_MILLENNIUM
                    }
                    IntervalUnit::Quarter | IntervalUnit::TimeZone => {
                        return Err(DateTimeError::BadFormat)
                    }
                };
            }
            FieldKind::String | FieldKind::Special => {
                // PostgreSQL 16 takes a unit word as the unit of the number before it, lets a
                // later unit word replace an unused one, and accepts `ago` anywhere (17 is
                // stricter on both).
                match interval_keyword(text) {
                    Some(IntervalKeyword::Ignore) => continue,
                    Some(IntervalKeyword::Unit(unit)) => pending = Pending::Unit(unit),
                    Some(IntervalKeyword::Ago) => {
                        is_before = true;
                        pending = Pending::Invalid;
                    }
                    None => return Err(DateTimeError::BadFormat),
                }
                tmask = 0;
            }
        }
        if tmask & fmask != 0 {
            return Err(DateTimeError::BadFormat);
        }
        fmask |= tmask;
    }

    if fmask == 0 {
        return Err(DateTimeError::BadFormat);
    }
    if is_before {
        itm.usec = itm.usec.checked_neg().ok_or(DateTimeError::FieldOverflow)?;
        itm.mday = itm.mday.checked_neg().ok_or(DateTimeError::FieldOverflow)?;
        itm.mon = itm.mon.checked_neg().ok_or(DateTimeError::FieldOverflow)?;
        itm.year = itm.year.checked_neg().ok_or(DateTimeError::FieldOverflow)?;
    }
    Ok(itm)
}

/// PostgreSQL's `DecodeTimeForInterval`: `[-]hh:mm[:ss[.fff]]` or `mm:ss.fff`. Like
/// PostgreSQL it *replaces* the microseconds gathered so far.
fn decode_time_for_interval(text: &str, itm: &mut ItmIn) -> Result<(), DateTimeError> {
    let (hour, rest) = strtol(text);
    let mut hour = hour.map_err(|_| DateTimeError::FieldOverflow)?;
    let rest = rest.strip_prefix(':').ok_or(DateTimeError::BadFormat)?;
    let (min, rest) = strtoint(rest);
    let mut min = min.map_err(|_| DateTimeError::FieldOverflow)? as i64;
    let mut sec: i64 = 0;
    let mut fsec: i64 = 0;
    if rest.is_empty() {
        // hh:mm
    } else if rest.starts_with('.') {
        fsec = parse_fractional_second(rest)?;
        if hour > i32::MAX as i64 || hour < i32::MIN as i64 {
            return Err(DateTimeError::FieldOverflow);
        }
        sec = min;
        min = hour;
        hour = 0;
    } else if let Some(after) = rest.strip_prefix(':') {
        let (s, rest) = strtoint(after);
        sec = s.map_err(|_| DateTimeError::FieldOverflow)? as i64;
        if rest.starts_with('.') {
            fsec = parse_fractional_second(rest)?;
        } else if !rest.is_empty() {
            return Err(DateTimeError::BadFormat);
        }
    } else {
        return Err(DateTimeError::BadFormat);
    }
    if hour < 0
        || !(0..60).contains(&min)
        || !(0..=60).contains(&sec)
        || !(0..=USECS_PER_SEC).contains(&fsec)
    {
        return Err(DateTimeError::FieldOverflow);
    }
    itm.usec = fsec;
    for (value, scale) in [
        (hour, USECS_PER_HOUR),
        (min, USECS_PER_MINUTE),
        (sec, USECS_PER_SEC),
    ] {
        itm.usec = value
            .checked_mul(scale)
            .and_then(|p| p.checked_add(itm.usec))
            .ok_or(DateTimeError::FieldOverflow)?;
    }
    Ok(())
}

fn adjust_microseconds(val: i64, fval: f64, scale: i64, itm: &mut ItmIn) -> Option<()> {
    itm.usec = val.checked_mul(scale)?.checked_add(itm.usec)?;
    adjust_fract_microseconds(fval, scale, itm)
}

fn adjust_fract_microseconds(frac: f64, scale: i64, itm: &mut ItmIn) -> Option<()> {
    if frac == 0.0 {
        return Some(());
    }
    let frac = frac * scale as f64;
    let whole = frac as i64;
    let usec = whole + (frac - whole as f64).round_ties_even() as i64;
    itm.usec = itm.usec.checked_add(usec)?;
    Some(())
}

fn adjust_fract_days(frac: f64, scale: i32, itm: &mut ItmIn) -> Option<()> {
    if frac == 0.0 {
        return Some(());
    }
    let frac = frac * scale as f64;
    let extra_days = frac as i32;
    itm.mday = itm.mday.checked_add(extra_days)?;
    adjust_fract_microseconds(frac - extra_days as f64, USECS_PER_DAY, itm)
}

fn adjust_days(val: i64, scale: i32, itm: &mut ItmIn) -> Option<()> {
    let days = i32::try_from(val).ok()?.checked_mul(scale)?;
    itm.mday = itm.mday.checked_add(days)?;
    Some(())
}

fn adjust_months(val: i64, itm: &mut ItmIn) -> Option<()> {
    itm.mon = itm.mon.checked_add(i32::try_from(val).ok()?)?;
    Some(())
}

/// `AdjustYears` and `AdjustFractYears`: whole years, and the fraction as rounded months.
fn adjust_years(val: i64, fval: f64, scale: i32, itm: &mut ItmIn) -> Option<()> {
    let years = i32::try_from(val).ok()?.checked_mul(scale)?;
    itm.year = itm.year.checked_add(years)?;
    let extra_months = (fval * scale as f64 * MONTHS_PER_YEAR as f64).round_ties_even() as i32;
    itm.mon = itm.mon.checked_add(extra_months)?;
    Some(())
}

/// PostgreSQL's `ParseISO8601Number`: a `strtod` number split into integer and fraction.
fn parse_iso8601_number(text: &str) -> Result<(i64, f64, &str), DateTimeError> {
    let first = text.as_bytes().first().copied().unwrap_or(0);
    if !(first.is_ascii_digit() || first == b'-' || first == b'.') {
        return Err(DateTimeError::BadFormat);
    }
    let parsed = strtod(text, false).ok_or(DateTimeError::BadFormat)?;
    if parsed.range_error {
        return Err(DateTimeError::BadFormat);
    }
    let val = parsed.value;
    if val.is_nan() || !(-1.0e15..=1.0e15).contains(&val) {
        return Err(DateTimeError::FieldOverflow);
    }
    let ipart = val.trunc() as i64;
    Ok((ipart, val - ipart as f64, &text[parsed.len..]))
}

fn iso8601_integer_width(field: &str) -> usize {
    let field = field.strip_prefix('-').unwrap_or(field);
    field.bytes().take_while(u8::is_ascii_digit).count()
}

/// PostgreSQL's `DecodeISO8601Interval`: `P1Y2M3DT4H5M6S`, `P1W`, and the alternative forms
/// `P0001-02-03T04:05:06` and `P00010203T040506`.
fn decode_iso8601_interval(text: &str) -> Result<ItmIn, DateTimeError> {
    let mut itm = ItmIn::default();
    let overflow = DateTimeError::FieldOverflow;
    let mut rest = text.strip_prefix('P').ok_or(DateTimeError::BadFormat)?;
    if rest.is_empty() {
        return Err(DateTimeError::BadFormat);
    }
    let mut date_part = true;
    let mut have_field = false;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('T') {
            date_part = false;
            have_field = false;
            rest = after;
            continue;
        }
        let field_start = rest;
        let (val, fval, after) = parse_iso8601_number(rest)?;
        let unit = after.as_bytes().first().copied().unwrap_or(0);
        if !unit.is_ascii() {
            return Err(DateTimeError::BadFormat);
        }
        rest = if unit == 0 { after } else { &after[1..] };
        if date_part {
            match unit {
                b'Y' => adjust_years(val, fval, 1, &mut itm).ok_or(overflow.clone())?,
                b'M' => adjust_months(val, &mut itm)
                    .and_then(|_| adjust_fract_days(fval, DAYS_PER_MONTH, &mut itm))
                    .ok_or(overflow.clone())?,
                b'W' => adjust_days(val, 7, &mut itm)
                    .and_then(|_| adjust_fract_days(fval, 7, &mut itm))
                    .ok_or(overflow.clone())?,
                b'D' => adjust_days(val, 1, &mut itm)
                    .and_then(|_| adjust_fract_microseconds(fval, USECS_PER_DAY, &mut itm))
                    .ok_or(overflow.clone())?,
                b'T' | 0 | b'-' => {
                    if unit != b'-' && iso8601_integer_width(field_start) == 8 && !have_field {
                        adjust_years(val / 10000, 0.0, 1, &mut itm)
                            .and_then(|_| adjust_months((val / 100) % 100, &mut itm))
                            .and_then(|_| adjust_days(val % 100, 1, &mut itm))
                            .and_then(|_| adjust_fract_microseconds(fval, USECS_PER_DAY, &mut itm))
                            .ok_or(overflow.clone())?;
                        if unit == 0 {
                            return Ok(itm);
                        }
                        date_part = false;
                        have_field = false;
                        continue;
                    }
                    // Extended alternative format: years-months-days.
                    if have_field {
                        return Err(DateTimeError::BadFormat);
                    }
                    adjust_years(val, fval, 1, &mut itm).ok_or(overflow.clone())?;
                    if unit == 0 {
                        return Ok(itm);
                    }
                    if unit == b'T' {
                        date_part = false;
                        have_field = false;
                        continue;
                    }
                    let (val, fval, after) = parse_iso8601_number(rest)?;
                    adjust_months(val, &mut itm)
                        .and_then(|_| adjust_fract_days(fval, DAYS_PER_MONTH, &mut itm))
                        .ok_or(overflow.clone())?;
                    rest = after;
                    if rest.is_empty() {
                        return Ok(itm);
                    }
                    if let Some(after) = rest.strip_prefix('T') {
                        rest = after;
                        date_part = false;
                        have_field = false;
                        continue;
                    }
                    rest = rest.strip_prefix('-').ok_or(DateTimeError::BadFormat)?;
                    let (val, fval, after) = parse_iso8601_number(rest)?;
                    adjust_days(val, 1, &mut itm)
                        .and_then(|_| adjust_fract_microseconds(fval, USECS_PER_DAY, &mut itm))
                        .ok_or(overflow.clone())?;
                    rest = after;
                    if rest.is_empty() {
                        return Ok(itm);
                    }
                    if let Some(after) = rest.strip_prefix('T') {
                        rest = after;
                        date_part = false;
                        have_field = false;
                        continue;
                    }
                    return Err(DateTimeError::BadFormat);
                }
                _ => return Err(DateTimeError::BadFormat),
            }
        } else {
            match unit {
                b'H' => adjust_microseconds(val, fval, USECS_PER_HOUR, &mut itm)
                    .ok_or(overflow.clone())?,
                b'M' => adjust_microseconds(val, fval, USECS_PER_MINUTE, &mut itm)
                    .ok_or(overflow.clone())?,
                b'S' => adjust_microseconds(val, fval, USECS_PER_SEC, &mut itm)
                    .ok_or(overflow.clone())?,
                0 | b':' => {
                    if unit == 0 && iso8601_integer_width(field_start) == 6 && !have_field {
                        adjust_microseconds(val / 10000, 0.0, USECS_PER_HOUR, &mut itm)
                            .and_then(|_| {
                                adjust_microseconds(
                                    (val / 100) % 100,
                                    0.0,
                                    USECS_PER_MINUTE,
                                    &mut itm,
                                )
                            })
                            .and_then(|_| {
                                adjust_microseconds(val % 100, 0.0, USECS_PER_SEC, &mut itm)
                            })
                            .and_then(|_| adjust_fract_microseconds(fval, 1, &mut itm))
                            .ok_or(overflow.clone())?;
                        return Ok(itm);
                    }
                    // Extended alternative format: hours:minutes:seconds.
                    if have_field {
                        return Err(DateTimeError::BadFormat);
                    }
                    adjust_microseconds(val, fval, USECS_PER_HOUR, &mut itm)
                        .ok_or(overflow.clone())?;
                    if unit == 0 {
                        return Ok(itm);
                    }
                    let (val, fval, after) = parse_iso8601_number(rest)?;
                    adjust_microseconds(val, fval, USECS_PER_MINUTE, &mut itm)
                        .ok_or(overflow.clone())?;
                    rest = after;
                    if rest.is_empty() {
                        return Ok(itm);
                    }
                    rest = rest.strip_prefix(':').ok_or(DateTimeError::BadFormat)?;
                    let (val, fval, after) = parse_iso8601_number(rest)?;
                    adjust_microseconds(val, fval, USECS_PER_SEC, &mut itm)
                        .ok_or(overflow.clone())?;
                    if after.is_empty() {
                        return Ok(itm);
                    }
                    return Err(DateTimeError::BadFormat);
                }
                _ => return Err(DateTimeError::BadFormat),
            }
        }
        have_field = true;
    }
    Ok(itm)
}

/// PostgreSQL's `pg_itm`: an interval broken into printable fields.
struct Itm {
    year: i32,
    mon: i32,
    mday: i64,
    hour: i64,
    min: i32,
    sec: i32,
    usec: i64,
}

fn interval2itm(span: &Interval) -> Itm {
    let time = span.micros;
    let hour = time / USECS_PER_HOUR;
    let time = time - hour * USECS_PER_HOUR;
    let min = time / USECS_PER_MINUTE;
    let time = time - min * USECS_PER_MINUTE;
    let sec = time / USECS_PER_SEC;
    Itm {
        year: span.months / MONTHS_PER_YEAR,
        mon: span.months % MONTHS_PER_YEAR,
        mday: span.days as i64,
        hour,
        min: min as i32,
        sec: sec as i32,
        usec: time - sec * USECS_PER_SEC,
    }
}

/// `interval_out` in the session's `IntervalStyle`.
pub(crate) fn format_interval(span: &Interval, session: &SessionFormat) -> String {
    let itm = interval2itm(span);
    match session.interval_style {
        IntervalStyle::Postgres => encode_postgres(&itm),
        IntervalStyle::PostgresVerbose => encode_postgres_verbose(&itm),
        IntervalStyle::SqlStandard => encode_sql_standard(itm),
        IntervalStyle::Iso8601 => encode_iso8601(&itm),
    }
}

fn encode_postgres(itm: &Itm) -> String {
    let mut out = String::new();
    let mut is_zero = true;
    let mut is_before = false;
    for (value, unit) in [
        (itm.year as i64, "year"),
        (itm.mon as i64, "mon"),
        (itm.mday, "day"),
    ] {
        if value == 0 {
            continue;
        }
        if !is_zero {
            out.push(' ');
        }
        if is_before && value > 0 {
            out.push('+');
        }
        out.push_str(&format!(
            "{value} {unit}{}",
            if value != 1 { "s" } else { "" }
        ));
        is_before = value < 0;
        is_zero = false;
    }
    if is_zero || itm.hour != 0 || itm.min != 0 || itm.sec != 0 || itm.usec != 0 {
        let minus = itm.hour < 0 || itm.min < 0 || itm.sec < 0 || itm.usec < 0;
        if !is_zero {
            out.push(' ');
        }
        if minus {
            out.push('-');
        } else if is_before {
            out.push('+');
        }
        out.push_str(&format!(
            "{:02}:{:02}:",
            itm.hour.unsigned_abs(),
            itm.min.unsigned_abs()
        ));
        append_seconds(&mut out, itm.sec, itm.usec, true);
    }
    out
}

fn encode_postgres_verbose(itm: &Itm) -> String {
    let mut out = String::from("@");
    let mut is_zero = true;
    let mut is_before = false;
    let parts = [
        (itm.year as i64, "year"),
        (itm.mon as i64, "mon"),
        (itm.mday, "day"),
        (itm.hour, "hour"),
        (itm.min as i64, "min"),
    ];
    for (value, unit) in parts {
        if value == 0 {
            continue;
        }
        let mut value = value;
        if is_zero {
            is_before = value < 0;
            value = value.abs();
        } else if is_before {
            value = -value;
        }
        out.push_str(&format!(
            " {value} {unit}{}",
            if value == 1 { "" } else { "s" }
        ));
        is_zero = false;
    }
    if itm.sec != 0 || itm.usec != 0 {
        out.push(' ');
        if itm.sec < 0 || (itm.sec == 0 && itm.usec < 0) {
            if is_zero {
                is_before = true;
            } else if !is_before {
                out.push('-');
            }
        } else if is_before {
            out.push('-');
        }
        append_seconds(&mut out, itm.sec, itm.usec, false);
        let plural = itm.sec.abs() != 1 || itm.usec != 0;
        out.push_str(if plural { " secs" } else { " sec" });
        is_zero = false;
    }
    if is_zero {
        out.push_str(" 0");
    }
    if is_before {
        out.push_str(" ago");
    }
    out
}

fn encode_sql_standard(itm: Itm) -> String {
    let Itm {
        mut year,
        mut mon,
        mut mday,
        mut hour,
        mut min,
        mut sec,
        mut usec,
    } = itm;
    let has_negative =
        year < 0 || mon < 0 || mday < 0 || hour < 0 || min < 0 || sec < 0 || usec < 0;
    let has_positive =
        year > 0 || mon > 0 || mday > 0 || hour > 0 || min > 0 || sec > 0 || usec > 0;
    let has_year_month = year != 0 || mon != 0;
    let has_day_time = mday != 0 || hour != 0 || min != 0 || sec != 0 || usec != 0;
    let has_day = mday != 0;
    let mixed_signs = has_negative && has_positive;
    let mixed_kinds = has_year_month && has_day_time;
    let sql_standard_value = !mixed_signs && !mixed_kinds;
    let mut out = String::new();
    if has_negative && sql_standard_value {
        out.push('-');
        year = -year;
        mon = -mon;
        mday = -mday;
        hour = -hour;
        min = -min;
        sec = -sec;
        usec = -usec;
    }
    if !has_negative && !has_positive {
        out.push('0');
    } else if !sql_standard_value {
        let year_sign = if year < 0 || mon < 0 { '-' } else { '+' };
        let day_sign = if mday < 0 { '-' } else { '+' };
        let sec_sign = if hour < 0 || min < 0 || sec < 0 || usec < 0 {
            '-'
        } else {
            '+'
        };
        out.push_str(&format!(
            "{year_sign}{}-{} {day_sign}{} {sec_sign}{}:{:02}:",
            year.unsigned_abs(),
            mon.unsigned_abs(),
            mday.unsigned_abs(),
            hour.unsigned_abs(),
            min.unsigned_abs()
        ));
        append_seconds(&mut out, sec, usec, true);
    } else if has_year_month {
        out.push_str(&format!("{year}-{mon}"));
    } else if has_day {
        out.push_str(&format!("{mday} {hour}:{min:02}:"));
        append_seconds(&mut out, sec, usec, true);
    } else {
        out.push_str(&format!("{hour}:{min:02}:"));
        append_seconds(&mut out, sec, usec, true);
    }
    out
}

fn encode_iso8601(itm: &Itm) -> String {
    if itm.year == 0
        && itm.mon == 0
        && itm.mday == 0
        && itm.hour == 0
        && itm.min == 0
        && itm.sec == 0
        && itm.usec == 0
    {
        return "PT0S".into();
    }
    let mut out = String::from("P");
    let part = |out: &mut String, value: i64, unit: char| {
        if value != 0 {
            out.push_str(&format!("{value}{unit}"));
        }
    };
    part(&mut out, itm.year as i64, 'Y');
    part(&mut out, itm.mon as i64, 'M');
    part(&mut out, itm.mday, 'D');
    if itm.hour != 0 || itm.min != 0 || itm.sec != 0 || itm.usec != 0 {
        out.push('T');
    }
    part(&mut out, itm.hour, 'H');
    part(&mut out, itm.min as i64, 'M');
    if itm.sec != 0 || itm.usec != 0 {
        if itm.sec < 0 || itm.usec < 0 {
            out.push('-');
        }
        append_seconds(&mut out, itm.sec, itm.usec, false);
        out.push('S');
    }
    out
}

#[cfg(test)]
#[path = "interval_tests.rs"]
mod tests;
