//! `mock_server_start` / `mock_server_stop`: mock servers started by the steps of one run,
//! kept by name so a later step (or the end of the run) can stop them and read what they got.

use std::sync::atomic::{AtomicUsize, Ordering};

use indexmap::IndexMap;
use serde_json::{Map, Value, json};
use tokio::sync::Mutex;

use super::{ActionError, ActionOutput};
use crate::flow::source::kind_of;
use crate::mock::{MockError, MockServer, MockSpec};

/// A server started by a step.
struct RunningMock {
    server_id: String,
    server: MockServer,
}

/// The mock servers one run started, by name.
#[derive(Default)]
pub struct MockRegistry {
    servers: Mutex<IndexMap<String, RunningMock>>,
    started: AtomicUsize,
}

impl MockRegistry {
    /// Stops every server still running (after teardown), logging the ones that fail to stop.
    pub async fn stop_all(&self) {
        let servers: Vec<(String, RunningMock)> = self.servers.lock().await.drain(..).collect();
        for (name, running) in servers {
            if let Err(err) = running.server.stop().await {
                tracing::warn!(mock = %name, "stopping the mock server failed: {err}");
            }
        }
    }
}

fn to_action_error(err: MockError) -> ActionError {
    match err {
        MockError::InvalidConfig { field, message } => ActionError::invalid(field, message),
        other => ActionError::Failed(other.to_string()),
    }
}

fn optional_text(config: &Map<String, Value>, key: &str) -> Result<Option<String>, ActionError> {
    match config.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(Some(text.trim().to_string())),
        Some(other) => Err(ActionError::invalid(
            key,
            format!(
                "expected a non-empty string, found {} {other}",
                kind_of(other)
            ),
        )),
    }
}

fn parse_port(config: &Map<String, Value>) -> Result<Option<u16>, ActionError> {
    let invalid = |value: &Value| {
        ActionError::invalid("port", format!("{value} is not a port number (0 to 65535)"))
    };
    match config.get("port") {
        None | Some(Value::Null) => Ok(None),
        Some(value @ Value::Number(number)) => number
            .as_u64()
            .and_then(|port| u16::try_from(port).ok())
            .map(Some)
            .ok_or_else(|| invalid(value)),
        Some(value @ Value::String(text)) => {
            text.trim().parse().map(Some).map_err(|_| invalid(value))
        }
        Some(other) => Err(invalid(other)),
    }
}

/// `mock_server_start`: starts a server; the result has `server_id`, `name`, `base_url`, `port`.
pub async fn start(
    config: &Map<String, Value>,
    mocks: &MockRegistry,
) -> Result<ActionOutput, ActionError> {
    let requested_name = optional_text(config, "name")?;
    let port = parse_port(config)?;
    let endpoints = config
        .get("endpoints")
        .cloned()
        .ok_or_else(|| ActionError::invalid("endpoints", "is required"))?;
    let spec =
        MockSpec::from_value(json!({ "endpoints": endpoints }), "").map_err(to_action_error)?;
    let mut servers = mocks.servers.lock().await;
    let name = match requested_name {
        Some(name) => {
            if servers.contains_key(&name) {
                return Err(ActionError::Failed(format!(
                    "a mock server named {name:?} is already running; stop it first or choose another name"
                )));
            }
            name
        }
        None => loop {
            let candidate = format!("mock_{}", mocks.started.fetch_add(1, Ordering::Relaxed) + 1);
            if !servers.contains_key(&candidate) {
                break candidate;
            }
        },
    };
    let server = MockServer::start(&spec, port)
        .await
        .map_err(to_action_error)?;
    let server_id = uuid::Uuid::new_v4().to_string();
    let mut result = Map::new();
    result.insert("server_id".into(), Value::String(server_id.clone()));
    result.insert("name".into(), Value::String(name.clone()));
    result.insert(
        "base_url".into(),
        Value::String(server.base_url().to_string()),
    );
    result.insert("port".into(), json!(server.port()));
    servers.insert(name, RunningMock { server_id, server });
    Ok(ActionOutput::from_result(result))
}

/// `mock_server_stop`: stops the server named by `name` or `server_id`; the result has
/// `request_count` and `requests` ({method, path} of each).
pub async fn stop(
    config: &Map<String, Value>,
    mocks: &MockRegistry,
) -> Result<ActionOutput, ActionError> {
    let name = optional_text(config, "name")?;
    let server_id = optional_text(config, "server_id")?;
    let mut servers = mocks.servers.lock().await;
    let found = match (&name, &server_id) {
        (Some(name), _) => servers.get_index_of(name),
        (None, Some(id)) => servers
            .values()
            .position(|running| &running.server_id == id),
        (None, None) => return Err(ActionError::invalid("name", "is required (or server_id)")),
    };
    let Some(index) = found else {
        let running: Vec<&str> = servers.keys().map(String::as_str).collect();
        let wanted = match (&name, &server_id) {
            (Some(name), _) => format!("named {name:?}"),
            (_, id) => format!("with server_id {:?}", id.as_deref().unwrap_or_default()),
        };
        let list = if running.is_empty() {
            "none".to_string()
        } else {
            running.join(", ")
        };
        return Err(ActionError::Failed(format!(
            "no running mock server {wanted}; running: {list}"
        )));
    };
    let Some((name, running)) = servers.shift_remove_index(index) else {
        return Err(ActionError::Failed(
            "the mock server went away while stopping it".into(),
        ));
    };
    drop(servers);
    let requests = running.server.stop().await.map_err(to_action_error)?;
    let listed: Vec<Value> = requests
        .iter()
        .map(|request| json!({"method": request.method, "path": request.path}))
        .collect();
    let mut result = Map::new();
    result.insert("server_id".into(), Value::String(running.server_id));
    result.insert("name".into(), Value::String(name));
    result.insert("stopped".into(), Value::Bool(true));
    result.insert("request_count".into(), json!(requests.len()));
    result.insert("requests".into(), Value::Array(listed));
    Ok(ActionOutput::from_result(result))
}
