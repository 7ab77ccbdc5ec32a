//! COPY's CSV format, as PostgreSQL reads and writes it (`CopyReadAttributesCSV`,
//! `CopyAttributeOutCSV`): fields separated by the delimiter, quoted fields may contain the
//! delimiter, the quote (escaped by the escape character, by default the quote itself) and
//! line breaks; an unquoted field equal to the NULL string (empty by default) is NULL, a
//! quoted one is not unless the column is in FORCE_NULL; FORCE_NOT_NULL columns are never
//! NULL. A line holding only `\.` ends the data.

/// Where a scan for the end of a record stopped, so it can resume when more data arrives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanState {
    pub position: usize,
    pub in_quotes: bool,
}

/// Finds the `\n` that ends the record starting at the beginning of `data`, resuming from
/// `state`. `Err` holds the state to resume from once more data is there.
pub fn find_record_end(
    data: &[u8],
    mut state: ScanState,
    quote: u8,
    escape: u8,
) -> Result<usize, ScanState> {
    let mut i = state.position;
    while i < data.len() {
        let byte = data[i];
        if state.in_quotes {
            if byte == escape && escape != quote {
                match data.get(i + 1) {
                    None => break,
                    Some(&next) if next == quote || next == escape => {
                        i += 2;
                        continue;
                    }
                    Some(_) => {}
                }
            }
            if byte == quote {
                state.in_quotes = false;
            }
        } else if byte == quote {
            state.in_quotes = true;
        } else if byte == b'\n' {
            return Ok(i);
        }
        i += 1;
    }
    state.position = i;
    Err(state)
}

/// One field of a record: its bytes after quote processing, and whether any part was quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvField {
    pub value: Vec<u8>,
    pub quoted: bool,
}

/// Splits one record (without its line end) into fields. Returns `None` when a quoted field
/// is not closed.
pub fn split_record(record: &[u8], delimiter: u8, quote: u8, escape: u8) -> Option<Vec<CsvField>> {
    let mut fields = Vec::new();
    let mut current = CsvField {
        value: Vec::new(),
        quoted: false,
    };
    let mut in_quotes = false;
    let mut i = 0;
    while i < record.len() {
        let byte = record[i];
        if in_quotes {
            if byte == escape {
                if let Some(&next) = record.get(i + 1) {
                    if next == quote || next == escape {
                        current.value.push(next);
                        i += 2;
                        continue;
                    }
                }
            }
            if byte == quote {
                in_quotes = false;
            } else {
                current.value.push(byte);
            }
        } else if byte == quote {
            in_quotes = true;
            current.quoted = true;
        } else if byte == delimiter {
            fields.push(std::mem::replace(
                &mut current,
                CsvField {
                    value: Vec::new(),
                    quoted: false,
                },
            ));
        } else {
            current.value.push(byte);
        }
        i += 1;
    }
    if in_quotes {
        return None;
    }
    fields.push(current);
    Some(fields)
}

/// Appends `value` in CSV form: quoted when `force`, when it contains the delimiter, the
/// quote, CR or LF, when it equals the NULL string, or when it is `\.` alone in a one-column
/// row.
pub fn quote_into(
    value: &str,
    force: bool,
    single_column: bool,
    options: (u8, u8, u8, &str),
    out: &mut Vec<u8>,
) {
    let (delimiter, quote, escape, null) = options;
    let bytes = value.as_bytes();
    let needs_quotes = force
        || value == null
        || (single_column && value == "\\.")
        || bytes
            .iter()
            .any(|&b| b == delimiter || b == quote || b == b'\n' || b == b'\r');
    if !needs_quotes {
        out.extend_from_slice(bytes);
        return;
    }
    out.push(quote);
    for &byte in bytes {
        if byte == quote || byte == escape {
            out.push(escape);
        }
        out.push(byte);
    }
    out.push(quote);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(value: &str, quoted: bool) -> CsvField {
        CsvField {
            value: value.as_bytes().to_vec(),
            quoted,
        }
    }

    #[test]
    fn record_end_respects_quotes_and_resumes() {
        let data = b"1,\"a\nb\",c\n2";
        assert_eq!(
            find_record_end(data, ScanState::default(), b'"', b'"'),
            Ok(9)
        );
        // Cut inside the quoted field: resume later with the saved state.
        let partial = &data[..4];
        let state = find_record_end(partial, ScanState::default(), b'"', b'"').unwrap_err();
        assert!(state.in_quotes);
        assert_eq!(find_record_end(data, state, b'"', b'"'), Ok(9));
        // A backslash escape (ESCAPE '\') keeps an escaped quote inside the field.
        let data = b"\"a\\\"\nb\"\n";
        assert_eq!(
            find_record_end(data, ScanState::default(), b'"', b'\\'),
            Ok(7)
        );
    }

    #[test]
    fn splits_quoted_fields() {
        assert_eq!(
            split_record(b"1,\"a,b\",,\"\",\"say \"\"hi\"\"\"", b',', b'"', b'"').unwrap(),
            vec![
                field("1", false),
                field("a,b", true),
                field("", false),
                field("", true),
                field("say \"hi\"", true)
            ]
        );
        // Quotes may start mid-field, as PostgreSQL allows.
        assert_eq!(
            split_record(b"ab\"c,d\"e", b',', b'"', b'"').unwrap(),
            vec![field("abc,de", true)]
        );
        assert_eq!(
            split_record(b"\"a\\\"b\"", b',', b'"', b'\\').unwrap(),
            vec![field("a\"b", true)]
        );
        assert_eq!(split_record(b"\"open", b',', b'"', b'"'), None);
        assert_eq!(
            split_record(b"x;\"multi\nline\"", b';', b'"', b'"').unwrap(),
            vec![field("x", false), field("multi\nline", true)]
        );
    }

    #[test]
    fn quotes_like_postgres() {
        let csv = (b',', b'"', b'"', "");
        let quoted = |value: &str, force: bool, single: bool| {
            let mut out = Vec::new();
            quote_into(value, force, single, csv, &mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(quoted("plain", false, false), "plain");
        assert_eq!(quoted("a,b", false, false), "\"a,b\"");
        assert_eq!(quoted("say \"hi\"", false, false), "\"say \"\"hi\"\"\"");
        assert_eq!(quoted("two\nlines", false, false), "\"two\nlines\"");
        assert_eq!(quoted("", false, false), "\"\"");
        assert_eq!(quoted("x", true, false), "\"x\"");
        assert_eq!(quoted("\\.", false, true), "\"\\.\"");
        assert_eq!(quoted("\\.", false, false), "\\.");
        let mut out = Vec::new();
        quote_into("NA", false, false, (b',', b'"', b'\\', "NA"), &mut out);
        assert_eq!(out, b"\"NA\"");
        let mut out = Vec::new();
        quote_into("a\"b\\c", true, false, (b',', b'"', b'\\', ""), &mut out);
        assert_eq!(out, b"\"a\\\"b\\\\c\"");
    }
}
