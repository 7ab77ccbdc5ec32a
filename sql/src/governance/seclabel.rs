//! `SECURITY LABEL [FOR provider] ON { TABLE t | COLUMN t.c | ROLE r } IS 'label' | NULL`.
//!
//! sqlparser does not read SECURITY LABEL: the parse step recognises it by its first two
//! words ([`is_security_label`]), checks it with [`parse`] and stands in
//! [`stand_in`]; execution reads the statement again from its text ([`execute`]).
//!
//! As PostgreSQL: the provider must be loaded (custos has `anon` and `custos`, so FOR is
//! required), the object must exist, and the caller must own the table (a superuser or a
//! member of the owner) or, for a role, have CREATEROLE (a superuser for a superuser).
//! The label is checked by its provider's grammar ([`super::label`]); a mask expression
//! must bind against the table and be of the column's type or assignable to it. Labels are
//! `SecurityLabelDef`s in the catalog (one per provider and object), committed with the
//! transaction, shown by `pg_seclabel` and `pg_seclabels`.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};
use storage::catalog::{AttNum, Catalog, Oid, SecurityLabelDef};

use super::label::{check_label, parse_column_mask, PROVIDERS};
use crate::acl::statement::leading_words;
use crate::bind::expr::ExprContext;
use crate::catalog_access::{resolve_relation, Relation};
use crate::engine::{Outcome, Session};
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;

/// The object a label is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelObject {
    Table(Vec<String>),
    /// Name parts, the column last.
    Column(Vec<String>),
    Role(String),
}

/// A SECURITY LABEL statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityLabel {
    pub provider: Option<String>,
    pub object: LabelObject,
    /// `None` for `IS NULL` (removes the label).
    pub label: Option<String>,
}

/// Whether `text` is a SECURITY LABEL statement.
pub fn is_security_label(text: &str) -> bool {
    let words = leading_words(text, 2);
    words.len() == 2 && words[0] == "SECURITY" && words[1] == "LABEL"
}

/// The statement that stands for SECURITY LABEL after parsing: `FLUSH SLOW LOGS`, which
/// no PostgreSQL client sends.
pub fn stand_in() -> sqlparser::ast::Statement {
    sqlparser::ast::Statement::Flush {
        object_type: sqlparser::ast::FlushType::SlowLogs,
        location: None,
        channel: None,
        read_lock: false,
        export: false,
        tables: Vec::new(),
    }
}

/// Whether `statement` is [`stand_in`].
pub fn is_stand_in(statement: &sqlparser::ast::Statement) -> bool {
    matches!(
        statement,
        sqlparser::ast::Statement::Flush {
            object_type: sqlparser::ast::FlushType::SlowLogs,
            ..
        }
    )
}

fn syntax_near(token: Option<&Token>) -> SqlError {
    match token {
        None => SqlError::syntax("syntax error at end of input"),
        Some(t) => SqlError::syntax(format!("syntax error at or near \"{t}\"")),
    }
}

