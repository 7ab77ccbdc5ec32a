//! The built-in types as `pg_type` lists them, and the type names clients read back:
//! `format_type`, `regtype` output and input.
//!
//! The list holds every type custos can store or show (PostgreSQL 16's values for length,
//! alignment, category, I/O functions, collation), the catalog-only and pseudo-types its
//! catalog and function signatures use, and an array type for each type PostgreSQL has one
//! for. `vector` and `_vector` are always present, in the `public` namespace, where
//! pgvector puts them and where asyncpg, pgjdbc and pgvector-python look them up, whether or
//! not `CREATE EXTENSION vector` ran: custos supports the type natively.
//! Table row types are not listed (`pg_class.reltype` is 0).

use std::sync::OnceLock;

use super::ident::{parse_qualified_name, quote_identifier};
use super::oids::{collation, PUBLIC_NAMESPACE};
use super::PG_CATALOG_NAMESPACE;
use crate::pgtype::oid;

/// One row of `pg_type`.
#[derive(Debug, Clone)]
pub struct TypeInfo {
    pub oid: u32,
    pub name: String,
    pub namespace: u32,
    pub len: i16,
    pub byval: bool,
    /// `typtype`: 'b' base, 'p' pseudo.
    pub kind: char,
    pub category: char,
    pub preferred: bool,
    pub elem: u32,
    pub array: u32,
    pub input: String,
    pub output: String,
    /// Empty when the type has no binary I/O.
    pub receive: String,
    pub send: String,
    pub modin: &'static str,
    pub modout: &'static str,
    pub analyze: &'static str,
    pub subscript: &'static str,
    pub align: char,
    pub storage: char,
    pub collation: u32,
}

/// The compact description of a base type the table is written in. `base` takes the
/// alignment and storage letters as one two-letter layout (`"ix"`: int-aligned, extended).
struct Base {
    oid: u32,
    name: &'static str,
    len: i16,
    kind: char,
    category: char,
    preferred: bool,
    elem: u32,
    array: u32,
    /// I/O function stem: `int4` gives `int4in`..., `date_` gives `date_in`...
    io: &'static str,
    binary_io: bool,
    modin: &'static str,
    modout: &'static str,
    subscript: &'static str,
    align: char,
    storage: char,
    collation: u32,
    namespace: u32,
}

const fn base(
    oid: u32,
    name: &'static str,
    len: i16,
    category: char,
    array: u32,
    io: &'static str,
    layout: &'static str,
) -> Base {
    let layout = layout.as_bytes();
    Base {
        oid,
        name,
        len,
        kind: 'b',
        category,
        preferred: false,
        elem: 0,
        array,
        io,
        binary_io: true,
        modin: "",
        modout: "",
        subscript: "",
        align: layout[0] as char,
        storage: layout[1] as char,
        collation: 0,
        namespace: PG_CATALOG_NAMESPACE,
    }
}

const fn pseudo(oid: u32, name: &'static str, len: i16, io: &'static str, binary: bool) -> Base {
    Base {
        kind: 'p',
        binary_io: binary,
        ..base(oid, name, len, 'P', 0, io, "ip")
    }
}

