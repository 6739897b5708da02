//! `testmesh operator`: the flags and environment of the operator role.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

use super::Exit;
use crate::operator::lost_runs::{LostRunSettings, PROBE_EVERY};
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
    /// How long a run may wait for an executor when neither its flow nor its schedule sets a
    /// start deadline; an executor refuses a run past its deadline.
    #[arg(long, env = "TESTMESH_QUEUE_TIMEOUT", default_value = "10m", value_parser = positive_duration)]
    pub queue_timeout: Duration,
    /// How often the leader looks for active runs the queue lost (it also looks at start and
    /// when Redis answers again after a failure or a restart). Needs --database-url.
    #[arg(long, env = "TESTMESH_LOST_RUN_CHECK_INTERVAL", default_value = "30s", value_parser = positive_duration)]
    pub lost_run_check_interval: Duration,
    /// The time limit, for the lost-run check, of a run whose flow sets no `timeout`: a run
    /// still `running` this long after it started, with its queue entry gone, is lost.
    #[arg(long, env = "TESTMESH_MAX_RUN_DURATION", default_value = "1h", value_parser = positive_duration)]
    pub max_run_duration: Duration,
}

/// A duration such as `30s` or `10m` that is more than zero.
fn positive_duration(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text) {
        Ok(duration) if duration.is_zero() => Err(format!("{text:?} must be more than zero")),
        Ok(duration) => Ok(duration),
        Err(err) => Err(format!(
            "{text:?} is not a duration such as 30s or 10m: {err}"
        )),
    }
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
        queue_timeout: args.queue_timeout,
        lost_runs: LostRunSettings {
            interval: args.lost_run_check_interval,
            max_run_duration: args.max_run_duration,
            probe_every: PROBE_EVERY,
        },
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

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::super::{Cli, Command};
    use super::*;

    fn parse(args: &[&str]) -> Result<OperatorArgs, String> {
        let mut line = vec!["testmesh", "operator"];
        line.extend_from_slice(args);
        match Cli::try_parse_from(line) {
            Ok(Cli {
                command: Command::Operator(args),
            }) => Ok(args),
            Ok(other) => Err(format!("not the operator: {other:?}")),
            Err(err) => Err(err.to_string()),
        }
    }

    #[test]
    fn the_lost_run_flags_default_to_ten_minutes_thirty_seconds_and_an_hour() {
        let args = parse(&[]).unwrap();
        assert_eq!(args.queue_timeout, Duration::from_secs(600));
        assert_eq!(args.lost_run_check_interval, Duration::from_secs(30));
        assert_eq!(args.max_run_duration, Duration::from_secs(3600));
        let args = parse(&["--queue-timeout", "2m", "--lost-run-check-interval", "5s"]).unwrap();
        assert_eq!(args.queue_timeout, Duration::from_secs(120));
        assert_eq!(args.lost_run_check_interval, Duration::from_secs(5));
    }

    #[test]
    fn a_zero_or_unreadable_duration_is_refused_naming_the_flag_and_the_value() {
        let err = parse(&["--lost-run-check-interval", "0s"]).unwrap_err();
        assert!(err.contains("--lost-run-check-interval"), "{err}");
        assert!(err.contains("\"0s\" must be more than zero"), "{err}");
        let err = parse(&["--queue-timeout", "soon"]).unwrap_err();
        assert!(err.contains("--queue-timeout"), "{err}");
        assert!(err.contains("\"soon\" is not a duration"), "{err}");
    }
}
