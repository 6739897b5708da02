//! The application: the state every handler shares and the router that puts the API under
//! `/api/v1`, the operational endpoints at the root, and the dashboard at `/`, with the sign-in
//! check and audit line of every API request, and CORS.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, Method, header};
use axum::middleware;
use axum::routing::{get, post};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::auth::{Authentication, guard};
use super::catalog::FlowCatalog;
use super::draft_runs::DraftRuns;
use super::error::ApiError;
use super::live::LiveSource;
use super::scope::Scope;
use super::{
    actions, dashboard, draft_runs, environments, executions, flaky, flows, live, openapi,
    overview, schedules, session, trends, validation,
};
use crate::store::Store;

/// What every handler reads from.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Redis for live events; None when the API runs without it.
    pub live: Option<LiveSource>,
    pub catalog: Arc<dyn FlowCatalog>,
    pub scope: Scope,
    /// Draft runs from the flow editor; None unless `--allow-draft-runs`.
    pub drafts: Option<DraftRuns>,
}

/// How the router is put together (from the flags of `testmesh api`).
#[derive(Debug, Clone, Default)]
pub struct RouterOptions {
    /// How requests to /api/v1 sign in (the OpenAPI document excepted).
    pub auth: Authentication,
    /// Origins allowed by CORS; `*` allows any; empty turns CORS off.
    pub cors_origins: Vec<String>,
    /// The dashboard's static export.
    pub dashboard_dir: PathBuf,
}

/// A setting the router cannot use.
#[derive(Debug, thiserror::Error)]
pub enum RouterError {
    #[error(
        "--cors-origins: {origin:?} is not a valid origin (expected e.g. https://tests.example.com or *)"
    )]
    CorsOrigin { origin: String },
}

/// The whole application; `ops` is the role's `/metrics`, `/healthz` and `/readyz` router.
pub fn router(
    state: AppState,
    options: &RouterOptions,
    ops: Router,
) -> Result<Router, RouterError> {
    let api = Router::new()
        .route("/flows", get(flows::list))
        .route("/flows/{namespace}/{name}", get(flows::get))
        .route("/executions", get(executions::list))
        .route("/executions/{run_id}", get(executions::get))
        .route("/executions/{run_id}/events", get(live::run_events))
        .route("/live", get(live::live))
        .route("/trends", get(trends::get))
        .route("/flaky", get(flaky::get))
        .route("/schedules", get(schedules::list))
        .route("/environments", get(environments::list))
        .route("/overview", get(overview::get))
        .route("/session", get(session::get))
        .route("/actions", get(actions::list))
        .route("/validate", post(validation::validate))
        .route("/runs", post(draft_runs::start))
        .with_state(state)
        .layer(middleware::from_fn_with_state(options.auth.clone(), guard));
    let api = Router::new()
        .route("/openapi.json", get(openapi::openapi_json))
        .merge(api)
        .fallback(|uri: axum::extract::OriginalUri| async move {
            ApiError::not_found(format!("API route {}", uri.path()))
        });
    let mut app = Router::new()
        .nest("/api/v1", api)
        .merge(ops)
        .merge(dashboard::routes(&options.dashboard_dir));
    if let Some(cors) = cors_layer(&options.cors_origins)? {
        app = app.layer(cors);
    }
    Ok(app)
}

fn cors_layer(origins: &[String]) -> Result<Option<CorsLayer>, RouterError> {
    let origins: Vec<&str> = origins
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .collect();
    if origins.is_empty() {
        return Ok(None);
    }
    let allow = if origins.contains(&"*") {
        AllowOrigin::any()
    } else {
        let values = origins
            .iter()
            .map(|origin| {
                HeaderValue::from_str(origin.trim_end_matches('/')).map_err(|_| {
                    RouterError::CorsOrigin {
                        origin: origin.to_string(),
                    }
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        AllowOrigin::list(values)
    };
    Ok(Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
            .max_age(std::time::Duration::from_secs(600)),
    ))
}
