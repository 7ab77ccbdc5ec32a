//! One client connection, on its own thread, from the first byte to the last: start-up and
//! authentication ([`startup`]), then the message loop that drives a [`Session`]: the simple
//! query protocol ([`simple`]), the extended protocol ([`extended`]) and COPY ([`copy`]).
//!
//! Contract with the rest of the server: the thread owns the socket and the session; it ends
//! when the client terminates or vanishes (the session is closed, so an open transaction rolls
//! back), on a protocol violation (after a FATAL), or at shutdown (FATAL 57P01 once the
//! connection is idle). No input may panic the thread; a panic inside the engine is caught per
//! message and becomes `XX000` for that statement, the connection carries on.
//!
//! Output is buffered and flushed before every blocking read, so the client always has every
//! answer to what it sent before the server waits for more.

mod copy;
mod extended;
mod simple;
pub mod startup;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use sql::engine::{Column, Prepared, Session, TransactionStatus};
use sql::error::code;
use sql::{SqlError, SqlType};
use storage::types::{Row, Value};

use crate::registry::SlotGuard;
use crate::server::Shared;
use crate::tls::NetStream;
use crate::types::binary as wire_binary;
use crate::types::text as wire_text;
use crate::wire::{
    decode_message, BackendWriter, FieldDescription, FrontendMessage, FrontendReader, ReadError,
    Severity,
};

/// Why handling a message stopped early.
#[derive(Debug)]
pub enum ConnError {
    /// An ERROR for the client (with an optional CONTEXT line); the connection goes on.
    Sql(SqlError, Option<String>),
    /// A FATAL error: report it and close.
    Fatal(SqlError),
    /// The client is gone (or the socket failed): close without a word.
    Disconnected,
}

impl From<SqlError> for ConnError {
    fn from(error: SqlError) -> ConnError {
        ConnError::Sql(error, None)
    }
}

impl From<io::Error> for ConnError {
    fn from(_: io::Error) -> ConnError {
        ConnError::Disconnected
    }
}

impl From<ReadError> for ConnError {
    fn from(error: ReadError) -> ConnError {
        match error {
            ReadError::Closed => ConnError::Disconnected,
            ReadError::Fatal(e) => ConnError::Fatal(e),
        }
    }
}

/// Runs `f`, turning a panic into an internal error (`XX000`) so that a bug in one statement
/// does not end the connection.
pub fn guarded<T>(f: impl FnOnce() -> Result<T, SqlError>) -> Result<T, SqlError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let detail = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(SqlError::internal(format!("internal error: {detail}")))
    })
}

/// A message buffer past this capacity is released after its message.
const MAX_KEPT_BODY_BYTES: usize = 1 << 20;

/// The message every connection gets at shutdown.
pub fn admin_shutdown() -> SqlError {
    SqlError::new(
        code::ADMIN_SHUTDOWN,
        "terminating connection due to administrator command",
    )
}

/// A statement prepared with Parse (`None` for an empty query string), shared with the
/// portals bound to it.
struct PreparedStatement {
    prepared: Option<Arc<Prepared>>,
    /// Parameter types as ParameterDescription reports them.
    param_type_oids: Vec<u32>,
}

/// What a portal has left to send.
enum PortalState {
    /// Bound, not executed yet.
    Ready,
    /// Executed; rows not yet fetched (Execute with a row limit).
    Rows {
        columns: Vec<Column>,
        rows: std::vec::IntoIter<Row>,
        tag: String,
        suspended: bool,
    },
    /// A row-returning portal whose rows were all sent, with the tag it completed with:
    /// running it again sends no rows and completes with that tag's count at 0 (`SELECT 0`).
    Exhausted { tag: String },
    /// A command that ran (or failed): it cannot run again.
    Finished,
    /// An empty query string.
    Empty,
}

/// `tag` with its row count replaced (`SELECT 5` → `SELECT 2`, `INSERT 0 5` → `INSERT 0 2`).
fn with_row_count(tag: &str, count: usize) -> String {
    match tag.rsplit_once(' ') {
        Some((head, last)) if last.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{head} {count}")
        }
        _ => tag.to_string(),
    }
}

struct Portal {
    prepared: Option<Arc<Prepared>>,
    params: Vec<Value>,
    /// Result format codes as Bind sent them (none, one for all, or one per column).
    result_formats: Vec<i16>,
    state: PortalState,
}

/// Prepared statements or portals by name. Names are short and come from the connection's
/// own client (which can only slow itself down), so a cheap hash (FxHash's) serves better
/// than SipHash on the path of every Bind and Execute.
type NameMap<T> = HashMap<String, T, BuildHasherDefault<NameHasher>>;

