//! Child processes and ports with bounded waits: a free loopback port, a command run with a
//! deadline (its output captured), and stopping a server process with a signal, then SIGKILL
//! if it does not exit in time.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{HarnessError, HarnessResult};

/// How often bounded waits poll a child process.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// A free TCP port on 127.0.0.1: bind port 0, read the port, release it. Another process could
/// take it before the server binds; tests accept that (rare) race.
pub fn free_loopback_port() -> HarnessResult<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Output of a command run with [`run_bounded`].
#[derive(Debug)]
pub struct BoundedOutput {
    /// `None` when the command was killed at the deadline.
    pub status: Option<ExitStatus>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl BoundedOutput {
    pub fn success(&self) -> bool {
        self.status.is_some_and(|status| status.success())
    }

    pub fn timed_out(&self) -> bool {
        self.status.is_none()
    }

    pub fn stdout_lossy(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_lossy(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    pub fn describe_status(&self) -> String {
        match self.status {
            Some(status) => status.to_string(),
            None => "killed after timing out".to_string(),
        }
    }
}

/// Runs `command` to completion or until `timeout` (then kills it), feeding `stdin` and
/// capturing stdout and stderr.
pub fn run_bounded(
    command: &mut Command,
    stdin: Option<&[u8]>,
    timeout: Duration,
) -> HarnessResult<BoundedOutput> {
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|e| HarnessError::new(format!("cannot start {command:?}: {e}")))?;
    let stdin_writer = match (stdin, child.stdin.take()) {
        (Some(bytes), Some(mut pipe)) => {
            let bytes = bytes.to_vec();
            // A writer thread: the child may fill its output pipes before reading all input.
            Some(thread::spawn(move || {
                let _ = pipe.write_all(&bytes);
            }))
        }
        _ => None,
    };
    let stdout_reader = child.stdout.take().map(spawn_reader);
    let stderr_reader = child.stderr.take().map(spawn_reader);
    let status = wait_with_deadline(&mut child, timeout)?;
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    if let Some(writer) = stdin_writer {
        let _ = writer.join();
    }
    let stdout = stdout_reader
        .map(|reader| reader.join().unwrap_or_default())
        .unwrap_or_default();
    let stderr = stderr_reader
        .map(|reader| reader.join().unwrap_or_default())
        .unwrap_or_default();
    Ok(BoundedOutput {
        status,
        stdout,
        stderr,
    })
}

fn spawn_reader(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// Waits for `child` to exit, at most `timeout`; `None` if it is still running.
pub fn wait_with_deadline(
    child: &mut Child,
    timeout: Duration,
) -> HarnessResult<Option<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        thread::sleep(POLL_INTERVAL);
    }
}

/// How a stopped server process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopOutcome {
    /// It exited on its own after the signal.
    Exited(ExitStatus),
    /// It did not exit within the timeout and was killed with SIGKILL.
    Killed,
}

/// Sends `signal` to `child`, waits up to `timeout`, and kills it if it is still running.
pub fn stop_child(child: &mut Child, signal: libc::c_int, timeout: Duration) -> StopOutcome {
    if let Ok(Some(status)) = child.try_wait() {
        return StopOutcome::Exited(status);
    }
    let Ok(pid) = libc::pid_t::try_from(child.id()) else {
        let _ = child.kill();
        let _ = child.wait();
        return StopOutcome::Killed;
    };
    // SAFETY: kill(2) with the pid of our own, not yet reaped child: the pid cannot have been
    // reused by another process.
    unsafe {
        libc::kill(pid, signal);
    }
    match wait_with_deadline(child, timeout) {
        Ok(Some(status)) => StopOutcome::Exited(status),
        _ => {
            let _ = child.kill();
            let _ = child.wait();
            StopOutcome::Killed
        }
    }
}

/// The last `max_bytes` of a log file, for error messages.
pub fn log_tail(path: &std::path::Path, max_bytes: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let start = bytes.len().saturating_sub(max_bytes);
            String::from_utf8_lossy(&bytes[start..]).into_owned()
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

/// Runs `command` with stdout and stderr going to one pipe, so that the captured text
/// interleaves them as a terminal would show them; killed at `timeout`.
pub fn run_bounded_merged(
    command: &mut Command,
    timeout: Duration,
) -> HarnessResult<(Option<ExitStatus>, Vec<u8>)> {
    let (reader, writer) = std::io::pipe()?;
    let writer_for_stderr = writer.try_clone()?;
    command
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(writer_for_stderr);
    let mut child = command
        .spawn()
        .map_err(|e| HarnessError::new(format!("cannot start {command:?}: {e}")))?;
    // The command holds the parent's copies of the write ends until it is dropped; without
    // dropping them the reader would never see end-of-file.
    drop(std::mem::replace(command, Command::new("true")));
    let output_reader = spawn_reader(reader);
    let status = wait_with_deadline(&mut child, timeout)?;
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let output = output_reader.join().unwrap_or_default();
    Ok((status, output))
}
