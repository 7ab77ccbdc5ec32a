//! Type names as `regtype` input reads them and `format_type` prints them: PostgreSQL's SQL
//! names (`integer`, `character varying(10)`, `double precision[]`), its internal names
//! (`int4`, `varchar`, `_int4`) and the `pg_catalog.` prefix.

use crate::pgtype::{SqlType, NUMERIC};

/// The type a name denotes, with its modifier if one is written (`varchar(10)`), or `None`.
pub fn parse_type_name(text: &str) -> Option<SqlType> {
    let mut name = text.trim().to_ascii_lowercase();
    let mut array_depth = 0;
    while let Some(stripped) = name.strip_suffix("[]") {
        name = stripped.trim_end().to_string();
        array_depth += 1;
    }
    if let Some(stripped) = name.strip_prefix("pg_catalog.") {
        name = stripped.to_string();
    }
    if let Some(element) = name.strip_prefix('_') {
        if array_depth == 0 && !element.is_empty() {
            let inner = parse_type_name(element)?;
            return Some(SqlType::Array(Box::new(inner)));
        }
    }
    let (base, modifiers) = split_modifiers(&name)?;
    let mut t = base_type(base.trim(), &modifiers)?;
    for _ in 0..array_depth {
        t = SqlType::Array(Box::new(t));
    }
    Some(t)
}

/// `name(1, 2)` → (`name`, [1, 2]); a name without parentheses has no modifiers. Modifiers
/// may also sit inside the name (`timestamp(3) with time zone`).
fn split_modifiers(name: &str) -> Option<(String, Vec<i64>)> {
    let Some(open) = name.find('(') else {
        return Some((name.to_string(), Vec::new()));
    };
    let close = name.rfind(')')?;
    if close < open {
        return None;
    }
    let mods = name[open + 1..close]
        .split(',')
        .map(|m| m.trim().parse::<i64>().ok())
        .collect::<Option<Vec<i64>>>()?;
    if mods.len() > 2 {
        return None;
    }
    let head = name[..open].trim_end();
    let rest = name[close + 1..].trim();
    let base = if rest.is_empty() {
        head.to_string()
    } else {
        format!("{head} {rest}")
    };
    Some((base, mods))
}

fn base_type(name: &str, mods: &[i64]) -> Option<SqlType> {
    let first = mods.first().map(|m| *m as u32);
    let collapsed: String = name.split_whitespace().collect::<Vec<_>>().join(" ");
    Some(match collapsed.as_str() {
        "bool" | "boolean" => SqlType::Bool,
        "int2" | "smallint" => SqlType::Int2,
        "int4" | "int" | "integer" => SqlType::Int4,
        "int8" | "bigint" => SqlType::Int8,
        "float4" | "real" => SqlType::Float4,
        "float8" | "double precision" => SqlType::Float8,
        "float" => match first {
            Some(p) if p <= 24 => SqlType::Float4,
            _ => SqlType::Float8,
        },
        "numeric" | "decimal" => match mods {
            [] => NUMERIC,
            [p] => SqlType::Numeric {
                precision: Some(*p as u32),
                scale: Some(0),
            },
            [p, s, ..] => SqlType::Numeric {
                precision: Some(*p as u32),
                scale: Some(*s as i32),
            },
        },
        "text" => SqlType::Text,
        "varchar" | "character varying" | "char varying" => SqlType::Varchar(first),
        "bpchar" => SqlType::Char(first),
        "char" | "character" => SqlType::Char(Some(first.unwrap_or(1))),
        "bytea" => SqlType::Bytea,
        "date" => SqlType::Date,
        "time" | "time without time zone" => SqlType::Time,
        "timestamp" | "timestamp without time zone" => SqlType::Timestamp,
        "timestamptz" | "timestamp with time zone" => SqlType::Timestamptz,
        "interval" => SqlType::Interval,
        "uuid" => SqlType::Uuid,
        "json" => SqlType::Json,
        "jsonb" => SqlType::Jsonb,
        "vector" => SqlType::Vector(first),
        "name" => SqlType::Name,
        "oid" => SqlType::Oid,
        "regclass" => SqlType::RegClass,
        "regtype" => SqlType::RegType,
        "regproc" => SqlType::RegProc,
        "regprocedure" => SqlType::RegProcedure,
        "regnamespace" => SqlType::RegNamespace,
        "regrole" => SqlType::RegRole,
        "\"char\"" => SqlType::InternalChar,
        "int2vector" => SqlType::Int2Vector,
        "oidvector" => SqlType::OidVector,
        "pg_node_tree" => SqlType::PgNodeTree,
        "aclitem" => SqlType::AclItem,
        "unknown" => SqlType::Unknown,
        "record" => SqlType::Record,
        "void" => SqlType::Void,
        "anyelement" => SqlType::AnyElement,
        "anyarray" => SqlType::AnyArray,
        "any" | "\"any\"" => SqlType::Any,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sql_and_internal_names() {
        assert_eq!(parse_type_name("integer"), Some(SqlType::Int4));
        assert_eq!(parse_type_name("INT4"), Some(SqlType::Int4));
        assert_eq!(
            parse_type_name("character varying(10)"),
            Some(SqlType::Varchar(Some(10)))
        );
        assert_eq!(
            parse_type_name("double precision[]"),
            Some(SqlType::Array(Box::new(SqlType::Float8)))
        );
        assert_eq!(
            parse_type_name("_text"),
            Some(SqlType::Array(Box::new(SqlType::Text)))
        );
        assert_eq!(
            parse_type_name("pg_catalog.timestamptz"),
            Some(SqlType::Timestamptz)
        );
        assert_eq!(
            parse_type_name("numeric(10,2)"),
            Some(SqlType::Numeric {
                precision: Some(10),
                scale: Some(2)
            })
        );
        assert_eq!(parse_type_name("no_such_type"), None);
    }
}
