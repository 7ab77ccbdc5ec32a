//! Privileges as the catalog shows and checks them: `aclitem[]` columns (`relacl`,
//! `attacl`, `nspacl`, `datacl`) built from the catalog's grants, and the rule behind the
//! `has_*_privilege` functions.
//!
//! A role holds a privilege on an object when it is a superuser, when it (or a role it is a
//! member of, transitively) owns the object, holds a matching grant (`ALL` matches every
//! privilege; a grant to OID 0 is a grant to PUBLIC), or when PostgreSQL grants the
//! privilege to PUBLIC by default (`CONNECT`/`TEMPORARY` on the database, `EXECUTE` on
//! functions, `USAGE` on `public`, `pg_catalog` and `information_schema`, `SELECT` on system
//! tables). Grants are matched by object OID and privilege name, case-insensitively.
//! Governance may refine this; the ACL columns and the checks read the same grants.

use storage::catalog::{AttNum, Catalog, GrantDef, Oid, TableDef};

use super::names::{role_by_oid, roles};
use super::{SystemCtx, DATABASE_OID};
use crate::error::{code, SqlError, SqlResult};

/// The kinds of object privileges apply to, each with its privileges and their ACL letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectClass {
    Table,
    Column,
    Sequence,
    Schema,
    Database,
    Function,
}

impl ObjectClass {
    /// (privilege, ACL letter) pairs, in PostgreSQL's ACL order.
    fn privileges(self) -> &'static [(&'static str, char)] {
        match self {
            ObjectClass::Table => &[
                ("INSERT", 'a'),
                ("SELECT", 'r'),
                ("UPDATE", 'w'),
                ("DELETE", 'd'),
                ("TRUNCATE", 'D'),
                ("REFERENCES", 'x'),
                ("TRIGGER", 't'),
            ],
            ObjectClass::Column => &[
                ("INSERT", 'a'),
                ("SELECT", 'r'),
                ("UPDATE", 'w'),
                ("REFERENCES", 'x'),
            ],
            ObjectClass::Sequence => &[("SELECT", 'r'), ("UPDATE", 'w'), ("USAGE", 'U')],
            ObjectClass::Schema => &[("USAGE", 'U'), ("CREATE", 'C')],
            ObjectClass::Database => &[("CREATE", 'C'), ("TEMPORARY", 'T'), ("CONNECT", 'c')],
            ObjectClass::Function => &[("EXECUTE", 'X')],
        }
    }
}

fn is_all(privilege: &str) -> bool {
    privilege.eq_ignore_ascii_case("ALL") || privilege.eq_ignore_ascii_case("ALL PRIVILEGES")
}

/// A role name as `aclitem` prints it (empty for PUBLIC).
fn acl_role_name(catalog: &Catalog, session_user: &str, oid: Oid) -> String {
    if oid == 0 {
        return String::new();
    }
    match role_by_oid(catalog, session_user, oid) {
        Some(role) => {
            if role.name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                role.name
            } else {
                format!("\"{}\"", role.name.replace('"', "\"\""))
            }
        }
        None => oid.to_string(),
    }
}

/// The `aclitem[]` text items for an object: empty (NULL) while nothing was granted, else
/// the owner's implicit full entry followed by one item per (grantee, grantor).
fn acl(
    catalog: &Catalog,
    session_user: &str,
    class: ObjectClass,
    owner: Option<Oid>,
    grants: &[&GrantDef],
) -> Vec<String> {
    if grants.is_empty() {
        return Vec::new();
    }
    let mut items = Vec::new();
    if let Some(owner) = owner {
        let owner_name = acl_role_name(catalog, session_user, owner);
        let all: String = class.privileges().iter().map(|(_, l)| *l).collect();
        items.push(format!("{owner_name}={all}/{owner_name}"));
    }
    // In the order the grants were made, as PostgreSQL appends to an ACL.
    let mut pairs: Vec<(Oid, Oid)> = Vec::new();
    for g in grants {
        if !pairs.contains(&(g.grantee, g.grantor)) {
            pairs.push((g.grantee, g.grantor));
        }
    }
    for (grantee, grantor) in pairs {
        let mut letters = String::new();
        for (privilege, l) in class.privileges() {
            let granted = grants.iter().find(|g| {
                g.grantee == grantee
                    && g.grantor == grantor
                    && (is_all(&g.privilege) || g.privilege.eq_ignore_ascii_case(privilege))
            });
            if let Some(g) = granted {
                letters.push(*l);
                if g.with_grant_option {
                    letters.push('*');
                }
            }
        }
        if letters.is_empty() {
            continue;
        }
        let grantor = if grantor == 0 {
            owner.unwrap_or(0)
        } else {
            grantor
        };
        items.push(format!(
            "{}={letters}/{}",
            acl_role_name(catalog, session_user, grantee),
            acl_role_name(catalog, session_user, grantor)
        ));
    }
    items
}

