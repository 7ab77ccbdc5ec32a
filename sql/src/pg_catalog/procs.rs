//! The functions `pg_proc` lists and their OIDs: the type support functions that `pg_type`
//! and `pg_am` name (`int4in`, `array_out`, `bthandler`...), every overload of the function
//! registry, and the catalog's user functions; `regproc` / `regprocedure` output and input.
//!
//! Built-in OIDs are assigned once per process: support functions from
//! [`super::oids::FIRST_TYPE_SUPPORT_PROC`] in the order the type list names them, registry
//! overloads by [`super::oids::builtin_proc_oid`] in (name, registration) order, so they are
//! stable for a given build. Operators (overloads named by a symbol) are numbered in the same
//! sequence but listed in `pg_operator`, not `pg_proc`.

use std::sync::OnceLock;

use storage::catalog::{Catalog, FunctionDef};

use super::ident::{parse_qualified_name, quote_qualified};
use super::names::{namespace_name, namespace_oid};
use super::oids::{builtin_proc_oid, exposed_namespace_oid, FIRST_TYPE_SUPPORT_PROC};
use super::types::builtin_types;
use super::PUBLIC_NAMESPACE_NAME;
use crate::func::{registry::registry, Implementation, Overload, Param, Returns};
use crate::pgtype::{oid, SqlType};

const INTERNAL: u32 = 2281;
const CSTRING_ARRAY: u32 = 1263;

/// A support function of a type or access method.
#[derive(Debug, Clone)]
pub struct SupportProc {
    pub oid: u32,
    pub name: String,
    pub args: Vec<u32>,
    pub result: u32,
}

/// Index access method handlers and language validators, after the type functions.
const OTHER_SUPPORT: &[(&str, &[u32], u32)] = &[
    ("heap_tableam_handler", &[INTERNAL], 269),
    ("bthandler", &[INTERNAL], 325),
    ("hashhandler", &[INTERNAL], 325),
    ("gisthandler", &[INTERNAL], 325),
    ("ginhandler", &[INTERNAL], 325),
    ("spghandler", &[INTERNAL], 325),
    ("brinhandler", &[INTERNAL], 325),
    ("ivfflathandler", &[INTERNAL], 325),
    ("hnswhandler", &[INTERNAL], 325),
    ("fmgr_internal_validator", &[oid::OID], oid::VOID),
    ("fmgr_c_validator", &[oid::OID], oid::VOID),
    ("fmgr_sql_validator", &[oid::OID], oid::VOID),
];

/// Every support function, built once.
pub fn support_procs() -> &'static [SupportProc] {
    static PROCS: OnceLock<Vec<SupportProc>> = OnceLock::new();
    PROCS.get_or_init(|| {
        let mut procs: Vec<SupportProc> = Vec::new();
        let mut add = |name: &str, args: Vec<u32>, result: u32| {
            if name.is_empty() || procs.iter().any(|p| p.name == name) {
                return;
            }
            let oid = FIRST_TYPE_SUPPORT_PROC + procs.len() as u32;
            procs.push(SupportProc {
                oid,
                name: name.to_string(),
                args,
                result,
            });
        };
        for t in builtin_types() {
            let own = if t.category == 'A' && t.len == -1 && t.storage != 'p' {
                oid::ANYARRAY
            } else {
                t.oid
            };
            let typmod_args = if t.modin.is_empty() && own != oid::ANYARRAY {
                vec![oid::CSTRING]
            } else {
                vec![oid::CSTRING, oid::OID, oid::INT4]
            };
            add(&t.input, typmod_args, own);
            add(&t.output, vec![own], oid::CSTRING);
            add(&t.receive, vec![INTERNAL], own);
            add(&t.send, vec![own], oid::BYTEA);
            add(t.modin, vec![CSTRING_ARRAY], oid::INT4);
            add(t.modout, vec![oid::INT4], oid::CSTRING);
            add(t.analyze, vec![INTERNAL], oid::BOOL);
            add(t.subscript, vec![INTERNAL], INTERNAL);
        }
        for (name, args, result) in OTHER_SUPPORT {
            add(name, args.to_vec(), *result);
        }
        debug_assert!(procs.len() < 1000, "support functions fit their OID range");
        procs
    })
}

/// The OID of support function `name` (0 for the empty name, as `regproc` shows `-`).
pub fn support_proc_oid(name: &str) -> u32 {
    support_procs()
        .iter()
        .find(|p| p.name == name)
        .map_or(0, |p| p.oid)
}

/// One overload of the registry with its OID.
pub struct BuiltinProc {
    pub oid: u32,
    pub overload: &'static Overload,
}

impl BuiltinProc {
    /// Whether this overload is an operator (named by a symbol).
    pub fn is_operator(&self) -> bool {
        is_operator_name(self.overload.name)
    }
}

pub fn is_operator_name(name: &str) -> bool {
    !name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
}

/// Every registry overload in (name, registration) order, with its OID. Overloads past the
/// OID space (more than 4384) are not listed.
pub fn builtin_procs() -> &'static [BuiltinProc] {
    static PROCS: OnceLock<Vec<BuiltinProc>> = OnceLock::new();
    PROCS.get_or_init(|| {
        let reg = registry();
        let mut names: Vec<&'static str> = reg.names().collect();
        names.sort_unstable();
        let mut procs = Vec::new();
        for name in names {
            for overload in reg.overloads(name) {
                let Some(oid) = builtin_proc_oid(procs.len()) else {
                    debug_assert!(false, "the registry outgrew the built-in OID space");
                    return procs;
                };
                procs.push(BuiltinProc { oid, overload });
            }
        }
        procs
    })
}

