//! `numeric` input: PostgreSQL 16's `numeric_in` with `apply_typmod`; output is the storage
//! [`Numeric`]'s `Display`, which prints PostgreSQL's digits.
//!
//! Input accepts surrounding whitespace, a sign, decimal digits with one optional point and an
//! exponent, `0x`/`0o`/`0b` integers and underscores between digits (both new in 16), and
//! `NaN` (unsigned) and `[+-]Infinity`/`inf` in any case. The value keeps its display scale:
//! `1.50` stays `1.50`, `1.5e3` is `1500`. A declared `numeric(p, s)` rounds half away from
//! zero to `s` digits and fails with `numeric field overflow` when more than `p - s` integer
//! digits remain. Values beyond PostgreSQL's format (131072 integer digits, 16383 fraction
//! digits) fail with `value overflows numeric format`; both checks run before any large
//! number is materialised.

use bigdecimal::num_bigint::BigInt;
use bigdecimal::{BigDecimal, RoundingMode};
use storage::types::Numeric;

use super::error::{is_c_space, sqlstate, TypeError};

/// Largest display scale PostgreSQL can store (`NUMERIC_DSCALE_MAX`).
const NUMERIC_DSCALE_MAX: i64 = 0x3FFF;
/// Decimal weight of the first digit past PostgreSQL's range (`(NUMERIC_WEIGHT_MAX + 1) * 4`).
const NUMERIC_DECIMAL_WEIGHT_LIMIT: i64 = 32768 * 4;

/// `numeric_in` for `numeric(precision, scale)` (`precision` `None` for plain `numeric`).
pub(crate) fn parse_numeric(
    text: &str,
    precision: Option<u32>,
    scale: Option<i32>,
) -> Result<Numeric, TypeError> {
    let typmod = precision.map(|p| (p as i64, scale.unwrap_or(0) as i64));
    let invalid = || TypeError::invalid_syntax("numeric", text);
    let s = text.as_bytes();
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let num_start = i;
    let mut negative = false;
    match s.get(i) {
        Some(b'+') => i += 1,
        Some(b'-') => {
            negative = true;
            i += 1;
        }
        _ => {}
    }
    let starts_with_ci = |at: usize, word: &[u8]| {
        s.len() >= at + word.len() && s[at..at + word.len()].eq_ignore_ascii_case(word)
    };

    let first = s.get(i).copied().unwrap_or(0);
    if !first.is_ascii_digit() && first != b'.' {
        let (value, end) = if starts_with_ci(num_start, b"NaN") {
            (Numeric::NaN, num_start + 3)
        } else if starts_with_ci(i, b"Infinity") {
            (infinity(negative), i + 8)
        } else if starts_with_ci(i, b"inf") {
            (infinity(negative), i + 3)
        } else {
            return Err(invalid());
        };
        if !s[end..].iter().all(|b| is_c_space(*b)) {
            return Err(invalid());
        }
        if let (Some((p, sc)), Numeric::Infinity | Numeric::NegInfinity) = (typmod, &value) {
            return Err(field_overflow().with_detail(format!(
                "A field with precision {p}, scale {sc} cannot hold an infinite value."
            )));
        }
        return Ok(value);
    }

    let base = match (first, s.get(i + 1).map(|b| b | 0x20)) {
        (b'0', Some(b'x')) => 16,
        (b'0', Some(b'o')) => 8,
        (b'0', Some(b'b')) => 2,
        _ => 10,
    };
    let (mut value, end) = if base == 10 {
        read_decimal(s, i, negative, typmod.map(|(_, sc)| sc)).ok_or_else(invalid)??
    } else {
        read_non_decimal(s, i + 2, base, negative).ok_or_else(invalid)?
    };
    if !s[end..].iter().all(|b| is_c_space(*b)) {
        return Err(invalid());
    }
    if let Some((p, sc)) = typmod {
        value = apply_typmod(value, p, sc)?;
    }
    check_storable(&value)?;
    Ok(Numeric::Finite(value))
}

fn infinity(negative: bool) -> Numeric {
    if negative {
        Numeric::NegInfinity
    } else {
        Numeric::Infinity
    }
}

