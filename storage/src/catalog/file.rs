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

const KIND: crate::envelope::Kind = crate::envelope::Kind {
    name: "catalog",
    magic: CATALOG_MAGIC,
    version: CATALOG_VERSION,
};

impl Catalog {
    /// The catalog in its versioned, checksummed encoding.
    pub fn encode(&self) -> Vec<u8> {
        crate::envelope::encode(&KIND, self)
    }

    /// Reads an encoded catalog; `origin` names where it came from in errors.
    pub fn decode(bytes: &[u8], origin: &Path) -> Result<Catalog> {
        let catalog: Catalog = crate::envelope::decode(&KIND, bytes, origin)?;
        catalog.validate().map_err(|reason| {
            StorageError::corrupt(origin, crate::envelope::HEADER_LEN as u64, reason)
        })?;
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
