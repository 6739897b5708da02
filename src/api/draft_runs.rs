//! `POST /runs`: a draft run. The flow editor sends an unsaved flow (YAML, either dialect), a
//! namespace and an environment; the API validates it, records a `queued` run marked as a draft
//! and enqueues a `manual` run for an executor, which runs and records it like any other. Its
//! live events come through `GET /executions/{runId}/events`.
//!
//! Off unless `testmesh api` runs with `--allow-draft-runs`. With Kubernetes sign-in the caller
//! needs what starting a run of a TestFlow needs: `patch` on TestFlows in the namespace. The run
//! names no TestFlow the operator could update: its flow name starts with `draft-` and its uid
//! is the run's own.

use std::path::Path;
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access_review::KubernetesAccess;
use super::auth::SignedIn;
use super::error::{ApiError, ErrorBody};
use super::scope::Scoped;
use crate::checks::check_loaded;
use crate::flow::load::{Loaded, load_text};
use crate::flow::validate::KnownNames;
use crate::queue::{EnvironmentRef, FlowRef, RedisQueue, RunMessage, Trigger, TriggerKind};
use crate::resources::resource_name;

/// How long a draft run may wait in the queue for an executor.
const START_WITHIN_MINUTES: i64 = 5;
/// The longest Kubernetes object name.
const NAME_LIMIT: usize = 63;

/// What draft runs need: the queue, and the reviews of a Kubernetes sign-in.
#[derive(Clone)]
pub struct DraftRuns {
    pub queue: RedisQueue,
    /// Asked whether the caller may start runs; None when callers do not sign in with
    /// Kubernetes.
    pub access: Option<Arc<KubernetesAccess>>,
}

/// A draft run to start.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DraftRunRequest {
    /// The namespace it runs in: its TestEnvironment and Secrets are used.
    pub namespace: String,
    /// A TestEnvironment of that namespace.
    #[serde(default)]
    pub environment: Option<String>,
    /// The flow, as a flow file or a TestFlow manifest.
    pub flow: String,
}

