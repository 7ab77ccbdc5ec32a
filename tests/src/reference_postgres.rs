//! The reference server: PostgreSQL 15 from the distribution (`/usr/lib/postgresql/15/bin`,
//! overridable with `CUSTOS_REFERENCE_PG_BIN`), initialised in a temporary directory with
//! `initdb --locale=C.UTF-8 -E UTF8 --auth=trust -U custos` and started on a free loopback port
//! with `TimeZone=UTC`, its unix socket inside the temporary directory. A database `custos` is
//! created, so the role and database names are those of a custos server.
//!
//! PostgreSQL refuses to run as root: when the tests run as root, the directory is given to the
//! `postgres` OS user and initdb and postgres run under its uid and gid. A missing installation
//! is an error with instructions, never a silent skip. Dropping the handle asks for a fast
//! shutdown (SIGINT), waits (bounded), then kills.
//!
//! [`ReferencePostgres::start_with_password_auth`] is the same server but with SCRAM-SHA-256
//! for TCP connections and a password set for `custos`, for tests whose subject includes the
//! authentication exchange.

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rand::distributions::Alphanumeric;
use rand::Rng;
use tempfile::TempDir;
use tokio_postgres::{Client, NoTls};

use crate::endpoint::Endpoint;
use crate::error::{HarnessError, HarnessResult};
use crate::process::{free_loopback_port, log_tail, run_bounded, stop_child};

/// Where Debian's PostgreSQL 15 server programs are.
pub const DEFAULT_BIN_DIR: &str = "/usr/lib/postgresql/15/bin";

/// Upper bounds on initdb, on the server accepting connections, and on shutdown.
const INITDB_TIMEOUT: Duration = Duration::from_secs(120);
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(15);

const LOG_TAIL_BYTES: usize = 4_000;

/// The role and database names, the same as a custos server's.
const ROLE: &str = "custos";
const DATABASE: &str = "custos";

/// A running PostgreSQL 15 owned by a test.
pub struct ReferencePostgres {
    child: Option<Child>,
    endpoint: Endpoint,
    socket_dir: PathBuf,
    log_path: PathBuf,
    // Declared last: removed after the process has stopped.
    _scratch: TempDir,
}

/// The OS account the server runs as when the tests run as root.
#[derive(Clone, Copy)]
struct ServiceAccount {
    uid: u32,
    gid: u32,
}

impl ReferencePostgres {
    /// PostgreSQL with trust authentication (the differential reference of issue 3).
    pub async fn start() -> HarnessResult<Self> {
        Self::start_inner(false).await
    }

    /// PostgreSQL with SCRAM-SHA-256 for TCP connections and the endpoint's password set.
    pub async fn start_with_password_auth() -> HarnessResult<Self> {
        Self::start_inner(true).await
    }

