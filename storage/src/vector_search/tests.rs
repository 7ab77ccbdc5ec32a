//! Tests of filtered nearest-neighbour search over segments (indexed and not), memtables and
//! a transaction's own rows, against an exact search.

use std::collections::HashSet;

use index::distance::{distance, Metric};
use index::segment_index::SearchParams;
use rand::{Rng, SeedableRng};

use super::*;
use crate::catalog::{IndexDef, IndexMethodDef};
use crate::txn::PENDING_ROW_BIT;
use crate::types::DataType;
use crate::{Engine, EngineOptions};

const DIM: usize = 8;

struct Fixture {
    _dir: tempfile::TempDir,
    engine: Engine,
    table: u32,
    index: u32,
}

/// `items(id int8, cat int8, embedding vector(8))` with an HNSW cosine index.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = Engine::open(
        dir.path(),
        EngineOptions {
            background_maintenance: false,
            ..Default::default()
        },
    )
    .expect("engine opens");
    let mut txn = engine.begin();
    let catalog = txn.catalog_mut();
    let schema = catalog.ensure_schema("public", 10);
    let table = catalog.create_table(
        schema,
        "items",
        10,
        &[
            ("id", DataType::Int8, true),
            ("cat", DataType::Int8, false),
            ("embedding", DataType::Vector(Some(DIM as u32)), false),
        ],
        &["id"],
    );
    let index = catalog.allocate_oid();
    catalog.indexes.insert(
        index,
        IndexDef {
            oid: index,
            name: "items_embedding".into(),
            schema,
            table,
            method: IndexMethodDef::Hnsw,
            columns: vec![3],
            opclasses: vec!["vector_cosine_ops".into()],
            ..Default::default()
        },
    );
    txn.commit().expect("create table");
    Fixture {
        _dir: dir,
        engine,
        table,
        index,
    }
}

fn random_vector(rng: &mut impl Rng) -> Vec<f32> {
    (0..DIM).map(|_| rng.gen_range(-1.0f32..1.0)).collect()
}

fn insert(f: &Fixture, ids: std::ops::Range<i64>, rng: &mut impl Rng) {
    let mut txn = f.engine.begin();
    for id in ids {
        let embedding = if id % 97 == 13 {
            Value::Null
        } else {
            Value::Vector(random_vector(rng))
        };
        txn.insert(
            f.table,
            vec![Value::Int8(id), Value::Int8(id % 1000), embedding],
        )
        .expect("insert");
    }
    txn.commit().expect("commit");
}

fn query<'a>(f: &Fixture, vector: Option<&'a [f32]>, k: usize, indexed: bool) -> VectorQuery<'a> {
    VectorQuery {
        table: f.table,
        column: 3,
        index: indexed.then_some(f.index),
        metric: Metric::Cosine,
        vector,
        k,
        params: SearchParams {
            ef_search: 64,
            probes: 1,
        },
        filter_columns: vec![2],
    }
}

/// Errors as their messages.
#[derive(Debug, PartialEq)]
struct TestError(String);

impl From<StorageError> for TestError {
    fn from(e: StorageError) -> TestError {
        TestError(e.to_string())
    }
}

impl From<VectorMathError> for TestError {
    fn from(e: VectorMathError) -> TestError {
        TestError(e.to_string())
    }
}

impl From<String> for TestError {
    fn from(e: String) -> TestError {
        TestError(e)
    }
}

fn cat_below(limit: i64) -> impl Fn(&[Value]) -> Result<bool, TestError> {
    move |row: &[Value]| match row.get(1) {
        Some(Value::Int8(cat)) => Ok(*cat < limit),
        other => Err(TestError(format!("cat is {other:?}"))),
    }
}

/// The exact answer, from a full scan.
fn exact(txn: &Transaction, table: u32, vector: &[f32], k: usize, limit: i64) -> Vec<u64> {
    let mut rows: Vec<(f32, u64)> = txn
        .scan_all(table)
        .expect("scan")
        .into_iter()
        .filter_map(|(id, row)| match (&row[1], &row[2]) {
            (Value::Int8(cat), Value::Vector(v)) if *cat < limit => {
                Some((distance(Metric::Cosine, v, vector), id))
            }
            _ => None,
        })
        .collect();
    rows.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    rows.into_iter().take(k).map(|(_, id)| id).collect()
}

