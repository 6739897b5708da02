//! The `testmesh` binary as a test runs it: a child process with its exit code and output,
//! killed if it outlives a generous bound (there only to stop a hung child from hanging the
//! suite; no test depends on timing).

use std::ffi::OsStr;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The bound on one run of the binary.
pub const BOUND: Duration = Duration::from_secs(60);

/// The binary the tests run.
pub const BIN: &str = env!("CARGO_BIN_EXE_testmesh");

/// The binary with `args`, as the tests run it: no colours, no input, its output captured.
pub fn testmesh_command<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs `command` to its end off the async worker threads, so that the test's servers keep
/// answering.
pub async fn finish_off_runtime(mut command: Command) -> Run {
    tokio::task::spawn_blocking(move || finish(command.spawn().unwrap()))
        .await
        .unwrap()
}

/// How a run of the binary ended.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Standard output, then standard error.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Waits for `child` (at most [`BOUND`]) and collects what it printed.
pub fn finish(mut child: Child) -> Run {
    let deadline = Instant::now() + BOUND;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("testmesh did not finish: {:?}", child.wait_with_output());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}
