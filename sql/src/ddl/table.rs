//! CREATE TABLE (columns, defaults, serial and identity columns, generated columns,
//! PRIMARY KEY / UNIQUE / CHECK / REFERENCES), CREATE INDEX (a unique one is checked against
//! the existing rows at once), ALTER INDEX ... RENAME, DROP TABLE (foreign keys and views
//! that depend on the table need CASCADE). Column definitions are shared with ALTER TABLE
//! ADD COLUMN ([`column_definition`], [`attach_sequence`]).

use sqlparser::ast::{self, ColumnOption, Spanned};
use storage::catalog::{
    AttNum, Catalog, ColumnDef, ConstraintKind, IdentityKind, IndexDef, IndexMethodDef, Oid,
    SequenceDef, TableDef,
};
use storage::types::DataType;

use super::constraints::{
    add_constraint, referential, table_constraint_spec, CheckSpec, ConstraintSpec, ForeignSpec,
    KeySpec,
};

use crate::bind::types::sql_type;
use crate::bind::{ident_name, object_name_parts, split_name};
use crate::engine::Session;
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;

/// The original text of an AST node inside the statement `sql` (stored expressions keep
/// the user's text; nothing is printed back from the AST when the span is known).
/// A column default as PostgreSQL shows it: a string literal carries its cast to the
/// column type (`'unknown'::character varying`); other expressions keep their text.
pub fn default_text(sql: &str, e: &ast::Expr, data_type: &storage::types::DataType) -> String {
    if let ast::Expr::Value(v) = e {
        if let ast::Value::SingleQuotedString(s) = &v.value {
            let t = crate::pgtype::SqlType::from_data_type(data_type).without_modifier();
            // `character` alone means char(1), which would cut the value: `bpchar` keeps it.
            let name = match t {
                crate::pgtype::SqlType::Char(_) => "bpchar".to_string(),
                t => t.display_name(),
            };
            return format!("'{}'::{name}", s.replace('\'', "''"));
        }
    }
    source_text(sql, e, || e.to_string())
}

pub fn source_text(sql: &str, node: &impl Spanned, fallback: impl FnOnce() -> String) -> String {
    let printed = fallback();
    match crate::parse::span_text(sql, node.span()) {
        Some(text) if crate::parse::same_meaning(&text, &printed) => text,
        _ => printed,
    }
}

pub fn relation_exists(catalog: &Catalog, schema: Oid, name: &str) -> bool {
    catalog.table_by_name(schema, name).is_some()
        || catalog
            .views
            .values()
            .any(|v| v.schema == schema && v.name == name)
        || catalog
            .sequences
            .values()
            .any(|s| s.schema == schema && s.name == name)
        || catalog
            .indexes
            .values()
            .any(|i| i.schema == schema && i.name == name)
}

/// A free relation name like PostgreSQL picks (`name`, `name1`, ...).
pub fn unique_name(catalog: &Catalog, schema: Oid, base: &str) -> String {
    let base: String = base.chars().take(63).collect();
    if !relation_exists(catalog, schema, &base) {
        return base;
    }
    for n in 1.. {
        let candidate = format!("{base}{n}");
        if !relation_exists(catalog, schema, &candidate) {
            return candidate;
        }
    }
    unreachable!()
}

/// A column of CREATE TABLE or ALTER TABLE ADD COLUMN: its definition, the constraints written
/// on it, and the integer type of the sequence it needs (serial and identity columns).
pub struct NewColumn {
    pub def: ColumnDef,
    pub constraints: Vec<ConstraintSpec>,
    pub sequence: Option<DataType>,
}

