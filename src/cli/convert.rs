//! `testmesh convert`: prints the TestFlow manifest (camelCase spec) for each flow in a file.

use std::path::Path;

use serde_json::{Value, json};

use super::exit::Exit;
use super::inputs::print_diagnostics;
use super::output;
use crate::flow::load::API_GROUP;
use crate::flow::{FlowSpec, load_paths};
use crate::resources::resource_name;

pub fn convert(file: &Path, namespace: Option<&str>) -> Exit {
    let loaded = load_paths(&[file.to_path_buf()]);
    print_diagnostics(&loaded.diagnostics);
    if loaded.has_errors() {
        return Exit::InvalidInput;
    }
    let manifests: Vec<Value> = loaded
        .flows()
        .map(|flow| manifest(&flow.spec, namespace))
        .collect();
    if manifests.is_empty() {
        eprintln!("error: {} holds no flow", file.display());
        return Exit::InvalidInput;
    }
    let documents: Vec<String> = manifests.iter().map(crate::flow::source::to_yaml).collect();
    output::text(&documents.join("---\n"));
    Exit::Passed
}

/// The TestFlow manifest for a flow.
pub fn manifest(spec: &FlowSpec, namespace: Option<&str>) -> Value {
    let mut metadata = json!({ "name": resource_name(&spec.name) });
    if let Some(namespace) = namespace {
        metadata["namespace"] = Value::String(namespace.to_string());
    }
    json!({
        "apiVersion": format!("{API_GROUP}/v1alpha1"),
        "kind": "TestFlow",
        "metadata": metadata,
        "spec": serde_json::to_value(spec).unwrap_or(Value::Null),
    })
}
