//! Where the definitions come from: flows, schedules and environments. The cluster
//! (src/api/cluster_catalog.rs: TestFlow, TestSchedule and TestEnvironment resources, cached
//! from watches) when `testmesh api` runs in a cluster or is given a kubeconfig; the store
//! otherwise, and while the cluster's caches fill (src/api/store_catalog.rs: every flow that
//! ran, with its latest spec; the schedules and environments runs came from).

use futures::FutureExt;
use futures::future::BoxFuture;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::environments::Environment;
use super::error::ApiError;
use super::schedules::Schedule;
use super::scope::Scope;

/// A flow definition as the catalog knows it; run statistics are added from the store.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogFlow {
    pub namespace: String,
    pub name: String,
    /// The flow spec (camelCase FlowSpec JSON).
    pub spec: Value,
    /// The TestFlow's status conditions (`Ready`, `Validated`, `Stalled`); empty when only the
    /// store knows the flow.
    pub conditions: Vec<FlowCondition>,
}

/// A status condition of a TestFlow, as the operator set it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FlowCondition {
    #[serde(rename = "type")]
    pub type_: String,
    /// True, False or Unknown.
    pub status: String,
    pub reason: String,
    /// The validator's findings when the flow is not valid.
    pub message: String,
}

/// The source of definitions, limited to the namespaces of `scope`.
pub trait FlowCatalog: Send + Sync {
    /// Every flow, ordered by namespace then name.
    fn flows<'a>(&'a self, scope: &'a Scope) -> BoxFuture<'a, Result<Vec<CatalogFlow>, ApiError>>;
    /// One flow, or None when the catalog does not know it.
    fn flow<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<CatalogFlow>, ApiError>>;
    fn schedules<'a>(&'a self, scope: &'a Scope) -> BoxFuture<'a, Result<Vec<Schedule>, ApiError>>;
    /// Environments with their variables and secret references, never secret values.
    fn environments<'a>(
        &'a self,
        scope: &'a Scope,
    ) -> BoxFuture<'a, Result<Vec<Environment>, ApiError>>;
    /// Every namespace that holds a flow or a run, sorted: where a caller's access is asked.
    fn namespaces(&self) -> BoxFuture<'_, Result<Vec<String>, ApiError>> {
        async move {
            let mut namespaces: Vec<String> = self
                .flows(&Scope::all())
                .await?
                .into_iter()
                .map(|flow| flow.namespace)
                .collect();
            namespaces.dedup();
            Ok(namespaces)
        }
        .boxed()
    }
}
