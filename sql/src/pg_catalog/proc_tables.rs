//! `pg_proc`, `pg_operator` and `pg_language`: the type support functions, every function
//! and operator of the registry (see [`super::procs`] for their OIDs), and the catalog's user
//! functions.
//!
//! User function attributes are read from `FunctionDef::attributes` by key or value,
//! case-insensitively: `IMMUTABLE` / `STABLE` / `VOLATILE`, `STRICT` (or `RETURNS NULL ON
//! NULL INPUT`), `SECURITY DEFINER`, `LEAKPROOF`, `COST`, `ROWS`.

use storage::catalog::{Catalog, FunctionDef};
use storage::types::{Row, Value};

use super::datum::*;
use super::names::bootstrap_owner;
use super::oids::{exposed_namespace_oid, language, rel};
use super::procs::{
    builtin_procs, param_type_oid, result_type_oid, support_proc_oid, support_procs,
};
use super::{table, SystemCtx, SystemTable, PG_CATALOG_NAMESPACE};
use crate::error::SqlResult;
use crate::func::{Implementation, Volatility};
use crate::pgtype::SqlType;

pub(super) fn tables() -> Vec<SystemTable> {
    vec![
        table(
            "pg_catalog",
            "pg_proc",
            rel::PG_PROC,
            vec![
                ("oid", OID),
                ("proname", NAME),
                ("pronamespace", OID),
                ("proowner", OID),
                ("prolang", OID),
                ("procost", FLOAT4),
                ("prorows", FLOAT4),
                ("provariadic", OID),
                ("prosupport", REGPROC),
                ("prokind", CHAR),
                ("prosecdef", BOOL),
                ("proleakproof", BOOL),
                ("proisstrict", BOOL),
                ("proretset", BOOL),
                ("provolatile", CHAR),
                ("proparallel", CHAR),
                ("pronargs", INT2),
                ("pronargdefaults", INT2),
                ("prorettype", OID),
                ("proargtypes", SqlType::OidVector),
                ("proallargtypes", array_of(OID)),
                ("proargmodes", array_of(CHAR)),
                ("proargnames", array_of(TEXT)),
                ("proargdefaults", NODE_TREE),
                ("protrftypes", array_of(OID)),
                ("prosrc", TEXT),
                ("probin", TEXT),
                ("prosqlbody", NODE_TREE),
                ("proconfig", array_of(TEXT)),
                ("proacl", array_of(SqlType::AclItem)),
            ],
            pg_proc_rows,
        ),
        table(
            "pg_catalog",
            "pg_operator",
            rel::PG_OPERATOR,
            vec![
                ("oid", OID),
                ("oprname", NAME),
                ("oprnamespace", OID),
                ("oprowner", OID),
                ("oprkind", CHAR),
                ("oprcanmerge", BOOL),
                ("oprcanhash", BOOL),
                ("oprleft", OID),
                ("oprright", OID),
                ("oprresult", OID),
                ("oprcom", OID),
                ("oprnegate", OID),
                ("oprcode", REGPROC),
                ("oprrest", REGPROC),
                ("oprjoin", REGPROC),
            ],
            pg_operator_rows,
        ),
        table(
            "pg_catalog",
            "pg_language",
            rel::PG_LANGUAGE,
            vec![
                ("oid", OID),
                ("lanname", NAME),
                ("lanowner", OID),
                ("lanispl", BOOL),
                ("lanpltrusted", BOOL),
                ("lanplcallfoid", OID),
                ("laninline", OID),
                ("lanvalidator", OID),
                ("lanacl", array_of(SqlType::AclItem)),
            ],
            pg_language_rows,
        ),
    ]
}

/// The facts of one `pg_proc` row.
struct ProcRow {
    oid: u32,
    name: String,
    namespace: u32,
    owner: u32,
    language: u32,
    cost: f32,
    rows: f32,
    variadic: u32,
    kind: char,
    security_definer: bool,
    leakproof: bool,
    strict: bool,
    returns_set: bool,
    volatility: char,
    result: u32,
    args: Vec<u32>,
    arg_names: Value,
    source: String,
}

