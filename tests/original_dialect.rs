//! Flows written for the original platform, as its users wrote them (`tests/fixtures/original/`
//! and small flows below): they validate with their environment file, give warnings rather than
//! errors for what an environment supplies when none is given (`--strict` fails on those), and
//! run against the PostgreSQL and Redis servers the test command starts and a mock server the
//! flow starts itself.

mod common;

use std::path::{Path, PathBuf};

use common::cli_process::{Run, finish_off_runtime, testmesh_command};
use serde_json::Value;
use tempfile::TempDir;

/// The secret the fixture environment holds; it must never be printed or reported.
const SECRET: &str = "tok-3f9a1c";

impl Run {
    fn errors(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|line| line.contains(": error: "))
            .collect()
    }

    fn warnings(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|line| line.contains(": warning: "))
            .collect()
    }
}

/// Runs the binary off the async worker threads, so that the servers keep answering.
async fn testmesh(args: &[&str]) -> Run {
    finish_off_runtime(testmesh_command(args)).await
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/original")
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn write(dir: &TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn the_original_folder_validates_with_its_environment_file() {
    let folder = fixtures();
    let environment = folder.join("environment.yaml");
    let run = testmesh(&["validate", s(&folder), "--env-file", s(&environment)]).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.errors().is_empty(), "{run:?}");
    assert!(run.warnings().is_empty(), "{run:?}");
    assert!(run.stdout.contains("2 flows valid (0 warnings)"), "{run:?}");
    let strict = testmesh(&[
        "validate",
        s(&folder),
        "--env-file",
        s(&environment),
        "--strict",
    ])
    .await;
    assert_eq!(strict.code, Some(0), "{strict:?}");
}

#[tokio::test]
async fn without_an_environment_what_it_supplies_is_a_warning_and_strict_fails() {
    let folder = fixtures();
    let run = testmesh(&["validate", s(&folder)]).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.errors().is_empty(), "{run:?}");
    let warnings = run.warnings().join("\n");
    for expected in [
        "orders-db.yaml:8:5: warning: env.ORDER_PREFIX: `ORDER_PREFIX` must come from the environment at run time",
        "orders-db.yaml:9:5: warning: env.API_URL: `FARE_API_URL` must come from the environment at run time",
        "step `cleanup`: setup[0].config: database_query has no `connection` or `dsn` or `url` or `connection_string`: it must come from the environment's action defaults at run time",
        "step `wait_pending`: steps[2].config: db_poll has no `connection`",
        "step `publish_event`: steps[3].config: kafka_producer has no `brokers`: it must come from the environment's action defaults at run time, else 127.0.0.1:9092 is used",
        "step `cache_profile`: steps[2].config.url: service `cache` must come from the environment at run time",
        "step `fetch_profile`: steps[0].config.headers.Authorization: `API_TOKEN` must come from the environment at run time",
    ] {
        assert!(
            warnings.contains(expected),
            "missing {expected:?} in\n{warnings}"
        );
    }
    assert!(
        run.stdout.contains("2 flows valid (13 warnings)"),
        "{run:?}"
    );

    let strict = testmesh(&["validate", s(&folder), "--strict"]).await;
    assert_eq!(strict.code, Some(2), "{strict:?}");
    assert!(
        strict
            .stderr
            .contains("13 warnings in 2 flows, and --strict fails on warnings"),
        "{strict:?}"
    );
    let json = testmesh(&["validate", s(&folder), "--strict", "--format", "json"]).await;
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["valid"], false, "{json:?}");
    assert_eq!(report["errors"], 0);
}

#[tokio::test]
async fn with_an_environment_what_it_lacks_is_an_error() {
    let folder = fixtures();
    let run = testmesh(&["validate", s(&folder), "--var", "ENV_NAME=test"]).await;
    assert_eq!(run.code, Some(2), "{run:?}");
    let errors = run.errors().join("\n");
    for expected in [
        "env.ORDER_PREFIX: `${ORDER_PREFIX}` is not defined",
        "database_query needs `connection` or `dsn` or `url` or `connection_string` in its config or in the environment's action defaults for database_query",
        "`${service.cache}`: the environment has no service `cache` (it has no services)",
    ] {
        assert!(
            errors.contains(expected),
            "missing {expected:?} in\n{errors}"
        );
    }
}

