//! COPY: the statement's options and forms (`FROM STDIN`, `TO STDOUT`, `(query) TO STDOUT`),
//! and [`copy_rows`], which writes the rows the wire protocol collected through the same
//! checks as INSERT. Files and programs are refused.
//!
//! A COPY FROM binds what its rows need once ([`CopyPlan`]: defaults, generated columns,
//! CHECK constraints, where each supplied value goes) and hands each batch to storage in one
//! call ([`storage::Transaction::insert_batch`]); a batch without defaults to fill, CHECK
//! constraints or foreign keys needs no execution context at all.

use sqlparser::ast::{self, Statement as Ast};
use storage::catalog::{ConstraintKind, TableDef};
use storage::types::{Row, Value};

use super::checks::{check_references, check_row, finish_rows, table_expressions, unique_error};
use super::resolve_table;
use super::triggered::{before_row, unconstrained};
use crate::bind::ident_name;
use crate::engine::copy::CopyTarget;
use crate::engine::run::columns_of;
use crate::engine::{CopyFormat, CopyIn, CopyOptions, Outcome, Session};
use crate::error::{code, SqlError, SqlResult};
use crate::exec::ExecCtx;
use crate::pgtype::SqlType;
use crate::plan::Expr;
use crate::plpgsql::triggers::{Event, Fired};

/// What every row of one COPY FROM goes through, bound at its first batch and kept for the
/// others (the COPY's transaction sees one catalog throughout).
pub struct CopyPlan {
    def: TableDef,
    /// Column position (`attnum - 1`) of each supplied value.
    positions: Vec<usize>,
    /// Which columns the data supplies.
    provided: Vec<bool>,
    /// The supplied values are the table's columns, in order: a row is used as it comes.
    identity: bool,
    defaults: Vec<Option<Expr>>,
    generated: Vec<Option<Expr>>,
    checks: Vec<(String, Expr)>,
    /// Defaults to evaluate, generated columns, CHECK constraints or foreign keys: rows need
    /// an execution context. Otherwise only NOT NULL is checked, without one.
    needs_exec: bool,
}

impl CopyPlan {
    fn new(session: &Session, table: u32, attnums: &[u16]) -> SqlResult<CopyPlan> {
        let def = session
            .catalog()
            .tables
            .get(&table)
            .cloned()
            .ok_or_else(|| SqlError::internal("COPY target vanished"))?;
        let (defaults, generated, checks) =
            session.with_binder(Vec::new(), |b| table_expressions(b, &def))?;
        let positions: Vec<usize> = attnums.iter().map(|a| usize::from(*a) - 1).collect();
        let mut provided = vec![false; def.columns.len()];
        for &p in &positions {
            provided[p] = true;
        }
        let identity = positions.len() == def.columns.len()
            && positions.iter().enumerate().all(|(i, &p)| i == p)
            && def.columns.iter().all(|c| !c.dropped);
        let fills_defaults = def
            .columns
            .iter()
            .zip(&provided)
            .zip(&defaults)
            .any(|((c, provided), d)| !provided && !c.dropped && d.is_some());
        let references = def
            .constraints
            .iter()
            .any(|k| matches!(k.kind, ConstraintKind::ForeignKey { .. }));
        let tokenizes =
            !crate::governance::tokenize::tokenized_columns(&session.catalog(), &def).is_empty();
        let needs_exec = fills_defaults
            || tokenizes
            || generated.iter().any(Option::is_some)
            || !checks.is_empty()
            || references;
        Ok(CopyPlan {
            def,
            positions,
            provided,
            identity,
            defaults,
            generated,
            checks,
            needs_exec,
        })
    }

    /// The supplied values placed in a row of the table's width.
    fn place(&self, supplied: Row) -> Row {
        if self.identity {
            return supplied;
        }
        let mut row: Row = vec![Value::Null; self.def.columns.len()];
        for (value, &p) in supplied.into_iter().zip(&self.positions) {
            row[p] = value;
        }
        row
    }

