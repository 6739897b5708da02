//! Traces and logs as an operator of TestMesh sees them: `testmesh run` (the built binary)
//! against an in-process OTLP/HTTP receiver and an HTTP service that records what it was sent.
//! The spans must arrive with their names, attributes and parent links, the service must see a
//! `traceparent` naming the step's span, and JSON log lines must carry the trace id. An executor
//! (with PostgreSQL and Redis, skipped without them) continues the trace its run message carries.

mod common;

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::common::v1::{AnyValue as Any, KeyValue};
use opentelemetry_proto::tonic::trace::v1::status::StatusCode as SpanStatus;
use prost::Message;
use serde_json::Value;
use tempfile::TempDir;
use testmesh::queue::{RedisQueue, Streams};

use common::executor_process::{ExecutorProcess, ExecutorSetup, eventually};
use common::services::{fresh_database, redis_url, run_message, spec, unique_prefix};

const BIN: &str = env!("CARGO_BIN_EXE_testmesh");
/// Only there to stop a hung child from hanging the suite; no test depends on timing.
const BOUND: Duration = Duration::from_secs(60);
/// A `traceparent` a user sets by hand.
const USER_TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/// One exported span, as the receiver decoded it.
#[derive(Debug, Clone)]
struct Exported {
    /// The resource's attributes (`service.name`...).
    resource: HashMap<String, String>,
    name: String,
    trace_id: String,
    span_id: String,
    parent_id: String,
    attributes: HashMap<String, String>,
    status: i32,
    message: String,
}

/// What the two servers saw.
#[derive(Default)]
struct Seen {
    spans: Mutex<Vec<Exported>>,
    /// The `traceparent` of each request to `/api/{step}`, by step.
    traceparents: Mutex<Vec<(String, Option<String>)>>,
}

/// The OTLP receiver and the service under test, on 127.0.0.1 ports the system picks.
struct Servers {
    otlp: String,
    service: String,
    seen: Arc<Seen>,
}

async fn start_servers() -> Servers {
    let seen = Arc::new(Seen::default());
    let otlp = serve(
        Router::new()
            .route("/v1/traces", post(receive_traces))
            .with_state(seen.clone()),
    )
    .await;
    let service = serve(
        Router::new()
            .route("/api/{step}", get(record_request))
            .with_state(seen.clone()),
    )
    .await;
    Servers {
        otlp,
        service,
        seen,
    }
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}")
}

async fn receive_traces(State(seen): State<Arc<Seen>>, body: Bytes) -> (StatusCode, HeaderMap) {
    let request = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf body");
    let mut spans = seen.spans.lock().unwrap();
    for resource_spans in request.resource_spans {
        let resource = resource_spans
            .resource
            .map(|resource| attributes(&resource.attributes))
            .unwrap_or_default();
        for scope in resource_spans.scope_spans {
            for span in scope.spans {
                let status = span.status.unwrap_or_default();
                spans.push(Exported {
                    resource: resource.clone(),
                    name: span.name,
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_id: hex(&span.parent_span_id),
                    attributes: attributes(&span.attributes),
                    status: status.code,
                    message: status.message,
                });
            }
        }
    }
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        "application/x-protobuf".parse().unwrap(),
    );
    (StatusCode::OK, headers)
}

async fn record_request(
    State(seen): State<Arc<Seen>>,
    axum::extract::Path(step): axum::extract::Path<String>,
    headers: HeaderMap,
) -> &'static str {
    let traceparent = headers
        .get("traceparent")
        .map(|value| value.to_str().unwrap().to_string());
    seen.traceparents.lock().unwrap().push((step, traceparent));
    "{}"
}

fn attributes(list: &[KeyValue]) -> HashMap<String, String> {
    list.iter()
        .map(|kv| {
            let value = match kv.value.as_ref().and_then(|v: &Any| v.value.as_ref()) {
                Some(AnyValue::StringValue(text)) => text.clone(),
                Some(AnyValue::IntValue(number)) => number.to_string(),
                Some(AnyValue::BoolValue(flag)) => flag.to_string(),
                Some(AnyValue::DoubleValue(number)) => number.to_string(),
                other => format!("{other:?}"),
            };
            (kv.key.clone(), value)
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

struct Finished {
    code: Option<i32>,
    stderr: String,
    stdout: String,
}

impl std::fmt::Debug for Finished {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `testmesh run` on `flow` with only the given OTEL variables set; waits off the runtime
/// so the servers keep answering.
async fn run_flow(flow: &str, env: &[(&str, String)], args: &[&str]) -> Finished {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("flow.yaml");
    std::fs::write(&file, flow).unwrap();
    let mut command = Command::new(BIN);
    command
        .arg("run")
        .arg(&file)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, _) in std::env::vars() {
        if name.starts_with("OTEL_") || name == "RUST_LOG" || name == "TESTMESH_LOG_FORMAT" {
            command.env_remove(name);
        }
    }
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + BOUND;
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("testmesh did not finish: {:?}", child.wait_with_output());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let output = child.wait_with_output().unwrap();
        drop(dir);
        Finished {
            code: output.status.code(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        }
    })
    .await
    .unwrap()
}

fn endpoint(servers: &Servers) -> Vec<(&'static str, String)> {
    vec![("OTEL_EXPORTER_OTLP_ENDPOINT", servers.otlp.clone())]
}

fn span_of<'a>(spans: &'a [Exported], step_id: &str) -> &'a Exported {
    spans
        .iter()
        .find(|span| span.name == "step" && span.attributes["step.id"] == step_id)
        .unwrap_or_else(|| panic!("no step span for `{step_id}` in {spans:#?}"))
}

