//! Frontend message encoding and backend message decoding (PostgreSQL protocol 3.0).
//!
//! Every message but the startup packet is a type byte, a big-endian i32 length that counts
//! itself and the payload (not the type byte), then the payload. The encoders here produce
//! well-formed messages; tests build malformed ones by hand from [`frame`].

use std::collections::BTreeMap;

/// Protocol version 3.0 in the startup packet.
pub const PROTOCOL_VERSION_3: i32 = 196_608;

/// One message from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendMessage {
    /// 'R': the authentication request code (0 = ok, 10 = SASL, 11 = SASL continue, 12 = SASL
    /// final) and its data.
    Authentication { code: i32, data: Vec<u8> },
    /// 'E': the fields of an ErrorResponse by their one-byte code ('C' = SQLSTATE, 'M' =
    /// message, 'S' = severity, ...).
    ErrorResponse(BTreeMap<u8, String>),
    /// 'N': the fields of a NoticeResponse.
    NoticeResponse(BTreeMap<u8, String>),
    /// 'Z': the transaction status: b'I' idle, b'T' in a transaction, b'E' in a failed one.
    ReadyForQuery(u8),
    /// 'T': the column names.
    RowDescription(Vec<String>),
    /// 'D': the column values (text or binary as requested), `None` for NULL.
    DataRow(Vec<Option<Vec<u8>>>),
    /// 'C': the command tag.
    CommandComplete(String),
    /// 'S': a run-time parameter.
    ParameterStatus { name: String, value: String },
    /// Any other message, undecoded.
    Other { tag: u8, payload: Vec<u8> },
}

impl BackendMessage {
    /// Decodes one message from its type byte and payload.
    pub fn decode(tag: u8, payload: &[u8]) -> BackendMessage {
        let mut reader = PayloadReader { bytes: payload };
        let decoded = match tag {
            b'R' => reader.i32().map(|code| BackendMessage::Authentication {
                code,
                data: reader.bytes.to_vec(),
            }),
            b'E' => reader.fields().map(BackendMessage::ErrorResponse),
            b'N' => reader.fields().map(BackendMessage::NoticeResponse),
            b'Z' => reader
                .bytes
                .first()
                .map(|&s| BackendMessage::ReadyForQuery(s)),
            b'T' => reader.row_description().map(BackendMessage::RowDescription),
            b'D' => reader.data_row().map(BackendMessage::DataRow),
            b'C' => reader.cstring().map(BackendMessage::CommandComplete),
            b'S' => reader.cstring().and_then(|name| {
                reader
                    .cstring()
                    .map(|value| BackendMessage::ParameterStatus { name, value })
            }),
            _ => None,
        };
        decoded.unwrap_or_else(|| BackendMessage::Other {
            tag,
            payload: payload.to_vec(),
        })
    }

    /// The SQLSTATE of an ErrorResponse.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            BackendMessage::ErrorResponse(fields) => fields.get(&b'C').map(String::as_str),
            _ => None,
        }
    }

    pub fn is_error(&self) -> bool {
        matches!(self, BackendMessage::ErrorResponse(_))
    }
}

struct PayloadReader<'a> {
    bytes: &'a [u8],
}

