//! Trace-based testing. `otel.inject` starts a trace context for the run (or takes the run's
//! own when spans are exported), which later HTTP, gRPC and messaging steps send as
//! `traceparent`;
//! `otel.assert` fetches a trace (the run's by default) from Jaeger's or Tempo's query API,
//! keeps the spans matching `service`, `operation` and `attributes`, and the runner polls it
//! until its condition holds over them (a trace fills in as services flush their spans).

pub mod context;
mod jaeger;
mod tempo;

use std::borrow::Cow;

use serde_json::{Map, Value, json};

use self::context::{TraceContext, is_trace_id};
use super::fields::{first_text, flag, optional_text, text_map};
use super::query_api::QueryApi;
use super::{ActionError, ActionOutput};
use crate::engine::session::Session;

/// `otel.inject`: makes `trace_id` (or the run's exported trace, or a fresh one) the trace the
/// following HTTP, gRPC and messaging steps join.
pub fn inject(config: &Map<String, Value>, session: &Session) -> Result<ActionOutput, ActionError> {
    let trace_id = match optional_text(config, "trace_id")? {
        Some(id) => {
            let id = id.to_ascii_lowercase();
            if !is_trace_id(&id) {
                return Err(ActionError::invalid(
                    "trace_id",
                    format!("{id:?} is not a trace id (32 hex digits, not all zero)"),
                ));
            }
            Some(id)
        }
        None => crate::engine::trace::current_trace_id(),
    };
    let context = TraceContext::new(trace_id, flag(config, "sampled", true)?);
    let name = first_text(config, &["span", "name"])?.map(|(name, _)| name);
    session.http.trace.set(context.clone());
    let result = json!({
        "trace_id": context.trace_id,
        "span_id": context.span_id,
        "traceparent": context.traceparent(),
        "span": name,
    });
    Ok(ActionOutput::from_result(
        result.as_object().cloned().unwrap_or_default(),
    ))
}

/// `config` with the run's `traceparent` (once `otel.inject` started a trace) among its
/// `headers`, or those of each of its `messages`: how messaging steps carry the trace. A step
/// that sets its own `traceparent` keeps it; without a trace, `config` as it is.
pub fn with_trace_headers<'c>(
    config: &'c Map<String, Value>,
    session: &Session,
) -> Cow<'c, Map<String, Value>> {
    let Some(context) = session.http.trace.get() else {
        return Cow::Borrowed(config);
    };
    let traceparent = Value::String(context.traceparent());
    let mut config = config.clone();
    match config.get_mut("messages") {
        Some(Value::Array(messages)) => {
            for message in messages {
                if let Value::Object(message) = message {
                    add_header(message, &traceparent);
                }
            }
        }
        _ => add_header(&mut config, &traceparent),
    }
    Cow::Owned(config)
}

/// Adds `traceparent` to the `headers` of `map` unless set; a `headers` of the wrong type is
/// left for the action to name.
fn add_header(map: &mut Map<String, Value>, traceparent: &Value) {
    match map.get_mut("headers") {
        Some(Value::Object(headers)) => {
            headers
                .entry("traceparent")
                .or_insert_with(|| traceparent.clone());
        }
        None | Some(Value::Null) => {
            map.insert("headers".into(), json!({"traceparent": traceparent}));
        }
        Some(_) => {}
    }
}

/// Which query API a trace is fetched from.
#[derive(Clone, Copy, PartialEq)]
enum Backend {
    Jaeger,
    Tempo,
}

