//! The storage engine end to end: commit, read, reopen, checkpoint, compaction, indexes.

mod common;

use std::ops::Bound;

use common::*;
use storage::types::Value;
use storage::StorageError;

fn ids(rows: &[(u64, Vec<Value>)]) -> Vec<i64> {
    let mut ids: Vec<i64> = rows
        .iter()
        .map(|(_, r)| match r[0] {
            Value::Int8(i) => i,
            _ => panic!("id is not int8"),
        })
        .collect();
    ids.sort();
    ids
}

#[test]
fn committed_rows_survive_reopen_checkpoint_and_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let table;
    {
        let engine = open(dir.path());
        table = create_customers(&engine);
        for batch in 0..5 {
            let mut txn = engine.begin();
            for i in 0..300 {
                txn.insert(table.oid, customer(batch * 300 + i)).unwrap();
            }
            txn.commit().unwrap();
            engine.checkpoint().unwrap();
        }
        assert_eq!(engine.segment_count(table.oid), Some(5));
        // Delete every third row, then compact.
        let mut txn = engine.begin();
        let rows = txn.scan_all(table.oid).unwrap();
        for (row_id, row) in &rows {
            if let Value::Int8(i) = row[0] {
                if i % 3 == 0 {
                    txn.delete(table.oid, *row_id).unwrap();
                }
            }
        }
        txn.commit().unwrap();
        engine.checkpoint().unwrap();
        let stats = engine.compact().unwrap();
        assert_eq!(stats.merged_segments, 5);
        assert_eq!(stats.rows_dropped, 500);
        assert_eq!(engine.segment_count(table.oid), Some(1));
        assert_eq!(engine.stored_rows(table.oid), Some(1000));
    }
    let engine = open(dir.path());
    let txn = engine.begin();
    let rows = txn.scan_all(table.oid).unwrap();
    let expected: Vec<i64> = (0..1500).filter(|i| i % 3 != 0).collect();
    assert_eq!(ids(&rows), expected);
    // Primary-key and secondary index lookups after reopen.
    let hit = txn.index_lookup(table.pkey, &[Value::Int8(10)]).unwrap();
    assert_eq!(ids(&hit), vec![10]);
    assert!(txn
        .index_lookup(table.pkey, &[Value::Int8(9)])
        .unwrap()
        .is_empty());
    let oslo = txn
        .index_lookup(table.by_city, &[Value::Text("Oslo".into())])
        .unwrap();
    assert_eq!(oslo.len(), expected.iter().filter(|i| *i % 4 == 1).count());
    let range = txn
        .index_range(
            table.pkey,
            Bound::Included(vec![Value::Int8(100)]),
            Bound::Excluded(vec![Value::Int8(110)]),
        )
        .unwrap();
    assert_eq!(ids(&range), vec![100, 101, 103, 104, 106, 107, 109]);
}

#[test]
fn unreplayed_wal_is_replayed_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let table;
    {
        let engine = open(dir.path());
        table = create_customers(&engine);
        let mut txn = engine.begin();
        for i in 0..10 {
            txn.insert(table.oid, customer(i)).unwrap();
        }
        txn.commit().unwrap();
        engine.checkpoint().unwrap();
        let mut txn = engine.begin();
        let rows = txn.index_lookup(table.pkey, &[Value::Int8(3)]).unwrap();
        txn.update(table.oid, rows[0].0, customer(33)).unwrap();
        txn.insert(table.oid, customer(50)).unwrap();
        txn.commit().unwrap();
    }
    let (engine, report) = storage::Engine::open_with_report(dir.path(), test_options()).unwrap();
    assert_eq!(report.replayed_transactions, 1);
    let txn = engine.begin();
    assert_eq!(
        ids(&txn.scan_all(table.oid).unwrap()),
        vec![0, 1, 2, 4, 5, 6, 7, 8, 9, 33, 50]
    );
}

#[test]
fn snapshots_do_not_see_later_commits_and_rollback_leaves_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    let table = create_customers(&engine);
    let mut writer = engine.begin();
    writer.insert(table.oid, customer(1)).unwrap();
    writer.commit().unwrap();
    let reader = engine.begin();
    let mut writer = engine.begin();
    writer.insert(table.oid, customer(2)).unwrap();
    writer.commit().unwrap();
    assert_eq!(ids(&reader.scan_all(table.oid).unwrap()), vec![1]);
    let mut loser = engine.begin();
    loser.insert(table.oid, customer(3)).unwrap();
    loser.rollback();
    assert_eq!(
        ids(&engine.begin().scan_all(table.oid).unwrap()),
        vec![1, 2]
    );
}

