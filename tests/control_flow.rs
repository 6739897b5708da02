//! Control flow as a user sees it: conditions, loops, parallel branches, sub-flows, polling
//! and readiness waits, with nested steps named in the flow result under their parent.

mod common;

use indexmap::IndexMap;
use serde_json::{Value, json};
use testmesh::engine::{FlowResult, FlowStatus, RunOptions, StepStatus};

use common::flows::{dump, error_of, response, run_with, step};

fn with_base(base: &str) -> RunOptions {
    let mut variables = IndexMap::new();
    variables.insert("base".to_string(), Value::String(base.to_string()));
    RunOptions {
        variables,
        ..RunOptions::default()
    }
}

fn ids(result: &FlowResult) -> Vec<&str> {
    result.steps.iter().map(|s| s.id.as_str()).collect()
}

#[tokio::test]
async fn condition_runs_then_or_else_and_names_the_nested_steps() {
    let result = run_with(
        r#"
name: branches
env: {mode: fast}
steps:
  - id: pick
    action: condition
    config:
      condition: mode == "fast"
      then:
        - id: chosen
          action: assert
          config: {data: quick}
          output: {speed: data}
      else:
        - action: log
          config: {message: slow}
  - id: other
    action: if
    config:
      if: mode == "slow"
      then: [{action: log, config: {message: never}}]
  - action: assert
    config: {data: "${speed}"}
    assert: [data == "quick", pick.branch == "then", other.branch == "else"]
"#,
        RunOptions::default(),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    assert_eq!(
        ids(&result),
        ["pick.then.chosen", "pick", "other", "step_3"]
    );
}

#[tokio::test]
async fn for_each_over_a_list_a_range_and_a_captured_array() {
    let server = common::http_server::start().await;
    let result = run_with(
        r#"
name: loops
steps:
  - id: catalogue
    action: assert
    config: {data: [A-1, B-2]}
    output: {skus: data}
  - id: orders
    action: for_each
    config:
      items: ${skus}
      as: sku
      steps:
        - id: create
          action: http_request
          config: {method: POST, url: "${base}/echo", body: {sku: "${sku}", n: "${index}"}}
          assert: [status == 200, body.json.sku == sku]
  - id: numbers
    action: for_each
    config:
      range: {from: 1, to: 5}
      max_concurrent: 3
      steps:
        - id: check
          action: assert
          config: {data: "${item}"}
          assert: [data >= 1, data <= 5]
  - id: literal
    action: loop
    config:
      items: [x, y]
      steps: [{id: say, action: log, config: {message: "${item}"}}]
"#,
        with_base(&server.base_url),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    let found = ids(&result);
    for id in [
        "orders[0].create",
        "orders[1].create",
        "numbers[0].check",
        "numbers[4].check",
        "literal[1].say",
    ] {
        assert!(found.contains(&id), "{id} missing from {found:?}");
    }
    assert_eq!(response(&result, "orders")["iterations"], json!(2));
    assert_eq!(response(&result, "numbers")["iterations"], json!(5));
    assert_eq!(
        response(&result, "orders[1].create")["body"]["json"],
        json!({"sku": "B-2", "n": 1})
    );
}

#[tokio::test]
async fn retries_inside_a_loop_and_loops_inside_parallel_branches() {
    let server = common::http_server::start().await;
    let result = run_with(
        r#"
name: nested
env: {run: r1}
steps:
  - id: fan
    action: parallel
    config:
      branches:
        - name: left
          steps:
            - id: each
              action: for_each
              config:
                count: 2
                steps:
                  - id: call
                    action: http_request
                    config: {url: "${base}/flaky/${run}-left-${index}?fail=1"}
                    retry: {max_attempts: 3, delay: 10ms}
                    assert: [status == 200]
        - name: right
          steps:
            - id: seen
              action: assert
              config: {data: "${run}"}
              assert: [data == "r1"]
              output: {from_right: data}
  - action: assert
    config: {data: "${from_right}"}
    assert: [data == "r1"]
"#,
        with_base(&server.base_url),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Passed, "{}", dump(&result));
    let call = step(&result, "fan.left.each[1].call");
    assert_eq!(call.attempts.len(), 2, "{}", dump(&result));
    assert!(ids(&result).contains(&"fan.right.seen"));
}

#[tokio::test]
async fn a_failure_inside_a_loop_stops_it_and_teardown_still_runs() {
    let result = run_with(
        r#"
name: failing loop
steps:
  - id: loop
    action: for_each
    config:
      items: [1, 2, 3]
      steps:
        - id: check
          action: assert
          config: {data: "${item}"}
          assert: [data < 2]
  - id: after
    action: log
    config: {message: not reached}
teardown:
  - id: cleanup
    action: log
    config: {message: cleaning up}
"#,
        RunOptions::default(),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Failed, "{}", dump(&result));
    assert_eq!(step(&result, "loop[1].check").status, StepStatus::Failed);
    assert!(
        !ids(&result).contains(&"loop[2].check"),
        "{:?}",
        ids(&result)
    );
    assert_eq!(step(&result, "loop").status, StepStatus::Failed);
    let error = error_of(&result, "loop");
    assert!(
        error.contains(
            "1 of 3 iterations failed: step `loop[1].check` failed; 1 iterations not run"
        ),
        "{error}"
    );
    assert_eq!(step(&result, "after").status, StepStatus::Skipped);
    assert_eq!(step(&result, "cleanup").status, StepStatus::Passed);
}

#[tokio::test]
async fn parallel_fail_fast_cancels_the_other_branches() {
    let result = run_with(
        r#"
name: fail fast
steps:
  - id: both
    action: parallel
    config:
      fail_fast: true
      steps:
        - id: broken
          action: wait_until
          config:
            max_attempts: 2
            interval: 50ms
            steps: [{id: check, action: assert, config: {data: 1}, assert: [data == 2]}]
        - id: slow
          action: delay
          config: {duration: 20s}
"#,
        RunOptions::default(),
    )
    .await;
    assert_eq!(result.status, FlowStatus::Error, "{}", dump(&result));
    assert_eq!(step(&result, "both.broken").status, StepStatus::Error);
    assert_eq!(step(&result, "both.slow").status, StepStatus::Cancelled);
}

#[tokio::test]
async fn wait_until_polls_nested_steps_and_wait_for_waits_for_readiness() {
    let server = common::http_server::start().await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let port = url::Url::parse(&server.base_url).unwrap().port().unwrap();
    let mut options = with_base(&server.base_url);
    options.variables.insert("port".into(), json!(port));
    options.variables.insert("closed".into(), json!(closed));
    let result = run_with(
        r#"
name: waits
steps:
  - id: ready
    action: wait_for
    config: {url: "${base}/flaky/ready?fail=2", interval: 10ms, timeout: 20s}
    assert: [success == true, attempts == 3, status == 200]
  - id: tcp
    action: wait_for
    config: {host: 127.0.0.1, port: "${port}", timeout: 5s}
  - id: poll
    action: wait_until
    config:
      interval: 10ms
      timeout: 20s
      condition: probe.status == 200
      steps:
        - id: probe
          action: http_request
          config: {url: "${base}/flaky/poll?fail=2"}
    assert: [attempts == 3]
  - id: never
    action: wait_for
    config: {tcp: "127.0.0.1:${closed}", interval: 50ms, timeout: 200ms}
"#,
        options,
    )
    .await;
    assert_eq!(
        step(&result, "poll").status,
        StepStatus::Passed,
        "{}",
        dump(&result)
    );
    assert_eq!(step(&result, "ready").status, StepStatus::Passed);
    assert_eq!(step(&result, "tcp").status, StepStatus::Passed);
    assert_eq!(response(&result, "poll.probe")["status"], json!(200));
    let error = error_of(&result, "never");
    assert!(
        error.contains(&format!(
            "TCP port 127.0.0.1:{closed} was not ready within 200ms"
        )),
        "{error}"
    );
}

#[tokio::test]
async fn run_flow_passes_inputs_returns_outputs_and_stops_cycles() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("greet.yaml"),
        "name: Greeter\nsteps:\n  - id: make\n    action: assert\n    config: {data: \"hello ${who}\"}\n    output: {greeting: data}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        "name: A\nsteps:\n  - id: call\n    action: run_flow\n    config: {flow: b.yaml}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.yaml"),
        "name: B\nsteps:\n  - id: back\n    action: run_flow\n    config: {flow: a}\n",
    )
    .unwrap();
    let options = RunOptions {
        base_dir: Some(dir.path().to_path_buf()),
        source: Some(dir.path().join("main.yaml").display().to_string()),
        ..RunOptions::default()
    };
    let result = run_with(
        r#"
name: caller
steps:
  - id: hi
    action: run_flow
    config: {flow: greet.yaml, inputs: {who: ada}}
    assert: [outputs.greeting == "hello ada"]
  - id: by_name
    action: run_flow
    config: {flow: Greeter, inputs: {who: bob}}
    output: {again: outputs.greeting}
  - id: loop
    action: run_flow
    config: {flow: a.yaml}
"#,
        options,
    )
    .await;
    assert_eq!(
        step(&result, "hi").status,
        StepStatus::Passed,
        "{}",
        dump(&result)
    );
    assert_eq!(result.captured["again"], json!("hello bob"));
    assert!(ids(&result).contains(&"hi.make"), "{:?}", ids(&result));
    let error = error_of(&result, "loop.call.back");
    assert!(
        error.contains("flows call each other in a cycle"),
        "{}",
        dump(&result)
    );
    assert_eq!(step(&result, "loop").status, StepStatus::Failed);
}
