//! Field-level decoders of date/time input, ported from `datetime.c`: `DecodeDate`,
//! `DecodeNumber`, `DecodeNumberField`, `DecodeTimeCommon`, `DecodeTimezone`, `ValidateDate`
//! and the C number readers (`strtol`, `atoi`, `ParseFraction`) whose exact behaviour —
//! leading whitespace, signs, overflow, what is left unread — the decoders depend on.
//!
//! Each decoder reads one field (or a piece of one) in the light of the field mask seen so far
//! and returns the mask bits of what it set. [`super::datetime_decode`] drives them.

use super::calendar::{
    date2j, is_leap, j2date, time2t, Tm, DAY_TAB, HOURS_PER_DAY, MAX_TZDISP_HOUR, MINS_PER_HOUR,
    MONTHS_PER_YEAR, SECS_PER_MINUTE, USECS_PER_DAY, USECS_PER_SEC,
};
use super::datetime_parse::{date_keyword, DateKeyword, DateTimeError, MAX_DATE_FIELDS};
use super::error::is_c_space;
use super::float::strtod;
use super::session::DateOrder;

// Field-mask bits, PostgreSQL's DTK_M() of the token types.
pub(crate) const M_RESERV: u32 = 1 << 0;
pub(crate) const M_MONTH: u32 = 1 << 1;
pub(crate) const M_YEAR: u32 = 1 << 2;
pub(crate) const M_DAY: u32 = 1 << 3;
pub(crate) const M_TZ: u32 = 1 << 5;
pub(crate) const M_DTZ: u32 = 1 << 6;
pub(crate) const M_AMPM: u32 = 1 << 9;
pub(crate) const M_HOUR: u32 = 1 << 10;
pub(crate) const M_MINUTE: u32 = 1 << 11;
pub(crate) const M_SECOND: u32 = 1 << 12;
pub(crate) const M_MILLISECOND: u32 = 1 << 13;
pub(crate) const M_MICROSECOND: u32 = 1 << 14;
pub(crate) const M_DOY: u32 = 1 << 15;
pub(crate) const M_DOW: u32 = 1 << 16;
pub(crate) const M_ADBC: u32 = 1 << 18;
pub(crate) const M_DTZMOD: u32 = 1 << 28;
pub(crate) const M_DATE: u32 = M_YEAR | M_MONTH | M_DAY;
pub(crate) const M_TIME: u32 = M_HOUR | M_MINUTE | M_SECOND | M_MILLISECOND | M_MICROSECOND;

/// PostgreSQL's `time_overflows`: fields in range and the total at most 24:00:00.
pub(crate) fn time_overflows(hour: i32, min: i32, sec: i32, fsec: i64) -> bool {
    if !(0..=HOURS_PER_DAY).contains(&hour)
        || !(0..MINS_PER_HOUR).contains(&min)
        || !(0..=SECS_PER_MINUTE).contains(&sec)
        || !(0..=USECS_PER_SEC).contains(&fsec)
    {
        return true;
    }
    time2t(hour, min, sec, fsec) > USECS_PER_DAY
}

/// C's `strtol` for an `int` (PostgreSQL's `strtoint`): skips leading whitespace, takes a sign
/// and digits, and returns the value (or an overflow) with the unparsed rest. Without digits
/// the value is 0 and the rest is the whole input.
pub(crate) fn strtoint(text: &str) -> (Result<i32, ()>, &str) {
    let (value, rest) = strtol(text);
    let value = value.and_then(|v| i32::try_from(v).map_err(|_| ()));
    (value, rest)
}

/// C's `strtol` for a 64-bit integer.
pub(crate) fn strtol(text: &str) -> (Result<i64, ()>, &str) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() && is_c_space(bytes[i]) {
        i += 1;
    }
    let negative = match bytes.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits_start = i;
    let mut value: i128 = 0;
    let mut overflow = false;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        value = value * 10 + (bytes[i] - b'0') as i128;
        if value > i64::MAX as i128 + 1 {
            overflow = true;
            value = i64::MAX as i128 + 1;
        }
        i += 1;
    }
    if i == digits_start {
        return (Ok(0), text);
    }
    let value = if negative { -value } else { value };
    if overflow || value > i64::MAX as i128 || value < i64::MIN as i128 {
        return (Err(()), &text[i..]);
    }
    (Ok(value as i64), &text[i..])
}

