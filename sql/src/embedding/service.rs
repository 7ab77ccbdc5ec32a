//! [`EmbeddingService`]: the model directory, the lazily opened [`EmbedderPool`], the text
//! cache, and the batching of [`EmbeddingService::embed_texts`].
//!
//! One `embed_texts` call:
//!
//! 1. Looks every non-NULL text up in the cache (one lock for the whole batch), and keeps one
//!    copy of each distinct text that is not there.
//! 2. Opens the model if this is the first call that needs it (a missing model is reported
//!    then, not at server start, and is re-checked on every later call, so fetching the files
//!    while the server runs makes `embed()` work without a restart).
//! 3. The calling thread takes a session from the pool, waiting for one if need be; for a
//!    batch of several units it also takes idle sessions without waiting and runs them on
//!    scoped helper threads. They tokenize the missing texts (a share each); the texts are
//!    then ordered by token count (equal counts share a model run and pad least) and cut into
//!    work units of [`WORK_UNIT_TEXTS`], which every session pulls from a shared counter
//!    until none are left. A statement alone on the server thus
//!    uses every core, and sixteen concurrent statements share the sessions fairly.
//! 4. Stores the new vectors in the cache and returns one result per input, in order.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use index::embed::{EmbedError, EmbedderOptions, EncodedText};
use parking_lot::Mutex;

use super::cache::{text_key, CacheStats, EmbeddingCache, TextKey};
use super::pool::{EmbedderPool, Lease};
use super::{embed_error_to_sql, no_model_dir_error, EmbeddingSettings, ModelInfo, ModelStatus};
use crate::error::SqlResult;

/// Texts one session embeds per turn before it looks for more work: one run of the
/// embedder's `SESSION_BATCH` (32). Small enough that a waiting statement gets a session
/// within tens of milliseconds and that the sessions of one batch finish together; a run of
/// 32 texts already amortises the model's per-run overhead.
pub const WORK_UNIT_TEXTS: usize = 32;

/// The embedding service of one process (or of one test).
#[derive(Debug)]
pub struct EmbeddingService {
    model_dir: Option<PathBuf>,
    max_sessions: usize,
    intra_op_threads: usize,
    /// The pool once opened; `None` until a call needed the model and it opened.
    pool: Mutex<Option<Arc<EmbedderPool>>>,
    /// Serialises opening the model so that concurrent first calls open it once.
    opening: Mutex<()>,
    cache: Mutex<EmbeddingCache>,
    texts_embedded: AtomicU64,
    /// `embed_texts` calls that ran the model (one per batch of rows when batching works).
    model_calls: AtomicU64,
}

impl EmbeddingService {
    pub fn new(settings: &EmbeddingSettings) -> EmbeddingService {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let max_sessions = if settings.sessions == 0 {
            cores.clamp(1, super::MAX_SESSIONS)
        } else {
            settings.sessions.clamp(1, super::MAX_SESSIONS)
        };
        // Sessions run side by side on different statements or sub-batches; one thread each
        // keeps the total at about one per core.
        let intra_op_threads = if settings.intra_op_threads == 0 {
            (cores / max_sessions).max(1)
        } else {
            settings.intra_op_threads
        };
        EmbeddingService {
            model_dir: settings.model_dir.clone(),
            max_sessions,
            intra_op_threads,
            pool: Mutex::new(None),
            opening: Mutex::new(()),
            cache: Mutex::new(EmbeddingCache::new(settings.cache_entries)),
            texts_embedded: AtomicU64::new(0),
            model_calls: AtomicU64::new(0),
        }
    }

    /// The model directory this service loads from, if any was configured.
    pub fn model_dir(&self) -> Option<&std::path::Path> {
        self.model_dir.as_deref()
    }

    /// The pool, opening it on first use.
    fn pool(&self) -> SqlResult<Arc<EmbedderPool>> {
        if let Some(pool) = self.pool.lock().as_ref() {
            return Ok(Arc::clone(pool));
        }
        let _opening = self.opening.lock();
        if let Some(pool) = self.pool.lock().as_ref() {
            return Ok(Arc::clone(pool));
        }
        let dir = self.model_dir.as_deref().ok_or_else(no_model_dir_error)?;
        let options = EmbedderOptions {
            intra_op_threads: self.intra_op_threads,
        };
        let pool = Arc::new(
            EmbedderPool::open(dir, options, self.max_sessions)
                .map_err(|error| embed_error_to_sql(&error))?,
        );
        *self.pool.lock() = Some(Arc::clone(&pool));
        Ok(pool)
    }

