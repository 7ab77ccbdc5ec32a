//! User-defined functions in `LANGUAGE sql`: CREATE [OR REPLACE] FUNCTION, DROP FUNCTION, and
//! how a stored [`FunctionDef`] reads back as a signature. Calls are inlined by
//! [`super::call`].
//!
//! A function is stored with its body as written (`AS '...'`), or, for the SQL-standard
//! forms, `SELECT <expr>` (`RETURN <expr>`) and the statements of `BEGIN ATOMIC ... END`
//! (the form is kept in the attribute `sql_body`). Attributes use the keys the `pg_proc`
//! view reads: `volatility` (IMMUTABLE / STABLE / VOLATILE), `STRICT`, `SECURITY`,
//! `LEAKPROOF`, `COST`, `ROWS`, `PARALLEL`; `RETURNS TABLE (...)` columns are kept in
//! `returns_table` as a JSON list of `[name, type]` pairs.
//!
//! The body is checked at creation (PostgreSQL's `check_function_bodies`): it must parse,
//! consist of queries, bind with the parameters, and return what the function declares.

use sqlparser::ast::{self, ArgMode, CreateFunctionBody, FunctionReturnType};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use storage::catalog::{FunctionDef, Oid};
use storage::types::DataType;

use super::dependents::{settle_views, view_shapes};
use super::table::source_text;
use crate::bind::types::sql_type;
use crate::bind::{ident_name, split_name};
use crate::engine::Session;
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;

pub use super::call::{exists, inline_call, inline_call_in, table_function};

/// What a function returns.
#[derive(Debug, Clone, PartialEq)]
pub enum Returns {
    Void,
    Scalar(SqlType),
    SetOf(SqlType),
    Table(Vec<(String, SqlType)>),
}

/// A stored function read back: parameters (name, possibly empty, and type), result, and
/// whether it is STRICT.
#[derive(Debug, Clone)]
pub struct Signature {
    pub args: Vec<(String, SqlType)>,
    pub returns: Returns,
    pub strict: bool,
}

/// A type from its name as [`SqlType::display_name`] prints it.
fn type_from_text(text: &str) -> SqlResult<SqlType> {
    let dialect = PostgreSqlDialect {};
    let mut parser = Parser::new(&dialect)
        .try_with_sql(text)
        .map_err(|e| SqlError::internal(format!("stored type {text}: {e}")))?;
    let t = parser
        .parse_data_type()
        .map_err(|e| SqlError::internal(format!("stored type {text}: {e}")))?;
    sql_type(&t)
}

pub fn signature(f: &FunctionDef) -> SqlResult<Signature> {
    let args = f
        .arguments
        .iter()
        .map(|(n, t)| (n.clone(), SqlType::from_data_type(t)))
        .collect();
    let returns = if let Some(table) = f.attributes.get("returns_table") {
        let pairs: Vec<(String, String)> = serde_json::from_str(table)
            .map_err(|e| SqlError::internal(format!("function {}: {e}", f.name)))?;
        let mut columns = Vec::new();
        for (n, t) in pairs {
            columns.push((n, type_from_text(&t)?));
        }
        Returns::Table(columns)
    } else {
        match (&f.returns, f.returns_set) {
            (None, _) => Returns::Void,
            (Some(t), false) => Returns::Scalar(SqlType::from_data_type(t)),
            (Some(t), true) => Returns::SetOf(SqlType::from_data_type(t)),
        }
    };
    let strict = f
        .attributes
        .get("STRICT")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    Ok(Signature {
        args,
        returns,
        strict,
    })
}

/// `name(type, ...)` as PostgreSQL shows a function in messages.
pub fn display_signature(name: &str, types: &[SqlType]) -> String {
    let types: Vec<String> = types.iter().map(SqlType::display_name).collect();
    format!("{name}({})", types.join(", "))
}

fn stored_type(t: &SqlType) -> DataType {
    t.to_data_type().unwrap_or_else(|| t.representation())
}

fn argument_type(data_type: &ast::DataType) -> SqlResult<SqlType> {
    let t = sql_type(data_type)?;
    if matches!(
        t,
        SqlType::Any | SqlType::AnyElement | SqlType::AnyArray | SqlType::Record | SqlType::Void
    ) {
        return Err(SqlError::unsupported(format!(
            "SQL functions with arguments of type {}",
            t.display_name()
        )));
    }
    Ok(t)
}

