//! The embedding service of the SQL engine: turns texts into 384-dimensional vectors with the
//! all-MiniLM-L6-v2 model of [`index::embed`], for `embed()`, generated embedding columns,
//! `embed_chunks()`, the `custos_models` view and the RAG functions.
//!
//! # API (stable; other modules code against it)
//!
//! - [`embed_texts`]`(texts)`: one result per input, in order; NULL in gives NULL out. Texts
//!   are batched internally and looked up in a bounded cache first.
//! - [`model_info`]`()`: name, dimensions and sha256 of the model, opening it if need be.
//! - [`configure`]`(settings)`: called once by the server at start-up, before any query runs;
//!   names the model directory. Without it (tests, tools) the directory comes from
//!   `CUSTOS_MODEL_DIR` ([`index::embed::MODEL_DIR_ENV`]).
//!
//! # Lifecycle
//!
//! Nothing is loaded at start-up: a server without model files starts and serves every query
//! that does not embed. The first call that needs the model opens it; if the files are
//! missing, that call fails with SQLSTATE 58P01 (undefined_file) and a message that says to
//! run `scripts/fetch-models` or set `CUSTOS_MODEL_DIR`, and the next call checks again.
//!
//! # Threads and concurrency
//!
//! Embedding runs on the calling thread (a connection's own OS thread; the server has no async
//! executor to stall) plus, for a large batch, scoped helper threads, one per idle ONNX
//! session. Sessions live in a pool of at most one per core ([`MAX_SESSIONS`] at most), each
//! with its own lock, so concurrent statements embed in parallel and a statement that does
//! not embed never touches any of it. See `pool.rs` and `service.rs`.
//!
//! # Cache
//!
//! [`DEFAULT_CACHE_ENTRIES`] (10,000) vectors keyed by the sha256 of the text, about 16 MB;
//! hits, misses and evictions are shown in `custos_models`. See `cache.rs`.

mod cache;
mod models_view;
mod pool;
pub mod prefetch;
mod service;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;

use index::embed::EmbedError;
use parking_lot::RwLock;

pub use cache::{CacheStats, DEFAULT_CACHE_ENTRIES};
pub use index::embed::{model_dir_from_env, MODEL_DIR_ENV};
pub use models_view::{system_tables, CUSTOS_MODELS_OID};
pub use service::{EmbeddingService, WORK_UNIT_TEXTS};

use crate::error::{code, SqlError};

/// Components of every embedding (all-MiniLM-L6-v2).
pub const DIMENSIONS: usize = index::embed::DIMENSIONS;
/// Most ONNX sessions the pool opens, whatever the core count.
pub const MAX_SESSIONS: usize = 8;
/// SQLSTATE 58000 (system_error): ONNX Runtime failed in a way the statement cannot fix.
const SYSTEM_ERROR: &str = "58000";

/// What the server configures at start-up.
#[derive(Debug, Clone)]
pub struct EmbeddingSettings {
    /// Directory with `model.onnx`, `tokenizer.json`, `libonnxruntime.so`; `None` makes every
    /// embedding call fail with the fetch-models hint.
    pub model_dir: Option<PathBuf>,
    /// Entries of the text cache; 0 disables it.
    pub cache_entries: usize,
    /// Most ONNX sessions; 0 means one per core (at most [`MAX_SESSIONS`]).
    pub sessions: usize,
    /// ONNX Runtime threads per session; 0 means cores / sessions (at least 1).
    pub intra_op_threads: usize,
}

impl Default for EmbeddingSettings {
    /// The model directory from `CUSTOS_MODEL_DIR`, the default cache, automatic sessions.
    fn default() -> Self {
        EmbeddingSettings {
            model_dir: index::embed::model_dir_from_env(),
            cache_entries: DEFAULT_CACHE_ENTRIES,
            sessions: 0,
            intra_op_threads: 0,
        }
    }
}

