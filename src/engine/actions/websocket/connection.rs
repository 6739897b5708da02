//! The open WebSocket connections of one run, by the name steps give them. Each connection has
//! a reader task that answers pings and queues what arrives, so messages sent between two
//! steps wait for the next step that receives, and a server's close is seen with its code.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::SinkExt;
use futures::stream::{SplitSink, StreamExt};
use serde_json::{Map, Value};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async_tls_with_config};
use url::Url;

use super::super::ActionError;
use super::frames::incoming;
use super::tls::connector;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The code a connection that ended without a close frame is reported with (RFC 6455 §7.1.5).
const ABNORMAL_CLOSURE: u16 = 1006;
/// How long closing waits for the server's close reply, at most.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// Where a connection goes: the URL (password masked) and `host:port`, for messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    url: Url,
    masked: String,
    pub address: String,
}

impl Target {
    /// Reads a `ws://` or `wss://` URL.
    pub fn parse(text: &str) -> Result<Self, ActionError> {
        let url = Url::parse(text)
            .map_err(|err| ActionError::invalid("url", format!("{text:?}: {err}")))?;
        let default_port = match url.scheme() {
            "ws" => 80,
            "wss" => 443,
            other => {
                return Err(ActionError::invalid(
                    "url",
                    format!("{text:?}: the scheme is {other}, not ws or wss"),
                ));
            }
        };
        let host = url
            .host_str()
            .ok_or_else(|| ActionError::invalid("url", format!("{text:?} has no host")))?;
        let address = format!("{host}:{}", url.port().unwrap_or(default_port));
        let mut masked = url.clone();
        if masked.password().is_some() {
            let _ = masked.set_password(Some("***"));
        }
        Ok(Self {
            masked: masked.to_string(),
            address,
            url,
        })
    }

    /// The URL with its password masked.
    pub fn masked(&self) -> &str {
        &self.masked
    }

    fn failed(&self, problem: impl std::fmt::Display) -> ActionError {
        ActionError::Failed(format!(
            "WebSocket connection to {} ({}) failed: {problem}",
            self.address, self.masked
        ))
    }
}

/// How to open a connection: the upgrade request's headers and subprotocols, the time the
/// TCP connect, TLS and upgrade may take together, and whether certificates are checked.
pub struct Opening {
    pub target: Target,
    pub headers: Vec<(String, String)>,
    pub subprotocols: Vec<String>,
    pub connect_timeout: Duration,
    pub verify_ssl: bool,
}

/// What the reader task passes on.
#[derive(Debug)]
pub enum Event {
    /// A text or binary message, as a value.
    Message(Value),
    /// The server closed the connection (code 1006 when it sent no close frame).
    Closed { code: u16, reason: String },
    /// Reading failed: a broken connection or a protocol error.
    Failed(String),
}

/// One open connection.
pub struct Connection {
    pub target: Target,
    /// The subprotocol the server chose, if any.
    pub protocol: Option<String>,
    sink: SplitSink<Socket, Message>,
    events: mpsc::UnboundedReceiver<Event>,
    reader: JoinHandle<()>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Connection {
    async fn open(opening: &Opening) -> Result<Self, ActionError> {
        let target = &opening.target;
        let mut request = target
            .url
            .as_str()
            .into_client_request()
            .map_err(|err| ActionError::invalid("url", format!("{}: {err}", target.masked)))?;
        for (name, value) in &opening.headers {
            let header = HeaderName::try_from(name.as_str())
                .map_err(|err| ActionError::invalid("headers", format!("{name:?}: {err}")))?;
            let value = HeaderValue::try_from(value.as_str())
                .map_err(|err| ActionError::invalid("headers", format!("{name}: {err}")))?;
            request.headers_mut().insert(header, value);
        }
        if !opening.subprotocols.is_empty() {
            let offered = HeaderValue::try_from(opening.subprotocols.join(", "))
                .map_err(|err| ActionError::invalid("subprotocols", err.to_string()))?;
            request
                .headers_mut()
                .insert("Sec-WebSocket-Protocol", offered);
        }
        let tls = if target.url.scheme() == "wss" {
            Some(connector(opening.verify_ssl).map_err(|err| target.failed(err))?)
        } else {
            None
        };
        let connecting = connect_async_tls_with_config(request, None, true, tls);
        let (socket, response) = tokio::time::timeout(opening.connect_timeout, connecting)
            .await
            .map_err(|_| {
                target.failed(format!(
                    "no answer within {}",
                    humantime::format_duration(opening.connect_timeout)
                ))
            })?
            .map_err(|err| target.failed(describe_connect_error(err, opening.verify_ssl)))?;
        let protocol = response
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        let (sink, mut stream) = socket.split();
        let (sender, events) = mpsc::unbounded_channel();
        let reader = tokio::spawn(async move {
            while let Some(next) = stream.next().await {
                let event = match next {
                    Ok(Message::Close(frame)) => Event::Closed {
                        code: frame.as_ref().map_or(ABNORMAL_CLOSURE, |f| f.code.into()),
                        reason: frame.map(|f| f.reason.to_string()).unwrap_or_default(),
                    },
                    Ok(message) => match incoming(&message) {
                        Some(value) => Event::Message(value),
                        None => continue,
                    },
                    Err(err) => Event::Failed(err.to_string()),
                };
                let last = !matches!(event, Event::Message(_));
                if sender.send(event).is_err() || last {
                    return;
                }
            }
            let _ = sender.send(Event::Closed {
                code: ABNORMAL_CLOSURE,
                reason: String::new(),
            });
        });
        Ok(Self {
            target: target.clone(),
            protocol,
            sink,
            events,
            reader,
        })
    }

    /// Sends one message; a connection the server closed says so, with its code.
    pub async fn send(&mut self, message: Message) -> Result<(), ActionError> {
        if let Err(err) = self.sink.send(message).await {
            let why = match self.events.try_recv() {
                Ok(Event::Closed { code, reason }) => closed_text(code, &reason),
                _ => err.to_string(),
            };
            return Err(ActionError::Failed(format!(
                "sending on the WebSocket connection to {} ({}) failed: {why}",
                self.target.address,
                self.target.masked()
            )));
        }
        Ok(())
    }

    /// The next event, or `None` when `deadline` passes first.
    pub async fn next(&mut self, deadline: Instant) -> Option<Event> {
        tokio::time::timeout_at(deadline, self.events.recv())
            .await
            .ok()
            .map(|event| {
                event.unwrap_or(Event::Closed {
                    code: ABNORMAL_CLOSURE,
                    reason: String::new(),
                })
            })
    }

    /// Sends a close frame and waits (at most [`CLOSE_WAIT`]) for the server's reply; gives
    /// the code and reason of that reply when one came.
    pub async fn close(&mut self, code: u16, reason: &str) -> Option<(u16, String)> {
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        };
        if self.sink.send(Message::Close(Some(frame))).await.is_err() {
            return None;
        }
        let deadline = Instant::now() + CLOSE_WAIT;
        loop {
            match self.next(deadline).await? {
                Event::Message(_) => continue,
                Event::Closed { code, reason } => return Some((code, reason)),
                Event::Failed(_) => return None,
            }
        }
    }
}

