//! Model-based tests of the storage engine: random histories of transactions, savepoints,
//! checkpoints, compactions, reopens and concurrent readers and writers, run against the real
//! engine and against a model that is a plain map from (primary key, row tag) to row.
//!
//! Every inserted row version gets a tag unique over the whole history and written into its
//! `name` column, so a row read back from the engine names the model entry it stands for. The
//! model follows the engine's contract (see `storage::txn`): a transaction reads its snapshot
//! plus its own changes; a unique key is checked against every committed row not deleted by
//! this transaction and against its own pending rows, at insert and at commit; deleting a row
//! that a later commit deleted fails with 40001, at the statement or at commit; a failed
//! statement leaves the transaction usable.
//!
//! After every step the test compares, for a fresh reader, for the open transaction (its own
//! uncommitted changes included) and for every reader still held from earlier: a full scan,
//! primary-key lookups of present and absent keys (with `get` of each row id found), lookups
//! and a range on the secondary index on `city`, random primary-key ranges, and a projected
//! scan with a block predicate on the key. At the end of a history the engine is reopened and
//! checked once more.
//!
//! `random_histories_match_the_model` runs short random histories with proptest (set
//! `PROPTEST_CASES` for a longer soak); a failure shrinks to a minimal history, printed one
//! step per line. Two deterministic long histories follow: one with many checkpoints and
//! compactions over small segments, ending with one segment holding exactly the live rows;
//! one that starts from a bulk-loaded segment larger than the small-segment size and shows it
//! rewritten once deletes pile up.

mod common;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::time::Instant;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{TestError, TestRunner};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use storage::types::{Row, Value};
use storage::{
    BlockPredicate, Engine, PredicateOp, Savepoint, ScanOptions, StorageError, Transaction,
};

const CITIES: [&str; 4] = ["Lisbon", "Oslo", "Quito", "Lima"];

/// Readers held across steps at most; taking one more releases the oldest.
const MAX_HELD_READERS: usize = 3;

/// Primary-key lookups per view check (random keys, present and absent); the final check of
/// a history looks up every key.
const SAMPLED_KEYS: usize = 24;

/// Keys `0..HOT_KEYS` are drawn more often than the others.
const HOT_KEYS: i64 = 4;

/// A city: 0..4 picks one of [`CITIES`], anything else leaves the city NULL.
type City = u8;

/// Row versions by (primary key, tag).
type State = BTreeMap<(i64, u64), Row>;

/// A change made by one statement.
#[derive(Debug, Clone)]
enum Write {
    /// Inserts one row per key, one at a time; each must fail with 23505 exactly when the
    /// model says the key is taken.
    Insert { keys: Vec<i64>, city: City },
    /// Replaces every row with `key` by a new version, under `new_key` if given.
    Update {
        key: i64,
        new_key: Option<i64>,
        city: City,
    },
    /// Deletes every row with each key.
    Delete { keys: Vec<i64> },
}

#[derive(Debug, Clone)]
enum Op {
    /// Opens the writer transaction (no-op when one is open).
    Begin,
    /// A statement in the open transaction, or in a transaction of its own when none is open.
    Write(Write),
    Commit,
    Rollback,
    Savepoint,
    /// Rolls back to the `nth` savepoint (modulo their number), which stays valid.
    RollbackTo {
        nth: usize,
    },
    Checkpoint,
    Compact,
    /// Drops every transaction and the engine, and opens the directory again.
    Reopen,
    /// Takes a reader that later steps check against the model as of now.
    TakeReader,
    ReleaseReader {
        nth: usize,
    },
    /// A statement committed by another transaction while the writer stays open.
    Concurrent(Write),
    /// Takes a reader, commits `writes` (each in its own transaction), optionally checkpoints
    /// and compacts, then checks the reader still sees the state as of when it began.
    SnapshotCheck {
        writes: Vec<Write>,
        checkpoint: bool,
        compact: bool,
    },
}

/// What the histories exercised, summed over a run, to show that the test is not vacuous.
#[derive(Debug, Default, Clone, Copy)]
struct Coverage {
    unique_violations: usize,
    serialization_failures: usize,
    failed_commits: usize,
    commits: usize,
    rollbacks_to_savepoint: usize,
    checkpoints: usize,
    merged_segments: usize,
    rows_dropped: usize,
    reopens: usize,
    reader_checks: usize,
}

impl Coverage {
    fn add(&mut self, other: &Coverage) {
        self.unique_violations += other.unique_violations;
        self.serialization_failures += other.serialization_failures;
        self.failed_commits += other.failed_commits;
        self.commits += other.commits;
        self.rollbacks_to_savepoint += other.rollbacks_to_savepoint;
        self.checkpoints += other.checkpoints;
        self.merged_segments += other.merged_segments;
        self.rows_dropped += other.rows_dropped;
        self.reopens += other.reopens;
        self.reader_checks += other.reader_checks;
    }
}

