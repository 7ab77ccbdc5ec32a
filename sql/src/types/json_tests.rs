//! Tests of `json` and `jsonb` text forms: PostgreSQL-captured tables (validation errors with
//! their DETAIL, `jsonb` normalisation), then nesting limits.

use super::*;
use crate::types::test_support::{check_tables, Settings, Table};

#[test]
fn json_input_and_output_match_postgres() {
    check_tables(POSTGRES_CASES);
}

#[test]
fn deep_nesting_is_accepted_up_to_the_limit_without_exhausting_the_stack() {
    let deep = format!(
        "{}{}",
        "[".repeat(MAX_JSON_DEPTH),
        "]".repeat(MAX_JSON_DEPTH)
    );
    assert_eq!(parse_jsonb(&deep).unwrap(), deep);
    assert_eq!(parse_json(&deep).unwrap(), deep);
    let objects = format!(
        "{}1{}",
        "{\"a\": ".repeat(MAX_JSON_DEPTH),
        "}".repeat(MAX_JSON_DEPTH)
    );
    assert_eq!(parse_jsonb(&objects).unwrap(), objects);
    let too_deep = format!(
        "{}{}",
        "[".repeat(MAX_JSON_DEPTH + 1),
        "]".repeat(MAX_JSON_DEPTH + 1)
    );
    let e = parse_jsonb(&too_deep).unwrap_err();
    assert_eq!(
        (e.sqlstate, e.message.as_str()),
        ("54001", "stack depth limit exceeded")
    );
    // A deep value followed by an error is freed without recursion.
    let broken = format!(
        "[{}{}, x]",
        "[".repeat(MAX_JSON_DEPTH - 1),
        "]".repeat(MAX_JSON_DEPTH - 1)
    );
    assert!(parse_jsonb(&broken).is_err());
}

#[test]
fn printing_stops_at_the_size_limit() {
    // One number written in 8 bytes prints as 131072 digits.
    let node = parse("[1e131071, 1e131071]", true).unwrap();
    let mut out = String::new();
    let e = write_node(&mut out, node, 200_000).unwrap_err();
    assert_eq!(e.sqlstate, "54000");
    assert_eq!(
        e.message,
        "total size of jsonb value exceeds the maximum of 200000 bytes"
    );
    assert!(out.len() < 300_000);
}

