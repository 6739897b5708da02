//! `testmesh api`: serves the read API, live events, the OpenAPI document, `/metrics`
//! `/healthz` `/readyz` and the dashboard on one port. It starts answering at once; migrations
//! are applied (under the advisory lock) as soon as PostgreSQL answers, and `/readyz` is false
//! until then. Definitions come from the cluster in a pod or with `--kubeconfig`, else from the
//! store.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use kube::config::{KubeConfigOptions, Kubeconfig};
use tokio_util::sync::CancellationToken;

use super::exit::Exit;
use super::store_args::StoreArgs;
use crate::api::{
    AppState, ClusterCatalog, FlowCatalog, LiveSource, RouterOptions, Scope, StoreCatalog, router,
    watch_readiness,
};
use crate::store::Store;
use crate::telemetry::{Health, LogFormat, init_logging, ops_router, serve};

#[derive(Debug, Args)]
pub struct ApiArgs {
    /// Address to serve on.
    #[arg(long, env = "TESTMESH_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,
    /// The dashboard's static export (Next.js `out/`), served at /.
    #[arg(
        long,
        env = "TESTMESH_DASHBOARD_DIR",
        default_value = "/usr/share/testmesh/dashboard"
    )]
    pub dashboard_dir: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Redis URL for live run events; without it the SSE endpoints answer 503.
    #[arg(long, env = "TESTMESH_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// Require `Authorization: Bearer <token>` on /api/v1.
    #[arg(long, env = "TESTMESH_API_TOKEN", hide_env_values = true)]
    pub auth_token: Option<String>,
    /// Serve only these namespaces (comma list; empty = all).
    #[arg(long, env = "TESTMESH_ALLOWED_NAMESPACES", value_delimiter = ',')]
    pub allowed_namespaces: Vec<String>,
    /// Origins allowed by CORS (comma list, `*` for any; empty = no CORS headers).
    #[arg(long, env = "TESTMESH_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Read flows, schedules and environments from the cluster of this kubeconfig (in a pod,
    /// the pod's service account is used without it); without a cluster they come from the store.
    #[arg(long, env = "TESTMESH_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// Namespaces whose definitions are read from the cluster (comma list; empty = all).
    #[arg(
        long,
        env = "TESTMESH_WATCH_NAMESPACES",
        value_delimiter = ',',
        default_value = ""
    )]
    pub watch_namespaces: Vec<String>,
    /// Log format.
    #[arg(long, env = "TESTMESH_LOG_FORMAT", value_enum, default_value = "auto")]
    pub log_format: LogFormat,
}

pub async fn api(args: ApiArgs) -> Exit {
    init_logging("api", args.log_format);
    match serve_api(args).await {
        Ok(()) => Exit::Passed,
        Err(err) => {
            tracing::error!(error = %format!("{err:#}"), "testmesh api stopped");
            Exit::RuntimeError
        }
    }
}

async fn serve_api(args: ApiArgs) -> anyhow::Result<()> {
    let store = Store::connect_lazy(&args.store.database_url, args.store.options(16))?;
    let live = args
        .redis_url
        .as_deref()
        .map(|url| LiveSource::new(url, ""))
        .transpose()?;
    let health = Health::default();
    let stop = CancellationToken::new();
    let readiness = watch_readiness(store.clone(), live.clone(), health.clone(), stop.clone());
    let store_catalog: Arc<dyn FlowCatalog> = Arc::new(StoreCatalog {
        store: store.clone(),
    });
    let catalog = match cluster_client(args.kubeconfig.as_deref()).await? {
        Some(client) => {
            let namespaces: Vec<String> = args
                .watch_namespaces
                .iter()
                .map(|ns| ns.trim().to_string())
                .filter(|ns| !ns.is_empty())
                .collect();
            tracing::info!(
                ?namespaces,
                "definitions come from the cluster (the store until its lists arrive)"
            );
            Arc::new(ClusterCatalog::start(client, &namespaces, store_catalog))
        }
        None => {
            tracing::info!("no cluster: definitions come from the store");
            store_catalog
        }
    };
    let state = AppState {
        catalog,
        store,
        live,
        scope: Scope::new(&args.allowed_namespaces),
    };
    let options = RouterOptions {
        auth_token: args.auth_token,
        cors_origins: args.cors_origins,
        dashboard_dir: args.dashboard_dir,
    };
    let app = router(
        state,
        &options,
        ops_router(prometheus::Registry::new(), health),
    )?;
    tracing::info!(listen = %args.listen, dashboard = %options.dashboard_dir.display(), "serving the API");
    // Joined rather than spawned: the migration future is not Send.
    let serving = async {
        let served = serve(args.listen, app, shutdown_signal(stop.clone())).await;
        stop.cancel();
        served
    };
    let (served, ()) = tokio::join!(serving, readiness);
    served?;
    Ok(())
}

/// A client of the cluster of `kubeconfig`, or of the pod's own cluster; None outside one.
async fn cluster_client(kubeconfig: Option<&Path>) -> anyhow::Result<Option<kube::Client>> {
    let config = match kubeconfig {
        Some(path) => {
            let file = Kubeconfig::read_from(path)
                .with_context(|| format!("--kubeconfig {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(file, &KubeConfigOptions::default())
                .await
                .with_context(|| format!("--kubeconfig {}", path.display()))?
        }
        None => match kube::Config::incluster() {
            Ok(config) => config,
            Err(_) => return Ok(None),
        },
    };
    Ok(Some(kube::Client::try_from(config)?))
}

/// Resolves on Ctrl-C or SIGTERM, and stops the background tasks.
async fn shutdown_signal(stop: CancellationToken) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    stop.cancel();
}
