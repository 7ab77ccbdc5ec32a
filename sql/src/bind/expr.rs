//! Expression binding: sqlparser expressions to typed [`Expr`]s. This file holds the
//! recursive descent over the expression tree; the pieces it assembles live in `scalar`
//! (literals, columns, casts, operators), `call` (function calls) and `window` (aggregate and
//! window calls).

use std::sync::Arc;

use sqlparser::ast::{
    self, BinaryOperator, CastKind, DateTimeField, UnaryOperator, Value as AstValue,
};
use storage::types::Value;

use super::types::sql_type;
use super::{ident_name, object_name_parts, Binder, Scope};
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;
use crate::plan::{AggCall, Expr, SortKey, SubqueryKind, WindowCall};

/// Deepest expression nesting bound (past the parser's own limit this never triggers; it
/// guards expressions built programmatically).
const MAX_DEPTH: usize = 1000;

/// Where an expression sits: whether aggregates and window functions may appear, and the
/// calls found so far.
pub struct ExprContext {
    /// The clause, for error messages (`WHERE`, `JOIN conditions`...).
    pub clause: &'static str,
    pub aggs: Option<Vec<(AggCall, SqlType)>>,
    pub windows: Option<Vec<(WindowCall, SqlType)>>,
}

impl ExprContext {
    /// A clause where neither aggregates nor window functions are allowed.
    pub fn plain(clause: &'static str) -> ExprContext {
        ExprContext {
            clause,
            aggs: None,
            windows: None,
        }
    }

    /// The select list, HAVING or ORDER BY of a query: both are collected.
    pub fn collecting(clause: &'static str) -> ExprContext {
        ExprContext {
            clause,
            aggs: Some(Vec::new()),
            windows: Some(Vec::new()),
        }
    }
}

pub type Typed = (Expr, SqlType);

fn bool_required(clause: &str, t: &SqlType) -> SqlError {
    SqlError::new(
        code::DATATYPE_MISMATCH,
        format!(
            "argument of {clause} must be type boolean, not type {}",
            t.display_name()
        ),
    )
}

