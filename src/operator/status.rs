//! Status writes: the whole status of one object, by server-side apply on the status
//! subresource, so fields the operator stops setting are removed and nothing else is touched.
//!
//! Each write carries the resourceVersion of the object it was computed from. The reconcilers
//! and the results consumer both write status (a reconcile adds a run to `active`, a result
//! removes it); without the precondition the later write would silently drop the other's
//! change. A stale write gets 409 Conflict instead, and is computed again from a fresh read.

use std::fmt::Debug;

use kube::api::{Patch, PatchParams};
use kube::core::NamespaceResourceScope;
use kube::{Api, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::context::{Context, Error, FIELD_MANAGER};

/// Applies `status` to `object`'s status subresource.
pub async fn apply_status<K, S>(ctx: &Context, object: &K, status: &S) -> Result<(), Error>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + Debug
        + DeserializeOwned,
    S: Serialize,
{
    let name = object.name_any();
    let namespace = object.namespace().ok_or_else(|| Error::NoNamespace {
        kind: "object",
        name: name.clone(),
    })?;
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &namespace);
    let body = json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "metadata": {"name": name, "resourceVersion": object.resource_version()},
        "status": status,
    });
    api.patch_status(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(body),
    )
    .await?;
    ctx.metrics
        .status_writes
        .with_label_values(&[K::kind(&()).as_ref()])
        .inc();
    Ok(())
}

/// Whether `err` is the API server refusing a write computed from an object since changed.
pub fn is_conflict(err: &Error) -> bool {
    matches!(err, Error::Kube(kube::Error::Api(status)) if status.is_conflict())
}
