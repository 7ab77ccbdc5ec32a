//! Array operators and functions: `@> <@ && ||`, `array_length`, `array_lower`,
//! `array_upper`, `cardinality`, `array_ndims`, `array_dims`, `array_append`,
//! `array_prepend`, `array_cat`, `array_remove`, `array_replace`, `array_position(s)`,
//! `array_to_string`, `string_to_array`, `array_fill`, `trim_array`, `array_shuffle`,
//! `array_sample`, and element comparison helpers for `= ANY` and friends.
//!
//! Arrays keep PostgreSQL's dimensions and lower bounds; the empty array has no dimensions.
//! Element equality is the type's `=` ([`super::compare::equal`]); the search functions use
//! IS NOT DISTINCT FROM (they find NULL), containment never matches NULL elements.

use rand::seq::SliceRandom;
use storage::types::{Array, ArrayDim, Value};

use super::compare::equal;
use super::registry::Registry;
use super::{args, cast, FnCtx, Param, Returns, Volatility};
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;

/// Largest number of elements an array function builds (PostgreSQL's `MaxArraySize`).
pub const MAX_ARRAY_ELEMENTS: usize = 134_217_727;

pub fn register(reg: &mut Registry) {
    use Param::{AnyArray as AA, AnyElement as AE};
    use SqlType::{Bool, Int4, Text};
    let int = || Param::Type(Int4);
    let text = || Param::Type(Text);
    let bool_ret = || Returns::Type(Bool);
    let int_ret = || Returns::Type(Int4);
    reg.scalar("@>", vec![AA, AA], bool_ret(), contains);
    reg.scalar("<@", vec![AA, AA], bool_ret(), contained);
    reg.scalar("&&", vec![AA, AA], bool_ret(), overlaps);
    reg.scalar("||", vec![AA, AA], Returns::ArrayOfElement, cat)
        .strict(false);
    reg.scalar("||", vec![AA, AE], Returns::ArrayOfElement, append)
        .strict(false);
    reg.scalar("||", vec![AE, AA], Returns::ArrayOfElement, prepend)
        .strict(false);
    reg.scalar("array_cat", vec![AA, AA], Returns::ArrayOfElement, cat)
        .strict(false);
    reg.scalar(
        "array_append",
        vec![AA, AE],
        Returns::ArrayOfElement,
        append,
    )
    .strict(false);
    reg.scalar(
        "array_prepend",
        vec![AE, AA],
        Returns::ArrayOfElement,
        prepend,
    )
    .strict(false);
    reg.scalar("array_length", vec![AA, int()], int_ret(), length);
    reg.scalar("array_lower", vec![AA, int()], int_ret(), lower);
    reg.scalar("array_upper", vec![AA, int()], int_ret(), upper);
    reg.scalar("cardinality", vec![AA], int_ret(), cardinality);
    reg.scalar("array_ndims", vec![AA], int_ret(), ndims);
    reg.scalar("array_dims", vec![AA], Returns::Type(Text), dims);
    reg.scalar(
        "array_remove",
        vec![AA, AE],
        Returns::ArrayOfElement,
        remove,
    )
    .strict(false);
    reg.scalar(
        "array_replace",
        vec![AA, AE, AE],
        Returns::ArrayOfElement,
        replace,
    )
    .strict(false);
    reg.scalar("array_position", vec![AA, AE], int_ret(), position)
        .strict(false);
    reg.scalar("array_position", vec![AA, AE, int()], int_ret(), position)
        .strict(false);
    reg.scalar(
        "array_positions",
        vec![AA, AE],
        Returns::Type(SqlType::Array(Box::new(Int4))),
        positions,
    )
    .strict(false);
    reg.scalar(
        "array_to_string",
        vec![AA, text()],
        Returns::Type(Text),
        to_string,
    )
    .volatility(Volatility::Stable);
    reg.scalar(
        "array_to_string",
        vec![AA, text(), text()],
        Returns::Type(Text),
        to_string,
    )
    .strict(false)
    .volatility(Volatility::Stable);
    let text_array = Returns::Type(SqlType::Array(Box::new(Text)));
    reg.scalar(
        "string_to_array",
        vec![text(), text()],
        text_array.clone(),
        split,
    )
    .strict(false);
    reg.scalar(
        "string_to_array",
        vec![text(), text(), text()],
        text_array,
        split,
    )
    .strict(false);
    let int_array = || Param::Type(SqlType::Array(Box::new(Int4)));
    reg.scalar(
        "array_fill",
        vec![AE, int_array()],
        Returns::ArrayOfElement,
        fill,
    )
    .strict(false);
    reg.scalar(
        "array_fill",
        vec![AE, int_array(), int_array()],
        Returns::ArrayOfElement,
        fill,
    )
    .strict(false);
    reg.scalar("trim_array", vec![AA, int()], Returns::ArrayOfElement, trim);
    reg.scalar("array_shuffle", vec![AA], Returns::ArrayOfElement, shuffle)
        .volatility(Volatility::Volatile);
    reg.scalar(
        "array_sample",
        vec![AA, int()],
        Returns::ArrayOfElement,
        sample,
    )
    .volatility(Volatility::Volatile);
}

