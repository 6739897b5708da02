//! The CustomResourceDefinitions, generated from the Rust types, as objects and as the YAML
//! files kept in `crds/` (one per CRD) and printed by `testmesh crds`.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;
use serde_json::{Value, json};

use super::{TestEnvironment, TestFlow, TestSchedule};
use crate::flow::source::to_yaml;

/// The three CRDs, as JSON values ready to apply.
pub fn definitions() -> Vec<Value> {
    [TestFlow::crd(), TestSchedule::crd(), TestEnvironment::crd()]
        .iter()
        .map(|crd: &CustomResourceDefinition| {
            let mut value = serde_json::to_value(crd).unwrap_or_default();
            canonical_int_or_string(&mut value);
            value
        })
        .collect()
}

/// Each CRD as a file name (`testflows.testmesh.io.yaml`) and its YAML document.
pub fn files() -> Vec<(String, String)> {
    definitions()
        .into_iter()
        .map(|crd| {
            let name = crd["metadata"]["name"].as_str().unwrap_or_default();
            (format!("{name}.yaml"), to_yaml(&crd))
        })
        .collect()
}

/// All CRDs as one multi-document YAML text.
pub fn all_yaml() -> String {
    files().into_iter().map(|(_, text)| text).collect()
}

/// The schema rewriting of kube-derive leaves int-or-string nodes with empty `anyOf` branches;
/// this restores the form the API server documents: `anyOf: [{type: integer}, {type: string}]`.
fn canonical_int_or_string(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
                map.insert(
                    "anyOf".into(),
                    json!([{"type": "integer"}, {"type": "string"}]),
                );
            }
            for child in map.values_mut() {
                canonical_int_or_string(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(canonical_int_or_string),
        _ => {}
    }
}
