//! A traced service and a stand-in for the trace store it reports to, for the `otel.*` tests
//! (no Jaeger or Tempo server package exists here). `POST /checkout` joins the trace of the
//! request's `traceparent` and records two spans under it: `checkout` / `POST /checkout` (a
//! child of the caller's span) and `payments` / `charge` (its child; in error with
//! `?fail=1`). `GET /api/traces/{id}` answers as Jaeger's or Tempo's documented query API does,
//! and a trace fills in as a real one does: the first fetch finds nothing (404), the second the
//! first span, later ones both. It binds 127.0.0.1:0 and stops when dropped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Value, json};
use tokio_util::sync::DropGuard;

/// Which query API the fake answers as.
#[derive(Clone, Copy, PartialEq)]
pub enum Backend {
    Jaeger,
    Tempo,
}

struct FakeSpan {
    span_id: String,
    parent: String,
    service: &'static str,
    name: &'static str,
    start_micros: i64,
    duration_micros: i64,
    attributes: Vec<(&'static str, Value)>,
    error: bool,
}

#[derive(Default)]
struct Traces {
    spans: HashMap<String, Vec<FakeSpan>>,
    fetches: HashMap<String, usize>,
    /// The `traceparent` headers `/checkout` received.
    traceparents: Vec<String>,
}

struct Shared {
    backend: Backend,
    traces: Mutex<Traces>,
}

/// A running fake; dropping it shuts it down.
pub struct FakeTraces {
    pub url: String,
    shared: Arc<Shared>,
    _stop: DropGuard,
}

impl FakeTraces {
    /// The `traceparent` headers the service received.
    pub fn traceparents(&self) -> Vec<String> {
        self.shared.traces.lock().unwrap().traceparents.clone()
    }
}

pub async fn start(backend: Backend) -> FakeTraces {
    let shared = Arc::new(Shared {
        backend,
        traces: Mutex::new(Traces::default()),
    });
    let router = Router::new()
        .route("/checkout", post(checkout))
        .route("/api/traces/{id}", get(trace))
        .with_state(shared.clone());
    let (url, stop) = super::http_server::serve(router).await;
    FakeTraces {
        url,
        shared,
        _stop: stop,
    }
}

async fn checkout(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let Some(traceparent) = headers.get("traceparent").and_then(|v| v.to_str().ok()) else {
        return (StatusCode::CREATED, "untraced").into_response();
    };
    let parts: Vec<&str> = traceparent.split('-').collect();
    if parts.len() != 4 || parts[1].len() != 32 || parts[2].len() != 16 {
        return (StatusCode::BAD_REQUEST, "bad traceparent").into_response();
    }
    let now = chrono::Utc::now().timestamp_micros();
    let spans = vec![
        FakeSpan {
            span_id: "00000000000000a1".into(),
            parent: parts[2].to_string(),
            service: "checkout",
            name: "POST /checkout",
            start_micros: now,
            duration_micros: 12_000,
            attributes: vec![
                ("http.method", json!("POST")),
                ("http.status_code", json!(201)),
            ],
            error: false,
        },
        FakeSpan {
            span_id: "00000000000000b2".into(),
            parent: "00000000000000a1".into(),
            service: "payments",
            name: "charge",
            start_micros: now + 1_000,
            duration_micros: 40_000,
            attributes: vec![("payment.provider", json!("stripe"))],
            error: query.contains_key("fail"),
        },
    ];
    let mut traces = shared.traces.lock().unwrap();
    traces.traceparents.push(traceparent.to_string());
    traces.spans.insert(parts[1].to_string(), spans);
    (StatusCode::CREATED, "ok").into_response()
}

async fn trace(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let mut traces = shared.traces.lock().unwrap();
    let fetches = traces.fetches.entry(id.clone()).or_default();
    *fetches += 1;
    let visible = *fetches - 1;
    let spans: Vec<&FakeSpan> = traces
        .spans
        .get(&id)
        .map(|spans| spans.iter().take(visible).collect())
        .unwrap_or_default();
    if spans.is_empty() {
        let body = match shared.backend {
            Backend::Jaeger => {
                json!({"data": null, "errors": [{"code": 404, "msg": "trace not found"}]})
            }
            Backend::Tempo => json!("trace not found"),
        };
        return (StatusCode::NOT_FOUND, axum::Json(body)).into_response();
    }
    let body = match shared.backend {
        Backend::Jaeger => jaeger(&id, &spans),
        Backend::Tempo => tempo(&id, &spans),
    };
    axum::Json(body).into_response()
}

fn jaeger(trace_id: &str, spans: &[&FakeSpan]) -> Value {
    let mut processes = serde_json::Map::new();
    let spans: Vec<Value> = spans
        .iter()
        .map(|span| {
            let process = format!("p-{}", span.service);
            processes.insert(
                process.clone(),
                json!({"serviceName": span.service, "tags": []}),
            );
            let mut tags: Vec<Value> = span
                .attributes
                .iter()
                .map(|(key, value)| json!({"key": key, "type": "string", "value": value}))
                .collect();
            if span.error {
                tags.push(json!({"key": "error", "type": "bool", "value": true}));
            }
            json!({
                "traceID": trace_id, "spanID": span.span_id, "operationName": span.name,
                "references": [{"refType": "CHILD_OF", "traceID": trace_id, "spanID": span.parent}],
                "startTime": span.start_micros, "duration": span.duration_micros,
                "tags": tags, "logs": [], "processID": process
            })
        })
        .collect();
    json!({"data": [{"traceID": trace_id, "spans": spans, "processes": processes}], "errors": null})
}

fn tempo(trace_id: &str, spans: &[&FakeSpan]) -> Value {
    let b64 = |hex: &str| {
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        base64::engine::general_purpose::STANDARD.encode(bytes)
    };
    let batches: Vec<Value> = spans
        .iter()
        .map(|span| {
            let attributes: Vec<Value> = span
                .attributes
                .iter()
                .map(|(key, value)| {
                    let typed = match value {
                        Value::Number(n) => json!({"intValue": n.to_string()}),
                        other => json!({"stringValue": other}),
                    };
                    json!({"key": key, "value": typed})
                })
                .collect();
            let status = if span.error {
                json!({"code": "STATUS_CODE_ERROR"})
            } else {
                json!({})
            };
            json!({
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": span.service}}]},
                "scopeSpans": [{"scope": {"name": "fake"}, "spans": [{
                    "traceId": b64(trace_id), "spanId": b64(&span.span_id),
                    "parentSpanId": b64(&span.parent), "name": span.name, "kind": "SPAN_KIND_SERVER",
                    "startTimeUnixNano": (span.start_micros * 1000).to_string(),
                    "endTimeUnixNano": ((span.start_micros + span.duration_micros) * 1000).to_string(),
                    "attributes": attributes, "status": status
                }]}]
            })
        })
        .collect();
    json!({"batches": batches})
}
