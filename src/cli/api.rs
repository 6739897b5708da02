//! `testmesh api`: serves the read API, live events, the OpenAPI document, `/metrics`
//! `/healthz` `/readyz` and the dashboard on one port. It starts answering at once; migrations
//! are applied (under the advisory lock) as soon as PostgreSQL answers, and `/readyz` is false
//! until then. Definitions come from the cluster in a pod or with `--kubeconfig`, else from the
//! store.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::http::HeaderName;
use clap::Args;
use kube::config::{KubeConfigOptions, Kubeconfig};
use tokio_util::sync::CancellationToken;

use super::exit::Exit;
use super::store_args::StoreArgs;
use crate::api::{
    AppState, AuthMode, Authentication, BearerToken, ClusterCatalog, DEFAULT_FAILURES_PER_MINUTE,
    DraftRuns, FlowCatalog, KubernetesAccess, LiveSource, RouterOptions, Scope, SignInLimit,
    StoreCatalog, router, watch_readiness,
};
use crate::queue::{RedisQueue, Streams};
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
    /// A prefix of every Redis key, as the executors were given it.
    #[arg(long, env = "TESTMESH_REDIS_PREFIX", default_value = "")]
    pub redis_prefix: String,
    /// How callers sign in: `kubernetes` (TokenReview and SubjectAccessReview: each caller sees
    /// the namespaces where they may get TestFlows), `token` (the one --auth-token) or `none`
    /// (loopback only, unless --insecure-no-auth). Default: `token` with --auth-token, else `none`.
    #[arg(long, env = "TESTMESH_API_AUTH", value_enum)]
    pub auth: Option<AuthArg>,
    /// The static token of `--auth token`: `Authorization: Bearer <token>` on /api/v1.
    #[arg(long, env = "TESTMESH_API_TOKEN", hide_env_values = true)]
    pub auth_token: Option<String>,
    /// How long a caller's review (user, groups, namespaces) is reused, such as 30s or 2m.
    #[arg(long, env = "TESTMESH_API_AUTH_CACHE_TTL", value_parser = humantime::parse_duration, default_value = "30s")]
    pub auth_cache_ttl: Duration,
    /// A header that carries the bearer token to review, set by an authenticating proxy (e.g.
    /// X-Forwarded-Access-Token from oauth2-proxy); `Authorization` is read when it is absent.
    #[arg(long, env = "TESTMESH_API_AUTH_PROXY_HEADER")]
    pub auth_proxy_header: Option<String>,
    /// Failed sign-ins allowed per client address and minute; past them the address gets 429.
    #[arg(long, env = "TESTMESH_API_AUTH_FAILURES_PER_MINUTE", default_value_t = NonZeroU32::new(DEFAULT_FAILURES_PER_MINUTE).unwrap_or(NonZeroU32::MIN))]
    pub auth_failures_per_minute: NonZeroU32,
    /// Allow `--auth none` on an address other than loopback: anyone who reaches the port sees
    /// every namespace.
    #[arg(long, env = "TESTMESH_INSECURE_NO_AUTH")]
    pub insecure_no_auth: bool,
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
    /// Accept draft runs from the flow editor (`POST /api/v1/runs`): a `manual` run of an
    /// unsaved flow, enqueued for the executors on --redis-url. With `--auth kubernetes` the
    /// caller needs `patch` on TestFlows in the namespace.
    #[arg(long, env = "TESTMESH_ALLOW_DRAFT_RUNS")]
    pub allow_draft_runs: bool,
    /// Log format.
    #[arg(long, env = "TESTMESH_LOG_FORMAT", value_enum, default_value = "auto")]
    pub log_format: LogFormat,
}

