//! Array functions and operators against PostgreSQL's output.

use super::test_support::{err, ok};
use crate::pgtype::SqlType::{self, Int4, Text, Unknown};

fn ints() -> SqlType {
    SqlType::Array(Box::new(Int4))
}

fn texts() -> SqlType {
    SqlType::Array(Box::new(Text))
}

#[test]
fn array_shape_functions_match_postgres() {
    assert_eq!(
        ok("array_dims", &[("{{1,2,3},{4,5,6}}", ints())]),
        "[1:2][1:3]"
    );
    assert_eq!(ok("array_dims", &[("[0:2]={1,2,3}", ints())]), "[0:2]");
    assert_eq!(ok("array_length", &[("{1,2}", ints()), ("1", Int4)]), "2");
    assert_eq!(
        ok("array_length", &[("{1,2}", ints()), ("2", Int4)]),
        "NULL"
    );
    assert_eq!(ok("array_length", &[("{}", ints()), ("1", Int4)]), "NULL");
    assert_eq!(ok("cardinality", &[("{}", ints())]), "0");
    assert_eq!(ok("array_ndims", &[("{}", ints())]), "NULL");
    assert_eq!(
        ok("array_lower", &[("[0:2]={1,2,3}", ints()), ("1", Int4)]),
        "0"
    );
    assert_eq!(ok("array_upper", &[("{1,2}", ints()), ("1", Int4)]), "2");
}

#[test]
fn array_editing_matches_postgres() {
    assert_eq!(ok("array_append", &[("NULL", ints()), ("1", Int4)]), "{1}");
    assert_eq!(
        ok("array_cat", &[("{{1,2}}", ints()), ("{3,4}", ints())]),
        "{{1,2},{3,4}}"
    );
    assert_eq!(
        ok("array_cat", &[("{1,2}", ints()), ("{{3,4}}", ints())]),
        "{{1,2},{3,4}}"
    );
    assert_eq!(
        ok("array_prepend", &[("0", Int4), ("{1}", ints())]),
        "{0,1}"
    );
    assert_eq!(
        ok(
            "array_remove",
            &[("{1,NULL,2,NULL}", ints()), ("NULL", Int4)]
        ),
        "{1,2}"
    );
    assert_eq!(
        ok(
            "array_replace",
            &[("{1,2,1}", ints()), ("1", Int4), ("9", Int4)]
        ),
        "{9,2,9}"
    );
    assert_eq!(
        ok("array_position", &[("{a,b,NULL}", texts()), ("NULL", Text)]),
        "3"
    );
    assert_eq!(
        ok("array_positions", &[("{1,2,1}", ints()), ("1", Int4)]),
        "{1,3}"
    );
    assert_eq!(
        ok(
            "array_position",
            &[("{1,2,1}", ints()), ("1", Int4), ("2", Int4)]
        ),
        "3"
    );
    assert_eq!(ok("||", &[("{1,2}", ints()), ("3", Int4)]), "{1,2,3}");
    assert_eq!(ok("||", &[("{1,2}", ints()), ("{3}", Unknown)]), "{1,2,3}");
    assert_eq!(ok("||", &[("0", Int4), ("{1}", ints())]), "{0,1}");
    assert_eq!(ok("trim_array", &[("{1,2,3}", ints()), ("2", Int4)]), "{1}");
    assert_eq!(
        err("array_cat", &[("{{1,2}}", ints()), ("{3}", ints())]),
        (
            "2202E".into(),
            "cannot concatenate incompatible arrays".into()
        )
    );
    assert_eq!(
        err("array_remove", &[("{{1,2}}", ints()), ("1", Int4)]).0,
        "0A000"
    );
}

#[test]
fn array_text_conversions_match_postgres() {
    assert_eq!(
        ok("array_to_string", &[("{1,NULL,3}", ints()), (",", Unknown)]),
        "1,3"
    );
    assert_eq!(
        ok(
            "array_to_string",
            &[("{1,NULL,3}", ints()), (",", Unknown), ("*", Unknown)]
        ),
        "1,*,3"
    );
    assert_eq!(
        ok("string_to_array", &[("a,b,,c", Unknown), (",", Unknown)]),
        "{a,b,\"\",c}"
    );
    assert_eq!(
        ok("string_to_array", &[("abc", Unknown), ("NULL", Text)]),
        "{a,b,c}"
    );
    assert_eq!(
        ok("string_to_array", &[("abc", Unknown), ("", Unknown)]),
        "{abc}"
    );
    assert_eq!(
        ok("string_to_array", &[("", Unknown), (",", Unknown)]),
        "{}"
    );
    assert_eq!(
        ok(
            "string_to_array",
            &[("a,b,x", Unknown), (",", Unknown), ("x", Unknown)]
        ),
        "{a,b,NULL}"
    );
    assert_eq!(
        ok("array_fill", &[("7", Int4), ("{2,2}", ints())]),
        "{{7,7},{7,7}}"
    );
    assert_eq!(
        ok(
            "array_fill",
            &[("7", Int4), ("{2}", ints()), ("{0}", ints())]
        ),
        "[0:1]={7,7}"
    );
}

#[test]
fn containment_matches_postgres() {
    assert_eq!(ok("@>", &[("{1,2}", ints()), ("{2}", ints())]), "t");
    assert_eq!(ok("@>", &[("{1,NULL}", ints()), ("{NULL}", ints())]), "f");
    assert_eq!(ok("&&", &[("{1,2}", ints()), ("{2,3}", ints())]), "t");
    assert_eq!(ok("<@", &[("{}", ints()), ("{2,3}", ints())]), "t");
}
