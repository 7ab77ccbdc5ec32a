//! The first stage of date/time input: PostgreSQL's `ParseDateTime`, which cuts the text into
//! typed fields, and the keyword tables (`datetktbl`, `deltatktbl`) the decoders look words up
//! in.
//!
//! Fields are lower-cased copies of the input pieces. The tokenizer enforces PostgreSQL's
//! limits — at most [`MAX_DATE_FIELDS`] fields and a work buffer of fixed size — so that
//! arbitrary input costs bounded work.

/// PostgreSQL's `MAXDATEFIELDS`.
pub(crate) const MAX_DATE_FIELDS: usize = 25;
/// Work buffer size of `date_in`, `time_in` and `timestamp_in` (`MAXDATELEN + MAXDATEFIELDS`).
pub(crate) const DATETIME_WORKBUF: usize = 128 + MAX_DATE_FIELDS;
/// Work buffer size of `interval_in`.
pub(crate) const INTERVAL_WORKBUF: usize = 256;

/// The kind of a field, PostgreSQL's `DTK_*` field types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldKind {
    /// Digits, possibly with one or more `.`: a number, `yyyy.ddd`, `hhmmss.ff`.
    Number,
    /// Letters only: a month, weekday, keyword, abbreviation or zone name.
    String,
    /// Digits with `-`, `/` or `.` separators, or a text month, or a zone name with `/`.
    Date,
    /// Digits with `:`.
    Time,
    /// A sign followed by digits: a numeric zone, or a signed number in intervals.
    Tz,
    /// A sign followed by letters: `-infinity`.
    Special,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    pub kind: FieldKind,
    pub text: String,
}

/// Errors the date/time decoders report, PostgreSQL's `DTERR_*` codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DateTimeError {
    BadFormat,
    FieldOverflow,
    /// A field overflow that may mean the day and month are the wrong way round.
    MonthDayFieldOverflow,
    IntervalOverflow,
    TzDispOverflow,
    BadTimezone(String),
}

/// PostgreSQL's `ParseDateTime`: splits `text` into at most [`MAX_DATE_FIELDS`] fields,
/// failing with `BadFormat` where PostgreSQL does (including when the fields would not fit in a
/// work buffer of `workbuf` bytes).
pub(crate) fn parse_fields(text: &str, workbuf: usize) -> Result<Vec<Field>, DateTimeError> {
    let s = text.as_bytes();
    let mut fields: Vec<Field> = Vec::new();
    let mut used = 0usize;
    let mut i = 0usize;
    let at = |i: usize| s.get(i).copied().unwrap_or(0);

    while i < s.len() {
        let c = s[i];
        if c == 0 {
            return Err(DateTimeError::BadFormat);
        }
        if is_space(c) {
            i += 1;
            continue;
        }
        if fields.len() >= MAX_DATE_FIELDS {
            return Err(DateTimeError::BadFormat);
        }
        let mut buf: Vec<u8> = Vec::new();
        // Appends one byte, failing like PostgreSQL's APPEND_CHAR when the buffer is full.
        let push = |buf: &mut Vec<u8>, b: u8| -> Result<(), DateTimeError> {
            if used + buf.len() + 1 >= workbuf {
                return Err(DateTimeError::BadFormat);
            }
            buf.push(b);
            Ok(())
        };
        let kind;
        if c.is_ascii_digit() {
            while at(i).is_ascii_digit() {
                push(&mut buf, at(i))?;
                i += 1;
            }
            if at(i) == b':' {
                kind = FieldKind::Time;
                push(&mut buf, b':')?;
                i += 1;
                while at(i).is_ascii_digit() || at(i) == b':' || at(i) == b'.' {
                    push(&mut buf, at(i))?;
                    i += 1;
                }
            } else if matches!(at(i), b'-' | b'/' | b'.') {
                let delim = at(i);
                push(&mut buf, delim)?;
                i += 1;
                if at(i).is_ascii_digit() {
                    let mut k = if delim == b'.' {
                        FieldKind::Number
                    } else {
                        FieldKind::Date
                    };
                    while at(i).is_ascii_digit() {
                        push(&mut buf, at(i))?;
                        i += 1;
                    }
                    if at(i) == delim {
                        k = FieldKind::Date;
                        push(&mut buf, delim)?;
                        i += 1;
                        while at(i).is_ascii_digit() || at(i) == delim {
                            push(&mut buf, at(i))?;
                            i += 1;
                        }
                    }
                    kind = k;
                } else {
                    kind = FieldKind::Date;
                    while at(i).is_ascii_alphanumeric() || at(i) == delim {
                        push(&mut buf, at(i).to_ascii_lowercase())?;
                        i += 1;
                    }
                }
            } else {
                kind = FieldKind::Number;
            }
        } else if c == b'.' {
            push(&mut buf, b'.')?;
            i += 1;
            while at(i).is_ascii_digit() {
                push(&mut buf, at(i))?;
                i += 1;
            }
            kind = FieldKind::Number;
        } else if c.is_ascii_alphabetic() {
            let mut k = FieldKind::String;
            push(&mut buf, c.to_ascii_lowercase())?;
            i += 1;
            while at(i).is_ascii_alphabetic() {
                push(&mut buf, at(i).to_ascii_lowercase())?;
                i += 1;
            }
            // A date with a text month, or a zone name with punctuation, unless what we have
            // so far is a keyword (so that "t" in "...T12:00" stays a keyword).
            let next = at(i);
            let is_date = if matches!(next, b'-' | b'/' | b'.') {
                true
            } else if next == b'+' || next.is_ascii_digit() {
                let word = std::str::from_utf8(&buf).unwrap_or("");
                date_keyword(word).is_none()
            } else {
                false
            };
            if is_date {
                k = FieldKind::Date;
                loop {
                    push(&mut buf, at(i).to_ascii_lowercase())?;
                    i += 1;
                    let n = at(i);
                    if !(matches!(n, b'+' | b'-' | b'/' | b'_' | b'.' | b':')
                        || n.is_ascii_alphanumeric())
                    {
                        break;
                    }
                }
            }
            kind = k;
        } else if c == b'+' || c == b'-' {
            push(&mut buf, c)?;
            i += 1;
            while is_space(at(i)) {
                i += 1;
            }
            if at(i).is_ascii_digit() {
                kind = FieldKind::Tz;
                push(&mut buf, at(i))?;
                i += 1;
                while at(i).is_ascii_digit() || matches!(at(i), b':' | b'.' | b'-') {
                    push(&mut buf, at(i))?;
                    i += 1;
                }
            } else if at(i).is_ascii_alphabetic() {
                kind = FieldKind::Special;
                push(&mut buf, at(i).to_ascii_lowercase())?;
                i += 1;
                while at(i).is_ascii_alphabetic() {
                    push(&mut buf, at(i).to_ascii_lowercase())?;
                    i += 1;
                }
            } else {
                return Err(DateTimeError::BadFormat);
            }
        } else if c.is_ascii_punctuation() {
            i += 1;
            continue;
        } else {
            return Err(DateTimeError::BadFormat);
        }
        used += buf.len() + 1;
        // Every byte pushed is ASCII, so the field is valid UTF-8.
        let text = String::from_utf8(buf).map_err(|_| DateTimeError::BadFormat)?;
        fields.push(Field { kind, text });
    }
    Ok(fields)
}

