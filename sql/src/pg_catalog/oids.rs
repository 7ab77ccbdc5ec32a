//! The OIDs of everything `pg_catalog` shows that is not an object of the custos catalog, and
//! the rules that turn catalog OIDs into the OIDs clients see.
//!
//! OID space (user objects start at [`storage::catalog::FIRST_USER_OID`] = 16384 and are
//! shown as they are):
//!
//! | range          | what                                                              |
//! |----------------|-------------------------------------------------------------------|
//! | < 8100         | PostgreSQL's own fixed OIDs: types, catalogs, namespaces, AMs...  |
//! | 8100–8101      | `vector`, `_vector` ([`crate::pgtype::oid::VECTOR`])              |
//! | 8110–8119      | access methods PostgreSQL does not have (`ivfflat`, `hnsw`)       |
//! | 8120–8199      | extensions, by position in the catalog's list                     |
//! | 8200–8399      | operator classes and families (custos-assigned)                   |
//! | 9000–9999      | type support functions (`int4in`, `array_out`...)                 |
//! | 10000–11999    | built-in functions and operators, in registry order (first part)  |
//! | 12000–12999    | `pg_catalog` views and `information_schema` views                 |
//! | 13000          | the `information_schema` namespace                                |
//! | 14000–16383    | built-in functions and operators (continued)                      |
//! | ≥ 2^31         | derived rows without a catalog OID (`pg_attrdef`, `pg_rewrite`,   |
//! |                | `pg_auth_members`), packed from their owner's OID                 |
//!
//! Namespace OIDs go through [`exposed_namespace_oid`] (catalog → shown) and
//! [`catalog_namespace_oid`] (shown → catalog) everywhere. They are the identity today: the
//! `public` schema shows the OID the catalog gave it, not PostgreSQL's 2200, because the
//! engine's `regnamespace` input reads catalog OIDs directly. Turning on
//! [`SHOW_PUBLIC_AS_2200`] switches every table and helper here at once (the engine's
//! `regnamespace` input would then have to call [`super::namespace_oid`]). The built-in rows
//! that live in `public` (`vector`, pgvector's operator classes) use [`public_namespace_oid`].

use storage::catalog::{Catalog, Oid};

use super::{INFORMATION_SCHEMA_NAMESPACE, PG_CATALOG_NAMESPACE, PUBLIC_NAMESPACE_NAME};

/// PostgreSQL's OID of the `public` schema.
pub const PUBLIC_NAMESPACE: Oid = 2200;

/// Catalog relation OIDs PostgreSQL fixes (used as `classoid` in `pg_description` & co.).
pub mod rel {
    pub const PG_TYPE: u32 = 1247;
    pub const PG_ATTRIBUTE: u32 = 1249;
    pub const PG_PROC: u32 = 1255;
    pub const PG_CLASS: u32 = 1259;
    pub const PG_AUTHID: u32 = 1260;
    pub const PG_AUTH_MEMBERS: u32 = 1261;
    pub const PG_DATABASE: u32 = 1262;
    pub const PG_TABLESPACE: u32 = 1213;
    pub const PG_FOREIGN_SERVER: u32 = 1417;
    pub const PG_AM: u32 = 2601;
    pub const PG_ATTRDEF: u32 = 2604;
    pub const PG_CAST: u32 = 2605;
    pub const PG_CONSTRAINT: u32 = 2606;
    pub const PG_DEPEND: u32 = 2608;
    pub const PG_DESCRIPTION: u32 = 2609;
    pub const PG_INDEX: u32 = 2610;
    pub const PG_INHERITS: u32 = 2611;
    pub const PG_LANGUAGE: u32 = 2612;
    pub const PG_NAMESPACE: u32 = 2615;
    pub const PG_OPCLASS: u32 = 2616;
    pub const PG_OPERATOR: u32 = 2617;
    pub const PG_REWRITE: u32 = 2618;
    pub const PG_TRIGGER: u32 = 2620;
    pub const PG_OPFAMILY: u32 = 2753;
    pub const PG_SHDESCRIPTION: u32 = 2396;
    pub const PG_SEQUENCE: u32 = 2224;
    pub const PG_DB_ROLE_SETTING: u32 = 2964;
    pub const PG_EXTENSION: u32 = 3079;
    pub const PG_FOREIGN_TABLE: u32 = 3118;
    pub const PG_POLICY: u32 = 3256;
    pub const PG_PARTITIONED_TABLE: u32 = 3350;
    pub const PG_STATISTIC_EXT: u32 = 3381;
    pub const PG_COLLATION: u32 = 3456;
    pub const PG_EVENT_TRIGGER: u32 = 3466;
    pub const PG_ENUM: u32 = 3501;
    pub const PG_RANGE: u32 = 3541;
    pub const PG_SECLABEL: u32 = 3596;
    pub const PG_PUBLICATION: u32 = 6104;
    pub const PG_PUBLICATION_REL: u32 = 6106;
    pub const PG_PUBLICATION_NAMESPACE: u32 = 6237;
    /// First OID of the views (`pg_roles`, `information_schema.tables`...), numbered in the
    /// order [`super::super::system_tables`] lists them.
    pub const FIRST_VIEW: u32 = 12_000;
    pub const LAST_VIEW: u32 = 12_999;
}

