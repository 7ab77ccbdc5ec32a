//! Reading what clients send: the startup packet (and its SSL, GSSAPI-encryption and cancel
//! variants) and the typed messages of protocol 3.0, framed and then decoded.
//!
//! Framing (the 1-byte type and the Int32 length) is checked before anything is allocated: a
//! length below 4, a length past the limit of its message type, or a type the protocol does not
//! have is a FATAL error after which the connection is closed, because the byte stream can no
//! longer be trusted. The body of a message is read as it arrives (never allocated up front
//! from the announced length), so a client announcing 256 MB and sending nothing costs nothing.
//! Decoding errors inside a well-framed body are ordinary ERRORs ([`SqlError`]).

use std::io::{self, Read};

use sql::error::code;
use sql::SqlError;

use super::body::{utf8, Body};

/// Largest startup packet (PostgreSQL's `MAX_STARTUP_PACKET_LENGTH`).
pub const MAX_STARTUP_PACKET: usize = 10_000;
/// Largest Query, Parse, Bind, FunctionCall or COPY message body. PostgreSQL allows 1 GB; a
/// quarter of that keeps one connection from exhausting a small machine.
pub const MAX_LARGE_MESSAGE: usize = 256 << 20;
/// Largest body of the other messages (PostgreSQL's `PQ_SMALL_MESSAGE_LIMIT`).
pub const MAX_SMALL_MESSAGE: usize = 10_000;
/// Largest authentication message (PostgreSQL's `PG_MAX_AUTH_TOKEN_LENGTH`).
pub const MAX_AUTH_MESSAGE: usize = 65_535;

const SSL_REQUEST_CODE: u32 = 80_877_103;
const GSSENC_REQUEST_CODE: u32 = 80_877_104;
const CANCEL_REQUEST_CODE: u32 = 80_877_102;

/// Why reading from the client stopped.
#[derive(Debug)]
pub enum ReadError {
    /// The client went away (EOF, reset, timeout): nothing is reported to anyone.
    Closed,
    /// The byte stream broke the protocol: send this as FATAL and close.
    Fatal(SqlError),
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> ReadError {
        ReadError::Closed
    }
}

/// The first packet of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartupPacket {
    SslRequest,
    GssEncRequest,
    Cancel {
        process_id: i32,
        secret_key: i32,
    },
    Startup {
        major: u16,
        minor: u16,
        /// `user`, `database`, `options`, `application_name`, ... in the order sent.
        parameters: Vec<(String, String)>,
    },
}

/// A typed frontend message of protocol 3.0, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrontendMessage {
    Query(String),
    Parse {
        name: String,
        query: String,
        /// 0 for "unspecified".
        param_type_oids: Vec<u32>,
    },
    Bind {
        portal: String,
        statement: String,
        param_formats: Vec<i16>,
        /// `None` is SQL NULL.
        params: Vec<Option<Vec<u8>>>,
        result_formats: Vec<i16>,
    },
    Describe {
        /// `b'S'` (statement) or `b'P'` (portal).
        kind: u8,
        name: String,
    },
    Execute {
        portal: String,
        /// 0 means "all rows".
        max_rows: i32,
    },
    Close {
        kind: u8,
        name: String,
    },
    Sync,
    Flush,
    Terminate,
    CopyData(Vec<u8>),
    CopyDone,
    CopyFail(String),
    /// The fast-path function call interface, which custos does not implement.
    FunctionCall,
    /// PasswordMessage / SASLInitialResponse / SASLResponse: raw body, read by `auth`.
    Authentication(Vec<u8>),
}

/// The largest body accepted for a message type; `None` for a type the protocol lacks.
pub fn body_limit(tag: u8) -> Option<usize> {
    match tag {
        b'Q' | b'P' | b'B' | b'F' | b'd' | b'c' | b'f' => Some(MAX_LARGE_MESSAGE),
        b'D' | b'E' | b'C' | b'S' | b'H' | b'X' => Some(MAX_SMALL_MESSAGE),
        b'p' => Some(MAX_AUTH_MESSAGE),
        _ => None,
    }
}

