//! Privileges of utility statements, checked before the statement runs (PostgreSQL's
//! ownership and `ACL_CREATE` checks):
//!
//! * creating a table, view, sequence or function needs CREATE on its schema; a schema
//!   needs CREATE on the database; an extension needs a superuser;
//! * ALTER, DROP, CREATE INDEX and COMMENT need ownership of the object (or of the table an
//!   index is on), through membership in the owner role; `OWNER TO r` also needs membership
//!   in `r`;
//! * TRUNCATE needs TRUNCATE on each table; COPY FROM needs INSERT on the target columns
//!   and COPY TO SELECT on the source columns;
//! * CHECKPOINT needs a superuser.
//!
//! A missing object is left to the statement, which reports it with its own error.

use sqlparser::ast::{self, Statement as Ast};
use storage::catalog::{AttNum, Catalog, Oid};

use super::check::{
    check_owner, check_schema, has_column_privileges, has_relation_privilege, owns, role_of,
};
use super::{insufficient_privilege, is_member_of, is_superuser, role_by_name};
use crate::bind::{ident_name, split_name};
use crate::catalog_access::{resolve_relation, Relation};
use crate::engine::Session;
use crate::error::SqlResult;

/// The schema a new object named `name` goes to: the one named, else the first schema of
/// the search path that exists.
fn creation_schema(catalog: &Catalog, session: &Session, name: &ast::ObjectName) -> Option<Oid> {
    let (schema, _) = split_name(name).ok()?;
    match schema {
        Some(s) => catalog.schema_by_name(&s).map(|s| s.oid),
        None => {
            let path = crate::catalog_access::effective_path(
                catalog,
                &session.search_path(),
                session.current_user(),
            );
            path.iter()
                .find_map(|s| catalog.schema_by_name(s).map(|s| s.oid))
        }
    }
}

/// The relation `name` names, if any.
fn relation(catalog: &Catalog, session: &Session, name: &ast::ObjectName) -> Option<Relation> {
    let (schema, rel) = split_name(name).ok()?;
    let path = crate::catalog_access::effective_path(
        catalog,
        &session.search_path(),
        session.current_user(),
    );
    resolve_relation(catalog, schema.as_deref(), &rel, &path).ok()
}

/// Owner, noun and name of a relation.
fn relation_owner(catalog: &Catalog, relation: &Relation) -> Option<(Oid, &'static str, String)> {
    match relation {
        Relation::Table(oid) => catalog
            .tables
            .get(oid)
            .map(|t| (t.owner, "table", t.name.clone())),
        Relation::View(oid) => catalog
            .views
            .get(oid)
            .map(|v| (v.owner, "view", v.name.clone())),
        Relation::Sequence(oid) => catalog
            .sequences
            .get(oid)
            .map(|s| (s.owner, "sequence", s.name.clone())),
        Relation::System(t) => Some((super::identity::NO_ROLE, "table", t.name.to_string())),
    }
}

fn check_relation_owner(
    catalog: &Catalog,
    session: &Session,
    name: &ast::ObjectName,
) -> SqlResult<()> {
    if let Some(r) = relation(catalog, session, name) {
        if let Some((owner, noun, name)) = relation_owner(catalog, &r) {
            return check_owner(catalog, session.current_user(), owner, noun, &name);
        }
    }
    Ok(())
}

fn index_by_name<'c>(
    catalog: &'c Catalog,
    session: &Session,
    name: &ast::ObjectName,
) -> Option<&'c storage::catalog::IndexDef> {
    let (schema, rel) = split_name(name).ok()?;
    let path = crate::catalog_access::effective_path(
        catalog,
        &session.search_path(),
        session.current_user(),
    );
    let schemas: Vec<Oid> = match schema {
        Some(s) => catalog
            .schema_by_name(&s)
            .map(|s| vec![s.oid])
            .unwrap_or_default(),
        None => path
            .iter()
            .filter_map(|s| catalog.schema_by_name(s).map(|s| s.oid))
            .collect(),
    };
    schemas.into_iter().find_map(|s| {
        catalog
            .indexes
            .values()
            .find(|i| i.schema == s && i.name == rel)
    })
}

