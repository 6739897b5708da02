//! Runs one flow: setup, then steps, then teardown (always). Each step may be skipped by
//! `when`, retried by its `retry` policy, cut off by its `timeout`, and stops the flow on
//! failure unless `on_error: continue`. The flow timeout and cancellation stop the current step
//! and skip the rest; teardown still runs, and only `abort` stops it.

mod contract;
mod control;
mod poll;
mod subflow;

use std::any::Any;
use std::borrow::Cow;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::FutureExt;
use indexmap::IndexMap;
use rand::RngExt;
use serde_json::{Map, Value};
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::actions::{self, ActionError, ActionOutput, Deferred};
use super::capture::{capture, capture_source, without_own_id};
use super::evaluate::{Evaluator, Scope};
use super::flow_resolver::FlowResolver;
use super::interpolate::{interpolate_map, interpolate_text, interpolate_value};
use super::mask::Masker;
use super::panics;
use super::recorded::Recorded;
use super::result::{AttemptResult, FlowResult, FlowStatus, Phase, StepResult, StepStatus};
use super::retry::delay_after;
use super::schema_check;
use super::session::Session;
use super::trace::{self, RunTrace};
use super::variables::Variables;
use crate::flow::action_defaults::{ActionDefaults, merged_under};
use crate::flow::actions::ActionKind;
use crate::flow::output::OutputSource;
use crate::flow::validate::SERVICES;
use crate::flow::{Assertion, FlowSpec, OnError, Step};

/// What a caller gives a run besides the flow.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The run id; a new UUID when not given.
    pub execution_id: Option<String>,
    /// Environment variables (TestEnvironment, `--env-file`, `--var`): the lowest precedence.
    pub variables: IndexMap<String, Value>,
    /// Secret values, masked in everything the run records. Their names are also variables.
    pub secrets: IndexMap<String, String>,
    /// Headers every HTTP step sends unless it sets its own.
    pub default_headers: IndexMap<String, String>,
    /// The environment's services: name to URL or connection string, read as `${service.NAME}`.
    pub services: IndexMap<String, String>,
    /// Config each action type gets from the environment; a step's own keys win.
    pub action_defaults: ActionDefaults,
    /// The flow file's folder, for `env_file`.
    pub base_dir: Option<PathBuf>,
    /// The flow file, recorded in the result.
    pub source: Option<String>,
    /// Stops the setup and main steps; teardown still runs.
    pub cancel: CancellationToken,
    /// Stops everything, teardown included.
    pub abort: CancellationToken,
    /// Receives an event as each step finishes (already masked).
    pub events: Option<UnboundedSender<RunEvent>>,
    /// The identities of the flows whose `run_flow` calls led to this run, outermost first, so
    /// a flow that calls itself (directly or not) is stopped.
    pub call_stack: Vec<String>,
    /// Where `run_flow` finds the flows it calls; flow files when not given.
    pub flows: Option<Arc<dyn FlowResolver>>,
    /// The run's namespace, trigger and parent trace, for its span.
    pub trace: RunTrace,
}

/// Progress of a run, for live output.
#[derive(Debug, Clone)]
pub enum RunEvent {
    Started {
        execution_id: String,
        flow_name: String,
    },
    StepFinished {
        execution_id: String,
        step: Box<StepResult>,
    },
}

/// Runs `flow` to the end and returns its result. It never panics: a panic in the engine (a
/// bug) ends the run in error with the steps recorded so far.
pub async fn run_flow(flow: &FlowSpec, options: RunOptions) -> FlowResult {
    let mut run = Run::new(flow, options);
    let span = trace::flow_span(&flow.name, &run.execution_id, &run.options.trace);
    let started_at = Utc::now();
    let clock = Instant::now();
    // Boxed, as each step's attempts are below: the span wrappers would otherwise nest the
    // future types of nested steps past the compiler's depth limit in every crate that awaits
    // a run.
    let ran = AssertUnwindSafe(Box::pin(run.execute(started_at, clock)))
        .catch_unwind()
        .instrument(span.clone())
        .await;
    let result = ran.unwrap_or_else(|payload| run.crashed(started_at, clock, payload.as_ref()));
    trace::finish_flow(&span, &result);
    result
}

