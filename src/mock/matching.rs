//! Deciding which endpoint answers a request: endpoints are checked once when a server starts
//! (templates parsed, regexes compiled, header names validated) and then tried in order; the
//! first whose method, path, headers, query and JSON body all agree wins. A request no endpoint
//! takes gets the reason each one refused it.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use indexmap::IndexMap;
use regex::Regex;
use serde_json::Value;

use super::error::MockError;
use super::model::{Endpoint, EndpointMatch, MockResponse};
use super::path::PathPattern;
use super::state::StateChange;
use super::template::response_has_templates;

/// The canned answer, ready to send.
#[derive(Debug, Clone)]
pub struct PreparedResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub delay_ms: u64,
}

/// The conditions a request must meet to be taken by an endpoint, or counted by a
/// `mock_server_verify` check; an absent condition takes every request.
#[derive(Debug, Clone)]
pub struct RequestMatcher {
    method: Option<String>,
    /// The template as written, and parsed.
    path: Option<(String, PathPattern)>,
    path_regex: Option<Regex>,
    headers: Vec<(HeaderName, String)>,
    query: Vec<(String, String)>,
    body_json: Option<Value>,
    /// The exact text of the body.
    body_text: Option<String>,
}

/// What a [`RequestMatcher`] is built from, as a flow or mock file writes it.
pub struct RequestConditions<'a> {
    pub method: Option<&'a str>,
    pub path: Option<&'a str>,
    pub conditions: &'a EndpointMatch,
    pub body_text: Option<&'a str>,
}

/// An endpoint checked and ready to match.
#[derive(Debug, Clone)]
pub struct CompiledEndpoint {
    pub summary: String,
    matcher: RequestMatcher,
    /// How many requests it answers at most.
    times: Option<usize>,
    /// How it changes the server's state before answering.
    pub state: Option<StateChange>,
    /// The answer when it holds no template to fill for each request.
    pub response: PreparedResponse,
    /// Whether the response holds templates, filled for each request.
    pub templated: bool,
}

/// The parts of a request that matching reads.
pub struct IncomingRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a [(String, String)],
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Why one endpoint did not take a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Miss {
    pub endpoint: usize,
    pub summary: String,
    pub reason: String,
}

/// The endpoint that takes a request, with the path parameters it captured.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub endpoint: usize,
    pub params: IndexMap<String, String>,
}

/// Checks every endpoint; an error names the endpoint's field and the wrong value.
pub fn compile(endpoints: &[Endpoint], prefix: &str) -> Result<Vec<CompiledEndpoint>, MockError> {
    endpoints
        .iter()
        .enumerate()
        .map(|(index, endpoint)| compile_one(endpoint, &format!("{prefix}endpoints[{index}]")))
        .collect()
}

fn compile_one(endpoint: &Endpoint, field: &str) -> Result<CompiledEndpoint, MockError> {
    let described = RequestConditions {
        method: endpoint.method.as_deref(),
        path: endpoint.path.as_deref(),
        conditions: &endpoint.matcher,
        body_text: None,
    };
    let matcher = RequestMatcher::compile(&described, field, &format!("{field}.match"))?;
    if matcher.path.is_none() && matcher.path_regex.is_none() {
        return Err(MockError::invalid(
            format!("{field}.path"),
            "is required (or set match.path_pattern)",
        ));
    }
    Ok(CompiledEndpoint {
        summary: endpoint.summary(),
        matcher,
        times: endpoint.times,
        state: endpoint
            .state
            .as_ref()
            .map(|state| StateChange::compile(state, field, &endpoint.summary()))
            .transpose()?,
        response: prepare_response(&endpoint.response, &format!("{field}.response"))?,
        templated: response_has_templates(&endpoint.response),
    })
}

impl RequestMatcher {
    /// Checks the conditions: an error names the field (`{field}.method`,
    /// `{conditions_field}.headers`) and the wrong value.
    pub fn compile(
        described: &RequestConditions<'_>,
        field: &str,
        conditions_field: &str,
    ) -> Result<Self, MockError> {
        let method = match described.method.map(str::trim) {
            None | Some("*") | Some("") => None,
            Some(method) if method.chars().all(|c| c.is_ascii_alphabetic()) => {
                Some(method.to_ascii_uppercase())
            }
            Some(method) => {
                return Err(MockError::invalid(
                    format!("{field}.method"),
                    format!("{method:?} is not an HTTP method"),
                ));
            }
        };
        let path = described
            .path
            .map(|template| {
                PathPattern::parse(template).map(|parsed| (template.to_string(), parsed))
            })
            .transpose()
            .map_err(|message| MockError::invalid(format!("{field}.path"), message))?;
        let conditions = described.conditions;
        let path_regex = conditions
            .path_pattern
            .as_deref()
            .map(|pattern| {
                Regex::new(&format!("^(?:{pattern})$")).map_err(|err| {
                    MockError::invalid(
                        format!("{conditions_field}.path_pattern"),
                        format!("invalid regular expression {pattern:?}: {err}"),
                    )
                })
            })
            .transpose()?;
        let headers = conditions
            .headers
            .iter()
            .map(|(name, value)| {
                Ok((
                    header_name(&format!("{conditions_field}.headers"), name)?,
                    value.clone(),
                ))
            })
            .collect::<Result<_, MockError>>()?;
        let query = conditions
            .query_params
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(Self {
            method,
            path,
            path_regex,
            headers,
            query,
            body_json: conditions.body_json.clone(),
            body_text: described.body_text.map(str::to_string),
        })
    }

