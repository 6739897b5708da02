//! A local HTTP server for tests of HTTP steps: fixed routes for status codes, echoes, slow and
//! flaky answers, redirects, cookies, awkward headers and large bodies. It binds 127.0.0.1:0 and stops when
//! the [`TestServer`] is dropped.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::{Map, Value, json};
use tokio_util::sync::{CancellationToken, DropGuard};

/// A running test server; dropping it shuts it down.
pub struct TestServer {
    pub base_url: String,
    counters: Arc<Counters>,
    _stop: DropGuard,
}

impl TestServer {
    /// `base_url` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// How many requests `/slow` has received so far (counted when they arrive).
    pub fn slow_requests(&self) -> u32 {
        self.counters.slow.load(Ordering::SeqCst)
    }
}

#[derive(Default)]
struct Counters {
    flaky: Mutex<HashMap<String, u32>>,
    slow: AtomicU32,
}

/// Starts the server on 127.0.0.1 with a port the system picks.
pub async fn start() -> TestServer {
    let counters = Arc::new(Counters::default());
    let router = Router::new()
        .route("/status/{code}", any(status))
        .route("/echo", any(echo))
        .route("/slow", get(slow))
        .route("/flaky/{key}", any(flaky))
        .route("/redirect/{n}", any(redirect_n))
        .route("/redirect-to", any(redirect_to))
        .route("/cookies/set", get(set_cookies))
        .route("/cookies", get(cookies))
        .route("/headers", get(odd_headers))
        .route("/big", get(big))
        .with_state(counters.clone());
    let (base_url, stop) = serve(router).await;
    TestServer {
        base_url,
        counters,
        _stop: stop,
    }
}

/// Serves `router` on 127.0.0.1 with a port the system picks: its base URL, and a guard that
/// shuts it down when dropped.
pub async fn serve(router: Router) -> (String, DropGuard) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let token = CancellationToken::new();
    let stopped = token.clone();
    tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move { stopped.cancelled().await })
            .await
            .unwrap();
    });
    (base_url, token.drop_guard())
}

fn query_pairs(query: &Option<String>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

fn query_value(query: &Option<String>, name: &str) -> Option<String> {
    query_pairs(query)
        .into_iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

async fn status(Path(code): Path<u16>) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    (status, axum::Json(json!({"status": code}))).into_response()
}

async fn echo(
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let mut header_map = Map::new();
    for name in headers.keys() {
        let joined: Vec<&str> = headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap_or("?"))
            .collect();
        header_map.insert(name.as_str().to_string(), Value::String(joined.join(", ")));
    }
    let mut query_map: Map<String, Value> = Map::new();
    for (key, value) in query_pairs(&query) {
        let entry = query_map
            .entry(key)
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(values) = entry {
            values.push(Value::String(value));
        }
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    let json_body = serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
    axum::Json(json!({
        "method": method.as_str(),
        "headers": header_map,
        "query": query_map,
        "body": text,
        "json": json_body,
    }))
    .into_response()
}

async fn slow(State(counters): State<Arc<Counters>>, RawQuery(query): RawQuery) -> &'static str {
    counters.slow.fetch_add(1, Ordering::SeqCst);
    let ms = query_value(&query, "ms")
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(1000);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    "done"
}

async fn flaky(
    State(counters): State<Arc<Counters>>,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let fail: u32 = query_value(&query, "fail")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let calls = {
        let mut flaky = counters.flaky.lock().unwrap();
        let calls = flaky.entry(key).or_default();
        *calls += 1;
        *calls
    };
    if calls <= fail {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"calls": calls})),
        )
            .into_response()
    } else {
        axum::Json(json!({"calls": calls})).into_response()
    }
}

async fn redirect_n(method: Method, Path(n): Path<u32>) -> Response {
    if n == 0 {
        return axum::Json(json!({"redirected": true, "method": method.as_str()})).into_response();
    }
    (
        StatusCode::FOUND,
        [(LOCATION, format!("/redirect/{}", n - 1))],
    )
        .into_response()
}

async fn redirect_to(RawQuery(query): RawQuery) -> Response {
    let target = query_value(&query, "url").unwrap_or_else(|| "/echo".into());
    let code = query_value(&query, "status")
        .and_then(|s| s.parse().ok())
        .unwrap_or(302);
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::FOUND);
    (status, [(LOCATION, target)]).into_response()
}

/// Sets a cookie per query pair, then redirects to `redirect` when that pair is there (as a
/// login form does).
async fn set_cookies(RawQuery(query): RawQuery) -> Response {
    let mut headers = HeaderMap::new();
    let mut set = Map::new();
    if let Some(target) = query_value(&query, "redirect") {
        headers.insert(LOCATION, HeaderValue::from_str(&target).unwrap());
    }
    for (name, value) in query_pairs(&query) {
        if name == "redirect" {
            continue;
        }
        let cookie = format!("{name}={value}; Path=/");
        headers.append(SET_COOKIE, HeaderValue::from_str(&cookie).unwrap());
        set.insert(name, Value::String(value));
    }
    let status = if headers.contains_key(LOCATION) {
        StatusCode::FOUND
    } else {
        StatusCode::OK
    };
    (status, headers, axum::Json(Value::Object(set))).into_response()
}

async fn cookies(headers: HeaderMap) -> Response {
    let mut map = Map::new();
    for value in headers.get_all(COOKIE) {
        for pair in value.to_str().unwrap_or_default().split(';') {
            if let Some((name, value)) = pair.trim().split_once('=') {
                map.insert(name.to_string(), Value::String(value.to_string()));
            }
        }
    }
    axum::Json(json!({"cookies": map})).into_response()
}

async fn odd_headers() -> Response {
    let mut headers = HeaderMap::new();
    headers.append("x-tag", HeaderValue::from_static("one"));
    headers.append("x-tag", HeaderValue::from_static("two"));
    headers.insert("x-request-id", HeaderValue::from_static("req-42"));
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    (headers, "plain text").into_response()
}

async fn big(RawQuery(query): RawQuery) -> Vec<u8> {
    let bytes = query_value(&query, "bytes")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    vec![b'a'; bytes]
}
