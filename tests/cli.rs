//! `testmesh` as a user runs it: the built binary, flow files on disk, a local HTTP server, and
//! what comes back (exit codes, printed output, report files).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::cli_process::{BIN, Run, finish, finish_off_runtime, testmesh_command};
use serde_json::Value;
use tempfile::TempDir;

/// Starts the binary in `dir`.
fn spawn(args: &[&str], dir: &Path) -> std::process::Child {
    testmesh_command(args).current_dir(dir).spawn().unwrap()
}

/// Runs the binary in `dir` off the async worker threads, so that the test server keeps
/// answering.
async fn testmesh(args: &[&str], dir: &Path) -> Run {
    let mut command = testmesh_command(args);
    command.current_dir(dir);
    finish_off_runtime(command).await
}

fn write(dir: &TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn last_line(text: &str) -> &str {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
}

fn http_flow(name: &str, path: &str, assertion: &str) -> String {
    format!(
        r#"name: {name}
steps:
  - id: call
    action: http_request
    config:
      method: GET
      url: "${{base}}{path}"
    assert:
      - {assertion}
"#
    )
}

// ---------------------------------------------------------------- exit codes

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_tell_pass_fail_invalid_and_runtime_errors_apart() {
    let server = common::http_server::start().await;
    let base = format!("base={}", server.base_url);
    let dir = TempDir::new().unwrap();

    let pass = write(
        &dir,
        "pass.yaml",
        &http_flow("pass", "/status/200", "status == 200"),
    );
    let run = testmesh(&["run", s(&pass), "--var", &base], dir.path()).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(last_line(&run.stdout), "1 passed, 0 failed", "{run:?}");

    let fail = write(
        &dir,
        "fail.yaml",
        &http_flow("fail", "/status/500", "status == 200"),
    );
    let run = testmesh(&["run", s(&fail), "--var", &base], dir.path()).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stdout.contains("status == 200"), "{run:?}");

    let invalid = write(
        &dir,
        "invalid.yaml",
        "name: invalid\nsteps:\n  - id: call\n    action: htp_request\n    config: {url: x}\n",
    );
    let run = testmesh(&["run", s(&invalid), "--var", &base], dir.path()).await;
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.all().contains("invalid.yaml:4"), "{run:?}");

    let refused = write(
        &dir,
        "refused.yaml",
        "name: refused\nsteps:\n  - action: http_request\n    config: {method: GET, url: \"http://127.0.0.1:1/\"}\n",
    );
    let run = testmesh(&["run", s(&refused)], dir.path()).await;
    assert_eq!(run.code, Some(3), "{run:?}");
    assert!(run.all().contains("127.0.0.1:1"), "{run:?}");

    let missing = dir.path().join("no-such-flow.yaml");
    let run = testmesh(&["run", s(&missing)], dir.path()).await;
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("no-such-flow.yaml"), "{run:?}");
}

// ---------------------------------------------------------------- reports and secrets

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junit_and_json_reports_are_written() {
    let server = common::http_server::start().await;
    let base = format!("base={}", server.base_url);
    let dir = TempDir::new().unwrap();
    let flow = write(
        &dir,
        "fail.yaml",
        &http_flow("reported", "/status/404", "status == 200"),
    );
    let junit = dir.path().join("out/junit.xml");
    let json = dir.path().join("out/report.json");
    let junit_arg = format!("junit={}", junit.display());
    let json_arg = format!("json={}", json.display());
    let run = testmesh(
        &[
            "run",
            s(&flow),
            "--var",
            &base,
            "--report",
            &junit_arg,
            "--report",
            &json_arg,
        ],
        dir.path(),
    )
    .await;
    assert_eq!(run.code, Some(1), "{run:?}");

    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let steps = report["flows"][0]["steps"]
        .as_array()
        .expect("flows[0].steps");
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0]["status"], "failed");

    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<failure"), "{xml}");
    assert!(xml.contains("status == 200"), "{xml}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_is_masked_in_output_and_reports() {
    let server = common::http_server::start().await;
    let base = format!("base={}", server.base_url);
    let dir = TempDir::new().unwrap();
    // The assertion fails on purpose: a failure prints the actual values and the exchange.
    let flow = write(
        &dir,
        "secret.yaml",
        r#"name: secret
steps:
  - id: call
    action: http_request
    config:
      method: POST
      url: "${base}/echo"
      headers: {Authorization: "Bearer ${TOKEN}"}
      body: {token: "${TOKEN}"}
    assert:
      - body.headers.authorization == "nothing like it"
"#,
    );
    let json = dir.path().join("report.json");
    let json_arg = format!("json={}", json.display());
    let run = testmesh(
        &[
            "run",
            s(&flow),
            "--var",
            &base,
            "--secret",
            "TOKEN=s3cr3t-value",
            "--report",
            &json_arg,
        ],
        dir.path(),
    )
    .await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(!run.stdout.contains("s3cr3t-value"), "{run:?}");
    assert!(!run.stderr.contains("s3cr3t-value"), "{run:?}");
    // The failed assertion shows the echoed header, masked.
    assert!(run.stdout.contains("Bearer ***"), "{run:?}");
    let report = std::fs::read_to_string(&json).unwrap();
    assert!(!report.contains("s3cr3t-value"), "{report}");
    assert!(report.contains("***"), "{report}");
}