const BASE_TYPES: &[Base] = &[
    Base {
        preferred: true,
        ..base(oid::BOOL, "bool", 1, 'B', 1000, "bool", "cp")
    },
    base(oid::BYTEA, "bytea", -1, 'U', 1001, "bytea", "ix"),
    base(oid::CHAR, "char", 1, 'Z', 1002, "char", "cp"),
    Base {
        elem: oid::CHAR,
        subscript: "raw_array_subscript_handler",
        collation: collation::C,
        ..base(oid::NAME, "name", 64, 'S', 1003, "name", "cp")
    },
    base(oid::INT8, "int8", 8, 'N', 1016, "int8", "dp"),
    base(oid::INT2, "int2", 2, 'N', 1005, "int2", "sp"),
    Base {
        elem: oid::INT2,
        subscript: "array_subscript_handler",
        ..base(
            oid::INT2VECTOR,
            "int2vector",
            -1,
            'A',
            1006,
            "int2vector",
            "ip",
        )
    },
    base(oid::INT4, "int4", 4, 'N', 1007, "int4", "ip"),
    base(oid::REGPROC, "regproc", 4, 'N', 1008, "regproc", "ip"),
    Base {
        preferred: true,
        collation: collation::DEFAULT,
        ..base(oid::TEXT, "text", -1, 'S', 1009, "text", "ix")
    },
    Base {
        preferred: true,
        ..base(oid::OID, "oid", 4, 'N', 1028, "oid", "ip")
    },
    base(27, "tid", 6, 'U', 1010, "tid", "sp"),
    base(28, "xid", 4, 'U', 1011, "xid", "ip"),
    base(29, "cid", 4, 'U', 1012, "cid", "ip"),
    Base {
        elem: oid::OID,
        subscript: "array_subscript_handler",
        ..base(
            oid::OIDVECTOR,
            "oidvector",
            -1,
            'A',
            1013,
            "oidvector",
            "ip",
        )
    },
    base(oid::JSON, "json", -1, 'U', 199, "json_", "ix"),
    Base {
        collation: collation::DEFAULT,
        ..base(
            oid::PG_NODE_TREE,
            "pg_node_tree",
            -1,
            'Z',
            0,
            "pg_node_tree_",
            "ix",
        )
    },
    base(oid::FLOAT4, "float4", 4, 'N', 1021, "float4", "ip"),
    Base {
        preferred: true,
        ..base(oid::FLOAT8, "float8", 8, 'N', 1022, "float8", "dp")
    },
    Base {
        kind: 'p',
        ..base(oid::UNKNOWN, "unknown", -2, 'X', 0, "unknown", "cp")
    },
    Base {
        binary_io: false,
        ..base(oid::ACLITEM, "aclitem", 16, 'U', 1034, "aclitem", "dp")
    },
    Base {
        modin: "bpchartypmodin",
        modout: "bpchartypmodout",
        collation: collation::DEFAULT,
        ..base(oid::BPCHAR, "bpchar", -1, 'S', 1014, "bpchar", "ix")
    },
    Base {
        modin: "varchartypmodin",
        modout: "varchartypmodout",
        collation: collation::DEFAULT,
        ..base(oid::VARCHAR, "varchar", -1, 'S', 1015, "varchar", "ix")
    },
    // `bit` and `varbit` are listed (pgvector-python's `register_vector` looks `bit` up and
    // insists on finding it) though custos cannot store them yet.
    Base {
        modin: "bittypmodin",
        modout: "bittypmodout",
        ..base(1560, "bit", -1, 'V', 1561, "bit_", "ix")
    },
    Base {
        preferred: true,
        modin: "varbittypmodin",
        modout: "varbittypmodout",
        ..base(1562, "varbit", -1, 'V', 1563, "varbit_", "ix")
    },
    base(oid::DATE, "date", 4, 'D', 1182, "date_", "ip"),
    Base {
        modin: "timetypmodin",
        modout: "timetypmodout",
        ..base(oid::TIME, "time", 8, 'D', 1183, "time_", "dp")
    },
    Base {
        modin: "timestamptypmodin",
        modout: "timestamptypmodout",
        ..base(
            oid::TIMESTAMP,
            "timestamp",
            8,
            'D',
            1115,
            "timestamp_",
            "dp",
        )
    },
    Base {
        preferred: true,
        modin: "timestamptztypmodin",
        modout: "timestamptztypmodout",
        ..base(
            oid::TIMESTAMPTZ,
            "timestamptz",
            8,
            'D',
            1185,
            "timestamptz_",
            "dp",
        )
    },
    Base {
        preferred: true,
        modin: "intervaltypmodin",
        modout: "intervaltypmodout",
        ..base(oid::INTERVAL, "interval", 16, 'T', 1187, "interval_", "dp")
    },
    Base {
        modin: "numerictypmodin",
        modout: "numerictypmodout",
        ..base(oid::NUMERIC, "numeric", -1, 'N', 1231, "numeric_", "im")
    },
    base(
        oid::REGPROCEDURE,
        "regprocedure",
        4,
        'N',
        2207,
        "regprocedure",
        "ip",
    ),
    base(oid::REGOPER, "regoper", 4, 'N', 2208, "regoper", "ip"),
    base(2204, "regoperator", 4, 'N', 2209, "regoperator", "ip"),
    base(oid::REGCLASS, "regclass", 4, 'N', 2210, "regclass", "ip"),
    base(oid::REGTYPE, "regtype", 4, 'N', 2211, "regtype", "ip"),
    Base {
        array: 2287,
        align: 'd',
        storage: 'x',
        ..pseudo(oid::RECORD, "record", -1, "record_", true)
    },
    Base {
        array: 1263,
        align: 'c',
        ..pseudo(oid::CSTRING, "cstring", -2, "cstring_", true)
    },
    pseudo(oid::ANY, "any", 4, "any_", false),
    Base {
        align: 'd',
        storage: 'x',
        ..pseudo(oid::ANYARRAY, "anyarray", -1, "anyarray_", true)
    },
    pseudo(oid::VOID, "void", 4, "void_", true),
    pseudo(oid::TRIGGER, "trigger", 4, "trigger_", false),
    pseudo(2280, "language_handler", 4, "language_handler_", false),
    Base {
        align: 'd',
        ..pseudo(2281, "internal", 8, "internal_", false)
    },
    pseudo(oid::ANYELEMENT, "anyelement", 4, "anyelement_", false),
    pseudo(2776, "anynonarray", 4, "anynonarray_", false),
    base(oid::UUID, "uuid", 16, 'U', 2951, "uuid_", "cp"),
    Base {
        subscript: "jsonb_subscript_handler",
        ..base(oid::JSONB, "jsonb", -1, 'U', 3807, "jsonb_", "ix")
    },
    pseudo(3838, "event_trigger", 4, "event_trigger_", false),
    base(
        oid::REGNAMESPACE,
        "regnamespace",
        4,
        'N',
        4090,
        "regnamespace",
        "ip",
    ),
    base(oid::REGROLE, "regrole", 4, 'N', 4097, "regrole", "ip"),
    Base {
        modin: "vector_typmod_in",
        namespace: PUBLIC_NAMESPACE,
        ..base(
            oid::VECTOR,
            "vector",
            -1,
            'U',
            oid::VECTOR_ARRAY,
            "vector_",
            "ie",
        )
    },
];