/// C's `atoi` as glibc implements it (`(int) strtol(...)`), used on digit runs.
fn atoi(text: &str) -> i32 {
    match strtol(text) {
        (Ok(v), _) => v as i32,
        (Err(()), _) => -1,
    }
}

/// PostgreSQL's `ParseFraction`: `text` starts at a `.`; a lone `.` is zero.
pub(crate) fn parse_fraction(text: &str) -> Result<f64, DateTimeError> {
    debug_assert!(text.starts_with('.'));
    if text.len() == 1 {
        return Ok(0.0);
    }
    match strtod(text, false) {
        Some(parsed) if parsed.len == text.len() && !parsed.range_error => Ok(parsed.value),
        _ => Err(DateTimeError::BadFormat),
    }
}

/// PostgreSQL's `ParseFractionalSecond`: the fraction rounded to microseconds.
pub(crate) fn parse_fractional_second(text: &str) -> Result<i64, DateTimeError> {
    Ok((parse_fraction(text)? * 1_000_000.0).round_ties_even() as i64)
}

/// PostgreSQL's `DecodeTimezone`: `±hh`, `±hhmm`, `±hh:mm`, `±hh:mm:ss` to seconds west.
pub(crate) fn decode_timezone(text: &str) -> Result<i32, DateTimeError> {
    let negative = match text.as_bytes().first() {
        Some(b'+') => false,
        Some(b'-') => true,
        _ => return Err(DateTimeError::BadFormat),
    };
    let (hr, mut rest) = strtoint(&text[1..]);
    let mut hr = hr.map_err(|_| DateTimeError::TzDispOverflow)?;
    let mut min = 0;
    let mut sec = 0;
    if let Some(after) = rest.strip_prefix(':') {
        let (m, r) = strtoint(after);
        min = m.map_err(|_| DateTimeError::TzDispOverflow)?;
        rest = r;
        if let Some(after) = rest.strip_prefix(':') {
            let (s, r) = strtoint(after);
            sec = s.map_err(|_| DateTimeError::TzDispOverflow)?;
            rest = r;
        }
    } else if rest.is_empty() && text.len() > 3 {
        min = hr % 100;
        hr /= 100;
    }
    if !(0..=MAX_TZDISP_HOUR).contains(&hr)
        || !(0..MINS_PER_HOUR).contains(&min)
        || !(0..SECS_PER_MINUTE).contains(&sec)
    {
        return Err(DateTimeError::TzDispOverflow);
    }
    let tz = (hr * MINS_PER_HOUR + min) * SECS_PER_MINUTE + sec;
    if !rest.is_empty() {
        return Err(DateTimeError::BadFormat);
    }
    Ok(if negative { tz } else { -tz })
}

/// PostgreSQL's `DecodeTimeCommon` for timestamps: `hh:mm`, `hh:mm:ss[.fff]`, or `mm:ss.fff`.
pub(crate) fn decode_time(text: &str, tm: &mut Tm, fsec: &mut i64) -> Result<u32, DateTimeError> {
    let (hour, rest) = strtol(text);
    let hour = hour.map_err(|_| DateTimeError::FieldOverflow)?;
    let rest = rest.strip_prefix(':').ok_or(DateTimeError::BadFormat)?;
    let (min, rest) = strtoint(rest);
    let mut min = min.map_err(|_| DateTimeError::FieldOverflow)?;
    let mut hour = hour;
    let mut sec = 0;
    let mut frac = 0;
    if rest.is_empty() {
        // hh:mm
    } else if rest.starts_with('.') {
        frac = parse_fractional_second(rest)?;
        if hour > i32::MAX as i64 || hour < i32::MIN as i64 {
            return Err(DateTimeError::FieldOverflow);
        }
        sec = min;
        min = hour as i32;
        hour = 0;
    } else if let Some(after) = rest.strip_prefix(':') {
        let (s, rest) = strtoint(after);
        sec = s.map_err(|_| DateTimeError::FieldOverflow)?;
        if rest.starts_with('.') {
            frac = parse_fractional_second(rest)?;
        } else if !rest.is_empty() {
            return Err(DateTimeError::BadFormat);
        }
    } else {
        return Err(DateTimeError::BadFormat);
    }
    if hour < 0
        || !(0..MINS_PER_HOUR).contains(&min)
        || !(0..=SECS_PER_MINUTE).contains(&sec)
        || !(0..=USECS_PER_SEC).contains(&frac)
    {
        return Err(DateTimeError::FieldOverflow);
    }
    if hour > i32::MAX as i64 {
        return Err(DateTimeError::FieldOverflow);
    }
    tm.hour = hour as i32;
    tm.min = min;
    tm.sec = sec;
    *fsec = frac;
    Ok(M_TIME)
}

