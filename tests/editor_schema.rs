//! The JSON Schemas editors read (`testmesh schema`, `schemas/`): the folder matches what the
//! code generates, every flow and manifest in the repository validates against its schema, and
//! the mistakes people make are refused. The schemas are checked with the `jsonschema` crate's
//! draft 7 validator, which knows nothing of our loader.
//!
//! After changing the model or the action catalogue, refresh the files with
//! `TESTMESH_UPDATE_SCHEMAS=1 cargo test --test editor_schema`.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use testmesh::flow::source::parse_documents;
use testmesh::resources::editor_schema::{SchemaKind, schema, schema_text};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn validator(kind: SchemaKind) -> jsonschema::Validator {
    jsonschema::draft7::new(&schema(kind)).unwrap_or_else(|err| panic!("{}: {err}", kind.name()))
}

/// The problems `kind`'s schema finds in `document`, as `path: message` lines.
fn problems(kind: SchemaKind, document: &Value) -> Vec<String> {
    validator(kind)
        .iter_errors(document)
        .map(|err| format!("{}: {err}", err.instance_path()))
        .collect()
}

/// Which schema a YAML document of the repository is written against, if any: manifests by
/// their kind, flow files by their `flow:` root or `steps`. Other documents (Argo CD, Flux,
/// Helm values, mock definitions, environment files) have no schema of ours.
fn schema_for(document: &Value) -> Option<SchemaKind> {
    match document["kind"].as_str() {
        Some("TestFlow") => Some(SchemaKind::TestFlow),
        Some("TestSchedule") => Some(SchemaKind::TestSchedule),
        Some("TestEnvironment") => Some(SchemaKind::Environment),
        Some(_) => None,
        None if document.get("flow").is_some() || document.get("steps").is_some() => {
            Some(SchemaKind::Flow)
        }
        None => None,
    }
}

fn yaml_files(folder: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            yaml_files(&path, found);
        } else if path
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "yml")
        {
            found.push(path);
        }
    }
}

#[test]
fn schemas_folder_matches_the_generated_schemas() {
    let folder = root().join("schemas");
    let update = std::env::var_os("TESTMESH_UPDATE_SCHEMAS").is_some();
    if update {
        std::fs::create_dir_all(&folder).unwrap();
    }
    for kind in SchemaKind::ALL {
        let path = folder.join(kind.file_name());
        let text = schema_text(kind);
        if update {
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == text,
            "schemas/{} differs from the generated schema; run TESTMESH_UPDATE_SCHEMAS=1 cargo test --test editor_schema",
            kind.file_name()
        );
    }
}

/// The dashboard's tests build the editor's forms from the catalogue `GET /api/v1/actions`
/// serves; their copy must be the engine's current one.
#[test]
fn the_dashboards_action_catalogue_fixture_is_the_apis() {
    let path = root().join("dashboard/tests/fixtures/actions.json");
    let text = format!(
        "{}\n",
        serde_json::to_string_pretty(&testmesh::api::catalogue()).unwrap()
    );
    if std::env::var_os("TESTMESH_UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == text,
        "dashboard/tests/fixtures/actions.json differs from GET /api/v1/actions; run TESTMESH_UPDATE_SCHEMAS=1 cargo test --test editor_schema"
    );
}

