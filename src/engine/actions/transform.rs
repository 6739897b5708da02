//! `transform`: builds new values from `input`. Each entry of `transforms` is a path into the
//! input (JSONPath or dotted, as in captures) or, when it is not one, a literal value.

use serde_json::{Map, Value};

use super::{ActionError, ActionOutput};
use crate::engine::capture::capture;
use crate::flow::path::CapturePath;

pub fn execute(config: &Map<String, Value>) -> Result<ActionOutput, ActionError> {
    let input = config.get("input").cloned().unwrap_or(Value::Null);
    let Some(transforms) = config.get("transforms") else {
        return Err(ActionError::invalid("transforms", "is required"));
    };
    let Value::Object(transforms) = transforms else {
        return Err(ActionError::invalid(
            "transforms",
            format!("expected a map of name to path, found {transforms}"),
        ));
    };
    let source = match input {
        Value::Object(_) => input,
        other => Value::Object(Map::from_iter([("input".to_string(), other)])),
    };
    let mut result = Map::new();
    for (name, spec) in transforms {
        let value = match spec {
            Value::String(text) => match CapturePath::parse(text) {
                Ok(path) => match capture(&source, &path) {
                    Ok(found) => found,
                    Err(err) if text.trim_start().starts_with('$') => {
                        return Err(ActionError::invalid(format!("transforms.{name}"), err));
                    }
                    Err(_) => spec.clone(),
                },
                Err(err) if text.trim_start().starts_with('$') => {
                    return Err(ActionError::invalid(format!("transforms.{name}"), err));
                }
                Err(_) => spec.clone(),
            },
            literal => literal.clone(),
        };
        result.insert(name.clone(), value);
    }
    Ok(ActionOutput::from_result(result))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(config: Value) -> Result<Value, ActionError> {
        execute(config.as_object().unwrap()).map(|out| Value::Object(out.result))
    }

    #[test]
    fn maps_paths_and_keeps_literals() {
        let out = run(json!({
            "input": {"user": {"id": 7, "tags": ["a", "b"]}},
            "transforms": {"id": "user.id", "first": "$.user.tags[0]", "kind": "customer", "n": 3}
        }))
        .unwrap();
        assert_eq!(
            out,
            json!({"id": 7, "first": "a", "kind": "customer", "n": 3})
        );
    }

    #[test]
    fn a_jsonpath_that_finds_nothing_is_an_error() {
        let err = run(json!({"input": {"a": 1}, "transforms": {"x": "$.b"}})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "config.transforms.x: JSONPath $.b matched nothing in the result or its body"
        );
        assert!(
            run(json!({"input": {}}))
                .unwrap_err()
                .to_string()
                .contains("transforms")
        );
    }
}
