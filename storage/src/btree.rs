//! B-tree indexes (primary key, UNIQUE, secondary equality and range), kept in memory.
//!
//! An index holds one entry per stored row version: `(key, row_id)`, ordered by key then row
//! id. Visibility is decided by the row, not the entry: a lookup returns candidate row ids that
//! the caller checks against its snapshot. Entries go away only when compaction drops the row
//! version physically, or when a failed commit is undone.
//!
//! Entries live in two places, so that readers never block the committing writer:
//!
//! - a lock-free skip list, for the entries of commits that add a few rows;
//! - sorted runs, for bulk commits ([`BTreeIndex::insert_many`] with at least
//!   [`MIN_RUN_ENTRIES`] entries: a COPY, a large INSERT, a rebuild): the keys of a run are
//!   one flat vector of values and its row ids another, built and sorted once, published whole
//!   (an `ArcSwap` of the list of runs) and searched by bisection. Publishing a run merges it
//!   with the previous one while that one is at most twice as large, so the sizes at least
//!   double from the newest run to the oldest and there are O(log n) runs. A removed entry of
//!   a run is marked in the run's bitmap and dropped at the next merge.
//!
//! Only the committing writer (under the engine's commit lock) adds or removes entries.
//! Indexes are not persisted: they are rebuilt from the rows when the engine opens (after the
//! WAL replay), which makes them consistent with MVCC and crash-safe by construction.
//!
//! Key order is [`Value`]'s order; NULL sorts last. A key with a NULL never conflicts in a
//! unique index (PostgreSQL's default NULLS DISTINCT), `=` lookups never match NULL, and range
//! scans stop before NULL keys.

use std::cmp::Ordering;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering as AtomicOrdering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use crossbeam_skiplist::SkipSet;

use crate::catalog::{AttNum, IndexDef};
use crate::types::Value;

/// A bulk insert of at least this many entries becomes a sorted run; fewer go to the skip
/// list one by one.
pub const MIN_RUN_ENTRIES: usize = 256;

/// Keys between two fences of a run's integer keys (see `Run::fences`).
const FENCE_STRIDE: usize = 32;

#[derive(Debug, Clone)]
pub struct IndexEntry {
    pub key: Vec<Value>,
    pub row_id: u64,
}

impl PartialEq for IndexEntry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for IndexEntry {}
impl PartialOrd for IndexEntry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for IndexEntry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key
            .cmp(&other.key)
            .then(self.row_id.cmp(&other.row_id))
    }
}

/// `key` compared with a key prefix on the prefix's columns.
#[inline]
fn prefix_cmp(key: &[Value], prefix: &[Value]) -> Ordering {
    let n = prefix.len().min(key.len());
    key[..n].cmp(&prefix[..n])
}

/// An integer value of any width as `i64` (integers of all widths compare as numbers).
#[inline]
fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Int2(n) => Some(i64::from(*n)),
        Value::Int4(n) => Some(i64::from(*n)),
        Value::Int8(n) => Some(*n),
        _ => None,
    }
}

/// Whether `key` lies within prefix bounds (and does not start with NULL).
fn within(key: &[Value], lower: &Bound<Vec<Value>>, upper: &Bound<Vec<Value>>) -> bool {
    if key.first().is_none_or(Value::is_null) {
        return false;
    }
    let above = match lower {
        Bound::Included(b) => prefix_cmp(key, b) != Ordering::Less,
        Bound::Excluded(b) => prefix_cmp(key, b) == Ordering::Greater,
        Bound::Unbounded => true,
    };
    let below = match upper {
        Bound::Included(b) => prefix_cmp(key, b) != Ordering::Greater,
        Bound::Excluded(b) => prefix_cmp(key, b) == Ordering::Less,
        Bound::Unbounded => true,
    };
    above && below
}