#[test]
fn every_flow_and_manifest_in_the_repository_validates_against_its_schema() {
    let mut files = Vec::new();
    yaml_files(&root().join("examples"), &mut files);
    yaml_files(&root().join("tests/fixtures/original"), &mut files);
    files.sort();
    let mut checked = Vec::new();
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let documents = parse_documents(&text).unwrap();
        for (index, document) in documents.iter().enumerate() {
            let Some(kind) = schema_for(&document.value) else {
                continue;
            };
            let name = format!("{}#{index}", file.strip_prefix(root()).unwrap().display());
            for problem in problems(kind, &document.value) {
                failures.push(format!("{name} ({}): {problem}", kind.name()));
            }
            checked.push((name, kind));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    for kind in SchemaKind::ALL {
        assert!(
            checked.iter().any(|(_, checked)| *checked == kind),
            "no example was checked against the {} schema",
            kind.name()
        );
    }
    assert!(
        checked.len() >= 20,
        "only {} documents checked",
        checked.len()
    );
}

fn flow(steps: Value) -> Value {
    json!({"flow": {"name": "Orders", "steps": steps}})
}

#[test]
fn the_mistakes_people_make_are_refused_where_they_are() {
    let cases = [
        (
            flow(
                json!([{"action": "http_request", "config": {"url": "http://svc"}, "asert": ["status == 200"]}]),
            ),
            "asert",
        ),
        (
            flow(json!([{"action": "htp_request", "config": {"url": "http://svc"}}])),
            "htp_request",
        ),
        (
            flow(json!([{"action": "http_request", "config": {"urll": "http://svc"}}])),
            "urll",
        ),
        (
            flow(
                json!([{"action": "http", "config": {"url": "http://svc", "follow_redirects": "yes"}}]),
            ),
            "follow_redirects",
        ),
        (
            flow(
                json!([{"action": "log", "config": {"message": "hi"}, "retry": {"max_attempts": "three"}}]),
            ),
            "max_attempts",
        ),
        (
            flow(
                json!([{"action": "for_each", "config": {"items": [1, 2], "steps": [
                    {"action": "log", "config": {"mesage": "nested"}}
                ]}}]),
            ),
            "mesage",
        ),
        (
            flow(json!([{"config": {"message": "no action"}}])),
            "action",
        ),
        (json!({"flow": {"name": "No steps"}}), "steps"),
        (
            json!({"flow": {"name": "x", "steps": []}, "extra": 1}),
            "extra",
        ),
    ];
    for (document, culprit) in cases {
        let found = problems(SchemaKind::Flow, &document);
        assert!(
            found.iter().any(|problem| problem.contains(culprit)),
            "{culprit} not named in {found:#?} for {document}"
        );
    }
    let manifest = json!({
        "apiVersion": "testmesh.io/v1alpha1", "kind": "TestFlow",
        "metadata": {"name": "orders"},
        "spec": {"concurrencyPolicy": "Sometimes", "steps": [{"action": "log", "config": {"message": "hi"}}]}
    });
    let found = problems(SchemaKind::TestFlow, &manifest);
    assert!(
        found.iter().any(|p| p.contains("concurrencyPolicy")),
        "{found:#?}"
    );
    let bad_step = json!({
        "apiVersion": "testmesh.io/v1alpha1", "kind": "TestFlow", "metadata": {"name": "orders"},
        "spec": {"steps": [{"action": "redis.set", "config": {"key": "k", "ttl": "5m", "nx": "sometimes"}}]}
    });
    let found = problems(SchemaKind::TestFlow, &bad_step);
    assert!(found.iter().any(|p| p.contains("nx")), "{found:#?}");
}

#[test]
fn both_spellings_references_and_the_flat_form_are_accepted() {
    let flat = json!({
        "name": "Orders",
        "env_file": ".env",
        "steps": [
            {"id": "a", "action": "http_request", "config": {"url": "${base}/a", "max_redirects": "${hops}", "follow_redirects": true},
             "on_error": "continue", "retry": {"max_attempts": 3, "delay": "200ms", "backoff": "exponential"},
             "assert": ["status == 200", {"expression": "body.ok", "message": "ok"}], "output": {"id": "$.body.id"}},
            {"id": "b", "action": "log", "config": {"message": "m"}, "onError": {"action": "continue"},
             "retry": {"maxAttempts": 2}, "when": "${a.status == 200}"}
        ]
    });
    assert_eq!(problems(SchemaKind::Flow, &flat), Vec::<String>::new());
}
