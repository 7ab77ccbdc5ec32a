//! `vector`: pgvector's `vector_in` and `vector_out`.
//!
//! Input is `[x1, x2, ...]` with whitespace allowed around elements and brackets; elements are
//! read by C's `strtof` (decimal, hex, `inf`, `nan`), must be finite, and a `vector(n)` column
//! requires exactly `n` of them. At most [`MAX_VECTOR_DIMENSIONS`] elements. Output is
//! `[1,2.5,-0.001]`: no spaces, each element in PostgreSQL's shortest `float4` form.

use storage::types::MAX_VECTOR_DIMENSIONS;

use super::error::{sqlstate, TypeError};
use super::float::{shortest_f32, strtod};

fn is_vector_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// `vector_in` for `vector(dimensions)`.
pub(crate) fn parse_vector(text: &str, dimensions: Option<u32>) -> Result<Vec<f32>, TypeError> {
    let s = text.as_bytes();
    let invalid = || TypeError::invalid_syntax("vector", text);
    let skip = |mut i: usize| {
        while i < s.len() && is_vector_space(s[i]) {
            i += 1;
        }
        i
    };
    let mut i = skip(0);
    if s.get(i) != Some(&b'[') {
        return Err(invalid().with_detail("Vector contents must start with \"[\"."));
    }
    i = skip(i + 1);
    if s.get(i) == Some(&b']') {
        return Err(TypeError::new(
            sqlstate::DATA_EXCEPTION,
            "vector must have at least 1 dimension",
        ));
    }
    let mut values = Vec::new();
    loop {
        if values.len() == MAX_VECTOR_DIMENSIONS as usize {
            return Err(TypeError::new(
                sqlstate::PROGRAM_LIMIT_EXCEEDED,
                format!("vector cannot have more than {MAX_VECTOR_DIMENSIONS} dimensions"),
            ));
        }
        i = skip(i);
        if i >= s.len() {
            return Err(invalid());
        }
        let parsed = strtod(&text[i..], true).ok_or_else(invalid)?;
        if parsed.range_error && parsed.value.is_infinite() {
            let number = text[i..i + parsed.len]
                .trim_start_matches(|c: char| c.is_ascii() && is_vector_space(c as u8));
            return Err(TypeError::new(
                sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
                format!("\"{number}\" is out of range for type vector"),
            ));
        }
        let value = parsed.value as f32;
        if value.is_nan() {
            return Err(TypeError::new(
                sqlstate::DATA_EXCEPTION,
                "NaN not allowed in vector",
            ));
        }
        if value.is_infinite() {
            return Err(TypeError::new(
                sqlstate::DATA_EXCEPTION,
                "infinite value not allowed in vector",
            ));
        }
        values.push(value);
        i = skip(i + parsed.len);
        match s.get(i) {
            Some(b',') => i += 1,
            Some(b']') => {
                i += 1;
                break;
            }
            _ => return Err(invalid()),
        }
    }
    if skip(i) != s.len() {
        return Err(invalid().with_detail("Junk after closing right brace."));
    }
    if let Some(expected) = dimensions {
        if expected as usize != values.len() {
            return Err(TypeError::new(
                sqlstate::DATA_EXCEPTION,
                format!("expected {expected} dimensions, not {}", values.len()),
            ));
        }
    }
    Ok(values)
}

/// `vector_out`.
pub(crate) fn format_vector(values: &[f32]) -> String {
    let mut out = String::with_capacity(values.len() * 8 + 2);
    out.push('[');
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&shortest_f32(*v));
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_prints_like_pgvector() {
        let cases: &[(&str, &str)] = &[
            ("[1,2,3]", "[1,2,3]"),
            (" [ 1 , 2.5 ,-3 ] ", "[1,2.5,-3]"),
            ("[1.1]", "[1.1]"),
            ("[0.1,0.2,0.3]", "[0.1,0.2,0.3]"),
            (
                "[1e7,1e-7,123456,1234567]",
                "[1e+07,1e-07,123456,1.234567e+06]",
            ),
            ("[3.4028235e38]", "[3.4028235e+38]"),
            ("[1e-50]", "[0]"),
            ("[-0]", "[-0]"),
            ("[0x10]", "[16]"),
            ("[+1.5]", "[1.5]"),
            ("[.5]", "[0.5]"),
            ("[0.333333333333]", "[0.33333334]"),
        ];
        for (text, want) in cases {
            let v = parse_vector(text, None).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(format_vector(&v), *want, "{text}");
        }
    }

    #[test]
    fn errors_match_pgvector() {
        let cases: &[(&str, Option<u32>, &str, &str)] = &[
            ("[]", None, "22000", "vector must have at least 1 dimension"),
            (
                "[ ]",
                None,
                "22000",
                "vector must have at least 1 dimension",
            ),
            (
                "",
                None,
                "22P02",
                "invalid input syntax for type vector: \"\"",
            ),
            (
                "1,2",
                None,
                "22P02",
                "invalid input syntax for type vector: \"1,2\"",
            ),
            (
                "[1,2",
                None,
                "22P02",
                "invalid input syntax for type vector: \"[1,2\"",
            ),
            (
                "[1,]",
                None,
                "22P02",
                "invalid input syntax for type vector: \"[1,]\"",
            ),
            (
                "[1 2]",
                None,
                "22P02",
                "invalid input syntax for type vector: \"[1 2]\"",
            ),
            (
                "[a]",
                None,
                "22P02",
                "invalid input syntax for type vector: \"[a]\"",
            ),
            (
                "[1]x",
                None,
                "22P02",
                "invalid input syntax for type vector: \"[1]x\"",
            ),
            (
                "[1,,2]",
                None,
                "22P02",
                "invalid input syntax for type vector: \"[1,,2]\"",
            ),
            ("[NaN]", None, "22000", "NaN not allowed in vector"),
            (
                "[1,inf]",
                None,
                "22000",
                "infinite value not allowed in vector",
            ),
            (
                "[-Infinity]",
                None,
                "22000",
                "infinite value not allowed in vector",
            ),
            (
                "[1e39]",
                None,
                "22003",
                "\"1e39\" is out of range for type vector",
            ),
            (
                "[1, -1e39]",
                None,
                "22003",
                "\"-1e39\" is out of range for type vector",
            ),
            ("[1,2]", Some(3), "22000", "expected 3 dimensions, not 2"),
            (
                "[1,2,3,4]",
                Some(3),
                "22000",
                "expected 3 dimensions, not 4",
            ),
        ];
        for (text, dims, state, message) in cases {
            let e = parse_vector(text, *dims).unwrap_err();
            assert_eq!(
                (e.sqlstate, e.message.as_str()),
                (*state, *message),
                "{text:?}"
            );
        }
        assert_eq!(
            parse_vector("[1,2,3]", Some(3)).unwrap(),
            vec![1.0, 2.0, 3.0]
        );
    }

    #[test]
    fn dimension_limit_is_enforced() {
        let at_limit = format!("[{}]", vec!["1"; MAX_VECTOR_DIMENSIONS as usize].join(","));
        assert_eq!(
            parse_vector(&at_limit, None).unwrap().len(),
            MAX_VECTOR_DIMENSIONS as usize
        );
        let over = format!(
            "[{}]",
            vec!["1"; MAX_VECTOR_DIMENSIONS as usize + 1].join(",")
        );
        let e = parse_vector(&over, None).unwrap_err();
        assert_eq!(
            (e.sqlstate, e.message.as_str()),
            ("54000", "vector cannot have more than 16000 dimensions")
        );
    }
}
