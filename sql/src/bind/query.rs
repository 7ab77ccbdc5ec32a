//! Query binding: a whole query (WITH [RECURSIVE], ORDER BY, LIMIT / OFFSET) and its body:
//! set operations, VALUES, and ORDER BY over their output columns. One SELECT is bound by
//! `select`, its FROM by `from`, grouping by `grouping`.

use std::sync::Arc;

use sqlparser::ast::{self, SetExpr};
use storage::types::Value;

use super::expr::{sort_key, ExprContext, Typed};
use super::from::rename_columns;
pub use super::from::Bound;
pub use super::grouping::expr_eq;
use super::{ident_name, Binder, CteBinding, Scope, ScopeColumn};
use crate::error::{code, SqlError, SqlResult};
use crate::func::common_type;
use crate::pgtype::SqlType;
use crate::plan::{Expr, OutputColumn, Plan, SetOpKind, SortKey, WindowCall, WindowFn, WindowFunc};

impl Binder<'_> {
    /// Binds a query (any body, WITH, ORDER BY, LIMIT).
    pub fn bind_query(&mut self, q: &ast::Query) -> SqlResult<(Plan, Vec<OutputColumn>)> {
        let mark = self.ctes.len();
        // FOR UPDATE / FOR SHARE: one writer commits at a time, so row locks add nothing;
        // row-level security adds the UPDATE policies of the locked tables (see `rls`).
        let locking = self.rls.enter_query(&q.locks);
        let result = self.bind_query_inner(q);
        self.rls.locking = locking;
        self.ctes.truncate(mark);
        result
    }

    fn bind_query_inner(&mut self, q: &ast::Query) -> SqlResult<(Plan, Vec<OutputColumn>)> {
        let mut cte_plans = Vec::new();
        if let Some(with) = &q.with {
            for cte in &with.cte_tables {
                let name = ident_name(&cte.alias.name);
                let id = self.next_id();
                let (plan, mut columns) = if with.recursive && references_name(&cte.query, &name) {
                    self.recursive_cte(&name, id, cte)?
                } else {
                    self.bind_query(&cte.query)?
                };
                rename_columns(&mut columns, &cte.alias.columns, &name)?;
                self.ctes.push(CteBinding { name, id, columns });
                cte_plans.push((id, plan));
            }
        }
        let order_by: Vec<ast::OrderByExpr> = match &q.order_by {
            Some(o) => match &o.kind {
                ast::OrderByKind::Expressions(e) => e.clone(),
                ast::OrderByKind::All(_) => return Err(SqlError::unsupported("ORDER BY ALL")),
            },
            None => Vec::new(),
        };
        let row_limit = self.limit_offset(q)?;
        let (plan, columns) = match q.body.as_ref() {
            SetExpr::Select(select) => self.bind_select(select, &order_by, row_limit)?,
            other => {
                let (plan, columns) = self.bind_set_expr(other)?;
                let plan = self.order_outputs(plan, &columns, &order_by)?;
                let keys = match &plan {
                    Plan::Sort { keys, .. } => keys.clone(),
                    _ => Vec::new(),
                };
                let width = columns.len();
                (apply_row_limit(plan, row_limit, &keys, width)?, columns)
            }
        };
        let plan = if cte_plans.is_empty() {
            plan
        } else {
            Plan::With {
                ctes: cte_plans,
                body: Box::new(plan),
            }
        };
        Ok((plan, columns))
    }

    fn limit_offset(&mut self, q: &ast::Query) -> SqlResult<RowLimit> {
        let scope = Scope::default();
        let bind = |this: &mut Self, e: &ast::Expr, what: &str| -> SqlResult<Expr> {
            let mut cx = ExprContext::plain(if what == "LIMIT" { "LIMIT" } else { "OFFSET" });
            let typed = this.bind_expr(e, &scope, &mut cx)?;
            if let (Expr::Const(Value::Null), _) = &typed {
                return Ok(Expr::Const(Value::Null));
            }
            this.coerce_to(typed, &SqlType::Int8, &format!("argument of {what}"))
        };
        let mut limit = None;
        let mut offset = None;
        match &q.limit_clause {
            Some(ast::LimitClause::LimitOffset {
                limit: l,
                offset: o,
                ..
            }) => {
                if let Some(l) = l {
                    limit = Some(bind(self, l, "LIMIT")?);
                }
                if let Some(o) = o {
                    offset = Some(bind(self, &o.value, "OFFSET")?);
                }
            }
            Some(ast::LimitClause::OffsetCommaLimit { .. }) => {
                return Err(SqlError::new(
                    code::FEATURE_NOT_SUPPORTED,
                    "LIMIT #,# syntax is not supported",
                )
                .with_hint("Use separate LIMIT and OFFSET clauses."))
            }
            None => {}
        }
        let mut with_ties = false;
        if let Some(fetch) = &q.fetch {
            with_ties = fetch.with_ties;
            if fetch.percent {
                return Err(SqlError::unsupported("FETCH ... PERCENT"));
            }
            if let Some(q) = &fetch.quantity {
                limit = Some(bind(self, q, "LIMIT")?);
            } else {
                limit = Some(Expr::Const(Value::Int8(1)));
            }
        }
        Ok(RowLimit {
            limit,
            offset,
            with_ties,
        })
    }

    fn recursive_cte(
        &mut self,
        name: &str,
        id: usize,
        cte: &ast::Cte,
    ) -> SqlResult<(Plan, Vec<OutputColumn>)> {
        let SetExpr::SetOperation {
            left,
            op: ast::SetOperator::Union,
            set_quantifier,
            right,
        } = cte.query.body.as_ref()
        else {
            return Err(SqlError::new(
                code::INVALID_RECURSION,
                format!("recursive query \"{name}\" does not have the form non-recursive-term UNION [ALL] recursive-term"),
            ));
        };
        let (base, mut columns) = self.bind_set_expr(left)?;
        rename_columns(&mut columns, &cte.alias.columns, name)?;
        // Column types come from the non-recursive term.
        self.ctes.push(CteBinding {
            name: name.to_string(),
            id,
            columns: columns.clone(),
        });
        let step = self.bind_set_expr(right);
        self.ctes.pop();
        let (step, step_columns) = step?;
        if step_columns.len() != columns.len() {
            return Err(SqlError::syntax(
                "each UNION query must have the same number of columns",
            ));
        }
        let mut casts = Vec::new();
        let mut needs_cast = false;
        for (i, (s, c)) in step_columns.iter().zip(columns.iter()).enumerate() {
            if s.sql_type.same_type(&c.sql_type) {
                casts.push(Expr::Column(i));
            } else {
                needs_cast = true;
                casts.push(self.coerce_to(
                    (Expr::Column(i), s.sql_type.clone()),
                    &c.sql_type,
                    "recursive query column",
                ).map_err(|_| SqlError::new(code::DATATYPE_MISMATCH, format!(
                    "recursive query \"{name}\" column {} has type {} in non-recursive term but type {} overall",
                    i + 1, c.sql_type.display_name(), s.sql_type.display_name())))?);
            }
        }
        let step = if needs_cast {
            Plan::Project {
                input: Box::new(step),
                exprs: casts,
            }
        } else {
            step
        };
        let union_all = matches!(set_quantifier, ast::SetQuantifier::All);
        Ok((
            Plan::RecursiveCte {
                id,
                base: Box::new(base),
                step: Box::new(step),
                union_all,
            },
            columns,
        ))
    }

    /// Binds a query body without its own ORDER BY.
    pub fn bind_set_expr(&mut self, body: &SetExpr) -> SqlResult<(Plan, Vec<OutputColumn>)> {
        match body {
            SetExpr::Select(select) => self.bind_select(select, &[], RowLimit::default()),
            SetExpr::Query(q) => self.bind_query(q),
            SetExpr::Values(values) => self.bind_values(values),
            SetExpr::SetOperation {
                left,
                op,
                set_quantifier,
                right,
            } => {
                let (lp, lc) = self.bind_set_expr(left)?;
                let (rp, rc) = self.bind_set_expr(right)?;
                let kind = match op {
                    ast::SetOperator::Union => SetOpKind::Union,
                    ast::SetOperator::Intersect => SetOpKind::Intersect,
                    ast::SetOperator::Except | ast::SetOperator::Minus => SetOpKind::Except,
                };
                let construct = match kind {
                    SetOpKind::Union => "UNION",
                    SetOpKind::Intersect => "INTERSECT",
                    SetOpKind::Except => "EXCEPT",
                };
                if lc.len() != rc.len() {
                    return Err(SqlError::syntax(format!(
                        "each {construct} query must have the same number of columns"
                    )));
                }
                let mut columns = Vec::new();
                let mut lcasts = Vec::new();
                let mut rcasts = Vec::new();
                for (i, (l, r)) in lc.iter().zip(rc.iter()).enumerate() {
                    let t = common_type(&[l.sql_type.clone(), r.sql_type.clone()], construct)?;
                    let t = if t == SqlType::Unknown {
                        SqlType::Text
                    } else {
                        t
                    };
                    lcasts.push(self.coerce(Expr::Column(i), &l.sql_type, &t)?);
                    rcasts.push(self.coerce(Expr::Column(i), &r.sql_type, &t)?);
                    columns.push(OutputColumn::computed(l.name.clone(), t));
                }
                let all = matches!(set_quantifier, ast::SetQuantifier::All);
                Ok((
                    Plan::SetOp {
                        kind,
                        all,
                        left: Box::new(project_if_needed(lp, lcasts)),
                        right: Box::new(project_if_needed(rp, rcasts)),
                    },
                    columns,
                ))
            }
            SetExpr::Table(t) => {
                let name = t
                    .table_name
                    .clone()
                    .map(|i| i.to_string())
                    .unwrap_or_default();
                let q = format!("SELECT * FROM {name}");
                let statement = crate::parse::parse_one(&q)?;
                match statement {
                    ast::Statement::Query(q) => self.bind_query(&q),
                    _ => Err(SqlError::internal("TABLE expansion failed")),
                }
            }
            other => Err(SqlError::unsupported(format!("query form {other}"))),
        }
    }

    fn bind_values(&mut self, values: &ast::Values) -> SqlResult<(Plan, Vec<OutputColumn>)> {
        let scope = Scope::default();
        let mut rows: Vec<Vec<Typed>> = Vec::new();
        let width = values.rows.first().map(|r| r.content.len()).unwrap_or(0);
        for row in &values.rows {
            if row.content.len() != width {
                return Err(SqlError::syntax("VALUES lists must all be the same length"));
            }
            let mut bound = Vec::new();
            for e in &row.content {
                let mut cx = ExprContext::plain("VALUES");
                bound.push(self.bind_expr(e, &scope, &mut cx)?);
            }
            rows.push(bound);
        }
        let mut types = Vec::new();
        for c in 0..width {
            let column_types: Vec<SqlType> = rows.iter().map(|r| r[c].1.clone()).collect();
            let t = common_type(&column_types, "VALUES")?;
            types.push(if t == SqlType::Unknown {
                SqlType::Text
            } else {
                t
            });
        }
        let mut out_rows = Vec::new();
        for row in rows {
            let mut exprs = Vec::new();
            for ((e, t), target) in row.into_iter().zip(types.iter()) {
                exprs.push(self.coerce(e, &t, target)?);
            }
            out_rows.push(exprs);
        }
        let columns = types
            .into_iter()
            .enumerate()
            .map(|(i, t)| OutputColumn::computed(format!("column{}", i + 1), t))
            .collect();
        Ok((
            Plan::Values {
                rows: out_rows,
                width,
            },
            columns,
        ))
    }

    /// ORDER BY over the output columns of a set operation or VALUES.
    fn order_outputs(
        &mut self,
        plan: Plan,
        columns: &[OutputColumn],
        order_by: &[ast::OrderByExpr],
    ) -> SqlResult<Plan> {
        if order_by.is_empty() {
            return Ok(plan);
        }
        let scope = Scope {
            columns: columns
                .iter()
                .map(|c| ScopeColumn {
                    qualifier: None,
                    schema: None,
                    name: c.name.clone(),
                    sql_type: c.sql_type.clone(),
                    table_oid: 0,
                    attnum: 0,
                    hidden: false,
                    qualified_only: false,
                })
                .collect(),
        };
        let mut keys = Vec::new();
        for o in order_by {
            let expr = if let Some(n) = ordinal(&o.expr) {
                if n == 0 || n > columns.len() {
                    return Err(SqlError::new(
                        code::INVALID_COLUMN_REFERENCE,
                        format!("ORDER BY position {n} is not in select list"),
                    ));
                }
                Expr::Column(n - 1)
            } else {
                let mut cx = ExprContext::plain("ORDER BY");
                self.bind_expr(&o.expr, &scope, &mut cx)?.0
            };
            keys.push(sort_key(expr, &o.options));
        }
        Ok(Plan::Sort {
            input: Box::new(plan),
            keys,
            limit: None,
        })
    }
}

