//! Mock servers as flow steps start and stop them, called over HTTP, and served from a file.

use std::io::Write as _;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use testmesh::engine::actions::mock_server::{MockRegistry, start, stop};
use testmesh::engine::actions::{ActionError, ActionOutput};
use testmesh::mock::serve_file;

const BOUND: Duration = Duration::from_secs(20);

fn config(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("config must be a map, got {other}"),
    }
}

async fn start_mock(registry: &MockRegistry, value: Value) -> Result<ActionOutput, ActionError> {
    tokio::time::timeout(BOUND, start(&config(value), registry))
        .await
        .expect("start took too long")
}

async fn stop_mock(registry: &MockRegistry, value: Value) -> Result<ActionOutput, ActionError> {
    tokio::time::timeout(BOUND, stop(&config(value), registry))
        .await
        .expect("stop took too long")
}

async fn base_url(registry: &MockRegistry, value: Value) -> String {
    let output = start_mock(registry, value)
        .await
        .expect("the mock did not start");
    output.result["base_url"].as_str().unwrap().to_string()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn call(request: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap, String) {
    let response = tokio::time::timeout(BOUND, request.send())
        .await
        .expect("no answer in time")
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = tokio::time::timeout(BOUND, response.text())
        .await
        .unwrap()
        .unwrap();
    (status, headers, body)
}

#[tokio::test]
async fn start_gives_the_documented_result_keys() {
    let registry = MockRegistry::default();
    let output = start_mock(&registry, json!({"endpoints": [{"path": "/ping"}]}))
        .await
        .unwrap();
    let result = &output.result;
    assert_eq!(result["name"], "mock_1");
    let server_id = result["server_id"].as_str().unwrap();
    assert_eq!(
        uuid::Uuid::parse_str(server_id).unwrap().get_version_num(),
        4
    );
    let port = result["port"].as_u64().unwrap();
    assert_eq!(result["base_url"], format!("http://127.0.0.1:{port}"));
    let second = start_mock(&registry, json!({"endpoints": [{"path": "/ping"}]}))
        .await
        .unwrap();
    assert_eq!(second.result["name"], "mock_2");
    registry.stop_all().await;
    let after = tokio::time::timeout(
        BOUND,
        client().get(format!("http://127.0.0.1:{port}/ping")).send(),
    )
    .await
    .unwrap();
    assert!(
        after.is_err_and(|err| err.is_connect()),
        "the server still answers after stop_all"
    );
}

#[tokio::test]
async fn path_params_status_headers_and_bodies() {
    let registry = MockRegistry::default();
    let url = base_url(
        &registry,
        json!({"name": "users", "endpoints": [
            {"path": "/users/{id}", "method": "get",
             "response": {"status_code": 200, "headers": {"X-Total": 3, "X-Kind": "user"}, "body_json": {"id": 7, "name": "Ada"}}},
            {"path": "/users/:id/avatar", "response": {"body_text": "png"}},
            {"path": "/users", "method": "POST", "response": {"status_code": 201, "body": "created"}},
            {"path": "/static/*", "response": {"status_code": 204}},
        ]}),
    )
    .await;
    let (status, headers, body) = call(client().get(format!("{url}/users/7"))).await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-total"], "3");
    assert_eq!(headers["x-kind"], "user");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"id": 7, "name": "Ada"})
    );

    let (status, headers, body) = call(client().get(format!("{url}/users/7/avatar"))).await;
    assert_eq!((status, body.as_str()), (200, "png"));
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");

    let (status, _, body) = call(client().post(format!("{url}/users")).body("{}")).await;
    assert_eq!((status, body.as_str()), (201, "created"));

    let (status, _, _) = call(client().get(format!("{url}/static/css/site.css"))).await;
    assert_eq!(status, 204);
    registry.stop_all().await;
}

