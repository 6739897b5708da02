//! A stand-in for Grafana Loki's documented HTTP API, for the `loki.*` tests (no Loki server
//! package exists here): `POST /loki/api/v1/push` (JSON streams) and `GET
//! /loki/api/v1/query_range` for LogQL made of a stream selector (`{app="orders", env!="dev"}`)
//! and line filters (`|= "text"`, `!= "text"`), within `start`/`end` (nanoseconds), `limit`
//! and `direction`. Pushed lines are "ingested" one query late, so a first query misses them as
//! a real Loki may; anything else in a query is answered 400 with a parse error, as Loki does.
//! It binds 127.0.0.1:0 and stops when dropped.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};
use tokio_util::sync::DropGuard;

/// One line: its stream's labels, when (nanoseconds) and its text.
#[derive(Clone)]
struct Entry {
    labels: Map<String, Value>,
    nanos: i64,
    line: String,
}

#[derive(Default)]
struct Store {
    visible: Vec<Entry>,
    ingesting: Vec<Entry>,
    /// The parameters of every query, in order.
    queries: Vec<Map<String, Value>>,
}

/// A running fake; dropping it shuts it down.
pub struct FakeLoki {
    pub url: String,
    store: Arc<Mutex<Store>>,
    _stop: DropGuard,
}

impl FakeLoki {
    /// The parameters of the queries received so far.
    pub fn queries(&self) -> Vec<Map<String, Value>> {
        self.store.lock().unwrap().queries.clone()
    }
}

pub async fn start() -> FakeLoki {
    let store = Arc::new(Mutex::new(Store::default()));
    let router = Router::new()
        .route("/loki/api/v1/push", post(push))
        .route("/loki/api/v1/query_range", get(query_range))
        .with_state(store.clone());
    let (url, stop) = super::http_server::serve(router).await;
    FakeLoki {
        url,
        store,
        _stop: stop,
    }
}

async fn push(State(store): State<Arc<Mutex<Store>>>, body: axum::Json<Value>) -> Response {
    let mut entries = Vec::new();
    for stream in body["streams"].as_array().into_iter().flatten() {
        let labels = stream["stream"].as_object().cloned().unwrap_or_default();
        for value in stream["values"].as_array().into_iter().flatten() {
            let (Some(nanos), Some(line)) = (
                value[0].as_str().and_then(|n| n.parse().ok()),
                value[1].as_str(),
            ) else {
                return (StatusCode::BAD_REQUEST, "bad entry").into_response();
            };
            entries.push(Entry {
                labels: labels.clone(),
                nanos,
                line: line.to_string(),
            });
        }
    }
    store.lock().unwrap().ingesting.extend(entries);
    StatusCode::NO_CONTENT.into_response()
}

/// A parsed query: label matchers (name, equal?, value) and line filters (contains?, text).
struct LogQl {
    labels: Vec<(String, bool, String)>,
    filters: Vec<(bool, String)>,
}

fn parse(query: &str) -> Result<LogQl, String> {
    let query = query.trim();
    let selector_end = query
        .find('}')
        .filter(|_| query.starts_with('{'))
        .ok_or_else(|| {
            format!("parse error at line 1, col 1: syntax error: unexpected {query:?}")
        })?;
    let mut labels = Vec::new();
    for matcher in query[1..selector_end]
        .split(',')
        .filter(|m| !m.trim().is_empty())
    {
        let (name, equal, value) = match matcher.split_once("!=") {
            Some((name, value)) => (name, false, value),
            None => {
                let (name, value) = matcher
                    .split_once('=')
                    .ok_or_else(|| format!("parse error: unexpected {matcher:?}"))?;
                (name, true, value)
            }
        };
        labels.push((name.trim().to_string(), equal, unquote(value)?));
    }
    let mut filters = Vec::new();
    let mut rest = query[selector_end + 1..].trim();
    while !rest.is_empty() {
        let (contains, after) = if let Some(after) = rest.strip_prefix("|=") {
            (true, after)
        } else if let Some(after) = rest.strip_prefix("!=") {
            (false, after)
        } else {
            return Err(format!("parse error: unexpected {rest:?}"));
        };
        let after = after.trim_start();
        let end = after[1..]
            .find('"')
            .map(|i| i + 2)
            .ok_or_else(|| format!("parse error: unterminated string in {after:?}"))?;
        filters.push((contains, unquote(&after[..end])?));
        rest = after[end..].trim();
    }
    Ok(LogQl { labels, filters })
}

fn unquote(text: &str) -> Result<String, String> {
    let text = text.trim();
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .map(str::to_string)
        .ok_or_else(|| format!("parse error: expected a quoted string, found {text:?}"))
}

impl LogQl {
    fn selects(&self, entry: &Entry) -> bool {
        self.labels.iter().all(|(name, equal, value)| {
            (entry.labels.get(name).and_then(Value::as_str) == Some(value.as_str())) == *equal
        }) && self
            .filters
            .iter()
            .all(|(contains, text)| entry.line.contains(text.as_str()) == *contains)
    }
}

async fn query_range(
    State(store): State<Arc<Mutex<Store>>>,
    Query(params): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let mut store = store.lock().unwrap();
    store.queries.push(
        params
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    );
    let answer = answer(&store.visible, &params);
    let ingested = std::mem::take(&mut store.ingesting);
    store.visible.extend(ingested);
    answer
}

fn answer(entries: &[Entry], params: &std::collections::HashMap<String, String>) -> Response {
    let logql = match parse(params.get("query").map_or("", String::as_str)) {
        Ok(logql) => logql,
        Err(message) => return (StatusCode::BAD_REQUEST, message).into_response(),
    };
    let bound = |key: &str, default: i64| {
        params.get(key).map_or(Ok(default), |v| {
            v.parse::<i64>().map_err(|_| key.to_string())
        })
    };
    let (Ok(start), Ok(end), Ok(limit)) = (
        bound("start", 0),
        bound("end", i64::MAX),
        bound("limit", 100),
    ) else {
        return (StatusCode::BAD_REQUEST, "bad start, end or limit").into_response();
    };
    let mut selected: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.nanos >= start && e.nanos <= end && logql.selects(e))
        .collect();
    selected.sort_by_key(|e| e.nanos);
    if params.get("direction").is_none_or(|d| d == "backward") {
        selected.reverse();
    }
    selected.truncate(usize::try_from(limit).unwrap_or(0));
    let mut streams: Vec<(Map<String, Value>, Vec<Value>)> = Vec::new();
    for entry in selected {
        let value = json!([entry.nanos.to_string(), entry.line]);
        match streams
            .iter_mut()
            .find(|(labels, _)| *labels == entry.labels)
        {
            Some((_, values)) => values.push(value),
            None => streams.push((entry.labels.clone(), vec![value])),
        }
    }
    let result: Vec<Value> = streams
        .into_iter()
        .map(|(labels, values)| json!({"stream": labels, "values": values}))
        .collect();
    axum::Json(json!({"status": "success", "data": {"resultType": "streams", "result": result}}))
        .into_response()
}
