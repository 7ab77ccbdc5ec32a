//! Time zones: the session's `TimeZone`, the zone names and abbreviations accepted inside
//! date/time input, and the offset rules that turn local times into instants and back.
//!
//! Zone rules come from the IANA database compiled into `chrono-tz`. PostgreSQL applies a
//! zone's POSIX rule for every year after the database's last listed transition; `chrono-tz`
//! lists transitions up to 2099 and then repeats the last offset, so for later years we look
//! the offset up in an earlier year with the same calendar (same leap-ness, same weekday of
//! January 1st), which is what the POSIX rule yields. Abbreviations (`EST`, `CEST`, `Z`) are
//! PostgreSQL's `Default` set with their current meanings, all as fixed offsets.
//!
//! Offsets here are seconds *east* of Greenwich (ISO sign) unless a name says `tz_west`.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use chrono::{DateTime, Offset, TimeZone};
use chrono_tz::{OffsetName, Tz, TZ_VARIANTS};

use super::calendar::{
    date2j, is_leap, j2date, j2day, Tm, POSTGRES_EPOCH_JDATE, SECS_PER_DAY, UNIX_EPOCH_JDATE,
    USECS_PER_SEC,
};
use super::error::{sqlstate, TypeError};
use super::timezone_posix::PosixZone;

/// The session's `TimeZone` setting, or a zone named inside date/time input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionTimeZone {
    /// An IANA zone, e.g. `America/New_York` or `UTC`.
    Named(Tz),
    /// A POSIX zone string (`UTC+3`, which is three hours *west*; `EST5EDT,M3.2.0,M11.1.0`),
    /// which is also what a number of hours (`SET TIME ZONE -7`) becomes.
    Posix { name: String, zone: PosixZone },
}

impl Default for SessionTimeZone {
    fn default() -> SessionTimeZone {
        SessionTimeZone::utc()
    }
}

impl fmt::Display for SessionTimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionTimeZone::Named(tz) => f.write_str(tz.name()),
            SessionTimeZone::Posix { name, .. } => f.write_str(name),
        }
    }
}

impl SessionTimeZone {
    pub fn utc() -> SessionTimeZone {
        SessionTimeZone::Named(Tz::UTC)
    }

    /// Reads a `TimeZone` setting: an IANA name (any case), a POSIX zone string, or a number
    /// of hours east of Greenwich (`-7`, `5.5`), as `SET TIME ZONE` accepts them.
    pub fn parse(setting: &str) -> Result<SessionTimeZone, TypeError> {
        let trimmed = setting.trim();
        if let Some(hours) = parse_hours(trimmed) {
            let name = fixed_zone_name((hours * 3600.0).round() as i32);
            if let Some(zone) = PosixZone::parse(&name) {
                return Ok(SessionTimeZone::Posix { name, zone });
            }
        }
        lookup_zone(trimmed).ok_or_else(|| {
            TypeError::new(
                sqlstate::INVALID_PARAMETER_VALUE,
                format!("invalid value for parameter \"TimeZone\": \"{setting}\""),
            )
        })
    }

    /// The zone's offset at an instant (microseconds since 2000-01-01 UTC).
    pub(crate) fn offset_east_at(&self, instant: i64) -> i32 {
        self.offset_at_unix(instant.div_euclid(USECS_PER_SEC) + unix_shift_secs())
    }

    fn offset_at_unix(&self, unix_secs: i64) -> i32 {
        match self {
            SessionTimeZone::Named(tz) => named_offset_at_unix(*tz, unix_secs).0,
            SessionTimeZone::Posix { zone, .. } => zone.offset_at_unix(unix_secs).0,
        }
    }

    /// The zone abbreviation in force at an instant (`EST`, `CEST`), when the zone has one.
    pub(crate) fn abbreviation_at(&self, instant: i64) -> Option<String> {
        let secs = instant.div_euclid(USECS_PER_SEC) + unix_shift_secs();
        match self {
            SessionTimeZone::Named(tz) => named_offset_at_unix(*tz, secs).1,
            SessionTimeZone::Posix { zone, .. } => Some(zone.offset_at_unix(secs).1.to_string()),
        }
    }

