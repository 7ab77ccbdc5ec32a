//! Test support for the type modules: tables of inputs and the outcome PostgreSQL gives for
//! them, and the checker that runs a table through [`parse_text`] and [`format_text`].
//!
//! An outcome is the output text, or `ERR <sqlstate> <message>` followed by ` | D: <detail>`
//! and ` | H: <hint>` when PostgreSQL attaches them. The `POSTGRES_CASES` tables in the
//! `*_tests.rs` files were captured from a real PostgreSQL by running each input through the
//! type's input function (`format('%s', '<input>'::<type>)`, errors caught in PL/pgSQL) under
//! the table's settings; where PostgreSQL 16 differs from the 15 used for capture (non-decimal
//! and underscored numbers) the table holds the 16 behaviour. Expected failures of `varchar(n)`
//! and `char(n)` are those of the input function (as in INSERT and COPY), not of an explicit
//! cast, which truncates.

use storage::types::DataType;

use super::{
    format_text, parse_text, DateOrder, DateOutputStyle, IntervalStyle, SessionFormat,
    SessionTimeZone,
};

/// Session settings as PostgreSQL spells them.
pub(crate) struct Settings {
    pub time_zone: &'static str,
    pub date_style: &'static str,
    pub interval_style: &'static str,
    pub extra_float_digits: i32,
}

/// Inputs of one type under one set of settings, with PostgreSQL's outcomes.
pub(crate) struct Table {
    pub data_type: &'static str,
    pub settings: Settings,
    pub cases: &'static [(&'static str, &'static str)],
}

/// Transaction start used by the tables: 2024-03-01 12:34:56.789 UTC.
pub(crate) const TEST_NOW: i64 = 762_611_696_789_000;

pub(crate) fn session(settings: &Settings) -> SessionFormat {
    let (output, order) = settings
        .date_style
        .split_once(',')
        .expect("DateStyle has two parts");
    let mut session = SessionFormat {
        time_zone: SessionTimeZone::parse(settings.time_zone).expect("known zone"),
        extra_float_digits: settings.extra_float_digits,
        transaction_start: Some(TEST_NOW),
        ..SessionFormat::default()
    };
    session.date_style.output = match output.trim() {
        "ISO" => DateOutputStyle::Iso,
        "SQL" => DateOutputStyle::Sql,
        "Postgres" => DateOutputStyle::Postgres,
        "German" => DateOutputStyle::German,
        other => panic!("DateStyle {other}"),
    };
    session.date_style.order = match order.trim() {
        "MDY" => DateOrder::Mdy,
        "DMY" => DateOrder::Dmy,
        "YMD" => DateOrder::Ymd,
        other => panic!("DateStyle order {other}"),
    };
    session.interval_style = match settings.interval_style {
        "postgres" => IntervalStyle::Postgres,
        "postgres_verbose" => IntervalStyle::PostgresVerbose,
        "sql_standard" => IntervalStyle::SqlStandard,
        "iso_8601" => IntervalStyle::Iso8601,
        other => panic!("IntervalStyle {other}"),
    };
    session
}

/// A type as PostgreSQL's short names write it: `int4`, `numeric(5,2)`, `varchar(3)[]`.
pub(crate) fn data_type(name: &str) -> DataType {
    if let Some(element) = name.strip_suffix("[]") {
        return DataType::Array(Box::new(data_type(element)));
    }
    let (base, args) = match name.split_once('(') {
        Some((base, args)) => (base, Some(args.trim_end_matches(')'))),
        None => (name, None),
    };
    let args: Vec<i64> = args
        .map(|a| {
            a.split(',')
                .map(|x| x.trim().parse().expect("modifier"))
                .collect()
        })
        .unwrap_or_default();
    let first = args.first().map(|v| *v as u32);
    match base {
        "bool" => DataType::Bool,
        "int2" => DataType::Int2,
        "int4" => DataType::Int4,
        "int8" => DataType::Int8,
        "float4" => DataType::Float4,
        "float8" => DataType::Float8,
        "numeric" => DataType::Numeric {
            precision: first,
            scale: args.get(1).map(|s| *s as i32),
        },
        "text" => DataType::Text,
        "varchar" => DataType::Varchar(first),
        "char" => DataType::Char(first),
        "bytea" => DataType::Bytea,
        "date" => DataType::Date,
        "time" => DataType::Time,
        "timestamp" => DataType::Timestamp,
        "timestamptz" => DataType::Timestamptz,
        "interval" => DataType::Interval,
        "uuid" => DataType::Uuid,
        "json" => DataType::Json,
        "jsonb" => DataType::Jsonb,
        "vector" => DataType::Vector(first),
        other => panic!("unknown type {other}"),
    }
}

/// The outcome of reading `text` as `data_type` and printing the value back.
pub(crate) fn outcome(data_type: &DataType, text: &str, session: &SessionFormat) -> String {
    match parse_text(data_type, text, session) {
        Ok(value) => format_text(&value, data_type, session),
        Err(e) => {
            let mut out = format!("ERR {} {}", e.sqlstate, e.message);
            if let Some(detail) = e.detail {
                out.push_str(&format!(" | D: {detail}"));
            }
            if let Some(hint) = e.hint {
                out.push_str(&format!(" | H: {hint}"));
            }
            out
        }
    }
}

/// Runs every case of every table and fails listing all mismatches.
pub(crate) fn check_tables(tables: &[Table]) {
    let mut failures = Vec::new();
    let mut count = 0;
    for table in tables {
        let session = session(&table.settings);
        let data_type = data_type(table.data_type);
        for (input, expected) in table.cases {
            count += 1;
            let got = outcome(&data_type, input, &session);
            if got != *expected {
                failures.push(format!(
                    "{} {input:?} [{} / {} / {}]\n  want {expected:?}\n  got  {got:?}",
                    table.data_type,
                    table.settings.time_zone,
                    table.settings.date_style,
                    table.settings.interval_style
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} cases differ from PostgreSQL:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
