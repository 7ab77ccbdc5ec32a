//! Pattern matching: LIKE / ILIKE (`~~ ~~* !~~ !~~*` and `like_escape`), SIMILAR TO
//! (`similar_to_escape`, as PostgreSQL 13+ rewrites it to a regex), and POSIX regular
//! expressions (`~ ~* !~ !~*`) with a per-thread cache of compiled patterns.
//!
//! Regular expressions run on the `regex` crate (linear time, no backtracking). PostgreSQL's
//! ARE syntax is translated where the two differ: `\m` `\M` `\y` `\Y` `\Z` and `[[:<:]]`
//! `[[:>:]]` word boundaries; `.` matches newlines unless the `n` flag asks for
//! newline-sensitive matching. Back-references and look-around, which the `regex` crate
//! cannot run, fail with 2201B `invalid regular expression: ...`, as do malformed patterns.

use std::cell::RefCell;

use regex::{Regex, RegexBuilder};
use storage::types::Value;

use super::registry::Registry;
use super::{args, FnCtx};
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;

/// Compiled patterns kept per thread.
const REGEX_CACHE_SIZE: usize = 32;
/// Largest compiled program accepted (bytes), against patterns that explode.
const REGEX_SIZE_LIMIT: usize = 8 << 20;

pub fn register(reg: &mut Registry) {
    use SqlType::{Bool, Char, Name, Text};
    for t in [Text, Char(None), Name] {
        reg.typed("~~", &[t.clone(), Text], Bool, like);
        reg.typed("!~~", &[t.clone(), Text], Bool, not_like);
        reg.typed("~~*", &[t.clone(), Text], Bool, ilike);
        reg.typed("!~~*", &[t.clone(), Text], Bool, not_ilike);
        reg.typed("~", &[t.clone(), Text], Bool, regex_match);
        reg.typed("!~", &[t.clone(), Text], Bool, regex_not_match);
        reg.typed("~*", &[t.clone(), Text], Bool, regex_imatch);
        reg.typed("!~*", &[t.clone(), Text], Bool, regex_not_imatch);
    }
    reg.typed("like", &[Text, Text], Bool, like);
    reg.typed("ilike", &[Text, Text], Bool, ilike);
    reg.typed("like_escape", &[Text, Text], Text, like_escape);
    reg.typed(
        "similar_to_escape",
        &[Text],
        Text,
        similar_to_escape_default,
    );
    reg.typed("similar_to_escape", &[Text, Text], Text, similar_to_escape);
    reg.typed("similar_escape", &[Text, Text], Text, similar_to_escape)
        .strict(false);
}

enum LikeToken {
    Any,
    One,
    Char(char),
}

fn like_tokens(pattern: &str) -> SqlResult<Vec<LikeToken>> {
    let mut out = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        out.push(match c {
            '%' => LikeToken::Any,
            '_' => LikeToken::One,
            '\\' => match chars.next() {
                Some(escaped) => LikeToken::Char(escaped),
                None => {
                    return Err(SqlError::new(
                        code::INVALID_ESCAPE_SEQUENCE,
                        "LIKE pattern must not end with escape character",
                    ))
                }
            },
            c => LikeToken::Char(c),
        });
    }
    Ok(out)
}

/// Whether `text` matches the LIKE `pattern` (backslash escapes).
pub fn like_matches(text: &str, pattern: &str, case_insensitive: bool) -> SqlResult<bool> {
    use std::borrow::Cow;
    let (text, pattern): (Cow<str>, Cow<str>) = if case_insensitive {
        (text.to_lowercase().into(), pattern.to_lowercase().into())
    } else {
        (text.into(), pattern.into())
    };
    // The common shapes need no matcher: 'abc', 'abc%', '%abc', '%abc%'.
    if !pattern.contains(['_', '\\']) {
        let inner = pattern.trim_matches('%');
        if !inner.contains('%') {
            if inner.is_empty() {
                return Ok(!pattern.is_empty() || text.is_empty());
            }
            return Ok(match (pattern.starts_with('%'), pattern.ends_with('%')) {
                (false, false) => *text == *inner,
                (false, true) => text.starts_with(inner),
                (true, false) => text.ends_with(inner),
                (true, true) => text.contains(inner),
            });
        }
    }
    let tokens = like_tokens(&pattern)?;
    let s: Vec<char> = text.chars().collect();
    // Two-pointer match with backtracking to the last `%`.
    let (mut si, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        match tokens.get(pi) {
            Some(LikeToken::Any) => {
                star = Some((pi, si));
                pi += 1;
            }
            Some(LikeToken::One) => {
                si += 1;
                pi += 1;
            }
            Some(LikeToken::Char(c)) if *c == s[si] => {
                si += 1;
                pi += 1;
            }
            _ => match star {
                Some((star_pi, star_si)) => {
                    pi = star_pi + 1;
                    si = star_si + 1;
                    star = Some((star_pi, star_si + 1));
                }
                None => return Ok(false),
            },
        }
    }
    Ok(tokens[pi.min(tokens.len())..]
        .iter()
        .all(|t| matches!(t, LikeToken::Any)))
}

