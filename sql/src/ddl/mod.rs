//! DDL: statements that change the catalog. Each runs inside the session's transaction
//! (PostgreSQL's DDL is transactional too) through `Transaction::catalog_mut`.
//!
//! `table` (CREATE TABLE / INDEX, DROP TABLE) and `alter` (ALTER TABLE) build on
//! `constraints`, check and rewrite existing rows through `rows`, and keep what depends on
//! a changed table consistent through `dependents`; `view`, `sequence`, `comment` and
//! `functions` (with `call`, which inlines calls) handle their objects; `fallback` reads the
//! statements sqlparser cannot; `sqltext` edits stored SQL text token by token.

mod alter;
mod alter_column;
mod call;
mod checkpoint;
mod comment;
mod constraints;
mod dependents;
pub mod fallback;
pub mod functions;
mod policy;
mod rows;
mod sequence;
mod sqltext;
mod table;
mod vector_index;
mod view;

use sqlparser::ast::{self, Statement as Ast};
use storage::catalog::{Catalog, ConstraintKind, Oid};

use crate::bind::{ident_name, object_name_parts, split_name};
use crate::engine::{Outcome, Session};
use crate::error::{code, SqlError, SqlResult};

fn done(tag: &str) -> SqlResult<Outcome> {
    Ok(Outcome::Command { tag: tag.into() })
}

