//! `prometheus.query` and `prometheus.assert` against a real Prometheus that scrapes a small
//! service of ours every second (both started by scripts/test.sh; skipped with a printed reason
//! when TESTMESH_TEST_PROMETHEUS_URL is unset).

mod common;

use serde_json::{Value, json};
use testmesh::engine::{FlowStatus, RunOptions, StepStatus};

use common::flows::{diagnostics, dump, error_of, response, run_with, step, with_vars};
use common::services::url;

fn servers() -> Option<RunOptions> {
    let prometheus = url("TESTMESH_TEST_PROMETHEUS_URL")?;
    let target = url("TESTMESH_TEST_METRICS_TARGET_URL")?;
    Some(with_vars(&[("prom", &prometheus), ("target", &target)]))
}

/// What a step sent, as its report shows it.
fn request_of(result: &testmesh::engine::FlowResult, id: &str) -> Value {
    let attempt = step(result, id).last_attempt().unwrap();
    Value::clone(attempt.request.as_ref().unwrap())
}

#[tokio::test]
async fn an_order_shows_up_in_the_counter_after_a_scrape() {
    let Some(options) = servers() else {
        return;
    };
    let result = run_with(
        r#"
name: orders metric
steps:
  - id: before
    action: prometheus.assert
    config:
      url: "${prom}"
      query: sum(testmesh_example_orders_total)
      within: 20s
  - id: order
    action: http_request
    config: {method: POST, url: "${target}/orders"}
    output: {placed: body.orders}
  - id: after
    action: prometheus.assert
    config:
      url: "${prom}"
      query: sum(testmesh_example_orders_total)
      condition: value >= placed
      within: 20s
      interval: 500ms
  - id: labels
    action: prometheus.query
    config: {url: "${prom}", query: testmesh_example_build_info}
    assert:
      - resultType == "vector"
      - count == 1
      - series[0].labels.version == "1.4.2"
      - value == 1
"#,
        options,
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    let after = response(&result, "after");
    assert!(after["value"].as_i64().unwrap() >= 1, "{after}");
    assert_eq!(after["success"], json!(true));
    let request = request_of(&result, "labels");
    assert!(
        request["url"]
            .as_str()
            .unwrap()
            .contains("/api/v1/query?query=testmesh_example_build_info"),
        "{request}"
    );
}

#[tokio::test]
async fn a_range_query_gives_the_values_of_each_series() {
    let Some(options) = servers() else {
        return;
    };
    let result = run_with(
        r#"
name: range
steps:
  - id: wait
    action: prometheus.assert
    config: {url: "${prom}", query: 'up{job="orders"}', assert: [value == 1], within: 20s}
  - id: range
    action: prometheus.query
    config: {url: "${prom}", query: 'up{job="orders"}', start: now-1m, end: now, step: 1s}
    assert:
      - resultType == "matrix"
      - len(series[0].values) >= 1
      - series[0].labels.instance != ""
"#,
        options,
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    let range = response(&result, "range");
    assert_eq!(
        range["series"][0]["values"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()["value"],
        json!(1)
    );
}

#[tokio::test]
async fn a_condition_that_never_holds_fails_naming_it_and_the_last_value() {
    let Some(options) = servers() else {
        return;
    };
    let result = run_with(
        r#"
name: never
steps:
  - id: never
    action: prometheus.assert
    config:
      url: "${prom}"
      query: testmesh_example_build_info
      condition: value > 5
      within: 2s
      interval: 500ms
"#,
        options,
    )
    .await;
    assert_eq!(result.status, FlowStatus::Failed, "{}", dump(&result));
    assert_eq!(step(&result, "never").status, StepStatus::Failed);
    let error = error_of(&result, "never");
    assert!(
        error.contains("`value > 5` did not hold within 2s") && error.contains("value 1"),
        "{error}"
    );
}

#[tokio::test]
async fn a_bad_query_is_named_with_prometheus_words() {
    let Some(options) = servers() else {
        return;
    };
    let result = run_with(
        r#"
name: bad query
steps:
  - id: bad
    action: prometheus.assert
    config: {url: "${prom}", query: "sum(up", within: 30s}
"#,
        options,
    )
    .await;
    assert_eq!(step(&result, "bad").status, StepStatus::Error);
    let error = error_of(&result, "bad");
    assert!(
        error.starts_with("config.query: Prometheus rejected it") && error.contains("parse error"),
        "{error}"
    );
}

#[tokio::test]
async fn bearer_credentials_are_sent_and_masked_in_the_report() {
    let Some(mut options) = servers() else {
        return;
    };
    options
        .secrets
        .insert("prom_token".to_string(), "tok-9f8e7d".to_string());
    let result = run_with(
        r#"
name: auth
steps:
  - id: q
    action: prometheus.query
    config:
      url: "${prom}"
      query: vector(3)
      auth: {type: bearer, token: "${prom_token}"}
      headers: {X-Team: qa}
    assert: [value == 3, resultType == "vector"]
"#,
        options,
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    let shown = dump(&result);
    assert!(!shown.contains("tok-9f8e7d"), "{shown}");
    let request = request_of(&result, "q");
    assert_eq!(request["headers"]["authorization"], "***");
    assert_eq!(request["headers"]["x-team"], "qa");
}

#[tokio::test]
async fn an_unreachable_server_is_named() {
    let result = run_with(
        r#"
name: down
steps:
  - id: q
    action: prometheus.query
    config: {url: "http://127.0.0.1:9", query: up}
"#,
        RunOptions::default(),
    )
    .await;
    let error = error_of(&result, "q");
    assert!(error.contains("127.0.0.1:9"), "{error}");
}

#[test]
fn config_is_checked_before_the_run() {
    let found = diagnostics(
        r#"
name: typos
steps:
  - id: q
    action: prometheus.assert
    config: {url: "http://prom:9090", querry: up, within: soon, condition: "value >"}
"#,
    )
    .join("\n");
    assert!(found.contains("did you mean `query`"), "{found}");
    assert!(
        found.contains("config.within") && found.contains("\"soon\""),
        "{found}"
    );
    assert!(
        found.contains("config.condition: `value >` is not a valid expression"),
        "{found}"
    );
}
