//! JSON operators and processing functions: `-> ->> #> #>>` on `json` and `jsonb`; jsonb's
//! `@> <@ ? ?| ?& - #- ||`; `jsonb_typeof`, `jsonb_array_length`, `jsonb_extract_path`,
//! `jsonb_set`, `jsonb_insert`, `jsonb_strip_nulls`, `jsonb_pretty` and their `json`
//! counterparts. The set-returning ones (`jsonb_each`, `jsonb_array_elements`, ...) are in
//! `json_sets`.
//!
//! `json` results are slices of the input text, verbatim (PostgreSQL's json functions do not
//! re-print what they return); `jsonb` results are canonical text. Errors use PostgreSQL's
//! messages (22023 for operations on the wrong kind of value).

use storage::types::Value;

use super::json_tree::{self, Json};
use super::registry::Registry;
use super::{args, FnCtx, Param, Returns};
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;

pub fn register(reg: &mut Registry) {
    use SqlType::{Bool, Int4, Json as J, Jsonb as B, Text};
    let text_array = SqlType::Array(Box::new(Text));
    for t in [J, B] {
        reg.typed("->", &[t.clone(), Text], t.clone(), field);
        reg.typed("->", &[t.clone(), Int4], t.clone(), element);
        reg.typed("->>", &[t.clone(), Text], Text, field_text);
        reg.typed("->>", &[t.clone(), Int4], Text, element_text);
        reg.typed("#>", &[t.clone(), text_array.clone()], t.clone(), path);
        reg.typed("#>>", &[t.clone(), text_array.clone()], Text, path_text);
    }
    reg.typed("json_extract_path", &[J, Text], J, extract_path)
        .variadic();
    reg.typed(
        "json_extract_path_text",
        &[J, Text],
        Text,
        extract_path_text,
    )
    .variadic();
    reg.typed("jsonb_extract_path", &[B, Text], B, extract_path)
        .variadic();
    reg.typed(
        "jsonb_extract_path_text",
        &[B, Text],
        Text,
        extract_path_text,
    )
    .variadic();
    reg.typed("@>", &[B, B], Bool, contains);
    reg.typed("<@", &[B, B], Bool, contained);
    reg.typed("?", &[B, Text], Bool, exists);
    reg.typed("?|", &[B, text_array.clone()], Bool, exists_any);
    reg.typed("?&", &[B, text_array.clone()], Bool, exists_all);
    reg.typed("-", &[B, Text], B, delete_key);
    reg.typed("-", &[B, text_array.clone()], B, delete_keys);
    reg.typed("-", &[B, Int4], B, delete_index);
    reg.typed("#-", &[B, text_array.clone()], B, delete_path);
    reg.typed("||", &[B, B], B, concat);
    reg.typed("jsonb_typeof", &[B], Text, type_of);
    reg.typed("json_typeof", &[J], Text, type_of);
    reg.typed("jsonb_array_length", &[B], Int4, array_length);
    reg.typed("json_array_length", &[J], Int4, array_length);
    reg.typed("jsonb_set", &[B, text_array.clone(), B], B, set);
    reg.typed("jsonb_set", &[B, text_array.clone(), B, Bool], B, set);
    reg.typed("jsonb_insert", &[B, text_array.clone(), B], B, insert);
    reg.typed("jsonb_insert", &[B, text_array, B, Bool], B, insert);
    reg.typed("jsonb_strip_nulls", &[B], B, strip_nulls);
    reg.typed("json_strip_nulls", &[J], J, strip_nulls);
    reg.typed("jsonb_pretty", &[B], Text, pretty);
    reg.scalar(
        "jsonb_contains",
        vec![Param::Type(B), Param::Type(B)],
        Returns::Type(Bool),
        contains,
    );
}

pub fn invalid_param(message: impl Into<String>) -> SqlError {
    SqlError::new(code::INVALID_PARAMETER_VALUE, message)
}

/// Parses the json or jsonb argument `i`.
pub fn tree(a: &[Value], i: usize) -> SqlResult<Json> {
    json_tree::parse(args::text(a, i)?)
}

