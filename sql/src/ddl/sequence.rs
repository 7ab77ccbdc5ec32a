//! CREATE SEQUENCE and ALTER SEQUENCE, with PostgreSQL's defaults and checks.
//!
//! The definition (bounds, increment, start, cycling, owner column) is catalog state and
//! transactional; the position is not: it lives in the database's sequence positions
//! ([`crate::engine::sequences`]), as `nextval` is not transactional either, so
//! `ALTER SEQUENCE ... RESTART` takes effect at once and is not undone by a rollback.
//!
//! sqlparser has no ALTER SEQUENCE: the parser's fallback hands over a stand-in statement
//! and [`alter_sequence`] reads the statement text itself.

use sqlparser::ast::{self, SequenceOptions};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use storage::catalog::{Oid, SequenceDef};

use super::table::relation_exists;
use crate::bind::{object_name_parts, split_name};
use crate::catalog_access::{resolve_relation, target_schema, Relation};
use crate::engine::Session;
use crate::error::{code, SqlError, SqlResult};

fn invalid(message: String) -> SqlError {
    SqlError::new(code::INVALID_PARAMETER_VALUE, message)
}

fn number(e: &ast::Expr) -> SqlResult<i64> {
    let text = e.to_string().replace(' ', "");
    text.parse::<i64>().map_err(|_| {
        SqlError::new(
            code::NUMERIC_VALUE_OUT_OF_RANGE,
            format!("value \"{text}\" is out of range for type bigint"),
        )
    })
}

/// The integer type a sequence counts in, as its bounds tell (the catalog keeps no type).
fn type_bounds(name: &str) -> Option<(i64, i64)> {
    match name {
        "smallint" => Some((i64::from(i16::MIN), i64::from(i16::MAX))),
        "integer" => Some((i64::from(i32::MIN), i64::from(i32::MAX))),
        "bigint" => Some((i64::MIN, i64::MAX)),
        _ => None,
    }
}

fn type_of(seq: &SequenceDef) -> &'static str {
    let at_limit = |(min, max): (i64, i64)| {
        seq.min_value >= min
            && seq.max_value <= max
            && (seq.min_value == min || seq.max_value == max)
    };
    if type_bounds("smallint").is_some_and(at_limit) {
        "smallint"
    } else if type_bounds("integer").is_some_and(at_limit) {
        "integer"
    } else {
        "bigint"
    }
}

/// What applying options leaves for the caller: the OWNED BY target, when one was given
/// (`Some(None)`: OWNED BY NONE).
struct Applied {
    owned_by: Option<Option<ast::ObjectName>>,
}

fn apply_options(
    seq: &mut SequenceDef,
    options: &[SequenceOptions],
    creating: bool,
) -> SqlResult<Applied> {
    let mut data_type = type_of(seq).to_string();
    let (mut min, mut max, mut start, mut increment) = (None, None, None, None);
    let mut owned_by = None;
    let old_type = data_type.clone();
    for o in options {
        match o {
            SequenceOptions::DataType(t) => {
                let t = crate::bind::types::sql_type(t)?.display_name();
                if type_bounds(&t).is_none() {
                    return Err(invalid(
                        "sequence type must be smallint, integer, or bigint".into(),
                    ));
                }
                data_type = t;
            }
            SequenceOptions::IncrementBy(e, _) => increment = Some(number(e)?),
            SequenceOptions::MinValue(e) => min = Some(e.as_ref().map(number).transpose()?),
            SequenceOptions::MaxValue(e) => max = Some(e.as_ref().map(number).transpose()?),
            SequenceOptions::StartWith(e, _) => start = Some(number(e)?),
            SequenceOptions::Cache(e) => {
                let cache = number(e)?;
                if cache <= 0 {
                    return Err(invalid(format!(
                        "CACHE ({cache}) must be greater than zero"
                    )));
                }
            }
            // sqlparser reads `NO CYCLE` as `Cycle(true)`.
            SequenceOptions::Cycle(no) => seq.cycle = !*no,
            SequenceOptions::OwnedBy(target) => owned_by = Some(target.clone()),
        }
    }
    let (type_min, type_max) = type_bounds(&data_type).unwrap_or((i64::MIN, i64::MAX));
    if let Some(i) = increment {
        if i == 0 {
            return Err(invalid("INCREMENT must not be zero".into()));
        }
        seq.increment = i;
    }
    let ascending = seq.increment > 0;
    let type_changed = data_type != old_type;
    // Bounds left at the old type's limits follow a type change, as in PostgreSQL.
    let (old_min, old_max) = type_bounds(&old_type).unwrap_or((i64::MIN, i64::MAX));
    seq.max_value = match max {
        Some(Some(m)) => m,
        Some(None) => {
            if ascending {
                type_max
            } else {
                -1
            }
        }
        None if creating => {
            if ascending {
                type_max
            } else {
                -1
            }
        }
        None if type_changed && seq.max_value == old_max => type_max,
        None => seq.max_value,
    };
    seq.min_value = match min {
        Some(Some(m)) => m,
        Some(None) => {
            if ascending {
                1
            } else {
                type_min
            }
        }
        None if creating => {
            if ascending {
                1
            } else {
                type_min
            }
        }
        None if type_changed && seq.min_value == old_min => type_min,
        None => seq.min_value,
    };
    if seq.max_value > type_max || seq.max_value < type_min {
        return Err(invalid(format!(
            "MAXVALUE ({}) is out of range for sequence data type {data_type}",
            seq.max_value
        )));
    }
    if seq.min_value < type_min || seq.min_value > type_max {
        return Err(invalid(format!(
            "MINVALUE ({}) is out of range for sequence data type {data_type}",
            seq.min_value
        )));
    }
    if seq.min_value >= seq.max_value {
        return Err(invalid(format!(
            "MINVALUE ({}) must be less than MAXVALUE ({})",
            seq.min_value, seq.max_value
        )));
    }
    match start {
        Some(s) => seq.start = s,
        None if creating => {
            seq.start = if ascending {
                seq.min_value
            } else {
                seq.max_value
            }
        }
        None => {}
    }
    if seq.start < seq.min_value {
        return Err(invalid(format!(
            "START value ({}) cannot be less than MINVALUE ({})",
            seq.start, seq.min_value
        )));
    }
    if seq.start > seq.max_value {
        return Err(invalid(format!(
            "START value ({}) cannot be greater than MAXVALUE ({})",
            seq.start, seq.max_value
        )));
    }
    Ok(Applied { owned_by })
}

