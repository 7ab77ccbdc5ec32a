//! Byte encoding of values and rows (format version 1), shared by the WAL and segment blocks.
//!
//! Every value is self-describing, so a row written before an `ALTER TABLE` still decodes:
//!
//! ```text
//! value   := tag:u8 payload
//! tag     0 NULL            (no payload)
//!         1 bool            u8 (0 or 1)
//!         2 int2            i16 LE        3 int4  i32 LE        4 int8  i64 LE
//!         5 float4          f32 LE bits   6 float8 f64 LE bits
//!         7 numeric         kind:u8 (0 finite, 1 NaN, 2 +Infinity, 3 -Infinity);
//!                           finite: scale:zigzag-varint, len:varint, mantissa (two's
//!                           complement, little-endian, len bytes)
//!         8 text            len:varint, UTF-8 bytes
//!         9 bytea           len:varint, bytes
//!        10 date            i32 LE        11 time i64 LE
//!        12 timestamp       i64 LE        13 timestamptz i64 LE
//!        14 interval        months:i32 LE, days:i32 LE, micros:i64 LE
//!        15 uuid            16 bytes
//!        16 json            len:varint, UTF-8     17 jsonb len:varint, UTF-8
//!        18 array           ndims:varint, ndims x (len:varint, lower:zigzag-varint),
//!                           count:varint, count x value
//!        19 vector          dims:varint, dims x f32 LE
//! row     := count:varint, count x value
//! ```
//!
//! Decoding never trusts its input: every length is checked against the bytes that remain,
//! and a malformed buffer gives a [`DecodeError`], never a panic.

use bigdecimal::num_bigint::BigInt;

use super::numeric::Numeric;
use super::value::{Array, ArrayDim, Interval, Row, Value};

/// Deepest array nesting accepted when decoding (arrays of arrays are flattened by the SQL
/// layer; this only guards against hostile bytes).
const MAX_DECODE_DEPTH: usize = 8;

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed value encoding at byte {offset}: {reason}")]
pub struct DecodeError {
    pub offset: usize,
    pub reason: &'static str,
}