fn like_op(a: &[Value], insensitive: bool, negate: bool) -> SqlResult<Value> {
    let matched = like_matches(args::text(a, 0)?, args::text(a, 1)?, insensitive)?;
    Ok(Value::Bool(matched != negate))
}

fn like(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    like_op(a, false, false)
}

fn not_like(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    like_op(a, false, true)
}

fn ilike(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    like_op(a, true, false)
}

fn not_ilike(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    like_op(a, true, true)
}

fn invalid_escape() -> SqlError {
    SqlError::new(code::INVALID_ESCAPE_SEQUENCE, "invalid escape string")
        .with_hint("Escape string must be empty or one character.")
}

/// `like_escape(pattern, escape)`: the pattern rewritten to use backslash as its escape.
fn like_escape(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let pattern = args::text(a, 0)?;
    let escape = args::text(a, 1)?;
    let mut esc_chars = escape.chars();
    let esc = esc_chars.next();
    if esc_chars.next().is_some() {
        return Err(invalid_escape());
    }
    let mut out = String::with_capacity(pattern.len());
    match esc {
        None => {
            // No escape character: backslashes become literal.
            for c in pattern.chars() {
                if c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
        }
        Some('\\') => out.push_str(pattern),
        Some(e) => {
            let mut after_escape = false;
            for c in pattern.chars() {
                if after_escape {
                    if c != e {
                        out.push('\\');
                    }
                    out.push(c);
                    after_escape = false;
                } else if c == e {
                    after_escape = true;
                } else if c == '\\' {
                    out.push_str("\\\\");
                } else {
                    out.push(c);
                }
            }
            if after_escape {
                return Err(SqlError::new(
                    code::INVALID_ESCAPE_SEQUENCE,
                    "LIKE pattern must not end with escape character",
                ));
            }
        }
    }
    Ok(Value::Text(out))
}

/// PostgreSQL's `similar_escape_internal`: a SIMILAR TO pattern as a POSIX regex.
pub fn similar_to_regex(pattern: &str, escape: Option<char>) -> SqlResult<String> {
    let mut r = String::from("^(?:");
    let mut after_escape = false;
    let mut in_class = false;
    let mut nquotes = 0;
    for c in pattern.chars() {
        if after_escape {
            if c == '"' && !in_class {
                match nquotes {
                    0 => r.push_str("){1,1}?("),
                    1 => r.push_str("){1,1}(?:"),
                    _ => {
                        return Err(SqlError::new(
                            "2200B",
                            "SQL regular expression may not contain more than two escape-double-quote separators",
                        ))
                    }
                }
                nquotes += 1;
            } else {
                r.push('\\');
                r.push(c);
            }
            after_escape = false;
        } else if Some(c) == escape {
            after_escape = true;
        } else if in_class {
            if c == '\\' {
                r.push('\\');
            }
            r.push(c);
            if c == ']' {
                in_class = false;
            }
        } else {
            match c {
                '[' => {
                    r.push('[');
                    in_class = true;
                }
                '%' => r.push_str(".*"),
                '_' => r.push('.'),
                '(' => r.push_str("(?:"),
                '\\' | '.' | '^' | '$' => {
                    r.push('\\');
                    r.push(c);
                }
                c => r.push(c),
            }
        }
    }
    r.push_str(")$");
    Ok(r)
}

fn similar_to_escape_default(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Text(similar_to_regex(
        args::text(a, 0)?,
        Some('\\'),
    )?))
}

fn similar_to_escape(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let pattern = match args::arg(a, 0)? {
        Value::Null => return Ok(Value::Null),
        _ => args::text(a, 0)?,
    };
    let escape = match args::arg(a, 1)? {
        Value::Null => Some('\\'),
        _ => {
            let e = args::text(a, 1)?;
            let mut chars = e.chars();
            let first = chars.next();
            if chars.next().is_some() {
                return Err(invalid_escape());
            }
            first
        }
    };
    Ok(Value::Text(similar_to_regex(pattern, escape)?))
}