fn check_index_owner(
    catalog: &Catalog,
    session: &Session,
    name: &ast::ObjectName,
) -> SqlResult<()> {
    if let Some(index) = index_by_name(catalog, session, name) {
        if let Some(table) = catalog.tables.get(&index.table) {
            return check_owner(
                catalog,
                session.current_user(),
                table.owner,
                "index",
                &index.name,
            );
        }
    }
    Ok(())
}

/// Checks a utility statement before it runs.
pub fn check_utility(session: &Session, ast: &Ast, sql: &str) -> SqlResult<()> {
    let catalog = session.catalog();
    if catalog.roles.is_empty() {
        return Ok(());
    }
    let user = session.current_user();
    let me = role_of(&catalog, user);
    if is_superuser(&catalog, me) {
        return Ok(());
    }
    match ast {
        Ast::Flush { .. } if crate::ddl::fallback::is_checkpoint(sql) => {
            Err(insufficient_privilege("must be superuser to do CHECKPOINT"))
        }
        Ast::CreateTable(ct) => create_in_schema(&catalog, session, &ct.name),
        Ast::CreateView(cv) => create_in_schema(&catalog, session, &cv.name),
        Ast::CreateSequence { .. } if crate::ddl::fallback::is_alter_sequence(sql) => {
            let words: Vec<&str> = sql.split_whitespace().collect();
            if let Some(name) = words.get(2) {
                let name = ast::ObjectName::from(
                    name.trim_end_matches(';')
                        .split('.')
                        .map(ast::Ident::new)
                        .collect::<Vec<_>>(),
                );
                check_relation_owner(&catalog, session, &name)?;
            }
            Ok(())
        }
        Ast::CreateSequence { name, .. } => create_in_schema(&catalog, session, name),
        Ast::CreateFunction(f) => create_in_schema(&catalog, session, &f.name),
        Ast::CreateSchema { .. } => {
            let object = crate::pg_catalog::privileges::Object {
                class: crate::pg_catalog::privileges::ObjectClass::Database,
                oid: crate::pg_catalog::DATABASE_OID,
                column: 0,
                owner: crate::pg_catalog::names::bootstrap_owner(&catalog, user),
                public_default: &["CONNECT", "TEMPORARY"],
            };
            let wanted = [crate::pg_catalog::privileges::Wanted {
                privilege: "CREATE",
                with_grant_option: false,
            }];
            if crate::pg_catalog::privileges::role_has_privilege(
                &catalog, user, me, &object, &wanted,
            ) {
                Ok(())
            } else {
                Err(insufficient_privilege(format!(
                    "permission denied for database {}",
                    crate::engine::DATABASE_NAME
                )))
            }
        }
        Ast::CreateExtension(ext) => Err(insufficient_privilege(format!(
            "permission denied to create extension \"{}\"",
            ident_name(&ext.name)
        ))
        .with_hint("Must be superuser to create this extension.")),
        Ast::DropExtension(d) => {
            let name = d.names.first().map(ident_name).unwrap_or_default();
            Err(insufficient_privilege(format!(
                "must be owner of extension {name}"
            )))
        }
        Ast::CreateIndex(ci) => check_relation_owner(&catalog, session, &ci.table_name),
        Ast::AlterTable(at) => {
            check_relation_owner(&catalog, session, &at.name)?;
            for op in &at.operations {
                if let ast::AlterTableOperation::OwnerTo { new_owner } = op {
                    check_new_owner(&catalog, session, me, new_owner)?;
                }
            }
            Ok(())
        }
        Ast::AlterView(av) => check_relation_owner(&catalog, session, &av.name),
        Ast::AlterIndex { name, .. } => check_index_owner(&catalog, session, name),
        Ast::Drop {
            object_type, names, ..
        } => {
            for name in names {
                match object_type {
                    ast::ObjectType::Index => check_index_owner(&catalog, session, name)?,
                    ast::ObjectType::Schema => {
                        let (_, schema) = split_name(name)?;
                        if let Some(s) = catalog.schema_by_name(&schema) {
                            check_owner(&catalog, user, s.owner, "schema", &s.name)?;
                        }
                    }
                    _ => check_relation_owner(&catalog, session, name)?,
                }
            }
            Ok(())
        }
        Ast::DropFunction(f) => {
            for desc in &f.func_desc {
                let (_, name) = split_name(&desc.name)?;
                let owners: Vec<Oid> = catalog
                    .functions
                    .values()
                    .filter(|x| x.name == name)
                    .map(|x| x.owner)
                    .collect();
                if !owners.is_empty() && !owners.iter().any(|o| owns(&catalog, user, *o)) {
                    return Err(insufficient_privilege(format!(
                        "must be owner of function {name}"
                    )));
                }
            }
            Ok(())
        }
        Ast::Comment {
            object_type: ast::CommentObject::Table | ast::CommentObject::View,
            object_name,
            ..
        } => check_relation_owner(&catalog, session, object_name),
        Ast::Comment {
            object_type: ast::CommentObject::Column,
            object_name,
            ..
        } => {
            let mut parts = object_name.0.clone();
            parts.pop();
            check_relation_owner(&catalog, session, &ast::ObjectName(parts))
        }
        Ast::Truncate(t) => {
            for target in &t.table_names {
                if let Some(Relation::Table(oid)) = relation(&catalog, session, &target.name) {
                    if !has_relation_privilege(&catalog, user, me, oid, "TRUNCATE") {
                        return Err(insufficient_privilege(format!(
                            "permission denied for table {}",
                            catalog.tables[&oid].name
                        )));
                    }
                }
            }
            Ok(())
        }
        Ast::Copy {
            source:
                ast::CopySource::Table {
                    table_name,
                    columns,
                },
            to,
            ..
        } => {
            let Some(r) = relation(&catalog, session, table_name) else {
                return Ok(());
            };
            let Relation::Table(oid) = r else {
                return Ok(());
            };
            let table = &catalog.tables[&oid];
            let attnums: Vec<AttNum> = if columns.is_empty() {
                table.live_columns().map(|c| c.attnum).collect()
            } else {
                columns
                    .iter()
                    .filter_map(|c| table.column_by_name(&ident_name(c)).map(|c| c.attnum))
                    .collect()
            };
            let privilege = if *to { "SELECT" } else { "INSERT" };
            if has_column_privileges(&catalog, user, me, oid, &attnums, privilege) {
                Ok(())
            } else {
                Err(insufficient_privilege(format!(
                    "permission denied for table {}",
                    table.name
                )))
            }
        }
        _ => Ok(()),
    }
}

fn create_in_schema(catalog: &Catalog, session: &Session, name: &ast::ObjectName) -> SqlResult<()> {
    match creation_schema(catalog, session, name) {
        Some(schema) => check_schema(catalog, session.current_user(), schema, "CREATE"),
        None => Ok(()),
    }
}

/// `OWNER TO r`: the current user must be able to become `r` (PostgreSQL 15: be a member).
fn check_new_owner(
    catalog: &Catalog,
    session: &Session,
    me: Oid,
    owner: &ast::Owner,
) -> SqlResult<()> {
    let ast::Owner::Ident(ident) = owner else {
        return Ok(());
    };
    let name = ident_name(ident);
    let Some(role) = role_by_name(catalog, &name) else {
        return Ok(());
    };
    if is_member_of(catalog, me, role.oid) {
        return Ok(());
    }
    let _ = session;
    Err(insufficient_privilege(format!(
        "must be member of role \"{name}\""
    )))
}
