//! `CHECKPOINT`: seals every table's memtable into a segment (building the segment's vector
//! index files on the way), writes the manifest and trims the WAL, as the background thread
//! does when memtables or the log grow. Like PostgreSQL, only superusers may run it.

use crate::engine::{Outcome, Session};
use crate::error::{code, SqlError, SqlResult};

pub(super) fn run(session: &mut Session) -> SqlResult<Outcome> {
    if session.settings.get("is_superuser") != Some("on") {
        return Err(SqlError::new(
            code::INSUFFICIENT_PRIVILEGE,
            "must be superuser or have privileges of pg_checkpoint to do CHECKPOINT",
        ));
    }
    session.database.storage.checkpoint()?;
    Ok(Outcome::Command {
        tag: "CHECKPOINT".into(),
    })
}
