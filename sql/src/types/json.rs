//! `json` and `jsonb`: PostgreSQL's JSON lexer and parser (`json_in` validates and keeps the
//! text verbatim; `jsonb_in` normalises) and `jsonb_out`.
//!
//! The grammar is strict RFC 8259 as PostgreSQL implements it: whitespace is space, tab, CR,
//! LF; numbers have no leading zeros, `+`, or bare points; literals are lower-case. Errors are
//! `invalid input syntax for type json` with PostgreSQL's DETAIL (for `jsonb` too).
//!
//! `jsonb` text is PostgreSQL's canonical form: `", "` between items, `": "` after keys,
//! object keys ordered by length and then bytes with the last of duplicate keys kept, numbers
//! as `numeric` prints them (`1e2` → `100`, `1.50` stays), strings with escapes decoded
//! (surrogate pairs combined, `\u0000` refused) and re-escaped as `escape_json` does. Nesting
//! is limited to [`MAX_JSON_DEPTH`] levels; the parser keeps its own stack, so deep input
//! cannot exhaust the thread's.

use super::error::{sqlstate, TypeError};
use super::numeric_text::parse_numeric;

/// Deepest nesting of arrays and objects accepted.
pub(crate) const MAX_JSON_DEPTH: usize = 10_000;
/// Longest canonical `jsonb` text (PostgreSQL's limit on a `jsonb` container, 2^28 - 1
/// bytes). Numbers can print far longer than they are written (`1e131071`), so the limit is
/// checked while printing.
pub(crate) const MAX_JSONB_TEXT: usize = 268_435_455;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    ObjectStart,
    ObjectEnd,
    ArrayStart,
    ArrayEnd,
    Comma,
    Colon,
    String,
    Number,
    True,
    False,
    Null,
    End,
}

/// Where a token lies in the input.
#[derive(Debug, Clone, Copy)]
struct Lexeme {
    token: Token,
    start: usize,
    end: usize,
}

/// A parsed `jsonb` value. Numbers and strings hold their canonical text and decoded text.
#[derive(Debug, PartialEq)]
enum Node {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

struct Lexer<'a> {
    text: &'a str,
    s: &'a [u8],
    pos: usize,
    /// Whether strings are decoded (jsonb) or only checked (json), as PostgreSQL's `strval`.
    decode: bool,
}

fn is_json_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

impl<'a> Lexer<'a> {
    fn error(&self, detail: impl Into<String>) -> TypeError {
        TypeError::new(
            sqlstate::INVALID_TEXT_REPRESENTATION,
            "invalid input syntax for type json",
        )
        .with_detail(detail)
    }

    fn invalid_token(&self, start: usize, end: usize) -> TypeError {
        self.error(format!("Token \"{}\" is invalid.", self.slice(start, end)))
    }