/// Reads a column definition; `attnum` is the number it gets.
pub fn column_definition(sql: &str, c: &ast::ColumnDef, attnum: AttNum) -> SqlResult<NewColumn> {
    let cname = ident_name(&c.name);
    let serial = match &c.data_type {
        ast::DataType::Custom(n, _) => match object_name_parts(n).last().map(String::as_str) {
            Some("serial") | Some("serial4") => Some(DataType::Int4),
            Some("bigserial") | Some("serial8") => Some(DataType::Int8),
            Some("smallserial") | Some("serial2") => Some(DataType::Int2),
            _ => None,
        },
        _ => None,
    };
    let data_type = match &serial {
        Some(t) => t.clone(),
        None => sql_type(&c.data_type)?.to_data_type().ok_or_else(|| {
            SqlError::new(
                code::FEATURE_NOT_SUPPORTED,
                format!("column \"{cname}\" cannot be of type {}", c.data_type),
            )
        })?,
    };
    let mut def = ColumnDef {
        attnum,
        name: cname.clone(),
        data_type,
        ..Default::default()
    };
    let mut sequence = None;
    if let Some(t) = serial {
        def.not_null = true;
        sequence = Some(t);
    }
    let mut constraints = Vec::new();
    for option in &c.options {
        let constraint_name = option.name.as_ref().map(ident_name);
        match &option.option {
            ColumnOption::Null => {}
            ColumnOption::NotNull => def.not_null = true,
            ColumnOption::Default(e) => {
                def.default = Some(default_text(sql, e, &def.data_type));
            }
            ColumnOption::PrimaryKey(_) => constraints.push(ConstraintSpec::Key(KeySpec {
                name: constraint_name,
                columns: vec![cname.clone()],
                primary: true,
            })),
            ColumnOption::Unique(_) => constraints.push(ConstraintSpec::Key(KeySpec {
                name: constraint_name,
                columns: vec![cname.clone()],
                primary: false,
            })),
            ColumnOption::ForeignKey(fk) => {
                constraints.push(ConstraintSpec::Foreign(ForeignSpec {
                    name: constraint_name.or_else(|| fk.name.as_ref().map(ident_name)),
                    columns: vec![cname.clone()],
                    table: fk.foreign_table.clone(),
                    referred: fk.referred_columns.iter().map(ident_name).collect(),
                    on_delete: referential(&fk.on_delete),
                    on_update: referential(&fk.on_update),
                }))
            }
            ColumnOption::Check(check) => constraints.push(ConstraintSpec::Check(CheckSpec {
                name: constraint_name.or_else(|| check.name.as_ref().map(ident_name)),
                expression: source_text(sql, check.expr.as_ref(), || check.expr.to_string()),
                column: Some(cname.clone()),
            })),
            ColumnOption::Generated {
                generated_as,
                generation_expr,
                ..
            } => match (generated_as, generation_expr) {
                (_, Some(e)) => {
                    def.generated = Some(source_text(sql, e, || e.to_string()));
                }
                (ast::GeneratedAs::Always, None) => {
                    def.identity = Some(IdentityKind::Always);
                    def.not_null = true;
                    sequence = Some(def.data_type.clone());
                }
                (ast::GeneratedAs::ByDefault, None) => {
                    def.identity = Some(IdentityKind::ByDefault);
                    def.not_null = true;
                    sequence = Some(def.data_type.clone());
                }
                (ast::GeneratedAs::ExpStored, None) => {
                    return Err(SqlError::syntax("generation expression missing"))
                }
            },
            ColumnOption::Collation(_) => {}
            other => {
                return Err(SqlError::unsupported(format!("column option {other}")));
            }
        }
    }
    if sequence.is_some()
        && !matches!(
            def.data_type,
            DataType::Int2 | DataType::Int4 | DataType::Int8
        )
    {
        return Err(SqlError::new(
            code::INVALID_PARAMETER_VALUE,
            "identity column type must be smallint, integer, or bigint",
        ));
    }
    Ok(NewColumn {
        def,
        constraints,
        sequence,
    })
}

/// Creates the sequence a serial or identity column draws from (`<table>_<column>_seq`,
/// owned by the column) and makes `nextval` of it the column's default.
pub fn attach_sequence(
    catalog: &mut Catalog,
    table: &TableDef,
    column: &mut ColumnDef,
    owner: Oid,
) {
    let schema = table.schema;
    let seq_name = unique_name(
        catalog,
        schema,
        &format!("{}_{}_seq", table.name, column.name),
    );
    let max = match column.data_type {
        DataType::Int2 => i64::from(i16::MAX),
        DataType::Int4 => i64::from(i32::MAX),
        _ => i64::MAX,
    };
    let seq = catalog.allocate_oid();
    catalog.sequences.insert(
        seq,
        SequenceDef {
            oid: seq,
            schema,
            name: seq_name.clone(),
            owner,
            start: 1,
            increment: 1,
            min_value: 1,
            max_value: max,
            cycle: false,
            owned_by: Some((table.oid, column.attnum)),
            last_value: None,
        },
    );
    column.default = Some(format!("nextval('{}'::regclass)", quote_ident(&seq_name)));
}

