//! Mock servers as flow steps start, verify, update, reset and stop them, called over HTTP, and
//! served from a file.

mod common;

use std::io::Write as _;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use testmesh::engine::actions::mock_server::{MockRegistry, start, stop};
use testmesh::engine::actions::{ActionError, ActionOutput};
use testmesh::engine::{FlowStatus, StepStatus};
use testmesh::mock::serve_file;

use common::flows::{dump, error_of, response, run, step};

const BOUND: Duration = Duration::from_secs(20);

fn config(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("config must be a map, got {other}"),
    }
}

async fn start_mock(registry: &MockRegistry, value: Value) -> Result<ActionOutput, ActionError> {
    tokio::time::timeout(BOUND, start(&config(value), registry, None))
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

// ------------------------------------------------ verify, update, reset_state, stop by server

#[tokio::test]
async fn verify_counts_what_the_mock_received_and_lists_it_when_the_count_is_wrong() {
    let result = run(r#"
flow:
  name: Payment audit
  setup:
    - id: start_payments
      action: mock_server_start
      config:
        name: payments
        endpoints:
          - path: /charges
            method: POST
            response: {status_code: 201, body_json: {id: ch_1}}
      output:
        payments_url: $.base_url
  steps:
    - id: small_charge
      action: http_request
      config:
        method: POST
        url: "${payments_url}/charges"
        headers: {X-Api-Key: k-1}
        body: {amount: 10, currency: EUR}
    - id: large_charge
      action: http_request
      config:
        method: POST
        url: "${payments_url}/charges?capture=true"
        body: {amount: 25, currency: EUR}
    - id: one_small_charge
      action: mock_server_verify
      config:
        server: payments
        method: POST
        path: /charges
        headers: {X-Api-Key: k-1}
        body_json: {amount: 10}
        times: 1
      assert:
        - verified == true
        - matched == 1
        - request_count == 2
        - requests[1].query == "capture=true"
    - id: audit
      action: mock_server_verify
      config:
        server: payments
        assertions:
          - {path: /charges, method: POST, count_min: 2}
          - {path: /health, method: GET, count: 0}
          - {path: /charges, query: {capture: "true"}, body: {currency: EUR}, at_most: 1}
      assert:
        - len(checks) == 3
        - checks[0].matched == 2
    - id: three_charges
      action: mock_server_verify
      config:
        server: payments
        path: /charges
        body: {amount: 10, currency: EUR}
        times: 3
      on_error: continue
  teardown:
    - id: stop_payments
      action: mock_server_stop
      config:
        server: payments
      assert: [request_count == 2]
"#)
    .await;
    for id in ["one_small_charge", "audit", "stop_payments"] {
        assert_eq!(
            step(&result, id).status,
            StepStatus::Passed,
            "{id}: {}",
            dump(&result)
        );
    }
    let requests = &response(&result, "one_small_charge")["requests"];
    assert_eq!(requests[0]["method"], "POST");
    assert_eq!(requests[0]["headers"]["x-api-key"], "k-1");
    assert_eq!(
        requests[0]["body"],
        json!({"amount": 10, "currency": "EUR"})
    );
    let failed = step(&result, "three_charges");
    assert_eq!(failed.status, StepStatus::Failed, "{}", dump(&result));
    assert_eq!(result.status, FlowStatus::Failed);
    let error = error_of(&result, "three_charges");
    let expected = [
        r#"mock server "payments": expected exactly 3 request(s) ANY /charges with a JSON body containing {"amount":10,"currency":"EUR"}, the mock received 1 that matched; the 2 request(s) it received:"#,
        r#"  1. POST /charges {"amount":10,"currency":"EUR"}: matched"#,
        r#"  2. POST /charges?capture=true {"amount":25,"currency":"EUR"}: the JSON body does not contain {"amount":10,"currency":"EUR"}"#,
    ];
    assert_eq!(error, expected.join("\n"));
}

#[tokio::test]
async fn update_replaces_and_adds_endpoints_of_a_running_mock() {
    let result = run(r#"
flow:
  name: Order status changes
  setup:
    - id: start_orders
      action: mock_server_start
      config:
        name: orders
        endpoints:
          - path: /orders/{id}
            method: GET
            response: {status_code: 200, body_json: {status: pending}}
  steps:
    - id: before
      action: http_request
      config: {url: "${start_orders.base_url}/orders/7"}
      assert: [body.status == "pending"]
    - id: ship
      action: mock_server_configure
      config:
        server_id: "${start_orders.server_id}"
        endpoints:
          - path: /orders/{id}
            method: get
            response: {status_code: 200, body_json: {status: shipped}}
          - path: /orders/{id}/cancel
            method: POST
            response: {status_code: 409, body_json: {error: already shipped}}
      assert: [endpoints_replaced == 1, endpoints_added == 1, endpoint_count == 2]
    - id: after
      action: http_request
      config: {url: "${start_orders.base_url}/orders/7"}
      assert: [body.status == "shipped"]
    - id: cancel
      action: http_request
      config: {method: POST, url: "${start_orders.base_url}/orders/7/cancel"}
      assert: [status == 409]
    - id: one_more
      action: mock_server_update
      config:
        server: orders
        endpoint:
          path: /orders/{id}
          method: GET
          match: {headers: {X-Debug: "1"}}
          response: {status_code: 200, body_json: {status: debug}}
      assert: [endpoints_added == 1, endpoint_count == 3]
    - id: newest_first
      action: http_request
      config: {url: "${start_orders.base_url}/orders/7", headers: {X-Debug: "1"}}
      assert: [body.status == "debug"]
    - id: bad_update
      action: mock_server_update
      config:
        server: orders
        endpoint: {path: /orders, response: {status: 200}}
      on_error: continue
    - id: unchanged
      action: http_request
      config: {url: "${start_orders.base_url}/orders/7"}
      assert: [body.status == "shipped"]
"#)
    .await;
    for id in [
        "before",
        "ship",
        "after",
        "cancel",
        "one_more",
        "newest_first",
        "unchanged",
    ] {
        assert_eq!(
            step(&result, id).status,
            StepStatus::Passed,
            "{id}: {}",
            dump(&result)
        );
    }
    assert_eq!(step(&result, "bad_update").status, StepStatus::Error);
    let error = error_of(&result, "bad_update");
    assert!(
        error.starts_with("config.endpoint.response.status: unknown field `status`"),
        "{error}"
    );
}

#[tokio::test]
async fn reset_state_forgets_the_requests_and_starts_times_again() {
    let result = run(r#"
flow:
  name: Job retries
  setup:
    - id: jobs
      action: mock_server_start
      config:
        name: jobs
        endpoints:
          - {path: /job, times: 1, response: {status_code: 202}}
          - {path: /job, response: {status_code: 200}}
  steps:
    - id: first
      action: http_request
      config: {url: "${jobs.base_url}/job"}
      assert: [status == 202]
    - id: second
      action: http_request
      config: {url: "${jobs.base_url}/job"}
      assert: [status == 200]
    - id: reset
      action: mock_server_reset_state
      config: {server: "${jobs.server_id}"}
      assert: [requests_cleared == 2]
    - id: again
      action: http_request
      config: {url: "${jobs.base_url}/job"}
      assert: [status == 202]
    - id: only_the_last
      action: mock_server_verify
      config: {name: jobs, path: /job, times: 1}
      assert: [request_count == 1]
"#)
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
}

#[tokio::test]
async fn steps_that_name_no_running_server_say_which_are_running() {
    let result = run(r#"
flow:
  name: Wrong server
  setup:
    - action: mock_server_start
      config: {name: users, endpoints: [{path: /a}]}
  steps:
    - id: verify_other
      action: mock_server_verify
      config: {server: orders, path: /a}
      on_error: continue
    - id: stop_other
      action: mock_server_stop
      config: {server: orders}
      on_error: continue
    - id: no_server
      action: mock_server_reset_state
      config: {}
      on_error: continue
    - id: bad_check
      action: mock_server_verify
      config: {server: users, path: /a, times: 1, at_least: 1}
      on_error: continue
"#)
    .await;
    let running =
        "no running mock server named \"orders\" (or with that server_id); running: users";
    assert_eq!(error_of(&result, "verify_other"), running);
    assert_eq!(error_of(&result, "stop_other"), running);
    assert_eq!(
        error_of(&result, "no_server"),
        "config.server: is required (the name given at start; or `name`, or `server_id`)"
    );
    assert_eq!(
        error_of(&result, "bad_check"),
        "config.times: set `times` (an exact count) or `at_least`/`at_most`, not both"
    );
}

// ------------------------------------------------ response templates and stateful endpoints

#[tokio::test]
async fn responses_echo_the_request_and_counters_keep_state_until_reset() {
    let result = run(r#"
name: Templated mock answers
suite: mocks
env:
  API_ROOT: http://accounts.example
setup:
  - id: start_accounts
    action: mock_server_start
    config:
      name: accounts
      endpoints:
        - path: /accounts
          method: POST
          response:
            status_code: 201
            headers:
              X-Echo-Method: "{{request.method}}"
            body_json:
              name: "{{request.body.name}}"
              age: "{{request.body.age}}"
              greeting: "Welcome, {{request.body.name}}!"
              nickname: "{{request.body.nickname}}"
              home: "{{API_ROOT}}/accounts"
        - path: /accounts/{id}/notes
          method: GET
          response:
            body_json:
              account: "{{request.path_params.id}}"
              path: "{{request.path}}"
              page: "{{request.query.page}}"
              tenant: "${request.headers.x-tenant}"
        - path: /visits
          method: POST
          state: {state_key: visits, initial_value: 0, update_rule: increment}
          response:
            body_json: {visits: "{{state.visits}}"}
        - path: /visits
          method: GET
          state: {state_key: visits}
          response:
            body_text: "visits so far: {{state.visits}}"
    output:
      accounts_url: $.base_url
steps:
  - id: create
    action: http_request
    config:
      method: POST
      url: "{{accounts_url}}/accounts"
      body: {name: Grace, age: 36}
    assert:
      - status == 201
      - body.name == "Grace"
      - body.age == 36
      - body.greeting == "Welcome, Grace!"
      - body.nickname == nil
      - body.home == "http://accounts.example/accounts"
      - headers["X-Echo-Method"] == "POST"
  - id: notes
    action: http_request
    config:
      url: "{{accounts_url}}/accounts/77/notes?page=3"
      headers: {X-Tenant: acme}
    assert:
      - body.account == "77"
      - body.path == "/accounts/77/notes"
      - body.page == "3"
      - body.tenant == "acme"
  - id: first_visit
    action: http_request
    config: {method: POST, url: "{{accounts_url}}/visits"}
    assert: [body.visits == 1]
  - id: second_visit
    action: http_request
    config: {method: POST, url: "{{accounts_url}}/visits"}
    assert: [body.visits == 2]
  - id: peek
    action: http_request
    config: {url: "{{accounts_url}}/visits"}
    assert: ['body == "visits so far: 2"']
  - id: reset
    action: mock_server_reset_state
    config: {server: accounts}
  - id: visit_after_reset
    action: http_request
    config: {method: POST, url: "{{accounts_url}}/visits"}
    assert: [body.visits == 1]
  - id: add_search
    action: mock_server_update
    config:
      server: accounts
      endpoint:
        path: /search
        response:
          headers: {X-Query: "{{request.query.q}}"}
          body_json: {q: "{{request.query.q}}", visits: "{{state.visits}}"}
  - id: search
    action: http_request
    config: {url: "{{accounts_url}}/search?q=ada"}
    assert: [body.q == "ada", body.visits == 1, 'headers["X-Query"] == "ada"']
"#)
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    assert_eq!(
        response(&result, "create")["body"],
        json!({"name": "Grace", "age": 36, "greeting": "Welcome, Grace!", "nickname": null,
               "home": "http://accounts.example/accounts"})
    );
    assert_eq!(
        response(&result, "visit_after_reset")["body"],
        json!({"visits": 1})
    );
}

#[tokio::test]
async fn a_bad_update_rule_is_an_error_naming_the_value_and_the_endpoint() {
    let registry = MockRegistry::default();
    let Err(err) = start_mock(
        &registry,
        json!({"endpoints": [
            {"path": "/a"},
            {"path": "/counter", "method": "POST",
             "state": {"state_key": "n", "update_rule": "add_one"}}
        ]}),
    )
    .await
    else {
        panic!("a bad update rule must not start");
    };
    let text = err.to_string();
    assert!(
        text.contains("endpoints[1].state.update_rule")
            && text.contains("\"add_one\"")
            && text.contains("POST /counter"),
        "{text}"
    );
}
