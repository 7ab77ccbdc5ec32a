//! Text output written straight into a message for the types point lookups return most
//! (integers and text): the same bytes as the SQL layer's output functions
//! (`Session::output_text`), without the intermediate `String` per value. Every other type
//! goes through `output_text`.

use sql::SqlType;
use storage::types::Value;

/// Appends the text form of `value` (a column of `sql_type`) to `out` when it is one of the
/// directly written forms; returns `false` (having written nothing) otherwise.
#[inline]
pub fn write_direct(value: &Value, sql_type: &SqlType, out: &mut Vec<u8>) -> bool {
    match (sql_type, value) {
        (SqlType::Int2, Value::Int2(n)) => write_integer(i64::from(*n), out),
        (SqlType::Int4, Value::Int4(n)) => write_integer(i64::from(*n), out),
        (SqlType::Int8, Value::Int8(n)) => write_integer(*n, out),
        (SqlType::Text | SqlType::Varchar(_), Value::Text(text)) => {
            out.extend_from_slice(text.as_bytes())
        }
        _ => return false,
    }
    true
}

/// Appends `n` in decimal.
fn write_integer(n: i64, out: &mut Vec<u8>) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut magnitude = n.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (magnitude % 10) as u8;
        magnitude /= 10;
        if magnitude == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[at..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_what_the_output_functions_write() {
        let cases = [
            (Value::Int4(0), SqlType::Int4),
            (Value::Int4(-42), SqlType::Int4),
            (Value::Int4(i32::MIN), SqlType::Int4),
            (Value::Int2(i16::MAX), SqlType::Int2),
            (Value::Int8(i64::MIN), SqlType::Int8),
            (Value::Int8(1234567890123), SqlType::Int8),
            (Value::Text("a \"b\"\tc".into()), SqlType::Text),
            (Value::Text("x".into()), SqlType::Varchar(Some(3))),
        ];
        for (value, sql_type) in cases {
            let mut out = Vec::new();
            assert!(write_direct(&value, &sql_type, &mut out));
            let expected = sql::types::format_text(
                &value,
                &sql_type.representation(),
                &sql::types::SessionFormat::default(),
            );
            assert_eq!(String::from_utf8(out).unwrap(), expected, "{value:?}");
        }
        let mut out = Vec::new();
        assert!(!write_direct(&Value::Int8(1), &SqlType::Oid, &mut out));
        assert!(!write_direct(&Value::Bool(true), &SqlType::Bool, &mut out));
        assert!(out.is_empty());
    }
}
