//! The types the wire layer exchanges with a session: result columns, outcomes of a statement,
//! notices, transaction status and COPY options.

use storage::types::Row;

use crate::error::SqlError;
use crate::pgtype::SqlType;

/// A result column as RowDescription describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    /// OID of the table the column comes from, 0 if it is computed.
    pub table_oid: u32,
    /// The column's `attnum` in that table, 0 if computed.
    pub column_number: i16,
    pub sql_type: SqlType,
}

impl Column {
    pub fn computed(name: impl Into<String>, sql_type: SqlType) -> Column {
        Column {
            name: name.into(),
            table_oid: 0,
            column_number: 0,
            sql_type,
        }
    }
}

/// Transaction status as ReadyForQuery reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionStatus {
    /// `I`: not in a transaction block.
    Idle,
    /// `T`: in a transaction block.
    InBlock,
    /// `E`: in a failed transaction block; statements are refused until ROLLBACK.
    Failed,
}

impl TransactionStatus {
    pub fn indicator(self) -> u8 {
        match self {
            TransactionStatus::Idle => b'I',
            TransactionStatus::InBlock => b'T',
            TransactionStatus::Failed => b'E',
        }
    }
}

/// A NoticeResponse (or a WARNING).
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// `NOTICE`, `WARNING`, `INFO`...
    pub severity: &'static str,
    pub code: &'static str,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

/// COPY's data format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyFormat {
    Text,
    Csv,
    Binary,
}

/// The options of a COPY statement, with PostgreSQL's defaults filled in for the format.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyOptions {
    pub format: CopyFormat,
    /// Tab for text, comma for CSV.
    pub delimiter: char,
    /// `\N` for text, empty for CSV.
    pub null: String,
    pub header: bool,
    /// CSV only: `"` by default.
    pub quote: char,
    /// CSV only: same as `quote` by default.
    pub escape: char,
    /// CSV: columns always quoted on output (`FORCE_QUOTE`), by position in the column list.
    pub force_quote: Vec<usize>,
    /// CSV: columns whose unquoted empty input is not NULL (`FORCE_NOT_NULL`).
    pub force_not_null: Vec<usize>,
    /// CSV: columns whose quoted input equal to the NULL string is NULL (`FORCE_NULL`).
    pub force_null: Vec<usize>,
}

impl CopyOptions {
    pub fn defaults(format: CopyFormat) -> CopyOptions {
        let csv = format == CopyFormat::Csv;
        CopyOptions {
            format,
            delimiter: if csv { ',' } else { '\t' },
            null: if csv { String::new() } else { "\\N".into() },
            header: false,
            quote: '"',
            escape: '"',
            force_quote: Vec::new(),
            force_not_null: Vec::new(),
            force_null: Vec::new(),
        }
    }
}

/// What executing one statement produced.
pub enum Outcome {
    /// Rows (a query, or DML with RETURNING) and the command tag (`SELECT 3`, `INSERT 0 3`).
    Rows {
        columns: Vec<Column>,
        rows: Vec<Row>,
        tag: String,
    },
    /// A statement without rows: its command tag (`CREATE TABLE`, `UPDATE 5`, `BEGIN`).
    Command { tag: String },
    /// `COPY ... FROM STDIN`: the server reads CopyData, turns it into rows with
    /// [`crate::Session::input_text`] (or the binary decoder) and hands them to
    /// [`crate::Session::copy_in_rows`], then calls `copy_in_finish` or `copy_in_abort`.
    CopyIn(CopyIn),
    /// `COPY ... TO STDOUT`: rows to be written in the given format.
    CopyOut {
        columns: Vec<Column>,
        rows: Vec<Row>,
        options: CopyOptions,
    },
    /// An empty query string.
    Empty,
}

/// A COPY FROM STDIN in progress. Dropping it without `copy_in_finish` leaves nothing behind.
pub struct CopyIn {
    /// The columns the data supplies, in order.
    pub columns: Vec<Column>,
    pub options: CopyOptions,
    pub(crate) target: crate::engine::copy::CopyTarget,
}

/// Turns any error into the outcome of a failed statement (used by the wire layer).
pub fn describe_error(error: &SqlError) -> String {
    format!("{}: {}", error.code, error.message)
}
