//! Roles: `pg_authid`, the `pg_roles` and `pg_user` views, `pg_auth_members` and
//! `pg_db_role_setting`, from the catalog's roles (see [`super::names::roles`] for the
//! attribute keys and the fallback role of a catalog without roles).
//!
//! Password verifiers are shown only in `pg_authid.rolpassword`, which only superusers may
//! read (the privilege stage refuses others, see [`crate::acl::check`]); the views show
//! `********` where PostgreSQL does.

use storage::types::{DataType, Row, Value};

use super::datum::*;
use super::names::{roles, RoleView};
use super::oids::{derived_oid, rel};
use super::{table, SystemCtx, SystemTable, DATABASE_OID};
use crate::error::SqlResult;
use crate::types::{parse_text, SessionFormat};

const PG_ROLES: u32 = rel::FIRST_VIEW + 1;
const PG_USER: u32 = rel::FIRST_VIEW + 2;

pub(super) fn tables() -> Vec<SystemTable> {
    vec![
        table(
            "pg_catalog",
            "pg_authid",
            rel::PG_AUTHID,
            vec![
                ("oid", OID),
                ("rolname", NAME),
                ("rolsuper", BOOL),
                ("rolinherit", BOOL),
                ("rolcreaterole", BOOL),
                ("rolcreatedb", BOOL),
                ("rolcanlogin", BOOL),
                ("rolreplication", BOOL),
                ("rolbypassrls", BOOL),
                ("rolconnlimit", INT4),
                ("rolpassword", TEXT),
                ("rolvaliduntil", TIMESTAMPTZ),
            ],
            pg_authid_rows,
        ),
        table(
            "pg_catalog",
            "pg_roles",
            PG_ROLES,
            vec![
                ("rolname", NAME),
                ("rolsuper", BOOL),
                ("rolinherit", BOOL),
                ("rolcreaterole", BOOL),
                ("rolcreatedb", BOOL),
                ("rolcanlogin", BOOL),
                ("rolreplication", BOOL),
                ("rolconnlimit", INT4),
                ("rolpassword", TEXT),
                ("rolvaliduntil", TIMESTAMPTZ),
                ("rolbypassrls", BOOL),
                ("rolconfig", array_of(TEXT)),
                ("oid", OID),
            ],
            pg_roles_rows,
        ),
        table(
            "pg_catalog",
            "pg_user",
            PG_USER,
            vec![
                ("usename", NAME),
                ("usesysid", OID),
                ("usecreatedb", BOOL),
                ("usesuper", BOOL),
                ("userepl", BOOL),
                ("usebypassrls", BOOL),
                ("passwd", TEXT),
                ("valuntil", TIMESTAMPTZ),
                ("useconfig", array_of(TEXT)),
            ],
            pg_user_rows,
        ),
        table(
            "pg_catalog",
            "pg_auth_members",
            rel::PG_AUTH_MEMBERS,
            vec![
                ("oid", OID),
                ("roleid", OID),
                ("member", OID),
                ("grantor", OID),
                ("admin_option", BOOL),
                ("inherit_option", BOOL),
                ("set_option", BOOL),
            ],
            pg_auth_members_rows,
        ),
        table(
            "pg_catalog",
            "pg_db_role_setting",
            rel::PG_DB_ROLE_SETTING,
            vec![
                ("setdatabase", OID),
                ("setrole", OID),
                ("setconfig", array_of(TEXT)),
            ],
            pg_db_role_setting_rows,
        ),
    ]
}

/// `VALID UNTIL` as a `timestamptz` value (NULL when absent or unreadable).
fn valid_until(role: &RoleView) -> Value {
    role.valid_until
        .as_deref()
        .and_then(|text| parse_text(&DataType::Timestamptz, text, &SessionFormat::default()).ok())
        .unwrap_or(Value::Null)
}

fn pg_authid_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    Ok(roles(ctx.catalog, ctx.user)
        .into_iter()
        .map(|r| {
            let until = valid_until(&r);
            vec![
                oid(r.oid),
                name(r.name),
                boolean(r.superuser),
                boolean(r.inherit),
                boolean(r.create_role),
                boolean(r.create_db),
                boolean(r.can_login),
                boolean(r.replication),
                boolean(r.bypass_rls),
                int4(r.connection_limit),
                // The verifier, as PostgreSQL shows it (pg_authid is for superusers only).
                ctx.catalog
                    .roles
                    .get(&r.oid)
                    .and_then(|role| role.password_verifier.clone())
                    .map_or(Value::Null, Value::Text),
                until,
            ]
        })
        .collect())
}

fn pg_roles_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    Ok(roles(ctx.catalog, ctx.user)
        .into_iter()
        .map(|r| {
            let until = valid_until(&r);
            vec![
                name(r.name),
                boolean(r.superuser),
                boolean(r.inherit),
                boolean(r.create_role),
                boolean(r.create_db),
                boolean(r.can_login),
                boolean(r.replication),
                int4(r.connection_limit),
                if r.has_password {
                    text("********")
                } else {
                    Value::Null
                },
                until,
                boolean(r.bypass_rls),
                text_array_or_null(r.settings),
                oid(r.oid),
            ]
        })
        .collect())
}

fn pg_user_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    Ok(roles(ctx.catalog, ctx.user)
        .into_iter()
        .filter(|r| r.can_login)
        .map(|r| {
            let until = valid_until(&r);
            vec![
                name(r.name),
                oid(r.oid),
                boolean(r.create_db),
                boolean(r.superuser),
                boolean(r.replication),
                boolean(r.bypass_rls),
                if r.has_password {
                    text("********")
                } else {
                    Value::Null
                },
                until,
                text_array_or_null(r.settings),
            ]
        })
        .collect())
}

fn pg_auth_members_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let all = roles(ctx.catalog, ctx.user);
    let grantor = all.iter().find(|r| r.superuser).map_or(0, |r| r.oid);
    let mut rows = Vec::new();
    for member in &all {
        for (i, role) in member.member_of.iter().enumerate() {
            rows.push(vec![
                oid(derived_oid(member.oid, 0x800 | (i as u32 & 0x7FF))),
                oid(*role),
                oid(member.oid),
                oid(grantor),
                // WITH ADMIN OPTION, as the catalog records it.
                boolean(
                    ctx.catalog
                        .roles
                        .get(&member.oid)
                        .is_some_and(|m| m.admin_of.contains(role)),
                ),
                boolean(member.inherit),
                boolean(true),
            ]);
        }
    }
    Ok(rows)
}

fn pg_db_role_setting_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let mut rows = Vec::new();
    if !ctx.catalog.settings.is_empty() {
        rows.push(vec![
            oid(DATABASE_OID),
            oid(0),
            text_array(ctx.catalog.settings.iter().map(|(k, v)| format!("{k}={v}"))),
        ]);
    }
    for role in roles(ctx.catalog, ctx.user) {
        if !role.settings.is_empty() {
            rows.push(vec![oid(0), oid(role.oid), text_array(role.settings)]);
        }
    }
    Ok(rows)
}
