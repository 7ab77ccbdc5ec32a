//! GRANT and REVOKE of privileges on objects: tables, views and sequences (whole or by
//! column), schemas, functions and the database; `ALL [PRIVILEGES]`, `ALL TABLES |
//! SEQUENCES | FUNCTIONS IN SCHEMA`, `WITH GRANT OPTION`, PUBLIC.
//!
//! A grant is stored per privilege ([`GrantDef`], `ALL` expanded to the object's privileges)
//! so that a later REVOKE of one privilege leaves the others. Who may grant (PostgreSQL's
//! `restrict_and_check_grant`): the owner (or a member with its privileges) and superusers,
//! recorded with the owner as grantor; otherwise a role that holds the privilege WITH GRANT
//! OPTION, recorded as grantor itself. A role without any grant option is refused (42501
//! when it has no privilege at all), one with some gets a warning (01007) for the rest.
//!
//! REVOKE removes the grants the same grantor made. Revoking a privilege another role has
//! passed on needs CASCADE (2BP01 otherwise), which removes the grants made from it.
//! A table-level REVOKE also removes column-level grants of the same privilege.
//!
//! Functions start with EXECUTE granted to PUBLIC (PostgreSQL's default ACL); the first
//! GRANT or REVOKE on a function writes that default down (attribute `ACL` = `explicit`)
//! so that `REVOKE EXECUTE ... FROM PUBLIC` takes it away.

use storage::catalog::{AttNum, Catalog, GrantDef, Oid};

use super::roles::{current_role_oid, role_spec_oid};
use super::statement::{AclStatement, Objects, PrivilegeItem, RoleSpec};
use super::{has_privileges_of, insufficient_privilege, is_superuser};
use crate::engine::{Outcome, Session};
use crate::error::{code, SqlError, SqlResult};
use crate::pg_catalog::privileges::{role_has_privilege, Object, ObjectClass, Wanted};

const INVALID_GRANT_OPERATION: &str = "0LP01";
const WARNING_PRIVILEGE_NOT_GRANTED: &str = "01007";
const WARNING_PRIVILEGE_NOT_REVOKED: &str = "01006";
const DEPENDENT_PRIVILEGES: &str = "2BP01";

/// The function attribute that says its ACL was written down (no implicit PUBLIC EXECUTE).
pub const EXPLICIT_ACL_ATTRIBUTE: &str = "ACL";

/// Whether PUBLIC holds EXECUTE on user function `oid` by default (no GRANT or REVOKE has
/// touched its ACL yet).
pub fn function_has_default_acl(catalog: &Catalog, oid: Oid) -> bool {
    catalog
        .functions
        .get(&oid)
        .is_none_or(|f| !f.attributes.contains_key(EXPLICIT_ACL_ATTRIBUTE))
}

/// One object a GRANT / REVOKE names.
struct Target {
    kind: &'static str,
    class: ObjectClass,
    oid: Oid,
    owner: Oid,
    /// How errors and warnings name it (`table t`).
    noun: &'static str,
    name: String,
    /// Column attnums and names, for a table.
    columns: Vec<(AttNum, String)>,
}

/// The privileges of `class` in ACL order.
fn class_privileges(class: ObjectClass) -> &'static [&'static str] {
    match class {
        ObjectClass::Table => &[
            "INSERT",
            "SELECT",
            "UPDATE",
            "DELETE",
            "TRUNCATE",
            "REFERENCES",
            "TRIGGER",
        ],
        ObjectClass::Column => &["INSERT", "SELECT", "UPDATE", "REFERENCES"],
        ObjectClass::Sequence => &["SELECT", "UPDATE", "USAGE"],
        ObjectClass::Schema => &["USAGE", "CREATE"],
        ObjectClass::Database => &["CREATE", "TEMPORARY", "CONNECT"],
        ObjectClass::Function => &["EXECUTE"],
    }
}

fn class_name(class: ObjectClass) -> &'static str {
    match class {
        ObjectClass::Table => "table",
        ObjectClass::Column => "column",
        ObjectClass::Sequence => "sequence",
        ObjectClass::Schema => "schema",
        ObjectClass::Database => "database",
        ObjectClass::Function => "function",
    }
}

