//! The process-wide ONNX Runtime: library loading, the one environment, and session creation.
//!
//! `ort` (built with `load-dynamic`) opens `libonnxruntime.so` at run time and allows exactly
//! one environment per process, ever: a second `EnvironmentBuilder::build` fails even after
//! the first environment was dropped. So the environment lives in a `OnceLock` for the life
//! of the process, created by the first [`environment`] call that succeeds; creation is
//! serialised by `ENVIRONMENT_INIT` so two threads opening embedders at once cannot race to
//! build two. A failed attempt (a missing or broken library) stores nothing, and a later call
//! may try again with another path.
//!
//! Once loaded, the library stays loaded: a later call naming a different library file gets
//! the environment of the first one. Both are checked by `scripts/fetch-models` to be the
//! same pinned ONNX Runtime build, so this only matters to someone mixing model directories
//! of different provenance in one process, and `ort` refuses any library older than the C
//! API it speaks (1.31).
//!
//! Threads: each session gets its own intra-op pool of `intra_op_threads` threads (the
//! calling thread counts as one) and runs its graph sequentially (no inter-op pool). Spinning
//! of idle pool threads is turned off: embeddings come in bursts between SQL statements, and
//! a spinning pool would burn a core the storage engine and other queries need.

use std::path::Path;
use std::sync::OnceLock;

use ort::environment::Environment;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use parking_lot::Mutex;

use super::EmbedError;

/// The environment, once created; never replaced.
static ENVIRONMENT: OnceLock<Environment> = OnceLock::new();
/// Held while creating the environment, so only one thread tries at a time.
static ENVIRONMENT_INIT: Mutex<()> = Mutex::new(());

/// Name under which ONNX Runtime logs for custos.
const ENVIRONMENT_NAME: &str = "custos-embed";

/// Returns the process's ONNX Runtime environment, loading the library at `library_path`
/// and creating the environment on the first successful call.
pub(crate) fn environment(library_path: &Path) -> Result<&'static Environment, EmbedError> {
    if let Some(environment) = ENVIRONMENT.get() {
        return Ok(environment);
    }
    let _init = ENVIRONMENT_INIT.lock();
    if let Some(environment) = ENVIRONMENT.get() {
        return Ok(environment);
    }
    let builder = ort::init_from(library_path).map_err(|error| {
        EmbedError::Runtime(format!(
            "cannot load the ONNX Runtime library {}: {error}",
            library_path.display()
        ))
    })?;
    let environment = builder
        .with_name(ENVIRONMENT_NAME)
        .with_telemetry(false)
        .build()
        .map_err(|error| {
            EmbedError::Runtime(format!("cannot create the runtime environment: {error}"))
        })?;
    // Under ENVIRONMENT_INIT nobody else can have set it since the check above.
    let stored = ENVIRONMENT.get_or_init(|| environment);
    Ok(stored)
}

/// Creates an inference session for the ONNX model in `model_bytes`.
pub(crate) fn create_session(
    environment: &Environment,
    model_bytes: &[u8],
    intra_op_threads: usize,
) -> Result<Session, EmbedError> {
    debug_assert!(intra_op_threads >= 1, "callers clamp the thread count");
    let session_error = |error: &dyn std::fmt::Display| {
        EmbedError::Runtime(format!("cannot create the session: {error}"))
    };
    let mut builder = Session::builder(environment)
        .map_err(|error| session_error(&error))?
        .with_optimization_level(GraphOptimizationLevel::All)
        .map_err(|error| session_error(&error))?
        .with_intra_threads(intra_op_threads)
        .map_err(|error| session_error(&error))?
        .with_inter_threads(1)
        .map_err(|error| session_error(&error))?
        .with_intra_op_spinning(false)
        .map_err(|error| session_error(&error))?;
    builder
        .commit_from_memory(model_bytes)
        .map_err(|error| session_error(&error))
}
