//! The write-ahead log: appending with group commit, rotation, trimming, and recovery.
//!
//! Threads: committers call [`Wal::append`] while holding the engine's commit lock (so records
//! enter the log in LSN order), release it, and block in [`Wal::wait_durable`]. One dedicated
//! flusher thread takes everything appended so far, writes it (small records are copied into
//! one buffer; a large one, framed where it was built, is written from its own buffer:
//! [`Wal::append_framed`]) and makes it durable with one `fdatasync`: committers that arrive
//! while an fsync is running share the next one. Nothing is acknowledged before its fsync
//! returns.
//!
//! After a failed write or fsync the log refuses new appends, fails every waiter whose record
//! was not durable, and stays so until the engine (having undone those transactions in memory)
//! calls [`Wal::reset_after_failure`], which cuts the file back to its last durable length.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use parking_lot::{Condvar, Mutex};

use super::record::{
    file_header, frame_record, read_wal_file, FramedRecord, WalRecord, RECORD_HEADER_LEN,
};
use crate::error::{Result, StorageError};
use crate::files::Faults;

/// The file currently appended to.
struct ActiveFile {
    file: File,
    path: PathBuf,
    first_lsn: u64,
    /// Length of the durable prefix.
    durable_len: u64,
}

/// Records appended and not written yet, in LSN order: small ones framed into a shared buffer,
/// large ones (a bulk load's megabytes) kept in the buffer they were built in, uncopied.
#[derive(Default)]
struct Pending {
    /// `(buffer, start)`: the bytes to write are `buffer[start..]`.
    chunks: Vec<(Vec<u8>, usize)>,
    /// Whether the last chunk is a shared buffer that small records may extend.
    last_shared: bool,
    bytes: usize,
}

/// A record at least this large is queued in its own buffer rather than copied.
const OWN_BUFFER_BYTES: usize = 64 << 10;

impl Pending {
    fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    fn push_copy(&mut self, lsn: u64, payload: &[u8]) {
        if !self.last_shared {
            self.chunks
                .push((Vec::with_capacity(payload.len() + RECORD_HEADER_LEN), 0));
            self.last_shared = true;
        }
        let (buffer, _) = self.chunks.last_mut().expect("a shared chunk");
        let before = buffer.len();
        frame_record(buffer, lsn, payload);
        self.bytes += buffer.len() - before;
    }

    fn push_framed(&mut self, record: FramedRecord) {
        let length = record.as_slice().len();
        if length < OWN_BUFFER_BYTES {
            // Small: cheaper to copy than to keep one more buffer.
            if !self.last_shared {
                self.chunks.push((Vec::with_capacity(length), 0));
                self.last_shared = true;
            }
            let (buffer, _) = self.chunks.last_mut().expect("a shared chunk");
            buffer.extend_from_slice(record.as_slice());
        } else {
            self.chunks.push((record.bytes, record.start));
            self.last_shared = false;
        }
        self.bytes += length;
    }
}

struct State {
    pending: Pending,
    pending_last_lsn: u64,
    durable_lsn: u64,
    failure: Option<String>,
    /// Set when the failure was a full disk, naming the file: committers get `DiskFull`.
    failure_disk_full: Option<PathBuf>,
    flushing: bool,
    shutdown: bool,
    /// `None` only while the flusher is writing to it.
    active: Option<ActiveFile>,
    fsyncs: u64,
}

struct Shared {
    state: Mutex<State>,
    /// Mirror of `state.durable_lsn`, so that taking a snapshot never waits for the WAL lock.
    durable: AtomicU64,
    work_ready: Condvar,
    progress: Condvar,
    faults: Arc<Faults>,
}

/// The log of one data directory.
pub struct Wal {
    dir: PathBuf,
    shared: Arc<Shared>,
    flusher: Option<JoinHandle<()>>,
}

/// What recovery read back.
pub struct RecoveredWal {
    pub wal: Wal,
    /// Committed transactions after the checkpoint, in LSN order.
    pub records: Vec<WalRecord>,
    /// The LSN the next commit gets.
    pub next_lsn: u64,
    /// Bytes cut off as a torn tail.
    pub torn_bytes: u64,
}

fn wal_file_name(first_lsn: u64) -> String {
    format!("{first_lsn:020}.wal")
}