/// Entries sorted by (key, row id), immutable but for their removal marks.
struct Run {
    width: usize,
    /// `width` values per entry.
    keys: Vec<Value>,
    /// The keys again as plain integers, when the run has one integer column (the usual
    /// primary key): a point lookup searches these rather than comparing `Value`s.
    int_keys: Option<Vec<i64>>,
    /// Every [`FENCE_STRIDE`]th integer key: small enough to stay in cache, so a search
    /// touches few cache lines of `int_keys`.
    fences: Vec<i64>,
    row_ids: Vec<u64>,
    /// One bit per entry: removed.
    removed: Box<[AtomicU64]>,
    removed_count: AtomicUsize,
}

impl Run {
    /// A run of `keys` (`width` values per entry) and their row ids, in any order.
    fn build(width: usize, mut keys: Vec<Value>, mut row_ids: Vec<u64>) -> Run {
        debug_assert_eq!(keys.len(), width * row_ids.len());
        let span = |i: usize| i * width..(i + 1) * width;
        let entry_cmp = |keys: &[Value], ids: &[u64], a: usize, b: usize| {
            keys[span(a)].cmp(&keys[span(b)]).then(ids[a].cmp(&ids[b]))
        };
        let sorted =
            (1..row_ids.len()).all(|i| entry_cmp(&keys, &row_ids, i - 1, i) != Ordering::Greater);
        if !sorted {
            let mut order: Vec<usize> = (0..row_ids.len()).collect();
            order.sort_unstable_by(|&a, &b| entry_cmp(&keys, &row_ids, a, b));
            let mut sorted_keys = Vec::with_capacity(keys.len());
            for &i in &order {
                for value in &mut keys[span(i)] {
                    sorted_keys.push(std::mem::replace(value, Value::Null));
                }
            }
            row_ids = order.iter().map(|&i| row_ids[i]).collect();
            keys = sorted_keys;
        }
        Run::from_sorted(width, keys, row_ids)
    }

    fn from_sorted(width: usize, keys: Vec<Value>, row_ids: Vec<u64>) -> Run {
        let words = row_ids.len().div_ceil(64);
        let int_keys = if width == 1 {
            keys.iter().map(integer).collect::<Option<Vec<i64>>>()
        } else {
            None
        };
        let fences = int_keys
            .as_ref()
            .map(|ints| ints.iter().step_by(FENCE_STRIDE).copied().collect())
            .unwrap_or_default();
        Run {
            width,
            keys,
            int_keys,
            fences,
            row_ids,
            removed: (0..words).map(|_| AtomicU64::new(0)).collect(),
            removed_count: AtomicUsize::new(0),
        }
    }

    fn len(&self) -> usize {
        self.row_ids.len()
    }

    fn live_len(&self) -> usize {
        self.len() - self.removed_count.load(AtomicOrdering::Relaxed)
    }

    #[inline]
    fn key(&self, i: usize) -> &[Value] {
        &self.keys[i * self.width..(i + 1) * self.width]
    }

    #[inline]
    fn is_removed(&self, i: usize) -> bool {
        self.removed_count.load(AtomicOrdering::Relaxed) > 0
            && self.removed[i / 64].load(AtomicOrdering::Relaxed) & (1 << (i % 64)) != 0
    }

    /// The first position whose integer key is not below `wanted`. Keys that are dense (a
    /// serial or identity column) are found by interpolation at the first probe; otherwise
    /// the fences narrow the search to one stride.
    fn int_lower_bound(&self, ints: &[i64], wanted: i64) -> usize {
        let (Some(&lowest), Some(&highest)) = (ints.first(), ints.last()) else {
            return 0;
        };
        if wanted <= lowest {
            return 0;
        }
        if wanted > highest {
            return ints.len();
        }
        let span = i128::from(highest) - i128::from(lowest);
        let guess =
            ((i128::from(wanted) - i128::from(lowest)) * (ints.len() as i128 - 1) / span) as usize;
        if ints[guess] == wanted && ints[guess - 1] < wanted {
            return guess;
        }
        let fence = self.fences.partition_point(|&k| k < wanted);
        let start = fence.saturating_sub(1) * FENCE_STRIDE;
        let end = (fence * FENCE_STRIDE + 1).min(ints.len());
        start + ints[start..end].partition_point(|&k| k < wanted)
    }

