//! Table constraints as CREATE TABLE and ALTER TABLE ... ADD define them: PRIMARY KEY and
//! UNIQUE (each with its unique B-tree index), CHECK (kept as the expression's text) and
//! FOREIGN KEY (by OIDs and attnums), with PostgreSQL's default names and checks.
//!
//! DROP CONSTRAINT and RENAME CONSTRAINT are here too.
//!
//! The add functions change a `TableDef` the caller owns (a new table, or a copy of an existing
//! one that the caller puts back into the catalog) and add indexes to `catalog`. They check
//! definitions only; whether existing rows satisfy a new constraint is `rows`' business.

use sqlparser::ast::{self, TableConstraint};
use storage::catalog::{
    AttNum, Catalog, ConstraintDef, ConstraintKind, IndexDef, IndexMethodDef, Oid,
    ReferentialAction, TableDef,
};
use storage::types::DataType;

use super::alter::{current, store};
use super::table::{relation_exists, source_text, unique_name};
use crate::bind::{ident_name, split_name};
use crate::catalog_access::{resolve_relation, Relation};
use crate::engine::Session;
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;

/// A PRIMARY KEY or UNIQUE constraint to add.
pub struct KeySpec {
    pub name: Option<String>,
    pub columns: Vec<String>,
    pub primary: bool,
}

/// A FOREIGN KEY constraint to add.
pub struct ForeignSpec {
    pub name: Option<String>,
    pub columns: Vec<String>,
    pub table: ast::ObjectName,
    pub referred: Vec<String>,
    pub on_delete: ReferentialAction,
    pub on_update: ReferentialAction,
}

/// A CHECK constraint to add: its expression as written, and the column it was written on
/// (a column constraint) if any.
pub struct CheckSpec {
    pub name: Option<String>,
    pub expression: String,
    pub column: Option<String>,
}

/// Any of the above.
pub enum ConstraintSpec {
    Key(KeySpec),
    Foreign(ForeignSpec),
    Check(CheckSpec),
}

pub fn referential(a: &Option<ast::ReferentialAction>) -> ReferentialAction {
    match a {
        Some(ast::ReferentialAction::Cascade) => ReferentialAction::Cascade,
        Some(ast::ReferentialAction::Restrict) => ReferentialAction::Restrict,
        Some(ast::ReferentialAction::SetNull) => ReferentialAction::SetNull,
        Some(ast::ReferentialAction::SetDefault) => ReferentialAction::SetDefault,
        _ => ReferentialAction::NoAction,
    }
}

fn index_column_names(columns: &[ast::IndexColumn]) -> SqlResult<Vec<String>> {
    columns
        .iter()
        .map(|c| match &c.column.expr {
            ast::Expr::Identifier(i) => Ok(ident_name(i)),
            other => Err(SqlError::syntax(format!(
                "syntax error at or near \"{other}\""
            ))),
        })
        .collect()
}

/// The columns of `table` an expression mentions, in order of first mention.
fn mentioned_columns(e: &ast::Expr, table: &TableDef) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let text = e.to_string();
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    let Ok(tokens) = sqlparser::tokenizer::Tokenizer::new(&dialect, &text).tokenize() else {
        return found;
    };
    for token in tokens {
        if let sqlparser::tokenizer::Token::Word(w) = token {
            let name = if w.quote_style.is_some() {
                w.value
            } else {
                w.value.to_lowercase()
            };
            if table.column_by_name(&name).is_some() && !found.contains(&name) {
                found.push(name);
            }
        }
    }
    found
}

