//! Regular-expression functions: `regexp_replace`, `regexp_match`, `regexp_matches`,
//! `regexp_split_to_array`, `regexp_split_to_table`, `regexp_count`, `regexp_like`,
//! `regexp_substr`, `regexp_instr`, and `substring(text, pattern)`.
//!
//! Patterns compile through [`super::pattern::compile`] (PostgreSQL ARE syntax, cached).
//! Replacement strings use PostgreSQL's `\1`..`\9`, `\&` and `\\`. Splitting ignores
//! zero-length matches at the start or end of the string or right after a previous match,
//! as PostgreSQL does. Positions and counts are in characters.

use regex::{Captures, Regex};
use storage::types::{Array, Row, Value};

use super::pattern::{compile, RegexFlags};
use super::registry::Registry;
use super::{args, FnCtx, Param};
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;

pub fn register(reg: &mut Registry) {
    use SqlType::{Bool, Int4, Text};
    let text_array = SqlType::Array(Box::new(Text));
    reg.typed("regexp_replace", &[Text, Text, Text], Text, replace);
    reg.typed("regexp_replace", &[Text, Text, Text, Text], Text, replace);
    reg.typed(
        "regexp_replace",
        &[Text, Text, Text, Int4],
        Text,
        replace_nth,
    );
    reg.typed(
        "regexp_replace",
        &[Text, Text, Text, Int4, Int4],
        Text,
        replace_nth,
    );
    reg.typed(
        "regexp_replace",
        &[Text, Text, Text, Int4, Int4, Text],
        Text,
        replace_nth,
    );
    reg.typed(
        "regexp_match",
        &[Text, Text],
        text_array.clone(),
        match_once,
    );
    reg.typed(
        "regexp_match",
        &[Text, Text, Text],
        text_array.clone(),
        match_once,
    );
    reg.set_returning(
        "regexp_matches",
        vec![Param::Type(Text), Param::Type(Text)],
        matches_columns,
        matches,
    );
    reg.set_returning(
        "regexp_matches",
        vec![Param::Type(Text), Param::Type(Text), Param::Type(Text)],
        matches_columns,
        matches,
    );
    reg.typed(
        "regexp_split_to_array",
        &[Text, Text],
        text_array.clone(),
        split_array,
    );
    reg.typed(
        "regexp_split_to_array",
        &[Text, Text, Text],
        text_array,
        split_array,
    );
    reg.set_returning(
        "regexp_split_to_table",
        vec![Param::Type(Text), Param::Type(Text)],
        split_columns,
        split_table,
    );
    reg.set_returning(
        "regexp_split_to_table",
        vec![Param::Type(Text), Param::Type(Text), Param::Type(Text)],
        split_columns,
        split_table,
    );
    reg.typed("regexp_count", &[Text, Text], Int4, count);
    reg.typed("regexp_count", &[Text, Text, Int4], Int4, count);
    reg.typed("regexp_count", &[Text, Text, Int4, Text], Int4, count);
    reg.typed("regexp_like", &[Text, Text], Bool, like);
    reg.typed("regexp_like", &[Text, Text, Text], Bool, like);
    reg.typed("regexp_substr", &[Text, Text], Text, substr);
    reg.typed("regexp_substr", &[Text, Text, Int4], Text, substr);
    reg.typed("regexp_substr", &[Text, Text, Int4, Int4], Text, substr);
    reg.typed(
        "regexp_substr",
        &[Text, Text, Int4, Int4, Text],
        Text,
        substr,
    );
    reg.typed(
        "regexp_substr",
        &[Text, Text, Int4, Int4, Text, Int4],
        Text,
        substr,
    );
    reg.typed("regexp_instr", &[Text, Text], Int4, instr);
    reg.typed("regexp_instr", &[Text, Text, Int4], Int4, instr);
    reg.typed("regexp_instr", &[Text, Text, Int4, Int4], Int4, instr);
    reg.typed("regexp_instr", &[Text, Text, Int4, Int4, Int4], Int4, instr);
    reg.typed(
        "regexp_instr",
        &[Text, Text, Int4, Int4, Int4, Text],
        Int4,
        instr,
    );
    reg.typed(
        "regexp_instr",
        &[Text, Text, Int4, Int4, Int4, Text, Int4],
        Int4,
        instr,
    );
    reg.typed("substring", &[Text, Text], Text, substring_pattern);
}

/// Every match the way PostgreSQL finds them: the search resumes at the end of a match, one
/// character further after an empty one (so an empty match right after a non-empty one
/// counts, unlike the `regex` crate's own iterator).
fn all_captures<'t>(re: &Regex, text: &'t str) -> Vec<Captures<'t>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos <= text.len() {
        let Some(caps) = re.captures_at(text, pos) else {
            break;
        };
        let Some(m) = caps.get(0) else { break };
        pos = if m.end() == m.start() {
            m.end() + text[m.end()..].chars().next().map_or(1, char::len_utf8)
        } else {
            m.end()
        };
        out.push(caps);
    }
    out
}

