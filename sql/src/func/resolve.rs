//! Function and operator resolution: PostgreSQL's `func_get_detail` / `oper` rules choosing
//! one overload for the argument types of a call.
//!
//! Steps, as in `parse_func.c` and `parse_oper.c`: an exact match on argument types (for a
//! binary operator with one `unknown` side, the other side's type stands in for it); else the
//! candidates every argument reaches by an implicit cast; among several, those with the most
//! exact matches, then the most exact-or-preferred matches, then the category heuristics for
//! `unknown` arguments (string category wins), then the "all unknowns are the known type"
//! last gasp. Anything left ambiguous is 42725, nothing at all is 42883.
//!
//! Polymorphic parameters bind as PostgreSQL's `anycompatible` family does: `anyelement`
//! positions and the elements of `anyarray` positions take the common type of the known
//! arguments (integer and numeric give numeric); when every one is `unknown`, the call fails
//! with 42804 as in PostgreSQL. Type modifiers are dropped from polymorphic bindings.

use super::cast::cast_allowed;
use super::{CastContext, Implementation, Overload, Param, Resolved, Returns};
use crate::error::{code, SqlError, SqlResult};
use crate::func::registry::Registry;
use crate::pgtype::SqlType;

/// A candidate overload with its parameters stretched to the call's argument count.
struct Candidate<'a> {
    overload: &'a Overload,
    params: Vec<Param>,
}

impl Registry {
    /// Resolves a call of function `name` with arguments of types `args` (`unknown` for
    /// untyped literals).
    pub fn resolve(&self, name: &str, args: &[SqlType]) -> SqlResult<Resolved> {
        let candidates: Vec<Candidate> = self
            .overloads(name)
            .iter()
            .filter(|o| o.accepts_arity(args.len()))
            .map(|o| Candidate {
                overload: o,
                params: o.params_for(args.len()),
            })
            .collect();
        let signature = || {
            let types: Vec<String> = args.iter().map(SqlType::base_name).collect();
            format!("{name}({})", types.join(", "))
        };
        match choose(candidates, args, args)? {
            Choice::One(c) => bind(c, args),
            Choice::None => Err(SqlError::new(
                code::UNDEFINED_FUNCTION,
                format!("function {} does not exist", signature()),
            )
            .with_hint(
                "No function matches the given name and argument types. You might need to add explicit type casts.",
            )),
            Choice::Ambiguous => Err(SqlError::new(
                code::AMBIGUOUS_FUNCTION,
                format!("function {} is not unique", signature()),
            )
            .with_hint(
                "Could not choose a best candidate function. You might need to add explicit type casts.",
            )),
        }
    }

    /// Resolves operator `op` applied to `left` (None for a prefix operator) and `right`.
    pub fn resolve_operator(
        &self,
        op: &str,
        left: Option<&SqlType>,
        right: &SqlType,
    ) -> SqlResult<Resolved> {
        let args: Vec<SqlType> = match left {
            Some(l) => vec![l.clone(), right.clone()],
            None => vec![right.clone()],
        };
        let candidates: Vec<Candidate> = self
            .overloads(op)
            .iter()
            .filter(|o| !o.variadic && o.params.len() == args.len())
            .map(|o| Candidate {
                overload: o,
                params: o.params.clone(),
            })
            .collect();
        // binary_oper_exact: an unknown side is first assumed to have the other side's type.
        let mut exact_args = args.clone();
        if exact_args.len() == 2 {
            if exact_args[0] == SqlType::Unknown {
                exact_args[0] = exact_args[1].clone();
            } else if exact_args[1] == SqlType::Unknown {
                exact_args[1] = exact_args[0].clone();
            }
        }
        let describe = || match left {
            Some(l) => format!("{} {op} {}", l.base_name(), right.base_name()),
            None => format!("{op} {}", right.base_name()),
        };
        match choose(candidates, &exact_args, &args)? {
            Choice::One(c) => bind(c, &args),
            Choice::None => Err(SqlError::new(
                code::UNDEFINED_FUNCTION,
                format!("operator does not exist: {}", describe()),
            )
            .with_hint(if left.is_some() {
                "No operator matches the given name and argument types. You might need to add explicit type casts."
            } else {
                "No operator matches the given name and argument type. You might need to add an explicit type cast."
            })),
            Choice::Ambiguous => Err(SqlError::new(
                code::AMBIGUOUS_FUNCTION,
                format!("operator is not unique: {}", describe()),
            )
            .with_hint(
                "Could not choose a best candidate operator. You might need to add explicit type casts.",
            )),
        }
    }
}

