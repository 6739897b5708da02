//! `contract_generate` and `contract_verify` (Pact files, matched by the Pact reference
//! implementation's crates) against providers played by our own mock server.

mod common;

use serde_json::{Value, json};
use testmesh::engine::{FlowStatus, RunOptions, StepStatus};

use common::flows::{diagnostics, dump, error_of, response, run_with, step};

/// The mock provider: an order service, with `total` as given.
fn provider(total: &str) -> String {
    format!(
        r#"
  - id: provider
    action: mock_server_start
    config:
      endpoints:
        - method: GET
          path: /orders/17
          response:
            body_json: {{id: 17, status: shipped, total: {total}}}
        - method: POST
          path: /orders
          response:
            status_code: 201
            body_json: {{id: 18, status: created}}
"#
    )
}

fn in_dir(dir: &tempfile::TempDir) -> RunOptions {
    RunOptions {
        base_dir: Some(dir.path().to_path_buf()),
        ..RunOptions::default()
    }
}

#[tokio::test]
async fn a_contract_generated_from_a_run_verifies_and_a_changed_provider_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let generate = format!(
        r#"
name: consumer
steps:{}
  - id: get_order
    name: get order 17
    action: http_request
    config: {{method: GET, url: "${{provider.base_url}}/orders/17", headers: {{Accept: application/json}}}}
  - id: create_order
    action: http_request
    config: {{method: POST, url: "${{provider.base_url}}/orders", body: {{sku: A-1}}}}
  - id: contract
    action: contract_generate
    config: {{file: pacts/shop-orders.json, consumer: shop, provider: orders, steps: [get_order, create_order]}}
  - id: verify
    action: contract_verify
    config: {{file: pacts/shop-orders.json, provider_url: "${{provider.base_url}}"}}
"#,
        provider("42.5")
    );
    let result = run_with(&generate, in_dir(&dir)).await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    assert_eq!(response(&result, "contract")["count"], json!(2));
    assert_eq!(response(&result, "verify")["passed"], json!(2));
    let written: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("pacts/shop-orders.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(written["metadata"]["pactSpecification"]["version"], "3.0.0");
    assert_eq!(written["interactions"][0]["description"], "get order 17");
    assert_eq!(
        written["interactions"][0]["response"]["body"]["total"],
        json!(42.5)
    );
    assert_eq!(
        written["interactions"][1]["request"]["body"],
        json!({"sku": "A-1"})
    );

    // The provider changes: the total is now text.
    let changed = format!(
        r#"
name: provider check
steps:{}
  - id: verify
    action: contract_verify
    config: {{file: pacts/shop-orders.json, provider_url: "${{provider.base_url}}"}}
"#,
        provider("'42.50'")
    );
    let result = run_with(&changed, in_dir(&dir)).await;
    assert_eq!(step(&result, "verify").status, StepStatus::Failed);
    let error = error_of(&result, "verify");
    assert!(
        error.contains("1 of 2 interactions") && error.contains("`get order 17`: body $.total"),
        "{error}"
    );
}

/// A contract written by hand, as the Pact JS or JVM libraries write them.
const HAND_WRITTEN_V2: &str = r#"{
  "consumer": {"name": "web"},
  "provider": {"name": "orders"},
  "interactions": [{
    "description": "an order by id",
    "providerState": "order 17 exists",
    "request": {"method": "GET", "path": "/orders/17"},
    "response": {
      "status": 200,
      "headers": {"Content-Type": "application/json"},
      "body": {"id": 17, "status": "shipped", "total": 1.0},
      "matchingRules": {"$.body.total": {"match": "type"}, "$.body.status": {"match": "regex", "regex": "^(created|shipped)$"}}
    }
  }],
  "metadata": {"pactSpecification": {"version": "2.0.0"}}
}"#;

const HAND_WRITTEN_V3: &str = r#"{
  "consumer": {"name": "web"},
  "provider": {"name": "orders"},
  "interactions": [{
    "description": "an order by id",
    "providerStates": [{"name": "order 17 exists"}],
    "request": {"method": "GET", "path": "/orders/17"},
    "response": {
      "status": 200,
      "body": {"id": 17, "status": "created", "total": 0},
      "matchingRules": {"body": {
        "$.total": {"matchers": [{"match": "number"}]},
        "$.status": {"matchers": [{"match": "regex", "regex": "^(created|shipped)$"}]}
      }}
    }
  }],
  "metadata": {"pactSpecification": {"version": "3.0.0"}}
}"#;

