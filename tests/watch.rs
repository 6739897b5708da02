//! `testmesh watch` as a user drives it: flows on disk, files saved while it watches, Ctrl-C
//! (SIGINT) to stop, and what it prints. Waits are bounded by conditions on the output, never
//! by a timing assertion.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::cli_process::{BOUND, Run, finish, testmesh_command};
use tempfile::TempDir;

/// What `watch` prints before it waits for the next change.
const WAITING: &str = "watching for changes";
/// How long the test leaves `watch` alone to show that nothing else runs: several times the
/// debounce the tests give it.
const QUIET: Duration = Duration::from_millis(1500);

/// A running `testmesh watch`, its output gathered as it comes.
struct Watching {
    child: Option<Child>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl Watching {
    fn start(dir: &Path, args: &[&str]) -> Self {
        let mut child = testmesh_command(["watch", "--debounce", "200ms"])
            .args(args)
            .current_dir(dir)
            .spawn()
            .unwrap();
        let stdout = gather(child.stdout.take().unwrap());
        let stderr = gather(child.stderr.take().unwrap());
        Watching {
            child: Some(child),
            stdout,
            stderr,
        }
    }

    /// Waits (at most [`BOUND`]) until `holds` is true of stdout and stderr.
    fn wait_for(&self, what: &str, holds: impl Fn(&str, &str) -> bool) {
        let deadline = Instant::now() + BOUND;
        loop {
            let (out, err) = self.output();
            if holds(&out, &err) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "watch never showed {what}\n--- stdout\n{out}\n--- stderr\n{err}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until `watch` has finished `runs` runs and waits for changes again.
    fn wait_for_runs(&self, runs: usize) {
        self.wait_for(&format!("{runs} runs"), |out, err| {
            run_count(out) == runs && err.matches(WAITING).count() == runs
        });
    }

    fn output(&self) -> (String, String) {
        (
            self.stdout.lock().unwrap().clone(),
            self.stderr.lock().unwrap().clone(),
        )
    }

    /// Sends Ctrl-C (SIGINT) and waits for the process to end.
    fn interrupt(mut self) -> Run {
        let child = self.child.take().unwrap();
        let status = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let mut run = finish(child);
        // The reader threads hold the pipes; what they gathered is the whole output.
        let (out, err) = self.output();
        run.stdout = out;
        run.stderr = err;
        run
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Reads `pipe` on a thread of its own into a shared string.
fn gather(mut pipe: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let filled = text.clone();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(read) = pipe.read(&mut buffer) {
            if read == 0 {
                break;
            }
            filled
                .lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buffer[..read]));
        }
    });
    text
}

/// How many runs have finished: each ends with a `flows:` summary line.
fn run_count(stdout: &str) -> usize {
    stdout.lines().filter(|l| l.starts_with("flows: ")).count()
}

/// The output of the last run.
fn last_run(stdout: &str) -> &str {
    let runs: Vec<&str> = stdout.split("\nflows: ").collect();
    runs[runs.len().saturating_sub(2)]
}

fn save(dir: &TempDir, name: &str, text: &str) {
    std::fs::write(dir.path().join(name), text).unwrap();
}

fn log_flow(name: &str, extra: &str, message: &str) -> String {
    format!(
        "name: {name}\n{extra}steps:\n  - id: say\n    action: log\n    config: {{message: \"{message}\"}}\n"
    )
}

#[test]
fn a_saved_change_runs_the_flows_made_of_that_file_again_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    save(
        &dir,
        "orders.yaml",
        &log_flow("orders", "env_file: .env\n", "v1"),
    );
    save(&dir, "users.yaml", &log_flow("users", "", "users"));
    save(&dir, ".env", "WHO=world\n");
    let watching = Watching::start(dir.path(), &["."]);
    watching.wait_for_runs(1);
    let (out, _) = watching.output();
    assert!(out.contains("flows: 2 passed"), "{out}");