/// One attempt of `otel.assert`: fetches the trace and filters its spans. A trace the backend
/// does not have (yet) is a failure the runner's poll retries.
pub async fn fetch(
    config: &Map<String, Value>,
    session: &Session,
) -> Result<ActionOutput, ActionError> {
    let backend = match optional_text(config, "backend")?.as_deref() {
        None | Some("jaeger") => Backend::Jaeger,
        Some("tempo") => Backend::Tempo,
        Some(other) => {
            return Err(ActionError::invalid(
                "backend",
                format!("expected jaeger or tempo, found {other:?}"),
            ));
        }
    };
    let url_key = if config.contains_key("backend_url") {
        "backend_url"
    } else {
        "url"
    };
    let api = QueryApi::from_config(config, url_key)?;
    let trace_id = match optional_text(config, "trace_id")? {
        Some(id) if is_trace_id(&id.to_ascii_lowercase()) => id.to_ascii_lowercase(),
        Some(id) => {
            return Err(ActionError::invalid(
                "trace_id",
                format!("{id:?} is not a trace id (32 hex digits, not all zero)"),
            ));
        }
        None => session
            .http
            .trace
            .get()
            .map(|context| context.trace_id)
            .or_else(crate::engine::trace::current_trace_id)
            .ok_or_else(|| {
                ActionError::invalid(
                    "trace_id",
                    "the run has no trace: run otel.inject first (or export spans with an OTLP endpoint), or set trace_id",
                )
            })?,
    };
    let client = session.http.client(true)?;
    let path = format!("/api/traces/{trace_id}");
    let reply = api.get(client, &path, &[]).await?;
    let label = match backend {
        Backend::Jaeger => "Jaeger",
        Backend::Tempo => "Tempo",
    };
    if reply.status == 404 {
        return Err(ActionError::Failed(format!(
            "{label} has no trace {trace_id} (yet)"
        )));
    }
    if !reply.ok() {
        return Err(reply.failure(label));
    }
    let spans = match backend {
        Backend::Jaeger => jaeger::spans(&reply.body),
        Backend::Tempo => tempo::spans(&reply.body),
    }
    .ok_or_else(|| ActionError::Failed(format!("{label} answered {}", reply.body)))?;
    let filter = Filter::from_config(config)?;
    let total = spans.len();
    let services = distinct(&spans, "service");
    let kept: Vec<Value> = spans
        .into_iter()
        .filter(|span| filter.keeps(span))
        .collect();
    let errors = kept
        .iter()
        .filter(|span| span["error"] == json!(true))
        .count();
    let mut result = Map::new();
    result.insert("trace_id".into(), Value::String(trace_id));
    result.insert("count".into(), Value::from(kept.len()));
    result.insert("errors".into(), Value::from(errors));
    result.insert("span_count".into(), Value::from(total));
    result.insert("services".into(), Value::Array(services));
    result.insert("spans".into(), Value::Array(kept));
    Ok(reply.output(result))
}

/// The distinct values of `key` over `spans`, in order of appearance.
fn distinct(spans: &[Value], key: &str) -> Vec<Value> {
    let mut seen: Vec<Value> = Vec::new();
    for span in spans {
        if let Some(value) = span.get(key).filter(|value| !seen.contains(value)) {
            seen.push(value.clone());
        }
    }
    seen
}

/// Which spans `otel.assert` looks at.
struct Filter {
    service: Option<String>,
    operation: Option<String>,
    attributes: Vec<(String, String)>,
}

impl Filter {
    fn from_config(config: &Map<String, Value>) -> Result<Self, ActionError> {
        Ok(Self {
            service: optional_text(config, "service")?,
            operation: first_text(config, &["operation", "span_name"])?.map(|(name, _)| name),
            attributes: text_map(config, "attributes")?,
        })
    }

    fn keeps(&self, span: &Value) -> bool {
        let is = |key: &str, wanted: &Option<String>| {
            wanted
                .as_deref()
                .is_none_or(|wanted| span[key].as_str() == Some(wanted))
        };
        is("service", &self.service)
            && is("name", &self.operation)
            && self
                .attributes
                .iter()
                .all(|(name, wanted)| match span["attributes"].get(name) {
                    Some(Value::String(text)) => text == wanted,
                    Some(other) => {
                        serde_json::from_str::<Value>(wanted).is_ok_and(|value| value == *other)
                    }
                    None => false,
                })
    }
}

/// A span in the form `otel.assert` shows, whichever backend it came from.
pub(super) struct Span {
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: Option<String>,
    pub name: String,
    pub service: String,
    pub start_micros: i64,
    pub duration_micros: i64,
    pub attributes: Map<String, Value>,
    pub error: bool,
}

impl Span {
    /// `{name, service, span_id, parent_span_id, trace_id, start, duration_ms, attributes,
    /// error, status}`.
    pub fn into_value(self) -> Value {
        let start = chrono::DateTime::from_timestamp_micros(self.start_micros)
            .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
        json!({
            "name": self.name,
            "service": self.service,
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "parent_span_id": self.parent_span_id,
            "start": start,
            "duration_ms": self.duration_micros as f64 / 1000.0,
            "attributes": self.attributes,
            "error": self.error,
            "status": if self.error { "error" } else { "ok" },
        })
    }
}