    /// The offset that applies to a local time in this zone, in PostgreSQL's sign convention
    /// (seconds west), resolved as PostgreSQL's `DetermineTimeZoneOffset` does: a local time
    /// that is skipped or repeated by a transition takes the later of its two readings.
    pub(crate) fn tz_west_for_local(&self, tm: &Tm) -> i32 {
        if let SessionTimeZone::Posix { zone, .. } = self {
            if zone.dst.is_none() {
                return -zone.std_offset_east;
            }
        }
        let days = date2j(tm.year, tm.mon, tm.mday) as i64 - UNIX_EPOCH_JDATE as i64;
        let local =
            days * SECS_PER_DAY + (tm.hour as i64 * 60 + tm.min as i64) * 60 + tm.sec as i64;
        // The offsets a day before and after stand for PostgreSQL's "before" and "after" the
        // nearest transition (it too assumes transitions are more than two days apart).
        let before = self.offset_at_unix(local - SECS_PER_DAY) as i64;
        let after = self.offset_at_unix(local + SECS_PER_DAY) as i64;
        if before == after {
            return -(before as i32);
        }
        let before_time = local - before;
        let after_time = local - after;
        let before_fits = self.offset_at_unix(before_time) as i64 == before;
        let after_fits = self.offset_at_unix(after_time) as i64 == after;
        let chosen = match (before_fits, after_fits) {
            (true, false) => before,
            (false, true) => after,
            _ if before_time > after_time => before,
            _ => after,
        };
        -(chosen as i32)
    }

    /// The zone's offset if it has only ever had one (`UTC`, `Etc/GMT+5`, `UTC+3`), which is
    /// when PostgreSQL accepts the zone on a time of day without a date.
    pub(crate) fn fixed_offset_east(&self) -> Option<i32> {
        match self {
            SessionTimeZone::Posix { zone, .. } => {
                zone.dst.is_none().then_some(zone.std_offset_east)
            }
            SessionTimeZone::Named(tz) => {
                // Probe from before the railway-time era (local mean time) to today.
                const PROBES: [i64; 8] = [
                    -5_364_662_400, // 1800-01-01
                    -2_208_988_800, // 1900-01-01
                    -631_152_000,   // 1950-01-01
                    0,              // 1970-01-01
                    946_684_800,    // 2000-01-01
                    962_409_600,    // 2000-07-01
                    1_704_067_200,  // 2024-01-01
                    1_719_792_000,  // 2024-07-01
                ];
                let first = named_offset_at_unix(*tz, PROBES[0]).0;
                PROBES[1..]
                    .iter()
                    .all(|&t| named_offset_at_unix(*tz, t).0 == first)
                    .then_some(first)
            }
        }
    }
}

/// Seconds from 1970-01-01 to 2000-01-01.
fn unix_shift_secs() -> i64 {
    (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) as i64 * SECS_PER_DAY
}

/// First and last years whose transitions `chrono-tz` lists for every zone.
const TABLE_LAST_RELIABLE_YEAR: i32 = 2097;
const TABLE_SUBSTITUTE_FIRST_YEAR: i32 = 2070;

/// Offset (seconds east) and abbreviation of a named zone at a Unix time.
fn named_offset_at_unix(tz: Tz, unix_secs: i64) -> (i32, Option<String>) {
    let days = unix_secs.div_euclid(SECS_PER_DAY);
    let secs_of_day = unix_secs.rem_euclid(SECS_PER_DAY);
    let jd = days + UNIX_EPOCH_JDATE as i64;
    let mut probe_days = days;
    if jd > date2j(TABLE_LAST_RELIABLE_YEAR, 12, 31) as i64 && jd <= i32::MAX as i64 {
        let (year, month, day) = j2date(jd as i32);
        probe_days = date2j(substitute_year(year), month, day) as i64 - UNIX_EPOCH_JDATE as i64;
    }
    let probe = probe_days * SECS_PER_DAY + secs_of_day;
    match DateTime::from_timestamp(probe, 0) {
        Some(utc) => {
            let offset = tz.offset_from_utc_datetime(&utc.naive_utc());
            (
                offset.fix().local_minus_utc(),
                offset.abbreviation().map(str::to_string),
            )
        }
        None => (0, None),
    }
}

