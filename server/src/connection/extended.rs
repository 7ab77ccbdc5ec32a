//! The extended query protocol: Parse (named or unnamed statements, with parameter type OIDs),
//! Bind (portals with text or binary parameters and result formats), Describe, Execute (with a
//! row limit: the portal keeps the rows not yet sent and answers PortalSuspended), Close, and
//! Sync, which commits the implicit transaction and answers ReadyForQuery. After an error the
//! connection discards messages until Sync (see `Connection::handle`).

use std::sync::Arc;

use sql::engine::Outcome;
use sql::error::code;
use sql::{SqlError, SqlType};
use storage::types::Value;

use super::simple::protocol_violation;
use super::{
    described_type, field_descriptions, format_code, guarded, with_row_count, ConnError,
    Connection, Portal, PortalState, PreparedStatement,
};
use crate::copy::fields::FieldInput;
use crate::types::binary as wire_binary;
use crate::wire::body::utf8;

/// Longest parameter value quoted in an error's CONTEXT.
const MAX_PARAMETER_IN_CONTEXT: usize = 64;

fn statement_label(name: &str) -> String {
    if name.is_empty() {
        "unnamed prepared statement".into()
    } else {
        format!("prepared statement \"{name}\"")
    }
}

fn portal_label(name: &str) -> String {
    if name.is_empty() {
        "unnamed portal".into()
    } else {
        format!("portal \"{name}\"")
    }
}

fn check_format(format: i16) -> Result<i16, SqlError> {
    if format == 0 || format == 1 {
        Ok(format)
    } else {
        Err(SqlError::new(
            code::INVALID_PARAMETER_VALUE,
            format!("unsupported format code: {format}"),
        ))
    }
}

/// The CONTEXT PostgreSQL gives an error in a parameter (`unnamed portal parameter $1 = '…'`).
fn parameter_context(portal: &str, index: usize, text: Option<&str>) -> String {
    let mut context = format!("{} parameter ${}", portal_label(portal), index + 1);
    if let Some(text) = text {
        let mut shown: String = text.chars().take(MAX_PARAMETER_IN_CONTEXT).collect();
        if shown.len() < text.len() {
            shown.push_str("...");
        }
        context.push_str(&format!(" = '{shown}'"));
    }
    context
}

impl Connection {
    pub(super) fn parse(
        &mut self,
        name: String,
        query: &str,
        param_type_oids: &[u32],
    ) -> Result<(), ConnError> {
        if !name.is_empty() && self.statements.contains_key(&name) {
            return Err(SqlError::new(
                code::DUPLICATE_PREPARED_STATEMENT,
                format!("prepared statement \"{name}\" already exists"),
            )
            .into());
        }
        let mut param_types = Vec::with_capacity(param_type_oids.len());
        for &oid in param_type_oids {
            if oid == 0 {
                param_types.push(None);
                continue;
            }
            let sql_type = SqlType::from_oid(oid).ok_or_else(|| {
                SqlError::new(
                    code::UNDEFINED_OBJECT,
                    format!("type with OID {oid} does not exist"),
                )
            })?;
            param_types.push(Some(sql_type));
        }
        let session = &mut self.session;
        let mut statements = guarded(|| session.parse(query))?;
        let prepared = match statements.len() {
            0 => None,
            1 => {
                let statement = statements.pop().expect("one statement");
                let session = &mut self.session;
                Some(Arc::new(guarded(|| {
                    session.prepare(statement, &param_types)
                })?))
            }
            _ => {
                return Err(SqlError::new(
                    code::SYNTAX_ERROR,
                    "cannot insert multiple commands into a prepared statement",
                )
                .into())
            }
        };
        let param_type_oids = match &prepared {
            Some(prepared) => prepared
                .param_types()
                .iter()
                .map(|t| described_type(t).oid())
                .collect(),
            None => param_type_oids.to_vec(),
        };
        self.statements.insert(
            name,
            PreparedStatement {
                prepared,
                param_type_oids,
            },
        );
        self.writer.parse_complete()?;
        Ok(())
    }

