//! The CustomResourceDefinitions, generated from the Rust types, as objects and as the YAML
//! files kept in `crds/` (one per CRD) and printed by `testmesh crds`.
//!
//! Two rewrites make schemars' output what an API server expects: int-or-string nodes get the
//! documented `anyOf`, and integer formats Kubernetes does not know (`uint32`, `uint64`...,
//! which it warns about on every apply) become `int32`/`int64` with the Rust type's bounds, or
//! no format where no Kubernetes format holds the whole range.

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
            kubernetes_integer_formats(&mut value);
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

/// The formats the API server knows for `type: integer`.
pub const INTEGER_FORMATS: [&str; 2] = ["int32", "int64"];

/// Rewrites each integer `format` outside [`INTEGER_FORMATS`] (schemars names Rust's types:
/// `uint32`, `uint64`, `uint16`, `int8`...) to one the API server recognises, keeping the Rust
/// type's range as `minimum`/`maximum` so that the API server, not the operator's decoder,
/// refuses a value out of range. `uint32` fits `int64`; `uint64` and `uint` fit no Kubernetes
/// format, so they keep only `minimum: 0` (the API server stores integers as int64 anyway).
fn kubernetes_integer_formats(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let integer = map.get("type").and_then(Value::as_str) == Some("integer");
            let format = map
                .get("format")
                .and_then(Value::as_str)
                .map(str::to_string);
            if let (true, Some(format)) = (integer, format)
                && !INTEGER_FORMATS.contains(&format.as_str())
            {
                let (kubernetes, min, max) = integer_range(&format);
                match kubernetes {
                    Some(name) => map.insert("format".into(), json!(name)),
                    None => map.remove("format"),
                };
                if let Some(min) = min {
                    map.entry("minimum").or_insert(json!(min));
                }
                if let Some(max) = max {
                    map.entry("maximum").or_insert(json!(max));
                }
            }
            for child in map.values_mut() {
                kubernetes_integer_formats(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(kubernetes_integer_formats),
        _ => {}
    }
}

/// For a schemars integer format: the Kubernetes format that holds its whole range, and the
/// range's bounds. An unknown name keeps no format and no bounds.
fn integer_range(format: &str) -> (Option<&'static str>, Option<i64>, Option<i64>) {
    match format {
        "int8" => (Some("int32"), Some(i8::MIN.into()), Some(i8::MAX.into())),
        "int16" => (Some("int32"), Some(i16::MIN.into()), Some(i16::MAX.into())),
        "uint8" => (Some("int32"), Some(0), Some(u8::MAX.into())),
        "uint16" => (Some("int32"), Some(0), Some(u16::MAX.into())),
        "uint32" => (Some("int64"), Some(0), Some(u32::MAX.into())),
        "int" => (Some("int64"), None, None),
        "uint" | "uint64" => (None, Some(0), None),
        _ => (None, None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_formats_become_kubernetes_ones_with_their_range() {
        let mut schema = json!({"properties": {
            "attempts": {"type": "integer", "format": "uint32", "minimum": 1.0},
            "bytes": {"type": "integer", "format": "uint64", "minimum": 0.0},
            "port": {"type": "integer", "format": "uint16"},
            "count": {"type": "integer", "format": "int64"},
            "ratio": {"type": "number", "format": "double"},
        }});
        kubernetes_integer_formats(&mut schema);
        let fields = &schema["properties"];
        assert_eq!(
            fields["attempts"],
            json!({"type": "integer", "format": "int64", "minimum": 1.0, "maximum": 4294967295u32})
        );
        assert_eq!(fields["bytes"], json!({"type": "integer", "minimum": 0.0}));
        assert_eq!(
            fields["port"],
            json!({"type": "integer", "format": "int32", "minimum": 0, "maximum": 65535})
        );
        assert_eq!(
            fields["count"],
            json!({"type": "integer", "format": "int64"})
        );
        assert_eq!(
            fields["ratio"],
            json!({"type": "number", "format": "double"})
        );
    }
}
