//! Casts, common types and call resolution, against PostgreSQL's answers.

use super::test_support::{call, cast, err, ok, with_zone};
use super::{cast_allowed, common_type, registry, CastContext};
use crate::pgtype::{SqlType, NUMERIC};

use SqlType::{
    Bool, Date, Float4, Float8, Int2, Int4, Int8, Interval, Text, Timestamp, Timestamptz, Unknown,
};

fn numeric(p: u32, s: i32) -> SqlType {
    SqlType::Numeric {
        precision: Some(p),
        scale: Some(s),
    }
}

fn arr(t: SqlType) -> SqlType {
    SqlType::Array(Box::new(t))
}

#[test]
fn numeric_casts_round_like_postgres() {
    assert_eq!(cast("1.5", NUMERIC, Int4).unwrap(), "2");
    assert_eq!(cast("-1.5", NUMERIC, Int4).unwrap(), "-2");
    assert_eq!(cast("2.5", Float8, Int2).unwrap(), "2");
    assert_eq!(cast("3.5", Float8, Int4).unwrap(), "4");
    assert_eq!(cast("12.345", Unknown, numeric(5, 2)).unwrap(), "12.35");
    assert_eq!(cast("0.1", Float8, NUMERIC).unwrap(), "0.1");
    assert_eq!(
        cast("1e20", Float8, NUMERIC).unwrap(),
        "100000000000000000000"
    );
    assert_eq!(cast("0.1", Float4, Float8).unwrap(), "0.10000000149011612");
    assert_eq!(cast("123456789012", Int8, Float4).unwrap(), "1.2345679e+11");
    assert_eq!(cast("true", Bool, Int4).unwrap(), "1");
    assert_eq!(cast("true", Bool, Text).unwrap(), "true");
}

#[test]
fn numeric_cast_errors_carry_postgres_messages() {
    let e = cast("32768", Int4, Int2).unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        ("22003", "smallint out of range")
    );
    let e = cast("2147483647.5", Float8, Int4).unwrap_err();
    assert_eq!(e.message, "integer out of range");
    let e = cast("123.456", NUMERIC, numeric(4, 2)).unwrap_err();
    assert_eq!(e.message, "numeric field overflow");
    assert_eq!(
        e.detail.as_deref(),
        Some("A field with precision 4, scale 2 must round to an absolute value less than 10^2.")
    );
    let e = cast("1", NUMERIC, numeric(2, 2)).unwrap_err();
    assert_eq!(
        e.detail.as_deref(),
        Some("A field with precision 2, scale 2 must round to an absolute value less than 1.")
    );
    let e = cast("NaN", NUMERIC, Int4).unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        ("0A000", "cannot convert NaN to integer")
    );
    let e = cast("1e39", Float8, Float4).unwrap_err();
    assert_eq!(e.message, "value out of range: overflow");
    let e = cast("-1", Int8, SqlType::Oid).unwrap_err();
    assert_eq!(e.message, "OID out of range");
    let e = cast("1", Int4, Date).unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        ("42846", "cannot cast type integer to date")
    );
}

#[test]
fn string_lengths_truncate_only_in_explicit_casts() {
    assert_eq!(
        cast("abc", Unknown, SqlType::Varchar(Some(2))).unwrap(),
        "ab"
    );
    assert_eq!(cast("a", Unknown, SqlType::Char(Some(3))).unwrap(), "a  ");
    assert_eq!(cast("ab ", SqlType::Char(Some(3)), Text).unwrap(), "ab");
    let assigned = super::test_support::with_ctx(|ctx| {
        super::cast_value_in(
            ctx,
            storage::types::Value::Text("abc".into()),
            &Text,
            &SqlType::Varchar(Some(2)),
            CastContext::Assignment,
        )
    });
    let e = assigned.unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        ("22001", "value too long for type character varying(2)")
    );
}

