//! Consumer-driven contracts in the Pact format, through the Pact reference implementation's
//! own crates rather than a matcher of ours: `pact_models` reads contract files (Pact v1 to v4
//! JSON) and writes them (v3), `pact_matching` compares a provider's answers with what a
//! contract expects, with Pact's semantics (matching rules, type and regex matchers, header and
//! body rules). Their default features (plugins over gRPC, XML and multipart bodies) are left
//! out: they would double the build for bodies our flows do not send.
//!
//! `contract_generate` writes a contract from interactions: given inline (`request`,
//! `response`, `description`, `providerState`, `matchingRules` as Pact writes them), or taken
//! by the runner from named HTTP steps of the run. `contract_verify` replays a contract's
//! requests against `provider_url` and reports each interaction's mismatches.

use std::path::{Path, PathBuf};

use pact_matching::Mismatch;
use pact_models::PactSpecification;
use pact_models::bodies::OptionalBody;
use pact_models::content_types::ContentType;
use pact_models::pact::load_pact_from_json;
use pact_models::v4::http_parts::{HttpRequest, HttpResponse};
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::fields::{first_text, list, optional_text, required_text};
use super::http::errors::describe;
use super::query_api::QueryApi;
use super::{ActionError, ActionOutput};
use crate::engine::session::Session;

/// The contract file a step names (`file`, or `path`), relative to the flow's folder.
fn contract_path(config: &Map<String, Value>, session: &Session) -> Result<PathBuf, ActionError> {
    let (text, _) = first_text(config, &["file", "path"])?
        .ok_or_else(|| ActionError::invalid("file", "is required"))?;
    Ok(beside_flow(&text, session.base_dir.as_deref()))
}

/// `text` as a path: relative ones are found from the flow file's folder `base_dir`.
pub fn beside_flow(text: &str, base_dir: Option<&Path>) -> PathBuf {
    match base_dir {
        Some(dir) if Path::new(text).is_relative() => dir.join(text),
        _ => PathBuf::from(text),
    }
}

/// `contract_generate`: writes a Pact v3 file for `consumer` and `provider` from the inline
/// `interactions` followed by `recorded` (the named steps' exchanges, as the runner found
/// them).
pub fn generate(
    config: &Map<String, Value>,
    recorded: Vec<Value>,
    session: &Session,
) -> Result<ActionOutput, ActionError> {
    let consumer = required_text(config, "consumer")?;
    let provider = required_text(config, "provider")?;
    let path = contract_path(config, session)?;
    let mut interactions = list(config, "interactions");
    for (index, interaction) in interactions.iter().enumerate() {
        if interaction.get("request").is_none() || interaction.get("response").is_none() {
            return Err(ActionError::invalid(
                format!("interactions[{index}]"),
                "needs a request and a response",
            ));
        }
    }
    interactions.extend(recorded);
    if interactions.is_empty() {
        return Err(ActionError::invalid(
            "interactions",
            "no interactions: list some, or name HTTP steps of the run in `steps`",
        ));
    }
    let written = write(&path, &consumer, &provider, interactions)?;
    Ok(ActionOutput::from_result(written))
}

/// Writes a Pact v3 file of `interactions` (Pact's JSON shape; those without a
/// `description` are named by method and path) between `consumer` and `provider`, read back
/// through pact_models first so that only a valid contract is written.
/// Answers `file`, `consumer`, `provider` and `count`.
pub fn write(
    path: &Path,
    consumer: &str,
    provider: &str,
    mut interactions: Vec<Value>,
) -> Result<Map<String, Value>, ActionError> {
    let count = interactions.len();
    for (index, interaction) in interactions.iter_mut().enumerate() {
        if interaction.get("description").is_none() {
            let method = interaction
                .pointer("/request/method")
                .and_then(Value::as_str);
            let path = interaction.pointer("/request/path").and_then(Value::as_str);
            interaction["description"] = Value::String(format!(
                "{} {} ({})",
                method.unwrap_or("GET"),
                path.unwrap_or("/"),
                index + 1
            ));
        }
    }

    let document = json!({
        "consumer": {"name": consumer},
        "provider": {"name": provider},
        "interactions": interactions,
        "metadata": {"pactSpecification": {"version": "3.0.0"}},
    });
    let pact = load_pact_from_json(&path.display().to_string(), &document)
        .map_err(|err| ActionError::invalid("interactions", format!("not a valid Pact: {err}")))?;
    let written = pact
        .to_json(PactSpecification::V3)
        .map_err(|err| ActionError::Failed(format!("cannot write the contract: {err}")))?;
    let text = serde_json::to_string_pretty(&written)
        .map_err(|err| ActionError::Failed(format!("cannot write the contract: {err}")))?;
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|err| {
            ActionError::Failed(format!("cannot create {}: {err}", dir.display()))
        })?;
    }
    std::fs::write(path, text)
        .map_err(|err| ActionError::Failed(format!("cannot write {}: {err}", path.display())))?;
    let result = json!({
        "file": path.display().to_string(),
        "consumer": consumer,
        "provider": provider,
        "count": count,
    });
    Ok(result.as_object().cloned().unwrap_or_default())
}

