//! Errors of the text forms: a PostgreSQL SQLSTATE, PostgreSQL's exact primary message, and the
//! DETAIL or HINT PostgreSQL attaches where it attaches one.
//!
//! The message text is part of the contract: clients and tests match on it, so every
//! constructor here reproduces the wording of PostgreSQL 16's input functions (`int4in`,
//! `float8in`, `numeric_in`, `varchar_input`, `DateTimeParseError`, `array_in`, `json_in`,
//! pgvector's `vector_in`).

use std::fmt;

/// SQLSTATE codes raised by the type input functions (PostgreSQL's `errcodes.txt`).
pub mod sqlstate {
    /// `data_exception`: pgvector's dimension and element checks.
    pub const DATA_EXCEPTION: &str = "22000";
    /// `string_data_right_truncation`: `varchar(n)` / `char(n)` too long.
    pub const STRING_DATA_RIGHT_TRUNCATION: &str = "22001";
    /// `numeric_value_out_of_range`.
    pub const NUMERIC_VALUE_OUT_OF_RANGE: &str = "22003";
    /// `invalid_datetime_format`.
    pub const INVALID_DATETIME_FORMAT: &str = "22007";
    /// `datetime_field_overflow` (also `datetime_value_out_of_range`, which shares the code).
    pub const DATETIME_FIELD_OVERFLOW: &str = "22008";
    /// `invalid_time_zone_displacement_value`.
    pub const INVALID_TIME_ZONE_DISPLACEMENT_VALUE: &str = "22009";
    /// `interval_field_overflow`.
    pub const INTERVAL_FIELD_OVERFLOW: &str = "22015";
    /// `character_not_in_repertoire`: a NUL byte in text.
    pub const CHARACTER_NOT_IN_REPERTOIRE: &str = "22021";
    /// `invalid_parameter_value`: bad hex digits in `bytea`, unknown time zone.
    pub const INVALID_PARAMETER_VALUE: &str = "22023";
    /// `array_subscript_error`: array bounds with the upper below the lower.
    pub const ARRAY_SUBSCRIPT_ERROR: &str = "2202E";
    /// `invalid_text_representation`.
    pub const INVALID_TEXT_REPRESENTATION: &str = "22P02";
    /// `untranslatable_character`: `\u0000` in `jsonb`.
    pub const UNTRANSLATABLE_CHARACTER: &str = "22P05";
    /// `program_limit_exceeded`: too many array or vector dimensions.
    pub const PROGRAM_LIMIT_EXCEEDED: &str = "54000";
    /// `statement_too_complex`: nesting deeper than the parser allows.
    pub const STATEMENT_TOO_COMPLEX: &str = "54001";
}

/// A value's text could not be read as the requested type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct TypeError {
    /// The five-character SQLSTATE, one of [`sqlstate`].
    pub sqlstate: &'static str,
    /// PostgreSQL's primary message, word for word.
    pub message: String,
    /// PostgreSQL's DETAIL line, where it has one.
    pub detail: Option<String>,
    /// PostgreSQL's HINT line, where it has one.
    pub hint: Option<String>,
}

impl fmt::Display for TypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl TypeError {
    pub fn new(sqlstate: &'static str, message: impl Into<String>) -> TypeError {
        TypeError {
            sqlstate,
            message: message.into(),
            detail: None,
            hint: None,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> TypeError {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> TypeError {
        self.hint = Some(hint.into());
        self
    }

    /// `invalid input syntax for type <type>: "<text>"` (22P02).
    pub fn invalid_syntax(type_name: &str, text: &str) -> TypeError {
        TypeError::new(
            sqlstate::INVALID_TEXT_REPRESENTATION,
            format!("invalid input syntax for type {type_name}: \"{text}\""),
        )
    }

    /// `value "<text>" is out of range for type <type>` (22003), the integer types' wording.
    pub fn integer_out_of_range(type_name: &str, text: &str) -> TypeError {
        TypeError::new(
            sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
            format!("value \"{text}\" is out of range for type {type_name}"),
        )
    }

    /// A NUL character, which no PostgreSQL text value can hold (22021).
    pub fn nul_character() -> TypeError {
        TypeError::new(
            sqlstate::CHARACTER_NOT_IN_REPERTOIRE,
            "invalid byte sequence for encoding \"UTF8\": 0x00",
        )
    }
}

/// Rejects text holding a NUL character: PostgreSQL's text values are C strings, so a client
/// can never hand one over, and storing one would break every later comparison with PostgreSQL.
pub(crate) fn reject_nul(text: &str) -> Result<(), TypeError> {
    if text.as_bytes().contains(&0) {
        Err(TypeError::nul_character())
    } else {
        Ok(())
    }
}

/// C's `isspace` in the C locale: the whitespace PostgreSQL's input functions skip.
pub(crate) fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// The text with C-locale whitespace removed from both ends.
pub(crate) fn trim_c_space(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_ascii() && is_c_space(c as u8))
}
