//! The order and equality of values as PostgreSQL's default btree operator classes define
//! them, and byte keys for hashing that agree with that equality.
//!
//! [`compare`] takes two non-NULL values of one type (NULL, if given, sorts last). Numeric
//! variants of different widths compare by value (`int2` vs `numeric` vs `float8`), so the
//! executor may compare before an implicit cast; an integer or `numeric` against a float
//! compares as `float8`, like PostgreSQL's casts would. `date` against `timestamp` compares
//! as midnight of the date. Text compares by bytes (the C collation); `char(n)` padding is
//! the caller's business ([`compare_bpchar`]).
//!
//! [`hash_key`] appends a self-delimiting key; values that compare equal get equal keys
//! (`-0.0`/`0.0`, every NaN, `1.0`/`1.00`, `'1 mon'`/`'30 days'`, jsonb `1.0`/`1`), so a
//! row's key is the concatenation of its columns' keys. Integers, numerics and floats share
//! one decimal key space (a float by its shortest round-trip decimal), so mixed numeric
//! variants that compare equal hash equal in the common cases; float/numeric equality is
//! itself inexact (it compares through `float8`), so a numeric with more digits than a
//! float holds may compare equal to that float yet key differently.

use std::cmp::Ordering;

use bigdecimal::BigDecimal;
use storage::types::{Array, Numeric, Value};

use super::calendar::USECS_PER_DAY;
use super::decimal;
use super::json_tree;

/// PostgreSQL's float order: NaN equals NaN and sorts above everything; -0 equals 0.
pub fn compare_f64(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Int2(x) => Some(*x as i64),
        Value::Int4(x) => Some(*x as i64),
        Value::Int8(x) => Some(*x),
        _ => None,
    }
}

fn float_of(v: &Value) -> Option<f64> {
    match v {
        Value::Float4(x) => Some(*x as f64),
        Value::Float8(x) => Some(*x),
        Value::Numeric(n) => Some(decimal::to_f64(n)),
        other => int_of(other).map(|i| i as f64),
    }
}

fn numeric_of(v: &Value) -> Option<Numeric> {
    match v {
        Value::Numeric(n) => Some((**n).clone()),
        other => int_of(other).map(Numeric::from_i64),
    }
}

/// Midnight of a date as a timestamp (infinities kept).
fn date_as_timestamp(d: i32) -> i64 {
    match d {
        i32::MIN => i64::MIN,
        i32::MAX => i64::MAX,
        d => d as i64 * USECS_PER_DAY,
    }
}

fn timestamp_of(v: &Value) -> Option<i64> {
    match v {
        Value::Date(d) => Some(date_as_timestamp(*d)),
        Value::Timestamp(t) | Value::Timestamptz(t) => Some(*t),
        _ => None,
    }
}

/// Orders two values of the same type (see the module docs for mixed numeric types).
pub fn compare(a: &Value, b: &Value) -> Ordering {
    use Value as V;
    match (a, b) {
        (V::Null, V::Null) => Ordering::Equal,
        (V::Null, _) => Ordering::Greater,
        (_, V::Null) => Ordering::Less,
        (V::Bool(x), V::Bool(y)) => x.cmp(y),
        (V::Text(x), V::Text(y)) => x.as_bytes().cmp(y.as_bytes()),
        (V::Bytea(x), V::Bytea(y)) => x.cmp(y),
        (V::Date(x), V::Date(y)) => x.cmp(y),
        (V::Time(x), V::Time(y)) => x.cmp(y),
        (V::Interval(x), V::Interval(y)) => x.span_micros().cmp(&y.span_micros()),
        (V::Uuid(x), V::Uuid(y)) => x.cmp(y),
        (V::Json(x), V::Json(y)) => x.as_bytes().cmp(y.as_bytes()),
        (V::Jsonb(x), V::Jsonb(y)) => compare_jsonb_text(x, y),
        (V::Array(x), V::Array(y)) => compare_arrays(x, y),
        (V::Vector(x), V::Vector(y)) => compare_vectors(x, y),
        _ => {
            if let (Some(x), Some(y)) = (int_of(a), int_of(b)) {
                return x.cmp(&y);
            }
            if let (Some(x), Some(y)) = (timestamp_of(a), timestamp_of(b)) {
                return x.cmp(&y);
            }
            let floats = matches!(a, V::Float4(_) | V::Float8(_))
                || matches!(b, V::Float4(_) | V::Float8(_));
            if !floats {
                if let (Some(x), Some(y)) = (numeric_of(a), numeric_of(b)) {
                    return x.cmp(&y);
                }
            }
            if let (Some(x), Some(y)) = (float_of(a), float_of(b)) {
                return compare_f64(x, y);
            }
            // Values of unrelated types never meet in one comparison; keep the order total.
            a.cmp(b)
        }
    }
}

/// `char(n)` order: trailing spaces do not count.
pub fn compare_bpchar(a: &str, b: &str) -> Ordering {
    a.trim_end_matches(' ')
        .as_bytes()
        .cmp(b.trim_end_matches(' ').as_bytes())
}