fn flags_arg(a: &[Value], i: usize) -> SqlResult<RegexFlags> {
    match a.get(i) {
        Some(Value::Text(f)) => RegexFlags::parse(f),
        _ => Ok(RegexFlags::default()),
    }
}

fn regex(a: &[Value], flags: RegexFlags) -> SqlResult<Regex> {
    compile(args::text(a, 1)?, flags)
}

/// Appends the replacement with `\n`, `\&` and `\\` substituted (PostgreSQL's rules).
fn expand(out: &mut String, replacement: &str, caps: &Captures) {
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some(d @ '1'..='9') => {
                chars.next();
                let group = d as usize - '0' as usize;
                if let Some(m) = caps.get(group) {
                    out.push_str(m.as_str());
                }
            }
            Some('&') => {
                chars.next();
                out.push_str(caps.get(0).map_or("", |m| m.as_str()));
            }
            Some('\\') => {
                chars.next();
                out.push('\\');
            }
            _ => out.push('\\'),
        }
    }
}

/// Replaces matches from character position `start` (1-based): all of them, or only the
/// `nth` (1-based) when given.
fn replace_impl(
    source: &str,
    re: &Regex,
    replacement: &str,
    start: usize,
    nth: Option<usize>,
    global: bool,
) -> String {
    let begin = source
        .char_indices()
        .nth(start.saturating_sub(1))
        .map_or(source.len(), |(b, _)| b);
    let mut out = String::with_capacity(source.len());
    let mut last = 0;
    let mut seen = 0;
    for caps in all_captures(re, source) {
        let Some(m) = caps.get(0) else { continue };
        if m.start() < begin {
            continue;
        }
        seen += 1;
        let wanted = match nth {
            Some(n) => seen == n,
            None => true,
        };
        if wanted {
            out.push_str(&source[last..m.start()]);
            expand(&mut out, replacement, &caps);
            last = m.end();
            if !global || nth.is_some() {
                break;
            }
        }
    }
    out.push_str(&source[last..]);
    out
}

fn replace(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let flags = flags_arg(a, 3)?;
    let re = regex(a, flags)?;
    Ok(Value::Text(replace_impl(
        args::text(a, 0)?,
        &re,
        args::text(a, 2)?,
        1,
        None,
        flags.global,
    )))
}

fn positive(value: i64, what: &str) -> SqlResult<usize> {
    if value < 1 {
        return Err(SqlError::new(
            code::INVALID_PARAMETER_VALUE,
            format!("invalid value for parameter \"{what}\": {value}"),
        ));
    }
    Ok(value as usize)
}

fn replace_nth(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let start = positive(args::int(a, 3)?, "start")?;
    let n = if a.len() > 4 {
        Some(args::int(a, 4)?)
    } else {
        None
    };
    let flags = flags_arg(a, 5)?;
    if n.is_some_and(|n| n < 0) {
        return Err(SqlError::new(
            code::INVALID_PARAMETER_VALUE,
            format!("invalid value for parameter \"n\": {}", n.unwrap_or(0)),
        ));
    }
    let re = regex(a, flags)?;
    let (nth, global) = match n {
        None => (Some(1), false),
        Some(0) => (None, true),
        Some(k) => (Some(k as usize), false),
    };
    Ok(Value::Text(replace_impl(
        args::text(a, 0)?,
        &re,
        args::text(a, 2)?,
        start,
        nth,
        global,
    )))
}

/// The captured groups of one match as a text[] (the whole match when there are none).
fn groups_array(caps: &Captures, groups: usize) -> Value {
    let elements = if groups == 0 {
        vec![Value::Text(
            caps.get(0).map_or("", |m| m.as_str()).to_string(),
        )]
    } else {
        (1..=groups)
            .map(|g| {
                caps.get(g)
                    .map_or(Value::Null, |m| Value::Text(m.as_str().to_string()))
            })
            .collect()
    };
    Value::Array(Box::new(Array::from_list(elements)))
}

fn match_once(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let flags = flags_arg(a, 2)?;
    if flags.global {
        return Err(SqlError::new(
            code::INVALID_PARAMETER_VALUE,
            "regexp_match() does not support the \"global\" option",
        )
        .with_hint("Use the regexp_matches function instead."));
    }
    let re = regex(a, flags)?;
    let groups = re.captures_len() - 1;
    Ok(re
        .captures(args::text(a, 0)?)
        .map_or(Value::Null, |c| groups_array(&c, groups)))
}

