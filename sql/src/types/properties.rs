//! Properties of the text forms, checked with proptest:
//!
//! - every value printed by [`format_text`] reads back by [`parse_text`] as the same value (in
//!   every zone for ISO output, in every `DateStyle` whose field order reads its own output,
//!   in every `IntervalStyle`);
//! - no input string makes [`parse_text`] panic, for any type, and whatever it accepts prints.

use proptest::prelude::*;
use storage::types::{Array, ArrayDim, DataType, Interval, Numeric, Value};

use super::calendar::{END_TIMESTAMP, MIN_TIMESTAMP, POSTGRES_EPOCH_JDATE};
use super::{
    format_text, parse_text, DateOrder, DateOutputStyle, DateStyle, IntervalStyle, SessionFormat,
    SessionTimeZone,
};

const ZONES: &[&str] = &[
    "UTC",
    "America/New_York",
    "Europe/London",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "America/St_Johns",
    "Pacific/Chatham",
    "Asia/Kathmandu",
    "-7",
    "UTC+3",
];

fn session_in(zone: &str) -> SessionFormat {
    SessionFormat {
        time_zone: SessionTimeZone::parse(zone).expect("known zone"),
        transaction_start: Some(0),
        ..SessionFormat::default()
    }
}

/// Formats, parses back, and returns the value read.
fn round_trip(
    value: &Value,
    data_type: &DataType,
    session: &SessionFormat,
) -> Result<Value, String> {
    let text = format_text(value, data_type, session);
    parse_text(data_type, &text, session).map_err(|e| format!("{text:?}: {e}"))
}

fn assert_round_trip(
    value: Value,
    data_type: DataType,
    session: &SessionFormat,
) -> Result<(), TestCaseError> {
    let back = round_trip(&value, &data_type, session).map_err(TestCaseError::fail)?;
    prop_assert_eq!(&back, &value);
    // Equal values also print alike (this catches lost numeric scale, -0, padding).
    prop_assert_eq!(
        format_text(&back, &data_type, session),
        format_text(&value, &data_type, session)
    );
    Ok(())
}

fn any_finite_timestamp() -> impl Strategy<Value = i64> {
    prop_oneof![
        MIN_TIMESTAMP..END_TIMESTAMP,
        // Around the present, where zone rules change most.
        -3_000_000_000_000_000i64..3_000_000_000_000_000i64,
        Just(MIN_TIMESTAMP),
        Just(END_TIMESTAMP - 1),
    ]
}