#[test]
fn filtered_search_returns_min_k_qualifying_rows_from_segments_memtables_and_own_rows() {
    let f = fixture();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    insert(&f, 0..3000, &mut rng);
    f.engine.checkpoint().expect("checkpoint");
    insert(&f, 3000..3600, &mut rng);
    // Deletes in the segment and the memtable.
    let mut txn = f.engine.begin();
    for (id, row) in txn.scan_all(f.table).expect("scan") {
        if matches!(row[0], Value::Int8(n) if n % 5 == 0) {
            txn.delete(f.table, id).expect("delete");
        }
    }
    txn.commit().expect("deletes commit");
    let mut txn = f.engine.begin();
    txn.insert(
        f.table,
        vec![
            Value::Int8(10_001),
            Value::Int8(0),
            Value::Vector(vec![1.0; DIM]),
        ],
    )
    .expect("own row");
    let probe = vec![1.0f32; DIM];
    // Own row is the nearest of all (distance 0).
    let filter = cat_below(1000);
    let hits: Vec<VectorHit> = txn
        .vector_search::<TestError>(&query(&f, Some(&probe), 5, true), Some(&filter))
        .expect("search");
    assert_eq!(hits.len(), 5);
    assert_eq!(hits[0].row_id, PENDING_ROW_BIT);
    let mut recall_sum = 0.0;
    let mut queries = 0.0;
    for limit in [1000, 100, 10, 1] {
        for _ in 0..10 {
            let vector = random_vector(&mut rng);
            let filter = cat_below(limit);
            let hits: Vec<VectorHit> = txn
                .vector_search::<TestError>(&query(&f, Some(&vector), 10, true), Some(&filter))
                .expect("search");
            let truth = exact(&txn, f.table, &vector, 10, limit);
            let exact_hits: Vec<VectorHit> = txn
                .vector_search::<TestError>(&query(&f, Some(&vector), 10, false), Some(&filter))
                .expect("exact search");
            let exact_ids: Vec<u64> = exact_hits.iter().map(|h| h.row_id).collect();
            assert_eq!(exact_ids, truth, "exact search at cat < {limit}");
            let qualifying = txn
                .scan_all(f.table)
                .expect("scan")
                .iter()
                .filter(|(_, row)| matches!(row[1], Value::Int8(cat) if cat < limit))
                .count();
            assert_eq!(hits.len(), qualifying.min(10), "cat < {limit}");
            let found: HashSet<u64> = hits.iter().map(|h| h.row_id).collect();
            let distances: Vec<Option<f32>> = hits.iter().map(|h| h.distance).collect();
            assert!(distances.windows(2).all(|w| match (w[0], w[1]) {
                (Some(a), Some(b)) => a <= b,
                (Some(_), None) | (None, None) => true,
                (None, Some(_)) => false,
            }));
            for hit in &hits {
                assert!(matches!(hit.row[1], Value::Int8(cat) if cat < limit));
                assert!(!matches!(hit.row[0], Value::Int8(n) if n % 5 == 0));
            }
            recall_sum += truth.iter().filter(|id| found.contains(id)).count() as f64
                / truth.len().max(1) as f64;
            queries += 1.0;
        }
    }
    assert!(
        recall_sum / queries >= 0.9,
        "recall {}",
        recall_sum / queries
    );
}

#[test]
fn null_vectors_follow_when_fewer_rows_with_a_vector_qualify() {
    let f = fixture();
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    insert(&f, 0..200, &mut rng);
    let txn = f.engine.begin();
    let probe = random_vector(&mut rng);
    // cat < 14: ids 0..14; id 13 has a NULL vector.
    let filter = cat_below(14);
    let hits: Vec<VectorHit> = txn
        .vector_search::<TestError>(&query(&f, Some(&probe), 50, true), Some(&filter))
        .expect("search");
    assert_eq!(hits.len(), 14);
    assert_eq!(hits[13].distance, None);
    assert_eq!(hits[13].row[0], Value::Int8(13));
    // A NULL query: every qualifying row, none with a distance.
    let hits: Vec<VectorHit> = txn
        .vector_search::<TestError>(&query(&f, None, 50, true), Some(&filter))
        .expect("search");
    assert_eq!(hits.len(), 14);
    assert!(hits.iter().all(|h| h.distance.is_none()));
}

#[test]
fn filter_errors_and_dimension_mismatches_are_reported() {
    let f = fixture();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    insert(&f, 0..1500, &mut rng);
    f.engine.checkpoint().expect("checkpoint");
    insert(&f, 1500..1600, &mut rng);
    let txn = f.engine.begin();
    let probe = random_vector(&mut rng);
    let failing =
        |_: &[Value]| -> Result<bool, TestError> { Err(TestError("division by zero".into())) };
    for indexed in [true, false] {
        let error = txn
            .vector_search::<TestError>(&query(&f, Some(&probe), 5, indexed), Some(&failing))
            .expect_err("the filter's error");
        assert_eq!(error, TestError("division by zero".into()));
    }
    let short = [1.0f32, 2.0];
    for indexed in [true, false] {
        let error = txn
            .vector_search::<TestError>(&query(&f, Some(&short), 5, indexed), None)
            .expect_err("dimension mismatch");
        assert_eq!(
            error,
            TestError("different vector dimensions 8 and 2".into())
        );
    }
}
