//! The database's secret salt: the key of `anon.hash` and of the `anon.pseudo_*` functions.
//!
//! It is 32 random bytes in the file `anon_salt` of the data directory, created on first
//! open (mode 0600), outside the catalog: no SQL reads it (unlike anon's `anon.salt`
//! setting, which a superuser can `SHOW`), and it is not in the WAL or checkpoints. Without
//! a data directory (an engine used in tests) the salt is random per process.

use std::path::Path;
use std::sync::OnceLock;

use crate::error::{code, SqlError, SqlResult};

static SALT: OnceLock<[u8; 32]> = OnceLock::new();

/// File of the salt inside the data directory.
pub const SALT_FILE: &str = "anon_salt";

/// The salt (random for this process when no data directory set one).
pub fn salt() -> &'static [u8; 32] {
    SALT.get_or_init(|| {
        let mut s = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut s);
        s
    })
}

/// Reads the salt of data directory `dir`, creating it on first use. One database per
/// process: a salt already in use is kept.
pub fn load_or_create(dir: &Path) -> SqlResult<()> {
    let path = dir.join(SALT_FILE);
    let io = |e: std::io::Error| {
        SqlError::new(
            code::IO_ERROR,
            format!("could not access file \"{}\": {e}", path.display()),
        )
    };
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut s = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut s);
            write_private(&path, &s).map_err(io)?;
            s.to_vec()
        }
        Err(e) => return Err(io(e)),
    };
    let salt: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
        SqlError::new(
            code::DATA_CORRUPTED,
            format!("file \"{}\" is not a 32-byte salt", path.display()),
        )
    })?;
    let _ = SALT.set(salt);
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
