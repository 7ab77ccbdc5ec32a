//! A cursor over the body of one frontend message, with checked reads.
//!
//! Every read checks the remaining length first, so a malformed message produces PostgreSQL's
//! protocol-violation error (`08P01 insufficient data left in message`, `invalid string in
//! message`) instead of a panic or an out-of-bounds read. Strings must be valid UTF-8 (the
//! only client encoding custos accepts); invalid bytes give `22021 invalid byte sequence for
//! encoding "UTF8"`, as PostgreSQL's encoding check does.

use sql::error::code;
use sql::SqlError;

/// Reads fields of a message body front to back.
pub struct Body<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Body<'a> {
    pub fn new(bytes: &'a [u8]) -> Body<'a> {
        Body { bytes, position: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.position
    }

    fn insufficient() -> SqlError {
        SqlError::new(
            code::PROTOCOL_VIOLATION,
            "insufficient data left in message",
        )
    }

    pub fn bytes(&mut self, count: usize) -> Result<&'a [u8], SqlError> {
        if count > self.remaining() {
            return Err(Self::insufficient());
        }
        let slice = &self.bytes[self.position..self.position + count];
        self.position += count;
        Ok(slice)
    }

    pub fn u8(&mut self) -> Result<u8, SqlError> {
        Ok(self.bytes(1)?[0])
    }

    pub fn i16(&mut self) -> Result<i16, SqlError> {
        let b = self.bytes(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    pub fn i32(&mut self) -> Result<i32, SqlError> {
        let b = self.bytes(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn u32(&mut self) -> Result<u32, SqlError> {
        Ok(self.i32()? as u32)
    }

    /// A count of following items (Int16), refused when negative.
    pub fn count16(&mut self) -> Result<usize, SqlError> {
        let n = self.i16()?;
        usize::try_from(n).map_err(|_| {
            SqlError::new(
                code::PROTOCOL_VIOLATION,
                format!("invalid count {n} in message"),
            )
        })
    }

    /// A NUL-terminated string, as raw bytes (without the NUL).
    pub fn cstr_bytes(&mut self) -> Result<&'a [u8], SqlError> {
        let rest = &self.bytes[self.position..];
        let Some(end) = rest.iter().position(|&b| b == 0) else {
            return Err(SqlError::new(
                code::PROTOCOL_VIOLATION,
                "invalid string in message",
            ));
        };
        self.position += end + 1;
        Ok(&rest[..end])
    }

    /// A NUL-terminated UTF-8 string.
    pub fn cstr(&mut self) -> Result<&'a str, SqlError> {
        let raw = self.cstr_bytes()?;
        utf8(raw)
    }

    /// All bytes not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        let slice = &self.bytes[self.position..];
        self.position = self.bytes.len();
        slice
    }

    /// Checks that the whole body was consumed (PostgreSQL's `pq_getmsgend`).
    pub fn finish(&self) -> Result<(), SqlError> {
        if self.remaining() != 0 {
            return Err(SqlError::new(
                code::PROTOCOL_VIOLATION,
                "invalid message format",
            ));
        }
        Ok(())
    }
}

/// Checks that `raw` is UTF-8; the error names the offending bytes as PostgreSQL does.
pub fn utf8(raw: &[u8]) -> Result<&str, SqlError> {
    std::str::from_utf8(raw).map_err(|e| invalid_utf8(raw, e.valid_up_to()))
}

/// `invalid byte sequence for encoding "UTF8": 0xc3 0x28` for the sequence at `at`.
pub fn invalid_utf8(raw: &[u8], at: usize) -> SqlError {
    let lead = raw.get(at).copied().unwrap_or(0);
    // The length the lead byte announces (PostgreSQL's pg_utf_mblen), clipped to the input.
    let announced = match lead {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    };
    let end = (at + announced).min(raw.len());
    let shown: Vec<String> = raw[at..end].iter().map(|b| format!("0x{b:02x}")).collect();
    SqlError::new(
        code::CHARACTER_NOT_IN_REPERTOIRE,
        format!(
            "invalid byte sequence for encoding \"UTF8\": {}",
            shown.join(" ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_in_order_and_checks_the_end() {
        let raw = [0, 1, 0, 0, 0, 2, b'a', b'b', 0, 9];
        let mut body = Body::new(&raw);
        assert_eq!(body.i16().unwrap(), 1);
        assert_eq!(body.i32().unwrap(), 2);
        assert_eq!(body.cstr().unwrap(), "ab");
        assert!(body.finish().is_err());
        assert_eq!(body.u8().unwrap(), 9);
        body.finish().unwrap();
        assert_eq!(body.u8().unwrap_err().code, code::PROTOCOL_VIOLATION);
    }

    #[test]
    fn unterminated_string_is_a_protocol_violation() {
        let mut body = Body::new(b"abc");
        let error = body.cstr().unwrap_err();
        assert_eq!(error.code, code::PROTOCOL_VIOLATION);
        assert_eq!(error.message, "invalid string in message");
    }

    #[test]
    fn invalid_utf8_names_the_bytes_like_postgres() {
        let error = utf8(b"ok \xc3\x28 x").unwrap_err();
        assert_eq!(error.code, "22021");
        assert_eq!(
            error.message,
            "invalid byte sequence for encoding \"UTF8\": 0xc3 0x28"
        );
        let error = utf8(b"\xff").unwrap_err();
        assert_eq!(
            error.message,
            "invalid byte sequence for encoding \"UTF8\": 0xff"
        );
        let error = utf8(b"a\xe2\x82").unwrap_err();
        assert_eq!(
            error.message,
            "invalid byte sequence for encoding \"UTF8\": 0xe2 0x82"
        );
    }

    #[test]
    fn negative_counts_are_refused() {
        let mut body = Body::new(&[0xff, 0xff]);
        assert!(body.count16().is_err());
    }
}
