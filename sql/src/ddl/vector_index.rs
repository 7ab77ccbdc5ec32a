//! The checks pgvector makes when `CREATE INDEX ... USING hnsw | ivfflat` runs, made before
//! the index enters the catalog (storage builds the per-segment files later, at commit or at
//! the next checkpoint, and must not be the first to find the definition invalid).
//!
//! Messages and SQLSTATEs are PostgreSQL's and pgvector's: an unknown operator class is
//! 42704, a bad `WITH (...)` option 22023 (with the valid range as DETAIL, as PostgreSQL's
//! reloptions print it), a second column 0A000.

use index::distance::Metric;
use index::segment_index::{IndexMethod, SegmentIndexSpec};
use storage::catalog::{AttNum, IndexMethodDef, TableDef};
use storage::types::DataType;

use crate::error::{code, SqlError, SqlResult};

/// pgvector's `WITH (...)` options per method: name and inclusive bounds.
fn integer_options(method: IndexMethod) -> &'static [(&'static str, i64, i64)] {
    match method {
        IndexMethod::Hnsw => &[("m", 2, 100), ("ef_construction", 4, 1000)],
        IndexMethod::IvfFlat => &[("lists", 1, 32768)],
    }
}

/// Checks a vector index definition; `opclasses` has one entry per column (defaults filled).
pub(super) fn check_vector_index(
    table: &TableDef,
    method: &IndexMethodDef,
    columns: &[AttNum],
    opclasses: &[String],
    options: &[(String, String)],
) -> SqlResult<()> {
    let method = match method {
        IndexMethodDef::Hnsw => IndexMethod::Hnsw,
        IndexMethodDef::IvfFlat => IndexMethod::IvfFlat,
        IndexMethodDef::Btree => return Ok(()),
    };
    let name = method.name();
    if columns.len() > 1 {
        return Err(SqlError::new(
            code::FEATURE_NOT_SUPPORTED,
            format!("access method \"{name}\" does not support multicolumn indexes"),
        ));
    }
    let opclass = opclasses
        .first()
        .map(String::as_str)
        .unwrap_or("vector_l2_ops");
    let opclass = opclass.rsplit('.').next().unwrap_or(opclass);
    let metric = Metric::from_operator_class(opclass)
        .filter(|m| !(method == IndexMethod::IvfFlat && *m == Metric::L1))
        .ok_or_else(|| {
            SqlError::new(
                code::UNDEFINED_OBJECT,
                format!("operator class \"{opclass}\" does not exist for access method \"{name}\""),
            )
        })?;
    let mut seen: Vec<&str> = Vec::new();
    for (option, value) in options {
        let Some(&(_, min, max)) = integer_options(method)
            .iter()
            .find(|(known, _, _)| known == option)
        else {
            return Err(SqlError::new(
                code::INVALID_PARAMETER_VALUE,
                format!("unrecognized parameter \"{option}\""),
            ));
        };
        if seen.contains(&option.as_str()) {
            return Err(SqlError::new(
                code::INVALID_PARAMETER_VALUE,
                format!("parameter \"{option}\" specified more than once"),
            ));
        }
        seen.push(option);
        let text = value.trim().trim_matches('\'');
        let parsed: i64 = text.parse().map_err(|_| {
            SqlError::new(
                code::INVALID_PARAMETER_VALUE,
                format!("invalid value for integer option \"{option}\": {text}"),
            )
        })?;
        if !(min..=max).contains(&parsed) {
            return Err(SqlError::new(
                code::INVALID_PARAMETER_VALUE,
                format!("value {parsed} out of bounds for option \"{option}\""),
            )
            .with_detail(format!("Valid values are between \"{min}\" and \"{max}\".")));
        }
    }
    let dim = match columns
        .first()
        .and_then(|attnum| table.column(*attnum))
        .map(|c| &c.data_type)
    {
        Some(DataType::Vector(Some(dim))) => *dim as usize,
        _ => {
            return Err(SqlError::new(
                code::INVALID_PARAMETER_VALUE,
                "column does not have dimensions",
            ))
        }
    };
    let spec = SegmentIndexSpec {
        method,
        metric,
        dim,
        options: options
            .iter()
            .map(|(k, v)| (k.clone(), v.trim().trim_matches('\'').to_string()))
            .collect(),
    };
    // Whatever else index/ refuses (ef_construction < 2 * m, ...), with its message.
    spec.validate()
        .map_err(|e| SqlError::new(code::INVALID_PARAMETER_VALUE, strip_prefix(&e.to_string())))
}

/// index/'s errors read "invalid index specification: ..."; the SQL error is the part after.
fn strip_prefix(message: &str) -> String {
    match message.split_once(": ") {
        Some((head, rest)) if head.contains("invalid") => rest.to_string(),
        _ => message.to_string(),
    }
}
