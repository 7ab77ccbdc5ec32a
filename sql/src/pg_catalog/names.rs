//! OID ↔ name resolution for namespaces, roles and relations, the search path and the
//! `pg_*_is_visible` rules, shared by the system tables, the catalog functions and the
//! engine's `reg*` casts.
//!
//! A search path here is a list of schema names as the `search_path` setting gives them
//! after [`expand_search_path`] (`$user` replaced by the user's name). As in PostgreSQL,
//! `pg_catalog` is searched first unless the path names it elsewhere; schemas that do not
//! exist are skipped. Namespace OIDs are the ones clients see (see [`super::oids`]).

use storage::catalog::{Catalog, IndexDef, Oid, SequenceDef, TableDef, ViewDef};

use super::ident::quote_qualified;
use super::oids::{catalog_namespace_oid, exposed_namespace_oid, public_namespace_oid};
use super::{
    SystemTable, BOOTSTRAP_SUPERUSER_OID, INFORMATION_SCHEMA_NAMESPACE, PG_CATALOG_NAMESPACE,
    PG_TOAST_NAMESPACE,
};

/// The search path when none is given: PostgreSQL's default, `"$user", public`.
pub const DEFAULT_SEARCH_PATH: &[&str] = &["public"];

/// The schema names of a `search_path` setting (`"$user", public`), with `$user` replaced by
/// `user` and quotes removed.
pub fn expand_search_path(setting: &str, user: &str) -> Vec<String> {
    setting
        .split(',')
        .map(|part| {
            let part = part.trim();
            let unquoted = part
                .strip_prefix('"')
                .and_then(|p| p.strip_suffix('"'))
                .map(|p| p.replace("\"\"", "\""));
            match unquoted {
                Some(name) if name == "$user" => user.to_string(),
                Some(name) => name,
                None if part == "$user" => user.to_string(),
                None => part.to_ascii_lowercase(),
            }
        })
        .filter(|part| !part.is_empty())
        .collect()
}

/// The namespaces searched, in order, as shown OIDs: `pg_catalog` first unless listed,
/// then each existing schema of the path.
pub fn effective_path(catalog: &Catalog, search_path: &[String]) -> Vec<Oid> {
    let mut path = Vec::new();
    if !search_path.iter().any(|s| s == "pg_catalog") {
        path.push(PG_CATALOG_NAMESPACE);
    }
    for schema in search_path {
        if let Some(oid) = namespace_oid(catalog, schema) {
            if !path.contains(&oid) {
                path.push(oid);
            }
        }
    }
    path
}

/// The default path as owned strings.
pub fn default_search_path() -> Vec<String> {
    DEFAULT_SEARCH_PATH.iter().map(|s| s.to_string()).collect()
}

/// The shown OID of namespace `name`.
pub fn namespace_oid(catalog: &Catalog, name: &str) -> Option<Oid> {
    match name {
        "pg_catalog" => Some(PG_CATALOG_NAMESPACE),
        "pg_toast" => Some(PG_TOAST_NAMESPACE),
        "information_schema" => Some(INFORMATION_SCHEMA_NAMESPACE),
        _ => catalog
            .schema_by_name(name)
            .map(|s| exposed_namespace_oid(catalog, s.oid)),
    }
}

/// The name of the namespace with shown OID `oid` (`regnamespace` output).
pub fn namespace_name(catalog: &Catalog, oid: Oid) -> Option<String> {
    match oid {
        PG_CATALOG_NAMESPACE => Some("pg_catalog".into()),
        PG_TOAST_NAMESPACE => Some("pg_toast".into()),
        INFORMATION_SCHEMA_NAMESPACE => Some("information_schema".into()),
        _ => catalog
            .schemas
            .get(&catalog_namespace_oid(catalog, oid))
            .map(|s| s.name.clone()),
    }
}

