//! The files a flow is made of, for `testmesh watch`: its own file, its `env_file`, its
//! `data_source` file, and the flows it calls with `run_flow` (found as the engine finds them,
//! with their own files in turn). A change to any of them re-runs the flow.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::engine::flow_resolver::find_file;
use crate::flow::data_source;
use crate::flow::{FlowSpec, LoadedFlow};

/// The config keys `run_flow` reads its target from, in its order.
const RUN_FLOW_TARGET_KEYS: [&str; 3] = ["flow", "file", "path"];

/// Every file `flow` is made of, as absolute paths.
pub fn files_of(flow: &LoadedFlow) -> BTreeSet<PathBuf> {
    let mut files = BTreeSet::new();
    files.insert(absolute(&flow.file));
    add_files_of(&flow.spec, flow.file.parent(), &mut files);
    files
}

/// Adds the files `spec` (from a file in `base`) reads, and those of the flows it calls, to
/// `files`; a called flow already in `files` is not visited again, so cycles end.
fn add_files_of(spec: &FlowSpec, base: Option<&Path>, files: &mut BTreeSet<PathBuf>) {
    let base = base.unwrap_or(Path::new("."));
    if let Some(env_file) = &spec.env_file {
        files.insert(absolute(&base.join(env_file)));
    }
    if let Some(file) = spec
        .data_source
        .as_ref()
        .and_then(|source| data_source::file_of(source, Some(base)))
    {
        files.insert(absolute(&file));
    }
    let steps = spec.setup.iter().chain(&spec.steps).chain(&spec.teardown);
    let mut targets = Vec::new();
    for step in steps {
        if let Ok(step) = serde_json::to_value(step) {
            run_flow_targets(&step, &mut targets);
        }
    }
    for target in targets {
        let Ok((file, called)) = find_file(base, &target) else {
            continue;
        };
        if files.insert(absolute(&file)) {
            add_files_of(&called, file.parent(), files);
        }
    }
}

/// The literal targets of the `run_flow` steps in `value`, nested steps included. A target
/// holding `${...}` is only known at run time, and skipped.
fn run_flow_targets(value: &Value, targets: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if map.get("action").and_then(Value::as_str) == Some("run_flow") {
                let target = map.get("config").and_then(|config| {
                    RUN_FLOW_TARGET_KEYS
                        .iter()
                        .find_map(|key| config.get(*key).and_then(Value::as_str))
                });
                if let Some(target) = target.filter(|t| !t.contains("${")) {
                    targets.push(target.to_string());
                }
            }
            map.values()
                .for_each(|inner| run_flow_targets(inner, targets));
        }
        Value::Array(items) => items
            .iter()
            .for_each(|inner| run_flow_targets(inner, targets)),
        _ => {}
    }
}

/// `path` made absolute and, where it exists, free of `..` and symlinks, so that it compares
/// equal to the paths file events carry.
pub fn absolute(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|dir| dir.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::load_paths;

    #[test]
    fn a_flow_is_made_of_its_file_env_file_data_and_the_flows_it_calls_nested_included() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write(
            "main.yaml",
            "name: main\nenv_file: .env\ndata_source: rows.csv\nsteps:\n\
             \x20 - action: run_flow\n    config: {flow: login.yaml}\n\
             \x20 - action: for_each\n    config:\n      items: [1]\n      steps:\n\
             \x20       - action: run_flow\n          config: {flow: audit}\n\
             \x20 - action: run_flow\n    config: {flow: '${which}'}\n",
        );
        write(
            "login.yaml",
            "name: login\nsteps:\n  - action: run_flow\n    config: {flow: main.yaml}\n",
        );
        write(
            "audit.yaml",
            "name: audit\nsteps:\n  - action: log\n    config: {message: hi}\n",
        );
        write(".env", "A=1\n");
        write("rows.csv", "a\n1\n");
        write(
            "other.yaml",
            "name: other\nsteps:\n  - action: log\n    config: {message: hi}\n",
        );

        let loaded = load_paths(&[dir.path().join("main.yaml")]);
        let flow = loaded.flows().next().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let expected: BTreeSet<PathBuf> =
            ["main.yaml", "login.yaml", "audit.yaml", ".env", "rows.csv"]
                .iter()
                .map(|name| root.join(name))
                .collect();
        assert_eq!(files_of(flow), expected);
    }
}
