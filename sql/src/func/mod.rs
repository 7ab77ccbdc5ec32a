//! Built-in functions, operators, casts and aggregates, and how a call is resolved to one.
//!
//! Every function the engine can call is an [`Overload`] in the [`Registry`]: a name, a
//! parameter list (concrete types or polymorphic `anyelement` / `anyarray` / `any`), a return
//! type rule, flags (strict, volatility) and an implementation. Operators are functions under
//! their operator name (`+`, `||`, `~~`, `->>`...) with one or two parameters. Families of
//! functions live in their own modules and add themselves to the registry through their
//! `register` function; the `pg_catalog` module adds the catalog functions the same way.
//!
//! Resolution ([`Registry::resolve`]) follows PostgreSQL's rules (`func_select_candidate`):
//! exact match, then candidates reachable through implicit casts, preferring those with the
//! most exact matches and preferred types, with `unknown` arguments (untyped literals) taking
//! the type the candidate wants.

use std::cmp::Ordering;
use std::sync::Arc;

use storage::catalog::Catalog;
use storage::types::{Row, Value};

use crate::error::SqlResult;
use crate::pgtype::SqlType;
use crate::types::SessionFormat;

/// What an implementation may read besides its arguments.
pub struct FnCtx<'a> {
    /// How values print and parse (time zone, DateStyle...) and the transaction start time.
    pub format: &'a SessionFormat,
    /// The catalog as the calling transaction sees it.
    pub catalog: &'a Arc<Catalog>,
    /// `current_user` / `session_user`.
    pub user: &'a str,
    pub database: &'a str,
    /// Statement start (microseconds since 2000-01-01 UTC), for `statement_timestamp()`.
    pub statement_start: i64,
    /// Reads a session setting (for `current_setting` and friends).
    pub setting: &'a dyn Fn(&str) -> Option<String>,
    /// Runs a nested query as the calling statement (the RAG functions); `None` outside
    /// execution (binding, tests).
    pub queries: Option<&'a dyn crate::rag::QueryRunner>,
}

/// A scalar implementation: arguments already cast to the overload's parameter types. For a
/// strict overload the engine never calls it with a NULL argument.
pub type ScalarFn = fn(&FnCtx, &[Value]) -> SqlResult<Value>;

/// A set-returning implementation: all rows at once (each row has one value per output
/// column; a function with one output column returns one-value rows).
pub type SetFn = fn(&FnCtx, &[Value]) -> SqlResult<Vec<Row>>;

/// How volatile a function is (PostgreSQL's `provolatile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Volatility {
    Immutable,
    Stable,
    Volatile,
}

/// A parameter of an overload.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// A concrete type (modifiers ignored).
    Type(SqlType),
    /// `anyelement`: any type, the same for every `AnyElement` parameter of the call.
    AnyElement,
    /// `anyarray`: an array whose element type is the `AnyElement` type.
    AnyArray,
    /// `anycompatible`-like: any non-array type.
    AnyNonArray,
    /// `"any"`: any type, independently per parameter.
    Any,
}

/// How an overload's return type is found.
#[derive(Debug, Clone)]
pub enum Returns {
    Type(SqlType),
    /// The type bound to `anyelement` in this call.
    Element,
    /// An array of the type bound to `anyelement`.
    ArrayOfElement,
    /// Computed from the argument types (after casts).
    Computed(fn(&[SqlType]) -> SqlType),
}

#[derive(Clone)]
pub enum Implementation {
    Scalar(ScalarFn),
    /// Set-returning, with the names and types of its output columns (one column for a
    /// function that returns `SETOF <type>`, whose column takes the function's name).
    Set {
        columns: fn(&[SqlType]) -> Vec<(String, SqlType)>,
        rows: SetFn,
    },
}

/// One signature of a function or operator.
#[derive(Clone)]
pub struct Overload {
    pub name: &'static str,
    pub params: Vec<Param>,
    /// The last parameter may repeat (`VARIADIC`), as in `concat`, `format`, `json_build_object`.
    pub variadic: bool,
    pub returns: Returns,
    /// NULL in any argument gives NULL without calling the implementation.
    pub strict: bool,
    pub volatility: Volatility,
    /// Leaks nothing about its arguments through errors (may run below a security barrier).
    pub leakproof: bool,
    pub implementation: Implementation,
}

/// The resolved form of a call, ready for the binder: the casts to apply to each argument and
/// the concrete return type.
#[derive(Clone)]
pub struct Resolved {
    pub overload: Overload,
    /// The type each argument must be cast to before the call (one per argument).
    pub arg_types: Vec<SqlType>,
    pub return_type: SqlType,
}

/// An aggregate's running state.
pub trait Accumulator: Send {
    /// Adds one input row (one value per aggregate argument; NULLs included — the
    /// accumulator applies the aggregate's NULL rule).
    fn update(&mut self, ctx: &FnCtx, args: &[Value]) -> SqlResult<()>;
    /// Folds in the state of another accumulator of the same aggregate (parallel aggregation).
    fn merge(&mut self, ctx: &FnCtx, other: Box<dyn Accumulator>) -> SqlResult<()>;
    /// The result; may be called once.
    fn finish(&mut self, ctx: &FnCtx) -> SqlResult<Value>;
    /// For `merge`: the accumulator as `Any`.
    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any>;
}

/// A resolved aggregate: argument casts, result type and a factory of fresh states.
#[derive(Clone)]
pub struct ResolvedAggregate {
    pub name: &'static str,
    pub arg_types: Vec<SqlType>,
    pub return_type: SqlType,
    /// A new, empty state.
    pub create: Arc<dyn Fn() -> Box<dyn Accumulator> + Send + Sync>,
}

/// Context in which a cast is applied (PostgreSQL's `CoercionContext`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CastContext {
    Implicit,
    Assignment,
    Explicit,
}

/// Total order of two non-NULL values of the same type, as PostgreSQL's btree operator class
/// orders them (text by bytes — the C collation —, NaN above every float, numerics by value,
/// arrays element-wise, jsonb by its own rules).
pub type CompareFn = fn(&Value, &Value) -> Ordering;

pub mod aggregate;
mod aggregate_ordered;
mod aggregate_stats;
mod args;
mod arith;
mod array;
mod calendar;
mod cast;
mod cast_convert;
mod compare;
mod compare_ops;
mod datetime_fields;
mod datetime_fn;
mod datetime_ops;
mod decimal;
mod embed;
mod json;
mod json_build;
mod json_sets;
mod json_tree;
mod jsonpath;
mod jsonpath_eval;
mod jsonpath_fn;
mod jsonpath_scan;
mod math;
mod misc;
mod number_format;
mod oid_types;
mod pattern;
mod regex_fn;
pub mod registry;
mod resolve;
mod series;
mod string;
mod string_format;
mod to_char;
mod to_char_parse;
mod typename;
mod vector;

pub use array::{any_equal, array_contains, concat_arrays};
pub use cast::{
    apply_modifier, cannot_cast, cast_allowed, cast_level, cast_value, cast_value_in, common_type,
    input_value, output_text, text_of,
};
pub use compare::{compare, compare_bpchar, equal, hash_key};
pub use compare_ops::{row_values_equal, row_values_not_equal};
pub use oid_types::{set_system_relations, split_qualified_name, SystemRelations};
pub use registry::{registry, Registry};
pub use typename::parse_type_name;

#[cfg(test)]
mod aggregate_tests;
#[cfg(test)]
mod array_tests;
#[cfg(test)]
mod cast_tests;
#[cfg(test)]
mod json_tests;
#[cfg(test)]
mod string_format_tests;
#[cfg(test)]
pub(crate) mod test_support;
