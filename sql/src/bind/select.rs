//! SELECT binding: WHERE, GROUP BY / HAVING, window functions, the select list (with
//! set-returning functions at the top of its items), DISTINCT, ORDER BY and LIMIT of one
//! SELECT, and the output names PostgreSQL gives unaliased select items.

use sqlparser::ast::{self, FunctionArg, FunctionArgExpr, SelectItem};
use storage::types::Value;

use super::column_names::output_name;
use super::expr::{sort_key, ExprContext};
use super::from::{Bound, SrfCall};
use super::grouping::{expr_eq, grouping_calls, regroup};
use super::query::{apply_row_limit, ordinal, RowLimit};
use super::{ident_name, split_name, Binder, Scope};
use crate::error::{code, SqlError, SqlResult};
use crate::func::registry::registry;
use crate::pgtype::SqlType;
use crate::plan::{AggCall, Expr, JoinKind, OutputColumn, Plan, SortKey, WindowCall};

impl Binder<'_> {
    /// Binds one SELECT with its ORDER BY and LIMIT.
    pub fn bind_select(
        &mut self,
        select: &ast::Select,
        order_by: &[ast::OrderByExpr],
        row_limit: RowLimit,
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
        let result = self.bind_select_rest(select, order_by, row_limit, plan, scope);
        self.windows.truncate(saved_windows);
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn bind_select_rest(
        &mut self,
        select: &ast::Select,
        order_by: &[ast::OrderByExpr],
        row_limit: RowLimit,
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
        // Per select item (of the written list): its position among `items` when it is a
        // set-returning function call (GROUP BY may name it by position or alias).
        let mut srf_positions: Vec<Option<usize>> = Vec::new();
        for item in &select.projection {
            srf_positions.push(None);
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
                        self.note_column(c);
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
                            self.note_column(c);
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
                        if let Some(last) = srf_positions.last_mut() {
                            *last = Some(items.len());
                        }
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
        let srf_by_item: Vec<Option<Expr>> = srf_positions
            .iter()
            .map(|p| p.map(|i| items[i].1.clone()))
            .collect();
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
                            let b = self.group_expr(e, &select.projection, &srf_by_item, &scope)?;
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
                    let b = self.group_expr(g, &select.projection, &srf_by_item, &scope)?;
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
                    // A set-returning function's result is only usable when grouped by
                    // (`GROUP BY 1`); PostgreSQL's evaluation after grouping is not done.
                    if srf.contains(&i) && !groups.iter().any(|g| expr_eq(g, &e)) {
                        Err(SqlError::unsupported(
                            "a set-returning function in the select list of a grouped query, unless grouped by",
                        ))
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
        let tie_keys = if row_limit.with_ties {
            keys.clone()
        } else {
            Vec::new()
        };
        if !keys.is_empty() && !matches!(distinct, Some(Some(_))) {
            plan = Plan::Sort {
                input: Box::new(plan),
                keys,
                limit: None,
            };
        }
        plan = apply_row_limit(plan, row_limit, &tie_keys, total)?;
        if total > visible {
            plan = Plan::Project {
                input: Box::new(plan),
                exprs: (0..visible).map(Expr::Column).collect(),
            };
        }
        Ok((plan, columns))
    }

    /// A GROUP BY item: an output ordinal, an output alias, or an expression over FROM.
    /// `srf` holds, per select item, the column of a set-returning function's result when
    /// the item is one (grouping by it groups the function's rows).
    fn group_expr(
        &mut self,
        e: &ast::Expr,
        projection: &[SelectItem],
        srf: &[Option<Expr>],
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
            if let Some(Some(column)) = srf.get(n - 1) {
                return Ok(column.clone());
            }
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
                    for (k, item) in projection.iter().enumerate() {
                        if let SelectItem::ExprWithAlias { expr, alias } = item {
                            if ident_name(alias) == name {
                                if let Some(Some(column)) = srf.get(k) {
                                    return Ok(column.clone());
                                }
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
            // Columns past the scope are set-returning function results.
            let Some(c) = scope.columns.get(i) else {
                continue;
            };
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
}

fn strip_parens(e: &ast::Expr) -> &ast::Expr {
    match e {
        ast::Expr::Nested(inner) => strip_parens(inner),
        other => other,
    }
}

fn strip_filter(plan: &Plan) -> &Plan {
    match plan {
        Plan::Filter { input, .. } => strip_filter(input),
        other => other,
    }
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