/// Access methods.
pub mod am {
    pub const HEAP: u32 = 2;
    pub const BTREE: u32 = 403;
    pub const HASH: u32 = 405;
    pub const GIST: u32 = 783;
    pub const GIN: u32 = 2742;
    pub const SPGIST: u32 = 4000;
    pub const BRIN: u32 = 3580;
    pub const IVFFLAT: u32 = 8110;
    pub const HNSW: u32 = 8111;
}

/// Collations.
pub mod collation {
    pub const DEFAULT: u32 = 100;
    pub const C: u32 = 950;
    pub const POSIX: u32 = 951;
}

/// Procedural languages.
pub mod language {
    pub const INTERNAL: u32 = 12;
    pub const C: u32 = 13;
    pub const SQL: u32 = 14;
    pub const PLPGSQL: u32 = 13_588;
}

/// Tablespaces.
pub mod tablespace {
    pub const DEFAULT: u32 = 1663;
    pub const GLOBAL: u32 = 1664;
}

/// First OID of the extensions (`pg_extension`), by position in the catalog's map.
pub const FIRST_EXTENSION: u32 = 8120;
/// First OID of the operator classes; operator families follow at [`FIRST_OPFAMILY`].
pub const FIRST_OPCLASS: u32 = 8200;
pub const FIRST_OPFAMILY: u32 = 8300;
/// First OID of the type support functions.
pub const FIRST_TYPE_SUPPORT_PROC: u32 = 9000;
/// The OID of the `index`-th built-in function or operator of the registry (in name order),
/// skipping the view and `information_schema` range; `None` past the space.
pub fn builtin_proc_oid(index: usize) -> Option<u32> {
    let index = u32::try_from(index).ok()?;
    let oid = 10_000u32.checked_add(index)?;
    let oid = if oid >= rel::FIRST_VIEW {
        oid + 2_000
    } else {
        oid
    };
    (oid < storage::catalog::FIRST_USER_OID).then_some(oid)
}

/// Derived OIDs: rows that have no OID of their own in the custos catalog get one packed
/// from their owner's OID (19 bits) and a sub-number (12 bits) above 2^31. Unique while
/// catalog OIDs stay below 16384 + 2^19, which takes half a million DDL objects.
pub fn derived_oid(owner: Oid, sub: u32) -> Oid {
    debug_assert!(sub < (1 << 12));
    0x8000_0000 | ((owner & 0x7_FFFF) << 12) | (sub & 0xFFF)
}

/// The OID a `pg_attrdef` row shows for the default of column `attnum` of `table`.
pub fn attrdef_oid(table: Oid, attnum: u16) -> Oid {
    derived_oid(table, u32::from(attnum))
}

