//! Start-up, authentication, cancel, limits, robustness and shutdown, over real sockets
//! against an in-process server.

use std::time::Duration;

use super::test_client::*;

#[test]
fn login_reports_parameters_key_data_and_ready() {
    let (_dir, server) = test_server(10);
    let mut client = TestClient::connect(server.local_address());
    let messages = client.login("custos", "custos", PASSWORD).unwrap();
    let parameters: Vec<String> = messages
        .iter()
        .filter(|(t, _)| *t == b'S')
        .map(|(_, body)| String::from_utf8_lossy(body.split(|&b| b == 0).next().unwrap()).into())
        .collect();
    assert!(
        parameters.contains(&"server_version".to_string()),
        "{parameters:?}"
    );
    assert!(parameters.contains(&"client_encoding".to_string()));
    let key_data = messages.iter().find(|(t, _)| *t == b'K').unwrap();
    assert_eq!(key_data.1.len(), 8);
    assert_eq!(messages.last().unwrap(), &(b'Z', vec![b'I']));
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn ssl_and_gss_requests_are_refused_then_startup_continues() {
    let (_dir, server) = test_server(10);
    let mut client = TestClient::connect(server.local_address());
    client.send_packet(80_877_103, b"");
    assert_eq!(client.read_byte(), Some(b'N'));
    client.send_packet(80_877_104, b"");
    assert_eq!(client.read_byte(), Some(b'N'));
    client.login("custos", "custos", PASSWORD).unwrap();
    let messages = client.query("SELECT 1");
    assert_eq!(tags(&messages), "TDCZ");
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn wrong_password_unknown_user_and_unknown_database() {
    let (_dir, server) = test_server(10);
    let address = server.local_address();
    let error = TestClient::connect(address)
        .login("custos", "custos", "nope")
        .unwrap_err();
    assert_eq!(error[&b'C'], "28P01");
    assert_eq!(error[&b'S'], "FATAL");
    assert_eq!(
        error[&b'M'],
        "password authentication failed for user \"custos\""
    );
    let error = TestClient::connect(address)
        .login("mallory", "custos", PASSWORD)
        .unwrap_err();
    assert_eq!(
        error[&b'M'],
        "password authentication failed for user \"mallory\""
    );
    let error = TestClient::connect(address)
        .login("custos", "elsewhere", PASSWORD)
        .unwrap_err();
    assert_eq!(error[&b'C'], "3D000");
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn unsupported_protocol_and_missing_user_are_fatal() {
    let (_dir, server) = test_server(10);
    let mut client = TestClient::connect(server.local_address());
    client.send_packet(2 << 16, b"user\0custos\0\0");
    let (tag, body) = client.read().unwrap();
    assert_eq!(tag, b'E');
    assert_eq!(error_fields(&body)[&b'C'], "0A000");
    assert!(client.read().is_none());

    let mut client = TestClient::connect(server.local_address());
    client.send_packet(196_608, b"database\0custos\0\0");
    let (_, body) = client.read().unwrap();
    assert_eq!(error_fields(&body)[&b'C'], "28000");
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn newer_minor_version_is_negotiated_down() {
    let (_dir, server) = test_server(10);
    let mut client = TestClient::connect(server.local_address());
    client.send_packet(196_610, b"user\0custos\0_pq_.future\0x\0\0");
    let (tag, body) = client.read().unwrap();
    assert_eq!(tag, b'v');
    assert_eq!(&body[..8], &[0, 0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(&body[8..], b"_pq_.future\0");
    let (tag, _) = client.read().unwrap();
    assert_eq!(tag, b'R');
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn a_client_leaving_during_startup_does_not_disturb_the_server() {
    let (_dir, server) = test_server(10);
    // pg_isready: a startup packet, then it hangs up at the authentication request.
    let mut client = TestClient::connect(server.local_address());
    client.send_startup("custos", "custos");
    assert_eq!(client.read().unwrap().0, b'R');
    drop(client);
    // Half a packet, then gone.
    let mut client = TestClient::connect(server.local_address());
    client.send_raw(&[0, 0, 0]);
    drop(client);
    let mut client = TestClient::login_ok(server.local_address());
    assert_eq!(tags(&client.query("SELECT 1")), "TDCZ");
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn too_many_clients_get_53300_but_cancel_still_works() {
    let (_dir, server) = test_server(1);
    let _first = TestClient::login_ok(server.local_address());
    let mut second = TestClient::connect(server.local_address());
    second.send_startup("custos", "custos");
    let (tag, body) = second.read().unwrap();
    assert_eq!(tag, b'E');
    let fields = error_fields(&body);
    assert_eq!(fields[&b'C'], "53300");
    assert_eq!(fields[&b'M'], "sorry, too many clients already");
    // A cancel request is served even at the limit (and closes without an answer).
    let mut cancel = TestClient::connect(server.local_address());
    cancel.send_packet(80_877_102, &[0, 0, 0, 1, 0, 0, 0, 2]);
    assert!(cancel.read_byte().is_none());
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn framing_violations_are_fatal_and_the_server_lives_on() {
    let (_dir, server) = test_server(10);
    let address = server.local_address();
    let cases: [(&[u8], &str, &str); 3] = [
        (&[b'Q', 0, 0, 0, 2], "08P01", "invalid message length"),
        (
            &[b'!', 0, 0, 0, 4],
            "08P01",
            "invalid frontend message type 33",
        ),
        (&[b'Q', 0x7f, 0xff, 0xff, 0xff], "54000", ""),
    ];
    for (bytes, code, message) in cases {
        let mut client = TestClient::login_ok(address);
        client.send_raw(bytes);
        let (tag, body) = client.read().unwrap();
        assert_eq!(tag, b'E');
        let fields = error_fields(&body);
        assert_eq!(fields[&b'S'], "FATAL");
        assert_eq!(fields[&b'C'], code);
        if !message.is_empty() {
            assert_eq!(fields[&b'M'], message);
        }
        assert!(client.read().is_none(), "connection closed after {code}");
    }
    let mut client = TestClient::login_ok(address);
    assert_eq!(tags(&client.query("SELECT 1")), "TDCZ");
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn invalid_utf8_in_a_query_is_an_error_not_a_disconnect() {
    let (_dir, server) = test_server(10);
    let mut client = TestClient::login_ok(server.local_address());
    client.send(b'Q', b"SELECT '\xc3\x28'\0");
    let messages = client.until_ready();
    assert_eq!(tags(&messages), "EZ");
    let fields = error_fields(&messages[0].1);
    assert_eq!(fields[&b'C'], "22021");
    assert_eq!(
        fields[&b'M'],
        "invalid byte sequence for encoding \"UTF8\": 0xc3 0x28"
    );
    assert_eq!(tags(&client.query("SELECT 1")), "TDCZ");
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn shutdown_sends_idle_sessions_57p01_and_refuses_new_connections() {
    let (_dir, server) = test_server(10);
    let address = server.local_address();
    let mut idle = TestClient::login_ok(address);
    let mut starting = TestClient::connect(address);
    starting.send_startup("custos", "custos");
    assert_eq!(starting.read().unwrap().0, b'R');
    assert!(server.shutdown(Duration::from_secs(5)));
    let (tag, body) = idle.read().unwrap();
    assert_eq!(tag, b'E');
    let fields = error_fields(&body);
    assert_eq!(fields[&b'S'], "FATAL");
    assert_eq!(fields[&b'C'], "57P01");
    assert_eq!(
        fields[&b'M'],
        "terminating connection due to administrator command"
    );
    assert!(idle.read().is_none());
    assert!(starting.read().is_none());
    assert!(std::net::TcpStream::connect(address).is_err());
}

#[test]
fn terminate_and_vanishing_clients_free_their_slots() {
    let (_dir, server) = test_server(2);
    for _ in 0..5 {
        let mut client = TestClient::login_ok(server.local_address());
        client.send(b'X', b"");
        assert!(client.read().is_none());
        let client = TestClient::login_ok(server.local_address());
        drop(client);
    }
    // Slots are released asynchronously by the connection threads.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while server.active_connections() > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(server.active_connections(), 0);
    server.shutdown(Duration::from_secs(5));
}