/// The (column, privilege) pairs a privilege list means for `target`; column 0 is the whole
/// object.
fn expand(target: &Target, privileges: &[PrivilegeItem]) -> SqlResult<Vec<(AttNum, &'static str)>> {
    let mut out = Vec::new();
    for item in privileges {
        let (class, columns) = if item.columns.is_empty() {
            (target.class, vec![0])
        } else {
            if target.class != ObjectClass::Table || target.columns.is_empty() {
                return Err(SqlError::new(
                    code::FEATURE_NOT_SUPPORTED,
                    format!(
                        "column privileges are only valid for tables, not {} {}",
                        target.noun, target.name
                    ),
                ));
            }
            let mut attnums = Vec::new();
            for c in &item.columns {
                let attnum = target
                    .columns
                    .iter()
                    .find(|(_, n)| n == c)
                    .map(|(a, _)| *a)
                    .ok_or_else(|| {
                        SqlError::new(
                            code::UNDEFINED_COLUMN,
                            format!(
                                "column \"{c}\" of relation \"{}\" does not exist",
                                target.name
                            ),
                        )
                    })?;
                attnums.push(attnum);
            }
            (ObjectClass::Column, attnums)
        };
        let names: Vec<&'static str> = if item.name == "ALL" {
            class_privileges(class).to_vec()
        } else {
            match class_privileges(class).iter().find(|p| **p == item.name) {
                Some(p) => vec![*p],
                None => {
                    return Err(SqlError::new(
                        INVALID_GRANT_OPERATION,
                        format!(
                            "invalid privilege type {} for {}",
                            item.name,
                            class_name(class)
                        ),
                    ))
                }
            }
        };
        for column in columns {
            for name in &names {
                if !out.contains(&(column, *name)) {
                    out.push((column, *name));
                }
            }
        }
    }
    Ok(out)
}

fn relation_target(
    catalog: &Catalog,
    relation: crate::catalog_access::Relation,
    shown: &str,
) -> SqlResult<Target> {
    use crate::catalog_access::Relation;
    match relation {
        Relation::Table(oid) => {
            let t = &catalog.tables[&oid];
            Ok(Target {
                kind: "table",
                class: ObjectClass::Table,
                oid,
                owner: t.owner,
                noun: "table",
                name: t.name.clone(),
                columns: t
                    .live_columns()
                    .map(|c| (c.attnum, c.name.clone()))
                    .collect(),
            })
        }
        Relation::View(oid) => {
            let v = &catalog.views[&oid];
            Ok(Target {
                kind: "view",
                class: ObjectClass::Table,
                oid,
                owner: v.owner,
                noun: "view",
                name: v.name.clone(),
                columns: Vec::new(),
            })
        }
        Relation::Sequence(oid) => {
            let s = &catalog.sequences[&oid];
            Ok(Target {
                kind: "sequence",
                class: ObjectClass::Sequence,
                oid,
                owner: s.owner,
                noun: "sequence",
                name: s.name.clone(),
                columns: Vec::new(),
            })
        }
        Relation::System(_) => Err(SqlError::unsupported(format!(
            "GRANT and REVOKE on system catalog \"{shown}\""
        ))),
    }
}

fn schema_oid(catalog: &Catalog, name: &str) -> SqlResult<Oid> {
    catalog.schema_by_name(name).map(|s| s.oid).ok_or_else(|| {
        if name == "pg_catalog" || name == "information_schema" {
            SqlError::unsupported(format!("GRANT and REVOKE on schema {name}"))
        } else {
            SqlError::new(
                code::INVALID_SCHEMA_NAME,
                format!("schema \"{name}\" does not exist"),
            )
        }
    })
}

fn function_target(catalog: &Catalog, oid: Oid) -> Target {
    let f = &catalog.functions[&oid];
    Target {
        kind: "function",
        class: ObjectClass::Function,
        oid,
        owner: f.owner,
        noun: "function",
        name: f.name.clone(),
        columns: Vec::new(),
    }
}