fn check_language(f: &ast::CreateFunction) -> SqlResult<()> {
    let implied_sql = matches!(
        f.function_body,
        Some(CreateFunctionBody::Return(_) | CreateFunctionBody::BeginAtomic(_))
    );
    let language = match &f.language {
        Some(l) => ident_name(l),
        None if implied_sql => return Ok(()),
        None => {
            return Err(SqlError::new(
                code::INVALID_FUNCTION_DEFINITION,
                "no language specified",
            ))
        }
    };
    match language.as_str() {
        "sql" | "plpgsql" => Ok(()),
        "c" | "internal" => Err(SqlError::new(
            code::FEATURE_NOT_SUPPORTED,
            format!("language \"{language}\" is not supported"),
        )
        .with_hint("custos runs user functions written in LANGUAGE sql and plpgsql.")),
        other => Err(SqlError::new(
            code::UNDEFINED_OBJECT,
            format!("language \"{other}\" does not exist"),
        )),
    }
}

/// The body as stored, and the SQL-standard form it was written in, if any.
fn body_text(f: &ast::CreateFunction, sql: &str) -> SqlResult<(String, Option<&'static str>)> {
    let string = |e: &ast::Expr| -> SqlResult<String> {
        match e {
            ast::Expr::Value(v) => match &v.value {
                ast::Value::SingleQuotedString(s) | ast::Value::EscapedStringLiteral(s) => {
                    Ok(s.clone())
                }
                ast::Value::DollarQuotedString(d) => Ok(d.value.clone()),
                _ => Err(SqlError::syntax(format!("syntax error at or near \"{e}\""))),
            },
            _ => Err(SqlError::syntax(format!("syntax error at or near \"{e}\""))),
        }
    };
    match &f.function_body {
        Some(CreateFunctionBody::AsBeforeOptions { body, link_symbol }) => {
            if link_symbol.is_some() {
                return Err(SqlError::new(
                    code::INVALID_FUNCTION_DEFINITION,
                    "only one AS item needed for language \"sql\"",
                ));
            }
            Ok((string(body)?, None))
        }
        Some(CreateFunctionBody::AsAfterOptions(body)) => Ok((string(body)?, None)),
        Some(CreateFunctionBody::Return(e)) => Ok((
            format!("SELECT {}", source_text(sql, e, || e.to_string())),
            Some("RETURN"),
        )),
        Some(CreateFunctionBody::BeginAtomic(block)) => {
            let statements: Vec<String> = block
                .statements
                .iter()
                .map(|s| source_text(sql, s, || s.to_string()))
                .collect();
            Ok((statements.join(";\n"), Some("BEGIN ATOMIC")))
        }
        Some(CreateFunctionBody::AsBeginEnd(_)) | None => Err(SqlError::new(
            code::INVALID_FUNCTION_DEFINITION,
            "no function body specified",
        )),
        Some(_) => Err(SqlError::unsupported("this form of function body")),
    }
}

/// Words sqlparser does not read in CREATE FUNCTION (the parser's fallback removes them from
/// the text it parses; they are read here from the statement itself).
fn extra_attributes(sql: &str, def: &mut FunctionDef) {
    let Ok(tokens) = super::sqltext::tokens(sql) else {
        return;
    };
    let words: Vec<String> = tokens
        .iter()
        .filter(|t| !matches!(t.token, sqlparser::tokenizer::Token::Whitespace(_)))
        .map(|t| t.token.to_string())
        .collect();
    for (i, w) in words.iter().enumerate() {
        let previous = i.checked_sub(1).map(|p| words[p].to_uppercase());
        match w.to_uppercase().as_str() {
            "LEAKPROOF" => {
                let value = if previous.as_deref() == Some("NOT") {
                    "false"
                } else {
                    "true"
                };
                def.attributes.insert("LEAKPROOF".into(), value.into());
            }
            key @ ("COST" | "ROWS") => {
                if let Some(n) = words.get(i + 1).filter(|n| n.parse::<f64>().is_ok()) {
                    def.attributes.insert(key.into(), n.clone());
                }
            }
            _ => {}
        }
    }
}