pub fn put_varint(out: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        out.push((x as u8) | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
}

fn put_zigzag(out: &mut Vec<u8>, x: i64) {
    put_varint(out, ((x << 1) ^ (x >> 63)) as u64);
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Appends the encoding of `value` to `out`.
pub fn encode_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.push(0),
        Value::Bool(b) => {
            out.push(1);
            out.push(*b as u8);
        }
        // The common fixed-width values in one append each (WAL records of bulk loads).
        Value::Int2(x) => {
            let [a, b] = x.to_le_bytes();
            out.extend_from_slice(&[2, a, b]);
        }
        Value::Int4(x) => {
            let [a, b, c, d] = x.to_le_bytes();
            out.extend_from_slice(&[3, a, b, c, d]);
        }
        Value::Int8(x) => {
            let [a, b, c, d, e, f, g, h] = x.to_le_bytes();
            out.extend_from_slice(&[4, a, b, c, d, e, f, g, h]);
        }
        Value::Float4(x) => {
            out.push(5);
            out.extend_from_slice(&x.to_le_bytes());
        }
        Value::Float8(x) => {
            out.push(6);
            out.extend_from_slice(&x.to_le_bytes());
        }
        Value::Numeric(n) => {
            out.push(7);
            match n.as_ref() {
                Numeric::Finite(_) => {
                    out.push(0);
                    let (mantissa, scale) = n.mantissa_and_scale().unwrap_or_default();
                    put_zigzag(out, scale);
                    put_bytes(out, &mantissa.to_signed_bytes_le());
                }
                Numeric::NaN => out.push(1),
                Numeric::Infinity => out.push(2),
                Numeric::NegInfinity => out.push(3),
            }
        }
        Value::Text(s) => {
            out.reserve(s.len() + 11);
            out.push(8);
            put_bytes(out, s.as_bytes());
        }
        Value::Bytea(b) => {
            out.push(9);
            put_bytes(out, b);
        }
        Value::Date(d) => {
            out.push(10);
            out.extend_from_slice(&d.to_le_bytes());
        }
        Value::Time(t) => {
            out.push(11);
            out.extend_from_slice(&t.to_le_bytes());
        }
        Value::Timestamp(t) => {
            out.push(12);
            out.extend_from_slice(&t.to_le_bytes());
        }
        Value::Timestamptz(t) => {
            out.push(13);
            out.extend_from_slice(&t.to_le_bytes());
        }
        Value::Interval(i) => {
            out.push(14);
            out.extend_from_slice(&i.months.to_le_bytes());
            out.extend_from_slice(&i.days.to_le_bytes());
            out.extend_from_slice(&i.micros.to_le_bytes());
        }
        Value::Uuid(u) => {
            out.push(15);
            out.extend_from_slice(u);
        }
        Value::Json(s) => {
            out.push(16);
            put_bytes(out, s.as_bytes());
        }
        Value::Jsonb(s) => {
            out.push(17);
            put_bytes(out, s.as_bytes());
        }
        Value::Array(a) => {
            out.push(18);
            put_varint(out, a.dims.len() as u64);
            for d in &a.dims {
                put_varint(out, d.len as u64);
                put_zigzag(out, d.lower as i64);
            }
            put_varint(out, a.elements.len() as u64);
            for e in &a.elements {
                encode_value(out, e);
            }
        }
        Value::Vector(v) => {
            out.push(19);
            put_varint(out, v.len() as u64);
            for x in v {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
    }
}

/// Appends the encoding of a row to `out`.
pub fn encode_row(out: &mut Vec<u8>, row: &[Value]) {
    put_varint(out, row.len() as u64);
    for v in row {
        encode_value(out, v);
    }
}

/// A bounds-checked cursor over encoded bytes.
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, pos: 0 }
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn error(&self, reason: &'static str) -> DecodeError {
        DecodeError {
            offset: self.pos,
            reason,
        }
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.bytes.len() - self.pos < n {
            return Err(self.error("unexpected end of data"));
        }
        let slice = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    pub fn fixed<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.fixed::<1>()?[0])
    }

    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.fixed()?))
    }

    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.fixed()?))
    }

    pub fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut result = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            result |= ((byte & 0x7f) as u64) << shift;
            if byte & 0x80 == 0 {
                return Ok(result);
            }
        }
        Err(self.error("varint longer than 64 bits"))
    }

    fn zigzag(&mut self) -> Result<i64, DecodeError> {
        let x = self.varint()?;
        Ok(((x >> 1) as i64) ^ -((x & 1) as i64))
    }

    /// A length that must fit in what remains, each unit taking at least `unit` bytes.
    pub fn length(&mut self, unit: usize) -> Result<usize, DecodeError> {
        let n = self.varint()?;
        let remaining = (self.bytes.len() - self.pos) as u64;
        if n.saturating_mul(unit as u64) > remaining {
            return Err(self.error("length exceeds the data"));
        }
        Ok(n as usize)
    }

    fn bytes_with_length(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.length(1)?;
        self.take(n)
    }

    fn utf8(&mut self) -> Result<String, DecodeError> {
        let bytes = self.bytes_with_length()?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| self.error("invalid UTF-8 in text"))
    }

    fn value(&mut self, depth: usize) -> Result<Value, DecodeError> {
        let tag = self.u8()?;
        Ok(match tag {
            0 => Value::Null,
            1 => match self.u8()? {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                _ => return Err(self.error("bool that is neither 0 nor 1")),
            },
            2 => Value::Int2(i16::from_le_bytes(self.fixed()?)),
            3 => Value::Int4(i32::from_le_bytes(self.fixed()?)),
            4 => Value::Int8(i64::from_le_bytes(self.fixed()?)),
            5 => Value::Float4(f32::from_le_bytes(self.fixed()?)),
            6 => Value::Float8(f64::from_le_bytes(self.fixed()?)),
            7 => Value::Numeric(Box::new(match self.u8()? {
                0 => {
                    let scale = self.zigzag()?;
                    let mantissa = BigInt::from_signed_bytes_le(self.bytes_with_length()?);
                    Numeric::from_mantissa_and_scale(mantissa, scale)
                }
                1 => Numeric::NaN,
                2 => Numeric::Infinity,
                3 => Numeric::NegInfinity,
                _ => return Err(self.error("unknown numeric kind")),
            })),
            8 => Value::Text(self.utf8()?),
            9 => Value::Bytea(self.bytes_with_length()?.to_vec()),
            10 => Value::Date(i32::from_le_bytes(self.fixed()?)),
            11 => Value::Time(i64::from_le_bytes(self.fixed()?)),
            12 => Value::Timestamp(i64::from_le_bytes(self.fixed()?)),
            13 => Value::Timestamptz(i64::from_le_bytes(self.fixed()?)),
            14 => Value::Interval(Interval {
                months: i32::from_le_bytes(self.fixed()?),
                days: i32::from_le_bytes(self.fixed()?),
                micros: i64::from_le_bytes(self.fixed()?),
            }),
            15 => Value::Uuid(self.fixed()?),
            16 => Value::Json(self.utf8()?),
            17 => Value::Jsonb(self.utf8()?),
            18 => {
                if depth >= MAX_DECODE_DEPTH {
                    return Err(self.error("arrays nested too deeply"));
                }
                let ndims = self.length(2)?;
                let mut dims = Vec::with_capacity(ndims);
                for _ in 0..ndims {
                    let len = self.varint()?;
                    let lower = self.zigzag()?;
                    let (Ok(len), Ok(lower)) = (u32::try_from(len), i32::try_from(lower)) else {
                        return Err(self.error("array dimension out of range"));
                    };
                    dims.push(ArrayDim { len, lower });
                }
                let count = self.length(1)?;
                let expected: u64 = dims.iter().map(|d| d.len as u64).product();
                if (dims.is_empty() && count != 0) || (!dims.is_empty() && expected != count as u64)
                {
                    return Err(self.error("array element count does not match dimensions"));
                }
                let mut elements = Vec::with_capacity(count);
                for _ in 0..count {
                    elements.push(self.value(depth + 1)?);
                }
                Value::Array(Box::new(Array { dims, elements }))
            }
            19 => {
                let dims = self.length(4)?;
                let raw = self.take(dims * 4)?;
                Value::Vector(
                    raw.chunks_exact(4)
                        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .collect(),
                )
            }
            _ => return Err(self.error("unknown value tag")),
        })
    }

    /// Decodes one value.
    pub fn read_value(&mut self) -> Result<Value, DecodeError> {
        self.value(0)
    }

    /// Steps over one value without decoding it (no allocation): for finding where each
    /// value of a block starts.
    pub fn skip_value(&mut self) -> Result<(), DecodeError> {
        self.skip(0)
    }

    fn skip(&mut self, depth: usize) -> Result<(), DecodeError> {
        let tag = self.u8()?;
        match tag {
            0 => {}
            1 => {
                self.take(1)?;
            }
            2 => {
                self.take(2)?;
            }
            3 | 5 | 10 => {
                self.take(4)?;
            }
            4 | 6 | 11 | 12 | 13 => {
                self.take(8)?;
            }
            7 => {
                if self.u8()? == 0 {
                    self.varint()?;
                    self.bytes_with_length()?;
                }
            }
            8 | 9 | 16 | 17 => {
                self.bytes_with_length()?;
            }
            14 | 15 => {
                self.take(16)?;
            }
            18 => {
                if depth >= MAX_DECODE_DEPTH {
                    return Err(self.error("arrays nested too deeply"));
                }
                let ndims = self.length(2)?;
                for _ in 0..ndims {
                    self.varint()?;
                    self.varint()?;
                }
                let count = self.length(1)?;
                for _ in 0..count {
                    self.skip(depth + 1)?;
                }
            }
            19 => {
                let dims = self.length(4)?;
                self.take(dims * 4)?;
            }
            _ => return Err(self.error("unknown value tag")),
        }
        Ok(())
    }

    /// Decodes one row.
    pub fn read_row(&mut self) -> Result<Row, DecodeError> {
        let count = self.length(1)?;
        let mut row = Vec::with_capacity(count);
        for _ in 0..count {
            row.push(self.value(0)?);
        }
        Ok(row)
    }
}

