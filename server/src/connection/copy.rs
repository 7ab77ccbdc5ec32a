//! COPY's sub-protocol on a connection. `COPY ... FROM STDIN`: CopyInResponse, then the
//! client's CopyData are decoded ([`crate::copy::CopyDecoder`]), converted column by column
//! (text input or binary decoding) and handed to the session in batches of [`BATCH_ROWS`];
//! CopyDone finishes, CopyFail or a vanished client aborts (nothing stays). Flush and Sync are
//! ignored meanwhile, as PostgreSQL does. `COPY ... TO STDOUT`: CopyOutResponse, one CopyData
//! per row, CopyDone.

use sql::engine::{Column, CopyFormat, CopyIn, CopyOptions};
use sql::error::code;
use sql::{SqlError, SqlType};
use storage::types::{Row, Value};

use super::{guarded, ConnError, Connection};
use crate::copy::encode::CopyEncoder;
use crate::copy::{excerpt, CopyDataError, CopyDecoder, RawRow};
use crate::types::binary as wire_binary;
use crate::wire::body::{invalid_utf8, utf8};
use crate::wire::{decode_message, FrontendMessage, ReadError};

/// Rows handed to the session at a time.
pub const BATCH_ROWS: usize = 1_000;

/// Where a COPY FROM is, for the CONTEXT of its errors (`COPY t, line 3, column a: "x"`).
struct CopyPlace<'a> {
    table: &'a str,
    line: u64,
}

impl CopyPlace<'_> {
    fn context(&self) -> String {
        if self.table.is_empty() {
            format!("COPY, line {}", self.line)
        } else {
            format!("COPY {}, line {}", self.table, self.line)
        }
    }
}

impl Connection {
    /// The name of the table a COPY writes (for error contexts).
    fn copy_table_name(&self, columns: &[Column]) -> String {
        let Some(oid) = columns.first().map(|c| c.table_oid).filter(|&o| o != 0) else {
            return String::new();
        };
        let catalog = self.shared.database.storage().catalog();
        catalog
            .tables
            .get(&oid)
            .map(|t| t.name.clone())
            .unwrap_or_default()
    }

