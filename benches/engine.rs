//! Engine overhead bench, run by `bench/engine.sh` (or `cargo bench --bench engine -- [--steps N]
//! [--runs N]`). It starts a local axum server, then times two ways of making the same sequential
//! GETs on one keep-alive connection: a bare reqwest loop that parses the JSON (the baseline),
//! and a generated flow of `http_request` steps, each with two assertions and one capture,
//! loaded by the real loader and run by `run_flow`. It prints best and median wall times and the
//! ratio engine/baseline; it exits non-zero if the flow does not pass, never on a timing.

// The engine's step futures nest past the default depth of 128 (see src/lib.rs).

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use testmesh::engine::{FlowStatus, RunOptions, run_flow};
use testmesh::flow::FlowSpec;
use testmesh::flow::load::{Loaded, load_text};

/// The ratio engine/baseline the engine aims to stay under.
const TARGET_RATIO: f64 = 1.25;

struct Args {
    steps: usize,
    runs: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        steps: 1000,
        runs: 3,
    };
    let mut iter = std::env::args().skip(1);
    while let Some(arg) = iter.next() {
        let slot = match arg.as_str() {
            "--steps" => &mut args.steps,
            "--runs" => &mut args.runs,
            // `cargo bench` passes `--bench` to every bench binary.
            "--bench" => continue,
            other => {
                return Err(format!(
                    "unknown argument `{other}` (use --steps N, --runs N)"
                ));
            }
        };
        let value = iter.next().ok_or(format!("{arg} needs a number"))?;
        *slot = value
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or(format!("{arg}: `{value}` is not a positive number"))?;
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("bench_engine: {message}");
            return ExitCode::from(2);
        }
    };
    let url = match start_server().await {
        Ok(url) => url,
        Err(err) => {
            eprintln!("bench_engine: cannot start the server: {err}");
            return ExitCode::FAILURE;
        }
    };
    let flow = match load_flow(&url, args.steps) {
        Ok(flow) => flow,
        Err(message) => {
            eprintln!("bench_engine: the generated flow does not load: {message}");
            return ExitCode::FAILURE;
        }
    };
    // Warm-up: the server, the connection pools and the page cache.
    for kind in [Client::Bare, Client::LikeEngine] {
        if let Err(message) = reqwest_loop(&url, args.steps, kind).await {
            eprintln!("bench_engine: reqwest loop failed: {message}");
            return ExitCode::FAILURE;
        }
    }
    if let Err(message) = engine(&flow).await {
        eprintln!("bench_engine: {message}");
        return ExitCode::FAILURE;
    }
    let mut baseline = Vec::new();
    let mut like_engine = Vec::new();
    let mut engine_times = Vec::new();
    for _ in 0..args.runs {
        for (kind, times) in [
            (Client::Bare, &mut baseline),
            (Client::LikeEngine, &mut like_engine),
        ] {
            match reqwest_loop(&url, args.steps, kind).await {
                Ok(elapsed) => times.push(elapsed),
                Err(message) => {
                    eprintln!("bench_engine: reqwest loop failed: {message}");
                    return ExitCode::FAILURE;
                }
            }
        }
        match engine(&flow).await {
            Ok(elapsed) => engine_times.push(elapsed),
            Err(message) => {
                eprintln!("bench_engine: {message}");
                return ExitCode::FAILURE;
            }
        }
    }
    let (engine_best, engine_median) = best_and_median(&mut engine_times);
    let (base_best, base_median) = best_and_median(&mut baseline);
    let (like_best, like_median) = best_and_median(&mut like_engine);
    let ratio = engine_best.as_secs_f64() / base_best.as_secs_f64();
    let verdict = if ratio <= TARGET_RATIO {
        "met"
    } else {
        "MISSED"
    };
    println!(
        "engine {} steps: best {} ms, median {} ms | bare reqwest: best {} ms, median {} ms | ratio {ratio:.2}x (target <= {TARGET_RATIO}x: {verdict})",
        args.steps,
        engine_best.as_millis(),
        engine_median.as_millis(),
        base_best.as_millis(),
        base_median.as_millis(),
    );
    println!(
        "  for reference, reqwest with the engine's client settings (cookie jar, per-request timeout): best {} ms, median {} ms ({:.2}x bare)",
        like_best.as_millis(),
        like_median.as_millis(),
        like_best.as_secs_f64() / base_best.as_secs_f64(),
    );
    ExitCode::SUCCESS
}

