//! The PL/pgSQL interpreter: runs a parsed body statement by statement. Every expression
//! and statement of the body is SQL run through a [`Host`] — the engine's own parse, bind
//! (privileges, row-level security, masking), optimise and execute path — with the
//! variables it names passed as typed parameters `$1..$n`.

use std::cell::Cell;

mod raise;
pub use raise::format_message;

use storage::types::{Row, Value};

use super::conditions;
use super::parse::{Block, Piece, SqlKind, SqlText, Stmt, Target};
use crate::engine::Notice;
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;

/// What a statement of the body produced.
pub struct Produced {
    pub types: Vec<SqlType>,
    pub rows: Vec<Row>,
    /// Rows a DML statement changed (the row count for a query).
    pub count: u64,
}

/// Where the body's SQL runs and its notices go.
pub trait Host {
    fn run(&mut self, kind: SqlKind, sql: &str, params: &[(Value, SqlType)])
        -> SqlResult<Produced>;
    fn notice(&mut self, notice: Notice);
    fn check_cancel(&self) -> SqlResult<()>;
}

/// A record variable (NEW / OLD): its columns and values, `None` while unassigned.
#[derive(Debug, Clone)]
pub struct Record {
    pub columns: Vec<(String, SqlType)>,
    pub values: Option<Vec<Value>>,
}

#[derive(Debug, Clone)]
struct Var {
    name: String,
    ty: SqlType,
    value: Value,
    constant: bool,
    not_null: bool,
    record: Option<Record>,
}

/// What a call returned.
#[derive(Debug, Clone, PartialEq)]
pub enum Returned {
    Value(Value),
    /// A trigger function's row (`RETURN NEW` / `OLD`), `None` for `RETURN NULL`.
    Row(Option<Row>),
}

enum Flow {
    Next,
    Return(Returned),
    Exit(Option<String>),
    Continue(Option<String>),
}

/// What the function declares it returns.
#[derive(Debug, Clone)]
pub enum ResultKind {
    Void,
    Scalar(SqlType),
    Trigger,
}

/// The variables a call starts with (arguments, trigger variables).
pub struct Start {
    pub args: Vec<(String, SqlType, Value)>,
    pub records: Vec<(String, Record)>,
    pub scalars: Vec<(String, SqlType, Value)>,
}

const MAX_DEPTH: usize = 100;
/// Stack a chain of nested calls may use, measured from the outermost call (each call runs
/// queries that bind and execute, which recurse): PostgreSQL's default `max_stack_depth`.
/// Connection threads have 8 MiB.
const STACK_BUDGET: usize = 2 << 20;

thread_local! {
    static DEPTH: Cell<usize> = const { Cell::new(0) };
    /// Address of the outermost call's frame on this thread.
    static STACK_BASE: Cell<usize> = const { Cell::new(0) };
}

/// Whether one more nested call stays within [`MAX_DEPTH`] and [`STACK_BUDGET`].
fn depth_exceeded(depth: usize) -> bool {
    let marker = 0u8;
    let here = std::hint::black_box(&marker) as *const u8 as usize;
    if depth == 0 {
        STACK_BASE.with(|b| b.set(here));
    }
    let used = STACK_BASE.with(|b| b.get()).abs_diff(here);
    depth >= MAX_DEPTH || used > STACK_BUDGET
}

/// Runs `body`; `name` names the function in messages.
pub fn execute(
    host: &mut dyn Host,
    body: &Block,
    result: &ResultKind,
    start: Start,
) -> SqlResult<Returned> {
    let depth = DEPTH.with(|d| d.get());
    if depth_exceeded(depth) {
        return Err(
            SqlError::new(code::STATEMENT_TOO_COMPLEX, "stack depth limit exceeded").with_hint(
                "PL/pgSQL calls nest too deeply (custos allows 2 MB of stack and 100 levels).",
            ),
        );
    }
    DEPTH.with(|d| d.set(depth + 1));
    let mut interp = Interp {
        host,
        vars: Vec::new(),
        nargs: start.args.len(),
        result: result.clone(),
    };
    for (name, ty, value) in start.args {
        interp.vars.push(Var::scalar(name, ty, value));
    }
    interp.vars.push(Var::scalar(
        "found".into(),
        SqlType::Bool,
        Value::Bool(false),
    ));
    for (name, ty, value) in start.scalars {
        interp.vars.push(Var::scalar(name, ty, value));
    }
    for (name, record) in start.records {
        interp.vars.push(Var {
            name,
            ty: SqlType::Record,
            value: Value::Null,
            constant: false,
            not_null: false,
            record: Some(record),
        });
    }
    let outcome = interp.block(body);
    DEPTH.with(|d| d.set(depth));
    match outcome? {
        Flow::Return(r) => Ok(r),
        Flow::Exit(_) | Flow::Continue(_) | Flow::Next => match result {
            ResultKind::Void => Ok(Returned::Value(Value::Null)),
            ResultKind::Scalar(_) => Err(SqlError::new(
                conditions::FUNCTION_EXECUTED_NO_RETURN_STATEMENT,
                "control reached end of function without RETURN",
            )),
            ResultKind::Trigger => Err(SqlError::new(
                conditions::FUNCTION_EXECUTED_NO_RETURN_STATEMENT,
                "control reached end of trigger procedure without RETURN",
            )),
        },
    }
}

