//! What an audit record must not carry: classified values. A parameter is replaced by
//! `<redacted>` when it looks like a payment card number (Luhn) or an e-mail address (the
//! detectors of `rag::safety::pii`), or when it is bound to a column that carries a SECURITY
//! LABEL; in the statement text, string and numeric literals that look like a card number or
//! an e-mail address are replaced the same way (PCI DSS 3.4: a PAN never reaches a log).
//!
//! Linear in the input: one pass over the text, each literal checked once by linear-time
//! detectors.

use sqlparser::ast::{Expr, SetExpr, Statement as Ast, TableObject, Value as AstValue};
use storage::catalog::Catalog;

use crate::rag::safety::pii::{has_card_number, has_email};

pub const REDACTED: &str = "<redacted>";

/// Whether a value is classified by its shape.
pub fn looks_classified(text: &str) -> bool {
    has_card_number(text) || has_email(text)
}

/// The statement text with classified literals replaced by `'<redacted>'`.
pub fn redact_statement(sql: &str) -> String {
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => {
                // A quoted literal; '' is an escaped quote.
                let start = i;
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == b'\'' {
                        if bytes.get(i + 1) == Some(&b'\'') {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                let end = (i + 1).min(bytes.len());
                let inner = &sql[start + 1..i.min(bytes.len())];
                if looks_classified(inner) || follows_password(&sql[..start]) {
                    out.push_str(&sql[copied..start]);
                    out.push('\'');
                    out.push_str(REDACTED);
                    out.push('\'');
                    copied = end;
                }
                i = end;
            }
            b'0'..=b'9' if i == 0 || !is_word_byte(bytes[i - 1]) => {
                let start = i;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                if i - start >= 13 && has_card_number(&sql[start..i]) {
                    out.push_str(&sql[copied..start]);
                    out.push_str(REDACTED);
                    copied = i;
                }
            }
            _ => i += 1,
        }
    }
    out.push_str(&sql[copied..]);
    out
}

