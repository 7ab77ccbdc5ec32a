//! The audit trail (issue 6, point 6) against the real binary:
//!
//! - `audit_records_statements_logins_and_denials_and_the_chain_verifies`: pgaudit classes
//!   (config default, `SET pgaudit.log` by a superuser), statement text and parameters with
//!   card numbers redacted, rows, SQLSTATE, failed logins with the reason, a denial inside a
//!   transaction that rolls back, and `custos_audit_verify()` reporting OK.
//! - `only_auditors_read_the_log_and_nobody_changes_it`: a non-superuser cannot read the view,
//!   run the verification or change `pgaudit.log`; membership in `custos_audit_reader` lets
//!   a role read; nobody, superuser included, can INSERT / UPDATE / DELETE / TRUNCATE / ALTER /
//!   DROP the log.
//! - `tampering_with_the_audit_file_is_detected`: an edited byte, a deleted record, two records
//!   swapped, a cut tail and a record appended without the key each make the verification
//!   report the first broken record.
//! - `audit_record_survives_kill9_right_after_commit`: the server is killed (SIGKILL) as soon
//!   as COMMIT returns; after restart the audit record of the committed statement is there.

use std::path::{Path, PathBuf};

use custos_tests::custos_server::ServerOptions;
use custos_tests::error::ensure;
use custos_tests::{CustosServer, Endpoint, HarnessError, HarnessResult};
use sha2::{Digest, Sha256};
use tokio_postgres::{Client, SimpleQueryMessage};

/// The audit key the tests configure (outside the data directory).
const KEY: &[u8] = b"test-audit-key-0123456789abcdef-0123456789";

/// Starts a server with an audit key file and `pgaudit_log` in its configuration file.
async fn start_audited(classes: &str) -> HarnessResult<(CustosServer, tempfile::TempDir)> {
    let config_dir = tempfile::tempdir()?;
    let key_path = config_dir.path().join("audit.key");
    std::fs::write(&key_path, KEY)?;
    let config = config_dir.path().join("custos.toml");
    std::fs::write(
        &config,
        format!(
            "pgaudit_log = \"{classes}\"\naudit_key_file = \"{}\"\n",
            key_path.display()
        ),
    )?;
    let server = CustosServer::start_with(ServerOptions {
        args: vec!["--config".into(), config.display().to_string()],
        env: Vec::new(),
    })
    .await?;
    Ok((server, config_dir))
}

/// Rows of a query as text, or `ERROR code: message`.
async fn query(client: &Client, sql: &str) -> Result<Vec<Vec<String>>, String> {
    match client.simple_query(sql).await {
        Ok(messages) => Ok(messages
            .into_iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|i| row.get(i).unwrap_or("NULL").to_string())
                        .collect(),
                ),
                _ => None,
            })
            .collect()),
        Err(error) => Err(match error.as_db_error() {
            Some(db) => format!("ERROR {}: {}", db.code().code(), db.message()),
            None => format!("client error: {error}"),
        }),
    }
}

async fn rows(client: &Client, sql: &str) -> HarnessResult<Vec<Vec<String>>> {
    query(client, sql)
        .await
        .map_err(|e| HarnessError::new(format!("{sql}: {e}")))
}

async fn verify(client: &Client) -> HarnessResult<String> {
    Ok(rows(client, "SELECT custos_audit_verify()").await?[0][0].clone())
}