#[test]
fn unique_keys_and_write_conflicts_are_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    let table = create_customers(&engine);
    let mut txn = engine.begin();
    txn.insert(table.oid, customer(1)).unwrap();
    let err = txn.insert(table.oid, customer(1)).unwrap_err();
    assert_eq!(err.sqlstate(), "23505");
    txn.commit().unwrap();
    // Two transactions update the same row: the second committer loses.
    let mut a = engine.begin();
    let mut b = engine.begin();
    let row_id = a.index_lookup(table.pkey, &[Value::Int8(1)]).unwrap()[0].0;
    a.update(table.oid, row_id, customer(1)).unwrap();
    b.delete(table.oid, row_id).unwrap();
    a.commit().unwrap();
    assert!(matches!(
        b.commit(),
        Err(StorageError::SerializationFailure)
    ));
    // Two transactions insert the same new key: the second committer loses.
    let mut a = engine.begin();
    let mut b = engine.begin();
    a.insert(table.oid, customer(7)).unwrap();
    b.insert(table.oid, customer(7)).unwrap();
    a.commit().unwrap();
    assert_eq!(b.commit().unwrap_err().sqlstate(), "23505");
}

#[test]
fn savepoints_undo_only_what_followed_them() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    let table = create_customers(&engine);
    let mut txn = engine.begin();
    txn.insert(table.oid, customer(1)).unwrap();
    let savepoint = txn.savepoint();
    let pending = txn.insert(table.oid, customer(2)).unwrap();
    txn.delete(table.oid, pending).unwrap();
    txn.insert(table.oid, customer(3)).unwrap();
    txn.rollback_to(savepoint);
    txn.insert(table.oid, customer(2)).unwrap();
    txn.commit().unwrap();
    assert_eq!(
        ids(&engine.begin().scan_all(table.oid).unwrap()),
        vec![1, 2]
    );
}

#[test]
fn vector_index_files_describe_exactly_their_segment() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    let table = create_customers(&engine);
    let mut txn = engine.begin();
    for i in 0..200 {
        txn.insert(table.oid, customer(i)).unwrap();
    }
    txn.commit().unwrap();
    engine.checkpoint().unwrap();
    let table_dir = dir.path().join("tables").join(table.oid.to_string());
    let segment_dirs: Vec<_> = std::fs::read_dir(&table_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(segment_dirs.len(), 1);
    let index_file = segment_dirs[0].join(format!("idx-{}.vec", table.embedding_index));
    assert!(index_file.exists(), "vector index built at seal");
    let segment = std::sync::Arc::new(storage::segment::Segment::open(&segment_dirs[0]).unwrap());
    let store = segment.vector_store(5).unwrap();
    let index = index::segment_index::open_segment_index(&index_file, store).unwrap();
    let hits = index.search(&[42.0, 0.0, 1.0, -4.2], 3, &|_| true);
    assert_eq!(hits.len(), 3);
    let offset = hits[0].0;
    assert_eq!(segment.row_ids()[offset as usize], 43); // row ids start at 1
}

#[test]
fn a_new_unique_index_is_checked_against_existing_and_own_rows() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    let table = create_customers(&engine);
    let mut txn = engine.begin();
    for i in 0..8 {
        txn.insert(table.oid, customer(i)).unwrap();
    }
    txn.commit().unwrap();
    // city repeats every 4 rows: a unique index on it must be refused.
    let mut txn = engine.begin();
    txn.catalog_mut()
        .create_btree_index(table.oid, "customers_city_key", &["city"], true)
        .unwrap();
    assert_eq!(txn.commit().unwrap_err().sqlstate(), "23505");
    // On names it holds, and then guards new rows.
    let mut txn = engine.begin();
    let index = txn
        .catalog_mut()
        .create_btree_index(table.oid, "customers_name_key", &["name"], true)
        .unwrap();
    txn.commit().unwrap();
    let mut txn = engine.begin();
    let mut duplicate = customer(100);
    duplicate[1] = Value::Text("customer 3".into());
    assert_eq!(
        txn.insert(table.oid, duplicate).unwrap_err().sqlstate(),
        "23505"
    );
    let hit = txn
        .index_lookup(index, &[Value::Text("customer 3".into())])
        .unwrap();
    assert_eq!(hit.len(), 1);
}

#[test]
fn concurrent_ddl_conflicts_and_the_catalog_survives_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let table;
    {
        let engine = open(dir.path());
        table = create_customers(&engine);
        let mut a = engine.begin();
        let mut b = engine.begin();
        a.catalog_mut().ensure_schema("crm", 10);
        b.catalog_mut().ensure_schema("sales", 10);
        a.commit().unwrap();
        assert!(matches!(
            b.commit(),
            Err(StorageError::SerializationFailure)
        ));
        engine.checkpoint().unwrap();
        let mut c = engine.begin();
        c.catalog_mut().ensure_schema("support", 10);
        c.commit().unwrap();
    }
    let engine = open(dir.path());
    let catalog = engine.catalog();
    assert!(catalog.schema_by_name("crm").is_some());
    assert!(catalog.schema_by_name("support").is_some());
    assert!(catalog.schema_by_name("sales").is_none());
    assert!(catalog.tables.contains_key(&table.oid));
}

