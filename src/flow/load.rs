//! Loads flow files and manifests from files and folders. A YAML document may be:
//! - a flow file: the flow's fields under a `flow:` root, or at the top level;
//! - a `testmesh.io` TestFlow manifest (its `spec` is the flow, camelCase);
//! - a `testmesh.io` TestEnvironment manifest (its variables and headers feed runs);
//! - a `testmesh.io` TestSchedule manifest, kept with its positions so that `validate` can check
//!   its cron expressions and time zone;
//! - any other Kubernetes object (an Argo CD Application), or a mock definition for
//!   `testmesh mock` (top-level `endpoints`), which is skipped.
//!
//! Every problem becomes a [`Diagnostic`] with its file, line and column.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde_json::Value;

use super::action_defaults::ActionDefaults;
use super::diagnostic::{Diagnostic, did_you_mean};
use super::model::FlowSpec;
use super::positions::Positions;
use super::source::{SourceDocument, kind_of, parse_documents};

/// The API group of TestMesh's resources.
pub const API_GROUP: &str = "testmesh.io";

/// A flow read from a file.
#[derive(Debug, Clone)]
pub struct LoadedFlow {
    pub spec: FlowSpec,
    pub file: PathBuf,
    /// Index of the document in its file, from 0.
    pub document: usize,
    /// Positions, re-rooted so that `/steps/0` is the first step whatever the dialect.
    pub positions: Positions,
    /// Set when the flow came from a TestFlow manifest.
    pub manifest: Option<ManifestMeta>,
}

impl LoadedFlow {
    /// The file, as shown in messages.
    pub fn file_label(&self) -> String {
        self.file.display().to_string()
    }
}

/// `metadata` of a manifest.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ManifestMeta {
    pub name: String,
    pub namespace: Option<String>,
}

/// The parts of a TestEnvironment that a local run can use.
#[derive(Debug, Clone, Default)]
pub struct LoadedEnvironment {
    pub file: PathBuf,
    pub name: String,
    pub variables: IndexMap<String, String>,
    pub headers: IndexMap<String, String>,
    /// `serviceUrls`, read as `${service.NAME}` (and, as in a cluster, as variables).
    pub services: IndexMap<String, String>,
    pub action_defaults: ActionDefaults,
}

/// A TestSchedule manifest: its `spec` as written, with positions below `/spec`.
#[derive(Debug, Clone)]
pub struct LoadedSchedule {
    pub file: PathBuf,
    pub name: String,
    pub spec: Value,
    pub positions: Positions,
}

/// One document of a file.
#[derive(Debug, Clone)]
pub enum LoadedDocument {
    Flow(Box<LoadedFlow>),
    Environment(LoadedEnvironment),
    Schedule(LoadedSchedule),
    /// A Kubernetes object that is not a flow, kept only to say it was skipped.
    Skipped {
        file: PathBuf,
        kind: String,
    },
}

/// Everything read from a set of paths.
#[derive(Debug, Default)]
pub struct Loaded {
    pub documents: Vec<LoadedDocument>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    pub fn flows(&self) -> impl Iterator<Item = &LoadedFlow> {
        self.documents.iter().filter_map(|d| match d {
            LoadedDocument::Flow(flow) => Some(flow.as_ref()),
            _ => None,
        })
    }

    pub fn environments(&self) -> impl Iterator<Item = &LoadedEnvironment> {
        self.documents.iter().filter_map(|d| match d {
            LoadedDocument::Environment(env) => Some(env),
            _ => None,
        })
    }

