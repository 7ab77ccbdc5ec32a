//! The wire protocol seen by a hand-written client (`custos_tests::wire`): what the server
//! reports at startup, transaction status in ReadyForQuery, the extended protocol message by
//! message (PortalSuspended at a row limit), Terminate, and `pg_isready`.
//!
//! Every check runs twice (see `custos_tests::server_tests!`): `reference::<check>` on
//! PostgreSQL 15, `custos::<check>` on custos.

use std::process::Command;
use std::time::Duration;

use custos_tests::error::ensure;
use custos_tests::process::run_bounded;
use custos_tests::wire::messages;
use custos_tests::wire::raw_connection::ResponseEnd;
use custos_tests::wire::{BackendMessage, RawConnection};
use custos_tests::{server_tests, Endpoint, HarnessError, HarnessResult};

server_tests!(
    startup_reports_parameters_and_backend_key,
    ready_for_query_reports_transaction_status,
    extended_protocol_suspends_portal_at_row_limit,
    extended_protocol_error_skips_to_sync,
    empty_query_gives_empty_query_response,
    terminate_closes_the_connection,
    pg_isready_reports_accepting_connections,
    ssl_and_gssenc_requests_are_declined_then_startup_works,
    psql_connects_with_password_and_runs_stdin,
);

const READ_TIMEOUT: Duration = Duration::from_secs(10);

async fn startup_reports_parameters_and_backend_key(endpoint: &Endpoint) -> HarnessResult<()> {
    let (_connection, after_auth) =
        RawConnection::login_collecting(endpoint, &[("application_name", "custos-tests")]).await?;
    let mut parameters = std::collections::BTreeMap::new();
    let mut backend_key = false;
    for message in &after_auth.messages {
        match message {
            BackendMessage::ParameterStatus { name, value } => {
                parameters.insert(name.clone(), value.clone());
            }
            BackendMessage::Other { tag: b'K', payload } => backend_key = payload.len() == 8,
            _ => {}
        }
    }
    ensure(after_auth.end == ResponseEnd::Ready(b'I'), || {
        format!("startup ended with {:?}", after_auth.end)
    })?;
    ensure(backend_key, || {
        "no BackendKeyData (needed for cancel requests)".into()
    })?;
    for (name, expected) in [
        ("server_encoding", "UTF8"),
        ("client_encoding", "UTF8"),
        ("DateStyle", "ISO, MDY"),
        ("integer_datetimes", "on"),
        ("standard_conforming_strings", "on"),
        ("TimeZone", "UTC"),
        ("application_name", "custos-tests"),
    ] {
        let actual = parameters.get(name).map(String::as_str);
        ensure(actual == Some(expected), || {
            format!("ParameterStatus {name}: expected {expected:?}, got {actual:?}")
        })?;
    }
    let version = parameters
        .get("server_version")
        .cloned()
        .unwrap_or_default();
    ensure(
        version
            .split('.')
            .next()
            .and_then(|major| major.parse::<u32>().ok())
            .is_some_and(|major| major >= 15),
        || format!("server_version {version:?} is not PostgreSQL 15 or later"),
    )
}

async fn ready_for_query_reports_transaction_status(endpoint: &Endpoint) -> HarnessResult<()> {
    let mut connection = RawConnection::login(endpoint).await?;
    for (sql, expected_status, expected_error) in [
        ("SELECT 1", b'I', None),
        ("BEGIN", b'T', None),
        ("SELECT 1", b'T', None),
        ("SELECT 1 / 0", b'E', Some("22012")),
        ("SELECT 1", b'E', Some("25P02")),
        ("ROLLBACK", b'I', None),
        ("BEGIN; SELECT 1", b'T', None),
        ("COMMIT", b'I', None),
    ] {
        let response = connection
            .simple_query(sql.as_bytes(), READ_TIMEOUT)
            .await?;
        ensure(response.end == ResponseEnd::Ready(expected_status), || {
            format!(
                "{sql}: expected status {:?}, got {:?}",
                char::from(expected_status),
                response.end
            )
        })?;
        ensure(response.sqlstate() == expected_error, || {
            format!(
                "{sql}: expected error {expected_error:?}, got {:?}",
                response.sqlstate()
            )
        })?;
    }
    Ok(())
}