struct Run<'a> {
    flow: &'a FlowSpec,
    options: RunOptions,
    execution_id: String,
    vars: Variables,
    /// Shared with the forks that run parallel branches and loop iterations.
    session: Arc<Session>,
    evaluator: Evaluator,
    steps: Vec<StepResult>,
    captured: IndexMap<String, Value>,
    masker: Masker,
    /// The environment's action defaults by action type.
    action_defaults: HashMap<ActionKind, Map<String, Value>>,
}

/// Where a step runs, for the control-flow actions that run steps of their own. Borrowed, so
/// that making one for every attempt copies no id and takes no lock of the cancel token.
struct StepContext<'c> {
    /// The step's id as reports show it; nested steps are named under it.
    id: &'c str,
    phase: Phase,
    deadline: Option<Instant>,
    cancel: &'c CancellationToken,
}

/// Why the remaining steps of setup and main do not run.
enum Stop {
    SetupFailed(String),
    StepFailed(String),
    Cancelled,
    TimedOut(Duration),
}

impl Stop {
    fn reason(&self) -> String {
        match self {
            Stop::SetupFailed(id) => format!("setup step `{id}` failed"),
            Stop::StepFailed(id) => format!("step `{id}` failed"),
            Stop::Cancelled => "the run was cancelled".into(),
            Stop::TimedOut(limit) => format!(
                "the flow timeout of {} ran out",
                humantime::format_duration(*limit)
            ),
        }
    }
}

/// What an attempt means for the step: done, worth another try, or over.
enum AttemptEnd {
    /// Passed, with its captured values.
    Passed(IndexMap<String, Value>),
    /// Failed in a way another attempt may fix.
    Retryable,
    /// Failed in a way no retry fixes (a config error), or interrupted (with the reason).
    Final(Option<String>),
}

/// How a step's wait ended when it did not finish by itself.
enum Interrupted {
    Cancelled,
    FlowDeadline,
    StepTimeout(Duration),
}