/// PostgreSQL's `DecodeDate`: a field with separators (`2024-03-01`, `01/03/2024`,
/// `1-Mar-2024`), returning the mask of the fields it set.
pub(crate) fn decode_date(
    text: &str,
    mut fmask: u32,
    order: DateOrder,
    is_2digits: &mut bool,
    tm: &mut Tm,
) -> Result<u32, DateTimeError> {
    let bytes = text.as_bytes();
    let mut parts: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < bytes.len() && parts.len() < MAX_DATE_FIELDS {
        while i < bytes.len() && !bytes[i].is_ascii_alphanumeric() {
            i += 1;
        }
        if i >= bytes.len() {
            return Err(DateTimeError::BadFormat);
        }
        let start = i;
        if bytes[i].is_ascii_digit() {
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
        } else {
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
        }
        parts.push(&text[start..i]);
        // PostgreSQL overwrites the character after each run with the terminator.
        if i < bytes.len() {
            i += 1;
        }
    }

    let mut tmask = 0;
    let mut have_text_month = false;
    let mut numeric: Vec<&str> = Vec::new();
    for part in parts {
        if part.as_bytes()[0].is_ascii_alphabetic() {
            let dmask = match date_keyword(part) {
                // PostgreSQL skips a noise word here without marking it done, so the number
                // pass below rejects it.
                Some(DateKeyword::Ignore) => {
                    numeric.push(part);
                    continue;
                }
                Some(DateKeyword::Month(month)) => {
                    tm.mon = month;
                    have_text_month = true;
                    M_MONTH
                }
                _ => return Err(DateTimeError::BadFormat),
            };
            if fmask & dmask != 0 {
                return Err(DateTimeError::BadFormat);
            }
            fmask |= dmask;
            tmask |= dmask;
        } else {
            numeric.push(part);
        }
    }
    for part in numeric {
        let mut fsec = 0;
        let dmask = decode_number(
            part.len(),
            part,
            have_text_month,
            fmask,
            order,
            tm,
            &mut fsec,
            is_2digits,
        )?;
        if fmask & dmask != 0 {
            return Err(DateTimeError::BadFormat);
        }
        fmask |= dmask;
        tmask |= dmask;
    }
    if fmask & !(M_DOY | M_TZ) != M_DATE {
        return Err(DateTimeError::BadFormat);
    }
    Ok(tmask)
}

/// PostgreSQL's `DecodeNumber`: a plain number in the context of the fields seen so far.
#[allow(clippy::too_many_arguments)]
pub(crate) fn decode_number(
    flen: usize,
    text: &str,
    have_text_month: bool,
    fmask: u32,
    order: DateOrder,
    tm: &mut Tm,
    fsec: &mut i64,
    is_2digits: &mut bool,
) -> Result<u32, DateTimeError> {
    let (val, rest) = strtoint(text);
    let val = val.map_err(|_| DateTimeError::FieldOverflow)?;
    if rest.len() == text.len() {
        return Err(DateTimeError::BadFormat);
    }
    if rest.starts_with('.') {
        if text.len() - rest.len() > 2 {
            return Ok(decode_number_field(text, fmask | M_DATE, tm, fsec, is_2digits)?.0);
        }
        *fsec = parse_fractional_second(rest)?;
    } else if !rest.is_empty() {
        return Err(DateTimeError::BadFormat);
    }

    if flen == 3 && fmask & M_DATE == M_YEAR && (1..=366).contains(&val) {
        tm.yday = val;
        return Ok(M_DOY | M_MONTH | M_DAY);
    }

    let tmask = match fmask & M_DATE {
        0 => {
            if flen >= 3 || order == DateOrder::Ymd {
                tm.year = val;
                M_YEAR
            } else if order == DateOrder::Dmy {
                tm.mday = val;
                M_DAY
            } else {
                tm.mon = val;
                M_MONTH
            }
        }
        M_YEAR => {
            tm.mon = val;
            M_MONTH
        }
        M_MONTH => {
            if have_text_month {
                if flen >= 3 || order == DateOrder::Ymd {
                    tm.year = val;
                    M_YEAR
                } else {
                    tm.mday = val;
                    M_DAY
                }
            } else {
                tm.mday = val;
                M_DAY
            }
        }
        m if m == M_YEAR | M_MONTH => {
            if have_text_month && flen >= 3 && *is_2digits {
                tm.mday = tm.year;
                tm.year = val;
                *is_2digits = false;
            } else {
                tm.mday = val;
            }
            M_DAY
        }
        M_DAY => {
            tm.mon = val;
            M_MONTH
        }
        m if m == M_MONTH | M_DAY => {
            tm.year = val;
            M_YEAR
        }
        M_DATE => {
            return Ok(decode_number_field(text, fmask, tm, fsec, is_2digits)?.0);
        }
        _ => return Err(DateTimeError::BadFormat),
    };
    if tmask == M_YEAR {
        *is_2digits = flen <= 2;
    }
    Ok(tmask)
}