#[tokio::test]
async fn a_reference_to_a_step_is_an_error_with_or_without_an_environment() {
    let dir = TempDir::new().unwrap();
    let flow = write(
        &dir,
        "login.yaml",
        r#"
flow:
  name: Login
  steps:
    - id: me
      action: http_request
      config:
        url: "${BASE_URL}/me"
        headers: {Authorization: "Bearer ${login.body.token}"}
"#,
    );
    let run = testmesh(&["validate", s(&flow)]).await;
    assert_eq!(run.code, Some(2), "{run:?}");
    assert_eq!(run.errors().len(), 1, "{run:?}");
    assert!(
        run.errors()[0].contains(
            "`${login.body.token}` refers to `login`, which no earlier step, env entry or built-in defines"
        ),
        "{run:?}"
    );
    assert!(
        run.warnings()[0].contains("`BASE_URL` must come from the environment at run time"),
        "{run:?}"
    );
}

#[tokio::test]
async fn run_fails_a_name_no_environment_gave_when_the_step_runs() {
    let dir = TempDir::new().unwrap();
    let flow = write(
        &dir,
        "greet.yaml",
        r#"
flow:
  name: Greet
  steps:
    - id: hello
      action: log
      config: {message: "hello"}
    - id: greet
      action: log
      config: {message: "hello ${GREETING_NAME}"}
"#,
    );
    let run = testmesh(&["run", s(&flow)]).await;
    assert_eq!(run.code, Some(3), "{run:?}");
    assert!(
        run.stderr
            .contains("`GREETING_NAME` must come from the environment at run time"),
        "{run:?}"
    );
    assert!(
        run.all().contains("`GREETING_NAME` is not defined"),
        "{run:?}"
    );
}

#[tokio::test]
async fn step_ids_repeat_across_phases_and_an_ambiguous_reference_is_a_warning() {
    let dir = TempDir::new().unwrap();
    let flow = write(
        &dir,
        "cleanup.yaml",
        r#"
flow:
  name: Cleanup twice
  setup:
    - id: cleanup
      action: transform
      config: {input: {n: 1}, transforms: {n: n}}
  steps:
    - id: check
      action: transform
      config: {input: {n: "${cleanup.n}"}, transforms: {n: n}}
      output: {main_saw: n}
  teardown:
    - id: cleanup
      action: transform
      config: {input: {n: 2}, transforms: {n: n}}
    - id: report
      action: transform
      config: {input: {n: "${cleanup.n}"}, transforms: {n: n}}
      output: {teardown_saw: n}
"#,
    );
    let run = testmesh(&["validate", s(&flow)]).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let warnings = run.warnings();
    assert_eq!(warnings.len(), 1, "{run:?}");
    assert!(
        warnings[0].contains(
            "step `report`: teardown[1].config.input.n: `${cleanup.n}` reads step `cleanup` of teardown: the step of that id in setup ran before it and is shadowed"
        ),
        "{run:?}"
    );

    let dir_json = dir.path().join("out.json");
    let report_arg = format!("json={}", dir_json.display());
    let ran = testmesh(&["run", s(&flow), "--report", &report_arg]).await;
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert!(ran.stdout.contains("setup/cleanup"), "{ran:?}");
    assert!(ran.stdout.contains("teardown/cleanup"), "{ran:?}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&dir_json).unwrap()).unwrap();
    let captured = &report["flows"][0]["captured"];
    assert_eq!(captured["main_saw"], 1, "{report:#}");
    assert_eq!(
        captured["teardown_saw"], 2,
        "the later phase's step shadows the earlier one: {report:#}"
    );

    let twice = write(
        &dir,
        "twice.yaml",
        r#"
flow:
  name: Twice in one phase
  steps:
    - {id: check, action: log, config: {message: a}}
    - {id: check, action: log, config: {message: b}}
"#,
    );
    let run = testmesh(&["validate", s(&twice)]).await;
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr
            .contains("duplicate step id `check` (first used at steps[0])"),
        "{run:?}"
    );
}

#[tokio::test]
async fn a_test_environment_manifest_gives_services_and_action_defaults() {
    let dir = TempDir::new().unwrap();
    write(
        &dir,
        "environment.yaml",
        r#"
apiVersion: testmesh.io/v1alpha1
kind: TestEnvironment
metadata: {name: staging}
spec:
  serviceUrls: {orders: "http://orders.staging"}
  actionDefaults:
    database_query: {connection: "postgres://db.staging/app"}
"#,
    );
    write(
        &dir,
        "flow.yaml",
        r#"
flow:
  name: Staging
  steps:
    - id: rows
      action: database_query
      config: {query: SELECT 1}
    - id: orders
      action: http_request
      config: {url: "${service.orders}/orders", headers: {X-Base: "${orders}"}}
"#,
    );
    let run = testmesh(&["validate", s(dir.path())]).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.warnings().is_empty(), "{run:?}");

    write(
        &dir,
        "environment.yaml",
        r#"
apiVersion: testmesh.io/v1alpha1
kind: TestEnvironment
metadata: {name: staging}
spec:
  actionDefaults:
    databse_query: {connection: "postgres://db.staging/app"}
"#,
    );
    let run = testmesh(&["validate", s(dir.path())]).await;
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr.contains(
            "spec.actionDefaults: action defaults for `databse_query`: no action has that name"
        ),
        "{run:?}"
    );
}

