//! The control-flow actions: `condition` (then/else), `for_each` (a list, a range or a count,
//! in order or a few at a time), `parallel` (branches that start from the parent's variables)
//! and `wait_until` (nested steps repeated until a condition holds). Nested steps are recorded
//! in the flow result under their parent's id (`loop[2].check`, `fanout.orders.create`), so
//! every report shows them; their captures are visible to the steps after the parent.

use std::time::Duration;

use futures::StreamExt;
use futures::future::BoxFuture;
use serde_json::{Map, Value};
use tokio::time::Instant;

use super::{Run, StepContext};
use crate::engine::actions::fields::{count, duration, flag, optional_text};
use crate::engine::actions::{ActionError, ActionOutput};
use crate::engine::evaluate::{Evaluator, Scope};
use crate::engine::result::StepStatus;
use crate::flow::actions::branches_are_steps;
use crate::flow::{OnError, Step};

/// The most iterations one `for_each` runs, so a mistaken range cannot run forever.
const MAX_ITERATIONS: usize = 100_000;
const DEFAULT_WAIT_INTERVAL: Duration = Duration::from_secs(1);
const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(60);

impl<'a> Run<'a> {
    /// A copy of this run for a branch or an iteration that runs beside others: same session,
    /// variables as they are now, its own records (merged back with [`Run::merge`]).
    fn fork(&self) -> Run<'a> {
        Run {
            flow: self.flow,
            options: self.options.clone(),
            execution_id: self.execution_id.clone(),
            vars: self.vars.clone(),
            session: self.session.clone(),
            evaluator: Evaluator::default(),
            steps: Vec::new(),
            captured: Default::default(),
            masker: self.masker.clone(),
            action_defaults: self.action_defaults.clone(),
        }
    }

    /// Takes a fork's records, captures and step results back.
    fn merge(&mut self, fork: Run<'a>) {
        self.steps.extend(fork.steps);
        for (name, value) in fork.captured {
            self.vars.set(name.clone(), value.clone());
            self.captured.insert(name, value);
        }
        self.vars.take_steps(fork.vars);
    }

    /// Runs nested steps in order under `prefix`; a failed step stops the list (unless it says
    /// `on_error: continue`) and is the error.
    pub(super) async fn run_nested(
        &mut self,
        steps: &[Step],
        prefix: &str,
        context: &StepContext<'_>,
    ) -> Result<(), String> {
        for (index, step) in steps.iter().enumerate() {
            let own = step
                .id
                .clone()
                .unwrap_or_else(|| format!("step_{}", index + 1));
            let id = format!("{prefix}.{own}");
            let result = self
                .run_step(step, &id, context.phase, context.deadline, context.cancel)
                .await;
            let status = result.status;
            self.record(result);
            match status {
                StepStatus::Passed | StepStatus::Skipped => {}
                StepStatus::Cancelled => return Err(format!("step `{id}` was cancelled")),
                StepStatus::Failed | StepStatus::Error => {
                    if step.on_error != Some(OnError::Continue) {
                        return Err(format!("step `{id}` failed"));
                    }
                }
            }
        }
        Ok(())
    }

    /// `condition`: runs `then` when the expression holds, `else` otherwise.
    pub(super) fn condition<'s>(
        &'s mut self,
        raw: &'s Map<String, Value>,
        context: &'s StepContext<'s>,
    ) -> BoxFuture<'s, Result<ActionOutput, ActionError>> {
        Box::pin(async move {
            let (key, expression) = ["condition", "if", "expression"]
                .into_iter()
                .find_map(|key| raw.get(key).map(|value| (key, value)))
                .ok_or_else(|| ActionError::invalid("condition", "is required: an expression"))?;
            let holds = match expression {
                Value::Bool(b) => *b,
                Value::String(text) => {
                    let scope = Scope::new(&self.vars, None);
                    self.evaluator
                        .condition(text, &self.vars, &scope)
                        .map_err(|err| ActionError::invalid(key, err))?
                }
                other => {
                    return Err(ActionError::invalid(
                        key,
                        format!("expected an expression, found {other}"),
                    ));
                }
            };
            let branch = if holds { "then" } else { "else" };
            let steps = nested_steps(raw, branch)?;
            let mut result = Map::new();
            result.insert("condition".into(), Value::Bool(holds));
            result.insert("branch".into(), Value::String(branch.into()));
            result.insert("steps".into(), Value::from(steps.len()));
            let prefix = format!("{}.{branch}", context.id);
            self.run_nested(&steps, &prefix, context)
                .await
                .map_err(ActionError::NestedFailed)?;
            Ok(ActionOutput::from_result(result))
        })
    }

    /// `for_each`: runs `steps` once per item with `item` and `index` set (or the names given
    /// by `as`/`item` and `index`); `max_concurrent` runs several iterations at once.
    pub(super) fn for_each<'s>(
        &'s mut self,
        config: &'s Map<String, Value>,
        raw: &'s Map<String, Value>,
        context: &'s StepContext<'s>,
    ) -> BoxFuture<'s, Result<ActionOutput, ActionError>> {
        Box::pin(async move {
            let items = loop_items(config)?;
            let steps = nested_steps(raw, "steps")?;
            let item_name = match optional_text(config, "as")? {
                Some(name) => name,
                None => optional_text(config, "item")?.unwrap_or_else(|| "item".into()),
            };
            let index_name = optional_text(config, "index")?.unwrap_or_else(|| "index".into());
            let limit = match count(config, "max_concurrent", 1)? {
                Some(n) => n,
                None => count(config, "parallelism", 1)?.unwrap_or(1),
            };
            let limit = usize::try_from(limit).unwrap_or(usize::MAX);
            let fail_fast = flag(config, "fail_fast", true)?;
            let mut outcomes: Vec<(usize, Result<(), String>)> = Vec::new();
            if limit <= 1 {
                for (index, item) in items.iter().enumerate() {
                    self.vars.set(item_name.clone(), item.clone());
                    self.vars.set(index_name.clone(), Value::from(index));
                    let prefix = format!("{}[{index}]", context.id);
                    let outcome = self.run_nested(&steps, &prefix, context).await;
                    let failed = outcome.is_err();
                    outcomes.push((index, outcome));
                    if failed && fail_fast {
                        break;
                    }
                }
            } else {
                let stop = context.cancel.child_token();
                let shared = StepContext {
                    id: context.id,
                    phase: context.phase,
                    deadline: context.deadline,
                    cancel: &stop,
                };
                let mut runs = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    let mut fork = self.fork();
                    fork.vars.set(item_name.clone(), item.clone());
                    fork.vars.set(index_name.clone(), Value::from(index));
                    let (steps, shared, stop) = (&steps, &shared, &stop);
                    runs.push(async move {
                        if stop.is_cancelled() {
                            return (index, fork, None);
                        }
                        let prefix = format!("{}[{index}]", shared.id);
                        let outcome = fork.run_nested(steps, &prefix, shared).await;
                        if outcome.is_err() && fail_fast {
                            stop.cancel();
                        }
                        (index, fork, Some(outcome))
                    });
                }
                let mut finished: Vec<_> = futures::stream::iter(runs)
                    .buffer_unordered(limit)
                    .collect()
                    .await;
                finished.sort_by_key(|(index, _, _)| *index);
                for (index, fork, outcome) in finished {
                    self.merge(fork);
                    if let Some(outcome) = outcome {
                        outcomes.push((index, outcome));
                    }
                }
            }
            let summary: Vec<Value> = outcomes
                .iter()
                .map(|(index, outcome)| {
                    let mut entry = Map::new();
                    entry.insert("index".into(), Value::from(*index));
                    entry.insert("item".into(), items[*index].clone());
                    entry.insert("passed".into(), Value::Bool(outcome.is_ok()));
                    Value::Object(entry)
                })
                .collect();
            let failures: Vec<String> = outcomes
                .iter()
                .filter_map(|(_, outcome)| outcome.clone().err())
                .collect();
            if !failures.is_empty() {
                let skipped = items.len() - outcomes.len();
                let tail = if skipped > 0 {
                    format!("; {skipped} iterations not run")
                } else {
                    String::new()
                };
                return Err(ActionError::NestedFailed(format!(
                    "{} of {} iterations failed: {}{tail}",
                    failures.len(),
                    items.len(),
                    failures.join(", ")
                )));
            }
            let mut result = Map::new();
            result.insert("iterations".into(), Value::from(outcomes.len()));
            result.insert("results".into(), Value::Array(summary));
            Ok(ActionOutput::from_result(result))
        })
    }

    /// `parallel`: runs each branch beside the others, each from the parent's variables;
    /// `max_concurrent` bounds how many run at once, `fail_fast` cancels the rest at the first
    /// failure. Branch captures are visible after the step.
    pub(super) fn parallel<'s>(
        &'s mut self,
        config: &'s Map<String, Value>,
        raw: &'s Map<String, Value>,
        context: &'s StepContext<'s>,
    ) -> BoxFuture<'s, Result<ActionOutput, ActionError>> {
        Box::pin(async move {
            let branches = branches(raw)?;
            let limit = count(config, "max_concurrent", 1)?
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(branches.len().max(1));
            let fail_fast = flag(config, "fail_fast", false)?;
            let stop = context.cancel.child_token();
            let shared = StepContext {
                id: context.id,
                phase: context.phase,
                deadline: context.deadline,
                cancel: &stop,
            };
            let mut runs = Vec::with_capacity(branches.len());
            for (index, (name, steps)) in branches.iter().enumerate() {
                let mut fork = self.fork();
                let (shared, stop) = (&shared, &stop);
                runs.push(async move {
                    if stop.is_cancelled() {
                        return (index, fork, None);
                    }
                    let prefix = match name {
                        Some(name) => format!("{}.{name}", shared.id),
                        None => shared.id.to_string(),
                    };
                    let outcome = fork.run_nested(steps, &prefix, shared).await;
                    if outcome.is_err() && fail_fast {
                        stop.cancel();
                    }
                    (index, fork, Some(outcome))
                });
            }
            let mut finished: Vec<_> = futures::stream::iter(runs)
                .buffer_unordered(limit)
                .collect()
                .await;
            finished.sort_by_key(|(index, _, _)| *index);
            let mut summary = Vec::new();
            let mut failures = Vec::new();
            for (index, fork, outcome) in finished {
                self.merge(fork);
                let status = match &outcome {
                    None => "not_run",
                    Some(Ok(())) => "passed",
                    Some(Err(reason)) => {
                        failures.push(reason.clone());
                        "failed"
                    }
                };
                let mut entry = Map::new();
                let name = branches[index]
                    .0
                    .clone()
                    .unwrap_or_else(|| format!("branch_{}", index + 1));
                entry.insert("name".into(), Value::String(name));
                entry.insert("status".into(), Value::String(status.into()));
                summary.push(Value::Object(entry));
            }
            if !failures.is_empty() {
                return Err(ActionError::NestedFailed(format!(
                    "{} of {} branches failed: {}",
                    failures.len(),
                    branches.len(),
                    failures.join(", ")
                )));
            }
            let mut result = Map::new();
            result.insert("branches".into(), Value::Array(summary));
            Ok(ActionOutput::from_result(result))
        })
    }

    /// `wait_until`: runs `steps` every `interval` until `condition` holds (or, without one,
    /// until every step passes). Only the last round is recorded.
    pub(super) fn wait_until<'s>(
        &'s mut self,
        config: &'s Map<String, Value>,
        raw: &'s Map<String, Value>,
        context: &'s StepContext<'s>,
    ) -> BoxFuture<'s, Result<ActionOutput, ActionError>> {
        Box::pin(async move {
            let steps = nested_steps(raw, "steps")?;
            let condition = match raw.get("condition") {
                None | Some(Value::Null) => None,
                Some(Value::String(text)) => Some(text.clone()),
                Some(other) => {
                    return Err(ActionError::invalid(
                        "condition",
                        format!("expected an expression, found {other}"),
                    ));
                }
            };
            let interval = duration(config, "interval", DEFAULT_WAIT_INTERVAL)?;
            let limit = duration(config, "timeout", DEFAULT_WAIT_TIMEOUT)?;
            let max_attempts = count(config, "max_attempts", 1)?;
            let started = Instant::now();
            let mut attempts = 0u64;
            loop {
                attempts += 1;
                let mut round = self.fork();
                let outcome = round.run_nested(&steps, context.id, context).await;
                let why_not = match (&condition, outcome) {
                    (_, Err(reason)) if context.cancel.is_cancelled() => {
                        self.merge(round);
                        return Err(ActionError::Failed(reason));
                    }
                    (None, Ok(())) => None,
                    (None, Err(reason)) => Some(reason),
                    (Some(expression), _) => {
                        let scope = Scope::new(&round.vars, None);
                        match self.evaluator.condition(expression, &round.vars, &scope) {
                            Ok(true) => None,
                            Ok(false) => Some(format!("`{expression}` was false")),
                            Err(err) => Some(format!("`{expression}`: {err}")),
                        }
                    }
                };
                let Some(why_not) = why_not else {
                    self.merge(round);
                    let mut result = Map::new();
                    result.insert("success".into(), Value::Bool(true));
                    result.insert("attempts".into(), Value::from(attempts));
                    return Ok(ActionOutput::from_result(result));
                };
                let out_of_attempts = max_attempts.is_some_and(|max| attempts >= max);
                if out_of_attempts || started.elapsed() + interval > limit {
                    self.merge(round);
                    return Err(ActionError::Failed(format!(
                        "not done after {attempts} rounds in {}: {why_not}",
                        humantime::format_duration(Duration::from_millis(
                            u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
                        ))
                    )));
                }
                tokio::time::sleep(interval).await;
            }
        })
    }
}

