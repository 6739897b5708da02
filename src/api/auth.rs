//! Who may call `/api/v1` (`testmesh api --auth`), checked on every request before it is
//! answered, and the audit line written after:
//! - `kubernetes`: the bearer token is reviewed by the Kubernetes API server and the caller sees
//!   the namespaces where they may read TestFlows (src/api/access_review.rs); when the server
//!   cannot be asked, the request is denied with a 503.
//! - `token`: one static token (`--auth-token`), compared in constant time.
//! - `none`: no check.
//!
//! Behind an authenticating proxy, `--auth-proxy-header` names the header that carries the
//! token (`Authorization: Bearer` is read when it is absent). Failed sign-ins are counted and
//! limited per client address (src/api/sign_in_limit.rs). Health, metrics, the OpenAPI document
//! and the dashboard's files stay open.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, OriginalUri, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, HeaderName};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::access_review::{Admission, Caller, KubernetesAccess};
use super::audit::{AuditRecord, Decision};
use super::error::{ApiError, DeniedNamespace};
use super::scope::Scope;
use super::sign_in_limit::{Failure, SignInLimit};

/// Failed sign-ins allowed per client address and minute, unless configured.
pub const DEFAULT_FAILURES_PER_MINUTE: u32 = 10;

/// The token every API request must carry.
#[derive(Debug, Clone)]
pub struct BearerToken(pub Arc<str>);

impl BearerToken {
    fn accepts(&self, presented: &str) -> bool {
        bool::from(self.0.as_bytes().ct_eq(presented.as_bytes()))
    }
}

/// How requests are checked.
#[derive(Clone)]
pub enum AuthMode {
    None,
    Token(BearerToken),
    Kubernetes(Arc<KubernetesAccess>),
}

impl AuthMode {
    /// The mode as `--auth` names it.
    pub fn name(&self) -> &'static str {
        match self {
            AuthMode::None => "none",
            AuthMode::Token(_) => "token",
            AuthMode::Kubernetes(_) => "kubernetes",
        }
    }
}

/// The sign-in check of the API: the mode, where the token is read, and the limit on failures.
#[derive(Clone)]
pub struct Authentication {
    mode: AuthMode,
    proxy_header: Option<HeaderName>,
    limit: SignInLimit,
}

impl std::fmt::Debug for Authentication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authentication")
            .field("mode", &self.mode.name())
            .field("proxy_header", &self.proxy_header)
            .finish_non_exhaustive()
    }
}

impl Default for Authentication {
    fn default() -> Self {
        Self::new(
            AuthMode::None,
            SignInLimit::new(default_failures_per_minute()),
        )
    }
}

fn default_failures_per_minute() -> NonZeroU32 {
    NonZeroU32::new(DEFAULT_FAILURES_PER_MINUTE).unwrap_or(NonZeroU32::MIN)
}

impl Authentication {
    pub fn new(mode: AuthMode, limit: SignInLimit) -> Self {
        Self {
            mode,
            proxy_header: None,
            limit,
        }
    }

    /// A static token, with the default limit on failures.
    pub fn token(token: &str) -> Self {
        Self::new(
            AuthMode::Token(BearerToken(token.into())),
            SignInLimit::new(default_failures_per_minute()),
        )
    }

    /// Reads the token from `header` (set by an authenticating proxy) when a request has it.
    pub fn with_proxy_header(mut self, header: HeaderName) -> Self {
        self.proxy_header = Some(header);
        self
    }

    pub fn mode(&self) -> &AuthMode {
        &self.mode
    }

    /// The token a request presents: the proxy's header, else `Authorization: Bearer`.
    fn presented<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        let from_proxy = self
            .proxy_header
            .as_ref()
            .and_then(|name| headers.get(name))
            .and_then(|value| value.to_str().ok())
            .map(|value| value.strip_prefix("Bearer ").unwrap_or(value));
        from_proxy
            .or_else(|| {
                headers
                    .get(AUTHORIZATION)
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.strip_prefix("Bearer "))
            })
            .map(str::trim)
            .filter(|token| !token.is_empty())
    }

    async fn sign_in(
        &self,
        headers: &HeaderMap,
        client: Option<IpAddr>,
    ) -> Result<SignedIn, Denied> {
        if let AuthMode::None = self.mode {
            return Ok(SignedIn::default());
        }
        let presented = self.presented(headers);
        if let Some(wait) = self.limit.blocked(client) {
            // A caller whose review is cached goes on: behind a proxy or a NAT, one client's
            // failures must not lock out everyone who shares its address.
            if let (AuthMode::Kubernetes(access), Some(token)) = (&self.mode, presented)
                && let Some(caller) = access.admitted(token).await
            {
                return Ok(SignedIn::from(&caller));
            }
            self.limit.throttled();
            return Err(Denied::Throttled(wait));
        }
        let Some(token) = presented else {
            return Err(self.failed(client, Failure::Missing));
        };
        match &self.mode {
            AuthMode::None => Ok(SignedIn::default()),
            AuthMode::Token(expected) if expected.accepts(token) => Ok(SignedIn::default()),
            AuthMode::Token(_) => Err(self.failed(client, Failure::Refused)),
            AuthMode::Kubernetes(access) => match access.admit(token).await {
                Ok(Admission::Admitted(caller)) => Ok(SignedIn::from(&caller)),
                Ok(Admission::Refused { reason }) => {
                    tracing::info!(%reason, "the Kubernetes API refused a token");
                    Err(self.failed(client, Failure::Refused))
                }
                Err(err) => {
                    tracing::warn!(error = %err, "access cannot be checked: denying the request");
                    Err(Denied::Unavailable)
                }
            },
        }
    }

    fn failed(&self, client: Option<IpAddr>, failure: Failure) -> Denied {
        match self.limit.failed(client, failure) {
            Some(wait) => Denied::Throttled(wait),
            None => Denied::Unauthorized,
        }
    }
}

