//! Authentication of a connection: SCRAM-SHA-256 ([`scram`]) driven over the wire.
//!
//! The exchange (PostgreSQL's SASL flow): AuthenticationSASL listing `SCRAM-SHA-256` →
//! SASLInitialResponse (mechanism and client-first-message) → AuthenticationSASLContinue
//! (server-first-message) → SASLResponse (client-final-message) → AuthenticationSASLFinal
//! (server-final-message) and AuthenticationOk. Any failure is FATAL: `28P01 password
//! authentication failed for user "x"` for a wrong password, an unknown user or a user without
//! a password (the three are indistinguishable to the client), `08P01` for a malformed
//! exchange.

pub mod hba;
pub mod login;
pub mod scram;

use std::io::{Read, Write};

use sql::error::code;
use sql::SqlError;

use crate::connection::ConnError;
use crate::wire::body::Body;
use crate::wire::{BackendWriter, FrontendReader};
use scram::{ScramError, ScramServer, Verifier};

fn password_failed(user: &str) -> SqlError {
    SqlError::new(
        code::INVALID_PASSWORD,
        format!("password authentication failed for user \"{user}\""),
    )
}

/// Reads the next authentication message ('p'); anything else is a protocol violation.
fn read_auth_message<R: Read>(reader: &mut FrontendReader<R>) -> Result<Vec<u8>, ConnError> {
    let (tag, body) = reader.read_message()?;
    if tag != b'p' {
        return Err(ConnError::Fatal(SqlError::new(
            code::PROTOCOL_VIOLATION,
            format!("expected SASL response, got message type {tag}"),
        )));
    }
    Ok(body)
}

fn scram_failure(error: ScramError, user: &str) -> ConnError {
    ConnError::Fatal(match error {
        ScramError::Malformed { message, detail } => {
            let error = SqlError::new(code::PROTOCOL_VIOLATION, message);
            if detail.is_empty() {
                error
            } else {
                error.with_detail(detail)
            }
        }
        ScramError::Unsupported(message) => SqlError::new(code::FEATURE_NOT_SUPPORTED, message),
        ScramError::AuthenticationFailed => password_failed(user),
    })
}

/// Runs the SCRAM exchange for `user` whose stored verifier is `verifier` (`None` for an
/// unknown user or one without a password). On success AuthenticationOk has been sent.
#[cfg(test)]
pub fn authenticate<R: Read, W: Write>(
    reader: &mut FrontendReader<R>,
    writer: &mut BackendWriter<W>,
    user: &str,
    verifier: Option<&str>,
    mock_secret: &[u8],
) -> Result<(), ConnError> {
    authenticate_with_binding(reader, writer, user, verifier, mock_secret, None)
}

