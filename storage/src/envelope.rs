//! The envelope shared by the small JSON files of a data directory (catalog, manifest):
//!
//! ```text
//! magic (8 bytes), version:u32 LE, crc:u32 LE (CRC32C of the body), len:u64 LE, body
//! ```
//!
//! The body is JSON written with serde; the envelope tells a custos file of the right kind and
//! version from anything else, and a damaged or truncated file from a good one.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Result, StorageError};

pub const HEADER_LEN: usize = 24;

/// What a file of one kind is called in errors, its magic and its version.
pub struct Kind {
    pub name: &'static str,
    pub magic: &'static [u8; 8],
    pub version: u32,
}

/// `value` as JSON in the envelope of `kind`.
pub fn encode<T: Serialize>(kind: &Kind, value: &T) -> Vec<u8> {
    // Serialising these plain structs cannot fail (no maps with non-string keys at the top,
    // no custom serialisers that error); an empty object would be caught on reading.
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(kind.magic);
    out.extend_from_slice(&kind.version.to_le_bytes());
    out.extend_from_slice(&crc32c::crc32c(&body).to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// Checks the envelope of `kind` and reads its JSON body; `origin` names the file in errors.
pub fn decode<T: DeserializeOwned>(kind: &Kind, bytes: &[u8], origin: &Path) -> Result<T> {
    let corrupt =
        |offset: usize, reason: String| StorageError::corrupt(origin, offset as u64, reason);
    if bytes.len() < HEADER_LEN {
        return Err(corrupt(0, format!("{} shorter than its header", kind.name)));
    }
    if &bytes[..8] != kind.magic {
        return Err(corrupt(
            0,
            format!("not a custos {} (bad magic)", kind.name),
        ));
    }
    let word =
        |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let version = word(8);
    if version != kind.version {
        return Err(StorageError::UnsupportedVersion {
            path: origin.to_path_buf(),
            found: version,
            supported: kind.version,
        });
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&bytes[16..24]);
    let len = u64::from_le_bytes(len);
    let body = &bytes[HEADER_LEN..];
    if body.len() as u64 != len {
        return Err(corrupt(
            HEADER_LEN,
            format!(
                "{} body is {} bytes, its header says {len}",
                kind.name,
                body.len()
            ),
        ));
    }
    if crc32c::crc32c(body) != word(12) {
        return Err(corrupt(HEADER_LEN, format!("{} CRC mismatch", kind.name)));
    }
    serde_json::from_slice(body)
        .map_err(|e| corrupt(HEADER_LEN, format!("{} unreadable: {e}", kind.name)))
}
