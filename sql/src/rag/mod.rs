//! Retrieval-augmented generation in SQL: grounded, cited context for an LLM, built from the
//! database's own rows with the caller's rights.
//!
//! - `rag_context(question text [, k int [, sources regclass[]]])` → `(rank int, source
//!   regclass, row_key text, content text, score float8, flags text[])`: the `k` (default 5)
//!   chunks nearest to the question across every *embedded text column* (a text column `x`
//!   with a `vector` column `GENERATED ALWAYS AS (embed(x)) STORED`), or only those of the
//!   given tables, best first ([`context`]).
//! - `rag_prompt(question text [, k int])` → `text`: a numbered, cited context block followed
//!   by the question ([`prompt`]); flagged chunks are quoted as data or left out per
//!   `custos.rag_flagged` (`quote` | `omit`).
//! - `rag_answer(question text [, k int])` → `text`: the prompt sent to the configured
//!   OpenAI-compatible chat-completions endpoint, its answer returned ([`generate`]).
//! - `rag_flags(text)` → `text[]`: the safety flags of any text, the same as `rag_context`
//!   reports ([`safety`]).
//!
//! Invariant (zero trust): retrieval goes through the engine's query path ([`query`]), never
//! around it, so privileges, row-level security and masking decide what a caller's RAG sees
//! exactly as they decide what the caller's SELECT sees.
//!
//! The functions are volatile (they read tables and, for `rag_answer`, call out) and run on
//! the calling connection's thread; the question is embedded once per call.

pub mod context;
pub mod generate;
pub mod http;
pub mod prompt;
pub mod query;
pub mod safety;
pub mod sources;

use storage::types::{Array, Value};

use crate::error::SqlResult;
use crate::func::registry::Registry;
use crate::func::{FnCtx, Param, Volatility};
use crate::pgtype::SqlType;

pub use generate::{configure_generation, GenerationSettings};
pub use query::QueryRunner;

/// Adds the RAG functions to the registry.
pub fn register(reg: &mut Registry) {
    use SqlType::{Int4, Text};
    let sources = SqlType::Array(Box::new(SqlType::RegClass));
    let context_params = [
        vec![Param::Type(Text)],
        vec![Param::Type(Text), Param::Type(Int4)],
        vec![Param::Type(Text), Param::Type(Int4), Param::Type(sources)],
    ];
    for params in context_params {
        // Not strict: a NULL `sources` means every table (a NULL question gives no rows).
        reg.set_returning(
            "rag_context",
            params,
            context::columns,
            context::rag_context,
        )
        .strict(false)
        .volatility(Volatility::Volatile);
    }
    for params in [vec![Text], vec![Text, Int4]] {
        reg.typed("rag_prompt", params.clone(), Text, prompt::rag_prompt)
            .volatility(Volatility::Volatile);
        reg.typed("rag_answer", params, Text, generate::rag_answer)
            .volatility(Volatility::Volatile);
    }
    reg.typed(
        "rag_flags",
        [Text],
        SqlType::Array(Box::new(Text)),
        rag_flags,
    )
    .leakproof();
}

/// `rag_flags(text) → text[]`.
fn rag_flags(_: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    let Some(Value::Text(text)) = args.first() else {
        return Ok(Value::Null);
    };
    let flags = safety::scan(text)
        .into_iter()
        .map(|f| Value::Text(f.name().to_string()))
        .collect();
    Ok(Value::Array(Box::new(Array::from_list(flags))))
}
