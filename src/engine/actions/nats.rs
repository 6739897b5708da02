//! NATS: `nats.publish` (core, or JetStream with the server's ack) and `nats.subscribe` (waits
//! for messages on a subject, or reads a JetStream stream from its start, until `count`
//! matching messages arrive or `timeout` runs out). One client per server URL per run.

use std::collections::HashMap;
use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::{Client, ConnectOptions, HeaderMap};
use futures::StreamExt;
use serde_json::{Map, Value};
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

use super::fields::{count, duration, flag, optional_map, optional_text, required_text};
use super::{ActionError, ActionOutput, received};

const DEFAULT_URL: &str = "nats://127.0.0.1:4222";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The NATS clients of one run, by server URL.
#[derive(Default)]
pub struct NatsClients {
    clients: Mutex<HashMap<String, Client>>,
}

/// A server as a step names it: `url` (`nats://user:password@host:4222`), with the password
/// masked for messages.
struct Server {
    url: String,
    masked: String,
    address: String,
}

impl Server {
    fn parse(config: &Map<String, Value>) -> Result<Self, ActionError> {
        let url = optional_text(config, "url")?.unwrap_or_else(|| DEFAULT_URL.into());
        let parsed = Url::parse(&url)
            .map_err(|err| ActionError::invalid("url", format!("{url:?}: {err}")))?;
        let mut masked = parsed.clone();
        if masked.password().is_some() {
            let _ = masked.set_password(Some("***"));
        }
        Ok(Self {
            address: format!(
                "{}:{}",
                parsed.host_str().unwrap_or("127.0.0.1"),
                parsed.port().unwrap_or(4222)
            ),
            masked: masked.to_string(),
            url,
        })
    }

    fn failed(&self, doing: &str, err: impl std::fmt::Display) -> ActionError {
        ActionError::Failed(format!(
            "NATS {doing} at {} ({}): {err}",
            self.address, self.masked
        ))
    }
}

impl NatsClients {
    async fn client(&self, server: &Server) -> Result<Client, ActionError> {
        let mut clients = self.clients.lock().await;
        if let Some(client) = clients.get(&server.url) {
            return Ok(client.clone());
        }
        let client = ConnectOptions::new()
            .connection_timeout(CONNECT_TIMEOUT)
            .retry_on_initial_connect()
            .max_reconnects(Some(1))
            .connect(server.url.as_str());
        let client = tokio::time::timeout(CONNECT_TIMEOUT * 2, client)
            .await
            .map_err(|_| server.failed("connection", "no answer"))?
            .map_err(|err| server.failed("connection failed", err))?;
        clients.insert(server.url.clone(), client.clone());
        Ok(client)
    }

    /// Drops every client; called when the run ends.
    pub async fn close_all(&self) {
        let clients: Vec<Client> = self.clients.lock().await.drain().map(|(_, c)| c).collect();
        for client in clients {
            let _ = tokio::time::timeout(Duration::from_secs(1), client.flush()).await;
        }
    }
}

/// The message body: text as is, other values as JSON.
fn payload(config: &Map<String, Value>) -> Result<Vec<u8>, ActionError> {
    let value = ["data", "payload", "message", "body"]
        .into_iter()
        .find_map(|key| config.get(key))
        .ok_or_else(|| ActionError::invalid("data", "is required: the message to publish"))?;
    Ok(match value {
        Value::String(text) => text.clone().into_bytes(),
        other => other.to_string().into_bytes(),
    })
}

fn headers(config: &Map<String, Value>) -> Result<Option<HeaderMap>, ActionError> {
    let Some(map) = optional_map(config, "headers")? else {
        return Ok(None);
    };
    let mut headers = HeaderMap::new();
    for (name, value) in map {
        let text = match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        headers.insert(name.as_str(), text.as_str());
    }
    Ok(Some(headers))
}

/// `nats.publish`: `subject`, `data` (maps and lists as JSON), `headers`; with `jetstream:
/// true` the server's ack gives `stream` and `sequence`.
pub async fn publish(
    config: &Map<String, Value>,
    clients: &NatsClients,
) -> Result<ActionOutput, ActionError> {
    let server = Server::parse(config)?;
    let subject = required_text(config, "subject")?;
    let body = payload(config)?;
    let headers = headers(config)?;
    let client = clients.client(&server).await?;
    let mut result = Map::new();
    result.insert("subject".into(), Value::String(subject.clone()));
    if flag(config, "jetstream", false)? {
        let context = jetstream::new(client);
        let ack = match headers {
            Some(headers) => {
                context
                    .publish_with_headers(subject.clone(), headers, body.into())
                    .await
            }
            None => context.publish(subject.clone(), body.into()).await,
        }
        .map_err(|err| server.failed(&format!("JetStream publish to `{subject}` failed"), err))?
        .await
        .map_err(|err| server.failed(&format!("JetStream ack for `{subject}` failed"), err))?;
        result.insert("stream".into(), Value::String(ack.stream));
        result.insert("sequence".into(), Value::from(ack.sequence));
    } else {
        match headers {
            Some(headers) => {
                client
                    .publish_with_headers(subject.clone(), headers, body.into())
                    .await
            }
            None => client.publish(subject.clone(), body.into()).await,
        }
        .map_err(|err| server.failed(&format!("publish to `{subject}` failed"), err))?;
        client
            .flush()
            .await
            .map_err(|err| server.failed("flush failed", err))?;
    }
    result.insert("published".into(), Value::Bool(true));
    Ok(ActionOutput::from_result(result))
}

