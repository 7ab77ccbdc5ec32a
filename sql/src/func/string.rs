//! String functions and operators: `||`, `length` and friends, `lower`, `upper`, `initcap`,
//! `substr`/`substring`, `position`/`strpos`, `replace`, `split_part`, `concat`,
//! `concat_ws`, `left`, `right`, `lpad`, `rpad`, `ltrim`/`rtrim`/`btrim`, `repeat`,
//! `reverse`, `translate`, `ascii`, `chr`, `starts_with`, `overlay`, `to_hex`.
//!
//! Lengths and positions count characters (the server encoding is UTF-8), never bytes, as
//! PostgreSQL does; `char(n)` arguments lose trailing spaces first (`bpchar` → `text`).
//! Results are bounded by [`MAX_STRING_BYTES`] (PostgreSQL's 1 GB field limit).

use storage::types::Value;

use super::array::value_output;
use super::registry::Registry;
use super::{args, cast, FnCtx, Param, Returns, Volatility};
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;

/// Longest string a function builds (PostgreSQL's `MaxAllocSize`, just under 1 GB).
pub const MAX_STRING_BYTES: usize = 0x3fff_ffff;

pub fn register(reg: &mut Registry) {
    use SqlType::{Bool, Bytea, Char, Int4, Int8, Text};
    reg.typed("||", &[Text, Text], Text, concat_op).leakproof();
    reg.scalar(
        "||",
        vec![Param::AnyNonArray, Param::Type(Text)],
        Returns::Type(Text),
        concat_any,
    )
    .volatility(Volatility::Stable);
    reg.scalar(
        "||",
        vec![Param::Type(Text), Param::AnyNonArray],
        Returns::Type(Text),
        concat_any,
    )
    .volatility(Volatility::Stable);
    reg.typed("||", &[Bytea, Bytea], Bytea, bytea_concat);
    for name in ["length", "char_length", "character_length"] {
        reg.typed(name, &[Text], Int4, char_length);
        reg.typed(name, &[Char(None)], Int4, bpchar_length);
    }
    reg.typed("length", &[Bytea], Int4, octet_length);
    reg.typed("octet_length", &[Text], Int4, octet_length);
    reg.typed("octet_length", &[Bytea], Int4, octet_length);
    reg.typed("bit_length", &[Text], Int4, bit_length);
    reg.typed("bit_length", &[Bytea], Int4, bit_length);
    reg.typed("lower", &[Text], Text, lower);
    reg.typed("upper", &[Text], Text, upper);
    reg.typed("initcap", &[Text], Text, initcap);
    for name in ["substr", "substring"] {
        reg.typed(name, &[Text, Int4], Text, substr);
        reg.typed(name, &[Text, Int4, Int4], Text, substr);
        reg.typed(name, &[Bytea, Int4], Bytea, substr_bytes);
        reg.typed(name, &[Bytea, Int4, Int4], Bytea, substr_bytes);
    }
    reg.typed("position", &[Text, Text], Int4, strpos);
    reg.typed("strpos", &[Text, Text], Int4, strpos);
    reg.typed("replace", &[Text, Text, Text], Text, replace);
    reg.typed("split_part", &[Text, Text, Int4], Text, split_part);
    reg.scalar("concat", vec![Param::Any], Returns::Type(Text), concat)
        .variadic()
        .strict(false)
        .volatility(Volatility::Stable);
    reg.scalar(
        "concat_ws",
        vec![Param::Type(Text), Param::Any],
        Returns::Type(Text),
        concat_ws,
    )
    .variadic()
    .strict(false)
    .volatility(Volatility::Stable);
    reg.typed("left", &[Text, Int4], Text, left);
    reg.typed("right", &[Text, Int4], Text, right);
    reg.typed("lpad", &[Text, Int4], Text, lpad);
    reg.typed("lpad", &[Text, Int4, Text], Text, lpad);
    reg.typed("rpad", &[Text, Int4], Text, rpad);
    reg.typed("rpad", &[Text, Int4, Text], Text, rpad);
    for (name, f) in [
        ("ltrim", ltrim as super::ScalarFn),
        ("rtrim", rtrim),
        ("btrim", btrim),
    ] {
        reg.typed(name, &[Text], Text, f);
        reg.typed(name, &[Text, Text], Text, f);
    }
    reg.typed("btrim", &[Bytea, Bytea], Bytea, trim_bytes);
    reg.typed("repeat", &[Text, Int4], Text, repeat);
    reg.typed("reverse", &[Text], Text, reverse);
    reg.typed("translate", &[Text, Text, Text], Text, translate);
    reg.typed("ascii", &[Text], Int4, ascii);
    reg.typed("chr", &[Int4], Text, chr);
    reg.typed("starts_with", &[Text, Text], Bool, starts_with);
    reg.typed("^@", &[Text, Text], Bool, starts_with);
    reg.typed("overlay", &[Text, Text, Int4], Text, overlay);
    reg.typed("overlay", &[Text, Text, Int4, Int4], Text, overlay);
    reg.typed("to_hex", &[Int4], Text, to_hex32);
    reg.typed("to_hex", &[Int8], Text, to_hex64);
}