    async fn start_inner(password_auth: bool) -> HarnessResult<Self> {
        let bin_dir = bin_dir()?;
        let scratch = tempfile::Builder::new()
            .prefix("custos-reference-pg-")
            .tempdir()?;
        let account = service_account()?;
        let data_dir = scratch.path().join("data");
        let log_path = scratch.path().join("postgres.log");
        File::create(&log_path)?;
        if let Some(account) = account {
            std::os::unix::fs::chown(scratch.path(), Some(account.uid), Some(account.gid))?;
            std::os::unix::fs::chown(&log_path, Some(account.uid), Some(account.gid))?;
        }

        let mut initdb = Command::new(bin_dir.join("initdb"));
        initdb
            .current_dir(scratch.path())
            .env("TZ", "UTC")
            .env("LC_ALL", "C.UTF-8")
            .arg("-D")
            .arg(&data_dir)
            .args(["-U", ROLE, "--locale=C.UTF-8", "-E", "UTF8", "--auth=trust"])
            .arg("--no-sync");
        if password_auth {
            initdb.arg("--auth-host=scram-sha-256");
        }
        as_account(&mut initdb, account);
        let output = run_bounded(&mut initdb, None, INITDB_TIMEOUT)?;
        if !output.success() {
            return Err(HarnessError::new(format!(
                "initdb failed ({}):\n{}\n{}",
                output.describe_status(),
                output.stdout_lossy(),
                output.stderr_lossy()
            )));
        }

        let port = free_loopback_port()?;
        let log = File::options().append(true).open(&log_path)?;
        let mut postgres = Command::new(bin_dir.join("postgres"));
        postgres
            .current_dir(scratch.path())
            .env("LC_ALL", "C.UTF-8")
            .arg("-D")
            .arg(&data_dir)
            .args(["-p", &port.to_string(), "-k"])
            .arg(scratch.path())
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "timezone=UTC", "-c", "log_timezone=UTC"])
            // Durability is not under test here; these make the loads fast.
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off"])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        as_account(&mut postgres, account);
        let child = postgres
            .spawn()
            .map_err(|e| HarnessError::new(format!("cannot start postgres: {e}")))?;

        let password: String = rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(24)
            .map(char::from)
            .collect();
        let mut server = ReferencePostgres {
            child: Some(child),
            endpoint: Endpoint {
                host: "127.0.0.1".to_string(),
                port,
                user: ROLE.to_string(),
                password,
                dbname: DATABASE.to_string(),
            },
            socket_dir: scratch.path().to_path_buf(),
            log_path,
            _scratch: scratch,
        };
        let admin = server.wait_for_socket("postgres").await?;
        admin
            .batch_execute(&format!("CREATE DATABASE {DATABASE}"))
            .await
            .map_err(|e| HarnessError::from(e).context("creating the reference database"))?;
        if password_auth {
            admin
                .batch_execute(&format!(
                    "ALTER ROLE {ROLE} PASSWORD '{}'",
                    server.endpoint.password
                ))
                .await?;
        }
        drop(admin);
        server
            .endpoint
            .select_one(Duration::from_secs(10))
            .await
            .map_err(|e| e.context("reference PostgreSQL over TCP"))?;
        Ok(server)
    }

    /// Waits until the server accepts connections on its unix socket; returns a connection to
    /// `dbname` as the superuser (trust on the socket).
    async fn wait_for_socket(&mut self, dbname: &str) -> HarnessResult<Client> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let mut last_error = String::from("no attempt made");
        while Instant::now() < deadline {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                return Err(HarnessError::new(format!(
                    "postgres exited during start-up with {status}; its log:\n{}",
                    log_tail(&self.log_path, LOG_TAIL_BYTES)
                )));
            }
            match self.connect_socket(dbname).await {
                Ok(client) => return Ok(client),
                Err(e) => last_error = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(HarnessError::new(format!(
            "postgres did not accept connections within {STARTUP_TIMEOUT:?} (last error: \
             {last_error}); its log:\n{}",
            log_tail(&self.log_path, LOG_TAIL_BYTES)
        )))
    }

    /// A superuser connection over the unix socket (trust), e.g. to create extra databases.
    pub async fn connect_socket(&self, dbname: &str) -> HarnessResult<Client> {
        let mut config = tokio_postgres::Config::new();
        config
            .host_path(&self.socket_dir)
            .port(self.endpoint.port)
            .user(ROLE)
            .dbname(dbname)
            .connect_timeout(Duration::from_secs(5));
        let (client, connection) =
            tokio::time::timeout(Duration::from_secs(5), config.connect(NoTls))
                .await
                .map_err(|_| HarnessError::new("unix-socket connection timed out"))??;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(client)
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    pub fn port(&self) -> u16 {
        self.endpoint.port
    }

    /// The last part of the server log (for failure reports).
    pub fn log_tail(&self) -> String {
        log_tail(&self.log_path, LOG_TAIL_BYTES)
    }
}

impl Drop for ReferencePostgres {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGINT is PostgreSQL's fast shutdown (SIGTERM would wait for clients to leave).
            stop_child(&mut child, libc::SIGINT, SHUTDOWN_TIMEOUT);
        }
    }
}

/// The PostgreSQL 15 program directory, or an error saying how to install it.
fn bin_dir() -> HarnessResult<PathBuf> {
    let dir = std::env::var_os("CUSTOS_REFERENCE_PG_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_BIN_DIR));
    let missing: Vec<&str> = ["initdb", "postgres"]
        .into_iter()
        .filter(|program| !dir.join(program).is_file())
        .collect();
    if missing.is_empty() {
        Ok(dir)
    } else {
        Err(HarnessError::new(format!(
            "PostgreSQL 15 (the differential reference) is not installed: {} missing in {}. \
             Install it with `apt-get install -y postgresql-15 postgresql-client-15` (CI does \
             this in .ci/run) or point CUSTOS_REFERENCE_PG_BIN at its bin directory.",
            missing.join(" and "),
            dir.display()
        )))
    }
}

/// When running as root: the `postgres` OS account to run the server as.
fn service_account() -> HarnessResult<Option<ServiceAccount>> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let id = |flag: &str| -> HarnessResult<u32> {
        let output = run_bounded(
            Command::new("id").args([flag, "postgres"]),
            None,
            Duration::from_secs(10),
        )?;
        let text = output.stdout_lossy();
        text.trim().parse().map_err(|_| {
            HarnessError::new(format!(
                "running as root, PostgreSQL must run as the `postgres` OS user, but `id {flag} \
                 postgres` gave {:?} {:?} (is the postgresql package installed?)",
                text,
                output.stderr_lossy()
            ))
        })
    };
    Ok(Some(ServiceAccount {
        uid: id("-u")?,
        gid: id("-g")?,
    }))
}

/// Makes `command` run as `account` (std drops the supplementary groups when root sets a uid).
fn as_account(command: &mut Command, account: Option<ServiceAccount>) {
    use std::os::unix::process::CommandExt;
    if let Some(account) = account {
        command.uid(account.uid).gid(account.gid);
    }
}

/// For callers that want to check the installation before doing anything expensive.
pub fn reference_installed() -> HarnessResult<()> {
    bin_dir().map(|_| ())
}
