//! An RFC 4180 CSV reader: fields separated by commas, records by CRLF or LF; a field in
//! double quotes may contain commas, line breaks and doubled quotes (`""` is one `"`). Quotes
//! inside an unquoted field are kept as they are, as most readers do. A final line break is
//! optional. Input must be UTF-8 (the caller reads the file as a string).

use crate::error::{HarnessError, HarnessResult};

/// Parses the whole document into records of fields.
pub fn parse(text: &str) -> HarnessResult<Vec<Vec<String>>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut line = 1usize;
    // Whether anything (a field or a separator) has been seen on the current record.
    let mut record_started = false;
    while let Some(c) = chars.next() {
        match c {
            '"' if field.is_empty() => {
                record_started = true;
                let quote_line = line;
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        Some('"') => break,
                        Some(other) => {
                            if other == '\n' {
                                line += 1;
                            }
                            field.push(other);
                        }
                        None => {
                            return Err(HarnessError::new(format!(
                                "CSV: quoted field opened on line {quote_line} is never closed"
                            )))
                        }
                    }
                }
                match chars.peek() {
                    None | Some(',') | Some('\n') | Some('\r') => {}
                    Some(other) => {
                        return Err(HarnessError::new(format!(
                            "CSV line {line}: {other:?} after a closing quote"
                        )))
                    }
                }
            }
            ',' => {
                record_started = true;
                record.push(std::mem::take(&mut field));
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                line += 1;
                if record_started || !field.is_empty() {
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                }
                record_started = false;
            }
            other => {
                record_started = true;
                field.push(other);
            }
        }
    }
    if record_started || !field.is_empty() {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn quoted_fields_keep_commas_newlines_and_doubled_quotes() {
        let text = "a,b,c\n1,\"x, \"\"y\"\"\nz\",\r\n2,,\"\"\n";
        let records = parse(text).unwrap();
        assert_eq!(
            records,
            vec![
                vec!["a", "b", "c"],
                vec!["1", "x, \"y\"\nz", ""],
                vec!["2", "", ""],
            ]
        );
    }

    #[test]
    fn missing_final_newline_and_unclosed_quote() {
        assert_eq!(parse("a,b").unwrap(), vec![vec!["a", "b"]]);
        assert!(parse("a,\"b").is_err());
    }
}
