//! Errors of the SQL engine: a PostgreSQL SQLSTATE with PostgreSQL's message, and the optional
//! DETAIL, HINT and cursor position that the server puts in an ErrorResponse.

use std::fmt;

use storage::StorageError;

use crate::types::TypeError;

/// SQLSTATE codes used by the engine (PostgreSQL's `errcodes.txt`). The type input functions
/// have their own list in [`crate::types::sqlstate`].
pub mod code {
    pub const SUCCESSFUL_COMPLETION: &str = "00000";
    pub const WARNING: &str = "01000";
    pub const CARDINALITY_VIOLATION: &str = "21000";
    pub const DATA_EXCEPTION: &str = "22000";
    pub const STRING_DATA_RIGHT_TRUNCATION: &str = "22001";
    pub const NULL_VALUE_NOT_ALLOWED: &str = "22004";
    pub const NUMERIC_VALUE_OUT_OF_RANGE: &str = "22003";
    pub const INVALID_DATETIME_FORMAT: &str = "22007";
    pub const DATETIME_FIELD_OVERFLOW: &str = "22008";
    pub const DIVISION_BY_ZERO: &str = "22012";
    pub const INTERVAL_FIELD_OVERFLOW: &str = "22015";
    pub const INVALID_ARGUMENT_FOR_LOGARITHM: &str = "2201E";
    pub const INVALID_ARGUMENT_FOR_POWER_FUNCTION: &str = "2201F";
    pub const INVALID_ROW_COUNT_IN_LIMIT_CLAUSE: &str = "2201W";
    pub const INVALID_ROW_COUNT_IN_RESULT_OFFSET_CLAUSE: &str = "2201X";
    pub const ARRAY_SUBSCRIPT_ERROR: &str = "2202E";
    pub const INVALID_PARAMETER_VALUE: &str = "22023";
    pub const INVALID_REGULAR_EXPRESSION: &str = "2201B";
    pub const INVALID_ESCAPE_SEQUENCE: &str = "22025";
    pub const INVALID_TEXT_REPRESENTATION: &str = "22P02";
    pub const INVALID_BINARY_REPRESENTATION: &str = "22P03";
    pub const BAD_COPY_FILE_FORMAT: &str = "22P04";
    pub const INVALID_JSON_TEXT: &str = "22P02";
    pub const SQL_JSON_MEMBER_NOT_FOUND: &str = "2203A";
    pub const CHARACTER_NOT_IN_REPERTOIRE: &str = "22021";
    pub const INTEGRITY_CONSTRAINT_VIOLATION: &str = "23000";
    pub const NOT_NULL_VIOLATION: &str = "23502";
    pub const FOREIGN_KEY_VIOLATION: &str = "23503";
    pub const UNIQUE_VIOLATION: &str = "23505";
    pub const CHECK_VIOLATION: &str = "23514";
    pub const INVALID_CURSOR_STATE: &str = "24000";
    pub const ACTIVE_SQL_TRANSACTION: &str = "25001";
    pub const NO_ACTIVE_SQL_TRANSACTION: &str = "25P01";
    pub const IN_FAILED_SQL_TRANSACTION: &str = "25P02";
    pub const READ_ONLY_SQL_TRANSACTION: &str = "25006";
    pub const INVALID_SQL_STATEMENT_NAME: &str = "26000";
    pub const INVALID_AUTHORIZATION_SPECIFICATION: &str = "28000";
    pub const INVALID_PASSWORD: &str = "28P01";
    pub const INVALID_CURSOR_NAME: &str = "34000";
    pub const INVALID_TRANSACTION_TERMINATION: &str = "2D000";
    pub const INVALID_SAVEPOINT_SPECIFICATION: &str = "3B001";
    pub const INVALID_CATALOG_NAME: &str = "3D000";
    pub const INVALID_SCHEMA_NAME: &str = "3F000";
    pub const SERIALIZATION_FAILURE: &str = "40001";
    pub const SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION: &str = "42000";
    pub const SYNTAX_ERROR: &str = "42601";
    pub const INSUFFICIENT_PRIVILEGE: &str = "42501";
    pub const GROUPING_ERROR: &str = "42803";
    pub const WINDOWING_ERROR: &str = "42P20";
    pub const INVALID_RECURSION: &str = "42P19";
    pub const INVALID_FOREIGN_KEY: &str = "42830";
    pub const INVALID_NAME: &str = "42602";
    pub const NAME_TOO_LONG: &str = "42622";
    pub const RESERVED_NAME: &str = "42939";
    pub const DATATYPE_MISMATCH: &str = "42804";
    pub const INDETERMINATE_DATATYPE: &str = "42P18";
    pub const COLLATION_MISMATCH: &str = "42P21";
    pub const WRONG_OBJECT_TYPE: &str = "42809";
    pub const UNDEFINED_COLUMN: &str = "42703";
    pub const UNDEFINED_FUNCTION: &str = "42883";
    pub const UNDEFINED_TABLE: &str = "42P01";
    pub const UNDEFINED_PARAMETER: &str = "42P02";
    pub const UNDEFINED_OBJECT: &str = "42704";
    pub const DUPLICATE_COLUMN: &str = "42701";
    pub const DUPLICATE_CURSOR: &str = "42P03";
    pub const DUPLICATE_DATABASE: &str = "42P04";
    pub const DUPLICATE_FUNCTION: &str = "42723";
    pub const DUPLICATE_PREPARED_STATEMENT: &str = "42P05";
    pub const DUPLICATE_SCHEMA: &str = "42P06";
    pub const DUPLICATE_TABLE: &str = "42P07";
    pub const DUPLICATE_ALIAS: &str = "42712";
    pub const DUPLICATE_OBJECT: &str = "42710";
    pub const AMBIGUOUS_COLUMN: &str = "42702";
    pub const AMBIGUOUS_FUNCTION: &str = "42725";
    pub const AMBIGUOUS_PARAMETER: &str = "42P08";
    pub const AMBIGUOUS_ALIAS: &str = "42P09";
    pub const INVALID_COLUMN_REFERENCE: &str = "42P10";
    pub const INVALID_COLUMN_DEFINITION: &str = "42611";
    pub const INVALID_TABLE_DEFINITION: &str = "42P16";
    pub const INVALID_OBJECT_DEFINITION: &str = "42P17";
    pub const INVALID_FUNCTION_DEFINITION: &str = "42P13";
    pub const GENERATED_ALWAYS: &str = "428C9";
    pub const CANNOT_COERCE: &str = "42846";
    pub const DEPENDENT_OBJECTS_STILL_EXIST: &str = "2BP01";
    pub const FEATURE_NOT_SUPPORTED: &str = "0A000";
    pub const OBJECT_NOT_IN_PREREQUISITE_STATE: &str = "55000";
    pub const OBJECT_IN_USE: &str = "55006";
    pub const CANT_CHANGE_RUNTIME_PARAM: &str = "55P02";
    pub const UNDEFINED_PARAMETER_SETTING: &str = "42704";
    pub const PROGRAM_LIMIT_EXCEEDED: &str = "54000";
    pub const STATEMENT_TOO_COMPLEX: &str = "54001";
    pub const TOO_MANY_COLUMNS: &str = "54011";
    pub const QUERY_CANCELED: &str = "57014";
    pub const ADMIN_SHUTDOWN: &str = "57P01";
    pub const DISK_FULL: &str = "53100";
    pub const OUT_OF_MEMORY: &str = "53200";
    pub const TOO_MANY_CONNECTIONS: &str = "53300";
    pub const IO_ERROR: &str = "58030";
    pub const UNDEFINED_FILE: &str = "58P01";
    pub const PROTOCOL_VIOLATION: &str = "08P01";
    pub const CONNECTION_EXCEPTION: &str = "08000";
    pub const INTERNAL_ERROR: &str = "XX000";
    pub const DATA_CORRUPTED: &str = "XX001";
    pub const SEQUENCE_GENERATOR_LIMIT_EXCEEDED: &str = "2200H";
    pub const RAISE_EXCEPTION: &str = "P0001";
}

