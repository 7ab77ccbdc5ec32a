//! Calendar arithmetic shared by the date/time types: Julian day numbers, broken-down times,
//! and PostgreSQL's range limits, ported from `datetime.c` and `timestamp.c`.
//!
//! Conventions follow PostgreSQL: years are astronomical (1 BC is year 0), days are counted
//! from 2000-01-01, times in microseconds, and a broken-down time ([`Tm`]) carries no zone.
//! Time zone displacements passed around here are in PostgreSQL's sign convention — seconds
//! *west* of Greenwich — and are named `tz_west` so that nobody mistakes them for ISO offsets.

pub(crate) const POSTGRES_EPOCH_JDATE: i32 = 2_451_545;
pub(crate) const UNIX_EPOCH_JDATE: i32 = 2_440_588;

pub(crate) const SECS_PER_DAY: i64 = 86_400;
pub(crate) const SECS_PER_MINUTE: i32 = 60;
pub(crate) const MINS_PER_HOUR: i32 = 60;
pub(crate) const HOURS_PER_DAY: i32 = 24;
pub(crate) const MONTHS_PER_YEAR: i32 = 12;
pub(crate) const DAYS_PER_MONTH: i32 = 30;
pub(crate) const USECS_PER_SEC: i64 = 1_000_000;
pub(crate) const USECS_PER_MINUTE: i64 = 60 * USECS_PER_SEC;
pub(crate) const USECS_PER_HOUR: i64 = 60 * USECS_PER_MINUTE;
pub(crate) const USECS_PER_DAY: i64 = 24 * USECS_PER_HOUR;

/// Earliest valid Julian date: 4714-11-24 BC.
const JULIAN_MINYEAR: i32 = -4713;
const JULIAN_MINMONTH: i32 = 11;
/// The Julian-day routines work up to 5874898-06-03.
const JULIAN_MAXYEAR: i32 = 5_874_898;
const JULIAN_MAXMONTH: i32 = 6;

/// First Julian day past the `date` range (5874898-01-01).
const DATE_END_JULIAN: i32 = 2_147_483_494;
/// First timestamp past the range: 294277-01-01 00:00:00.
pub(crate) const END_TIMESTAMP: i64 = 9_223_371_331_200_000_000;
/// Earliest timestamp: 4714-11-24 00:00:00 BC.
pub(crate) const MIN_TIMESTAMP: i64 = -211_813_488_000_000_000;

/// Largest time zone displacement PostgreSQL accepts, in hours.
pub(crate) const MAX_TZDISP_HOUR: i32 = 15;

/// `date` infinities, as `storage` encodes them.
pub(crate) const DATE_NOBEGIN: i32 = i32::MIN;
pub(crate) const DATE_NOEND: i32 = i32::MAX;
/// `timestamp` infinities.
pub(crate) const TIMESTAMP_NOBEGIN: i64 = i64::MIN;
pub(crate) const TIMESTAMP_NOEND: i64 = i64::MAX;

pub(crate) const DAY_TAB: [[i32; 12]; 2] = [
    [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31],
    [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31],
];

pub(crate) const MONTH_ABBREVS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
pub(crate) const DAY_ABBREVS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// A broken-down date and time of day, without zone. Fields are `i32` as in PostgreSQL's
/// `struct pg_tm`; the decoders check their ranges before anything is computed from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Tm {
    pub year: i32,
    pub mon: i32,
    pub mday: i32,
    pub hour: i32,
    pub min: i32,
    pub sec: i32,
    /// Day of the year, only meaningful while decoding `yyyy.ddd`.
    pub yday: i32,
}

pub(crate) fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// PostgreSQL's `IS_VALID_JULIAN`: whether the Julian-day routines can handle the date.
pub(crate) fn is_valid_julian(year: i32, month: i32) -> bool {
    (year > JULIAN_MINYEAR || (year == JULIAN_MINYEAR && month >= JULIAN_MINMONTH))
        && (year < JULIAN_MAXYEAR || (year == JULIAN_MAXYEAR && month < JULIAN_MAXMONTH))
}

/// Whether a day count (days since 2000-01-01) is inside `date`'s finite range.
pub(crate) fn is_valid_date(days: i64) -> bool {
    days >= -(POSTGRES_EPOCH_JDATE as i64)
        && days < (DATE_END_JULIAN as i64 - POSTGRES_EPOCH_JDATE as i64)
}

/// Whether a timestamp is inside the finite range.
pub(crate) fn is_valid_timestamp(t: i64) -> bool {
    (MIN_TIMESTAMP..END_TIMESTAMP).contains(&t)
}