/// PostgreSQL's `DecodeNumberField`: run-together digits (`20240301`, `123456`, `1234.5`) as a
/// date or a time. Returns the mask set and whether it read a date.
pub(crate) fn decode_number_field(
    text: &str,
    fmask: u32,
    tm: &mut Tm,
    fsec: &mut i64,
    is_2digits: &mut bool,
) -> Result<(u32, bool), DateTimeError> {
    if !text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(DateTimeError::BadFormat);
    }
    let mut digits = text;
    if let Some(dot) = text.find('.') {
        *fsec = parse_fractional_second(&text[dot..])?;
        digits = &text[..dot];
    } else if fmask & M_DATE != M_DATE && digits.len() >= 6 {
        let len = digits.len();
        tm.mday = atoi(&digits[len - 2..]);
        tm.mon = atoi(&digits[len - 4..len - 2]);
        tm.year = atoi(&digits[..len - 4]);
        if len - 4 == 2 {
            *is_2digits = true;
        }
        return Ok((M_DATE, true));
    }
    if fmask & M_TIME != M_TIME {
        if digits.len() == 6 {
            tm.sec = atoi(&digits[4..6]);
            tm.min = atoi(&digits[2..4]);
            tm.hour = atoi(&digits[..2]);
            return Ok((M_TIME, false));
        } else if digits.len() == 4 {
            tm.sec = 0;
            tm.min = atoi(&digits[2..4]);
            tm.hour = atoi(&digits[..2]);
            return Ok((M_TIME, false));
        }
    }
    Err(DateTimeError::BadFormat)
}

/// PostgreSQL's `ValidateDate`: BC years, two-digit years, day of year, and field ranges.
pub(crate) fn validate_date(
    fmask: u32,
    is_julian: bool,
    is_2digits: bool,
    bc: bool,
    tm: &mut Tm,
) -> Result<(), DateTimeError> {
    if fmask & M_YEAR != 0 {
        if is_julian {
            // The Julian day already gave an astronomical year.
        } else if bc {
            if tm.year <= 0 {
                return Err(DateTimeError::FieldOverflow);
            }
            tm.year = -(tm.year - 1);
        } else if is_2digits {
            if tm.year < 0 {
                return Err(DateTimeError::FieldOverflow);
            }
            if tm.year < 70 {
                tm.year += 2000;
            } else if tm.year < 100 {
                tm.year += 1900;
            }
        } else if tm.year <= 0 {
            return Err(DateTimeError::FieldOverflow);
        }
    }
    if fmask & M_DOY != 0 {
        // Like PostgreSQL, no range check here: a year outside the Julian-day range yields
        // some date that the caller's range check rejects.
        (tm.year, tm.mon, tm.mday) = j2date(date2j(tm.year, 1, 1).wrapping_add(tm.yday - 1));
    }
    if fmask & M_MONTH != 0 && !(1..=MONTHS_PER_YEAR).contains(&tm.mon) {
        return Err(DateTimeError::MonthDayFieldOverflow);
    }
    if fmask & M_DAY != 0 && !(1..=31).contains(&tm.mday) {
        return Err(DateTimeError::MonthDayFieldOverflow);
    }
    if fmask & M_DATE == M_DATE
        && tm.mday > DAY_TAB[is_leap(tm.year) as usize][(tm.mon - 1) as usize]
    {
        return Err(DateTimeError::FieldOverflow);
    }
    Ok(())
}
