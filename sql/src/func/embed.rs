//! The embedding functions:
//!
//! - `embed(text) → vector(384)`: the all-MiniLM-L6-v2 embedding of a text (unit length;
//!   NULL for NULL; texts past the model's 256-token window are truncated to it). Immutable:
//!   the model is pinned by sha256, so a text always gives the same vector, which is what lets
//!   `embed` appear in `GENERATED ALWAYS AS (embed(body)) STORED` columns.
//! - `embed(text, model text)`: the same, with the model named; the only model is
//!   `all-MiniLM-L6-v2` (any other name is 22023).
//! - `embed_chunks(text [, max_tokens int [, overlap int]]) → setof (chunk_no int, chunk text)`:
//!   cuts a long document into windows of at most `max_tokens` model tokens (default 254, the
//!   most that embed without truncation; 1..254), consecutive windows sharing `overlap` tokens
//!   (default 0). The recipe for documents longer than the window is
//!   `INSERT INTO doc_chunks (doc_id, chunk_no, chunk) SELECT d.id, c.chunk_no, c.chunk
//!   FROM docs d, embed_chunks(d.body) c` into a table whose `chunk_vec` column is
//!   `GENERATED ALWAYS AS (embed(chunk)) STORED`.
//!
//! How a call finds its vector, cheapest first: the batch prefetched for the rows of the
//! current statement (see `embedding::prefetch`, which makes an INSERT / UPDATE / COPY /
//! projection call the model once per batch of rows, not once per row); the last text this
//! thread embedded (so `ORDER BY v <=> embed('constant')` runs the model once per statement,
//! not once per row); then the embedding service (its cache, then the model).

use std::cell::RefCell;
use std::sync::Arc;

use storage::types::{Row, Value};

use super::registry::Registry;
use super::{args, FnCtx, Param, Returns};
use crate::embedding::{self, prefetch};
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;

/// Default `max_tokens` of `embed_chunks`: the model's window minus `[CLS]` and `[SEP]`.
pub const DEFAULT_CHUNK_TOKENS: i64 = index::embed::MAX_CHUNK_TOKENS as i64;

pub fn register(reg: &mut Registry) {
    use SqlType::{Int4, Text};
    let vector = SqlType::Vector(Some(embedding::DIMENSIONS as u32));
    reg.scalar(
        prefetch::EMBED_FUNCTION,
        vec![Param::Type(Text)],
        Returns::Type(vector.clone()),
        embed,
    );
    reg.scalar(
        prefetch::EMBED_FUNCTION,
        vec![Param::Type(Text), Param::Type(Text)],
        Returns::Type(vector),
        embed_with_model,
    );
    reg.set_returning(
        "embed_chunks",
        vec![Param::Type(Text)],
        chunk_columns,
        embed_chunks,
    );
    reg.set_returning(
        "embed_chunks",
        vec![Param::Type(Text), Param::Type(Int4)],
        chunk_columns,
        embed_chunks,
    );
    reg.set_returning(
        "embed_chunks",
        vec![Param::Type(Text), Param::Type(Int4), Param::Type(Int4)],
        chunk_columns,
        embed_chunks,
    );
}

thread_local! {
    /// The last text this thread embedded through `embed()` and its vector.
    static LAST_EMBEDDED: RefCell<Option<(String, Arc<[f32]>)>> = const { RefCell::new(None) };
}

/// Texts longer than this are not kept as [`LAST_EMBEDDED`] (a repeated constant is short;
/// a long document would only pin memory).
const LAST_EMBEDDED_MAX_BYTES: usize = 4096;

/// The embedding of one text, through the prefetched batch, the last-text memo, or the
/// service; see the module docs.
pub fn embed_one(text: &str) -> SqlResult<Vec<f32>> {
    if let Some(vector) = prefetch::prefetched(text) {
        return Ok(vector.to_vec());
    }
    let remembered = LAST_EMBEDDED.with(|last| {
        last.borrow()
            .as_ref()
            .filter(|(last_text, _)| last_text == text)
            .map(|(_, vector)| vector.to_vec())
    });
    if let Some(vector) = remembered {
        return Ok(vector);
    }
    let vector = embedding::embed_texts(&[Some(text)])?
        .pop()
        .flatten()
        .ok_or_else(|| SqlError::internal("the embedding service returned no vector"))?;
    if text.len() <= LAST_EMBEDDED_MAX_BYTES {
        LAST_EMBEDDED.with(|last| {
            *last.borrow_mut() = Some((text.to_owned(), Arc::from(vector.as_slice())));
        });
    }
    Ok(vector)
}

fn embed(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Vector(embed_one(args::text(a, 0)?)?))
}

fn embed_with_model(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let model = args::text(a, 1)?;
    if !model.eq_ignore_ascii_case(index::embed::MODEL_NAME) {
        return Err(SqlError::new(
            code::INVALID_PARAMETER_VALUE,
            format!("unknown embedding model \"{model}\""),
        )
        .with_hint(format!(
            "The available model is \"{}\" (see custos_models).",
            index::embed::MODEL_NAME
        )));
    }
    Ok(Value::Vector(embed_one(args::text(a, 0)?)?))
}

fn chunk_columns(_: &[SqlType]) -> Vec<(String, SqlType)> {
    vec![
        ("chunk_no".to_owned(), SqlType::Int4),
        ("chunk".to_owned(), SqlType::Text),
    ]
}

fn embed_chunks(_: &FnCtx, a: &[Value]) -> SqlResult<Vec<Row>> {
    let text = args::text(a, 0)?;
    let max_tokens = if a.len() > 1 {
        args::int(a, 1)?
    } else {
        DEFAULT_CHUNK_TOKENS
    };
    let overlap = if a.len() > 2 { args::int(a, 2)? } else { 0 };
    let invalid = || {
        SqlError::new(
            code::INVALID_PARAMETER_VALUE,
            format!(
                "invalid chunking: max_tokens must be between 1 and {DEFAULT_CHUNK_TOKENS} and \
                 overlap between 0 and max_tokens - 1 (got max_tokens {max_tokens}, overlap \
                 {overlap})"
            ),
        )
    };
    let max_tokens = usize::try_from(max_tokens).map_err(|_| invalid())?;
    let overlap = usize::try_from(overlap).map_err(|_| invalid())?;
    let windows = embedding::service().chunk_text(text, max_tokens, overlap)?;
    windows
        .into_iter()
        .enumerate()
        .map(|(index, (start, end))| {
            let chunk_no = i32::try_from(index + 1).map_err(|_| {
                SqlError::new(code::PROGRAM_LIMIT_EXCEEDED, "too many chunks in one text")
            })?;
            let chunk = text.get(start..end).ok_or_else(|| {
                SqlError::internal("chunk boundaries are not on character boundaries")
            })?;
            Ok(vec![Value::Int4(chunk_no), Value::Text(chunk.to_owned())])
        })
        .collect()
}