    pub(super) fn bind(
        &mut self,
        portal_name: String,
        statement_name: &str,
        param_formats: &[i16],
        params: Vec<Option<Vec<u8>>>,
        result_formats: Vec<i16>,
    ) -> Result<(), ConnError> {
        let statement = self.statements.get(statement_name).ok_or_else(|| {
            SqlError::new(
                code::INVALID_SQL_STATEMENT_NAME,
                format!("{} does not exist", statement_label(statement_name)),
            )
        })?;
        let prepared = statement.prepared.clone();
        let param_types: &[SqlType] = match &prepared {
            Some(p) => p.param_types(),
            None => &[],
        };
        if !portal_name.is_empty() && self.portals.contains_key(&portal_name) {
            return Err(SqlError::new(
                code::DUPLICATE_CURSOR,
                format!("cursor \"{portal_name}\" already exists"),
            )
            .into());
        }
        if param_formats.len() > 1 && param_formats.len() != params.len() {
            return Err(protocol_violation(format!(
                "bind message has {} parameter formats but {} parameters",
                param_formats.len(),
                params.len()
            ))
            .into());
        }
        if params.len() != param_types.len() {
            return Err(protocol_violation(format!(
                "bind message supplies {} parameters, but {} requires {}",
                params.len(),
                statement_label(statement_name),
                param_types.len()
            ))
            .into());
        }
        let mut values = Vec::with_capacity(params.len());
        for (index, (param, sql_type)) in params.into_iter().zip(param_types).enumerate() {
            let format = check_format(format_code(param_formats, index))?;
            let Some(bytes) = param else {
                values.push(Value::Null);
                continue;
            };
            values.push(self.decode_parameter(&portal_name, index, &bytes, sql_type, format)?);
        }
        let column_count = prepared
            .as_ref()
            .and_then(|p| p.columns())
            .map_or(0, |c| c.len());
        if result_formats.len() > 1 && result_formats.len() != column_count {
            return Err(protocol_violation(format!(
                "bind message has {} result formats but query has {} columns",
                result_formats.len(),
                column_count
            ))
            .into());
        }
        for &format in &result_formats {
            check_format(format)?;
        }
        if let Some(columns) = prepared.as_ref().and_then(|p| p.columns()) {
            for (i, column) in columns.iter().enumerate() {
                if format_code(&result_formats, i) == 1
                    && !wire_binary::has_binary_output(&column.sql_type)
                {
                    return Err(SqlError::new(
                        code::UNDEFINED_FUNCTION,
                        format!(
                            "no binary output function available for type {}",
                            column.sql_type.display_name()
                        ),
                    )
                    .into());
                }
            }
        }
        self.portals.insert(
            portal_name,
            Portal {
                prepared,
                params: values,
                result_formats,
                state: PortalState::Ready,
            },
        );
        self.writer.bind_complete()?;
        Ok(())
    }

    fn decode_parameter(
        &mut self,
        portal: &str,
        index: usize,
        bytes: &[u8],
        sql_type: &SqlType,
        format: i16,
    ) -> Result<Value, ConnError> {
        let session = &self.session;
        if format == 0 {
            if let Some(value) = FieldInput::of(sql_type).direct(bytes) {
                return Ok(value);
            }
            let text = utf8(bytes)
                .map_err(|e| ConnError::Sql(e, Some(parameter_context(portal, index, None))))?;
            return guarded(|| session.input_text(text, sql_type)).map_err(|e| {
                ConnError::Sql(e, Some(parameter_context(portal, index, Some(text))))
            });
        }
        let input = |text: &str, t: &SqlType| session.input_text(text, t);
        guarded(|| wire_binary::decode(bytes, sql_type, &input)).map_err(|mut error| {
            if error.code == code::INVALID_BINARY_REPRESENTATION {
                error.detail = Some(std::mem::take(&mut error.message));
                error.message = format!(
                    "incorrect binary data format in bind parameter {}",
                    index + 1
                );
            }
            ConnError::Sql(error, Some(parameter_context(portal, index, None)))
        })
    }

    pub(super) fn describe(&mut self, kind: u8, name: &str) -> Result<(), ConnError> {
        if kind == b'S' {
            let statement = self.statements.get(name).ok_or_else(|| {
                SqlError::new(
                    code::INVALID_SQL_STATEMENT_NAME,
                    format!("{} does not exist", statement_label(name)),
                )
            })?;
            let columns = statement.prepared.as_ref().and_then(|p| p.columns());
            let fields = columns.map(|c| field_descriptions(c, &[]));
            self.writer
                .parameter_description(&statement.param_type_oids)?;
            match fields {
                Some(fields) => self.writer.row_description(&fields)?,
                None => self.writer.no_data()?,
            }
            return Ok(());
        }
        let portal = self.portals.get(name).ok_or_else(|| {
            SqlError::new(
                code::INVALID_CURSOR_NAME,
                format!("portal \"{name}\" does not exist"),
            )
        })?;
        let columns = match &portal.state {
            PortalState::Rows { columns, .. } => Some(columns.as_slice()),
            _ => portal.prepared.as_ref().and_then(|p| p.columns()),
        };
        match columns.map(|c| field_descriptions(c, &portal.result_formats)) {
            Some(fields) => self.writer.row_description(&fields)?,
            None => self.writer.no_data()?,
        }
        Ok(())
    }

