//! `GET /session`: who the API takes the caller to be and which namespaces they may see, for
//! the dashboard's shell (the user's name and groups, and whether to offer sign-out).

use axum::{Extension, Json};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::SignedIn;
use super::error::ErrorBody;
use super::scope::Scoped;

/// The caller as signed in.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// The Kubernetes user; null when the API does not sign callers in with Kubernetes.
    pub user: Option<String>,
    pub groups: Vec<String>,
    /// The namespaces the caller may see; null for every namespace.
    pub namespaces: Option<Vec<String>>,
}

#[utoipa::path(get, path = "/api/v1/session", tag = "meta",
    responses((status = 200, body = Session), (status = 401, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn get(
    Scoped(state): Scoped,
    Extension(signed_in): Extension<SignedIn>,
) -> Json<Session> {
    Json(Session {
        user: signed_in.user,
        groups: signed_in.groups,
        namespaces: state.scope.namespaces().map(<[String]>::to_vec),
    })
}