pub fn create_function(session: &mut Session, f: &ast::CreateFunction, sql: &str) -> SqlResult<()> {
    if f.temporary {
        return Err(SqlError::unsupported("temporary functions"));
    }
    check_language(f)?;
    let (schema_name, name) = split_name(&f.name)?;
    let catalog = session.catalog();
    let path = session.search_path();
    let schema = crate::catalog_access::target_schema(&catalog, schema_name.as_deref(), &path)?;
    let mut args: Vec<(String, SqlType)> = Vec::new();
    for a in f.args.iter().flatten() {
        if matches!(
            a.mode,
            Some(ArgMode::Out | ArgMode::InOut | ArgMode::Variadic)
        ) {
            return Err(SqlError::unsupported("OUT, INOUT and VARIADIC parameters"));
        }
        if a.default_expr.is_some() {
            return Err(SqlError::unsupported("parameter defaults"));
        }
        let n = a.name.as_ref().map(ident_name).unwrap_or_default();
        if !n.is_empty() && args.iter().any(|(x, _)| *x == n) {
            return Err(SqlError::new(
                code::INVALID_FUNCTION_DEFINITION,
                format!("parameter name \"{n}\" used more than once"),
            ));
        }
        args.push((n, argument_type(&a.data_type)?));
    }
    let language = f.language.as_ref().map_or_else(|| "sql".into(), ident_name);
    let returns_trigger = crate::plpgsql::triggers::returns_trigger(f, &language, args.len())?;
    let returns = match &f.return_type {
        _ if returns_trigger => Returns::Void,
        None => {
            return Err(SqlError::new(
                code::INVALID_FUNCTION_DEFINITION,
                "function result type must be specified",
            ))
        }
        Some(FunctionReturnType::DataType(ast::DataType::Table(Some(columns)))) => {
            let mut out = Vec::new();
            for c in columns {
                out.push((ident_name(&c.name), argument_type(&c.data_type)?));
            }
            Returns::Table(out)
        }
        Some(FunctionReturnType::DataType(t)) => match sql_type(t) {
            Ok(SqlType::Void) => Returns::Void,
            Ok(t @ (SqlType::Record | SqlType::Any | SqlType::AnyElement | SqlType::AnyArray)) => {
                return Err(SqlError::unsupported(format!(
                    "SQL functions returning {}",
                    t.display_name()
                )))
            }
            Ok(t) => Returns::Scalar(t),
            Err(e) if table_columns(session, t).is_some() => {
                let _ = e;
                return Err(SqlError::unsupported(format!(
                    "SQL functions returning the row type {t} (use RETURNS SETOF {t} or RETURNS TABLE)"
                )));
            }
            Err(e) => return Err(e),
        },
        Some(FunctionReturnType::SetOf(t)) => match sql_type(t) {
            Ok(t) if matches!(t, SqlType::Void | SqlType::Record) => {
                return Err(SqlError::unsupported(format!(
                    "SQL functions returning SETOF {}",
                    t.display_name()
                )))
            }
            Ok(t) => Returns::SetOf(t),
            Err(e) => Returns::Table(table_columns(session, t).ok_or(e)?),
        },
    };
    if language == "plpgsql" && matches!(returns, Returns::SetOf(_) | Returns::Table(_)) {
        return Err(crate::plpgsql::parse::unsupported(
            "RETURNS SETOF and RETURNS TABLE",
        ));
    }
    let (body, form) = body_text(f, sql)?;
    let mut def = FunctionDef {
        schema,
        name: name.clone(),
        owner: session.role_oid(),
        arguments: args
            .iter()
            .map(|(n, t)| (n.clone(), stored_type(t)))
            .collect(),
        language: language.clone(),
        body,
        ..Default::default()
    };
    if returns_trigger {
        def.attributes.insert("returns".into(), "trigger".into());
    }
    match &returns {
        Returns::Void => {}
        Returns::Scalar(t) => def.returns = Some(stored_type(t)),
        Returns::SetOf(t) => {
            def.returns = Some(stored_type(t));
            def.returns_set = true;
        }
        Returns::Table(columns) => {
            let pairs: Vec<(String, String)> = columns
                .iter()
                .map(|(n, t)| (n.clone(), t.display_name()))
                .collect();
            let json =
                serde_json::to_string(&pairs).map_err(|e| SqlError::internal(e.to_string()))?;
            def.attributes.insert("returns_table".into(), json);
            if let [(_, t)] = columns.as_slice() {
                def.returns = Some(stored_type(t));
            }
            def.returns_set = true;
        }
    }
    if let Some(form) = form {
        def.attributes.insert("sql_body".into(), form.into());
    }
    let volatility = match f.behavior {
        Some(ast::FunctionBehavior::Immutable) => "IMMUTABLE",
        Some(ast::FunctionBehavior::Stable) => "STABLE",
        _ => "VOLATILE",
    };
    def.attributes
        .insert("volatility".into(), volatility.into());
    let strict = matches!(
        f.called_on_null,
        Some(ast::FunctionCalledOnNull::Strict | ast::FunctionCalledOnNull::ReturnsNullOnNullInput)
    );
    def.attributes.insert("STRICT".into(), strict.to_string());
    if let Some(ast::FunctionSecurity::Definer) = f.security {
        def.attributes.insert("SECURITY".into(), "DEFINER".into());
    }
    if let Some(p) = &f.parallel {
        let p = match p {
            ast::FunctionParallel::Safe => "SAFE",
            ast::FunctionParallel::Restricted => "RESTRICTED",
            ast::FunctionParallel::Unsafe => "UNSAFE",
        };
        def.attributes.insert("PARALLEL".into(), p.into());
    }
    if !f.set_params.is_empty() {
        return Err(SqlError::unsupported("SET clauses of CREATE FUNCTION"));
    }
    extra_attributes(sql, &mut def);
    if def.attributes.get("LEAKPROOF").is_some_and(|v| v == "true")
        && !catalog.roles.is_empty()
        && !crate::acl::is_superuser(&catalog, session.role_oid())
    {
        return Err(SqlError::new(
            code::INSUFFICIENT_PRIVILEGE,
            "only superuser can define a leakproof function",
        ));
    }
    // Same name and parameter types: replace (OR REPLACE) or refuse.
    let existing = catalog
        .functions
        .values()
        .find(|x| x.schema == schema && x.name == name && same_types(&x.arguments, &def.arguments))
        .cloned();
    let types: Vec<SqlType> = args.iter().map(|(_, t)| t.clone()).collect();
    if let Some(old) = &existing {
        if !f.or_replace {
            return Err(SqlError::new(
                code::DUPLICATE_FUNCTION,
                format!("function \"{name}\" already exists with same argument types"),
            ));
        }
        let hint = format!(
            "Use DROP FUNCTION {} first.",
            display_signature(&name, &types)
        );
        if signature(old)?.returns != returns {
            return Err(SqlError::new(
                code::INVALID_FUNCTION_DEFINITION,
                "cannot change return type of existing function",
            )
            .with_hint(hint));
        }
        for ((old_name, _), (new_name, _)) in old.arguments.iter().zip(&def.arguments) {
            if !old_name.is_empty() && old_name != new_name {
                return Err(SqlError::new(
                    code::INVALID_FUNCTION_DEFINITION,
                    format!("cannot change name of input parameter \"{old_name}\""),
                )
                .with_hint(hint));
            }
        }
        def.oid = old.oid;
        def.owner = old.owner;
    }
    let catalog = session.transaction().catalog_mut();
    if def.oid == 0 {
        def.oid = catalog.allocate_oid();
    }
    catalog.functions.insert(def.oid, def.clone());
    if language == "plpgsql" {
        return crate::plpgsql::check(&def);
    }
    validate_body(session, &def)
}

