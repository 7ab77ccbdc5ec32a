//! Storage types: the column types custos stores, their values, and the byte encoding of
//! values and rows used by the write-ahead log and the segment column blocks.

mod encoding;
mod numeric;
mod value;

pub use encoding::{
    decode_row, decode_value, encode_row, encode_value, put_varint, DecodeError, Reader,
};
pub use numeric::{Numeric, NumericParseError};
pub use value::{Array, ArrayDim, Interval, Row, Value, MICROS_PER_DAY};

use serde::{Deserialize, Serialize};

/// Largest dimension count of a `vector(n)` column.
pub const MAX_VECTOR_DIMENSIONS: u32 = 16_000;

/// A column type as declared, with its modifier (length, precision, dimensions).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DataType {
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    /// `numeric(precision, scale)`, both optional as in PostgreSQL.
    Numeric {
        precision: Option<u32>,
        scale: Option<i32>,
    },
    Text,
    Varchar(Option<u32>),
    /// `char(n)` (PostgreSQL's `bpchar`); `char` without a length is `char(1)`.
    Char(Option<u32>),
    Bytea,
    Date,
    Time,
    Timestamp,
    Timestamptz,
    Interval,
    Uuid,
    Json,
    Jsonb,
    Array(Box<DataType>),
    /// `vector(n)`; `None` for an unconstrained `vector`.
    Vector(Option<u32>),
}

impl DataType {
    /// Whether a value may be stored in a column of this type (NULL fits every type).
    /// Length, precision and dimension checks belong to the SQL layer's casts; this is the
    /// last line of defence against a value of the wrong variant.
    #[inline]
    pub fn accepts(&self, value: &Value) -> bool {
        match (self, value) {
            (_, Value::Null) => true,
            (DataType::Bool, Value::Bool(_)) => true,
            (DataType::Int2, Value::Int2(_)) => true,
            (DataType::Int4, Value::Int4(_)) => true,
            (DataType::Int8, Value::Int8(_)) => true,
            (DataType::Float4, Value::Float4(_)) => true,
            (DataType::Float8, Value::Float8(_)) => true,
            (DataType::Numeric { .. }, Value::Numeric(_)) => true,
            (DataType::Text | DataType::Varchar(_) | DataType::Char(_), Value::Text(_)) => true,
            (DataType::Bytea, Value::Bytea(_)) => true,
            (DataType::Date, Value::Date(_)) => true,
            (DataType::Time, Value::Time(_)) => true,
            (DataType::Timestamp, Value::Timestamp(_)) => true,
            (DataType::Timestamptz, Value::Timestamptz(_)) => true,
            (DataType::Interval, Value::Interval(_)) => true,
            (DataType::Uuid, Value::Uuid(_)) => true,
            (DataType::Json, Value::Json(_)) => true,
            (DataType::Jsonb, Value::Jsonb(_)) => true,
            (DataType::Array(element), Value::Array(array)) => {
                array.elements.iter().all(|e| element.accepts(e))
            }
            (DataType::Vector(dims), Value::Vector(v)) => {
                dims.is_none_or(|d| d as usize == v.len())
            }
            _ => false,
        }
    }

    /// Whether values of this type are stored as raw `f32` blocks in segments.
    pub fn is_vector(&self) -> bool {
        matches!(self, DataType::Vector(_))
    }

    /// PostgreSQL's name for the type, as `format_type` prints it.
    pub fn sql_name(&self) -> String {
        match self {
            DataType::Bool => "boolean".into(),
            DataType::Int2 => "smallint".into(),
            DataType::Int4 => "integer".into(),
            DataType::Int8 => "bigint".into(),
            DataType::Float4 => "real".into(),
            DataType::Float8 => "double precision".into(),
            DataType::Numeric {
                precision: Some(p),
                scale,
            } => format!("numeric({},{})", p, scale.unwrap_or(0)),
            DataType::Numeric { .. } => "numeric".into(),
            DataType::Text => "text".into(),
            DataType::Varchar(Some(n)) => format!("character varying({n})"),
            DataType::Varchar(None) => "character varying".into(),
            DataType::Char(n) => format!("character({})", n.unwrap_or(1)),
            DataType::Bytea => "bytea".into(),
            DataType::Date => "date".into(),
            DataType::Time => "time without time zone".into(),
            DataType::Timestamp => "timestamp without time zone".into(),
            DataType::Timestamptz => "timestamp with time zone".into(),
            DataType::Interval => "interval".into(),
            DataType::Uuid => "uuid".into(),
            DataType::Json => "json".into(),
            DataType::Jsonb => "jsonb".into(),
            DataType::Array(element) => format!("{}[]", element.sql_name()),
            DataType::Vector(Some(n)) => format!("vector({n})"),
            DataType::Vector(None) => "vector".into(),
        }
    }
}
