//! The engine as a user sees it: flows written in YAML, run against a local HTTP server, judged by
//! the statuses, attempts, captured values and messages of their results.

mod common;

use std::path::Path;
use std::time::Duration;

use indexmap::IndexMap;
use serde_json::{Value, json};
use testmesh::engine::result::Phase;
use testmesh::engine::{FlowResult, FlowStatus, RunOptions, StepResult, StepStatus, run_flow};
use testmesh::flow::load::{Loaded, load_text};
use testmesh::flow::model::FlowSpec;

/// Only there to stop a broken run from hanging the suite; no test depends on timing.
const BOUND: Duration = Duration::from_secs(30);

fn parse(yaml: &str) -> FlowSpec {
    let mut loaded = Loaded::default();
    load_text(yaml, Path::new("flow.yaml"), &mut loaded);
    assert!(
        !loaded.has_errors(),
        "the flow does not load: {:#?}",
        loaded.diagnostics
    );
    loaded
        .flows()
        .next()
        .expect("no flow in the text")
        .spec
        .clone()
}

fn options(base: &str) -> RunOptions {
    let mut variables = IndexMap::new();
    variables.insert("base".to_string(), Value::String(base.to_string()));
    RunOptions {
        variables,
        ..RunOptions::default()
    }
}

async fn run(yaml: &str, options: RunOptions) -> FlowResult {
    let flow = parse(yaml);
    tokio::time::timeout(BOUND, run_flow(&flow, options))
        .await
        .expect("the run did not finish")
}

fn step<'a>(result: &'a FlowResult, id: &str) -> &'a StepResult {
    result
        .steps
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("no step `{id}` in {:#?}", result.steps))
}

/// The action result of a step's last attempt (for HTTP: status, headers, body...).
fn response<'a>(result: &'a FlowResult, id: &str) -> &'a Value {
    step(result, id)
        .last_attempt()
        .and_then(|a| a.response.as_ref())
        .unwrap_or_else(|| panic!("step `{id}` has no response"))
}

fn error_of(result: &FlowResult, id: &str) -> String {
    step(result, id)
        .last_attempt()
        .and_then(|a| a.error.clone())
        .unwrap_or_default()
}

fn dump(result: &FlowResult) -> String {
    serde_json::to_string_pretty(result).unwrap()
}

// ---------------------------------------------------------------- captures and variables