impl<'a> Run<'a> {
    /// A run of `flow` that has not started.
    fn new(flow: &'a FlowSpec, options: RunOptions) -> Self {
        let execution_id = options
            .execution_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        Run {
            flow,
            vars: Variables::new(&flow.name, &execution_id),
            session: Arc::new(Session::new(
                &flow.name,
                options.default_headers.clone(),
                options.base_dir.clone(),
            )),
            evaluator: Evaluator::default(),
            steps: Vec::with_capacity(flow.setup.len() + flow.steps.len() + flow.teardown.len()),
            captured: IndexMap::new(),
            masker: Masker::new(options.secrets.values().cloned()),
            action_defaults: options.action_defaults.by_kind(),
            execution_id,
            options,
        }
    }
    /// Runs the flow that started at `started_at` (`clock` on the monotonic clock).
    async fn execute(&mut self, started_at: DateTime<Utc>, clock: Instant) -> FlowResult {
        if let Some(events) = &self.options.events {
            let _ = events.send(RunEvent::Started {
                execution_id: self.execution_id.clone(),
                flow_name: self.flow.name.clone(),
            });
        }
        let mut stop = None;
        let mut error = None;
        if let Err(message) = self.prepare_variables() {
            error = Some(message);
        } else {
            let flow_limit = self.flow.config.timeout.as_ref().map(|t| t.get());
            let deadline = flow_limit.map(|limit| clock + limit);
            let fail_fast = self.flow.config.fail_fast == Some(true);
            // Cloned once per run, not per step: each clone takes the token's lock.
            let cancel = self.options.cancel.clone();
            for (phase, list) in [
                (Phase::Setup, &self.flow.setup),
                (Phase::Main, &self.flow.steps),
            ] {
                for (index, step) in list.iter().enumerate() {
                    let id = step_id(step, phase, index);
                    if let Some(stop) = &stop {
                        let skipped = skipped_step(step, &id, phase, Stop::reason(stop));
                        self.record(skipped);
                        continue;
                    }
                    let result = self.run_step(step, &id, phase, deadline, &cancel).await;
                    let status = result.status;
                    self.record(result);
                    match status {
                        StepStatus::Cancelled if deadline.is_some_and(|d| Instant::now() >= d) => {
                            stop = Some(Stop::TimedOut(flow_limit.unwrap_or_default()));
                        }
                        StepStatus::Cancelled => stop = Some(Stop::Cancelled),
                        StepStatus::Failed | StepStatus::Error if phase == Phase::Setup => {
                            stop = Some(Stop::SetupFailed(id));
                        }
                        StepStatus::Failed | StepStatus::Error => {
                            let go_on = step.on_error == Some(OnError::Continue) && !fail_fast;
                            if !go_on {
                                stop = Some(Stop::StepFailed(id));
                            }
                        }
                        _ => {}
                    }
                }
            }
            let abort = self.options.abort.clone();
            for (index, step) in self.flow.teardown.iter().enumerate() {
                let id = step_id(step, Phase::Teardown, index);
                let result = self
                    .run_step(step, &id, Phase::Teardown, None, &abort)
                    .await;
                self.record(result);
            }
        }
        self.session.close().await;
        let status = match (&stop, &error) {
            (Some(Stop::Cancelled), _) => FlowStatus::Cancelled,
            (Some(Stop::TimedOut(_)), _) => FlowStatus::TimedOut,
            (_, Some(_)) => FlowStatus::Error,
            _ if self.steps.iter().any(|s| s.status == StepStatus::Error) => FlowStatus::Error,
            _ if self.steps.iter().any(|s| s.status == StepStatus::Failed) => FlowStatus::Failed,
            _ if self.steps.iter().any(|s| s.status == StepStatus::Cancelled) => {
                FlowStatus::Cancelled
            }
            _ => FlowStatus::Passed,
        };
        if error.is_none()
            && let Some(stop @ (Stop::Cancelled | Stop::TimedOut(_))) = &stop
        {
            error = Some(stop.reason());
        }
        self.finish(status, error, started_at, clock)
    }

    /// The result of a run the runner itself panicked in, between actions (a panic inside an
    /// action ends only its step): the steps recorded so far, and the panic as the error.
    /// Teardown does not run: the run's state is not known to be sound.
    fn crashed(
        &mut self,
        started_at: DateTime<Utc>,
        clock: Instant,
        payload: &(dyn Any + Send),
    ) -> FlowResult {
        let error = Some(panics::internal_error("the engine", payload));
        self.finish(FlowStatus::Error, error, started_at, clock)
    }

    /// The run's result: the steps recorded so far and the captured values, with the captured
    /// values and `error` masked.
    fn finish(
        &mut self,
        status: FlowStatus,
        mut error: Option<String>,
        started_at: DateTime<Utc>,
        clock: Instant,
    ) -> FlowResult {
        let mut captured = std::mem::take(&mut self.captured);
        for value in captured.values_mut() {
            self.masker.value(value);
        }
        self.masker.option(&mut error);
        FlowResult {
            execution_id: self.execution_id.clone(),
            flow_name: self.flow.name.clone(),
            source: self.options.source.clone(),
            status,
            started_at,
            finished_at: Utc::now(),
            duration_ms: millis(clock.elapsed()),
            steps: std::mem::take(&mut self.steps),
            captured,
            error,
        }
    }