/// A year inside the zone tables with the same calendar as `year`: same leap-ness and the same
/// weekday on January 1st, so that "second Sunday of March" falls on the same date.
fn substitute_year(year: i32) -> i32 {
    let weekday = j2day(date2j(year, 1, 1));
    (TABLE_SUBSTITUTE_FIRST_YEAR..=TABLE_LAST_RELIABLE_YEAR)
        .find(|&y| is_leap(y) == is_leap(year) && j2day(date2j(y, 1, 1)) == weekday)
        .unwrap_or(TABLE_LAST_RELIABLE_YEAR)
}

/// Finds a zone by name as PostgreSQL's `pg_tzset` does: IANA names in any case, then POSIX
/// zone strings (`UTC+3`, `EST5EDT`).
pub(crate) fn lookup_zone(name: &str) -> Option<SessionTimeZone> {
    static BY_LOWER_NAME: OnceLock<HashMap<String, Tz>> = OnceLock::new();
    let zones = BY_LOWER_NAME.get_or_init(|| {
        TZ_VARIANTS
            .iter()
            .map(|tz| (tz.name().to_ascii_lowercase(), *tz))
            .collect()
    });
    if let Some(tz) = zones.get(&name.to_ascii_lowercase()) {
        return Some(SessionTimeZone::Named(*tz));
    }
    // PostgreSQL upper-cases POSIX strings before parsing them.
    let upper = name.to_ascii_uppercase();
    PosixZone::parse(&upper).map(|zone| SessionTimeZone::Posix { name: upper, zone })
}

/// A plain number of hours (`-7`, `+5.5`).
fn parse_hours(text: &str) -> Option<f64> {
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let hours: f64 = text.parse().ok()?;
    (hours.abs() < 168.0).then_some(hours)
}

/// PostgreSQL's name for a zone set by an offset (`pg_tzset_offset`): `<-07>+07` for seven
/// hours west, a POSIX string that reads back as the same zone.
fn fixed_zone_name(offset_east: i32) -> String {
    let abs = offset_east.unsigned_abs();
    let digits = if abs.is_multiple_of(3600) {
        format!("{:02}", abs / 3600)
    } else if abs.is_multiple_of(60) {
        format!("{:02}:{:02}", abs / 3600, abs % 3600 / 60)
    } else {
        format!("{:02}:{:02}:{:02}", abs / 3600, abs % 3600 / 60, abs % 60)
    };
    if offset_east < 0 {
        format!("<-{digits}>+{digits}")
    } else {
        format!("<+{digits}>-{digits}")
    }
}

/// A time zone abbreviation from PostgreSQL's `Default` set: its offset (seconds east) and
/// whether it names daylight-saving time. `lower` must be lower-case.
pub(crate) fn abbreviation(lower: &str) -> Option<(i32, bool)> {
    ABBREVIATIONS
        .binary_search_by(|(name, _, _)| (*name).cmp(lower))
        .ok()
        .map(|i| (ABBREVIATIONS[i].1, ABBREVIATIONS[i].2))
}

