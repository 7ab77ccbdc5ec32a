//! Access control: roles, membership, the session's identity, and object privileges.
//!
//! * [`statement`] reads the statements about roles and privileges (the parse step hands
//!   them over as a stand-in, see [`crate::parse::parse_one`]);
//! * [`roles`] runs CREATE / ALTER / DROP ROLE and GRANT / REVOKE of role membership;
//! * [`identity`] is the session's identity: `session_user`, `current_user`, SET ROLE and
//!   SET SESSION AUTHORIZATION;
//! * [`grant`] runs GRANT / REVOKE of privileges on tables, columns, sequences, schemas,
//!   functions and the database;
//! * [`check`] is the privilege stage every statement passes after binding: the relations
//!   and columns it reads and writes, checked for the current user (a view's base tables
//!   for the view's owner). Row-level security follows it as a separate rewrite.
//! * [`ddl`] checks ownership and CREATE privileges of utility statements (and COPY,
//!   TRUNCATE) before they run;
//! * [`password`] makes the SCRAM-SHA-256 verifiers the catalog stores.
//!
//! Roles live in the persisted catalog ([`storage::catalog::RoleDef`]): attributes under
//! the keys `SUPERUSER`, `LOGIN`, `CREATEROLE`, `CREATEDB`, `BYPASSRLS`, `INHERIT`,
//! `REPLICATION` (`true` / `false`), `CONNECTION LIMIT` (an integer) and `VALID UNTIL`
//! (a `timestamptz` in ISO form); membership as `member_of` / `admin_of`. Grants are
//! [`storage::catalog::GrantDef`]s, one per (object, column, grantee, grantor, privilege).
//! Catalog changes commit with the transaction, so they are WAL-logged and survive restarts.
//!
//! Superusers pass every check. Membership gives a role the privileges of the roles it is
//! a member of when it has INHERIT (walked transitively through roles with INHERIT, as in
//! PostgreSQL 15); SET ROLE needs membership only.

pub mod check;
pub mod ddl;
pub mod grant;
pub mod identity;
pub mod password;
pub mod roles;
pub mod statement;

use storage::catalog::{Catalog, Oid, RoleDef};

use crate::engine::{Outcome, Session};
use crate::error::{code, SqlError, SqlResult};
use statement::AclStatement;

/// Whether `role` has attribute `name` set to true.
pub fn role_flag(role: &RoleDef, name: &str) -> bool {
    role.attributes
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case(name) && v.eq_ignore_ascii_case("true"))
}

/// Whether `role` inherits the privileges of its roles (the default).
pub fn role_inherits(role: &RoleDef) -> bool {
    role.attributes
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("INHERIT"))
        .is_none_or(|(_, v)| v.eq_ignore_ascii_case("true"))
}

pub fn role_by_name<'c>(catalog: &'c Catalog, name: &str) -> Option<&'c RoleDef> {
    catalog.roles.values().find(|r| r.name == name)
}

/// 42704 `role "x" does not exist`.
pub fn undefined_role(name: &str) -> SqlError {
    SqlError::new(
        code::UNDEFINED_OBJECT,
        format!("role \"{name}\" does not exist"),
    )
}

pub fn insufficient_privilege(message: impl Into<String>) -> SqlError {
    SqlError::new(code::INSUFFICIENT_PRIVILEGE, message)
}

/// Whether `oid` names a superuser.
pub fn is_superuser(catalog: &Catalog, oid: Oid) -> bool {
    catalog
        .roles
        .get(&oid)
        .is_some_and(|r| role_flag(r, "SUPERUSER"))
}

/// Whether `member` is `role` or a member of it, directly or through other roles (INHERIT
/// does not matter: this is what SET ROLE needs). Superusers are members of every role.
pub fn is_member_of(catalog: &Catalog, member: Oid, role: Oid) -> bool {
    if member == role || is_superuser(catalog, member) {
        return true;
    }
    member_closure(catalog, member, false).contains(&role)
}

/// `member` and every role whose privileges it has: through memberships, following only
/// roles with INHERIT when `inherit_only` (PostgreSQL's `roles_is_member_of` with
/// `ROLERECURSE_PRIVS`).
pub fn member_closure(catalog: &Catalog, member: Oid, inherit_only: bool) -> Vec<Oid> {
    let mut found = vec![member];
    let mut i = 0;
    while i < found.len() {
        let current = found[i];
        i += 1;
        let Some(role) = catalog.roles.get(&current) else {
            continue;
        };
        if inherit_only && !role_inherits(role) {
            continue;
        }
        for parent in &role.member_of {
            if !found.contains(parent) {
                found.push(*parent);
            }
        }
    }
    found
}

/// Whether `member` has the privileges of `role` (itself, or a member with INHERIT all the
/// way); superusers have every role's.
pub fn has_privileges_of(catalog: &Catalog, member: Oid, role: Oid) -> bool {
    member == role
        || is_superuser(catalog, member)
        || member_closure(catalog, member, true).contains(&role)
}

/// Runs a statement of this module; `sql` is its text (the parse step has checked it).
pub fn execute(session: &mut Session, sql: &str) -> SqlResult<Outcome> {
    let statement = statement::parse(sql)?;
    let reset = statement::leading_words(sql, 1).first().map(String::as_str) == Some("RESET");
    let tag = |outcome: SqlResult<Outcome>| {
        outcome.map(|o| match o {
            Outcome::Command { .. } if reset => Outcome::Command {
                tag: "RESET".into(),
            },
            other => other,
        })
    };
    match statement {
        AclStatement::SetRole { role, local } => tag(identity::set_role(session, role, local)),
        AclStatement::SetSessionAuthorization { user, local } => {
            tag(identity::set_session_authorization(session, user, local))
        }
        AclStatement::GrantPrivileges { .. } | AclStatement::RevokePrivileges { .. } => {
            grant::execute(session, statement)
        }
        other => roles::execute(session, other),
    }
}