/// The columns of a table named as a composite type (`RETURNS SETOF customers`).
fn table_columns(session: &Session, t: &ast::DataType) -> Option<Vec<(String, SqlType)>> {
    let ast::DataType::Custom(name, _) = t else {
        return None;
    };
    let (schema, rel) = split_name(name).ok()?;
    let catalog = session.catalog();
    let path = session.search_path();
    match crate::catalog_access::resolve_relation(&catalog, schema.as_deref(), &rel, &path).ok()? {
        crate::catalog_access::Relation::Table(oid) => Some(
            catalog.tables[&oid]
                .live_columns()
                .map(|c| (c.name.clone(), SqlType::from_data_type(&c.data_type)))
                .collect(),
        ),
        _ => None,
    }
}

fn same_types(a: &[(String, DataType)], b: &[(String, DataType)]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|((_, x), (_, y))| {
            SqlType::from_data_type(x).same_type(&SqlType::from_data_type(y))
        })
}

/// Checks the body (the function is already in the catalog, so a call of itself is found
/// and refused as recursion).
fn validate_body(session: &mut Session, def: &FunctionDef) -> SqlResult<()> {
    session.with_binder(Vec::new(), |b| super::call::validate(b, def))
}

/// Finds the function `name` names: by its parameter types when given, else the only one
/// of that name. `Ok(None)` when there is none and `if_exists` allows that (after a notice).
pub fn find_function(
    session: &mut Session,
    name: &ast::ObjectName,
    arg_types: Option<&[SqlType]>,
    if_exists: bool,
) -> SqlResult<Option<Oid>> {
    let (schema, fname) = split_name(name)?;
    let catalog = session.catalog();
    let schemas: Vec<Oid> = match &schema {
        Some(s) => catalog
            .schema_by_name(s)
            .map(|s| vec![s.oid])
            .unwrap_or_default(),
        None => session
            .search_path()
            .iter()
            .filter_map(|s| catalog.schema_by_name(s).map(|s| s.oid))
            .collect(),
    };
    let candidates: Vec<&FunctionDef> = catalog
        .functions
        .values()
        .filter(|f| f.name == fname && schemas.contains(&f.schema))
        .filter(|f| match arg_types {
            Some(types) => {
                f.arguments.len() == types.len()
                    && f.arguments
                        .iter()
                        .zip(types)
                        .all(|((_, a), b)| SqlType::from_data_type(a).same_type(b))
            }
            None => true,
        })
        .collect();
    match candidates.as_slice() {
        [f] => Ok(Some(f.oid)),
        [] => {
            let message = match arg_types {
                Some(types) => format!(
                    "function {} does not exist",
                    display_signature(&fname, types)
                ),
                None => format!("could not find a function named \"{fname}\""),
            };
            if if_exists {
                let shown = display_signature(&fname, arg_types.unwrap_or(&[]));
                session.notice(format!("function {shown} does not exist, skipping"));
                return Ok(None);
            }
            Err(SqlError::new(code::UNDEFINED_FUNCTION, message))
        }
        _ => Err(SqlError::new(
            code::AMBIGUOUS_FUNCTION,
            format!("function name \"{fname}\" is not unique"),
        )
        .with_hint("Specify the argument list to select the function unambiguously.")),
    }
}

