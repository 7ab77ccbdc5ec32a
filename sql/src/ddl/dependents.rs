//! What depends on a table or column that DDL changes, when the catalog keeps the dependent
//! as SQL text rather than as references by OID: views, CHECK and generation expressions,
//! index expressions and predicates, row-security policies.
//!
//! Views are checked by binding them before and after a change: a view whose result (its
//! column types) no longer binds, or binds differently, depended on what changed. Renames
//! rewrite the identifier in the stored text (token by token, so strings and comments are
//! untouched) and keep the rewrite only when the view then binds as before.

use std::collections::BTreeMap;

use sqlparser::tokenizer::Token;
use storage::catalog::Oid;

use super::sqltext::{folded, next_significant, rewrite_tokens};
use super::table::quote_ident;
use crate::engine::Session;
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;

/// Output column types of every view as it binds now (`None`: it does not bind).
pub type ViewShapes = BTreeMap<Oid, Option<Vec<SqlType>>>;

/// Binds the query text of a view in a context of its own.
pub fn bind_view_text(session: &Session, query: &str) -> Option<Vec<SqlType>> {
    let statement = crate::parse::parse_one(query).ok()?;
    let sqlparser::ast::Statement::Query(q) = statement else {
        return None;
    };
    session
        .with_binder(Vec::new(), |b| b.bind_query(&q))
        .ok()
        .map(|(_, columns)| columns.into_iter().map(|c| c.sql_type).collect())
}

pub fn view_shapes(session: &Session) -> ViewShapes {
    let catalog = session.catalog();
    catalog
        .views
        .values()
        .map(|v| (v.oid, bind_view_text(session, &v.query)))
        .collect()
}

/// Views that bound before (`before`) and bind differently now, with their names.
pub fn changed_views(session: &Session, before: &ViewShapes) -> Vec<(Oid, String)> {
    let catalog = session.catalog();
    let mut out = Vec::new();
    for v in catalog.views.values() {
        let Some(Some(shape)) = before.get(&v.oid) else {
            continue;
        };
        if bind_view_text(session, &v.query).as_ref() != Some(shape) {
            out.push((v.oid, v.name.clone()));
        }
    }
    out
}

/// After a change that removes something (a table, a column, a view): views that depended on
/// it are dropped with CASCADE (with a notice each, repeatedly, since views read views), or
/// the change is refused with 2BP01. `what` names the removed object (`table t`, `column c
/// of table t`).
pub fn settle_views(
    session: &mut Session,
    before: &ViewShapes,
    cascade: bool,
    what: &str,
) -> SqlResult<()> {
    loop {
        let changed = changed_views(session, before);
        let Some((_, first)) = changed.first() else {
            return Ok(());
        };
        if !cascade {
            let (kind, name) = what.split_once(' ').unwrap_or(("object", what));
            return Err(SqlError::new(
                code::DEPENDENT_OBJECTS_STILL_EXIST,
                format!("cannot drop {kind} {name} because other objects depend on it"),
            )
            .with_detail(format!("view {first} depends on {what}"))
            .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
        }
        for (oid, name) in &changed {
            session.notice(format!("drop cascades to view {name}"));
            let catalog = session.transaction().catalog_mut();
            catalog.views.remove(oid);
            catalog.comments.retain(|c| c.object != *oid);
        }
    }
}

/// After a rename: views that no longer bind as before get the identifier renamed in their
/// text; when that does not make them bind as before, the rename is refused (0A000).
pub fn follow_rename(
    session: &mut Session,
    before: &ViewShapes,
    old: &str,
    new: &str,
) -> SqlResult<()> {
    for (oid, name) in changed_views(session, before) {
        let catalog = session.catalog();
        let Some(view) = catalog.views.get(&oid) else {
            continue;
        };
        let rewritten = rename_identifier(&view.query, old, new);
        let expected = before.get(&oid).cloned().flatten();
        if bind_view_text(session, &rewritten) != expected {
            return Err(SqlError::new(
                code::FEATURE_NOT_SUPPORTED,
                format!("cannot rename \"{old}\": view \"{name}\" depends on it"),
            )
            .with_hint(format!(
                "Drop view \"{name}\" first, and create it again after the rename."
            )));
        }
        if let Some(v) = session.transaction().catalog_mut().views.get_mut(&oid) {
            v.query = rewritten;
        }
    }
    Ok(())
}

/// `text` with every identifier that names `old` (folded as PostgreSQL folds names, not
/// when it is a function name) replaced by `new`; strings, comments and other tokens keep
/// their original text.
pub fn rename_identifier(text: &str, old: &str, new: &str) -> String {
    let renamed = rewrite_tokens(text, |tokens, i| {
        Ok(match &tokens[i].token {
            Token::Word(w)
                if folded(w) == old && next_significant(tokens, i) != Some(&Token::LParen) =>
            {
                Some(quote_ident(new))
            }
            _ => None,
        })
    });
    renamed.unwrap_or_else(|_| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::rename_identifier;

    #[test]
    fn renames_identifiers_but_not_strings_or_functions() {
        assert_eq!(
            rename_identifier("a > 0 AND 'a' <> t.a AND a(1) = \"a\"", "a", "b"),
            "b > 0 AND 'a' <> t.b AND a(1) = b"
        );
        assert_eq!(rename_identifier("x\n  + A", "a", "New"), "x\n  + \"New\"");
    }
}
