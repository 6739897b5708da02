//! `testmesh api`: the read API of TestMesh under `/api/v1` (flows, executions, trends, flaky
//! flows, schedules, environments, overview, the caller's session), live run events over SSE,
//! the OpenAPI document, the flow editor's action catalogue and validator, and the dashboard's
//! static export at `/`. It reads the store's tables and Redis's event streams; it writes only
//! draft runs, when `--allow-draft-runs` turns them on. Each caller sees the namespaces their sign-in
//! allows (src/api/auth.rs).

mod access_review;
mod actions;
mod app;
mod audit;
mod auth;
mod catalog;
mod cluster_catalog;
mod cursor;
mod dashboard;
mod draft_runs;
mod environments;
mod error;
mod executions;
mod flaky;
mod flows;
pub mod live;
mod openapi;
mod overview;
mod params;
mod readiness;
mod schedules;
mod scope;
mod session;
mod sign_in_limit;
mod store_catalog;
mod trends;
mod validation;

pub use access_review::{
    Admission, Caller, FLOW_GROUP, FLOW_RESOURCE, Identity, KubernetesAccess, ReviewError,
};
pub use actions::{ActionCatalogue, catalogue};
pub use app::{AppState, RouterError, RouterOptions, router};
pub use audit::AUDIT_TARGET;
pub use auth::{AuthMode, Authentication, BearerToken, DEFAULT_FAILURES_PER_MINUTE, SignedIn};
pub use catalog::{CatalogFlow, FlowCatalog, FlowCondition};
pub use cluster_catalog::ClusterCatalog;
pub use draft_runs::{DraftRun, DraftRunRequest, DraftRuns, draft_message};
pub use environments::{Environment, SecretRef};
pub use error::ApiError;
pub use flaky::flakiness;
pub use live::LiveSource;
pub use openapi::ApiDoc;
pub use readiness::watch_readiness;
pub use schedules::Schedule;
pub use scope::Scope;
pub use sign_in_limit::SignInLimit;
pub use store_catalog::StoreCatalog;
pub use validation::{ValidationReport, validate_text};
