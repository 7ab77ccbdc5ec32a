//! Reading text through a template: `to_date(text, text)`, `to_timestamp(text, text)` and
//! `to_number(text, text)` (PostgreSQL's `do_to_timestamp` / `NUM_processor` in reading
//! mode, the common patterns).
//!
//! Outside FX mode, as in PostgreSQL, separators and spaces in the template match any run
//! of non-alphanumeric characters in the input. Missing fields default to year 0 (1 BC),
//! January, the 1st, midnight. Errors: 22007 `invalid value "x" for "YYYY"` and 22008
//! `date/time field value out of range: "..."`.

use bigdecimal::BigDecimal;
use storage::types::{Numeric, Value};

use super::calendar::{
    date2j, days_in_month, local_to_utc, POSTGRES_EPOCH_JDATE, USECS_PER_DAY, USECS_PER_SEC,
};
use super::number_format::{parse_number_format, NumToken};
use super::registry::Registry;
use super::to_char::template_error;
use super::{args, FnCtx, Volatility};
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::{SqlType, NUMERIC};

pub fn register(reg: &mut Registry) {
    use SqlType::{Date, Text, Timestamptz};
    reg.typed("to_date", &[Text, Text], Date, to_date)
        .volatility(Volatility::Stable);
    reg.typed("to_timestamp", &[Text, Text], Timestamptz, to_timestamp)
        .volatility(Volatility::Stable);
    reg.typed("to_number", &[Text, Text], NUMERIC, to_number)
        .volatility(Volatility::Stable);
}

