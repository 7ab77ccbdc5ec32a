//! SELECT binding: FROM (tables, views, system tables, CTEs, subqueries, set-returning
//! functions, joins), WHERE, GROUP BY / HAVING, window functions, the select list, DISTINCT,
//! ORDER BY, LIMIT / OFFSET, set operations and WITH [RECURSIVE].

use std::sync::Arc;

use sqlparser::ast::{self, FunctionArg, FunctionArgExpr, SelectItem, SetExpr, TableFactor};
use storage::types::Value;

use super::expr::{sort_key, ExprContext, Typed};
use super::{ident_name, split_name, Binder, CteBinding, Scope, ScopeColumn};
use crate::error::{code, SqlError, SqlResult};
use crate::func::common_type;
use crate::func::registry::registry;
use crate::func::Implementation;
use crate::pgtype::SqlType;
use crate::plan::{AggCall, Expr, JoinKind, OutputColumn, Plan, SetOpKind, SortKey, WindowCall};

/// A resolved set-returning function call: name, implementation, arguments, columns.
type SrfCall = (
    &'static str,
    crate::func::SetFn,
    Vec<Expr>,
    Vec<(String, SqlType)>,
);

/// What a FROM item binds to.
pub struct Bound {
    pub plan: Plan,
    pub scope: Scope,
}

