//! The JSON Schema of flow files, for editors: yaml-language-server (VS Code's YAML extension,
//! Neovim, JetBrains, Helix) completes and checks a flow as it is typed. `testmesh schema`
//! prints it, `schemas/` keeps it, and the manifests' schemas reuse its step definitions.
//!
//! It is generated, never written by hand: the flow's fields come from the model types the
//! loader reads (schemars, draft 7, the draft every YAML editor supports), and each step's
//! `config` from the action catalogue the validator checks, so it names each action's keys and
//! their types. Three things are added to what the types say:
//! - the snake_case spelling of every multi-word field, as flow files write it;
//! - the action names and their aliases;
//! - that a typed config value may also be a single `${reference}`, known only when it runs.
//!
//! Config keys an environment may supply are not marked required here: `testmesh validate`
//! says what is missing, knowing the environment.

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use super::actions::{ActionKind, KeyType};
use super::model::FlowSpec;

/// The draft the schemas declare.
pub const DRAFT: &str = "http://json-schema.org/draft-07/schema#";

/// A single `${name}` or `{{name}}`, whose value has the type of what it names.
const REFERENCE_PATTERN: &str = r"^\s*(\$\{[^}]+\}|\{\{[^}]+\}\})\s*$";

/// The schema of a flow file: a flow under a `flow:` root, or the same fields at the top level.
pub fn flow_file_schema() -> Value {
    let mut definitions = flow_definitions();
    let mut file = definitions["FlowSpec"].clone();
    file["required"] = json!(["name", "steps"]);
    definitions.insert("FlowFile".into(), file);
    json!({
        "$schema": DRAFT,
        "title": "TestMesh flow file",
        "description": "A TestMesh flow: steps (HTTP calls, SQL queries, Redis commands, messages, mocks...) with captures and assertions. See the README's \"Writing a flow\".",
        "if": {"type": "object", "required": ["flow"]},
        "then": {
            "type": "object",
            "properties": {"flow": {"$ref": "#/definitions/FlowFile"}},
            "required": ["flow"],
            "additionalProperties": false
        },
        "else": {"$ref": "#/definitions/FlowFile"},
        "definitions": definitions
    })
}

/// The definitions of a flow and its parts (`FlowSpec`, `Step`, `RetryPolicy`...), for every
/// schema that holds flows. References point at `#/definitions/<name>`.
pub fn flow_definitions() -> Map<String, Value> {
    let generated = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<FlowSpec>();
    let mut root = serde_json::to_value(generated).unwrap_or_default();
    let mut definitions = match root.get_mut("definitions").map(Value::take) {
        Some(Value::Object(definitions)) => definitions,
        _ => Map::new(),
    };
    let mut flow = Map::new();
    for key in ["type", "description", "properties"] {
        if let Some(value) = root.get(key) {
            flow.insert(key.into(), value.clone());
        }
    }
    definitions.insert("FlowSpec".into(), Value::Object(flow));
    for definition in definitions.values_mut() {
        strip_kubernetes_extensions(definition);
        add_snake_case_spellings(definition);
    }
    definitions.insert("Assertion".into(), assertion_schema());
    definitions.insert("OnError".into(), on_error_schema());
    if let Some(flow) = definitions.get_mut("FlowSpec") {
        flow["additionalProperties"] = json!(false);
        for list in ["setup", "steps", "teardown"] {
            flow["properties"][list] = steps_schema();
        }
    }
    if let Some(step) = definitions.get_mut("Step") {
        complete_step(step);
    }
    definitions
}

/// Removes the `x-kubernetes-*` keywords the model carries for the CRD: an editor's validator
/// has no use for them.
pub fn strip_kubernetes_extensions(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|key, _| !key.starts_with("x-kubernetes-"));
            map.values_mut().for_each(strip_kubernetes_extensions);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_kubernetes_extensions),
        _ => {}
    }
}

/// Adds `max_attempts` beside `maxAttempts` (and so on) to the properties of `schema`: the
/// loader reads both spellings of every multi-word field.
pub fn add_snake_case_spellings(schema: &mut Value) {
    let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    let snake: Vec<(String, Value)> = properties
        .iter()
        .filter(|(name, _)| name.chars().any(|c| c.is_ascii_uppercase()))
        .map(|(name, value)| (snake_case(name), value.clone()))
        .collect();
    properties.extend(snake);
}

fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn steps_schema() -> Value {
    json!({"type": "array", "items": {"$ref": "#/definitions/Step"}})
}

fn assertion_schema() -> Value {
    json!({
        "description": "An expr expression that must hold, or a map with `expression` and the `message` shown when it does not.",
        "anyOf": [
            {"type": "string"},
            {
                "type": "object",
                "properties": {"expression": {"type": "string"}, "message": {"type": "string"}},
                "required": ["expression"],
                "additionalProperties": false
            }
        ]
    })
}

