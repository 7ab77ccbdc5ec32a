//! [`EmbeddingCache`]: a bounded map from text to its embedding, so a text that is embedded
//! again (a repeated query, a re-inserted row, an UPDATE that leaves the text as it was) costs
//! a hash instead of a model run.
//!
//! # Shape
//!
//! - Keyed by the sha256 of the text, not the text: a key is 32 bytes however long the text
//!   (a 100 KB document must not pin 100 KB in the cache), and sha256 collisions do not occur
//!   in practice. A hit therefore returns exactly the vector the model gave for that text.
//! - Two generations, "recent" and "older", each at most `capacity / 2` entries. Inserts go
//!   to `recent`; when it is full it becomes `older` and the previous `older` is dropped
//!   whole. A hit in `older` moves the entry to `recent`. So the cache holds at most
//!   `capacity` entries, every operation is O(1), and an entry used within the last
//!   `capacity / 2` insertions survives: LRU in effect, without a linked list.
//! - Memory: an entry is a 32-byte key and a shared 384-float vector (1.5 KiB), so the
//!   default [`DEFAULT_CACHE_ENTRIES`] (10,000) costs about 16 MB.
//!
//! Counters (`hits`, `misses`, `evictions`) are cumulative for the life of the cache and are
//! shown by the `custos_models` view.

use std::collections::HashMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};

/// Entries the process-wide cache holds by default (about 16 MB of vectors).
pub const DEFAULT_CACHE_ENTRIES: usize = 10_000;

/// The cache key of a text: its sha256.
pub type TextKey = [u8; 32];

/// The key under which `text` is cached.
pub fn text_key(text: &str) -> TextKey {
    Sha256::digest(text.as_bytes()).into()
}

/// Cumulative counters of a cache, and its current size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub capacity: usize,
    pub entries: usize,
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
}

/// Bounded two-generation text → vector cache (see the module docs). Not synchronised: the
/// owner wraps it in a lock.
#[derive(Debug)]
pub struct EmbeddingCache {
    /// At most `capacity` entries in the two generations together; 0 disables the cache.
    capacity: usize,
    recent: HashMap<TextKey, Arc<[f32]>>,
    older: HashMap<TextKey, Arc<[f32]>>,
    hits: u64,
    misses: u64,
    evictions: u64,
}

impl EmbeddingCache {
    pub fn new(capacity: usize) -> EmbeddingCache {
        EmbeddingCache {
            capacity,
            recent: HashMap::new(),
            older: HashMap::new(),
            hits: 0,
            misses: 0,
            evictions: 0,
        }
    }

    /// Entries one generation holds before it is retired.
    fn generation_capacity(&self) -> usize {
        self.capacity.div_ceil(2)
    }

    /// The cached vector of `key`, counting a hit or a miss.
    pub fn get(&mut self, key: &TextKey) -> Option<Arc<[f32]>> {
        if let Some(vector) = self.recent.get(key) {
            self.hits += 1;
            return Some(Arc::clone(vector));
        }
        if let Some(vector) = self.older.remove(key) {
            self.hits += 1;
            self.insert_recent(*key, Arc::clone(&vector));
            return Some(vector);
        }
        self.misses += 1;
        None
    }

    /// Stores `vector` as the embedding of `key`.
    pub fn insert(&mut self, key: TextKey, vector: Arc<[f32]>) {
        if self.capacity == 0 {
            return;
        }
        self.older.remove(&key);
        self.insert_recent(key, vector);
    }

    fn insert_recent(&mut self, key: TextKey, vector: Arc<[f32]>) {
        if !self.recent.contains_key(&key) && self.recent.len() >= self.generation_capacity() {
            let retired = std::mem::take(&mut self.recent);
            self.evictions += self.older.len() as u64;
            self.older = retired;
        }
        self.recent.insert(key, vector);
        debug_assert!(self.recent.len() + self.older.len() <= self.capacity + 1);
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            capacity: self.capacity,
            entries: self.recent.len() + self.older.len(),
            hits: self.hits,
            misses: self.misses,
            evictions: self.evictions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(fill: f32) -> Arc<[f32]> {
        Arc::from(vec![fill; 4])
    }

    #[test]
    fn hit_returns_the_stored_vector_and_counts() {
        let mut cache = EmbeddingCache::new(10);
        let key = text_key("hello");
        assert!(cache.get(&key).is_none());
        cache.insert(key, vector(1.0));
        assert_eq!(cache.get(&key).as_deref(), Some(&[1.0; 4][..]));
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses, stats.entries), (1, 1, 1));
    }

    #[test]
    fn never_holds_more_than_capacity_entries() {
        let mut cache = EmbeddingCache::new(100);
        for index in 0..1_000 {
            cache.insert(text_key(&index.to_string()), vector(index as f32));
            assert!(cache.stats().entries <= 100, "at {index}");
        }
        assert!(cache.stats().evictions >= 800);
    }

    #[test]
    fn recently_used_entries_survive_a_stream_of_new_ones() {
        let mut cache = EmbeddingCache::new(100);
        let hot = text_key("hot");
        cache.insert(hot, vector(7.0));
        for index in 0..10_000 {
            cache.insert(text_key(&index.to_string()), vector(0.0));
            if index % 40 == 0 {
                assert!(cache.get(&hot).is_some(), "hot entry evicted at {index}");
            }
        }
    }

    #[test]
    fn zero_capacity_caches_nothing() {
        let mut cache = EmbeddingCache::new(0);
        cache.insert(text_key("a"), vector(1.0));
        assert!(cache.get(&text_key("a")).is_none());
        assert_eq!(cache.stats().entries, 0);
    }

    #[test]
    fn keys_distinguish_texts_and_are_stable() {
        assert_eq!(text_key("same"), text_key("same"));
        assert_ne!(text_key("same"), text_key("Same"));
        assert_ne!(text_key(""), text_key(" "));
    }
}