    pub(super) fn execute(&mut self, name: &str, max_rows: i32) -> Result<(), ConnError> {
        // The portal is taken out of the map while it runs (two lookups per Execute).
        let Some((key, mut portal)) = self.portals.remove_entry(name) else {
            return Err(SqlError::new(
                code::INVALID_CURSOR_NAME,
                format!("portal \"{name}\" does not exist"),
            )
            .into());
        };
        let result = self.run_portal(&mut portal, name, max_rows);
        self.portals.insert(key, portal);
        result
    }

    fn run_portal(
        &mut self,
        portal: &mut Portal,
        name: &str,
        max_rows: i32,
    ) -> Result<(), ConnError> {
        // Whatever happens next, a portal that was ready has run.
        let state = std::mem::replace(&mut portal.state, PortalState::Finished);
        if let PortalState::Ready = state {
            let Some(prepared) = portal.prepared.clone() else {
                portal.state = PortalState::Empty;
                self.writer.empty_query_response()?;
                return Ok(());
            };
            let params = std::mem::take(&mut portal.params);
            let session = &mut self.session;
            let outcome = guarded(|| session.execute(&prepared, &params))?;
            self.send_notices()?;
            let tag = match outcome {
                Outcome::Rows { columns, rows, tag } => {
                    let state = PortalState::Rows {
                        columns,
                        rows: rows.into_iter(),
                        tag,
                        suspended: false,
                    };
                    return self.fetch(portal, name, state, max_rows);
                }
                Outcome::Command { tag } => tag,
                Outcome::Empty => {
                    self.writer.empty_query_response()?;
                    return Ok(());
                }
                Outcome::CopyIn(copy) => self.copy_in(copy)?,
                Outcome::CopyOut {
                    columns,
                    rows,
                    options,
                } => self.copy_out(&columns, &rows, &options)?,
            };
            self.writer.command_complete(&tag)?;
            return Ok(());
        }
        self.fetch(portal, name, state, max_rows)
    }

    /// Sends up to `max_rows` (all when ≤ 0) of an executed portal's remaining rows; `state`
    /// was taken out of the portal and goes back into it.
    fn fetch(
        &mut self,
        portal: &mut Portal,
        name: &str,
        state: PortalState,
        max_rows: i32,
    ) -> Result<(), ConnError> {
        let (columns, mut rows, tag, was_suspended) = match state {
            PortalState::Rows {
                columns,
                rows,
                tag,
                suspended,
            } => (columns, rows, tag, suspended),
            PortalState::Exhausted { tag } => {
                self.writer.command_complete(&with_row_count(&tag, 0))?;
                portal.state = PortalState::Exhausted { tag };
                return Ok(());
            }
            PortalState::Empty => {
                self.writer.empty_query_response()?;
                portal.state = PortalState::Empty;
                return Ok(());
            }
            PortalState::Finished | PortalState::Ready => {
                return Err(SqlError::new(
                    code::OBJECT_NOT_IN_PREREQUISITE_STATE,
                    format!("portal \"{name}\" cannot be run"),
                )
                .into())
            }
        };
        let limit = if max_rows > 0 {
            max_rows as usize
        } else {
            usize::MAX
        };
        let mut sent = 0;
        while sent < limit {
            let Some(row) = rows.next() else {
                break;
            };
            self.send_data_row(&row, &columns, &portal.result_formats)?;
            sent += 1;
        }
        if rows.len() > 0 {
            self.writer.portal_suspended()?;
            portal.state = PortalState::Rows {
                columns,
                rows,
                tag,
                suspended: true,
            };
            return Ok(());
        }
        // A portal fetched in pieces reports the rows of the last piece, as PostgreSQL does.
        let tag = if was_suspended {
            with_row_count(&tag, sent)
        } else {
            tag
        };
        self.writer.command_complete(&tag)?;
        portal.state = PortalState::Exhausted { tag };
        Ok(())
    }

    pub(super) fn close(&mut self, kind: u8, name: &str) -> Result<(), ConnError> {
        if kind == b'S' {
            self.statements.remove(name);
        } else {
            self.portals.remove(name);
        }
        self.writer.close_complete()?;
        Ok(())
    }

    pub(super) fn sync(&mut self) -> Result<(), ConnError> {
        self.skip_until_sync = false;
        let session = &mut self.session;
        if let Err(error) = guarded(|| session.commit_implicit()) {
            self.report_error(&error, None)?;
        }
        self.ready_for_query()
    }
}
