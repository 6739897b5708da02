//! The `mock_server_*` actions: mock servers started by the steps of one run, kept by name so
//! later steps can check what they received (`verify`), change their endpoints (`update`),
//! forget what they received and reset their state values (`reset_state`) and stop them (`stop`, or the end of the run).

use std::sync::atomic::{AtomicUsize, Ordering};

use indexmap::IndexMap;
use serde_json::{Map, Value, json};
use tokio::sync::Mutex;

use super::contract::beside_flow;
use super::mock_contract::ContractTarget;
use super::{ActionError, ActionOutput};
use crate::flow::source::kind_of;
use crate::mock::state::StateChange;
use crate::mock::{Endpoint, MockError, MockServer, MockSpec, RequestCheck};

/// A server started by a step.
struct RunningMock {
    server_id: String,
    server: MockServer,
    /// Where `record_contract` writes what the server answered, when it stops.
    contract: Option<ContractTarget>,
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
            if let Some(contract) = &running.contract
                && let Err(err) = contract.write(&running.server.exchanges())
            {
                tracing::warn!(mock = %name, "writing the mock server's contract failed: {err}");
            }
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
/// With `record_contract: path` (and `consumer`, `provider`: default `consumer` and the
/// server's name), the exchanges it answered are written there as a Pact contract when it
/// stops (by `mock_server_stop`, or at the end of the run).
pub async fn start(
    config: &Map<String, Value>,
    mocks: &MockRegistry,
    base_dir: Option<&std::path::Path>,
) -> Result<ActionOutput, ActionError> {
    let requested_name = optional_text(config, "name")?;
    let recorded = optional_text(config, "record_contract")?;
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
    let contract = match recorded {
        Some(path) => Some(ContractTarget {
            path: beside_flow(&path, base_dir),
            consumer: optional_text(config, "consumer")?.unwrap_or_else(|| "consumer".into()),
            provider: optional_text(config, "provider")?.unwrap_or_else(|| name.clone()),
        }),
        None => None,
    };
    servers.insert(
        name,
        RunningMock {
            server_id,
            server,
            contract,
        },
    );
    Ok(ActionOutput::from_result(result))
}

/// How a step names the server it means.
enum Wanted {
    /// `name`: the name given at start.
    Name(String),
    /// `server_id`: the id the start step returned.
    Id(String),
    /// `server`, as the original platform wrote it: a name, else a server id.
    NameOrId(String),
}

/// The config keys that name a running server.
const SERVER_KEYS: [&str; 3] = ["server", "name", "server_id"];

impl Wanted {
    fn from_config(config: &Map<String, Value>) -> Result<Self, ActionError> {
        if let Some(server) = optional_text(config, "server")? {
            return Ok(Wanted::NameOrId(server));
        }
        if let Some(name) = optional_text(config, "name")? {
            return Ok(Wanted::Name(name));
        }
        match optional_text(config, "server_id")? {
            Some(id) => Ok(Wanted::Id(id)),
            None => Err(ActionError::invalid(
                "server",
                "is required (the name given at start; or `name`, or `server_id`)",
            )),
        }
    }

    /// The index, name and server meant, else an error listing the servers running.
    fn find<'s>(
        &self,
        servers: &'s IndexMap<String, RunningMock>,
    ) -> Result<(usize, &'s String, &'s RunningMock), ActionError> {
        let by_id = |id: &str| servers.values().position(|running| running.server_id == id);
        let found = match self {
            Wanted::Name(name) => servers.get_index_of(name),
            Wanted::Id(id) => by_id(id),
            Wanted::NameOrId(text) => servers.get_index_of(text).or_else(|| by_id(text)),
        };
        let found = found.and_then(|index| {
            let (name, running) = servers.get_index(index)?;
            Some((index, name, running))
        });
        found.ok_or_else(|| {
            let wanted = match self {
                Wanted::Name(name) => format!("named {name:?}"),
                Wanted::Id(id) => format!("with server_id {id:?}"),
                Wanted::NameOrId(text) => format!("named {text:?} (or with that server_id)"),
            };
            let running: Vec<&str> = servers.keys().map(String::as_str).collect();
            let list = if running.is_empty() {
                "none".to_string()
            } else {
                running.join(", ")
            };
            ActionError::Failed(format!("no running mock server {wanted}; running: {list}"))
        })
    }
}

