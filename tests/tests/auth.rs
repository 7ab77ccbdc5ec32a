//! Logging in (issue 6, point 1), against the real binary with tokio-postgres and psql:
//!
//! - `custos_login_failures_look_like_postgres`: wrong password, unknown user and expired
//!   role all fail with the same 28P01; NOLOGIN is 28000; CONNECTION LIMIT is 53300 and
//!   frees its slot when a connection ends; a SCRAM verifier given as the password is kept
//!   and logs in with its password.
//! - `custos_unknown_users_get_the_same_challenge`: the SCRAM exchange of a role that does
//!   not exist looks like a real one (mechanisms, salt length, iterations; a salt that is
//!   stable across attempts) and fails only at the proof, like a wrong password.
//! - `custos_host_rules_decide_who_connects`: a `pg_hba.conf`-style file: `+role`, `reject`,
//!   no matching line, `trust` on loopback, `hostssl` refusing a clear-text connection; a
//!   file with `trust` for non-loopback addresses keeps the server from starting.
//! - `custos_tls_with_psql_verify_full_and_channel_binding`: certificates from `openssl`,
//!   psql with `sslmode=verify-full`, `channel_binding=require` (SCRAM-SHA-256-PLUS), a
//!   wrong CA refused, `hostssl` lines matching only TLS, and `sslmode=require` refused by
//!   a server without TLS.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use custos_tests::error::ensure;
use custos_tests::process::run_bounded;
use custos_tests::wire::{messages, BackendMessage, RawConnection};
use custos_tests::{CustosServer, Endpoint, HarnessError, HarnessResult, ServerOptions};

/// The SQLSTATE and message of a failed connection attempt.
async fn login_error(endpoint: &Endpoint) -> String {
    match endpoint.connect().await {
        Ok(_) => "connected".to_string(),
        // "connecting to ...: database error <SQLSTATE>: <message>"
        Err(error) => error.to_string(),
    }
}