fn too_long() -> SqlError {
    SqlError::new(code::PROGRAM_LIMIT_EXCEEDED, "requested length too large")
}

fn text_value(s: String) -> SqlResult<Value> {
    if s.len() > MAX_STRING_BYTES {
        return Err(too_long());
    }
    Ok(Value::Text(s))
}

fn concat_op(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = (args::text(a, 0)?, args::text(a, 1)?);
    let mut s = String::with_capacity(x.len() + y.len());
    s.push_str(x);
    s.push_str(y);
    text_value(s)
}

/// `anynonarray || text` and `text || anynonarray`: the non-text side cast to text.
fn concat_any(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let piece = |v: &Value| match v {
        Value::Text(s) => s.clone(),
        other => cast::text_of(ctx, other, &super::array::element_type_of(other)),
    };
    text_value(piece(args::arg(a, 0)?) + &piece(args::arg(a, 1)?))
}

fn bytea_concat(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let mut out = args::bytes(a, 0)?.to_vec();
    out.extend_from_slice(args::bytes(a, 1)?);
    Ok(Value::Bytea(out))
}

fn char_length(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Int4(args::text(a, 0)?.chars().count() as i32))
}

fn bpchar_length(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Int4(
        args::text(a, 0)?.trim_end_matches(' ').chars().count() as i32,
    ))
}

fn octet_length(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Int4(args::bytes(a, 0)?.len() as i32))
}

fn bit_length(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Int4(args::bytes(a, 0)?.len() as i32 * 8))
}

fn lower(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Text(args::text(a, 0)?.to_lowercase()))
}

fn upper(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Text(args::text(a, 0)?.to_uppercase()))
}

/// `initcap`: the first letter of each alphanumeric run upper-cased, the rest lower-cased.
fn initcap(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let mut out = String::new();
    let mut in_word = false;
    for c in args::text(a, 0)?.chars() {
        if in_word {
            out.extend(c.to_lowercase());
        } else {
            out.extend(c.to_uppercase());
        }
        in_word = c.is_alphanumeric();
    }
    Ok(Value::Text(out))
}

fn negative_length() -> SqlError {
    SqlError::new("22011", "negative substring length not allowed")
}

/// The `[start, start+len)` window of 1-based positions clipped to `0..n` (SQL's rules).
fn substring_range(n: usize, start: i64, len: Option<i64>) -> SqlResult<(usize, usize)> {
    let begin = start.max(1);
    let end = match len {
        Some(l) if l < 0 => return Err(negative_length()),
        Some(l) => start.saturating_add(l),
        None => i64::MAX,
    };
    let from = (begin - 1).clamp(0, n as i64) as usize;
    let to = (end - 1).clamp(0, n as i64) as usize;
    Ok((from, to.max(from)))
}

fn substr(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let s = args::text(a, 0)?;
    let len = if a.len() > 2 {
        Some(args::int(a, 2)?)
    } else {
        None
    };
    let n = s.chars().count();
    let (from, to) = substring_range(n, args::int(a, 1)?, len)?;
    Ok(Value::Text(s.chars().skip(from).take(to - from).collect()))
}

