//! Reading the Kafka steps' connection and delivery settings: the broker list, SASL and TLS,
//! compression, where a consumer starts, and its partitions. Each key has one reader used both
//! when the step runs and by `testmesh validate` (through [`value_problem`]), so a wrong value
//! is reported before the flow runs whenever it is written literally.

use serde_json::{Map, Value};

use super::super::ActionError;
use super::super::fields::optional_text;
use crate::flow::source::kind_of;

/// Where the brokers are when a step names none.
pub const DEFAULT_BROKERS: &str = "127.0.0.1:9092";

/// The SASL mechanisms the client speaks.
const MECHANISMS: &[&str] = &["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];

/// The compressions the client can write (lz4 and zstd would need C libraries).
const COMPRESSIONS: &[&str] = &["none", "gzip", "snappy"];

/// The named starting points of a consumer.
const STARTS: &[&str] = &["run_start", "earliest", "latest"];

/// `brokers` (alias `bootstrap_servers`): `host:port` entries as a list or a comma-separated
/// text.
pub fn brokers(config: &Map<String, Value>) -> Result<Vec<String>, ActionError> {
    let (key, value) = match ["brokers", "bootstrap_servers"]
        .into_iter()
        .find_map(|key| config.get(key).filter(|v| !v.is_null()).map(|v| (key, v)))
    {
        Some(found) => found,
        None => return Ok(vec![DEFAULT_BROKERS.to_string()]),
    };
    parse_brokers(value).map_err(|message| ActionError::invalid(key, message))
}

fn parse_brokers(value: &Value) -> Result<Vec<String>, String> {
    let entries: Vec<String> = match value {
        Value::String(text) => text.split(',').map(|s| s.trim().to_string()).collect(),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(text) => Ok(text.trim().to_string()),
                other => Err(format!(
                    "expected `host:port` entries, found {} {other}",
                    kind_of(other)
                )),
            })
            .collect::<Result<_, _>>()?,
        other => {
            return Err(format!(
                "expected `host:port` entries as a list or comma-separated text, found {} {other}",
                kind_of(other)
            ));
        }
    };
    let entries: Vec<String> = entries.into_iter().filter(|e| !e.is_empty()).collect();
    if entries.is_empty() {
        return Err("names no broker: expected `host:port` entries".into());
    }
    for entry in &entries {
        let port = entry
            .rsplit_once(':')
            .map(|(host, port)| (host, port.parse::<u16>()));
        match port {
            Some((host, Ok(port))) if !host.is_empty() && port > 0 => {}
            _ => {
                return Err(format!(
                    "`{entry}` is not `host:port` (for example 127.0.0.1:9092)"
                ));
            }
        }
    }
    Ok(entries)
}

/// `sasl`: `{mechanism, username, password}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sasl {
    pub mechanism: &'static str,
    pub username: String,
    pub password: String,
}

pub fn sasl(config: &Map<String, Value>) -> Result<Option<Sasl>, ActionError> {
    match config.get("sasl") {
        None | Some(Value::Null) => Ok(None),
        Some(value) => parse_sasl(value)
            .map(Some)
            .map_err(|message| ActionError::invalid("sasl", message)),
    }
}

fn parse_sasl(value: &Value) -> Result<Sasl, String> {
    let Value::Object(map) = value else {
        return Err(format!(
            "expected a map {{mechanism, username, password}}, found {} {value}",
            kind_of(value)
        ));
    };
    if let Some(unknown) = map
        .keys()
        .find(|key| !["mechanism", "username", "password"].contains(&key.as_str()))
    {
        return Err(format!(
            "unknown key `{unknown}`: sasl reads mechanism, username, password"
        ));
    }
    let text = |key: &str| optional_text(map, key).map_err(|err| err.to_string());
    let written = text("mechanism")?.unwrap_or_else(|| "PLAIN".into());
    let mechanism = MECHANISMS
        .iter()
        .find(|m| m.eq_ignore_ascii_case(&written))
        .ok_or_else(|| {
            format!(
                "mechanism `{written}` is not supported: use one of {} (GSSAPI and OAUTHBEARER are not)",
                MECHANISMS.join(", ")
            )
        })?;
    let username = text("username")?.ok_or("needs `username`")?;
    let password = text("password")?.ok_or("needs `password`")?;
    Ok(Sasl {
        mechanism,
        username,
        password,
    })
}

/// `tls`: true for TLS with the system's trusted roots.
pub fn tls(config: &Map<String, Value>) -> Result<bool, ActionError> {
    match config.get("tls") {
        None | Some(Value::Null) => Ok(false),
        Some(value) => parse_tls(value).map_err(|message| ActionError::invalid("tls", message)),
    }
}

fn parse_tls(value: &Value) -> Result<bool, String> {
    match value {
        Value::Bool(on) => Ok(*on),
        Value::String(text) if text == "true" => Ok(true),
        Value::String(text) if text == "false" => Ok(false),
        other => Err(format!(
            "expected true or false (TLS with the system's trusted roots; client certificates and custom CAs are not supported), found {} {other}",
            kind_of(other)
        )),
    }
}

