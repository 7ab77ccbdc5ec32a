//! Quoting, `format`, hashes and encodings against PostgreSQL's output.

use super::string_format::*;
use super::test_support::{err, ok};
use crate::pgtype::SqlType::{Bytea, Int4, Text, Unknown};
use crate::pgtype::NUMERIC;

#[test]
fn quoting_matches_postgres() {
    assert_eq!(quote_identifier("Foo"), "\"Foo\"");
    assert_eq!(quote_identifier("foo"), "foo");
    assert_eq!(quote_identifier("select"), "\"select\"");
    assert_eq!(quote_identifier("a b"), "\"a b\"");
    assert_eq!(quote_literal("it's"), "'it''s'");
    assert_eq!(quote_literal("a\\b"), "E'a\\\\b'");
    assert_eq!(ok("quote_nullable", &[("NULL", Text)]), "NULL");
    assert_eq!(ok("quote_literal", &[("1.5", NUMERIC)]), "'1.5'");
}

#[test]
fn format_matches_postgres() {
    assert_eq!(
        ok("format", &[("%s-%s", Text), ("a", Unknown), ("b", Unknown)]),
        "a-b"
    );
    assert_eq!(
        ok(
            "format",
            &[("%I %L", Text), ("Foo", Unknown), ("x'y", Unknown)]
        ),
        "\"Foo\" 'x''y'"
    );
    assert_eq!(
        ok(
            "format",
            &[("%2$s %1$s", Text), ("a", Unknown), ("b", Unknown)]
        ),
        "b a"
    );
    assert_eq!(
        ok(
            "format",
            &[("|%5s|%-5s|", Text), ("ab", Unknown), ("cd", Unknown)]
        ),
        "|   ab|cd   |"
    );
    assert_eq!(
        ok("format", &[("%*s|", Text), ("4", Int4), ("a", Unknown)]),
        "   a|"
    );
    assert_eq!(
        ok("format", &[("%-*s|", Text), ("4", Int4), ("a", Unknown)]),
        "a   |"
    );
    assert_eq!(
        ok(
            "format",
            &[("%s|%L", Text), ("NULL", Unknown), ("NULL", Unknown)]
        ),
        "|NULL"
    );
    assert_eq!(ok("format", &[("%%", Text)]), "%");
    assert_eq!(
        err("format", &[("%s %s", Text), ("a", Unknown)]).1,
        "too few arguments for format()"
    );
    assert_eq!(
        err("format", &[("%z", Text), ("a", Unknown)]).1,
        "unrecognized format() type specifier \"z\""
    );
    assert_eq!(
        err("format", &[("%", Text), ("a", Unknown)]).1,
        "unterminated format() type specifier"
    );
}

#[test]
fn hashes_and_encodings_match_postgres() {
    assert_eq!(
        ok("md5", &[("abc", Text)]),
        "900150983cd24fb0d6963f7d28e17f72"
    );
    assert_eq!(
        ok("md5", &[("", Bytea)]),
        "d41d8cd98f00b204e9800998ecf8427e"
    );
    assert_eq!(
        ok("sha256", &[("abc", Bytea)]),
        "\\xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(ok("encode", &[("abc", Bytea), ("hex", Unknown)]), "616263");
    assert_eq!(ok("encode", &[("abc", Bytea), ("base64", Unknown)]), "YWJj");
    let long = "x".repeat(60);
    assert_eq!(
        ok("encode", &[(&long, Bytea), ("base64", Unknown)]),
        format!("{}\n{}", "eHh4".repeat(19), "eHh4")
    );
    assert_eq!(
        ok("decode", &[("YW Jj", Text), ("base64", Unknown)]),
        "\\x616263"
    );
    assert_eq!(
        ok("decode", &[("YW=j", Text), ("base64", Unknown)]),
        "\\x61"
    );
    assert_eq!(
        ok("decode", &[("61 62", Text), ("hex", Unknown)]),
        "\\x6162"
    );
    assert_eq!(
        err("decode", &[("6g", Text), ("hex", Unknown)]).1,
        "invalid hexadecimal digit: \"g\""
    );
    assert_eq!(
        err("decode", &[("616", Text), ("hex", Unknown)]).1,
        "invalid hexadecimal data: odd number of digits"
    );
    assert_eq!(
        err("decode", &[("YWJ", Text), ("base64", Unknown)]).1,
        "invalid base64 end sequence"
    );
    assert_eq!(
        err("encode", &[("a", Bytea), ("foo", Unknown)]).1,
        "unrecognized encoding: \"foo\""
    );
    assert_eq!(
        ok("decode", &[("a\\001b\\\\", Text), ("escape", Unknown)]),
        "\\x6101625c"
    );
}
