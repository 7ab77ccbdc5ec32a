//! Expression binding: sqlparser expressions to typed [`Expr`]s.

use std::sync::Arc;

use sqlparser::ast::{
    self, BinaryOperator, CastKind, DateTimeField, FunctionArg, FunctionArgExpr,
    FunctionArgumentClause, FunctionArguments, UnaryOperator, Value as AstValue,
};
use storage::types::Value;

use super::types::sql_type;
use super::{ident_name, object_name_parts, Binder, Scope};
use crate::error::{code, SqlError, SqlResult};
use crate::func::aggregate::{is_aggregate, resolve_aggregate};
use crate::func::registry::registry;
use crate::func::{cast_allowed, common_type};
use crate::func::{CastContext, Implementation};
use crate::pgtype::SqlType;
use crate::plan::{
    AggCall, Expr, Frame, FrameBound, FrameUnits, SessionFn, SortKey, SubqueryKind, WindowCall,
    WindowFn, WindowFunc,
};

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

    fn require_bool(&mut self, expr: Expr, t: &SqlType, clause: &str) -> SqlResult<Expr> {
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
            } => {
                let x = self.bind_expr(expr, scope, cx)?;
                let lo = self.bind_expr(low, scope, cx)?;
                let hi = self.bind_expr(high, scope, cx)?;
                let a = self.operator(">=", Some(x.clone()), lo)?.0;
                let b = self.operator("<=", Some(x), hi)?.0;
                let both = Expr::And(vec![a, b]);
                if *negated {
                    Ok((Expr::Not(both.boxed()), SqlType::Bool))
                } else {
                    Ok((both, SqlType::Bool))
                }
            }
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

    fn bool_test(
        &mut self,
        x: &ast::Expr,
        value: Option<bool>,
        negated: bool,
        scope: &Scope,
        cx: &mut ExprContext,
    ) -> SqlResult<Typed> {
        let (x, t) = self.bind_expr(x, scope, cx)?;
        let x = self.require_bool(x, &t, "IS TRUE")?;
        Ok((
            Expr::BoolTest {
                expr: x.boxed(),
                value,
                negated,
            },
            SqlType::Bool,
        ))
    }

    /// Reads `text` as a value of `t` (literals).
    pub fn input(&self, text: &str, t: &SqlType) -> SqlResult<Value> {
        crate::exec::input_value(&self.catalog, self.format, text, t)
    }

    /// A literal.
    pub fn literal(&mut self, v: &AstValue) -> SqlResult<Typed> {
        Ok(match v {
            AstValue::Number(n, _) => {
                if let Ok(i) = n.parse::<i32>() {
                    (Expr::Const(Value::Int4(i)), SqlType::Int4)
                } else if let Ok(i) = n.parse::<i64>() {
                    (Expr::Const(Value::Int8(i)), SqlType::Int8)
                } else {
                    let t = crate::pgtype::NUMERIC;
                    (Expr::Const(self.input(n, &t)?), t)
                }
            }
            AstValue::SingleQuotedString(s)
            | AstValue::EscapedStringLiteral(s)
            | AstValue::UnicodeStringLiteral(s)
            | AstValue::TripleSingleQuotedString(s) => {
                (Expr::Const(Value::Text(s.clone())), SqlType::Unknown)
            }
            AstValue::DollarQuotedString(d) => {
                (Expr::Const(Value::Text(d.value.clone())), SqlType::Unknown)
            }
            AstValue::NationalStringLiteral(s) => {
                (Expr::Const(Value::Text(s.clone())), SqlType::Char(None))
            }
            AstValue::HexStringLiteral(s) => {
                let bits: String = s
                    .chars()
                    .map(|c| format!("{:04b}", c.to_digit(16).unwrap_or(0)))
                    .collect();
                return Err(SqlError::unsupported(format!(
                    "bit string literal B'{bits}'"
                )));
            }
            AstValue::Boolean(b) => (Expr::Const(Value::Bool(*b)), SqlType::Bool),
            AstValue::Null => (Expr::Const(Value::Null), SqlType::Unknown),
            AstValue::Placeholder(p) => {
                let n: usize = p
                    .trim_start_matches('$')
                    .parse()
                    .map_err(|_| SqlError::syntax(format!("syntax error at or near \"{p}\"")))?;
                if n == 0 || n > 65_535 {
                    return Err(SqlError::new(
                        code::UNDEFINED_PARAMETER,
                        format!("there is no parameter ${n}"),
                    ));
                }
                if self.params.len() < n {
                    self.params.resize(n, None);
                }
                let t = self.params[n - 1].clone().unwrap_or(SqlType::Unknown);
                (Expr::Param(n - 1), t)
            }
            other => return Err(SqlError::unsupported(format!("literal {other}"))),
        })
    }

    /// Names that are keywords calling a function in PostgreSQL (`current_user`...).
    fn keyword_function(&mut self, name: &str) -> SqlResult<Option<Typed>> {
        let session = |f: SessionFn, t: SqlType| {
            Some((
                Expr::Session {
                    func: f,
                    args: vec![],
                },
                t,
            ))
        };
        Ok(match name {
            "current_user" | "user" | "current_role" => {
                session(SessionFn::CurrentUser, SqlType::Name)
            }
            "session_user" => session(SessionFn::SessionUser, SqlType::Name),
            "current_catalog" => session(SessionFn::CurrentDatabase, SqlType::Name),
            "current_schema" => session(SessionFn::CurrentSchema, SqlType::Name),
            "current_date" => Some(self.call("current_date", vec![])?),
            "current_timestamp" => Some(self.call("now", vec![])?),
            "localtimestamp" => Some(self.call("localtimestamp", vec![])?),
            "current_time" | "localtime" => Some(self.call("localtime", vec![])?),
            _ => None,
        })
    }

    /// A column reference, looked up in this query's scope and then the enclosing ones.
    fn column_ref(
        &mut self,
        schema: Option<&str>,
        qualifier: Option<&str>,
        name: &str,
        scope: &Scope,
    ) -> SqlResult<Typed> {
        if let Some(i) = scope.find(schema, qualifier, name)? {
            return Ok((Expr::Column(i), scope.columns[i].sql_type.clone()));
        }
        // A FROM item's name alone is its whole row (`to_jsonb(p)`, `row_to_json(x)`).
        if qualifier.is_none() && schema.is_none() && scope.has_qualifier(name) {
            let mut fields = Vec::new();
            let mut exprs = Vec::new();
            for (i, c) in scope.columns.iter().enumerate() {
                if c.qualifier.as_deref() == Some(name) && !c.hidden {
                    fields.push((c.name.clone(), c.sql_type.clone()));
                    exprs.push(Expr::Column(i));
                }
            }
            return Ok((Expr::Row(exprs), SqlType::Composite(fields)));
        }
        for (level, outer) in self.outer.iter().rev().enumerate() {
            if let Some(i) = outer.find(schema, qualifier, name)? {
                self.outer_refs += 1;
                return Ok((
                    Expr::Outer {
                        level: level + 1,
                        index: i,
                    },
                    outer.columns[i].sql_type.clone(),
                ));
            }
        }
        if let Some(q) = qualifier {
            let known = scope.has_qualifier(q) || self.outer.iter().any(|s| s.has_qualifier(q));
            if !known {
                return Err(SqlError::new(
                    code::UNDEFINED_TABLE,
                    format!("missing FROM-clause entry for table \"{q}\""),
                ));
            }
            return Err(SqlError::new(
                code::UNDEFINED_COLUMN,
                format!("column {q}.{name} does not exist"),
            ));
        }
        Err(SqlError::undefined_column(name))
    }

    /// An explicit cast (`CAST(x AS t)`, `x::t`).
    pub fn explicit_cast(&mut self, expr: Expr, from: &SqlType, to: &SqlType) -> SqlResult<Typed> {
        if *from != SqlType::Unknown
            && !from.same_type(to)
            && !cast_allowed(from, to, CastContext::Explicit)
        {
            return Err(SqlError::new(
                code::CANNOT_COERCE,
                format!(
                    "cannot cast type {} to {}",
                    from.display_name(),
                    to.display_name()
                ),
            ));
        }
        if let Expr::Const(Value::Text(text)) = &expr {
            if *from == SqlType::Unknown {
                // Read with the type's input function, then apply the modifier as an
                // explicit cast does (`'abcdef'::varchar(3)` truncates).
                let base = match to {
                    SqlType::Char(_) | SqlType::Varchar(_) => SqlType::Text,
                    other => other.without_modifier(),
                };
                let v = self.input(text, &base)?;
                let v = crate::func::apply_modifier(v, to, CastContext::Explicit)?;
                return Ok((Expr::Const(v), to.clone()));
            }
        }
        if let (Expr::Param(n), SqlType::Unknown) = (&expr, from) {
            let n = *n;
            self.params[n] = Some(to.clone());
            return Ok((Expr::Param(n), to.clone()));
        }
        if from == to {
            return Ok((expr, to.clone()));
        }
        Ok((
            Expr::Cast {
                expr: expr.boxed(),
                from: from.clone(),
                to: to.clone(),
                explicit: true,
            },
            to.clone(),
        ))
    }

    /// Coerces to `to` if PostgreSQL would do so implicitly (assignment context), else 42804.
    pub fn coerce_to(&mut self, (e, t): Typed, to: &SqlType, what: &str) -> SqlResult<Expr> {
        if t.same_type(to) || t == SqlType::Unknown || cast_allowed(&t, to, CastContext::Assignment)
        {
            return self.coerce(e, &t, to);
        }
        Err(SqlError::new(
            code::DATATYPE_MISMATCH,
            format!(
                "{what} must be type {}, not type {}",
                to.display_name(),
                t.display_name()
            ),
        ))
    }

    /// Resolves and binds an operator call.
    pub fn operator(&mut self, op: &str, left: Option<Typed>, right: Typed) -> SqlResult<Typed> {
        let resolved = registry().resolve_operator(op, left.as_ref().map(|l| &l.1), &right.1)?;
        let mut args = Vec::new();
        let mut inputs = Vec::new();
        if let Some(l) = left {
            inputs.push(l);
        }
        inputs.push(right);
        for ((e, t), target) in inputs.into_iter().zip(resolved.arg_types.iter()) {
            args.push(self.coerce(e, &t, target)?);
        }
        let Implementation::Scalar(func) = resolved.overload.implementation else {
            return Err(SqlError::internal(format!("operator {op} is not scalar")));
        };
        Ok((
            Expr::Call {
                name: resolved.overload.name,
                func,
                args,
                strict: resolved.overload.strict,
            },
            resolved.return_type,
        ))
    }

    /// Resolves and binds a call of a built-in scalar function.
    pub fn call(&mut self, name: &str, inputs: Vec<Typed>) -> SqlResult<Typed> {
        let types: Vec<SqlType> = inputs.iter().map(|(_, t)| t.clone()).collect();
        let resolved = registry().resolve(name, &types)?;
        let Implementation::Scalar(func) = resolved.overload.implementation else {
            return Err(SqlError::new(
                code::FEATURE_NOT_SUPPORTED,
                format!("set-returning function {name}() is not allowed here"),
            ));
        };
        let mut args = Vec::new();
        for ((e, t), target) in inputs.into_iter().zip(resolved.arg_types.iter()) {
            args.push(self.coerce(e, &t, target)?);
        }
        Ok((
            Expr::Call {
                name: resolved.overload.name,
                func,
                args,
                strict: resolved.overload.strict,
            },
            resolved.return_type,
        ))
    }

    fn any_array(&mut self, left: Typed, op: &str, array: Typed, all: bool) -> SqlResult<Expr> {
        let element = match &array.1 {
            SqlType::Array(e) => (**e).clone(),
            SqlType::Unknown => left.1.clone(),
            other => {
                return Err(SqlError::new(
                    code::DATATYPE_MISMATCH,
                    format!(
                        "op ANY/ALL (array) requires array on right side, not {}",
                        other.display_name()
                    ),
                ))
            }
        };
        let array_type = SqlType::Array(Box::new(if element == SqlType::Unknown {
            left.1.clone()
        } else {
            element.clone()
        }));
        let probe = (Expr::Const(Value::Null), element);
        let resolved = registry().resolve_operator(op, Some(&left.1), &probe.1)?;
        let l = self.coerce(left.0, &left.1, &resolved.arg_types[0])?;
        let target_array = SqlType::Array(Box::new(resolved.arg_types[1].clone()));
        let a = if array.1 == SqlType::Unknown {
            self.coerce(array.0, &array.1, &target_array)?
        } else {
            let _ = array_type;
            self.coerce(array.0, &array.1, &target_array)?
        };
        let Implementation::Scalar(func) = resolved.overload.implementation else {
            return Err(SqlError::internal("operator is not scalar"));
        };
        Ok(Expr::AnyArray {
            left: l.boxed(),
            array: a.boxed(),
            op: func,
            all,
        })
    }

    fn in_subquery(
        &mut self,
        left: Typed,
        op: &str,
        query: &ast::Query,
        all: bool,
        scope: &Scope,
    ) -> SqlResult<Expr> {
        let (plan, columns, correlated) = self.subquery(query, scope)?;
        if columns.len() != 1 {
            return Err(SqlError::syntax("subquery has too many columns"));
        }
        let right_type = columns[0].sql_type.clone();
        let resolved = registry().resolve_operator(op, Some(&left.1), &right_type)?;
        let l = self.coerce(left.0, &left.1, &resolved.arg_types[0])?;
        let plan = if right_type.same_type(&resolved.arg_types[1]) {
            plan
        } else {
            crate::plan::Plan::Project {
                input: Box::new(plan),
                exprs: vec![Expr::Cast {
                    expr: Expr::Column(0).boxed(),
                    from: right_type,
                    to: resolved.arg_types[1].clone(),
                    explicit: false,
                }],
            }
        };
        let Implementation::Scalar(func) = resolved.overload.implementation else {
            return Err(SqlError::internal("operator is not scalar"));
        };
        let id = self.next_id();
        Ok(Expr::InSubquery {
            left: l.boxed(),
            plan: Arc::new(plan),
            op: func,
            op_name: resolved.overload.name,
            all,
            correlated,
            id,
        })
    }

    /// Binds a subquery with `scope` as its enclosing scope; returns its plan, columns and
    /// whether it is correlated.
    pub fn subquery(
        &mut self,
        query: &ast::Query,
        scope: &Scope,
    ) -> SqlResult<(crate::plan::Plan, Vec<crate::plan::OutputColumn>, bool)> {
        let before = self.outer_refs;
        self.outer.push(scope.clone());
        let result = self.bind_query(query);
        self.outer.pop();
        let (plan, columns) = result?;
        Ok((plan, columns, self.outer_refs != before))
    }

    fn case(
        &mut self,
        operand: Option<&ast::Expr>,
        conditions: &[ast::CaseWhen],
        else_result: Option<&ast::Expr>,
        scope: &Scope,
        cx: &mut ExprContext,
    ) -> SqlResult<Typed> {
        let operand = match operand {
            Some(o) => Some(self.bind_expr(o, scope, cx)?),
            None => None,
        };
        let mut whens = Vec::new();
        let mut results = Vec::new();
        for c in conditions {
            let condition = match &operand {
                Some(o) => {
                    let v = self.bind_expr(&c.condition, scope, cx)?;
                    self.operator("=", Some(o.clone()), v)?.0
                }
                None => self.bind_predicate(&c.condition, scope, cx)?,
            };
            whens.push(condition);
            results.push(self.bind_expr(&c.result, scope, cx)?);
        }
        let otherwise = match else_result {
            Some(e) => self.bind_expr(e, scope, cx)?,
            None => (Expr::Const(Value::Null), SqlType::Unknown),
        };
        results.push(otherwise);
        let types: Vec<SqlType> = results.iter().map(|(_, t)| t.clone()).collect();
        let t = common_type(&types, "CASE")?;
        let mut coerced = Vec::new();
        for (e, et) in results {
            coerced.push(self.coerce(e, &et, &t)?);
        }
        let otherwise = coerced.pop().unwrap_or(Expr::Const(Value::Null));
        Ok((
            Expr::Case {
                whens: whens.into_iter().zip(coerced).collect(),
                otherwise: otherwise.boxed(),
            },
            t,
        ))
    }

    pub fn array_constructor(&mut self, items: Vec<Typed>) -> SqlResult<Typed> {
        if items.is_empty() {
            return Err(SqlError::new(
                code::INDETERMINATE_DATATYPE,
                "cannot determine type of empty array",
            )
            .with_hint("Explicitly cast to the desired type, for example ARRAY[]::integer[]."));
        }
        let types: Vec<SqlType> = items.iter().map(|(_, t)| t.clone()).collect();
        let t = common_type(&types, "ARRAY")?;
        let mut elements = Vec::new();
        for (e, et) in items {
            elements.push(self.coerce(e, &et, &t)?);
        }
        // ARRAY[ARRAY[..], ARRAY[..]] is a two-dimensional array of the same element type.
        let (element_type, result) = match &t {
            SqlType::Array(inner) => ((**inner).clone(), t.clone()),
            other => (other.clone(), SqlType::Array(Box::new(other.clone()))),
        };
        Ok((
            Expr::Array {
                elements,
                element_type,
            },
            result,
        ))
    }

    /// Arguments of a function call as (expression, is `*`).
    fn function_args(f: &ast::Function) -> SqlResult<(Vec<&ast::Expr>, bool, bool)> {
        let mut out = Vec::new();
        let mut star = false;
        let mut distinct = false;
        match &f.args {
            FunctionArguments::None => {}
            FunctionArguments::Subquery(_) => {}
            FunctionArguments::List(list) => {
                distinct = matches!(
                    list.duplicate_treatment,
                    Some(ast::DuplicateTreatment::Distinct)
                );
                for arg in &list.args {
                    match arg {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => out.push(e),
                        FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => star = true,
                        FunctionArg::Named { arg, .. } | FunctionArg::ExprNamed { arg, .. } => {
                            match arg {
                                FunctionArgExpr::Expr(e) => out.push(e),
                                _ => return Err(SqlError::unsupported("this argument form")),
                            }
                        }
                        _ => return Err(SqlError::unsupported("this argument form")),
                    }
                }
            }
        }
        Ok((out, star, distinct))
    }

    fn function(
        &mut self,
        f: &ast::Function,
        scope: &Scope,
        cx: &mut ExprContext,
    ) -> SqlResult<Typed> {
        let parts = object_name_parts(&f.name);
        let name = match parts.as_slice() {
            [n] => n.clone(),
            [s, n]
                if s == "pg_catalog"
                    || s == "public"
                    || s == "anon"
                    || s == "custos"
                    || s == "information_schema" =>
            {
                n.clone()
            }
            [schema, n] => {
                let (args, _, _) = Self::function_args(f)?;
                let mut bound = Vec::new();
                for a in &args {
                    bound.push(self.bind_expr(a, scope, cx)?);
                }
                if let Some(t) =
                    crate::ddl::functions::inline_call_in(self, Some(schema), n, &bound)?
                {
                    return Ok(t);
                }
                return Err(SqlError::new(
                    code::UNDEFINED_FUNCTION,
                    format!("function {}() does not exist", f.name),
                ));
            }
            _ => {
                return Err(SqlError::new(
                    code::UNDEFINED_FUNCTION,
                    format!("function {}() does not exist", f.name),
                ))
            }
        };
        if let FunctionArguments::Subquery(query) = &f.args {
            if name == "array" {
                let (plan, columns, correlated) = self.subquery(query, scope)?;
                if columns.len() != 1 {
                    return Err(SqlError::syntax("subquery must return only one column"));
                }
                let id = self.next_id();
                return Ok((
                    Expr::Subquery {
                        plan: Arc::new(plan),
                        kind: SubqueryKind::Array,
                        correlated,
                        id,
                    },
                    SqlType::Array(Box::new(columns[0].sql_type.clone())),
                ));
            }
            return Err(SqlError::unsupported("a subquery as function argument"));
        }
        if name == "make_interval" {
            if let Some(typed) = self.make_interval_named(f, scope, cx)? {
                return Ok(typed);
            }
        }
        let (args, star, distinct) = Self::function_args(f)?;
        let mut filter = None;
        let mut order_by = Vec::new();
        if let FunctionArguments::List(list) = &f.args {
            for clause in &list.clauses {
                match clause {
                    FunctionArgumentClause::OrderBy(keys) => order_by = keys.clone(),
                    FunctionArgumentClause::IgnoreOrRespectNulls(_) => {}
                    other => return Err(SqlError::unsupported(format!("{other}"))),
                }
            }
        }
        if let Some(fe) = &f.filter {
            filter = Some(fe.as_ref());
        }
        if f.over.is_some() {
            return self.window_call(&name, f, &args, star, filter, scope, cx);
        }
        if is_aggregate(&name) {
            return self.aggregate_call(&name, &args, star, distinct, filter, &order_by, scope, cx);
        }
        if filter.is_some() || distinct {
            return Err(SqlError::new(
                code::WRONG_OBJECT_TYPE,
                format!("DISTINCT specified, but {name} is not an aggregate function"),
            ));
        }
        // Special forms.
        let mut bound = Vec::new();
        for a in &args {
            bound.push(self.bind_expr(a, scope, cx)?);
        }
        // A record with named fields to JSON: an object built from its fields.
        if let (
            "to_jsonb" | "to_json" | "row_to_json",
            [(Expr::Row(fields), SqlType::Composite(types))],
        ) = (name.as_str(), bound.as_slice())
        {
            if name == "to_jsonb" {
                let mut args = Vec::new();
                for (e, (field, t)) in fields.iter().zip(types.iter()) {
                    args.push((Expr::Const(Value::Text(field.clone())), SqlType::Text));
                    args.push((e.clone(), t.clone()));
                }
                return self.call("jsonb_build_object", args);
            }
            // json keeps PostgreSQL's compact record form: {"a":1,"b":"x"}.
            let mut args = Vec::new();
            for (e, (field, t)) in fields.iter().zip(types.iter()) {
                args.push(Expr::Const(Value::Text(field.clone())));
                args.push(self.call("to_json", vec![(e.clone(), t.clone())])?.0);
            }
            return Ok((
                Expr::Call {
                    name: "row_to_json",
                    func: compact_json_object,
                    args,
                    strict: false,
                },
                SqlType::Json,
            ));
        }
        match name.as_str() {
            "grouping" => {
                if cx.aggs.is_none() {
                    return Err(SqlError::new(
                        code::GROUPING_ERROR,
                        format!("grouping operations are not allowed in {}", cx.clause),
                    ));
                }
                return Ok((
                    Expr::Call {
                        name: "grouping",
                        func: |_, _| Ok(Value::Int4(0)),
                        args: bound.into_iter().map(|(e, _)| e).collect(),
                        strict: false,
                    },
                    SqlType::Int4,
                ));
            }
            "row" => {
                let types: Vec<(String, SqlType)> = bound
                    .iter()
                    .enumerate()
                    .map(|(i, (_, t))| (format!("f{}", i + 1), t.clone()))
                    .collect();
                return Ok((
                    Expr::Row(bound.into_iter().map(|(e, _)| e).collect()),
                    SqlType::Composite(types),
                ));
            }
            "coalesce" => {
                let types: Vec<SqlType> = bound.iter().map(|(_, t)| t.clone()).collect();
                let t = common_type(&types, "COALESCE")?;
                let mut items = Vec::new();
                for (e, et) in bound {
                    items.push(self.coerce(e, &et, &t)?);
                }
                return Ok((Expr::Coalesce(items), t));
            }
            "nullif" if bound.len() == 2 => {
                let r = bound
                    .pop()
                    .unwrap_or((Expr::Const(Value::Null), SqlType::Unknown));
                let l = bound
                    .pop()
                    .unwrap_or((Expr::Const(Value::Null), SqlType::Unknown));
                let lt = l.1.clone();
                let (eq, _) = self.operator("=", Some(l), r)?;
                let Expr::Call { func, mut args, .. } = eq else {
                    return Err(SqlError::internal("equality is not a call"));
                };
                let right = args.pop().unwrap_or(Expr::Const(Value::Null));
                let left = args.pop().unwrap_or(Expr::Const(Value::Null));
                let t = if lt == SqlType::Unknown {
                    SqlType::Text
                } else {
                    lt
                };
                return Ok((
                    Expr::NullIf {
                        left: left.boxed(),
                        right: right.boxed(),
                        eq: func,
                    },
                    t,
                ));
            }
            "greatest" | "least" => {
                let types: Vec<SqlType> = bound.iter().map(|(_, t)| t.clone()).collect();
                let t = common_type(
                    &types,
                    if name == "greatest" {
                        "GREATEST"
                    } else {
                        "LEAST"
                    },
                )?;
                let mut items = Vec::new();
                for (e, et) in bound {
                    items.push(self.coerce(e, &et, &t)?);
                }
                return Ok((
                    Expr::Extreme {
                        args: items,
                        greatest: name == "greatest",
                    },
                    t,
                ));
            }
            _ => {}
        }
        if let Some(typed) = self.session_function(&name, &mut bound)? {
            return Ok(typed);
        }
        if star {
            return Err(SqlError::syntax(format!("{name}(*) is not an aggregate")));
        }
        if let Some(typed) = self.user_function(&name, &bound)? {
            return Ok(typed);
        }
        self.call(&name, bound)
    }

    fn session_function(&mut self, name: &str, args: &mut Vec<Typed>) -> SqlResult<Option<Typed>> {
        let (func, ret, arg_types): (SessionFn, SqlType, Vec<SqlType>) = match (name, args.len()) {
            ("current_setting", 1) => (
                SessionFn::CurrentSetting,
                SqlType::Text,
                vec![SqlType::Text],
            ),
            ("current_setting", 2) => (
                SessionFn::CurrentSettingMissingOk,
                SqlType::Text,
                vec![SqlType::Text, SqlType::Bool],
            ),
            ("set_config", 3) => (
                SessionFn::SetConfig,
                SqlType::Text,
                vec![SqlType::Text, SqlType::Text, SqlType::Bool],
            ),
            ("current_user", 0) | ("user", 0) => (SessionFn::CurrentUser, SqlType::Name, vec![]),
            ("session_user", 0) => (SessionFn::SessionUser, SqlType::Name, vec![]),
            ("current_database", 0) => (SessionFn::CurrentDatabase, SqlType::Name, vec![]),
            ("current_schema", 0) => (SessionFn::CurrentSchema, SqlType::Name, vec![]),
            ("current_schemas", 1) => (
                SessionFn::CurrentSchemas,
                SqlType::Array(Box::new(SqlType::Name)),
                vec![SqlType::Bool],
            ),
            ("version", 0) => (SessionFn::Version, SqlType::Text, vec![]),
            ("pg_backend_pid", 0) => (SessionFn::BackendPid, SqlType::Int4, vec![]),
            ("nextval", 1) => (SessionFn::Nextval, SqlType::Int8, vec![SqlType::RegClass]),
            ("currval", 1) => (SessionFn::Currval, SqlType::Int8, vec![SqlType::RegClass]),
            ("setval", 2) => (
                SessionFn::Setval,
                SqlType::Int8,
                vec![SqlType::RegClass, SqlType::Int8],
            ),
            ("setval", 3) => (
                SessionFn::Setval,
                SqlType::Int8,
                vec![SqlType::RegClass, SqlType::Int8, SqlType::Bool],
            ),
            ("lastval", 0) => (SessionFn::Lastval, SqlType::Int8, vec![]),
            ("pg_sleep", 1) => (SessionFn::Sleep, SqlType::Void, vec![SqlType::Float8]),
            ("txid_current", 0) | ("pg_current_xact_id", 0) => {
                (SessionFn::TxidCurrent, SqlType::Int8, vec![])
            }
            ("pg_typeof", 1) => {
                let t = args[0].1.clone();
                let oid = if t == SqlType::Unknown {
                    SqlType::Unknown.oid()
                } else {
                    t.oid()
                };
                return Ok(Some((
                    Expr::Const(Value::Int8(i64::from(oid))),
                    SqlType::RegType,
                )));
            }
            _ => return Ok(None),
        };
        let mut bound = Vec::new();
        for ((e, t), target) in std::mem::take(args).into_iter().zip(arg_types.iter()) {
            bound.push(self.coerce_to((e, t), target, "argument")?);
        }
        Ok(Some((Expr::Session { func, args: bound }, ret)))
    }

    /// A user-defined `LANGUAGE sql` function: its body is bound with the arguments in
    /// place of `$n` and inlined as a scalar subquery.
    fn user_function(&mut self, name: &str, args: &[Typed]) -> SqlResult<Option<Typed>> {
        crate::bind::query::inline_user_function(self, name, args)
    }

    #[allow(clippy::too_many_arguments)]
    fn aggregate_call(
        &mut self,
        name: &str,
        args: &[&ast::Expr],
        star: bool,
        distinct: bool,
        filter: Option<&ast::Expr>,
        order_by: &[ast::OrderByExpr],
        scope: &Scope,
        cx: &mut ExprContext,
    ) -> SqlResult<Typed> {
        if cx.aggs.is_none() {
            return Err(SqlError::new(
                code::GROUPING_ERROR,
                format!("aggregate functions are not allowed in {}", cx.clause),
            ));
        }
        let mut inner = ExprContext::plain("aggregate function calls");
        inner.clause = "aggregate function calls";
        let mut bound = Vec::new();
        for a in args {
            bound.push(
                self.bind_expr(a, scope, &mut inner)
                    .map_err(nested_aggregate)?,
            );
        }
        if star && !bound.is_empty() {
            return Err(SqlError::syntax("syntax error at or near \"*\""));
        }
        let types: Vec<SqlType> = bound.iter().map(|(_, t)| t.clone()).collect();
        let aggregate = resolve_aggregate(name, &types)?.ok_or_else(|| {
            SqlError::new(
                code::UNDEFINED_FUNCTION,
                format!("function {name} does not exist"),
            )
        })?;
        let mut exprs = Vec::new();
        for ((e, t), target) in bound.into_iter().zip(aggregate.arg_types.iter()) {
            exprs.push(self.coerce(e, &t, target)?);
        }
        let filter = match filter {
            Some(f) => {
                let mut fcx = ExprContext::plain("FILTER");
                Some(self.bind_predicate(f, scope, &mut fcx)?)
            }
            None => None,
        };
        let mut keys = Vec::new();
        for o in order_by {
            let mut ocx = ExprContext::plain("aggregate function calls");
            let (e, _) = self.bind_expr(&o.expr, scope, &mut ocx)?;
            keys.push(sort_key(e, &o.options));
        }
        let return_type = aggregate.return_type.clone();
        let call = AggCall {
            aggregate,
            args: exprs,
            distinct,
            filter,
            order_by: keys,
        };
        let aggs = cx
            .aggs
            .as_mut()
            .ok_or_else(|| SqlError::internal("no aggregate list"))?;
        aggs.push((call, return_type.clone()));
        Ok((Expr::AggRef(aggs.len() - 1), return_type))
    }

    #[allow(clippy::too_many_arguments)]
    fn window_call(
        &mut self,
        name: &str,
        f: &ast::Function,
        args: &[&ast::Expr],
        star: bool,
        filter: Option<&ast::Expr>,
        scope: &Scope,
        cx: &mut ExprContext,
    ) -> SqlResult<Typed> {
        if cx.windows.is_none() {
            return Err(SqlError::new(
                code::WINDOWING_ERROR,
                format!("window functions are not allowed in {}", cx.clause),
            ));
        }
        let mut spec = match &f.over {
            Some(ast::WindowType::WindowSpec(spec)) => spec.clone(),
            Some(ast::WindowType::NamedWindow(name)) => self.named_window(&ident_name(name))?,
            None => return Err(SqlError::internal("window call without OVER")),
        };
        // `OVER (w ORDER BY ...)`: a named window refined by this call.
        if let Some(base) = &spec.window_name {
            let base = self.named_window(&ident_name(base))?;
            if spec.partition_by.is_empty() {
                spec.partition_by = base.partition_by;
            }
            if spec.order_by.is_empty() {
                spec.order_by = base.order_by;
            }
            if spec.window_frame.is_none() {
                spec.window_frame = base.window_frame;
            }
            spec.window_name = None;
        }
        // Arguments, PARTITION BY and ORDER BY may use aggregates (of the grouped query).
        let mut inner = ExprContext {
            clause: "window function calls",
            aggs: cx.aggs.take(),
            windows: None,
        };
        let result = (|| -> SqlResult<(SqlType, WindowCall)> {
            let mut bound = Vec::new();
            for a in args {
                bound.push(self.bind_expr(a, scope, &mut inner)?);
            }
            let mut partition_by = Vec::new();
            for p in &spec.partition_by {
                partition_by.push(self.bind_expr(p, scope, &mut inner)?.0);
            }
            let mut order_by = Vec::new();
            for o in &spec.order_by {
                let (e, _) = self.bind_expr(&o.expr, scope, &mut inner)?;
                order_by.push(sort_key(e, &o.options));
            }
            let frame = match &spec.window_frame {
                Some(frame) => Some(self.frame(frame, scope, &mut inner)?),
                None => None,
            };
            let filter = match filter {
                Some(fe) => Some(self.bind_predicate(fe, scope, &mut inner)?),
                None => None,
            };
            let builtin = match name {
                "row_number" => Some(WindowFn::RowNumber),
                "rank" => Some(WindowFn::Rank),
                "dense_rank" => Some(WindowFn::DenseRank),
                "percent_rank" => Some(WindowFn::PercentRank),
                "cume_dist" => Some(WindowFn::CumeDist),
                "ntile" => Some(WindowFn::Ntile),
                "lag" => Some(WindowFn::Lag),
                "lead" => Some(WindowFn::Lead),
                "first_value" => Some(WindowFn::FirstValue),
                "last_value" => Some(WindowFn::LastValue),
                "nth_value" => Some(WindowFn::NthValue),
                _ => None,
            };
            let (func, args, t) = match builtin {
                Some(w) => {
                    let (args, t) = self.window_builtin_args(w, bound)?;
                    (WindowFunc::Builtin(w), args, t)
                }
                None => {
                    if !is_aggregate(name) {
                        return Err(SqlError::new(
                            code::WRONG_OBJECT_TYPE,
                            format!("OVER specified, but {name} is not a window function nor an aggregate function"),
                        ));
                    }
                    let _ = star;
                    let types: Vec<SqlType> = bound.iter().map(|(_, t)| t.clone()).collect();
                    let aggregate = resolve_aggregate(name, &types)?.ok_or_else(|| {
                        SqlError::new(
                            code::UNDEFINED_FUNCTION,
                            format!("function {name} does not exist"),
                        )
                    })?;
                    let mut exprs = Vec::new();
                    for ((e, t), target) in bound.into_iter().zip(aggregate.arg_types.iter()) {
                        exprs.push(self.coerce(e, &t, target)?);
                    }
                    let t = aggregate.return_type.clone();
                    (WindowFunc::Aggregate(aggregate), exprs, t)
                }
            };
            let call = WindowCall {
                func,
                args,
                partition_by,
                order_by,
                frame,
                filter,
            };
            Ok((t, call))
        })();
        cx.aggs = inner.aggs.take();
        let (t, call) = result?;
        let windows = cx
            .windows
            .as_mut()
            .ok_or_else(|| SqlError::internal("no window list"))?;
        windows.push((call, t.clone()));
        Ok((Expr::WindowRef(windows.len() - 1), t))
    }

    /// `(a, b) op (c, d)`: pairwise equality, or PostgreSQL's lexicographic ordering.
    fn row_comparison(
        &mut self,
        op: &str,
        left_type: &SqlType,
        a: Vec<Expr>,
        right_type: &SqlType,
        b: Vec<Expr>,
    ) -> SqlResult<Typed> {
        let field_types = |t: &SqlType, n: usize| -> Vec<SqlType> {
            match t {
                SqlType::Composite(fields) => fields.iter().map(|(_, t)| t.clone()).collect(),
                _ => vec![SqlType::Unknown; n],
            }
        };
        let lt = field_types(left_type, a.len());
        let rt = field_types(right_type, b.len());
        let pairs: Vec<(Typed, Typed)> = a.into_iter().zip(lt).zip(b.into_iter().zip(rt)).collect();
        let compare = |this: &mut Self, name: &str, (l, r): &(Typed, Typed)| {
            this.operator(name, Some(l.clone()), r.clone())
                .map(|(e, _)| e)
        };
        match op {
            "=" | "<>" => {
                let mut parts = Vec::new();
                for p in &pairs {
                    parts.push(compare(self, op, p)?);
                }
                let e = if op == "=" {
                    Expr::And(parts)
                } else {
                    Expr::Or(parts)
                };
                Ok((e, SqlType::Bool))
            }
            "<" | "<=" | ">" | ">=" => {
                let strict = &op[..1];
                // Built from the last pair outwards: (a1 < b1) OR (a1 = b1 AND rest).
                let last = pairs.len() - 1;
                let mut e = compare(self, op, &pairs[last])?;
                for p in pairs[..last].iter().rev() {
                    let less = compare(self, strict, p)?;
                    let equal = compare(self, "=", p)?;
                    e = Expr::Or(vec![less, Expr::And(vec![equal, e])]);
                }
                Ok((e, SqlType::Bool))
            }
            other => Err(SqlError::new(
                code::UNDEFINED_FUNCTION,
                format!("operator does not exist: record {other} record"),
            )),
        }
    }

    /// `make_interval(days => 10, hours => 2)`: named arguments in PostgreSQL's parameter
    /// order (years, months, weeks, days, hours, mins, secs), the others 0.
    fn make_interval_named(
        &mut self,
        f: &ast::Function,
        scope: &Scope,
        cx: &mut ExprContext,
    ) -> SqlResult<Option<Typed>> {
        const NAMES: [&str; 7] = ["years", "months", "weeks", "days", "hours", "mins", "secs"];
        let FunctionArguments::List(list) = &f.args else {
            return Ok(None);
        };
        if !list
            .args
            .iter()
            .any(|a| matches!(a, FunctionArg::Named { .. } | FunctionArg::ExprNamed { .. }))
        {
            return Ok(None);
        }
        let mut slots: Vec<Option<&ast::Expr>> = vec![None; NAMES.len()];
        let mut position = 0;
        for a in &list.args {
            match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => {
                    if position >= NAMES.len() {
                        return Err(SqlError::new(
                            code::UNDEFINED_FUNCTION,
                            "function make_interval has too many arguments",
                        ));
                    }
                    slots[position] = Some(e);
                    position += 1;
                }
                FunctionArg::Named {
                    name,
                    arg: FunctionArgExpr::Expr(e),
                    ..
                }
                | FunctionArg::ExprNamed {
                    name: ast::Expr::Identifier(name),
                    arg: FunctionArgExpr::Expr(e),
                    ..
                } => {
                    let n = ident_name(name);
                    let i = NAMES.iter().position(|x| *x == n).ok_or_else(|| {
                        SqlError::new(
                            code::UNDEFINED_FUNCTION,
                            format!("function make_interval({n} => unknown) does not exist"),
                        )
                    })?;
                    slots[i] = Some(e);
                }
                _ => return Err(SqlError::unsupported("this argument form")),
            }
        }
        let mut bound = Vec::new();
        for (i, slot) in slots.iter().enumerate() {
            bound.push(match slot {
                Some(e) => self.bind_expr(e, scope, cx)?,
                None if i == 6 => (Expr::Const(Value::Float8(0.0)), SqlType::Float8),
                None => (Expr::Const(Value::Int4(0)), SqlType::Int4),
            });
        }
        Ok(Some(self.call("make_interval", bound)?))
    }

    /// The definition of `WINDOW name AS (...)` of the query being bound.
    fn named_window(&self, name: &str) -> SqlResult<ast::WindowSpec> {
        let found = self
            .windows
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s.clone());
        match found {
            Some(mut spec) => {
                if let Some(base) = spec.window_name.take() {
                    let base = self.named_window(&ident_name(&base))?;
                    if spec.partition_by.is_empty() {
                        spec.partition_by = base.partition_by;
                    }
                    if spec.order_by.is_empty() {
                        spec.order_by = base.order_by;
                    }
                    if spec.window_frame.is_none() {
                        spec.window_frame = base.window_frame;
                    }
                }
                Ok(spec)
            }
            None => Err(SqlError::new(
                code::UNDEFINED_OBJECT,
                format!("window \"{name}\" does not exist"),
            )),
        }
    }

    fn window_builtin_args(
        &mut self,
        w: WindowFn,
        bound: Vec<Typed>,
    ) -> SqlResult<(Vec<Expr>, SqlType)> {
        let argc = bound.len();
        let bad = || {
            SqlError::new(
                code::UNDEFINED_FUNCTION,
                "function does not exist with these arguments".to_string(),
            )
        };
        Ok(match w {
            WindowFn::RowNumber | WindowFn::Rank | WindowFn::DenseRank => {
                if argc != 0 {
                    return Err(bad());
                }
                (vec![], SqlType::Int8)
            }
            WindowFn::PercentRank | WindowFn::CumeDist => {
                if argc != 0 {
                    return Err(bad());
                }
                (vec![], SqlType::Float8)
            }
            WindowFn::Ntile => {
                if argc != 1 {
                    return Err(bad());
                }
                let mut it = bound.into_iter();
                let n = it.next().ok_or_else(bad)?;
                (
                    vec![self.coerce_to(n, &SqlType::Int4, "argument of ntile")?],
                    SqlType::Int4,
                )
            }
            WindowFn::Lag | WindowFn::Lead => {
                if !(1..=3).contains(&argc) {
                    return Err(bad());
                }
                let mut it = bound.into_iter();
                let (v, vt) = it.next().ok_or_else(bad)?;
                let mut t = vt.clone();
                let mut out = vec![];
                let offset = it.next();
                let default = it.next();
                if let Some(d) = &default {
                    t = common_type(&[vt.clone(), d.1.clone()], "lag")?;
                }
                if t == SqlType::Unknown {
                    t = SqlType::Text;
                }
                out.push(self.coerce(v, &vt, &t)?);
                match offset {
                    Some(o) => out.push(self.coerce_to(o, &SqlType::Int4, "offset")?),
                    None => out.push(Expr::Const(Value::Int4(1))),
                }
                match default {
                    Some((d, dt)) => out.push(self.coerce(d, &dt, &t)?),
                    None => out.push(Expr::Const(Value::Null)),
                }
                (out, t)
            }
            WindowFn::FirstValue | WindowFn::LastValue => {
                if argc != 1 {
                    return Err(bad());
                }
                let (v, t) = bound.into_iter().next().ok_or_else(bad)?;
                (vec![v], t)
            }
            WindowFn::NthValue => {
                if argc != 2 {
                    return Err(bad());
                }
                let mut it = bound.into_iter();
                let (v, t) = it.next().ok_or_else(bad)?;
                let n = it.next().ok_or_else(bad)?;
                (vec![v, self.coerce_to(n, &SqlType::Int4, "nth")?], t)
            }
        })
    }

    fn frame(
        &mut self,
        frame: &ast::WindowFrame,
        scope: &Scope,
        cx: &mut ExprContext,
    ) -> SqlResult<Frame> {
        let units = match frame.units {
            ast::WindowFrameUnits::Rows => FrameUnits::Rows,
            ast::WindowFrameUnits::Range => FrameUnits::Range,
            ast::WindowFrameUnits::Groups => FrameUnits::Groups,
        };
        let mut bound = |b: &ast::WindowFrameBound, this: &mut Self| -> SqlResult<FrameBound> {
            Ok(match b {
                ast::WindowFrameBound::CurrentRow => FrameBound::CurrentRow,
                ast::WindowFrameBound::Preceding(None) => FrameBound::UnboundedPreceding,
                ast::WindowFrameBound::Following(None) => FrameBound::UnboundedFollowing,
                ast::WindowFrameBound::Preceding(Some(e)) => {
                    FrameBound::Preceding(this.bind_expr(e, scope, cx)?.0)
                }
                ast::WindowFrameBound::Following(Some(e)) => {
                    FrameBound::Following(this.bind_expr(e, scope, cx)?.0)
                }
            })
        };
        let start = bound(&frame.start_bound, self)?;
        let end = match &frame.end_bound {
            Some(b) => bound(b, self)?,
            None => FrameBound::CurrentRow,
        };
        Ok(Frame { units, start, end })
    }
}

fn nested_aggregate(e: SqlError) -> SqlError {
    if e.code == code::GROUPING_ERROR && e.message.contains("aggregate function calls") {
        SqlError::new(
            code::GROUPING_ERROR,
            "aggregate function calls cannot be nested",
        )
    } else {
        e
    }
}

/// `{"name":value,...}` from alternating field names and json values (NULL → null).
fn compact_json_object(_: &crate::func::FnCtx, args: &[Value]) -> SqlResult<Value> {
    let mut out = String::from("{");
    for (i, pair) in args.chunks(2).enumerate() {
        if i > 0 {
            out.push(',');
        }
        let name = match &pair[0] {
            Value::Text(s) => s.as_str(),
            _ => "",
        };
        out.push_str(&serde_json::to_string(name).unwrap_or_else(|_| "\"\"".into()));
        out.push(':');
        match pair.get(1) {
            Some(Value::Json(j)) | Some(Value::Jsonb(j)) | Some(Value::Text(j)) => out.push_str(j),
            _ => out.push_str("null"),
        }
    }
    out.push('}');
    Ok(Value::Json(out))
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