enum Choice<'a> {
    One(Candidate<'a>),
    None,
    Ambiguous,
}

/// The concrete type a parameter declares, `None` for a polymorphic one.
fn declared(param: &Param) -> Option<&SqlType> {
    match param {
        Param::Type(t) => Some(t),
        _ => None,
    }
}

/// Category and preferredness of a parameter type (polymorphic ones are pseudo-types).
fn category_of(param: &Param) -> (char, bool) {
    match declared(param) {
        Some(t) => (t.category(), t.is_preferred()),
        None => ('P', false),
    }
}

fn choose<'a>(
    candidates: Vec<Candidate<'a>>,
    exact_args: &[SqlType],
    args: &[SqlType],
) -> SqlResult<Choice<'a>> {
    // Exact match on every argument type.
    if let Some(pos) = candidates.iter().position(|c| {
        c.params
            .iter()
            .zip(exact_args)
            .all(|(p, a)| declared(p).is_some_and(|t| t.same_type(a)))
    }) {
        let mut candidates = candidates;
        return Ok(Choice::One(candidates.swap_remove(pos)));
    }
    let mut matching: Vec<Candidate> = candidates
        .into_iter()
        .filter(|c| can_coerce(args, &c.params))
        .collect();
    Ok(match matching.len() {
        0 => Choice::None,
        1 => Choice::One(matching.remove(0)),
        _ => select_candidate(matching, args),
    })
}

/// Keeps the candidates with the highest score (all of them when every score is zero).
fn keep_best<'a>(
    candidates: Vec<Candidate<'a>>,
    score: impl Fn(&Candidate) -> usize,
) -> Vec<Candidate<'a>> {
    let best = candidates.iter().map(&score).max().unwrap_or(0);
    candidates
        .into_iter()
        .filter(|c| score(c) == best)
        .collect()
}

/// PostgreSQL's `func_select_candidate`.
fn select_candidate<'a>(candidates: Vec<Candidate<'a>>, args: &[SqlType]) -> Choice<'a> {
    let is_unknown = |i: usize| args[i] == SqlType::Unknown;
    let mut candidates = keep_best(candidates, |c| {
        (0..args.len())
            .filter(|&i| {
                !is_unknown(i) && declared(&c.params[i]).is_some_and(|t| t.same_type(&args[i]))
            })
            .count()
    });
    if candidates.len() == 1 {
        return Choice::One(candidates.remove(0));
    }
    candidates = keep_best(candidates, |c| {
        (0..args.len())
            .filter(|&i| {
                !is_unknown(i)
                    && declared(&c.params[i]).is_some_and(|t| {
                        t.same_type(&args[i])
                            || (t.is_preferred() && t.category() == args[i].category())
                    })
            })
            .count()
    });
    if candidates.len() == 1 {
        return Choice::One(candidates.remove(0));
    }
    let unknowns: Vec<usize> = (0..args.len()).filter(|&i| is_unknown(i)).collect();
    if unknowns.is_empty() {
        return Choice::Ambiguous;
    }
    // Decide a category (and whether a preferred type is on offer) for each unknown slot.
    let mut slots: Vec<(usize, char, bool)> = Vec::new();
    let mut resolved = true;
    for &i in &unknowns {
        let mut category: Option<char> = None;
        let mut preferred = false;
        let mut conflict = false;
        for c in &candidates {
            let (cat, pref) = category_of(&c.params[i]);
            match category {
                None => {
                    category = Some(cat);
                    preferred = pref;
                }
                Some(current) if current == cat => preferred |= pref,
                Some(_) if cat == 'S' => {
                    category = Some(cat);
                    preferred = pref;
                }
                Some(_) => conflict = true,
            }
        }
        if conflict && category != Some('S') {
            resolved = false;
            break;
        }
        slots.push((i, category.unwrap_or('X'), preferred));
    }
    if resolved {
        let keep = |c: &Candidate| {
            slots.iter().all(|&(i, cat, preferred)| {
                let (c_cat, c_pref) = category_of(&c.params[i]);
                c_cat == cat && (!preferred || c_pref)
            })
        };
        if candidates.iter().any(keep) {
            candidates.retain(keep);
        }
        if candidates.len() == 1 {
            return Choice::One(candidates.remove(0));
        }
    }
    // Last gasp: every unknown takes the one type of the known arguments.
    if unknowns.len() < args.len() {
        let mut known = args.iter().filter(|a| **a != SqlType::Unknown);
        let first = known.next().cloned();
        if let Some(first) = first {
            if known.all(|a| a.same_type(&first)) {
                let assumed: Vec<SqlType> = args.iter().map(|_| first.clone()).collect();
                let mut fitting: Vec<Candidate> = candidates
                    .into_iter()
                    .filter(|c| can_coerce(&assumed, &c.params))
                    .collect();
                if fitting.len() == 1 {
                    return Choice::One(fitting.remove(0));
                }
            }
        }
    }
    Choice::Ambiguous
}

