//! The running server: binds 127.0.0.1 (a free port unless one is asked for), answers from the
//! compiled endpoints (404 with what was tried when none fits; the state of a stateful endpoint
//! changed and the response templates filled first), records every request, and
//! stops gracefully when told to or when dropped.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use indexmap::IndexMap;
use serde_json::{Map, Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::error::MockError;
use super::matching::{
    CompiledEndpoint, IncomingRequest, PreparedResponse, compile, find, prepare_response,
};
use super::model::{Endpoint, MockSpec};
use super::state::initial_values;
use super::template::TemplateContext;

/// How long `stop` waits for in-flight answers before cutting them off.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// What an endpoint answered: status, headers and body.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// One request the server received.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// The raw query string, empty when there was none.
    pub query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The index of the endpoint that answered, `None` when none matched.
    pub endpoint: Option<usize>,
    /// Path parameters captured by the endpoint's template.
    pub params: IndexMap<String, String>,
}

impl RecordedRequest {
    /// The query string's decoded `name=value` pairs.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .into_owned()
            .collect()
    }

    /// The request as a step result shows it: `method`, `path`, `query`, `headers` (names in
    /// lower case, repeated values joined with `, `), and `body` (parsed when it is JSON, else
    /// text; absent when empty).
    pub fn to_json(&self) -> Value {
        let mut headers = Map::new();
        for (name, value) in &self.headers {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            match headers.get_mut(name.as_str()) {
                Some(Value::String(joined)) => {
                    joined.push_str(", ");
                    joined.push_str(&value);
                }
                _ => {
                    headers.insert(name.to_string(), Value::String(value));
                }
            }
        }
        let mut request = Map::new();
        request.insert("method".into(), Value::String(self.method.clone()));
        request.insert("path".into(), Value::String(self.path.clone()));
        request.insert("query".into(), Value::String(self.query.clone()));
        request.insert("headers".into(), Value::Object(headers));
        if !self.body.is_empty() {
            let body = serde_json::from_slice(&self.body).unwrap_or_else(|_| {
                Value::String(String::from_utf8_lossy(&self.body).into_owned())
            });
            request.insert("body".into(), body);
        }
        Value::Object(request)
    }

    /// `POST /orders?page=1 {"sku":"A-1"}`, the body cut after [`SUMMARY_BODY_CHARS`]
    /// characters, for messages.
    pub fn summary(&self) -> String {
        let mut text = format!("{} {}", self.method, self.path);
        if !self.query.is_empty() {
            text.push('?');
            text.push_str(&self.query);
        }
        if !self.body.is_empty() {
            let body = String::from_utf8_lossy(&self.body);
            let mut excerpt: String = body.chars().take(SUMMARY_BODY_CHARS).collect();
            if body.chars().count() > SUMMARY_BODY_CHARS {
                excerpt.push('…');
            }
            text.push(' ');
            text.push_str(&excerpt);
        }
        text
    }
}

/// How much of a request's body [`RecordedRequest::summary`] shows.
const SUMMARY_BODY_CHARS: usize = 200;

/// What changed when a running server's endpoints were updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointChanges {
    pub added: usize,
    pub replaced: usize,
}

/// The endpoints a server answers from and what it received, changed together under one lock.
struct Served {
    /// The endpoints as described, and compiled, in the order they are tried.
    described: Vec<Endpoint>,
    compiled: Vec<CompiledEndpoint>,
    /// How many requests each endpoint answered, for `times`.
    answered: Vec<usize>,
    requests: Vec<RecordedRequest>,
    /// What the server answered each of `requests` with; `None` when no endpoint answered.
    answers: Vec<Option<Answer>>,
    /// The state values of stateful endpoints, by key.
    state_values: Map<String, Value>,
}

