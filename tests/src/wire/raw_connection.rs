//! One raw protocol connection over TCP: send arbitrary bytes, read backend messages with a
//! deadline, and (optionally) a normal startup with SCRAM-SHA-256, cleartext or trust
//! authentication, after which a test may misbehave.

use std::io::ErrorKind;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};

use crate::endpoint::{Endpoint, CONNECT_TIMEOUT};
use crate::error::{HarnessError, HarnessResult};
use crate::wire::messages::{self, BackendMessage};
use crate::wire::scram::{ScramClient, MECHANISM};

/// Larger backend messages are treated as a broken server rather than allocated.
const MAX_BACKEND_MESSAGE: usize = 256 << 20;

/// Authentication request codes of the 'R' message.
const AUTH_OK: i32 = 0;
const AUTH_CLEARTEXT: i32 = 3;
const AUTH_SASL: i32 = 10;
const AUTH_SASL_CONTINUE: i32 = 11;
const AUTH_SASL_FINAL: i32 = 12;

/// A TCP connection speaking (or abusing) the protocol.
pub struct RawConnection {
    stream: TcpStream,
}

/// How a response ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseEnd {
    /// ReadyForQuery with this transaction status byte.
    Ready(u8),
    /// The server closed the connection.
    Closed,
}

/// The messages of one response, up to ReadyForQuery or the end of the connection.
#[derive(Debug)]
pub struct Response {
    pub messages: Vec<BackendMessage>,
    pub end: ResponseEnd,
}

impl Response {
    /// The first ErrorResponse's SQLSTATE.
    pub fn sqlstate(&self) -> Option<&str> {
        self.messages.iter().find_map(BackendMessage::sqlstate)
    }

    /// The text of the first column of every DataRow.
    pub fn first_column(&self) -> Vec<Option<String>> {
        self.messages
            .iter()
            .filter_map(|message| match message {
                BackendMessage::DataRow(values) => Some(
                    values
                        .first()
                        .cloned()
                        .flatten()
                        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
                ),
                _ => None,
            })
            .collect()
    }
}

