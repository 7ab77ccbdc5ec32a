//! A JSON value tree for the json/jsonb functions, with jsonb's canonical printing and order.
//!
//! Inputs are texts the type layer has already validated (`json` keeps its text verbatim,
//! `jsonb` holds its canonical text), so parsing here only has to be correct on valid JSON; a
//! malformed text still fails cleanly with 22P02. Numbers keep their text (`1.50` stays). The
//! parser keeps its own stack; trees deeper than [`MAX_TREE_DEPTH`] are refused (54001)
//! because printing and dropping them recurse.
//!
//! `jsonb` order is PostgreSQL's `compareJsonbContainers`: Object > Array > Boolean > Number >
//! String > Null; containers compare by element / pair count first, then element by element
//! (object keys in jsonb's storage order, shorter keys first); a top-level scalar sorts below
//! any non-empty array and above the empty one. Strings compare by bytes (C collation).

use std::cmp::Ordering;

use bigdecimal::BigDecimal;

use crate::error::{code, SqlError, SqlResult};

/// Deepest nesting the tree functions accept. Printing, comparing and dropping a tree
/// recurse, so deeper documents fail with 54001 as PostgreSQL's stack check fails them,
/// instead of overflowing a worker thread's stack.
pub const MAX_TREE_DEPTH: usize = 1000;

/// One JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// The number as written (valid JSON number syntax).
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

fn invalid(detail: &str) -> SqlError {
    SqlError::new(
        code::INVALID_TEXT_REPRESENTATION,
        "invalid input syntax for type json",
    )
    .with_detail(detail.to_string())
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && matches!(self.s[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.pos).copied()
    }

    fn expect(&mut self, b: u8) -> SqlResult<()> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(invalid("Unexpected token."))
        }
    }

    fn string(&mut self) -> SqlResult<String> {
        self.expect(b'"')?;
        let mut out = String::new();
        loop {
            let start = self.pos;
            while self.pos < self.s.len() && !matches!(self.s[self.pos], b'"' | b'\\') {
                self.pos += 1;
            }
            out.push_str(&self.text[start..self.pos]);
            match self.s.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    let esc = *self
                        .s
                        .get(self.pos + 1)
                        .ok_or_else(|| invalid("Unterminated string."))?;
                    self.pos += 2;
                    match esc {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let mut code = self.hex4()?;
                            if (0xD800..0xDC00).contains(&code)
                                && self.s.get(self.pos) == Some(&b'\\')
                                && self.s.get(self.pos + 1) == Some(&b'u')
                            {
                                self.pos += 2;
                                let low = self.hex4()?;
                                code = 0x10000
                                    + ((code - 0xD800) << 10)
                                    + (low.wrapping_sub(0xDC00) & 0x3FF);
                            }
                            out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                        }
                        _ => return Err(invalid("Invalid escape.")),
                    }
                }
                _ => return Err(invalid("Unterminated string.")),
            }
        }
    }

    fn hex4(&mut self) -> SqlResult<u32> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| invalid("Invalid unicode escape."))?;
        self.pos += 4;
        u32::from_str_radix(digits, 16).map_err(|_| invalid("Invalid unicode escape."))
    }

    fn scalar(&mut self) -> SqlResult<Json> {
        match self.peek() {
            Some(b'"') => Ok(Json::String(self.string()?)),
            Some(b't') if self.s[self.pos..].starts_with(b"true") => {
                self.pos += 4;
                Ok(Json::Bool(true))
            }
            Some(b'f') if self.s[self.pos..].starts_with(b"false") => {
                self.pos += 5;
                Ok(Json::Bool(false))
            }
            Some(b'n') if self.s[self.pos..].starts_with(b"null") => {
                self.pos += 4;
                Ok(Json::Null)
            }
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                while self.pos < self.s.len()
                    && matches!(
                        self.s[self.pos],
                        b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
                    )
                {
                    self.pos += 1;
                }
                Ok(Json::Number(self.text[start..self.pos].to_string()))
            }
            _ => Err(invalid("Expected JSON value.")),
        }
    }
}