fn array_value(array: Array) -> Value {
    Value::Array(Box::new(array))
}

fn optional_array(a: &[Value], i: usize) -> SqlResult<Option<&Array>> {
    match args::arg(a, i)? {
        Value::Null => Ok(None),
        Value::Array(arr) => Ok(Some(arr)),
        other => Err(SqlError::internal(format!(
            "expected an array, got {other:?}"
        ))),
    }
}

/// Whether every non-NULL element of `b` equals some element of `a` (NULLs never match).
pub fn array_contains(a: &Array, b: &Array) -> bool {
    b.elements
        .iter()
        .all(|x| !x.is_null() && a.elements.iter().any(|y| !y.is_null() && equal(x, y)))
}

/// Whether any element of `value`'s array equals `needle` (`= ANY`): `Some(true)` on a
/// match, `None` (NULL) when there is none but a NULL was involved, else `Some(false)`.
pub fn any_equal(needle: &Value, array: &Array) -> Option<bool> {
    if needle.is_null() {
        return if array.elements.is_empty() {
            Some(false)
        } else {
            None
        };
    }
    let mut saw_null = false;
    for e in &array.elements {
        if e.is_null() {
            saw_null = true;
        } else if equal(needle, e) {
            return Some(true);
        }
    }
    if saw_null {
        None
    } else {
        Some(false)
    }
}

fn contains(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Bool(array_contains(
        args::array(a, 0)?,
        args::array(a, 1)?,
    )))
}

fn contained(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Bool(array_contains(
        args::array(a, 1)?,
        args::array(a, 0)?,
    )))
}

fn overlaps(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = (args::array(a, 0)?, args::array(a, 1)?);
    Ok(Value::Bool(x.elements.iter().any(|e| {
        !e.is_null() && y.elements.iter().any(|f| !f.is_null() && equal(e, f))
    })))
}

fn incompatible() -> SqlError {
    SqlError::new(
        code::ARRAY_SUBSCRIPT_ERROR,
        "cannot concatenate incompatible arrays",
    )
}

/// `array_cat`: arrays of the same dimensionality join along the first dimension; an array
/// one dimension smaller is added as a new first-dimension slice.
pub fn concat_arrays(x: &Array, y: &Array) -> SqlResult<Array> {
    if x.dims.is_empty() {
        return Ok(y.clone());
    }
    if y.dims.is_empty() {
        return Ok(x.clone());
    }
    let mut elements = x.elements.clone();
    elements.extend(y.elements.iter().cloned());
    let dims = if x.dims.len() == y.dims.len() {
        if x.dims[1..]
            .iter()
            .map(|d| d.len)
            .ne(y.dims[1..].iter().map(|d| d.len))
        {
            return Err(incompatible().with_detail(
                "Arrays with differing element dimensions are not compatible for concatenation.",
            ));
        }
        let mut dims = x.dims.clone();
        dims[0].len += y.dims[0].len;
        dims
    } else if x.dims.len() == y.dims.len() + 1 {
        if x.dims[1..]
            .iter()
            .map(|d| d.len)
            .ne(y.dims.iter().map(|d| d.len))
        {
            return Err(incompatible().with_detail(
                "Arrays with differing dimensions are not compatible for concatenation.",
            ));
        }
        let mut dims = x.dims.clone();
        dims[0].len += 1;
        dims
    } else if x.dims.len() + 1 == y.dims.len() {
        if y.dims[1..]
            .iter()
            .map(|d| d.len)
            .ne(x.dims.iter().map(|d| d.len))
        {
            return Err(incompatible().with_detail(
                "Arrays with differing dimensions are not compatible for concatenation.",
            ));
        }
        let mut dims = y.dims.clone();
        dims[0].len += 1;
        dims
    } else {
        return Err(incompatible().with_detail(format!(
            "Arrays of {} and {} dimensions are not compatible for concatenation.",
            x.dims.len(),
            y.dims.len()
        )));
    };
    Ok(Array { dims, elements })
}

