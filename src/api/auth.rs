//! Optional bearer-token auth for `/api/v1` (`--auth-token` / TESTMESH_API_TOKEN). The token is
//! compared in constant time. Health, metrics, the OpenAPI document and the dashboard's files
//! stay open.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::error::ApiError;

/// The token every API request must carry.
#[derive(Debug, Clone)]
pub struct BearerToken(pub Arc<str>);

impl BearerToken {
    fn accepts(&self, presented: &str) -> bool {
        bool::from(self.0.as_bytes().ct_eq(presented.as_bytes()))
    }
}

/// Lets a request through when it carries `Authorization: Bearer <token>`.
pub async fn require_token(
    State(token): State<BearerToken>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    match presented {
        Some(presented) if token.accepts(presented) => next.run(request).await,
        _ => ApiError::Unauthorized.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_token_is_accepted() {
        let token = BearerToken("s3cret".into());
        assert!(token.accepts("s3cret"));
        assert!(!token.accepts("s3cre"));
        assert!(!token.accepts("s3cret2"));
        assert!(!token.accepts(""));
    }
}