    /// See [`super::embed_texts`].
    pub fn embed_texts(&self, texts: &[Option<&str>]) -> SqlResult<Vec<Option<Vec<f32>>>> {
        let keys: Vec<Option<TextKey>> = texts.iter().map(|text| text.map(text_key)).collect();
        let mut found: Vec<Option<Arc<[f32]>>> = vec![None; texts.len()];
        // Distinct texts to embed, and for each input the index of its text in that list.
        let mut missing: Vec<(TextKey, &str)> = Vec::new();
        let mut missing_slot: Vec<Option<usize>> = vec![None; texts.len()];
        {
            let mut cache = self.cache.lock();
            let mut first_seen: std::collections::HashMap<TextKey, usize> =
                std::collections::HashMap::new();
            for (index, (text, key)) in texts.iter().zip(&keys).enumerate() {
                let (Some(text), Some(key)) = (text, key) else {
                    continue;
                };
                if let Some(&slot) = first_seen.get(key) {
                    missing_slot[index] = Some(slot);
                    continue;
                }
                match cache.get(key) {
                    Some(vector) => found[index] = Some(vector),
                    None => {
                        first_seen.insert(*key, missing.len());
                        missing_slot[index] = Some(missing.len());
                        missing.push((*key, text));
                    }
                }
            }
        }

        let mut computed: Vec<Arc<[f32]>> = Vec::new();
        if !missing.is_empty() {
            let pool = self.pool()?;
            let missing_texts: Vec<&str> = missing.iter().map(|(_, text)| *text).collect();
            computed = embed_uncached(&pool, &missing_texts)?
                .into_iter()
                .map(Arc::from)
                .collect();
            self.texts_embedded
                .fetch_add(missing.len() as u64, Ordering::Relaxed);
            self.model_calls.fetch_add(1, Ordering::Relaxed);
            let mut cache = self.cache.lock();
            for ((key, _), vector) in missing.iter().zip(&computed) {
                cache.insert(*key, Arc::clone(vector));
            }
        }

        Ok(found
            .into_iter()
            .zip(missing_slot)
            .map(|(cached, slot)| match (cached, slot) {
                (Some(vector), _) => Some(vector.to_vec()),
                (None, Some(slot)) => Some(computed[slot].to_vec()),
                (None, None) => None,
            })
            .collect())
    }

    /// See [`super::model_info`].
    pub fn model_info(&self) -> SqlResult<ModelInfo> {
        let pool = self.pool()?;
        let info = pool.model_info();
        Ok(ModelInfo {
            name: info.name.to_owned(),
            dimensions: info.dimensions,
            sha256: info.model_sha256,
        })
    }

    /// Status for the `custos_models` view; never opens the model.
    pub fn status(&self) -> ModelStatus {
        let pool = self.pool.lock().clone();
        ModelStatus {
            name: index::embed::MODEL_NAME.to_owned(),
            dimensions: index::embed::DIMENSIONS,
            max_tokens: index::embed::MAX_TOKENS,
            sha256: index::embed::MODEL_SHA256.to_owned(),
            model_dir: self.model_dir.clone(),
            loaded: pool.is_some(),
            sessions: pool.as_ref().map_or(0, |pool| pool.sessions()),
            max_sessions: self.max_sessions,
            texts_embedded: self.texts_embedded.load(Ordering::Relaxed),
            model_calls: self.model_calls.load(Ordering::Relaxed),
            cache: self.cache_stats(),
        }
    }

    pub fn cache_stats(&self) -> CacheStats {
        self.cache.lock().stats()
    }

    /// Windows of at most `max_tokens` tokens over `text` (see `Embedder::chunk_text`), as
    /// byte ranges.
    pub fn chunk_text(
        &self,
        text: &str,
        max_tokens: usize,
        overlap_tokens: usize,
    ) -> SqlResult<Vec<(usize, usize)>> {
        let pool = self.pool()?;
        let lease = pool.acquire().map_err(|error| embed_error_to_sql(&error))?;
        lease
            .chunk_text(text, max_tokens, overlap_tokens)
            .map_err(|error| embed_error_to_sql(&error))
    }
}

