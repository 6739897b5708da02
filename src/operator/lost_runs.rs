//! The lost-run check: every run the operator counts as active (a TestFlow's or a
//! TestSchedule's `status.active`) must be held by the queue (waiting in the runs stream, or
//! pending with an executor) or have a result. Redis can lose entries (a restart without
//! persistence, an AOF that lost its last second, a replica promoted without the tail); a run
//! lost that way would stay active forever and, under `concurrencyPolicy: Forbid`, refuse every
//! later run of its flow. The leader runs this check every `--lost-run-check-interval`, at once
//! when it starts, and at once when Redis answers again after a failure or a restart, and
//! settles each run the queue does not hold from what the store says of it:
//!
//! - `queued`, within its start deadline: enqueued again under the same run id, with the message
//!   rebuilt from its row (the store and the executors treat a run id as unique, so it cannot
//!   run twice);
//! - `queued` past its start deadline, or no row at all (never started, and nothing to rebuild
//!   it from): ended as `error`, "lost from the queue before any executor took it";
//! - `running` past its own time limit (the flow's `timeout`, else `--max-run-duration`) and a
//!   grace to record it: ended as `error`, "lost while running";
//! - finished, and still active one interval later: its result message was lost, so the result
//!   is taken from the store.
//!
//! A lost run is ended in the store first, only if the row is still as seen (an executor that
//! finishes it meanwhile wins, and after that the store refuses the executor's result), then in
//! the statuses (freeing `active`), with an Event and `testmesh_runs_lost_total{reason}`. The
//! run is remembered as settled, so a result that still arrives for it changes nothing.
//!
//! What to do is decided by pure functions ([`stored`], [`verdict`], [`CheckTimer`]) from the
//! facts gathered: the active runs (from the controllers' caches), then the queue, then the
//! store, in that order, so a run that finished between two reads is never taken for lost (an
//! executor acknowledges its entry only after its result is committed).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use kube::ResourceExt;
use tokio::time::Instant;

use super::cached_flow::CachedTestFlow;
use super::context::{Context, Error};
use super::results::{Settlement, settle};
use crate::engine::FlowStatus;
use crate::flow::FlowSpec;
use crate::queue::{
    EnvironmentRef, FlowRef, ResultMessage, RunMessage, ScheduleRef, Trigger, TriggerKind,
};
use crate::resources::TestSchedule;
use crate::store::RunRecord;

/// The error of a run that no executor took before the queue lost it, past its start deadline.
pub const LOST_FROM_QUEUE: &str = "lost from the queue before any executor took it";
/// The error of a run whose executor and pending entry both vanished.
pub const LOST_WHILE_RUNNING: &str = "lost while running";

/// How often the operator asks Redis whether it restarted.
pub const PROBE_EVERY: Duration = Duration::from_secs(5);
/// Time an executor has, after a run's time limit, to stop the flow and record its result.
pub const RECORDING_GRACE: Duration = Duration::from_secs(60);

/// How the check runs (the operator's flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LostRunSettings {
    /// Between two checks (`--lost-run-check-interval`); also how long a finished run may stay
    /// active before its result is taken from the store.
    pub interval: Duration,
    /// The time limit of a run whose flow sets no `timeout` (`--max-run-duration`).
    pub max_run_duration: Duration,
    /// How often Redis is asked whether it restarted or answers again ([`PROBE_EVERY`]).
    pub probe_every: Duration,
}

/// Where a run the queue does not hold is, as the store says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// No row: it was enqueued while the database was away, and no executor ever started it.
    Missing,
    /// Waiting for an executor, which must start it by `start_deadline`.
    Queued { start_deadline: DateTime<Utc> },
    /// Taken by an executor, which must have recorded it by `deadline`.
    Running { deadline: DateTime<Utc> },
    /// Ended at `at`.
    Finished { at: DateTime<Utc> },
}

/// Why a run is ended as lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LostReason {
    /// No executor took it.
    Queued,
    /// Its executor took it and vanished with its pending entry.
    Running,
}

impl LostReason {
    /// The `reason` label of `testmesh_runs_lost_total`.
    pub fn label(self) -> &'static str {
        match self {
            LostReason::Queued => "queued",
            LostReason::Running => "running",
        }
    }

    /// The run's error, in the store, the status and the Event.
    pub fn message(self) -> &'static str {
        match self {
            LostReason::Queued => LOST_FROM_QUEUE,
            LostReason::Running => LOST_WHILE_RUNNING,
        }
    }
}

