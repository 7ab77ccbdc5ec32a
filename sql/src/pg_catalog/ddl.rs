//! The SQL text the catalog functions print back: `pg_get_indexdef`,
//! `pg_get_constraintdef`, `pg_get_viewdef`, `pg_get_functiondef` and the function
//! signature helpers, in PostgreSQL 16's layout (what psql shows and SQLAlchemy parses).
//!
//! Expressions (CHECK clauses, index expressions and predicates) are the SQL text the
//! catalog keeps, printed through [`crate::deparse`] as PostgreSQL prints its node trees
//! (`CHECK ((amount > (0)::numeric))`). An expression the deparser does not model comes
//! back as written, wrapped in the parentheses PostgreSQL adds where it adds them.

use storage::catalog::{Catalog, ConstraintKind, FunctionDef, TableDef};

use super::access_tables::{access_method_name, is_default_opclass, opclass_name};
use super::class_tables::{index_am, index_key_column, index_keys};
use super::constraint_tables::index_opclasses;
use super::ident::quote_identifier;
use super::names::{qualified_relation_name, relation_name};
use super::proc_tables::{user_is_security_definer, user_is_strict, user_volatility};
use super::procs::{builtin_proc, param_type_oid, proc_namespace_name, result_type_oid};
use super::types::type_name;
use crate::deparse::{self, columns_of, DeparseCtx, Deparsed, Target};
use crate::func::Implementation;
use crate::pgtype::SqlType;
use storage::catalog::ReferentialAction;

