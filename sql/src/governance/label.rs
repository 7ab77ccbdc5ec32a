//! The label grammars of the security label providers custos has:
//!
//! * `anon` (PostgreSQL Anonymizer): on a column `MASKED WITH FUNCTION <call>`,
//!   `MASKED WITH VALUE <expression>` or `NOT MASKED`; on a role `MASKED`. Keywords are
//!   case-insensitive; the expression is SQL over the table's columns (dollar quoting
//!   inside the label works, as in anon: `'MASKED WITH VALUE $$CONFIDENTIAL$$'`).
//! * `custos`: on a column `TOKENIZE WITH DOMAIN <name> [FORMAT CARD | FORMAT TEXT]`
//!   ([`super::tokenize`]).

use crate::error::{code, SqlError, SqlResult};

/// The providers custos has.
pub const PROVIDERS: &[&str] = &["anon", "custos"];

/// A masking rule of a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MaskRule {
    /// `MASKED WITH FUNCTION f(...)`: the call's SQL text.
    Function(String),
    /// `MASKED WITH VALUE v`: the expression's SQL text.
    Value(String),
    /// `NOT MASKED`.
    NotMasked,
}

impl MaskRule {
    /// The SQL expression that replaces the column, if any.
    pub fn expression(&self) -> Option<&str> {
        match self {
            MaskRule::Function(e) | MaskRule::Value(e) => Some(e),
            MaskRule::NotMasked => None,
        }
    }
}

/// Strips the leading words `words` (case-insensitive, separated by whitespace) from
/// `text`; the rest, trimmed.
fn strip_words<'a>(text: &'a str, words: &[&str]) -> Option<&'a str> {
    let mut rest = text.trim_start();
    for w in words {
        let end = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
        if !rest[..end].eq_ignore_ascii_case(w) {
            return None;
        }
        rest = rest[end..].trim_start();
    }
    Some(rest.trim_end())
}

/// Reads an anon column label.
pub fn parse_column_mask(label: &str) -> Option<MaskRule> {
    if let Some(rest) = strip_words(label, &["MASKED", "WITH", "FUNCTION"]) {
        return (!rest.is_empty()).then(|| MaskRule::Function(rest.to_string()));
    }
    if let Some(rest) = strip_words(label, &["MASKED", "WITH", "VALUE"]) {
        return (!rest.is_empty()).then(|| MaskRule::Value(rest.to_string()));
    }
    if strip_words(label, &["NOT", "MASKED"]).is_some_and(str::is_empty) {
        return Some(MaskRule::NotMasked);
    }
    None
}

/// Whether an anon role label says the role is masked.
pub fn is_masked_role_label(label: &str) -> bool {
    label.trim().eq_ignore_ascii_case("MASKED")
}

/// 22023 `'x' is not a valid label for a <kind>` (anon's message).
pub fn invalid_label(label: &str, kind: &str) -> SqlError {
    SqlError::new(
        code::INVALID_PARAMETER_VALUE,
        format!("'{label}' is not a valid label for a {kind}"),
    )
}

/// Checks the grammar of `label` for an object of `kind` (`column`, `role`, `table`) of
/// `provider`; the expression of a mask is checked by the caller, which knows the table.
pub fn check_label(provider: &str, kind: &str, label: &str) -> SqlResult<()> {
    let ok = match (provider, kind) {
        ("anon", "column") => parse_column_mask(label).is_some(),
        ("anon", "role") => is_masked_role_label(label),
        ("custos", "column") => super::tokenize::parse_tokenize_label(label).is_some(),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(invalid_label(label, kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anon_labels_parse() {
        assert_eq!(
            parse_column_mask("MASKED WITH FUNCTION anon.partial_email(email)"),
            Some(MaskRule::Function("anon.partial_email(email)".into()))
        );
        assert_eq!(
            parse_column_mask("  masked  with value   $$CONFIDENTIAL$$ "),
            Some(MaskRule::Value("$$CONFIDENTIAL$$".into()))
        );
        assert_eq!(
            parse_column_mask("MASKED WITH VALUE NULL"),
            Some(MaskRule::Value("NULL".into()))
        );
        assert_eq!(parse_column_mask("NOT MASKED"), Some(MaskRule::NotMasked));
        assert_eq!(parse_column_mask("NOT MASKED please"), None);
        assert_eq!(parse_column_mask("MASKED WITH FUNCTION"), None);
        assert_eq!(parse_column_mask("MASKEDWITH VALUE 1"), None);
        assert_eq!(parse_column_mask("MASKED"), None);
        assert!(is_masked_role_label(" masked "));
        assert!(!is_masked_role_label("MASKED WITH VALUE 1"));
        assert!(check_label("anon", "table", "MASKED").is_err());
        assert_eq!(
            check_label("anon", "role", "UNMASKED").unwrap_err().message,
            "'UNMASKED' is not a valid label for a role"
        );
        assert!(check_label("custos", "column", "TOKENIZE WITH DOMAIN pan").is_ok());
        assert!(check_label("custos", "role", "MASKED").is_err());
    }
}