/// A table constraint of CREATE TABLE / ALTER TABLE ADD as a spec.
pub fn table_constraint_spec(
    sql: &str,
    k: &TableConstraint,
    table: &TableDef,
) -> SqlResult<ConstraintSpec> {
    Ok(match k {
        TableConstraint::PrimaryKey(pk) => ConstraintSpec::Key(KeySpec {
            name: pk.name.as_ref().map(ident_name),
            columns: index_column_names(&pk.columns)?,
            primary: true,
        }),
        TableConstraint::Unique(u) => ConstraintSpec::Key(KeySpec {
            name: u.name.as_ref().map(ident_name),
            columns: index_column_names(&u.columns)?,
            primary: false,
        }),
        TableConstraint::ForeignKey(fk) => ConstraintSpec::Foreign(ForeignSpec {
            name: fk.name.as_ref().map(ident_name),
            columns: fk.columns.iter().map(ident_name).collect(),
            table: fk.foreign_table.clone(),
            referred: fk.referred_columns.iter().map(ident_name).collect(),
            on_delete: referential(&fk.on_delete),
            on_update: referential(&fk.on_update),
        }),
        TableConstraint::Check(check) => {
            let mentioned = mentioned_columns(&check.expr, table);
            ConstraintSpec::Check(CheckSpec {
                name: check.name.as_ref().map(ident_name),
                expression: source_text(sql, check.expr.as_ref(), || check.expr.to_string()),
                column: (mentioned.len() == 1).then(|| mentioned[0].clone()),
            })
        }
        other => return Err(SqlError::unsupported(format!("constraint {other}"))),
    })
}

/// Adds one constraint; returns its name.
pub fn add_constraint(
    catalog: &mut Catalog,
    table: &mut TableDef,
    spec: ConstraintSpec,
    path: &[String],
) -> SqlResult<String> {
    match spec {
        ConstraintSpec::Key(k) => add_key(catalog, table, k),
        ConstraintSpec::Foreign(f) => add_foreign_key(catalog, table, f, path),
        ConstraintSpec::Check(c) => add_check(catalog, table, c),
    }
}

/// `base`, or `base1`, `base2`... whichever no constraint of `table` has.
fn free_constraint_name(table: &TableDef, base: &str) -> String {
    let base: String = base.chars().take(63).collect();
    let taken = |n: &str| table.constraints.iter().any(|k| k.name == n);
    if !taken(&base) {
        return base;
    }
    (1..)
        .map(|n| format!("{base}{n}"))
        .find(|c| !taken(c))
        .unwrap_or_default()
}

fn check_name_free(table: &TableDef, name: &str) -> SqlResult<()> {
    if table.constraints.iter().any(|k| k.name == name) {
        return Err(SqlError::new(
            code::DUPLICATE_OBJECT,
            format!(
                "constraint \"{name}\" for relation \"{}\" already exists",
                table.name
            ),
        ));
    }
    Ok(())
}

/// PRIMARY KEY / UNIQUE: the constraint and its unique index (named like the constraint).
pub fn add_key(catalog: &mut Catalog, table: &mut TableDef, k: KeySpec) -> SqlResult<String> {
    if k.primary
        && table
            .constraints
            .iter()
            .any(|c| matches!(c.kind, ConstraintKind::PrimaryKey { .. }))
    {
        return Err(SqlError::new(
            code::INVALID_TABLE_DEFINITION,
            format!(
                "multiple primary keys for table \"{}\" are not allowed",
                table.name
            ),
        ));
    }
    let mut attnums = Vec::new();
    for c in &k.columns {
        let col = table
            .columns
            .iter_mut()
            .find(|x| x.name == *c && !x.dropped)
            .ok_or_else(|| {
                SqlError::new(
                    code::UNDEFINED_COLUMN,
                    format!("column \"{c}\" named in key does not exist"),
                )
            })?;
        if attnums.contains(&col.attnum) {
            return Err(SqlError::new(
                code::DUPLICATE_COLUMN,
                format!("column \"{c}\" appears twice in primary key constraint"),
            ));
        }
        if k.primary {
            col.not_null = true;
        }
        attnums.push(col.attnum);
    }
    let schema = table.schema;
    let name = match k.name {
        Some(n) => {
            check_name_free(table, &n)?;
            if relation_exists(catalog, schema, &n) {
                return Err(SqlError::new(
                    code::DUPLICATE_TABLE,
                    format!("relation \"{n}\" already exists"),
                ));
            }
            n
        }
        None => {
            let base = if k.primary {
                format!("{}_pkey", table.name)
            } else {
                format!("{}_{}_key", table.name, k.columns.join("_"))
            };
            unique_name(catalog, schema, &base)
        }
    };
    let index = catalog.allocate_oid();
    catalog.indexes.insert(
        index,
        IndexDef {
            oid: index,
            name: name.clone(),
            schema,
            table: table.oid,
            method: IndexMethodDef::Btree,
            columns: attnums.clone(),
            unique: true,
            primary: k.primary,
            ..Default::default()
        },
    );
    table.constraints.push(ConstraintDef {
        oid: index,
        name: name.clone(),
        kind: if k.primary {
            ConstraintKind::PrimaryKey {
                columns: attnums,
                index,
            }
        } else {
            ConstraintKind::Unique {
                columns: attnums,
                index,
            }
        },
    });
    Ok(name)
}

