//! `kafka_producer`: writes one message (`key`, `value`, `headers`, `partition`) or a batch
//! (`messages`, each with those keys) to a topic and answers where the broker stored them.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use rskafka::client::partition::UnknownTopicHandling;
use rskafka::record::Record;
use serde_json::{Map, Value};
use tokio::time::Instant;

use super::super::fields::{duration, required_text};
use super::super::{ActionError, ActionOutput};
use super::partitioner::partition_for;
use super::settings::{compression, parse_partition};
use super::{Cluster, KafkaClients, topic_partitions};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The keys one message of `messages` reads.
const MESSAGE_KEYS: &[&str] = &["key", "value", "headers", "partition"];

/// One message to send, with the partition it was asked for.
struct Outgoing {
    record: Record,
    partition: Option<i32>,
}

/// Text as is; other values as JSON.
fn bytes_of(value: &Value) -> Vec<u8> {
    match value {
        Value::String(text) => text.clone().into_bytes(),
        other => other.to_string().into_bytes(),
    }
}

/// One message from a map with `key`, `value` (null sends a tombstone), `headers`, `partition`;
/// `at` names where it was written for errors (`value`, `messages[2]`).
fn outgoing(map: &Map<String, Value>, at: &str) -> Result<Outgoing, ActionError> {
    let headers = match map.get("headers") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(headers)) => headers
            .iter()
            .map(|(name, value)| (name.clone(), bytes_of(value)))
            .collect(),
        Some(other) => {
            return Err(ActionError::invalid(
                format!("{at}headers"),
                format!("expected a map of header names to values, found {other}"),
            ));
        }
    };
    let partition = match map.get("partition") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            parse_partition(value)
                .map_err(|message| ActionError::invalid(format!("{at}partition"), message))?,
        ),
    };
    Ok(Outgoing {
        record: Record {
            key: map.get("key").filter(|v| !v.is_null()).map(bytes_of),
            value: map.get("value").filter(|v| !v.is_null()).map(bytes_of),
            headers,
            timestamp: Utc::now(),
        },
        partition,
    })
}

/// The messages a step sends: `messages`, or the one its own keys describe.
fn messages(config: &Map<String, Value>) -> Result<Vec<Outgoing>, ActionError> {
    let Some(list) = config.get("messages").filter(|v| !v.is_null()) else {
        if !config.contains_key("value") {
            return Err(ActionError::invalid(
                "value",
                "is required (or `messages`): the message to send; null sends a tombstone",
            ));
        }
        return Ok(vec![outgoing(config, "")?]);
    };
    if let Some(problem) = messages_problem(list) {
        return Err(ActionError::invalid("messages", problem));
    }
    let Value::Array(items) = list else {
        return Err(ActionError::invalid("messages", "expected a list"));
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| match item {
            Value::Object(map) => outgoing(map, &format!("messages[{index}].")),
            _ => Err(ActionError::invalid(
                format!("messages[{index}]"),
                "expected a map",
            )),
        })
        .collect()
}

/// Why a literally written `messages` list cannot be sent, for the validator and the step.
pub fn messages_problem(list: &Value) -> Option<String> {
    let Value::Array(items) = list else {
        return Some(format!("expected a list of messages, found {list}"));
    };
    if items.is_empty() {
        return Some("is empty: list at least one message".into());
    }
    items.iter().enumerate().find_map(|(index, item)| {
        let Value::Object(map) = item else {
            return Some(format!(
                "messages[{index}]: expected a map with {}, found {item}",
                MESSAGE_KEYS.join(", ")
            ));
        };
        let unknown = map
            .keys()
            .find(|key| !MESSAGE_KEYS.contains(&key.as_str()))?;
        let hint = crate::flow::diagnostic::did_you_mean(unknown, MESSAGE_KEYS.iter().copied())
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        Some(format!(
            "messages[{index}]: unknown key `{unknown}`{hint}; a message reads {}",
            MESSAGE_KEYS.join(", ")
        ))
    })
}

/// `kafka_producer`: sends the messages, each to its `partition`, or the one its key hashes to
/// (as Kafka's Java client would), or partition 0. Answers `partition` and `offset` of the
/// first, `partitions` and `offsets` of all in order, `count` and `duration_ms`.
pub async fn produce(
    config: &Map<String, Value>,
    clients: &KafkaClients,
) -> Result<ActionOutput, ActionError> {
    let cluster = Cluster::parse(config)?;
    let topic = required_text(config, "topic")?;
    let compression = compression(config)?;
    let limit = duration(config, "timeout", DEFAULT_TIMEOUT)?;
    let outgoing = messages(config)?;
    let started = Instant::now();
    let sending = async {
        let client = clients.client(&cluster, limit).await?;
        let count = if outgoing.iter().any(|m| m.partition.is_none()) {
            topic_partitions(&client, &cluster, &topic).await?.len()
        } else {
            0
        };
        let targets: Vec<i32> = outgoing
            .iter()
            .map(|m| {
                m.partition
                    .unwrap_or_else(|| partition_for(m.record.key.as_deref(), count))
            })
            .collect();
        let mut by_partition: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
        for (index, partition) in targets.iter().enumerate() {
            by_partition.entry(*partition).or_default().push(index);
        }
        let mut offsets = vec![0i64; outgoing.len()];
        for (partition, indexes) in by_partition {
            let doing = format!("produce to `{topic}` partition {partition} failed");
            let writer = client
                .partition_client(topic.clone(), partition, UnknownTopicHandling::Error)
                .await
                .map_err(|err| cluster.failed(&doing, &err))?;
            let records = indexes
                .iter()
                .map(|i| outgoing[*i].record.clone())
                .collect();
            let stored = writer
                .produce(records, compression)
                .await
                .map_err(|err| cluster.failed(&doing, &err))?;
            for (index, offset) in indexes.into_iter().zip(stored) {
                offsets[index] = offset;
            }
        }
        Ok::<_, ActionError>((targets, offsets))
    };
    let (partitions, offsets) = tokio::time::timeout(limit, sending).await.map_err(|_| {
        ActionError::Failed(format!(
            "Kafka produce to `{topic}` at {} did not finish within {}",
            cluster.address(),
            humantime::format_duration(limit)
        ))
    })??;
    let mut result = Map::new();
    result.insert("topic".into(), Value::String(topic));
    result.insert("partition".into(), Value::from(partitions[0]));
    result.insert("offset".into(), Value::from(offsets[0]));
    result.insert("partitions".into(), Value::from(partitions));
    result.insert("offsets".into(), Value::from(offsets.clone()));
    result.insert("count".into(), Value::from(offsets.len()));
    result.insert(
        "duration_ms".into(),
        Value::from(started.elapsed().as_millis() as u64),
    );
    Ok(ActionOutput::from_result(result))
}