fn is_jsonb(a: &[Value]) -> bool {
    matches!(a.first(), Some(Value::Jsonb(_)))
}

/// A result of the same json kind as the first argument: jsonb canonical text or json text.
fn same_kind(a: &[Value], value: &Json) -> Value {
    if is_jsonb(a) {
        Value::Jsonb(value.to_jsonb_text())
    } else {
        let mut out = String::new();
        value.write(&mut out, ",", ":");
        Value::Json(out)
    }
}

/// One step into a json text: the raw text of member `key` (the last of duplicates) or of
/// element `index`.
fn json_step<'a>(text: &'a str, step: Step) -> SqlResult<Option<&'a str>> {
    let Some(items) = json_tree::top_level_items(text)? else {
        return Ok(None);
    };
    let is_object = text.trim_start().starts_with('{');
    Ok(match step {
        Step::Key(key) if is_object => items
            .iter()
            .rev()
            .find(|(k, _)| k.as_deref() == Some(key))
            .map(|(_, raw)| *raw),
        Step::Index(i) if !is_object => {
            let idx = if i < 0 { items.len() as i64 + i } else { i };
            usize::try_from(idx)
                .ok()
                .and_then(|i| items.get(i))
                .map(|(_, raw)| *raw)
        }
        _ => None,
    })
}

#[derive(Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(i64),
}

fn jsonb_step(value: &Json, step: Step) -> Option<Json> {
    match (step, value) {
        (Step::Key(k), _) => value.get(k).cloned(),
        // jsonb stores a top-level scalar as a one-element array: `'"s"'::jsonb -> 0` is it.
        (Step::Index(0 | -1), Json::Null | Json::Bool(_) | Json::Number(_) | Json::String(_)) => {
            Some(value.clone())
        }
        (Step::Index(i), _) => value.index(i).cloned(),
    }
}

/// Follows a step on either kind; the result as a value of the same kind.
fn follow(a: &[Value], step: Step) -> SqlResult<Option<Value>> {
    if is_jsonb(a) {
        Ok(jsonb_step(&tree(a, 0)?, step).map(|v| Value::Jsonb(v.to_jsonb_text())))
    } else {
        Ok(json_step(args::text(a, 0)?, step)?.map(|raw| Value::Json(raw.to_string())))
    }
}

/// `->>`'s text of a json or jsonb value: strings unquoted, null as SQL NULL.
fn as_text(v: Value) -> SqlResult<Value> {
    match v {
        Value::Jsonb(s) | Value::Json(s) => {
            let t = json_tree::parse(&s)?;
            Ok(match t {
                Json::Null => Value::Null,
                Json::String(s) => Value::Text(s),
                _ if s.trim_start().starts_with(['{', '[']) => Value::Text(s.trim().to_string()),
                other => Value::Text(other.to_jsonb_text()),
            })
        }
        other => Ok(other),
    }
}

fn field(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(follow(a, Step::Key(args::text(a, 1)?))?.unwrap_or(Value::Null))
}

fn element(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(follow(a, Step::Index(args::int(a, 1)?))?.unwrap_or(Value::Null))
}

fn field_text(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    as_text(field(ctx, a)?)
}

fn element_text(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    as_text(element(ctx, a)?)
}

/// The elements of a text[] path; `None` if any is NULL.
fn path_elements(value: &Value) -> SqlResult<Option<Vec<String>>> {
    let Value::Array(array) = value else {
        return Err(SqlError::internal("path is not an array"));
    };
    let mut out = Vec::with_capacity(array.elements.len());
    for e in &array.elements {
        match e {
            Value::Text(s) => out.push(s.clone()),
            _ => return Ok(None),
        }
    }
    Ok(Some(out))
}