    fn slice(&self, start: usize, end: usize) -> &'a str {
        let mut end = end.min(self.s.len());
        while !self.text.is_char_boundary(end) {
            end += 1;
        }
        &self.text[start..end]
    }

    /// The next token; strings are decoded into `decoded` when decoding.
    fn next(&mut self, decoded: &mut String) -> Result<Lexeme, TypeError> {
        while self.pos < self.s.len() && matches!(self.s[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(&c) = self.s.get(start) else {
            return Ok(Lexeme {
                token: Token::End,
                start,
                end: start,
            });
        };
        let single = |token| Lexeme {
            token,
            start,
            end: start + 1,
        };
        let lexeme = match c {
            b'{' => single(Token::ObjectStart),
            b'}' => single(Token::ObjectEnd),
            b'[' => single(Token::ArrayStart),
            b']' => single(Token::ArrayEnd),
            b',' => single(Token::Comma),
            b':' => single(Token::Colon),
            b'"' => return self.string(decoded),
            b'-' | b'0'..=b'9' => return self.number(),
            _ => {
                let mut end = start;
                while end < self.s.len() && is_json_alnum(self.s[end]) {
                    end += 1;
                }
                if end == start {
                    // Not a token start: report the one character.
                    let len = self.text[start..].chars().next().map_or(1, char::len_utf8);
                    return Err(self.invalid_token(start, start + len));
                }
                let token = match &self.s[start..end] {
                    b"true" => Token::True,
                    b"false" => Token::False,
                    b"null" => Token::Null,
                    _ => return Err(self.invalid_token(start, end)),
                };
                Lexeme { token, start, end }
            }
        };
        self.pos = lexeme.end;
        Ok(lexeme)
    }

    fn number(&mut self) -> Result<Lexeme, TypeError> {
        let s = self.s;
        let start = self.pos;
        let mut i = start;
        let mut error = false;
        if s.get(i) == Some(&b'-') {
            i += 1;
        }
        match s.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while s.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
            }
            _ => error = true,
        }
        if s.get(i) == Some(&b'.') {
            i += 1;
            if !s.get(i).is_some_and(u8::is_ascii_digit) {
                error = true;
            }
            while s.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        if matches!(s.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(s.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !s.get(i).is_some_and(u8::is_ascii_digit) {
                error = true;
            }
            while s.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        while i < s.len() && is_json_alnum(s[i]) {
            error = true;
            i += 1;
        }
        if error {
            return Err(self.invalid_token(start, i));
        }
        self.pos = i;
        Ok(Lexeme {
            token: Token::Number,
            start,
            end: i,
        })
    }

    fn string(&mut self, decoded: &mut String) -> Result<Lexeme, TypeError> {
        let s = self.s;
        let start = self.pos;
        let mut i = start + 1;
        let mut high_surrogate: Option<u32> = None;
        decoded.clear();
        let mut run_start = i;
        loop {
            let Some(&c) = s.get(i) else {
                return Err(self.invalid_token(start, i));
            };
            match c {
                b'"' => break,
                b'\\' => {
                    if self.decode {
                        decoded.push_str(&self.text[run_start..i]);
                    }
                    i += 1;
                    let Some(&e) = s.get(i) else {
                        return Err(self.invalid_token(start, i));
                    };
                    if e == b'u' {
                        let mut ch: u32 = 0;
                        for k in 1..=4 {
                            match s.get(i + k).and_then(|b| (*b as char).to_digit(16)) {
                                Some(d) => ch = ch * 16 + d,
                                None if i + k >= s.len() => {
                                    return Err(self.invalid_token(start, s.len()))
                                }
                                None => {
                                    return Err(self.error(
                                        "\"\\u\" must be followed by four hexadecimal digits.",
                                    ))
                                }
                            }
                        }
                        i += 5;
                        if self.decode {
                            if (0xD800..=0xDBFF).contains(&ch) {
                                if high_surrogate.is_some() {
                                    return Err(self.error(
                                        "Unicode high surrogate must not follow a high surrogate.",
                                    ));
                                }
                                high_surrogate = Some(ch);
                                run_start = i;
                                continue;
                            } else if (0xDC00..=0xDFFF).contains(&ch) {
                                let Some(high) = high_surrogate.take() else {
                                    return Err(self.error(
                                        "Unicode low surrogate must follow a high surrogate.",
                                    ));
                                };
                                ch = 0x10000 + ((high - 0xD800) << 10) + (ch - 0xDC00);
                            }
                            if high_surrogate.is_some() {
                                return Err(self
                                    .error("Unicode low surrogate must follow a high surrogate."));
                            }
                            if ch == 0 {
                                return Err(TypeError::new(
                                    sqlstate::UNTRANSLATABLE_CHARACTER,
                                    "unsupported Unicode escape sequence",
                                )
                                .with_detail("\\u0000 cannot be converted to text."));
                            }
                            decoded.push(char::from_u32(ch).unwrap_or(char::REPLACEMENT_CHARACTER));
                        }
                        run_start = i;
                        continue;
                    }
                    if self.decode && high_surrogate.is_some() {
                        return Err(
                            self.error("Unicode low surrogate must follow a high surrogate.")
                        );
                    }
                    let replacement = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        _ => {
                            let len = self.text[i..].chars().next().map_or(1, char::len_utf8);
                            return Err(self.error(format!(
                                "Escape sequence \"\\{}\" is invalid.",
                                &self.text[i..i + len]
                            )));
                        }
                    };
                    if self.decode {
                        decoded.push(replacement);
                    }
                    i += 1;
                    run_start = i;
                }
                0x00..=0x1f => {
                    return Err(
                        self.error(format!("Character with value 0x{c:02x} must be escaped."))
                    );
                }
                _ => {
                    if self.decode && high_surrogate.is_some() {
                        return Err(
                            self.error("Unicode low surrogate must follow a high surrogate.")
                        );
                    }
                    i += 1;
                }
            }
        }
        if self.decode {
            if high_surrogate.is_some() {
                return Err(self.error("Unicode low surrogate must follow a high surrogate."));
            }
            decoded.push_str(&self.text[run_start..i]);
        }
        self.pos = i + 1;
        Ok(Lexeme {
            token: Token::String,
            start,
            end: i + 1,
        })
    }
}

/// A container being filled while parsing.
enum Frame {
    Array(Vec<Node>),
    Object(Vec<(String, Node)>, Option<String>),
}

/// What the parser expects next, PostgreSQL's parse contexts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    Value,
    FirstElementOrEnd,
    CommaOrArrayEnd,
    FirstKeyOrEnd,
    Key,
    Colon,
    CommaOrObjectEnd,
}

