//! The `websocket` action against an in-process WebSocket server: sending, receiving until an
//! expression holds or a count is reached, one connection across steps, closing, and the
//! errors a user sees when the server or the flow is wrong.

mod common;

use std::path::Path;

use indexmap::IndexMap;
use serde_json::{Value, json};
use testmesh::engine::{FlowResult, FlowStatus, RunOptions, StepStatus};

use common::flows::{diagnostics, dump, error_of, response, run_with, step};
use common::ws_server::{WsServer, start};

async fn run_against(server: &WsServer, yaml: &str) -> FlowResult {
    let mut variables = IndexMap::new();
    variables.insert("ws".to_string(), Value::String(server.base.clone()));
    run_with(
        yaml,
        RunOptions {
            variables,
            ..RunOptions::default()
        },
    )
    .await
}

#[tokio::test]
async fn sends_then_receives_until_the_expression_holds_on_one_connection() {
    let server = start().await;
    let result = run_against(
        &server,
        r#"
name: orders feed
env: {order: A-7}
steps:
  - id: subscribe
    action: websocket
    config:
      url: "${ws}/orders"
      connection: orders
      headers: {Authorization: Bearer t0k3n}
      send: {type: subscribe, order_id: "${order}"}
      until: message.status == "shipped" && message.order_id == "${order}"
      timeout: 5s
    assert:
      - message.status == "shipped"
      - count == 3
      - messages[0].status == "pending"
      - len(matched) == 1
      - connected
      - not reused
  - id: again
    action: ws
    config:
      connection: orders
      send: {type: subscribe, order_id: B-8}
      count: 2
    assert: [reused, count == 2, 'messages[1].status == "packed"', 'message.status == "packed"']
"#,
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    assert_eq!(response(&result, "again")["sent"], json!(1));
    let seen = server.seen();
    assert_eq!(seen.connections, 1, "the second step reused the connection");
    assert_eq!(seen.authorization, vec!["Bearer t0k3n".to_string()]);
}

#[tokio::test]
async fn messages_after_the_match_wait_for_the_next_step() {
    let server = start().await;
    let result = run_against(
        &server,
        r#"
name: leftovers
steps:
  - id: first
    action: websocket
    config: {url: "${ws}/orders", send: {type: subscribe, order_id: 1}, until: message.status == "pending"}
  - id: rest
    action: websocket
    config: {count: 2}
    assert: ['messages[0].status == "packed"', 'messages[1].status == "shipped"']
"#,
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    assert_eq!(response(&result, "first")["count"], json!(1));
}

#[tokio::test]
async fn a_timeout_shows_what_did_arrive() {
    let server = start().await;
    let result = run_against(
        &server,
        r#"
name: never shipped
steps:
  - id: wait
    action: websocket
    config:
      url: "${ws}/orders"
      send: {type: subscribe, order_id: 9}
      until: message.status == "delivered"
      timeout: 300ms
"#,
    )
    .await;
    assert_eq!(result.status, FlowStatus::Error, "{}", dump(&result));
    let error = error_of(&result, "wait");
    let port = server.base.trim_start_matches("ws://");
    assert_eq!(
        error,
        format!(
            r#"WebSocket connection `default` to {port} (ws://{port}/orders): 0 of 1 messages matching `message.status == "delivered"` arrived within 300ms (3 read); received: {{"order_id":9,"status":"pending"}} | {{"order_id":9,"status":"packed"}} | {{"order_id":9,"status":"shipped"}}"#
        )
    );
}

#[tokio::test]
async fn count_mode_timeout_says_how_many_came() {
    let server = start().await;
    let result = run_against(
        &server,
        r#"
name: too few
steps:
  - id: wait
    action: websocket
    config: {url: "${ws}/echo", send: [one, two], count: 3, timeout: 300ms}
"#,
    )
    .await;
    let error = error_of(&result, "wait");
    assert!(
        error.ends_with(
            r#": 2 of 3 messages arrived within 300ms (2 read); received: "one" | "two""#
        ),
        "{error}"
    );
}

#[tokio::test]
async fn a_server_closing_mid_receive_is_an_error_with_its_code() {
    let server = start().await;
    let result = run_against(
        &server,
        r#"
name: closed on us
steps:
  - id: wait
    action: websocket
    config: {url: "${ws}/closing", send: hi, until: message.status == "done", timeout: 5s}
  - id: after
    action: websocket
    config: {send: again}
"#,
    )
    .await;
    assert_eq!(result.status, FlowStatus::Error, "{}", dump(&result));
    let error = error_of(&result, "wait");
    assert!(
        error.ends_with(
            r#"the server closed the connection with code 1011 (overloaded) while 0 of 1 messages matching `message.status == "done"` had arrived; received: {"status":"busy"}"#
        ),
        "{error}"
    );
}

#[tokio::test]
async fn a_closed_connection_is_forgotten_so_a_later_step_needs_a_url() {
    let server = start().await;
    let result = run_against(
        &server,
        r#"
name: closed then reused
steps:
  - id: wait
    action: websocket
    config: {url: "${ws}/closing", send: hi, count: 5, timeout: 5s}
    on_error: continue
  - id: after
    action: websocket
    config: {send: again}
"#,
    )
    .await;
    assert_eq!(step(&result, "wait").status, StepStatus::Error);
    assert_eq!(
        error_of(&result, "after"),
        "config.url: is needed: no connection `default` is open (none is open)"
    );
}

#[tokio::test]
async fn binary_frames_arrive_as_base64_and_can_be_sent() {
    let server = start().await;
    let result = run_against(
        &server,
        r#"
name: bytes
steps:
  - id: bytes
    action: websocket
    config: {url: "${ws}/binary", send: go, count: 1}
    assert: ['message == "AAEC"']
  - id: echo
    action: websocket
    config: {url: "${ws}/echo", connection: echo, send_binary: "/wA=", count: 1}
    assert: ['message == "/wA="']
"#,
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
}

#[tokio::test]
async fn text_that_is_not_json_stays_text_and_subprotocols_are_offered() {
    let server = start().await;
    let result = run_against(
        &server,
        r#"
name: chat
steps:
  - id: hello
    action: websocket
    config: {url: "${ws}/chat", subprotocols: [chat.v1], until: message == "hello"}
    assert: ['protocol == "chat.v1"']
"#,
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
}

#[tokio::test]
async fn closing_sends_the_code_and_reports_the_reply() {
    let server = start().await;
    let result = run_against(
        &server,
        r#"
name: goodbye
steps:
  - id: open
    action: websocket
    config: {url: "${ws}/echo", send: ping, count: 1}
  - id: bye
    action: websocket
    config: {close: true, close_code: 4000, close_reason: done}
    assert: [close_code == 4000, 'close_reason == "done"', not connected]
"#,
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    assert_eq!(server.seen().closes, vec![(4000, "done".to_string())]);
}

#[tokio::test]
async fn the_run_closes_what_its_steps_left_open() {
    let server = start().await;
    let result = run_against(
        &server,
        r#"
name: left open
steps:
  - action: websocket
    config: {url: "${ws}/echo", send: ping, count: 1}
"#,
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    assert_eq!(server.seen().closes, vec![(1000, String::new())]);
}

#[tokio::test]
async fn another_url_under_an_open_name_is_refused() {
    let server = start().await;
    let result = run_against(
        &server,
        r#"
name: two urls
steps:
  - action: websocket
    config: {url: "${ws}/echo"}
  - id: other
    action: websocket
    config: {url: "${ws}/orders"}
"#,
    )
    .await;
    let error = error_of(&result, "other");
    assert!(
        error.starts_with("config.url: connection `default` is open to ws://")
            && error
                .ends_with("/orders: close it first, or give this one another `connection` name"),
        "{error}"
    );
}

#[tokio::test]
async fn an_unreachable_server_is_named_by_host_and_port() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let result = run_with(
        &format!(
            "name: nobody\nsteps:\n  - id: connect\n    action: websocket\n    config: {{url: 'ws://127.0.0.1:{port}/feed', send: hi}}\n"
        ),
        RunOptions::default(),
    )
    .await;
    let error = error_of(&result, "connect");
    assert!(
        error.starts_with(&format!(
            "WebSocket connection to 127.0.0.1:{port} (ws://127.0.0.1:{port}/feed) failed: "
        )),
        "{error}"
    );
}

#[tokio::test]
async fn a_path_that_is_not_a_websocket_says_what_the_server_answered() {
    let server = start().await;
    let result = run_against(
        &server,
        "name: wrong path\nsteps:\n  - id: connect\n    action: websocket\n    config: {url: '${ws}/nothing'}\n",
    )
    .await;
    let error = error_of(&result, "connect");
    assert!(
        error.ends_with("failed: the server answered the upgrade with HTTP 404 Not Found"),
        "{error}"
    );
}

#[test]
fn validation_names_unknown_keys_wrong_types_and_bad_expressions() {
    let found = diagnostics(
        r#"name: f
steps:
  - id: ws
    action: websocket
    config:
      url: ws://127.0.0.1:1/x
      untill: message.ok
      count: many
      close: maybe
      until: 'message.status =='
"#,
    );
    assert_eq!(found.len(), 4, "{found:#?}");
    assert!(
        found.iter().any(|d| d.contains(
            "steps[0].config.untill: websocket does not read `untill` (did you mean `until`?)"
        )),
        "{found:#?}"
    );
    assert!(
        found.iter().any(|d| d.contains(
            "steps[0].config.count: websocket config `count`: expected a whole number, found a string \"many\""
        )),
        "{found:#?}"
    );
    assert!(
        found.iter().any(|d| d.contains(
            "steps[0].config.close: websocket config `close`: expected true or false, found a string \"maybe\""
        )),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|d| d
                .contains("steps[0].config.until: `message.status ==` is not a valid expression")),
        "{found:#?}"
    );
}

#[test]
fn a_valid_websocket_step_validates_clean() {
    let found = diagnostics(
        r#"name: f
env: {WS_URL: "ws://127.0.0.1:8765"}
steps:
  - id: ws
    action: websocket
    config:
      url: "${WS_URL}/orders"
      headers: {Authorization: Bearer x}
      subprotocols: [v1]
      send: [{type: subscribe}, ping]
      until: message.status == "shipped"
      timeout: 5s
      connect_timeout: 2s
      verify_ssl: false
      close: true
"#,
    );
    assert!(found.is_empty(), "{found:#?}");
}

/// Runs the built `testmesh` with `args`, off the async workers so the server keeps answering;
/// gives the exit code and everything it printed.
async fn testmesh(args: Vec<String>) -> (Option<i32>, String) {
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_testmesh"))
            .args(&args)
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    });
    let output = tokio::time::timeout(std::time::Duration::from_secs(60), output)
        .await
        .expect("testmesh did not finish")
        .unwrap();
    let all = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), all)
}

#[tokio::test]
async fn the_example_validates_and_passes_through_the_command_line() {
    let server = start().await;
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/services/websocket.yaml");
    let example = example.to_string_lossy().into_owned();
    let ws_url = format!("WS_URL={}", server.base);
    for command in ["validate", "run"] {
        let args = [command, &example, "--var", &ws_url]
            .map(String::from)
            .to_vec();
        let (code, all) = testmesh(args).await;
        assert_eq!(code, Some(0), "{command}: {all}");
    }
    let seen = server.seen();
    assert_eq!(seen.connections, 1);
    assert_eq!(seen.authorization, vec!["Bearer example-token".to_string()]);
    assert_eq!(seen.closes, vec![(1000, String::new())]);
}