fn overflows_format() -> TypeError {
    TypeError::new(
        sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
        "value overflows numeric format",
    )
}

fn field_overflow() -> TypeError {
    TypeError::new(
        sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
        "numeric field overflow",
    )
}

/// PostgreSQL's `set_var_from_str` from the first digit or point: the value (with its display
/// scale) and where it ended. `None` for a syntax error, `Some(Err)` for an exponent that
/// overflows the format. With `round_scale` (the column's scale), digits that rounding to
/// that scale cannot see are dropped before the number is built: rounding half away from zero
/// only looks at the first digit past the scale.
#[allow(clippy::type_complexity)]
fn read_decimal(
    s: &[u8],
    mut i: usize,
    negative: bool,
    round_scale: Option<i64>,
) -> Option<Result<(BigDecimal, usize), TypeError>> {
    let mut digits: Vec<u8> = Vec::new();
    let mut integer_digits: i64 = 0;
    let mut fraction_digits: i64 = 0;
    let mut have_point = false;
    if s.get(i) == Some(&b'.') {
        have_point = true;
        i += 1;
    }
    if !s.get(i)?.is_ascii_digit() {
        return None;
    }
    while i < s.len() {
        let b = s[i];
        if b.is_ascii_digit() {
            digits.push(b);
            if have_point {
                fraction_digits += 1;
            } else {
                integer_digits += 1;
            }
            i += 1;
        } else if b == b'.' {
            if have_point {
                return None;
            }
            have_point = true;
            i += 1;
            if s.get(i) == Some(&b'_') {
                return None;
            }
        } else if b == b'_' {
            i += 1;
            if !s.get(i).is_some_and(u8::is_ascii_digit) {
                return None;
            }
        } else {
            break;
        }
    }
    let mut exponent: i64 = 0;
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        let mut exp_negative = false;
        match s.get(i) {
            Some(b'+') => i += 1,
            Some(b'-') => {
                exp_negative = true;
                i += 1;
            }
            _ => {}
        }
        if !s.get(i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        while i < s.len() {
            if s[i].is_ascii_digit() {
                exponent = exponent * 10 + (s[i] - b'0') as i64;
                if exponent > i32::MAX as i64 / 2 {
                    return Some(Err(overflows_format()));
                }
                i += 1;
            } else if s[i] == b'_' {
                i += 1;
                if !s.get(i).is_some_and(u8::is_ascii_digit) {
                    return None;
                }
            } else {
                break;
            }
        }
        if exp_negative {
            exponent = -exponent;
        }
    }
    let mut display_scale = (fraction_digits - exponent).max(0);
    let mut natural_scale = fraction_digits - exponent;
    if let Some(scale) = round_scale {
        let keep = (integer_digits + exponent + scale + 1).clamp(0, digits.len() as i64);
        let dropped = digits.len() as i64 - keep;
        if dropped > 0 {
            digits.truncate(keep as usize);
            natural_scale -= dropped;
            display_scale = natural_scale.max(0);
            if digits.is_empty() {
                digits.push(b'0');
                natural_scale = 0;
                display_scale = 0;
            }
        }
    }
    // Refuse values PostgreSQL cannot store before building them (it checks the same bounds
    // after the fact): too many fraction digits, or a leading digit past the largest weight.
    if round_scale.is_none() && display_scale > NUMERIC_DSCALE_MAX {
        return Some(Err(overflows_format()));
    }
    let first_nonzero = match digits.iter().position(|d| *d != b'0') {
        None => return Some(Ok((BigDecimal::new(BigInt::from(0), display_scale), i))),
        Some(first_nonzero) => first_nonzero,
    };
    let weight = integer_digits - 1 - first_nonzero as i64 + exponent;
    if weight >= NUMERIC_DECIMAL_WEIGHT_LIMIT {
        return Some(Err(overflows_format()));
    }
    let mut mantissa = BigInt::parse_bytes(&digits[first_nonzero..], 10)?;
    if negative {
        mantissa = -mantissa;
    }
    let mut value = BigDecimal::new(mantissa, natural_scale);
    if natural_scale < display_scale {
        value = value.with_scale(display_scale);
    }
    Some(Ok((value, i)))
}

