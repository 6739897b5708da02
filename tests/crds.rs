//! The CRDs in `crds/` are the ones generated from the Rust types, and every schema in them is
//! structural, so a real API server accepts them and prunes nothing a user wrote.
//!
//! After changing a resource type, refresh the files with
//! `TESTMESH_UPDATE_CRDS=1 cargo test --test crds`.

use std::path::Path;

use serde_json::Value;
use testmesh::resources::crd;

#[test]
fn crds_folder_matches_the_generated_definitions() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("crds");
    let update = std::env::var_os("TESTMESH_UPDATE_CRDS").is_some();
    for (name, text) in crd::files() {
        let path = folder.join(&name);
        if update {
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == text,
            "crds/{name} differs from the generated CRD; run TESTMESH_UPDATE_CRDS=1 cargo test --test crds"
        );
    }
    let mut names: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected: Vec<_> = crd::files().into_iter().map(|(name, _)| name).collect();
    expected.sort();
    assert_eq!(names, expected, "crds/ holds a file that is not generated");
}

#[test]
fn every_schema_is_structural_with_valid_defaults() {
    for definition in crd::definitions() {
        let name = definition["metadata"]["name"].as_str().unwrap().to_string();
        for version in definition["spec"]["versions"].as_array().unwrap() {
            let schema = &version["schema"]["openAPIV3Schema"];
            let mut problems = Vec::new();
            check_node(schema, "openAPIV3Schema", &mut problems);
            assert!(problems.is_empty(), "{name}: {problems:#?}");
        }
    }
}

#[test]
fn names_short_names_categories_and_status_subresource() {
    let expected = [
        ("testflows.testmesh.io", "TestFlow", "tf"),
        ("testschedules.testmesh.io", "TestSchedule", "ts"),
        ("testenvironments.testmesh.io", "TestEnvironment", "tenv"),
    ];
    let definitions = crd::definitions();
    for ((name, kind, short), definition) in expected.iter().zip(&definitions) {
        assert_eq!(definition["metadata"]["name"], *name);
        let spec = &definition["spec"];
        assert_eq!(spec["group"], "testmesh.io");
        assert_eq!(spec["scope"], "Namespaced");
        assert_eq!(spec["names"]["kind"], *kind);
        assert_eq!(spec["names"]["shortNames"][0], *short);
        assert_eq!(spec["names"]["categories"][0], "testmesh");
        let version = &spec["versions"][0];
        assert_eq!(version["name"], "v1alpha1");
        assert!(version["subresources"]["status"].is_object(), "{name}");
        assert!(
            version["additionalPrinterColumns"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["name"] == "Ready"),
            "{name}"
        );
    }
}

