//! `boolean`: PostgreSQL's `boolin` (`parse_bool_with_len`) and `boolout`.
//!
//! Input is case-insensitive after trimming whitespace: any prefix of `true`, `false`, `yes`,
//! `no`; `on` and `off` (at least two letters, since `o` alone is ambiguous); `1` and `0`.
//! Output is `t` or `f`.

use super::error::{trim_c_space, TypeError};

/// `boolin`.
pub(crate) fn parse_bool(text: &str) -> Result<bool, TypeError> {
    let word = trim_c_space(text).to_ascii_lowercase();
    let is_prefix_of = |full: &str, min_len: usize| {
        word.len() >= min_len && word.len() <= full.len() && full.starts_with(word.as_str())
    };
    let value = match word.as_bytes().first() {
        Some(b't') if is_prefix_of("true", 1) => Some(true),
        Some(b'f') if is_prefix_of("false", 1) => Some(false),
        Some(b'y') if is_prefix_of("yes", 1) => Some(true),
        Some(b'n') if is_prefix_of("no", 1) => Some(false),
        Some(b'o') if is_prefix_of("on", 2) => Some(true),
        Some(b'o') if is_prefix_of("off", 2) => Some(false),
        Some(b'1') if word == "1" => Some(true),
        Some(b'0') if word == "0" => Some(false),
        _ => None,
    };
    value.ok_or_else(|| TypeError::invalid_syntax("boolean", text))
}

/// `boolout`.
pub(crate) fn format_bool(value: bool) -> &'static str {
    if value {
        "t"
    } else {
        "f"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_postgres_spellings() {
        let cases: &[(&str, bool)] = &[
            ("t", true),
            ("tr", true),
            ("TRUE", true),
            ("  true  ", true),
            ("y", true),
            ("yes", true),
            ("on", true),
            ("ON", true),
            ("1", true),
            ("f", false),
            ("fal", false),
            ("False", false),
            ("n", false),
            ("no", false),
            ("of", false),
            ("off", false),
            ("0", false),
            ("\tyes\n", true),
        ];
        for (text, want) in cases {
            assert_eq!(parse_bool(text), Ok(*want), "{text:?}");
        }
    }

    #[test]
    fn rejects_everything_else_with_postgres_message() {
        for text in [
            "", "o", "truee", "yess", "onn", "offf", "2", "01", "10", "t r", "nope", "ja",
        ] {
            let err = parse_bool(text).unwrap_err();
            assert_eq!(err.sqlstate, "22P02");
            assert_eq!(
                err.message,
                format!("invalid input syntax for type boolean: \"{text}\"")
            );
        }
    }

    #[test]
    fn prints_t_and_f() {
        assert_eq!(format_bool(true), "t");
        assert_eq!(format_bool(false), "f");
    }
}
