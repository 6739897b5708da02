//! The AMQP actions against a real RabbitMQ (started by scripts/test.sh; skipped with a printed
//! reason when TESTMESH_TEST_AMQP_URL is unset). Each test uses queues of its own.

mod common;

use indexmap::IndexMap;
use serde_json::{Value, json};
use testmesh::engine::{FlowStatus, RunOptions, StepStatus};

use common::flows::{dump, error_of, response, run_with, step};
use common::services::{redis_prefix, url};

#[tokio::test]
async fn publish_then_consume_the_matching_message() {
    let Some(amqp) = url("TESTMESH_TEST_AMQP_URL") else {
        return;
    };
    let mut variables = IndexMap::new();
    variables.insert("amqp".to_string(), Value::String(amqp));
    variables.insert("q".to_string(), Value::String(redis_prefix()));
    let result = run_with(
        r#"
name: amqp
steps:
  - id: first
    action: amqp.publish
    config: {url: "${amqp}", queue: "${q}", data: {order: 1, status: created}}
    assert: [confirmed == true]
  - action: amqp_publish
    config: {url: "${amqp}", queue: "${q}", data: {order: 1, status: paid}, headers: {source: test}}
  - id: paid
    action: amqp.consume
    config: {url: "${amqp}", queue: "${q}", match: {status: paid}, timeout: 10s}
    assert: [data.order == 1, message.headers.source == "test"]
  - id: empty
    action: amqp.consume
    config: {url: "${amqp}", queue: "${q}", timeout: 300ms}
"#,
        RunOptions {
            variables,
            ..RunOptions::default()
        },
    )
    .await;
    assert_eq!(
        step(&result, "paid").status,
        StepStatus::Passed,
        "{}",
        dump(&result)
    );
    assert_eq!(response(&result, "paid")["count"], json!(1));
    assert_eq!(result.status, FlowStatus::Error);
    let error = error_of(&result, "empty");
    assert!(
        error.contains("0 of 1 messages arrived within 300ms (0 read)"),
        "{error}"
    );
}
