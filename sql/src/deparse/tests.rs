//! Expressions printed as PostgreSQL 15 printed them (`pg_get_constraintdef(oid)` /
//! `(oid, true)`, `pg_get_expr(adbin, adrelid[, true])`) for the same definitions.

use storage::catalog::Catalog;

use super::*;
use crate::pgtype::NUMERIC;

fn columns() -> Vec<(String, SqlType)> {
    use SqlType::*;
    let numeric = |p: u32, s: i32| Numeric {
        precision: Some(p),
        scale: Some(s),
    };
    [
        ("amount", numeric(12, 2)),
        ("age", Int2),
        ("s", Int2),
        ("n", Int4),
        ("id", Int4),
        ("b", Int8),
        ("gender", Text),
        ("t", Text),
        ("status", Text),
        ("email", Varchar(Some(100))),
        ("v", Varchar(Some(20))),
        ("c", Char(Some(5))),
        ("nm", numeric(10, 2)),
        ("f", Float8),
        ("r", Float4),
        ("bo", Bool),
        ("d", Date),
        ("ts", Timestamptz),
        ("arr", Array(Box::new(Int4))),
        ("j", Jsonb),
        ("price", numeric(10, 2)),
        ("qty", Int4),
    ]
    .into_iter()
    .map(|(n, t)| (n.to_string(), t))
    .collect()
}

fn deparse(text: &str, target: Target, pretty: bool) -> String {
    let catalog = Catalog::default();
    let format = SessionFormat::default();
    let ctx = DeparseCtx {
        catalog: &catalog,
        format: &format,
    };
    let parsed = parse_list(text).expect("parses");
    let node = analyse(&ctx, &columns(), &parsed[0], target)
        .unwrap_or_else(|u| panic!("{text}: unsupported: {}", u.0));
    print(&node, pretty)
}