impl RawConnection {
    /// Opens the TCP connection (no protocol yet).
    pub async fn connect(endpoint: &Endpoint) -> HarnessResult<Self> {
        let address = endpoint.socket_address();
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&address))
            .await
            .map_err(|_| HarnessError::new(format!("TCP connect to {address} timed out")))??;
        stream.set_nodelay(true)?;
        Ok(RawConnection { stream })
    }

    /// Connects, sends a startup packet, authenticates and waits for ReadyForQuery.
    pub async fn login(endpoint: &Endpoint) -> HarnessResult<Self> {
        Ok(Self::login_collecting(endpoint, &[]).await?.0)
    }

    /// Like [`RawConnection::login`] with extra startup parameters; also returns the messages
    /// the server sent between authentication and ReadyForQuery (ParameterStatus,
    /// BackendKeyData, ...).
    pub async fn login_collecting(
        endpoint: &Endpoint,
        extra_parameters: &[(&str, &str)],
    ) -> HarnessResult<(Self, Response)> {
        let connection = Self::connect(endpoint).await?;
        connection.start_session(endpoint, extra_parameters).await
    }

    /// On an open connection (possibly after a declined SSLRequest): startup packet,
    /// authentication, and the messages up to ReadyForQuery.
    pub async fn start_session(
        mut self,
        endpoint: &Endpoint,
        extra_parameters: &[(&str, &str)],
    ) -> HarnessResult<(Self, Response)> {
        let connection = &mut self;
        let mut parameters = vec![
            ("user", endpoint.user.as_str()),
            ("database", endpoint.dbname.as_str()),
            ("client_encoding", "UTF8"),
        ];
        parameters.extend_from_slice(extra_parameters);
        connection.send(&messages::startup(&parameters)).await?;
        connection
            .authenticate(&endpoint.password)
            .await
            .map_err(|e| e.context("raw connection login"))?;
        let response = connection.read_until_ready(CONNECT_TIMEOUT).await?;
        match (response.end, response.sqlstate()) {
            (ResponseEnd::Ready(_), None) => Ok((self, response)),
            _ => Err(HarnessError::new(format!(
                "startup did not end in ReadyForQuery: {response:?}"
            ))),
        }
    }

    async fn authenticate(&mut self, password: &str) -> HarnessResult<()> {
        let deadline = Instant::now() + CONNECT_TIMEOUT;
        let mut scram: Option<ScramClient> = None;
        loop {
            let message = self
                .read_message_until(deadline)
                .await?
                .ok_or_else(|| HarnessError::new("server closed the connection during login"))?;
            let BackendMessage::Authentication { code, data } = message else {
                return Err(HarnessError::new(format!(
                    "unexpected message during authentication: {message:?}"
                )));
            };
            match code {
                AUTH_OK => return Ok(()),
                AUTH_CLEARTEXT => {
                    let mut payload = password.as_bytes().to_vec();
                    payload.push(0);
                    self.send(&messages::password_message(&payload)).await?;
                }
                AUTH_SASL => {
                    let offered = String::from_utf8_lossy(&data);
                    if !offered.split('\0').any(|mechanism| mechanism == MECHANISM) {
                        return Err(HarnessError::new(format!(
                            "server offers SASL mechanisms {offered:?}, not {MECHANISM}"
                        )));
                    }
                    let client = ScramClient::new(password);
                    self.send(&messages::sasl_initial_response(
                        MECHANISM,
                        client.client_first().as_bytes(),
                    ))
                    .await?;
                    scram = Some(client);
                }
                AUTH_SASL_CONTINUE => {
                    let client = scram
                        .as_mut()
                        .ok_or_else(|| HarnessError::new("SASL continue before SASL start"))?;
                    let client_final = client.client_final(&String::from_utf8_lossy(&data))?;
                    self.send(&messages::password_message(client_final.as_bytes()))
                        .await?;
                }
                AUTH_SASL_FINAL => {
                    let client = scram
                        .as_ref()
                        .ok_or_else(|| HarnessError::new("SASL final before SASL start"))?;
                    client.verify_server_final(&String::from_utf8_lossy(&data))?;
                }
                other => {
                    return Err(HarnessError::new(format!(
                        "unsupported authentication request {other}"
                    )))
                }
            }
        }
    }

    /// Writes raw bytes.
    pub async fn send(&mut self, bytes: &[u8]) -> HarnessResult<()> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await?;
        Ok(())
    }

    /// Reads one message; `None` when the server closed the connection; an error at the
    /// deadline.
    pub async fn read_message(
        &mut self,
        timeout: Duration,
    ) -> HarnessResult<Option<BackendMessage>> {
        self.read_message_until(Instant::now() + timeout).await
    }

    async fn read_message_until(
        &mut self,
        deadline: Instant,
    ) -> HarnessResult<Option<BackendMessage>> {
        let mut header = [0u8; 5];
        match timeout_at(deadline, self.stream.read_exact(&mut header)).await {
            Err(_) => {
                return Err(HarnessError::new(
                    "no message from the server before the deadline",
                ))
            }
            Ok(Err(e)) if is_disconnect(&e) => return Ok(None),
            Ok(Err(e)) => return Err(e.into()),
            Ok(Ok(_)) => {}
        }
        let length = i32::from_be_bytes([header[1], header[2], header[3], header[4]]);
        let payload_length = usize::try_from(length)
            .ok()
            .and_then(|length| length.checked_sub(4))
            .filter(|&length| length <= MAX_BACKEND_MESSAGE)
            .ok_or_else(|| {
                HarnessError::new(format!(
                    "server sent message {:?} with invalid length {length}",
                    char::from(header[0])
                ))
            })?;
        let mut payload = vec![0u8; payload_length];
        match timeout_at(deadline, self.stream.read_exact(&mut payload)).await {
            Err(_) => Err(HarnessError::new(
                "incomplete message from the server at the deadline",
            )),
            Ok(Err(e)) if is_disconnect(&e) => Ok(None),
            Ok(Err(e)) => Err(e.into()),
            Ok(Ok(_)) => Ok(Some(BackendMessage::decode(header[0], &payload))),
        }
    }

    /// Reads messages until ReadyForQuery or the end of the connection, within `timeout`.
    pub async fn read_until_ready(&mut self, timeout: Duration) -> HarnessResult<Response> {
        let deadline = Instant::now() + timeout;
        let mut messages = Vec::new();
        loop {
            match self.read_message_until(deadline).await {
                Ok(Some(BackendMessage::ReadyForQuery(status))) => {
                    return Ok(Response {
                        messages,
                        end: ResponseEnd::Ready(status),
                    })
                }
                Ok(Some(message)) => messages.push(message),
                Ok(None) => {
                    return Ok(Response {
                        messages,
                        end: ResponseEnd::Closed,
                    })
                }
                Err(e) => {
                    return Err(e.context(format!("after {} messages {messages:?}", messages.len())))
                }
            }
        }
    }

    /// Reads messages until the server closes the connection; an error if it is still open at
    /// the deadline.
    pub async fn read_until_closed(
        &mut self,
        timeout: Duration,
    ) -> HarnessResult<Vec<BackendMessage>> {
        let deadline = Instant::now() + timeout;
        let mut messages = Vec::new();
        loop {
            match self.read_message_until(deadline).await {
                Ok(Some(message)) => messages.push(message),
                Ok(None) => return Ok(messages),
                Err(e) => {
                    return Err(e.context(format!(
                        "the connection stayed open; received so far {messages:?}"
                    )))
                }
            }
        }
    }

    /// Reads one byte (the answer to SSLRequest or GSSENCRequest); `None` at end of file.
    pub async fn read_byte(&mut self, timeout: Duration) -> HarnessResult<Option<u8>> {
        let mut byte = [0u8; 1];
        match tokio::time::timeout(timeout, self.stream.read_exact(&mut byte)).await {
            Err(_) => Err(HarnessError::new(
                "no byte from the server before the deadline",
            )),
            Ok(Err(e)) if is_disconnect(&e) => Ok(None),
            Ok(Err(e)) => Err(e.into()),
            Ok(Ok(_)) => Ok(Some(byte[0])),
        }
    }

    /// Sends a simple query (raw bytes allowed) and reads its response.
    pub async fn simple_query(&mut self, sql: &[u8], timeout: Duration) -> HarnessResult<Response> {
        self.send(&messages::query(sql)).await?;
        self.read_until_ready(timeout).await
    }

    /// Closes the connection abruptly (no Terminate message).
    pub fn abandon(self) {
        drop(self.stream);
    }
}

fn is_disconnect(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        ErrorKind::UnexpectedEof
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::BrokenPipe
    )
}
