//! The endpoint model, as flow files and mock files write it (snake_case keys):
//! `endpoints[] {path, method, match{path_pattern, headers, query_params, body_json},
//! state{state_key, initial_value, update_rule, value},
//! response{status_code, headers, body_json | body_text | body, delay_ms}}`.

use indexmap::IndexMap;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::flow::source::kind_of;

/// A mock server's description: its endpoints, tried in order.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MockSpec {
    pub endpoints: Vec<Endpoint>,
}

impl MockSpec {
    /// Reads a spec from JSON data, naming the path of a wrong field
    /// (`endpoints[0].response.status_code`) after `prefix`.
    pub fn from_value(value: Value, prefix: &str) -> Result<Self, crate::mock::MockError> {
        serde_path_to_error::deserialize(value).map_err(|err| {
            let path = err.path().to_string();
            let field = match (prefix.is_empty(), path.as_str()) {
                (_, ".") => prefix.trim_end_matches('.').to_string(),
                (true, _) => path,
                (false, _) => format!("{prefix}{path}"),
            };
            crate::mock::MockError::invalid(field, err.into_inner().to_string())
        })
    }
}

/// One endpoint: which requests it takes and what it answers.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// A path template (`/users/{id}`, `/users/:id`, `/files/*`); optional when
    /// `match.path_pattern` is given.
    #[serde(default)]
    pub path: Option<String>,
    /// The HTTP method, any case; absent or `*` takes every method.
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default, rename = "match")]
    pub matcher: EndpointMatch,
    /// Answer at most this many requests, then let later endpoints take them: a way to mock a
    /// service that fails a few times, or a job that is pending before it is done.
    #[serde(default)]
    pub times: Option<usize>,
    /// A named value the server keeps, changed by each request this endpoint answers.
    #[serde(default)]
    pub state: Option<EndpointState>,
    #[serde(default)]
    pub response: MockResponse,
}

impl Endpoint {
    /// `GET /users/{id}`, for listings and 404 answers.
    pub fn summary(&self) -> String {
        let method = match self.method.as_deref() {
            None | Some("*") => "ANY".to_string(),
            Some(method) => method.to_ascii_uppercase(),
        };
        let path = match (&self.path, &self.matcher.path_pattern) {
            (Some(path), _) => path.clone(),
            (None, Some(pattern)) => format!("~{pattern}"),
            (None, None) => "(no path)".to_string(),
        };
        format!("{method} {path}")
    }

    /// Whether `other` takes the requests this one takes: the same method (in any case; none
    /// and `*` alike), path and `match`.
    pub fn takes_the_same_requests(&self, other: &Endpoint) -> bool {
        let method = |endpoint: &Endpoint| match endpoint.method.as_deref().map(str::trim) {
            None | Some("*") | Some("") => None,
            Some(method) => Some(method.to_ascii_uppercase()),
        };
        method(self) == method(other) && self.path == other.path && self.matcher == other.matcher
    }
}

/// Extra conditions a request must meet.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointMatch {
    /// A regular expression the whole path must match.
    #[serde(default)]
    pub path_pattern: Option<String>,
    /// Header values, by name in any case.
    #[serde(default, deserialize_with = "scalar_map")]
    pub headers: IndexMap<String, String>,
    /// Query parameter values.
    #[serde(default, deserialize_with = "scalar_map")]
    pub query_params: IndexMap<String, String>,
    /// JSON the request body must contain (a subset match).
    #[serde(default)]
    pub body_json: Option<Value>,
}

/// How a stateful endpoint changes the server's state value `state_key` (shared by every
/// endpoint naming it) before it answers: `increment`, `decrement`, `set` (to `value`), or
/// no rule to only read it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointState {
    pub state_key: String,
    /// The value before the first request, and again after a reset.
    #[serde(default)]
    pub initial_value: Value,
    #[serde(default)]
    pub update_rule: Option<String>,
    /// The new value for `set`; it may hold response templates.
    #[serde(default)]
    pub value: Option<Value>,
}

/// The canned answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MockResponse {
    #[serde(default = "default_status")]
    pub status_code: u16,
    #[serde(default, deserialize_with = "scalar_map")]
    pub headers: IndexMap<String, String>,
    /// Sent as JSON.
    #[serde(default)]
    pub body_json: Option<Value>,
    /// Sent as text.
    #[serde(default)]
    pub body_text: Option<String>,
    /// A string is sent as it is, anything else as JSON.
    #[serde(default)]
    pub body: Option<Value>,
    /// How long to wait before answering.
    #[serde(default)]
    pub delay_ms: u64,
}

impl Default for MockResponse {
    fn default() -> Self {
        Self {
            status_code: default_status(),
            headers: IndexMap::new(),
            body_json: None,
            body_text: None,
            body: None,
            delay_ms: 0,
        }
    }
}

fn default_status() -> u16 {
    200
}

/// A map whose values may be strings, numbers or booleans, kept as text.
pub(crate) fn scalar_map<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<IndexMap<String, String>, D::Error> {
    let raw = IndexMap::<String, Value>::deserialize(deserializer)?;
    raw.into_iter()
        .map(|(name, value)| {
            let text = match value {
                Value::String(text) => text,
                Value::Number(number) => number.to_string(),
                Value::Bool(flag) => flag.to_string(),
                other => {
                    return Err(serde::de::Error::custom(format!(
                        "the value of {name:?} must be a string, number or boolean, found {}",
                        kind_of(&other)
                    )));
                }
            };
            Ok((name, text))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_documented_keys_with_defaults() {
        let spec = MockSpec::from_value(
            json!({"endpoints": [
                {"path": "/users/{id}", "method": "get",
                 "match": {"headers": {"X-Version": 2}, "query_params": {"full": true}},
                 "response": {"status_code": 201, "headers": {"X-Count": 3}, "body_json": {"id": 1}, "delay_ms": 5}},
                {"path": "/any"}
            ]}),
            "",
        )
        .unwrap();
        let first = &spec.endpoints[0];
        assert_eq!(first.matcher.headers["X-Version"], "2");
        assert_eq!(first.matcher.query_params["full"], "true");
        assert_eq!(first.response.headers["X-Count"], "3");
        assert_eq!(first.summary(), "GET /users/{id}");
        assert_eq!(spec.endpoints[1].response.status_code, 200);
        assert_eq!(spec.endpoints[1].summary(), "ANY /any");
    }

    #[test]
    fn a_wrong_field_is_named_by_its_path() {
        let err = MockSpec::from_value(
            json!({"endpoints": [{"path": "/a"}, {"path": "/b", "response": {"status": 404}}]}),
            "mock.",
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("mock.endpoints[1].response.status: unknown field `status`"),
            "{text}"
        );
    }
}
