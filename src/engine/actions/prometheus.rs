//! `prometheus.query`: a PromQL query against the Prometheus HTTP API, at an instant (`time`,
//! now by default) or over a range (`start`, `end`, `step`). The result holds `resultType`,
//! `series` (each with its `labels` and its `value`, or its `values` over a range), `count`
//! (how many series) and `value`: the scalar, or the value of the only series (its last one
//! over a range). `prometheus.assert` polls this query until its condition holds (see the
//! runner's `poll`).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::fields::required_text;
use super::query_api::{QueryApi, instant, unix_seconds};
use super::{ActionError, ActionOutput};
use crate::engine::session::Session;

/// Points a range query asks for when it names no `step`.
const RANGE_POINTS: i64 = 250;

/// Runs one query.
pub async fn query(
    config: &Map<String, Value>,
    session: &Session,
) -> Result<ActionOutput, ActionError> {
    let api = QueryApi::from_config(config, "url")?;
    let promql = required_text(config, "query")?;
    let now = Utc::now();
    let (path, params) = match instant(config, "start", now)? {
        Some(start) => {
            let end = instant(config, "end", now)?.unwrap_or(now);
            if end < start {
                return Err(ActionError::invalid(
                    "end",
                    format!("{end} is before start {start}"),
                ));
            }
            let step = range_step(config, start, end)?;
            let params = vec![
                ("query", promql),
                ("start", unix_seconds(start)),
                ("end", unix_seconds(end)),
                ("step", step),
            ];
            ("/api/v1/query_range", params)
        }
        None => {
            for key in ["end", "step"] {
                if config.get(key).is_some_and(|value| !value.is_null()) {
                    return Err(ActionError::invalid(
                        key,
                        "only a range query reads it: set start too",
                    ));
                }
            }
            let time = instant(config, "time", now)?.unwrap_or(now);
            (
                "/api/v1/query",
                vec![("query", promql), ("time", unix_seconds(time))],
            )
        }
    };
    let client = session.http.client(true)?;
    let reply = api.get(client, path, &params).await?;
    if reply.status == 400 || reply.status == 422 {
        return Err(ActionError::invalid(
            "query",
            format!("Prometheus rejected it: {}", reply.error_text()),
        ));
    }
    if !reply.ok() {
        return Err(reply.failure("Prometheus"));
    }
    let result = result_of(&reply.body)
        .ok_or_else(|| ActionError::Failed(format!("Prometheus answered {}", reply.body)))?;
    Ok(reply.output(result))
}

/// `step` as written (a duration or seconds), or the range split in [`RANGE_POINTS`].
fn range_step(
    config: &Map<String, Value>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<String, ActionError> {
    match config.get("step") {
        None | Some(Value::Null) => {
            let millis = ((end - start).num_milliseconds() / RANGE_POINTS).max(1000);
            Ok(format!("{:.3}", millis as f64 / 1000.0))
        }
        Some(_) => {
            let step = super::fields::duration(config, "step", std::time::Duration::ZERO)?;
            if step.is_zero() {
                return Err(ActionError::invalid("step", "must be more than zero"));
            }
            Ok(format!("{:.3}", step.as_secs_f64()))
        }
    }
}

/// The step result from Prometheus's `{status, data: {resultType, result}}`.
pub(super) fn result_of(body: &Value) -> Option<Map<String, Value>> {
    let data = body.get("data")?;
    let kind = data.get("resultType")?.as_str()?;
    let raw = data.get("result")?;
    let (series, value) = match kind {
        "scalar" | "string" => (Vec::new(), sample(raw)),
        "vector" | "matrix" => {
            let series: Vec<Value> = raw.as_array()?.iter().map(one_series).collect();
            let value = match series.as_slice() {
                [only] => only.get("value").cloned().unwrap_or(Value::Null),
                _ => Value::Null,
            };
            (series, value)
        }
        _ => return None,
    };
    let mut result = Map::new();
    result.insert("resultType".into(), Value::String(kind.to_string()));
    result.insert("count".into(), Value::from(series.len()));
    result.insert("value".into(), value);
    result.insert("series".into(), Value::Array(series));
    if let Some(warnings) = body.get("warnings") {
        result.insert("warnings".into(), warnings.clone());
    }
    Some(result)
}

/// One series: its labels, and its value (at an instant) or values (over a range, each with
/// its `time` in Unix seconds; `value` is then the last).
fn one_series(raw: &Value) -> Value {
    let labels = raw.get("metric").cloned().unwrap_or_else(|| json!({}));
    match raw.get("values").and_then(Value::as_array) {
        Some(points) => {
            let values: Vec<Value> = points
                .iter()
                .map(|point| json!({"time": point.get(0).cloned().unwrap_or_default(), "value": sample(point)}))
                .collect();
            let last = values
                .last()
                .map_or(Value::Null, |point| point["value"].clone());
            json!({"labels": labels, "values": values, "value": last})
        }
        None => json!({"labels": labels, "value": raw.get("value").map_or(Value::Null, sample)}),
    }
}

/// The number of a `[time, "text"]` sample: whole numbers as integers; `NaN` and infinities
/// stay text, as JSON has no number for them.
fn sample(point: &Value) -> Value {
    let Some(text) = point.get(1).and_then(Value::as_str) else {
        return Value::Null;
    };
    match text.parse::<f64>() {
        Ok(number) if number.is_finite() && number.fract() == 0.0 && number.abs() < 9e15 => {
            Value::from(number as i64)
        }
        Ok(number) if number.is_finite() => Value::from(number),
        _ => Value::String(text.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_series_gives_its_value_and_labels() {
        let body = json!({"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"job": "orders"}, "value": [1700000000.5, "42"]}
        ]}});
        let result = result_of(&body).unwrap();
        assert_eq!(result["value"], json!(42));
        assert_eq!(result["count"], json!(1));
        assert_eq!(result["series"][0]["labels"]["job"], "orders");
    }

    #[test]
    fn a_range_gives_values_and_the_last_one() {
        let body = json!({"data": {"resultType": "matrix", "result": [
            {"metric": {}, "values": [[1, "0.5"], [2, "NaN"], [3, "2"]]}
        ]}});
        let result = result_of(&body).unwrap();
        let series = &result["series"][0];
        assert_eq!(series["values"][0], json!({"time": 1, "value": 0.5}));
        assert_eq!(series["values"][1]["value"], "NaN");
        assert_eq!(result["value"], json!(2));
    }

    #[test]
    fn several_series_have_no_single_value() {
        let body = json!({"data": {"resultType": "vector", "result": [
            {"metric": {"a": "1"}, "value": [1, "1"]}, {"metric": {"a": "2"}, "value": [1, "2"]}
        ]}});
        assert_eq!(result_of(&body).unwrap()["value"], Value::Null);
        let scalar = json!({"data": {"resultType": "scalar", "result": [1, "3.25"]}});
        assert_eq!(result_of(&scalar).unwrap()["value"], json!(3.25));
    }
}
