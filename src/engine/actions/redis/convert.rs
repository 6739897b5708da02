//! Redis replies as JSON: integers and doubles as numbers, bulk strings as text (base64 when
//! they are not UTF-8), arrays and sets as lists, maps as objects, nil as null.

use base64::Engine;
use serde_json::{Map, Value};

/// Converts a reply; a server error inside a reply becomes its message.
pub fn to_json(value: &redis::Value) -> Value {
    match value {
        redis::Value::Nil => Value::Null,
        redis::Value::Int(i) => Value::from(*i),
        redis::Value::BulkString(bytes) => text(bytes),
        redis::Value::Array(items) | redis::Value::Set(items) => {
            Value::Array(items.iter().map(to_json).collect())
        }
        redis::Value::SimpleString(s) => Value::String(s.clone()),
        redis::Value::Okay => Value::String("OK".into()),
        redis::Value::Map(pairs) => {
            let mut map = Map::new();
            for (key, item) in pairs {
                map.insert(key_text(key), to_json(item));
            }
            Value::Object(map)
        }
        redis::Value::Attribute { data, .. } => to_json(data),
        redis::Value::Double(f) => {
            serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
        }
        redis::Value::Boolean(b) => Value::Bool(*b),
        redis::Value::VerbatimString { text, .. } => Value::String(text.clone()),
        redis::Value::BigNumber(digits) => text(digits),
        redis::Value::Push { data, .. } => Value::Array(data.iter().map(to_json).collect()),
        redis::Value::ServerError(err) => Value::String(format!("{err:?}")),
        _ => Value::Null,
    }
}

/// Bytes as text, or base64 when they are not UTF-8.
pub fn text(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(text) => Value::String(text.to_string()),
        Err(_) => Value::String(base64::engine::general_purpose::STANDARD.encode(bytes)),
    }
}

/// A reply used as a map key or field name.
pub fn key_text(value: &redis::Value) -> String {
    match to_json(value) {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// A config value as a command argument: text as is, other values as JSON text.
pub fn argument(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn replies_become_json() {
        let reply = redis::Value::Array(vec![
            redis::Value::Int(3),
            redis::Value::BulkString(b"hi".to_vec()),
            redis::Value::BulkString(vec![0xff, 0x00]),
            redis::Value::Nil,
            redis::Value::Map(vec![(
                redis::Value::SimpleString("k".into()),
                redis::Value::Double(1.5),
            )]),
        ]);
        assert_eq!(to_json(&reply), json!([3, "hi", "/wA=", null, {"k": 1.5}]));
    }
}
