//! AMQP 0-9-1 (RabbitMQ): `amqp.publish` sends a message to an exchange or straight to a queue
//! with publisher confirms; `amqp.consume` takes messages from a queue until `count` matching
//! ones arrive or `timeout` runs out (every message read is acknowledged, matching or not).
//! One connection and channel per server URL per run.

use std::collections::HashMap;
use std::time::Duration;

use lapin::options::{
    BasicAckOptions, BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use serde_json::{Map, Value};
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

use super::fields::{count, duration, flag, optional_map, optional_text};
use super::{ActionError, ActionOutput, received};

const DEFAULT_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// The AMQP connections of one run, by URL, each with one confirming channel.
#[derive(Default)]
pub struct AmqpClients {
    channels: Mutex<HashMap<String, (Connection, Channel)>>,
}

/// A broker as a step names it, with the password masked for messages.
struct Broker {
    url: String,
    masked: String,
    address: String,
}

impl Broker {
    fn parse(config: &Map<String, Value>) -> Result<Self, ActionError> {
        let url = optional_text(config, "url")?.unwrap_or_else(|| DEFAULT_URL.into());
        let parsed = Url::parse(&url)
            .map_err(|err| ActionError::invalid("url", format!("{url:?}: {err}")))?;
        if !matches!(parsed.scheme(), "amqp" | "amqps") {
            return Err(ActionError::invalid(
                "url",
                format!(
                    "unsupported scheme `{}://`: use amqp:// or amqps://",
                    parsed.scheme()
                ),
            ));
        }
        let mut masked = parsed.clone();
        if masked.password().is_some() {
            let _ = masked.set_password(Some("***"));
        }
        let default_port = if parsed.scheme() == "amqps" {
            5671
        } else {
            5672
        };
        Ok(Self {
            address: format!(
                "{}:{}",
                parsed.host_str().unwrap_or("127.0.0.1"),
                parsed.port().unwrap_or(default_port)
            ),
            masked: masked.to_string(),
            url,
        })
    }

    fn failed(&self, doing: &str, err: impl std::fmt::Display) -> ActionError {
        ActionError::Failed(format!(
            "AMQP {doing} at {} ({}): {err}",
            self.address, self.masked
        ))
    }
}

impl AmqpClients {
    async fn channel(&self, broker: &Broker) -> Result<Channel, ActionError> {
        let mut channels = self.channels.lock().await;
        if let Some((_, channel)) = channels.get(&broker.url) {
            return Ok(channel.clone());
        }
        let connecting = Connection::connect(&broker.url, ConnectionProperties::default());
        let connection = tokio::time::timeout(CONNECT_TIMEOUT, connecting)
            .await
            .map_err(|_| broker.failed("connection", "no answer"))?
            .map_err(|err| broker.failed("connection failed", err))?;
        let channel = connection
            .create_channel()
            .await
            .map_err(|err| broker.failed("opening a channel failed", err))?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|err| broker.failed("enabling publisher confirms failed", err))?;
        channels.insert(broker.url.clone(), (connection, channel.clone()));
        Ok(channel)
    }

    /// Closes every connection; called when the run ends.
    pub async fn close_all(&self) {
        let open: Vec<(Connection, Channel)> =
            self.channels.lock().await.drain().map(|(_, c)| c).collect();
        for (connection, _) in open {
            let closing = connection.close(200, "run finished".into());
            let _ = tokio::time::timeout(Duration::from_secs(1), closing).await;
        }
    }
}

/// Declares `queue` (durable unless told otherwise) so publishing to it cannot lose messages.
async fn declare(
    channel: &Channel,
    broker: &Broker,
    queue: &str,
    config: &Map<String, Value>,
) -> Result<(), ActionError> {
    let options = QueueDeclareOptions {
        durable: flag(config, "durable", true)?,
        ..QueueDeclareOptions::default()
    };
    channel
        .queue_declare(queue.into(), options, FieldTable::default())
        .await
        .map_err(|err| broker.failed(&format!("declaring queue `{queue}` failed"), err))?;
    Ok(())
}

