//! `custos serve`: opens the data directory, creates the superuser on first start, runs the
//! server until SIGTERM or SIGINT, then shuts down gracefully (exit code 0).

use std::path::PathBuf;
use std::sync::Arc;

use rand::distributions::Alphanumeric;
use rand::Rng;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use sql::engine::{Database, DatabaseOptions};

use crate::auth::scram::Verifier;
use crate::config::ServeConfig;
use crate::server::{Server, ServerSettings};

/// The superuser created in an empty data directory.
pub const SUPERUSER: &str = "custos";
/// Environment variable holding the superuser's password for the first start.
pub const PASSWORD_VARIABLE: &str = "CUSTOS_PASSWORD";

/// Creates the superuser if the database has no roles; says so on stderr (with the password
/// when it was generated, the only time it is shown).
fn bootstrap_superuser(database: &Database) -> Result<(), String> {
    let (password, generated) = match std::env::var(PASSWORD_VARIABLE) {
        Ok(password) if !password.is_empty() => (password, false),
        _ => (
            rand::thread_rng()
                .sample_iter(&Alphanumeric)
                .take(20)
                .map(char::from)
                .collect(),
            true,
        ),
    };
    let created = database
        .bootstrap_superuser(SUPERUSER, || Verifier::generate(&password).encode())
        .map_err(|e| format!("cannot create the superuser: {e}"))?;
    if created && generated {
        eprintln!(
            "custos: created superuser \"{SUPERUSER}\" with the generated password {password} \
             (shown only this once; set {PASSWORD_VARIABLE} to choose it)"
        );
    } else if created {
        eprintln!(
            "custos: created superuser \"{SUPERUSER}\" with the password from {PASSWORD_VARIABLE}"
        );
    }
    Ok(())
}

/// Points the SQL engine's embedding service at the model directory: `model_dir` from the
/// config, else `CUSTOS_MODEL_DIR`. Nothing is loaded here: the model opens on the first
/// `embed()`, and a server without model files serves everything else.
fn configure_embeddings(config: &ServeConfig) {
    let model_dir = config
        .model_dir
        .clone()
        .or_else(sql::embedding::model_dir_from_env);
    match &model_dir {
        Some(dir) => eprintln!(
            "custos: embedding model directory {} (loaded on first use)",
            dir.display()
        ),
        None => eprintln!(
            "custos: no embedding model directory (--model-dir, model_dir or {}); embed() \
             fails until one is set (scripts/fetch-models fetches the model)",
            sql::embedding::MODEL_DIR_ENV
        ),
    }
    sql::embedding::configure(&sql::embedding::EmbeddingSettings {
        model_dir,
        ..sql::embedding::EmbeddingSettings::default()
    });
}

/// The host rules and TLS settings of the config, loaded (errors stop the server).
fn access_policy(config: &ServeConfig) -> Result<crate::auth::login::AccessPolicy, String> {
    let mut policy = crate::auth::login::AccessPolicy::default();
    if let Some(path) = &config.hba_file {
        let rules = crate::auth::hba::HbaRules::load(path, config.hba_allow_trust)?;
        eprintln!("custos: host rules from {}", path.display());
        policy.hba = Some(Arc::new(rules));
    }
    if let Some((cert, key)) = &config.tls {
        policy.tls = Some(Arc::new(crate::tls::TlsSettings::load(cert, key)?));
        eprintln!("custos: TLS with certificate {}", cert.display());
    }
    Ok(policy)
}

pub fn run(config: ServeConfig) -> Result<(), String> {
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        format!(
            "cannot create data directory {}: {e}",
            config.data_dir.display()
        )
    })?;
    let audit_key = match &config.audit_key_file {
        Some(path) => Some(crate::config::read_audit_key(path, &config.data_dir)?),
        None => None,
    };
    let options = DatabaseOptions {
        audit_key,
        audit_log_classes: config.pgaudit_log.clone(),
        ..DatabaseOptions::default()
    };
    let database: Arc<Database> = Database::open(&config.data_dir, options)
        .map_err(|e| format!("cannot open {}: {e}", config.data_dir.display()))?;
    bootstrap_superuser(&database)?;
    configure_embeddings(&config);
    sql::rag::configure_generation(config.generation.clone());
    configure_token_keys(&config)?;
    // Signals are caught from here on, before any client can connect.
    let mut signals = Signals::new([SIGTERM, SIGINT])
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;
    let settings = ServerSettings {
        listen: config.listen.clone(),
        max_connections: config.max_connections,
        authentication_timeout: config.authentication_timeout,
        access: access_policy(&config)?,
    };
    let server = Server::start(database, &settings)
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    eprintln!(
        "custos: listening on {} (data directory {})",
        server.local_address(),
        config.data_dir.display()
    );
    let signal = signals.forever().next();
    let name = if signal == Some(SIGINT) {
        "SIGINT"
    } else {
        "SIGTERM"
    };
    eprintln!("custos: received {name}, shutting down");
    let busy_before = server.active_connections();
    if server.shutdown(config.shutdown_timeout) {
        eprintln!("custos: shut down ({busy_before} connections closed)");
    } else {
        eprintln!(
            "custos: connections still busy after {:?}; exiting anyway (committed work is in the log)",
            config.shutdown_timeout
        );
    }
    Ok(())
}

/// The tokenization key file: `token_key_file`, else `$CUSTOS_TOKEN_KEY_FILE` (read by the
/// engine). Keys kept with the data they protect protect nothing: a key file inside the
/// data directory is refused.
pub(crate) fn configure_token_keys(config: &ServeConfig) -> Result<(), String> {
    let path = config.token_key_file.clone().or_else(|| {
        std::env::var_os(sql::governance::tokenize::KEY_FILE_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    if let Some(path) = &path {
        let data = std::fs::canonicalize(&config.data_dir).unwrap_or(config.data_dir.clone());
        let key = std::fs::canonicalize(path).unwrap_or(path.clone());
        if key.starts_with(&data) {
            return Err(format!(
                "the token key file {} is inside the data directory {}: keep it apart",
                key.display(),
                data.display()
            ));
        }
    }
    sql::governance::tokenize::set_key_file(config.token_key_file.clone());
    Ok(())
}