fn matches_columns(_: &[SqlType]) -> Vec<(String, SqlType)> {
    vec![(
        "regexp_matches".into(),
        SqlType::Array(Box::new(SqlType::Text)),
    )]
}

fn matches(_: &FnCtx, a: &[Value]) -> SqlResult<Vec<Row>> {
    let flags = flags_arg(a, 2)?;
    let re = regex(a, flags)?;
    let groups = re.captures_len() - 1;
    let text = args::text(a, 0)?;
    let mut rows = Vec::new();
    for caps in all_captures(&re, text) {
        rows.push(vec![groups_array(&caps, groups)]);
        if !flags.global {
            break;
        }
    }
    Ok(rows)
}

/// The pieces between the non-degenerate matches.
fn split(text: &str, re: &Regex) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut last = 0;
    let mut prev_end: Option<usize> = None;
    for caps in all_captures(re, text) {
        let Some(m) = caps.get(0) else { continue };
        if m.start() == m.end()
            && (m.start() == 0 || m.start() == text.len() || Some(m.start()) == prev_end)
        {
            continue;
        }
        pieces.push(text[last..m.start()].to_string());
        last = m.end();
        prev_end = Some(m.end());
    }
    pieces.push(text[last..].to_string());
    pieces
}

fn split_flags(a: &[Value]) -> SqlResult<RegexFlags> {
    let flags = flags_arg(a, 2)?;
    if flags.global {
        return Err(SqlError::new(
            code::INVALID_PARAMETER_VALUE,
            "regexp_split_to_array() does not support the \"global\" option",
        ));
    }
    Ok(flags)
}

fn split_array(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let re = regex(a, split_flags(a)?)?;
    let pieces = split(args::text(a, 0)?, &re);
    Ok(Value::Array(Box::new(Array::from_list(
        pieces.into_iter().map(Value::Text).collect(),
    ))))
}

fn split_columns(_: &[SqlType]) -> Vec<(String, SqlType)> {
    vec![("regexp_split_to_table".into(), SqlType::Text)]
}

fn split_table(_: &FnCtx, a: &[Value]) -> SqlResult<Vec<Row>> {
    let re = regex(a, split_flags(a)?)?;
    Ok(split(args::text(a, 0)?, &re)
        .into_iter()
        .map(|p| vec![Value::Text(p)])
        .collect())
}

/// Byte offset of 1-based character position `start` (clamped to the end).
fn byte_at(text: &str, start: usize) -> usize {
    text.char_indices()
        .nth(start - 1)
        .map_or(text.len(), |(b, _)| b)
}

fn count(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let start = if a.len() > 2 {
        positive(args::int(a, 2)?, "start")?
    } else {
        1
    };
    let re = regex(a, flags_arg(a, 3)?)?;
    let text = args::text(a, 0)?;
    let begin = byte_at(text, start);
    let n = all_captures(&re, text)
        .iter()
        .filter(|c| c.get(0).is_some_and(|m| m.start() >= begin))
        .count();
    Ok(Value::Int4(n as i32))
}

fn like(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let re = regex(a, flags_arg(a, 2)?)?;
    Ok(Value::Bool(re.is_match(args::text(a, 0)?)))
}

/// The `n`-th match at or after `start` and the group `sub` within it (byte range).
fn nth_match(
    a: &[Value],
    start_arg: usize,
    flags_at: usize,
    sub_at: usize,
) -> SqlResult<Option<(usize, usize)>> {
    let text = args::text(a, 0)?;
    let start = if a.len() > start_arg {
        positive(args::int(a, start_arg)?, "start")?
    } else {
        1
    };
    let n = if a.len() > start_arg + 1 {
        positive(args::int(a, start_arg + 1)?, "n")?
    } else {
        1
    };
    let sub = if a.len() > sub_at {
        args::int(a, sub_at)?
    } else {
        0
    };
    if sub < 0 {
        return Err(SqlError::new(
            code::INVALID_PARAMETER_VALUE,
            format!("invalid value for parameter \"subexpr\": {sub}"),
        ));
    }
    let re = regex(a, flags_arg(a, flags_at)?)?;
    let begin = byte_at(text, start);
    let found = all_captures(&re, text)
        .into_iter()
        .filter(|c| c.get(0).is_some_and(|m| m.start() >= begin))
        .nth(n - 1)
        .and_then(|caps| caps.get(sub as usize).map(|m| (m.start(), m.end())));
    Ok(found)
}

fn substr(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let text = args::text(a, 0)?;
    Ok(nth_match(a, 2, 4, 5)?.map_or(Value::Null, |(s, e)| Value::Text(text[s..e].to_string())))
}

