//! Tests of array text forms: PostgreSQL-captured tables (quoting, NULLs, dimensions, lower
//! bounds, malformed literals, element type checks), then the stored shape of a few arrays.

use super::*;
use crate::types::test_support::{check_tables, data_type, Settings, Table};

#[test]
fn array_input_and_output_match_postgres() {
    check_tables(POSTGRES_CASES);
}

#[test]
fn dimensions_and_lower_bounds_are_stored() {
    let s = SessionFormat::default();
    let int4 = DataType::Int4;
    let array = parse_array("[0:1][1:2]={{1,2},{3,NULL}}", &int4, &s).unwrap();
    assert_eq!(
        array.dims,
        vec![ArrayDim { len: 2, lower: 0 }, ArrayDim { len: 2, lower: 1 }]
    );
    assert_eq!(
        array.elements,
        vec![Value::Int4(1), Value::Int4(2), Value::Int4(3), Value::Null]
    );
    assert_eq!(
        format_array(&array, &int4, &s),
        "[0:1][1:2]={{1,2},{3,NULL}}"
    );
    let empty = parse_array("{}", &int4, &s).unwrap();
    assert!(empty.dims.is_empty() && empty.elements.is_empty());
}

#[test]
fn elements_that_need_quotes_are_quoted() {
    let s = SessionFormat::default();
    let texts = [
        "plain",
        "",
        "NULL",
        "null",
        "a b",
        "a,b",
        "a\"b",
        "a\\b",
        "{x}",
        "tab\there",
        "é",
    ];
    let array = Array::from_list(texts.iter().map(|t| Value::Text(t.to_string())).collect());
    let text_type = data_type("text");
    let printed = format_array(&array, &text_type, &s);
    assert_eq!(
        printed,
        r#"{plain,"","NULL","null","a b","a,b","a\"b","a\\b","{x}","tab	here",é}"#
    );
    assert_eq!(parse_array(&printed, &text_type, &s).unwrap(), array);
}

#[test]
fn six_dimensions_are_allowed_and_seven_are_not() {
    let s = SessionFormat::default();
    let six = format!("{}1{}", "{".repeat(6), "}".repeat(6));
    assert_eq!(
        parse_array(&six, &DataType::Int4, &s).unwrap().dims.len(),
        6
    );
    let seven = format!("{}1{}", "{".repeat(7), "}".repeat(7));
    let e = parse_array(&seven, &DataType::Int4, &s).unwrap_err();
    assert_eq!(
        (e.sqlstate, e.message.as_str()),
        (
            "54000",
            "number of array dimensions (7) exceeds the maximum allowed (6)"
        )
    );
}

// Captured from PostgreSQL (see the module doc); regenerate rather than hand-edit.