/// An identifier as SQL text, quoted when it needs to be (the catalog's own rule).
pub use crate::pg_catalog::ident::quote_identifier as quote_ident;

pub fn create_table(session: &mut Session, ct: &ast::CreateTable) -> SqlResult<()> {
    // Partitions and inheritance children are tables of their own here: refused rather
    // than created with a parent that neither sees their rows nor applies its policies.
    if ct.partition_by.is_some() {
        return Err(SqlError::unsupported("partitioned tables (PARTITION BY)"));
    }
    if ct.partition_of.is_some() {
        return Err(SqlError::unsupported("CREATE TABLE ... PARTITION OF"));
    }
    if ct.inherits.as_ref().is_some_and(|i| !i.is_empty()) {
        return Err(SqlError::unsupported("table inheritance (INHERITS)"));
    }
    let sql = session.current_sql.clone();
    let (schema_name, name) = split_name(&ct.name)?;
    let catalog = session.catalog();
    let path = session.search_path();
    let schema = crate::catalog_access::target_schema(&catalog, schema_name.as_deref(), &path)?;
    if relation_exists(&catalog, schema, &name) {
        if ct.if_not_exists {
            session.notice(format!("relation \"{name}\" already exists, skipping"));
            return Ok(());
        }
        return Err(SqlError::new(
            code::DUPLICATE_TABLE,
            format!("relation \"{name}\" already exists"),
        ));
    }
    if let Some(q) = &ct.query {
        return create_table_as(session, schema, &name, ct, q);
    }
    let owner = session.role_oid();
    let mut columns: Vec<ColumnDef> = Vec::new();
    let mut specs: Vec<ConstraintSpec> = Vec::new();
    let mut sequences: Vec<usize> = Vec::new();
    for (i, c) in ct.columns.iter().enumerate() {
        let new = column_definition(&sql, c, i as AttNum + 1)?;
        if columns.iter().any(|x| x.name == new.def.name) {
            return Err(SqlError::new(
                code::DUPLICATE_COLUMN,
                format!("column \"{}\" specified more than once", new.def.name),
            ));
        }
        if new.sequence.is_some() {
            sequences.push(i);
        }
        columns.push(new.def);
        specs.extend(new.constraints);
    }
    let catalog = session.transaction().catalog_mut();
    let oid = catalog.allocate_oid();
    let mut table = TableDef {
        oid,
        schema,
        name: name.clone(),
        owner,
        columns,
        ..Default::default()
    };
    for k in &ct.constraints {
        specs.push(table_constraint_spec(&sql, k, &table)?);
    }
    for i in sequences {
        let mut column = table.columns[i].clone();
        attach_sequence(catalog, &table, &mut column, owner);
        table.columns[i] = column;
    }
    // PRIMARY KEY first, then UNIQUE, CHECK and FOREIGN KEY, as PostgreSQL names them.
    specs.sort_by_key(|s| match s {
        ConstraintSpec::Key(k) if k.primary => 0,
        ConstraintSpec::Key(_) => 1,
        ConstraintSpec::Check(_) => 2,
        ConstraintSpec::Foreign(_) => 3,
    });
    for spec in specs {
        add_constraint(catalog, &mut table, spec, &path)?;
    }
    catalog.tables.insert(oid, table);
    Ok(())
}

fn create_table_as(
    session: &mut Session,
    schema: Oid,
    name: &str,
    ct: &ast::CreateTable,
    q: &ast::Query,
) -> SqlResult<()> {
    let (plan, columns) = session.plan_query(q, &[])?;
    let rows = session.with_exec(&[], |ctx| crate::exec::run(&plan, ctx, None))?;
    let owner = session.role_oid();
    let mut defs = Vec::new();
    for (i, c) in columns.iter().enumerate() {
        let name = ct
            .columns
            .get(i)
            .map(|d| ident_name(&d.name))
            .unwrap_or_else(|| c.name.clone());
        let data_type = match c.sql_type.to_data_type() {
            Some(t) => t,
            None => c.sql_type.representation(),
        };
        defs.push(ColumnDef {
            attnum: i as u16 + 1,
            name,
            data_type,
            ..Default::default()
        });
    }
    let catalog = session.transaction().catalog_mut();
    let oid = catalog.allocate_oid();
    catalog.tables.insert(
        oid,
        TableDef {
            oid,
            schema,
            name: name.to_string(),
            owner,
            columns: defs,
            ..Default::default()
        },
    );
    let count = rows.len();
    let txn = session.transaction();
    for row in rows {
        txn.insert(oid, row)?;
    }
    session.last_row_count = Some(count as u64);
    Ok(())
}

