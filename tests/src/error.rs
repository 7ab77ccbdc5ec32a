//! The harness's one error type: a message a person can act on (what failed, with the server
//! log or the command output that explains it). Tests return `HarnessResult<()>` and let `?`
//! carry it; its `Debug` form is the message itself so that a failing test prints it readably.

use std::fmt;

/// A harness failure with a human-readable explanation.
pub struct HarnessError {
    message: String,
}

/// Result of harness operations.
pub type HarnessResult<T> = Result<T, HarnessError>;

impl HarnessError {
    pub fn new(message: impl Into<String>) -> Self {
        HarnessError {
            message: message.into(),
        }
    }

    /// Prefixes the message with what was being attempted.
    pub fn context(self, what: impl fmt::Display) -> Self {
        HarnessError {
            message: format!("{what}: {}", self.message),
        }
    }
}

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HarnessError {}

impl From<std::io::Error> for HarnessError {
    fn from(error: std::io::Error) -> Self {
        HarnessError::new(format!("I/O error: {error}"))
    }
}

impl From<tokio_postgres::Error> for HarnessError {
    fn from(error: tokio_postgres::Error) -> Self {
        match error.as_db_error() {
            Some(db) => HarnessError::new(format!(
                "database error {}: {}",
                db.code().code(),
                db.message()
            )),
            None => HarnessError::new(format!("client error: {error}")),
        }
    }
}

/// Turns a condition into a harness error: `ensure(cond, || format!(...))?`.
pub fn ensure(condition: bool, message: impl FnOnce() -> String) -> HarnessResult<()> {
    if condition {
        Ok(())
    } else {
        Err(HarnessError::new(message()))
    }
}
