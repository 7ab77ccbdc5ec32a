//! Tests of `date`, `time`, `timestamp` and `timestamptz` text forms: PostgreSQL-captured
//! tables across zones and `DateStyle`s, then the cases a capture cannot pin down (the
//! transaction-relative words, range limits).

use super::*;
use crate::types::test_support::{
    check_tables, data_type, outcome, session, Settings, Table, TEST_NOW,
};

#[test]
fn date_and_time_input_and_output_match_postgres() {
    check_tables(POSTGRES_CASES);
}

fn utc() -> SessionFormat {
    session(&Settings {
        time_zone: "UTC",
        date_style: "ISO, MDY",
        interval_style: "postgres",
        extra_float_digits: 1,
    })
}

fn in_zone(zone: &'static str) -> SessionFormat {
    session(&Settings {
        time_zone: zone,
        date_style: "ISO, MDY",
        interval_style: "postgres",
        extra_float_digits: 1,
    })
}

#[test]
fn relative_words_use_the_transaction_start_in_the_session_zone() {
    // TEST_NOW is 2024-03-01 12:34:56.789 UTC, which is 07:34:56.789 in New York and already
    // 2024-03-02 01:34:56.789 in Auckland.
    let cases: &[(&str, &str, &str, &str)] = &[
        ("UTC", "timestamptz", "now", "2024-03-01 12:34:56.789+00"),
        ("UTC", "timestamp", "now", "2024-03-01 12:34:56.789"),
        ("UTC", "date", "now", "2024-03-01"),
        ("UTC", "time", "now", "12:34:56.789"),
        ("UTC", "date", "today", "2024-03-01"),
        ("UTC", "date", "tomorrow", "2024-03-02"),
        ("UTC", "date", "yesterday", "2024-02-29"),
        ("UTC", "timestamp", "today", "2024-03-01 00:00:00"),
        ("UTC", "timestamp", "tomorrow 10:00", "2024-03-02 10:00:00"),
        ("UTC", "timestamptz", "yesterday", "2024-02-29 00:00:00+00"),
        (
            "America/New_York",
            "timestamptz",
            "now",
            "2024-03-01 07:34:56.789-05",
        ),
        (
            "America/New_York",
            "timestamp",
            "now",
            "2024-03-01 07:34:56.789",
        ),
        (
            "America/New_York",
            "timestamptz",
            "today",
            "2024-03-01 00:00:00-05",
        ),
        ("Pacific/Auckland", "date", "today", "2024-03-02"),
        (
            "Pacific/Auckland",
            "timestamptz",
            "today",
            "2024-03-02 00:00:00+13",
        ),
        ("Pacific/Auckland", "time", "now", "01:34:56.789"),
        ("UTC", "time", "allballs", "00:00:00"),
        (
            "UTC",
            "timestamptz",
            "now UTC",
            "ERR 22007 invalid input syntax for type timestamp with time zone: \"now UTC\"",
        ),
    ];
    for (zone, ty, input, want) in cases {
        assert_eq!(
            outcome(&data_type(ty), input, &in_zone(zone)),
            *want,
            "{ty} {input:?} in {zone}"
        );
    }
}

#[test]
fn transaction_start_is_the_test_instant() {
    let value = parse_timestamptz("2024-03-01 12:34:56.789+00", &utc()).unwrap();
    assert_eq!(value, TEST_NOW);
}

#[test]
fn storage_encodings_and_limits() {
    let s = utc();
    assert_eq!(parse_date("2000-01-01", &s), Ok(0));
    assert_eq!(parse_date("1970-01-01", &s), Ok(-10957));
    assert_eq!(parse_date("infinity", &s), Ok(i32::MAX));
    assert_eq!(parse_date("-infinity", &s), Ok(i32::MIN));
    assert_eq!(parse_timestamp("2000-01-01 00:00:00.000001", &s), Ok(1));
    assert_eq!(parse_timestamp("infinity", &s), Ok(i64::MAX));
    assert_eq!(parse_timestamp("-infinity", &s), Ok(i64::MIN));
    assert_eq!(parse_time("24:00:00", &s), Ok(86_400_000_000));
    assert_eq!(format_date(i32::MAX, &s), "infinity");
    assert_eq!(format_timestamp(i64::MIN, &s), "-infinity");
    assert_eq!(format_time(0), "00:00:00");
    assert_eq!(format_timestamp(MIN_TS, &s), "4714-11-24 00:00:00 BC");
    assert_eq!(
        format_timestamp(END_TS - 1, &s),
        "294276-12-31 23:59:59.999999"
    );
    assert_eq!(format_date(2_147_483_493 - 2_451_545, &s), "5874897-12-31");
}

const MIN_TS: i64 = super::super::calendar::MIN_TIMESTAMP;
const END_TS: i64 = super::super::calendar::END_TIMESTAMP;

#[test]
fn extreme_instants_print_in_every_zone_without_panicking() {
    for zone in [
        "UTC",
        "America/New_York",
        "Pacific/Kiritimati",
        "Etc/GMT+12",
        "-7",
    ] {
        let s = in_zone(zone);
        for t in [MIN_TS, MIN_TS + 1, -1, 0, 1, END_TS - 1] {
            let text = format_timestamptz(t, &s);
            assert!(!text.is_empty(), "{zone} {t}");
        }
    }
    // The first instant, shown west of Greenwich, falls before Julian day 0 locally;
    // PostgreSQL refuses to print it, we fall back to UTC.
    assert_eq!(
        format_timestamptz(MIN_TS, &in_zone("Etc/GMT+12")),
        "4714-11-24 00:00:00+00 BC"
    );
}

