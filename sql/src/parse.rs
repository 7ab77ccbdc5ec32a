//! Parsing: a query string is cut into statements at top-level semicolons (so every
//! statement keeps its own original text, which views and functions store), and each is
//! parsed by sqlparser's PostgreSQL dialect. Parser errors become PostgreSQL's
//! `syntax error at or near "..."` (42601) with a position; nesting deeper than the parser's
//! limit becomes 54001, as PostgreSQL's `stack depth limit exceeded`.

use std::sync::Arc;

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::engine::Statement;
use crate::error::{code, SqlError, SqlResult};

/// Deepest expression nesting accepted (PostgreSQL's default `max_stack_depth` allows
/// somewhat more; past this a statement is refused rather than risking the stack).
const RECURSION_LIMIT: usize = 200;

/// Splits and parses a query string.
pub fn parse_statements(sql: &str) -> SqlResult<Vec<Statement>> {
    let mut statements = Vec::new();
    for (offset, text) in split_statements(sql)? {
        let ast = parse_one(text).map_err(|e| position_error(e, sql, offset))?;
        statements.push(Statement {
            sql: text.to_string(),
            offset: sql[..offset].chars().count() as u32,
            ast: Arc::new(ast),
        });
    }
    Ok(statements)
}

/// Parses exactly one statement (with the fallback for the DDL sqlparser does not read).
pub fn parse_one(text: &str) -> SqlResult<sqlparser::ast::Statement> {
    match parse_one_strict(text) {
        Ok(statement) => Ok(statement),
        Err(error) => crate::ddl::fallback::parse(text).unwrap_or(Err(error)),
    }
}

/// Parses exactly one statement with sqlparser alone.
fn parse_one_strict(text: &str) -> SqlResult<sqlparser::ast::Statement> {
    let dialect = PostgreSqlDialect {};
    let mut parser = Parser::new(&dialect)
        .with_recursion_limit(RECURSION_LIMIT)
        .try_with_sql(text)
        .map_err(|e| parser_error(e, text))?;
    let statement = parser
        .parse_statement()
        .map_err(|e| parser_error(e, text))?;
    // Only semicolons may follow.
    loop {
        match parser.peek_token().token {
            Token::SemiColon => {
                parser.next_token();
            }
            Token::EOF => break,
            other => {
                let mut error = SqlError::syntax(format!("syntax error at or near \"{other}\""));
                let location = parser.peek_token().span.start;
                error.position = char_position(text, location.line, location.column);
                return Err(error);
            }
        }
    }
    Ok(statement)
}

/// The (byte offset, text) of each non-empty statement.
fn split_statements(sql: &str) -> SqlResult<Vec<(usize, &str)>> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| {
            let message = e.message.clone();
            let mut error = SqlError::syntax(tokenizer_message(&message));
            error.position = char_position(sql, e.location.line, e.location.column);
            error
        })?;
    let offsets = LineIndex::new(sql);
    let mut pieces = Vec::new();
    let mut start = 0usize;
    let mut meaningful = false;
    // Inside `BEGIN ATOMIC ... END` (a SQL function body) semicolons separate the body's
    // statements, not ours; CASE ... END nests inside it.
    let mut atomic_depth = 0usize;
    let significant: Vec<usize> = (0..tokens.len())
        .filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
        .collect();
    let word = |i: usize| match &tokens[i].token {
        Token::Word(w) => Some(w.keyword),
        _ => None,
    };
    for (k, &i) in significant.iter().enumerate() {
        let token = &tokens[i];
        match word(i) {
            Some(Keyword::BEGIN)
                if significant
                    .get(k + 1)
                    .is_some_and(|&j| word(j) == Some(Keyword::ATOMIC)) =>
            {
                atomic_depth += 1
            }
            Some(Keyword::CASE) if atomic_depth > 0 => atomic_depth += 1,
            Some(Keyword::END) if atomic_depth > 0 => atomic_depth -= 1,
            _ => {}
        }
        match &token.token {
            Token::SemiColon if atomic_depth > 0 => {}
            Token::SemiColon => {
                let end = offsets.byte(token.span.start.line, token.span.start.column);
                if meaningful {
                    pieces.push((start, &sql[start..end]));
                }
                start = end + 1;
                meaningful = false;
            }
            Token::Whitespace(_) | Token::EOF => {}
            _ => meaningful = true,
        }
    }
    if meaningful {
        pieces.push((start, &sql[start..]));
    }
    Ok(pieces)
}

fn tokenizer_message(message: &str) -> String {
    if message.contains("Unterminated string") {
        "unterminated quoted string".into()
    } else if message.contains("Unterminated dollar") {
        "unterminated dollar-quoted string".into()
    } else if message.contains("Unterminated") && message.contains("comment") {
        "unterminated /* comment".into()
    } else {
        format!("syntax error: {message}")
    }
}

