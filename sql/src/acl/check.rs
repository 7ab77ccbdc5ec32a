//! The privilege stage: what a bound statement needs, checked against the catalog for the
//! role it runs as. It runs after binding and before any governance rewrite (row-level
//! security comes next, as its own stage) and before planning, so a statement that is
//! denied never reaches a scan.
//!
//! The binder records one [`RelationAccess`] per relation a statement names (PostgreSQL's
//! `RTEPermissionInfo`): the columns it reads, the columns it inserts or updates, whether it
//! deletes. Relations named inside a view's definition are checked for the view's owner,
//! the view itself for the current user. The rule per relation, as PostgreSQL's
//! `ExecCheckPermissions`:
//!
//! * reading needs SELECT on the table, or SELECT on every column read (on some column
//!   when none is read, as in `count(*)`);
//! * INSERT and UPDATE need the privilege on the table or on every target column;
//! * DELETE needs DELETE on the table.
//!
//! A denial is 42501 `permission denied for table t` (or view, sequence). Superusers pass;
//! a catalog without roles (an engine used without a server) checks nothing.

use storage::catalog::{AttNum, Catalog, Oid};

use super::identity::NO_ROLE;
use super::{insufficient_privilege, is_superuser, role_by_name};
use crate::error::SqlResult;
use crate::pg_catalog::privileges::{
    effective_roles, role_has_privilege, Object, ObjectClass, Wanted,
};

/// What a statement does to one relation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelationAccess {
    pub relation: Oid,
    /// The role to check for instead of the current user (a view's owner), if any.
    pub check_as: Option<Oid>,
    pub select: bool,
    /// Columns read (attnums), when `select`.
    pub columns: Vec<AttNum>,
    pub insert: Option<Vec<AttNum>>,
    pub update: Option<Vec<AttNum>>,
    pub delete: bool,
}

/// Everything a statement needs, as the binder collected it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Required {
    pub accesses: Vec<RelationAccess>,
    /// While binding a view's definition: the owner its relations are checked for.
    pub view_owner: Option<Oid>,
    /// While binding what the table itself evaluates (defaults, CHECK constraints,
    /// generated columns): column reads are not the statement's.
    pub suspended: bool,
    /// User functions called: (function, role to check EXECUTE for, if not the caller).
    pub functions: Vec<(Oid, Option<Oid>)>,
    /// While binding the body of a SECURITY DEFINER function: its owner, which is
    /// `current_user` there.
    pub definer: Option<Oid>,
}

impl Required {
    /// Records that the statement names `relation`; returns the entry's index.
    pub fn relation(&mut self, relation: Oid) -> usize {
        self.accesses.push(RelationAccess {
            relation,
            check_as: self.view_owner,
            ..Default::default()
        });
        self.accesses.len() - 1
    }

    /// Records a call of user function `f` (EXECUTE is checked) and, for a SECURITY
    /// DEFINER function, makes what its body reads checked for its owner. Returns the
    /// context to restore once the body is bound.
    pub fn call_function(&mut self, f: &storage::catalog::FunctionDef) -> Option<Oid> {
        self.functions.push((f.oid, self.view_owner));
        let caller = self.view_owner;
        let definer = f
            .attributes
            .get("SECURITY")
            .is_some_and(|s| s.eq_ignore_ascii_case("DEFINER"));
        if definer {
            self.view_owner = Some(f.owner);
            self.definer = Some(f.owner);
        }
        caller
    }

    /// Records a read of `relation`.
    pub fn read(&mut self, relation: Oid) {
        let i = self.relation(relation);
        self.accesses[i].select = true;
    }

    /// Records that column `attnum` of `relation` is read: charged to the latest entry for
    /// that relation in the current view context.
    pub fn column(&mut self, relation: Oid, attnum: i16) {
        if attnum <= 0 || self.suspended {
            return;
        }
        let context = self.view_owner;
        if let Some(entry) = self
            .accesses
            .iter_mut()
            .rev()
            .find(|a| a.relation == relation && a.check_as == context)
        {
            entry.select = true;
            let attnum = attnum as AttNum;
            if !entry.columns.contains(&attnum) {
                entry.columns.push(attnum);
            }
        }
    }

