//! The small actions: `assert` (checks data given in config), `log` and `delay`.

use serde_json::{Map, Value};

use super::{ActionError, ActionOutput};
use crate::engine::session::Session;
use crate::flow::duration::parse_duration;

/// `assert`: its result is `passed`, the `data` it was given, and the fields of `data` at the
/// top level, as the original platform showed them to `config.assertions`: `data: {value: x}`
/// is checked with `value == "x"` as well as `data.value == "x"`. A field of `data` wins over
/// `passed` or `data` of the same name. Text holding a JSON object gives that object's fields;
/// other data that is not a map is seen as `value`. The engine evaluates the step's and the
/// config's assertions against this result.
pub fn assert_data(config: &Map<String, Value>) -> Result<ActionOutput, ActionError> {
    let data = config.get("data").cloned().unwrap_or(Value::Null);
    let mut result = Map::new();
    result.insert("passed".into(), Value::Bool(true));
    result.insert("data".into(), data.clone());
    let fields = match data {
        Value::String(text) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(fields)) => Value::Object(fields),
            _ => Value::String(text),
        },
        other => other,
    };
    match fields {
        Value::Object(fields) => result.extend(fields),
        Value::Null => {}
        value => {
            result.insert("value".into(), value);
        }
    }
    Ok(ActionOutput::from_result(result))
}

/// `log`: writes the message to the run's log and keeps it in the result for reports.
pub fn log(config: &Map<String, Value>, session: &Session) -> Result<ActionOutput, ActionError> {
    let message = match config.get("message") {
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None => return Err(ActionError::invalid("message", "is required")),
    };
    let level = match config.get("level") {
        None => "info".to_string(),
        Some(Value::String(level)) => match level.to_ascii_lowercase().as_str() {
            l @ ("debug" | "info" | "warn" | "warning" | "error") => l.to_string(),
            other => {
                return Err(ActionError::invalid(
                    "level",
                    format!("unknown level {other:?}: expected debug, info, warn or error"),
                ));
            }
        },
        Some(other) => {
            return Err(ActionError::invalid(
                "level",
                format!("expected a string, found {other}"),
            ));
        }
    };
    match level.as_str() {
        "debug" => tracing::debug!(flow = %session.flow_name, "{message}"),
        "warn" | "warning" => tracing::warn!(flow = %session.flow_name, "{message}"),
        "error" => tracing::error!(flow = %session.flow_name, "{message}"),
        _ => tracing::info!(flow = %session.flow_name, "{message}"),
    }
    let mut result = Map::new();
    result.insert("message".into(), Value::String(message));
    result.insert("level".into(), Value::String(level));
    Ok(ActionOutput::from_result(result))
}

/// `delay`: waits for `duration` (cancellation and step timeouts cut it short).
pub async fn delay(config: &Map<String, Value>) -> Result<ActionOutput, ActionError> {
    let duration = match config.get("duration") {
        Some(Value::String(text)) => {
            parse_duration(text).map_err(|err| ActionError::invalid("duration", err))?
        }
        Some(Value::Number(n)) if n.as_u64().is_some() => {
            std::time::Duration::from_secs(n.as_u64().unwrap_or_default())
        }
        Some(other) => {
            return Err(ActionError::invalid(
                "duration",
                format!("expected a duration such as 500ms or 2s, found {other}"),
            ));
        }
        None => return Err(ActionError::invalid("duration", "is required")),
    };
    tokio::time::sleep(duration).await;
    let mut result = Map::new();
    result.insert(
        "duration_ms".into(),
        Value::from(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)),
    );
    Ok(ActionOutput::from_result(result))
}
