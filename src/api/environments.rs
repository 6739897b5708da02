//! `GET /environments`: environments with their variables and secret references, from the
//! catalog. Secret values are never part of an answer: only which Secret and key hold them.

use axum::Json;
use indexmap::IndexMap;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::scope::Scoped;

/// A TestEnvironment.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Environment {
    pub namespace: String,
    pub name: String,
    #[schema(value_type = std::collections::HashMap<String, String>)]
    pub variables: IndexMap<String, String>,
    pub secret_refs: Vec<SecretRef>,
    /// The flows that use this environment: that name it (from the cluster), or that ran
    /// with it (from the store).
    pub flows: Vec<String>,
}

/// Where a secret value lives; the value itself is never read by the API.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SecretRef {
    pub kind: String,
    pub name: String,
    pub key: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EnvironmentList {
    pub items: Vec<Environment>,
}

#[utoipa::path(get, path = "/api/v1/environments", tag = "definitions",
    responses((status = 200, body = EnvironmentList), (status = 401, body = ErrorBody)))]
pub async fn list(Scoped(state): Scoped) -> Result<Json<EnvironmentList>, ApiError> {
    let items = state.catalog.environments(&state.scope).await?;
    Ok(Json(EnvironmentList { items }))
}
