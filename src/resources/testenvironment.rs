//! The TestEnvironment resource: variables, references to Secret and ConfigMap keys, default
//! HTTP headers, service URLs and per-action defaults shared by the flows that name it. Status says whether every
//! reference resolves, naming what is missing and never a value.

use indexmap::IndexMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::LocalRef;
use crate::flow::action_defaults::ActionDefaults;

/// Settings shared by the flows that reference it.
#[derive(CustomResource, Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "testmesh.io",
    version = "v1alpha1",
    kind = "TestEnvironment",
    namespaced,
    status = "TestEnvironmentStatus",
    shortname = "tenv",
    category = "testmesh",
    doc = "Variables, secret references and defaults for the TestFlows that reference it.",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Flows","type":"integer","jsonPath":".status.flows"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct TestEnvironmentSpec {
    /// Plain variables, visible to every flow using this environment.
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "crate::flow::model::text_map"
    )]
    #[schemars(schema_with = "crate::flow::schema::variables")]
    pub variables: IndexMap<String, String>,
    /// Variables read from one key of a Secret or ConfigMap.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub value_from: Vec<ValueFrom>,
    /// Every key of a Secret or ConfigMap becomes a variable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_from: Vec<EnvFrom>,
    /// Headers added to every HTTP step unless the step sets them.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub headers: IndexMap<String, String>,
    /// Named base URLs (or connection strings) of the services under test, read as
    /// `${service.NAME}` in every action and also available as variables by name.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub service_urls: IndexMap<String, String>,
    /// Config per action type (`database_query: {connection: ...}`), laid under each step's own
    /// config; the step's keys win.
    #[serde(default, skip_serializing_if = "ActionDefaults::is_empty")]
    pub action_defaults: ActionDefaults,
    /// How many runs may use this environment at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_concurrent_runs: Option<u32>,
}

/// One variable from one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "has(self.secretKeyRef) != has(self.configMapKeyRef)",
     "message": "set exactly one of secretKeyRef and configMapKeyRef"}
]))]
pub struct ValueFrom {
    /// The variable name.
    #[schemars(length(min = 1))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_ref: Option<KeyRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_key_ref: Option<KeyRef>,
}

/// A key of a Secret or ConfigMap in the same namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct KeyRef {
    #[schemars(length(min = 1))]
    pub name: String,
    #[schemars(length(min = 1))]
    pub key: String,
    /// When true a missing Secret or key is not an error.
    #[serde(default)]
    pub optional: bool,
}

/// All keys of a Secret or ConfigMap, optionally prefixed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "has(self.secretRef) != has(self.configMapRef)",
     "message": "set exactly one of secretRef and configMapRef"}
]))]
pub struct EnvFrom {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_ref: Option<LocalRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

/// A Secret or ConfigMap key the environment needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    Secret,
    ConfigMap,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Secret => "Secret",
            SourceKind::ConfigMap => "ConfigMap",
        }
    }
}

/// One reference of the spec: the object, and the key (None for a whole object).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRef {
    pub kind: SourceKind,
    pub name: String,
    pub key: Option<String>,
    pub optional: bool,
}

impl TestEnvironmentSpec {
    /// Every Secret and ConfigMap (and key) this environment reads.
    pub fn source_refs(&self) -> Vec<SourceRef> {
        let mut refs = Vec::new();
        for entry in &self.value_from {
            let pairs = [
                (SourceKind::Secret, &entry.secret_key_ref),
                (SourceKind::ConfigMap, &entry.config_map_key_ref),
            ];
            for (kind, key_ref) in pairs {
                if let Some(key_ref) = key_ref {
                    refs.push(SourceRef {
                        kind,
                        name: key_ref.name.clone(),
                        key: Some(key_ref.key.clone()),
                        optional: key_ref.optional,
                    });
                }
            }
        }
        for entry in &self.env_from {
            let pairs = [
                (SourceKind::Secret, &entry.secret_ref),
                (SourceKind::ConfigMap, &entry.config_map_ref),
            ];
            for (kind, object) in pairs {
                if let Some(object) = object {
                    refs.push(SourceRef {
                        kind,
                        name: object.name.clone(),
                        key: None,
                        optional: false,
                    });
                }
            }
        }
        refs
    }
}

/// Whether every reference resolves, and how many flows use this environment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestEnvironmentStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default)]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
    /// TestFlows in this namespace whose environmentRef names this environment.
    #[serde(default)]
    pub flows: u32,
}
