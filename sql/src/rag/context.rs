//! `rag_context(question text, k int DEFAULT 5, sources regclass[] DEFAULT NULL)`: the `k`
//! chunks nearest to a question across the embedded text columns of the database (or of the
//! given tables), best first, with their citation and safety flags.
//!
//! The question is embedded once; each source is searched with its own nested query (see
//! `sources.rs` and `query.rs`), which asks for `k` rows so that the merged top `k` is exact
//! with respect to what each source's search returns; the rows are merged by score (cosine
//! similarity), ties broken by table and row key so that the order is deterministic.
//!
//! Errors: `k` negative or above [`MAX_K`] → 22023; a NULL `k` → 22004; a NULL in `sources`
//! → 22004; a source that is not a table → 42809, a table without an embedded text column →
//! 42809 with a hint; no embedded text column in the whole database → 55000. Without
//! `sources`, a table the caller may not read (42501) is left out rather than failing the
//! call: "everything" means everything the caller may see. A NULL question gives no rows.

use std::cmp::Ordering;

use storage::catalog::Oid;
use storage::types::{Array, Row, Value};

use super::safety::{self, Flag};
use super::sources::{embedded_columns, embedded_columns_of, EmbeddedColumn};
use crate::error::{code, SqlError, SqlResult};
use crate::func::FnCtx;
use crate::pgtype::SqlType;

/// `k` when the caller gives none.
pub const DEFAULT_K: i64 = 5;
/// Largest `k` accepted: RAG context is for a prompt, not for bulk export.
pub const MAX_K: i64 = 1000;

/// One retrieved chunk.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// 1 for the best chunk.
    pub rank: i32,
    pub source: EmbeddedColumn,
    /// Primary-key value(s) as text; `None` for a table without a primary key.
    pub row_key: Option<String>,
    /// The text (NULL when the column is NULL or masked to NULL).
    pub content: Option<String>,
    /// Cosine similarity to the question (1 = same direction).
    pub score: f64,
    pub flags: Vec<Flag>,
}

/// The output columns of `rag_context`.
pub fn columns(_: &[SqlType]) -> Vec<(String, SqlType)> {
    vec![
        ("rank".into(), SqlType::Int4),
        ("source".into(), SqlType::RegClass),
        ("row_key".into(), SqlType::Text),
        ("content".into(), SqlType::Text),
        ("score".into(), SqlType::Float8),
        ("flags".into(), SqlType::Array(Box::new(SqlType::Text))),
    ]
}

/// The set-returning implementation: arguments `(question [, k [, sources]])`.
pub fn rag_context(ctx: &FnCtx, args: &[Value]) -> SqlResult<Vec<Row>> {
    let Some(Value::Text(question)) = args.first() else {
        return Ok(Vec::new());
    };
    let k = k_argument(args.get(1))?;
    let sources = match args.get(2) {
        None | Some(Value::Null) => None,
        Some(Value::Array(array)) => Some(source_oids(array)?),
        Some(other) => {
            return Err(SqlError::internal(format!(
                "rag_context: unexpected sources argument {other:?}"
            )))
        }
    };
    let chunks = retrieve(ctx, question, k, sources.as_deref())?;
    Ok(chunks
        .into_iter()
        .map(|chunk| {
            let flags = chunk
                .flags
                .iter()
                .map(|f| Value::Text(f.name().to_string()))
                .collect();
            vec![
                Value::Int4(chunk.rank),
                Value::Int8(i64::from(chunk.source.table)),
                chunk.row_key.map_or(Value::Null, Value::Text),
                chunk.content.map_or(Value::Null, Value::Text),
                Value::Float8(chunk.score),
                Value::Array(Box::new(Array::from_list(flags))),
            ]
        })
        .collect())
}

