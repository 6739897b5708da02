//! The JSON Schemas users point their editors at, one per kind of file: flow files, and the
//! TestFlow, TestSchedule and TestEnvironment manifests. `testmesh schema KIND` prints one;
//! `schemas/` keeps them all, and a test keeps that folder in step with the code.
//!
//! A manifest's schema is its CRD's (generated from the same Rust types) made useful to an
//! editor: `apiVersion`, `kind` and `metadata` pinned down, OpenAPI's `nullable` written as a
//! JSON Schema type, misspelled spec fields refused, and a TestFlow's steps described by the
//! flow file schema's step definitions, so each action's config keys are known there too.

use serde_json::{Value, json};

use super::crd;
use crate::flow::editor_schema::{
    DRAFT, flow_definitions, flow_file_schema, strip_kubernetes_extensions,
};

/// Which schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaKind {
    Flow,
    TestFlow,
    TestSchedule,
    Environment,
}

impl SchemaKind {
    pub const ALL: [SchemaKind; 4] = [
        SchemaKind::Flow,
        SchemaKind::TestFlow,
        SchemaKind::TestSchedule,
        SchemaKind::Environment,
    ];

    /// The name `testmesh schema` takes.
    pub fn name(self) -> &'static str {
        match self {
            SchemaKind::Flow => "flow",
            SchemaKind::TestFlow => "testflow",
            SchemaKind::TestSchedule => "testschedule",
            SchemaKind::Environment => "environment",
        }
    }

    /// The file in `schemas/`.
    pub fn file_name(self) -> String {
        format!("{}.schema.json", self.name())
    }

    /// The kind of the manifests it describes; none for flow files.
    pub fn manifest_kind(self) -> Option<&'static str> {
        match self {
            SchemaKind::Flow => None,
            SchemaKind::TestFlow => Some("TestFlow"),
            SchemaKind::TestSchedule => Some("TestSchedule"),
            SchemaKind::Environment => Some("TestEnvironment"),
        }
    }
}

/// The schema of `kind`.
pub fn schema(kind: SchemaKind) -> Value {
    match kind.manifest_kind() {
        None => flow_file_schema(),
        Some(manifest) => manifest_schema(manifest),
    }
}

/// The schema of `kind`, as the file in `schemas/` holds it.
pub fn schema_text(kind: SchemaKind) -> String {
    let mut text = serde_json::to_string_pretty(&schema(kind)).unwrap_or_default();
    text.push('\n');
    text
}

fn manifest_schema(kind: &str) -> Value {
    let definition = crd::definitions()
        .into_iter()
        .find(|definition| definition["spec"]["names"]["kind"] == kind)
        .unwrap_or_default();
    let mut root = definition["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone();
    strip_kubernetes_extensions(&mut root);
    nullable_as_type(&mut root);
    root["$schema"] = json!(DRAFT);
    root["title"] = json!(format!("TestMesh {kind} manifest"));
    root["properties"]["apiVersion"] = json!({"const": "testmesh.io/v1alpha1"});
    root["properties"]["kind"] = json!({"const": kind});
    root["properties"]["metadata"] = json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "namespace": {"type": "string"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "annotations": {"type": "object", "additionalProperties": {"type": "string"}}
        },
        "required": ["name"]
    });
    root["required"] = json!(["apiVersion", "kind", "metadata", "spec"]);
    root["properties"]["spec"]["additionalProperties"] = json!(false);
    if kind == "TestFlow" {
        for list in ["setup", "steps", "teardown"] {
            root["properties"]["spec"]["properties"][list] =
                json!({"type": "array", "items": {"$ref": "#/definitions/Step"}});
        }
        root["definitions"] = json!(flow_definitions());
    }
    root
}

/// OpenAPI's `nullable: true` as JSON Schema says it: `null` among the node's types.
fn nullable_as_type(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.remove("nullable") == Some(Value::Bool(true))
                && let Some(Value::String(type_)) = map.get("type").cloned()
            {
                map.insert("type".into(), json!([type_, "null"]));
            }
            map.values_mut().for_each(nullable_as_type);
        }
        Value::Array(items) => items.iter_mut().for_each(nullable_as_type),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_pin_their_kind_and_testflow_steps_know_the_actions() {
        let flow = schema(SchemaKind::TestFlow);
        assert_eq!(flow["properties"]["kind"]["const"], "TestFlow");
        assert_eq!(
            flow["properties"]["spec"]["properties"]["steps"]["items"]["$ref"],
            "#/definitions/Step"
        );
        assert!(flow["definitions"]["Step"]["allOf"].is_array());
        let environment = schema(SchemaKind::Environment);
        assert_eq!(
            environment["properties"]["kind"]["const"],
            "TestEnvironment"
        );
        let text = environment.to_string();
        assert!(!text.contains("nullable") && !text.contains("x-kubernetes"));
    }
}