/// What the check does with one active run the queue does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Still within its limits (running), or finished too recently for its result message to
    /// be late.
    Leave,
    /// Enqueue it again under the same id; it must still start by `start_deadline`.
    Requeue { start_deadline: DateTime<Utc> },
    /// End it as `error`.
    Lost(LostReason),
    /// Write its stored result into the statuses: the result message was lost.
    ReportStoredResult,
}

/// Where `record` is in its life: its start deadline (`queue_timeout` after it was queued when
/// its row has none, as rows written before deadlines were stored), or the time by which a
/// running run must be recorded (its own limit, else `max_run_duration`, plus
/// [`RECORDING_GRACE`]).
pub fn stored(record: &RunRecord, queue_timeout: Duration, max_run_duration: Duration) -> Stored {
    match record.status.as_str() {
        "queued" => Stored::Queued {
            start_deadline: record
                .start_deadline
                .unwrap_or_else(|| later(record.queued_at, queue_timeout)),
        },
        "running" => {
            let started = record.started_at.unwrap_or(record.queued_at);
            let limit = time_limit(record).unwrap_or(max_run_duration);
            Stored::Running {
                deadline: later(later(started, limit), RECORDING_GRACE),
            }
        }
        _ => Stored::Finished {
            at: record.finished_at.unwrap_or(record.queued_at),
        },
    }
}

/// What to do, at `now`, with an active run the queue does not hold. A finished run is left to
/// the results consumer for `result_grace`.
pub fn verdict(stored: Stored, now: DateTime<Utc>, result_grace: Duration) -> Verdict {
    match stored {
        Stored::Missing => Verdict::Lost(LostReason::Queued),
        Stored::Queued { start_deadline } if now <= start_deadline => {
            Verdict::Requeue { start_deadline }
        }
        Stored::Queued { .. } => Verdict::Lost(LostReason::Queued),
        Stored::Running { deadline } if now > deadline => Verdict::Lost(LostReason::Running),
        Stored::Running { .. } => Verdict::Leave,
        Stored::Finished { at } if now > later(at, result_grace) => Verdict::ReportStoredResult,
        Stored::Finished { .. } => Verdict::Leave,
    }
}

fn later(time: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(wait)
        .ok()
        .and_then(|wait| time.checked_add_signed(wait))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The run's own time limit, as the executor applies it: the flow's `config.timeout`, else the
/// TestFlow's `timeout`.
fn time_limit(record: &RunRecord) -> Option<Duration> {
    serde_json::from_value::<FlowSpec>(record.spec.clone())
        .ok()
        .and_then(|spec| spec.config.timeout.map(|limit| limit.get()))
        .or_else(|| {
            record
                .timeout_seconds
                .and_then(|seconds| u64::try_from(seconds).ok())
                .map(Duration::from_secs)
        })
}

/// The message `record` was enqueued with, to enqueue it again: none when its row does not
/// hold a flow spec and a trigger that decode.
pub fn rebuild_message(
    record: &RunRecord,
    flow_uid: Option<String>,
    start_deadline: DateTime<Utc>,
) -> Option<RunMessage> {
    Some(RunMessage {
        run_id: record.run_id.clone(),
        flow: FlowRef {
            namespace: record.namespace.clone(),
            name: record.flow_name.clone(),
            generation: record.generation,
            // A draft names no TestFlow: its uid is its run's, as when it was first enqueued.
            uid: if record.draft {
                Some(record.run_id.clone())
            } else {
                flow_uid
            },
        },
        spec: serde_json::from_value(record.spec.clone()).ok()?,
        environment: record.environment.clone().map(|name| EnvironmentRef {
            namespace: record.namespace.clone(),
            name,
        }),
        trigger: serde_json::from_value(record.trigger_detail.clone()?).ok()?,
        enqueued_at: record.queued_at,
        start_deadline: Some(start_deadline),
        timeout_seconds: record
            .timeout_seconds
            .and_then(|seconds| u64::try_from(seconds).ok()),
        traceparent: None,
        draft: record.draft,
    })
}

/// When to check: at the first answer from Redis, at the first answer after it did not answer
/// (a reconnect), when its server identity changed (a restart, perhaps without its data), and
/// once `interval` passed since the last check.
#[derive(Debug, Default)]
pub struct CheckTimer {
    identity: Option<String>,
    answered: bool,
    last_check: Option<Instant>,
}

impl CheckTimer {
    /// Whether to check at `now`, given the identity Redis answered with (none when it did not
    /// answer); a `true` counts as a check.
    pub fn due(&mut self, identity: Option<String>, now: Instant, interval: Duration) -> bool {
        let Some(identity) = identity else {
            self.answered = false;
            return false;
        };
        let back = !self.answered;
        let restarted = self.identity.as_ref().is_some_and(|last| *last != identity);
        let elapsed = self
            .last_check
            .is_none_or(|at| now.duration_since(at) >= interval);
        self.answered = true;
        self.identity = Some(identity);
        let due = back || restarted || elapsed;
        if due {
            self.last_check = Some(now);
        }
        due
    }
    /// Makes the check just done count for nothing, so the next probe checks again: it saw the
    /// controllers' caches before their first list arrived.
    pub fn again(&mut self) {
        self.last_check = None;
    }
}

/// What one check did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Checked {
    /// Active runs looked at.
    pub active: usize,
    /// Enqueued again, by run id.
    pub requeued: Vec<String>,
    /// Ended as lost, by run id.
    pub lost: Vec<String>,
    /// Finished but still active, whose stored result was reported to the statuses still
    /// listing them, by run id.
    pub reported: Vec<String>,
}