    pub fn schedules(&self) -> impl Iterator<Item = &LoadedSchedule> {
        self.documents.iter().filter_map(|d| match d {
            LoadedDocument::Schedule(schedule) => Some(schedule),
            _ => None,
        })
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Loads every path: a file, or a folder searched for `.yaml`/`.yml` files (sorted, recursive).
pub fn load_paths(paths: &[PathBuf]) -> Loaded {
    let mut loaded = Loaded::default();
    for path in paths {
        let files = match collect_files(path) {
            Ok(files) => files,
            Err(message) => {
                loaded
                    .diagnostics
                    .push(Diagnostic::error(message).in_file(path.display().to_string()));
                continue;
            }
        };
        for file in files {
            match std::fs::read_to_string(&file) {
                Ok(text) => load_text(&text, &file, &mut loaded),
                Err(err) => loaded.diagnostics.push(
                    Diagnostic::error(format!("cannot read the file: {err}"))
                        .in_file(file.display().to_string()),
                ),
            }
        }
    }
    loaded
}

fn collect_files(path: &Path) -> Result<Vec<PathBuf>, String> {
    let meta = std::fs::metadata(path).map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder".to_string(),
        _ => format!("cannot open: {err}"),
    })?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut folders = vec![path.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let entries = std::fs::read_dir(&folder)
            .map_err(|err| format!("cannot list {}: {err}", folder.display()))?;
        for entry in entries.flatten() {
            let entry_path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if hidden {
                continue;
            }
            if entry_path.is_dir() {
                folders.push(entry_path);
            } else if matches!(
                entry_path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            ) {
                files.push(entry_path);
            }
        }
    }
    files.sort();
    if files.is_empty() {
        return Err("no .yaml or .yml files in this folder".into());
    }
    Ok(files)
}

/// Loads the documents of one file's text into `loaded`.
pub fn load_text(text: &str, file: &Path, loaded: &mut Loaded) {
    let label = file.display().to_string();
    let documents = match parse_documents(text) {
        Ok(documents) => documents,
        Err(err) => {
            loaded.diagnostics.push(
                Diagnostic::error(format!("invalid YAML: {}", err.message))
                    .in_file(label)
                    .at(Some(err.position)),
            );
            return;
        }
    };
    if documents.is_empty() {
        loaded
            .diagnostics
            .push(Diagnostic::error("the file holds no YAML document").in_file(label));
        return;
    }
    for (index, SourceDocument { value, positions }) in documents.into_iter().enumerate() {
        let Value::Object(mut map) = value else {
            loaded.diagnostics.push(
                Diagnostic::error(format!(
                    "expected a flow (a map with `name` and `steps`), found {}",
                    kind_of(&value)
                ))
                .in_file(label.clone())
                .at(positions.find("")),
            );
            continue;
        };
        let skipped = |kind: &str| LoadedDocument::Skipped {
            file: file.to_path_buf(),
            kind: kind.to_string(),
        };
        let api_version = map.get("apiVersion").and_then(Value::as_str);
        let kind = map.get("kind").and_then(Value::as_str);
        match (api_version, kind) {
            (Some(api), Some(kind)) if api.split('/').next() == Some(API_GROUP) => match kind {
                "TestFlow" => load_manifest_flow(map, &positions, file, index, loaded),
                "TestEnvironment" => load_environment(&map, file, loaded),
                "TestSchedule" => loaded
                    .documents
                    .push(LoadedDocument::Schedule(LoadedSchedule {
                        file: file.to_path_buf(),
                        name: map
                            .get("metadata")
                            .and_then(|m| m.get("name"))
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                        spec: map.remove("spec").unwrap_or(Value::Null),
                        positions: positions.below("/spec"),
                    })),
                _ => loaded.documents.push(skipped(kind)),
            },
            (Some(_), Some(kind)) => loaded.documents.push(skipped(kind)),
            _ if is_environment_file(&map) => loaded
                .documents
                .push(skipped("environment file (give it with --env-file)")),
            _ if map.contains_key("endpoints") && !map.contains_key("steps") => loaded
                .documents
                .push(skipped("mock endpoints (for testmesh mock)")),
            _ => match map.shift_remove("flow") {
                Some(inner @ Value::Object(_)) => {
                    for key in map.keys() {
                        loaded.diagnostics.push(
                            Diagnostic::warning(format!(
                                "`{key}` beside `flow:` is ignored; put it inside `flow:`"
                            ))
                            .in_file(label.clone())
                            .at(positions.find(&format!("/{key}"))),
                        );
                    }
                    let positions = positions.below("/flow");
                    load_flow(inner, positions, file, index, None, "", loaded);
                }
                Some(other) => loaded.diagnostics.push(
                    Diagnostic::error(format!("`flow:` must be a map, found {}", kind_of(&other)))
                        .in_file(label.clone())
                        .at(positions.find("/flow")),
                ),
                None => load_flow(Value::Object(map), positions, file, index, None, "", loaded),
            },
        }
    }
}