/// C's `isspace` in the C locale.
pub(crate) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Meaning of a word in `datetktbl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateKeyword {
    /// `epoch`, `infinity`, `now`, `today`, ...
    Reserved(Reserved),
    Month(i32),
    /// Day of week (0 = Sunday); accepted and ignored.
    DayOfWeek(i32),
    Am,
    Pm,
    Ad,
    Bc,
    /// `at`, `on`: noise words.
    Ignore,
    /// `dst` after a zone abbreviation: one hour more.
    DaylightModifier,
    /// `t` between an ISO date and time.
    IsoTime,
    /// `j`/`jd`/`julian` (the only unit prefix PostgreSQL 16 still decodes in dates), and the
    /// other unit letters, which it rejects.
    Julian,
    OtherUnit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reserved {
    Early,
    Late,
    Epoch,
    Now,
    Today,
    Tomorrow,
    Yesterday,
    Zulu,
}

/// Looks a lower-case word up in PostgreSQL 16's `datetktbl`.
pub(crate) fn date_keyword(word: &str) -> Option<DateKeyword> {
    use DateKeyword::*;
    Some(match word {
        "-infinity" => Reserved(self::Reserved::Early),
        // "+infinity" is new in PostgreSQL 16.
        "infinity" | "+infinity" => Reserved(self::Reserved::Late),
        "epoch" => Reserved(self::Reserved::Epoch),
        "now" => Reserved(self::Reserved::Now),
        "today" => Reserved(self::Reserved::Today),
        "tomorrow" => Reserved(self::Reserved::Tomorrow),
        "yesterday" => Reserved(self::Reserved::Yesterday),
        "allballs" => Reserved(self::Reserved::Zulu),
        "ad" => Ad,
        "bc" => Bc,
        "am" => Am,
        "pm" => Pm,
        "at" | "on" => Ignore,
        "dst" => DaylightModifier,
        "t" => IsoTime,
        "j" | "jd" | "julian" => Julian,
        "d" | "dow" | "doy" | "h" | "isodow" | "isoyear" | "m" | "mm" | "s" | "y" => OtherUnit,
        "jan" | "january" => Month(1),
        "feb" | "february" => Month(2),
        "mar" | "march" => Month(3),
        "apr" | "april" => Month(4),
        "may" => Month(5),
        "jun" | "june" => Month(6),
        "jul" | "july" => Month(7),
        "aug" | "august" => Month(8),
        "sep" | "sept" | "september" => Month(9),
        "oct" | "october" => Month(10),
        "nov" | "november" => Month(11),
        "dec" | "december" => Month(12),
        "sun" | "sunday" => DayOfWeek(0),
        "mon" | "monday" => DayOfWeek(1),
        "tue" | "tues" | "tuesday" => DayOfWeek(2),
        "wed" | "weds" | "wednesday" => DayOfWeek(3),
        "thu" | "thur" | "thurs" | "thursday" => DayOfWeek(4),
        "fri" | "friday" => DayOfWeek(5),
        "sat" | "saturday" => DayOfWeek(6),
        _ => return None,
    })
}

/// Interval units, PostgreSQL's `deltatktbl` unit values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IntervalUnit {
    Microsecond,
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
    Decade,
    Century,
    Millennium,
    /// `timezone`, `timezone_h`, `timezone_m`: known words that intervals reject.
    TimeZone,
}

/// Meaning of a word in `deltatktbl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IntervalKeyword {
    Unit(IntervalUnit),
    Ago,
    /// `@`, the postgres-verbose prefix.
    Ignore,
}

