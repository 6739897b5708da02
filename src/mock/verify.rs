//! Checking what a mock server received: how many of its recorded requests meet a description
//! (method, path, headers, query, body), against an exact count or bounds. When the count is
//! wrong the message lists every request the server did get, each with why it was not counted,
//! so a test that fails here shows what the service under test really sent.

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value;

use super::error::MockError;
use super::matching::{IncomingRequest, RequestConditions, RequestMatcher};
use super::model::{EndpointMatch, scalar_map};
use super::server::RecordedRequest;

/// How many matching requests a check wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    Exactly(usize),
    Between {
        at_least: usize,
        at_most: Option<usize>,
    },
}

impl Expected {
    fn holds(self, count: usize) -> bool {
        match self {
            Expected::Exactly(times) => count == times,
            Expected::Between { at_least, at_most } => {
                count >= at_least && at_most.is_none_or(|most| count <= most)
            }
        }
    }

    /// `exactly 2`, `at least 1`, `at most 3`, `between 1 and 3`.
    pub fn describe(self) -> String {
        match self {
            Expected::Exactly(times) => format!("exactly {times}"),
            Expected::Between {
                at_least,
                at_most: None,
            } => format!("at least {at_least}"),
            Expected::Between {
                at_least: 0,
                at_most: Some(most),
            } => format!("at most {most}"),
            Expected::Between {
                at_least,
                at_most: Some(most),
            } => format!("between {at_least} and {most}"),
        }
    }
}

/// One check as a flow writes it (snake_case keys, with the names the original platform's
/// documents and editor used as aliases).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckSpec {
    #[serde(default)]
    method: Option<String>,
    /// `endpoint` is the original platform's editor's name for it.
    #[serde(default, alias = "endpoint")]
    path: Option<String>,
    #[serde(default)]
    path_pattern: Option<String>,
    #[serde(default, deserialize_with = "scalar_map")]
    headers: IndexMap<String, String>,
    #[serde(default, alias = "query", deserialize_with = "scalar_map")]
    query_params: IndexMap<String, String>,
    #[serde(default)]
    body_json: Option<Value>,
    /// Text is the exact body; anything else is JSON the body must contain.
    #[serde(default)]
    body: Option<Value>,
    #[serde(default, alias = "count", alias = "expected_calls")]
    times: Option<usize>,
    #[serde(default, alias = "count_min", alias = "min_times")]
    at_least: Option<usize>,
    #[serde(default, alias = "count_max", alias = "max_times")]
    at_most: Option<usize>,
}

/// A description of requests and how many of them a mock server should have received.
#[derive(Debug, Clone)]
pub struct RequestCheck {
    matcher: RequestMatcher,
    expected: Expected,
}

/// What a check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutcome {
    /// How many recorded requests met the description.
    pub matched: usize,
    /// The description and the count wanted, for results: `exactly 2 × POST /orders`.
    pub described: String,
}

