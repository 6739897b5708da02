//! JSON Schema checks on step results, and data-driven runs (`data_source`) through the CLI.

mod common;

use std::process::Command;

use indexmap::IndexMap;
use serde_json::{Value, json};
use testmesh::engine::{FlowStatus, RunOptions, StepStatus};

use common::flows::{dump, run_with, step};

const BIN: &str = env!("CARGO_BIN_EXE_testmesh");

#[tokio::test]
async fn schema_failures_say_which_path_failed_and_why() {
    let server = common::http_server::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("echo.schema.json"),
        r#"{"type": "object", "required": ["json"], "properties": {"json": {"type": "object", "properties": {"qty": {"type": "integer", "minimum": 1}}}}}"#,
    )
    .unwrap();
    let mut variables = IndexMap::new();
    variables.insert("base".to_string(), Value::String(server.base_url.clone()));
    let options = RunOptions {
        variables,
        base_dir: Some(dir.path().to_path_buf()),
        ..RunOptions::default()
    };
    let result = run_with(
        r#"
name: schema
steps:
  - id: good
    action: http_request
    config: {method: POST, url: "${base}/echo", body: {qty: 2}}
    schema: echo.schema.json
  - id: bad
    action: http_request
    config: {method: POST, url: "${base}/echo", body: {qty: "two", items: [1, "x"]}}
    on_error: continue
    schema:
      type: object
      properties:
        json:
          type: object
          properties:
            qty: {type: integer}
            items: {type: array, items: {type: integer}}
"#,
        options,
    )
    .await;
    assert_eq!(
        step(&result, "good").status,
        StepStatus::Passed,
        "{}",
        dump(&result)
    );
    assert_eq!(step(&result, "bad").status, StepStatus::Failed);
    assert_eq!(result.status, FlowStatus::Failed);
    let check = step(&result, "bad").attempts[0]
        .assertions
        .last()
        .unwrap()
        .clone();
    assert_eq!(check.expression, "body matches inline schema");
    let message = check.message.unwrap();
    assert!(
        message.contains(r#"at /json/qty: "two" is not of type "integer""#),
        "{message}"
    );
    assert!(
        message.contains(r#"at /json/items/1: "x" is not of type "integer""#),
        "{message}"
    );
    assert_eq!(check.actual["/json/qty"], json!("two"));
}

#[test]
fn validate_reports_a_broken_schema_and_a_missing_data_file() {
    let dir = tempfile::tempdir().unwrap();
    let flow = dir.path().join("flow.yaml");
    std::fs::write(
        &flow,
        "name: f\ndata_source: rows.csv\nsteps:\n  - action: log\n    config: {message: hi}\n    schema: {type: wrong}\n  - action: log\n    config: {message: hi}\n    schema: missing.json\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .arg("validate")
        .arg(&flow)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("cannot read data_source"), "{text}");
    assert!(
        text.contains("inline schema is not a valid JSON Schema"),
        "{text}"
    );
    assert!(text.contains("cannot read schema file"), "{text}");
}

#[test]
fn each_data_row_is_a_case_in_the_reports() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rows.csv"), "sku,qty\nA-1,1\nB-2,5\n").unwrap();
    std::fs::write(
        dir.path().join("flow.yaml"),
        "name: Orders\ndata_source: rows.csv\nenv: {qty: '0'}\nsteps:\n  - action: assert\n    config: {data: '${qty}'}\n    assert: [data < 3]\n",
    )
    .unwrap();
    let report = dir.path().join("out.json");
    let out = Command::new(BIN)
        .arg("run")
        .arg(dir.path().join("flow.yaml"))
        .arg("--report")
        .arg(format!("json={}", report.display()))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("Orders [row 1: sku=A-1, qty=1]"), "{text}");
    assert!(text.contains("Orders [row 2: sku=B-2, qty=5]"), "{text}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let report_text = report.to_string();
    assert!(
        report_text.contains("Orders [row 1: sku=A-1, qty=1]"),
        "{report_text}"
    );
    assert!(
        report_text.contains("Orders [row 2: sku=B-2, qty=5]"),
        "{report_text}"
    );
}

#[test]
fn a_data_file_not_beside_the_flow_is_read_from_the_current_directory() {
    let flows = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    std::fs::create_dir(project.path().join("data")).unwrap();
    std::fs::write(
        project.path().join("data/fares.json"),
        r#"[{"card": "adult", "fare": 2.5}, {"card": "child", "fare": 1.25}]"#,
    )
    .unwrap();
    let flow = flows.path().join("fares.yaml");
    std::fs::write(
        &flow,
        r#"flow:
  name: Fares
  data_source: data/fares.json
  steps:
    - id: check_fare
      action: assert
      config:
        data: {fare: "${fare}"}
        assertions: ["fare < 3"]
"#,
    )
    .unwrap();
    for command in ["validate", "run"] {
        let out = Command::new(BIN)
            .arg(command)
            .arg(&flow)
            .current_dir(project.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{command}: {text}");
        if command == "run" {
            assert!(
                text.contains("Fares [row 2: card=child, fare=1.25]"),
                "{text}"
            );
        }
    }
    let elsewhere = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .arg("validate")
        .arg(&flow)
        .current_dir(elsewhere.path())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("(looked for it beside the flow file, then in the current directory)"),
        "{text}"
    );
    assert!(
        text.contains(&flows.path().join("data/fares.json").display().to_string()),
        "{text}"
    );
}