    /// Runs a COPY FROM STDIN to its end; returns the command tag.
    pub(super) fn copy_in(&mut self, mut copy: CopyIn) -> Result<String, ConnError> {
        let table = self.copy_table_name(&copy.columns);
        let mut decoder = match CopyDecoder::new(&copy.options, copy.columns.len()) {
            Ok(decoder) => decoder,
            Err(error) => {
                let _ = self.session.copy_in_abort(copy, &error.message);
                return Err(error.into());
            }
        };
        let binary = copy.options.format == CopyFormat::Binary;
        self.writer
            .copy_response(b'G', binary, copy.columns.len())?;
        self.writer.flush()?;
        let mut raw_rows = Vec::new();
        let mut batch: Vec<Row> = Vec::with_capacity(BATCH_ROWS);
        loop {
            let (tag, body) = match self.reader.read_message() {
                Ok(message) => message,
                Err(error) => {
                    let _ = self.session.copy_in_abort(copy, "client disconnected");
                    return Err(match error {
                        ReadError::Closed => ConnError::Disconnected,
                        ReadError::Fatal(e) => ConnError::Fatal(e),
                    });
                }
            };
            let done = match tag {
                b'd' | b'c' => {
                    let fed = if tag == b'd' {
                        decoder.feed(&body, &mut raw_rows)
                    } else {
                        decoder.finish(&mut raw_rows)
                    };
                    if let Err(error) = self.absorb(fed, &table, &copy, &mut raw_rows, &mut batch) {
                        // The COPY is over: nothing it added stays.
                        let _ = self.session.copy_in_abort(copy, "error in data");
                        return Err(error);
                    }
                    tag == b'c'
                }
                b'f' => {
                    let reason = match decode_message(tag, body) {
                        Ok(FrontendMessage::CopyFail(reason)) => reason,
                        _ => String::new(),
                    };
                    let error = self.session.copy_in_abort(copy, &reason);
                    return Err(error.into());
                }
                b'H' | b'S' => false,
                other => {
                    let _ = self.session.copy_in_abort(copy, "unexpected message");
                    return Err(SqlError::new(
                        code::PROTOCOL_VIOLATION,
                        format!("unexpected message type 0x{other:02X} during COPY from stdin"),
                    )
                    .into());
                }
            };
            if batch.len() >= BATCH_ROWS || (done && !batch.is_empty()) {
                let rows = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS));
                let session = &mut self.session;
                if let Err(error) = guarded(|| session.copy_in_rows(&mut copy, rows)) {
                    drop(copy);
                    let context = (!table.is_empty()).then(|| format!("COPY {table}"));
                    return Err(ConnError::Sql(error, context));
                }
            }
            if done {
                let session = &mut self.session;
                return Ok(guarded(|| session.copy_in_finish(copy))?);
            }
        }
    }

    /// Converts what the decoder produced into rows (or ends the COPY with its error).
    fn absorb(
        &mut self,
        fed: Result<(), CopyDataError>,
        table: &str,
        copy: &CopyIn,
        raw_rows: &mut Vec<RawRow>,
        batch: &mut Vec<Row>,
    ) -> Result<(), ConnError> {
        let binary = copy.options.format == CopyFormat::Binary;
        let mut failure = None;
        for raw in raw_rows.drain(..) {
            match self.convert_row(raw, &copy.columns, binary, table) {
                Ok(row) => batch.push(row),
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        raw_rows.clear();
        if failure.is_none() {
            if let Err(error) = fed {
                let place = CopyPlace {
                    table,
                    line: error.line,
                };
                let mut sql_error = *error.error;
                if let Some(index) = sql_error
                    .message
                    .strip_prefix("missing data for column #")
                    .and_then(|n| n.parse::<usize>().ok())
                {
                    if let Some(column) = copy.columns.get(index.wrapping_sub(1)) {
                        sql_error.message = format!("missing data for column \"{}\"", column.name);
                    }
                }
                let context = match &error.excerpt {
                    Some(line) => format!("{}: \"{line}\"", place.context()),
                    None => place.context(),
                };
                failure = Some(ConnError::Sql(sql_error, Some(context)));
            }
        }
        match failure {
            None => Ok(()),
            Some(error) => Err(error),
        }
    }

    fn convert_row(
        &self,
        raw: RawRow,
        columns: &[Column],
        binary: bool,
        table: &str,
    ) -> Result<Row, ConnError> {
        let session = &self.session;
        let place = CopyPlace {
            table,
            line: raw.line,
        };
        let mut row = Vec::with_capacity(columns.len());
        for (field, column) in raw.fields.into_iter().zip(columns) {
            let Some(bytes) = field else {
                row.push(Value::Null);
                continue;
            };
            let sql_type: &SqlType = &column.sql_type;
            let value = if binary {
                let input = |text: &str, t: &SqlType| session.input_text(text, t);
                guarded(|| wire_binary::decode(&bytes, sql_type, &input)).map_err(|e| {
                    ConnError::Sql(
                        e,
                        Some(format!("{}, column {}", place.context(), column.name)),
                    )
                })?
            } else {
                let context = || {
                    format!(
                        "{}, column {}: \"{}\"",
                        place.context(),
                        column.name,
                        excerpt(&bytes)
                    )
                };
                let text = utf8(&bytes).map_err(|e| ConnError::Sql(e, Some(context())))?;
                if text.contains('\0') {
                    let at = bytes.iter().position(|&b| b == 0).unwrap_or(0);
                    return Err(ConnError::Sql(invalid_utf8(&bytes, at), Some(context())));
                }
                guarded(|| session.input_text(text, sql_type))
                    .map_err(|e| ConnError::Sql(e, Some(context())))?
            };
            row.push(value);
        }
        Ok(row)
    }

    /// Sends the rows of a COPY TO STDOUT; returns the command tag.
    pub(super) fn copy_out(
        &mut self,
        columns: &[Column],
        rows: &[Row],
        options: &CopyOptions,
    ) -> Result<String, ConnError> {
        let encoder = CopyEncoder::new(options, columns.len());
        self.writer
            .copy_response(b'H', encoder.is_binary(), columns.len())?;
        if let Some(prologue) = encoder.prologue(columns) {
            self.writer.copy_data(&prologue)?;
        }
        let session = &self.session;
        let output = |value: &Value, sql_type: &SqlType| session.output_text(value, sql_type);
        let mut buffer = Vec::new();
        for row in rows {
            buffer.clear();
            encoder.row(row, columns, &output, &mut buffer)?;
            self.writer.copy_data(&buffer)?;
        }
        if let Some(epilogue) = encoder.epilogue() {
            self.writer.copy_data(&epilogue)?;
        }
        self.writer.copy_done()?;
        Ok(format!("COPY {}", rows.len()))
    }
}