    /// Services, environment, secrets by name, then `env_file`, then `env` (interpolated in
    /// order: an entry that names itself or another outer name reads what was there before).
    fn prepare_variables(&mut self) -> Result<(), String> {
        if !self.options.services.is_empty() {
            let services = self
                .options
                .services
                .iter()
                .map(|(name, url)| (name.clone(), Value::String(url.clone())))
                .collect();
            self.vars.set(SERVICES, Value::Object(services));
        }
        for (name, value) in &self.options.variables {
            self.vars.set(name.clone(), value.clone());
        }
        for (name, value) in &self.options.secrets {
            self.vars.set(name.clone(), Value::String(value.clone()));
        }
        if let Some(file) = &self.flow.env_file {
            let path = match &self.options.base_dir {
                Some(dir) => dir.join(file),
                None => PathBuf::from(file),
            };
            let entries = dotenvy::from_path_iter(&path)
                .map_err(|err| format!("env_file {}: {err}", path.display()))?;
            for entry in entries {
                let (name, value) =
                    entry.map_err(|err| format!("env_file {}: {err}", path.display()))?;
                self.vars.set(name, Value::String(value));
            }
        }
        for (name, text) in &self.flow.env {
            let value = interpolate_text(text, &self.vars, &format!("env.{name}"))
                .map_err(|err| err.to_string())?;
            self.vars.set(name.clone(), value);
        }
        Ok(())
    }

    fn record(&mut self, mut step: StepResult) {
        if !self.masker.is_empty() {
            mask_step(&self.masker, &mut step);
        }
        if let Some(events) = &self.options.events {
            let _ = events.send(RunEvent::StepFinished {
                execution_id: self.execution_id.clone(),
                step: Box::new(step.clone()),
            });
        }
        self.steps.push(step);
    }

    /// Runs one step in its span.
    async fn run_step(
        &mut self,
        step: &Step,
        id: &str,
        phase: Phase,
        deadline: Option<Instant>,
        cancel: &CancellationToken,
    ) -> StepResult {
        let span = trace::step_span(id, &step.action, phase);
        let result = Box::pin(self.run_attempts(step, id, phase, deadline, cancel))
            .instrument(span.clone())
            .await;
        trace::finish_step(&span, &result, &self.masker);
        result
    }

    /// A step's condition, then its attempts as its retry policy allows.
    async fn run_attempts(
        &mut self,
        step: &Step,
        id: &str,
        phase: Phase,
        deadline: Option<Instant>,
        cancel: &CancellationToken,
    ) -> StepResult {
        let started_at = Utc::now();
        let clock = Instant::now();
        // The step's record is made at its end, from what its attempts left: held across
        // their awaits, it would make this future (boxed for every step) larger.
        let record = |status, attempts, captured, reason| StepResult {
            id: id.to_string(),
            name: step.name.clone(),
            action: step.action.clone(),
            phase,
            status,
            started_at,
            duration_ms: millis(clock.elapsed()),
            attempts,
            captured,
            reason,
        };
        if let Some(condition) = &step.when {
            let scope = Scope::new(&self.vars, None);
            match self.evaluator.condition(condition, &self.vars, &scope) {
                Ok(true) => {}
                Ok(false) => {
                    let reason = format!("`when: {condition}` is false");
                    return skipped_step(step, id, phase, reason);
                }
                Err(err) => {
                    let attempts = vec![error_attempt(1, format!("when: {err}"))];
                    return record(StepStatus::Error, attempts, IndexMap::new(), None);
                }
            }
        }
        let Some(kind) = ActionKind::from_name(&step.action) else {
            let error = format!("unknown action `{}`", step.action);
            let attempts = vec![error_attempt(1, error)];
            return record(StepStatus::Error, attempts, IndexMap::new(), None);
        };
        let max_attempts = step.retry.as_ref().map_or(1, |r| r.max_attempts.max(1));
        // A run keeps every step's record to its end, so records are sized for what they hold
        // (most steps pass on their first attempt) rather than by Vec's default growth of four.
        let mut attempts = Vec::with_capacity(1);
        let mut attempt = 0;
        let (status, captured, reason) = loop {
            attempt += 1;
            // Steps nested in a control-flow step are recorded as they run; a retry replaces
            // the records of the attempt before it.
            let records_before = self.steps.len();
            let (outcome, end) = self
                .attempt(step, kind, attempt, (id, phase), deadline, cancel)
                .await;
            if matches!(end, AttemptEnd::Retryable) && attempt < max_attempts {
                self.steps.truncate(records_before);
            }
            let status = outcome.status;
            attempts.push(outcome);
            match end {
                AttemptEnd::Passed(captured) => break (status, captured, None),
                AttemptEnd::Final(reason) => break (status, IndexMap::new(), reason),
                AttemptEnd::Retryable if attempt >= max_attempts => {
                    break (status, IndexMap::new(), None);
                }
                AttemptEnd::Retryable => {}
            }
            if let Some(policy) = &step.retry {
                let wait = delay_after(policy, attempt, rand::rng().random::<f64>());
                if let Err(interrupted) =
                    wait_or_stop(tokio::time::sleep(wait), None, deadline, cancel).await
                {
                    let reason = Some(describe(&interrupted));
                    break (StepStatus::Cancelled, IndexMap::new(), reason);
                }
            }
        };
        let result = record(status, attempts, captured, reason);
        if result.status == StepStatus::Passed {
            self.keep_step(id, &result);
        }
        result
    }

