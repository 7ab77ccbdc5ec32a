//! Arrays in PostgreSQL's binary format (`array_send` / `array_recv`):
//!
//! ```text
//! Int32 ndim            0 for an empty array, at most 6
//! Int32 flags           1 if any element is NULL, else 0
//! Int32 element type OID
//! ndim × (Int32 length, Int32 lower bound)
//! for each element in row-major order: Int32 length (-1 for NULL), then its binary form
//! ```

use sql::error::code;
use sql::{SqlError, SqlType};
use storage::types::{Array, ArrayDim, Value};

use super::binary::{self, bad_binary, TextInput};
use crate::wire::body::Body;

/// PostgreSQL's `MAXDIM`.
const MAX_DIMENSIONS: i32 = 6;

/// Appends the binary form of `array` whose elements are of `element`.
pub fn encode(array: &Array, element: &SqlType, out: &mut Vec<u8>) -> Result<(), SqlError> {
    let has_null = array.elements.iter().any(Value::is_null);
    out.extend_from_slice(&(array.dims.len() as i32).to_be_bytes());
    out.extend_from_slice(&i32::from(has_null).to_be_bytes());
    out.extend_from_slice(&element.oid().to_be_bytes());
    for dim in &array.dims {
        out.extend_from_slice(&(dim.len as i32).to_be_bytes());
        out.extend_from_slice(&dim.lower.to_be_bytes());
    }
    for value in &array.elements {
        if value.is_null() {
            out.extend_from_slice(&(-1i32).to_be_bytes());
            continue;
        }
        let at = out.len();
        out.extend_from_slice(&[0, 0, 0, 0]);
        binary::encode(value, element, out)?;
        let length = (out.len() - at - 4) as i32;
        out[at..at + 4].copy_from_slice(&length.to_be_bytes());
    }
    Ok(())
}

/// Reads the binary form of an array whose elements must be of `element`.
pub fn decode(bytes: &[u8], element: &SqlType, text_input: TextInput) -> Result<Array, SqlError> {
    let mut body = Body::new(bytes);
    let ndim = body.i32()?;
    let flags = body.i32()?;
    let element_oid = body.u32()?;
    if ndim < 0 {
        return Err(bad_binary(format!("invalid number of dimensions: {ndim}")));
    }
    if ndim > MAX_DIMENSIONS {
        return Err(SqlError::new(
            code::PROGRAM_LIMIT_EXCEEDED,
            format!(
                "number of array dimensions ({ndim}) exceeds the maximum allowed ({MAX_DIMENSIONS})"
            ),
        ));
    }
    if flags != 0 && flags != 1 {
        return Err(bad_binary("invalid array flags"));
    }
    if element_oid != element.oid() {
        return Err(SqlError::new(
            code::DATATYPE_MISMATCH,
            format!(
                "binary data has array element type {element_oid} instead of expected {} ({})",
                element.oid(),
                element.display_name()
            ),
        ));
    }
    let mut dims = Vec::with_capacity(ndim as usize);
    let mut count: u64 = 1;
    for _ in 0..ndim {
        let length = body.i32()?;
        let lower = body.i32()?;
        let length = u32::try_from(length)
            .map_err(|_| bad_binary(format!("invalid array dimension length {length}")))?;
        if lower.checked_add(length as i32).is_none() {
            return Err(SqlError::new(
                code::PROGRAM_LIMIT_EXCEEDED,
                "array upper bound is too large",
            ));
        }
        count = count.saturating_mul(u64::from(length));
        dims.push(ArrayDim { len: length, lower });
    }
    if ndim == 0 {
        count = 0;
    }
    // Every element takes at least its 4-byte length: a count beyond that is a lie, refused
    // before anything is allocated for it.
    if count > (body.remaining() / 4) as u64 {
        return Err(bad_binary("array element count exceeds the data sent"));
    }
    if dims.iter().any(|d| d.len == 0) {
        dims.clear();
    }
    let mut elements = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let length = body.i32()?;
        if length == -1 {
            elements.push(Value::Null);
            continue;
        }
        let length = usize::try_from(length)
            .map_err(|_| bad_binary(format!("invalid array element length {length}")))?;
        let data = body.bytes(length)?;
        elements.push(binary::decode(data, element, text_input)?);
    }
    if body.remaining() != 0 {
        return Err(bad_binary("improper binary format in array"));
    }
    Ok(Array { dims, elements })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::test_text_input as text_input;

    #[test]
    fn int4_array_with_null_matches_postgres() {
        // array_send('{1,NULL}'::int4[])
        let array = Array::from_list(vec![Value::Int4(1), Value::Null]);
        let mut out = Vec::new();
        encode(&array, &SqlType::Int4, &mut out).unwrap();
        let expected = [
            0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 23, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 1,
            0xff, 0xff, 0xff, 0xff,
        ];
        assert_eq!(out, expected);
        assert_eq!(decode(&out, &SqlType::Int4, &text_input).unwrap(), array);
    }

    #[test]
    fn empty_and_two_dimensional_arrays() {
        let empty = Array::from_list(vec![]);
        let mut out = Vec::new();
        encode(&empty, &SqlType::Text, &mut out).unwrap();
        assert_eq!(out, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 25]);
        assert_eq!(decode(&out, &SqlType::Text, &text_input).unwrap(), empty);

        let square = Array {
            dims: vec![ArrayDim { len: 2, lower: 1 }, ArrayDim { len: 2, lower: 0 }],
            elements: ["a", "b", "c", "d"].map(|s| Value::Text(s.into())).to_vec(),
        };
        let mut out = Vec::new();
        encode(&square, &SqlType::Text, &mut out).unwrap();
        assert_eq!(decode(&out, &SqlType::Text, &text_input).unwrap(), square);
    }

    #[test]
    fn lying_headers_are_refused_without_allocating() {
        let input: TextInput = &text_input;
        let mut huge = vec![0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 23];
        huge.extend_from_slice(&[0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
        huge.extend_from_slice(&[0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
        assert_eq!(
            decode(&huge, &SqlType::Int4, input).unwrap_err().code,
            "22P03"
        );
        let wrong_type = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 25];
        assert_eq!(
            decode(&wrong_type, &SqlType::Int4, input).unwrap_err().code,
            "42804"
        );
        let seven = [0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 23];
        assert_eq!(
            decode(&seven, &SqlType::Int4, input).unwrap_err().code,
            "54000"
        );
        let flags = [0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 23];
        assert!(decode(&flags, &SqlType::Int4, input).is_err());
        assert!(decode(&[0, 0], &SqlType::Int4, input).is_err());
    }
}
