//! Executing one run: resolve its environment, apply the run's limits, run the flow (once per
//! row of its `data_source`, see cases.rs) with secrets masked (its `run_flow` calls reading TestFlows of its namespace when the executor
//! has a cluster), forward step events, and hand the result to the recorder.

use std::sync::Arc;

use chrono::Utc;
use indexmap::IndexMap;
use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use tokio_util::sync::CancellationToken;

use super::Shared;
use super::cases::{cases_of, combine};
use super::cluster_flows::ClusterFlows;
use super::recorder::Finished;
use crate::engine::{FlowResult, FlowStatus, RunEvent, RunOptions, RunTrace, run_flow};
use crate::flow::FlowDuration;
use crate::queue::{LiveEvent, LiveEventKind, RunMessage};

pub async fn execute(
    shared: Arc<Shared>,
    id: String,
    run: RunMessage,
    attempt: i32,
    permit: OwnedSemaphorePermit,
    finished: mpsc::Sender<Finished>,
    abandon: CancellationToken,
) {
    let started_at = Utc::now();
    let waited = (started_at - run.enqueued_at)
        .num_microseconds()
        .unwrap_or(0);
    shared
        .metrics
        .queue_to_start
        .observe(waited.max(0) as f64 / 1e6);
    shared.metrics.in_progress.inc();
    let _ = shared.events.try_send(LiveEvent {
        run_id: run.run_id.clone(),
        kind: LiveEventKind::Started,
        message: json!({
            "runId": run.run_id,
            "namespace": run.flow.namespace,
            "flowName": run.flow.name,
            "status": "running",
            "trigger": run.trigger.kind.as_str(),
            "startedAt": started_at,
            "attempt": attempt,
            "executorId": shared.config.executor_id,
        }),
    });
    let result = run_one(&shared, &run, abandon).await;
    shared.metrics.in_progress.dec();
    drop(permit);
    let _ = finished
        .send(Finished {
            id,
            run,
            attempt,
            result,
        })
        .await;
}

async fn run_one(shared: &Shared, run: &RunMessage, abandon: CancellationToken) -> FlowResult {
    if let Some(deadline) = run.start_deadline
        && Utc::now() > deadline
    {
        return not_run(
            run,
            format!("missed: not started before its deadline {deadline}"),
        );
    }
    let mut options = RunOptions {
        execution_id: Some(run.run_id.clone()),
        source: Some(ClusterFlows::identity_of(
            &run.flow.namespace,
            &run.flow.name,
        )),
        cancel: abandon.child_token(),
        abort: abandon,
        trace: RunTrace {
            namespace: Some(run.flow.namespace.clone()),
            trigger: Some(run.trigger.kind.as_str().to_string()),
            traceparent: run.traceparent.clone(),
        },
        ..RunOptions::default()
    };
    if let Some(environment) = &run.environment {
        match shared
            .resolver
            .resolve(&environment.namespace, &environment.name)
            .await
        {
            Ok(resolved) => {
                options.variables = resolved.variables;
                options.secrets = resolved.secrets;
                options.default_headers = resolved.headers;
                options.services = resolved.services;
                options.action_defaults = resolved.action_defaults;
            }
            Err(err) => return not_run(run, err.to_string()),
        }
    }
    if let Some(client) = &shared.cluster {
        options.flows = Some(Arc::new(ClusterFlows::new(
            client.clone(),
            &run.flow.namespace,
        )));
    }
    let mut spec = run.spec.clone();
    if spec.config.timeout.is_none()
        && let Some(seconds) = run.timeout_seconds
        && let Ok(limit) = FlowDuration::parse(&format!("{seconds}s"))
    {
        spec.config.timeout = Some(limit);
    }
    let cases = match cases_of(&spec) {
        Ok(cases) => cases,
        Err(err) => return not_run(run, err),
    };
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let forward = tokio::spawn(forward_steps(events_rx, shared.events.clone()));
    let mut results = Vec::with_capacity(cases.len());
    for case in cases {
        if options.cancel.is_cancelled() && !results.is_empty() {
            break;
        }
        let mut case_options = options.clone();
        case_options.variables.extend(case.variables);
        case_options.events = Some(events_tx.clone());
        results.push(run_flow(&case.spec, case_options).await);
    }
    drop(events_tx);
    let _ = forward.await;
    combine(&run.flow.name, results)
}

/// Sends each finished step to the live events, numbered in run order.
async fn forward_steps(
    mut events: mpsc::UnboundedReceiver<RunEvent>,
    live: mpsc::Sender<LiveEvent>,
) {
    let mut index = 0usize;
    while let Some(event) = events.recv().await {
        if let RunEvent::StepFinished { execution_id, step } = event {
            let _ = live.try_send(LiveEvent {
                message: json!({"runId": execution_id, "stepIndex": index, "step": step}),
                run_id: execution_id,
                kind: LiveEventKind::Step,
            });
            index += 1;
        }
    }
}

/// The result of a run that could not start, recorded as `error`.
fn not_run(run: &RunMessage, error: String) -> FlowResult {
    let now = Utc::now();
    FlowResult {
        execution_id: run.run_id.clone(),
        flow_name: run.flow.name.clone(),
        source: None,
        status: FlowStatus::Error,
        started_at: now,
        finished_at: now,
        duration_ms: 0,
        steps: Vec::new(),
        captured: IndexMap::new(),
        error: Some(error),
    }
}