    /// One attempt: its record, and what it means for the step.
    async fn attempt(
        &mut self,
        step: &Step,
        kind: ActionKind,
        attempt: u32,
        (id, phase): (&str, Phase),
        deadline: Option<Instant>,
        cancel: &CancellationToken,
    ) -> (AttemptResult, AttemptEnd) {
        let started_at = Utc::now();
        let clock = Instant::now();
        // The record is made once the action is over: the step's future would otherwise hold
        // it across the action's await, and a smaller future is cheaper to box each step.
        let record = move |status, error| AttemptResult {
            attempt,
            status,
            started_at,
            duration_ms: millis(clock.elapsed()),
            assertions: Vec::new(),
            error,
            request: None,
            response: None,
        };
        let SplitConfig {
            config,
            raw,
            extra_assertions,
        } = split_config(step, kind, self.action_defaults.get(&kind));
        let config = match interpolate_map(&config, &self.vars, kind.late_references(), "config") {
            Ok(config) => config,
            Err(err) => {
                let outcome = record(StepStatus::Error, Some(err.to_string()));
                return (outcome, AttemptEnd::Final(None));
            }
        };
        let step_limit = step.timeout.as_ref().map(|t| t.get());
        let context = StepContext {
            id,
            phase,
            deadline,
            cancel,
        };
        let waited = {
            // Pinned here and lent to `wait_or_stop`, so the step's future holds the action's
            // state once: moved in, it would be held twice (the argument and the copy polled).
            let action = std::pin::pin!(self.run_action(kind, &config, &raw, &context));
            wait_or_stop(action, step_limit, deadline, cancel).await
        };
        let output = match waited {
            Ok(Ok(output)) => output,
            Ok(Err(err)) => {
                let status = if matches!(err, ActionError::NestedFailed(_) | ActionError::Unmet(_))
                {
                    StepStatus::Failed
                } else {
                    StepStatus::Error
                };
                let end = if matches!(err, ActionError::InvalidConfig { .. }) {
                    AttemptEnd::Final(None)
                } else {
                    AttemptEnd::Retryable
                };
                return (record(status, Some(err.to_string())), end);
            }
            Err(Interrupted::StepTimeout(limit)) => {
                let error = format!(
                    "step timeout of {} ran out",
                    humantime::format_duration(limit)
                );
                return (
                    record(StepStatus::Error, Some(error)),
                    AttemptEnd::Retryable,
                );
            }
            Err(interrupted) => {
                let outcome = record(StepStatus::Cancelled, Some(describe(&interrupted)));
                return (outcome, AttemptEnd::Final(Some(describe(&interrupted))));
            }
        };
        let mut outcome = record(StepStatus::Error, None);
        let ActionOutput {
            mut result,
            request,
            record,
            deferred,
        } = output;
        let deferred = Deferred::new(deferred, record.as_ref());
        result
            .entry("duration_ms")
            .or_insert_with(|| Value::from(outcome.duration_ms));
        outcome.request = request;
        let assertions: Vec<&Assertion> =
            step.assert.iter().chain(extra_assertions.iter()).collect();
        outcome
            .assertions
            .reserve_exact(assertions.len() + usize::from(step.schema.is_some()));
        {
            let scope = Scope::with_deferred(&self.vars, &result, deferred);
            for assertion in assertions {
                let checked = self.evaluator.check(assertion, &self.vars, &scope);
                outcome.assertions.push(checked);
            }
        }
        if let Some(schema) = &step.schema {
            let base_dir = self.options.base_dir.as_deref();
            outcome
                .assertions
                .push(schema_check::check(schema, base_dir, &result));
        }
        outcome.status = if outcome.assertions.iter().all(|a| a.passed) {
            StepStatus::Passed
        } else {
            StepStatus::Failed
        };
        let result = Value::Object(result);
        let mut captures = IndexMap::with_capacity(step.output.len());
        if outcome.status == StepStatus::Passed {
            for (name, source) in &step.output {
                let found = match OutputSource::of(source) {
                    OutputSource::Path(path_text) => match self.evaluator.capture_path(path_text) {
                        Ok(path) => {
                            let source = capture_source(path, &result, deferred);
                            match without_own_id(path, reference_id(id), source) {
                                Some(rest) => capture(source, &rest),
                                None => capture(source, path),
                            }
                        }
                        Err(err) => Err(err.clone()),
                    },
                    OutputSource::Value(value) => interpolate_value(value, &self.vars, "")
                        .map_err(|err| err.cause.to_string()),
                };
                match found {
                    Ok(value) => {
                        captures.insert(name.clone(), value);
                    }
                    Err(err) => {
                        outcome.status = StepStatus::Error;
                        outcome.error = Some(format!("output.{name}: {err}"));
                        break;
                    }
                }
            }
        }
        // The attempt's record keeps the action's compact form of the result when it has one
        // (the map above is then dropped here), else the map itself, moved, not cloned.
        outcome.response = Some(record.unwrap_or_else(|| Recorded::from(result)));
        if outcome.status == StepStatus::Passed {
            (outcome, AttemptEnd::Passed(captures))
        } else {
            (outcome, AttemptEnd::Retryable)
        }
    }