/// The result keys naming a server: `server_id` and `name`.
fn server_keys(name: &str, running: &RunningMock) -> Map<String, Value> {
    let mut result = Map::new();
    result.insert("server_id".into(), Value::String(running.server_id.clone()));
    result.insert("name".into(), Value::String(name.to_string()));
    result
}

/// `mock_server_stop`: stops the server named by `server` (its name or id), `name` or
/// `server_id`; the result has `request_count` and `requests` ({method, path} of each).
pub async fn stop(
    config: &Map<String, Value>,
    mocks: &MockRegistry,
) -> Result<ActionOutput, ActionError> {
    let wanted = Wanted::from_config(config)?;
    let mut servers = mocks.servers.lock().await;
    let (index, ..) = wanted.find(&servers)?;
    let Some((name, running)) = servers.shift_remove_index(index) else {
        return Err(ActionError::Failed(
            "the mock server went away while stopping it".into(),
        ));
    };
    drop(servers);
    let mut result = server_keys(&name, &running);
    if let Some(contract) = &running.contract {
        let written = contract.write(&running.server.exchanges())?;
        result.insert("contract".into(), Value::Object(written));
    }
    let requests = running.server.stop().await.map_err(to_action_error)?;
    let listed: Vec<Value> = requests
        .iter()
        .map(|request| json!({"method": request.method, "path": request.path}))
        .collect();
    result.insert("stopped".into(), Value::Bool(true));
    result.insert("request_count".into(), json!(requests.len()));
    result.insert("requests".into(), Value::Array(listed));
    Ok(ActionOutput::from_result(result))
}

/// `mock_server_verify`: the server received the requests described (`method`, `path`,
/// `path_pattern`, `headers`, `query_params`, `body`/`body_json`) the number of times wanted
/// (`times`, or `at_least`/`at_most`; at least once by default), or each of a list of such
/// `assertions`. The result has `verified`, `matched` (one check) or `checks`, `request_count`
/// and `requests` (method, path, query, headers, body of each). When a count is wrong the step
/// fails as an assertion does, listing every request the server got and why each was not
/// counted; a `retry` runs the check again, for requests that arrive late.
pub async fn verify(
    config: &Map<String, Value>,
    mocks: &MockRegistry,
) -> Result<ActionOutput, ActionError> {
    let wanted = Wanted::from_config(config)?;
    let checks = request_checks(config)?;
    let servers = mocks.servers.lock().await;
    let (_, name, running) = wanted.find(&servers)?;
    let requests = running.server.requests();
    let mut result = server_keys(name, running);
    let name = name.clone();
    drop(servers);
    let mut outcomes = Vec::with_capacity(checks.len());
    let mut failures = Vec::new();
    for check in &checks {
        match check.verify(&requests) {
            Ok(outcome) => outcomes.push(outcome),
            Err(message) => failures.push(message),
        }
    }
    if !failures.is_empty() {
        return Err(ActionError::Unmet(format!(
            "mock server {name:?}: {}",
            failures.join("\n")
        )));
    }
    result.insert("verified".into(), Value::Bool(true));
    if let [only] = outcomes.as_slice() {
        result.insert("matched".into(), json!(only.matched));
    } else {
        let listed: Vec<Value> = outcomes
            .iter()
            .map(|outcome| json!({"check": outcome.described, "matched": outcome.matched}))
            .collect();
        result.insert("checks".into(), Value::Array(listed));
    }
    result.insert("request_count".into(), json!(requests.len()));
    result.insert(
        "requests".into(),
        Value::Array(requests.iter().map(|request| request.to_json()).collect()),
    );
    Ok(ActionOutput::from_result(result))
}

/// The checks of a `mock_server_verify` step: each item of `assertions`, or the config itself.
fn request_checks(config: &Map<String, Value>) -> Result<Vec<RequestCheck>, ActionError> {
    match config.get("assertions") {
        Some(list) => listed_checks(list).map_err(to_action_error),
        None => {
            let mut single = config.clone();
            for key in SERVER_KEYS {
                single.remove(key);
            }
            let check = RequestCheck::from_value(Value::Object(single), "");
            Ok(vec![check.map_err(to_action_error)?])
        }
    }
}

