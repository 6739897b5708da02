//! Starting a run: the concurrency policy against the runs still active, the run message (a
//! snapshot of the flow, references only, never secret values), the enqueue, and the run's
//! `queued` execution row when the operator has a database.
//!
//! Every run gets a start deadline: its schedule's, or the operator's `--queue-timeout` after
//! it is enqueued; the executors refuse a run past it, and the lost-run check uses it.
//!
//! The row is written after the enqueue, so a run that never reached Redis never shows as
//! queued; it is written for a duplicate too, which fills the row in when an earlier attempt
//! enqueued and stopped before writing it. The insert changes nothing when the row exists (the
//! executor may already have marked it running or finished). A database that is away costs a
//! warning and a metric, never a run: the executor inserts the row itself when it starts.

use chrono::{DateTime, Utc};
use kube::ResourceExt;
use tracing::Instrument;

use super::context::{Context, Error};
use super::queue::Enqueued;
use crate::engine::trace::traceparent_of;
use crate::queue::{EnvironmentRef, FlowRef, RunMessage, Trigger};
use crate::resources::{ConcurrencyPolicy, LocalRef, TestFlow};

/// One run to start.
pub struct RunRequest<'a> {
    pub flow: &'a TestFlow,
    pub run_id: String,
    pub trigger: Trigger,
    /// Overrides the flow's own environmentRef (a schedule's).
    pub environment: Option<&'a LocalRef>,
    pub policy: ConcurrencyPolicy,
    pub start_deadline: Option<DateTime<Utc>>,
}

/// What became of a run request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    Enqueued,
    /// The run id was enqueued before (another replica, an earlier attempt).
    Duplicate,
    /// Forbid: another run is active; the message says which.
    Skipped(String),
}

/// Applies the concurrency policy, then enqueues the run and records it in `active`.
pub async fn start_run(
    ctx: &Context,
    request: RunRequest<'_>,
    active: &mut Vec<String>,
) -> Result<Started, Error> {
    if !active.is_empty() {
        match request.policy {
            ConcurrencyPolicy::Forbid => {
                ctx.metrics.skipped.with_label_values(&["forbid"]).inc();
                return Ok(Started::Skipped(format!(
                    "concurrencyPolicy Forbid: run {} is still active, so run {} is skipped",
                    active.join(", "),
                    request.run_id
                )));
            }
            ConcurrencyPolicy::Replace => {
                for run_id in active.drain(..) {
                    ctx.queue.cancel(&run_id).await?;
                }
            }
            ConcurrencyPolicy::Allow => {}
        }
    }
    let span = tracing::info_span!(
        "run.enqueue",
        otel.name = "run.enqueue",
        flow.namespace = %request.flow.namespace().unwrap_or_default(),
        flow.name = %request.flow.name_any(),
        run.id = %request.run_id,
        run.trigger = request.trigger.kind.as_str(),
    );
    let now = ctx.now();
    let mut message = run_message(&request, now);
    message.start_deadline = Some(start_deadline(
        request.start_deadline,
        now,
        ctx.queue_timeout,
    ));
    message.traceparent = traceparent_of(&span);
    let outcome = ctx.queue.enqueue(&message).instrument(span).await?;
    record_queued(ctx, &message).await;
    if !active.contains(&request.run_id) {
        active.push(request.run_id.clone());
    }
    Ok(match outcome {
        Enqueued::Added(_) => {
            ctx.metrics
                .enqueued
                .with_label_values(&[request.trigger.kind.as_str()])
                .inc();
            Started::Enqueued
        }
        Enqueued::Duplicate => {
            ctx.metrics.skipped.with_label_values(&["duplicate"]).inc();
            Started::Duplicate
        }
    })
}

/// Writes the `queued` execution row of `message`, if the operator has a database.
async fn record_queued(ctx: &Context, message: &RunMessage) {
    let Some(store) = &ctx.store else { return };
    if let Err(err) = store.insert_queued_run(message).await {
        ctx.metrics.queued_row_failures.inc();
        tracing::warn!(run_id = %message.run_id, error = %err,
            "cannot write the queued execution row; the executor records the run when it starts");
    }
}

/// When a run enqueued at `now` must have started: its own deadline (a schedule's
/// `startingDeadlineSeconds`), else `queue_timeout` later, so that no run waits without bound.
pub fn start_deadline(
    own: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    queue_timeout: std::time::Duration,
) -> DateTime<Utc> {
    own.unwrap_or_else(|| {
        chrono::Duration::from_std(queue_timeout)
            .ok()
            .and_then(|wait| now.checked_add_signed(wait))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    })
}

/// The message for `request`, enqueued at `now`.
pub fn run_message(request: &RunRequest<'_>, now: DateTime<Utc>) -> RunMessage {
    let flow = request.flow;
    let namespace = flow.namespace().unwrap_or_default();
    let mut spec = flow.spec.flow.clone();
    if spec.name.is_empty() {
        spec.name = flow.name_any();
    }
    let environment = request
        .environment
        .or(flow.spec.environment_ref.as_ref())
        .map(|env| EnvironmentRef {
            namespace: namespace.clone(),
            name: env.name.clone(),
        });
    RunMessage {
        run_id: request.run_id.clone(),
        flow: FlowRef {
            namespace,
            name: flow.name_any(),
            generation: flow.metadata.generation.unwrap_or_default(),
            uid: flow.uid(),
        },
        spec,
        environment,
        trigger: request.trigger.clone(),
        enqueued_at: now,
        start_deadline: request.start_deadline,
        timeout_seconds: flow.spec.timeout.as_ref().map(|t| t.get().as_secs()),
        traceparent: None,
        draft: false,
    }
}

/// The first 8 letters and digits of a uid, for run ids.
pub fn short_uid(uid: Option<&str>) -> String {
    uid.unwrap_or("nouid")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(8)
        .collect()
}

/// A stable 64-bit FNV-1a hash, as 16 hex digits: run ids from annotation tokens.
pub fn stable_hash(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_keeps_its_own_start_deadline_and_gets_the_queue_timeout_without_one() {
        let now: DateTime<Utc> = "2026-03-01T10:00:00Z".parse().unwrap();
        let own: DateTime<Utc> = "2026-03-01T10:02:00Z".parse().unwrap();
        let ten_minutes = std::time::Duration::from_secs(600);
        assert_eq!(start_deadline(Some(own), now, ten_minutes), own);
        assert_eq!(
            start_deadline(None, now, ten_minutes),
            "2026-03-01T10:10:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            start_deadline(None, now, std::time::Duration::MAX),
            DateTime::<Utc>::MAX_UTC
        );
    }
}