async fn extended_protocol_suspends_portal_at_row_limit(endpoint: &Endpoint) -> HarnessResult<()> {
    let mut connection = RawConnection::login(endpoint).await?;
    let mut batch = Vec::new();
    batch.extend(messages::parse(
        "SELECT g FROM generate_series(1, $1::int4) AS g",
        &[23],
    ));
    batch.extend(messages::bind_text(&[Some("5")]));
    batch.extend(messages::describe_portal());
    batch.extend(messages::execute(2));
    batch.extend(messages::execute(2));
    batch.extend(messages::execute(2));
    batch.extend(messages::sync());
    connection.send(&batch).await?;
    let response = connection.read_until_ready(READ_TIMEOUT).await?;
    let tags: Vec<char> = response.messages.iter().map(message_tag).collect();
    // ParseComplete, BindComplete, RowDescription, 2 rows, PortalSuspended, 2 rows,
    // PortalSuspended, 1 row, CommandComplete.
    let expected: Vec<char> = "12TDDsDDsDC".chars().collect();
    ensure(tags == expected, || {
        format!("messages {tags:?}, expected {expected:?}")
    })?;
    ensure(
        response.first_column() == ["1", "2", "3", "4", "5"].map(|v| Some(v.to_string())),
        || format!("values {:?}", response.first_column()),
    )?;
    match response.messages.last() {
        Some(BackendMessage::CommandComplete(tag)) if tag == "SELECT 1" => Ok(()),
        other => Err(HarnessError::new(format!(
            "last message {other:?}, expected SELECT 1"
        ))),
    }
}

async fn extended_protocol_error_skips_to_sync(endpoint: &Endpoint) -> HarnessResult<()> {
    let mut connection = RawConnection::login(endpoint).await?;
    let mut batch = Vec::new();
    batch.extend(messages::parse("SELECT 1 / $1::int4", &[]));
    batch.extend(messages::bind_text(&[Some("0")]));
    batch.extend(messages::execute(0));
    // Ignored after the error, up to Sync.
    batch.extend(messages::parse("SELECT 2", &[]));
    batch.extend(messages::bind_text(&[]));
    batch.extend(messages::execute(0));
    batch.extend(messages::sync());
    connection.send(&batch).await?;
    let response = connection.read_until_ready(READ_TIMEOUT).await?;
    let tags: Vec<char> = response.messages.iter().map(message_tag).collect();
    // The error may come at Bind (PostgreSQL folds the constant) or at Execute; everything
    // after it up to Sync is skipped, so the second Parse gets no ParseComplete.
    ensure(
        tags.first() == Some(&'1')
            && tags.last() == Some(&'E')
            && tags.iter().filter(|&&t| t == '1').count() == 1,
        || format!("messages {tags:?}"),
    )?;
    ensure(response.sqlstate() == Some("22012"), || {
        format!("{:?}", response.sqlstate())
    })?;
    ensure(response.end == ResponseEnd::Ready(b'I'), || {
        format!("{:?}", response.end)
    })?;
    let response = connection.simple_query(b"SELECT 2", READ_TIMEOUT).await?;
    ensure(
        response.first_column() == vec![Some("2".to_string())],
        || format!("after the error: {response:?}"),
    )
}

async fn empty_query_gives_empty_query_response(endpoint: &Endpoint) -> HarnessResult<()> {
    let mut connection = RawConnection::login(endpoint).await?;
    let response = connection.simple_query(b"", READ_TIMEOUT).await?;
    let tags: Vec<char> = response.messages.iter().map(message_tag).collect();
    ensure(tags == vec!['I'], || format!("empty query: {tags:?}"))?;
    let response = connection.simple_query(b" ; ", READ_TIMEOUT).await?;
    let tags: Vec<char> = response.messages.iter().map(message_tag).collect();
    ensure(tags == vec!['I'], || {
        format!("query of a semicolon: {tags:?}")
    })
}