/// The WAL files of `dir` as (first LSN, path), in LSN order.
fn list_wal_files(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| StorageError::io(dir, e))? {
        let entry = entry.map_err(|e| StorageError::io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(stem) = name.strip_suffix(".wal") {
            match stem.parse::<u64>() {
                Ok(lsn) => files.push((lsn, entry.path())),
                Err(_) => {
                    return Err(StorageError::corrupt(
                        entry.path(),
                        0,
                        "unexpected WAL file name",
                    ))
                }
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Removes `*.wal.tmp` files: WAL files whose creation a crash interrupted.
fn remove_temporary_files(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir).map_err(|e| StorageError::io(dir, e))? {
        let entry = entry.map_err(|e| StorageError::io(dir, e))?;
        if entry.file_name().to_string_lossy().ends_with(".wal.tmp") {
            let path = entry.path();
            fs::remove_file(&path).map_err(|e| StorageError::io(&path, e))?;
        }
    }
    Ok(())
}

impl Wal {
    /// Opens the log in `dir` (created if empty), replays nothing itself but returns every
    /// committed record after `checkpoint_lsn`, cutting off a torn tail.
    pub fn recover(dir: &Path, checkpoint_lsn: u64, faults: Arc<Faults>) -> Result<RecoveredWal> {
        fs::create_dir_all(dir).map_err(|e| StorageError::io(dir, e))?;
        remove_temporary_files(dir)?;
        let files = list_wal_files(dir)?;
        let mut records = Vec::new();
        let mut next_lsn = checkpoint_lsn + 1;
        let mut torn_bytes = 0;
        let mut active = None;
        if let Some(&(first, _)) = files.first() {
            if first > checkpoint_lsn + 1 {
                return Err(StorageError::corrupt(
                    dir,
                    0,
                    format!(
                        "WAL starts at LSN {first} but the checkpoint ends at {checkpoint_lsn}: records are missing"
                    ),
                ));
            }
        }
        for (i, (first_lsn, path)) in files.iter().enumerate() {
            let is_last = i + 1 == files.len();
            let next_first = files.get(i + 1).map(|f| f.0);
            if let Some(next_first) = next_first {
                if next_first <= checkpoint_lsn + 1 {
                    continue; // wholly covered by the checkpoint
                }
            }
            let contents = read_wal_file(path, *first_lsn, is_last)?;
            let end_lsn = first_lsn + contents.records.len() as u64;
            if let Some(next_first) = next_first {
                if end_lsn != next_first {
                    return Err(StorageError::corrupt(
                        path,
                        contents.valid_len,
                        format!(
                            "WAL file ends before LSN {next_first}, where the next file starts"
                        ),
                    ));
                }
            }
            for record in contents.records {
                if record.lsn > checkpoint_lsn {
                    next_lsn = record.lsn + 1;
                    records.push(record);
                }
            }
            if is_last {
                let file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(path)
                    .map_err(|e| StorageError::io(path, e))?;
                let actual_len = file
                    .metadata()
                    .map_err(|e| StorageError::io(path, e))?
                    .len();
                let mut valid_len = contents.valid_len;
                if valid_len == 0 {
                    // Crashed while creating the file: write its header again.
                    file.set_len(0).map_err(|e| StorageError::io(path, e))?;
                    (&file)
                        .write_all(&file_header())
                        .map_err(|e| StorageError::io(path, e))?;
                    valid_len = file_header().len() as u64;
                } else if contents.torn_tail {
                    torn_bytes = actual_len - valid_len;
                    file.set_len(valid_len)
                        .map_err(|e| StorageError::io(path, e))?;
                }
                faults.fsync(&file, path)?;
                if end_lsn == next_lsn {
                    active = Some(ActiveFile {
                        file,
                        path: path.clone(),
                        first_lsn: *first_lsn,
                        durable_len: valid_len,
                    });
                }
                // Otherwise the file ends at or before the checkpoint: a new file follows.
            }
        }
        let active = match active {
            Some(active) => active,
            None => create_wal_file(dir, next_lsn, &faults)?,
        };
        let shared = Arc::new(Shared {
            durable: AtomicU64::new(next_lsn - 1),
            state: Mutex::new(State {
                pending: Pending::default(),
                pending_last_lsn: next_lsn - 1,
                durable_lsn: next_lsn - 1,
                failure: None,
                failure_disk_full: None,
                flushing: false,
                shutdown: false,
                active: Some(active),
                fsyncs: 0,
            }),
            work_ready: Condvar::new(),
            progress: Condvar::new(),
            faults,
        });
        let flusher_shared = shared.clone();
        let flusher = std::thread::Builder::new()
            .name("custos-wal-flusher".into())
            .spawn(move || flusher_loop(&flusher_shared))
            .map_err(|e| StorageError::io(dir, e))?;
        Ok(RecoveredWal {
            wal: Wal {
                dir: dir.to_path_buf(),
                shared,
                flusher: Some(flusher),
            },
            records,
            next_lsn,
            torn_bytes,
        })
    }

    /// Queues one committed transaction. Callers hold the engine's commit lock, so LSNs arrive
    /// in order.
    pub fn append(&self, lsn: u64, payload: &[u8]) -> Result<()> {
        let mut state = self.shared.state.lock();
        if let Some(failure) = &state.failure {
            return Err(StorageError::ReadOnly {
                reason: failure.clone(),
            });
        }
        debug_assert_eq!(lsn, state.pending_last_lsn + 1, "WAL appends out of order");
        state.pending.push_copy(lsn, payload);
        state.pending_last_lsn = lsn;
        self.shared.work_ready.notify_one();
        Ok(())
    }

    /// Queues one committed transaction already framed as a record (see
    /// [`super::PayloadBuilder::frame`]); a large one is written from its own buffer.
    pub fn append_framed(&self, lsn: u64, record: FramedRecord) -> Result<()> {
        let mut state = self.shared.state.lock();
        if let Some(failure) = &state.failure {
            return Err(StorageError::ReadOnly {
                reason: failure.clone(),
            });
        }
        debug_assert_eq!(lsn, state.pending_last_lsn + 1, "WAL appends out of order");
        state.pending.push_framed(record);
        state.pending_last_lsn = lsn;
        self.shared.work_ready.notify_one();
        Ok(())
    }

    /// Blocks until the record of `lsn` is durable, or fails if its write failed.
    pub fn wait_durable(&self, lsn: u64) -> Result<()> {
        let mut state = self.shared.state.lock();
        loop {
            if state.durable_lsn >= lsn {
                return Ok(());
            }
            if let Some(path) = &state.failure_disk_full {
                return Err(StorageError::DiskFull { path: path.clone() });
            }
            if let Some(failure) = &state.failure {
                return Err(StorageError::CommitFailed {
                    reason: failure.clone(),
                });
            }
            self.shared.progress.wait(&mut state);
        }
    }

    pub fn durable_lsn(&self) -> u64 {
        self.shared.durable.load(Ordering::Acquire)
    }

    /// The error that stopped the log, if any.
    pub fn failure(&self) -> Option<String> {
        self.shared.state.lock().failure.clone()
    }

    /// How many fsyncs the flusher has made (group commit makes this less than the commits).
    /// Bytes of records in the current WAL file (what a checkpoint would let go of).
    pub fn active_file_bytes(&self) -> u64 {
        self.shared
            .state
            .lock()
            .active
            .as_ref()
            .map_or(0, |a| a.durable_len)
    }

    pub fn fsync_count(&self) -> u64 {
        self.shared.state.lock().fsyncs
    }

    /// After a failure, once every failed transaction was undone in memory: cut the file back
    /// to its durable length and accept appends again from `durable_lsn + 1`.
    pub fn reset_after_failure(&self) -> Result<()> {
        let mut state = self.shared.state.lock();
        while state.flushing {
            self.shared.progress.wait(&mut state);
        }
        if state.failure.is_none() {
            return Ok(());
        }
        let Some(active) = state.active.as_ref() else {
            return Err(StorageError::ReadOnly {
                reason: "WAL file lost".into(),
            });
        };
        active
            .file
            .set_len(active.durable_len)
            .map_err(|e| StorageError::io(&active.path, e))?;
        self.shared.faults.fsync(&active.file, &active.path)?;
        state.pending = Pending::default();
        state.pending_last_lsn = state.durable_lsn;
        state.failure = None;
        state.failure_disk_full = None;
        Ok(())
    }

    /// Starts a new WAL file for the records after everything appended so far, once that is
    /// durable. Called under the engine's commit lock (no concurrent appends).
    pub fn rotate(&self) -> Result<()> {
        let mut state = self.shared.state.lock();
        while (state.flushing || !state.pending.is_empty()) && state.failure.is_none() {
            self.shared.progress.wait(&mut state);
        }
        if let Some(failure) = &state.failure {
            return Err(StorageError::ReadOnly {
                reason: failure.clone(),
            });
        }
        let next_lsn = state.durable_lsn + 1;
        if state
            .active
            .as_ref()
            .is_some_and(|a| a.first_lsn == next_lsn)
        {
            return Ok(()); // already empty
        }
        let new_file = create_wal_file(&self.dir, next_lsn, &self.shared.faults)?;
        state.active = Some(new_file);
        Ok(())
    }

    /// Deletes the WAL files whose records are all at or below `checkpoint_lsn`.
    pub fn trim(&self, checkpoint_lsn: u64) -> Result<usize> {
        let active_first = self
            .shared
            .state
            .lock()
            .active
            .as_ref()
            .map_or(u64::MAX, |a| a.first_lsn);
        let files = list_wal_files(&self.dir)?;
        let mut removed = 0;
        for pair in files.windows(2) {
            let (first, path) = &pair[0];
            let next_first = pair[1].0;
            if *first < active_first && next_first <= checkpoint_lsn + 1 {
                fs::remove_file(path).map_err(|e| StorageError::io(path, e))?;
                removed += 1;
            }
        }
        if removed > 0 {
            self.shared.faults.fsync_dir(&self.dir)?;
        }
        Ok(removed)
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        {
            let mut state = self.shared.state.lock();
            state.shutdown = true;
            self.shared.work_ready.notify_all();
        }
        if let Some(flusher) = self.flusher.take() {
            let _ = flusher.join();
        }
    }
}

fn create_wal_file(dir: &Path, first_lsn: u64, faults: &Faults) -> Result<ActiveFile> {
    let path = dir.join(wal_file_name(first_lsn));
    let tmp = dir.join(format!("{}.tmp", wal_file_name(first_lsn)));
    let created = (|| -> Result<File> {
        faults.check_write(&tmp)?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(|e| StorageError::io(&tmp, e))?;
        file.write_all(&file_header())
            .map_err(|e| StorageError::io(&tmp, e))?;
        faults.fsync(&file, &tmp)?;
        fs::rename(&tmp, &path).map_err(|e| StorageError::io(&path, e))?;
        faults.fsync_dir(dir)?;
        Ok(file)
    })();
    match created {
        Ok(file) => Ok(ActiveFile {
            file,
            path,
            first_lsn,
            durable_len: file_header().len() as u64,
        }),
        Err(error) => {
            // A half-made file must not stay: the log goes on in the previous file, and a
            // stray empty successor would make recovery see a gap.
            let _ = fs::remove_file(&tmp);
            if fs::remove_file(&path).is_ok() {
                let _ = faults.fsync_dir(dir);
            }
            Err(error)
        }
    }
}

fn flusher_loop(shared: &Shared) {
    let mut state = shared.state.lock();
    loop {
        while (state.pending.is_empty() || state.failure.is_some()) && !state.shutdown {
            shared.work_ready.wait(&mut state);
        }
        if state.pending.is_empty() || state.failure.is_some() {
            // Shutting down with nothing (writable) left.
            shared.progress.notify_all();
            return;
        }
        let batch = std::mem::take(&mut state.pending);
        let batch_last_lsn = state.pending_last_lsn;
        let Some(mut active) = state.active.take() else {
            state.failure = Some("WAL file missing".into());
            shared.progress.notify_all();
            continue;
        };
        state.flushing = true;
        drop(state);

        let outcome = write_batch(shared, &mut active, &batch);

        state = shared.state.lock();
        state.flushing = false;
        match outcome {
            Ok(()) => {
                active.durable_len += batch.bytes as u64;
                state.durable_lsn = batch_last_lsn;
                shared.durable.store(batch_last_lsn, Ordering::Release);
                state.fsyncs += 1;
            }
            Err(error) => {
                // Cut the undurable bytes off at once, so that a crash before the engine's
                // reset cannot replay a commit that was reported as failed.
                let _ = active.file.set_len(active.durable_len);
                let _ = shared.faults.fsync(&active.file, &active.path);
                if let StorageError::DiskFull { path } = &error {
                    state.failure_disk_full = Some(path.clone());
                }
                state.failure = Some(error.to_string());
            }
        }
        state.active = Some(active);
        shared.progress.notify_all();
    }
}

fn write_batch(shared: &Shared, active: &mut ActiveFile, batch: &Pending) -> Result<()> {
    shared.faults.check_write(&active.path)?;
    use std::io::{Seek, SeekFrom};
    active
        .file
        .seek(SeekFrom::Start(active.durable_len))
        .map_err(|e| StorageError::io(&active.path, e))?;
    for (buffer, start) in &batch.chunks {
        active
            .file
            .write_all(&buffer[*start..])
            .map_err(|e| StorageError::io(&active.path, e))?;
    }
    shared.faults.fsync(&active.file, &active.path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_survive_reopen_and_group_commit_shares_fsyncs() {
        let dir = tempfile::tempdir().unwrap();
        let faults = Arc::new(Faults::default());
        let recovered = Wal::recover(dir.path(), 0, faults.clone()).unwrap();
        assert_eq!(recovered.next_lsn, 1);
        let wal = Arc::new(recovered.wal);
        let commit_lock = Arc::new(Mutex::new(1u64));
        let mut threads = Vec::new();
        for _ in 0..8 {
            let wal = wal.clone();
            let commit_lock = commit_lock.clone();
            threads.push(std::thread::spawn(move || {
                for _ in 0..25 {
                    let lsn = {
                        let mut next = commit_lock.lock();
                        let lsn = *next;
                        wal.append(lsn, b"\x00").unwrap();
                        *next += 1;
                        lsn
                    };
                    wal.wait_durable(lsn).unwrap();
                }
            }));
        }
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(wal.durable_lsn(), 200);
        assert!(wal.fsync_count() <= 200);
        drop(wal);
        let recovered = Wal::recover(dir.path(), 0, faults).unwrap();
        assert_eq!(recovered.records.len(), 200);
        assert_eq!(recovered.next_lsn, 201);
    }

    #[test]
    fn failed_fsync_fails_the_commit_and_reset_restores_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let faults = Arc::new(Faults::default());
        let wal = Wal::recover(dir.path(), 0, faults.clone()).unwrap().wal;
        wal.append(1, b"\x00").unwrap();
        wal.wait_durable(1).unwrap();
        faults.fail_next_fsyncs(1);
        wal.append(2, b"\x00").unwrap();
        assert!(matches!(
            wal.wait_durable(2),
            Err(StorageError::CommitFailed { .. })
        ));
        assert!(
            wal.append(2, b"\x00").is_err(),
            "appends refused until reset"
        );
        wal.reset_after_failure().unwrap();
        wal.append(2, b"\x00").unwrap();
        wal.wait_durable(2).unwrap();
        drop(wal);
        let recovered = Wal::recover(dir.path(), 0, faults).unwrap();
        assert_eq!(recovered.records.len(), 2);
    }

    #[test]
    fn rotation_and_trim_keep_what_the_checkpoint_does_not_cover() {
        let dir = tempfile::tempdir().unwrap();
        let faults = Arc::new(Faults::default());
        let wal = Wal::recover(dir.path(), 0, faults.clone()).unwrap().wal;
        for lsn in 1..=3 {
            wal.append(lsn, b"\x00").unwrap();
        }
        wal.wait_durable(3).unwrap();
        wal.rotate().unwrap();
        for lsn in 4..=5 {
            wal.append(lsn, b"\x00").unwrap();
        }
        wal.wait_durable(5).unwrap();
        assert_eq!(wal.trim(3).unwrap(), 1);
        drop(wal);
        let recovered = Wal::recover(dir.path(), 3, faults).unwrap();
        let lsns: Vec<u64> = recovered.records.iter().map(|r| r.lsn).collect();
        assert_eq!(lsns, vec![4, 5]);
        assert_eq!(recovered.next_lsn, 6);
    }
}
