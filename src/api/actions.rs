//! `GET /actions`: the action catalogue the editor builds its palette and properties forms
//! from. Every field is read from the definitions the validator checks steps against
//! (src/flow/actions.rs, src/flow/action_docs.rs) and the JSON Schema editors use
//! (src/flow/editor_schema.rs), so the editor cannot offer what the engine would refuse.

use axum::Json;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::flow::action_docs::ActionGroup;
use crate::flow::actions::{ActionKind, KeyType};
use crate::flow::editor_schema::config_schema;

/// The whole catalogue.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionCatalogue {
    /// The palette's groups, in order.
    pub groups: Vec<ActionGroupInfo>,
    /// Every action, in the documentation's order.
    pub actions: Vec<ActionInfo>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActionGroupInfo {
    /// `http`, `databases`, `messaging`, `control_flow`, `mocks` or `utilities`.
    pub id: String,
    pub label: String,
}

/// One action.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActionInfo {
    /// The canonical name, as a step's `action`.
    pub name: String,
    /// Other names flow files use for it.
    pub aliases: Vec<String>,
    /// The id of its group.
    pub group: String,
    /// One line saying what it does.
    pub description: String,
    /// Every config key it reads, in the catalogue's order.
    pub keys: Vec<ActionKey>,
    /// Keys that must be present: each entry is a set of alternatives, one of which is enough.
    pub required: Vec<Vec<String>>,
    /// Config keys holding nested steps (`steps`, `then`, `else`), shown as containers.
    pub nested_step_keys: Vec<String>,
    /// The JSON Schema (draft 7) of its `config`.
    #[schema(value_type = Object)]
    pub config_schema: Value,
}

/// One config key.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActionKey {
    pub name: String,
    /// any, text, duration, count, flag, list, map or flag_or_map.
    #[serde(rename = "type")]
    pub key_type: String,
    /// What the value must be, for a person.
    pub doc: String,
    /// True when the key (or one of its alternatives) must be given.
    pub required: bool,
    /// Other keys that can stand in for this one (`dsn` for `connection`).
    pub alternatives: Vec<String>,
    /// True when an environment's action defaults usually supply it.
    pub from_environment: bool,
    /// The value used when it is not given, when the engine has one.
    pub default: Option<String>,
    /// A warning about how the key is honoured.
    pub caveat: Option<String>,
}

fn key_type_id(key_type: KeyType) -> &'static str {
    match key_type {
        KeyType::Any => "any",
        KeyType::Text => "text",
        KeyType::Duration => "duration",
        KeyType::Count => "count",
        KeyType::Flag => "flag",
        KeyType::List => "list",
        KeyType::Map => "map",
        KeyType::FlagOrMap => "flag_or_map",
    }
}

fn group_id(group: ActionGroup) -> String {
    serde_json::to_value(group)
        .ok()
        .and_then(|value| value.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| item.to_string()).collect()
}

fn key_info(kind: ActionKind, key: &str) -> ActionKey {
    let keys = kind.config_keys();
    let group_of = |groups: &[&str]| {
        groups
            .iter()
            .find(|group| group.split('|').any(|k| k == key))
            .map(|group| group.to_string())
    };
    let required_group = group_of(keys.required);
    let defaulted = kind
        .defaulted_connection_key()
        .filter(|(group, _)| group.split('|').any(|k| k == key));
    let alternatives = required_group
        .as_deref()
        .or(defaulted.map(|(group, _)| group))
        .map(|group| {
            group
                .split('|')
                .filter(|k| *k != key)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let from_environment = group_of(kind.environment_keys()).is_some() || defaulted.is_some();
    ActionKey {
        name: key.to_string(),
        key_type: key_type_id(kind.key_type(key)).to_string(),
        doc: kind.key_type(key).describe().to_string(),
        required: required_group.is_some(),
        alternatives,
        from_environment,
        default: defaulted.map(|(_, value)| value.to_string()),
        caveat: kind.key_caveat(key).map(str::to_string),
    }
}

/// The catalogue of `kind`.
pub fn action_info(kind: ActionKind) -> ActionInfo {
    let keys = kind.config_keys();
    ActionInfo {
        name: kind.name().to_string(),
        aliases: strings(kind.aliases()),
        group: group_id(kind.group()),
        description: kind.description().to_string(),
        keys: keys.known.iter().map(|key| key_info(kind, key)).collect(),
        required: keys
            .required
            .iter()
            .map(|group| group.split('|').map(str::to_string).collect())
            .collect(),
        nested_step_keys: strings(kind.nested_step_keys()),
        config_schema: config_schema(kind),
    }
}

/// The catalogue of every action.
pub fn catalogue() -> ActionCatalogue {
    ActionCatalogue {
        groups: ActionGroup::ALL
            .iter()
            .map(|&group| ActionGroupInfo {
                id: group_id(group),
                label: group.label().to_string(),
            })
            .collect(),
        actions: ActionKind::ALL
            .iter()
            .map(|&kind| action_info(kind))
            .collect(),
    }
}

#[utoipa::path(get, path = "/api/v1/actions", tag = "editor",
    responses((status = 200, body = ActionCatalogue)))]
pub async fn list() -> Json<ActionCatalogue> {
    Json(catalogue())
}