/// `compression`: none (default), gzip or snappy.
pub fn compression(
    config: &Map<String, Value>,
) -> Result<rskafka::client::partition::Compression, ActionError> {
    use rskafka::client::partition::Compression;
    match config.get("compression") {
        None | Some(Value::Null) => Ok(Compression::NoCompression),
        Some(value) => match parse_choice(value, COMPRESSIONS, "compression")
            .map_err(|message| ActionError::invalid("compression", message))?
        {
            "gzip" => Ok(Compression::Gzip),
            "snappy" => Ok(Compression::Snappy),
            _ => Ok(Compression::NoCompression),
        },
    }
}

fn parse_choice(
    value: &Value,
    choices: &[&'static str],
    what: &str,
) -> Result<&'static str, String> {
    let written = match value {
        Value::String(text) => text.trim().to_ascii_lowercase(),
        other => {
            return Err(format!(
                "expected one of {}, found {} {other}",
                choices.join(", "),
                kind_of(other)
            ));
        }
    };
    choices
        .iter()
        .find(|choice| **choice == written)
        .copied()
        .ok_or_else(|| {
            let hint = crate::flow::diagnostic::did_you_mean(&written, choices.iter().copied())
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            format!(
                "`{written}` is not a {what}{hint}: use one of {}",
                choices.join(", ")
            )
        })
}

/// Where a consumer starts reading each partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The first message whose timestamp is at or after the moment the run began.
    RunStart,
    /// The oldest message the broker keeps.
    Earliest,
    /// The end of the partition when the step starts: only messages produced after it.
    Latest,
    /// This offset.
    Offset(i64),
}

/// `from`: run_start (default), earliest, latest or an offset.
pub fn start(config: &Map<String, Value>) -> Result<Start, ActionError> {
    match config.get("from") {
        None | Some(Value::Null) => Ok(Start::RunStart),
        Some(value) => parse_start(value).map_err(|message| ActionError::invalid("from", message)),
    }
}

fn parse_start(value: &Value) -> Result<Start, String> {
    let offset = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(text) => text.trim().parse::<i64>().ok(),
        _ => None,
    };
    match offset {
        Some(offset) if offset >= 0 => return Ok(Start::Offset(offset)),
        Some(offset) => return Err(format!("offset {offset} is negative")),
        None => {}
    }
    let named = parse_choice(value, STARTS, "starting point")
        .map_err(|message| format!("{message}, or an offset number"))?;
    Ok(match named {
        "earliest" => Start::Earliest,
        "latest" => Start::Latest,
        _ => Start::RunStart,
    })
}

/// `partition` or `partitions`: the partitions to read; none means every one of the topic.
pub fn partitions(config: &Map<String, Value>) -> Result<Vec<i32>, ActionError> {
    for key in ["partition", "partitions"] {
        if let Some(value) = config.get(key).filter(|v| !v.is_null()) {
            return parse_partitions(value).map_err(|message| ActionError::invalid(key, message));
        }
    }
    Ok(Vec::new())
}

fn parse_partitions(value: &Value) -> Result<Vec<i32>, String> {
    let items = match value {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    };
    items.iter().map(parse_partition).collect()
}

/// One partition number.
pub fn parse_partition(value: &Value) -> Result<i32, String> {
    let number = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(text) => text.trim().parse::<i64>().ok(),
        _ => None,
    };
    number
        .and_then(|n| i32::try_from(n).ok())
        .filter(|n| *n >= 0)
        .ok_or_else(|| format!("expected a partition number (0 or more), found {value}"))
}

/// Why a literally written value of `key` cannot work for a Kafka step, for the validator.
pub fn value_problem(key: &str, value: &Value) -> Option<String> {
    let problem = match key {
        "brokers" | "bootstrap_servers" => parse_brokers(value).err(),
        "sasl" => parse_sasl(value).err(),
        "tls" => parse_tls(value).err(),
        "compression" => parse_choice(value, COMPRESSIONS, "compression").err(),
        "from" => parse_start(value).err(),
        "partition" | "partitions" => parse_partitions(value).err(),
        _ => None,
    };
    problem.map(|problem| format!("`{key}`: {problem}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn brokers_are_a_list_or_comma_text_of_host_and_port() {
        let config = json!({"bootstrap_servers": "a:9092, b:9093"});
        assert_eq!(
            brokers(config.as_object().unwrap()).unwrap(),
            vec!["a:9092", "b:9093"]
        );
        assert_eq!(
            value_problem("brokers", &json!(["a:9092", "b"])).unwrap(),
            "`brokers`: `b` is not `host:port` (for example 127.0.0.1:9092)"
        );
        assert_eq!(brokers(&Map::new()).unwrap(), vec![DEFAULT_BROKERS]);
    }

    #[test]
    fn named_choices_suggest_the_closest() {
        assert_eq!(
            value_problem("from", &json!("earlist")).unwrap(),
            "`from`: `earlist` is not a starting point (did you mean `earliest`?): use one of run_start, earliest, latest, or an offset number"
        );
        assert_eq!(parse_start(&json!(42)).unwrap(), Start::Offset(42));
        assert!(
            value_problem("compression", &json!("zstd"))
                .unwrap()
                .contains("none, gzip, snappy")
        );
        assert!(
            value_problem(
                "sasl",
                &json!({"mechanism": "GSSAPI", "username": "u", "password": "p"})
            )
            .unwrap()
            .contains("not supported")
        );
        assert_eq!(
            parse_sasl(&json!({"mechanism": "scram-sha-512", "username": "u", "password": "p"}))
                .unwrap()
                .mechanism,
            "SCRAM-SHA-512"
        );
    }
}
