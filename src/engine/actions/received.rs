//! What the consuming messaging actions (`nats.subscribe`, `amqp.consume`, `websocket`) share:
//! the error when too few matching messages arrived, and the result built from those that did.

use std::time::Duration;

use serde_json::{Map, Value};

use super::{ActionError, ActionOutput};

/// The error for `source` (e.g. "NATS subject `orders` on 127.0.0.1:4222") when fewer than
/// `want` messages matching `wanted` arrived within `limit` (`seen` were read in all).
pub fn too_few(
    source: &str,
    found: usize,
    want: u64,
    wanted: Map<String, Value>,
    limit: Duration,
    seen: u64,
) -> ActionError {
    let filter = if wanted.is_empty() {
        String::new()
    } else {
        format!(" matching {}", Value::Object(wanted))
    };
    ActionError::Failed(shortfall(source, found, want, &filter, limit, seen))
}

/// The text of that error, for a `filter` described in words (` matching …`, or empty).
pub fn shortfall(
    source: &str,
    found: usize,
    want: u64,
    filter: &str,
    limit: Duration,
    seen: u64,
) -> String {
    format!(
        "{source}: {found} of {want} messages{filter} arrived within {} ({seen} read)",
        humantime::format_duration(limit)
    )
}

/// `count`, `messages`, and the first one as `message` with its `data`.
pub fn result(found: Vec<Value>) -> ActionOutput {
    let mut result = Map::new();
    result.insert("count".into(), Value::from(found.len()));
    if let Some(first) = found.first() {
        result.insert("message".into(), first.clone());
        result.insert(
            "data".into(),
            first.get("data").cloned().unwrap_or(Value::Null),
        );
    }
    result.insert("messages".into(), Value::Array(found));
    ActionOutput::from_result(result)
}