/// The objects a statement names, resolved.
fn targets(session: &Session, catalog: &Catalog, objects: &Objects) -> SqlResult<Vec<Target>> {
    let path = crate::catalog_access::effective_path(
        catalog,
        &session.search_path(),
        session.current_user(),
    );
    let mut out = Vec::new();
    match objects {
        Objects::Tables(names) | Objects::Sequences(names) => {
            let sequences = matches!(objects, Objects::Sequences(_));
            for parts in names {
                let (schema, name) = match parts.as_slice() {
                    [name] => (None, name.as_str()),
                    [schema, name] => (Some(schema.as_str()), name.as_str()),
                    [_, schema, name] => (Some(schema.as_str()), name.as_str()),
                    _ => {
                        return Err(SqlError::syntax(
                            "improper qualified name (too many dotted names)",
                        ))
                    }
                };
                let shown = parts.join(".");
                let relation =
                    crate::catalog_access::resolve_relation(catalog, schema, name, &path)?;
                let target = relation_target(catalog, relation, &shown)?;
                if sequences && target.class != ObjectClass::Sequence {
                    return Err(SqlError::new(
                        code::WRONG_OBJECT_TYPE,
                        format!("\"{}\" is not a sequence", target.name),
                    ));
                }
                out.push(target);
            }
        }
        Objects::Schemas(names) => {
            for name in names {
                let oid = schema_oid(catalog, name)?;
                let s = &catalog.schemas[&oid];
                out.push(Target {
                    kind: "schema",
                    class: ObjectClass::Schema,
                    oid,
                    owner: s.owner,
                    noun: "schema",
                    name: s.name.clone(),
                    columns: Vec::new(),
                });
            }
        }
        Objects::Databases(names) => {
            for name in names {
                if name != crate::engine::DATABASE_NAME {
                    return Err(SqlError::new(
                        code::INVALID_CATALOG_NAME,
                        format!("database \"{name}\" does not exist"),
                    ));
                }
                let owner =
                    crate::pg_catalog::names::bootstrap_owner(catalog, session.current_user());
                out.push(Target {
                    kind: "database",
                    class: ObjectClass::Database,
                    oid: crate::pg_catalog::DATABASE_OID,
                    owner,
                    noun: "database",
                    name: name.clone(),
                    columns: Vec::new(),
                });
            }
        }
        Objects::Functions(signatures) => {
            for (parts, args) in signatures {
                let (schema, name) = match parts.as_slice() {
                    [name] => (None, name.as_str()),
                    [schema, name] => (Some(schema_oid(catalog, schema)?), name.as_str()),
                    _ => {
                        return Err(SqlError::syntax(
                            "improper qualified name (too many dotted names)",
                        ))
                    }
                };
                let arity = args.as_ref().map(|a| {
                    if a.trim().is_empty() {
                        0
                    } else {
                        a.split(',').count()
                    }
                });
                let in_path: Vec<Oid> = path
                    .iter()
                    .filter_map(|s| catalog.schema_by_name(s).map(|s| s.oid))
                    .collect();
                let candidates: Vec<Oid> = catalog
                    .functions
                    .values()
                    .filter(|f| {
                        f.name == name
                            && schema.map_or(in_path.contains(&f.schema), |s| f.schema == s)
                            && arity.is_none_or(|n| f.arguments.len() == n)
                    })
                    .map(|f| f.oid)
                    .collect();
                let shown = match args {
                    Some(a) => format!("{}({a})", parts.join(".")),
                    None => parts.join("."),
                };
                match candidates.as_slice() {
                    [oid] => out.push(function_target(catalog, *oid)),
                    [] if schema.is_none()
                        && crate::governance::tokenize::grantable_builtin_oid(name).is_some() =>
                    {
                        // Built-ins whose EXECUTE is granted explicitly (detokenize): owned
                        // by the bootstrap superuser, nothing granted to PUBLIC.
                        out.push(Target {
                            kind: "function",
                            class: ObjectClass::Function,
                            oid: crate::governance::tokenize::grantable_builtin_oid(name)
                                .unwrap_or_default(),
                            owner: crate::pg_catalog::BOOTSTRAP_SUPERUSER_OID,
                            noun: "function",
                            name: name.to_string(),
                            columns: Vec::new(),
                        });
                    }
                    [] => {
                        if crate::pg_catalog::procs::proc_oid_by_name(catalog, name).is_some() {
                            return Err(SqlError::unsupported(format!(
                                "GRANT and REVOKE on built-in function {shown}"
                            )));
                        }
                        return Err(SqlError::new(
                            code::UNDEFINED_FUNCTION,
                            format!("function {shown} does not exist"),
                        ));
                    }
                    _ => {
                        return Err(SqlError::new(
                            code::AMBIGUOUS_FUNCTION,
                            format!("function name \"{shown}\" is not unique"),
                        )
                        .with_hint(
                            "Specify the argument list to select the function unambiguously.",
                        ))
                    }
                }
            }
        }
        Objects::AllTablesInSchema(schemas) | Objects::AllSequencesInSchema(schemas) => {
            let sequences = matches!(objects, Objects::AllSequencesInSchema(_));
            for name in schemas {
                let oid = schema_oid(catalog, name)?;
                if sequences {
                    for s in catalog.sequences.values().filter(|s| s.schema == oid) {
                        out.push(relation_target(
                            catalog,
                            crate::catalog_access::Relation::Sequence(s.oid),
                            &s.name,
                        )?);
                    }
                } else {
                    // ALL TABLES covers views too (not sequences), as in PostgreSQL.
                    for t in catalog.tables.values().filter(|t| t.schema == oid) {
                        out.push(relation_target(
                            catalog,
                            crate::catalog_access::Relation::Table(t.oid),
                            &t.name,
                        )?);
                    }
                    for v in catalog.views.values().filter(|v| v.schema == oid) {
                        out.push(relation_target(
                            catalog,
                            crate::catalog_access::Relation::View(v.oid),
                            &v.name,
                        )?);
                    }
                }
            }
        }
        Objects::AllFunctionsInSchema(schemas) => {
            for name in schemas {
                let oid = schema_oid(catalog, name)?;
                for f in catalog.functions.values().filter(|f| f.schema == oid) {
                    out.push(function_target(catalog, f.oid));
                }
            }
        }
    }
    Ok(out)
}

