//! Values: one datum of any storage type, NULL included.
//!
//! A [`Value`] is what a row holds in each column. The variants mirror PostgreSQL's internal
//! representations so that the SQL layer can convert to and from wire formats without loss:
//! dates are days since 2000-01-01, times and timestamps are microseconds (timestamps since
//! 2000-01-01 00:00:00, `timestamptz` in UTC), intervals keep months, days and microseconds
//! apart, and numerics are exact decimals with PostgreSQL's NaN and infinities.
//!
//! Ordering ([`Ord`]) is PostgreSQL's for values of one type: text compares byte-wise (the C
//! locale the project is specified against), floats put NaN above everything and treat -0 as
//! 0, intervals compare by their 30-day-month span, numerics by value (so `1.0 = 1.00`).
//! Values of different types never meet in one index or column; between them the order is by
//! type, only so that the order stays total. NULL sorts last, as in PostgreSQL's default.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

use super::numeric::Numeric;

/// Microseconds in one day.
pub const MICROS_PER_DAY: i64 = 86_400_000_000;

/// One datum.
#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    Int2(i16),
    Int4(i32),
    Int8(i64),
    Float4(f32),
    Float8(f64),
    Numeric(Box<Numeric>),
    /// `text`, `varchar(n)` and `char(n)`: the column type says which; padding of `char(n)` is
    /// applied by the SQL layer before the value reaches storage.
    Text(String),
    Bytea(Vec<u8>),
    /// Days since 2000-01-01 (`i32::MAX` / `i32::MIN` are `infinity` / `-infinity`).
    Date(i32),
    /// Microseconds since midnight.
    Time(i64),
    /// Microseconds since 2000-01-01 00:00:00 (`i64::MAX` / `i64::MIN` are the infinities).
    Timestamp(i64),
    /// Microseconds since 2000-01-01 00:00:00 UTC.
    Timestamptz(i64),
    Interval(Interval),
    Uuid([u8; 16]),
    /// `json`: the text exactly as given.
    Json(String),
    /// `jsonb`: the normalised text form produced by the SQL layer.
    Jsonb(String),
    Array(Box<Array>),
    Vector(Vec<f32>),
}

/// PostgreSQL's interval: months, days and microseconds are kept apart because a month and a
/// day have no fixed length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Interval {
    pub months: i32,
    pub days: i32,
    pub micros: i64,
}

impl Interval {
    /// The span PostgreSQL compares intervals by: a month counts 30 days, a day 24 hours.
    pub fn span_micros(&self) -> i128 {
        (self.months as i128 * 30 + self.days as i128) * MICROS_PER_DAY as i128
            + self.micros as i128
    }
}

/// One dimension of an array: its length and its lower bound (1 unless said otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArrayDim {
    pub len: u32,
    pub lower: i32,
}

/// A PostgreSQL array: dimensions and the elements in row-major order (NULL elements allowed).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Array {
    pub dims: Vec<ArrayDim>,
    pub elements: Vec<Value>,
}

impl Array {
    /// A one-dimensional array with lower bound 1 (an empty list gives the empty array).
    pub fn from_list(elements: Vec<Value>) -> Array {
        let dims = if elements.is_empty() {
            Vec::new()
        } else {
            vec![ArrayDim {
                len: elements.len() as u32,
                lower: 1,
            }]
        };
        Array { dims, elements }
    }
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Rank used only to order values of different types (and NULL last).
    fn type_rank(&self) -> u8 {
        match self {
            Value::Bool(_) => 1,
            Value::Int2(_) | Value::Int4(_) | Value::Int8(_) => 2,
            Value::Float4(_) | Value::Float8(_) => 3,
            Value::Numeric(_) => 4,
            Value::Text(_) => 5,
            Value::Bytea(_) => 6,
            Value::Date(_) => 7,
            Value::Time(_) => 8,
            Value::Timestamp(_) => 9,
            Value::Timestamptz(_) => 10,
            Value::Interval(_) => 11,
            Value::Uuid(_) => 12,
            Value::Json(_) => 13,
            Value::Jsonb(_) => 14,
            Value::Array(_) => 15,
            Value::Vector(_) => 16,
            Value::Null => 255,
        }
    }

    /// Approximate heap and inline size in bytes, for memtable accounting.
    #[inline]
    pub fn approx_size(&self) -> usize {
        let inline = std::mem::size_of::<Value>();
        inline
            + match self {
                Value::Numeric(n) => 16 + n.approx_heap_size(),
                Value::Text(s) | Value::Json(s) | Value::Jsonb(s) => s.len(),
                Value::Bytea(b) => b.len(),
                Value::Array(a) => {
                    a.dims.len() * 8 + a.elements.iter().map(Value::approx_size).sum::<usize>()
                }
                Value::Vector(v) => v.len() * 4,
                _ => 0,
            }
    }
}

