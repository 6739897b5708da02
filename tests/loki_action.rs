//! `loki.query` and `loki.assert` against an in-process fake of Loki's documented HTTP API
//! (tests/common/fake_loki.rs: no Loki server package exists here). The fake ingests pushed
//! lines one query late, so `loki.assert` has to poll.

mod common;

use serde_json::json;
use testmesh::engine::{FlowStatus, RunOptions, StepStatus};

use common::fake_loki;
use common::flows::{
    diagnostics, dump, error_of, response, run_example, run_with, step, with_vars,
};

fn with_loki(url: &str) -> RunOptions {
    with_vars(&[("loki", url)])
}

/// Steps that push two lines of the orders service, one an error, with the clock's time.
const PUSH: &str = r#"
  - id: push
    action: http_request
    config:
      method: POST
      url: "${loki}/loki/api/v1/push"
      body:
        streams:
          - stream: {app: orders, env: test}
            values:
              - ["${TIMESTAMP_MS}000000", "order 17 accepted"]
              - ["${TIMESTAMP_MS}000001", '{"level":"error","msg":"payment failed","order":17}']
    assert: [status == 204]
"#;

#[tokio::test]
async fn an_error_logged_during_the_run_is_found_after_ingestion() {
    let loki = fake_loki::start().await;
    let flow = format!(
        r#"
name: logged error
steps:{PUSH}
  - id: found
    action: loki.assert
    config:
      url: "${{loki}}"
      query: '{{app="orders"}} |= "payment failed"'
      condition: count == 1 && lines[0].json.level == "error"
      within: 10s
      interval: 100ms
  - id: all
    action: loki.query
    config: {{url: "${{loki}}", query: '{{app="orders", env!="dev"}}', direction: forward}}
    assert:
      - count == 2
      - lines[0].line == "order 17 accepted"
      - lines[1].labels.app == "orders"
"#
    );
    let result = run_with(&flow, with_loki(&loki.url)).await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    let found = response(&result, "found");
    assert_eq!(found["attempts"], json!(2), "{found}");
    assert_eq!(found["lines"][0]["json"]["order"], json!(17));
    // The window is the run's own: from (a second before) when it began to now, in nanoseconds.
    let queries = loki.queries();
    let first = &queries[0];
    let start: i64 = first["start"].as_str().unwrap().parse().unwrap();
    let end: i64 = first["end"].as_str().unwrap().parse().unwrap();
    let began = result.started_at.timestamp_nanos_opt().unwrap();
    assert!(
        start < began && began - start < 2_000_000_000,
        "{first:?} vs {began}"
    );
    assert!(end > start, "{first:?}");
    assert_eq!(first["limit"], "100");
}

#[tokio::test]
async fn the_original_platforms_keys_are_read() {
    let loki = fake_loki::start().await;
    let flow = format!(
        r#"
flow:
  name: original loki
  steps:{}
    - id: errors
      action: loki.assert
      config:
        url: "${{loki}}"
        query: '{{app="orders"}} |= "error"'
        start: now-1h
        limit: 5
        within: 10s
        assert: [count > 0, 'lines[0].json.msg == "payment failed"']
"#,
        PUSH.replace("\n  ", "\n    ")
    );
    let result = run_with(&flow, with_loki(&loki.url)).await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    assert_eq!(loki.queries().last().unwrap()["limit"], "5");
}

#[tokio::test]
async fn a_condition_that_never_holds_names_the_last_count() {
    let loki = fake_loki::start().await;
    let result = run_with(
        r#"
name: quiet
steps:
  - id: none
    action: loki.assert
    config: {url: "${loki}", query: '{app="orders"} |= "panic"', within: 1s, interval: 200ms}
"#,
        with_loki(&loki.url),
    )
    .await;
    assert_eq!(step(&result, "none").status, StepStatus::Failed);
    let error = error_of(&result, "none");
    assert!(
        error.contains("`count > 0` did not hold within 1s") && error.contains("count 0"),
        "{error}"
    );
}

#[tokio::test]
async fn a_query_loki_rejects_fails_at_once_naming_it() {
    let loki = fake_loki::start().await;
    let result = run_with(
        r#"
name: bad
steps:
  - id: bad
    action: loki.assert
    config: {url: "${loki}", query: 'app="orders"', within: 30s}
"#,
        with_loki(&loki.url),
    )
    .await;
    assert_eq!(step(&result, "bad").status, StepStatus::Error);
    let error = error_of(&result, "bad");
    assert!(
        error.starts_with("config.query: Loki rejected it: parse error"),
        "{error}"
    );
    assert_eq!(loki.queries().len(), 1);
}

#[test]
fn config_is_checked_before_the_run() {
    let found = diagnostics(
        r#"
name: typos
steps:
  - id: q
    action: loki.query
    config: {url: "http://loki:3100", query: '{app="a"}', limt: 5, limit: many, direction: 3}
"#,
    )
    .join("\n");
    assert!(found.contains("did you mean `limit`"), "{found}");
    assert!(
        found.contains("config.limit") && found.contains("many"),
        "{found}"
    );
}

#[tokio::test]
async fn the_loki_example_passes_through_the_cli() {
    let loki = fake_loki::start().await;
    let stdout = run_example("loki.yaml", &[("LOKI_URL", &loki.url)]).await;
    assert!(stdout.contains("2 passed"), "{stdout}");
}