/// Options of a regular expression (PostgreSQL's flag letters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RegexFlags {
    pub case_insensitive: bool,
    pub newline_sensitive: bool,
    pub extended: bool,
    pub literal: bool,
    pub global: bool,
}

impl RegexFlags {
    /// Reads a flags string (`g`, `i`, `c`, `n`, `s`, `x`, `q`, ...).
    pub fn parse(flags: &str) -> SqlResult<RegexFlags> {
        let mut f = RegexFlags::default();
        for c in flags.chars() {
            match c {
                'g' => f.global = true,
                'i' => f.case_insensitive = true,
                'c' => f.case_insensitive = false,
                'n' | 'm' | 'p' | 'w' => f.newline_sensitive = true,
                's' => f.newline_sensitive = false,
                'x' => f.extended = true,
                'q' => f.literal = true,
                'b' | 'e' | 't' => {}
                other => {
                    return Err(SqlError::new(
                        code::INVALID_PARAMETER_VALUE,
                        format!("invalid regular expression option: \"{other}\""),
                    ))
                }
            }
        }
        Ok(f)
    }
}

/// Translates PostgreSQL ARE syntax to the `regex` crate's where they differ.
fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        if in_class {
            out.push(c);
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else if c == ']' {
                in_class = false;
            }
            continue;
        }
        match c {
            '\\' => match chars.next() {
                Some('m') => out.push_str(r"\b{start}"),
                Some('M') => out.push_str(r"\b{end}"),
                Some('y') => out.push_str(r"\b"),
                Some('Y') => out.push_str(r"\B"),
                Some('Z') => out.push_str(r"\z"),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            },
            '[' => {
                let rest: String = chars.clone().take(6).collect();
                if rest.starts_with("[:<:]]") {
                    out.push_str(r"\b{start}");
                    for _ in 0..6 {
                        chars.next();
                    }
                } else if rest.starts_with("[:>:]]") {
                    out.push_str(r"\b{end}");
                    for _ in 0..6 {
                        chars.next();
                    }
                } else {
                    in_class = true;
                    out.push('[');
                    // A `]` or `^]` right after the opening bracket is literal.
                    if chars.peek() == Some(&'^') {
                        out.push('^');
                        chars.next();
                    }
                    if chars.peek() == Some(&']') {
                        out.push_str(r"\]");
                        chars.next();
                    }
                }
            }
            c => out.push(c),
        }
    }
    out
}

fn regex_error(err: &regex::Error) -> SqlError {
    let text = err.to_string();
    let reason = if text.contains("unclosed group") || text.contains("unopened group") {
        "parentheses () not balanced".to_string()
    } else if text.contains("unclosed character class") {
        "brackets [] not balanced".to_string()
    } else if text.contains("repetition operator missing expression") {
        "quantifier operand invalid".to_string()
    } else if text.contains("look-around") || text.contains("backreference") {
        "look-around and back-references are not supported".to_string()
    } else if text.contains("exceeds size limit") {
        "regular expression is too complex".to_string()
    } else {
        text.lines()
            .rev()
            .find(|l| l.starts_with("error:"))
            .map(|l| l.trim_start_matches("error:").trim().to_string())
            .unwrap_or_else(|| "invalid pattern".to_string())
    };
    SqlError::new(
        code::INVALID_REGULAR_EXPRESSION,
        format!("invalid regular expression: {reason}"),
    )
}

thread_local! {
    static CACHE: RefCell<Vec<(String, RegexFlags, Regex)>> = const { RefCell::new(Vec::new()) };
}

/// The compiled form of a PostgreSQL regular expression, from the per-thread cache.
pub fn compile(pattern: &str, flags: RegexFlags) -> SqlResult<Regex> {
    let key_flags = RegexFlags {
        global: false,
        ..flags
    };
    if let Some(found) = CACHE.with(|c| {
        let mut cache = c.borrow_mut();
        let pos = cache
            .iter()
            .position(|(p, f, _)| p == pattern && *f == key_flags)?;
        let entry = cache.remove(pos);
        let regex = entry.2.clone();
        cache.insert(0, entry);
        Some(regex)
    }) {
        return Ok(found);
    }
    let source = if flags.literal {
        regex::escape(pattern)
    } else {
        translate(pattern)
    };
    let regex = RegexBuilder::new(&source)
        .case_insensitive(flags.case_insensitive)
        .dot_matches_new_line(!flags.newline_sensitive)
        .multi_line(flags.newline_sensitive)
        .ignore_whitespace(flags.extended)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| regex_error(&e))?;
    CACHE.with(|c| {
        let mut cache = c.borrow_mut();
        cache.insert(0, (pattern.to_string(), key_flags, regex.clone()));
        cache.truncate(REGEX_CACHE_SIZE);
    });
    Ok(regex)
}

