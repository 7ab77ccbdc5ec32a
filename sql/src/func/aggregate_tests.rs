//! Aggregates against PostgreSQL's output, including merged (parallel) states.

use storage::types::Value;

use super::aggregate::{is_aggregate, resolve_aggregate};
use super::test_support::{literal, with_ctx};
use super::{cast_value_in, output_text, CastContext};
use crate::pgtype::{SqlType, NUMERIC};

use SqlType::{Bool, Float8, Int4, Int8, Interval, Text, Unknown};

/// Runs aggregate `name` over rows of literals of the given types; with `split`, the rows
/// are fed to two states (first and second half) that are then merged.
fn agg(name: &str, types: &[SqlType], rows: &[&[&str]], split: bool) -> String {
    with_ctx(|ctx| {
        let resolved = resolve_aggregate(name, types)
            .unwrap_or_else(|e| panic!("{name}: {}", e.message))
            .expect("an aggregate");
        let mut first = (resolved.create)();
        let mut second = (resolved.create)();
        for (i, row) in rows.iter().enumerate() {
            let values: Vec<Value> = row
                .iter()
                .zip(types.iter().zip(&resolved.arg_types))
                .map(|(text, (t, target))| {
                    let v = literal(ctx, text, t).unwrap();
                    cast_value_in(ctx, v, t, target, CastContext::Implicit).unwrap()
                })
                .collect();
            let state = if split && i >= rows.len() / 2 {
                &mut second
            } else {
                &mut first
            };
            state.update(ctx, &values).unwrap();
        }
        if split {
            first.merge(ctx, second).unwrap();
        }
        let v = first.finish(ctx).unwrap();
        if v.is_null() {
            "NULL".into()
        } else {
            output_text(ctx, &v, &resolved.return_type)
        }
    })
}

fn both(name: &str, types: &[SqlType], rows: &[&[&str]]) -> String {
    let plain = agg(name, types, rows, false);
    let merged = agg(name, types, rows, true);
    assert_eq!(plain, merged, "{name}: merged state differs");
    plain
}

#[test]
fn integer_statistics_match_postgres() {
    let rows: &[&[&str]] = &[&["1"], &["2"], &["4"]];
    assert_eq!(both("avg", &[Int4], rows), "2.3333333333333333");
    assert_eq!(both("sum", &[Int4], rows), "7");
    assert_eq!(both("stddev", &[Int4], rows), "1.5275252316519467");
    assert_eq!(both("variance", &[Int4], rows), "2.3333333333333333");
    assert_eq!(both("stddev_pop", &[Int4], rows), "1.2472191289246471");
    assert_eq!(both("var_pop", &[Int4], rows), "1.5555555555555556");
    assert_eq!(
        both("avg", &[Int4], &[&["1"], &["2"]]),
        "1.5000000000000000"
    );
    assert_eq!(both("stddev", &[Int4], &[&["1"]]), "NULL");
    assert_eq!(both("stddev_pop", &[Int4], &[&["5"]]), "0");
    assert_eq!(
        both("sum", &[Int8], &[&["9223372036854775807"], &["1"]]),
        "9223372036854775808"
    );
    assert_eq!(
        both("avg", &[Int8], &[&["9223372036854775807"], &["1"]]),
        "4611686018427387904"
    );
    assert_eq!(both("sum", &[Int4], &[]), "NULL");
    assert_eq!(both("count", &[Int4], &[&["1"], &["NULL"], &["3"]]), "2");
    assert_eq!(both("count", &[], &[&[], &[], &[]]), "3");
}

#[test]
fn numeric_and_float_statistics_match_postgres() {
    let rows: &[&[&str]] = &[&["1.5"], &["2.25"], &["4.125"]];
    assert_eq!(both("avg", &[NUMERIC], rows), "2.6250000000000000");
    assert_eq!(both("sum", &[NUMERIC], rows), "7.875");
    assert_eq!(both("stddev", &[NUMERIC], rows), "1.3520817282989960");
    assert_eq!(both("variance", &[NUMERIC], rows), "1.8281250000000000");
    assert_eq!(
        both("avg", &[NUMERIC], &[&["1.0"], &["2.00"]]),
        "1.5000000000000000"
    );
    assert_eq!(both("sum", &[NUMERIC], &[&["1.0"], &["2.00"]]), "3.00");
    assert_eq!(both("sum", &[NUMERIC], &[&["1"], &["NaN"]]), "NaN");
    assert_eq!(both("avg", &[Float8], rows), "2.625");
    assert_eq!(both("stddev", &[Float8], rows), "1.352081728298996");
    assert_eq!(both("variance", &[Float8], rows), "1.828125");
    assert_eq!(both("var_pop", &[Float8], rows), "1.21875");
}

