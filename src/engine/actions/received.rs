//! What the consuming messaging actions (`nats.subscribe`, `amqp.consume`, `kafka_consumer`,
//! `websocket`) share: the error when too few matching messages arrived, and the result built
//! from those that did.

use std::time::Duration;

use serde_json::{Map, Value};

use super::{ActionError, ActionOutput};

/// The error for `source` (e.g. "NATS subject `orders` on 127.0.0.1:4222") when fewer than
/// `want` messages passing `filter` (" matching …", or empty) arrived within `limit` (`seen`
/// were read in all); `recent` are the last ones read, shown so the author sees what did come.
pub fn too_few(
    source: &str,
    found: usize,
    want: u64,
    filter: &str,
    limit: Duration,
    seen: u64,
    recent: &[Value],
) -> ActionError {
    ActionError::Failed(shortfall(source, found, want, filter, limit, seen, recent))
}

/// The text of that error, for actions that add their own details to it.
pub fn shortfall(
    source: &str,
    found: usize,
    want: u64,
    filter: &str,
    limit: Duration,
    seen: u64,
    recent: &[Value],
) -> String {
    let recent = if recent.is_empty() {
        String::new()
    } else {
        let shown: Vec<String> = recent.iter().map(Value::to_string).collect();
        format!("; the last {} read: {}", recent.len(), shown.join(", "))
    };
    format!(
        "{source}: {found} of {want} messages{filter} arrived within {} ({seen} read){recent}",
        humantime::format_duration(limit)
    )
}

/// The filter text of a `match` map, for [`too_few`]: empty when nothing is filtered.
pub fn matching(wanted: Map<String, Value>) -> String {
    if wanted.is_empty() {
        String::new()
    } else {
        format!(" matching {}", Value::Object(wanted))
    }
}

/// `count`, `messages`, and the first one as `message` with its `data`.
pub fn result(found: Vec<Value>) -> ActionOutput {
    let mut result = Map::new();
    result.insert("count".into(), Value::from(found.len()));
    if let Some(first) = found.first() {
        result.insert("message".into(), first.clone());
        if let Some(data) = first.get("data") {
            result.insert("data".into(), data.clone());
        }
    }
    result.insert("messages".into(), Value::Array(found));
    ActionOutput::from_result(result)
}