/// TestFlow spec fields that say how the cluster runs the flow; the CRD schema checks them and a
/// local run has no use for them.
const CLUSTER_FIELDS: &[&str] = &[
    "environmentRef",
    "suspend",
    "runOnChange",
    "timeout",
    "concurrencyPolicy",
];

fn load_manifest_flow(
    mut map: serde_json::Map<String, Value>,
    positions: &Positions,
    file: &Path,
    index: usize,
    loaded: &mut Loaded,
) {
    let metadata = map.get("metadata");
    let name = metadata
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let namespace = metadata
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut spec = match map.remove("spec") {
        Some(spec @ Value::Object(_)) => spec,
        _ => {
            loaded.diagnostics.push(
                Diagnostic::error("a TestFlow needs a `spec` map holding the flow")
                    .in_file(file.display().to_string())
                    .at(positions.find("/spec")),
            );
            return;
        }
    };
    if let Value::Object(spec_map) = &mut spec {
        for key in CLUSTER_FIELDS {
            spec_map.remove(*key);
        }
        if !spec_map.contains_key("name") && !name.is_empty() {
            spec_map.insert("name".into(), Value::String(name.clone()));
        }
    }
    let meta = ManifestMeta { name, namespace };
    load_flow(
        spec,
        positions.below("/spec"),
        file,
        index,
        Some(meta),
        "spec.",
        loaded,
    );
}

