//! Finished runs coming back from the executors: each result updates the TestFlow's status
//! (last run, last success, health, active runs) and the TestSchedule's (last run, active
//! runs), with one status write per object, emits an Event when the run did not pass, and
//! counts the result. A result for a run the lost-run check already settled changes nothing.
//! The lost-run check writes the results it makes (a lost run) or finds in the store (a result
//! whose message Redis lost) the same way, through [`settle`].

use std::time::Duration;

use kube::Api;

use super::context::{Context, Error};
use super::queue::RedisQueue;
use super::status::{apply_status, is_conflict};
use crate::engine::FlowStatus;
use crate::queue::ResultMessage;
use crate::resources::{RunSummary, TestFlow, TestSchedule};

/// How many times a status write that lost a race with another writer is computed again.
const CONFLICT_RETRIES: u32 = 5;

/// How a result is written into the statuses.
#[derive(Debug, Clone, Copy)]
pub struct Settlement {
    /// The reason of the Event emitted when the run did not pass.
    pub event_reason: &'static str,
    /// Write only the statuses that still list the run in `active`: for a result the operator
    /// read from the store, which the executor's own message may have brought already.
    pub only_if_active: bool,
}

/// A result an executor sent.
const FROM_EXECUTOR: Settlement = Settlement {
    event_reason: "RunFailed",
    only_if_active: false,
};

/// Applies one result, unless the lost-run check settled its run already. A flow or schedule
/// deleted since the run started is skipped.
pub async fn apply_result(ctx: &Context, result: &ResultMessage) -> Result<(), Error> {
    if ctx.settled.contains(&result.run_id) {
        tracing::info!(run_id = %result.run_id, status = result.status.as_str(),
            "ignoring the result of a run the lost-run check already settled");
        return Ok(());
    }
    ctx.metrics
        .results
        .with_label_values(&[result.status.as_str()])
        .inc();
    settle(ctx, result, FROM_EXECUTOR).await
}

/// Writes `result` into the TestFlow's and the TestSchedule's status, as `how` says, and emits
/// an Event on the flow when the run did not pass.
pub async fn settle(ctx: &Context, result: &ResultMessage, how: Settlement) -> Result<(), Error> {
    let flow_written = retry_on_conflict(|| update_flow(ctx, result, how.only_if_active)).await?;
    if let Some(flow) = flow_written
        && result.status != FlowStatus::Passed
    {
        let mut note = format!(
            "run {} {}: {} step(s) passed, {} failed",
            result.run_id,
            result.status.as_str(),
            result.passed_steps,
            result.failed_steps
        );
        if let Some(error) = &result.error {
            note.push_str(&format!(": {error}"));
        }
        ctx.event(&flow, true, how.event_reason, note).await;
    }
    retry_on_conflict(|| update_schedule(ctx, result, how.only_if_active)).await
}

/// Runs `write` again while it loses races with other status writers, a bounded number of times.
async fn retry_on_conflict<T, F, Fut>(mut write: F) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    let mut tries = 1;
    loop {
        match write().await {
            Err(err) if is_conflict(&err) && tries < CONFLICT_RETRIES => tries += 1,
            outcome => return outcome,
        }
    }
}

fn summary(result: &ResultMessage) -> RunSummary {
    RunSummary {
        id: result.run_id.clone(),
        result: result.status.as_str().to_string(),
        started_at: result.started_at,
        finished_at: result.finished_at,
        duration_ms: result.duration_ms,
        passed_steps: result.passed_steps,
        failed_steps: result.failed_steps,
    }
}