impl Served {
    /// The answer of endpoint `index` to `request`: its state changed first, then its
    /// templates filled. The error says why it cannot answer.
    fn respond(
        &mut self,
        index: usize,
        request: &RecordedRequest,
    ) -> Result<PreparedResponse, String> {
        let compiled = &self.compiled[index];
        if compiled.state.is_none() && !compiled.templated {
            return Ok(compiled.response.clone());
        }
        if let Some(change) = &compiled.state {
            let context = TemplateContext::new(request, &self.state_values);
            change.apply(&mut self.state_values, &context)?;
        }
        if !compiled.templated {
            return Ok(compiled.response.clone());
        }
        let context = TemplateContext::new(request, &self.state_values);
        let rendered = context.render_response(&self.described[index].response);
        prepare_response(&rendered, "response").map_err(|err| err.to_string())
    }
}

struct ServerState {
    served: Mutex<Served>,
    stopping: CancellationToken,
}

impl ServerState {
    fn served(&self) -> std::sync::MutexGuard<'_, Served> {
        self.served.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running mock server. Dropping it stops it too; [`MockServer::stop`] also waits for the end.
pub struct MockServer {
    base_url: String,
    port: u16,
    state: Arc<ServerState>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl MockServer {
    /// Checks `spec` and starts serving it on 127.0.0.1:`port` (a free port when `None`).
    pub async fn start(spec: &MockSpec, port: Option<u16>) -> Result<Self, MockError> {
        Self::start_with_prefix(spec, port, "").await
    }

    /// As [`MockServer::start`]; `prefix` goes before field paths in errors (`mock.`).
    pub async fn start_with_prefix(
        spec: &MockSpec,
        port: Option<u16>,
        prefix: &str,
    ) -> Result<Self, MockError> {
        let endpoints = compile(&spec.endpoints, prefix)?;
        let requested = port.unwrap_or(0);
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, requested)))
                .await
                .map_err(|err| match err.kind() {
                    io::ErrorKind::AddrInUse => MockError::PortInUse { port: requested },
                    _ => MockError::Bind {
                        port: requested,
                        message: err.to_string(),
                    },
                })?;
        let port = listener
            .local_addr()
            .map_err(|err| MockError::Bind {
                port: requested,
                message: err.to_string(),
            })?
            .port();
        let stopping = CancellationToken::new();
        let state = Arc::new(ServerState {
            served: Mutex::new(Served {
                described: spec.endpoints.clone(),
                answered: vec![0; endpoints.len()],
                compiled: endpoints,
                requests: Vec::new(),
                answers: Vec::new(),
                state_values: initial_values(&spec.endpoints),
            }),
            stopping: stopping.clone(),
        });
        let router = Router::new()
            .fallback(answer)
            .with_state(Arc::clone(&state));
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move { stopping.cancelled().await })
                .await
        });
        Ok(Self {
            base_url: format!("http://127.0.0.1:{port}"),
            port,
            state,
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The endpoints served, as described, in the order they are tried.
    pub fn endpoints(&self) -> Vec<Endpoint> {
        self.state.served().described.clone()
    }

    /// How many requests arrived so far.
    pub fn request_count(&self) -> usize {
        self.state.served().requests.len()
    }

    /// The requests received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.served().requests.clone()
    }

    /// The requests received so far, each with what an endpoint answered.
    pub fn exchanges(&self) -> Vec<(RecordedRequest, Option<Answer>)> {
        let served = self.state.served();
        served
            .requests
            .iter()
            .cloned()
            .zip(served.answers.iter().cloned())
            .collect()
    }

    /// Changes the endpoints while the server runs. Each of `endpoints` replaces, in place,
    /// the endpoint with the same method, path and `match` (its `times` count starts again);
    /// the others are tried before the endpoints already there, so the newest description of
    /// a request wins. Nothing changes when one of them is wrong; `prefix` goes before field
    /// paths in that error.
    pub fn update(
        &self,
        endpoints: &[Endpoint],
        prefix: &str,
    ) -> Result<EndpointChanges, MockError> {
        let compiled = compile(endpoints, prefix)?;
        let mut served = self.state.served();
        let mut changes = EndpointChanges {
            added: 0,
            replaced: 0,
        };
        let mut added = Vec::new();
        for (endpoint, compiled) in endpoints.iter().zip(compiled) {
            let same = served
                .described
                .iter()
                .position(|existing| existing.takes_the_same_requests(endpoint));
            match same {
                Some(index) => {
                    served.described[index] = endpoint.clone();
                    served.compiled[index] = compiled;
                    served.answered[index] = 0;
                    changes.replaced += 1;
                }
                None => added.push((endpoint.clone(), compiled)),
            }
        }
        changes.added = added.len();
        for (endpoint, compiled) in added.into_iter().rev() {
            served.described.insert(0, endpoint);
            served.compiled.insert(0, compiled);
            served.answered.insert(0, 0);
        }
        for (key, initial) in initial_values(endpoints) {
            served.state_values.entry(key).or_insert(initial);
        }
        Ok(changes)
    }

    /// Forgets the requests received and how many each endpoint answered (so `times` counts
    /// from zero again), and sets the state values back to their initial values; returns how
    /// many requests were forgotten.
    pub fn reset(&self) -> usize {
        let mut served = self.state.served();
        served.answered.iter_mut().for_each(|count| *count = 0);
        served.state_values = initial_values(&served.described);
        std::mem::take(&mut served.requests).len()
    }

    /// Stops accepting requests, lets answers in flight finish (cutting delays short) and
    /// returns every request received.
    pub async fn stop(mut self) -> Result<Vec<RecordedRequest>, MockError> {
        self.state.stopping.cancel();
        if let Some(mut task) = self.task.take() {
            match tokio::time::timeout(STOP_GRACE, &mut task).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(err))) => return Err(MockError::Serve(err.to_string())),
                Ok(Err(err)) => return Err(MockError::Serve(err.to_string())),
                Err(_) => task.abort(),
            }
        }
        Ok(std::mem::take(&mut self.state.served().requests))
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.state.stopping.cancel();
    }
}

