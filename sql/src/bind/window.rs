//! Aggregate and window calls in expressions: the calls are collected into the
//! [`ExprContext`] of the clause (which decides whether they are allowed) and replaced by
//! references to their results; also named windows, window built-in arguments and frames.

use sqlparser::ast;
use storage::types::Value;

use super::expr::{sort_key, ExprContext, Typed};
use super::{ident_name, object_name_parts, Binder, Scope};
use crate::error::{code, SqlError, SqlResult};
use crate::func::aggregate::{is_aggregate, is_ordered_set, resolve_aggregate};
use crate::func::common_type;
use crate::pgtype::SqlType;
use crate::plan::{
    AggCall, Expr, Frame, FrameBound, FrameExclude, FrameUnits, WindowCall, WindowFn, WindowFunc,
};

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
        // PostgreSQL implements DISTINCT by sorting the arguments: without an ORDER BY the
        // distinct values arrive in ascending order (NULLs last).
        if distinct && keys.is_empty() {
            keys = exprs
                .iter()
                .map(|e| crate::plan::SortKey {
                    expr: e.clone(),
                    descending: false,
                    nulls_first: false,
                })
                .collect();
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

    /// An ordered-set aggregate, `percentile_cont(0.5) WITHIN GROUP (ORDER BY x)`: the direct
    /// arguments, then the ordered ones, are the aggregate's arguments; the executor feeds
    /// the rows sorted by the WITHIN GROUP keys.
    pub(super) fn ordered_set_call(
        &mut self,
        name: &str,
        f: &ast::Function,
        direct: &[&ast::Expr],
        filter: Option<&ast::Expr>,
        scope: &Scope,
        cx: &mut ExprContext,
    ) -> SqlResult<Typed> {
        let wrong = |m: String| SqlError::new(code::WRONG_OBJECT_TYPE, m);
        // As in PostgreSQL, the function is looked up with the direct and the WITHIN GROUP
        // arguments together first: a call that fits no signature is 42883.
        if !is_ordered_set(name) || f.within_group.is_empty() {
            let mut inner = ExprContext::plain("aggregate function calls");
            let mut types = Vec::new();
            for a in direct
                .iter()
                .copied()
                .chain(f.within_group.iter().map(|o| &o.expr))
            {
                types.push(self.bind_expr(a, scope, &mut inner)?.1);
            }
            if is_aggregate(name) {
                resolve_aggregate(name, &types)?;
                return Err(wrong(if is_ordered_set(name) {
                    format!("WITHIN GROUP is required for ordered-set aggregate {name}")
                } else {
                    format!(
                        "{name} is not an ordered-set aggregate, so it cannot have WITHIN GROUP"
                    )
                }));
            }
            crate::func::registry().resolve(name, &types)?;
            return Err(wrong(format!(
                "WITHIN GROUP specified, but {name} is not an aggregate function"
            )));
        }
        if f.over.is_some() {
            return Err(wrong(format!(
                "OVER is not supported for ordered-set aggregate {name}"
            )));
        }
        if cx.aggs.is_none() {
            return Err(SqlError::new(
                code::GROUPING_ERROR,
                format!("aggregate functions are not allowed in {}", cx.clause),
            ));
        }
        let mut inner = ExprContext::plain("aggregate function calls");
        let mut bound = Vec::new();
        for a in direct {
            bound.push(
                self.bind_expr(a, scope, &mut inner)
                    .map_err(nested_aggregate)?,
            );
        }
        for o in &f.within_group {
            bound.push(
                self.bind_expr(&o.expr, scope, &mut inner)
                    .map_err(nested_aggregate)?,
            );
        }
        let types: Vec<SqlType> = bound.iter().map(|(_, t)| t.clone()).collect();
        let aggregate = resolve_aggregate(name, &types)?
            .ok_or_else(|| SqlError::internal("ordered-set aggregate without signatures"))?;

        let mut exprs = Vec::new();
        for ((e, t), target) in bound.into_iter().zip(aggregate.arg_types.iter()) {
            exprs.push(self.coerce(e, &t, target)?);
        }
        let ordered_from = direct.len();
        let order_by = f
            .within_group
            .iter()
            .zip(exprs[ordered_from..].iter())
            .map(|(o, e)| sort_key(e.clone(), &o.options))
            .collect();
        let filter = match filter {
            Some(fe) => {
                let mut fcx = ExprContext::plain("FILTER");
                Some(self.bind_predicate(fe, scope, &mut fcx)?)
            }
            None => None,
        };
        let return_type = aggregate.return_type.clone();
        let call = AggCall {
            aggregate,
            args: exprs,
            distinct: false,
            filter,
            order_by,
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
            let mut order_types = Vec::new();
            for o in &spec.order_by {
                let (e, t) = self.bind_expr(&o.expr, scope, &mut inner)?;
                order_by.push(sort_key(e, &o.options));
                order_types.push(t);
            }
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
            // The frame after the function, whose lookup errors come first in PostgreSQL.
            let frame = match &spec.window_frame {
                Some(frame) => Some(self.frame(frame, &order_types, scope, &mut inner)?),
                None => None,
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

    /// A frame clause: units, bounds (offsets typed for the units and the ORDER BY key),
    /// and the EXCLUDE clause that the parse step turned into a marker call on the last bound.
    fn frame(
        &mut self,
        frame: &ast::WindowFrame,
        order_types: &[SqlType],
        scope: &Scope,
        cx: &mut ExprContext,
    ) -> SqlResult<Frame> {
        let units = match frame.units {
            ast::WindowFrameUnits::Rows => FrameUnits::Rows,
            ast::WindowFrameUnits::Range => FrameUnits::Range,
            ast::WindowFrameUnits::Groups => FrameUnits::Groups,
        };
        let windowing = |m: &str| SqlError::new(code::WINDOWING_ERROR, m.to_string());
        if units == FrameUnits::Groups && order_types.is_empty() {
            return Err(windowing("GROUPS mode requires an ORDER BY clause"));
        }
        let mut exclude = FrameExclude::NoOthers;
        let mut bound = |b: &ast::WindowFrameBound, this: &mut Self| -> SqlResult<FrameBound> {
            let (b, excluded) = decode_exclude(b)?;
            if let Some(x) = excluded {
                exclude = x;
            }
            Ok(match &b {
                ast::WindowFrameBound::CurrentRow => FrameBound::CurrentRow,
                ast::WindowFrameBound::Preceding(None) => FrameBound::UnboundedPreceding,
                ast::WindowFrameBound::Following(None) => FrameBound::UnboundedFollowing,
                ast::WindowFrameBound::Preceding(Some(e)) => {
                    FrameBound::Preceding(this.frame_offset(e, units, order_types, scope, cx)?)
                }
                ast::WindowFrameBound::Following(Some(e)) => {
                    FrameBound::Following(this.frame_offset(e, units, order_types, scope, cx)?)
                }
            })
        };
        let start = bound(&frame.start_bound, self)?;
        let end = match &frame.end_bound {
            Some(b) => bound(b, self)?,
            None => FrameBound::CurrentRow,
        };
        // PostgreSQL's grammar checks (gram.y, frame_extent).
        match (&start, &end, frame.end_bound.is_some()) {
            (FrameBound::UnboundedFollowing, _, _) => {
                return Err(windowing("frame start cannot be UNBOUNDED FOLLOWING"))
            }
            (_, FrameBound::UnboundedPreceding, _) => {
                return Err(windowing("frame end cannot be UNBOUNDED PRECEDING"))
            }
            (FrameBound::Following(_), FrameBound::CurrentRow, _) => {
                return Err(windowing(
                    "frame starting from following row cannot end with current row",
                ))
            }
            (FrameBound::CurrentRow, FrameBound::Preceding(_), _) => {
                return Err(windowing(
                    "frame starting from current row cannot have preceding rows",
                ))
            }
            (FrameBound::Following(_), FrameBound::Preceding(_), _) => {
                return Err(windowing(
                    "frame starting from following row cannot have preceding rows",
                ))
            }
            _ => {}
        }
        Ok(Frame {
            units,
            start,
            end,
            exclude,
        })
    }

    /// A frame offset: `bigint` for ROWS and GROUPS; for RANGE, the type PostgreSQL's
    /// `in_range` support functions take for the single ORDER BY key's type.
    fn frame_offset(
        &mut self,
        e: &ast::Expr,
        units: FrameUnits,
        order_types: &[SqlType],
        scope: &Scope,
        cx: &mut ExprContext,
    ) -> SqlResult<Expr> {
        let mut ocx = ExprContext::plain(match units {
            FrameUnits::Rows => "window ROWS",
            FrameUnits::Range => "window RANGE",
            FrameUnits::Groups => "window GROUPS",
        });
        let _ = cx;
        // sqlparser reads a quoted bound (`'1.5' PRECEDING`) as an interval literal; for a
        // key that is not a date/time it is an untyped literal, as PostgreSQL reads it.
        let datetime_key = matches!(
            order_types.first(),
            Some(
                SqlType::Date
                    | SqlType::Time
                    | SqlType::Timestamp
                    | SqlType::Timestamptz
                    | SqlType::Interval
            )
        );
        let e = match e {
            ast::Expr::Interval(iv)
                if !datetime_key
                    && iv.leading_field.is_none()
                    && iv.last_field.is_none()
                    && iv.fractional_seconds_precision.is_none()
                    && matches!(iv.value.as_ref(), ast::Expr::Value(_)) =>
            {
                iv.value.as_ref()
            }
            other => other,
        };
        let typed = self.bind_expr(e, scope, &mut ocx)?;
        let what = match units {
            FrameUnits::Rows => "argument of ROWS",
            FrameUnits::Groups => "argument of GROUPS",
            FrameUnits::Range => "argument of RANGE",
        };
        // Offsets are evaluated once per partition: they may read outer queries, not the row.
        let mut reads_row = false;
        typed
            .0
            .walk(&mut |x| reads_row |= matches!(x, Expr::Column(_)));
        if reads_row {
            return Err(SqlError::new(
                code::INVALID_COLUMN_REFERENCE,
                format!("{what} must not contain variables"),
            ));
        }
        if units != FrameUnits::Range {
            return self.coerce_to(typed, &SqlType::Int8, what);
        }
        let [key] = order_types else {
            return Err(SqlError::new(
                code::WINDOWING_ERROR,
                "RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column",
            ));
        };
        let offset_type = match key {
            SqlType::Int2 | SqlType::Int4 | SqlType::Int8 => SqlType::Int8,
            SqlType::Float4 | SqlType::Float8 => SqlType::Float8,
            SqlType::Date
            | SqlType::Time
            | SqlType::Timestamp
            | SqlType::Timestamptz
            | SqlType::Interval => SqlType::Interval,
            t if t.same_type(&crate::pgtype::NUMERIC) => crate::pgtype::NUMERIC,
            other => {
                return Err(SqlError::new(
                    code::FEATURE_NOT_SUPPORTED,
                    format!(
                        "RANGE with offset PRECEDING/FOLLOWING is not supported for column type {}",
                        other.display_name()
                    ),
                ))
            }
        };
        let from = typed.1.clone();
        if from != SqlType::Unknown
            && !crate::func::cast_allowed(&from, &offset_type, crate::func::CastContext::Implicit)
        {
            return Err(SqlError::new(
                code::FEATURE_NOT_SUPPORTED,
                format!(
                    "RANGE with offset PRECEDING/FOLLOWING is not supported for column type {} and offset type {}",
                    key.display_name(),
                    from.display_name()
                ),
            )
            .with_hint("Cast the offset value to an appropriate type."));
        }
        self.coerce(typed.0, &from, &offset_type)
    }
}

/// Splits the parse step's EXCLUDE marker (see [`crate::parse::FRAME_EXCLUDE_MARKER`]) off
/// a frame bound: the bound as written and the exclusion, if the marker is there.
fn decode_exclude(
    b: &ast::WindowFrameBound,
) -> SqlResult<(ast::WindowFrameBound, Option<FrameExclude>)> {
    let (following, expr) = match b {
        ast::WindowFrameBound::Preceding(Some(e)) => (false, e),
        ast::WindowFrameBound::Following(Some(e)) => (true, e),
        _ => return Ok((b.clone(), None)),
    };
    let ast::Expr::Function(f) = expr.as_ref() else {
        return Ok((b.clone(), None));
    };
    if object_name_parts(&f.name).last().map(String::as_str)
        != Some(crate::parse::FRAME_EXCLUDE_MARKER)
    {
        return Ok((b.clone(), None));
    }
    let args: Vec<&ast::Expr> = match &f.args {
        ast::FunctionArguments::List(list) => list
            .args
            .iter()
            .filter_map(|a| match a {
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Some(e),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let text = |e: Option<&&ast::Expr>| -> String {
        match e {
            Some(ast::Expr::Value(v)) => match &v.value {
                ast::Value::SingleQuotedString(s) => s.clone(),
                _ => String::new(),
            },
            _ => String::new(),
        }
    };
    let exclude = match text(args.first()).as_str() {
        "current row" => FrameExclude::CurrentRow,
        "group" => FrameExclude::Group,
        "ties" => FrameExclude::Ties,
        "no others" => FrameExclude::NoOthers,
        _ => return Err(SqlError::syntax("syntax error at or near \"EXCLUDE\"")),
    };
    let bound = match (text(args.get(1)).as_str(), args.get(2)) {
        ("current row", _) => ast::WindowFrameBound::CurrentRow,
        ("unbounded", _) if following => ast::WindowFrameBound::Following(None),
        ("unbounded", _) => ast::WindowFrameBound::Preceding(None),
        ("offset", Some(e)) if following => {
            ast::WindowFrameBound::Following(Some(Box::new((*e).clone())))
        }
        ("offset", Some(e)) => ast::WindowFrameBound::Preceding(Some(Box::new((*e).clone()))),
        _ => return Err(SqlError::syntax("syntax error at or near \"EXCLUDE\"")),
    };
    Ok((bound, Some(exclude)))
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