/// Parses a JSON text into a tree.
pub fn parse(text: &str) -> SqlResult<Json> {
    enum Frame {
        Array(Vec<Json>),
        Object(Vec<(String, Json)>, String),
    }
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        pos: 0,
    };
    let mut stack: Vec<Frame> = Vec::new();
    loop {
        if stack.len() > MAX_TREE_DEPTH {
            return Err(SqlError::new(code::STATEMENT_TOO_COMPLEX, "stack depth limit exceeded")
                .with_hint("Increase the configuration parameter \"max_stack_depth\" (currently 2048kB), after ensuring the platform's stack depth limit is adequate."));
        }
        // Read one value (or open a container).
        let mut value = match p.peek() {
            Some(b'[') => {
                p.pos += 1;
                if p.peek() == Some(b']') {
                    p.pos += 1;
                    Json::Array(Vec::new())
                } else {
                    stack.push(Frame::Array(Vec::new()));
                    continue;
                }
            }
            Some(b'{') => {
                p.pos += 1;
                if p.peek() == Some(b'}') {
                    p.pos += 1;
                    Json::Object(Vec::new())
                } else {
                    let key = p.string()?;
                    p.expect(b':')?;
                    stack.push(Frame::Object(Vec::new(), key));
                    continue;
                }
            }
            _ => p.scalar()?,
        };
        // Attach it to its container, closing containers as they end.
        loop {
            match stack.last_mut() {
                None => {
                    if p.peek().is_some() {
                        return Err(invalid("Expected end of input."));
                    }
                    return Ok(value);
                }
                Some(Frame::Array(items)) => {
                    items.push(value);
                    match p.peek() {
                        Some(b',') => {
                            p.pos += 1;
                            break;
                        }
                        Some(b']') => {
                            p.pos += 1;
                            let Some(Frame::Array(items)) = stack.pop() else {
                                unreachable!()
                            };
                            value = Json::Array(items);
                        }
                        _ => return Err(invalid("Expected \",\" or \"]\".")),
                    }
                }
                Some(Frame::Object(members, key)) => {
                    members.push((std::mem::take(key), value));
                    match p.peek() {
                        Some(b',') => {
                            p.pos += 1;
                            *key = p.string()?;
                            p.expect(b':')?;
                            break;
                        }
                        Some(b'}') => {
                            p.pos += 1;
                            let Some(Frame::Object(members, _)) = stack.pop() else {
                                unreachable!()
                            };
                            value = Json::Object(members);
                        }
                        _ => return Err(invalid("Expected \",\" or \"}\".")),
                    }
                }
            }
        }
    }
}

/// The raw texts of the top-level items of a JSON text: `(key, text)` pairs for an object,
/// `(None, text)` for array elements; `None` for a scalar. Used by the `json` (not `jsonb`)
/// functions, which return sub-values verbatim.
#[allow(clippy::type_complexity)]
pub fn top_level_items(text: &str) -> SqlResult<Option<Vec<(Option<String>, &str)>>> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        pos: 0,
    };
    let (is_object, close) = match p.peek() {
        Some(b'[') => (false, b']'),
        Some(b'{') => (true, b'}'),
        _ => return Ok(None),
    };
    p.pos += 1;
    let mut items = Vec::new();
    if p.peek() == Some(close) {
        return Ok(Some(items));
    }
    loop {
        let key = if is_object {
            let k = p.string()?;
            p.expect(b':')?;
            Some(k)
        } else {
            None
        };
        p.skip_ws();
        let start = p.pos;
        skip_value(&mut p)?;
        items.push((key, &text[start..p.pos]));
        match p.peek() {
            Some(b',') => p.pos += 1,
            Some(c) if c == close => return Ok(Some(items)),
            _ => return Err(invalid("Unexpected token.")),
        }
    }
}

/// Advances past one value without building it.
fn skip_value(p: &mut Parser) -> SqlResult<()> {
    let mut depth = 0usize;
    loop {
        match p.peek() {
            Some(b'[' | b'{') => {
                depth += 1;
                p.pos += 1;
            }
            Some(b']' | b'}') if depth > 0 => {
                depth -= 1;
                p.pos += 1;
            }
            Some(b',' | b':') if depth > 0 => p.pos += 1,
            Some(_) => {
                p.scalar()?;
            }
            None => return Err(invalid("The input string ended unexpectedly.")),
        }
        if depth == 0 {
            return Ok(());
        }
    }
}