// ---------------------------------------------------------------- selection and parallelism

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_select_flows() {
    let server = common::http_server::start().await;
    let base = format!("base={}", server.base_url);
    let dir = TempDir::new().unwrap();
    let flows = dir.path().join("flows");
    std::fs::create_dir(&flows).unwrap();
    std::fs::write(
        flows.join("a.yaml"),
        format!(
            "tags: [smoke]\n{}",
            http_flow("smoke-flow", "/status/200", "status == 200")
        ),
    )
    .unwrap();
    std::fs::write(
        flows.join("b.yaml"),
        format!(
            "tags: [slow]\n{}",
            http_flow("other-flow", "/status/500", "status == 200")
        ),
    )
    .unwrap();
    let run = testmesh(
        &["run", s(&flows), "--var", &base, "--tags", "smoke"],
        dir.path(),
    )
    .await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("smoke-flow"), "{run:?}");
    assert!(!run.stdout.contains("other-flow"), "{run:?}");
    assert_eq!(last_line(&run.stdout), "1 passed, 0 failed", "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_jobs_run_every_flow_and_summarise() {
    let server = common::http_server::start().await;
    let base = format!("base={}", server.base_url);
    let dir = TempDir::new().unwrap();
    let flows = dir.path().join("flows");
    std::fs::create_dir(&flows).unwrap();
    for (file, name, path) in [
        ("one.yaml", "one", "/status/200"),
        ("two.yaml", "two", "/status/200"),
        ("three.yaml", "three", "/status/418"),
    ] {
        std::fs::write(flows.join(file), http_flow(name, path, "status == 200")).unwrap();
    }
    let run = testmesh(
        &["run", s(&flows), "--var", &base, "--jobs", "2"],
        dir.path(),
    )
    .await;
    assert_eq!(run.code, Some(1), "{run:?}");
    for name in ["one", "two", "three"] {
        assert!(run.stdout.contains(name), "{name} missing: {run:?}");
    }
    assert_eq!(last_line(&run.stdout), "2 passed, 1 failed", "{run:?}");
}

// ---------------------------------------------------------------- validate and convert

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_json_reports_diagnostics_with_lines() {
    let dir = TempDir::new().unwrap();
    let bad = write(
        &dir,
        "bad.yaml",
        "name: bad\nsteps:\n  - id: one\n    action: log\n    config: {message: hi}\n  - id: two\n    action: no_such_action\n",
    );
    let run = testmesh(&["validate", "--format", "json", s(&bad)], dir.path()).await;
    assert_eq!(run.code, Some(2), "{run:?}");
    let report: Value = serde_json::from_str(&run.stdout).expect("validate printed no JSON");
    assert_eq!(report["valid"], false);
    let diagnostics = report["diagnostics"].as_array().unwrap();
    assert!(!diagnostics.is_empty());
    let unknown = diagnostics
        .iter()
        .find(|d| {
            d["message"]
                .as_str()
                .unwrap_or_default()
                .contains("no_such_action")
        })
        .unwrap_or_else(|| panic!("no diagnostic names the action: {report:#}"));
    assert_eq!(unknown["line"], 7, "{report:#}");
    assert!(unknown["file"].as_str().unwrap().ends_with("bad.yaml"));
}

