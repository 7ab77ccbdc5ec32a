//! Injected write failures: a failed fsync or a full disk reaches the committer as an error,
//! the failed transaction leaves no trace, later work succeeds, and the directory reopens to
//! exactly the acknowledged commits.
//!
//! Faults are armed through [`storage::files::Faults`] (shared by every writer of one engine);
//! background maintenance is off so that the armed fsync is the one the test means. The last
//! test fills a real (tmpfs) file system when the test may mount one.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use storage::files::Faults;
use storage::types::Value;
use storage::{Engine, EngineOptions, StorageError};

fn options_with(faults: &Arc<Faults>) -> EngineOptions {
    EngineOptions {
        faults: faults.clone(),
        ..test_options()
    }
}

fn open_with(path: &Path, faults: &Arc<Faults>) -> Engine {
    Engine::open(path, options_with(faults)).expect("engine opens")
}

fn txns(list: &[i64]) -> BTreeSet<i64> {
    list.iter().copied().collect()
}

/// Commits transaction `txn`: deletes every row of `target`, inserts `rows` rows.
fn commit_deleting(
    engine: &Engine,
    ledger: &Ledger,
    txn: i64,
    rows: i64,
    target: i64,
) -> storage::Result<u64> {
    let mut t = engine.begin();
    for (row_id, _) in t.index_lookup(ledger.pkey, &[Value::Int8(target)])? {
        t.delete(ledger.oid, row_id)?;
    }
    for idx in 0..rows {
        t.insert(
            ledger.oid,
            LedgerRow::fresh(txn, idx, rows, target, (0, 0)).to_values(),
        )?;
    }
    t.commit()
}

/// Whether `error` says the disk is full: [`StorageError::DiskFull`], or a failed commit whose
/// reason is ENOSPC (see `disk_full_commit_reports_sqlstate_53100` for why both).
fn says_disk_full(error: &StorageError) -> bool {
    matches!(error, StorageError::DiskFull { .. })
        || error.to_string().contains("no space left on device")
}

#[test]
fn failed_wal_fsync_fails_the_commit_and_leaves_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let ledger;
    {
        let engine = open_with(dir.path(), &faults);
        ledger = create_ledger(&engine);
        commit_ledger_txn(&engine, &ledger, 1, 3).unwrap();
        commit_ledger_txn(&engine, &ledger, 2, 2).unwrap();

        // Transaction 3 inserts rows and deletes transaction 1; its WAL fsync fails.
        faults.fail_next_fsyncs(1);
        let error = commit_deleting(&engine, &ledger, 3, 4, 1).unwrap_err();
        assert!(
            matches!(error, StorageError::CommitFailed { .. }),
            "{error:?}"
        );
        assert_eq!(error.sqlstate(), "58030");
        assert_eq!(whole_ledger_txns(&engine, &ledger), txns(&[1, 2]));
        let reader = engine.begin();
        assert!(reader
            .index_lookup(ledger.pkey, &[Value::Int8(3)])
            .unwrap()
            .is_empty());
        assert_eq!(
            reader
                .index_lookup(ledger.pkey, &[Value::Int8(1)])
                .unwrap()
                .len(),
            3
        );
        drop(reader);

        // The engine takes commits again; the undone delete does not block a new one.
        commit_ledger_txn(&engine, &ledger, 4, 1).unwrap();
        commit_deleting(&engine, &ledger, 5, 2, 1).unwrap();
        assert_eq!(whole_ledger_txns(&engine, &ledger), txns(&[2, 4, 5]));
    }
    let engine = open_with(dir.path(), &faults);
    assert_eq!(whole_ledger_txns(&engine, &ledger), txns(&[2, 4, 5]));
    // And the reopened log goes on from there.
    commit_ledger_txn(&engine, &ledger, 6, 2).unwrap();
    drop(engine);
    let engine = open_with(dir.path(), &faults);
    assert_eq!(whole_ledger_txns(&engine, &ledger), txns(&[2, 4, 5, 6]));
}

