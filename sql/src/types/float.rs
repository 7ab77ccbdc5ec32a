//! `real` and `double precision`: input as PostgreSQL's `float4in`/`float8in` (which lean on
//! glibc's `strtof`/`strtod`), output as `float4out`/`float8out`.
//!
//! Output with `extra_float_digits > 0` (the default since PostgreSQL 12) is the shortest
//! decimal that reads back to the same float, laid out as PostgreSQL's Ryu port does: plain
//! digits for decimal exponents in `-4 ..= DIG-1` (`DIG` = 15 for `float8`, 6 for `float4`),
//! otherwise `d.ddde±XX`. With `extra_float_digits <= 0` it is C's `%.*g` with `DIG + n`
//! digits. The shortest digits come from Rust's formatter, which like Ryu picks the shortest
//! string that round-trips and, among those, the one closest to the exact value.

use super::error::{is_c_space, sqlstate, TypeError};

const FLOAT8_DIG: i32 = 15;
const FLOAT4_DIG: i32 = 6;

/// What glibc's `strtod` reads from the start of a string.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Strtod {
    pub value: f64,
    /// Bytes consumed, leading whitespace included.
    pub len: usize,
    /// Whether a finite literal overflowed to infinity or a non-zero one underflowed to zero
    /// (the cases where `strtod` sets `ERANGE` and PostgreSQL reports out of range).
    pub range_error: bool,
    /// The literal was decimal (or hex) digits, not `inf`/`nan`.
    pub finite_literal: bool,
}