/// Reads the TestFlow and writes the result into its status; returns the flow when it exists,
/// is the one the run started from, and (with `only_if_active`) still lists the run. A result
/// that names no flow (a lost run of a schedule known by no row) updates the schedule only.
async fn update_flow(
    ctx: &Context,
    result: &ResultMessage,
    only_if_active: bool,
) -> Result<Option<TestFlow>, Error> {
    let passed = result.status == FlowStatus::Passed;
    if result.flow.name.is_empty() {
        return Ok(None);
    }
    let flows: Api<TestFlow> = Api::namespaced(ctx.client.clone(), &result.flow.namespace);
    let Some(flow) = flows.get_opt(&result.flow.name).await? else {
        return Ok(None);
    };
    if result.flow.uid.is_some() && flow.metadata.uid != result.flow.uid {
        return Ok(None);
    }
    let old = flow.status.clone().unwrap_or_default();
    if only_if_active && !old.active.contains(&result.run_id) {
        return Ok(None);
    }
    let mut status = old.clone();
    status.active.retain(|id| id != &result.run_id);
    let newer = old
        .last_run
        .as_ref()
        .is_none_or(|last| last.finished_at <= result.finished_at);
    if newer {
        status.last_run = Some(summary(result));
    }
    if passed
        && old
            .last_successful_time
            .is_none_or(|t| t < result.finished_at)
    {
        status.last_successful_time = Some(result.finished_at);
    }
    status.health = Some(old.health.clone().unwrap_or_default().record(passed));
    apply_status(ctx, &flow, &status).await?;
    Ok(Some(flow))
}

/// Reads the TestSchedule that triggered the run, if any, and writes the result into its status.
async fn update_schedule(
    ctx: &Context,
    result: &ResultMessage,
    only_if_active: bool,
) -> Result<(), Error> {
    let Some(schedule_ref) = &result.trigger.schedule else {
        return Ok(());
    };
    let schedules: Api<TestSchedule> = Api::namespaced(ctx.client.clone(), &schedule_ref.namespace);
    let Some(schedule) = schedules.get_opt(&schedule_ref.name).await? else {
        return Ok(());
    };
    if schedule.metadata.uid.as_deref() != Some(schedule_ref.uid.as_str()) {
        return Ok(());
    }
    let old = schedule.status.clone().unwrap_or_default();
    if only_if_active && !old.active.contains(&result.run_id) {
        return Ok(());
    }
    let mut status = old.clone();
    status.active.retain(|id| id != &result.run_id);
    if old
        .last_run
        .as_ref()
        .is_none_or(|last| last.finished_at <= result.finished_at)
    {
        status.last_run = Some(summary(result));
    }
    if status != old {
        apply_status(ctx, &schedule, &status).await?;
    }
    Ok(())
}

/// Reads the results stream until the process stops: this consumer's unacknowledged entries
/// first (left by a failure or a restart), then new ones. An entry is acknowledged once
/// applied, or when it cannot be decoded; one that fails is read again after a pause.
pub async fn consume(ctx: Context, queue: RedisQueue, consumer: String) {
    let mut backoff = Duration::from_secs(1);
    let mut pending = true;
    loop {
        if let Err(err) = queue.ensure_results_group().await {
            tracing::warn!(error = %err, "cannot create the results consumer group");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(60));
            continue;
        }
        match queue.read_results(&consumer, pending, 100, 5_000).await {
            Ok(entries) => {
                let mut failed = false;
                if pending && entries.is_empty() {
                    pending = false;
                }
                for (id, decoded) in entries {
                    let done = match decoded {
                        Ok(result) => match apply_result(&ctx, &result).await {
                            Ok(()) => true,
                            Err(err) => {
                                tracing::warn!(run_id = %result.run_id, error = %err, "cannot apply a result; it will be read again");
                                failed = true;
                                false
                            }
                        },
                        Err(err) => {
                            tracing::warn!(entry = %id, error = %err, "dropping a result that does not decode");
                            true
                        }
                    };
                    if done && let Err(err) = queue.ack_result(&id).await {
                        tracing::warn!(entry = %id, error = %err, "cannot acknowledge a result");
                    }
                }
                if failed {
                    pending = true;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                } else {
                    backoff = Duration::from_secs(1);
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot read results");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(60));
            }
        }
    }
}
