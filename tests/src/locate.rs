//! Where things are: the workspace, the shared data directory, this crate's test material, the
//! cargo target directory, and the `custos` binary (built once per test process).
//!
//! The binary lives in another package, so `env!("CARGO_BIN_EXE_custos")` is not available.
//! The target directory is derived from the running test executable
//! (`<target>/<profile>/deps/<test>-<hash>`), falling back to `CARGO_TARGET_DIR` or
//! `<workspace>/target`; `cargo build -q -p custos-server` is run once per process so that the
//! binary is never stale. `CUSTOS_BIN=/path/to/custos` skips the build and uses that binary.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::error::{HarnessError, HarnessResult};
use crate::process::run_bounded;

/// Upper bound on building the server from a test (a cold build of the workspace on 2 cores).
const CUSTOS_BUILD_TIMEOUT: Duration = Duration::from_secs(1_800);

/// The workspace root (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest_dir.to_path_buf())
}

/// This crate's directory: the test material (`differential/`, `psql/`, `jdbc/`) lives here.
pub fn tests_crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared, read-only data sets (`<workspace>/../shared/data`); never copied into the repo.
pub fn shared_data_dir() -> PathBuf {
    workspace_root().join("..").join("shared").join("data")
}

/// The cargo target directory and the profile directory name (`debug` or `release`) of the
/// running test executable.
fn target_dir_and_profile() -> (PathBuf, String) {
    if let Ok(exe) = std::env::current_exe() {
        let deps = exe.parent();
        let profile_dir = deps
            .filter(|dir| dir.file_name().is_some_and(|name| name == "deps"))
            .and_then(Path::parent);
        if let Some(profile_dir) = profile_dir {
            let profile = profile_dir
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_else(|| "debug".to_string());
            if let Some(target) = profile_dir.parent() {
                if profile == "debug" || profile == "release" {
                    return (target.to_path_buf(), profile);
                }
            }
        }
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    (target, "debug".to_string())
}

/// The cargo target directory tests write scratch reports into.
pub fn target_dir() -> PathBuf {
    target_dir_and_profile().0
}

/// Path of the `custos` binary, built (once per process) if needed.
pub fn custos_binary() -> HarnessResult<PathBuf> {
    static BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BINARY
        .get_or_init(build_custos_binary)
        .clone()
        .map_err(HarnessError::new)
}

fn build_custos_binary() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("CUSTOS_BIN") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("CUSTOS_BIN={} is not a file", path.display()))
        };
    }
    let (target, profile) = target_dir_and_profile();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace_root())
        .env("CARGO_TARGET_DIR", &target)
        .args(["build", "-q", "-p", "custos-server"]);
    if profile == "release" {
        command.arg("--release");
    }
    let output = run_bounded(&mut command, None, CUSTOS_BUILD_TIMEOUT)
        .map_err(|e| format!("could not run cargo to build custos: {e}"))?;
    if !output.success() {
        return Err(format!(
            "`cargo build -p custos-server` failed ({}):\n{}",
            output.describe_status(),
            output.stderr_lossy()
        ));
    }
    let binary = target.join(&profile).join("custos");
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(format!(
            "cargo built custos-server but {} does not exist",
            binary.display()
        ))
    }
}

/// The embedding model directory the tests use: `CUSTOS_MODEL_DIR`, else `<workspace>/models`
/// (where `scripts/fetch-models` puts it); an error that says how to fetch it when absent.
pub fn model_dir() -> HarnessResult<PathBuf> {
    let dir = std::env::var_os("CUSTOS_MODEL_DIR")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("models"));
    if !dir.join("model.onnx").is_file() {
        return Err(HarnessError::new(format!(
            "no embedding model in {}: run scripts/fetch-models (or set CUSTOS_MODEL_DIR)",
            dir.display()
        )));
    }
    Ok(dir)
}
