//! `testmesh operator`: the flags and environment of the operator role.

use std::net::SocketAddr;

use clap::Args;

use super::Exit;
use crate::operator::role::{OperatorConfig, run};
use crate::store::{Store, StoreOptions};
use crate::telemetry::{LogFormat, init_logging};

#[derive(Debug, Args)]
pub struct OperatorArgs {
    /// Where /metrics, /healthz and /readyz are served.
    #[arg(long, env = "TESTMESH_METRICS_ADDR", default_value = "0.0.0.0:9090")]
    pub metrics_addr: SocketAddr,
    /// Redis holding the runs and results streams.
    #[arg(
        long,
        env = "TESTMESH_REDIS_URL",
        default_value = "redis://127.0.0.1:6379/"
    )]
    pub redis_url: String,
    /// PostgreSQL (the executors' --database-url) for the queued execution rows; without it
    /// the executors write the rows when they start the runs. Retention and payload limits are
    /// the executors' flags: the operator writes no steps and deletes nothing.
    #[arg(long, env = "TESTMESH_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Comma-separated namespaces to watch; empty watches all.
    #[arg(
        long,
        env = "TESTMESH_WATCH_NAMESPACES",
        value_delimiter = ',',
        default_value = ""
    )]
    pub watch_namespaces: Vec<String>,
    #[arg(long, env = "TESTMESH_LOG_FORMAT", value_enum, default_value = "auto")]
    pub log_format: LogFormat,
    /// Namespace of the leader-election Lease.
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    pub lease_namespace: String,
    /// This replica's identity in the Lease and in Events.
    #[arg(long, env = "POD_NAME")]
    pub identity: Option<String>,
}

/// A few connections: the operator writes one small row per enqueued run.
const QUEUED_ROW_OPTIONS: StoreOptions = StoreOptions {
    max_connections: 4,
    max_payload_bytes: 0,
    retention_days: 0,
};

pub async fn operator(args: OperatorArgs) -> Exit {
    init_logging("operator", args.log_format);
    let identity = args.identity.unwrap_or_else(|| {
        std::env::var("HOSTNAME")
            .unwrap_or_else(|_| format!("testmesh-operator-{}", std::process::id()))
    });
    let store = match args
        .database_url
        .as_deref()
        .map(|url| Store::connect_lazy(url, QUEUED_ROW_OPTIONS))
    {
        None => None,
        Some(Ok(store)) => Some(store),
        Some(Err(err)) => {
            eprintln!("error: --database-url: {err}");
            return Exit::InvalidInput;
        }
    };
    let config = OperatorConfig {
        metrics_addr: args.metrics_addr,
        redis_url: args.redis_url,
        watch_namespaces: args
            .watch_namespaces
            .into_iter()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .collect(),
        lease_namespace: args.lease_namespace,
        identity,
        store,
    };
    match run(config).await {
        Ok(()) => Exit::Passed,
        Err(err) => {
            tracing::error!(error = %err, "operator stopped");
            eprintln!("error: {err}");
            Exit::RuntimeError
        }
    }
}