/// CHECK: named `<table>_<column>_check` when it mentions one column, else `<table>_check`.
pub fn add_check(catalog: &mut Catalog, table: &mut TableDef, c: CheckSpec) -> SqlResult<String> {
    let name = match c.name {
        Some(n) => {
            check_name_free(table, &n)?;
            n
        }
        None => {
            let base = match &c.column {
                Some(col) => format!("{}_{col}_check", table.name),
                None => format!("{}_check", table.name),
            };
            free_constraint_name(table, &base)
        }
    };
    let oid = catalog.allocate_oid();
    table.constraints.push(ConstraintDef {
        oid,
        name: name.clone(),
        kind: ConstraintKind::Check {
            expression: c.expression,
        },
    });
    Ok(name)
}

/// FOREIGN KEY: the referenced table must have a PRIMARY KEY or UNIQUE constraint on exactly
/// the referenced columns, of comparable types. A table may reference itself.
pub fn add_foreign_key(
    catalog: &mut Catalog,
    table: &mut TableDef,
    f: ForeignSpec,
    path: &[String],
) -> SqlResult<String> {
    let (fschema, fname) = split_name(&f.table)?;
    let self_reference = fname == table.name
        && match &fschema {
            None => catalog
                .table_by_name(table.schema, &fname)
                .is_none_or(|t| t.oid == table.oid),
            Some(s) => catalog.schema_by_name(s).map(|s| s.oid) == Some(table.schema),
        };
    let referenced: TableDef = if self_reference {
        table.clone()
    } else {
        match resolve_relation(catalog, fschema.as_deref(), &fname, path)? {
            Relation::Table(t) => catalog.tables[&t].clone(),
            _ => {
                return Err(SqlError::new(
                    code::WRONG_OBJECT_TYPE,
                    format!("referenced relation \"{fname}\" is not a table"),
                ))
            }
        }
    };
    let mut cols = Vec::new();
    for c in &f.columns {
        let col = table.column_by_name(c).ok_or_else(|| {
            SqlError::new(
                code::UNDEFINED_COLUMN,
                format!("column \"{c}\" referenced in foreign key constraint does not exist"),
            )
        })?;
        cols.push(col.attnum);
    }
    let referred: Vec<AttNum> = if f.referred.is_empty() {
        let pk = referenced.constraints.iter().find_map(|k| match &k.kind {
            ConstraintKind::PrimaryKey { columns, .. } => Some(columns.clone()),
            _ => None,
        });
        pk.ok_or_else(|| {
            SqlError::new(
                code::INVALID_FOREIGN_KEY,
                format!(
                    "there is no primary key for referenced table \"{}\"",
                    referenced.name
                ),
            )
        })?
    } else {
        let mut r = Vec::new();
        for c in &f.referred {
            let col = referenced.column_by_name(c).ok_or_else(|| {
                SqlError::new(
                    code::UNDEFINED_COLUMN,
                    format!("column \"{c}\" referenced in foreign key constraint does not exist"),
                )
            })?;
            r.push(col.attnum);
        }
        r
    };
    if cols.len() != referred.len() {
        return Err(SqlError::new(
            code::INVALID_FOREIGN_KEY,
            "number of referencing and referenced columns for foreign key disagree",
        ));
    }
    let mut sorted = referred.clone();
    sorted.sort();
    let has_unique = referenced.constraints.iter().any(|k| match &k.kind {
        ConstraintKind::PrimaryKey { columns, .. } | ConstraintKind::Unique { columns, .. } => {
            let mut c = columns.clone();
            c.sort();
            c == sorted
        }
        _ => false,
    });
    if !has_unique {
        return Err(SqlError::new(
            code::INVALID_FOREIGN_KEY,
            format!(
                "there is no unique constraint matching given keys for referenced table \"{}\"",
                referenced.name
            ),
        ));
    }
    let column_names: Vec<String> = cols
        .iter()
        .filter_map(|a| table.column(*a).map(|c| c.name.clone()))
        .collect();
    let base = format!("{}_{}_fkey", table.name, column_names.join("_"));
    let name = match f.name {
        Some(n) => {
            check_name_free(table, &n)?;
            n
        }
        None => free_constraint_name(table, &base),
    };
    for (a, b) in cols.iter().zip(&referred) {
        let type_of = |t: &TableDef, attnum: AttNum| {
            SqlType::from_data_type(
                &t.column(attnum)
                    .map(|c| c.data_type.clone())
                    .unwrap_or(DataType::Text),
            )
        };
        let (ta, tb) = (type_of(table, *a), type_of(&referenced, *b));
        if ta.category() != tb.category() {
            let name_of = |t: &TableDef, attnum: AttNum| {
                t.column(attnum).map(|c| c.name.clone()).unwrap_or_default()
            };
            return Err(SqlError::new(
                code::DATATYPE_MISMATCH,
                format!("foreign key constraint \"{name}\" cannot be implemented"),
            )
            .with_detail(format!(
                "Key columns \"{}\" and \"{}\" are of incompatible types: {} and {}.",
                name_of(table, *a),
                name_of(&referenced, *b),
                ta.display_name(),
                tb.display_name()
            )));
        }
    }
    let oid = catalog.allocate_oid();
    table.constraints.push(ConstraintDef {
        oid,
        name: name.clone(),
        kind: ConstraintKind::ForeignKey {
            columns: cols,
            referenced_table: referenced.oid,
            referenced_columns: referred,
            on_delete: f.on_delete,
            on_update: f.on_update,
        },
    });
    Ok(name)
}

