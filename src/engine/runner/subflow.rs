//! `run_flow`: runs another flow file, found by path (relative to the calling flow's folder)
//! or by its `name` among the flows in that folder, with `inputs` as its variables (they win
//! over the called flow's `env`, which gives defaults). Its steps
//! are recorded under the calling step's id and its captured values are the step's `outputs`.
//! A flow that calls itself, directly or through others, is stopped with the chain of files.

use std::path::{Path, PathBuf};

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use super::{Run, RunOptions, RunTrace, StepContext};
use crate::engine::actions::fields::{first_text, optional_map};
use crate::engine::actions::{ActionError, ActionOutput};
use crate::engine::result::FlowStatus;
use crate::flow::FlowSpec;
use crate::flow::load::load_paths;

impl Run<'_> {
    pub(super) fn call_flow<'s>(
        &'s mut self,
        config: &'s Map<String, Value>,
        context: &'s StepContext,
    ) -> BoxFuture<'s, Result<ActionOutput, ActionError>> {
        Box::pin(async move {
            let Some((target, key)) = first_text(config, &["flow", "file", "path"])? else {
                return Err(ActionError::invalid(
                    "flow",
                    "is required: a flow file or a flow name",
                ));
            };
            let base = self
                .options
                .base_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from("."));
            let (file, spec) =
                find_flow(&base, &target).map_err(|err| ActionError::invalid(key, err))?;
            let canonical = file.canonicalize().unwrap_or_else(|_| file.clone());
            let mut stack = self.options.call_stack.clone();
            if let Some(source) = &self.options.source {
                let current = PathBuf::from(source);
                stack.push(current.canonicalize().unwrap_or(current));
            }
            if stack.contains(&canonical) {
                let chain: Vec<String> = stack
                    .iter()
                    .chain(std::iter::once(&canonical))
                    .map(|p| p.display().to_string())
                    .collect();
                return Err(ActionError::invalid(
                    key,
                    format!("flows call each other in a cycle: {}", chain.join(" → ")),
                ));
            }
            // Inputs win over the called flow's own `env`, which then only gives defaults.
            let mut spec = spec;
            let mut variables = self.options.variables.clone();
            for key in ["inputs", "variables"] {
                if let Some(inputs) = optional_map(config, key)? {
                    for (name, value) in inputs {
                        spec.env.shift_remove(name);
                        variables.insert(name.clone(), value.clone());
                    }
                }
            }
            let options = RunOptions {
                execution_id: Some(self.execution_id.clone()),
                variables,
                secrets: self.options.secrets.clone(),
                default_headers: self.options.default_headers.clone(),
                base_dir: file.parent().map(Path::to_path_buf),
                source: Some(canonical.display().to_string()),
                cancel: context.cancel.clone(),
                abort: self.options.abort.clone(),
                events: None,
                call_stack: stack,
                // Its span is a child of this step's, which it is run in.
                trace: RunTrace {
                    traceparent: None,
                    ..self.options.trace.clone()
                },
            };
            let called = super::run_flow(&spec, options).await;
            for mut step in called.steps {
                step.id = format!("{}.{}", context.id, step.id);
                self.record(step);
            }
            let outputs: Map<String, Value> = called.captured.into_iter().collect();
            if called.status != FlowStatus::Passed {
                let why = called.error.map(|e| format!(": {e}")).unwrap_or_default();
                return Err(ActionError::NestedFailed(format!(
                    "flow `{}` ({}) {}{why}",
                    called.flow_name,
                    file.display(),
                    called.status.as_str()
                )));
            }
            let mut result = Map::new();
            result.insert("flow".into(), Value::String(called.flow_name));
            result.insert("file".into(), Value::String(file.display().to_string()));
            result.insert(
                "status".into(),
                Value::String(called.status.as_str().into()),
            );
            result.insert("outputs".into(), Value::Object(outputs));
            Ok(ActionOutput::from_result(result))
        })
    }
}

/// The file and flow `target` names: a path (with or without `.yaml`/`.yml`), or the `name` of a
/// flow in a file under `base`.
fn find_flow(base: &Path, target: &str) -> Result<(PathBuf, FlowSpec), String> {
    let direct = base.join(target);
    let candidates = [
        direct.clone(),
        direct.with_extension("yaml"),
        direct.with_extension("yml"),
    ];
    if let Some(file) = candidates.iter().find(|p| p.is_file()) {
        let loaded = load_paths(std::slice::from_ref(file));
        if loaded.has_errors() {
            let problems: Vec<String> =
                loaded.diagnostics.iter().map(ToString::to_string).collect();
            return Err(format!(
                "{} does not load: {}",
                file.display(),
                problems.join("; ")
            ));
        }
        return loaded
            .flows()
            .next()
            .map(|flow| (file.clone(), flow.spec.clone()))
            .ok_or_else(|| format!("{} holds no flow", file.display()));
    }
    let loaded = load_paths(&[base.to_path_buf()]);
    loaded
        .flows()
        .find(|flow| flow.spec.name == target)
        .map(|flow| (flow.file.clone(), flow.spec.clone()))
        .ok_or_else(|| {
            format!(
                "no flow file `{target}` and no flow named `{target}` under {}",
                base.display()
            )
        })
}
