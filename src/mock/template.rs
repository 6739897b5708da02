//! Response templates: `{{request.body.name}}` or `${state.counter}` in an endpoint's response,
//! filled for each request the mock answers from what that request holds (`request.method`,
//! `path`, `query.X`, `headers.X` in any case, `body...`, `path_params.X`) and from the server's
//! state values (`state.KEY`). A string that is exactly one template keeps the value's type; a
//! template naming something absent is null there, and empty text inside longer text.
//! References with other roots are left as written.

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::model::MockResponse;
use super::server::RecordedRequest;
use crate::flow::expression::text_of;
use crate::flow::path::{Segment, parse_dotted};
use crate::flow::reference::{Piece, exact_reference, parse_template, root_of};

/// The names a response template starts with.
pub const TEMPLATE_ROOTS: [&str; 2] = ["request", "state"];

/// What templates read: the request answered and the server's state values.
pub struct TemplateContext {
    values: Value,
}

impl TemplateContext {
    pub fn new(request: &RecordedRequest, state: &Map<String, Value>) -> Self {
        let mut values = Map::new();
        values.insert("request".into(), request_values(request));
        values.insert("state".into(), Value::Object(state.clone()));
        Self {
            values: Value::Object(values),
        }
    }

    /// The value `name` (`request.body.name`) refers to, null when there is none.
    fn lookup(&self, name: &str) -> Value {
        let Ok(segments) = parse_dotted(name) else {
            return Value::Null;
        };
        let mut current = &self.values;
        for (depth, segment) in segments.iter().enumerate() {
            let in_headers = depth == 2
                && matches!(&segments[..2], [Segment::Key(root), Segment::Key(part)]
                    if root == "request" && part == "headers");
            let next = match (segment, current) {
                (Segment::Key(key), Value::Object(map)) if in_headers => {
                    map.get(&key.to_ascii_lowercase())
                }
                (Segment::Key(key), Value::Object(map)) => map.get(key),
                (Segment::Index(index), Value::Array(items)) => items.get(*index),
                _ => None,
            };
            match next {
                Some(value) => current = value,
                None => return Value::Null,
            }
        }
        current.clone()
    }

    /// `value` with the templates in its strings filled.
    pub fn render(&self, value: &Value) -> Value {
        match value {
            Value::String(text) => self.render_text(text),
            Value::Array(items) => {
                Value::Array(items.iter().map(|item| self.render(item)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(key, item)| (key.clone(), self.render(item)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn render_text(&self, text: &str) -> Value {
        if let Some(name) = exact_reference(text) {
            return if is_template(name) {
                self.lookup(name)
            } else {
                Value::String(text.to_string())
            };
        }
        let mut out = String::with_capacity(text.len());
        for piece in parse_template(text) {
            match piece {
                Piece::Text(part) => out.push_str(&part),
                Piece::Reference(name) if is_template(name) => {
                    out.push_str(&text_of(&self.lookup(name)));
                }
                Piece::Reference(name) => {
                    out.push_str("${");
                    out.push_str(name);
                    out.push('}');
                }
            }
        }
        Value::String(out)
    }

    /// `response` with its body and header values filled.
    pub fn render_response(&self, response: &MockResponse) -> MockResponse {
        let text = |value: Value| text_of(&value);
        MockResponse {
            status_code: response.status_code,
            headers: response
                .headers
                .iter()
                .map(|(name, value)| (name.clone(), text(self.render_text(value))))
                .collect(),
            body_json: response.body_json.as_ref().map(|value| self.render(value)),
            body_text: response
                .body_text
                .as_ref()
                .map(|value| text(self.render_text(value))),
            body: response.body.as_ref().map(|value| self.render(value)),
            delay_ms: response.delay_ms,
        }
    }
}

/// Whether the reference `name` is a response template.
pub fn is_template(name: &str) -> bool {
    TEMPLATE_ROOTS.contains(&root_of(name))
}

/// Whether a response has a template to fill.
pub fn response_has_templates(response: &MockResponse) -> bool {
    let texts = response
        .headers
        .values()
        .chain(response.body_text.as_ref())
        .any(|text| text_has_templates(text));
    texts
        || [&response.body_json, &response.body]
            .into_iter()
            .flatten()
            .any(value_has_templates)
}

/// Whether a template appears in a string of `value`.
pub fn value_has_templates(value: &Value) -> bool {
    match value {
        Value::String(text) => text_has_templates(text),
        Value::Array(items) => items.iter().any(value_has_templates),
        Value::Object(map) => map.values().any(value_has_templates),
        _ => false,
    }
}

fn text_has_templates(text: &str) -> bool {
    parse_template(text)
        .iter()
        .any(|piece| matches!(piece, Piece::Reference(name) if is_template(name)))
}

/// The request as templates see it: `method`, `path`, `query` (each name's first value),
/// `headers` (names in lower case), `body` (JSON when it parses, else text; null when empty)
/// and `path_params`.
fn request_values(request: &RecordedRequest) -> Value {
    let mut values = match request.to_json() {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let mut query = IndexMap::new();
    for (name, value) in request.query_pairs() {
        query.entry(name).or_insert(value);
    }
    values.insert(
        "query".into(),
        Value::Object(
            query
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        ),
    );
    let params = request
        .params
        .iter()
        .map(|(name, value)| (name.clone(), Value::String(value.clone())))
        .collect();
    values.insert("path_params".into(), Value::Object(params));
    Value::Object(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;
    use serde_json::json;

    fn context() -> TemplateContext {
        let mut headers = HeaderMap::new();
        headers.insert("X-Trace-Id", "t-9".parse().unwrap());
        let request = RecordedRequest {
            method: "POST".into(),
            path: "/users/42".into(),
            query: "page=2&page=3".into(),
            headers,
            body: br#"{"name":"Ada","tags":["x"]}"#.to_vec().into(),
            endpoint: Some(0),
            params: IndexMap::from([("id".to_string(), "42".to_string())]),
        };
        let state = json!({"counter": 3}).as_object().unwrap().clone();
        TemplateContext::new(&request, &state)
    }

    #[test]
    fn whole_templates_keep_their_type_and_text_templates_become_text() {
        let rendered = context().render(&json!({
            "count": "{{state.counter}}",
            "name": "${request.body.name}",
            "tag": "{{request.body.tags[0]}}",
            "line": "{{request.method}} {{request.path}} #{{request.path_params.id}} p{{request.query.page}}",
            "trace": "{{request.headers.x-trace-ID}}",
            "other": "${base_url}/x",
        }));
        assert_eq!(
            rendered,
            json!({
                "count": 3,
                "name": "Ada",
                "tag": "x",
                "line": "POST /users/42 #42 p2",
                "trace": "t-9",
                "other": "${base_url}/x",
            })
        );
    }

    #[test]
    fn absent_names_are_null_alone_and_empty_in_text() {
        let rendered =
            context().render(&json!(["{{request.body.missing}}", "a{{state.nothing}}b"]));
        assert_eq!(rendered, json!([null, "ab"]));
    }

    #[test]
    fn only_request_and_state_are_templates() {
        let response = |body: Value| MockResponse {
            body_json: Some(body),
            ..MockResponse::default()
        };
        assert!(response_has_templates(&response(
            json!({"a": ["{{state.x}}"]})
        )));
        assert!(!response_has_templates(&response(
            json!({"a": "${base_url}"})
        )));
    }
}