#[derive(Debug, Clone, Copy)]
struct Oids {
    table: u32,
    pkey: u32,
    by_city: u32,
}

fn city_value(city: City) -> Value {
    match CITIES.get(usize::from(city)) {
        Some(name) => Value::Text((*name).into()),
        None => Value::Null,
    }
}

/// The row of version `tag` of `key`; every column is derived from the two.
fn model_row(key: i64, tag: u64, city: City) -> Row {
    vec![
        Value::Int8(key),
        Value::Text(format!("row {tag}")),
        city_value(city),
        Value::Numeric(Box::new(
            format!("{tag}.{:02}", key.rem_euclid(100)).parse().unwrap(),
        )),
        Value::Vector(vec![key as f32, tag as f32, 1.0, -0.5]),
    ]
}

fn key_of(row: &Row) -> i64 {
    match row.first() {
        Some(Value::Int8(key)) => *key,
        other => panic!("primary key is not int8: {other:?}"),
    }
}

fn tag_of(row: &Row) -> u64 {
    match row.get(1) {
        Some(Value::Text(name)) => name
            .strip_prefix("row ")
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("not a model row name: {name:?}")),
        other => panic!("name is not text: {other:?}"),
    }
}

fn id_of(row: &Row) -> (i64, u64) {
    (key_of(row), tag_of(row))
}

fn rows_at(state: &State, key: i64) -> impl Iterator<Item = (&(i64, u64), &Row)> {
    state.range((key, 0)..=(key, u64::MAX))
}

/// `key#tag@city` for each row: short enough to read in a failure message.
fn describe<'a>(rows: impl IntoIterator<Item = &'a Row>) -> Vec<String> {
    rows.into_iter()
        .map(|row| {
            let city = match &row[2] {
                Value::Text(c) => c.as_str(),
                _ => "NULL",
            };
            format!("{}#{}@{city}", key_of(row), tag_of(row))
        })
        .collect()
}

/// Asserts that the engine returned exactly the expected rows (in any order).
fn assert_same_rows(what: &str, mut actual: Vec<Row>, mut expected: Vec<Row>) {
    actual.sort_by_key(id_of);
    expected.sort_by_key(id_of);
    if actual == expected {
        return;
    }
    let actual_ids: BTreeSet<_> = actual.iter().map(id_of).collect();
    let expected_ids: BTreeSet<_> = expected.iter().map(id_of).collect();
    let unexpected: Vec<_> = actual
        .iter()
        .filter(|r| !expected_ids.contains(&id_of(r)))
        .collect();
    let missing: Vec<_> = expected
        .iter()
        .filter(|r| !actual_ids.contains(&id_of(r)))
        .collect();
    if unexpected.is_empty() && missing.is_empty() {
        panic!("{what}: same rows but different values:\nengine {actual:?}\nmodel  {expected:?}");
    }
    panic!(
        "{what}: engine returned {} rows, model has {}; unexpected {:?}, missing {:?}",
        actual.len(),
        expected.len(),
        describe(unexpected),
        describe(missing)
    );
}

/// A random bound at a value drawn by `value`, or none.
fn random_bound(rng: &mut StdRng, value: impl FnOnce(&mut StdRng) -> Value) -> Bound<Vec<Value>> {
    let value = value(rng);
    match rng.gen_range(0..5) {
        0 => Bound::Unbounded,
        1 | 2 => Bound::Included(vec![value]),
        _ => Bound::Excluded(vec![value]),
    }
}

/// Whether an index range with these bounds returns `value` (never NULL).
fn within(value: &Value, lower: &Bound<Vec<Value>>, upper: &Bound<Vec<Value>>) -> bool {
    let above = match lower {
        Bound::Included(b) => *value >= b[0],
        Bound::Excluded(b) => *value > b[0],
        Bound::Unbounded => true,
    };
    let below = match upper {
        Bound::Included(b) => *value <= b[0],
        Bound::Excluded(b) => *value < b[0],
        Bound::Unbounded => true,
    };
    !value.is_null() && above && below
}

/// Whether `value <op> bound` holds.
fn satisfies(value: &Value, op: PredicateOp, bound: &Value) -> bool {
    match op {
        PredicateOp::Eq => value == bound,
        PredicateOp::Lt => value < bound,
        PredicateOp::Le => value <= bound,
        PredicateOp::Gt => value > bound,
        PredicateOp::Ge => value >= bound,
    }
}