/// Decodes a buffer holding exactly one value.
pub fn decode_value(bytes: &[u8]) -> Result<Value, DecodeError> {
    let mut reader = Reader::new(bytes);
    let value = reader.read_value()?;
    if !reader.is_empty() {
        return Err(reader.error("trailing bytes after value"));
    }
    Ok(value)
}

/// Decodes a buffer holding exactly one row.
pub fn decode_row(bytes: &[u8]) -> Result<Row, DecodeError> {
    let mut reader = Reader::new(bytes);
    let row = reader.read_row()?;
    if !reader.is_empty() {
        return Err(reader.error("trailing bytes after row"));
    }
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn sample_values() -> Vec<Value> {
        vec![
            Value::Null,
            Value::Bool(true),
            Value::Int2(-3),
            Value::Int4(i32::MIN),
            Value::Int8(i64::MAX),
            Value::Float4(f32::NAN),
            Value::Float8(-0.5),
            Value::Numeric(Box::new(
                "-123456789012345678901234567890.0001".parse().unwrap(),
            )),
            Value::Numeric(Box::new(Numeric::Infinity)),
            Value::Text("héllo".into()),
            Value::Bytea(vec![0, 255, 7]),
            Value::Date(-730_000),
            Value::Time(86_399_999_999),
            Value::Timestamp(i64::MIN),
            Value::Timestamptz(1_000_000),
            Value::Interval(Interval {
                months: -1,
                days: 3,
                micros: 42,
            }),
            Value::Uuid([7; 16]),
            Value::Json("{\"a\": 1}".into()),
            Value::Jsonb("{\"a\": 1}".into()),
            Value::Array(Box::new(Array::from_list(vec![
                Value::Int4(1),
                Value::Null,
            ]))),
            Value::Array(Box::new(Array::from_list(vec![]))),
            Value::Vector(vec![1.0, -2.5, 3.25]),
        ]
    }

    #[test]
    fn every_type_round_trips() {
        let row = sample_values();
        let mut buf = Vec::new();
        encode_row(&mut buf, &row);
        let back = decode_row(&buf).unwrap();
        assert_eq!(back.len(), row.len());
        for (a, b) in row.iter().zip(back.iter()) {
            assert_eq!(a, b);
            assert_eq!(format!("{a:?}"), format!("{b:?}"));
        }
    }

    #[test]
    fn every_truncation_is_an_error_never_a_panic() {
        let mut buf = Vec::new();
        encode_row(&mut buf, &sample_values());
        for cut in 0..buf.len() {
            assert!(decode_row(&buf[..cut]).is_err(), "cut at {cut} decoded");
        }
    }

    #[test]
    fn hostile_lengths_are_rejected() {
        // A text claiming 2^62 bytes.
        let mut buf = vec![8];
        put_varint(&mut buf, 1 << 62);
        assert!(decode_value(&buf).is_err());
        // An array whose element count disagrees with its dimensions.
        let mut buf = vec![18];
        put_varint(&mut buf, 1);
        put_varint(&mut buf, 3);
        put_zigzag(&mut buf, 1);
        put_varint(&mut buf, 1);
        buf.push(0);
        assert!(decode_value(&buf).is_err());
    }

    #[test]
    fn skipping_lands_where_decoding_does() {
        let mut buf = Vec::new();
        for v in sample_values() {
            encode_value(&mut buf, &v);
        }
        let mut decoder = Reader::new(&buf);
        let mut skipper = Reader::new(&buf);
        for _ in sample_values() {
            decoder.read_value().unwrap();
            skipper.skip_value().unwrap();
            assert_eq!(decoder.position(), skipper.position());
        }
        assert!(skipper.is_empty());
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode_row(&bytes);
            let _ = decode_value(&bytes);
        }

        #[test]
        fn integers_and_texts_round_trip(i in any::<i64>(), s in ".*", f in any::<f64>()) {
            let row = vec![Value::Int8(i), Value::Text(s), Value::Float8(f)];
            let mut buf = Vec::new();
            encode_row(&mut buf, &row);
            prop_assert_eq!(decode_row(&buf).unwrap(), row);
        }
    }
}
