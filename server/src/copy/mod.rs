//! COPY data on the wire: [`CopyDecoder`] turns the CopyData stream of `COPY ... FROM STDIN`
//! into rows of raw fields (text, CSV or binary), and [`encode::CopyEncoder`] writes the rows
//! of `COPY ... TO STDOUT`. The formats themselves are in [`text`], [`csv`] and [`binary`].
//!
//! CopyData messages split the data anywhere (inside a line, a quoted field, a tuple); the
//! decoder buffers the incomplete tail and resumes its scan where it stopped, so a long record
//! arriving in many pieces is scanned once. A record may not exceed [`MAX_RECORD_BYTES`].
//! Fields stay bytes here; the connection converts them to values with the SQL layer's text
//! input or the binary decoders, column by column, so an error can name its line and column
//! as PostgreSQL's CONTEXT does (`COPY t, line 3, column a: "x"`).

pub mod binary;
pub mod csv;
pub mod encode;
pub mod text;

use sql::engine::{CopyFormat, CopyOptions};
use sql::error::code;
use sql::SqlError;

/// Largest line (text, CSV) or tuple (binary) that COPY FROM accepts.
pub const MAX_RECORD_BYTES: usize = 256 << 20;
/// Longest excerpt of a line quoted in an error's context (PostgreSQL's
/// `limit_printout_length` uses the same bound).
const MAX_CONTEXT_BYTES: usize = 512;

/// One row of COPY input: its line number (1-based, counting the header) and its fields
/// (`None` for NULL) as bytes: unescaped text for text and CSV, binary values for binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRow {
    pub line: u64,
    pub fields: Vec<Option<Vec<u8>>>,
}

/// A malformed COPY stream: the error and where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyDataError {
    pub error: Box<SqlError>,
    pub line: u64,
    /// The offending line, shortened, for the context (`COPY t, line 2: "..."`).
    pub excerpt: Option<String>,
}