/// An error as PostgreSQL reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    /// The five-character SQLSTATE, one of [`code`] or [`crate::types::sqlstate`].
    pub code: &'static str,
    /// PostgreSQL's primary message.
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    /// 1-based character position in the statement text that the error refers to.
    pub position: Option<u32>,
}

pub type SqlResult<T> = Result<T, SqlError>;

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SqlError {}

impl SqlError {
    pub fn new(code: &'static str, message: impl Into<String>) -> SqlError {
        SqlError {
            code,
            message: message.into(),
            detail: None,
            hint: None,
            position: None,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> SqlError {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> SqlError {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_position(mut self, position: u32) -> SqlError {
        self.position = Some(position);
        self
    }

    pub fn syntax(message: impl Into<String>) -> SqlError {
        SqlError::new(code::SYNTAX_ERROR, message)
    }

    /// `<what> is not supported`, for features custos does not have (0A000).
    pub fn unsupported(what: impl fmt::Display) -> SqlError {
        SqlError::new(
            code::FEATURE_NOT_SUPPORTED,
            format!("{what} is not supported"),
        )
    }

    pub fn internal(message: impl Into<String>) -> SqlError {
        SqlError::new(code::INTERNAL_ERROR, message)
    }

    pub fn division_by_zero() -> SqlError {
        SqlError::new(code::DIVISION_BY_ZERO, "division by zero")
    }

    pub fn undefined_column(name: &str) -> SqlError {
        SqlError::new(
            code::UNDEFINED_COLUMN,
            format!("column \"{name}\" does not exist"),
        )
    }

    pub fn undefined_table(name: &str) -> SqlError {
        SqlError::new(
            code::UNDEFINED_TABLE,
            format!("relation \"{name}\" does not exist"),
        )
    }

    pub fn query_canceled() -> SqlError {
        SqlError::new(
            code::QUERY_CANCELED,
            "canceling statement due to user request",
        )
    }
}

impl From<TypeError> for SqlError {
    fn from(e: TypeError) -> SqlError {
        SqlError {
            code: e.sqlstate,
            message: e.message,
            detail: e.detail,
            hint: e.hint,
            position: None,
        }
    }
}

impl From<StorageError> for SqlError {
    fn from(e: StorageError) -> SqlError {
        match &e {
            StorageError::UniqueViolation { index, key } => SqlError::new(
                code::UNIQUE_VIOLATION,
                format!("duplicate key value violates unique constraint \"{index}\""),
            )
            .with_detail(format!("Key {key} already exists.")),
            StorageError::SerializationFailure => SqlError::new(
                code::SERIALIZATION_FAILURE,
                "could not serialize access due to concurrent update",
            ),
            StorageError::DiskFull { .. } => SqlError::new(code::DISK_FULL, e.to_string()),
            StorageError::ReadOnly { .. } | StorageError::CommitFailed { .. } => {
                SqlError::new(code::IO_ERROR, e.to_string())
            }
            StorageError::Io { .. } => SqlError::new(code::IO_ERROR, e.to_string()),
            StorageError::Corrupt { .. } | StorageError::Decode(_) => {
                SqlError::new(code::DATA_CORRUPTED, e.to_string())
            }
            StorageError::TransactionTooLarge { .. } => {
                SqlError::new(code::PROGRAM_LIMIT_EXCEEDED, e.to_string())
            }
            _ => SqlError::new(code::INTERNAL_ERROR, e.to_string()),
        }
    }
}