/// Runs a DDL (or other catalog) statement.
pub fn execute(session: &mut Session, ast: &Ast, sql: &str) -> SqlResult<Outcome> {
    crate::acl::ddl::check_utility(session, ast, sql)?;
    match ast {
        Ast::Flush { .. } if fallback::is_checkpoint(sql) => checkpoint::run(session),
        Ast::CreateTable(ct) => {
            table::create_table(session, ct)?;
            match session.last_row_count {
                // CREATE TABLE AS reports the rows it wrote, as PostgreSQL does.
                Some(n) => done(&format!("SELECT {n}")),
                None => done("CREATE TABLE"),
            }
        }
        Ast::CreateIndex(ci) => {
            table::create_index(session, ci)?;
            done("CREATE INDEX")
        }
        Ast::CreateSchema {
            schema_name,
            if_not_exists,
            ..
        } => {
            let name = match schema_name {
                ast::SchemaName::Simple(n) => object_name_parts(n).join("."),
                ast::SchemaName::UnnamedAuthorization(i) => ident_name(i),
                ast::SchemaName::NamedAuthorization(n, _) => object_name_parts(n).join("."),
            };
            if name.starts_with("pg_") {
                return Err(SqlError::new(
                    code::RESERVED_NAME,
                    format!("unacceptable schema name \"{name}\""),
                )
                .with_detail("The prefix \"pg_\" is reserved for system schemas."));
            }
            let owner = session.role_oid();
            let catalog = session.transaction().catalog_mut();
            if catalog.schema_by_name(&name).is_some()
                || name == "pg_catalog"
                || name == "information_schema"
            {
                if *if_not_exists {
                    session.notice(format!("schema \"{name}\" already exists, skipping"));
                    return done("CREATE SCHEMA");
                }
                return Err(SqlError::new(
                    code::DUPLICATE_SCHEMA,
                    format!("schema \"{name}\" already exists"),
                ));
            }
            catalog.ensure_schema(&name, owner);
            done("CREATE SCHEMA")
        }
        Ast::CreateExtension(ext) => {
            let name = ident_name(&ext.name);
            if name != "vector" && name != "plpgsql" {
                return Err(SqlError::new(
                    code::UNDEFINED_FILE,
                    format!("extension \"{name}\" is not available"),
                )
                .with_hint("custos provides the \"vector\" extension built in."));
            }
            let catalog = session.transaction().catalog_mut();
            if catalog.extensions.contains_key(&name) {
                if ext.if_not_exists {
                    session.notice(format!("extension \"{name}\" already exists, skipping"));
                    return done("CREATE EXTENSION");
                }
                return Err(SqlError::new(
                    code::DUPLICATE_OBJECT,
                    format!("extension \"{name}\" already exists"),
                ));
            }
            let version = if name == "vector" { "0.8.0" } else { "1.0" };
            catalog.extensions.insert(name, version.into());
            done("CREATE EXTENSION")
        }
        Ast::DropExtension(d) => {
            for n in &d.names {
                let name = ident_name(n);
                let catalog = session.transaction().catalog_mut();
                if catalog.extensions.remove(&name).is_none() {
                    if d.if_exists {
                        session.notice(format!("extension \"{name}\" does not exist, skipping"));
                        continue;
                    }
                    return Err(SqlError::new(
                        code::UNDEFINED_OBJECT,
                        format!("extension \"{name}\" does not exist"),
                    ));
                }
            }
            done("DROP EXTENSION")
        }
        Ast::Drop {
            object_type,
            if_exists,
            names,
            cascade,
            ..
        } => drop(session, *object_type, *if_exists, names, *cascade),
        Ast::Truncate(t) => {
            let mut tables = Vec::new();
            let catalog = session.catalog();
            let path = session.search_path();
            for target in &t.table_names {
                let (schema, name) = split_name(&target.name)?;
                match crate::catalog_access::resolve_relation(
                    &catalog,
                    schema.as_deref(),
                    &name,
                    &path,
                )? {
                    crate::catalog_access::Relation::Table(oid) => {
                        tables.push(catalog.tables[&oid].clone());
                    }
                    _ => {
                        return Err(SqlError::new(
                            code::WRONG_OBJECT_TYPE,
                            format!("\"{name}\" is not a table"),
                        ))
                    }
                }
            }
            if matches!(t.cascade, Some(ast::CascadeOption::Cascade)) {
                let mut extra = Vec::new();
                for table in &tables {
                    for other in catalog.tables.values() {
                        let refs = other.constraints.iter().any(|k| {
                            matches!(&k.kind, ConstraintKind::ForeignKey { referenced_table, .. } if *referenced_table == table.oid)
                        });
                        if refs
                            && !tables.iter().any(|x| x.oid == other.oid)
                            && !extra
                                .iter()
                                .any(|x: &storage::catalog::TableDef| x.oid == other.oid)
                        {
                            session
                                .notice(format!("truncate cascades to table \"{}\"", other.name));
                            extra.push(other.clone());
                        }
                    }
                }
                tables.extend(extra);
            }
            crate::dml::truncate(session, &tables)?;
            done("TRUNCATE TABLE")
        }
        Ast::AlterTable(at) => {
            alter::alter_table(session, at, sql)?;
            done("ALTER TABLE")
        }
        Ast::CreateView(cv) => {
            view::create_view(session, cv, sql)?;
            done("CREATE VIEW")
        }
        Ast::AlterView(av) => {
            view::alter_view(session, av)?;
            done("ALTER VIEW")
        }
        Ast::CreateSequence { .. } if fallback::is_alter_sequence(sql) => {
            sequence::alter_sequence(session, sql)?;
            done("ALTER SEQUENCE")
        }
        Ast::CreateSequence {
            temporary,
            if_not_exists,
            name,
            sequence_options,
        } => {
            if *temporary {
                return Err(SqlError::unsupported("temporary sequences"));
            }
            sequence::create_sequence(session, *if_not_exists, name, sequence_options)?;
            done("CREATE SEQUENCE")
        }
        Ast::Comment {
            object_type,
            object_name,
            comment,
            ..
        } => {
            comment::comment(session, object_type, object_name, comment.as_deref(), sql)?;
            done("COMMENT")
        }
        Ast::AlterIndex {
            name,
            operation: ast::AlterIndexOperation::RenameIndex { index_name },
        } => {
            table::rename_index(session, name, index_name)?;
            done("ALTER INDEX")
        }
        Ast::CreateFunction(f) => {
            functions::create_function(session, f, sql)?;
            done("CREATE FUNCTION")
        }
        Ast::DropFunction(f) => {
            functions::drop_function(session, f)?;
            done("DROP FUNCTION")
        }
        Ast::CreateTrigger(t) => crate::plpgsql::triggers::create_trigger(session, t),
        Ast::DropTrigger(t) => crate::plpgsql::triggers::drop_trigger(session, t),
        Ast::CreatePolicy(p) => policy::create(session, p),
        Ast::AlterPolicy(p) => policy::alter(session, p),
        Ast::DropPolicy(p) => policy::drop(session, p),
        other => Err(SqlError::unsupported(statement_kind(other))),
    }
}

fn statement_kind(s: &Ast) -> String {
    let text = s.to_string();
    let words: Vec<&str> = text.split_whitespace().take(2).collect();
    format!("statement {}", words.join(" "))
}