fn compare_jsonb_text(a: &str, b: &str) -> Ordering {
    match (json_tree::parse(a), json_tree::parse(b)) {
        (Ok(x), Ok(y)) => json_tree::compare_jsonb(&x, &y),
        _ => a.as_bytes().cmp(b.as_bytes()),
    }
}

/// `array_cmp`: elements in order (NULL above any value), then element count, dimension
/// count, dimension lengths and lower bounds.
pub fn compare_arrays(a: &Array, b: &Array) -> Ordering {
    for (x, y) in a.elements.iter().zip(b.elements.iter()) {
        match compare(x, y) {
            Ordering::Equal => continue,
            other => return other,
        }
    }
    a.elements
        .len()
        .cmp(&b.elements.len())
        .then_with(|| a.dims.len().cmp(&b.dims.len()))
        .then_with(|| {
            let lens_a = a.dims.iter().map(|d| d.len);
            lens_a.cmp(b.dims.iter().map(|d| d.len))
        })
        .then_with(|| {
            let lower_a = a.dims.iter().map(|d| d.lower);
            lower_a.cmp(b.dims.iter().map(|d| d.lower))
        })
}

/// pgvector's `vector_cmp`: element by element, then the shorter first.
pub fn compare_vectors(a: &[f32], b: &[f32]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        match compare_f64(*x as f64, *y as f64) {
            Ordering::Equal => continue,
            other => return other,
        }
    }
    a.len().cmp(&b.len())
}

/// Whether two values are equal under [`compare`].
pub fn equal(a: &Value, b: &Value) -> bool {
    compare(a, b) == Ordering::Equal
}

fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend((bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// The key of an integral number that fits in `i64`, whatever its type (`int2`..`int8`,
/// an integral `numeric` or float): tag 2 and its decimal digits, written without a
/// `BigDecimal`. Non-integral numbers use the normalised decimal text, which always has a
/// point or an exponent, so the two forms never collide.
fn write_integer(out: &mut Vec<u8>, v: i64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = v.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.push(2);
    let len = digits.len() - at + usize::from(v < 0);
    out.extend((len as u64).to_le_bytes());
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[at..]);
}

fn write_decimal(out: &mut Vec<u8>, d: &BigDecimal) {
    if d.is_integer() {
        if let Some(v) = bigdecimal::ToPrimitive::to_i64(d) {
            return write_integer(out, v);
        }
    }
    out.push(2);
    let normalized = d.normalized();
    let text = if normalized.sign() == bigdecimal::num_bigint::Sign::NoSign {
        "0".to_string()
    } else {
        normalized.to_string()
    };
    write_bytes(out, text.as_bytes());
}

/// Floats share the decimal key space: a finite float's key is that of its shortest
/// round-trip decimal, so `1.5::float8` and `1.5::numeric` (equal under [`compare`]) agree.
fn write_float(out: &mut Vec<u8>, x: f64) {
    if x.is_nan() {
        out.push(4);
    } else if x.is_infinite() {
        out.extend([5, (x > 0.0) as u8]);
    } else {
        match format!("{x}").parse::<BigDecimal>() {
            Ok(d) => write_decimal(out, &d),
            Err(_) => {
                out.push(3);
                out.extend(x.to_bits().to_le_bytes());
            }
        }
    }
}

/// Appends a key for `value`: equal keys iff the values compare equal (see module docs).
pub fn hash_key(value: &Value, out: &mut Vec<u8>) {
    use Value as V;
    match value {
        V::Null => out.push(0),
        V::Bool(b) => out.extend([1, *b as u8]),
        V::Int2(_) | V::Int4(_) | V::Int8(_) => write_integer(out, int_of(value).unwrap_or(0)),
        V::Float4(x) => write_float(out, *x as f64),
        V::Float8(x) => write_float(out, *x),
        V::Numeric(n) => match &**n {
            Numeric::Finite(d) => write_decimal(out, d),
            Numeric::NaN => out.push(4),
            Numeric::Infinity => out.extend([5, 1]),
            Numeric::NegInfinity => out.extend([5, 0]),
        },
        V::Text(s) => {
            out.push(6);
            write_bytes(out, s.as_bytes());
        }
        V::Bytea(b) => {
            out.push(7);
            write_bytes(out, b);
        }
        V::Date(d) => {
            out.push(8);
            out.extend(date_as_timestamp(*d).to_le_bytes());
        }
        V::Timestamp(t) | V::Timestamptz(t) => {
            out.push(8);
            out.extend(t.to_le_bytes());
        }
        V::Time(t) => {
            out.push(9);
            out.extend(t.to_le_bytes());
        }
        V::Interval(i) => {
            out.push(10);
            out.extend(i.span_micros().to_le_bytes());
        }
        V::Uuid(u) => {
            out.push(11);
            out.extend_from_slice(u);
        }
        V::Json(s) => {
            out.push(12);
            write_bytes(out, s.as_bytes());
        }
        V::Jsonb(s) => {
            out.push(13);
            match json_tree::parse(s) {
                Ok(tree) => json_tree::write_key(&tree, out),
                Err(_) => write_bytes(out, s.as_bytes()),
            }
        }
        V::Array(a) => {
            out.push(14);
            out.extend((a.dims.len() as u64).to_le_bytes());
            for d in &a.dims {
                out.extend(d.len.to_le_bytes());
                out.extend(d.lower.to_le_bytes());
            }
            out.extend((a.elements.len() as u64).to_le_bytes());
            for e in &a.elements {
                hash_key(e, out);
            }
        }
        V::Vector(v) => {
            out.push(15);
            out.extend((v.len() as u64).to_le_bytes());
            for x in v {
                let x = if *x == 0.0 { 0.0f32 } else { *x };
                out.extend(x.to_bits().to_le_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use storage::types::Interval;

    fn num(s: &str) -> Value {
        Value::Numeric(Box::new(s.parse().unwrap()))
    }

    fn key(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        hash_key(v, &mut out);
        out
    }

    #[test]
    fn numbers_compare_by_value_across_types() {
        assert_eq!(compare(&Value::Int2(7), &Value::Int8(7)), Ordering::Equal);
        assert_eq!(compare(&num("1.0"), &num("1.00")), Ordering::Equal);
        assert_eq!(compare(&Value::Int4(2), &num("1.5")), Ordering::Greater);
        assert_eq!(
            compare(&Value::Float8(f64::NAN), &Value::Float8(f64::INFINITY)),
            Ordering::Greater
        );
        assert_eq!(
            compare(&Value::Float8(-0.0), &Value::Float8(0.0)),
            Ordering::Equal
        );
        assert_eq!(compare(&num("NaN"), &num("Infinity")), Ordering::Greater);
        assert_eq!(
            compare(&Value::Int4(1), &Value::Float8(1.5)),
            Ordering::Less
        );
    }

    #[test]
    fn equal_numbers_have_equal_keys_across_types() {
        for (a, b) in [
            (Value::Int4(100), num("100.00")),
            (Value::Int8(-7), Value::Float8(-7.0)),
            (Value::Int2(0), num("-0.0")),
            (Value::Int8(i64::MIN), num("-9223372036854775808")),
            (Value::Int4(1), Value::Float4(1.0)),
        ] {
            assert_eq!(key(&a), key(&b), "{a:?} and {b:?}");
        }
        for (a, b) in [
            (Value::Int4(1), num("1.5")),
            (Value::Int4(15), num("1.5")),
            (Value::Int8(-1), Value::Int8(1)),
            (num("1E+20"), num("1E+21")),
        ] {
            assert_ne!(key(&a), key(&b), "{a:?} and {b:?}");
        }
    }

    #[test]
    fn arrays_put_null_elements_last_then_compare_lengths() {
        let arr = |v: Vec<Value>| Value::Array(Box::new(Array::from_list(v)));
        assert_eq!(
            compare(
                &arr(vec![Value::Int4(1), Value::Null]),
                &arr(vec![Value::Int4(1), Value::Int4(9)])
            ),
            Ordering::Greater
        );
        assert_eq!(
            compare(
                &arr(vec![Value::Int4(1)]),
                &arr(vec![Value::Int4(1), Value::Int4(0)])
            ),
            Ordering::Less
        );
    }

    #[test]
    fn equal_values_have_equal_keys() {
        let pairs = [
            (Value::Float8(-0.0), Value::Float8(0.0)),
            (Value::Float8(f64::NAN), Value::Float8(-f64::NAN)),
            (num("1.0"), num("1.000")),
            (Value::Int2(3), Value::Int8(3)),
            (Value::Int4(3), Value::Float8(3.0)),
            (num("1.5"), Value::Float8(1.5)),
            (num("0.1"), Value::Float8(0.1)),
            (num("0"), num("0.00")),
            (
                Value::Interval(Interval {
                    months: 1,
                    days: 0,
                    micros: 0,
                }),
                Value::Interval(Interval {
                    months: 0,
                    days: 30,
                    micros: 0,
                }),
            ),
            (Value::Jsonb("1.0".into()), Value::Jsonb("1".into())),
        ];
        for (a, b) in pairs {
            assert_eq!(compare(&a, &b), Ordering::Equal, "{a:?} {b:?}");
            assert_eq!(key(&a), key(&b), "{a:?} {b:?}");
        }
        assert_ne!(key(&Value::Text("a".into())), key(&Value::Text("b".into())));
        assert_ne!(key(&Value::Null), key(&Value::Text(String::new())));
    }

    #[test]
    fn bpchar_ignores_trailing_spaces() {
        assert_eq!(compare_bpchar("ab  ", "ab"), Ordering::Equal);
        assert_eq!(compare_bpchar("ab", "ab c"), Ordering::Less);
    }
}
