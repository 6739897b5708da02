//! `testmesh api`: the read API of TestMesh under `/api/v1` (flows, executions, trends, flaky
//! flows, schedules, environments, overview), live run events over SSE, the OpenAPI document,
//! and the dashboard's static export at `/`. It reads the store's tables and Redis's event
//! streams and writes nothing.

mod app;
mod auth;
mod catalog;
mod cluster_catalog;
mod cursor;
mod dashboard;
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
mod store_catalog;
mod trends;

pub use app::{AppState, RouterError, RouterOptions, router};
pub use catalog::{CatalogFlow, FlowCatalog};
pub use cluster_catalog::ClusterCatalog;
pub use environments::{Environment, SecretRef};
pub use error::ApiError;
pub use flaky::flakiness;
pub use live::LiveSource;
pub use openapi::ApiDoc;
pub use readiness::watch_readiness;
pub use schedules::Schedule;
pub use scope::Scope;
pub use store_catalog::StoreCatalog;
