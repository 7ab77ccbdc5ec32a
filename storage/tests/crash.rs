//! Crash recovery under `kill -9`: every acknowledged commit survives, no unacknowledged
//! transaction is partly visible, and recovering already-recovered data works again.
//!
//! The harness ([`acknowledged_commits_survive_kill9`]) runs this test binary again as a child
//! ([`child_entry`], active only when `CUSTOS_CRASH_CHILD` names a data directory). The child
//! opens the engine with background maintenance and tiny limits, so that checkpoints and
//! compactions run all the time, and runs several committer threads over the `ledger` table
//! (see `common::Ledger`). It reports on stdout, one flushed line per event:
//!
//! ```text
//! READY                                   engine open, committers starting
//! START <txn> <deleted> <upd_txn> <upd_idx> <rows>
//!                                         before commit(): what the transaction does
//! ACK <txn>                               after commit() returned Ok
//! ABORT <txn> <sqlstate>                  commit (or a statement) failed; nothing of it may show
//! CKPT-START <id> | CKPT-END <id>         around an explicit checkpoint()
//! COMPACT-START <id> | COMPACT-END <id>   around an explicit compact()
//! FAILED <what>: <error>                  an operation failed that must not
//! ```
//!
//! The harness kills the child with SIGKILL after a random delay, right after a START marker
//! of a checkpoint or compaction, or while it is still opening the engine; reads every line
//! the child wrote before dying; in some rounds appends garbage to the newest WAL file (a torn
//! write); opens the directory itself; and checks the ledger against everything the children
//! declared, acknowledged and aborted so far (see [`verify`]): every present transaction was
//! started, is whole and did what it declared; every acknowledged (or once recovered)
//! transaction is still there unless a present transaction deleted it; deletes and updates
//! show exactly when their transaction does; aborted transactions leave nothing; the primary
//! key index agrees with the scan. The directory carries over to the next round. The seed is
//! printed; `CUSTOS_CRASH_SEED=<n>` replays a run's choices (not its timing).

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use storage::types::Value;
use storage::{Engine, EngineOptions, StorageError};

const CHILD_DIR_ENV: &str = "CUSTOS_CRASH_CHILD";
const CHILD_ROUND_ENV: &str = "CUSTOS_CRASH_ROUND";
const CHILD_TARGETS_ENV: &str = "CUSTOS_CRASH_TARGETS";
const CHILD_SEED_ENV: &str = "CUSTOS_CRASH_CHILD_SEED";
const SEED_ENV: &str = "CUSTOS_CRASH_SEED";

/// Kills per run: at least `MIN_ROUNDS` (`REQUIRED_ROUNDS` once past `TIME_BUDGET` on a slow
/// machine); more, up to `MAX_ROUNDS`, until enough kills landed inside a checkpoint and
/// inside a compaction.
const REQUIRED_ROUNDS: usize = 20;
const MIN_ROUNDS: usize = 40;
const MAX_ROUNDS: usize = 80;
const WANTED_KILLS_INSIDE: usize = 2;
const TIME_BUDGET: Duration = Duration::from_secs(60);
/// A child that is never killed stops by itself after this long.
const CHILD_LIFETIME: Duration = Duration::from_secs(15);
/// How long the harness waits for a marker before killing anyway.
const MARKER_WAIT: Duration = Duration::from_secs(3);
const COMMITTERS: i64 = 4;
/// Each committer runs a checkpoint (then a compaction) after this many of its commits.
const MAINTENANCE_EVERY: u64 = 20;
/// Share of rounds (in percent) after which the harness appends garbage to the newest WAL
/// file, as a write torn by a power cut would leave it.
const TEAR_PERCENT: u32 = 30;
/// Transaction numbers: `round * ROUND_SPAN + committer * COMMITTER_SPAN + seq`.
const ROUND_SPAN: i64 = 1_000_000;
const COMMITTER_SPAN: i64 = 100_000;

fn child_options() -> EngineOptions {
    EngineOptions {
        memtable_limit_bytes: 64 << 10,
        compaction_small_segment_rows: 500,
        background_maintenance: true,
        ..Default::default()
    }
}

