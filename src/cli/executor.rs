//! `testmesh executor`: flags, the metrics and health server, signals, and the worker loop.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use prometheus::Registry;
use tokio_util::sync::CancellationToken;

use super::exit::Exit;
use super::store_args::StoreArgs;
use crate::executor::{
    ClusterEnvironments, EnvironmentResolver, Executor, ExecutorConfig, ExecutorMetrics,
    LocalEnvironments, Readiness,
};
use crate::queue::{RedisQueue, Streams};
use crate::store::Store;
use crate::telemetry::{Health, LogFormat, init_logging, ops_router, serve};

#[derive(Debug, clap::Args)]
pub struct ExecutorArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Redis URL, e.g. redis://host:6379/.
    #[arg(long, env = "TESTMESH_REDIS_URL", hide_env_values = true)]
    pub redis_url: String,
    /// Where /metrics, /healthz and /readyz are served.
    #[arg(long, env = "TESTMESH_METRICS_ADDR", default_value = "0.0.0.0:9090")]
    pub metrics_addr: SocketAddr,
    /// Most flows run at once.
    #[arg(long, env = "TESTMESH_EXECUTOR_CONCURRENCY", default_value_t = 8)]
    pub concurrency: usize,
    /// This executor's name in the consumer group (default: the host name).
    #[arg(long, env = "POD_NAME")]
    pub executor_id: Option<String>,
    /// A run held this long by a silent executor is taken over by another.
    #[arg(long, env = "TESTMESH_VISIBILITY_TIMEOUT", default_value = "60s", value_parser = humantime::parse_duration)]
    pub visibility_timeout: Duration,
    /// After SIGTERM, how long running flows may take to finish.
    #[arg(long, env = "TESTMESH_SHUTDOWN_GRACE", default_value = "30s", value_parser = humantime::parse_duration)]
    pub shutdown_grace: Duration,
    /// How often old executions are deleted.
    #[arg(long, env = "TESTMESH_RETENTION_INTERVAL", default_value = "1h", value_parser = humantime::parse_duration)]
    pub retention_interval: Duration,
    /// Prefix of every Redis key (to share one Redis between installations).
    #[arg(long, env = "TESTMESH_REDIS_PREFIX", default_value = "")]
    pub redis_prefix: String,
    /// TestEnvironments as JSON ({"namespace/name": {variables, secrets, headers}}), for an
    /// executor outside a cluster.
    #[arg(long, env = "TESTMESH_ENVIRONMENTS_FILE")]
    pub environments_file: Option<PathBuf>,
    #[arg(long, env = "TESTMESH_LOG_FORMAT", value_enum, default_value = "auto")]
    pub log_format: LogFormat,
}

pub async fn executor(args: ExecutorArgs) -> Exit {
    init_logging("executor", args.log_format);
    match start(args).await {
        Ok(()) => Exit::Passed,
        Err(err) => {
            tracing::error!(error = %err, "executor failed");
            Exit::RuntimeError
        }
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "executor".into())
}

async fn start(args: ExecutorArgs) -> anyhow::Result<()> {
    let config = ExecutorConfig {
        executor_id: args.executor_id.clone().unwrap_or_else(host_name),
        concurrency: args.concurrency.max(1),
        visibility_timeout: args.visibility_timeout,
        shutdown_grace: args.shutdown_grace,
        retention_every: args.retention_interval,
        ..ExecutorConfig::default()
    };
    let cluster = connect_cluster().await;
    let resolver: Arc<dyn EnvironmentResolver> = match (&args.environments_file, &cluster) {
        (Some(file), _) => Arc::new(LocalEnvironments::from_file(file)?),
        (None, Some(client)) => Arc::new(ClusterEnvironments::new(client.clone())),
        (None, None) => Arc::new(LocalEnvironments::default()),
    };
    let connections = u32::try_from(config.concurrency / 4 + 4).unwrap_or(u32::MAX);
    let store = Store::connect_lazy(&args.store.database_url, args.store.options(connections))?;
    let streams = if args.redis_prefix.is_empty() {
        Streams::default()
    } else {
        Streams::prefixed(&args.redis_prefix)
    };
    let reader = connect_redis(
        &args.redis_url,
        &streams,
        config.read_block + Duration::from_secs(5),
    )
    .await?;
    let queue = connect_redis(&args.redis_url, &streams, Duration::from_secs(5)).await?;
    let registry = Registry::new();
    let metrics = ExecutorMetrics::register(&registry)?;
    let health = Health::default();
    health.set_detail("executorId", serde_json::json!(config.executor_id));

    let stop = CancellationToken::new();
    tokio::spawn(stop_on_signal(stop.clone()));
    let server_stop = CancellationToken::new();
    let server = {
        let server_stop = server_stop.clone();
        let router = ops_router(registry, health.clone());
        let addr = args.metrics_addr;
        tokio::spawn(async move {
            serve(addr, router, async move { server_stop.cancelled().await }).await
        })
    };
    tracing::info!(executor_id = %config.executor_id, concurrency = config.concurrency, metrics = %args.metrics_addr, "executor starting");
    let executor = Executor {
        config,
        store,
        reader,
        queue,
        resolver,
        cluster,
        metrics,
        readiness: Readiness::new(health),
    };
    executor.run(stop).await;
    server_stop.cancel();
    if let Ok(Err(err)) = server.await {
        return Err(anyhow::anyhow!(
            "cannot serve metrics on {}: {err}",
            args.metrics_addr
        ));
    }
    Ok(())
}

/// The cluster the executor runs in, or the one its kubeconfig names, as the operator finds
/// it; none outside a cluster (environments then come from --environments-file and `run_flow`
/// reads flow files).
async fn connect_cluster() -> Option<kube::Client> {
    match kube::Client::try_default().await {
        Ok(client) => {
            tracing::info!("reading TestEnvironments and TestFlows from the cluster");
            Some(client)
        }
        Err(err) => {
            tracing::info!(reason = %err, "no cluster: environments come from --environments-file");
            None
        }
    }
}

/// Connects to Redis, retrying until it answers: an executor may start before Redis.
async fn connect_redis(
    url: &str,
    streams: &Streams,
    response_timeout: Duration,
) -> anyhow::Result<RedisQueue> {
    let mut delay = Duration::from_millis(200);
    loop {
        match RedisQueue::connect(url, streams.clone(), response_timeout).await {
            Ok(queue) => return Ok(queue),
            Err(err) if err.source.is_io_error() || err.source.is_timeout() => {
                tracing::warn!(error = %err, "Redis not reachable yet; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(err) => return Err(err.into()),
        }
    }
}

/// Cancels `stop` on SIGTERM or SIGINT.
async fn stop_on_signal(stop: CancellationToken) {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = terminate => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tracing::info!("stop requested");
    stop.cancel();
}