/// Inlines a call of a user-defined `LANGUAGE sql` function, if `name` is one.
pub fn inline_user_function(
    binder: &mut Binder,
    name: &str,
    args: &[Typed],
) -> SqlResult<Option<Typed>> {
    crate::ddl::functions::inline_call(binder, name, args)
}

/// A query's LIMIT / OFFSET / FETCH FIRST: the row count and offset (bigint expressions)
/// and whether rows tied with the last one are kept (`FETCH ... WITH TIES`).
#[derive(Default)]
pub struct RowLimit {
    pub limit: Option<Expr>,
    pub offset: Option<Expr>,
    pub with_ties: bool,
}

/// Applies a query's row limit above its (sorted, `width`-column) plan; `keys` are the
/// ORDER BY keys, which `WITH TIES` needs.
pub(super) fn apply_row_limit(
    plan: Plan,
    row_limit: RowLimit,
    keys: &[SortKey],
    width: usize,
) -> SqlResult<Plan> {
    let RowLimit {
        limit,
        offset,
        with_ties,
    } = row_limit;
    if !with_ties {
        return Ok(apply_limit(plan, limit, offset));
    }
    if keys.is_empty() {
        return Err(SqlError::syntax(
            "WITH TIES cannot be specified without ORDER BY clause",
        ));
    }
    Ok(fetch_with_ties(plan, keys, width, limit, offset))
}