fn instr(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let text = args::text(a, 0)?;
    let end_option = if a.len() > 4 { args::int(a, 4)? } else { 0 };
    Ok(Value::Int4(match nth_match(a, 2, 5, 6)? {
        None => 0,
        Some((s, e)) => {
            let at = if end_option != 0 { e } else { s };
            text[..at].chars().count() as i32 + 1
        }
    }))
}

/// `substring(text from pattern)`: the first parenthesised group's match if the pattern has
/// groups, else the whole match; NULL without a match.
fn substring_pattern(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let re = regex(a, RegexFlags::default())?;
    let Some(caps) = re.captures(args::text(a, 0)?) else {
        return Ok(Value::Null);
    };
    let group = if re.captures_len() > 1 { 1 } else { 0 };
    Ok(caps
        .get(group)
        .map_or(Value::Null, |m| Value::Text(m.as_str().to_string())))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{err, ok};
    use crate::pgtype::SqlType::{Int4, Text, Unknown};

    #[test]
    fn regexp_functions_match_postgres() {
        assert_eq!(
            ok(
                "regexp_replace",
                &[("Hello World", Text), ("o", Text), ("0", Text)]
            ),
            "Hell0 World"
        );
        assert_eq!(
            ok(
                "regexp_replace",
                &[
                    ("abc", Text),
                    ("(b)", Text),
                    ("[\\1\\&\\\\]", Text),
                    ("g", Unknown)
                ]
            ),
            "a[bb\\]c"
        );
        assert_eq!(
            ok(
                "regexp_replace",
                &[("aaa", Text), ("a*", Text), ("X", Text), ("g", Unknown)]
            ),
            "XX"
        );
        assert_eq!(
            ok(
                "regexp_replace",
                &[("abc", Text), ("", Text), ("X", Text), ("g", Unknown)]
            ),
            "XaXbXcX"
        );
        assert_eq!(
            ok(
                "regexp_replace",
                &[
                    ("abcabc", Text),
                    ("b", Text),
                    ("X", Text),
                    ("1", Int4),
                    ("2", Int4)
                ]
            ),
            "abcaXc"
        );
        assert_eq!(
            ok(
                "regexp_replace",
                &[("a.b", Text), (".", Text), ("x", Text), ("q", Unknown)]
            ),
            "axb"
        );
        assert_eq!(
            ok("regexp_match", &[("foobarbequebaz", Text), ("ba.", Text)]),
            "{bar}"
        );
        assert_eq!(
            ok("regexp_match", &[("abc", Text), ("(x)?(b)", Text)]),
            "{NULL,b}"
        );
        assert_eq!(ok("regexp_match", &[("abc", Text), ("z", Text)]), "NULL");
        assert_eq!(
            ok(
                "regexp_matches",
                &[("foobarbequebaz", Text), ("ba.", Text), ("g", Unknown)]
            ),
            "{bar};{baz}"
        );
        assert_eq!(
            ok("regexp_matches", &[("foobarbequebaz", Text), ("ba.", Text)]),
            "{bar}"
        );
        assert_eq!(
            ok(
                "regexp_split_to_array",
                &[("hello world", Text), ("\\s*", Text)]
            ),
            "{h,e,l,l,o,w,o,r,l,d}"
        );
        assert_eq!(
            ok("regexp_split_to_array", &[(",a,,b,", Text), (",", Text)]),
            "{\"\",a,\"\",b,\"\"}"
        );
        assert_eq!(
            ok("regexp_split_to_table", &[("a1b2c", Text), ("\\d", Text)]),
            "a;b;c"
        );
        assert_eq!(ok("regexp_count", &[("abcabc", Text), ("b", Text)]), "2");
        assert_eq!(
            ok("regexp_like", &[("ABC", Text), ("b", Text), ("i", Unknown)]),
            "t"
        );
        assert_eq!(
            ok(
                "regexp_substr",
                &[("abcabc", Text), ("b.", Text), ("1", Int4), ("2", Int4)]
            ),
            "bc"
        );
        assert_eq!(ok("regexp_instr", &[("abcabc", Text), ("c", Text)]), "3");
        assert_eq!(ok("substring", &[("foobar", Text), ("o+", Text)]), "oo");
        assert_eq!(ok("substring", &[("foobar", Text), ("o(.)b", Text)]), "o");
        assert_eq!(ok("substring", &[("abc", Text), ("(z)", Text)]), "NULL");
        assert_eq!(
            err(
                "regexp_match",
                &[("abc", Text), ("b", Text), ("g", Unknown)]
            )
            .1,
            "regexp_match() does not support the \"global\" option"
        );
        assert_eq!(
            err(
                "regexp_replace",
                &[("abc", Text), ("b", Text), ("x", Text), ("z", Unknown)]
            )
            .1,
            "invalid regular expression option: \"z\""
        );
    }
}