/// `amqp.publish`: `exchange` + `routing_key`, or `queue` (declared, then sent to through the
/// default exchange); `data` (maps and lists as JSON), `headers`, `content_type`. The broker
/// confirms each message.
pub async fn publish(
    config: &Map<String, Value>,
    clients: &AmqpClients,
) -> Result<ActionOutput, ActionError> {
    let broker = Broker::parse(config)?;
    let exchange = optional_text(config, "exchange")?.unwrap_or_default();
    let queue = optional_text(config, "queue")?;
    let routing_key = match (optional_text(config, "routing_key")?, &queue) {
        (Some(key), _) => key,
        (None, Some(queue)) => queue.clone(),
        (None, None) => {
            return Err(ActionError::invalid(
                "routing_key",
                "set `queue`, or `exchange` and `routing_key`",
            ));
        }
    };
    let (body, json) = match ["data", "payload", "message", "body"]
        .into_iter()
        .find_map(|key| config.get(key))
    {
        Some(Value::String(text)) => (text.clone().into_bytes(), false),
        Some(other) => (other.to_string().into_bytes(), true),
        None => {
            return Err(ActionError::invalid(
                "data",
                "is required: the message to publish",
            ));
        }
    };
    let channel = clients.channel(&broker).await?;
    if let Some(queue) = &queue
        && exchange.is_empty()
    {
        declare(&channel, &broker, queue, config).await?;
    }
    let mut properties = BasicProperties::default().with_delivery_mode(2);
    let content_type = optional_text(config, "content_type")?
        .or_else(|| json.then(|| "application/json".to_string()));
    if let Some(content_type) = content_type {
        properties = properties.with_content_type(content_type.into());
    }
    if let Some(headers) = optional_map(config, "headers")? {
        let mut table = FieldTable::default();
        for (name, value) in headers {
            let text = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            table.insert(name.as_str().into(), AMQPValue::LongString(text.into()));
        }
        properties = properties.with_headers(table);
    }
    let confirm = channel
        .basic_publish(
            exchange.as_str().into(),
            routing_key.as_str().into(),
            BasicPublishOptions::default(),
            &body,
            properties,
        )
        .await
        .map_err(|err| broker.failed(&format!("publish to `{routing_key}` failed"), err))?
        .await
        .map_err(|err| broker.failed(&format!("confirm for `{routing_key}` failed"), err))?;
    let mut result = Map::new();
    result.insert("exchange".into(), Value::String(exchange));
    result.insert("routing_key".into(), Value::String(routing_key));
    result.insert("confirmed".into(), Value::Bool(confirm.is_ack()));
    Ok(ActionOutput::from_result(result))
}

/// True when every `match` field equals the same field of the message's JSON data.
fn matches(data: &Value, wanted: &Map<String, Value>) -> bool {
    wanted
        .iter()
        .all(|(name, value)| match (data.get(name), value) {
            (Some(Value::String(a)), Value::String(b)) => a == b,
            (Some(found), Value::String(b)) => &found.to_string() == b,
            (Some(found), value) => found == value,
            (None, _) => false,
        })
}

/// `amqp.consume`: reads `queue` until `count` (1) messages whose JSON data matches `match`
/// arrive, or `timeout` (10s) runs out. Results: `messages`, `message`, `data`, `count`.
pub async fn consume(
    config: &Map<String, Value>,
    clients: &AmqpClients,
) -> Result<ActionOutput, ActionError> {
    let broker = Broker::parse(config)?;
    let Some(queue) = optional_text(config, "queue")? else {
        return Err(ActionError::invalid("queue", "is required"));
    };
    let wanted = optional_map(config, "match")?.cloned().unwrap_or_default();
    let want = count(config, "count", 1)?.unwrap_or(1);
    let limit = duration(config, "timeout", DEFAULT_TIMEOUT)?;
    let channel = clients.channel(&broker).await?;
    declare(&channel, &broker, &queue, config).await?;
    let started = Instant::now();
    let mut found = Vec::new();
    let mut seen = 0u64;
    while (found.len() as u64) < want {
        let got = channel
            .basic_get(queue.as_str().into(), BasicGetOptions::default())
            .await
            .map_err(|err| broker.failed(&format!("reading queue `{queue}` failed"), err))?;
        let Some(message) = got else {
            if started.elapsed() >= limit {
                break;
            }
            tokio::time::sleep(POLL_INTERVAL).await;
            continue;
        };
        seen += 1;
        let delivery = message.delivery;
        delivery
            .ack(BasicAckOptions::default())
            .await
            .map_err(|err| broker.failed("acknowledging a message failed", err))?;
        let text = String::from_utf8_lossy(&delivery.data).to_string();
        let data = serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text));
        if !matches(&data, &wanted) {
            continue;
        }
        let mut entry = Map::new();
        entry.insert(
            "routing_key".into(),
            Value::String(delivery.routing_key.to_string()),
        );
        entry.insert(
            "exchange".into(),
            Value::String(delivery.exchange.to_string()),
        );
        entry.insert("data".into(), data);
        if let Some(headers) = delivery.properties.headers() {
            let mut map = Map::new();
            for (name, value) in headers {
                let text = match value {
                    AMQPValue::LongString(text) => text.to_string(),
                    other => format!("{other:?}"),
                };
                map.insert(name.to_string(), Value::String(text));
            }
            entry.insert("headers".into(), Value::Object(map));
        }
        found.push(Value::Object(entry));
    }
    if (found.len() as u64) < want {
        let source = format!("AMQP queue `{queue}` on {}", broker.address);
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