/// Parses a SECURITY LABEL statement.
pub fn parse(text: &str) -> SqlResult<SecurityLabel> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, text)
        .tokenize()
        .map_err(|e| SqlError::syntax(format!("syntax error: {}", e.message)))?;
    let tokens: Vec<Token> = tokens
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_) | Token::EOF))
        .collect();
    let mut i = 0;
    let keyword = |i: usize, w: &str| matches!(tokens.get(i), Some(Token::Word(x)) if x.quote_style.is_none() && x.value.eq_ignore_ascii_case(w));
    let name_part = |i: usize| match tokens.get(i) {
        Some(Token::Word(w)) if w.quote_style.is_some() => Some(w.value.clone()),
        Some(Token::Word(w)) => Some(w.value.to_lowercase()),
        _ => None,
    };
    if !keyword(0, "SECURITY") || !keyword(1, "LABEL") {
        return Err(syntax_near(tokens.first()));
    }
    i += 2;
    let mut provider = None;
    if keyword(i, "FOR") {
        provider = match tokens.get(i + 1) {
            Some(Token::SingleQuotedString(s)) => Some(s.clone()),
            _ => Some(name_part(i + 1).ok_or_else(|| syntax_near(tokens.get(i + 1)))?),
        };
        i += 2;
    }
    if !keyword(i, "ON") {
        return Err(syntax_near(tokens.get(i)));
    }
    i += 1;
    let kind = match tokens.get(i) {
        Some(Token::Word(w)) if w.quote_style.is_none() => w.value.to_ascii_uppercase(),
        other => return Err(syntax_near(other)),
    };
    i += 1;
    let mut parts = vec![name_part(i).ok_or_else(|| syntax_near(tokens.get(i)))?];
    i += 1;
    while matches!(tokens.get(i), Some(Token::Period)) {
        parts.push(name_part(i + 1).ok_or_else(|| syntax_near(tokens.get(i + 1)))?);
        i += 2;
    }
    if !keyword(i, "IS") {
        return Err(syntax_near(tokens.get(i)));
    }
    i += 1;
    let label = match tokens.get(i) {
        Some(Token::SingleQuotedString(s))
        | Some(Token::EscapedStringLiteral(s))
        | Some(Token::NationalStringLiteral(s)) => Some(s.clone()),
        Some(Token::DollarQuotedString(s)) => Some(s.value.clone()),
        Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("NULL") => {
            None
        }
        other => return Err(syntax_near(other)),
    };
    i += 1;
    while matches!(tokens.get(i), Some(Token::SemiColon)) {
        i += 1;
    }
    if i < tokens.len() {
        return Err(syntax_near(tokens.get(i)));
    }
    let object = match kind.as_str() {
        "TABLE" if parts.len() <= 3 => LabelObject::Table(parts),
        "COLUMN" if (2..=4).contains(&parts.len()) => LabelObject::Column(parts),
        "COLUMN" => return Err(SqlError::syntax("column name must be qualified")),
        "ROLE" if parts.len() == 1 => LabelObject::Role(parts.remove(0)),
        "TABLE" | "ROLE" => {
            return Err(SqlError::syntax(
                "improper qualified name (too many dotted names)",
            ))
        }
        "SCHEMA" | "VIEW" | "SEQUENCE" | "FUNCTION" | "DATABASE" | "TYPE" | "DOMAIN"
        | "AGGREGATE" | "PROCEDURE" | "ROUTINE" | "LANGUAGE" | "TABLESPACE" | "PUBLICATION"
        | "SUBSCRIPTION" | "EVENT" | "FOREIGN" | "MATERIALIZED" | "LARGE" => {
            return Err(SqlError::unsupported(format!(
                "SECURITY LABEL ON {}",
                kind.to_ascii_lowercase()
            )))
        }
        _ => return Err(syntax_near(tokens.get(i.saturating_sub(1)))),
    };
    Ok(SecurityLabel {
        provider,
        object,
        label,
    })
}

/// Resolves `[schema.]table` to a table's OID.
fn table_oid(session: &Session, catalog: &Catalog, parts: &[String]) -> SqlResult<Oid> {
    let (schema, name) = match parts {
        [name] => (None, name.as_str()),
        [schema, name] => (Some(schema.as_str()), name.as_str()),
        [db, schema, name] => {
            if db != crate::engine::DATABASE_NAME {
                return Err(SqlError::unsupported(format!(
                    "cross-database references are not implemented: {}",
                    parts.join(".")
                )));
            }
            (Some(schema.as_str()), name.as_str())
        }
        _ => {
            return Err(SqlError::syntax(
                "improper qualified name (too many dotted names)",
            ))
        }
    };
    match resolve_relation(catalog, schema, name, &session.search_path())? {
        Relation::Table(oid) => Ok(oid),
        _ => Err(SqlError::new(
            code::WRONG_OBJECT_TYPE,
            format!("\"{name}\" is not a table"),
        )),
    }
}

