//! The masking functions of PostgreSQL Anonymizer's `anon` schema that custos has (called
//! `anon.name(...)`; registered under that name), with anon's signatures and outputs:
//!
//! * partial scrambling: `anon.partial(text, prefix int, padding text, suffix int)`
//!   (`anon.partial('abcdefgh', 1, 'xxxx', 3)` = `axxxxfgh`), `anon.partial_email(text)`
//!   (`daamien@gmail.com` → `da******@gm******.com`);
//! * keyed hashing: `anon.hash(text)`: HMAC-SHA-256 under the database's secret salt
//!   ([`super::secrets`]), hex — never a bare digest, so a dictionary of phone numbers or
//!   card numbers does not reverse it;
//! * randomization: `anon.random_int_between(int, int)`, `anon.random_bigint_between`,
//!   `anon.random_string(int)`, `anon.random_zip()`, `anon.random_phone([text])`,
//!   `anon.random_date()`, `anon.random_date_between(timestamptz, timestamptz)`;
//! * faking from small built-in word lists: `anon.fake_first_name()`, `fake_last_name`,
//!   `fake_email`, `fake_city`, `fake_company`, `fake_country`; and the deterministic
//!   `anon.pseudo_first_name(seed)`, `pseudo_last_name`, `pseudo_email`, `pseudo_city`,
//!   `pseudo_company`, `pseudo_country` (keyed by the secret salt);
//! * generalization: `anon.generalize_int4range(int [, step])`, `generalize_int8range`,
//!   `generalize_daterange(date [, step])`. custos has no range types: these return the
//!   range's text form (`[10,20)`), which is what anon's ranges print.
//!
//! Noise functions (`anon.noise`, `dnoise`) are not provided: under dynamic masking a
//! repeated query averages the noise away (governance.md §3.1).

use chrono::{Datelike, Duration, NaiveDate};
use rand::Rng;
use storage::types::Value;

use super::args;
use crate::error::{code, SqlError, SqlResult};
use crate::func::registry::Registry;
use crate::func::{FnCtx, Param, Returns, Volatility};
use crate::pgtype::SqlType;

const FIRST_NAMES: &[&str] = &[
    "Alice", "Bruno", "Chloe", "David", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Karin",
    "Liam", "Maya", "Nils", "Olga", "Pablo", "Quinn", "Rosa", "Samir", "Tara",
];
const LAST_NAMES: &[&str] = &[
    "Anderson", "Bernard", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ivanova",
    "Jensen", "Kowalski", "Lambert", "Moreau", "Novak", "Okafor", "Petrov", "Rossi", "Schmidt",
    "Tanaka", "Weber",
];
const CITIES: &[&str] = &[
    "Lyon", "Porto", "Ghent", "Turku", "Graz", "Bologna", "Krakow", "Aarhus", "Bilbao", "Leeds",
    "Tartu", "Utrecht", "Brno", "Cork", "Nantes",
];
const COMPANIES: &[&str] = &[
    "Acme Corp",
    "Globex",
    "Initech",
    "Umbrella Ltd",
    "Stark Industries",
    "Wayne Enterprises",
    "Hooli",
    "Vandelay Industries",
    "Soylent",
    "Cyberdyne Systems",
    "Tyrell Corp",
    "Wonka Ltd",
];
const COUNTRIES: &[&str] = &[
    "France",
    "Portugal",
    "Belgium",
    "Finland",
    "Austria",
    "Italy",
    "Poland",
    "Denmark",
    "Spain",
    "Ireland",
    "Estonia",
    "Netherlands",
    "Czechia",
    "Norway",
    "Greece",
];
const EMAIL_DOMAINS: &[&str] = &["example.com", "example.org", "example.net"];