/// `OFFSET m FETCH FIRST n ROWS WITH TIES` over existing operators: the rows numbered
/// (`row_number()`) past `m` whose `rank()` is at most `m + n` — the first `n` after the
/// offset and every row tied with the last of them — then sorted again.
fn fetch_with_ties(
    plan: Plan,
    keys: &[SortKey],
    width: usize,
    limit: Option<Expr>,
    offset: Option<Expr>,
) -> Plan {
    // The window sorts by the keys itself; a sort right below it is redundant.
    let input = match plan {
        Plan::Sort { input, .. } => *input,
        other => other,
    };
    let numbering = |f: WindowFn| WindowCall {
        func: WindowFunc::Builtin(f),
        args: Vec::new(),
        partition_by: Vec::new(),
        order_by: keys.to_vec(),
        frame: None,
        filter: None,
    };
    let windowed = Plan::Window {
        input: Box::new(input),
        calls: vec![numbering(WindowFn::RowNumber), numbering(WindowFn::Rank)],
    };
    let filtered = Plan::Filter {
        input: Box::new(windowed),
        predicate: Expr::Call {
            name: "fetch_with_ties",
            func: keep_with_ties,
            args: vec![
                Expr::Column(width),
                Expr::Column(width + 1),
                limit.unwrap_or(Expr::Const(Value::Null)),
                offset.unwrap_or(Expr::Const(Value::Int8(0))),
            ],
            strict: false,
        },
    };
    Plan::Sort {
        input: Box::new(Plan::Project {
            input: Box::new(filtered),
            exprs: (0..width).map(Expr::Column).collect(),
        }),
        keys: keys.to_vec(),
        limit: None,
    }
}