fn grants_on(catalog: &Catalog, object: Oid, column: AttNum) -> Vec<&GrantDef> {
    catalog
        .grants
        .iter()
        .filter(|g| g.object == object && g.column == column)
        .collect()
}

/// `relacl` of a table ('r'), view ('v') or sequence ('S').
pub fn relation_acl(ctx: &SystemCtx, relation: Oid, owner: Oid, kind: char) -> Vec<String> {
    let class = if kind == 'S' {
        ObjectClass::Sequence
    } else {
        ObjectClass::Table
    };
    acl(
        ctx.catalog,
        ctx.user,
        class,
        Some(owner),
        &grants_on(ctx.catalog, relation, 0),
    )
}

/// `proacl` of a user function.
pub fn function_acl(ctx: &SystemCtx, function: Oid, owner: Oid) -> Vec<String> {
    acl(
        ctx.catalog,
        ctx.user,
        ObjectClass::Function,
        Some(owner),
        &grants_on(ctx.catalog, function, 0),
    )
}

/// `attacl` of a column (column-level grants only, no owner entry).
pub fn column_acl(ctx: &SystemCtx, table: &TableDef, attnum: AttNum) -> Vec<String> {
    acl(
        ctx.catalog,
        ctx.user,
        ObjectClass::Column,
        None,
        &grants_on(ctx.catalog, table.oid, attnum),
    )
}

/// `nspacl` of a catalog schema; `owner` is the owner `pg_namespace` shows. For `public`,
/// owned by `pg_database_owner`, the default PUBLIC USAGE entry comes first and grants its
/// real owner made show `pg_database_owner` as grantor, as PostgreSQL records them.
pub fn namespace_acl(ctx: &SystemCtx, schema: Oid, owner: Oid) -> Vec<String> {
    let grants = grants_on(ctx.catalog, schema, 0);
    let Some(def) = ctx.catalog.schemas.get(&schema) else {
        return acl(
            ctx.catalog,
            ctx.user,
            ObjectClass::Schema,
            Some(owner),
            &grants,
        );
    };
    if def.name != "public" || owner == def.owner || grants.is_empty() {
        return acl(
            ctx.catalog,
            ctx.user,
            ObjectClass::Schema,
            Some(owner),
            &grants,
        );
    }
    let mut shown: Vec<GrantDef> = vec![GrantDef {
        object_kind: "schema".into(),
        object: schema,
        column: 0,
        grantee: 0,
        grantor: owner,
        privilege: "USAGE".into(),
        with_grant_option: false,
    }];
    shown.extend(grants.into_iter().map(|g| GrantDef {
        grantor: if g.grantor == def.owner {
            owner
        } else {
            g.grantor
        },
        ..g.clone()
    }));
    let shown: Vec<&GrantDef> = shown.iter().collect();
    acl(
        ctx.catalog,
        ctx.user,
        ObjectClass::Schema,
        Some(owner),
        &shown,
    )
}

/// `datacl` of the database.
pub fn database_acl(ctx: &SystemCtx, owner: Oid) -> Vec<String> {
    let grants: Vec<&GrantDef> = ctx
        .catalog
        .grants
        .iter()
        .filter(|g| g.object_kind.eq_ignore_ascii_case("database"))
        .collect();
    acl(
        ctx.catalog,
        ctx.user,
        ObjectClass::Database,
        Some(owner),
        &grants,
    )
}

/// A privilege request from a `has_*_privilege` call: `'SELECT'`, `'select, insert'`,
/// `'UPDATE WITH GRANT OPTION'`. Any one of the listed privileges suffices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub privilege: &'static str,
    pub with_grant_option: bool,
}

