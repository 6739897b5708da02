//! Readers for the config keys the newer actions share: required and optional text, durations,
//! counts, flags, lists and maps. Each wrong value becomes an [`ActionError::InvalidConfig`]
//! naming the key and quoting what was found.

use std::time::Duration;

use serde_json::{Map, Value};

use super::ActionError;
use crate::flow::duration::parse_duration;
use crate::flow::source::kind_of;

/// A text value; numbers and booleans are accepted and printed.
pub fn optional_text(
    config: &Map<String, Value>,
    key: &str,
) -> Result<Option<String>, ActionError> {
    match config.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(other) => Err(ActionError::invalid(
            key,
            format!("expected text, found {} {other}", kind_of(other)),
        )),
    }
}

/// A text value that must be present and not empty.
pub fn required_text(config: &Map<String, Value>, key: &str) -> Result<String, ActionError> {
    match optional_text(config, key)? {
        Some(text) if !text.trim().is_empty() => Ok(text),
        _ => Err(ActionError::invalid(key, "is required")),
    }
}

/// The first of several names for the same key that is set, with the name it was found under.
pub fn first_text(
    config: &Map<String, Value>,
    keys: &[&'static str],
) -> Result<Option<(String, &'static str)>, ActionError> {
    for key in keys {
        if let Some(text) = optional_text(config, key)? {
            return Ok(Some((text, key)));
        }
    }
    Ok(None)
}

/// A duration written `500ms`, `2s`, `1m`, or a number of seconds (as `delay` and
/// `http_request` read numbers).
pub fn duration(
    config: &Map<String, Value>,
    key: &str,
    default: Duration,
) -> Result<Duration, ActionError> {
    match config.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::String(text)) => {
            parse_duration(text).map_err(|err| ActionError::invalid(key, err))
        }
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|s| s.is_finite() && *s >= 0.0)
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .ok_or_else(|| ActionError::invalid(key, format!("{n} is not a number of seconds"))),
        Some(other) => Err(ActionError::invalid(
            key,
            format!("expected a duration such as 500ms or 2s, found {other}"),
        )),
    }
}

/// A whole number of at least `min`.
pub fn count(config: &Map<String, Value>, key: &str, min: u64) -> Result<Option<u64>, ActionError> {
    let number = match config.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(text)) => text.trim().parse::<u64>().ok(),
        Some(_) => None,
    };
    match number {
        Some(n) if n >= min => Ok(Some(n)),
        _ => Err(ActionError::invalid(
            key,
            format!(
                "expected a whole number of at least {min}, found {}",
                config.get(key).map(Value::to_string).unwrap_or_default()
            ),
        )),
    }
}

/// A flag; `"true"`/`"false"` text is accepted (it is what interpolation gives).
pub fn flag(config: &Map<String, Value>, key: &str, default: bool) -> Result<bool, ActionError> {
    match config.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(text)) if text == "true" => Ok(true),
        Some(Value::String(text)) if text == "false" => Ok(false),
        Some(other) => Err(ActionError::invalid(
            key,
            format!("expected true or false, found {other}"),
        )),
    }
}

/// A list; a single value stands for a list of one.
pub fn list(config: &Map<String, Value>, key: &str) -> Vec<Value> {
    match config.get(key) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(other) => vec![other.clone()],
    }
}

/// A map, or nothing.
pub fn optional_map<'a>(
    config: &'a Map<String, Value>,
    key: &str,
) -> Result<Option<&'a Map<String, Value>>, ActionError> {
    match config.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(other) => Err(ActionError::invalid(
            key,
            format!("expected a map, found {} {other}", kind_of(other)),
        )),
    }
}

/// A map whose values are text, numbers or booleans (printed), as `name, text` pairs in order;
/// empty when absent. A nested value is an error naming `key.name`.
pub fn text_map(
    config: &Map<String, Value>,
    key: &str,
) -> Result<Vec<(String, String)>, ActionError> {
    let Some(map) = optional_map(config, key)? else {
        return Ok(Vec::new());
    };
    map.iter()
        .map(|(name, value)| {
            let text = match value {
                Value::String(text) => text.clone(),
                Value::Number(_) | Value::Bool(_) => value.to_string(),
                other => {
                    return Err(ActionError::invalid(
                        format!("{key}.{name}"),
                        format!("expected text, found {} {other}", kind_of(other)),
                    ));
                }
            };
            Ok((name.clone(), text))
        })
        .collect()
}