    /// `POST /orders` (`ANY` without a method, `~pattern` for a path pattern, `(any path)`),
    /// followed by the other conditions, for messages.
    pub fn describe(&self) -> String {
        let method = self.method.as_deref().unwrap_or("ANY");
        let path = match (&self.path, &self.path_regex) {
            (Some((template, _)), _) => template.clone(),
            (None, Some(regex)) => format!("~{}", regex.as_str()),
            (None, None) => "(any path)".to_string(),
        };
        let mut text = format!("{method} {path}");
        for (name, value) in &self.headers {
            text.push_str(&format!(" with header {name}: {value:?}"));
        }
        for (name, value) in &self.query {
            text.push_str(&format!(" with query {name}={value:?}"));
        }
        if let Some(body) = &self.body_json {
            text.push_str(&format!(" with a JSON body containing {body}"));
        }
        if let Some(body) = &self.body_text {
            text.push_str(&format!(" with the body {body:?}"));
        }
        text
    }
}

fn header_name(field: &str, name: &str) -> Result<HeaderName, MockError> {
    HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
        MockError::invalid(
            format!("{field}.{name}"),
            format!("{name:?} is not a valid header name"),
        )
    })
}

/// Checks a response and makes it ready to send; an error names the field under `field`.
pub fn prepare_response(
    response: &MockResponse,
    field: &str,
) -> Result<PreparedResponse, MockError> {
    let status = StatusCode::from_u16(response.status_code)
        .ok()
        .filter(|status| status.as_u16() >= 100)
        .ok_or_else(|| {
            MockError::invalid(
                format!("{field}.status_code"),
                format!(
                    "{} is not an HTTP status code (100 to 999)",
                    response.status_code
                ),
            )
        })?;
    let given: Vec<&str> = [
        ("body_json", response.body_json.is_some()),
        ("body_text", response.body_text.is_some()),
        ("body", response.body.is_some()),
    ]
    .into_iter()
    .filter_map(|(key, set)| set.then_some(key))
    .collect();
    if given.len() > 1 {
        return Err(MockError::invalid(
            format!("{field}.{}", given[1]),
            format!(
                "set only one of body_json, body_text and body (found {})",
                given.join(" and ")
            ),
        ));
    }
    let json_text = |value: &Value| {
        serde_json::to_vec(value).map_err(|err| MockError::invalid(field, err.to_string()))
    };
    let (body, content_type) = match (&response.body_json, &response.body_text, &response.body) {
        (Some(value), _, _)
        | (
            _,
            _,
            Some(value @ (Value::Object(_) | Value::Array(_) | Value::Number(_) | Value::Bool(_))),
        ) => (json_text(value)?, Some("application/json")),
        (_, Some(text), _) | (_, _, Some(Value::String(text))) => {
            (text.clone().into_bytes(), Some("text/plain; charset=utf-8"))
        }
        _ => (Vec::new(), None),
    };
    let mut headers = HeaderMap::new();
    if let Some(content_type) = content_type {
        headers.insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static(content_type),
        );
    }
    for (name, value) in &response.headers {
        let header_field = format!("{field}.headers");
        let header = header_name(&header_field, name)?;
        let value = HeaderValue::from_str(value).map_err(|_| {
            MockError::invalid(
                format!("{header_field}.{name}"),
                format!("{value:?} is not a valid header value"),
            )
        })?;
        headers.insert(header, value);
    }
    Ok(PreparedResponse {
        status,
        headers,
        body,
        delay_ms: response.delay_ms,
    })
}