/// The operator name of a sqlparser binary operator.
fn operator_name(op: &BinaryOperator) -> String {
    match op {
        BinaryOperator::PGCustomBinaryOperator(parts) => parts.last().cloned().unwrap_or_default(),
        BinaryOperator::Spaceship => "<=>".into(),
        BinaryOperator::LtDashGt => "<->".into(),
        BinaryOperator::Custom(s) if s == crate::parse::L1_DISTANCE_MARKER => "<+>".into(),
        BinaryOperator::Custom(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Binder<'_> {
    /// Binds an expression that must be boolean (WHERE, ON, HAVING, CHECK).
    pub fn bind_predicate(
        &mut self,
        e: &ast::Expr,
        scope: &Scope,
        cx: &mut ExprContext,
    ) -> SqlResult<Expr> {
        let (expr, t) = self.bind_expr(e, scope, cx)?;
        self.require_bool(expr, &t, cx.clause)
    }

    pub(super) fn require_bool(
        &mut self,
        expr: Expr,
        t: &SqlType,
        clause: &str,
    ) -> SqlResult<Expr> {
        match t {
            SqlType::Bool => Ok(expr),
            SqlType::Unknown => self.coerce(expr, t, &SqlType::Bool),
            other => Err(bool_required(clause, other)),
        }
    }

    pub fn bind_expr(
        &mut self,
        e: &ast::Expr,
        scope: &Scope,
        cx: &mut ExprContext,
    ) -> SqlResult<Typed> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            return Err(SqlError::new(
                code::STATEMENT_TOO_COMPLEX,
                "stack depth limit exceeded",
            ));
        }
        let result = self.bind_expr_inner(e, scope, cx);
        self.depth -= 1;
        result.map_err(|err| {
            let positioned = matches!(
                err.code,
                code::UNDEFINED_COLUMN | code::UNDEFINED_TABLE | code::INVALID_TEXT_REPRESENTATION
            ) && matches!(
                e,
                ast::Expr::Identifier(_)
                    | ast::Expr::CompoundIdentifier(_)
                    | ast::Expr::Value(_)
                    | ast::Expr::TypedString(_)
            );
            if positioned {
                return self.locate(err, e);
            }
            // An untyped literal that the other operand's type cannot read: PostgreSQL
            // points at the literal.
            if err.code == code::INVALID_TEXT_REPRESENTATION {
                if let ast::Expr::BinaryOp { left, right, .. } = e {
                    for side in [right.as_ref(), left.as_ref()] {
                        if matches!(side, ast::Expr::Value(_)) {
                            return self.locate(err, side);
                        }
                    }
                }
            }
            err
        })
    }

    fn bind_expr_inner(
        &mut self,
        e: &ast::Expr,
        scope: &Scope,
        cx: &mut ExprContext,
    ) -> SqlResult<Typed> {
        use ast::Expr as E;
        match e {
            E::Identifier(ident) => {
                let name = ident_name(ident);
                if ident.quote_style.is_none() {
                    if let Some(t) = self.keyword_function(&name)? {
                        return Ok(t);
                    }
                }
                self.column_ref(None, None, &name, scope)
            }
            E::CompoundIdentifier(parts) => {
                let names: Vec<String> = parts.iter().map(ident_name).collect();
                match names.as_slice() {
                    [q, c] => self.column_ref(None, Some(q), c, scope),
                    [s, q, c] => self.column_ref(Some(s), Some(q), c, scope),
                    [_, s, q, c] => self.column_ref(Some(s), Some(q), c, scope),
                    _ => Err(SqlError::syntax(format!("improper qualified name: {e}"))),
                }
            }
            E::Value(v) => self.literal(&v.value),
            E::TypedString(ts) => {
                let t = sql_type(&ts.data_type)?;
                let text = match &ts.value.value {
                    AstValue::SingleQuotedString(s)
                    | AstValue::EscapedStringLiteral(s)
                    | AstValue::DoubleQuotedString(s) => s.clone(),
                    other => other.to_string(),
                };
                let value = self.input(&text, &t)?;
                Ok((Expr::Const(value), t))
            }
            E::Nested(inner) => self.bind_expr(inner, scope, cx),
            E::Cast {
                kind,
                expr,
                data_type,
                ..
            } => {
                let target = sql_type(data_type)?;
                // `ARRAY[]::int[]`: the cast gives the empty array its type.
                if let (ast::Expr::Array(array), SqlType::Array(_)) = (expr.as_ref(), &target) {
                    if array.elem.is_empty() {
                        let empty =
                            Value::Array(Box::new(storage::types::Array::from_list(vec![])));
                        return Ok((Expr::Const(empty), target));
                    }
                }
                let (inner, from) = self.bind_expr(expr, scope, cx)?;
                if matches!(kind, CastKind::TryCast | CastKind::SafeCast) {
                    return Err(SqlError::unsupported("TRY_CAST"));
                }
                self.explicit_cast(inner, &from, &target)
            }
            E::BinaryOp { left, op, right } => match op {
                BinaryOperator::And | BinaryOperator::Or => {
                    let clause = if *op == BinaryOperator::And {
                        "AND"
                    } else {
                        "OR"
                    };
                    let (l, lt) = self.bind_expr(left, scope, cx)?;
                    let l = self.require_bool(l, &lt, clause)?;
                    let (r, rt) = self.bind_expr(right, scope, cx)?;
                    let r = self.require_bool(r, &rt, clause)?;
                    let combined = if *op == BinaryOperator::And {
                        flatten(Expr::And, l, r, true)
                    } else {
                        flatten(Expr::Or, l, r, false)
                    };
                    Ok((combined, SqlType::Bool))
                }
                BinaryOperator::Overlaps => self.overlaps(left, right, scope, cx),
                _ => {
                    let l = self.bind_expr(left, scope, cx)?;
                    let r = self.bind_expr(right, scope, cx)?;
                    let name = operator_name(op);
                    if let (Expr::Row(a), Expr::Row(b)) = (&l.0, &r.0) {
                        if a.len() == b.len() && !a.is_empty() {
                            return self.row_comparison(&name, &l.1, a.clone(), &r.1, b.clone());
                        }
                    }
                    self.operator(&name, Some(l), r)
                }
            },
            // PostgreSQL's unary minus binds tighter than `^`: -2 ^ 2 is (-2) ^ 2.
            E::UnaryOp {
                op: UnaryOperator::Minus,
                expr,
            } if matches!(
                expr.as_ref(),
                ast::Expr::BinaryOp {
                    op: BinaryOperator::PGExp,
                    ..
                }
            ) =>
            {
                let ast::Expr::BinaryOp { left, right, .. } = expr.as_ref() else {
                    unreachable!("checked by the guard")
                };
                let negated = ast::Expr::UnaryOp {
                    op: UnaryOperator::Minus,
                    expr: left.clone(),
                };
                let l = self.bind_expr(&negated, scope, cx)?;
                let r = self.bind_expr(right, scope, cx)?;
                self.operator("^", Some(l), r)
            }
            E::UnaryOp { op, expr } => {
                let inner = self.bind_expr(expr, scope, cx)?;
                match op {
                    UnaryOperator::Not => {
                        let b = self.require_bool(inner.0, &inner.1, "NOT")?;
                        Ok((Expr::Not(b.boxed()), SqlType::Bool))
                    }
                    UnaryOperator::Minus => {
                        // Fold negative numeric literals so that -2147483648 is an int4.
                        if let ast::Expr::Value(v) = expr.as_ref() {
                            if let AstValue::Number(n, _) = &v.value {
                                return self.literal(&AstValue::Number(format!("-{n}"), false));
                            }
                        }
                        self.operator("-", None, inner)
                    }
                    UnaryOperator::Plus => self.operator("+", None, inner),
                    UnaryOperator::PGSquareRoot => self.operator("|/", None, inner),
                    UnaryOperator::PGCubeRoot => self.operator("||/", None, inner),
                    UnaryOperator::PGAbs => self.operator("@", None, inner),
                    UnaryOperator::BitwiseNot => self.operator("~", None, inner),
                    other => Err(SqlError::unsupported(format!("operator {other}"))),
                }
            }
            E::IsNull(x) => {
                let (x, _) = self.bind_expr(x, scope, cx)?;
                // A row IS NULL when every field is; IS NOT NULL when none is.
                Ok(match x {
                    Expr::Row(fields) => (
                        Expr::And(
                            fields
                                .into_iter()
                                .map(|f| Expr::IsNull(f.boxed()))
                                .collect(),
                        ),
                        SqlType::Bool,
                    ),
                    x => (Expr::IsNull(x.boxed()), SqlType::Bool),
                })
            }
            E::IsNotNull(x) => {
                let (x, _) = self.bind_expr(x, scope, cx)?;
                Ok(match x {
                    Expr::Row(fields) => (
                        Expr::And(
                            fields
                                .into_iter()
                                .map(|f| Expr::IsNotNull(f.boxed()))
                                .collect(),
                        ),
                        SqlType::Bool,
                    ),
                    x => (Expr::IsNotNull(x.boxed()), SqlType::Bool),
                })
            }
            E::IsTrue(x) => self.bool_test(x, Some(true), false, scope, cx),
            E::IsNotTrue(x) => self.bool_test(x, Some(true), true, scope, cx),
            E::IsFalse(x) => self.bool_test(x, Some(false), false, scope, cx),
            E::IsNotFalse(x) => self.bool_test(x, Some(false), true, scope, cx),
            E::IsUnknown(x) => self.bool_test(x, None, false, scope, cx),
            E::IsNotUnknown(x) => self.bool_test(x, None, true, scope, cx),
            E::IsDistinctFrom(a, b) | E::IsNotDistinctFrom(a, b) => {
                let negated = matches!(e, E::IsNotDistinctFrom(..));
                let l = self.bind_expr(a, scope, cx)?;
                let r = self.bind_expr(b, scope, cx)?;
                let (call, _) = self.operator("=", Some(l), r)?;
                let Expr::Call { func, mut args, .. } = call else {
                    return Err(SqlError::internal("equality did not resolve to a call"));
                };
                let right = args.pop().unwrap_or(Expr::Const(Value::Null));
                let left = args.pop().unwrap_or(Expr::Const(Value::Null));
                Ok((
                    Expr::Distinct {
                        left: left.boxed(),
                        right: right.boxed(),
                        eq: func,
                        negated,
                    },
                    SqlType::Bool,
                ))
            }
            E::In {
                expr,
                target,
                negated,
                ..
            } => {
                let result = match target {
                    ast::InTarget::List(list) => {
                        let left = self.bind_expr(expr, scope, cx)?;
                        let mut alternatives = Vec::with_capacity(list.len());
                        for item in list {
                            let right = self.bind_expr(item, scope, cx)?;
                            // `(a, b) IN ((1, 2), (3, 4))`: row comparisons.
                            if let (Expr::Row(a), Expr::Row(b)) = (&left.0, &right.0) {
                                if a.len() == b.len() && !a.is_empty() {
                                    let (a, b) = (a.clone(), b.clone());
                                    let eq = self.row_comparison("=", &left.1, a, &right.1, b)?;
                                    alternatives.push(eq.0);
                                    continue;
                                }
                            }
                            alternatives.push(self.operator("=", Some(left.clone()), right)?.0);
                        }
                        if alternatives.len() == 1 {
                            alternatives.pop().unwrap_or(Expr::Const(Value::Null))
                        } else {
                            Expr::Or(alternatives)
                        }
                    }
                    ast::InTarget::Subquery(query) => {
                        let left = self.bind_expr(expr, scope, cx)?;
                        self.in_subquery(left, "=", query, false, scope)?
                    }
                    ast::InTarget::Unnest(array) => {
                        let left = self.bind_expr(expr, scope, cx)?;
                        let array = self.bind_expr(array, scope, cx)?;
                        self.any_array(left, "=", array, false)?
                    }
                    ast::InTarget::Table { .. } => {
                        return Err(SqlError::unsupported("IN TABLE"));
                    }
                };
                if *negated {
                    Ok((Expr::Not(result.boxed()), SqlType::Bool))
                } else {
                    Ok((result, SqlType::Bool))
                }
            }
            E::Between {
                expr,
                negated,
                low,
                high,
            } => self.between(expr, low, high, *negated, scope, cx),
            E::Like {
                negated,
                any,
                expr,
                pattern,
                escape_char,
            }
            | E::ILike {
                negated,
                any,
                expr,
                pattern,
                escape_char,
            } => {
                if *any {
                    return Err(SqlError::unsupported("LIKE ANY"));
                }
                let ilike = matches!(e, E::ILike { .. });
                let op = match (ilike, negated) {
                    (false, false) => "~~",
                    (false, true) => "!~~",
                    (true, false) => "~~*",
                    (true, true) => "!~~*",
                };
                let x = self.bind_expr(expr, scope, cx)?;
                let mut p = self.bind_expr(pattern, scope, cx)?;
                if let Some(escape) = escape_char {
                    let esc = self.bind_expr(escape, scope, cx)?;
                    p = self.call("like_escape", vec![p, esc])?;
                }
                self.operator(op, Some(x), p)
            }
            E::SimilarTo {
                negated,
                expr,
                pattern,
                escape_char,
            } => {
                let x = self.bind_expr(expr, scope, cx)?;
                let p = self.bind_expr(pattern, scope, cx)?;
                let mut args = vec![p];
                if let Some(escape) = escape_char {
                    args.push(self.bind_expr(escape, scope, cx)?);
                }
                let regex = self.call("similar_to_escape", args)?;
                self.operator(if *negated { "!~" } else { "~" }, Some(x), regex)
            }
            E::AnyOp {
                left,
                compare_op,
                right,
                ..
            }
            | E::AllOp {
                left,
                compare_op,
                right,
            } => {
                let all = matches!(e, E::AllOp { .. });
                let l = self.bind_expr(left, scope, cx)?;
                let op = operator_name(compare_op);
                let right = strip_nested(right);
                if let ast::Expr::Subquery(query) = right {
                    let r = self.in_subquery(l, &op, query, all, scope)?;
                    return Ok((r, SqlType::Bool));
                }
                let array = self.bind_expr(right, scope, cx)?;
                Ok((self.any_array(l, &op, array, all)?, SqlType::Bool))
            }
            E::Case {
                operand,
                conditions,
                else_result,
                ..
            } => self.case(
                operand.as_deref(),
                conditions,
                else_result.as_deref(),
                scope,
                cx,
            ),
            E::Exists { subquery, negated } => {
                let (plan, _, correlated) = self.subquery(subquery, scope)?;
                let id = self.next_id();
                let exists = Expr::Subquery {
                    plan: Arc::new(plan),
                    kind: SubqueryKind::Exists,
                    correlated,
                    id,
                };
                if *negated {
                    Ok((Expr::Not(exists.boxed()), SqlType::Bool))
                } else {
                    Ok((exists, SqlType::Bool))
                }
            }
            E::Subquery(query) => {
                let (plan, columns, correlated) = self.subquery(query, scope)?;
                if columns.len() != 1 {
                    return Err(SqlError::syntax("subquery must return only one column"));
                }
                let id = self.next_id();
                Ok((
                    Expr::Subquery {
                        plan: Arc::new(plan),
                        kind: SubqueryKind::Scalar,
                        correlated,
                        id,
                    },
                    columns[0].sql_type.clone(),
                ))
            }
            E::Array(array) => {
                let mut items = Vec::new();
                for element in &array.elem {
                    items.push(self.bind_expr(element, scope, cx)?);
                }
                self.array_constructor(items)
            }
            E::Function(f) => self.function(f, scope, cx),
            E::Extract { field, expr, .. } => {
                let x = self.bind_expr(expr, scope, cx)?;
                let name = Expr::Const(Value::Text(field_name(field)));
                self.call("extract", vec![(name, SqlType::Text), x])
            }
            E::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                let mut args = vec![self.bind_expr(expr, scope, cx)?];
                match substring_from {
                    Some(from) => args.push(self.bind_expr(from, scope, cx)?),
                    None => args.push((Expr::Const(Value::Int4(1)), SqlType::Int4)),
                }
                if let Some(f) = substring_for {
                    args.push(self.bind_expr(f, scope, cx)?);
                }
                self.call("substring", args)
            }
            E::Position { expr, r#in } => {
                let needle = self.bind_expr(expr, scope, cx)?;
                let haystack = self.bind_expr(r#in, scope, cx)?;
                self.call("strpos", vec![haystack, needle])
            }
            E::Trim {
                trim_where,
                trim_what,
                expr,
                trim_characters,
            } => {
                let function = match trim_where {
                    Some(ast::TrimWhereField::Leading) => "ltrim",
                    Some(ast::TrimWhereField::Trailing) => "rtrim",
                    _ => "btrim",
                };
                let mut args = vec![self.bind_expr(expr, scope, cx)?];
                if let Some(what) = trim_what {
                    args.push(self.bind_expr(what, scope, cx)?);
                } else if let Some(chars) = trim_characters {
                    if let Some(first) = chars.first() {
                        args.push(self.bind_expr(first, scope, cx)?);
                    }
                }
                self.call(function, args)
            }
            E::Ceil { expr, field } | E::Floor { expr, field } => {
                let name = if matches!(e, E::Ceil { .. }) {
                    "ceil"
                } else {
                    "floor"
                };
                let x = self.bind_expr(expr, scope, cx)?;
                match field {
                    ast::CeilFloorKind::DateTimeField(DateTimeField::NoDateTime) => {
                        self.call(name, vec![x])
                    }
                    ast::CeilFloorKind::Scale(scale) => {
                        let s = self.literal(&scale.value)?;
                        self.call(name, vec![x, s])
                    }
                    _ => self.call(name, vec![x]),
                }
            }
            E::Overlay {
                expr,
                overlay_what,
                overlay_from,
                overlay_for,
            } => {
                let mut args = vec![
                    self.bind_expr(expr, scope, cx)?,
                    self.bind_expr(overlay_what, scope, cx)?,
                    self.bind_expr(overlay_from, scope, cx)?,
                ];
                if let Some(f) = overlay_for {
                    args.push(self.bind_expr(f, scope, cx)?);
                }
                self.call("overlay", args)
            }
            E::AtTimeZone {
                timestamp,
                time_zone,
            } => {
                let ts = self.bind_expr(timestamp, scope, cx)?;
                let zone = self.bind_expr(time_zone, scope, cx)?;
                self.call("timezone", vec![zone, ts])
            }
            E::Collate { expr, collation } => {
                let name = object_name_parts(collation);
                let last = name.last().map(String::as_str).unwrap_or("");
                if !matches!(
                    last,
                    "default" | "C" | "c" | "POSIX" | "posix" | "ucs_basic"
                ) && !last.eq_ignore_ascii_case("c.utf-8")
                    && !last.eq_ignore_ascii_case("c.utf8")
                {
                    return Err(SqlError::new(
                        code::UNDEFINED_OBJECT,
                        format!("collation \"{last}\" for encoding \"UTF8\" does not exist"),
                    ));
                }
                self.bind_expr(expr, scope, cx)
            }
            E::Interval(interval) => {
                let (value, t) = self.bind_expr(&interval.value, scope, cx)?;
                let text = match &value {
                    Expr::Const(Value::Text(s)) => s.clone(),
                    Expr::Const(other) => {
                        crate::types::format_text(other, &t.representation(), self.format)
                    }
                    _ => return self.explicit_cast(value, &t, &SqlType::Interval),
                };
                let text = match (&interval.leading_field, &interval.last_field) {
                    (Some(f), None) if !text.trim().contains(' ') && is_plain_number(&text) => {
                        format!("{} {}", text.trim(), field_name(f))
                    }
                    _ => text,
                };
                let v = self.input(&text, &SqlType::Interval)?;
                Ok((Expr::Const(v), SqlType::Interval))
            }
            E::Tuple(items) => {
                let mut exprs = Vec::new();
                let mut fields = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let (e, t) = self.bind_expr(item, scope, cx)?;
                    exprs.push(e);
                    fields.push((format!("f{}", i + 1), t));
                }
                Ok((Expr::Row(exprs), SqlType::Composite(fields)))
            }
            E::CompoundFieldAccess { root, access_chain } => {
                let (mut x, mut t) = self.bind_expr(root, scope, cx)?;
                // `(row).field` on a value with known fields.
                if let (
                    SqlType::Composite(fields),
                    [ast::AccessExpr::Dot(ast::Expr::Identifier(field))],
                ) = (&t, access_chain.as_slice())
                {
                    let name = ident_name(field);
                    let index = fields.iter().position(|(n, _)| *n == name).ok_or_else(|| {
                        SqlError::new(
                            code::UNDEFINED_COLUMN,
                            format!("column \"{name}\" not found in data type record"),
                        )
                    })?;
                    let field_type = fields[index].1.clone();
                    return Ok((
                        Expr::Subscript {
                            array: x.boxed(),
                            subscripts: vec![(
                                Some(Expr::Const(Value::Int4(index as i32 + 1))),
                                None,
                                false,
                            )],
                        },
                        field_type,
                    ));
                }
                // int2vector / oidvector subscripts start at 0: shift them to the array's 1.
                let vector_base = matches!(t, SqlType::Int2Vector | SqlType::OidVector);
                if vector_base {
                    let element = if t == SqlType::Int2Vector {
                        SqlType::Int2
                    } else {
                        SqlType::Oid
                    };
                    x = Expr::Cast {
                        expr: x.boxed(),
                        from: t.clone(),
                        to: SqlType::Array(Box::new(element.clone())),
                        explicit: false,
                    };
                    t = SqlType::Array(Box::new(element));
                }
                let mut subscripts = Vec::new();
                for access in access_chain {
                    match access {
                        ast::AccessExpr::Subscript(ast::Subscript::Index { index }) => {
                            let mut i = self.bind_expr(index, scope, cx)?;
                            if vector_base {
                                i = self.operator(
                                    "+",
                                    Some(i),
                                    (Expr::Const(Value::Int4(1)), SqlType::Int4),
                                )?;
                            }
                            let i = self.coerce_to(i, &SqlType::Int4, "array subscript")?;
                            subscripts.push((Some(i), None, false));
                        }
                        ast::AccessExpr::Subscript(ast::Subscript::Slice {
                            lower_bound,
                            upper_bound,
                            ..
                        }) => {
                            let lo = match lower_bound {
                                Some(l) => {
                                    let b = self.bind_expr(l, scope, cx)?;
                                    Some(self.coerce_to(b, &SqlType::Int4, "array subscript")?)
                                }
                                None => None,
                            };
                            let hi = match upper_bound {
                                Some(u) => {
                                    let b = self.bind_expr(u, scope, cx)?;
                                    Some(self.coerce_to(b, &SqlType::Int4, "array subscript")?)
                                }
                                None => None,
                            };
                            subscripts.push((lo, hi, true));
                        }
                        ast::AccessExpr::Dot(_) => {
                            return Err(SqlError::unsupported("field selection from a row"))
                        }
                    }
                }
                let SqlType::Array(element) = &t else {
                    if t == SqlType::Jsonb {
                        return Err(SqlError::unsupported("jsonb subscripting"));
                    }
                    return Err(SqlError::new(
                        code::DATATYPE_MISMATCH,
                        format!(
                            "cannot subscript type {} because it does not support subscripting",
                            t.display_name()
                        ),
                    ));
                };
                let slice = subscripts.iter().any(|s| s.2);
                let result_type = if slice {
                    t.clone()
                } else {
                    (**element).clone()
                };
                x = Expr::Subscript {
                    array: x.boxed(),
                    subscripts,
                };
                t = result_type;
                Ok((x, t))
            }
            other => Err(SqlError::unsupported(format!("expression {other}"))),
        }
    }
}