#[test]
fn failed_log_reset_leaves_the_engine_read_only_until_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let ledger;
    {
        let engine = open_with(dir.path(), &faults);
        ledger = create_ledger(&engine);
        commit_ledger_txn(&engine, &ledger, 1, 2).unwrap();
        // The commit's fsync fails, and so do both fsyncs that cut the log back (the
        // flusher's, right after the failure, and the engine's reset).
        faults.fail_next_fsyncs(3);
        let error = commit_ledger_txn(&engine, &ledger, 2, 2).unwrap_err();
        assert_eq!(error.sqlstate(), "58030", "{error}");
        let error = commit_ledger_txn(&engine, &ledger, 3, 2).unwrap_err();
        assert!(matches!(error, StorageError::ReadOnly { .. }), "{error:?}");
        assert!(engine.checkpoint().is_err());
        assert_eq!(whole_ledger_txns(&engine, &ledger), txns(&[1]));
    }
    let engine = open_with(dir.path(), &faults);
    assert_eq!(whole_ledger_txns(&engine, &ledger), txns(&[1]));
    commit_ledger_txn(&engine, &ledger, 4, 2).unwrap();
    assert_eq!(whole_ledger_txns(&engine, &ledger), txns(&[1, 4]));
}

#[test]
fn concurrent_committers_get_ok_and_their_rows_or_an_error_and_no_rows() {
    const COMMITTERS: i64 = 8;
    const TXNS_PER_COMMITTER: i64 = 40;
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let ledger;
    let acknowledged = Mutex::new(BTreeSet::new());
    let failed = Mutex::new(BTreeSet::new());
    let (not_durable, refused) = (AtomicUsize::new(0), AtomicUsize::new(0));
    {
        let engine = open_with(dir.path(), &faults);
        ledger = create_ledger(&engine);
        std::thread::scope(|scope| {
            for committer in 0..COMMITTERS {
                let (engine, ledger) = (&engine, &ledger);
                let (acknowledged, failed) = (&acknowledged, &failed);
                let (not_durable, refused) = (&not_durable, &refused);
                scope.spawn(move || {
                    for seq in 0..TXNS_PER_COMMITTER {
                        let txn = committer * 1_000 + seq;
                        match commit_ledger_txn(engine, ledger, txn, 1 + seq % 4) {
                            Ok(_) => {
                                acknowledged.lock().unwrap().insert(txn);
                            }
                            Err(StorageError::CommitFailed { .. }) => {
                                // Its record was in a batch whose fsync failed.
                                failed.lock().unwrap().insert(txn);
                                not_durable.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(StorageError::ReadOnly { .. }) => {
                                // Refused before its WAL append: the log is not reset yet.
                                failed.lock().unwrap().insert(txn);
                                refused.fetch_add(1, Ordering::Relaxed);
                                std::thread::sleep(Duration::from_millis(1));
                            }
                            Err(error) => panic!("transaction {txn}: {error:?}"),
                        }
                    }
                });
            }
            // Fail an fsync now and then while they commit. Arm the next failure only once
            // commits succeed again: armed earlier, it would hit the fsync that resets the log
            // after the previous failure, which leaves the engine read-only until reopened
            // (see `failed_log_reset_leaves_the_engine_read_only_until_reopened`).
            let total = (COMMITTERS * TXNS_PER_COMMITTER) as usize;
            let done = || acknowledged.lock().unwrap().len() + failed.lock().unwrap().len();
            for _ in 0..4 {
                std::thread::sleep(Duration::from_millis(10));
                let before = not_durable.load(Ordering::SeqCst);
                faults.fail_next_fsyncs(1);
                while not_durable.load(Ordering::SeqCst) == before && done() < total {
                    std::thread::sleep(Duration::from_millis(1));
                }
                let acked = acknowledged.lock().unwrap().len();
                while acknowledged.lock().unwrap().len() < acked + COMMITTERS as usize
                    && done() < total
                {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        });
        faults.fail_next_fsyncs(0);
        let acknowledged = acknowledged.lock().unwrap();
        let failed = failed.lock().unwrap();
        assert_eq!(
            acknowledged.len() + failed.len(),
            (COMMITTERS * TXNS_PER_COMMITTER) as usize
        );
        assert!(
            not_durable.load(Ordering::Relaxed) > 0,
            "no commit failed its fsync: the faults missed"
        );
        assert_eq!(whole_ledger_txns(&engine, &ledger), *acknowledged);
    }
    let expected = acknowledged.into_inner().unwrap();
    let engine = open_with(dir.path(), &faults);
    assert_eq!(whole_ledger_txns(&engine, &ledger), expected);
    // (Whether the live engine was writable again afterwards is the next test's subject.)
    commit_ledger_txn(&engine, &ledger, 1_000_000, 1).unwrap();
    println!(
        "{} commits acknowledged, {} failed their fsync, {} refused while the log was reset",
        expected.len(),
        not_durable.into_inner(),
        refused.into_inner()
    );
}

/// After a failed WAL fsync the log must be reset (its failed tail cut off, commits accepted
/// again) whichever committer is the last to leave the commit: one of the failed batch, or
/// one whose earlier batch was durable but who woke up later. And a transaction that was told
/// its commit failed must not come back when the directory is reopened.
#[test]
fn transient_fsync_failures_never_leave_the_engine_read_only() {
    const COMMITTERS: usize = 8;
    const FAULTS: usize = 30;
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let engine = open_with(dir.path(), &faults);
    let ledger = create_ledger(&engine);
    let stop = AtomicBool::new(false);
    let acked = AtomicUsize::new(0);
    let not_durable = Mutex::new(BTreeSet::new());
    let failures = || not_durable.lock().unwrap().len();
    let mut stuck_after = None;
    std::thread::scope(|scope| {
        for committer in 0..COMMITTERS {
            let (engine, ledger, stop) = (&engine, &ledger, &stop);
            let (acked, not_durable) = (&acked, &not_durable);
            scope.spawn(move || {
                for seq in 0.. {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let txn = committer as i64 * 1_000_000 + seq;
                    match commit_ledger_txn(engine, ledger, txn, 1) {
                        Ok(_) => {
                            acked.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(StorageError::CommitFailed { .. }) => {
                            not_durable.lock().unwrap().insert(txn);
                        }
                        Err(StorageError::ReadOnly { .. }) => {
                            std::thread::sleep(Duration::from_micros(200));
                        }
                        Err(error) => panic!("transaction {txn}: {error:?}"),
                    }
                }
            });
        }
        let wait_for = |done: &dyn Fn() -> bool| {
            let deadline = std::time::Instant::now() + Duration::from_secs(2);
            while !done() {
                if std::time::Instant::now() > deadline {
                    return false;
                }
                std::thread::sleep(Duration::from_micros(500));
            }
            true
        };
        for fault in 1..=FAULTS {
            let failed_before = failures();
            faults.fail_next_fsyncs(1);
            assert!(
                wait_for(&|| failures() > failed_before),
                "the armed fsync failure never reached a committer"
            );
            // At most COMMITTERS - 1 stragglers can still acknowledge a commit made durable
            // before the failure; more acknowledgements mean the log accepts commits again.
            let acked_before = acked.load(Ordering::SeqCst);
            if !wait_for(&|| acked.load(Ordering::SeqCst) >= acked_before + 2 * COMMITTERS) {
                stuck_after = Some(fault);
                break;
            }
        }
        stop.store(true, Ordering::SeqCst);
    });
    let probe = commit_ledger_txn(&engine, &ledger, -1, 1);
    drop(engine);
    let engine = open_with(dir.path(), &faults);
    let not_durable = not_durable.into_inner().unwrap();
    let resurrected: Vec<i64> = whole_ledger_txns(&engine, &ledger)
        .intersection(&not_durable)
        .copied()
        .collect();
    assert!(
        stuck_after.is_none() && resurrected.is_empty(),
        "after injected fsync failure {stuck_after:?} of {FAULTS} the engine stayed read-only \
         for 2 s with nothing left to fail and no fault armed (a new commit then got \
         {probe:?}); after reopening, these transactions that got CommitFailed are present: \
         {resurrected:?}"
    );
}

#[test]
fn disk_full_fails_commits_and_checkpoints_until_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let ledger;
    {
        let engine = open_with(dir.path(), &faults);
        ledger = create_ledger(&engine);
        commit_ledger_txn(&engine, &ledger, 1, 3).unwrap();
        engine.checkpoint().unwrap();
        commit_ledger_txn(&engine, &ledger, 2, 3).unwrap();

        faults.set_disk_full(true);
        let error = commit_deleting(&engine, &ledger, 3, 2, 1).unwrap_err();
        assert!(says_disk_full(&error), "{error:?}");
        let error = commit_ledger_txn(&engine, &ledger, 4, 2).unwrap_err();
        assert!(says_disk_full(&error), "{error:?}");
        let error = engine.checkpoint().unwrap_err();
        assert!(says_disk_full(&error), "{error:?}");
        assert_eq!(whole_ledger_txns(&engine, &ledger), txns(&[1, 2]));

        faults.set_disk_full(false);
        commit_deleting(&engine, &ledger, 5, 2, 1).unwrap();
        engine.checkpoint().unwrap();
        commit_ledger_txn(&engine, &ledger, 6, 1).unwrap();
        assert_eq!(whole_ledger_txns(&engine, &ledger), txns(&[2, 5, 6]));
    }
    let engine = open_with(dir.path(), &faults);
    assert_eq!(whole_ledger_txns(&engine, &ledger), txns(&[2, 5, 6]));
}

/// A full disk is SQLSTATE 53100 (`disk_full`) for the committer, as in PostgreSQL.
#[test]
fn disk_full_commit_reports_sqlstate_53100() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let engine = open_with(dir.path(), &faults);
    let ledger = create_ledger(&engine);
    faults.set_disk_full(true);
    let error = commit_ledger_txn(&engine, &ledger, 1, 1).unwrap_err();
    assert_eq!(error.sqlstate(), "53100", "{error:?}");
}

#[test]
fn failed_checkpoint_keeps_data_readable_and_a_later_one_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let ledger;
    {
        let engine = open_with(dir.path(), &faults);
        ledger = create_ledger(&engine);
        commit_ledger_txn(&engine, &ledger, 1, 3).unwrap();
        engine.checkpoint().unwrap();
        commit_ledger_txn(&engine, &ledger, 2, 3).unwrap();
        commit_deleting(&engine, &ledger, 3, 1, 1).unwrap();

        faults.fail_next_fsyncs(1);
        let error = engine.checkpoint().unwrap_err();
        assert_eq!(error.sqlstate(), "58030", "{error}");
        assert_eq!(whole_ledger_txns(&engine, &ledger), txns(&[2, 3]));
        commit_ledger_txn(&engine, &ledger, 4, 2).unwrap();
        engine.checkpoint().unwrap();
        assert_eq!(whole_ledger_txns(&engine, &ledger), txns(&[2, 3, 4]));
    }
    let engine = open_with(dir.path(), &faults);
    assert_eq!(whole_ledger_txns(&engine, &ledger), txns(&[2, 3, 4]));
}

/// The directory must reopen after a failed checkpoint even if no checkpoint succeeded since
/// (a crash or restart right after more commits).
#[test]
fn failed_checkpoint_then_commits_then_restart_recovers_every_commit() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let ledger;
    {
        let engine = open_with(dir.path(), &faults);
        ledger = create_ledger(&engine);
        commit_ledger_txn(&engine, &ledger, 1, 3).unwrap();
        faults.fail_next_fsyncs(1);
        engine.checkpoint().unwrap_err();
        commit_ledger_txn(&engine, &ledger, 2, 3).unwrap();
        commit_ledger_txn(&engine, &ledger, 3, 1).unwrap();
    }
    let engine = Engine::open(dir.path(), options_with(&faults))
        .unwrap_or_else(|e| panic!("reopen after a failed checkpoint: {e}"));
    assert_eq!(whole_ledger_txns(&engine, &ledger), txns(&[1, 2, 3]));
}