    /// The position of the first entry whose key starts with `prefix`, if any.
    #[inline]
    fn find_prefix(&self, prefix: &[Value]) -> Option<usize> {
        if let (Some(ints), [value]) = (&self.int_keys, prefix) {
            if let Some(wanted) = integer(value) {
                let at = self.int_lower_bound(ints, wanted);
                return (at < ints.len() && ints[at] == wanted).then_some(at);
            }
        }
        let at = self.partition(|k| prefix_cmp(k, prefix) == Ordering::Less);
        (at < self.len() && prefix_cmp(self.key(at), prefix) == Ordering::Equal).then_some(at)
    }

    /// The first position `i` at which `before(key(i))` no longer holds (`before` must hold
    /// for a prefix of the run).
    fn partition(&self, before: impl Fn(&[Value]) -> bool) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if before(self.key(mid)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Marks the entry `(key, row_id)` removed; returns whether the run had it.
    fn remove(&self, key: &[Value], row_id: u64) -> bool {
        let at = self.partition(|k| k < key);
        for i in at..self.len() {
            if self.key(i) != key {
                break;
            }
            if self.row_ids[i] == row_id {
                let bit = 1u64 << (i % 64);
                let previous = self.removed[i / 64].fetch_or(bit, AtomicOrdering::Relaxed);
                if previous & bit == 0 {
                    self.removed_count.fetch_add(1, AtomicOrdering::Relaxed);
                }
                return true;
            }
        }
        false
    }

    /// The live entries of two runs, merged (`self` older or newer, it does not matter).
    fn merge(&self, other: &Run) -> Run {
        debug_assert_eq!(self.width, other.width);
        let capacity = self.live_len() + other.live_len();
        let mut keys = Vec::with_capacity(capacity * self.width);
        let mut row_ids = Vec::with_capacity(capacity);
        let (mut i, mut j) = (0, 0);
        let mut take = |run: &Run, at: usize| {
            if !run.is_removed(at) {
                keys.extend_from_slice(run.key(at));
                row_ids.push(run.row_ids[at]);
            }
        };
        while i < self.len() || j < other.len() {
            let first = if i == self.len() {
                false
            } else if j == other.len() {
                true
            } else {
                self.key(i)
                    .cmp(other.key(j))
                    .then(self.row_ids[i].cmp(&other.row_ids[j]))
                    != Ordering::Greater
            };
            if first {
                take(self, i);
                i += 1;
            } else {
                take(other, j);
                j += 1;
            }
        }
        Run::from_sorted(self.width, keys, row_ids)
    }
}

/// One B-tree index of a table.
pub struct BTreeIndex {
    pub oid: u32,
    pub name: String,
    pub columns: Vec<AttNum>,
    pub unique: bool,
    /// Entries added a few at a time.
    entries: SkipSet<IndexEntry>,
    /// Entries added in bulk, newest run last.
    runs: ArcSwap<Vec<Arc<Run>>>,
}

impl BTreeIndex {
    pub fn new(def: &IndexDef) -> BTreeIndex {
        BTreeIndex {
            oid: def.oid,
            name: def.name.clone(),
            columns: def.columns.clone(),
            unique: def.unique,
            entries: SkipSet::new(),
            runs: ArcSwap::from_pointee(Vec::new()),
        }
    }

    /// The key of `row` (a row widened to the table's width).
    pub fn key_of(&self, row: &[Value]) -> Vec<Value> {
        self.columns
            .iter()
            .map(|a| row.get(usize::from(*a) - 1).cloned().unwrap_or(Value::Null))
            .collect()
    }

    /// Appends the key of `row` to `keys` (see [`BTreeIndex::insert_many`]).
    pub fn push_key_of(&self, row: &[Value], keys: &mut Vec<Value>) {
        keys.extend(
            self.columns
                .iter()
                .map(|a| row.get(usize::from(*a) - 1).cloned().unwrap_or(Value::Null)),
        );
    }

