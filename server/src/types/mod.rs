//! Wire encodings of values: the binary formats ([`binary`], with [`numeric`] and [`array`]
//! in their own files). The text formats are the SQL layer's (`Session::input_text` /
//! `output_text`); this module only adds what the wire needs beyond them, and writes the
//! text of integers and text directly ([`text`]).

pub mod array;
pub mod binary;
pub mod numeric;
pub mod text;

#[cfg(test)]
use sql::{SqlError, SqlType};
#[cfg(test)]
use storage::types::Value;

/// For tests: the `sql` crate's text input with default session settings (what
/// `Session::input_text` does for these types).
#[cfg(test)]
pub fn test_text_input(text: &str, sql_type: &SqlType) -> Result<Value, SqlError> {
    sql::types::parse_text(
        &sql_type.representation(),
        text,
        &sql::types::SessionFormat::default(),
    )
    .map_err(SqlError::from)
}
