//! What the vector tests share: the `vector` type as a tokio-postgres parameter and result
//! (pgvector's binary form: int16 dimensions, int16 unused, big-endian float4s), a reader for
//! the `.npy` embeddings in the shared data folder, exact cosine distances, and loading the
//! support-ticket embeddings into a table with batched binary INSERTs.
#![allow(dead_code)]

use std::error::Error;
use std::path::Path;

use custos_tests::{HarnessError, HarnessResult};
use tokio_postgres::types::private::BytesMut;
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};
use tokio_postgres::Client;

/// A `vector` value.
#[derive(Debug, Clone, PartialEq)]
pub struct PgVector(pub Vec<f32>);

impl ToSql for PgVector {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        let dim = i16::try_from(self.0.len())?;
        out.extend_from_slice(&dim.to_be_bytes());
        out.extend_from_slice(&0i16.to_be_bytes());
        for x in &self.0 {
            out.extend_from_slice(&x.to_be_bytes());
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        ty.name() == "vector"
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for PgVector {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<PgVector, Box<dyn Error + Sync + Send>> {
        let header = raw.get(..4).ok_or("vector shorter than its header")?;
        let dim = i16::from_be_bytes([header[0], header[1]]) as usize;
        let body = &raw[4..];
        if body.len() != dim * 4 {
            return Err(format!("vector of {dim} dimensions has {} bytes", body.len()).into());
        }
        Ok(PgVector(
            body.chunks_exact(4)
                .map(|b| f32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        ))
    }

    fn accepts(ty: &Type) -> bool {
        ty.name() == "vector"
    }
}

/// A float32 matrix from a `.npy` file (little-endian `<f4`, C order, 2 dimensions).
pub fn read_npy_f32(path: &Path) -> HarnessResult<Vec<Vec<f32>>> {
    let bytes = std::fs::read(path)
        .map_err(|e| HarnessError::new(format!("cannot read {}: {e}", path.display())))?;
    let bad = |why: &str| HarnessError::new(format!("{}: {why}", path.display()));
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("not a .npy file"));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        _ => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
    };
    let header = std::str::from_utf8(
        bytes
            .get(start..start + header_len)
            .ok_or_else(|| bad("short header"))?,
    )
    .map_err(|_| bad("header is not UTF-8"))?;
    if !header.contains("'descr': '<f4'") || header.contains("'fortran_order': True") {
        return Err(bad("expected little-endian float32 in C order"));
    }
    let shape = header
        .split("'shape': (")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .ok_or_else(|| bad("no shape"))?;
    let dims: Vec<usize> = shape
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| bad("bad shape")))
        .collect::<HarnessResult<_>>()?;
    let [rows, cols] = dims[..] else {
        return Err(bad("expected a matrix"));
    };
    let data = &bytes[start + header_len..];
    if data.len() != rows * cols * 4 {
        return Err(bad("data length does not match the shape"));
    }
    Ok(data
        .chunks_exact(cols * 4)
        .map(|row| {
            row.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        })
        .collect())
}

/// The support-ticket description embeddings (8,469 x 384).
pub fn ticket_embeddings() -> HarnessResult<Vec<Vec<f32>>> {
    read_npy_f32(
        &custos_tests::locate::shared_data_dir().join("customer_support_tickets.desc_emb.npy"),
    )
}

/// pgvector's cosine distance (`<=>`), in f64 as the SQL operator returns it.
pub fn cosine_distance(a: &[f32], b: &[f32]) -> f64 {
    let (mut dot, mut na, mut nb) = (0f64, 0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        dot += f64::from(*x) * f64::from(*y);
        na += f64::from(*x) * f64::from(*x);
        nb += f64::from(*y) * f64::from(*y);
    }
    1.0 - (dot / (na * nb).sqrt()).clamp(-1.0, 1.0)
}

/// Inserts `(id, sel, embedding)` rows, `batch` rows per INSERT with binary parameters.
pub async fn insert_rows(
    client: &Client,
    table: &str,
    rows: &[(i32, i32, Option<Vec<f32>>)],
    batch: usize,
) -> HarnessResult<()> {
    for chunk in rows.chunks(batch) {
        let placeholders: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
            .collect();
        let sql = format!(
            "INSERT INTO {table} (id, sel, embedding) VALUES {}",
            placeholders.join(", ")
        );
        let vectors: Vec<Option<PgVector>> = chunk
            .iter()
            .map(|(_, _, v)| v.clone().map(PgVector))
            .collect();
        let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(chunk.len() * 3);
        for ((id, sel, _), vector) in chunk.iter().zip(&vectors) {
            params.push(id);
            params.push(sel);
            params.push(vector);
        }
        client.execute(sql.as_str(), &params).await?;
    }
    Ok(())
}

/// Recall@k with ties: a returned distance counts when it is at most the k-th true one.
pub fn recall_with_ties(returned: &[f64], truth: &[f64]) -> f64 {
    if truth.is_empty() {
        return 1.0;
    }
    let kth = truth[truth.len() - 1] + 1e-6;
    let hits = returned
        .iter()
        .filter(|d| **d <= kth)
        .count()
        .min(truth.len());
    hits as f64 / truth.len() as f64
}

/// A `uuid` parameter from its text form (tokio-postgres's uuid support is not enabled).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PgUuid(pub [u8; 16]);

impl PgUuid {
    pub fn parse(text: &str) -> HarnessResult<PgUuid> {
        let hex: String = text.chars().filter(|c| *c != '-').collect();
        let mut bytes = [0u8; 16];
        if hex.len() != 32 {
            return Err(HarnessError::new(format!("bad uuid {text}")));
        }
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
                .map_err(|_| HarnessError::new(format!("bad uuid {text}")))?;
        }
        Ok(PgUuid(bytes))
    }
}

impl ToSql for PgUuid {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        out.extend_from_slice(&self.0);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::UUID
    }

    to_sql_checked!();
}

/// A vector's text form, for statements sent without parameters.
pub fn vector_literal(v: &[f32]) -> String {
    let items: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!("'[{}]'", items.join(","))
}

/// The lines of `EXPLAIN <statement>`, sent with the simple protocol.
pub async fn explain(client: &Client, statement: &str) -> HarnessResult<Vec<String>> {
    let messages = client.simple_query(&format!("EXPLAIN {statement}")).await?;
    Ok(messages
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
            _ => None,
        })
        .collect())
}
