//! Calendar arithmetic for the date/time functions and casts: Julian day numbers, broken-down
//! timestamps, and the conversion between local time in a zone and UTC instants.
//!
//! Ported from PostgreSQL's `datetime.c` / `timestamp.c` as `types` does (its calendar module
//! is private to the text forms; the small routines are repeated here rather than widening
//! that module's interface). Dates are days since 2000-01-01, timestamps microseconds since
//! 2000-01-01 00:00; `i32::MIN/MAX` and `i64::MIN/MAX` are the infinities.

use crate::error::{code, SqlError, SqlResult};
use crate::types::SessionTimeZone;

pub const POSTGRES_EPOCH_JDATE: i32 = 2_451_545;
pub const UNIX_EPOCH_JDATE: i32 = 2_440_588;
pub const USECS_PER_SEC: i64 = 1_000_000;
pub const USECS_PER_MINUTE: i64 = 60 * USECS_PER_SEC;
pub const USECS_PER_HOUR: i64 = 60 * USECS_PER_MINUTE;
pub const USECS_PER_DAY: i64 = 24 * USECS_PER_HOUR;

/// First timestamp past the range: 294277-01-01 00:00:00.
pub const END_TIMESTAMP: i64 = 9_223_371_331_200_000_000;
/// Earliest timestamp: 4714-11-24 00:00:00 BC.
pub const MIN_TIMESTAMP: i64 = -211_813_488_000_000_000;
/// First day past the `date` range (5874898-01-01), in days since 2000-01-01.
const DATE_END: i64 = 2_147_483_494 - POSTGRES_EPOCH_JDATE as i64;

pub const DATE_NOBEGIN: i32 = i32::MIN;
pub const DATE_NOEND: i32 = i32::MAX;
pub const TIMESTAMP_NOBEGIN: i64 = i64::MIN;
pub const TIMESTAMP_NOEND: i64 = i64::MAX;

pub const DAYS_IN_MONTH: [[i32; 12]; 2] = [
    [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31],
    [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31],
];

pub fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

pub fn days_in_month(year: i32, month: i32) -> i32 {
    DAYS_IN_MONTH[is_leap(year) as usize][(month - 1).clamp(0, 11) as usize]
}

/// Julian day number of a (proleptic Gregorian) calendar date.
pub fn date2j(year: i32, month: i32, day: i32) -> i32 {
    let (mut y, mut m) = (year as i64, month as i64);
    if m > 2 {
        m += 1;
        y += 4800;
    } else {
        m += 13;
        y += 4799;
    }
    let century = y / 100;
    let mut julian = y * 365 - 32167;
    julian += y / 4 - century + century / 4;
    julian += 7834 * m / 256 + day as i64;
    julian as i32
}

/// Calendar date of a Julian day number (C unsigned arithmetic, as PostgreSQL).
pub fn j2date(jd: i32) -> (i32, i32, i32) {
    let mut julian = (jd as u32).wrapping_add(32044);
    let mut quad = julian / 146_097;
    let extra = (julian - quad * 146_097) * 4 + 3;
    julian = julian.wrapping_add(60 + quad * 3 + extra / 146_097);
    quad = julian / 1461;
    julian -= quad * 1461;
    let mut y = julian * 4 / 1461;
    julian = if y != 0 {
        (julian + 305) % 365
    } else {
        (julian + 306) % 366
    } + 123;
    y = y.wrapping_add(quad.wrapping_mul(4));
    let year = (y as i32).wrapping_sub(4800);
    let quad = julian * 2141 / 65536;
    let day = julian - 7834 * quad / 256;
    let month = (quad + 10) % 12 + 1;
    (year, month as i32, day as i32)
}

/// Day of the week of a Julian day, 0 = Sunday.
pub fn j2day(jd: i32) -> i32 {
    (jd as i64 + 1).rem_euclid(7) as i32
}

/// A timestamp split into calendar fields (no zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DateTime {
    pub year: i32,
    pub month: i32,
    pub day: i32,
    pub hour: i32,
    pub minute: i32,
    pub second: i32,
    pub micros: i64,
}

impl DateTime {
    /// The fields of a finite timestamp.
    pub fn from_timestamp(t: i64) -> DateTime {
        let date = t.div_euclid(USECS_PER_DAY);
        let time = t.rem_euclid(USECS_PER_DAY);
        let (year, month, day) = j2date((date + POSTGRES_EPOCH_JDATE as i64) as i32);
        DateTime {
            year,
            month,
            day,
            hour: (time / USECS_PER_HOUR) as i32,
            minute: (time / USECS_PER_MINUTE % 60) as i32,
            second: (time / USECS_PER_SEC % 60) as i32,
            micros: time % USECS_PER_SEC,
        }
    }

    /// The timestamp of these fields (`timestamp out of range` past the limits).
    pub fn to_timestamp(self) -> SqlResult<i64> {
        let days = date2j(self.year, self.month, self.day) as i64 - POSTGRES_EPOCH_JDATE as i64;
        let time = ((self.hour as i64 * 60 + self.minute as i64) * 60 + self.second as i64)
            * USECS_PER_SEC
            + self.micros;
        days.checked_mul(USECS_PER_DAY)
            .and_then(|d| d.checked_add(time))
            .filter(|t| is_valid_timestamp(*t))
            .ok_or_else(timestamp_out_of_range)
    }
}

