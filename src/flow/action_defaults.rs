//! Per-action-type config an environment supplies (`actionDefaults`, as the original platform's
//! environments carry it): `{database_query: {connection: …}, kafka_producer: {brokers: …}}`.
//! Each step's config is laid over the defaults of its action type: a key the step sets wins,
//! a key it leaves out comes from the defaults (top-level keys; maps are not merged key by key).
//! Action types are named as steps name them, aliases included.

use std::borrow::Cow;
use std::collections::HashMap;

use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::actions::ActionKind;

/// Config defaults by action type, as written (`database_query`, `db_query`, `kafka_producer`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ActionDefaults(IndexMap<String, Map<String, Value>>);

impl JsonSchema for ActionDefaults {
    fn schema_name() -> Cow<'static, str> {
        "ActionDefaults".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": true
            }
        })
    }
}

impl ActionDefaults {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds `other`'s defaults; for the same action type and key, `other` wins.
    pub fn extend(&mut self, other: &ActionDefaults) {
        for (action, config) in &other.0 {
            let entry = self.0.entry(action.clone()).or_default();
            for (key, value) in config {
                entry.insert(key.clone(), value.clone());
            }
        }
    }

    /// An action type name that is no action, with the known ones, for an error message.
    pub fn unknown_action(&self) -> Option<String> {
        self.0
            .keys()
            .find(|name| ActionKind::from_name(name).is_none())
            .map(|name| {
                format!(
                    "action defaults for `{name}`: no action has that name (known actions are {})",
                    ActionKind::known_names().join(", ")
                )
            })
    }

    /// The defaults of each action type, aliases merged in the order written; names that are no
    /// action are left out (see [`Self::unknown_action`]).
    pub fn by_kind(&self) -> HashMap<ActionKind, Map<String, Value>> {
        let mut resolved: HashMap<ActionKind, Map<String, Value>> = HashMap::new();
        for (name, config) in &self.0 {
            if let Some(kind) = ActionKind::from_name(name) {
                let entry = resolved.entry(kind).or_default();
                for (key, value) in config {
                    entry.insert(key.clone(), value.clone());
                }
            }
        }
        resolved
    }
}

/// `config` laid over `defaults`: the step's keys win. Borrowed when the defaults add nothing.
pub fn merged_under<'c>(
    defaults: Option<&Map<String, Value>>,
    config: &'c Map<String, Value>,
) -> Cow<'c, Map<String, Value>> {
    let Some(defaults) = defaults.filter(|d| d.keys().any(|key| !config.contains_key(key))) else {
        return Cow::Borrowed(config);
    };
    let mut merged = defaults.clone();
    for (key, value) in config {
        merged.insert(key.clone(), value.clone());
    }
    Cow::Owned(merged)
}

impl From<IndexMap<String, Map<String, Value>>> for ActionDefaults {
    fn from(map: IndexMap<String, Map<String, Value>>) -> Self {
        Self(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defaults(value: Value) -> ActionDefaults {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn the_step_wins_and_aliases_share_their_action_defaults() {
        let defaults = defaults(json!({
            "database_query": {"connection": "postgres://env/db", "timeout": "5s"},
            "db_query": {"timeout": "9s"}
        }));
        let by_kind = defaults.by_kind();
        let step = json!({"query": "SELECT 1", "connection": "postgres://step/db"});
        let merged = merged_under(
            by_kind.get(&ActionKind::DatabaseQuery),
            step.as_object().unwrap(),
        );
        assert_eq!(
            Value::Object(merged.into_owned()),
            json!({"connection": "postgres://step/db", "timeout": "9s", "query": "SELECT 1"})
        );
        let complete = json!({"connection": "c", "timeout": "1s"});
        let kept = merged_under(
            by_kind.get(&ActionKind::DatabaseQuery),
            complete.as_object().unwrap(),
        );
        assert!(matches!(kept, Cow::Borrowed(_)));
        assert!(!by_kind.contains_key(&ActionKind::KafkaProduce));
    }

    #[test]
    fn an_unknown_action_type_is_named() {
        let message = defaults(json!({"databse_query": {"connection": "x"}}))
            .unknown_action()
            .unwrap();
        assert!(
            message.starts_with("action defaults for `databse_query`: no action has that name"),
            "{message}"
        );
    }
}
