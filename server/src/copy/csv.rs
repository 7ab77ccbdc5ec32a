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

/// One field of a record split by [`split_record_into`]: where its bytes (after quote
/// processing) are in the output buffer, and whether any part of it was quoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvSpan {
    pub start: usize,
    pub end: usize,
    pub quoted: bool,
}

/// Splits one record (without its line end) into fields: their bytes are appended to `out`,
/// a span per field to `fields`. Runs of plain bytes are copied whole. Returns `false` when a
/// quoted field is not closed (what was appended is then meaningless).
pub fn split_record_into(
    record: &[u8],
    (delimiter, quote, escape): (u8, u8, u8),
    out: &mut Vec<u8>,
    fields: &mut Vec<CsvSpan>,
) -> bool {
    let mut start = out.len();
    let mut quoted = false;
    let mut in_quotes = false;
    // Start of the run of plain bytes not yet copied to `out`.
    let mut run = 0;
    let mut i = 0;
    while i < record.len() {
        let byte = record[i];
        if in_quotes {
            if byte == escape {
                if let Some(&next) = record.get(i + 1) {
                    if next == quote || next == escape {
                        out.extend_from_slice(&record[run..i]);
                        out.push(next);
                        i += 2;
                        run = i;
                        continue;
                    }
                }
            }
            if byte == quote {
                out.extend_from_slice(&record[run..i]);
                in_quotes = false;
                run = i + 1;
            }
        } else if byte == quote {
            out.extend_from_slice(&record[run..i]);
            in_quotes = true;
            quoted = true;
            run = i + 1;
        } else if byte == delimiter {
            out.extend_from_slice(&record[run..i]);
            fields.push(CsvSpan {
                start,
                end: out.len(),
                quoted,
            });
            start = out.len();
            quoted = false;
            run = i + 1;
        }
        i += 1;
    }
    if in_quotes {
        return false;
    }
    out.extend_from_slice(&record[run..]);
    fields.push(CsvSpan {
        start,
        end: out.len(),
        quoted,
    });
    true
}

/// Splits the record at the start of `data` in one pass, if it ends (with a `\n` outside
/// quotes) within `data`: as [`split_record_into`] on the record without its line end and a
/// `\r` before it, returning the position of the `\n`. `None` when the record is incomplete
/// (what was appended to `out` and `fields` is then meaningless). Runs between special bytes
/// are found eight bytes at a time.
pub fn split_complete_record(
    data: &[u8],
    (delimiter, quote, escape): (u8, u8, u8),
    out: &mut Vec<u8>,
    fields: &mut Vec<CsvSpan>,
) -> Option<usize> {
    let mut start = out.len();
    let mut quoted = false;
    // Start of the run of plain bytes not yet copied to `out`.
    let mut run = 0;
    let mut i = 0;
    loop {
        // Outside quotes: up to the next delimiter, quote or line end.
        let at = find_any(data, i, delimiter, quote, b'\n')?;
        let byte = data[at];
        if byte == delimiter {
            out.extend_from_slice(&data[run..at]);
            fields.push(CsvSpan {
                start,
                end: out.len(),
                quoted,
            });
            start = out.len();
            quoted = false;
            run = at + 1;
            i = at + 1;
        } else if byte == quote {
            out.extend_from_slice(&data[run..at]);
            quoted = true;
            // Inside quotes: up to the closing quote, copying escaped characters.
            let mut j = at + 1;
            run = j;
            loop {
                let found = find_any(data, j, quote, escape, quote)?;
                if data[found] == escape {
                    if let Some(&next) = data.get(found + 1) {
                        if next == quote || next == escape {
                            out.extend_from_slice(&data[run..found]);
                            out.push(next);
                            j = found + 2;
                            run = j;
                            continue;
                        }
                    } else {
                        return None;
                    }
                    if escape != quote {
                        j = found + 1;
                        continue;
                    }
                }
                // The closing quote.
                out.extend_from_slice(&data[run..found]);
                run = found + 1;
                i = found + 1;
                break;
            }
        } else {
            // The line end; a `\r` just before it is not data.
            let end = if at > run && data[at - 1] == b'\r' {
                at - 1
            } else {
                at
            };
            out.extend_from_slice(&data[run..end]);
            fields.push(CsvSpan {
                start,
                end: out.len(),
                quoted,
            });
            return Some(at);
        }
    }
}