fn as_user(server: &CustosServer, user: &str, password: &str) -> Endpoint {
    Endpoint {
        user: user.into(),
        password: password.into(),
        ..server.endpoint().clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_login_failures_look_like_postgres() -> HarnessResult<()> {
    let server = CustosServer::start().await?;
    let admin = server.endpoint().connect().await?;
    admin
        .batch_execute(
            "CREATE ROLE app LOGIN PASSWORD 'app-pw';\
             CREATE USER expired PASSWORD 'old-pw' VALID UNTIL '2001-01-01';\
             CREATE USER forever PASSWORD 'f-pw' VALID UNTIL 'infinity';\
             CREATE ROLE locked NOLOGIN PASSWORD 'locked-pw';\
             CREATE USER limited PASSWORD 'l-pw' CONNECTION LIMIT 1;",
        )
        .await?;
    let ok = as_user(&server, "app", "app-pw").connect().await?;
    let who = ok
        .query_one("SELECT current_user, session_user", &[])
        .await?;
    ensure(
        who.get::<_, String>(0) == "app" && who.get::<_, String>(1) == "app",
        || "app logs in as itself".to_string(),
    )?;
    as_user(&server, "forever", "f-pw").connect().await?;

    let wrong = login_error(&as_user(&server, "app", "not-it")).await;
    ensure(
        wrong.contains("28P01: password authentication failed for user \"app\""),
        || format!("wrong password: {wrong}"),
    )?;
    let unknown = login_error(&as_user(&server, "ghost", "whatever")).await;
    ensure(
        unknown.contains("28P01: password authentication failed for user \"ghost\""),
        || format!("unknown user: {unknown}"),
    )?;
    let expired = login_error(&as_user(&server, "expired", "old-pw")).await;
    ensure(
        expired.contains("28P01: password authentication failed for user \"expired\""),
        || format!("expired role: {expired}"),
    )?;
    let nologin = login_error(&as_user(&server, "locked", "locked-pw")).await;
    ensure(
        nologin.contains("28000: role \"locked\" is not permitted to log in"),
        || format!("NOLOGIN role: {nologin}"),
    )?;

    // CONNECTION LIMIT 1: a second connection is refused while the first lasts.
    let first = as_user(&server, "limited", "l-pw").connect().await?;
    let second = login_error(&as_user(&server, "limited", "l-pw")).await;
    ensure(
        second.contains("53300: too many connections for role \"limited\""),
        || format!("second connection over the limit: {second}"),
    )?;
    drop(first);
    let mut again = String::new();
    for _ in 0..100 {
        again = login_error(&as_user(&server, "limited", "l-pw")).await;
        if again == "connected" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ensure(again == "connected", || {
        format!("after the first closed: {again}")
    })?;

    // A verifier given as the password is stored as is and proves the same password.
    let verifier: String = admin
        .query_one(
            "SELECT rolpassword FROM pg_authid WHERE rolname = 'app'",
            &[],
        )
        .await?
        .get(0);
    ensure(
        verifier.starts_with("SCRAM-SHA-256$4096:") && !verifier.contains("app-pw"),
        || format!("stored verifier: {verifier}"),
    )?;
    admin
        .batch_execute(&format!("CREATE ROLE twin LOGIN PASSWORD '{verifier}'"))
        .await?;
    let twin: String = admin
        .query_one(
            "SELECT rolpassword FROM pg_authid WHERE rolname = 'twin'",
            &[],
        )
        .await?
        .get(0);
    ensure(twin == verifier, || {
        "the verifier was kept as given".to_string()
    })?;
    as_user(&server, "twin", "app-pw").connect().await?;

    // ALTER ROLE changes the password; the old one stops working. Its settings apply at
    // the next login.
    admin
        .batch_execute(
            "ALTER ROLE app PASSWORD 'new-pw'; ALTER ROLE app SET DateStyle = 'SQL, DMY'",
        )
        .await?;
    let app = as_user(&server, "app", "new-pw").connect().await?;
    let style: String = app.query_one("SHOW DateStyle", &[]).await?.get(0);
    ensure(style == "SQL, DMY", || {
        format!("DateStyle from ALTER ROLE SET: {style}")
    })?;
    let old = login_error(&as_user(&server, "app", "app-pw")).await;
    ensure(
        old.contains("28P01") || old.contains("password authentication failed"),
        || format!("old password after ALTER ROLE: {old}"),
    )
}

fn write(path: &Path, text: &str) -> HarnessResult<()> {
    std::fs::write(path, text).map_err(|e| HarnessError::new(format!("{}: {e}", path.display())))
}

fn config_options(config: &Path) -> ServerOptions {
    ServerOptions {
        args: vec!["--config".into(), config.display().to_string()],
        env: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_host_rules_decide_who_connects() -> HarnessResult<()> {
    let dir = tempfile::tempdir()?;
    let hba = dir.path().join("pg_hba.conf");
    write(
        &hba,
        "# TYPE  DATABASE USER     ADDRESS       METHOD\n\
         host    all      custos   127.0.0.1/32  scram-sha-256\n\
         host    all      +staff   127.0.0.1/32  scram-sha-256\n\
         host    all      blocked  127.0.0.1/32  reject\n\
         host    all      trusted  127.0.0.1/32  trust\n\
         hostssl all      tls_only 127.0.0.1/32  scram-sha-256\n",
    )?;
    let config = dir.path().join("custos.toml");
    write(
        &config,
        "hba_file = \"pg_hba.conf\"\nhba_allow_trust = true\n",
    )?;
    let server = CustosServer::start_with(config_options(&config)).await?;
    let admin = server.endpoint().connect().await?;
    admin
        .batch_execute(
            "CREATE ROLE staff NOLOGIN;\
             CREATE ROLE team NOLOGIN;\
             GRANT staff TO team;\
             CREATE USER ann PASSWORD 'ann-pw' IN ROLE team;\
             CREATE USER outsider PASSWORD 'o-pw';\
             CREATE USER blocked PASSWORD 'b-pw';\
             CREATE USER trusted;\
             CREATE USER tls_only PASSWORD 't-pw';",
        )
        .await?;
    // A member of staff through team.
    as_user(&server, "ann", "ann-pw").connect().await?;
    let outsider = login_error(&as_user(&server, "outsider", "o-pw")).await;
    ensure(
        outsider.contains(
            "28000: no pg_hba.conf entry for host \"127.0.0.1\", user \"outsider\", database \"custos\", no encryption",
        ),
        || format!("no matching line: {outsider}"),
    )?;
    let blocked = login_error(&as_user(&server, "blocked", "b-pw")).await;
    ensure(
        blocked.contains(
            "28000: pg_hba.conf rejects connection for host \"127.0.0.1\", user \"blocked\", database \"custos\", no encryption",
        ),
        || format!("reject line: {blocked}"),
    )?;
    // trust from loopback: any password, even none stored.
    as_user(&server, "trusted", "anything").connect().await?;
    let clear = login_error(&as_user(&server, "tls_only", "t-pw")).await;
    ensure(clear.contains("no pg_hba.conf entry"), || {
        format!("hostssl line, clear-text connection: {clear}")
    })?;
    // Membership changes apply to the next connection.
    admin.batch_execute("REVOKE team FROM ann").await?;
    let ann = login_error(&as_user(&server, "ann", "ann-pw")).await;
    ensure(ann.contains("no pg_hba.conf entry"), || {
        format!("ann after leaving staff: {ann}")
    })?;

    // trust for non-loopback addresses is refused when the file loads.
    let bad_dir = tempfile::tempdir()?;
    write(
        &bad_dir.path().join("pg_hba.conf"),
        "host all all 0.0.0.0/0 trust\n",
    )?;
    let bad_config = bad_dir.path().join("custos.toml");
    write(
        &bad_config,
        "hba_file = \"pg_hba.conf\"\nhba_allow_trust = true\n",
    )?;
    match CustosServer::start_with(config_options(&bad_config)).await {
        Ok(_) => Err(HarnessError::new(
            "a server with `trust` for 0.0.0.0/0 started",
        )),
        Err(error) => ensure(error.to_string().contains("loopback"), || {
            format!("start-up error: {error}")
        }),
    }
}

fn openssl(dir: &Path, args: &[&str]) -> HarnessResult<()> {
    let mut command = Command::new("openssl");
    command.current_dir(dir).args(args);
    let output = run_bounded(&mut command, None, Duration::from_secs(60))?;
    ensure(output.status.is_some_and(|s| s.success()), || {
        format!(
            "openssl {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// A CA and a server certificate for `localhost` / `127.0.0.1` signed by it (ECDSA P-256).
fn make_certificates(dir: &Path, ca_name: &str) -> HarnessResult<()> {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let ca_key = format!("{ca_name}.key");
    let ca_crt = format!("{ca_name}.crt");
    let mut args = vec!["req", "-x509"];
    args.extend(ec);
    args.extend([
        "-keyout",
        &ca_key,
        "-out",
        &ca_crt,
        "-days",
        "2",
        "-subj",
        "/CN=custos test CA",
    ]);
    openssl(dir, &args)?;
    let mut args = vec!["req"];
    args.extend(ec);
    args.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    openssl(dir, &args)?;
    write(
        &dir.join("san.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )?;
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            &ca_crt,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ],
    )
}

/// psql with TLS settings from the environment; returns (success, stdout + stderr).
fn psql_tls(
    endpoint: &Endpoint,
    settings: &[(&str, &str)],
    sql: &str,
) -> HarnessResult<(bool, String)> {
    let mut command = endpoint.psql_command();
    for (name, value) in settings {
        command.env(name, value);
    }
    command.args(["-c", sql]);
    let output = run_bounded(&mut command, None, Duration::from_secs(60))?;
    Ok((
        output.status.is_some_and(|s| s.success()),
        format!("{}{}", output.stdout_lossy(), output.stderr_lossy()),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_tls_with_psql_verify_full_and_channel_binding() -> HarnessResult<()> {
    let dir = tempfile::tempdir()?;
    tokio::task::block_in_place(|| {
        make_certificates(dir.path(), "ca")?;
        // A second CA that did not sign the server's certificate.
        let other = dir.path().join("other");
        std::fs::create_dir(&other)?;
        make_certificates(&other, "other-ca")
    })?;
    write(
        &dir.path().join("pg_hba.conf"),
        "host    all custos   127.0.0.1/32 scram-sha-256\n\
         hostssl all tls_only 127.0.0.1/32 scram-sha-256\n",
    )?;
    let config = dir.path().join("custos.toml");
    write(
        &config,
        "tls_cert_file = \"server.crt\"\ntls_key_file = \"server.key\"\nhba_file = \"pg_hba.conf\"\n",
    )?;
    let server = CustosServer::start_with(config_options(&config)).await?;
    let admin = server.endpoint().connect().await?;
    admin
        .batch_execute("CREATE USER tls_only PASSWORD 'tls-pw'")
        .await?;
    let ca = dir.path().join("ca.crt").display().to_string();
    let other_ca = dir.path().join("other/other-ca.crt").display().to_string();
    let endpoint = server.endpoint().clone();
    let tls_user = as_user(&server, "tls_only", "tls-pw");
    tokio::task::block_in_place(|| -> HarnessResult<()> {
        let verify_full = [
            ("PGSSLMODE", "verify-full"),
            ("PGSSLROOTCERT", ca.as_str()),
            ("PGCHANNELBINDING", "require"),
        ];
        let (ok, output) = psql_tls(&endpoint, &verify_full, "\\conninfo")?;
        ensure(ok && output.contains("SSL connection"), || {
            format!("psql verify-full with channel binding: {output}")
        })?;
        let (ok, output) = psql_tls(&tls_user, &verify_full, "SELECT current_user")?;
        ensure(ok && output.contains("tls_only"), || {
            format!("hostssl user over TLS: {output}")
        })?;
        let (ok, output) = psql_tls(
            &tls_user,
            &[("PGSSLMODE", "disable")],
            "SELECT current_user",
        )?;
        ensure(!ok && output.contains("no pg_hba.conf entry"), || {
            format!("hostssl user without TLS: {output}")
        })?;
        let (ok, output) = psql_tls(
            &endpoint,
            &[
                ("PGSSLMODE", "verify-full"),
                ("PGSSLROOTCERT", other_ca.as_str()),
            ],
            "SELECT 1",
        )?;
        ensure(!ok && output.contains("certificate verify failed"), || {
            format!("a certificate from another CA: {output}")
        })?;
        let (ok, output) = psql_tls(
            &endpoint,
            &[("PGSSLMODE", "disable"), ("PGCHANNELBINDING", "require")],
            "SELECT 1",
        )?;
        ensure(!ok && output.contains("channel binding"), || {
            format!("channel binding required without TLS: {output}")
        })?;
        Ok(())
    })?;

    // A server without TLS answers the SSLRequest with N: sslmode=require gives up.
    let plain = CustosServer::start().await?;
    let endpoint = plain.endpoint().clone();
    tokio::task::block_in_place(|| {
        let (ok, output) = psql_tls(&endpoint, &[("PGSSLMODE", "require")], "SELECT 1")?;
        ensure(!ok && output.contains("does not support SSL"), || {
            format!("sslmode=require against a server without TLS: {output}")
        })?;
        let (ok, output) = psql_tls(&endpoint, &[("PGSSLMODE", "prefer")], "SELECT 1")?;
        ensure(ok, || {
            format!("sslmode=prefer falls back to clear text: {output}")
        })
    })
}

/// Runs a SCRAM exchange as `user` with a wrong proof; returns the mechanisms offered, the
/// server-first message and the final error's SQLSTATE and message.
async fn probe_challenge(
    endpoint: &Endpoint,
    user: &str,
) -> HarnessResult<(String, String, String)> {
    let timeout = Duration::from_secs(10);
    let mut connection = RawConnection::connect(endpoint).await?;
    connection
        .send(&messages::startup(&[
            ("user", user),
            ("database", "custos"),
        ]))
        .await?;
    let mechanisms = match connection.read_message(timeout).await? {
        Some(BackendMessage::Authentication { code: 10, data }) => String::from_utf8_lossy(&data)
            .replace('\0', " ")
            .trim()
            .to_string(),
        other => {
            return Err(HarnessError::new(format!(
                "expected AuthenticationSASL, got {other:?}"
            )))
        }
    };
    let client_first = "n,,n=,r=fixedclientnonce0123456789";
    connection
        .send(&messages::sasl_initial_response(
            "SCRAM-SHA-256",
            client_first.as_bytes(),
        ))
        .await?;
    let server_first = match connection.read_message(timeout).await? {
        Some(BackendMessage::Authentication { code: 11, data }) => {
            String::from_utf8_lossy(&data).into_owned()
        }
        other => {
            return Err(HarnessError::new(format!(
                "expected SASLContinue, got {other:?}"
            )))
        }
    };
    let nonce = server_first
        .split(',')
        .find_map(|a| a.strip_prefix("r="))
        .unwrap_or_default()
        .to_string();
    let client_final = format!("c=biws,r={nonce},p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    connection
        .send(&messages::password_message(client_final.as_bytes()))
        .await?;
    let error = match connection.read_message(timeout).await? {
        Some(BackendMessage::ErrorResponse(fields)) => format!(
            "{}: {}",
            fields.get(&b'C').cloned().unwrap_or_default(),
            fields.get(&b'M').cloned().unwrap_or_default()
        ),
        other => {
            return Err(HarnessError::new(format!(
                "expected an error, got {other:?}"
            )))
        }
    };
    // Only the nonce and salt may differ between users: drop the nonce.
    let shape: Vec<String> = server_first
        .split(',')
        .filter(|a| !a.starts_with("r="))
        .map(str::to_string)
        .collect();
    Ok((mechanisms, shape.join(","), error))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_unknown_users_get_the_same_challenge() -> HarnessResult<()> {
    let server = CustosServer::start().await?;
    let admin = server.endpoint().connect().await?;
    admin
        .batch_execute("CREATE USER known PASSWORD 'known-pw'")
        .await?;
    let endpoint = server.endpoint().clone();
    let (known_mechanisms, known_first, known_error) = probe_challenge(&endpoint, "known").await?;
    let (ghost_mechanisms, ghost_first, ghost_error) = probe_challenge(&endpoint, "ghost").await?;
    let (_, ghost_again, _) = probe_challenge(&endpoint, "ghost").await?;
    let (_, other_ghost, _) = probe_challenge(&endpoint, "phantom").await?;
    ensure(
        known_mechanisms == "SCRAM-SHA-256" && ghost_mechanisms == known_mechanisms,
        || format!("mechanisms: {known_mechanisms:?} / {ghost_mechanisms:?}"),
    )?;
    let salt_length = |first: &str| {
        first
            .split(',')
            .find_map(|a| a.strip_prefix("s="))
            .map_or(0, str::len)
    };
    ensure(
        salt_length(&known_first) == salt_length(&ghost_first)
            && known_first.ends_with(",i=4096")
            && ghost_first.ends_with(",i=4096"),
        || format!("server-first shapes: {known_first} / {ghost_first}"),
    )?;
    ensure(
        ghost_first == ghost_again && ghost_first != other_ghost,
        || format!("mock salts: {ghost_first} / {ghost_again} / {other_ghost}"),
    )?;
    ensure(
        known_error == "28P01: password authentication failed for user \"known\""
            && ghost_error == "28P01: password authentication failed for user \"ghost\"",
        || format!("errors: {known_error} / {ghost_error}"),
    )
}