/// Adds the `anon.*` functions.
pub fn register(reg: &mut Registry) {
    use SqlType::{Date, Int4, Int8, Text, Timestamptz};
    reg.typed("anon.partial", [Text, Int4, Text, Int4], Text, partial);
    reg.typed("anon.partial_email", [Text], Text, partial_email);
    reg.typed("anon.hash", [Text], Text, hash)
        .volatility(Volatility::Stable);
    reg.typed("anon.random_int_between", [Int4, Int4], Int4, random_int)
        .volatility(Volatility::Volatile);
    reg.typed("anon.random_bigint_between", [Int8, Int8], Int8, random_int)
        .volatility(Volatility::Volatile);
    reg.typed("anon.random_string", [Int4], Text, random_string)
        .volatility(Volatility::Volatile);
    reg.typed("anon.random_zip", Vec::<SqlType>::new(), Text, random_zip)
        .volatility(Volatility::Volatile);
    for params in [vec![], vec![Text]] {
        reg.typed("anon.random_phone", params, Text, random_phone)
            .volatility(Volatility::Volatile);
    }
    reg.typed(
        "anon.random_date",
        Vec::<SqlType>::new(),
        Timestamptz,
        random_date,
    )
    .volatility(Volatility::Volatile);
    reg.typed(
        "anon.random_date_between",
        [Timestamptz, Timestamptz],
        Timestamptz,
        random_date_between,
    )
    .volatility(Volatility::Volatile);
    let fakes: [(&'static str, crate::func::ScalarFn); 6] = [
        ("anon.fake_first_name", |_, _| Ok(pick(FIRST_NAMES))),
        ("anon.fake_last_name", |_, _| Ok(pick(LAST_NAMES))),
        ("anon.fake_city", |_, _| Ok(pick(CITIES))),
        ("anon.fake_company", |_, _| Ok(pick(COMPANIES))),
        ("anon.fake_country", |_, _| Ok(pick(COUNTRIES))),
        ("anon.fake_email", |_, _| {
            Ok(Value::Text(fake_email(rand::thread_rng().gen())))
        }),
    ];
    for (name, f) in fakes {
        reg.typed(name, Vec::<SqlType>::new(), Text, f)
            .volatility(Volatility::Volatile);
    }
    let pseudos: [(&'static str, crate::func::ScalarFn); 6] = [
        ("anon.pseudo_first_name", |_, a| pseudo(a, FIRST_NAMES)),
        ("anon.pseudo_last_name", |_, a| pseudo(a, LAST_NAMES)),
        ("anon.pseudo_city", |_, a| pseudo(a, CITIES)),
        ("anon.pseudo_company", |_, a| pseudo(a, COMPANIES)),
        ("anon.pseudo_country", |_, a| pseudo(a, COUNTRIES)),
        ("anon.pseudo_email", |_, a| {
            Ok(Value::Text(fake_email(seed_number(args::text(a, 0)?))))
        }),
    ];
    for (name, f) in pseudos {
        reg.typed(name, [Text], Text, f)
            .volatility(Volatility::Stable);
    }
    for params in [vec![Int4], vec![Int4, Int4]] {
        reg.typed("anon.generalize_int4range", params, Text, generalize_int);
    }
    for params in [vec![Int8], vec![Int8, Int8]] {
        reg.typed("anon.generalize_int8range", params, Text, generalize_int);
    }
    for params in [
        vec![Param::Type(Date)],
        vec![Param::Type(Date), Param::Type(Text)],
    ] {
        reg.scalar(
            "anon.generalize_daterange",
            params,
            Returns::Type(Text),
            generalize_daterange,
        );
    }
}

fn pick(list: &[&str]) -> Value {
    let i = rand::thread_rng().gen_range(0..list.len());
    Value::Text(list[i].to_string())
}

fn fake_email(n: u64) -> String {
    let first = FIRST_NAMES[(n % FIRST_NAMES.len() as u64) as usize].to_ascii_lowercase();
    let n = n / FIRST_NAMES.len() as u64;
    let last = LAST_NAMES[(n % LAST_NAMES.len() as u64) as usize].to_ascii_lowercase();
    let n = n / LAST_NAMES.len() as u64;
    let domain = EMAIL_DOMAINS[(n % EMAIL_DOMAINS.len() as u64) as usize];
    format!("{first}.{last}@{domain}")
}

/// A number from `seed` keyed by the database's secret salt.
fn seed_number(seed: &str) -> u64 {
    let h = crate::acl::password::hmac(super::secrets::salt(), seed.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&h[..8]);
    u64::from_be_bytes(first)
}

fn pseudo(a: &[Value], list: &[&str]) -> SqlResult<Value> {
    let n = seed_number(args::text(a, 0)?);
    Ok(Value::Text(
        list[(n % list.len() as u64) as usize].to_string(),
    ))
}

/// `substring(ov, 1, prefix) || padding || the last suffix characters`, as anon.
pub fn partial_text(ov: &str, prefix: i64, padding: &str, suffix: i64) -> SqlResult<String> {
    if prefix < 0 || suffix < 0 {
        return Err(SqlError::new(
            "22011",
            "negative substring length not allowed",
        ));
    }
    let chars: Vec<char> = ov.chars().collect();
    let head: String = chars.iter().take(prefix as usize).collect();
    let from = chars.len().saturating_sub(suffix as usize);
    let tail: String = chars[from..].iter().collect();
    Ok(format!("{head}{padding}{tail}"))
}

fn partial(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Text(partial_text(
        args::text(a, 0)?,
        args::int(a, 1)?,
        args::text(a, 2)?,
        args::int(a, 3)?,
    )?))
}

/// anon's `partial_email`: two characters of the local part and of the domain, the
/// top-level domain kept.
pub fn partial_email_text(ov: &str) -> String {
    let local = ov.split('@').next().unwrap_or("");
    let domain = ov.rsplit('@').next().unwrap_or("");
    let tld = ov.rsplit('.').next().unwrap_or("");
    let two = |s: &str| s.chars().take(2).collect::<String>();
    format!("{}******@{}******.{}", two(local), two(domain), tld)
}

fn partial_email(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Text(partial_email_text(args::text(a, 0)?)))
}