    /// Marks the latest entry for `relation` in the current context as written.
    pub fn write(&mut self, relation: Oid) -> Option<&mut RelationAccess> {
        let context = self.view_owner;
        self.accesses
            .iter_mut()
            .rev()
            .find(|a| a.relation == relation && a.check_as == context)
    }
}

/// The OID of `user` for privilege checks.
pub fn role_of(catalog: &Catalog, user: &str) -> Oid {
    role_by_name(catalog, user).map_or(NO_ROLE, |r| r.oid)
}

/// Checks `required` for `user` (the current user's name).
pub fn check(catalog: &Catalog, user: &str, required: &Required) -> SqlResult<()> {
    if catalog.roles.is_empty() || (required.accesses.is_empty() && required.functions.is_empty()) {
        return Ok(());
    }
    let me = role_of(catalog, user);
    for (function, check_as) in &required.functions {
        let role = check_as.unwrap_or(me);
        let Some(f) = catalog.functions.get(function) else {
            continue;
        };
        if is_superuser(catalog, role) {
            continue;
        }
        let object = Object {
            class: ObjectClass::Function,
            oid: f.oid,
            column: 0,
            owner: f.owner,
            public_default: if super::grant::function_has_default_acl(catalog, f.oid) {
                &["EXECUTE"]
            } else {
                &[]
            },
        };
        if !role_has_privilege(catalog, user, role, &object, &wanted("EXECUTE")) {
            return Err(insufficient_privilege(format!(
                "permission denied for function {}",
                f.name
            )));
        }
    }
    for access in &required.accesses {
        let role = access.check_as.unwrap_or(me);
        if is_superuser(catalog, role) {
            continue;
        }
        check_one(catalog, user, role, access)?;
    }
    Ok(())
}

fn wanted(privilege: &'static str) -> [Wanted; 1] {
    [Wanted {
        privilege,
        with_grant_option: false,
    }]
}

/// The owner and class of a relation, and the noun its errors use.
fn relation_facts(catalog: &Catalog, oid: Oid) -> Option<(Oid, ObjectClass, &'static str, String)> {
    if let Some(t) = catalog.tables.get(&oid) {
        return Some((t.owner, ObjectClass::Table, "table", t.name.clone()));
    }
    if let Some(v) = catalog.views.get(&oid) {
        return Some((v.owner, ObjectClass::Table, "view", v.name.clone()));
    }
    if let Some(s) = catalog.sequences.get(&oid) {
        return Some((s.owner, ObjectClass::Sequence, "sequence", s.name.clone()));
    }
    if oid == crate::pg_catalog::oids::rel::PG_AUTHID {
        // No grants: superusers only, as in PostgreSQL.
        return Some((NO_ROLE, ObjectClass::Table, "table", "pg_authid".into()));
    }
    None
}

/// Whether `role` holds `privilege` on the whole relation.
pub fn has_relation_privilege(
    catalog: &Catalog,
    user: &str,
    role: Oid,
    relation: Oid,
    privilege: &'static str,
) -> bool {
    let Some((owner, class, _, _)) = relation_facts(catalog, relation) else {
        return true;
    };
    let object = Object {
        class,
        oid: relation,
        column: 0,
        owner,
        public_default: &[],
    };
    role_has_privilege(catalog, user, role, &object, &wanted(privilege))
}

/// Whether `role` holds `privilege` on the table or on every one of `columns` (on some
/// column of the table when `columns` is empty).
pub fn has_column_privileges(
    catalog: &Catalog,
    user: &str,
    role: Oid,
    relation: Oid,
    columns: &[AttNum],
    privilege: &'static str,
) -> bool {
    if has_relation_privilege(catalog, user, role, relation, privilege) {
        return true;
    }
    let Some((owner, class, _, _)) = relation_facts(catalog, relation) else {
        return true;
    };
    if class != ObjectClass::Table {
        return false;
    }
    if columns.is_empty() {
        let holders = effective_roles(catalog, user, role);
        return catalog.grants.iter().any(|g| {
            g.object == relation
                && g.column != 0
                && holders.contains(&g.grantee)
                && g.privilege.eq_ignore_ascii_case(privilege)
        });
    }
    columns.iter().all(|attnum| {
        let object = Object {
            class: ObjectClass::Column,
            oid: relation,
            column: *attnum,
            owner,
            public_default: &[],
        };
        role_has_privilege(catalog, user, role, &object, &wanted(privilege))
    })
}

