//! FROM binding: tables, views, system tables, CTEs, subqueries and set-returning functions
//! as relations, joins (with USING / NATURAL and LATERAL), and the scopes they expose.

use sqlparser::ast::{self, FunctionArg, FunctionArgExpr, TableFactor};
use storage::types::Value;

use super::expr::{ExprContext, Typed};
use super::{ident_name, split_name, Binder, Scope, ScopeColumn};
use crate::error::{code, SqlError, SqlResult};
use crate::func::common_type;
use crate::func::registry::registry;
use crate::func::Implementation;
use crate::pgtype::SqlType;
use crate::plan::{Expr, JoinKind, OutputColumn, Plan};

/// A resolved set-returning function call: name, implementation, arguments, columns.
pub(super) type SrfCall = (
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
    /// Resolves a set-returning function call.
    #[allow(clippy::type_complexity)]
    pub(super) fn set_function(
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
                self.note_column(&left.scope.columns[l]);
                self.note_column(&right.scope.columns[r]);
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
                // FOR UPDATE of this level reaches into the subquery (row-level security).
                self.rls.from_item = Some(alias.as_ref().map(|a| ident_name(&a.name)));
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
                self.privileges.read(oid);
                self.table_scan(oid, columns)
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
                // A view is bound in its own context: no outer references, no CTEs; its
                // relations are checked for the view's owner, the view for the caller.
                self.privileges.read(oid);
                let outer = std::mem::take(&mut self.outer);
                let ctes = std::mem::take(&mut self.ctes);
                let caller = self.privileges.view_owner.replace(view.owner);
                self.rls.from_item = Some(Some(qualifier.clone()));
                let result = self.bind_query(&q);
                self.privileges.view_owner = caller;
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
                if table.oid == crate::pg_catalog::oids::rel::PG_AUTHID {
                    // Readable by superusers only (it holds password verifiers).
                    self.privileges.read(table.oid);
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
                self.privileges.read(oid);
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

fn is_unit(plan: &Plan) -> bool {
    matches!(plan, Plan::Values { rows, width: 0 } if rows.len() == 1)
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

pub(super) fn rename_columns(
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
