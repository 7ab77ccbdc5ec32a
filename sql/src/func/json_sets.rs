//! Set-returning JSON functions: `jsonb_each`, `jsonb_each_text`, `jsonb_object_keys`,
//! `jsonb_array_elements`, `jsonb_array_elements_text` and their `json` forms (which return
//! sub-values verbatim and keep duplicate keys).

use storage::types::{Row, Value};

use super::json::invalid_param;
use super::json_tree::{self, Json};
use super::registry::Registry;
use super::{args, FnCtx, Param};
use crate::error::SqlResult;
use crate::pgtype::SqlType;

pub fn register(reg: &mut Registry) {
    use SqlType::{Json as J, Jsonb as B};
    reg.set_returning("jsonb_each", vec![Param::Type(B)], each_columns_b, each);
    reg.set_returning("json_each", vec![Param::Type(J)], each_columns_j, each);
    reg.set_returning(
        "jsonb_each_text",
        vec![Param::Type(B)],
        each_text_columns,
        each_text,
    );
    reg.set_returning(
        "json_each_text",
        vec![Param::Type(J)],
        each_text_columns,
        each_text,
    );
    reg.set_returning(
        "jsonb_object_keys",
        vec![Param::Type(B)],
        keys_columns_b,
        object_keys,
    );
    reg.set_returning(
        "json_object_keys",
        vec![Param::Type(J)],
        keys_columns_j,
        object_keys,
    );
    reg.set_returning(
        "jsonb_array_elements",
        vec![Param::Type(B)],
        elements_columns_b,
        elements,
    );
    reg.set_returning(
        "json_array_elements",
        vec![Param::Type(J)],
        elements_columns_j,
        elements,
    );
    reg.set_returning(
        "jsonb_array_elements_text",
        vec![Param::Type(B)],
        elements_text_columns_b,
        elements_text,
    );
    reg.set_returning(
        "json_array_elements_text",
        vec![Param::Type(J)],
        elements_text_columns_j,
        elements_text,
    );
}

fn each_columns_b(_: &[SqlType]) -> Vec<(String, SqlType)> {
    vec![
        ("key".into(), SqlType::Text),
        ("value".into(), SqlType::Jsonb),
    ]
}

fn each_columns_j(_: &[SqlType]) -> Vec<(String, SqlType)> {
    vec![
        ("key".into(), SqlType::Text),
        ("value".into(), SqlType::Json),
    ]
}

fn each_text_columns(_: &[SqlType]) -> Vec<(String, SqlType)> {
    vec![
        ("key".into(), SqlType::Text),
        ("value".into(), SqlType::Text),
    ]
}

fn keys_columns_b(_: &[SqlType]) -> Vec<(String, SqlType)> {
    vec![("jsonb_object_keys".into(), SqlType::Text)]
}

fn keys_columns_j(_: &[SqlType]) -> Vec<(String, SqlType)> {
    vec![("json_object_keys".into(), SqlType::Text)]
}

fn elements_columns_b(_: &[SqlType]) -> Vec<(String, SqlType)> {
    vec![("value".into(), SqlType::Jsonb)]
}

fn elements_columns_j(_: &[SqlType]) -> Vec<(String, SqlType)> {
    vec![("value".into(), SqlType::Json)]
}

fn elements_text_columns_b(_: &[SqlType]) -> Vec<(String, SqlType)> {
    vec![("value".into(), SqlType::Text)]
}

fn elements_text_columns_j(_: &[SqlType]) -> Vec<(String, SqlType)> {
    vec![("value".into(), SqlType::Text)]
}

fn is_jsonb(a: &[Value]) -> bool {
    matches!(a.first(), Some(Value::Jsonb(_)))
}

/// Top-level items as (key, value-as-json-or-jsonb, text-form) of an object or array.
struct Item {
    key: Option<String>,
    value: Value,
    text: Option<String>,
}