#[test]
fn failed_compaction_keeps_data_readable_and_a_later_one_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let ledger;
    let mut expected: BTreeSet<i64>;
    {
        let engine = open_with(dir.path(), &faults);
        ledger = create_ledger(&engine);
        // Four small segments, some rows deleted.
        for batch in 0..4 {
            for txn in batch * 10..batch * 10 + 10 {
                commit_ledger_txn(&engine, &ledger, txn, 1 + txn % 3).unwrap();
            }
            engine.checkpoint().unwrap();
        }
        for (deleter, target) in [(100, 3), (101, 17), (102, 25)] {
            commit_deleting(&engine, &ledger, deleter, 1, target).unwrap();
        }
        engine.checkpoint().unwrap();
        expected = (0..40)
            .filter(|t| ![3, 17, 25].contains(t))
            .chain([100, 101, 102])
            .collect();
        let segments = engine.segment_count(ledger.oid).unwrap();
        assert_eq!(segments, 5);

        faults.fail_next_fsyncs(1);
        let error = engine.compact().unwrap_err();
        assert_eq!(error.sqlstate(), "58030", "{error}");
        assert_eq!(engine.segment_count(ledger.oid), Some(segments));
        assert_eq!(whole_ledger_txns(&engine, &ledger), expected);

        // The live engine goes on: a commit, a checkpoint, and a compaction that succeeds.
        commit_ledger_txn(&engine, &ledger, 200, 2).unwrap();
        expected.insert(200);
        engine.checkpoint().unwrap();
        let stats = engine.compact().unwrap();
        assert_eq!(stats.merged_segments, segments + 1);
        assert_eq!(engine.segment_count(ledger.oid), Some(1));
        assert_eq!(whole_ledger_txns(&engine, &ledger), expected);
    }
    let engine = open_with(dir.path(), &faults);
    assert_eq!(whole_ledger_txns(&engine, &ledger), expected);
}