/// `anon.hash`: hex HMAC-SHA-256 under the secret salt.
pub fn hash_text(seed: &str) -> String {
    crate::acl::password::hmac(super::secrets::salt(), seed.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn hash(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Text(hash_text(args::text(a, 0)?)))
}

fn random_int(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (lo, hi) = (args::int(a, 0)?, args::int(a, 1)?);
    let (lo, hi) = (lo.min(hi), lo.max(hi));
    let v = rand::thread_rng().gen_range(lo..=hi);
    Ok(match a.first() {
        Some(Value::Int4(_)) => Value::Int4(v as i32),
        _ => Value::Int8(v),
    })
}

fn random_string(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let n = args::int(a, 0)?.clamp(0, 1 << 20) as usize;
    let mut rng = rand::thread_rng();
    let s: String = (0..n)
        .map(|_| char::from(CHARS[rng.gen_range(0..CHARS.len())]))
        .collect();
    Ok(Value::Text(s))
}

fn digits(n: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..n)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect()
}

fn random_zip(_: &FnCtx, _: &[Value]) -> SqlResult<Value> {
    Ok(Value::Text(digits(5)))
}

fn random_phone(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let prefix = match a.first() {
        Some(Value::Text(p)) => p.clone(),
        _ => "0".to_string(),
    };
    Ok(Value::Text(format!("{prefix}{}", digits(9))))
}

/// Microseconds since 2000-01-01 of 1900-01-01 and of 2100-01-01 (anon's random range).
const RANDOM_DATE_RANGE: (i64, i64) = (-3_155_673_600_000_000, 3_155_760_000_000_000);

fn random_date(_: &FnCtx, _: &[Value]) -> SqlResult<Value> {
    let (lo, hi) = RANDOM_DATE_RANGE;
    Ok(Value::Timestamptz(rand::thread_rng().gen_range(lo..hi)))
}