#[test]
fn jsonb_keeps_the_last_of_duplicate_keys_and_orders_by_length_then_bytes() {
    assert_eq!(
        parse_jsonb(r#"{"b":1,"a":2,"b":3,"ab":4,"a":5}"#).unwrap(),
        r#"{"a": 5, "b": 3, "ab": 4}"#
    );
    assert_eq!(
        parse_jsonb(r#"{"B":1,"a":2,"é":3}"#).unwrap(),
        r#"{"B": 1, "a": 2, "é": 3}"#
    );
}

// Captured from PostgreSQL (see the module doc); regenerate rather than hand-edit.

pub(super) const POSTGRES_CASES: &[Table] = &[
    Table {
        data_type: "json",
        settings: Settings { time_zone: "UTC", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("{\"a\":1}", "{\"a\":1}"),
            ("{\"b\": 1, \"a\": 2}", "{\"b\": 1, \"a\": 2}"),
            ("{\"aa\":1,\"b\":2,\"a\":3}", "{\"aa\":1,\"b\":2,\"a\":3}"),
            ("{\"a\":1,\"a\":2}", "{\"a\":1,\"a\":2}"),
            ("[1,2,3]", "[1,2,3]"),
            ("[1, [2, [3]]]", "[1, [2, [3]]]"),
            ("1", "1"),
            ("-1.50", "-1.50"),
            ("1e2", "1e2"),
            ("1E-2", "1E-2"),
            ("-0", "-0"),
            ("0.0", "0.0"),
            ("\"hello\"", "\"hello\""),
            ("\"\\u00e9\"", "\"\\u00e9\""),
            ("\"\\ud83d\\ude00\"", "\"\\ud83d\\ude00\""),
            ("\"a\\nb\\tc\\\"d\\\\e\\/f\\bg\\fh\\ri\"", "\"a\\nb\\tc\\\"d\\\\e\\/f\\bg\\fh\\ri\""),
            ("\"\\u0001\"", "\"\\u0001\""),
            ("true", "true"),
            ("false", "false"),
            ("null", "null"),
            ("  {  \"a\"  :  [ true , false , null ]  }  ", "  {  \"a\"  :  [ true , false , null ]  }  "),
            ("{}", "{}"),
            ("[]", "[]"),
            ("{\"\":1}", "{\"\":1}"),
            ("{\"a\":{\"c\":1,\"b\":2}}", "{\"a\":{\"c\":1,\"b\":2}}"),
            ("\"é\"", "\"é\""),
            ("\"\\u0000\"", "\"\\u0000\""),
            ("\"\\ud800\"", "\"\\ud800\""),
            ("\"\\udc00\"", "\"\\udc00\""),
            ("\"\\ud800\\ud800\"", "\"\\ud800\\ud800\""),
            ("\"\\ud800x\"", "\"\\ud800x\""),
            ("\"\\uzzzz\"", "ERR 22P02 invalid input syntax for type json | D: \"\\u\" must be followed by four hexadecimal digits."),
            ("\"\\u12\"", "ERR 22P02 invalid input syntax for type json | D: \"\\u\" must be followed by four hexadecimal digits."),
            ("\"\\x\"", "ERR 22P02 invalid input syntax for type json | D: Escape sequence \"\\x\" is invalid."),
            ("\"a\tb\"", "ERR 22P02 invalid input syntax for type json | D: Character with value 0x09 must be escaped."),
            ("", "ERR 22P02 invalid input syntax for type json | D: The input string ended unexpectedly."),
            ("{", "ERR 22P02 invalid input syntax for type json | D: The input string ended unexpectedly."),
            ("[", "ERR 22P02 invalid input syntax for type json | D: The input string ended unexpectedly."),
            ("{\"a\"}", "ERR 22P02 invalid input syntax for type json | D: Expected \":\", but found \"}\"."),
            ("{\"a\":}", "ERR 22P02 invalid input syntax for type json | D: Expected JSON value, but found \"}\"."),
            ("{\"a\":1,}", "ERR 22P02 invalid input syntax for type json | D: Expected string, but found \"}\"."),
            ("[1,]", "ERR 22P02 invalid input syntax for type json | D: Expected JSON value, but found \"]\"."),
            ("[1 2]", "ERR 22P02 invalid input syntax for type json | D: Expected \",\" or \"]\", but found \"2\"."),
            ("{\"a\" 1}", "ERR 22P02 invalid input syntax for type json | D: Expected \":\", but found \"1\"."),
            ("{1:2}", "ERR 22P02 invalid input syntax for type json | D: Expected string or \"}\", but found \"1\"."),
            ("tru", "ERR 22P02 invalid input syntax for type json | D: Token \"tru\" is invalid."),
            ("True", "ERR 22P02 invalid input syntax for type json | D: Token \"True\" is invalid."),
            ("nul", "ERR 22P02 invalid input syntax for type json | D: Token \"nul\" is invalid."),
            ("01", "ERR 22P02 invalid input syntax for type json | D: Token \"01\" is invalid."),
            ("1.", "ERR 22P02 invalid input syntax for type json | D: Token \"1.\" is invalid."),
            (".1", "ERR 22P02 invalid input syntax for type json | D: Token \".\" is invalid."),
            ("+1", "ERR 22P02 invalid input syntax for type json | D: Token \"+\" is invalid."),
            ("-", "ERR 22P02 invalid input syntax for type json | D: Token \"-\" is invalid."),
            ("1e", "ERR 22P02 invalid input syntax for type json | D: Token \"1e\" is invalid."),
            ("1e+", "ERR 22P02 invalid input syntax for type json | D: Token \"1e+\" is invalid."),
            ("\"abc", "ERR 22P02 invalid input syntax for type json | D: Token \"\"abc\" is invalid."),
            ("1 2", "ERR 22P02 invalid input syntax for type json | D: Expected end of input, but found \"2\"."),
            ("[1}", "ERR 22P02 invalid input syntax for type json | D: Expected \",\" or \"]\", but found \"}\"."),
            ("{\"a\":1]", "ERR 22P02 invalid input syntax for type json | D: Expected \",\" or \"}\", but found \"]\"."),
            ("{'a':1}", "ERR 22P02 invalid input syntax for type json | D: Token \"'\" is invalid."),
            ("nan", "ERR 22P02 invalid input syntax for type json | D: Token \"nan\" is invalid."),
            ("Infinity", "ERR 22P02 invalid input syntax for type json | D: Token \"Infinity\" is invalid."),
            ("{\"a\":1}x", "ERR 22P02 invalid input syntax for type json | D: Token \"x\" is invalid."),
            ("[[[]]]", "[[[]]]"),
            ("123456789012345678901234567890", "123456789012345678901234567890"),
            ("1e1000000", "1e1000000"),
            ("{\"a\":\"\\u00e9\"}", "{\"a\":\"\\u00e9\"}"),
            ("{\"k\\u00e9y\":1}", "{\"k\\u00e9y\":1}"),
            ("[\"\\u001f\"]", "[\"\\u001f\"]"),
        ],
    },
    Table {
        data_type: "jsonb",
        settings: Settings { time_zone: "UTC", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("{\"a\":1}", "{\"a\": 1}"),
            ("{\"b\": 1, \"a\": 2}", "{\"a\": 2, \"b\": 1}"),
            ("{\"aa\":1,\"b\":2,\"a\":3}", "{\"a\": 3, \"b\": 2, \"aa\": 1}"),
            ("{\"a\":1,\"a\":2}", "{\"a\": 2}"),
            ("[1,2,3]", "[1, 2, 3]"),
            ("[1, [2, [3]]]", "[1, [2, [3]]]"),
            ("1", "1"),
            ("-1.50", "-1.50"),
            ("1e2", "100"),
            ("1E-2", "0.01"),
            ("-0", "0"),
            ("0.0", "0.0"),
            ("\"hello\"", "\"hello\""),
            ("\"\\u00e9\"", "\"é\""),
            ("\"\\ud83d\\ude00\"", "\"😀\""),
            ("\"a\\nb\\tc\\\"d\\\\e\\/f\\bg\\fh\\ri\"", "\"a\\nb\\tc\\\"d\\\\e/f\\bg\\fh\\ri\""),
            ("\"\\u0001\"", "\"\\u0001\""),
            ("true", "true"),
            ("false", "false"),
            ("null", "null"),
            ("  {  \"a\"  :  [ true , false , null ]  }  ", "{\"a\": [true, false, null]}"),
            ("{}", "{}"),
            ("[]", "[]"),
            ("{\"\":1}", "{\"\": 1}"),
            ("{\"a\":{\"c\":1,\"b\":2}}", "{\"a\": {\"b\": 2, \"c\": 1}}"),
            ("\"é\"", "\"é\""),
            ("\"\\u0000\"", "ERR 22P05 unsupported Unicode escape sequence | D: \\u0000 cannot be converted to text."),
            ("\"\\ud800\"", "ERR 22P02 invalid input syntax for type json | D: Unicode low surrogate must follow a high surrogate."),
            ("\"\\udc00\"", "ERR 22P02 invalid input syntax for type json | D: Unicode low surrogate must follow a high surrogate."),
            ("\"\\ud800\\ud800\"", "ERR 22P02 invalid input syntax for type json | D: Unicode high surrogate must not follow a high surrogate."),
            ("\"\\ud800x\"", "ERR 22P02 invalid input syntax for type json | D: Unicode low surrogate must follow a high surrogate."),
            ("\"\\uzzzz\"", "ERR 22P02 invalid input syntax for type json | D: \"\\u\" must be followed by four hexadecimal digits."),
            ("\"\\u12\"", "ERR 22P02 invalid input syntax for type json | D: \"\\u\" must be followed by four hexadecimal digits."),
            ("\"\\x\"", "ERR 22P02 invalid input syntax for type json | D: Escape sequence \"\\x\" is invalid."),
            ("\"a\tb\"", "ERR 22P02 invalid input syntax for type json | D: Character with value 0x09 must be escaped."),
            ("", "ERR 22P02 invalid input syntax for type json | D: The input string ended unexpectedly."),
            ("{", "ERR 22P02 invalid input syntax for type json | D: The input string ended unexpectedly."),
            ("[", "ERR 22P02 invalid input syntax for type json | D: The input string ended unexpectedly."),
            ("{\"a\"}", "ERR 22P02 invalid input syntax for type json | D: Expected \":\", but found \"}\"."),
            ("{\"a\":}", "ERR 22P02 invalid input syntax for type json | D: Expected JSON value, but found \"}\"."),
            ("{\"a\":1,}", "ERR 22P02 invalid input syntax for type json | D: Expected string, but found \"}\"."),
            ("[1,]", "ERR 22P02 invalid input syntax for type json | D: Expected JSON value, but found \"]\"."),
            ("[1 2]", "ERR 22P02 invalid input syntax for type json | D: Expected \",\" or \"]\", but found \"2\"."),
            ("{\"a\" 1}", "ERR 22P02 invalid input syntax for type json | D: Expected \":\", but found \"1\"."),
            ("{1:2}", "ERR 22P02 invalid input syntax for type json | D: Expected string or \"}\", but found \"1\"."),
            ("tru", "ERR 22P02 invalid input syntax for type json | D: Token \"tru\" is invalid."),
            ("True", "ERR 22P02 invalid input syntax for type json | D: Token \"True\" is invalid."),
            ("nul", "ERR 22P02 invalid input syntax for type json | D: Token \"nul\" is invalid."),
            ("01", "ERR 22P02 invalid input syntax for type json | D: Token \"01\" is invalid."),
            ("1.", "ERR 22P02 invalid input syntax for type json | D: Token \"1.\" is invalid."),
            (".1", "ERR 22P02 invalid input syntax for type json | D: Token \".\" is invalid."),
            ("+1", "ERR 22P02 invalid input syntax for type json | D: Token \"+\" is invalid."),
            ("-", "ERR 22P02 invalid input syntax for type json | D: Token \"-\" is invalid."),
            ("1e", "ERR 22P02 invalid input syntax for type json | D: Token \"1e\" is invalid."),
            ("1e+", "ERR 22P02 invalid input syntax for type json | D: Token \"1e+\" is invalid."),
            ("\"abc", "ERR 22P02 invalid input syntax for type json | D: Token \"\"abc\" is invalid."),
            ("1 2", "ERR 22P02 invalid input syntax for type json | D: Expected end of input, but found \"2\"."),
            ("[1}", "ERR 22P02 invalid input syntax for type json | D: Expected \",\" or \"]\", but found \"}\"."),
            ("{\"a\":1]", "ERR 22P02 invalid input syntax for type json | D: Expected \",\" or \"}\", but found \"]\"."),
            ("{'a':1}", "ERR 22P02 invalid input syntax for type json | D: Token \"'\" is invalid."),
            ("nan", "ERR 22P02 invalid input syntax for type json | D: Token \"nan\" is invalid."),
            ("Infinity", "ERR 22P02 invalid input syntax for type json | D: Token \"Infinity\" is invalid."),
            ("{\"a\":1}x", "ERR 22P02 invalid input syntax for type json | D: Token \"x\" is invalid."),
            ("[[[]]]", "[[[]]]"),
            ("123456789012345678901234567890", "123456789012345678901234567890"),
            ("1e1000000", "ERR 22003 value overflows numeric format"),
            ("{\"a\":\"\\u00e9\"}", "{\"a\": \"é\"}"),
            ("{\"k\\u00e9y\":1}", "{\"kéy\": 1}"),
            ("[\"\\u001f\"]", "[\"\\u001f\"]"),
            ("{\"b\":{\"z\":1,\"y\":[{\"d\":1,\"c\":2}]},\"a\":0}", "{\"a\": 0, \"b\": {\"y\": [{\"c\": 2, \"d\": 1}], \"z\": 1}}"),
            ("{\"aaa\":1,\"bb\":2,\"c\":3,\"ab\":4}", "{\"c\": 3, \"ab\": 4, \"bb\": 2, \"aaa\": 1}"),
            ("{\"é\":1,\"e\":2,\"f\":3}", "{\"e\": 2, \"f\": 3, \"é\": 1}"),
            ("[1.0, 1.00, 1e0, -0.0, 10e-1]", "[1.0, 1.00, 1, 0.0, 1.0]"),
            ("{\"a\":1,\"b\":2,\"a\":3,\"b\":4}", "{\"a\": 3, \"b\": 4}"),
            ("\"\\u00e9\\u00E9\"", "\"éé\""),
            ("\"\\ud83d\\ude00 smile\"", "\"😀 smile\""),
            ("[1,\"2\",[3],{\"4\":5}]", "[1, \"2\", [3], {\"4\": 5}]"),
            ("[}", "ERR 22P02 invalid input syntax for type json | D: Expected JSON value, but found \"}\"."),
            ("[,1]", "ERR 22P02 invalid input syntax for type json | D: Expected JSON value, but found \",\"."),
            ("{,}", "ERR 22P02 invalid input syntax for type json | D: Expected string or \"}\", but found \",\"."),
        ],
    },
];
