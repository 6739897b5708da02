//! The trace context a run carries once `otel.inject` started one: its trace id and the span
//! id that outgoing HTTP requests name as their parent in a W3C `traceparent` header, so the
//! services they reach join the run's trace and `otel.assert` can fetch it by its id.

use std::sync::Mutex;

use rand::RngExt;

/// One run's trace context.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceContext {
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// 16 lowercase hex digits.
    pub span_id: String,
    pub sampled: bool,
}

impl TraceContext {
    /// A context with `trace_id` (fresh when `None`) and a fresh span id.
    pub fn new(trace_id: Option<String>, sampled: bool) -> Self {
        let trace_id =
            trace_id.unwrap_or_else(|| format!("{:032x}", rand::rng().random_range(1..=u128::MAX)));
        let span_id = format!("{:016x}", rand::rng().random_range(1..=u64::MAX));
        Self {
            trace_id,
            span_id,
            sampled,
        }
    }

    /// The W3C `traceparent` header value.
    pub fn traceparent(&self) -> String {
        let flags = if self.sampled { "01" } else { "00" };
        format!("00-{}-{}-{flags}", self.trace_id, self.span_id)
    }
}

/// Whether `text` is a trace id as W3C writes it: 32 hex digits, not all zero.
pub fn is_trace_id(text: &str) -> bool {
    text.len() == 32
        && text.chars().all(|c| c.is_ascii_hexdigit())
        && text.chars().any(|c| c != '0')
}

/// The run's trace context, once a step started one.
#[derive(Debug, Default)]
pub struct TraceSlot(Mutex<Option<TraceContext>>);

impl TraceSlot {
    pub fn set(&self, context: TraceContext) {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(context);
    }

    pub fn get(&self) -> Option<TraceContext> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_context_is_a_valid_traceparent() {
        let context = TraceContext::new(None, true);
        assert!(is_trace_id(&context.trace_id), "{context:?}");
        let header = context.traceparent();
        let parts: Vec<&str> = header.split('-').collect();
        assert_eq!(parts.len(), 4);
        assert_eq!((parts[0], parts[3]), ("00", "01"));
        assert_eq!(parts[2].len(), 16);
        assert!(!is_trace_id("0".repeat(32).as_str()));
        assert!(!is_trace_id("xyz"));
    }
}
