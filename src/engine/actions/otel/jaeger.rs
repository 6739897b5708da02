//! Spans from Jaeger's query API (`GET /api/traces/{id}`): `{data: [{spans, processes}]}`,
//! times in microseconds, attributes as `tags` (`{key, type, value}`), the service in the span's
//! process. A span is in error when tagged `error: true` or `otel.status_code: ERROR`.

use serde_json::{Map, Value};

use super::Span;

/// The spans of every trace in the answer, or `None` when it is not Jaeger's shape.
pub(super) fn spans(body: &Value) -> Option<Vec<Value>> {
    let mut out = Vec::new();
    for trace in body.get("data")?.as_array()? {
        let processes = trace.get("processes").and_then(Value::as_object);
        for raw in trace.get("spans")?.as_array()? {
            let service = raw
                .get("processID")
                .and_then(Value::as_str)
                .and_then(|id| processes?.get(id)?.get("serviceName")?.as_str())
                .unwrap_or_default();
            let attributes: Map<String, Value> = raw
                .get("tags")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|tag| {
                    Some((
                        tag.get("key")?.as_str()?.to_string(),
                        tag.get("value")?.clone(),
                    ))
                })
                .collect();
            let error = attributes.get("error") == Some(&Value::Bool(true))
                || attributes.get("otel.status_code").and_then(Value::as_str) == Some("ERROR");
            let parent_span_id = raw
                .get("references")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|reference| {
                    reference.get("refType").and_then(Value::as_str) == Some("CHILD_OF")
                })
                .and_then(|reference| reference.get("spanID")?.as_str())
                .map(str::to_string);
            let text = |key: &str| {
                raw.get(key)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            let span = Span {
                trace_id: text("traceID"),
                span_id: text("spanID"),
                parent_span_id,
                name: text("operationName"),
                service: service.to_string(),
                start_micros: raw
                    .get("startTime")
                    .and_then(Value::as_i64)
                    .unwrap_or_default(),
                duration_micros: raw
                    .get("duration")
                    .and_then(Value::as_i64)
                    .unwrap_or_default(),
                attributes,
                error,
            };
            out.push(span.into_value());
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spans_get_their_service_parent_and_error() {
        let body = json!({"data": [{"traceID": "ab", "spans": [
            {"traceID": "ab", "spanID": "01", "operationName": "POST /orders", "references": [],
             "startTime": 1_700_000_000_000_000i64, "duration": 1500, "processID": "p1",
             "tags": [{"key": "http.status_code", "type": "int64", "value": 201}]},
            {"traceID": "ab", "spanID": "02", "operationName": "charge", "processID": "p2",
             "references": [{"refType": "CHILD_OF", "traceID": "ab", "spanID": "01"}],
             "startTime": 1_700_000_000_000_500i64, "duration": 900,
             "tags": [{"key": "otel.status_code", "type": "string", "value": "ERROR"}]}
        ], "processes": {"p1": {"serviceName": "orders"}, "p2": {"serviceName": "billing"}}}]});
        let spans = spans(&body).unwrap();
        assert_eq!(spans[0]["service"], "orders");
        assert_eq!(spans[0]["duration_ms"], json!(1.5));
        assert_eq!(spans[0]["attributes"]["http.status_code"], json!(201));
        assert_eq!(spans[0]["error"], json!(false));
        assert_eq!(spans[1]["parent_span_id"], "01");
        assert_eq!(spans[1]["status"], "error");
        assert!(super::spans(&json!({"errors": []})).is_none());
    }
}
