//! Binding: names resolved through the search path and the scopes of the query, types
//! assigned (with PostgreSQL's resolution of untyped literals and parameters), functions and
//! operators resolved, and the result turned into a [`crate::plan::Plan`].
//!
//! `expr` binds expressions, with `scalar` (literals, columns, casts, operators), `call`
//! (function calls) and `window` (aggregate and window calls); `query` binds queries (set
//! operations, VALUES, CTEs, LIMIT), `select` one SELECT, `from` its FROM items and joins,
//! `grouping` what follows an aggregation; `types` reads type names.

mod call;
mod column_names;
pub mod expr;
mod from;
mod governance;
mod grouping;
mod mask;
pub mod query;
pub mod rls;
mod scalar;
mod select;
pub mod types;
mod window;

use std::sync::Arc;

use storage::catalog::Catalog;
use storage::types::Value;

use crate::error::{code, SqlError, SqlResult};
use crate::func::FnCtx;
use crate::pgtype::SqlType;
use crate::plan::{Expr, OutputColumn};
use crate::types::SessionFormat;

/// A column visible to expressions: which relation (alias) it belongs to, its name and type.
#[derive(Debug, Clone)]
pub struct ScopeColumn {
    /// The alias or table name that qualifies it (`t` in `t.x`).
    pub qualifier: Option<String>,
    /// The schema of the relation, for `schema.table.column`.
    pub schema: Option<String>,
    pub name: String,
    pub sql_type: SqlType,
    pub table_oid: u32,
    pub attnum: i16,
    /// Hidden from `*` and unqualified lookup (dropped columns, the right side of USING).
    pub hidden: bool,
    /// Reachable only qualified (the joined-away copy of a USING column).
    pub qualified_only: bool,
}

impl ScopeColumn {
    pub fn output(&self) -> OutputColumn {
        OutputColumn {
            name: self.name.clone(),
            sql_type: self.sql_type.clone(),
            table_oid: self.table_oid,
            attnum: self.attnum,
        }
    }
}

/// The columns of the row expressions of one query level are evaluated against.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub columns: Vec<ScopeColumn>,
}

impl Scope {
    pub fn width(&self) -> usize {
        self.columns.len()
    }

    /// Finds `qualifier.name` (or `name`) in this scope.
    pub fn find(
        &self,
        schema: Option<&str>,
        qualifier: Option<&str>,
        name: &str,
    ) -> SqlResult<Option<usize>> {
        let mut found = None;
        for (i, c) in self.columns.iter().enumerate() {
            if c.name != name || (c.hidden && qualifier.is_none()) {
                continue;
            }
            match qualifier {
                Some(q) => {
                    if c.qualifier.as_deref() != Some(q) {
                        continue;
                    }
                    if let Some(s) = schema {
                        if c.schema.as_deref() != Some(s) {
                            continue;
                        }
                    }
                }
                None => {
                    if c.qualified_only {
                        continue;
                    }
                }
            }
            if found.is_some() {
                let shown = match qualifier {
                    Some(q) => format!("{q}.{name}"),
                    None => name.to_string(),
                };
                return Err(SqlError::new(
                    code::AMBIGUOUS_COLUMN,
                    format!("column reference \"{shown}\" is ambiguous"),
                ));
            }
            found = Some(i);
        }
        Ok(found)
    }

    /// Whether some column carries this qualifier (for `t.*` and error messages).
    pub fn has_qualifier(&self, qualifier: &str) -> bool {
        self.columns
            .iter()
            .any(|c| c.qualifier.as_deref() == Some(qualifier))
    }
}

/// A CTE visible by name while binding.
#[derive(Debug, Clone)]
pub struct CteBinding {
    pub name: String,
    pub id: usize,
    pub columns: Vec<OutputColumn>,
}

/// State of binding one statement.
pub struct Binder<'a> {
    pub catalog: Arc<Catalog>,
    /// The committed catalog: the indexes storage maintains (an index created by the
    /// running transaction is filled only when it commits).
    pub index_catalog: Arc<Catalog>,
    pub format: &'a SessionFormat,
    pub user: &'a str,
    pub search_path: Vec<String>,
    /// Parameter types: given by the client or inferred from context.
    pub params: Vec<Option<SqlType>>,
    /// Scopes of the enclosing queries, innermost last.
    pub outer: Vec<Scope>,
    /// CTEs in scope, innermost last.
    pub ctes: Vec<CteBinding>,
    /// Outer references made so far (to tell correlated subqueries).
    pub outer_refs: usize,
    next_id: usize,
    /// Expression nesting depth (to refuse absurdly deep expressions cleanly).
    pub depth: usize,
    pub setting: &'a dyn Fn(&str) -> Option<String>,
    /// The statement's text, for error positions.
    pub sql_text: String,
    /// `WINDOW name AS (...)` definitions of the SELECT being bound.
    pub windows: Vec<(String, sqlparser::ast::WindowSpec)>,
    /// The relations and columns the statement reads and writes, for the privilege stage
    /// ([`crate::acl::check`]).
    pub privileges: crate::acl::check::Required,
    /// Row-level security bookkeeping ([`rls`]).
    pub rls: rls::RlsState,
}