#[derive(Default)]
struct NameHasher(u64);

impl Hasher for NameHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 =
                (self.0.rotate_left(5) ^ u64::from(byte)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
}

/// The format code of result column `index` given Bind's list.
fn format_code(formats: &[i16], index: usize) -> i16 {
    match formats {
        [] => 0,
        [all] => *all,
        many => many.get(index).copied().unwrap_or(0),
    }
}

/// The type a client is told about: `unknown` (an untyped literal or parameter) is reported as
/// `text`, as PostgreSQL resolves it before describing a result or a parameter.
fn described_type(sql_type: &SqlType) -> &SqlType {
    if *sql_type == SqlType::Unknown {
        &SqlType::Text
    } else {
        sql_type
    }
}

/// RowDescription fields for `columns` with the given format codes.
fn field_descriptions(columns: &[Column], formats: &[i16]) -> Vec<FieldDescription> {
    columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let sql_type = described_type(&column.sql_type);
            FieldDescription {
                name: column.name.clone(),
                table_oid: column.table_oid,
                column_number: column.column_number,
                type_oid: sql_type.oid(),
                type_len: sql_type.typlen(),
                type_modifier: sql_type.typmod(),
                format: format_code(formats, i),
            }
        })
        .collect()
}

/// An authenticated connection with its session.
pub struct Connection {
    reader: FrontendReader<NetStream>,
    writer: BackendWriter<NetStream>,
    guard: SlotGuard,
    /// This connection's place under its role's CONNECTION LIMIT.
    _role_slot: crate::auth::login::RoleSlot,
    shared: Arc<Shared>,
    session: Session,
    statements: NameMap<PreparedStatement>,
    portals: NameMap<Portal>,
    /// After an error in an extended-protocol message, everything up to Sync is discarded.
    skip_until_sync: bool,
}

/// What the loop does after a message.
enum Flow {
    Continue,
    Terminate,
}

impl Connection {
    /// Serves the client until it leaves; closes the session.
    fn run(mut self) {
        let result = self.message_loop();
        if let Err(ConnError::Fatal(error)) = &result {
            let _ = self.writer.error_response(Severity::Fatal, error, None);
            let _ = self.writer.flush();
        }
        let Connection { session, .. } = self;
        let _ = catch_unwind(AssertUnwindSafe(|| session.close()));
    }

    fn message_loop(&mut self) -> Result<(), ConnError> {
        // Every message is read into this buffer; a large one does not stay allocated.
        let mut body = Vec::new();
        loop {
            if body.capacity() > MAX_KEPT_BODY_BYTES {
                body = Vec::new();
            }
            if !self.reader.has_buffered() {
                self.writer.flush()?;
                if !self.guard.slot().enter_idle(self.guard.registry()) {
                    return Err(ConnError::Fatal(admin_shutdown()));
                }
            }
            let tag = match self.reader.read_message_into(&mut body) {
                Ok(tag) => tag,
                Err(ReadError::Closed) if self.guard.slot().is_closing() => {
                    return Err(ConnError::Fatal(admin_shutdown()))
                }
                Err(error) => return Err(error.into()),
            };
            if !self.guard.slot().leave_idle() {
                return Err(ConnError::Fatal(admin_shutdown()));
            }
            if let Flow::Terminate = self.handle(tag, &body)? {
                return Ok(());
            }
        }
    }

