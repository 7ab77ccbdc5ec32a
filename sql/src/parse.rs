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
/// Statements about roles and privileges ([`crate::acl::statement`]) are read by their own
/// grammar and stand in as [`acl_stand_in`]; execution reads them again from their text.
pub fn parse_one(text: &str) -> SqlResult<sqlparser::ast::Statement> {
    if crate::acl::statement::is_acl_statement(text) {
        crate::acl::statement::parse(text)?;
        return Ok(acl_stand_in());
    }
    if crate::governance::seclabel::is_security_label(text) {
        crate::governance::seclabel::parse(text)?;
        return Ok(crate::governance::seclabel::stand_in());
    }
    match parse_one_strict(text) {
        Ok(statement) => Ok(statement),
        Err(error) => crate::ddl::fallback::parse(text).unwrap_or(Err(error)),
    }
}

/// The statement that stands for a role or privilege statement: `FLUSH PRIVILEGES`, which
/// no PostgreSQL client sends (and which, typed by a user, fails the role grammar).
pub fn acl_stand_in() -> sqlparser::ast::Statement {
    sqlparser::ast::Statement::Flush {
        object_type: sqlparser::ast::FlushType::Privileges,
        location: None,
        channel: None,
        read_lock: false,
        export: false,
        tables: Vec::new(),
    }
}

