//! `websocket`: opens a connection (or reuses the one of the same `connection` name that an
//! earlier step of the run opened), sends `send`, receives until the `until` expression holds
//! for a message or `count` messages arrived, and closes when asked. Connections stay open
//! across steps and are closed when the run ends.

mod connection;
mod frames;
mod tls;

use std::time::Duration;

use serde_json::{Map, Value};
use tokio::time::Instant;

use self::connection::{Event, Opening, Target, closed_text, header_pairs};
use super::fields::{count, duration, flag, list, optional_map, optional_text};
use super::{ActionError, ActionOutput, received};

pub use self::connection::WebSockets;

/// The name of a connection when a step gives none.
const DEFAULT_CONNECTION: &str = "default";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The close code sent when a step closes without `close_code`: a normal closure.
const NORMAL_CLOSURE: u64 = 1000;
/// The highest close code there is (4000–4999 are for applications).
const HIGHEST_CLOSE_CODE: u64 = 4999;

/// What one step asks of its connection.
struct Exchange {
    name: String,
    opening: Option<Opening>,
    outgoing: Vec<tokio_tungstenite::tungstenite::Message>,
    /// How many messages (matching `until`, when given) to wait for; `None` receives nothing.
    want: Option<u64>,
    limit: Duration,
    close: Option<(u16, String)>,
}

impl Exchange {
    fn parse(config: &Map<String, Value>, until: Option<&str>) -> Result<Self, ActionError> {
        let opening = match optional_text(config, "url")? {
            Some(url) => Some(Opening {
                target: Target::parse(&url)?,
                headers: header_pairs(optional_map(config, "headers")?),
                subprotocols: list(config, "subprotocols")
                    .iter()
                    .map(|item| match item {
                        Value::String(text) => text.clone(),
                        other => other.to_string(),
                    })
                    .collect(),
                connect_timeout: duration(config, "connect_timeout", DEFAULT_CONNECT_TIMEOUT)?,
                verify_ssl: flag(config, "verify_ssl", true)?,
            }),
            None => None,
        };
        let mut outgoing = frames::outgoing(config.get("send"));
        outgoing.extend(frames::outgoing_binary(config.get("send_binary"))?);
        let want = count(config, "count", 1)?.or(until.map(|_| 1));
        let close_code = count(config, "close_code", NORMAL_CLOSURE)?;
        let close = if flag(config, "close", close_code.is_some())? {
            let code = close_code.unwrap_or(NORMAL_CLOSURE);
            let code = u16::try_from(code)
                .ok()
                .filter(|code| u64::from(*code) <= HIGHEST_CLOSE_CODE)
                .ok_or_else(|| {
                    ActionError::invalid(
                        "close_code",
                        format!(
                            "{code} is not a close code: use 1000, or 4000 to 4999 for your own"
                        ),
                    )
                })?;
            let reason = optional_text(config, "close_reason")?.unwrap_or_default();
            Some((code, reason))
        } else {
            None
        };
        Ok(Self {
            name: optional_text(config, "connection")?.unwrap_or_else(|| DEFAULT_CONNECTION.into()),
            opening,
            outgoing,
            want,
            limit: duration(config, "timeout", DEFAULT_TIMEOUT)?,
            close,
        })
    }
}

/// Runs one `websocket` step; `holds` checks `until` against a received message.
pub async fn execute<F>(
    config: &Map<String, Value>,
    until: Option<&str>,
    sockets: &WebSockets,
    mut holds: F,
) -> Result<ActionOutput, ActionError>
where
    F: FnMut(&Value) -> Result<bool, String>,
{
    let exchange = Exchange::parse(config, until)?;
    let name = exchange.name.as_str();
    let (shared, reused) = sockets.get_or_open(name, exchange.opening.as_ref()).await?;
    let mut connection = shared.lock().await;
    let source = format!(
        "WebSocket connection `{name}` to {} ({})",
        connection.target.address,
        connection.target.masked()
    );
    let mut result = Map::new();
    result.insert("connection".into(), Value::from(name));
    result.insert("url".into(), Value::from(connection.target.masked()));
    result.insert("reused".into(), Value::Bool(reused));
    if let Some(protocol) = &connection.protocol {
        result.insert("protocol".into(), Value::from(protocol.as_str()));
    }
    let sent = exchange.outgoing.len();
    for message in exchange.outgoing {
        if let Err(err) = connection.send(message).await {
            sockets.forget(name).await;
            return Err(err);
        }
    }
    result.insert("sent".into(), Value::from(sent));
    if let Some(want) = exchange.want {
        let deadline = Instant::now() + exchange.limit;
        let mut messages = Vec::new();
        let mut matched = Vec::new();
        let mut unchecked = None;
        let filter = until
            .map(|u| format!(" matching `{u}`"))
            .unwrap_or_default();
        while (matched.len() as u64) < want {
            let ended = match connection.next(deadline).await {
                Some(Event::Message(message)) => {
                    let matches = match until {
                        None => true,
                        Some(_) => holds(&message).unwrap_or_else(|err| {
                            unchecked = Some(err);
                            false
                        }),
                    };
                    if matches {
                        matched.push(message.clone());
                    }
                    messages.push(message);
                    continue;
                }
                Some(Event::Closed { code, reason }) => closed_text(code, &reason),
                Some(Event::Failed(err)) => format!("reading failed: {err}"),
                None => {
                    let mut message = received::shortfall(
                        &source,
                        matched.len(),
                        want,
                        &filter,
                        exchange.limit,
                        messages.len() as u64,
                        &[],
                    );
                    message.push_str(&format!("; {}", frames::recent(&messages)));
                    if let Some(err) = unchecked {
                        message.push_str(&format!("; `until` could not be checked: {err}"));
                    }
                    return Err(ActionError::Failed(message));
                }
            };
            sockets.forget(name).await;
            return Err(ActionError::Failed(format!(
                "{source}: {ended} while {} of {want} messages{filter} had arrived; {}",
                matched.len(),
                frames::recent(&messages)
            )));
        }
        result.insert("count".into(), Value::from(messages.len()));
        if let Some(last) = matched.last() {
            result.insert("message".into(), last.clone());
        }
        if until.is_some() {
            result.insert("matched".into(), Value::Array(matched));
        }
        result.insert("messages".into(), Value::Array(messages));
    }
    let open = match exchange.close {
        Some((code, reason)) => {
            let reply = connection.close(code, &reason).await;
            sockets.forget(name).await;
            let (code, reason) = match reply {
                Some((code, reason)) => (Value::from(code), Value::from(reason)),
                None => (Value::Null, Value::Null),
            };
            result.insert("close_code".into(), code);
            result.insert("close_reason".into(), reason);
            false
        }
        None => true,
    };
    result.insert("connected".into(), Value::Bool(open));
    Ok(ActionOutput::from_result(result))
}