/// Parses a privilege list for `class`; 22023 for a privilege the class does not have.
pub fn parse_privileges(text: &str, class: ObjectClass) -> SqlResult<Vec<Wanted>> {
    let mut wanted = Vec::new();
    for item in text.split(',') {
        let words: Vec<&str> = item.split_whitespace().collect();
        let (privilege, with_grant_option) = match words.as_slice() {
            [p] => (*p, false),
            [p, w, g, o]
                if w.eq_ignore_ascii_case("with")
                    && g.eq_ignore_ascii_case("grant")
                    && o.eq_ignore_ascii_case("option") =>
            {
                (*p, true)
            }
            _ => ("", false),
        };
        let privilege = if privilege.eq_ignore_ascii_case("TEMP") {
            "TEMPORARY"
        } else {
            privilege
        };
        let Some((name, _)) = class
            .privileges()
            .iter()
            .find(|(p, _)| p.eq_ignore_ascii_case(privilege))
        else {
            return Err(SqlError::new(
                code::INVALID_PARAMETER_VALUE,
                format!("unrecognized privilege type: \"{}\"", item.trim()),
            ));
        };
        wanted.push(Wanted {
            privilege: name,
            with_grant_option,
        });
    }
    Ok(wanted)
}

/// The roles whose privileges `role` has: itself, every role it is a member of
/// (transitively, through roles with INHERIT, as PostgreSQL 15), and PUBLIC (0).
pub fn effective_roles(catalog: &Catalog, session_user: &str, role: Oid) -> Vec<Oid> {
    let all = roles(catalog, session_user);
    let mut found = vec![0, role];
    let mut i = 1;
    while i < found.len() {
        let current = found[i];
        if let Some(r) = all.iter().find(|r| r.oid == current && r.inherit) {
            for parent in &r.member_of {
                if !found.contains(parent) {
                    found.push(*parent);
                }
            }
        }
        i += 1;
    }
    found
}

/// Whether `role` is a superuser.
pub fn is_superuser(catalog: &Catalog, session_user: &str, role: Oid) -> bool {
    role_by_oid(catalog, session_user, role).is_some_and(|r| r.superuser)
}

/// An object a privilege is checked on.
pub struct Object<'a> {
    pub class: ObjectClass,
    /// The OID grants name (the table's for a column).
    pub oid: Oid,
    /// The column for a column privilege, else 0.
    pub column: AttNum,
    pub owner: Oid,
    /// The privileges PUBLIC holds by default.
    pub public_default: &'a [&'a str],
}

/// Whether `role` holds any of `wanted` on `object`.
pub fn role_has_privilege(
    catalog: &Catalog,
    session_user: &str,
    role: Oid,
    object: &Object,
    wanted: &[Wanted],
) -> bool {
    if is_superuser(catalog, session_user, role) {
        return true;
    }
    let holders = effective_roles(catalog, session_user, role);
    if holders.contains(&object.owner) {
        return true;
    }
    wanted.iter().any(|w| {
        if !w.with_grant_option
            && object
                .public_default
                .iter()
                .any(|p| p.eq_ignore_ascii_case(w.privilege))
        {
            return true;
        }
        catalog.grants.iter().any(|g| {
            // Database grants are recognised by kind: there is one database.
            let same_object = if object.class == ObjectClass::Database {
                g.object_kind.eq_ignore_ascii_case("database") || g.object == DATABASE_OID
            } else {
                g.object == object.oid
            };
            same_object
                && (g.column == object.column || g.column == 0)
                && holders.contains(&g.grantee)
                && (is_all(&g.privilege) || g.privilege.eq_ignore_ascii_case(w.privilege))
                && (g.with_grant_option || !w.with_grant_option)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn privilege_lists_parse_and_reject_unknown_names() {
        let wanted = parse_privileges("select, INSERT WITH GRANT OPTION", ObjectClass::Table)
            .expect("valid");
        assert_eq!(wanted.len(), 2);
        assert_eq!(wanted[0].privilege, "SELECT");
        assert!(wanted[1].with_grant_option);
        let err = parse_privileges("usage", ObjectClass::Table).expect_err("not a table privilege");
        assert_eq!(err.code, code::INVALID_PARAMETER_VALUE);
        assert_eq!(
            parse_privileges("temp", ObjectClass::Database).expect("valid")[0].privilege,
            "TEMPORARY"
        );
    }
}
