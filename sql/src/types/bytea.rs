//! `bytea`: PostgreSQL's `byteain` and `byteaout` (with `bytea_output = hex`).
//!
//! Input starting with `\x` is hex: pairs of hex digits in any case, with spaces, tabs and
//! newlines allowed between pairs. Anything else is the traditional escape format: bytes as
//! written, `\\` for a backslash and `\ooo` (three octal digits, first 0-3) for any byte.
//! Output is always `\x` followed by lower-case hex.

use super::error::{sqlstate, TypeError};

/// `byteain`.
pub(crate) fn parse_bytea(text: &str) -> Result<Vec<u8>, TypeError> {
    if let Some(hex) = text.strip_prefix("\\x") {
        return decode_hex(hex);
    }
    let s = text.as_bytes();
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'\\' {
            out.push(s[i]);
            i += 1;
        } else if i + 3 < s.len()
            && (b'0'..=b'3').contains(&s[i + 1])
            && (b'0'..=b'7').contains(&s[i + 2])
            && (b'0'..=b'7').contains(&s[i + 3])
        {
            out.push((s[i + 1] - b'0') * 64 + (s[i + 2] - b'0') * 8 + (s[i + 3] - b'0'));
            i += 4;
        } else if s.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else {
            return Err(TypeError::new(
                sqlstate::INVALID_TEXT_REPRESENTATION,
                "invalid input syntax for type bytea",
            ));
        }
    }
    Ok(out)
}

/// PostgreSQL's `hex_decode_safe`.
fn decode_hex(hex: &str) -> Result<Vec<u8>, TypeError> {
    let mut out = Vec::with_capacity(hex.len() / 2);
    let mut chars = hex.chars();
    let bad_digit = |c: char| {
        TypeError::new(
            sqlstate::INVALID_PARAMETER_VALUE,
            format!("invalid hexadecimal digit: \"{c}\""),
        )
    };
    while let Some(c) = chars.next() {
        if matches!(c, ' ' | '\n' | '\t' | '\r') {
            continue;
        }
        let high = c.to_digit(16).ok_or_else(|| bad_digit(c))?;
        let Some(c2) = chars.next() else {
            return Err(TypeError::new(
                sqlstate::INVALID_PARAMETER_VALUE,
                "invalid hexadecimal data: odd number of digits",
            ));
        };
        let low = c2.to_digit(16).ok_or_else(|| bad_digit(c2))?;
        out.push((high * 16 + low) as u8);
    }
    Ok(out)
}

/// `byteaout` in hex format.
pub(crate) fn format_bytea(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(2 + bytes.len() * 2);
    out.push_str("\\x");
    for b in bytes {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_input_and_output() {
        let cases: &[(&str, &[u8])] = &[
            ("\\x", b""),
            ("\\x00ff", &[0, 255]),
            ("\\xDEADbeef", &[0xde, 0xad, 0xbe, 0xef]),
            ("\\x de ad\n\tbe\r ef ", &[0xde, 0xad, 0xbe, 0xef]),
        ];
        for (text, bytes) in cases {
            assert_eq!(parse_bytea(text).as_deref(), Ok(*bytes), "{text:?}");
        }
        assert_eq!(format_bytea(&[0xde, 0xad, 0x00, 0x0f]), "\\xdead000f");
        assert_eq!(format_bytea(b""), "\\x");
    }

    #[test]
    fn escape_input() {
        let cases: &[(&str, &[u8])] = &[
            ("", b""),
            ("abc", b"abc"),
            ("a\\\\b", b"a\\b"),
            ("\\000\\377\\101", &[0, 255, 65]),
            ("é", "é".as_bytes()),
        ];
        for (text, bytes) in cases {
            assert_eq!(parse_bytea(text).as_deref(), Ok(*bytes), "{text:?}");
        }
    }

    #[test]
    fn errors_match_postgres() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "\\x0",
                "22023",
                "invalid hexadecimal data: odd number of digits",
            ),
            ("\\x0g", "22023", "invalid hexadecimal digit: \"g\""),
            ("\\xzz", "22023", "invalid hexadecimal digit: \"z\""),
            ("\\x0 1", "22023", "invalid hexadecimal digit: \" \""),
            ("\\xé0", "22023", "invalid hexadecimal digit: \"é\""),
            ("\\", "22P02", "invalid input syntax for type bytea"),
            ("a\\b", "22P02", "invalid input syntax for type bytea"),
            ("\\400", "22P02", "invalid input syntax for type bytea"),
            ("\\12", "22P02", "invalid input syntax for type bytea"),
            ("\\X00", "22P02", "invalid input syntax for type bytea"),
        ];
        for (text, state, message) in cases {
            let e = parse_bytea(text).unwrap_err();
            assert_eq!(
                (e.sqlstate, e.message.as_str()),
                (*state, *message),
                "{text:?}"
            );
        }
    }
}
