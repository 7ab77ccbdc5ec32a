//! Malformed and hostile input on raw sockets (issue 3): the server must answer with an error
//! or close the connection, never crash or hang, and a fresh connection must run `SELECT 1`
//! afterwards. Where PostgreSQL's behaviour is the protocol's contract (SQLSTATEs of errors a
//! session survives), the check requires it; where PostgreSQL just closes the connection, the
//! check accepts an ErrorResponse before the close.
//!
//! Every check runs twice (see `custos_tests::server_tests!`): `reference::<check>` on
//! PostgreSQL 15, `custos::<check>` on custos (whose process must still be running after).

use std::time::Duration;

use custos_tests::error::ensure;
use custos_tests::wire::messages::{self, frame};
use custos_tests::wire::raw_connection::ResponseEnd;
use custos_tests::wire::{BackendMessage, RawConnection};
use custos_tests::{server_tests, Endpoint, HarnessError, HarnessResult};

server_tests!(
    malformed_startup_packets_are_rejected,
    message_length_of_2_gib_closes_the_connection,
    message_length_below_4_closes_the_connection,
    unknown_message_type_is_a_protocol_violation,
    invalid_utf8_in_query_is_22021,
    unknown_type_oid_in_parse_is_an_error,
    ten_megabyte_query_runs_or_fails_cleanly,
    thousand_nested_parentheses_run_or_hit_stack_limit,
    hundred_thousand_nested_parentheses_fail_cleanly,
    half_message_then_vanish,
    disconnect_during_a_running_query,
    abandoned_startups_do_not_block_others,
);

const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// After each abuse: the server still accepts a new connection and runs `SELECT 1`.
async fn server_still_answers(endpoint: &Endpoint) -> HarnessResult<()> {
    endpoint
        .select_one(Duration::from_secs(10))
        .await
        .map_err(|e| e.context("after the bad input, a fresh connection could not run SELECT 1"))
}

/// The server closes the connection, possibly after ErrorResponses, without ever asking to
/// authenticate or reporting ReadyForQuery.
async fn expect_rejection(connection: &mut RawConnection, what: &str) -> HarnessResult<()> {
    let messages = connection
        .read_until_closed(READ_TIMEOUT)
        .await
        .map_err(|e| e.context(what))?;
    let unexpected: Vec<&BackendMessage> = messages.iter().filter(|m| !m.is_error()).collect();
    ensure(unexpected.is_empty(), || {
        format!("{what}: expected only ErrorResponse before the close, got {messages:?}")
    })
}

async fn malformed_startup_packets_are_rejected(endpoint: &Endpoint) -> HarnessResult<()> {
    let mut missing_terminator = messages::startup(&[("user", &endpoint.user)]);
    missing_terminator.pop();
    let length = i32::try_from(missing_terminator.len()).unwrap_or(i32::MAX);
    missing_terminator[..4].copy_from_slice(&length.to_be_bytes());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("startup length 3", 3i32.to_be_bytes().to_vec()),
        ("startup length 2 GiB", {
            let mut packet = i32::MAX.to_be_bytes().to_vec();
            packet.extend_from_slice(&messages::PROTOCOL_VERSION_3.to_be_bytes());
            packet
        }),
        (
            "unsupported protocol 9.0",
            messages::request_packet(0x0009_0000),
        ),
        (
            "startup packet without its final terminator",
            missing_terminator,
        ),
        (
            "startup packet without a user",
            messages::startup(&[("database", "custos")]),
        ),
        (
            "an HTTP request",
            b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".to_vec(),
        ),
    ];
    for (what, bytes) in cases {
        let mut connection = RawConnection::connect(endpoint).await?;
        connection.send(&bytes).await?;
        expect_rejection(&mut connection, what).await?;
        server_still_answers(endpoint).await?;
    }
    Ok(())
}

