//! `to_char` for timestamps, timestamptz, intervals and numbers: PostgreSQL's template
//! patterns (`formatting.c`). Parsing (`to_date`, `to_timestamp(text, text)`,
//! `to_number`) is in `to_char_parse`.
//!
//! Date patterns: `YYYY YYY YY Y Y,YYY IYYY IYY IY I CC MM Mon Month MON MONTH mon month RM
//! DD DDD D ID IDDD W WW IW Q J HH HH12 HH24 MI SS MS US FF1..FF6 SSSS SSSSS AM PM A.M. P.M.
//! BC AD B.C. A.D. Dy Day DY DAY dy day TZ tz TZH TZM OF`, with the `FM` prefix (no padding)
//! and `TH`/`th` suffixes; `"quoted"` text and backslash escapes are copied. Number patterns:
//! `9 0 . D , G S MI PL SG PR L V EEEE RN FM TH`. Names are English (the C locale).

use storage::types::Value;

use super::calendar::{
    date2j, is_infinite, j2day, utc_to_local, DateTime, USECS_PER_HOUR, USECS_PER_MINUTE,
    USECS_PER_SEC,
};
use super::datetime_fields::{iso_week, iso_year};
use super::registry::Registry;
use super::{args, FnCtx, Volatility};
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::{SqlType, NUMERIC};

pub fn register(reg: &mut Registry) {
    use SqlType::{Float4, Float8, Int2, Int4, Int8, Interval, Text, Timestamp, Timestamptz};
    for t in [
        Timestamp, Interval, Int2, Int4, Int8, Float4, Float8, NUMERIC,
    ] {
        reg.typed("to_char", &[t, Text], Text, to_char);
    }
    reg.typed("to_char", &[Timestamptz, Text], Text, to_char)
        .volatility(Volatility::Stable);
    super::to_char_parse::register(reg);
}

fn to_char(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let fmt = args::text(a, 1)?;
    let v = args::arg(a, 0)?;
    Ok(match v {
        Value::Timestamp(t) => format_datetime(fmt, &Moment::from_local(*t, None, None)),
        Value::Timestamptz(t) => {
            let zone = &ctx.format.time_zone;
            let local = utc_to_local(zone, *t);
            let offset = if is_infinite(*t) {
                0
            } else {
                (local - t) / USECS_PER_SEC
            };
            let abbrev = zone.abbreviation_at(*t).unwrap_or_default();
            format_datetime(fmt, &Moment::from_local(local, Some(offset), Some(abbrev)))
        }
        Value::Interval(i) => format_datetime(fmt, &Moment::from_interval(i)),
        other => super::number_format::format_number(other, fmt)?,
    }
    .map_or(Value::Null, Value::Text))
}

/// The fields a date template reads.
struct Moment {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    micros: i64,
    /// Day of week 0 = Sunday, day of year, Julian day (not for intervals).
    dow: i64,
    doy: i64,
    julian: i64,
    iso_week: i64,
    iso_year: i64,
    offset: Option<i64>,
    abbrev: Option<String>,
    interval: bool,
    infinite: bool,
}

impl Moment {
    fn from_local(t: i64, offset: Option<i64>, abbrev: Option<String>) -> Moment {
        let infinite = is_infinite(t);
        let dt = if infinite {
            DateTime::default()
        } else {
            DateTime::from_timestamp(t)
        };
        let jd = date2j(dt.year, dt.month, dt.day) as i64;
        Moment {
            year: dt.year as i64,
            month: dt.month as i64,
            day: dt.day as i64,
            hour: dt.hour as i64,
            minute: dt.minute as i64,
            second: dt.second as i64,
            micros: dt.micros,
            dow: j2day(jd as i32) as i64,
            doy: jd - date2j(dt.year, 1, 1) as i64 + 1,
            julian: jd,
            iso_week: iso_week(dt.year, dt.month, dt.day) as i64,
            iso_year: iso_year(dt.year, dt.month, dt.day) as i64,
            offset,
            abbrev,
            interval: false,
            infinite,
        }
    }

