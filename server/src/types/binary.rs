//! PostgreSQL's binary wire formats (`typsend` / `typrecv`) of every type custos has.
//!
//! All integers are big-endian. `bool` is one byte; `int2/4/8`, `float4/8` their bytes;
//! `oid` and the `reg*` types an unsigned Int32; text-like types (`text`, `varchar`, `bpchar`,
//! `name`, `unknown`, `json`) their UTF-8 bytes; `"char"` one byte; `jsonb` the version byte 1
//! and the text; `bytea` its bytes; `date` Int32 days and `time`, `timestamp`, `timestamptz`
//! Int64 microseconds, since 2000-01-01 for the dates; `interval` Int64 microseconds, Int32
//! days, Int32 months; `uuid` 16 bytes; `numeric` as in [`super::numeric`]; arrays as in
//! [`super::array`]; pgvector's `vector` Int16 dimensions, Int16 0, then big-endian float4s.
//!
//! Decoding checks lengths exactly and ranges as PostgreSQL's receive functions do, and hands
//! types whose value needs the SQL layer's normalisation (`json`, `jsonb`, modifiers such as
//! `varchar(n)`) to the text input function through [`TextInput`].

use sql::error::code;
use sql::{SqlError, SqlType};
use storage::types::{Interval, Value};

use super::{array, numeric};

/// The SQL layer's text input function (`Session::input_text`), for values whose binary form
/// is text that must be checked or normalised.
pub type TextInput<'a> = &'a dyn Fn(&str, &SqlType) -> Result<Value, SqlError>;

/// Largest `vector` dimension count (pgvector's `VECTOR_MAX_DIM`).
const VECTOR_MAX_DIM: i32 = 16_000;
/// `date` range of PostgreSQL (days since 2000-01-01): Julian day 0 up to `END_DATE`.
const MIN_DATE: i32 = -2_451_545;
const END_DATE: i32 = 2_147_483_494 - 2_451_545;
/// `timestamp` range (microseconds since 2000-01-01): 4714-11-24 BC up to 294277 AD.
const MIN_TIMESTAMP: i64 = -211_813_488_000_000_000;
const END_TIMESTAMP: i64 = 9_223_371_331_200_000_000;
const MICROS_PER_DAY: i64 = 86_400_000_000;

fn wrong_value(value: &Value, sql_type: &SqlType) -> SqlError {
    SqlError::internal(format!(
        "cannot send {value:?} as binary {}",
        sql_type.display_name()
    ))
}

fn integer_of(value: &Value) -> Option<i64> {
    match value {
        Value::Int2(x) => Some(i64::from(*x)),
        Value::Int4(x) => Some(i64::from(*x)),
        Value::Int8(x) => Some(*x),
        _ => None,
    }
}

fn text_of(value: &Value) -> Option<&str> {
    match value {
        Value::Text(s) | Value::Json(s) | Value::Jsonb(s) => Some(s),
        _ => None,
    }
}

/// Whether custos can send values of `sql_type` in binary.
pub fn has_binary_output(sql_type: &SqlType) -> bool {
    match sql_type {
        SqlType::Record
        | SqlType::Composite(_)
        | SqlType::AnyElement
        | SqlType::AnyArray
        | SqlType::Any => false,
        SqlType::Array(element) => has_binary_output(element),
        _ => true,
    }
}