/// A list of nested steps from the raw config; missing means empty.
fn nested_steps(raw: &Map<String, Value>, key: &str) -> Result<Vec<Step>, ActionError> {
    match raw.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(value) => serde_json::from_value(value.clone())
            .map_err(|err| ActionError::invalid(key, format!("not a list of steps: {err}"))),
    }
}

/// A `parallel` branch: its name (none when each step is its own branch) and its steps.
type Branch = (Option<String>, Vec<Step>);

/// The branches of a `parallel` step: `branches: [{name, steps}]`, or `steps` (or `branches`
/// listing steps, as the original platform's files write it), one per branch.
fn branches(raw: &Map<String, Value>) -> Result<Vec<Branch>, ActionError> {
    let listed = match raw.get("branches") {
        Some(Value::Array(items)) if !branches_are_steps(items) => Some(items),
        _ => None,
    };
    if let Some(items) = listed {
        return items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                let field = format!("branches[{index}]");
                let Value::Object(branch) = item else {
                    return Err(ActionError::invalid(field, "expected {name, steps}"));
                };
                let name = match branch.get("name") {
                    Some(Value::String(name)) => name.clone(),
                    _ => format!("branch_{}", index + 1),
                };
                let steps = nested_steps(branch, "steps")
                    .map_err(|err| ActionError::invalid(field, err.to_string()))?;
                Ok((Some(name), steps))
            })
            .collect();
    }
    let key = if raw.contains_key("steps") {
        "steps"
    } else {
        "branches"
    };
    let steps = nested_steps(raw, key)?;
    Ok(steps
        .into_iter()
        .enumerate()
        .map(|(index, mut step)| {
            step.id.get_or_insert_with(|| format!("step_{}", index + 1));
            (None, vec![step])
        })
        .collect())
}