/// An interaction from a recorded HTTP step: its request (method, path, query, the headers
/// that were not masked, body) and its response's status, `Content-Type` and body. Other
/// response headers are left out: they change from run to run (dates, ids).
pub fn interaction_from_step(
    description: &str,
    request: &Value,
    response: &Value,
) -> Option<Value> {
    let url = url::Url::parse(request.get("url")?.as_str()?).ok()?;
    let mut query = Map::new();
    for (name, value) in url.query_pairs() {
        let values = query
            .entry(name.into_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(items) = values {
            items.push(Value::String(value.into_owned()));
        }
    }
    let skipped = [
        "user-agent",
        "traceparent",
        "tracestate",
        "content-length",
        "host",
    ];
    let headers: Map<String, Value> = request
        .get("headers")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(name, value)| {
            value.as_str() != Some("***") && !skipped.contains(&name.to_ascii_lowercase().as_str())
        })
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let mut sent = json!({"method": request.get("method")?, "path": url.path()});
    if !query.is_empty() {
        sent["query"] = Value::Object(query);
    }
    if !headers.is_empty() {
        sent["headers"] = Value::Object(headers);
    }
    if let Some(body) = request.get("body").filter(|body| !body.is_null()) {
        sent["body"] = body.clone();
    }
    let mut answered = json!({"status": response.get("status")?});
    let content_type = response
        .get("headers")
        .and_then(Value::as_object)
        .and_then(|headers| {
            headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        })
        .map(|(_, value)| value.clone());
    if let Some(content_type) = content_type {
        answered["headers"] = json!({"Content-Type": content_type});
    }
    match response.get("body") {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) if text.is_empty() => {}
        Some(body) => answered["body"] = body.clone(),
    }
    Some(json!({"description": description, "request": sent, "response": answered}))
}

/// `contract_verify`: sends each interaction's request to `provider_url` (after asking
/// `provider_states_url`, when given, to set up the interaction's provider states) and
/// matches the answer with Pact's rules. Fails, as an assertion does, naming every interaction that did
/// not match and how; the result lists each interaction's outcome.
pub async fn verify(
    config: &Map<String, Value>,
    session: &Session,
) -> Result<ActionOutput, ActionError> {
    let path = contract_path(config, session)?;
    let url_key = if config.contains_key("provider_url") {
        "provider_url"
    } else {
        "url"
    };
    let provider = QueryApi::from_config(config, url_key)?;
    let text = std::fs::read_to_string(&path).map_err(|err| {
        ActionError::invalid("file", format!("cannot read {}: {err}", path.display()))
    })?;
    let document: Value = serde_json::from_str(&text).map_err(|err| {
        ActionError::invalid("file", format!("{} is not JSON: {err}", path.display()))
    })?;
    let pact = load_pact_from_json(&path.display().to_string(), &document).map_err(|err| {
        ActionError::invalid("file", format!("{} is not a Pact: {err}", path.display()))
    })?;
    let states_url = optional_text(config, "provider_states_url")?;
    let client = session.http.client(true)?;
    let mut outcomes = Vec::new();
    let mut failures = Vec::new();
    for interaction in pact.interactions() {
        let Some(http) = interaction.as_v4_http() else {
            continue;
        };
        if let Some(states_url) = &states_url {
            for state in &http.provider_states {
                set_up_state(&provider, client, states_url, state).await?;
            }
        }
        let actual = replay(&provider, client, &http.request).await?;
        let mismatches =
            pact_matching::match_response(http.response.clone(), actual, &pact, &interaction)
                .await
                .map_err(|err| {
                    ActionError::Failed(format!("cannot match `{}`: {err}", http.description))
                })?;
        let described: Vec<String> = mismatches.iter().map(describe_mismatch).collect();
        if !described.is_empty() {
            failures.push(format!("`{}`: {}", http.description, described.join("; ")));
        }
        outcomes.push(json!({
            "description": http.description,
            "passed": described.is_empty(),
            "mismatches": described,
        }));
    }
    if !failures.is_empty() {
        return Err(ActionError::Unmet(format!(
            "{} of {} interactions of {} did not match: {}",
            failures.len(),
            outcomes.len(),
            path.display(),
            failures.join(" | ")
        )));
    }
    let result = json!({
        "file": path.display().to_string(),
        "consumer": pact.consumer().name,
        "provider": pact.provider().name,
        "count": outcomes.len(),
        "passed": outcomes.len(),
        "interactions": outcomes,
    });
    Ok(ActionOutput::from_result(
        result.as_object().cloned().unwrap_or_default(),
    ))
}