/// The position of the first of `a`, `b` or `c` in `data` from `from` on.
#[inline]
fn find_any(data: &[u8], from: usize, a: u8, b: u8, c: u8) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Bytes of `word` equal to `byte` get their high bit set; the lowest set bit is exact.
    let matches = |word: u64, byte: u8| {
        let x = word ^ (ONES * u64::from(byte));
        x.wrapping_sub(ONES) & !x & HIGHS
    };
    let mut i = from;
    while i + 8 <= data.len() {
        let word = u64::from_le_bytes(data[i..i + 8].try_into().expect("8 bytes"));
        let found = matches(word, a) | matches(word, b) | matches(word, c);
        if found != 0 {
            return Some(i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    data[i.min(data.len())..]
        .iter()
        .position(|&x| x == a || x == b || x == c)
        .map(|p| i + p)
}

/// One field of a record: its bytes after quote processing, and whether any part was quoted.
#[cfg(test)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvField {
    pub value: Vec<u8>,
    pub quoted: bool,
}

/// Splits one record into owned fields (see [`split_record_into`]); `None` when a quoted
/// field is not closed.
#[cfg(test)]
pub fn split_record(record: &[u8], delimiter: u8, quote: u8, escape: u8) -> Option<Vec<CsvField>> {
    let mut out = Vec::new();
    let mut spans = Vec::new();
    if !split_record_into(record, (delimiter, quote, escape), &mut out, &mut spans) {
        return None;
    }
    Some(
        spans
            .iter()
            .map(|span| CsvField {
                value: out[span.start..span.end].to_vec(),
                quoted: span.quoted,
            })
            .collect(),
    )
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
    fn one_pass_split_agrees_with_the_general_path() {
        let options = [
            (b',', b'"', b'"'),
            (b';', b'"', b'\\'),
            (b'\t', b'\'', b'\''),
        ];
        let records: [&[u8]; 12] = [
            b"1,\"a,b\",,\"\",\"say \"\"hi\"\"\"",
            b"ab\"c,d\"e",
            b"\"a\\\"b\"",
            b"x;\"multi\nline\"",
            b"",
            b",",
            b"12345678,123456789012,x,\"quoted, with comma and more than eight\",end",
            b"\"\"",
            b"a\r",
            b"\"q\"\r",
            b"\\.",
            b"plain text without any special byte at all, or almost",
        ];
        for &opts in &options {
            for record in records {
                let mut general = (Vec::new(), Vec::new());
                let mut stripped = record;
                if stripped.last() == Some(&b'\r') {
                    stripped = &stripped[..stripped.len() - 1];
                }
                let complete = split_record_into(stripped, opts, &mut general.0, &mut general.1);
                let mut data = record.to_vec();
                data.extend_from_slice(b"\nnext,record\n");
                let mut fast = (Vec::new(), Vec::new());
                let end = split_complete_record(&data, opts, &mut fast.0, &mut fast.1);
                let expected_end =
                    find_record_end(&data, ScanState::default(), opts.1, opts.2).ok();
                assert_eq!(end, expected_end, "{record:?}");
                if complete && end == Some(record.len()) {
                    assert_eq!(fast, general, "{record:?} with {opts:?}");
                }
                // Cut anywhere before its end, the record is incomplete.
                if let Some(end) = end {
                    for cut in 0..end {
                        let mut out = (Vec::new(), Vec::new());
                        assert_eq!(
                            split_complete_record(&data[..cut], opts, &mut out.0, &mut out.1),
                            None,
                            "{record:?} cut at {cut}"
                        );
                    }
                }
            }
        }
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
