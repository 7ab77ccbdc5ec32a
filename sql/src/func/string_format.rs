//! Quoting, formatting, hashing and binary encodings: `quote_ident`, `quote_literal`,
//! `quote_nullable`, `format`, `md5`, `sha224`/`sha256`/`sha384`/`sha512`, `encode` and
//! `decode` (`hex`, `base64`, `escape`).
//!
//! `format` is PostgreSQL's `text_format`: `%s` (output text, NULL as empty), `%I`
//! (identifier), `%L` (literal, NULL as `NULL`), `%%`, positions `n$`, width and `-` flag,
//! `*` widths from arguments. Encodings follow `encode.c`, base64 wrapped at 76 columns.

use sha2::Digest;
use storage::types::Value;

use super::array::value_output;
use super::registry::Registry;
use super::{args, FnCtx, Param, Returns, Volatility};
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;

pub fn register(reg: &mut Registry) {
    use SqlType::{Bytea, Text};
    reg.typed("quote_ident", &[Text], Text, quote_ident);
    reg.typed("quote_literal", &[Text], Text, quote_literal_fn);
    reg.scalar(
        "quote_literal",
        vec![Param::AnyElement],
        Returns::Type(Text),
        quote_literal_fn,
    )
    .volatility(Volatility::Stable);
    reg.typed("quote_nullable", &[Text], Text, quote_nullable)
        .strict(false);
    reg.scalar(
        "quote_nullable",
        vec![Param::AnyElement],
        Returns::Type(Text),
        quote_nullable,
    )
    .strict(false)
    .volatility(Volatility::Stable);
    reg.scalar(
        "format",
        vec![Param::Type(Text), Param::Any],
        Returns::Type(Text),
        format,
    )
    .variadic()
    .strict(false)
    .volatility(Volatility::Stable);
    reg.scalar(
        "format",
        vec![Param::Type(Text)],
        Returns::Type(Text),
        format,
    )
    .strict(false)
    .volatility(Volatility::Stable);
    reg.typed("md5", &[Text], Text, md5_fn);
    reg.typed("md5", &[Bytea], Text, md5_fn);
    reg.typed("sha224", &[Bytea], Bytea, sha224);
    reg.typed("sha256", &[Bytea], Bytea, sha256);
    reg.typed("sha384", &[Bytea], Bytea, sha384);
    reg.typed("sha512", &[Bytea], Bytea, sha512);
    reg.typed("encode", &[Bytea, Text], Text, encode);
    reg.typed("decode", &[Text, Text], Bytea, decode);
}

/// Keywords that `quote_ident` must quote (PostgreSQL's reserved, column-name and
/// type/function-name keywords; unreserved ones need no quotes).
const QUOTED_KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "json",
    "json_array",
    "json_arrayagg",
    "json_object",
    "json_objectagg",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

/// PostgreSQL's `quote_identifier`: quoted unless all lower-case letters, digits and
/// underscores (not starting with a digit) and not a keyword that needs quoting.
pub fn quote_identifier(name: &str) -> String {
    let safe = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !QUOTED_KEYWORDS.contains(&name);
    if safe {
        return name.to_string();
    }
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// PostgreSQL's `quote_literal`: quotes doubled, and an `E` prefix with doubled
/// backslashes when the text has any.
pub fn quote_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 3);
    if s.contains('\\') {
        out.push('E');
    }
    out.push('\'');
    for c in s.chars() {
        if c == '\'' || c == '\\' {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

fn quote_ident(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Text(quote_identifier(args::text(a, 0)?)))
}

fn text_of_any(ctx: &FnCtx, v: &Value) -> String {
    match v {
        Value::Text(s) => s.clone(),
        other => value_output(ctx, other),
    }
}

fn quote_literal_fn(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Text(quote_literal(&text_of_any(
        ctx,
        args::arg(a, 0)?,
    ))))
}

fn quote_nullable(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Text(match args::arg(a, 0)? {
        Value::Null => "NULL".into(),
        v => quote_literal(&text_of_any(ctx, v)),
    }))
}

fn format_error(message: &str) -> SqlError {
    SqlError::new(code::INVALID_PARAMETER_VALUE, message.to_string())
}

fn unterminated() -> SqlError {
    format_error("unterminated format() type specifier").with_hint("For a single \"%\" use \"%%\".")
}

/// Reads digits at `i`; returns the number and the index after them.
fn read_number(chars: &[char], mut i: usize) -> SqlResult<(Option<usize>, usize)> {
    let start = i;
    let mut n: usize = 0;
    while i < chars.len() && chars[i].is_ascii_digit() {
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(chars[i] as usize - '0' as usize))
            .ok_or_else(|| format_error("number is out of range"))?;
        i += 1;
    }
    Ok(((i > start).then_some(n), i))
}