/// Checks everything `txn` reads against `expected`: scan, pk lookups (`all_keys` or a random
/// sample), city lookups, and two random pk ranges.
fn check_view(
    what: &str,
    txn: &Transaction,
    expected: &State,
    oids: Oids,
    keys: i64,
    rng: &mut StdRng,
    all_keys: bool,
) {
    let scanned = txn.scan_all(oids.table).unwrap();
    let row_ids: BTreeSet<u64> = scanned.iter().map(|(id, _)| *id).collect();
    assert_eq!(
        row_ids.len(),
        scanned.len(),
        "{what}: scan repeats a row id"
    );
    assert_same_rows(
        &format!("{what}: scan"),
        scanned.into_iter().map(|(_, row)| row).collect(),
        expected.values().cloned().collect(),
    );

    let lookup_keys: Vec<i64> = if all_keys {
        (-1..=keys).collect()
    } else {
        (0..SAMPLED_KEYS)
            .map(|_| rng.gen_range(-1..=keys))
            .collect()
    };
    for key in lookup_keys {
        let found = txn.index_lookup(oids.pkey, &[Value::Int8(key)]).unwrap();
        for (row_id, row) in &found {
            assert_eq!(
                txn.get(oids.table, *row_id).unwrap().as_ref(),
                Some(row),
                "{what}: get of row id {row_id} found by pk lookup of {key}"
            );
        }
        assert_same_rows(
            &format!("{what}: pk lookup of {key}"),
            found.into_iter().map(|(_, row)| row).collect(),
            rows_at(expected, key).map(|(_, row)| row.clone()).collect(),
        );
    }

    for city in 0..CITIES.len() as City {
        let value = city_value(city);
        let found = txn
            .index_lookup(oids.by_city, std::slice::from_ref(&value))
            .unwrap();
        assert_same_rows(
            &format!("{what}: city lookup of {value:?}"),
            found.into_iter().map(|(_, row)| row).collect(),
            expected
                .values()
                .filter(|row| row[2] == value)
                .cloned()
                .collect(),
        );
    }
    assert!(
        txn.index_lookup(oids.by_city, &[Value::Null])
            .unwrap()
            .is_empty(),
        "{what}: a lookup of NULL matched rows"
    );

    for _ in 0..2 {
        let lower = random_bound(rng, |rng| Value::Int8(rng.gen_range(-2..keys + 2)));
        let upper = random_bound(rng, |rng| Value::Int8(rng.gen_range(-2..keys + 2)));
        let found = txn
            .index_range(oids.pkey, lower.clone(), upper.clone())
            .unwrap();
        assert_same_rows(
            &format!("{what}: pk range {lower:?}..{upper:?}"),
            found.into_iter().map(|(_, row)| row).collect(),
            expected
                .values()
                .filter(|row| within(&row[0], &lower, &upper))
                .cloned()
                .collect(),
        );
    }

    let lower = random_bound(rng, |rng| {
        city_value(rng.gen_range(0..CITIES.len() as City))
    });
    let upper = random_bound(rng, |rng| {
        city_value(rng.gen_range(0..CITIES.len() as City))
    });
    let found = txn
        .index_range(oids.by_city, lower.clone(), upper.clone())
        .unwrap();
    assert_same_rows(
        &format!("{what}: city range {lower:?}..{upper:?}"),
        found.into_iter().map(|(_, row)| row).collect(),
        expected
            .values()
            .filter(|row| within(&row[2], &lower, &upper))
            .cloned()
            .collect(),
    );

    // Block predicates only skip segment blocks: filtered, the scan is exact. Projected to
    // (id, name, city).
    let op = [
        PredicateOp::Eq,
        PredicateOp::Lt,
        PredicateOp::Le,
        PredicateOp::Gt,
        PredicateOp::Ge,
    ][rng.gen_range(0..5)];
    let bound = Value::Int8(rng.gen_range(-2..keys + 2));
    let options = ScanOptions {
        columns: Some(vec![1, 2, 3]),
        predicates: vec![BlockPredicate {
            attnum: 1,
            op,
            value: bound.clone(),
        }],
    };
    let mut scanned = Vec::new();
    for partition in txn.scan_partitions(oids.table, &options).unwrap() {
        for batch in partition.iter() {
            scanned.extend(batch.unwrap().rows);
        }
    }
    assert_same_rows(
        &format!("{what}: scan of id {op:?} {bound:?}"),
        scanned
            .into_iter()
            .filter(|row| satisfies(&row[0], op, &bound))
            .collect(),
        expected
            .values()
            .filter(|row| satisfies(&row[0], op, &bound))
            .map(|row| row[..3].to_vec())
            .collect(),
    );
}

/// A write transaction and the model of what it sees.
struct Writer {
    txn: Transaction,
    /// Committed rows as of its snapshot.
    snapshot: State,
    /// What it sees: the snapshot with its own changes.
    view: State,
    savepoints: Vec<(Savepoint, State)>,
}

impl Writer {
    fn begin(engine: &Engine, committed: &State) -> Writer {
        Writer {
            txn: engine.begin(),
            snapshot: committed.clone(),
            view: committed.clone(),
            savepoints: Vec::new(),
        }
    }