/// A received message as JSON: `subject`, `data` (parsed when it is JSON), `headers`.
fn message_json(subject: &str, payload: &[u8], headers: Option<&HeaderMap>) -> Value {
    let text = String::from_utf8_lossy(payload).to_string();
    let data = serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text));
    let mut map = Map::new();
    map.insert("subject".into(), Value::String(subject.to_string()));
    map.insert("data".into(), data);
    if let Some(headers) = headers {
        let mut found = Map::new();
        for (name, values) in headers.iter() {
            let joined: Vec<String> = values.iter().map(ToString::to_string).collect();
            found.insert(name.to_string(), Value::String(joined.join(", ")));
        }
        map.insert("headers".into(), Value::Object(found));
    }
    Value::Object(map)
}

/// True when every `match` field equals the same field of the message's JSON data.
fn matches(message: &Value, wanted: &Map<String, Value>) -> bool {
    wanted.iter().all(|(name, value)| {
        let found = message.get("data").and_then(|data| data.get(name));
        match (found, value) {
            (Some(Value::String(a)), Value::String(b)) => a == b,
            (Some(found), Value::String(b)) => &found.to_string() == b,
            (Some(found), value) => found == value,
            (None, _) => false,
        }
    })
}

/// `nats.subscribe`: collects `count` (1) messages on `subject` whose data matches `match`,
/// within `timeout`. Core NATS sees messages sent after the step starts (run it in a `parallel`
/// branch beside the step that causes them); `stream` reads a JetStream stream from its start.
pub async fn subscribe(
    config: &Map<String, Value>,
    clients: &NatsClients,
) -> Result<ActionOutput, ActionError> {
    let server = Server::parse(config)?;
    let subject = required_text(config, "subject")?;
    let wanted = optional_map(config, "match")?.cloned().unwrap_or_default();
    let want = count(config, "count", 1)?.unwrap_or(1);
    let limit = duration(config, "timeout", DEFAULT_TIMEOUT)?;
    let stream_name = optional_text(config, "stream")?;
    let client = clients.client(&server).await?;
    let deadline = Instant::now() + limit;
    let mut found = Vec::new();
    let mut seen = 0u64;
    match stream_name {
        Some(stream_name) => {
            let context = jetstream::new(client);
            let stream = context.get_stream(&stream_name).await.map_err(|err| {
                server.failed(&format!("JetStream stream `{stream_name}` not found"), err)
            })?;
            let consumer = stream
                .create_consumer(jetstream::consumer::pull::OrderedConfig {
                    filter_subject: subject.clone(),
                    deliver_policy: DeliverPolicy::All,
                    ..Default::default()
                })
                .await
                .map_err(|err| server.failed("creating a JetStream consumer failed", err))?;
            let mut messages = consumer
                .messages()
                .await
                .map_err(|err| server.failed("reading the JetStream stream failed", err))?;
            while (found.len() as u64) < want {
                let next = tokio::time::timeout_at(deadline, messages.next()).await;
                let Ok(Some(Ok(message))) = next else {
                    break;
                };
                seen += 1;
                let json =
                    message_json(&message.subject, &message.payload, message.headers.as_ref());
                if matches(&json, &wanted) {
                    found.push(json);
                }
            }
        }
        None => {
            let mut subscriber = client
                .subscribe(subject.clone())
                .await
                .map_err(|err| server.failed(&format!("subscribe to `{subject}` failed"), err))?;
            while (found.len() as u64) < want {
                let Ok(Some(message)) = tokio::time::timeout_at(deadline, subscriber.next()).await
                else {
                    break;
                };
                seen += 1;
                let json =
                    message_json(&message.subject, &message.payload, message.headers.as_ref());
                if matches(&json, &wanted) {
                    found.push(json);
                }
            }
            let _ = subscriber.unsubscribe().await;
        }
    }
    if (found.len() as u64) < want {
        let source = format!("NATS subject `{subject}` on {}", server.address);
        return Err(received::too_few(
            &source,
            found.len(),
            want,
            &received::matching(wanted),
            limit,
            seen,
            &[],
        ));
    }
    Ok(received::result(found))
}
