//! `pg_catalog` and `information_schema`: system tables built from the custos catalog, with
//! PostgreSQL's column names, types and OIDs, read by the engine like any table, so that the
//! catalog queries of psql, pgjdbc, SQLAlchemy and asyncpg run unchanged.
//!
//! A [`SystemTable`] is a name, its columns and a function that builds its rows from the
//! catalog the reading transaction sees ([`SystemCtx`]). Nothing here is keyed by query text.
//!
//! Layout: [`oids`] fixes every OID that is not a catalog object's own and the namespace
//! mapping; [`names`] resolves OIDs and names along the search path (the helpers the
//! engine's `reg*` casts call are re-exported here); [`types`] is the type list behind
//! `pg_type`, `format_type` and `regtype`; [`procs`] numbers the built-in functions for
//! `pg_proc` and `regproc`; [`datum`] builds catalog values; the `*_tables` modules build
//! rows; [`ddl`] prints index, constraint, view and function definitions; [`privileges`]
//! builds ACLs and decides privilege checks; [`functions`] registers the catalog functions
//! (with [`privilege_functions`] and [`size_functions`]).
//!
//! Invariants: OIDs are consistent across every table and helper (a `pg_class.oid` is the
//! `pg_attribute.attrelid` of its columns, `'name'::regclass` and `oid::regclass` agree);
//! building rows never fails on a well-formed catalog; rows are built on each read (no cache).

pub mod datum;
pub mod ddl;
pub mod functions;
pub mod ident;
pub mod names;
pub mod oids;
pub mod privilege_functions;
pub mod privileges;
pub mod procs;
pub mod size_functions;
pub mod types;

mod access_tables;
mod class_tables;
mod constraint_tables;
mod info_schema_columns;
mod info_schema_tables;
mod misc_tables;
mod proc_tables;
mod role_tables;
mod type_tables;
mod view_tables;

#[cfg(test)]
mod function_tests;
#[cfg(test)]
mod tests;

use std::sync::OnceLock;

use storage::catalog::Catalog;
use storage::types::Row;

use crate::error::SqlResult;
use crate::pgtype::SqlType;

pub use names::{
    expand_search_path, namespace_name, namespace_oid, relation_name, relation_name_on_path,
    relation_oid, role_name, role_oid,
};
pub use procs::{proc_name, proc_name_in, proc_oid_by_name, proc_signature};
pub use types::{format_type, type_name, type_oid_by_name};

/// OIDs of the namespaces PostgreSQL creates.
pub const PG_CATALOG_NAMESPACE: u32 = 11;
pub const PG_TOAST_NAMESPACE: u32 = 99;
pub const PUBLIC_NAMESPACE_NAME: &str = "public";
pub const INFORMATION_SCHEMA_NAMESPACE: u32 = 13_000;
/// OID of the one database, `custos`.
pub const DATABASE_OID: u32 = 5;
/// OID of the bootstrap superuser in `pg_authid` when the catalog has no roles yet.
pub const BOOTSTRAP_SUPERUSER_OID: u32 = 10;

/// What a system table's rows depend on.
pub struct SystemCtx<'a> {
    pub catalog: &'a Catalog,
    pub user: &'a str,
    pub database: &'a str,
    /// Every session setting: name, current value (for `pg_settings`).
    pub settings: &'a [(String, String)],
    /// The audit log, for `custos_audit` (`None` outside a database).
    pub audit: Option<&'a storage::audit::AuditLog>,
}

impl SystemCtx<'_> {
    /// A setting's value (name compared case-insensitively).
    pub fn setting(&self, name: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The session's search path, `$user` expanded.
    pub fn search_path(&self) -> Vec<String> {
        match self.setting("search_path") {
            Some(setting) => expand_search_path(setting, self.user),
            None => names::default_search_path(),
        }
    }
}

/// A table of `pg_catalog` or `information_schema`.
pub struct SystemTable {
    pub schema: &'static str,
    pub name: &'static str,
    /// PostgreSQL's OID for the relation (`pg_class` 1259...), or a fixed OID below 16384.
    pub oid: u32,
    pub columns: Vec<(&'static str, SqlType)>,
    pub rows: fn(&SystemCtx) -> SqlResult<Vec<Row>>,
}

/// A system table definition, for the `*_tables` modules.
pub(crate) fn table(
    schema: &'static str,
    name: &'static str,
    oid: u32,
    columns: Vec<(&'static str, SqlType)>,
    rows: fn(&SystemCtx) -> SqlResult<Vec<Row>>,
) -> SystemTable {
    SystemTable {
        schema,
        name,
        oid,
        columns,
        rows,
    }
}

/// Every system table, built once.
pub fn system_tables() -> &'static [SystemTable] {
    static TABLES: OnceLock<Vec<SystemTable>> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut tables = Vec::new();
        tables.extend(class_tables::tables());
        tables.extend(constraint_tables::tables());
        tables.extend(type_tables::tables());
        tables.extend(proc_tables::tables());
        tables.extend(access_tables::tables());
        tables.extend(role_tables::tables());
        tables.extend(misc_tables::tables());
        tables.extend(view_tables::tables());
        tables.extend(info_schema_tables::tables());
        tables.extend(info_schema_columns::tables());
        tables.extend(crate::embedding::system_tables());
        tables.extend(crate::audit::view::system_tables());
        debug_assert!(
            {
                let mut oids: Vec<u32> = tables.iter().map(|t| t.oid).collect();
                oids.sort_unstable();
                oids.windows(2).all(|w| w[0] != w[1])
            },
            "system table OIDs are unique"
        );
        tables
    })
}

/// The system table `schema.name`.
pub fn find(schema: &str, name: &str) -> Option<&'static SystemTable> {
    system_tables()
        .iter()
        .find(|t| t.schema == schema && t.name == name)
}

/// The system table with relation OID `oid`.
pub fn find_by_oid(oid: u32) -> Option<&'static SystemTable> {
    system_tables().iter().find(|t| t.oid == oid)
}

/// The namespace OID of a system table.
pub(crate) fn system_namespace(table: &SystemTable) -> u32 {
    if table.schema == "information_schema" {
        INFORMATION_SCHEMA_NAMESPACE
    } else {
        PG_CATALOG_NAMESPACE
    }
}

/// `relkind` of a system table: the `information_schema` relations and the `pg_catalog`
/// views (OIDs in [`oids::rel::FIRST_VIEW`]..) are views, the rest tables.
pub(crate) fn system_relkind(table: &SystemTable) -> char {
    if (oids::rel::FIRST_VIEW..=oids::rel::LAST_VIEW).contains(&table.oid) {
        'v'
    } else {
        'r'
    }
}
