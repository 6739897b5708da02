//! TestEnvironments read from the cluster, for an executor running in it (or given a
//! kubeconfig). A run gets, in rising precedence: every key of its `envFrom` Secrets and
//! ConfigMaps (with their prefix), the plain `variables`, the `serviceUrls`, then each
//! `valueFrom` key; the `serviceUrls` are also its services (`${service.NAME}`), and its
//! `actionDefaults` go under each step's config. Values that come from a Secret are secrets: masked in everything recorded.
//! A missing Secret, ConfigMap or key (unless `optional`) is an error naming the environment,
//! the object and the key, never a value.

use std::collections::HashMap;

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::{Api, Client};
use serde_json::Value;

use super::environment::{EnvironmentError, EnvironmentResolver, ResolvedEnvironment};
use crate::resources::TestEnvironment;
use crate::resources::testenvironment::{SourceKind, TestEnvironmentSpec};

/// Reads TestEnvironments, Secrets and ConfigMaps with the executor's service account.
#[derive(Clone)]
pub struct ClusterEnvironments {
    client: Client,
}

impl ClusterEnvironments {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    async fn read(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<ResolvedEnvironment, EnvironmentError> {
        let failed = |message: String| EnvironmentError::Unreadable {
            namespace: namespace.to_string(),
            name: name.to_string(),
            message,
        };
        let api: Api<TestEnvironment> = Api::namespaced(self.client.clone(), namespace);
        let environment = api
            .get_opt(name)
            .await
            .map_err(|err| failed(format!("cannot read it: {err}")))?
            .ok_or_else(|| EnvironmentError::NotFound {
                namespace: namespace.to_string(),
                name: name.to_string(),
            })?;
        let mut sources = Sources::new(self.client.clone(), namespace);
        resolve_spec(&environment.spec, &mut sources)
            .await
            .map_err(failed)
    }
}

impl EnvironmentResolver for ClusterEnvironments {
    fn resolve<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<ResolvedEnvironment, EnvironmentError>> {
        Box::pin(self.read(namespace, name))
    }
}

/// The keys and values of one Secret or ConfigMap, as text.
type Entries = Vec<(String, String)>;

/// The Secrets and ConfigMaps of one namespace, each read once per resolution.
struct Sources {
    client: Client,
    namespace: String,
    read: HashMap<(SourceKind, String), Option<Entries>>,
}

impl Sources {
    fn new(client: Client, namespace: &str) -> Self {
        Self {
            client,
            namespace: namespace.to_string(),
            read: HashMap::new(),
        }
    }

    /// The entries of `name`, or None when it does not exist.
    async fn entries(&mut self, kind: SourceKind, name: &str) -> Result<Option<&Entries>, String> {
        let key = (kind, name.to_string());
        if !self.read.contains_key(&key) {
            let entries = match kind {
                SourceKind::Secret => self.secret(name).await?,
                SourceKind::ConfigMap => self.config_map(name).await?,
            };
            self.read.insert(key.clone(), entries);
        }
        Ok(self.read.get(&key).and_then(Option::as_ref))
    }

    async fn secret(&self, name: &str) -> Result<Option<Entries>, String> {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), &self.namespace);
        let Some(secret) = api
            .get_opt(name)
            .await
            .map_err(|err| format!("cannot read Secret {name:?}: {err}"))?
        else {
            return Ok(None);
        };
        let mut entries = Vec::new();
        for (key, bytes) in secret.data.unwrap_or_default() {
            let text = String::from_utf8(bytes.0)
                .map_err(|_| format!("key {key:?} of Secret {name:?} is not UTF-8 text"))?;
            entries.push((key, text));
        }
        entries.extend(secret.string_data.unwrap_or_default());
        Ok(Some(entries))
    }

    async fn config_map(&self, name: &str) -> Result<Option<Entries>, String> {
        let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), &self.namespace);
        let Some(map) = api
            .get_opt(name)
            .await
            .map_err(|err| format!("cannot read ConfigMap {name:?}: {err}"))?
        else {
            return Ok(None);
        };
        let mut entries: Entries = map.data.unwrap_or_default().into_iter().collect();
        for (key, bytes) in map.binary_data.unwrap_or_default() {
            let text = String::from_utf8(bytes.0)
                .map_err(|_| format!("key {key:?} of ConfigMap {name:?} is not UTF-8 text"))?;
            entries.push((key, text));
        }
        Ok(Some(entries))
    }
}

/// Where one resolved value goes.
fn put(resolved: &mut ResolvedEnvironment, kind: SourceKind, name: String, value: String) {
    match kind {
        SourceKind::Secret => {
            resolved.variables.shift_remove(&name);
            resolved.secrets.insert(name, value);
        }
        SourceKind::ConfigMap => {
            resolved.secrets.shift_remove(&name);
            resolved.variables.insert(name, Value::String(value));
        }
    }
}

fn put_plain(resolved: &mut ResolvedEnvironment, name: &str, value: &str) {
    resolved.secrets.shift_remove(name);
    resolved
        .variables
        .insert(name.to_string(), Value::String(value.to_string()));
}

async fn resolve_spec(
    spec: &TestEnvironmentSpec,
    sources: &mut Sources,
) -> Result<ResolvedEnvironment, String> {
    if let Some(problem) = spec.action_defaults.unknown_action() {
        return Err(problem);
    }
    let mut resolved = ResolvedEnvironment {
        headers: spec.headers.clone(),
        services: spec.service_urls.clone(),
        action_defaults: spec.action_defaults.clone(),
        ..ResolvedEnvironment::default()
    };
    for entry in &spec.env_from {
        let pairs = [
            (SourceKind::Secret, &entry.secret_ref),
            (SourceKind::ConfigMap, &entry.config_map_ref),
        ];
        for (kind, object) in pairs {
            let Some(object) = object else { continue };
            let Some(entries) = sources.entries(kind, &object.name).await? else {
                return Err(format!("{} {:?} not found", kind.as_str(), object.name));
            };
            let prefix = entry.prefix.as_deref().unwrap_or_default();
            for (key, value) in entries.clone() {
                put(&mut resolved, kind, format!("{prefix}{key}"), value);
            }
        }
    }
    for (name, value) in spec.variables.iter().chain(&spec.service_urls) {
        put_plain(&mut resolved, name, value);
    }
    for entry in &spec.value_from {
        let pairs = [
            (SourceKind::Secret, &entry.secret_key_ref),
            (SourceKind::ConfigMap, &entry.config_map_key_ref),
        ];
        for (kind, key_ref) in pairs {
            let Some(key_ref) = key_ref else { continue };
            let what = kind.as_str();
            let value = match sources.entries(kind, &key_ref.name).await? {
                None if key_ref.optional => continue,
                None => return Err(format!("{what} {:?} not found", key_ref.name)),
                Some(entries) => entries
                    .iter()
                    .find(|(key, _)| *key == key_ref.key)
                    .map(|(_, value)| value.clone()),
            };
            match value {
                Some(value) => put(&mut resolved, kind, entry.name.clone(), value),
                None if key_ref.optional => {}
                None => {
                    return Err(format!(
                        "key {:?} not found in {what} {:?} (for variable {})",
                        key_ref.key, key_ref.name, entry.name
                    ));
                }
            }
        }
    }
    Ok(resolved)
}