fn request_from(seen: &Seen, step: &str) -> Option<Option<String>> {
    seen.traceparents
        .lock()
        .unwrap()
        .iter()
        .find(|(name, _)| name == step)
        .map(|(_, traceparent)| traceparent.clone())
}

fn traceparent_of(seen: &Seen, step: &str) -> Option<String> {
    seen.traceparents
        .lock()
        .unwrap()
        .iter()
        .find(|(name, _)| name == step)
        .unwrap_or_else(|| panic!("the service got no request from `{step}`"))
        .1
        .clone()
}

#[tokio::test]
async fn a_run_exports_nested_spans_and_sends_the_step_span_as_traceparent() {
    let servers = start_servers().await;
    let base = &servers.service;
    let flow = format!(
        r#"
name: traced
steps:
  - id: call
    action: http_request
    config: {{url: "{base}/api/call"}}
    assert: [status == 200]
  - id: branch
    action: condition
    config:
      condition: "true"
      then:
        - id: inner
          action: http_request
          config: {{url: "{base}/api/inner"}}
  - id: broken
    action: http_request
    config: {{url: "{base}/api/broken"}}
    assert: [status == 500]
"#
    );
    let run = run_flow(&flow, &endpoint(&servers), &[]).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    let spans = servers.seen.spans.lock().unwrap().clone();

    let flows: Vec<&Exported> = spans.iter().filter(|s| s.name == "flow.run").collect();
    assert_eq!(flows.len(), 1, "{spans:#?}");
    let flow_span = flows[0];
    assert_eq!(flow_span.resource["service.name"], "testmesh-run");
    assert_eq!(flow_span.parent_id, "", "the run's span is a root");
    assert_eq!(flow_span.attributes["flow.name"], "traced");
    assert_eq!(flow_span.attributes["run.trigger"], "cli");
    assert_eq!(flow_span.attributes["run.result"], "failed");
    assert!(!flow_span.attributes["run.id"].is_empty());
    assert_eq!(flow_span.status, SpanStatus::Error as i32);

    let call = span_of(&spans, "call");
    let branch = span_of(&spans, "branch");
    let inner = span_of(&spans, "branch.then.inner");
    let broken = span_of(&spans, "broken");
    for span in [call, branch, inner, broken] {
        assert_eq!(span.trace_id, flow_span.trace_id, "one trace: {span:?}");
    }
    assert_eq!(call.parent_id, flow_span.span_id);
    assert_eq!(branch.parent_id, flow_span.span_id);
    assert_eq!(
        inner.parent_id, branch.span_id,
        "nested under its condition"
    );
    assert_eq!(call.attributes["step.action"], "http_request");
    assert_eq!(call.attributes["step.status"], "passed");
    assert_eq!(call.attributes["step.attempts"], "1");
    assert_eq!(call.attributes["step.phase"], "main");
    assert_ne!(call.status, SpanStatus::Error as i32);
    assert_eq!(branch.attributes["step.action"], "condition");
    assert_eq!(broken.attributes["step.status"], "failed");
    assert_eq!(broken.status, SpanStatus::Error as i32);
    assert_eq!(broken.message, "assertion `status == 500` failed");
    assert_eq!(flow_span.message, "the run failed");

    for (step, span) in [("call", call), ("inner", inner)] {
        let traceparent = traceparent_of(&servers.seen, step).expect("a traceparent");
        assert_eq!(
            traceparent,
            format!("00-{}-{}-01", span.trace_id, span.span_id),
            "the service sees the step's span as its parent"
        );
    }
}

#[tokio::test]
async fn a_traceparent_the_step_sets_is_sent_as_written() {
    let servers = start_servers().await;
    let flow = format!(
        r#"
name: own-traceparent
steps:
  - id: mine
    action: http_request
    config:
      url: "{}/api/mine"
      headers: {{traceparent: "{USER_TRACEPARENT}"}}
"#,
        servers.service
    );
    let run = run_flow(&flow, &endpoint(&servers), &[]).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        traceparent_of(&servers.seen, "mine").as_deref(),
        Some(USER_TRACEPARENT)
    );
}

#[tokio::test]
async fn without_an_endpoint_no_traceparent_is_sent() {
    let servers = start_servers().await;
    let flow = format!(
        "name: untraced\nsteps:\n  - id: plain\n    action: http_request\n    config: {{url: \"{}/api/plain\"}}\n",
        servers.service
    );
    let run = run_flow(&flow, &[], &[]).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(traceparent_of(&servers.seen, "plain"), None);
    assert!(servers.seen.spans.lock().unwrap().is_empty());
    assert_eq!(run.stderr, "", "nothing logged: {run:?}");
}

