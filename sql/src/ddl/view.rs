//! CREATE [OR REPLACE] VIEW and ALTER VIEW (RENAME TO, RENAME COLUMN, OWNER TO).
//!
//! A view is kept as the original text of its query (what the user wrote, cut out of the
//! statement by the parser's spans) plus its column names; the binder parses and binds that
//! text wherever the view is read. The query is bound at creation to check it and to name
//! and type the columns. OR REPLACE follows PostgreSQL: the new query must keep every
//! column's name and type in place, and may only add columns at the end.

use sqlparser::ast::{self, AlterTableOperation as TableOp, AlterViewOperation as ViewOp};
use storage::catalog::{Oid, ViewDef};

use super::dependents::{follow_rename, view_shapes};
use super::table::{relation_exists, source_text};
use crate::bind::{ident_name, split_name};
use crate::catalog_access::{resolve_relation, target_schema, Relation};
use crate::engine::Session;
use crate::error::{code, SqlError, SqlResult};

pub fn create_view(session: &mut Session, cv: &ast::CreateView, sql: &str) -> SqlResult<()> {
    if cv.materialized {
        return Err(SqlError::unsupported("materialized views"));
    }
    if cv.temporary {
        return Err(SqlError::unsupported("temporary views"));
    }
    let (schema_name, name) = split_name(&cv.name)?;
    let catalog = session.catalog();
    let path = session.search_path();
    let schema = target_schema(&catalog, schema_name.as_deref(), &path)?;
    let existing = catalog
        .views
        .values()
        .find(|v| v.schema == schema && v.name == name)
        .cloned();
    if existing.is_none() && relation_exists(&catalog, schema, &name) {
        if cv.or_replace && catalog.table_by_name(schema, &name).is_some() {
            return Err(SqlError::new(
                code::WRONG_OBJECT_TYPE,
                format!("\"{name}\" is not a view"),
            ));
        }
        return Err(SqlError::new(
            code::DUPLICATE_TABLE,
            format!("relation \"{name}\" already exists"),
        ));
    }
    if let Some(v) = &existing {
        if cv.if_not_exists {
            session.notice(format!("relation \"{name}\" already exists, skipping"));
            return Ok(());
        }
        if !cv.or_replace {
            return Err(SqlError::new(
                code::DUPLICATE_TABLE,
                format!("relation \"{}\" already exists", v.name),
            ));
        }
    }
    let query_text = query_text(sql, &cv.query);
    let (_, output) = session.plan_query(&cv.query, &[])?;
    if cv.columns.len() > output.len() {
        return Err(SqlError::new(
            code::SYNTAX_ERROR,
            "CREATE VIEW specifies more column names than columns",
        ));
    }
    let mut columns: Vec<(String, crate::pgtype::SqlType)> = Vec::new();
    for (i, c) in output.iter().enumerate() {
        let name = cv
            .columns
            .get(i)
            .map(|d| ident_name(&d.name))
            .unwrap_or_else(|| c.name.clone());
        if columns.iter().any(|(n, _)| *n == name) {
            return Err(SqlError::new(
                code::DUPLICATE_COLUMN,
                format!("column \"{name}\" specified more than once"),
            ));
        }
        columns.push((name, c.sql_type.clone()));
    }
    if let Some(old) = &existing {
        let old_types = super::dependents::bind_view_text(session, &old.query).unwrap_or_default();
        if columns.len() < old.column_names.len() {
            return Err(SqlError::new(
                code::INVALID_TABLE_DEFINITION,
                "cannot drop columns from view",
            ));
        }
        for (i, old_name) in old.column_names.iter().enumerate() {
            let (new_name, new_type) = &columns[i];
            if new_name != old_name {
                return Err(SqlError::new(
                    code::INVALID_TABLE_DEFINITION,
                    format!("cannot change name of view column \"{old_name}\" to \"{new_name}\""),
                )
                .with_hint(
                    "Use ALTER VIEW ... RENAME COLUMN ... to change name of view column instead.",
                ));
            }
            if let Some(old_type) = old_types.get(i) {
                if !old_type.same_type(new_type) {
                    return Err(SqlError::new(
                        code::INVALID_TABLE_DEFINITION,
                        format!(
                            "cannot change data type of view column \"{old_name}\" from {} to {}",
                            old_type.display_name(),
                            new_type.display_name()
                        ),
                    ));
                }
            }
        }
    }
    let owner = session.role_oid();
    let column_names = columns.into_iter().map(|(n, _)| n).collect();
    let catalog = session.transaction().catalog_mut();
    let oid = match &existing {
        Some(v) => v.oid,
        None => catalog.allocate_oid(),
    };
    catalog.views.insert(
        oid,
        ViewDef {
            oid,
            schema,
            name,
            owner: existing.as_ref().map_or(owner, |v| v.owner),
            query: query_text,
            column_names,
        },
    );
    Ok(())
}