fn harness_options() -> EngineOptions {
    EngineOptions {
        background_maintenance: false,
        ..child_options()
    }
}

// ---------------------------------------------------------------------------------------------
// The child.

/// Entry point of the child process; does nothing in a normal test run.
#[test]
fn child_entry() {
    let Ok(dir) = std::env::var(CHILD_DIR_ENV) else {
        return;
    };
    let env_number = |name: &str| -> i64 {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} must be set for the crash child"))
    };
    let round = env_number(CHILD_ROUND_ENV);
    let seed = env_number(CHILD_SEED_ENV) as u64;
    let targets_path = std::env::var(CHILD_TARGETS_ENV).expect("targets file named");
    run_child(Path::new(&dir), round, seed, Path::new(&targets_path));
}

/// One line to the harness, written and flushed whole.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    // The harness may be gone (it reads until we die); nothing useful to do on error.
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Transactions of earlier rounds and of this one that committers may delete or update:
/// plain transactions (no update or delete of their own), by number, with their row count.
struct TargetPool {
    targets: Mutex<Vec<(i64, i64)>>,
}

fn run_child(dir: &Path, round: i64, seed: u64, targets_path: &Path) {
    let engine = Engine::open(dir, child_options()).unwrap_or_else(|e| {
        say(&format!("FAILED open: {e}"));
        panic!("child could not open {}: {e}", dir.display())
    });
    let ledger = find_ledger(&engine).expect("the harness created the ledger");
    let targets = std::fs::read_to_string(targets_path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let (txn, count) = line.split_once(' ')?;
            Some((txn.parse().ok()?, count.parse().ok()?))
        })
        .collect();
    let pool = TargetPool {
        targets: Mutex::new(targets),
    };
    let maintenance_ids = AtomicU64::new(0);
    let maintenance_turn = Mutex::new(());
    let deadline = Instant::now() + CHILD_LIFETIME;
    // A leading newline: libtest has written "test child_entry ... " without one.
    say("\nREADY");
    std::thread::scope(|scope| {
        for committer in 0..COMMITTERS {
            let (engine, ledger, pool) = (&engine, &ledger, &pool);
            let (ids, turn) = (&maintenance_ids, &maintenance_turn);
            let mut rng = StdRng::seed_from_u64(seed ^ ((committer as u64 + 1) * 0x9E37_79B9));
            scope.spawn(move || {
                let base = round * ROUND_SPAN + (committer + 1) * COMMITTER_SPAN;
                let mut committed = 0u64;
                for seq in 1.. {
                    if Instant::now() > deadline {
                        return;
                    }
                    if run_child_transaction(engine, ledger, pool, &mut rng, base + seq) {
                        committed += 1;
                        if committed.is_multiple_of(MAINTENANCE_EVERY) {
                            run_child_maintenance(engine, ids, turn);
                        }
                    }
                    if let Some(error) = engine.last_maintenance_error() {
                        say(&format!("FAILED background maintenance: {error}"));
                    }
                }
            });
        }
    });
}

/// One explicit checkpoint and one compaction, with markers the harness aims kills at. One
/// committer at a time (the others skip their turn), so that a START marker means the work is
/// under way rather than queued behind another committer's.
fn run_child_maintenance(engine: &Engine, ids: &AtomicU64, turn: &Mutex<()>) {
    let Ok(_turn) = turn.try_lock() else {
        return;
    };
    let id = ids.fetch_add(1, Ordering::SeqCst);
    say(&format!("CKPT-START {id}"));
    match engine.checkpoint() {
        Ok(_) => say(&format!("CKPT-END {id}")),
        Err(e) => say(&format!("FAILED checkpoint {id}: {e}")),
    }
    say(&format!("COMPACT-START {id}"));
    match engine.compact() {
        Ok(_) => say(&format!("COMPACT-END {id}")),
        Err(e) => say(&format!("FAILED compaction {id}: {e}")),
    }
}