fn cat(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    match (optional_array(a, 0)?, optional_array(a, 1)?) {
        (None, None) => Ok(Value::Null),
        (Some(x), None) => Ok(array_value(x.clone())),
        (None, Some(y)) => Ok(array_value(y.clone())),
        (Some(x), Some(y)) => Ok(array_value(concat_arrays(x, y)?)),
    }
}

fn one_dimensional(array: &Array) -> SqlResult<()> {
    if array.dims.len() > 1 {
        return Err(SqlError::new(
            code::DATA_EXCEPTION,
            "argument must be empty or one-dimensional array",
        ));
    }
    Ok(())
}

fn append(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let element = args::arg(a, 1)?.clone();
    let Some(array) = optional_array(a, 0)? else {
        return Ok(array_value(Array::from_list(vec![element])));
    };
    one_dimensional(array)?;
    let mut out = array.clone();
    out.elements.push(element);
    match out.dims.first_mut() {
        Some(d) => d.len += 1,
        None => out.dims.push(ArrayDim { len: 1, lower: 1 }),
    }
    Ok(array_value(out))
}

fn prepend(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let element = args::arg(a, 0)?.clone();
    let Some(array) = optional_array(a, 1)? else {
        return Ok(array_value(Array::from_list(vec![element])));
    };
    one_dimensional(array)?;
    let mut out = array.clone();
    out.elements.insert(0, element);
    match out.dims.first_mut() {
        Some(d) => d.len += 1,
        None => out.dims.push(ArrayDim { len: 1, lower: 1 }),
    }
    Ok(array_value(out))
}

fn dim(a: &[Value]) -> SqlResult<Option<ArrayDim>> {
    let array = args::array(a, 0)?;
    let n = args::int(a, 1)?;
    Ok(usize::try_from(n - 1)
        .ok()
        .and_then(|i| array.dims.get(i))
        .copied())
}

fn length(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(dim(a)?.map_or(Value::Null, |d| Value::Int4(d.len as i32)))
}

fn lower(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(dim(a)?.map_or(Value::Null, |d| Value::Int4(d.lower)))
}

fn upper(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(dim(a)?.map_or(Value::Null, |d| Value::Int4(d.lower + d.len as i32 - 1)))
}

fn cardinality(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Int4(args::array(a, 0)?.elements.len() as i32))
}

fn ndims(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let n = args::array(a, 0)?.dims.len();
    Ok(if n == 0 {
        Value::Null
    } else {
        Value::Int4(n as i32)
    })
}

fn dims(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let array = args::array(a, 0)?;
    if array.dims.is_empty() {
        return Ok(Value::Null);
    }
    Ok(Value::Text(
        array
            .dims
            .iter()
            .map(|d| format!("[{}:{}]", d.lower, d.lower + d.len as i32 - 1))
            .collect(),
    ))
}

/// IS NOT DISTINCT FROM.
fn not_distinct(x: &Value, y: &Value) -> bool {
    match (x.is_null(), y.is_null()) {
        (true, true) => true,
        (false, false) => equal(x, y),
        _ => false,
    }
}

fn remove(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let Some(array) = optional_array(a, 0)? else {
        return Ok(Value::Null);
    };
    if array.dims.len() > 1 {
        return Err(SqlError::new(
            code::FEATURE_NOT_SUPPORTED,
            "removing elements from multidimensional arrays is not supported",
        ));
    }
    let target = args::arg(a, 1)?;
    let kept: Vec<Value> = array
        .elements
        .iter()
        .filter(|e| !not_distinct(e, target))
        .cloned()
        .collect();
    let lower = array.dims.first().map_or(1, |d| d.lower);
    let mut out = Array::from_list(kept);
    if let Some(d) = out.dims.first_mut() {
        d.lower = lower;
    }
    Ok(array_value(out))
}

fn replace(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let Some(array) = optional_array(a, 0)? else {
        return Ok(Value::Null);
    };
    let (from, to) = (args::arg(a, 1)?, args::arg(a, 2)?);
    let mut out = array.clone();
    for e in out.elements.iter_mut() {
        if not_distinct(e, from) {
            *e = to.clone();
        }
    }
    Ok(array_value(out))
}

fn searchable(array: &Array) -> SqlResult<()> {
    if array.dims.len() > 1 {
        return Err(SqlError::new(
            code::FEATURE_NOT_SUPPORTED,
            "searching for elements in multidimensional arrays is not supported",
        ));
    }
    Ok(())
}

