//! Recording finished runs in batches: one transaction for every run finished since the last
//! commit (results, steps, metrics), then one Redis pipeline that acknowledges those runs and
//! publishes their results. Nothing is acknowledged before its commit.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Shared;
use super::backoff;
use super::readiness::Dependency;
use crate::engine::FlowResult;
use crate::queue::{LiveEvent, LiveEventKind, ResultMessage, RunMessage};
use crate::store::FinishedRun;

/// Most runs recorded in one transaction.
const MAX_BATCH: usize = 512;

/// A run that finished, waiting to be recorded.
pub struct Finished {
    /// The stream entry id.
    pub id: String,
    pub run: RunMessage,
    pub attempt: i32,
    pub result: FlowResult,
}

/// Records batches until the channel closes (or `stop` is cancelled while retrying).
pub async fn run(
    shared: Arc<Shared>,
    mut finished: mpsc::Receiver<Finished>,
    stop: CancellationToken,
) {
    let mut batch = Vec::new();
    while finished.recv_many(&mut batch, MAX_BATCH).await > 0 {
        record(&shared, std::mem::take(&mut batch), &stop).await;
    }
}

async fn record(shared: &Shared, batch: Vec<Finished>, stop: &CancellationToken) {
    let mut ids = Vec::with_capacity(batch.len());
    let mut runs = Vec::with_capacity(batch.len());
    let mut rows = Vec::with_capacity(batch.len());
    for finished in batch {
        ids.push(finished.id);
        runs.push(finished.run);
        rows.push(FinishedRun {
            run_id: finished.result.execution_id.clone(),
            attempt: finished.attempt,
            result: finished.result,
        });
    }
    let store = &shared.store;
    let Some(accepted) = backoff::retry(
        "record run results",
        Dependency::Postgres,
        &shared.readiness,
        stop,
        || store.finish_runs(&rows),
    )
    .await
    else {
        return;
    };
    let mut acks = Vec::new();
    let mut results = Vec::new();
    let mut settled = Vec::new();
    for ((id, run), row) in ids.iter().zip(&runs).zip(&rows) {
        if !accepted.contains(&row.run_id) {
            tracing::warn!(run_id = %row.run_id, attempt = row.attempt, "another executor took this run over; its attempt records the result");
            settled.push(id.clone());
            continue;
        }
        observe(shared, run, &row.result);
        acks.push(id.clone());
        settled.push(id.clone());
        results.push(result_message(shared, run, &row.result));
    }
    let queue = &shared.queue;
    let published = backoff::retry(
        "acknowledge runs and publish results",
        Dependency::Redis,
        &shared.readiness,
        stop,
        || queue.settle(&acks, &results, &[]),
    )
    .await;
    if published.is_some() {
        for result in &results {
            let _ = shared.events.try_send(LiveEvent {
                run_id: result.run_id.clone(),
                kind: LiveEventKind::Finished,
                message: serde_json::to_value(result).unwrap_or_default(),
            });
        }
    }
    if let Ok(mut in_flight) = shared.in_flight.lock() {
        for id in &settled {
            in_flight.remove(id);
        }
    }
}

fn result_message(shared: &Shared, run: &RunMessage, result: &FlowResult) -> ResultMessage {
    let counts = result.counts();
    ResultMessage {
        run_id: run.run_id.clone(),
        flow: run.flow.clone(),
        trigger: run.trigger.clone(),
        status: result.status,
        started_at: result.started_at,
        finished_at: result.finished_at,
        duration_ms: result.duration_ms,
        passed_steps: u32::try_from(counts.passed).unwrap_or(u32::MAX),
        failed_steps: u32::try_from(counts.failed + counts.errored).unwrap_or(u32::MAX),
        error: result.error.clone(),
        executor_id: shared.config.executor_id.clone(),
    }
}

fn observe(shared: &Shared, run: &RunMessage, result: &FlowResult) {
    let metrics = &shared.metrics;
    metrics
        .runs
        .with_label_values(&[
            run.flow.namespace.as_str(),
            run.flow.name.as_str(),
            result.status.as_str(),
            run.trigger.kind.as_str(),
        ])
        .inc();
    metrics
        .run_duration
        .with_label_values(&[run.flow.namespace.as_str(), run.flow.name.as_str()])
        .observe(Duration::from_millis(result.duration_ms).as_secs_f64());
    for step in &result.steps {
        metrics
            .step_duration
            .with_label_values(&[step.action.as_str(), step.status.as_str()])
            .observe(Duration::from_millis(step.duration_ms).as_secs_f64());
    }
}
