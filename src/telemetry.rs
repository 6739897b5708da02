//! Logs, traces, metrics and health: JSON logs in production and readable ones on a terminal,
//! OpenTelemetry traces over OTLP when an endpoint is set, a Prometheus registry, and the
//! `/metrics`, `/healthz` and `/readyz` endpoints every long-running role serves.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once, RwLock};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus::{Encoder, Registry, TextEncoder};
use serde_json::{Value, json};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::JsonFields;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

mod json_log;
mod otlp;

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// JSON when stderr is not a terminal, text when it is.
    Auto,
    Json,
    Text,
}

/// Starts logging, and tracing when an OTLP endpoint is set (see [`otlp`]). Logs go to stderr
/// at the level of `RUST_LOG`, else `default_level`; as JSON with `trace_id` and `span_id` in
/// production, as text on a terminal. `role` names the service in traces (`testmesh-<role>`).
/// Only the first call in a process does anything.
pub fn init(role: &str, format: LogFormat, default_level: &str) {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| start(role, format, default_level));
}

/// [`init`] for the long-running roles, at `info` by default.
pub fn init_logging(role: &str, format: LogFormat) {
    init(role, format, "info");
}

/// Whether spans are exported: HTTP steps then send a `traceparent`.
pub fn tracing_enabled() -> bool {
    otlp::enabled()
}

/// Sends the spans not yet sent; call as the process ends.
pub fn shutdown() {
    otlp::shutdown();
}

fn start(role: &str, format: LogFormat, default_level: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let logs = if json {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .fmt_fields(JsonFields::new())
            .event_format(json_log::JsonLines)
            .with_filter(filter)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed()
    };
    let mut layers: Vec<Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync>> = vec![logs];
    let mut problem = None;
    match otlp::start(role) {
        otlp::Start::Off => {}
        otlp::Start::On(tracer) => layers.push(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_tracked_inactivity(false)
                .with_threads(false)
                .with_location(false)
                .with_filter(Targets::new().with_target("testmesh", tracing::Level::INFO))
                .boxed(),
        ),
        otlp::Start::Failed(message) => problem = Some(message),
    }
    if tracing_subscriber::registry()
        .with(layers)
        .try_init()
        .is_err()
    {
        return;
    }
    if let Some(message) = problem {
        tracing::warn!("{message}");
    }
    if otlp::enabled()
        && let Some((name, value)) = otlp::unsupported_protocol()
    {
        tracing::warn!("{name}={value} is not supported: traces are sent as http/protobuf");
    }
}

/// Liveness and readiness of a role, with details shown by `/readyz`.
#[derive(Debug, Clone, Default)]
pub struct Health {
    ready: Arc<AtomicBool>,
    details: Arc<RwLock<serde_json::Map<String, Value>>>,
}

impl Health {
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    /// Sets one detail shown by `/readyz` (a dependency's state, the storage path in use).
    pub fn set_detail(&self, key: &str, value: Value) {
        if let Ok(mut details) = self.details.write() {
            details.insert(key.to_string(), value);
        }
    }

    fn details(&self) -> Value {
        self.details
            .read()
            .map(|d| Value::Object(d.clone()))
            .unwrap_or(Value::Null)
    }
}

#[derive(Clone)]
struct OpsState {
    registry: Registry,
    health: Health,
}

/// `/metrics`, `/healthz` and `/readyz`; merge it into a role's router or serve it alone.
pub fn ops_router(registry: Registry, health: Health) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { (StatusCode::OK, "ok") }))
        .route("/readyz", get(readyz))
        .with_state(OpsState { registry, health })
}

/// Serves `router` on `addr` until `shutdown` resolves.
pub async fn serve(
    addr: SocketAddr,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

async fn metrics(State(state): State<OpsState>) -> impl IntoResponse {
    let mut buffer = Vec::new();
    let encoder = TextEncoder::new();
    match encoder.encode(&state.registry.gather(), &mut buffer) {
        Ok(()) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, encoder.format_type().to_string())],
            buffer,
        )
            .into_response(),
        Err(err) => (StatusCode::INTERNAL_SERVER_ERROR, err.to_string()).into_response(),
    }
}

async fn readyz(State(state): State<OpsState>) -> impl IntoResponse {
    let ready = state.health.is_ready();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        axum::Json(json!({"ready": ready, "details": state.health.details()})),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_metrics_and_readiness() {
        let registry = Registry::new();
        let counter = prometheus::IntCounter::new("testmesh_test_total", "a test counter").unwrap();
        registry.register(Box::new(counter.clone())).unwrap();
        counter.inc();
        let health = Health::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = ops_router(registry, health.clone());
        let server = tokio::spawn(async move { axum::serve(listener, router).await });
        let client = reqwest::Client::new();
        let base = format!("http://{addr}");
        let metrics = client.get(format!("{base}/metrics")).send().await.unwrap();
        assert!(
            metrics
                .text()
                .await
                .unwrap()
                .contains("testmesh_test_total 1")
        );
        let not_ready = client.get(format!("{base}/readyz")).send().await.unwrap();
        assert_eq!(not_ready.status(), 503);
        health.set_ready(true);
        health.set_detail("storage", json!("plain"));
        let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), 200);
        let body: Value = ready.json().await.unwrap();
        assert_eq!(body["details"]["storage"], "plain");
        server.abort();
    }
}
