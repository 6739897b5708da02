//! The TestFlow controller: validates the flow with the command line's validator and reports
//! the result in conditions and Events, and starts the runs asked for by the
//! `testmesh.io/run-requested` annotation (one per new token) and by `runOnChange` (one per
//! generation). One status write per reconcile, and only when something changed.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kube::ResourceExt;
use kube::runtime::controller::Action;

use super::cached_flow::CachedTestFlow;
use super::context::{Context, Error, expand};
use super::runs::{RunRequest, Started, short_uid, stable_hash, start_run};
use super::status::apply_status;
use crate::flow::load::ManifestMeta;
use crate::flow::validate::{KnownNames, validate};
use crate::flow::{Diagnostic, LoadedFlow};
use crate::queue::{Trigger, TriggerKind};
use crate::resources::TestFlow;
use crate::resources::common::{
    ConditionUpdate, READY, RUN_REQUESTED_ANNOTATION, STALLED, VALIDATED, remove_condition,
    set_condition,
};

/// How often a flow whose environment is missing is looked at again.
const MISSING_REFERENCE_RETRY: Duration = Duration::from_secs(60);

/// Reconciles one TestFlow.
pub async fn reconcile(flow: Arc<TestFlow>, ctx: Arc<Context>) -> Result<Action, Error> {
    let name = flow.name_any();
    let namespace = flow.namespace().ok_or_else(|| Error::NoNamespace {
        kind: "TestFlow",
        name: name.clone(),
    })?;
    let now = ctx.now();
    let generation = flow.metadata.generation;
    let old = flow.status.clone().unwrap_or_default();
    let mut status = old.clone();
    status.observed_generation = generation;

    let errors = validation_errors(&flow, &namespace);
    let missing_environment = match &flow.spec.environment_ref {
        Some(env) if !ctx.environment_exists(&namespace, &env.name).await? => Some(format!(
            "spec.environmentRef: TestEnvironment {:?} not found in namespace {namespace}",
            env.name
        )),
        _ => None,
    };

    let validated = if errors.is_empty() {
        ConditionUpdate {
            type_: VALIDATED,
            status: true,
            reason: "Valid",
            message: "the flow is valid".into(),
        }
    } else {
        ConditionUpdate {
            type_: VALIDATED,
            status: false,
            reason: "ValidationFailed",
            message: errors.join("; "),
        }
    };
    let ready = match (&errors.is_empty(), &missing_environment) {
        (false, _) => ConditionUpdate {
            type_: READY,
            status: false,
            reason: "ValidationFailed",
            message: format!("the flow is not valid: {}", errors.join("; ")),
        },
        (true, Some(missing)) => ConditionUpdate {
            type_: READY,
            status: false,
            reason: "EnvironmentNotFound",
            message: missing.clone(),
        },
        (true, None) if flow.spec.suspend => ConditionUpdate {
            type_: READY,
            status: true,
            reason: "Suspended",
            message: "the flow is valid; spec.suspend is true, so no run starts".into(),
        },
        (true, None) => ConditionUpdate {
            type_: READY,
            status: true,
            reason: "Ready",
            message: "the flow is valid and runnable".into(),
        },
    };
    let runnable = ready.status && !flow.spec.suspend;
    let not_runnable_because = ready.message.clone();
    let announce_invalid = !errors.is_empty()
        && old
            .conditions
            .iter()
            .find(|c| c.type_ == VALIDATED)
            .is_none_or(|c| c.status != "False" || c.message != validated.message);
    let announce_missing = missing_environment.is_some()
        && old
            .conditions
            .iter()
            .find(|c| c.type_ == READY)
            .is_none_or(|c| c.reason != "EnvironmentNotFound" || c.message != ready.message);
    set_condition(&mut status.conditions, validated, generation, now);
    set_condition(&mut status.conditions, ready, generation, now);
    if errors.is_empty() {
        remove_condition(&mut status.conditions, STALLED);
    } else {
        set_condition(
            &mut status.conditions,
            ConditionUpdate {
                type_: STALLED,
                status: true,
                reason: "ValidationFailed",
                message: "fix the flow; nothing runs until it is valid".into(),
            },
            generation,
            now,
        );
    }
    if announce_invalid {
        ctx.event(
            flow.as_ref(),
            true,
            "ValidationFailed",
            format!("the flow is not valid: {}", errors.join("; ")),
        )
        .await;
    }
    if let Some(missing) = missing_environment.clone().filter(|_| announce_missing) {
        ctx.event(flow.as_ref(), true, "EnvironmentNotFound", missing)
            .await;
    }

    let uid = short_uid(flow.uid().as_deref());
    let token = flow.annotations().get(RUN_REQUESTED_ANNOTATION).cloned();
    if let Some(token) = token.filter(|t| old.last_run_request.as_ref() != Some(t)) {
        status.last_run_request = Some(token.clone());
        if runnable {
            let request = RunRequest {
                flow: &flow,
                run_id: format!("ann-{uid}-{}", stable_hash(&token)),
                trigger: Trigger {
                    kind: TriggerKind::Annotation,
                    schedule: None,
                    scheduled_time: None,
                    token: Some(token.clone()),
                },
                environment: None,
                policy: flow.spec.concurrency_policy,
                start_deadline: None,
            };
            report_start(
                &ctx,
                &flow,
                &token,
                start_run(&ctx, request, &mut status.active).await?,
            )
            .await;
        } else {
            ctx.metrics
                .skipped
                .with_label_values(&["not_runnable"])
                .inc();
            ctx.event(
                flow.as_ref(),
                true,
                "RunRefused",
                format!("run request {token:?} refused: {not_runnable_because}"),
            )
            .await;
        }
    }
    if flow.spec.run_on_change && generation.is_some() && old.last_change_generation != generation {
        status.last_change_generation = generation;
        let generation = generation.unwrap_or_default();
        if runnable {
            let request = RunRequest {
                flow: &flow,
                run_id: format!("chg-{uid}-{generation}"),
                trigger: Trigger {
                    kind: TriggerKind::Change,
                    schedule: None,
                    scheduled_time: None,
                    token: None,
                },
                environment: None,
                policy: flow.spec.concurrency_policy,
                start_deadline: None,
            };
            let label = format!("generation {generation}");
            report_start(
                &ctx,
                &flow,
                &label,
                start_run(&ctx, request, &mut status.active).await?,
            )
            .await;
        }
    }

    if status != old {
        apply_status(&ctx, flow.as_ref(), &status).await?;
    }
    ctx.succeeded(&format!("TestFlow/{namespace}/{name}"));
    Ok(if missing_environment.is_some() {
        Action::requeue(MISSING_REFERENCE_RETRY)
    } else {
        Action::await_change()
    })
}

