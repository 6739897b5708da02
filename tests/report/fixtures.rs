//! Flow results built by hand, with fixed timestamps so that snapshots stay stable.

use chrono::{DateTime, TimeZone, Utc};
use indexmap::IndexMap;
use serde_json::{Value, json};
use testmesh::engine::result::{
    AssertionOutcome, AttemptResult, FlowResult, FlowStatus, Phase, StepResult, StepStatus,
};

/// `ms` milliseconds after 2026-01-01T10:00:00Z.
pub fn at(ms: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 10, 0, 0).unwrap() + chrono::Duration::milliseconds(ms)
}

pub fn flow(name: &str, status: FlowStatus, steps: Vec<StepResult>) -> FlowResult {
    let duration_ms = steps.iter().map(|s| s.duration_ms).sum();
    FlowResult {
        execution_id: format!("exec-{name}"),
        flow_name: name.to_owned(),
        source: Some(format!("flows/{name}.yaml")),
        status,
        started_at: at(0),
        finished_at: at(duration_ms as i64),
        duration_ms,
        steps,
        captured: IndexMap::new(),
        error: None,
    }
}

pub fn step(id: &str, action: &str, status: StepStatus, duration_ms: u64) -> StepResult {
    StepResult {
        id: id.to_owned(),
        name: None,
        action: action.to_owned(),
        phase: Phase::Main,
        status,
        started_at: at(0),
        duration_ms,
        attempts: Vec::new(),
        captured: IndexMap::new(),
        reason: None,
    }
}

pub fn attempt(number: u32, status: StepStatus, duration_ms: u64) -> AttemptResult {
    AttemptResult {
        attempt: number,
        status,
        started_at: at(i64::from(number) * 1_000),
        duration_ms,
        assertions: Vec::new(),
        error: None,
        request: None,
        response: None,
    }
}

pub fn passed(expression: &str) -> AssertionOutcome {
    AssertionOutcome {
        expression: expression.to_owned(),
        passed: true,
        message: None,
        actual: IndexMap::new(),
        error: None,
    }
}

pub fn failed(
    expression: &str,
    message: Option<&str>,
    actual: &[(&str, Value)],
) -> AssertionOutcome {
    AssertionOutcome {
        expression: expression.to_owned(),
        passed: false,
        message: message.map(str::to_owned),
        actual: actual
            .iter()
            .map(|(path, value)| ((*path).to_owned(), value.clone()))
            .collect(),
        error: None,
    }
}

/// An HTTP exchange as the http action records it.
pub fn http(
    attempt: &mut AttemptResult,
    method: &str,
    url: &str,
    status: Option<u16>,
    body: Value,
) {
    attempt.request =
        Some(json!({"method": method, "url": url, "headers": {"Authorization": "***"}}).into());
    attempt.response = status.map(|status| {
        json!({"status": status, "headers": {"Content-Type": "application/json"}, "body": body})
            .into()
    });
}

/// Setup, an HTTP step and a teardown, all passing.
pub fn passed_flow() -> FlowResult {
    let mut seed = step("seed", "log", StepStatus::Passed, 1);
    seed.phase = Phase::Setup;
    seed.attempts.push(attempt(1, StepStatus::Passed, 1));

    let mut create = step("create_user", "http_request", StepStatus::Passed, 34);
    create.name = Some("Create a user".to_owned());
    let mut try1 = attempt(1, StepStatus::Passed, 34);
    http(
        &mut try1,
        "POST",
        "http://api.local:8080/users?notify=false",
        Some(201),
        json!({"id": 7}),
    );
    try1.assertions.push(passed("status == 201"));
    create.attempts.push(try1);
    create.captured.insert("user_id".to_owned(), json!(7));

    let mut cleanup = step("cleanup", "http_request", StepStatus::Passed, 12);
    cleanup.phase = Phase::Teardown;
    let mut try1 = attempt(1, StepStatus::Passed, 12);
    http(
        &mut try1,
        "DELETE",
        "http://api.local:8080/users/7",
        Some(204),
        Value::Null,
    );
    cleanup.attempts.push(try1);

    flow("users", FlowStatus::Passed, vec![seed, create, cleanup])
}

