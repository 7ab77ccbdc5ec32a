//! Dynamic masking at the scan of a table (see [`super::governance`]).
//!
//! For a masked role ([`crate::governance::masking`]) the scan of a table with masked
//! columns becomes `Project(masks) → scan`: each masked column is replaced by its mask
//! expression bound over the table's own row, every other column passes through. Whatever
//! is bound above (WHERE, JOIN, ORDER BY, GROUP BY, aggregates, COPY TO, cursors, vector
//! search, `rag_context`) sees only masked values. A generated column computed from a
//! masked column is NULL, written as the ranking marker so that the nearest-neighbour
//! rewrite may still rank by it through an index.

use storage::catalog::Oid;

use super::expr::ExprContext;
use super::{Binder, Scope, ScopeColumn};
use crate::error::SqlResult;
use crate::governance::masking::{self, MASKED_RANKING_MARKER};
use crate::plan::{Expr, Plan};

impl Binder<'_> {
    /// `plan` (the scan of table `oid`, possibly filtered by row-level security) with masked
    /// columns replaced by their masks for masked roles.
    pub(super) fn apply_masks(
        &mut self,
        oid: Oid,
        plan: Plan,
        columns: Vec<ScopeColumn>,
    ) -> SqlResult<(Plan, Vec<ScopeColumn>)> {
        let catalog = self.catalog.clone();
        let Some(table) = catalog.tables.get(&oid) else {
            return Ok((plan, columns));
        };
        if !masking::masks_apply(&catalog, self.user, table) || !masking::has_masks(&catalog, oid) {
            return Ok((plan, columns));
        }
        let rules = masking::column_rules(&catalog, oid);
        // Masks see only the table's row: no outer query, CTE or window of the statement.
        let outer = std::mem::take(&mut self.outer);
        let ctes = std::mem::take(&mut self.ctes);
        let windows = std::mem::take(&mut self.windows);
        let suspended = std::mem::replace(&mut self.privileges.suspended, true);
        let result = self.mask_exprs(table, &rules, &columns);
        self.outer = outer;
        self.ctes = ctes;
        self.windows = windows;
        self.privileges.suspended = suspended;
        let exprs = result?;
        Ok((
            Plan::Project {
                input: Box::new(plan),
                exprs,
            },
            columns,
        ))
    }

    fn mask_exprs(
        &mut self,
        table: &storage::catalog::TableDef,
        rules: &[(u16, crate::governance::label::MaskRule)],
        columns: &[ScopeColumn],
    ) -> SqlResult<Vec<Expr>> {
        let scope = Scope {
            columns: columns.to_vec(),
        };
        let mut exprs: Vec<Expr> = (0..columns.len()).map(Expr::Column).collect();
        let mut masked = vec![false; columns.len()];
        let mut labelled = vec![false; columns.len()];
        for (attnum, rule) in rules {
            let Some(position) = usize::from(*attnum).checked_sub(1) else {
                continue;
            };
            // A dropped column keeps its label (its attnum is never reused) but has no mask.
            if position >= columns.len() || table.column(*attnum).is_none_or(|c| c.dropped) {
                continue;
            }
            labelled[position] = true;
            let Some(text) = rule.expression() else {
                continue;
            };
            let parsed = crate::dml::parse_expr(text)?;
            let mut cx = ExprContext::plain("masking rules");
            let typed = self.bind_expr(&parsed, &scope, &mut cx)?;
            exprs[position] = self.coerce_to(typed, &columns[position].sql_type, "masking rule")?;
            masked[position] = true;
        }
        // Generated columns computed from a masked column: NULL, rankable.
        for c in table.live_columns() {
            let position = usize::from(c.attnum) - 1;
            let Some(generated) = &c.generated else {
                continue;
            };
            if position >= columns.len() || labelled[position] {
                continue;
            }
            let parsed = crate::dml::parse_expr(generated)?;
            let mut cx = ExprContext::plain("column generation expressions");
            let (bound, _) = self.bind_expr(&parsed, &scope, &mut cx)?;
            let mut reads_masked = false;
            bound.walk(&mut |e| {
                if let Expr::Column(i) = e {
                    reads_masked |= masked.get(*i).copied().unwrap_or(false);
                }
            });
            if reads_masked {
                exprs[position] = Expr::Call {
                    name: MASKED_RANKING_MARKER,
                    func: masking::masked_ranking,
                    args: vec![Expr::Column(position)],
                    strict: false,
                };
            }
        }
        Ok(exprs)
    }
}