async fn answer(
    State(state): State<Arc<ServerState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let raw_query = uri.query().unwrap_or_default().to_string();
    let query: Vec<(String, String)> = url::form_urlencoded::parse(raw_query.as_bytes())
        .into_owned()
        .collect();
    let incoming = IncomingRequest {
        method: method.as_str(),
        path: &path,
        query: &query,
        headers: &headers,
        body: &body,
    };
    let outcome = {
        let mut served = state.served();
        let served = &mut *served;
        let answered = &served.answered;
        let outcome = find(&served.compiled, &incoming, &|index| answered[index]);
        let (endpoint, params) = match &outcome {
            Ok(hit) => (Some(hit.endpoint), hit.params.clone()),
            Err(_) => (None, IndexMap::new()),
        };
        let recorded = RecordedRequest {
            method: method.to_string(),
            path: path.clone(),
            query: raw_query,
            headers: headers.clone(),
            body: body.clone(),
            endpoint,
            params,
        };
        // `find` gives the index of one of the endpoints it was handed.
        let outcome = outcome.map(|hit| {
            served.answered[hit.endpoint] += 1;
            served.respond(hit.endpoint, &recorded)
        });
        served.requests.push(recorded);
        let answer = match &outcome {
            Ok(Ok(prepared)) => Some(Answer {
                status: prepared.status.as_u16(),
                headers: prepared.headers.clone(),
                body: prepared.body.clone(),
            }),
            _ => None,
        };
        served.answers.push(answer);
        outcome
    };
    match outcome {
        Ok(Err(problem)) => {
            let body = json!({
                "error": format!("the mock endpoint for {method} {path} cannot answer: {problem}"),
            });
            (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
        }
        Ok(Ok(prepared)) => {
            if prepared.delay_ms > 0 {
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(prepared.delay_ms)) => {}
                    () = state.stopping.cancelled() => {}
                }
            }
            let mut response = Response::new(Body::from(prepared.body));
            *response.status_mut() = prepared.status;
            *response.headers_mut() = prepared.headers;
            response
        }
        Err(misses) => {
            let tried: Vec<_> = misses
                .iter()
                .map(|miss| json!({"endpoint": miss.endpoint, "route": miss.summary, "reason": miss.reason}))
                .collect();
            let body = json!({
                "error": format!("no mock endpoint matches {method} {path}"),
                "method": method.as_str(),
                "path": path,
                "tried": tried,
            });
            (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
        }
    }
}
