//! [`EmbedderPool`]: up to `max_sessions` loaded [`Embedder`]s (each its own ONNX Runtime
//! session), lent out one at a time, so that many SQL sessions embed in parallel instead of
//! queueing on one session lock.
//!
//! - Sessions are opened on demand: the first lease opens the first one; a lease that finds
//!   none idle opens another while fewer than `max_sessions` exist, and waits otherwise. A
//!   process that embeds from one connection at a time therefore holds one session.
//! - A [`Lease`] returns its embedder on drop, also when the borrower panics, and wakes one
//!   waiter. Waiters are woken one by one as leases come back, so every waiting statement gets
//!   a session in bounded time (each lease covers one sub-batch of at most
//!   [`super::service::WORK_UNIT_TEXTS`] texts, tens of milliseconds).
//! - Nothing here is held by a statement that does not embed: the pool's lock guards only the
//!   idle list and is never held during a model run or while opening a session.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use index::embed::{EmbedError, Embedder, EmbedderOptions};
use parking_lot::{Condvar, Mutex};

/// The idle embedders and how many exist in all (idle + lent + being opened).
#[derive(Debug, Default)]
struct PoolState {
    idle: Vec<Arc<Embedder>>,
    created: usize,
}

/// Lends embedders opened from one model directory; see the module docs.
#[derive(Debug)]
pub struct EmbedderPool {
    model_dir: PathBuf,
    options: EmbedderOptions,
    max_sessions: usize,
    state: Mutex<PoolState>,
    returned: Condvar,
}

/// An embedder borrowed from a pool; goes back on drop.
pub struct Lease<'pool> {
    pool: &'pool EmbedderPool,
    embedder: Option<Arc<Embedder>>,
}

impl std::ops::Deref for Lease<'_> {
    type Target = Embedder;

    fn deref(&self) -> &Embedder {
        self.embedder
            .as_deref()
            .expect("a lease holds its embedder until dropped")
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(embedder) = self.embedder.take() {
            self.pool.state.lock().idle.push(embedder);
            self.pool.returned.notify_one();
        }
    }
}

impl EmbedderPool {
    /// Opens the first session (so a broken model directory fails here, not on a later lease)
    /// and keeps it idle.
    pub fn open(
        model_dir: &Path,
        options: EmbedderOptions,
        max_sessions: usize,
    ) -> Result<EmbedderPool, EmbedError> {
        debug_assert!(max_sessions >= 1, "callers clamp the pool size");
        let first = Embedder::open_with(model_dir, &options)?;
        Ok(EmbedderPool {
            model_dir: model_dir.to_path_buf(),
            options,
            max_sessions: max_sessions.max(1),
            state: Mutex::new(PoolState {
                idle: vec![Arc::new(first)],
                created: 1,
            }),
            returned: Condvar::new(),
        })
    }

    /// Most sessions this pool opens.
    pub fn max_sessions(&self) -> usize {
        self.max_sessions
    }

    /// Sessions opened so far.
    pub fn sessions(&self) -> usize {
        self.state.lock().created
    }

    /// Metadata of the model (the same for every session).
    pub fn model_info(&self) -> index::embed::ModelInfo {
        let mut state = self.state.lock();
        if let Some(embedder) = state.idle.last() {
            return embedder.model_info().clone();
        }
        // All sessions are lent: wait for one rather than open a session to read constants.
        loop {
            self.returned.wait(&mut state);
            if let Some(embedder) = state.idle.last() {
                let info = embedder.model_info().clone();
                drop(state);
                self.returned.notify_one();
                return info;
            }
        }
    }

    /// An idle embedder, a newly opened one if the pool may grow, or (waiting) the next one
    /// returned.
    pub fn acquire(&self) -> Result<Lease<'_>, EmbedError> {
        let mut state = self.state.lock();
        loop {
            if let Some(embedder) = state.idle.pop() {
                return Ok(self.lease(embedder));
            }
            if state.created < self.max_sessions {
                state.created += 1;
                drop(state);
                return self.open_another();
            }
            self.returned.wait(&mut state);
        }
    }

    /// Like [`EmbedderPool::acquire`] but never waits: `None` when every session is lent and
    /// the pool is at its size. Used to add helpers to a large batch without taking sessions
    /// that other statements are waiting for.
    pub fn try_acquire(&self) -> Option<Lease<'_>> {
        let mut state = self.state.lock();
        if let Some(embedder) = state.idle.pop() {
            return Some(self.lease(embedder));
        }
        if state.created < self.max_sessions {
            state.created += 1;
            drop(state);
            // A failure to open a helper session is not the statement's failure: the caller
            // still has its first lease and carries on with fewer helpers.
            return self.open_another().ok();
        }
        None
    }

    fn lease(&self, embedder: Arc<Embedder>) -> Lease<'_> {
        Lease {
            pool: self,
            embedder: Some(embedder),
        }
    }

    /// Opens a session for a slot already counted in `created`; gives the slot back on error.
    fn open_another(&self) -> Result<Lease<'_>, EmbedError> {
        match Embedder::open_with(&self.model_dir, &self.options) {
            Ok(embedder) => Ok(self.lease(Arc::new(embedder))),
            Err(error) => {
                self.state.lock().created -= 1;
                self.returned.notify_one();
                Err(error)
            }
        }
    }
}
