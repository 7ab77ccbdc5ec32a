//! `has_table_privilege` and its family, and `pg_has_role`, over the rule in
//! [`super::privileges`]. Every overload of a family shares one implementation that reads
//! its arguments by count and value: a role given as `name` (text) or `oid`, an object given
//! as text (a name, resolved on the search path, an error when it does not exist) or as an
//! OID (NULL when nothing has it), as PostgreSQL does.

use storage::catalog::{Catalog, Oid};
use storage::types::Value;

use super::datum::{as_oid, as_str};
use super::functions::{catalog_of, search_path};
use super::ident::parse_qualified_name;
use super::names::{relation_by_oid, relation_oid, role_by_oid, role_oid, Relation};
use super::privileges::{
    effective_roles, is_superuser, parse_privileges, role_has_privilege, Object, ObjectClass,
};
use super::procs::{builtin_proc, proc_oid_by_name, support_procs};
use super::{DATABASE_OID, INFORMATION_SCHEMA_NAMESPACE, PG_CATALOG_NAMESPACE};
use crate::error::{code, SqlError, SqlResult};
use crate::func::FnCtx;

/// The role a call is about and the remaining arguments: with `full` arguments the first
/// names the role, else it is the current user. `None` for a role OID nothing has.
fn split_role<'a>(
    ctx: &FnCtx,
    args: &'a [Value],
    full: usize,
) -> SqlResult<Option<(Oid, &'a [Value])>> {
    let catalog = catalog_of(ctx);
    if args.len() < full {
        let role = role_oid(catalog, ctx.user, ctx.user).unwrap_or(super::BOOTSTRAP_SUPERUSER_OID);
        return Ok(Some((role, args)));
    }
    let role = match &args[0] {
        Value::Text(role_name) => role_oid(catalog, ctx.user, role_name).ok_or_else(|| {
            SqlError::new(
                code::UNDEFINED_OBJECT,
                format!("role \"{role_name}\" does not exist"),
            )
        })?,
        other => match as_oid(other).filter(|r| role_by_oid(catalog, ctx.user, *r).is_some()) {
            Some(role) => role,
            None => return Ok(None),
        },
    };
    Ok(Some((role, &args[1..])))
}

fn privileges_arg(args: &[Value], class: ObjectClass) -> SqlResult<Vec<super::privileges::Wanted>> {
    let text = args.last().and_then(as_str).unwrap_or("");
    parse_privileges(text, class)
}

/// A relation argument: `Some(relation)`, `None` for an OID nothing has; an error for a name
/// that does not resolve.
fn relation_arg<'c>(
    ctx: &FnCtx,
    catalog: &'c Catalog,
    value: &Value,
) -> SqlResult<Option<Relation<'c>>> {
    match value {
        Value::Text(text) => {
            let parts = parse_qualified_name(text).ok_or_else(|| {
                SqlError::new(
                    code::INVALID_NAME,
                    format!("invalid name syntax: \"{text}\""),
                )
            })?;
            let (schema, name) = match parts.as_slice() {
                [name] => (None, name.as_str()),
                [schema, name] | [_, schema, name] => (Some(schema.as_str()), name.as_str()),
                _ => return Err(SqlError::undefined_table(text)),
            };
            let oid = relation_oid(catalog, schema, name, &search_path(ctx))
                .ok_or_else(|| SqlError::undefined_table(text))?;
            Ok(relation_by_oid(catalog, oid))
        }
        other => Ok(as_oid(other).and_then(|oid| relation_by_oid(catalog, oid))),
    }
}

/// The owner of a relation, and whether it is a system table (readable by PUBLIC).
fn relation_owner(ctx: &FnCtx, relation: &Relation) -> (Oid, bool) {
    let catalog = catalog_of(ctx);
    match relation {
        Relation::Table(t) => (t.owner, false),
        Relation::View(v) => (v.owner, false),
        Relation::Sequence(s) => (s.owner, false),
        Relation::Index(i) => (catalog.tables.get(&i.table).map_or(0, |t| t.owner), false),
        Relation::System(_) => (super::names::bootstrap_owner(catalog, ctx.user), true),
    }
}

fn check(ctx: &FnCtx, role: Oid, object: &Object, wanted: &[super::privileges::Wanted]) -> Value {
    Value::Bool(role_has_privilege(
        catalog_of(ctx),
        ctx.user,
        role,
        object,
        wanted,
    ))
}

/// `has_table_privilege([role,] table, privilege)`.
pub fn has_table_privilege(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let Some((role, rest)) = split_role(ctx, args, 3)? else {
        return Ok(Value::Null);
    };
    let catalog = catalog_of(ctx);
    let wanted = privileges_arg(rest, ObjectClass::Table)?;
    let Some(relation) = relation_arg(ctx, catalog, &rest[0])? else {
        return Ok(Value::Null);
    };
    let (owner, system) = relation_owner(ctx, &relation);
    let object = Object {
        class: ObjectClass::Table,
        oid: relation.oid(),
        column: 0,
        owner,
        public_default: if system { &["SELECT"] } else { &[] },
    };
    Ok(check(ctx, role, &object, &wanted))
}