/// Runs a SECURITY LABEL statement (its text).
pub fn execute(session: &mut Session, sql: &str) -> SqlResult<Outcome> {
    let statement = parse(sql)?;
    let provider = match statement.provider {
        Some(p) => p,
        None => {
            return Err(SqlError::new(
                code::INVALID_PARAMETER_VALUE,
                "must specify provider when multiple security label providers have been loaded",
            ))
        }
    };
    if !PROVIDERS.contains(&provider.as_str()) {
        return Err(SqlError::new(
            code::INVALID_PARAMETER_VALUE,
            format!("security label provider \"{provider}\" is not loaded"),
        ));
    }
    let catalog = session.catalog();
    let user = session.current_user().to_string();
    let (kind, object, column): (&str, Oid, AttNum) = match &statement.object {
        LabelObject::Table(parts) => {
            let oid = table_oid(session, &catalog, parts)?;
            let t = &catalog.tables[&oid];
            crate::acl::check::check_owner(&catalog, &user, t.owner, "table", &t.name)?;
            ("table", oid, 0)
        }
        LabelObject::Column(parts) => {
            let (table_parts, column) = parts.split_at(parts.len() - 1);
            let oid = table_oid(session, &catalog, table_parts)?;
            let t = &catalog.tables[&oid];
            let c = t.column_by_name(&column[0]).ok_or_else(|| {
                SqlError::new(
                    code::UNDEFINED_COLUMN,
                    format!(
                        "column \"{}\" of relation \"{}\" does not exist",
                        column[0], t.name
                    ),
                )
            })?;
            crate::acl::check::check_owner(&catalog, &user, t.owner, "table", &t.name)?;
            ("column", oid, c.attnum)
        }
        LabelObject::Role(name) => {
            let role = crate::acl::role_by_name(&catalog, name)
                .ok_or_else(|| crate::acl::undefined_role(name))?;
            check_role_label_privilege(&catalog, &user, role.oid)?;
            ("role", role.oid, 0)
        }
    };
    if let Some(label) = &statement.label {
        check_label(&provider, kind, label)?;
        if kind == "column" {
            check_column_label(session, &catalog, &provider, object, column, label)?;
        }
    }
    let catalog = session.transaction().catalog_mut();
    catalog.security_labels.retain(|l| {
        !(l.provider == provider
            && l.object == object
            && l.column == column
            && l.object_kind == kind)
    });
    let tokenizes = provider == "custos" && statement.label.is_some();
    if let Some(label) = statement.label {
        catalog.security_labels.push(SecurityLabelDef {
            provider,
            object_kind: kind.into(),
            object,
            column,
            label,
        });
    }
    if tokenizes {
        tokenize_existing_rows(session, object, column)?;
    }
    Ok(Outcome::Command {
        tag: "SECURITY LABEL".into(),
    })
}

/// Rewrites the rows a table already has once a column of it is tokenized, in the same
/// transaction (`UPDATE t SET c = c`: the write path tokenizes, and recomputes what is
/// generated from the column). Without keys it fails, and the label with it.
fn tokenize_existing_rows(session: &mut Session, table: Oid, column: AttNum) -> SqlResult<()> {
    use crate::pg_catalog::ident::quote_identifier;
    let catalog = session.catalog();
    let Some(t) = catalog.tables.get(&table) else {
        return Ok(());
    };
    let Some(c) = t.column(column) else {
        return Ok(());
    };
    let schema = catalog
        .schemas
        .get(&t.schema)
        .map(|s| s.name.clone())
        .unwrap_or_default();
    let c = quote_identifier(&c.name);
    let sql = format!(
        "UPDATE {}.{} SET {c} = {c}",
        quote_identifier(&schema),
        quote_identifier(&t.name)
    );
    let Some(statement) = crate::parse::parse_statements(&sql)?.pop() else {
        return Ok(());
    };
    let ast = statement.ast.clone();
    let prepared = session.prepare_inner(statement, &[])?;
    crate::dml::execute(session, &ast, &prepared, &[])?;
    Ok(())
}

/// PostgreSQL's ownership rule for roles: CREATEROLE, and a superuser for a superuser.
fn check_role_label_privilege(catalog: &Catalog, user: &str, target: Oid) -> SqlResult<()> {
    if catalog.roles.is_empty() {
        return Ok(());
    }
    let me = crate::acl::check::role_of(catalog, user);
    if crate::acl::is_superuser(catalog, me) {
        return Ok(());
    }
    if crate::acl::is_superuser(catalog, target) {
        return Err(crate::acl::insufficient_privilege(
            "must be superuser to alter superusers",
        ));
    }
    let createrole = catalog
        .roles
        .get(&me)
        .is_some_and(|r| crate::acl::role_flag(r, "CREATEROLE"));
    if !createrole {
        return Err(crate::acl::insufficient_privilege(
            "must have CREATEROLE privilege",
        ));
    }
    Ok(())
}

