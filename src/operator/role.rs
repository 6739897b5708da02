//! `testmesh operator`: serves metrics and health, waits for the leader Lease, then runs the
//! three controllers, the results consumer, the lost-run check and the queue-depth gauge until
//! the lease is lost (which ends the process with an error, so Kubernetes restarts it as a
//! follower).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::{Controller, WatchStreamExt, controller, watcher};
use kube::{Api, Client, ResourceExt};
use prometheus::Registry;

use super::cached_flow::CachedTestFlow;
use super::context::Context;
use super::leader::{LeaderError, LeaseLock};
use super::lost_runs::{self, LostRunSettings};
use super::metrics::Metrics;
use super::queue::{QueueError, RedisQueue, RunQueue};
use super::settled::SettledRuns;
use super::{results, testenvironment, testflow, testschedule};
use crate::resources::cache;
use crate::resources::testenvironment::SourceKind;
use crate::resources::{TestEnvironment, TestSchedule};
use crate::store::Store;
use crate::telemetry::{Health, ops_router, serve};

/// The name of the leader-election Lease.
pub const LEASE_NAME: &str = "testmesh-operator";
const LEASE_DURATION: Duration = Duration::from_secs(15);
/// Reconciles of one kind running at once.
const RECONCILE_CONCURRENCY: u16 = 32;

/// How the operator is started.
#[derive(Debug, Clone)]
pub struct OperatorConfig {
    pub metrics_addr: SocketAddr,
    pub redis_url: String,
    /// Namespaces to watch; empty means all.
    pub watch_namespaces: Vec<String>,
    /// Where the Lease lives.
    pub lease_namespace: String,
    /// This replica's name in the Lease and in Events.
    pub identity: String,
    /// Where the queued execution rows go; none leaves them to the executors (and turns the
    /// lost-run check off).
    pub store: Option<Store>,
    /// The start deadline of runs whose flow and schedule set none, after they are enqueued.
    pub queue_timeout: Duration,
    /// How the runs the queue lost are found.
    pub lost_runs: LostRunSettings,
}

