//! The two servers under comparison, each started on a free loopback port in its own temporary
//! directory and stopped (SIGTERM, a bounded wait, then SIGKILL) when its handle is dropped:
//!
//! - custos: `custos serve --data-dir <tmp>/data --listen 127.0.0.1:<port>` with a random
//!   `CUSTOS_PASSWORD`; ready when its log says "listening on". Clients log in as `custos` to
//!   database `custos` with SCRAM-SHA-256.
//! - PostgreSQL 15 from the distribution (`/usr/lib/postgresql/15/bin`, or
//!   `CUSTOS_REFERENCE_PG_BIN`): `initdb --locale=C.UTF-8 -E UTF8 -U custos --auth=trust`, then
//!   `postgres -c listen_addresses=127.0.0.1 -p <port> -k <tmp> -c timezone=UTC` in its stock
//!   configuration otherwise (fsync on, 128 MB shared buffers, parallel query on), and a
//!   database `custos`. PostgreSQL refuses to run as root: when we are root, the directory is
//!   given to the `postgres` OS user and initdb and postgres run under its uid and gid.
//!
//! Both are reached over TCP on 127.0.0.1 without TLS, by tokio-postgres and by the libpq
//! programs (psql, pgbench) through `PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`, `PGPASSWORD`.

use std::fs::File;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rand::distributions::Alphanumeric;
use rand::Rng;
use tempfile::TempDir;
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;
use tokio_postgres::{Client, NoTls};

use super::process::{free_loopback_port, log_tail, run_bounded, stop_child};
use super::WireResult;

/// Where Debian's PostgreSQL 15 programs are.
pub const DEFAULT_POSTGRES_BIN_DIR: &str = "/usr/lib/postgresql/15/bin";

const INITDB_TIMEOUT: Duration = Duration::from_secs(120);
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(20);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const LOG_TAIL_BYTES: usize = 3_000;

/// The role and database of both servers.
const ROLE: &str = "custos";
const DATABASE: &str = "custos";

/// Which server a figure belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    Custos,
    Postgres,
}

impl ServerKind {
    pub fn label(self) -> &'static str {
        match self {
            ServerKind::Custos => "custos",
            ServerKind::Postgres => "PostgreSQL",
        }
    }
}

/// How to reach a server over TCP on 127.0.0.1.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub port: u16,
    /// `None` for trust authentication.
    pub password: Option<String>,
}

impl Endpoint {
    /// A libpq program (psql, pgbench) set up to connect to this server.
    pub fn libpq_command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .env("PGHOST", "127.0.0.1")
            .env("PGPORT", self.port.to_string())
            .env("PGUSER", ROLE)
            .env("PGDATABASE", DATABASE)
            .env("PGSSLMODE", "disable")
            .env("PGCONNECT_TIMEOUT", CONNECT_TIMEOUT.as_secs().to_string())
            .env_remove("PGOPTIONS")
            .env_remove("PGSERVICE")
            .env_remove("PGPASSFILE");
        match &self.password {
            Some(password) => command.env("PGPASSWORD", password),
            None => command.env_remove("PGPASSWORD"),
        };
        command
    }

    /// A tokio-postgres connection to database `dbname`; its connection task is spawned on the
    /// current runtime.
    pub async fn connect_to(&self, dbname: &str) -> WireResult<Session> {
        let mut config = tokio_postgres::Config::new();
        config
            .host("127.0.0.1")
            .port(self.port)
            .user(ROLE)
            .dbname(dbname)
            .connect_timeout(CONNECT_TIMEOUT);
        if let Some(password) = &self.password {
            config.password(password);
        }
        let (client, connection) = tokio::time::timeout(CONNECT_TIMEOUT, config.connect(NoTls))
            .await
            .map_err(|_| format!("connecting to port {} timed out", self.port))??;
        let connection = tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Session { client, connection })
    }

    pub async fn connect(&self) -> WireResult<Session> {
        self.connect_to(DATABASE).await
    }
}

