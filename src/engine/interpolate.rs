//! Replaces references in config values. A string that is exactly one reference takes the
//! value's own type (number, map, list); a reference inside longer text becomes text. A
//! reference that does not resolve is an error naming the field and the name.

use serde_json::{Map, Value};

use super::variables::{LookupError, Variables};
use crate::flow::expression::text_of;
use crate::flow::reference::{Piece, exact_reference, parse_template};

/// A reference that did not resolve, and the field it stood in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {cause}")]
pub struct InterpolationError {
    /// Where the reference stood, e.g. `config.headers.Authorization`.
    pub field: String,
    pub cause: LookupError,
}

/// Interpolates every string inside `value`; `field` names where `value` sits, for errors.
pub fn interpolate(
    value: &Value,
    vars: &Variables,
    field: &str,
) -> Result<Value, InterpolationError> {
    match value {
        Value::String(text) => interpolate_text(text, vars, field),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(index, item)| interpolate(item, vars, &format!("{field}[{index}]")))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::Object(map) => interpolate_map(map, vars, field).map(Value::Object),
        other => Ok(other.clone()),
    }
}

/// Interpolates the values (and keys) of a map.
pub fn interpolate_map(
    map: &Map<String, Value>,
    vars: &Variables,
    field: &str,
) -> Result<Map<String, Value>, InterpolationError> {
    let mut out = Map::with_capacity(map.len());
    for (key, item) in map {
        let child = if field.is_empty() {
            key.clone()
        } else {
            format!("{field}.{key}")
        };
        let key = match interpolate_text(key, vars, &child)? {
            Value::String(s) => s,
            other => text_of(&other),
        };
        out.insert(key, interpolate(item, vars, &child)?);
    }
    Ok(out)
}

/// Interpolates one string.
pub fn interpolate_text(
    text: &str,
    vars: &Variables,
    field: &str,
) -> Result<Value, InterpolationError> {
    if !text.contains("${") && !text.contains("{{") {
        return Ok(Value::String(text.to_string()));
    }
    let fail = |cause| InterpolationError {
        field: field.to_string(),
        cause,
    };
    if let Some(name) = exact_reference(text) {
        return vars.lookup(name).map_err(fail);
    }
    let mut out = String::with_capacity(text.len());
    for piece in parse_template(text) {
        match piece {
            Piece::Text(t) => out.push_str(&t),
            Piece::Reference(name) => out.push_str(&text_of(&vars.lookup(name).map_err(fail)?)),
        }
    }
    Ok(Value::String(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> Variables {
        let mut vars = Variables::new("f", "e");
        vars.set("n", json!(5));
        vars.set("user", json!({"id": 7, "tags": ["a"]}));
        vars.set("host", json!("api.local"));
        vars
    }

    #[test]
    fn exact_references_keep_their_type() {
        let cases = [
            (json!("${n}"), json!(5)),
            (json!("{{n}}"), json!(5)),
            (json!("${user}"), json!({"id": 7, "tags": ["a"]})),
            (json!("${user.tags}"), json!(["a"])),
            (json!("n=${n}"), json!("n=5")),
            (
                json!("http://${host}/u/{{user.id}}"),
                json!("http://api.local/u/7"),
            ),
            (json!("no refs"), json!("no refs")),
            (json!(12), json!(12)),
            (
                json!({"${host}": ["${n}", "x${n}"]}),
                json!({"api.local": [5, "x5"]}),
            ),
            (json!("$${n}"), json!("${n}")),
        ];
        for (input, expected) in cases {
            assert_eq!(
                interpolate(&input, &vars(), "config").unwrap(),
                expected,
                "{input}"
            );
        }
    }

    #[test]
    fn errors_name_the_field_and_the_reference() {
        let err = interpolate(
            &json!({"headers": {"Authorization": "Bearer ${token}"}}),
            &vars(),
            "config",
        )
        .unwrap_err();
        assert_eq!(err.field, "config.headers.Authorization");
        assert_eq!(
            err.to_string(),
            "config.headers.Authorization: `token` is not defined (no variable, earlier step or built-in has that name)"
        );
    }
}