pub fn create_index(session: &mut Session, ci: &ast::CreateIndex) -> SqlResult<()> {
    let sql = session.current_sql.clone();
    let catalog = session.catalog();
    let path = session.search_path();
    let (schema_name, table_name) = split_name(&ci.table_name)?;
    let table = match crate::catalog_access::resolve_relation(
        &catalog,
        schema_name.as_deref(),
        &table_name,
        &path,
    )? {
        crate::catalog_access::Relation::Table(t) => catalog.tables[&t].clone(),
        _ => {
            return Err(SqlError::new(
                code::WRONG_OBJECT_TYPE,
                format!("cannot create index on relation \"{table_name}\""),
            ))
        }
    };
    let method = match &ci.using {
        None | Some(ast::IndexType::BTree) => IndexMethodDef::Btree,
        Some(ast::IndexType::Custom(i)) if ident_name(i) == "hnsw" => IndexMethodDef::Hnsw,
        Some(ast::IndexType::Custom(i)) if ident_name(i) == "ivfflat" => IndexMethodDef::IvfFlat,
        Some(ast::IndexType::Custom(i)) if ident_name(i) == "btree" => IndexMethodDef::Btree,
        Some(other) => {
            return Err(SqlError::new(
                code::UNDEFINED_OBJECT,
                format!(
                    "access method \"{}\" does not exist",
                    other.to_string().to_lowercase()
                ),
            ))
        }
    };
    let mut columns = Vec::new();
    let mut expressions = Vec::new();
    let mut opclasses = Vec::new();
    let mut names = Vec::new();
    for c in &ci.columns {
        match &c.column.expr {
            ast::Expr::Identifier(i) => {
                let n = ident_name(i);
                let col = table.column_by_name(&n).ok_or_else(|| {
                    SqlError::new(
                        code::UNDEFINED_COLUMN,
                        format!("column \"{n}\" does not exist"),
                    )
                })?;
                columns.push(col.attnum);
                names.push(n);
            }
            other => {
                expressions.push(source_text(&sql, other, || other.to_string()));
                names.push("expr".into());
            }
        }
        if let Some(op) = &c.operator_class {
            opclasses.push(object_name_parts(op).join("."));
        }
    }
    if !expressions.is_empty() {
        return Err(SqlError::unsupported("indexes on expressions"));
    }
    if method != IndexMethodDef::Btree {
        for (i, attnum) in columns.iter().enumerate() {
            let t = &table
                .column(*attnum)
                .map(|c| c.data_type.clone())
                .unwrap_or(DataType::Text);
            if !t.is_vector() {
                return Err(SqlError::new(
                    code::UNDEFINED_OBJECT,
                    format!(
                        "data type {} has no default operator class for access method \"{}\"",
                        SqlType::from_data_type(t).display_name(),
                        if method == IndexMethodDef::Hnsw {
                            "hnsw"
                        } else {
                            "ivfflat"
                        }
                    ),
                ));
            }
            if opclasses.len() <= i {
                opclasses.push("vector_l2_ops".into());
            }
        }
    }
    let mut options = Vec::new();
    for w in &ci.with {
        if let ast::Expr::BinaryOp {
            left,
            op: ast::BinaryOperator::Eq,
            right,
        } = w
        {
            let value = right.to_string();
            options.push((
                left.to_string().to_lowercase(),
                value.trim_matches('\'').into(),
            ));
        }
    }
    super::vector_index::check_vector_index(&table, &method, &columns, &opclasses, &options)?;
    let predicate = ci
        .predicate
        .as_ref()
        .map(|p| source_text(&sql, p, || p.to_string()));
    if predicate.is_some() {
        return Err(SqlError::unsupported("partial indexes"));
    }
    let schema = table.schema;
    let base = format!(
        "{}_{}_{}",
        table.name,
        names.join("_"),
        if ci.unique { "key" } else { "idx" }
    );
    let owner_catalog = session.catalog();
    let name = match &ci.name {
        Some(n) => {
            let n = object_name_parts(n).pop().unwrap_or_default();
            if relation_exists(&owner_catalog, schema, &n) {
                if ci.if_not_exists {
                    session.notice(format!("relation \"{n}\" already exists, skipping"));
                    return Ok(());
                }
                return Err(SqlError::new(
                    code::DUPLICATE_TABLE,
                    format!("relation \"{n}\" already exists"),
                ));
            }
            n
        }
        None => unique_name(&owner_catalog, schema, &base),
    };
    let catalog = session.transaction().catalog_mut();
    let oid = catalog.allocate_oid();
    catalog.indexes.insert(
        oid,
        IndexDef {
            oid,
            name,
            schema,
            table: table.oid,
            method,
            columns,
            expressions,
            opclasses,
            unique: ci.unique,
            primary: false,
            options,
            predicate,
        },
    );
    if ci.unique {
        let columns = session.catalog().indexes[&oid].columns.clone();
        let name = session.catalog().indexes[&oid].name.clone();
        super::rows::check_unique(session, &table, &columns, &name)?;
    }
    Ok(())
}