/// A client connection and the task that drives it. The task only runs while the runtime is
/// driven: [`Session::close`] ends the session while it is, so that the server sees it end
/// (PostgreSQL's smart shutdown on SIGTERM waits for every session).
pub struct Session {
    client: Client,
    connection: JoinHandle<()>,
}

impl Session {
    /// Sends Terminate and waits (bounded) until the connection is closed.
    pub async fn close(self) {
        drop(self.client);
        let _ = tokio::time::timeout(CONNECT_TIMEOUT, self.connection).await;
    }
}

impl Deref for Session {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

/// A running server owned by the benchmark.
pub struct Server {
    pub kind: ServerKind,
    pub endpoint: Endpoint,
    /// `SELECT version()`.
    pub version: String,
    child: Option<Child>,
    log_path: PathBuf,
    // Declared last: removed after the process has stopped.
    _scratch: TempDir,
}

impl Server {
    /// Starts `custos serve` from `binary` in a fresh data directory.
    pub fn start_custos(runtime: &Runtime, binary: &Path) -> WireResult<Server> {
        let scratch = tempfile::Builder::new()
            .prefix("custos-wire-bench-custos-")
            .tempdir()?;
        let log_path = scratch.path().join("custos.log");
        let log = File::create(&log_path)?;
        let port = free_loopback_port()?;
        let password: String = rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(24)
            .map(char::from)
            .collect();
        let child = Command::new(binary)
            .arg("serve")
            .arg("--data-dir")
            .arg(scratch.path().join("data"))
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .env("CUSTOS_PASSWORD", &password)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let mut server = Server {
            kind: ServerKind::Custos,
            endpoint: Endpoint {
                port,
                password: Some(password),
            },
            version: String::new(),
            child: Some(child),
            log_path,
            _scratch: scratch,
        };
        server.wait_until(|server| {
            let log = std::fs::read_to_string(&server.log_path).unwrap_or_default();
            Ok(log.contains("listening on"))
        })?;
        server.version = runtime.block_on(server.select_version())?;
        Ok(server)
    }

    /// Initialises and starts PostgreSQL from `bin_dir`, and creates database `custos`.
    pub fn start_postgres(runtime: &Runtime, bin_dir: &Path) -> WireResult<Server> {
        let scratch = tempfile::Builder::new()
            .prefix("custos-wire-bench-postgres-")
            .tempdir()?;
        let account = service_account()?;
        let data_dir = scratch.path().join("data");
        let log_path = scratch.path().join("postgres.log");
        File::create(&log_path)?;
        if let Some((uid, gid)) = account {
            std::os::unix::fs::chown(scratch.path(), Some(uid), Some(gid))?;
            std::os::unix::fs::chown(&log_path, Some(uid), Some(gid))?;
        }
        let mut initdb = Command::new(bin_dir.join("initdb"));
        initdb
            .current_dir(scratch.path())
            .env("TZ", "UTC")
            .env("LC_ALL", "C.UTF-8")
            .arg("-D")
            .arg(&data_dir)
            .args(["-U", ROLE, "--locale=C.UTF-8", "-E", "UTF8", "--auth=trust"])
            // Only initdb's own final sync of the new cluster: the server runs with fsync on.
            .arg("--no-sync");
        as_account(&mut initdb, account);
        let output = run_bounded(&mut initdb, INITDB_TIMEOUT)?;
        if !output.success() {
            return Err(format!("initdb failed: {}", output.describe_failure()).into());
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
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        as_account(&mut postgres, account);
        let child = postgres
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin_dir.join("postgres").display()))?;
        let mut server = Server {
            kind: ServerKind::Postgres,
            endpoint: Endpoint {
                port,
                password: None,
            },
            version: String::new(),
            child: Some(child),
            log_path,
            _scratch: scratch,
        };
        server.wait_until(|server| {
            let accepting = runtime.block_on(server.endpoint.connect_to("postgres"));
            match accepting {
                Ok(admin) => runtime.block_on(async {
                    let created = admin
                        .batch_execute(&format!("CREATE DATABASE {DATABASE}"))
                        .await;
                    admin.close().await;
                    created?;
                    Ok(true)
                }),
                Err(_) => Ok(false),
            }
        })?;
        server.version = runtime.block_on(server.select_version())?;
        Ok(server)
    }

