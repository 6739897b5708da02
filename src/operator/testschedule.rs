//! The TestSchedule controller: checks the cron expressions and time zone, finds the flows
//! (flowRef or flowSelector, re-checked on every tick, so a deleted TestFlow is never run),
//! enqueues the due run with the concurrency policy, handles run-request tokens, and requeues
//! itself for the next tick. Only the leader runs it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelectorRequirement, ObjectMeta};
use kube::api::ListParams;
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};

use super::context::{Context, Error, expand};
use super::runs::{RunRequest, Started, short_uid, stable_hash, start_run};
use super::schedule::{CronSchedule, Due, run_id};
use super::status::apply_status;
use crate::queue::{ScheduleRef, Trigger, TriggerKind};
use crate::resources::common::{
    ConditionUpdate, READY, RUN_REQUESTED_ANNOTATION, STALLED, is_true, remove_condition,
    set_condition,
};
use crate::resources::{TestFlow, TestSchedule};

/// Look again at least this often, so a clock jump or a lost watch never stops a schedule.
const MAX_SLEEP: Duration = Duration::from_secs(300);
/// How often a schedule whose flows are missing is looked at again.
const MISSING_REFERENCE_RETRY: Duration = Duration::from_secs(60);

/// Reconciles one TestSchedule.
pub async fn reconcile(schedule: Arc<TestSchedule>, ctx: Arc<Context>) -> Result<Action, Error> {
    let name = schedule.name_any();
    let namespace = schedule.namespace().ok_or_else(|| Error::NoNamespace {
        kind: "TestSchedule",
        name: name.clone(),
    })?;
    let now = ctx.now();
    ctx.metrics.last_tick.set(now.timestamp() as f64);
    let generation = schedule.metadata.generation;
    let spec = &schedule.spec;
    let old = schedule.status.clone().unwrap_or_default();
    let mut status = old.clone();
    status.observed_generation = generation;

    let expressions = spec.expressions();
    let parsed = CronSchedule::parse(&expressions, spec.schedule.is_some(), spec.zone());
    let cron = match parsed {
        Ok(cron) => cron,
        Err(err) => {
            let message = err.to_string();
            let announce = old
                .conditions
                .iter()
                .find(|c| c.type_ == READY)
                .is_none_or(|c| c.message != message);
            status.next_schedule_time = None;
            set_condition(
                &mut status.conditions,
                ConditionUpdate {
                    type_: READY,
                    status: false,
                    reason: "InvalidSchedule",
                    message: message.clone(),
                },
                generation,
                now,
            );
            set_condition(
                &mut status.conditions,
                ConditionUpdate {
                    type_: STALLED,
                    status: true,
                    reason: "InvalidSchedule",
                    message: "fix the schedule; nothing runs until it parses".into(),
                },
                generation,
                now,
            );
            if announce {
                ctx.event(schedule.as_ref(), true, "InvalidSchedule", message)
                    .await;
            }
            if status != old {
                apply_status(&ctx, schedule.as_ref(), &status).await?;
            }
            return Ok(Action::await_change());
        }
    };
    remove_condition(&mut status.conditions, STALLED);

    // Ticks count from the creation, the last edit of the expressions or zone, or the resume.
    let fingerprint = format!("{}@{}", expressions.join(" | "), spec.zone());
    if spec.suspend {
        status.active_since = None;
    } else if status.active_since.is_none() || old.observed_schedule.as_ref() != Some(&fingerprint)
    {
        status.active_since = Some(now);
    }
    status.observed_schedule = Some(fingerprint);

    let (flows, missing) = target_flows(&ctx, &schedule, &namespace).await?;
    let ready = match &missing {
        Some(missing) => ConditionUpdate {
            type_: READY,
            status: false,
            reason: "FlowNotFound",
            message: missing.clone(),
        },
        None if spec.suspend => ConditionUpdate {
            type_: READY,
            status: true,
            reason: "Suspended",
            message: "spec.suspend is true; no run starts".into(),
        },
        None => ConditionUpdate {
            type_: READY,
            status: true,
            reason: "Scheduled",
            message: format!("{} flow(s) on schedule", flows.len()),
        },
    };
    let announce_missing = missing.is_some()
        && old
            .conditions
            .iter()
            .find(|c| c.type_ == READY)
            .is_none_or(|c| c.message != ready.message);
    set_condition(&mut status.conditions, ready, generation, now);
    if let Some(missing) = missing.clone().filter(|_| announce_missing) {
        ctx.event(schedule.as_ref(), true, "FlowNotFound", missing)
            .await;
    }

    let uid = short_uid(schedule.uid().as_deref());
    let schedule_ref = ScheduleRef {
        namespace: namespace.clone(),
        name: name.clone(),
        uid: schedule.uid().unwrap_or_default(),
    };
    let deadline = spec
        .starting_deadline_seconds
        .map(chrono::Duration::seconds);

    if let Some(since) = status.active_since {
        match cron.due(old.last_schedule_time, since, now, deadline) {
            Due::Nothing => {}
            Due::Missed(tick) => {
                status.last_schedule_time = Some(tick);
                ctx.metrics
                    .skipped
                    .with_label_values(&["missed_deadline"])
                    .inc();
                ctx.event(
                    schedule.as_ref(),
                    true,
                    "MissedSchedule",
                    format!(
                        "the run due at {} was missed by more than startingDeadlineSeconds ({}s) and is skipped",
                        tick.to_rfc3339(),
                        spec.starting_deadline_seconds.unwrap_or_default()
                    ),
                )
                .await;
            }
            Due::Run(tick) => {
                status.last_schedule_time = Some(tick);
                let base_id = run_id(&schedule_ref.uid, tick);
                let trigger = Trigger {
                    kind: TriggerKind::Schedule,
                    schedule: Some(schedule_ref.clone()),
                    scheduled_time: Some(tick),
                    token: None,
                };
                let start_deadline = deadline.map(|d| tick + d);
                let several = flows.len() > 1;
                for flow in &flows {
                    let run_id = if several {
                        format!("{base_id}-{}", flow.name_any())
                    } else {
                        base_id.clone()
                    };
                    run_flow(
                        &ctx,
                        &schedule,
                        flow,
                        run_id,
                        trigger.clone(),
                        start_deadline,
                        &mut status.active,
                    )
                    .await?;
                }
            }
        }
    }

    let token = schedule
        .annotations()
        .get(RUN_REQUESTED_ANNOTATION)
        .cloned();
    if let Some(token) = token.filter(|t| old.last_run_request.as_ref() != Some(t)) {
        status.last_run_request = Some(token.clone());
        let base_id = format!("ann-{uid}-{}", stable_hash(&token));
        let trigger = Trigger {
            kind: TriggerKind::Annotation,
            schedule: Some(schedule_ref.clone()),
            scheduled_time: None,
            token: Some(token.clone()),
        };
        if flows.is_empty() || spec.suspend {
            ctx.event(
                schedule.as_ref(),
                true,
                "RunRefused",
                format!(
                    "run request {token:?} refused: no runnable flow or the schedule is suspended"
                ),
            )
            .await;
        }
        for flow in flows.iter().filter(|_| !spec.suspend) {
            let run_id = format!("{base_id}-{}", flow.name_any());
            run_flow(
                &ctx,
                &schedule,
                flow,
                run_id,
                trigger.clone(),
                None,
                &mut status.active,
            )
            .await?;
        }
    }

    let next = if spec.suspend {
        None
    } else {
        cron.next_after(now)
    };
    status.next_schedule_time = next;
    if status != old {
        apply_status(&ctx, schedule.as_ref(), &status).await?;
    }
    ctx.succeeded(&format!("TestSchedule/{namespace}/{name}"));
    let wait = next
        .and_then(|next| (next - now).to_std().ok())
        .map_or(MAX_SLEEP, |wait| {
            wait.clamp(Duration::from_millis(200), MAX_SLEEP)
        });
    Ok(Action::requeue(if missing.is_some() {
        wait.min(MISSING_REFERENCE_RETRY)
    } else {
        wait
    }))
}

