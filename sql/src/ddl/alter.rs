//! ALTER TABLE: columns (ADD, DROP, RENAME, ALTER ... SET/DROP DEFAULT, SET/DROP NOT NULL,
//! TYPE), constraints (ADD, DROP, RENAME), RENAME TO, row-level security flags and OWNER TO.
//!
//! Operations apply in order, each on the table as the previous one left it, inside the
//! statement's transaction; a failing operation fails the statement and the transaction
//! discards everything it did. Existing rows are checked against what a new constraint
//! demands, and rewritten when a column gets values they do not have: a new column with a
//! volatile default (or a serial, identity or generated column) and a column changing type.
//! A new column with a non-volatile default costs nothing: its value, computed once, is the
//! column's missing value for the rows stored before it (PostgreSQL does the same).

use sqlparser::ast::{self, AlterTableOperation as Op};
use storage::catalog::{AttNum, ConstraintKind, Oid, TableDef};
use storage::types::Value;

use super::constraints::{add_constraint, foreign_keys_using, table_constraint_spec};
use super::dependents::{follow_rename, settle_views, view_shapes};
use super::rows;
use super::table::{attach_sequence, column_definition, relation_exists};
use crate::bind::expr::ExprContext;
use crate::bind::{ident_name, split_name, Scope};
use crate::catalog_access::{resolve_relation, Relation};
use crate::engine::Session;
use crate::error::{code, SqlError, SqlResult};
use crate::func::registry::registry;
use crate::func::Volatility;
use crate::pgtype::SqlType;
use crate::plan::{Expr, SessionFn};