    fn from_interval(i: &storage::types::Interval) -> Moment {
        Moment {
            year: (i.months / 12) as i64,
            month: (i.months % 12) as i64,
            day: i.days as i64,
            hour: i.micros / USECS_PER_HOUR,
            minute: i.micros / USECS_PER_MINUTE % 60,
            second: i.micros / USECS_PER_SEC % 60,
            micros: i.micros % USECS_PER_SEC,
            dow: 0,
            doy: 0,
            julian: 0,
            iso_week: 0,
            iso_year: 0,
            offset: None,
            abbrev: None,
            interval: true,
            infinite: false,
        }
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const ROMAN_MONTHS: [&str; 12] = [
    "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII",
];

/// Date template keywords, longest first where one is a prefix of another.
const DATE_KEYWORDS: &[&str] = &[
    "A.D.", "A.M.", "AD", "AM", "B.C.", "BC", "CC", "DAY", "DDD", "DD", "DY", "D", "FF1", "FF2",
    "FF3", "FF4", "FF5", "FF6", "HH24", "HH12", "HH", "IDDD", "ID", "IW", "IYYY", "IYY", "IY", "I",
    "J", "MI", "MM", "MONTH", "MON", "MS", "OF", "P.M.", "PM", "Q", "RM", "SSSSS", "SSSS", "SS",
    "TZH", "TZM", "TZ", "US", "WW", "W", "Y,YYY", "YYYY", "YYY", "YY", "Y",
];

/// How a name keyword was written: `MONTH`, `Month` or `month`.
#[derive(Clone, Copy, PartialEq)]
enum Case {
    Upper,
    Title,
    Lower,
}

fn case_of(written: &str) -> Case {
    let mut letters = written.chars().filter(|c| c.is_alphabetic());
    let first = letters.next();
    let rest_upper = written
        .chars()
        .filter(|c| c.is_alphabetic())
        .skip(1)
        .all(|c| c.is_uppercase());
    match first {
        Some(c) if c.is_lowercase() => Case::Lower,
        Some(_) if rest_upper && written.chars().filter(|c| c.is_alphabetic()).count() > 1 => {
            Case::Upper
        }
        Some(_) if written.chars().filter(|c| c.is_alphabetic()).count() == 1 => Case::Upper,
        _ => Case::Title,
    }
}

fn apply_case(s: &str, case: Case) -> String {
    match case {
        Case::Upper => s.to_uppercase(),
        Case::Lower => s.to_lowercase(),
        Case::Title => s.to_string(),
    }
}

/// English ordinal suffix of a number.
pub fn ordinal_suffix(n: i64, upper: bool) -> &'static str {
    let n = n.abs();
    let s = if (11..=13).contains(&(n % 100)) {
        "th"
    } else {
        match n % 10 {
            1 => "st",
            2 => "nd",
            3 => "rd",
            _ => "th",
        }
    };
    if upper {
        match s {
            "st" => "ST",
            "nd" => "ND",
            "rd" => "RD",
            _ => "TH",
        }
    } else {
        s
    }
}

/// Finds the date keyword at the start of `rest` (case-insensitive).
fn match_keyword(rest: &str) -> Option<&'static str> {
    let upper: String = rest.chars().take(6).collect::<String>().to_uppercase();
    DATE_KEYWORDS.iter().copied().find(|k| upper.starts_with(k))
}

/// A number zero-padded to `width` digits unless `fill` (FM) asks for no padding.
fn padded(n: i64, width: usize, fm: bool) -> String {
    if fm {
        n.to_string()
    } else if n < 0 {
        format!("-{:0width$}", -n, width = width)
    } else {
        format!("{n:0width$}")
    }
}