/// glibc's `strtod`: the longest prefix of `text` that is a floating-point literal (decimal,
/// hexadecimal, `inf`, `infinity`, `nan`, `nan(...)`), or `None` if there is none.
pub(crate) fn strtod(text: &str, single_precision: bool) -> Option<Strtod> {
    let s = text.as_bytes();
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let sign_at = i;
    let negative = match s.get(i) {
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
    let rest = &s[i..];
    let starts_with_ci =
        |word: &[u8]| rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word);
    let signed = |v: f64| if negative { -v } else { v };
    if starts_with_ci(b"infinity") || starts_with_ci(b"inf") {
        let len = if starts_with_ci(b"infinity") { 8 } else { 3 };
        return Some(Strtod {
            value: signed(f64::INFINITY),
            len: i + len,
            range_error: false,
            finite_literal: false,
        });
    }
    if starts_with_ci(b"nan") {
        let mut len = 3;
        if rest.get(3) == Some(&b'(') {
            let inner = rest[4..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            if rest.get(4 + inner) == Some(&b')') {
                len = 5 + inner;
            }
        }
        return Some(Strtod {
            value: f64::NAN,
            len: i + len,
            range_error: false,
            finite_literal: false,
        });
    }
    if rest.len() >= 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
        if let Some((value, len, nonzero)) = hex_float(&rest[2..]) {
            let value = signed(value);
            let range_error = value.is_infinite() || (value == 0.0 && nonzero);
            return Some(Strtod {
                value,
                len: i + 2 + len,
                range_error,
                finite_literal: true,
            });
        }
        // "0x" without hex digits reads as the number 0.
    }
    // Decimal: digits, optional point and digits (at least one digit), optional exponent.
    let mut j = 0;
    let mut digits = 0;
    let mut nonzero = false;
    while j < rest.len() && rest[j].is_ascii_digit() {
        nonzero |= rest[j] != b'0';
        digits += 1;
        j += 1;
    }
    if j < rest.len() && rest[j] == b'.' {
        j += 1;
        while j < rest.len() && rest[j].is_ascii_digit() {
            nonzero |= rest[j] != b'0';
            digits += 1;
            j += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if j < rest.len() && (rest[j] | 0x20) == b'e' {
        let mut k = j + 1;
        if k < rest.len() && (rest[k] == b'+' || rest[k] == b'-') {
            k += 1;
        }
        if k < rest.len() && rest[k].is_ascii_digit() {
            while k < rest.len() && rest[k].is_ascii_digit() {
                k += 1;
            }
            j = k;
        }
    }
    let literal = &text[sign_at..i + j];
    let value = if single_precision {
        literal.parse::<f32>().map(f64::from).ok()?
    } else {
        literal.parse::<f64>().ok()?
    };
    let range_error = value.is_infinite() || (value == 0.0 && nonzero);
    Some(Strtod {
        value,
        len: i + j,
        range_error,
        finite_literal: true,
    })
}

/// Reads hex digits with an optional point and binary exponent (after `0x`): the value, the
/// bytes used, and whether any digit was non-zero. `None` without a single hex digit.
fn hex_float(s: &[u8]) -> Option<(f64, usize, bool)> {
    let mut mantissa: u64 = 0;
    let mut exponent: i64 = 0;
    let mut significant = 0;
    let mut sticky = false;
    let mut any_digit = false;
    let mut seen_point = false;
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if b == b'.' && !seen_point {
            seen_point = true;
            i += 1;
            continue;
        }
        let Some(d) = (b as char).to_digit(16) else {
            break;
        };
        any_digit = true;
        if significant < 16 {
            if mantissa != 0 || d != 0 {
                significant += 1;
            }
            mantissa = mantissa * 16 + d as u64;
            if seen_point {
                exponent -= 4;
            }
        } else {
            sticky |= d != 0;
            if !seen_point {
                exponent += 4;
            }
        }
        i += 1;
    }
    if !any_digit {
        return None;
    }
    if i < s.len() && (s[i] | 0x20) == b'p' {
        let mut k = i + 1;
        let negative = match s.get(k) {
            Some(b'-') => {
                k += 1;
                true
            }
            Some(b'+') => {
                k += 1;
                false
            }
            _ => false,
        };
        if k < s.len() && s[k].is_ascii_digit() {
            let mut e: i64 = 0;
            while k < s.len() && s[k].is_ascii_digit() {
                e = (e * 10 + (s[k] - b'0') as i64).min(1 << 40);
                k += 1;
            }
            exponent += if negative { -e } else { e };
            i = k;
        }
    }
    let nonzero = mantissa != 0 || sticky;
    if sticky {
        mantissa |= 1;
    }
    let mut value = mantissa as f64;
    let mut e = exponent;
    while e > 0 && value.is_finite() && value != 0.0 {
        let step = e.min(512);
        value *= 2f64.powi(step as i32);
        e -= step;
    }
    while e < 0 && value != 0.0 {
        let step = (-e).min(512);
        value /= 2f64.powi(step as i32);
        e += step;
    }
    Some((value, i, nonzero))
}

/// `float8in`.
pub(crate) fn parse_float8(text: &str) -> Result<f64, TypeError> {
    parse_float(text, false, "double precision")
}

/// `float4in`.
pub(crate) fn parse_float4(text: &str) -> Result<f32, TypeError> {
    parse_float(text, true, "real").map(|v| v as f32)
}

fn parse_float(text: &str, single: bool, type_name: &str) -> Result<f64, TypeError> {
    let start = text.len()
        - text
            .trim_start_matches(|c: char| c.is_ascii() && is_c_space(c as u8))
            .len();
    let num = &text[start..];
    if num.is_empty() {
        return Err(TypeError::invalid_syntax(type_name, text));
    }
    let parsed = strtod(num, single).ok_or_else(|| TypeError::invalid_syntax(type_name, text))?;
    if parsed.range_error {
        return Err(TypeError::new(
            sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
            format!(
                "\"{}\" is out of range for type {type_name}",
                &num[..parsed.len]
            ),
        ));
    }
    let rest = &num[parsed.len..];
    if !rest.bytes().all(is_c_space) {
        return Err(TypeError::invalid_syntax(type_name, text));
    }
    Ok(parsed.value)
}

/// `float8out` under the given `extra_float_digits`.
pub(crate) fn format_float8(x: f64, extra_float_digits: i32) -> String {
    if let Some(special) = special_text(x) {
        return special.to_string();
    }
    if extra_float_digits > 0 {
        let (negative, digits, exp) = shortest_digits(&format!("{x:e}"));
        layout_shortest(negative, &digits, exp, FLOAT8_DIG)
    } else {
        format_g(x, (FLOAT8_DIG + extra_float_digits).max(1))
    }
}

/// `float4out` under the given `extra_float_digits`.
pub(crate) fn format_float4(x: f32, extra_float_digits: i32) -> String {
    if let Some(special) = special_text(x as f64) {
        return special.to_string();
    }
    if extra_float_digits > 0 {
        shortest_f32(x)
    } else {
        format_g(x as f64, (FLOAT4_DIG + extra_float_digits).max(1))
    }
}

/// The shortest text of a `float4` as PostgreSQL's `float_to_shortest_decimal_buf` writes it;
/// pgvector prints vector elements this way.
pub(crate) fn shortest_f32(x: f32) -> String {
    if let Some(special) = special_text(x as f64) {
        return special.to_string();
    }
    let (negative, digits, exp) = shortest_digits(&format!("{x:e}"));
    layout_shortest(negative, &digits, exp, FLOAT4_DIG)
}

fn special_text(x: f64) -> Option<&'static str> {
    if x.is_nan() {
        Some("NaN")
    } else if x == f64::INFINITY {
        Some("Infinity")
    } else if x == f64::NEG_INFINITY {
        Some("-Infinity")
    } else {
        None
    }
}

