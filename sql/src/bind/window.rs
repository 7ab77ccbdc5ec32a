//! Aggregate and window calls in expressions: the calls are collected into the
//! [`ExprContext`] of the clause (which decides whether they are allowed) and replaced by
//! references to their results; also named windows, window built-in arguments and frames.

use sqlparser::ast;
use storage::types::Value;

use super::expr::{sort_key, ExprContext, Typed};
use super::{ident_name, Binder, Scope};
use crate::error::{code, SqlError, SqlResult};
use crate::func::aggregate::{is_aggregate, resolve_aggregate};
use crate::func::common_type;
use crate::pgtype::SqlType;
use crate::plan::{AggCall, Expr, Frame, FrameBound, FrameUnits, WindowCall, WindowFn, WindowFunc};

impl Binder<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn aggregate_call(
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
    pub(super) fn window_call(
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
