//! Writing what the server sends: every backend message of protocol 3.0 that custos uses.
//!
//! Messages are assembled in an output buffer and written to the socket when it grows past
//! [`FLUSH_THRESHOLD`] or when the connection flushes (before it blocks reading, at
//! ReadyForQuery, on Flush). Each message is built in place: the type byte, a length
//! placeholder, the body, then the length is patched, so no message is copied twice.

use std::io::{self, Write};

use sql::SqlError;

/// Bytes buffered before they are pushed to the socket even without an explicit flush.
pub const FLUSH_THRESHOLD: usize = 64 * 1024;

/// A result column as RowDescription sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDescription {
    pub name: String,
    pub table_oid: u32,
    pub column_number: i16,
    pub type_oid: u32,
    pub type_len: i16,
    pub type_modifier: i32,
    /// 0 text, 1 binary.
    pub format: i16,
}

/// Severity of an ErrorResponse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Fatal,
}

impl Severity {
    fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "ERROR",
            Severity::Fatal => "FATAL",
        }
    }
}

/// Buffers backend messages for one connection.
pub struct BackendWriter<W: Write> {
    inner: W,
    buffer: Vec<u8>,
    /// Start of the message being built (where its type byte is).
    message_start: usize,
    /// A message was begun and not ended.
    open: bool,
}

impl<W: Write> BackendWriter<W> {
    pub fn new(inner: W) -> BackendWriter<W> {
        BackendWriter {
            inner,
            buffer: Vec::with_capacity(8 * 1024),
            message_start: 0,
            open: false,
        }
    }

    /// The bytes buffered and not yet written (for tests).
    #[cfg(test)]
    pub fn pending(&self) -> &[u8] {
        &self.buffer
    }

    #[cfg(test)]
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// Writes everything buffered to the socket.
    pub fn flush(&mut self) -> io::Result<()> {
        if !self.buffer.is_empty() {
            self.inner.write_all(&self.buffer)?;
            self.buffer.clear();
        }
        self.inner.flush()
    }

    /// A single unframed byte (the answer to SSLRequest / GSSENCRequest).
    pub fn raw_byte(&mut self, byte: u8) -> io::Result<()> {
        self.buffer.push(byte);
        self.flush()
    }

    fn begin(&mut self, tag: u8) {
        debug_assert!(!self.open, "a message was begun inside another");
        self.open = true;
        self.message_start = self.buffer.len();
        self.buffer.push(tag);
        self.buffer.extend_from_slice(&[0, 0, 0, 0]);
    }