/// Runs ALTER TABLE.
pub fn alter_table(session: &mut Session, at: &ast::AlterTable, sql: &str) -> SqlResult<()> {
    let (schema, name) = split_name(&at.name)?;
    let catalog = session.catalog();
    let path = session.search_path();
    let oid = match resolve_relation(&catalog, schema.as_deref(), &name, &path) {
        Ok(Relation::Table(oid)) => oid,
        Ok(Relation::View(oid)) => {
            return super::view::alter_view_as_table(session, oid, &at.operations);
        }
        Ok(_) => {
            return Err(SqlError::new(
                code::WRONG_OBJECT_TYPE,
                format!("\"{name}\" is not a table"),
            ))
        }
        Err(e) if e.code == code::UNDEFINED_TABLE && at.if_exists => {
            session.notice(format!("relation \"{name}\" does not exist, skipping"));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let renames = at.operations.iter().any(|op| {
        matches!(
            op,
            Op::RenameColumn { .. } | Op::RenameTable { .. } | Op::RenameConstraint { .. }
        )
    });
    if renames && at.operations.len() > 1 {
        // PostgreSQL's grammar has RENAME only as the single action of ALTER TABLE.
        return Err(SqlError::syntax("syntax error at or near \"RENAME\""));
    }
    for op in &at.operations {
        apply(session, oid, op, sql)?;
    }
    Ok(())
}

/// The table as the transaction sees it now.
pub(super) fn current(session: &Session, oid: Oid) -> SqlResult<TableDef> {
    session
        .catalog()
        .tables
        .get(&oid)
        .cloned()
        .ok_or_else(|| SqlError::internal("table vanished during ALTER TABLE"))
}

pub(super) fn store(session: &mut Session, table: TableDef) {
    session
        .transaction()
        .catalog_mut()
        .tables
        .insert(table.oid, table);
}

pub(super) fn column_of(table: &TableDef, name: &str) -> SqlResult<AttNum> {
    table.column_by_name(name).map(|c| c.attnum).ok_or_else(|| {
        SqlError::new(
            code::UNDEFINED_COLUMN,
            format!(
                "column \"{name}\" of relation \"{}\" does not exist",
                table.name
            ),
        )
    })
}

fn apply(session: &mut Session, oid: Oid, op: &Op, sql: &str) -> SqlResult<()> {
    match op {
        Op::AddColumn {
            if_not_exists,
            column_def,
            ..
        } => add_column(session, oid, column_def, *if_not_exists, sql),
        Op::DropColumn {
            column_names,
            if_exists,
            drop_behavior,
            ..
        } => {
            let cascade = matches!(drop_behavior, Some(ast::DropBehavior::Cascade));
            for c in column_names {
                drop_column(session, oid, &ident_name(c), *if_exists, cascade)?;
            }
            Ok(())
        }
        Op::RenameColumn {
            old_column_name,
            new_column_name,
        } => rename_column(
            session,
            oid,
            &ident_name(old_column_name),
            &ident_name(new_column_name),
        ),
        Op::RenameTable { table_name } => {
            let new = match table_name {
                ast::RenameTableNameKind::To(n) | ast::RenameTableNameKind::As(n) => n,
            };
            let (_, new) = split_name(new)?;
            rename_table(session, oid, &new)
        }
        Op::AlterColumn { column_name, op } => {
            super::alter_column::alter_column(session, oid, &ident_name(column_name), op, sql)
        }
        Op::AddConstraint {
            constraint,
            not_valid,
        } => {
            let mut table = current(session, oid)?;
            let spec = table_constraint_spec(sql, constraint, &table)?;
            let path = session.search_path();
            let name =
                add_constraint(session.transaction().catalog_mut(), &mut table, spec, &path)?;
            store(session, table.clone());
            let validate = !*not_valid
                || !matches!(
                    table
                        .constraints
                        .iter()
                        .find(|k| k.name == name)
                        .map(|k| &k.kind),
                    Some(ConstraintKind::Check { .. } | ConstraintKind::ForeignKey { .. })
                );
            if validate {
                rows::validate_constraint(session, &table, &name)?;
            }
            Ok(())
        }
        Op::DropConstraint {
            if_exists,
            name,
            drop_behavior,
        } => super::constraints::drop_constraint(
            session,
            oid,
            &ident_name(name),
            *if_exists,
            matches!(drop_behavior, Some(ast::DropBehavior::Cascade)),
        ),
        Op::RenameConstraint { old_name, new_name } => super::constraints::rename_constraint(
            session,
            oid,
            &ident_name(old_name),
            &ident_name(new_name),
        ),
        Op::EnableRowLevelSecurity => set_flags(session, oid, Some(true), None),
        Op::DisableRowLevelSecurity => set_flags(session, oid, Some(false), None),
        Op::ForceRowLevelSecurity => set_flags(session, oid, None, Some(true)),
        Op::NoForceRowLevelSecurity => set_flags(session, oid, None, Some(false)),
        Op::OwnerTo { new_owner } => {
            let owner = role_oid(session, new_owner)?;
            let mut table = current(session, oid)?;
            let old_owner = table.owner;
            table.owner = owner;
            let catalog = session.transaction().catalog_mut();
            // The old owner's grants pass to the new owner, as PostgreSQL's aclnewowner.
            for g in catalog.grants.iter_mut().filter(|g| g.object == oid) {
                if g.grantor == old_owner {
                    g.grantor = owner;
                }
                if g.grantee == old_owner {
                    g.grantee = owner;
                }
            }
            // Sequences owned by the table's columns and its indexes follow it.
            for s in catalog.sequences.values_mut() {
                if s.owned_by.map(|o| o.0) == Some(oid) {
                    s.owner = owner;
                }
            }
            store(session, table);
            Ok(())
        }
        Op::EnableTrigger { name } => {
            crate::plpgsql::triggers::set_enabled(session, oid, name, true)
        }
        Op::DisableTrigger { name } => {
            crate::plpgsql::triggers::set_enabled(session, oid, name, false)
        }
        other => Err(SqlError::unsupported(format!("ALTER TABLE ... {other}"))),
    }
}

fn set_flags(
    session: &mut Session,
    oid: Oid,
    enable: Option<bool>,
    force: Option<bool>,
) -> SqlResult<()> {
    let mut table = current(session, oid)?;
    if let Some(e) = enable {
        table.row_security = e;
    }
    if let Some(f) = force {
        table.force_row_security = f;
    }
    store(session, table);
    Ok(())
}

/// The OID of the role OWNER TO names.
pub fn role_oid(session: &Session, owner: &ast::Owner) -> SqlResult<Oid> {
    let name = match owner {
        ast::Owner::Ident(i) => ident_name(i),
        ast::Owner::CurrentRole | ast::Owner::CurrentUser | ast::Owner::SessionUser => {
            return Ok(session.role_oid())
        }
    };
    let catalog = session.catalog();
    if let Some(r) = catalog.roles.values().find(|r| r.name == name) {
        return Ok(r.oid);
    }
    if catalog.roles.is_empty() && name == session.user {
        return Ok(session.role_oid());
    }
    Err(SqlError::new(
        code::UNDEFINED_OBJECT,
        format!("role \"{name}\" does not exist"),
    ))
}

/// Whether evaluating `e` twice may give different values (or have effects): then a new
/// column's default is computed for each existing row instead of once.
pub fn is_volatile(e: &Expr) -> bool {
    let mut volatile = false;
    e.walk(&mut |x| match x {
        Expr::Session { func, .. } => {
            volatile |= matches!(
                func,
                SessionFn::Nextval
                    | SessionFn::Setval
                    | SessionFn::SetConfig
                    | SessionFn::Currval
                    | SessionFn::Lastval
                    | SessionFn::UserFunction
            );
        }
        Expr::Call { name, .. } => {
            volatile |= registry()
                .overloads(name)
                .iter()
                .any(|o| o.volatility == Volatility::Volatile);
        }
        Expr::Subquery { .. } | Expr::InSubquery { .. } => volatile = true,
        _ => {}
    });
    volatile
}

fn add_column(
    session: &mut Session,
    oid: Oid,
    column: &ast::ColumnDef,
    if_not_exists: bool,
    sql: &str,
) -> SqlResult<()> {
    let mut table = current(session, oid)?;
    let name = ident_name(&column.name);
    if table.column_by_name(&name).is_some() {
        let message = format!(
            "column \"{name}\" of relation \"{}\" already exists",
            table.name
        );
        if if_not_exists {
            session.notice(format!("{message}, skipping"));
            return Ok(());
        }
        return Err(SqlError::new(code::DUPLICATE_COLUMN, message));
    }
    if table.columns.len() >= 1600 {
        return Err(SqlError::new(
            code::TOO_MANY_COLUMNS,
            "tables can have at most 1600 columns",
        ));
    }
    let attnum = table.columns.len() as AttNum + 1;
    let new = column_definition(sql, column, attnum)?;
    let mut def = new.def;
    let owner = session.role_oid();
    if new.sequence.is_some() {
        attach_sequence(session.transaction().catalog_mut(), &table, &mut def, owner);
    }
    let sql_type = SqlType::from_data_type(&def.data_type);
    // The default: bound now (so a wrong one fails here), computed once unless volatile.
    let default = match &def.default {
        Some(text) => {
            let e = crate::dml::parse_expr(text)?;
            let bound = session.with_binder(Vec::new(), |b| {
                let mut cx = ExprContext::plain("DEFAULT expressions");
                let typed = b.bind_expr(&e, &Scope::default(), &mut cx)?;
                b.coerce_to(typed, &sql_type, "default")
            })?;
            Some(bound)
        }
        None => None,
    };
    let not_null = def.not_null;
    def.not_null = false;
    let mut per_row = None;
    match default {
        Some(e) if is_volatile(&e) => per_row = Some(e),
        Some(e) => {
            def.missing_value = session.with_exec(&[], |ctx| rows::eval_on(ctx, &e, &[]))?;
        }
        None => {}
    }
    if let Some(text) = &def.generated {
        let e = crate::dml::parse_expr(text)?;
        table.columns.push(def.clone());
        let typed = rows::bind_on_table(session, &table, &e, "column generation expressions")?;
        table.columns.pop();
        per_row = Some(session.with_binder(Vec::new(), |b| {
            b.coerce_to(typed, &sql_type, "generated column")
        })?);
    }
    table.columns.push(def);
    store(session, table.clone());
    if let Some(e) = per_row {
        if !rows::is_empty(session, oid)? {
            let position = usize::from(attnum) - 1;
            rows::rewrite(session, oid, |ctx, row| {
                let mut row = row.clone();
                row[position] = rows::eval_on(ctx, &e, &row)?;
                Ok(row)
            })?;
        }
    }
    if not_null {
        rows::check_not_null(session, &table, attnum)?;
        let mut t = current(session, oid)?;
        if let Some(c) = t.columns.get_mut(usize::from(attnum) - 1) {
            c.not_null = true;
        }
        store(session, t);
    }
    let path = session.search_path();
    for spec in new.constraints {
        let mut t = current(session, oid)?;
        let name = add_constraint(session.transaction().catalog_mut(), &mut t, spec, &path)?;
        store(session, t.clone());
        rows::validate_constraint(session, &t, &name)?;
    }
    Ok(())
}

fn drop_column(
    session: &mut Session,
    oid: Oid,
    name: &str,
    if_exists: bool,
    cascade: bool,
) -> SqlResult<()> {
    let mut table = current(session, oid)?;
    let Some(attnum) = table.column_by_name(name).map(|c| c.attnum) else {
        let message = format!(
            "column \"{name}\" of relation \"{}\" does not exist",
            table.name
        );
        if if_exists {
            session.notice(format!("{message}, skipping"));
            return Ok(());
        }
        return Err(SqlError::new(code::UNDEFINED_COLUMN, message));
    };
    let what = format!("column {name} of table {}", table.name);
    let before = view_shapes(session);
    // Generated columns computed from this one.
    let mut dependents: Vec<String> = Vec::new();
    for c in table.live_columns() {
        if c.attnum == attnum {
            continue;
        }
        if let Some(g) = &c.generated {
            let mut probe = table.clone();
            probe.columns[usize::from(attnum) - 1].dropped = true;
            let e = crate::dml::parse_expr(g)?;
            if rows::bind_on_table(session, &probe, &e, "column generation expressions").is_err() {
                dependents.push(c.name.clone());
            }
        }
    }
    // Foreign keys of other tables that reference the column.
    let catalog = session.catalog();
    let mut foreign: Vec<(Oid, String, String)> = Vec::new();
    for k in &table.constraints {
        if let ConstraintKind::PrimaryKey { columns, .. } | ConstraintKind::Unique { columns, .. } =
            &k.kind
        {
            if columns.contains(&attnum) {
                foreign.extend(
                    foreign_keys_using(&catalog, &table, columns)
                        .into_iter()
                        .filter(|(t, _, _)| *t != oid),
                );
            }
        }
    }
    // Row-level security policies that read the column.
    let mut probe = table.clone();
    probe.columns[usize::from(attnum) - 1].dropped = true;
    let policies = super::policy::depending_on(session, &probe);
    if !cascade {
        let detail = if let Some(g) = dependents.first() {
            Some(format!(
                "column {g} of table {0} depends on column {name} of table {0}",
                table.name
            ))
        } else {
            foreign
                .first()
                .map(|(_, t, k)| format!("constraint {k} on table {t} depends on {what}"))
                .or_else(|| {
                    policies.first().map(|(_, p)| {
                        format!("policy {p} on table {} depends on {what}", table.name)
                    })
                })
        };
        if let Some(detail) = detail {
            return Err(SqlError::new(
                code::DEPENDENT_OBJECTS_STILL_EXIST,
                format!(
                    "cannot drop column {name} of table {} because other objects depend on it",
                    table.name
                ),
            )
            .with_detail(detail)
            .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
        }
    }
    for g in &dependents {
        session.notice(format!(
            "drop cascades to column {g} of table {}",
            table.name
        ));
    }
    for (_, t, k) in &foreign {
        session.notice(format!("drop cascades to constraint {k} on table {t}"));
    }
    for (policy, p) in &policies {
        session.notice(format!(
            "drop cascades to policy {p} on table {}",
            table.name
        ));
        session.transaction().catalog_mut().policies.remove(policy);
    }
    // The table's own constraints and indexes on the column go with it.
    let mut dropped_indexes: Vec<Oid> = Vec::new();
    let mut kept = Vec::new();
    for k in std::mem::take(&mut table.constraints) {
        let uses = match &k.kind {
            ConstraintKind::PrimaryKey { columns, index }
            | ConstraintKind::Unique { columns, index } => {
                let uses = columns.contains(&attnum);
                if uses {
                    dropped_indexes.push(*index);
                }
                uses
            }
            ConstraintKind::ForeignKey {
                columns,
                referenced_table,
                referenced_columns,
                ..
            } => {
                columns.contains(&attnum)
                    || (*referenced_table == oid && referenced_columns.contains(&attnum))
            }
            ConstraintKind::Check { expression } => {
                let mut probe = table.clone();
                probe.columns[usize::from(attnum) - 1].dropped = true;
                let e = crate::dml::parse_expr(expression)?;
                rows::bind_on_table(session, &probe, &e, "check constraints").is_err()
            }
        };
        if !uses {
            kept.push(k);
        }
    }
    table.constraints = kept;
    for g in &dependents {
        if let Some(c) = table
            .columns
            .iter_mut()
            .find(|c| c.name == *g && !c.dropped)
        {
            mark_dropped(c);
        }
    }
    if let Some(c) = table.columns.get_mut(usize::from(attnum) - 1) {
        mark_dropped(c);
    }
    let dropped_attnums: Vec<AttNum> = table
        .columns
        .iter()
        .filter(|c| c.dropped)
        .map(|c| c.attnum)
        .collect();
    let catalog = session.transaction().catalog_mut();
    for (t, _, k) in &foreign {
        if let Some(def) = catalog.tables.get_mut(t) {
            def.constraints.retain(|x| x.name != *k);
        }
    }
    catalog.indexes.retain(|i, def| {
        !(dropped_indexes.contains(i)
            || def.table == oid && def.columns.iter().any(|a| dropped_attnums.contains(a)))
    });
    catalog.sequences.retain(|_, s| {
        !s.owned_by
            .is_some_and(|(t, a)| t == oid && dropped_attnums.contains(&a))
    });
    catalog
        .comments
        .retain(|c| !(c.object == oid && dropped_attnums.contains(&c.column)));
    catalog.tables.insert(oid, table);
    settle_views(session, &before, cascade, &what)
}

fn mark_dropped(c: &mut storage::catalog::ColumnDef) {
    c.dropped = true;
    c.not_null = false;
    c.default = None;
    c.generated = None;
    c.identity = None;
    c.missing_value = Value::Null;
    c.name = format!("........pg.dropped.{}........", c.attnum);
}

fn rename_column(session: &mut Session, oid: Oid, old: &str, new: &str) -> SqlResult<()> {
    let mut table = current(session, oid)?;
    let attnum = table
        .column_by_name(old)
        .map(|c| c.attnum)
        .ok_or_else(|| SqlError::undefined_column(old))?;
    if table.column_by_name(new).is_some() {
        return Err(SqlError::new(
            code::DUPLICATE_COLUMN,
            format!(
                "column \"{new}\" of relation \"{}\" already exists",
                table.name
            ),
        ));
    }
    let before = view_shapes(session);
    let rename = |text: &str| super::dependents::rename_identifier(text, old, new);
    table.columns[usize::from(attnum) - 1].name = new.to_string();
    for c in table.columns.iter_mut() {
        c.generated = c.generated.as_deref().map(rename);
    }
    for k in table.constraints.iter_mut() {
        if let ConstraintKind::Check { expression } = &mut k.kind {
            *expression = rename(expression);
        }
    }
    let catalog = session.transaction().catalog_mut();
    for i in catalog.indexes.values_mut().filter(|i| i.table == oid) {
        i.expressions = i.expressions.iter().map(|e| rename(e)).collect();
        i.predicate = i.predicate.as_deref().map(rename);
    }
    for p in catalog.policies.values_mut().filter(|p| p.table == oid) {
        p.using = p.using.as_deref().map(rename);
        p.with_check = p.with_check.as_deref().map(rename);
    }
    catalog.tables.insert(oid, table);
    follow_rename(session, &before, old, new)
}

fn rename_table(session: &mut Session, oid: Oid, new: &str) -> SqlResult<()> {
    let table = current(session, oid)?;
    let catalog = session.catalog();
    if relation_exists(&catalog, table.schema, new) {
        return Err(SqlError::new(
            code::DUPLICATE_TABLE,
            format!("relation \"{new}\" already exists"),
        ));
    }
    let before = view_shapes(session);
    let old = table.name.clone();
    let mut table = table;
    table.name = new.to_string();
    store(session, table);
    follow_rename(session, &before, &old, new)
}
