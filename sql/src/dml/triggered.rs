//! What DML does around row triggers (`crate::plpgsql::triggers`): when BEFORE triggers
//! run, a row's row-level security checks and constraints (generated columns, NOT NULL,
//! CHECK, foreign keys) are checked
//! on the row the triggers return, as PostgreSQL orders it (a trigger may fill a NOT NULL
//! column).

use storage::catalog::TableDef;
use storage::types::{Row, Value};

use super::checks::{check_references, check_row, compute_generated};
use crate::engine::Session;
use crate::error::SqlResult;
use crate::plan::Expr;
use crate::plpgsql::triggers::Fired;

/// `table` without its NOT NULL constraints: rows are completed against it when BEFORE
/// triggers will run, and checked in full (generated columns, NOT NULL, CHECK, foreign keys)
/// by [`before_row`] once the triggers have returned them, as PostgreSQL orders it.
pub(super) fn unconstrained(table: &TableDef) -> TableDef {
    let mut t = table.clone();
    for c in &mut t.columns {
        c.not_null = false;
    }
    t
}

/// Runs the BEFORE triggers of `fired` for a row: the row to write (checked), `None` to
/// skip it.
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
    policies: &[crate::bind::rls::RowCheck],
) -> SqlResult<Option<Row>> {
    let (row, _) = fired.before(session, table, old, new)?;
    let Some(mut row) = row else {
        return Ok(None);
    };
    // The statement left the checks to this point (see `unconstrained`).
    {
        row = session.with_exec(params, |ctx| {
            compute_generated(table, &mut row, generated, ctx)?;
            crate::bind::rls::check_row(policies, &row, ctx)?;
            check_row(table, &row, checks, ctx)?;
            check_references(table, &row, ctx)?;
            Ok(row)
        })?;
    }
    Ok(Some(row))
}