    /// Polls `ready` until it says yes, the process exits, or [`STARTUP_TIMEOUT`] passes.
    fn wait_until(&mut self, mut ready: impl FnMut(&Server) -> WireResult<bool>) -> WireResult<()> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                return Err(format!(
                    "{} exited during start-up ({status}); its log:\n{}",
                    self.kind.label(),
                    self.log_tail()
                )
                .into());
            }
            if ready(self)? {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!(
            "{} was not ready within {STARTUP_TIMEOUT:?}; its log:\n{}",
            self.kind.label(),
            self.log_tail()
        )
        .into())
    }

    async fn select_version(&self) -> WireResult<String> {
        let session = self.endpoint.connect().await?;
        let row = session.query_one("SELECT version()", &[]).await;
        session.close().await;
        Ok(row?.get(0))
    }

    /// The last part of the server's log, for failure reports.
    pub fn log_tail(&self) -> String {
        log_tail(&self.log_path, LOG_TAIL_BYTES)
    }

    /// Stops the server (SIGTERM, bounded wait, SIGKILL); returns how it ended.
    pub fn stop(&mut self) -> String {
        match self.child.take() {
            Some(mut child) => stop_child(&mut child, libc::SIGTERM, SHUTDOWN_TIMEOUT),
            None => "not running".into(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.is_some() {
            let outcome = self.stop();
            eprintln!("{} stopped: {outcome}", self.kind.label());
        }
    }
}

/// The `custos` binary: `CUSTOS_BIN`, else the one beside this benchmark's executable (both are
/// built into `<target>/<profile>/`).
pub fn custos_binary() -> WireResult<PathBuf> {
    if let Some(path) = std::env::var_os("CUSTOS_BIN") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe()?;
    let beside = exe
        .parent()
        .map(|dir| dir.join("custos"))
        .ok_or("cannot locate the benchmark executable's directory")?;
    if beside.is_file() {
        Ok(beside)
    } else {
        Err(format!(
            "{} does not exist: build it first with `cargo build --release -p custos-server` \
             (same CARGO_TARGET_DIR), or set CUSTOS_BIN",
            beside.display()
        )
        .into())
    }
}

/// The PostgreSQL 15 program directory, or an error saying how to install it.
pub fn postgres_bin_dir() -> WireResult<PathBuf> {
    let dir = std::env::var_os("CUSTOS_REFERENCE_PG_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_POSTGRES_BIN_DIR));
    let missing: Vec<&str> = ["initdb", "postgres", "psql", "pgbench"]
        .into_iter()
        .filter(|program| !dir.join(program).is_file())
        .collect();
    if missing.is_empty() {
        Ok(dir)
    } else {
        Err(format!(
            "PostgreSQL 15 is not installed: {} missing in {}. Install it with `apt-get install \
             -y postgresql-15 postgresql-client-15` or point CUSTOS_REFERENCE_PG_BIN at its bin \
             directory.",
            missing.join(", "),
            dir.display()
        )
        .into())
    }
}

/// When running as root: the uid and gid of the `postgres` OS account to run PostgreSQL as.
fn service_account() -> WireResult<Option<(u32, u32)>> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let id = |flag: &str| -> WireResult<u32> {
        let output = run_bounded(
            Command::new("id").args([flag, "postgres"]),
            Duration::from_secs(10),
        )?;
        output.stdout.trim().parse().map_err(|_| {
            format!(
                "running as root, PostgreSQL must run as the `postgres` OS user, but `id {flag} \
                 postgres` failed: {}",
                output.describe_failure()
            )
            .into()
        })
    };
    Ok(Some((id("-u")?, id("-g")?)))
}

/// Makes `command` run as `account` (std also drops the supplementary groups).
fn as_account(command: &mut Command, account: Option<(u32, u32)>) {
    use std::os::unix::process::CommandExt;
    if let Some((uid, gid)) = account {
        command.uid(uid).gid(gid);
    }
}
