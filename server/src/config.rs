//! Settings of `custos serve`: from a TOML file (`--config`), overridden by command-line
//! flags, with defaults for the rest.
//!
//! The file holds the same names as the flags, with underscores:
//!
//! ```toml
//! data_dir = "/var/lib/custos"      # relative paths are relative to the file's directory
//! listen = "127.0.0.1:5433"
//! max_connections = 100
//! model_dir = "models"              # embedding model files (else $CUSTOS_MODEL_DIR)
//! authentication_timeout_seconds = 60
//! shutdown_timeout_seconds = 10
//! # rag_answer(): an OpenAI-compatible chat-completions endpoint (http:// only)
//! llm_endpoint = "http://127.0.0.1:8000/v1"  # or the full .../v1/chat/completions URL
//! llm_model = "llama-3.1-8b-instruct"
//! llm_api_key_env = "OPENAI_API_KEY"       # optional: variable holding the API key
//! llm_timeout_seconds = 60
//! # access: host rules in pg_hba.conf syntax (see auth/hba.rs) and TLS (PEM files)
//! hba_file = "pg_hba.conf"
//! hba_allow_trust = false            # `trust` lines, loopback addresses only
//! tls_cert_file = "server.crt"
//! tls_key_file = "server.key"
//! # tokenization keys (else $CUSTOS_TOKEN_KEY_FILE), outside the data directory
//! token_key_file = "/etc/custos/token.keys"
//! # audit trail (sql/src/audit, storage/src/audit): classes pgaudit.log starts with in every
//! # session, and the HMAC key of the audit chain (at least 32 bytes, outside the data directory)
//! pgaudit_log = "ddl, role, write"
//! audit_key_file = "/etc/custos/audit.key"
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
    pub llm_endpoint: Option<String>,
    pub llm_model: Option<String>,
    pub llm_api_key_env: Option<String>,
    pub llm_timeout_seconds: Option<u64>,
    pub hba_file: Option<PathBuf>,
    pub hba_allow_trust: Option<bool>,
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
    pub token_key_file: Option<PathBuf>,
    pub pgaudit_log: Option<String>,
    pub audit_key_file: Option<PathBuf>,
}