#[tokio::test]
async fn a_bad_environment_file_is_named_with_the_place_of_the_mistake() {
    let dir = TempDir::new().unwrap();
    let flow = write(
        &dir,
        "flow.yaml",
        "flow: {name: F, steps: [{action: log, config: {message: hi}}]}\n",
    );
    let environment = write(
        &dir,
        "env.yaml",
        "variables:\n  - {key: A, value: b}\n  - {value: c}\n",
    );
    let run = testmesh(&["validate", s(&flow), "--env-file", s(&environment)]).await;
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr
            .contains(&format!("--env-file {}: ", environment.display()))
            && run.stderr.contains("variables"),
        "{run:?}"
    );
}

/// The fixture folder's environment file, with the addresses of the servers the test command
/// started in place of the local defaults it names.
fn environment_for(dir: &TempDir, database_url: &str, redis_url: &str) -> PathBuf {
    let text = std::fs::read_to_string(fixtures().join("environment.yaml")).unwrap();
    let text = text
        .replace("postgres://postgres@127.0.0.1:5432/postgres", database_url)
        .replace("redis://127.0.0.1:6379/", redis_url);
    write(dir, "environment.yaml", &text)
}

#[tokio::test]
async fn the_original_folder_runs_against_postgres_redis_and_its_own_mock() {
    let Some(database_url) = common::services::fresh_database("original_dialect").await else {
        return;
    };
    let Some(redis_url) = common::services::redis_url() else {
        return;
    };
    let dir = TempDir::new().unwrap();
    let environment = environment_for(&dir, &database_url, &redis_url);
    let report = dir.path().join("results.json");
    let report_arg = format!("json={}", report.display());
    let run = testmesh(&[
        "run",
        s(&fixtures()),
        "--env-file",
        s(&environment),
        "--jobs",
        "1",
        "--report",
        &report_arg,
    ])
    .await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.warnings().is_empty(), "{run:?}");
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(!text.contains(SECRET), "the secret leaked into the report");
    assert!(
        !run.all().contains(SECRET),
        "the secret leaked into the output"
    );
    let results: Value = serde_json::from_str(&text).unwrap();
    let flows = results["flows"].as_array().expect("flows in the report");
    assert_eq!(flows.len(), 2, "{results:#}");
    let orders = flows
        .iter()
        .find(|f| f["flow_name"] == "Orders — database checks")
        .expect("the orders flow");
    assert_eq!(orders["status"], "passed", "{orders:#}");
    let captured = &orders["captured"];
    assert_eq!(captured["order_id"], "ord-1", "env read its own outer name");
    assert_eq!(captured["api_url"], "http://fares.invalid");
    assert_eq!(captured["expected_total"], 12.5);
    assert_eq!(
        captured["inserted_rows"], 1,
        "a path starting with the step's own id"
    );
    assert!(
        captured["inserted_at"].as_i64().is_some_and(|t| t > 0),
        "{captured}"
    );
    let steps = orders["steps"].as_array().unwrap();
    let phases: Vec<(String, String)> = steps
        .iter()
        .filter(|s| s["id"] == "cleanup")
        .map(|s| {
            (
                s["phase"].as_str().unwrap().to_string(),
                s["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        phases,
        [
            ("setup".to_string(), "passed".to_string()),
            ("teardown".to_string(), "passed".to_string())
        ]
    );
    let publish = steps.iter().find(|s| s["id"] == "publish_event").unwrap();
    assert_eq!(publish["status"], "skipped");
    let cache = flows
        .iter()
        .find(|f| f["flow_name"] == "Cache and mock — services and headers")
        .expect("the cache flow");
    assert_eq!(cache["status"], "passed", "{cache:#}");
    let fetch = cache["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "fetch_profile")
        .unwrap();
    let ids: Vec<&str> = cache["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    for branch in ["fetch_twice.first", "fetch_twice.second"] {
        assert!(
            ids.contains(&branch),
            "a branch written as a step ran: {ids:?}"
        );
    }
    let sent = &fetch["attempts"][0]["request"]["headers"];
    assert_eq!(
        sent["X-Env"], "test",
        "the environment's default header: {fetch:#}"
    );
    assert_eq!(
        sent["Authorization"], "***",
        "the secret is masked where it was sent"
    );
}