pub fn builtin_proc(oid: u32) -> Option<&'static BuiltinProc> {
    let procs = builtin_procs();
    procs
        .binary_search_by_key(&oid, |p| p.oid)
        .ok()
        .map(|i| &procs[i])
}

/// The type OID a parameter shows in `proargtypes`.
pub fn param_type_oid(param: &Param) -> u32 {
    match param {
        Param::Type(t) => t.oid(),
        Param::AnyElement => oid::ANYELEMENT,
        Param::AnyArray => oid::ANYARRAY,
        Param::AnyNonArray => 2776,
        Param::Any => oid::ANY,
    }
}

/// The result type OID of an overload (`prorettype`), its output columns for a
/// set-returning one with several.
pub fn result_type_oid(overload: &Overload) -> u32 {
    if let Implementation::Set { columns, .. } = &overload.implementation {
        let arg_types: Option<Vec<SqlType>> = overload
            .params
            .iter()
            .map(|p| match p {
                Param::Type(t) => Some(t.clone()),
                _ => None,
            })
            .collect();
        return match arg_types.map(|types| columns(&types)) {
            Some(cols) if cols.len() == 1 => cols[0].1.oid(),
            Some(_) => oid::RECORD,
            None => oid::ANYELEMENT,
        };
    }
    match &overload.returns {
        Returns::Type(t) => t.oid(),
        Returns::Element => oid::ANYELEMENT,
        Returns::ArrayOfElement => oid::ANYARRAY,
        Returns::Computed(compute) => {
            let types: Option<Vec<SqlType>> = overload
                .params
                .iter()
                .map(|p| match p {
                    Param::Type(t) => Some(t.clone()),
                    _ => None,
                })
                .collect();
            types.map_or(oid::ANYELEMENT, |types| compute(&types).oid())
        }
    }
}

/// A user function's name as `regproc` prints it: qualified unless it lives in `public`.
fn user_function_name(catalog: &Catalog, f: &FunctionDef) -> String {
    match catalog.schemas.get(&f.schema) {
        Some(s) if s.name != PUBLIC_NAMESPACE_NAME => quote_qualified(Some(&s.name), &f.name),
        _ => quote_qualified(None, &f.name),
    }
}

/// `regproc` output for a built-in function (support function or registry overload); see
/// [`proc_name_in`] for user functions too. OID 0 (`-`) is the caller's business.
pub fn proc_name(proc_oid: u32) -> Option<String> {
    if let Some(p) = support_procs().iter().find(|p| p.oid == proc_oid) {
        return Some(p.name.clone());
    }
    builtin_proc(proc_oid).map(|p| p.overload.name.to_string())
}

/// `regproc` output for any function, user functions of `catalog` included.
pub fn proc_name_in(catalog: &Catalog, proc_oid: u32) -> Option<String> {
    if let Some(name) = proc_name(proc_oid) {
        return Some(name);
    }
    catalog
        .functions
        .get(&proc_oid)
        .map(|f| user_function_name(catalog, f))
}

/// The argument type OIDs of a function.
pub fn proc_arg_types(catalog: &Catalog, proc_oid: u32) -> Option<Vec<u32>> {
    if let Some(p) = support_procs().iter().find(|p| p.oid == proc_oid) {
        return Some(p.args.clone());
    }
    if let Some(p) = builtin_proc(proc_oid) {
        return Some(p.overload.params.iter().map(param_type_oid).collect());
    }
    catalog.functions.get(&proc_oid).map(|f| {
        f.arguments
            .iter()
            .map(|(_, t)| SqlType::from_data_type(t).oid())
            .collect()
    })
}

/// `regprocedure` output: `name(type,type)`.
pub fn proc_signature(catalog: &Catalog, proc_oid: u32) -> Option<String> {
    let name = proc_name_in(catalog, proc_oid)?;
    let args: Vec<String> = proc_arg_types(catalog, proc_oid)?
        .into_iter()
        .map(|t| super::types::type_name(t).unwrap_or_else(|| t.to_string()))
        .collect();
    Some(format!("{name}({})", args.join(",")))
}

/// `regproc` input: the OID of the function named `text` (optionally qualified, quoted as
/// SQL quotes); the first overload when there are several.
pub fn proc_oid_by_name(catalog: &Catalog, text: &str) -> Option<u32> {
    let text = text.split('(').next().unwrap_or(text);
    let parts = parse_qualified_name(text)?;
    let (schema, name) = match parts.as_slice() {
        [name] => (None, name.as_str()),
        [schema, name] => (Some(schema.as_str()), name.as_str()),
        _ => return None,
    };
    if matches!(schema, None | Some("pg_catalog")) {
        if let Some(p) = support_procs().iter().find(|p| p.name == name) {
            return Some(p.oid);
        }
        if let Some(p) = builtin_procs().iter().find(|p| p.overload.name == name) {
            return Some(p.oid);
        }
    }
    let wanted_namespace = match schema {
        Some(schema) => Some(namespace_oid(catalog, schema)?),
        None => None,
    };
    catalog
        .functions
        .values()
        .find(|f| {
            f.name == name
                && wanted_namespace.is_none_or(|ns| exposed_namespace_oid(catalog, f.schema) == ns)
        })
        .map(|f| f.oid)
}

/// The namespace name of a function (for `pg_get_functiondef`).
pub fn proc_namespace_name(catalog: &Catalog, proc_oid: u32) -> Option<String> {
    match catalog.functions.get(&proc_oid) {
        Some(f) => namespace_name(catalog, exposed_namespace_oid(catalog, f.schema)),
        None => Some("pg_catalog".to_string()),
    }
}