    pub fn insert(&self, key: Vec<Value>, row_id: u64) {
        self.entries.insert(IndexEntry { key, row_id });
    }

    /// Adds many entries: `keys` holds one key (as many values as the index has columns) per
    /// row id, in any order. Called by the committing writer (or a rebuild) only.
    pub fn insert_many(&self, keys: Vec<Value>, row_ids: Vec<u64>) {
        let width = self.columns.len();
        debug_assert_eq!(keys.len(), width * row_ids.len());
        if row_ids.len() < MIN_RUN_ENTRIES {
            let mut values = keys.into_iter();
            for row_id in row_ids {
                let key: Vec<Value> = values.by_ref().take(width).collect();
                self.insert(key, row_id);
            }
            return;
        }
        self.insert_run(keys, row_ids);
    }

    /// Publishes the entries as a new run, merged with the previous runs as needed.
    fn insert_run(&self, keys: Vec<Value>, row_ids: Vec<u64>) {
        let run = Run::build(self.columns.len(), keys, row_ids);
        let mut runs: Vec<Arc<Run>> = self.runs.load().iter().cloned().collect();
        runs.push(Arc::new(run));
        // Keep sizes doubling from newest to oldest: O(log n) runs.
        while runs.len() >= 2 {
            let n = runs.len();
            if runs[n - 2].live_len() > 2 * runs[n - 1].live_len() {
                break;
            }
            let newest = runs.pop().expect("two runs");
            let older = runs.pop().expect("two runs");
            runs.push(Arc::new(older.merge(&newest)));
        }
        self.runs.store(Arc::new(runs));
    }