#[tokio::test]
async fn captures_by_jsonpath_dotted_path_and_body_fallback() {
    let server = common::http_server::start().await;
    let result = run(
        r#"
name: captures
steps:
  - id: create
    action: http_request
    config:
      method: POST
      url: "${base}/echo"
      body: {x: 5, nested: {id: "abc"}}
    output:
      by_jsonpath: $.body.json.x
      by_dotted: body.json.nested.id
      by_fallback: $.json.nested.id
      method: $.method
"#,
        options(&server.base_url),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    let captured = &step(&result, "create").captured;
    assert_eq!(captured["by_jsonpath"], json!(5));
    assert_eq!(captured["by_dotted"], json!("abc"));
    assert_eq!(captured["by_fallback"], json!("abc"));
    assert_eq!(captured["method"], json!("POST"));
    assert_eq!(result.captured["by_jsonpath"], json!(5));
}

#[tokio::test]
async fn response_headers_and_cookies_read_in_every_form() {
    let server = common::http_server::start().await;
    let result = run(
        r#"
name: headers and cookies
steps:
  - id: call
    action: http_request
    config: {method: GET, url: "${base}/headers"}
    assert:
      - status == 200
      - headers["X-Request-Id"] == "req-42"
      - response.headers["X-Tag"] == "one, two"
      - len(cookies) == 0
      - $env["headers"]["X-Request-Id"] == "req-42"
    output:
      by_dotted: headers.X-Request-Id
      by_jsonpath: $.headers['X-Request-Id']
      by_response: $.response.headers['X-Tag']
      by_descent: $..['X-Tag']
  - id: set
    action: http_request
    config: {method: GET, url: "${base}/cookies/set?sid=abc"}
    assert: ['cookies.sid == "abc"']
    output:
      sid: cookies.sid
  - id: wrong
    action: http_request
    config: {method: GET, url: "${base}/headers"}
    assert: ['headers["X-Request-Id"] == "req-43"']
"#,
        options(&server.base_url),
    )
    .await;
    assert_eq!(
        step(&result, "call").status,
        StepStatus::Passed,
        "{}",
        dump(&result)
    );
    assert_eq!(
        step(&result, "set").status,
        StepStatus::Passed,
        "{}",
        dump(&result)
    );
    assert_eq!(
        result.captured,
        IndexMap::from([
            ("by_dotted".to_string(), json!("req-42")),
            ("by_jsonpath".to_string(), json!("req-42")),
            ("by_response".to_string(), json!("one, two")),
            ("by_descent".to_string(), json!("one, two")),
            ("sid".to_string(), json!("abc")),
        ])
    );
    let wrong = step(&result, "wrong");
    assert_eq!(wrong.status, StepStatus::Failed);
    let failed = &wrong.attempts[0].assertions[0];
    assert_eq!(
        failed.actual.get(r#"headers["X-Request-Id"]"#),
        Some(&json!("req-42")),
        "{failed:?}"
    );
    assert_eq!(
        response(&result, "wrong")["headers"]["X-Request-Id"],
        "req-42"
    );
}

#[tokio::test]
async fn a_captured_number_stays_a_number_and_both_reference_forms_work() {
    let server = common::http_server::start().await;
    let result = run(
        r#"
name: typed
steps:
  - id: first
    action: http_request
    config:
      method: POST
      url: "${base}/echo"
      body: {n: 41, name: "ada"}
    output:
      n: $.body.json.n
      who: body.json.name
  - id: second
    action: http_request
    config:
      method: POST
      url: "{{base}}/echo"
      body:
        n: "${n}"
        by_step: "${first.n}"
        braces: "{{n}}"
        text: "n is ${first.n} for {{who}}"
        whole: "${first.body.json}"
    assert:
      - body.json.n == 41
      - body.json.text == "n is 41 for ada"
"#,
        options(&server.base_url),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    let sent = &response(&result, "second")["body"]["json"];
    assert_eq!(sent["n"], json!(41), "a number must be sent as a number");
    assert_eq!(sent["by_step"], json!(41));
    assert_eq!(sent["braces"], json!(41));
    assert_eq!(sent["text"], json!("n is 41 for ada"));
    assert_eq!(sent["whole"], json!({"n": 41, "name": "ada"}));
}

#[tokio::test]
async fn env_wins_over_run_variables_and_builtins_resolve() {
    let server = common::http_server::start().await;
    let mut options = options(&server.base_url);
    options
        .variables
        .insert("who".into(), Value::String("from-variables".into()));
    options
        .variables
        .insert("only_var".into(), Value::String("from-cli".into()));
    let result = run(
        r#"
name: precedence flow
env:
  who: from-env
steps:
  - id: echo
    action: http_request
    config:
      method: POST
      url: "${base}/echo"
      body:
        who: "${who}"
        only_var: "{{only_var}}"
        flow: "${FLOW_NAME}"
        execution: "${EXECUTION_ID}"
"#,
        options,
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    let sent = &response(&result, "echo")["body"]["json"];
    assert_eq!(sent["who"], json!("from-env"));
    assert_eq!(sent["only_var"], json!("from-cli"));
    assert_eq!(sent["flow"], json!("precedence flow"));
    assert_eq!(sent["execution"], json!(result.execution_id));
}

// ---------------------------------------------------------------- retries

#[tokio::test]
async fn a_flaky_endpoint_passes_on_the_third_attempt() {
    let server = common::http_server::start().await;
    let result = run(
        r#"
name: flaky
steps:
  - id: call
    action: http_request
    config: {method: GET, url: "${base}/flaky/three?fail=2"}
    assert: [status == 200]
    retry: {max_attempts: 3, delay: 10ms}
"#,
        options(&server.base_url),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    let call = step(&result, "call");
    assert_eq!(call.attempts.len(), 3);
    assert_eq!(call.attempts[0].status, StepStatus::Failed);
    assert_eq!(call.attempts[2].status, StepStatus::Passed);
    assert_eq!(response(&result, "call")["body"]["calls"], json!(3));
}

#[tokio::test]
async fn too_few_attempts_fail_and_record_each_attempt() {
    let server = common::http_server::start().await;
    let result = run(
        r#"
name: flaky
steps:
  - id: call
    action: http_request
    config: {method: GET, url: "${base}/flaky/two?fail=2"}
    assert: [status == 200]
    retry: {max_attempts: 2, delay: 10ms}
"#,
        options(&server.base_url),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Failed, "{}", dump(&result));
    let call = step(&result, "call");
    assert_eq!(call.status, StepStatus::Failed);
    let numbers: Vec<u32> = call.attempts.iter().map(|a| a.attempt).collect();
    assert_eq!(numbers, [1, 2]);
}

#[tokio::test]
async fn a_retry_reruns_when_only_an_assertion_fails() {
    let server = common::http_server::start().await;
    // Every answer is a 200; only the assertion on the call count decides.
    let result = run(
        r#"
name: retry on assertion
steps:
  - id: call
    action: http_request
    config: {method: GET, url: "${base}/flaky/assert?fail=0"}
    assert: [body.calls == 3]
    retry: {max_attempts: 5, delay: 10ms}
"#,
        options(&server.base_url),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    let call = step(&result, "call");
    assert_eq!(call.attempts.len(), 3);
    assert!(call.attempts[0].error.is_none());
    assert!(!call.attempts[0].assertions[0].passed);
}

// ---------------------------------------------------------------- timeouts

#[tokio::test]
async fn a_step_timeout_ends_the_step_with_an_error() {
    let server = common::http_server::start().await;
    let result = run(
        r#"
name: step timeout
steps:
  - id: slow
    action: http_request
    config: {method: GET, url: "${base}/slow?ms=5000"}
    timeout: 200ms
"#,
        options(&server.base_url),
    )
    .await;
    assert_eq!(step(&result, "slow").status, StepStatus::Error);
    let error = error_of(&result, "slow");
    assert!(error.contains("step timeout of 200ms"), "{error}");
    assert_eq!(result.status, FlowStatus::Error);
}

#[tokio::test]
async fn a_flow_timeout_skips_the_rest_but_teardown_runs() {
    let server = common::http_server::start().await;
    let result = run(
        r#"
name: flow timeout
config: {timeout: 300ms}
steps:
  - id: slow
    action: http_request
    config: {method: GET, url: "${base}/slow?ms=5000"}
  - id: later
    action: log
    config: {message: never}
teardown:
  - id: clean
    action: log
    config: {message: cleaning up}
"#,
        options(&server.base_url),
    )
    .await;
    assert_eq!(result.status, FlowStatus::TimedOut, "{}", dump(&result));
    assert_eq!(step(&result, "later").status, StepStatus::Skipped);
    assert_eq!(step(&result, "clean").status, StepStatus::Passed);
    assert_eq!(step(&result, "clean").phase, Phase::Teardown);
}

// ---------------------------------------------------------------- when, on_error, setup

#[tokio::test]
async fn a_false_when_skips_the_step_with_a_reason() {
    let result = run(
        r#"
name: when
env: {mode: fast}
steps:
  - id: skipped
    action: log
    config: {message: hi}
    when: mode == "slow"
  - id: ran
    action: log
    config: {message: hi}
    when: mode == "fast"
"#,
        RunOptions::default(),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    let skipped = step(&result, "skipped");
    assert_eq!(skipped.status, StepStatus::Skipped);
    assert!(
        skipped
            .reason
            .as_deref()
            .unwrap_or_default()
            .contains("when"),
        "{:?}",
        skipped.reason
    );
    assert_eq!(step(&result, "ran").status, StepStatus::Passed);
}

#[tokio::test]
async fn on_error_continue_goes_on_and_the_flow_fails() {
    let server = common::http_server::start().await;
    let result = run(
        r#"
name: continue
steps:
  - id: bad
    action: http_request
    config: {method: GET, url: "${base}/status/500"}
    assert: [status == 200]
    on_error: continue
  - id: good
    action: http_request
    config: {method: GET, url: "${base}/status/200"}
    assert: [status == 200]
"#,
        options(&server.base_url),
    )
    .await;
    assert_eq!(step(&result, "bad").status, StepStatus::Failed);
    assert_eq!(step(&result, "good").status, StepStatus::Passed);
    assert_eq!(result.status, FlowStatus::Failed);
}

#[tokio::test]
async fn a_failed_step_stops_the_flow_by_default() {
    let server = common::http_server::start().await;
    let result = run(
        r#"
name: stop
steps:
  - id: bad
    action: http_request
    config: {method: GET, url: "${base}/status/500"}
    assert: [status == 200]
  - id: next
    action: log
    config: {message: hi}
  - id: last
    action: log
    config: {message: hi}
"#,
        options(&server.base_url),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Failed);
    for id in ["next", "last"] {
        let skipped = step(&result, id);
        assert_eq!(skipped.status, StepStatus::Skipped);
        assert!(
            skipped
                .reason
                .as_deref()
                .unwrap_or_default()
                .contains("bad"),
            "{:?}",
            skipped.reason
        );
    }
}

#[tokio::test]
async fn a_failed_setup_skips_the_steps_but_teardown_runs() {
    let server = common::http_server::start().await;
    let result = run(
        r#"
name: setup fails
setup:
  - id: prepare
    action: http_request
    config: {method: GET, url: "${base}/status/503"}
    assert: [status == 200]
steps:
  - id: main
    action: log
    config: {message: hi}
teardown:
  - id: clean
    action: log
    config: {message: bye}
"#,
        options(&server.base_url),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Failed, "{}", dump(&result));
    assert_eq!(step(&result, "prepare").status, StepStatus::Failed);
    let main = step(&result, "main");
    assert_eq!(main.status, StepStatus::Skipped);
    assert!(main.reason.as_deref().unwrap_or_default().contains("setup"));
    assert_eq!(step(&result, "clean").status, StepStatus::Passed);
}

// ---------------------------------------------------------------- cancellation

const SLOW_WITH_TEARDOWN: &str = r#"
name: cancellable
steps:
  - id: slow
    action: http_request
    config: {method: GET, url: "${base}/slow?ms=20000"}
  - id: after
    action: log
    config: {message: never}
teardown:
  - id: clean
    action: http_request
    config: {method: GET, url: "${base}/status/200"}
  - id: slow_clean
    action: http_request
    config: {method: GET, url: "${base}/slow?ms=20000"}
"#;

#[tokio::test]
async fn cancel_stops_the_steps_and_teardown_still_runs() {
    let server = common::http_server::start().await;
    let options = options(&server.base_url);
    let cancel = options.cancel.clone();
    let without_slow_teardown = SLOW_WITH_TEARDOWN
        .split("  - id: slow_clean")
        .next()
        .unwrap();
    let flow = parse(without_slow_teardown);
    let running = tokio::spawn(async move { run_flow(&flow, options).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    cancel.cancel();
    let result = tokio::time::timeout(BOUND, running)
        .await
        .expect("the run did not stop")
        .unwrap();
    assert_eq!(result.status, FlowStatus::Cancelled, "{}", dump(&result));
    assert_eq!(step(&result, "slow").status, StepStatus::Cancelled);
    assert_eq!(step(&result, "after").status, StepStatus::Skipped);
    assert_eq!(step(&result, "clean").status, StepStatus::Passed);
}

#[tokio::test]
async fn abort_stops_teardown_too() {
    let server = common::http_server::start().await;
    let options = options(&server.base_url);
    let cancel = options.cancel.clone();
    let abort = options.abort.clone();
    let flow = parse(SLOW_WITH_TEARDOWN);
    let (events, mut received) = tokio::sync::mpsc::unbounded_channel();
    let options = RunOptions {
        events: Some(events),
        ..options
    };
    let running = tokio::spawn(async move { run_flow(&flow, options).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    cancel.cancel();
    // Abort once the first teardown step finished, while the slow one runs.
    tokio::time::timeout(BOUND, async {
        while let Some(event) = received.recv().await {
            if let testmesh::engine::RunEvent::StepFinished { step, .. } = event
                && step.id == "clean"
            {
                break;
            }
        }
    })
    .await
    .expect("teardown never started");
    abort.cancel();
    let result = tokio::time::timeout(BOUND, running)
        .await
        .expect("abort did not stop teardown")
        .unwrap();
    assert_eq!(result.status, FlowStatus::Cancelled, "{}", dump(&result));
    assert_eq!(step(&result, "clean").status, StepStatus::Passed);
    assert_eq!(step(&result, "slow_clean").status, StepStatus::Cancelled);
}

// ---------------------------------------------------------------- secrets, cookies

#[tokio::test]
async fn a_secret_never_appears_in_the_result() {
    let server = common::http_server::start().await;
    let mut options = options(&server.base_url);
    options
        .secrets
        .insert("TOKEN".into(), "s3cr3t-value".into());
    let result = run(
        r#"
name: secret
steps:
  - id: call
    action: http_request
    config:
      method: POST
      url: "${base}/echo?token=${TOKEN}"
      headers: {Authorization: "Bearer ${TOKEN}"}
      body: {token: "${TOKEN}"}
    assert:
      - status == 200
      - body.headers.authorization == "Bearer ${TOKEN}"
    output:
      echoed: body.headers.authorization
"#,
        options,
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    let text = serde_json::to_string(&result).unwrap();
    assert!(!text.contains("s3cr3t-value"), "{text}");
    assert!(text.contains("***"), "{text}");
    let request = step(&result, "call").attempts[0]
        .request
        .as_deref()
        .expect("the request excerpt");
    assert_eq!(
        request["url"],
        format!("{}/echo?token=***", server.base_url)
    );
    assert_eq!(request["headers"]["Authorization"], "***");
    assert_eq!(request["body"], json!({"token": "***"}));
}

#[tokio::test]
async fn cookies_carry_over_within_a_run_but_not_between_runs() {
    let server = common::http_server::start().await;
    let result = run(
        r#"
name: cookies
steps:
  - id: set
    action: http_request
    config: {method: GET, url: "${base}/cookies/set?session=abc"}
  - id: read
    action: http_request
    config: {method: GET, url: "${base}/cookies"}
    assert: ['body.cookies.session == "abc"']
"#,
        options(&server.base_url),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));

    let other = run(
        r#"
name: cookies
steps:
  - id: read
    action: http_request
    config: {method: GET, url: "${base}/cookies"}
"#,
        options(&server.base_url),
    )
    .await;
    assert_eq!(other.status, FlowStatus::Passed, "{}", dump(&other));
    assert_eq!(response(&other, "read")["body"]["cookies"], json!({}));
}

// ---------------------------------------------------------------- mock server, errors

#[tokio::test]
async fn a_flow_starts_calls_and_stops_a_mock_server() {
    let result = run(
        r#"
name: mock flow
setup:
  - id: mock
    action: mock_server_start
    config:
      name: users
      endpoints:
        - path: /users/{id}
          method: GET
          response:
            status_code: 200
            body_json: {id: 42, name: Ada}
steps:
  - id: get
    action: http_request
    config: {method: GET, url: "${mock.base_url}/users/42"}
    assert:
      - status == 200
      - body.name == "Ada"
      - body.id == 42
    output:
      url: $.body.name
teardown:
  - id: stop
    action: mock_server_stop
    config: {name: users}
"#,
        RunOptions::default(),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    assert_eq!(step(&result, "stop").status, StepStatus::Passed);
    let base_url = response(&result, "mock")["base_url"].as_str().unwrap();
    let after = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("{base_url}/users/42"))
        .send()
        .await;
    assert!(after.is_err(), "the mock still answers after teardown");
}

#[tokio::test]
async fn an_unreachable_host_is_a_step_error_naming_the_address() {
    let result = run(
        r#"
name: unreachable
steps:
  - id: call
    action: http_request
    config: {method: GET, url: "http://127.0.0.1:1/health"}
"#,
        RunOptions::default(),
    )
    .await;
    assert_eq!(step(&result, "call").status, StepStatus::Error);
    let error = error_of(&result, "call");
    assert!(error.contains("127.0.0.1:1"), "{error}");
    assert_eq!(result.status, FlowStatus::Error);
}

// ---------------------------------------------------------------- compatibility

#[tokio::test]
async fn a_flow_from_the_original_platform_runs_unchanged() {
    let server = common::http_server::start().await;
    let result = run(
        r#"
flow:
  name: Original user journey
  description: written for the Go platform
  tags: [smoke]
  env:
    API: "{{base}}"
  setup:
    - id: create_user
      action: http
      config:
        method: POST
        url: "{{API}}/echo"
        headers:
          Content-Type: application/json
        body:
          id: 7
          email: ada@example.com
      assert:
        - status == 200
      output:
        user_id: $.json.id
        email: response.body.json.email
  steps:
    - id: get_user
      name: Get the user
      action: http
      config:
        method: GET
        url: "${API}/echo"
        headers:
          X-User: "{{user_id}}"
        params:
          email: "${create_user.email}"
      assert:
        - status == 200
        - body.headers["x-user"] == "{{user_id}}"
        - body.query.email[0] == "${create_user.email}"
      retry:
        max_attempts: 3
        delay: 10ms
        backoff: exponential
      on_error:
        action: continue
      output:
        seen: body.headers["x-user"]
    - id: flaky
      action: http
      config:
        method: GET
        url: "{{API}}/flaky/orig?fail=1"
      assert:
        - status == 200
      retry:
        max_attempts: 2
        delay: 10ms
  teardown:
    - action: log
      config:
        message: "cleaned up user ${create_user.user_id}"
"#,
        options(&server.base_url),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    assert_eq!(result.captured["user_id"], json!(7));
    assert_eq!(step(&result, "flaky").attempts.len(), 2);
    assert_eq!(step(&result, "teardown_1").status, StepStatus::Passed);
}

#[tokio::test]
async fn an_assert_step_sees_the_fields_of_its_data_at_the_top_level() {
    let server = common::http_server::start().await;
    let result = run(
        r#"
flow:
  name: Audit as the original wrote it
  steps:
    - id: api
      action: http_request
      config: {url: "{{base}}/echo"}
    - id: assert_audit
      action: assert
      config:
        data:
          api_status: "${api.status}"
          mocks: {running: 2}
        assertions:
          - "api_status == 200"
          - "mocks.running == 2"
          - "data.api_status == 200"
      assert:
        - passed == true
        - api_status == data.api_status
    - id: scalar
      action: assert
      config:
        data: "${api.status}"
        assertions: ["value == 200", "data == 200"]
    - id: json_text
      action: assert
      config:
        data: '{"state": "ready"}'
        assertions: ['state == "ready"']
    - id: wrong
      action: assert
      config:
        data: {api_status: "${api.status}"}
        assertions: ["api_status == 500"]
"#,
        options(&server.base_url),
    )
    .await;
    for id in ["assert_audit", "scalar", "json_text"] {
        assert_eq!(
            step(&result, id).status,
            StepStatus::Passed,
            "{id}: {}",
            dump(&result)
        );
    }
    let wrong = step(&result, "wrong");
    assert_eq!(wrong.status, StepStatus::Failed);
    let failed = &wrong.attempts[0].assertions[0];
    assert_eq!(failed.expression, "api_status == 500");
    assert!(!failed.passed);
    assert_eq!(failed.actual["api_status"], json!(200));
}
