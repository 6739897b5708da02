//! Running flows written in YAML and reading their results, for the action tests.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use testmesh::engine::{FlowResult, RunOptions, StepResult, builtins, run_flow};
use testmesh::flow::load::{Loaded, load_text};
use testmesh::flow::model::FlowSpec;
use testmesh::flow::validate::{KnownNames, validate};

/// Only there to stop a broken run from hanging the suite; no test depends on timing.
const BOUND: Duration = Duration::from_secs(60);

pub fn parse(yaml: &str) -> FlowSpec {
    let mut loaded = Loaded::default();
    load_text(yaml, Path::new("flow.yaml"), &mut loaded);
    assert!(
        !loaded.has_errors(),
        "the flow does not load: {:#?}",
        loaded.diagnostics
    );
    loaded
        .flows()
        .next()
        .expect("no flow in the text")
        .spec
        .clone()
}

pub async fn run(yaml: &str) -> FlowResult {
    run_with(yaml, RunOptions::default()).await
}

pub async fn run_with(yaml: &str, options: RunOptions) -> FlowResult {
    let flow = parse(yaml);
    tokio::time::timeout(BOUND, run_flow(&flow, options))
        .await
        .expect("the run did not finish")
}

pub fn step<'a>(result: &'a FlowResult, id: &str) -> &'a StepResult {
    result
        .steps
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("no step `{id}` in {}", dump(result)))
}

/// The action result of a step's last attempt.
pub fn response<'a>(result: &'a FlowResult, id: &str) -> &'a Value {
    step(result, id)
        .last_attempt()
        .and_then(|a| a.response.as_ref())
        .unwrap_or_else(|| panic!("step `{id}` has no response: {}", dump(result)))
}

pub fn error_of(result: &FlowResult, id: &str) -> String {
    step(result, id)
        .last_attempt()
        .and_then(|a| a.error.clone())
        .unwrap_or_default()
}

pub fn dump(result: &FlowResult) -> String {
    serde_json::to_string_pretty(result).unwrap()
}

/// What `testmesh validate` says of `text`, read as `flows/bad.yaml`: load and validation
/// diagnostics, each as printed.
pub fn diagnostics(text: &str) -> Vec<String> {
    let mut loaded = Loaded::default();
    load_text(text, Path::new("flows/bad.yaml"), &mut loaded);
    let mut out: Vec<String> = loaded.diagnostics.iter().map(ToString::to_string).collect();
    for flow in loaded.flows() {
        out.extend(
            validate(flow, &KnownNames::default(), builtins::NAMES)
                .iter()
                .map(ToString::to_string),
        );
    }
    out
}

/// Run options with the variables `vars` (names to text values).
pub fn with_vars(vars: &[(&str, &str)]) -> RunOptions {
    RunOptions {
        variables: vars
            .iter()
            .map(|(name, value)| (name.to_string(), Value::String(value.to_string())))
            .collect(),
        ..RunOptions::default()
    }
}

/// Runs `examples/services/{file}` through the CLI with `--var name=value` for each of `vars`
/// and answers what it printed, after checking that it passed. Asynchronously, so servers on
/// the test's runtime go on answering.
pub async fn run_example(file: &str, vars: &[(&str, &str)]) -> String {
    let example = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/services")
        .join(file);
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_testmesh"));
    command.arg("run").arg(&example);
    for (name, value) in vars {
        command.arg("--var").arg(format!("{name}={value}"));
    }
    let output = tokio::time::timeout(BOUND, command.output())
        .await
        .expect("the example did not finish")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    stdout
}