impl RequestMatcher {
    /// The captured path parameters when `request` meets the conditions, else why not.
    pub fn check(&self, request: &IncomingRequest<'_>) -> Result<IndexMap<String, String>, String> {
        if let Some(method) = &self.method
            && !method.eq_ignore_ascii_case(request.method)
        {
            return Err(format!("method {} is not {method}", request.method));
        }
        let mut params = IndexMap::new();
        if let Some((_, path)) = &self.path {
            params = path
                .matches(request.path)
                .ok_or_else(|| format!("path {} does not fit the template", request.path))?;
        }
        if let Some(regex) = &self.path_regex
            && !regex.is_match(request.path)
        {
            return Err(format!(
                "path {} does not match path_pattern {}",
                request.path,
                regex.as_str()
            ));
        }
        for (name, expected) in &self.headers {
            let found: Vec<&str> = request
                .headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            if !found.contains(&expected.as_str()) {
                return Err(missing_or_wrong("header", name.as_str(), &found, expected));
            }
        }
        for (name, expected) in &self.query {
            let found: Vec<&str> = request
                .query
                .iter()
                .filter(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
                .collect();
            if !found.contains(&expected.as_str()) {
                return Err(missing_or_wrong(
                    "query parameter",
                    name.as_str(),
                    &found,
                    expected,
                ));
            }
        }
        if let Some(expected) = &self.body_json {
            let body: Value = serde_json::from_slice(request.body)
                .map_err(|_| "the body is not JSON (match.body_json is set)".to_string())?;
            if !contains(&body, expected) {
                return Err(format!("the JSON body does not contain {expected}"));
            }
        }
        if let Some(expected) = &self.body_text
            && request.body != expected.as_bytes()
        {
            return Err(format!(
                "the body is {:?}, expected {expected:?}",
                String::from_utf8_lossy(request.body)
            ));
        }
        Ok(params)
    }
}

/// Why a header or query parameter did not fit: absent, or present with other values.
fn missing_or_wrong(kind: &str, name: &str, found: &[&str], expected: &str) -> String {
    if found.is_empty() {
        format!("{kind} {name} is missing (expected {expected:?})")
    } else {
        format!(
            "{kind} {name} is {:?}, expected {expected:?}",
            found.join(", ")
        )
    }
}

/// The first endpoint that takes `request`, or every endpoint's reason for refusing it.
/// `answered(i)` tells how many requests endpoint `i` has answered so far, for `times`.
pub fn find(
    endpoints: &[CompiledEndpoint],
    request: &IncomingRequest<'_>,
    answered: &dyn Fn(usize) -> usize,
) -> Result<Hit, Vec<Miss>> {
    let mut misses = Vec::with_capacity(endpoints.len());
    for (index, endpoint) in endpoints.iter().enumerate() {
        if let Some(times) = endpoint.times
            && answered(index) >= times
        {
            misses.push(Miss {
                endpoint: index,
                summary: endpoint.summary.clone(),
                reason: format!("it already answered its {times} times"),
            });
            continue;
        }
        match endpoint.matcher.check(request) {
            Ok(params) => {
                return Ok(Hit {
                    endpoint: index,
                    params,
                });
            }
            Err(reason) => misses.push(Miss {
                endpoint: index,
                summary: endpoint.summary.clone(),
                reason,
            }),
        }
    }
    Err(misses)
}

/// Whether `actual` contains `expected`: maps by their keys (recursively), lists item by item
/// with the same length, numbers by value (`1` equals `1.0`), other values by equality.
pub fn contains(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Object(actual), Value::Object(expected)) => expected
            .iter()
            .all(|(key, value)| actual.get(key).is_some_and(|found| contains(found, value))),
        (Value::Array(actual), Value::Array(expected)) => {
            actual.len() == expected.len()
                && actual.iter().zip(expected).all(|(a, e)| contains(a, e))
        }
        (Value::Number(actual), Value::Number(expected)) => actual.as_f64() == expected.as_f64(),
        _ => actual == expected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::model::MockSpec;
    use serde_json::json;

    fn endpoints(value: Value) -> Vec<CompiledEndpoint> {
        compile(
            &MockSpec::from_value(json!({ "endpoints": value }), "")
                .unwrap()
                .endpoints,
            "",
        )
        .unwrap()
    }