/// Finds what DROP names; drops it and what depends on it (CASCADE) or refuses.
fn drop(
    session: &mut Session,
    object_type: ast::ObjectType,
    if_exists: bool,
    names: &[ast::ObjectName],
    cascade: bool,
) -> SqlResult<Outcome> {
    let (kind, tag) = match object_type {
        ast::ObjectType::Table => ("table", "DROP TABLE"),
        ast::ObjectType::Index => ("index", "DROP INDEX"),
        ast::ObjectType::View => ("view", "DROP VIEW"),
        ast::ObjectType::Schema => ("schema", "DROP SCHEMA"),
        ast::ObjectType::Sequence => ("sequence", "DROP SEQUENCE"),
        other => return Err(SqlError::unsupported(format!("DROP {other}"))),
    };
    let path = session.search_path();
    for name in names {
        let (schema, rel) = split_name(name)?;
        let catalog = session.catalog();
        let target = find_object(&catalog, kind, schema.as_deref(), &rel, &path);
        let Some(oid) = target else {
            if let Some(other) = ["table", "view", "sequence", "index"]
                .into_iter()
                .filter(|k| *k != kind && kind != "schema")
                .find(|k| find_object(&catalog, k, schema.as_deref(), &rel, &path).is_some())
            {
                let article = if other == "index" { "an" } else { "a" };
                return Err(SqlError::new(
                    code::WRONG_OBJECT_TYPE,
                    format!(
                        "\"{rel}\" is not {} {kind}",
                        if kind == "index" { "an" } else { "a" }
                    ),
                )
                .with_hint(format!(
                    "Use DROP {} to remove {article} {other}.",
                    other.to_uppercase()
                )));
            }
            if if_exists {
                session.notice(format!("{kind} \"{rel}\" does not exist, skipping"));
                continue;
            }
            let (code, message) = match kind {
                "schema" => (
                    code::INVALID_SCHEMA_NAME,
                    format!("schema \"{rel}\" does not exist"),
                ),
                "index" => (
                    code::UNDEFINED_OBJECT,
                    format!("index \"{rel}\" does not exist"),
                ),
                _ => (
                    code::UNDEFINED_TABLE,
                    format!("{kind} \"{rel}\" does not exist"),
                ),
            };
            return Err(SqlError::new(code, message));
        };
        match kind {
            "table" => table::drop_table(session, oid, cascade)?,
            "index" => {
                let catalog = session.catalog();
                let index = &catalog.indexes[&oid];
                if let Some(k) = catalog.tables.get(&index.table).and_then(|t| {
                    t.constraints.iter().find(|k| matches!(&k.kind,
                        ConstraintKind::PrimaryKey { index: i, .. } | ConstraintKind::Unique { index: i, .. } if *i == oid))
                }) {
                    return Err(SqlError::new(
                        code::DEPENDENT_OBJECTS_STILL_EXIST,
                        format!(
                            "cannot drop index {} because constraint {} on table {} requires it",
                            index.name, k.name, catalog.tables[&index.table].name
                        ),
                    )
                    .with_hint(format!("You can drop constraint {} on table {} instead.", k.name, catalog.tables[&index.table].name)));
                }
                let c = session.transaction().catalog_mut();
                c.indexes.remove(&oid);
                c.comments.retain(|x| x.object != oid);
            }
            "view" => {
                let before = dependents::view_shapes(session);
                let c = session.transaction().catalog_mut();
                c.views.remove(&oid);
                c.comments.retain(|x| x.object != oid);
                dependents::settle_views(session, &before, cascade, &format!("view {rel}"))?;
            }
            "sequence" => drop_sequence(session, oid, cascade)?,
            "schema" => {
                let catalog = session.catalog();
                let contents: Vec<Oid> = catalog
                    .tables
                    .values()
                    .filter(|t| t.schema == oid)
                    .map(|t| t.oid)
                    .collect();
                let has_other = catalog.views.values().any(|v| v.schema == oid)
                    || catalog.functions.values().any(|f| f.schema == oid)
                    || catalog
                        .sequences
                        .values()
                        .any(|s| s.schema == oid && s.owned_by.is_none());
                if (!contents.is_empty() || has_other) && !cascade {
                    return Err(SqlError::new(
                        code::DEPENDENT_OBJECTS_STILL_EXIST,
                        format!("cannot drop schema {rel} because other objects depend on it"),
                    )
                    .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
                }
                for t in contents {
                    table::drop_table(session, t, true)?;
                }
                let before = dependents::view_shapes(session);
                let c = session.transaction().catalog_mut();
                let gone: Vec<Oid> = c
                    .views
                    .values()
                    .filter(|v| v.schema == oid)
                    .map(|v| v.oid)
                    .chain(
                        c.sequences
                            .values()
                            .filter(|s| s.schema == oid)
                            .map(|s| s.oid),
                    )
                    .chain(
                        c.functions
                            .values()
                            .filter(|f| f.schema == oid)
                            .map(|f| f.oid),
                    )
                    .collect();
                c.views.retain(|_, v| v.schema != oid);
                c.sequences.retain(|_, s| s.schema != oid);
                c.functions.retain(|_, f| f.schema != oid);
                c.comments.retain(|x| {
                    !(gone.contains(&x.object) || (x.object == oid && x.object_kind == "schema"))
                });
                c.schemas.remove(&oid);
                dependents::settle_views(session, &before, true, &format!("schema {rel}"))?;
            }
            _ => {}
        }
    }
    done(tag)
}

/// DROP SEQUENCE: column defaults that draw from it depend on it.
fn drop_sequence(session: &mut Session, oid: Oid, cascade: bool) -> SqlResult<()> {
    let catalog = session.catalog();
    let Some(seq) = catalog.sequences.get(&oid) else {
        return Ok(());
    };
    let mut users: Vec<(Oid, usize, String, String)> = Vec::new();
    for t in catalog.tables.values() {
        for (i, c) in t.columns.iter().enumerate() {
            let draws = c.default.as_deref().is_some_and(|d| {
                sqltext::tokens(d).is_ok_and(|tokens| {
                    tokens.iter().any(|tok| match &tok.token {
                        sqlparser::tokenizer::Token::SingleQuotedString(s) => {
                            s.trim_matches('"') == seq.name
                                || s.rsplit('.').next().map(|n| n.trim_matches('"'))
                                    == Some(seq.name.as_str())
                        }
                        _ => false,
                    })
                })
            });
            if draws && seq.owned_by != Some((t.oid, c.attnum)) {
                users.push((t.oid, i, c.name.clone(), t.name.clone()));
            }
        }
    }
    if let Some((_, _, column, table)) = users.first() {
        if !cascade {
            return Err(SqlError::new(
                code::DEPENDENT_OBJECTS_STILL_EXIST,
                format!(
                    "cannot drop sequence {} because other objects depend on it",
                    seq.name
                ),
            )
            .with_detail(format!(
                "default value for column {column} of table {table} depends on sequence {}",
                seq.name
            ))
            .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
        }
    }
    for (_, _, column, table) in &users {
        session.notice(format!(
            "drop cascades to default value for column {column} of table {table}"
        ));
    }
    let c = session.transaction().catalog_mut();
    for (t, i, _, _) in users {
        if let Some(column) = c.tables.get_mut(&t).and_then(|t| t.columns.get_mut(i)) {
            column.default = None;
        }
    }
    c.sequences.remove(&oid);
    c.comments.retain(|x| x.object != oid);
    Ok(())
}

fn find_object(
    catalog: &Catalog,
    kind: &str,
    schema: Option<&str>,
    name: &str,
    path: &[String],
) -> Option<Oid> {
    if kind == "schema" {
        return catalog.schema_by_name(name).map(|s| s.oid);
    }
    let schemas: Vec<Oid> = match schema {
        Some(s) => catalog
            .schema_by_name(s)
            .map(|s| vec![s.oid])
            .unwrap_or_default(),
        None => path
            .iter()
            .filter_map(|s| catalog.schema_by_name(s).map(|s| s.oid))
            .collect(),
    };
    for s in schemas {
        let found = match kind {
            "table" => catalog.table_by_name(s, name).map(|t| t.oid),
            "index" => catalog
                .indexes
                .values()
                .find(|i| i.schema == s && i.name == name)
                .map(|i| i.oid),
            "view" => catalog
                .views
                .values()
                .find(|v| v.schema == s && v.name == name)
                .map(|v| v.oid),
            "sequence" => catalog
                .sequences
                .values()
                .find(|q| q.schema == s && q.name == name)
                .map(|q| q.oid),
            _ => None,
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

#[cfg(test)]
mod tests;