fn io_name(stem: &str, suffix: &str) -> String {
    format!("{stem}{suffix}")
}

fn base_info(b: &Base) -> TypeInfo {
    TypeInfo {
        oid: b.oid,
        name: b.name.to_string(),
        namespace: b.namespace,
        len: b.len,
        byval: matches!(b.len, 1 | 2 | 4 | 8),
        kind: b.kind,
        category: b.category,
        preferred: b.preferred,
        elem: b.elem,
        array: b.array,
        input: io_name(b.io, "in"),
        output: io_name(b.io, "out"),
        receive: if b.binary_io {
            io_name(b.io, "recv")
        } else {
            String::new()
        },
        send: if b.binary_io {
            io_name(b.io, "send")
        } else {
            String::new()
        },
        modin: b.modin,
        modout: b.modout,
        analyze: "",
        subscript: b.subscript,
        align: b.align,
        storage: b.storage,
        collation: b.collation,
    }
}

fn array_info(b: &Base) -> TypeInfo {
    let pseudo = b.kind == 'p';
    TypeInfo {
        oid: b.array,
        name: format!("_{}", b.name),
        namespace: b.namespace,
        len: -1,
        byval: false,
        kind: if pseudo { 'p' } else { 'b' },
        category: if pseudo { 'P' } else { 'A' },
        preferred: false,
        elem: b.oid,
        array: 0,
        input: "array_in".into(),
        output: "array_out".into(),
        receive: "array_recv".into(),
        send: "array_send".into(),
        modin: b.modin,
        modout: b.modout,
        analyze: "array_typanalyze",
        subscript: "array_subscript_handler",
        align: if b.align == 'd' { 'd' } else { 'i' },
        storage: 'x',
        collation: b.collation,
    }
}

/// Every type `pg_type` lists, base types first and then their arrays.
pub fn builtin_types() -> &'static [TypeInfo] {
    static TYPES: OnceLock<Vec<TypeInfo>> = OnceLock::new();
    TYPES.get_or_init(|| {
        let mut types: Vec<TypeInfo> = BASE_TYPES.iter().map(base_info).collect();
        types.extend(BASE_TYPES.iter().filter(|b| b.array != 0).map(array_info));
        types
    })
}

pub fn type_info(type_oid: u32) -> Option<&'static TypeInfo> {
    builtin_types().iter().find(|t| t.oid == type_oid)
}

