//! The types the SQL layer works with: every storage type plus the catalog-only types that
//! `pg_catalog` queries use (`name`, `oid`, `regclass`, `"char"`, ...) and the pseudo-types of
//! type resolution (`unknown` for untyped literals, `record`, `void`).
//!
//! Each type has PostgreSQL's OID, typmod and name, so the wire layer can describe columns and
//! parameters exactly as PostgreSQL 16 does. Values of the catalog-only types are held in the
//! storage [`Value`] variants that carry them: `name`, `"char"` and `unknown` as `Text`; `oid`
//! and the `reg*` types as `Int8`; `int2vector` / `oidvector` as one-dimensional arrays.

use storage::types::{DataType, Value};

/// OIDs of PostgreSQL's built-in types (`pg_type.dat`).
pub mod oid {
    pub const BOOL: u32 = 16;
    pub const BYTEA: u32 = 17;
    pub const CHAR: u32 = 18;
    pub const NAME: u32 = 19;
    pub const INT8: u32 = 20;
    pub const INT2: u32 = 21;
    pub const INT2VECTOR: u32 = 22;
    pub const INT4: u32 = 23;
    pub const REGPROC: u32 = 24;
    pub const TEXT: u32 = 25;
    pub const OID: u32 = 26;
    pub const OIDVECTOR: u32 = 30;
    pub const JSON: u32 = 114;
    pub const PG_NODE_TREE: u32 = 194;
    pub const FLOAT4: u32 = 700;
    pub const FLOAT8: u32 = 701;
    pub const UNKNOWN: u32 = 705;
    pub const ACLITEM: u32 = 1033;
    pub const BPCHAR: u32 = 1042;
    pub const VARCHAR: u32 = 1043;
    pub const DATE: u32 = 1082;
    pub const TIME: u32 = 1083;
    pub const TIMESTAMP: u32 = 1114;
    pub const TIMESTAMPTZ: u32 = 1184;
    pub const INTERVAL: u32 = 1186;
    pub const NUMERIC: u32 = 1700;
    pub const REGPROCEDURE: u32 = 2202;
    pub const REGOPER: u32 = 2203;
    pub const REGCLASS: u32 = 2205;
    pub const REGTYPE: u32 = 2206;
    pub const RECORD: u32 = 2249;
    pub const CSTRING: u32 = 2275;
    pub const ANY: u32 = 2276;
    pub const ANYARRAY: u32 = 2277;
    pub const VOID: u32 = 2278;
    pub const TRIGGER: u32 = 2279;
    pub const ANYELEMENT: u32 = 2283;
    pub const UUID: u32 = 2950;
    pub const JSONB: u32 = 3802;
    pub const REGNAMESPACE: u32 = 4089;
    pub const REGROLE: u32 = 4096;
    /// pgvector's `vector`. An extension type has no fixed OID in PostgreSQL; custos gives it
    /// one from the range PostgreSQL leaves unassigned for built-ins, and `pg_type` lists it,
    /// so clients that look the OID up by name find it.
    pub const VECTOR: u32 = 8100;
    pub const VECTOR_ARRAY: u32 = 8101;
}

/// A type as the SQL layer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SqlType {
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Numeric {
        precision: Option<u32>,
        scale: Option<i32>,
    },
    Text,
    Varchar(Option<u32>),
    /// `bpchar` / `char(n)`.
    Char(Option<u32>),
    Bytea,
    Date,
    Time,
    Timestamp,
    Timestamptz,
    Interval,
    Uuid,
    Json,
    Jsonb,
    Vector(Option<u32>),
    /// An array of the element type (PostgreSQL arrays of any dimension count).
    Array(Box<SqlType>),
    /// `name`: identifiers in the catalog (held as `Value::Text`).
    Name,
    /// `oid` (held as `Value::Int8`).
    Oid,
    RegClass,
    RegType,
    RegProc,
    RegProcedure,
    RegNamespace,
    RegRole,
    /// `"char"`: a single byte (held as `Value::Text`).
    InternalChar,
    Int2Vector,
    OidVector,
    /// `pg_node_tree` (held as `Value::Text`).
    PgNodeTree,
    /// `aclitem` (held as `Value::Text`).
    AclItem,
    /// The type of an untyped literal or parameter until context decides (held as `Value::Text`).
    Unknown,
    /// A row value.
    Record,
    /// A row value whose fields are known (a set-returning function's result used as a
    /// value): held as a `Value::Array` of the field values.
    Composite(Vec<(String, SqlType)>),
    Void,
    /// `anyelement` / `anyarray` / `any` in function signatures.
    AnyElement,
    AnyArray,
    Any,
}

