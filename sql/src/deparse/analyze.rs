//! Parse analysis as PostgreSQL does it for a stored expression (`transformExpr` and the
//! raw grammar's rewrites): sqlparser's AST of the catalog's SQL text becomes the node tree
//! PostgreSQL would have stored in `pg_node_tree`, typed, with operators and functions
//! resolved (through the engine's function registry, which follows `pg_operator` and
//! `pg_proc`) and the coercions they need inserted.
//!
//! The grammar's rewrites are reproduced: `a AND b AND c` is one AND (a nested right
//! operand stays nested), `x BETWEEN a AND b` is `x >= a AND x <= b`, `x IN (...)` is
//! `x = ANY (ARRAY[...])` for the items without columns, `LIKE` is `~~`, `IS NOT DISTINCT
//! FROM` is `NOT (... IS DISTINCT FROM ...)` (a NULL test against a bare NULL), and a minus
//! sign folds into a numeric literal. This file holds the recursive descent, operators and
//! function calls; the compound forms (IN, ANY/ALL, BETWEEN, CASE, ARRAY, subscripts, row
//! comparisons) are in `forms`, coercions in `coerce`. Anything else (subqueries,
//! parameters, collations, ordering comparisons of rows) is [`Unsupported`].

use std::cell::Cell;

use sqlparser::ast::{
    self, BinaryOperator, CeilFloorKind, DateTimeField, FunctionArg, FunctionArgExpr,
    FunctionArguments, UnaryOperator, Value as AstValue,
};

use super::constants::{literal, number};
use super::node::{BoolOp, CastForm, Node, Syntax};
use super::{DeparseCtx, Unsupported};
use crate::bind::{ident_name, object_name_parts};
use crate::func::{registry, Implementation};
use crate::pgtype::SqlType;

/// Deepest nesting analysed (stored expressions come from the parser, which limits nesting
/// well below this; the guard keeps a hand-made catalog from exhausting the stack).
const MAX_DEPTH: usize = 256;

/// Analyses expressions over the columns of one relation.
pub(super) struct Analyzer<'a> {
    pub(super) ctx: &'a DeparseCtx<'a>,
    columns: &'a [(String, SqlType)],
    depth: Cell<usize>,
}

/// Strips the parentheses sqlparser keeps (PostgreSQL's raw tree has no node for them).
pub(super) fn strip(e: &ast::Expr) -> &ast::Expr {
    match e {
        ast::Expr::Nested(inner) => strip(inner),
        other => other,
    }
}

