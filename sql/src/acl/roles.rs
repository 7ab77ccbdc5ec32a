//! CREATE / ALTER / DROP ROLE (and USER, GROUP) and GRANT / REVOKE of role membership, with
//! PostgreSQL 15's rules for who may do what and its messages:
//!
//! * creating a role needs CREATEROLE; a superuser, replication or BYPASSRLS role needs a
//!   superuser;
//! * altering a superuser (or the SUPERUSER, REPLICATION, BYPASSRLS attributes) needs a
//!   superuser; other attributes need CREATEROLE, except that any role may change its own
//!   password and its own settings;
//! * dropping needs CREATEROLE (a superuser for a superuser); the current and session users
//!   cannot be dropped, nor a role that owns objects or holds privileges (2BP01);
//! * granting membership needs CREATEROLE or ADMIN OPTION on the role (a superuser for a
//!   superuser role); a grant that would make a cycle is refused (0LP01).
//!
//! Changes go to the transaction's catalog and commit with it.

use storage::catalog::{Catalog, Oid, RoleDef};

use super::identity::NO_ROLE;
use super::password::stored_password;
use super::statement::{AclStatement, AlterRole, RoleKeyword, RoleOption, RoleSpec};
use super::{insufficient_privilege, is_superuser, role_by_name, role_flag, undefined_role};
use crate::engine::{Outcome, Session};
use crate::error::{code, SqlError, SqlResult};

/// PostgreSQL's `ERRCODE_INVALID_GRANT_OPERATION`.
const INVALID_GRANT_OPERATION: &str = "0LP01";
const OBJECT_IN_USE: &str = "55006";
const DEPENDENT_OBJECTS_STILL_EXIST: &str = "2BP01";

fn done(tag: &str) -> SqlResult<Outcome> {
    Ok(Outcome::Command { tag: tag.into() })
}

/// The OID of the current user in `catalog` ([`NO_ROLE`] when it no longer exists).
pub fn current_role_oid(session: &Session, catalog: &Catalog) -> Oid {
    role_by_name(catalog, session.current_user()).map_or(NO_ROLE, |r| r.oid)
}

fn has_createrole(catalog: &Catalog, oid: Oid) -> bool {
    catalog
        .roles
        .get(&oid)
        .is_some_and(|r| role_flag(r, "SUPERUSER") || role_flag(r, "CREATEROLE"))
}

/// Resolves a role specification to an OID (PUBLIC is 0).
pub fn role_spec_oid(session: &Session, catalog: &Catalog, spec: &RoleSpec) -> SqlResult<Oid> {
    match spec {
        RoleSpec::Public => Ok(0),
        RoleSpec::CurrentUser => Ok(current_role_oid(session, catalog)),
        RoleSpec::SessionUser => {
            Ok(role_by_name(catalog, session.session_user()).map_or(NO_ROLE, |r| r.oid))
        }
        RoleSpec::Name(name) => role_by_name(catalog, name)
            .map(|r| r.oid)
            .ok_or_else(|| undefined_role(name)),
    }
}

/// Refuses names PostgreSQL reserves for roles.
fn check_new_role_name(name: &str) -> SqlResult<()> {
    if name == "public" || name == "none" {
        return Err(SqlError::new(
            code::RESERVED_NAME,
            format!("role name \"{name}\" is reserved"),
        ));
    }
    if name.starts_with("pg_") {
        return Err(SqlError::new(
            code::RESERVED_NAME,
            format!("role name \"{name}\" is reserved"),
        )
        .with_detail("Role names starting with \"pg_\" are reserved."));
    }
    if name.len() > 63 {
        return Err(SqlError::new(
            code::NAME_TOO_LONG,
            format!("role name \"{name}\" is too long"),
        ));
    }
    Ok(())
}

fn redundant() -> SqlError {
    SqlError::syntax("conflicting or redundant options")
}