fn date_styles() -> impl Strategy<Value = DateStyle> {
    use DateOrder::*;
    use DateOutputStyle::*;
    prop_oneof![
        Just((Iso, Mdy)),
        Just((Iso, Dmy)),
        Just((Iso, Ymd)),
        Just((Sql, Mdy)),
        Just((Sql, Dmy)),
        Just((Postgres, Mdy)),
        Just((Postgres, Dmy)),
        Just((German, Dmy)),
    ]
    .prop_map(|(output, order)| DateStyle { output, order })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn integers_bools_and_uuids_round_trip(a in any::<i16>(), b in any::<i32>(), c in any::<i64>(), flag in any::<bool>(), id in any::<[u8; 16]>()) {
        let s = SessionFormat::default();
        assert_round_trip(Value::Int2(a), DataType::Int2, &s)?;
        assert_round_trip(Value::Int4(b), DataType::Int4, &s)?;
        assert_round_trip(Value::Int8(c), DataType::Int8, &s)?;
        assert_round_trip(Value::Bool(flag), DataType::Bool, &s)?;
        assert_round_trip(Value::Uuid(id), DataType::Uuid, &s)?;
    }

    #[test]
    fn floats_round_trip_bit_for_bit(bits8 in any::<u64>(), bits4 in any::<u32>(), efd in 1..=3i32) {
        let s = SessionFormat { extra_float_digits: efd, ..SessionFormat::default() };
        let x = f64::from_bits(bits8);
        let y = f32::from_bits(bits4);
        match round_trip(&Value::Float8(x), &DataType::Float8, &s).map_err(TestCaseError::fail)? {
            Value::Float8(back) => prop_assert!(back.to_bits() == x.to_bits() || (x.is_nan() && back.is_nan()), "{x:e} -> {back:e}"),
            other => prop_assert!(false, "{other:?}"),
        }
        match round_trip(&Value::Float4(y), &DataType::Float4, &s).map_err(TestCaseError::fail)? {
            Value::Float4(back) => prop_assert!(back.to_bits() == y.to_bits() || (y.is_nan() && back.is_nan()), "{y:e} -> {back:e}"),
            other => prop_assert!(false, "{other:?}"),
        }
    }

    #[test]
    fn numerics_round_trip_with_their_scale(digits in "[0-9]{1,60}", scale in -20i64..40, negative in any::<bool>()) {
        let mantissa: bigdecimal::num_bigint::BigInt = digits.parse().unwrap();
        let mantissa = if negative { -mantissa } else { mantissa };
        let value = Numeric::from_mantissa_and_scale(mantissa, scale.max(0));
        assert_round_trip(Value::Numeric(Box::new(value)), DataType::Numeric { precision: None, scale: None }, &SessionFormat::default())?;
    }

    #[test]
    fn numeric_typmod_output_is_stable(text in "-?[0-9]{1,8}(\\.[0-9]{0,8})?", precision in 1u32..20, scale in -3i32..8) {
        let data_type = DataType::Numeric { precision: Some(precision), scale: Some(scale) };
        let s = SessionFormat::default();
        if let Ok(value) = parse_text(&data_type, &text, &s) {
            assert_round_trip(value, data_type, &s)?;
        }
    }

    #[test]
    fn character_types_round_trip(text in "[^\u{0}]{0,40}", limit in 1u32..50) {
        let s = SessionFormat::default();
        assert_round_trip(Value::Text(text.clone()), DataType::Text, &s)?;
        for data_type in [DataType::Varchar(Some(limit)), DataType::Char(Some(limit))] {
            if let Ok(value) = parse_text(&data_type, &text, &s) {
                assert_round_trip(value, data_type, &s)?;
            }
        }
    }

    #[test]
    fn bytea_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        assert_round_trip(Value::Bytea(bytes), DataType::Bytea, &SessionFormat::default())?;
    }

    #[test]
    fn dates_round_trip_in_every_style(days in prop_oneof![-POSTGRES_EPOCH_JDATE..2_147_483_494 - POSTGRES_EPOCH_JDATE, -1_000_000i32..1_000_000, Just(i32::MIN), Just(i32::MAX)], style in date_styles()) {
        let s = SessionFormat { date_style: style, ..SessionFormat::default() };
        assert_round_trip(Value::Date(days), DataType::Date, &s)?;
    }

    #[test]
    fn times_round_trip(micros in 0i64..=86_400_000_000) {
        assert_round_trip(Value::Time(micros), DataType::Time, &SessionFormat::default())?;
    }

    #[test]
    fn timestamps_round_trip_in_every_style(t in any_finite_timestamp(), style in date_styles()) {
        let s = SessionFormat { date_style: style, ..SessionFormat::default() };
        assert_round_trip(Value::Timestamp(t), DataType::Timestamp, &s)?;
        assert_round_trip(Value::Timestamptz(t), DataType::Timestamptz, &s)?;
    }

    #[test]
    fn timestamptz_round_trips_in_every_zone(t in any_finite_timestamp(), zone in proptest::sample::select(ZONES)) {
        assert_round_trip(Value::Timestamptz(t), DataType::Timestamptz, &session_in(zone))?;
        assert_round_trip(Value::Timestamp(t), DataType::Timestamp, &session_in(zone))?;
    }

    #[test]
    fn intervals_round_trip_in_every_style(
        months in (i32::MIN + 1)..=i32::MAX,
        days in (i32::MIN + 1)..=i32::MAX,
        micros in prop_oneof![(i64::MIN + 1)..=i64::MAX, -100_000_000_000i64..100_000_000_000],
        style in proptest::sample::select(&[IntervalStyle::Postgres, IntervalStyle::PostgresVerbose, IntervalStyle::SqlStandard, IntervalStyle::Iso8601][..]),
    ) {
        let s = SessionFormat { interval_style: style, ..SessionFormat::default() };
        let value = Interval { months, days, micros };
        match round_trip(&Value::Interval(value), &DataType::Interval, &s).map_err(TestCaseError::fail)? {
            Value::Interval(back) => prop_assert_eq!(back, value),
            other => prop_assert!(false, "{other:?}"),
        }
    }

    #[test]
    fn vectors_round_trip(values in proptest::collection::vec(any::<f32>().prop_filter("finite", |v| v.is_finite()), 1..40)) {
        let data_type = DataType::Vector(Some(values.len() as u32));
        let s = SessionFormat::default();
        match round_trip(&Value::Vector(values.clone()), &data_type, &s).map_err(TestCaseError::fail)? {
            Value::Vector(back) => prop_assert_eq!(back.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), values.iter().map(|v| v.to_bits()).collect::<Vec<_>>()),
            other => prop_assert!(false, "{other:?}"),
        }
    }

    #[test]
    fn arrays_round_trip(
        lens in proptest::collection::vec(1u32..4, 1..4),
        lowers in proptest::collection::vec(-3i32..4, 3),
        seed in proptest::collection::vec(proptest::option::of("[^\u{0}]{0,6}"), 64),
        as_text in any::<bool>(),
    ) {
        let dims: Vec<ArrayDim> = lens.iter().zip(&lowers).map(|(len, lower)| ArrayDim { len: *len, lower: *lower }).collect();
        let count: usize = lens.iter().map(|l| *l as usize).product();
        let (element_type, elements): (DataType, Vec<Value>) = if as_text {
            (DataType::Text, seed.iter().take(count).map(|e| e.clone().map_or(Value::Null, Value::Text)).collect())
        } else {
            (DataType::Int4, seed.iter().take(count).map(|e| e.as_ref().map_or(Value::Null, |t| Value::Int4(t.len() as i32 * 1000 - 2500))).collect())
        };
        let array = Array { dims, elements };
        assert_round_trip(Value::Array(Box::new(array)), DataType::Array(Box::new(element_type)), &SessionFormat::default())?;
    }

    #[test]
    fn jsonb_normal_form_is_a_fixed_point(json in json_text()) {
        let s = SessionFormat::default();
        let once = parse_text(&DataType::Jsonb, &json, &s).map_err(|e| TestCaseError::fail(format!("{json}: {e}")))?;
        assert_round_trip(once.clone(), DataType::Jsonb, &s)?;
        assert_round_trip(parse_text(&DataType::Json, &json, &s).map_err(|e| TestCaseError::fail(e.to_string()))?, DataType::Json, &s)?;
    }
}