fn substr_bytes(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let b = args::bytes(a, 0)?;
    let len = if a.len() > 2 {
        Some(args::int(a, 2)?)
    } else {
        None
    };
    let (from, to) = substring_range(b.len(), args::int(a, 1)?, len)?;
    Ok(Value::Bytea(b[from..to].to_vec()))
}

/// 1-based character position of `needle` in `haystack`, 0 if absent.
pub fn char_position(haystack: &str, needle: &str) -> i32 {
    match haystack.find(needle) {
        Some(byte) => haystack[..byte].chars().count() as i32 + 1,
        None => 0,
    }
}

fn strpos(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Int4(char_position(
        args::text(a, 0)?,
        args::text(a, 1)?,
    )))
}

fn replace(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (s, from, to) = (args::text(a, 0)?, args::text(a, 1)?, args::text(a, 2)?);
    if from.is_empty() {
        return Ok(Value::Text(s.to_string()));
    }
    text_value(s.replace(from, to))
}

fn split_part(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (s, sep, n) = (args::text(a, 0)?, args::text(a, 1)?, args::int(a, 2)?);
    if n == 0 {
        return Err(SqlError::new(
            code::INVALID_PARAMETER_VALUE,
            "field position must not be zero",
        ));
    }
    let parts: Vec<&str> = if sep.is_empty() {
        if s.is_empty() {
            Vec::new()
        } else {
            vec![s]
        }
    } else {
        s.split(sep).collect()
    };
    let index = if n > 0 { n - 1 } else { parts.len() as i64 + n };
    Ok(Value::Text(
        usize::try_from(index)
            .ok()
            .and_then(|i| parts.get(i))
            .map_or(String::new(), |p| p.to_string()),
    ))
}

fn concat(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let mut out = String::new();
    for v in a {
        match v {
            Value::Null => {}
            Value::Text(s) => out.push_str(s),
            other => out.push_str(&value_output(ctx, other)),
        }
    }
    text_value(out)
}

fn concat_ws(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let Value::Text(sep) = args::arg(a, 0)? else {
        return Ok(Value::Null);
    };
    let mut out = String::new();
    let mut first = true;
    for v in &a[1..] {
        let piece = match v {
            Value::Null => continue,
            Value::Text(s) => s.clone(),
            other => value_output(ctx, other),
        };
        if !first {
            out.push_str(sep);
        }
        first = false;
        out.push_str(&piece);
    }
    text_value(out)
}

fn left(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (s, n) = (args::text(a, 0)?, args::int(a, 1)?);
    let count = s.chars().count() as i64;
    let take = if n >= 0 {
        n.min(count)
    } else {
        (count + n).max(0)
    };
    Ok(Value::Text(s.chars().take(take as usize).collect()))
}

fn right(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (s, n) = (args::text(a, 0)?, args::int(a, 1)?);
    let count = s.chars().count() as i64;
    let take = if n >= 0 {
        n.min(count)
    } else {
        (count + n).max(0)
    };
    Ok(Value::Text(
        s.chars().skip((count - take) as usize).collect(),
    ))
}

fn pad(a: &[Value], at_left: bool) -> SqlResult<Value> {
    let s = args::text(a, 0)?;
    let len = args::int(a, 1)?.max(0) as usize;
    let fill = if a.len() > 2 { args::text(a, 2)? } else { " " };
    if len.saturating_mul(4) > MAX_STRING_BYTES {
        return Err(too_long());
    }
    let chars: Vec<char> = s.chars().collect();
    if chars.len() >= len || fill.is_empty() {
        return Ok(Value::Text(chars.iter().take(len).collect()));
    }
    let padding: String = fill.chars().cycle().take(len - chars.len()).collect();
    Ok(Value::Text(if at_left {
        padding + s
    } else {
        s.to_string() + &padding
    }))
}

fn lpad(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    pad(a, true)
}

fn rpad(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    pad(a, false)
}

fn ltrim(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    trim_side(ctx, a, TrimSide::Leading)
}

fn rtrim(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    trim_side(ctx, a, TrimSide::Trailing)
}

