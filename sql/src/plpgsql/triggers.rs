//! Row triggers: CREATE / DROP TRIGGER, and firing them from INSERT, UPDATE, DELETE and
//! COPY FROM.
//!
//! `CREATE TRIGGER name {BEFORE | AFTER} {INSERT | UPDATE [OF cols] | DELETE} [OR ...] ON t
//! FOR EACH ROW [WHEN (cond)] EXECUTE FUNCTION f()` with `f` a PL/pgSQL function returning
//! `trigger`. Triggers of one event fire in name order, as in PostgreSQL. A BEFORE trigger
//! sees NEW (INSERT, UPDATE) and OLD (UPDATE, DELETE); what it returns replaces the row
//! (`RETURN NEW` after `NEW.col := ...`), `RETURN NULL` skips the row. AFTER triggers fire
//! once the statement has written its rows (PostgreSQL's end-of-statement queue), in row
//! order. Their bodies run through the session, so they may write (an audit table).
//!
//! Not built: FOR EACH STATEMENT, INSTEAD OF, TRUNCATE, transition tables, trigger
//! arguments, constraint triggers (each 0A000 at CREATE TRIGGER); triggers of rows that ON
//! CONFLICT DO UPDATE changes and of rows that foreign-key actions change.

use sqlparser::ast;
use storage::catalog::{Catalog, TableDef, TriggerDef};
use storage::types::{Row, Value};

use super::interp::{self, Record, Returned, Start};
use super::parse::SqlText;
use super::SessionHost;
use crate::bind::{ident_name, split_name};
use crate::engine::{Outcome, Session};
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;

/// The variables a trigger function sees besides NEW and OLD.
pub const TRIGGER_VARIABLES: &[&str] = &[
    "new",
    "old",
    "tg_op",
    "tg_name",
    "tg_when",
    "tg_level",
    "tg_table_name",
    "tg_table_schema",
    "tg_relname",
    "tg_nargs",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Insert,
    Update,
    Delete,
}

impl Event {
    fn name(self) -> &'static str {
        match self {
            Event::Insert => "INSERT",
            Event::Update => "UPDATE",
            Event::Delete => "DELETE",
        }
    }
}

/// Whether CREATE FUNCTION declares `RETURNS trigger` (checked: PL/pgSQL, no arguments).
pub fn returns_trigger(f: &ast::CreateFunction, language: &str, nargs: usize) -> SqlResult<bool> {
    let is_trigger = match &f.return_type {
        Some(ast::FunctionReturnType::DataType(ast::DataType::Trigger)) => true,
        Some(ast::FunctionReturnType::DataType(ast::DataType::Custom(name, _))) => {
            name.to_string().eq_ignore_ascii_case("trigger")
        }
        _ => false,
    };
    if !is_trigger {
        return Ok(false);
    }
    if language != "plpgsql" {
        return Err(SqlError::new(
            code::INVALID_FUNCTION_DEFINITION,
            format!(
                "{} functions cannot return type trigger",
                language.to_uppercase()
            ),
        ));
    }
    if nargs > 0 {
        return Err(SqlError::new(
            code::INVALID_FUNCTION_DEFINITION,
            "trigger functions cannot have declared arguments",
        )
        .with_hint(
            "The arguments of the trigger can be accessed through TG_NARGS and TG_ARGV instead.",
        ));
    }
    Ok(true)
}

fn table_of(session: &Session, name: &ast::ObjectName) -> SqlResult<TableDef> {
    let (schema, rel) = split_name(name)?;
    let catalog = session.catalog();
    let path = session.search_path();
    match crate::catalog_access::resolve_relation(&catalog, schema.as_deref(), &rel, &path)? {
        crate::catalog_access::Relation::Table(oid) => Ok(catalog.tables[&oid].clone()),
        crate::catalog_access::Relation::View(_) => Err(SqlError::new(
            code::WRONG_OBJECT_TYPE,
            format!("\"{rel}\" is a view"),
        )
        .with_detail("Views cannot have row-level BEFORE or AFTER triggers.")),
        _ => Err(SqlError::new(
            code::WRONG_OBJECT_TYPE,
            format!("\"{rel}\" is not a table or view"),
        )),
    }
}

