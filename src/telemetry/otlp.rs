//! OpenTelemetry traces over OTLP/HTTP with protobuf, switched on by the standard variables:
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (the full URL) or `OTEL_EXPORTER_OTLP_ENDPOINT` (a base
//! URL; `/v1/traces` is added). The service is named by `OTEL_SERVICE_NAME` or a `service.name`
//! in `OTEL_RESOURCE_ATTRIBUTES`, else `testmesh-<role>`. Spans are sent in batches from a
//! thread of their own; a failing endpoint is reported once in the logs and never stops a run.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{Key, Value};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider, SpanData, SpanExporter};

const TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
const BASE_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
const PROTOCOLS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
];

/// The provider of this process, kept to flush it at exit.
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();
/// Read on every HTTP step: whether a `traceparent` is worth making.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether spans are exported (an OTLP endpoint is set and the exporter started).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The URL spans are sent to, from the environment; `None` when tracing is off.
pub fn endpoint_from_env() -> Option<String> {
    let read = |name: &str| {
        std::env::var(name)
            .ok()
            .map(|value| value.trim().to_string())
            .filter(|value| !value.is_empty())
    };
    read(TRACES_ENDPOINT).or_else(|| {
        read(BASE_ENDPOINT).map(|base| format!("{}/v1/traces", base.trim_end_matches('/')))
    })
}

/// What starting the exporter led to.
pub enum Start {
    /// No endpoint is set: tracing stays off.
    Off,
    On(SdkTracer),
    /// An endpoint is set but the exporter cannot be built: tracing stays off, and this says why.
    Failed(String),
}

/// Starts the exporter when an endpoint is set; the tracer names spans for `role`.
pub fn start(role: &str) -> Start {
    let Some(endpoint) = endpoint_from_env() else {
        return Start::Off;
    };
    let exporter = match opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .build()
    {
        Ok(exporter) => exporter,
        Err(err) => {
            return Start::Failed(format!(
                "traces are off: cannot send them to the OTLP endpoint {endpoint}: {err}"
            ));
        }
    };
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(Reporting {
            inner: exporter,
            endpoint,
            failing: AtomicBool::new(false),
        })
        .with_resource(resource(role))
        .build();
    let tracer = provider.tracer("testmesh");
    if PROVIDER.set(provider).is_err() {
        return Start::Off;
    }
    ENABLED.store(true, Ordering::Relaxed);
    Start::On(tracer)
}

/// A protocol other than http/protobuf asked for in the environment, which we do not speak.
pub fn unsupported_protocol() -> Option<(&'static str, String)> {
    PROTOCOLS.into_iter().find_map(|name| {
        std::env::var(name)
            .ok()
            .filter(|value| !value.trim().is_empty() && value.trim() != "http/protobuf")
            .map(|value| (name, value))
    })
}

/// The resource of every span: the environment's attributes, and a service name that defaults
/// to `testmesh-<role>`.
fn resource(role: &str) -> Resource {
    let detected = Resource::builder().build();
    let named = detected
        .get(&Key::from_static_str("service.name"))
        .is_some_and(|name| match name {
            Value::String(name) => !name.as_str().starts_with("unknown_service"),
            _ => true,
        });
    if named {
        detected
    } else {
        Resource::builder()
            .with_service_name(format!("testmesh-{role}"))
            .build()
    }
}

/// Sends the spans not yet sent and stops the exporter; call once, as the process ends.
pub fn shutdown() {
    if let Some(provider) = PROVIDER.get() {
        ENABLED.store(false, Ordering::Relaxed);
        if let Err(err) = provider.shutdown_with_timeout(Duration::from_secs(5)) {
            tracing::warn!(error = %err, "stopping the trace exporter failed");
        }
    }
}

/// The OTLP exporter, with a log line when the endpoint stops answering and when it is back.
#[derive(Debug)]
struct Reporting<E> {
    inner: E,
    endpoint: String,
    failing: AtomicBool,
}

impl<E: SpanExporter> SpanExporter for Reporting<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch.len();
        let result = self.inner.export(batch).await;
        match &result {
            Err(err) if !self.failing.swap(true, Ordering::Relaxed) => {
                tracing::warn!(
                    endpoint = %self.endpoint,
                    spans,
                    "cannot send traces to the OTLP endpoint {}: {err}",
                    self.endpoint
                );
            }
            Ok(()) if self.failing.swap(false, Ordering::Relaxed) => {
                tracing::info!(endpoint = %self.endpoint, "traces reach the OTLP endpoint again");
            }
            _ => {}
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