    /// Whether a row version in the view is this transaction's own insert.
    fn is_pending(&self, id: &(i64, u64)) -> bool {
        !self.snapshot.contains_key(id)
    }

    /// Whether this transaction deleted a committed row version.
    fn deleted(&self, id: &(i64, u64)) -> bool {
        self.snapshot.contains_key(id) && !self.view.contains_key(id)
    }

    /// Whether inserting `key` now must fail with a unique violation: one of its own rows
    /// has the key, or a committed row does that it did not delete.
    fn key_taken(&self, key: i64, committed: &State) -> bool {
        rows_at(&self.view, key).any(|(id, _)| self.is_pending(id))
            || rows_at(committed, key).any(|(id, _)| !self.deleted(id))
    }

    fn insert(
        &mut self,
        oids: Oids,
        key: i64,
        tag: u64,
        city: City,
        committed: &State,
        coverage: &mut Coverage,
    ) {
        let row = model_row(key, tag, city);
        let taken = self.key_taken(key, committed);
        match self.txn.insert(oids.table, row.clone()) {
            Ok(_) => {
                assert!(!taken, "insert of key {key} succeeded over a live key");
                self.view.insert((key, tag), row);
            }
            Err(error) => {
                assert!(
                    taken && error.sqlstate() == "23505",
                    "insert of key {key} failed (taken in the model: {taken}): {error}"
                );
                coverage.unique_violations += 1;
            }
        }
    }

    /// The rows with `key` as the engine's pk index gives them to this transaction.
    fn lookup(&self, oids: Oids, key: i64) -> Vec<(u64, Row)> {
        let found = self
            .txn
            .index_lookup(oids.pkey, &[Value::Int8(key)])
            .unwrap();
        assert_same_rows(
            &format!("writer: pk lookup of {key} before changing it"),
            found.iter().map(|(_, row)| row.clone()).collect(),
            rows_at(&self.view, key)
                .map(|(_, row)| row.clone())
                .collect(),
        );
        found
    }

    /// Whether deleting the row version `id` must fail with a serialization failure: it is
    /// committed and a later commit deleted it.
    fn delete_conflicts(&self, id: &(i64, u64), committed: &State) -> bool {
        !self.is_pending(id) && !committed.contains_key(id)
    }

