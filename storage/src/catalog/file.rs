//! Catalog encoding (format version 1), used both in WAL catalog records and in the catalog
//! file a checkpoint writes.
//!
//! ```text
//! magic "CUSTCAT\0" (8 bytes)
//! version:u32 LE
//! crc:u32 LE        CRC32C of the body
//! len:u64 LE        length of the body
//! body              the catalog as JSON (serde), len bytes
//! ```
//!
//! JSON keeps the catalog readable by a person with `custos inspect` and lets later versions
//! add fields with defaults; the CRC catches a damaged file.

use std::path::Path;

use super::Catalog;
use crate::error::{Result, StorageError};

pub const CATALOG_MAGIC: &[u8; 8] = b"CUSTCAT\0";
pub const CATALOG_VERSION: u32 = 1;
const HEADER_LEN: usize = 24;

impl Catalog {
    /// The catalog in its versioned, checksummed encoding.
    pub fn encode(&self) -> Vec<u8> {
        let body = serde_json::to_vec(self).unwrap_or_else(|_| b"{}".to_vec());
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        out.extend_from_slice(CATALOG_MAGIC);
        out.extend_from_slice(&CATALOG_VERSION.to_le_bytes());
        out.extend_from_slice(&crc32c::crc32c(&body).to_le_bytes());
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(&body);
        out
    }

    /// Reads an encoded catalog; `origin` names where it came from in errors.
    pub fn decode(bytes: &[u8], origin: &Path) -> Result<Catalog> {
        if bytes.len() < HEADER_LEN {
            return Err(StorageError::corrupt(
                origin,
                0,
                "catalog shorter than its header",
            ));
        }
        if &bytes[..8] != CATALOG_MAGIC {
            return Err(StorageError::corrupt(
                origin,
                0,
                "not a custos catalog (bad magic)",
            ));
        }
        let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        if version != CATALOG_VERSION {
            return Err(StorageError::UnsupportedVersion {
                path: origin.to_path_buf(),
                found: version,
                supported: CATALOG_VERSION,
            });
        }
        let crc = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]);
        let mut len_bytes = [0u8; 8];
        len_bytes.copy_from_slice(&bytes[16..24]);
        let len = u64::from_le_bytes(len_bytes);
        let body = &bytes[HEADER_LEN..];
        if body.len() as u64 != len {
            return Err(StorageError::corrupt(
                origin,
                HEADER_LEN as u64,
                format!("catalog body is {} bytes, header says {len}", body.len()),
            ));
        }
        if crc32c::crc32c(body) != crc {
            return Err(StorageError::corrupt(
                origin,
                HEADER_LEN as u64,
                "catalog CRC mismatch",
            ));
        }
        let catalog: Catalog = serde_json::from_slice(body).map_err(|e| {
            StorageError::corrupt(
                origin,
                HEADER_LEN as u64,
                format!("catalog unreadable: {e}"),
            )
        })?;
        catalog
            .validate()
            .map_err(|reason| StorageError::corrupt(origin, HEADER_LEN as u64, reason))?;
        Ok(catalog)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::*;
    use crate::types::{DataType, Value};

    fn sample() -> Catalog {
        let mut c = Catalog::default();
        let schema = c.allocate_oid();
        c.schemas.insert(
            schema,
            SchemaDef {
                oid: schema,
                name: "public".into(),
                owner: 10,
            },
        );
        let table = c.allocate_oid();
        c.tables.insert(
            table,
            TableDef {
                oid: table,
                schema,
                name: "customers".into(),
                columns: vec![
                    ColumnDef {
                        attnum: 1,
                        name: "id".into(),
                        data_type: DataType::Int8,
                        not_null: true,
                        ..Default::default()
                    },
                    ColumnDef {
                        attnum: 2,
                        name: "embedding".into(),
                        data_type: DataType::Vector(Some(3)),
                        missing_value: Value::Vector(vec![0.0, 1.0, 2.0]),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            },
        );
        let index = c.allocate_oid();
        c.indexes.insert(
            index,
            IndexDef {
                oid: index,
                name: "customers_pkey".into(),
                schema,
                table,
                columns: vec![1],
                unique: true,
                primary: true,
                ..Default::default()
            },
        );
        c.comments.push(CommentDef {
            object_kind: "table".into(),
            object: table,
            column: 0,
            text: "people who buy".into(),
        });
        c
    }

    #[test]
    fn round_trips() {
        let c = sample();
        let back = Catalog::decode(&c.encode(), Path::new("x")).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn corruption_and_truncation_are_detected() {
        let bytes = sample().encode();
        for cut in 0..bytes.len() {
            assert!(Catalog::decode(&bytes[..cut], Path::new("x")).is_err());
        }
        let mut flipped = bytes.clone();
        let last = flipped.len() - 2;
        flipped[last] ^= 1;
        assert!(matches!(
            Catalog::decode(&flipped, Path::new("x")),
            Err(StorageError::Corrupt { .. })
        ));
        let mut future = bytes;
        future[8] = 2;
        assert!(matches!(
            Catalog::decode(&future, Path::new("x")),
            Err(StorageError::UnsupportedVersion { found: 2, .. })
        ));
    }

    #[test]
    fn invalid_catalogs_are_refused() {
        let mut c = sample();
        c.indexes.values_mut().for_each(|i| i.columns = vec![9]);
        assert!(c.validate().is_err());
    }
}