/// Fields read from the input.
#[derive(Default)]
struct Parsed {
    year: Option<i64>,
    bc: bool,
    month: Option<i64>,
    day: Option<i64>,
    doy: Option<i64>,
    julian: Option<i64>,
    hour: Option<i64>,
    twelve_hour: bool,
    pm: Option<bool>,
    minute: i64,
    second: i64,
    micros: i64,
    tz_offset: Option<i64>,
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const DAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

/// Template fields this reader understands, longest first.
const FIELDS: &[&str] = &[
    "A.M.", "P.M.", "A.D.", "B.C.", "YYYY", "YYY", "YY", "Y", "MONTH", "MON", "MM", "DDD", "DD",
    "DAY", "DY", "D", "HH24", "HH12", "HH", "MI", "SSSSS", "SSSS", "SS", "MS", "US", "FF1", "FF2",
    "FF3", "FF4", "FF5", "FF6", "AM", "PM", "AD", "BC", "TZH", "TZM", "J", "IW", "Q", "CC", "WW",
    "W",
];

fn invalid_value(value: &str, field: &str, detail: &str) -> SqlError {
    template_error(format!("invalid value \"{value}\" for \"{field}\""))
        .with_detail(detail.to_string())
}

fn out_of_range(input: &str) -> SqlError {
    SqlError::new(
        code::DATETIME_FIELD_OVERFLOW,
        format!("date/time field value out of range: \"{input}\""),
    )
}

/// Reads up to `max` digits (with an optional sign when `signed`).
fn read_int(
    input: &[char],
    pos: &mut usize,
    max: usize,
    field: &str,
    signed: bool,
) -> SqlResult<i64> {
    let start = *pos;
    let mut end = start;
    if signed && matches!(input.get(end), Some('+' | '-')) {
        end += 1;
    }
    while end < input.len() && end - start < max && input[end].is_ascii_digit() {
        end += 1;
    }
    let text: String = input[start..end].iter().collect();
    match text.parse::<i64>() {
        Ok(v) => {
            *pos = end;
            Ok(v)
        }
        Err(_) => {
            let shown: String = input[start..].iter().take(max.max(1)).collect();
            Err(invalid_value(&shown, field, "Value must be an integer."))
        }
    }
}

/// Reads a name from `names` (case-insensitive, full or 3-letter form).
fn read_name(
    input: &[char],
    pos: &mut usize,
    names: &[&str],
    full: bool,
    field: &str,
) -> SqlResult<usize> {
    let rest: String = input[*pos..].iter().collect::<String>().to_lowercase();
    for (i, name) in names.iter().enumerate() {
        let candidate = if full { *name } else { &name[..3] };
        if rest.starts_with(candidate) {
            *pos += candidate.chars().count();
            return Ok(i);
        }
    }
    let shown: String = input[*pos..].iter().take(9).collect();
    Err(invalid_value(
        &shown,
        field,
        "The given value did not match any of the allowed values for this field.",
    ))
}

fn parse_template(input: &str, fmt: &str) -> SqlResult<Parsed> {
    let chars: Vec<char> = input.chars().collect();
    let mut p = Parsed::default();
    let mut pos = 0usize;
    let mut rest = fmt;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('"') {
            let end = r.find('"').unwrap_or(r.len());
            pos += r[..end].chars().count();
            rest = r.get(end + 1..).unwrap_or("");
            continue;
        }
        let mut body = rest;
        if body.len() >= 2 && body[..2].eq_ignore_ascii_case("FM") {
            body = &body[2..];
        }
        let upper: String = body.chars().take(6).collect::<String>().to_uppercase();
        let Some(field) = FIELDS.iter().copied().find(|f| upper.starts_with(f)) else {
            // A separator: skip any run of non-alphanumerics in the input.
            let mut it = rest.chars();
            let c = it.next().unwrap_or(' ');
            rest = it.as_str();
            if c.is_alphanumeric() {
                pos += 1;
            } else {
                while pos < chars.len() && !chars[pos].is_alphanumeric() {
                    pos += 1;
                    if !c.is_whitespace() && chars.get(pos).is_some_and(|n| n.is_alphanumeric()) {
                        break;
                    }
                }
            }
            continue;
        };
        rest = &body[field.len()..];
        if rest.starts_with("TH") || rest.starts_with("th") {
            rest = &rest[2..];
        }
        while pos < chars.len() && chars[pos] == ' ' && !matches!(field, "MONTH" | "DAY") {
            pos += 1;
        }
        match field {
            "YYYY" => p.year = Some(read_int(&chars, &mut pos, 4, field, true)?),
            "YYY" => p.year = Some(1000 + read_int(&chars, &mut pos, 3, field, false)?),
            "YY" => {
                let y = read_int(&chars, &mut pos, 2, field, false)?;
                p.year = Some(if y < 70 { 2000 + y } else { 1900 + y });
            }
            "Y" => p.year = Some(2000 + read_int(&chars, &mut pos, 1, field, false)?),
            "MM" => p.month = Some(read_int(&chars, &mut pos, 2, field, false)?),
            "MONTH" => {
                p.month = Some(read_name(&chars, &mut pos, &MONTHS, true, field)? as i64 + 1)
            }
            "MON" => p.month = Some(read_name(&chars, &mut pos, &MONTHS, false, field)? as i64 + 1),
            "DAY" => {
                read_name(&chars, &mut pos, &DAYS, true, field)?;
            }
            "DY" => {
                read_name(&chars, &mut pos, &DAYS, false, field)?;
            }
            "DD" => p.day = Some(read_int(&chars, &mut pos, 2, field, false)?),
            "DDD" => p.doy = Some(read_int(&chars, &mut pos, 3, field, false)?),
            "D" | "IW" | "Q" | "CC" | "WW" | "W" => {
                read_int(&chars, &mut pos, 2, field, false)?;
            }
            "J" => p.julian = Some(read_int(&chars, &mut pos, 9, field, false)?),
            "HH" | "HH12" => {
                p.hour = Some(read_int(&chars, &mut pos, 2, field, false)?);
                p.twelve_hour = true;
            }
            "HH24" => p.hour = Some(read_int(&chars, &mut pos, 2, field, false)?),
            "MI" => p.minute = read_int(&chars, &mut pos, 2, field, false)?,
            "SS" => p.second = read_int(&chars, &mut pos, 2, field, false)?,
            "SSSS" | "SSSSS" => {
                let s = read_int(&chars, &mut pos, 5, field, false)?;
                p.hour = Some(s / 3600);
                p.minute = s / 60 % 60;
                p.second = s % 60;
            }
            "MS" | "US" | "FF1" | "FF2" | "FF3" | "FF4" | "FF5" | "FF6" => {
                let width = match field {
                    "MS" => 3,
                    "US" => 6,
                    f => (f.as_bytes()[2] - b'0') as usize,
                };
                let start = pos;
                let v = read_int(&chars, &mut pos, width, field, false)?;
                let digits = (pos - start) as u32;
                p.micros = if field == "MS" {
                    v * 10i64.pow(3 - digits.min(3)) * 1000
                } else {
                    v * 10i64.pow(6 - digits.min(6))
                };
            }
            "AM" | "PM" | "A.M." | "P.M." => {
                let rest_in: String = chars[pos..].iter().collect::<String>().to_uppercase();
                let (token_pm, len) = if rest_in.starts_with("A.M.") {
                    (false, 4)
                } else if rest_in.starts_with("P.M.") {
                    (true, 4)
                } else if rest_in.starts_with("AM") {
                    (false, 2)
                } else if rest_in.starts_with("PM") {
                    (true, 2)
                } else {
                    let shown: String = chars[pos..].iter().take(4).collect();
                    return Err(invalid_value(
                        &shown,
                        field,
                        "The given value did not match any of the allowed values for this field.",
                    ));
                };
                p.pm = Some(token_pm);
                pos += len;
            }
            "AD" | "BC" | "A.D." | "B.C." => {
                let rest_in: String = chars[pos..].iter().collect::<String>().to_uppercase();
                if rest_in.starts_with("BC") || rest_in.starts_with("B.C.") {
                    p.bc = true;
                }
                pos += if rest_in.starts_with("B.C.") || rest_in.starts_with("A.D.") {
                    4
                } else {
                    2
                };
            }
            "TZH" => {
                let h = read_int(&chars, &mut pos, 2, field, true)?;
                p.tz_offset = Some(h * 3600 + p.tz_offset.unwrap_or(0) % 3600);
            }
            "TZM" => {
                let m = read_int(&chars, &mut pos, 2, field, false)?;
                let base = p.tz_offset.unwrap_or(0);
                p.tz_offset = Some(if base < 0 {
                    base - m * 60
                } else {
                    base + m * 60
                });
            }
            _ => {}
        }
    }
    Ok(p)
}

