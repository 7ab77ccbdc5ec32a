//! Editing SQL text token by token: the catalog keeps expressions, views and function bodies
//! as the text the user wrote, and DDL sometimes has to change a word in it (a renamed
//! column, a function parameter `$1` that becomes a name). Tokens are found with sqlparser's
//! tokenizer, so string literals, quoted identifiers and comments are never touched, and
//! everything that is not replaced keeps its original spelling.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use crate::error::{SqlError, SqlResult};

/// Byte offset of a 1-based (line, column) location in `text` (columns count characters).
pub fn byte_offset(text: &str, line: u64, column: u64) -> usize {
    let mut start = 0usize;
    if line > 1 {
        let mut current = 1u64;
        let mut found = false;
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                current += 1;
                if current == line {
                    start = i + 1;
                    found = true;
                    break;
                }
            }
        }
        if !found {
            return text.len();
        }
    }
    text[start..]
        .char_indices()
        .nth((column as usize).saturating_sub(1))
        .map(|(i, _)| start + i)
        .unwrap_or(text.len())
}

/// The tokens of `text` with their spans.
pub fn tokens(text: &str) -> SqlResult<Vec<TokenWithSpan>> {
    let dialect = PostgreSqlDialect {};
    Tokenizer::new(&dialect, text)
        .tokenize_with_location()
        .map_err(|e| SqlError::syntax(format!("syntax error: {}", e.message)))
}

/// The next token after position `i` that is not whitespace.
pub fn next_significant(tokens: &[TokenWithSpan], i: usize) -> Option<&Token> {
    tokens[i + 1..]
        .iter()
        .map(|t| &t.token)
        .find(|t| !matches!(t, Token::Whitespace(_)))
}

/// `text` with each token for which `replace(tokens, i)` returns a string replaced by it.
pub fn rewrite_tokens(
    text: &str,
    mut replace: impl FnMut(&[TokenWithSpan], usize) -> SqlResult<Option<String>>,
) -> SqlResult<String> {
    let tokens = tokens(text)?;
    let mut out = String::with_capacity(text.len());
    let mut copied = 0usize;
    for i in 0..tokens.len() {
        let Some(replacement) = replace(&tokens, i)? else {
            continue;
        };
        let span = tokens[i].span;
        let start = byte_offset(text, span.start.line, span.start.column);
        let end = byte_offset(text, span.end.line, span.end.column);
        if start < copied || start >= end {
            continue;
        }
        out.push_str(&text[copied..start]);
        out.push_str(&replacement);
        copied = end;
    }
    out.push_str(&text[copied..]);
    Ok(out)
}

/// A name as written in SQL, folded as PostgreSQL folds unquoted identifiers.
pub fn folded(word: &sqlparser::tokenizer::Word) -> String {
    if word.quote_style.is_some() {
        word.value.clone()
    } else {
        word.value.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_count_characters_per_line() {
        let text = "ab\ncé d";
        assert_eq!(byte_offset(text, 1, 1), 0);
        assert_eq!(byte_offset(text, 2, 1), 3);
        assert_eq!(&text[byte_offset(text, 2, 3)..], " d");
        assert_eq!(byte_offset(text, 5, 1), text.len());
    }

    #[test]
    fn rewrites_only_chosen_tokens() {
        let out = rewrite_tokens("select $1, '$1' -- $1\n + $2", |t, i| {
            Ok(match &t[i].token {
                Token::Placeholder(p) => Some(format!("\"{p}\"")),
                _ => None,
            })
        })
        .unwrap();
        assert_eq!(out, "select \"$1\", '$1' -- $1\n + \"$2\"");
    }
}