const ORIGINAL_FLOW: &str = r#"flow:
  name: Original user journey
  env:
    API: "{{base}}"
  steps:
    - id: get_user
      action: http
      config:
        method: GET
        url: "${API}/echo"
      assert:
        - status == 200
      retry:
        max_attempts: 3
        delay: 10ms
      on_error:
        action: continue
      output:
        method: $.method
  teardown:
    - action: log
      config:
        message: "done ${get_user.method}"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn convert_prints_a_manifest_that_validates() {
    let dir = TempDir::new().unwrap();
    let flow = write(&dir, "original.yaml", ORIGINAL_FLOW);
    let run = testmesh(&["convert", s(&flow)], dir.path()).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let manifest = &run.stdout;
    assert!(
        manifest.contains("apiVersion: testmesh.io/v1alpha1"),
        "{manifest}"
    );
    assert!(manifest.contains("kind: TestFlow"), "{manifest}");
    assert!(manifest.contains("onError"), "{manifest}");
    assert!(manifest.contains("maxAttempts"), "{manifest}");
    assert!(!manifest.contains("max_attempts"), "{manifest}");
    assert!(!manifest.contains("on_error"), "{manifest}");

    let converted = write(&dir, "converted.yaml", manifest);
    let run = testmesh(
        &[
            "validate",
            s(&converted),
            "--var",
            "base=http://127.0.0.1:9",
        ],
        dir.path(),
    )
    .await;
    assert_eq!(run.code, Some(0), "{run:?}\n--- manifest\n{manifest}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_converted_manifest_runs_like_the_original() {
    let server = common::http_server::start().await;
    let base = format!("base={}", server.base_url);
    let dir = TempDir::new().unwrap();
    let flow = write(&dir, "original.yaml", ORIGINAL_FLOW);
    let run = testmesh(&["run", s(&flow), "--var", &base], dir.path()).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let manifest = testmesh(&["convert", s(&flow)], dir.path()).await.stdout;
    let converted = write(&dir, "converted.yaml", &manifest);
    let run = testmesh(&["run", s(&converted), "--var", &base], dir.path()).await;
    assert_eq!(run.code, Some(0), "{run:?}\n--- manifest\n{manifest}");
}

// ---------------------------------------------------------------- Ctrl-C

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_the_step_runs_teardown_and_exits_130() {
    let server = common::http_server::start().await;
    let base = format!("base={}", server.base_url);
    let dir = TempDir::new().unwrap();
    let flow = write(
        &dir,
        "slow.yaml",
        r#"name: interrupted
steps:
  - id: slow
    action: http_request
    config: {method: GET, url: "${base}/slow?ms=20000"}
teardown:
  - id: farewell
    action: log
    config: {message: cleaning up}
"#,
    );
    let child = spawn(&["run", s(&flow), "--var", &base], dir.path());
    let pid = child.id().to_string();

    let seen = Instant::now();
    while server.slow_requests() == 0 {
        assert!(
            seen.elapsed() < Duration::from_secs(10),
            "the step never reached the server"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let killed = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(killed.success());

    let started = Instant::now();
    let run = tokio::task::spawn_blocking(move || finish(child))
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "Ctrl-C did not stop the run: {run:?}"
    );
    assert_eq!(run.code, Some(130), "{run:?}");
    let teardown = run
        .stdout
        .lines()
        .find(|l| l.contains("teardown/farewell"))
        .unwrap_or_else(|| panic!("no teardown line: {run:?}"));
    assert!(teardown.contains('✓'), "{run:?}");
}

#[test]
fn a_closed_stdout_does_not_crash_the_run() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart.yaml");
    let mut child = Command::new(BIN)
        .args(["run", s(&examples)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
}

#[tokio::test]
async fn api_refuses_sign_in_settings_that_cannot_work_naming_the_flag() {
    let dir = TempDir::new().unwrap();
    let common = [
        "api",
        "--database-url",
        "postgres://nobody@127.0.0.1:1/none",
        "--dashboard-dir",
        "/nonexistent",
        "--log-format",
        "text",
    ];
    let cases: [(&[&str], &str); 5] = [
        (
            &["--listen", "0.0.0.0:0"],
            "--auth none on --listen 0.0.0.0:0",
        ),
        (
            &["--listen", "127.0.0.1:0", "--auth", "token"],
            "--auth token needs --auth-token",
        ),
        (
            &[
                "--listen",
                "127.0.0.1:0",
                "--auth",
                "none",
                "--auth-token",
                "t",
            ],
            "--auth-token is only used with --auth token",
        ),
        (
            &["--listen", "127.0.0.1:0", "--auth", "kubernetes"],
            "--auth kubernetes needs a cluster",
        ),
        (
            &[
                "--listen",
                "127.0.0.1:0",
                "--auth-token",
                "t",
                "--auth-proxy-header",
                "not a header",
            ],
            "--auth-proxy-header \"not a header\" is not a header name",
        ),
    ];
    for (flags, expected) in cases {
        let args: Vec<&str> = common.iter().chain(flags).copied().collect();
        let run = testmesh(&args, dir.path()).await;
        assert_eq!(run.code, Some(3), "{flags:?}: {}", run.all());
        assert!(run.stderr.contains(expected), "{flags:?}: {}", run.all());
    }
}
