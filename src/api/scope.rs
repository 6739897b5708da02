//! Namespace scoping: the namespaces a request may see. The API's own scope comes from
//! `--allowed-namespaces`; a signed-in caller's scope (the namespaces Kubernetes lets them read,
//! see src/api/access_review.rs) narrows it per request. Handlers take [`Scoped`], the state with
//! the caller's scope in place, so every list, count and event is cut to it. A filter or a direct
//! link naming a namespace outside the scope is a 403 that names it.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::app::AppState;
use super::error::ApiError;

/// The namespaces a request may see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope(Option<Arc<[String]>>);

impl Scope {
    /// The scope of `--allowed-namespaces`: those namespaces, or all when none is named.
    pub fn new(allowed: &[String]) -> Self {
        let allowed: Vec<String> = allowed
            .iter()
            .map(|ns| ns.trim().to_string())
            .filter(|ns| !ns.is_empty())
            .collect();
        if allowed.is_empty() {
            Scope::all()
        } else {
            Scope::only(allowed)
        }
    }

    /// Every namespace.
    pub fn all() -> Self {
        Scope(None)
    }

    /// Exactly `namespaces`; none at all when it is empty.
    pub fn only(mut namespaces: Vec<String>) -> Self {
        namespaces.sort();
        namespaces.dedup();
        Scope(Some(namespaces.into()))
    }

    /// The namespaces both scopes allow.
    pub fn intersect(&self, other: &Scope) -> Scope {
        match (&self.0, &other.0) {
            (None, _) => other.clone(),
            (_, None) => self.clone(),
            (Some(mine), Some(theirs)) => Scope::only(
                mine.iter()
                    .filter(|ns| theirs.contains(ns))
                    .cloned()
                    .collect(),
            ),
        }
    }

    /// The namespaces of this scope, None when it is every namespace.
    pub fn namespaces(&self) -> Option<&[String]> {
        self.0.as_deref()
    }

    /// Whether `namespace` may be shown.
    pub fn allows(&self, namespace: &str) -> bool {
        self.0
            .as_ref()
            .is_none_or(|allowed| allowed.iter().any(|ns| ns == namespace))
    }

    /// A 403 naming `namespace` when it lies outside the scope.
    pub fn check(&self, namespace: &str) -> Result<(), ApiError> {
        if self.allows(namespace) {
            Ok(())
        } else {
            Err(ApiError::ForbiddenNamespace {
                namespace: namespace.to_string(),
            })
        }
    }

    /// A 403 when a requested namespace filter lies outside the scope.
    pub fn check_filter(&self, namespace: Option<&str>) -> Result<(), ApiError> {
        namespace.map_or(Ok(()), |ns| self.check(ns))
    }

    /// The allowed namespaces as a SQL array parameter (`namespace = ANY($n)`), None for all.
    pub fn sql(&self) -> Option<Vec<String>> {
        self.0.as_ref().map(|allowed| allowed.to_vec())
    }
}

/// The application state as one request may see it: the API's scope narrowed to the caller's,
/// which the sign-in check leaves in the request's extensions.
pub struct Scoped(pub AppState);

impl FromRequestParts<AppState> for Scoped {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let mut state = state.clone();
        if let Some(caller) = parts.extensions.get::<Scope>() {
            state.scope = state.scope.intersect(caller);
        }
        Ok(Scoped(state))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_flag_allows_everything() {
        let all = Scope::new(&[" ".into()]);
        assert!(all.allows("any") && all.sql().is_none());
        let some = Scope::new(&["shop".into()]);
        assert!(some.allows("shop") && !some.allows("billing"));
        assert!(some.check_filter(Some("billing")).is_err());
        assert!(some.check_filter(None).is_ok());
    }

    #[test]
    fn a_caller_with_no_namespace_sees_nothing() {
        let none = Scope::only(Vec::new());
        assert!(!none.allows("shop"));
        assert_eq!(none.sql(), Some(Vec::new()));
        assert_eq!(Scope::all().intersect(&none), none);
    }

    #[test]
    fn intersecting_keeps_what_both_allow() {
        let flag = Scope::new(&["shop".into(), "billing".into()]);
        let caller = Scope::only(vec!["billing".into(), "ops".into()]);
        let both = flag.intersect(&caller);
        assert!(both.allows("billing") && !both.allows("shop") && !both.allows("ops"));
        assert_eq!(Scope::all().intersect(&caller), caller);
        assert_eq!(caller.intersect(&Scope::all()), caller);
    }

    #[test]
    fn the_403_names_the_namespace() {
        let err = Scope::new(&["shop".into()]).check("billing").unwrap_err();
        assert_eq!(
            err.to_string(),
            "you do not have access to namespace billing"
        );
    }
}