fn check_one(catalog: &Catalog, user: &str, role: Oid, access: &RelationAccess) -> SqlResult<()> {
    let Some((_, _, noun, name)) = relation_facts(catalog, access.relation) else {
        return Ok(());
    };
    let denied = || insufficient_privilege(format!("permission denied for {noun} {name}"));
    let r = access.relation;
    if access.select && !has_column_privileges(catalog, user, role, r, &access.columns, "SELECT") {
        return Err(denied());
    }
    if let Some(columns) = &access.insert {
        if !has_column_privileges(catalog, user, role, r, columns, "INSERT") {
            return Err(denied());
        }
    }
    if let Some(columns) = &access.update {
        if !has_column_privileges(catalog, user, role, r, columns, "UPDATE") {
            return Err(denied());
        }
    }
    if access.delete && !has_relation_privilege(catalog, user, role, r, "DELETE") {
        return Err(denied());
    }
    Ok(())
}

/// 42501 `permission denied for sequence s` unless `user` holds one of `any_of` on sequence
/// `oid` (nextval: USAGE or UPDATE; currval: USAGE or SELECT; setval: UPDATE).
pub fn check_sequence(
    catalog: &Catalog,
    user: &str,
    oid: Oid,
    any_of: &[&'static str],
) -> SqlResult<()> {
    if catalog.roles.is_empty() {
        return Ok(());
    }
    let Some(sequence) = catalog.sequences.get(&oid) else {
        return Ok(());
    };
    let me = role_of(catalog, user);
    if is_superuser(catalog, me) {
        return Ok(());
    }
    let object = Object {
        class: ObjectClass::Sequence,
        oid,
        column: 0,
        owner: sequence.owner,
        public_default: &[],
    };
    let wanted: Vec<Wanted> = any_of
        .iter()
        .map(|p| Wanted {
            privilege: p,
            with_grant_option: false,
        })
        .collect();
    if role_has_privilege(catalog, user, me, &object, &wanted) {
        return Ok(());
    }
    Err(insufficient_privilege(format!(
        "permission denied for sequence {}",
        sequence.name
    )))
}

/// Whether the current user owns `owner`'s objects: is `owner`, has its privileges, or is
/// a superuser (PostgreSQL's `pg_*_ownercheck`).
pub fn owns(catalog: &Catalog, user: &str, owner: Oid) -> bool {
    if catalog.roles.is_empty() {
        return true;
    }
    let me = role_of(catalog, user);
    super::has_privileges_of(catalog, me, owner)
}

/// 42501 `must be owner of <noun> <name>` unless the current user owns the object.
pub fn check_owner(
    catalog: &Catalog,
    user: &str,
    owner: Oid,
    noun: &str,
    name: &str,
) -> SqlResult<()> {
    if owns(catalog, user, owner) {
        return Ok(());
    }
    Err(insufficient_privilege(format!(
        "must be owner of {noun} {name}"
    )))
}

/// 42501 unless the current user holds `privilege` (CREATE or USAGE) on schema `schema`.
pub fn check_schema(
    catalog: &Catalog,
    user: &str,
    schema: Oid,
    privilege: &'static str,
) -> SqlResult<()> {
    if catalog.roles.is_empty() {
        return Ok(());
    }
    let Some(def) = catalog.schemas.get(&schema) else {
        return Ok(());
    };
    let me = role_of(catalog, user);
    if is_superuser(catalog, me) {
        return Ok(());
    }
    let public_default: &[&str] = if def.name == "public" {
        &["USAGE"]
    } else {
        &[]
    };
    // The public schema belongs to pg_database_owner, which the database owner (the
    // bootstrap superuser) is; its CREATE is not granted to PUBLIC (PostgreSQL 15).
    let object = Object {
        class: ObjectClass::Schema,
        oid: schema,
        column: 0,
        owner: def.owner,
        public_default,
    };
    if role_has_privilege(catalog, user, me, &object, &wanted(privilege)) {
        return Ok(());
    }
    Err(insufficient_privilege(format!(
        "permission denied for schema {}",
        def.name
    )))
}