    /// Runs the action: most go to their family's module; those whose config holds expressions
    /// or nested steps (`raw`, not interpolated) are driven here.
    async fn run_action(
        &mut self,
        kind: ActionKind,
        config: &Map<String, Value>,
        raw: &Map<String, Value>,
        context: &StepContext<'_>,
    ) -> Result<ActionOutput, ActionError> {
        // Control flow runs steps, which run actions: those actions return boxed `Send`
        // futures, which break that cycle of types. The others are boxed too, as in
        // `actions::execute`, so a step's future stays small.
        let action = async move {
            match kind {
                ActionKind::DbPoll => Box::pin(self.poll_database(config, raw)).await,
                ActionKind::WebSocket => Box::pin(self.websocket(config, raw)).await,
                ActionKind::KafkaConsume => Box::pin(self.consume_kafka(config, raw)).await,
                ActionKind::ContractGenerate => self.generate_contract(config),
                kind if kind.polls_a_query_api() => {
                    Box::pin(self.assert_query(kind, config, raw)).await
                }
                ActionKind::WaitUntil => self.wait_until(config, raw, context).await,
                ActionKind::Condition => self.condition(raw, context).await,
                ActionKind::ForEach => self.for_each(config, raw, context).await,
                ActionKind::Parallel => self.parallel(config, raw, context).await,
                ActionKind::RunFlow => self.call_flow(config, context).await,
                _ => actions::execute(kind, config, &self.session).await,
            }
        };
        panics::contain(kind, action).await
    }