/// The local timestamp (microseconds) described by the parsed fields.
fn local_timestamp(p: &Parsed, input: &str) -> SqlResult<i64> {
    let mut year = p.year.unwrap_or(0);
    if p.bc && year > 0 {
        year = 1 - year;
    }
    let (mut month, mut day) = (p.month.unwrap_or(1), p.day.unwrap_or(1));
    if let Some(j) = p.julian {
        let (y, m, d) = super::calendar::j2date(j as i32);
        year = y as i64;
        month = m as i64;
        day = d as i64;
    } else if let Some(doy) = p.doy {
        let jd = date2j(year as i32, 1, 1) as i64 + doy - 1;
        let (y, m, d) = super::calendar::j2date(jd as i32);
        year = y as i64;
        month = m as i64;
        day = d as i64;
    }
    let mut hour = p.hour.unwrap_or(0);
    if p.twelve_hour || p.pm.is_some() {
        if !(1..=12).contains(&hour) && p.twelve_hour {
            return Err(template_error(format!(
                "hour \"{hour}\" is invalid for the 12-hour clock"
            ))
            .with_hint("Use the 24-hour clock, or give an hour between 1 and 12."));
        }
        if p.pm == Some(true) && hour < 12 {
            hour += 12;
        } else if p.pm != Some(true) && hour == 12 {
            hour = 0;
        }
    }
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year as i32, month as i32) as i64
        || hour > 24
        || p.minute > 59
        || p.second > 60
        || (hour == 24 && (p.minute > 0 || p.second > 0 || p.micros > 0))
    {
        return Err(out_of_range(input));
    }
    let days = (date2j(year as i32, month as i32, day as i32) - POSTGRES_EPOCH_JDATE) as i64;
    let t =
        days * USECS_PER_DAY + ((hour * 60 + p.minute) * 60 + p.second) * USECS_PER_SEC + p.micros;
    if !super::calendar::is_valid_timestamp(t) {
        return Err(SqlError::new(
            code::DATETIME_FIELD_OVERFLOW,
            "timestamp out of range",
        ));
    }
    Ok(t)
}