    save(
        &dir,
        "orders.yaml",
        &log_flow("orders", "env_file: .env\n", "v2"),
    );
    watching.wait_for_runs(2);
    std::thread::sleep(QUIET);
    let (out, err) = watching.output();
    assert_eq!(run_count(&out), 2, "one save, one run\n{out}\n{err}");
    assert!(
        err.contains("orders.yaml changed: running orders.yaml again"),
        "{err}"
    );
    let rerun = last_run(&out);
    assert!(
        rerun.contains("orders  (") && !rerun.contains("users  ("),
        "{rerun}"
    );

    // As editors save: a new file written beside, then renamed over the old one.
    save(&dir, ".env.swp", "WHO=moon\n");
    std::fs::rename(dir.path().join(".env.swp"), dir.path().join(".env")).unwrap();
    watching.wait_for_runs(3);
    std::thread::sleep(QUIET);
    let (out, _) = watching.output();
    assert_eq!(run_count(&out), 3, "one rename-save, one run\n{out}");
    let (out, err) = watching.output();
    assert!(
        err.contains(".env changed: running orders.yaml again"),
        "{err}"
    );
    assert!(!last_run(&out).contains("users  ("), "{out}");

    save(&dir, "notes.txt", "not a flow's file");
    std::thread::sleep(QUIET);
    let (out, _) = watching.output();
    assert_eq!(
        run_count(&out),
        3,
        "a file no flow reads ran something\n{out}"
    );

    let run = watching.interrupt();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stderr.contains("stopped watching"), "{run:?}");
}

#[test]
fn a_file_that_did_not_load_runs_once_the_saved_fix_does() {
    let dir = tempfile::tempdir().unwrap();
    save(&dir, "broken.yaml", "name: broken\nsteps: [\n");
    let watching = Watching::start(dir.path(), &["."]);
    watching.wait_for("the load error", |_, err| {
        err.contains("broken.yaml") && err.contains(WAITING)
    });
    save(&dir, "broken.yaml", &log_flow("broken", "", "fixed"));
    watching.wait_for("the fixed flow's run", |out, err| {
        run_count(out) == 1 && err.matches(WAITING).count() == 2
    });
    let run = watching.interrupt();
    assert!(run.stdout.contains("flows: 1 passed"), "{run:?}");
    assert_eq!(run.code, Some(0), "{run:?}");
}

#[test]
fn ctrl_c_during_a_run_runs_teardown_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    save(
        &dir,
        "slow.yaml",
        "name: slow\nsteps:\n  - id: wait\n    action: delay\n    config: {duration: 60s}\n\
         teardown:\n  - id: cleanup\n    action: log\n    config: {message: cleaned}\n",
    );
    let watching = Watching::start(dir.path(), &["slow.yaml"]);
    watching.wait_for("the run starting", |out, _| out.contains("slow  ("));
    let run = watching.interrupt();
    assert_eq!(run.code, Some(130), "{run:?}");
    assert!(
        run.stdout.contains("cleanup"),
        "teardown did not run: {run:?}"
    );
    assert!(!run.stderr.contains(WAITING), "{run:?}");
}

#[test]
fn a_save_during_a_run_runs_the_flow_once_more_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let slow = |message: &str| {
        format!(
            "name: slow\nsteps:\n  - id: wait\n    action: delay\n    config: {{duration: 1s}}\n\
             \x20 - id: say\n    action: log\n    config: {{message: {message}}}\n"
        )
    };
    save(&dir, "slow.yaml", &slow("v1"));
    let watching = Watching::start(dir.path(), &["slow.yaml"]);
    watching.wait_for("the first run starting", |out, _| out.contains("slow  ("));
    save(&dir, "slow.yaml", &slow("v2"));
    watching.wait_for_runs(2);
    std::thread::sleep(QUIET);
    let (out, err) = watching.output();
    assert_eq!(
        run_count(&out),
        2,
        "one save during a run, one more run\n{out}\n{err}"
    );
    assert!(
        err.contains("slow.yaml changed: running slow.yaml again"),
        "{err}"
    );
    let run = watching.interrupt();
    assert_eq!(run.code, Some(0), "{run:?}");
}