impl ProcRow {
    fn row(self) -> Row {
        vec![
            oid(self.oid),
            name(self.name),
            oid(self.namespace),
            oid(self.owner),
            oid(self.language),
            float4(self.cost),
            float4(self.rows),
            oid(self.variadic),
            oid(0),
            ch(self.kind),
            boolean(self.security_definer),
            boolean(self.leakproof),
            boolean(self.strict),
            boolean(self.returns_set),
            ch(self.volatility),
            ch('s'),
            int2(i16::try_from(self.args.len()).unwrap_or(i16::MAX)),
            int2(0),
            oid(self.result),
            oid_vector(self.args),
            Value::Null,
            Value::Null,
            self.arg_names,
            Value::Null,
            Value::Null,
            text(self.source),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
        ]
    }
}

pub(super) fn volatility_letter(volatility: Volatility) -> char {
    match volatility {
        Volatility::Immutable => 'i',
        Volatility::Stable => 's',
        Volatility::Volatile => 'v',
    }
}

/// Whether a user function's attributes hold `word` as a key set to true, or as a value.
fn has_attribute(f: &FunctionDef, word: &str) -> bool {
    f.attributes.iter().any(|(k, v)| {
        (k.eq_ignore_ascii_case(word) && !v.eq_ignore_ascii_case("false"))
            || v.eq_ignore_ascii_case(word)
    })
}

fn numeric_attribute(f: &FunctionDef, key: &str) -> Option<f32> {
    f.attributes
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .and_then(|(_, v)| v.trim().parse().ok())
}

/// The `provolatile` letter of a user function (volatile unless said otherwise).
pub(super) fn user_volatility(f: &FunctionDef) -> char {
    if has_attribute(f, "IMMUTABLE") {
        'i'
    } else if has_attribute(f, "STABLE") {
        's'
    } else {
        'v'
    }
}

pub(super) fn user_is_strict(f: &FunctionDef) -> bool {
    has_attribute(f, "STRICT") || has_attribute(f, "RETURNS NULL ON NULL INPUT")
}

pub(super) fn user_is_security_definer(f: &FunctionDef) -> bool {
    has_attribute(f, "SECURITY DEFINER")
        || f.attributes
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("SECURITY") && v.eq_ignore_ascii_case("DEFINER"))
}

/// `pg_language` OID of a language name (unknown languages count as `sql`).
pub(super) fn language_oid(name: &str) -> u32 {
    match name.to_ascii_lowercase().as_str() {
        "internal" => language::INTERNAL,
        "c" => language::C,
        "plpgsql" => language::PLPGSQL,
        _ => language::SQL,
    }
}

fn user_proc(catalog: &Catalog, f: &FunctionDef) -> ProcRow {
    let names: Vec<&str> = f.arguments.iter().map(|(n, _)| n.as_str()).collect();
    ProcRow {
        oid: f.oid,
        name: f.name.clone(),
        namespace: exposed_namespace_oid(catalog, f.schema),
        owner: f.owner,
        language: language_oid(&f.language),
        cost: numeric_attribute(f, "COST").unwrap_or(100.0),
        rows: if f.returns_set {
            numeric_attribute(f, "ROWS").unwrap_or(1000.0)
        } else {
            0.0
        },
        variadic: 0,
        kind: 'f',
        security_definer: user_is_security_definer(f),
        leakproof: has_attribute(f, "LEAKPROOF"),
        strict: user_is_strict(f),
        returns_set: f.returns_set,
        volatility: user_volatility(f),
        result: if crate::plpgsql::is_trigger_function(f) {
            crate::pgtype::oid::TRIGGER
        } else {
            f.returns.as_ref().map_or(crate::pgtype::oid::VOID, |t| {
                SqlType::from_data_type(t).oid()
            })
        },
        args: f
            .arguments
            .iter()
            .map(|(_, t)| SqlType::from_data_type(t).oid())
            .collect(),
        arg_names: if names.iter().all(|n| n.is_empty()) {
            Value::Null
        } else {
            text_array(names)
        },
        source: f.body.clone(),
    }
}