/// `k` from an argument (absent: [`DEFAULT_K`]), checked.
pub fn k_argument(value: Option<&Value>) -> SqlResult<i64> {
    let k = match value {
        None => DEFAULT_K,
        Some(Value::Int2(k)) => i64::from(*k),
        Some(Value::Int4(k)) => i64::from(*k),
        Some(Value::Int8(k)) => *k,
        Some(Value::Null) => {
            return Err(SqlError::new(
                code::NULL_VALUE_NOT_ALLOWED,
                "k must not be NULL",
            ))
        }
        Some(other) => {
            return Err(SqlError::internal(format!(
                "rag: unexpected k argument {other:?}"
            )))
        }
    };
    if !(0..=MAX_K).contains(&k) {
        return Err(SqlError::new(
            code::INVALID_PARAMETER_VALUE,
            format!("k must be between 0 and {MAX_K}, not {k}"),
        ));
    }
    Ok(k)
}

fn source_oids(array: &Array) -> SqlResult<Vec<Oid>> {
    let mut oids: Vec<Oid> = Vec::new();
    for element in &array.elements {
        let oid = match element {
            Value::Int8(oid) => *oid,
            Value::Int4(oid) => i64::from(*oid),
            Value::Null => {
                return Err(SqlError::new(
                    code::NULL_VALUE_NOT_ALLOWED,
                    "sources must not contain NULL",
                ))
            }
            other => {
                return Err(SqlError::internal(format!(
                    "rag_context: unexpected source {other:?}"
                )))
            }
        };
        let oid = Oid::try_from(oid).map_err(|_| {
            SqlError::new(
                code::UNDEFINED_TABLE,
                format!("relation with OID {oid} does not exist"),
            )
        })?;
        if !oids.contains(&oid) {
            oids.push(oid);
        }
    }
    Ok(oids)
}

/// The sources to search: the given tables' embedded text columns (each table must have
/// one), or every embedded text column of the catalog.
fn resolve_sources(ctx: &FnCtx, tables: Option<&[Oid]>) -> SqlResult<Vec<EmbeddedColumn>> {
    let catalog = ctx.catalog;
    let Some(tables) = tables else {
        let all = embedded_columns(catalog);
        if all.is_empty() {
            return Err(SqlError::new(
                code::OBJECT_NOT_IN_PREREQUISITE_STATE,
                "no table has an embedded text column to retrieve from",
            )
            .with_hint(
                "Give a text column an embedding, e.g. ALTER TABLE tickets ADD COLUMN \
                 description_vec vector(384) GENERATED ALWAYS AS (embed(description)) STORED.",
            ));
        }
        return Ok(all);
    };
    let mut found = Vec::new();
    for &oid in tables {
        let Some(table) = catalog.tables.get(&oid) else {
            let name = catalog
                .views
                .get(&oid)
                .map(|v| v.name.clone())
                .or_else(|| catalog.sequences.get(&oid).map(|s| s.name.clone()))
                .or_else(|| catalog.indexes.get(&oid).map(|i| i.name.clone()));
            return Err(match name {
                Some(name) => SqlError::new(
                    code::WRONG_OBJECT_TYPE,
                    format!("\"{name}\" is not a table"),
                ),
                None => SqlError::new(
                    code::UNDEFINED_TABLE,
                    format!("relation with OID {oid} does not exist"),
                ),
            });
        };
        let columns = embedded_columns_of(catalog, table);
        if columns.is_empty() {
            return Err(SqlError::new(
                code::WRONG_OBJECT_TYPE,
                format!("table \"{}\" has no embedded text column", table.name),
            )
            .with_hint(format!(
                "rag_context searches columns like <col>_vec vector(384) GENERATED ALWAYS AS \
                 (embed(<col>)) STORED; \"{}\" has none.",
                table.name
            )));
        }
        found.extend(columns);
    }
    Ok(found)
}