#[test]
fn datetime_casts_use_the_session_zone() {
    with_zone("America/New_York", |ctx| {
        let run = |text: &str, from: SqlType, to: SqlType| {
            let v = super::test_support::literal(ctx, text, &from).unwrap();
            let out = super::cast_value(ctx, v, &from, &to).unwrap();
            super::output_text(ctx, &out, &to)
        };
        assert_eq!(
            run("2024-03-10 12:00", Timestamp, Timestamptz),
            "2024-03-10 12:00:00-04"
        );
        assert_eq!(
            run("2024-03-10", Date, Timestamptz),
            "2024-03-10 00:00:00-05"
        );
        assert_eq!(
            run("2024-03-11 03:30:00+00", Timestamptz, Date),
            "2024-03-10"
        );
        assert_eq!(
            run("2024-03-11 03:30:00+00", Timestamptz, Timestamp),
            "2024-03-10 23:30:00"
        );
    });
    assert_eq!(
        cast("1 day 02:03", Interval, SqlType::Time).unwrap(),
        "02:03:00"
    );
}

#[test]
fn arrays_json_and_vectors_cast() {
    assert_eq!(cast("{1.5,2.5}", arr(NUMERIC), arr(Int4)).unwrap(), "{2,3}");
    assert_eq!(cast("{1,2}", arr(Int4), Text).unwrap(), "{1,2}");
    assert_eq!(
        cast("[1,2,3]", SqlType::Vector(None), arr(Float4)).unwrap(),
        "{1,2,3}"
    );
    assert_eq!(
        cast("{1,2}", arr(Int4), SqlType::Vector(None)).unwrap(),
        "[1,2]"
    );
    let e = cast("{1,2}", arr(Int4), SqlType::Vector(Some(3))).unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        ("22000", "expected 3 dimensions, not 2")
    );
    let e = cast("{NULL}", arr(Float4), SqlType::Vector(None)).unwrap_err();
    assert_eq!(e.code, "22004");
    assert_eq!(
        cast(r#"{"b":1, "a":2}"#, SqlType::Json, SqlType::Jsonb).unwrap(),
        r#"{"a": 2, "b": 1}"#
    );
    assert_eq!(cast("1.7", SqlType::Jsonb, Int4).unwrap(), "2");
    let e = cast("null", SqlType::Jsonb, Int4).unwrap_err();
    assert_eq!(e.message, "cannot cast jsonb null to type integer");
    assert_eq!(cast("integer", Text, SqlType::RegType).unwrap(), "integer");
    assert_eq!(
        cast("23", SqlType::Oid, SqlType::RegType).unwrap(),
        "integer"
    );
    let e = cast("nosuch", Text, SqlType::RegClass).unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        ("42P01", "relation \"nosuch\" does not exist")
    );
}

#[test]
fn cast_contexts_follow_pg_cast() {
    use CastContext::*;
    assert!(cast_allowed(&Int4, &Int8, Implicit));
    assert!(!cast_allowed(&Int8, &Int4, Implicit));
    assert!(cast_allowed(&Int8, &Int4, Assignment));
    assert!(!cast_allowed(&Text, &Int4, Assignment));
    assert!(cast_allowed(&Text, &Int4, Explicit));
    assert!(cast_allowed(&Int4, &Text, Assignment));
    assert!(!cast_allowed(&Int4, &Text, Implicit));
    assert!(cast_allowed(&SqlType::Varchar(None), &Text, Implicit));
    assert!(cast_allowed(&Unknown, &Date, Implicit));
    assert!(!cast_allowed(&Int4, &Date, Explicit));
    assert!(cast_allowed(&Date, &Timestamptz, Implicit));
    assert!(cast_allowed(&Timestamptz, &Date, Assignment));
    assert!(cast_allowed(&Text, &SqlType::RegClass, Implicit));
}

#[test]
fn common_types_follow_select_common_type() {
    assert_eq!(common_type(&[Int4, NUMERIC], "UNION").unwrap(), NUMERIC);
    assert_eq!(common_type(&[Int4, Int8], "CASE").unwrap(), Int8);
    assert_eq!(common_type(&[Unknown, Unknown], "CASE").unwrap(), Text);
    assert_eq!(common_type(&[Unknown, Int4], "COALESCE").unwrap(), Int4);
    assert_eq!(
        common_type(&[Float4, NUMERIC, Int2], "UNION").unwrap(),
        Float4
    );
    assert_eq!(
        common_type(&[Date, Timestamptz], "UNION").unwrap(),
        Timestamptz
    );
    let e = common_type(&[Int4, Text], "UNION").unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        ("42804", "UNION types integer and text cannot be matched")
    );
}

