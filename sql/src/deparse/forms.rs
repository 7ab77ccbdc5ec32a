//! The compound forms of parse analysis, each as PostgreSQL builds it: `IN` lists
//! (`transformAExprIn`), `op ANY|ALL (array)` (`make_scalar_array_op`), BETWEEN (the
//! grammar's expansion), CASE (`transformCaseExpr`), `ARRAY[...]`, subscripts and row
//! comparisons (`make_row_comparison_op`).

use sqlparser::ast;

use super::analyze::{strip, Analyzer};
use super::node::{BoolOp, CastForm, Node};
use super::Unsupported;
use crate::func::registry;
use crate::pgtype::SqlType;

impl Analyzer<'_> {
    /// `ROW(a, b) = ROW(c, d)` (AND of the pairs) or `<>` (OR of them), as
    /// `make_row_comparison_op`; the ordering comparisons are not modelled.
    pub(super) fn row_comparison(
        &self,
        name: &str,
        left: Vec<Node>,
        right: Vec<Node>,
    ) -> Result<Node, Unsupported> {
        let op = match name {
            "=" => BoolOp::And,
            "<>" => BoolOp::Or,
            _ => return Err(Unsupported::new(format!("row comparison {name}"))),
        };
        if left.len() != right.len() || left.is_empty() {
            return Err(Unsupported::new("row comparison of unequal rows"));
        }
        let mut pairs = Vec::new();
        for (l, r) in left.into_iter().zip(right) {
            pairs.push(self.boolean(self.operator(name, Some(l), r)?)?);
        }
        if pairs.len() == 1 {
            return pairs
                .pop()
                .ok_or_else(|| Unsupported::new("row comparison"));
        }
        Ok(Node::Bool { op, args: pairs })
    }

    /// `x [NOT] IN (...)` as `transformAExprIn`: the items without columns become one
    /// `= ANY (ARRAY[...])` when there are at least two of them and they share a type; the
    /// others are compared one by one and OR-ed (AND-ed for NOT IN) onto it, nested pairwise.
    pub(super) fn in_list(
        &self,
        expr: &ast::Expr,
        list: &[ast::Expr],
        negated: bool,
    ) -> Result<Node, Unsupported> {
        let (op, combine) = if negated {
            ("<>", BoolOp::And)
        } else {
            ("=", BoolOp::Or)
        };
        let left = self.expr(expr)?;
        let mut items = Vec::new();
        for item in list {
            items.push(self.expr(item)?);
        }
        let constant_count = items.iter().filter(|n| !n.has_var()).count();
        let mut result = None;
        if constant_count > 1 {
            let mut candidates = vec![&left];
            candidates.extend(items.iter().filter(|n| !n.has_var()));
            let common = self
                .common_type(&candidates)
                .ok()
                .filter(|t| !matches!(t, SqlType::Record | SqlType::Composite(_)));
            if let Some(common) = common {
                let (with_vars, constants): (Vec<Node>, Vec<Node>) =
                    items.into_iter().partition(Node::has_var);
                let elements = self.coerce_all(constants, &common)?;
                let array = Node::Array {
                    elements,
                    ty: SqlType::Array(Box::new(common.without_modifier())),
                };
                result = Some(self.array_op(op, !negated, left.clone(), array)?);
                items = with_vars;
            }
        }
        for item in items {
            let comparison = match (&left, item) {
                (Node::Row { args: l }, Node::Row { args: r }) => {
                    self.row_comparison(op, l.clone(), r)?
                }
                (_, item) => self.boolean(self.operator(op, Some(left.clone()), item)?)?,
            };
            result = Some(match result {
                None => comparison,
                Some(previous) => Node::Bool {
                    op: combine,
                    args: vec![previous, comparison],
                },
            });
        }
        result.ok_or_else(|| Unsupported::new("empty IN list"))
    }

    /// `left op ANY|ALL (right)` as `make_scalar_array_op`.
    pub(super) fn array_op(
        &self,
        op: &str,
        any: bool,
        left: Node,
        right: Node,
    ) -> Result<Node, Unsupported> {
        let right_type = right.ty();
        let element = match &right_type {
            SqlType::Unknown => SqlType::Unknown,
            SqlType::Array(element) => (**element).clone(),
            other => {
                return Err(Unsupported::new(format!(
                    "ANY/ALL over {}",
                    other.display_name()
                )))
            }
        };
        let resolved = registry().resolve_operator(op, Some(&left.ty()), &element)?;
        let (Some(left_param), Some(right_param)) =
            (resolved.arg_types.first(), resolved.arg_types.get(1))
        else {
            return Err(Unsupported::new("ANY/ALL operator"));
        };
        let left = self.coerce(left, left_param, CastForm::Implicit)?;
        let array_type = SqlType::Array(Box::new(right_param.clone()));
        let right = self.coerce(right, &array_type, CastForm::Implicit)?;
        Ok(Node::ArrayOp {
            op: op.to_string(),
            any,
            left: Box::new(left),
            right: Box::new(right),
        })
    }

    /// BETWEEN as the grammar rewrites it: `x >= a AND x <= b`, or `x < a OR x > b`.
    pub(super) fn between(
        &self,
        expr: &ast::Expr,
        negated: bool,
        low: &ast::Expr,
        high: &ast::Expr,
    ) -> Result<Node, Unsupported> {
        let x = self.expr(expr)?;
        let lo = self.expr(low)?;
        let hi = self.expr(high)?;
        let (op, lower, upper) = if negated {
            (BoolOp::Or, "<", ">")
        } else {
            (BoolOp::And, ">=", "<=")
        };
        let first = self.boolean(self.operator(lower, Some(x.clone()), lo)?)?;
        let second = self.boolean(self.operator(upper, Some(x), hi)?)?;
        Ok(Node::Bool {
            op,
            args: vec![first, second],
        })
    }

    /// CASE as `transformCaseExpr`: the ELSE result (NULL when absent) counts first when
    /// choosing the common result type.
    pub(super) fn case(
        &self,
        operand: Option<&ast::Expr>,
        conditions: &[ast::CaseWhen],
        else_result: Option<&ast::Expr>,
    ) -> Result<Node, Unsupported> {
        let operand = match operand {
            Some(o) => {
                let node = self.expr(o)?;
                Some(if node.ty() == SqlType::Unknown {
                    self.coerce(node, &SqlType::Text, CastForm::Implicit)?
                } else {
                    node
                })
            }
            None => None,
        };
        let mut whens = Vec::new();
        let mut results = Vec::new();
        for c in conditions {
            let when = match &operand {
                Some(o) => {
                    let value = self.expr(&c.condition)?;
                    self.equality_args(o.clone(), value)?.1
                }
                None => self.boolean(self.expr(&c.condition)?)?,
            };
            whens.push(when);
            results.push(self.expr(&c.result)?);
        }
        let default = match else_result {
            Some(e) => self.expr(e)?,
            None => Node::Const {
                text: None,
                ty: SqlType::Unknown,
            },
        };
        let mut all = vec![&default];
        all.extend(results.iter());
        let ty = self.common_type(&all)?;
        let results = self.coerce_all(results, &ty)?;
        let default = self.coerce(default, &ty.without_modifier(), CastForm::Implicit)?;
        Ok(Node::Case {
            operand: operand.map(Box::new),
            whens: whens.into_iter().zip(results).collect(),
            default: Box::new(default),
            ty,
        })
    }

    /// `ARRAY[...]`: elements coerced to their common type, or, under a cast to an array
    /// type, each cast explicitly to its element type.
    pub(super) fn array(
        &self,
        elements: &[ast::Expr],
        element_type: Option<&SqlType>,
    ) -> Result<Node, Unsupported> {
        let mut nodes = Vec::new();
        for e in elements {
            if matches!(strip(e), ast::Expr::Array(_)) {
                return Err(Unsupported::new("multidimensional ARRAY"));
            }
            nodes.push(self.expr(e)?);
        }
        let (elements, element) = match element_type {
            Some(element) => {
                let mut coerced = Vec::new();
                for n in nodes {
                    coerced.push(self.coerce(n, element, CastForm::Explicit)?);
                }
                (coerced, element.clone())
            }
            None if nodes.is_empty() => {
                return Err(Unsupported::new("ARRAY[] without a type"));
            }
            None => {
                let common = self.common_type(&nodes.iter().collect::<Vec<_>>())?;
                (self.coerce_all(nodes, &common)?, common)
            }
        };
        Ok(Node::Array {
            elements,
            ty: SqlType::Array(Box::new(element)),
        })
    }

    /// `a[i]`, `a[i:j]`: subscripts are coerced to integer.
    pub(super) fn subscript(
        &self,
        root: &ast::Expr,
        access_chain: &[ast::AccessExpr],
    ) -> Result<Node, Unsupported> {
        let container = self.expr(root)?;
        let SqlType::Array(element) = container.ty() else {
            return Err(Unsupported::new("subscript of a non-array"));
        };
        let index = |e: &Option<ast::Expr>| -> Result<Option<Node>, Unsupported> {
            match e {
                Some(e) => Ok(Some(self.coerce(
                    self.expr(e)?,
                    &SqlType::Int4,
                    CastForm::Implicit,
                )?)),
                None => Ok(None),
            }
        };
        let mut subscripts = Vec::new();
        let mut slices = 0;
        for access in access_chain {
            match access {
                ast::AccessExpr::Subscript(ast::Subscript::Index { index: i }) => {
                    subscripts.push((None, index(&Some(i.clone()))?));
                }
                ast::AccessExpr::Subscript(ast::Subscript::Slice {
                    lower_bound,
                    upper_bound,
                    stride: None,
                }) => {
                    slices += 1;
                    subscripts.push((index(lower_bound)?, index(upper_bound)?));
                }
                _ => return Err(Unsupported::new("field access")),
            }
        }
        if slices != 0 && slices != subscripts.len() {
            return Err(Unsupported::new("mixed subscripts and slices"));
        }
        let slice = slices != 0;
        let ty = if slice {
            SqlType::Array(element)
        } else {
            *element
        };
        Ok(Node::Subscript {
            container: Box::new(container),
            subscripts,
            slice,
            ty,
        })
    }
}