/// Splits Rust's `{:e}` output (`-1.2345e-5`) into sign, digits and decimal exponent.
fn shortest_digits(scientific: &str) -> (bool, String, i32) {
    let (negative, body) = match scientific.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, scientific),
    };
    let (mantissa, exp) = body.split_once('e').unwrap_or((body, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    (negative, digits, exp.parse().unwrap_or(0))
}

/// PostgreSQL's Ryu `to_chars`: fixed notation for exponents in `-4 ..= dig-1`, else
/// scientific with at least two exponent digits.
fn layout_shortest(negative: bool, digits: &str, exp: i32, dig: i32) -> String {
    let mut out = String::with_capacity(digits.len() + 8);
    if negative {
        out.push('-');
    }
    let olength = digits.len() as i32;
    if (-4..dig).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(digits);
        } else if olength <= exp + 1 {
            out.push_str(digits);
            out.extend(std::iter::repeat_n('0', (exp + 1 - olength) as usize));
        } else {
            out.push_str(&digits[..(exp + 1) as usize]);
            out.push('.');
            out.push_str(&digits[(exp + 1) as usize..]);
        }
    } else {
        out.push_str(&digits[..1]);
        if olength > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        push_exponent(&mut out, exp);
    }
    out
}

fn push_exponent(out: &mut String, exp: i32) {
    out.push('e');
    out.push(if exp < 0 { '-' } else { '+' });
    let abs = exp.unsigned_abs();
    if abs < 10 {
        out.push('0');
    }
    out.push_str(&abs.to_string());
}