/// Why the operator stopped.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("cannot reach the Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("cannot reach Redis at the --redis-url: {0}")]
    Queue(#[from] QueueError),
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    #[error(transparent)]
    Leader(#[from] LeaderError),
}

/// Runs the operator until the lease is lost or a fatal error.
pub async fn run(config: OperatorConfig) -> Result<(), OperatorError> {
    let registry = Registry::new();
    let metrics = Metrics::register(&registry)?;
    let health = Health::default();
    let router = ops_router(registry, health.clone());
    let addr = config.metrics_addr;
    tokio::spawn(async move {
        if let Err(err) = serve(addr, router, std::future::pending()).await {
            tracing::error!(%addr, error = %err, "metrics server stopped");
        }
    });

    let client = Client::try_default().await?;
    let queue = RedisQueue::connect(&config.redis_url, "").await?;
    health.set_detail("redis", serde_json::json!("connected"));
    health.set_detail("leader", serde_json::json!(false));
    health.set_ready(true);

    let lock = LeaseLock::new(
        Api::namespaced(client.clone(), &config.lease_namespace),
        LEASE_NAME,
        &config.identity,
        LEASE_DURATION,
    );
    tracing::info!(identity = %config.identity, "waiting for the leader lease");
    lock.acquire(Duration::from_secs(2)).await;
    tracing::info!(identity = %config.identity, "leading: starting the controllers");
    health.set_detail("leader", serde_json::json!(true));

    let scopes: Vec<Option<String>> = if config.watch_namespaces.is_empty() {
        vec![None]
    } else {
        config.watch_namespaces.iter().cloned().map(Some).collect()
    };
    let mut tasks = Vec::new();
    let settled = SettledRuns::default();
    let mut contexts = Vec::new();
    for scope in &scopes {
        let (ctx, controllers) = controllers(
            &client,
            scope.as_deref(),
            |flows, environments, schedules| {
                let ctx = Context::new(
                    client.clone(),
                    RunQueue::Redis(queue.clone()),
                    metrics.clone(),
                    flows,
                    environments,
                    Arc::new(Utc::now),
                    Some(config.identity.clone()),
                )
                .with_schedules(schedules)
                .with_queue_timeout(config.queue_timeout)
                .with_settled(settled.clone());
                match &config.store {
                    Some(store) => ctx.with_store(store.clone()),
                    None => ctx,
                }
            },
        );
        tasks.extend(controllers.into_iter().map(tokio::spawn));
        contexts.push(ctx);
    }
    if let Some(ctx) = contexts.first() {
        tasks.push(tokio::spawn(results::consume(
            ctx.clone(),
            queue.clone(),
            config.identity.clone(),
        )));
    }
    tasks.push(tokio::spawn(lost_runs::watch(contexts, config.lost_runs)));
    let depth_queue = queue.clone();
    let depth_gauge = metrics.queue_depth.clone();
    tasks.push(tokio::spawn(async move {
        loop {
            if let Ok(depth) = depth_queue.depth().await {
                depth_gauge.set(i64::try_from(depth).unwrap_or(i64::MAX));
            }
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
    }));
    let lost = lock.hold().await;
    for task in tasks {
        task.abort();
    }
    Err(lost.into())
}

/// Objects of kind `K` as they are created, changed or deleted, metadata only.
fn touched_metadata<K>(
    client: &Client,
    namespace: Option<&str>,
    config: &watcher::Config,
) -> impl futures::Stream<Item = Result<PartialObjectMeta<K>, watcher::Error>> + Send + 'static
where
    K: kube::Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + 'static,
{
    watcher(
        scoped::<PartialObjectMeta<K>>(client, namespace),
        config.clone(),
    )
    .default_backoff()
    .touched_objects()
}

fn scoped<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: kube::Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>,
{
    match namespace {
        Some(namespace) => Api::namespaced(client.clone(), namespace),
        None => Api::all(client.clone()),
    }
}

/// The three controllers of one scope (a namespace, or all), ready to be spawned, and the
/// context they share, made by `context` from the controllers' flow, environment and schedule
/// caches.
///
/// Each controller's own kind is watched into a store through [`cache::watch_into`], so the
/// caches hold no `managedFields` and no last-applied copies, and flows are cached with their
/// specs as text ([`CachedTestFlow`]), read back only by a reconcile. The kinds that only trigger a
/// reconcile (a TestEnvironment for its flows, a Secret or ConfigMap for its environments) are
/// watched as metadata only: the mappers need nothing but a namespace and a name, so no Secret
/// value ever reaches the operator.
pub fn controllers(
    client: &Client,
    namespace: Option<&str>,
    context: impl FnOnce(
        reflector::Store<CachedTestFlow>,
        reflector::Store<TestEnvironment>,
        reflector::Store<TestSchedule>,
    ) -> Context,
) -> (Context, Vec<BoxFuture<'static, ()>>) {
    let wc = watcher::Config::default().any_semantic();
    // Bounded parallel reconciles: a resync of thousands of objects then holds a few dozen
    // requests and flow copies in memory at once, not all of them.
    let limits = controller::Config::default().concurrency(RECONCILE_CONCURRENCY);
    let (flows, flow_writer) = reflector::store::<CachedTestFlow>();
    let (environments, env_writer) = reflector::store::<TestEnvironment>();
    let (schedules, schedule_writer) = reflector::store::<TestSchedule>();
    let flow_controller = Controller::for_stream(
        cache::watch_into(scoped(client, namespace), wc.clone(), flow_writer).applied_objects(),
        flows.clone(),
    )
    .with_config(limits.clone());
    let env_controller = Controller::for_stream(
        cache::watch_into(scoped(client, namespace), wc.clone(), env_writer).applied_objects(),
        environments.clone(),
    )
    .with_config(limits.clone());
    let schedule_controller = Controller::for_stream(
        cache::watch_into(scoped(client, namespace), wc.clone(), schedule_writer).applied_objects(),
        schedules.clone(),
    )
    .with_config(limits);
    let ctx = context(flows.clone(), environments.clone(), schedules);

    let flows_for_envs = flows.clone();
    let flow_controller = flow_controller.watches_stream(
        touched_metadata::<TestEnvironment>(client, namespace, &wc),
        move |env: PartialObjectMeta<TestEnvironment>| {
            let namespace = env.namespace();
            let name = env.name_any();
            flows_for_envs
                .state()
                .into_iter()
                .filter(|flow| flow.namespace() == namespace)
                .filter(|flow| {
                    flow.environment_ref
                        .as_ref()
                        .is_some_and(|r| r.name == name)
                })
                .map(|flow| ObjectRef::from(flow.as_ref()))
                .collect::<Vec<_>>()
        },
    );
    let (envs_for_secrets, envs_for_maps) = (environments.clone(), environments.clone());
    let env_controller = env_controller
        .watches_stream(
            touched_metadata::<Secret>(client, namespace, &wc),
            move |secret: PartialObjectMeta<Secret>| {
                testenvironment::referencing(
                    &envs_for_secrets.state(),
                    SourceKind::Secret,
                    &secret.namespace().unwrap_or_default(),
                    &secret.name_any(),
                )
            },
        )
        .watches_stream(
            touched_metadata::<ConfigMap>(client, namespace, &wc),
            move |map: PartialObjectMeta<ConfigMap>| {
                testenvironment::referencing(
                    &envs_for_maps.state(),
                    SourceKind::ConfigMap,
                    &map.namespace().unwrap_or_default(),
                    &map.name_any(),
                )
            },
        );
    let shared = Arc::new(ctx.clone());
    let runs: Vec<BoxFuture<'static, ()>> = vec![
        flow_controller
            .run(
                testflow::reconcile_cached,
                testflow::error_policy,
                shared.clone(),
            )
            .for_each(|_| async {})
            .boxed(),
        env_controller
            .run(
                testenvironment::reconcile,
                testenvironment::error_policy,
                shared.clone(),
            )
            .for_each(|_| async {})
            .boxed(),
        schedule_controller
            .run(testschedule::reconcile, testschedule::error_policy, shared)
            .for_each(|_| async {})
            .boxed(),
    ];
    (ctx, runs)
}