/// Parses `text`; returns the tree when `build` (jsonb), or `Node::Null` after validation.
fn parse(text: &str, build: bool) -> Result<Node, TypeError> {
    let mut lexer = Lexer {
        text,
        s: text.as_bytes(),
        pos: 0,
        decode: build,
    };
    let mut stack: Vec<Frame> = Vec::new();
    let mut depth = 0usize;
    let mut expect = Expect::Value;
    let mut decoded = String::new();
    let mut finished: Option<Node> = None;

    loop {
        let lex = lexer.next(&mut decoded)?;
        let found = || {
            if lex.token == Token::End {
                None
            } else {
                Some(lexer.slice(lex.start, lex.end).to_string())
            }
        };
        let expected = |what: &str| -> TypeError {
            match found() {
                None => lexer.error("The input string ended unexpectedly."),
                Some(tok) => lexer.error(format!("Expected {what}, but found \"{tok}\".")),
            }
        };
        if let Some(node) = finished.take() {
            // A complete value: attach it to its container or finish.
            match stack.last_mut() {
                None => {
                    if lex.token != Token::End {
                        return Err(expected("end of input"));
                    }
                    return Ok(node);
                }
                Some(Frame::Array(items)) => items.push(node),
                Some(Frame::Object(members, key)) => {
                    let key = key.take().unwrap_or_default();
                    members.push((key, node));
                }
            }
            expect = match stack.last() {
                Some(Frame::Array(_)) => Expect::CommaOrArrayEnd,
                _ => Expect::CommaOrObjectEnd,
            };
        }
        let value_start = matches!(expect, Expect::Value | Expect::FirstElementOrEnd);
        match (expect, lex.token) {
            (_, Token::ArrayStart | Token::ObjectStart) if value_start => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return Err(TypeError::new(
                        sqlstate::STATEMENT_TOO_COMPLEX,
                        "stack depth limit exceeded",
                    )
                    .with_hint(format!(
                        "JSON input is limited to {MAX_JSON_DEPTH} levels of nesting."
                    )));
                }
                if lex.token == Token::ArrayStart {
                    stack.push(Frame::Array(Vec::new()));
                    expect = Expect::FirstElementOrEnd;
                } else {
                    stack.push(Frame::Object(Vec::new(), None));
                    expect = Expect::FirstKeyOrEnd;
                }
            }
            (_, Token::String | Token::Number | Token::True | Token::False | Token::Null)
                if value_start =>
            {
                finished = Some(if !build {
                    Node::Null
                } else {
                    match lex.token {
                        Token::String => Node::String(std::mem::take(&mut decoded)),
                        Token::Number => {
                            let number =
                                parse_numeric(lexer.slice(lex.start, lex.end), None, None)?;
                            Node::Number(number.to_string())
                        }
                        Token::True => Node::Bool(true),
                        Token::False => Node::Bool(false),
                        _ => Node::Null,
                    }
                });
                // Check what follows on the next round.
                continue;
            }
            (Expect::FirstElementOrEnd | Expect::CommaOrArrayEnd, Token::ArrayEnd)
            | (Expect::FirstKeyOrEnd | Expect::CommaOrObjectEnd, Token::ObjectEnd) => {
                depth -= 1;
                finished = Some(match stack.pop() {
                    Some(Frame::Array(items)) => Node::Array(items),
                    Some(Frame::Object(members, _)) => Node::Object(members),
                    None => Node::Null,
                });
            }
            (Expect::CommaOrArrayEnd, Token::Comma) => expect = Expect::Value,
            (Expect::CommaOrObjectEnd, Token::Comma) => expect = Expect::Key,
            (Expect::FirstKeyOrEnd | Expect::Key, Token::String) => {
                if let Some(Frame::Object(_, key)) = stack.last_mut() {
                    *key = Some(std::mem::take(&mut decoded));
                }
                expect = Expect::Colon;
            }
            (Expect::Colon, Token::Colon) => expect = Expect::Value,
            (Expect::Value, _) => return Err(expected("JSON value")),
            // PostgreSQL 16 parses the first element as any value (17 says "array element").
            (Expect::FirstElementOrEnd, _) => return Err(expected("JSON value")),
            (Expect::CommaOrArrayEnd, _) => return Err(expected("\",\" or \"]\"")),
            (Expect::FirstKeyOrEnd, _) => return Err(expected("string or \"}\"")),
            (Expect::Key, _) => return Err(expected("string")),
            (Expect::Colon, _) => return Err(expected("\":\"")),
            (Expect::CommaOrObjectEnd, _) => return Err(expected("\",\" or \"}\"")),
        }
    }
}

