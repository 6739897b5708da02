//! `record_contract` of `mock_server_start`: what a mock answered, as a Pact contract. A
//! consumer flow run against the mock leaves behind the contract its provider must honour:
//! each request an endpoint answered (method, path, query, `Content-Type`, body) with the
//! answer (status, `Content-Type`, body), written when the server stops.

use std::path::PathBuf;

use serde_json::{Map, Value, json};

use super::ActionError;
use super::contract::write;
use crate::mock::{Answer, RecordedRequest};

/// Where a mock's contract goes, and whose it is.
#[derive(Debug, Clone)]
pub struct ContractTarget {
    pub path: PathBuf,
    pub consumer: String,
    pub provider: String,
}

impl ContractTarget {
    /// Writes the contract of `exchanges`, those an endpoint answered; the result names the
    /// file and counts the interactions.
    pub fn write(
        &self,
        exchanges: &[(RecordedRequest, Option<Answer>)],
    ) -> Result<Map<String, Value>, ActionError> {
        let interactions: Vec<Value> = exchanges
            .iter()
            .filter_map(|(request, answer)| Some(interaction(request, answer.as_ref()?)))
            .collect();
        write(&self.path, &self.consumer, &self.provider, interactions)
    }
}

/// One exchange in Pact's JSON shape.
fn interaction(request: &RecordedRequest, answer: &Answer) -> Value {
    let content_type = |headers: &reqwest::header::HeaderMap| {
        headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    };
    let body = |bytes: &[u8]| -> Option<Value> {
        if bytes.is_empty() {
            return None;
        }
        Some(
            serde_json::from_slice(bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned())),
        )
    };
    let mut sent = json!({"method": request.method, "path": request.path});
    let mut query = Map::new();
    for (name, value) in request.query_pairs() {
        if let Value::Array(values) = query.entry(name).or_insert_with(|| json!([])) {
            values.push(Value::String(value));
        }
    }
    if !query.is_empty() {
        sent["query"] = Value::Object(query);
    }
    if let Some(content_type) = content_type(&request.headers) {
        sent["headers"] = json!({"Content-Type": content_type});
    }
    if let Some(body) = body(&request.body) {
        sent["body"] = body;
    }
    let mut answered = json!({"status": answer.status});
    if let Some(content_type) = content_type(&answer.headers) {
        answered["headers"] = json!({"Content-Type": content_type});
    }
    if let Some(body) = body(&answer.body) {
        answered["body"] = body;
    }
    json!({"request": sent, "response": answered})
}
