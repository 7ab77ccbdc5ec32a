//! Child processes with bounded waits: a free loopback port, a client program (psql, pgbench)
//! run to completion or killed at a deadline with its output captured, and a server process
//! stopped with a signal, then SIGKILL if it does not exit in time.
//!
//! Every wait here has a deadline: a benchmark that hangs on a stuck server is worse than one
//! that fails with the server's log.

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::WireResult;

/// How often bounded waits poll a child process.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// A free TCP port on 127.0.0.1: bind port 0, read the port, release it. Another process could
/// take it before the server binds; the server then fails to start with its log shown.
pub fn free_loopback_port() -> WireResult<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// What a client program printed, and how it ended.
#[derive(Debug)]
pub struct ProgramOutput {
    /// `None` when the program was killed at the deadline.
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl ProgramOutput {
    pub fn success(&self) -> bool {
        self.status.is_some_and(|status| status.success())
    }

    /// A one-paragraph account of a failed run, for the report.
    pub fn describe_failure(&self) -> String {
        let status = match self.status {
            Some(status) => status.to_string(),
            None => format!("killed after {:.0} s", self.elapsed.as_secs_f64()),
        };
        let mut text = status;
        for (name, stream) in [("stderr", &self.stderr), ("stdout", &self.stdout)] {
            let stream = stream.trim();
            if !stream.is_empty() {
                text.push_str(&format!("; {name}: {}", tail(stream, 1_500)));
            }
        }
        text
    }
}

/// Runs `command` (stdin closed) to completion or until `timeout`, when it is killed.
pub fn run_bounded(command: &mut Command, timeout: Duration) -> WireResult<ProgramOutput> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start {command:?}: {e}"))?;
    let stdout_reader = child.stdout.take().map(spawn_reader);
    let stderr_reader = child.stderr.take().map(spawn_reader);
    let status = wait_with_deadline(&mut child, timeout)?;
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let elapsed = started.elapsed();
    let collect = |reader: Option<thread::JoinHandle<Vec<u8>>>| {
        let bytes = reader
            .map(|reader| reader.join().unwrap_or_default())
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    Ok(ProgramOutput {
        status,
        stdout: collect(stdout_reader),
        stderr: collect(stderr_reader),
        elapsed,
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
pub fn wait_with_deadline(child: &mut Child, timeout: Duration) -> WireResult<Option<ExitStatus>> {
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

/// Sends `signal` to `child`, waits up to `timeout`, and kills it if it is still running.
/// Returns how it ended, for the progress log.
pub fn stop_child(child: &mut Child, signal: libc::c_int, timeout: Duration) -> String {
    if let Ok(Some(status)) = child.try_wait() {
        return format!("had already exited ({status})");
    }
    let Ok(pid) = libc::pid_t::try_from(child.id()) else {
        let _ = child.kill();
        let _ = child.wait();
        return "killed".into();
    };
    // SAFETY: kill(2) on the pid of our own child, not yet reaped: the pid cannot have been
    // reused by another process.
    unsafe {
        libc::kill(pid, signal);
    }
    match wait_with_deadline(child, timeout) {
        Ok(Some(status)) => format!("exited ({status})"),
        _ => {
            let _ = child.kill();
            let _ = child.wait();
            format!("did not exit within {timeout:?}: killed")
        }
    }
}

/// The last `max_bytes` (about) of a log file, for error messages.
pub fn log_tail(path: &Path, max_bytes: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => tail(&String::from_utf8_lossy(&bytes), max_bytes).to_string(),
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

/// The end of `text`, at most about `max_bytes`, cut at a character boundary.
fn tail(text: &str, max_bytes: usize) -> &str {
    let mut start = text.len().saturating_sub(max_bytes);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_cuts_at_a_character_boundary() {
        assert_eq!(tail("abcdef", 3), "def");
        assert_eq!(tail("ab", 10), "ab");
        assert_eq!(tail("aé", 1), "");
    }

    #[test]
    fn a_program_past_its_deadline_is_killed() {
        let output =
            run_bounded(Command::new("sleep").arg("5"), Duration::from_millis(100)).unwrap();
        assert!(output.status.is_none());
        assert!(!output.success());
    }
}