/// The SQL-standard names `format_type` prints instead of the catalog name.
fn standard_name(type_oid: u32) -> Option<&'static str> {
    Some(match type_oid {
        oid::BOOL => "boolean",
        oid::INT2 => "smallint",
        oid::INT4 => "integer",
        oid::INT8 => "bigint",
        oid::FLOAT4 => "real",
        oid::FLOAT8 => "double precision",
        oid::VARCHAR => "character varying",
        oid::NUMERIC => "numeric",
        oid::INTERVAL => "interval",
        oid::CHAR => "\"char\"",
        1560 => "bit",
        1562 => "bit varying",
        // Not a keyword before PostgreSQL 16's SQL/JSON syntax: printed bare.
        oid::JSON => "json",
        _ => return None,
    })
}

/// `format_type(type_oid, typmod)`: `None` for an unknown OID. `typmod` is `None` when the
/// SQL call passes NULL (and for `regtype` output), which prints `bpchar` as `character`.
pub fn format_type(type_oid: u32, typmod: Option<i32>) -> Option<String> {
    let info = type_info(type_oid)?;
    if info.elem != 0 && info.storage != 'p' && info.category == 'A' {
        let element = format_type(info.elem, typmod)?;
        return Some(format!("{element}[]"));
    }
    let with_typmod = typmod.filter(|t| *t >= 0);
    let precision = |t: i32| format!("({})", t);
    let name = match type_oid {
        oid::BPCHAR => match (with_typmod, typmod) {
            (Some(t), _) => format!("character({})", t - 4),
            (None, Some(_)) => "bpchar".into(),
            (None, None) => "character".into(),
        },
        oid::VARCHAR => match with_typmod {
            Some(t) => format!("character varying({})", t - 4),
            None => "character varying".into(),
        },
        oid::NUMERIC => match with_typmod {
            Some(t) => {
                let t = t - 4;
                let scale = ((t & 0x7ff) ^ 1024) - 1024;
                format!("numeric({},{})", (t >> 16) & 0xffff, scale)
            }
            None => "numeric".into(),
        },
        oid::TIME | oid::TIMESTAMP | oid::TIMESTAMPTZ => {
            let stem = if type_oid == oid::TIME {
                "time"
            } else {
                "timestamp"
            };
            let zone = if type_oid == oid::TIMESTAMPTZ {
                "with"
            } else {
                "without"
            };
            let p = with_typmod.map(precision).unwrap_or_default();
            format!("{stem}{p} {zone} time zone")
        }
        _ => match standard_name(type_oid) {
            Some(name) => name.to_string(),
            None => {
                let name = quote_identifier(&info.name);
                match with_typmod {
                    Some(t) if !info.modin.is_empty() => format!("{name}({t})"),
                    _ => name,
                }
            }
        },
    };
    Some(name)
}

/// `regtype` output: the type's SQL name without modifier (`integer`, `character varying`).
pub fn type_name(type_oid: u32) -> Option<String> {
    format_type(type_oid, None)
}

/// `regtype` input / `to_regtype`: the OID of a type named as SQL writes it (`integer`,
/// `character varying(10)`, `pg_catalog.int4`, `text[]`, `"char"`, `public.vector`).
pub fn type_oid_by_name(text: &str) -> Option<u32> {
    let mut text = text.trim();
    let mut array_depth = 0;
    while let Some(rest) = text.strip_suffix("[]") {
        array_depth += 1;
        text = rest.trim_end();
    }
    // A modifier `(…)` is dropped (it may sit before `with/without time zone`).
    let stripped;
    if let (Some(open), Some(close)) = (text.find('('), text.rfind(')')) {
        if open < close {
            stripped = format!("{}{}", text[..open].trim_end(), &text[close + 1..]);
            text = &stripped;
        }
    }
    let mut oid = base_type_oid_by_name(text)?;
    for _ in 0..array_depth {
        oid = type_info(oid)?.array;
        if oid == 0 {
            return None;
        }
    }
    Some(oid)
}

