//! PL/pgSQL: the part of it governance needs — functions with DECLARE, assignments, IF,
//! simple loops, RETURN, PERFORM, SELECT / DML (with INTO), RAISE — and row triggers.
//!
//! * [`parse`] reads a body into statements, refusing at CREATE FUNCTION (0A000, naming
//!   the construct) what the interpreter does not run: EXCEPTION blocks, cursors, dynamic
//!   EXECUTE, RETURN NEXT / QUERY, FOR over queries...
//! * [`interp`] runs a body. Its expressions and statements are SQL run through a [`Host`]
//!   with the variables as typed parameters; there is no second expression evaluator.
//! * A call in a query (SELECT list, WHERE, VALUES...) is bound as
//!   `Expr::Session { func: SessionFn::UserFunction, args: [oid, args...] }`, evaluated row by
//!   row at run time by [`call_in_query`] with the statement's execution context: its
//!   queries run in the statement's transaction and snapshot, as the calling role (the owner
//!   for SECURITY DEFINER), through the same bind path (privileges, row-level security,
//!   masking) as a client's query; RAISE notices go to the context's notice list, which the
//!   session sends before the statement's result. Such a call cannot write (the statement
//!   holds the transaction for reading): INSERT / UPDATE / DELETE in it fail with 0A000.
//! * Triggers ([`triggers`]) run with the session itself, so their bodies may write (an
//!   AFTER trigger inserting into an audit table).

mod ast;
pub mod catalog_rows;
pub mod conditions;
mod host;
pub mod interp;
pub mod parse;
#[cfg(test)]
mod tests;
pub mod triggers;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use storage::catalog::FunctionDef;
use storage::types::Value;

use crate::bind::expr::Typed;
use crate::bind::Binder;
use crate::error::{code, SqlError, SqlResult};
use crate::exec::ExecCtx;
use crate::pgtype::SqlType;
use crate::plan::{Expr, SessionFn};

pub use host::{QueryHost, SessionHost};
pub use interp::{Host, Record, ResultKind, Returned, Start};
use parse::{Block, Stmt, Target};

/// A parsed function, ready to run.
#[derive(Debug)]
pub struct Compiled {
    pub block: Block,
    pub args: Vec<(String, SqlType)>,
    pub result: ResultKind,
    pub strict: bool,
    pub definer: bool,
}

thread_local! {
    /// Parsed bodies by function OID (with the body they were parsed from).
    static COMPILED: RefCell<HashMap<u32, (String, Rc<Compiled>)>> = RefCell::new(HashMap::new());
}

/// Whether a stored function is a trigger function.
pub fn is_trigger_function(def: &FunctionDef) -> bool {
    def.attributes
        .get("returns")
        .is_some_and(|r| r == "trigger")
}

/// The parsed form of `def` (cached per thread).
pub fn compile(def: &FunctionDef) -> SqlResult<Rc<Compiled>> {
    if let Some(c) = COMPILED.with(|c| {
        c.borrow()
            .get(&def.oid)
            .filter(|(body, _)| *body == def.body)
            .map(|(_, c)| c.clone())
    }) {
        return Ok(c);
    }
    let compiled = Rc::new(compile_uncached(def)?);
    COMPILED.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() > 1024 {
            c.clear();
        }
        c.insert(def.oid, (def.body.clone(), compiled.clone()));
    });
    Ok(compiled)
}

fn compile_uncached(def: &FunctionDef) -> SqlResult<Compiled> {
    let block = parse::parse_body(&def.body)?;
    let args = def
        .arguments
        .iter()
        .map(|(n, t)| (n.clone(), SqlType::from_data_type(t)))
        .collect();
    let result = if is_trigger_function(def) {
        ResultKind::Trigger
    } else {
        match &def.returns {
            None => ResultKind::Void,
            Some(t) => ResultKind::Scalar(SqlType::from_data_type(t)),
        }
    };
    let flag = |k: &str, v: &str| {
        def.attributes
            .get(k)
            .is_some_and(|x| x.eq_ignore_ascii_case(v))
    };
    Ok(Compiled {
        block,
        args,
        result,
        strict: flag("STRICT", "true"),
        definer: flag("SECURITY", "DEFINER"),
    })
}

/// The checks of CREATE FUNCTION: the body parses, and every assignment and INTO names a
/// variable that may be assigned (PostgreSQL's compile-time checks).
pub fn check(def: &FunctionDef) -> SqlResult<()> {
    let compiled = compile_uncached(def)?;
    let mut names: Vec<(String, bool)> = Vec::new();
    for (i, (n, _)) in compiled.args.iter().enumerate() {
        if !n.is_empty() {
            names.push((n.clone(), false));
        }
        names.push((format!("${}", i + 1), false));
    }
    names.push(("found".into(), false));
    if matches!(compiled.result, ResultKind::Trigger) {
        for n in triggers::TRIGGER_VARIABLES {
            names.push((n.to_string(), false));
        }
    }
    let void = matches!(compiled.result, ResultKind::Void);
    check_block(&compiled.block, &mut names, void)
}