/// PostgreSQL 16's `Default` abbreviations (from `pg_timezone_abbrevs`), sorted by name.
#[rustfmt::skip]
const ABBREVIATIONS: &[(&str, i32, bool)] = &[
    ("acdt", 37800, true), ("acsst", 37800, true), ("acst", 34200, false), ("act", -18000, false),
    ("acwst", 31500, false), ("adt", -10800, true), ("aedt", 39600, true), ("aesst", 39600, true),
    ("aest", 36000, false), ("aft", 16200, false), ("akdt", -28800, true), ("akst", -32400, false),
    ("almst", 25200, true), ("almt", 21600, false), ("amst", 14400, false), ("amt", -14400, false),
    ("anast", 43200, false), ("anat", 43200, false), ("arst", -10800, false), ("art", -10800, false),
    ("ast", -14400, false), ("awsst", 32400, true), ("awst", 28800, false), ("azost", 0, true),
    ("azot", -3600, false), ("azst", 14400, false), ("azt", 14400, false), ("bdst", 7200, true),
    ("bdt", 21600, false), ("bnt", 28800, false), ("bort", 28800, false), ("bot", -14400, false),
    ("bra", -10800, false), ("brst", -7200, true), ("brt", -10800, false), ("bst", 3600, true),
    ("btt", 21600, false), ("cadt", 37800, true), ("cast", 34200, false), ("cct", 28800, false),
    ("cdt", -18000, true), ("cest", 7200, true), ("cet", 3600, false), ("cetdst", 7200, true),
    ("chadt", 49500, true), ("chast", 45900, false), ("chut", 36000, false), ("ckt", -36000, false),
    ("clst", -10800, true), ("clt", -10800, true), ("cot", -18000, false), ("cst", -21600, false),
    ("cxt", 25200, false), ("davt", 25200, false), ("ddut", 36000, false), ("easst", -18000, true),
    ("east", -18000, true), ("eat", 10800, false), ("edt", -14400, true), ("eest", 10800, true),
    ("eet", 7200, false), ("eetdst", 10800, true), ("egst", 0, true), ("egt", -3600, false),
    ("est", -18000, false), ("fet", 10800, false), ("fjst", 46800, true), ("fjt", 43200, false),
    ("fkst", -10800, false), ("fkt", -10800, false), ("fnst", -3600, true), ("fnt", -7200, false),
    ("galt", -21600, false), ("gamt", -32400, false), ("gest", 14400, false), ("get", 14400, false),
    ("gft", -10800, false), ("gilt", 43200, false), ("gmt", 0, false), ("gyt", -14400, false),
    ("hkt", 28800, false), ("hst", -36000, false), ("ict", 25200, false), ("idt", 10800, true),
    ("iot", 21600, false), ("irkst", 28800, false), ("irkt", 28800, false), ("irt", 12600, false),
    ("ist", 7200, false), ("jayt", 32400, false), ("jst", 32400, false), ("kdt", 36000, true),
    ("kgst", 21600, true), ("kgt", 21600, false), ("kost", 39600, false), ("krast", 25200, false),
    ("krat", 25200, false), ("kst", 32400, false), ("lhdt", 39600, true), ("lhst", 37800, false),
    ("ligt", 36000, false), ("lint", 50400, false), ("lkt", 19800, false), ("magst", 39600, false),
    ("magt", 39600, false), ("mart", -34200, false), ("mawt", 18000, false), ("mdt", -21600, true),
    ("mest", 7200, true), ("mesz", 7200, true), ("met", 3600, false), ("metdst", 7200, true),
    ("mez", 3600, false), ("mht", 43200, false), ("mmt", 23400, false), ("mpt", 36000, false),
    ("msd", 14400, true), ("msk", 10800, false), ("mst", -25200, false), ("must", 18000, true),
    ("mut", 14400, false), ("mvt", 18000, false), ("myt", 28800, false), ("ndt", -9000, true),
    ("nft", -12600, false), ("novst", 25200, false), ("novt", 25200, false), ("npt", 20700, false),
    ("nst", -12600, false), ("nut", -39600, false), ("nzdt", 46800, true), ("nzst", 43200, false),
    ("nzt", 43200, false), ("omsst", 21600, false), ("omst", 21600, false), ("pdt", -25200, true),
    ("pet", -18000, false), ("petst", 43200, false), ("pett", 43200, false), ("pgt", 36000, false),
    ("pht", 28800, false), ("pkst", 21600, true), ("pkt", 18000, false), ("pmdt", -7200, true),
    ("pmst", -10800, false), ("pont", 39600, false), ("pst", -28800, false), ("pwt", 32400, false),
    ("pyst", -10800, true), ("pyt", -10800, false), ("ret", 14400, false), ("sadt", 37800, true),
    ("sast", 7200, false), ("sct", 14400, false), ("sgt", 28800, false), ("taht", -36000, false),
    ("tft", 18000, false), ("tjt", 18000, false), ("tkt", 46800, false), ("tmt", 18000, false),
    ("tot", 46800, false), ("trut", 36000, false), ("tvt", 43200, false), ("uct", 0, false),
    ("ulast", 32400, true), ("ulat", 28800, false), ("ut", 0, false), ("utc", 0, false),
    ("uyst", -7200, true), ("uyt", -10800, false), ("uzst", 21600, true), ("uzt", 18000, false),
    ("vet", -14400, false), ("vlast", 36000, false), ("vlat", 36000, false), ("volt", 10800, false),
    ("vut", 39600, false), ("wadt", 28800, true), ("wakt", 43200, false), ("wast", 25200, false),
    ("wat", 3600, false), ("wdt", 32400, true), ("wet", 0, false), ("wetdst", 3600, true),
    ("wft", 43200, false), ("wgst", -7200, true), ("wgt", -10800, false), ("xjt", 21600, false),
    ("yakst", 32400, false), ("yakt", 32400, false), ("yapt", 36000, false), ("yekst", 21600, true),
    ("yekt", 18000, false), ("z", 0, false), ("zulu", 0, false),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn tm(year: i32, mon: i32, mday: i32, hour: i32, min: i32) -> Tm {
        Tm {
            year,
            mon,
            mday,
            hour,
            min,
            sec: 0,
            yday: 0,
        }
    }

    fn new_york() -> SessionTimeZone {
        SessionTimeZone::parse("america/new_york").unwrap()
    }

    #[test]
    fn abbreviation_table_is_sorted_for_binary_search() {
        assert!(ABBREVIATIONS.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(abbreviation("est"), Some((-18000, false)));
        assert_eq!(abbreviation("cest"), Some((7200, true)));
        assert_eq!(abbreviation("xyz"), None);
    }

    #[test]
    fn local_times_in_transitions_take_the_later_reading() {
        let ny = new_york();
        // Plain winter and summer times.
        assert_eq!(ny.tz_west_for_local(&tm(2024, 1, 15, 12, 0)), 5 * 3600);
        assert_eq!(ny.tz_west_for_local(&tm(2024, 7, 15, 12, 0)), 4 * 3600);
        // 02:30 does not exist on 2024-03-10: read as EST, i.e. 03:30 EDT.
        assert_eq!(ny.tz_west_for_local(&tm(2024, 3, 10, 2, 30)), 5 * 3600);
        // 01:30 happens twice on 2024-11-03: PostgreSQL takes the later, EST.
        assert_eq!(ny.tz_west_for_local(&tm(2024, 11, 3, 1, 30)), 5 * 3600);
    }

    #[test]
    fn daylight_saving_continues_past_the_zone_tables() {
        let ny = new_york();
        assert_eq!(ny.tz_west_for_local(&tm(2150, 7, 1, 12, 0)), 4 * 3600);
        assert_eq!(ny.tz_west_for_local(&tm(2150, 1, 1, 12, 0)), 5 * 3600);
        assert_eq!(ny.tz_west_for_local(&tm(200000, 7, 1, 12, 0)), 4 * 3600);
    }

    #[test]
    fn settings_accept_names_posix_strings_and_hours() {
        assert_eq!(
            SessionTimeZone::parse("UTC").unwrap().fixed_offset_east(),
            Some(0)
        );
        assert_eq!(
            SessionTimeZone::parse("Etc/GMT+5")
                .unwrap()
                .fixed_offset_east(),
            Some(-18000)
        );
        assert_eq!(
            SessionTimeZone::parse("UTC+3").unwrap().fixed_offset_east(),
            Some(-10800)
        );
        assert_eq!(
            SessionTimeZone::parse("-7").unwrap().fixed_offset_east(),
            Some(-25200)
        );
        let india = SessionTimeZone::parse("5.5").unwrap();
        assert_eq!(india.fixed_offset_east(), Some(19800));
        assert_eq!(india.to_string(), "<+05:30>-05:30");
        assert_eq!(SessionTimeZone::parse(&india.to_string()).unwrap(), india);
        let west = SessionTimeZone::parse("-7").unwrap();
        assert_eq!(west.to_string(), "<-07>+07");
        assert_eq!(new_york().fixed_offset_east(), None);
        let err = SessionTimeZone::parse("Mars/Olympus").unwrap_err();
        assert_eq!(err.sqlstate, "22023");
    }
}