fn check_owner(session: &Session, table: &TableDef) -> SqlResult<()> {
    let catalog = session.catalog();
    let me = session.role_oid();
    if catalog.roles.is_empty() || crate::acl::is_superuser(&catalog, me) || table.owner == me {
        return Ok(());
    }
    Err(SqlError::new(
        code::INSUFFICIENT_PRIVILEGE,
        format!("permission denied for table {}", table.name),
    ))
}

pub fn create_trigger(session: &mut Session, t: &ast::CreateTrigger) -> SqlResult<Outcome> {
    if t.is_constraint {
        return Err(unsupported_trigger("constraint triggers"));
    }
    let timing = match t.period {
        Some(ast::TriggerPeriod::Before) => "BEFORE",
        Some(ast::TriggerPeriod::After) => "AFTER",
        Some(ast::TriggerPeriod::InsteadOf) => {
            return Err(unsupported_trigger("INSTEAD OF triggers"))
        }
        _ => return Err(SqlError::syntax("syntax error at or near \"ON\"")),
    };
    match &t.trigger_object {
        Some(ast::TriggerObjectKind::For(ast::TriggerObject::Row))
        | Some(ast::TriggerObjectKind::ForEach(ast::TriggerObject::Row)) => {}
        _ => {
            return Err(unsupported_trigger(
                "statement-level triggers (FOR EACH STATEMENT)",
            ))
        }
    }
    if !t.referencing.is_empty() {
        return Err(unsupported_trigger("transition tables (REFERENCING)"));
    }
    let table = table_of(session, &t.table_name)?;
    check_owner(session, &table)?;
    let mut events = Vec::new();
    let mut update_columns = Vec::new();
    for e in &t.events {
        let name = match e {
            ast::TriggerEvent::Insert => "INSERT",
            ast::TriggerEvent::Delete => "DELETE",
            ast::TriggerEvent::Update(columns) => {
                for c in columns {
                    let n = ident_name(c);
                    let Some(col) = table.column_by_name(&n) else {
                        return Err(SqlError::new(
                            code::UNDEFINED_COLUMN,
                            format!(
                                "column \"{n}\" of relation \"{}\" does not exist",
                                table.name
                            ),
                        ));
                    };
                    update_columns.push(col.attnum);
                }
                "UPDATE"
            }
            ast::TriggerEvent::Truncate => return Err(unsupported_trigger("TRUNCATE triggers")),
        };
        if !events.iter().any(|x| x == name) {
            events.push(name.to_string());
        }
    }
    let Some(body) = &t.exec_body else {
        return Err(SqlError::syntax("syntax error at end of input"));
    };
    if body.func_desc.args.as_ref().is_some_and(|a| !a.is_empty()) {
        return Err(unsupported_trigger("trigger arguments"));
    }
    let function = {
        let Some(oid) = crate::ddl::functions::find_function(
            session,
            &body.func_desc.name,
            Some(&[][..]),
            false,
        )?
        else {
            return Err(SqlError::internal("function lookup"));
        };
        let catalog = session.catalog();
        let f = &catalog.functions[&oid];
        if !super::is_trigger_function(f) {
            return Err(SqlError::new(
                code::INVALID_OBJECT_DEFINITION,
                format!("function {} must return type trigger", f.name),
            ));
        }
        oid
    };
    let when = match &t.condition {
        Some(c) => {
            let inner = match c {
                ast::Expr::Nested(e) => e.as_ref(),
                e => e,
            };
            let text = fold_names(&inner.to_string())?;
            let parsed = SqlText::parse(&text)?;
            for p in &parsed.pieces {
                if let super::parse::Piece::Qualified(rec, _, _) = p {
                    if rec == "old" && events.iter().any(|e| e == "INSERT") {
                        return Err(SqlError::new(
                            code::INVALID_OBJECT_DEFINITION,
                            "INSERT trigger's WHEN condition cannot reference OLD values",
                        ));
                    }
                    if rec == "new" && events.iter().any(|e| e == "DELETE") {
                        return Err(SqlError::new(
                            code::INVALID_OBJECT_DEFINITION,
                            "DELETE trigger's WHEN condition cannot reference NEW values",
                        ));
                    }
                }
            }
            Some(text)
        }
        None => None,
    };
    let name = ident_name(
        t.name
            .0
            .last()
            .and_then(|p| p.as_ident())
            .ok_or_else(|| SqlError::syntax("trigger name expected"))?,
    );
    let existing = session
        .catalog()
        .triggers
        .values()
        .find(|x| x.table == table.oid && x.name == name)
        .map(|x| x.oid);
    if existing.is_some() && !t.or_replace {
        return Err(SqlError::new(
            code::DUPLICATE_OBJECT,
            format!(
                "trigger \"{name}\" for relation \"{}\" already exists",
                table.name
            ),
        ));
    }
    let catalog = session.transaction().catalog_mut();
    let oid = existing.unwrap_or_else(|| catalog.allocate_oid());
    catalog.triggers.insert(
        oid,
        TriggerDef {
            oid,
            name,
            table: table.oid,
            function,
            timing: timing.into(),
            events,
            update_columns,
            when,
            enabled: true,
        },
    );
    Ok(Outcome::Command {
        tag: "CREATE TRIGGER".into(),
    })
}