    pub fn remove(&self, key: Vec<Value>, row_id: u64) {
        let probe = IndexEntry { key, row_id };
        if self.entries.remove(&probe).is_some() {
            return;
        }
        for run in self.runs.load().iter() {
            if run.remove(&probe.key, row_id) {
                return;
            }
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len() + self.runs.load().iter().map(|r| r.live_len()).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.runs.load().iter().all(|r| r.live_len() == 0)
    }

    /// Visits, in key then row-id order, the row id of every version whose key starts with
    /// `prefix`, until `visit` returns `true`; returns whether it did. `prefix` is lent to the
    /// search probe and given back, so a probe of one run or of the skip list allocates
    /// nothing (the point lookups and the unique checks of bulk loads go through here). A
    /// prefix with a NULL matches nothing.
    pub fn visit_prefix(
        &self,
        prefix: &mut Vec<Value>,
        mut visit: impl FnMut(u64) -> bool,
    ) -> bool {
        if prefix.is_empty() || prefix.iter().any(Value::is_null) {
            return false;
        }
        let runs = self.runs.load();
        let width = prefix.len();
        if runs.is_empty() {
            return self.visit_skip_list(prefix, visit);
        }
        let matching_run = |run: &Run| run.find_prefix(prefix);
        if runs.len() == 1 && self.entries.is_empty() {
            let run = &runs[0];
            let Some(mut at) = matching_run(run) else {
                return false;
            };
            while at < run.len() && run.key(at)[..width] == prefix[..] {
                if !run.is_removed(at) && visit(run.row_ids[at]) {
                    return true;
                }
                at += 1;
            }
            return false;
        }
        // Several sources: gather the matches, then visit them in order.
        let mut found: Vec<(&[Value], u64)> = Vec::new();
        let mut sources = 0;
        for run in runs.iter() {
            let Some(mut at) = matching_run(run) else {
                continue;
            };
            sources += 1;
            while at < run.len() && run.key(at)[..width] == prefix[..] {
                if !run.is_removed(at) {
                    found.push((run.key(at), run.row_ids[at]));
                }
                at += 1;
            }
        }
        let listed = self.skip_list_matches(prefix);
        if !listed.is_empty() {
            sources += 1;
        }
        found.extend(listed.iter().map(|e| (e.key.as_slice(), e.row_id)));
        if sources > 1 {
            found.sort_unstable();
        }
        found.into_iter().any(|(_, row_id)| visit(row_id))
    }

    fn visit_skip_list(&self, prefix: &mut Vec<Value>, mut visit: impl FnMut(u64) -> bool) -> bool {
        if self.entries.is_empty() {
            return false;
        }
        let probe = IndexEntry {
            key: std::mem::take(prefix),
            row_id: 0,
        };
        let width = probe.key.len();
        let mut found = false;
        let mut cursor = self.entries.lower_bound(Bound::Included(&probe));
        while let Some(entry) = cursor {
            let matches = entry.key.len() >= width && entry.key[..width] == probe.key[..];
            if !matches {
                break;
            }
            if visit(entry.row_id) {
                found = true;
                break;
            }
            cursor = entry.next();
        }
        *prefix = probe.key;
        found
    }

    /// The skip-list entries whose key starts with `prefix`.
    fn skip_list_matches(&self, prefix: &[Value]) -> Vec<IndexEntry> {
        let mut out = Vec::new();
        if self.entries.is_empty() {
            return out;
        }
        let probe = IndexEntry {
            key: prefix.to_vec(),
            row_id: 0,
        };
        let mut cursor = self.entries.lower_bound(Bound::Included(&probe));
        while let Some(entry) = cursor {
            if prefix_cmp(&entry.key, prefix) != Ordering::Equal || entry.key.len() < prefix.len() {
                break;
            }
            out.push(entry.value().clone());
            cursor = entry.next();
        }
        out
    }

    /// Row ids of every version whose key starts with `prefix` (no NULL in `prefix`).
    pub fn lookup(&self, prefix: &[Value]) -> Vec<u64> {
        let mut out = Vec::new();
        self.visit_prefix(&mut prefix.to_vec(), |row_id| {
            out.push(row_id);
            false
        });
        out
    }

    /// Row ids of every version whose key prefix lies within the bounds (bounds are key
    /// prefixes; NULL keys are never returned), in key then row-id order.
    pub fn range(&self, lower: Bound<Vec<Value>>, upper: Bound<Vec<Value>>) -> Vec<u64> {
        if let (Bound::Included(l) | Bound::Excluded(l), Bound::Included(h) | Bound::Excluded(h)) =
            (&lower, &upper)
        {
            let n = l.len().min(h.len());
            if l[..n] > h[..n] {
                return Vec::new();
            }
        }
        let mut found: Vec<(&[Value], u64)> = Vec::new();
        let mut sources = 0;
        let runs = self.runs.load();
        for run in runs.iter() {
            let start = match &lower {
                Bound::Included(b) => run.partition(|k| prefix_cmp(k, b) == Ordering::Less),
                Bound::Excluded(b) => run.partition(|k| prefix_cmp(k, b) != Ordering::Greater),
                Bound::Unbounded => 0,
            };
            let before = found.len();
            for at in start..run.len() {
                let key = run.key(at);
                if !within(key, &lower, &upper) {
                    break;
                }
                if !run.is_removed(at) {
                    found.push((key, run.row_ids[at]));
                }
            }
            if found.len() > before {
                sources += 1;
            }
        }
        let listed: Vec<_> = self.skip_list_range(&lower, &upper);
        if !listed.is_empty() {
            sources += 1;
        }
        found.extend(listed.iter().map(|e| (e.key.as_slice(), e.row_id)));
        if sources > 1 {
            found.sort_unstable();
        }
        found.into_iter().map(|(_, row_id)| row_id).collect()
    }

    fn skip_list_range(
        &self,
        lower: &Bound<Vec<Value>>,
        upper: &Bound<Vec<Value>>,
    ) -> Vec<IndexEntry> {
        if self.entries.is_empty() {
            return Vec::new();
        }
        let width = self.columns.len();
        let pad_high = |prefix: &Vec<Value>| {
            // NULL is the greatest value: a prefix padded with NULLs and the largest row id
            // is above every entry that starts with the prefix.
            let mut prefix = prefix.clone();
            prefix.resize(width.max(prefix.len()), Value::Null);
            prefix
        };
        let low = match lower {
            Bound::Included(p) => Bound::Included(IndexEntry {
                key: p.clone(),
                row_id: 0,
            }),
            Bound::Excluded(p) => Bound::Excluded(IndexEntry {
                key: pad_high(p),
                row_id: u64::MAX,
            }),
            Bound::Unbounded => Bound::Unbounded,
        };
        let high = match upper {
            Bound::Included(p) => Bound::Included(IndexEntry {
                key: pad_high(p),
                row_id: u64::MAX,
            }),
            Bound::Excluded(p) => Bound::Excluded(IndexEntry {
                key: p.clone(),
                row_id: 0,
            }),
            // Stop before the first NULL in the leading column.
            Bound::Unbounded => Bound::Excluded(IndexEntry {
                key: vec![Value::Null],
                row_id: 0,
            }),
        };
        if let (Bound::Included(l) | Bound::Excluded(l), Bound::Included(h) | Bound::Excluded(h)) =
            (&low, &high)
        {
            if l > h {
                return Vec::new();
            }
        }
        self.entries
            .range((low, high))
            .filter(|e| !e.key.first().is_some_and(Value::is_null))
            .map(|e| e.value().clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(columns: Vec<AttNum>) -> BTreeIndex {
        BTreeIndex::new(&IndexDef {
            oid: 1,
            name: "i".into(),
            columns,
            ..Default::default()
        })
    }

    fn ints(v: &[i64]) -> Vec<Value> {
        v.iter().map(|x| Value::Int8(*x)).collect()
    }

    /// The same entries one by one, in one bulk insert (one run), and split between runs
    /// and the skip list.
    fn every_layout(columns: Vec<AttNum>, entries: &[(Vec<Value>, u64)]) -> Vec<BTreeIndex> {
        let single = index(columns.clone());
        for (key, id) in entries {
            single.insert(key.clone(), *id);
        }
        let bulk = index(columns.clone());
        let mut keys = Vec::new();
        let mut ids = Vec::new();
        for (key, id) in entries.iter().rev() {
            keys.extend(key.iter().cloned());
            ids.push(*id);
        }
        bulk.insert_run(keys, ids);
        let mixed = index(columns);
        let chunk_size = (entries.len() / 7).max(1);
        for (n, chunk) in entries.chunks(chunk_size).enumerate() {
            if n % 3 == 2 {
                for (key, id) in chunk {
                    mixed.insert(key.clone(), *id);
                }
            } else {
                let keys = chunk.iter().flat_map(|(k, _)| k.iter().cloned()).collect();
                mixed.insert_run(keys, chunk.iter().map(|(_, id)| *id).collect());
            }
        }
        vec![single, bulk, mixed]
    }

    #[test]
    fn equality_and_ranges_on_a_composite_key() {
        let mut entries = Vec::new();
        let mut id = 0;
        for a in 0..5 {
            for b in 0..3 {
                entries.push((ints(&[a, b]), id));
                id += 1;
            }
        }
        entries.push((vec![Value::Int8(2), Value::Null], 100));
        entries.push((vec![Value::Null, Value::Int8(1)], 101));
        for idx in every_layout(vec![1, 2], &entries) {
            assert_eq!(idx.len(), 17);
            assert_eq!(idx.lookup(&ints(&[2])), vec![6, 7, 8, 100]);
            assert_eq!(idx.lookup(&ints(&[2, 1])), vec![7]);
            assert!(idx.lookup(&[Value::Null]).is_empty());
            let between = idx.range(Bound::Excluded(ints(&[1])), Bound::Excluded(ints(&[3])));
            assert_eq!(between, vec![6, 7, 8, 100]);
            let above = idx.range(Bound::Included(ints(&[4])), Bound::Unbounded);
            assert_eq!(above, vec![12, 13, 14]);
            let below = idx.range(Bound::Unbounded, Bound::Excluded(ints(&[1])));
            assert_eq!(below, vec![0, 1, 2]);
            assert!(idx
                .range(Bound::Included(ints(&[3])), Bound::Included(ints(&[1])))
                .is_empty());
            idx.remove(ints(&[2, 1]), 7);
            assert_eq!(idx.lookup(&ints(&[2, 1])), Vec::<u64>::new());
            assert_eq!(idx.lookup(&ints(&[2])), vec![6, 8, 100]);
            assert_eq!(idx.len(), 16);
        }
    }

    #[test]
    fn integer_searches_find_the_first_entry_of_a_key() {
        let shapes: [Vec<i64>; 4] = [
            (1..=5000).collect(),
            (0..5000).map(|i| i * 3 - 7000).collect(),
            (0..5000).map(|i| i / 7).collect(),
            (0..5000).map(|i| (i * i) % 100_003).collect(),
        ];
        for mut keys in shapes {
            keys.sort_unstable();
            let values: Vec<Value> = keys.iter().map(|&k| Value::Int4(k as i32)).collect();
            let run = Run::from_sorted(1, values, (0..keys.len() as u64).collect());
            let ints = run.int_keys.as_deref().expect("integer keys");
            let lowest = keys[0] - 2;
            let highest = keys[keys.len() - 1] + 2;
            for wanted in (lowest..=highest).step_by(1 + (highest - lowest) as usize / 3000) {
                let expected = keys.partition_point(|&k| k < wanted);
                assert_eq!(run.int_lower_bound(ints, wanted), expected, "{wanted}");
            }
        }
    }

    #[test]
    fn runs_and_the_skip_list_agree_on_order_and_merge_as_they_grow() {
        // Keys repeat (a non-unique index) and arrive out of order.
        let entries: Vec<(Vec<Value>, u64)> = (0..3000u64)
            .map(|id| (ints(&[((id * 7919) % 1000) as i64]), id))
            .collect();
        let layouts = every_layout(vec![1], &entries);
        let expected_all = layouts[0].range(Bound::Unbounded, Bound::Unbounded);
        assert_eq!(expected_all.len(), 3000);
        for idx in &layouts {
            assert_eq!(idx.range(Bound::Unbounded, Bound::Unbounded), expected_all);
            for key in [0i64, 1, 500, 999, 1000, -1] {
                let expected = layouts[0].lookup(&ints(&[key]));
                assert_eq!(idx.lookup(&ints(&[key])), expected);
                // Integers of every width find the same entries.
                assert_eq!(idx.lookup(&[Value::Int4(key as i32)]), expected);
            }
            assert!(idx.lookup(&[Value::Text("7".into())]).is_empty());
            assert_eq!(
                idx.range(Bound::Included(ints(&[10])), Bound::Excluded(ints(&[20]))),
                layouts[0].range(Bound::Included(ints(&[10])), Bound::Excluded(ints(&[20])))
            );
            assert!(idx.runs.load().len() <= 4, "runs are merged");
        }
        // Removed entries stay removed through merges.
        let idx = &layouts[2];
        let victims = idx.lookup(&ints(&[7]));
        for id in &victims {
            idx.remove(ints(&[7]), *id);
        }
        let keys = (0..MIN_RUN_ENTRIES as i64)
            .flat_map(|k| ints(&[k]))
            .collect();
        idx.insert_many(keys, (10_000..10_000 + MIN_RUN_ENTRIES as u64).collect());
        assert!(idx.runs.load().len() <= 4, "runs are merged");
        assert_eq!(idx.lookup(&ints(&[7])), vec![10_007]);
        let mut probe = ints(&[7]);
        assert!(idx.visit_prefix(&mut probe, |id| id == 10_007));
        assert_eq!(probe, ints(&[7]), "the probe key is given back");
    }
}