/// Retries a failed reconcile with backoff, counting the error.
pub fn error_policy(schedule: Arc<TestSchedule>, error: &Error, ctx: Arc<Context>) -> Action {
    ctx.after_error(schedule.as_ref(), error)
}

/// Starts one run of `flow` for the schedule, unless the flow is suspended or not ready.
async fn run_flow(
    ctx: &Context,
    schedule: &TestSchedule,
    flow: &TestFlow,
    run_id: String,
    trigger: Trigger,
    start_deadline: Option<chrono::DateTime<chrono::Utc>>,
    active: &mut Vec<String>,
) -> Result<(), Error> {
    let flow_name = flow.name_any();
    let ready = flow
        .status
        .as_ref()
        .is_some_and(|s| is_true(&s.conditions, READY));
    if flow.spec.suspend || !ready {
        let reason = if flow.spec.suspend {
            "suspended"
        } else {
            "not_ready"
        };
        ctx.metrics.skipped.with_label_values(&[reason]).inc();
        ctx.event(
            schedule,
            true,
            "RunSkipped",
            format!(
                "TestFlow {flow_name:?} is {}; run {run_id} skipped",
                reason.replace('_', " ")
            ),
        )
        .await;
        return Ok(());
    }
    let request = RunRequest {
        flow,
        run_id: run_id.clone(),
        trigger,
        environment: schedule.spec.environment_ref.as_ref(),
        policy: schedule.spec.concurrency_policy,
        start_deadline,
    };
    match start_run(ctx, request, active).await? {
        Started::Enqueued => {
            ctx.event(
                schedule,
                false,
                "RunQueued",
                format!("run {run_id} of TestFlow {flow_name:?} queued"),
            )
            .await
        }
        Started::Duplicate => {}
        Started::Skipped(why) => ctx.event(schedule, true, "RunSkipped", why).await,
    }
    Ok(())
}