pub(super) const POSTGRES_CASES: &[Table] = &[
    Table {
        data_type: "char(3)[]",
        settings: Settings { time_zone: "UTC", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("{a,bc,\"d \"}", "{\"a  \",\"bc \",\"d  \"}"),
        ],
    },
    Table {
        data_type: "int4[]",
        settings: Settings { time_zone: "UTC", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("{1,2,3}", "{1,2,3}"),
            ("{}", "{}"),
            ("{ }", "{}"),
            ("  {1,2}", "{1,2}"),
            ("{1, 2 , 3 }", "{1,2,3}"),
            ("{NULL}", "{NULL}"),
            ("{null,1}", "{NULL,1}"),
            ("{\"1\",\"2\"}", "{1,2}"),
            ("{{1,2},{3,4}}", "{{1,2},{3,4}}"),
            ("{{1,2},{3}}", "ERR 22P02 malformed array literal: \"{{1,2},{3}}\" | D: Multidimensional arrays must have sub-arrays with matching dimensions."),
            ("{{1},2}", "ERR 22P02 malformed array literal: \"{{1},2}\" | D: Unexpected array element."),
            ("{1,{2}}", "ERR 22P02 malformed array literal: \"{1,{2}}\" | D: Unexpected \"{\" character."),
            ("{{}}", "ERR 22P02 malformed array literal: \"{{}}\" | D: Unexpected \"}\" character."),
            ("{{},{}}", "ERR 22P02 malformed array literal: \"{{},{}}\" | D: Unexpected \"}\" character."),
            ("[0:2]={1,2,3}", "[0:2]={1,2,3}"),
            ("[1:2][1:2]={{1,2},{3,4}}", "{{1,2},{3,4}}"),
            ("[-1:0]={5,6}", "[-1:0]={5,6}"),
            ("[2]={1,2}", "{1,2}"),
            ("[0:1]={1}", "ERR 22P02 malformed array literal: \"[0:1]={1}\" | D: Specified array dimensions do not match array contents."),
            ("[1:0]={}", "ERR 2202E upper bound cannot be less than lower bound"),
            ("{1,2", "ERR 22P02 malformed array literal: \"{1,2\" | D: Unexpected end of input."),
            ("{1,,2}", "ERR 22P02 malformed array literal: \"{1,,2}\" | D: Unexpected \",\" character."),
            ("{,1}", "ERR 22P02 malformed array literal: \"{,1}\" | D: Unexpected \",\" character."),
            ("1,2", "ERR 22P02 malformed array literal: \"1,2\" | D: Array value must start with \"{\" or dimension information."),
            ("{1}x", "ERR 22P02 malformed array literal: \"{1}x\" | D: Junk after closing right brace."),
            ("{1} ", "{1}"),
            ("{\"1\"x}", "ERR 22P02 malformed array literal: \"{\"1\"x}\" | D: Unexpected array element."),
            ("{\"a\"}", "ERR 22P02 invalid input syntax for type integer: \"a\""),
            ("{1,a}", "ERR 22P02 invalid input syntax for type integer: \"a\""),
            ("[1:2]{1,2}", "ERR 22P02 malformed array literal: \"[1:2]{1,2}\" | D: Missing \"=\" after array dimensions."),
            ("[1:2]=1,2", "ERR 22P02 malformed array literal: \"[1:2]=1,2\" | D: Array contents must start with \"{\"."),
            ("[a]={1}", "ERR 22P02 malformed array literal: \"[a]={1}\" | D: \"[\" must introduce explicitly-specified array dimensions."),
            ("[1:]={1}", "ERR 22P02 malformed array literal: \"[1:]={1}\" | D: Missing array dimension value."),
            ("[1:2={1,2}", "ERR 22P02 malformed array literal: \"[1:2={1,2}\" | D: Missing \"]\" after array dimensions."),
            ("{{{{{{{1}}}}}}}", "ERR 54000 number of array dimensions (7) exceeds the maximum allowed (6)"),
            ("{{{{{{1}}}}}}", "{{{{{{1}}}}}}"),
            ("{1,2}}", "ERR 22P02 malformed array literal: \"{1,2}}\" | D: Junk after closing right brace."),
            ("{\"NULL\"}", "ERR 22P02 invalid input syntax for type integer: \"NULL\""),
            ("{\\1}", "{1}"),
            ("{ \"1\" }", "{1}"),
            ("[1:2] = {1,2}", "{1,2}"),
            ("{9999999999}", "ERR 22003 value \"9999999999\" is out of range for type integer"),
            (" {", "ERR 22P02 malformed array literal: \"{\" | D: Unexpected end of input."),
            ("[1:2]={1", "ERR 22P02 malformed array literal: \"{1\" | D: Unexpected end of input."),
            ("[1:2]={1,2,3}", "ERR 22P02 malformed array literal: \"[1:2]={1,2,3}\" | D: Specified array dimensions do not match array contents."),
            ("  {{1},{2,3}}", "ERR 22P02 malformed array literal: \"{{1},{2,3}}\" | D: Multidimensional arrays must have sub-arrays with matching dimensions."),
        ],
    },
    Table {
        data_type: "text[]",
        settings: Settings { time_zone: "UTC", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("{a,b,c}", "{a,b,c}"),
            ("{\"a b\",\"c,d\",\"e\\\"f\",\"g\\\\h\",\"\"}", "{\"a b\",\"c,d\",\"e\\\"f\",\"g\\\\h\",\"\"}"),
            ("{NULL,\"NULL\",null,\"null\",NULLx,\"\",\"\"}", "{NULL,\"NULL\",NULL,\"null\",NULLx,\"\",\"\"}"),
            ("{ a , b }", "{a,b}"),
            ("{a b}", "{\"a b\"}"),
            ("{\\ a\\ }", "{\" a \"}"),
            ("{\"{}\"}", "{\"{}\"}"),
            ("{x\\,y}", "{\"x,y\"}"),
            ("{\" leading\",\"trailing \"}", "{\" leading\",\"trailing \"}"),
            ("{é,日本}", "{é,日本}"),
            ("{\"a\\\"b\"}", "{\"a\\\"b\"}"),
            ("{\"\\n\"}", "{n}"),
            ("{{a,b},{c,d}}", "{{a,b},{c,d}}"),
            ("{ab\"c\"}", "ERR 22P02 malformed array literal: \"{ab\"c\"}\" | D: Unexpected array element."),
            ("{\"ab\"c}", "ERR 22P02 malformed array literal: \"{\"ab\"c}\" | D: Unexpected array element."),
            ("{{\"a\",\"b\"},{\"c\",\"d\"}}", "{{a,b},{c,d}}"),
            ("{a\tb}", "{\"a\tb\"}"),
            ("{\"tab\there\"}", "{\"tab\there\"}"),
            ("{\\N}", "{N}"),
            ("{n\\ULL}", "{\"nULL\"}"),
            ("{\"a\",\"b\"}", "{a,b}"),
            ("{\"\",\"\"}", "{\"\",\"\"}"),
            ("{\"  \"}", "{\"  \"}"),
            ("{\"x\" , \"y\"}", "{x,y}"),
        ],
    },
    Table {
        data_type: "varchar(2)[]",
        settings: Settings { time_zone: "UTC", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("{ab,c}", "{ab,c}"),
            ("{abc}", "ERR 22001 value too long for type character varying(2)"),
            ("{\"ab  \"}", "{ab}"),
        ],
    },
    Table {
        data_type: "numeric(4,1)[]",
        settings: Settings { time_zone: "UTC", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("{1.25,2.35,NULL}", "{1.3,2.4,NULL}"),
        ],
    },
    Table {
        data_type: "float8[]",
        settings: Settings { time_zone: "UTC", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("{1.5,NaN,-Infinity,1e20}", "{1.5,NaN,-Infinity,1e+20}"),
        ],
    },
    Table {
        data_type: "bool[]",
        settings: Settings { time_zone: "UTC", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("{t,f,yes,NULL}", "{t,f,t,NULL}"),
        ],
    },
    Table {
        data_type: "date[]",
        settings: Settings { time_zone: "UTC", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("{2024-03-01,infinity}", "{2024-03-01,infinity}"),
            ("{\"2024-03-01\"}", "{2024-03-01}"),
        ],
    },
    Table {
        data_type: "timestamp[]",
        settings: Settings { time_zone: "UTC", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("{\"2024-03-01 12:00:00\",NULL}", "{\"2024-03-01 12:00:00\",NULL}"),
        ],
    },
    Table {
        data_type: "timestamptz[]",
        settings: Settings { time_zone: "UTC", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("{\"2024-03-01 12:00:00+02\"}", "{\"2024-03-01 10:00:00+00\"}"),
        ],
    },
    Table {
        data_type: "interval[]",
        settings: Settings { time_zone: "UTC", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("{\"1 day\",\"2 hours\"}", "{\"1 day\",02:00:00}"),
        ],
    },
    Table {
        data_type: "bytea[]",
        settings: Settings { time_zone: "UTC", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("{\"\\\\x0102\",NULL}", "{\"\\\\x0102\",NULL}"),
        ],
    },
    Table {
        data_type: "uuid[]",
        settings: Settings { time_zone: "UTC", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"),
        ],
    },
    Table {
        data_type: "json[]",
        settings: Settings { time_zone: "UTC", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("{\"{\\\"a\\\": 1}\",\"[1,2]\"}", "{\"{\\\"a\\\": 1}\",\"[1,2]\"}"),
        ],
    },
    Table {
        data_type: "jsonb[]",
        settings: Settings { time_zone: "UTC", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("{\"{\\\"b\\\": 1, \\\"a\\\":2}\"}", "{\"{\\\"a\\\": 2, \\\"b\\\": 1}\"}"),
        ],
    },
    Table {
        data_type: "int2[]",
        settings: Settings { time_zone: "UTC", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("{1,99999}", "ERR 22003 value \"99999\" is out of range for type smallint"),
        ],
    },
    Table {
        data_type: "int4[][]",
        settings: Settings { time_zone: "UTC", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("{{1,2},{3,4}}", "{{1,2},{3,4}}"),
        ],
    },
    Table {
        data_type: "float4[]",
        settings: Settings { time_zone: "UTC", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("{1.1,2.2,NaN}", "{1.1,2.2,NaN}"),
        ],
    },
];
