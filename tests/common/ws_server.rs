//! An in-process WebSocket server on a free 127.0.0.1 port, with one path per behaviour the
//! `websocket` action tests need; it records what clients did so tests can check it.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

/// What clients did, as the server saw it.
#[derive(Default, Debug, Clone)]
pub struct Seen {
    /// Connections accepted, all paths together.
    pub connections: usize,
    /// The `Authorization` header of each upgrade request that had one.
    pub authorization: Vec<String>,
    /// The close frames clients sent: code and reason.
    pub closes: Vec<(u16, String)>,
}

pub struct WsServer {
    pub base: String,
    seen: Arc<Mutex<Seen>>,
}

impl WsServer {
    pub fn seen(&self) -> Seen {
        self.seen.lock().unwrap().clone()
    }
}

type Shared = Arc<Mutex<Seen>>;

/// Starts the server:
/// - `/echo` sends back every message;
/// - `/orders` answers `{"type":"subscribe","order_id":…}` with three status updates;
/// - `/binary` answers anything with the bytes 0, 1, 2;
/// - `/closing` answers anything with one message, then closes with 1011 "overloaded";
/// - `/chat` accepts the `chat.v1` subprotocol and says hello in plain text.
pub async fn start() -> WsServer {
    let seen: Shared = Arc::default();
    let app = Router::new()
        .route("/echo", get(echo))
        .route("/orders", get(orders))
        .route("/binary", get(binary))
        .route("/closing", get(closing))
        .route("/chat", get(chat))
        .with_state(Arc::clone(&seen));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    WsServer {
        base: format!("ws://{address}"),
        seen,
    }
}

fn accept(seen: &Shared, headers: &HeaderMap) {
    let mut seen = seen.lock().unwrap();
    seen.connections += 1;
    if let Some(value) = headers.get("authorization") {
        seen.authorization
            .push(value.to_str().unwrap_or_default().to_string());
    }
}

/// Reads the next data message; records a client's close frame (reading on, so the reply to
/// it goes out) and gives `None` at the end.
async fn next(socket: &mut WebSocket, seen: &Shared) -> Option<Message> {
    while let Some(Ok(message)) = socket.recv().await {
        match message {
            Message::Close(frame) => {
                if let Some(frame) = frame {
                    seen.lock()
                        .unwrap()
                        .closes
                        .push((frame.code, frame.reason.to_string()));
                }
            }
            Message::Ping(_) | Message::Pong(_) => continue,
            data => return Some(data),
        }
    }
    None
}

async fn echo(ws: WebSocketUpgrade, headers: HeaderMap, State(seen): State<Shared>) -> Response {
    accept(&seen, &headers);
    ws.on_upgrade(move |mut socket| async move {
        while let Some(message) = next(&mut socket, &seen).await {
            if socket.send(message).await.is_err() {
                return;
            }
        }
    })
}

async fn orders(ws: WebSocketUpgrade, headers: HeaderMap, State(seen): State<Shared>) -> Response {
    accept(&seen, &headers);
    ws.on_upgrade(move |mut socket| async move {
        while let Some(message) = next(&mut socket, &seen).await {
            let Message::Text(text) = message else {
                continue;
            };
            let request: Value = serde_json::from_str(text.as_str()).unwrap_or_default();
            if request["type"] != "subscribe" {
                continue;
            }
            for status in ["pending", "packed", "shipped"] {
                let update = json!({"order_id": request["order_id"], "status": status});
                if socket
                    .send(Message::text(update.to_string()))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
    })
}

async fn binary(ws: WebSocketUpgrade, headers: HeaderMap, State(seen): State<Shared>) -> Response {
    accept(&seen, &headers);
    ws.on_upgrade(move |mut socket| async move {
        while next(&mut socket, &seen).await.is_some() {
            if socket
                .send(Message::Binary(vec![0u8, 1, 2].into()))
                .await
                .is_err()
            {
                return;
            }
        }
    })
}

async fn closing(ws: WebSocketUpgrade, headers: HeaderMap, State(seen): State<Shared>) -> Response {
    accept(&seen, &headers);
    ws.on_upgrade(move |mut socket| async move {
        if next(&mut socket, &seen).await.is_some() {
            let _ = socket.send(Message::text(r#"{"status":"busy"}"#)).await;
            let frame = CloseFrame {
                code: 1011,
                reason: "overloaded".into(),
            };
            let _ = socket.send(Message::Close(Some(frame))).await;
        }
    })
}

async fn chat(ws: WebSocketUpgrade, headers: HeaderMap, State(seen): State<Shared>) -> Response {
    accept(&seen, &headers);
    ws.protocols(["chat.v1"])
        .on_upgrade(move |mut socket| async move {
            let _ = socket.send(Message::text("hello")).await;
            while next(&mut socket, &seen).await.is_some() {}
        })
}