/// Appends the binary form of a non-NULL `value` of `sql_type`.
pub fn encode(value: &Value, sql_type: &SqlType, out: &mut Vec<u8>) -> Result<(), SqlError> {
    let mismatch = || wrong_value(value, sql_type);
    match sql_type {
        SqlType::Bool => match value {
            Value::Bool(b) => out.push(u8::from(*b)),
            _ => return Err(mismatch()),
        },
        SqlType::Int2 => {
            let x = integer_of(value).ok_or_else(mismatch)?;
            let x = i16::try_from(x).map_err(|_| mismatch())?;
            out.extend_from_slice(&x.to_be_bytes());
        }
        SqlType::Int4 => {
            let x = integer_of(value).ok_or_else(mismatch)?;
            let x = i32::try_from(x).map_err(|_| mismatch())?;
            out.extend_from_slice(&x.to_be_bytes());
        }
        SqlType::Int8 => {
            let x = integer_of(value).ok_or_else(mismatch)?;
            out.extend_from_slice(&x.to_be_bytes());
        }
        SqlType::Oid
        | SqlType::RegClass
        | SqlType::RegType
        | SqlType::RegProc
        | SqlType::RegProcedure
        | SqlType::RegNamespace
        | SqlType::RegRole => {
            let x = integer_of(value).ok_or_else(mismatch)?;
            out.extend_from_slice(&(x as u32).to_be_bytes());
        }
        SqlType::Float4 => match value {
            Value::Float4(x) => out.extend_from_slice(&x.to_be_bytes()),
            Value::Float8(x) => out.extend_from_slice(&(*x as f32).to_be_bytes()),
            _ => return Err(mismatch()),
        },
        SqlType::Float8 => match value {
            Value::Float8(x) => out.extend_from_slice(&x.to_be_bytes()),
            Value::Float4(x) => out.extend_from_slice(&f64::from(*x).to_be_bytes()),
            _ => return Err(mismatch()),
        },
        SqlType::Numeric { .. } => match value {
            Value::Numeric(n) => numeric::encode(n, out)?,
            other => {
                let x = integer_of(other).ok_or_else(mismatch)?;
                numeric::encode(&storage::types::Numeric::from_i64(x), out)?;
            }
        },
        SqlType::Text
        | SqlType::Varchar(_)
        | SqlType::Char(_)
        | SqlType::Name
        | SqlType::Unknown
        | SqlType::PgNodeTree
        | SqlType::AclItem
        | SqlType::Json => out.extend_from_slice(text_of(value).ok_or_else(mismatch)?.as_bytes()),
        SqlType::Jsonb => {
            out.push(1);
            out.extend_from_slice(text_of(value).ok_or_else(mismatch)?.as_bytes());
        }
        SqlType::InternalChar => {
            let text = text_of(value).ok_or_else(mismatch)?;
            out.push(text.as_bytes().first().copied().unwrap_or(0));
        }
        SqlType::Bytea => match value {
            Value::Bytea(b) => out.extend_from_slice(b),
            _ => return Err(mismatch()),
        },
        SqlType::Date => match value {
            Value::Date(d) => out.extend_from_slice(&d.to_be_bytes()),
            _ => return Err(mismatch()),
        },
        SqlType::Time => match value {
            Value::Time(t) => out.extend_from_slice(&t.to_be_bytes()),
            _ => return Err(mismatch()),
        },
        SqlType::Timestamp | SqlType::Timestamptz => match value {
            Value::Timestamp(t) | Value::Timestamptz(t) => out.extend_from_slice(&t.to_be_bytes()),
            _ => return Err(mismatch()),
        },
        SqlType::Interval => match value {
            Value::Interval(i) => {
                out.extend_from_slice(&i.micros.to_be_bytes());
                out.extend_from_slice(&i.days.to_be_bytes());
                out.extend_from_slice(&i.months.to_be_bytes());
            }
            _ => return Err(mismatch()),
        },
        SqlType::Uuid => match value {
            Value::Uuid(u) => out.extend_from_slice(u),
            _ => return Err(mismatch()),
        },
        SqlType::Vector(_) => match value {
            Value::Vector(v) => {
                let dims = i16::try_from(v.len()).map_err(|_| mismatch())?;
                out.extend_from_slice(&dims.to_be_bytes());
                out.extend_from_slice(&[0, 0]);
                for x in v {
                    out.extend_from_slice(&x.to_be_bytes());
                }
            }
            _ => return Err(mismatch()),
        },
        SqlType::Array(element) => match value {
            Value::Array(a) => array::encode(a, element, out)?,
            _ => return Err(mismatch()),
        },
        SqlType::Int2Vector | SqlType::OidVector => {
            let element = if *sql_type == SqlType::Int2Vector {
                SqlType::Int2
            } else {
                SqlType::Oid
            };
            match value {
                Value::Array(a) => array::encode(a, &element, out)?,
                _ => return Err(mismatch()),
            }
        }
        SqlType::Void => {}
        SqlType::Record
        | SqlType::Composite(_)
        | SqlType::AnyElement
        | SqlType::AnyArray
        | SqlType::Any => {
            return Err(SqlError::new(
                code::UNDEFINED_FUNCTION,
                format!(
                    "no binary output function available for type {}",
                    sql_type.display_name()
                ),
            ))
        }
    }
    Ok(())
}

/// An error in binary input (`22P03`).
pub fn bad_binary(message: impl Into<String>) -> SqlError {
    SqlError::new(code::INVALID_BINARY_REPRESENTATION, message)
}

fn fixed<const N: usize>(bytes: &[u8]) -> Result<[u8; N], SqlError> {
    bytes.try_into().map_err(|_| {
        bad_binary(format!(
            "expected {N} bytes of binary data, got {}",
            bytes.len()
        ))
    })
}

