//! Function calls in expressions: argument lists, special forms, keyword and session
//! functions, user-defined `LANGUAGE sql` functions (inlined), and named-argument forms such
//! as `make_interval(days => ...)`. Aggregate and window calls are handed to `window`.

use std::sync::Arc;

use sqlparser::ast::{
    self, FunctionArg, FunctionArgExpr, FunctionArgumentClause, FunctionArguments,
};
use storage::types::Value;

use super::expr::{ExprContext, Typed};
use super::{ident_name, object_name_parts, Binder, Scope};
use crate::error::{code, SqlError, SqlResult};
use crate::func::aggregate::{is_aggregate, is_ordered_set};
use crate::func::common_type;
use crate::pgtype::SqlType;
use crate::plan::{Expr, SessionFn, SubqueryKind};

impl Binder<'_> {
    /// Names that are keywords calling a function in PostgreSQL (`current_user`...).
    pub(super) fn keyword_function(&mut self, name: &str) -> SqlResult<Option<Typed>> {
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
            "current_user" | "user" | "current_role" => match self.definer_name() {
                Some(owner) => Some((Expr::Const(Value::Text(owner)), SqlType::Name)),
                None => session(SessionFn::CurrentUser, SqlType::Name),
            },
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

    pub(super) fn function(
        &mut self,
        f: &ast::Function,
        scope: &Scope,
        cx: &mut ExprContext,
    ) -> SqlResult<Typed> {
        let parts = object_name_parts(&f.name);
        let name = match parts.as_slice() {
            [n] => n.clone(),
            // The masking functions are registered under `anon.name`.
            [s, n] if s == "anon" => format!("anon.{n}"),
            [s, n]
                if s == "pg_catalog"
                    || s == "public"
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
        // `f(t.*)`: the whole row of `t`, as `f(t)`.
        if let FunctionArguments::List(list) = &f.args {
            if list.args.iter().any(|a| {
                matches!(
                    a,
                    FunctionArg::Unnamed(FunctionArgExpr::QualifiedWildcard(_))
                )
            }) {
                let mut whole_rows = f.clone();
                if let FunctionArguments::List(list) = &mut whole_rows.args {
                    for a in &mut list.args {
                        if let FunctionArg::Unnamed(FunctionArgExpr::QualifiedWildcard(name)) = a {
                            let mut idents: Vec<ast::Ident> = name
                                .0
                                .iter()
                                .filter_map(|p| p.as_ident().cloned())
                                .collect();
                            let row = match idents.len() {
                                1 => ast::Expr::Identifier(idents.remove(0)),
                                _ => ast::Expr::CompoundIdentifier(idents),
                            };
                            *a = FunctionArg::Unnamed(FunctionArgExpr::Expr(row));
                        }
                    }
                }
                return self.function(&whole_rows, scope, cx);
            }
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
        if !f.within_group.is_empty() || is_ordered_set(&name) {
            if distinct {
                return Err(SqlError::syntax("cannot use DISTINCT with WITHIN GROUP"));
            }
            if !order_by.is_empty() {
                return Err(SqlError::syntax(
                    "cannot use multiple ORDER BY clauses with WITHIN GROUP",
                ));
            }
            return self.ordered_set_call(&name, f, &args, filter, scope, cx);
        }
        if f.over.is_some() {
            if distinct {
                return Err(SqlError::new(
                    code::FEATURE_NOT_SUPPORTED,
                    "DISTINCT is not implemented for window functions",
                ));
            }
            if !order_by.is_empty() {
                return Err(SqlError::new(
                    code::FEATURE_NOT_SUPPORTED,
                    "aggregate ORDER BY is not implemented for window functions",
                ));
            }
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
                // An untyped literal column of a subquery is text, as PostgreSQL resolves it.
                let t = if *t == SqlType::Unknown {
                    SqlType::Text
                } else {
                    t.clone()
                };
                args.push(self.call("to_json", vec![(e.clone(), t)])?.0);
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

    /// Inside the body of a SECURITY DEFINER function, its owner: `current_user` there.
    fn definer_name(&self) -> Option<String> {
        let owner = self.privileges.definer?;
        self.catalog.roles.get(&owner).map(|r| r.name.clone())
    }

    fn session_function(&mut self, name: &str, args: &mut Vec<Typed>) -> SqlResult<Option<Typed>> {
        if matches!((name, args.len()), ("current_user", 0) | ("user", 0)) {
            if let Some(owner) = self.definer_name() {
                return Ok(Some((Expr::Const(Value::Text(owner)), SqlType::Name)));
            }
        }
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
            ("row_security_active", 1) => {
                let arg = std::mem::take(args).remove(0);
                return Ok(Some((self.row_security_active(arg)?, SqlType::Bool)));
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
