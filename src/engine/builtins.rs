//! Built-in variables: ids, random values and clock readings that a flow can reference without
//! defining them. Each reference gets a fresh value; to reuse one, put it in `env` (interpolated
//! once when the flow starts).

use chrono::{Datelike, Local, Timelike, Utc};
use rand::RngExt;
use serde_json::Value;

/// Every built-in name, for validation and error messages.
pub const NAMES: &[&str] = &[
    "RANDOM_ID",
    "UUID",
    "TIMESTAMP",
    "TIMESTAMP_MS",
    "ISO_TIMESTAMP",
    "DATE",
    "TIME",
    "DATETIME",
    "YEAR",
    "MONTH",
    "DAY",
    "HOUR",
    "MINUTE",
    "SECOND",
    "FLOW_NAME",
    "EXECUTION_ID",
    "RANDOM_INT",
    "RANDOM_STRING",
];

/// The value of built-in `name` for a run, or `None` when it is not a built-in.
pub fn value(name: &str, flow_name: &str, execution_id: &str) -> Option<Value> {
    let now = Local::now();
    Some(match name {
        "RANDOM_ID" | "UUID" => Value::String(uuid::Uuid::new_v4().to_string()),
        "TIMESTAMP" => Value::from(Utc::now().timestamp()),
        "TIMESTAMP_MS" => Value::from(Utc::now().timestamp_millis()),
        "ISO_TIMESTAMP" => {
            Value::String(Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        }
        "DATE" => Value::String(now.format("%Y-%m-%d").to_string()),
        "TIME" => Value::String(now.format("%H:%M:%S").to_string()),
        "DATETIME" => Value::String(now.format("%Y-%m-%d %H:%M:%S").to_string()),
        "YEAR" => Value::from(now.year()),
        "MONTH" => Value::from(now.month()),
        "DAY" => Value::from(now.day()),
        "HOUR" => Value::from(now.hour()),
        "MINUTE" => Value::from(now.minute()),
        "SECOND" => Value::from(now.second()),
        "FLOW_NAME" => Value::String(flow_name.to_string()),
        "EXECUTION_ID" => Value::String(execution_id.to_string()),
        "RANDOM_INT" => Value::from(rand::rng().random_range(0..1_000_000u32)),
        "RANDOM_STRING" => Value::String(random_string(12)),
        _ => return None,
    })
}

fn random_string(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_has_a_value() {
        for name in NAMES {
            assert!(value(name, "f", "e").is_some(), "{name}");
        }
        assert_eq!(
            value("FLOW_NAME", "orders", "e"),
            Some(Value::from("orders"))
        );
        assert_eq!(value("NOT_A_BUILTIN", "f", "e"), None);
    }

    #[test]
    fn random_values_differ_and_have_the_documented_shape() {
        let a = value("RANDOM_ID", "f", "e").unwrap();
        let b = value("RANDOM_ID", "f", "e").unwrap();
        assert_ne!(a, b);
        assert!(uuid::Uuid::parse_str(a.as_str().unwrap()).is_ok());
        let s = value("RANDOM_STRING", "f", "e").unwrap();
        assert_eq!(s.as_str().unwrap().len(), 12);
        assert!(value("TIMESTAMP", "f", "e").unwrap().as_i64().unwrap() > 1_700_000_000);
    }
}