/// Whether a row numbered `rn` with rank `rank` is within `FETCH FIRST count ROWS WITH TIES`
/// after `offset` rows, with PostgreSQL's checks of the count and offset.
fn keep_with_ties(_: &crate::func::FnCtx, a: &[Value]) -> SqlResult<Value> {
    let int = |v: &Value| match v {
        Value::Int8(x) => Some(*x),
        Value::Int4(x) => Some(i64::from(*x)),
        Value::Int2(x) => Some(i64::from(*x)),
        _ => None,
    };
    let count = match a.get(2) {
        Some(Value::Null) | None => {
            return Err(SqlError::new(
                code::INVALID_ROW_COUNT_IN_LIMIT_CLAUSE,
                "row count cannot be null in FETCH FIRST ... WITH TIES clause",
            ))
        }
        Some(v) => int(v).unwrap_or(0),
    };
    if count < 0 {
        return Err(SqlError::new(
            code::INVALID_ROW_COUNT_IN_LIMIT_CLAUSE,
            "LIMIT must not be negative",
        ));
    }
    let offset = a.get(3).and_then(int).unwrap_or(0);
    if offset < 0 {
        return Err(SqlError::new(
            code::INVALID_ROW_COUNT_IN_RESULT_OFFSET_CLAUSE,
            "OFFSET must not be negative",
        ));
    }
    let rn = a.first().and_then(int).unwrap_or(0);
    let rank = a.get(1).and_then(int).unwrap_or(0);
    Ok(Value::Bool(
        count > 0 && rn > offset && rank <= offset.saturating_add(count),
    ))
}