#[test]
fn failed_compaction_then_restart_keeps_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let ledger;
    {
        let engine = open_with(dir.path(), &faults);
        ledger = create_ledger(&engine);
        for txn in 0..3 {
            commit_ledger_txn(&engine, &ledger, txn, 3).unwrap();
            engine.checkpoint().unwrap();
        }
        commit_deleting(&engine, &ledger, 10, 1, 1).unwrap();
        engine.checkpoint().unwrap();
        faults.fail_next_fsyncs(1);
        engine.compact().unwrap_err();
    }
    let engine = open_with(dir.path(), &faults);
    assert_eq!(whole_ledger_txns(&engine, &ledger), txns(&[0, 2, 10]));
    engine.compact().unwrap();
    assert_eq!(engine.segment_count(ledger.oid), Some(1));
    drop(engine);
    let engine = open_with(dir.path(), &faults);
    assert_eq!(whole_ledger_txns(&engine, &ledger), txns(&[0, 2, 10]));
}

/// A tmpfs mounted for one test; unmounted (lazily, so open files do not block it) on drop.
struct TmpfsMount {
    path: std::path::PathBuf,
}

impl TmpfsMount {
    fn mount(path: &Path, size: &str) -> Result<TmpfsMount, String> {
        let output = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .output()
            .map_err(|e| e.to_string())?;
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).trim().to_string());
        }
        Ok(TmpfsMount {
            path: path.to_path_buf(),
        })
    }
}