    fn end(&mut self) -> io::Result<()> {
        self.open = false;
        let length = self.buffer.len() - self.message_start - 1;
        let length = u32::try_from(length)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "message too long"))?;
        let at = self.message_start + 1;
        self.buffer[at..at + 4].copy_from_slice(&length.to_be_bytes());
        if self.buffer.len() >= FLUSH_THRESHOLD {
            self.flush()?;
        }
        Ok(())
    }

    fn put_i16(&mut self, value: i16) {
        self.buffer.extend_from_slice(&value.to_be_bytes());
    }

    fn put_i32(&mut self, value: i32) {
        self.buffer.extend_from_slice(&value.to_be_bytes());
    }

    fn put_cstr(&mut self, text: &str) {
        // A NUL inside would end the string early on the client's side: drop it.
        if text.as_bytes().contains(&0) {
            self.buffer
                .extend(text.as_bytes().iter().copied().filter(|&b| b != 0));
        } else {
            self.buffer.extend_from_slice(text.as_bytes());
        }
        self.buffer.push(0);
    }

    fn empty_message(&mut self, tag: u8) -> io::Result<()> {
        self.begin(tag);
        self.end()
    }

    pub fn authentication_ok(&mut self) -> io::Result<()> {
        self.begin(b'R');
        self.put_i32(0);
        self.end()
    }

    /// AuthenticationSASL with the mechanisms offered.
    pub fn authentication_sasl(&mut self, mechanisms: &[&str]) -> io::Result<()> {
        self.begin(b'R');
        self.put_i32(10);
        for mechanism in mechanisms {
            self.put_cstr(mechanism);
        }
        self.buffer.push(0);
        self.end()
    }

    pub fn authentication_sasl_continue(&mut self, data: &[u8]) -> io::Result<()> {
        self.begin(b'R');
        self.put_i32(11);
        self.buffer.extend_from_slice(data);
        self.end()
    }

    pub fn authentication_sasl_final(&mut self, data: &[u8]) -> io::Result<()> {
        self.begin(b'R');
        self.put_i32(12);
        self.buffer.extend_from_slice(data);
        self.end()
    }

    pub fn parameter_status(&mut self, name: &str, value: &str) -> io::Result<()> {
        self.begin(b'S');
        self.put_cstr(name);
        self.put_cstr(value);
        self.end()
    }

    pub fn backend_key_data(&mut self, process_id: i32, secret_key: i32) -> io::Result<()> {
        self.begin(b'K');
        self.put_i32(process_id);
        self.put_i32(secret_key);
        self.end()
    }

    /// NegotiateProtocolVersion: the newest minor version supported and the protocol options
    /// (`_pq_.*`) not recognised.
    pub fn negotiate_protocol_version(
        &mut self,
        newest_minor: i32,
        unrecognized: &[String],
    ) -> io::Result<()> {
        self.begin(b'v');
        self.put_i32(newest_minor);
        self.put_i32(unrecognized.len() as i32);
        for option in unrecognized {
            self.put_cstr(option);
        }
        self.end()
    }

    pub fn ready_for_query(&mut self, status: u8) -> io::Result<()> {
        self.buffer.extend_from_slice(&[b'Z', 0, 0, 0, 5, status]);
        if self.buffer.len() >= FLUSH_THRESHOLD {
            self.flush()?;
        }
        Ok(())
    }

    pub fn row_description(&mut self, fields: &[FieldDescription]) -> io::Result<()> {
        self.begin(b'T');
        self.put_i16(fields.len() as i16);
        for field in fields {
            self.put_cstr(&field.name);
            self.put_i32(field.table_oid as i32);
            self.put_i16(field.column_number);
            self.put_i32(field.type_oid as i32);
            self.put_i16(field.type_len);
            self.put_i32(field.type_modifier);
            self.put_i16(field.format);
        }
        self.end()
    }

    pub fn parameter_description(&mut self, type_oids: &[u32]) -> io::Result<()> {
        self.begin(b't');
        self.put_i16(type_oids.len() as i16);
        for oid in type_oids {
            self.put_i32(*oid as i32);
        }
        self.end()
    }

    /// Starts a DataRow of `columns` values; follow with [`Self::data_value`] /
    /// [`Self::data_null`] / [`Self::data_value_with`] per column, then [`Self::end_data_row`].
    pub fn begin_data_row(&mut self, columns: usize) {
        self.begin(b'D');
        self.put_i16(columns as i16);
    }

    pub fn data_null(&mut self) {
        self.put_i32(-1);
    }

    pub fn data_value(&mut self, bytes: &[u8]) {
        self.put_i32(bytes.len() as i32);
        self.buffer.extend_from_slice(bytes);
    }

    /// Writes one value produced in place by `encode` (its length is patched afterwards).
    pub fn data_value_with<E>(
        &mut self,
        encode: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
    ) -> Result<(), E> {
        let at = self.buffer.len();
        self.buffer.extend_from_slice(&[0, 0, 0, 0]);
        encode(&mut self.buffer)?;
        let length = (self.buffer.len() - at - 4) as i32;
        self.buffer[at..at + 4].copy_from_slice(&length.to_be_bytes());
        Ok(())
    }

    /// Writes one value produced in place by `encode` if it returns `true`; if it returns
    /// `false` (having written nothing), nothing is written and `false` is returned.
    pub fn data_value_if(&mut self, encode: impl FnOnce(&mut Vec<u8>) -> bool) -> bool {
        let at = self.buffer.len();
        self.buffer.extend_from_slice(&[0, 0, 0, 0]);
        if !encode(&mut self.buffer) {
            self.buffer.truncate(at);
            return false;
        }
        let length = (self.buffer.len() - at - 4) as i32;
        self.buffer[at..at + 4].copy_from_slice(&length.to_be_bytes());
        true
    }

    /// Abandons the message being built, if any (a value failed to encode, or a panic
    /// interrupted it), so that no partial message reaches the client.
    pub fn abandon_message(&mut self) {
        if self.open {
            self.buffer.truncate(self.message_start);
            self.open = false;
        }
    }

    pub fn end_data_row(&mut self) -> io::Result<()> {
        self.end()
    }

    pub fn command_complete(&mut self, tag: &str) -> io::Result<()> {
        self.begin(b'C');
        self.put_cstr(tag);
        self.end()
    }

    pub fn empty_query_response(&mut self) -> io::Result<()> {
        self.empty_message(b'I')
    }

    pub fn parse_complete(&mut self) -> io::Result<()> {
        self.empty_message(b'1')
    }

    pub fn bind_complete(&mut self) -> io::Result<()> {
        self.empty_message(b'2')
    }

    pub fn close_complete(&mut self) -> io::Result<()> {
        self.empty_message(b'3')
    }

    pub fn no_data(&mut self) -> io::Result<()> {
        self.empty_message(b'n')
    }

    pub fn portal_suspended(&mut self) -> io::Result<()> {
        self.empty_message(b's')
    }

    /// CopyInResponse (`b'G'`) or CopyOutResponse (`b'H'`): overall format and one format
    /// per column.
    pub fn copy_response(&mut self, tag: u8, binary: bool, columns: usize) -> io::Result<()> {
        self.begin(tag);
        self.buffer.push(u8::from(binary));
        self.put_i16(columns as i16);
        for _ in 0..columns {
            self.put_i16(i16::from(binary));
        }
        self.end()
    }

    pub fn copy_data(&mut self, data: &[u8]) -> io::Result<()> {
        self.begin(b'd');
        self.buffer.extend_from_slice(data);
        self.end()
    }

    pub fn copy_done(&mut self) -> io::Result<()> {
        self.empty_message(b'c')
    }

    /// ErrorResponse with every field PostgreSQL fills that the error has; `context` goes in
    /// the W (where) field.
    pub fn error_response(
        &mut self,
        severity: Severity,
        error: &SqlError,
        context: Option<&str>,
    ) -> io::Result<()> {
        self.begin(b'E');
        self.fields(
            severity.as_str(),
            error.code,
            &error.message,
            error.detail.as_deref(),
            error.hint.as_deref(),
            error.position,
            context,
        );
        self.end()
    }

    /// NoticeResponse (`NOTICE`, `WARNING`, `INFO`...).
    pub fn notice_response(
        &mut self,
        severity: &str,
        code: &str,
        message: &str,
        detail: Option<&str>,
        hint: Option<&str>,
    ) -> io::Result<()> {
        self.begin(b'N');
        self.fields(severity, code, message, detail, hint, None, None);
        self.end()
    }

    #[allow(clippy::too_many_arguments)]
    fn fields(
        &mut self,
        severity: &str,
        code: &str,
        message: &str,
        detail: Option<&str>,
        hint: Option<&str>,
        position: Option<u32>,
        context: Option<&str>,
    ) {
        for tag in [b'S', b'V'] {
            self.buffer.push(tag);
            self.put_cstr(severity);
        }
        self.buffer.push(b'C');
        self.put_cstr(code);
        self.buffer.push(b'M');
        self.put_cstr(message);
        if let Some(detail) = detail {
            self.buffer.push(b'D');
            self.put_cstr(detail);
        }
        if let Some(hint) = hint {
            self.buffer.push(b'H');
            self.put_cstr(hint);
        }
        if let Some(position) = position {
            self.buffer.push(b'P');
            self.put_cstr(&position.to_string());
        }
        if let Some(context) = context {
            self.buffer.push(b'W');
            self.put_cstr(context);
        }
        self.buffer.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_framed_with_their_length() {
        let mut writer = BackendWriter::new(Vec::new());
        writer.command_complete("SELECT 1").unwrap();
        writer.ready_for_query(b'I').unwrap();
        assert_eq!(
            writer.pending(),
            b"C\0\0\0\x0dSELECT 1\0Z\0\0\0\x05I".as_slice()
        );
        writer.flush().unwrap();
        assert!(writer.pending().is_empty());
        assert_eq!(writer.get_ref().len(), 20);
    }

    #[test]
    fn data_rows_carry_nulls_and_values() {
        let mut writer = BackendWriter::new(Vec::new());
        writer.begin_data_row(2);
        writer.data_null();
        writer
            .data_value_with(|out| {
                out.extend_from_slice(b"42");
                Ok::<(), ()>(())
            })
            .unwrap();
        writer.end_data_row().unwrap();
        assert_eq!(
            writer.pending(),
            b"D\0\0\0\x10\0\x02\xff\xff\xff\xff\0\0\0\x0242".as_slice()
        );
    }

    #[test]
    fn error_response_fields() {
        let mut writer = BackendWriter::new(Vec::new());
        let error = SqlError::new("42P01", "relation \"t\" does not exist").with_position(15);
        writer
            .error_response(Severity::Error, &error, Some("COPY t, line 1"))
            .unwrap();
        let body = &writer.pending()[5..];
        assert_eq!(
            body,
            b"SERROR\0VERROR\0C42P01\0Mrelation \"t\" does not exist\0P15\0WCOPY t, line 1\0\0"
                .as_slice()
        );
    }

    #[test]
    fn row_description_layout() {
        let mut writer = BackendWriter::new(Vec::new());
        writer
            .row_description(&[FieldDescription {
                name: "id".into(),
                table_oid: 16384,
                column_number: 1,
                type_oid: 23,
                type_len: 4,
                type_modifier: -1,
                format: 0,
            }])
            .unwrap();
        assert_eq!(
            writer.pending(),
            b"T\0\0\0\x1b\0\x01id\0\0\0\x40\0\0\x01\0\0\0\x17\0\x04\xff\xff\xff\xff\0\0".as_slice()
        );
    }
}
