//! The governance rewrites at the scan of a table, applied whenever a query reads a table
//! (directly, through a view, in a subquery, in DML, in vector search and in RAG context):
//! row-level security first ([`super::rls`]: the policies filter the raw rows, as security
//! barriers), then masking ([`super::mask`]: masked columns replaced by their masks for
//! masked roles). Nothing bound above the scan sees a row or value these rewrites hide.

use storage::catalog::Oid;

use super::from::Bound;
use super::{Binder, Scope, ScopeColumn};
use crate::error::SqlResult;
use crate::plan::Plan;

impl Binder<'_> {
    /// The scan of table `oid` with its `columns` (attnum order, dropped ones hidden), after
    /// the governance rewrites.
    pub(super) fn table_scan(&mut self, oid: Oid, columns: Vec<ScopeColumn>) -> SqlResult<Bound> {
        let plan = Plan::SeqScan {
            table: oid,
            width: columns.len(),
            filter: None,
            predicates: Vec::new(),
            row_id: false,
        };
        let plan = self.apply_row_security(oid, plan, &columns)?;
        let (plan, columns) = self.apply_masks(oid, plan, columns)?;
        Ok(Bound {
            plan,
            scope: Scope { columns },
        })
    }
}