fn follow_path(a: &[Value], path: &[String]) -> SqlResult<Option<Value>> {
    let index_of = |s: &str| s.trim().parse::<i64>().ok();
    if is_jsonb(a) {
        let mut current = tree(a, 0)?;
        for p in path {
            let next = match &current {
                Json::Object(_) => current.get(p).cloned(),
                Json::Array(_) => index_of(p).and_then(|i| current.index(i).cloned()),
                _ => None,
            };
            match next {
                Some(n) => current = n,
                None => return Ok(None),
            }
        }
        Ok(Some(Value::Jsonb(current.to_jsonb_text())))
    } else {
        let mut current = args::text(a, 0)?.to_string();
        for p in path {
            let trimmed = current.trim_start();
            let step = if trimmed.starts_with('{') {
                Step::Key(p)
            } else {
                match index_of(p) {
                    Some(i) => Step::Index(i),
                    None => return Ok(None),
                }
            };
            match json_step(&current, step)? {
                Some(raw) => current = raw.to_string(),
                None => return Ok(None),
            }
        }
        Ok(Some(Value::Json(current)))
    }
}

fn path(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let Some(p) = path_elements(args::arg(a, 1)?)? else {
        return Ok(Value::Null);
    };
    Ok(follow_path(a, &p)?.unwrap_or(Value::Null))
}

fn path_text(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    as_text(path(ctx, a)?)
}

fn extract_path(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let mut p = Vec::new();
    for v in &a[1..] {
        match v {
            Value::Text(s) => p.push(s.clone()),
            _ => return Ok(Value::Null),
        }
    }
    Ok(follow_path(a, &p)?.unwrap_or(Value::Null))
}

fn extract_path_text(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    as_text(extract_path(ctx, a)?)
}

/// `JsonbDeepContains`: whether `a` contains `b`.
pub fn deep_contains(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Object(_), Json::Object(bm)) => bm.iter().all(|(k, bv)| match a.get(k) {
            Some(av) => match (av, bv) {
                (Json::Object(_), Json::Object(_)) | (Json::Array(_), Json::Array(_)) => {
                    deep_contains(av, bv)
                }
                _ => scalar_equal(av, bv),
            },
            None => false,
        }),
        (Json::Array(ai), Json::Array(bi)) => bi.iter().all(|be| match be {
            Json::Object(_) | Json::Array(_) => ai.iter().any(|ae| {
                std::mem::discriminant(ae) == std::mem::discriminant(be) && deep_contains(ae, be)
            }),
            scalar => ai.iter().any(|ae| scalar_equal(ae, scalar)),
        }),
        (Json::Array(ai), scalar) if !matches!(scalar, Json::Object(_)) => {
            ai.iter().any(|ae| scalar_equal(ae, scalar))
        }
        (Json::Object(_), _) | (_, Json::Object(_)) | (_, Json::Array(_)) => false,
        _ => scalar_equal(a, b),
    }
}

fn scalar_equal(a: &Json, b: &Json) -> bool {
    json_tree::compare_jsonb(a, b) == std::cmp::Ordering::Equal
}

fn contains(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Bool(deep_contains(&tree(a, 0)?, &tree(a, 1)?)))
}

fn contained(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Bool(deep_contains(&tree(a, 1)?, &tree(a, 0)?)))
}

fn has_key(v: &Json, key: &str) -> bool {
    match v {
        Json::Object(m) => m.iter().any(|(k, _)| k == key),
        Json::Array(items) => items
            .iter()
            .any(|i| matches!(i, Json::String(s) if s == key)),
        Json::String(s) => s == key,
        _ => false,
    }
}

fn exists(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Bool(has_key(&tree(a, 0)?, args::text(a, 1)?)))
}