/// Runs transaction `txn`: a few inserted rows, sometimes the deletion of an earlier plain
/// transaction or the update of one of its rows. Returns whether it committed.
fn run_child_transaction(
    engine: &Engine,
    ledger: &Ledger,
    pool: &TargetPool,
    rng: &mut StdRng,
    txn: i64,
) -> bool {
    let rows = rng.gen_range(1..=6i64);
    let mut t = engine.begin();
    let dice = rng.gen_range(0..100);
    let mut deleted_txn = 0;
    let mut updated = (0, 0);
    let mut to_delete = Vec::new();
    let mut to_update = None;
    if dice < 30 {
        let target = {
            let mut targets = pool.targets.lock().unwrap();
            if targets.is_empty() {
                None
            } else {
                let at = rng.gen_range(0..targets.len());
                Some(if dice < 15 {
                    targets.swap_remove(at)
                } else {
                    targets[at]
                })
            }
        };
        if let Some((target, count)) = target {
            if dice < 15 {
                let found = t
                    .index_lookup(ledger.pkey, &[Value::Int8(target)])
                    .expect("index lookup");
                if !found.is_empty() {
                    deleted_txn = target;
                    to_delete = found.into_iter().map(|(row_id, _)| row_id).collect();
                }
            } else {
                let idx = rng.gen_range(0..count);
                let found = t
                    .index_lookup(ledger.pkey, &[Value::Int8(target), Value::Int8(idx)])
                    .expect("index lookup");
                if let Some((row_id, values)) = found.into_iter().next() {
                    let mut row = LedgerRow::from_values(&values).expect("ledger row");
                    row.history.push(txn);
                    updated = (target, idx);
                    to_update = Some((row_id, row));
                }
            }
        }
    }
    say(&format!(
        "START {txn} {deleted_txn} {} {} {rows}",
        updated.0, updated.1
    ));
    let mut statements = || -> storage::Result<()> {
        for row_id in &to_delete {
            t.delete(ledger.oid, *row_id)?;
        }
        if let Some((row_id, row)) = &to_update {
            t.update(ledger.oid, *row_id, row.to_values())?;
        }
        for idx in 0..rows {
            t.insert(
                ledger.oid,
                LedgerRow::fresh(txn, idx, rows, deleted_txn, updated).to_values(),
            )?;
        }
        Ok(())
    };
    let outcome = statements().and_then(|()| t.commit());
    match outcome {
        Ok(_) => {
            say(&format!("ACK {txn}"));
            if deleted_txn == 0 && updated.0 == 0 {
                pool.targets.lock().unwrap().push((txn, rows));
            }
            true
        }
        Err(e) => {
            say(&format!("ABORT {txn} {}", e.sqlstate()));
            // First committer wins: a concurrent delete or update of the same row makes the
            // later one fail, with 40001, or with 23505 when the winner's new version of the
            // row committed between this update's delete and its insert.
            let conflict = matches!(e, StorageError::SerializationFailure)
                || (updated.0 != 0 && matches!(e, StorageError::UniqueViolation { .. }));
            if !conflict {
                say(&format!("FAILED transaction {txn}: {e}"));
            }
            false
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The harness.

/// What a transaction declared before its commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Declared {
    deleted_txn: i64,
    updated: (i64, i64),
    rows: i64,
}

/// Everything the children reported, over all rounds.
#[derive(Default)]
struct History {
    declared: HashMap<i64, Declared>,
    acked: HashSet<i64>,
    aborted: HashSet<i64>,
    /// Transactions acknowledged or seen present by some verification: from then on they are
    /// present, or deleted by a transaction that is present.
    known: BTreeSet<i64>,
    failures: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KillAim {
    /// A random delay after READY.
    Random,
    /// Right after a `CKPT-START`.
    Checkpoint,
    /// Right after a `COMPACT-START`.
    Compaction,
    /// While the child is still opening (recovering) the engine.
    Opening,
}

#[derive(Default, Debug)]
struct Stats {
    rounds: usize,
    kills_inside_checkpoint: usize,
    kills_inside_compaction: usize,
    kills_while_opening: usize,
    torn_tail_bytes: u64,
    rounds_with_torn_tail: usize,
    injected_torn_bytes: u64,
    removed_garbage_files: usize,
    replayed_transactions: usize,
}

/// What one round's child wrote before it died.
struct RoundLog {
    lines: Vec<String>,
    stderr: String,
}

#[test]
fn acknowledged_commits_survive_kill9() {
    let started = Instant::now();
    let seed = std::env::var(SEED_ENV)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(7, |d| d.as_nanos() as u64)
        });
    println!("crash test seed {seed} (replay choices with {SEED_ENV}={seed})");
    let mut rng = StdRng::seed_from_u64(seed);
    let work = tempfile::tempdir().unwrap();
    let data_dir = work.path().join("data");
    let targets_path = work.path().join("targets");
    let ledger = {
        let engine = Engine::open(&data_dir, harness_options()).unwrap();
        create_ledger(&engine)
    };
    let mut history = History::default();
    let mut stats = Stats::default();
    let exe = std::env::current_exe().unwrap();
    let mut round = 0;
    loop {
        let enough_inside = stats.kills_inside_checkpoint >= WANTED_KILLS_INSIDE
            && stats.kills_inside_compaction >= WANTED_KILLS_INSIDE;
        let out_of_time = started.elapsed() > TIME_BUDGET;
        if round >= MAX_ROUNDS
            || (round >= MIN_ROUNDS && (enough_inside || out_of_time))
            || (round >= REQUIRED_ROUNDS && out_of_time)
        {
            break;
        }
        round += 1;
        let aim = match rng.gen_range(0..100) {
            0..=39 => KillAim::Random,
            40..=64 => KillAim::Checkpoint,
            65..=89 => KillAim::Compaction,
            _ => KillAim::Opening,
        };
        let round_started = Instant::now();
        let log = run_round(&exe, &data_dir, &targets_path, round, aim, &mut rng);
        let child_time = round_started.elapsed();
        let injected = if rng.gen_ratio(TEAR_PERCENT, 100) {
            tear_wal_tail(&data_dir, &mut rng)
        } else {
            0
        };
        stats.injected_torn_bytes += injected;
        absorb(&log, &mut history, &mut stats, aim);
        assert!(
            history.failures.is_empty(),
            "round {round}: the child reported failures: {:?}\nchild stderr:\n{}",
            history.failures,
            log.stderr
        );
        let (engine, report) = Engine::open_with_report(&data_dir, harness_options())
            .unwrap_or_else(|e| panic!("round {round}: recovery failed: {e}"));
        stats.rounds += 1;
        assert!(
            report.torn_tail_bytes >= injected,
            "round {round}: {injected} garbage bytes appended to the WAL, recovery cut {}",
            report.torn_tail_bytes
        );
        stats.torn_tail_bytes += report.torn_tail_bytes;
        stats.rounds_with_torn_tail += usize::from(report.torn_tail_bytes > 0);
        stats.removed_garbage_files += report.removed_garbage.len();
        stats.replayed_transactions += report.replayed_transactions;
        let present = verify(&engine, &ledger, &mut history)
            .unwrap_or_else(|e| panic!("round {round} ({aim:?} kill, seed {seed}): {e}"));
        write_targets(&targets_path, &present, &history);
        println!(
            "round {round}: {aim:?} kill after {child_time:.0?}, verified in {:.0?}; \
             {} transactions present",
            round_started.elapsed() - child_time,
            present.len()
        );
    }
    // Finally: the recovered directory checkpoints, compacts, and reopens to the same ledger.
    {
        let engine = Engine::open(&data_dir, harness_options()).unwrap();
        engine.checkpoint().expect("final checkpoint");
        engine.compact().expect("final compaction");
    }
    let engine = Engine::open(&data_dir, harness_options()).unwrap();
    let present = verify(&engine, &ledger, &mut history)
        .unwrap_or_else(|e| panic!("after the final checkpoint and compaction: {e}"));
    let deletes = history
        .declared
        .values()
        .filter(|d| d.deleted_txn != 0)
        .count();
    let updates = history
        .declared
        .values()
        .filter(|d| d.updated.0 != 0)
        .count();
    println!(
        "crash test: {} rounds in {:.1?}; kills inside checkpoint {}, inside compaction {}, \
         while opening {}; {} transactions started ({deletes} deleting, {updates} updating), \
         {} acknowledged, {} aborted by conflicts, {} present at the end; recovery replayed \
         {} transactions, cut {} torn bytes in {} rounds ({} bytes injected), removed {} \
         garbage files",
        stats.rounds,
        started.elapsed(),
        stats.kills_inside_checkpoint,
        stats.kills_inside_compaction,
        stats.kills_while_opening,
        history.declared.len(),
        history.acked.len(),
        history.aborted.len(),
        present.len(),
        stats.replayed_transactions,
        stats.torn_tail_bytes,
        stats.rounds_with_torn_tail,
        stats.injected_torn_bytes,
        stats.removed_garbage_files,
    );
    assert!(
        stats.rounds >= REQUIRED_ROUNDS,
        "only {} kills",
        stats.rounds
    );
    assert!(
        stats.kills_inside_checkpoint > 0 && stats.kills_inside_compaction > 0,
        "no kill landed inside a checkpoint or a compaction: {stats:?}"
    );
    assert!(!history.acked.is_empty(), "no child acknowledged a commit");
}

/// Spawns a child on `data_dir`, kills it as `aim` says, and returns what it wrote.
fn run_round(
    exe: &Path,
    data_dir: &Path,
    targets_path: &Path,
    round: usize,
    aim: KillAim,
    rng: &mut StdRng,
) -> RoundLog {
    let mut child = Command::new(exe)
        .args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR_ENV, data_dir)
        .env(CHILD_ROUND_ENV, round.to_string())
        .env(CHILD_SEED_ENV, rng.gen::<u32>().to_string())
        .env(CHILD_TARGETS_ENV, targets_path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the test binary runs as a child");
    let spawned = Instant::now();
    let (lines_tx, lines_rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut stderr = child.stderr.take().unwrap();
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });

    let mut lines = Vec::new();
    let mut ready_at = None;
    let random_delay = Duration::from_millis(rng.gen_range(10..=300));
    let opening_delay = Duration::from_millis(rng.gen_range(0..=40));
    let marker_delay = Duration::from_micros(rng.gen_range(0..=4_000));
    let marker = match aim {
        KillAim::Checkpoint => Some("CKPT-START"),
        KillAim::Compaction => Some("COMPACT-START"),
        _ => None,
    };
    let mut kill_at = match aim {
        KillAim::Opening => Some(spawned + opening_delay),
        _ => None,
    };
    let mut exited_early = false;
    loop {
        let now = Instant::now();
        if kill_at.is_some_and(|at| now >= at) {
            break;
        }
        if ready_at.is_some_and(|at: Instant| now >= at + MARKER_WAIT) {
            break; // the marker did not come: kill anyway
        }
        let wait = kill_at
            .map_or(Duration::from_millis(50), |at| {
                at.saturating_duration_since(now)
            })
            .min(Duration::from_millis(50));
        match lines_rx.recv_timeout(wait) {
            Ok(line) => {
                if line.ends_with("READY") && ready_at.is_none() {
                    ready_at = Some(Instant::now());
                    if aim == KillAim::Random {
                        kill_at = Some(Instant::now() + random_delay);
                    }
                }
                if marker.is_some_and(|m| line.starts_with(m)) && kill_at.is_none() {
                    kill_at = Some(Instant::now() + marker_delay);
                }
                if line.starts_with("FAILED") {
                    lines.push(line);
                    break;
                }
                lines.push(line);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if spawned.elapsed() > CHILD_LIFETIME {
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                exited_early = true;
                break;
            }
        }
    }
    kill(&mut child);
    let status = child.wait().expect("child reaped");
    // Everything the child wrote before it died is still in the pipe.
    lines.extend(lines_rx.iter());
    reader.join().unwrap();
    let stderr = stderr_reader.join().unwrap();
    assert!(
        !exited_early || status.signal() == Some(libc::SIGKILL),
        "round {round}: the child exited by itself ({status}) before the kill;\nstdout: {:?}\n\
         stderr:\n{stderr}",
        lines.iter().rev().take(20).collect::<Vec<_>>()
    );
    RoundLog { lines, stderr }
}

fn kill(child: &mut Child) {
    // `Child::kill` sends SIGKILL on Unix; an already exited child is fine.
    let _ = child.kill();
}

/// Folds a round's log into the history and the kill statistics.
fn absorb(log: &RoundLog, history: &mut History, stats: &mut Stats, aim: KillAim) {
    let mut open_checkpoints = BTreeSet::new();
    let mut open_compactions = BTreeSet::new();
    let mut ready = false;
    for line in &log.lines {
        let mut words = line.split_whitespace();
        let word = words.next().unwrap_or("");
        let mut number = || -> i64 {
            words
                .next()
                .and_then(|w| w.parse().ok())
                .unwrap_or_else(|| panic!("malformed child line {line:?}"))
        };
        match word {
            _ if line.ends_with("READY") => ready = true,
            "START" => {
                let txn = number();
                let declared = Declared {
                    deleted_txn: number(),
                    updated: (number(), number()),
                    rows: number(),
                };
                let previous = history.declared.insert(txn, declared);
                assert!(previous.is_none(), "transaction {txn} started twice");
            }
            "ACK" => {
                let txn = number();
                history.acked.insert(txn);
                history.known.insert(txn);
            }
            "ABORT" => {
                history.aborted.insert(number());
            }
            "CKPT-START" => {
                open_checkpoints.insert(number());
            }
            "CKPT-END" => {
                open_checkpoints.remove(&number());
            }
            "COMPACT-START" => {
                open_compactions.insert(number());
            }
            "COMPACT-END" => {
                open_compactions.remove(&number());
            }
            _ if word.starts_with("FAILED") => history.failures.push(line.clone()),
            _ => {} // the test harness's own lines
        }
    }
    stats.kills_inside_checkpoint += usize::from(!open_checkpoints.is_empty());
    stats.kills_inside_compaction += usize::from(!open_compactions.is_empty());
    stats.kills_while_opening += usize::from(aim == KillAim::Opening && !ready);
}

/// Checks the ledger of `engine` against everything declared so far; returns the present
/// transactions with their row counts.
fn verify(
    engine: &Engine,
    ledger: &Ledger,
    history: &mut History,
) -> Result<BTreeMap<i64, i64>, String> {
    let by_txn = ledger_by_txn(engine, ledger);
    check_whole_transactions(&by_txn)?;
    let present: BTreeMap<i64, i64> = by_txn
        .iter()
        .map(|(txn, rows)| (*txn, rows[0].count))
        .collect();
    let mut deleters: HashMap<i64, i64> = HashMap::new();
    for (txn, rows) in &by_txn {
        let target = rows[0].deleted_txn;
        if target != 0 {
            if let Some(other) = deleters.insert(target, *txn) {
                return Err(format!(
                    "transactions {other} and {txn} both committed the deletion of {target}"
                ));
            }
        }
    }
    // Every present transaction was started, and did what it declared.
    for (txn, rows) in &by_txn {
        let declared = history
            .declared
            .get(txn)
            .ok_or_else(|| format!("transaction {txn} is present but was never started"))?;
        let first = &rows[0];
        let found = Declared {
            deleted_txn: first.deleted_txn,
            updated: (first.updated_txn, first.updated_idx),
            rows: first.count,
        };
        if found != *declared {
            return Err(format!(
                "transaction {txn} declared {declared:?}, its rows say {found:?}"
            ));
        }
        if history.aborted.contains(txn) {
            return Err(format!("transaction {txn} failed to commit but is present"));
        }
        if declared.deleted_txn != 0 && present.contains_key(&declared.deleted_txn) {
            return Err(format!(
                "transaction {txn} deleted transaction {}, which is (partly) still there",
                declared.deleted_txn
            ));
        }
        let (target, idx) = declared.updated;
        if target != 0 {
            if let Some(target_rows) = by_txn.get(&target) {
                let row = target_rows
                    .get(idx as usize)
                    .ok_or_else(|| format!("transaction {txn} updated a row beyond {target}"))?;
                if !row.history.contains(txn) {
                    return Err(format!(
                        "transaction {txn} updated row ({target}, {idx}), which does not show \
                         it: {row:?}"
                    ));
                }
            } else if !deleters.contains_key(&target) {
                return Err(format!(
                    "transaction {txn} updated transaction {target}, which is gone without a \
                     deleter"
                ));
            }
        }
    }
    // Every update a row shows was made by a present transaction that declared it.
    for rows in by_txn.values() {
        for row in rows {
            let mut seen = HashSet::new();
            for updater in &row.history {
                let declared = history.declared.get(updater);
                let ok = seen.insert(*updater)
                    && present.contains_key(updater)
                    && declared.is_some_and(|d| d.updated == (row.txn, row.idx));
                if !ok {
                    return Err(format!(
                        "row ({}, {}) shows an update by {updater}, which is absent or did \
                         not declare it: {row:?}",
                        row.txn, row.idx
                    ));
                }
            }
        }
    }
    // Acknowledged (or once seen) transactions are present, or deleted by a present one.
    for txn in &history.known {
        if !present.contains_key(txn) && !deleters.contains_key(txn) {
            let how = if history.acked.contains(txn) {
                "acknowledged"
            } else {
                "seen after an earlier recovery"
            };
            return Err(format!(
                "transaction {txn} was {how} but is missing (declared {:?})",
                history.declared.get(txn)
            ));
        }
    }
    // The primary-key index agrees with the scan.
    let reader = engine.begin();
    let indexed = reader
        .index_range(
            ledger.pkey,
            std::ops::Bound::Unbounded,
            std::ops::Bound::Unbounded,
        )
        .map_err(|e| e.to_string())?;
    let scanned: usize = by_txn.values().map(Vec::len).sum();
    if indexed.len() != scanned {
        return Err(format!(
            "the primary key index finds {} rows, the scan {scanned}",
            indexed.len()
        ));
    }
    for (txn, count) in &present {
        let hits = reader
            .index_lookup(ledger.pkey, &[Value::Int8(*txn)])
            .map_err(|e| e.to_string())?;
        if hits.len() as i64 != *count {
            return Err(format!(
                "index lookup of transaction {txn} finds {} of its {count} rows",
                hits.len()
            ));
        }
    }
    history.known.extend(present.keys().copied());
    Ok(present)
}

/// Appends 1 to 48 random bytes to the newest WAL file (if it has its header), as a torn
/// write would leave it; returns how many.
fn tear_wal_tail(data_dir: &Path, rng: &mut StdRng) -> u64 {
    let newest = std::fs::read_dir(data_dir.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "wal"))
        .max();
    let Some(path) = newest else { return 0 };
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    if file.metadata().unwrap().len() < 16 {
        return 0; // killed while creating the file: only an empty or partial header is real
    }
    let garbage: Vec<u8> = (0..rng.gen_range(1..=48)).map(|_| rng.gen()).collect();
    file.write_all(&garbage).unwrap();
    garbage.len() as u64
}

/// Writes the plain present transactions (targets for the next child's deletes and updates).
fn write_targets(path: &Path, present: &BTreeMap<i64, i64>, history: &History) {
    let mut text = String::new();
    for (txn, count) in present {
        let plain = history
            .declared
            .get(txn)
            .is_some_and(|d| d.deleted_txn == 0 && d.updated.0 == 0);
        if plain {
            text.push_str(&format!("{txn} {count}\n"));
        }
    }
    std::fs::write(path, text).expect("targets file written");
}