/// Whether `text` is one parenthesised group from end to end (`(a > 0)`, not `(a) + (b)`).
fn fully_parenthesized(text: &str) -> bool {
    let text = text.trim();
    if !text.starts_with('(') || !text.ends_with(')') {
        return false;
    }
    let mut depth = 0i32;
    let mut in_string = false;
    for (i, c) in text.char_indices() {
        match c {
            '\'' => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string => {
                depth -= 1;
                if depth == 0 && i != text.len() - 1 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

/// `text` wrapped in parentheses unless it already is.
fn parenthesize(text: &str) -> String {
    if fully_parenthesized(text) {
        text.trim().to_string()
    } else {
        format!("({})", text.trim())
    }
}

/// Whether an index expression is a bare function call (`lower(name)`), which PostgreSQL
/// prints without the extra parentheses it puts around other expressions.
fn looks_like_function(text: &str) -> bool {
    let text = text.trim();
    match text.find('(') {
        Some(open) if open > 0 => {
            text[..open]
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == '"')
                && fully_parenthesized(&text[open..])
        }
        _ => false,
    }
}

/// A reloption value as `flatten_reloptions` prints it: bare when it is an identifier that
/// needs no quotes, else a quoted literal (`m='16'`).
fn option_value(value: &str) -> String {
    if quote_identifier(value) == value {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', "''"))
    }
}

/// An index key expression as `pg_get_indexdef` prints it: bare when it prints as a function
/// call, else in parentheses.
fn index_key_expression(
    ctx: &DeparseCtx,
    columns: &[(String, SqlType)],
    expression: &str,
    pretty: bool,
) -> String {
    match deparse::expression(ctx, columns, expression, Target::Nothing, pretty) {
        Some(Deparsed {
            text,
            looks_like_function: true,
        }) => text,
        Some(Deparsed { text, .. }) => format!("({text})"),
        None if looks_like_function(expression) => expression.trim().to_string(),
        None => parenthesize(expression),
    }
}

/// `pg_get_indexdef(index, column, pretty)`: the whole `CREATE INDEX` for column 0, else
/// the key column's name or expression (empty past the last key).
pub fn index_definition(
    ctx: &DeparseCtx,
    index_oid: u32,
    column: i32,
    pretty: bool,
) -> Option<String> {
    let catalog = ctx.catalog;
    let index = catalog.indexes.get(&index_oid)?;
    let columns = catalog
        .tables
        .get(&index.table)
        .map(columns_of)
        .unwrap_or_default();
    let keys = index_keys(index);
    if column > 0 {
        let position = usize::try_from(column - 1).ok()?;
        let Some(key) = keys.get(position) else {
            return Some(String::new());
        };
        return Some(match key.expression {
            Some(expression) => index_key_expression(ctx, &columns, expression, pretty),
            None => quote_identifier(&index_key_column(catalog, index, key, position).0),
        });
    }
    let opclasses = index_opclasses(catalog, index);
    let mut key_texts = Vec::new();
    for (position, key) in keys.iter().enumerate() {
        let (column_name, sql_type) = index_key_column(catalog, index, key, position);
        let mut text = match key.expression {
            Some(expression) => index_key_expression(ctx, &columns, expression, pretty),
            None => quote_identifier(&column_name),
        };
        let opclass = opclasses.get(position).copied().unwrap_or(0);
        let column_type = sql_type.map_or(0, |t| t.oid());
        if opclass != 0 && !is_default_opclass(opclass, column_type) {
            if let Some(name) = opclass_name(opclass) {
                text.push(' ');
                text.push_str(name);
            }
        }
        key_texts.push(text);
    }
    // Pretty output (PRETTYFLAG_SCHEMA) qualifies the table only when it is not visible.
    let table_name = if pretty {
        relation_name(catalog, index.table)?
    } else {
        qualified_relation_name(catalog, index.table)?
    };
    let mut definition = format!(
        "CREATE {}INDEX {} ON {} USING {} ({})",
        if index.unique { "UNIQUE " } else { "" },
        quote_identifier(&index.name),
        table_name,
        access_method_name(index_am(&index.method)).unwrap_or("btree"),
        key_texts.join(", ")
    );
    if !index.options.is_empty() {
        let options: Vec<String> = index
            .options
            .iter()
            .map(|(k, v)| format!("{}={}", quote_identifier(k), option_value(v)))
            .collect();
        definition.push_str(&format!(" WITH ({})", options.join(", ")));
    }
    if let Some(predicate) = &index.predicate {
        let predicate = match deparse::expression(ctx, &columns, predicate, Target::Boolean, pretty)
        {
            Some(deparsed) => deparsed.text,
            None if pretty => predicate.trim().to_string(),
            None => parenthesize(predicate),
        };
        definition.push_str(&format!(" WHERE {predicate}"));
    }
    Some(definition)
}

fn column_list(table: &TableDef, columns: &[u16]) -> String {
    columns
        .iter()
        .map(|attnum| {
            table
                .column(*attnum)
                .map_or_else(|| format!("{attnum}"), |c| quote_identifier(&c.name))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn action_text(action: ReferentialAction) -> Option<&'static str> {
    match action {
        ReferentialAction::NoAction => None,
        ReferentialAction::Restrict => Some("RESTRICT"),
        ReferentialAction::Cascade => Some("CASCADE"),
        ReferentialAction::SetNull => Some("SET NULL"),
        ReferentialAction::SetDefault => Some("SET DEFAULT"),
    }
}

/// `pg_get_constraintdef(constraint, pretty)`.
pub fn constraint_definition(
    ctx: &DeparseCtx,
    constraint_oid: u32,
    pretty: bool,
) -> Option<String> {
    let catalog = ctx.catalog;
    let (table, constraint) = catalog.tables.values().find_map(|t| {
        t.constraints
            .iter()
            .find(|c| c.oid == constraint_oid)
            .map(|c| (t, c))
    })?;
    Some(match &constraint.kind {
        ConstraintKind::PrimaryKey { columns, .. } => {
            format!("PRIMARY KEY ({})", column_list(table, columns))
        }
        ConstraintKind::Unique { columns, .. } => {
            format!("UNIQUE ({})", column_list(table, columns))
        }
        ConstraintKind::Check { expression } => {
            let columns = columns_of(table);
            match deparse::expression(ctx, &columns, expression, Target::Boolean, pretty) {
                Some(deparsed) => format!("CHECK ({})", deparsed.text),
                None if pretty => format!("CHECK ({})", expression.trim()),
                None => format!("CHECK ({})", parenthesize(expression)),
            }
        }
        ConstraintKind::ForeignKey {
            columns,
            referenced_table,
            referenced_columns,
            on_delete,
            on_update,
        } => {
            let referenced = catalog.tables.get(referenced_table)?;
            let mut text = format!(
                "FOREIGN KEY ({}) REFERENCES {}({})",
                column_list(table, columns),
                relation_name(catalog, *referenced_table)?,
                column_list(referenced, referenced_columns)
            );
            if let Some(action) = action_text(*on_update) {
                text.push_str(&format!(" ON UPDATE {action}"));
            }
            if let Some(action) = action_text(*on_delete) {
                text.push_str(&format!(" ON DELETE {action}"));
            }
            text
        }
    })
}

/// `pg_get_viewdef(view)`: the view's query, as PostgreSQL prints it (leading space,
/// trailing semicolon).
pub fn view_definition(catalog: &Catalog, view_oid: u32) -> Option<String> {
    let view = catalog.views.get(&view_oid)?;
    Some(format!(
        " {};",
        view.query.trim().trim_end_matches(';').trim_end()
    ))
}

fn user_function(catalog: &Catalog, oid: u32) -> Option<&FunctionDef> {
    catalog.functions.get(&oid)
}

fn format_oid(type_oid: u32) -> String {
    type_name(type_oid).unwrap_or_else(|| "???".to_string())
}

/// `pg_get_function_arguments` / `pg_get_function_identity_arguments` (custos keeps no
/// argument defaults, so both are the same).
pub fn function_arguments(catalog: &Catalog, oid: u32) -> Option<String> {
    if let Some(f) = user_function(catalog, oid) {
        let args: Vec<String> = f
            .arguments
            .iter()
            .map(|(name, t)| {
                let t = SqlType::from_data_type(t).display_name();
                if name.is_empty() {
                    t
                } else {
                    format!("{} {t}", quote_identifier(name))
                }
            })
            .collect();
        return Some(args.join(", "));
    }
    let p = builtin_proc(oid)?;
    let mut args: Vec<String> = p
        .overload
        .params
        .iter()
        .map(|param| format_oid(param_type_oid(param)))
        .collect();
    if p.overload.variadic {
        if let Some(last) = args.last_mut() {
            *last = format!("VARIADIC {last}[]");
        }
    }
    Some(args.join(", "))
}

/// `pg_get_function_result`.
pub fn function_result(catalog: &Catalog, oid: u32) -> Option<String> {
    if let Some(f) = user_function(catalog, oid) {
        let result = f.returns.as_ref().map_or_else(
            || "void".to_string(),
            |t| SqlType::from_data_type(t).display_name(),
        );
        return Some(if f.returns_set {
            format!("SETOF {result}")
        } else {
            result
        });
    }
    let p = builtin_proc(oid)?;
    let result = format_oid(result_type_oid(p.overload));
    Some(match p.overload.implementation {
        Implementation::Set { .. } => format!("SETOF {result}"),
        Implementation::Scalar(_) => result,
    })
}

/// `pg_get_functiondef`: the `CREATE OR REPLACE FUNCTION` of a user function.
pub fn function_definition(catalog: &Catalog, oid: u32) -> Option<String> {
    let f = user_function(catalog, oid)?;
    let schema = proc_namespace_name(catalog, oid)?;
    let mut text = format!(
        "CREATE OR REPLACE FUNCTION {}.{}({})\n RETURNS {}\n LANGUAGE {}\n",
        quote_identifier(&schema),
        quote_identifier(&f.name),
        function_arguments(catalog, oid)?,
        function_result(catalog, oid)?,
        f.language.to_ascii_lowercase()
    );
    let mut flags = Vec::new();
    match user_volatility(f) {
        'i' => flags.push("IMMUTABLE"),
        's' => flags.push("STABLE"),
        _ => {}
    }
    if user_is_strict(f) {
        flags.push("STRICT");
    }
    if user_is_security_definer(f) {
        flags.push("SECURITY DEFINER");
    }
    if !flags.is_empty() {
        text.push_str(&format!(" {}\n", flags.join(" ")));
    }
    text.push_str(&format!("AS $function${}$function$\n", f.body));
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parentheses_are_added_only_when_missing() {
        assert_eq!(parenthesize("a > 0"), "(a > 0)");
        assert_eq!(parenthesize("(a > 0)"), "(a > 0)");
        assert_eq!(parenthesize("(a) + (b)"), "((a) + (b))");
        assert!(looks_like_function("lower(name)"));
        assert!(!looks_like_function("a + b"));
        assert!(!looks_like_function("f(a) + g(b)"));
    }

    #[test]
    fn reloption_values_are_quoted_unless_identifiers() {
        assert_eq!(option_value("16"), "'16'");
        assert_eq!(option_value("off"), "off");
        assert_eq!(option_value("on"), "'on'");
        assert_eq!(option_value("it's"), "'it''s'");
    }
}