pub fn drop_table(session: &mut Session, oid: Oid, cascade: bool) -> SqlResult<()> {
    let catalog = session.catalog();
    let table = catalog.tables[&oid].clone();
    let mut dependents = Vec::new();
    for t in catalog.tables.values() {
        if t.oid == oid {
            continue;
        }
        for k in &t.constraints {
            if let ConstraintKind::ForeignKey {
                referenced_table, ..
            } = &k.kind
            {
                if *referenced_table == oid {
                    dependents.push((t.oid, t.name.clone(), k.name.clone()));
                }
            }
        }
    }
    if !dependents.is_empty() && !cascade {
        let (_, t, k) = &dependents[0];
        return Err(SqlError::new(
            code::DEPENDENT_OBJECTS_STILL_EXIST,
            format!(
                "cannot drop table {} because other objects depend on it",
                table.name
            ),
        )
        .with_detail(format!(
            "constraint {k} on table {t} depends on table {}",
            table.name
        ))
        .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
    }
    for (_, t, k) in &dependents {
        session.notice(format!("drop cascades to constraint {k} on table {t}"));
    }
    let before = super::dependents::view_shapes(session);
    let c = session.transaction().catalog_mut();
    for (t, _, k) in dependents {
        if let Some(def) = c.tables.get_mut(&t) {
            def.constraints.retain(|x| x.name != k);
        }
    }
    let indexes: Vec<Oid> = c.indexes_of(oid).map(|i| i.oid).collect();
    c.comments.retain(|x| !indexes.contains(&x.object));
    c.indexes.retain(|_, i| i.table != oid);
    c.sequences
        .retain(|_, s| s.owned_by.map(|o| o.0) != Some(oid));
    c.comments.retain(|x| x.object != oid);
    c.triggers.retain(|_, t| t.table != oid);
    c.policies.retain(|_, p| p.table != oid);
    c.tables.remove(&oid);
    super::dependents::settle_views(session, &before, cascade, &format!("table {}", table.name))
}

/// ALTER INDEX name RENAME TO new (the constraint an index enforces is renamed with it).
pub fn rename_index(
    session: &mut Session,
    name: &ast::ObjectName,
    new_name: &ast::ObjectName,
) -> SqlResult<()> {
    let (schema, rel) = split_name(name)?;
    let (_, new) = split_name(new_name)?;
    let catalog = session.catalog();
    let path = session.search_path();
    let schemas: Vec<Oid> = match &schema {
        Some(s) => catalog
            .schema_by_name(s)
            .map(|s| vec![s.oid])
            .unwrap_or_default(),
        None => path
            .iter()
            .filter_map(|s| catalog.schema_by_name(s).map(|s| s.oid))
            .collect(),
    };
    let index = catalog
        .indexes
        .values()
        .find(|i| schemas.contains(&i.schema) && i.name == rel)
        .cloned()
        .ok_or_else(|| SqlError::undefined_table(&rel))?;
    if relation_exists(&catalog, index.schema, &new) {
        return Err(SqlError::new(
            code::DUPLICATE_TABLE,
            format!("relation \"{new}\" already exists"),
        ));
    }
    let c = session.transaction().catalog_mut();
    if let Some(i) = c.indexes.get_mut(&index.oid) {
        i.name = new.clone();
    }
    if let Some(t) = c.tables.get_mut(&index.table) {
        for k in t.constraints.iter_mut() {
            if matches!(&k.kind, ConstraintKind::PrimaryKey { index: i, .. } | ConstraintKind::Unique { index: i, .. } if *i == index.oid)
            {
                k.name = new.clone();
            }
        }
    }
    Ok(())
}
