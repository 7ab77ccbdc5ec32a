//! Constants: how the parser types a literal (`42` is `integer`, `3000000000` `bigint`,
//! `1.5` `numeric`, `'x'` unknown until context decides), the text a constant of a given type
//! holds (its type's input then output function, so `'1 hour'::interval` holds `01:00:00`),
//! and how ruleutils prints it (`get_const_expr`): bare for non-negative integers,
//! float-looking numerics and booleans, else quoted with a `::type` label.

use sqlparser::ast::Value as AstValue;

use super::node::Node;
use super::{DeparseCtx, Unsupported};
use crate::pg_catalog::names::{default_search_path, relation_name};
use crate::pg_catalog::{format_type, relation_oid};
use crate::pgtype::{SqlType, NUMERIC};
use crate::types::{format_text, parse_text};

/// Whether the label of a constant is printed: never (the argument of a cast to its own
/// type), or when the constant would not read back as its type (`showtype` 0).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Label {
    Never,
    WhenNeeded,
}

/// A literal as the parser types it.
pub(super) fn literal(ctx: &DeparseCtx, value: &AstValue) -> Result<Node, Unsupported> {
    Ok(match value {
        AstValue::Number(digits, _) => number(ctx, digits)?,
        AstValue::SingleQuotedString(s)
        | AstValue::EscapedStringLiteral(s)
        | AstValue::UnicodeStringLiteral(s)
        | AstValue::TripleSingleQuotedString(s) => Node::Const {
            text: Some(s.clone()),
            ty: SqlType::Unknown,
        },
        AstValue::DollarQuotedString(d) => Node::Const {
            text: Some(d.value.clone()),
            ty: SqlType::Unknown,
        },
        AstValue::Boolean(b) => Node::Const {
            text: Some(if *b { "t" } else { "f" }.to_string()),
            ty: SqlType::Bool,
        },
        AstValue::Null => Node::Const {
            text: None,
            ty: SqlType::Unknown,
        },
        other => return Err(Unsupported::new(format!("literal {other}"))),
    })
}

/// A numeric literal (possibly with a folded minus sign): `integer` when it fits, then
/// `bigint` for integers, else `numeric`.
pub(super) fn number(ctx: &DeparseCtx, digits: &str) -> Result<Node, Unsupported> {
    if let Ok(i) = digits.parse::<i32>() {
        return Ok(Node::Const {
            text: Some(i.to_string()),
            ty: SqlType::Int4,
        });
    }
    if let Ok(i) = digits.parse::<i64>() {
        return Ok(Node::Const {
            text: Some(i.to_string()),
            ty: SqlType::Int8,
        });
    }
    let value = parse_text(&NUMERIC.representation(), digits, ctx.format)
        .map_err(|_| Unsupported::new(format!("number {digits}")))?;
    Ok(Node::Const {
        text: Some(format_text(&value, &NUMERIC.representation(), ctx.format)),
        ty: NUMERIC,
    })
}

/// The text a constant of type `ty` holds when `text` is read by the type's input function:
/// its output form. Text that the input function refuses is kept as written.
pub(super) fn canonical(ctx: &DeparseCtx, text: &str, ty: &SqlType) -> String {
    match ty {
        SqlType::Text
        | SqlType::Varchar(_)
        | SqlType::Char(_)
        | SqlType::Name
        | SqlType::InternalChar
        | SqlType::Unknown
        | SqlType::Json => text.to_string(),
        SqlType::RegClass => regclass(ctx, text).unwrap_or_else(|| text.to_string()),
        SqlType::Oid
        | SqlType::RegType
        | SqlType::RegProc
        | SqlType::RegProcedure
        | SqlType::RegNamespace
        | SqlType::RegRole => text.to_string(),
        other => {
            let representation = other.without_modifier().representation();
            match parse_text(&representation, text, ctx.format) {
                Ok(value) => format_text(&value, &representation, ctx.format),
                Err(_) => text.to_string(),
            }
        }
    }
}

/// `regclass` input then output: the relation's name, qualified only when needed.
fn regclass(ctx: &DeparseCtx, text: &str) -> Option<String> {
    let parts = crate::pg_catalog::ident::parse_qualified_name(text)?;
    let oid = match parts.as_slice() {
        [name] => relation_oid(ctx.catalog, None, name, &default_search_path())?,
        [schema, name] => relation_oid(ctx.catalog, Some(schema), name, &[])?,
        _ => return None,
    };
    relation_name(ctx.catalog, oid)
}

/// `'text'` with quotes doubled (`simple_quote_literal` with standard-conforming strings).
fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A type name as `format_type_with_typemod` prints it.
pub(super) fn type_label(ty: &SqlType) -> String {
    format_type(ty.oid(), Some(ty.typmod())).unwrap_or_else(|| ty.display_name())
}

/// A constant as ruleutils' `get_const_expr` prints it.
pub(super) fn print(text: Option<&str>, ty: &SqlType, label: Label) -> String {
    let Some(text) = text else {
        return match label {
            Label::Never => "NULL".to_string(),
            Label::WhenNeeded => format!("NULL::{}", type_label(ty)),
        };
    };
    let (mut out, needs_label) = match ty {
        SqlType::Int4 if !text.starts_with('-') => (text.to_string(), false),
        SqlType::Int4 => (quote_literal(text), true),
        SqlType::Numeric { .. } => {
            let float_looking =
                text.starts_with(|c: char| c.is_ascii_digit()) && text.contains(['e', 'E', '.']);
            if float_looking {
                (text.to_string(), ty.typmod() >= 0)
            } else {
                (quote_literal(text), true)
            }
        }
        SqlType::Bool => {
            let truth = matches!(text, "t" | "true");
            (if truth { "true" } else { "false" }.to_string(), false)
        }
        SqlType::Unknown => (quote_literal(text), false),
        _ => (quote_literal(text), true),
    };
    if label == Label::WhenNeeded && needs_label {
        out.push_str("::");
        out.push_str(&type_label(ty));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_print_as_get_const_expr() {
        let p = |text: &str, ty: SqlType| print(Some(text), &ty, Label::WhenNeeded);
        assert_eq!(p("0", SqlType::Int4), "0");
        assert_eq!(p("-1", SqlType::Int4), "'-1'::integer");
        assert_eq!(p("1.50", NUMERIC), "1.50");
        assert_eq!(p("1000", NUMERIC), "'1000'::numeric");
        assert_eq!(p("-1.5", NUMERIC), "'-1.5'::numeric");
        assert_eq!(p("3000000000", SqlType::Int8), "'3000000000'::bigint");
        assert_eq!(p("t", SqlType::Bool), "true");
        assert_eq!(p("it's", SqlType::Text), "'it''s'::text");
        assert_eq!(p("x", SqlType::Char(None)), "'x'::bpchar");
        assert_eq!(p("x", SqlType::Varchar(None)), "'x'::character varying");
        assert_eq!(
            p("{1,2}", SqlType::Array(Box::new(SqlType::Int4))),
            "'{1,2}'::integer[]"
        );
        assert_eq!(print(None, &SqlType::Text, Label::WhenNeeded), "NULL::text");
        assert_eq!(print(Some("x"), &SqlType::Text, Label::Never), "'x'");
    }
}
