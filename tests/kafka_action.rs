//! The Kafka actions against an in-process broker that speaks the real wire protocol
//! (tests/common/fake_kafka.rs): what the client sends and reads is encoded and decoded as a
//! Kafka broker would, but no real cluster is involved.

mod common;

use indexmap::IndexMap;
use serde_json::{Value, json};
use testmesh::engine::{FlowStatus, RunOptions, StepStatus};

use common::fake_kafka::FakeKafka;
use common::flows::{dump, error_of, response, run_with, step};

const BIN: &str = env!("CARGO_BIN_EXE_testmesh");

fn with_brokers(address: &str) -> RunOptions {
    let mut variables = IndexMap::new();
    variables.insert("brokers".to_string(), Value::String(address.to_string()));
    RunOptions {
        variables,
        ..RunOptions::default()
    }
}

#[tokio::test]
async fn produced_messages_are_consumed_until_the_matcher_holds() {
    let kafka = FakeKafka::start(&[("orders", 1)]).await;
    let result = run_with(
        r#"
name: kafka round trip
env: {wanted: shipped}
steps:
  - id: one
    action: kafka_producer
    config: {brokers: "${brokers}", topic: orders, key: order-1, value: {id: 1, status: created}, compression: gzip}
    assert: [partition == 0, offset == 0, count == 1]
  - id: batch
    action: kafka_publish
    config:
      bootstrap_servers: "${brokers}"
      topic: orders
      messages:
        - {key: order-2, value: {id: 2, status: shipped}, headers: {source: test, attempt: 1}}
        - {key: order-3, value: plain text}
    assert:
      - count == 2
      - offsets[0] == 1
      - offsets[1] == 2
  - id: got
    action: kafka_consumer
    config: {brokers: "${brokers}", topic: orders, until: 'value.status == wanted', timeout: 5s}
    assert:
      - count == 1
      - key == "order-2"
      - value.id == 2
      - message.headers.source == "test"
      - message.headers.attempt == "1"
      - message.offset == 1
"#,
        with_brokers(&kafka.address),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    assert_eq!(
        response(&result, "got")["messages"][0]["key"],
        json!("order-2")
    );
    let stored = kafka.records("orders", 0);
    assert_eq!(
        stored,
        vec![
            (
                "order-1".into(),
                r#"{"id":1,"status":"created"}"#.into(),
                vec![]
            ),
            (
                "order-2".into(),
                r#"{"id":2,"status":"shipped"}"#.into(),
                vec!["attempt=1".into(), "source=test".into()]
            ),
            ("order-3".into(), "plain text".into(), vec![]),
        ]
    );
    let requests = kafka.requests();
    for api in ["ApiVersions", "Metadata", "Produce", "ListOffsets", "Fetch"] {
        assert!(
            requests.iter().any(|r| r == api),
            "{api} not in {requests:?}"
        );
    }
}

#[tokio::test]
async fn keys_pick_the_partition_the_java_client_would_and_all_partitions_are_read() {
    let kafka = FakeKafka::start(&[("events", 4)]).await;
    let result = run_with(
        r#"
name: kafka partitions
steps:
  - id: sent
    action: kafka_producer
    config:
      brokers: ["${brokers}"]
      topic: events
      messages:
        - {key: foobar, value: a}
        - {key: abc, value: b}
        - {value: c, partition: 1}
  - id: all
    action: kafka_consumer
    config: {brokers: "${brokers}", topic: events, from: earliest, count: 3, timeout: 5s}
"#,
        with_brokers(&kafka.address),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    // murmur2("foobar") = -790332482 and murmur2("abc") = 479470107 in the Java client's
    // tests: their positive parts modulo 4 are 2 and 3.
    assert_eq!(response(&result, "sent")["partitions"], json!([2, 3, 1]));
    assert_eq!(kafka.records("events", 2)[0].0, "foobar");
    assert_eq!(kafka.records("events", 3)[0].0, "abc");
    assert_eq!(kafka.records("events", 1)[0].1, "c");
    assert!(kafka.records("events", 0).is_empty());
    let mut values: Vec<Value> = response(&result, "all")["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].clone())
        .collect();
    values.sort_by_key(ToString::to_string);
    assert_eq!(values, vec![json!("a"), json!("b"), json!("c")]);
}

#[tokio::test]
async fn a_timeout_shows_the_last_messages_read() {
    let kafka = FakeKafka::start(&[("orders", 1)]).await;
    let result = run_with(
        r#"
name: kafka timeout
steps:
  - action: kafka_producer
    config:
      brokers: "${brokers}"
      topic: orders
      messages: [{value: {id: 1}}, {value: {id: 2}}, {value: {id: 3}}, {value: {id: 4}}]
  - id: wait
    action: kafka_consumer
    config: {brokers: "${brokers}", topic: orders, until: value.id == 99, timeout: 1s}
"#,
        with_brokers(&kafka.address),
    )
    .await;
    assert_eq!(
        step(&result, "wait").status,
        StepStatus::Error,
        "{}",
        dump(&result)
    );
    let error = error_of(&result, "wait");
    let prefix = format!(
        "Kafka topic `orders` at {}: 0 of 1 messages matching `value.id == 99` arrived within 1s (4 read); the last 3 read: ",
        kafka.address
    );
    assert!(error.starts_with(&prefix), "{error}");
    assert!(
        error.contains(r#""offset":3"#) && error.contains(r#""value":{"id":4}"#),
        "{error}"
    );
    assert!(!error.contains(r#""value":{"id":1}"#), "{error}");
}

#[tokio::test]
async fn the_default_start_skips_messages_older_than_the_run() {
    let kafka = FakeKafka::start(&[("orders", 1)]).await;
    kafka.append("orders", 0, "old", r#"{"id": 0}"#, 1_000);
    let result = run_with(
        r#"
name: kafka starting points
steps:
  - id: since_run_start
    action: kafka_consumer
    config: {brokers: "${brokers}", topic: orders, timeout: 500ms}
    on_error: continue
  - id: from_earliest
    action: kafka_consumer
    config: {brokers: "${brokers}", topic: orders, from: earliest, timeout: 5s}
    assert: [key == "old", value.id == 0]
  - id: from_offset
    action: kafka_consumer
    config: {brokers: "${brokers}", topic: orders, partition: 0, from: 0, timeout: 5s}
    assert: [message.offset == 0]
"#,
        with_brokers(&kafka.address),
    )
    .await;
    assert_eq!(
        step(&result, "since_run_start").status,
        StepStatus::Error,
        "{}",
        dump(&result)
    );
    assert!(
        error_of(&result, "since_run_start")
            .contains("0 of 1 messages arrived within 500ms (0 read)")
    );
    assert_eq!(
        step(&result, "from_earliest").status,
        StepStatus::Passed,
        "{}",
        dump(&result)
    );
    assert_eq!(
        step(&result, "from_offset").status,
        StepStatus::Passed,
        "{}",
        dump(&result)
    );
}

#[tokio::test]
async fn an_unreachable_broker_is_named_with_its_host_and_port() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap().to_string();
    drop(closed);
    let result = run_with(
        r#"
name: kafka down
steps:
  - id: send
    action: kafka_producer
    config: {brokers: "${brokers}", topic: orders, value: x, timeout: 1s}
"#,
        with_brokers(&address),
    )
    .await;
    let error = error_of(&result, "send");
    assert!(
        error.starts_with(&format!("Kafka connection failed at {address}: ")),
        "{error}"
    );
}

#[tokio::test]
async fn a_missing_topic_lists_the_topics_there() {
    let kafka = FakeKafka::start(&[("orders", 1), ("audit", 1)]).await;
    let result = run_with(
        r#"
name: kafka missing topic
steps:
  - id: read
    action: kafka_consumer
    config: {brokers: "${brokers}", topic: order, timeout: 2s}
"#,
        with_brokers(&kafka.address),
    )
    .await;
    assert_eq!(
        error_of(&result, "read"),
        format!(
            "Kafka topic `order` does not exist at {} (topics there: audit, orders); create it first, the actions do not create topics",
            kafka.address
        )
    );
}

#[tokio::test]
async fn sasl_plain_credentials_are_presented_and_a_wrong_password_fails() {
    let kafka = FakeKafka::start_with_sasl(&[("orders", 1)], "tester", "s3cret").await;
    let result = run_with(
        r#"
name: kafka sasl
steps:
  - id: good
    action: kafka_producer
    config: {brokers: "${brokers}", topic: orders, value: hi, sasl: {mechanism: PLAIN, username: tester, password: s3cret}}
  - id: bad
    action: kafka_producer
    config: {brokers: "${brokers}", topic: orders, value: hi, timeout: 1s, sasl: {username: other, password: wrong}}
"#,
        with_brokers(&kafka.address),
    )
    .await;
    assert_eq!(
        step(&result, "good").status,
        StepStatus::Passed,
        "{}",
        dump(&result)
    );
    let error = error_of(&result, "bad");
    assert!(
        error.starts_with(&format!("Kafka connection failed at {}: ", kafka.address)),
        "{error}"
    );
    assert!(!error.contains("wrong"), "the password shows: {error}");
    assert_eq!(kafka.records("orders", 0).len(), 1);
    let requests = kafka.requests();
    assert!(
        requests.contains(&"SaslHandshake".to_string()),
        "{requests:?}"
    );
    assert!(
        requests.contains(&"SaslAuthenticate".to_string()),
        "{requests:?}"
    );
}

#[tokio::test]
async fn the_kafka_example_passes_through_the_cli() {
    let kafka = FakeKafka::start(&[("orders", 3)]).await;
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/services/kafka.yaml");
    // Asynchronously, so the broker on this test's runtime goes on answering.
    let output = tokio::process::Command::new(BIN)
        .args(["run", example.to_str().unwrap(), "--var"])
        .arg(format!("KAFKA_BROKERS={}", kafka.address))
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("3 passed"), "{stdout}");
    let stored: usize = (0..3).map(|p| kafka.records("orders", p).len()).sum();
    assert_eq!(stored, 3);
}

#[tokio::test]
async fn group_id_is_accepted_with_a_warning_and_commits_no_offsets() {
    let flow = r#"
flow:
  name: Notification events
  steps:
    - id: publish
      action: kafka_producer
      config: {brokers: "${brokers}", topic: notifications, key: user-1, value: {type: welcome}}
    - id: consume
      action: kafka_consumer
      config:
        brokers: "${brokers}"
        topic: notifications
        group_id: notification-tests
        from: earliest
        timeout: 5s
      assert: [value.type == "welcome"]
    - id: consume_again
      action: kafka_consumer
      config:
        brokers: "${brokers}"
        topic: notifications
        group_id: notification-tests
        from: earliest
        timeout: 5s
      assert: [key == "user-1"]
"#;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notifications.yaml");
    std::fs::write(&file, flow).unwrap();
    let validated = tokio::process::Command::new(BIN)
        .arg("validate")
        .arg(&file)
        .args(["--var", "brokers=127.0.0.1:9092"])
        .output()
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&validated.stdout).to_string()
        + &String::from_utf8_lossy(&validated.stderr);
    assert_eq!(validated.status.code(), Some(0), "{said}");
    let caveat = "kafka_consumer config `group_id`: accepted, but no consumer group is joined: the partitions are read directly and no offsets are committed";
    assert_eq!(said.matches(caveat).count(), 2, "{said}");
    assert!(said.contains("warning"), "{said}");
    let kafka = FakeKafka::start(&[("notifications", 1)]).await;
    let result = run_with(flow, with_brokers(&kafka.address)).await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    let requests = kafka.requests();
    for group_api in [
        "FindCoordinator",
        "JoinGroup",
        "OffsetCommit",
        "OffsetFetch",
    ] {
        assert!(
            !requests.iter().any(|r| r == group_api),
            "{group_api} in {requests:?}"
        );
    }
}