/// Whether every argument reaches its parameter by an implicit cast, with the polymorphic
/// parameters bound consistently.
fn can_coerce(args: &[SqlType], params: &[Param]) -> bool {
    for (arg, param) in args.iter().zip(params) {
        match param {
            Param::Type(t)
                if !(arg.same_type(t)
                    || *arg == SqlType::Unknown
                    || cast_allowed(arg, t, CastContext::Implicit)) =>
            {
                return false;
            }
            Param::AnyNonArray if arg.is_array() => return false,
            Param::AnyArray if !(arg.is_array() || *arg == SqlType::Unknown) => return false,
            _ => {}
        }
    }
    // All-unknown polymorphic arguments are consistent here; binding the call fails later
    // with 42804, as PostgreSQL's enforce_generic_type_consistency does.
    match polymorphic_binding(args, params) {
        Ok(_) => true,
        Err(e) => e.code == code::DATATYPE_MISMATCH && e.message.starts_with("could not determine"),
    }
}

/// The type `anyelement` binds to in a call, `Ok(None)` when the call has no `anyelement` /
/// `anyarray` parameter.
fn polymorphic_binding(args: &[SqlType], params: &[Param]) -> SqlResult<Option<SqlType>> {
    let mut known: Vec<SqlType> = Vec::new();
    let mut polymorphic = false;
    for (arg, param) in args.iter().zip(params) {
        match param {
            Param::AnyElement | Param::AnyNonArray => {
                polymorphic = true;
                if *arg != SqlType::Unknown {
                    known.push(arg.without_modifier());
                }
            }
            Param::AnyArray => {
                polymorphic = true;
                if let Some(element) = arg.element() {
                    known.push(element.without_modifier());
                }
            }
            _ => {}
        }
    }
    if !polymorphic {
        return Ok(None);
    }
    let Some(first) = known.first().cloned() else {
        return Err(SqlError::new(
            code::DATATYPE_MISMATCH,
            "could not determine polymorphic type because input has type unknown",
        ));
    };
    if known.iter().all(|t| t.same_type(&first)) {
        return Ok(Some(first));
    }
    super::cast::common_type(&known, "polymorphic").map(Some)
}

/// The resolved call: argument casts and the return type.
fn bind(candidate: Candidate, args: &[SqlType]) -> SqlResult<Resolved> {
    let element = polymorphic_binding(args, &candidate.params)?;
    let bound = || element.clone().unwrap_or(SqlType::Unknown);
    let arg_types: Vec<SqlType> = args
        .iter()
        .zip(&candidate.params)
        .map(|(arg, param)| match param {
            Param::Type(t) if arg.same_type(t) => arg.clone(),
            Param::Type(t) => t.clone(),
            Param::Any => arg.clone(),
            Param::AnyElement | Param::AnyNonArray => bound(),
            Param::AnyArray => {
                let wanted = SqlType::Array(Box::new(bound()));
                if arg.same_type(&wanted) {
                    arg.clone()
                } else {
                    wanted
                }
            }
        })
        .collect();
    let overload = candidate.overload;
    let return_type = match &overload.implementation {
        Implementation::Set { columns, .. } => {
            let mut cols = columns(&arg_types);
            if cols.len() == 1 {
                cols.remove(0).1
            } else {
                SqlType::Record
            }
        }
        Implementation::Scalar(_) => match &overload.returns {
            Returns::Type(t) => t.clone(),
            Returns::Element => bound(),
            Returns::ArrayOfElement => SqlType::Array(Box::new(bound())),
            Returns::Computed(f) => f(&arg_types),
        },
    };
    Ok(Resolved {
        overload: overload.clone(),
        arg_types,
        return_type,
    })
}