fn regex_op(a: &[Value], insensitive: bool, negate: bool) -> SqlResult<Value> {
    let flags = RegexFlags {
        case_insensitive: insensitive,
        ..RegexFlags::default()
    };
    let re = compile(args::text(a, 1)?, flags)?;
    Ok(Value::Bool(re.is_match(args::text(a, 0)?) != negate))
}

fn regex_match(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    regex_op(a, false, false)
}

fn regex_not_match(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    regex_op(a, false, true)
}

fn regex_imatch(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    regex_op(a, true, false)
}

fn regex_not_imatch(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    regex_op(a, true, true)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{err, ok};
    use super::*;
    use SqlType::{Text, Unknown};

    #[test]
    fn like_matches_postgres() {
        let m = |t: &str, p: &str| like_matches(t, p, false).unwrap();
        assert!(m("abc", "a%"));
        assert!(m("abc", "%c"));
        assert!(m("abc", "_b_"));
        assert!(!m("abc", "_b"));
        assert!(m("a_c", "a\\_c"));
        assert!(!m("abc", "a\\_c"));
        assert!(m("", "%"));
        assert!(m("mississippi", "%iss%pi"));
        for (text, pattern, expected) in [
            ("", "", true),
            ("a", "", false),
            ("", "%", true),
            ("", "%%", true),
            ("abc", "%%", true),
            ("abc", "abc", true),
            ("abcd", "abc", false),
            ("abcd", "abc%", true),
            ("xabc", "%abc", true),
            ("abcx", "%abc", false),
            ("xabcx", "%abc%", true),
            ("xabx", "%%abc%%", false),
            ("ab", "a%b%", true),
            ("a_b", "a\\_b", true),
            ("axb", "a\\_b", false),
            ("axb", "a_b", true),
        ] {
            assert_eq!(m(text, pattern), expected, "{text:?} LIKE {pattern:?}");
        }
        assert!(like_matches("ABC", "a%", true).unwrap());
        assert_eq!(
            err("~~", &[("abc", Unknown), ("ab\\", Unknown)]),
            (
                "22025".into(),
                "LIKE pattern must not end with escape character".into()
            )
        );
        assert_eq!(ok("like_escape", &[("a#%", Text), ("#", Text)]), "a\\%");
    }

    #[test]
    fn similar_to_translates_like_postgres() {
        let s = |p: &str| similar_to_regex(p, Some('\\')).unwrap();
        assert_eq!(s("a%b_c"), "^(?:a.*b.c)$");
        assert_eq!(s("a$b.c|d"), "^(?:a\\$b\\.c|d)$");
        assert_eq!(s("[a-z]+(x|y)*"), "^(?:[a-z]+(?:x|y)*)$");
        assert_eq!(similar_to_regex("a#%b", Some('#')).unwrap(), "^(?:a\\%b)$");
        assert_eq!(ok("~", &[("abc", Text), (&s("%(b|x)%"), Text)]), "t");
        assert_eq!(ok("~", &[("axb", Text), (&s("a.b"), Text)]), "f");
    }

    #[test]
    fn regex_operators_translate_are_syntax() {
        assert_eq!(ok("~", &[("foo bar", Text), ("\\mbar\\M", Unknown)]), "t");
        assert_eq!(ok("~", &[("foobar", Text), ("\\mbar", Unknown)]), "f");
        assert_eq!(ok("~*", &[("ABC", Text), ("b", Unknown)]), "t");
        assert_eq!(ok("!~", &[("a\nb", Text), ("a.b", Unknown)]), "f");
        assert_eq!(ok("~", &[("a]b", Text), ("[]]", Unknown)]), "t");
        assert_eq!(
            err("~", &[("ab", Text), ("(", Unknown)]),
            (
                "2201B".into(),
                "invalid regular expression: parentheses () not balanced".into()
            )
        );
    }
}