    /// Makes a passed step's result and captures visible to the steps after it. The result is
    /// shared with the step's record, not copied.
    fn keep_step(&mut self, id: &str, result: &StepResult) {
        let response = result
            .last_attempt()
            .and_then(|a| a.response.clone())
            .unwrap_or_else(|| Recorded::from(Value::Object(Map::new())));
        for (name, captured) in &result.captured {
            self.vars.set(name.clone(), captured.clone());
            self.captured.insert(name.clone(), captured.clone());
        }
        self.vars
            .set_step(reference_id(id), response, result.captured.clone());
    }
}

/// A step's config, split by how the runner reads each part.
struct SplitConfig<'s> {
    /// Interpolated before the action runs; borrowed from the step when nothing is split off.
    config: Cow<'s, Map<String, Value>>,
    /// Read as written: conditions and nested steps, interpolated when they run.
    raw: Map<String, Value>,
    /// The `assert` action's own `assertions`, checked like step assertions.
    extra_assertions: Vec<Assertion>,
}

/// Splits a step's config, laid over its action type's `defaults` (see [`SplitConfig`]).
fn split_config<'s>(
    step: &'s Step,
    kind: ActionKind,
    defaults: Option<&Map<String, Value>>,
) -> SplitConfig<'s> {
    let config = merged_under(defaults, &step.config);
    let splits = kind == ActionKind::Assert
        || kind
            .raw_config_keys()
            .iter()
            .any(|key| config.contains_key(*key));
    if !splits {
        return SplitConfig {
            config,
            raw: Map::new(),
            extra_assertions: Vec::new(),
        };
    }
    let mut config = config.into_owned();
    let mut raw = Map::new();
    for key in kind.raw_config_keys() {
        if let Some(value) = config.remove(*key) {
            raw.insert((*key).to_string(), value);
        }
    }
    if kind != ActionKind::Assert {
        return SplitConfig {
            config: Cow::Owned(config),
            raw,
            extra_assertions: Vec::new(),
        };
    }
    let extra_assertions = match config.remove("assertions") {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|item| serde_json::from_value::<Assertion>(item).ok())
            .collect(),
        Some(Value::String(one)) => vec![Assertion {
            expression: one,
            message: None,
        }],
        _ => Vec::new(),
    };
    SplitConfig {
        config: Cow::Owned(config),
        raw,
        extra_assertions,
    }
}

