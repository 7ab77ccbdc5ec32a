//! The SQL/JSON path scanner (PostgreSQL's `jsonpath_scan.l`): a path text into tokens —
//! `$`, `@`, `$name` / `$"name"` variables, words (keys, keywords, method names), double-
//! quoted strings with JSON and `\x` / `\u{...}` escapes, numbers, punctuation. The parser
//! is in `jsonpath`.

use crate::error::{SqlError, SqlResult};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    Dollar,
    At,
    Variable(String),
    Word(String),
    String(String),
    Number(String),
    Punct(&'static str),
}

pub(super) fn syntax_error(near: Option<&str>) -> SqlError {
    match near {
        Some(t) => SqlError::syntax(format!("syntax error at or near \"{t}\" of jsonpath input")),
        None => SqlError::syntax("syntax error at end of jsonpath input"),
    }
}

/// Splits a path into tokens (`jsonpath_scan.l`).
pub(super) fn tokenize(text: &str) -> SqlResult<Vec<Token>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    const PUNCTS: [&str; 25] = [
        "**", "==", "!=", "<>", "<=", ">=", "&&", "||", ".", "[", "]", "(", ")", "{", "}", ",",
        "?", "*", "+", "-", "/", "%", "<", ">", "!",
    ];
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '"' {
            let (s, next) = string_literal(&chars, i + 1)?;
            out.push(Token::String(s));
            i = next;
            continue;
        }
        if c == '$' {
            if chars.get(i + 1) == Some(&'"') {
                let (s, next) = string_literal(&chars, i + 2)?;
                out.push(Token::Variable(s));
                i = next;
            } else if chars.get(i + 1).is_some_and(|&d| is_word_char(d)) {
                let start = i + 1;
                let mut j = start;
                while j < chars.len() && is_word_char(chars[j]) {
                    j += 1;
                }
                out.push(Token::Variable(chars[start..j].iter().collect()));
                i = j;
            } else {
                out.push(Token::Dollar);
                i += 1;
            }
            continue;
        }
        if c == '@' {
            out.push(Token::At);
            i += 1;
            continue;
        }
        // A number: digits with an optional fraction and exponent (".5" too).
        if c.is_ascii_digit()
            || (c == '.'
                && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())
                && !matches!(
                    out.last(),
                    Some(Token::Dollar | Token::At | Token::Variable(_) | Token::Word(_))
                        | Some(Token::Punct(")" | "]"))
                ))
        {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if i < chars.len()
                && chars[i] == '.'
                && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())
            {
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            } else if i < chars.len()
                && chars[i] == '.'
                && !chars
                    .get(i + 1)
                    .is_some_and(|d| is_word_char(*d) || *d == '*' || *d == '"')
            {
                // "1." is a number too.
                i += 1;
            }
            if i < chars.len() && matches!(chars[i], 'e' | 'E') {
                let mut j = i + 1;
                if j < chars.len() && matches!(chars[j], '+' | '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    while j < chars.len() && chars[j].is_ascii_digit() {
                        j += 1;
                    }
                    i = j;
                }
            }
            if i < chars.len() && is_word_char(chars[i]) {
                let bad: String = chars[start..=i].iter().collect();
                return Err(SqlError::syntax(format!(
                    "trailing junk after numeric literal at or near \"{bad}\" of jsonpath input"
                )));
            }
            out.push(Token::Number(chars[start..i].iter().collect()));
            continue;
        }
        if is_word_char(c) {
            let start = i;
            while i < chars.len() && is_word_char(chars[i]) {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect()));
            continue;
        }
        let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
        match PUNCTS.iter().find(|p| rest.starts_with(**p)) {
            Some(p) => {
                out.push(Token::Punct(p));
                i += p.len();
            }
            None => return Err(syntax_error(Some(&c.to_string()))),
        }
    }
    Ok(out)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A double-quoted string body from `start` (after the quote): its value and the index
/// after the closing quote.
fn string_literal(chars: &[char], start: usize) -> SqlResult<(String, usize)> {
    let mut out = String::new();
    let mut i = start;
    while i < chars.len() {
        match chars[i] {
            '"' => return Ok((out, i + 1)),
            '\\' => {
                let e = *chars.get(i + 1).ok_or_else(|| {
                    SqlError::syntax("unexpected end after backslash in jsonpath input")
                })?;
                i += 2;
                match e {
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'v' => out.push('\u{b}'),
                    'u' => {
                        let (code, next) = unicode_escape(chars, i)?;
                        i = next;
                        let code = if (0xD800..0xDC00).contains(&code)
                            && chars.get(i) == Some(&'\\')
                            && chars.get(i + 1) == Some(&'u')
                        {
                            let (low, next) = unicode_escape(chars, i + 2)?;
                            i = next;
                            0x10000 + ((code - 0xD800) << 10) + (low.wrapping_sub(0xDC00) & 0x3FF)
                        } else {
                            code
                        };
                        out.push(char::from_u32(code).ok_or_else(|| {
                            SqlError::syntax("invalid Unicode escape value in jsonpath input")
                        })?);
                    }
                    'x' => {
                        let hex: String = chars[i..].iter().take(2).collect();
                        let code = u32::from_str_radix(&hex, 16).map_err(|_| {
                            SqlError::syntax(
                                "invalid hexadecimal character sequence in jsonpath input",
                            )
                        })?;
                        i += 2;
                        out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                    }
                    other => out.push(other),
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Err(SqlError::syntax(
        "unexpected end of quoted string in jsonpath input",
    ))
}

/// `\uXXXX` or `\u{X...}` from `i` (after the `u`).
fn unicode_escape(chars: &[char], i: usize) -> SqlResult<(u32, usize)> {
    let bad = || SqlError::syntax("invalid Unicode escape sequence in jsonpath input");
    if chars.get(i) == Some(&'{') {
        let end = chars[i..].iter().position(|&c| c == '}').ok_or_else(bad)? + i;
        let hex: String = chars[i + 1..end].iter().collect();
        let code = u32::from_str_radix(&hex, 16).map_err(|_| bad())?;
        return Ok((code, end + 1));
    }
    let hex: String = chars[i..].iter().take(4).collect();
    if hex.len() != 4 {
        return Err(bad());
    }
    Ok((u32::from_str_radix(&hex, 16).map_err(|_| bad())?, i + 4))
}

pub(super) fn token_text(t: &Token) -> String {
    match t {
        Token::Dollar => "$".into(),
        Token::At => "@".into(),
        Token::Variable(v) => format!("${v}"),
        Token::Word(w) | Token::Number(w) => w.clone(),
        Token::String(s) => format!("\"{s}\""),
        Token::Punct(p) => (*p).into(),
    }
}