/// A role as the catalog tables show it.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleView {
    pub oid: Oid,
    pub name: String,
    pub superuser: bool,
    pub inherit: bool,
    pub create_role: bool,
    pub create_db: bool,
    pub can_login: bool,
    pub replication: bool,
    pub bypass_rls: bool,
    pub connection_limit: i32,
    pub valid_until: Option<String>,
    pub has_password: bool,
    pub member_of: Vec<Oid>,
    pub settings: Vec<String>,
}

fn attribute(attributes: &std::collections::BTreeMap<String, String>, key: &str) -> bool {
    attributes
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case(key) && v.eq_ignore_ascii_case("true"))
}

fn attribute_value<'a>(
    attributes: &'a std::collections::BTreeMap<String, String>,
    key: &str,
) -> Option<&'a str> {
    attributes
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

/// Every role, from the catalog; when it has none yet, one superuser named `session_user`
/// with OID [`BOOTSTRAP_SUPERUSER_OID`]. Role attributes are read from the keys `SUPERUSER`,
/// `INHERIT`, `CREATEROLE`, `CREATEDB`, `LOGIN`, `REPLICATION`, `BYPASSRLS` (value `true`),
/// `CONNECTION LIMIT` and `VALID UNTIL`, case-insensitively.
pub fn roles(catalog: &Catalog, session_user: &str) -> Vec<RoleView> {
    if catalog.roles.is_empty() {
        return vec![RoleView {
            oid: BOOTSTRAP_SUPERUSER_OID,
            name: session_user.to_string(),
            superuser: true,
            inherit: true,
            create_role: true,
            create_db: true,
            can_login: true,
            replication: true,
            bypass_rls: true,
            connection_limit: -1,
            valid_until: None,
            has_password: false,
            member_of: Vec::new(),
            settings: Vec::new(),
        }];
    }
    catalog
        .roles
        .values()
        .map(|r| RoleView {
            oid: r.oid,
            name: r.name.clone(),
            superuser: attribute(&r.attributes, "SUPERUSER"),
            inherit: attribute_value(&r.attributes, "INHERIT")
                .is_none_or(|v| v.eq_ignore_ascii_case("true")),
            create_role: attribute(&r.attributes, "CREATEROLE"),
            create_db: attribute(&r.attributes, "CREATEDB"),
            can_login: attribute(&r.attributes, "LOGIN"),
            replication: attribute(&r.attributes, "REPLICATION"),
            bypass_rls: attribute(&r.attributes, "BYPASSRLS"),
            connection_limit: attribute_value(&r.attributes, "CONNECTION LIMIT")
                .and_then(|v| v.parse().ok())
                .unwrap_or(-1),
            valid_until: attribute_value(&r.attributes, "VALID UNTIL").map(str::to_string),
            has_password: r.password_verifier.is_some(),
            member_of: r.member_of.clone(),
            settings: r.settings.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        })
        .collect()
}

/// The role with `oid`. Objects created before the first role belong to OID 10, which
/// names the first superuser (or the session user when there are no roles).
pub fn role_by_oid(catalog: &Catalog, session_user: &str, oid: Oid) -> Option<RoleView> {
    let all = roles(catalog, session_user);
    if let Some(role) = all.iter().find(|r| r.oid == oid) {
        return Some(role.clone());
    }
    if oid == BOOTSTRAP_SUPERUSER_OID {
        return all.into_iter().find(|r| r.superuser);
    }
    if oid == PG_DATABASE_OWNER_OID {
        return Some(RoleView {
            oid,
            name: PG_DATABASE_OWNER.to_string(),
            superuser: false,
            inherit: true,
            create_role: false,
            create_db: false,
            can_login: false,
            replication: false,
            bypass_rls: false,
            connection_limit: -1,
            valid_until: None,
            has_password: false,
            member_of: Vec::new(),
            settings: Vec::new(),
        });
    }
    None
}

/// PostgreSQL's predefined role that stands for the owner of the current database; it owns
/// the `public` schema (PostgreSQL 15+).
pub const PG_DATABASE_OWNER_OID: Oid = 6171;
pub const PG_DATABASE_OWNER: &str = "pg_database_owner";

