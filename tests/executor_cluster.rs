//! What an executor reads from the cluster, against a mock Kubernetes API server (kube-rs's
//! `tower_test` pattern, see tests/support): a TestEnvironment's variables, Secret and ConfigMap
//! keys, whole Secrets and ConfigMaps, headers, service URLs and action defaults, with Secret
//! values masked in the results; a missing Secret key named without its value; and `run_flow`
//! calling TestFlows of the run's namespace, returning their outputs and stopping cycles.

mod common;
mod support;

use std::sync::Arc;

use http::Method;
use kube::Client;
use serde_json::{Value, json};
use support::{Expect, api_server, expect, not_found};
use testmesh::engine::{FlowStatus, RunOptions, StepStatus};
use testmesh::executor::{ClusterEnvironments, ClusterFlows, EnvironmentResolver};

use common::flows::{dump, error_of, run_with, step};

const ENVIRONMENT: &str = "/apis/testmesh.io/v1alpha1/namespaces/qa/testenvironments/staging";
const DB_SECRET: &str = "/api/v1/namespaces/qa/secrets/db";
const KEYS_SECRET: &str = "/api/v1/namespaces/qa/secrets/api-keys";
const SETTINGS: &str = "/api/v1/namespaces/qa/configmaps/settings";

/// A client of the mock API server playing `expected`, and the server's task.
fn cluster(expected: Vec<Expect>) -> (Client, tokio::task::JoinHandle<Vec<Value>>) {
    let (service, handle) = tower_test::mock::pair::<
        http::Request<kube::client::Body>,
        http::Response<kube::client::Body>,
    >();
    (Client::new(service, "qa"), api_server(handle, expected))
}

fn environment(spec: Value) -> Value {
    json!({"apiVersion": "testmesh.io/v1alpha1", "kind": "TestEnvironment",
           "metadata": {"name": "staging", "namespace": "qa"}, "spec": spec})
}

fn secret(name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret",
           "metadata": {"name": name, "namespace": "qa"}, "data": data})
}