impl Drop for TmpfsMount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.path)
            .status();
    }
}

#[test]
fn real_full_disk_fails_commits_and_keeps_every_acknowledged_one() {
    let mount_point = tempfile::tempdir().unwrap();
    let mount = match TmpfsMount::mount(mount_point.path(), "4m") {
        Ok(mount) => mount,
        Err(why) => {
            println!("skipped: cannot mount a tmpfs here ({why})");
            return;
        }
    };
    let data = mount.path.join("data");
    let filler = mount.path.join("filler");
    // Leave well under a megabyte for the data directory.
    std::fs::write(&filler, vec![0u8; 3 << 20]).unwrap();
    let faults = Arc::new(Faults::default());
    let ledger;
    let mut acknowledged = BTreeSet::new();
    {
        let engine = open_with(&data, &faults);
        ledger = create_ledger(&engine);
        let mut first_error = None;
        for txn in 0..100_000 {
            match commit_ledger_txn(&engine, &ledger, txn, 20) {
                Ok(_) => {
                    acknowledged.insert(txn);
                }
                Err(error) => {
                    first_error = Some(error);
                    break;
                }
            }
        }
        let error = first_error.expect("the file system filled up");
        assert!(says_disk_full(&error), "{error:?}");
        assert!(!acknowledged.is_empty());
        assert_eq!(whole_ledger_txns(&engine, &ledger), acknowledged);
        // Still full: commits keep failing cleanly.
        let error = commit_ledger_txn(&engine, &ledger, 200_000, 20).unwrap_err();
        assert!(says_disk_full(&error), "{error:?}");

        // Space comes back: the live engine commits and checkpoints again.
        std::fs::remove_file(&filler).unwrap();
        commit_ledger_txn(&engine, &ledger, 300_000, 2).unwrap();
        acknowledged.insert(300_000);
        engine.checkpoint().unwrap();
        assert_eq!(whole_ledger_txns(&engine, &ledger), acknowledged);
    }
    let engine = open_with(&data, &faults);
    assert_eq!(whole_ledger_txns(&engine, &ledger), acknowledged);
    println!(
        "tmpfs filled after {} acknowledged commits",
        acknowledged.len() - 1
    );
    drop(engine);
    drop(mount);
}