/// The text of `span` inside `sql` (1-based lines and character columns, end exclusive of
/// the character after the node), if the span is known.
pub fn span_text(sql: &str, span: sqlparser::tokenizer::Span) -> Option<String> {
    if span.start.line == 0 || span.end.line == 0 {
        return None;
    }
    let index = LineIndex::new(sql);
    let a = index.byte(span.start.line, span.start.column);
    let b = index.byte(span.end.line, span.end.column);
    (a < b && b <= sql.len()).then(|| sql[a..b].to_string())
}

/// Whether `text` (a piece of the user's statement) means the same as `printed` (the same
/// node printed by sqlparser): both parse, as a statement or as a select-list expression,
/// to the same tree. sqlparser's spans are not complete for every node, so a piece of
/// source text is only kept when it provably stands for the whole node.
pub fn same_meaning(text: &str, printed: &str) -> bool {
    let parse = |t: &str| -> Option<String> {
        parse_one(t)
            .or_else(|_| parse_one(&format!("SELECT {t}")))
            .ok()
            .map(|s| s.to_string())
    };
    match (parse(text), parse(printed)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// Byte offsets of (line, column) locations (1-based, columns in characters).
struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> LineIndex<'a> {
        let mut line_starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i + 1);
            }
        }
        LineIndex { text, line_starts }
    }

    fn byte(&self, line: u64, column: u64) -> usize {
        let Some(&line_start) = self.line_starts.get((line as usize).saturating_sub(1)) else {
            return self.text.len();
        };
        let rest = &self.text[line_start..];
        rest.char_indices()
            .nth((column as usize).saturating_sub(1))
            .map(|(i, _)| line_start + i)
            .unwrap_or(self.text.len())
    }
}

/// The 1-based character position of (line, column) in `text`.
pub fn char_position(text: &str, line: u64, column: u64) -> Option<u32> {
    if line == 0 {
        return None;
    }
    let byte = LineIndex::new(text).byte(line, column);
    Some(text[..byte].chars().count() as u32 + 1)
}

fn parser_error(error: ParserError, text: &str) -> SqlError {
    match error {
        ParserError::RecursionLimitExceeded => SqlError::new(
            code::STATEMENT_TOO_COMPLEX,
            "stack depth limit exceeded",
        )
        .with_hint("Increase the configuration parameter \"max_stack_depth\" (currently 2048kB), after ensuring the platform's stack depth limit is adequate."),
        ParserError::TokenizerError(message) => SqlError::syntax(tokenizer_message(&message)),
        ParserError::ParserError(message) => {
            // sqlparser: "Expected: <what>, found: <token> at Line: l, Column: c".
            let found = message
                .split("found: ")
                .nth(1)
                .map(|rest| rest.split(" at Line:").next().unwrap_or(rest).trim());
            let mut error = match found {
                Some("EOF") | None => SqlError::syntax("syntax error at end of input"),
                Some(token) => SqlError::syntax(format!("syntax error at or near \"{token}\"")),
            };
            if let Some(location) = message.split("at Line: ").nth(1) {
                let mut parts = location.split(", Column: ");
                let line = parts.next().and_then(|l| l.trim().parse().ok());
                let column = parts
                    .next()
                    .and_then(|c| c.trim().split(|ch: char| !ch.is_ascii_digit()).next())
                    .and_then(|c| c.parse().ok());
                if let (Some(line), Some(column)) = (line, column) {
                    error.position = char_position(text, line, column);
                }
            } else if found == Some("EOF") || found.is_none() {
                error.position = Some(text.chars().count() as u32 + 1);
            }
            error
        }
    }
}

/// Moves a position inside one statement to a position in the whole query string.
fn position_error(mut error: SqlError, sql: &str, offset: usize) -> SqlError {
    if let Some(p) = error.position {
        error.position = Some(p + sql[..offset].chars().count() as u32);
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_top_level_semicolons() {
        let s = parse_statements("select 1; select 'a;b' ; ; select $$x;y$$").unwrap();
        let texts: Vec<&str> = s.iter().map(|s| s.sql().trim()).collect();
        assert_eq!(texts, ["select 1", "select 'a;b'", "select $$x;y$$"]);
        assert!(parse_statements("  -- nothing\n ;").unwrap().is_empty());
    }

    #[test]
    fn syntax_errors_have_postgres_shape() {
        let e = parse_statements("select 1; selec 2").unwrap_err();
        assert_eq!(e.code, "42601");
        assert!(
            e.message.starts_with("syntax error at or near"),
            "{}",
            e.message
        );
        let deep = format!("select {}1{}", "(".repeat(1000), ")".repeat(1000));
        assert_eq!(parse_statements(&deep).unwrap_err().code, "54001");
    }
}