/// PostgreSQL's `set_var_from_non_decimal_integer_str`: digits of base 2, 8 or 16 after the
/// prefix, single underscores allowed between them.
fn read_non_decimal(
    s: &[u8],
    mut i: usize,
    base: u32,
    negative: bool,
) -> Option<(BigDecimal, usize)> {
    let first = i;
    let mut digits: Vec<u8> = Vec::new();
    while i < s.len() {
        let b = s[i];
        if (b as char).is_digit(base) {
            digits.push(b);
            i += 1;
        } else if b == b'_' {
            i += 1;
            if s.get(i).is_none_or(|b| !(*b as char).is_digit(base)) {
                return None;
            }
        } else {
            break;
        }
    }
    if i == first {
        return None;
    }
    let mut mantissa = BigInt::parse_bytes(&digits, base)?;
    if negative {
        mantissa = -mantissa;
    }
    Some((BigDecimal::new(mantissa, 0), i))
}

/// Number of digits before the decimal point of a non-zero value (negative for values below
/// 0.1: 0.05 has -1).
fn integer_digit_count(value: &BigDecimal) -> Option<i64> {
    let (mantissa, scale) = value.as_bigint_and_exponent();
    if mantissa.sign() == bigdecimal::num_bigint::Sign::NoSign {
        return None;
    }
    Some(value.digits() as i64 - scale)
}

/// PostgreSQL's `apply_typmod`: round to `scale` digits, then check the integer digits.
fn apply_typmod(value: BigDecimal, precision: i64, scale: i64) -> Result<BigDecimal, TypeError> {
    let max_digits = precision - scale;
    let too_big = || {
        let bound = if max_digits != 0 {
            format!("10^{max_digits}")
        } else {
            "1".to_string()
        };
        field_overflow().with_detail(format!(
            "A field with precision {precision}, scale {scale} must round to an absolute value less than {bound}."
        ))
    };
    // Rounding never adds more than one integer digit, so a value already two digits over
    // cannot fit; refuse it before rounding a possibly enormous number.
    if integer_digit_count(&value).is_some_and(|d| d > max_digits + 1) {
        return Err(too_big());
    }
    let rounded = value.with_scale_round(scale, RoundingMode::HalfUp);
    if integer_digit_count(&rounded).is_some_and(|d| d > max_digits) {
        return Err(too_big());
    }
    Ok(if scale < 0 {
        rounded.with_scale(0)
    } else {
        rounded
    })
}

