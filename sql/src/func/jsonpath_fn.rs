//! The SQL functions and operators that run SQL/JSON paths: `jsonb_path_exists`,
//! `jsonb_path_match`, `jsonb_path_query` (set-returning), `jsonb_path_query_array`,
//! `jsonb_path_query_first`, their `_tz` forms (the same here: `.datetime()` is not
//! supported), and `@?` / `@@`, which are the first two in silent mode.
//!
//! Arguments are `(target jsonb, path [, vars jsonb [, silent bool]])`. The path is a
//! `text` (there is no `jsonpath` type yet), parsed on every call, which is cheap next to
//! the evaluation. Silent mode turns the SQL/JSON errors into an empty result or NULL.

use storage::types::{Row, Value};

use super::json_tree::{self, Json};
use super::jsonpath::{self, JsonPath};
use super::jsonpath_eval::{evaluate, SINGLETON_SQL_JSON_ITEM_REQUIRED};
use super::registry::Registry;
use super::{args, FnCtx, Param};
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;

pub fn register(reg: &mut Registry) {
    use SqlType::{Bool, Jsonb as B, Text};
    let p = |t: SqlType| Param::Type(t);
    for (exists, matches, query, array, first) in [
        (
            "jsonb_path_exists",
            "jsonb_path_match",
            "jsonb_path_query",
            "jsonb_path_query_array",
            "jsonb_path_query_first",
        ),
        (
            "jsonb_path_exists_tz",
            "jsonb_path_match_tz",
            "jsonb_path_query_tz",
            "jsonb_path_query_array_tz",
            "jsonb_path_query_first_tz",
        ),
    ] {
        for params in [vec![B, Text], vec![B, Text, B], vec![B, Text, B, Bool]] {
            reg.typed(exists, params.clone(), Bool, path_exists);
            reg.typed(matches, params.clone(), Bool, path_match);
            reg.typed(array, params.clone(), B, path_query_array);
            reg.typed(first, params.clone(), B, path_query_first);
            let columns: fn(&[SqlType]) -> Vec<(String, SqlType)> = if query.ends_with("_tz") {
                |_| vec![("jsonb_path_query_tz".into(), SqlType::Jsonb)]
            } else {
                |_| vec![("jsonb_path_query".into(), SqlType::Jsonb)]
            };
            reg.set_returning(
                query,
                params.into_iter().map(p).collect(),
                columns,
                path_query,
            );
        }
    }
    reg.typed("@?", &[B, Text], Bool, exists_operator);
    reg.typed("@@", &[B, Text], Bool, match_operator);
}

/// Runs the path of a call `(target, path [, vars [, silent]])`: its items, or `None` when
/// a suppressed (silent) error occurred.
fn run(a: &[Value], silent_default: bool) -> SqlResult<Option<Vec<Json>>> {
    let target = json_tree::parse(args::text(a, 0)?)?;
    let path: JsonPath = jsonpath::parse(args::text(a, 1)?)?;
    let vars = match a.get(2) {
        Some(Value::Jsonb(text)) => {
            let vars = json_tree::parse(text)?;
            if !matches!(vars, Json::Object(_)) {
                return Err(SqlError::new(
                    code::INVALID_PARAMETER_VALUE,
                    "\"vars\" argument is not an object",
                )
                .with_detail(
                    "Jsonpath parameters should be encoded as key-value pairs of \"vars\" object.",
                ));
            }
            vars
        }
        _ => Json::Object(Vec::new()),
    };
    let silent = match a.get(3) {
        Some(Value::Bool(b)) => *b,
        _ => silent_default,
    };
    match evaluate(&path, &target, &vars) {
        Ok(items) => Ok(Some(items)),
        Err(e) if e.soft && silent => Ok(None),
        Err(e) => Err(e.error),
    }
}

fn jsonb(value: &Json) -> Value {
    Value::Jsonb(value.to_jsonb_text())
}

fn exists_with(a: &[Value], silent: bool) -> SqlResult<Value> {
    Ok(match run(a, silent)? {
        Some(items) => Value::Bool(!items.is_empty()),
        None => Value::Null,
    })
}