pub fn drop_function(session: &mut Session, f: &ast::DropFunction) -> SqlResult<()> {
    let cascade = matches!(f.drop_behavior, Some(ast::DropBehavior::Cascade));
    for desc in &f.func_desc {
        let types = match &desc.args {
            Some(args) => Some(
                args.iter()
                    .filter(|a| !matches!(a.mode, Some(ArgMode::Out)))
                    .map(|a| sql_type(&a.data_type))
                    .collect::<SqlResult<Vec<_>>>()?,
            ),
            None => None,
        };
        let Some(oid) = find_function(session, &desc.name, types.as_deref(), f.if_exists)? else {
            continue;
        };
        let catalog = session.catalog();
        let def = catalog.functions[&oid].clone();
        let shown = display_signature(
            &def.name,
            &signature(&def)?
                .args
                .into_iter()
                .map(|(_, t)| t)
                .collect::<Vec<_>>(),
        );
        let users: Vec<String> = catalog
            .triggers
            .values()
            .filter(|t| t.function == oid)
            .map(|t| {
                let table = catalog.tables.get(&t.table).map_or("", |x| x.name.as_str());
                format!(
                    "trigger {} on table {table} depends on function {shown}",
                    t.name
                )
            })
            .collect();
        if !users.is_empty() && !cascade {
            return Err(SqlError::new(
                code::DEPENDENT_OBJECTS_STILL_EXIST,
                format!("cannot drop function {shown} because other objects depend on it"),
            )
            .with_detail(users.join("\n"))
            .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
        }
        for u in &users {
            session.notice(format!(
                "drop cascades to {}",
                u.split(" depends").next().unwrap_or("")
            ));
        }
        let before = view_shapes(session);
        let c = session.transaction().catalog_mut();
        c.triggers.retain(|_, t| t.function != oid);
        c.functions.remove(&oid);
        c.comments
            .retain(|x| !(x.object == oid && x.object_kind == "function"));
        settle_views(session, &before, cascade, &format!("function {shown}"))?;
    }
    Ok(())
}