impl SqlType {
    /// The SQL type of a storage column type.
    pub fn from_data_type(data_type: &DataType) -> SqlType {
        match data_type {
            DataType::Bool => SqlType::Bool,
            DataType::Int2 => SqlType::Int2,
            DataType::Int4 => SqlType::Int4,
            DataType::Int8 => SqlType::Int8,
            DataType::Float4 => SqlType::Float4,
            DataType::Float8 => SqlType::Float8,
            DataType::Numeric { precision, scale } => SqlType::Numeric {
                precision: *precision,
                scale: *scale,
            },
            DataType::Text => SqlType::Text,
            DataType::Varchar(n) => SqlType::Varchar(*n),
            DataType::Char(n) => SqlType::Char(*n),
            DataType::Bytea => SqlType::Bytea,
            DataType::Date => SqlType::Date,
            DataType::Time => SqlType::Time,
            DataType::Timestamp => SqlType::Timestamp,
            DataType::Timestamptz => SqlType::Timestamptz,
            DataType::Interval => SqlType::Interval,
            DataType::Uuid => SqlType::Uuid,
            DataType::Json => SqlType::Json,
            DataType::Jsonb => SqlType::Jsonb,
            DataType::Array(element) => SqlType::Array(Box::new(SqlType::from_data_type(element))),
            DataType::Vector(n) => SqlType::Vector(*n),
        }
    }

    /// The storage type that holds values of this type in a table column, if it can be one.
    pub fn to_data_type(&self) -> Option<DataType> {
        Some(match self {
            SqlType::Bool => DataType::Bool,
            SqlType::Int2 => DataType::Int2,
            SqlType::Int4 => DataType::Int4,
            SqlType::Int8 => DataType::Int8,
            SqlType::Float4 => DataType::Float4,
            SqlType::Float8 => DataType::Float8,
            SqlType::Numeric { precision, scale } => DataType::Numeric {
                precision: *precision,
                scale: *scale,
            },
            SqlType::Text => DataType::Text,
            SqlType::Varchar(n) => DataType::Varchar(*n),
            SqlType::Char(n) => DataType::Char(*n),
            SqlType::Bytea => DataType::Bytea,
            SqlType::Date => DataType::Date,
            SqlType::Time => DataType::Time,
            SqlType::Timestamp => DataType::Timestamp,
            SqlType::Timestamptz => DataType::Timestamptz,
            SqlType::Interval => DataType::Interval,
            SqlType::Uuid => DataType::Uuid,
            SqlType::Json => DataType::Json,
            SqlType::Jsonb => DataType::Jsonb,
            SqlType::Vector(n) => DataType::Vector(*n),
            SqlType::Array(element) => DataType::Array(Box::new(element.to_data_type()?)),
            _ => return None,
        })
    }

    /// The storage type whose text form this type shares (`name` reads and prints as `text`,
    /// `oid` as `bigint`...), for the text input and output functions.
    pub fn representation(&self) -> DataType {
        if let Some(t) = self.to_data_type() {
            return t;
        }
        match self {
            SqlType::Oid
            | SqlType::RegClass
            | SqlType::RegType
            | SqlType::RegProc
            | SqlType::RegProcedure
            | SqlType::RegNamespace
            | SqlType::RegRole => DataType::Int8,
            SqlType::Int2Vector => DataType::Array(Box::new(DataType::Int2)),
            SqlType::OidVector => DataType::Array(Box::new(DataType::Int8)),
            SqlType::Array(element) => DataType::Array(Box::new(element.representation())),
            _ => DataType::Text,
        }
    }

