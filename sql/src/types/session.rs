//! The session settings that change how values are read and printed: PostgreSQL's `TimeZone`,
//! `DateStyle`, `IntervalStyle` and `extra_float_digits`, plus the transaction start time that
//! `'now'`, `'today'`, `'tomorrow'` and `'yesterday'` refer to.
//!
//! The server keeps one [`SessionFormat`] per session and passes it by reference; the type
//! functions only read it.

use std::time::{SystemTime, UNIX_EPOCH};

use super::calendar::{POSTGRES_EPOCH_JDATE, SECS_PER_DAY, UNIX_EPOCH_JDATE, USECS_PER_SEC};
use super::timezone::SessionTimeZone;

/// How dates and timestamps are printed (the first part of `DateStyle`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateOutputStyle {
    /// `2024-03-01 12:34:56+00` — PostgreSQL's default.
    #[default]
    Iso,
    /// `03/01/2024 12:34:56 UTC`.
    Sql,
    /// `Fri Mar 01 12:34:56 2024 UTC`.
    Postgres,
    /// `01.03.2024 12:34:56 UTC`.
    German,
}

/// How ambiguous day/month/year fields are read (the second part of `DateStyle`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateOrder {
    /// Month before day, PostgreSQL's default.
    #[default]
    Mdy,
    Dmy,
    Ymd,
}

/// `DateStyle`: output style and field order, `ISO, MDY` by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DateStyle {
    pub output: DateOutputStyle,
    pub order: DateOrder,
}

/// `IntervalStyle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IntervalStyle {
    /// `1 year 2 mons 3 days 04:05:06.5` — PostgreSQL's default.
    #[default]
    Postgres,
    /// `@ 1 year 2 mons 3 days 4 hours 5 mins 6.5 secs`.
    PostgresVerbose,
    /// `+1-2 +3 +4:05:06.5`.
    SqlStandard,
    /// `P1Y2M3DT4H5M6.5S`.
    Iso8601,
}

/// Everything in a session that the text forms of values depend on.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionFormat {
    /// `TimeZone`: the zone `timestamptz` is printed in and unzoned input is read in.
    pub time_zone: SessionTimeZone,
    pub date_style: DateStyle,
    pub interval_style: IntervalStyle,
    /// `extra_float_digits`: above 0 prints floats in the shortest form that reads back exactly
    /// (PostgreSQL 12+); 0 or below prints `15 + n` (`float8`) or `6 + n` (`float4`) digits.
    pub extra_float_digits: i32,
    /// The transaction start (microseconds since 2000-01-01 UTC) that `'now'` and `'today'`
    /// mean; the system clock when `None`.
    pub transaction_start: Option<i64>,
}

impl Default for SessionFormat {
    fn default() -> SessionFormat {
        SessionFormat {
            time_zone: SessionTimeZone::utc(),
            date_style: DateStyle::default(),
            interval_style: IntervalStyle::default(),
            extra_float_digits: 1,
            transaction_start: None,
        }
    }
}

impl SessionFormat {
    /// The instant `'now'` stands for, in microseconds since 2000-01-01 UTC.
    pub fn now_micros(&self) -> i64 {
        self.transaction_start.unwrap_or_else(system_now_micros)
    }
}

fn system_now_micros() -> i64 {
    let since_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0);
    let epoch_shift =
        (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) as i64 * SECS_PER_DAY * USECS_PER_SEC;
    since_unix - epoch_shift
}
