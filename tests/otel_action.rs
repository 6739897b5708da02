//! `otel.inject` and `otel.assert` against a traced service and an in-process fake of
//! Jaeger's and Tempo's documented query APIs (tests/common/fake_traces.rs: no Jaeger or Tempo
//! server package exists here). The fake's traces fill in over several fetches, so
//! `otel.assert` has to wait for them.

mod common;

use serde_json::json;
use testmesh::engine::{FlowStatus, RunOptions, StepStatus};

use common::fake_traces::{self, Backend};
use common::flows::{
    diagnostics, dump, error_of, response, run_example, run_with, step, with_vars,
};

fn with_backend(url: &str) -> RunOptions {
    with_vars(&[("traces", url)])
}

#[tokio::test]
async fn the_runs_trace_is_fetched_from_jaeger_once_complete() {
    let fake = fake_traces::start(Backend::Jaeger).await;
    let result = run_with(
        r#"
name: traced checkout
steps:
  - id: trace
    action: otel.inject
    config: {span: checkout-test}
  - id: order
    action: http_request
    config: {method: POST, url: "${traces}/checkout"}
  - id: complete
    action: otel.assert
    config:
      backend: jaeger
      backend_url: "${traces}"
      condition: count == 2 && errors == 0 && all(spans, .duration_ms < 200)
      within: 10s
      interval: 100ms
  - id: payment
    action: otel.assert
    config:
      backend_url: "${traces}"
      service: payments
      operation: charge
      attributes: {payment.provider: stripe}
    assert:
      - count == 1
      - spans[0].attributes["payment.provider"] == "stripe"
      - spans[0].parent_span_id == "00000000000000a1"
"#,
        with_backend(&fake.url),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    let injected = response(&result, "trace");
    let trace_id = injected["trace_id"].as_str().unwrap();
    assert_eq!(
        fake.traceparents(),
        vec![injected["traceparent"].as_str().unwrap().to_string()]
    );
    let complete = response(&result, "complete");
    assert_eq!(complete["trace_id"], trace_id);
    assert_eq!(complete["attempts"], json!(3), "{complete}");
    assert_eq!(complete["services"], json!(["checkout", "payments"]));
    assert_eq!(complete["spans"][0]["parent_span_id"], injected["span_id"]);
}

#[tokio::test]
async fn an_error_span_in_tempo_fails_the_assert_naming_the_condition() {
    let fake = fake_traces::start(Backend::Tempo).await;
    let result = run_with(
        r#"
name: failing payment
steps:
  - id: trace
    action: otel.inject
    config: {trace_id: 4bf92f3577b34da6a3ce929d0e0e4736}
  - id: order
    action: http_request
    config: {method: POST, url: "${traces}/checkout?fail=1"}
  - id: found
    action: otel.assert
    config: {backend: tempo, backend_url: "${traces}", condition: count == 2, within: 10s, interval: 100ms}
    assert:
      - errors == 1
      - spans[1].status == "error"
      - spans[0].attributes["http.status_code"] == 201
  - id: clean
    action: otel.assert
    config:
      backend: tempo
      backend_url: "${traces}"
      trace_id: 4bf92f3577b34da6a3ce929d0e0e4736
      assert: [count == 2, errors == 0]
      within: 500ms
      interval: 100ms
"#,
        with_backend(&fake.url),
    )
    .await;
    assert_eq!(
        step(&result, "found").status,
        StepStatus::Passed,
        "{}",
        dump(&result)
    );
    assert_eq!(
        response(&result, "found")["trace_id"],
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert_eq!(step(&result, "clean").status, StepStatus::Failed);
    let error = error_of(&result, "clean");
    assert!(
        error.contains("`count == 2` and `errors == 0` did not hold within 500ms"),
        "{error}"
    );
}

#[tokio::test]
async fn a_trace_that_never_arrives_is_named() {
    let fake = fake_traces::start(Backend::Jaeger).await;
    let result = run_with(
        r#"
name: missing
steps:
  - id: missing
    action: otel.assert
    config: {backend_url: "${traces}", trace_id: 0af7651916cd43dd8448eb211c80319c, within: 300ms, interval: 100ms}
"#,
        with_backend(&fake.url),
    )
    .await;
    let error = error_of(&result, "missing");
    assert!(
        error.contains("Jaeger has no trace 0af7651916cd43dd8448eb211c80319c"),
        "{error}"
    );
}

#[tokio::test]
async fn without_a_trace_the_assert_says_how_to_get_one() {
    let result = run_with(
        r#"
name: no trace
steps:
  - id: q
    action: otel.assert
    config: {backend_url: "http://127.0.0.1:9"}
"#,
        RunOptions::default(),
    )
    .await;
    assert_eq!(step(&result, "q").status, StepStatus::Error);
    let error = error_of(&result, "q");
    assert!(
        error.starts_with("config.trace_id: the run has no trace: run otel.inject first"),
        "{error}"
    );
}

#[test]
fn config_is_checked_before_the_run() {
    let found = diagnostics(
        r#"
name: typos
steps:
  - id: t
    action: otel.inject
    config: {trace_id: abc, sampled: maybe}
  - id: q
    action: otel.assert
    config: {backend_url: "http://jaeger:16686", operaton: charge, attributes: 3}
"#,
    )
    .join("\n");
    assert!(found.contains("did you mean `operation`"), "{found}");
    assert!(found.contains("config.attributes"), "{found}");
    assert!(found.contains("config.sampled"), "{found}");
}

#[tokio::test]
async fn the_otel_example_passes_through_the_cli() {
    let fake = fake_traces::start(Backend::Jaeger).await;
    let stdout = run_example(
        "otel.yaml",
        &[("JAEGER_URL", &fake.url), ("CHECKOUT_URL", &fake.url)],
    )
    .await;
    assert!(stdout.contains("4 passed"), "{stdout}");
}

#[tokio::test]
async fn grpc_calls_after_inject_carry_the_runs_trace() {
    let server = common::grpc_server::start(common::grpc_server::Reflection::V1).await;
    let result = run_with(
        r#"
name: traced grpc
steps:
  - id: untraced
    action: grpc
    config: {address: "${grpc}", method: testmesh.shop.v1.Orders/GetOrder, request: {id: ord-1}}
  - id: trace
    action: otel.inject
    config: {trace_id: 4bf92f3577b34da6a3ce929d0e0e4736}
  - id: traced
    action: grpc
    config: {address: "${grpc}", method: testmesh.shop.v1.Orders/GetOrder, request: {id: ord-1}}
"#,
        with_vars(&[("grpc", &server.address)]),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    let untraced = &response(&result, "untraced")["metadata"];
    assert_eq!(untraced["x-served-by"], "orders-test");
    assert!(untraced.get("x-traceparent").is_none(), "{untraced}");
    let traced = &response(&result, "traced")["metadata"]["x-traceparent"];
    assert_eq!(traced, &response(&result, "trace")["traceparent"]);
}

#[tokio::test]
async fn kafka_messages_after_inject_carry_the_runs_trace() {
    let kafka = common::fake_kafka::FakeKafka::start(&[("orders", 1)]).await;
    let result = run_with(
        r#"
name: traced kafka
steps:
  - id: trace
    action: otel.inject
  - id: one
    action: kafka_producer
    config: {brokers: "${brokers}", topic: orders, key: a, value: {id: 1}, headers: {source: test}}
  - id: batch
    action: kafka_producer
    config: {brokers: "${brokers}", topic: orders, messages: [{key: b, value: {id: 2}}]}
  - id: read
    action: kafka_consumer
    config: {brokers: "${brokers}", topic: orders, from: earliest, count: 2, timeout: 5s}
"#,
        with_vars(&[("brokers", &kafka.address)]),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    let traceparent = &response(&result, "trace")["traceparent"];
    let messages = &response(&result, "read")["messages"];
    assert_eq!(messages[0]["headers"]["source"], "test");
    assert_eq!(&messages[0]["headers"]["traceparent"], traceparent);
    assert_eq!(&messages[1]["headers"]["traceparent"], traceparent);
}

#[tokio::test]
async fn nats_messages_after_inject_carry_the_runs_trace() {
    let Some(nats) = common::services::url("TESTMESH_TEST_NATS_URL") else {
        return;
    };
    let subject = format!("traced.{}", uuid::Uuid::new_v4().simple());
    let result = run_with(
        r#"
name: traced nats
steps:
  - id: trace
    action: otel.inject
  - id: both
    action: parallel
    config:
      branches:
        - name: listen
          steps:
            - id: got
              action: nats.subscribe
              config: {url: "${nats}", subject: "${subject}", timeout: 10s}
        - name: send
          steps:
            - action: delay
              config: {duration: 300ms}
            - action: nats.publish
              config: {url: "${nats}", subject: "${subject}", data: {id: 7}}
"#,
        with_vars(&[("nats", &nats), ("subject", &subject)]),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    let traceparent = &response(&result, "trace")["traceparent"];
    let got = response(&result, "both.listen.got");
    assert_eq!(
        &got["message"]["headers"]["traceparent"], traceparent,
        "{got}"
    );
}
