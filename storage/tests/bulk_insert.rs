//! Bulk inserts (what COPY uses): batches through `insert_batch`, their index entries in
//! sorted runs, the unique checks they skip at commit and the ones they must not skip.

mod common;

use std::ops::Bound;

use common::*;
use storage::types::Value;

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
fn a_batch_stops_at_its_first_duplicate_and_keeps_the_rows_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    let table = create_customers(&engine);
    let mut txn = engine.begin();
    txn.insert(table.oid, customer(3)).unwrap();
    let batch = vec![customer(1), customer(2), customer(3), customer(4)];
    let failure = txn.insert_batch(table.oid, batch).unwrap_err();
    assert_eq!(failure.position, 2);
    assert_eq!(failure.row, customer(3));
    assert_eq!(failure.error.sqlstate(), "23505");
    // The rows before the duplicate are in, the ones after it are not.
    assert_eq!(ids(&txn.scan_all(table.oid).unwrap()), vec![1, 2, 3]);
    // A duplicate inside one batch is found too, and a savepoint undoes a whole batch.
    let savepoint = txn.savepoint();
    let failure = txn
        .insert_batch(table.oid, vec![customer(10), customer(11), customer(10)])
        .unwrap_err();
    assert_eq!(failure.position, 2);
    txn.rollback_to(savepoint);
    assert_eq!(ids(&txn.scan_all(table.oid).unwrap()), vec![1, 2, 3]);
    txn.insert(table.oid, customer(10)).unwrap();
    txn.commit().unwrap();
    let reader = engine.begin();
    assert_eq!(ids(&reader.scan_all(table.oid).unwrap()), vec![1, 2, 3, 10]);
    assert_eq!(
        ids(&reader.index_lookup(table.pkey, &[Value::Int8(10)]).unwrap()),
        vec![10]
    );
}

#[test]
fn bulk_committed_rows_are_found_by_every_index_after_reopen_and_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let table;
    let n = 5_000i64;
    {
        let engine = open(dir.path());
        table = create_customers(&engine);
        let mut txn = engine.begin();
        // Two batches, keys out of order.
        let rows: Vec<Vec<Value>> = (0..n).map(|i| customer((i * 7919) % n + 1)).collect();
        let (first, second) = rows.split_at(1_234);
        txn.insert_batch(table.oid, first.to_vec()).unwrap();
        txn.insert_batch(table.oid, second.to_vec()).unwrap();
        // Own rows are found by key before the commit.
        assert_eq!(
            ids(&txn.index_lookup(table.pkey, &[Value::Int8(77)]).unwrap()),
            vec![77]
        );
        txn.commit().unwrap();
        let reader = engine.begin();
        for id in [1, 2, 77, n] {
            let rows = reader.index_lookup(table.pkey, &[Value::Int8(id)]).unwrap();
            assert_eq!(ids(&rows), vec![id]);
        }
        let oslo = reader
            .index_lookup(table.by_city, &[Value::Text("Oslo".into())])
            .unwrap();
        assert_eq!(oslo.len() as i64, n / 4);
        let range = reader
            .index_range(
                table.pkey,
                Bound::Excluded(vec![Value::Int8(10)]),
                Bound::Included(vec![Value::Int8(20)]),
            )
            .unwrap();
        assert_eq!(ids(&range), (11..=20).collect::<Vec<_>>());
        // A later bulk insert of a committed key is refused at once.
        let mut txn = engine.begin();
        let failure = txn
            .insert_batch(table.oid, vec![customer(n + 1), customer(5)])
            .unwrap_err();
        assert_eq!(failure.position, 1);
    }
    // The large commit was one WAL record, replayed on open.
    let engine = open(dir.path());
    let reader = engine.begin();
    assert_eq!(reader.scan_all(table.oid).unwrap().len() as i64, n);
    assert_eq!(
        ids(&reader
            .index_lookup(table.pkey, &[Value::Int8(4321)])
            .unwrap()),
        vec![4321]
    );
    drop(reader);
    engine.checkpoint().unwrap();
    let mut txn = engine.begin();
    let row_id = txn.index_lookup(table.pkey, &[Value::Int8(9)]).unwrap()[0].0;
    txn.delete(table.oid, row_id).unwrap();
    txn.commit().unwrap();
    engine.compact().unwrap();
    let reader = engine.begin();
    assert!(reader
        .index_lookup(table.pkey, &[Value::Int8(9)])
        .unwrap()
        .is_empty());
    assert_eq!(reader.scan_all(table.oid).unwrap().len() as i64, n - 1);
    // The key is free again.
    let mut txn = engine.begin();
    txn.insert(table.oid, customer(9)).unwrap();
    txn.commit().unwrap();
}