#[test]
fn real_full_disk_then_restart_keeps_every_acknowledged_commit() {
    let mount_point = tempfile::tempdir().unwrap();
    let mount = match TmpfsMount::mount(mount_point.path(), "4m") {
        Ok(mount) => mount,
        Err(why) => {
            println!("skipped: cannot mount a tmpfs here ({why})");
            return;
        }
    };
    let data = mount.path.join("data");
    let filler = mount.path.join("filler");
    std::fs::write(&filler, vec![0u8; 3 << 20]).unwrap();
    let faults = Arc::new(Faults::default());
    let ledger;
    let mut acknowledged = BTreeSet::new();
    {
        let engine = open_with(&data, &faults);
        ledger = create_ledger(&engine);
        for txn in 0..100_000 {
            if commit_ledger_txn(&engine, &ledger, txn, 20).is_err() {
                break;
            }
            acknowledged.insert(txn);
        }
        // Checkpoints fail too while the disk is full, and leave nothing half-done behind.
        assert!(engine.checkpoint().is_err());
    }
    // Restart with the disk still full: recovery may need a few bytes (a WAL file header);
    // if it cannot have them it must say so, and not lose or invent anything.
    match Engine::open(&data, options_with(&faults)) {
        Ok(engine) => assert_eq!(whole_ledger_txns(&engine, &ledger), acknowledged),
        Err(error) => {
            assert!(says_disk_full(&error), "{error:?}");
            println!("reopening on the full disk failed: {error}");
        }
    }
    std::fs::remove_file(&filler).unwrap();
    let engine = open_with(&data, &faults);
    assert_eq!(whole_ledger_txns(&engine, &ledger), acknowledged);
    commit_ledger_txn(&engine, &ledger, 300_000, 2).unwrap();
    engine.checkpoint().unwrap();
    drop(engine);
    acknowledged.insert(300_000);
    let engine = open_with(&data, &faults);
    assert_eq!(whole_ledger_txns(&engine, &ledger), acknowledged);
    drop(engine);
    drop(mount);
}
