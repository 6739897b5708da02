//! The catalog as the cluster knows it: TestFlow, TestSchedule and TestEnvironment resources,
//! kept in reflector caches that watches update (without managedFields or last-applied copies,
//! see [`cache`]), so that a request reads memory and never waits on the Kubernetes API. It
//! watches the `--watch-namespaces` (each on its own, as a namespaced Role allows) or every
//! namespace, and answers within the API's scope.
//!
//! Until every cache has its first full list (the cluster is slow, away, or forbids the reads),
//! each answer comes from the fallback catalog, the store's. A flow the cluster does not hold
//! (deleted since it ran) is still looked up in the store, so its history stays reachable.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;

use chrono::Utc;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Api, Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use tokio::task::JoinHandle;

use super::catalog::{CatalogFlow, FlowCatalog, FlowCondition};
use super::environments::{Environment, SecretRef};
use super::error::ApiError;
use super::schedules::Schedule;
use super::scope::Scope;
use crate::operator::schedule::CronSchedule;
use crate::resources::{TestEnvironment, TestFlow, TestSchedule, cache};

/// How many next run times a schedule shows.
const NEXT_RUNS: usize = 5;

/// The caches of one kind, one per watched namespace (or one for all).
struct Watched<K: Resource<DynamicType = ()> + 'static> {
    stores: Vec<Store<K>>,
}

impl<K> Watched<K>
where
    K: Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned + Send + Sync + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    fn start(client: &Client, namespaces: &[String], tasks: &mut Vec<JoinHandle<()>>) -> Self
    where
        K: Resource<Scope = kube::core::NamespaceResourceScope>,
    {
        let apis: Vec<Api<K>> = if namespaces.is_empty() {
            vec![Api::all(client.clone())]
        } else {
            namespaces
                .iter()
                .map(|namespace| Api::namespaced(client.clone(), namespace))
                .collect()
        };
        let stores = apis
            .into_iter()
            .map(|api| {
                let (reader, writer) = reflector::store();
                let kind = K::kind(&());
                let events = cache::watch_into(api, watcher::Config::default(), writer);
                tasks.push(tokio::spawn(async move {
                    let mut events = std::pin::pin!(events);
                    while let Some(event) = events.next().await {
                        if let Err(err) = event {
                            tracing::warn!(%kind, error = %err, "watching the cluster failed; retrying");
                        }
                    }
                }));
                reader
            })
            .collect();
        Self { stores }
    }

    /// Whether every cache holds its first full list.
    fn ready(&self) -> bool {
        self.stores
            .iter()
            .all(|store| matches!(store.wait_until_ready().now_or_never(), Some(Ok(()))))
    }

    /// Every object in `scope`, ordered by namespace then name.
    fn in_scope(&self, scope: &Scope) -> Vec<Arc<K>> {
        let mut objects: Vec<Arc<K>> = self
            .stores
            .iter()
            .flat_map(Store::state)
            .filter(|object| scope.allows(&object.namespace().unwrap_or_default()))
            .collect();
        objects.sort_by_key(|object| (object.namespace(), object.name_any()));
        objects
    }

    fn get(&self, namespace: &str, name: &str) -> Option<Arc<K>> {
        let key = ObjectRef::new(name).within(namespace);
        self.stores.iter().find_map(|store| store.get(&key))
    }
}

/// [`FlowCatalog`] over the cluster's resources, with the store's catalog as the fallback.
pub struct ClusterCatalog {
    flows: Watched<TestFlow>,
    schedules: Watched<TestSchedule>,
    environments: Watched<TestEnvironment>,
    fallback: Arc<dyn FlowCatalog>,
    tasks: Vec<JoinHandle<()>>,
}

impl ClusterCatalog {
    /// Starts watching `namespaces` (all when empty) through `client`; answers come from
    /// `fallback` until the first lists arrive.
    pub fn start(client: Client, namespaces: &[String], fallback: Arc<dyn FlowCatalog>) -> Self {
        let mut tasks = Vec::new();
        Self {
            flows: Watched::start(&client, namespaces, &mut tasks),
            schedules: Watched::start(&client, namespaces, &mut tasks),
            environments: Watched::start(&client, namespaces, &mut tasks),
            fallback,
            tasks,
        }
    }

    /// Whether answers come from the cluster (every cache has its first list).
    pub fn synced(&self) -> bool {
        self.flows.ready() && self.schedules.ready() && self.environments.ready()
    }
}

