//! COPY: the statement's options and forms (`FROM STDIN`, `TO STDOUT`, `(query) TO STDOUT`),
//! and [`copy_rows`], which writes the rows the wire protocol collected through the same
//! checks as INSERT. Files and programs are refused.

use sqlparser::ast::{self, Statement as Ast};
use storage::catalog::TableDef;
use storage::types::{Row, Value};

use super::checks::{check_references, finish_row, table_expressions, unique_error};
use super::resolve_table;
use crate::bind::ident_name;
use crate::engine::run::columns_of;
use crate::engine::{CopyFormat, CopyIn, CopyOptions, Outcome, Session};
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;

/// COPY rows into a table: the given columns, defaults for the others, every check.
pub fn copy_rows(
    session: &mut Session,
    table: u32,
    attnums: &[u16],
    rows: Vec<Row>,
) -> SqlResult<()> {
    let catalog = session.catalog();
    let def = catalog
        .tables
        .get(&table)
        .cloned()
        .ok_or_else(|| SqlError::internal("COPY target vanished"))?;
    let (defaults, generated, checks) =
        session.with_binder(Vec::new(), |b| table_expressions(b, &def))?;
    let positions: Vec<usize> = attnums.iter().map(|a| usize::from(*a) - 1).collect();
    let complete = session.with_exec(&[], |ctx| {
        let mut out = Vec::with_capacity(rows.len());
        for src in rows {
            let mut row: Row = vec![Value::Null; def.columns.len()];
            let mut provided = vec![false; def.columns.len()];
            for (v, &p) in src.into_iter().zip(positions.iter()) {
                row[p] = v;
                provided[p] = true;
            }
            let row = finish_row(&def, row, &provided, &defaults, &generated, &checks, ctx)?;
            check_references(&def, &row, ctx)?;
            out.push(row);
        }
        Ok(out)
    })?;
    for row in complete {
        if let Err(e) = session.transaction().insert(table, row.clone()) {
            return Err(session.with_exec(&[], |ctx| Ok(unique_error(e, &def, &row, ctx)))?);
        }
    }
    Ok(())
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
                target: crate::engine::copy::CopyTarget {
                    table: def.oid,
                    attnums,
                    rows: 0,
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