/// PostgreSQL's `make_result` limits: display scale and weight must fit its header fields.
fn check_storable(value: &BigDecimal) -> Result<(), TypeError> {
    let (_, scale) = value.as_bigint_and_exponent();
    if scale > NUMERIC_DSCALE_MAX {
        return Err(overflows_format());
    }
    if integer_digit_count(value).is_some_and(|d| d > NUMERIC_DECIMAL_WEIGHT_LIMIT) {
        return Err(overflows_format());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(text: &str, precision: Option<u32>, scale: Option<i32>) -> Result<String, String> {
        parse_numeric(text, precision, scale)
            .map(|n| n.to_string())
            .map_err(|e| format!("{} {}", e.sqlstate, e.message))
    }

    #[test]
    fn unconstrained_input_keeps_the_written_scale() {
        let cases: &[(&str, &str)] = &[
            ("0", "0"),
            ("1.50", "1.50"),
            ("-1.50", "-1.50"),
            ("  42  ", "42"),
            ("+7", "7"),
            (".5", "0.5"),
            ("5.", "5"),
            ("-0", "0"),
            ("-0.00", "0.00"),
            ("0.000", "0.000"),
            ("1e3", "1000"),
            ("1.5e3", "1500"),
            ("1.5E-3", "0.0015"),
            ("12.345e1", "123.45"),
            ("1e-5", "0.00001"),
            ("0e5", "0"),
            ("0.00e1", "0.0"),
            ("1_000.000_1", "1000.0001"),
            ("1e1_0", "10000000000"),
            ("0x1F", "31"),
            ("-0x_ff", "-255"),
            ("0o777", "511"),
            ("0b1010", "10"),
            ("0xFFFFFFFFFFFFFFFFFFFF", "1208925819614629174706175"),
            (
                "123456789012345678901234567890.123456789",
                "123456789012345678901234567890.123456789",
            ),
            ("NaN", "NaN"),
            ("nan", "NaN"),
            (" NAN ", "NaN"),
            ("Infinity", "Infinity"),
            ("-infinity", "-Infinity"),
            ("+inf", "Infinity"),
            ("-INF", "-Infinity"),
        ];
        for (text, want) in cases {
            assert_eq!(show(text, None, None).as_deref(), Ok(*want), "{text:?}");
        }
    }

    #[test]
    fn malformed_input_is_rejected_like_postgres() {
        for text in [
            "",
            " ",
            "abc",
            "1.2.3",
            "1e",
            "1e+",
            "--1",
            "+-1",
            "1 2",
            ".",
            "..5",
            "1_",
            "_1",
            "1__0",
            "1._5",
            "1_.5",
            "-NaN",
            "+nan",
            "nanx",
            "infinit",
            "infinityx",
            "0x",
            "0xg",
            "0b2",
            "1e5x",
            "1e_5",
        ] {
            assert_eq!(
                show(text, None, None),
                Err(format!(
                    "22P02 invalid input syntax for type numeric: \"{text}\""
                )),
                "{text:?}"
            );
        }
        for text in ["1e2000000000", "1e131072", "1e-20000"] {
            assert_eq!(
                show(text, None, None),
                Err("22003 value overflows numeric format".to_string()),
                "{text:?}"
            );
        }
        assert!(show("1e131071", None, None).is_ok());
    }

    #[test]
    fn typmod_rounds_half_away_from_zero_and_checks_precision() {
        let cases: &[(&str, u32, i32, &str)] = &[
            ("1.005", 5, 2, "1.01"),
            ("-1.005", 5, 2, "-1.01"),
            ("1.004", 5, 2, "1.00"),
            ("2.5", 3, 0, "3"),
            ("-2.5", 3, 0, "-3"),
            ("1.5", 10, 3, "1.500"),
            ("999.994", 5, 2, "999.99"),
            ("12345", 5, -2, "12300"),
            ("0.0004", 3, 3, "0.000"),
            ("0.05", 2, 3, "0.050"),
            ("NaN", 5, 2, "NaN"),
            ("0", 1, 0, "0"),
            ("1e-3", 4, 3, "0.001"),
        ];
        for (text, p, s, want) in cases {
            assert_eq!(
                show(text, Some(*p), Some(*s)).as_deref(),
                Ok(*want),
                "{text} ({p},{s})"
            );
        }
        let err = parse_numeric("999.995", Some(5), Some(2)).unwrap_err();
        assert_eq!(
            (err.sqlstate, err.message.as_str()),
            ("22003", "numeric field overflow")
        );
        assert_eq!(
            err.detail.as_deref(),
            Some(
                "A field with precision 5, scale 2 must round to an absolute value less than 10^3."
            )
        );
        let err = parse_numeric("1", Some(2), Some(2)).unwrap_err();
        assert_eq!(
            err.detail.as_deref(),
            Some("A field with precision 2, scale 2 must round to an absolute value less than 1.")
        );
        let err = parse_numeric("0.1", Some(2), Some(3)).unwrap_err();
        assert_eq!(
            err.detail.as_deref(),
            Some("A field with precision 2, scale 3 must round to an absolute value less than 10^-1.")
        );
        let err = parse_numeric("-Infinity", Some(10), None).unwrap_err();
        assert_eq!(err.message, "numeric field overflow");
        assert_eq!(
            err.detail.as_deref(),
            Some("A field with precision 10, scale 0 cannot hold an infinite value.")
        );
        assert!(parse_numeric("1e100000", Some(5), Some(0)).is_err());
    }
}
