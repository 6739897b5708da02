//! Status writes: the whole status of one object, by server-side apply on the status
//! subresource, so fields the operator stops setting are removed and nothing else is touched.

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
        "status": status,
    });
    api.patch_status(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(body),
    )
    .await?;
    Ok(())
}