#[test]
fn a_growing_wal_triggers_a_background_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let options = storage::EngineOptions {
        background_maintenance: true,
        memtable_limit_bytes: usize::MAX,
        wal_limit_bytes: 16 << 10,
        ..test_options()
    };
    let engine = storage::Engine::open(dir.path(), options).unwrap();
    let table = create_customers(&engine);
    for i in 0..200 {
        let mut txn = engine.begin();
        txn.insert(table.oid, customer(i)).unwrap();
        txn.commit().unwrap();
    }
    engine.nudge_maintenance();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while engine.segment_count(table.oid) == Some(0) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        engine.segment_count(table.oid).unwrap() >= 1,
        "no checkpoint ran"
    );
    assert_eq!(engine.last_maintenance_error(), None);
}

/// The rows of a scan read column by column: every visible row exactly once, with the
/// requested columns in the requested order.
fn column_rows(txn: &storage::Transaction, table: u32, columns: &[u16]) -> Vec<Vec<Value>> {
    let options = storage::ScanOptions {
        columns: Some(columns.to_vec()),
        predicates: Vec::new(),
    };
    let mut rows = Vec::new();
    for partition in txn.scan_partitions(table, &options).unwrap() {
        for chunk in 0..partition.chunk_count() {
            let Some(chunk) = partition.column_chunk(chunk).unwrap() else {
                continue;
            };
            assert!(chunk.columns.iter().all(|c| c.len() == chunk.len));
            chunk.for_each_visible(|i| {
                rows.push(chunk.columns.iter().map(|c| c[i].clone()).collect());
            });
        }
    }
    rows.sort_by_key(|r: &Vec<Value>| match r[0] {
        Value::Int8(i) => i,
        _ => panic!("id is not int8"),
    });
    rows
}

#[test]
fn column_chunks_hold_exactly_the_visible_rows() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    let table = create_customers(&engine);
    let mut txn = engine.begin();
    for i in 0..3000 {
        txn.insert(table.oid, customer(i)).unwrap();
    }
    txn.commit().unwrap();
    engine.checkpoint().unwrap();
    // Committed deletes in the segment, rows in the memtable.
    let mut txn = engine.begin();
    for (row_id, row) in txn.scan_all(table.oid).unwrap() {
        if matches!(row[0], Value::Int8(i) if i % 5 == 0 || (1024..2048).contains(&i)) {
            txn.delete(table.oid, row_id).unwrap();
        }
    }
    for i in 3000..3100 {
        txn.insert(table.oid, customer(i)).unwrap();
    }
    txn.commit().unwrap();
    let reader = engine.begin();
    // The reader's own writes: a pending row and a pending delete.
    let mut writer = engine.begin();
    writer.insert(table.oid, customer(5000)).unwrap();
    let victim = writer
        .scan_all(table.oid)
        .unwrap()
        .into_iter()
        .find(|(_, r)| r[0] == Value::Int8(7))
        .unwrap()
        .0;
    writer.delete(table.oid, victim).unwrap();

    let visible = |id: i64| id >= 3000 || (id % 5 != 0 && !(1024..2048).contains(&id));
    let expected: Vec<Vec<Value>> = (0..3100)
        .filter(|i| visible(*i))
        .map(|i| {
            let c = customer(i);
            vec![c[0].clone(), c[2].clone()]
        })
        .collect();
    let got = column_rows(&reader, table.oid, &[1, 3]);
    let first_difference = got.iter().zip(&expected).position(|(a, b)| a != b);
    assert_eq!(
        (got.len(), first_difference),
        (expected.len(), None),
        "{:?}",
        first_difference.map(|i| (&got[i], &expected[i]))
    );
    let own: Vec<Vec<Value>> = (0..3100)
        .chain([5000])
        .filter(|i| visible(*i) && *i != 7)
        .map(|i| vec![customer(i)[0].clone()])
        .collect();
    assert_eq!(column_rows(&writer, table.oid, &[1]), own);
    // The chunks agree with the row-wise scan of the same partitions.
    let rows = ids(&reader.scan_all(table.oid).unwrap());
    let chunked: Vec<i64> = column_rows(&reader, table.oid, &[1])
        .iter()
        .map(|r| match r[0] {
            Value::Int8(i) => i,
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(rows, chunked);
}