    /// PostgreSQL's type OID.
    pub fn oid(&self) -> u32 {
        match self {
            SqlType::Bool => oid::BOOL,
            SqlType::Int2 => oid::INT2,
            SqlType::Int4 => oid::INT4,
            SqlType::Int8 => oid::INT8,
            SqlType::Float4 => oid::FLOAT4,
            SqlType::Float8 => oid::FLOAT8,
            SqlType::Numeric { .. } => oid::NUMERIC,
            SqlType::Text => oid::TEXT,
            SqlType::Varchar(_) => oid::VARCHAR,
            SqlType::Char(_) => oid::BPCHAR,
            SqlType::Bytea => oid::BYTEA,
            SqlType::Date => oid::DATE,
            SqlType::Time => oid::TIME,
            SqlType::Timestamp => oid::TIMESTAMP,
            SqlType::Timestamptz => oid::TIMESTAMPTZ,
            SqlType::Interval => oid::INTERVAL,
            SqlType::Uuid => oid::UUID,
            SqlType::Json => oid::JSON,
            SqlType::Jsonb => oid::JSONB,
            SqlType::Vector(_) => oid::VECTOR,
            SqlType::Array(element) => element.array_oid(),
            SqlType::Name => oid::NAME,
            SqlType::Oid => oid::OID,
            SqlType::RegClass => oid::REGCLASS,
            SqlType::RegType => oid::REGTYPE,
            SqlType::RegProc => oid::REGPROC,
            SqlType::RegProcedure => oid::REGPROCEDURE,
            SqlType::RegNamespace => oid::REGNAMESPACE,
            SqlType::RegRole => oid::REGROLE,
            SqlType::InternalChar => oid::CHAR,
            SqlType::Int2Vector => oid::INT2VECTOR,
            SqlType::OidVector => oid::OIDVECTOR,
            SqlType::PgNodeTree => oid::PG_NODE_TREE,
            SqlType::AclItem => oid::ACLITEM,
            SqlType::Unknown => oid::UNKNOWN,
            SqlType::Record | SqlType::Composite(_) => oid::RECORD,
            SqlType::Void => oid::VOID,
            SqlType::AnyElement => oid::ANYELEMENT,
            SqlType::AnyArray => oid::ANYARRAY,
            SqlType::Any => oid::ANY,
        }
    }

    /// The OID of the array type whose elements are of this type (`_int4` for `int4`), 0 if
    /// PostgreSQL has none.
    pub fn array_oid(&self) -> u32 {
        match self {
            SqlType::Bool => 1000,
            SqlType::Bytea => 1001,
            SqlType::InternalChar => 1002,
            SqlType::Name => 1003,
            SqlType::Int2 => 1005,
            SqlType::Int2Vector => 1006,
            SqlType::Int4 => 1007,
            SqlType::RegProc => 1008,
            SqlType::Text => 1009,
            SqlType::Oid => 1028,
            SqlType::OidVector => 1013,
            SqlType::Char(_) => 1014,
            SqlType::Varchar(_) => 1015,
            SqlType::Int8 => 1016,
            SqlType::Float4 => 1021,
            SqlType::Float8 => 1022,
            SqlType::AclItem => 1034,
            SqlType::Date => 1182,
            SqlType::Time => 1183,
            SqlType::Timestamp => 1115,
            SqlType::Timestamptz => 1185,
            SqlType::Interval => 1187,
            SqlType::Numeric { .. } => 1231,
            SqlType::RegClass => 2210,
            SqlType::RegType => 2211,
            SqlType::RegProcedure => 2207,
            SqlType::Record | SqlType::Composite(_) => 2287,
            SqlType::Uuid => 2951,
            SqlType::Json => 199,
            SqlType::Jsonb => 3807,
            SqlType::RegNamespace => 4090,
            SqlType::RegRole => 4097,
            SqlType::Vector(_) => oid::VECTOR_ARRAY,
            SqlType::Array(element) => element.array_oid(),
            _ => 0,
        }
    }