async fn message_length_of_2_gib_closes_the_connection(endpoint: &Endpoint) -> HarnessResult<()> {
    let mut connection = RawConnection::login(endpoint).await?;
    let mut bytes = vec![b'Q'];
    bytes.extend_from_slice(&i32::MAX.to_be_bytes());
    bytes.extend_from_slice(b"SELECT 1");
    connection.send(&bytes).await?;
    expect_rejection(&mut connection, "a Query message claiming 2 GiB").await?;
    server_still_answers(endpoint).await
}

async fn message_length_below_4_closes_the_connection(endpoint: &Endpoint) -> HarnessResult<()> {
    let mut connection = RawConnection::login(endpoint).await?;
    let mut bytes = vec![b'Q'];
    bytes.extend_from_slice(&2i32.to_be_bytes());
    bytes.extend_from_slice(b"SELECT 1\0");
    connection.send(&bytes).await?;
    expect_rejection(&mut connection, "a Query message with length 2").await?;
    server_still_answers(endpoint).await
}

async fn unknown_message_type_is_a_protocol_violation(endpoint: &Endpoint) -> HarnessResult<()> {
    let mut connection = RawConnection::login(endpoint).await?;
    connection.send(&frame(b'z', b"")).await?;
    let messages = connection.read_until_closed(READ_TIMEOUT).await?;
    let codes: Vec<&str> = messages
        .iter()
        .filter_map(BackendMessage::sqlstate)
        .collect();
    ensure(codes == vec!["08P01"], || {
        format!("unknown message type: expected one ErrorResponse 08P01 and the close, got {messages:?}")
    })?;
    server_still_answers(endpoint).await
}

async fn invalid_utf8_in_query_is_22021(endpoint: &Endpoint) -> HarnessResult<()> {
    let mut connection = RawConnection::login(endpoint).await?;
    let response = connection
        .simple_query(b"SELECT '\xc3\x28' AS broken", READ_TIMEOUT)
        .await?;
    ensure(response.sqlstate() == Some("22021"), || {
        format!("invalid UTF-8: expected 22021, got {response:?}")
    })?;
    ensure(response.end == ResponseEnd::Ready(b'I'), || {
        format!("{:?}", response.end)
    })?;
    let response = connection.simple_query(b"SELECT 1", READ_TIMEOUT).await?;
    ensure(
        response.first_column() == vec![Some("1".to_string())],
        || format!("the session did not survive: {response:?}"),
    )?;
    server_still_answers(endpoint).await
}

async fn unknown_type_oid_in_parse_is_an_error(endpoint: &Endpoint) -> HarnessResult<()> {
    let mut connection = RawConnection::login(endpoint).await?;
    let mut batch = messages::parse("SELECT $1", &[999_999]);
    batch.extend(messages::sync());
    connection.send(&batch).await?;
    let response = connection.read_until_ready(READ_TIMEOUT).await?;
    // PostgreSQL 15 answers XX000 "cache lookup failed for type 999999" (an internal error);
    // 42704 (undefined object) would be the better code, so any ErrorResponse is accepted.
    ensure(response.sqlstate().is_some(), || {
        format!("unknown parameter type OID: expected an ErrorResponse, got {response:?}")
    })?;
    let response = connection.simple_query(b"SELECT 1", READ_TIMEOUT).await?;
    ensure(
        response.first_column() == vec![Some("1".to_string())],
        || format!("the session did not survive: {response:?}"),
    )?;
    server_still_answers(endpoint).await
}

async fn ten_megabyte_query_runs_or_fails_cleanly(endpoint: &Endpoint) -> HarnessResult<()> {
    const SIZE: usize = 10 << 20;
    let mut connection = RawConnection::login(endpoint).await?;
    let mut sql = b"SELECT length('".to_vec();
    sql.resize(sql.len() + SIZE, b'x');
    sql.extend_from_slice(b"')");
    connection.send(&messages::query(&sql)).await?;
    let response = connection.read_until_ready(Duration::from_secs(60)).await?;
    let ran = response.first_column() == vec![Some(SIZE.to_string())];
    let failed = response.sqlstate().is_some();
    ensure(ran || failed, || {
        format!(
            "a 10 MiB query neither ran nor failed: {:?} {:?}",
            response.end,
            response.sqlstate()
        )
    })?;
    server_still_answers(endpoint).await
}

