//! `custos serve`: opens the data directory, creates the superuser on first start, runs the
//! server until SIGTERM or SIGINT, then shuts down gracefully (exit code 0).

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

pub fn run(config: ServeConfig) -> Result<(), String> {
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        format!(
            "cannot create data directory {}: {e}",
            config.data_dir.display()
        )
    })?;
    let database: Arc<Database> = Database::open(&config.data_dir, DatabaseOptions::default())
        .map_err(|e| format!("cannot open {}: {e}", config.data_dir.display()))?;
    bootstrap_superuser(&database)?;
    // Signals are caught from here on, before any client can connect.
    let mut signals = Signals::new([SIGTERM, SIGINT])
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;
    let settings = ServerSettings {
        listen: config.listen.clone(),
        max_connections: config.max_connections,
        authentication_timeout: config.authentication_timeout,
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
