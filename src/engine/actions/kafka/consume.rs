//! `kafka_consumer`: reads a topic's partitions from a starting point until `count` messages
//! pass the `until` matcher or `timeout` runs out. The runner supplies the matcher (an
//! expression over each message, which also sees the flow's variables).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use rskafka::client::partition::{OffsetAt, PartitionClient, UnknownTopicHandling};
use rskafka::record::RecordAndOffset;
use serde_json::{Map, Value};
use tokio::time::Instant;

use super::super::fields::{count, duration, required_text};
use super::super::{ActionError, ActionOutput, received};
use super::settings::{Start, partitions, start};
use super::{Cluster, KafkaClients, topic_partitions};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// How many of the last messages read a timeout error shows.
const RECENT_SHOWN: usize = 3;
/// The most one fetch asks a broker to wait for new messages.
const FETCH_WAIT: Duration = Duration::from_millis(500);
/// The most one fetch asks for.
const FETCH_BYTES: i32 = 4 * 1024 * 1024;

/// Decides, for each message read, whether it is one the step waits for.
pub type Matcher<'a> = dyn FnMut(&Map<String, Value>) -> Result<bool, String> + Send + 'a;

/// One partition being read, and the next offset to read from it.
struct Reader {
    client: PartitionClient,
    next: i64,
}

/// A message as steps and matchers see it: `topic`, `partition`, `offset`, `timestamp`, `key`,
/// `value` (parsed when it is JSON; null for a tombstone) and `headers`.
fn message_json(topic: &str, partition: i32, read: &RecordAndOffset) -> Map<String, Value> {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let record = &read.record;
    let value = match &record.value {
        None => Value::Null,
        Some(bytes) => {
            let text = text(bytes);
            serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text))
        }
    };
    let headers: Map<String, Value> = record
        .headers
        .iter()
        .map(|(name, bytes)| (name.clone(), Value::String(text(bytes))))
        .collect();
    let mut map = Map::new();
    map.insert("topic".into(), Value::String(topic.to_string()));
    map.insert("partition".into(), Value::from(partition));
    map.insert("offset".into(), Value::from(read.offset));
    map.insert(
        "timestamp".into(),
        Value::String(record.timestamp.to_rfc3339()),
    );
    map.insert(
        "key".into(),
        record
            .key
            .as_deref()
            .map_or(Value::Null, |key| Value::String(text(key))),
    );
    map.insert("value".into(), value);
    map.insert("headers".into(), Value::Object(headers));
    map
}

impl Reader {
    async fn open(
        client: &rskafka::client::Client,
        cluster: &Cluster,
        topic: &str,
        partition: i32,
        from: Start,
        run_started: chrono::DateTime<chrono::Utc>,
    ) -> Result<Self, ActionError> {
        let doing = format!("reading `{topic}` partition {partition} failed");
        let client = client
            .partition_client(topic.to_string(), partition, UnknownTopicHandling::Error)
            .await
            .map_err(|err| cluster.failed(&doing, &err))?;
        let offset_at = |at| {
            let client = &client;
            let doing = &doing;
            async move {
                client
                    .get_offset(at)
                    .await
                    .map_err(|err| cluster.failed(doing, &err))
            }
        };
        let next = match from {
            Start::Offset(offset) => offset,
            Start::Earliest => offset_at(OffsetAt::Earliest).await?,
            Start::Latest => offset_at(OffsetAt::Latest).await?,
            Start::RunStart => match offset_at(OffsetAt::Timestamp(run_started)).await? {
                // No message is that new: start at the end.
                offset if offset < 0 => offset_at(OffsetAt::Latest).await?,
                offset => offset,
            },
        };
        Ok(Self { client, next })
    }
}

/// `kafka_consumer`: `topic`, `partition(s)` (every one by default), `from`, `count` (1),
/// `timeout`; `matches` is the step's `until`. Answers `messages`, the first as `message` (with
/// its `key` and `value` beside it) and `count`.
pub async fn consume(
    config: &Map<String, Value>,
    clients: &KafkaClients,
    until: Option<&str>,
    matches: &mut Matcher<'_>,
) -> Result<ActionOutput, ActionError> {
    let cluster = Cluster::parse(config)?;
    let topic = required_text(config, "topic")?;
    let wanted_partitions = partitions(config)?;
    let from = start(config)?;
    let want = count(config, "count", 1)?.unwrap_or(1);
    let limit = duration(config, "timeout", DEFAULT_TIMEOUT)?;
    let deadline = Instant::now() + limit;
    let client: Arc<_> = clients.client(&cluster, limit).await?;
    let partitions = if wanted_partitions.is_empty() {
        topic_partitions(&client, &cluster, &topic).await?
    } else {
        wanted_partitions
    };
    let mut readers = Vec::with_capacity(partitions.len());
    for partition in partitions {
        let opening = Reader::open(
            &client,
            &cluster,
            &topic,
            partition,
            from,
            clients.run_started(),
        );
        let reader = tokio::time::timeout_at(deadline, opening)
            .await
            .map_err(|_| {
                ActionError::Failed(format!(
                    "Kafka at {}: finding where to start `{topic}` partition {partition} took longer than {}",
                    cluster.address(),
                    humantime::format_duration(limit)
                ))
            })??;
        readers.push((partition, reader));
    }
    let wait = if readers.len() > 1 {
        FETCH_WAIT / 5
    } else {
        FETCH_WAIT
    };
    let mut found = Vec::new();
    let mut recent: VecDeque<Value> = VecDeque::with_capacity(RECENT_SHOWN);
    let mut seen = 0u64;
    'reading: while (found.len() as u64) < want && Instant::now() < deadline {
        for (partition, reader) in &mut readers {
            let left = deadline.saturating_duration_since(Instant::now());
            let wait_ms = wait.min(left).as_millis().max(1) as i32;
            let fetching = reader
                .client
                .fetch_records(reader.next, 1..FETCH_BYTES, wait_ms);
            let Ok(fetched) = tokio::time::timeout_at(deadline, fetching).await else {
                break 'reading;
            };
            let (records, _high_watermark) = fetched.map_err(|err| {
                cluster.failed(
                    &format!("reading `{topic}` partition {partition} failed"),
                    &err,
                )
            })?;
            for read in records {
                reader.next = reader.next.max(read.offset + 1);
                seen += 1;
                let message = message_json(&topic, *partition, &read);
                let matched =
                    matches(&message).map_err(|err| ActionError::invalid("until", err))?;
                if recent.len() == RECENT_SHOWN {
                    recent.pop_front();
                }
                recent.push_back(Value::Object(message.clone()));
                if matched {
                    found.push(Value::Object(message));
                    if (found.len() as u64) == want {
                        break 'reading;
                    }
                }
            }
        }
    }
    if (found.len() as u64) < want {
        let source = format!("Kafka topic `{topic}` at {}", cluster.address());
        let filter = until.map(|expression| format!(" matching `{expression}`"));
        let recent: Vec<Value> = recent.into();
        return Err(received::too_few(
            &source,
            found.len(),
            want,
            filter.as_deref().unwrap_or_default(),
            limit,
            seen,
            &recent,
        ));
    }
    let mut output = received::result(found);
    let first = output.result.get("message").cloned();
    if let Some(first) = first {
        for field in ["key", "value"] {
            let value = first.get(field).cloned().unwrap_or(Value::Null);
            output.result.insert(field.into(), value);
        }
    }
    Ok(output)
}