fn position(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let Some(array) = optional_array(a, 0)? else {
        return Ok(Value::Null);
    };
    searchable(array)?;
    let lower = array.dims.first().map_or(1, |d| d.lower) as i64;
    let start = match a.get(2) {
        Some(Value::Null) => return Ok(Value::Null),
        Some(_) => args::int(a, 2)?,
        None => lower,
    };
    let needle = args::arg(a, 1)?;
    for (i, e) in array.elements.iter().enumerate() {
        let subscript = lower + i as i64;
        if subscript >= start && not_distinct(e, needle) {
            return Ok(Value::Int4(subscript as i32));
        }
    }
    Ok(Value::Null)
}

fn positions(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let Some(array) = optional_array(a, 0)? else {
        return Ok(Value::Null);
    };
    searchable(array)?;
    let lower = array.dims.first().map_or(1, |d| d.lower);
    let needle = args::arg(a, 1)?;
    let found = array
        .elements
        .iter()
        .enumerate()
        .filter(|(_, e)| not_distinct(e, needle))
        .map(|(i, _)| Value::Int4(lower + i as i32))
        .collect();
    Ok(array_value(Array::from_list(found)))
}

/// A type whose output function prints an array element of this variant.
pub fn element_type_of(v: &Value) -> SqlType {
    match v {
        Value::Bool(_) => SqlType::Bool,
        Value::Int2(_) => SqlType::Int2,
        Value::Int4(_) => SqlType::Int4,
        Value::Int8(_) => SqlType::Int8,
        Value::Float4(_) => SqlType::Float4,
        Value::Float8(_) => SqlType::Float8,
        Value::Numeric(_) => crate::pgtype::NUMERIC,
        Value::Bytea(_) => SqlType::Bytea,
        Value::Date(_) => SqlType::Date,
        Value::Time(_) => SqlType::Time,
        Value::Timestamp(_) => SqlType::Timestamp,
        Value::Timestamptz(_) => SqlType::Timestamptz,
        Value::Interval(_) => SqlType::Interval,
        Value::Uuid(_) => SqlType::Uuid,
        Value::Json(_) => SqlType::Json,
        Value::Jsonb(_) => SqlType::Jsonb,
        Value::Vector(_) => SqlType::Vector(None),
        Value::Array(inner) => SqlType::Array(Box::new(
            inner
                .elements
                .iter()
                .find(|e| !e.is_null())
                .map_or(SqlType::Text, element_type_of),
        )),
        Value::Text(_) | Value::Null => SqlType::Text,
    }
}

/// The text output of any value, by its variant (`bool` prints `t`/`f` as in arrays).
pub fn value_output(ctx: &FnCtx, v: &Value) -> String {
    cast::output_text(ctx, v, &element_type_of(v))
}

fn to_string(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (Value::Array(array), Value::Text(sep)) = (args::arg(a, 0)?, args::arg(a, 1)?) else {
        return Ok(Value::Null);
    };
    let null_text = match a.get(2) {
        Some(Value::Text(s)) => Some(s.as_str()),
        _ => None,
    };
    let mut out = String::new();
    let mut first = true;
    for e in &array.elements {
        let piece = match e {
            Value::Null => match null_text {
                Some(n) => n.to_string(),
                None => continue,
            },
            other => value_output(ctx, other),
        };
        if !first {
            out.push_str(sep);
        }
        first = false;
        out.push_str(&piece);
    }
    Ok(Value::Text(out))
}

fn split(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let Value::Text(input) = args::arg(a, 0)? else {
        return Ok(Value::Null);
    };
    let null_text = match a.get(2) {
        Some(Value::Text(s)) => Some(s.as_str()),
        _ => None,
    };
    let to_value = |piece: &str| {
        if Some(piece) == null_text {
            Value::Null
        } else {
            Value::Text(piece.to_string())
        }
    };
    if input.is_empty() {
        return Ok(array_value(Array::from_list(Vec::new())));
    }
    let elements: Vec<Value> = match args::arg(a, 1)? {
        Value::Text(d) if d.is_empty() => vec![to_value(input)],
        Value::Text(d) => input.split(d.as_str()).map(to_value).collect(),
        _ => input
            .chars()
            .map(|c| to_value(c.encode_utf8(&mut [0u8; 4])))
            .collect(),
    };
    Ok(array_value(Array::from_list(elements)))
}