/// Reconciles one TestFlow of the controller's cache, its spec read back for the reconcile.
pub async fn reconcile_cached(
    flow: Arc<CachedTestFlow>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    reconcile(Arc::new(expand(&flow)?), ctx).await
}

/// Retries a failed reconcile with backoff, counting the error.
pub fn error_policy(flow: Arc<CachedTestFlow>, error: &Error, ctx: Arc<Context>) -> Action {
    ctx.after_error(flow.as_ref(), error)
}

async fn report_start(ctx: &Context, flow: &TestFlow, what: &str, started: Started) {
    match started {
        Started::Enqueued => {
            ctx.event(flow, false, "RunQueued", format!("run for {what:?} queued"))
                .await
        }
        Started::Duplicate => {}
        Started::Skipped(why) => ctx.event(flow, true, "RunSkipped", why).await,
    }
}

/// The validator's errors for the flow, each naming its step and field (`spec.steps[0]...`).
pub fn validation_errors(flow: &TestFlow, namespace: &str) -> Vec<String> {
    let name = flow.name_any();
    let mut spec = flow.spec.flow.clone();
    if spec.name.is_empty() {
        spec.name = name.clone();
    }
    let loaded = LoadedFlow {
        spec,
        file: PathBuf::from(format!("testflows/{namespace}/{name}")),
        document: 0,
        positions: Default::default(),
        manifest: Some(ManifestMeta {
            name,
            namespace: Some(namespace.to_string()),
        }),
    };
    let known = KnownNames {
        names: Default::default(),
        open: flow.spec.environment_ref.is_some(),
        ..KnownNames::default()
    };
    validate(&loaded, &known, crate::engine::builtins::NAMES)
        .into_iter()
        .filter(Diagnostic::is_error)
        .map(|d| {
            let mut text = String::new();
            if let Some(step) = &d.step {
                text.push_str(&format!("step `{step}`: "));
            }
            if let Some(field) = &d.field {
                text.push_str(&format!("{field}: "));
            }
            text.push_str(&d.message);
            text
        })
        .collect()
}
