//! The TestEnvironment controller: checks that every referenced Secret, ConfigMap and key
//! exists (naming what is missing, never a value) and counts the TestFlows that use the
//! environment. It is re-run when a Secret or ConfigMap it references changes, and every few
//! minutes to recount the flows (watching every TestFlow a second time would double the
//! operator's memory for a count).

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};

use super::context::{Context, Error};
use super::status::apply_status;
use crate::resources::common::{ConditionUpdate, READY, set_condition};
use crate::resources::testenvironment::{SourceKind, SourceRef};
use crate::resources::{TestEnvironment, TestEnvironmentStatus};

/// Look again this often while something is missing, in case no watch event arrives.
const MISSING_REFERENCE_RETRY: Duration = Duration::from_secs(60);
/// Recount the flows this often.
const RECOUNT: Duration = Duration::from_secs(300);

/// Reconciles one TestEnvironment.
pub async fn reconcile(env: Arc<TestEnvironment>, ctx: Arc<Context>) -> Result<Action, Error> {
    let name = env.name_any();
    let namespace = env.namespace().ok_or_else(|| Error::NoNamespace {
        kind: "TestEnvironment",
        name: name.clone(),
    })?;
    let now = ctx.now();
    let generation = env.metadata.generation;
    let old = env.status.clone().unwrap_or_default();
    let mut missing = Vec::new();
    for source in env.spec.source_refs() {
        if let Some(problem) = check_source(&ctx, &namespace, &source).await? {
            missing.push(problem);
        }
    }
    let flows = ctx
        .flows
        .state()
        .iter()
        .filter(|flow| flow.namespace().as_deref() == Some(namespace.as_str()))
        .filter(|flow| {
            flow.environment_ref
                .as_ref()
                .is_some_and(|r| r.name == name)
        })
        .count() as u32;
    let mut status = TestEnvironmentStatus {
        observed_generation: generation,
        conditions: old.conditions.clone(),
        flows,
    };
    let ready = if missing.is_empty() {
        ConditionUpdate {
            type_: READY,
            status: true,
            reason: "ReferencesResolved",
            message: "every referenced Secret, ConfigMap and key exists".into(),
        }
    } else {
        ConditionUpdate {
            type_: READY,
            status: false,
            reason: "ReferenceNotFound",
            message: missing.join("; "),
        }
    };
    let announce = !missing.is_empty()
        && old
            .conditions
            .iter()
            .find(|c| c.type_ == READY)
            .is_none_or(|c| c.message != ready.message);
    if announce {
        ctx.event(
            env.as_ref(),
            true,
            "ReferenceNotFound",
            ready.message.clone(),
        )
        .await;
    }
    set_condition(&mut status.conditions, ready, generation, now);
    if status != old {
        apply_status(&ctx, env.as_ref(), &status).await?;
    }
    ctx.succeeded(&format!("TestEnvironment/{namespace}/{name}"));
    Ok(if missing.is_empty() {
        Action::requeue(RECOUNT)
    } else {
        Action::requeue(MISSING_REFERENCE_RETRY)
    })
}

/// Retries a failed reconcile with backoff, counting the error.
pub fn error_policy(env: Arc<TestEnvironment>, error: &Error, ctx: Arc<Context>) -> Action {
    ctx.after_error(env.as_ref(), error)
}

/// Says what is missing for one reference, by kind, name and key; reads keys only.
async fn check_source(
    ctx: &Context,
    namespace: &str,
    source: &SourceRef,
) -> Result<Option<String>, Error> {
    let keys: Option<Vec<String>> = match source.kind {
        SourceKind::Secret => {
            let api: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
            api.get_opt(&source.name).await?.map(|secret| {
                let mut keys: Vec<String> = secret.data.unwrap_or_default().into_keys().collect();
                keys.extend(secret.string_data.unwrap_or_default().into_keys());
                keys
            })
        }
        SourceKind::ConfigMap => {
            let api: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), namespace);
            api.get_opt(&source.name).await?.map(|map| {
                let mut keys: Vec<String> = map.data.unwrap_or_default().into_keys().collect();
                keys.extend(map.binary_data.unwrap_or_default().into_keys());
                keys
            })
        }
    };
    if source.optional {
        return Ok(None);
    }
    let kind = source.kind.as_str();
    Ok(match (keys, &source.key) {
        (None, _) => Some(format!("{kind} {:?} not found", source.name)),
        (Some(keys), Some(key)) if !keys.contains(key) => {
            Some(format!("key {key:?} not found in {kind} {:?}", source.name))
        }
        _ => None,
    })
}

/// The environments in `namespace` that reference the Secret or ConfigMap `name`: what to
/// reconcile when it changes.
pub fn referencing(
    environments: &[Arc<TestEnvironment>],
    kind: SourceKind,
    namespace: &str,
    name: &str,
) -> Vec<kube::runtime::reflector::ObjectRef<TestEnvironment>> {
    environments
        .iter()
        .filter(|env| env.namespace().as_deref() == Some(namespace))
        .filter(|env| {
            env.spec
                .source_refs()
                .iter()
                .any(|s| s.kind == kind && s.name == name)
        })
        .map(|env| kube::runtime::reflector::ObjectRef::from(env.as_ref()))
        .collect()
}