fn items(a: &[Value], function: &str, want_object: bool) -> SqlResult<Vec<Item>> {
    let text = args::text(a, 0)?;
    let tree = json_tree::parse(text)?;
    let jsonb = is_jsonb(a);
    let kind_ok = matches!(
        (&tree, want_object),
        (Json::Object(_), true) | (Json::Array(_), false)
    );
    if !kind_ok {
        let scalar = !matches!(tree, Json::Object(_) | Json::Array(_));
        let keys = function.ends_with("object_keys");
        let message = match (jsonb, want_object, scalar) {
            (_, true, true) if keys => format!("cannot call {function} on a scalar"),
            (_, true, false) if keys => format!("cannot call {function} on an array"),
            (true, true, _) => format!("cannot call {function} on a non-object"),
            (false, true, true) => "cannot deconstruct a scalar".into(),
            (false, true, false) => "cannot deconstruct an array as an object".into(),
            (true, false, true) => "cannot extract elements from a scalar".into(),
            (true, false, false) => "cannot extract elements from an object".into(),
            (false, false, true) => format!("cannot call {function} on a scalar"),
            (false, false, false) => format!("cannot call {function} on a non-array"),
        };
        return Err(invalid_param(message));
    }
    let text_of = |v: &Json| v.as_text();
    if jsonb {
        let list: Vec<(Option<String>, Json)> = match tree {
            Json::Object(m) => m.into_iter().map(|(k, v)| (Some(k), v)).collect(),
            Json::Array(items) => items.into_iter().map(|v| (None, v)).collect(),
            _ => Vec::new(),
        };
        Ok(list
            .into_iter()
            .map(|(key, v)| Item {
                key,
                text: text_of(&v),
                value: Value::Jsonb(v.to_jsonb_text()),
            })
            .collect())
    } else {
        let raw = json_tree::top_level_items(text)?.unwrap_or_default();
        raw.into_iter()
            .map(|(key, raw)| {
                let parsed = json_tree::parse(raw)?;
                let text = match parsed {
                    Json::Object(_) | Json::Array(_) => Some(raw.to_string()),
                    ref other => text_of(other),
                };
                Ok(Item {
                    key,
                    value: Value::Json(raw.to_string()),
                    text,
                })
            })
            .collect()
    }
}

fn name(a: &[Value], base: &str) -> String {
    if is_jsonb(a) {
        format!("jsonb_{base}")
    } else {
        format!("json_{base}")
    }
}

fn each(_: &FnCtx, a: &[Value]) -> SqlResult<Vec<Row>> {
    Ok(items(a, &name(a, "each"), true)?
        .into_iter()
        .map(|i| vec![Value::Text(i.key.unwrap_or_default()), i.value])
        .collect())
}

fn each_text(_: &FnCtx, a: &[Value]) -> SqlResult<Vec<Row>> {
    Ok(items(a, &name(a, "each_text"), true)?
        .into_iter()
        .map(|i| {
            vec![
                Value::Text(i.key.unwrap_or_default()),
                i.text.map_or(Value::Null, Value::Text),
            ]
        })
        .collect())
}

fn object_keys(_: &FnCtx, a: &[Value]) -> SqlResult<Vec<Row>> {
    Ok(items(a, &name(a, "object_keys"), true)?
        .into_iter()
        .map(|i| vec![Value::Text(i.key.unwrap_or_default())])
        .collect())
}

fn elements(_: &FnCtx, a: &[Value]) -> SqlResult<Vec<Row>> {
    Ok(items(a, &name(a, "array_elements"), false)?
        .into_iter()
        .map(|i| vec![i.value])
        .collect())
}

fn elements_text(_: &FnCtx, a: &[Value]) -> SqlResult<Vec<Row>> {
    Ok(items(a, &name(a, "array_elements_text"), false)?
        .into_iter()
        .map(|i| vec![i.text.map_or(Value::Null, Value::Text)])
        .collect())
}
