//! The `grpc` action against an in-process tonic server (tests/common/grpc_server.rs) serving
//! the Orders service of tests/fixtures/grpc with server reflection, through the engine as a
//! flow runs it; and `testmesh validate` / `testmesh run` on grpc steps.

mod common;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use indexmap::IndexMap;
use serde_json::{Value, json};
use testmesh::engine::{FlowResult, FlowStatus, RunOptions, StepStatus};

use common::flows::{dump, error_of, response, run_with, step};
use common::grpc_server::{self, GrpcServer, Reflection};

const BIN: &str = env!("CARGO_BIN_EXE_testmesh");

async fn run_against(server: &GrpcServer, yaml: &str) -> FlowResult {
    let mut variables = IndexMap::new();
    variables.insert("grpc".to_string(), Value::String(server.address.clone()));
    run_with(
        yaml,
        RunOptions {
            variables,
            ..RunOptions::default()
        },
    )
    .await
}

/// Runs the built binary with a time limit, for the CLI tests.
async fn testmesh(args: &[&str]) -> Output {
    let run = tokio::process::Command::new(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("testmesh did not finish")
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test]
async fn a_call_sends_fields_and_metadata_and_reads_enums_nested_and_repeated_fields() {
    let server = grpc_server::start(Reflection::V1).await;
    let result = run_against(
        &server,
        r#"
name: create then get
steps:
  - id: create
    action: grpc
    config:
      address: "${grpc}"
      method: testmesh.shop.v1.Orders/CreateOrder
      metadata: {x-tenant: acme}
      request:
        customer: {name: Ada, email: ada@example.com}
        items:
          - {sku: BOOK-1, quantity: 2}
          - {sku: PEN-9, quantity: 3}
        status: PENDING
    assert:
      - status == "OK"
      - code == 0
      - body.id == "ord-1"
      - body.status == "PENDING"
      - body.items[1].quantity == 3
      - body.customer.email == "ada@example.com"
      - body.total_cents == 1250
      - body.tenant == "acme"
      - response.metadata["x-served-by"] == "orders-test"
    output:
      order_id: body.id
  - id: get
    action: grpc
    config:
      address: "${grpc}"
      service: testmesh.shop.v1.Orders
      method: GetOrder
      request: {id: "${order_id}"}
    assert:
      - body.id == "ord-1"
      - body.status == "SHIPPED"
"#,
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    let got = response(&result, "get");
    assert_eq!(got["body"]["total_cents"], json!(5_000_000_000_i64));
    assert_eq!(got["body"]["tenant"], json!(""), "defaults are shown");
    assert_eq!(got["method"], json!("testmesh.shop.v1.Orders/GetOrder"));
    assert_eq!(got["headers"]["x-served-by"], json!("orders-test"));
    assert!(got["duration_ms"].is_u64(), "{got}");
}

#[tokio::test]
async fn a_status_other_than_ok_is_a_result_that_assertions_check() {
    let server = grpc_server::start(Reflection::V1).await;
    let result = run_against(
        &server,
        r#"
name: not found
steps:
  - id: missing
    action: grpc
    config: {address: "${grpc}", method: testmesh.shop.v1.Orders/GetOrder, request: {id: missing}}
    assert:
      - status == "NOT_FOUND"
      - code == 5
      - message == "order missing does not exist"
      - body == nil
"#,
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    assert_eq!(
        response(&result, "missing")["error_message"],
        json!("order missing does not exist")
    );
}

#[tokio::test]
async fn a_slow_answer_ends_at_the_deadline_as_deadline_exceeded() {
    let server = grpc_server::start(Reflection::V1).await;
    let result = run_against(
        &server,
        r#"
name: deadline
steps:
  - id: slow
    action: grpc
    config: {address: "${grpc}", method: testmesh.shop.v1.Orders/SlowOrder, request: {id: a}, timeout: 300ms}
    assert: [status == "DEADLINE_EXCEEDED", code == 4]
"#,
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
}

#[tokio::test]
async fn descriptors_come_from_a_descriptor_set_or_proto_files_without_reflection() {
    let server = grpc_server::start(Reflection::None).await;
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("orders.pb");
    std::fs::write(&set, grpc_server::descriptor_set()).unwrap();
    let proto = grpc_server::proto_dir().join("testmesh/shop/v1/orders.proto");
    let yaml = format!(
        r#"
name: without reflection
steps:
  - id: from_set
    action: grpc
    config: {{address: "${{grpc}}", method: testmesh.shop.v1.Orders/GetOrder, request: {{id: o-1}}, descriptor_set: "{set}"}}
    assert: [body.id == "o-1"]
  - id: from_protos
    action: grpc
    config:
      address: "${{grpc}}"
      method: testmesh.shop.v1.Orders/GetOrder
      request: {{id: o-2}}
      proto: "{proto}"
      import_paths: ["{imports}"]
    assert: [body.status == "SHIPPED"]
  - id: by_reflection
    action: grpc
    config: {{address: "${{grpc}}", method: testmesh.shop.v1.Orders/GetOrder}}
"#,
        set = set.display(),
        proto = proto.display(),
        imports = grpc_server::proto_dir().display(),
    );
    let result = run_against(&server, &yaml).await;
    assert_eq!(
        step(&result, "from_set").status,
        StepStatus::Passed,
        "{}",
        dump(&result)
    );
    assert_eq!(
        step(&result, "from_protos").status,
        StepStatus::Passed,
        "{}",
        dump(&result)
    );
    let error = error_of(&result, "by_reflection");
    assert!(
        error.contains(&format!(
            "server reflection at {}: it offers no server reflection",
            server.address
        )) && error.contains("give the step `descriptor_set` or `proto` files"),
        "{error}"
    );
}

#[tokio::test]
async fn reflection_falls_back_to_v1alpha() {
    let server = grpc_server::start(Reflection::V1Alpha).await;
    let result = run_against(
        &server,
        r#"
name: v1alpha
steps:
  - action: grpc
    config: {address: "${grpc}", method: testmesh.shop.v1.Orders/GetOrder, request: {id: old}}
    assert: [body.id == "old"]
"#,
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
}

#[tokio::test]
async fn unknown_services_methods_and_streaming_methods_are_named_with_what_exists() {
    let server = grpc_server::start(Reflection::V1).await;
    let result = run_against(
        &server,
        r#"
name: wrong names
steps:
  - id: method
    action: grpc
    config: {address: "${grpc}", method: testmesh.shop.v1.Orders/GetOrdr}
    on_error: continue
  - id: service
    action: grpc
    config: {address: "${grpc}", method: testmesh.shop.v1.Ordrs/GetOrder}
    on_error: continue
  - id: streaming
    action: grpc
    config: {address: "${grpc}", method: testmesh.shop.v1.Orders/WatchOrders}
"#,
    )
    .await;
    let method = error_of(&result, "method");
    assert!(
        method.contains(
            "config.method: service testmesh.shop.v1.Orders has no method `GetOrdr` (did you mean `GetOrder`?); its methods are GetOrder, CreateOrder, SlowOrder, WatchOrders"
        ),
        "{method}"
    );
    let service = error_of(&result, "service");
    assert!(
        service.contains(&format!(
            "no service `testmesh.shop.v1.Ordrs` in the server at {} (did you mean `testmesh.shop.v1.Orders`?); it offers testmesh.shop.v1.Orders",
            server.address
        )),
        "{service}"
    );
    let streaming = error_of(&result, "streaming");
    assert!(
        streaming.contains("testmesh.shop.v1.Orders/WatchOrders is a streaming method"),
        "{streaming}"
    );
}

#[tokio::test]
async fn request_fields_the_message_lacks_or_values_of_the_wrong_type_are_named() {
    let server = grpc_server::start(Reflection::V1).await;
    let result = run_against(
        &server,
        r#"
name: bad requests
steps:
  - id: unknown
    action: grpc
    config:
      address: "${grpc}"
      method: testmesh.shop.v1.Orders/CreateOrder
      request: {customer: {nmae: Ada}}
    on_error: continue
  - id: wrong_type
    action: grpc
    config:
      address: "${grpc}"
      method: testmesh.shop.v1.Orders/CreateOrder
      request: {items: [{sku: A, quantity: many}]}
"#,
    )
    .await;
    let unknown = error_of(&result, "unknown");
    assert!(
        unknown.contains(
            "config.request.customer.nmae: message testmesh.shop.v1.Customer has no field `nmae` (did you mean `name`?); its fields are name, email"
        ),
        "{unknown}"
    );
    let wrong = error_of(&result, "wrong_type");
    assert!(
        wrong.contains(
            "config.request.items[0].quantity: does not fit testmesh.shop.v1.CreateOrderRequest"
        ) && wrong.contains(r#"(found "many")"#),
        "{wrong}"
    );
}

#[tokio::test]
async fn an_unreachable_server_fails_the_step_naming_host_and_port() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    drop(listener);
    let yaml = format!(
        r#"
name: unreachable
steps:
  - id: call
    action: grpc
    config: {{address: "http://{address}", method: a.B/C}}
"#
    );
    let result = run_with(&yaml, RunOptions::default()).await;
    let error = error_of(&result, "call");
    assert!(
        error.contains(&format!("cannot connect to the gRPC server at {address}: "))
            && error.to_lowercase().contains("refused"),
        "{error}"
    );
}

#[tokio::test]
async fn validate_reports_unknown_keys_and_wrong_types_of_grpc_steps() {
    let dir = tempfile::tempdir().unwrap();
    let flow = dir.path().join("grpc.yaml");
    std::fs::write(
        &flow,
        r#"
name: bad grpc config
steps:
  - id: call
    action: grpc
    config:
      address: 127.0.0.1:50051
      method: testmesh.shop.v1.Orders/GetOrder
      requets: {id: a}
      timeout: [1]
      tls: "yes"
"#,
    )
    .unwrap();
    let output = testmesh(&["validate", flow.to_str().unwrap()]).await;
    let printed = text(&output);
    assert!(!output.status.success(), "{printed}");
    assert!(
        printed.contains("grpc does not read `requets` (did you mean `request`?)"),
        "{printed}"
    );
    assert!(
        printed.contains(
            "grpc config `timeout`: expected a duration such as 500ms or 2s, found a list [1]"
        ),
        "{printed}"
    );
    assert!(
        printed
            .contains(r#"grpc config `tls`: expected true, false or a map, found a string "yes""#),
        "{printed}"
    );
}

#[tokio::test]
async fn the_grpc_example_passes_against_a_server_named_on_the_command_line() {
    let server = grpc_server::start(Reflection::V1).await;
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/services/grpc.yaml");
    let var = format!("GRPC_ADDRESS={}", server.address);
    let output = testmesh(&["run", example.to_str().unwrap(), "--var", &var]).await;
    assert!(output.status.success(), "{}", text(&output));
}