fn load_environment(map: &serde_json::Map<String, Value>, file: &Path, loaded: &mut Loaded) {
    let spec = map.get("spec");
    let action_defaults = match spec.and_then(|s| s.get("actionDefaults")) {
        None => ActionDefaults::default(),
        Some(value) => match serde_json::from_value::<ActionDefaults>(value.clone()) {
            Ok(defaults) => defaults,
            Err(err) => {
                let message = format!(
                    "spec.actionDefaults: each action type takes a map of config keys: {err}"
                );
                loaded
                    .diagnostics
                    .push(Diagnostic::error(message).in_file(file.display().to_string()));
                ActionDefaults::default()
            }
        },
    };
    let text_map = |key: &str| -> IndexMap<String, String> {
        spec.and_then(|s| s.get(key))
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), crate::flow::expression::text_of(v)))
                    .collect()
            })
            .unwrap_or_default()
    };
    loaded
        .documents
        .push(LoadedDocument::Environment(LoadedEnvironment {
            file: file.to_path_buf(),
            name: map
                .get("metadata")
                .and_then(|m| m.get("name"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            variables: text_map("variables"),
            headers: text_map("headers"),
            services: text_map("serviceUrls"),
            action_defaults,
        }));
}

/// True for an environment file in the original platform's shape (`--env-file env.yaml`),
/// which may sit in a folder of flows: only environment fields, no steps.
fn is_environment_file(map: &serde_json::Map<String, Value>) -> bool {
    /// Fields a flow file does not have.
    const ONLY_IN_ENVIRONMENTS: &[&str] = &[
        "variables",
        "secrets",
        "headers",
        "services",
        "serviceUrls",
        "service_urls",
        "action_defaults",
        "actionDefaults",
    ];
    /// Other fields of an environment file, which alone do not tell it from a flow.
    const ALSO_IN_ENVIRONMENTS: &[&str] = &["name", "description", "color", "is_default"];
    let environment_field = |key: &String| {
        ONLY_IN_ENVIRONMENTS.contains(&key.as_str()) || ALSO_IN_ENVIRONMENTS.contains(&key.as_str())
    };
    map.keys().all(environment_field)
        && map
            .keys()
            .any(|key| ONLY_IN_ENVIRONMENTS.contains(&key.as_str()))
}

/// Field names a user may write at each level, in both spellings, for "did you mean".
const FLOW_FIELDS: &[&str] = &[
    "name",
    "description",
    "version",
    "author",
    "suite",
    "tags",
    "env",
    "env_file",
    "envFile",
    "setup",
    "steps",
    "teardown",
    "config",
    "data_source",
    "dataSource",
];
const STEP_FIELDS: &[&str] = &[
    "id",
    "name",
    "description",
    "action",
    "config",
    "assert",
    "output",
    "retry",
    "timeout",
    "when",
    "on_error",
    "onError",
    "schema",
];
const RETRY_FIELDS: &[&str] = &[
    "max_attempts",
    "maxAttempts",
    "delay",
    "backoff",
    "max_delay",
    "maxDelay",
    "jitter",
];
const FLOW_CONFIG_FIELDS: &[&str] = &["timeout", "fail_fast", "failFast"];

fn load_flow(
    value: Value,
    positions: Positions,
    file: &Path,
    document: usize,
    manifest: Option<ManifestMeta>,
    prefix: &str,
    loaded: &mut Loaded,
) {
    let label = file.display().to_string();
    let mut ignored = Vec::new();
    let mut track = serde_path_to_error::Track::new();
    let deserializer = serde_path_to_error::Deserializer::new(value, &mut track);
    let parsed: Result<FlowSpec, _> =
        serde_ignored::deserialize(deserializer, |path| ignored.push(ignored_pointer(&path)));
    match parsed {
        Ok(spec) => {
            for pointer in ignored {
                let (field, key, known) = describe_unknown(&pointer);
                let hint = did_you_mean(&key, known.iter().copied())
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                loaded.diagnostics.push(
                    Diagnostic::warning(format!("unknown field `{key}` is ignored{hint}"))
                        .in_file(label.clone())
                        .at(positions.find(&pointer))
                        .field(format!("{prefix}{field}")),
                );
            }
            loaded
                .documents
                .push(LoadedDocument::Flow(Box::new(LoadedFlow {
                    spec,
                    file: file.to_path_buf(),
                    document,
                    positions,
                    manifest,
                })));
        }
        Err(err) => {
            let pointer = track_pointer(&track.path());
            let field = field_of_pointer(&pointer);
            let message = err.to_string();
            let message = message
                .split_once(" at line ")
                .map_or(message.as_str(), |(head, _)| head)
                .to_string();
            let mut diagnostic = Diagnostic::error(message)
                .in_file(label)
                .at(positions.find(&pointer));
            if !field.is_empty() {
                diagnostic = diagnostic.field(format!("{prefix}{field}"));
            }
            loaded.diagnostics.push(diagnostic);
        }
    }
}

fn ignored_pointer(path: &serde_ignored::Path<'_>) -> String {
    match path {
        serde_ignored::Path::Root => String::new(),
        serde_ignored::Path::Seq { parent, index } => {
            format!("{}/{index}", ignored_pointer(parent))
        }
        serde_ignored::Path::Map { parent, key } => format!(
            "{}/{}",
            ignored_pointer(parent),
            super::source::pointer_segment(key)
        ),
        serde_ignored::Path::Some { parent }
        | serde_ignored::Path::NewtypeStruct { parent }
        | serde_ignored::Path::NewtypeVariant { parent } => ignored_pointer(parent),
    }
}

fn track_pointer(path: &serde_path_to_error::Path) -> String {
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            serde_path_to_error::Segment::Map { key } => {
                pointer.push('/');
                pointer.push_str(&super::source::pointer_segment(key));
            }
            serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => {}
        }
    }
    pointer
}

/// `/steps/0/retry/delay` → `steps[0].retry.delay`.
pub fn field_of_pointer(pointer: &str) -> String {
    let mut field = String::new();
    for segment in pointer.split('/').filter(|s| !s.is_empty()) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if segment.parse::<usize>().is_ok() {
            field.push_str(&format!("[{segment}]"));
        } else {
            if !field.is_empty() {
                field.push('.');
            }
            field.push_str(&segment);
        }
    }
    field
}

