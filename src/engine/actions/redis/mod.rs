//! The Redis actions: `redis.get`, `redis.set`, `redis.del`, `redis.exists`, the generic
//! `redis.command`, and the stream actions `redis.xadd` and `redis.xread` (waits until a
//! matching entry arrives). Each step names its server (see [`connection`]); replies are JSON.

mod connection;
mod convert;
mod streams;

use std::time::Duration;

use serde_json::{Map, Value};

use super::fields::{duration, flag, list, required_text};
use super::{ActionError, ActionOutput};
pub use connection::{RedisClients, Target};
use convert::{argument, to_json};
pub use streams::{xadd, xread};

/// Runs one command on the shared connection and returns its reply.
async fn send(
    clients: &RedisClients,
    target: &Target,
    command: &redis::Cmd,
    label: &str,
) -> Result<redis::Value, ActionError> {
    let mut connection = clients.shared(target).await?;
    command
        .query_async::<redis::Value>(&mut connection)
        .await
        .map_err(|err| target.command_failed(label, &err))
}

fn output(
    target: &Target,
    request: Map<String, Value>,
    result: Map<String, Value>,
) -> ActionOutput {
    let mut request = request;
    request.insert("server".into(), Value::String(target.masked.clone()));
    ActionOutput::with_request(result, Value::Object(request))
}

fn keyed(key: &str) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("key".into(), Value::String(key.to_string()));
    map
}

/// `redis.get`: `value` (null when the key is missing; a stored JSON object or list parsed),
/// `text` (the stored text as it is) and `exists`.
pub async fn get(
    config: &Map<String, Value>,
    clients: &RedisClients,
) -> Result<ActionOutput, ActionError> {
    let target = Target::parse(config)?;
    let key = required_text(config, "key")?;
    let reply = send(clients, &target, redis::cmd("GET").arg(&key), "GET").await?;
    let text = to_json(&reply);
    let mut result = keyed(&key);
    result.insert("exists".into(), Value::Bool(!text.is_null()));
    result.insert(
        "value".into(),
        structured(&text).unwrap_or_else(|| text.clone()),
    );
    result.insert("text".into(), text);
    Ok(output(&target, keyed(&key), result))
}

/// A stored JSON object or array (what `redis.set` writes for a map or list), parsed; other
/// text stays text, so `"42"` is not turned into a number behind the user's back.
fn structured(text: &Value) -> Option<Value> {
    let text = text.as_str()?.trim_start();
    if !(text.starts_with('{') || text.starts_with('[')) {
        return None;
    }
    serde_json::from_str(text).ok()
}

/// `redis.set`: stores `value` (maps and lists as JSON text), with an optional `ttl`.
pub async fn set(
    config: &Map<String, Value>,
    clients: &RedisClients,
) -> Result<ActionOutput, ActionError> {
    let target = Target::parse(config)?;
    let key = required_text(config, "key")?;
    let value = match config.get("value") {
        None | Some(Value::Null) => return Err(ActionError::invalid("value", "is required")),
        Some(value) => argument(value),
    };
    let mut command = redis::cmd("SET");
    command.arg(&key).arg(&value);
    let ttl = duration(config, "ttl", Duration::ZERO)?;
    if !ttl.is_zero() {
        command
            .arg("PX")
            .arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX));
    }
    if flag(config, "nx", false)? {
        command.arg("NX");
    }
    let reply = send(clients, &target, &command, "SET").await?;
    let mut result = keyed(&key);
    result.insert(
        "ok".into(),
        Value::Bool(!matches!(reply, redis::Value::Nil)),
    );
    result.insert("value".into(), Value::String(value));
    Ok(output(&target, keyed(&key), result))
}

/// The `key` or `keys` of a step, as a non-empty list.
fn keys_of(config: &Map<String, Value>) -> Result<Vec<String>, ActionError> {
    let mut keys: Vec<String> = list(config, "keys").iter().map(argument).collect();
    if let Some(Value::String(key)) = config.get("key") {
        keys.insert(0, key.clone());
    }
    if keys.is_empty() {
        return Err(ActionError::invalid(
            "key",
            "is required (or `keys`, a list)",
        ));
    }
    Ok(keys)
}

/// `redis.del`: deletes `key` (or `keys`); `deleted` counts the keys that were there.
pub async fn del(
    config: &Map<String, Value>,
    clients: &RedisClients,
) -> Result<ActionOutput, ActionError> {
    let target = Target::parse(config)?;
    let keys = keys_of(config)?;
    let reply = send(clients, &target, redis::cmd("DEL").arg(&keys), "DEL").await?;
    let mut result = Map::new();
    result.insert("deleted".into(), to_json(&reply));
    result.insert("keys".into(), Value::from(keys.clone()));
    let mut request = Map::new();
    request.insert("keys".into(), Value::from(keys));
    Ok(output(&target, request, result))
}

/// `redis.exists`: `exists` is true when every key is there; `count` says how many are.
pub async fn exists(
    config: &Map<String, Value>,
    clients: &RedisClients,
) -> Result<ActionOutput, ActionError> {
    let target = Target::parse(config)?;
    let keys = keys_of(config)?;
    let reply = send(clients, &target, redis::cmd("EXISTS").arg(&keys), "EXISTS").await?;
    let found = match reply {
        redis::Value::Int(n) => n,
        _ => 0,
    };
    let mut result = Map::new();
    result.insert("exists".into(), Value::Bool(found == keys.len() as i64));
    result.insert("count".into(), Value::from(found));
    let mut request = Map::new();
    request.insert("keys".into(), Value::from(keys));
    Ok(output(&target, request, result))
}

/// `redis.command`: any command, written `command: HSET h f v`, as a list, or as `command` plus
/// `args`. The reply is `value` (and `result`, the same).
pub async fn command(
    config: &Map<String, Value>,
    clients: &RedisClients,
) -> Result<ActionOutput, ActionError> {
    let target = Target::parse(config)?;
    let mut words: Vec<String> = match config.get("command") {
        Some(Value::String(text)) => text.split_whitespace().map(str::to_string).collect(),
        Some(Value::Array(items)) => items.iter().map(argument).collect(),
        Some(other) => {
            return Err(ActionError::invalid(
                "command",
                format!("expected text such as `HGET key field` or a list, found {other}"),
            ));
        }
        None => Vec::new(),
    };
    words.extend(list(config, "args").iter().map(argument));
    let Some((name, args)) = words.split_first() else {
        return Err(ActionError::invalid("command", "is required"));
    };
    let label = name.to_ascii_uppercase();
    let reply = send(clients, &target, redis::cmd(&label).arg(args), &label).await?;
    let value = to_json(&reply);
    let mut result = Map::new();
    result.insert("value".into(), value.clone());
    result.insert("result".into(), value);
    let mut request = Map::new();
    request.insert("command".into(), Value::from(words.clone()));
    Ok(output(&target, request, result))
}
