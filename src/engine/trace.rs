//! The spans of a run, for OpenTelemetry: `flow.run` for the whole run and `step` for each step
//! (nested steps under their control-flow step, a called flow's run under its `run_flow` step),
//! with the outcome as attributes and an Error status when a step or run fails. HTTP steps put
//! their span's context in a W3C `traceparent` header. With tracing off (no OTLP endpoint) the
//! spans are disabled and cost a check each.

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use reqwest::header::HeaderMap;
use tracing::Span;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::mask::Masker;
use super::result::{FlowResult, FlowStatus, Phase, StepResult, StepStatus};

/// What a caller knows of a run beyond the flow, for its span.
#[derive(Debug, Clone, Default)]
pub struct RunTrace {
    /// The TestFlow's namespace.
    pub namespace: Option<String>,
    /// What started the run: `cli`, `schedule`, `manual`...
    pub trigger: Option<String>,
    /// The W3C `traceparent` of the span that asked for the run: the run's span is its child.
    pub traceparent: Option<String>,
}

/// The span of one flow run.
pub fn flow_span(flow_name: &str, run_id: &str, trace: &RunTrace) -> Span {
    let span = tracing::info_span!(
        "flow.run",
        otel.name = "flow.run",
        otel.status_description = Empty,
        flow.name = %flow_name,
        flow.namespace = Empty,
        run.id = %run_id,
        run.trigger = Empty,
        run.result = Empty,
    );
    if span.is_disabled() {
        return span;
    }
    if let Some(namespace) = &trace.namespace {
        span.record("flow.namespace", namespace.as_str());
    }
    if let Some(trigger) = &trace.trigger {
        span.record("run.trigger", trigger.as_str());
    }
    if let Some(traceparent) = &trace.traceparent {
        let carrier =
            std::collections::HashMap::from([("traceparent".to_string(), traceparent.clone())]);
        let _ = span.set_parent(TraceContextPropagator::new().extract(&carrier));
    }
    span
}

/// Records how the run ended on its span (`result` is already masked).
pub fn finish_flow(span: &Span, result: &FlowResult) {
    if span.is_disabled() {
        return;
    }
    span.record("run.result", result.status.as_str());
    if matches!(
        result.status,
        FlowStatus::Failed | FlowStatus::Error | FlowStatus::TimedOut
    ) {
        let description = result
            .error
            .clone()
            .unwrap_or_else(|| format!("the run {}", result.status.as_str()));
        span.record("otel.status_description", description.as_str());
    }
}

/// The span of one step.
pub fn step_span(id: &str, action: &str, phase: Phase) -> Span {
    tracing::info_span!(
        "step",
        otel.name = "step",
        otel.status_description = Empty,
        step.id = %id,
        step.action = %action,
        step.phase = phase.as_str(),
        step.status = Empty,
        step.attempts = Empty,
    )
}

/// Records how the step ended on its span; the error shown is masked like the step's record.
pub fn finish_step(span: &Span, result: &StepResult, masker: &Masker) {
    if span.is_disabled() {
        return;
    }
    span.record("step.status", result.status.as_str());
    span.record("step.attempts", result.attempts.len() as u64);
    if matches!(result.status, StepStatus::Failed | StepStatus::Error) {
        let last = result.last_attempt();
        let description = last
            .and_then(|attempt| attempt.error.clone())
            .or_else(|| {
                let failed = last?.assertions.iter().find(|a| !a.passed)?;
                Some(format!("assertion `{}` failed", failed.expression))
            })
            .or_else(|| result.reason.clone())
            .unwrap_or_else(|| format!("the step {}", result.status.as_str()));
        span.record(
            "otel.status_description",
            masker.text(&description).as_str(),
        );
    }
}

/// The W3C `traceparent` of `span`, to hand to whoever runs the work it asks for; `None` when
/// tracing is off.
pub fn traceparent_of(span: &Span) -> Option<String> {
    if !crate::telemetry::tracing_enabled() || span.is_disabled() {
        return None;
    }
    let mut carrier = std::collections::HashMap::new();
    TraceContextPropagator::new().inject_context(&span.context(), &mut carrier);
    carrier.remove("traceparent")
}

/// The trace id of the current span when spans are exported: the trace of the run.
pub fn current_trace_id() -> Option<String> {
    let traceparent = traceparent_of(&Span::current())?;
    traceparent.split('-').nth(1).map(str::to_string)
}

/// Adds `traceparent` (and `tracestate`) for the current span to an HTTP step's headers, unless
/// tracing is off or the step set its own `traceparent`.
pub fn inject_traceparent(headers: &mut HeaderMap) {
    if !crate::telemetry::tracing_enabled() || headers.contains_key("traceparent") {
        return;
    }
    let context = Span::current().context();
    TraceContextPropagator::new()
        .inject_context(&context, &mut opentelemetry_http::HeaderInjector(headers));
}