/// `json_in`: the text, unchanged, once it is known to be valid JSON.
pub(crate) fn parse_json(text: &str) -> Result<String, TypeError> {
    parse(text, false)?;
    Ok(text.to_string())
}

/// `jsonb_in` followed by `jsonb_out`: the canonical text of the value.
pub(crate) fn parse_jsonb(text: &str) -> Result<String, TypeError> {
    let node = parse(text, true)?;
    let mut out = String::with_capacity(text.len());
    write_node(&mut out, node, MAX_JSONB_TEXT)?;
    Ok(out)
}

/// Writes a value in `jsonb_out`'s form, sorting and de-duplicating object keys. Works from an
/// explicit stack, like the parser, so nesting depth costs heap, not thread stack.
fn write_node(out: &mut String, node: Node, max_len: usize) -> Result<(), TypeError> {
    enum Work {
        Node(Node),
        Text(&'static str),
        Key(String),
    }
    let mut work = vec![Work::Node(node)];
    while let Some(item) = work.pop() {
        if out.len() > max_len {
            return Err(TypeError::new(
                sqlstate::PROGRAM_LIMIT_EXCEEDED,
                format!("total size of jsonb value exceeds the maximum of {max_len} bytes"),
            ));
        }
        let mut node = match item {
            Work::Text(t) => {
                out.push_str(t);
                continue;
            }
            Work::Key(key) => {
                escape_json(out, &key);
                out.push_str(": ");
                continue;
            }
            Work::Node(node) => node,
        };
        match &mut node {
            Node::Null => out.push_str("null"),
            Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Node::Number(n) => out.push_str(n),
            Node::String(s) => escape_json(out, s),
            Node::Array(items) => {
                out.push('[');
                work.push(Work::Text("]"));
                let items = std::mem::take(items);
                for (i, item) in items.into_iter().enumerate().rev() {
                    work.push(Work::Node(item));
                    if i > 0 {
                        work.push(Work::Text(", "));
                    }
                }
            }
            Node::Object(members) => {
                let mut members = std::mem::take(members);
                // Stable sort keeps equal keys in input order; the last of each run wins.
                members.sort_by(|(a, _), (b, _)| {
                    a.len()
                        .cmp(&b.len())
                        .then_with(|| a.as_bytes().cmp(b.as_bytes()))
                });
                let mut unique: Vec<(String, Node)> = Vec::with_capacity(members.len());
                for (key, value) in members {
                    match unique.last_mut() {
                        Some((last, slot)) if *last == key => *slot = value,
                        _ => unique.push((key, value)),
                    }
                }
                out.push('{');
                work.push(Work::Text("}"));
                for (i, (key, value)) in unique.into_iter().enumerate().rev() {
                    work.push(Work::Node(value));
                    work.push(Work::Key(key));
                    if i > 0 {
                        work.push(Work::Text(", "));
                    }
                }
            }
        }
    }
    Ok(())
}

impl Drop for Node {
    /// Frees nested values iteratively, so that dropping a deep tree cannot overflow the stack.
    fn drop(&mut self) {
        let mut pending: Vec<Node> = Vec::new();
        let detach = |node: &mut Node, pending: &mut Vec<Node>| match node {
            Node::Array(items) => pending.append(items),
            Node::Object(members) => pending.extend(members.drain(..).map(|(_, v)| v)),
            _ => {}
        };
        detach(self, &mut pending);
        while let Some(mut node) = pending.pop() {
            detach(&mut node, &mut pending);
        }
    }
}

/// PostgreSQL's `escape_json`.
pub(crate) fn escape_json(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
