//! One JSON object per log line: `timestamp`, `level`, `message` and the event's fields at the
//! top level, `target`, the current span's name and fields under `span`, and — inside a traced
//! span — its `trace_id` and `span_id`, so a log line can be found from its trace and back.

use std::fmt;

use chrono::{SecondsFormat, Utc};
use opentelemetry::trace::TraceContextExt;
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// The JSON event format (span fields must be formatted by `JsonFields`).
pub struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let metadata = event.metadata();
        let mut line = Map::new();
        line.insert(
            "timestamp".into(),
            Value::String(Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)),
        );
        line.insert("level".into(), Value::from(metadata.level().as_str()));
        event.record(&mut Fields(&mut line));
        line.insert("target".into(), Value::from(metadata.target()));
        if let Some(span) = ctx.lookup_current() {
            let mut fields = span
                .extensions()
                .get::<FormattedFields<N>>()
                .and_then(|formatted| serde_json::from_str::<Map<String, Value>>(formatted).ok())
                .unwrap_or_default();
            fields.insert("name".into(), Value::from(span.name()));
            line.insert("span".into(), Value::Object(fields));
        }
        if super::otlp::enabled() {
            let context = opentelemetry::Context::current();
            let span = context.span();
            let ids = span.span_context();
            if ids.is_valid() {
                line.insert("trace_id".into(), Value::from(ids.trace_id().to_string()));
                line.insert("span_id".into(), Value::from(ids.span_id().to_string()));
            }
        }
        let text = serde_json::to_string(&Value::Object(line)).map_err(|_| fmt::Error)?;
        writeln!(writer, "{text}")
    }
}

/// Puts an event's fields in the line, numbers and booleans as themselves.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), Value::from(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), Value::from(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), Value::from(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0
            .insert(field.name().into(), Value::from(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), Value::from(format!("{value:?}")));
    }
}