/// Buffered reading of frontend packets from a byte stream.
pub struct FrontendReader<R> {
    inner: R,
    buffer: Box<[u8]>,
    start: usize,
    end: usize,
}

impl<R: Read> FrontendReader<R> {
    pub fn new(inner: R) -> FrontendReader<R> {
        FrontendReader {
            inner,
            buffer: vec![0; 16 * 1024].into_boxed_slice(),
            start: 0,
            end: 0,
        }
    }

    /// Whether bytes already received wait in the buffer (then the next read will not block
    /// before returning at least part of a message).
    pub fn has_buffered(&self) -> bool {
        self.start < self.end
    }

    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    fn fill(&mut self) -> io::Result<()> {
        self.start = 0;
        self.end = 0;
        loop {
            match self.inner.read(&mut self.buffer) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    self.end = n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn read_exact(&mut self, out: &mut [u8]) -> io::Result<()> {
        let mut filled = 0;
        while filled < out.len() {
            if self.start == self.end {
                self.fill()?;
            }
            let n = (out.len() - filled).min(self.end - self.start);
            out[filled..filled + n].copy_from_slice(&self.buffer[self.start..self.start + n]);
            self.start += n;
            filled += n;
        }
        Ok(())
    }

    /// Reads `length` bytes, growing the result as data arrives.
    fn read_body(&mut self, length: usize) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        self.read_body_into(length, &mut body)?;
        Ok(body)
    }

    /// Appends `length` bytes to `body`, growing it as data arrives (never reserving more
    /// than a chunk ahead of what was received).
    fn read_body_into(&mut self, length: usize, body: &mut Vec<u8>) -> io::Result<()> {
        const CHUNK: usize = 1 << 20;
        let end = body.len() + length;
        body.reserve(length.min(CHUNK));
        while body.len() < end {
            if self.start == self.end {
                self.fill()?;
            }
            let n = (end - body.len()).min(self.end - self.start);
            body.extend_from_slice(&self.buffer[self.start..self.start + n]);
            self.start += n;
        }
        Ok(())
    }

    fn read_u32(&mut self) -> io::Result<u32> {
        let mut raw = [0u8; 4];
        self.read_exact(&mut raw)?;
        Ok(u32::from_be_bytes(raw))
    }

    /// Reads the first packet of a connection (or the one after an SSL/GSS refusal).
    pub fn read_startup(&mut self) -> Result<StartupPacket, ReadError> {
        let length = self.read_u32()? as usize;
        if !(8..=MAX_STARTUP_PACKET).contains(&length) {
            return Err(ReadError::Fatal(SqlError::new(
                code::PROTOCOL_VIOLATION,
                "invalid length of startup packet",
            )));
        }
        let body = self.read_body(length - 4)?;
        decode_startup(&body).map_err(ReadError::Fatal)
    }

    /// Reads one typed message: its type byte and body.
    pub fn read_message(&mut self) -> Result<(u8, Vec<u8>), ReadError> {
        let mut body = Vec::new();
        let tag = self.read_message_into(&mut body)?;
        Ok((tag, body))
    }

    /// Reads one typed message into `body` (cleared first, its capacity reused: the message
    /// loop reads every message into one buffer); returns the type byte.
    pub fn read_message_into(&mut self, body: &mut Vec<u8>) -> Result<u8, ReadError> {
        let (tag, length) = if self.end - self.start >= 5 {
            // The usual case: the header is in the buffer.
            let header = &self.buffer[self.start..self.start + 5];
            let length = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
            self.start += 5;
            (header[0], Some(length as usize))
        } else {
            let mut tag = [0u8; 1];
            self.read_exact(&mut tag)?;
            (tag[0], None)
        };
        let Some(limit) = body_limit(tag) else {
            return Err(ReadError::Fatal(SqlError::new(
                code::PROTOCOL_VIOLATION,
                format!("invalid frontend message type {tag}"),
            )));
        };
        let length = match length {
            Some(length) => length,
            None => self.read_u32()? as usize,
        };
        if length < 4 {
            return Err(ReadError::Fatal(SqlError::new(
                code::PROTOCOL_VIOLATION,
                "invalid message length",
            )));
        }
        let body_length = length - 4;
        if body_length > limit {
            let error = if limit == MAX_LARGE_MESSAGE {
                SqlError::new(
                    code::PROGRAM_LIMIT_EXCEEDED,
                    format!("message of {body_length} bytes exceeds the limit of {limit} bytes"),
                )
            } else {
                SqlError::new(code::PROTOCOL_VIOLATION, "invalid message length")
            };
            return Err(ReadError::Fatal(error));
        }
        body.clear();
        self.read_body_into(body_length, body)?;
        Ok(tag)
    }
}

/// Decodes the body of a startup packet (after its length).
pub fn decode_startup(body: &[u8]) -> Result<StartupPacket, SqlError> {
    let mut reader = Body::new(body);
    let version = reader.u32()?;
    match version {
        SSL_REQUEST_CODE if reader.remaining() == 0 => return Ok(StartupPacket::SslRequest),
        GSSENC_REQUEST_CODE if reader.remaining() == 0 => return Ok(StartupPacket::GssEncRequest),
        CANCEL_REQUEST_CODE if reader.remaining() == 8 => {
            let process_id = reader.i32()?;
            let secret_key = reader.i32()?;
            return Ok(StartupPacket::Cancel {
                process_id,
                secret_key,
            });
        }
        _ => {}
    }
    let major = (version >> 16) as u16;
    let minor = (version & 0xffff) as u16;
    if major != 3 {
        return Err(SqlError::new(
            code::FEATURE_NOT_SUPPORTED,
            format!("unsupported frontend protocol {major}.{minor}: server supports 3.0 to 3.0"),
        ));
    }
    let layout_error = || {
        SqlError::new(
            code::PROTOCOL_VIOLATION,
            "invalid startup packet layout: expected terminator as last byte",
        )
    };
    let mut parameters = Vec::new();
    loop {
        let name = reader.cstr_bytes().map_err(|_| layout_error())?;
        if name.is_empty() {
            break;
        }
        let value = reader.cstr_bytes().map_err(|_| layout_error())?;
        parameters.push((utf8(name)?.to_string(), utf8(value)?.to_string()));
    }
    if reader.remaining() != 0 {
        return Err(layout_error());
    }
    Ok(StartupPacket::Startup {
        major,
        minor,
        parameters,
    })
}

/// Decodes a framed message body by its type byte.
pub fn decode_message(tag: u8, body: &[u8]) -> Result<FrontendMessage, SqlError> {
    if tag == b'd' {
        return Ok(FrontendMessage::CopyData(body.to_vec()));
    }
    if tag == b'p' {
        return Ok(FrontendMessage::Authentication(body.to_vec()));
    }
    let mut reader = Body::new(body);
    let message = match tag {
        b'Q' => FrontendMessage::Query(reader.cstr()?.to_string()),
        b'P' => {
            let name = reader.cstr()?.to_string();
            let query = reader.cstr()?.to_string();
            let count = reader.count16()?;
            let mut param_type_oids = Vec::with_capacity(count.min(reader.remaining() / 4));
            for _ in 0..count {
                param_type_oids.push(reader.u32()?);
            }
            FrontendMessage::Parse {
                name,
                query,
                param_type_oids,
            }
        }
        b'B' => decode_bind(&mut reader)?,
        b'D' | b'C' => {
            let kind = reader.u8()?;
            if kind != b'S' && kind != b'P' {
                let what = if tag == b'D' { "DESCRIBE" } else { "CLOSE" };
                return Err(SqlError::new(
                    code::PROTOCOL_VIOLATION,
                    format!("invalid {what} message subtype {kind}"),
                ));
            }
            let name = reader.cstr()?.to_string();
            if tag == b'D' {
                FrontendMessage::Describe { kind, name }
            } else {
                FrontendMessage::Close { kind, name }
            }
        }
        b'E' => {
            let portal = reader.cstr()?.to_string();
            let max_rows = reader.i32()?;
            FrontendMessage::Execute { portal, max_rows }
        }
        b'S' => FrontendMessage::Sync,
        b'H' => FrontendMessage::Flush,
        b'X' => FrontendMessage::Terminate,
        b'c' => FrontendMessage::CopyDone,
        b'f' => FrontendMessage::CopyFail(String::from_utf8_lossy(reader.cstr_bytes()?).into()),
        b'F' => {
            reader.rest();
            FrontendMessage::FunctionCall
        }
        other => {
            return Err(SqlError::new(
                code::PROTOCOL_VIOLATION,
                format!("invalid frontend message type {other}"),
            ))
        }
    };
    reader.finish()?;
    Ok(message)
}

fn decode_bind(reader: &mut Body<'_>) -> Result<FrontendMessage, SqlError> {
    let portal = reader.cstr()?.to_string();
    let statement = reader.cstr()?.to_string();
    let format_count = reader.count16()?;
    let mut param_formats = Vec::with_capacity(format_count.min(reader.remaining() / 2));
    for _ in 0..format_count {
        param_formats.push(reader.i16()?);
    }
    let param_count = reader.count16()?;
    let mut params = Vec::with_capacity(param_count.min(reader.remaining() / 4));
    for _ in 0..param_count {
        let length = reader.i32()?;
        if length == -1 {
            params.push(None);
        } else {
            let length = usize::try_from(length).map_err(|_| {
                SqlError::new(
                    code::PROTOCOL_VIOLATION,
                    format!("invalid parameter length {length} in Bind message"),
                )
            })?;
            params.push(Some(reader.bytes(length)?.to_vec()));
        }
    }
    let result_count = reader.count16()?;
    let mut result_formats = Vec::with_capacity(result_count.min(reader.remaining() / 2));
    for _ in 0..result_count {
        result_formats.push(reader.i16()?);
    }
    Ok(FrontendMessage::Bind {
        portal,
        statement,
        param_formats,
        params,
        result_formats,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(version: u32, rest: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&((8 + rest.len()) as u32).to_be_bytes());
        out.extend_from_slice(&version.to_be_bytes());
        out.extend_from_slice(rest);
        out
    }

    fn message(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        out.extend_from_slice(&((4 + body.len()) as u32).to_be_bytes());
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn startup_packet_with_parameters() {
        let raw = packet(196_608, b"user\0alice\0database\0custos\0\0");
        let mut reader = FrontendReader::new(&raw[..]);
        let StartupPacket::Startup {
            major,
            minor,
            parameters,
        } = reader.read_startup().unwrap()
        else {
            panic!("not a startup packet")
        };
        assert_eq!((major, minor), (3, 0));
        assert_eq!(
            parameters,
            vec![
                ("user".to_string(), "alice".to_string()),
                ("database".to_string(), "custos".to_string())
            ]
        );
    }

    #[test]
    fn ssl_gss_and_cancel_requests() {
        let mut raw = packet(SSL_REQUEST_CODE, b"");
        raw.extend(packet(GSSENC_REQUEST_CODE, b""));
        raw.extend(packet(
            CANCEL_REQUEST_CODE,
            &[0, 0, 0, 7, 0xff, 0xff, 0xff, 0xfe],
        ));
        let mut reader = FrontendReader::new(&raw[..]);
        assert_eq!(reader.read_startup().unwrap(), StartupPacket::SslRequest);
        assert_eq!(reader.read_startup().unwrap(), StartupPacket::GssEncRequest);
        assert_eq!(
            reader.read_startup().unwrap(),
            StartupPacket::Cancel {
                process_id: 7,
                secret_key: -2
            }
        );
        assert!(matches!(reader.read_startup(), Err(ReadError::Closed)));
    }

    #[test]
    fn bad_startup_packets_are_fatal() {
        let fatal = |raw: Vec<u8>| match FrontendReader::new(&raw[..]).read_startup() {
            Err(ReadError::Fatal(e)) => e,
            other => panic!("expected a fatal error, got {other:?}"),
        };
        let e = fatal(packet(2 << 16, b"user\0x\0\0"));
        assert_eq!(e.code, "0A000");
        assert_eq!(
            e.message,
            "unsupported frontend protocol 2.0: server supports 3.0 to 3.0"
        );
        let e = fatal(packet(196_608, b"user\0x"));
        assert_eq!(e.code, "08P01");
        let e = fatal(vec![0, 0, 0, 3, 0, 0, 0, 0]);
        assert_eq!(e.message, "invalid length of startup packet");
        let e = fatal(vec![0x7f, 0, 0, 0]);
        assert_eq!(e.message, "invalid length of startup packet");
    }

    #[test]
    fn framing_errors_are_fatal() {
        let mut reader = FrontendReader::new(&[b'Q', 0, 0, 0, 3][..]);
        let Err(ReadError::Fatal(e)) = reader.read_message() else {
            panic!()
        };
        assert_eq!(e.message, "invalid message length");
        let mut reader = FrontendReader::new(&[b'!', 0, 0, 0, 4][..]);
        let Err(ReadError::Fatal(e)) = reader.read_message() else {
            panic!()
        };
        assert_eq!(e.message, "invalid frontend message type 33");
        let mut reader = FrontendReader::new(&[b'Q', 0x7f, 0xff, 0xff, 0xff][..]);
        let Err(ReadError::Fatal(e)) = reader.read_message() else {
            panic!()
        };
        assert_eq!(e.code, "54000");
        let mut reader = FrontendReader::new(&[b'S', 0, 1, 0, 0][..]);
        assert!(matches!(reader.read_message(), Err(ReadError::Fatal(_))));
        // A message cut short is a vanished client, not an error to report.
        let mut reader = FrontendReader::new(&[b'Q', 0, 0, 0, 10, b'a'][..]);
        assert!(matches!(reader.read_message(), Err(ReadError::Closed)));
    }

    #[test]
    fn decodes_extended_protocol_messages() {
        let mut raw = message(b'P', b"s1\0SELECT $1\0\0\x01\0\0\0\x17");
        let mut bind =
            b"\0s1\0\0\x01\0\x01\0\x02\0\0\0\x04\0\0\0\x2a\xff\xff\xff\xff\0\x01\0\x01".to_vec();
        raw.extend(message(b'B', &bind));
        raw.extend(message(b'E', b"\0\0\0\0\x0a"));
        raw.extend(message(b'S', b""));
        let mut reader = FrontendReader::new(&raw[..]);
        let (tag, body) = reader.read_message().unwrap();
        assert_eq!(
            decode_message(tag, &body).unwrap(),
            FrontendMessage::Parse {
                name: "s1".into(),
                query: "SELECT $1".into(),
                param_type_oids: vec![23]
            }
        );
        let (tag, body) = reader.read_message().unwrap();
        assert_eq!(
            decode_message(tag, &body).unwrap(),
            FrontendMessage::Bind {
                portal: String::new(),
                statement: "s1".into(),
                param_formats: vec![1],
                params: vec![Some(vec![0, 0, 0, 42]), None],
                result_formats: vec![1],
            }
        );
        let (tag, body) = reader.read_message().unwrap();
        assert_eq!(
            decode_message(tag, &body).unwrap(),
            FrontendMessage::Execute {
                portal: String::new(),
                max_rows: 10
            }
        );
        let (tag, body) = reader.read_message().unwrap();
        assert_eq!(decode_message(tag, &body).unwrap(), FrontendMessage::Sync);
        // A parameter longer than the message is an error, not an overread.
        bind[10] = 0x7f;
        assert_eq!(decode_message(b'B', &bind).unwrap_err().code, "08P01");
    }

    #[test]
    fn trailing_garbage_and_bad_subtypes_are_errors() {
        assert!(decode_message(b'S', &[1]).is_err());
        assert!(decode_message(b'D', b"Xname\0").is_err());
        assert!(decode_message(b'Q', b"SELECT 1").is_err());
        assert_eq!(
            decode_message(b'Q', b"SELECT '\xff'\0").unwrap_err().code,
            "22021"
        );
    }
}