impl<'a> Binder<'a> {
    pub fn new(
        catalog: Arc<Catalog>,
        format: &'a SessionFormat,
        user: &'a str,
        search_path: Vec<String>,
        params: Vec<Option<SqlType>>,
        setting: &'a dyn Fn(&str) -> Option<String>,
    ) -> Binder<'a> {
        Binder {
            index_catalog: catalog.clone(),
            catalog,
            format,
            user,
            search_path,
            params,
            outer: Vec::new(),
            ctes: Vec::new(),
            outer_refs: 0,
            next_id: 0,
            depth: 0,
            setting,
            sql_text: String::new(),
            windows: Vec::new(),
            privileges: Default::default(),
            rls: Default::default(),
        }
    }

    /// Records that the statement reads `column` (for the privilege stage).
    pub fn note_column(&mut self, column: &ScopeColumn) {
        if column.table_oid != 0 && column.attnum > 0 {
            self.privileges.column(column.table_oid, column.attnum);
        }
    }

    pub fn next_id(&mut self) -> usize {
        self.next_id += 1;
        self.next_id
    }

    /// A function context for constant folding at bind time.
    pub fn with_fn_ctx<T>(&self, f: impl FnOnce(&FnCtx) -> T) -> T {
        let ctx = FnCtx {
            format: self.format,
            catalog: &self.catalog,
            user: self.user,
            database: crate::engine::DATABASE_NAME,
            statement_start: self.format.now_micros(),
            setting: self.setting,
            queries: None,
        };
        f(&ctx)
    }

    /// Final parameter types (unresolved ones as `text`, which is what a client sending
    /// strings expects).
    pub fn param_types(&self) -> Vec<SqlType> {
        self.params
            .iter()
            .map(|t| match t {
                Some(SqlType::Unknown) | None => SqlType::Text,
                Some(t) => t.clone(),
            })
            .collect()
    }

    /// Applies `to` to an expression of type `from`: untyped literals are read by the
    /// target's input function now, parameters take the type, others get a cast.
    pub fn coerce(&mut self, expr: Expr, from: &SqlType, to: &SqlType) -> SqlResult<Expr> {
        if matches!(to, SqlType::Any | SqlType::AnyElement | SqlType::AnyArray) {
            return Ok(expr);
        }
        if from == to {
            return Ok(expr);
        }
        match (&expr, from) {
            (Expr::Param(n), SqlType::Unknown) => {
                let n = *n;
                if let Some(slot) = self.params.get_mut(n) {
                    *slot = Some(to.clone());
                }
                return Ok(Expr::Param(n));
            }
            (Expr::Const(Value::Null), _) => return Ok(Expr::Const(Value::Null)),
            (Expr::Const(Value::Text(text)), SqlType::Unknown) => {
                let text = text.clone();
                let value = crate::exec::input_value(&self.catalog, self.format, &text, to)?;
                return Ok(Expr::Const(value));
            }
            _ => {}
        }
        if from.same_type(to) && !has_modifier(to) {
            return Ok(expr);
        }
        Ok(Expr::Cast {
            expr: Box::new(expr),
            from: from.clone(),
            to: to.clone(),
            explicit: false,
        })
    }
}

fn has_modifier(t: &SqlType) -> bool {
    t.typmod() != -1
}

impl Binder<'_> {
    /// Gives `error` the position of `node` in the statement, if it has none yet.
    pub fn locate(&self, mut error: SqlError, node: &impl sqlparser::ast::Spanned) -> SqlError {
        if error.position.is_none() && !self.sql_text.is_empty() {
            let start = node.span().start;
            error.position = crate::parse::char_position(&self.sql_text, start.line, start.column);
        }
        error
    }
}

/// Lower-cases an unquoted identifier, as PostgreSQL folds names.
pub fn ident_name(ident: &sqlparser::ast::Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

/// The parts of an object name, folded.
pub fn object_name_parts(name: &sqlparser::ast::ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|part| match part.as_ident() {
            Some(ident) => ident_name(ident),
            None => part.to_string(),
        })
        .collect()
}

/// Splits `[db.][schema.]name` into (schema, name).
pub fn split_name(name: &sqlparser::ast::ObjectName) -> SqlResult<(Option<String>, String)> {
    let mut parts = object_name_parts(name);
    match parts.len() {
        1 => Ok((None, parts.pop().unwrap_or_default())),
        2 => {
            let n = parts.pop().unwrap_or_default();
            Ok((parts.pop(), n))
        }
        3 => {
            let n = parts.pop().unwrap_or_default();
            let s = parts.pop();
            let db = parts.pop().unwrap_or_default();
            if db != crate::engine::DATABASE_NAME {
                return Err(SqlError::new(
                    code::FEATURE_NOT_SUPPORTED,
                    format!("cross-database references are not implemented: {name}"),
                ));
            }
            Ok((s, n))
        }
        _ => Err(SqlError::syntax(format!(
            "improper qualified name (too many dotted names): {name}"
        ))),
    }
}
