//! The API's errors and how they answer: `{"error": {"code", "message"}}` with a status that
//! tells the caller what to fix. A bad parameter is named in the message; an unknown id is a
//! 404; a database failure is logged in full and answered without internals.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::store::StoreError;

/// What went wrong while answering a request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A query parameter (or cursor) the API cannot use.
    #[error("{name}: {message}")]
    BadParameter { name: &'static str, message: String },
    /// An id or route that does not exist.
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("a bearer token is required: send `Authorization: Bearer <token>`")]
    Unauthorized,
    #[error("you do not have access to namespace {namespace}")]
    ForbiddenNamespace { namespace: String },
    /// The caller may see the namespace but not do this there.
    #[error("{message}")]
    NotAllowed { message: String },
    /// A feature this API was started without.
    #[error("{message}")]
    Disabled { message: String },
    /// Too many failed sign-ins from the client's address.
    #[error("too many failed sign-ins from this address: try again in {} s", wait.as_secs().max(1))]
    TooManyFailures { wait: std::time::Duration },
    /// A dependency (Redis for live events) is not configured or not answering.
    #[error("{what} is unavailable: {reason}")]
    Unavailable { what: &'static str, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ApiError {
    pub fn bad(name: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadParameter {
            name,
            message: message.into(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        ApiError::NotFound { what: what.into() }
    }

    /// Wraps a failed query with what it was for.
    pub fn query(what: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| ApiError::Store(StoreError::Query { what, source })
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadParameter { .. } => (StatusCode::BAD_REQUEST, "bad_parameter"),
            ApiError::NotFound { .. } => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::ForbiddenNamespace { .. } | ApiError::NotAllowed { .. } => {
                (StatusCode::FORBIDDEN, "forbidden")
            }
            ApiError::Disabled { .. } => (StatusCode::NOT_FOUND, "disabled"),
            ApiError::TooManyFailures { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_failures")
            }
            ApiError::Unavailable { .. } => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Store(StoreError::Connect { .. }) => {
                (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable")
            }
            ApiError::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

/// The namespace a 403 refused, for the audit line.
#[derive(Debug, Clone)]
pub struct DeniedNamespace(pub String);

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable, machine-readable code: bad_parameter, not_found, disabled, unauthorized,
    /// forbidden, too_many_failures, unavailable, database_unavailable, internal.
    pub code: String,
    /// What went wrong, for a person; names the parameter of a 400.
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = match &self {
            ApiError::Store(err) => {
                tracing::error!(error = %err, "request failed in the store");
                match err {
                    StoreError::Connect { .. } => "the database is not answering".to_string(),
                    _ => "the database could not answer this request".to_string(),
                }
            }
            other => other.to_string(),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.into(),
                message,
            },
        };
        let mut response = (status, Json(body)).into_response();
        match self {
            ApiError::Unauthorized => {
                response.headers_mut().insert(
                    axum::http::header::WWW_AUTHENTICATE,
                    axum::http::HeaderValue::from_static("Bearer"),
                );
            }
            ApiError::TooManyFailures { wait } => {
                response.headers_mut().insert(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from(wait.as_secs().max(1)),
                );
            }
            ApiError::ForbiddenNamespace { namespace } => {
                response.extensions_mut().insert(DeniedNamespace(namespace));
            }
            _ => {}
        }
        response
    }
}
