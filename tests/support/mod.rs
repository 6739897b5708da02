//! A mock Kubernetes API server for reconciler tests (kube-rs's `tower_test` pattern): it
//! expects an exact list of requests, answers them, and returns their bodies. Also builders of
//! the TestFlow and TestSchedule objects the tests use.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use http::{Method, Request, Response, StatusCode};
use kube::Client;
use kube::client::Body;
use kube::runtime::reflector::{self, store::Writer};
use prometheus::Registry;
use serde_json::{Value, json};
use testmesh::operator::cached_flow::CachedTestFlow;
use testmesh::operator::context::Context;
use testmesh::operator::metrics::Metrics;
use testmesh::operator::queue::{MemoryQueue, RunQueue};
use testmesh::resources::{TestEnvironment, TestFlow, TestSchedule};

pub type Handle = tower_test::mock::Handle<Request<Body>, Response<Body>>;

pub const FLOW_STATUS: &str = "/apis/testmesh.io/v1alpha1/namespaces/ns/testflows/orders/status";
pub const SCHEDULE_STATUS: &str =
    "/apis/testmesh.io/v1alpha1/namespaces/ns/testschedules/nightly/status";
pub const ENV_STATUS: &str =
    "/apis/testmesh.io/v1alpha1/namespaces/ns/testenvironments/staging/status";
pub const EVENTS: &str = "/apis/events.k8s.io/v1/namespaces/ns/events";

pub struct Harness {
    pub ctx: Arc<Context>,
    pub handle: Handle,
    pub queue: MemoryQueue,
    pub flows: Writer<CachedTestFlow>,
    pub environments: Writer<TestEnvironment>,
    pub registry: Registry,
}

pub fn harness(now: &str) -> Harness {
    let queue = MemoryQueue::default();
    harness_with(now, RunQueue::Memory(queue.clone()), queue)
}

/// A harness whose runs go to `runs` (Redis in the Redis tests).
pub fn harness_with(now: &str, runs: RunQueue, queue: MemoryQueue) -> Harness {
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let client = Client::new(service, "default");
    let registry = Registry::new();
    let metrics = Metrics::register(&registry).unwrap();
    let (flow_store, flows) = reflector::store::<CachedTestFlow>();
    let (env_store, environments) = reflector::store::<TestEnvironment>();
    let now: DateTime<Utc> = now.parse().unwrap();
    let ctx = Context::new(
        client,
        runs,
        metrics,
        flow_store,
        env_store,
        Arc::new(move || now),
        Some("test".into()),
    );
    Harness {
        ctx: Arc::new(ctx),
        handle,
        queue,
        flows,
        environments,
        registry,
    }
}

/// Puts `flow` into the operator's flow cache, as the controller's watch would.
pub fn cache_flow(flows: &mut Writer<CachedTestFlow>, flow: &TestFlow) {
    let cached = CachedTestFlow::new(flow.clone()).unwrap();
    flows.apply_watcher_event(&kube::runtime::watcher::Event::Apply(cached));
}

/// One request the API server expects, and its answer.
pub struct Expect {
    pub method: Method,
    pub path: &'static str,
    pub status: StatusCode,
    pub answer: Value,
}

pub fn expect(method: Method, path: &'static str, answer: Value) -> Expect {
    Expect {
        method,
        path,
        status: StatusCode::OK,
        answer,
    }
}

pub fn not_found(path: &'static str) -> Expect {
    Expect {
        method: Method::GET,
        path,
        status: StatusCode::NOT_FOUND,
        answer: json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                       "reason": "NotFound", "code": 404, "message": "not found"}),
    }
}

/// The API server refusing a write made from an out-of-date object.
pub fn conflict(method: Method, path: &'static str) -> Expect {
    Expect {
        method,
        path,
        status: StatusCode::CONFLICT,
        answer: json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                       "reason": "Conflict", "code": 409,
                       "message": "the object has been modified; please apply your changes to the latest version and try again"}),
    }
}

/// Plays the API server for `expected`, in order; returns the request bodies. Fails on any
/// other request.
pub fn api_server(
    mut handle: Handle,
    expected: Vec<Expect>,
) -> tokio::task::JoinHandle<Vec<Value>> {
    tokio::spawn(async move {
        let mut bodies = Vec::new();
        for step in expected {
            let (request, send) =
                tokio::time::timeout(Duration::from_secs(10), handle.next_request())
                    .await
                    .unwrap_or_else(|_| panic!("no request for {} {}", step.method, step.path))
                    .expect("the client is gone");
            assert_eq!(request.method(), step.method, "{}", request.uri());
            if step.path == EVENTS {
                // A repeated Event is a PATCH of the first one (an event series).
                assert!(
                    request.uri().path().starts_with(EVENTS),
                    "{}",
                    request.uri()
                );
            } else {
                assert_eq!(request.uri().path(), step.path);
            }
            if step.path.ends_with("/status") {
                let query = request.uri().query().unwrap_or_default();
                assert!(query.contains("fieldManager=testmesh-operator"), "{query}");
                assert_eq!(
                    request.headers()["content-type"],
                    "application/apply-patch+yaml"
                );
            }
            let bytes = request.into_body().collect_bytes().await.unwrap();
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let answer = if step.path == EVENTS {
                body.clone()
            } else {
                step.answer
            };
            bodies.push(body);
            send.send_response(
                Response::builder()
                    .status(step.status)
                    .body(Body::from(serde_json::to_vec(&answer).unwrap()))
                    .unwrap(),
            );
        }
        // Nothing else may be asked.
        if let Ok(Some((request, _))) =
            tokio::time::timeout(Duration::from_millis(200), handle.next_request()).await
        {
            panic!("unexpected request {} {}", request.method(), request.uri());
        }
        bodies
    })
}

pub fn flow(extra_spec: Value, annotations: Value, status: Value) -> TestFlow {
    let mut spec = json!({
        "steps": [{"id": "health", "action": "http_request", "config": {"url": "http://svc/healthz"}}]
    });
    spec.as_object_mut()
        .unwrap()
        .extend(extra_spec.as_object().unwrap().clone());
    serde_json::from_value(json!({
        "apiVersion": "testmesh.io/v1alpha1",
        "kind": "TestFlow",
        "metadata": {"name": "orders", "namespace": "ns", "uid": "0f1e2d3c-aaaa-bbbb-cccc-000000000001",
                     "generation": 3, "annotations": annotations},
        "spec": spec,
        "status": status,
    }))
    .unwrap()
}

pub fn ready_status() -> Value {
    json!({"conditions": [
        {"type": "Validated", "status": "True", "reason": "Valid", "message": "the flow is valid",
         "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": 3},
        {"type": "Ready", "status": "True", "reason": "Ready", "message": "the flow is valid and runnable",
         "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": 3}],
        "observedGeneration": 3})
}

pub fn condition<'a>(body: &'a Value, type_: &str) -> &'a Value {
    body["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == type_)
        .unwrap_or_else(|| panic!("no {type_} condition in {body}"))
}

pub fn schedule(spec: Value, status: Value) -> TestSchedule {
    serde_json::from_value(json!({
        "apiVersion": "testmesh.io/v1alpha1",
        "kind": "TestSchedule",
        "metadata": {"name": "nightly", "namespace": "ns", "uid": "5c4b3a29-0000-0000-0000-000000000002",
                     "generation": 1},
        "spec": spec,
        "status": status,
    }))
    .unwrap()
}
