//! COPY's binary format (PostgreSQL's "PGCOPY" file format):
//!
//! ```text
//! header:  "PGCOPY\n\xff\r\n\0" (11 bytes), Int32 flags (bit 16: OIDs; bits 17-31 critical),
//!          Int32 length of the header extension, then that many bytes (skipped)
//! tuple:   Int16 field count, then per field Int32 length (-1 for NULL) and the value in its
//!          binary wire format
//! trailer: Int16 -1
//! ```

use sql::error::code;
use sql::SqlError;

pub const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

fn bad_format(message: impl Into<String>) -> SqlError {
    SqlError::new(code::BAD_COPY_FILE_FORMAT, message)
}

/// Parses the file header at the start of `data`: `Ok(Some(length))` once it is complete,
/// `Ok(None)` while more data is needed.
pub fn parse_header(data: &[u8]) -> Result<Option<usize>, SqlError> {
    let known = data.len().min(SIGNATURE.len());
    if data[..known] != SIGNATURE[..known] {
        return Err(bad_format("COPY file signature not recognized"));
    }
    if data.len() < 19 {
        return Ok(None);
    }
    let flags = u32::from_be_bytes(data[11..15].try_into().expect("4 bytes"));
    if flags & (1 << 16) != 0 {
        return Err(bad_format("invalid COPY file header (WITH OIDS)"));
    }
    if flags & 0xfffe_0000 != 0 {
        return Err(bad_format(
            "unrecognized critical flags in COPY file header",
        ));
    }
    let extension = i32::from_be_bytes(data[15..19].try_into().expect("4 bytes"));
    let extension = usize::try_from(extension)
        .map_err(|_| bad_format("invalid COPY file header (missing length)"))?;
    let total = 19usize.saturating_add(extension);
    Ok((data.len() >= total).then_some(total))
}

/// One tuple parsed out of the stream.
#[derive(Debug)]
pub enum Tuple {
    /// The field values (`None` for NULL) and the bytes the tuple took.
    Row(Vec<Option<Vec<u8>>>, usize),
    /// The -1 trailer (2 bytes).
    Trailer,
}

/// Parses the tuple at the start of `data`; `Ok(None)` while it is incomplete.
pub fn parse_tuple(data: &[u8], expected_fields: usize) -> Result<Option<Tuple>, SqlError> {
    if data.len() < 2 {
        return Ok(None);
    }
    let count = i16::from_be_bytes([data[0], data[1]]);
    if count == -1 {
        return Ok(Some(Tuple::Trailer));
    }
    if count < 0 || count as usize != expected_fields {
        return Err(bad_format(format!(
            "row field count is {count}, expected {expected_fields}"
        )));
    }
    // First pass: are all fields here? (Cheap: it only walks the lengths.)
    let mut position = 2usize;
    for _ in 0..count {
        let Some(raw) = data.get(position..position + 4) else {
            return Ok(None);
        };
        let length = i32::from_be_bytes(raw.try_into().expect("4 bytes"));
        position += 4;
        if length == -1 {
            continue;
        }
        let length = usize::try_from(length).map_err(|_| bad_format("invalid field size"))?;
        position = position.saturating_add(length);
        if position > data.len() {
            return Ok(None);
        }
    }
    let mut fields = Vec::with_capacity(count as usize);
    let mut at = 2usize;
    for _ in 0..count {
        let length = i32::from_be_bytes(data[at..at + 4].try_into().expect("4 bytes"));
        at += 4;
        if length == -1 {
            fields.push(None);
        } else {
            let length = length as usize;
            fields.push(Some(data[at..at + length].to_vec()));
            at += length;
        }
    }
    Ok(Some(Tuple::Row(fields, at)))
}

/// The header COPY TO writes: signature, no flags, no extension.
pub fn header() -> Vec<u8> {
    let mut out = SIGNATURE.to_vec();
    out.extend_from_slice(&[0; 8]);
    out
}

/// The trailer COPY TO writes.
pub fn trailer() -> [u8; 2] {
    (-1i16).to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_checked_incrementally() {
        let full = header();
        assert_eq!(parse_header(&full[..5]).unwrap(), None);
        assert_eq!(parse_header(&full).unwrap(), Some(19));
        assert!(parse_header(b"PGCOPZ").is_err());
        let mut with_oids = full.clone();
        with_oids[12] = 1;
        assert!(parse_header(&with_oids).is_err());
        let mut extension = full.clone();
        extension[18] = 3;
        assert_eq!(parse_header(&extension).unwrap(), None);
        extension.extend_from_slice(b"abc");
        assert_eq!(parse_header(&extension).unwrap(), Some(22));
    }

    #[test]
    fn tuples_wait_for_all_their_bytes() {
        let tuple = [0, 2, 0, 0, 0, 1, 7, 0xff, 0xff, 0xff, 0xff];
        for cut in 0..tuple.len() {
            assert!(parse_tuple(&tuple[..cut], 2).unwrap().is_none(), "{cut}");
        }
        let Some(Tuple::Row(fields, used)) = parse_tuple(&tuple, 2).unwrap() else {
            panic!()
        };
        assert_eq!(fields, vec![Some(vec![7]), None]);
        assert_eq!(used, tuple.len());
        assert!(matches!(
            parse_tuple(&[0xff, 0xff], 2).unwrap(),
            Some(Tuple::Trailer)
        ));
        assert_eq!(parse_tuple(&tuple, 3).unwrap_err().code, "22P04");
        assert!(parse_tuple(&[0, 1, 0xff, 0xff, 0xff, 0xfe], 1).is_err());
    }
}