/// The owner `pg_namespace` shows for a schema: `pg_database_owner` for `public` while the
/// bootstrap superuser (its owner from creation) still owns it.
pub fn shown_schema_owner(
    catalog: &Catalog,
    session_user: &str,
    schema: &storage::catalog::SchemaDef,
) -> Oid {
    let bootstrap = schema.owner == BOOTSTRAP_SUPERUSER_OID
        || schema.owner == bootstrap_owner(catalog, session_user);
    if schema.name == "public" && bootstrap {
        PG_DATABASE_OWNER_OID
    } else {
        schema.owner
    }
}

/// `regrole` output / `pg_get_userbyid` for a known role (see [`role_by_oid`]).
pub fn role_name(catalog: &Catalog, oid: Oid) -> Option<String> {
    if let Some(role) = catalog.roles.get(&oid) {
        return Some(role.name.clone());
    }
    if oid == PG_DATABASE_OWNER_OID {
        return Some(PG_DATABASE_OWNER.to_string());
    }
    if oid == BOOTSTRAP_SUPERUSER_OID {
        return catalog
            .roles
            .values()
            .find(|r| attribute(&r.attributes, "SUPERUSER"))
            .map(|r| r.name.clone());
    }
    None
}

/// The OID of role `name` (`regrole` input); the session user when the catalog has no roles.
pub fn role_oid(catalog: &Catalog, session_user: &str, name: &str) -> Option<Oid> {
    roles(catalog, session_user)
        .into_iter()
        .find(|r| r.name == name)
        .map(|r| r.oid)
}

/// The OID `pg_database.datdba` and system objects report as owner: the first superuser.
pub fn bootstrap_owner(catalog: &Catalog, session_user: &str) -> Oid {
    roles(catalog, session_user)
        .into_iter()
        .find(|r| r.superuser)
        .map_or(BOOTSTRAP_SUPERUSER_OID, |r| r.oid)
}

