//! Decompressed blocks for point reads, shared by every segment of the process.
//!
//! A point lookup needs one value from each column's block. Decoding all 1,024 values of a
//! block for that is most of the cost, so point reads keep the *decompressed bytes* of a block
//! with the start offset of each value, and decode only the value asked for. The cache holds
//! at most [`RAW_BLOCK_CACHE_BYTES`] and evicts the oldest blocks first. Segments are never
//! modified, so a cached block never goes stale; a dropped segment's blocks age out.
//!
//! Scans read whole blocks: they share a second cache of *decoded* blocks (one `Value` per
//! row), at most [`DECODED_BLOCK_CACHE_BYTES`], split into shards so that parallel scan
//! workers rarely wait for each other. Both caches evict the oldest blocks first.
//!
//! Decompression reuses one zstd context per thread instead of creating one per block.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

use crate::types::{DecodeError, Reader, Value};

/// Byte budget of the shared cache of decompressed blocks.
pub const RAW_BLOCK_CACHE_BYTES: usize = 256 << 20;

/// Byte budget (approximate: values and their heap data) of the shared cache of decoded
/// blocks.
pub const DECODED_BLOCK_CACHE_BYTES: usize = 1 << 30;

const DECODED_SHARDS: usize = 16;

/// One decompressed block and where each of its values starts.
pub struct RawBlock {
    bytes: Vec<u8>,
    starts: Vec<u32>,
}

impl RawBlock {
    /// Indexes the values of a decompressed block of `rows` values.
    pub fn new(bytes: Vec<u8>, rows: usize) -> Result<RawBlock, DecodeError> {
        let mut starts = Vec::with_capacity(rows);
        let mut reader = Reader::new(&bytes);
        for _ in 0..rows {
            starts.push(reader.position() as u32);
            reader.skip_value()?;
        }
        if !reader.is_empty() {
            return Err(DecodeError {
                offset: reader.position(),
                reason: "bytes after the last value of a block",
            });
        }
        Ok(RawBlock { bytes, starts })
    }

    /// The value of row `index` of the block.
    pub fn value(&self, index: usize) -> Result<Option<Value>, DecodeError> {
        let Some(start) = self.starts.get(index) else {
            return Ok(None);
        };
        let mut reader = Reader::new(&self.bytes[*start as usize..]);
        reader.read_value().map(Some)
    }

    /// Every value of the block, decoded.
    pub fn values(&self) -> Result<Vec<Value>, DecodeError> {
        let mut reader = Reader::new(&self.bytes);
        (0..self.starts.len())
            .map(|_| reader.read_value())
            .collect()
    }

    fn size(&self) -> usize {
        self.bytes.len() + self.starts.len() * 4 + 64
    }
}

type Key = (u64, u16, u32);

#[derive(Default)]
struct Cache {
    blocks: HashMap<Key, Arc<RawBlock>>,
    order: VecDeque<Key>,
    bytes: usize,
}

fn cache() -> &'static Mutex<Cache> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(Cache::default()))
}

/// The cached block of (segment, column, block), if any.
pub fn get(segment: u64, attnum: u16, block: u32) -> Option<Arc<RawBlock>> {
    cache()
        .lock()
        .blocks
        .get(&(segment, attnum, block))
        .cloned()
}

/// Caches a block, evicting the oldest ones past the budget.
pub fn insert(segment: u64, attnum: u16, block: u32, raw: Arc<RawBlock>) {
    let key = (segment, attnum, block);
    let mut cache = cache().lock();
    if cache.blocks.contains_key(&key) {
        return;
    }
    cache.bytes += raw.size();
    cache.blocks.insert(key, raw);
    cache.order.push_back(key);
    while cache.bytes > RAW_BLOCK_CACHE_BYTES {
        let Some(oldest) = cache.order.pop_front() else {
            break;
        };
        if let Some(evicted) = cache.blocks.remove(&oldest) {
            cache.bytes -= evicted.size();
        }
    }
}

#[derive(Default)]
struct DecodedShard {
    blocks: HashMap<Key, (Arc<Vec<Value>>, usize)>,
    order: VecDeque<Key>,
    bytes: usize,
}

fn decoded_shard(key: &Key) -> &'static Mutex<DecodedShard> {
    static SHARDS: OnceLock<Vec<Mutex<DecodedShard>>> = OnceLock::new();
    let shards = SHARDS.get_or_init(|| {
        (0..DECODED_SHARDS)
            .map(|_| Mutex::new(DecodedShard::default()))
            .collect()
    });
    let mixed = key
        .0
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(u64::from(key.1) << 32)
        .wrapping_add(u64::from(key.2))
        .wrapping_mul(0xff51_afd7_ed55_8ccd);
    &shards[(mixed >> 59) as usize % DECODED_SHARDS]
}

/// The cached decoded block of (segment, column, block), if any.
pub fn get_decoded(segment: u64, attnum: u16, block: u32) -> Option<Arc<Vec<Value>>> {
    let key = (segment, attnum, block);
    decoded_shard(&key)
        .lock()
        .blocks
        .get(&key)
        .map(|(values, _)| Arc::clone(values))
}

/// Caches a decoded block, evicting the oldest ones of its shard past the shard's budget.
pub fn insert_decoded(segment: u64, attnum: u16, block: u32, values: Arc<Vec<Value>>) {
    let key = (segment, attnum, block);
    let size = values.iter().map(Value::approx_size).sum::<usize>() + 64;
    let budget = DECODED_BLOCK_CACHE_BYTES / DECODED_SHARDS;
    if size > budget {
        return;
    }
    let mut shard = decoded_shard(&key).lock();
    if shard.blocks.contains_key(&key) {
        return;
    }
    shard.bytes += size;
    shard.blocks.insert(key, (values, size));
    shard.order.push_back(key);
    while shard.bytes > budget {
        let Some(oldest) = shard.order.pop_front() else {
            break;
        };
        if let Some((_, evicted)) = shard.blocks.remove(&oldest) {
            shard.bytes -= evicted;
        }
    }
}

/// Decodes every value of a decompressed block of `rows` values in one pass.
pub fn decode_values(bytes: &[u8], rows: usize) -> Result<Vec<Value>, DecodeError> {
    let mut reader = Reader::new(bytes);
    let mut values = Vec::with_capacity(rows);
    for _ in 0..rows {
        values.push(reader.read_value()?);
    }
    if !reader.is_empty() {
        return Err(DecodeError {
            offset: reader.position(),
            reason: "bytes after the last value of a block",
        });
    }
    Ok(values)
}

/// Decompresses a zstd frame of `raw_len` bytes with this thread's reusable context.
pub fn decompress(stored: &[u8], raw_len: usize) -> std::io::Result<Vec<u8>> {
    thread_local! {
        static CONTEXT: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
    }
    CONTEXT.with(|context| {
        let mut context = context.borrow_mut();
        let decompressor = match context.as_mut() {
            Some(d) => d,
            None => context.insert(zstd::bulk::Decompressor::new()?),
        };
        decompressor.decompress(stored, raw_len)
    })
}
