//! `run_flow`: runs another flow, found by the run's flow resolver (a file by path relative to
//! the calling flow's folder or by its `name` in that folder; a TestFlow in an executor), with `inputs` as its variables (they win
//! over the called flow's `env`, which gives defaults). Its steps
//! are recorded under the calling step's id and its captured values are the step's `outputs`.
//! A flow that calls itself, directly or through others, is stopped with the chain of flows.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use super::{Run, RunOptions, RunTrace, StepContext};
use crate::engine::actions::fields::{first_text, optional_map};
use crate::engine::actions::{ActionError, ActionOutput};
use crate::engine::flow_resolver::FlowFiles;
use crate::engine::result::FlowStatus;

impl Run<'_> {
    pub(super) fn call_flow<'s>(
        &'s mut self,
        config: &'s Map<String, Value>,
        context: &'s StepContext<'s>,
    ) -> BoxFuture<'s, Result<ActionOutput, ActionError>> {
        Box::pin(async move {
            let Some((target, key)) = first_text(config, &["flow", "file", "path"])? else {
                return Err(ActionError::invalid(
                    "flow",
                    "is required: a flow file or a flow name",
                ));
            };
            let resolver = self
                .options
                .flows
                .clone()
                .unwrap_or_else(|| Arc::new(FlowFiles));
            let called = resolver
                .find(&target, self.options.base_dir.as_deref())
                .await
                .map_err(|err| ActionError::invalid(key, err))?;
            let mut stack = self.options.call_stack.clone();
            if let Some(source) = &self.options.source {
                stack.push(resolver.identity(source));
            }
            if stack.contains(&called.identity) {
                let chain: Vec<&str> = stack
                    .iter()
                    .chain(std::iter::once(&called.identity))
                    .map(String::as_str)
                    .collect();
                return Err(ActionError::invalid(
                    key,
                    format!("flows call each other in a cycle: {}", chain.join(" → ")),
                ));
            }
            // Inputs win over the called flow's own `env`, which then only gives defaults.
            let mut spec = called.spec;
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
                services: self.options.services.clone(),
                action_defaults: self.options.action_defaults.clone(),
                base_dir: called.base_dir,
                source: Some(called.identity),
                cancel: context.cancel.clone(),
                abort: self.options.abort.clone(),
                events: None,
                call_stack: stack,
                flows: Some(resolver),
                // Its span is a child of this step's, which it is run in.
                trace: RunTrace {
                    traceparent: None,
                    ..self.options.trace.clone()
                },
            };
            let location = called.location;
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
                    location,
                    called.status.as_str()
                )));
            }
            let mut result = Map::new();
            result.insert("flow".into(), Value::String(called.flow_name));
            result.insert("file".into(), Value::String(location));
            result.insert(
                "status".into(),
                Value::String(called.status.as_str().into()),
            );
            result.insert("outputs".into(), Value::Object(outputs));
            Ok(ActionOutput::from_result(result))
        })
    }
}