/// What a `for_each` iterates over: `items` (a list, or JSON text of one), `range`
/// (`{from, to, step}` with `to` included, or `"1..5"` / `"1..=5"`), or `count`.
fn loop_items(config: &Map<String, Value>) -> Result<Vec<Value>, ActionError> {
    let items = if let Some(items) = config.get("items") {
        match items {
            Value::Array(items) => items.clone(),
            Value::Null => Vec::new(),
            Value::String(text) => serde_json::from_str::<Vec<Value>>(text).map_err(|_| {
                ActionError::invalid(
                    "items",
                    format!("expected a list (or a reference to one), found text {text:?}"),
                )
            })?,
            Value::Object(map) => map
                .iter()
                .map(|(key, value)| {
                    let mut entry = Map::new();
                    entry.insert("key".into(), Value::String(key.clone()));
                    entry.insert("value".into(), value.clone());
                    Value::Object(entry)
                })
                .collect(),
            other => vec![other.clone()],
        }
    } else if let Some(range) = config.get("range") {
        range_items(range)?
    } else if let Some(n) = count(config, "count", 0)? {
        (0..n.min(MAX_ITERATIONS as u64)).map(Value::from).collect()
    } else {
        return Err(ActionError::invalid(
            "items",
            "for_each needs `items`, `range` or `count`",
        ));
    };
    if items.len() > MAX_ITERATIONS {
        return Err(ActionError::invalid(
            "items",
            format!(
                "{} items is more than the {MAX_ITERATIONS} a loop may run",
                items.len()
            ),
        ));
    }
    Ok(items)
}