impl PayloadReader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.bytes.len() < n {
            return None;
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Some(head)
    }

    fn i16(&mut self) -> Option<i16> {
        self.take(2).map(|b| i16::from_be_bytes([b[0], b[1]]))
    }

    fn i32(&mut self) -> Option<i32> {
        self.take(4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn cstring(&mut self) -> Option<String> {
        let end = self.bytes.iter().position(|&b| b == 0)?;
        let text = String::from_utf8_lossy(&self.bytes[..end]).into_owned();
        self.bytes = &self.bytes[end + 1..];
        Some(text)
    }

    fn fields(&mut self) -> Option<BTreeMap<u8, String>> {
        let mut fields = BTreeMap::new();
        loop {
            let code = *self.bytes.first()?;
            self.bytes = &self.bytes[1..];
            if code == 0 {
                return Some(fields);
            }
            fields.insert(code, self.cstring()?);
        }
    }

    fn row_description(&mut self) -> Option<Vec<String>> {
        let count = self.i16()?;
        let mut names = Vec::new();
        for _ in 0..count {
            names.push(self.cstring()?);
            // table oid, column number, type oid, type size, type modifier, format code
            self.take(4 + 2 + 4 + 2 + 4 + 2)?;
        }
        Some(names)
    }

    fn data_row(&mut self) -> Option<Vec<Option<Vec<u8>>>> {
        let count = self.i16()?;
        let mut values = Vec::new();
        for _ in 0..count {
            let length = self.i32()?;
            if length < 0 {
                values.push(None);
            } else {
                values.push(Some(self.take(usize::try_from(length).ok()?)?.to_vec()));
            }
        }
        Some(values)
    }
}

/// A message: `tag`, then the length (payload + 4), then the payload.
pub fn frame(tag: u8, payload: &[u8]) -> Vec<u8> {
    let length = i32::try_from(payload.len() + 4).expect("test messages are far below 2 GiB");
    let mut message = Vec::with_capacity(payload.len() + 5);
    message.push(tag);
    message.extend_from_slice(&length.to_be_bytes());
    message.extend_from_slice(payload);
    message
}

/// The startup packet: length, protocol 3.0, then `name\0value\0` pairs and a final `\0`.
pub fn startup(parameters: &[(&str, &str)]) -> Vec<u8> {
    let mut body = PROTOCOL_VERSION_3.to_be_bytes().to_vec();
    for (name, value) in parameters {
        push_cstring(&mut body, name.as_bytes());
        push_cstring(&mut body, value.as_bytes());
    }
    body.push(0);
    let length = i32::try_from(body.len() + 4).expect("startup packets are small");
    let mut packet = length.to_be_bytes().to_vec();
    packet.extend_from_slice(&body);
    packet
}

/// The SSLRequest and GSSENCRequest codes (sent in place of a protocol version).
pub const SSL_REQUEST_CODE: i32 = 80_877_103;
pub const GSSENC_REQUEST_CODE: i32 = 80_877_104;

/// An 8-byte request packet: SSLRequest, GSSENCRequest, or any "version" a test wants.
pub fn request_packet(code: i32) -> Vec<u8> {
    let mut packet = 8i32.to_be_bytes().to_vec();
    packet.extend_from_slice(&code.to_be_bytes());
    packet
}

/// 'Q': a simple query; `sql` is raw bytes so that tests can send invalid UTF-8.
pub fn query(sql: &[u8]) -> Vec<u8> {
    let mut payload = sql.to_vec();
    payload.push(0);
    frame(b'Q', &payload)
}

/// 'P': Parse of an unnamed statement with the given parameter type OIDs.
pub fn parse(sql: &str, parameter_types: &[u32]) -> Vec<u8> {
    let mut payload = Vec::new();
    push_cstring(&mut payload, b"");
    push_cstring(&mut payload, sql.as_bytes());
    let count = i16::try_from(parameter_types.len()).expect("few parameters");
    payload.extend_from_slice(&count.to_be_bytes());
    for oid in parameter_types {
        payload.extend_from_slice(&oid.to_be_bytes());
    }
    frame(b'P', &payload)
}

/// 'B': Bind of the unnamed statement to the unnamed portal, text parameters, text results.
pub fn bind_text(parameters: &[Option<&str>]) -> Vec<u8> {
    let mut payload = Vec::new();
    push_cstring(&mut payload, b"");
    push_cstring(&mut payload, b"");
    payload.extend_from_slice(&0i16.to_be_bytes());
    let count = i16::try_from(parameters.len()).expect("few parameters");
    payload.extend_from_slice(&count.to_be_bytes());
    for parameter in parameters {
        match parameter {
            None => payload.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(value) => {
                let length = i32::try_from(value.len()).expect("small parameters");
                payload.extend_from_slice(&length.to_be_bytes());
                payload.extend_from_slice(value.as_bytes());
            }
        }
    }
    payload.extend_from_slice(&0i16.to_be_bytes());
    frame(b'B', &payload)
}

/// 'D' for the unnamed portal.
pub fn describe_portal() -> Vec<u8> {
    frame(b'D', b"P\0")
}

/// 'E': Execute of the unnamed portal with a row limit (0 = all rows).
pub fn execute(max_rows: i32) -> Vec<u8> {
    let mut payload = vec![0u8];
    payload.extend_from_slice(&max_rows.to_be_bytes());
    frame(b'E', &payload)
}

/// 'S': Sync.
pub fn sync() -> Vec<u8> {
    frame(b'S', &[])
}

/// 'X': Terminate.
pub fn terminate() -> Vec<u8> {
    frame(b'X', &[])
}

/// 'p': SASLInitialResponse with the mechanism name and the client-first message.
pub fn sasl_initial_response(mechanism: &str, data: &[u8]) -> Vec<u8> {
    let mut payload = Vec::new();
    push_cstring(&mut payload, mechanism.as_bytes());
    let length = i32::try_from(data.len()).expect("small SASL data");
    payload.extend_from_slice(&length.to_be_bytes());
    payload.extend_from_slice(data);
    frame(b'p', &payload)
}

/// 'p': SASLResponse (the client-final message) or a cleartext password (with its `\0`).
pub fn password_message(data: &[u8]) -> Vec<u8> {
    frame(b'p', data)
}

fn push_cstring(buffer: &mut Vec<u8>, bytes: &[u8]) {
    buffer.extend_from_slice(bytes);
    buffer.push(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_error_response_fields() {
        let payload = b"SERROR\0C22012\0Mdivision by zero\0\0";
        let message = BackendMessage::decode(b'E', payload);
        assert_eq!(message.sqlstate(), Some("22012"));
    }

    #[test]
    fn frames_count_their_own_length() {
        assert_eq!(query(b"x"), vec![b'Q', 0, 0, 0, 6, b'x', 0]);
        assert_eq!(&startup(&[])[..4], &9i32.to_be_bytes());
    }
}
