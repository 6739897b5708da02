//! What the operator keeps of a TestFlow between reconciles: metadata, status and the
//! environment reference as they are, and the spec as the compact JSON the API server sent.
//!
//! A typed flow costs five to six times its JSON in memory (every step, config map, assertion
//! and capture is its own allocation), and with ten thousand flows the typed specs were most of
//! the operator's heap. Yet the spec is read only when a flow is reconciled (to validate it)
//! and when a run starts (to copy it into the run message): a few dozen at a time, never all at
//! once. So the cache holds the text, and [`CachedTestFlow::expand`] gives the typed TestFlow
//! back for the moment it is needed. The environment reference stays typed, because a changed
//! TestEnvironment looks it up on every cached flow.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::NamespaceResourceScope;
use serde::{Deserialize, Deserializer};

use crate::resources::common::LocalRef;
use crate::resources::{TestFlow, TestFlowSpec, TestFlowStatus};

/// A TestFlow as the operator's cache holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedTestFlow {
    pub metadata: ObjectMeta,
    /// `spec.environmentRef`.
    pub environment_ref: Option<LocalRef>,
    /// The whole spec, as compact JSON.
    spec_json: Box<str>,
    pub status: Option<TestFlowStatus>,
}

impl CachedTestFlow {
    /// Keeps `flow`'s spec as JSON text.
    pub fn new(flow: TestFlow) -> Result<Self, serde_json::Error> {
        Ok(Self {
            environment_ref: flow.spec.environment_ref.clone(),
            spec_json: serde_json::to_string(&flow.spec)?.into_boxed_str(),
            metadata: flow.metadata,
            status: flow.status,
        })
    }

    /// The typed TestFlow, spec included, as it was when cached.
    pub fn expand(&self) -> Result<TestFlow, serde_json::Error> {
        let spec: TestFlowSpec = serde_json::from_str(&self.spec_json)?;
        let mut flow = TestFlow::new(self.metadata.name.as_deref().unwrap_or_default(), spec);
        flow.metadata = self.metadata.clone();
        flow.status = self.status.clone();
        Ok(flow)
    }
}

/// Decoded as a TestFlow, so the cache refuses exactly what the typed resource refuses.
impl<'de> Deserialize<'de> for CachedTestFlow {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let flow = TestFlow::deserialize(deserializer)?;
        CachedTestFlow::new(flow).map_err(serde::de::Error::custom)
    }
}

/// The same API resource as [`TestFlow`]: watched, listed and patched at the same path.
impl k8s_openapi::Resource for CachedTestFlow {
    const API_VERSION: &'static str = "testmesh.io/v1alpha1";
    const GROUP: &'static str = "testmesh.io";
    const KIND: &'static str = "TestFlow";
    const VERSION: &'static str = "v1alpha1";
    const URL_PATH_SEGMENT: &'static str = "testflows";
    type Scope = NamespaceResourceScope;
}

impl k8s_openapi::Metadata for CachedTestFlow {
    type Ty = ObjectMeta;

    fn metadata(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn metadata_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::Resource;
    use serde_json::json;

    fn flow_json() -> serde_json::Value {
        json!({
            "apiVersion": "testmesh.io/v1alpha1",
            "kind": "TestFlow",
            "metadata": {"name": "orders", "namespace": "qa", "uid": "u-1", "generation": 3,
                         "labels": {"team": "shop"}},
            "spec": {
                "name": "orders",
                "environmentRef": {"name": "staging"},
                "suspend": true,
                "timeout": "2m",
                "steps": [
                    {"id": "list", "action": "http_request",
                     "config": {"method": "GET", "url": "${BASE}/orders"},
                     "assert": ["status == 200", {"expression": "len(body) > 0",
                                                  "message": "no orders"}],
                     "output": {"first": "$.body[0].id"}}
                ]
            },
            "status": {"observedGeneration": 3, "active": ["run-1"]}
        })
    }

    #[test]
    fn expanding_gives_back_the_flow_it_was_made_from() {
        let typed: TestFlow = serde_json::from_value(flow_json()).unwrap();
        let cached: CachedTestFlow = serde_json::from_value(flow_json()).unwrap();
        assert_eq!(
            serde_json::to_value(cached.expand().unwrap()).unwrap(),
            serde_json::to_value(&typed).unwrap()
        );
        assert_eq!(cached.expand().unwrap().spec, typed.spec);
        assert_eq!(cached.environment_ref.as_ref().unwrap().name, "staging");
        assert_eq!(cached.status.as_ref().unwrap().active, ["run-1"]);
    }

    #[test]
    fn what_the_typed_resource_refuses_the_cache_refuses() {
        let mut bad = flow_json();
        bad["spec"]["steps"] = json!("not a list");
        let typed = serde_json::from_value::<TestFlow>(bad.clone()).unwrap_err();
        let cached = serde_json::from_value::<CachedTestFlow>(bad).unwrap_err();
        assert_eq!(cached.to_string(), typed.to_string());
    }

    #[test]
    fn it_is_the_same_api_resource_as_a_test_flow() {
        assert_eq!(CachedTestFlow::api_version(&()), TestFlow::api_version(&()));
        assert_eq!(CachedTestFlow::kind(&()), TestFlow::kind(&()));
        assert_eq!(CachedTestFlow::plural(&()), TestFlow::plural(&()));
        assert_eq!(
            CachedTestFlow::url_path(&(), Some("qa")),
            TestFlow::url_path(&(), Some("qa"))
        );
    }
}