/// Embeds `question` once, searches every source for its `k` nearest rows through the
/// engine's query path, and merges them: the best `k` overall, ranked from 1, with flags.
pub fn retrieve(
    ctx: &FnCtx,
    question: &str,
    k: i64,
    tables: Option<&[Oid]>,
) -> SqlResult<Vec<Chunk>> {
    let runner = ctx.queries.ok_or_else(|| {
        SqlError::new(
            code::FEATURE_NOT_SUPPORTED,
            "rag functions cannot run in this context (they query tables)",
        )
    })?;
    let sources = resolve_sources(ctx, tables)?;
    if k == 0 {
        return Ok(Vec::new());
    }
    let query_vector = crate::embedding::embed_texts(&[Some(question)])?
        .into_iter()
        .next()
        .flatten()
        .ok_or_else(|| SqlError::internal("the question has no embedding"))?;
    let params = [
        (Value::Vector(query_vector), SqlType::Vector(None)),
        (Value::Int8(k), SqlType::Int8),
    ];
    let mut candidates: Vec<Chunk> = Vec::new();
    for source in sources {
        let rows = match runner.run_query(&source.search_sql(), &params) {
            Ok(rows) => rows,
            Err(e) if tables.is_none() && e.code == code::INSUFFICIENT_PRIVILEGE => continue,
            Err(e) => return Err(e),
        };
        for row in rows {
            let mut values = row.into_iter();
            let row_key = text_value(values.next());
            let content = text_value(values.next());
            let score = match values.next() {
                Some(Value::Float8(score)) if !score.is_nan() => score,
                Some(Value::Float4(score)) if !score.is_nan() => f64::from(score),
                // A NULL vector has no distance: it is not a match.
                _ => continue,
            };
            candidates.push(Chunk {
                rank: 0,
                source: source.clone(),
                row_key,
                content,
                score,
                flags: Vec::new(),
            });
        }
    }
    candidates.sort_by(|a, b| {
        b.score
            .partial_cmp(&a.score)
            .unwrap_or(Ordering::Equal)
            .then(a.source.table.cmp(&b.source.table))
            .then_with(|| a.source.text_column.cmp(&b.source.text_column))
            .then_with(|| compare_keys(a.row_key.as_deref(), b.row_key.as_deref()))
    });
    candidates.truncate(k as usize);
    for (i, chunk) in candidates.iter_mut().enumerate() {
        chunk.rank = i as i32 + 1;
        chunk.flags = chunk
            .content
            .as_deref()
            .map(safety::scan)
            .unwrap_or_default();
    }
    crate::audit::audit_retrieval(ctx, "RAG RETRIEVAL", question, &candidates)?;
    Ok(candidates)
}

/// Row keys in the order of their values: integers numerically (`9` before `10`), others as
/// text.
fn compare_keys(a: Option<&str>, b: Option<&str>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => match (a.parse::<i128>(), b.parse::<i128>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => a.cmp(b),
        },
        _ => a.cmp(&b),
    }
}

fn text_value(value: Option<Value>) -> Option<String> {
    match value {
        Some(Value::Text(text)) => Some(text),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_are_broken_by_key_value() {
        assert_eq!(compare_keys(Some("171"), Some("1569")), Ordering::Less);
        assert_eq!(compare_keys(Some("-2"), Some("1")), Ordering::Less);
        assert_eq!(compare_keys(Some("b"), Some("a")), Ordering::Greater);
        assert_eq!(compare_keys(None, Some("1")), Ordering::Less);
    }

    #[test]
    fn k_is_checked() {
        assert_eq!(k_argument(None).unwrap(), DEFAULT_K);
        assert_eq!(k_argument(Some(&Value::Int4(0))).unwrap(), 0);
        assert_eq!(
            k_argument(Some(&Value::Int4(-1))).unwrap_err().code,
            code::INVALID_PARAMETER_VALUE
        );
        assert_eq!(
            k_argument(Some(&Value::Int8(MAX_K + 1))).unwrap_err().code,
            code::INVALID_PARAMETER_VALUE
        );
        assert_eq!(
            k_argument(Some(&Value::Null)).unwrap_err().code,
            code::NULL_VALUE_NOT_ALLOWED
        );
    }

    #[test]
    fn sources_are_deduplicated_and_refuse_nulls() {
        let array = Array::from_list(vec![Value::Int8(16384), Value::Int8(16384), Value::Int8(7)]);
        assert_eq!(source_oids(&array).unwrap(), vec![16384, 7]);
        let with_null = Array::from_list(vec![Value::Int8(1), Value::Null]);
        assert_eq!(
            source_oids(&with_null).unwrap_err().code,
            code::NULL_VALUE_NOT_ALLOWED
        );
    }
}
