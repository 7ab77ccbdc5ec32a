//! `smallint`, `integer` and `bigint` input: PostgreSQL 16's `pg_strtoint16/32/64`.
//!
//! Accepted: surrounding whitespace, a sign, decimal digits, and (new in 16) `0x`, `0o` and
//! `0b` prefixes and single underscores between digits (`1_000_000`). Like PostgreSQL, a
//! value's magnitude is checked while digits are read, so `99999999999abc` is out of range
//! rather than malformed. Output is plain decimal.

use super::error::{is_c_space, TypeError};

/// Reads a signed integer of `bits` bits (16, 32 or 64); `type_name` is for error messages.
pub(crate) fn parse_integer(text: &str, bits: u32, type_name: &str) -> Result<i64, TypeError> {
    debug_assert!(matches!(bits, 16 | 32 | 64));
    let s = text.as_bytes();
    let out_of_range = || TypeError::integer_out_of_range(type_name, text);
    let invalid = || TypeError::invalid_syntax(type_name, text);
    // Largest magnitude: 2^(bits-1), reached only by the most negative value.
    let limit: u64 = 1u64 << (bits - 1);

    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut negative = false;
    match s.get(i) {
        Some(b'-') => {
            negative = true;
            i += 1;
        }
        Some(b'+') => i += 1,
        _ => {}
    }
    let base: u64 = match (s.get(i), s.get(i + 1).map(|b| b | 0x20)) {
        (Some(b'0'), Some(b'x')) => 16,
        (Some(b'0'), Some(b'o')) => 8,
        (Some(b'0'), Some(b'b')) => 2,
        _ => 10,
    };
    if base != 10 {
        i += 2;
    }
    let digit_of = |b: u8| -> Option<u64> {
        let d = (b as char).to_digit(16)? as u64;
        (d < base).then_some(d)
    };
    let first_digit = i;
    let mut magnitude: u64 = 0;
    while i < s.len() {
        if let Some(d) = digit_of(s[i]) {
            if magnitude > limit / base {
                return Err(out_of_range());
            }
            magnitude = magnitude * base + d;
            i += 1;
        } else if s[i] == b'_' {
            // Decimal numbers may not start with an underscore; any underscore must be
            // followed by another digit.
            if base == 10 && i == first_digit {
                return Err(invalid());
            }
            i += 1;
            if i >= s.len() || digit_of(s[i]).is_none() {
                return Err(invalid());
            }
        } else {
            break;
        }
    }
    if i == first_digit {
        return Err(invalid());
    }
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    if i != s.len() {
        return Err(invalid());
    }
    if negative {
        if magnitude > limit {
            return Err(out_of_range());
        }
        Ok((magnitude as i128).wrapping_neg() as i64)
    } else {
        if magnitude >= limit {
            return Err(out_of_range());
        }
        Ok(magnitude as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int4(text: &str) -> Result<i64, (String, String)> {
        parse_integer(text, 32, "integer").map_err(|e| (e.sqlstate.to_string(), e.message))
    }

    #[test]
    fn integer_input_matches_postgres() {
        let ok: &[(&str, i64)] = &[
            ("0", 0),
            ("42", 42),
            ("-42", -42),
            ("+42", 42),
            ("  42  ", 42),
            ("\t\n42\r\n", 42),
            ("2147483647", 2147483647),
            ("-2147483648", -2147483648),
            ("0002147483647", 2147483647),
            ("-0", 0),
            ("1_000_000", 1000000),
            ("0x1F", 31),
            ("0X1f", 31),
            ("-0x80000000", -2147483648),
            ("0o17", 15),
            ("0b101", 5),
            ("0x_1F", 31),
            ("0b1_0", 2),
        ];
        for (text, want) in ok {
            assert_eq!(int4(text), Ok(*want), "{text:?}");
        }
    }

    #[test]
    fn integer_errors_match_postgres() {
        let syntax = |t: &str| {
            Err((
                "22P02".into(),
                format!("invalid input syntax for type integer: \"{t}\""),
            ))
        };
        let range = |t: &str| {
            Err((
                "22003".into(),
                format!("value \"{t}\" is out of range for type integer"),
            ))
        };
        for text in [
            "", " ", "abc", "1.5", "1e3", "12a", "- 1", "--1", "+-1", "1 2", "_1", "1_", "1__0",
            "0x", "0b2", "0o8", "0x1G", "１",
        ] {
            assert_eq!(int4(text), syntax(text), "{text:?}");
        }
        for text in [
            "2147483648",
            "-2147483649",
            "99999999999",
            "99999999999abc",
            "0x80000000",
            "0b111111111111111111111111111111111",
        ] {
            assert_eq!(int4(text), range(text), "{text:?}");
        }
    }

    #[test]
    fn every_width_has_its_own_limits_and_name() {
        assert_eq!(parse_integer("32767", 16, "smallint"), Ok(32767));
        assert_eq!(parse_integer("-32768", 16, "smallint"), Ok(-32768));
        let err = parse_integer("32768", 16, "smallint").unwrap_err();
        assert_eq!(
            err.message,
            "value \"32768\" is out of range for type smallint"
        );
        assert_eq!(
            parse_integer("9223372036854775807", 64, "bigint"),
            Ok(i64::MAX)
        );
        assert_eq!(
            parse_integer("-9223372036854775808", 64, "bigint"),
            Ok(i64::MIN)
        );
        let err = parse_integer("9223372036854775808", 64, "bigint").unwrap_err();
        assert_eq!(
            err.message,
            "value \"9223372036854775808\" is out of range for type bigint"
        );
        let err = parse_integer("x", 64, "bigint").unwrap_err();
        assert_eq!(err.message, "invalid input syntax for type bigint: \"x\"");
    }
}
