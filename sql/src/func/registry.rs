//! The registry of built-in functions and operators: every [`Overload`] by name, the builder
//! the function families use to add theirs, and the process-wide instance.
//!
//! Invariants: names are stored lower-case as PostgreSQL folds them (operators are their
//! symbol); an operator is an overload with one (prefix) or two (infix) parameters under its
//! symbol. The registry is built once, on first use, and never changes afterwards, so lookups
//! need no lock. Resolution of a call to one overload lives in `resolve`.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::{Implementation, Overload, Param, Returns, ScalarFn, SetFn, Volatility};
use crate::pgtype::SqlType;

/// All overloads of all built-in functions and operators.
#[derive(Default)]
pub struct Registry {
    overloads: HashMap<&'static str, Vec<Overload>>,
}

/// The registry with every family's functions, built on first use.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut reg = Registry::new();
        // FAMILIES
        super::arith::register(&mut reg);
        super::compare_ops::register(&mut reg);
        super::math::register(&mut reg);
        super::string::register(&mut reg);
        super::string_format::register(&mut reg);
        super::pattern::register(&mut reg);
        super::regex_fn::register(&mut reg);
        super::datetime_ops::register(&mut reg);
        super::datetime_fn::register(&mut reg);
        super::datetime_fields::register(&mut reg);
        super::to_char::register(&mut reg);
        super::json::register(&mut reg);
        super::json_build::register(&mut reg);
        super::json_sets::register(&mut reg);
        super::jsonpath_fn::register(&mut reg);
        super::array::register(&mut reg);
        super::series::register(&mut reg);
        super::vector::register(&mut reg);
        super::embed::register(&mut reg);
        super::misc::register(&mut reg);
        crate::pg_catalog::functions::register(&mut reg);
        crate::rag::register(&mut reg);
        crate::governance::register(&mut reg);
        crate::audit::view::register(&mut reg);
        reg
    })
}

impl Overload {
    /// Whether NULL arguments give NULL without a call (default: yes).
    pub fn strict(&mut self, strict: bool) -> &mut Overload {
        self.strict = strict;
        self
    }

    /// Sets the volatility (default: immutable).
    pub fn volatility(&mut self, volatility: Volatility) -> &mut Overload {
        self.volatility = volatility;
        self
    }

    /// Makes the last parameter repeat (`VARIADIC`).
    pub fn variadic(&mut self) -> &mut Overload {
        self.variadic = true;
        self
    }

    /// Marks the function leak-proof.
    pub fn leakproof(&mut self) -> &mut Overload {
        self.leakproof = true;
        self
    }

    /// Whether the overload returns a set.
    pub fn is_set_returning(&self) -> bool {
        matches!(self.implementation, Implementation::Set { .. })
    }

    /// Whether `nargs` arguments fit the parameter list (a variadic parameter takes one or
    /// more arguments, as in PostgreSQL).
    pub(crate) fn accepts_arity(&self, nargs: usize) -> bool {
        if self.variadic {
            nargs >= self.params.len()
        } else {
            nargs == self.params.len()
        }
    }

    /// The parameter list stretched to `nargs` arguments (the variadic one repeated).
    pub(crate) fn params_for(&self, nargs: usize) -> Vec<Param> {
        let mut params = self.params.clone();
        if self.variadic {
            if let Some(last) = self.params.last() {
                while params.len() < nargs {
                    params.push(last.clone());
                }
            }
        }
        params
    }
}

impl Registry {
    /// An empty registry (the families fill it; [`registry()`] is the full one).
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds an overload as given.
    pub fn add(&mut self, overload: Overload) -> &mut Overload {
        let list = self.overloads.entry(overload.name).or_default();
        list.push(overload);
        let last = list.len() - 1;
        &mut list[last]
    }

    /// Adds a scalar function or operator: strict and immutable unless changed.
    pub fn scalar(
        &mut self,
        name: &'static str,
        params: Vec<Param>,
        returns: Returns,
        implementation: ScalarFn,
    ) -> &mut Overload {
        self.add(Overload {
            name,
            params,
            variadic: false,
            returns,
            strict: true,
            volatility: Volatility::Immutable,
            leakproof: false,
            implementation: Implementation::Scalar(implementation),
        })
    }

    /// Shorthand for [`Registry::scalar`] with concrete parameter and return types.
    pub fn typed(
        &mut self,
        name: &'static str,
        params: impl Into<Vec<SqlType>>,
        returns: SqlType,
        implementation: ScalarFn,
    ) -> &mut Overload {
        let params = params.into().into_iter().map(Param::Type).collect();
        self.scalar(name, params, Returns::Type(returns), implementation)
    }

    /// Adds a set-returning function: `columns` names its output columns from the argument
    /// types (one column for `SETOF type`), `rows` produces the rows.
    pub fn set_returning(
        &mut self,
        name: &'static str,
        params: Vec<Param>,
        columns: fn(&[SqlType]) -> Vec<(String, SqlType)>,
        rows: SetFn,
    ) -> &mut Overload {
        self.add(Overload {
            name,
            params,
            variadic: false,
            returns: Returns::Type(SqlType::Record),
            strict: true,
            volatility: Volatility::Immutable,
            leakproof: false,
            implementation: Implementation::Set { columns, rows },
        })
    }

    /// Every overload registered under `name`.
    pub fn overloads(&self, name: &str) -> &[Overload] {
        self.overloads.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Whether any function or operator is registered under `name`.
    pub fn exists(&self, name: &str) -> bool {
        self.overloads.contains_key(name)
    }

    /// Whether `name` is a set-returning function (any of its overloads).
    pub fn is_set_returning(&self, name: &str) -> bool {
        self.overloads(name).iter().any(Overload::is_set_returning)
    }

    /// The names of every registered function and operator (for `pg_proc`).
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.overloads.keys().copied()
    }
}