/// `format(fmt, args...)`.
fn format(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let Value::Text(fmt) = args::arg(a, 0)? else {
        return Ok(Value::Null);
    };
    let values = &a[1..];
    let chars: Vec<char> = fmt.chars().collect();
    let mut out = String::new();
    let mut next_arg = 0usize;
    let mut i = 0;
    let take_arg = |pos: Option<usize>, next: &mut usize| -> SqlResult<&Value> {
        let index = match pos {
            Some(p) => p - 1,
            None => *next,
        };
        *next = index + 1;
        values
            .get(index)
            .ok_or_else(|| format_error("too few arguments for format()"))
    };
    while i < chars.len() {
        if chars[i] != '%' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        i += 1;
        if i >= chars.len() {
            return Err(unterminated());
        }
        if chars[i] == '%' {
            out.push('%');
            i += 1;
            continue;
        }
        // Optional argument position `n$`.
        let (number, after) = read_number(&chars, i)?;
        let mut position = None;
        if let Some(n) = number {
            if chars.get(after) == Some(&'$') {
                if n == 0 {
                    return Err(format_error(
                        "format specifies argument 0, but arguments are numbered from 1",
                    ));
                }
                position = Some(n);
                i = after + 1;
            }
        }
        let mut left_align = false;
        while chars.get(i) == Some(&'-') {
            left_align = true;
            i += 1;
        }
        let mut width: Option<i64> = None;
        if chars.get(i) == Some(&'*') {
            i += 1;
            let (n, after) = read_number(&chars, i)?;
            let width_pos = if n.is_some() && chars.get(after) == Some(&'$') {
                i = after + 1;
                n
            } else {
                None
            };
            let w = take_arg(width_pos, &mut next_arg)?;
            width = match w {
                Value::Null => None,
                Value::Int2(_) | Value::Int4(_) | Value::Int8(_) => {
                    Some(args::int(std::slice::from_ref(w), 0)?)
                }
                other => Some(
                    text_of_any(ctx, other)
                        .trim()
                        .parse()
                        .map_err(|_| format_error("invalid input syntax for type integer"))?,
                ),
            };
        } else {
            let (n, after) = read_number(&chars, i)?;
            if let Some(n) = n {
                width = Some(n as i64);
                i = after;
            }
        }
        let Some(&conversion) = chars.get(i) else {
            return Err(unterminated());
        };
        i += 1;
        let value = take_arg(position, &mut next_arg)?;
        let text = match conversion {
            's' => match value {
                Value::Null => String::new(),
                v => text_of_any(ctx, v),
            },
            'I' => match value {
                Value::Null => {
                    return Err(SqlError::new(
                        code::NULL_VALUE_NOT_ALLOWED,
                        "null values cannot be formatted as an SQL identifier",
                    ))
                }
                v => quote_identifier(&text_of_any(ctx, v)),
            },
            'L' => match value {
                Value::Null => "NULL".into(),
                v => quote_literal(&text_of_any(ctx, v)),
            },
            other => {
                return Err(format_error(&format!(
                    "unrecognized format() type specifier \"{other}\""
                ))
                .with_hint("For a single \"%\" use \"%%\"."))
            }
        };
        let (left, w) = match width {
            Some(w) if w < 0 => (true, w.unsigned_abs() as usize),
            Some(w) => (left_align, w as usize),
            None => (left_align, 0),
        };
        if w > super::string::MAX_STRING_BYTES {
            return Err(SqlError::new(
                code::PROGRAM_LIMIT_EXCEEDED,
                "requested length too large",
            ));
        }
        let len = text.chars().count();
        if len >= w {
            out.push_str(&text);
        } else if left {
            out.push_str(&text);
            out.extend(std::iter::repeat_n(' ', w - len));
        } else {
            out.extend(std::iter::repeat_n(' ', w - len));
            out.push_str(&text);
        }
        if out.len() > super::string::MAX_STRING_BYTES {
            return Err(SqlError::new(
                code::PROGRAM_LIMIT_EXCEEDED,
                "requested length too large",
            ));
        }
    }
    Ok(Value::Text(out))
}

/// MD5 (RFC 1321) of `data`, as 32 lower-case hex digits.
pub fn md5_hex(data: &[u8]) -> String {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32)
        .collect();
    let mut state: [u32; 4] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_le_bytes());
    for chunk in msg.chunks(64) {
        let m: Vec<u32> = chunk
            .chunks(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let [mut a, mut b, mut c, mut d] = state;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let rotated = a
                .wrapping_add(f)
                .wrapping_add(k[i])
                .wrapping_add(m[g])
                .rotate_left(S[i]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(rotated);
        }
        state[0] = state[0].wrapping_add(a);
        state[1] = state[1].wrapping_add(b);
        state[2] = state[2].wrapping_add(c);
        state[3] = state[3].wrapping_add(d);
    }
    state
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn md5_fn(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Text(md5_hex(args::bytes(a, 0)?)))
}

