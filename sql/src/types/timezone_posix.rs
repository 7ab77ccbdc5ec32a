//! POSIX time zone strings (`EST5EDT,M3.2.0,M11.1.0`, `UTC+3`, `<+0530>-5:30`), which
//! PostgreSQL's `pg_tzset` accepts wherever a zone name is allowed, parsed as its `tzparse`
//! does (including its leniency: the standard-time name may be empty or any run of characters
//! other than digits, `,`, `+` and `-`).
//!
//! Offsets are written with POSIX's sign (positive west) and stored here as seconds *east*.
//! A zone with a daylight-saving name but no rules gets PostgreSQL's fallback rules, those of
//! the United States since 2007 (`M3.2.0,M11.1.0`), applied to every year.

use super::calendar::{date2j, is_leap, j2date, j2day, UNIX_EPOCH_JDATE};

/// Largest hour count in a POSIX offset (a week, as in `tzparse`).
const MAX_OFFSET_HOURS: i64 = 24 * 7 - 1;

/// A parsed POSIX zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PosixZone {
    pub std_name: String,
    pub std_offset_east: i32,
    pub dst: Option<DaylightSaving>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaylightSaving {
    pub name: String,
    pub offset_east: i32,
    start: Rule,
    end: Rule,
}

/// When a transition happens, in local time of the offset in force before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rule {
    day: RuleDay,
    /// Seconds after local midnight (may be negative or exceed a day).
    time: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RuleDay {
    /// `Jn`: day 1..=365, February 29th never counted.
    JulianNoLeap(i64),
    /// `n`: day 0..=365, February 29th counted.
    ZeroBased(i64),
    /// `Mm.w.d`: weekday `d` (0 = Sunday) of week `w` (5 = last) of month `m`.
    MonthWeekDay { month: i64, week: i64, weekday: i64 },
}

/// PostgreSQL's fallback daylight-saving rules (`TZDEFRULESTRING`).
const DEFAULT_RULES: &str = ",M3.2.0,M11.1.0";

impl PosixZone {
    /// Parses a POSIX zone string, or `None` where PostgreSQL's `tzparse` would fail.
    pub fn parse(text: &str) -> Option<PosixZone> {
        let mut s = Cursor {
            s: text.as_bytes(),
            i: 0,
        };
        let std_name = s.zone_name()?;
        if s.at_end() {
            return None;
        }
        let std_offset_east = -s.offset()?;
        if s.at_end() {
            return Some(PosixZone {
                std_name,
                std_offset_east,
                dst: None,
            });
        }
        let dst_name = s.zone_name()?;
        if dst_name.is_empty() {
            return None;
        }
        let dst_offset_east = match s.peek() {
            Some(b',' | b';') | None => std_offset_east + 3600,
            Some(_) => -s.offset()?,
        };
        let mut rules = if s.at_end() {
            Cursor {
                s: DEFAULT_RULES.as_bytes(),
                i: 0,
            }
        } else {
            Cursor {
                s: &s.s[s.i..],
                i: 0,
            }
        };
        if !matches!(rules.next(), Some(b',' | b';')) {
            return None;
        }
        let start = rules.rule()?;
        if rules.next() != Some(b',') {
            return None;
        }
        let end = rules.rule()?;
        if !rules.at_end() {
            return None;
        }
        Some(PosixZone {
            std_name,
            std_offset_east,
            dst: Some(DaylightSaving {
                name: dst_name,
                offset_east: dst_offset_east,
                start,
                end,
            }),
        })
    }

    /// Offset (seconds east) and abbreviation in force at a Unix time.
    pub(crate) fn offset_at_unix(&self, unix_secs: i64) -> (i32, &str) {
        let Some(dst) = &self.dst else {
            return (self.std_offset_east, &self.std_name);
        };
        let jd = unix_secs.div_euclid(86_400) + UNIX_EPOCH_JDATE as i64;
        let year = if (0..=i32::MAX as i64).contains(&jd) {
            j2date(jd as i32).0
        } else {
            1970
        };
        let start = dst.start.unix_time(year) - self.std_offset_east as i64;
        let end = dst.end.unix_time(year) - dst.offset_east as i64;
        let in_dst = if start < end {
            (start..end).contains(&unix_secs)
        } else {
            !(end..start).contains(&unix_secs)
        };
        if in_dst {
            (dst.offset_east, &dst.name)
        } else {
            (self.std_offset_east, &self.std_name)
        }
    }
}