/// (expression, plain, pretty) as a CHECK constraint's expression.
const CHECKS: &[(&str, &str, &str)] = &[
    ("amount > 0", "(amount > (0)::numeric)", "amount > 0::numeric"),
    ("age BETWEEN 0 AND 120", "((age >= 0) AND (age <= 120))", "age >= 0 AND age <= 120"),
    (
        "gender IN ('Male', 'Female', 'Other')",
        "(gender = ANY (ARRAY['Male'::text, 'Female'::text, 'Other'::text]))",
        "gender = ANY (ARRAY['Male'::text, 'Female'::text, 'Other'::text])",
    ),
    ("email LIKE '%@%'", "((email)::text ~~ '%@%'::text)", "email::text ~~ '%@%'::text"),
    ("status NOT IN ('x')", "(status <> 'x'::text)", "status <> 'x'::text"),
    ("n NOT BETWEEN 5 AND 10", "((n < 5) OR (n > 10))", "n < 5 OR n > 10"),
    (
        "f > 0 AND f < 1.5",
        "((f > (0)::double precision) AND (f < (1.5)::double precision))",
        "f > 0::double precision AND f < 1.5::double precision",
    ),
    (
        "status IS NOT NULL OR n IS NULL",
        "((status IS NOT NULL) OR (n IS NULL))",
        "status IS NOT NULL OR n IS NULL",
    ),
    ("lower(gender) <> 'x'", "(lower(gender) <> 'x'::text)", "lower(gender) <> 'x'::text"),
    ("coalesce(n, 0) >= 0", "(COALESCE(n, 0) >= 0)", "COALESCE(n, 0) >= 0"),
    (
        "CASE WHEN n > 0 THEN true ELSE false END",
        "\nCASE\n    WHEN (n > 0) THEN true\n    ELSE false\nEND",
        "\nCASE\n    WHEN n > 0 THEN true\n    ELSE false\nEND",
    ),
    ("bo IS TRUE", "(bo IS TRUE)", "bo IS TRUE"),
    ("NOT bo", "(NOT bo)", "NOT bo"),
    (
        "email ILIKE '%a%' AND email NOT LIKE 'b%'",
        "(((email)::text ~~* '%a%'::text) AND ((email)::text !~~ 'b%'::text))",
        "email::text ~~* '%a%'::text AND email::text !~~ 'b%'::text",
    ),
    ("length(email) > 3", "(length((email)::text) > 3)", "length(email::text) > 3"),
    ("amount::int > 1", "((amount)::integer > 1)", "amount::integer > 1"),
    ("n + 1 > 2 * n - 3", "((n + 1) > ((2 * n) - 3))", "(n + 1) > (2 * n - 3)"),
    ("-n < 5", "((- n) < 5)", "(- n) < 5"),
    ("id IN (1, 2, n)", "((id = ANY (ARRAY[1, 2])) OR (id = n))", "(id = ANY (ARRAY[1, 2])) OR id = n"),
    (
        "v IN ('a', 'b')",
        "((v)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))",
        "v::text = ANY (ARRAY['a'::character varying, 'b'::character varying]::text[])",
    ),
    ("v = 'a'", "((v)::text = 'a'::text)", "v::text = 'a'::text"),
    ("c = 'x'", "(c = 'x'::bpchar)", "c = 'x'::bpchar"),
    (
        "c IN ('x', 'y')",
        "(c = ANY (ARRAY['x'::bpchar, 'y'::bpchar]))",
        "c = ANY (ARRAY['x'::bpchar, 'y'::bpchar])",
    ),
    ("nm > -1", "(nm > ('-1'::integer)::numeric)", "nm > '-1'::integer::numeric"),
    (
        "nm BETWEEN 1 AND 2.5",
        "((nm >= (1)::numeric) AND (nm <= 2.5))",
        "nm >= 1::numeric AND nm <= 2.5",
    ),
    (
        "CASE WHEN n > 0 THEN 1 ELSE 2.5 END > 0",
        "(\nCASE\n    WHEN (n > 0) THEN (1)::numeric\n    ELSE 2.5\nEND > (0)::numeric)",
        "\nCASE\n    WHEN n > 0 THEN 1::numeric\n    ELSE 2.5\nEND > 0::numeric",
    ),
    (
        "CASE n WHEN 1 THEN 'a' WHEN 2 THEN 'b' END <> 'c'",
        "(\nCASE n\n    WHEN 1 THEN 'a'::text\n    WHEN 2 THEN 'b'::text\n    ELSE NULL::text\nEND <> 'c'::text)",
        "\nCASE n\n    WHEN 1 THEN 'a'::text\n    WHEN 2 THEN 'b'::text\n    ELSE NULL::text\nEND <> 'c'::text",
    ),
    (
        "COALESCE(v, 'z') <> ''",
        "((COALESCE(v, 'z'::character varying))::text <> ''::text)",
        "COALESCE(v, 'z'::character varying)::text <> ''::text",
    ),
    ("NULLIF(n, 0) > 1", "(NULLIF(n, 0) > 1)", "NULLIF(n, 0) > 1"),
    (
        "GREATEST(n, s, 3) < 100",
        "(GREATEST(n, (s)::integer, 3) < 100)",
        "GREATEST(n, s::integer, 3) < 100",
    ),
    ("n IS DISTINCT FROM s", "(n IS DISTINCT FROM s)", "n IS DISTINCT FROM s"),
    ("n IS NOT DISTINCT FROM s", "(NOT (n IS DISTINCT FROM s))", "NOT n IS DISTINCT FROM s"),
    (
        "bo IS NOT FALSE AND bo IS UNKNOWN",
        "((bo IS NOT FALSE) AND (bo IS UNKNOWN))",
        "bo IS NOT FALSE AND bo IS UNKNOWN",
    ),
    ("arr[1] > 0", "(arr[1] > 0)", "arr[1] > 0"),
    ("array_length(arr, 1) > 0", "(array_length(arr, 1) > 0)", "array_length(arr, 1) > 0"),
    ("n = ANY (ARRAY[1, 2])", "(n = ANY (ARRAY[1, 2]))", "n = ANY (ARRAY[1, 2])"),
    ("t = ANY ('{a,b}')", "(t = ANY ('{a,b}'::text[]))", "t = ANY ('{a,b}'::text[])"),
    (
        "n <> ALL (ARRAY[s, 3])",
        "(n <> ALL (ARRAY[(s)::integer, 3]))",
        "n <> ALL (ARRAY[s::integer, 3])",
    ),
    ("d > '2020-01-01'", "(d > '2020-01-01'::date)", "d > '2020-01-01'::date"),
    (
        "ts > '2020-01-01 10:00'",
        "(ts > '2020-01-01 10:00:00+00'::timestamp with time zone)",
        "ts > '2020-01-01 10:00:00+00'::timestamp with time zone",
    ),
    (
        "ts > now() - interval '1 day'",
        "(ts > (now() - '1 day'::interval))",
        "ts > (now() - '1 day'::interval)",
    ),
    ("t ~ '^[a-z]+$'", "(t ~ '^[a-z]+$'::text)", "t ~ '^[a-z]+$'::text"),
    (
        "t SIMILAR TO 'a%'",
        "(t ~ similar_to_escape('a%'::text))",
        "t ~ similar_to_escape('a%'::text)",
    ),
    (
        "t LIKE 'a!%' ESCAPE '!'",
        "(t ~~ like_escape('a!%'::text, '!'::text))",
        "t ~~ like_escape('a!%'::text, '!'::text)",
    ),
    ("upper(t) = t", "(upper(t) = t)", "upper(t) = t"),
    ("j ? 'key'", "(j ? 'key'::text)", "j ? 'key'::text"),
    ("j ->> 'k' <> ''", "((j ->> 'k'::text) <> ''::text)", "(j ->> 'k'::text) <> ''::text"),
    ("(n + s) * 2 > b", "(((n + s) * 2) > b)", "((n + s) * 2) > b"),
    ("n % 2 = 0 OR n / 2 > 1", "(((n % 2) = 0) OR ((n / 2) > 1))", "(n % 2) = 0 OR (n / 2) > 1"),
    ("f::numeric > 0", "((f)::numeric > (0)::numeric)", "f::numeric > 0::numeric"),
    (
        "1.5::float8 > 0",
        "((1.5)::double precision > (0)::double precision)",
        "1.5::double precision > 0::double precision",
    ),
    ("1::numeric > 0", "((1)::numeric > (0)::numeric)", "1::numeric > 0::numeric"),
    ("'5'::int > 0", "(5 > 0)", "5 > 0"),
    ("n::bigint > 0", "((n)::bigint > 0)", "n::bigint > 0"),
    ("n::int > 0", "(n > 0)", "n > 0"),
    ("nm::numeric(5,1) > 0", "((nm)::numeric(5,1) > (0)::numeric)", "nm::numeric(5,1) > 0::numeric"),
    ("n::numeric(10,2) > 0", "((n)::numeric(10,2) > (0)::numeric)", "n::numeric(10,2) > 0::numeric"),
    (
        "v::varchar(5) <> ''",
        "(((v)::character varying(5))::text <> ''::text)",
        "v::character varying(5)::text <> ''::text",
    ),
    (
        "length(t) BETWEEN 1 AND 5 AND n > 0 AND s > 0",
        "(((length(t) >= 1) AND (length(t) <= 5)) AND (n > 0) AND (s > 0))",
        "length(t) >= 1 AND length(t) <= 5 AND n > 0 AND s > 0",
    ),
    ("n > 0 AND (s > 0 AND b > 0)", "((n > 0) AND ((s > 0) AND (b > 0)))", "n > 0 AND s > 0 AND b > 0"),
    ("NOT (n > 0 OR s > 0)", "(NOT ((n > 0) OR (s > 0)))", "NOT (n > 0 OR s > 0)"),
    ("t || 'x' <> 'y'", "((t || 'x'::text) <> 'y'::text)", "(t || 'x'::text) <> 'y'::text"),
    ("n + 1.5 > 0", "(((n)::numeric + 1.5) > (0)::numeric)", "(n::numeric + 1.5) > 0::numeric"),
    (
        "extract(year from d) > 2000",
        "(EXTRACT(year FROM d) > (2000)::numeric)",
        "EXTRACT(year FROM d) > 2000::numeric",
    ),
    (
        "substring(t from 1 for 2) <> 'ab'",
        "(SUBSTRING(t FROM 1 FOR 2) <> 'ab'::text)",
        "SUBSTRING(t FROM 1 FOR 2) <> 'ab'::text",
    ),
    (
        "substring(t, 1, 2) <> 'ab'",
        "(\"substring\"(t, 1, 2) <> 'ab'::text)",
        "\"substring\"(t, 1, 2) <> 'ab'::text",
    ),
    ("position('a' in t) > 0", "(POSITION(('a'::text) IN (t)) > 0)", "POSITION(('a'::text) IN (t)) > 0"),
    ("trim(t) <> ''", "(TRIM(BOTH FROM t) <> ''::text)", "TRIM(BOTH FROM t) <> ''::text"),
    (
        "ARRAY[1, 2.5] IS NOT NULL",
        "(ARRAY[(1)::numeric, 2.5] IS NOT NULL)",
        "ARRAY[1::numeric, 2.5] IS NOT NULL",
    ),
    (
        "ARRAY['a','b']::text[] IS NOT NULL",
        "(ARRAY['a'::text, 'b'::text] IS NOT NULL)",
        "ARRAY['a'::text, 'b'::text] IS NOT NULL",
    ),
    ("nm > -1.5", "(nm > '-1.5'::numeric)", "nm > '-1.5'::numeric"),
    ("b > 3000000000", "(b > '3000000000'::bigint)", "b > '3000000000'::bigint"),
    ("n > -2147483648", "(n > '-2147483648'::integer)", "n > '-2147483648'::integer"),
    ("t <> 'it''s'", "(t <> 'it''s'::text)", "t <> 'it''s'::text"),
    ("left(t, 1) <> 'x'", "(\"left\"(t, 1) <> 'x'::text)", "\"left\"(t, 1) <> 'x'::text"),
    (
        "v LIKE 'a%' AND c LIKE 'b%'",
        "(((v)::text ~~ 'a%'::text) AND (c ~~ 'b%'::text))",
        "v::text ~~ 'a%'::text AND c ~~ 'b%'::text",
    ),
    ("d + 1 > d", "((d + 1) > d)", "(d + 1) > d"),
    ("ts::date > d", "((ts)::date > d)", "ts::date > d"),
    ("d > ts", "(d > ts)", "d > ts"),
    ("n IN (1, 2, 3)", "(n = ANY (ARRAY[1, 2, 3]))", "n = ANY (ARRAY[1, 2, 3])"),
    ("n NOT IN (1, 2, 3)", "(n <> ALL (ARRAY[1, 2, 3]))", "n <> ALL (ARRAY[1, 2, 3])"),
    ("n IN (s, 2, 3)", "((n = ANY (ARRAY[2, 3])) OR (n = s))", "(n = ANY (ARRAY[2, 3])) OR n = s"),
    ("n IN (s, b)", "((n = s) OR (n = b))", "n = s OR n = b"),
    ("n IS DISTINCT FROM NULL", "(n IS NOT NULL)", "n IS NOT NULL"),
    ("NULL IS NOT DISTINCT FROM t", "(t IS NULL)", "t IS NULL"),
    (
        "(n, s) IS NOT NULL OR n > 0",
        "((ROW(n, s) IS NOT NULL) OR (n > 0))",
        "ROW(n, s) IS NOT NULL OR n > 0",
    ),
    ("(n, s) = (1, 2)", "((n = 1) AND (s = 2))", "n = 1 AND s = 2"),
    ("ROW(n, s) <> ROW(1, 2)", "((n <> 1) OR (s <> 2))", "n <> 1 OR s <> 2"),
    (
        "(n, s) IN ((1, 2), (3, 4))",
        "(((n = 1) AND (s = 2)) OR ((n = 3) AND (s = 4)))",
        "n = 1 AND s = 2 OR n = 3 AND s = 4",
    ),
];