    fn delete(&mut self, oids: Oids, key: i64, committed: &State, coverage: &mut Coverage) {
        for (row_id, row) in self.lookup(oids, key) {
            let id = id_of(&row);
            let conflict = self.delete_conflicts(&id, committed);
            match self.txn.delete(oids.table, row_id) {
                Ok(()) => {
                    assert!(!conflict, "delete of {id:?} succeeded over a later delete");
                    self.view.remove(&id);
                }
                Err(error) => {
                    assert!(
                        conflict && matches!(error, StorageError::SerializationFailure),
                        "delete of {id:?} failed (conflict in the model: {conflict}): {error}"
                    );
                    coverage.serialization_failures += 1;
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn update(
        &mut self,
        oids: Oids,
        key: i64,
        new_key: i64,
        city: City,
        tags: &mut u64,
        committed: &State,
        coverage: &mut Coverage,
    ) {
        for (row_id, row) in self.lookup(oids, key) {
            let id = id_of(&row);
            *tags += 1;
            let new_row = model_row(new_key, *tags, city);
            let conflict = self.delete_conflicts(&id, committed);
            // The update's insert sees the old version gone.
            let old = self.view.remove(&id).expect("looked-up row is in the view");
            let taken = !conflict && self.key_taken(new_key, committed);
            match self.txn.update(oids.table, row_id, new_row.clone()) {
                Ok(_) => {
                    assert!(
                        !conflict && !taken,
                        "update of {id:?} to key {new_key} succeeded \
                         (conflict {conflict}, key taken {taken})"
                    );
                    self.view.insert((new_key, *tags), new_row);
                }
                Err(error) => {
                    self.view.insert(id, old);
                    if conflict {
                        assert!(
                            matches!(error, StorageError::SerializationFailure),
                            "update of {id:?} over a later delete failed with {error}"
                        );
                        coverage.serialization_failures += 1;
                    } else {
                        assert!(
                            taken && error.sqlstate() == "23505",
                            "update of {id:?} to key {new_key} failed \
                             (taken in the model: {taken}): {error}"
                        );
                        coverage.unique_violations += 1;
                    }
                }
            }
        }
    }

    fn apply(
        &mut self,
        oids: Oids,
        write: &Write,
        tags: &mut u64,
        committed: &State,
        coverage: &mut Coverage,
    ) {
        match write {
            Write::Insert { keys, city } => {
                for key in keys {
                    *tags += 1;
                    self.insert(oids, *key, *tags, *city, committed, coverage);
                }
            }
            Write::Update { key, new_key, city } => self.update(
                oids,
                *key,
                new_key.unwrap_or(*key),
                *city,
                tags,
                committed,
                coverage,
            ),
            Write::Delete { keys } => {
                for key in keys {
                    self.delete(oids, *key, committed, coverage);
                }
            }
        }
    }

    fn savepoint(&mut self) {
        self.savepoints
            .push((self.txn.savepoint(), self.view.clone()));
    }

    fn rollback_to(&mut self, nth: usize, coverage: &mut Coverage) {
        if self.savepoints.is_empty() {
            return;
        }
        let nth = nth % self.savepoints.len();
        let (savepoint, view) = self.savepoints[nth].clone();
        self.txn.rollback_to(savepoint);
        self.view = view;
        self.savepoints.truncate(nth + 1);
        coverage.rollbacks_to_savepoint += 1;
    }

    /// Commits; the model predicts 40001 when a row it deleted was deleted by a later commit,
    /// else 23505 when one of its keys is live in a row it did not delete.
    fn commit(self, committed: &mut State, coverage: &mut Coverage) {
        let deleted: BTreeSet<(i64, u64)> = self
            .snapshot
            .keys()
            .filter(|id| !self.view.contains_key(id))
            .copied()
            .collect();
        let inserted: Vec<((i64, u64), Row)> = self
            .view
            .iter()
            .filter(|(id, _)| self.is_pending(id))
            .map(|(id, row)| (*id, row.clone()))
            .collect();
        let conflict = deleted.iter().any(|id| !committed.contains_key(id));
        let taken = inserted
            .iter()
            .any(|((key, _), _)| rows_at(committed, *key).any(|(id, _)| !deleted.contains(id)));
        match self.txn.commit() {
            Ok(_) => {
                assert!(
                    !conflict && !taken,
                    "commit succeeded (conflict in the model {conflict}, key taken {taken})"
                );
                for id in &deleted {
                    committed.remove(id);
                }
                committed.extend(inserted);
                coverage.commits += 1;
            }
            Err(error) => {
                if conflict {
                    assert!(
                        matches!(error, StorageError::SerializationFailure),
                        "commit over a later delete failed with {error}"
                    );
                } else {
                    assert!(
                        taken && error.sqlstate() == "23505",
                        "commit failed (key taken in the model: {taken}): {error}"
                    );
                }
                coverage.failed_commits += 1;
            }
        }
    }
}

/// A reader held across steps and the committed state as of when it began.
struct Reader {
    txn: Transaction,
    state: State,
}

/// The engine under test, the model, and the open transactions of both.
struct Harness {
    dir: tempfile::TempDir,
    engine: Option<Engine>,
    oids: Oids,
    keys: i64,
    /// Views are checked after every `check_every`-th step, and after every commit,
    /// checkpoint, compaction and reopen.
    check_every: usize,
    committed: State,
    tags: u64,
    writer: Option<Writer>,
    readers: Vec<Reader>,
    rng: StdRng,
    coverage: Coverage,
}

impl Harness {
    fn new(keys: i64, seed: u64) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let engine = common::open(dir.path());
        let table = common::create_customers(&engine);
        Harness {
            dir,
            engine: Some(engine),
            oids: Oids {
                table: table.oid,
                pkey: table.pkey,
                by_city: table.by_city,
            },
            keys,
            check_every: 1,
            committed: State::new(),
            tags: 0,
            writer: None,
            readers: Vec::new(),
            rng: StdRng::seed_from_u64(seed),
            coverage: Coverage::default(),
        }
    }

    fn engine(&self) -> &Engine {
        self.engine.as_ref().expect("engine is open")
    }

    /// Runs `write` in a transaction of its own and commits it.
    fn autocommit(&mut self, write: &Write) {
        let mut writer = Writer::begin(self.engine(), &self.committed);
        writer.apply(
            self.oids,
            write,
            &mut self.tags,
            &self.committed,
            &mut self.coverage,
        );
        writer.commit(&mut self.committed, &mut self.coverage);
    }

    fn checkpoint(&mut self) {
        self.engine().checkpoint().unwrap();
        self.coverage.checkpoints += 1;
    }

    fn compact(&mut self) {
        let stats = self.engine().compact().unwrap();
        self.coverage.merged_segments += stats.merged_segments;
        self.coverage.rows_dropped += stats.rows_dropped;
    }

    fn reopen(&mut self) {
        self.writer = None;
        self.readers.clear();
        drop(self.engine.take());
        self.engine = Some(common::open(self.dir.path()));
        self.coverage.reopens += 1;
    }

    fn apply(&mut self, op: &Op) {
        match op {
            Op::Begin => {
                if self.writer.is_none() {
                    self.writer = Some(Writer::begin(self.engine(), &self.committed));
                }
            }
            Op::Write(write) => match &mut self.writer {
                Some(writer) => writer.apply(
                    self.oids,
                    write,
                    &mut self.tags,
                    &self.committed,
                    &mut self.coverage,
                ),
                None => self.autocommit(write),
            },
            Op::Commit => {
                if let Some(writer) = self.writer.take() {
                    writer.commit(&mut self.committed, &mut self.coverage);
                }
            }
            Op::Rollback => {
                if let Some(writer) = self.writer.take() {
                    writer.txn.rollback();
                }
            }
            Op::Savepoint => {
                if let Some(writer) = &mut self.writer {
                    writer.savepoint();
                }
            }
            Op::RollbackTo { nth } => {
                if let Some(writer) = &mut self.writer {
                    writer.rollback_to(*nth, &mut self.coverage);
                }
            }
            Op::Checkpoint => self.checkpoint(),
            Op::Compact => self.compact(),
            Op::Reopen => self.reopen(),
            Op::TakeReader => {
                if self.readers.len() == MAX_HELD_READERS {
                    self.readers.remove(0);
                }
                let reader = Reader {
                    txn: self.engine().begin(),
                    state: self.committed.clone(),
                };
                self.readers.push(reader);
            }
            Op::ReleaseReader { nth } => {
                if !self.readers.is_empty() {
                    let nth = nth % self.readers.len();
                    self.readers.remove(nth);
                }
            }
            Op::Concurrent(write) => self.autocommit(write),
            Op::SnapshotCheck {
                writes,
                checkpoint,
                compact,
            } => {
                let reader = self.engine().begin();
                let state = self.committed.clone();
                for write in writes {
                    self.autocommit(write);
                }
                if *checkpoint {
                    self.checkpoint();
                }
                if *compact {
                    self.compact();
                }
                check_view(
                    "snapshot reader",
                    &reader,
                    &state,
                    self.oids,
                    self.keys,
                    &mut self.rng,
                    false,
                );
                self.coverage.reader_checks += 1;
            }
        }
    }

    /// Checks a fresh reader against the committed model, the open writer against its view
    /// (its uncommitted changes included), and every held reader against its old state.
    fn check(&mut self, all_keys: bool) {
        let fresh = self.engine().begin();
        check_view(
            "fresh reader",
            &fresh,
            &self.committed,
            self.oids,
            self.keys,
            &mut self.rng,
            all_keys,
        );
        drop(fresh);
        if let Some(writer) = &self.writer {
            check_view(
                "open writer",
                &writer.txn,
                &writer.view,
                self.oids,
                self.keys,
                &mut self.rng,
                all_keys,
            );
        }
        for (i, reader) in self.readers.iter().enumerate() {
            check_view(
                &format!("held reader {i}"),
                &reader.txn,
                &reader.state,
                self.oids,
                self.keys,
                &mut self.rng,
                all_keys,
            );
            self.coverage.reader_checks += 1;
        }
    }

    /// Runs `f`; a failure names `stage`.
    fn during(&mut self, stage: &str, f: impl FnOnce(&mut Harness)) {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(self)));
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            panic!("failed {stage}: {message}");
        }
    }