impl FileSettings {
    /// Reads a settings file; relative paths in it are made relative to its directory.
    pub fn load(path: &Path) -> Result<FileSettings, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
        let mut settings: FileSettings = toml::from_str(&text)
            .map_err(|e| format!("invalid config file {}: {e}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        for dir in [
            &mut settings.data_dir,
            &mut settings.model_dir,
            &mut settings.hba_file,
            &mut settings.tls_cert_file,
            &mut settings.tls_key_file,
            &mut settings.token_key_file,
            &mut settings.audit_key_file,
        ]
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
    /// Where `rag_answer()` sends prompts; `None` makes it fail with "not configured".
    pub generation: Option<sql::rag::GenerationSettings>,
    /// Host rules file and whether it may hold `trust` lines.
    pub hba_file: Option<PathBuf>,
    pub hba_allow_trust: bool,
    /// TLS certificate chain and key (both or neither).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// The tokenization key file (`sql::governance::tokenize`), if set here.
    pub token_key_file: Option<PathBuf>,
    /// `pgaudit.log` every session starts with (`None`: the default).
    pub pgaudit_log: Option<String>,
    /// The audit chain's HMAC key file.
    pub audit_key_file: Option<PathBuf>,
}

/// Shortest accepted audit key.
pub const MIN_AUDIT_KEY_BYTES: usize = 32;

/// Reads the audit key; refuses a short key or one kept inside the data directory (whoever
/// can rewrite the log must not be able to read the key next to it).
pub fn read_audit_key(path: &Path, data_dir: &Path) -> Result<Vec<u8>, String> {
    let key = std::fs::read(path)
        .map_err(|e| format!("cannot read audit_key_file {}: {e}", path.display()))?;
    if key.len() < MIN_AUDIT_KEY_BYTES {
        return Err(format!(
            "audit_key_file {} holds {} bytes; at least {MIN_AUDIT_KEY_BYTES} are needed",
            path.display(),
            key.len()
        ));
    }
    if let (Ok(key_path), Ok(data)) = (path.canonicalize(), data_dir.canonicalize()) {
        if key_path.starts_with(&data) {
            return Err(format!(
                "audit_key_file {} must be outside the data directory",
                path.display()
            ));
        }
    }
    Ok(key)
}

/// Longest accepted `llm_timeout_seconds`.
pub const MAX_LLM_TIMEOUT_SECONDS: u64 = 600;

/// The generation endpoint from the `llm_*` settings (file values; no flags for these).
fn generation_settings(
    file: &FileSettings,
) -> Result<Option<sql::rag::GenerationSettings>, String> {
    let (endpoint, model) = match (&file.llm_endpoint, &file.llm_model) {
        (None, None) => return Ok(None),
        (Some(endpoint), Some(model)) => (endpoint.clone(), model.clone()),
        _ => return Err("llm_endpoint and llm_model must be set together".into()),
    };
    let url = sql::rag::generate::completions_url(&endpoint);
    sql::rag::http::HttpUrl::parse(&url).map_err(|e| format!("llm_endpoint: {e:?}"))?;
    let seconds = file
        .llm_timeout_seconds
        .unwrap_or(sql::rag::generate::DEFAULT_TIMEOUT.as_secs());
    if !(1..=MAX_LLM_TIMEOUT_SECONDS).contains(&seconds) {
        return Err(format!(
            "llm_timeout_seconds must be between 1 and {MAX_LLM_TIMEOUT_SECONDS}, not {seconds}"
        ));
    }
    Ok(Some(sql::rag::GenerationSettings {
        endpoint,
        model,
        api_key_env: file.llm_api_key_env.clone(),
        timeout: Duration::from_secs(seconds),
    }))
}

impl ServeConfig {
    /// Command-line values (`flags`) win over the file's, which win over the defaults.
    pub fn resolve(flags: FileSettings, file: FileSettings) -> Result<ServeConfig, String> {
        let generation = generation_settings(&file)?;
        let tls = match (
            flags.tls_cert_file.clone().or(file.tls_cert_file.clone()),
            flags.tls_key_file.clone().or(file.tls_key_file.clone()),
        ) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => return Err("tls_cert_file and tls_key_file must be set together".into()),
        };
        let hba_file = flags.hba_file.clone().or(file.hba_file.clone());
        let hba_allow_trust = flags
            .hba_allow_trust
            .or(file.hba_allow_trust)
            .unwrap_or(false);
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
        let pgaudit_log = flags.pgaudit_log.or(file.pgaudit_log);
        if let Some(classes) = &pgaudit_log {
            sql::audit::classify::parse_classes(classes)
                .map_err(|e| format!("pgaudit_log: {}", e.message))?;
        }
        Ok(ServeConfig {
            pgaudit_log,
            audit_key_file: flags.audit_key_file.or(file.audit_key_file),
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
            generation,
            hba_file,
            hba_allow_trust,
            tls,
            token_key_file: flags.token_key_file.or(file.token_key_file),
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
    fn token_key_file_is_resolved_like_other_paths() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("custos.toml");
        std::fs::write(
            &path,
            "data_dir = \"d\"\ntoken_key_file = \"keys/token.keys\"\n",
        )
        .unwrap();
        let file = FileSettings::load(&path).unwrap();
        let config = ServeConfig::resolve(FileSettings::default(), file).unwrap();
        assert_eq!(
            config.token_key_file,
            Some(dir.path().join("keys/token.keys"))
        );
        let config = ServeConfig::resolve(
            FileSettings {
                data_dir: Some("d".into()),
                ..Default::default()
            },
            FileSettings::default(),
        )
        .unwrap();
        assert_eq!(config.token_key_file, None);
        let inside = ServeConfig {
            token_key_file: Some(dir.path().join("d").join("token.keys")),
            data_dir: dir.path().join("d"),
            ..config
        };
        let error = crate::serve::configure_token_keys(&inside).unwrap_err();
        assert!(error.contains("inside the data directory"), "{error}");
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

    #[test]
    fn llm_settings_are_checked_and_resolved() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("custos.toml");
        let flags = || FileSettings {
            data_dir: Some("d".into()),
            ..Default::default()
        };
        std::fs::write(
            &path,
            "llm_endpoint = \"http://127.0.0.1:9/v1\"\nllm_model = \"m\"\nllm_timeout_seconds = 5\n",
        )
        .unwrap();
        let config = ServeConfig::resolve(flags(), FileSettings::load(&path).unwrap()).unwrap();
        let generation = config.generation.unwrap();
        assert_eq!(generation.endpoint, "http://127.0.0.1:9/v1");
        assert_eq!(generation.timeout, Duration::from_secs(5));
        let no_llm = ServeConfig::resolve(flags(), FileSettings::default()).unwrap();
        assert_eq!(no_llm.generation, None);
        for bad in [
            "llm_endpoint = \"http://h/v1\"\n",
            "llm_model = \"m\"\n",
            "llm_endpoint = \"https://h/v1\"\nllm_model = \"m\"\n",
            "llm_endpoint = \"http://h/v1\"\nllm_model = \"m\"\nllm_timeout_seconds = 0\n",
        ] {
            std::fs::write(&path, bad).unwrap();
            let file = FileSettings::load(&path).unwrap();
            assert!(ServeConfig::resolve(flags(), file).is_err(), "{bad}");
        }
    }
}
