//! Dynamic masking and tokenization (issue 6, points 4 and 5).
//!
//! * [`seclabel`]: `SECURITY LABEL [FOR provider] ON { TABLE | COLUMN | ROLE } ... IS ...`,
//!   read by its own grammar (the parse step stands it in) and stored as the catalog's
//!   `SecurityLabelDef`s;
//! * [`label`]: the label grammars of the providers `anon` (PostgreSQL Anonymizer's
//!   `MASKED WITH FUNCTION | VALUE`, `NOT MASKED`, roles `MASKED`) and `custos`
//!   (`TOKENIZE WITH DOMAIN d`);
//! * [`masking`]: which roles are masked and the mask of each column, for the binder's
//!   rewrite at the scan of a table (`bind/mask.rs`);
//! * [`anon`]: the `anon.*` masking functions; [`secrets`]: the database's secret salt
//!   that keys `anon.hash`;
//! * [`tokens`]: the token constructions (keyed deterministic text tokens, format-preserving
//!   Luhn-failing card tokens); [`tokenize`]: key files, rotation, tokenize-on-write,
//!   `detokenize()` and its audit events.

pub mod anon;
mod args;
pub mod label;
pub mod masking;
pub mod seclabel;
pub mod secrets;
pub mod tokenize;
pub mod tokens;

use crate::func::registry::Registry;
use crate::func::{Param, Returns, Volatility};
use crate::pgtype::SqlType;

/// Adds the masking and tokenization functions to the registry.
pub fn register(reg: &mut Registry) {
    anon::register(reg);
    for params in [
        vec![Param::Type(SqlType::Text)],
        vec![Param::Type(SqlType::Text), Param::Type(SqlType::Text)],
    ] {
        reg.scalar(
            "detokenize",
            params,
            Returns::Type(SqlType::Text),
            tokenize::detokenize,
        )
        .volatility(Volatility::Volatile);
    }
    reg.typed(
        "custos_rotate_token_key",
        [SqlType::Text],
        SqlType::Int4,
        tokenize::rotate_token_key,
    )
    .volatility(Volatility::Volatile);
}