async fn thousand_nested_parentheses_run_or_hit_stack_limit(
    endpoint: &Endpoint,
) -> HarnessResult<()> {
    let mut connection = RawConnection::login(endpoint).await?;
    let sql = format!("SELECT {}1{}", "(".repeat(1_000), ")".repeat(1_000));
    let response = connection
        .simple_query(sql.as_bytes(), Duration::from_secs(30))
        .await?;
    let ran = response.first_column() == vec![Some("1".to_string())];
    let stack_limit = response.sqlstate() == Some("54001");
    ensure(ran || stack_limit, || {
        format!("1,000 nested parentheses: expected 1 or error 54001, got {response:?}")
    })?;
    server_still_answers(endpoint).await
}

async fn hundred_thousand_nested_parentheses_fail_cleanly(
    endpoint: &Endpoint,
) -> HarnessResult<()> {
    let mut connection = RawConnection::login(endpoint).await?;
    let sql = format!("SELECT {}1{}", "(".repeat(100_000), ")".repeat(100_000));
    connection.send(&messages::query(sql.as_bytes())).await?;
    // Any ErrorResponse (PostgreSQL: 54001 or a parser error), a result, or even closing this
    // one connection is acceptable; the server itself must survive.
    match connection.read_until_ready(Duration::from_secs(30)).await {
        Ok(_) => {}
        Err(e) => return Err(e.context("100,000 nested parentheses: no answer in 30 s")),
    }
    server_still_answers(endpoint).await
}

async fn half_message_then_vanish(endpoint: &Endpoint) -> HarnessResult<()> {
    let mut connection = RawConnection::login(endpoint).await?;
    let mut bytes = vec![b'Q'];
    bytes.extend_from_slice(&100i32.to_be_bytes());
    bytes.extend_from_slice(b"SELECT 1 ");
    connection.send(&bytes).await?;
    connection.abandon();
    // Also half a startup packet.
    let mut connection = RawConnection::connect(endpoint).await?;
    connection.send(&[0, 0, 0]).await?;
    connection.abandon();
    server_still_answers(endpoint).await
}

async fn disconnect_during_a_running_query(endpoint: &Endpoint) -> HarnessResult<()> {
    let mut connection = RawConnection::login(endpoint).await?;
    connection
        .send(&messages::query(
            b"SELECT count(*) FROM generate_series(1, 20000000) AS a, generate_series(1, 3) AS b",
        ))
        .await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    connection.abandon();
    server_still_answers(endpoint).await?;
    // A client that reads nothing of a large result and disconnects.
    let mut connection = RawConnection::login(endpoint).await?;
    connection
        .send(&messages::query(
            b"SELECT g, repeat('y', 1000) FROM generate_series(1, 200000) AS g",
        ))
        .await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    connection.abandon();
    server_still_answers(endpoint).await
}

async fn abandoned_startups_do_not_block_others(endpoint: &Endpoint) -> HarnessResult<()> {
    let mut idle = Vec::new();
    for index in 0..20 {
        let mut connection = RawConnection::connect(endpoint).await?;
        if index % 2 == 0 {
            // Two bytes of a length, then silence.
            connection.send(&[0, 0]).await?;
        }
        idle.push(connection);
    }
    // While twenty connections dawdle, others are served.
    server_still_answers(endpoint).await?;
    for connection in idle {
        connection.abandon();
    }
    server_still_answers(endpoint)
        .await
        .map_err(|e: HarnessError| e.context("after abandoning twenty connections"))
}
