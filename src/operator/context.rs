//! What every reconciler shares: the API client, the event recorder, the run queue, the store
//! for queued execution rows (when given a database), metrics, caches of flows, environments
//! and schedules, the clock, the start deadline of runs that set none, the runs the lost-run
//! check settled, and per-object error backoff.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType, Recorder};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::{Api, Client, Resource};

use super::cached_flow::CachedTestFlow;
use super::metrics::Metrics;
use super::queue::{QueueError, RunQueue};
use super::settled::SettledRuns;
use crate::resources::{TestEnvironment, TestFlow, TestSchedule};
use crate::store::{Store as ExecutionStore, StoreError};

/// A reconcile that could not finish; retried with backoff.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("run queue: {0}")]
    Queue(#[from] QueueError),
    #[error("execution store: {0}")]
    Store(#[from] StoreError),
    #[error("{kind} {name} has no namespace")]
    NoNamespace { kind: &'static str, name: String },
    #[error("cannot read back the cached spec of TestFlow {namespace}/{name}: {source}")]
    CachedSpec {
        namespace: String,
        name: String,
        source: serde_json::Error,
    },
}

/// How long a run may wait for an executor when neither its flow nor its schedule says
/// (`--queue-timeout`).
pub const DEFAULT_QUEUE_TIMEOUT: Duration = Duration::from_secs(600);

/// The current time; tests fix it.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Shared by the controllers.
#[derive(Clone)]
pub struct Context {
    pub client: Client,
    pub recorder: Recorder,
    pub queue: RunQueue,
    /// Where each enqueued run also gets its `queued` execution row; none without a database.
    pub store: Option<ExecutionStore>,
    pub metrics: Metrics,
    /// The TestFlow controller's cache, specs as text ([`CachedTestFlow`]).
    pub flows: Store<CachedTestFlow>,
    pub environments: Store<TestEnvironment>,
    /// The schedule controller's cache; empty unless given with [`Context::with_schedules`].
    pub schedules: Store<TestSchedule>,
    pub clock: Clock,
    /// The start deadline of a run is at most this long after it is enqueued.
    pub queue_timeout: Duration,
    /// Runs the lost-run check settled; their late results are ignored.
    pub settled: SettledRuns,
    failures: Arc<Mutex<HashMap<String, u32>>>,
}

/// The field manager of the operator's status writes.
pub const FIELD_MANAGER: &str = "testmesh-operator";

impl Context {
    pub fn new(
        client: Client,
        queue: RunQueue,
        metrics: Metrics,
        flows: Store<CachedTestFlow>,
        environments: Store<TestEnvironment>,
        clock: Clock,
        instance: Option<String>,
    ) -> Self {
        let reporter = kube::runtime::events::Reporter {
            controller: FIELD_MANAGER.to_string(),
            instance,
        };
        Self {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            queue,
            store: None,
            metrics,
            flows,
            environments,
            schedules: reflector::store::<TestSchedule>().0,
            clock,
            queue_timeout: DEFAULT_QUEUE_TIMEOUT,
            settled: SettledRuns::default(),
            failures: Arc::default(),
        }
    }

    /// The same context, reading TestSchedules from `schedules`.
    pub fn with_schedules(mut self, schedules: Store<TestSchedule>) -> Self {
        self.schedules = schedules;
        self
    }

    /// The same context, giving runs without a start deadline one `queue_timeout` after they
    /// are enqueued.
    pub fn with_queue_timeout(mut self, queue_timeout: Duration) -> Self {
        self.queue_timeout = queue_timeout;
        self
    }

    /// The same context, sharing `settled` with the others (one per watched namespace).
    pub fn with_settled(mut self, settled: SettledRuns) -> Self {
        self.settled = settled;
        self
    }

    /// The same context, also writing queued execution rows to `store`.
    pub fn with_store(mut self, store: ExecutionStore) -> Self {
        self.store = Some(store);
        self
    }

    /// A TestFlow from the cache, or from the API when the cache does not have it (not loaded
    /// yet, or just created), so "not found" is never a cache artefact. Never waits on the
    /// cache's readiness: its readiness future wakes a single waiter, the controller's own.
    pub async fn flow(&self, namespace: &str, name: &str) -> Result<Option<Arc<TestFlow>>, Error> {
        let key = ObjectRef::<CachedTestFlow>::new(name).within(namespace);
        if let Some(flow) = self.flows.get(&key) {
            return expand(&flow).map(|flow| Some(Arc::new(flow)));
        }
        let api: Api<TestFlow> = Api::namespaced(self.client.clone(), namespace);
        Ok(api.get_opt(name).await?.map(Arc::new))
    }

    /// Whether a TestEnvironment exists, from the cache or else the API.
    pub async fn environment_exists(&self, namespace: &str, name: &str) -> Result<bool, Error> {
        let key = ObjectRef::<TestEnvironment>::new(name).within(namespace);
        if self.environments.get(&key).is_some() {
            return Ok(true);
        }
        let api: Api<TestEnvironment> = Api::namespaced(self.client.clone(), namespace);
        Ok(api.get_opt(name).await?.is_some())
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// Publishes an Event on `object`; a failure is logged, never fatal.
    pub async fn event<K: Resource<DynamicType = ()>>(
        &self,
        object: &K,
        warning: bool,
        reason: &str,
        note: String,
    ) {
        let event = Event {
            type_: if warning {
                EventType::Warning
            } else {
                EventType::Normal
            },
            reason: reason.to_string(),
            note: Some(truncate(note, 1000)),
            action: reason.to_string(),
            secondary: None,
        };
        if let Err(err) = self.recorder.publish(&event, &object.object_ref(&())).await {
            tracing::warn!(reason, error = %err, "cannot publish an event");
        }
    }

    /// Forgets the failures of `key` (`Kind/namespace/name`) after a successful reconcile, and
    /// counts the reconcile under its kind.
    pub fn succeeded(&self, key: &str) {
        let kind = key.split('/').next().unwrap_or_default();
        self.metrics.reconciles.with_label_values(&[kind]).inc();
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(key);
        }
    }

    /// What a controller does after a failed reconcile of `object`: a status write that lost a
    /// race with another writer is reconciled again at once from the newer object (the watch
    /// brings it); anything else is counted, logged and retried after [`Context::backoff`].
    pub fn after_error<K>(&self, object: &K, error: &Error) -> Action
    where
        K: kube::Resource<DynamicType = ()>,
    {
        if super::status::is_conflict(error) {
            return Action::requeue(Duration::from_millis(200));
        }
        let kind = K::kind(&());
        self.metrics
            .reconcile_errors
            .with_label_values(&[kind.as_ref()])
            .inc();
        let key = format!(
            "{kind}/{}/{}",
            object.meta().namespace.as_deref().unwrap_or_default(),
            object.meta().name.as_deref().unwrap_or_default()
        );
        tracing::warn!(object = %key, %error, "reconcile failed");
        self.backoff(&key)
    }

    /// The wait before retrying `key`: 5 s, doubling per failure in a row, at most 5 minutes.
    pub fn backoff(&self, key: &str) -> Action {
        let count = self
            .failures
            .lock()
            .map(|mut failures| {
                let count = failures.entry(key.to_string()).or_insert(0);
                *count = count.saturating_add(1);
                *count
            })
            .unwrap_or(1);
        let seconds = 5u64
            .saturating_mul(1 << count.min(6).saturating_sub(1))
            .min(300);
        Action::requeue(Duration::from_secs(seconds))
    }
}

/// The typed TestFlow of a cached one.
pub fn expand(cached: &CachedTestFlow) -> Result<TestFlow, Error> {
    cached.expand().map_err(|source| Error::CachedSpec {
        namespace: cached.metadata.namespace.clone().unwrap_or_default(),
        name: cached.metadata.name.clone().unwrap_or_default(),
        source,
    })
}

/// Cuts `text` to at most `max` bytes on a character boundary.
pub fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max.saturating_sub(1);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}