fn match_with(a: &[Value], silent: bool) -> SqlResult<Value> {
    let silent = match a.get(3) {
        Some(Value::Bool(b)) => *b,
        _ => silent,
    };
    match run(a, silent)? {
        Some(items) => match items.as_slice() {
            [Json::Bool(b)] => Ok(Value::Bool(*b)),
            [Json::Null] => Ok(Value::Null),
            _ if silent => Ok(Value::Null),
            _ => Err(SqlError::new(
                SINGLETON_SQL_JSON_ITEM_REQUIRED,
                "single boolean result is expected",
            )),
        },
        None => Ok(Value::Null),
    }
}

fn path_exists(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    exists_with(a, false)
}

fn path_match(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    match_with(a, false)
}

fn exists_operator(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    exists_with(a, true)
}

fn match_operator(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    match_with(a, true)
}

fn path_query(_: &FnCtx, a: &[Value]) -> SqlResult<Vec<Row>> {
    Ok(run(a, false)?
        .unwrap_or_default()
        .iter()
        .map(|item| vec![jsonb(item)])
        .collect())
}

fn path_query_array(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(match run(a, false)? {
        Some(items) => jsonb(&Json::Array(items)),
        None => Value::Null,
    })
}

fn path_query_first(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(match run(a, false)? {
        Some(items) => items.first().map_or(Value::Null, jsonb),
        None => Value::Null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(target: &str, path: &str) -> SqlResult<String> {
        let a = [Value::Jsonb(target.into()), Value::Text(path.into())];
        match run(&a, false)? {
            Some(items) => Ok(Json::Array(items).to_jsonb_text()),
            None => Ok("NULL".into()),
        }
    }

    #[test]
    fn lax_paths_unwrap_and_filter() {
        let doc = r#"{"items": [{"p": 5}, {"p": 15}, {"p": 25}]}"#;
        assert_eq!(query(doc, "$.items[*] ? (@.p > 10).p").unwrap(), "[15, 25]");
        assert_eq!(query(doc, "$.items.p").unwrap(), "[5, 15, 25]");
        assert_eq!(
            query(r#"{"a": [1, 2, 3]}"#, "$.a ? (@ > 1)").unwrap(),
            "[2, 3]"
        );
        assert_eq!(
            query("[1, 2, 3, 4]", "$[1 to 2, last]").unwrap(),
            "[2, 3, 4]"
        );
        assert_eq!(
            query(r#"{"a": 5}"#, "$.a / 2").unwrap(),
            "[2.5000000000000000]"
        );
        assert_eq!(query(r#"{"a": [1, 2]}"#, "$.a.size()").unwrap(), "[2]");
        assert_eq!(query("{}", "$.missing").unwrap(), "[]");
        assert_eq!(query("{}", "1 == 1").unwrap(), "[true]");
        assert_eq!(
            query(r#"[1, "x", null]"#, "$[*].type()").unwrap(),
            r#"["number", "string", "null"]"#
        );
    }

    #[test]
    fn strict_paths_raise_structural_errors() {
        assert_eq!(query("{}", "strict $.a").unwrap_err().code, "2203A");
        assert_eq!(query("[1]", "strict $[5]").unwrap_err().code, "22033");
        assert_eq!(query(r#"{"a": "x"}"#, "$.a + 1").unwrap_err().code, "22038");
        assert_eq!(query("[1]", "$[0] / 0").unwrap_err().code, "22012");
        assert_eq!(query("{}", "$x").unwrap_err().code, "42704");
    }

    #[test]
    fn predicates_are_three_valued() {
        assert_eq!(query(r#"[1, "a", 3]"#, "$[*] ? (@ > 2)").unwrap(), "[3]");
        assert_eq!(
            query(r#"{"a": "x"}"#, "($.a > 1) is unknown").unwrap(),
            "[true]"
        );
        assert_eq!(
            query(r#"["abc", "xbc"]"#, r#"$[*] ? (@ starts with "a")"#).unwrap(),
            r#"["abc"]"#
        );
        assert_eq!(
            query(
                r#"["Abc", "xbc"]"#,
                r#"$[*] ? (@ like_regex "^a" flag "i")"#
            )
            .unwrap(),
            r#"["Abc"]"#
        );
    }
}
