//! Building the values of system-table rows in the storage forms the catalog-only types use
//! (see [`crate::pgtype`]): `name`, `"char"`, `pg_node_tree` and `aclitem` as `Text`; `oid`
//! and `reg*` as `Int8`; `int2vector` / `oidvector` as one-dimensional arrays of `Int2` /
//! `Int8`; and the column-type shorthands the table definitions use.

use storage::types::{Array, Value};

use crate::pgtype::SqlType;

pub const NAME: SqlType = SqlType::Name;
pub const OID: SqlType = SqlType::Oid;
pub const CHAR: SqlType = SqlType::InternalChar;
pub const BOOL: SqlType = SqlType::Bool;
pub const INT2: SqlType = SqlType::Int2;
pub const INT4: SqlType = SqlType::Int4;
pub const INT8: SqlType = SqlType::Int8;
pub const FLOAT4: SqlType = SqlType::Float4;
pub const TEXT: SqlType = SqlType::Text;
pub const NODE_TREE: SqlType = SqlType::PgNodeTree;
pub const REGPROC: SqlType = SqlType::RegProc;
pub const TIMESTAMPTZ: SqlType = SqlType::Timestamptz;
/// `xid` has no [`SqlType`]; `oid` has the same width and text form.
pub const XID: SqlType = SqlType::Oid;

/// `type[]`.
pub fn array_of(element: SqlType) -> SqlType {
    SqlType::Array(Box::new(element))
}

/// The `information_schema` domains: `sql_identifier` is `name`, `character_data` and
/// `yes_or_no` are `character varying`, `cardinal_number` is `integer`.
pub mod info {
    use crate::pgtype::SqlType;

    pub const SQL_IDENTIFIER: SqlType = SqlType::Name;
    pub const CHARACTER_DATA: SqlType = SqlType::Varchar(None);
    pub const YES_OR_NO: SqlType = SqlType::Varchar(Some(3));
    pub const CARDINAL_NUMBER: SqlType = SqlType::Int4;
}

pub fn name(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

pub fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

/// A text value, or NULL.
pub fn text_or_null(s: Option<impl Into<String>>) -> Value {
    s.map_or(Value::Null, |s| Value::Text(s.into()))
}

pub fn oid(oid: u32) -> Value {
    Value::Int8(i64::from(oid))
}

/// A `"char"` value (`relkind`, `contype`...); `'\0'` is the empty string, as PostgreSQL
/// prints a zero byte.
pub fn ch(c: char) -> Value {
    if c == '\0' {
        Value::Text(String::new())
    } else {
        Value::Text(c.to_string())
    }
}

pub fn boolean(b: bool) -> Value {
    Value::Bool(b)
}

pub fn int2(x: i16) -> Value {
    Value::Int2(x)
}

pub fn int4(x: i32) -> Value {
    Value::Int4(x)
}

pub fn int8(x: i64) -> Value {
    Value::Int8(x)
}

pub fn float4(x: f32) -> Value {
    Value::Float4(x)
}

/// An `int2vector` (or `int2[]`).
pub fn int2_vector(items: impl IntoIterator<Item = i16>) -> Value {
    Value::Array(Box::new(Array::from_list(
        items.into_iter().map(Value::Int2).collect(),
    )))
}

/// An `oidvector` (or `oid[]`).
pub fn oid_vector(items: impl IntoIterator<Item = u32>) -> Value {
    Value::Array(Box::new(Array::from_list(
        items.into_iter().map(oid).collect(),
    )))
}

/// A `text[]`, `name[]`, `"char"[]` or `aclitem[]`.
pub fn text_array<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Value {
    Value::Array(Box::new(Array::from_list(
        items.into_iter().map(|s| Value::Text(s.into())).collect(),
    )))
}

/// A `text[]`, or NULL when empty (`reloptions`, `relacl` of an object without grants).
pub fn text_array_or_null<S: Into<String>>(items: Vec<S>) -> Value {
    if items.is_empty() {
        Value::Null
    } else {
        text_array(items)
    }
}

/// The integer in an `Int2` / `Int4` / `Int8` value (`oid`, `regclass` arguments).
pub fn as_i64(value: &Value) -> Option<i64> {
    match value {
        Value::Int2(x) => Some(i64::from(*x)),
        Value::Int4(x) => Some(i64::from(*x)),
        Value::Int8(x) => Some(*x),
        _ => None,
    }
}

/// An OID argument; out-of-range values name no object.
pub fn as_oid(value: &Value) -> Option<u32> {
    as_i64(value).and_then(|x| u32::try_from(x).ok())
}

/// A text-like argument (`text`, `name`, `varchar`).
pub fn as_str(value: &Value) -> Option<&str> {
    match value {
        Value::Text(s) => Some(s),
        _ => None,
    }
}