/// The model as the SQL layer reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfo {
    pub name: String,
    pub dimensions: usize,
    /// sha256 of `model.onnx`, lower-case hex.
    pub sha256: String,
}

/// One row of `custos_models`: what is configured and loaded, without loading anything.
#[derive(Debug, Clone)]
pub struct ModelStatus {
    pub name: String,
    pub dimensions: usize,
    pub max_tokens: usize,
    pub sha256: String,
    pub model_dir: Option<PathBuf>,
    pub loaded: bool,
    pub sessions: usize,
    pub max_sessions: usize,
    pub texts_embedded: u64,
    /// Calls that ran the model (each embeds a batch of texts).
    pub model_calls: u64,
    pub cache: CacheStats,
}

/// The process-wide service; created from [`EmbeddingSettings::default`] on first use unless
/// [`configure`] installed one.
static SERVICE: RwLock<Option<Arc<EmbeddingService>>> = RwLock::new(None);

/// Installs the process-wide service. The server calls it once at start-up; a later call
/// replaces the service (and drops its loaded model and cache) for statements that start after.
pub fn configure(settings: &EmbeddingSettings) {
    *SERVICE.write() = Some(Arc::new(EmbeddingService::new(settings)));
}

/// The process-wide service.
pub fn service() -> Arc<EmbeddingService> {
    if let Some(service) = SERVICE.read().as_ref() {
        return Arc::clone(service);
    }
    let mut slot = SERVICE.write();
    Arc::clone(slot.get_or_insert_with(|| Arc::new(EmbeddingService::new(&Default::default()))))
}

/// Embeds each text with the process-wide service: one 384-float unit vector per non-NULL
/// text, NULL for NULL, in input order. Batches internally and uses the cache; pass all the
/// texts of a statement's batch of rows in one call.
pub fn embed_texts(texts: &[Option<&str>]) -> Result<Vec<Option<Vec<f32>>>, SqlError> {
    service().embed_texts(texts)
}

/// Name, dimensions and sha256 of the model, opening it if it is not open yet (so this fails
/// like [`embed_texts`] when the files are missing).
pub fn model_info() -> Result<ModelInfo, SqlError> {
    service().model_info()
}

/// The error of every embedding call when no model directory is configured.
fn no_model_dir_error() -> SqlError {
    SqlError::new(
        code::UNDEFINED_FILE,
        "embedding model not configured: no model directory is set",
    )
    .with_hint(format!(
        "Run scripts/fetch-models to download the model, then start the server with \
         --model-dir <dir> (setting model_dir) or set {}=<dir>.",
        index::embed::MODEL_DIR_ENV
    ))
}

/// The SQL error for an error of the embedding model.
pub(crate) fn embed_error_to_sql(error: &EmbedError) -> SqlError {
    let fetch_hint = format!(
        "Run scripts/fetch-models to download and verify the model files, and point the server \
         at them with --model-dir or {}.",
        index::embed::MODEL_DIR_ENV
    );
    match error {
        EmbedError::ModelMissing { .. } => {
            SqlError::new(code::UNDEFINED_FILE, error.to_string()).with_hint(fetch_hint)
        }
        EmbedError::ChecksumMismatch { .. } => {
            SqlError::new(code::OBJECT_NOT_IN_PREREQUISITE_STATE, error.to_string())
                .with_hint(fetch_hint)
        }
        EmbedError::Io { .. } => SqlError::new(code::IO_ERROR, error.to_string()),
        EmbedError::Runtime(_) | EmbedError::UnexpectedModel(_) => {
            SqlError::new(SYSTEM_ERROR, error.to_string())
        }
        EmbedError::Tokenizer(_) => SqlError::new(code::INTERNAL_ERROR, error.to_string()),
        EmbedError::InvalidChunking { .. } => {
            SqlError::new(code::INVALID_PARAMETER_VALUE, error.to_string())
        }
        EmbedError::TextTooLong { .. } => {
            SqlError::new(code::PROGRAM_LIMIT_EXCEEDED, error.to_string())
        }
    }
}