/// Shortens `bytes` for an error context, as PostgreSQL's `limit_printout_length` does.
pub fn excerpt(bytes: &[u8]) -> String {
    if bytes.len() <= MAX_CONTEXT_BYTES {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    let mut cut = MAX_CONTEXT_BYTES;
    while cut > 0 && (bytes[cut] & 0xC0) == 0x80 {
        cut -= 1;
    }
    format!("{}...", String::from_utf8_lossy(&bytes[..cut]))
}

fn single_byte(what: &str, c: char) -> Result<u8, SqlError> {
    if c.is_ascii() {
        Ok(c as u8)
    } else {
        Err(SqlError::new(
            code::FEATURE_NOT_SUPPORTED,
            format!("COPY {what} must be a single one-byte character"),
        ))
    }
}

/// Splits a COPY FROM stream into rows.
pub struct CopyDecoder {
    format: CopyFormat,
    delimiter: u8,
    quote: u8,
    escape: u8,
    null: Vec<u8>,
    force_not_null: Vec<bool>,
    force_null: Vec<bool>,
    columns: usize,
    buffer: Vec<u8>,
    /// Where the scan of the current (incomplete) text line resumes, relative to the buffer.
    text_scan: usize,
    csv_scan: csv::ScanState,
    /// Lines (records, tuples) consumed so far.
    line: u64,
    skip_header: bool,
    binary_header_seen: bool,
    /// The end marker (`\.`) or the binary trailer was seen.
    ended: bool,
}

impl CopyDecoder {
    pub fn new(options: &CopyOptions, columns: usize) -> Result<CopyDecoder, SqlError> {
        let flags = |positions: &[usize]| {
            let mut flags = vec![false; columns];
            for &p in positions {
                if let Some(flag) = flags.get_mut(p) {
                    *flag = true;
                }
            }
            flags
        };
        Ok(CopyDecoder {
            format: options.format,
            delimiter: single_byte("delimiter", options.delimiter)?,
            quote: single_byte("quote", options.quote)?,
            escape: single_byte("escape", options.escape)?,
            null: options.null.as_bytes().to_vec(),
            force_not_null: flags(&options.force_not_null),
            force_null: flags(&options.force_null),
            columns,
            buffer: Vec::new(),
            text_scan: 0,
            csv_scan: csv::ScanState::default(),
            line: 0,
            skip_header: options.header && options.format != CopyFormat::Binary,
            binary_header_seen: false,
            ended: false,
        })
    }

    fn error(&self, error: SqlError, excerpt_bytes: Option<&[u8]>) -> CopyDataError {
        CopyDataError {
            error: Box::new(error),
            line: self.line,
            excerpt: excerpt_bytes.map(excerpt),
        }
    }

    /// Takes one CopyData message; complete rows are appended to `rows`.
    pub fn feed(&mut self, data: &[u8], rows: &mut Vec<RawRow>) -> Result<(), CopyDataError> {
        if self.ended {
            if self.format == CopyFormat::Binary && !data.is_empty() {
                return Err(self.error(
                    SqlError::new(
                        code::BAD_COPY_FILE_FORMAT,
                        "received copy data after EOF marker",
                    ),
                    None,
                ));
            }
            return Ok(());
        }
        self.buffer.extend_from_slice(data);
        let consumed = self.extract(rows, false)?;
        self.buffer.drain(..consumed);
        self.text_scan -= consumed.min(self.text_scan);
        if self.buffer.len() > MAX_RECORD_BYTES {
            return Err(self.error(
                SqlError::new(
                    code::PROGRAM_LIMIT_EXCEEDED,
                    format!("COPY line is longer than {MAX_RECORD_BYTES} bytes"),
                ),
                None,
            ));
        }
        Ok(())
    }

    /// CopyDone: the rest of the buffer is the last line (which may lack its line end).
    pub fn finish(&mut self, rows: &mut Vec<RawRow>) -> Result<(), CopyDataError> {
        if self.ended {
            return Ok(());
        }
        let consumed = self.extract(rows, true)?;
        self.buffer.drain(..consumed);
        if self.format == CopyFormat::Binary && !self.ended {
            return Err(self.error(
                SqlError::new(code::BAD_COPY_FILE_FORMAT, "unexpected EOF in COPY data"),
                None,
            ));
        }
        Ok(())
    }

    /// Consumes complete records from the buffer; returns how many bytes they took.
    fn extract(&mut self, rows: &mut Vec<RawRow>, at_end: bool) -> Result<usize, CopyDataError> {
        // The buffer is lent out so that the row builders may update the decoder's state.
        let buffer = std::mem::take(&mut self.buffer);
        let result = match self.format {
            CopyFormat::Text => self.extract_text(&buffer, rows, at_end),
            CopyFormat::Csv => self.extract_csv(&buffer, rows, at_end),
            CopyFormat::Binary => self.extract_binary(&buffer, rows),
        };
        self.buffer = buffer;
        result
    }

    fn extract_text(
        &mut self,
        buffer: &[u8],
        rows: &mut Vec<RawRow>,
        at_end: bool,
    ) -> Result<usize, CopyDataError> {
        let mut start = 0;
        while !self.ended && start < buffer.len() {
            let scan_from = self.text_scan.max(start) - start;
            let end = match text::find_line_end(&buffer[start..], scan_from) {
                Ok(end) => end,
                Err(resume) if !at_end => {
                    self.text_scan = start + resume;
                    break;
                }
                Err(_) => buffer.len() - start,
            };
            let next = (start + end + 1).min(buffer.len());
            let mut line = &buffer[start..start + end];
            if line.last() == Some(&b'\r') {
                line = &line[..line.len() - 1];
            }
            self.line += 1;
            let row = self.text_row(line)?;
            start = next;
            self.text_scan = start;
            if let Some(row) = row {
                rows.push(row);
            }
        }
        Ok(start)
    }

    fn text_row(&mut self, line: &[u8]) -> Result<Option<RawRow>, CopyDataError> {
        if self.skip_header {
            self.skip_header = false;
            return Ok(None);
        }
        if text::is_end_marker(line) {
            self.ended = true;
            return Ok(None);
        }
        let raw_fields = if self.columns == 0 && line.is_empty() {
            Vec::new()
        } else {
            text::split_raw_fields(line, self.delimiter)
        };
        self.check_field_count(raw_fields.len(), line)?;
        let fields = raw_fields
            .into_iter()
            .map(|raw| (raw != self.null.as_slice()).then(|| text::unescape(raw)))
            .collect();
        Ok(Some(RawRow {
            line: self.line,
            fields,
        }))
    }

    fn check_field_count(&self, found: usize, line: &[u8]) -> Result<(), CopyDataError> {
        if found > self.columns {
            return Err(self.error(
                SqlError::new(
                    code::BAD_COPY_FILE_FORMAT,
                    "extra data after last expected column",
                ),
                Some(line),
            ));
        }
        if found < self.columns {
            // The connection knows the column names; it rewrites this message.
            return Err(self.error(
                SqlError::new(
                    code::BAD_COPY_FILE_FORMAT,
                    format!("missing data for column #{}", found + 1),
                ),
                Some(line),
            ));
        }
        Ok(())
    }

    fn extract_csv(
        &mut self,
        buffer: &[u8],
        rows: &mut Vec<RawRow>,
        at_end: bool,
    ) -> Result<usize, CopyDataError> {
        let mut start = 0;
        while !self.ended && start < buffer.len() {
            let end = match csv::find_record_end(
                &buffer[start..],
                self.csv_scan,
                self.quote,
                self.escape,
            ) {
                Ok(end) => end,
                Err(state) if !at_end => {
                    self.csv_scan = state;
                    break;
                }
                Err(state) if state.in_quotes => {
                    self.line += 1;
                    let rest = &buffer[start..];
                    return Err(self.error(
                        SqlError::new(code::BAD_COPY_FILE_FORMAT, "unterminated CSV quoted field"),
                        Some(rest),
                    ));
                }
                Err(_) => buffer.len() - start,
            };
            let next = (start + end + 1).min(buffer.len());
            let mut record = &buffer[start..start + end];
            if record.last() == Some(&b'\r') {
                record = &record[..record.len() - 1];
            }
            self.line += 1;
            let row = self.csv_row(record)?;
            start = next;
            self.csv_scan = csv::ScanState::default();
            if let Some(row) = row {
                rows.push(row);
            }
        }
        Ok(start)
    }

    fn csv_row(&mut self, record: &[u8]) -> Result<Option<RawRow>, CopyDataError> {
        if self.skip_header {
            self.skip_header = false;
            return Ok(None);
        }
        if record == b"\\." {
            self.ended = true;
            return Ok(None);
        }
        let fields = if self.columns == 0 && record.is_empty() {
            Vec::new()
        } else {
            csv::split_record(record, self.delimiter, self.quote, self.escape).ok_or_else(|| {
                self.error(
                    SqlError::new(code::BAD_COPY_FILE_FORMAT, "unterminated CSV quoted field"),
                    Some(record),
                )
            })?
        };
        self.check_field_count(fields.len(), record)?;
        let fields = fields
            .into_iter()
            .enumerate()
            .map(|(i, field)| {
                let equals_null = field.value == self.null;
                let is_null = if field.quoted {
                    equals_null && self.force_null[i]
                } else {
                    equals_null && !self.force_not_null[i]
                };
                (!is_null).then_some(field.value)
            })
            .collect();
        Ok(Some(RawRow {
            line: self.line,
            fields,
        }))
    }

    fn extract_binary(
        &mut self,
        buffer: &[u8],
        rows: &mut Vec<RawRow>,
    ) -> Result<usize, CopyDataError> {
        let mut start = 0;
        if !self.binary_header_seen {
            match binary::parse_header(buffer).map_err(|e| self.error(e, None))? {
                Some(length) => {
                    self.binary_header_seen = true;
                    start = length;
                }
                None => return Ok(0),
            }
        }
        while !self.ended {
            match binary::parse_tuple(&buffer[start..], self.columns) {
                Ok(Some(binary::Tuple::Row(fields, used))) => {
                    self.line += 1;
                    rows.push(RawRow {
                        line: self.line,
                        fields,
                    });
                    start += used;
                }
                Ok(Some(binary::Tuple::Trailer)) => {
                    start += 2;
                    self.ended = true;
                    if start < buffer.len() {
                        return Err(self.error(
                            SqlError::new(
                                code::BAD_COPY_FILE_FORMAT,
                                "received copy data after EOF marker",
                            ),
                            None,
                        ));
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    self.line += 1;
                    return Err(self.error(error, None));
                }
            }
        }
        Ok(start)
    }
}

#[cfg(test)]
mod tests;