/// Serves `GET /item` with a small JSON body on 127.0.0.1 and a port the system picks.
async fn start_server() -> std::io::Result<String> {
    let router = Router::new().route(
        "/item",
        get(|| async { Json(json!({"id": 1, "items": [{"price": 3}]})) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(format!("http://{address}/item"))
}

/// A flow of `steps` GETs of `url`, each asserting twice and capturing once.
fn load_flow(url: &str, steps: usize) -> Result<FlowSpec, String> {
    let mut text = String::from("name: bench-engine\nsteps:\n");
    for index in 1..=steps {
        text.push_str(&format!(
            "  - id: get_{index}\n    action: http_request\n    config:\n      method: GET\n      url: {url}\n    assert:\n      - status == 200\n      - body.items[0].price > 0\n    output:\n      id: $.body.id\n"
        ));
    }
    let mut loaded = Loaded::default();
    load_text(&text, Path::new("bench-engine.yaml"), &mut loaded);
    if loaded.has_errors() {
        let messages: Vec<String> = loaded.diagnostics.iter().map(|d| d.to_string()).collect();
        return Err(messages.join("; "));
    }
    loaded
        .flows()
        .next()
        .map(|flow| flow.spec.clone())
        .ok_or_else(|| "no flow in the generated text".to_string())
}

/// How the loop's client is set up.
#[derive(Clone, Copy)]
enum Client {
    /// `reqwest::Client::new()`: the baseline.
    Bare,
    /// As the engine sets it up: a cookie jar and a timeout around each request.
    LikeEngine,
}

/// `steps` sequential GETs on one client, each body parsed and checked.
async fn reqwest_loop(url: &str, steps: usize, kind: Client) -> Result<Duration, String> {
    let started = Instant::now();
    let client = match kind {
        Client::Bare => reqwest::Client::new(),
        Client::LikeEngine => reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .map_err(|e| e.to_string())?,
    };
    for _ in 0..steps {
        let send = client.get(url).send();
        let response = match kind {
            Client::Bare => send.await,
            Client::LikeEngine => tokio::time::timeout(Duration::from_secs(30), send)
                .await
                .map_err(|_| "timed out".to_string())?,
        }
        .map_err(|e| e.to_string())?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| e.to_string())?;
        let body: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        let price = body["items"][0]["price"].as_i64().unwrap_or_default();
        if status != 200 || price <= 0 || body["id"].is_null() {
            return Err(format!("unexpected answer {status}: {body}"));
        }
    }
    Ok(started.elapsed())
}

/// One run of the flow; an error unless every step passed.
async fn engine(flow: &FlowSpec) -> Result<Duration, String> {
    let started = Instant::now();
    let result = run_flow(flow, RunOptions::default()).await;
    let elapsed = started.elapsed();
    if result.status != FlowStatus::Passed {
        let failed = result
            .steps
            .iter()
            .find(|s| s.status != testmesh::engine::StepStatus::Passed)
            .map(|s| format!("{}: {:?}", s.id, s.attempts.last()))
            .unwrap_or_default();
        return Err(format!(
            "the flow ended {:?}, not passed: {failed}",
            result.status
        ));
    }
    if result.captured.get("id") != Some(&json!(1)) {
        return Err(format!(
            "the capture `id` is {:?}",
            result.captured.get("id")
        ));
    }
    Ok(elapsed)
}

/// Sorts `times` and returns the best and the median.
fn best_and_median(times: &mut [Duration]) -> (Duration, Duration) {
    times.sort();
    (times[0], times[times.len() / 2])
}