/// PostgreSQL's `escape_json`.
pub fn escape(out: &mut String, s: &str) {
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

/// The jsonb storage order of object keys: shorter first, then by bytes.
pub fn key_order(a: &str, b: &str) -> Ordering {
    a.len()
        .cmp(&b.len())
        .then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

impl Json {
    /// jsonb normalisation: object keys sorted in storage order, the last duplicate kept,
    /// numbers printed as `numeric` prints them.
    pub fn normalize(self) -> Json {
        match self {
            Json::Array(items) => Json::Array(items.into_iter().map(Json::normalize).collect()),
            Json::Object(mut members) => {
                members.sort_by(|(a, _), (b, _)| key_order(a, b));
                let mut unique: Vec<(String, Json)> = Vec::with_capacity(members.len());
                for (k, v) in members {
                    let v = v.normalize();
                    match unique.last_mut() {
                        Some((last, slot)) if *last == k => *slot = v,
                        _ => unique.push((k, v)),
                    }
                }
                Json::Object(unique)
            }
            Json::Number(n) => Json::Number(canonical_number(&n)),
            other => other,
        }
    }

    /// The canonical `jsonb` text (`jsonb_out`) of a normalised value.
    pub fn to_jsonb_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, ", ", ": ");
        out
    }

    /// Compact text with the given separators.
    pub fn write(&self, out: &mut String, item_sep: &str, key_sep: &str) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(n) => out.push_str(n),
            Json::String(s) => escape(out, s),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(item_sep);
                    }
                    item.write(out, item_sep, key_sep);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push_str(item_sep);
                    }
                    escape(out, k);
                    out.push_str(key_sep);
                    v.write(out, item_sep, key_sep);
                }
                out.push('}');
            }
        }
    }

    /// `jsonb_typeof` / `json_typeof`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "boolean",
            Json::Number(_) => "number",
            Json::String(_) => "string",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
        }
    }

    /// The member `key` of an object (the last one, as jsonb keeps).
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Element `index` of an array (negative counts from the end).
    pub fn index(&self, index: i64) -> Option<&Json> {
        match self {
            Json::Array(items) => {
                let i = if index < 0 {
                    items.len() as i64 + index
                } else {
                    index
                };
                usize::try_from(i).ok().and_then(|i| items.get(i))
            }
            _ => None,
        }
    }

    /// `->>`'s text of a value: strings unquoted, null as SQL NULL, others as jsonb text.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Json::Null => None,
            Json::String(s) => Some(s.clone()),
            other => Some(other.to_jsonb_text()),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Json::Null => 0,
            Json::String(_) => 1,
            Json::Number(_) => 2,
            Json::Bool(_) => 3,
            Json::Array(_) => 0x10,
            Json::Object(_) => 0x11,
        }
    }
}

/// A number as `numeric` prints it (`1e2` → `100`, `1.50` stays).
pub fn canonical_number(text: &str) -> String {
    match text.parse::<BigDecimal>() {
        Ok(d) => storage::types::Numeric::Finite(super::decimal::with_display_scale(d)).to_string(),
        Err(_) => text.to_string(),
    }
}

fn number_value(text: &str) -> BigDecimal {
    text.parse().unwrap_or_default()
}

