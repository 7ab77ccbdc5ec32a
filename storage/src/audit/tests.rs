//! Unit tests of the audit log: the chain verifies, and every kind of tampering with the
//! file is reported at the right record.

use super::*;

const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

fn event(n: usize) -> AuditEvent {
    AuditEvent {
        class: "WRITE".into(),
        command: "INSERT".into(),
        outcome: "success".into(),
        session_user: "alice".into(),
        current_user: "alice".into(),
        database: "custos".into(),
        client_addr: "127.0.0.1".into(),
        statement: format!("INSERT INTO t VALUES ({n})"),
        rows: Some(1),
        sqlstate: "00000".into(),
        objects: vec!["public.t".into()],
        ..Default::default()
    }
}

/// A log of `n` records in a fresh directory.
fn log_with(n: usize, key: Option<&[u8]>) -> (tempfile::TempDir, AuditLog) {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), key).unwrap();
    for i in 0..n {
        log.append(&event(i)).unwrap();
    }
    log.sync_all().unwrap();
    (dir, log)
}

/// Byte ranges of every record frame in the file.
fn frames(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut pos = HEADER_LEN;
    while pos + 8 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[pos..pos + 4].try_into().unwrap()) as usize;
        out.push(pos..pos + 8 + len);
        pos += 8 + len;
    }
    out
}

fn rewrite(log: &AuditLog, f: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = std::fs::read(log.path()).unwrap();
    f(&mut bytes);
    std::fs::write(log.path(), bytes).unwrap();
}

#[test]
fn untouched_chain_verifies_and_survives_reopen() {
    let (dir, log) = log_with(5, Some(KEY));
    assert_eq!(log.verify().unwrap().summary(), "OK: 5 records");
    drop(log);
    let log = AuditLog::open(dir.path(), Some(KEY)).unwrap();
    assert_eq!(log.next_seq(), 6);
    log.append(&event(6)).unwrap();
    log.sync_all().unwrap();
    assert_eq!(log.verify().unwrap().summary(), "OK: 6 records");
    let records = log.records().unwrap();
    assert_eq!(records.len(), 6);
    assert_eq!(
        records[5].event().unwrap().statement,
        "INSERT INTO t VALUES (6)"
    );
    assert_eq!(
        AuditLog::verify_file(dir.path(), Some(KEY))
            .unwrap()
            .summary(),
        "OK: 6 records"
    );
}

#[test]
fn edited_byte_is_detected_at_its_record() {
    let (_dir, log) = log_with(5, Some(KEY));
    rewrite(&log, |bytes| {
        let third = frames(bytes)[2].clone();
        bytes[third.end - 3] ^= 0x01;
    });
    let v = log.verify().unwrap();
    assert_eq!(v.records, 2);
    let (seq, reason) = v.broken.unwrap();
    assert_eq!(seq, 3);
    assert!(reason.contains("checksum"), "{reason}");
}

#[test]
fn edited_record_with_fixed_checksum_fails_the_hash() {
    let (_dir, log) = log_with(4, Some(KEY));
    rewrite(&log, |bytes| {
        let second = frames(bytes)[1].clone();
        let at = second.end - 5;
        bytes[at] = b'9';
        let crc = crc32c::crc32c(&bytes[second.start + 8..second.end]);
        bytes[second.start + 4..second.start + 8].copy_from_slice(&crc.to_le_bytes());
    });
    let (seq, reason) = log.verify().unwrap().broken.unwrap();
    assert_eq!(seq, 2);
    assert!(reason.contains("hash mismatch"), "{reason}");
}

#[test]
fn deleted_record_is_detected() {
    let (_dir, log) = log_with(5, Some(KEY));
    rewrite(&log, |bytes| {
        let second = frames(bytes)[1].clone();
        bytes.drain(second);
    });
    let (seq, reason) = log.verify().unwrap().broken.unwrap();
    assert_eq!(seq, 2);
    assert!(reason.contains("found record 3"), "{reason}");
}