fn base_type_oid_by_name(text: &str) -> Option<u32> {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| w.to_ascii_lowercase())
        .collect();
    let joined = words.join(" ");
    let sql_name = match joined.as_str() {
        "int" | "integer" => Some(oid::INT4),
        "smallint" => Some(oid::INT2),
        "bigint" => Some(oid::INT8),
        "real" => Some(oid::FLOAT4),
        "double precision" | "float" => Some(oid::FLOAT8),
        "boolean" => Some(oid::BOOL),
        "character varying" | "char varying" => Some(oid::VARCHAR),
        "character" | "char" => Some(oid::BPCHAR),
        "bit varying" => Some(1562),
        "decimal" | "dec" => Some(oid::NUMERIC),
        "time without time zone" => Some(oid::TIME),
        "timestamp without time zone" => Some(oid::TIMESTAMP),
        "timestamp with time zone" => Some(oid::TIMESTAMPTZ),
        _ => None,
    };
    if sql_name.is_some() {
        return sql_name;
    }
    let parts = parse_qualified_name(text)?;
    let (schema, name) = match parts.as_slice() {
        [name] => (None, name.as_str()),
        [schema, name] => (Some(schema.as_str()), name.as_str()),
        [_database, schema, name] => (Some(schema.as_str()), name.as_str()),
        _ => return None,
    };
    let info = builtin_types().iter().find(|t| t.name == name)?;
    match schema {
        None => Some(info.oid),
        Some("pg_catalog") if info.namespace == PG_CATALOG_NAMESPACE => Some(info.oid),
        Some("public") if info.namespace == PUBLIC_NAMESPACE => Some(info.oid),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_type_prints_sql_names_and_modifiers() {
        assert_eq!(format_type(oid::INT4, Some(-1)).as_deref(), Some("integer"));
        assert_eq!(
            format_type(oid::VARCHAR, Some(24)).as_deref(),
            Some("character varying(20)")
        );
        assert_eq!(
            format_type(1015, Some(24)).as_deref(),
            Some("character varying(20)[]")
        );
        assert_eq!(format_type(oid::BPCHAR, None).as_deref(), Some("character"));
        assert_eq!(
            format_type(oid::BPCHAR, Some(-1)).as_deref(),
            Some("bpchar")
        );
        assert_eq!(
            format_type(oid::NUMERIC, Some((10 << 16 | 2) + 4)).as_deref(),
            Some("numeric(10,2)")
        );
        assert_eq!(
            format_type(oid::TIMESTAMPTZ, Some(3)).as_deref(),
            Some("timestamp(3) with time zone")
        );
        assert_eq!(
            format_type(oid::VECTOR, Some(3)).as_deref(),
            Some("vector(3)")
        );
        assert_eq!(format_type(oid::CHAR, None).as_deref(), Some("\"char\""));
        assert_eq!(format_type(oid::ANY, None).as_deref(), Some("\"any\""));
        assert_eq!(
            format_type(oid::INT2VECTOR, None).as_deref(),
            Some("int2vector")
        );
        assert_eq!(format_type(1007, None).as_deref(), Some("integer[]"));
        assert_eq!(format_type(123_456, None), None);
    }

    #[test]
    fn regtype_input_accepts_sql_and_catalog_spellings() {
        assert_eq!(type_oid_by_name("integer"), Some(oid::INT4));
        assert_eq!(type_oid_by_name("pg_catalog.int4"), Some(oid::INT4));
        assert_eq!(type_oid_by_name("varchar(10)"), Some(oid::VARCHAR));
        assert_eq!(type_oid_by_name("text[]"), Some(1009));
        assert_eq!(type_oid_by_name("_int4"), Some(1007));
        assert_eq!(type_oid_by_name("\"char\""), Some(oid::CHAR));
        assert_eq!(type_oid_by_name("char"), Some(oid::BPCHAR));
        assert_eq!(type_oid_by_name("vector"), Some(oid::VECTOR));
        assert_eq!(type_oid_by_name("public.vector"), Some(oid::VECTOR));
        assert_eq!(type_oid_by_name("_vector"), Some(oid::VECTOR_ARRAY));
        assert_eq!(
            type_oid_by_name("timestamp(3) with time zone"),
            Some(oid::TIMESTAMPTZ)
        );
        assert_eq!(type_oid_by_name("hstore"), None);
        assert_eq!(type_oid_by_name("pg_catalog.vector"), None);
    }

    #[test]
    fn every_array_points_back_to_its_element() {
        for t in builtin_types()
            .iter()
            .filter(|t| t.category == 'A' && t.len == -1)
        {
            if t.storage == 'p' {
                continue;
            }
            let element = type_info(t.elem).expect("element listed");
            assert_eq!(element.array, t.oid, "{}", t.name);
        }
        let oids: std::collections::HashSet<u32> = builtin_types().iter().map(|t| t.oid).collect();
        assert_eq!(oids.len(), builtin_types().len(), "type OIDs are unique");
    }
}
