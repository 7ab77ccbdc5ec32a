//! Who is masked, and the masks of a table's columns (the binder applies them at the scan,
//! `bind/mask.rs`).
//!
//! A role is masked when it carries `SECURITY LABEL FOR anon ON ROLE r IS 'MASKED'`, or
//! inherits (membership with INHERIT, transitively) from a role that does — anon 2's rule
//! that the privileges of a masked role's members are masked too. Masks never apply to a
//! superuser, nor to the table's owner (or a member of it): they can read the raw table
//! anyway, and a masked owner would see masked rows in its own constraint checks.
//!
//! A column's mask is its anon label (`MASKED WITH FUNCTION ...` / `MASKED WITH VALUE ...`;
//! `NOT MASKED` is no mask). A generated column computed from a masked column (an
//! embedding of a masked text) is NULL to a masked role, unless it has its own label;
//! ranking by it through a vector index stays possible ([`MASKED_RANKING_MARKER`]).

use storage::catalog::{AttNum, Catalog, Oid, TableDef};
use storage::types::Value;

use super::label::{is_masked_role_label, parse_column_mask, MaskRule};
use crate::error::SqlResult;
use crate::func::FnCtx;

/// Name of the call that stands, in the masking projection, for a generated column hidden
/// from a masked role: it evaluates to NULL, and the nearest-neighbour rewrite may still
/// rank by the column under it (`optimize/ann.rs`).
pub const MASKED_RANKING_MARKER: &str = "__custos_masked_ranking";

/// The implementation of [`MASKED_RANKING_MARKER`]: NULL.
pub fn masked_ranking(_: &FnCtx, _: &[Value]) -> SqlResult<Value> {
    Ok(Value::Null)
}

/// Whether role `oid` is labelled MASKED by anon.
fn labelled_masked(catalog: &Catalog, oid: Oid) -> bool {
    catalog.security_labels.iter().any(|l| {
        l.provider == "anon"
            && l.object_kind == "role"
            && l.object == oid
            && is_masked_role_label(&l.label)
    })
}

/// Whether `user` is a masked role (itself or through inheritance), superusers never.
pub fn is_masked_role(catalog: &Catalog, user: &str) -> bool {
    let Some(role) = crate::acl::role_by_name(catalog, user) else {
        return false;
    };
    if crate::acl::role_flag(role, "SUPERUSER") {
        return false;
    }
    crate::acl::member_closure(catalog, role.oid, true)
        .into_iter()
        .any(|r| labelled_masked(catalog, r))
}

/// Whether masks of `table` apply to `user`.
pub fn masks_apply(catalog: &Catalog, user: &str, table: &TableDef) -> bool {
    if catalog.security_labels.is_empty() || !is_masked_role(catalog, user) {
        return false;
    }
    let me = crate::acl::check::role_of(catalog, user);
    !crate::acl::has_privileges_of(catalog, me, table.owner)
}

/// Refuses a masked role's INSERT, UPDATE, DELETE and COPY FROM on a table with masks
/// (anon: masked roles are read-only on masked tables): the rows they would write, or find
/// by their WHERE, or return by RETURNING, are the raw ones.
pub fn check_write(catalog: &Catalog, user: &str, table: &TableDef) -> SqlResult<()> {
    if masks_apply(catalog, user, table) && has_masks(catalog, table.oid) {
        return Err(crate::acl::insufficient_privilege(format!(
            "permission denied for table {}",
            table.name
        ))
        .with_detail("Masked roles cannot modify tables with masked columns."));
    }
    Ok(())
}

/// The anon rules of `table`'s columns.
pub fn column_rules(catalog: &Catalog, table: Oid) -> Vec<(AttNum, MaskRule)> {
    catalog
        .security_labels
        .iter()
        .filter(|l| l.provider == "anon" && l.object_kind == "column" && l.object == table)
        .filter_map(|l| Some((l.column, parse_column_mask(&l.label)?)))
        .collect()
}

/// Whether any column of `table` has a mask (so a masked role's scan needs rewriting).
pub fn has_masks(catalog: &Catalog, table: Oid) -> bool {
    column_rules(catalog, table)
        .iter()
        .any(|(_, r)| r.expression().is_some())
}