fn listed_checks(list: &Value) -> Result<Vec<RequestCheck>, MockError> {
    let Value::Array(items) = list else {
        return Err(MockError::InvalidConfig {
            field: "assertions".into(),
            message: format!(
                "expected a list of request checks, found {} {list}",
                kind_of(list)
            ),
        });
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            RequestCheck::from_value(item.clone(), &format!("assertions[{index}]."))
        })
        .collect()
}

/// Why a literally written `assertions` list of `mock_server_verify` cannot work, for the
/// validator.
pub fn checks_problem(list: &Value) -> Option<String> {
    listed_checks(list).err().map(|err| err.to_string())
}

/// Why the `state` of an endpoint in `endpoints` (or one `endpoint`, as `key` says) cannot
/// work (an unknown `update_rule`, `set` without `value`), for the validator. Endpoints that
/// only parse once their references are filled are checked when the step runs.
pub fn state_problem(key: &str, value: &Value) -> Option<String> {
    let endpoints: Vec<(String, &Value)> = match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(index, item)| (format!("{key}[{index}]"), item))
            .collect(),
        Value::Object(_) => vec![(key.to_string(), value)],
        _ => return None,
    };
    endpoints.into_iter().find_map(|(field, item)| {
        let endpoint = serde_json::from_value::<Endpoint>(item.clone()).ok()?;
        let state = endpoint.state.as_ref()?;
        StateChange::compile(state, &field, &endpoint.summary())
            .err()
            .map(|err| err.to_string())
    })
}

/// `mock_server_update` (also `mock_server_configure`, the original platform's name): changes
/// the endpoints of a running server. `endpoints` (or one `endpoint`) are described as at start;
/// each replaces the endpoint with the same method, path and `match`, the others are tried
/// before the existing ones. The result has `endpoints_added`, `endpoints_replaced` and
/// `endpoint_count`.
pub async fn update(
    config: &Map<String, Value>,
    mocks: &MockRegistry,
) -> Result<ActionOutput, ActionError> {
    let wanted = Wanted::from_config(config)?;
    let (key, endpoints) = match (config.get("endpoints"), config.get("endpoint")) {
        (Some(_), Some(_)) => {
            return Err(ActionError::invalid(
                "endpoint",
                "set `endpoints` (a list) or `endpoint` (one), not both",
            ));
        }
        (Some(list), None) => ("endpoints", list.clone()),
        (None, Some(one)) => ("endpoint", Value::Array(vec![one.clone()])),
        (None, None) => {
            return Err(ActionError::invalid(
                "endpoints",
                "is required (or `endpoint`)",
            ));
        }
    };
    let spec = MockSpec::from_value(json!({ "endpoints": endpoints }), "")
        .map_err(|err| endpoint_error(err, key))?;
    let servers = mocks.servers.lock().await;
    let (_, name, running) = wanted.find(&servers)?;
    let changes = running
        .server
        .update(&spec.endpoints, "")
        .map_err(|err| endpoint_error(err, key))?;
    let mut result = server_keys(name, running);
    result.insert("endpoints_added".into(), json!(changes.added));
    result.insert("endpoints_replaced".into(), json!(changes.replaced));
    result.insert(
        "endpoint_count".into(),
        json!(running.server.endpoints().len()),
    );
    result.insert("status".into(), Value::String("configured".into()));
    Ok(ActionOutput::from_result(result))
}

/// An error in the endpoints of an update, naming the field as the step wrote it: under
/// `endpoint` when one endpoint was given without a list.
fn endpoint_error(err: MockError, key: &str) -> ActionError {
    match to_action_error(err) {
        ActionError::InvalidConfig { field, message } if key == "endpoint" => {
            ActionError::InvalidConfig {
                field: field.replacen("endpoints[0]", "endpoint", 1),
                message,
            }
        }
        other => other,
    }
}

/// `mock_server_reset_state`: the server forgets the requests it received and how many each
/// endpoint answered, so `times` counts from zero again, and its state values go back to their
/// `initial_value`. The result has `requests_cleared`.
pub async fn reset_state(
    config: &Map<String, Value>,
    mocks: &MockRegistry,
) -> Result<ActionOutput, ActionError> {
    let wanted = Wanted::from_config(config)?;
    let servers = mocks.servers.lock().await;
    let (_, name, running) = wanted.find(&servers)?;
    let cleared = running.server.reset();
    let mut result = server_keys(name, running);
    result.insert("requests_cleared".into(), json!(cleared));
    Ok(ActionOutput::from_result(result))
}