/// The objects whose `status.active` lists a run.
#[derive(Debug, Default, Clone)]
struct Owners {
    flow: Option<Arc<CachedTestFlow>>,
    schedule: Option<Arc<TestSchedule>>,
}

/// Every active run of the flows and schedules in `ctx`'s caches, with the objects listing it.
fn active_runs(ctx: &Context) -> BTreeMap<String, Owners> {
    let mut runs: BTreeMap<String, Owners> = BTreeMap::new();
    for flow in ctx.flows.state() {
        for run_id in flow.status.iter().flat_map(|s| &s.active) {
            runs.entry(run_id.clone()).or_default().flow = Some(flow.clone());
        }
    }
    for schedule in ctx.schedules.state() {
        for run_id in schedule.status.iter().flat_map(|s| &s.active) {
            runs.entry(run_id.clone()).or_default().schedule = Some(schedule.clone());
        }
    }
    runs
}

/// Checks the active runs of `ctx`'s caches once. Nothing to do without a store: a result
/// cannot then be told from a loss. A run whose settlement fails is logged and looked at
/// again by the next check.
pub async fn check(ctx: &Context, settings: &LostRunSettings) -> Result<Checked, Error> {
    let mut checked = Checked::default();
    let Some(store) = &ctx.store else {
        return Ok(checked);
    };
    let active = active_runs(ctx);
    checked.active = active.len();
    if active.is_empty() {
        ctx.metrics.lost_run_checks.inc();
        return Ok(checked);
    }
    let held = ctx.queue.held_run_ids().await?;
    let missing: Vec<String> = active
        .keys()
        .filter(|run_id| !held.contains(*run_id))
        .cloned()
        .collect();
    let records: HashMap<String, RunRecord> = store
        .run_records(&missing)
        .await?
        .into_iter()
        .map(|record| (record.run_id.clone(), record))
        .collect();
    let now = ctx.now();
    for run_id in missing {
        let record = records.get(&run_id);
        let facts = record.map_or(Stored::Missing, |record| {
            stored(record, ctx.queue_timeout, settings.max_run_duration)
        });
        let decided = verdict(facts, now, settings.interval);
        match settle_run(ctx, &run_id, record, &active[&run_id], decided, now).await {
            Ok(Some(Settled::Requeued)) => checked.requeued.push(run_id),
            Ok(Some(Settled::Lost)) => checked.lost.push(run_id),
            Ok(Some(Settled::Reported)) => checked.reported.push(run_id),
            Ok(None) => {}
            Err(err) => {
                tracing::warn!(%run_id, error = %err, "cannot settle a run the queue lost; the next check tries again");
            }
        }
    }
    ctx.metrics.lost_run_checks.inc();
    Ok(checked)
}