async fn terminate_closes_the_connection(endpoint: &Endpoint) -> HarnessResult<()> {
    let mut connection = RawConnection::login(endpoint).await?;
    connection.send(&messages::terminate()).await?;
    match connection.read_message(READ_TIMEOUT).await? {
        None => Ok(()),
        Some(message) => Err(HarnessError::new(format!(
            "server answered Terminate with {message:?}"
        ))),
    }
}

async fn pg_isready_reports_accepting_connections(endpoint: &Endpoint) -> HarnessResult<()> {
    let output = run_bounded(
        Command::new("pg_isready")
            .args(["-h", &endpoint.host, "-p", &endpoint.port.to_string()])
            .args(["-U", &endpoint.user, "-d", &endpoint.dbname, "-t", "10"]),
        None,
        Duration::from_secs(20),
    )?;
    ensure(output.success(), || {
        format!(
            "pg_isready: {} {}{}",
            output.describe_status(),
            output.stdout_lossy(),
            output.stderr_lossy()
        )
    })?;
    ensure(
        output.stdout_lossy().contains("accepting connections"),
        || format!("pg_isready said {:?}", output.stdout_lossy()),
    )
}

fn message_tag(message: &BackendMessage) -> char {
    let tag = match message {
        BackendMessage::Authentication { .. } => b'R',
        BackendMessage::ErrorResponse(_) => b'E',
        BackendMessage::NoticeResponse(_) => b'N',
        BackendMessage::ReadyForQuery(_) => b'Z',
        BackendMessage::RowDescription(_) => b'T',
        BackendMessage::DataRow(_) => b'D',
        BackendMessage::CommandComplete(_) => b'C',
        BackendMessage::ParameterStatus { .. } => b'S',
        BackendMessage::Other { tag, .. } => *tag,
    };
    char::from(tag)
}

/// psql and pgjdbc open with an SSLRequest (libpq also with a GSSENCRequest when it has
/// Kerberos credentials); a server without TLS answers 'N' and the client goes on in clear.
async fn ssl_and_gssenc_requests_are_declined_then_startup_works(
    endpoint: &Endpoint,
) -> HarnessResult<()> {
    for code in [messages::SSL_REQUEST_CODE, messages::GSSENC_REQUEST_CODE] {
        let mut connection = RawConnection::connect(endpoint).await?;
        connection.send(&messages::request_packet(code)).await?;
        let answer = connection.read_byte(READ_TIMEOUT).await?;
        if code == messages::GSSENC_REQUEST_CODE && answer == Some(b'G') {
            // A server built with GSSAPI (Debian's PostgreSQL) accepts; going on would need
            // Kerberos. A server without GSSAPI (custos) must answer 'N'.
            continue;
        }
        ensure(answer == Some(b'N'), || {
            format!("request {code}: expected 'N', got {answer:?}")
        })?;
        let (mut connection, _) = connection.start_session(endpoint, &[]).await?;
        let response = connection.simple_query(b"SELECT 42", READ_TIMEOUT).await?;
        ensure(
            response.first_column() == vec![Some("42".to_string())],
            || format!("after request {code}: {response:?}"),
        )?;
    }
    Ok(())
}

async fn psql_connects_with_password_and_runs_stdin(endpoint: &Endpoint) -> HarnessResult<()> {
    let endpoint = endpoint.clone();
    let output = tokio::task::spawn_blocking(move || {
        endpoint.psql(
            &["-A", "-t", "-v", "ON_ERROR_STOP=1"],
            Some("SELECT 40 + 2;\nSELECT current_user, current_database();\n"),
        )
    })
    .await
    .map_err(|e| HarnessError::new(format!("psql task: {e}")))??;
    ensure(output.success(), || format!("psql failed: {output:?}"))?;
    ensure(output.stdout == "42\ncustos|custos\n", || {
        format!(
            "psql printed {:?} (stderr {:?})",
            output.stdout, output.stderr
        )
    })
}
