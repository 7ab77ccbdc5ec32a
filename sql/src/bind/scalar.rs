//! The scalar pieces of expression binding: literals, column references, explicit casts and
//! coercion, operators and calls by name, ANY / ALL, IN (subquery), scalar subqueries, CASE,
//! ARRAY constructors, IS [NOT] TRUE tests and row comparisons.

use std::sync::Arc;

use sqlparser::ast::{self, Value as AstValue};
use storage::types::Value;

use super::expr::{ExprContext, Typed};
use super::{object_name_parts, Binder, Scope};
use crate::error::{code, SqlError, SqlResult};
use crate::func::registry::registry;
use crate::func::{cast_allowed, common_type};
use crate::func::{CastContext, Implementation};
use crate::pgtype::SqlType;
use crate::plan::Expr;

impl Binder<'_> {
    pub(super) fn bool_test(
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

    /// A column reference, looked up in this query's scope and then the enclosing ones.
    pub(super) fn column_ref(
        &mut self,
        schema: Option<&str>,
        qualifier: Option<&str>,
        name: &str,
        scope: &Scope,
    ) -> SqlResult<Typed> {
        if let Some(i) = scope.find(schema, qualifier, name)? {
            self.note_column(&scope.columns[i]);
            return Ok((Expr::Column(i), scope.columns[i].sql_type.clone()));
        }
        // A FROM item's name alone is its whole row (`to_jsonb(p)`, `row_to_json(x)`).
        if qualifier.is_none() && schema.is_none() && scope.has_qualifier(name) {
            let mut fields = Vec::new();
            let mut exprs = Vec::new();
            for (i, c) in scope.columns.iter().enumerate() {
                if c.qualifier.as_deref() == Some(name) && !c.hidden {
                    self.note_column(c);
                    fields.push((c.name.clone(), c.sql_type.clone()));
                    exprs.push(Expr::Column(i));
                }
            }
            return Ok((Expr::Row(exprs), SqlType::Composite(fields)));
        }
        let mut found = None;
        for (level, outer) in self.outer.iter().rev().enumerate() {
            if let Some(i) = outer.find(schema, qualifier, name)? {
                found = Some((level, i, outer.columns[i].clone()));
                break;
            }
        }
        if let Some((level, i, column)) = found {
            self.note_column(&column);
            self.outer_refs += 1;
            return Ok((
                Expr::Outer {
                    level: level + 1,
                    index: i,
                },
                column.sql_type,
            ));
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

    pub(super) fn any_array(
        &mut self,
        left: Typed,
        op: &str,
        array: Typed,
        all: bool,
    ) -> SqlResult<Expr> {
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

    pub(super) fn in_subquery(
        &mut self,
        left: Typed,
        op: &str,
        query: &ast::Query,
        all: bool,
        scope: &Scope,
    ) -> SqlResult<Expr> {
        let (plan, columns, correlated) = self.subquery(query, scope)?;
        if let Expr::Row(fields) = &left.0 {
            let fields = fields.clone();
            return self.row_in_subquery(fields, &left.1, op, plan, columns, all, correlated);
        }
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

    /// `(a, b) [NOT] IN (SELECT x, y ...)` / `(a, b) = ANY | <> ALL (SELECT ...)`: each pair is
    /// cast to its equality operator's types, the subquery's columns in a projection; the
    /// comparison is on whole rows (op names `row=` / `row<>`, which evaluation and the
    /// semi-join rewrite recognise).
    #[allow(clippy::too_many_arguments)]
    fn row_in_subquery(
        &mut self,
        fields: Vec<Expr>,
        row_type: &SqlType,
        op: &str,
        plan: crate::plan::Plan,
        columns: Vec<crate::plan::OutputColumn>,
        all: bool,
        correlated: bool,
    ) -> SqlResult<Expr> {
        if columns.len() > fields.len() {
            return Err(SqlError::syntax("subquery has too many columns"));
        }
        if columns.len() < fields.len() {
            return Err(SqlError::syntax("subquery has too few columns"));
        }
        let (func, op_name): (crate::func::ScalarFn, &'static str) = match op {
            "=" => (crate::func::row_values_equal, "row="),
            "<>" => (crate::func::row_values_not_equal, "row<>"),
            other => {
                return Err(SqlError::unsupported(format!(
                    "row comparison with {other} ANY/ALL (subquery)"
                )))
            }
        };
        let field_types: Vec<SqlType> = match row_type {
            SqlType::Composite(f) => f.iter().map(|(_, t)| t.clone()).collect(),
            _ => vec![SqlType::Unknown; fields.len()],
        };
        let mut left = Vec::new();
        let mut right = Vec::new();
        let mut cast_needed = false;
        for (i, ((e, lt), column)) in fields
            .into_iter()
            .zip(field_types)
            .zip(columns.iter())
            .enumerate()
        {
            let rt = column.sql_type.clone();
            let resolved = registry().resolve_operator(op, Some(&lt), &rt)?;
            // char(n) pairs compare as text without trailing blanks, as bpchar's = does.
            let (lt_target, rt_target) = match (&resolved.arg_types[0], &resolved.arg_types[1]) {
                (SqlType::Char(_), _) | (_, SqlType::Char(_)) => (SqlType::Text, SqlType::Text),
                (a, b) => (a.clone(), b.clone()),
            };
            left.push(self.coerce(e, &lt, &lt_target)?);
            if rt.same_type(&rt_target) {
                right.push(Expr::Column(i));
            } else {
                cast_needed = true;
                right.push(Expr::Cast {
                    expr: Expr::Column(i).boxed(),
                    from: rt,
                    to: rt_target,
                    explicit: false,
                });
            }
        }
        let plan = if cast_needed {
            crate::plan::Plan::Project {
                input: Box::new(plan),
                exprs: right,
            }
        } else {
            plan
        };
        let id = self.next_id();
        Ok(Expr::InSubquery {
            left: Expr::Row(left).boxed(),
            plan: Arc::new(plan),
            op: func,
            op_name,
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

    pub(super) fn case(
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

    /// `(a, b) op (c, d)`: pairwise equality, or PostgreSQL's lexicographic ordering.
    /// `x [NOT] BETWEEN [SYMMETRIC] low AND high`, as PostgreSQL expands it: `x >= low AND
    /// x <= high`, and with SYMMETRIC also the swapped bounds ORed in. SYMMETRIC arrives as
    /// the parse step's marker call around the lower bound.
    pub(super) fn between(
        &mut self,
        expr: &ast::Expr,
        low: &ast::Expr,
        high: &ast::Expr,
        negated: bool,
        scope: &Scope,
        cx: &mut ExprContext,
    ) -> SqlResult<Typed> {
        let (low, symmetric) = match low {
            ast::Expr::Function(f)
                if object_name_parts(&f.name).last().map(String::as_str)
                    == Some(crate::parse::BETWEEN_SYMMETRIC_MARKER) =>
            {
                match &f.args {
                    ast::FunctionArguments::List(list) => match list.args.as_slice() {
                        [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e))] => (e, true),
                        _ => return Err(SqlError::syntax("syntax error at or near \"SYMMETRIC\"")),
                    },
                    _ => return Err(SqlError::syntax("syntax error at or near \"SYMMETRIC\"")),
                }
            }
            other => (other, false),
        };
        let x = self.bind_expr(expr, scope, cx)?;
        let lo = self.bind_expr(low, scope, cx)?;
        let hi = self.bind_expr(high, scope, cx)?;
        let a = self.operator(">=", Some(x.clone()), lo.clone())?.0;
        let b = self.operator("<=", Some(x.clone()), hi.clone())?.0;
        let mut result = Expr::And(vec![a, b]);
        if symmetric {
            let c = self.operator(">=", Some(x.clone()), hi)?.0;
            let d = self.operator("<=", Some(x), lo)?.0;
            result = Expr::Or(vec![result, Expr::And(vec![c, d])]);
        }
        if negated {
            result = Expr::Not(result.boxed());
        }
        Ok((result, SqlType::Bool))
    }

    /// `(s1, e1) OVERLAPS (s2, e2)`: each side a two-element row whose second element may be
    /// an interval (the period's length), as PostgreSQL's `overlaps` functions take them.
    pub(super) fn overlaps(
        &mut self,
        left: &ast::Expr,
        right: &ast::Expr,
        scope: &Scope,
        cx: &mut ExprContext,
    ) -> SqlResult<Typed> {
        let mut args = Vec::new();
        for (side, e) in [("left", left), ("right", right)] {
            let items: Vec<&ast::Expr> = match e {
                ast::Expr::Tuple(items) => items.iter().collect(),
                ast::Expr::Function(f)
                    if object_name_parts(&f.name).last().map(String::as_str) == Some("row") =>
                {
                    match &f.args {
                        ast::FunctionArguments::List(list) => list
                            .args
                            .iter()
                            .filter_map(|a| match a {
                                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Some(e),
                                _ => None,
                            })
                            .collect(),
                        _ => Vec::new(),
                    }
                }
                _ => Vec::new(),
            };
            let [start, end] = items.as_slice() else {
                return Err(SqlError::syntax(format!(
                    "wrong number of parameters on {side} side of OVERLAPS expression"
                )));
            };
            let start = self.bind_expr(start, scope, cx)?;
            let end = self.bind_expr(end, scope, cx)?;
            let end = if end.1 == SqlType::Interval {
                self.operator("+", Some(start.clone()), end)?
            } else {
                end
            };
            args.push(start);
            args.push(end);
        }
        self.call("overlaps", args)
    }

    pub(super) fn row_comparison(
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
}
