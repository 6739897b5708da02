//! `loki.query`: a LogQL query against Grafana Loki's HTTP API (`/loki/api/v1/query_range`)
//! over a time window that defaults to the run's own (from a second before the run began to
//! now). A log
//! query's result holds `lines` (each with its `timestamp`, `line`, the stream's `labels`, and
//! `json` when the line is a JSON object) and `count`; a metric query's result is read as
//! Prometheus's is. `loki.assert` polls this query until its condition holds (see the runner's
//! `poll`).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::fields::{count, optional_text, required_text};
use super::query_api::{QueryApi, instant};
use super::{ActionError, ActionOutput, prometheus};
use crate::engine::session::Session;

/// Lines a query asks for when it names no `limit`.
const DEFAULT_LIMIT: u64 = 100;

/// How long before the run began its default window opens: log lines are stamped by the
/// services' clocks (or a shipper's), which may lag ours, and some to the millisecond only.
const RUN_START_MARGIN: chrono::TimeDelta = chrono::TimeDelta::seconds(1);

/// Runs one query.
pub async fn query(
    config: &Map<String, Value>,
    session: &Session,
) -> Result<ActionOutput, ActionError> {
    let api = QueryApi::from_config(config, "url")?;
    let logql = required_text(config, "query")?;
    let now = Utc::now();
    let start = match instant(config, "start", now)? {
        Some(start) => start,
        None => session.started - RUN_START_MARGIN,
    };
    let end = instant(config, "end", now)?.unwrap_or(now);
    if end < start {
        return Err(ActionError::invalid(
            "end",
            format!("{end} is before start {start}"),
        ));
    }
    let limit = count(config, "limit", 1)?.unwrap_or(DEFAULT_LIMIT);
    let direction = match optional_text(config, "direction")?.as_deref() {
        None | Some("backward") => "backward",
        Some("forward") => "forward",
        Some(other) => {
            return Err(ActionError::invalid(
                "direction",
                format!("expected forward or backward, found {other:?}"),
            ));
        }
    };
    let params = [
        ("query", logql),
        ("start", nanos(start)),
        ("end", nanos(end)),
        ("limit", limit.to_string()),
        ("direction", direction.to_string()),
    ];
    let client = session.http.client(true)?;
    let reply = api.get(client, "/loki/api/v1/query_range", &params).await?;
    if reply.status == 400 {
        return Err(ActionError::invalid(
            "query",
            format!("Loki rejected it: {}", reply.error_text()),
        ));
    }
    if !reply.ok() {
        return Err(reply.failure("Loki"));
    }
    let result = match reply
        .body
        .pointer("/data/resultType")
        .and_then(Value::as_str)
    {
        Some("streams") => streams(&reply.body, direction == "forward"),
        _ => prometheus::result_of(&reply.body),
    }
    .ok_or_else(|| ActionError::Failed(format!("Loki answered {}", reply.body)))?;
    Ok(reply.output(result))
}

/// Nanoseconds since the epoch, as Loki reads times.
fn nanos(time: DateTime<Utc>) -> String {
    time.timestamp_nanos_opt()
        .map_or_else(|| time.timestamp().to_string(), |n| n.to_string())
}

/// `lines` and `count` from the streams of a log query, the lines of every stream in one list
/// ordered by time (oldest first when `forward`).
fn streams(body: &Value, forward: bool) -> Option<Map<String, Value>> {
    let mut lines: Vec<(i64, Value)> = Vec::new();
    for stream in body.pointer("/data/result")?.as_array()? {
        let labels = stream.get("stream").cloned().unwrap_or_else(|| json!({}));
        for entry in stream.get("values")?.as_array()? {
            let nanos: i64 = entry.get(0)?.as_str()?.parse().ok()?;
            let text = entry.get(1)?.as_str()?;
            let timestamp = DateTime::from_timestamp_nanos(nanos)
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
            let mut line = json!({"timestamp": timestamp, "line": text, "labels": labels});
            if let Ok(parsed @ Value::Object(_)) = serde_json::from_str::<Value>(text) {
                line["json"] = parsed;
            }
            lines.push((nanos, line));
        }
    }
    lines.sort_by_key(|(nanos, _)| *nanos);
    if !forward {
        lines.reverse();
    }
    let lines: Vec<Value> = lines.into_iter().map(|(_, line)| line).collect();
    let mut result = Map::new();
    result.insert("resultType".into(), Value::String("streams".into()));
    result.insert("count".into(), Value::from(lines.len()));
    result.insert("lines".into(), Value::Array(lines));
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_every_stream_are_merged_newest_first() {
        let body = json!({"data": {"resultType": "streams", "result": [
            {"stream": {"app": "orders"}, "values": [["3000000000", "{\"level\":\"error\"}"], ["1000000000", "started"]]},
            {"stream": {"app": "billing"}, "values": [["2000000000", "charged"]]}
        ]}});
        let result = streams(&body, false).unwrap();
        assert_eq!(result["count"], json!(3));
        let lines = result["lines"].as_array().unwrap();
        assert_eq!(lines[0]["json"]["level"], "error");
        assert_eq!(lines[0]["timestamp"], "1970-01-01T00:00:03Z");
        assert_eq!(lines[1]["labels"]["app"], "billing");
        assert_eq!(lines[2]["line"], "started");
        assert!(lines[2].get("json").is_none());
        let forward = streams(&body, true).unwrap();
        assert_eq!(forward["lines"][0]["line"], "started");
    }
}