/// `has_sequence_privilege([role,] sequence, privilege)`.
pub fn has_sequence_privilege(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let Some((role, rest)) = split_role(ctx, args, 3)? else {
        return Ok(Value::Null);
    };
    let catalog = catalog_of(ctx);
    let wanted = privileges_arg(rest, ObjectClass::Sequence)?;
    let Some(relation) = relation_arg(ctx, catalog, &rest[0])? else {
        return Ok(Value::Null);
    };
    let Relation::Sequence(sequence) = relation else {
        return Err(SqlError::new(
            code::WRONG_OBJECT_TYPE,
            format!("\"{}\" is not a sequence", relation.name()),
        ));
    };
    let object = Object {
        class: ObjectClass::Sequence,
        oid: sequence.oid,
        column: 0,
        owner: sequence.owner,
        public_default: &[],
    };
    Ok(check(ctx, role, &object, &wanted))
}

/// `has_column_privilege([role,] table, column, privilege)` and
/// `has_any_column_privilege([role,] table, privilege)`.
pub fn has_column_privilege(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let Some((role, rest)) = split_role(ctx, args, 4)? else {
        return Ok(Value::Null);
    };
    column_privilege(ctx, role, &rest[0], Some(&rest[1]), rest)
}

pub fn has_any_column_privilege(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let Some((role, rest)) = split_role(ctx, args, 3)? else {
        return Ok(Value::Null);
    };
    column_privilege(ctx, role, &rest[0], None, rest)
}

fn column_privilege(
    ctx: &FnCtx,
    role: Oid,
    table: &Value,
    column: Option<&Value>,
    rest: &[Value],
) -> SqlResult<Value> {
    let catalog = catalog_of(ctx);
    let wanted = privileges_arg(rest, ObjectClass::Column)?;
    let Some(relation) = relation_arg(ctx, catalog, table)? else {
        return Ok(Value::Null);
    };
    let (owner, system) = relation_owner(ctx, &relation);
    let attnum = match (column, &relation) {
        (None, _) => 0,
        (Some(Value::Text(column)), Relation::Table(t)) => {
            t.column_by_name(column).map(|c| c.attnum).ok_or_else(|| {
                SqlError::new(
                    code::UNDEFINED_COLUMN,
                    format!(
                        "column \"{column}\" of relation \"{}\" does not exist",
                        t.name
                    ),
                )
            })?
        }
        (Some(Value::Text(_)), _) => 0,
        (Some(other), Relation::Table(t)) => match super::datum::as_i64(other)
            .and_then(|n| u16::try_from(n).ok())
            .filter(|n| t.column(*n).is_some_and(|c| !c.dropped))
        {
            Some(attnum) => attnum,
            None => return Ok(Value::Null),
        },
        (Some(_), _) => 0,
    };
    let object = Object {
        class: ObjectClass::Column,
        oid: relation.oid(),
        column: attnum,
        owner,
        public_default: if system { &["SELECT"] } else { &[] },
    };
    if column.is_none() {
        // Any column: a grant on the table or on any one column will do.
        let any_column = catalog
            .grants
            .iter()
            .any(|g| g.object == relation.oid() && g.column != 0);
        if any_column {
            let holders = effective_roles(catalog, ctx.user, role);
            let granted = catalog.grants.iter().any(|g| {
                g.object == relation.oid()
                    && holders.contains(&g.grantee)
                    && wanted
                        .iter()
                        .any(|w| g.privilege.eq_ignore_ascii_case(w.privilege))
            });
            if granted {
                return Ok(Value::Bool(true));
            }
        }
    }
    Ok(check(ctx, role, &object, &wanted))
}

/// `has_schema_privilege([role,] schema, privilege)`.
pub fn has_schema_privilege(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let Some((role, rest)) = split_role(ctx, args, 3)? else {
        return Ok(Value::Null);
    };
    let catalog = catalog_of(ctx);
    let wanted = privileges_arg(rest, ObjectClass::Schema)?;
    let shown = match &rest[0] {
        Value::Text(schema) => super::names::namespace_oid(catalog, schema).ok_or_else(|| {
            SqlError::new(
                code::INVALID_SCHEMA_NAME,
                format!("schema \"{schema}\" does not exist"),
            )
        })?,
        other => match as_oid(other) {
            Some(oid) if super::names::namespace_name(catalog, oid).is_some() => oid,
            _ => return Ok(Value::Null),
        },
    };
    let system = shown == PG_CATALOG_NAMESPACE
        || shown == INFORMATION_SCHEMA_NAMESPACE
        || shown == super::PG_TOAST_NAMESPACE;
    let schema_oid = super::oids::catalog_namespace_oid(catalog, shown);
    let schema = catalog.schemas.get(&schema_oid);
    let is_public = schema.is_some_and(|s| s.name == super::PUBLIC_NAMESPACE_NAME);
    let object = Object {
        class: ObjectClass::Schema,
        oid: schema_oid,
        column: 0,
        owner: schema.map_or_else(
            || super::names::bootstrap_owner(catalog, ctx.user),
            |s| s.owner,
        ),
        public_default: if system || is_public { &["USAGE"] } else { &[] },
    };
    Ok(check(ctx, role, &object, &wanted))
}