#[test]
fn check_expressions_print_like_postgres() {
    let mut failures = Vec::new();
    for (text, plain, pretty) in CHECKS {
        for (want, is_pretty) in [(plain, false), (pretty, true)] {
            let got = deparse(text, Target::Boolean, is_pretty);
            if got != *want {
                failures.push(format!(
                    "{text} (pretty {is_pretty}):\n  want {want}\n  got  {got}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn defaults_print_like_postgres() {
    use SqlType::*;
    let varchar30 = Varchar(Some(30));
    let cases: &[(&str, SqlType, &str, &str)] = &[
        ("'open'", Text, "'open'::text", "'open'::text"),
        ("now()", Timestamptz, "now()", "now()"),
        (
            "CURRENT_TIMESTAMP",
            Timestamp,
            "CURRENT_TIMESTAMP",
            "CURRENT_TIMESTAMP",
        ),
        ("current_date", Date, "CURRENT_DATE", "CURRENT_DATE"),
        (
            "CURRENT_TIMESTAMP(3)",
            Timestamptz,
            "CURRENT_TIMESTAMP(3)",
            "CURRENT_TIMESTAMP(3)",
        ),
        ("LOCALTIME", Time, "LOCALTIME", "LOCALTIME"),
        ("CURRENT_USER", Text, "CURRENT_USER", "CURRENT_USER"),
        ("session_user", Name, "SESSION_USER", "SESSION_USER"),
        ("-1", Int4, "'-1'::integer", "'-1'::integer"),
        ("0", Float8, "0", "0"),
        ("0.5", Float4, "0.5", "0.5"),
        ("true", Bool, "true", "true"),
        ("'yes'", Bool, "true", "true"),
        ("'{}'", Jsonb, "'{}'::jsonb", "'{}'::jsonb"),
        (
            "'{}'",
            Array(Box::new(Text)),
            "'{}'::text[]",
            "'{}'::text[]",
        ),
        (
            "'{1,2}'",
            Array(Box::new(Int4)),
            "'{1,2}'::integer[]",
            "'{1,2}'::integer[]",
        ),
        (
            "'abc'",
            Varchar(Some(10)),
            "'abc'::character varying",
            "'abc'::character varying",
        ),
        (
            "'abc'::character varying",
            Varchar(Some(10)),
            "'abc'::character varying",
            "'abc'::character varying",
        ),
        ("'x'", Char(Some(3)), "'x'::bpchar", "'x'::bpchar"),
        ("'x'::bpchar", Char(Some(3)), "'x'::bpchar", "'x'::bpchar"),
        (
            "3000000000",
            Int8,
            "'3000000000'::bigint",
            "'3000000000'::bigint",
        ),
        ("1.50", NUMERIC, "1.50", "1.50"),
        ("-1.5", NUMERIC, "'-1.5'::numeric", "'-1.5'::numeric"),
        ("-0.5", Float8, "'-0.5'::numeric", "'-0.5'::numeric"),
        ("1e3", NUMERIC, "'1000'::numeric", "'1000'::numeric"),
        (
            "9.99",
            Numeric {
                precision: Some(10),
                scale: Some(2),
            },
            "9.99",
            "9.99",
        ),
        ("1", Int4, "1", "1"),
        (
            "'x' || 'y'",
            varchar30.clone(),
            "('x'::text || 'y'::text)",
            "(('x'::text || 'y'::text))",
        ),
        (
            "price * qty",
            NUMERIC,
            "(price * (qty)::numeric)",
            "price * qty::numeric",
        ),
        ("n + qty", Int4, "(n + qty)", "n + qty"),
        ("n + qty", Int8, "(n + qty)", "(n + qty)"),
        (
            "'2020-01-01'",
            Date,
            "'2020-01-01'::date",
            "'2020-01-01'::date",
        ),
        (
            "'1 hour'",
            Interval,
            "'01:00:00'::interval",
            "'01:00:00'::interval",
        ),
        (
            "ARRAY[]::text[]",
            Array(Box::new(Text)),
            "ARRAY[]::text[]",
            "ARRAY[]::text[]",
        ),
        (
            "'{\"a\": 1}'",
            Json,
            "'{\"a\": 1}'::json",
            "'{\"a\": 1}'::json",
        ),
        (
            "lower('ABC')",
            Text,
            "lower('ABC'::text)",
            "lower('ABC'::text)",
        ),
        (
            "(CASE WHEN true THEN 'a' ELSE 'b' END)",
            Text,
            "\nCASE\n    WHEN true THEN 'a'::text\n    ELSE 'b'::text\nEND",
            "\nCASE\n    WHEN true THEN 'a'::text\n    ELSE 'b'::text\nEND",
        ),
        (
            "now() + interval '1 day'",
            Timestamptz,
            "(now() + '1 day'::interval)",
            "now() + '1 day'::interval",
        ),
    ];
    let mut failures = Vec::new();
    for (text, ty, plain, pretty) in cases {
        for (want, is_pretty) in [(plain, false), (pretty, true)] {
            let got = deparse(text, Target::Column(ty), is_pretty);
            if got != *want {
                failures.push(format!(
                    "{text} (pretty {is_pretty}):\n  want {want}\n  got  {got}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn unsupported_constructs_are_reported_not_guessed() {
    let catalog = Catalog::default();
    let format = SessionFormat::default();
    let ctx = DeparseCtx {
        catalog: &catalog,
        format: &format,
    };
    for text in [
        "n IN (SELECT 1)",
        "(n, s) < (1, 2)",
        "no_such_column > 0",
        "$1 > 0",
        "t COLLATE \"C\" > 'a'",
    ] {
        let parsed = parse_list(text).expect("parses");
        assert!(
            analyse(&ctx, &columns(), &parsed[0], Target::Boolean).is_err(),
            "{text} should be unsupported"
        );
    }
}
