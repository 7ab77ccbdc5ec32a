//! A minimal protocol-3.0 client for the connection tests: raw messages in, raw messages out,
//! plus startup with SCRAM and a few message builders. Deliberately naive, so that tests can
//! also send what no real client would.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use sql::engine::{Database, DatabaseOptions};
use tempfile::TempDir;

use crate::auth::scram::client::ScramClient;
use crate::auth::scram::Verifier;
use crate::server::{Server, ServerSettings};

pub const PASSWORD: &str = "pw";

/// A server on a fresh data directory with superuser `custos` / [`PASSWORD`].
pub fn test_server(max_connections: usize) -> (TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let database: Arc<Database> =
        Database::open(&dir.path().join("data"), DatabaseOptions::default()).unwrap();
    database
        .bootstrap_superuser("custos", || Verifier::generate(PASSWORD).encode())
        .unwrap();
    let settings = ServerSettings {
        listen: "127.0.0.1:0".into(),
        max_connections,
        authentication_timeout: Duration::from_secs(10),
        access: Default::default(),
    };
    let server = Server::start(database, &settings).unwrap();
    (dir, server)
}

pub type Message = (u8, Vec<u8>);

pub struct TestClient {
    pub stream: TcpStream,
}

impl TestClient {
    pub fn connect(address: SocketAddr) -> TestClient {
        let stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        TestClient { stream }
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    pub fn send(&mut self, tag: u8, body: &[u8]) {
        self.send_raw(&message(tag, body));
    }

    /// A startup packet (or SSLRequest, CancelRequest...) with this version code and body.
    pub fn send_packet(&mut self, code: u32, body: &[u8]) {
        let mut packet = ((8 + body.len()) as u32).to_be_bytes().to_vec();
        packet.extend_from_slice(&code.to_be_bytes());
        packet.extend_from_slice(body);
        self.send_raw(&packet);
    }

    pub fn send_startup(&mut self, user: &str, database: &str) {
        let body = format!("user\0{user}\0database\0{database}\0application_name\0test\0\0");
        self.send_packet(196_608, body.as_bytes());
    }

    /// The next message, `None` when the server closed the connection.
    pub fn read(&mut self) -> Option<Message> {
        let mut header = [0u8; 5];
        self.stream.read_exact(&mut header).ok()?;
        let length = u32::from_be_bytes(header[1..].try_into().unwrap()) as usize;
        let mut body = vec![0u8; length - 4];
        self.stream.read_exact(&mut body).ok()?;
        Some((header[0], body))
    }

    pub fn read_byte(&mut self) -> Option<u8> {
        let mut byte = [0u8; 1];
        self.stream.read_exact(&mut byte).ok()?;
        Some(byte[0])
    }

    /// Messages up to and including ReadyForQuery (or until the server closes).
    pub fn until_ready(&mut self) -> Vec<Message> {
        let mut messages = Vec::new();
        while let Some(message) = self.read() {
            let done = message.0 == b'Z';
            messages.push(message);
            if done {
                break;
            }
        }
        messages
    }

    /// Startup and SCRAM; returns the messages after AuthenticationOk up to ReadyForQuery, or
    /// the fields of the error that ended the attempt.
    pub fn login(
        &mut self,
        user: &str,
        database: &str,
        password: &str,
    ) -> Result<Vec<Message>, HashMap<u8, String>> {
        self.send_startup(user, database);
        let (tag, body) = self.read().expect("authentication request");
        if tag == b'E' {
            return Err(error_fields(&body));
        }
        assert_eq!((tag, &body[..4]), (b'R', &[0, 0, 0, 10][..]));
        let mut scram = ScramClient::new(password);
        let first = scram.client_first();
        let mut initial = b"SCRAM-SHA-256\0".to_vec();
        initial.extend_from_slice(&(first.len() as i32).to_be_bytes());
        initial.extend_from_slice(first.as_bytes());
        self.send(b'p', &initial);
        let (tag, body) = self.read().expect("SASL continue");
        assert_eq!((tag, &body[..4]), (b'R', &[0, 0, 0, 11][..]));
        let final_message = scram.client_final(std::str::from_utf8(&body[4..]).unwrap());
        self.send(b'p', final_message.as_bytes());
        let (tag, body) = self.read().expect("SASL final");
        if tag == b'E' {
            return Err(error_fields(&body));
        }
        assert_eq!((tag, &body[..4]), (b'R', &[0, 0, 0, 12][..]));
        assert!(scram.verify_server(std::str::from_utf8(&body[4..]).unwrap()));
        let (tag, body) = self.read().expect("AuthenticationOk");
        assert_eq!((tag, body), (b'R', vec![0, 0, 0, 0]));
        let messages = self.until_ready();
        if let Some((_, body)) = messages.iter().find(|(t, _)| *t == b'E') {
            return Err(error_fields(body));
        }
        Ok(messages)
    }

    pub fn login_ok(address: SocketAddr) -> TestClient {
        let mut client = TestClient::connect(address);
        client.login("custos", "custos", PASSWORD).unwrap();
        client
    }

    pub fn query(&mut self, sql: &str) -> Vec<Message> {
        self.send(b'Q', &cstr(sql));
        self.until_ready()
    }
}

pub fn message(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend_from_slice(&((4 + body.len()) as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

pub fn cstr(text: &str) -> Vec<u8> {
    let mut out = text.as_bytes().to_vec();
    out.push(0);
    out
}

pub fn parse_body(name: &str, sql: &str, type_oids: &[u32]) -> Vec<u8> {
    let mut body = cstr(name);
    body.extend(cstr(sql));
    body.extend_from_slice(&(type_oids.len() as i16).to_be_bytes());
    for oid in type_oids {
        body.extend_from_slice(&oid.to_be_bytes());
    }
    body
}

pub fn bind_body(
    portal: &str,
    statement: &str,
    formats: &[i16],
    params: &[Option<&[u8]>],
    result_formats: &[i16],
) -> Vec<u8> {
    let mut body = cstr(portal);
    body.extend(cstr(statement));
    body.extend_from_slice(&(formats.len() as i16).to_be_bytes());
    for f in formats {
        body.extend_from_slice(&f.to_be_bytes());
    }
    body.extend_from_slice(&(params.len() as i16).to_be_bytes());
    for p in params {
        match p {
            None => body.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(bytes) => {
                body.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
                body.extend_from_slice(bytes);
            }
        }
    }
    body.extend_from_slice(&(result_formats.len() as i16).to_be_bytes());
    for f in result_formats {
        body.extend_from_slice(&f.to_be_bytes());
    }
    body
}

pub fn execute_body(portal: &str, max_rows: i32) -> Vec<u8> {
    let mut body = cstr(portal);
    body.extend_from_slice(&max_rows.to_be_bytes());
    body
}

/// The fields of an ErrorResponse / NoticeResponse by their type byte.
pub fn error_fields(body: &[u8]) -> HashMap<u8, String> {
    let mut fields = HashMap::new();
    let mut rest = body;
    while let Some((&kind, tail)) = rest.split_first() {
        if kind == 0 {
            break;
        }
        let end = tail.iter().position(|&b| b == 0).unwrap();
        fields.insert(kind, String::from_utf8_lossy(&tail[..end]).into_owned());
        rest = &tail[end + 1..];
    }
    fields
}

/// The values of a DataRow.
pub fn row_values(body: &[u8]) -> Vec<Option<Vec<u8>>> {
    let count = i16::from_be_bytes([body[0], body[1]]) as usize;
    let mut at = 2;
    let mut values = Vec::new();
    for _ in 0..count {
        let length = i32::from_be_bytes(body[at..at + 4].try_into().unwrap());
        at += 4;
        if length < 0 {
            values.push(None);
        } else {
            values.push(Some(body[at..at + length as usize].to_vec()));
            at += length as usize;
        }
    }
    values
}

/// The type bytes of a list of messages, as a string (`"TDCZ"`).
pub fn tags(messages: &[Message]) -> String {
    messages.iter().map(|(t, _)| *t as char).collect()
}

/// The SQLSTATE of the first ErrorResponse.
pub fn error_code(messages: &[Message]) -> Option<String> {
    messages
        .iter()
        .find(|(t, _)| *t == b'E')
        .map(|(_, body)| error_fields(body)[&b'C'].clone())
}