    /// Completes and checks a batch of rows (defaults, generated columns, NOT NULL, CHECK),
    /// with the `embed()` calls of generated columns run per batch (see `finish_rows`), then
    /// their foreign keys, which PostgreSQL checks after the rows. On failure: the position
    /// of the first refused row, the error and the stage.
    fn complete_batch(
        &self,
        supplied: Vec<Row>,
        deferred: Option<&TableDef>,
        ctx: &ExecCtx,
    ) -> Result<Vec<Row>, (usize, SqlError, CopyRowStage)> {
        let placed: Vec<(Row, &[bool])> = supplied
            .into_iter()
            .map(|row| (self.place(row), self.provided.as_slice()))
            .collect();
        // With BEFORE triggers, the checks are made on the rows they return (`before_row`).
        let rows = finish_rows(
            deferred.unwrap_or(&self.def),
            placed,
            &self.defaults,
            &self.generated,
            if deferred.is_some() {
                &[]
            } else {
                &self.checks
            },
            &[],
            ctx,
        )
        .map_err(|(position, error)| (position, error, CopyRowStage::Checks))?;
        for (position, row) in rows.iter().enumerate().filter(|_| deferred.is_none()) {
            check_references(&self.def, row, ctx)
                .map_err(|error| (position, error, CopyRowStage::References))?;
        }
        Ok(rows)
    }

    /// Whether a NOT NULL column of `row` is NULL (the cheap check of a plan without
    /// `needs_exec`).
    fn violates_not_null(&self, row: &[Value]) -> bool {
        self.def
            .columns
            .iter()
            .zip(row)
            .any(|(c, v)| c.not_null && !c.dropped && v.is_null())
    }
}

/// A batch of COPY rows refused: the error, the position in the batch of the row that
/// caused it (`None` when no one row did) and at what stage, which decides the error's
/// CONTEXT as PostgreSQL gives it.
#[derive(Debug)]
pub struct CopyRowsError {
    pub error: SqlError,
    pub row: Option<usize>,
    pub stage: CopyRowStage,
}

/// Where a COPY row was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyRowStage {
    /// Completing and checking the row as it is read (defaults, NOT NULL, CHECK), as
    /// PostgreSQL does row by row: `COPY t, line 3: "<the line>"`.
    Checks,
    /// Inserting the batch (unique keys), as PostgreSQL does when it flushes its buffered
    /// rows: `COPY t, line 3`.
    Insert,
    /// Foreign keys, which PostgreSQL checks at the end of the statement: no COPY context.
    References,
}

impl From<SqlError> for CopyRowsError {
    fn from(error: SqlError) -> CopyRowsError {
        CopyRowsError {
            error,
            row: None,
            stage: CopyRowStage::Insert,
        }
    }
}