pub(super) fn apply_limit(plan: Plan, limit: Option<Expr>, offset: Option<Expr>) -> Plan {
    if limit.is_none() && offset.is_none() {
        return plan;
    }
    // A constant LIMIT (+ OFFSET) turns the sort below into a top-k sort.
    let plan = match (plan, &limit, &offset) {
        (Plan::Sort { input, keys, .. }, Some(Expr::Const(Value::Int8(l))), off) => {
            let o = match off {
                Some(Expr::Const(Value::Int8(o))) => Some(*o),
                None => Some(0),
                _ => None,
            };
            let k = o.and_then(|o| usize::try_from(l.saturating_add(o)).ok());
            Plan::Sort {
                input,
                keys,
                limit: k,
            }
        }
        (other, _, _) => other,
    };
    Plan::Limit {
        input: Box::new(plan),
        limit,
        offset,
    }
}

fn project_if_needed(plan: Plan, exprs: Vec<Expr>) -> Plan {
    let identity = exprs
        .iter()
        .enumerate()
        .all(|(i, e)| matches!(e, Expr::Column(j) if *j == i));
    if identity {
        plan
    } else {
        Plan::Project {
            input: Box::new(plan),
            exprs,
        }
    }
}

pub(super) fn ordinal(e: &ast::Expr) -> Option<usize> {
    if let ast::Expr::Value(v) = e {
        if let ast::Value::Number(n, _) = &v.value {
            return n.parse().ok();
        }
    }
    None
}

/// Whether a query mentions a relation called `name` (to detect recursive CTEs).
fn references_name(q: &ast::Query, name: &str) -> bool {
    let text = q.to_string().to_lowercase();
    text.split(|c: char| !c.is_alphanumeric() && c != '_')
        .any(|w| w == name)
}

/// Keeps `Arc` in scope for plan sharing by callers.
pub type SharedPlan = Arc<Plan>;