fn check_block(block: &Block, names: &mut Vec<(String, bool)>, void: bool) -> SqlResult<()> {
    let mark = names.len();
    for d in &block.decls {
        names.push((d.name.clone(), d.constant));
    }
    let result = check_stmts(&block.stmts, names, void);
    names.truncate(mark);
    result
}

fn check_target(t: &Target, names: &[(String, bool)]) -> SqlResult<()> {
    let (name, shown) = match t {
        Target::Var(n) => (n.clone(), n.clone()),
        Target::Field(r, f) => (r.clone(), format!("{r}.{f}")),
    };
    match names.iter().rev().find(|(n, _)| *n == name) {
        None => Err(SqlError::syntax(format!(
            "\"{shown}\" is not a known variable"
        ))),
        Some((_, true)) => Err(SqlError::new(
            conditions::ERROR_IN_ASSIGNMENT,
            format!("variable \"{name}\" is declared CONSTANT"),
        )),
        Some(_) => Ok(()),
    }
}

fn check_stmts(stmts: &[Stmt], names: &mut Vec<(String, bool)>, void: bool) -> SqlResult<()> {
    for s in stmts {
        match s {
            Stmt::Return(Some(_)) if void => {
                return Err(SqlError::new(
                    code::DATATYPE_MISMATCH,
                    "RETURN cannot have a parameter in function returning void",
                ))
            }
            Stmt::Assign(t, _) => check_target(t, names)?,
            Stmt::Sql {
                into: Some((_, targets)),
                ..
            } => {
                for t in targets {
                    check_target(t, names)?;
                }
            }
            Stmt::If {
                branches,
                otherwise,
            } => {
                for (_, body) in branches {
                    check_stmts(body, names, void)?;
                }
                check_stmts(otherwise, names, void)?;
            }
            Stmt::Block(b) => check_block(b, names, void)?,
            Stmt::Loop { body, .. } | Stmt::While { body, .. } => check_stmts(body, names, void)?,
            Stmt::ForRange { var, body, .. } => {
                names.push((var.clone(), false));
                let r = check_stmts(body, names, void);
                names.pop();
                r?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Binds a call of a PL/pgSQL function in a query: arguments already coerced to the
/// parameter types. Returns the call and its type.
pub fn bind_call(binder: &mut Binder, f: &FunctionDef, args: Vec<Expr>) -> SqlResult<Typed> {
    if is_trigger_function(f) {
        return Err(SqlError::new(
            code::FEATURE_NOT_SUPPORTED,
            "trigger functions can only be called as triggers",
        ));
    }
    let caller = binder.privileges.call_function(f);
    binder.privileges.view_owner = caller;
    let result = match &f.returns {
        None => SqlType::Void,
        Some(t) => SqlType::from_data_type(t),
    };
    let mut all = vec![Expr::Const(Value::Int8(i64::from(f.oid)))];
    all.extend(args);
    Ok((
        Expr::Session {
            func: SessionFn::UserFunction,
            args: all,
        },
        result,
    ))
}

/// Runs a call bound by [`bind_call`]: `args[0]` is the function's OID.
pub fn call_in_query(args: &[Value], ctx: &ExecCtx) -> SqlResult<Value> {
    let Some(Value::Int8(oid)) = args.first() else {
        return Err(SqlError::internal("PL/pgSQL call without its function"));
    };
    let Some(def) = u32::try_from(*oid)
        .ok()
        .and_then(|oid| ctx.catalog.functions.get(&oid))
    else {
        return Err(SqlError::new(
            code::UNDEFINED_FUNCTION,
            format!("function with OID {oid} does not exist"),
        ));
    };
    let compiled = compile(def)?;
    let args = &args[1..];
    if compiled.strict && args.iter().any(Value::is_null) {
        return Ok(Value::Null);
    }
    let user = if compiled.definer {
        ctx.catalog
            .roles
            .get(&def.owner)
            .map(|r| r.name.clone())
            .unwrap_or_else(|| ctx.user.to_string())
    } else {
        ctx.user.to_string()
    };
    let mut host = QueryHost::new(ctx, user);
    let start = Start {
        args: compiled
            .args
            .iter()
            .zip(args)
            .map(|((n, t), v)| (n.clone(), t.clone(), v.clone()))
            .collect(),
        records: Vec::new(),
        scalars: Vec::new(),
    };
    match interp::execute(&mut host, &compiled.block, &compiled.result, start)? {
        // void is not NULL: it prints as an empty string.
        Returned::Value(_) if matches!(compiled.result, ResultKind::Void) => {
            Ok(Value::Text(String::new()))
        }
        Returned::Value(v) => Ok(v),
        Returned::Row(_) => Err(SqlError::internal("a function returned a row")),
    }
}