fn out_of_range(what: &str) -> SqlError {
    SqlError::new(
        code::DATETIME_FIELD_OVERFLOW,
        format!("{what} out of range"),
    )
}

/// Checks that text bytes are UTF-8 without NUL, as PostgreSQL's encoding check does.
fn utf8_text(bytes: &[u8]) -> Result<&str, SqlError> {
    let text = crate::wire::body::utf8(bytes)?;
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return Err(crate::wire::body::invalid_utf8(bytes, at));
    }
    Ok(text)
}

/// Reads the binary form of a value of `sql_type`.
pub fn decode(bytes: &[u8], sql_type: &SqlType, text_input: TextInput) -> Result<Value, SqlError> {
    Ok(match sql_type {
        SqlType::Bool => Value::Bool(fixed::<1>(bytes)?[0] != 0),
        SqlType::Int2 => Value::Int2(i16::from_be_bytes(fixed(bytes)?)),
        SqlType::Int4 => Value::Int4(i32::from_be_bytes(fixed(bytes)?)),
        SqlType::Int8 => Value::Int8(i64::from_be_bytes(fixed(bytes)?)),
        SqlType::Oid
        | SqlType::RegClass
        | SqlType::RegType
        | SqlType::RegProc
        | SqlType::RegProcedure
        | SqlType::RegNamespace
        | SqlType::RegRole => Value::Int8(i64::from(u32::from_be_bytes(fixed(bytes)?))),
        SqlType::Float4 => Value::Float4(f32::from_be_bytes(fixed(bytes)?)),
        SqlType::Float8 => Value::Float8(f64::from_be_bytes(fixed(bytes)?)),
        SqlType::Numeric { precision, .. } => {
            let value = numeric::decode(bytes)?;
            if precision.is_some() {
                // numeric(p, s): let the input function round and check the precision.
                return text_input(&value.to_string(), sql_type);
            }
            Value::Numeric(Box::new(value))
        }
        SqlType::Text
        | SqlType::Name
        | SqlType::Unknown
        | SqlType::PgNodeTree
        | SqlType::AclItem => Value::Text(utf8_text(bytes)?.to_string()),
        SqlType::Varchar(None) | SqlType::Char(None) => Value::Text(utf8_text(bytes)?.to_string()),
        SqlType::Varchar(Some(_)) | SqlType::Char(Some(_)) | SqlType::Json => {
            text_input(utf8_text(bytes)?, sql_type)?
        }
        SqlType::Jsonb => {
            let Some((&version, text)) = bytes.split_first() else {
                return Err(bad_binary("unsupported jsonb version number 0"));
            };
            if version != 1 {
                return Err(bad_binary(format!(
                    "unsupported jsonb version number {version}"
                )));
            }
            text_input(utf8_text(text)?, sql_type)?
        }
        SqlType::InternalChar => {
            let byte = match bytes {
                [] => 0,
                [b] => *b,
                _ => return Err(bad_binary("expected 1 byte of binary data for \"char\"")),
            };
            Value::Text(if byte == 0 {
                String::new()
            } else {
                char::from(byte).to_string()
            })
        }
        SqlType::Bytea => Value::Bytea(bytes.to_vec()),
        SqlType::Date => {
            let days = i32::from_be_bytes(fixed(bytes)?);
            if days != i32::MIN && days != i32::MAX && !(MIN_DATE..END_DATE).contains(&days) {
                return Err(out_of_range("date"));
            }
            Value::Date(days)
        }
        SqlType::Time => {
            let micros = i64::from_be_bytes(fixed(bytes)?);
            if !(0..=MICROS_PER_DAY).contains(&micros) {
                return Err(out_of_range("time"));
            }
            Value::Time(micros)
        }
        SqlType::Timestamp | SqlType::Timestamptz => {
            let micros = i64::from_be_bytes(fixed(bytes)?);
            if micros != i64::MIN
                && micros != i64::MAX
                && !(MIN_TIMESTAMP..END_TIMESTAMP).contains(&micros)
            {
                return Err(out_of_range("timestamp"));
            }
            if *sql_type == SqlType::Timestamp {
                Value::Timestamp(micros)
            } else {
                Value::Timestamptz(micros)
            }
        }
        SqlType::Interval => {
            let raw: [u8; 16] = fixed(bytes)?;
            Value::Interval(Interval {
                micros: i64::from_be_bytes(raw[0..8].try_into().expect("8 bytes")),
                days: i32::from_be_bytes(raw[8..12].try_into().expect("4 bytes")),
                months: i32::from_be_bytes(raw[12..16].try_into().expect("4 bytes")),
            })
        }
        SqlType::Uuid => Value::Uuid(fixed(bytes)?),
        SqlType::Vector(expected) => decode_vector(bytes, *expected)?,
        SqlType::Array(element) => {
            Value::Array(Box::new(array::decode(bytes, element, text_input)?))
        }
        SqlType::Int2Vector => {
            Value::Array(Box::new(array::decode(bytes, &SqlType::Int2, text_input)?))
        }
        SqlType::OidVector => {
            Value::Array(Box::new(array::decode(bytes, &SqlType::Oid, text_input)?))
        }
        SqlType::Void => Value::Null,
        SqlType::Record
        | SqlType::Composite(_)
        | SqlType::AnyElement
        | SqlType::AnyArray
        | SqlType::Any => {
            return Err(SqlError::new(
                code::UNDEFINED_FUNCTION,
                format!(
                    "no binary input function available for type {}",
                    sql_type.display_name()
                ),
            ))
        }
    })
}