/// The vectors of one work unit, with the unit's index.
type UnitVectors = (usize, Vec<Vec<f32>>);

/// Embeds `texts` (none cached) on as many pool sessions as are free; see the module docs.
fn embed_uncached(pool: &EmbedderPool, texts: &[&str]) -> SqlResult<Vec<Vec<f32>>> {
    let to_sql = |error: EmbedError| embed_error_to_sql(&error);
    let first = pool.acquire().map_err(to_sql)?;
    let mut leases: Vec<Lease<'_>> = vec![first];
    let wanted = texts
        .len()
        .div_ceil(WORK_UNIT_TEXTS)
        .min(pool.max_sessions());
    while leases.len() < wanted {
        match pool.try_acquire() {
            Some(lease) => leases.push(lease),
            None => break,
        }
    }

    // Tokenize first, a contiguous share per session, so that the units can be cut by token
    // count: a unit's run costs what its longest text costs, and texts of equal token count
    // pad least.
    let share = texts.len().div_ceil(leases.len());
    let encoded: Vec<EncodedText> = on_every_lease(&leases, |worker, lease| {
        let start = (worker * share).min(texts.len());
        let end = (start + share).min(texts.len());
        lease.encode_texts(&texts[start..end])
    })
    .map_err(to_sql)?
    .into_iter()
    .flatten()
    .collect();
    if encoded.len() != texts.len() {
        return Err(crate::error::SqlError::internal(format!(
            "tokenizing returned {} encodings for {} texts",
            encoded.len(),
            texts.len()
        )));
    }

    // Longest first: the expensive units start early and the tail of the batch is short.
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by_key(|&index| std::cmp::Reverse(encoded[index].tokens()));
    let units: Vec<&[usize]> = order.chunks(WORK_UNIT_TEXTS).collect();
    let next_unit = AtomicUsize::new(0);
    let done: Vec<Vec<UnitVectors>> = on_every_lease(&leases, |_, lease| {
        let mut done = Vec::new();
        loop {
            let unit_index = next_unit.fetch_add(1, Ordering::Relaxed);
            let Some(unit) = units.get(unit_index) else {
                return Ok(done);
            };
            let unit_texts: Vec<&EncodedText> = unit.iter().map(|&index| &encoded[index]).collect();
            done.push((unit_index, lease.embed_encoded(&unit_texts)?));
        }
    })
    .map_err(to_sql)?;
    drop(leases);

    let mut vectors: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
    let mut filled = 0;
    for (unit_index, unit_vectors) in done.into_iter().flatten() {
        for (&index, vector) in units[unit_index].iter().zip(unit_vectors) {
            vectors[index] = vector;
            filled += 1;
        }
    }
    if filled != texts.len() {
        return Err(crate::error::SqlError::internal(format!(
            "embedding returned {filled} vectors for {} texts",
            texts.len()
        )));
    }
    Ok(vectors)
}

/// Runs `work(worker, lease)` for every lease at once: the first on the calling thread, the
/// others on scoped helper threads. Results come in lease order. A helper thread that could
/// not start is reported as an error rather than leaving its share undone.
fn on_every_lease<T: Send>(
    leases: &[Lease<'_>],
    work: impl Fn(usize, &Lease<'_>) -> Result<T, EmbedError> + Sync,
) -> Result<Vec<T>, EmbedError> {
    std::thread::scope(|scope| {
        let (own, helpers) = leases.split_first().expect("at least the first lease");
        let work = &work;
        let handles: Vec<_> = helpers
            .iter()
            .enumerate()
            .map(|(i, lease)| {
                std::thread::Builder::new()
                    .name("custos-embed".to_owned())
                    .spawn_scoped(scope, move || work(i + 1, lease))
            })
            .collect();
        let mut results = vec![work(0, own)];
        for handle in handles {
            results.push(match handle {
                Ok(handle) => handle.join().unwrap_or_else(|_| {
                    Err(EmbedError::Runtime(
                        "an embedding thread panicked".to_owned(),
                    ))
                }),
                Err(error) => Err(EmbedError::Runtime(format!(
                    "cannot start an embedding thread: {error}"
                ))),
            });
        }
        results.into_iter().collect()
    })
}