    /// The type with this OID, for parameter types a client names in Parse.
    pub fn from_oid(type_oid: u32) -> Option<SqlType> {
        let scalar = [
            SqlType::Bool,
            SqlType::Int2,
            SqlType::Int4,
            SqlType::Int8,
            SqlType::Float4,
            SqlType::Float8,
            SqlType::Numeric {
                precision: None,
                scale: None,
            },
            SqlType::Text,
            SqlType::Varchar(None),
            SqlType::Char(None),
            SqlType::Bytea,
            SqlType::Date,
            SqlType::Time,
            SqlType::Timestamp,
            SqlType::Timestamptz,
            SqlType::Interval,
            SqlType::Uuid,
            SqlType::Json,
            SqlType::Jsonb,
            SqlType::Vector(None),
            SqlType::Name,
            SqlType::Oid,
            SqlType::RegClass,
            SqlType::RegType,
            SqlType::RegProc,
            SqlType::RegProcedure,
            SqlType::RegNamespace,
            SqlType::RegRole,
            SqlType::InternalChar,
            SqlType::Int2Vector,
            SqlType::OidVector,
            SqlType::Unknown,
            SqlType::Record,
            SqlType::Void,
        ];
        for t in scalar {
            if t.oid() == type_oid {
                return Some(t);
            }
            if t.array_oid() == type_oid && type_oid != 0 {
                return Some(SqlType::Array(Box::new(t)));
            }
        }
        None
    }

    /// The typmod PostgreSQL reports for the type (-1 when it has none).
    pub fn typmod(&self) -> i32 {
        match self {
            SqlType::Varchar(Some(n)) | SqlType::Char(Some(n)) => *n as i32 + 4,
            SqlType::Numeric {
                precision: Some(p),
                scale,
            } => (((*p as i32) << 16) | (scale.unwrap_or(0) & 0xffff)) + 4,
            SqlType::Vector(Some(n)) => *n as i32,
            SqlType::Array(element) => element.typmod(),
            _ => -1,
        }
    }

    /// The storage length PostgreSQL reports in RowDescription (`typlen`: -1 for varlena,
    /// -2 for C strings).
    pub fn typlen(&self) -> i16 {
        match self {
            SqlType::Bool | SqlType::InternalChar => 1,
            SqlType::Int2 => 2,
            SqlType::Int4
            | SqlType::Float4
            | SqlType::Date
            | SqlType::Oid
            | SqlType::RegClass
            | SqlType::RegType
            | SqlType::RegProc
            | SqlType::RegProcedure
            | SqlType::RegNamespace
            | SqlType::RegRole => 4,
            SqlType::Int8 | SqlType::Float8 | SqlType::Time | SqlType::Timestamp => 8,
            SqlType::Timestamptz => 8,
            SqlType::Interval | SqlType::Uuid => 16,
            SqlType::Name => 64,
            SqlType::Unknown => -2,
            SqlType::Void => 4,
            _ => -1,
        }
    }

    /// The name `format_type` prints, without the modifier (`integer`, `character varying`).
    pub fn base_name(&self) -> String {
        match self {
            SqlType::Numeric { .. } => "numeric".into(),
            SqlType::Varchar(_) => "character varying".into(),
            SqlType::Char(_) => "character".into(),
            SqlType::Vector(_) => "vector".into(),
            SqlType::Array(element) => format!("{}[]", element.base_name()),
            other => other.display_name(),
        }
    }

    /// The name `format_type(oid, typmod)` prints (`character varying(20)`, `integer[]`).
    pub fn display_name(&self) -> String {
        if let Some(t) = self.to_data_type() {
            return t.sql_name();
        }
        match self {
            SqlType::Name => "name",
            SqlType::Oid => "oid",
            SqlType::RegClass => "regclass",
            SqlType::RegType => "regtype",
            SqlType::RegProc => "regproc",
            SqlType::RegProcedure => "regprocedure",
            SqlType::RegNamespace => "regnamespace",
            SqlType::RegRole => "regrole",
            SqlType::InternalChar => "\"char\"",
            SqlType::Int2Vector => "int2vector",
            SqlType::OidVector => "oidvector",
            SqlType::PgNodeTree => "pg_node_tree",
            SqlType::AclItem => "aclitem",
            SqlType::Unknown => "unknown",
            SqlType::Record | SqlType::Composite(_) => "record",
            SqlType::Void => "void",
            SqlType::AnyElement => "anyelement",
            SqlType::AnyArray => "anyarray",
            SqlType::Any => "\"any\"",
            SqlType::Array(element) => return format!("{}[]", element.display_name()),
            _ => "unknown",
        }
        .to_string()
    }