/// PostgreSQL's float order: NaN is equal to itself and above every other value; -0 = 0.
fn cmp_f64(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

fn canonical_f64_bits(x: f64) -> u64 {
    if x.is_nan() {
        f64::NAN.to_bits()
    } else if x == 0.0 {
        0
    } else {
        x.to_bits()
    }
}

impl Ord for Value {
    fn cmp(&self, other: &Self) -> Ordering {
        use Value::*;
        match (self, other) {
            (Null, Null) => Ordering::Equal,
            (Bool(a), Bool(b)) => a.cmp(b),
            (Int2(a), Int2(b)) => a.cmp(b),
            (Int4(a), Int4(b)) => a.cmp(b),
            (Int8(a), Int8(b)) => a.cmp(b),
            (Int2(_) | Int4(_) | Int8(_), Int2(_) | Int4(_) | Int8(_)) => {
                as_i64(self).cmp(&as_i64(other))
            }
            (Float4(a), Float4(b)) => cmp_f64(*a as f64, *b as f64),
            (Float8(a), Float8(b)) => cmp_f64(*a, *b),
            (Float4(a), Float8(b)) => cmp_f64(*a as f64, *b),
            (Float8(a), Float4(b)) => cmp_f64(*a, *b as f64),
            (Numeric(a), Numeric(b)) => a.cmp(b),
            (Text(a), Text(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Bytea(a), Bytea(b)) => a.cmp(b),
            (Date(a), Date(b)) => a.cmp(b),
            (Time(a), Time(b)) => a.cmp(b),
            (Timestamp(a), Timestamp(b)) => a.cmp(b),
            (Timestamptz(a), Timestamptz(b)) => a.cmp(b),
            (Interval(a), Interval(b)) => a.span_micros().cmp(&b.span_micros()),
            (Uuid(a), Uuid(b)) => a.cmp(b),
            (Json(a), Json(b)) => a.cmp(b),
            (Jsonb(a), Jsonb(b)) => a.cmp(b),
            (Array(a), Array(b)) => {
                for (x, y) in a.elements.iter().zip(b.elements.iter()) {
                    match x.cmp(y) {
                        Ordering::Equal => continue,
                        other => return other,
                    }
                }
                a.elements
                    .len()
                    .cmp(&b.elements.len())
                    .then_with(|| a.dims.len().cmp(&b.dims.len()))
                    .then_with(|| {
                        let da: Vec<_> = a.dims.iter().map(|d| (d.len, d.lower)).collect();
                        let db: Vec<_> = b.dims.iter().map(|d| (d.len, d.lower)).collect();
                        da.cmp(&db)
                    })
            }
            (Vector(a), Vector(b)) => {
                for (x, y) in a.iter().zip(b.iter()) {
                    match cmp_f64(*x as f64, *y as f64) {
                        Ordering::Equal => continue,
                        other => return other,
                    }
                }
                a.len().cmp(&b.len())
            }
            _ => self.type_rank().cmp(&other.type_rank()),
        }
    }
}

fn as_i64(v: &Value) -> i64 {
    match v {
        Value::Int2(x) => *x as i64,
        Value::Int4(x) => *x as i64,
        Value::Int8(x) => *x,
        _ => 0,
    }
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Value {}

impl Hash for Value {
    /// Consistent with `Eq`: integers of every width hash alike, floats by their canonical
    /// bits, intervals by their span, numerics by their normalised value.
    fn hash<H: Hasher>(&self, state: &mut H) {
        use Value::*;
        match self {
            Null => 0u8.hash(state),
            Bool(b) => b.hash(state),
            Int2(_) | Int4(_) | Int8(_) => {
                2u8.hash(state);
                as_i64(self).hash(state)
            }
            Float4(x) => {
                3u8.hash(state);
                canonical_f64_bits(*x as f64).hash(state)
            }
            Float8(x) => {
                3u8.hash(state);
                canonical_f64_bits(*x).hash(state)
            }
            Numeric(n) => n.hash(state),
            Text(s) | Json(s) | Jsonb(s) => s.hash(state),
            Bytea(b) => b.hash(state),
            Date(d) => d.hash(state),
            Time(t) | Timestamp(t) | Timestamptz(t) => t.hash(state),
            Interval(i) => i.span_micros().hash(state),
            Uuid(u) => u.hash(state),
            Array(a) => {
                for e in &a.elements {
                    e.hash(state);
                }
            }
            Vector(v) => {
                for x in v {
                    canonical_f64_bits(*x as f64).hash(state);
                }
            }
        }
    }
}

/// A row: one value per column, in column-position order. A row stored before a column was
/// added is shorter than the table; the missing values come from the column definition.
pub type Row = Vec<Value>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_order_like_postgres() {
        let nan = Value::Float8(f64::NAN);
        assert!(nan > Value::Float8(f64::INFINITY));
        assert_eq!(nan, Value::Float8(f64::NAN));
        assert_eq!(Value::Float8(-0.0), Value::Float8(0.0));
        assert!(Value::Float4(1.5) < Value::Float8(2.0));
    }

    #[test]
    fn text_orders_by_bytes_and_null_is_last() {
        assert!(Value::Text("B".into()) < Value::Text("a".into()));
        assert!(Value::Text("é".into()) > Value::Text("z".into()));
        assert!(Value::Null > Value::Int4(i32::MAX));
    }

    #[test]
    fn intervals_compare_by_span() {
        let month = Value::Interval(Interval {
            months: 1,
            days: 0,
            micros: 0,
        });
        let thirty_days = Value::Interval(Interval {
            months: 0,
            days: 30,
            micros: 0,
        });
        assert_eq!(month, thirty_days);
    }

    #[test]
    fn integers_of_different_width_are_equal() {
        assert_eq!(Value::Int2(7), Value::Int8(7));
        use std::collections::hash_map::DefaultHasher;
        let h = |v: &Value| {
            let mut s = DefaultHasher::new();
            v.hash(&mut s);
            s.finish()
        };
        assert_eq!(h(&Value::Int2(7)), h(&Value::Int8(7)));
    }
}
