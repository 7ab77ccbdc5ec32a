//! What DML does around row triggers (`crate::plpgsql::triggers`): a row a BEFORE trigger
//! changed is completed and checked again (generated columns, NOT NULL, CHECK, foreign
//! keys), as PostgreSQL checks the row the trigger returns.

use storage::catalog::TableDef;
use storage::types::{Row, Value};

use super::checks::{check_references, check_row, compute_generated};
use crate::engine::Session;
use crate::error::SqlResult;
use crate::plan::Expr;
use crate::plpgsql::triggers::Fired;

/// Runs the BEFORE triggers of `fired` for a row: the row to write, `None` to skip it.
#[allow(clippy::too_many_arguments)]
pub(super) fn before_row(
    session: &mut Session,
    fired: &Fired,
    params: &[Value],
    table: &TableDef,
    old: Option<&Row>,
    new: Option<Row>,
    generated: &[Option<Expr>],
    checks: &[(String, Expr)],
) -> SqlResult<Option<Row>> {
    let (row, changed) = fired.before(session, table, old, new)?;
    let Some(mut row) = row else {
        return Ok(None);
    };
    if changed {
        row = session.with_exec(params, |ctx| {
            compute_generated(table, &mut row, generated, ctx)?;
            check_row(table, &row, checks, ctx)?;
            check_references(table, &row, ctx)?;
            Ok(row)
        })?;
    }
    Ok(Some(row))
}
