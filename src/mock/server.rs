//! The running server: binds 127.0.0.1 (a free port unless one is asked for), answers from the
//! compiled endpoints (404 with what was tried when none fits), records every request, and
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
use serde::Serialize;
use serde_json::json;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::error::MockError;
use super::matching::{CompiledEndpoint, IncomingRequest, compile, find};
use super::model::{Endpoint, MockSpec};

/// How long `stop` waits for in-flight answers before cutting them off.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// One request the server received.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// The raw query string, empty when there was none.
    pub query: String,
    /// The index of the endpoint that answered, `None` when none matched.
    pub endpoint: Option<usize>,
    /// Path parameters captured by the endpoint's template.
    pub params: IndexMap<String, String>,
}

struct ServerState {
    endpoints: Vec<CompiledEndpoint>,
    requests: Mutex<Vec<RecordedRequest>>,
    stopping: CancellationToken,
}

impl ServerState {
    fn recorded(&self) -> Vec<RecordedRequest> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A running mock server. Dropping it stops it too; [`MockServer::stop`] also waits for the end.
pub struct MockServer {
    base_url: String,
    port: u16,
    endpoints: Vec<Endpoint>,
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
            endpoints,
            requests: Mutex::new(Vec::new()),
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
            endpoints: spec.endpoints.clone(),
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

    /// The endpoints served, as described.
    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    /// How many requests arrived so far.
    pub fn request_count(&self) -> usize {
        self.state
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// The requests received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.recorded()
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
        Ok(self.state.recorded())
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
        let mut requests = state
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let answered = |index: usize| {
            requests
                .iter()
                .filter(|r| r.endpoint == Some(index))
                .count()
        };
        let outcome = find(&state.endpoints, &incoming, &answered);
        let (endpoint, params) = match &outcome {
            Ok(hit) => (Some(hit.endpoint), hit.params.clone()),
            Err(_) => (None, IndexMap::new()),
        };
        requests.push(RecordedRequest {
            method: method.to_string(),
            path: path.clone(),
            query: raw_query,
            endpoint,
            params,
        });
        outcome
    };
    match outcome {
        Ok(hit) => {
            let Some(endpoint) = state.endpoints.get(hit.endpoint) else {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            };
            let prepared = &endpoint.response;
            if prepared.delay_ms > 0 {
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(prepared.delay_ms)) => {}
                    () = state.stopping.cancelled() => {}
                }
            }
            let mut response = Response::new(Body::from(prepared.body.clone()));
            *response.status_mut() = prepared.status;
            *response.headers_mut() = prepared.headers.clone();
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
