//! TestEnvironment resolution. A run names its environment; the executor asks a resolver for
//! its variables, secret values, headers, services and action defaults. The cluster resolver reads the TestEnvironment and
//! its Secrets with read-only Kubernetes access; [`LocalEnvironments`] reads a local file, for
//! tests and for running an executor outside a cluster.

use std::collections::HashMap;
use std::path::Path;

use futures::future::BoxFuture;
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value;

use crate::flow::action_defaults::ActionDefaults;

/// What a run gets from its environment. Secret values are masked in everything recorded.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ResolvedEnvironment {
    pub variables: IndexMap<String, Value>,
    pub secrets: IndexMap<String, String>,
    pub headers: IndexMap<String, String>,
    /// Read as `${service.NAME}`.
    pub services: IndexMap<String, String>,
    /// Config per action type, under each step's own.
    #[serde(alias = "actionDefaults")]
    pub action_defaults: ActionDefaults,
}

/// Why an environment could not be resolved.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EnvironmentError {
    #[error("TestEnvironment {namespace}/{name} not found")]
    NotFound { namespace: String, name: String },
    #[error("TestEnvironment {namespace}/{name}: {message}")]
    Unreadable {
        namespace: String,
        name: String,
        message: String,
    },
    #[error("cannot read the environments file {file}: {message}")]
    File { file: String, message: String },
}

/// Looks up a TestEnvironment by namespace and name.
pub trait EnvironmentResolver: Send + Sync {
    fn resolve<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<ResolvedEnvironment, EnvironmentError>>;
}

/// Environments from a JSON file: `{"<namespace>/<name>": {"variables": {}, "secrets": {},
/// "headers": {}, "services": {}, "action_defaults": {}}}`. Without a file, every lookup answers "not found".
#[derive(Debug, Clone, Default)]
pub struct LocalEnvironments {
    environments: HashMap<String, ResolvedEnvironment>,
}

impl LocalEnvironments {
    pub fn from_file(file: &Path) -> Result<Self, EnvironmentError> {
        let error = |message: String| EnvironmentError::File {
            file: file.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(file).map_err(|err| error(err.to_string()))?;
        let environments = serde_json::from_str(&text).map_err(|err| error(err.to_string()))?;
        Ok(Self { environments })
    }

    pub fn insert(&mut self, namespace: &str, name: &str, environment: ResolvedEnvironment) {
        self.environments
            .insert(format!("{namespace}/{name}"), environment);
    }
}

impl EnvironmentResolver for LocalEnvironments {
    fn resolve<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<ResolvedEnvironment, EnvironmentError>> {
        let found = self
            .environments
            .get(&format!("{namespace}/{name}"))
            .cloned()
            .ok_or_else(|| EnvironmentError::NotFound {
                namespace: namespace.to_string(),
                name: name.to_string(),
            });
        Box::pin(async move { found })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_environments_answer_by_namespace_and_name() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("envs.json");
        std::fs::write(
            &file,
            r#"{"qa/staging": {"variables": {"base": "http://x"}, "secrets": {"TOKEN": "s3"},
                "services": {"orders": "http://orders:8080"},
                "actionDefaults": {"database_query": {"connection": "postgres://db/app"}}}}"#,
        )
        .unwrap();
        let envs = LocalEnvironments::from_file(&file).unwrap();
        let staging = envs.resolve("qa", "staging").await.unwrap();
        assert_eq!(staging.variables["base"], "http://x");
        assert_eq!(staging.secrets["TOKEN"], "s3");
        assert_eq!(staging.services["orders"], "http://orders:8080");
        let defaults = staging.action_defaults.by_kind();
        assert_eq!(
            defaults[&crate::flow::actions::ActionKind::DatabaseQuery]["connection"],
            "postgres://db/app"
        );
        let missing = envs.resolve("qa", "prod").await.unwrap_err();
        assert_eq!(missing.to_string(), "TestEnvironment qa/prod not found");
    }
}