/// Constraints of other tables that reference `table` through the index of constraint
/// `index` (to refuse dropping a key that foreign keys use): (table, constraint name).
pub fn foreign_keys_using(
    catalog: &Catalog,
    table: &TableDef,
    key_columns: &[AttNum],
) -> Vec<(Oid, String, String)> {
    let mut sorted = key_columns.to_vec();
    sorted.sort();
    let mut out = Vec::new();
    for t in catalog.tables.values() {
        for k in &t.constraints {
            if let ConstraintKind::ForeignKey {
                referenced_table,
                referenced_columns,
                ..
            } = &k.kind
            {
                let mut r = referenced_columns.clone();
                r.sort();
                if *referenced_table == table.oid && r == sorted {
                    out.push((t.oid, t.name.clone(), k.name.clone()));
                }
            }
        }
    }
    out
}

/// ALTER TABLE ... DROP CONSTRAINT: a key other tables reference needs CASCADE, which
/// drops their foreign keys too.
pub fn drop_constraint(
    session: &mut Session,
    oid: Oid,
    name: &str,
    if_exists: bool,
    cascade: bool,
) -> SqlResult<()> {
    let mut table = current(session, oid)?;
    let Some(position) = table.constraints.iter().position(|k| k.name == name) else {
        let message = format!(
            "constraint \"{name}\" of relation \"{}\" does not exist",
            table.name
        );
        if if_exists {
            session.notice(format!("{message}, skipping"));
            return Ok(());
        }
        return Err(SqlError::new(code::UNDEFINED_OBJECT, message));
    };
    let constraint = table.constraints.remove(position);
    let mut index = None;
    let mut foreign = Vec::new();
    if let ConstraintKind::PrimaryKey { columns, index: i }
    | ConstraintKind::Unique { columns, index: i } = &constraint.kind
    {
        index = Some(*i);
        let catalog = session.catalog();
        foreign = foreign_keys_using(&catalog, &table, columns);
        // A foreign key of this very table is in `table`, not in the catalog's copy.
        foreign.retain(|(t, _, _)| *t != oid);
        for k in &table.constraints {
            if let ConstraintKind::ForeignKey {
                referenced_table,
                referenced_columns,
                ..
            } = &k.kind
            {
                let mut r = referenced_columns.clone();
                r.sort();
                let mut c = columns.clone();
                c.sort();
                if *referenced_table == oid && r == c {
                    foreign.push((oid, table.name.clone(), k.name.clone()));
                }
            }
        }
        if let Some((_, t, k)) = foreign.first() {
            if !cascade {
                let index_name = session
                    .catalog()
                    .indexes
                    .get(i)
                    .map(|d| d.name.clone())
                    .unwrap_or_else(|| name.to_string());
                return Err(SqlError::new(
                    code::DEPENDENT_OBJECTS_STILL_EXIST,
                    format!(
                        "cannot drop constraint {name} on table {} because other objects depend on it",
                        table.name
                    ),
                )
                .with_detail(format!("constraint {k} on table {t} depends on index {index_name}"))
                .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
            }
        }
    }
    for (_, t, k) in &foreign {
        session.notice(format!("drop cascades to constraint {k} on table {t}"));
    }
    for (t, _, k) in &foreign {
        if *t == oid {
            table.constraints.retain(|x| x.name != *k);
        }
    }
    let catalog = session.transaction().catalog_mut();
    for (t, _, k) in &foreign {
        if *t != oid {
            if let Some(def) = catalog.tables.get_mut(t) {
                def.constraints.retain(|x| x.name != *k);
            }
        }
    }
    if let Some(i) = index {
        catalog.indexes.remove(&i);
    }
    catalog.tables.insert(oid, table);
    Ok(())
}

/// ALTER TABLE ... RENAME CONSTRAINT (the index of a key is renamed with it).
pub fn rename_constraint(session: &mut Session, oid: Oid, old: &str, new: &str) -> SqlResult<()> {
    let mut table = current(session, oid)?;
    if table.constraints.iter().any(|k| k.name == new) {
        return Err(SqlError::new(
            code::DUPLICATE_OBJECT,
            format!(
                "constraint \"{new}\" for relation \"{}\" already exists",
                table.name
            ),
        ));
    }
    let Some(k) = table.constraints.iter_mut().find(|k| k.name == old) else {
        return Err(SqlError::new(
            code::UNDEFINED_OBJECT,
            format!(
                "constraint \"{old}\" for table \"{}\" does not exist",
                table.name
            ),
        ));
    };
    k.name = new.to_string();
    let index = match &k.kind {
        ConstraintKind::PrimaryKey { index, .. } | ConstraintKind::Unique { index, .. } => {
            Some(*index)
        }
        _ => None,
    };
    if let Some(i) = index {
        let catalog = session.catalog();
        if relation_exists(&catalog, table.schema, new) {
            return Err(SqlError::new(
                code::DUPLICATE_TABLE,
                format!("relation \"{new}\" already exists"),
            ));
        }
        if let Some(def) = session.transaction().catalog_mut().indexes.get_mut(&i) {
            def.name = new.to_string();
        }
    }
    store(session, table);
    Ok(())
}