/// The name of a binary operator as PostgreSQL spells it (`!=` is `<>`).
fn operator_name(op: &BinaryOperator) -> String {
    match op {
        BinaryOperator::PGCustomBinaryOperator(parts) => parts.last().cloned().unwrap_or_default(),
        BinaryOperator::Spaceship => "<=>".into(),
        BinaryOperator::LtDashGt => "<->".into(),
        BinaryOperator::Custom(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Argument and result types of the session functions the binder implements itself.
fn session_signature(name: &str, arity: usize) -> Option<(Vec<SqlType>, SqlType)> {
    use SqlType::*;
    Some(match (name, arity) {
        ("nextval" | "currval", 1) => (vec![RegClass], Int8),
        ("setval", 2) => (vec![RegClass, Int8], Int8),
        ("setval", 3) => (vec![RegClass, Int8, Bool], Int8),
        ("lastval" | "txid_current", 0) => (vec![], Int8),
        ("current_setting", 1) => (vec![Text], Text),
        ("current_setting", 2) => (vec![Text, Bool], Text),
        ("current_database", 0) => (vec![], Name),
        ("version", 0) => (vec![], Text),
        ("pg_backend_pid", 0) => (vec![], Int4),
        _ => return None,
    })
}

impl<'a> Analyzer<'a> {
    pub(super) fn new(ctx: &'a DeparseCtx<'a>, columns: &'a [(String, SqlType)]) -> Self {
        Analyzer {
            ctx,
            columns,
            depth: Cell::new(0),
        }
    }

    pub(super) fn expr(&self, e: &ast::Expr) -> Result<Node, Unsupported> {
        let depth = self.depth.get() + 1;
        if depth > MAX_DEPTH {
            return Err(Unsupported::new("expression nested too deeply"));
        }
        self.depth.set(depth);
        let result = self.expr_inner(e);
        self.depth.set(depth - 1);
        result
    }

    fn expr_inner(&self, e: &ast::Expr) -> Result<Node, Unsupported> {
        use ast::Expr as E;
        match e {
            E::Nested(inner) => self.expr(inner),
            E::Identifier(ident) => {
                let name = ident_name(ident);
                if ident.quote_style.is_none() {
                    if let Ok(node) = self.sql_value(&name, None) {
                        return Ok(node);
                    }
                }
                self.column(&name)
            }
            E::CompoundIdentifier(parts) if (2..=4).contains(&parts.len()) => {
                let name = parts.last().map(ident_name).unwrap_or_default();
                self.column(&name)
            }
            E::Value(v) => literal(self.ctx, &v.value),
            E::TypedString(ts) => {
                let ty = crate::bind::types::sql_type(&ts.data_type)?;
                let text = match &ts.value.value {
                    AstValue::SingleQuotedString(s) | AstValue::EscapedStringLiteral(s) => {
                        s.clone()
                    }
                    other => return Err(Unsupported::new(format!("typed literal {other}"))),
                };
                let untyped = Node::Const {
                    text: Some(text),
                    ty: SqlType::Unknown,
                };
                self.coerce(untyped, &ty, CastForm::Explicit)
            }
            E::Cast {
                expr,
                data_type,
                format: None,
                kind: ast::CastKind::Cast | ast::CastKind::DoubleColon,
            } => self.cast(expr, data_type),
            E::BinaryOp {
                left,
                op: op @ (BinaryOperator::And | BinaryOperator::Or),
                right,
            } => self.and_or(left, op, right),
            E::BinaryOp { left, op, right } => {
                let l = self.expr(left)?;
                let r = self.expr(right)?;
                let name = operator_name(op);
                match (l, r) {
                    (Node::Row { args: a }, Node::Row { args: b }) => {
                        self.row_comparison(&name, a, b)
                    }
                    (l, r) => self.operator(&name, Some(l), r),
                }
            }
            E::Tuple(items) => {
                let mut args = Vec::new();
                for item in items {
                    args.push(self.expr(item)?);
                }
                Ok(Node::Row { args })
            }
            E::UnaryOp { op, expr } => self.unary(op, expr),
            E::IsNull(x) | E::IsNotNull(x) => Ok(Node::NullTest {
                arg: Box::new(self.expr(x)?),
                negated: matches!(e, E::IsNotNull(_)),
            }),
            E::IsTrue(x) => self.bool_test(x, " IS TRUE"),
            E::IsNotTrue(x) => self.bool_test(x, " IS NOT TRUE"),
            E::IsFalse(x) => self.bool_test(x, " IS FALSE"),
            E::IsNotFalse(x) => self.bool_test(x, " IS NOT FALSE"),
            E::IsUnknown(x) => self.bool_test(x, " IS UNKNOWN"),
            E::IsNotUnknown(x) => self.bool_test(x, " IS NOT UNKNOWN"),
            E::IsDistinctFrom(a, b) | E::IsNotDistinctFrom(a, b) => {
                let negated = matches!(e, E::IsNotDistinctFrom(..));
                // Against a bare NULL literal it is a NULL test of the other side.
                let is_null =
                    |x: &ast::Expr| matches!(strip(x), E::Value(v) if v.value == AstValue::Null);
                let other = match (is_null(a), is_null(b)) {
                    (_, true) => Some(a),
                    (true, false) => Some(b),
                    (false, false) => None,
                };
                if let Some(other) = other {
                    return Ok(Node::NullTest {
                        arg: Box::new(self.expr(other)?),
                        negated: !negated,
                    });
                }
                let distinct = self.distinct(a, b)?;
                Ok(if negated {
                    Node::Bool {
                        op: BoolOp::Not,
                        args: vec![distinct],
                    }
                } else {
                    distinct
                })
            }
            E::In {
                expr,
                target: ast::InTarget::List(list),
                negated,
                ..
            } => self.in_list(expr, list, *negated),
            E::Between {
                expr,
                negated,
                low,
                high,
            } => self.between(expr, *negated, low, high),
            E::Like {
                negated,
                any: false,
                expr,
                pattern,
                escape_char,
            }
            | E::ILike {
                negated,
                any: false,
                expr,
                pattern,
                escape_char,
            } => {
                let op = match (matches!(e, E::ILike { .. }), negated) {
                    (false, false) => "~~",
                    (false, true) => "!~~",
                    (true, false) => "~~*",
                    (true, true) => "!~~*",
                };
                let x = self.expr(expr)?;
                let mut p = self.expr(pattern)?;
                if let Some(escape) = escape_char {
                    let escape = self.expr(escape)?;
                    p = self.call("like_escape", vec![p, escape], Syntax::Call)?;
                }
                self.operator(op, Some(x), p)
            }
            E::SimilarTo {
                negated,
                expr,
                pattern,
                escape_char,
            } => {
                let x = self.expr(expr)?;
                let mut args = vec![self.expr(pattern)?];
                if let Some(escape) = escape_char {
                    args.push(self.expr(escape)?);
                }
                let regex = self.call("similar_to_escape", args, Syntax::Call)?;
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
                let l = self.expr(left)?;
                let r = self.expr(right)?;
                self.array_op(
                    &operator_name(compare_op),
                    matches!(e, E::AnyOp { .. }),
                    l,
                    r,
                )
            }
            E::Case {
                operand,
                conditions,
                else_result,
                ..
            } => self.case(operand.as_deref(), conditions, else_result.as_deref()),
            E::Array(array) => self.array(&array.elem, None),
            E::Function(f) => self.function(f),
            E::Extract { field, expr, .. } => {
                let field = crate::bind::expr::field_name(field);
                let name = Node::Const {
                    text: Some(field.clone()),
                    ty: SqlType::Text,
                };
                let source = self.expr(expr)?;
                self.call("extract", vec![name, source], Syntax::Extract(field))
            }
            E::Substring {
                expr,
                substring_from,
                substring_for,
                special,
                shorthand,
            } => {
                let mut args = vec![self.expr(expr)?];
                match substring_from {
                    Some(from) => args.push(self.expr(from)?),
                    None => args.push(number(self.ctx, "1")?),
                }
                if let Some(count) = substring_for {
                    args.push(self.expr(count)?);
                }
                match (shorthand, special) {
                    (true, _) => self.call("substr", args, Syntax::Call),
                    (false, true) => self.call("substring", args, Syntax::Call),
                    (false, false) => self.call("substring", args, Syntax::Substring),
                }
            }
            E::Position { expr, r#in } => {
                let needle = self.expr(expr)?;
                let haystack = self.expr(r#in)?;
                self.call("strpos", vec![haystack, needle], Syntax::Position)
            }
            E::Trim {
                trim_where,
                trim_what,
                expr,
                trim_characters: None,
            } => {
                let (function, side) = match trim_where {
                    Some(ast::TrimWhereField::Leading) => ("ltrim", "LEADING"),
                    Some(ast::TrimWhereField::Trailing) => ("rtrim", "TRAILING"),
                    _ => ("btrim", "BOTH"),
                };
                let mut args = vec![self.expr(expr)?];
                if let Some(what) = trim_what {
                    args.push(self.expr(what)?);
                }
                self.call(function, args, Syntax::Trim(side))
            }
            E::AtTimeZone {
                timestamp,
                time_zone,
            } => {
                let ts = self.expr(timestamp)?;
                let zone = self.expr(time_zone)?;
                self.call("timezone", vec![zone, ts], Syntax::AtTimeZone)
            }
            E::Ceil {
                expr,
                field: CeilFloorKind::DateTimeField(DateTimeField::NoDateTime),
            } => {
                let x = self.expr(expr)?;
                self.call("ceil", vec![x], Syntax::Call)
            }
            E::Floor {
                expr,
                field: CeilFloorKind::DateTimeField(DateTimeField::NoDateTime),
            } => {
                let x = self.expr(expr)?;
                self.call("floor", vec![x], Syntax::Call)
            }
            E::Interval(interval)
                if interval.leading_field.is_none()
                    && interval.last_field.is_none()
                    && interval.leading_precision.is_none()
                    && interval.fractional_seconds_precision.is_none() =>
            {
                let value = self.expr(&interval.value)?;
                self.coerce(value, &SqlType::Interval, CastForm::Explicit)
            }
            E::CompoundFieldAccess { root, access_chain } => self.subscript(root, access_chain),
            other => Err(Unsupported::new(format!("expression {other}"))),
        }
    }

    fn column(&self, name: &str) -> Result<Node, Unsupported> {
        self.columns
            .iter()
            .find(|(column, _)| column == name)
            .map(|(column, ty)| Node::Var {
                name: column.clone(),
                ty: ty.clone(),
            })
            .ok_or_else(|| Unsupported::new(format!("column {name}")))
    }

    /// `CURRENT_TIMESTAMP`, `CURRENT_USER`... (PostgreSQL's `SQLValueFunction`), with the
    /// precision of the time ones.
    fn sql_value(&self, name: &str, precision: Option<&ast::Expr>) -> Result<Node, Unsupported> {
        use SqlType::*;
        let (keyword, ty, timed) = match name {
            "current_date" => ("CURRENT_DATE", Date, false),
            // timetz in PostgreSQL, which custos does not have.
            "current_time" => ("CURRENT_TIME", Time, true),
            "current_timestamp" => ("CURRENT_TIMESTAMP", Timestamptz, true),
            "localtime" => ("LOCALTIME", Time, true),
            "localtimestamp" => ("LOCALTIMESTAMP", Timestamp, true),
            "current_role" => ("CURRENT_ROLE", Name, false),
            "current_user" => ("CURRENT_USER", Name, false),
            "user" => ("USER", Name, false),
            "session_user" => ("SESSION_USER", Name, false),
            "current_catalog" => ("CURRENT_CATALOG", Name, false),
            "current_schema" => ("CURRENT_SCHEMA", Name, false),
            _ => return Err(Unsupported::new(format!("function {name}"))),
        };
        let keyword = match precision {
            None => keyword.to_string(),
            Some(p) if timed => match strip(p) {
                ast::Expr::Value(v) => match &v.value {
                    AstValue::Number(n, _) => format!("{keyword}({n})"),
                    _ => return Err(Unsupported::new("precision")),
                },
                _ => return Err(Unsupported::new("precision")),
            },
            Some(_) => return Err(Unsupported::new(format!("{keyword} with arguments"))),
        };
        Ok(Node::SqlValue { keyword, ty })
    }

    /// `x::type` / `CAST(x AS type)`: an `ARRAY[...]` cast to an array type casts each
    /// element instead.
    fn cast(&self, inner: &ast::Expr, data_type: &ast::DataType) -> Result<Node, Unsupported> {
        let ty = crate::bind::types::sql_type(data_type)?;
        if let (ast::Expr::Array(array), SqlType::Array(element)) = (strip(inner), &ty) {
            return self.array(&array.elem, Some(element));
        }
        let node = self.expr(inner)?;
        self.coerce(node, &ty, CastForm::Explicit)
    }

    /// AND / OR: a left operand that is the same connective (parentheses aside) is flattened
    /// into this one, as the grammar's `makeAndExpr` does; a right one stays nested.
    fn and_or(
        &self,
        left: &ast::Expr,
        op: &BinaryOperator,
        right: &ast::Expr,
    ) -> Result<Node, Unsupported> {
        let bool_op = if *op == BinaryOperator::And {
            BoolOp::And
        } else {
            BoolOp::Or
        };
        let flattens = matches!(strip(left), ast::Expr::BinaryOp { op: inner, .. } if inner == op);
        let mut args = match self.expr(left)? {
            Node::Bool { op: o, args } if flattens && o == bool_op => args,
            other => vec![self.boolean(other)?],
        };
        args.push(self.boolean(self.expr(right)?)?);
        Ok(Node::Bool { op: bool_op, args })
    }

    fn unary(&self, op: &UnaryOperator, expr: &ast::Expr) -> Result<Node, Unsupported> {
        let name = match op {
            UnaryOperator::Not => {
                let arg = self.boolean(self.expr(expr)?)?;
                return Ok(Node::Bool {
                    op: BoolOp::Not,
                    args: vec![arg],
                });
            }
            UnaryOperator::Minus => {
                // The grammar folds a minus sign into a numeric literal (`doNegate`).
                if let ast::Expr::Value(v) = strip(expr) {
                    if let AstValue::Number(digits, _) = &v.value {
                        return number(self.ctx, &format!("-{digits}"));
                    }
                }
                "-"
            }
            UnaryOperator::Plus => "+",
            UnaryOperator::PGSquareRoot => "|/",
            UnaryOperator::PGCubeRoot => "||/",
            UnaryOperator::PGAbs => "@",
            UnaryOperator::BitwiseNot => "~",
            other => return Err(Unsupported::new(format!("operator {other}"))),
        };
        let arg = self.expr(expr)?;
        self.operator(name, None, arg)
    }

    fn bool_test(&self, x: &ast::Expr, test: &'static str) -> Result<Node, Unsupported> {
        Ok(Node::BoolTest {
            arg: Box::new(self.boolean(self.expr(x)?)?),
            test,
        })
    }

    fn distinct(&self, a: &ast::Expr, b: &ast::Expr) -> Result<Node, Unsupported> {
        let l = self.expr(a)?;
        let r = self.expr(b)?;
        let (left, right) = self.equality_args(l, r)?;
        Ok(Node::Distinct {
            left: Box::new(left),
            right: Box::new(right),
        })
    }

    /// The two arguments of `l = r` after the equality operator's coercions.
    pub(super) fn equality_args(&self, l: Node, r: Node) -> Result<(Node, Node), Unsupported> {
        match self.operator("=", Some(l), r)? {
            Node::Op { args, .. } if args.len() == 2 => {
                let mut args = args.into_iter();
                match (args.next(), args.next()) {
                    (Some(l), Some(r)) => Ok((l, r)),
                    _ => Err(Unsupported::new("equality")),
                }
            }
            _ => Err(Unsupported::new("equality")),
        }
    }

    /// An operator call, resolved like `oper()` / `make_op`.
    pub(super) fn operator(
        &self,
        name: &str,
        left: Option<Node>,
        right: Node,
    ) -> Result<Node, Unsupported> {
        let left_type = left.as_ref().map(Node::ty);
        let resolved = registry().resolve_operator(name, left_type.as_ref(), &right.ty())?;
        if !matches!(resolved.overload.implementation, Implementation::Scalar(_)) {
            return Err(Unsupported::new(format!("operator {name}")));
        }
        let mut args = Vec::new();
        for (node, ty) in left
            .into_iter()
            .chain(std::iter::once(right))
            .zip(&resolved.arg_types)
        {
            args.push(self.coerce(node, ty, CastForm::Implicit)?);
        }
        Ok(Node::Op {
            name: name.to_string(),
            args,
            ty: resolved.return_type,
        })
    }

    /// A function call, resolved like `ParseFuncOrColumn`.
    pub(super) fn call(
        &self,
        name: &str,
        args: Vec<Node>,
        syntax: Syntax,
    ) -> Result<Node, Unsupported> {
        let types: Vec<SqlType> = args.iter().map(Node::ty).collect();
        let (arg_types, ty) = match registry().resolve(name, &types) {
            Ok(r) if matches!(r.overload.implementation, Implementation::Scalar(_)) => {
                (r.arg_types, r.return_type)
            }
            _ => match session_signature(name, args.len()) {
                Some(signature) => signature,
                None => self.user_function(name, args.len())?,
            },
        };
        let mut coerced = Vec::new();
        for (node, t) in args.into_iter().zip(&arg_types) {
            coerced.push(self.coerce(node, t, CastForm::Implicit)?);
        }
        Ok(Node::Func {
            name: name.to_string(),
            args: coerced,
            ty,
            syntax,
        })
    }

    /// A user-defined scalar function by name and number of arguments.
    fn user_function(
        &self,
        name: &str,
        arity: usize,
    ) -> Result<(Vec<SqlType>, SqlType), Unsupported> {
        let f = self
            .ctx
            .catalog
            .functions
            .values()
            .find(|f| f.name == name && f.arguments.len() == arity && !f.returns_set)
            .ok_or_else(|| Unsupported::new(format!("function {name}")))?;
        let args = f
            .arguments
            .iter()
            .map(|(_, t)| SqlType::from_data_type(t))
            .collect();
        let ty = f
            .returns
            .as_ref()
            .map_or(SqlType::Void, SqlType::from_data_type);
        Ok((args, ty))
    }

    fn function(&self, f: &ast::Function) -> Result<Node, Unsupported> {
        if f.over.is_some() || f.filter.is_some() || !f.within_group.is_empty() {
            return Err(Unsupported::new("aggregate or window call"));
        }
        let parts = object_name_parts(&f.name);
        let name = match parts.as_slice() {
            [name] => name.clone(),
            [schema, name] if schema == "pg_catalog" || schema == "public" => name.clone(),
            _ => return Err(Unsupported::new(format!("function {}", f.name))),
        };
        let list = match &f.args {
            FunctionArguments::None => return self.sql_value(&name, None),
            FunctionArguments::Subquery(_) => return Err(Unsupported::new("subquery argument")),
            FunctionArguments::List(list) => list,
        };
        if list.duplicate_treatment.is_some() || !list.clauses.is_empty() {
            return Err(Unsupported::new("aggregate modifiers"));
        }
        let mut asts = Vec::new();
        for arg in &list.args {
            match arg {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => asts.push(e),
                _ => return Err(Unsupported::new("argument form")),
            }
        }
        if let [precision] = asts.as_slice() {
            if let Ok(node) = self.sql_value(&name, Some(precision)) {
                return Ok(node);
            }
        }
        let mut args = Vec::new();
        for a in asts {
            args.push(self.expr(a)?);
        }
        match name.as_str() {
            "coalesce" | "greatest" | "least" if !args.is_empty() => {
                let ty = self.common_type(&args.iter().collect::<Vec<_>>())?;
                let args = self.coerce_all(args, &ty)?;
                Ok(if name == "coalesce" {
                    Node::Coalesce { args, ty }
                } else {
                    Node::MinMax {
                        greatest: name == "greatest",
                        args,
                        ty,
                    }
                })
            }
            "row" => Ok(Node::Row { args }),
            "nullif" if args.len() == 2 => {
                let mut args = args.into_iter();
                let (Some(l), Some(r)) = (args.next(), args.next()) else {
                    return Err(Unsupported::new("nullif"));
                };
                let (left, right) = self.equality_args(l, r)?;
                let ty = left.ty();
                Ok(Node::NullIf {
                    left: Box::new(left),
                    right: Box::new(right),
                    ty,
                })
            }
            _ => self.call(&name, args, Syntax::Call),
        }
    }
}