/// The OID of the `_RETURN` rule of a view in `pg_rewrite`.
pub fn rewrite_oid(view: Oid) -> Oid {
    derived_oid(view, 0)
}

/// Whether `public` is shown as PostgreSQL's 2200 rather than its catalog OID.
pub const SHOW_PUBLIC_AS_2200: bool = false;

/// The namespace OID clients see for a catalog schema.
pub fn exposed_namespace_oid(catalog: &Catalog, schema: Oid) -> Oid {
    match catalog.schemas.get(&schema) {
        Some(s) if SHOW_PUBLIC_AS_2200 && s.name == PUBLIC_NAMESPACE_NAME => PUBLIC_NAMESPACE,
        _ => schema,
    }
}

/// The catalog OID of the schema a client names by a shown namespace OID; system
/// namespaces (11, 99, 13000) map to themselves.
pub fn catalog_namespace_oid(catalog: &Catalog, shown: Oid) -> Oid {
    if SHOW_PUBLIC_AS_2200 && shown == PUBLIC_NAMESPACE {
        if let Some(public) = catalog.schema_by_name(PUBLIC_NAMESPACE_NAME) {
            return public.oid;
        }
    }
    shown
}

/// The shown OID of `public` (2200 when the catalog has no `public` schema): the namespace
/// of the built-in rows pgvector puts there.
pub fn public_namespace_oid(catalog: &Catalog) -> Oid {
    catalog
        .schema_by_name(PUBLIC_NAMESPACE_NAME)
        .map_or(PUBLIC_NAMESPACE, |s| exposed_namespace_oid(catalog, s.oid))
}

/// A built-in row's namespace as shown: [`PUBLIC_NAMESPACE`] stands for `public`.
pub fn builtin_namespace(catalog: &Catalog, namespace: Oid) -> Oid {
    if namespace == PUBLIC_NAMESPACE {
        public_namespace_oid(catalog)
    } else {
        namespace
    }
}

/// Whether a shown namespace OID is one of the namespaces custos always has.
pub fn is_system_namespace(oid: Oid) -> bool {
    oid == PG_CATALOG_NAMESPACE
        || oid == INFORMATION_SCHEMA_NAMESPACE
        || oid == super::PG_TOAST_NAMESPACE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_proc_oids_skip_the_view_range_and_stop_before_user_oids() {
        assert_eq!(builtin_proc_oid(0), Some(10_000));
        assert_eq!(builtin_proc_oid(1_999), Some(11_999));
        assert_eq!(builtin_proc_oid(2_000), Some(14_000));
        assert_eq!(builtin_proc_oid(4_383), Some(16_383));
        assert_eq!(builtin_proc_oid(4_384), None);
    }

    #[test]
    fn namespace_mapping_round_trips() {
        let mut catalog = Catalog::default();
        assert_eq!(public_namespace_oid(&catalog), PUBLIC_NAMESPACE);
        let public = catalog.ensure_schema("public", 10);
        let other = catalog.ensure_schema("sales", 10);
        for schema in [public, other] {
            let shown = exposed_namespace_oid(&catalog, schema);
            assert_eq!(catalog_namespace_oid(&catalog, shown), schema);
        }
        assert_eq!(
            public_namespace_oid(&catalog),
            exposed_namespace_oid(&catalog, public)
        );
        assert_eq!(
            builtin_namespace(&catalog, PUBLIC_NAMESPACE),
            public_namespace_oid(&catalog)
        );
        assert_eq!(builtin_namespace(&catalog, 11), 11);
        assert_eq!(catalog_namespace_oid(&catalog, 11), 11);
    }

    #[test]
    fn derived_oids_do_not_collide_for_distinct_columns() {
        assert_ne!(attrdef_oid(16_384, 1), attrdef_oid(16_384, 2));
        assert_ne!(attrdef_oid(16_384, 1), attrdef_oid(16_385, 1));
        assert!(attrdef_oid(16_384, 1) >= 0x8000_0000);
    }
}