fn sha224(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Bytea(
        sha2::Sha224::digest(args::bytes(a, 0)?).to_vec(),
    ))
}

fn sha256(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Bytea(
        sha2::Sha256::digest(args::bytes(a, 0)?).to_vec(),
    ))
}

fn sha384(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Bytea(
        sha2::Sha384::digest(args::bytes(a, 0)?).to_vec(),
    ))
}

fn sha512(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Bytea(
        sha2::Sha512::digest(args::bytes(a, 0)?).to_vec(),
    ))
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn unknown_encoding(name: &str) -> SqlError {
    format_error(&format!("unrecognized encoding: \"{name}\""))
}

fn encode(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let data = args::bytes(a, 0)?;
    let format = args::text(a, 1)?;
    let mut out = String::new();
    match format.to_ascii_lowercase().as_str() {
        "hex" => {
            for b in data {
                out.push_str(&format!("{b:02x}"));
            }
        }
        "base64" => {
            let mut column = 0;
            for chunk in data.chunks(3) {
                let n = chunk.len();
                let buf = (chunk[0] as u32) << 16
                    | (*chunk.get(1).unwrap_or(&0) as u32) << 8
                    | *chunk.get(2).unwrap_or(&0) as u32;
                for i in 0..4 {
                    out.push(if i <= n {
                        B64[(buf >> (18 - 6 * i) & 63) as usize] as char
                    } else {
                        '='
                    });
                }
                column += 4;
                if column >= 76 {
                    out.push('\n');
                    column = 0;
                }
            }
            if out.ends_with('\n') {
                out.pop();
            }
        }
        "escape" => {
            for &b in data {
                match b {
                    b'\\' => out.push_str("\\\\"),
                    0 | 0x80..=0xff => out.push_str(&format!("\\{b:03o}")),
                    b => out.push(b as char),
                }
            }
        }
        _ => return Err(unknown_encoding(format)),
    }
    Ok(Value::Text(out))
}

fn decode(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let text = args::text(a, 0)?;
    let format = args::text(a, 1)?;
    Ok(Value::Bytea(match format.to_ascii_lowercase().as_str() {
        "hex" => decode_hex(text)?,
        "base64" => decode_base64(text)?,
        "escape" => decode_escape(text)?,
        _ => return Err(unknown_encoding(format)),
    }))
}

fn decode_hex(text: &str) -> SqlResult<Vec<u8>> {
    let digits: Vec<char> = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\r'))
        .collect();
    let mut out = Vec::with_capacity(digits.len() / 2);
    for pair in digits.chunks(2) {
        let value = |c: char| {
            c.to_digit(16)
                .ok_or_else(|| format_error(&format!("invalid hexadecimal digit: \"{c}\"")))
        };
        let hi = value(pair[0])?;
        let Some(&second) = pair.get(1) else {
            return Err(format_error(
                "invalid hexadecimal data: odd number of digits",
            ));
        };
        out.push((hi * 16 + value(second)?) as u8);
    }
    Ok(out)
}

fn decode_base64(text: &str) -> SqlResult<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buf, mut pos, mut end) = (0u32, 0, 0);
    for c in text.chars() {
        if matches!(c, ' ' | '\t' | '\n' | '\r') {
            continue;
        }
        let b = if c == '=' {
            if end == 0 {
                end = match pos {
                    2 => 1,
                    3 => 2,
                    _ => {
                        return Err(format_error(
                            "unexpected \"=\" while decoding base64 sequence",
                        ))
                    }
                };
            }
            0
        } else {
            match B64.iter().position(|x| *x as char == c) {
                Some(v) => v as u32,
                None => {
                    return Err(format_error(&format!(
                        "invalid symbol \"{c}\" found while decoding base64 sequence"
                    )))
                }
            }
        };
        buf = (buf << 6) | b;
        pos += 1;
        if pos == 4 {
            out.push((buf >> 16) as u8);
            if end == 0 || end > 1 {
                out.push((buf >> 8) as u8);
            }
            if end == 0 || end > 2 {
                out.push(buf as u8);
            }
            buf = 0;
            pos = 0;
        }
    }
    if pos != 0 {
        return Err(format_error("invalid base64 end sequence")
            .with_hint("Input data is missing padding, is truncated, or is otherwise corrupted."));
    }
    Ok(out)
}

fn decode_escape(text: &str) -> SqlResult<Vec<u8>> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let invalid = || {
        SqlError::new(
            code::INVALID_TEXT_REPRESENTATION,
            "invalid input syntax for type bytea",
        )
    };
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
        } else if b.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else if i + 3 < b.len()
            && (b'0'..=b'3').contains(&b[i + 1])
            && (b'0'..=b'7').contains(&b[i + 2])
            && (b'0'..=b'7').contains(&b[i + 3])
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            return Err(invalid());
        }
    }
    Ok(out)
}