/// A failed assertion on a long JSON body, then a step skipped because the flow stopped.
pub fn failed_assertion_flow() -> FlowResult {
    let items: Vec<Value> = (0..30)
        .map(|i| json!({"sku": format!("SKU-{i:03}"), "quantity": 3}))
        .collect();
    let mut order = step("create_order", "http_request", StepStatus::Failed, 1_250);
    let mut try1 = attempt(1, StepStatus::Failed, 1_250);
    http(
        &mut try1,
        "POST",
        "http://api.local:8080/orders",
        Some(201),
        json!({"id": "ord-1", "items": items}),
    );
    try1.assertions = vec![
        passed("status == 201"),
        failed(
            "body.items[0].quantity == 2",
            Some("quantity must match the order"),
            &[("body.items[0].quantity", json!(3))],
        ),
        failed(
            "body.note == \"short\"",
            None,
            &[("body.note", json!("x".repeat(300)))],
        ),
    ];
    order.attempts.push(try1);

    let mut confirm = step("confirm", "http_request", StepStatus::Skipped, 0);
    confirm.reason = Some("the flow stopped after create_order failed".to_owned());

    flow("orders", FlowStatus::Failed, vec![order, confirm])
}

/// A refused connection: an error, a request and no response.
pub fn runtime_error_flow() -> FlowResult {
    let mut health = step("health", "http_request", StepStatus::Error, 3);
    let mut try1 = attempt(1, StepStatus::Error, 3);
    http(
        &mut try1,
        "GET",
        "http://localhost:9/health",
        None,
        Value::Null,
    );
    try1.error = Some(
        "http_request GET http://localhost:9/health: connection refused\n  caused by: tcp connect error (os error 111)".to_owned(),
    );
    health.attempts.push(try1);
    flow("health", FlowStatus::Error, vec![health])
}

/// A step skipped by `when`, in a flow that passed.
pub fn skipped_flow() -> FlowResult {
    let mut ping = step("ping", "log", StepStatus::Passed, 0);
    ping.attempts.push(attempt(1, StepStatus::Passed, 0));
    let mut feature = step("feature_x", "http_request", StepStatus::Skipped, 0);
    feature.reason = Some("when `env.FEATURE_X == \"on\"` was false".to_owned());
    flow("features", FlowStatus::Passed, vec![ping, feature])
}

/// A step that passed on its third attempt and one that failed on both of its attempts.
pub fn retries_flow() -> FlowResult {
    let mut ready = step("wait_ready", "http_request", StepStatus::Passed, 2_600);
    for number in 1..=3 {
        let status = if number < 3 {
            StepStatus::Failed
        } else {
            StepStatus::Passed
        };
        let code = if number < 3 { 503 } else { 200 };
        let mut try_n = attempt(number, status, 200);
        http(
            &mut try_n,
            "GET",
            "http://api.local:8080/ready",
            Some(code),
            json!("starting"),
        );
        try_n.assertions.push(if number < 3 {
            failed("status == 200", None, &[("status", json!(code))])
        } else {
            passed("status == 200")
        });
        ready.attempts.push(try_n);
    }

    let mut stock = step("stock", "http_request", StepStatus::Failed, 900);
    for number in 1..=2 {
        let mut try_n = attempt(number, StepStatus::Failed, 300);
        http(
            &mut try_n,
            "GET",
            "http://api.local:8080/stock/SKU-001",
            Some(200),
            json!({"available": 0}),
        );
        try_n.assertions.push(failed(
            "body.available > 0",
            Some("the item must be in stock"),
            &[("body.available", json!(0))],
        ));
        stock.attempts.push(try_n);
    }
    flow("retries", FlowStatus::Failed, vec![ready, stock])
}

/// The flow timeout ran out during a step; teardown still ran.
pub fn timed_out_flow() -> FlowResult {
    let mut wait = step("wait_for_job", "wait_until", StepStatus::Cancelled, 30_000);
    wait.reason = Some("the flow timeout (30s) ran out".to_owned());
    let mut cleanup = step("cleanup", "log", StepStatus::Passed, 2);
    cleanup.phase = Phase::Teardown;
    cleanup.attempts.push(attempt(1, StepStatus::Passed, 2));
    let mut result = flow("jobs", FlowStatus::TimedOut, vec![wait, cleanup]);
    result.error = Some("flow timed out after 30s".to_owned());
    result
}

pub fn all_flows() -> Vec<FlowResult> {
    vec![
        passed_flow(),
        failed_assertion_flow(),
        runtime_error_flow(),
        skipped_flow(),
        retries_flow(),
        timed_out_flow(),
    ]
}
