//! The NATS actions against a real nats-server with JetStream (started by scripts/test.sh;
//! skipped with a printed reason when TESTMESH_TEST_NATS_URL is unset).

mod common;

use indexmap::IndexMap;
use serde_json::{Value, json};
use testmesh::engine::{FlowStatus, RunOptions, StepStatus};

use common::flows::{dump, error_of, response, run_with, step};
use common::services::{redis_prefix, url};

fn with_nats(url: &str, prefix: &str) -> RunOptions {
    let mut variables = IndexMap::new();
    variables.insert("nats".to_string(), Value::String(url.to_string()));
    variables.insert("p".to_string(), Value::String(prefix.to_string()));
    RunOptions {
        variables,
        ..RunOptions::default()
    }
}

#[tokio::test]
async fn subscribe_beside_publish_in_parallel_branches() {
    let Some(nats) = url("TESTMESH_TEST_NATS_URL") else {
        return;
    };
    let result = run_with(
        r#"
name: nats core
steps:
  - id: both
    action: parallel
    config:
      branches:
        - name: listen
          steps:
            - id: got
              action: nats.subscribe
              config: {url: "${nats}", subject: "${p}.orders.*", match: {status: shipped}, timeout: 10s}
              assert: [data.id == 7, message.headers.source == "test"]
        - name: send
          steps:
            - action: delay
              config: {duration: 300ms}
            - action: nats.publish
              config: {url: "${nats}", subject: "${p}.orders.created", data: {id: 6, status: created}}
            - action: nats_publish
              config: {url: "${nats}", subject: "${p}.orders.shipped", data: {id: 7, status: shipped}, headers: {source: test}}
"#,
        with_nats(&nats, &redis_prefix()),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    assert_eq!(response(&result, "both.listen.got")["count"], json!(1));
}

#[tokio::test]
async fn jetstream_publish_is_acknowledged_and_the_stream_is_read_from_the_start() {
    let Some(nats) = url("TESTMESH_TEST_NATS_URL") else {
        return;
    };
    let prefix = redis_prefix();
    let client = async_nats::connect(nats.as_str()).await.unwrap();
    let context = async_nats::jetstream::new(client);
    context
        .create_stream(async_nats::jetstream::stream::Config {
            name: prefix.clone(),
            subjects: vec![format!("{prefix}.>")],
            ..Default::default()
        })
        .await
        .unwrap();
    let result = run_with(
        r#"
name: jetstream
steps:
  - id: first
    action: nats.publish
    config: {url: "${nats}", subject: "${p}.events", data: {n: 1}, jetstream: true}
    assert: [sequence == 1, stream == p]
  - action: nats.publish
    config: {url: "${nats}", subject: "${p}.events", data: {n: 2}, jetstream: true}
  - id: read
    action: nats.subscribe
    config: {url: "${nats}", subject: "${p}.events", stream: "${p}", count: 2, timeout: 10s}
    assert:
      - count == 2
      - messages[1].data.n == 2
  - id: none
    action: nats.subscribe
    config: {url: "${nats}", subject: "${p}.events", stream: "${p}", match: {n: 3}, timeout: 300ms}
"#,
        with_nats(&nats, &prefix),
    )
    .await;
    assert_eq!(
        step(&result, "read").status,
        StepStatus::Passed,
        "{}",
        dump(&result)
    );
    let error = error_of(&result, "none");
    assert!(
        error.contains(r#"0 of 1 messages matching {"n":3} arrived within 300ms (2 read)"#),
        "{error}"
    );
}