/// COPY rows into a table: the given columns, defaults for the others, every check. As in
/// PostgreSQL, rows are completed and checked (NOT NULL, CHECK) as they come, and a batch
/// is inserted (unique keys checked) once all its rows passed: a CHECK violation is reported
/// before a duplicate key earlier in the same batch. Returns how many rows were added; on an
/// error the COPY is over.
pub fn copy_rows(
    session: &mut Session,
    target: &mut CopyTarget,
    rows: Vec<Row>,
) -> Result<u64, CopyRowsError> {
    if target.plan.is_none() {
        target.plan = Some(Box::new(CopyPlan::new(
            session,
            target.table,
            &target.attnums,
        )?));
    }
    let Some(plan) = target.plan.as_ref() else {
        return Err(SqlError::internal("COPY plan missing").into());
    };
    let mut complete = Vec::with_capacity(rows.len());
    // The first row that failed its checks.
    let mut refused: Option<(usize, SqlError, CopyRowStage)> = None;
    let mut fired = Fired::for_statement(&session.catalog(), &plan.def, Event::Insert, &[]);
    let deferred = fired.has_before().then(|| unconstrained(&plan.def));
    if plan.needs_exec {
        session.with_exec(&[], |ctx| {
            match plan.complete_batch(rows, deferred.as_ref(), ctx) {
                Ok(rows) => complete = rows,
                Err(failure) => refused = Some(failure),
            }
            Ok(())
        })?;
    } else {
        for (position, supplied) in rows.into_iter().enumerate() {
            let row = plan.place(supplied);
            if deferred.is_none() && plan.violates_not_null(&row) {
                let error = match session.with_exec(&[], |ctx| check_row(&plan.def, &row, &[], ctx))
                {
                    Err(error) => error,
                    Ok(()) => SqlError::internal("NOT NULL violation not found again"),
                };
                refused = Some((position, error, CopyRowStage::Checks));
                break;
            }
            complete.push(row);
        }
    }
    if let Some((position, error, stage)) = refused {
        return Err(CopyRowsError {
            error,
            row: Some(position),
            stage,
        });
    }
    // Row triggers: BEFORE per row (a row may be changed or skipped), AFTER once the batch
    // is written.
    let mut written = Vec::new();
    if !fired.is_empty() {
        let mut kept = Vec::with_capacity(complete.len());
        for row in complete {
            let (def, generated, checks) = (&plan.def, &plan.generated, &plan.checks);
            if let Some(row) = before_row(
                session,
                &fired,
                &[],
                def,
                None,
                Some(row),
                generated,
                checks,
                &[],
            )? {
                kept.push(row);
            }
        }
        complete = kept;
        written = complete.clone();
    }
    let accepted = complete.len() as u64;
    if let Err(failure) = session.transaction().insert_batch(plan.def.oid, complete) {
        let error = session.with_exec(&[], |ctx| {
            Ok(unique_error(failure.error, &plan.def, &failure.row, ctx))
        })?;
        return Err(CopyRowsError {
            error,
            row: Some(failure.position),
            stage: CopyRowStage::Insert,
        });
    }
    for row in written {
        fired.written(None, Some(row));
    }
    fired.finish(session, &plan.def)?;
    Ok(accepted)
}