/// Resolves `OWNED BY table.column` (the table in the sequence's schema or on the path).
fn owner_column(
    session: &Session,
    target: &Option<ast::ObjectName>,
) -> SqlResult<Option<(Oid, u16)>> {
    let Some(target) = target else {
        return Ok(None);
    };
    let mut parts = object_name_parts(target);
    if parts.len() < 2 {
        return Err(SqlError::syntax("invalid OWNED BY option")
            .with_hint("Specify OWNED BY table.column or OWNED BY NONE."));
    }
    let column = parts.pop().unwrap_or_default();
    let table = parts.pop().unwrap_or_default();
    let schema = parts.pop();
    let catalog = session.catalog();
    let path = session.search_path();
    let Relation::Table(oid) = resolve_relation(&catalog, schema.as_deref(), &table, &path)? else {
        return Err(SqlError::new(
            code::WRONG_OBJECT_TYPE,
            format!("sequence cannot be owned by relation \"{table}\""),
        ));
    };
    let def = &catalog.tables[&oid];
    let attnum = def
        .column_by_name(&column)
        .map(|c| c.attnum)
        .ok_or_else(|| {
            SqlError::new(
                code::UNDEFINED_COLUMN,
                format!("column \"{column}\" of relation \"{table}\" does not exist"),
            )
        })?;
    Ok(Some((oid, attnum)))
}

pub fn create_sequence(
    session: &mut Session,
    if_not_exists: bool,
    name: &ast::ObjectName,
    options: &[SequenceOptions],
) -> SqlResult<()> {
    let (schema_name, name) = split_name(name)?;
    let catalog = session.catalog();
    let path = session.search_path();
    let schema = target_schema(&catalog, schema_name.as_deref(), &path)?;
    if relation_exists(&catalog, schema, &name) {
        if if_not_exists {
            session.notice(format!("relation \"{name}\" already exists, skipping"));
            return Ok(());
        }
        return Err(SqlError::new(
            code::DUPLICATE_TABLE,
            format!("relation \"{name}\" already exists"),
        ));
    }
    let mut seq = SequenceDef {
        schema,
        name,
        owner: session.role_oid(),
        increment: 1,
        max_value: i64::MAX,
        min_value: 1,
        start: 1,
        ..Default::default()
    };
    let applied = apply_options(&mut seq, options, true)?;
    if let Some(target) = &applied.owned_by {
        seq.owned_by = owner_column(session, target)?;
    }
    let catalog = session.transaction().catalog_mut();
    seq.oid = catalog.allocate_oid();
    catalog.sequences.insert(seq.oid, seq);
    Ok(())
}

