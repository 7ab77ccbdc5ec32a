//! Type names as written in SQL (`int`, `character varying(20)`, `numeric(10,2)`,
//! `timestamp with time zone`, `vector(384)`, `text[]`, `regclass`) to [`SqlType`].

use sqlparser::ast::{
    ArrayElemTypeDef, CharacterLength, DataType as AstType, ExactNumberInfo, TimezoneInfo,
    TypeModifier,
};
use storage::types::MAX_VECTOR_DIMENSIONS;

use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;

use super::object_name_parts;

fn length(l: &Option<CharacterLength>) -> SqlResult<Option<u32>> {
    match l {
        None => Ok(None),
        Some(CharacterLength::IntegerLength { length, .. }) => {
            if *length == 0 {
                return Err(SqlError::new(
                    code::INVALID_PARAMETER_VALUE,
                    "length for type varchar must be at least 1",
                ));
            }
            if *length > 10_485_760 {
                return Err(SqlError::new(
                    code::INVALID_PARAMETER_VALUE,
                    "length for type varchar cannot exceed 10485760",
                ));
            }
            Ok(Some(*length as u32))
        }
        Some(CharacterLength::Max) => Ok(None),
    }
}

fn numeric(info: &ExactNumberInfo) -> SqlResult<SqlType> {
    let (precision, scale) = match info {
        ExactNumberInfo::None => (None, None),
        ExactNumberInfo::Precision(p) => (Some(*p), Some(0)),
        ExactNumberInfo::PrecisionAndScale(p, s) => (Some(*p), Some(*s)),
    };
    if let Some(p) = precision {
        if !(1..=1000).contains(&p) {
            return Err(SqlError::new(
                code::INVALID_PARAMETER_VALUE,
                format!("NUMERIC precision {p} must be between 1 and 1000"),
            ));
        }
        if let Some(s) = scale {
            if !(-1000..=1000).contains(&s) {
                return Err(SqlError::new(
                    code::INVALID_PARAMETER_VALUE,
                    format!("NUMERIC scale {s} must be between -1000 and 1000"),
                ));
            }
        }
    }
    Ok(SqlType::Numeric {
        precision: precision.map(|p| p as u32),
        scale: scale.map(|s| s as i32),
    })
}

/// Reads a type name.
pub fn sql_type(t: &AstType) -> SqlResult<SqlType> {
    Ok(match t {
        AstType::Bool | AstType::Boolean => SqlType::Bool,
        AstType::SmallInt(_) | AstType::Int2(_) => SqlType::Int2,
        AstType::Int(_) | AstType::Integer(_) | AstType::Int4(_) => SqlType::Int4,
        AstType::BigInt(_) | AstType::Int8(_) => SqlType::Int8,
        AstType::Real | AstType::Float4 => SqlType::Float4,
        AstType::Double(_) | AstType::DoublePrecision | AstType::Float8 => SqlType::Float8,
        AstType::Float(info) => match info {
            ExactNumberInfo::Precision(p) if *p <= 24 => SqlType::Float4,
            ExactNumberInfo::Precision(p) if *p > 53 => {
                return Err(SqlError::new(
                    code::INVALID_PARAMETER_VALUE,
                    "precision for type float must be less than 54 bits",
                ))
            }
            _ => SqlType::Float8,
        },
        AstType::Numeric(info) | AstType::Decimal(info) | AstType::Dec(info) => numeric(info)?,
        AstType::Text | AstType::String(None) => SqlType::Text,
        AstType::Varchar(l) | AstType::CharacterVarying(l) | AstType::CharVarying(l) => {
            SqlType::Varchar(length(l)?)
        }
        AstType::Char(l) | AstType::Character(l) => SqlType::Char(Some(length(l)?.unwrap_or(1))),
        AstType::Bytea => SqlType::Bytea,
        AstType::Uuid => SqlType::Uuid,
        AstType::Date => SqlType::Date,
        AstType::Time(_, tz) => match tz {
            TimezoneInfo::WithTimeZone | TimezoneInfo::Tz => {
                return Err(SqlError::unsupported("type time with time zone"))
            }
            _ => SqlType::Time,
        },
        AstType::Timestamp(_, tz) => match tz {
            TimezoneInfo::WithTimeZone | TimezoneInfo::Tz => SqlType::Timestamptz,
            _ => SqlType::Timestamp,
        },
        AstType::Interval { .. } => SqlType::Interval,
        AstType::JSON => SqlType::Json,
        AstType::JSONB => SqlType::Jsonb,
        AstType::Regclass => SqlType::RegClass,
        AstType::Array(element) => match element {
            ArrayElemTypeDef::SquareBracket(inner, _)
            | ArrayElemTypeDef::AngleBracket(inner)
            | ArrayElemTypeDef::Parenthesis(inner)
            | ArrayElemTypeDef::ParenthesisNotNull(inner)
            | ArrayElemTypeDef::Qualified(inner, _) => {
                let inner = sql_type(inner)?;
                match inner {
                    SqlType::Array(_) => inner,
                    other => SqlType::Array(Box::new(other)),
                }
            }
            ArrayElemTypeDef::None => {
                return Err(SqlError::syntax("syntax error at or near \"ARRAY\""))
            }
        },
        AstType::Custom(name, modifiers) => {
            let parts = object_name_parts(name);
            let last = parts.last().map(String::as_str).unwrap_or("");
            if parts.len() == 2 && parts[0] != "pg_catalog" && parts[0] != "public" {
                return Err(undefined_type(&name.to_string()));
            }
            custom_type(last, modifiers)?
        }
        other => return Err(undefined_type(&other.to_string().to_lowercase())),
    })
}