fn random_date_between(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (Some(Value::Timestamptz(x)), Some(Value::Timestamptz(y))) = (a.first(), a.get(1)) else {
        return Err(SqlError::internal("random_date_between takes timestamptz"));
    };
    let (lo, hi) = ((*x).min(*y), (*x).max(*y));
    Ok(Value::Timestamptz(rand::thread_rng().gen_range(lo..=hi)))
}

/// `[lo,hi)` with `lo` the multiple of `step` at or below `v`.
pub fn generalize_int_text(v: i64, step: i64) -> SqlResult<String> {
    if step <= 0 {
        return Err(SqlError::new(
            code::INVALID_PARAMETER_VALUE,
            "step must be a positive integer",
        ));
    }
    let lo = v.div_euclid(step) * step;
    Ok(format!("[{lo},{})", lo.saturating_add(step)))
}

fn generalize_int(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let step = if a.len() > 1 { args::int(a, 1)? } else { 10 };
    Ok(Value::Text(generalize_int_text(args::int(a, 0)?, step)?))
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default()
}

/// The `[start,end)` date range of `step` (day, week, month, quarter, year, decade, century,
/// millennium) that holds `date`.
pub fn generalize_date_text(date: NaiveDate, step: &str) -> SqlResult<String> {
    let ymd = |y: i32, m: u32| NaiveDate::from_ymd_opt(y, m, 1);
    let y = date.year();
    let span = |from: i32, years: i32| (ymd(from, 1), ymd(from + years, 1));
    let (start, end) = match step.to_ascii_lowercase().as_str() {
        "day" => (Some(date), date.checked_add_signed(Duration::days(1))),
        "week" => {
            let start = date - Duration::days(i64::from(date.weekday().num_days_from_monday()));
            (Some(start), start.checked_add_signed(Duration::days(7)))
        }
        "month" => {
            let next = if date.month() == 12 {
                ymd(y + 1, 1)
            } else {
                ymd(y, date.month() + 1)
            };
            (ymd(y, date.month()), next)
        }
        "quarter" => {
            let q = (date.month() - 1) / 3 * 3 + 1;
            let next = if q == 10 {
                ymd(y + 1, 1)
            } else {
                ymd(y, q + 3)
            };
            (ymd(y, q), next)
        }
        "year" => span(y, 1),
        "decade" => span(y.div_euclid(10) * 10, 10),
        "century" => span((y - 1).div_euclid(100) * 100 + 1, 100),
        "millennium" => span((y - 1).div_euclid(1000) * 1000 + 1, 1000),
        other => {
            return Err(SqlError::new(
                code::INVALID_PARAMETER_VALUE,
                format!("unit \"{other}\" not recognized for generalize_daterange"),
            ))
        }
    };
    match (start, end) {
        (Some(s), Some(e)) => Ok(format!(
            "[{},{})",
            s.format("%Y-%m-%d"),
            e.format("%Y-%m-%d")
        )),
        _ => Err(SqlError::new(
            code::DATETIME_FIELD_OVERFLOW,
            "date out of range",
        )),
    }
}