    /// Handles one message; engine panics become errors of the message.
    fn handle(&mut self, tag: u8, body: &[u8]) -> Result<Flow, ConnError> {
        let extended = matches!(tag, b'P' | b'B' | b'D' | b'E' | b'C' | b'H' | b'S');
        if self.skip_until_sync && tag != b'S' && tag != b'X' {
            return Ok(Flow::Continue);
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| self.dispatch(tag, body)));
        let result = match outcome {
            Ok(result) => result,
            Err(_) => {
                self.writer.abandon_message();
                Err(ConnError::Sql(
                    SqlError::internal("internal error while handling the message"),
                    None,
                ))
            }
        };
        match result {
            Ok(flow) => Ok(flow),
            Err(ConnError::Sql(error, context)) => {
                self.report_error(&error, context.as_deref())?;
                if extended {
                    self.skip_until_sync = true;
                } else {
                    self.ready_for_query()?;
                }
                Ok(Flow::Continue)
            }
            Err(other) => Err(other),
        }
    }

    fn dispatch(&mut self, tag: u8, body: &[u8]) -> Result<Flow, ConnError> {
        let message = match decode_message(tag, body) {
            Ok(message) => message,
            // A CopyFail with a bad string outside COPY: ignored like any stray COPY message.
            Err(_) if tag == b'f' => return Ok(Flow::Continue),
            Err(error) => return Err(error.into()),
        };
        match message {
            FrontendMessage::Query(sql) => self.simple_query(&sql)?,
            FrontendMessage::Parse {
                name,
                query,
                param_type_oids,
            } => self.parse(name, &query, &param_type_oids)?,
            FrontendMessage::Bind {
                portal,
                statement,
                param_formats,
                params,
                result_formats,
            } => self.bind(portal, &statement, &param_formats, params, result_formats)?,
            FrontendMessage::Describe { kind, name } => self.describe(kind, &name)?,
            FrontendMessage::Execute { portal, max_rows } => self.execute(&portal, max_rows)?,
            FrontendMessage::Close { kind, name } => self.close(kind, &name)?,
            FrontendMessage::Sync => self.sync()?,
            FrontendMessage::Flush => self.writer.flush()?,
            FrontendMessage::Terminate => return Ok(Flow::Terminate),
            // Stray COPY messages (after a failed COPY) are dropped, as PostgreSQL does.
            FrontendMessage::CopyData(_)
            | FrontendMessage::CopyDone
            | FrontendMessage::CopyFail(_) => {}
            FrontendMessage::FunctionCall => {
                return Err(SqlError::new(
                    code::FEATURE_NOT_SUPPORTED,
                    "fast-path function calls are not supported",
                )
                .into())
            }
            FrontendMessage::Authentication(_) => {
                return Err(ConnError::Fatal(SqlError::new(
                    code::PROTOCOL_VIOLATION,
                    format!("invalid frontend message type {tag}"),
                )))
            }
        }
        Ok(Flow::Continue)
    }

    /// Sends an error (after the notices raised before it); the transaction fails.
    fn report_error(&mut self, error: &SqlError, context: Option<&str>) -> Result<(), ConnError> {
        let session = &mut self.session;
        let _ = guarded(|| {
            session.fail_transaction();
            Ok(())
        });
        self.send_notices()?;
        self.writer
            .error_response(Severity::Error, error, context)?;
        Ok(())
    }

    fn send_notices(&mut self) -> Result<(), ConnError> {
        for notice in self.session.take_notices() {
            self.writer.notice_response(
                notice.severity,
                notice.code,
                &notice.message,
                notice.detail.as_deref(),
                notice.hint.as_deref(),
            )?;
        }
        Ok(())
    }

    /// Notices, changed parameters, then ReadyForQuery with the transaction status.
    fn ready_for_query(&mut self) -> Result<(), ConnError> {
        self.send_notices()?;
        for (name, value) in self.session.take_parameter_changes() {
            self.writer.parameter_status(&name, &value)?;
        }
        if self.session.transaction_status() == TransactionStatus::Idle {
            // Portals live as long as their transaction.
            self.portals.clear();
        }
        let status = self.session.transaction_status().indicator();
        self.writer.ready_for_query(status)?;
        Ok(())
    }

    /// Writes one DataRow; `formats` are Bind's result format codes.
    fn send_data_row(
        &mut self,
        row: &[Value],
        columns: &[Column],
        formats: &[i16],
    ) -> Result<(), ConnError> {
        if row.len() != columns.len() {
            return Err(SqlError::internal(format!(
                "row has {} values for {} columns",
                row.len(),
                columns.len()
            ))
            .into());
        }
        self.writer.begin_data_row(row.len());
        for (i, (value, column)) in row.iter().zip(columns).enumerate() {
            if value.is_null() {
                self.writer.data_null();
            } else if format_code(formats, i) == 1 {
                let encoded = self
                    .writer
                    .data_value_with(|out| wire_binary::encode(value, &column.sql_type, out));
                if let Err(error) = encoded {
                    self.writer.abandon_message();
                    return Err(error.into());
                }
            } else {
                let direct = self
                    .writer
                    .data_value_if(|out| wire_text::write_direct(value, &column.sql_type, out));
                if !direct {
                    let text = self.session.output_text(value, &column.sql_type);
                    self.writer.data_value(text.as_bytes());
                }
            }
        }
        self.writer.end_data_row()?;
        Ok(())
    }
}

#[cfg(test)]
mod test_client;
#[cfg(test)]
mod tests_query;
#[cfg(test)]
mod tests_startup;
