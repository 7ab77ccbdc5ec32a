//! Stored expressions printed back as PostgreSQL prints them: what `pg_get_expr`,
//! `pg_get_constraintdef` and `pg_get_indexdef` show for column defaults, generated columns,
//! CHECK constraints and index expressions and predicates (psql's `\d`, SQLAlchemy's
//! reflection and every tool that reads these back expect PostgreSQL's exact text).
//!
//! The catalog keeps these expressions as the SQL text the user wrote. PostgreSQL keeps the
//! analysed node tree instead and prints it with ruleutils.c, which is why `CHECK (amount >
//! 0)` on a numeric column comes back as `CHECK ((amount > (0)::numeric))`. This module
//! reproduces both halves: `analyze` (with `forms` and `coerce`) turns the text into the node
//! tree PostgreSQL would have stored (`node`: types resolved, implicit coercions inserted,
//! the grammar's rewrites of BETWEEN, IN, LIKE applied), and `print` (with `constants`)
//! prints that tree as `get_rule_expr` does, in the plain and the pretty mode.
//!
//! Contract: [`expression`] returns `None` when the text does not parse, names something that
//! is not a column of the relation, or uses a construct the analysis does not model
//! (subqueries, ordering comparisons of rows, collations, parameters); callers then show the
//! stored text, as custos did before. The result depends on nothing but the catalog, the text
//! and the session's output format (time zone, DateStyle: constants are printed with their
//! type's output function, as PostgreSQL does).

mod analyze;
mod coerce;
mod constants;
mod forms;
mod node;
mod print;
#[cfg(test)]
mod tests;

use sqlparser::ast;
use storage::catalog::{Catalog, ColumnDef, TableDef};

use crate::error::SqlError;
use crate::pgtype::SqlType;
use crate::types::SessionFormat;
use analyze::Analyzer;
use node::{CastForm, Node};
use print::Printer;

/// What deparsing reads besides the expression: the catalog (functions, relations named
/// by `regclass` constants) and the session's output format for constants.
pub struct DeparseCtx<'a> {
    pub catalog: &'a Catalog,
    pub format: &'a SessionFormat,
}

/// What the expression was coerced to when it was stored.
#[derive(Clone, Copy)]
pub enum Target<'a> {
    /// Nothing: index expressions and predicates.
    Nothing,
    /// `boolean`: CHECK constraints.
    Boolean,
    /// The column's type, by assignment: defaults and generation expressions.
    Column(&'a SqlType),
}

/// A printed expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deparsed {
    pub text: String,
    /// Whether it prints as a function call (`pg_get_indexdef` then adds no parentheses).
    pub looks_like_function: bool,
}

/// Why an expression could not be analysed (callers fall back to the stored text).
#[derive(Debug, Clone)]
pub struct Unsupported(pub String);

impl Unsupported {
    pub(crate) fn new(reason: impl Into<String>) -> Unsupported {
        Unsupported(reason.into())
    }
}

impl From<SqlError> for Unsupported {
    fn from(e: SqlError) -> Unsupported {
        Unsupported(e.message)
    }
}

/// The live columns of `table` with their types: what its expressions can name.
pub fn columns_of(table: &TableDef) -> Vec<(String, SqlType)> {
    table
        .live_columns()
        .map(|c| (c.name.clone(), SqlType::from_data_type(&c.data_type)))
        .collect()
}

/// The comma-separated expressions of `text` (one for a single expression).
fn parse_list(text: &str) -> Option<Vec<ast::Expr>> {
    let statement = crate::parse::parse_one(&format!("SELECT {text}")).ok()?;
    let ast::Statement::Query(query) = statement else {
        return None;
    };
    let ast::SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    if select.from.is_empty() && select.selection.is_none() {
        select
            .projection
            .iter()
            .map(|item| match item {
                ast::SelectItem::UnnamedExpr(e) => Some(e.clone()),
                _ => None,
            })
            .collect()
    } else {
        None
    }
}

fn analyse(
    ctx: &DeparseCtx,
    columns: &[(String, SqlType)],
    e: &ast::Expr,
    target: Target,
) -> Result<Node, Unsupported> {
    let analyzer = Analyzer::new(ctx, columns);
    let node = analyzer.expr(e)?;
    match target {
        Target::Nothing => Ok(node),
        Target::Boolean => analyzer.boolean(node),
        Target::Column(ty) => analyzer.coerce(node, ty, CastForm::Implicit),
    }
}

fn print(node: &Node, pretty: bool) -> String {
    let mut printer = Printer::new(pretty);
    printer.expr(node, false);
    printer.finish()
}

/// One stored expression over `columns` (see [`columns_of`]) as PostgreSQL prints it
/// (`pg_get_expr`), `None` when it cannot be analysed.
pub fn expression(
    ctx: &DeparseCtx,
    columns: &[(String, SqlType)],
    text: &str,
    target: Target,
    pretty: bool,
) -> Option<Deparsed> {
    let parsed = parse_list(text)?;
    let [e] = parsed.as_slice() else {
        return None;
    };
    let node = analyse(ctx, columns, e, target).ok()?;
    Some(Deparsed {
        text: print(&node, pretty),
        looks_like_function: node.looks_like_function(),
    })
}

/// Comma-separated stored expressions (`pg_index.indexprs`) printed as PostgreSQL prints a
/// list of them.
pub fn expression_list(
    ctx: &DeparseCtx,
    columns: &[(String, SqlType)],
    text: &str,
    pretty: bool,
) -> Option<String> {
    let printed: Option<Vec<String>> = parse_list(text)?
        .iter()
        .map(|e| {
            analyse(ctx, columns, e, Target::Nothing)
                .ok()
                .map(|n| print(&n, pretty))
        })
        .collect();
    Some(printed?.join(", "))
}

/// A default or generation expression of `column` as `pg_get_expr(adbin, adrelid, pretty)`
/// prints it; the stored text when it cannot be analysed.
pub fn column_expression(
    ctx: &DeparseCtx,
    table: &TableDef,
    column: &ColumnDef,
    text: &str,
    pretty: bool,
) -> String {
    let ty = SqlType::from_data_type(&column.data_type);
    expression(ctx, &columns_of(table), text, Target::Column(&ty), pretty)
        .map_or_else(|| text.to_string(), |d| d.text)
}

/// The expression `pg_attrdef` holds for `column`: its generation expression, else its
/// default, except a default that is just a NULL constant, for which PostgreSQL stores no
/// row at all (`DEFAULT NULL` is the same as no default).
pub fn attrdef_expression<'a>(
    catalog: &Catalog,
    table: &TableDef,
    column: &'a ColumnDef,
) -> Option<&'a str> {
    if let Some(generated) = &column.generated {
        return Some(generated);
    }
    let default = column.default.as_deref()?;
    if !default.to_ascii_lowercase().contains("null") {
        return Some(default);
    }
    let format = SessionFormat::default();
    let ctx = DeparseCtx {
        catalog,
        format: &format,
    };
    let ty = SqlType::from_data_type(&column.data_type);
    let analysed = parse_list(default).and_then(|parsed| match parsed.as_slice() {
        [e] => analyse(&ctx, &columns_of(table), e, Target::Column(&ty)).ok(),
        _ => None,
    });
    match analysed {
        Some(Node::Const { text: None, .. }) => None,
        _ => Some(default),
    }
}
