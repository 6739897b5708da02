//! Kafka through rskafka, a pure-Rust client: `kafka_producer` writes messages to a topic and
//! `kafka_consumer` reads partitions until enough messages match. One client per broker list
//! and credentials per run, dropped (closing its connections) when the run ends.

pub mod consume;
mod partitioner;
pub mod produce;
pub mod settings;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rskafka::BackoffConfig;
use rskafka::client::error::Error as KafkaError;
use rskafka::client::{Client, ClientBuilder, Credentials, SaslConfig};
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use super::ActionError;
use settings::Sasl;

/// How long connecting may take when the step's own `timeout` is longer.
const CONNECT_LIMIT: Duration = Duration::from_secs(10);

/// The Kafka clients of one run, by broker list and credentials, and when the run began (where
/// a consumer starts by default).
pub struct KafkaClients {
    clients: Mutex<HashMap<String, Arc<Client>>>,
    run_started: DateTime<Utc>,
}

impl Default for KafkaClients {
    fn default() -> Self {
        Self {
            clients: Mutex::default(),
            run_started: Utc::now(),
        }
    }
}

/// The cluster a step names: its brokers, SASL credentials and TLS choice.
pub struct Cluster {
    brokers: Vec<String>,
    sasl: Option<Sasl>,
    tls: bool,
}

impl Cluster {
    pub fn parse(config: &Map<String, Value>) -> Result<Self, ActionError> {
        Ok(Self {
            brokers: settings::brokers(config)?,
            sasl: settings::sasl(config)?,
            tls: settings::tls(config)?,
        })
    }

    /// The brokers as messages name them: `host:port, host:port`.
    pub fn address(&self) -> String {
        self.brokers.join(", ")
    }

    /// Identifies the client to reuse; the password takes no part, so no secret is kept in it.
    fn cache_key(&self) -> String {
        let user = self
            .sasl
            .as_ref()
            .map(|sasl| format!("{}:{}", sasl.mechanism, sasl.username))
            .unwrap_or_default();
        format!("{}|{user}|{}", self.address(), self.tls)
    }

    /// An error naming the brokers, with the client's reason made short.
    pub fn failed(&self, doing: &str, err: &KafkaError) -> ActionError {
        ActionError::Failed(format!(
            "Kafka {doing} at {}: {}",
            self.address(),
            describe(err)
        ))
    }
}

/// The client's error in one line: a broker's error code and message rather than the whole
/// request it answered.
fn describe(err: &KafkaError) -> String {
    match err {
        KafkaError::ServerError {
            protocol_error,
            error_message,
            ..
        } => match error_message {
            Some(message) => format!("the broker answered {protocol_error}: {message}"),
            None => format!("the broker answered {protocol_error}"),
        },
        other => other.to_string(),
    }
}

impl KafkaClients {
    /// The client for `cluster`, connecting (and reading the cluster's metadata) the first time.
    pub async fn client(
        &self,
        cluster: &Cluster,
        limit: Duration,
    ) -> Result<Arc<Client>, ActionError> {
        let key = cluster.cache_key();
        let mut clients = self.clients.lock().await;
        if let Some(client) = clients.get(&key) {
            return Ok(Arc::clone(client));
        }
        let limit = limit.min(CONNECT_LIMIT);
        let mut builder = ClientBuilder::new(cluster.brokers.clone())
            .client_id("testmesh")
            .backoff_config(BackoffConfig {
                deadline: Some(limit),
                ..BackoffConfig::default()
            });
        if let Some(sasl) = &cluster.sasl {
            let credentials = Credentials::new(sasl.username.clone(), sasl.password.clone());
            builder = builder.sasl_config(match sasl.mechanism {
                "SCRAM-SHA-256" => SaslConfig::ScramSha256(credentials),
                "SCRAM-SHA-512" => SaslConfig::ScramSha512(credentials),
                _ => SaslConfig::Plain(credentials),
            });
        }
        if cluster.tls {
            let tls = super::tls::system_roots()
                .map_err(|err| ActionError::Failed(format!("Kafka TLS: {err}")))?;
            builder = builder.tls_config(Arc::new(tls));
        }
        let client = tokio::time::timeout(limit + Duration::from_secs(1), builder.build())
            .await
            .map_err(|_| {
                ActionError::Failed(format!(
                    "Kafka connection to {} failed: no answer within {}",
                    cluster.address(),
                    humantime::format_duration(limit)
                ))
            })?
            .map_err(|err| cluster.failed("connection failed", &err))?;
        let client = Arc::new(client);
        clients.insert(key, Arc::clone(&client));
        Ok(client)
    }

    /// When the run began: where a consumer starts unless told otherwise.
    pub fn run_started(&self) -> DateTime<Utc> {
        self.run_started
    }

    /// Drops every client, which closes its connections; called when the run ends.
    pub async fn close_all(&self) {
        self.clients.lock().await.clear();
    }
}

/// The partitions of `topic`, from the cluster's metadata.
pub async fn topic_partitions(
    client: &Client,
    cluster: &Cluster,
    topic: &str,
) -> Result<Vec<i32>, ActionError> {
    let topics = client
        .list_topics()
        .await
        .map_err(|err| cluster.failed("reading the topic list failed", &err))?;
    match topics.iter().find(|t| t.name == topic) {
        Some(found) if !found.partitions.is_empty() => {
            Ok(found.partitions.iter().copied().collect())
        }
        _ => {
            let mut names: Vec<&str> = topics.iter().map(|t| t.name.as_str()).collect();
            names.sort_unstable();
            Err(ActionError::Failed(format!(
                "Kafka topic `{topic}` does not exist at {} (topics there: {}); create it first, the actions do not create topics",
                cluster.address(),
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )))
        }
    }
}