/// Parses exactly one statement with sqlparser alone.
fn parse_one_strict(text: &str) -> SqlResult<sqlparser::ast::Statement> {
    let dialect = PostgreSqlDialect {};
    let rewritten = rewrite_unparsed_syntax(text);
    let text = rewritten.as_deref().unwrap_or(text);
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

/// Marker function of `x BETWEEN SYMMETRIC a AND b`: the text is rewritten into
/// `x BETWEEN __custos_between_symmetric(a) AND b`, which the binder decodes.
pub const BETWEEN_SYMMETRIC_MARKER: &str = "__custos_between_symmetric";

/// Marker function of a window frame's `EXCLUDE` clause: the frame's last bound `B` followed
/// by `EXCLUDE x` is rewritten into `__custos_frame_exclude('x', 'kind'[, offset]) DIR`,
/// where `kind` is `current row`, `unbounded` or `offset` and `DIR` the bound's direction
/// (`FOLLOWING` for CURRENT ROW). The binder decodes it back into the bound and the exclusion.
pub const FRAME_EXCLUDE_MARKER: &str = "__custos_frame_exclude";

/// Stand-in for pgvector's `<+>` operator, which sqlparser does not tokenize: a custom
/// operator it does read; the binder names it `<+>` again.
pub const L1_DISTANCE_MARKER: &str = "<~+~>";

/// Rewrites the syntax sqlparser does not read (`BETWEEN [A]SYMMETRIC`, a window frame's
/// `EXCLUDE ...`, pgvector's `<+>`) into markers it does; `None` when the text has none.
/// Only the affected tokens change, so the rest keeps its text.
fn rewrite_unparsed_syntax(text: &str) -> Option<String> {
    // A cheap test first: most statements (large INSERTs included) have none of these.
    let has_word = |word: &[u8]| {
        text.as_bytes()
            .windows(word.len())
            .any(|w| w.eq_ignore_ascii_case(word))
    };
    if !has_word(b"symmetric") && !has_word(b"exclude") && !text.contains("<+>") {
        return None;
    }
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, text)
        .tokenize_with_location()
        .ok()?;
    let index = LineIndex::new(text);
    // Significant tokens with their byte ranges and parenthesis depth.
    let mut sig: Vec<(Token, usize, usize, usize)> = Vec::new();
    let mut depth = 0usize;
    for t in &tokens {
        if matches!(t.token, Token::Whitespace(_) | Token::EOF) {
            continue;
        }
        if matches!(t.token, Token::RParen | Token::RBracket) {
            depth = depth.saturating_sub(1);
        }
        let from = index.byte(t.span.start.line, t.span.start.column);
        let to = index.byte(t.span.end.line, t.span.end.column);
        sig.push((t.token.clone(), from, to, depth));
        if matches!(t.token, Token::LParen | Token::LBracket) {
            depth += 1;
        }
    }
    let word = |i: usize| -> Option<String> {
        match sig.get(i).map(|s| &s.0) {
            Some(Token::Word(w)) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
            _ => None,
        }
    };
    let is = |i: usize, w: &str| word(i).as_deref() == Some(w);
    // (from, to, replacement), non-overlapping.
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for i in 0..sig.len() {
        // pgvector's `<+>` (L1 distance), which sqlparser reads as `<`, `+`, `>`.
        if matches!(sig[i].0, Token::Lt)
            && matches!(sig.get(i + 1).map(|s| &s.0), Some(Token::Plus))
            && matches!(sig.get(i + 2).map(|s| &s.0), Some(Token::Gt))
            && sig[i].2 == sig[i + 1].1
            && sig[i + 1].2 == sig[i + 2].1
        {
            edits.push((sig[i].1, sig[i + 2].2, L1_DISTANCE_MARKER.into()));
            continue;
        }
        if (is(i, "SYMMETRIC") || is(i, "ASYMMETRIC")) && i > 0 && is(i - 1, "BETWEEN") {
            if is(i, "ASYMMETRIC") {
                edits.push((sig[i].1, sig[i].2, String::new()));
                continue;
            }
            // The lower bound ends at the first AND at its own depth (outside CASE ... END).
            let d = sig[i].3;
            let mut cases = 0usize;
            let mut end = None;
            for (j, (token, _, _, depth)) in sig.iter().enumerate().skip(i + 1) {
                if *depth < d || matches!(token, Token::SemiColon) {
                    break;
                }
                if *depth > d {
                    continue;
                }
                if is(j, "CASE") {
                    cases += 1;
                } else if is(j, "END") {
                    cases = cases.saturating_sub(1);
                } else if is(j, "AND") && cases == 0 {
                    end = Some(j);
                    break;
                }
            }
            if let Some(j) = end.filter(|&j| j > i + 1) {
                edits.push((sig[i].1, sig[i].2, format!("{BETWEEN_SYMMETRIC_MARKER}(")));
                edits.push((sig[j].1, sig[j].1, ") ".into()));
            }
        } else if is(i, "EXCLUDE") {
            let (exclusion, last) = if is(i + 1, "CURRENT") && is(i + 2, "ROW") {
                ("current row", i + 2)
            } else if is(i + 1, "GROUP") {
                ("group", i + 1)
            } else if is(i + 1, "TIES") {
                ("ties", i + 1)
            } else if is(i + 1, "NO") && is(i + 2, "OTHERS") {
                ("no others", i + 2)
            } else {
                continue;
            };
            if i < 2 {
                continue;
            }
            let d = sig[i].3;
            let (start, bound) = if is(i - 2, "CURRENT") && is(i - 1, "ROW") {
                (i - 2, format!("'{exclusion}', 'current row') FOLLOWING"))
            } else if is(i - 2, "UNBOUNDED") && (is(i - 1, "PRECEDING") || is(i - 1, "FOLLOWING")) {
                let dir = word(i - 1).unwrap_or_default();
                (i - 2, format!("'{exclusion}', 'unbounded') {dir}"))
            } else if is(i - 1, "PRECEDING") || is(i - 1, "FOLLOWING") {
                // The offset expression starts after AND, BETWEEN or the frame units.
                let Some(k) = (0..i - 1).rev().find(|&k| {
                    sig[k].3 < d
                        || (sig[k].3 == d
                            && ["AND", "BETWEEN", "ROWS", "RANGE", "GROUPS"]
                                .iter()
                                .any(|w| is(k, w)))
                }) else {
                    continue;
                };
                if sig[k].3 < d || k + 1 >= i - 1 {
                    continue;
                }
                let dir = word(i - 1).unwrap_or_default();
                let offset = &text[sig[k + 1].1..sig[i - 2].2];
                (k + 1, format!("'{exclusion}', 'offset', {offset}) {dir}"))
            } else {
                continue;
            };
            edits.push((
                sig[start].1,
                sig[last].2,
                format!("{FRAME_EXCLUDE_MARKER}({bound}"),
            ));
        }
    }
    if edits.is_empty() {
        return None;
    }
    edits.sort_by_key(|e| std::cmp::Reverse((e.0, e.1)));
    let mut out = text.to_string();
    let mut floor = usize::MAX;
    for (from, to, replacement) in edits {
        if to > floor {
            // Overlapping edits (malformed input): leave the text to the parser's errors.
            return None;
        }
        out.replace_range(from..to, &replacement);
        floor = from;
    }
    Some(out)
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
    fn rewrites_between_symmetric_and_frame_exclude() {
        let text = rewrite_unparsed_syntax(
            "SELECT x NOT BETWEEN SYMMETRIC CASE WHEN a AND b THEN 1 END AND 2, \
             sum(x) OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE TIES), \
             sum(x) OVER (ROWS 2 PRECEDING EXCLUDE CURRENT ROW), \
             y BETWEEN ASYMMETRIC 1 AND 2 FROM t",
        )
        .unwrap();
        assert!(
            text.contains(
                "BETWEEN __custos_between_symmetric( CASE WHEN a AND b THEN 1 END ) AND 2"
            ),
            "{text}"
        );
        assert!(
            text.contains("AND __custos_frame_exclude('ties', 'offset', 1) FOLLOWING)"),
            "{text}"
        );
        assert!(
            text.contains("ROWS __custos_frame_exclude('current row', 'offset', 2) PRECEDING)"),
            "{text}"
        );
        assert!(text.contains("y BETWEEN  1 AND 2"), "{text}");
        assert!(parse_one(&text).is_ok());
        assert_eq!(rewrite_unparsed_syntax("SELECT 'symmetric exclude'"), None);
    }

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