fn int_list(v: &Value, what: &str) -> SqlResult<Vec<i64>> {
    let Value::Array(arr) = v else {
        return Err(SqlError::new(
            code::NULL_VALUE_NOT_ALLOWED,
            format!("{what} array or lower bound array must not be null"),
        ));
    };
    if arr.dims.len() > 1 {
        return Err(SqlError::new(
            code::ARRAY_SUBSCRIPT_ERROR,
            "wrong number of array subscripts",
        )
        .with_detail("Dimension array must be one dimensional."));
    }
    arr.elements
        .iter()
        .map(|e| match e {
            Value::Int4(i) => Ok(*i as i64),
            _ => Err(SqlError::new(
                code::NULL_VALUE_NOT_ALLOWED,
                "dimension values cannot be null",
            )),
        })
        .collect()
}

fn fill(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let value = args::arg(a, 0)?.clone();
    let lens = int_list(args::arg(a, 1)?, "dimension")?;
    let lowers = match a.get(2) {
        Some(v) => int_list(v, "dimension")?,
        None => vec![1; lens.len()],
    };
    if lens.len() != lowers.len() {
        return Err(SqlError::new(
            code::ARRAY_SUBSCRIPT_ERROR,
            "wrong number of array subscripts",
        )
        .with_detail("Low bound array has different size than dimensions array."));
    }
    if lens.iter().any(|l| *l < 0) {
        return Err(SqlError::new(
            code::ARRAY_SUBSCRIPT_ERROR,
            "array size exceeds the maximum allowed (134217727)",
        ));
    }
    let total = lens
        .iter()
        .try_fold(1usize, |acc, l| acc.checked_mul(*l as usize));
    let total = match total {
        Some(t) if t <= MAX_ARRAY_ELEMENTS => t,
        _ => {
            return Err(SqlError::new(
                code::PROGRAM_LIMIT_EXCEEDED,
                format!("array size exceeds the maximum allowed ({MAX_ARRAY_ELEMENTS})"),
            ))
        }
    };
    if total == 0 {
        return Ok(array_value(Array::from_list(Vec::new())));
    }
    let dims = lens
        .iter()
        .zip(&lowers)
        .map(|(l, lo)| ArrayDim {
            len: *l as u32,
            lower: *lo as i32,
        })
        .collect();
    Ok(array_value(Array {
        dims,
        elements: vec![value; total],
    }))
}

fn trim(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let array = args::array(a, 0)?;
    let n = args::int(a, 1)?;
    let len = array.dims.first().map_or(0, |d| d.len as i64);
    if n < 0 || n > len {
        return Err(SqlError::new(
            code::ARRAY_SUBSCRIPT_ERROR,
            "number of elements to trim must be between 0 and ".to_string() + &len.to_string(),
        ));
    }
    let inner: usize = array.dims.iter().skip(1).map(|d| d.len as usize).product();
    let keep_rows = (len - n) as usize;
    let mut out = array.clone();
    out.elements.truncate(keep_rows * inner.max(1));
    if keep_rows == 0 {
        out = Array::from_list(Vec::new());
    } else {
        out.dims[0].len = keep_rows as u32;
    }
    Ok(array_value(out))
}

/// The first-dimension slices of an array (single elements for a 1-D array).
fn slices(array: &Array) -> Vec<Vec<Value>> {
    let inner: usize = array.dims.iter().skip(1).map(|d| d.len as usize).product();
    array
        .elements
        .chunks(inner.max(1))
        .map(|c| c.to_vec())
        .collect()
}

fn shuffle(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let array = args::array(a, 0)?;
    let mut parts = slices(array);
    parts.shuffle(&mut rand::thread_rng());
    let mut out = array.clone();
    out.elements = parts.into_iter().flatten().collect();
    Ok(array_value(out))
}

fn sample(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let array = args::array(a, 0)?;
    let n = args::int(a, 1)?;
    let len = array.dims.first().map_or(0, |d| d.len as i64);
    if n < 0 || n > len {
        return Err(SqlError::new(
            code::INVALID_PARAMETER_VALUE,
            format!("sample size must be between 0 and {len}"),
        ));
    }
    let mut parts = slices(array);
    parts.shuffle(&mut rand::thread_rng());
    parts.truncate(n as usize);
    if parts.is_empty() {
        return Ok(array_value(Array::from_list(Vec::new())));
    }
    let mut out = array.clone();
    out.elements = parts.into_iter().flatten().collect();
    out.dims[0].len = n as u32;
    out.dims[0].lower = 1;
    Ok(array_value(out))
}