/// The value of a boolean condition over the variables of `start` (a trigger's WHEN).
pub fn condition(host: &mut dyn Host, text: &SqlText, start: Start) -> SqlResult<bool> {
    let mut interp = Interp {
        host,
        vars: Vec::new(),
        nargs: 0,
        result: ResultKind::Void,
    };
    for (name, ty, value) in start.scalars {
        interp.vars.push(Var::scalar(name, ty, value));
    }
    for (name, record) in start.records {
        interp.vars.push(Var {
            name,
            ty: SqlType::Record,
            value: Value::Null,
            constant: false,
            not_null: false,
            record: Some(record),
        });
    }
    interp.condition(text)
}

impl Var {
    fn scalar(name: String, ty: SqlType, value: Value) -> Var {
        Var {
            name,
            ty,
            value,
            constant: false,
            not_null: false,
            record: None,
        }
    }
}

struct Interp<'h> {
    host: &'h mut dyn Host,
    vars: Vec<Var>,
    nargs: usize,
    result: ResultKind,
}

impl Interp<'_> {
    fn find(&self, name: &str) -> Option<usize> {
        self.vars.iter().rposition(|v| v.name == name)
    }

    /// `text` as SQL with the variables it names as `$n`, and their values.
    fn render(&self, text: &SqlText) -> SqlResult<(String, Vec<(Value, SqlType)>)> {
        let mut sql = String::new();
        let mut params: Vec<(Value, SqlType)> = Vec::new();
        // (variable index, field index) of each parameter.
        let mut keys: Vec<(usize, Option<usize>)> = Vec::new();
        let mut param =
            |key: (usize, Option<usize>), value: Value, ty: SqlType, sql: &mut String| {
                let n = match keys.iter().position(|k| *k == key) {
                    Some(n) => n,
                    None => {
                        keys.push(key);
                        params.push((value, ty));
                        keys.len() - 1
                    }
                };
                sql.push_str(&format!("${}", n + 1));
            };
        for piece in &text.pieces {
            match piece {
                Piece::Text(s) => sql.push_str(s),
                Piece::Name(name, written) => match self.find(name) {
                    Some(i) if self.vars[i].record.is_some() => {
                        return Err(super::parse::unsupported(&format!(
                            "using the record \"{name}\" as a whole"
                        )))
                    }
                    Some(i) => {
                        let v = &self.vars[i];
                        param((i, None), v.value.clone(), v.ty.clone(), &mut sql)
                    }
                    None => sql.push_str(written),
                },
                Piece::Qualified(rec, field, written) => match self.find(rec) {
                    Some(i) if self.vars[i].record.is_some() => {
                        let (f, ty, value) = self.field(i, field)?;
                        param((i, Some(f)), value, ty, &mut sql)
                    }
                    _ => sql.push_str(written),
                },
                Piece::Arg(n, written) => {
                    if *n == 0 || *n > self.nargs {
                        let _ = written;
                        return Err(SqlError::new(
                            code::UNDEFINED_PARAMETER,
                            format!("there is no parameter ${n}"),
                        ));
                    }
                    let v = &self.vars[n - 1];
                    param((n - 1, None), v.value.clone(), v.ty.clone(), &mut sql)
                }
            }
        }
        Ok((sql, params))
    }

    /// Field `field` of record variable `i`: its position, type and value.
    fn field(&self, i: usize, field: &str) -> SqlResult<(usize, SqlType, Value)> {
        let var = &self.vars[i];
        let Some(record) = &var.record else {
            return Err(SqlError::internal("not a record"));
        };
        let Some(values) = &record.values else {
            return Err(SqlError::new(
                code::OBJECT_NOT_IN_PREREQUISITE_STATE,
                format!("record \"{}\" is not assigned yet", var.name),
            )
            .with_detail("The tuple structure of a not-yet-assigned record is indeterminate."));
        };
        let Some(f) = record.columns.iter().position(|(n, _)| n == field) else {
            return Err(SqlError::new(
                code::UNDEFINED_COLUMN,
                format!("record \"{}\" has no field \"{field}\"", var.name),
            ));
        };
        Ok((f, record.columns[f].1.clone(), values[f].clone()))
    }

    fn query(
        &mut self,
        kind: SqlKind,
        text: &str,
        params: &[(Value, SqlType)],
    ) -> SqlResult<Produced> {
        self.host.check_cancel()?;
        self.host.run(kind, text, params)
    }

    /// The value of an expression, cast to `ty` when given.
    fn eval(&mut self, text: &SqlText, ty: Option<&SqlType>) -> SqlResult<Value> {
        let (sql, params) = self.render(text)?;
        let query = match ty {
            Some(t) => format!("SELECT CAST(({sql}) AS {})", t.display_name()),
            None => format!("SELECT ({sql})"),
        };
        let produced = self.query(SqlKind::Select, &query, &params)?;
        one_value(produced, &format!("SELECT {sql}"))
    }

    fn condition(&mut self, text: &SqlText) -> SqlResult<bool> {
        match self.eval(text, Some(&SqlType::Bool))? {
            Value::Bool(b) => Ok(b),
            _ => Ok(false),
        }
    }

    fn assign(&mut self, target: &Target, value: Value, from: Option<&SqlType>) -> SqlResult<()> {
        match target {
            Target::Var(name) => {
                let Some(i) = self.find(name) else {
                    return Err(not_a_variable(name));
                };
                if self.vars[i].record.is_some() {
                    return Err(super::parse::unsupported(&format!(
                        "assigning to the record \"{name}\" as a whole"
                    )));
                }
                let ty = self.vars[i].ty.clone();
                let value = self.cast(value, from, &ty)?;
                let var = &mut self.vars[i];
                if var.constant {
                    return Err(SqlError::new(
                        conditions::ERROR_IN_ASSIGNMENT,
                        format!("variable \"{name}\" is declared CONSTANT"),
                    ));
                }
                if var.not_null && value.is_null() {
                    return Err(SqlError::new(
                        code::NULL_VALUE_NOT_ALLOWED,
                        format!(
                            "null value cannot be assigned to variable \"{name}\" declared NOT NULL"
                        ),
                    ));
                }
                var.value = value;
            }
            Target::Field(rec, field) => {
                let Some(i) = self.find(rec).filter(|i| self.vars[*i].record.is_some()) else {
                    return Err(not_a_variable(&format!("{rec}.{field}")));
                };
                let (f, ty, _) = self.field(i, field)?;
                let value = self.cast(value, from, &ty)?;
                if let Some(Record {
                    values: Some(values),
                    ..
                }) = &mut self.vars[i].record
                {
                    values[f] = value;
                }
            }
        }
        Ok(())
    }

    /// `value` (of type `from`, when known) as type `to`.
    fn cast(&mut self, value: Value, from: Option<&SqlType>, to: &SqlType) -> SqlResult<Value> {
        match from {
            Some(f) if !f.same_type(to) && !value.is_null() => {
                let query = format!("SELECT CAST($1 AS {})", to.display_name());
                let produced = self.query(SqlKind::Select, &query, &[(value, f.clone())])?;
                one_value(produced, &query)
            }
            _ => Ok(value),
        }
    }

    fn target_type(&self, target: &Target) -> SqlResult<SqlType> {
        match target {
            Target::Var(name) => self
                .find(name)
                .map(|i| self.vars[i].ty.clone())
                .ok_or_else(|| not_a_variable(name)),
            Target::Field(rec, field) => {
                let i = self
                    .find(rec)
                    .ok_or_else(|| not_a_variable(&format!("{rec}.{field}")))?;
                Ok(self.field(i, field)?.1)
            }
        }
    }

    fn set_found(&mut self, found: bool) {
        if let Some(i) = self.find("found") {
            self.vars[i].value = Value::Bool(found);
        }
    }

    fn block(&mut self, block: &Block) -> SqlResult<Flow> {
        let mark = self.vars.len();
        let result = self.block_inner(block);
        self.vars.truncate(mark);
        match result? {
            Flow::Exit(Some(l)) if block.label.as_ref() == Some(&l) => Ok(Flow::Next),
            other => Ok(other),
        }
    }

    fn block_inner(&mut self, block: &Block) -> SqlResult<Flow> {
        for d in &block.decls {
            let value = match &d.default {
                Some(e) => self.eval(e, Some(&d.ty))?,
                None => Value::Null,
            };
            if d.not_null && value.is_null() {
                return Err(SqlError::new(
                    code::NULL_VALUE_NOT_ALLOWED,
                    format!(
                        "null value cannot be assigned to variable \"{}\" declared NOT NULL",
                        d.name
                    ),
                ));
            }
            self.vars.push(Var {
                name: d.name.clone(),
                ty: d.ty.clone(),
                value,
                constant: d.constant,
                not_null: d.not_null,
                record: None,
            });
        }
        self.stmts(&block.stmts)
    }

    fn stmts(&mut self, stmts: &[Stmt]) -> SqlResult<Flow> {
        for s in stmts {
            match self.stmt(s)? {
                Flow::Next => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Next)
    }

    fn stmt(&mut self, s: &Stmt) -> SqlResult<Flow> {
        match s {
            Stmt::Null => {}
            Stmt::Assign(target, e) => {
                let ty = self.target_type(target)?;
                let value = self.eval(e, Some(&ty))?;
                self.assign(target, value, None)?;
            }
            Stmt::If {
                branches,
                otherwise,
            } => {
                for (cond, body) in branches {
                    if self.condition(cond)? {
                        return self.stmts(body);
                    }
                }
                return self.stmts(otherwise);
            }
            Stmt::Return(e) => return Ok(Flow::Return(self.return_value(e.as_ref())?)),
            Stmt::Perform(e) => {
                let (sql, params) = self.render(e)?;
                let produced = self.query(SqlKind::Select, &format!("SELECT {sql}"), &params)?;
                self.set_found(!produced.rows.is_empty());
            }
            Stmt::Sql { kind, text, into } => self.sql(*kind, text, into.as_ref())?,
            Stmt::Raise(r) => self.raise(r)?,
            Stmt::Block(b) => return self.block(b),
            Stmt::Exit {
                is_continue,
                label,
                when,
            } => {
                if let Some(w) = when {
                    if !self.condition(w)? {
                        return Ok(Flow::Next);
                    }
                }
                return Ok(if *is_continue {
                    Flow::Continue(label.clone())
                } else {
                    Flow::Exit(label.clone())
                });
            }
            Stmt::Loop { label, body } => loop {
                self.host.check_cancel()?;
                if let Some(flow) = self.iteration(label, body)? {
                    return Ok(flow);
                }
            },
            Stmt::While { label, cond, body } => {
                while self.condition(cond)? {
                    self.host.check_cancel()?;
                    if let Some(flow) = self.iteration(label, body)? {
                        return Ok(flow);
                    }
                }
            }
            Stmt::ForRange {
                label,
                var,
                reverse,
                lower,
                upper,
                step,
                body,
            } => return self.for_range(label, var, *reverse, lower, upper, step.as_ref(), body),
        }
        Ok(Flow::Next)
    }

    /// One pass through a loop body: `Some(flow)` when the loop ends.
    fn iteration(&mut self, label: &Option<String>, body: &[Stmt]) -> SqlResult<Option<Flow>> {
        match self.stmts(body)? {
            Flow::Next => Ok(None),
            Flow::Continue(None) => Ok(None),
            Flow::Continue(Some(l)) if label.as_ref() == Some(&l) => Ok(None),
            Flow::Exit(None) => Ok(Some(Flow::Next)),
            Flow::Exit(Some(l)) if label.as_ref() == Some(&l) => Ok(Some(Flow::Next)),
            other => Ok(Some(other)),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn for_range(
        &mut self,
        label: &Option<String>,
        var: &str,
        reverse: bool,
        lower: &SqlText,
        upper: &SqlText,
        step: Option<&SqlText>,
        body: &[Stmt],
    ) -> SqlResult<Flow> {
        let int = |v: Value, what: &str| -> SqlResult<i64> {
            match v {
                Value::Int4(n) => Ok(i64::from(n)),
                Value::Null => Err(SqlError::new(
                    code::NULL_VALUE_NOT_ALLOWED,
                    format!("{what} bound of FOR loop cannot be null"),
                )),
                _ => Err(SqlError::internal("FOR bound is not an integer")),
            }
        };
        let lo = int(self.eval(lower, Some(&SqlType::Int4))?, "lower")?;
        let hi = int(self.eval(upper, Some(&SqlType::Int4))?, "upper")?;
        let by = match step {
            Some(s) => match self.eval(s, Some(&SqlType::Int4))? {
                Value::Null => {
                    return Err(SqlError::new(
                        code::NULL_VALUE_NOT_ALLOWED,
                        "BY value of FOR loop cannot be null",
                    ))
                }
                v => int(v, "BY")?,
            },
            None => 1,
        };
        if by <= 0 {
            return Err(SqlError::new(
                code::INVALID_PARAMETER_VALUE,
                "BY value of FOR loop must be greater than zero",
            ));
        }
        let mark = self.vars.len();
        self.vars
            .push(Var::scalar(var.to_string(), SqlType::Int4, Value::Null));
        let mut i = lo;
        let mut result = Ok(Flow::Next);
        let mut found = false;
        while if reverse { i >= hi } else { i <= hi } {
            if let Err(e) = self.host.check_cancel() {
                result = Err(e);
                break;
            }
            found = true;
            self.vars[mark].value = Value::Int4(i as i32);
            match self.iteration(label, body) {
                Ok(None) => {}
                Ok(Some(flow)) => {
                    result = Ok(flow);
                    break;
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
            i = if reverse { i - by } else { i + by };
        }
        self.vars.truncate(mark);
        self.set_found(found);
        result
    }

    fn return_value(&mut self, e: Option<&SqlText>) -> SqlResult<Returned> {
        match self.result.clone() {
            ResultKind::Void => {
                if e.is_some() {
                    return Err(SqlError::new(
                        code::DATATYPE_MISMATCH,
                        "RETURN cannot have a parameter in function returning void",
                    ));
                }
                Ok(Returned::Value(Value::Null))
            }
            ResultKind::Scalar(t) => match e {
                Some(e) => Ok(Returned::Value(self.eval(e, Some(&t))?)),
                None => Err(SqlError::syntax("missing expression at or near \";\"")),
            },
            ResultKind::Trigger => {
                let Some(e) = e else {
                    return Err(SqlError::syntax("missing expression at or near \";\""));
                };
                if e.is_name("null") {
                    return Ok(Returned::Row(None));
                }
                for name in ["new", "old"] {
                    if e.is_name(name) {
                        let row = self
                            .find(name)
                            .and_then(|i| self.vars[i].record.as_ref())
                            .and_then(|r| r.values.clone());
                        return Ok(Returned::Row(row));
                    }
                }
                Err(super::parse::unsupported(
                    "RETURN of anything but NEW, OLD or NULL in a trigger function",
                ))
            }
        }
    }

    fn sql(
        &mut self,
        kind: SqlKind,
        text: &SqlText,
        into: Option<&(bool, Vec<Target>)>,
    ) -> SqlResult<()> {
        let (sql, params) = self.render(text)?;
        let produced = self.query(kind, &sql, &params)?;
        let found = match kind {
            SqlKind::Select => !produced.rows.is_empty(),
            _ => produced.count > 0,
        };
        self.set_found(found);
        let Some((strict, targets)) = into else {
            return Ok(());
        };
        if *strict && produced.rows.is_empty() {
            return Err(SqlError::new(
                conditions::NO_DATA_FOUND,
                "query returned no rows",
            ));
        }
        if *strict && produced.rows.len() > 1 {
            return Err(SqlError::new(
                conditions::TOO_MANY_ROWS,
                "query returned more than one row",
            )
            .with_hint("Make sure the query returns a single row, or use LIMIT 1."));
        }
        let row = produced.rows.into_iter().next();
        for (i, target) in targets.iter().enumerate() {
            let value = row
                .as_ref()
                .and_then(|r| r.get(i).cloned())
                .unwrap_or(Value::Null);
            self.assign(target, value, produced.types.get(i))?;
        }
        Ok(())
    }
}

/// The only value of a one-column, at most one-row result.
fn one_value(produced: Produced, query: &str) -> SqlResult<Value> {
    if produced.types.len() != 1 {
        return Err(SqlError::syntax(format!(
            "query \"{query}\" returned {} columns",
            produced.types.len()
        )));
    }
    if produced.rows.len() > 1 {
        return Err(SqlError::new(
            code::CARDINALITY_VIOLATION,
            format!("query \"{query}\" returned more than one row"),
        ));
    }
    Ok(produced
        .rows
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next())
        .unwrap_or(Value::Null))
}

fn not_a_variable(name: &str) -> SqlError {
    SqlError::syntax(format!("\"{name}\" is not a known variable"))
}