fn vector_error(code: &'static str, message: String) -> SqlError {
    SqlError::new(code, message)
}

/// pgvector's `vector_recv`.
fn decode_vector(bytes: &[u8], expected: Option<u32>) -> Result<Value, SqlError> {
    if bytes.len() < 4 {
        return Err(bad_binary("insufficient data for a vector"));
    }
    let dims = i32::from(i16::from_be_bytes([bytes[0], bytes[1]]));
    let unused = i16::from_be_bytes([bytes[2], bytes[3]]);
    if dims < 1 {
        return Err(vector_error(
            code::DATA_EXCEPTION,
            "vector must have at least 1 dimension".into(),
        ));
    }
    if dims > VECTOR_MAX_DIM {
        return Err(vector_error(
            code::PROGRAM_LIMIT_EXCEEDED,
            format!("vector cannot have more than {VECTOR_MAX_DIM} dimensions"),
        ));
    }
    if unused != 0 {
        return Err(vector_error(
            code::DATA_EXCEPTION,
            format!("expected unused to be 0, not {unused}"),
        ));
    }
    if bytes.len() != 4 + dims as usize * 4 {
        return Err(bad_binary(format!(
            "vector of {dims} dimensions needs {} bytes, got {}",
            4 + dims as usize * 4,
            bytes.len()
        )));
    }
    if let Some(expected) = expected {
        if expected != dims as u32 {
            return Err(vector_error(
                code::DATA_EXCEPTION,
                format!("expected {expected} dimensions, not {dims}"),
            ));
        }
    }
    let mut values = Vec::with_capacity(dims as usize);
    for chunk in bytes[4..].chunks_exact(4) {
        let x = f32::from_be_bytes(chunk.try_into().expect("4 bytes"));
        if x.is_nan() {
            return Err(vector_error(
                code::DATA_EXCEPTION,
                "NaN not allowed in vector".into(),
            ));
        }
        if x.is_infinite() {
            return Err(vector_error(
                code::DATA_EXCEPTION,
                "infinite value not allowed in vector".into(),
            ));
        }
        values.push(x);
    }
    Ok(Value::Vector(values))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::types::test_text_input as text_input;

    fn round_trip(value: Value, sql_type: SqlType, expected: &[u8]) {
        let mut out = Vec::new();
        encode(&value, &sql_type, &mut out).unwrap();
        assert_eq!(out, expected, "{value:?} as {sql_type:?}");
        let back = decode(&out, &sql_type, &text_input).unwrap();
        assert_eq!(back, value, "{sql_type:?}");
    }

    #[test]
    fn scalars_match_postgres_send_output() {
        round_trip(Value::Bool(true), SqlType::Bool, &[1]);
        round_trip(Value::Int2(-2), SqlType::Int2, &[0xff, 0xfe]);
        round_trip(Value::Int4(42), SqlType::Int4, &[0, 0, 0, 42]);
        round_trip(
            Value::Int8(1 << 40),
            SqlType::Int8,
            &[0, 0, 1, 0, 0, 0, 0, 0],
        );
        round_trip(Value::Float4(1.5), SqlType::Float4, &[0x3f, 0xc0, 0, 0]);
        round_trip(
            Value::Float8(-2.0),
            SqlType::Float8,
            &[0xc0, 0, 0, 0, 0, 0, 0, 0],
        );
        round_trip(
            Value::Text("héllo".into()),
            SqlType::Text,
            "héllo".as_bytes(),
        );
        round_trip(Value::Text("pg_class".into()), SqlType::Name, b"pg_class");
        round_trip(Value::Text("r".into()), SqlType::InternalChar, b"r");
        round_trip(Value::Bytea(vec![0, 255]), SqlType::Bytea, &[0, 255]);
        // 2024-01-01 is 8766 days after 2000-01-01.
        round_trip(Value::Date(8766), SqlType::Date, &[0, 0, 0x22, 0x3e]);
        round_trip(
            Value::Time(1_000_000),
            SqlType::Time,
            &[0, 0, 0, 0, 0, 0x0f, 0x42, 0x40],
        );
        round_trip(Value::Timestamptz(-1), SqlType::Timestamptz, &[0xff; 8]);
        round_trip(
            Value::Interval(Interval {
                months: 1,
                days: 2,
                micros: 3,
            }),
            SqlType::Interval,
            &[0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 1],
        );
        round_trip(Value::Uuid([7; 16]), SqlType::Uuid, &[7; 16]);
        round_trip(Value::Int8(1259), SqlType::RegClass, &[0, 0, 0x04, 0xeb]);
        round_trip(
            Value::Int8(4_000_000_000),
            SqlType::Oid,
            &[0xee, 0x6b, 0x28, 0],
        );
        round_trip(
            Value::Vector(vec![1.0, -2.0]),
            SqlType::Vector(None),
            &[0, 2, 0, 0, 0x3f, 0x80, 0, 0, 0xc0, 0, 0, 0],
        );
    }

    #[test]
    fn json_goes_through_the_text_input() {
        let mut out = Vec::new();
        encode(
            &Value::Jsonb("{\"a\": 1}".into()),
            &SqlType::Jsonb,
            &mut out,
        )
        .unwrap();
        assert_eq!(out, b"\x01{\"a\": 1}");
        let back = decode(b"\x01{\"a\":1}", &SqlType::Jsonb, &text_input).unwrap();
        assert_eq!(back, Value::Jsonb("{\"a\": 1}".into()));
        assert!(decode(b"\x02{}", &SqlType::Jsonb, &text_input).is_err());
        assert!(decode(b"{", &SqlType::Json, &text_input).is_err());
    }

    #[test]
    fn bad_input_is_refused() {
        let input: TextInput = &text_input;
        assert_eq!(
            decode(&[0, 0, 1], &SqlType::Int4, input).unwrap_err().code,
            "22P03"
        );
        assert_eq!(
            decode(b"a\xff", &SqlType::Text, input).unwrap_err().code,
            "22021"
        );
        assert_eq!(
            decode(b"a\0b", &SqlType::Text, input).unwrap_err().code,
            "22021"
        );
        assert_eq!(
            decode(&[0, 0, 0, 0x20, 0, 0, 0, 0], &SqlType::Time, input)
                .unwrap_err()
                .code,
            "22008"
        );
        let nan = [0, 1, 0, 0, 0x7f, 0xc0, 0, 0];
        assert_eq!(
            decode(&nan, &SqlType::Vector(None), input)
                .unwrap_err()
                .message,
            "NaN not allowed in vector"
        );
        let three = [0, 1, 0, 0, 0x3f, 0x80, 0, 0];
        assert_eq!(
            decode(&three, &SqlType::Vector(Some(3)), input)
                .unwrap_err()
                .message,
            "expected 3 dimensions, not 1"
        );
        assert!(decode(&[0, 2, 0, 0, 0, 0, 0, 0], &SqlType::Vector(None), input).is_err());
        assert!(decode(&[0, 1, 0, 1, 0, 0, 0, 0], &SqlType::Vector(None), input).is_err());
    }

    #[test]
    fn varchar_modifier_is_applied_on_input() {
        let input: TextInput = &text_input;
        assert_eq!(
            decode(b"abcdef", &SqlType::Varchar(Some(3)), input)
                .unwrap_err()
                .code,
            "22001"
        );
        assert_eq!(
            decode(b"ab", &SqlType::Char(Some(3)), input).unwrap(),
            Value::Text("ab ".into())
        );
    }

    #[test]
    fn record_has_no_binary_form() {
        assert!(!has_binary_output(&SqlType::Record));
        let error = encode(
            &Value::Text("(1)".into()),
            &SqlType::Record,
            &mut Vec::new(),
        );
        assert_eq!(error.unwrap_err().code, "42883");
    }
}