#[test]
fn schedule_and_environment_carry_their_cel_rules() {
    let definitions = crd::definitions();
    let rules = |index: usize, pointer: &str| -> Vec<String> {
        definitions[index]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
            .pointer(pointer)
            .and_then(|v| v["x-kubernetes-validations"].as_array())
            .map(|rules| {
                rules
                    .iter()
                    .map(|r| r["rule"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let schedule = rules(1, "/properties/spec");
    assert!(
        schedule
            .iter()
            .any(|r| r.contains("flowRef") && r.contains("flowSelector"))
    );
    assert!(schedule.iter().any(|r| r.contains("schedules")));
    let value_from = rules(2, "/properties/spec/properties/valueFrom/items");
    assert!(value_from.iter().any(|r| r.contains("secretKeyRef")));
    let flow_policy = &definitions[0]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]
        ["spec"]["properties"]["concurrencyPolicy"];
    assert_eq!(flow_policy["default"], "Forbid");
    assert_eq!(flow_policy["enum"].as_array().unwrap().len(), 3);
}

/// The formats an API server recognises, by type: strings from apiextensions' supported set
/// (names compared without dashes, as it compares them), integers and numbers from OpenAPI.
/// Any other format makes `kubectl apply` and `helm install` print "unrecognized format".
fn recognised_formats(type_: &str) -> &'static [&'static str] {
    match type_ {
        "integer" => &["int32", "int64"],
        "number" => &["float", "double"],
        "string" => &[
            "bsonobjectid",
            "uri",
            "email",
            "hostname",
            "ipv4",
            "ipv6",
            "cidr",
            "mac",
            "uuid",
            "uuid3",
            "uuid4",
            "uuid5",
            "isbn",
            "isbn10",
            "isbn13",
            "creditcard",
            "ssn",
            "hexcolor",
            "rgbcolor",
            "byte",
            "password",
            "date",
            "duration",
            "datetime",
            "k8sshortname",
            "k8slongname",
        ],
        _ => &[],
    }
}

fn unrecognised_formats(node: &Value, path: &str, found: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            if let Some(format) = map.get("format").and_then(Value::as_str) {
                let type_ = map.get("type").and_then(Value::as_str).unwrap_or("none");
                if !recognised_formats(type_).contains(&format.replace('-', "").as_str()) {
                    found.push(format!("{path}: {type_} with format {format:?}"));
                }
            }
            for (key, child) in map {
                unrecognised_formats(child, &format!("{path}.{key}"), found);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                unrecognised_formats(child, &format!("{path}[{i}]"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn every_format_is_one_the_api_server_recognises() {
    let mut found = Vec::new();
    for definition in crd::definitions() {
        let name = definition["metadata"]["name"].as_str().unwrap().to_string();
        unrecognised_formats(&definition["spec"], &name, &mut found);
    }
    assert!(found.is_empty(), "{found:#?}");
    let flow = &crd::definitions()[0];
    let text = serde_json::to_string(flow).unwrap();
    assert!(
        text.contains("\"format\":\"int64\""),
        "unsigned 32-bit fields map to int64"
    );
    assert!(
        text.contains("\"maximum\":4294967295"),
        "and keep their upper bound"
    );
}

/// Kubernetes' structural schema rules, plus a check of every `default`.
fn check_node(node: &Value, path: &str, problems: &mut Vec<String>) {
    let Some(map) = node.as_object() else {
        problems.push(format!("{path}: not an object"));
        return;
    };
    let int_or_string = map.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true));
    let preserve = map.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
    if map.contains_key("$ref") || map.contains_key("definitions") || map.contains_key("$defs") {
        problems.push(format!("{path}: uses $ref or definitions"));
    }
    if !map.contains_key("type") && !int_or_string && !preserve {
        problems.push(format!("{path}: has no type"));
    }
    if map.contains_key("properties") && map.contains_key("additionalProperties") {
        problems.push(format!(
            "{path}: properties together with additionalProperties"
        ));
    }
    for keyword in ["anyOf", "oneOf", "allOf"] {
        let Some(branches) = map.get(keyword) else {
            continue;
        };
        let canonical = serde_json::json!([{"type": "integer"}, {"type": "string"}]);
        if int_or_string && keyword == "anyOf" && branches == &canonical {
            continue;
        }
        for branch in branches.as_array().into_iter().flatten() {
            for forbidden in [
                "type",
                "default",
                "nullable",
                "description",
                "additionalProperties",
            ] {
                if branch.get(forbidden).is_some() {
                    problems.push(format!("{path}: {keyword} branch sets {forbidden}"));
                }
            }
        }
    }
    if let Some(default) = map.get("default")
        && let Err(problem) = default_fits(default, node)
    {
        problems.push(format!("{path}: default {default}: {problem}"));
    }
    if let Some(properties) = map.get("properties").and_then(Value::as_object) {
        for (key, child) in properties {
            check_node(child, &format!("{path}.{key}"), problems);
        }
    }
    if let Some(items) = map.get("items") {
        check_node(items, &format!("{path}[]"), problems);
    }
    if let Some(extra) = map.get("additionalProperties").filter(|v| v.is_object()) {
        check_node(extra, &format!("{path}{{}}"), problems);
    }
}

fn default_fits(default: &Value, schema: &Value) -> Result<(), String> {
    if let Some(choices) = schema["enum"].as_array()
        && !choices.contains(default)
    {
        return Err("not one of the enum values".into());
    }
    let fits = match schema["type"].as_str() {
        Some("string") => default.is_string(),
        Some("boolean") => default.is_boolean(),
        Some("integer") => default.is_i64() || default.is_u64(),
        Some("number") => default.is_number(),
        Some("array") => default.is_array(),
        Some("object") => default.is_object(),
        _ => true,
    };
    if !fits {
        return Err(format!("does not match type {}", schema["type"]));
    }
    if let (Some(items), Some(values)) = (schema.get("items"), default.as_array()) {
        for value in values {
            default_fits(value, items)?;
        }
    }
    Ok(())
}
