//! Redis Streams: `redis.xadd` appends an entry; `redis.xread` reads a stream from `from`
//! (default the start) until an entry whose fields match `match` arrives, or `timeout` runs
//! out. Reads block on a connection of their own so other steps are not held up.

use std::time::Duration;

use serde_json::{Map, Value};
use tokio::time::Instant;

use super::convert::{argument, key_text, to_json};
use super::{RedisClients, Target, output, send};
use crate::engine::actions::fields::{count, duration, optional_map, optional_text, required_text};
use crate::engine::actions::{ActionError, ActionOutput};

const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest single XREAD BLOCK, so the timeout is checked between reads.
const BLOCK_SLICE: Duration = Duration::from_millis(500);

/// `redis.xadd`: appends `fields` to `stream` (id `*` unless given; `maxlen` trims); `id`.
pub async fn xadd(
    config: &Map<String, Value>,
    clients: &RedisClients,
) -> Result<ActionOutput, ActionError> {
    let target = Target::parse(config)?;
    let stream = required_text(config, "stream")?;
    let Some(fields) = optional_map(config, "fields")?.filter(|f| !f.is_empty()) else {
        return Err(ActionError::invalid(
            "fields",
            "is required: a map of field: value",
        ));
    };
    let id = optional_text(config, "id")?.unwrap_or_else(|| "*".into());
    let mut command = redis::cmd("XADD");
    command.arg(&stream);
    if let Some(maxlen) = count(config, "maxlen", 1)? {
        command.arg("MAXLEN").arg("~").arg(maxlen);
    }
    command.arg(&id);
    for (name, value) in fields {
        command.arg(name).arg(argument(value));
    }
    let reply = send(clients, &target, &command, "XADD").await?;
    let mut result = Map::new();
    result.insert("id".into(), to_json(&reply));
    result.insert("stream".into(), Value::String(stream.clone()));
    let mut request = Map::new();
    request.insert("stream".into(), Value::String(stream));
    request.insert("fields".into(), Value::Object(fields.clone()));
    Ok(output(&target, request, result))
}

/// One stream entry.
struct Entry {
    id: String,
    fields: Map<String, Value>,
}

impl Entry {
    /// True when every `match` field is present with the same text.
    fn matches(&self, wanted: &Map<String, Value>) -> bool {
        wanted.iter().all(|(name, value)| {
            self.fields
                .get(name)
                .is_some_and(|found| argument(found) == argument(value))
        })
    }

    fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("id".into(), Value::String(self.id.clone()));
        map.insert("fields".into(), Value::Object(self.fields.clone()));
        Value::Object(map)
    }
}

/// `redis.xread`: the first entry after `from` whose fields match; `entry`, `id`, `fields`,
/// and `entries_seen`.
pub async fn xread(
    config: &Map<String, Value>,
    clients: &RedisClients,
) -> Result<ActionOutput, ActionError> {
    let target = Target::parse(config)?;
    let stream = required_text(config, "stream")?;
    let wanted = optional_map(config, "match")?.cloned().unwrap_or_default();
    let mut last_id = optional_text(config, "from")?.unwrap_or_else(|| "0".into());
    let limit = duration(config, "timeout", DEFAULT_READ_TIMEOUT)?;
    let batch = count(config, "count", 1)?.unwrap_or(100);
    let mut connection = clients
        .dedicated(&target, limit + BLOCK_SLICE + Duration::from_secs(5))
        .await?;
    let started = Instant::now();
    let mut seen = 0u64;
    loop {
        let left = limit.saturating_sub(started.elapsed());
        let block = left.min(BLOCK_SLICE).max(Duration::from_millis(1));
        let reply: redis::Value = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(batch)
            .arg("BLOCK")
            .arg(u64::try_from(block.as_millis()).unwrap_or(1))
            .arg("STREAMS")
            .arg(&stream)
            .arg(&last_id)
            .query_async(&mut connection)
            .await
            .map_err(|err| target.command_failed("XREAD", &err))?;
        for entry in entries_of(&reply) {
            seen += 1;
            last_id = entry.id.clone();
            if entry.matches(&wanted) {
                let mut result = Map::new();
                result.insert("entry".into(), entry.to_json());
                result.insert("id".into(), Value::String(entry.id.clone()));
                result.insert("fields".into(), Value::Object(entry.fields.clone()));
                result.insert("entries_seen".into(), Value::from(seen));
                let mut request = Map::new();
                request.insert("stream".into(), Value::String(stream));
                request.insert("match".into(), Value::Object(wanted));
                return Ok(output(&target, request, result));
            }
        }
        if started.elapsed() >= limit {
            let what = if wanted.is_empty() {
                "no entry arrived".to_string()
            } else {
                format!("no entry matching {} arrived", Value::Object(wanted))
            };
            return Err(ActionError::Failed(format!(
                "stream `{stream}` on {}: {what} within {} ({seen} entries read)",
                target.address,
                humantime::format_duration(limit)
            )));
        }
    }
}

/// The entries of an XREAD reply (RESP2 arrays or RESP3 maps).
fn entries_of(reply: &redis::Value) -> Vec<Entry> {
    let streams: Vec<&redis::Value> = match reply {
        redis::Value::Array(items) => items
            .iter()
            .filter_map(|item| match item {
                redis::Value::Array(pair) if pair.len() == 2 => Some(&pair[1]),
                _ => None,
            })
            .collect(),
        redis::Value::Map(pairs) => pairs.iter().map(|(_, entries)| entries).collect(),
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for entries in streams {
        let redis::Value::Array(entries) = entries else {
            continue;
        };
        for entry in entries {
            let redis::Value::Array(parts) = entry else {
                continue;
            };
            let [id, redis::Value::Array(flat), ..] = parts.as_slice() else {
                continue;
            };
            let mut fields = Map::new();
            for pair in flat.chunks(2) {
                if let [name, value] = pair {
                    fields.insert(key_text(name), to_json(value));
                }
            }
            out.push(Entry {
                id: key_text(id),
                fields,
            });
        }
    }
    out
}