fn as_role(server: &CustosServer, user: &str, password: &str) -> Endpoint {
    Endpoint {
        user: user.into(),
        password: password.into(),
        ..server.endpoint().clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_records_statements_logins_and_denials_and_the_chain_verifies() -> HarnessResult<()> {
    let (server, _config) = start_audited("ddl, role, write").await?;
    let admin = server.endpoint().connect().await?;
    let shown = rows(&admin, "SHOW pgaudit.log").await?;
    ensure(shown == vec![vec!["ddl, role, write".to_string()]], || {
        format!("pgaudit.log from the config file: {shown:?}")
    })?;
    admin
        .batch_execute(
            "CREATE ROLE clerk LOGIN PASSWORD 'clerk-pw';\
             CREATE TABLE payments (id int PRIMARY KEY, pan text, note text);\
             INSERT INTO payments VALUES (1, '4111 1111 1111 1111', 'first');\
             SELECT id FROM payments WHERE note = 'read-not-logged';",
        )
        .await?;
    // Extended protocol with a parameter that is a card number.
    admin
        .execute(
            "INSERT INTO payments (id, pan, note) VALUES ($1, $2, $3)",
            &[&2i32, &"5500000000000004", &"second"],
        )
        .await?;
    let writes = rows(
        &admin,
        "SELECT class, command, outcome, current_user_name, statement, parameters::text, rows, sqlstate, \
         objects::text FROM custos_audit WHERE class = 'WRITE' ORDER BY seq",
    )
    .await?;
    let expected_first = vec![
        "WRITE",
        "INSERT",
        "success",
        "custos",
        "INSERT INTO payments VALUES (1, '<redacted>', 'first')",
        "{}",
        "1",
        "00000",
        "{payments}",
    ];
    ensure(writes.len() == 2 && writes[0] == expected_first, || {
        format!("write records: {writes:?}")
    })?;
    ensure(writes[1][5] == "{2,<redacted>,second}", || {
        format!("parameters of the extended INSERT: {:?}", writes[1])
    })?;
    let text = rows(&admin, "SELECT statement FROM custos_audit").await?;
    ensure(
        !text.iter().any(|r| {
            r[0].contains("4111") || r[0].contains("5500000000000004") || r[0].contains("clerk-pw")
        }),
        || format!("a card number or a password reached the log: {text:?}"),
    )?;
    // READ is not selected: the SELECT left no record.
    let reads = rows(
        &admin,
        "SELECT count(*) FROM custos_audit WHERE statement LIKE '%read-not-logged%' AND class = 'READ'",
    )
    .await?;
    ensure(reads == vec![vec!["0".to_string()]], || {
        format!("READ records: {reads:?}")
    })?;
    // A superuser selects READ for the session.
    admin
        .batch_execute("SET pgaudit.log = 'all, -write'; SELECT 'read-logged';")
        .await?;
    admin
        .batch_execute("INSERT INTO payments VALUES (3, NULL, 'write-not-logged')")
        .await?;
    let chosen = rows(
        &admin,
        "SELECT class, rows FROM custos_audit WHERE statement LIKE '%read-logged%' \
         OR statement LIKE '%write-not-logged%' ORDER BY seq",
    )
    .await?;
    ensure(
        chosen.iter().any(|r| r[0] == "READ" && r[1] == "1")
            && !chosen.iter().any(|r| r[0] == "WRITE"),
        || format!("records with 'all, -write': {chosen:?}"),
    )?;
    let bad = query(&admin, "SET pgaudit.log = 'read, bogus'").await;
    ensure(
        bad.as_ref().is_err_and(|e| e.starts_with("ERROR 22023")),
        || format!("invalid class: {bad:?}"),
    )?;
    admin.batch_execute("SET pgaudit.log = 'none'").await?;

    // A failed login (wrong password), with its reason.
    let wrong = as_role(&server, "clerk", "not-the-password")
        .connect()
        .await;
    ensure(wrong.is_err(), || "a wrong password logged in".to_string())?;
    let logins = rows(
        &admin,
        "SELECT outcome, session_user_name, client_addr, sqlstate, statement FROM custos_audit \
         WHERE class = 'LOGIN' AND session_user_name = 'clerk' ORDER BY seq",
    )
    .await?;
    ensure(
        logins.len() == 1
            && logins[0][..4] == ["failure", "clerk", "127.0.0.1", "28P01"]
            && logins[0][4].contains("password authentication failed"),
        || format!("failed login records: {logins:?}"),
    )?;

    // A denial inside a transaction that rolls back is still recorded.
    let clerk = as_role(&server, "clerk", "clerk-pw").connect().await?;
    clerk.batch_execute("BEGIN").await?;
    let denied = query(&clerk, "SELECT pan FROM payments").await;
    ensure(
        denied.as_ref().is_err_and(|e| e.starts_with("ERROR 42501")),
        || format!("clerk reads payments: {denied:?}"),
    )?;
    clerk.batch_execute("ROLLBACK").await?;
    let denials = rows(
        &admin,
        "SELECT class, outcome, session_user_name, current_user_name, sqlstate, statement FROM custos_audit \
         WHERE outcome = 'denied'",
    )
    .await?;
    ensure(
        denials
            == vec![vec![
                "READ".to_string(),
                "denied".into(),
                "clerk".into(),
                "clerk".into(),
                "42501".into(),
                "SELECT pan FROM payments".into(),
            ]],
        || format!("denial records: {denials:?}"),
    )?;
    let login_ok = rows(
        &admin,
        "SELECT count(*) FROM custos_audit WHERE class = 'LOGIN' AND outcome = 'success' \
         AND session_user_name = 'clerk'",
    )
    .await?;
    ensure(login_ok == vec![vec!["1".to_string()]], || {
        format!("successful clerk logins: {login_ok:?}")
    })?;
    // Reading the log is itself recorded (PCI DSS 10.2.1.3), whatever the classes.
    let reads_of_log = rows(
        &admin,
        "SELECT count(*) > 0 FROM custos_audit WHERE statement LIKE '%FROM custos_audit%'",
    )
    .await?;
    ensure(reads_of_log == vec![vec!["t".to_string()]], || {
        format!("reads of the log: {reads_of_log:?}")
    })?;
    let chain = rows(
        &admin,
        "SELECT count(*), min(seq), max(seq) FROM custos_audit",
    )
    .await?;
    let verdict = verify(&admin).await?;
    let count: u64 = chain[0][0].parse().unwrap_or(0);
    ensure(
        verdict.starts_with("OK: ") && chain[0][1] == "1" && chain[0][0] == chain[0][2],
        || format!("verification: {verdict}, records {chain:?}"),
    )?;
    ensure(count > 10, || format!("only {count} records"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_auditors_read_the_log_and_nobody_changes_it() -> HarnessResult<()> {
    let server = CustosServer::start().await?;
    let admin = server.endpoint().connect().await?;
    admin
        .batch_execute(
            "CREATE ROLE manager LOGIN CREATEROLE PASSWORD 'manager-pw';\
             CREATE ROLE auditor LOGIN PASSWORD 'auditor-pw';",
        )
        .await?;
    let manager = as_role(&server, "manager", "manager-pw").connect().await?;
    for sql in [
        "SELECT * FROM custos_audit",
        "SELECT custos_audit_verify()",
        "SET pgaudit.log = 'none'",
        "RESET pgaudit.log",
        "CREATE ROLE custos_audit_reader",
    ] {
        let result = query(&manager, sql).await;
        ensure(
            result.as_ref().is_err_and(|e| e.starts_with("ERROR 42501")),
            || format!("manager: {sql}: {result:?}"),
        )?;
    }
    let setting = rows(&manager, "SHOW pgaudit.log").await?;
    ensure(
        setting == vec![vec!["ddl, role, write".to_string()]],
        || format!("manager changed pgaudit.log: {setting:?}"),
    )?;
    admin
        .batch_execute("CREATE ROLE custos_audit_reader; GRANT custos_audit_reader TO auditor;")
        .await?;
    let auditor = as_role(&server, "auditor", "auditor-pw").connect().await?;
    let seen = rows(&auditor, "SELECT count(*) > 0 FROM custos_audit").await?;
    ensure(seen == vec![vec!["t".to_string()]], || {
        format!("auditor reads: {seen:?}")
    })?;
    let verdict = verify(&auditor).await?;
    ensure(verdict.starts_with("OK"), || {
        format!("auditor verifies: {verdict}")
    })?;
    for client in [&admin, &auditor] {
        for sql in [
            "INSERT INTO custos_audit (seq) VALUES (1)",
            "UPDATE custos_audit SET statement = 'nothing happened'",
            "DELETE FROM custos_audit",
            "DELETE FROM pg_catalog.custos_audit WHERE seq = 1",
            "TRUNCATE custos_audit",
            "ALTER TABLE custos_audit ADD COLUMN x int",
            "DROP VIEW custos_audit",
            "DROP TABLE pg_catalog.custos_audit",
            "COPY custos_audit FROM STDIN",
        ] {
            let result = query(client, sql).await;
            ensure(
                result.as_ref().is_err_and(|e| e.starts_with("ERROR 42501")),
                || format!("{sql}: {result:?}"),
            )?;
        }
    }
    // The attempts are denials, recorded.
    let attempts = rows(
        &admin,
        "SELECT count(*) FROM custos_audit WHERE outcome = 'denied' AND command = 'DELETE'",
    )
    .await?;
    ensure(attempts == vec![vec!["4".to_string()]], || {
        format!("recorded DELETE attempts: {attempts:?}")
    })?;
    let verdict = verify(&admin).await?;
    ensure(verdict.starts_with("OK"), || {
        format!("after attempts: {verdict}")
    })
}

/// The log and head files of a data directory.
fn audit_files(data_dir: &Path) -> (PathBuf, PathBuf) {
    let dir = data_dir.join("audit");
    (dir.join("audit.log"), dir.join("head"))
}

/// Byte ranges of the record frames of a log file.
fn frames(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut pos = 32;
    while pos + 8 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[pos..pos + 4].try_into().unwrap()) as usize;
        out.push(pos..pos + 8 + len);
        pos += 8 + len;
    }
    out
}

/// CRC-32C (Castagnoli), bitwise: the checksum of a record body.
fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A record that follows `prev` (its seq and hash), chained with plain SHA-256: what someone
/// who can write the file but does not hold the key can forge.
fn forged_record(seq: u64, prev: &[u8; 32]) -> Vec<u8> {
    let event = br#"{"class":"LOGIN","command":"LOGIN","outcome":"success"}"#;
    let mut hasher = Sha256::new();
    hasher.update(prev);
    hasher.update(seq.to_le_bytes());
    hasher.update(0i64.to_le_bytes());
    hasher.update(event);
    let hash: [u8; 32] = hasher.finalize().into();
    let mut body = Vec::new();
    body.extend_from_slice(&seq.to_le_bytes());
    body.extend_from_slice(&0i64.to_le_bytes());
    body.extend_from_slice(prev);
    body.extend_from_slice(&hash);
    body.extend_from_slice(event);
    let mut frame = (body.len() as u32).to_le_bytes().to_vec();
    frame.extend_from_slice(&crc32c(&body).to_le_bytes());
    frame.extend_from_slice(&body);
    frame
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampering_with_the_audit_file_is_detected() -> HarnessResult<()> {
    let (mut server, _config) = start_audited("all").await?;
    {
        let admin = server.endpoint().connect().await?;
        admin
            .batch_execute(
                "CREATE TABLE t (id int PRIMARY KEY, v text);\
                 INSERT INTO t VALUES (1, 'one');\
                 INSERT INTO t VALUES (2, 'two');\
                 INSERT INTO t VALUES (3, 'three');\
                 UPDATE t SET v = 'uno' WHERE id = 1;",
            )
            .await?;
        let verdict = verify(&admin).await?;
        ensure(verdict.starts_with("OK"), || {
            format!("untouched: {verdict}")
        })?;
    }
    tokio::task::block_in_place(|| server.stop());
    let (log_path, head_path) = audit_files(server.data_dir());
    let pristine = std::fs::read(&log_path)?;
    let pristine_head = std::fs::read(&head_path)?;
    let f = frames(&pristine);
    ensure(f.len() >= 8, || format!("only {} records", f.len()))?;
    let last = f.len();
    // The sequence number of the record in frame i is i + 1.
    let cases: Vec<(&str, Vec<u8>, String)> = vec![
        (
            "edited byte",
            {
                let mut b = pristine.clone();
                b[f[3].end - 4] ^= 0x20;
                b
            },
            "BROKEN at record 4: checksum mismatch".into(),
        ),
        (
            "deleted record",
            {
                let mut b = pristine.clone();
                b.drain(f[2].clone());
                b
            },
            "BROKEN at record 3: found record 4 where record 3 was expected".into(),
        ),
        (
            "reordered records",
            {
                let mut b = pristine[..f[4].start].to_vec();
                b.extend_from_slice(&pristine[f[5].clone()]);
                b.extend_from_slice(&pristine[f[4].clone()]);
                b.extend_from_slice(&pristine[f[5].end..]);
                b
            },
            "BROKEN at record 5: found record 6 where record 5 was expected".into(),
        ),
        (
            "cut tail",
            pristine[..f[last - 2].start].to_vec(),
            format!("BROKEN at record {}: the log ended at record", last - 1),
        ),
        (
            "record appended without the key",
            {
                let mut b = pristine.clone();
                let mut prev = [0u8; 32];
                prev.copy_from_slice(&pristine[f[last - 1].start + 8 + 48..f[last - 1].start + 8 + 80]);
                b.extend_from_slice(&forged_record(last as u64 + 1, &prev));
                b
            },
            format!(
                "BROKEN at record {}: hash mismatch (record edited, or written without the audit key)",
                last + 1
            ),
        ),
    ];
    for (name, bytes, expected) in cases {
        std::fs::write(&log_path, &bytes)?;
        std::fs::write(&head_path, &pristine_head)?;
        server.start_again().await?;
        let admin = server.endpoint().connect().await?;
        let verdict = verify(&admin).await?;
        ensure(verdict.starts_with(&expected), || {
            format!("{name}: expected {expected:?}, got {verdict:?}")
        })?;
        drop(admin);
        tokio::task::block_in_place(|| server.stop());
    }
    // The untouched file verifies again (the checks above were not failing for any file).
    std::fs::write(&log_path, &pristine)?;
    std::fs::write(&head_path, &pristine_head)?;
    server.start_again().await?;
    let admin = server.endpoint().connect().await?;
    let verdict = verify(&admin).await?;
    ensure(verdict.starts_with("OK"), || format!("restored: {verdict}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_record_survives_kill9_right_after_commit() -> HarnessResult<()> {
    let (mut server, _config) = start_audited("write").await?;
    {
        let admin = server.endpoint().connect().await?;
        admin
            .batch_execute("CREATE TABLE orders (id int PRIMARY KEY, label text)")
            .await?;
        admin.batch_execute("BEGIN").await?;
        admin
            .batch_execute("INSERT INTO orders VALUES (7, 'kill-marker')")
            .await?;
        admin.batch_execute("COMMIT").await?;
        // Killed as soon as COMMIT is acknowledged: no shutdown work at all.
        let stopped = tokio::task::block_in_place(|| server.kill9());
        ensure(stopped.is_some(), || {
            "the server was not running".to_string()
        })?;
    }
    server.start_again().await?;
    let admin = server.endpoint().connect().await?;
    let stored = rows(&admin, "SELECT label FROM orders").await?;
    let audited = rows(
        &admin,
        "SELECT class, command, rows FROM custos_audit WHERE statement LIKE '%kill-marker%'",
    )
    .await?;
    ensure(
        stored == vec![vec!["kill-marker".to_string()]]
            && audited == vec![vec!["WRITE".to_string(), "INSERT".into(), "1".into()]],
        || format!("after kill -9: rows {stored:?}, audit {audited:?}"),
    )?;
    let verdict = verify(&admin).await?;
    ensure(verdict.starts_with("OK"), || {
        format!("after kill -9: {verdict}")
    })
}