/// Whether the text before a literal ends with the keyword PASSWORD (`CREATE ROLE r PASSWORD
/// '...'`, `ALTER USER u WITH ENCRYPTED PASSWORD '...'`).
fn follows_password(before: &str) -> bool {
    let trimmed = before.trim_end();
    let word_start = trimmed
        .rfind(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .map_or(0, |i| i + 1);
    trimmed[word_start..].eq_ignore_ascii_case("password")
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b == b'.'
}

/// Parameter positions (0-based) bound to a column with a SECURITY LABEL: `$n` in the
/// VALUES rows of an INSERT into a labelled column, in `SET col = $n` of an UPDATE, and in
/// `col = $n` comparisons of the statement's target table.
pub fn labelled_parameters(ast: &Ast, catalog: &Catalog, search_path: &[String]) -> Vec<usize> {
    let mut out = Vec::new();
    if catalog.security_labels.is_empty() {
        return out;
    }
    let labelled = |table: &str, column: &str| -> bool {
        let parts: Vec<&str> = table.split('.').collect();
        let relation = match parts.as_slice() {
            [schema, name] => catalog_relation(catalog, Some(schema), name, search_path),
            [name] => catalog_relation(catalog, None, name, search_path),
            _ => None,
        };
        let Some((oid, columns)) = relation else {
            return false;
        };
        let column = column.trim_matches('"');
        let Some((_, attnum)) = columns.iter().find(|(c, _)| c.eq_ignore_ascii_case(column)) else {
            return false;
        };
        catalog
            .security_labels
            .iter()
            .any(|l| l.object == oid && l.column == *attnum)
    };
    match ast {
        Ast::Insert(insert) => {
            let TableObject::TableName(name) = &insert.table else {
                return out;
            };
            let table = name.to_string();
            let columns: Vec<String> = if insert.columns.is_empty() {
                table_columns(catalog, &table, search_path)
            } else {
                insert.columns.iter().map(|c| c.to_string()).collect()
            };
            if let Some(source) = &insert.source {
                if let SetExpr::Values(values) = source.body.as_ref() {
                    for row in &values.rows {
                        for (expr, column) in row.iter().zip(&columns) {
                            if let Some(n) = placeholder(expr) {
                                if labelled(&table, column) {
                                    out.push(n);
                                }
                            }
                        }
                    }
                }
            }
        }
        Ast::Update(update) => {
            let sqlparser::ast::TableFactor::Table { name, .. } = &update.table.relation else {
                return out;
            };
            let table = name.to_string();
            for assignment in &update.assignments {
                if let Some(n) = placeholder(&assignment.value) {
                    if labelled(&table, &assignment.target.to_string()) {
                        out.push(n);
                    }
                }
            }
            if let Some(selection) = &update.selection {
                compared_parameters(selection, &mut |column, n| {
                    if labelled(&table, column) {
                        out.push(n);
                    }
                });
            }
        }
        _ => {}
    }
    out
}

fn placeholder(expr: &Expr) -> Option<usize> {
    match expr {
        Expr::Value(v) => match &v.value {
            AstValue::Placeholder(p) => p.strip_prefix('$')?.parse::<usize>().ok()?.checked_sub(1),
            _ => None,
        },
        Expr::Cast { expr, .. } | Expr::Nested(expr) => placeholder(expr),
        _ => None,
    }
}

/// Calls `found(column, parameter)` for each `column = $n` (either side) under ANDs / ORs.
fn compared_parameters(expr: &Expr, found: &mut dyn FnMut(&str, usize)) {
    if let Expr::BinaryOp { left, right, .. } = expr {
        let column = |e: &Expr| match e {
            Expr::Identifier(ident) => Some(ident.value.clone()),
            Expr::CompoundIdentifier(parts) => parts.last().map(|p| p.value.clone()),
            _ => None,
        };
        if let (Some(c), Some(n)) = (column(left), placeholder(right)) {
            found(&c, n);
        } else if let (Some(n), Some(c)) = (placeholder(left), column(right)) {
            found(&c, n);
        } else {
            compared_parameters(left, found);
            compared_parameters(right, found);
        }
    }
}

/// A table's OID and its live columns (name, attnum).
fn catalog_relation(
    catalog: &Catalog,
    schema: Option<&str>,
    name: &str,
    search_path: &[String],
) -> Option<(u32, Vec<(String, u16)>)> {
    let name = name.trim_matches('"');
    let schemas: Vec<&str> = match schema {
        Some(s) => vec![s.trim_matches('"')],
        None => search_path.iter().map(String::as_str).collect(),
    };
    for schema in schemas {
        let Some(schema) = catalog.schema_by_name(schema) else {
            continue;
        };
        if let Some(table) = catalog.table_by_name(schema.oid, name) {
            let columns = table
                .columns
                .iter()
                .filter(|c| !c.dropped)
                .map(|c| (c.name.clone(), c.attnum))
                .collect();
            return Some((table.oid, columns));
        }
    }
    None
}

fn table_columns(catalog: &Catalog, table: &str, search_path: &[String]) -> Vec<String> {
    let parts: Vec<&str> = table.split('.').collect();
    let found = match parts.as_slice() {
        [schema, name] => catalog_relation(catalog, Some(schema), name, search_path),
        [name] => catalog_relation(catalog, None, name, search_path),
        _ => None,
    };
    found
        .map(|(_, columns)| columns.into_iter().map(|(name, _)| name).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_bound_to_labelled_columns_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::engine::Database::open(dir.path(), Default::default()).unwrap();
        let mut session = db.session("custos", "custos", &[]).unwrap();
        for statement in session
            .parse("CREATE TABLE cards (id int PRIMARY KEY, pan text, note text)")
            .unwrap()
        {
            let prepared = session.prepare(statement, &[]).unwrap();
            session.execute(&prepared, &[]).unwrap();
        }
        session.commit_implicit().unwrap();
        let mut txn = db.storage().begin();
        let catalog = txn.catalog_mut();
        let schema = catalog.schema_by_name("public").unwrap().oid;
        let table = catalog.table_by_name(schema, "cards").unwrap().oid;
        catalog
            .security_labels
            .push(storage::catalog::SecurityLabelDef {
                provider: "anon".into(),
                object_kind: "column".into(),
                object: table,
                column: 2,
                label: "MASKED WITH VALUE 'x'".into(),
            });
        txn.commit().unwrap();
        let catalog = db.storage().catalog();
        let path = vec!["public".to_string()];
        let found = |sql: &str| {
            let statement = crate::parse::parse_statements(sql).unwrap().remove(0);
            labelled_parameters(&statement.ast, &catalog, &path)
        };
        assert_eq!(
            found("INSERT INTO cards (id, pan) VALUES ($1, $2)"),
            vec![1]
        );
        assert_eq!(
            found("INSERT INTO cards VALUES ($1, $2, $3), ($4, $5, $6)"),
            vec![1, 4]
        );
        assert_eq!(found("UPDATE cards SET note = $1 WHERE pan = $2"), vec![1]);
        assert_eq!(
            found("UPDATE public.cards SET pan = $1 WHERE id = $2"),
            vec![0]
        );
        assert!(found("INSERT INTO cards (id, note) VALUES ($1, $2)").is_empty());
    }

    #[test]
    fn card_numbers_and_emails_leave_statement_text() {
        assert_eq!(
            redact_statement("INSERT INTO p VALUES ('4111 1111 1111 1111', 'it''s', 42)"),
            "INSERT INTO p VALUES ('<redacted>', 'it''s', 42)"
        );
        assert_eq!(
            redact_statement("SELECT * FROM c WHERE email = 'ann@example.com'"),
            "SELECT * FROM c WHERE email = '<redacted>'"
        );
        assert_eq!(
            redact_statement("SELECT 4111111111111111, t1.x FROM t1"),
            "SELECT <redacted>, t1.x FROM t1"
        );
        // Luhn-invalid: not a card.
        assert_eq!(
            redact_statement("SELECT '4111111111111112'"),
            "SELECT '4111111111111112'"
        );
        assert_eq!(
            redact_statement("CREATE ROLE r LOGIN PASSWORD 'secret pw'"),
            "CREATE ROLE r LOGIN PASSWORD '<redacted>'"
        );
        assert_eq!(
            redact_statement("ALTER ROLE r WITH ENCRYPTED password\n 'x''y'"),
            "ALTER ROLE r WITH ENCRYPTED password\n '<redacted>'"
        );
        // Arithmetic in literals and text ("1+1") ends (the digit-run scan steps over `+`).
        assert_eq!(
            redact_statement("SELECT '1+1', 'a+2 (3'"),
            "SELECT '1+1', 'a+2 (3'"
        );
        assert!(!crate::rag::safety::pii::has_phone_number(
            "x+4155550123 a(555)"
        ));
        // Unterminated literal: no panic.
        assert_eq!(redact_statement("SELECT 'abc"), "SELECT 'abc");
    }
}