/// A sort key from ORDER BY options (PostgreSQL: NULLS LAST for ASC, FIRST for DESC).
pub fn sort_key(expr: Expr, options: &ast::OrderByOptions) -> SortKey {
    let descending = matches!(options.sort, Some(ast::OrderBySort::Desc));
    SortKey {
        expr,
        descending,
        nulls_first: options.nulls_first.unwrap_or(descending),
    }
}

fn flatten(make: fn(Vec<Expr>) -> Expr, l: Expr, r: Expr, and: bool) -> Expr {
    let mut items = Vec::new();
    for e in [l, r] {
        match e {
            Expr::And(v) if and => items.extend(v),
            Expr::Or(v) if !and => items.extend(v),
            other => items.push(other),
        }
    }
    make(items)
}

fn strip_nested(e: &ast::Expr) -> &ast::Expr {
    match e {
        ast::Expr::Nested(inner) => strip_nested(inner),
        other => other,
    }
}

fn is_plain_number(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty() && t.parse::<f64>().is_ok()
}

/// The field name of EXTRACT / INTERVAL qualifiers, as PostgreSQL spells it.
pub fn field_name(field: &DateTimeField) -> String {
    match field {
        DateTimeField::Custom(ident) => ident.value.to_lowercase(),
        other => other.to_string().to_lowercase(),
    }
}