/// Who made a request, as the sign-in found; handlers read it from the request's extensions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SignedIn {
    /// The Kubernetes user; None without Kubernetes sign-in.
    pub user: Option<String>,
    pub groups: Vec<String>,
    /// The namespaces the caller may see; None when the sign-in does not narrow them.
    pub scope: Option<Scope>,
    /// The Kubernetes caller, for further access reviews.
    pub caller: Option<Arc<Caller>>,
}

impl From<&Arc<Caller>> for SignedIn {
    fn from(caller: &Arc<Caller>) -> Self {
        SignedIn {
            user: Some(caller.identity.user.clone()),
            groups: caller.identity.groups.clone(),
            scope: Some(caller.scope.clone()),
            caller: Some(caller.clone()),
        }
    }
}

/// Why a request is not let through.
enum Denied {
    Unauthorized,
    Throttled(Duration),
    Unavailable,
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        match self {
            Denied::Unauthorized => ApiError::Unauthorized,
            Denied::Throttled(wait) => ApiError::TooManyFailures { wait },
            Denied::Unavailable => ApiError::Unavailable {
                what: "access control",
                reason: "the Kubernetes API server cannot review the request".into(),
            },
        }
        .into_response()
    }
}

/// Signs the request in, lets it through with the caller's namespaces, and writes its audit
/// line.
pub async fn guard(
    State(auth): State<Authentication>,
    mut request: Request,
    next: Next,
) -> Response {
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip());
    let verb = request.method().to_string();
    let path = request
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| request.uri().path(), |uri| uri.path())
        .to_string();
    let requested = requested_namespace(&request);
    let (response, signed_in) = match auth.sign_in(request.headers(), client).await {
        Ok(signed_in) => {
            if let Some(scope) = &signed_in.scope {
                request.extensions_mut().insert(scope.clone());
            }
            request.extensions_mut().insert(signed_in.clone());
            (next.run(request).await, Some(signed_in))
        }
        Err(denied) => (denied.into_response(), None),
    };
    let status = response.status();
    let denied_namespace = response
        .extensions()
        .get::<DeniedNamespace>()
        .map(|DeniedNamespace(namespace)| namespace.as_str());
    let decision = if signed_in.is_none() || denied_namespace.is_some() {
        Decision::Deny
    } else {
        Decision::Allow
    };
    let signed_in = signed_in.unwrap_or_default();
    AuditRecord {
        user: signed_in.user.as_deref(),
        groups: &signed_in.groups,
        verb: &verb,
        path: &path,
        namespace: denied_namespace.or(requested.as_deref()),
        decision,
        status: status.as_u16(),
    }
    .log();
    response
}

/// The namespace a request names: its `namespace` filter, or the one in a flow's path.
fn requested_namespace(request: &Request) -> Option<String> {
    let from_query = request.uri().query().and_then(|query| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(key, value)| key == "namespace" && !value.trim().is_empty())
            .map(|(_, value)| value.trim().to_string())
    });
    from_query.or_else(|| {
        let mut parts = request.uri().path().trim_start_matches('/').split('/');
        match (parts.next(), parts.next()) {
            (Some("flows"), Some(namespace)) if !namespace.is_empty() => {
                Some(namespace.to_string())
            }
            _ => None,
        }
    })
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

    #[test]
    fn the_proxy_header_is_read_before_authorization() {
        let auth = Authentication::token("t")
            .with_proxy_header(HeaderName::from_static("x-forwarded-access-token"));
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, "Bearer from-the-browser".parse().unwrap());
        assert_eq!(auth.presented(&headers), Some("from-the-browser"));
        headers.insert(
            "x-forwarded-access-token",
            "from-the-proxy".parse().unwrap(),
        );
        assert_eq!(auth.presented(&headers), Some("from-the-proxy"));
        headers.insert("x-forwarded-access-token", "Bearer   ".parse().unwrap());
        assert_eq!(auth.presented(&headers), None);
    }

    #[test]
    fn the_namespace_asked_about_comes_from_the_filter_or_the_flow_path() {
        let request = |uri: &str| {
            Request::builder()
                .uri(uri)
                .body(axum::body::Body::empty())
                .unwrap()
        };
        assert_eq!(
            requested_namespace(&request("/executions?status=failed&namespace=shop")),
            Some("shop".into())
        );
        assert_eq!(
            requested_namespace(&request("/flows/billing/pay")),
            Some("billing".into())
        );
        assert_eq!(requested_namespace(&request("/executions/run-1")), None);
    }
}