#[tokio::test]
async fn an_environment_brings_variables_secrets_config_maps_headers_and_service_urls() {
    let spec = json!({
        "variables": {"BASE": "http://orders", "TIER": "overridden by valueFrom"},
        "serviceUrls": {"PAYMENTS": "http://payments:8080"},
        "headers": {"X-Team": "qa"},
        "envFrom": [{"secretRef": {"name": "api-keys"}, "prefix": "API_"},
                    {"configMapRef": {"name": "settings"}}],
        "valueFrom": [
            {"name": "DB_PASSWORD", "secretKeyRef": {"name": "db", "key": "password"}},
            {"name": "TIER", "configMapKeyRef": {"name": "settings", "key": "tier"}},
            {"name": "OPTIONAL", "secretKeyRef": {"name": "db", "key": "absent", "optional": true}}]
    });
    let settings = json!({"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "settings", "namespace": "qa"},
                          "data": {"region": "eu-west-1", "tier": "gold"}});
    let (client, server) = cluster(vec![
        expect(Method::GET, ENVIRONMENT, environment(spec)),
        // "tok-123"
        expect(
            Method::GET,
            KEYS_SECRET,
            secret("api-keys", json!({"TOKEN": "dG9rLTEyMw=="})),
        ),
        expect(Method::GET, SETTINGS, settings),
        // "s3cr3t-pw"; the ConfigMap is read once for both of its uses.
        expect(
            Method::GET,
            DB_SECRET,
            secret("db", json!({"password": "czNjcjN0LXB3"})),
        ),
    ]);
    let resolved = ClusterEnvironments::new(client)
        .resolve("qa", "staging")
        .await
        .unwrap();
    let bodies = server.await.unwrap();
    assert_eq!(bodies.len(), 4);
    assert_eq!(resolved.variables["BASE"], "http://orders");
    assert_eq!(resolved.variables["PAYMENTS"], "http://payments:8080");
    assert_eq!(resolved.variables["region"], "eu-west-1");
    assert_eq!(resolved.variables["TIER"], "gold");
    assert_eq!(resolved.secrets["API_TOKEN"], "tok-123");
    assert_eq!(resolved.secrets["DB_PASSWORD"], "s3cr3t-pw");
    assert!(!resolved.variables.contains_key("DB_PASSWORD"));
    assert!(!resolved.secrets.contains_key("OPTIONAL"));
    assert_eq!(resolved.headers["X-Team"], "qa");

    // The run sees the secret values and records them masked.
    let options = RunOptions {
        variables: resolved.variables,
        secrets: resolved.secrets,
        default_headers: resolved.headers,
        ..RunOptions::default()
    };
    let result = run_with(
        r#"
name: uses-env
steps:
  - id: see
    action: assert
    config: {data: "${DB_PASSWORD}/${API_TOKEN}/${PAYMENTS}"}
    assert: ['data == "s3cr3t-pw/tok-123/http://payments:8080"']
    output: {seen: data}
"#,
        options,
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    let recorded = serde_json::to_string(&result).unwrap();
    assert!(!recorded.contains("s3cr3t-pw"), "{recorded}");
    assert!(!recorded.contains("tok-123"), "{recorded}");
    assert!(recorded.contains("http://payments:8080"), "{recorded}");
}

#[tokio::test]
async fn an_environment_brings_services_and_action_defaults_under_each_step() {
    let spec = json!({
        "serviceUrls": {"payments": "http://payments:8080"},
        "actionDefaults": {
            "transform": {"input": {"url": "${service.payments}", "password": "${DB_PASSWORD}"},
                          "transforms": {"url": "url"}}
        },
        "valueFrom": [{"name": "DB_PASSWORD", "secretKeyRef": {"name": "db", "key": "password"}}]
    });
    let (client, server) = cluster(vec![
        expect(Method::GET, ENVIRONMENT, environment(spec)),
        // "s3cr3t-pw"
        expect(
            Method::GET,
            DB_SECRET,
            secret("db", json!({"password": "czNjcjN0LXB3"})),
        ),
    ]);
    let resolved = ClusterEnvironments::new(client)
        .resolve("qa", "staging")
        .await
        .unwrap();
    assert_eq!(server.await.unwrap().len(), 2);
    assert_eq!(resolved.services["payments"], "http://payments:8080");
    let options = RunOptions {
        variables: resolved.variables,
        secrets: resolved.secrets,
        services: resolved.services,
        action_defaults: resolved.action_defaults,
        ..RunOptions::default()
    };
    let result = run_with(
        r#"
name: uses-defaults
steps:
  - id: from_defaults
    action: transform
    config: {transforms: {url: url, password: password}}
    output: {url: url, password: password}
  - id: step_wins
    action: transform
    config: {input: {url: "http://own"}}
    output: {own: url}
"#,
        options,
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    assert_eq!(result.captured["url"], "http://payments:8080");
    assert_eq!(result.captured["own"], "http://own");
    assert_eq!(result.captured["password"], "***");
    let recorded = serde_json::to_string(&result).unwrap();
    assert!(!recorded.contains("s3cr3t-pw"), "{recorded}");
}

#[tokio::test]
async fn a_missing_secret_key_names_environment_secret_and_key_but_never_a_value() {
    let spec = json!({"valueFrom": [
        {"name": "DB_PASSWORD", "secretKeyRef": {"name": "db", "key": "password"}}]});
    // "super-secret-value" under another key.
    let (client, server) = cluster(vec![
        expect(Method::GET, ENVIRONMENT, environment(spec)),
        expect(
            Method::GET,
            DB_SECRET,
            secret("db", json!({"username": "c3VwZXItc2VjcmV0LXZhbHVl"})),
        ),
    ]);
    let error = ClusterEnvironments::new(client)
        .resolve("qa", "staging")
        .await
        .unwrap_err()
        .to_string();
    server.await.unwrap();
    assert_eq!(
        error,
        "TestEnvironment qa/staging: key \"password\" not found in Secret \"db\" \
         (for variable DB_PASSWORD)"
    );
    assert!(!error.contains("super-secret") && !error.contains("c3VwZXI"));
}

#[tokio::test]
async fn a_missing_secret_or_environment_is_named() {
    let spec = json!({"envFrom": [{"secretRef": {"name": "db"}}]});
    let (client, server) = cluster(vec![
        expect(Method::GET, ENVIRONMENT, environment(spec)),
        not_found(DB_SECRET),
    ]);
    let error = ClusterEnvironments::new(client)
        .resolve("qa", "staging")
        .await
        .unwrap_err();
    server.await.unwrap();
    assert_eq!(
        error.to_string(),
        "TestEnvironment qa/staging: Secret \"db\" not found"
    );

    let (client, server) = cluster(vec![not_found(ENVIRONMENT)]);
    let error = ClusterEnvironments::new(client)
        .resolve("qa", "staging")
        .await
        .unwrap_err();
    server.await.unwrap();
    assert_eq!(error.to_string(), "TestEnvironment qa/staging not found");
}

fn test_flow(name: &str, steps: Value) -> Value {
    json!({"apiVersion": "testmesh.io/v1alpha1", "kind": "TestFlow",
           "metadata": {"name": name, "namespace": "qa", "generation": 1},
           "spec": {"steps": steps}})
}

fn options_for(client: Client, run_flow_name: &str) -> RunOptions {
    RunOptions {
        source: Some(ClusterFlows::identity_of("qa", run_flow_name)),
        flows: Some(Arc::new(ClusterFlows::new(client, "qa"))),
        ..RunOptions::default()
    }
}

#[tokio::test]
async fn run_flow_calls_a_testflow_of_the_run_namespace_with_inputs_and_returns_outputs() {
    let greeter = test_flow(
        "greeter",
        json!([{"id": "make", "action": "assert", "config": {"data": "hello ${who}"},
                "output": {"greeting": "data"}}]),
    );
    let (client, server) = cluster(vec![
        expect(
            Method::GET,
            "/apis/testmesh.io/v1alpha1/namespaces/qa/testflows/greeter",
            greeter,
        ),
        not_found("/apis/testmesh.io/v1alpha1/namespaces/qa/testflows/nobody"),
    ]);
    let result = run_with(
        r#"
name: caller
steps:
  - id: hi
    action: run_flow
    config: {flow: greeter, inputs: {who: ada}}
    output: {said: outputs.greeting, from: file}
  - id: missing
    action: run_flow
    config: {flow: nobody}
"#,
        options_for(client, "caller"),
    )
    .await;
    server.await.unwrap();
    assert_eq!(
        step(&result, "hi").status,
        StepStatus::Passed,
        "{}",
        dump(&result)
    );
    assert_eq!(result.captured["said"], json!("hello ada"));
    assert_eq!(result.captured["from"], json!("TestFlow qa/greeter"));
    assert_eq!(step(&result, "hi.make").status, StepStatus::Passed);
    assert!(
        error_of(&result, "missing").contains("no TestFlow `nobody` in namespace qa"),
        "{}",
        dump(&result)
    );
}

#[tokio::test]
async fn testflows_that_call_each_other_are_stopped_with_the_chain() {
    let back = test_flow(
        "ping",
        json!([{"id": "back", "action": "run_flow", "config": {"flow": "pong"}}]),
    );
    let (client, server) = cluster(vec![
        expect(
            Method::GET,
            "/apis/testmesh.io/v1alpha1/namespaces/qa/testflows/ping",
            back,
        ),
        expect(
            Method::GET,
            "/apis/testmesh.io/v1alpha1/namespaces/qa/testflows/pong",
            test_flow(
                "pong",
                json!([{"id": "again", "action": "run_flow", "config": {"flow": "ping"}}]),
            ),
        ),
    ]);
    // The run's own flow is `pong`: pong → ping → pong is a cycle.
    let result = run_with(
        "name: pong\nsteps:\n  - id: call\n    action: run_flow\n    config: {flow: ping}\n",
        options_for(client, "pong"),
    )
    .await;
    server.await.unwrap();
    assert_eq!(step(&result, "call").status, StepStatus::Failed);
    let error = error_of(&result, "call.back");
    assert!(
        error.contains("flows call each other in a cycle: qa/pong → qa/ping → qa/pong"),
        "{}",
        dump(&result)
    );
}