#[tokio::test]
async fn json_log_lines_inside_a_step_carry_its_trace_and_span_ids() {
    let servers = start_servers().await;
    let flow = "name: logged\nsteps:\n  - id: say\n    action: log\n    config: {message: look here, level: warn}\n";
    let mut env = endpoint(&servers);
    // At `info` the step's span is logged too, so the line names it.
    env.push(("RUST_LOG", "info".into()));
    let run = run_flow(flow, &env, &["--log-format", "json"]).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let line: Value = run
        .stderr
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|line| line["message"] == "look here")
        .unwrap_or_else(|| panic!("no JSON log line with the message: {run:?}"));
    let spans = servers.seen.spans.lock().unwrap().clone();
    let say = span_of(&spans, "say");
    assert_eq!(line["level"], "WARN");
    assert_eq!(line["flow"], "logged");
    assert_eq!(line["trace_id"], say.trace_id.as_str());
    assert_eq!(line["span_id"], say.span_id.as_str());
    assert_eq!(line["span"]["name"], "step");
    assert_eq!(line["span"]["step.id"], "say");
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_warning_naming_it_and_the_run_passes() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let endpoint = format!("http://{closed}");
    let flow = "name: lonely\nsteps:\n  - action: log\n    config: {message: hi}\n";
    let run = run_flow(
        flow,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.clone())],
        &["--log-format", "text"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "cannot send traces to the OTLP endpoint {endpoint}/v1/traces"
        )),
        "{run:?}"
    );
}

#[tokio::test]
async fn an_endpoint_that_is_not_a_url_turns_traces_off_with_a_warning() {
    let flow = "name: lonely\nsteps:\n  - action: log\n    config: {message: hi}\n";
    let run = run_flow(
        flow,
        &[(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "collector port 4318".into(),
        )],
        &["--log-format", "text"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stderr
            .contains("traces are off: cannot send them to the OTLP endpoint collector port 4318"),
        "{run:?}"
    );
}

#[tokio::test]
async fn the_service_name_comes_from_otel_service_name() {
    let servers = start_servers().await;
    let flow = "name: named\nsteps:\n  - action: log\n    config: {message: hi}\n";
    let mut env = endpoint(&servers);
    env.push(("OTEL_SERVICE_NAME", "ci-smoke".into()));
    env.push((
        "OTEL_RESOURCE_ATTRIBUTES",
        "deployment.environment=ci".into(),
    ));
    let run = run_flow(flow, &env, &[]).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let spans = servers.seen.spans.lock().unwrap().clone();
    assert!(!spans.is_empty());
    for span in &spans {
        assert_eq!(span.resource["service.name"], "ci-smoke");
        assert_eq!(span.resource["deployment.environment"], "ci");
    }
}

#[tokio::test]
async fn an_executor_continues_the_trace_its_run_message_carries() {
    let Some(redis) = redis_url() else { return };
    let Some(database) = fresh_database("otel_executor").await else {
        return;
    };
    let servers = start_servers().await;
    let prefix = unique_prefix("otel");
    let queue = RedisQueue::connect(&redis, Streams::prefixed(&prefix), Duration::from_secs(5))
        .await
        .unwrap();
    let mut message = run_message(
        "otel-run-1",
        "traced",
        spec(&format!(
            "name: traced\nsteps:\n  - id: call\n    action: http_request\n    config: {{url: \"{}/api/exec\"}}\n",
            servers.service
        )),
    );
    message.traceparent = Some(USER_TRACEPARENT.into());
    queue.enqueue_run(&message).await.unwrap();
    let env = endpoint(&servers);
    let mut executor = ExecutorProcess::spawn(&ExecutorSetup {
        database_url: &database,
        redis_url: &redis,
        prefix: &prefix,
        executor_id: "otel-1",
        extra: &[],
        env: &env,
    });
    let sent = eventually("the run's HTTP request", BOUND, || async {
        request_from(&servers.seen, "exec")
    })
    .await
    .expect("a traceparent");
    // SIGTERM drains and flushes the spans.
    executor.terminate(BOUND).await;

    let spans = servers.seen.spans.lock().unwrap().clone();
    let run = spans
        .iter()
        .find(|span| span.name == "flow.run")
        .unwrap_or_else(|| panic!("no flow.run span: {spans:#?}\n{}", executor.log_text()));
    assert_eq!(run.trace_id, "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(
        run.parent_id, "b7ad6b7169203331",
        "a child of the enqueuing span"
    );
    assert_eq!(run.resource["service.name"], "testmesh-executor");
    assert_eq!(run.attributes["run.id"], "otel-run-1");
    assert_eq!(run.attributes["flow.namespace"], message.flow.namespace);
    assert_eq!(run.attributes["run.trigger"], message.trigger.kind.as_str());
    assert_eq!(run.attributes["run.result"], "passed");
    let call = span_of(&spans, "call");
    assert_eq!(call.parent_id, run.span_id);
    assert_eq!(sent, format!("00-{}-{}-01", call.trace_id, call.span_id));
}
