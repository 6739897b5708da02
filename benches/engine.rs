//! Engine overhead bench, run by `bench/engine.sh` (or `cargo bench --bench engine -- [--steps N]
//! [--runs N] [--url URL]`). It starts a local axum server (or uses the one `--url` names, which
//! must answer GETs with `{"id": 1, "items": [{"price": 3}]}`), then times two ways of making the
//! same sequential GETs on one keep-alive connection: a bare reqwest loop that parses the JSON (the baseline),
//! and a generated flow of `http_request` steps, each with two assertions and one capture,
//! loaded by the real loader and run by `run_flow`. It prints best and median wall times and the
//! ratio engine/baseline twice: with the loops on the main thread, and as runtime tasks (see
//! [`Placement`]). Two reference loops tell where a gap comes from: reqwest set up as the engine
//! sets it up, and the `http_request` action called alone (no runner around it). It exits
//! non-zero if the flow does not pass, never on a timing.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::{Json, Router};
use indexmap::IndexMap;
use serde_json::{Map, Value, json};
use testmesh::engine::actions::http::{self, HttpSession};
use testmesh::engine::{FlowStatus, RunOptions, run_flow};
use testmesh::flow::FlowSpec;
use testmesh::flow::load::{Loaded, load_text};

/// The ratio engine/baseline the engine aims to stay under.
const TARGET_RATIO: f64 = 1.25;

