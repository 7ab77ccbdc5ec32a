//! COPY data on the wire: [`CopyDecoder`] turns the CopyData stream of `COPY ... FROM STDIN`
//! into rows of raw fields (text, CSV or binary), and [`encode::CopyEncoder`] writes the rows
//! of `COPY ... TO STDOUT`. The formats themselves are in [`text`], [`csv`] and [`binary`].
//!
//! CopyData messages split the data anywhere (inside a line, a quoted field, a tuple); the
//! decoder buffers the incomplete tail and resumes its scan where it stopped, so a long record
//! arriving in many pieces is scanned once. A record may not exceed [`MAX_RECORD_BYTES`].
//! Fields stay bytes here, written one after the other into a [`RawRows`] that the connection
//! reuses from one message to the next (no allocation per row or field); the connection
//! converts them to values column by column ([`fields`]), so an error can name its line and
//! column as PostgreSQL's CONTEXT does (`COPY t, line 3, column a: "x"`).

pub mod binary;
pub mod csv;
pub mod encode;
pub mod fields;
pub mod text;

use sql::engine::{CopyFormat, CopyOptions};
use sql::error::code;
use sql::SqlError;

/// Largest line (text, CSV) or tuple (binary) that COPY FROM accepts.
pub const MAX_RECORD_BYTES: usize = 256 << 20;
/// Longest excerpt of a line quoted in an error's context (PostgreSQL's
/// `limit_printout_length` uses the same bound).
const MAX_CONTEXT_BYTES: usize = 512;

/// One row of COPY input, owned: its line number (1-based, counting the header) and its
/// fields (`None` for NULL) as bytes: unescaped text for text and CSV, binary values for
/// binary.
#[cfg(test)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRow {
    pub line: u64,
    pub fields: Vec<Option<Vec<u8>>>,
}

/// Where one field's bytes are in [`RawRows`]; `start == NULL_FIELD` for NULL.
#[derive(Debug, Clone, Copy)]
struct FieldSpan {
    start: usize,
    end: usize,
}

const NULL_FIELD: usize = usize::MAX;

/// Rows of COPY input as the decoder produced them: the bytes of every field (unescaped) in
/// one buffer, a span per field, a line number and a first field per row. Cleared and refilled
/// for each CopyData message, keeping its capacity.
#[derive(Debug, Default)]
pub struct RawRows {
    bytes: Vec<u8>,
    fields: Vec<FieldSpan>,
    /// Per row: its line and the index of its first field in `fields`.
    rows: Vec<(u64, usize)>,
    /// The text or CSV records as they came (for error contexts), one after the other.
    records: Vec<u8>,
    /// Per row: where its record ends in `records`.
    record_ends: Vec<usize>,
}

/// One row of a [`RawRows`].
#[derive(Debug, Clone, Copy)]
pub struct RawRowRef<'a> {
    pub line: u64,
    /// The record as it came (text and CSV; empty for binary), for error contexts.
    pub record: &'a [u8],
    fields: &'a [FieldSpan],
    bytes: &'a [u8],
}

impl<'a> RawRowRef<'a> {
    /// The row's fields in order, `None` for NULL.
    pub fn fields(&self) -> impl Iterator<Item = Option<&'a [u8]>> + 'a {
        let bytes = self.bytes;
        self.fields
            .iter()
            .map(move |span| (span.start != NULL_FIELD).then(|| &bytes[span.start..span.end]))
    }

    /// The row as an owned [`RawRow`].
    #[cfg(test)]
    pub fn to_owned_row(self) -> RawRow {
        RawRow {
            line: self.line,
            fields: self.fields().map(|f| f.map(<[u8]>::to_vec)).collect(),
        }
    }
}