#[test]
fn regression_aggregates_match_postgres() {
    let rows: &[&[&str]] = &[&["2", "1"], &["4", "2"], &["7", "3"]];
    let t = [Float8, Float8];
    assert_eq!(both("corr", &t, rows), "0.9933992677987828");
    assert_eq!(both("covar_pop", &t, rows), "1.6666666666666667");
    assert_eq!(both("covar_samp", &t, rows), "2.5");
    assert_eq!(both("regr_slope", &t, rows), "2.5");
    assert_eq!(both("regr_r2", &t, rows), "0.986842105263158");
    assert_eq!(both("regr_count", &t, rows), "3");
}

#[test]
fn general_aggregates_match_postgres() {
    let iv: &[&[&str]] = &[&["1 day"], &["2 hours"]];
    assert_eq!(both("avg", &[Interval], iv), "13:00:00");
    assert_eq!(both("sum", &[Interval], iv), "1 day 02:00:00");
    let words: &[&[&str]] = &[&["a", ","], &["NULL", ","], &["b", ";"], &["c", ","]];
    assert_eq!(both("string_agg", &[Text, Unknown], words), "a;b,c");
    let vals: &[&[&str]] = &[&["a"], &["NULL"], &["b"]];
    assert_eq!(both("array_agg", &[Text], vals), "{a,NULL,b}");
    assert_eq!(both("json_agg", &[Text], vals), r#"["a", null, "b"]"#);
    assert_eq!(both("jsonb_agg", &[Text], vals), r#"["a", null, "b"]"#);
    let pairs: &[&[&str]] = &[&["1", "2"], &["2", "4"], &["3", "6"]];
    assert_eq!(
        both("json_object_agg", &[Int4, Int4], pairs),
        r#"{ "1" : 2, "2" : 4, "3" : 6 }"#
    );
    assert_eq!(
        both("jsonb_object_agg", &[Int4, Int4], pairs),
        r#"{"1": 2, "2": 4, "3": 6}"#
    );
    let arrays: &[&[&str]] = &[&["{1,2}"], &["{3,4}"]];
    assert_eq!(
        both("array_agg", &[SqlType::Array(Box::new(Int4))], arrays),
        "{{1,2},{3,4}}"
    );
    let bits: &[&[&str]] = &[&["12"], &["10"]];
    assert_eq!(both("bit_and", &[Int4], bits), "8");
    assert_eq!(both("bit_or", &[Int4], bits), "14");
    assert_eq!(both("bit_xor", &[Int4], bits), "6");
    let bools: &[&[&str]] = &[&["true"], &["NULL"], &["false"]];
    assert_eq!(both("bool_and", &[Bool], bools), "f");
    assert_eq!(both("bool_or", &[Bool], bools), "t");
    let texts: &[&[&str]] = &[&["b"], &["a"], &["c"]];
    assert_eq!(both("min", &[Text], texts), "a");
    assert_eq!(both("max", &[SqlType::Varchar(None)], texts), "c");
    assert_eq!(both("max", &[NUMERIC], &[&["1.5"], &["10"]]), "10");
    let vectors: &[&[&str]] = &[&["[1,2]"], &["[3,4]"]];
    assert_eq!(both("avg", &[SqlType::Vector(None)], vectors), "[2,3]");
    assert_eq!(both("sum", &[SqlType::Vector(None)], vectors), "[4,6]");
}

#[test]
fn aggregate_resolution_errors_match_postgres() {
    assert!(is_aggregate("sum") && !is_aggregate("lower"));
    assert!(resolve_aggregate("lower", &[Text]).unwrap().is_none());
    let e = resolve_aggregate("max", &[Bool]).err().unwrap();
    assert_eq!(
        (e.code, e.message.as_str()),
        ("42883", "function max(boolean) does not exist")
    );
    let e = resolve_aggregate("sum", &[Text]).err().unwrap();
    assert_eq!(e.message, "function sum(text) does not exist");
    let r = resolve_aggregate("sum", &[SqlType::Int2]).unwrap().unwrap();
    assert_eq!(r.return_type, Int8);
    let r = resolve_aggregate("array_agg", &[Int4]).unwrap().unwrap();
    assert_eq!(r.return_type, SqlType::Array(Box::new(Int4)));
    let r = resolve_aggregate("avg", &[Int4]).unwrap().unwrap();
    assert_eq!(r.return_type, NUMERIC);
}