fn generalize_daterange(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let Some(Value::Date(days)) = a.first() else {
        return Err(SqlError::internal("generalize_daterange takes a date"));
    };
    if *days == i32::MAX || *days == i32::MIN {
        return Ok(Value::Null);
    }
    let step = if a.len() > 1 {
        args::text(a, 1)?
    } else {
        "decade"
    };
    let date = epoch()
        .checked_add_signed(Duration::days(i64::from(*days)))
        .ok_or_else(|| SqlError::new(code::DATETIME_FIELD_OVERFLOW, "date out of range"))?;
    Ok(Value::Text(generalize_date_text(date, step)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::func::test_support::{err, ok};
    use crate::pgtype::SqlType::{Date, Int4, Text, Timestamptz};

    #[test]
    fn partial_and_partial_email_match_anon() {
        assert_eq!(
            ok(
                "anon.partial",
                &[("abcdefgh", Text), ("1", Int4), ("xxxx", Text), ("3", Int4)]
            ),
            "axxxxfgh"
        );
        assert_eq!(
            partial_text("0609110911", 2, "******", 2).unwrap(),
            "06******11"
        );
        assert_eq!(partial_text("ab", 3, "*", 3).unwrap(), "ab*ab");
        assert_eq!(
            err(
                "anon.partial",
                &[("abc", Text), ("-1", Int4), ("x", Text), ("1", Int4)]
            )
            .0,
            "22011"
        );
        assert_eq!(
            ok("anon.partial_email", &[("daamien@gmail.com", Text)]),
            "da******@gm******.com"
        );
    }

    #[test]
    fn hash_is_keyed_hex_and_deterministic() {
        let h = ok("anon.hash", &[("0601020304", Text)]);
        assert_eq!(h.len(), 64);
        assert!(h.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(h, ok("anon.hash", &[("0601020304", Text)]));
        assert_ne!(h, ok("anon.hash", &[("0601020305", Text)]));
        // Not the bare SHA-256 of the value.
        let bare: String = crate::acl::password::sha256(b"0601020304")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_ne!(h, bare);
    }

    #[test]
    fn random_and_fake_values_have_their_shape() {
        for _ in 0..50 {
            let v: i32 = ok("anon.random_int_between", &[("5", Int4), ("7", Int4)])
                .parse()
                .unwrap();
            assert!((5..=7).contains(&v));
        }
        let s = ok("anon.random_string", &[("12", Int4)]);
        assert_eq!(s.len(), 12);
        assert!(s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        assert!(FIRST_NAMES.contains(&ok("anon.fake_first_name", &[]).as_str()));
        assert!(LAST_NAMES.contains(&ok("anon.fake_last_name", &[]).as_str()));
        assert!(CITIES.contains(&ok("anon.fake_city", &[]).as_str()));
        assert!(COMPANIES.contains(&ok("anon.fake_company", &[]).as_str()));
        assert!(COUNTRIES.contains(&ok("anon.fake_country", &[]).as_str()));
        let email = ok("anon.fake_email", &[]);
        assert!(email.contains("@example."), "{email}");
        assert_eq!(ok("anon.random_zip", &[]).len(), 5);
        assert!(ok("anon.random_phone", &[("+33", Text)]).starts_with("+33"));
        let d = ok(
            "anon.random_date_between",
            &[
                ("2020-01-01 00:00:00+00", Timestamptz),
                ("2020-01-31 00:00:00+00", Timestamptz),
            ],
        );
        assert!(d.starts_with("2020-01-"), "{d}");
        assert_eq!(
            ok("anon.pseudo_first_name", &[("alice", Text)]),
            ok("anon.pseudo_first_name", &[("alice", Text)])
        );
    }

    #[test]
    fn generalization_gives_ranges() {
        assert_eq!(
            ok("anon.generalize_int4range", &[("42", Int4), ("10", Int4)]),
            "[40,50)"
        );
        assert_eq!(ok("anon.generalize_int4range", &[("-3", Int4)]), "[-10,0)");
        assert_eq!(
            err("anon.generalize_int4range", &[("4", Int4), ("0", Int4)]).0,
            "22023"
        );
        assert_eq!(
            ok(
                "anon.generalize_daterange",
                &[("2024-03-17", Date), ("month", Text)]
            ),
            "[2024-03-01,2024-04-01)"
        );
        assert_eq!(
            ok(
                "anon.generalize_daterange",
                &[("2024-12-17", Date), ("quarter", Text)]
            ),
            "[2024-10-01,2025-01-01)"
        );
        assert_eq!(
            ok("anon.generalize_daterange", &[("1987-06-05", Date)]),
            "[1980-01-01,1990-01-01)"
        );
        assert_eq!(
            ok(
                "anon.generalize_daterange",
                &[("2024-03-17", Date), ("week", Text)]
            ),
            "[2024-03-11,2024-03-18)"
        );
    }
}
