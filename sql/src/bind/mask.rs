//! Dynamic masking at the scan of a table (see [`super::governance`]).

use storage::catalog::Oid;

use super::{Binder, ScopeColumn};
use crate::error::SqlResult;
use crate::plan::Plan;

impl Binder<'_> {
    /// `plan` (the scan of table `oid`, possibly filtered by row-level security) with masked
    /// columns replaced by their masks for masked roles. Masking is not built yet: the scan
    /// and its columns are returned as they are.
    pub(super) fn apply_masks(
        &mut self,
        _oid: Oid,
        plan: Plan,
        columns: Vec<ScopeColumn>,
    ) -> SqlResult<(Plan, Vec<ScopeColumn>)> {
        Ok((plan, columns))
    }
}