pub fn is_valid_timestamp(t: i64) -> bool {
    (MIN_TIMESTAMP..END_TIMESTAMP).contains(&t)
}

pub fn is_valid_date(days: i64) -> bool {
    days >= -(POSTGRES_EPOCH_JDATE as i64) && days < DATE_END
}

pub fn timestamp_out_of_range() -> SqlError {
    SqlError::new(code::DATETIME_FIELD_OVERFLOW, "timestamp out of range")
}

pub fn date_out_of_range() -> SqlError {
    SqlError::new(code::DATETIME_FIELD_OVERFLOW, "date out of range")
}

pub fn interval_out_of_range() -> SqlError {
    SqlError::new(code::DATETIME_FIELD_OVERFLOW, "interval out of range")
}

/// Whether a timestamp is one of the infinities.
pub fn is_infinite(t: i64) -> bool {
    t == TIMESTAMP_NOBEGIN || t == TIMESTAMP_NOEND
}

/// The zone's offset (seconds east) at a UTC instant.
pub fn offset_east_at(zone: &SessionTimeZone, utc: i64) -> i64 {
    zone.offset_east_at(utc) as i64
}

/// The local wall-clock timestamp of a UTC instant in `zone` (infinities unchanged).
pub fn utc_to_local(zone: &SessionTimeZone, utc: i64) -> i64 {
    if is_infinite(utc) {
        return utc;
    }
    utc + offset_east_at(zone, utc) * USECS_PER_SEC
}

/// The UTC instant of a local wall-clock time in `zone`, resolved as PostgreSQL's
/// `DetermineTimeZoneOffset` does: a skipped or repeated local time takes the reading that
/// applied before the transition for a repeated time and after it for a skipped one.
pub fn local_to_utc(zone: &SessionTimeZone, local: i64) -> i64 {
    if is_infinite(local) {
        return local;
    }
    let day = USECS_PER_DAY;
    let before = offset_east_at(zone, local.saturating_sub(day)) * USECS_PER_SEC;
    let after = offset_east_at(zone, local.saturating_add(day)) * USECS_PER_SEC;
    if before == after {
        return local - before;
    }
    let before_time = local - before;
    let after_time = local - after;
    let before_fits = offset_east_at(zone, before_time) * USECS_PER_SEC == before;
    let after_fits = offset_east_at(zone, after_time) * USECS_PER_SEC == after;
    match (before_fits, after_fits) {
        (true, false) => before_time,
        (false, true) => after_time,
        _ if before_time > after_time => before_time,
        _ => after_time,
    }
}

/// The session-independent conversion from date to timestamp (midnight).
pub fn date_to_timestamp(days: i32) -> SqlResult<i64> {
    match days {
        DATE_NOBEGIN => Ok(TIMESTAMP_NOBEGIN),
        DATE_NOEND => Ok(TIMESTAMP_NOEND),
        d => {
            let t = d as i64 * USECS_PER_DAY;
            if is_valid_timestamp(t) {
                Ok(t)
            } else {
                Err(SqlError::new(
                    code::DATETIME_FIELD_OVERFLOW,
                    "date out of range for timestamp",
                ))
            }
        }
    }
}

/// The date of a timestamp (infinities map to date infinities).
pub fn timestamp_to_date(t: i64) -> SqlResult<i32> {
    match t {
        TIMESTAMP_NOBEGIN => Ok(DATE_NOBEGIN),
        TIMESTAMP_NOEND => Ok(DATE_NOEND),
        t => {
            let days = t.div_euclid(USECS_PER_DAY);
            if is_valid_date(days) {
                Ok(days as i32)
            } else {
                Err(date_out_of_range())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn julian_days_round_trip() {
        for jd in (0..2_000_000_000).step_by(7_777_777) {
            let (y, m, d) = j2date(jd);
            assert_eq!(date2j(y, m, d), jd);
        }
        assert_eq!(date2j(2000, 1, 1), POSTGRES_EPOCH_JDATE);
    }

    #[test]
    fn local_time_in_new_york_resolves_like_postgres() {
        let zone = SessionTimeZone::parse("America/New_York").unwrap();
        let local = DateTime {
            year: 2024,
            month: 7,
            day: 1,
            hour: 12,
            ..DateTime::default()
        }
        .to_timestamp()
        .unwrap();
        assert_eq!(local_to_utc(&zone, local), local + 4 * USECS_PER_HOUR);
        assert_eq!(utc_to_local(&zone, local + 4 * USECS_PER_HOUR), local);
        // 02:30 on 2024-03-10 does not exist; PostgreSQL reads it as 03:30 EDT.
        let skipped = DateTime {
            year: 2024,
            month: 3,
            day: 10,
            hour: 2,
            minute: 30,
            ..DateTime::default()
        }
        .to_timestamp()
        .unwrap();
        assert_eq!(local_to_utc(&zone, skipped), skipped + 5 * USECS_PER_HOUR);
    }
}