#[test]
fn reordered_records_are_detected() {
    let (_dir, log) = log_with(5, Some(KEY));
    rewrite(&log, |bytes| {
        let f = frames(bytes);
        let (a, b) = (bytes[f[2].clone()].to_vec(), bytes[f[3].clone()].to_vec());
        let mut swapped = bytes[..f[2].start].to_vec();
        swapped.extend_from_slice(&b);
        swapped.extend_from_slice(&a);
        swapped.extend_from_slice(&bytes[f[3].end..]);
        *bytes = swapped;
    });
    let (seq, reason) = log.verify().unwrap().broken.unwrap();
    assert_eq!(seq, 3);
    assert!(reason.contains("found record 4"), "{reason}");
}

#[test]
fn truncated_tail_is_detected_while_running_and_after_restart() {
    let (dir, log) = log_with(5, Some(KEY));
    // Whole records cut from the end.
    rewrite(&log, |bytes| {
        let f = frames(bytes);
        bytes.truncate(f[3].start);
    });
    let (seq, reason) = log.verify().unwrap().broken.unwrap();
    assert_eq!(seq, 4);
    assert!(reason.contains("tail cut"), "{reason}");
    drop(log);
    // After a restart the head file still remembers five records.
    let log = AuditLog::open(dir.path(), Some(KEY)).unwrap();
    let (seq, reason) = log.verify().unwrap().broken.unwrap();
    assert_eq!(seq, 4);
    assert!(reason.contains("head file recorded 5"), "{reason}");
    // The cut is also written into the chain, so that it stays visible after more records.
    let records = log.records().unwrap();
    assert_eq!(records.last().unwrap().event().unwrap().command, "TAIL CUT");
}

#[test]
fn torn_last_record_is_cut_at_open() {
    let (dir, log) = log_with(3, None);
    drop(log);
    let path = AuditLog::path_in(dir.path());
    let mut bytes = std::fs::read(&path).unwrap();
    let partial = frame_bytes_of_new_record();
    bytes.extend_from_slice(&partial[..partial.len() / 2]);
    std::fs::write(&path, &bytes).unwrap();
    let log = AuditLog::open(dir.path(), None).unwrap();
    assert_eq!(log.open_notes().len(), 1, "{:?}", log.open_notes());
    assert_eq!(log.next_seq(), 4);
    log.append(&event(4)).unwrap();
    log.sync_all().unwrap();
    assert_eq!(log.verify().unwrap().summary(), "OK: 4 records");
}

fn frame_bytes_of_new_record() -> Vec<u8> {
    encode_record(4, 0, &[0; 32], &[0; 32], b"{\"class\":\"WRITE\"}").unwrap()
}

#[test]
fn forged_record_without_the_key_is_detected() {
    let (_dir, log) = log_with(3, Some(KEY));
    rewrite(&log, |bytes| {
        let records = read_records(bytes);
        let last = records.last().unwrap();
        // The forger knows the format and chains with plain SHA-256 (no key).
        let forged = serde_json::to_vec(&event(99)).unwrap();
        let hash = Chain::Sha256.hash(&last.hash, 4, 0, &forged);
        bytes.extend_from_slice(&encode_record(4, 0, &last.hash, &hash, &forged).unwrap());
    });
    let (seq, reason) = log.verify().unwrap().broken.unwrap();
    assert_eq!(seq, 4);
    assert!(reason.contains("without the audit key"), "{reason}");
}

#[test]
fn wrong_or_missing_key_refuses_to_open() {
    let (dir, log) = log_with(1, Some(KEY));
    drop(log);
    assert!(AuditLog::open(dir.path(), None).is_err());
    assert!(AuditLog::open(dir.path(), Some(b"another key")).is_err());
    assert!(AuditLog::open(dir.path(), Some(KEY)).is_ok());
}

#[test]
fn concurrent_appends_share_fsyncs_and_keep_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let log = std::sync::Arc::new(AuditLog::open(dir.path(), None).unwrap());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    let seq = log.append(&event(t * 100 + i)).unwrap();
                    log.sync(seq).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(log.verify().unwrap().summary(), "OK: 200 records");
    assert_eq!(log.records().unwrap().len(), 200);
}

#[test]
fn long_statements_are_cut() {
    let (_dir, log) = log_with(0, None);
    let mut e = event(0);
    e.statement = "x".repeat(MAX_STATEMENT_LEN * 2);
    log.append(&e).unwrap();
    let stored = log.records().unwrap()[0].event().unwrap().statement;
    assert!(stored.len() < MAX_STATEMENT_LEN + 20);
    assert!(stored.ends_with("<truncated>"));
}
