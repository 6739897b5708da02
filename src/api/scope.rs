//! Namespace scoping (`--allowed-namespaces`): when set, the API answers only for those
//! namespaces. A filter naming another namespace is a 403; a run or flow of another namespace
//! is a 404, as if it did not exist.

use std::sync::Arc;

use super::error::ApiError;

/// The namespaces the API serves; empty means all.
#[derive(Debug, Clone, Default)]
pub struct Scope(Option<Arc<[String]>>);

impl Scope {
    pub fn new(allowed: &[String]) -> Self {
        let allowed: Vec<String> = allowed
            .iter()
            .map(|ns| ns.trim().to_string())
            .filter(|ns| !ns.is_empty())
            .collect();
        if allowed.is_empty() {
            Scope(None)
        } else {
            Scope(Some(allowed.into()))
        }
    }

    /// Whether `namespace` may be shown.
    pub fn allows(&self, namespace: &str) -> bool {
        self.0
            .as_ref()
            .is_none_or(|allowed| allowed.iter().any(|ns| ns == namespace))
    }

    /// A 403 when a requested namespace filter lies outside the scope.
    pub fn check_filter(&self, namespace: Option<&str>) -> Result<(), ApiError> {
        match namespace {
            Some(ns) if !self.allows(ns) => Err(ApiError::ForbiddenNamespace {
                namespace: ns.to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// The allowed namespaces as a SQL array parameter (`namespace = ANY($n)`), None for all.
    pub fn sql(&self) -> Option<Vec<String>> {
        self.0.as_ref().map(|allowed| allowed.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_scope_allows_everything() {
        let all = Scope::new(&[" ".into()]);
        assert!(all.allows("any") && all.sql().is_none());
        let some = Scope::new(&["shop".into()]);
        assert!(some.allows("shop") && !some.allows("billing"));
        assert!(some.check_filter(Some("billing")).is_err());
        assert!(some.check_filter(None).is_ok());
    }
}