/// A WHEN condition as PostgreSQL shows it: names folded to lower case (`OLD.balance` is
/// `old.balance`), keywords and literals as written.
fn fold_names(text: &str) -> SqlResult<String> {
    use sqlparser::keywords::Keyword;
    use sqlparser::tokenizer::Token;
    let toks = super::ast::tokenize(text)?;
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (i, t) in toks.iter().enumerate() {
        let Token::Word(w) = &t.token else {
            continue;
        };
        let dotted = toks.get(i + 1).is_some_and(|n| n.token == Token::Period)
            || (i > 0 && toks[i - 1].token == Token::Period);
        if w.quote_style.is_none() && (w.keyword == Keyword::NoKeyword || dotted) {
            out.push_str(&text[copied..t.start]);
            out.push_str(&text[t.start..t.end].to_lowercase());
            copied = t.end;
        }
    }
    out.push_str(&text[copied..]);
    Ok(out)
}

fn unsupported_trigger(what: &str) -> SqlError {
    SqlError::unsupported(what).with_hint("custos runs BEFORE and AFTER ... FOR EACH ROW triggers.")
}

pub fn drop_trigger(session: &mut Session, d: &ast::DropTrigger) -> SqlResult<Outcome> {
    let name = d
        .trigger_name
        .0
        .last()
        .and_then(|p| p.as_ident())
        .map(ident_name)
        .unwrap_or_default();
    let Some(table_name) = &d.table_name else {
        return Err(SqlError::syntax("syntax error at end of input"));
    };
    let table = match table_of(session, table_name) {
        Ok(t) => t,
        Err(e) if d.if_exists && e.code == code::UNDEFINED_TABLE => {
            let (_, rel) = split_name(table_name)?;
            session.notice(format!("relation \"{rel}\" does not exist, skipping"));
            return Ok(Outcome::Command {
                tag: "DROP TRIGGER".into(),
            });
        }
        Err(e) => return Err(e),
    };
    let found = session
        .catalog()
        .triggers
        .values()
        .find(|x| x.table == table.oid && x.name == name)
        .map(|x| x.oid);
    match found {
        Some(oid) => {
            check_owner(session, &table)?;
            session.transaction().catalog_mut().triggers.remove(&oid);
        }
        None if d.if_exists => session.notice(format!(
            "trigger \"{name}\" for relation \"{}\" does not exist, skipping",
            table.name
        )),
        None => {
            return Err(SqlError::new(
                code::UNDEFINED_OBJECT,
                format!(
                    "trigger \"{name}\" for table \"{}\" does not exist",
                    table.name
                ),
            ))
        }
    }
    Ok(Outcome::Command {
        tag: "DROP TRIGGER".into(),
    })
}

