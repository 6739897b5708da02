//! `testmesh executor`: the worker loop. It joins the executors' consumer group, runs up to N
//! flows at once, records each run as `running` and then its result (with steps and a metrics
//! row) in PostgreSQL, acknowledges the message only after that commit, and publishes the
//! result and live events on Redis.
//!
//! Reliability choices:
//! - A run whose executor died (SIGKILL) stays pending in the group; after the visibility
//!   timeout another executor claims it (XAUTOCLAIM) and runs it again as the next attempt
//!   (`attempt` + 1). The old attempt can no longer record: a result is only written for the
//!   attempt that is current, so a run has one row and one result whatever happens.
//! - While a run executes, its executor refreshes its claim, so a long run is not taken over.
//! - SIGTERM stops reading, lets running flows finish within the grace period, records them,
//!   and leaves any that did not finish pending for another executor.
//! - When PostgreSQL or Redis is away, every operation is retried with backoff and the
//!   executor reports not ready; nothing is acknowledged that was not recorded.
//! - A poison message (not JSON, not a run, or a flow that does not validate) is recorded as
//!   `error` when it has a run id, copied to the dead-letter stream, and acknowledged.

mod backoff;
mod cases;
pub mod cluster_environment;
pub mod cluster_flows;
pub mod environment;
mod intake;
pub mod metrics;
pub mod readiness;
mod recorder;
mod run;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use cluster_environment::ClusterEnvironments;
pub use cluster_flows::ClusterFlows;
pub use environment::{
    EnvironmentError, EnvironmentResolver, LocalEnvironments, ResolvedEnvironment,
};
pub use metrics::ExecutorMetrics;
pub use readiness::{Dependency, Readiness};

use crate::queue::{LiveEvent, RedisQueue};
use crate::store::{Retention, Store};

/// How an executor behaves; the command-line flags fill it in.
#[derive(Debug, Clone)]
pub struct ExecutorConfig {
    /// The consumer name in the group; unique per executor (the pod name).
    pub executor_id: String,
    /// Most flows run at once.
    pub concurrency: usize,
    /// A run pending this long on a silent consumer is claimed by another.
    pub visibility_timeout: Duration,
    /// After SIGTERM, how long running flows may take to finish.
    pub shutdown_grace: Duration,
    /// Longest wait of one read on the runs stream.
    pub read_block: Duration,
    /// How often the retention job runs.
    pub retention_every: Duration,
}

impl Default for ExecutorConfig {
    fn default() -> Self {
        Self {
            executor_id: "executor".into(),
            concurrency: 8,
            visibility_timeout: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(30),
            read_block: Duration::from_secs(1),
            retention_every: Duration::from_secs(3600),
        }
    }
}

/// What the tasks of one executor share.
struct Shared {
    config: ExecutorConfig,
    store: Store,
    /// For blocking reads only.
    reader: RedisQueue,
    /// For everything else.
    queue: RedisQueue,
    resolver: Arc<dyn EnvironmentResolver>,
    cluster: Option<kube::Client>,
    metrics: ExecutorMetrics,
    readiness: Readiness,
    /// Entry ids being executed or recorded, whose claim is refreshed.
    in_flight: Mutex<HashSet<String>>,
    events: mpsc::Sender<LiveEvent>,
}

/// The connections and helpers an executor needs.
pub struct Executor {
    pub config: ExecutorConfig,
    pub store: Store,
    pub reader: RedisQueue,
    pub queue: RedisQueue,
    pub resolver: Arc<dyn EnvironmentResolver>,
    /// The cluster the runs' `run_flow` calls read TestFlows from; flow files without it.
    pub cluster: Option<kube::Client>,
    pub metrics: ExecutorMetrics,
    pub readiness: Readiness,
}

/// Live events waiting to be published; more are dropped (they are for watching only).
const EVENT_BUFFER: usize = 16_384;

impl Executor {
    /// Runs until `stop` is cancelled, then drains within the grace period.
    pub async fn run(self, stop: CancellationToken) {
        let readiness = self.readiness.clone();
        let Some(mode) = backoff::retry(
            "apply the migrations",
            Dependency::Postgres,
            &readiness,
            &stop,
            || self.store.migrate(),
        )
        .await
        else {
            return;
        };
        tracing::info!(storage = mode.as_str(), "store ready");
        readiness
            .health()
            .set_detail("storage", json!(mode.as_str()));
        if backoff::retry(
            "create the consumer group",
            Dependency::Redis,
            &readiness,
            &stop,
            || self.queue.ensure_group(),
        )
        .await
        .is_none()
        {
            return;
        }
        self.metrics
            .concurrency
            .set(i64::try_from(self.config.concurrency).unwrap_or(i64::MAX));

        let background = CancellationToken::new();
        let (events_tx, events_rx) = mpsc::channel(EVENT_BUFFER);
        let shared = Arc::new(Shared {
            config: self.config,
            store: self.store,
            reader: self.reader,
            queue: self.queue,
            resolver: self.resolver,
            cluster: self.cluster,
            metrics: self.metrics,
            readiness,
            in_flight: Mutex::new(HashSet::new()),
            events: events_tx,
        });
        let retention = Retention {
            store: shared.store.clone(),
            mode,
            every: shared.config.retention_every,
        };
        tokio::spawn(retention.run(background.clone()));
        tokio::spawn(publish_events(shared.queue.clone(), events_rx));
        tokio::spawn(refresh_claims(shared.clone(), background.clone()));
        tokio::spawn(watch_backlog(shared.clone(), background.clone()));

        intake::Intake::new(shared).run(stop).await;
        background.cancel();
    }
}

/// Publishes live events in batches, dropping them when Redis is away.
async fn publish_events(queue: RedisQueue, mut events: mpsc::Receiver<LiveEvent>) {
    let mut batch = Vec::new();
    while events.recv_many(&mut batch, 512).await > 0 {
        if let Err(err) = queue.publish_events(&batch).await {
            tracing::debug!(error = %err, dropped = batch.len(), "live events not published");
        }
        batch.clear();
    }
}

/// Refreshes the claim on the runs in flight, a few times per visibility timeout.
async fn refresh_claims(shared: Arc<Shared>, stop: CancellationToken) {
    let every = shared.config.visibility_timeout / 3;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        let ids: Vec<String> = match shared.in_flight.lock() {
            Ok(ids) => ids.iter().cloned().collect(),
            Err(_) => return,
        };
        if let Err(err) = shared
            .queue
            .keep_claimed(&shared.config.executor_id, &ids)
            .await
        {
            tracing::warn!(error = %err, "cannot refresh the claim on running runs");
        }
    }
}

/// Keeps the queue lag metric current.
async fn watch_backlog(shared: Arc<Shared>, stop: CancellationToken) {
    loop {
        if let Ok(Some(backlog)) = shared.queue.backlog().await {
            shared
                .metrics
                .queue_backlog
                .set(i64::try_from(backlog).unwrap_or(i64::MAX));
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
    }
}