impl Binder<'_> {
    /// Binds a query (any body, WITH, ORDER BY, LIMIT).
    pub fn bind_query(&mut self, q: &ast::Query) -> SqlResult<(Plan, Vec<OutputColumn>)> {
        let mark = self.ctes.len();
        let result = self.bind_query_inner(q);
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
        let (limit, offset) = self.limit_offset(q)?;
        if !q.locks.is_empty() {
            // FOR UPDATE / FOR SHARE: one writer commits at a time, so row locks add nothing.
        }
        let (plan, columns) = match q.body.as_ref() {
            SetExpr::Select(select) => self.bind_select(select, &order_by, limit, offset)?,
            other => {
                let (plan, columns) = self.bind_set_expr(other)?;
                let plan = self.order_outputs(plan, &columns, &order_by)?;
                (apply_limit(plan, limit, offset), columns)
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

    fn limit_offset(&mut self, q: &ast::Query) -> SqlResult<(Option<Expr>, Option<Expr>)> {
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
        if let Some(fetch) = &q.fetch {
            if fetch.with_ties {
                return Err(SqlError::unsupported("FETCH ... WITH TIES"));
            }
            if fetch.percent {
                return Err(SqlError::unsupported("FETCH ... PERCENT"));
            }
            if let Some(q) = &fetch.quantity {
                limit = Some(bind(self, q, "LIMIT")?);
            } else {
                limit = Some(Expr::Const(Value::Int8(1)));
            }
        }
        Ok((limit, offset))
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
            SetExpr::Select(select) => self.bind_select(select, &[], None, None),
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

    /// Binds one SELECT with its ORDER BY and LIMIT.
    pub fn bind_select(
        &mut self,
        select: &ast::Select,
        order_by: &[ast::OrderByExpr],
        limit: Option<Expr>,
        offset: Option<Expr>,
    ) -> SqlResult<(Plan, Vec<OutputColumn>)> {
        if select.into.is_some() {
            return Err(SqlError::unsupported("SELECT INTO"));
        }
        // FROM
        let Bound { mut plan, scope } = self.bind_from(&select.from)?;
        // WHERE
        if let Some(w) = &select.selection {
            let mut cx = ExprContext::plain("WHERE");
            let predicate = self.bind_predicate(w, &scope, &mut cx)?;
            plan = Plan::Filter {
                input: Box::new(plan),
                predicate,
            };
        }
        // WINDOW clause.
        let saved_windows = self.windows.len();
        for definition in &select.named_window {
            if let ast::NamedWindowExpr::WindowSpec(spec) = &definition.1 {
                self.windows.push((ident_name(&definition.0), spec.clone()));
            }
        }
        let result = self.bind_select_rest(select, order_by, limit, offset, plan, scope);
        self.windows.truncate(saved_windows);
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn bind_select_rest(
        &mut self,
        select: &ast::Select,
        order_by: &[ast::OrderByExpr],
        limit: Option<Expr>,
        offset: Option<Expr>,
        mut plan: Plan,
        scope: Scope,
    ) -> SqlResult<(Plan, Vec<OutputColumn>)> {
        // Select list.
        let mut cx = ExprContext::collecting("SELECT");
        let mut items: Vec<(String, Expr, SqlType, u32, i16)> = Vec::new();
        // Set-returning functions of the select list: the calls, and per item that uses one
        // (item, call, field of a multi-column result).
        let mut srf_calls: Vec<SrfCall> = Vec::new();
        let mut srf_items: Vec<(usize, usize, Option<usize>)> = Vec::new();
        for item in &select.projection {
            match item {
                SelectItem::Wildcard(_) => {
                    let visible: Vec<usize> = (0..scope.columns.len())
                        .filter(|&i| !scope.columns[i].hidden && !scope.columns[i].qualified_only)
                        .collect();
                    if visible.is_empty() && select.from.is_empty() {
                        return Err(SqlError::syntax(
                            "SELECT * with no tables specified is not valid",
                        ));
                    }
                    for i in visible {
                        let c = &scope.columns[i];
                        items.push((
                            c.name.clone(),
                            Expr::Column(i),
                            c.sql_type.clone(),
                            c.table_oid,
                            c.attnum,
                        ));
                    }
                }
                SelectItem::QualifiedWildcard(kind, _) => {
                    let ast::SelectItemQualifiedWildcardKind::ObjectName(name) = kind else {
                        return Err(SqlError::unsupported("expression.*"));
                    };
                    let (_, q) = split_name(name)?;
                    if !scope.has_qualifier(&q) {
                        return Err(SqlError::new(
                            code::UNDEFINED_TABLE,
                            format!("missing FROM-clause entry for table \"{q}\""),
                        ));
                    }
                    for (i, c) in scope.columns.iter().enumerate() {
                        if c.qualifier.as_deref() == Some(q.as_str()) && !c.hidden {
                            items.push((
                                c.name.clone(),
                                Expr::Column(i),
                                c.sql_type.clone(),
                                c.table_oid,
                                c.attnum,
                            ));
                        }
                    }
                }
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                    let alias = match item {
                        SelectItem::ExprWithAlias { alias, .. } => Some(ident_name(alias)),
                        _ => None,
                    };
                    // A set-returning function at the top of a select item.
                    if let Some((call, field)) = self.select_srf(e, &scope)? {
                        let columns = &call.3;
                        let (t, default_name) = match field {
                            Some(f) => (columns[f].1.clone(), columns[f].0.clone()),
                            None if columns.len() == 1 => {
                                (columns[0].1.clone(), call.0.to_string())
                            }
                            None => (SqlType::Composite(columns.clone()), call.0.to_string()),
                        };
                        let out_name = alias.unwrap_or(default_name);
                        srf_items.push((items.len(), srf_calls.len(), field));
                        items.push((out_name, Expr::Const(Value::Null), t, 0, 0));
                        srf_calls.push(call);
                        continue;
                    }
                    let (expr, t) = self.bind_expr(e, &scope, &mut cx)?;
                    let (table_oid, attnum) = match &expr {
                        Expr::Column(i) => (scope.columns[*i].table_oid, scope.columns[*i].attnum),
                        _ => (0, 0),
                    };
                    let name = alias.unwrap_or_else(|| output_name(e));
                    // An untyped literal stays `unknown` here: INSERT ... SELECT gives it the
                    // target column's type; clients see `text` (see `columns_of`).
                    let expr = match &expr {
                        Expr::Const(Value::Text(_)) => expr,
                        _ => expr,
                    };
                    items.push((name, expr, t, table_oid, attnum));
                }
                SelectItem::ExprWithAliases { .. } => {
                    return Err(SqlError::unsupported("multiple aliases"))
                }
            }
        }
        // Set-returning functions in the select list run once per input row, in lockstep
        // (the longest decides the row count; the others are padded with NULLs).
        let srf: Vec<usize> = srf_items.iter().map(|s| s.0).collect();
        let mut srf_width = 0;
        if !srf_calls.is_empty() {
            let width = scope.width();
            let mut offsets = Vec::new();
            let mut scans = Vec::new();
            for (name, func, args, columns) in srf_calls {
                offsets.push(width + srf_width);
                srf_width += columns.len();
                scans.push(Plan::FunctionScan {
                    name,
                    func,
                    args,
                    width: columns.len(),
                    ordinality: false,
                });
            }
            let right = if scans.len() == 1 {
                scans.pop().unwrap_or(Plan::Values {
                    rows: vec![],
                    width: 0,
                })
            } else {
                Plan::Zip { inputs: scans }
            };
            plan = Plan::Lateral {
                left: Box::new(plan),
                right: Box::new(right),
                kind: JoinKind::Inner,
                right_width: srf_width,
            };
            for (item, call, field) in &srf_items {
                let base = offsets[*call];
                items[*item].1 = match (field, &items[*item].2) {
                    (Some(f), _) => Expr::Column(base + f),
                    (None, SqlType::Composite(fields)) => {
                        Expr::Row((0..fields.len()).map(|j| Expr::Column(base + j)).collect())
                    }
                    (None, _) => Expr::Column(base),
                };
            }
        }
        // HAVING
        let having = match &select.having {
            Some(h) => {
                let saved = cx.clause;
                cx.clause = "HAVING";
                let (e, t) = self.bind_expr(h, &scope, &mut cx)?;
                cx.clause = saved;
                if t != SqlType::Bool {
                    return Err(SqlError::new(
                        code::DATATYPE_MISMATCH,
                        format!(
                            "argument of HAVING must be type boolean, not type {}",
                            t.display_name()
                        ),
                    ));
                }
                Some(e)
            }
            None => None,
        };
        // ORDER BY: output names and ordinals first, then expressions over the input.
        let distinct = match &select.distinct {
            Some(ast::Distinct::Distinct) => Some(None),
            Some(ast::Distinct::On(exprs)) => Some(Some(exprs.clone())),
            _ => None,
        };
        let mut sort_keys: Vec<(usize, bool, bool)> = Vec::new();
        let mut hidden: Vec<(Expr, SqlType)> = Vec::new();
        for o in order_by {
            let key = sort_key(Expr::Const(Value::Null), &o.options);
            if let Some(n) = ordinal(&o.expr) {
                if n == 0 || n > items.len() {
                    return Err(SqlError::new(
                        code::INVALID_COLUMN_REFERENCE,
                        format!("ORDER BY position {n} is not in select list"),
                    ));
                }
                sort_keys.push((n - 1, key.descending, key.nulls_first));
                continue;
            }
            if let ast::Expr::Identifier(ident) = &o.expr {
                let name = ident_name(ident);
                let matches: Vec<usize> = items
                    .iter()
                    .enumerate()
                    .filter(|(_, it)| it.0 == name)
                    .map(|(i, _)| i)
                    .collect();
                if matches.len() > 1 {
                    let first = &items[matches[0]].1;
                    if !matches.iter().all(|&m| expr_eq(&items[m].1, first)) {
                        return Err(SqlError::new(
                            code::AMBIGUOUS_COLUMN,
                            format!("ORDER BY \"{name}\" is ambiguous"),
                        ));
                    }
                }
                if let Some(&i) = matches.first() {
                    sort_keys.push((i, key.descending, key.nulls_first));
                    continue;
                }
            }
            cx.clause = "ORDER BY";
            let (e, t) = self.bind_expr(&o.expr, &scope, &mut cx)?;
            if let Some(i) = items.iter().position(|it| expr_eq(&it.1, &e)) {
                sort_keys.push((i, key.descending, key.nulls_first));
                continue;
            }
            if distinct.as_ref().is_some_and(|d| d.is_none()) {
                return Err(SqlError::new(
                    code::INVALID_COLUMN_REFERENCE,
                    "for SELECT DISTINCT, ORDER BY expressions must appear in select list",
                ));
            }
            sort_keys.push((items.len() + hidden.len(), key.descending, key.nulls_first));
            hidden.push((e, t));
        }
        // DISTINCT ON keys.
        let mut distinct_on: Option<Vec<usize>> = None;
        if let Some(Some(exprs)) = &distinct {
            let mut keys = Vec::new();
            for e in exprs {
                if let Some(n) = ordinal(e) {
                    keys.push(n.saturating_sub(1));
                    continue;
                }
                cx.clause = "DISTINCT ON";
                let (b, t) = self.bind_expr(e, &scope, &mut cx)?;
                if let Some(i) = items.iter().position(|it| expr_eq(&it.1, &b)) {
                    keys.push(i);
                } else if let Some(j) = hidden.iter().position(|h| expr_eq(&h.0, &b)) {
                    keys.push(items.len() + j);
                } else {
                    keys.push(items.len() + hidden.len());
                    hidden.push((b, t));
                }
            }
            distinct_on = Some(keys);
        }
        // GROUP BY
        let group_exprs: Vec<ast::Expr> = match &select.group_by {
            ast::GroupByExpr::Expressions(exprs, modifiers) => {
                if !modifiers.is_empty() {
                    return Err(SqlError::unsupported("GROUP BY modifiers"));
                }
                exprs.clone()
            }
            ast::GroupByExpr::All(_) => return Err(SqlError::unsupported("GROUP BY ALL")),
        };
        let mut groups: Vec<Expr> = Vec::new();
        let mut sets: Option<Vec<Vec<usize>>> = None;
        for g in &group_exprs {
            match g {
                ast::Expr::Rollup(lists)
                | ast::Expr::Cube(lists)
                | ast::Expr::GroupingSets(lists) => {
                    if sets.is_some() {
                        return Err(SqlError::unsupported("more than one grouping-set clause"));
                    }
                    let mut indexes: Vec<Vec<usize>> = Vec::new();
                    for list in lists {
                        let mut set = Vec::new();
                        for e in list {
                            let b = self.group_expr(e, &select.projection, &scope)?;
                            let i = match groups.iter().position(|x| expr_eq(x, &b)) {
                                Some(i) => i,
                                None => {
                                    groups.push(b);
                                    groups.len() - 1
                                }
                            };
                            set.push(i);
                        }
                        indexes.push(set);
                    }
                    let expanded = match g {
                        ast::Expr::Rollup(_) => {
                            let mut out = Vec::new();
                            for n in (0..=indexes.len()).rev() {
                                out.push(indexes[..n].concat());
                            }
                            out
                        }
                        ast::Expr::Cube(_) => {
                            let mut out = Vec::new();
                            let n = indexes.len();
                            for mask in (0..(1u32 << n)).rev() {
                                let mut set = Vec::new();
                                for (k, ix) in indexes.iter().enumerate() {
                                    if mask & (1 << (n - 1 - k)) != 0 {
                                        set.extend(ix);
                                    }
                                }
                                out.push(set);
                            }
                            out
                        }
                        _ => indexes,
                    };
                    sets = Some(expanded);
                }
                _ => {
                    let b = self.group_expr(g, &select.projection, &scope)?;
                    if !groups.iter().any(|x| expr_eq(x, &b)) {
                        groups.push(b);
                    }
                }
            }
        }
        if let Some(sets) = &mut sets {
            // Plain GROUP BY columns next to a grouping-set clause belong to every set.
            let in_sets: Vec<usize> = sets.iter().flatten().copied().collect();
            let plain: Vec<usize> = (0..groups.len()).filter(|i| !in_sets.contains(i)).collect();
            for set in sets.iter_mut() {
                set.extend(plain.iter().copied());
            }
        }
        let aggs = cx.aggs.take().unwrap_or_default();
        let windows = cx.windows.take().unwrap_or_default();
        let grouped = !aggs.is_empty() || !group_exprs.is_empty() || having.is_some();
        let mut select_exprs: Vec<Expr> = items.iter().map(|it| it.1.clone()).collect();
        let mut hidden_exprs: Vec<Expr> = hidden.iter().map(|h| h.0.clone()).collect();
        let mut having = having;
        let mut window_calls: Vec<WindowCall> = windows.into_iter().map(|(w, _)| w).collect();
        if grouped {
            // Columns functionally dependent on a grouped primary key may be used too.
            let extra = self.dependent_columns(&groups, &scope);
            let visible_groups = groups.len();
            groups.extend(extra);
            let ngroups = groups.len();
            let mask_column = sets.as_ref().map(|_| ngroups + aggs.len());
            let map = |e: Expr, _clause: &str| -> SqlResult<Expr> {
                let e = regroup(e, &groups, ngroups, &scope)?;
                grouping_calls(e, &groups, visible_groups, mask_column)
            };
            select_exprs = select_exprs
                .into_iter()
                .enumerate()
                .map(|(i, e)| {
                    if srf.contains(&i) {
                        Ok(e)
                    } else {
                        map(e, "SELECT")
                    }
                })
                .collect::<SqlResult<_>>()?;
            hidden_exprs = hidden_exprs
                .into_iter()
                .map(|e| map(e, "ORDER BY"))
                .collect::<SqlResult<_>>()?;
            having = having.map(|h| map(h, "HAVING")).transpose()?;
            for w in &mut window_calls {
                w.args = std::mem::take(&mut w.args)
                    .into_iter()
                    .map(|e| map(e, "window"))
                    .collect::<SqlResult<_>>()?;
                w.partition_by = std::mem::take(&mut w.partition_by)
                    .into_iter()
                    .map(|e| map(e, "window"))
                    .collect::<SqlResult<_>>()?;
                for k in &mut w.order_by {
                    k.expr = map(k.expr.clone(), "window")?;
                }
            }
            let mut agg_calls: Vec<AggCall> = aggs.into_iter().map(|(a, _)| a).collect();
            let _ = &mut agg_calls;
            let sets = sets.map(|s| {
                // Functionally dependent extras are grouped in every set.
                s.into_iter()
                    .map(|mut set| {
                        set.extend(visible_groups..ngroups);
                        set
                    })
                    .collect()
            });
            plan = Plan::Aggregate {
                input: Box::new(plan),
                groups: groups.clone(),
                aggs: agg_calls,
                sets,
            };
            if let Some(h) = having.take() {
                plan = Plan::Filter {
                    input: Box::new(plan),
                    predicate: h,
                };
            }
        }
        let base_width = if grouped {
            let Plan::Aggregate {
                groups, aggs, sets, ..
            } = strip_filter(&plan)
            else {
                return Err(SqlError::internal("aggregate plan expected"));
            };
            groups.len() + aggs.len() + usize::from(sets.is_some())
        } else {
            scope.width() + srf_width
        };
        if !window_calls.is_empty() {
            let n = window_calls.len();
            plan = Plan::Window {
                input: Box::new(plan),
                calls: window_calls,
            };
            let fix = |e: Expr| -> Expr {
                e.transform(&mut |x| match x {
                    Expr::WindowRef(k) => Expr::Column(base_width + k),
                    other => other,
                })
            };
            select_exprs = select_exprs.into_iter().map(fix).collect();
            hidden_exprs = hidden_exprs.into_iter().map(fix).collect();
            let _ = n;
        }
        let visible = select_exprs.len();
        let mut exprs = select_exprs;
        exprs.extend(hidden_exprs);
        let total = exprs.len();
        plan = Plan::Project {
            input: Box::new(plan),
            exprs,
        };
        let columns: Vec<OutputColumn> = items
            .iter()
            .map(|(name, _, t, table_oid, attnum)| OutputColumn {
                name: name.clone(),
                sql_type: t.clone(),
                table_oid: *table_oid,
                attnum: *attnum,
            })
            .collect();
        let keys: Vec<SortKey> = sort_keys
            .iter()
            .map(|(i, d, n)| SortKey {
                expr: Expr::Column(*i),
                descending: *d,
                nulls_first: *n,
            })
            .collect();
        match distinct {
            Some(None) => {
                plan = Plan::Distinct {
                    input: Box::new(plan),
                    on: None,
                };
            }
            Some(Some(_)) => {
                let on = distinct_on.unwrap_or_default();
                // Sort by the DISTINCT ON keys (then the ORDER BY) so the first row of each
                // group is the one ORDER BY picks.
                let mut pre = Vec::new();
                for (k, &i) in on.iter().enumerate() {
                    match keys.get(k) {
                        Some(key) if matches!(key.expr, Expr::Column(j) if j == i) => pre.push(key.clone()),
                        Some(_) => {
                            return Err(SqlError::new(
                                code::INVALID_COLUMN_REFERENCE,
                                "SELECT DISTINCT ON expressions must match initial ORDER BY expressions",
                            ))
                        }
                        None => pre.push(SortKey {
                            expr: Expr::Column(i),
                            descending: false,
                            nulls_first: false,
                        }),
                    }
                }
                pre.extend(keys.iter().skip(on.len()).cloned());
                plan = Plan::Sort {
                    input: Box::new(plan),
                    keys: pre,
                    limit: None,
                };
                plan = Plan::Distinct {
                    input: Box::new(plan),
                    on: Some(on.iter().map(|&i| Expr::Column(i)).collect()),
                };
            }
            None => {}
        }
        if !keys.is_empty() && !matches!(distinct, Some(Some(_))) {
            plan = Plan::Sort {
                input: Box::new(plan),
                keys,
                limit: None,
            };
        }
        plan = apply_limit(plan, limit, offset);
        if total > visible {
            plan = Plan::Project {
                input: Box::new(plan),
                exprs: (0..visible).map(Expr::Column).collect(),
            };
        }
        Ok((plan, columns))
    }

    /// A GROUP BY item: an output ordinal, an output alias, or an expression over FROM.
    fn group_expr(
        &mut self,
        e: &ast::Expr,
        projection: &[SelectItem],
        scope: &Scope,
    ) -> SqlResult<Expr> {
        let mut cx = ExprContext::plain("GROUP BY");
        if let Some(n) = ordinal(e) {
            let item = projection.get(n.wrapping_sub(1)).ok_or_else(|| {
                SqlError::new(
                    code::INVALID_COLUMN_REFERENCE,
                    format!("GROUP BY position {n} is not in select list"),
                )
            })?;
            return match item {
                SelectItem::UnnamedExpr(x) | SelectItem::ExprWithAlias { expr: x, .. } => {
                    Ok(self.bind_expr(x, scope, &mut cx)?.0)
                }
                _ => Err(SqlError::unsupported("GROUP BY position of *")),
            };
        }
        match self.bind_expr(e, scope, &mut cx) {
            Ok((b, _)) => Ok(b),
            Err(err) if err.code == code::UNDEFINED_COLUMN => {
                if let ast::Expr::Identifier(ident) = e {
                    let name = ident_name(ident);
                    for item in projection {
                        if let SelectItem::ExprWithAlias { expr, alias } = item {
                            if ident_name(alias) == name {
                                return Ok(self.bind_expr(expr, scope, &mut cx)?.0);
                            }
                        }
                    }
                }
                Err(err)
            }
            Err(err) => Err(err),
        }
    }

    /// Columns of a FROM table whose whole primary key is grouped (PostgreSQL allows them
    /// in the select list of a grouped query).
    fn dependent_columns(&self, groups: &[Expr], scope: &Scope) -> Vec<Expr> {
        let mut extra = Vec::new();
        let grouped: Vec<usize> = groups
            .iter()
            .filter_map(|g| match g {
                Expr::Column(i) => Some(*i),
                _ => None,
            })
            .collect();
        let mut seen: Vec<(Option<String>, u32)> = Vec::new();
        for &i in &grouped {
            let c = &scope.columns[i];
            if c.table_oid == 0 || seen.contains(&(c.qualifier.clone(), c.table_oid)) {
                continue;
            }
            seen.push((c.qualifier.clone(), c.table_oid));
            let Some(table) = self.catalog.tables.get(&c.table_oid) else {
                continue;
            };
            let pk = table.constraints.iter().find_map(|k| match &k.kind {
                storage::catalog::ConstraintKind::PrimaryKey { columns, .. } => {
                    Some(columns.clone())
                }
                _ => None,
            });
            let Some(pk) = pk else { continue };
            let members: Vec<usize> = scope
                .columns
                .iter()
                .enumerate()
                .filter(|(_, s)| s.qualifier == c.qualifier && s.table_oid == c.table_oid)
                .map(|(j, _)| j)
                .collect();
            let covered = pk.iter().all(|a| {
                members
                    .iter()
                    .any(|&j| scope.columns[j].attnum == *a as i16 && grouped.contains(&j))
            });
            if covered {
                for j in members {
                    if !grouped.contains(&j) {
                        extra.push(Expr::Column(j));
                    }
                }
            }
        }
        extra
    }

    /// A set-returning function call at the top of a select item.
    #[allow(clippy::type_complexity)]
    fn select_srf(
        &mut self,
        e: &ast::Expr,
        scope: &Scope,
    ) -> SqlResult<Option<(SrfCall, Option<usize>)>> {
        // `(f(...)).field` selects one column of a set-returning function's result.
        if let ast::Expr::CompoundFieldAccess { root, access_chain } = e {
            if let [ast::AccessExpr::Dot(ast::Expr::Identifier(field))] = access_chain.as_slice() {
                if let Some((call, None)) = self.select_srf(strip_parens(root), scope)? {
                    let name = ident_name(field);
                    let index = call.3.iter().position(|(n, _)| *n == name).ok_or_else(|| {
                        SqlError::new(
                            code::UNDEFINED_COLUMN,
                            format!("column \"{name}\" not found in data type record"),
                        )
                    })?;
                    return Ok(Some((call, Some(index))));
                }
            }
            return Ok(None);
        }
        let ast::Expr::Function(f) = strip_parens(e) else {
            return Ok(None);
        };
        if f.over.is_some() {
            return Ok(None);
        }
        let parts = super::object_name_parts(&f.name);
        let Some(name) = parts.last() else {
            return Ok(None);
        };
        if !registry().is_set_returning(name) {
            return Ok(None);
        }
        let args = function_call_args(f)?;
        // Arguments are evaluated against the FROM row, which the lateral join passes as the
        // outer row.
        self.outer.push(scope.clone());
        let result = self.set_function(name, &args, &Scope::default());
        self.outer.pop();
        Ok(Some((result?, None)))
    }

    /// Resolves a set-returning function call.
    #[allow(clippy::type_complexity)]
    fn set_function(
        &mut self,
        name: &str,
        args: &[&ast::Expr],
        scope: &Scope,
    ) -> SqlResult<SrfCall> {
        let mut bound = Vec::new();
        for a in args {
            let mut cx = ExprContext::plain("FROM");
            bound.push(self.bind_expr(a, scope, &mut cx)?);
        }
        let types: Vec<SqlType> = bound.iter().map(|(_, t)| t.clone()).collect();
        let resolved = registry().resolve(name, &types)?;
        let Implementation::Set { columns, rows } = resolved.overload.implementation else {
            return Err(SqlError::new(
                code::WRONG_OBJECT_TYPE,
                format!("function {name} does not return a set"),
            ));
        };
        let mut exprs = Vec::new();
        for ((e, t), target) in bound.into_iter().zip(resolved.arg_types.iter()) {
            exprs.push(self.coerce(e, &t, target)?);
        }
        let cols = columns(&resolved.arg_types);
        Ok((resolved.overload.name, rows, exprs, cols))
    }

    /// FROM: the cross product of the items, each possibly a join tree.
    pub fn bind_from(&mut self, from: &[ast::TableWithJoins]) -> SqlResult<Bound> {
        let mut result: Option<Bound> = None;
        for item in from {
            let left_scope = result.as_ref().map(|b| b.scope.clone()).unwrap_or_default();
            let bound = self.bind_table_with_joins(item, &left_scope)?;
            result = Some(match result {
                None => bound,
                Some(left) => cross_join(left, bound),
            });
        }
        Ok(result.unwrap_or(Bound {
            plan: Plan::Values {
                rows: vec![vec![]],
                width: 0,
            },
            scope: Scope::default(),
        }))
    }

    fn bind_table_with_joins(
        &mut self,
        item: &ast::TableWithJoins,
        lateral_scope: &Scope,
    ) -> SqlResult<Bound> {
        let mut left = self.bind_factor(&item.relation, lateral_scope)?;
        for join in &item.joins {
            let mut visible = lateral_scope.clone();
            visible.columns.extend(left.scope.columns.iter().cloned());
            let right = self.bind_factor(&join.relation, &visible)?;
            left = self.join(left, right, &join.join_operator)?;
        }
        Ok(left)
    }

    fn join(&mut self, left: Bound, right: Bound, op: &ast::JoinOperator) -> SqlResult<Bound> {
        use ast::JoinOperator as J;
        let (kind, constraint) = match op {
            J::Join(c) | J::Inner(c) => (JoinKind::Inner, Some(c)),
            J::Left(c) | J::LeftOuter(c) => (JoinKind::Left, Some(c)),
            J::Right(c) | J::RightOuter(c) => (JoinKind::Right, Some(c)),
            J::FullOuter(c) => (JoinKind::Full, Some(c)),
            J::CrossJoin(_) => (JoinKind::Inner, None),
            other => return Err(SqlError::unsupported(format!("join {other:?}"))),
        };
        let left_width = left.scope.width();
        let right_width = right.scope.width();
        let mut scope = Scope::default();
        scope.columns.extend(left.scope.columns.iter().cloned());
        scope.columns.extend(right.scope.columns.iter().cloned());
        let mut using: Vec<String> = Vec::new();
        let mut on: Option<Expr> = None;
        match constraint {
            None | Some(ast::JoinConstraint::None) => {}
            Some(ast::JoinConstraint::On(e)) => {
                let mut cx = ExprContext::plain("JOIN conditions");
                on = Some(self.bind_predicate(e, &scope, &mut cx)?);
            }
            Some(ast::JoinConstraint::Using(names)) => {
                for n in names {
                    let parts = super::object_name_parts(n);
                    using.push(parts.last().cloned().unwrap_or_default());
                }
            }
            Some(ast::JoinConstraint::Natural) => {
                for c in left.scope.columns.iter().filter(|c| !c.hidden) {
                    if right
                        .scope
                        .columns
                        .iter()
                        .any(|r| !r.hidden && r.name == c.name)
                        && !using.contains(&c.name)
                    {
                        using.push(c.name.clone());
                    }
                }
            }
            Some(other) => return Err(SqlError::unsupported(format!("join constraint {other:?}"))),
        }
        if !using.is_empty() || matches!(constraint, Some(ast::JoinConstraint::Natural)) {
            let mut conditions = Vec::new();
            let mut merged = Vec::new();
            for name in &using {
                let l = left.scope.find(None, None, name)?.ok_or_else(|| {
                    SqlError::new(
                        code::UNDEFINED_COLUMN,
                        format!("column \"{name}\" specified in USING clause does not exist in left table"),
                    )
                })?;
                let r = right.scope.find(None, None, name)?.ok_or_else(|| {
                    SqlError::new(
                        code::UNDEFINED_COLUMN,
                        format!("column \"{name}\" specified in USING clause does not exist in right table"),
                    )
                })?;
                let lt = left.scope.columns[l].sql_type.clone();
                let rt = right.scope.columns[r].sql_type.clone();
                let (cond, _) = self.operator(
                    "=",
                    Some((Expr::Column(l), lt.clone())),
                    (Expr::Column(left_width + r), rt.clone()),
                )?;
                conditions.push(cond);
                merged.push((
                    name.clone(),
                    l,
                    left_width + r,
                    common_type(&[lt, rt], "JOIN/USING")?,
                ));
            }
            on = match conditions.len() {
                0 => None,
                1 => conditions.pop(),
                _ => Some(Expr::And(conditions)),
            };
            // The joined columns appear once, first, unqualified; the originals stay
            // reachable qualified.
            let plan = self.plan_join(left.plan, right.plan, kind, on, left_width, right_width);
            let mut exprs = Vec::new();
            let mut columns = Vec::new();
            for (name, l, r, t) in &merged {
                let value = match kind {
                    JoinKind::Right => Expr::Column(*r),
                    JoinKind::Full => Expr::Coalesce(vec![Expr::Column(*l), Expr::Column(*r)]),
                    _ => Expr::Column(*l),
                };
                let source = &scope.columns[*l];
                exprs.push(value);
                columns.push(ScopeColumn {
                    qualifier: None,
                    schema: None,
                    name: name.clone(),
                    sql_type: t.clone(),
                    table_oid: if kind == JoinKind::Full {
                        0
                    } else {
                        source.table_oid
                    },
                    attnum: if kind == JoinKind::Full {
                        0
                    } else {
                        source.attnum
                    },
                    hidden: false,
                    qualified_only: false,
                });
            }
            for (i, c) in scope.columns.iter().enumerate() {
                let mut c = c.clone();
                if merged.iter().any(|(_, l, r, _)| *l == i || *r == i) {
                    c.qualified_only = true;
                }
                exprs.push(Expr::Column(i));
                columns.push(c);
            }
            return Ok(Bound {
                plan: Plan::Project {
                    input: Box::new(plan),
                    exprs,
                },
                scope: Scope { columns },
            });
        }
        if let Plan::Lateral {
            left: unit,
            right: inner,
            right_width: rw,
            ..
        } = &right.plan
        {
            if is_unit(unit) {
                // LATERAL: the right side runs once per left row.
                let trivial = matches!(&on, None | Some(Expr::Const(Value::Bool(true))));
                let lateral = |k| Plan::Lateral {
                    left: Box::new(left.plan),
                    right: inner.clone(),
                    kind: k,
                    right_width: *rw,
                };
                let plan = match kind {
                    JoinKind::Inner => match on {
                        Some(predicate) if !trivial => Plan::Filter {
                            input: Box::new(lateral(JoinKind::Inner)),
                            predicate,
                        },
                        _ => lateral(JoinKind::Inner),
                    },
                    JoinKind::Left if trivial => lateral(JoinKind::Left),
                    _ => {
                        return Err(SqlError::unsupported(
                            "this kind of join with a LATERAL item (use ON true)",
                        ))
                    }
                };
                return Ok(Bound { plan, scope });
            }
        }
        let plan = self.plan_join(left.plan, right.plan, kind, on, left_width, right_width);
        Ok(Bound { plan, scope })
    }

    /// Chooses a hash join when the condition has equalities between the two sides.
    pub fn plan_join(
        &self,
        left: Plan,
        right: Plan,
        kind: JoinKind,
        on: Option<Expr>,
        left_width: usize,
        right_width: usize,
    ) -> Plan {
        crate::optimize::plan_join(left, right, kind, on, left_width, right_width)
    }

    fn bind_factor(&mut self, factor: &TableFactor, lateral_scope: &Scope) -> SqlResult<Bound> {
        match factor {
            TableFactor::Table {
                name,
                alias,
                args,
                with_ordinality,
                ..
            } => {
                if let Some(args) = args {
                    let (_, fname) = split_name(name)?;
                    let exprs: Vec<&ast::Expr> = args
                        .args
                        .iter()
                        .map(|a| match a {
                            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Ok(e),
                            _ => Err(SqlError::unsupported("this function argument form")),
                        })
                        .collect::<SqlResult<_>>()?;
                    return self.function_factor(
                        &fname,
                        &exprs,
                        alias.as_ref(),
                        *with_ordinality,
                        lateral_scope,
                    );
                }
                self.relation(name, alias.as_ref())
            }
            TableFactor::Derived {
                lateral,
                subquery,
                alias,
                ..
            } => {
                let (plan, mut columns) = if *lateral {
                    self.outer.push(lateral_scope.clone());
                    let r = self.bind_query(subquery);
                    self.outer.pop();
                    let (p, c) = r?;
                    let width = c.len();
                    // Run per row of the left side: the caller's cross/lateral join handles it.
                    (
                        Plan::Lateral {
                            left: Box::new(Plan::Values {
                                rows: vec![vec![]],
                                width: 0,
                            }),
                            right: Box::new(p),
                            kind: JoinKind::Inner,
                            right_width: width,
                        },
                        c,
                    )
                } else {
                    self.bind_query(subquery)?
                };
                let qualifier = match alias {
                    Some(a) => {
                        rename_columns(&mut columns, &a.columns, &ident_name(&a.name))?;
                        Some(ident_name(&a.name))
                    }
                    None => None,
                };
                Ok(Bound {
                    plan,
                    scope: scope_of(&columns, qualifier, None),
                })
            }
            TableFactor::Function {
                name,
                args,
                alias,
                with_ordinality,
                ..
            } => {
                let (_, fname) = split_name(name)?;
                let exprs: Vec<&ast::Expr> = args
                    .iter()
                    .map(|a| match a {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Ok(e),
                        _ => Err(SqlError::unsupported("this function argument form")),
                    })
                    .collect::<SqlResult<_>>()?;
                self.function_factor(
                    &fname,
                    &exprs,
                    alias.as_ref(),
                    *with_ordinality,
                    lateral_scope,
                )
            }
            TableFactor::UNNEST {
                alias,
                array_exprs,
                with_ordinality,
                ..
            } => {
                let exprs: Vec<&ast::Expr> = array_exprs.iter().collect();
                self.function_factor(
                    "unnest",
                    &exprs,
                    alias.as_ref(),
                    *with_ordinality,
                    lateral_scope,
                )
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                let mut bound = self.bind_table_with_joins(table_with_joins, lateral_scope)?;
                if let Some(a) = alias {
                    let q = ident_name(&a.name);
                    for c in &mut bound.scope.columns {
                        c.qualifier = Some(q.clone());
                    }
                }
                Ok(bound)
            }
            other => Err(SqlError::unsupported(format!("FROM item {other}"))),
        }
    }

    fn function_factor(
        &mut self,
        name: &str,
        args: &[&ast::Expr],
        alias: Option<&ast::TableAlias>,
        ordinality: bool,
        lateral_scope: &Scope,
    ) -> SqlResult<Bound> {
        if crate::ddl::functions::exists(&self.catalog, name) {
            let before = self.outer_refs;
            self.outer.push(lateral_scope.clone());
            let mut cx = ExprContext::plain("functions in FROM");
            let bound: SqlResult<Vec<Typed>> = args
                .iter()
                .map(|a| self.bind_expr(a, &Scope::default(), &mut cx))
                .collect();
            let user = bound.and_then(|b| {
                crate::ddl::functions::table_function(self, None, name, &b, alias, ordinality)
            });
            self.outer.pop();
            if let Some((plan, columns, qualifier)) = user? {
                let width = columns.len();
                let plan = if self.outer_refs != before {
                    Plan::Lateral {
                        left: Box::new(Plan::Values {
                            rows: vec![vec![]],
                            width: 0,
                        }),
                        right: Box::new(plan),
                        kind: JoinKind::Inner,
                        right_width: width,
                    }
                } else {
                    plan
                };
                return Ok(Bound {
                    plan,
                    scope: scope_of(&columns, Some(qualifier), None),
                });
            }
        }
        let before = self.outer_refs;
        self.outer.push(lateral_scope.clone());
        // unnest(a, b, ...) in FROM: one column per array, side by side.
        let result = if name == "unnest" && args.len() > 1 {
            let mut scans = Vec::new();
            let mut all_columns = Vec::new();
            let mut failure = None;
            for a in args {
                match self.set_function(name, std::slice::from_ref(a), &Scope::default()) {
                    Ok((n, func, exprs, cols)) => {
                        scans.push(Plan::FunctionScan {
                            name: n,
                            func,
                            args: exprs,
                            width: cols.len(),
                            ordinality: false,
                        });
                        all_columns.extend(cols);
                    }
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            match failure {
                Some(e) => Err(e),
                None => Ok((scans, all_columns)),
            }
        } else {
            self.set_function(name, args, &Scope::default())
                .map(|(n, func, exprs, cols)| {
                    let width = cols.len();
                    (
                        vec![Plan::FunctionScan {
                            name: n,
                            func,
                            args: exprs,
                            width,
                            ordinality: false,
                        }],
                        cols,
                    )
                })
        };
        self.outer.pop();
        let (mut scans, mut cols) = result?;
        let correlated = self.outer_refs != before;
        if ordinality {
            cols.push(("ordinality".into(), SqlType::Int8));
        }
        let width = cols.len();
        let mut columns: Vec<OutputColumn> = cols
            .into_iter()
            .map(|(n, t)| OutputColumn::computed(n, t))
            .collect();
        let qualifier = match alias {
            Some(a) => {
                let q = ident_name(&a.name);
                // A function returning a scalar set names its column after itself, and an
                // alias renames it; named result columns (OUT parameters) keep their names.
                if columns.len() == 1 + usize::from(ordinality)
                    && a.columns.is_empty()
                    && columns[0].name == name
                {
                    columns[0].name = q.clone();
                }
                rename_columns(&mut columns, &a.columns, &q)?;
                Some(q)
            }
            None => Some(name.to_string()),
        };
        let scan = if scans.len() == 1 {
            match scans.pop() {
                Some(Plan::FunctionScan {
                    name, func, args, ..
                }) => Plan::FunctionScan {
                    name,
                    func,
                    args,
                    width,
                    ordinality,
                },
                _ => return Err(SqlError::internal("function scan expected")),
            }
        } else {
            if ordinality {
                return Err(SqlError::unsupported(
                    "WITH ORDINALITY on unnest of several arrays",
                ));
            }
            Plan::Zip { inputs: scans }
        };
        let plan = if correlated {
            Plan::Lateral {
                left: Box::new(Plan::Values {
                    rows: vec![vec![]],
                    width: 0,
                }),
                right: Box::new(scan),
                kind: JoinKind::Inner,
                right_width: width,
            }
        } else {
            scan
        };
        Ok(Bound {
            plan,
            scope: scope_of(&columns, qualifier, None),
        })
    }

    /// A named relation: CTE, view, system table or table.
    fn relation(
        &mut self,
        name: &ast::ObjectName,
        alias: Option<&ast::TableAlias>,
    ) -> SqlResult<Bound> {
        let (schema, rel) = split_name(name)?;
        let qualifier = alias
            .map(|a| ident_name(&a.name))
            .unwrap_or_else(|| rel.clone());
        if schema.is_none() {
            if let Some(cte) = self.ctes.iter().rev().find(|c| c.name == rel).cloned() {
                let mut columns = cte.columns.clone();
                if let Some(a) = alias {
                    rename_columns(&mut columns, &a.columns, &qualifier)?;
                }
                return Ok(Bound {
                    plan: Plan::CteScan {
                        id: cte.id,
                        width: columns.len(),
                    },
                    scope: scope_of(&columns, Some(qualifier), None),
                });
            }
        }
        let resolved = crate::catalog_access::resolve_relation(
            &self.catalog,
            schema.as_deref(),
            &rel,
            &self.search_path,
        )
        .map_err(|e| self.locate(e, name))?;
        match resolved {
            crate::catalog_access::Relation::Table(oid) => {
                let table = self
                    .catalog
                    .tables
                    .get(&oid)
                    .ok_or_else(|| SqlError::undefined_table(&rel))?;
                let schema_name = self
                    .catalog
                    .schemas
                    .get(&table.schema)
                    .map(|s| s.name.clone());
                let mut columns = Vec::new();
                for c in &table.columns {
                    columns.push(ScopeColumn {
                        qualifier: Some(qualifier.clone()),
                        schema: schema_name.clone(),
                        name: c.name.clone(),
                        sql_type: SqlType::from_data_type(&c.data_type),
                        table_oid: oid,
                        attnum: c.attnum as i16,
                        hidden: c.dropped,
                        qualified_only: false,
                    });
                }
                if let Some(a) = alias {
                    rename_scope(&mut columns, &a.columns, &qualifier)?;
                }
                let width = columns.len();
                Ok(Bound {
                    plan: Plan::SeqScan {
                        table: oid,
                        width,
                        filter: None,
                        predicates: Vec::new(),
                        row_id: false,
                    },
                    scope: Scope { columns },
                })
            }
            crate::catalog_access::Relation::View(oid) => {
                let view = self
                    .catalog
                    .views
                    .get(&oid)
                    .cloned()
                    .ok_or_else(|| SqlError::undefined_table(&rel))?;
                let statement = crate::parse::parse_one(&view.query)?;
                let ast::Statement::Query(q) = statement else {
                    return Err(SqlError::internal("view definition is not a query"));
                };
                // A view is bound in its own context: no outer references, no CTEs.
                let outer = std::mem::take(&mut self.outer);
                let ctes = std::mem::take(&mut self.ctes);
                let result = self.bind_query(&q);
                self.outer = outer;
                self.ctes = ctes;
                let (plan, mut columns) = result?;
                for (c, n) in columns.iter_mut().zip(view.column_names.iter()) {
                    c.name = n.clone();
                }
                if let Some(a) = alias {
                    rename_columns(&mut columns, &a.columns, &qualifier)?;
                }
                let schema_name = self
                    .catalog
                    .schemas
                    .get(&view.schema)
                    .map(|s| s.name.clone());
                Ok(Bound {
                    plan,
                    scope: scope_of(&columns, Some(qualifier), schema_name),
                })
            }
            crate::catalog_access::Relation::System(table) => {
                let mut columns: Vec<OutputColumn> = table
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, (n, t))| OutputColumn {
                        name: n.to_string(),
                        sql_type: t.clone(),
                        table_oid: table.oid,
                        attnum: i as i16 + 1,
                    })
                    .collect();
                if let Some(a) = alias {
                    rename_columns(&mut columns, &a.columns, &qualifier)?;
                }
                Ok(Bound {
                    plan: Plan::SystemScan {
                        table,
                        filter: None,
                    },
                    scope: scope_of(&columns, Some(qualifier), Some(table.schema.to_string())),
                })
            }
            crate::catalog_access::Relation::Sequence(oid) => {
                let seq = self
                    .catalog
                    .sequences
                    .get(&oid)
                    .ok_or_else(|| SqlError::undefined_table(&rel))?;
                let columns = vec![
                    OutputColumn::computed("last_value", SqlType::Int8),
                    OutputColumn::computed("log_cnt", SqlType::Int8),
                    OutputColumn::computed("is_called", SqlType::Bool),
                ];
                let last = crate::exec::sequence_last_value(seq);
                let row = vec![
                    Expr::Const(Value::Int8(last.unwrap_or(seq.start))),
                    Expr::Const(Value::Int8(0)),
                    Expr::Const(Value::Bool(last.is_some())),
                ];
                Ok(Bound {
                    plan: Plan::Values {
                        rows: vec![row],
                        width: 3,
                    },
                    scope: scope_of(&columns, Some(qualifier), None),
                })
            }
        }
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

fn cross_join(left: Bound, right: Bound) -> Bound {
    let left_width = left.scope.width();
    let right_width = right.scope.width();
    let mut scope = left.scope;
    scope.columns.extend(right.scope.columns);
    let plan = match right.plan {
        // A lateral item runs once per row of what precedes it.
        Plan::Lateral {
            right: inner,
            kind,
            right_width,
            left: l,
        } if is_unit(&l) => Plan::Lateral {
            left: Box::new(left.plan),
            right: inner,
            kind,
            right_width,
        },
        other => Plan::NestedLoopJoin {
            left: Box::new(left.plan),
            right: Box::new(other),
            kind: JoinKind::Inner,
            on: None,
            left_width,
            right_width,
        },
    };
    Bound { plan, scope }
}

fn strip_parens(e: &ast::Expr) -> &ast::Expr {
    match e {
        ast::Expr::Nested(inner) => strip_parens(inner),
        other => other,
    }
}

fn is_unit(plan: &Plan) -> bool {
    matches!(plan, Plan::Values { rows, width: 0 } if rows.len() == 1)
}

fn strip_filter(plan: &Plan) -> &Plan {
    match plan {
        Plan::Filter { input, .. } => strip_filter(input),
        other => other,
    }
}

fn apply_limit(plan: Plan, limit: Option<Expr>, offset: Option<Expr>) -> Plan {
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

fn ordinal(e: &ast::Expr) -> Option<usize> {
    if let ast::Expr::Value(v) = e {
        if let ast::Value::Number(n, _) = &v.value {
            return n.parse().ok();
        }
    }
    None
}

/// The output name PostgreSQL gives an unaliased select item (`FigureColname`).
fn output_name(e: &ast::Expr) -> String {
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

fn scope_of(columns: &[OutputColumn], qualifier: Option<String>, schema: Option<String>) -> Scope {
    Scope {
        columns: columns
            .iter()
            .map(|c| ScopeColumn {
                qualifier: qualifier.clone(),
                schema: schema.clone(),
                name: c.name.clone(),
                sql_type: c.sql_type.clone(),
                table_oid: c.table_oid,
                attnum: c.attnum,
                hidden: false,
                qualified_only: false,
            })
            .collect(),
    }
}

fn rename_columns(
    columns: &mut [OutputColumn],
    names: &[ast::TableAliasColumnDef],
    relation: &str,
) -> SqlResult<()> {
    if names.len() > columns.len() {
        return Err(SqlError::new(
            code::INVALID_COLUMN_REFERENCE,
            format!(
                "table \"{relation}\" has {} columns available but {} columns specified",
                columns.len(),
                names.len()
            ),
        ));
    }
    for (c, n) in columns.iter_mut().zip(names) {
        c.name = ident_name(&n.name);
    }
    Ok(())
}

fn rename_scope(
    columns: &mut [ScopeColumn],
    names: &[ast::TableAliasColumnDef],
    relation: &str,
) -> SqlResult<()> {
    let live: Vec<usize> = (0..columns.len()).filter(|&i| !columns[i].hidden).collect();
    if names.len() > live.len() {
        return Err(SqlError::new(
            code::INVALID_COLUMN_REFERENCE,
            format!(
                "table \"{relation}\" has {} columns available but {} columns specified",
                live.len(),
                names.len()
            ),
        ));
    }
    for (&i, n) in live.iter().zip(names) {
        columns[i].name = ident_name(&n.name);
    }
    Ok(())
}

fn function_call_args(f: &ast::Function) -> SqlResult<Vec<&ast::Expr>> {
    match &f.args {
        ast::FunctionArguments::None => Ok(vec![]),
        ast::FunctionArguments::List(list) => list
            .args
            .iter()
            .map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Ok(e),
                _ => Err(SqlError::unsupported("this function argument form")),
            })
            .collect(),
        ast::FunctionArguments::Subquery(_) => Err(SqlError::unsupported("subquery argument")),
    }
}

/// Whether a query mentions a relation called `name` (to detect recursive CTEs).
fn references_name(q: &ast::Query, name: &str) -> bool {
    let text = q.to_string().to_lowercase();
    text.split(|c: char| !c.is_alphanumeric() && c != '_')
        .any(|w| w == name)
}

/// `GROUPING(a, b)`: a bitmask of which arguments are not grouped in the current
/// grouping set, read from the aggregate's last column (0 without grouping sets).
fn grouping_calls(
    e: Expr,
    groups: &[Expr],
    visible: usize,
    mask_column: Option<usize>,
) -> SqlResult<Expr> {
    let mut failure = None;
    let rebuilt = e.transform(&mut |x| match x {
        Expr::Call {
            name: "grouping",
            args,
            ..
        } => {
            let mut positions = Vec::new();
            for a in &args {
                match groups[..visible].iter().position(|g| expr_eq(g, a)) {
                    Some(p) => positions.push(Expr::Const(Value::Int4(p as i32))),
                    None => {
                        failure.get_or_insert(SqlError::new(
                            code::GROUPING_ERROR,
                            "arguments to GROUPING must be grouping expressions of the associated query level",
                        ));
                    }
                }
            }
            match mask_column {
                None => Expr::Const(Value::Int4(0)),
                Some(mask) => {
                    let mut call_args = vec![
                        Expr::Column(mask),
                        Expr::Const(Value::Int4(groups.len() as i32)),
                    ];
                    call_args.extend(positions);
                    Expr::Call {
                        name: "grouping",
                        func: grouping_bits,
                        args: call_args,
                        strict: false,
                    }
                }
            }
        }
        other => other,
    });
    match failure {
        Some(e) => Err(e),
        None => Ok(rebuilt),
    }
}

/// GROUPING()'s value from the grouping-set mask (bit `n - 1 - i` set when group
/// expression `i` is not grouped): arguments are the mask, `n`, then group positions.
fn grouping_bits(_: &crate::func::FnCtx, args: &[Value]) -> SqlResult<Value> {
    let mask = match args.first() {
        Some(Value::Int8(m)) => *m,
        _ => 0,
    };
    let n = match args.get(1) {
        Some(Value::Int4(n)) => *n as i64,
        _ => 0,
    };
    let mut out = 0i32;
    for a in &args[2..] {
        let Value::Int4(p) = a else { continue };
        let bit = (mask >> (n - 1 - i64::from(*p))) & 1;
        out = (out << 1) | bit as i32;
    }
    Ok(Value::Int4(out))
}

/// After aggregation: group expressions become columns of the aggregate's output,
/// aggregate placeholders the columns after them; any other column reference is an error.
fn regroup(e: Expr, groups: &[Expr], ngroups: usize, scope: &Scope) -> SqlResult<Expr> {
    if let Some(i) = groups.iter().position(|g| expr_eq(g, &e)) {
        return Ok(Expr::Column(i));
    }
    let mut error = None;
    let rebuilt = match e {
        // GROUPING()'s arguments name group expressions: `grouping_calls` resolves them.
        call @ Expr::Call {
            name: "grouping", ..
        } => call,
        Expr::AggRef(k) => Expr::Column(ngroups + k),
        Expr::Column(i) => {
            let c = &scope.columns[i];
            let q = c
                .qualifier
                .clone()
                .map(|q| format!("{q}."))
                .unwrap_or_default();
            error = Some(SqlError::new(
                code::GROUPING_ERROR,
                format!(
                    "column \"{q}{}\" must appear in the GROUP BY clause or be used in an aggregate function",
                    c.name
                ),
            ));
            Expr::Column(i)
        }
        Expr::Subquery { .. } | Expr::InSubquery { .. } => {
            // Correlated references inside point at the FROM row: after grouping they must
            // name grouped columns, which move to the aggregate's output positions.
            let e = match e {
                Expr::InSubquery {
                    left,
                    plan,
                    op,
                    op_name,
                    all,
                    correlated,
                    id,
                } => Expr::InSubquery {
                    left: Box::new(regroup(*left, groups, ngroups, scope)?),
                    plan,
                    op,
                    op_name,
                    all,
                    correlated,
                    id,
                },
                other => other,
            };
            let mut map = |i: usize| -> SqlResult<usize> {
                groups
                    .iter()
                    .position(|g| matches!(g, Expr::Column(j) if *j == i))
                    .ok_or_else(|| {
                        let c = &scope.columns[i];
                        let q = c
                            .qualifier
                            .clone()
                            .map(|q| format!("{q}."))
                            .unwrap_or_default();
                        SqlError::new(
                            code::GROUPING_ERROR,
                            format!(
                                "subquery uses ungrouped column \"{q}{}\" from outer query",
                                c.name
                            ),
                        )
                    })
            };
            crate::plan::map_outer_refs(e, 0, &mut map)?
        }
        other => {
            let mut failure = None;
            let rebuilt = map_children(other, &mut |child| match regroup(
                child, groups, ngroups, scope,
            ) {
                Ok(x) => x,
                Err(err) => {
                    failure.get_or_insert(err);
                    Expr::Const(Value::Null)
                }
            });
            if let Some(err) = failure {
                return Err(err);
            }
            rebuilt
        }
    };
    match error {
        Some(err) => Err(err),
        None => Ok(rebuilt),
    }
}

/// Applies `f` to the direct children of `e`.
fn map_children(e: Expr, f: &mut dyn FnMut(Expr) -> Expr) -> Expr {
    let mut first = true;
    // `transform` is bottom-up over all nodes; to touch only direct children we rebuild by
    // hand through a one-level transform.
    let _ = &mut first;
    match e {
        Expr::Call {
            name,
            func,
            args,
            strict,
        } => Expr::Call {
            name,
            func,
            args: args.into_iter().map(&mut *f).collect(),
            strict,
        },
        Expr::Cast {
            expr,
            from,
            to,
            explicit,
        } => Expr::Cast {
            expr: Box::new(f(*expr)),
            from,
            to,
            explicit,
        },
        Expr::And(v) => Expr::And(v.into_iter().map(&mut *f).collect()),
        Expr::Or(v) => Expr::Or(v.into_iter().map(&mut *f).collect()),
        Expr::Not(x) => Expr::Not(Box::new(f(*x))),
        Expr::IsNull(x) => Expr::IsNull(Box::new(f(*x))),
        Expr::IsNotNull(x) => Expr::IsNotNull(Box::new(f(*x))),
        Expr::BoolTest {
            expr,
            value,
            negated,
        } => Expr::BoolTest {
            expr: Box::new(f(*expr)),
            value,
            negated,
        },
        Expr::Distinct {
            left,
            right,
            eq,
            negated,
        } => Expr::Distinct {
            left: Box::new(f(*left)),
            right: Box::new(f(*right)),
            eq,
            negated,
        },
        Expr::Case { whens, otherwise } => Expr::Case {
            whens: whens.into_iter().map(|(w, t)| (f(w), f(t))).collect(),
            otherwise: Box::new(f(*otherwise)),
        },
        Expr::Coalesce(v) => Expr::Coalesce(v.into_iter().map(&mut *f).collect()),
        Expr::NullIf { left, right, eq } => Expr::NullIf {
            left: Box::new(f(*left)),
            right: Box::new(f(*right)),
            eq,
        },
        Expr::Extreme { args, greatest } => Expr::Extreme {
            args: args.into_iter().map(&mut *f).collect(),
            greatest,
        },
        Expr::AnyArray {
            left,
            array,
            op,
            all,
        } => Expr::AnyArray {
            left: Box::new(f(*left)),
            array: Box::new(f(*array)),
            op,
            all,
        },
        Expr::Array {
            elements,
            element_type,
        } => Expr::Array {
            elements: elements.into_iter().map(&mut *f).collect(),
            element_type,
        },
        Expr::Subscript { array, subscripts } => Expr::Subscript {
            array: Box::new(f(*array)),
            subscripts: subscripts
                .into_iter()
                .map(|(a, b, s)| (a.map(&mut *f), b.map(&mut *f), s))
                .collect(),
        },
        Expr::Row(v) => Expr::Row(v.into_iter().map(&mut *f).collect()),
        Expr::Session { func, args } => Expr::Session {
            func,
            args: args.into_iter().map(&mut *f).collect(),
        },
        Expr::InSubquery {
            left,
            plan,
            op,
            op_name,
            all,
            correlated,
            id,
        } => Expr::InSubquery {
            op_name,
            left: Box::new(f(*left)),
            plan,
            op,
            all,
            correlated,
            id,
        },
        other => other,
    }
}

/// Structural equality of bound expressions (GROUP BY matching, ORDER BY reuse).
pub fn expr_eq(a: &Expr, b: &Expr) -> bool {
    use Expr as X;
    let all =
        |x: &[Expr], y: &[Expr]| x.len() == y.len() && x.iter().zip(y).all(|(p, q)| expr_eq(p, q));
    match (a, b) {
        (X::Column(x), X::Column(y)) => x == y,
        (
            X::Outer {
                level: l1,
                index: i1,
            },
            X::Outer {
                level: l2,
                index: i2,
            },
        ) => l1 == l2 && i1 == i2,
        (X::Const(x), X::Const(y)) => x == y,
        (X::Param(x), X::Param(y)) => x == y,
        (
            X::Call {
                name: n1, args: a1, ..
            },
            X::Call {
                name: n2, args: a2, ..
            },
        ) => n1 == n2 && all(a1, a2),
        (
            X::Cast {
                expr: e1, to: t1, ..
            },
            X::Cast {
                expr: e2, to: t2, ..
            },
        ) => t1 == t2 && expr_eq(e1, e2),
        (X::And(x), X::And(y))
        | (X::Or(x), X::Or(y))
        | (X::Coalesce(x), X::Coalesce(y))
        | (X::Row(x), X::Row(y)) => all(x, y),
        (X::Not(x), X::Not(y))
        | (X::IsNull(x), X::IsNull(y))
        | (X::IsNotNull(x), X::IsNotNull(y)) => expr_eq(x, y),
        (
            X::Case {
                whens: w1,
                otherwise: o1,
            },
            X::Case {
                whens: w2,
                otherwise: o2,
            },
        ) => {
            w1.len() == w2.len()
                && w1
                    .iter()
                    .zip(w2)
                    .all(|((a, b), (c, d))| expr_eq(a, c) && expr_eq(b, d))
                && expr_eq(o1, o2)
        }
        (X::AggRef(x), X::AggRef(y)) | (X::WindowRef(x), X::WindowRef(y)) => x == y,
        (X::Session { func: f1, args: a1 }, X::Session { func: f2, args: a2 }) => {
            f1 == f2 && all(a1, a2)
        }
        (
            X::Extreme {
                args: a1,
                greatest: g1,
            },
            X::Extreme {
                args: a2,
                greatest: g2,
            },
        ) => g1 == g2 && all(a1, a2),
        (
            X::NullIf {
                left: l1,
                right: r1,
                ..
            },
            X::NullIf {
                left: l2,
                right: r2,
                ..
            },
        ) => expr_eq(l1, l2) && expr_eq(r1, r2),
        (
            X::Subscript {
                array: a1,
                subscripts: s1,
            },
            X::Subscript {
                array: a2,
                subscripts: s2,
            },
        ) => {
            expr_eq(a1, a2)
                && s1.len() == s2.len()
                && s1
                    .iter()
                    .zip(s2)
                    .all(|(x, y)| x.2 == y.2 && opt_eq(&x.0, &y.0) && opt_eq(&x.1, &y.1))
        }
        _ => false,
    }
}

fn opt_eq(a: &Option<Expr>, b: &Option<Expr>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => expr_eq(x, y),
        _ => false,
    }
}

/// Keeps `Arc` in scope for plan sharing by callers.
pub type SharedPlan = Arc<Plan>;