fn format_datetime(fmt: &str, m: &Moment) -> Option<String> {
    if m.infinite {
        return None;
    }
    let mut out = String::new();
    let mut rest = fmt;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('"') {
            let end = r.find('"').unwrap_or(r.len());
            out.push_str(&r[..end].replace('\\', ""));
            rest = r.get(end + 1..).unwrap_or("");
            continue;
        }
        if let Some(r) = rest.strip_prefix('\\') {
            let mut chars = r.chars();
            if let Some(c) = chars.next() {
                out.push(c);
            }
            rest = chars.as_str();
            continue;
        }
        let mut fm = false;
        let mut body = rest;
        if body.len() >= 2 && body[..2].eq_ignore_ascii_case("FM") {
            fm = true;
            body = &body[2..];
        }
        let Some(keyword) = match_keyword(body) else {
            let mut chars = rest.chars();
            if let Some(c) = chars.next() {
                out.push(c);
            }
            rest = chars.as_str();
            continue;
        };
        let written = &body[..keyword.len()];
        let case = case_of(written);
        body = &body[keyword.len()..];
        // Ordinal suffix.
        let (th, upper_th) = if body.starts_with("TH") {
            body = &body[2..];
            (true, true)
        } else if body.starts_with("th") {
            body = &body[2..];
            (true, false)
        } else {
            (false, false)
        };
        rest = body;
        let twelve = |h: i64| if h % 12 == 0 { 12 } else { h % 12 };
        let year_field = |y: i64| if m.interval || y > 0 { y } else { 1 - y };
        let (text, number): (String, Option<i64>) = match keyword {
            "YYYY" => (padded(year_field(m.year), 4, fm), Some(year_field(m.year))),
            "Y,YYY" => {
                let y = year_field(m.year);
                (format!("{},{:03}", y / 1000, y % 1000), Some(y))
            }
            "YYY" => (
                padded(year_field(m.year) % 1000, 3, fm),
                Some(year_field(m.year) % 1000),
            ),
            "YY" => (
                padded(year_field(m.year) % 100, 2, fm),
                Some(year_field(m.year) % 100),
            ),
            "Y" => (
                padded(year_field(m.year) % 10, 1, fm),
                Some(year_field(m.year) % 10),
            ),
            "IYYY" => (padded(year_field(m.iso_year), 4, fm), Some(m.iso_year)),
            "IYY" => (padded(year_field(m.iso_year) % 1000, 3, fm), None),
            "IY" => (padded(year_field(m.iso_year) % 100, 2, fm), None),
            "I" => (padded(year_field(m.iso_year) % 10, 1, fm), None),
            "CC" => {
                let cc = if m.interval {
                    m.year / 100
                } else if m.year > 0 {
                    (m.year + 99) / 100
                } else {
                    -((99 - (m.year - 1)) / 100)
                };
                (padded(cc, 2, fm), Some(cc))
            }
            "BC" | "AD" => (apply_case(if m.year > 0 { "AD" } else { "BC" }, case), None),
            "B.C." | "A.D." => (
                apply_case(if m.year > 0 { "A.D." } else { "B.C." }, case),
                None,
            ),
            "MM" => (padded(m.month, 2, fm), Some(m.month)),
            "MONTH" | "MON" | "RM" if m.month < 1 => (String::new(), None),
            "MONTH" => {
                let name = apply_case(MONTHS[(m.month - 1) as usize], case);
                (if fm { name } else { format!("{name:<9}") }, None)
            }
            "MON" => (apply_case(&MONTHS[(m.month - 1) as usize][..3], case), None),
            "RM" => {
                let r = apply_case(ROMAN_MONTHS[(m.month - 1) as usize], case);
                (if fm { r } else { format!("{r:<4}") }, None)
            }
            "DD" => (padded(m.day, 2, fm), Some(m.day)),
            "DDD" => (padded(m.doy, 3, fm), Some(m.doy)),
            "IDDD" => {
                let iddd = (m.iso_week - 1) * 7 + (m.dow + 6) % 7 + 1;
                (padded(iddd, 3, fm), Some(iddd))
            }
            "D" => (padded(m.dow + 1, 1, fm), Some(m.dow + 1)),
            "ID" => {
                let id = if m.dow == 0 { 7 } else { m.dow };
                (padded(id, 1, fm), Some(id))
            }
            "DAY" => {
                let name = apply_case(DAYS[m.dow as usize], case);
                (if fm { name } else { format!("{name:<9}") }, None)
            }
            "DY" => (apply_case(&DAYS[m.dow as usize][..3], case), None),
            "W" => {
                let w = (m.day - 1) / 7 + 1;
                (w.to_string(), Some(w))
            }
            "WW" => (
                padded((m.doy - 1) / 7 + 1, 2, fm),
                Some((m.doy - 1) / 7 + 1),
            ),
            "IW" => (padded(m.iso_week, 2, fm), Some(m.iso_week)),
            "Q" => {
                let q = if m.month < 1 {
                    0
                } else {
                    (m.month - 1) / 3 + 1
                };
                (q.to_string(), Some(q))
            }
            "J" => (m.julian.to_string(), Some(m.julian)),
            "HH" | "HH12" => (padded(twelve(m.hour), 2, fm), Some(twelve(m.hour))),
            "HH24" => (padded(m.hour, 2, fm), Some(m.hour)),
            "MI" => (padded(m.minute, 2, fm), Some(m.minute)),
            "SS" => (padded(m.second, 2, fm), Some(m.second)),
            "MS" => (padded(m.micros / 1000, 3, fm), Some(m.micros / 1000)),
            "US" => (padded(m.micros, 6, fm), Some(m.micros)),
            "FF1" | "FF2" | "FF3" | "FF4" | "FF5" | "FF6" => {
                let digits = (keyword.as_bytes()[2] - b'0') as u32;
                let v = m.micros / 10i64.pow(6 - digits);
                (padded(v, digits as usize, fm), Some(v))
            }
            "SSSS" | "SSSSS" => {
                let s = (m.hour * 60 + m.minute) * 60 + m.second;
                (s.to_string(), Some(s))
            }
            "AM" | "PM" => (
                apply_case(if m.hour >= 12 { "PM" } else { "AM" }, case),
                None,
            ),
            "A.M." | "P.M." => (
                apply_case(if m.hour >= 12 { "P.M." } else { "A.M." }, case),
                None,
            ),
            "TZ" => (
                m.abbrev
                    .clone()
                    .map(|a| apply_case(&a, case))
                    .unwrap_or_default(),
                None,
            ),
            "TZH" => match m.offset {
                Some(o) => (
                    format!("{}{:02}", if o < 0 { '-' } else { '+' }, o.abs() / 3600),
                    None,
                ),
                None => (String::new(), None),
            },
            "TZM" => match m.offset {
                Some(o) => (format!("{:02}", o.abs() / 60 % 60), None),
                None => (String::new(), None),
            },
            "OF" => match m.offset {
                Some(o) => {
                    let sign = if o < 0 { '-' } else { '+' };
                    let (h, mi) = (o.abs() / 3600, o.abs() / 60 % 60);
                    if mi == 0 {
                        (format!("{sign}{h:02}"), None)
                    } else {
                        (format!("{sign}{h:02}:{mi:02}"), None)
                    }
                }
                None => (String::new(), None),
            },
            _ => (String::new(), None),
        };
        out.push_str(&text);
        if th {
            if let Some(n) = number {
                out.push_str(ordinal_suffix(n, upper_th));
            }
        }
    }
    Some(out)
}

/// The invalid-format error for templates (used by the parser module).
pub fn template_error(message: String) -> SqlError {
    SqlError::new(code::INVALID_DATETIME_FORMAT, message)
}
