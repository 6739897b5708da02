//! Operator timings, run by `bench/operator.sh`. Two measurements, each beside a baseline
//! taken in the same invocation:
//! - `enqueue --redis-url URL [--runs N] [--concurrency C]`: runs/s the operator's exactly-once
//!   enqueue (SET NX + XADD in one Lua script) reaches, against bare XADDs of the same payload;
//! - `api-floor --api URL --patches N [--concurrency C]`: how fast a bare HTTP client can list
//!   the flows and send N status patches to the mock API: the floor under a full resync.
//!
//! Prints numbers only; exits non-zero on a failure, never on a timing.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use redis::AsyncCommands;
use serde_json::json;
use testmesh::flow::FlowSpec;
use testmesh::operator::queue::RedisQueue;
use testmesh::queue::{FlowRef, PAYLOAD_FIELD, RUNS_STREAM, RunMessage, Trigger, TriggerKind};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn number(name: &str, default: usize) -> usize {
    arg(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn message(i: usize) -> RunMessage {
    let spec: FlowSpec = serde_json::from_value(json!({
        "name": format!("Flow {i}"),
        "steps": [
            {"id": "create", "action": "http_request",
             "config": {"method": "POST", "url": "http://svc/orders", "body": {"sku": i}},
             "assert": ["status == 201"], "output": {"order_id": "$.body.id"}},
            {"id": "read", "action": "http_request",
             "config": {"url": "http://svc/orders/${order_id}"}, "assert": ["body.id == order_id"]}
        ]
    }))
    .unwrap_or_default();
    RunMessage {
        run_id: format!("sch-bench000-{}", 1_800_000_000 + i),
        flow: FlowRef {
            namespace: format!("ns-{}", i % 20),
            name: format!("flow-{i}"),
            generation: 1,
            uid: None,
        },
        spec,
        environment: None,
        trigger: Trigger {
            kind: TriggerKind::Schedule,
            schedule: None,
            scheduled_time: None,
            token: None,
        },
        enqueued_at: chrono::Utc::now(),
        start_deadline: None,
        timeout_seconds: Some(60),
        traceparent: None,
        draft: false,
    }
}

async fn enqueue(url: &str, runs: usize, concurrency: usize) -> Result<(), String> {
    let prefix = format!("bench:{}:", uuid::Uuid::new_v4());
    let queue = RedisQueue::connect(url, &prefix)
        .await
        .map_err(|e| e.to_string())?;
    let client = redis::Client::open(url).map_err(|e| e.to_string())?;
    let raw = redis::aio::ConnectionManager::new(client)
        .await
        .map_err(|e| e.to_string())?;
    let messages: Arc<Vec<RunMessage>> = Arc::new((0..runs).map(message).collect());

    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (next, messages, mut raw) = (next.clone(), messages.clone(), raw.clone());
            let stream = format!("{prefix}baseline");
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(message) = messages.get(i) else {
                        break;
                    };
                    let payload = serde_json::to_string(message).unwrap_or_default();
                    let added: redis::RedisResult<String> =
                        raw.xadd(&stream, "*", &[(PAYLOAD_FIELD, payload)]).await;
                    added.map_err(|e| e.to_string())?;
                }
                Ok::<(), String>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.map_err(|e| e.to_string())??;
    }
    let baseline = runs as f64 / start.elapsed().as_secs_f64();

    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (next, messages, queue) = (next.clone(), messages.clone(), queue.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(message) = messages.get(i) else {
                        break;
                    };
                    queue.enqueue(message).await.map_err(|e| e.to_string())?;
                }
                Ok::<(), String>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.map_err(|e| e.to_string())??;
    }
    let operator = runs as f64 / start.elapsed().as_secs_f64();

    let mut check = raw.clone();
    let length: usize = check
        .xlen(format!("{prefix}{RUNS_STREAM}"))
        .await
        .map_err(|e| e.to_string())?;
    // Enqueueing the same runs again adds nothing.
    for message in messages.iter().take(100) {
        queue.enqueue(message).await.map_err(|e| e.to_string())?;
    }
    let again: usize = check
        .xlen(format!("{prefix}{RUNS_STREAM}"))
        .await
        .map_err(|e| e.to_string())?;
    let keys: Vec<String> = check
        .keys(format!("{prefix}*"))
        .await
        .map_err(|e| e.to_string())?;
    if !keys.is_empty() {
        let _: () = check.del(keys).await.map_err(|e| e.to_string())?;
    }
    if length != runs || again != runs {
        return Err(format!(
            "expected {runs} entries, found {length} (then {again})"
        ));
    }
    println!(
        "enqueue: {operator:.0} runs/s exactly-once (target >= 5000) | bare XADD baseline: {baseline:.0} runs/s | ratio {:.2} ({runs} runs, {concurrency} concurrent)",
        operator / baseline
    );
    Ok(())
}

async fn api_floor(api: &str, patches: usize, concurrency: usize) -> Result<(), String> {
    let client = reqwest::Client::new();
    let start = Instant::now();
    client
        .get(format!("{api}/apis/testmesh.io/v1alpha1/testflows"))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .bytes()
        .await
        .map_err(|e| e.to_string())?;
    let next = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, next, api) = (client.clone(), next.clone(), api.to_string());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= patches {
                        break;
                    }
                    let url = format!(
                        "{api}/apis/testmesh.io/v1alpha1/namespaces/floor/testenvironments/env-{i}/status"
                    );
                    client
                        .patch(url)
                        .header("content-type", "application/apply-patch+yaml")
                        .body(r#"{"status":{"flows":0}}"#)
                        .send()
                        .await
                        .map_err(|e| e.to_string())?
                        .bytes()
                        .await
                        .map_err(|e| e.to_string())?;
                }
                Ok::<(), String>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.map_err(|e| e.to_string())??;
    }
    println!("{:.2}", start.elapsed().as_secs_f64());
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let mode = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .unwrap_or_default();
    let concurrency = number("--concurrency", 16);
    let outcome = match mode.as_str() {
        "enqueue" => match arg("--redis-url") {
            Some(url) => enqueue(&url, number("--runs", 20_000), concurrency).await,
            None => Err("enqueue needs --redis-url".into()),
        },
        "api-floor" => match arg("--api") {
            Some(api) => api_floor(&api, number("--patches", 12_000), concurrency).await,
            None => Err("api-floor needs --api".into()),
        },
        _ => Err("usage: operator enqueue --redis-url URL | api-floor --api URL".into()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bench operator: {message}");
            ExitCode::FAILURE
        }
    }
}