fn on_error_schema() -> Value {
    json!({
        "description": "What a failed step does to the flow: `fail` (the default) stops it, `continue` goes on.",
        "anyOf": [
            {"enum": ["fail", "continue", "stop"]},
            {
                "type": "object",
                "properties": {"action": {"enum": ["fail", "continue", "stop"]}},
                "required": ["action"],
                "additionalProperties": false
            }
        ]
    })
}

/// The step's `action` as the names the engine knows, its `output` as captures, and one
/// `if`/`then` per action that gives `config` that action's keys.
fn complete_step(step: &mut Value) {
    let names: Vec<&str> = ActionKind::ALL
        .iter()
        .flat_map(|kind| std::iter::once(kind.name()).chain(kind.aliases().iter().copied()))
        .collect();
    step["required"] = json!(["action"]);
    step["additionalProperties"] = json!(false);
    step["properties"]["action"] = json!({
        "description": "Which action runs.",
        "type": "string",
        "enum": names
    });
    step["properties"]["output"] = json!({
        "description": "Captures: variable name to a path in the step result (`$.body.id`, `body.id`, `count`), or a value to keep as interpolated.",
        "type": ["object", "null"],
        "additionalProperties": {"type": ["string", "number", "boolean", "null"]}
    });
    step["properties"]["when"] = json!({
        "description": "An expression (or `${expression}`); when false the step is skipped.",
        "type": ["string", "boolean"]
    });
    let per_action: Vec<Value> = ActionKind::ALL
        .iter()
        .map(|&kind| {
            let mut names = vec![kind.name()];
            names.extend(kind.aliases());
            json!({
                "if": {"properties": {"action": {"enum": names}}, "required": ["action"]},
                "then": {"properties": {"config": config_schema(kind)}}
            })
        })
        .collect();
    step["allOf"] = Value::Array(per_action);
}

/// The keys of `kind`'s config and their types (the editor's properties form is built from it).
pub fn config_schema(kind: ActionKind) -> Value {
    let properties: Map<String, Value> = kind
        .config_keys()
        .known
        .iter()
        .map(|&key| (key.to_string(), key_schema(kind, key)))
        .collect();
    json!({
        "description": format!("The input of `{}`.", kind.name()),
        "type": "object",
        "properties": properties,
        "additionalProperties": false
    })
}

fn key_schema(kind: ActionKind, key: &str) -> Value {
    if kind.nested_step_keys().contains(&key) {
        return steps_schema();
    }
    if kind == ActionKind::Parallel && key == "branches" {
        // A branch is `{name, steps}`, or one step (as the original platform wrote them).
        return json!({
            "type": "array",
            "items": {"anyOf": [
                {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "steps": steps_schema()},
                    "required": ["steps"],
                    "additionalProperties": false
                },
                {"$ref": "#/definitions/Step"}
            ]}
        });
    }
    let typed = match kind.key_type(key) {
        KeyType::Any => return json!({}),
        KeyType::Text => json!({"type": ["string", "number", "boolean"]}),
        KeyType::Duration => json!({"type": ["string", "number"]}),
        KeyType::Count => json!({"type": "integer", "minimum": 0}),
        KeyType::Flag => json!({"type": "boolean"}),
        KeyType::List => json!({"type": "array"}),
        KeyType::Map => json!({"type": "object"}),
        KeyType::FlagOrMap => json!({"type": ["boolean", "object"]}),
    };
    json!({"anyOf": [typed, {"type": "string", "pattern": REFERENCE_PATTERN}]})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_word_fields_are_offered_in_both_spellings() {
        let definitions = flow_definitions();
        let step = &definitions["Step"]["properties"];
        assert!(step.get("onError").is_some() && step.get("on_error").is_some());
        let retry = &definitions["RetryPolicy"]["properties"];
        assert!(retry.get("maxAttempts").is_some() && retry.get("max_attempts").is_some());
        assert_eq!(snake_case("envFile"), "env_file");
    }

    #[test]
    fn each_action_gives_config_its_own_keys_with_their_types() {
        let definitions = flow_definitions();
        let rules = definitions["Step"]["allOf"].as_array().unwrap();
        assert_eq!(rules.len(), ActionKind::ALL.len());
        let http = rules
            .iter()
            .find(|rule| rule["if"]["properties"]["action"]["enum"][0] == "http_request")
            .unwrap();
        let config = &http["then"]["properties"]["config"];
        assert_eq!(config["additionalProperties"], false);
        assert_eq!(
            config["properties"]["follow_redirects"]["anyOf"][0],
            json!({"type": "boolean"})
        );
        assert_eq!(http["if"]["properties"]["action"]["enum"][1], "http");
        let text = definitions
            .values()
            .map(Value::to_string)
            .collect::<String>();
        assert!(!text.contains("x-kubernetes"), "no CRD-only keywords");
    }
}