/// A sequence named through `ON TABLE` takes only its own privileges (PostgreSQL warns and
/// grants those; `ALL` means all of them).
fn adjust_for_sequence(target: &Target, privileges: &[PrivilegeItem]) -> Vec<PrivilegeItem> {
    if target.class != ObjectClass::Sequence {
        return privileges.to_vec();
    }
    privileges
        .iter()
        .filter(|p| {
            p.name == "ALL" || class_privileges(ObjectClass::Sequence).contains(&p.name.as_str())
        })
        .cloned()
        .collect()
}

/// Who the grantor is for the current user on `target`, and which of `wanted` it may pass
/// on. The owner (or a superuser) grants as the owner, with every privilege.
fn grantor_and_options(
    session: &Session,
    catalog: &Catalog,
    me: Oid,
    target: &Target,
    wanted: &[(AttNum, &'static str)],
) -> (Oid, Vec<bool>, bool) {
    if is_superuser(catalog, me) || has_privileges_of(catalog, me, target.owner) {
        return (target.owner, vec![true; wanted.len()], true);
    }
    let user = session.current_user();
    let holds = |column: AttNum, privilege: &'static str, with_grant_option: bool| {
        let object = Object {
            class: if column == 0 {
                target.class
            } else {
                ObjectClass::Column
            },
            oid: target.oid,
            column,
            owner: target.owner,
            public_default: &[],
        };
        role_has_privilege(
            catalog,
            user,
            me,
            &object,
            &[Wanted {
                privilege,
                with_grant_option,
            }],
        )
    };
    let options: Vec<bool> = wanted.iter().map(|(c, p)| holds(*c, p, true)).collect();
    let any_privilege = class_privileges(target.class)
        .iter()
        .any(|p| holds(0, p, false));
    (me, options, any_privilege)
}

/// Marks `target`'s ACL as written down: a grant entry without a privilege, which keeps
/// the ACL (the owner's entry) showing once every grant is revoked, as PostgreSQL's ACL
/// stays non-NULL. Checks and `aclitem` letters never match it.
pub fn is_acl_marker(grant: &GrantDef) -> bool {
    grant.privilege.is_empty()
}

fn mark_acl_explicit(session: &mut Session, target: &Target) {
    let catalog = session.catalog();
    let marked = catalog
        .grants
        .iter()
        .any(|g| g.object == target.oid && g.column == 0 && is_acl_marker(g));
    if marked {
        return;
    }
    session.transaction().catalog_mut().grants.push(GrantDef {
        object_kind: target.kind.into(),
        object: target.oid,
        column: 0,
        grantee: target.owner,
        grantor: target.owner,
        privilege: String::new(),
        with_grant_option: false,
    });
}

/// Writes a function's default ACL (owner and PUBLIC EXECUTE) before its first change.
fn materialise_function_acl(session: &mut Session, target: &Target) {
    if target.class == ObjectClass::Function
        && !session.catalog().functions.contains_key(&target.oid)
    {
        // A built-in (detokenize): its ACL starts empty, nothing to write down.
        return;
    }
    mark_acl_explicit(session, target);
    if target.class != ObjectClass::Function
        || !function_has_default_acl(&session.catalog(), target.oid)
    {
        return;
    }
    let catalog = session.transaction().catalog_mut();
    if let Some(f) = catalog.functions.get_mut(&target.oid) {
        f.attributes
            .insert(EXPLICIT_ACL_ATTRIBUTE.into(), "explicit".into());
    }
    catalog.grants.push(GrantDef {
        object_kind: "function".into(),
        object: target.oid,
        column: 0,
        grantee: 0,
        grantor: target.owner,
        privilege: "EXECUTE".into(),
        with_grant_option: false,
    });
}

pub fn execute(session: &mut Session, statement: AclStatement) -> SqlResult<Outcome> {
    match statement {
        AclStatement::GrantPrivileges {
            privileges,
            objects,
            grantees,
            grant_option,
            granted_by,
        } => {
            if let Some(spec) = granted_by {
                let catalog = session.catalog();
                let named = role_spec_oid(session, &catalog, &spec)?;
                if named != current_role_oid(session, &catalog) {
                    return Err(SqlError::unsupported("grantor must be current user"));
                }
            }
            grant(session, &privileges, &objects, &grantees, grant_option)?;
            Ok(Outcome::Command {
                tag: "GRANT".into(),
            })
        }
        AclStatement::RevokePrivileges {
            privileges,
            objects,
            grantees,
            grant_option_only,
            cascade,
        } => {
            revoke(
                session,
                &privileges,
                &objects,
                &grantees,
                grant_option_only,
                cascade,
            )?;
            Ok(Outcome::Command {
                tag: "REVOKE".into(),
            })
        }
        _ => Err(SqlError::internal("not a privilege statement")),
    }
}

fn grantee_oids(
    session: &Session,
    catalog: &Catalog,
    grantees: &[RoleSpec],
) -> SqlResult<Vec<Oid>> {
    grantees
        .iter()
        .map(|g| role_spec_oid(session, catalog, g))
        .collect()
}

fn grant(
    session: &mut Session,
    privileges: &[PrivilegeItem],
    objects: &Objects,
    grantees: &[RoleSpec],
    grant_option: bool,
) -> SqlResult<()> {
    let catalog = session.catalog();
    let me = current_role_oid(session, &catalog);
    let grantees = grantee_oids(session, &catalog, grantees)?;
    if grant_option && grantees.contains(&0) {
        return Err(SqlError::new(
            INVALID_GRANT_OPERATION,
            "grant options can only be granted to roles",
        ));
    }
    for target in targets(session, &catalog, objects)? {
        let items = adjust_for_sequence(&target, privileges);
        let wanted = expand(&target, &items)?;
        let (grantor, options, any_privilege) =
            grantor_and_options(session, &catalog, me, &target, &wanted);
        let allowed: Vec<(AttNum, &'static str)> = wanted
            .iter()
            .zip(&options)
            .filter(|(_, ok)| **ok)
            .map(|(w, _)| *w)
            .collect();
        if allowed.is_empty() {
            if !any_privilege {
                return Err(insufficient_privilege(format!(
                    "permission denied for {} {}",
                    target.noun, target.name
                )));
            }
            session.warning(
                WARNING_PRIVILEGE_NOT_GRANTED,
                format!("no privileges were granted for \"{}\"", target.name),
            );
            continue;
        }
        if allowed.len() < wanted.len() {
            session.warning(
                WARNING_PRIVILEGE_NOT_GRANTED,
                format!("not all privileges were granted for \"{}\"", target.name),
            );
        }
        if allowed.iter().any(|(column, _)| *column == 0) {
            materialise_function_acl(session, &target);
        }
        let catalog = session.transaction().catalog_mut();
        for grantee in &grantees {
            for (column, privilege) in &allowed {
                let existing = catalog.grants.iter_mut().find(|g| {
                    g.object == target.oid
                        && g.column == *column
                        && g.grantee == *grantee
                        && g.grantor == grantor
                        && g.privilege == *privilege
                });
                match existing {
                    Some(g) => g.with_grant_option |= grant_option,
                    None => catalog.grants.push(GrantDef {
                        object_kind: target.kind.into(),
                        object: target.oid,
                        column: *column,
                        grantee: *grantee,
                        grantor,
                        privilege: (*privilege).into(),
                        with_grant_option: grant_option,
                    }),
                }
            }
        }
    }
    Ok(())
}

fn revoke(
    session: &mut Session,
    privileges: &[PrivilegeItem],
    objects: &Objects,
    grantees: &[RoleSpec],
    grant_option_only: bool,
    cascade: bool,
) -> SqlResult<()> {
    let catalog = session.catalog();
    let me = current_role_oid(session, &catalog);
    let grantees = grantee_oids(session, &catalog, grantees)?;
    for target in targets(session, &catalog, objects)? {
        let items = adjust_for_sequence(&target, privileges);
        let wanted = expand(&target, &items)?;
        let (grantor, options, any_privilege) =
            grantor_and_options(session, &catalog, me, &target, &wanted);
        if !options.iter().any(|o| *o) {
            if !any_privilege {
                return Err(insufficient_privilege(format!(
                    "permission denied for {} {}",
                    target.noun, target.name
                )));
            }
            session.warning(
                WARNING_PRIVILEGE_NOT_REVOKED,
                format!("no privileges could be revoked for \"{}\"", target.name),
            );
            continue;
        }
        // What custos keeps implicit cannot be taken away: the owner's privileges and
        // PUBLIC's USAGE on schema public. Refused rather than silently kept.
        if grantees.contains(&target.owner) {
            return Err(SqlError::unsupported(format!(
                "revoking privileges of {} {} from its owner",
                target.noun, target.name
            )));
        }
        if target.class == ObjectClass::Schema
            && target.name == "public"
            && grantees.contains(&0)
            && wanted.iter().any(|(_, p)| *p == "USAGE")
        {
            return Err(SqlError::unsupported(
                "revoking the default USAGE on schema public from PUBLIC",
            ));
        }
        if wanted.iter().any(|(column, _)| *column == 0) {
            materialise_function_acl(session, &target);
        }
        let mut grants = session.catalog().grants.clone();
        for grantee in &grantees {
            for (column, privilege) in &wanted {
                // A table-level revoke takes the column-level grants of the privilege too.
                let matches = |g: &GrantDef| {
                    g.object == target.oid
                        && (g.column == *column || *column == 0)
                        && g.grantee == *grantee
                        && g.grantor == grantor
                        && g.privilege == *privilege
                };
                for g in grants.iter_mut().filter(|g| matches(g)) {
                    g.with_grant_option = false;
                }
                if !grant_option_only {
                    grants.retain(|g| !matches(g));
                }
                remove_dependent_grants(
                    &mut grants,
                    target.oid,
                    *grantee,
                    privilege,
                    cascade,
                    &target,
                )?;
            }
        }
        session.transaction().catalog_mut().grants = grants;
    }
    Ok(())
}

/// After `grantee` lost the grant option for `privilege` on `object`, the grants it made
/// from that option go too (CASCADE) or the revoke fails (2BP01).
fn remove_dependent_grants(
    grants: &mut Vec<GrantDef>,
    object: Oid,
    grantee: Oid,
    privilege: &str,
    cascade: bool,
    target: &Target,
) -> SqlResult<()> {
    let mut lost = vec![grantee];
    while let Some(role) = lost.pop() {
        if role == 0 {
            continue;
        }
        let still_has_option = grants.iter().any(|g| {
            g.object == object
                && g.grantee == role
                && g.privilege == privilege
                && g.with_grant_option
        });
        if still_has_option {
            continue;
        }
        let dependent: Vec<Oid> = grants
            .iter()
            .filter(|g| g.object == object && g.grantor == role && g.privilege == privilege)
            .map(|g| g.grantee)
            .collect();
        if dependent.is_empty() {
            continue;
        }
        if !cascade {
            return Err(
                SqlError::new(DEPENDENT_PRIVILEGES, "dependent privileges exist")
                    .with_hint("Use CASCADE to revoke them too."),
            );
        }
        grants.retain(|g| !(g.object == object && g.grantor == role && g.privilege == privilege));
        lost.extend(dependent);
        let _ = target;
    }
    Ok(())
}