/// Any relation `pg_class` lists.
#[derive(Clone, Copy)]
pub enum Relation<'a> {
    Table(&'a TableDef),
    View(&'a ViewDef),
    Sequence(&'a SequenceDef),
    Index(&'a IndexDef),
    System(&'static SystemTable),
}

impl Relation<'_> {
    pub fn oid(&self) -> Oid {
        match self {
            Relation::Table(t) => t.oid,
            Relation::View(v) => v.oid,
            Relation::Sequence(s) => s.oid,
            Relation::Index(i) => i.oid,
            Relation::System(s) => s.oid,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Relation::Table(t) => &t.name,
            Relation::View(v) => &v.name,
            Relation::Sequence(s) => &s.name,
            Relation::Index(i) => &i.name,
            Relation::System(s) => s.name,
        }
    }

    /// The shown namespace OID.
    pub fn namespace(&self, catalog: &Catalog) -> Oid {
        let schema = match self {
            Relation::Table(t) => t.schema,
            Relation::View(v) => v.schema,
            Relation::Sequence(s) => s.schema,
            Relation::Index(i) => i.schema,
            Relation::System(s) => return super::system_namespace(s),
        };
        exposed_namespace_oid(catalog, schema)
    }

    /// `pg_class.relkind`.
    pub fn kind(&self) -> char {
        match self {
            Relation::Table(_) => 'r',
            Relation::View(_) => 'v',
            Relation::Sequence(_) => 'S',
            Relation::Index(_) => 'i',
            Relation::System(s) => super::system_relkind(s),
        }
    }
}

/// Every relation: system tables first, then the catalog's tables, views, sequences and
/// indexes.
pub fn relations(catalog: &Catalog) -> impl Iterator<Item = Relation<'_>> {
    super::system_tables()
        .iter()
        .map(Relation::System)
        .chain(catalog.tables.values().map(Relation::Table))
        .chain(catalog.views.values().map(Relation::View))
        .chain(catalog.sequences.values().map(Relation::Sequence))
        .chain(catalog.indexes.values().map(Relation::Index))
}

/// The relation with `oid`.
pub fn relation_by_oid(catalog: &Catalog, oid: Oid) -> Option<Relation<'_>> {
    if oid < storage::catalog::FIRST_USER_OID {
        return super::find_by_oid(oid).map(Relation::System);
    }
    if let Some(t) = catalog.tables.get(&oid) {
        return Some(Relation::Table(t));
    }
    if let Some(v) = catalog.views.get(&oid) {
        return Some(Relation::View(v));
    }
    if let Some(s) = catalog.sequences.get(&oid) {
        return Some(Relation::Sequence(s));
    }
    catalog.indexes.get(&oid).map(Relation::Index)
}

fn relation_in(catalog: &Catalog, namespace: Oid, name: &str) -> Option<Oid> {
    if namespace == PG_CATALOG_NAMESPACE || namespace == INFORMATION_SCHEMA_NAMESPACE {
        let schema = if namespace == PG_CATALOG_NAMESPACE {
            "pg_catalog"
        } else {
            "information_schema"
        };
        return super::find(schema, name).map(|t| t.oid);
    }
    let schema = catalog_namespace_oid(catalog, namespace);
    if let Some(t) = catalog.table_by_name(schema, name) {
        return Some(t.oid);
    }
    catalog
        .views
        .values()
        .find(|v| v.schema == schema && v.name == name)
        .map(|v| v.oid)
        .or_else(|| {
            catalog
                .sequences
                .values()
                .find(|s| s.schema == schema && s.name == name)
                .map(|s| s.oid)
        })
        .or_else(|| {
            catalog
                .indexes
                .values()
                .find(|i| i.schema == schema && i.name == name)
                .map(|i| i.oid)
        })
}

/// The OID of relation `name` (table, view, sequence, index or system table) in `schema`,
/// or the first found along the search path (`regclass` input).
pub fn relation_oid(
    catalog: &Catalog,
    schema: Option<&str>,
    name: &str,
    search_path: &[String],
) -> Option<u32> {
    match schema {
        Some(schema) => relation_in(catalog, namespace_oid(catalog, schema)?, name),
        None => effective_path(catalog, search_path)
            .into_iter()
            .find_map(|ns| relation_in(catalog, ns, name)),
    }
}

/// Whether the relation is the one its bare name finds on the search path.
pub fn relation_is_visible(catalog: &Catalog, oid: Oid, search_path: &[String]) -> bool {
    relation_by_oid(catalog, oid)
        .is_some_and(|rel| relation_oid(catalog, None, rel.name(), search_path) == Some(oid))
}

/// `regclass` output on the default search path: the name, qualified only when the bare
/// name would not find this relation.
pub fn relation_name(catalog: &Catalog, oid: u32) -> Option<String> {
    relation_name_on_path(catalog, oid, &default_search_path())
}

/// `regclass` output on a given search path.
pub fn relation_name_on_path(
    catalog: &Catalog,
    oid: u32,
    search_path: &[String],
) -> Option<String> {
    let rel = relation_by_oid(catalog, oid)?;
    if relation_is_visible(catalog, oid, search_path) {
        Some(quote_qualified(None, rel.name()))
    } else {
        let schema = namespace_name(catalog, rel.namespace(catalog))?;
        Some(quote_qualified(Some(&schema), rel.name()))
    }
}

/// The relation's name qualified with its schema, always (`pg_get_indexdef`'s `ON` clause).
pub fn qualified_relation_name(catalog: &Catalog, oid: Oid) -> Option<String> {
    let rel = relation_by_oid(catalog, oid)?;
    let schema = namespace_name(catalog, rel.namespace(catalog))?;
    Some(quote_qualified(Some(&schema), rel.name()))
}

/// Whether a type in namespace `namespace` is visible (built-in types live in `pg_catalog`
/// or, for `vector`, in `public`).
pub fn namespace_is_on_path(catalog: &Catalog, namespace: Oid, search_path: &[String]) -> bool {
    effective_path(catalog, search_path).contains(&namespace)
}

/// Whether `public` exists and is on the path (for `vector`).
pub fn public_is_on_path(catalog: &Catalog, search_path: &[String]) -> bool {
    namespace_is_on_path(catalog, public_namespace_oid(catalog), search_path)
}