    /// Runs a history, checking after every step; then reopens and checks every key.
    fn run(&mut self, ops: &[Op]) {
        for (step, op) in ops.iter().enumerate() {
            self.during(&format!("at step {step} ({op:?})"), |harness| {
                harness.apply(op);
                if step % harness.check_every == 0
                    || matches!(op, Op::Commit | Op::Checkpoint | Op::Compact | Op::Reopen)
                {
                    harness.check(false);
                }
            });
        }
        self.during("after the last step", |harness| harness.check(true));
        self.during("after the final reopen", |harness| {
            harness.reopen();
            harness.check(true);
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Random histories (proptest)

/// Keys of the random histories: few, so that unique violations are common.
const PROPTEST_KEYS: i64 = 40;

fn city() -> impl Strategy<Value = City> {
    0..=CITIES.len() as City
}

/// A key, from the few hot ones two times in three so that concurrent transactions collide.
fn key(keys: i64) -> impl Strategy<Value = i64> {
    prop_oneof![2 => 0..HOT_KEYS, 1 => 0..keys]
}

/// A statement; `inserts` weighs inserts against updates (3) and deletes (2).
fn write(keys: i64, max_batch: usize, inserts: u32) -> impl Strategy<Value = Write> {
    prop_oneof![
        inserts => (vec(key(keys), 1..=max_batch), city())
            .prop_map(|(keys, city)| Write::Insert { keys, city }),
        3 => (key(keys), proptest::option::of(key(keys)), city())
            .prop_map(|(key, new_key, city)| Write::Update { key, new_key, city }),
        2 => vec(key(keys), 1..=max_batch.min(3)).prop_map(|keys| Write::Delete { keys }),
    ]
}

fn op(keys: i64) -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => Just(Op::Begin),
        18 => write(keys, 50, 4).prop_map(Op::Write),
        5 => Just(Op::Commit),
        1 => Just(Op::Rollback),
        4 => Just(Op::Savepoint),
        4 => (0..4usize).prop_map(|nth| Op::RollbackTo { nth }),
        4 => Just(Op::Checkpoint),
        3 => Just(Op::Compact),
        1 => Just(Op::Reopen),
        2 => Just(Op::TakeReader),
        1 => (0..MAX_HELD_READERS).prop_map(|nth| Op::ReleaseReader { nth }),
        6 => write(keys, 4, 1).prop_map(Op::Concurrent),
        2 => (vec(write(keys, 4, 2), 1..4), any::<bool>(), any::<bool>()).prop_map(
            |(writes, checkpoint, compact)| Op::SnapshotCheck {
                writes,
                checkpoint,
                compact
            }
        ),
    ]
}

#[test]
fn random_histories_match_the_model() {
    let started = Instant::now();
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(128);
    let config = ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = TestRunner::new(config);
    let coverage = RefCell::new(Coverage::default());
    let histories = (any::<u64>(), vec(op(PROPTEST_KEYS), 1..=60));
    let result = runner.run(&histories, |(seed, ops)| {
        let mut harness = Harness::new(PROPTEST_KEYS, seed);
        harness.run(&ops);
        coverage.borrow_mut().add(&harness.coverage);
        Ok(())
    });
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, (seed, ops))) => {
            let steps: Vec<String> = ops
                .iter()
                .enumerate()
                .map(|(i, op)| format!("  {i:>2}: {op:?}"))
                .collect();
            panic!(
                "{reason}\n\nminimal failing history (replay it with \
                 `Harness::new(PROPTEST_KEYS, {seed}).run(&ops)`):\n{}",
                steps.join("\n")
            );
        }
        Err(error) => panic!("{error}"),
    }
    let coverage = coverage.into_inner();
    eprintln!(
        "random histories: {:?} in {:.1?}",
        coverage,
        started.elapsed()
    );
    if cases >= 64 {
        // Each is expected tens of times or more at 64 cases and above.
        assert!(coverage.unique_violations > 0, "{coverage:?}");
        assert!(coverage.serialization_failures > 0, "{coverage:?}");
        assert!(coverage.failed_commits > 0, "{coverage:?}");
        assert!(coverage.rows_dropped > 0, "{coverage:?}");
        assert!(coverage.reader_checks > 0, "{coverage:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// A long deterministic history

/// Keys of the long history: enough rows for segments worth merging.
const LONG_KEYS: i64 = 300;

/// Keys of the history with large segments.
const LARGE_KEYS: i64 = 1_600;

fn random_key(rng: &mut StdRng, keys: i64) -> i64 {
    if rng.gen_bool(0.3) {
        rng.gen_range(0..HOT_KEYS)
    } else {
        rng.gen_range(0..keys)
    }
}

/// A statement; `inserts` in 10 are inserts, the rest updates and deletes.
fn random_write(rng: &mut StdRng, keys: i64, max_batch: usize, inserts: u32) -> Write {
    let city = rng.gen_range(0..=CITIES.len() as City);
    let pick = rng.gen_range(0..10);
    if pick < inserts {
        Write::Insert {
            keys: (0..rng.gen_range(1..=max_batch))
                .map(|_| random_key(rng, keys))
                .collect(),
            city,
        }
    } else if pick < inserts + (10 - inserts) * 2 / 3 {
        Write::Update {
            key: random_key(rng, keys),
            new_key: rng.gen_bool(0.3).then(|| random_key(rng, keys)),
            city,
        }
    } else {
        Write::Delete {
            keys: (0..rng.gen_range(1..=max_batch))
                .map(|_| random_key(rng, keys))
                .collect(),
        }
    }
}

fn random_op(rng: &mut StdRng, keys: i64) -> Op {
    match rng.gen_range(0..100) {
        0..=9 => Op::Begin,
        10..=41 => Op::Write(random_write(rng, keys, 50, 4)),
        42..=46 => Op::Commit,
        47 => Op::Rollback,
        48..=50 => Op::Savepoint,
        51..=53 => Op::RollbackTo {
            nth: rng.gen_range(0..4),
        },
        54..=64 => Op::Checkpoint,
        65..=73 => Op::Compact,
        74 => Op::Reopen,
        75..=77 => Op::TakeReader,
        78..=79 => Op::ReleaseReader {
            nth: rng.gen_range(0..MAX_HELD_READERS),
        },
        80..=94 => Op::Concurrent(random_write(rng, keys, 4, 2)),
        _ => Op::SnapshotCheck {
            writes: (0..rng.gen_range(1..4))
                .map(|_| random_write(rng, keys, 4, 3))
                .collect(),
            checkpoint: rng.gen_bool(0.5),
            compact: rng.gen_bool(0.5),
        },
    }
}

/// Deletes a fresh row in a segment of its own, checkpoints and compacts with no reader
/// left: every run of candidate segments is rewritten without its deleted rows, so fewer than
/// `compaction_deleted_fraction` (0.2) of the stored rows can remain deleted; and when every
/// segment is small they all merge into one that holds exactly the live rows.
fn compact_everything(harness: &mut Harness) {
    harness.writer = None;
    harness.readers.clear();
    let spare = harness.keys + 1;
    harness.autocommit(&Write::Insert {
        keys: vec![spare],
        city: 0,
    });
    harness.autocommit(&Write::Delete { keys: vec![spare] });
    harness.checkpoint();
    harness.compact();
}

/// Segments and stored row versions of the table.
fn stored_rows(harness: &Harness) -> (usize, usize) {
    let engine = harness.engine();
    (
        engine.segment_count(harness.oids.table).unwrap(),
        engine.stored_rows(harness.oids.table).unwrap(),
    )
}

/// Names of the segment directories of the table.
fn segment_dirs(harness: &Harness) -> BTreeSet<String> {
    let table_dir = harness
        .dir
        .path()
        .join("tables")
        .join(harness.oids.table.to_string());
    std::fs::read_dir(table_dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

/// Runs `ops` random steps from a fixed seed (after committing and sealing `bulk_load`),
/// compacts everything, reopens and checks every key. Returns the harness for the caller's
/// assertions and the segment the bulk load was sealed into.
fn long_history(
    keys: i64,
    bulk_load: &[i64],
    ops: usize,
    check_every: usize,
) -> (Harness, Option<String>) {
    let started = Instant::now();
    let seed = std::env::var("CUSTOS_MODEL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x00C0_5705);
    let mut rng = StdRng::seed_from_u64(seed);
    let ops: Vec<Op> = (0..ops).map(|_| random_op(&mut rng, keys)).collect();
    let mut harness = Harness::new(keys, 7);
    harness.check_every = check_every;
    let mut bulk_segment = None;
    if !bulk_load.is_empty() {
        harness.autocommit(&Write::Insert {
            keys: bulk_load.to_vec(),
            city: 1,
        });
        harness.checkpoint();
        let dirs = segment_dirs(&harness);
        assert_eq!(dirs.len(), 1, "the bulk load is sealed into one segment");
        bulk_segment = dirs.into_iter().next();
    }
    harness.run(&ops);
    compact_everything(&mut harness);
    let (segments, stored) = stored_rows(&harness);
    let live = harness.committed.len();
    assert!(
        (stored - live) * 5 < stored.max(1),
        "{stored} row versions in {segments} segments after a full compaction, {live} live"
    );
    harness.reopen();
    assert_eq!(stored_rows(&harness), (segments, stored));
    harness.check(true);
    eprintln!(
        "long history over {keys} keys: {segments} segments, {stored} stored rows, {live} live, \
         {:?} in {:.1?}",
        harness.coverage,
        started.elapsed()
    );
    (harness, bulk_segment)
}

#[test]
fn long_history_merges_segments_drops_deleted_rows_and_survives_reopen() {
    let (harness, _) = long_history(LONG_KEYS, &[], 2_000, 1);
    assert_eq!(
        stored_rows(&harness),
        (1, harness.committed.len()),
        "with only small segments, a full compaction leaves one holding exactly the live rows"
    );
    let coverage = harness.coverage;
    assert!(coverage.unique_violations > 100, "{coverage:?}");
    assert!(coverage.serialization_failures > 0, "{coverage:?}");
    assert!(coverage.failed_commits > 0, "{coverage:?}");
    assert!(coverage.checkpoints > 100, "{coverage:?}");
    assert!(coverage.merged_segments > 100, "{coverage:?}");
    assert!(coverage.rows_dropped > 300, "{coverage:?}");
}

#[test]
fn segments_past_the_small_size_are_rewritten_once_deletes_pile_up() {
    // 1,200 rows in one segment of two blocks, larger than `compaction_small_segment_rows`:
    // compaction leaves it alone until a fifth of it is deleted, then rewrites it alone or
    // with its small neighbours.
    let bulk: Vec<i64> = (0..1_200).collect();
    let (harness, bulk_segment) = long_history(LARGE_KEYS, &bulk, 600, 10);
    let bulk_segment = bulk_segment.unwrap();
    assert!(
        !segment_dirs(&harness).contains(&bulk_segment),
        "the large segment {bulk_segment} was never rewritten"
    );
    let coverage = harness.coverage;
    assert!(coverage.rows_dropped > 300, "{coverage:?}");
    assert!(coverage.merged_segments > 20, "{coverage:?}");
}