/// What became of one run.
enum Settled {
    Requeued,
    Lost,
    Reported,
}

/// Carries out `decided` for one run; none when nothing was done (left alone, or an executor
/// settled it meanwhile).
async fn settle_run(
    ctx: &Context,
    run_id: &str,
    record: Option<&RunRecord>,
    owners: &Owners,
    decided: Verdict,
    now: DateTime<Utc>,
) -> Result<Option<Settled>, Error> {
    let reason = match (decided, record) {
        (Verdict::Leave, _) | (Verdict::ReportStoredResult, None) => return Ok(None),
        (Verdict::ReportStoredResult, Some(record)) => {
            report_stored(ctx, record, owners).await?;
            return Ok(Some(Settled::Reported));
        }
        (Verdict::Requeue { start_deadline }, Some(record)) => {
            let uid = flow_uid(ctx, record, owners);
            if let Some(message) = rebuild_message(record, uid, start_deadline) {
                requeue(ctx, &message, owners).await?;
                return Ok(Some(Settled::Requeued));
            }
            tracing::warn!(%run_id, "the row of a lost run holds no message to enqueue again");
            LostReason::Queued
        }
        (Verdict::Requeue { .. }, None) => LostReason::Queued,
        (Verdict::Lost(reason), _) => reason,
    };
    let ended = end_lost(ctx, run_id, record, owners, reason, now).await?;
    Ok(ended.then_some(Settled::Lost))
}

/// The uid of the run's TestFlow: the owner's, or the cached flow's of that name.
fn flow_uid(ctx: &Context, record: &RunRecord, owners: &Owners) -> Option<String> {
    owners
        .flow
        .as_ref()
        .filter(|flow| flow.name_any() == record.flow_name)
        .cloned()
        .or_else(|| {
            ctx.flows.get(
                &kube::runtime::reflector::ObjectRef::new(&record.flow_name)
                    .within(&record.namespace),
            )
        })
        .and_then(|flow| flow.uid())
}

async fn requeue(ctx: &Context, message: &RunMessage, owners: &Owners) -> Result<(), Error> {
    ctx.queue.enqueue_again(message).await?;
    ctx.metrics.runs_requeued.inc();
    let note = format!(
        "run {} was lost from the queue before any executor took it; enqueued again under the \
         same id (it must start by {})",
        message.run_id,
        message
            .start_deadline
            .map_or_else(String::new, |deadline| deadline.to_rfc3339())
    );
    tracing::warn!(run_id = %message.run_id, "{note}");
    if let Some(flow) = &owners.flow {
        ctx.event(flow.as_ref(), false, "RunRequeued", note.clone())
            .await;
    }
    if let Some(schedule) = &owners.schedule {
        ctx.event(schedule.as_ref(), false, "RunRequeued", note)
            .await;
    }
    Ok(())
}

/// Ends a lost run: in the store first (unless it has no row), then in the statuses. Answers
/// false when the store's row changed since it was read (an executor got there first).
async fn end_lost(
    ctx: &Context,
    run_id: &str,
    record: Option<&RunRecord>,
    owners: &Owners,
    reason: LostReason,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    if let (Some(store), Some(record)) = (&ctx.store, record)
        && !store.end_lost_run(record, now, reason.message()).await?
    {
        return Ok(false);
    }
    ctx.settled.insert(run_id);
    ctx.metrics
        .runs_lost
        .with_label_values(&[reason.label()])
        .inc();
    tracing::warn!(%run_id, reason = reason.label(), "{}", reason.message());
    let mut result = result_for(run_id, record, owners, now);
    result.error = Some(reason.message().to_string());
    // Without a row the store cannot say whether it was settled before: only the statuses
    // still listing it are written.
    let how = Settlement {
        event_reason: "RunLost",
        only_if_active: record.is_none(),
    };
    settle(ctx, &result, how).await?;
    Ok(true)
}

