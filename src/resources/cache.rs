//! What a cache keeps of a watched object: what the roles read, and not the bookkeeping a real
//! API server adds. Every object it returns carries `metadata.managedFields` (an entry per field
//! manager, rewritten by every apply and every status write), and one applied with client-side
//! `kubectl apply` also carries the `kubectl.kubernetes.io/last-applied-configuration`
//! annotation, a copy of the whole object. No role reads either, and together they are often
//! larger than the spec, so both are dropped before an object enters a reflector store: the
//! operator's controllers and the API's cluster catalogue watch through [`watch_into`].

use std::fmt::Debug;
use std::hash::Hash;

use futures::Stream;
use kube::runtime::reflector::store::Writer;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Resource, ResourceExt};
use serde::de::DeserializeOwned;

/// The annotation client-side `kubectl apply` writes.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Drops what no role reads from `object`, freeing it rather than emptying it in place.
pub fn trim_for_cache<K: Resource>(object: &mut K) {
    object.meta_mut().managed_fields = None;
    let annotations = object.annotations_mut();
    annotations.remove(LAST_APPLIED_ANNOTATION);
    if annotations.is_empty() {
        object.meta_mut().annotations = None;
    }
}

/// Watches `api` with `config` (retrying with backoff) and keeps every object, trimmed, in
/// `writer`'s store. The stream must be polled for the store to fill.
pub fn watch_into<K>(
    api: Api<K>,
    config: watcher::Config,
    writer: Writer<K>,
) -> impl Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send + 'static
where
    K: Resource + Clone + Debug + DeserializeOwned + Send + Sync + 'static,
    K::DynamicType: Eq + Hash + Clone + Send + Sync,
{
    watcher(api, config)
        .default_backoff()
        .modify(trim_for_cache)
        .reflect(writer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::TestFlow;
    use serde_json::json;

    #[test]
    fn managed_fields_and_the_last_applied_copy_are_dropped_and_the_rest_kept() {
        let mut flow: TestFlow = serde_json::from_value(json!({
            "apiVersion": "testmesh.io/v1alpha1",
            "kind": "TestFlow",
            "metadata": {
                "name": "orders", "namespace": "qa", "uid": "u-1", "resourceVersion": "7",
                "generation": 2, "labels": {"team": "shop"},
                "annotations": {
                    LAST_APPLIED_ANNOTATION: "{\"apiVersion\":\"testmesh.io/v1alpha1\"}",
                    "testmesh.io/run-requested": "deploy-1"
                },
                "managedFields": [
                    {"manager": "kubectl", "operation": "Apply", "fieldsType": "FieldsV1",
                     "fieldsV1": {"f:spec": {}}},
                    {"manager": "testmesh-operator", "operation": "Apply",
                     "subresource": "status", "fieldsType": "FieldsV1",
                     "fieldsV1": {"f:status": {}}}
                ]
            },
            "spec": {"steps": [{"action": "log", "config": {"message": "hi"}}]},
            "status": {"observedGeneration": 2}
        }))
        .unwrap();
        trim_for_cache(&mut flow);
        assert_eq!(flow.metadata.managed_fields, None);
        let annotations = flow.metadata.annotations.as_ref().unwrap();
        assert_eq!(annotations.len(), 1);
        assert_eq!(annotations["testmesh.io/run-requested"], "deploy-1");
        assert_eq!(flow.labels()["team"], "shop");
        assert_eq!(flow.metadata.resource_version.as_deref(), Some("7"));
        assert_eq!(flow.spec.flow.steps.len(), 1);
        assert_eq!(
            flow.status.as_ref().and_then(|s| s.observed_generation),
            Some(2)
        );

        let mut only_last_applied = TestFlow::new("plain", Default::default());
        only_last_applied
            .annotations_mut()
            .insert(LAST_APPLIED_ANNOTATION.into(), "{}".into());
        trim_for_cache(&mut only_last_applied);
        assert_eq!(only_last_applied.metadata.annotations, None);
    }
}