/// ALTER TABLE ... ENABLE / DISABLE TRIGGER name | ALL | USER.
pub fn set_enabled(
    session: &mut Session,
    table: u32,
    name: &ast::Ident,
    enabled: bool,
) -> SqlResult<()> {
    let n = ident_name(name);
    let all = name.quote_style.is_none() && (n == "all" || n == "user");
    let catalog = session.catalog();
    let chosen: Vec<u32> = catalog
        .triggers
        .values()
        .filter(|t| t.table == table && (all || t.name == n))
        .map(|t| t.oid)
        .collect();
    if chosen.is_empty() && !all {
        let shown = catalog.tables.get(&table).map_or("", |t| t.name.as_str());
        return Err(SqlError::new(
            code::UNDEFINED_OBJECT,
            format!("trigger \"{n}\" for table \"{shown}\" does not exist"),
        ));
    }
    let c = session.transaction().catalog_mut();
    for oid in chosen {
        if let Some(t) = c.triggers.get_mut(&oid) {
            t.enabled = enabled;
        }
    }
    Ok(())
}

/// The triggers of one statement on one table.
#[derive(Default)]
pub struct Fired {
    before: Vec<TriggerDef>,
    after: Vec<TriggerDef>,
    event: Option<Event>,
    /// AFTER rows queued until the statement has written its rows: (old, new).
    queued: Vec<(Option<Row>, Option<Row>)>,
}

impl Fired {
    /// The enabled triggers of `table` for `event`; for UPDATE, `updated` are the positions
    /// of the columns the statement assigns (UPDATE OF fires when one of its columns is).
    pub fn for_statement(
        catalog: &Catalog,
        table: &TableDef,
        event: Event,
        updated: &[usize],
    ) -> Fired {
        let mut matching: Vec<&TriggerDef> = catalog
            .triggers
            .values()
            .filter(|t| {
                t.table == table.oid && t.enabled && t.events.iter().any(|e| e == event.name())
            })
            .filter(|t| {
                event != Event::Update
                    || t.update_columns.is_empty()
                    || t.update_columns
                        .iter()
                        .any(|a| updated.contains(&(usize::from(*a) - 1)))
            })
            .collect();
        matching.sort_by(|a, b| a.name.cmp(&b.name));
        Fired {
            before: matching
                .iter()
                .filter(|t| t.timing == "BEFORE")
                .map(|t| (*t).clone())
                .collect(),
            after: matching
                .iter()
                .filter(|t| t.timing == "AFTER")
                .map(|t| (*t).clone())
                .collect(),
            event: Some(event),
            queued: Vec::new(),
        }
    }

    pub fn has_before(&self) -> bool {
        !self.before.is_empty()
    }

    pub fn is_empty(&self) -> bool {
        self.before.is_empty() && self.after.is_empty()
    }

    /// Runs the BEFORE triggers for a row: the row to write (`None`: skip it) and whether a
    /// trigger changed it.
    pub fn before(
        &self,
        session: &mut Session,
        table: &TableDef,
        old: Option<&Row>,
        new: Option<Row>,
    ) -> SqlResult<(Option<Row>, bool)> {
        let Some(event) = self.event else {
            return Ok((new, false));
        };
        let mut current = new.clone();
        let mut changed = false;
        for t in &self.before {
            let proposed = match event {
                Event::Delete => None,
                _ => current.clone(),
            };
            let Some(returned) = fire(session, table, t, event, old, proposed.as_ref())? else {
                continue;
            };
            match returned {
                None => return Ok((None, false)),
                Some(row) => {
                    if event != Event::Delete {
                        if current.as_ref() != Some(&row) {
                            changed = true;
                        }
                        current = Some(row);
                    }
                }
            }
        }
        match event {
            Event::Delete => Ok((old.cloned(), false)),
            _ => Ok((current, changed)),
        }
    }

    /// Queues a written row for the AFTER triggers.
    pub fn written(&mut self, old: Option<Row>, new: Option<Row>) {
        if !self.after.is_empty() {
            self.queued.push((old, new));
        }
    }

    /// Runs the AFTER triggers for the queued rows.
    pub fn finish(&mut self, session: &mut Session, table: &TableDef) -> SqlResult<()> {
        let Some(event) = self.event else {
            return Ok(());
        };
        for (old, new) in std::mem::take(&mut self.queued) {
            for t in &self.after {
                fire(session, table, t, event, old.as_ref(), new.as_ref())?;
            }
        }
        Ok(())
    }
}