/// The view's query as written, when that text parses on its own as the same query; else
/// the query printed from the syntax tree.
fn query_text(sql: &str, query: &ast::Query) -> String {
    let text = source_text(sql, query, || query.to_string());
    match crate::parse::parse_one(&text) {
        Ok(ast::Statement::Query(q))
            if q.as_ref() == query || q.to_string() == query.to_string() =>
        {
            text
        }
        _ => query.to_string(),
    }
}

fn find_view(
    session: &mut Session,
    name: &ast::ObjectName,
    if_exists: bool,
) -> SqlResult<Option<Oid>> {
    let (schema, rel) = split_name(name)?;
    let catalog = session.catalog();
    let path = session.search_path();
    match resolve_relation(&catalog, schema.as_deref(), &rel, &path) {
        Ok(Relation::View(oid)) => Ok(Some(oid)),
        Ok(_) => Err(SqlError::new(
            code::WRONG_OBJECT_TYPE,
            format!("\"{rel}\" is not a view"),
        )),
        Err(e) if e.code == code::UNDEFINED_TABLE && if_exists => {
            session.notice(format!("relation \"{rel}\" does not exist, skipping"));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

pub fn alter_view(session: &mut Session, av: &ast::AlterView) -> SqlResult<()> {
    if av.materialized {
        return Err(SqlError::unsupported("materialized views"));
    }
    let Some(oid) = find_view(session, &av.name, av.if_exists)? else {
        return Ok(());
    };
    match &av.operation {
        ViewOp::RenameTo { new_name } => {
            let (_, new) = split_name(new_name)?;
            rename_view(session, oid, &new)
        }
        ViewOp::RenameColumn {
            old_column_name,
            new_column_name,
        } => rename_view_column(
            session,
            oid,
            &ident_name(old_column_name),
            &ident_name(new_column_name),
        ),
        ViewOp::OwnerTo(owner) => set_view_owner(session, oid, owner),
        other => Err(SqlError::unsupported(format!("ALTER VIEW ... {other:?}"))),
    }
}

/// ALTER TABLE naming a view: PostgreSQL accepts the forms that make sense for views.
pub fn alter_view_as_table(
    session: &mut Session,
    oid: Oid,
    operations: &[TableOp],
) -> SqlResult<()> {
    for op in operations {
        match op {
            TableOp::RenameTable { table_name } => {
                let new = match table_name {
                    ast::RenameTableNameKind::To(n) | ast::RenameTableNameKind::As(n) => n,
                };
                let (_, new) = split_name(new)?;
                rename_view(session, oid, &new)?;
            }
            TableOp::RenameColumn {
                old_column_name,
                new_column_name,
            } => rename_view_column(
                session,
                oid,
                &ident_name(old_column_name),
                &ident_name(new_column_name),
            )?,
            TableOp::OwnerTo { new_owner } => set_view_owner(session, oid, new_owner)?,
            _ => {
                let name = session.catalog().views.get(&oid).map(|v| v.name.clone());
                return Err(SqlError::new(
                    code::WRONG_OBJECT_TYPE,
                    format!("\"{}\" is not a table", name.unwrap_or_default()),
                ));
            }
        }
    }
    Ok(())
}

fn rename_view(session: &mut Session, oid: Oid, new: &str) -> SqlResult<()> {
    let catalog = session.catalog();
    let Some(view) = catalog.views.get(&oid).cloned() else {
        return Ok(());
    };
    if relation_exists(&catalog, view.schema, new) {
        return Err(SqlError::new(
            code::DUPLICATE_TABLE,
            format!("relation \"{new}\" already exists"),
        ));
    }
    let before = view_shapes(session);
    if let Some(v) = session.transaction().catalog_mut().views.get_mut(&oid) {
        v.name = new.to_string();
    }
    follow_rename(session, &before, &view.name, new)
}

fn rename_view_column(session: &mut Session, oid: Oid, old: &str, new: &str) -> SqlResult<()> {
    let catalog = session.catalog();
    let Some(view) = catalog.views.get(&oid).cloned() else {
        return Ok(());
    };
    let Some(position) = view.column_names.iter().position(|c| c == old) else {
        return Err(SqlError::undefined_column(old));
    };
    if view.column_names.iter().any(|c| c == new) {
        return Err(SqlError::new(
            code::DUPLICATE_COLUMN,
            format!(
                "column \"{new}\" of relation \"{}\" already exists",
                view.name
            ),
        ));
    }
    if let Some(v) = session.transaction().catalog_mut().views.get_mut(&oid) {
        v.column_names[position] = new.to_string();
    }
    Ok(())
}

fn set_view_owner(session: &mut Session, oid: Oid, owner: &ast::Owner) -> SqlResult<()> {
    let owner = super::alter::role_oid(session, owner)?;
    if let Some(v) = session.transaction().catalog_mut().views.get_mut(&oid) {
        v.owner = owner;
    }
    Ok(())
}
