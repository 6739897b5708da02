//! Replaces references in config values. A string that is exactly one reference takes the
//! value's own type (number, map, list); a reference inside longer text becomes text. A
//! reference that does not resolve is an error naming the field and the name. References an
//! action fills itself (the mock server's response templates) are left as written.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::variables::{LookupError, Variables};
use crate::flow::actions::LateReferences;
use crate::flow::expression::text_of;
use crate::flow::reference::{Piece, exact_reference, parse_template, root_of};

/// A reference that did not resolve, and the field it stood in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {cause}")]
pub struct InterpolationError {
    /// Where the reference stood, e.g. `config.headers.Authorization`.
    pub field: String,
    pub cause: LookupError,
}

/// Interpolates the values (and keys) of a map, leaving the `late` references as written. A
/// map that holds no reference, as most configs with literal values do, is borrowed as it is
/// rather than copied.
pub fn interpolate_map<'m>(
    map: &'m Map<String, Value>,
    vars: &Variables,
    late: Option<&LateReferences>,
    field: &str,
) -> Result<Cow<'m, Map<String, Value>>, InterpolationError> {
    if map
        .iter()
        .all(|(key, value)| plain_text(key) && plain_value(value))
    {
        return Ok(Cow::Borrowed(map));
    }
    let scope = Scope { vars, late };
    interpolate_map_at(map, &scope, Place::Root(field)).map(Cow::Owned)
}

/// Text that interpolation leaves as it is.
fn plain_text(text: &str) -> bool {
    !text.contains("${") && !text.contains("{{")
}

/// A value that interpolation leaves as it is.
fn plain_value(value: &Value) -> bool {
    match value {
        Value::String(text) => plain_text(text),
        Value::Array(items) => items.iter().all(plain_value),
        Value::Object(map) => map
            .iter()
            .all(|(key, value)| plain_text(key) && plain_value(value)),
        Value::Null | Value::Bool(_) | Value::Number(_) => true,
    }
}

/// Interpolates one string.
pub fn interpolate_text(
    text: &str,
    vars: &Variables,
    field: &str,
) -> Result<Value, InterpolationError> {
    interpolate_text_at(text, &Scope::all(vars), Place::Root(field))
}

/// Interpolates every string inside a value of any shape.
pub fn interpolate_value(
    value: &Value,
    vars: &Variables,
    field: &str,
) -> Result<Value, InterpolationError> {
    interpolate_at(value, &Scope::all(vars), Place::Root(field))
}

/// What references resolve to, and which are left as written.
struct Scope<'a> {
    vars: &'a Variables,
    late: Option<&'a LateReferences>,
}

impl<'a> Scope<'a> {
    /// Every reference resolved.
    fn all(vars: &'a Variables) -> Self {
        Self { vars, late: None }
    }

    /// Whether the reference `name` at `place` is left as written.
    fn leaves(&self, name: &str, place: &Place<'_>) -> bool {
        self.late.is_some_and(|late| {
            late.roots.contains(&root_of(name)) && late.leaves(name, &place.config_path())
        })
    }
}

/// Where a value sits in a config, written out only when an error names it: most values hold
/// no reference, and formatting every path would cost more than the interpolation.
#[derive(Clone, Copy)]
enum Place<'a> {
    Root(&'a str),
    Key(&'a Place<'a>, &'a str),
    Index(&'a Place<'a>, usize),
}

impl Place<'_> {
    fn render(&self) -> String {
        match self {
            Place::Root(field) => (*field).to_string(),
            Place::Key(parent, key) => {
                let parent = parent.render();
                if parent.is_empty() {
                    (*key).to_string()
                } else {
                    format!("{parent}.{key}")
                }
            }
            Place::Index(parent, index) => format!("{}[{index}]", parent.render()),
        }
    }

    /// The keys below the root, `[]` standing for each list item.
    fn config_path(&self) -> Vec<&str> {
        match self {
            Place::Root(_) => Vec::new(),
            Place::Key(parent, key) => {
                let mut path = parent.config_path();
                path.push(key);
                path
            }
            Place::Index(parent, _) => {
                let mut path = parent.config_path();
                path.push("[]");
                path
            }
        }
    }
}

/// Interpolates every string inside `value`, which sits at `place`.
fn interpolate_at(
    value: &Value,
    scope: &Scope<'_>,
    place: Place<'_>,
) -> Result<Value, InterpolationError> {
    match value {
        Value::String(text) => interpolate_text_at(text, scope, place),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(index, item)| interpolate_at(item, scope, Place::Index(&place, index)))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::Object(map) => interpolate_map_at(map, scope, place).map(Value::Object),
        other => Ok(other.clone()),
    }
}