/// Random JSON texts with random whitespace, duplicate keys and escapes.
fn json_text() -> impl Strategy<Value = String> {
    let ws = proptest::sample::select(&["", " ", "\n", "\t ", "  "][..]);
    let string = "([a-c é\"\\\\/]|\\\\n|\\\\u00e9|\\\\ud83d\\\\ude00){0,5}".prop_map(|s| {
        // Escape bare quotes and backslashes that the regex produced alone.
        let mut out = String::from("\"");
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' if matches!(chars.peek(), Some('n' | 'u')) => out.push('\\'),
                '\\' => out.push_str("\\\\"),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    });
    let leaf = prop_oneof![
        Just("null".to_string()),
        Just("true".to_string()),
        Just("false".to_string()),
        "-?(0|[1-9][0-9]{0,20})(\\.[0-9]{1,10})?([eE][+-]?[0-9]{1,2})?",
        string.clone(),
    ];
    leaf.prop_recursive(4, 40, 6, move |inner| {
        prop_oneof![
            (proptest::collection::vec(inner.clone(), 0..5), ws.clone())
                .prop_map(|(items, w)| format!("[{w}{}{w}]", items.join(&format!("{w},{w}")))),
            (
                proptest::collection::vec((string.clone(), inner), 0..5),
                ws.clone()
            )
                .prop_map(|(members, w)| format!(
                    "{{{w}{}{w}}}",
                    members
                        .iter()
                        .map(|(k, v)| format!("{k}{w}:{w}{v}"))
                        .collect::<Vec<_>>()
                        .join(",")
                )),
        ]
    })
}

/// Every type, modifiers included, that `parse_text` must survive arbitrary text for.
fn all_types() -> Vec<DataType> {
    let scalars = vec![
        DataType::Bool,
        DataType::Int2,
        DataType::Int4,
        DataType::Int8,
        DataType::Float4,
        DataType::Float8,
        DataType::Numeric {
            precision: None,
            scale: None,
        },
        DataType::Numeric {
            precision: Some(6),
            scale: Some(2),
        },
        DataType::Text,
        DataType::Varchar(Some(3)),
        DataType::Char(Some(3)),
        DataType::Bytea,
        DataType::Date,
        DataType::Time,
        DataType::Timestamp,
        DataType::Timestamptz,
        DataType::Interval,
        DataType::Uuid,
        DataType::Json,
        DataType::Jsonb,
        DataType::Vector(None),
        DataType::Vector(Some(3)),
    ];
    let arrays: Vec<DataType> = scalars
        .iter()
        .map(|t| DataType::Array(Box::new(t.clone())))
        .collect();
    scalars.into_iter().chain(arrays).collect()
}

/// Strings made of the characters the parsers care about, so that random input reaches deep
/// into them rather than failing on the first character.
fn structured_text() -> impl Strategy<Value = String> {
    "([0-9]{1,12}|[-+:./, _TZ@{}\\[\\]\"\\\\=eExXpP]|[a-z]{1,8}|\\s|NULL|NaN|inf|ago|BC|J|P|e[0-9]|\u{e9}|\u{1F600}){0,24}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_input_panics_and_accepted_values_print(text in prop_oneof![any::<String>(), structured_text()], zone in proptest::sample::select(ZONES), style in date_styles()) {
        let mut s = session_in(zone);
        s.date_style = style;
        for data_type in all_types() {
            if let Ok(value) = parse_text(&data_type, &text, &s) {
                let printed = format_text(&value, &data_type, &s);
                // Text types print what they stored; everything else prints something.
                prop_assert!(!printed.is_empty() || matches!(data_type, DataType::Text | DataType::Varchar(_) | DataType::Bytea) || matches!(value, Value::Text(_)));
            }
        }
    }
}
