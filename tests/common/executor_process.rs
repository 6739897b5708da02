//! The real `testmesh executor` binary as a child process, for tests that kill it, stop it
//! with SIGTERM, or restart what it depends on. Its log goes to a file printed on failure.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_testmesh");

/// A running executor; killed when dropped.
pub struct ExecutorProcess {
    pub child: Child,
    pub log: PathBuf,
    pub metrics_url: String,
    _dir: tempfile::TempDir,
}

/// What the executor connects to.
pub struct ExecutorSetup<'a> {
    pub database_url: &'a str,
    pub redis_url: &'a str,
    pub prefix: &'a str,
    pub executor_id: &'a str,
    pub extra: &'a [&'a str],
    /// Environment variables set for it (OTEL_* for tracing).
    pub env: &'a [(&'a str, String)],
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl ExecutorProcess {
    pub fn spawn(setup: &ExecutorSetup<'_>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join(format!("{}.log", setup.executor_id));
        let port = free_port();
        let child = Command::new(BIN)
            .arg("executor")
            .args(["--database-url", setup.database_url])
            .args(["--redis-url", setup.redis_url])
            .args(["--redis-prefix", setup.prefix])
            .args(["--executor-id", setup.executor_id])
            .args(["--metrics-addr", &format!("127.0.0.1:{port}")])
            .args(["--visibility-timeout", "2s", "--log-format", "text"])
            .args(setup.extra)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .envs(
                setup
                    .env
                    .iter()
                    .map(|(name, value)| (*name, value.as_str())),
            )
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Self {
            child,
            log,
            metrics_url: format!("http://127.0.0.1:{port}/metrics"),
            _dir: dir,
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// SIGKILL: the process dies at once, with runs in flight.
    pub fn kill(&mut self) {
        self.signal("-KILL");
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits (bounded) for the exit status without blocking the test's runtime
    /// (its HTTP server must keep answering the flows being drained).
    pub async fn terminate(&mut self, within: Duration) -> std::process::ExitStatus {
        self.signal("-TERM");
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the executor did not stop within {within:?}; log:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for ExecutorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` every 100 ms until it answers `Some`, for at most `within`.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