/// [`authenticate`] on a connection that may be under TLS: with `channel_binding` (the
/// `tls-server-end-point` data) SCRAM-SHA-256-PLUS is offered first and binds the exchange
/// to the TLS session.
pub fn authenticate_with_binding<R: Read, W: Write>(
    reader: &mut FrontendReader<R>,
    writer: &mut BackendWriter<W>,
    user: &str,
    verifier: Option<&str>,
    mock_secret: &[u8],
    channel_binding: Option<&[u8]>,
) -> Result<(), ConnError> {
    let verifier = verifier.and_then(Verifier::parse);
    if channel_binding.is_some() {
        writer.authentication_sasl(&[scram::MECHANISM_PLUS, scram::MECHANISM])?;
    } else {
        writer.authentication_sasl(&[scram::MECHANISM])?;
    }
    writer.flush()?;

    let initial = read_auth_message(reader)?;
    let mut body = Body::new(&initial);
    let parsed = (|| -> Result<(String, Vec<u8>), SqlError> {
        let mechanism = body.cstr()?.to_string();
        let length = body.i32()?;
        let data = if length < 0 {
            Vec::new()
        } else {
            body.bytes(length as usize)?.to_vec()
        };
        body.finish()?;
        Ok((mechanism, data))
    })();
    let (mechanism, client_first) = parsed.map_err(ConnError::Fatal)?;
    let plus = channel_binding.is_some() && mechanism == scram::MECHANISM_PLUS;
    if mechanism != scram::MECHANISM && !plus {
        return Err(ConnError::Fatal(SqlError::new(
            code::PROTOCOL_VIOLATION,
            "client selected an invalid SASL authentication mechanism",
        )));
    }
    let mut server = ScramServer::new(verifier, user, mock_secret)
        .with_channel_binding(channel_binding.map(<[u8]>::to_vec), plus);
    let server_first = server
        .client_first(&client_first)
        .map_err(|e| scram_failure(e, user))?;
    writer.authentication_sasl_continue(server_first.as_bytes())?;
    writer.flush()?;

    let client_final = read_auth_message(reader)?;
    let server_final = server
        .client_final(&client_final)
        .map_err(|e| scram_failure(e, user))?;
    writer.authentication_sasl_final(server_final.as_bytes())?;
    writer.authentication_ok()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use scram::client::ScramClient;

    fn message(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        out.extend_from_slice(&((4 + body.len()) as u32).to_be_bytes());
        out.extend_from_slice(body);
        out
    }

    fn initial_response(client_first: &str) -> Vec<u8> {
        let mut body = b"SCRAM-SHA-256\0".to_vec();
        body.extend_from_slice(&(client_first.len() as i32).to_be_bytes());
        body.extend_from_slice(client_first.as_bytes());
        message(b'p', &body)
    }

    /// Runs `authenticate` on one end of a loopback TCP connection while the test plays a
    /// SCRAM client with `password` on the other; returns the server's verdict.
    fn exchange(password: &str, verifier: Option<String>) -> Result<(), ConnError> {
        use std::io::{Read, Write};
        use std::net::{TcpListener, TcpStream};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = FrontendReader::new(stream.try_clone().unwrap());
            let mut writer = BackendWriter::new(stream);
            let result = authenticate(&mut reader, &mut writer, "alice", verifier.as_deref(), b"k");
            let _ = writer.flush();
            result
        });
        let mut stream = TcpStream::connect(address).unwrap();
        let read_message = |stream: &mut TcpStream| {
            let mut header = [0u8; 5];
            stream.read_exact(&mut header).unwrap();
            let length = u32::from_be_bytes(header[1..].try_into().unwrap()) as usize;
            let mut body = vec![0u8; length - 4];
            stream.read_exact(&mut body).unwrap();
            (header[0], body)
        };
        let (tag, body) = read_message(&mut stream);
        assert_eq!((tag, &body[..4]), (b'R', &[0, 0, 0, 10][..]));
        let mut client = ScramClient::new(password);
        stream
            .write_all(&initial_response(&client.client_first()))
            .unwrap();
        let (tag, body) = read_message(&mut stream);
        assert_eq!((tag, &body[..4]), (b'R', &[0, 0, 0, 11][..]));
        let server_first = String::from_utf8(body[4..].to_vec()).unwrap();
        let client_final = client.client_final(&server_first);
        stream
            .write_all(&message(b'p', client_final.as_bytes()))
            .unwrap();
        let result = server.join().unwrap();
        if result.is_ok() {
            let (tag, body) = read_message(&mut stream);
            assert_eq!((tag, &body[..4]), (b'R', &[0, 0, 0, 12][..]));
            assert!(client.verify_server(std::str::from_utf8(&body[4..]).unwrap()));
            let (tag, body) = read_message(&mut stream);
            assert_eq!((tag, body), (b'R', vec![0, 0, 0, 0]));
        }
        result
    }

    #[test]
    fn right_password_logs_in_and_wrong_ones_fail_like_postgres() {
        let verifier = Verifier::generate("right").encode();
        assert!(exchange("right", Some(verifier.clone())).is_ok());
        let Err(ConnError::Fatal(error)) = exchange("wrong", Some(verifier)) else {
            panic!("expected a fatal error")
        };
        assert_eq!(error.code, "28P01");
        assert_eq!(
            error.message,
            "password authentication failed for user \"alice\""
        );
        // An unknown user (or one without a password) fails the same way.
        assert!(matches!(exchange("right", None), Err(ConnError::Fatal(e)) if e.code == "28P01"));
    }

    #[test]
    fn wire_flow_rejects_other_mechanisms_and_messages() {
        let mut writer = BackendWriter::new(Vec::new());
        let mut body = b"SCRAM-SHA-256-PLUS\0".to_vec();
        body.extend_from_slice(&3i32.to_be_bytes());
        body.extend_from_slice(b"abc");
        let input = message(b'p', &body);
        let mut reader = FrontendReader::new(&input[..]);
        let result = authenticate(&mut reader, &mut writer, "u", None, b"s");
        assert!(matches!(result, Err(ConnError::Fatal(e)) if e.code == "08P01"));
        // AuthenticationSASL went out first, listing SCRAM-SHA-256.
        assert_eq!(
            writer.get_ref().as_slice(),
            b"R\0\0\0\x17\0\0\0\x0aSCRAM-SHA-256\0\0".as_slice()
        );

        let input = message(b'Q', b"SELECT 1\0");
        let mut reader = FrontendReader::new(&input[..]);
        let mut writer = BackendWriter::new(Vec::new());
        let result = authenticate(&mut reader, &mut writer, "u", None, b"s");
        assert!(matches!(result, Err(ConnError::Fatal(e)) if e.code == "08P01"));

        // A client that leaves (pg_isready) is not an error to report.
        let mut reader = FrontendReader::new(&[][..]);
        let mut writer = BackendWriter::new(Vec::new());
        let result = authenticate(&mut reader, &mut writer, "u", None, b"s");
        assert!(matches!(result, Err(ConnError::Disconnected)));

        // Channel binding 'p' without TLS.
        let input = initial_response("p=tls-server-end-point,,n=,r=abc");
        let mut reader = FrontendReader::new(&input[..]);
        let mut writer = BackendWriter::new(Vec::new());
        let result = authenticate(&mut reader, &mut writer, "u", None, b"s");
        assert!(matches!(result, Err(ConnError::Fatal(e)) if e.code == "08P01"));
    }
}