#[test]
fn a_key_committed_after_a_bulk_check_is_caught_at_commit() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    let table = create_customers(&engine);
    // The table is empty when the bulk load checks its keys ...
    let mut bulk = engine.begin();
    bulk.insert_batch(table.oid, (1..=1_000).map(customer).collect())
        .unwrap();
    // ... then another transaction commits one of them ...
    let mut single = engine.begin();
    single.insert(table.oid, customer(500)).unwrap();
    single.commit().unwrap();
    // ... so the bulk load cannot commit.
    assert_eq!(bulk.commit().unwrap_err().sqlstate(), "23505");
    // Without a concurrent commit to the table, the bulk load commits.
    let mut bulk = engine.begin();
    bulk.insert_batch(table.oid, (1_001..=2_000).map(customer).collect())
        .unwrap();
    let mut other_table_txn = engine.begin();
    other_table_txn.insert(table.oid, customer(5_000)).unwrap();
    drop(other_table_txn);
    bulk.commit().unwrap();
    assert_eq!(engine.begin().scan_all(table.oid).unwrap().len(), 1_001);
}

#[test]
fn own_rows_in_key_order_are_found_deleted_and_rolled_back_like_any_others() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    let table = create_customers(&engine);
    let mut txn = engine.begin();
    // Keys in order: checked against the row before them only.
    txn.insert_batch(table.oid, (1..=100).map(customer).collect())
        .unwrap();
    let lookup = |txn: &storage::Transaction, id: i64| {
        ids(&txn.index_lookup(table.pkey, &[Value::Int8(id)]).unwrap())
    };
    assert_eq!(lookup(&txn, 37), vec![37]);
    assert!(lookup(&txn, 101).is_empty());
    let range = txn
        .index_range(
            table.pkey,
            Bound::Included(vec![Value::Int8(98)]),
            Bound::Unbounded,
        )
        .unwrap();
    assert_eq!(ids(&range), vec![98, 99, 100]);
    // Duplicates of keys in the middle and at the end are refused.
    for id in [1, 50, 100] {
        let error = txn.insert(table.oid, customer(id)).unwrap_err();
        assert_eq!(error.sqlstate(), "23505", "{id}");
    }
    // A savepoint rolls back rows at the end; the keys are free again.
    let savepoint = txn.savepoint();
    txn.insert_batch(table.oid, (101..=110).map(customer).collect())
        .unwrap();
    txn.rollback_to(savepoint);
    assert!(lookup(&txn, 105).is_empty());
    txn.insert(table.oid, customer(105)).unwrap();
    // Deleting a row in the middle, and a key out of order.
    let row_id = txn.index_lookup(table.pkey, &[Value::Int8(40)]).unwrap()[0].0;
    txn.delete(table.oid, row_id).unwrap();
    assert!(lookup(&txn, 40).is_empty());
    txn.insert(table.oid, customer(40)).unwrap();
    assert_eq!(
        txn.insert(table.oid, customer(41)).unwrap_err().sqlstate(),
        "23505"
    );
    txn.insert(table.oid, customer(0)).unwrap();
    assert_eq!(lookup(&txn, 40), vec![40]);
    assert_eq!(lookup(&txn, 0), vec![0]);
    txn.commit().unwrap();
    let reader = engine.begin();
    let mut expected: Vec<i64> = (0..=100).collect();
    expected.push(105);
    assert_eq!(ids(&reader.scan_all(table.oid).unwrap()), expected);
}
