//! pgjdbc (issue 3): `tests/jdbc/JdbcCheck.java`, compiled with javac into a temporary
//! directory and run against a server with `java -cp postgresql.jar:<dir> JdbcCheck`.
//!
//! - `jdbc_check_passes_on_postgres`: the program itself is right (PostgreSQL 15, SCRAM).
//! - `custos_jdbc_check_passes`: custos passes it.
//!
//! The driver jar comes from Debian's `libpostgresql-jdbc-java` (`/usr/share/java/
//! postgresql.jar`, override with `CUSTOS_PGJDBC_JAR`); Java 17 (`java`, `javac`) is assumed.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use custos_tests::locate::tests_crate_dir;
use custos_tests::process::run_bounded;
use custos_tests::{CustosServer, Endpoint, HarnessError, HarnessResult, ReferencePostgres};

const DEFAULT_JAR: &str = "/usr/share/java/postgresql.jar";
const JAVAC_TIMEOUT: Duration = Duration::from_secs(120);
const PROGRAM_TIMEOUT: Duration = Duration::from_secs(180);

fn driver_jar() -> HarnessResult<PathBuf> {
    let jar = std::env::var_os("CUSTOS_PGJDBC_JAR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_JAR));
    if jar.is_file() {
        Ok(jar)
    } else {
        Err(HarnessError::new(format!(
            "the pgjdbc driver is not installed ({} missing): `apt-get install -y \
             libpostgresql-jdbc-java` (CI does this in .ci/run) or set CUSTOS_PGJDBC_JAR",
            jar.display()
        )))
    }
}

/// Compiles and runs the check program against `endpoint`; returns its output on success.
fn run_jdbc_check(endpoint: &Endpoint) -> HarnessResult<String> {
    let jar = driver_jar()?;
    let classes = tempfile::Builder::new().prefix("custos-jdbc-").tempdir()?;
    let source = tests_crate_dir().join("jdbc").join("JdbcCheck.java");
    let compiled = run_bounded(
        Command::new("javac")
            .arg("-encoding")
            .arg("UTF-8")
            .arg("-d")
            .arg(classes.path())
            .arg("-cp")
            .arg(&jar)
            .arg(&source),
        None,
        JAVAC_TIMEOUT,
    )?;
    if !compiled.success() {
        return Err(HarnessError::new(format!(
            "javac failed ({}):\n{}{}",
            compiled.describe_status(),
            compiled.stdout_lossy(),
            compiled.stderr_lossy()
        )));
    }
    let classpath = format!("{}:{}", jar.display(), classes.path().display());
    let run = run_bounded(
        Command::new("java")
            .arg("-Duser.timezone=UTC")
            .arg("-Dfile.encoding=UTF-8")
            .arg("-cp")
            .arg(classpath)
            .arg("JdbcCheck")
            .arg(endpoint.jdbc_url())
            .arg(&endpoint.user)
            .arg(&endpoint.password),
        None,
        PROGRAM_TIMEOUT,
    )?;
    let output = format!("{}{}", run.stdout_lossy(), run.stderr_lossy());
    println!("{output}");
    if run.success() {
        Ok(output)
    } else {
        Err(HarnessError::new(format!(
            "JdbcCheck failed ({}):\n{output}",
            run.describe_status()
        )))
    }
}

#[tokio::test]
async fn jdbc_check_passes_on_postgres() -> HarnessResult<()> {
    let reference = ReferencePostgres::start_with_password_auth().await?;
    let endpoint = reference.endpoint().clone();
    tokio::task::spawn_blocking(move || run_jdbc_check(&endpoint))
        .await
        .map_err(|e| HarnessError::new(format!("JdbcCheck task: {e}")))??;
    Ok(())
}

#[tokio::test]
async fn custos_jdbc_check_passes() -> HarnessResult<()> {
    let server = CustosServer::start().await?;
    let endpoint = server.endpoint().clone();
    tokio::task::spawn_blocking(move || run_jdbc_check(&endpoint))
        .await
        .map_err(|e| HarnessError::new(format!("JdbcCheck task: {e}")))??;
    Ok(())
}