impl RequestCheck {
    /// Reads a check from its config; an error names the field after `prefix`
    /// (`assertions[1].times`) and the wrong value.
    pub fn from_value(value: Value, prefix: &str) -> Result<Self, MockError> {
        let spec: CheckSpec = serde_path_to_error::deserialize(value).map_err(|err| {
            let path = err.path().to_string();
            let field = match path.as_str() {
                "." => prefix.trim_end_matches('.').to_string(),
                _ => format!("{prefix}{path}"),
            };
            MockError::invalid(field, err.into_inner().to_string())
        })?;
        let field = |key: &str| format!("{prefix}{key}");
        let (body_json, body_text) = match (spec.body_json, spec.body) {
            (Some(_), Some(_)) => {
                return Err(MockError::invalid(
                    field("body"),
                    "set `body` or `body_json`, not both",
                ));
            }
            (Some(json), None) | (None, Some(json @ (Value::Object(_) | Value::Array(_)))) => {
                (Some(json), None)
            }
            (None, Some(Value::String(text))) => (None, Some(text)),
            (None, Some(other)) => (Some(other), None),
            (None, None) => (None, None),
        };
        let expected = match (spec.times, spec.at_least, spec.at_most) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(MockError::invalid(
                    field("times"),
                    "set `times` (an exact count) or `at_least`/`at_most`, not both",
                ));
            }
            (Some(times), None, None) => Expected::Exactly(times),
            (None, Some(least), Some(most)) if least > most => {
                return Err(MockError::invalid(
                    field("at_least"),
                    format!("{least} is more than at_most ({most})"),
                ));
            }
            (None, None, None) => Expected::Between {
                at_least: 1,
                at_most: None,
            },
            (None, at_least, at_most) => Expected::Between {
                at_least: at_least.unwrap_or(0),
                at_most,
            },
        };
        let conditions = EndpointMatch {
            path_pattern: spec.path_pattern,
            headers: spec.headers,
            query_params: spec.query_params,
            body_json,
        };
        let described = RequestConditions {
            method: spec.method.as_deref(),
            path: spec.path.as_deref(),
            conditions: &conditions,
            body_text: body_text.as_deref(),
        };
        let field_prefix = prefix.trim_end_matches('.');
        let matcher = RequestMatcher::compile(&described, field_prefix, field_prefix).map_err(
            |err| match err {
                MockError::InvalidConfig { field, message } => MockError::InvalidConfig {
                    field: field.trim_start_matches('.').to_string(),
                    message,
                },
                other => other,
            },
        )?;
        Ok(Self { matcher, expected })
    }

    /// Counts the requests that meet the description; when the count is not the one wanted,
    /// the error lists every request received and why each was or was not counted.
    pub fn verify(&self, requests: &[RecordedRequest]) -> Result<CheckOutcome, String> {
        let reasons: Vec<Result<(), String>> = requests
            .iter()
            .map(|request| self.reason_it_is_not_counted(request))
            .collect();
        let matched = reasons.iter().filter(|reason| reason.is_ok()).count();
        let described = format!("{} × {}", self.expected.describe(), self.matcher.describe());
        if self.expected.holds(matched) {
            return Ok(CheckOutcome { matched, described });
        }
        let mut message = format!(
            "expected {} request(s) {}, the mock received {matched} that matched",
            self.expected.describe(),
            self.matcher.describe()
        );
        if requests.is_empty() {
            message.push_str("; it received no requests at all");
            return Err(message);
        }
        message.push_str(&format!("; the {} request(s) it received:", requests.len()));
        for (number, (request, reason)) in requests.iter().zip(&reasons).enumerate() {
            let verdict = match reason {
                Ok(()) => "matched".to_string(),
                Err(reason) => reason.clone(),
            };
            message.push_str(&format!(
                "\n  {}. {}: {verdict}",
                number + 1,
                request.summary()
            ));
        }
        Err(message)
    }

    fn reason_it_is_not_counted(&self, request: &RecordedRequest) -> Result<(), String> {
        let query = request.query_pairs();
        let incoming = IncomingRequest {
            method: &request.method,
            path: &request.path,
            query: &query,
            headers: &request.headers,
            body: &request.body,
        };
        self.matcher.check(&incoming).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Bytes;
    use axum::http::{HeaderMap, HeaderValue};
    use serde_json::json;

    fn request(method: &str, path: &str, body: &str) -> RecordedRequest {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        RecordedRequest {
            method: method.into(),
            path: path.into(),
            query: String::new(),
            headers,
            body: Bytes::from(body.to_string()),
            endpoint: None,
            params: IndexMap::new(),
        }
    }

    #[test]
    fn counts_by_method_path_header_and_body() {
        let check = RequestCheck::from_value(
            json!({"method": "post", "path": "/orders/{id}", "headers": {"Content-Type": "application/json"},
                   "body": {"sku": "A-1"}, "times": 2}),
            "",
        )
        .unwrap();
        let requests = [
            request("POST", "/orders/1", r#"{"sku": "A-1", "qty": 2}"#),
            request("POST", "/orders/2", r#"{"sku": "A-1"}"#),
            request("GET", "/orders/1", ""),
        ];
        let outcome = check.verify(&requests).unwrap();
        assert_eq!(outcome.matched, 2);
        assert_eq!(
            outcome.described,
            r#"exactly 2 × POST /orders/{id} with header content-type: "application/json" with a JSON body containing {"sku":"A-1"}"#
        );
        let err = check.verify(&requests[..1]).unwrap_err();
        assert!(
            err.starts_with("expected exactly 2 request(s) POST /orders/{id}"),
            "{err}"
        );
        assert!(
            err.ends_with(r#"1. POST /orders/1 {"sku": "A-1", "qty": 2}: matched"#),
            "{err}"
        );
    }

    #[test]
    fn bounds_and_their_aliases() {
        let at_least = RequestCheck::from_value(json!({"path": "/a", "count_min": 2}), "").unwrap();
        assert_eq!(
            at_least.expected,
            Expected::Between {
                at_least: 2,
                at_most: None
            }
        );
        let editor_form =
            RequestCheck::from_value(json!({"endpoint": "/a", "expected_calls": 2}), "").unwrap();
        assert_eq!(editor_form.expected, Expected::Exactly(2));
        assert!(editor_form.verify(&[request("GET", "/a", "")]).is_err());
        let default = RequestCheck::from_value(json!({"path": "/a"}), "").unwrap();
        assert_eq!(default.expected.describe(), "at least 1");
        let none = RequestCheck::from_value(json!({"path": "/a", "at_most": 0}), "").unwrap();
        assert!(none.verify(&[]).is_ok());
        let err = none.verify(&[request("GET", "/a", "")]).unwrap_err();
        assert!(err.contains("1. GET /a: matched"), "{err}");
        let text = RequestCheck::from_value(json!({"path": "/a", "body": "ping"}), "").unwrap();
        let err = text.verify(&[request("GET", "/a", "pong")]).unwrap_err();
        assert!(
            err.ends_with(r#"1. GET /a pong: the body is "pong", expected "ping""#),
            "{err}"
        );
    }

    #[test]
    fn wrong_checks_name_the_field() {
        let err = RequestCheck::from_value(json!({"path": "/a", "times": 1, "at_least": 1}), "")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "times: set `times` (an exact count) or `at_least`/`at_most`, not both"
        );
        let err = RequestCheck::from_value(json!({"path": "/a", "tims": 1}), "assertions[1].")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("assertions[1].tims: unknown field `tims`"),
            "{err}"
        );
        let err = RequestCheck::from_value(json!({"path": "a"}), "assertions[0].")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "assertions[0].path: \"a\" must start with /");
        let err = RequestCheck::from_value(json!({"path": "/a", "at_least": 3, "at_most": 1}), "")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "at_least: 3 is more than at_most (1)");
    }
}