/// `has_database_privilege([role,] database, privilege)`.
pub fn has_database_privilege(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let Some((role, rest)) = split_role(ctx, args, 3)? else {
        return Ok(Value::Null);
    };
    let catalog = catalog_of(ctx);
    let wanted = privileges_arg(rest, ObjectClass::Database)?;
    match &rest[0] {
        Value::Text(database) if database != ctx.database => {
            return Err(SqlError::new(
                code::INVALID_CATALOG_NAME,
                format!("database \"{database}\" does not exist"),
            ))
        }
        Value::Text(_) => {}
        other => {
            if as_oid(other) != Some(DATABASE_OID) {
                return Ok(Value::Null);
            }
        }
    }
    let object = Object {
        class: ObjectClass::Database,
        oid: DATABASE_OID,
        column: 0,
        owner: super::names::bootstrap_owner(catalog, ctx.user),
        public_default: &["CONNECT", "TEMPORARY"],
    };
    Ok(check(ctx, role, &object, &wanted))
}

/// `has_function_privilege([role,] function, privilege)`: the function as `name(args)` or
/// an OID.
pub fn has_function_privilege(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let Some((role, rest)) = split_role(ctx, args, 3)? else {
        return Ok(Value::Null);
    };
    let catalog = catalog_of(ctx);
    let wanted = privileges_arg(rest, ObjectClass::Function)?;
    let function = match &rest[0] {
        Value::Text(signature) => proc_oid_by_name(catalog, signature).ok_or_else(|| {
            SqlError::new(
                code::UNDEFINED_FUNCTION,
                format!("function \"{signature}\" does not exist"),
            )
        })?,
        other => match as_oid(other) {
            Some(oid)
                if catalog.functions.contains_key(&oid)
                    || builtin_proc(oid).is_some()
                    || support_procs().iter().any(|p| p.oid == oid) =>
            {
                oid
            }
            _ => return Ok(Value::Null),
        },
    };
    let owner = catalog.functions.get(&function).map_or_else(
        || super::names::bootstrap_owner(catalog, ctx.user),
        |f| f.owner,
    );
    let object = Object {
        class: ObjectClass::Function,
        oid: function,
        column: 0,
        owner,
        // PUBLIC's default EXECUTE until a GRANT or REVOKE writes the ACL down.
        public_default: if crate::acl::grant::function_has_default_acl(catalog, function) {
            &["EXECUTE"]
        } else {
            &[]
        },
    };
    Ok(check(ctx, role, &object, &wanted))
}

/// `pg_has_role([user,] role, privilege)`: MEMBER, USAGE or SET (optionally `WITH ADMIN
/// OPTION`); superusers have every role.
pub fn pg_has_role(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let Some((user, rest)) = split_role(ctx, args, 3)? else {
        return Ok(Value::Null);
    };
    let catalog = catalog_of(ctx);
    let target = match &rest[0] {
        Value::Text(role_name) => role_oid(catalog, ctx.user, role_name).ok_or_else(|| {
            SqlError::new(
                code::UNDEFINED_OBJECT,
                format!("role \"{role_name}\" does not exist"),
            )
        })?,
        other => match as_oid(other).filter(|r| role_by_oid(catalog, ctx.user, *r).is_some()) {
            Some(role) => role,
            None => return Ok(Value::Null),
        },
    };
    let text = rest.last().and_then(as_str).unwrap_or("");
    for item in text.split(',') {
        let words: Vec<String> = item
            .split_whitespace()
            .map(|w| w.to_ascii_uppercase())
            .collect();
        let valid = matches!(
            words
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .as_slice(),
            ["MEMBER" | "USAGE" | "SET"] | ["MEMBER" | "USAGE" | "SET", "WITH", "ADMIN", "OPTION"]
        );
        if !valid {
            return Err(SqlError::new(
                code::INVALID_PARAMETER_VALUE,
                format!("unrecognized privilege type: \"{}\"", item.trim()),
            ));
        }
    }
    Ok(Value::Bool(
        user == target
            || is_superuser(catalog, ctx.user, user)
            || effective_roles(catalog, ctx.user, user).contains(&target),
    ))
}