/// Julian day number of a (proleptic Gregorian) calendar date.
pub(crate) fn date2j(year: i32, month: i32, day: i32) -> i32 {
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

/// Calendar date of a Julian day number (valid for every non-negative day number). Uses C's
/// unsigned 32-bit arithmetic, as PostgreSQL does, so no input can make it panic.
pub(crate) fn j2date(jd: i32) -> (i32, i32, i32) {
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
pub(crate) fn j2day(jd: i32) -> i32 {
    (jd as i64 + 1).rem_euclid(7) as i32
}

/// Microseconds since midnight of a time of day.
pub(crate) fn time2t(hour: i32, min: i32, sec: i32, fsec: i64) -> i64 {
    ((hour as i64 * MINS_PER_HOUR as i64 + min as i64) * SECS_PER_MINUTE as i64 + sec as i64)
        * USECS_PER_SEC
        + fsec
}

/// Splits microseconds since midnight into hour, minute, second and microseconds.
pub(crate) fn dt2time(time: i64) -> (i32, i32, i32, i64) {
    let hour = time / USECS_PER_HOUR;
    let rest = time - hour * USECS_PER_HOUR;
    let min = rest / USECS_PER_MINUTE;
    let rest = rest - min * USECS_PER_MINUTE;
    let sec = rest / USECS_PER_SEC;
    let fsec = rest - sec * USECS_PER_SEC;
    (hour as i32, min as i32, sec as i32, fsec)
}

/// PostgreSQL's `tm2timestamp`: a broken-down time (local to `tz_west` if given) to a
/// timestamp, or `None` when out of range.
pub(crate) fn tm2timestamp(tm: &Tm, fsec: i64, tz_west: Option<i32>) -> Option<i64> {
    if !is_valid_julian(tm.year, tm.mon) {
        return None;
    }
    let date = date2j(tm.year, tm.mon, tm.mday) as i64 - POSTGRES_EPOCH_JDATE as i64;
    let time = time2t(tm.hour, tm.min, tm.sec, fsec);
    let mut result = date.checked_mul(USECS_PER_DAY)?.checked_add(time)?;
    if let Some(tz) = tz_west {
        result = result.checked_add(tz as i64 * USECS_PER_SEC)?;
    }
    is_valid_timestamp(result).then_some(result)
}

/// PostgreSQL's `timestamp2tm` without zone rotation: a timestamp to its broken-down fields and
/// microseconds, or `None` when the date would precede Julian day 0.
pub(crate) fn timestamp2tm(t: i64) -> Option<(Tm, i64)> {
    let mut date = t / USECS_PER_DAY;
    let mut time = t - date * USECS_PER_DAY;
    if time < 0 {
        time += USECS_PER_DAY;
        date -= 1;
    }
    let date = date + POSTGRES_EPOCH_JDATE as i64;
    if date < 0 || date > i32::MAX as i64 {
        return None;
    }
    let (year, mon, mday) = j2date(date as i32);
    let (hour, min, sec, fsec) = dt2time(time);
    Some((
        Tm {
            year,
            mon,
            mday,
            hour,
            min,
            sec,
            yday: 0,
        },
        fsec,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn julian_days_round_trip_across_the_range() {
        for jd in (0..2_200_000_000i64).step_by(9_999_991).map(|j| j as i32) {
            let (y, m, d) = j2date(jd);
            assert_eq!(date2j(y, m, d), jd, "{y}-{m}-{d}");
        }
        assert_eq!(date2j(2000, 1, 1), POSTGRES_EPOCH_JDATE);
        assert_eq!(date2j(1970, 1, 1), UNIX_EPOCH_JDATE);
        assert_eq!(j2date(0), (-4713, 11, 24));
    }

    #[test]
    fn weekdays_and_leap_years() {
        assert_eq!(j2day(date2j(2024, 3, 1)), 5); // a Friday
        assert!(is_leap(2000) && is_leap(2024) && !is_leap(1900) && is_leap(0));
        assert_eq!(DAY_TAB[is_leap(2023) as usize][1], 28);
    }

    #[test]
    fn timestamp_limits_match_postgres() {
        let first = Tm {
            year: -4713,
            mon: 11,
            mday: 24,
            ..Tm::default()
        };
        assert_eq!(tm2timestamp(&first, 0, None), Some(MIN_TIMESTAMP));
        let end = Tm {
            year: 294277,
            mon: 1,
            mday: 1,
            ..Tm::default()
        };
        assert_eq!(tm2timestamp(&end, 0, None), None);
        let (tm, fsec) = timestamp2tm(END_TIMESTAMP - 1).unwrap();
        assert_eq!(
            (tm.year, tm.mon, tm.mday, tm.sec, fsec),
            (294276, 12, 31, 59, 999_999)
        );
    }
}