/// The live columns of a table as a record's fields, with their positions in stored rows.
fn record_columns(table: &TableDef) -> (Vec<(String, SqlType)>, Vec<usize>) {
    let mut columns = Vec::new();
    let mut positions = Vec::new();
    for (i, c) in table.columns.iter().enumerate() {
        if !c.dropped {
            columns.push((c.name.clone(), SqlType::from_data_type(&c.data_type)));
            positions.push(i);
        }
    }
    (columns, positions)
}

/// Runs one trigger for one row. `None` when its WHEN condition is not true (the trigger
/// does not fire); else the row the function returned (`Some(None)`: RETURN NULL).
fn fire(
    session: &mut Session,
    table: &TableDef,
    t: &TriggerDef,
    event: Event,
    old: Option<&Row>,
    new: Option<&Row>,
) -> SqlResult<Option<Option<Row>>> {
    let catalog = session.catalog();
    let Some(def) = catalog.functions.get(&t.function).cloned() else {
        return Err(SqlError::new(
            code::UNDEFINED_FUNCTION,
            format!("function of trigger \"{}\" does not exist", t.name),
        ));
    };
    let schema = catalog
        .schemas
        .get(&table.schema)
        .map(|s| s.name.clone())
        .unwrap_or_default();
    let (columns, positions) = record_columns(table);
    let record = |row: Option<&Row>| Record {
        columns: columns.clone(),
        values: row.map(|r| {
            positions
                .iter()
                .map(|p| r.get(*p).cloned().unwrap_or(Value::Null))
                .collect()
        }),
    };
    let text = |s: &str| (SqlType::Text, Value::Text(s.to_string()));
    let scalars: Vec<(String, SqlType, Value)> = [
        ("tg_op", text(event.name())),
        ("tg_name", text(&t.name)),
        ("tg_when", text(&t.timing)),
        ("tg_level", text("ROW")),
        ("tg_table_name", text(&table.name)),
        ("tg_relname", text(&table.name)),
        ("tg_table_schema", text(&schema)),
        ("tg_nargs", (SqlType::Int4, Value::Int4(0))),
    ]
    .into_iter()
    .map(|(n, (ty, v))| (n.to_string(), ty, v))
    .collect();
    let start = || Start {
        args: Vec::new(),
        records: vec![("new".into(), record(new)), ("old".into(), record(old))],
        scalars: scalars.clone(),
    };
    if let Some(when) = &t.when {
        let cond = SqlText::parse(when)?;
        if !interp::condition(
            &mut SessionHost {
                session: &mut *session,
            },
            &cond,
            start(),
        )? {
            return Ok(None);
        }
    }
    let compiled = super::compile(&def)?;
    // SECURITY DEFINER: the body runs as the function's owner.
    let definer = if compiled.definer && def.owner != session.role_oid() {
        catalog.roles.get(&def.owner).map(|r| r.name.clone())
    } else {
        None
    };
    let saved_role = session.settings.get("role").map(str::to_string);
    let in_block = session.in_block();
    if let Some(owner) = &definer {
        session
            .settings
            .set_identity("role", Some(owner), false, in_block)?;
    }
    let returned = interp::execute(
        &mut SessionHost {
            session: &mut *session,
        },
        &compiled.block,
        &compiled.result,
        start(),
    );
    if definer.is_some() {
        session
            .settings
            .set_identity("role", saved_role.as_deref(), false, in_block)?;
    }
    match returned? {
        Returned::Row(None) => Ok(Some(None)),
        Returned::Row(Some(values)) => {
            // Back to a stored row: dropped columns keep what the row had.
            let mut row: Row = new
                .or(old)
                .cloned()
                .unwrap_or_else(|| vec![Value::Null; table.columns.len()]);
            for (p, v) in positions.iter().zip(values) {
                if let Some(slot) = row.get_mut(*p) {
                    *slot = v;
                }
            }
            Ok(Some(Some(row)))
        }
        Returned::Value(_) => Err(SqlError::internal("a trigger function returned a value")),
    }
}