fn undefined_type(name: &str) -> SqlError {
    SqlError::new(
        code::UNDEFINED_OBJECT,
        format!("type \"{name}\" does not exist"),
    )
}

fn modifier_numbers(modifiers: &[TypeModifier]) -> SqlResult<Vec<i64>> {
    modifiers
        .iter()
        .map(|m| match m {
            TypeModifier::Number(n, _) => n
                .parse::<i64>()
                .map_err(|_| SqlError::syntax(format!("invalid type modifier {n}"))),
            other => Err(SqlError::syntax(format!("invalid type modifier {other}"))),
        })
        .collect()
}

/// Types sqlparser leaves as custom names: PostgreSQL's internal names and extension types.
pub fn custom_type(name: &str, modifiers: &[TypeModifier]) -> SqlResult<SqlType> {
    let numbers = modifier_numbers(modifiers)?;
    let first = numbers.first().copied();
    Ok(match name {
        "vector" => {
            let dims = match first {
                None => None,
                Some(n) if n < 1 => {
                    return Err(SqlError::new(
                        code::INVALID_PARAMETER_VALUE,
                        "dimensions for type vector must be at least 1",
                    ))
                }
                Some(n) if n > MAX_VECTOR_DIMENSIONS as i64 => {
                    return Err(SqlError::new(
                        code::INVALID_PARAMETER_VALUE,
                        format!("dimensions for type vector cannot exceed {MAX_VECTOR_DIMENSIONS}"),
                    ))
                }
                Some(n) => Some(n as u32),
            };
            SqlType::Vector(dims)
        }
        "int" | "int4" | "integer" => SqlType::Int4,
        "int2" | "smallint" => SqlType::Int2,
        "int8" | "bigint" => SqlType::Int8,
        "float4" | "real" => SqlType::Float4,
        "float8" => SqlType::Float8,
        "bool" | "boolean" => SqlType::Bool,
        "text" => SqlType::Text,
        "varchar" => SqlType::Varchar(first.map(|n| n as u32)),
        "bpchar" => SqlType::Char(first.map(|n| n as u32)),
        "numeric" | "decimal" => numeric(&match numbers.as_slice() {
            [] => ExactNumberInfo::None,
            [p] => ExactNumberInfo::Precision(*p as u64),
            [p, s, ..] => ExactNumberInfo::PrecisionAndScale(*p as u64, *s),
        })?,
        "timestamptz" => SqlType::Timestamptz,
        "timestamp" => SqlType::Timestamp,
        "date" => SqlType::Date,
        "time" => SqlType::Time,
        "interval" => SqlType::Interval,
        "uuid" => SqlType::Uuid,
        "json" => SqlType::Json,
        "jsonb" => SqlType::Jsonb,
        // No jsonpath type yet: a path is its text, which the jsonb_path_* functions and
        // the @? / @@ operators parse (and reject with PostgreSQL's errors).
        "jsonpath" => SqlType::Text,
        "bytea" => SqlType::Bytea,
        "name" => SqlType::Name,
        "oid" => SqlType::Oid,
        "regclass" => SqlType::RegClass,
        "regtype" => SqlType::RegType,
        "regproc" => SqlType::RegProc,
        "regprocedure" => SqlType::RegProcedure,
        "regnamespace" => SqlType::RegNamespace,
        "regrole" => SqlType::RegRole,
        "char" => SqlType::InternalChar,
        "int2vector" => SqlType::Int2Vector,
        "oidvector" => SqlType::OidVector,
        "pg_node_tree" => SqlType::PgNodeTree,
        "aclitem" => SqlType::AclItem,
        "record" => SqlType::Record,
        "void" => SqlType::Void,
        "anyelement" => SqlType::AnyElement,
        "anyarray" => SqlType::AnyArray,
        "unknown" => SqlType::Unknown,
        "xid" | "cid" | "tid" | "xid8" => SqlType::Int8,
        other => return Err(undefined_type(other)),
    })
}