fn btrim(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    trim_side(ctx, a, TrimSide::Both)
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TrimSide {
    Leading,
    Trailing,
    Both,
}

pub fn trim_side(_: &FnCtx, a: &[Value], side: TrimSide) -> SqlResult<Value> {
    let s = args::text(a, 0)?;
    let set: Vec<char> = if a.len() > 1 {
        args::text(a, 1)?.chars().collect()
    } else {
        vec![' ']
    };
    let mut out = s;
    if side != TrimSide::Trailing {
        out = out.trim_start_matches(|c| set.contains(&c));
    }
    if side != TrimSide::Leading {
        out = out.trim_end_matches(|c| set.contains(&c));
    }
    Ok(Value::Text(out.to_string()))
}

fn trim_bytes(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (b, set) = (args::bytes(a, 0)?, args::bytes(a, 1)?);
    let start = b.iter().position(|x| !set.contains(x)).unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|x| !set.contains(x))
        .map_or(start, |e| e + 1);
    Ok(Value::Bytea(b[start..end.max(start)].to_vec()))
}

fn repeat(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (s, n) = (args::text(a, 0)?, args::int(a, 1)?);
    let n = n.max(0) as usize;
    if s.len().saturating_mul(n) > MAX_STRING_BYTES {
        return Err(too_long());
    }
    Ok(Value::Text(s.repeat(n)))
}

fn reverse(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Text(args::text(a, 0)?.chars().rev().collect()))
}

fn translate(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (s, from, to) = (args::text(a, 0)?, args::text(a, 1)?, args::text(a, 2)?);
    let from: Vec<char> = from.chars().collect();
    let to: Vec<char> = to.chars().collect();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match from.iter().position(|f| *f == c) {
            Some(i) => {
                if let Some(r) = to.get(i) {
                    out.push(*r);
                }
            }
            None => out.push(c),
        }
    }
    Ok(Value::Text(out))
}

fn ascii(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Int4(
        args::text(a, 0)?.chars().next().map_or(0, |c| c as i32),
    ))
}

fn chr(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let n = args::int(a, 0)?;
    if n == 0 {
        return Err(SqlError::new(
            code::PROGRAM_LIMIT_EXCEEDED,
            "null character not permitted",
        ));
    }
    match u32::try_from(n).ok().and_then(char::from_u32) {
        Some(c) => Ok(Value::Text(c.to_string())),
        None if !(0..=0x10FFFF).contains(&n) => Err(SqlError::new(
            code::PROGRAM_LIMIT_EXCEEDED,
            format!("requested character too large for encoding: {n}"),
        )),
        None => Err(SqlError::new(
            code::PROGRAM_LIMIT_EXCEEDED,
            format!("requested character not valid for encoding: {n}"),
        )),
    }
}

fn starts_with(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Bool(
        args::text(a, 0)?.starts_with(args::text(a, 1)?),
    ))
}

/// `overlay(s placing r from start [for count])`.
fn overlay(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (s, r, start) = (args::text(a, 0)?, args::text(a, 1)?, args::int(a, 2)?);
    let count = if a.len() > 3 {
        args::int(a, 3)?
    } else {
        r.chars().count() as i64
    };
    let chars: Vec<char> = s.chars().collect();
    let (_, head_end) = substring_range(chars.len(), 1, Some((start - 1).max(0)))?;
    let tail_start = start.saturating_add(count);
    let (tail_from, tail_to) = substring_range(chars.len(), tail_start, None)?;
    let mut out: String = chars[..head_end].iter().collect();
    out.push_str(r);
    out.extend(&chars[tail_from..tail_to]);
    text_value(out)
}

fn to_hex32(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Text(format!("{:x}", args::int(a, 0)? as i32 as u32)))
}