#[test]
fn resolution_picks_postgres_candidates() {
    let reg = registry();
    let r = reg.resolve_operator("+", Some(&Int4), &NUMERIC).unwrap();
    assert_eq!(r.return_type, NUMERIC);
    let r = reg.resolve_operator("+", Some(&Int4), &Unknown).unwrap();
    assert_eq!(r.arg_types, vec![Int4, Int4]);
    let r = reg
        .resolve_operator(
            "=",
            Some(&SqlType::Varchar(Some(3))),
            &SqlType::Varchar(None),
        )
        .unwrap();
    assert_eq!(r.arg_types, vec![Text, Text]);
    let r = reg.resolve_operator("=", Some(&Unknown), &Unknown).unwrap();
    assert_eq!(r.arg_types, vec![Text, Text]);
    let r = reg
        .resolve_operator("<", Some(&Date), &Timestamptz)
        .unwrap();
    assert_eq!(r.arg_types, vec![Date, Timestamptz]);
    let r = reg.resolve_operator("+", Some(&Int2), &Int8).unwrap();
    assert_eq!(r.return_type, Int8);
    let r = reg.resolve_operator("*", Some(&Float4), &Int4).unwrap();
    assert_eq!(r.return_type, Float8);
    let r = reg
        .resolve_operator("||", Some(&SqlType::Varchar(Some(5))), &Unknown)
        .unwrap();
    assert_eq!(r.arg_types, vec![Text, Text]);
    let r = reg.resolve_operator("||", Some(&Unknown), &Int4).unwrap();
    assert_eq!(r.return_type, Text);
    let r = reg
        .resolve_operator("-", Some(&Timestamptz), &Interval)
        .unwrap();
    assert_eq!(r.return_type, Timestamptz);
    let r = reg.resolve_operator("^", Some(&Int4), &Int4).unwrap();
    assert_eq!(r.return_type, Float8);
    let r = reg.resolve("date_trunc", &[Unknown, Timestamptz]).unwrap();
    assert_eq!(r.arg_types, vec![Text, Timestamptz]);
    let r = reg.resolve("round", &[NUMERIC, Int4]).unwrap();
    assert_eq!(r.return_type, NUMERIC);
    let r = reg.resolve("length", &[SqlType::Varchar(Some(3))]).unwrap();
    assert_eq!(r.arg_types, vec![Text]);
    let r = reg.resolve("generate_series", &[Int4, Int8]).unwrap();
    assert_eq!(r.return_type, Int8);
    let r = reg
        .resolve("array_append", &[SqlType::Array(Box::new(Int4)), Unknown])
        .unwrap();
    assert_eq!(r.return_type, SqlType::Array(Box::new(Int4)));
    let e = reg
        .resolve("date_trunc", &[Unknown, Unknown])
        .err()
        .unwrap();
    assert_eq!(
        e.message,
        "function date_trunc(unknown, unknown) is not unique"
    );
    let e = reg.resolve("array_length", &[Unknown, Int4]).err().unwrap();
    assert_eq!(e.code, "42804");
}

#[test]
fn resolution_errors_match_postgres() {
    let (code, message) = err("+", &[("1", Int4), ("a", Text)]);
    assert_eq!(code, "42883");
    assert_eq!(message, "operator does not exist: integer + text");
    let e = registry().resolve_operator("-", None, &Text).err().unwrap();
    assert_eq!(e.message, "operator does not exist: - text");
    assert_eq!(
        e.hint.as_deref(),
        Some("No operator matches the given name and argument type. You might need to add an explicit type cast.")
    );
    let e = registry()
        .resolve_operator("+", Some(&Unknown), &Unknown)
        .err()
        .unwrap();
    assert_eq!(
        (e.code, e.message.as_str()),
        ("42725", "operator is not unique: unknown + unknown")
    );
    let e = registry()
        .resolve("no_such_fn", &[Int4, Unknown])
        .err()
        .unwrap();
    assert_eq!(
        e.message,
        "function no_such_fn(integer, unknown) does not exist"
    );
    assert_eq!(
        e.hint.as_deref(),
        Some("No function matches the given name and argument types. You might need to add explicit type casts.")
    );
}

