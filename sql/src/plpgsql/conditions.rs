//! PostgreSQL's condition names (the ones RAISE and `USING ERRCODE` are written with most)
//! and SQLSTATE codes given as text.

use std::collections::HashSet;
use std::sync::Mutex;

pub const NO_DATA_FOUND: &str = "P0002";
pub const TOO_MANY_ROWS: &str = "P0003";
pub const FUNCTION_EXECUTED_NO_RETURN_STATEMENT: &str = "2F005";
pub const ERROR_IN_ASSIGNMENT: &str = "22005";

const NAMES: &[(&str, &str)] = &[
    ("raise_exception", "P0001"),
    ("no_data_found", NO_DATA_FOUND),
    ("too_many_rows", TOO_MANY_ROWS),
    ("assert_failure", "P0004"),
    ("plpgsql_error", "P0000"),
    ("division_by_zero", "22012"),
    ("numeric_value_out_of_range", "22003"),
    ("invalid_parameter_value", "22023"),
    ("invalid_text_representation", "22P02"),
    ("string_data_right_truncation", "22001"),
    ("null_value_not_allowed", "22004"),
    ("data_exception", "22000"),
    ("integrity_constraint_violation", "23000"),
    ("restrict_violation", "23001"),
    ("not_null_violation", "23502"),
    ("foreign_key_violation", "23503"),
    ("unique_violation", "23505"),
    ("check_violation", "23514"),
    ("insufficient_privilege", "42501"),
    ("syntax_error", "42601"),
    ("undefined_table", "42P01"),
    ("undefined_column", "42703"),
    ("undefined_function", "42883"),
    ("duplicate_object", "42710"),
    ("feature_not_supported", "0A000"),
    ("object_not_in_prerequisite_state", "55000"),
    ("invalid_authorization_specification", "28000"),
    ("query_canceled", "57014"),
    ("internal_error", "XX000"),
    ("warning", "01000"),
    ("successful_completion", "00000"),
];

/// The SQLSTATE of a condition name.
pub fn code_of(name: &str) -> Option<&'static str> {
    NAMES.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

/// Whether `text` is five digits or upper-case letters, as an SQLSTATE is written.
pub fn is_sqlstate(text: &str) -> bool {
    text.len() == 5
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

static INTERNED: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);

/// A code given at run time as a `&'static str` (each distinct code is kept once).
pub fn intern(code: &str) -> &'static str {
    if let Some(c) = NAMES.iter().find(|(_, c)| *c == code) {
        return c.1;
    }
    let mut guard = INTERNED.lock().unwrap_or_else(|e| e.into_inner());
    let set = guard.get_or_insert_with(HashSet::new);
    if let Some(c) = set.get(code) {
        return c;
    }
    let leaked: &'static str = Box::leak(code.to_string().into_boxed_str());
    set.insert(leaked);
    leaked
}