fn range_items(range: &Value) -> Result<Vec<Value>, ActionError> {
    let bad = |why: String| ActionError::invalid("range", why);
    let number = |value: Option<&Value>, name: &str| -> Result<Option<i64>, ActionError> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| bad(format!("{name}: {n} is not a whole number"))),
            Some(Value::String(text)) => text
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| bad(format!("{name}: {text:?} is not a whole number"))),
            Some(other) => Err(bad(format!(
                "{name}: expected a whole number, found {other}"
            ))),
        }
    };
    let (from, to, step) = match range {
        Value::Object(map) => {
            let from = number(map.get("from"), "from")?.unwrap_or(0);
            let Some(to) = number(map.get("to"), "to")? else {
                return Err(bad("needs `to`".into()));
            };
            (from, to, number(map.get("step"), "step")?.unwrap_or(1))
        }
        Value::String(text) => {
            let (from, to, inclusive) = if let Some((a, b)) = text.split_once("..=") {
                (a, b, true)
            } else if let Some((a, b)) = text.split_once("..") {
                (a, b, false)
            } else {
                return Err(bad(format!(
                    "{text:?}: write `1..5` (5 left out) or `1..=5`"
                )));
            };
            let from = number(Some(&Value::String(from.into())), "from")?.unwrap_or(0);
            let to = number(Some(&Value::String(to.into())), "to")?.unwrap_or(0);
            (from, if inclusive { to } else { to - 1 }, 1)
        }
        other => {
            return Err(bad(format!(
                "expected {{from, to}} or \"1..5\", found {other}"
            )));
        }
    };
    if step <= 0 {
        return Err(bad(format!("step {step} must be at least 1")));
    }
    let mut items = Vec::new();
    let mut n = from;
    while n <= to {
        if items.len() >= MAX_ITERATIONS {
            return Err(bad(format!(
                "more than the {MAX_ITERATIONS} iterations a loop may run"
            )));
        }
        items.push(Value::from(n));
        n += step;
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ranges_lists_and_counts() {
        let items = |config: Value| loop_items(config.as_object().unwrap());
        assert_eq!(
            items(json!({"range": {"from": 1, "to": 3}})).unwrap(),
            [json!(1), json!(2), json!(3)]
        );
        assert_eq!(
            items(json!({"range": "0..3"})).unwrap(),
            [json!(0), json!(1), json!(2)]
        );
        assert_eq!(
            items(json!({"range": "2..=3"})).unwrap(),
            [json!(2), json!(3)]
        );
        assert_eq!(items(json!({"count": 2})).unwrap(), [json!(0), json!(1)]);
        assert_eq!(items(json!({"items": "[\"a\"]"})).unwrap(), [json!("a")]);
        let err = items(json!({"range": {"from": 1, "to": 3, "step": 0}})).unwrap_err();
        assert!(
            err.to_string().contains("step 0 must be at least 1"),
            "{err}"
        );
    }
}
