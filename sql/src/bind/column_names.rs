//! The names PostgreSQL gives unaliased select items (`FigureColname`): a column's or a
//! function's name, a cast's type name, `case`, `exists`, `array`, ... and `?column?` when
//! nothing names the expression.

use sqlparser::ast::{self, SelectItem, SetExpr};

use super::ident_name;
use crate::pgtype::SqlType;

/// The output name PostgreSQL gives an unaliased select item (`FigureColname`).
pub(super) fn output_name(e: &ast::Expr) -> String {
    figure_name(e)
        .map(|(n, _)| n)
        .unwrap_or_else(|| "?column?".into())
}

/// A name and its strength: 2 for column and function names, 1 for type names of casts,
/// as PostgreSQL ranks them.
fn figure_name(e: &ast::Expr) -> Option<(String, u8)> {
    use ast::Expr as E;
    let strong = |s: &str| Some((s.to_string(), 2));
    match e {
        E::Identifier(i) => Some((ident_name(i), 2)),
        E::CompoundIdentifier(parts) => parts.last().map(|p| (ident_name(p), 2)),
        E::Function(f) => super::object_name_parts(&f.name)
            .last()
            .map(|n| (n.clone(), 2)),
        E::Cast {
            expr, data_type, ..
        } => match figure_name(expr) {
            Some((n, 2)) => Some((n, 2)),
            _ => super::types::sql_type(data_type)
                .ok()
                .map(|t| (cast_type_name(&t, data_type), 1)),
        },
        E::Nested(inner) => figure_name(inner),
        E::Case { else_result, .. } => match else_result.as_deref().and_then(figure_name) {
            Some((n, 2)) => Some((n, 2)),
            _ => strong("case"),
        },
        E::Exists { .. } => strong("exists"),
        E::Array(_) => strong("array"),
        E::Subquery(q) => match q.body.as_ref() {
            SetExpr::Select(s) => match s.projection.first() {
                Some(SelectItem::UnnamedExpr(x)) => figure_name(x),
                Some(SelectItem::ExprWithAlias { alias, .. }) => Some((ident_name(alias), 2)),
                _ => None,
            },
            _ => None,
        },
        E::Extract { .. } => strong("extract"),
        E::Substring { shorthand, .. } => strong(if *shorthand { "substr" } else { "substring" }),
        E::Position { .. } => strong("position"),
        E::Trim { trim_where, .. } => strong(match trim_where {
            Some(ast::TrimWhereField::Leading) => "ltrim",
            Some(ast::TrimWhereField::Trailing) => "rtrim",
            _ => "btrim",
        }),
        E::Ceil { .. } => strong("ceil"),
        E::Floor { .. } => strong("floor"),
        E::Overlay { .. } => strong("overlay"),
        E::TypedString(ts) => super::types::sql_type(&ts.data_type)
            .ok()
            .map(|t| (cast_type_name(&t, &ts.data_type), 1)),
        E::Interval(_) => Some(("interval".into(), 1)),
        E::CompoundFieldAccess { root, .. } => figure_name(root),
        E::AtTimeZone { .. } => strong("timezone"),
        E::Tuple(_) => strong("row"),
        E::BinaryOp {
            op: ast::BinaryOperator::Overlaps,
            ..
        } => strong("overlaps"),
        E::IsNull(_) | E::IsNotNull(_) | E::IsTrue(_) | E::IsFalse(_) => None,
        _ => None,
    }
}

/// The type name a cast contributes to a column name (`int4`, `varchar`, `bpchar`...).
fn cast_type_name(t: &SqlType, _written: &ast::DataType) -> String {
    match t {
        SqlType::Array(e) => cast_type_name(e, _written),
        other => other.internal_name(),
    }
}
