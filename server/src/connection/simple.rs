//! The simple query protocol: a Query message holds one or more statements, run in order in
//! one implicit transaction (unless they open their own), each answered with RowDescription,
//! DataRows (text) and CommandComplete, or with COPY's sub-protocol; the first error skips the
//! rest; ReadyForQuery ends the answer.
//!
//! The implicit transaction is committed before the last statement's CommandComplete, so a
//! client that sees `INSERT 0 1` knows the row is durable; a failed commit is reported in its
//! place.

use sql::engine::{Column, Outcome};
use sql::SqlError;
use storage::types::Row;

use super::{field_descriptions, guarded, ConnError, Connection};

impl Connection {
    /// Handles a Query message, ReadyForQuery included.
    pub(super) fn simple_query(&mut self, sql: &str) -> Result<(), ConnError> {
        // As in PostgreSQL, a simple query discards the unnamed statement and portal.
        self.statements.remove("");
        self.portals.remove("");
        match self.run_statements(sql) {
            Ok(()) => {}
            Err(ConnError::Sql(error, context)) => {
                self.writer.abandon_message();
                self.report_error(&error, context.as_deref())?
            }
            Err(other) => return Err(other),
        }
        self.ready_for_query()
    }

    fn run_statements(&mut self, sql: &str) -> Result<(), ConnError> {
        let session = &mut self.session;
        let statements = guarded(|| session.parse(sql))?;
        if statements.is_empty() {
            self.writer.empty_query_response()?;
            return Ok(());
        }
        let count = statements.len();
        for (index, statement) in statements.into_iter().enumerate() {
            let last = index + 1 == count;
            let session = &mut self.session;
            let prepared = guarded(|| session.prepare(statement, &[]))?;
            let session = &mut self.session;
            let outcome = guarded(|| session.execute(&prepared, &[]))?;
            self.send_notices()?;
            self.send_simple_outcome(outcome, last)?;
        }
        Ok(())
    }

    /// Commits the implicit transaction when `last` (before the final CommandComplete).
    fn commit_if_last(&mut self, last: bool) -> Result<(), ConnError> {
        if last {
            let session = &mut self.session;
            guarded(|| session.commit_implicit())?;
        }
        Ok(())
    }

    fn send_simple_outcome(&mut self, outcome: Outcome, last: bool) -> Result<(), ConnError> {
        match outcome {
            Outcome::Rows { columns, rows, tag } => {
                self.send_all_rows(&columns, &rows)?;
                self.commit_if_last(last)?;
                self.writer.command_complete(&tag)?;
            }
            Outcome::Command { tag } => {
                self.commit_if_last(last)?;
                self.writer.command_complete(&tag)?;
            }
            Outcome::Empty => {
                self.commit_if_last(last)?;
                self.writer.empty_query_response()?;
            }
            Outcome::CopyIn(copy) => {
                let tag = self.copy_in(copy)?;
                self.commit_if_last(last)?;
                self.writer.command_complete(&tag)?;
            }
            Outcome::CopyOut {
                columns,
                rows,
                options,
            } => {
                let tag = self.copy_out(&columns, &rows, &options)?;
                self.commit_if_last(last)?;
                self.writer.command_complete(&tag)?;
            }
        }
        self.send_notices()?;
        Ok(())
    }

    /// RowDescription and every row, in text format.
    fn send_all_rows(&mut self, columns: &[Column], rows: &[Row]) -> Result<(), ConnError> {
        self.writer
            .row_description(&field_descriptions(columns, &[]))?;
        for row in rows {
            self.send_data_row(row, columns, &[])?;
        }
        Ok(())
    }
}

/// `SqlError` for a feature the wire layer refuses (used by the extended protocol too).
pub(super) fn protocol_violation(message: impl Into<String>) -> SqlError {
    SqlError::new(sql::error::code::PROTOCOL_VIOLATION, message)
}