/// Asks the provider to set up `state` before an interaction that needs it, as Pact
/// verifiers do: `POST {state, params, action: "setup"}` to `url`.
async fn set_up_state(
    provider: &QueryApi,
    client: &reqwest::Client,
    url: &str,
    state: &pact_models::provider_states::ProviderState,
) -> Result<(), ActionError> {
    let target = url::Url::parse(url).map_err(|_| {
        ActionError::invalid(
            "provider_states_url",
            format!("{url:?} is not an absolute URL"),
        )
    })?;
    let body = json!({"state": state.name, "params": state.params, "action": "setup"});
    let response = client
        .post(target.clone())
        .headers(provider.headers())
        .json(&body)
        .timeout(provider.timeout())
        .send()
        .await
        .map_err(|err| ActionError::Failed(describe(&err, &Method::POST, &target)))?;
    if !response.status().is_success() {
        return Err(ActionError::Failed(format!(
            "setting up provider state {:?} at {target} answered {}",
            state.name,
            response.status()
        )));
    }
    Ok(())
}

/// What a mismatch says, with where it is (`body $.total: ...`, `status: ...`).
fn describe_mismatch(mismatch: &Mismatch) -> String {
    match mismatch {
        Mismatch::BodyMismatch { path, .. } => format!("body {path}: {}", mismatch.description()),
        Mismatch::StatusMismatch { .. } => format!("status: {}", mismatch.description()),
        Mismatch::HeaderMismatch { key, .. } => format!("header {key}: {}", mismatch.description()),
        _ => mismatch.description(),
    }
}

/// Sends a contract's request to the provider and reads the answer as Pact does.
async fn replay(
    provider: &QueryApi,
    client: &reqwest::Client,
    request: &HttpRequest,
) -> Result<HttpResponse, ActionError> {
    let mut url = provider.endpoint(&request.path);
    if let Some(query) = &request.query {
        let mut pairs = url.query_pairs_mut();
        for (name, values) in query {
            for value in values {
                pairs.append_pair(name, value.as_deref().unwrap_or_default());
            }
        }
    }
    let method = Method::from_bytes(request.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| ActionError::Failed(format!("{:?} is not an HTTP method", request.method)))?;
    let mut builder = client
        .request(method.clone(), url.clone())
        .headers(provider.headers());
    for (name, values) in request.headers.iter().flatten() {
        for value in values {
            builder = builder.header(name.as_str(), value.as_str());
        }
    }
    if let Some(body) = request.body.value() {
        builder = builder.body(body.to_vec());
    }
    let response = builder
        .timeout(provider.timeout())
        .send()
        .await
        .map_err(|err| ActionError::Failed(describe(&err, &method, &url)))?;
    let status = response.status().as_u16();
    let mut headers = std::collections::HashMap::<String, Vec<String>>::new();
    for (name, value) in response.headers() {
        headers
            .entry(name.as_str().to_string())
            .or_default()
            .push(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    let content_type = headers
        .get("content-type")
        .and_then(|values| values.first())
        .and_then(|text| ContentType::parse(text.as_str()).ok());
    let bytes = response
        .bytes()
        .await
        .map_err(|err| ActionError::Failed(describe(&err, &method, &url)))?;
    let body = if bytes.is_empty() {
        OptionalBody::Empty
    } else {
        OptionalBody::Present(bytes, content_type, None)
    };
    Ok(HttpResponse {
        status,
        headers: Some(headers),
        body,
        ..HttpResponse::default()
    })
}
