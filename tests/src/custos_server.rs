//! A `custos serve` process for one test: an empty data directory in a temporary directory, a
//! free loopback port, the superuser password in `CUSTOS_PASSWORD`, and a readiness wait (a
//! tokio-postgres connection running `SELECT 1`). Dropping the handle sends SIGTERM (graceful
//! shutdown) and waits, then kills.
//!
//! The binary's contract (issue 3): `custos serve --data-dir DIR --listen 127.0.0.1:PORT`; on
//! the first start of an empty DIR it creates the superuser `custos` with the password from
//! `CUSTOS_PASSWORD`; login is SCRAM-SHA-256; the default database is `custos`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rand::distributions::Alphanumeric;
use rand::Rng;
use tempfile::TempDir;

use crate::endpoint::{Endpoint, PsqlOutput};
use crate::error::{HarnessError, HarnessResult};
use crate::locate::custos_binary;
use crate::process::{free_loopback_port, log_tail, stop_child, StopOutcome};

/// Upper bound on the server becoming ready to run queries.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// Upper bound on a graceful shutdown before the harness kills the process.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(15);

/// The superuser the server creates on first start, and its default database.
pub const SUPERUSER: &str = "custos";
pub const DEFAULT_DATABASE: &str = "custos";

/// How much of the server log an error message quotes.
const LOG_TAIL_BYTES: usize = 4_000;

/// Extra command-line arguments and environment of a test's server (see
/// [`CustosServer::start_with`]).
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// Appended after `serve --data-dir DIR --listen ADDR`.
    pub args: Vec<String>,
    /// Set in the server's environment (on top of the test's own).
    pub env: Vec<(String, String)>,
}

/// A running custos server owned by a test.
pub struct CustosServer {
    child: Option<Child>,
    options: ServerOptions,
    endpoint: Endpoint,
    data_dir: PathBuf,
    log_path: PathBuf,
    // Declared last: removed after the process has stopped.
    _scratch: TempDir,
}

impl CustosServer {
    /// Starts a server on a fresh data directory and waits until it answers `SELECT 1`.
    pub async fn start() -> HarnessResult<Self> {
        Self::start_with(ServerOptions::default()).await
    }

    /// Like [`CustosServer::start`], with extra arguments and environment variables.
    pub async fn start_with(options: ServerOptions) -> HarnessResult<Self> {
        let binary = custos_binary().map_err(|e| e.context("custos binary"))?;
        let scratch = tempfile::Builder::new().prefix("custos-test-").tempdir()?;
        let data_dir = scratch.path().join("data");
        std::fs::create_dir(&data_dir)?;
        let password: String = rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(24)
            .map(char::from)
            .collect();
        let endpoint = Endpoint {
            host: "127.0.0.1".to_string(),
            port: free_loopback_port()?,
            user: SUPERUSER.to_string(),
            password,
            dbname: DEFAULT_DATABASE.to_string(),
        };
        let log_path = scratch.path().join("custos.log");
        let mut server = CustosServer {
            child: None,
            options,
            endpoint,
            data_dir,
            log_path,
            _scratch: scratch,
        };
        server.spawn(&binary)?;
        server.wait_until_ready().await?;
        Ok(server)
    }

    /// Starts (again) the server process on this handle's data directory and port.
    fn spawn(&mut self, binary: &Path) -> HarnessResult<()> {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log_path)?;
        let child = Command::new(binary)
            .arg("serve")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--listen")
            .arg(self.endpoint.socket_address())
            .args(&self.options.args)
            .env("CUSTOS_PASSWORD", &self.endpoint.password)
            .envs(self.options.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(|e| HarnessError::new(format!("cannot start {}: {e}", binary.display())))?;
        self.child = Some(child);
        Ok(())
    }

    async fn wait_until_ready(&mut self) -> HarnessResult<()> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let mut last_error = String::from("no attempt made");
        while Instant::now() < deadline {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                return Err(HarnessError::new(format!(
                    "custos serve exited during start-up with {status}; its log:\n{}",
                    log_tail(&self.log_path, LOG_TAIL_BYTES)
                )));
            }
            match self.endpoint.select_one(Duration::from_secs(5)).await {
                Ok(()) => return Ok(()),
                Err(e) => last_error = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(HarnessError::new(format!(
            "custos serve did not answer SELECT 1 on {} within {STARTUP_TIMEOUT:?} (last \
             error: {last_error}); its log:\n{}",
            self.endpoint.socket_address(),
            log_tail(&self.log_path, LOG_TAIL_BYTES)
        )))
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    pub fn port(&self) -> u16 {
        self.endpoint.port
    }

    pub fn password(&self) -> &str {
        &self.endpoint.password
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn connection_string(&self) -> String {
        self.endpoint.connection_string()
    }

    /// Runs psql against this server (see [`Endpoint::psql`]).
    pub fn psql(&self, args: &[&str], stdin: Option<&str>) -> HarnessResult<PsqlOutput> {
        self.endpoint.psql(args, stdin)
    }

    /// Whether the server process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// The last part of the server log (for failure reports).
    pub fn log_tail(&self) -> String {
        log_tail(&self.log_path, LOG_TAIL_BYTES)
    }

    /// Sends SIGTERM and waits (bounded) for the process to exit.
    pub fn stop(&mut self) -> Option<StopOutcome> {
        self.child
            .take()
            .map(|mut child| stop_child(&mut child, libc::SIGTERM, SHUTDOWN_TIMEOUT))
    }

    /// Kills the server with SIGKILL (a crash: no shutdown work at all) and reaps it.
    pub fn kill9(&mut self) -> Option<StopOutcome> {
        self.child
            .take()
            .map(|mut child| stop_child(&mut child, libc::SIGKILL, SHUTDOWN_TIMEOUT))
    }

    /// Stops the server (if running) and starts it again on the same data directory and port.
    pub async fn restart(&mut self) -> HarnessResult<Option<StopOutcome>> {
        let outcome = self.stop();
        self.start_again().await?;
        Ok(outcome)
    }

    /// Starts the process again after [`CustosServer::stop`] (or a crash), same data
    /// directory and port, and waits until it answers.
    pub async fn start_again(&mut self) -> HarnessResult<()> {
        if self.is_running() {
            return Err(HarnessError::new("custos is still running"));
        }
        let binary = custos_binary()?;
        self.spawn(&binary)?;
        self.wait_until_ready().await
    }
}

impl Drop for CustosServer {
    fn drop(&mut self) {
        self.stop();
    }
}

impl CustosServer {
    /// An error (with the log) if the server process has exited: tests call this after
    /// abusing the server to prove it survived.
    pub fn ensure_alive(&mut self) -> HarnessResult<()> {
        if self.is_running() {
            Ok(())
        } else {
            Err(HarnessError::new(format!(
                "the custos server is no longer running; its log:\n{}",
                self.log_tail()
            )))
        }
    }
}
