//! COPY fields to values. Bulk loads are mostly integers and text: for those a field is read
//! straight from its bytes when it has the plain form (`-?[0-9]{1,18}` within the type's
//! range; valid UTF-8 without NUL), which gives exactly the value the SQL layer's input
//! function gives. Anything else (other types, spaces, signs, overflow, bad bytes) goes
//! through [`sql::Session::input_text`], whose errors are PostgreSQL's.

use sql::SqlType;
use storage::types::Value;

/// How the fields of one column are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldInput {
    Int2,
    Int4,
    Int8,
    /// `text` and `varchar` without a length limit.
    Text,
    /// Only through the SQL layer's input function.
    General,
}

impl FieldInput {
    pub fn of(sql_type: &SqlType) -> FieldInput {
        match sql_type {
            SqlType::Int2 => FieldInput::Int2,
            SqlType::Int4 => FieldInput::Int4,
            SqlType::Int8 => FieldInput::Int8,
            SqlType::Text | SqlType::Varchar(None) => FieldInput::Text,
            _ => FieldInput::General,
        }
    }

    /// The value of a text or CSV field when it has the plain form; `None` sends it to the
    /// general input function.
    #[inline]
    pub fn direct(self, bytes: &[u8]) -> Option<Value> {
        match self {
            FieldInput::Int2 => plain_integer(bytes)
                .and_then(|n| i16::try_from(n).ok())
                .map(Value::Int2),
            FieldInput::Int4 => plain_integer(bytes)
                .and_then(|n| i32::try_from(n).ok())
                .map(Value::Int4),
            FieldInput::Int8 => plain_integer(bytes).map(Value::Int8),
            FieldInput::Text => {
                if bytes.contains(&0) {
                    return None;
                }
                std::str::from_utf8(bytes)
                    .ok()
                    .map(|text| Value::Text(text.to_owned()))
            }
            FieldInput::General => None,
        }
    }
}

/// An optional minus and 1 to 18 decimal digits (so that no overflow is possible).
#[inline]
fn plain_integer(bytes: &[u8]) -> Option<i64> {
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut value: i64 = 0;
    for &byte in digits {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value * 10 + i64::from(digit);
    }
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_forms_are_read_directly() {
        assert_eq!(FieldInput::Int4.direct(b"42"), Some(Value::Int4(42)));
        assert_eq!(FieldInput::Int4.direct(b"-007"), Some(Value::Int4(-7)));
        assert_eq!(
            FieldInput::Int4.direct(b"-2147483648"),
            Some(Value::Int4(i32::MIN))
        );
        assert_eq!(FieldInput::Int2.direct(b"32767"), Some(Value::Int2(32767)));
        assert_eq!(
            FieldInput::Int8.direct(b"123456789012345678"),
            Some(Value::Int8(123_456_789_012_345_678))
        );
        assert_eq!(
            FieldInput::Text.direct("née".as_bytes()),
            Some(Value::Text("née".into()))
        );
        assert_eq!(
            FieldInput::Text.direct(b""),
            Some(Value::Text(String::new()))
        );
    }

    #[test]
    fn everything_else_goes_to_the_input_function() {
        for field in [
            &b""[..],
            b"-",
            b" 1",
            b"1 ",
            b"+1",
            b"1.0",
            b"x",
            b"0x10",
            b"1_000",
            b"2147483648",
            b"1234567890123456789",
        ] {
            assert_eq!(FieldInput::Int4.direct(field), None, "{field:?}");
        }
        assert_eq!(FieldInput::Int2.direct(b"32768"), None);
        assert_eq!(FieldInput::Text.direct(b"a\0b"), None);
        assert_eq!(FieldInput::Text.direct(b"\xff"), None);
        assert_eq!(FieldInput::General.direct(b"1"), None);
        assert_eq!(
            FieldInput::of(&SqlType::Varchar(Some(3))),
            FieldInput::General
        );
    }
}