impl Rule {
    /// The transition in `year` as local seconds since 1970-01-01.
    fn unix_time(&self, year: i32) -> i64 {
        let jan1 = date2j(year, 1, 1) as i64;
        let day = match self.day {
            RuleDay::JulianNoLeap(n) => {
                let leap_shift = (is_leap(year) && n >= 60) as i64;
                jan1 + n - 1 + leap_shift
            }
            RuleDay::ZeroBased(n) => jan1 + n,
            RuleDay::MonthWeekDay {
                month,
                week,
                weekday,
            } => {
                let first = date2j(year, month as i32, 1) as i64;
                let first_weekday = j2day(first as i32) as i64;
                let mut day = first + (weekday - first_weekday).rem_euclid(7) + (week - 1) * 7;
                let days_in_month =
                    super::calendar::DAY_TAB[is_leap(year) as usize][(month - 1) as usize] as i64;
                while day >= first + days_in_month {
                    day -= 7;
                }
                day
            }
        };
        (day - UNIX_EPOCH_JDATE as i64) * 86_400 + self.time
    }
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.i += 1;
        Some(b)
    }

    fn at_end(&self) -> bool {
        self.i >= self.s.len()
    }

    /// `<...>` or a run of anything but digits, `,`, `-`, `+` (PostgreSQL's `getzname`).
    fn zone_name(&mut self) -> Option<String> {
        let start = self.i;
        if self.peek() == Some(b'<') {
            self.i += 1;
            let inner = self.i;
            while self.peek().is_some_and(|b| b != b'>') {
                self.i += 1;
            }
            if self.next() != Some(b'>') {
                return None;
            }
            return String::from_utf8(self.s[inner..self.i - 1].to_vec()).ok();
        }
        while self
            .peek()
            .is_some_and(|b| !(b.is_ascii_digit() || matches!(b, b',' | b'-' | b'+')))
        {
            self.i += 1;
        }
        String::from_utf8(self.s[start..self.i].to_vec()).ok()
    }

    /// `[+-]hh[:mm[:ss]]` in seconds, POSIX sign.
    fn offset(&mut self) -> Option<i32> {
        let negative = match self.peek() {
            Some(b'-') => {
                self.i += 1;
                true
            }
            Some(b'+') => {
                self.i += 1;
                false
            }
            _ => false,
        };
        let secs = self.seconds()?;
        Some(if negative { -secs } else { secs } as i32)
    }

    fn seconds(&mut self) -> Option<i64> {
        let mut secs = self.number(MAX_OFFSET_HOURS)? * 3600;
        if self.peek() == Some(b':') {
            self.i += 1;
            secs += self.number(59)? * 60;
            if self.peek() == Some(b':') {
                self.i += 1;
                secs += self.number(60)?;
            }
        }
        Some(secs)
    }

    /// Decimal digits up to `max` (PostgreSQL's `getnum`).
    fn number(&mut self, max: i64) -> Option<i64> {
        if !self.peek()?.is_ascii_digit() {
            return None;
        }
        let mut n: i64 = 0;
        while let Some(b) = self.peek().filter(u8::is_ascii_digit) {
            n = n * 10 + (b - b'0') as i64;
            if n > max {
                return None;
            }
            self.i += 1;
        }
        Some(n)
    }

    /// `Jn`, `n` or `Mm.w.d`, then an optional `/time` (02:00 by default).
    fn rule(&mut self) -> Option<Rule> {
        let day = match self.peek()? {
            b'J' => {
                self.i += 1;
                let n = self.number(365)?;
                (n >= 1).then_some(RuleDay::JulianNoLeap(n))?
            }
            b'M' => {
                self.i += 1;
                let month = self.number(12)?;
                (self.next()? == b'.').then_some(())?;
                let week = self.number(5)?;
                (self.next()? == b'.').then_some(())?;
                let weekday = self.number(6)?;
                (month >= 1 && week >= 1).then_some(RuleDay::MonthWeekDay {
                    month,
                    week,
                    weekday,
                })?
            }
            b if b.is_ascii_digit() => RuleDay::ZeroBased(self.number(365)?),
            _ => return None,
        };
        let time = if self.peek() == Some(b'/') {
            self.i += 1;
            self.offset()? as i64
        } else {
            2 * 3600
        };
        Some(Rule { day, time })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unix(y: i32, m: i32, d: i32, hour: i64) -> i64 {
        (date2j(y, m, d) - UNIX_EPOCH_JDATE) as i64 * 86_400 + hour * 3600
    }

    #[test]
    fn parses_what_tzparse_accepts() {
        let zone = PosixZone::parse("UTC+3").unwrap();
        assert_eq!(
            (
                zone.std_name.as_str(),
                zone.std_offset_east,
                zone.dst.is_none()
            ),
            ("UTC", -10800, true)
        );
        let zone = PosixZone::parse("<+0530>-5:30").unwrap();
        assert_eq!(
            (zone.std_name.as_str(), zone.std_offset_east),
            ("+0530", 19800)
        );
        // PostgreSQL's leniency: odd names, empty names, week-long offsets.
        assert!(PosixZone::parse("pdt30").is_some());
        assert!(PosixZone::parse("z.99").is_some());
        assert!(PosixZone::parse("12").is_some());
        assert!(PosixZone::parse("z12:34:56pdt").unwrap().dst.is_some());
        for bad in [
            "",
            "EST",
            "Mars/Olympus",
            "EST168",
            "EST5EDT,M3.2.0",
            "EST5EDT,M13.1.0,M11.1.0",
            "EST5:60",
        ] {
            assert!(PosixZone::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn daylight_saving_follows_the_rules() {
        let zone = PosixZone::parse("EST5EDT,M3.2.0,M11.1.0").unwrap();
        // 2024: DST from March 10 07:00 UTC to November 3 06:00 UTC.
        assert_eq!(zone.offset_at_unix(unix(2024, 3, 10, 6)).0, -18000);
        assert_eq!(zone.offset_at_unix(unix(2024, 3, 10, 7)).0, -14400);
        assert_eq!(zone.offset_at_unix(unix(2024, 11, 3, 5)).1, "EDT");
        assert_eq!(zone.offset_at_unix(unix(2024, 11, 3, 6)).1, "EST");
        // Southern hemisphere: DST across the new year.
        let zone = PosixZone::parse("AEST-10AEDT,M10.1.0,M4.1.0/3").unwrap();
        assert_eq!(zone.offset_at_unix(unix(2024, 1, 15, 0)).0, 39600);
        assert_eq!(zone.offset_at_unix(unix(2024, 7, 15, 0)).0, 36000);
        // No rules: PostgreSQL's US fallback.
        let zone = PosixZone::parse("CET-1CEST").unwrap();
        assert_eq!(zone.offset_at_unix(unix(2024, 7, 1, 0)).0, 7200);
    }
}
