//! `run_flow` in an executor: the called flow is the TestFlow of that name in the run's
//! namespace, read from the cluster when the step runs (its spec is the flow). A flow's identity
//! is `namespace/name`, as the executor names the run's own flow in its `source`, so cycles
//! through the run's flow are caught too.

use std::fmt;
use std::path::Path;

use futures::future::BoxFuture;
use kube::{Api, Client};

use crate::engine::{CalledFlow, FlowResolver};
use crate::resources::TestFlow;

/// TestFlows of one namespace.
#[derive(Clone)]
pub struct ClusterFlows {
    client: Client,
    namespace: String,
}

impl fmt::Debug for ClusterFlows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterFlows")
            .field("namespace", &self.namespace)
            .finish()
    }
}

impl ClusterFlows {
    pub fn new(client: Client, namespace: &str) -> Self {
        Self {
            client,
            namespace: namespace.to_string(),
        }
    }

    /// The identity of the TestFlow `name` in `namespace`, as the run's `source` names it.
    pub fn identity_of(namespace: &str, name: &str) -> String {
        format!("{namespace}/{name}")
    }

    async fn read(&self, name: &str) -> Result<CalledFlow, String> {
        let namespace = &self.namespace;
        let api: Api<TestFlow> = Api::namespaced(self.client.clone(), namespace);
        let flow = api
            .get_opt(name)
            .await
            .map_err(|err| format!("cannot read TestFlow {namespace}/{name}: {err}"))?
            .ok_or_else(|| format!("no TestFlow `{name}` in namespace {namespace}"))?;
        let mut spec = flow.spec.flow;
        if spec.name.is_empty() {
            spec.name = name.to_string();
        }
        Ok(CalledFlow {
            identity: Self::identity_of(namespace, name),
            location: format!("TestFlow {namespace}/{name}"),
            spec,
            base_dir: None,
        })
    }
}

impl FlowResolver for ClusterFlows {
    fn find<'a>(
        &'a self,
        target: &'a str,
        _base_dir: Option<&'a Path>,
    ) -> BoxFuture<'a, Result<CalledFlow, String>> {
        Box::pin(self.read(target))
    }
}