/// C's `%.*g` with `precision` significant digits (finite values only).
fn format_g(x: f64, precision: i32) -> String {
    let scientific = format!("{:.*e}", (precision - 1) as usize, x);
    let (negative, digits, exp) = shortest_digits(&scientific);
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if exp < -4 || exp >= precision {
        let trimmed = digits.trim_end_matches('0');
        let trimmed = if trimmed.is_empty() { "0" } else { trimmed };
        out.push_str(&trimmed[..1]);
        if trimmed.len() > 1 {
            out.push('.');
            out.push_str(&trimmed[1..]);
        }
        push_exponent(&mut out, exp);
    } else {
        let decimals = (precision - 1 - exp).max(0) as usize;
        let fixed = format!("{:.*}", decimals, x.abs());
        let fixed = if fixed.contains('.') {
            fixed.trim_end_matches('0').trim_end_matches('.')
        } else {
            fixed.as_str()
        };
        out.push_str(fixed);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float8_input_matches_postgres() {
        let ok: &[(&str, f64)] = &[
            ("1.5", 1.5),
            ("  -2e3  ", -2000.0),
            ("+.5", 0.5),
            ("5.", 5.0),
            ("1e-310", 1e-310),
            ("0x10", 16.0),
            ("0x1p-2", 0.25),
            ("1E+2", 100.0),
            ("-0", -0.0),
            ("0e-500", 0.0),
        ];
        for (text, want) in ok {
            let got = parse_float8(text).unwrap();
            assert!(
                got == *want && got.is_sign_negative() == want.is_sign_negative(),
                "{text}"
            );
        }
        for (text, inf) in [("Infinity", 1.0), ("-inf", -1.0), ("  +INFINITY ", 1.0)] {
            assert_eq!(parse_float8(text).unwrap(), inf * f64::INFINITY, "{text}");
        }
        for text in ["NaN", "nan", "-NaN", "nan(123)"] {
            assert!(parse_float8(text).unwrap().is_nan(), "{text}");
        }
    }

    #[test]
    fn float8_errors_match_postgres() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "",
                "22P02",
                "invalid input syntax for type double precision: \"\"",
            ),
            (
                "   ",
                "22P02",
                "invalid input syntax for type double precision: \"   \"",
            ),
            (
                "abc",
                "22P02",
                "invalid input syntax for type double precision: \"abc\"",
            ),
            (
                "1.5x",
                "22P02",
                "invalid input syntax for type double precision: \"1.5x\"",
            ),
            (
                "1e",
                "22P02",
                "invalid input syntax for type double precision: \"1e\"",
            ),
            (
                "1e400",
                "22003",
                "\"1e400\" is out of range for type double precision",
            ),
            (
                " -1e400 ",
                "22003",
                "\"-1e400\" is out of range for type double precision",
            ),
            (
                "1e-400",
                "22003",
                "\"1e-400\" is out of range for type double precision",
            ),
            (
                "infinityx",
                "22P02",
                "invalid input syntax for type double precision: \"infinityx\"",
            ),
        ];
        for (text, state, message) in cases {
            let err = parse_float8(text).unwrap_err();
            assert_eq!(
                (err.sqlstate, err.message.as_str()),
                (*state, *message),
                "{text:?}"
            );
        }
        let err = parse_float4("1e39").unwrap_err();
        assert_eq!(err.message, "\"1e39\" is out of range for type real");
        let err = parse_float4("1e-50").unwrap_err();
        assert_eq!(err.message, "\"1e-50\" is out of range for type real");
        assert_eq!(parse_float4("1e-40").unwrap(), 1e-40f32);
    }

    #[test]
    fn float8_output_matches_postgres() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (0.1, "0.1"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e14, "100000000000000"),
            (1e15, "1e+15"),
            (123456789012345.6, "123456789012345.6"),
            (1e20, "1e+20"),
            (1.5e300, "1.5e+300"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.2345e-7, "1.2345e-07"),
            (-3.25, "-3.25"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (5e-324, "5e-324"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (100.0, "100"),
            (2.5e-5, "2.5e-05"),
        ];
        for (x, want) in cases {
            assert_eq!(format_float8(*x, 1), *want, "{x:e}");
        }
    }

    #[test]
    fn float4_output_matches_postgres() {
        let cases: &[(f32, &str)] = &[
            (1.1, "1.1"),
            (0.1, "0.1"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (1e7, "1e+07"),
            (3.4028235e38, "3.4028235e+38"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (-0.0, "-0"),
            (1.0 / 3.0, "0.33333334"),
        ];
        for (x, want) in cases {
            assert_eq!(format_float4(*x, 1), *want, "{x:e}");
        }
    }

    #[test]
    fn digits_follow_extra_float_digits_when_not_positive() {
        assert_eq!(format_float8(0.1 + 0.2, 0), "0.3");
        assert_eq!(format_float8(1.0 / 3.0, 0), "0.333333333333333");
        assert_eq!(format_float8(1e20, 0), "1e+20");
        assert_eq!(format_float8(123456789.0, -10), "1.2346e+08");
        assert_eq!(format_float8(100.0, 0), "100");
        assert_eq!(format_float8(0.00001234, 0), "1.234e-05");
        assert_eq!(format_float4(1.0 / 3.0, 0), "0.333333");
        assert_eq!(format_float4(1234567.0, 0), "1.23457e+06");
        assert_eq!(format_float8(-0.0, 0), "-0");
    }

    #[test]
    fn strtod_reads_the_longest_prefix() {
        let p = strtod("12.5e3xyz", false).unwrap();
        assert_eq!((p.value, p.len), (12500.0, 6));
        let p = strtod("1e+", false).unwrap();
        assert_eq!((p.value, p.len), (1.0, 1));
        let p = strtod("0xg", false).unwrap();
        assert_eq!((p.value, p.len), (0.0, 1));
        let p = strtod("infinit", false).unwrap();
        assert_eq!(p.len, 3);
        assert!(strtod(".", false).is_none());
        assert!(strtod("e5", false).is_none());
    }
}