fn describe_unknown(pointer: &str) -> (String, String, &'static [&'static str]) {
    let segments: Vec<&str> = pointer.split('/').filter(|s| !s.is_empty()).collect();
    let key = segments.last().copied().unwrap_or_default().to_string();
    let known: &[&str] = match segments.as_slice() {
        [_] => FLOW_FIELDS,
        ["config", _] => FLOW_CONFIG_FIELDS,
        [list, _, _] if matches!(*list, "steps" | "setup" | "teardown") => STEP_FIELDS,
        [list, _, "retry", _] if matches!(*list, "steps" | "setup" | "teardown") => RETRY_FIELDS,
        _ => &[],
    };
    (field_of_pointer(pointer), key, known)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Loaded {
        let mut loaded = Loaded::default();
        load_text(text, Path::new("f.yaml"), &mut loaded);
        loaded
    }

    #[test]
    fn reads_both_dialects_to_the_same_flow() {
        let wrapped = load(
            "flow:\n  name: demo\n  steps:\n    - action: log\n      on_error: continue\n      retry: {max_attempts: 3, delay: 1s}\n",
        );
        let bare = load(
            "name: demo\nsteps:\n  - action: log\n    on_error: {action: continue}\n    retry: {max_attempts: 3, delay: 1s}\n",
        );
        let manifest = load(
            "apiVersion: testmesh.io/v1alpha1\nkind: TestFlow\nmetadata: {name: demo}\nspec:\n  steps:\n    - action: log\n      onError: continue\n      retry: {maxAttempts: 3, delay: 1s}\n",
        );
        let specs: Vec<FlowSpec> = [wrapped, bare, manifest]
            .iter()
            .map(|l| {
                assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
                l.flows().next().unwrap().spec.clone()
            })
            .collect();
        assert_eq!(specs[0], specs[1]);
        assert_eq!(specs[0], specs[2]);
        assert_eq!(specs[0].steps[0].retry.as_ref().unwrap().max_attempts, 3);
    }

    #[test]
    fn reads_every_document_and_skips_other_objects() {
        let loaded = load(
            "name: a\nsteps: [{action: log}]\n---\nname: b\nsteps: [{action: log}]\n---\napiVersion: testmesh.io/v1alpha1\nkind: TestSchedule\nmetadata: {name: s}\n---\napiVersion: testmesh.io/v1alpha1\nkind: TestEnvironment\nmetadata: {name: e}\nspec:\n  variables: {BASE: http://x, N: 3}\n  headers: {X-Team: qa}\n",
        );
        assert_eq!(loaded.flows().count(), 2);
        assert_eq!(loaded.documents.len(), 4);
        let env = loaded.environments().next().unwrap();
        assert_eq!(env.variables["N"], "3");
        assert_eq!(env.headers["X-Team"], "qa");
    }

    #[test]
    fn wrong_types_name_the_field_and_the_line() {
        let loaded =
            load("name: demo\nsteps:\n  - action: log\n    retry:\n      max_attempts: lots\n");
        let d = &loaded.diagnostics[0];
        assert!(d.is_error());
        assert_eq!(d.field.as_deref(), Some("steps[0].retry.max_attempts"));
        assert_eq!(d.line, Some(5));
        assert!(
            d.message.contains("invalid type: string \"lots\""),
            "{}",
            d.message
        );
    }

    #[test]
    fn bad_durations_are_reported_where_they_stand() {
        let loaded = load("name: demo\nsteps:\n  - action: log\n    timeout: 5 parsecs\n");
        let d = &loaded.diagnostics[0];
        assert_eq!(d.field.as_deref(), Some("steps[0].timeout"));
        assert_eq!(d.line, Some(4));
        assert!(d.message.contains("unknown unit"), "{}", d.message);
    }

    #[test]
    fn unknown_fields_warn_with_a_suggestion() {
        let loaded = load("name: demo\nsteps:\n  - action: log\n    retyr: {max_attempts: 2}\n");
        assert_eq!(loaded.flows().count(), 1);
        let d = &loaded.diagnostics[0];
        assert!(!d.is_error());
        assert_eq!(d.line, Some(4));
        assert_eq!(
            d.message,
            "unknown field `retyr` is ignored (did you mean `retry`?)"
        );
    }

    #[test]
    fn malformed_yaml_points_at_the_line() {
        let loaded = load("name: demo\nsteps:\n  - action: [log\n");
        let d = &loaded.diagnostics[0];
        assert!(d.message.starts_with("invalid YAML"), "{}", d.message);
        assert!(d.line.unwrap() >= 3);
    }
}