    fn request<'a>(
        method: &'a str,
        path: &'a str,
        headers: &'a HeaderMap,
        query: &'a [(String, String)],
        body: &'a [u8],
    ) -> IncomingRequest<'a> {
        IncomingRequest {
            method,
            path,
            query,
            headers,
            body,
        }
    }

    #[test]
    fn an_endpoint_with_times_hands_over_when_used_up() {
        let list = endpoints(json!([
            {"path": "/job", "times": 2, "response": {"status_code": 202}},
            {"path": "/job"}
        ]));
        let headers = HeaderMap::new();
        let incoming = request("GET", "/job", &headers, &[], b"");
        assert_eq!(find(&list, &incoming, &|_| 1).unwrap().endpoint, 0);
        let used_up = |i: usize| if i == 0 { 2 } else { 0 };
        assert_eq!(find(&list, &incoming, &used_up).unwrap().endpoint, 1);
    }

    #[test]
    fn first_matching_endpoint_wins_with_its_params() {
        let list = endpoints(json!([
            {"path": "/users/{id}", "method": "get"},
            {"path": "/users/:id"},
        ]));
        let headers = HeaderMap::new();
        let hit = find(
            &list,
            &request("GET", "/users/9", &headers, &[], b""),
            &|_| 0,
        )
        .unwrap();
        assert_eq!(hit.endpoint, 0);
        assert_eq!(hit.params["id"], "9");
        assert_eq!(
            find(
                &list,
                &request("DELETE", "/users/9", &headers, &[], b""),
                &|_| 0
            )
            .unwrap()
            .endpoint,
            1
        );
    }

    #[test]
    fn headers_match_by_name_in_any_case_and_query_by_value() {
        let list = endpoints(json!([
            {"path": "/x", "match": {"headers": {"X-Api-Version": 2}, "query_params": {"page": 1}}}
        ]));
        let mut headers = HeaderMap::new();
        headers.insert("x-api-version", HeaderValue::from_static("2"));
        let query = vec![("page".to_string(), "1".to_string())];
        assert!(find(&list, &request("GET", "/x", &headers, &query, b""), &|_| 0).is_ok());
        let misses = find(
            &list,
            &request("GET", "/x", &HeaderMap::new(), &query, b""),
            &|_| 0,
        )
        .unwrap_err();
        assert_eq!(
            misses[0].reason,
            "header x-api-version is missing (expected \"2\")"
        );
        let other = vec![("page".to_string(), "2".to_string())];
        let misses = find(&list, &request("GET", "/x", &headers, &other, b""), &|_| 0).unwrap_err();
        assert_eq!(
            misses[0].reason,
            "query parameter page is \"2\", expected \"1\""
        );
    }

    #[test]
    fn path_pattern_and_body_json_subsets() {
        let list = endpoints(json!([
            {"match": {"path_pattern": "/orders/[0-9]+", "body_json": {"customer": {"id": 1}, "items": [{"sku": "a"}]}}}
        ]));
        let headers = HeaderMap::new();
        let body = br#"{"customer": {"id": 1.0, "name": "Ada"}, "items": [{"sku": "a", "qty": 2}], "note": "x"}"#;
        assert!(
            find(
                &list,
                &request("POST", "/orders/12", &headers, &[], body),
                &|_| 0
            )
            .is_ok()
        );
        let misses = find(
            &list,
            &request("POST", "/orders/12x", &headers, &[], body),
            &|_| 0,
        )
        .unwrap_err();
        assert!(
            misses[0].reason.contains("does not match path_pattern"),
            "{misses:?}"
        );
        let misses = find(
            &list,
            &request(
                "POST",
                "/orders/12",
                &headers,
                &[],
                br#"{"customer": {"id": 2}}"#,
            ),
            &|_| 0,
        )
        .unwrap_err();
        assert!(
            misses[0]
                .reason
                .starts_with("the JSON body does not contain"),
            "{misses:?}"
        );
        let misses = find(
            &list,
            &request("POST", "/orders/12", &headers, &[], b"nope"),
            &|_| 0,
        )
        .unwrap_err();
        assert_eq!(
            misses[0].reason,
            "the body is not JSON (match.body_json is set)"
        );
    }

    #[test]
    fn subset_rules() {
        assert!(contains(
            &json!({"a": 1, "b": [1, 2]}),
            &json!({"b": [1, 2]})
        ));
        assert!(!contains(&json!({"b": [1, 2, 3]}), &json!({"b": [1, 2]})));
        assert!(!contains(&json!({"a": "1"}), &json!({"a": 1})));
        assert!(contains(&json!(null), &json!(null)));
    }

    #[test]
    fn bad_endpoints_name_their_index_and_value() {
        let spec = MockSpec::from_value(
            json!({"endpoints": [{"path": "/ok"}, {"path": "/x", "match": {"path_pattern": "(unclosed"}}]}),
            "",
        )
        .unwrap();
        let err = compile(&spec.endpoints, "").unwrap_err().to_string();
        assert!(
            err.starts_with(
                "endpoints[1].match.path_pattern: invalid regular expression \"(unclosed\""
            ),
            "{err}"
        );
        let spec = MockSpec::from_value(json!({"endpoints": [{"method": "GET"}]}), "").unwrap();
        assert_eq!(
            compile(&spec.endpoints, "").unwrap_err().to_string(),
            "endpoints[0].path: is required (or set match.path_pattern)"
        );
        let spec = MockSpec::from_value(
            json!({"endpoints": [{"path": "/a", "response": {"status_code": 42}}]}),
            "",
        )
        .unwrap();
        assert_eq!(
            compile(&spec.endpoints, "").unwrap_err().to_string(),
            "endpoints[0].response.status_code: 42 is not an HTTP status code (100 to 999)"
        );
    }
}