fn keys_of(v: &Value) -> Vec<String> {
    match v {
        Value::Array(arr) => arr
            .elements
            .iter()
            .filter_map(|e| match e {
                Value::Text(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn exists_any(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let t = tree(a, 0)?;
    Ok(Value::Bool(
        keys_of(args::arg(a, 1)?).iter().any(|k| has_key(&t, k)),
    ))
}

fn exists_all(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let t = tree(a, 0)?;
    Ok(Value::Bool(
        keys_of(args::arg(a, 1)?).iter().all(|k| has_key(&t, k)),
    ))
}

fn remove_key(v: Json, key: &str) -> SqlResult<Json> {
    match v {
        Json::Object(m) => Ok(Json::Object(
            m.into_iter().filter(|(k, _)| k != key).collect(),
        )),
        Json::Array(items) => Ok(Json::Array(
            items
                .into_iter()
                .filter(|i| !matches!(i, Json::String(s) if s == key))
                .collect(),
        )),
        _ => Err(invalid_param("cannot delete from scalar")),
    }
}

fn delete_key(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let v = remove_key(tree(a, 0)?, args::text(a, 1)?)?;
    Ok(Value::Jsonb(v.to_jsonb_text()))
}

fn delete_keys(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let mut v = tree(a, 0)?;
    if !matches!(v, Json::Object(_) | Json::Array(_)) {
        return Err(invalid_param("cannot delete from scalar"));
    }
    for k in keys_of(args::arg(a, 1)?) {
        v = remove_key(v, &k)?;
    }
    Ok(Value::Jsonb(v.to_jsonb_text()))
}

fn delete_index(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let i = args::int(a, 1)?;
    match tree(a, 0)? {
        Json::Array(mut items) => {
            let idx = if i < 0 { items.len() as i64 + i } else { i };
            if (0..items.len() as i64).contains(&idx) {
                items.remove(idx as usize);
            }
            Ok(Value::Jsonb(Json::Array(items).to_jsonb_text()))
        }
        Json::Object(_) => Err(invalid_param(
            "cannot delete from object using integer index",
        )),
        _ => Err(invalid_param("cannot delete from scalar")),
    }
}

fn not_an_integer(position: usize, text: &str) -> SqlError {
    SqlError::new(
        code::INVALID_TEXT_REPRESENTATION,
        format!("path element at position {position} is not an integer: \"{text}\""),
    )
}

/// The mutation at the end of a path (set, insert or delete).
#[derive(Clone, Copy)]
enum Edit<'a> {
    Set { value: &'a Json, create: bool },
    Insert { value: &'a Json, after: bool },
    Delete,
}

/// Applies `edit` at `path` inside `v` (PostgreSQL's `setPath`).
fn edit_path(v: &mut Json, path: &[String], depth: usize, edit: Edit) -> SqlResult<()> {
    let Some(step) = path.get(depth) else {
        return Ok(());
    };
    let last = depth + 1 == path.len();
    match v {
        Json::Object(members) => {
            let pos = members.iter().position(|(k, _)| k == step);
            if last {
                match (edit, pos) {
                    (Edit::Set { value, .. }, Some(p)) => members[p].1 = value.clone(),
                    (
                        Edit::Set {
                            value,
                            create: true,
                        },
                        None,
                    ) => members.push((step.clone(), value.clone())),
                    (Edit::Insert { .. }, Some(_)) => {
                        return Err(invalid_param("cannot replace existing key")
                            .with_hint("Try using the function jsonb_set to replace key value."))
                    }
                    (Edit::Insert { value, .. }, None) => {
                        members.push((step.clone(), value.clone()))
                    }
                    (Edit::Delete, Some(p)) => {
                        members.remove(p);
                    }
                    _ => {}
                }
                Ok(())
            } else if let Some(p) = pos {
                edit_path(&mut members[p].1, path, depth + 1, edit)
            } else {
                Ok(())
            }
        }
        Json::Array(items) => {
            let i: i64 = step
                .trim()
                .parse()
                .map_err(|_| not_an_integer(depth + 1, step))?;
            let len = items.len() as i64;
            let idx = if i < 0 { len + i } else { i };
            if last {
                match edit {
                    Edit::Set { value, create } => {
                        if (0..len).contains(&idx) {
                            items[idx as usize] = value.clone();
                        } else if create {
                            if idx < 0 {
                                items.insert(0, value.clone());
                            } else {
                                items.push(value.clone());
                            }
                        }
                    }
                    Edit::Insert { value, after } => {
                        let at = if idx < 0 {
                            0
                        } else if idx >= len {
                            len
                        } else {
                            idx + after as i64
                        };
                        items.insert(at as usize, value.clone());
                    }
                    Edit::Delete => {
                        if (0..len).contains(&idx) {
                            items.remove(idx as usize);
                        }
                    }
                }
                Ok(())
            } else if (0..len).contains(&idx) {
                edit_path(&mut items[idx as usize], path, depth + 1, edit)
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

fn edit(a: &[Value], edit_kind: Edit) -> SqlResult<Value> {
    let mut v = tree(a, 0)?;
    let Some(p) = path_elements(args::arg(a, 1)?)? else {
        return Err(invalid_param("path element at position 1 is null"));
    };
    if !matches!(v, Json::Object(_) | Json::Array(_)) {
        return Err(invalid_param(match edit_kind {
            Edit::Delete => "cannot delete path in scalar",
            _ => "cannot set path in scalar",
        }));
    }
    edit_path(&mut v, &p, 0, edit_kind)?;
    Ok(Value::Jsonb(v.normalize().to_jsonb_text()))
}

fn set(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let value = tree(a, 2)?;
    let create = if a.len() > 3 {
        args::boolean(a, 3)?
    } else {
        true
    };
    edit(
        a,
        Edit::Set {
            value: &value,
            create,
        },
    )
}

fn insert(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let value = tree(a, 2)?;
    let after = if a.len() > 3 {
        args::boolean(a, 3)?
    } else {
        false
    };
    edit(
        a,
        Edit::Insert {
            value: &value,
            after,
        },
    )
}

fn delete_path(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    edit(a, Edit::Delete)
}

/// `jsonb || jsonb`.
pub fn concat_jsonb(x: Json, y: Json) -> Json {
    match (x, y) {
        (Json::Object(mut a), Json::Object(b)) => {
            a.extend(b);
            Json::Object(a).normalize()
        }
        (x, y) => {
            let mut items = match x {
                Json::Array(items) => items,
                other => vec![other],
            };
            match y {
                Json::Array(more) => items.extend(more),
                other => items.push(other),
            }
            Json::Array(items)
        }
    }
}

fn concat(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Jsonb(
        concat_jsonb(tree(a, 0)?, tree(a, 1)?).to_jsonb_text(),
    ))
}

fn type_of(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Text(tree(a, 0)?.type_name().to_string()))
}

fn array_length(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    match tree(a, 0)? {
        Json::Array(items) => Ok(Value::Int4(items.len() as i32)),
        Json::Object(_) => Err(invalid_param("cannot get array length of a non-array")),
        _ if is_jsonb(a) => Err(invalid_param("cannot get array length of a scalar")),
        _ => Err(invalid_param("cannot get array length of a scalar")),
    }
}

fn strip(v: Json) -> Json {
    match v {
        Json::Object(m) => Json::Object(
            m.into_iter()
                .filter(|(_, v)| *v != Json::Null)
                .map(|(k, v)| (k, strip(v)))
                .collect(),
        ),
        Json::Array(items) => Json::Array(items.into_iter().map(strip).collect()),
        other => other,
    }
}

fn strip_nulls(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(same_kind(a, &strip(tree(a, 0)?)))
}

/// `jsonb_pretty`'s layout: four spaces per level, empty containers split over two lines.
pub fn write_pretty(v: &Json, level: usize, out: &mut String) {
    let indent = |out: &mut String, level: usize| {
        out.push('\n');
        out.push_str(&"    ".repeat(level));
    };
    match v {
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                indent(out, level + 1);
                write_pretty(item, level + 1, out);
            }
            indent(out, level);
            out.push(']');
        }
        Json::Object(members) => {
            out.push('{');
            for (i, (k, val)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                indent(out, level + 1);
                json_tree::escape(out, k);
                out.push_str(": ");
                write_pretty(val, level + 1, out);
            }
            indent(out, level);
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_jsonb_text()),
    }
}

fn pretty(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let mut out = String::new();
    write_pretty(&tree(a, 0)?, 0, &mut out);
    Ok(Value::Text(out))
}
