//! Settings of `custos serve`: from a TOML file (`--config`), overridden by command-line
//! flags, with defaults for the rest.
//!
//! The file holds the same names as the flags, with underscores:
//!
//! ```toml
//! data_dir = "/var/lib/custos"      # relative paths are relative to the file's directory
//! listen = "127.0.0.1:5433"
//! max_connections = 100
//! model_dir = "models"              # embedding model files (used by a later release)
//! authentication_timeout_seconds = 60
//! shutdown_timeout_seconds = 10
//! ```
//!
//! Unknown keys are refused, so a misspelt setting is an error rather than silently ignored.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:5433";
pub const DEFAULT_MAX_CONNECTIONS: usize = 100;
pub const DEFAULT_AUTHENTICATION_TIMEOUT_SECONDS: u64 = 60;
pub const DEFAULT_SHUTDOWN_TIMEOUT_SECONDS: u64 = 10;
/// Largest accepted `max_connections` (each connection is a thread).
pub const MAX_MAX_CONNECTIONS: usize = 10_000;

/// The settings a TOML file may give (all optional).
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
    pub max_connections: Option<usize>,
    pub model_dir: Option<PathBuf>,
    pub authentication_timeout_seconds: Option<u64>,
    pub shutdown_timeout_seconds: Option<u64>,
}

impl FileSettings {
    /// Reads a settings file; relative paths in it are made relative to its directory.
    pub fn load(path: &Path) -> Result<FileSettings, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
        let mut settings: FileSettings = toml::from_str(&text)
            .map_err(|e| format!("invalid config file {}: {e}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        for dir in [&mut settings.data_dir, &mut settings.model_dir]
            .into_iter()
            .flatten()
        {
            if dir.is_relative() {
                *dir = base.join(&*dir);
            }
        }
        Ok(settings)
    }
}

/// The resolved settings of a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeConfig {
    pub data_dir: PathBuf,
    pub listen: String,
    pub max_connections: usize,
    pub model_dir: Option<PathBuf>,
    pub authentication_timeout: Duration,
    pub shutdown_timeout: Duration,
}

impl ServeConfig {
    /// Command-line values (`flags`) win over the file's, which win over the defaults.
    pub fn resolve(flags: FileSettings, file: FileSettings) -> Result<ServeConfig, String> {
        let data_dir = flags
            .data_dir
            .or(file.data_dir)
            .ok_or("no data directory: pass --data-dir DIR or set data_dir in the config file")?;
        let max_connections = flags
            .max_connections
            .or(file.max_connections)
            .unwrap_or(DEFAULT_MAX_CONNECTIONS);
        if !(1..=MAX_MAX_CONNECTIONS).contains(&max_connections) {
            return Err(format!(
                "max_connections must be between 1 and {MAX_MAX_CONNECTIONS}, not {max_connections}"
            ));
        }
        let seconds = |flag: Option<u64>, file: Option<u64>, default: u64| {
            Duration::from_secs(flag.or(file).unwrap_or(default))
        };
        Ok(ServeConfig {
            data_dir,
            listen: flags
                .listen
                .or(file.listen)
                .unwrap_or_else(|| DEFAULT_LISTEN.to_string()),
            max_connections,
            model_dir: flags.model_dir.or(file.model_dir),
            authentication_timeout: seconds(
                flags.authentication_timeout_seconds,
                file.authentication_timeout_seconds,
                DEFAULT_AUTHENTICATION_TIMEOUT_SECONDS,
            ),
            shutdown_timeout: seconds(
                flags.shutdown_timeout_seconds,
                file.shutdown_timeout_seconds,
                DEFAULT_SHUTDOWN_TIMEOUT_SECONDS,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file_and_defaults_fill_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("custos.toml");
        std::fs::write(
            &path,
            "data_dir = \"data\"\nlisten = \"0.0.0.0:6000\"\nmax_connections = 7\n",
        )
        .unwrap();
        let file = FileSettings::load(&path).unwrap();
        assert_eq!(file.data_dir, Some(dir.path().join("data")));
        let flags = FileSettings {
            listen: Some("127.0.0.1:7000".into()),
            ..Default::default()
        };
        let config = ServeConfig::resolve(flags, file).unwrap();
        assert_eq!(config.listen, "127.0.0.1:7000");
        assert_eq!(config.max_connections, 7);
        assert_eq!(config.data_dir, dir.path().join("data"));
        assert_eq!(config.shutdown_timeout, Duration::from_secs(10));
    }

    #[test]
    fn bad_files_and_settings_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("custos.toml");
        std::fs::write(&path, "data_dri = \"x\"\n").unwrap();
        assert!(FileSettings::load(&path)
            .unwrap_err()
            .contains("unknown field"));
        assert!(FileSettings::load(&dir.path().join("missing.toml")).is_err());
        assert!(ServeConfig::resolve(FileSettings::default(), FileSettings::default()).is_err());
        let flags = FileSettings {
            data_dir: Some("d".into()),
            max_connections: Some(0),
            ..Default::default()
        };
        assert!(ServeConfig::resolve(flags, FileSettings::default()).is_err());
    }
}