/// Waits for `work`, unless the step timeout, the flow deadline or a cancellation comes first.
async fn wait_or_stop<F: std::future::Future>(
    work: F,
    step_limit: Option<Duration>,
    deadline: Option<Instant>,
    cancel: &CancellationToken,
) -> Result<F::Output, Interrupted> {
    let step_deadline = step_limit.map(|limit| Instant::now() + limit);
    let flow_first = match (deadline, step_deadline) {
        (Some(flow), Some(step)) => flow <= step,
        (Some(_), None) => true,
        _ => false,
    };
    let first = match (deadline, step_deadline) {
        (Some(flow), Some(step)) => Some(flow.min(step)),
        (flow, step) => flow.or(step),
    };
    // The timer is boxed: most steps have no deadline, and every step's future holds this one.
    let sleep = async {
        match first {
            Some(at) => Box::pin(tokio::time::sleep_until(at)).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(Interrupted::Cancelled),
        output = work => Ok(output),
        _ = sleep => Err(if flow_first {
            Interrupted::FlowDeadline
        } else {
            Interrupted::StepTimeout(step_limit.unwrap_or_default())
        }),
    }
}

fn describe(interrupted: &Interrupted) -> String {
    match interrupted {
        Interrupted::Cancelled => "cancelled".into(),
        Interrupted::FlowDeadline => "stopped by the flow timeout".into(),
        Interrupted::StepTimeout(limit) => {
            format!(
                "step timeout of {} ran out",
                humantime::format_duration(*limit)
            )
        }
    }
}

/// The id references use for a step as reports name it: a nested step (`loop[2].check`) is
/// referenced by its own id, `check`.
fn reference_id(id: &str) -> &str {
    id.rsplit('.').next().unwrap_or(id)
}

/// A step's id: its own, or `step_N` / `setup_N` / `teardown_N` counted from 1.
pub fn step_id(step: &Step, phase: Phase, index: usize) -> String {
    step.id.clone().unwrap_or_else(|| {
        let prefix = match phase {
            Phase::Setup => "setup",
            Phase::Main => "step",
            Phase::Teardown => "teardown",
        };
        format!("{prefix}_{}", index + 1)
    })
}

fn skipped_step(step: &Step, id: &str, phase: Phase, reason: String) -> StepResult {
    StepResult {
        id: id.to_string(),
        name: step.name.clone(),
        action: step.action.clone(),
        phase,
        status: StepStatus::Skipped,
        started_at: Utc::now(),
        duration_ms: 0,
        attempts: Vec::new(),
        captured: IndexMap::new(),
        reason: Some(reason),
    }
}

fn error_attempt(attempt: u32, error: String) -> AttemptResult {
    AttemptResult {
        attempt,
        status: StepStatus::Error,
        started_at: Utc::now(),
        duration_ms: 0,
        assertions: Vec::new(),
        error: Some(error),
        request: None,
        response: None,
    }
}

fn mask_step(masker: &Masker, step: &mut StepResult) {
    for value in step.captured.values_mut() {
        masker.value(value);
    }
    masker.option(&mut step.reason);
    for attempt in &mut step.attempts {
        masker.option(&mut attempt.error);
        // Masked copies: the step's variables share the response and keep the real values.
        for recorded in [&mut attempt.request, &mut attempt.response]
            .into_iter()
            .flatten()
        {
            let mut masked = Value::clone(recorded);
            masker.value(&mut masked);
            *recorded = Recorded::from(masked);
        }
        for assertion in &mut attempt.assertions {
            assertion.expression = masker.text(&assertion.expression);
            masker.option(&mut assertion.error);
            masker.option(&mut assertion.message);
            for value in assertion.actual.values_mut() {
                masker.value(value);
            }
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn a_run_the_engine_panicked_in_keeps_its_steps_and_ends_in_error() {
        let flow = FlowSpec {
            name: "orders".into(),
            ..FlowSpec::default()
        };
        let options = RunOptions {
            secrets: IndexMap::from([("token".to_string(), "s3cret".to_string())]),
            source: Some("flows/orders.yaml".into()),
            ..RunOptions::default()
        };
        let mut run = Run::new(&flow, options);
        let step = Step {
            id: Some("login".into()),
            action: "log".into(),
            ..Step::default()
        };
        run.steps
            .push(skipped_step(&step, "login", Phase::Main, "x".into()));
        run.captured.insert("echo".into(), json!("s3cret"));
        let payload = std::panic::catch_unwind(|| {
            let empty: Vec<u8> = Vec::new();
            std::hint::black_box(&empty)[0]
        })
        .unwrap_err();
        let result = run.crashed(Utc::now(), Instant::now(), payload.as_ref());
        assert_eq!(result.status, FlowStatus::Error);
        assert_eq!(result.source.as_deref(), Some("flows/orders.yaml"));
        assert_eq!(
            result.steps.len(),
            1,
            "the steps recorded before the panic are kept"
        );
        assert_eq!(result.steps[0].id, "login");
        assert_eq!(result.captured["echo"], json!("***"));
        let error = result.error.as_deref().unwrap();
        assert!(
            error.starts_with("the engine stopped on an internal error: index out of bounds"),
            "{error}"
        );
    }
}