/// The values of `--auth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthArg {
    Kubernetes,
    Token,
    None,
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
        .map(|url| LiveSource::new(url, &args.redis_prefix))
        .transpose()?;
    let health = Health::default();
    let stop = CancellationToken::new();
    let readiness = watch_readiness(store.clone(), live.clone(), health.clone(), stop.clone());
    let store_catalog: Arc<dyn FlowCatalog> = Arc::new(StoreCatalog {
        store: store.clone(),
    });
    let cluster = cluster_client(args.kubeconfig.as_deref()).await?;
    let catalog = match cluster.clone() {
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
    let scope = Scope::new(&args.allowed_namespaces);
    let registry = prometheus::Registry::new();
    let auth = authentication(&args, cluster, catalog.clone(), scope.clone(), &registry)?;
    let drafts = draft_runs(&args, &auth).await?;
    let state = AppState {
        catalog,
        store,
        live,
        scope,
        drafts,
    };
    let options = RouterOptions {
        auth,
        cors_origins: args.cors_origins,
        dashboard_dir: args.dashboard_dir,
    };
    let app = router(state, &options, ops_router(registry, health))?;
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

/// The sign-in check `--auth` and its flags ask for, or an error naming the flag that does not
/// fit; the failure counter goes to `registry`.
fn authentication(
    args: &ApiArgs,
    cluster: Option<kube::Client>,
    catalog: Arc<dyn FlowCatalog>,
    scope: Scope,
    registry: &prometheus::Registry,
) -> anyhow::Result<Authentication> {
    let token = args.auth_token.as_deref().filter(|token| !token.is_empty());
    let chosen = args.auth.unwrap_or(if token.is_some() {
        AuthArg::Token
    } else {
        AuthArg::None
    });
    if token.is_some() && chosen != AuthArg::Token {
        anyhow::bail!("--auth-token is only used with --auth token (the mode is {chosen:?})");
    }
    let mode = match chosen {
        AuthArg::Token => {
            let token = token.context("--auth token needs --auth-token (or TESTMESH_API_TOKEN)")?;
            AuthMode::Token(BearerToken(token.into()))
        }
        AuthArg::Kubernetes => {
            let client = cluster
                .context("--auth kubernetes needs a cluster: run in a pod or give --kubeconfig")?;
            AuthMode::Kubernetes(Arc::new(KubernetesAccess::new(
                client,
                catalog,
                scope,
                args.auth_cache_ttl,
            )))
        }
        AuthArg::None => {
            if !args.listen.ip().is_loopback() && !args.insecure_no_auth {
                anyhow::bail!(
                    "--auth none on --listen {}: anyone who reaches it sees every namespace; \
                     listen on 127.0.0.1, choose --auth kubernetes or token, or pass \
                     --insecure-no-auth",
                    args.listen
                );
            }
            tracing::warn!(listen = %args.listen, "--auth none: the API checks no caller");
            AuthMode::None
        }
    };
    let limit = SignInLimit::new(args.auth_failures_per_minute);
    limit.register(registry)?;
    let mut auth = Authentication::new(mode, limit);
    if let Some(header) = args.auth_proxy_header.as_deref().filter(|h| !h.is_empty()) {
        let name = HeaderName::try_from(header.trim())
            .with_context(|| format!("--auth-proxy-header {header:?} is not a header name"))?;
        auth = auth.with_proxy_header(name);
    }
    tracing::info!(auth = auth.mode().name(), ttl = ?args.auth_cache_ttl, "callers sign in");
    Ok(auth)
}

/// What `--allow-draft-runs` needs: the run queue on --redis-url, and the access reviews of a
/// Kubernetes sign-in; None without the flag.
async fn draft_runs(args: &ApiArgs, auth: &Authentication) -> anyhow::Result<Option<DraftRuns>> {
    if !args.allow_draft_runs {
        return Ok(None);
    }
    let url = args
        .redis_url
        .as_deref()
        .context("--allow-draft-runs needs --redis-url: draft runs go to the executors' queue")?;
    let queue = RedisQueue::connect(
        url,
        Streams::prefixed(&args.redis_prefix),
        Duration::from_secs(5),
    )
    .await
    .context("--allow-draft-runs: the run queue on --redis-url")?;
    let access = match auth.mode() {
        AuthMode::Kubernetes(access) => Some(access.clone()),
        _ => None,
    };
    tracing::info!("draft runs from the flow editor are on");
    Ok(Some(DraftRuns { queue, access }))
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