/// Writes the result the store holds into the statuses that still list the run.
async fn report_stored(ctx: &Context, record: &RunRecord, owners: &Owners) -> Result<(), Error> {
    let mut result = result_for(
        &record.run_id,
        Some(record),
        owners,
        record.finished_at.unwrap_or(record.queued_at),
    );
    result.status = serde_json::from_value::<FlowStatus>(serde_json::json!(record.status))
        .unwrap_or(FlowStatus::Error);
    result.error = record.error.clone();
    result.passed_steps = step_count(record.passed_steps);
    result.failed_steps = step_count(record.failed_steps);
    result.duration_ms = record
        .duration_ms
        .and_then(|ms| u64::try_from(ms).ok())
        .unwrap_or(result.duration_ms);
    tracing::info!(run_id = %record.run_id, status = %record.status,
        "a finished run is still active: its result message was lost, writing the stored result");
    ctx.settled.insert(&record.run_id);
    let how = Settlement {
        event_reason: "RunFailed",
        only_if_active: true,
    };
    settle(ctx, &result, how).await
}

fn step_count(count: Option<i32>) -> u32 {
    count.and_then(|n| u32::try_from(n).ok()).unwrap_or(0)
}

/// An `error` result of the run, ended at `now`, with no steps and no message yet, addressed
/// to its flow and schedule: from its row, else from the objects listing it.
fn result_for(
    run_id: &str,
    record: Option<&RunRecord>,
    owners: &Owners,
    now: DateTime<Utc>,
) -> ResultMessage {
    let schedule_ref = owners.schedule.as_ref().map(|schedule| ScheduleRef {
        namespace: schedule.namespace().unwrap_or_default(),
        name: schedule.name_any(),
        uid: schedule.uid().unwrap_or_default(),
    });
    let trigger = record
        .and_then(|record| record.trigger_detail.clone())
        .and_then(|detail| serde_json::from_value::<Trigger>(detail).ok())
        .unwrap_or(Trigger {
            kind: if schedule_ref.is_some() {
                TriggerKind::Schedule
            } else {
                TriggerKind::Manual
            },
            schedule: schedule_ref,
            scheduled_time: None,
            token: None,
        });
    let owner_flow = owners.flow.as_ref();
    let flow = match record {
        Some(record) => FlowRef {
            namespace: record.namespace.clone(),
            name: record.flow_name.clone(),
            generation: record.generation,
            uid: owner_flow
                .filter(|flow| flow.name_any() == record.flow_name)
                .and_then(|flow| flow.uid()),
        },
        None => FlowRef {
            namespace: owner_flow
                .and_then(|flow| flow.namespace())
                .unwrap_or_default(),
            name: owner_flow.map(|flow| flow.name_any()).unwrap_or_default(),
            generation: owner_flow
                .and_then(|flow| flow.metadata.generation)
                .unwrap_or_default(),
            uid: owner_flow.and_then(|flow| flow.uid()),
        },
    };
    let started_at = record
        .and_then(|record| record.started_at)
        .or(record.map(|record| record.queued_at))
        .unwrap_or(now)
        .min(now);
    ResultMessage {
        run_id: run_id.to_string(),
        flow,
        trigger,
        status: FlowStatus::Error,
        started_at,
        finished_at: now,
        duration_ms: u64::try_from((now - started_at).num_milliseconds()).unwrap_or(0),
        passed_steps: 0,
        failed_steps: 0,
        error: None,
        executor_id: record
            .and_then(|record| record.executor_id.clone())
            .unwrap_or_default(),
    }
}