/// A column label's meaning checked against the table: a mask expression binds over the
/// table's columns and is of the column's type (or assignable to it); a tokenized column
/// holds text.
fn check_column_label(
    session: &Session,
    catalog: &Catalog,
    provider: &str,
    table: Oid,
    column: AttNum,
    label: &str,
) -> SqlResult<()> {
    let t = &catalog.tables[&table];
    let c = t
        .column(column)
        .ok_or_else(|| SqlError::internal("labelled column vanished"))?;
    let column_type = SqlType::from_data_type(&c.data_type);
    if provider == "custos" {
        if !matches!(column_type, SqlType::Text | SqlType::Varchar(_)) {
            return Err(SqlError::new(
                code::DATATYPE_MISMATCH,
                format!(
                    "tokenized column \"{}\" must be of type text or varchar, not {}",
                    c.name,
                    column_type.display_name()
                ),
            ));
        }
        if c.generated.is_some() {
            return Err(SqlError::unsupported("tokenizing a generated column"));
        }
        return Ok(());
    }
    let Some(expression) =
        parse_column_mask(label).and_then(|r| r.expression().map(str::to_string))
    else {
        return Ok(());
    };
    let scope = crate::dml::table_scope(catalog, t, &t.name);
    let parsed = crate::dml::parse_expr(&expression).map_err(|e| {
        SqlError::new(
            code::INVALID_PARAMETER_VALUE,
            format!("invalid masking rule \"{expression}\": {}", e.message),
        )
    })?;
    session
        .with_binder(Vec::new(), |b| {
            b.privileges.suspended = true;
            let mut cx = ExprContext::plain("masking rules");
            let typed = b.bind_expr(&parsed, &scope, &mut cx)?;
            b.coerce_to(typed, &column_type, "masking rule")?;
            Ok(())
        })
        .map_err(|e| {
            let mut e = e;
            e.position = None;
            if e.code != code::DATATYPE_MISMATCH {
                e.message = format!(
                    "invalid masking rule for column \"{}\": {}",
                    c.name, e.message
                );
            }
            e
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_security_label() {
        assert!(is_security_label(
            "  security label for anon on role r is 'MASKED'"
        ));
        assert!(!is_security_label("SECURITY DEFINER"));
        let s = parse("SECURITY LABEL FOR anon ON COLUMN public.People.\"Email\" IS 'MASKED WITH FUNCTION anon.partial_email(\"Email\")';").unwrap();
        assert_eq!(s.provider.as_deref(), Some("anon"));
        assert_eq!(
            s.object,
            LabelObject::Column(vec!["public".into(), "people".into(), "Email".into()])
        );
        assert_eq!(
            s.label.as_deref(),
            Some("MASKED WITH FUNCTION anon.partial_email(\"Email\")")
        );
        let s = parse("security label on role bob is null").unwrap();
        assert_eq!(s.provider, None);
        assert_eq!(s.object, LabelObject::Role("bob".into()));
        assert_eq!(s.label, None);
        let s =
            parse("SECURITY LABEL FOR anon ON COLUMN t.c IS 'MASKED WITH VALUE $$X$$'").unwrap();
        assert_eq!(s.label.as_deref(), Some("MASKED WITH VALUE $$X$$"));
        assert_eq!(
            parse("SECURITY LABEL FOR anon ON COLUMN c IS NULL")
                .unwrap_err()
                .code,
            "42601"
        );
        assert_eq!(
            parse("SECURITY LABEL FOR anon ON TABLE t IS")
                .unwrap_err()
                .code,
            "42601"
        );
        assert_eq!(
            parse("SECURITY LABEL FOR anon ON TABLE t IS 'x' y")
                .unwrap_err()
                .code,
            "42601"
        );
        assert_eq!(
            parse("SECURITY LABEL FOR anon ON SCHEMA s IS 'x'")
                .unwrap_err()
                .code,
            "0A000"
        );
    }
}