impl RawRows {
    /// Forgets the rows, keeping the memory.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.fields.clear();
        self.rows.clear();
        self.records.clear();
        self.record_ends.clear();
    }

    pub fn row(&self, index: usize) -> RawRowRef<'_> {
        let (line, first) = self.rows[index];
        let end = self
            .rows
            .get(index + 1)
            .map_or(self.fields.len(), |&(_, next)| next);
        let record_start = index.checked_sub(1).map_or(0, |i| self.record_ends[i]);
        RawRowRef {
            line,
            record: &self.records[record_start..self.record_ends[index]],
            fields: &self.fields[first..end],
            bytes: &self.bytes,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = RawRowRef<'_>> {
        (0..self.rows.len()).map(|i| self.row(i))
    }

    /// Starts a row (`record` is its text as it came); its fields follow with
    /// [`RawRows::push_field`] / [`RawRows::push_null`].
    fn begin_row(&mut self, line: u64, record: &[u8]) {
        self.rows.push((line, self.fields.len()));
        self.records.extend_from_slice(record);
        self.record_ends.push(self.records.len());
    }

    /// Undoes the row begun last (its fields were refused).
    fn discard_row(&mut self) {
        if self.record_ends.pop().is_some() {
            let end = self.record_ends.last().copied().unwrap_or(0);
            self.records.truncate(end);
        }
        if let Some((_, first)) = self.rows.pop() {
            if let Some(span) = self.fields[first..].iter().find(|s| s.start != NULL_FIELD) {
                self.bytes.truncate(span.start);
            }
            self.fields.truncate(first);
        }
    }

    fn push_field(&mut self, bytes: &[u8]) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(bytes);
        self.fields.push(FieldSpan {
            start,
            end: self.bytes.len(),
        });
    }

    /// A field whose bytes were appended to [`RawRows::bytes`] from `start` on.
    fn push_written(&mut self, start: usize) {
        self.fields.push(FieldSpan {
            start,
            end: self.bytes.len(),
        });
    }

    fn push_null(&mut self) {
        self.fields.push(FieldSpan {
            start: NULL_FIELD,
            end: NULL_FIELD,
        });
    }

    /// Fields of the row begun last.
    fn current_fields(&self) -> usize {
        self.rows
            .last()
            .map_or(0, |&(_, first)| self.fields.len() - first)
    }
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
    /// Fields of the CSV record being split (scratch space kept between records).
    csv_fields: Vec<csv::CsvSpan>,
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
            csv_fields: Vec::new(),
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
    pub fn feed(&mut self, data: &[u8], rows: &mut RawRows) -> Result<(), CopyDataError> {
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
    pub fn finish(&mut self, rows: &mut RawRows) -> Result<(), CopyDataError> {
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
    fn extract(&mut self, rows: &mut RawRows, at_end: bool) -> Result<usize, CopyDataError> {
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
        rows: &mut RawRows,
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
            self.text_row(line, rows)?;
            start = next;
            self.text_scan = start;
        }
        Ok(start)
    }

    fn text_row(&mut self, line: &[u8], rows: &mut RawRows) -> Result<(), CopyDataError> {
        if self.skip_header {
            self.skip_header = false;
            return Ok(());
        }
        if text::is_end_marker(line) {
            self.ended = true;
            return Ok(());
        }
        rows.begin_row(self.line, line);
        if !(self.columns == 0 && line.is_empty()) {
            for raw in text::RawFields::new(line, self.delimiter) {
                if rows.current_fields() == self.columns {
                    // One more than expected: reported by the count check below.
                    rows.push_null();
                    break;
                }
                if raw == self.null.as_slice() {
                    rows.push_null();
                } else {
                    let start = rows.bytes.len();
                    text::unescape_into(raw, &mut rows.bytes);
                    rows.push_written(start);
                }
            }
        }
        let found = rows.current_fields();
        if let Err(error) = self.check_field_count(found, line) {
            rows.discard_row();
            return Err(error);
        }
        Ok(())
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
        rows: &mut RawRows,
        at_end: bool,
    ) -> Result<usize, CopyDataError> {
        let mut start = 0;
        let options = (self.delimiter, self.quote, self.escape);
        let mut spans = std::mem::take(&mut self.csv_fields);
        while !self.ended && start < buffer.len() {
            if self.csv_scan == csv::ScanState::default() {
                // The usual case: the whole record is in the buffer, split in one pass.
                spans.clear();
                let bytes_before = rows.bytes.len();
                match csv::split_complete_record(
                    &buffer[start..],
                    options,
                    &mut rows.bytes,
                    &mut spans,
                ) {
                    Some(end) => {
                        let mut record = &buffer[start..start + end];
                        if record.last() == Some(&b'\r') {
                            record = &record[..record.len() - 1];
                        }
                        self.line += 1;
                        let added = self.csv_fields_to_row(record, &spans, bytes_before, rows);
                        if let Err(error) = added {
                            self.csv_fields = spans;
                            return Err(error);
                        }
                        start += end + 1;
                        continue;
                    }
                    None => rows.bytes.truncate(bytes_before),
                }
            }
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
            spans.clear();
            let added = self.csv_row(record, &mut spans, rows);
            if let Err(error) = added {
                self.csv_fields = spans;
                return Err(error);
            }
            start = next;
            self.csv_scan = csv::ScanState::default();
        }
        self.csv_fields = spans;
        Ok(start)
    }

    /// Splits one record (the general path, for records that arrived in pieces) and adds it.
    fn csv_row(
        &mut self,
        record: &[u8],
        spans: &mut Vec<csv::CsvSpan>,
        rows: &mut RawRows,
    ) -> Result<(), CopyDataError> {
        let bytes_before = rows.bytes.len();
        let split = csv::split_record_into(
            record,
            (self.delimiter, self.quote, self.escape),
            &mut rows.bytes,
            spans,
        );
        if !split && !self.skip_header && record != b"\\." {
            rows.bytes.truncate(bytes_before);
            return Err(self.error(
                SqlError::new(code::BAD_COPY_FILE_FORMAT, "unterminated CSV quoted field"),
                Some(record),
            ));
        }
        self.csv_fields_to_row(record, spans, bytes_before, rows)
    }

    /// Adds a split record (its fields appended to `rows.bytes` from `bytes_before` on) as a
    /// row, unless it is the header or the end marker.
    fn csv_fields_to_row(
        &mut self,
        record: &[u8],
        spans: &[csv::CsvSpan],
        bytes_before: usize,
        rows: &mut RawRows,
    ) -> Result<(), CopyDataError> {
        if self.skip_header {
            self.skip_header = false;
            rows.bytes.truncate(bytes_before);
            return Ok(());
        }
        if record == b"\\." {
            self.ended = true;
            rows.bytes.truncate(bytes_before);
            return Ok(());
        }
        let found = if self.columns == 0 && record.is_empty() {
            0
        } else {
            spans.len()
        };
        if let Err(error) = self.check_field_count(found, record) {
            rows.bytes.truncate(bytes_before);
            return Err(error);
        }
        rows.begin_row(self.line, record);
        for (i, span) in spans.iter().take(found).enumerate() {
            let equals_null = rows.bytes[span.start..span.end] == self.null[..];
            let is_null = if span.quoted {
                equals_null && self.force_null[i]
            } else {
                equals_null && !self.force_not_null[i]
            };
            if is_null {
                rows.push_null();
            } else {
                rows.fields.push(FieldSpan {
                    start: span.start,
                    end: span.end,
                });
            }
        }
        Ok(())
    }

    fn extract_binary(
        &mut self,
        buffer: &[u8],
        rows: &mut RawRows,
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
                    rows.begin_row(self.line, &[]);
                    for field in &fields {
                        match field {
                            Some(bytes) => rows.push_field(bytes),
                            None => rows.push_null(),
                        }
                    }
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