fn to_hex64(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Text(format!("{:x}", args::int(a, 0)? as u64)))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{err, ok};
    use crate::pgtype::SqlType::{Bool, Int4, Int8, Text, Unknown};

    #[test]
    fn string_functions_match_postgres() {
        assert_eq!(ok("length", &[("héllo", Text)]), "5");
        assert_eq!(ok("octet_length", &[("héllo", Text)]), "6");
        assert_eq!(ok("bit_length", &[("ab", Text)]), "16");
        assert_eq!(
            ok("initcap", &[("hello wORLD foo-bar", Text)]),
            "Hello World Foo-Bar"
        );
        assert_eq!(ok("substr", &[("hello", Text), ("2", Int4)]), "ello");
        assert_eq!(
            ok("substr", &[("hello", Text), ("0", Int4), ("3", Int4)]),
            "he"
        );
        assert_eq!(
            ok("substr", &[("hello", Text), ("-1", Int4), ("3", Int4)]),
            "h"
        );
        assert_eq!(ok("strpos", &[("hello", Text), ("l", Text)]), "3");
        assert_eq!(
            ok("replace", &[("abcabc", Text), ("b", Text), ("X", Text)]),
            "aXcaXc"
        );
        assert_eq!(
            ok("split_part", &[("a,b,c", Text), (",", Text), ("2", Int4)]),
            "b"
        );
        assert_eq!(
            ok("split_part", &[("a,b,c", Text), (",", Text), ("-1", Int4)]),
            "c"
        );
        assert_eq!(
            ok("split_part", &[("a,b,c", Text), (",", Text), ("5", Int4)]),
            ""
        );
        assert_eq!(
            ok(
                "concat",
                &[
                    ("a", Unknown),
                    ("NULL", Unknown),
                    ("1", Int4),
                    ("true", Bool)
                ]
            ),
            "a1t"
        );
        assert_eq!(
            ok(
                "concat_ws",
                &[
                    (",", Unknown),
                    ("a", Unknown),
                    ("NULL", Unknown),
                    ("b", Unknown)
                ]
            ),
            "a,b"
        );
        assert_eq!(ok("left", &[("hello", Text), ("-2", Int4)]), "hel");
        assert_eq!(ok("right", &[("hello", Text), ("-2", Int4)]), "llo");
        assert_eq!(
            ok("lpad", &[("hi", Text), ("5", Int4), ("xy", Text)]),
            "xyxhi"
        );
        assert_eq!(ok("lpad", &[("hello", Text), ("3", Int4)]), "hel");
        assert_eq!(ok("rpad", &[("hi", Text), ("5", Int4)]), "hi   ");
        assert_eq!(ok("rtrim", &[("xxhixx", Text), ("x", Text)]), "xxhi");
        assert_eq!(ok("btrim", &[("xyhiyx", Text), ("xy", Text)]), "hi");
        assert_eq!(ok("repeat", &[("ab", Text), ("3", Int4)]), "ababab");
        assert_eq!(ok("repeat", &[("ab", Text), ("-1", Int4)]), "");
        assert_eq!(ok("reverse", &[("abc", Text)]), "cba");
        assert_eq!(
            ok("translate", &[("12345", Text), ("143", Text), ("ax", Text)]),
            "a2x5"
        );
        assert_eq!(ok("ascii", &[("A", Text)]), "65");
        assert_eq!(ok("chr", &[("65", Int4)]), "A");
        assert_eq!(ok("to_hex", &[("255", Int4)]), "ff");
        assert_eq!(ok("to_hex", &[("-1", Int4)]), "ffffffff");
        assert_eq!(ok("to_hex", &[("-1", Int8)]), "ffffffffffffffff");
        assert_eq!(
            ok(
                "overlay",
                &[("Txxxxas", Text), ("hom", Text), ("2", Int4), ("4", Int4)]
            ),
            "Thomas"
        );
        assert_eq!(ok("||", &[("a", Unknown), ("1", Int4)]), "a1");
        assert_eq!(ok("||", &[("1", Int4), ("a", Unknown)]), "1a");
        assert_eq!(ok("||", &[("true", Bool), ("a", Unknown)]), "truea");
        assert_eq!(ok("||", &[("a", Unknown), ("b", Unknown)]), "ab");
        assert_eq!(
            ok(
                "||",
                &[
                    ("a  ", crate::pgtype::SqlType::Char(Some(3))),
                    ("|", Unknown)
                ]
            ),
            "a|"
        );
    }

    #[test]
    fn string_errors_match_postgres() {
        assert_eq!(
            err("substr", &[("abc", Text), ("2", Int4), ("-1", Int4)]),
            (
                "22011".into(),
                "negative substring length not allowed".into()
            )
        );
        assert_eq!(
            err("chr", &[("0", Int4)]),
            ("54000".into(), "null character not permitted".into())
        );
        assert_eq!(
            err("split_part", &[("a", Text), (",", Text), ("0", Int4)]).1,
            "field position must not be zero"
        );
    }
}