struct Args {
    steps: usize,
    runs: usize,
    url: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        steps: 1000,
        runs: 15,
        url: None,
    };
    let mut iter = std::env::args().skip(1);
    while let Some(arg) = iter.next() {
        let slot = match arg.as_str() {
            "--steps" => &mut args.steps,
            "--runs" => &mut args.runs,
            // `cargo bench` passes `--bench` to every bench binary.
            "--bench" => continue,
            "--url" => {
                args.url = Some(iter.next().ok_or("--url needs a URL")?);
                continue;
            }
            other => {
                return Err(format!(
                    "unknown argument `{other}` (use --steps N, --runs N, --url URL)"
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
    let started = match args.url.clone() {
        Some(url) => Ok(url),
        None => start_server().await,
    };
    let url = match started {
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
    for placement in [Placement::MainThread, Placement::Task] {
        if let Err(message) = compare(&url, &flow, &args, placement).await {
            eprintln!("bench_engine: {message}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

/// Where the timed loops run. The ratio differs: on the main thread every request crosses to a
/// worker thread and back, which costs both loops the same tens of microseconds and hides
/// part of the engine's own cost; as tasks, the request, the connection and the step share a
/// worker, everything is faster, and the engine's work weighs more.
#[derive(Clone, Copy)]
enum Placement {
    /// In `main`'s `block_on`, as plain `#[tokio::main]` code runs: the baseline.
    MainThread,
    /// As runtime tasks, as `testmesh run` and the executors run flows.
    Task,
}

impl Placement {
    fn label(self) -> &'static str {
        match self {
            Placement::MainThread => "on the main thread",
            Placement::Task => "as runtime tasks",
        }
    }

    /// Runs `work` where this placement says.
    async fn run<T: Send + 'static>(
        self,
        work: impl Future<Output = Result<T, String>> + Send + 'static,
    ) -> Result<T, String> {
        match self {
            Placement::MainThread => work.await,
            Placement::Task => tokio::spawn(work)
                .await
                .map_err(|err| format!("the task failed: {err}"))?,
        }
    }
}

/// Times the bare loop, the loop with the engine's client settings and the engine, `runs`
/// rounds after a warm-up, all placed alike, and prints best, median and ratio.
async fn compare(
    url: &str,
    flow: &FlowSpec,
    args: &Args,
    placement: Placement,
) -> Result<(), String> {
    let kinds = [Client::Bare, Client::LikeEngine];
    // Warm-up: the server, the connection pools and the page cache.
    for kind in kinds {
        placement
            .run(reqwest_loop(url.to_string(), args.steps, kind))
            .await?;
    }
    placement.run(engine(flow.clone())).await?;
    placement
        .run(action_loop(url.to_string(), args.steps))
        .await?;
    let mut times = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..args.runs {
        for (index, kind) in kinds.into_iter().enumerate() {
            let elapsed = placement
                .run(reqwest_loop(url.to_string(), args.steps, kind))
                .await?;
            times[index].push(elapsed);
        }
        times[2].push(placement.run(engine(flow.clone())).await?);
        times[3].push(
            placement
                .run(action_loop(url.to_string(), args.steps))
                .await?,
        );
    }
    let [baseline, like_engine, engine_times, action_times] = &mut times;
    let (engine_best, engine_median) = best_and_median(engine_times);
    let (base_best, base_median) = best_and_median(baseline);
    let (like_best, like_median) = best_and_median(like_engine);
    let (action_best, action_median) = best_and_median(action_times);
    let ratio = engine_best.as_secs_f64() / base_best.as_secs_f64();
    let verdict = if ratio <= TARGET_RATIO {
        "met"
    } else {
        "MISSED"
    };
    println!(
        "{}: engine {} steps: best {} ms, median {} ms | bare reqwest: best {} ms, median {} ms | ratio {ratio:.2}x (target <= {TARGET_RATIO}x: {verdict})",
        placement.label(),
        args.steps,
        ms(engine_best),
        ms(engine_median),
        ms(base_best),
        ms(base_median),
    );
    println!(
        "  for reference, reqwest with the engine's client settings (redirects not followed, a timeout per request): best {} ms, median {} ms ({:.2}x bare)",
        ms(like_best),
        ms(like_median),
        like_best.as_secs_f64() / base_best.as_secs_f64(),
    );
    println!(
        "  for reference, the http_request action alone in a loop (no runner): best {} ms, median {} ms ({:.2}x bare)",
        ms(action_best),
        ms(action_median),
        action_best.as_secs_f64() / base_best.as_secs_f64(),
    );
    Ok(())
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
    /// As the engine sets it up: redirects left to the caller and a timeout around each
    /// request (the engine keeps cookies itself).
    LikeEngine,
}

/// `steps` sequential GETs on one client, each body parsed and checked.
async fn reqwest_loop(url: String, steps: usize, kind: Client) -> Result<Duration, String> {
    let started = Instant::now();
    let client = match kind {
        Client::Bare => reqwest::Client::new(),
        Client::LikeEngine => reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?,
    };
    for _ in 0..steps {
        let send = client.get(&url).send();
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

/// `steps` calls of the `http_request` action on one HTTP session, as the runner makes them but
/// without the runner: no interpolation, assertions, captures or step records.
async fn action_loop(url: String, steps: usize) -> Result<Duration, String> {
    let started = Instant::now();
    let session = HttpSession::new(IndexMap::new());
    let config = Map::from_iter([
        ("method".to_string(), Value::from("GET")),
        ("url".to_string(), Value::from(url)),
    ]);
    for _ in 0..steps {
        let output = http::execute(&config, &session)
            .await
            .map_err(|err| err.to_string())?;
        let price = output.result["body"]["items"][0]["price"]
            .as_i64()
            .unwrap_or_default();
        if output.result["status"] != 200 || price <= 0 {
            return Err(format!(
                "unexpected answer from the action: {:?}",
                output.result
            ));
        }
    }
    Ok(started.elapsed())
}

/// One run of the flow; an error unless every step passed.
async fn engine(flow: FlowSpec) -> Result<Duration, String> {
    let started = Instant::now();
    let result = run_flow(&flow, RunOptions::default()).await;
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

/// `duration` in milliseconds, to a tenth: the gaps that matter here are about a millisecond.
fn ms(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1000.0)
}

/// Sorts `times` and returns the best and the median.
fn best_and_median(times: &mut [Duration]) -> (Duration, Duration) {
    times.sort();
    (times[0], times[times.len() / 2])
}