impl Drop for ClusterCatalog {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn catalog_flow(flow: &TestFlow) -> CatalogFlow {
    CatalogFlow {
        namespace: flow.namespace().unwrap_or_default(),
        name: flow.name_any(),
        spec: serde_json::to_value(&flow.spec.flow).unwrap_or_default(),
        conditions: flow
            .status
            .iter()
            .flat_map(|status| &status.conditions)
            .map(|condition| FlowCondition {
                type_: condition.type_.clone(),
                status: condition.status.clone(),
                reason: condition.reason.clone(),
                message: condition.message.clone(),
            })
            .collect(),
    }
}

fn schedule_of(schedule: &TestSchedule) -> Schedule {
    let spec = &schedule.spec;
    let expressions = spec.expressions();
    let next_runs = if spec.suspend {
        Vec::new()
    } else {
        CronSchedule::parse(&expressions, spec.schedule.is_some(), spec.zone())
            .map(|cron| cron.next_runs(Utc::now(), NEXT_RUNS))
            .unwrap_or_default()
    };
    Schedule {
        namespace: schedule.namespace().unwrap_or_default(),
        name: schedule.name_any(),
        schedules: expressions,
        time_zone: spec.time_zone.clone(),
        suspended: spec.suspend,
        flow: flow_target(schedule),
        next_runs,
        last_schedule_time: schedule
            .status
            .as_ref()
            .and_then(|status| status.last_schedule_time),
    }
}

/// The flow a schedule runs: its flowRef's name, or its selector's labels as `key=value,…`.
fn flow_target(schedule: &TestSchedule) -> String {
    if let Some(flow_ref) = &schedule.spec.flow_ref {
        return flow_ref.name.clone();
    }
    let labels: BTreeMap<String, String> = schedule
        .spec
        .flow_selector
        .as_ref()
        .and_then(|selector| selector.match_labels.clone())
        .unwrap_or_default()
        .into_iter()
        .collect();
    labels
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// An environment with its variables, where its secrets live, and the flows that name it.
fn environment_of(environment: &TestEnvironment, flows: &[Arc<TestFlow>]) -> Environment {
    let namespace = environment.namespace().unwrap_or_default();
    let name = environment.name_any();
    let secret_refs = environment
        .spec
        .source_refs()
        .into_iter()
        .map(|source| SecretRef {
            kind: source.kind.as_str().to_string(),
            name: source.name,
            key: source.key.unwrap_or_default(),
        })
        .collect();
    let users = flows
        .iter()
        .filter(|flow| flow.namespace().as_deref() == Some(namespace.as_str()))
        .filter(|flow| {
            flow.spec
                .environment_ref
                .as_ref()
                .is_some_and(|env| env.name == name)
        })
        .map(|flow| flow.name_any())
        .collect();
    Environment {
        namespace,
        name,
        variables: environment.spec.variables.clone(),
        secret_refs,
        flows: users,
    }
}

impl FlowCatalog for ClusterCatalog {
    /// The namespaces of the cluster's flows and of the store's runs (a flow deleted since it
    /// ran keeps its namespace's history reachable).
    fn namespaces(&self) -> BoxFuture<'_, Result<Vec<String>, ApiError>> {
        async move {
            let mut namespaces = self.fallback.namespaces().await?;
            namespaces.extend(
                self.flows
                    .in_scope(&Scope::all())
                    .iter()
                    .filter_map(|flow| flow.namespace()),
            );
            namespaces.sort();
            namespaces.dedup();
            Ok(namespaces)
        }
        .boxed()
    }

    fn flows<'a>(&'a self, scope: &'a Scope) -> BoxFuture<'a, Result<Vec<CatalogFlow>, ApiError>> {
        if !self.flows.ready() {
            return self.fallback.flows(scope);
        }
        let flows = self
            .flows
            .in_scope(scope)
            .iter()
            .map(|flow| catalog_flow(flow))
            .collect();
        async move { Ok(flows) }.boxed()
    }

    fn flow<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<CatalogFlow>, ApiError>> {
        match self.flows.get(namespace, name) {
            Some(flow) if self.flows.ready() => {
                let flow = catalog_flow(&flow);
                async move { Ok(Some(flow)) }.boxed()
            }
            _ => self.fallback.flow(namespace, name),
        }
    }

    fn schedules<'a>(&'a self, scope: &'a Scope) -> BoxFuture<'a, Result<Vec<Schedule>, ApiError>> {
        if !self.schedules.ready() {
            return self.fallback.schedules(scope);
        }
        let schedules = self
            .schedules
            .in_scope(scope)
            .iter()
            .map(|schedule| schedule_of(schedule))
            .collect();
        async move { Ok(schedules) }.boxed()
    }

    fn environments<'a>(
        &'a self,
        scope: &'a Scope,
    ) -> BoxFuture<'a, Result<Vec<Environment>, ApiError>> {
        if !(self.environments.ready() && self.flows.ready()) {
            return self.fallback.environments(scope);
        }
        let flows = self.flows.in_scope(scope);
        let environments = self
            .environments
            .in_scope(scope)
            .iter()
            .map(|environment| environment_of(environment, &flows))
            .collect();
        async move { Ok(environments) }.boxed()
    }
}
