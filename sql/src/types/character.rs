//! `text`, `varchar(n)` and `char(n)`: PostgreSQL's `textin`, `varchar_input` and
//! `bpchar_input`. Output is the stored string itself (`char(n)` keeps its padding).
//!
//! Lengths count characters, not bytes. A value longer than `n` fails with `value too long for
//! type ...` unless everything past the `n`-th character is spaces (plain U+0020, as in
//! PostgreSQL), which are then cut off without error. `char(n)` pads shorter values with
//! spaces; `char` without a length is `char(1)`.

use super::error::{reject_nul, sqlstate, TypeError};

/// `textin`.
pub(crate) fn parse_text_value(text: &str) -> Result<String, TypeError> {
    reject_nul(text)?;
    Ok(text.to_string())
}

/// `varchar_input` for `varchar(max_len)`.
pub(crate) fn parse_varchar(text: &str, max_len: Option<u32>) -> Result<String, TypeError> {
    reject_nul(text)?;
    let Some(max_len) = max_len else {
        return Ok(text.to_string());
    };
    Ok(clip_to_length(text, max_len as usize)
        .ok_or_else(|| too_long("character varying", max_len))?
        .to_string())
}

/// `bpchar_input` for `char(max_len)`.
pub(crate) fn parse_char(text: &str, max_len: Option<u32>) -> Result<String, TypeError> {
    reject_nul(text)?;
    let max_len = max_len.unwrap_or(1);
    let clipped =
        clip_to_length(text, max_len as usize).ok_or_else(|| too_long("character", max_len))?;
    let chars = clipped.chars().count();
    let mut out = String::with_capacity(clipped.len() + (max_len as usize).saturating_sub(chars));
    out.push_str(clipped);
    out.extend(std::iter::repeat_n(
        ' ',
        (max_len as usize).saturating_sub(chars),
    ));
    Ok(out)
}

/// The first `max_chars` characters of `text`, if everything after them is spaces.
fn clip_to_length(text: &str, max_chars: usize) -> Option<&str> {
    match text.char_indices().nth(max_chars) {
        None => Some(text),
        Some((cut, _)) => text[cut..]
            .bytes()
            .all(|b| b == b' ')
            .then_some(&text[..cut]),
    }
}

fn too_long(type_name: &str, max_len: u32) -> TypeError {
    TypeError::new(
        sqlstate::STRING_DATA_RIGHT_TRUNCATION,
        format!("value too long for type {type_name}({max_len})"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varchar_checks_length_in_characters() {
        let cases: &[(&str, u32, Result<&str, &str>)] = &[
            ("abc", 3, Ok("abc")),
            ("ab", 3, Ok("ab")),
            ("", 3, Ok("")),
            ("abc   ", 3, Ok("abc")),
            ("ab    ", 3, Ok("ab ")),
            ("héé", 3, Ok("héé")),
            ("日本語", 3, Ok("日本語")),
            ("日本語 ", 3, Ok("日本語")),
            (
                "abcd",
                3,
                Err("value too long for type character varying(3)"),
            ),
            (
                "abc  d",
                3,
                Err("value too long for type character varying(3)"),
            ),
            (
                "abc\t",
                3,
                Err("value too long for type character varying(3)"),
            ),
            (
                "日本語x",
                3,
                Err("value too long for type character varying(3)"),
            ),
        ];
        for (text, n, want) in cases {
            let got = parse_varchar(text, Some(*n));
            match want {
                Ok(v) => assert_eq!(got.as_deref(), Ok(*v), "{text:?}"),
                Err(m) => {
                    let e = got.unwrap_err();
                    assert_eq!((e.sqlstate, e.message.as_str()), ("22001", *m), "{text:?}");
                }
            }
        }
        assert_eq!(
            parse_varchar(&"x".repeat(10_000), None).unwrap().len(),
            10_000
        );
    }

    #[test]
    fn char_pads_and_clips_like_bpchar() {
        let cases: &[(&str, Option<u32>, Result<&str, &str>)] = &[
            ("ab", Some(5), Ok("ab   ")),
            ("", Some(3), Ok("   ")),
            ("abcde", Some(5), Ok("abcde")),
            ("abcde   ", Some(5), Ok("abcde")),
            ("é", Some(2), Ok("é ")),
            ("x", None, Ok("x")),
            ("", None, Ok(" ")),
            ("xy", None, Err("value too long for type character(1)")),
            (
                "abcdef",
                Some(5),
                Err("value too long for type character(5)"),
            ),
        ];
        for (text, n, want) in cases {
            let got = parse_char(text, *n);
            match want {
                Ok(v) => assert_eq!(got.as_deref(), Ok(*v), "{text:?}"),
                Err(m) => {
                    let e = got.unwrap_err();
                    assert_eq!((e.sqlstate, e.message.as_str()), ("22001", *m), "{text:?}");
                }
            }
        }
    }

    #[test]
    fn nul_characters_are_refused() {
        for result in [
            parse_text_value("a\0b"),
            parse_varchar("\0", Some(3)),
            parse_char("\0", None),
        ] {
            let e = result.unwrap_err();
            assert_eq!(e.sqlstate, "22021");
            assert_eq!(
                e.message,
                "invalid byte sequence for encoding \"UTF8\": 0x00"
            );
        }
    }
}