/// `COPY table [(columns)] FROM STDIN | TO STDOUT [WITH (...)]`, `COPY (query) TO STDOUT`.
pub fn copy_statement(session: &mut Session, ast: &Ast) -> SqlResult<Outcome> {
    let Ast::Copy {
        source,
        to,
        target,
        options,
        legacy_options,
        ..
    } = ast
    else {
        return Err(SqlError::internal("not a COPY"));
    };
    let mut opts = CopyOptions::defaults(CopyFormat::Text);
    let mut explicit_delimiter = None;
    let mut explicit_null = None;
    for o in options {
        match o {
            ast::CopyOption::Format(f) => {
                opts.format = match f.value.to_lowercase().as_str() {
                    "text" => CopyFormat::Text,
                    "csv" => CopyFormat::Csv,
                    "binary" => CopyFormat::Binary,
                    other => {
                        return Err(SqlError::new(
                            code::INVALID_PARAMETER_VALUE,
                            format!("COPY format \"{other}\" not recognized"),
                        ))
                    }
                }
            }
            ast::CopyOption::Delimiter(c) => explicit_delimiter = Some(*c),
            ast::CopyOption::Null(s) => explicit_null = Some(s.clone()),
            ast::CopyOption::Header(h) => opts.header = *h,
            ast::CopyOption::Quote(c) => opts.quote = *c,
            ast::CopyOption::Escape(c) => opts.escape = *c,
            other => return Err(SqlError::unsupported(format!("COPY option {other}"))),
        }
    }
    for o in legacy_options {
        match o {
            ast::CopyLegacyOption::Binary => opts.format = CopyFormat::Binary,
            ast::CopyLegacyOption::Csv(csv) => {
                opts.format = CopyFormat::Csv;
                for c in csv {
                    match c {
                        ast::CopyLegacyCsvOption::Header => opts.header = true,
                        ast::CopyLegacyCsvOption::Quote(q) => opts.quote = *q,
                        ast::CopyLegacyCsvOption::Escape(e) => opts.escape = *e,
                        _ => return Err(SqlError::unsupported(format!("COPY option {c}"))),
                    }
                }
            }
            ast::CopyLegacyOption::Delimiter(c) => explicit_delimiter = Some(*c),
            ast::CopyLegacyOption::Null(s) => explicit_null = Some(s.clone()),
            other => return Err(SqlError::unsupported(format!("COPY option {other}"))),
        }
    }
    let defaults = CopyOptions::defaults(opts.format);
    if explicit_delimiter.is_none() {
        opts.delimiter = defaults.delimiter;
    }
    if explicit_null.is_none() {
        opts.null = defaults.null;
    }
    if let Some(d) = explicit_delimiter {
        opts.delimiter = d;
    }
    if let Some(n) = explicit_null {
        opts.null = n;
    }
    if opts.format != CopyFormat::Csv && opts.header && opts.format == CopyFormat::Binary {
        return Err(SqlError::new(
            code::FEATURE_NOT_SUPPORTED,
            "cannot specify HEADER in BINARY mode",
        ));
    }
    match (source, to, target) {
        (
            ast::CopySource::Table {
                table_name,
                columns,
            },
            false,
            ast::CopyTarget::Stdin,
        ) => {
            let (def, attnums) = session.with_binder(Vec::new(), |b| {
                let def = resolve_table(b, table_name)?;
                let attnums = copy_columns(&def, columns)?;
                if b.row_security_applies(def.oid)? {
                    return Err(SqlError::new(
                        code::FEATURE_NOT_SUPPORTED,
                        "COPY FROM not supported with row-level security",
                    )
                    .with_hint("Use INSERT statements instead."));
                }
                Ok((def, attnums))
            })?;
            let cols: Vec<crate::engine::Column> = attnums
                .iter()
                .map(|a| {
                    let c = def.column(*a).cloned().unwrap_or_default();
                    crate::engine::Column {
                        name: c.name.clone(),
                        table_oid: def.oid,
                        column_number: *a as i16,
                        sql_type: SqlType::from_data_type(&c.data_type),
                    }
                })
                .collect();
            session.transaction();
            Ok(Outcome::CopyIn(CopyIn {
                columns: cols,
                options: opts,
                target: CopyTarget {
                    table: def.oid,
                    attnums,
                    rows: 0,
                    plan: None,
                },
            }))
        }
        (
            ast::CopySource::Table {
                table_name,
                columns,
            },
            true,
            ast::CopyTarget::Stdout,
        ) => {
            let names: Vec<String> = columns.iter().map(ident_name).collect();
            let list = if names.is_empty() {
                "*".to_string()
            } else {
                names
                    .iter()
                    .map(|n| format!("\"{}\"", n.replace('"', "\"\"")))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let q = crate::parse::parse_one(&format!("SELECT {list} FROM {table_name}"))?;
            copy_out_query(session, &q, opts)
        }
        (ast::CopySource::Query(q), true, ast::CopyTarget::Stdout) => {
            copy_out_query(session, &Ast::Query(q.clone()), opts)
        }
        (_, _, ast::CopyTarget::File { .. }) | (_, _, ast::CopyTarget::Program { .. }) => {
            Err(SqlError::new(
                code::INSUFFICIENT_PRIVILEGE,
                "COPY to or from a file or program is not allowed",
            )
            .with_hint("Use COPY ... FROM STDIN / TO STDOUT (psql's \\copy)."))
        }
        _ => Err(SqlError::unsupported("this form of COPY")),
    }
}

fn copy_columns(def: &TableDef, columns: &[ast::Ident]) -> SqlResult<Vec<u16>> {
    if columns.is_empty() {
        return Ok(def
            .columns
            .iter()
            .filter(|c| !c.dropped && c.generated.is_none())
            .map(|c| c.attnum)
            .collect());
    }
    columns
        .iter()
        .map(|c| {
            let name = ident_name(c);
            def.column_by_name(&name).map(|c| c.attnum).ok_or_else(|| {
                SqlError::new(
                    code::UNDEFINED_COLUMN,
                    format!(
                        "column \"{name}\" of relation \"{}\" does not exist",
                        def.name
                    ),
                )
            })
        })
        .collect()
}

fn copy_out_query(session: &mut Session, q: &Ast, options: CopyOptions) -> SqlResult<Outcome> {
    let Ast::Query(q) = q else {
        return Err(SqlError::internal("COPY query expected"));
    };
    let (plan, columns) = session.plan_query(q, &[])?;
    let rows = session.with_exec(&[], |ctx| crate::exec::run(&plan, ctx, None))?;
    Ok(Outcome::CopyOut {
        columns: columns_of(&columns),
        rows,
        options,
    })
}
