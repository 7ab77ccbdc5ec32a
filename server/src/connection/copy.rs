//! COPY's sub-protocol on a connection. `COPY ... FROM STDIN`: CopyInResponse, then the
//! client's CopyData are decoded ([`crate::copy::CopyDecoder`]) into a reused buffer,
//! converted column by column (integers and text directly, other types through the text
//! input or binary decoding: [`crate::copy::fields`]) and handed to the session in batches of
//! [`BATCH_ROWS`]; an error names the line of the row that caused it. CopyDone finishes,
//! CopyFail or a vanished client aborts (nothing stays). Flush and Sync are ignored
//! meanwhile, as PostgreSQL does. `COPY ... TO STDOUT`: CopyOutResponse, one CopyData
//! per row, CopyDone.

use std::panic::{catch_unwind, AssertUnwindSafe};

use sql::dml::{CopyRowStage, CopyRowsError};
use sql::engine::{Column, CopyFormat, CopyIn, CopyOptions};
use sql::error::code;
use sql::{SqlError, SqlType};
use storage::types::{Row, Value};

use super::{guarded, ConnError, Connection};
use crate::copy::encode::CopyEncoder;
use crate::copy::fields::FieldInput;
use crate::copy::{excerpt, CopyDataError, CopyDecoder, RawRowRef, RawRows};
use crate::types::binary as wire_binary;
use crate::wire::body::{invalid_utf8, utf8};
use crate::wire::{decode_message, FrontendMessage, ReadError};

/// Rows handed to the session at a time.
pub const BATCH_ROWS: usize = 1_000;

/// Rows converted and not yet handed to the session, with their line numbers and their
/// records as they came (for the context of an error in a row's checks).
#[derive(Default)]
struct Batch {
    rows: Vec<Row>,
    lines: Vec<u64>,
    records: Vec<u8>,
    record_ends: Vec<usize>,
}

impl Batch {
    fn push(&mut self, row: Row, line: u64, record: &[u8]) {
        self.rows.push(row);
        self.lines.push(line);
        self.records.extend_from_slice(record);
        self.record_ends.push(self.records.len());
    }

    fn record(&self, index: usize) -> &[u8] {
        let start = index.checked_sub(1).map_or(0, |i| self.record_ends[i]);
        &self.records[start..self.record_ends[index]]
    }

    fn clear(&mut self) {
        self.lines.clear();
        self.records.clear();
        self.record_ends.clear();
    }
}

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
        let inputs: Vec<FieldInput> = if binary {
            vec![FieldInput::General; copy.columns.len()]
        } else {
            copy.columns
                .iter()
                .map(|c| FieldInput::of(&c.sql_type))
                .collect()
        };
        let mut raw_rows = RawRows::default();
        let mut body = Vec::new();
        let mut batch = Batch::default();
        loop {
            let tag = match self.reader.read_message_into(&mut body) {
                Ok(tag) => tag,
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
                    raw_rows.clear();
                    let fed = if tag == b'd' {
                        decoder.feed(&body, &mut raw_rows)
                    } else {
                        decoder.finish(&mut raw_rows)
                    };
                    let absorbed =
                        self.absorb(fed, &table, &mut copy, &inputs, &raw_rows, &mut batch);
                    if let Err(error) = absorbed {
                        // The COPY is over: nothing it added stays.
                        let _ = self.session.copy_in_abort(copy, "error in data");
                        return Err(error);
                    }
                    tag == b'c'
                }
                b'f' => {
                    let reason = match decode_message(tag, &body) {
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
            if done {
                if !batch.rows.is_empty() {
                    self.flush_batch(&mut copy, &mut batch, &table)?;
                }
                let session = &mut self.session;
                return Ok(guarded(|| session.copy_in_finish(copy))?);
            }
        }
    }

    /// Hands the batch to the session. On an error the COPY is over (its transaction failed).
    fn flush_batch(
        &mut self,
        copy: &mut CopyIn,
        batch: &mut Batch,
        table: &str,
    ) -> Result<(), ConnError> {
        let rows = std::mem::replace(&mut batch.rows, Vec::with_capacity(BATCH_ROWS));
        let session = &mut self.session;
        let outcome = catch_unwind(AssertUnwindSafe(|| session.copy_in_rows(copy, rows)))
            .unwrap_or_else(|_| {
                Err(CopyRowsError {
                    error: SqlError::internal("internal error while adding COPY rows"),
                    row: None,
                    stage: CopyRowStage::Insert,
                })
            });
        if let Err(failure) = outcome {
            // A panic left the transaction as it was: make sure it cannot commit.
            self.session.fail_transaction();
            let place = failure
                .row
                .and_then(|row| Some((row, *batch.lines.get(row)?)));
            let context = match (failure.stage, place) {
                (CopyRowStage::References, _) => None,
                (CopyRowStage::Checks, Some((row, line))) if !batch.record(row).is_empty() => {
                    let place = CopyPlace { table, line };
                    Some(format!(
                        "{}: \"{}\"",
                        place.context(),
                        excerpt(batch.record(row))
                    ))
                }
                (_, Some((_, line))) => Some(CopyPlace { table, line }.context()),
                (_, None) => (!table.is_empty()).then(|| format!("COPY {table}")),
            };
            return Err(ConnError::Sql(failure.error, context));
        }
        batch.clear();
        Ok(())
    }

    /// Converts what the decoder produced into rows, handing full batches to the session (or
    /// ends the COPY with its error).
    fn absorb(
        &mut self,
        fed: Result<(), CopyDataError>,
        table: &str,
        copy: &mut CopyIn,
        inputs: &[FieldInput],
        raw_rows: &RawRows,
        batch: &mut Batch,
    ) -> Result<(), ConnError> {
        let binary = copy.options.format == CopyFormat::Binary;
        for raw in raw_rows.iter() {
            let row = self.convert_row(raw, &copy.columns, inputs, binary, table)?;
            batch.push(row, raw.line, raw.record);
            if batch.rows.len() >= BATCH_ROWS {
                self.flush_batch(copy, batch, table)?;
            }
        }
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
            return Err(ConnError::Sql(sql_error, Some(context)));
        }
        Ok(())
    }

    fn convert_row(
        &self,
        raw: RawRowRef<'_>,
        columns: &[Column],
        inputs: &[FieldInput],
        binary: bool,
        table: &str,
    ) -> Result<Row, ConnError> {
        let session = &self.session;
        let place = CopyPlace {
            table,
            line: raw.line,
        };
        let mut row = Vec::with_capacity(columns.len());
        for ((field, column), input) in raw.fields().zip(columns).zip(inputs) {
            let Some(bytes) = field else {
                row.push(Value::Null);
                continue;
            };
            if let Some(value) = input.direct(bytes) {
                row.push(value);
                continue;
            }
            let sql_type: &SqlType = &column.sql_type;
            let value = if binary {
                let input = |text: &str, t: &SqlType| session.input_text(text, t);
                guarded(|| wire_binary::decode(bytes, sql_type, &input)).map_err(|e| {
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
                        excerpt(bytes)
                    )
                };
                let text = utf8(bytes).map_err(|e| ConnError::Sql(e, Some(context())))?;
                if text.contains('\0') {
                    let at = bytes.iter().position(|&b| b == 0).unwrap_or(0);
                    return Err(ConnError::Sql(invalid_utf8(bytes, at), Some(context())));
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