/// The flows the schedule runs (from the cache, or the API when the cache has none), and a
/// message when a flowRef names no flow or a selector matches none.
async fn target_flows(
    ctx: &Context,
    schedule: &TestSchedule,
    namespace: &str,
) -> Result<(Vec<Arc<TestFlow>>, Option<String>), Error> {
    if let Some(flow_ref) = &schedule.spec.flow_ref {
        return Ok(match ctx.flow(namespace, &flow_ref.name).await? {
            Some(flow) => (vec![flow], None),
            None => (
                Vec::new(),
                Some(format!(
                    "spec.flowRef: TestFlow {:?} not found in namespace {namespace}",
                    flow_ref.name
                )),
            ),
        });
    }
    let Some(selector) = &schedule.spec.flow_selector else {
        return Ok((
            Vec::new(),
            Some("spec: set flowRef or flowSelector".to_string()),
        ));
    };
    let labels = selector.match_labels.clone().unwrap_or_default();
    let no_labels = BTreeMap::new();
    let selects = |meta: &ObjectMeta| {
        let own = meta.labels.as_ref().unwrap_or(&no_labels);
        labels.iter().all(|(k, v)| own.get(k) == Some(v))
            && selector
                .match_expressions
                .iter()
                .flatten()
                .all(|expression| matches_expression(own, expression))
    };
    let mut flows = ctx
        .flows
        .state()
        .iter()
        .filter(|flow| flow.metadata.namespace.as_deref() == Some(namespace))
        .filter(|flow| selects(&flow.metadata))
        .map(|flow| expand(flow).map(Arc::new))
        .collect::<Result<Vec<_>, _>>()?;
    if flows.is_empty() {
        let api: Api<TestFlow> = Api::namespaced(ctx.client.clone(), namespace);
        flows = api
            .list(&ListParams::default())
            .await?
            .items
            .into_iter()
            .filter(|flow| selects(&flow.metadata))
            .map(Arc::new)
            .collect();
    }
    flows.sort_by_key(|flow| flow.name_any());
    if flows.is_empty() {
        let shown = serde_json::to_string(selector).unwrap_or_default();
        return Ok((
            flows,
            Some(format!(
                "spec.flowSelector: {shown} matches no TestFlow in namespace {namespace}"
            )),
        ));
    }
    Ok((flows, None))
}

fn matches_expression(
    labels: &BTreeMap<String, String>,
    expression: &LabelSelectorRequirement,
) -> bool {
    let value = labels.get(&expression.key);
    let values = expression.values.clone().unwrap_or_default();
    match expression.operator.as_str() {
        "In" => value.is_some_and(|v| values.contains(v)),
        "NotIn" => value.is_none_or(|v| !values.contains(v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        _ => false,
    }
}
