//! JSON operators and functions against PostgreSQL's output.

use super::test_support::{err, ok};
use crate::pgtype::SqlType;

use SqlType::{
    Bool, Date, Float8, Int4, Json as J, Jsonb as B, Text, Timestamp, Timestamptz, Unknown,
};

fn text_array() -> SqlType {
    SqlType::Array(Box::new(Text))
}

#[test]
fn field_access_matches_postgres() {
    assert_eq!(ok("->", &[(r#"{"a":1,"a":2}"#, J), ("a", Unknown)]), "2");
    assert_eq!(ok("->", &[("[1,2,3]", J), ("-1", Int4)]), "3");
    assert_eq!(ok("->", &[("[1,2,3]", B), ("-1", Int4)]), "3");
    assert_eq!(
        ok(
            "#>",
            &[(r#"{"a":{"b":[1,2]}}"#, J), ("{a,b,1}", text_array())]
        ),
        "2"
    );
    assert_eq!(ok("->>", &[(r#"{"a":null}"#, B), ("a", Unknown)]), "NULL");
    assert_eq!(
        ok("->>", &[(r#"{"a": [1, 2]}"#, J), ("a", Unknown)]),
        "[1, 2]"
    );
    assert_eq!(
        ok("->>", &[(r#"{"a": "x\"y"}"#, B), ("a", Unknown)]),
        "x\"y"
    );
    assert_eq!(
        ok("->", &[(r#"{"a": {"b":  1}}"#, J), ("a", Unknown)]),
        r#"{"b":  1}"#
    );
    assert_eq!(
        ok("->", &[(r#"{"a": {"b":  1}}"#, B), ("a", Unknown)]),
        r#"{"b": 1}"#
    );
    assert_eq!(ok("->", &[("[1]", B), ("a", Unknown)]), "NULL");
    assert_eq!(
        ok(
            "#>>",
            &[(r#"{"a":[{"b":"c"}]}"#, B), ("{a,0,b}", text_array())]
        ),
        "c"
    );
    assert_eq!(
        ok(
            "jsonb_extract_path_text",
            &[(r#"{"a":{"b":"c"}}"#, B), ("a", Text), ("b", Text)]
        ),
        "c"
    );
}

#[test]
fn jsonb_operators_match_postgres() {
    assert_eq!(ok("@>", &[("[1,[2,3]]", B), ("[[3]]", B)]), "t");
    assert_eq!(ok("@>", &[("[1,2]", B), ("1", B)]), "t");
    assert_eq!(
        ok(
            "@>",
            &[(r#"{"a":{"b":1,"c":2}}"#, B), (r#"{"a":{"b":1}}"#, B)]
        ),
        "t"
    );
    assert_eq!(ok("@>", &[(r#"{"a":1}"#, B), (r#"{"a":2}"#, B)]), "f");
    assert_eq!(ok("<@", &[(r#"{"b":2}"#, B), (r#"{"a":1,"b":2}"#, B)]), "t");
    assert_eq!(ok("?", &[(r#"["a","b"]"#, B), ("a", Unknown)]), "t");
    assert_eq!(ok("?|", &[(r#"{"a":1}"#, B), ("{x,a}", text_array())]), "t");
    assert_eq!(ok("?&", &[(r#"{"a":1}"#, B), ("{x,a}", text_array())]), "f");
    assert_eq!(
        ok("||", &[(r#"{"a":1}"#, B), ("[2]", B)]),
        r#"[{"a": 1}, 2]"#
    );
    assert_eq!(ok("||", &[("1", B), ("2", B)]), "[1, 2]");
    assert_eq!(
        ok("||", &[(r#"{"a":1,"b":2}"#, B), (r#"{"b":3}"#, B)]),
        r#"{"a": 1, "b": 3}"#
    );
    assert_eq!(ok("-", &[("[1,2,3]", B), ("-1", Int4)]), "[1, 2]");
    assert_eq!(
        ok("-", &[(r#"{"a":1,"b":2}"#, B), ("a", Unknown)]),
        r#"{"b": 2}"#
    );
    assert_eq!(
        ok("#-", &[(r#"{"a":[1,2]}"#, B), ("{a,0}", text_array())]),
        r#"{"a": [2]}"#
    );
    assert_eq!(
        err("-", &[("1", B), ("a", Unknown)]).1,
        "cannot delete from scalar"
    );
    assert_eq!(
        err("-", &[("{}", B), ("1", Int4)]).1,
        "cannot delete from object using integer index"
    );
    assert_eq!(ok("=", &[("1.0", B), ("1", B)]), "t");
    assert_eq!(ok("<", &[("[]", B), ("null", B)]), "t");
}

#[test]
fn jsonb_functions_match_postgres() {
    let path = text_array();
    assert_eq!(
        ok(
            "jsonb_set",
            &[(r#"{"a":[1,2]}"#, B), ("{a,5}", path.clone()), ("9", B)]
        ),
        r#"{"a": [1, 2, 9]}"#
    );
    assert_eq!(
        ok(
            "jsonb_set",
            &[(r#"{"a":[1,2]}"#, B), ("{a,-5}", path.clone()), ("9", B)]
        ),
        r#"{"a": [9, 1, 2]}"#
    );
    assert_eq!(
        ok(
            "jsonb_set",
            &[(r#"{"a":1}"#, B), ("{b,c}", path.clone()), ("9", B)]
        ),
        r#"{"a": 1}"#
    );
    assert_eq!(
        ok(
            "jsonb_set",
            &[
                (r#"{"b":1}"#, B),
                ("{a}", path.clone()),
                ("9", B),
                ("false", Bool)
            ]
        ),
        r#"{"b": 1}"#
    );
    assert_eq!(
        ok(
            "jsonb_insert",
            &[
                ("[1,2]", B),
                ("{1}", path.clone()),
                ("9", B),
                ("true", Bool)
            ]
        ),
        "[1, 2, 9]"
    );
    assert_eq!(
        err("jsonb_set", &[("1", B), ("{a}", path.clone()), ("2", B)]).1,
        "cannot set path in scalar"
    );
    assert_eq!(
        err(
            "jsonb_set",
            &[("[1,2]", B), ("{x}", path.clone()), ("2", B)]
        ),
        (
            "22P02".into(),
            "path element at position 1 is not an integer: \"x\"".into()
        )
    );
    let (code, message) = err(
        "jsonb_insert",
        &[(r#"{"a":1}"#, B), ("{a}", path), ("2", B)],
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("22023", "cannot replace existing key")
    );
    assert_eq!(
        ok("jsonb_pretty", &[(r#"{"a":1,"b":[1,{"c":[]}],"d":{}}"#, B)]),
        "{\n    \"a\": 1,\n    \"b\": [\n        1,\n        {\n            \"c\": [\n            ]\n        }\n    ],\n    \"d\": {\n    }\n}"
    );
    assert_eq!(
        ok(
            "json_strip_nulls",
            &[(r#"{"a": 1, "b": null, "c": [null, {"d": null}]}"#, J)]
        ),
        r#"{"a":1,"c":[null,{}]}"#
    );
    assert_eq!(
        ok(
            "jsonb_strip_nulls",
            &[(r#"{"a": 1, "b": null, "c": [null, {"d": null}]}"#, B)]
        ),
        r#"{"a": 1, "c": [null, {}]}"#
    );
    assert_eq!(ok("jsonb_typeof", &[("[1]", B)]), "array");
    assert_eq!(ok("json_array_length", &[("[1,2,3]", J)]), "3");
    assert_eq!(
        err("jsonb_array_length", &[("1", B)]).1,
        "cannot get array length of a scalar"
    );
}

#[test]
fn set_returning_json_functions_match_postgres() {
    assert_eq!(
        ok("jsonb_each", &[(r#"{"b":[1],"a":"x"}"#, B)]),
        r#"a|"x";b|[1]"#
    );
    assert_eq!(
        ok("json_each_text", &[(r#"{"b":[1, 2],"a":"x"}"#, J)]),
        "b|[1, 2];a|x"
    );
    assert_eq!(ok("jsonb_object_keys", &[(r#"{"b":1,"a":2}"#, B)]), "a;b");
    assert_eq!(
        ok("jsonb_array_elements_text", &[(r#"[1,"a",null]"#, B)]),
        "1;a;NULL"
    );
    assert_eq!(
        err("jsonb_each", &[("[1]", B)]).1,
        "cannot call jsonb_each on a non-object"
    );
    assert_eq!(
        err("json_each", &[("[1]", J)]).1,
        "cannot deconstruct an array as an object"
    );
    assert_eq!(
        err("jsonb_array_elements", &[("{}", B)]).1,
        "cannot extract elements from an object"
    );
    assert_eq!(
        err("json_object_keys", &[("1", J)]).1,
        "cannot call json_object_keys on a scalar"
    );
}

#[test]
fn json_builders_match_postgres() {
    assert_eq!(
        ok(
            "json_build_object",
            &[
                ("a", Unknown),
                ("1", Int4),
                ("b", Unknown),
                ("x", Unknown),
                ("c", Unknown),
                ("NULL", Unknown),
                ("e", Unknown),
                ("1.5", Float8),
                ("g", Unknown),
                (r#"{"x": 1}"#, J),
                ("h", Unknown),
                ("true", Bool)
            ]
        ),
        r#"{"a" : 1, "b" : "x", "c" : null, "e" : 1.5, "g" : {"x": 1}, "h" : true}"#
    );
    assert_eq!(
        ok(
            "jsonb_build_object",
            &[
                ("a", Unknown),
                ("1", Int4),
                ("e", Unknown),
                ("1e20", Float8),
                ("n", Unknown),
                ("nan", Float8)
            ]
        ),
        r#"{"a": 1, "e": 100000000000000000000, "n": "NaN"}"#
    );
    assert_eq!(
        ok(
            "json_build_array",
            &[
                ("1", Int4),
                ("a", Unknown),
                ("NULL", Unknown),
                ("{x,y}", text_array())
            ]
        ),
        r#"[1, "a", null, ["x","y"]]"#
    );
    assert_eq!(
        ok("to_json", &[("2024-01-01 10:00", Timestamp)]),
        r#""2024-01-01T10:00:00""#
    );
    assert_eq!(
        ok("to_json", &[("2024-01-01 10:00+02", Timestamptz)]),
        r#""2024-01-01T08:00:00+00:00""#
    );
    assert_eq!(ok("to_json", &[("2024-01-01", Date)]), r#""2024-01-01""#);
    assert_eq!(ok("to_jsonb", &[("1e20", Float8)]), "100000000000000000000");
    assert_eq!(ok("to_json", &[("1e20", Float8)]), "1e+20");
    assert_eq!(
        ok(
            "to_json",
            &[("{{1,2},{3,4}}", SqlType::Array(Box::new(Int4)))]
        ),
        "[[1,2],[3,4]]"
    );
    assert_eq!(
        ok(
            "to_jsonb",
            &[("{{1,2},{3,4}}", SqlType::Array(Box::new(Int4)))]
        ),
        "[[1, 2], [3, 4]]"
    );
    assert_eq!(ok("to_json", &[("a\"b", Text)]), r#""a\"b""#);
    assert_eq!(
        ok("json_object", &[("{a,1,b,2}", text_array())]),
        r#"{"a" : "1", "b" : "2"}"#
    );
    assert_eq!(
        ok("jsonb_object", &[("{{a,1},{b,2}}", text_array())]),
        r#"{"a": "1", "b": "2"}"#
    );
    assert_eq!(
        ok("json_build_object", &[("1", Int4), ("2", Int4)]),
        r#"{"1" : 2}"#
    );
    let (code, message) = err("json_build_object", &[("a", Unknown)]);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("22023", "argument list must have even number of elements")
    );
    assert_eq!(
        err(
            "json_build_object",
            &[("{1}", SqlType::Array(Box::new(Int4))), ("1", Int4)]
        )
        .1,
        "key value must be scalar, not array, composite, or json"
    );
}