#[tokio::test]
async fn header_query_and_body_json_matching_choose_the_endpoint() {
    let registry = MockRegistry::default();
    let url = base_url(
        &registry,
        json!({"endpoints": [
            {"path": "/orders", "method": "POST", "match": {"body_json": {"type": "express"}}, "response": {"body_json": {"lane": "fast"}}},
            {"path": "/orders", "method": "POST", "response": {"body_json": {"lane": "normal"}}},
            {"path": "/search", "match": {"query_params": {"page": 2}}, "response": {"body_text": "page two"}},
            {"path": "/search", "response": {"body_text": "page one"}},
            {"path": "/v", "match": {"headers": {"x-api-version": "2"}}, "response": {"body_text": "v2"}},
            {"match": {"path_pattern": "/items/[0-9]+"}, "response": {"body_text": "item"}},
        ]}),
    )
    .await;
    let (_, _, body) = call(
        client()
            .post(format!("{url}/orders"))
            .json(&json!({"type": "express", "qty": 1})),
    )
    .await;
    assert_eq!(body, r#"{"lane":"fast"}"#);
    let (_, _, body) = call(
        client()
            .post(format!("{url}/orders"))
            .json(&json!({"type": "slow"})),
    )
    .await;
    assert_eq!(body, r#"{"lane":"normal"}"#);
    assert_eq!(
        call(client().get(format!("{url}/search?page=2&q=x")))
            .await
            .2,
        "page two"
    );
    assert_eq!(
        call(client().get(format!("{url}/search?page=1"))).await.2,
        "page one"
    );
    assert_eq!(
        call(
            client()
                .get(format!("{url}/v"))
                .header("X-API-Version", "2")
        )
        .await
        .2,
        "v2"
    );
    assert_eq!(
        call(client().get(format!("{url}/items/12"))).await.2,
        "item"
    );
    assert_eq!(call(client().get(format!("{url}/items/ab"))).await.0, 404);
    registry.stop_all().await;
}

#[tokio::test]
async fn unmatched_requests_get_404_listing_what_was_tried() {
    let registry = MockRegistry::default();
    let url = base_url(
        &registry,
        json!({"endpoints": [
            {"path": "/users/{id}", "method": "GET"},
            {"path": "/v", "match": {"headers": {"X-Api-Version": "2"}}},
        ]}),
    )
    .await;
    let (status, _, body) = call(client().delete(format!("{url}/v"))).await;
    assert_eq!(status, 404);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"], "no mock endpoint matches DELETE /v");
    assert_eq!(
        body["tried"],
        json!([
            {"endpoint": 0, "route": "GET /users/{id}", "reason": "method DELETE is not GET"},
            {"endpoint": 1, "route": "ANY /v", "reason": "header x-api-version is missing (expected \"2\")"},
        ])
    );
    registry.stop_all().await;
}

#[tokio::test]
async fn delay_ms_delays_the_answer() {
    let registry = MockRegistry::default();
    let url = base_url(
        &registry,
        json!({"endpoints": [{"path": "/slow", "response": {"delay_ms": 300}}, {"path": "/fast"}]}),
    )
    .await;
    let started = Instant::now();
    assert_eq!(call(client().get(format!("{url}/slow"))).await.0, 200);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    let started = Instant::now();
    assert_eq!(call(client().get(format!("{url}/fast"))).await.0, 200);
    assert!(started.elapsed() < Duration::from_millis(300));
    registry.stop_all().await;
}

#[tokio::test]
async fn stop_returns_what_the_server_received() {
    let registry = MockRegistry::default();
    let started = start_mock(
        &registry,
        json!({"name": "api", "endpoints": [{"path": "/a"}]}),
    )
    .await
    .unwrap();
    let url = started.result["base_url"].as_str().unwrap().to_string();
    call(client().get(format!("{url}/a"))).await;
    call(client().post(format!("{url}/missing?x=1"))).await;
    let stopped = stop_mock(&registry, json!({"name": "api"}))
        .await
        .unwrap()
        .result;
    assert_eq!(stopped["request_count"], 2);
    assert_eq!(
        stopped["requests"],
        json!([{"method": "GET", "path": "/a"}, {"method": "POST", "path": "/missing"}])
    );
    assert_eq!(stopped["server_id"], started.result["server_id"]);

    let again = start_mock(
        &registry,
        json!({"name": "api", "endpoints": [{"path": "/a"}]}),
    )
    .await
    .unwrap();
    let by_id = stop_mock(&registry, json!({"server_id": again.result["server_id"]}))
        .await
        .unwrap();
    assert_eq!(by_id.result["name"], "api");
    assert_eq!(by_id.result["request_count"], 0);
}

#[tokio::test]
async fn names_must_be_unique_and_unknown_names_list_the_running_ones() {
    let registry = MockRegistry::default();
    start_mock(
        &registry,
        json!({"name": "payments", "endpoints": [{"path": "/a"}]}),
    )
    .await
    .unwrap();
    start_mock(
        &registry,
        json!({"name": "users", "endpoints": [{"path": "/a"}]}),
    )
    .await
    .unwrap();
    let err = start_mock(
        &registry,
        json!({"name": "users", "endpoints": [{"path": "/b"}]}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err,
        ActionError::Failed(
            "a mock server named \"users\" is already running; stop it first or choose another name".into()
        )
    );
    let err = stop_mock(&registry, json!({"name": "orders"}))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ActionError::Failed(
            "no running mock server named \"orders\"; running: payments, users".into()
        )
    );
    registry.stop_all().await;
    let err = stop_mock(&registry, json!({"name": "users"}))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ActionError::Failed("no running mock server named \"users\"; running: none".into())
    );
}

#[tokio::test]
async fn two_servers_run_at_once() {
    let registry = MockRegistry::default();
    let first = base_url(
        &registry,
        json!({"name": "one", "endpoints": [{"path": "/who", "response": {"body_text": "one"}}]}),
    )
    .await;
    let second = base_url(
        &registry,
        json!({"name": "two", "endpoints": [{"path": "/who", "response": {"body_text": "two"}}]}),
    )
    .await;
    assert_ne!(first, second);
    assert_eq!(call(client().get(format!("{first}/who"))).await.2, "one");
    assert_eq!(call(client().get(format!("{second}/who"))).await.2, "two");
    assert_eq!(
        stop_mock(&registry, json!({"name": "one"}))
            .await
            .unwrap()
            .result["request_count"],
        1
    );
    assert_eq!(call(client().get(format!("{second}/who"))).await.2, "two");
    assert_eq!(
        stop_mock(&registry, json!({"name": "two"}))
            .await
            .unwrap()
            .result["request_count"],
        2
    );
}

#[tokio::test]
async fn bad_configs_and_busy_ports_are_clear_errors() {
    let registry = MockRegistry::default();
    let err = start_mock(
        &registry,
        json!({"endpoints": [{"path": "/a"}, {"path": "/b", "match": {"path_pattern": "(x"}}]}),
    )
    .await
    .unwrap_err();
    match err {
        ActionError::InvalidConfig { field, message } => {
            assert_eq!(field, "endpoints[1].match.path_pattern");
            assert!(
                message.starts_with("invalid regular expression \"(x\""),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    let err = start_mock(
        &registry,
        json!({"endpoints": [{"path": "/a", "response": {"status_code": "ok"}}]}),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, ActionError::InvalidConfig { field, .. } if field == "endpoints[0].response.status_code"),
        "{err:?}"
    );
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = start_mock(
        &registry,
        json!({"port": port, "endpoints": [{"path": "/a"}]}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err,
        ActionError::Failed(format!(
            "port {port} on 127.0.0.1 is already in use; choose another port or leave it out to get a free one"
        ))
    );
}

#[tokio::test]
async fn serve_file_serves_until_shutdown() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    write!(
        file,
        "mock_server:\n  endpoints:\n    - path: /health\n      response:\n        status_code: 200\n        body_json: {{status: ok}}\n"
    )
    .unwrap();
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let path = file.path().to_path_buf();
    let serving = tokio::spawn(async move {
        serve_file(&path, Some(port), async move {
            let _ = stop_rx.await;
        })
        .await
    });
    let url = format!("http://127.0.0.1:{port}/health");
    let mut answer = None;
    for _ in 0..100 {
        if let Ok(Ok(response)) = tokio::time::timeout(BOUND, client().get(&url).send()).await {
            answer = Some(response.text().await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(answer.as_deref(), Some(r#"{"status":"ok"}"#));
    stop_tx.send(()).unwrap();
    tokio::time::timeout(BOUND, serving)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn serve_file_names_the_bad_field() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    write!(file, "endpoints:\n  - path: /a\n    respons: {{}}\n").unwrap();
    let err = tokio::time::timeout(BOUND, serve_file(file.path(), None, std::future::pending()))
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("endpoints[0].respons: unknown field `respons`"),
        "{err}"
    );
    let mut empty = tempfile::NamedTempFile::new().unwrap();
    writeln!(empty, "name: nothing here").unwrap();
    let err = serve_file(empty.path(), None, std::future::ready(()))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("no endpoints list: put it at the top level or under mock: or mock_server:"),
        "{err}"
    );
}