/// The run that was enqueued.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DraftRun {
    pub run_id: String,
    pub namespace: String,
    /// `draft-` and the flow's name as an object name.
    pub flow_name: String,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= NAME_LIMIT
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// The draft's run message, or a 400 naming what is wrong with the request.
pub fn draft_message(request: &DraftRunRequest) -> Result<RunMessage, ApiError> {
    if !valid_name(&request.namespace) {
        return Err(ApiError::bad(
            "namespace",
            format!("{:?} is not a namespace name", request.namespace),
        ));
    }
    let environment = request
        .environment
        .as_deref()
        .map(str::trim)
        .filter(|name| !name.is_empty());
    if let Some(name) = environment.filter(|name| !valid_name(name)) {
        return Err(ApiError::bad(
            "environment",
            format!("{name:?} is not a TestEnvironment name"),
        ));
    }
    let mut loaded = Loaded::default();
    load_text(&request.flow, Path::new("draft.yaml"), &mut loaded);
    let known = KnownNames {
        open: true,
        ..KnownNames::default()
    };
    let (diagnostics, flows) = check_loaded(&loaded, &known);
    let errors: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(ToString::to_string)
        .collect();
    if let Some(first) = errors.first() {
        let more = match errors.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        return Err(ApiError::bad(
            "flow",
            format!("the flow is not valid: {first}{more}"),
        ));
    }
    let mut found = loaded.flows();
    let (Some(flow), None) = (found.next(), found.next()) else {
        return Err(ApiError::bad(
            "flow",
            format!("a draft run takes exactly one flow; this YAML holds {flows}"),
        ));
    };
    let run_id = format!("draft-{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
    let name: String = format!("draft-{}", resource_name(&flow.spec.name))
        .chars()
        .take(NAME_LIMIT)
        .collect();
    let now = Utc::now();
    Ok(RunMessage {
        flow: FlowRef {
            namespace: request.namespace.clone(),
            name: name.trim_end_matches('-').to_string(),
            generation: 0,
            uid: Some(run_id.clone()),
        },
        run_id,
        spec: flow.spec.clone(),
        environment: environment.map(|name| EnvironmentRef {
            namespace: request.namespace.clone(),
            name: name.to_string(),
        }),
        trigger: Trigger {
            kind: TriggerKind::Manual,
            schedule: None,
            scheduled_time: None,
            token: None,
        },
        enqueued_at: now,
        start_deadline: Some(now + Duration::minutes(START_WITHIN_MINUTES)),
        timeout_seconds: None,
        traceparent: None,
        draft: true,
    })
}

#[utoipa::path(post, path = "/api/v1/runs", tag = "editor",
    request_body = DraftRunRequest,
    responses((status = 202, body = DraftRun), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "Draft runs are off", body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn start(
    Scoped(state): Scoped,
    Extension(signed_in): Extension<SignedIn>,
    body: Bytes,
) -> Result<(StatusCode, Json<DraftRun>), ApiError> {
    let Some(drafts) = &state.drafts else {
        return Err(ApiError::Disabled {
            message: "draft runs are off: start `testmesh api` with --allow-draft-runs (chart value api.draftRuns.enabled)".into(),
        });
    };
    let request: DraftRunRequest = serde_json::from_slice(&body).map_err(|err| {
        ApiError::bad(
            "body",
            format!("expected {{\"namespace\", \"environment\", \"flow\"}} as JSON: {err}"),
        )
    })?;
    state.scope.check(&request.namespace)?;
    let message = draft_message(&request)?;
    if let Some(access) = &drafts.access {
        let caller = signed_in.caller.as_ref().ok_or(ApiError::Unauthorized)?;
        let allowed = access
            .may_start_run(caller, &request.namespace, &message.flow.name)
            .await
            .map_err(|err| ApiError::Unavailable {
                what: "access control",
                reason: err.to_string(),
            })?;
        if !allowed {
            return Err(ApiError::NotAllowed {
                message: format!(
                    "{} may not start runs in namespace {}: a draft run needs `patch` on testflows.testmesh.io there",
                    caller.identity.user, request.namespace
                ),
            });
        }
    }
    state.store.insert_queued_run(&message).await?;
    if let Err(err) = drafts.queue.enqueue_run(&message).await {
        tracing::error!(run_id = %message.run_id, error = %err, "a draft run could not be enqueued");
        return Err(ApiError::Unavailable {
            what: "the run queue",
            reason: "Redis did not take the run".into(),
        });
    }
    tracing::info!(run_id = %message.run_id, namespace = %request.namespace,
        user = signed_in.user.as_deref().unwrap_or("-"), "draft run enqueued");
    Ok((
        StatusCode::ACCEPTED,
        Json(DraftRun {
            run_id: message.run_id,
            namespace: message.flow.namespace,
            flow_name: message.flow.name,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(flow: &str) -> DraftRunRequest {
        DraftRunRequest {
            namespace: "qa".into(),
            environment: Some("staging".into()),
            flow: flow.into(),
        }
    }

    #[test]
    fn a_valid_flow_becomes_a_manual_draft_run_of_no_testflow() {
        let message = draft_message(&request(
            "name: Orders Check\nsteps:\n  - action: log\n    config: {message: hi}\n",
        ))
        .unwrap();
        assert!(message.draft);
        assert_eq!(message.trigger.kind, TriggerKind::Manual);
        assert_eq!(message.flow.name, "draft-orders-check");
        assert_eq!(message.flow.uid.as_deref(), Some(message.run_id.as_str()));
        assert_eq!(message.environment.unwrap().name, "staging");
        assert!(message.start_deadline.is_some());
    }

    #[test]
    fn bad_requests_name_the_field_and_the_value() {
        let error = draft_message(&request("name: x\nsteps:\n  - action: htp\n"))
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("flow: the flow is not valid"), "{error}");
        assert!(error.contains("unknown action `htp`"), "{error}");
        let mut bad = request("name: x\nsteps:\n  - action: log\n    config: {message: hi}\n");
        bad.namespace = "Not_A_Namespace".into();
        let error = draft_message(&bad).unwrap_err().to_string();
        assert!(error.contains("namespace") && error.contains("Not_A_Namespace"));
    }
}