enum Token<'a> {
    Begin { rank: u8, count: usize, raw: bool },
    Key(&'a str),
    Scalar(&'a Json),
    End,
}

fn tokens(root: &Json) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    enum Work<'a> {
        Value(&'a Json),
        End,
        Key(&'a str),
    }
    let top = match root {
        Json::Array(_) | Json::Object(_) => vec![Work::Value(root)],
        scalar => {
            out.push(Token::Begin {
                rank: 0x10,
                count: 1,
                raw: true,
            });
            vec![Work::End, Work::Value(scalar)]
        }
    };
    let mut work = top;
    while let Some(w) = work.pop() {
        match w {
            Work::End => out.push(Token::End),
            Work::Key(k) => out.push(Token::Key(k)),
            Work::Value(v) => match v {
                Json::Array(items) => {
                    out.push(Token::Begin {
                        rank: v.rank(),
                        count: items.len(),
                        raw: false,
                    });
                    work.push(Work::End);
                    for item in items.iter().rev() {
                        work.push(Work::Value(item));
                    }
                }
                Json::Object(members) => {
                    out.push(Token::Begin {
                        rank: v.rank(),
                        count: members.len(),
                        raw: false,
                    });
                    work.push(Work::End);
                    for (k, val) in members.iter().rev() {
                        work.push(Work::Value(val));
                        work.push(Work::Key(k));
                    }
                }
                scalar => out.push(Token::Scalar(scalar)),
            },
        }
    }
    out
}

fn compare_scalars(a: &Json, b: &Json) -> Ordering {
    match (a, b) {
        (Json::Null, Json::Null) => Ordering::Equal,
        (Json::String(x), Json::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Json::Number(x), Json::Number(y)) => number_value(x).cmp(&number_value(y)),
        (Json::Bool(x), Json::Bool(y)) => x.cmp(y),
        _ => a.rank().cmp(&b.rank()),
    }
}

/// PostgreSQL's jsonb order (`compareJsonbContainers`).
pub fn compare_jsonb(a: &Json, b: &Json) -> Ordering {
    let ta = tokens(a);
    let tb = tokens(b);
    for (x, y) in ta.iter().zip(tb.iter()) {
        let ord = match (x, y) {
            (Token::End, Token::End) => Ordering::Equal,
            (Token::Key(k1), Token::Key(k2)) => k1.as_bytes().cmp(k2.as_bytes()),
            (Token::Scalar(s1), Token::Scalar(s2)) => compare_scalars(s1, s2),
            (
                Token::Begin {
                    rank: r1,
                    count: c1,
                    raw: raw1,
                },
                Token::Begin {
                    rank: r2,
                    count: c2,
                    raw: raw2,
                },
            ) => {
                if r1 != r2 {
                    r1.cmp(r2)
                } else {
                    let mut ord = Ordering::Equal;
                    if raw1 != raw2 {
                        ord = if *raw1 {
                            Ordering::Less
                        } else {
                            Ordering::Greater
                        };
                    }
                    if c1 != c2 {
                        ord = c1.cmp(c2);
                    }
                    ord
                }
            }
            (Token::Scalar(s), Token::Begin { rank, .. }) => s.rank().cmp(rank),
            (Token::Begin { rank, .. }, Token::Scalar(s)) => rank.cmp(&s.rank()),
            (Token::End, _) => Ordering::Less,
            (_, Token::End) => Ordering::Greater,
            (Token::Key(_), _) => Ordering::Less,
            (_, Token::Key(_)) => Ordering::Greater,
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    ta.len().cmp(&tb.len())
}

/// Appends a key for `value` such that two jsonb values have equal keys iff they compare
/// equal (numbers by value).
pub fn write_key(value: &Json, out: &mut Vec<u8>) {
    match value {
        Json::Null => out.push(0),
        Json::Bool(b) => out.extend([1, *b as u8]),
        Json::Number(n) => {
            out.push(2);
            let normalized = number_value(n).normalized().to_string();
            write_bytes(out, normalized.as_bytes());
        }
        Json::String(s) => {
            out.push(3);
            write_bytes(out, s.as_bytes());
        }
        Json::Array(items) => {
            out.push(4);
            out.extend((items.len() as u64).to_le_bytes());
            for item in items {
                write_key(item, out);
            }
        }
        Json::Object(members) => {
            out.push(5);
            out.extend((members.len() as u64).to_le_bytes());
            for (k, v) in members {
                write_bytes(out, k.as_bytes());
                write_key(v, out);
            }
        }
    }
}

fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend((bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(s: &str) -> Json {
        parse(s).unwrap()
    }

    #[test]
    fn parses_and_prints_canonical_jsonb() {
        let v = j(r#"{"b": [1, 2.50, {"x": null}], "a": "s\"q", "b": true}"#).normalize();
        assert_eq!(v.to_jsonb_text(), r#"{"a": "s\"q", "b": true}"#);
        assert_eq!(j("1e2").normalize().to_jsonb_text(), "100");
        assert!(parse("[1,").is_err());
        assert!(parse("[1] x").is_err());
    }

    #[test]
    fn deep_documents_are_refused_not_overflowing() {
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        assert_eq!(parse(&deep).unwrap_err().code, "54001");
        let ok = format!("{}{}", "[".repeat(500), "]".repeat(500));
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn top_level_items_keep_the_source_text() {
        let items = top_level_items(r#"{"a": [1,  2], "b" : 1.50}"#)
            .unwrap()
            .unwrap();
        assert_eq!(items[0], (Some("a".to_string()), "[1,  2]"));
        assert_eq!(items[1], (Some("b".to_string()), "1.50"));
        assert!(top_level_items("3").unwrap().is_none());
    }

    #[test]
    fn jsonb_order_follows_postgres() {
        let order = |a: &str, b: &str| compare_jsonb(&j(a).normalize(), &j(b).normalize());
        assert_eq!(order("1.0", "1"), Ordering::Equal);
        assert_eq!(order("{}", "[]"), Ordering::Greater);
        assert_eq!(order("true", "1"), Ordering::Greater);
        assert_eq!(order("1", "\"a\""), Ordering::Greater);
        assert_eq!(order("null", "\"a\""), Ordering::Less);
        assert_eq!(order("[1, 2]", "[3]"), Ordering::Greater);
        assert_eq!(order("[]", "null"), Ordering::Less);
        assert_eq!(order("1", "[1]"), Ordering::Less);
        assert_eq!(order(r#"{"a": 2}"#, r#"{"a": 1}"#), Ordering::Greater);
    }
}