/// Runs the check for every watched scope until the process stops (the leader's task): at
/// once, then as [`CheckTimer`] says, probing Redis every few seconds. Until the controllers'
/// caches hold a flow or a schedule (their first list takes a moment), every probe checks, so
/// the first real check comes as soon as they are loaded.
pub async fn watch(contexts: Vec<Context>, settings: LostRunSettings) {
    let Some(first) = contexts.first() else {
        return;
    };
    if first.store.is_none() {
        tracing::warn!(
            "no --database-url: the lost-run check is off (a run Redis loses stays active)"
        );
        return;
    }
    let mut timer = CheckTimer::default();
    loop {
        let identity = first.queue.server_identity().await.ok();
        if timer.due(identity, Instant::now(), settings.interval) {
            let loaded = contexts
                .iter()
                .any(|ctx| !ctx.flows.is_empty() || !ctx.schedules.is_empty());
            if !loaded {
                timer.again();
            }
            for ctx in &contexts {
                match check(ctx, &settings).await {
                    Ok(checked) => tracing::debug!(?checked, "lost-run check done"),
                    Err(err) => {
                        tracing::warn!(error = %err, "lost-run check failed; trying again later")
                    }
                }
            }
        }
        tokio::time::sleep(settings.probe_every.min(settings.interval)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::ScheduleRef;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    const MINUTE: Duration = Duration::from_secs(60);

    fn record(status: &str) -> RunRecord {
        RunRecord {
            run_id: "sch-5c4b3a29-1772359200".into(),
            namespace: "ns".into(),
            flow_name: "orders".into(),
            generation: 3,
            spec: serde_json::json!({"name": "orders", "steps": [
                {"id": "health", "action": "http_request", "config": {"url": "http://svc/healthz"}}]}),
            environment: Some("staging".into()),
            trigger_detail: Some(serde_json::json!({"kind": "schedule",
                "schedule": {"namespace": "ns", "name": "nightly", "uid": "5c4b"},
                "scheduledTime": "2026-03-01T10:00:00Z"})),
            status: status.into(),
            queued_at: at("2026-03-01T10:00:00Z"),
            started_at: None,
            finished_at: None,
            duration_ms: None,
            passed_steps: None,
            failed_steps: None,
            error: None,
            executor_id: None,
            attempt: 0,
            start_deadline: Some(at("2026-03-01T10:10:00Z")),
            timeout_seconds: None,
            draft: false,
        }
    }

    #[test]
    fn a_queued_run_is_enqueued_again_until_its_start_deadline_then_lost() {
        let facts = stored(&record("queued"), 10 * MINUTE, 60 * MINUTE);
        let start_deadline = at("2026-03-01T10:10:00Z");
        assert_eq!(facts, Stored::Queued { start_deadline });
        assert_eq!(
            verdict(facts, at("2026-03-01T10:09:59Z"), MINUTE),
            Verdict::Requeue { start_deadline }
        );
        assert_eq!(
            verdict(facts, at("2026-03-01T10:10:01Z"), MINUTE),
            Verdict::Lost(LostReason::Queued)
        );
    }

    #[test]
    fn a_queued_row_without_a_deadline_gets_the_queue_timeout_after_it_was_queued() {
        let mut old_row = record("queued");
        old_row.start_deadline = None;
        assert_eq!(
            stored(&old_row, 5 * MINUTE, 60 * MINUTE),
            Stored::Queued {
                start_deadline: at("2026-03-01T10:05:00Z")
            }
        );
    }

    #[test]
    fn a_run_without_a_row_was_never_started_and_is_lost_at_once() {
        assert_eq!(
            verdict(Stored::Missing, at("2026-03-01T10:00:01Z"), MINUTE),
            Verdict::Lost(LostReason::Queued)
        );
    }

    #[test]
    fn a_running_run_is_lost_only_past_its_own_limit_and_the_recording_grace() {
        let mut running = record("running");
        running.started_at = Some(at("2026-03-01T10:01:00Z"));
        running.timeout_seconds = Some(300);
        let facts = stored(&running, 10 * MINUTE, 60 * MINUTE);
        assert_eq!(
            facts,
            Stored::Running {
                deadline: at("2026-03-01T10:07:00Z")
            }
        );
        assert_eq!(
            verdict(facts, at("2026-03-01T10:06:59Z"), MINUTE),
            Verdict::Leave
        );
        assert_eq!(
            verdict(facts, at("2026-03-01T10:07:01Z"), MINUTE),
            Verdict::Lost(LostReason::Running)
        );
    }

    #[test]
    fn a_running_run_takes_the_flows_own_timeout_first_then_the_max_run_duration() {
        let mut running = record("running");
        running.started_at = Some(at("2026-03-01T10:01:00Z"));
        running.timeout_seconds = Some(300);
        running.spec["config"] = serde_json::json!({"timeout": "2m"});
        assert_eq!(
            stored(&running, 10 * MINUTE, 60 * MINUTE),
            Stored::Running {
                deadline: at("2026-03-01T10:04:00Z")
            }
        );
        running.spec["config"] = serde_json::json!({});
        running.timeout_seconds = None;
        assert_eq!(
            stored(&running, 10 * MINUTE, 60 * MINUTE),
            Stored::Running {
                deadline: at("2026-03-01T11:02:00Z")
            }
        );
    }

    #[test]
    fn a_finished_run_still_active_after_the_grace_gets_its_stored_result_reported() {
        let mut finished = record("passed");
        finished.finished_at = Some(at("2026-03-01T10:02:00Z"));
        let facts = stored(&finished, 10 * MINUTE, 60 * MINUTE);
        assert_eq!(
            facts,
            Stored::Finished {
                at: at("2026-03-01T10:02:00Z")
            }
        );
        assert_eq!(
            verdict(facts, at("2026-03-01T10:02:30Z"), MINUTE),
            Verdict::Leave
        );
        assert_eq!(
            verdict(facts, at("2026-03-01T10:03:01Z"), MINUTE),
            Verdict::ReportStoredResult
        );
    }

    #[test]
    fn the_message_is_rebuilt_from_the_row_with_its_trigger_environment_and_deadline() {
        let mut row = record("queued");
        row.timeout_seconds = Some(90);
        let deadline = at("2026-03-01T10:10:00Z");
        let message = rebuild_message(&row, Some("0f1e".into()), deadline).unwrap();
        assert_eq!(message.run_id, row.run_id);
        assert_eq!(message.flow.name, "orders");
        assert_eq!(message.flow.generation, 3);
        assert_eq!(message.flow.uid.as_deref(), Some("0f1e"));
        assert_eq!(message.spec.steps.len(), 1);
        assert_eq!(message.environment.unwrap().name, "staging");
        assert_eq!(
            message.trigger.schedule,
            Some(ScheduleRef {
                namespace: "ns".into(),
                name: "nightly".into(),
                uid: "5c4b".into()
            })
        );
        assert_eq!(message.enqueued_at, row.queued_at);
        assert_eq!(message.start_deadline, Some(deadline));
        assert_eq!(message.timeout_seconds, Some(90));
        assert!(!message.draft);
        row.draft = true;
        let draft = rebuild_message(&row, Some("0f1e".into()), deadline).unwrap();
        assert!(draft.draft, "a draft enqueued again is still a draft");
        assert_eq!(
            draft.flow.uid.as_deref(),
            Some(row.run_id.as_str()),
            "and still names no TestFlow"
        );
        row.trigger_detail = None;
        assert!(rebuild_message(&row, None, deadline).is_none());
    }

    #[test]
    fn the_check_runs_at_start_after_a_reconnect_or_restart_and_once_per_interval() {
        let mut timer = CheckTimer::default();
        let start = Instant::now();
        let interval = Duration::from_secs(30);
        let seconds = |n| start + Duration::from_secs(n);
        assert!(!timer.due(None, start, interval), "Redis does not answer");
        assert!(
            timer.due(Some("a".into()), seconds(1), interval),
            "first answer"
        );
        assert!(!timer.due(Some("a".into()), seconds(6), interval));
        assert!(
            timer.due(Some("a".into()), seconds(31), interval),
            "interval"
        );
        assert!(!timer.due(Some("a".into()), seconds(36), interval));
        assert!(!timer.due(None, seconds(41), interval));
        assert!(
            timer.due(Some("a".into()), seconds(46), interval),
            "reconnect"
        );
        assert!(!timer.due(Some("a".into()), seconds(51), interval));
        assert!(
            timer.due(Some("b".into()), seconds(56), interval),
            "restart"
        );
        assert!(!timer.due(Some("b".into()), seconds(61), interval));
        timer.again();
        assert!(timer.due(Some("b".into()), seconds(66), interval), "again");
        assert!(!timer.due(Some("b".into()), seconds(71), interval));
    }

    #[test]
    fn a_lost_run_without_a_row_is_addressed_to_the_schedule_listing_it() {
        let schedule: TestSchedule = serde_json::from_value(serde_json::json!({
            "apiVersion": "testmesh.io/v1alpha1", "kind": "TestSchedule",
            "metadata": {"name": "nightly", "namespace": "ns", "uid": "5c4b"},
            "spec": {"schedule": "0 * * * *", "flowRef": {"name": "orders"}}}))
        .unwrap();
        let owners = Owners {
            flow: None,
            schedule: Some(Arc::new(schedule)),
        };
        let now = at("2026-03-01T10:20:00Z");
        let result = result_for("sch-1", None, &owners, now);
        assert_eq!(result.status, FlowStatus::Error);
        assert_eq!(result.trigger.schedule.unwrap().uid, "5c4b");
        assert_eq!(result.flow.name, "");
        assert_eq!(result.finished_at, now);
    }
}
