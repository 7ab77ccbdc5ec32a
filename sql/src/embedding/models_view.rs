//! The system view `pg_catalog.custos_models` (found as `custos_models` through the search
//! path): one row per embedding model the server knows, whether it is loaded, and the
//! counters of the embedding service. Reading it never loads the model.
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `name` | text | model name (`all-MiniLM-L6-v2`) |
//! | `dimensions` | int4 | components of its vectors (384) |
//! | `max_tokens` | int4 | token window; longer texts are truncated (256) |
//! | `sha256` | text | sha256 of `model.onnx` as pinned (checked when it loads) |
//! | `model_dir` | text | configured model directory, NULL when none |
//! | `loaded` | bool | whether a call has loaded the model in this server process |
//! | `sessions` | int4 | ONNX Runtime sessions open (the pool grows with concurrent use) |
//! | `max_sessions` | int4 | most sessions the pool opens |
//! | `texts_embedded` | int8 | texts run through the model since start (cache misses) |
//! | `model_calls` | int8 | batches run through the model since start |
//! | `cache_capacity` | int8 | entries the text cache holds at most |
//! | `cache_entries` | int8 | entries in the cache now |
//! | `cache_hits` / `cache_misses` / `cache_evictions` | int8 | cumulative cache counters |

use storage::types::{Row, Value};

use crate::error::SqlResult;
use crate::pg_catalog::oids::rel;
use crate::pg_catalog::{SystemCtx, SystemTable};
use crate::pgtype::SqlType;

/// Relation OID of `custos_models` (in the system view range, clear of PostgreSQL's views).
pub const CUSTOS_MODELS_OID: u32 = rel::FIRST_VIEW + 500;

/// The system tables this module contributes.
pub fn system_tables() -> Vec<SystemTable> {
    use SqlType::{Bool, Int4, Int8, Text};
    vec![SystemTable {
        schema: "pg_catalog",
        name: "custos_models",
        oid: CUSTOS_MODELS_OID,
        columns: vec![
            ("name", Text),
            ("dimensions", Int4),
            ("max_tokens", Int4),
            ("sha256", Text),
            ("model_dir", Text),
            ("loaded", Bool),
            ("sessions", Int4),
            ("max_sessions", Int4),
            ("texts_embedded", Int8),
            ("model_calls", Int8),
            ("cache_capacity", Int8),
            ("cache_entries", Int8),
            ("cache_hits", Int8),
            ("cache_misses", Int8),
            ("cache_evictions", Int8),
        ],
        rows: custos_models_rows,
    }]
}

fn int4(value: usize) -> Value {
    Value::Int4(i32::try_from(value).unwrap_or(i32::MAX))
}

fn int8(value: u64) -> Value {
    Value::Int8(i64::try_from(value).unwrap_or(i64::MAX))
}

fn custos_models_rows(_: &SystemCtx) -> SqlResult<Vec<Row>> {
    let status = super::service().status();
    Ok(vec![vec![
        Value::Text(status.name),
        int4(status.dimensions),
        int4(status.max_tokens),
        Value::Text(status.sha256),
        status
            .model_dir
            .map_or(Value::Null, |dir| Value::Text(dir.display().to_string())),
        Value::Bool(status.loaded),
        int4(status.sessions),
        int4(status.max_sessions),
        int8(status.texts_embedded),
        int8(status.model_calls),
        int8(status.cache.capacity as u64),
        int8(status.cache.entries as u64),
        int8(status.cache.hits),
        int8(status.cache.misses),
        int8(status.cache.evictions),
    ]])
}