    /// PostgreSQL's internal name (`pg_type.typname`: `int4`, `varchar`, `_int4`).
    pub fn internal_name(&self) -> String {
        match self {
            SqlType::Bool => "bool".into(),
            SqlType::Int2 => "int2".into(),
            SqlType::Int4 => "int4".into(),
            SqlType::Int8 => "int8".into(),
            SqlType::Float4 => "float4".into(),
            SqlType::Float8 => "float8".into(),
            SqlType::Numeric { .. } => "numeric".into(),
            SqlType::Text => "text".into(),
            SqlType::Varchar(_) => "varchar".into(),
            SqlType::Char(_) => "bpchar".into(),
            SqlType::Bytea => "bytea".into(),
            SqlType::Date => "date".into(),
            SqlType::Time => "time".into(),
            SqlType::Timestamp => "timestamp".into(),
            SqlType::Timestamptz => "timestamptz".into(),
            SqlType::Interval => "interval".into(),
            SqlType::Uuid => "uuid".into(),
            SqlType::Json => "json".into(),
            SqlType::Jsonb => "jsonb".into(),
            SqlType::Vector(_) => "vector".into(),
            SqlType::Array(element) => format!("_{}", element.internal_name()),
            SqlType::InternalChar => "char".into(),
            SqlType::Any => "any".into(),
            other => other.display_name(),
        }
    }

    /// PostgreSQL's type category (`pg_type.typcategory`), which drives implicit-cast
    /// preferences in function and operator resolution.
    pub fn category(&self) -> char {
        match self {
            SqlType::Bool => 'B',
            SqlType::Int2
            | SqlType::Int4
            | SqlType::Int8
            | SqlType::Float4
            | SqlType::Float8
            | SqlType::Numeric { .. }
            | SqlType::Oid
            | SqlType::RegClass
            | SqlType::RegType
            | SqlType::RegProc
            | SqlType::RegProcedure
            | SqlType::RegNamespace
            | SqlType::RegRole => 'N',
            SqlType::Text | SqlType::Varchar(_) | SqlType::Char(_) | SqlType::Name => 'S',
            SqlType::InternalChar => 'Z',
            SqlType::Date | SqlType::Time | SqlType::Timestamp | SqlType::Timestamptz => 'D',
            SqlType::Interval => 'T',
            SqlType::Array(_) | SqlType::Int2Vector | SqlType::OidVector => 'A',
            SqlType::Unknown => 'X',
            SqlType::Record | SqlType::Composite(_) => 'C',
            SqlType::AnyElement | SqlType::AnyArray | SqlType::Any | SqlType::Void => 'P',
            _ => 'U',
        }
    }

    /// Whether this is the preferred type of its category (`text`, `float8`, `timestamptz`,
    /// `interval`, `bool`, `oid`).
    pub fn is_preferred(&self) -> bool {
        matches!(
            self,
            SqlType::Text
                | SqlType::Float8
                | SqlType::Timestamptz
                | SqlType::Interval
                | SqlType::Bool
                | SqlType::Oid
        )
    }

    pub fn is_array(&self) -> bool {
        matches!(self, SqlType::Array(_))
    }

    /// The element type of an array type.
    pub fn element(&self) -> Option<&SqlType> {
        match self {
            SqlType::Array(element) => Some(element),
            _ => None,
        }
    }

    /// The type without its modifier (`varchar(10)` → `varchar`), for type comparisons that
    /// PostgreSQL makes by OID.
    pub fn without_modifier(&self) -> SqlType {
        match self {
            SqlType::Numeric { .. } => SqlType::Numeric {
                precision: None,
                scale: None,
            },
            SqlType::Varchar(_) => SqlType::Varchar(None),
            SqlType::Char(_) => SqlType::Char(None),
            SqlType::Vector(_) => SqlType::Vector(None),
            SqlType::Array(element) => SqlType::Array(Box::new(element.without_modifier())),
            other => other.clone(),
        }
    }

    /// Whether two types are the same type (same OID), modifiers aside.
    pub fn same_type(&self, other: &SqlType) -> bool {
        self.without_modifier() == other.without_modifier()
    }
}

/// Shorthand for `numeric` without precision or scale.
pub const NUMERIC: SqlType = SqlType::Numeric {
    precision: None,
    scale: None,
};

/// Whether `value` is a plausible value of `sql_type` (debug checks in the executor).
pub fn value_fits(sql_type: &SqlType, value: &Value) -> bool {
    match sql_type.to_data_type() {
        Some(t) => t.accepts(value),
        None => true,
    }
}