#[test]
fn arithmetic_matches_postgres() {
    assert_eq!(
        ok("/", &[("1", Int4), ("3", NUMERIC)]),
        "0.33333333333333333333"
    );
    assert_eq!(
        ok("/", &[("10", NUMERIC), ("4", Int4)]),
        "2.5000000000000000"
    );
    assert_eq!(ok("*", &[("2.50", NUMERIC), ("1.5", NUMERIC)]), "3.750");
    assert_eq!(ok("%", &[("7.5", NUMERIC), ("2", NUMERIC)]), "1.5");
    assert_eq!(ok("%", &[("-7", Int4), ("3", Int4)]), "-1");
    assert_eq!(ok("/", &[("7", Int4), ("2", Int4)]), "3");
    assert_eq!(ok("/", &[("-7", Int4), ("2", Int4)]), "-3");
    assert_eq!(ok("+", &[("1.5", NUMERIC), ("1", Int4)]), "2.5");
    assert_eq!(ok("%", &[("-2147483648", Int4), ("-1", Int4)]), "0");
    assert_eq!(ok("*", &[("inf", NUMERIC), ("0", NUMERIC)]), "NaN");
    assert_eq!(ok("/", &[("5", NUMERIC), ("inf", NUMERIC)]), "0");
    assert_eq!(ok("^", &[("2", Float8), ("10", Float8)]), "1024");
    assert_eq!(ok("|/", &[("2", Float8)]), "1.4142135623730951");
    assert_eq!(ok("-", &[("5", Int2)]), "-5");
    assert_eq!(ok("#", &[("7", Int4), ("2", Int4)]), "5");
    assert_eq!(ok("+", &[("1", Int4), ("2", Unknown)]), "3");
    assert_eq!(ok("=", &[("abc", Unknown), ("abc", Unknown)]), "t");
    assert_eq!(
        ok(
            "=",
            &[
                ("ab ", SqlType::Char(Some(3))),
                ("ab", SqlType::Char(Some(2)))
            ]
        ),
        "t"
    );
    assert_eq!(
        ok(
            "<",
            &[("2024-01-01", Date), ("2024-01-01 00:00:01", Timestamp)]
        ),
        "t"
    );
    assert_eq!(ok("=", &[("1", Int8), ("1.0", NUMERIC)]), "t");
    assert_eq!(ok("<", &[("{1,2}", arr(Int4)), ("{1,3}", arr(Int4))]), "t");
}

#[test]
fn arithmetic_errors_match_postgres() {
    assert_eq!(
        err("+", &[("32767", Int2), ("1", Int2)]).1,
        "smallint out of range"
    );
    assert_eq!(
        err("/", &[("-2147483648", Int4), ("-1", Int4)]).1,
        "integer out of range"
    );
    assert_eq!(
        err("/", &[("5", Int4), ("0", Int4)]),
        ("22012".into(), "division by zero".into())
    );
    assert_eq!(
        err("/", &[("1", Float8), ("0", Float8)]).1,
        "division by zero"
    );
    assert_eq!(
        err("/", &[("inf", NUMERIC), ("0", NUMERIC)]).1,
        "division by zero"
    );
    assert_eq!(
        err("*", &[("1e308", Float8), ("10", Float8)]).1,
        "value out of range: overflow"
    );
    assert_eq!(
        err("*", &[("1e-300", Float8), ("1e-300", Float8)]).1,
        "value out of range: underflow"
    );
    assert_eq!(
        err("^", &[("-8", Float8), ("0.5", Float8)]),
        (
            "2201F".into(),
            "a negative number raised to a non-integer power yields a complex result".into()
        )
    );
    assert_eq!(
        err("|/", &[("-1", Float8)]).1,
        "cannot take square root of a negative number"
    );
    assert!(call("+", &[("1", Int4), ("x", Unknown)]).is_err());
}
