//! WebSocket frames as a flow sees them: `send` values become text frames (maps and lists as
//! JSON), received text frames become JSON when they parse and text when not, binary frames
//! become base64 text.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use super::super::ActionError;

/// The frames `send` asks for: a list is several messages, anything else is one.
pub fn outgoing(send: Option<&Value>) -> Vec<Message> {
    match send {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(one).collect(),
        Some(other) => vec![one(other)],
    }
}

fn one(value: &Value) -> Message {
    match value {
        Value::String(text) => Message::text(text.as_str()),
        other => Message::text(other.to_string()),
    }
}

/// The binary frames `send_binary` asks for: base64 text, or a list of it.
pub fn outgoing_binary(send: Option<&Value>) -> Result<Vec<Message>, ActionError> {
    let items = match send {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
    };
    items
        .into_iter()
        .map(|item| {
            let text = item.as_str().ok_or_else(|| {
                ActionError::invalid("send_binary", format!("expected base64 text, found {item}"))
            })?;
            let bytes = STANDARD.decode(text.trim()).map_err(|err| {
                ActionError::invalid("send_binary", format!("{text:?} is not base64: {err}"))
            })?;
            Ok(Message::binary(bytes))
        })
        .collect()
}

/// A received data frame as a value; `None` for control frames.
pub fn incoming(message: &Message) -> Option<Value> {
    match message {
        Message::Text(text) => Some(
            serde_json::from_str::<Value>(text.as_str())
                .unwrap_or_else(|_| Value::String(text.to_string())),
        ),
        Message::Binary(bytes) => Some(Value::String(STANDARD.encode(bytes))),
        Message::Ping(_) | Message::Pong(_) | Message::Close(_) | Message::Frame(_) => None,
    }
}

/// The last few of `messages`, each cut short, for errors that explain what did arrive.
pub fn recent(messages: &[Value]) -> String {
    const SHOWN: usize = 3;
    const LONGEST: usize = 200;
    if messages.is_empty() {
        return "no message arrived".into();
    }
    let start = messages.len().saturating_sub(SHOWN);
    let shown: Vec<String> = messages[start..]
        .iter()
        .map(|message| {
            let text = message.to_string();
            match text.char_indices().nth(LONGEST) {
                Some((cut, _)) => format!("{}…", &text[..cut]),
                None => text,
            }
        })
        .collect();
    if start == 0 {
        format!("received: {}", shown.join(" | "))
    } else {
        format!(
            "{} received, the last {SHOWN}: {}",
            messages.len(),
            shown.join(" | ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn send_values_become_text_frames_and_a_list_is_several() {
        assert_eq!(
            outgoing(Some(&json!({"type": "subscribe"}))),
            vec![Message::text(r#"{"type":"subscribe"}"#)]
        );
        assert_eq!(
            outgoing(Some(&json!(["ping", {"n": 1}]))),
            vec![Message::text("ping"), Message::text(r#"{"n":1}"#)]
        );
        assert!(outgoing(None).is_empty());
    }

    #[test]
    fn binary_sends_need_base64() {
        assert_eq!(
            outgoing_binary(Some(&json!("AAEC"))).unwrap(),
            vec![Message::binary(vec![0u8, 1, 2])]
        );
        let err = outgoing_binary(Some(&json!("not base64!"))).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(r#"config.send_binary: "not base64!" is not base64"#),
            "{err}"
        );
    }

    #[test]
    fn received_frames_are_json_text_or_base64() {
        assert_eq!(
            incoming(&Message::text(r#"{"status":"shipped"}"#)),
            Some(json!({"status": "shipped"}))
        );
        assert_eq!(incoming(&Message::text("hello")), Some(json!("hello")));
        assert_eq!(
            incoming(&Message::binary(vec![0u8, 1, 2])),
            Some(json!("AAEC"))
        );
        assert_eq!(incoming(&Message::Ping(vec![1u8].into())), None);
    }

    #[test]
    fn recent_shows_the_last_three_cut_short() {
        assert_eq!(recent(&[]), "no message arrived");
        assert_eq!(recent(&[json!({"a": 1})]), r#"received: {"a":1}"#);
        let many: Vec<Value> = (1..=5).map(|n| json!(n)).collect();
        assert_eq!(recent(&many), "5 received, the last 3: 3 | 4 | 5");
        let long = recent(&[json!("x".repeat(300))]);
        assert!(long.ends_with('…') && long.chars().count() < 230, "{long}");
    }
}