fn interpolate_map_at(
    map: &Map<String, Value>,
    scope: &Scope<'_>,
    place: Place<'_>,
) -> Result<Map<String, Value>, InterpolationError> {
    let mut out = Map::with_capacity(map.len());
    for (key, item) in map {
        let child = Place::Key(&place, key);
        let key = match interpolate_text_at(key, scope, child)? {
            Value::String(s) => s,
            other => text_of(&other),
        };
        out.insert(key, interpolate_at(item, scope, child)?);
    }
    Ok(out)
}

fn interpolate_text_at(
    text: &str,
    scope: &Scope<'_>,
    place: Place<'_>,
) -> Result<Value, InterpolationError> {
    if plain_text(text) {
        return Ok(Value::String(text.to_string()));
    }
    let fail = |cause| InterpolationError {
        field: place.render(),
        cause,
    };
    if let Some(name) = exact_reference(text) {
        if scope.leaves(name, &place) {
            return Ok(Value::String(text.to_string()));
        }
        return scope.vars.lookup(name).map_err(fail);
    }
    let mut out = String::with_capacity(text.len());
    for piece in parse_template(text) {
        match piece {
            Piece::Text(t) => out.push_str(&t),
            Piece::Reference(name) if scope.leaves(name, &place) => {
                out.push_str("${");
                out.push_str(name);
                out.push('}');
            }
            Piece::Reference(name) => {
                out.push_str(&text_of(&scope.vars.lookup(name).map_err(fail)?));
            }
        }
    }
    Ok(Value::String(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn interpolate(
        value: &Value,
        vars: &Variables,
        field: &str,
    ) -> Result<Value, InterpolationError> {
        interpolate_at(value, &Scope::all(vars), Place::Root(field))
    }

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
    fn a_map_is_copied_only_when_something_in_it_changes() {
        let plain = json!({"url": "http://h/x", "query": {"a": [1, "b"]}, "verify_ssl": false});
        let plain = plain.as_object().unwrap();
        let kept = interpolate_map(plain, &vars(), None, "config").unwrap();
        assert!(matches!(kept, Cow::Borrowed(_)));
        assert_eq!(&*kept, plain);
        for changing in [
            json!({"url": "http://h/x", "query": {"a": [1, "${n}"]}}),
            json!({"url": "http://h/x", "headers": {"{{host}}": "x"}}),
            json!({"url": "http://h/$${n}"}),
        ] {
            let changed =
                interpolate_map(changing.as_object().unwrap(), &vars(), None, "config").unwrap();
            assert!(matches!(changed, Cow::Owned(_)), "{changing}");
            assert_ne!(Value::Object(changed.into_owned()), changing);
        }
    }

    #[test]
    fn late_references_are_left_as_written_only_where_the_action_fills_them() {
        let late = crate::flow::actions::ActionKind::MockServerStart.late_references();
        let config = json!({"endpoints": [{
            "match": {"headers": {"X-Host": "${host}"}},
            "response": {"body_json": {
                "name": "{{request.body.name}}",
                "line": "${host} {{state.count}}",
            }},
        }]});
        let done = interpolate_map(config.as_object().unwrap(), &vars(), late, "config").unwrap();
        assert_eq!(
            Value::Object(done.into_owned()),
            json!({"endpoints": [{
                "match": {"headers": {"X-Host": "api.local"}},
                "response": {"body_json": {
                    "name": "{{request.body.name}}",
                    "line": "api.local ${state.count}",
                }},
            }]})
        );
        let outside = json!({"name": "{{request.body.name}}"});
        let err =
            interpolate_map(outside.as_object().unwrap(), &vars(), late, "config").unwrap_err();
        assert_eq!(err.field, "config.name");
    }

    #[test]
    fn errors_name_items_of_lists_and_nested_keys() {
        let err = interpolate(
            &json!({"rows": [{"id": 1}, {"id": "${missing}"}]}),
            &vars(),
            "config",
        )
        .unwrap_err();
        assert_eq!(err.field, "config.rows[1].id");
        let at_top = interpolate_map(
            json!({"url": "${nowhere}"}).as_object().unwrap(),
            &vars(),
            None,
            "",
        )
        .unwrap_err();
        assert_eq!(at_top.field, "url");
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