/// Looks a lower-case word up in PostgreSQL 16's `deltatktbl`. Like PostgreSQL (which
/// compares `TOKMAXLEN` = 10 characters), a word matches a 10-character entry by its first ten
/// characters, so `microseconds` and `milliseconds` are units.
pub(crate) fn interval_keyword(word: &str) -> Option<IntervalKeyword> {
    use IntervalKeyword::*;
    use IntervalUnit::*;
    let key = if word.len() > 10 && word.is_char_boundary(10) {
        let head = &word[..10];
        if matches!(
            head,
            "microsecon" | "millisecon" | "millennium" | "timezone_h" | "timezone_m"
        ) {
            head
        } else {
            word
        }
    } else {
        word
    };
    Some(match key {
        "@" => Ignore,
        "ago" => Ago,
        "us" | "usec" | "usecs" | "usecond" | "useconds" | "microsecon" => Unit(Microsecond),
        "ms" | "msec" | "msecs" | "msecond" | "mseconds" | "millisecon" => Unit(Millisecond),
        "s" | "sec" | "secs" | "second" | "seconds" => Unit(Second),
        "m" | "min" | "mins" | "minute" | "minutes" => Unit(Minute),
        "h" | "hr" | "hrs" | "hour" | "hours" => Unit(Hour),
        "d" | "day" | "days" => Unit(Day),
        "w" | "week" | "weeks" => Unit(Week),
        "mon" | "mons" | "month" | "months" => Unit(Month),
        "qtr" | "quarter" => Unit(Quarter),
        "y" | "yr" | "yrs" | "year" | "years" => Unit(Year),
        "dec" | "decs" | "decade" | "decades" => Unit(Decade),
        "c" | "cent" | "century" | "centuries" => Unit(Century),
        "mil" | "mils" | "millennia" | "millennium" => Unit(Millennium),
        "timezone" | "timezone_h" | "timezone_m" => Unit(TimeZone),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::FieldKind::{Date, Number, Special, Time, Tz};
    use super::*;

    fn kinds(text: &str) -> Vec<(FieldKind, std::string::String)> {
        parse_fields(text, DATETIME_WORKBUF)
            .unwrap()
            .into_iter()
            .map(|f| (f.kind, f.text))
            .collect()
    }

    #[test]
    fn splits_the_common_forms_like_postgres() {
        assert_eq!(
            kinds("2024-03-01 12:34:56.789+05:30"),
            vec![
                (Date, "2024-03-01".into()),
                (Time, "12:34:56.789".into()),
                (Tz, "+05:30".into())
            ]
        );
        assert_eq!(
            kinds("2024-03-01T12:00:00Z"),
            vec![
                (Date, "2024-03-01".into()),
                (FieldKind::String, "t".into()),
                (Time, "12:00:00".into()),
                (FieldKind::String, "z".into())
            ]
        );
        assert_eq!(
            kinds("Mar 1, 2024 America/New_York"),
            vec![
                (FieldKind::String, "mar".into()),
                (Number, "1".into()),
                (Number, "2024".into()),
                (Date, "america/new_york".into())
            ]
        );
        assert_eq!(kinds("-infinity"), vec![(Special, "-infinity".into())]);
        assert_eq!(kinds("1997.038"), vec![(Number, "1997.038".into())]);
        assert_eq!(
            kinds("J2451545"),
            vec![(FieldKind::String, "j".into()), (Number, "2451545".into())]
        );
    }

    #[test]
    fn rejects_what_postgres_rejects() {
        for bad in ["12 \u{e9}", "+", "- ", "\u{1}"] {
            assert_eq!(
                parse_fields(bad, DATETIME_WORKBUF),
                Err(DateTimeError::BadFormat),
                "{bad:?}"
            );
        }
        let many = "1 ".repeat(MAX_DATE_FIELDS + 1);
        assert!(parse_fields(&many, DATETIME_WORKBUF).is_err());
        let long = "9".repeat(DATETIME_WORKBUF);
        assert!(parse_fields(&long, DATETIME_WORKBUF).is_err());
    }

    #[test]
    fn ten_character_units_match_by_prefix() {
        assert_eq!(
            interval_keyword("microseconds"),
            Some(IntervalKeyword::Unit(IntervalUnit::Microsecond))
        );
        assert_eq!(
            interval_keyword("millisecondsxyz"),
            Some(IntervalKeyword::Unit(IntervalUnit::Millisecond))
        );
        assert_eq!(interval_keyword("secondsx"), None);
    }
}