/// ALTER SEQUENCE [IF EXISTS] name { options [RESTART [[WITH] n]] | RENAME TO new |
/// OWNER TO role }, read from the statement text.
pub fn alter_sequence(session: &mut Session, sql: &str) -> SqlResult<()> {
    let dialect = PostgreSqlDialect {};
    let syntax = |e: sqlparser::parser::ParserError| SqlError::syntax(format!("syntax error: {e}"));
    let mut p = Parser::new(&dialect).try_with_sql(sql).map_err(syntax)?;
    if !p.parse_keywords(&[Keyword::ALTER, Keyword::SEQUENCE]) {
        return Err(SqlError::internal("not an ALTER SEQUENCE statement"));
    }
    let if_exists = p.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
    let name = p.parse_object_name(false).map_err(syntax)?;
    let (schema, rel) = split_name(&name)?;
    let catalog = session.catalog();
    let path = session.search_path();
    let oid = match resolve_relation(&catalog, schema.as_deref(), &rel, &path) {
        Ok(Relation::Sequence(oid)) => oid,
        Ok(_) => {
            return Err(SqlError::new(
                code::WRONG_OBJECT_TYPE,
                format!("\"{rel}\" is not a sequence"),
            ))
        }
        Err(e) if e.code == code::UNDEFINED_TABLE && if_exists => {
            session.notice(format!("relation \"{rel}\" does not exist, skipping"));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let mut seq = catalog.sequences[&oid].clone();
    if p.parse_keywords(&[Keyword::RENAME, Keyword::TO]) {
        let new = crate::bind::ident_name(&p.parse_identifier().map_err(syntax)?);
        expect_end(&mut p)?;
        if relation_exists(&catalog, seq.schema, &new) {
            return Err(SqlError::new(
                code::DUPLICATE_TABLE,
                format!("relation \"{new}\" already exists"),
            ));
        }
        seq.name = new;
        session
            .transaction()
            .catalog_mut()
            .sequences
            .insert(oid, seq);
        return Ok(());
    }
    if p.parse_keywords(&[Keyword::OWNER, Keyword::TO]) {
        let owner = ast::Owner::Ident(p.parse_identifier().map_err(syntax)?);
        expect_end(&mut p)?;
        seq.owner = super::alter::role_oid(session, &owner)?;
        session
            .transaction()
            .catalog_mut()
            .sequences
            .insert(oid, seq);
        return Ok(());
    }
    // Options, with RESTART among them: RESTART is taken out, the rest read as CREATE
    // SEQUENCE's options are.
    let mut restart: Option<Option<i64>> = None;
    let mut rest = String::from("CREATE SEQUENCE s ");
    loop {
        if p.parse_keyword(Keyword::RESTART) {
            let with = p.parse_keyword(Keyword::WITH);
            let value = match p.peek_token().token {
                sqlparser::tokenizer::Token::Number(..) | sqlparser::tokenizer::Token::Minus => {
                    Some(number(&p.parse_expr().map_err(syntax)?)?)
                }
                _ if with => return Err(SqlError::syntax("syntax error at or near \"WITH\"")),
                _ => None,
            };
            restart = Some(value);
            continue;
        }
        let token = p.next_token();
        match token.token {
            sqlparser::tokenizer::Token::EOF => break,
            sqlparser::tokenizer::Token::SemiColon => continue,
            other => {
                rest.push_str(&other.to_string());
                rest.push(' ');
            }
        }
    }
    let options = match crate::parse::parse_one(&rest)? {
        ast::Statement::CreateSequence {
            sequence_options, ..
        } => sequence_options,
        _ => return Err(SqlError::internal("sequence options did not parse")),
    };
    let applied = apply_options(&mut seq, &options, false)?;
    if let Some(target) = &applied.owned_by {
        seq.owned_by = owner_column(session, target)?;
    }
    if let Some(value) = restart {
        let value = value.unwrap_or(seq.start);
        if value < seq.min_value {
            return Err(invalid(format!(
                "RESTART value ({value}) cannot be less than MINVALUE ({})",
                seq.min_value
            )));
        }
        if value > seq.max_value {
            return Err(invalid(format!(
                "RESTART value ({value}) cannot be greater than MAXVALUE ({})",
                seq.max_value
            )));
        }
        session
            .database
            .sequences
            .setval(&seq, value, false, session.process_id)?;
    }
    session
        .transaction()
        .catalog_mut()
        .sequences
        .insert(oid, seq);
    Ok(())
}

fn expect_end(p: &mut Parser) -> SqlResult<()> {
    loop {
        match p.next_token().token {
            sqlparser::tokenizer::Token::EOF => return Ok(()),
            sqlparser::tokenizer::Token::SemiColon => {}
            other => {
                return Err(SqlError::syntax(format!(
                    "syntax error at or near \"{other}\""
                )))
            }
        }
    }
}