/// "code 1011 (overloaded)", or the code alone when the server gave no reason.
pub fn closed_text(code: u16, reason: &str) -> String {
    if reason.is_empty() {
        format!("the server closed the connection with code {code}")
    } else {
        format!("the server closed the connection with code {code} ({reason})")
    }
}

fn describe_connect_error(err: WsError, verify_ssl: bool) -> String {
    match err {
        WsError::Http(response) => {
            let body = response
                .body()
                .as_deref()
                .map(String::from_utf8_lossy)
                .map(|text| text.chars().take(200).collect::<String>())
                .filter(|text| !text.trim().is_empty())
                .map(|text| format!(": {}", text.trim()))
                .unwrap_or_default();
            format!(
                "the server answered the upgrade with HTTP {}{body}",
                response.status()
            )
        }
        other => {
            let text = other.to_string();
            if verify_ssl && text.to_ascii_lowercase().contains("certificate") {
                format!("{text}; set verify_ssl: false to skip the check")
            } else {
                text
            }
        }
    }
}

/// The open connections of one run, by name.
#[derive(Default)]
pub struct WebSockets {
    open: Mutex<HashMap<String, (Target, Shared)>>,
}

/// A connection steps take turns with (parallel branches may share one).
type Shared = Arc<Mutex<Connection>>;

impl WebSockets {
    /// The connection called `name`: the open one (whose URL must be `opening`'s, when given),
    /// or a new one to `opening`'s URL. The flag says whether it was open already.
    pub async fn get_or_open(
        &self,
        name: &str,
        opening: Option<&Opening>,
    ) -> Result<(Shared, bool), ActionError> {
        let mut open = self.open.lock().await;
        if let Some((current, connection)) = open.get(name) {
            if let Some(opening) = opening
                && current.url != opening.target.url
            {
                return Err(ActionError::invalid(
                    "url",
                    format!(
                        "connection `{name}` is open to {}, not {}: close it first, or give this one another `connection` name",
                        current.masked(),
                        opening.target.masked()
                    ),
                ));
            }
            return Ok((Arc::clone(connection), true));
        }
        let Some(opening) = opening else {
            let names: Vec<&str> = open.keys().map(String::as_str).collect();
            let open_now = if names.is_empty() {
                "none is open".to_string()
            } else {
                format!("open: {}", names.join(", "))
            };
            return Err(ActionError::invalid(
                "url",
                format!("is needed: no connection `{name}` is open ({open_now})"),
            ));
        };
        let connection = Arc::new(Mutex::new(Connection::open(opening).await?));
        open.insert(
            name.to_string(),
            (opening.target.clone(), Arc::clone(&connection)),
        );
        Ok((connection, false))
    }

    /// Forgets `name` after it closed; a later step with a `url` opens it again.
    pub async fn forget(&self, name: &str) {
        self.open.lock().await.remove(name);
    }

    /// Closes every connection still open; called when the run ends.
    pub async fn close_all(&self) {
        let connections: Vec<_> = self
            .open
            .lock()
            .await
            .drain()
            .map(|(_, (_, c))| c)
            .collect();
        for connection in connections {
            let mut connection = connection.lock().await;
            let _ = tokio::time::timeout(
                Duration::from_secs(1),
                connection.close(CloseCode::Normal.into(), ""),
            )
            .await;
        }
    }
}

/// `headers` as name and text pairs (numbers and booleans printed).
pub fn header_pairs(headers: Option<&Map<String, Value>>) -> Vec<(String, String)> {
    headers
        .into_iter()
        .flatten()
        .map(|(name, value)| {
            let text = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            (name.clone(), text)
        })
        .collect()
}