fn to_date(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let input = args::text(a, 0)?;
    let p = parse_template(input, args::text(a, 1)?)?;
    let t = local_timestamp(&p, input)?;
    Ok(Value::Date(t.div_euclid(USECS_PER_DAY) as i32))
}

fn to_timestamp(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let input = args::text(a, 0)?;
    let p = parse_template(input, args::text(a, 1)?)?;
    let local = local_timestamp(&p, input)?;
    Ok(Value::Timestamptz(match p.tz_offset {
        Some(east) => local - east * USECS_PER_SEC,
        None => local_to_utc(&ctx.format.time_zone, local),
    }))
}

/// `to_number`: digits read position by position through the number template.
fn to_number(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let input: Vec<char> = args::text(a, 0)?.chars().collect();
    let f = parse_number_format(args::text(a, 1)?)?;
    let mut pos = 0usize;
    let mut digits = String::new();
    let mut negative = false;
    let mut post_digits = 0usize;
    let mut in_fraction = false;
    let skip_spaces = |pos: &mut usize| {
        while *pos < input.len() && input[*pos] == ' ' {
            *pos += 1;
        }
    };
    if f.bracket && input.first() == Some(&'<') {
        negative = true;
        pos = 1;
    }
    for t in &f.tokens {
        match t {
            NumToken::Digit { .. } => {
                if !in_fraction && digits.is_empty() {
                    skip_spaces(&mut pos);
                    if matches!(input.get(pos), Some('-')) && !f.has_sign {
                        negative = true;
                        pos += 1;
                    }
                }
                if let Some(c) = input.get(pos).filter(|c| c.is_ascii_digit()) {
                    digits.push(*c);
                    if in_fraction {
                        post_digits += 1;
                    }
                    pos += 1;
                }
            }
            NumToken::Point => {
                if input.get(pos) == Some(&'.') {
                    pos += 1;
                }
                in_fraction = true;
            }
            NumToken::Group => {
                if input.get(pos) == Some(&',') {
                    pos += 1;
                }
            }
            NumToken::Sign | NumToken::Minus | NumToken::Plus | NumToken::SignGlyph => {
                skip_spaces(&mut pos);
                match input.get(pos) {
                    Some('-') => {
                        negative = true;
                        pos += 1;
                    }
                    Some('+') => pos += 1,
                    _ => {}
                }
            }
            NumToken::Bracket => {
                if input.get(pos) == Some(&'>') {
                    pos += 1;
                }
            }
            NumToken::Currency => {
                if input.get(pos).is_some_and(|c| !c.is_ascii_digit()) {
                    pos += 1;
                }
            }
            NumToken::Literal(s) => pos += s.chars().count(),
            NumToken::Ordinal(_) => pos += 2,
        }
    }
    if digits.is_empty() {
        return Err(SqlError::new(
            code::INVALID_TEXT_REPRESENTATION,
            "invalid input syntax for type numeric: \" \"",
        ));
    }
    let mantissa: BigDecimal = digits
        .parse()
        .map_err(|_| SqlError::internal("to_number digits"))?;
    let mut value = BigDecimal::new(mantissa.into_bigint_and_exponent().0, post_digits as i64);
    if f.multiplier > 0 {
        value *= BigDecimal::new(1.into(), f.multiplier as i64);
    }
    if negative {
        value = -value;
    }
    Ok(Value::Numeric(Box::new(Numeric::Finite(value))))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{err, ok};
    use crate::pgtype::SqlType::{Float8, Int4, Interval, Text, Timestamp, Timestamptz};
    use crate::pgtype::NUMERIC;

    fn tc(value: &str, t: crate::pgtype::SqlType, fmt: &str) -> String {
        ok("to_char", &[(value, t), (fmt, Text)])
    }

    #[test]
    fn to_char_dates_match_postgres() {
        let ts = "2024-03-05 14:07:09.123456";
        assert_eq!(
            tc(ts, Timestamp, "YYYY-MM-DD HH24:MI:SS.MS US"),
            "2024-03-05 14:07:09.123 123456"
        );
        assert_eq!(
            tc("2024-03-05 14:07:09", Timestamp, "HH12:MI AM am PM p.m."),
            "02:07 PM pm PM p.m."
        );
        assert_eq!(
            tc(
                "2024-03-05",
                Timestamp,
                "Mon Month MON MONTH month Dy Day DY DAY dy day"
            ),
            "Mar March     MAR MARCH     march     Tue Tuesday   TUE TUESDAY   tue tuesday  "
        );
        assert_eq!(
            tc("2024-03-05", Timestamp, "FMMonth FMDay FMDD FMMM"),
            "March Tuesday 5 3"
        );
        assert_eq!(
            tc(
                "2024-03-05",
                Timestamp,
                "DDD IW WW Q D ID J CC YY YYY Y IYYY"
            ),
            "065 10 10 1 3 2 2460375 21 24 024 4 2024"
        );
        assert_eq!(
            tc("2024-03-05 10:00+00", Timestamptz, "TZ tz OF TZH:TZM"),
            "UTC utc +00 +00:00"
        );
        assert_eq!(
            tc("2024-03-05", Timestamp, "dd \"of\" Month"),
            "05 of March    "
        );
        assert_eq!(
            tc("1 day 02:03:04", Interval, "HH24:MI:SS DD"),
            "02:03:04 01"
        );
        assert_eq!(
            tc("2024-03-05", Timestamp, "YYYYth DDth ddTH"),
            "2024th 05th 05TH"
        );
        assert_eq!(tc("2024-03-05 00:30", Timestamp, "HH HH12 AM"), "12 12 AM");
        assert_eq!(tc("0044-03-15", Timestamp, "YYYY BC B.C."), "0044 AD A.D.");
        assert_eq!(
            tc("2024-03-05 14:07:09.5", Timestamp, "SSSS SSSSS FF1 FF3"),
            "50829 50829 5 500"
        );
        assert_eq!(tc("25 hours", Interval, "HH24 HH"), "25 01");
        assert_eq!(
            tc("2024-03-05", Timestamp, "RM rm W WW IDDD"),
            "III  iii  1 10 065"
        );
    }

    #[test]
    fn to_char_numbers_match_postgres() {
        let n = NUMERIC;
        assert_eq!(tc("1234.567", n.clone(), "9999.99"), " 1234.57");
        assert_eq!(tc("1234.567", n.clone(), "0000.00"), " 1234.57");
        assert_eq!(tc("-1234.567", n.clone(), "9,999.99"), "-1,234.57");
        assert_eq!(tc("1234.5", n.clone(), "FM9999.99"), "1234.5");
        assert_eq!(tc("0.5", n.clone(), "9.99"), "  .50");
        assert_eq!(tc("0.5", n.clone(), "0.99"), " 0.50");
        assert_eq!(tc("12", Int4, "999"), "  12");
        assert_eq!(tc("-12", Int4, "S999"), " -12");
        assert_eq!(tc("12", Int4, "S999"), " +12");
        assert_eq!(tc("12345", Int4, "999"), " ###");
        assert_eq!(tc("1234.5", n.clone(), "9G999D99"), " 1,234.50");
        assert_eq!(tc("-5", Int4, "999PR"), "  <5>");
        assert_eq!(tc("5", Int4, "MI999"), "   5");
        assert_eq!(tc("1234.5678", Float8, "9999.999"), " 1234.568");
        assert_eq!(tc("485", Int4, "RN"), "        CDLXXXV");
        assert_eq!(tc("0", Int4, "999"), "   0");
        assert_eq!(tc("0", Int4, "FM999"), "0");
        assert_eq!(tc("-0.5", n.clone(), "9.99"), " -.50");
        assert_eq!(tc("5", Int4, "9,999"), "     5");
        assert_eq!(tc("-5", Int4, "0000"), "-0005");
        assert_eq!(tc("1234.5", n.clone(), "FM9,999.00"), "1,234.50");
        assert_eq!(tc("12", Int4, "99V9"), " 120");
        assert_eq!(tc("3", Int4, "FM9th"), "3rd");
        assert_eq!(tc("100", Int4, "FM999.99"), "100.");
        assert_eq!(tc("-12", Int4, "MI999"), "- 12");
        assert_eq!(tc("12", Int4, "999MI"), " 12 ");
        assert_eq!(tc("-12", Int4, "999S"), " 12-");
        assert_eq!(tc("12.3", n.clone(), "99.99PL"), " 12.30+");
        assert_eq!(tc("0", Int4, "FM0.99"), "0.");
        assert_eq!(tc("-0.1", n.clone(), "FM0.9"), "-0.1");
        assert_eq!(tc("12", Int4, "SG99"), "+12");
        assert_eq!(tc("5", Int4, "PL9"), "+ 5");
        assert_eq!(tc("2.5", Float8, "9"), " 2");
        assert_eq!(tc("2.5", n.clone(), "9"), " 3");
        assert_eq!(tc("1234", Int4, "9,9"), " #,#");
        assert_eq!(tc("12", Int4, "\"n=\"99"), "n= 12");
        assert_eq!(tc("1.5", n, "9.9EEEE"), " 1.5e+00");
    }

    #[test]
    fn parsing_templates_matches_postgres() {
        let p = |f: &str, v: &str, fmt: &str| ok(f, &[(v, Text), (fmt, Text)]);
        assert_eq!(p("to_date", "2024-03-05", "YYYY-MM-DD"), "2024-03-05");
        assert_eq!(p("to_date", "05 Mar 2024", "DD Mon YYYY"), "2024-03-05");
        assert_eq!(
            p("to_date", "March 5, 2024", "Month DD, YYYY"),
            "2024-03-05"
        );
        assert_eq!(p("to_date", "2024-060", "YYYY-DDD"), "2024-02-29");
        assert_eq!(
            p(
                "to_timestamp",
                "2024-03-05 14:07:09",
                "YYYY-MM-DD HH24:MI:SS"
            ),
            "2024-03-05 14:07:09+00"
        );
        assert_eq!(
            p("to_timestamp", "05/03/2024 2:07 PM", "DD/MM/YYYY HH:MI AM"),
            "2024-03-05 14:07:00+00"
        );
        assert_eq!(
            p(
                "to_timestamp",
                "2024-03-05 14:07:09.123",
                "YYYY-MM-DD HH24:MI:SS.MS"
            ),
            "2024-03-05 14:07:09.123+00"
        );
        assert_eq!(
            p("to_timestamp", "20240305", "YYYYMMDD"),
            "2024-03-05 00:00:00+00"
        );
        assert_eq!(
            p(
                "to_timestamp",
                "2024-03-05 10:00 +05:30",
                "YYYY-MM-DD HH24:MI TZH:TZM"
            ),
            "2024-03-05 04:30:00+00"
        );
        assert_eq!(p("to_number", "12,454.8-", "99G999D9S"), "-12454.8");
        assert_eq!(p("to_number", "1234.5", "9999.99"), "1234.5");
        assert_eq!(p("to_number", "-12.3", "S99.99"), "-12.3");
        assert_eq!(p("to_number", "<12>", "99PR"), "-12");
        assert_eq!(p("to_number", "123456", "999"), "123");
        let e = |f: &str, v: &str, fmt: &str| err(f, &[(v, Text), (fmt, Text)]);
        assert_eq!(
            e("to_date", "2024-13-05", "YYYY-MM-DD"),
            (
                "22008".into(),
                "date/time field value out of range: \"2024-13-05\"".into()
            )
        );
        assert_eq!(
            e("to_timestamp", "abc", "YYYY"),
            ("22007".into(), "invalid value \"abc\" for \"YYYY\"".into())
        );
        assert_eq!(
            e("to_timestamp", "13:00 PM", "HH:MI PM").1,
            "hour \"13\" is invalid for the 12-hour clock"
        );
    }
}