// Captured from PostgreSQL (see the module doc); regenerate rather than hand-edit.

pub(super) const POSTGRES_CASES: &[Table] = &[
    Table {
        data_type: "date",
        settings: Settings { time_zone: "UTC", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("2024-03-01", "2024-03-01"),
            ("2024-3-1", "2024-03-01"),
            ("20240301", "2024-03-01"),
            ("240301", "2024-03-01"),
            ("03/01/2024", "2024-03-01"),
            ("3/1/24", "2024-03-01"),
            ("1/2/3", "2003-01-02"),
            ("2024/03/01", "2024-03-01"),
            ("01.03.2024", "2024-01-03"),
            ("2024.03.01", "2024-03-01"),
            ("March 1, 2024", "2024-03-01"),
            ("Mar 1 2024", "2024-03-01"),
            ("1 Mar 2024", "2024-03-01"),
            ("1-Mar-2024", "2024-03-01"),
            ("Mar-1-2024", "2024-03-01"),
            ("2024-Mar-01", "2024-03-01"),
            ("Friday March 1 2024", "2024-03-01"),
            ("1997.038", "1997-02-07"),
            ("2024-02-29", "2024-02-29"),
            ("2023-02-29", "ERR 22008 date/time field value out of range: \"2023-02-29\""),
            ("2024-13-01", "ERR 22008 date/time field value out of range: \"2024-13-01\" | H: Perhaps you need a different \"datestyle\" setting."),
            ("2024-00-10", "ERR 22008 date/time field value out of range: \"2024-00-10\" | H: Perhaps you need a different \"datestyle\" setting."),
            ("2024-01-32", "ERR 22008 date/time field value out of range: \"2024-01-32\" | H: Perhaps you need a different \"datestyle\" setting."),
            ("0001-01-01", "0001-01-01"),
            ("0000-01-01", "ERR 22008 date/time field value out of range: \"0000-01-01\""),
            ("1 BC", "ERR 22007 invalid input syntax for type date: \"1 BC\""),
            ("0001-01-01 BC", "0001-01-01 BC"),
            ("4714-11-24 BC", "4714-11-24 BC"),
            ("4714-11-23 BC", "ERR 22008 date out of range: \"4714-11-23 BC\""),
            ("5874897-12-31", "5874897-12-31"),
            ("5874898-01-01", "ERR 22008 date out of range: \"5874898-01-01\""),
            ("epoch", "1970-01-01"),
            ("infinity", "infinity"),
            ("-infinity", "-infinity"),
            ("+infinity", "infinity"),
            ("  2024-03-01  ", "2024-03-01"),
            ("2024-03-01 12:34:56", "2024-03-01"),
            ("2024-03-01T12:34:56Z", "2024-03-01"),
            ("J2451545", "2000-01-01"),
            ("J2451545.5", "2000-01-01"),
            ("abc", "ERR 22007 invalid input syntax for type date: \"abc\""),
            ("", "ERR 22007 invalid input syntax for type date: \"\""),
            ("2024", "ERR 22007 invalid input syntax for type date: \"2024\""),
            ("2024-03", "ERR 22007 invalid input syntax for type date: \"2024-03\""),
            ("99-01-01", "ERR 22008 date/time field value out of range: \"99-01-01\" | H: Perhaps you need a different \"datestyle\" setting."),
            ("69-01-01", "ERR 22008 date/time field value out of range: \"69-01-01\" | H: Perhaps you need a different \"datestyle\" setting."),
            ("70-01-01", "ERR 22008 date/time field value out of range: \"70-01-01\" | H: Perhaps you need a different \"datestyle\" setting."),
            ("1-1-1", "2001-01-01"),
            ("01/02/03", "2003-01-02"),
            ("13/01/2024", "ERR 22008 date/time field value out of range: \"13/01/2024\" | H: Perhaps you need a different \"datestyle\" setting."),
            ("2024-03-01 BC", "2024-03-01 BC"),
            ("2024-03-01 AD", "2024-03-01"),
            ("12345-01-01", "12345-01-01"),
            ("Jan 1, 10000", "10000-01-01"),
            ("2024-03-01 America/New_York", "2024-03-01"),
            ("2024-03-01 12:00 PST", "2024-03-01"),
            ("2024-03-01 allballs", "2024-03-01"),
            ("yesterday2", "ERR 22007 invalid input syntax for type date: \"yesterday2\""),
            ("03-01-2024", "2024-03-01"),
            ("1999-1-08", "1999-01-08"),
            ("1999 Jan 08", "1999-01-08"),
            ("Jan-08-1999", "1999-01-08"),
            ("08-Jan-1999", "1999-01-08"),
            ("99-Jan-08", "ERR 22008 date/time field value out of range: \"99-Jan-08\" | H: Perhaps you need a different \"datestyle\" setting."),
            ("1999-Jan-08", "1999-01-08"),
            ("08-Jan-99", "1999-01-08"),
            ("Jan-08-99", "1999-01-08"),
            ("19990108", "1999-01-08"),
            ("990108", "1999-01-08"),
            ("1999.008", "1999-01-08"),
            ("January 8, 99 BC", "0099-01-08 BC"),
            ("2024-03-01 25:00", "ERR 22008 date/time field value out of range: \"2024-03-01 25:00\""),
            ("2024-03-01 24:00:00", "2024-03-01"),
            ("2024-03-01 24:00:01", "ERR 22008 date/time field value out of range: \"2024-03-01 24:00:01\""),
            ("2024-01-01 23:59:60", "2024-01-01"),
            ("Sat Mar 2 2024", "2024-03-02"),
            ("2024-03-01 Friday", "2024-03-01"),
            ("10000-01-01", "10000-01-01"),
            ("2024-03-01 12:00 +5", "2024-03-01"),
            ("Fri, 01 Mar 2024 12:00:00 GMT", "2024-03-01"),
            ("2024-W09", "ERR 22007 invalid input syntax for type date: \"2024-W09\""),
            ("2024-060", "2024-02-29"),
            ("1 1 1", "2001-01-01"),
            ("2024 03 01", "2024-03-01"),
            ("03 01 2024", "2024-03-01"),
            ("1 Jan", "ERR 22007 invalid input syntax for type date: \"1 Jan\""),
            ("Jan 1", "ERR 22007 invalid input syntax for type date: \"Jan 1\""),
            ("2024 Jan", "ERR 22007 invalid input syntax for type date: \"2024 Jan\""),
            ("jan 1 2024 bc", "2024-01-01 BC"),
            ("99999-12-31", "99999-12-31"),
            ("200000-06-15", "200000-06-15"),
            ("at-08-02-2019", "ERR 22007 invalid input syntax for type date: \"at-08-02-2019\""),
            ("x-08-02-2019", "ERR 22007 invalid input syntax for type date: \"x-08-02-2019\""),
            ("jan-08-2019", "2019-01-08"),
            ("on 2024-03-01", "2024-03-01"),
            ("2024-03-01 on", "2024-03-01"),
        ],
    },
    Table {
        data_type: "date",
        settings: Settings { time_zone: "UTC", date_style: "ISO, DMY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("01/02/03", "2003-02-01"),
            ("13/01/2024", "2024-01-13"),
            ("1/2/2024", "2024-02-01"),
            ("08-Jan-99", "1999-01-08"),
            ("99-Jan-08", "ERR 22008 date/time field value out of range: \"99-Jan-08\" | H: Perhaps you need a different \"datestyle\" setting."),
            ("Jan-08-99", "1999-01-08"),
            ("2024-03-01", "2024-03-01"),
        ],
    },
    Table {
        data_type: "date",
        settings: Settings { time_zone: "UTC", date_style: "ISO, YMD", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("01/02/03", "2001-02-03"),
            ("13/01/2024", "ERR 22008 date/time field value out of range: \"13/01/2024\" | H: Perhaps you need a different \"datestyle\" setting."),
            ("1/2/2024", "ERR 22008 date/time field value out of range: \"1/2/2024\" | H: Perhaps you need a different \"datestyle\" setting."),
            ("08-Jan-99", "ERR 22008 date/time field value out of range: \"08-Jan-99\" | H: Perhaps you need a different \"datestyle\" setting."),
            ("99-Jan-08", "1999-01-08"),
            ("Jan-08-99", "ERR 22008 date/time field value out of range: \"Jan-08-99\" | H: Perhaps you need a different \"datestyle\" setting."),
            ("2024-03-01", "2024-03-01"),
        ],
    },
    Table {
        data_type: "date",
        settings: Settings { time_zone: "UTC", date_style: "SQL, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("2024-03-01", "03/01/2024"),
            ("0044-03-15 BC", "03/15/0044 BC"),
            ("10000-01-01", "01/01/10000"),
            ("infinity", "infinity"),
        ],
    },
    Table {
        data_type: "date",
        settings: Settings { time_zone: "UTC", date_style: "SQL, DMY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("2024-03-01", "01/03/2024"),
            ("0044-03-15 BC", "15/03/0044 BC"),
        ],
    },
    Table {
        data_type: "date",
        settings: Settings { time_zone: "UTC", date_style: "German, DMY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("2024-03-01", "01.03.2024"),
            ("0044-03-15 BC", "15.03.0044 BC"),
        ],
    },
    Table {
        data_type: "date",
        settings: Settings { time_zone: "UTC", date_style: "Postgres, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("2024-03-01", "03-01-2024"),
            ("0044-03-15 BC", "03-15-0044 BC"),
        ],
    },
    Table {
        data_type: "date",
        settings: Settings { time_zone: "UTC", date_style: "Postgres, DMY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("2024-03-01", "01-03-2024"),
            ("0044-03-15 BC", "15-03-0044 BC"),
        ],
    },
    Table {
        data_type: "time",
        settings: Settings { time_zone: "UTC", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("12:34:56", "12:34:56"),
            ("12:34", "12:34:00"),
            ("1:2:3", "01:02:03"),
            ("12:34:56.789", "12:34:56.789"),
            ("12:34:56.1234567", "12:34:56.123457"),
            ("12:34:56.9999995", "12:34:57"),
            ("23:59:59.9999999", "24:00:00"),
            ("24:00:00", "24:00:00"),
            ("24:00:01", "ERR 22008 date/time field value out of range: \"24:00:01\""),
            ("25:00:00", "ERR 22008 date/time field value out of range: \"25:00:00\""),
            ("12:60:00", "ERR 22008 date/time field value out of range: \"12:60:00\""),
            ("12:00:60", "12:01:00"),
            ("12:00:61", "ERR 22008 date/time field value out of range: \"12:00:61\""),
            ("allballs", "00:00:00"),
            ("12:34:56+05", "12:34:56"),
            ("12:34:56 PST", "12:34:56"),
            ("12:34:56 America/New_York", "ERR 22007 invalid input syntax for type time: \"12:34:56 America/New_York\""),
            ("2024-03-01 12:34:56 America/New_York", "12:34:56"),
            ("12:34:56 UTC", "12:34:56"),
            ("123456", "12:34:56"),
            ("1234", "12:34:00"),
            ("12:34:56.5 PM", "12:34:56.5"),
            ("12:00 AM", "00:00:00"),
            ("12:00 PM", "12:00:00"),
            ("1:00 pm", "13:00:00"),
            ("13:00 pm", "ERR 22008 date/time field value out of range: \"13:00 pm\""),
            ("T12:34:56", "12:34:56"),
            ("T123456", "12:34:56"),
            ("abc", "ERR 22007 invalid input syntax for type time: \"abc\""),
            ("", "ERR 22007 invalid input syntax for type time: \"\""),
            ("04:05:06.789-8", "04:05:06.789"),
            ("2024-03-01 12:34", "12:34:00"),
            ("12.5", "ERR 22007 invalid input syntax for type time: \"12.5\""),
            ("12:34.5", "00:12:34.5"),
            ("040506", "04:05:06"),
            ("04:05 z", "04:05:00"),
            ("0:0:0", "00:00:00"),
            ("-1:00:00", "ERR 22007 invalid input syntax for type time: \"-1:00:00\""),
            ("12:34:56 +15:00", "12:34:56"),
            ("12:34:56 +16:00", "ERR 22009 time zone displacement out of range: \"12:34:56 +16:00\""),
            ("12:34:56Z.99", "12:34:56"),
            ("12:34UTC.5", "12:34:00"),
            ("PDT30", "ERR 22007 invalid input syntax for type time: \"PDT30\""),
            ("12:00 EST5EDT", "ERR 22007 invalid input syntax for type time: \"12:00 EST5EDT\""),
            ("2024-07-01 12:00 EST5EDT", "12:00:00"),
        ],
    },
    Table {
        data_type: "timestamp",
        settings: Settings { time_zone: "UTC", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("2024-03-01 12:34:56", "2024-03-01 12:34:56"),
            ("2024-03-01T12:34:56", "2024-03-01 12:34:56"),
            ("2024-03-01 12:34:56.789", "2024-03-01 12:34:56.789"),
            ("2024-03-01 12:34:56.123456", "2024-03-01 12:34:56.123456"),
            ("2024-03-01 12:34:56.1234565", "2024-03-01 12:34:56.123456"),
            ("2024-03-01 12:34:56.1234575", "2024-03-01 12:34:56.123458"),
            ("2024-03-01 12:34:56.9999999", "2024-03-01 12:34:57"),
            ("2024-03-01", "2024-03-01 00:00:00"),
            ("2024-03-01 12:34:56+05:30", "2024-03-01 12:34:56"),
            ("2024-03-01 12:34:56-08", "2024-03-01 12:34:56"),
            ("2024-03-01 12:34:56 +0530", "2024-03-01 12:34:56"),
            ("2024-03-01 12:34:56 UTC", "2024-03-01 12:34:56"),
            ("2024-03-01 12:34:56Z", "2024-03-01 12:34:56"),
            ("2024-03-01 12:34:56 EST", "2024-03-01 12:34:56"),
            ("2024-03-01 12:34:56 EDT", "2024-03-01 12:34:56"),
            ("2024-03-01 12:34:56 America/New_York", "2024-03-01 12:34:56"),
            ("2024-07-01 12:34:56 America/New_York", "2024-07-01 12:34:56"),
            ("2024-03-01 12:34:56 Europe/Paris", "2024-03-01 12:34:56"),
            ("2024-03-01 12:34:56 Asia/Kolkata", "2024-03-01 12:34:56"),
            ("2024-03-01 12:34:56 Mars/Olympus", "ERR 22023 time zone \"mars/olympus\" not recognized"),
            ("2024-03-01 12:34:56 +16", "ERR 22009 time zone displacement out of range: \"2024-03-01 12:34:56 +16\""),
            ("2024-03-01 12:34:56 +15:59", "2024-03-01 12:34:56"),
            ("2024-03-01 12:34:56 +1:2:3", "2024-03-01 12:34:56"),
            ("epoch", "1970-01-01 00:00:00"),
            ("infinity", "infinity"),
            ("-infinity", "-infinity"),
            ("Mar 1 2024 12:34:56", "2024-03-01 12:34:56"),
            ("Fri Mar 01 12:34:56 2024 PST", "2024-03-01 12:34:56"),
            ("Fri Mar 01 12:34:56.5 2024", "2024-03-01 12:34:56.5"),
            ("03/01/2024 12:34:56.78", "2024-03-01 12:34:56.78"),
            ("01.03.2024 12:34:56", "2024-01-03 12:34:56"),
            ("1997-02-10 17:32:01-08", "1997-02-10 17:32:01"),
            ("19970210 173201 -0800", "1997-02-10 17:32:01"),
            ("1997-06-10 17:32:01 -07:00", "1997-06-10 17:32:01"),
            ("20011225T040506.789-07", "2001-12-25 04:05:06.789"),
            ("2001-12-25T04:05:06.789-07", "2001-12-25 04:05:06.789"),
            ("J2452269 04:05:06", "2001-12-25 04:05:06"),
            ("2024-03-01 12:34:56 BC", "2024-03-01 12:34:56 BC"),
            ("0001-01-01 00:00:00 BC", "0001-01-01 00:00:00 BC"),
            ("4714-11-24 00:00:00 BC", "4714-11-24 00:00:00 BC"),
            ("4714-11-23 23:59:59 BC", "ERR 22008 timestamp out of range: \"4714-11-23 23:59:59 BC\""),
            ("294276-12-31 23:59:59.999999", "294276-12-31 23:59:59.999999"),
            ("294277-01-01 00:00:00", "ERR 22008 timestamp out of range: \"294277-01-01 00:00:00\""),
            ("2024-03-01 24:00:00", "2024-03-02 00:00:00"),
            ("2024-03-01 23:59:60", "2024-03-02 00:00:00"),
            ("2024-03-10 02:30:00 America/New_York", "2024-03-10 02:30:00"),
            ("2024-11-03 01:30:00 America/New_York", "2024-11-03 01:30:00"),
            ("2024-03-01 12:34:56 PST8PDT", "2024-03-01 12:34:56"),
            ("2024-03-01 12:34:56 Etc/GMT+5", "2024-03-01 12:34:56"),
            ("2024-03-01 12:34:56 UTC+3", "2024-03-01 12:34:56"),
            ("2024-03-01 12:34:56 EST DST", "2024-03-01 12:34:56"),
            ("2024-03-01 12:34:56 CET", "2024-03-01 12:34:56"),
            ("2024-03-01 12:34:56 CEST", "2024-03-01 12:34:56"),
            ("2024-03-01 12:34:56 MSK", "2024-03-01 12:34:56"),
            ("2024-03-01 12:34:56 Z", "2024-03-01 12:34:56"),
            ("12:34:56", "ERR 22007 invalid input syntax for type timestamp: \"12:34:56\""),
            ("abc", "ERR 22007 invalid input syntax for type timestamp: \"abc\""),
            ("", "ERR 22007 invalid input syntax for type timestamp: \"\""),
            ("2024-03-01 12:34:56 xyz", "ERR 22007 invalid input syntax for type timestamp: \"2024-03-01 12:34:56 xyz\""),
            ("2024-03-01 12:34:56 at", "2024-03-01 12:34:56"),
            ("on 2024-03-01 at 12:34", "2024-03-01 12:34:00"),
            ("2024-03-01 12:34:56 -00:30", "2024-03-01 12:34:56"),
            ("2024-03-01 00:00:00+14", "2024-03-01 00:00:00"),
            ("1900-01-01 00:00:00 America/New_York", "1900-01-01 00:00:00"),
            ("1800-01-01 00:00:00 America/New_York", "1800-01-01 00:00:00"),
            ("1800-01-01 00:00:00 Asia/Kolkata", "1800-01-01 00:00:00"),
            ("2150-07-01 12:00 America/New_York", "2150-07-01 12:00:00"),
            ("2024-03-01 12:34:56.", "2024-03-01 12:34:56"),
            ("2024-03-01 12:34:56.5.5", "ERR 22007 invalid input syntax for type timestamp: \"2024-03-01 12:34:56.5.5\""),
            ("2024-03-01 12:34:56 america/new_york", "2024-03-01 12:34:56"),
            ("2024-03-01 12:34:56 AMERICA/NEW_YORK", "2024-03-01 12:34:56"),
            ("2024-03-01 1:2", "2024-03-01 01:02:00"),
            ("2024-03-01 12 PM", "ERR 22007 invalid input syntax for type timestamp: \"2024-03-01 12 PM\""),
            ("2024-03-01 12:34 am", "2024-03-01 00:34:00"),
            ("2024-13-01 12:00", "ERR 22008 date/time field value out of range: \"2024-13-01 12:00\" | H: Perhaps you need a different \"datestyle\" setting."),
            ("2024-02-30 12:00", "ERR 22008 date/time field value out of range: \"2024-02-30 12:00\""),
            ("Feb 29 2023", "ERR 22008 date/time field value out of range: \"Feb 29 2023\""),
            ("1999-01-08 04:05:06", "1999-01-08 04:05:06"),
            ("1999-01-08 04:05:06 -8:00", "1999-01-08 04:05:06"),
            ("January 8 04:05:06 1999 PST", "1999-01-08 04:05:06"),
            ("1999-01-08 04:05:06.789 Europe/Helsinki", "1999-01-08 04:05:06.789"),
            ("2024-03-01 12:34:56 Japan", "2024-03-01 12:34:56"),
            ("36603BC366Etc/GMT+5T", "ERR 22008 timestamp out of range: \"36603BC366Etc/GMT+5T\""),
            ("19971997.038", "ERR 22008 timestamp out of range: \"19971997.038\""),
        ],
    },
    Table {
        data_type: "timestamptz",
        settings: Settings { time_zone: "UTC", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("2024-03-01 12:34:56", "2024-03-01 12:34:56+00"),
            ("2024-03-01T12:34:56", "2024-03-01 12:34:56+00"),
            ("2024-03-01 12:34:56.789", "2024-03-01 12:34:56.789+00"),
            ("2024-03-01 12:34:56.123456", "2024-03-01 12:34:56.123456+00"),
            ("2024-03-01 12:34:56.1234565", "2024-03-01 12:34:56.123456+00"),
            ("2024-03-01 12:34:56.1234575", "2024-03-01 12:34:56.123458+00"),
            ("2024-03-01 12:34:56.9999999", "2024-03-01 12:34:57+00"),
            ("2024-03-01", "2024-03-01 00:00:00+00"),
            ("2024-03-01 12:34:56+05:30", "2024-03-01 07:04:56+00"),
            ("2024-03-01 12:34:56-08", "2024-03-01 20:34:56+00"),
            ("2024-03-01 12:34:56 +0530", "2024-03-01 07:04:56+00"),
            ("2024-03-01 12:34:56 UTC", "2024-03-01 12:34:56+00"),
            ("2024-03-01 12:34:56Z", "2024-03-01 12:34:56+00"),
            ("2024-03-01 12:34:56 EST", "2024-03-01 17:34:56+00"),
            ("2024-03-01 12:34:56 EDT", "2024-03-01 16:34:56+00"),
            ("2024-03-01 12:34:56 America/New_York", "2024-03-01 17:34:56+00"),
            ("2024-07-01 12:34:56 America/New_York", "2024-07-01 16:34:56+00"),
            ("2024-03-01 12:34:56 Europe/Paris", "2024-03-01 11:34:56+00"),
            ("2024-03-01 12:34:56 Asia/Kolkata", "2024-03-01 07:04:56+00"),
            ("2024-03-01 12:34:56 Mars/Olympus", "ERR 22023 time zone \"mars/olympus\" not recognized"),
            ("2024-03-01 12:34:56 +16", "ERR 22009 time zone displacement out of range: \"2024-03-01 12:34:56 +16\""),
            ("2024-03-01 12:34:56 +15:59", "2024-02-29 20:35:56+00"),
            ("2024-03-01 12:34:56 +1:2:3", "2024-03-01 11:32:53+00"),
            ("epoch", "1970-01-01 00:00:00+00"),
            ("infinity", "infinity"),
            ("-infinity", "-infinity"),
            ("Mar 1 2024 12:34:56", "2024-03-01 12:34:56+00"),
            ("Fri Mar 01 12:34:56 2024 PST", "2024-03-01 20:34:56+00"),
            ("Fri Mar 01 12:34:56.5 2024", "2024-03-01 12:34:56.5+00"),
            ("03/01/2024 12:34:56.78", "2024-03-01 12:34:56.78+00"),
            ("01.03.2024 12:34:56", "2024-01-03 12:34:56+00"),
            ("1997-02-10 17:32:01-08", "1997-02-11 01:32:01+00"),
            ("19970210 173201 -0800", "1997-02-11 01:32:01+00"),
            ("1997-06-10 17:32:01 -07:00", "1997-06-11 00:32:01+00"),
            ("20011225T040506.789-07", "2001-12-25 11:05:06.789+00"),
            ("2001-12-25T04:05:06.789-07", "2001-12-25 11:05:06.789+00"),
            ("J2452269 04:05:06", "2001-12-25 04:05:06+00"),
            ("2024-03-01 12:34:56 BC", "2024-03-01 12:34:56+00 BC"),
            ("0001-01-01 00:00:00 BC", "0001-01-01 00:00:00+00 BC"),
            ("4714-11-24 00:00:00 BC", "4714-11-24 00:00:00+00 BC"),
            ("4714-11-23 23:59:59 BC", "ERR 22008 timestamp out of range: \"4714-11-23 23:59:59 BC\""),
            ("294276-12-31 23:59:59.999999", "294276-12-31 23:59:59.999999+00"),
            ("294277-01-01 00:00:00", "ERR 22008 timestamp out of range: \"294277-01-01 00:00:00\""),
            ("2024-03-01 24:00:00", "2024-03-02 00:00:00+00"),
            ("2024-03-01 23:59:60", "2024-03-02 00:00:00+00"),
            ("2024-03-10 02:30:00 America/New_York", "2024-03-10 07:30:00+00"),
            ("2024-11-03 01:30:00 America/New_York", "2024-11-03 06:30:00+00"),
            ("2024-03-01 12:34:56 PST8PDT", "2024-03-01 20:34:56+00"),
            ("2024-03-01 12:34:56 Etc/GMT+5", "2024-03-01 17:34:56+00"),
            ("2024-03-01 12:34:56 UTC+3", "2024-03-01 15:34:56+00"),
            ("2024-03-01 12:34:56 EST DST", "2024-03-01 16:34:56+00"),
            ("2024-03-01 12:34:56 CET", "2024-03-01 11:34:56+00"),
            ("2024-03-01 12:34:56 CEST", "2024-03-01 10:34:56+00"),
            ("2024-03-01 12:34:56 MSK", "2024-03-01 09:34:56+00"),
            ("2024-03-01 12:34:56 Z", "2024-03-01 12:34:56+00"),
            ("12:34:56", "ERR 22007 invalid input syntax for type timestamp with time zone: \"12:34:56\""),
            ("abc", "ERR 22007 invalid input syntax for type timestamp with time zone: \"abc\""),
            ("", "ERR 22007 invalid input syntax for type timestamp with time zone: \"\""),
            ("2024-03-01 12:34:56 xyz", "ERR 22007 invalid input syntax for type timestamp with time zone: \"2024-03-01 12:34:56 xyz\""),
            ("2024-03-01 12:34:56 at", "2024-03-01 12:34:56+00"),
            ("on 2024-03-01 at 12:34", "2024-03-01 12:34:00+00"),
            ("2024-03-01 12:34:56 -00:30", "2024-03-01 13:04:56+00"),
            ("2024-03-01 00:00:00+14", "2024-02-29 10:00:00+00"),
            ("1900-01-01 00:00:00 America/New_York", "1900-01-01 05:00:00+00"),
            ("1800-01-01 00:00:00 America/New_York", "1800-01-01 04:56:02+00"),
            ("1800-01-01 00:00:00 Asia/Kolkata", "1799-12-31 18:06:32+00"),
            ("2150-07-01 12:00 America/New_York", "2150-07-01 16:00:00+00"),
            ("2024-03-01 12:34:56.", "2024-03-01 12:34:56+00"),
            ("2024-03-01 12:34:56.5.5", "ERR 22007 invalid input syntax for type timestamp with time zone: \"2024-03-01 12:34:56.5.5\""),
            ("2024-03-01 12:34:56 america/new_york", "2024-03-01 17:34:56+00"),
            ("2024-03-01 12:34:56 AMERICA/NEW_YORK", "2024-03-01 17:34:56+00"),
            ("2024-03-01 1:2", "2024-03-01 01:02:00+00"),
            ("2024-03-01 12 PM", "ERR 22007 invalid input syntax for type timestamp with time zone: \"2024-03-01 12 PM\""),
            ("2024-03-01 12:34 am", "2024-03-01 00:34:00+00"),
            ("2024-13-01 12:00", "ERR 22008 date/time field value out of range: \"2024-13-01 12:00\" | H: Perhaps you need a different \"datestyle\" setting."),
            ("2024-02-30 12:00", "ERR 22008 date/time field value out of range: \"2024-02-30 12:00\""),
            ("Feb 29 2023", "ERR 22008 date/time field value out of range: \"Feb 29 2023\""),
            ("1999-01-08 04:05:06", "1999-01-08 04:05:06+00"),
            ("1999-01-08 04:05:06 -8:00", "1999-01-08 12:05:06+00"),
            ("January 8 04:05:06 1999 PST", "1999-01-08 12:05:06+00"),
            ("1999-01-08 04:05:06.789 Europe/Helsinki", "1999-01-08 02:05:06.789+00"),
            ("2024-03-01 12:34:56 Japan", "2024-03-01 03:34:56+00"),
            ("2024-03-01 12:34:56 <+0530>-5:30", "ERR 22007 invalid input syntax for type timestamp with time zone: \"2024-03-01 12:34:56 <+0530>-5:30\""),
            ("2024-07-01 12:00 EST5EDT", "2024-07-01 16:00:00+00"),
            ("2024-07-01 12:00 CET-1CEST,M3.5.0,M10.5.0/3", "ERR 22007 invalid input syntax for type timestamp with time zone: \"2024-07-01 12:00 CET-1CEST,M3.5.0,M10.5.0/3\""),
            ("2024-03-01 12:00 pdt30", "2024-03-02 18:00:00+00"),
            ("2024-03-01 12:00 z.99", "2024-03-05 15:00:00+00"),
        ],
    },
    Table {
        data_type: "timestamptz",
        settings: Settings { time_zone: "America/New_York", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("2024-03-01 12:34:56", "2024-03-01 12:34:56-05"),
            ("2024-07-01 12:34:56", "2024-07-01 12:34:56-04"),
            ("2024-03-10 02:30:00", "2024-03-10 03:30:00-04"),
            ("2024-11-03 01:30:00", "2024-11-03 01:30:00-05"),
            ("2024-03-01 12:34:56+00", "2024-03-01 07:34:56-05"),
            ("1800-01-01 00:00", "1800-01-01 00:00:00-04:56:02"),
            ("2150-07-01 12:00", "2150-07-01 12:00:00-04"),
            ("epoch", "1969-12-31 19:00:00-05"),
            ("2024-03-01 12:34:56.5 UTC", "2024-03-01 07:34:56.5-05"),
        ],
    },
    Table {
        data_type: "timestamptz",
        settings: Settings { time_zone: "Asia/Kolkata", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("2024-03-01 12:34:56", "2024-03-01 12:34:56+05:30"),
            ("2024-07-01 12:34:56+00", "2024-07-01 18:04:56+05:30"),
            ("1800-01-01 00:00", "1800-01-01 00:00:00+05:53:28"),
        ],
    },
    Table {
        data_type: "timestamptz",
        settings: Settings { time_zone: "Europe/Paris", date_style: "SQL, DMY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("2024-03-01 12:34:56", "01/03/2024 12:34:56 CET"),
            ("2024-07-01 12:34:56+00", "01/07/2024 14:34:56 CEST"),
        ],
    },
    Table {
        data_type: "timestamptz",
        settings: Settings { time_zone: "America/New_York", date_style: "Postgres, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("2024-03-01 12:34:56", "Fri Mar 01 12:34:56 2024 EST"),
            ("2024-07-01 12:34:56+00", "Mon Jul 01 08:34:56 2024 EDT"),
            ("0044-03-15 12:00 BC", "Fri Mar 15 12:00:00 0044 LMT BC"),
        ],
    },
    Table {
        data_type: "timestamptz",
        settings: Settings { time_zone: "Europe/Berlin", date_style: "German, DMY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("2024-03-01 12:34:56", "01.03.2024 12:34:56 CET"),
            ("2024-07-01 12:34:56+00", "01.07.2024 14:34:56 CEST"),
        ],
    },
    Table {
        data_type: "timestamptz",
        settings: Settings { time_zone: "UTC", date_style: "SQL, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("2024-03-01 12:34:56", "03/01/2024 12:34:56 UTC"),
            ("2024-07-01 12:34:56+00", "07/01/2024 12:34:56 UTC"),
        ],
    },
    Table {
        data_type: "timestamp",
        settings: Settings { time_zone: "UTC", date_style: "SQL, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("2024-03-01 12:34:56.5", "03/01/2024 12:34:56.5"),
            ("0044-03-15 12:00 BC", "03/15/0044 12:00:00 BC"),
        ],
    },
    Table {
        data_type: "timestamp",
        settings: Settings { time_zone: "UTC", date_style: "Postgres, DMY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("2024-03-01 12:34:56.5", "Fri 01 Mar 12:34:56.5 2024"),
            ("0044-03-15 12:00 BC", "Fri 15 Mar 12:00:00 0044 BC"),
        ],
    },
    Table {
        data_type: "timestamp",
        settings: Settings { time_zone: "UTC", date_style: "German, DMY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("2024-03-01 12:34:56.5", "01.03.2024 12:34:56.5"),
        ],
    },
    Table {
        data_type: "timestamp",
        settings: Settings { time_zone: "UTC", date_style: "ISO, DMY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("01/02/03 04:05", "2003-02-01 04:05:00"),
            ("13/01/2024 00:00", "2024-01-13 00:00:00"),
        ],
    },
    Table {
        data_type: "timestamptz",
        settings: Settings { time_zone: "-7", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("2024-03-01 12:34:56", "2024-03-01 12:34:56-07"),
        ],
    },
    Table {
        data_type: "timestamptz",
        settings: Settings { time_zone: "+5.5", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("2024-03-01 12:34:56", "2024-03-01 12:34:56+05:30"),
        ],
    },
    Table {
        data_type: "timestamptz",
        settings: Settings { time_zone: "UTC+3", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("2024-03-01 12:34:56", "2024-03-01 12:34:56-03"),
        ],
    },
    Table {
        data_type: "timestamptz",
        settings: Settings { time_zone: "Europe/London", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("10000-01-01 00:00", "10000-01-01 00:00:00+00"),
            ("99999-12-31 23:59:59", "99999-12-31 23:59:59+00"),
            ("2024-03-01 12:34:56.000001", "2024-03-01 12:34:56.000001+00"),
            ("2024-03-01 12:34:56.100000", "2024-03-01 12:34:56.1+00"),
            ("2024-03-01 12:34:56 +05:30:30", "2024-03-01 07:04:26+00"),
            ("2024-03-01 12:34:56 -12:59", "2024-03-02 01:33:56+00"),
            ("1970-01-01 00:00:00+00", "1970-01-01 01:00:00+01"),
            ("2000-01-01 00:00:00+00", "2000-01-01 00:00:00+00"),
            ("2024-03-31 01:30:00", "2024-03-31 02:30:00+01"),
            ("2024-03-31 02:30:00", "2024-03-31 02:30:00+01"),
            ("2024-10-27 01:30:00", "2024-10-27 01:30:00+00"),
            ("2024-10-27 00:30:00+00", "2024-10-27 01:30:00+01"),
            ("2024-10-27 01:30:00+00", "2024-10-27 01:30:00+00"),
        ],
    },
    Table {
        data_type: "timestamptz",
        settings: Settings { time_zone: "Asia/Tokyo", date_style: "ISO, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("2024-03-01 12:00", "2024-03-01 12:00:00+09"),
            ("1900-06-01 12:00", "1900-06-01 12:00:00+09"),
            ("1850-06-01 12:00", "1850-06-01 12:00:00+09:18:59"),
        ],
    },
    Table {
        data_type: "timestamptz",
        settings: Settings { time_zone: "UTC+3", date_style: "SQL, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("2024-03-01 12:34:56+00", "03/01/2024 09:34:56 UTC"),
        ],
    },
    Table {
        data_type: "timestamptz",
        settings: Settings { time_zone: "-7", date_style: "Postgres, MDY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("2024-03-01 12:34:56+00", "Fri Mar 01 05:34:56 2024 -07"),
        ],
    },
    Table {
        data_type: "timestamptz",
        settings: Settings { time_zone: "5.5", date_style: "German, DMY", interval_style: "postgres", extra_float_digits: 1 },
        cases: &[
            ("2024-03-01 12:34:56+00", "01.03.2024 18:04:56 +05:30"),
        ],
    },
];