#[tokio::test]
async fn hand_written_v2_and_v3_contracts_are_matched_by_their_rules() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("v2.json"), HAND_WRITTEN_V2).unwrap();
    std::fs::write(dir.path().join("v3.json"), HAND_WRITTEN_V3).unwrap();
    let flow = format!(
        r#"
name: provider verification
steps:{}
  - id: states
    action: mock_server_start
    config:
      name: states
      endpoints: [{{method: POST, path: /pact/states, response: {{status_code: 200}}}}]
  - id: v2
    action: contract_verify
    config: {{file: v2.json, provider_url: "${{provider.base_url}}", provider_states_url: "${{states.base_url}}/pact/states"}}
  - id: state_set_up
    action: mock_server_verify
    config: {{server: states, method: POST, path: /pact/states, body_json: {{state: order 17 exists, action: setup}}, times: 1}}
  - id: v3
    action: pact_verify
    config: {{path: v3.json, url: "${{provider.base_url}}"}}
"#,
        provider("42.5")
    );
    let result = run_with(&flow, in_dir(&dir)).await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    assert_eq!(
        response(&result, "v2")["interactions"][0]["passed"],
        json!(true)
    );
    assert_eq!(response(&result, "v3")["consumer"], "web");

    let wrong = format!(
        r#"
name: provider verification
steps:{}
  - id: v3
    action: contract_verify
    config: {{file: v3.json, provider_url: "${{provider.base_url}}"}}
"#,
        provider("'a lot'")
    );
    let result = run_with(&wrong, in_dir(&dir)).await;
    let error = error_of(&result, "v3");
    assert!(error.contains("`an order by id`: body $.total"), "{error}");
}

#[tokio::test]
async fn inline_interactions_are_written_and_bad_ones_named() {
    let dir = tempfile::tempdir().unwrap();
    let result = run_with(
        r#"
name: inline
steps:
  - id: write
    action: contract_generate
    config:
      file: inline.json
      consumer: web
      provider: orders
      interactions:
        - description: a missing order
          request: {method: GET, path: /orders/404}
          response: {status: 404}
  - id: bad
    action: contract_generate
    config:
      file: bad.json
      consumer: web
      provider: orders
      interactions: [{description: no response, request: {method: GET, path: /}}]
"#,
        in_dir(&dir),
    )
    .await;
    assert_eq!(
        step(&result, "write").status,
        StepStatus::Passed,
        "{}",
        dump(&result)
    );
    let written = std::fs::read_to_string(dir.path().join("inline.json")).unwrap();
    assert!(written.contains("a missing order"), "{written}");
    let error = error_of(&result, "bad");
    assert_eq!(
        error,
        "config.interactions[0]: needs a request and a response"
    );
}

#[tokio::test]
async fn a_step_that_made_no_exchange_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let result = run_with(
        r#"
name: no exchange
steps:
  - id: note
    action: log
    config: {message: hello}
  - id: contract
    action: contract_generate
    config: {file: c.json, consumer: a, provider: b, steps: [note, later]}
"#,
        in_dir(&dir),
    )
    .await;
    let error = error_of(&result, "contract");
    assert_eq!(
        error,
        "config.steps[0]: step `note` (log) recorded no HTTP exchange"
    );
}

#[test]
fn config_is_checked_before_the_run() {
    let found = diagnostics(
        r#"
name: typos
steps:
  - id: c
    action: contract_verify
    config: {file: c.json, provider_ur: "http://x"}
"#,
    )
    .join("\n");
    assert!(found.contains("did you mean `provider_url`"), "{found}");
}

#[tokio::test]
async fn a_consumer_run_against_a_mock_leaves_its_contract_behind() {
    let dir = tempfile::tempdir().unwrap();
    let result = run_with(
        r#"
name: consumer against a mock
steps:
  - id: orders
    action: mock_server_start
    config:
      name: orders
      record_contract: pacts/web-orders.json
      consumer: web
      provider: orders
      endpoints:
        - method: GET
          path: /orders/17
          response: {body_json: {id: 17, status: shipped}}
  - id: read
    action: http_request
    config: {method: GET, url: "${orders.base_url}/orders/17?expand=lines"}
  - id: unmatched
    action: http_request
    config: {method: GET, url: "${orders.base_url}/nothing"}
    assert: [status == 404]
  - id: stop
    action: mock_server_stop
    config: {server: orders}
    assert: [contract.count == 1]
  - id: provider
    action: mock_server_start
    config:
      endpoints:
        - method: GET
          path: /orders/17
          response: {body_json: {id: 17, status: shipped, lines: []}}
  - id: verify
    action: contract_verify
    config: {file: pacts/web-orders.json, provider_url: "${provider.base_url}"}
"#,
        in_dir(&dir),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    let written: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("pacts/web-orders.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(written["consumer"]["name"], "web");
    let interaction = &written["interactions"][0];
    assert_eq!(interaction["request"]["query"]["expand"], json!(["lines"]));
    assert_eq!(interaction["response"]["body"]["status"], "shipped");
}