/// Role options checked for repetition, in a form that is easy to apply.
#[derive(Default)]
struct Options {
    flags: Vec<(&'static str, bool)>,
    connection_limit: Option<i32>,
    password: Option<Option<String>>,
    valid_until: Option<String>,
    in_role: Vec<String>,
    members: Vec<String>,
    admins: Vec<String>,
}

fn collect_options(session: &Session, given: Vec<RoleOption>) -> SqlResult<Options> {
    let mut options = Options::default();
    for option in given {
        match option {
            RoleOption::Flag(name, value) => {
                if options.flags.iter().any(|(n, _)| *n == name) {
                    return Err(redundant());
                }
                options.flags.push((name, value));
            }
            RoleOption::ConnectionLimit(n) => {
                if options.connection_limit.is_some() {
                    return Err(redundant());
                }
                if n < -1 {
                    return Err(SqlError::new(
                        code::INVALID_PARAMETER_VALUE,
                        format!("invalid connection limit: {n}"),
                    ));
                }
                options.connection_limit = Some(n);
            }
            RoleOption::Password(p) => {
                if options.password.is_some() {
                    return Err(redundant());
                }
                options.password = Some(p);
            }
            RoleOption::ValidUntil(text) => {
                if options.valid_until.is_some() {
                    return Err(redundant());
                }
                options.valid_until = Some(normalise_valid_until(session, &text)?);
            }
            // CREATE ROLE takes these out first; ALTER ROLE's grammar has none.
            RoleOption::InRole(_) | RoleOption::Members(_) | RoleOption::Admins(_) => {
                return Err(SqlError::internal("membership option left in role options"));
            }
        }
    }
    Ok(options)
}

/// `VALID UNTIL` text read as a `timestamptz` in the session's time zone and kept in ISO form
/// with a UTC offset (`infinity` as is).
fn normalise_valid_until(session: &Session, text: &str) -> SqlResult<String> {
    let sql_type = crate::pgtype::SqlType::Timestamptz;
    let value = session.input_text(text, &sql_type)?;
    let utc = crate::types::SessionFormat::default();
    Ok(crate::types::format_text(
        &value,
        &storage::types::DataType::Timestamptz,
        &utc,
    ))
}

/// Runs a role statement.
pub fn execute(session: &mut Session, statement: AclStatement) -> SqlResult<Outcome> {
    match statement {
        AclStatement::CreateRole {
            keyword,
            name,
            options,
        } => create_role(session, keyword, name, options),
        AclStatement::AlterRole { role, action } => alter_role(session, role, action),
        AclStatement::DropRole { names, if_exists } => drop_roles(session, names, if_exists),
        AclStatement::GrantRole {
            roles,
            grantees,
            admin_option,
            granted_by,
        } => {
            // The grantor of a membership is not recorded; the role named must exist.
            if let Some(spec) = granted_by {
                let catalog = session.catalog();
                role_spec_oid(session, &catalog, &spec)?;
            }
            grant_roles(session, &roles, &grantees, admin_option)?;
            done("GRANT ROLE")
        }
        AclStatement::RevokeRole {
            roles,
            grantees,
            admin_option_only,
            cascade: _,
        } => {
            revoke_roles(session, &roles, &grantees, admin_option_only)?;
            done("REVOKE ROLE")
        }
        _ => Err(SqlError::internal("not a role statement")),
    }
}

fn split_membership(
    options: &mut Vec<RoleOption>,
) -> (Vec<String>, Vec<String>, Vec<String>, bool) {
    let mut in_role = Vec::new();
    let mut members = Vec::new();
    let mut admins = Vec::new();
    let mut repeated = false;
    let mut seen = [false; 3];
    options.retain(|o| {
        let (i, list, target) = match o {
            RoleOption::InRole(l) => (0, l, &mut in_role),
            RoleOption::Members(l) => (1, l, &mut members),
            RoleOption::Admins(l) => (2, l, &mut admins),
            _ => return true,
        };
        repeated |= seen[i];
        seen[i] = true;
        target.extend(list.iter().cloned());
        false
    });
    (in_role, members, admins, repeated)
}

fn create_role(
    session: &mut Session,
    keyword: RoleKeyword,
    name: String,
    mut given: Vec<RoleOption>,
) -> SqlResult<Outcome> {
    check_new_role_name(&name)?;
    if name == crate::audit::READER_ROLE
        && !crate::acl::is_superuser(&session.catalog(), session.role_oid())
    {
        // Membership in this role reads the audit log (crate::audit::view).
        return Err(SqlError::new(
            code::INSUFFICIENT_PRIVILEGE,
            format!("permission denied to create role \"{name}\""),
        )
        .with_detail("Only superusers may create the audit reader role."));
    }
    let (in_role, members, admins, repeated) = split_membership(&mut given);
    if repeated {
        return Err(redundant());
    }
    let mut options = collect_options(session, given)?;
    options.in_role = in_role;
    options.members = members;
    options.admins = admins;
    let catalog = session.catalog();
    let me = current_role_oid(session, &catalog);
    let flag = |n: &str| options.flags.iter().find(|(f, _)| *f == n).map(|(_, v)| *v);
    if flag("SUPERUSER") == Some(true) {
        if !is_superuser(&catalog, me) {
            return Err(insufficient_privilege(
                "must be superuser to create superusers",
            ));
        }
    } else if flag("REPLICATION") == Some(true) {
        if !is_superuser(&catalog, me) {
            return Err(insufficient_privilege(
                "must be superuser to create replication users",
            ));
        }
    } else if flag("BYPASSRLS") == Some(true) {
        if !is_superuser(&catalog, me) {
            return Err(insufficient_privilege(
                "must be superuser to create bypassrls users",
            ));
        }
    } else if !has_createrole(&catalog, me) {
        return Err(insufficient_privilege("permission denied to create role"));
    }
    if role_by_name(&catalog, &name).is_some() {
        return Err(SqlError::new(
            code::DUPLICATE_OBJECT,
            format!("role \"{name}\" already exists"),
        ));
    }
    // Every role named must exist before anything changes.
    let mut in_role = Vec::new();
    for r in &options.in_role {
        in_role.push(
            role_by_name(&catalog, r)
                .ok_or_else(|| undefined_role(r))?
                .oid,
        );
    }
    let mut members = Vec::new();
    for (list, admin) in [(&options.members, false), (&options.admins, true)] {
        for m in list {
            members.push((
                role_by_name(&catalog, m)
                    .ok_or_else(|| undefined_role(m))?
                    .oid,
                admin,
            ));
        }
    }
    let mut role = RoleDef {
        name: name.clone(),
        ..Default::default()
    };
    let login_default = keyword == RoleKeyword::User;
    for (attribute, default) in [
        ("SUPERUSER", false),
        ("CREATEDB", false),
        ("CREATEROLE", false),
        ("INHERIT", true),
        ("LOGIN", login_default),
        ("REPLICATION", false),
        ("BYPASSRLS", false),
    ] {
        let value = flag(attribute).unwrap_or(default);
        role.attributes.insert(attribute.into(), value.to_string());
    }
    role.attributes.insert(
        "CONNECTION LIMIT".into(),
        options.connection_limit.unwrap_or(-1).to_string(),
    );
    if let Some(until) = &options.valid_until {
        role.attributes.insert("VALID UNTIL".into(), until.clone());
    }
    if let Some(Some(password)) = &options.password {
        let (stored, notice) = stored_password(password)?;
        if let Some(notice) = notice {
            session.notice(notice);
        }
        role.password_verifier = stored;
    }
    let catalog = session.transaction().catalog_mut();
    let oid = catalog.allocate_oid();
    role.oid = oid;
    catalog.roles.insert(oid, role);
    for parent in in_role {
        add_membership(session, oid, parent, false)?;
    }
    for (member, admin) in members {
        add_membership(session, member, oid, admin)?;
    }
    done("CREATE ROLE")
}

/// Makes `member` a member of `role` (checks for cycles; notices an existing membership).
fn add_membership(session: &mut Session, member: Oid, role: Oid, admin: bool) -> SqlResult<()> {
    let catalog = session.catalog();
    let name = |oid: Oid| {
        catalog
            .roles
            .get(&oid)
            .map_or_else(String::new, |r| r.name.clone())
    };
    // A cycle: `role` is already (transitively) a member of `member`, or they are the same.
    if member == role || super::member_closure(&catalog, role, false).contains(&member) {
        return Err(SqlError::new(
            INVALID_GRANT_OPERATION,
            format!(
                "role \"{}\" is a member of role \"{}\"",
                name(role),
                name(member)
            ),
        ));
    }
    let already = catalog
        .roles
        .get(&member)
        .is_some_and(|m| m.member_of.contains(&role));
    let already_admin = catalog
        .roles
        .get(&member)
        .is_some_and(|m| m.admin_of.contains(&role));
    if already && (!admin || already_admin) {
        session.notice(format!(
            "role \"{}\" is already a member of role \"{}\"",
            name(member),
            name(role)
        ));
        return Ok(());
    }
    let catalog = session.transaction().catalog_mut();
    if let Some(m) = catalog.roles.get_mut(&member) {
        if !m.member_of.contains(&role) {
            m.member_of.push(role);
        }
        if admin && !m.admin_of.contains(&role) {
            m.admin_of.push(role);
        }
    }
    Ok(())
}

/// Whether the current user may grant or revoke membership in `role`.
fn check_admin(catalog: &Catalog, me: Oid, role: &RoleDef) -> SqlResult<()> {
    if role_flag(role, "SUPERUSER") {
        if !is_superuser(catalog, me) {
            return Err(insufficient_privilege(
                "must be superuser to alter superusers",
            ));
        }
        return Ok(());
    }
    if has_createrole(catalog, me) {
        return Ok(());
    }
    // ADMIN OPTION held directly or through a role whose privileges `me` has.
    let holders = super::member_closure(catalog, me, true);
    let admin = holders.iter().any(|h| {
        catalog
            .roles
            .get(h)
            .is_some_and(|r| r.admin_of.contains(&role.oid))
    });
    if admin {
        return Ok(());
    }
    Err(insufficient_privilege(format!(
        "must have admin option on role \"{}\"",
        role.name
    )))
}

fn grantee_oids(
    session: &Session,
    catalog: &Catalog,
    grantees: &[RoleSpec],
) -> SqlResult<Vec<Oid>> {
    let mut oids = Vec::new();
    for grantee in grantees {
        if *grantee == RoleSpec::Public {
            return Err(undefined_role("public"));
        }
        oids.push(role_spec_oid(session, catalog, grantee)?);
    }
    Ok(oids)
}

fn grant_roles(
    session: &mut Session,
    roles: &[String],
    grantees: &[RoleSpec],
    admin: bool,
) -> SqlResult<()> {
    let catalog = session.catalog();
    let me = current_role_oid(session, &catalog);
    let members = grantee_oids(session, &catalog, grantees)?;
    for name in roles {
        let role = role_by_name(&catalog, name).ok_or_else(|| undefined_role(name))?;
        check_admin(&catalog, me, role)?;
        for member in &members {
            add_membership(session, *member, role.oid, admin)?;
        }
    }
    Ok(())
}

fn revoke_roles(
    session: &mut Session,
    roles: &[String],
    grantees: &[RoleSpec],
    admin_only: bool,
) -> SqlResult<()> {
    let catalog = session.catalog();
    let me = current_role_oid(session, &catalog);
    let members = grantee_oids(session, &catalog, grantees)?;
    for name in roles {
        let role = role_by_name(&catalog, name)
            .ok_or_else(|| undefined_role(name))?
            .clone();
        check_admin(&catalog, me, &role)?;
        for member in &members {
            let is_member = session
                .catalog()
                .roles
                .get(member)
                .is_some_and(|m| m.member_of.contains(&role.oid));
            if !is_member {
                let member_name = catalog.roles.get(member).map_or("", |m| m.name.as_str());
                session.warning(
                    code::WARNING,
                    format!(
                        "role \"{member_name}\" is not a member of role \"{}\"",
                        role.name
                    ),
                );
                continue;
            }
            let catalog = session.transaction().catalog_mut();
            if let Some(m) = catalog.roles.get_mut(member) {
                m.admin_of.retain(|r| *r != role.oid);
                if !admin_only {
                    m.member_of.retain(|r| *r != role.oid);
                }
            }
        }
    }
    Ok(())
}

fn alter_role(session: &mut Session, spec: RoleSpec, action: AlterRole) -> SqlResult<Outcome> {
    let catalog = session.catalog();
    let me = current_role_oid(session, &catalog);
    if spec == RoleSpec::Public {
        return Err(undefined_role("public"));
    }
    let oid = role_spec_oid(session, &catalog, &spec)?;
    let Some(role) = catalog.roles.get(&oid).cloned() else {
        return Err(undefined_role(session.current_user()));
    };
    let superuser_me = is_superuser(&catalog, me);
    let createrole_me = has_createrole(&catalog, me);
    match action {
        AlterRole::Options(given) => {
            let options = collect_options(session, given)?;
            let flag = |n: &str| options.flags.iter().find(|(f, _)| *f == n).map(|(_, v)| *v);
            if role_flag(&role, "SUPERUSER") || flag("SUPERUSER").is_some() {
                if !superuser_me {
                    return Err(insufficient_privilege(
                        "must be superuser to alter superuser roles or change superuser attribute",
                    ));
                }
            } else if role_flag(&role, "REPLICATION") || flag("REPLICATION").is_some() {
                if !superuser_me {
                    return Err(insufficient_privilege(
                        "must be superuser to alter replication roles or change replication attribute",
                    ));
                }
            } else if flag("BYPASSRLS").is_some() {
                if !superuser_me {
                    return Err(insufficient_privilege(
                        "must be superuser to change bypassrls attribute",
                    ));
                }
            } else if !createrole_me {
                // Without CREATEROLE a role may change only its own password.
                let only_own_password = options.flags.is_empty()
                    && options.connection_limit.is_none()
                    && options.valid_until.is_none()
                    && matches!(options.password, Some(Some(_)))
                    && oid == me;
                if !only_own_password {
                    return Err(insufficient_privilege("permission denied"));
                }
            }
            let mut updated = role;
            for (name, value) in &options.flags {
                updated.attributes.insert((*name).into(), value.to_string());
            }
            if let Some(n) = options.connection_limit {
                updated
                    .attributes
                    .insert("CONNECTION LIMIT".into(), n.to_string());
            }
            if let Some(until) = options.valid_until {
                updated.attributes.insert("VALID UNTIL".into(), until);
            }
            match options.password {
                Some(Some(password)) => {
                    let (stored, notice) = stored_password(&password)?;
                    if let Some(notice) = notice {
                        session.notice(notice);
                    }
                    updated.password_verifier = stored;
                }
                Some(None) => updated.password_verifier = None,
                None => {}
            }
            session
                .transaction()
                .catalog_mut()
                .roles
                .insert(oid, updated);
            // The current user's superuser status may have changed.
            if oid == me {
                let superuser =
                    flag("SUPERUSER").unwrap_or(role_flag(&catalog.roles[&oid], "SUPERUSER"));
                let in_transaction = session.in_block();
                session.settings.set_identity(
                    "is_superuser",
                    Some(if superuser { "on" } else { "off" }),
                    false,
                    in_transaction,
                )?;
            }
            done("ALTER ROLE")
        }
        AlterRole::Rename(new_name) => {
            if role.name == session.session_user() {
                return Err(SqlError::new(
                    code::FEATURE_NOT_SUPPORTED,
                    "session user cannot be renamed",
                ));
            }
            if oid == me {
                return Err(SqlError::new(
                    code::FEATURE_NOT_SUPPORTED,
                    "current user cannot be renamed",
                ));
            }
            if role_flag(&role, "SUPERUSER") {
                if !superuser_me {
                    return Err(insufficient_privilege(
                        "must be superuser to rename superusers",
                    ));
                }
            } else if !createrole_me {
                return Err(insufficient_privilege("permission denied to rename role"));
            }
            check_new_role_name(&new_name)?;
            if new_name == crate::audit::READER_ROLE && !superuser_me {
                return Err(insufficient_privilege("permission denied to rename role"));
            }
            if role_by_name(&catalog, &new_name).is_some() {
                return Err(SqlError::new(
                    code::DUPLICATE_OBJECT,
                    format!("role \"{new_name}\" already exists"),
                ));
            }
            let mut updated = role;
            updated.name = new_name;
            session
                .transaction()
                .catalog_mut()
                .roles
                .insert(oid, updated);
            done("ALTER ROLE")
        }
        AlterRole::Set(name, value) => {
            check_settings_change(&catalog, me, &role)?;
            // The value must be one the setting accepts.
            if let Some(v) = &value {
                let mut probe = session.settings.clone();
                probe.set(&name, Some(v), false, false)?;
            }
            let mut updated = role;
            match value {
                Some(v) => {
                    updated.settings.insert(name, v);
                }
                None => {
                    updated.settings.remove(&name);
                }
            }
            session
                .transaction()
                .catalog_mut()
                .roles
                .insert(oid, updated);
            done("ALTER ROLE")
        }
        AlterRole::Reset(name) => {
            check_settings_change(&catalog, me, &role)?;
            let mut updated = role;
            match name {
                Some(n) => {
                    updated.settings.remove(&n);
                }
                None => updated.settings.clear(),
            }
            session
                .transaction()
                .catalog_mut()
                .roles
                .insert(oid, updated);
            done("ALTER ROLE")
        }
        AlterRole::AddMembers(members) => {
            check_admin(&catalog, me, &role)?;
            for m in members {
                let member = role_by_name(&catalog, &m)
                    .ok_or_else(|| undefined_role(&m))?
                    .oid;
                add_membership(session, member, oid, false)?;
            }
            done("ALTER ROLE")
        }
        AlterRole::DropMembers(members) => {
            let specs: Vec<RoleSpec> = members.into_iter().map(RoleSpec::Name).collect();
            revoke_roles(session, std::slice::from_ref(&role.name), &specs, false)?;
            done("ALTER ROLE")
        }
    }
}

fn check_settings_change(catalog: &Catalog, me: Oid, role: &RoleDef) -> SqlResult<()> {
    if is_superuser(catalog, me) {
        return Ok(());
    }
    if role_flag(role, "SUPERUSER") {
        return Err(insufficient_privilege("permission denied"));
    }
    if role.oid == me || has_createrole(catalog, me) {
        return Ok(());
    }
    Err(insufficient_privilege("permission denied"))
}

fn drop_roles(session: &mut Session, names: Vec<String>, if_exists: bool) -> SqlResult<Outcome> {
    let catalog = session.catalog();
    let me = current_role_oid(session, &catalog);
    if !has_createrole(&catalog, me) {
        return Err(insufficient_privilege("permission denied to drop role"));
    }
    for name in names {
        let catalog = session.catalog();
        let Some(role) = role_by_name(&catalog, &name).cloned() else {
            if if_exists {
                session.notice(format!("role \"{name}\" does not exist, skipping"));
                continue;
            }
            return Err(undefined_role(&name));
        };
        if role.oid == me {
            return Err(SqlError::new(
                OBJECT_IN_USE,
                "current user cannot be dropped",
            ));
        }
        if role.name == session.session_user() || role.name == session.user {
            return Err(SqlError::new(
                OBJECT_IN_USE,
                "session user cannot be dropped",
            ));
        }
        if role_flag(&role, "SUPERUSER") && !is_superuser(&catalog, me) {
            return Err(insufficient_privilege(
                "must be superuser to drop superusers",
            ));
        }
        let dependents = dependents_of(&catalog, role.oid);
        if !dependents.is_empty() {
            return Err(SqlError::new(
                DEPENDENT_OBJECTS_STILL_EXIST,
                format!("role \"{name}\" cannot be dropped because some objects depend on it"),
            )
            .with_detail(dependents.join("\n")));
        }
        let catalog = session.transaction().catalog_mut();
        catalog.roles.remove(&role.oid);
        for other in catalog.roles.values_mut() {
            other.member_of.retain(|r| *r != role.oid);
            other.admin_of.retain(|r| *r != role.oid);
        }
    }
    done("DROP ROLE")
}

/// What keeps a role from being dropped, in PostgreSQL's DETAIL wording.
fn dependents_of(catalog: &Catalog, role: Oid) -> Vec<String> {
    let mut lines = Vec::new();
    let qualified = |schema: Oid, name: &str| match catalog.schemas.get(&schema) {
        Some(s) if s.name != "public" => format!("{}.{name}", s.name),
        _ => name.to_string(),
    };
    for s in catalog.schemas.values().filter(|s| s.owner == role) {
        lines.push(format!("owner of schema {}", s.name));
    }
    for t in catalog.tables.values().filter(|t| t.owner == role) {
        lines.push(format!("owner of table {}", qualified(t.schema, &t.name)));
    }
    for v in catalog.views.values().filter(|v| v.owner == role) {
        lines.push(format!("owner of view {}", qualified(v.schema, &v.name)));
    }
    for s in catalog.sequences.values().filter(|s| s.owner == role) {
        lines.push(format!(
            "owner of sequence {}",
            qualified(s.schema, &s.name)
        ));
    }
    for f in catalog.functions.values().filter(|f| f.owner == role) {
        lines.push(format!(
            "owner of function {}",
            qualified(f.schema, &f.name)
        ));
    }
    for p in catalog
        .policies
        .values()
        .filter(|p| p.roles.contains(&role))
    {
        if let Some(t) = catalog.tables.get(&p.table) {
            let table = qualified(t.schema, &t.name);
            lines.push(format!("target of policy {} on table {table}", p.name));
        }
    }
    let mut seen = Vec::new();
    for g in catalog
        .grants
        .iter()
        .filter(|g| (g.grantee == role || g.grantor == role) && !super::grant::is_acl_marker(g))
    {
        if seen.contains(&(g.object, g.column)) {
            continue;
        }
        seen.push((g.object, g.column));
        let what = if let Some(t) = catalog.tables.get(&g.object) {
            let table = qualified(t.schema, &t.name);
            match t.column(g.column).filter(|_| g.column != 0) {
                Some(c) => format!("privileges for column {} of table {table}", c.name),
                None => format!("privileges for table {table}"),
            }
        } else if let Some(v) = catalog.views.get(&g.object) {
            format!("privileges for view {}", qualified(v.schema, &v.name))
        } else if let Some(s) = catalog.sequences.get(&g.object) {
            format!("privileges for sequence {}", qualified(s.schema, &s.name))
        } else if let Some(s) = catalog.schemas.get(&g.object) {
            format!("privileges for schema {}", s.name)
        } else if let Some(f) = catalog.functions.get(&g.object) {
            format!("privileges for function {}", qualified(f.schema, &f.name))
        } else if g.object_kind.eq_ignore_ascii_case("database") {
            format!("privileges for database {}", crate::engine::DATABASE_NAME)
        } else {
            continue;
        };
        lines.push(what);
    }
    lines
}
