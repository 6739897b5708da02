//! Spans from Grafana Tempo's query API (`GET /api/traces/{id}`): OTLP JSON, `{batches: [...]}`
//! (or `{trace: {resourceSpans: [...]}}` from its v2 API), each with its resource's
//! `service.name` and `scopeSpans` (`instrumentationLibrarySpans` in older versions); ids in
//! base64 or hex, times in nanoseconds, typed attribute values, and an error status as
//! `STATUS_CODE_ERROR` (or 2).

use base64::Engine as _;
use serde_json::{Map, Value};

use super::Span;

/// The spans of the trace, or `None` when the answer is not OTLP JSON.
pub(super) fn spans(body: &Value) -> Option<Vec<Value>> {
    let batches = body
        .get("batches")
        .or_else(|| body.get("resourceSpans"))
        .or_else(|| body.get("trace")?.get("resourceSpans"))?
        .as_array()?;
    let mut out = Vec::new();
    for batch in batches {
        let resource = attributes(batch.get("resource").and_then(|r| r.get("attributes")));
        let service = resource
            .get("service.name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let scopes = batch
            .get("scopeSpans")
            .or_else(|| batch.get("instrumentationLibrarySpans"))
            .and_then(Value::as_array);
        for scope in scopes.into_iter().flatten() {
            for raw in scope
                .get("spans")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let nanos = |key: &str| -> i64 {
                    match raw.get(key) {
                        Some(Value::String(text)) => text.parse().unwrap_or_default(),
                        Some(value) => value.as_i64().unwrap_or_default(),
                        None => 0,
                    }
                };
                let start = nanos("startTimeUnixNano");
                let end = nanos("endTimeUnixNano");
                let code = raw.get("status").and_then(|status| status.get("code"));
                let error = code.and_then(Value::as_str) == Some("STATUS_CODE_ERROR")
                    || code.and_then(Value::as_i64) == Some(2);
                let id = |key: &str| raw.get(key).and_then(Value::as_str).map(hex_id);
                let span = Span {
                    trace_id: id("traceId").unwrap_or_default(),
                    span_id: id("spanId").unwrap_or_default(),
                    parent_span_id: id("parentSpanId").filter(|id| !id.is_empty()),
                    name: raw
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    service: service.to_string(),
                    start_micros: start / 1000,
                    duration_micros: (end - start).max(0) / 1000,
                    attributes: attributes(raw.get("attributes")),
                    error,
                };
                out.push(span.into_value());
            }
        }
    }
    Some(out)
}

/// An id as hex: kept when it already is (16 or 32 hex digits), else decoded from base64.
fn hex_id(text: &str) -> String {
    let is_hex = matches!(text.len(), 16 | 32) && text.chars().all(|c| c.is_ascii_hexdigit());
    if is_hex {
        return text.to_ascii_lowercase();
    }
    match base64::engine::general_purpose::STANDARD.decode(text) {
        Ok(bytes) => bytes.iter().map(|b| format!("{b:02x}")).collect(),
        Err(_) => text.to_string(),
    }
}

/// OTLP `[{key, value: {stringValue | intValue | doubleValue | boolValue | ...}}]` as a map.
fn attributes(list: Option<&Value>) -> Map<String, Value> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|attribute| {
            let key = attribute.get("key")?.as_str()?.to_string();
            Some((key, any_value(attribute.get("value")?)))
        })
        .collect()
}

/// The plain value of an OTLP `AnyValue` (64-bit integers come as text in JSON).
fn any_value(value: &Value) -> Value {
    let Some((kind, inner)) = value.as_object().and_then(|map| map.iter().next()) else {
        return Value::Null;
    };
    match kind.as_str() {
        "intValue" => inner
            .as_str()
            .and_then(|text| text.parse::<i64>().ok())
            .map_or_else(|| inner.clone(), Value::from),
        "arrayValue" => Value::Array(
            inner
                .get("values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(any_value)
                .collect(),
        ),
        _ => inner.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn otlp_json_spans_are_read_with_their_resource_service() {
        let body = json!({"batches": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "orders"}}]},
            "scopeSpans": [{"spans": [{
                "traceId": "AAAAAAAAAAAAAAAAAAAAAQ==", "spanId": "AAAAAAAAAAI=", "parentSpanId": "",
                "name": "GET /orders", "startTimeUnixNano": "1700000000000000000",
                "endTimeUnixNano": "1700000000002500000",
                "attributes": [{"key": "http.status_code", "value": {"intValue": "200"}}],
                "status": {"code": "STATUS_CODE_ERROR"}
            }]}]
        }]});
        let spans = spans(&body).unwrap();
        assert_eq!(spans[0]["trace_id"], "00000000000000000000000000000001");
        assert_eq!(spans[0]["span_id"], "0000000000000002");
        assert_eq!(spans[0]["parent_span_id"], Value::Null);
        assert_eq!(spans[0]["service"], "orders");
        assert_eq!(spans[0]["duration_ms"], json!(2.5));
        assert_eq!(spans[0]["attributes"]["http.status_code"], json!(200));
        assert_eq!(spans[0]["error"], json!(true));
    }
}