fn pg_proc_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let catalog = ctx.catalog;
    let owner = bootstrap_owner(catalog, ctx.user);
    let builtin = |oid: u32, name: String, args: Vec<u32>, result: u32| ProcRow {
        oid,
        source: name.clone(),
        name,
        namespace: PG_CATALOG_NAMESPACE,
        owner,
        language: language::INTERNAL,
        cost: 1.0,
        rows: 0.0,
        variadic: 0,
        kind: 'f',
        security_definer: false,
        leakproof: false,
        strict: true,
        returns_set: false,
        volatility: 'i',
        result,
        args,
        arg_names: Value::Null,
    };
    let mut rows = Vec::new();
    for p in support_procs() {
        rows.push(builtin(p.oid, p.name.clone(), p.args.clone(), p.result).row());
    }
    for p in builtin_procs().iter().filter(|p| !p.is_operator()) {
        let o = p.overload;
        let args: Vec<u32> = o.params.iter().map(param_type_oid).collect();
        let returns_set = matches!(o.implementation, Implementation::Set { .. });
        rows.push(
            ProcRow {
                variadic: if o.variadic {
                    args.last().copied().unwrap_or(0)
                } else {
                    0
                },
                leakproof: o.leakproof,
                strict: o.strict,
                returns_set,
                rows: if returns_set { 1000.0 } else { 0.0 },
                volatility: volatility_letter(o.volatility),
                ..builtin(p.oid, o.name.to_string(), args, result_type_oid(o))
            }
            .row(),
        );
    }
    for f in catalog.functions.values() {
        let mut row = user_proc(catalog, f).row();
        // proacl (the last column): NULL while the default ACL holds.
        if let Some(acl) = row.last_mut() {
            *acl = text_array_or_null(super::privileges::function_acl(ctx, f.oid, f.owner));
        }
        rows.push(row);
    }
    Ok(rows)
}

fn pg_operator_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let owner = bootstrap_owner(ctx.catalog, ctx.user);
    Ok(builtin_procs()
        .iter()
        .filter(|p| p.is_operator())
        .map(|p| {
            let o = p.overload;
            let (kind, left, right) = match o.params.as_slice() {
                [operand] => ('l', 0, param_type_oid(operand)),
                [left, right, ..] => ('b', param_type_oid(left), param_type_oid(right)),
                [] => ('b', 0, 0),
            };
            vec![
                oid(p.oid),
                name(o.name),
                oid(PG_CATALOG_NAMESPACE),
                oid(owner),
                ch(kind),
                boolean(false),
                boolean(false),
                oid(left),
                oid(right),
                oid(result_type_oid(o)),
                oid(0),
                oid(0),
                oid(0),
                oid(0),
                oid(0),
            ]
        })
        .collect())
}

fn pg_language_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let owner = bootstrap_owner(ctx.catalog, ctx.user);
    let row = |lang: u32, lanname: &str, trusted: bool, validator: &str| {
        vec![
            oid(lang),
            name(lanname),
            oid(owner),
            boolean(false),
            boolean(trusted),
            oid(0),
            oid(0),
            oid(support_proc_oid(validator)),
            Value::Null,
        ]
    };
    Ok(vec![
        row(
            language::INTERNAL,
            "internal",
            false,
            "fmgr_internal_validator",
        ),
        row(language::C, "c", false, "fmgr_c_validator"),
        row(language::SQL, "sql", true, "fmgr_sql_validator"),
        row(language::PLPGSQL, "plpgsql", true, "plpgsql_validator"),
    ])
}
