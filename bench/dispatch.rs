//! Dispatch benchmark driver (run by bench/dispatch.sh): runs/s from enqueue to row committed
//! and queue-to-start latency, for the real executor and for a baseline loop without the engine
//! (XADD → XREADGROUP → one multi-row INSERT → XACK), each at full load (the whole batch
//! enqueued at once), at half the full-load rate, and at half the 1,000 runs/s target (paced).
//!
//! Usage: dispatch-bench DATABASE_URL REDIS_URL TESTMESH_BINARY RUNS CONCURRENCY

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use testmesh::flow::FlowSpec;
use testmesh::queue::{FlowRef, RedisQueue, RunMessage, Streams, Trigger, TriggerKind};
use testmesh::store::{Store, StoreOptions};

/// The throughput target; latency is judged at half of it.
const TARGET_RATE: f64 = 1000.0;

struct Measure {
    runs: usize,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    rate: Option<f64>,
}

impl Measure {
    fn runs_per_second(&self) -> f64 {
        self.runs as f64 / self.seconds
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, database_url, redis_url, binary, runs, concurrency] = args.as_slice() else {
        bail!("usage: dispatch-bench DATABASE_URL REDIS_URL TESTMESH_BINARY RUNS CONCURRENCY");
    };
    let runs: usize = runs.parse().context("RUNS")?;
    let target = start_target().await?;
    let spec = one_step_flow(&target)?;

    let base_full = baseline(database_url, redis_url, &spec, runs, None).await?;
    let exec_full = executor(
        database_url,
        redis_url,
        binary,
        concurrency,
        &spec,
        runs,
        None,
    )
    .await?;
    let half_runs = runs / 2;
    let base_half = baseline(
        database_url,
        redis_url,
        &spec,
        half_runs,
        Some(base_full.runs_per_second() / 2.0),
    )
    .await?;
    let exec_half = executor(
        database_url,
        redis_url,
        binary,
        concurrency,
        &spec,
        half_runs,
        Some(exec_full.runs_per_second() / 2.0),
    )
    .await?;
    let half_target = Some(TARGET_RATE / 2.0);
    let base_target = baseline(database_url, redis_url, &spec, half_runs, half_target).await?;
    let exec_target = executor(
        database_url,
        redis_url,
        binary,
        concurrency,
        &spec,
        half_runs,
        half_target,
    )
    .await?;

    println!();
    println!(
        "{:<34} {:>8} {:>10} {:>12} {:>12} {:>12}",
        "", "runs", "runs/s", "offered/s", "p50 q→start", "p99 q→start"
    );
    for (name, m) in [
        ("baseline (no engine), full load", &base_full),
        ("executor, full load", &exec_full),
        ("baseline (no engine), half load", &base_half),
        ("executor, half load", &exec_half),
        ("baseline (no engine), half target", &base_target),
        ("executor, half target", &exec_target),
    ] {
        let offered = m
            .rate
            .map_or("all at once".to_string(), |r| format!("{r:.0}"));
        println!(
            "{name:<34} {:>8} {:>10.0} {:>12} {:>9.1} ms {:>9.1} ms",
            m.runs,
            m.runs_per_second(),
            offered,
            m.p50_ms,
            m.p99_ms
        );
    }
    println!();
    println!(
        "executor / baseline throughput at full load: {:.2}",
        exec_full.runs_per_second() / base_full.runs_per_second()
    );
    println!(
        "targets: executor >= {TARGET_RATE} runs/s: {}; p99 queue-to-start < 50 ms at {} runs/s: {}",
        verdict(exec_full.runs_per_second() >= TARGET_RATE),
        TARGET_RATE / 2.0,
        verdict(exec_target.p99_ms < 50.0),
    );
    Ok(())
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}

/// A local HTTP server the flow calls: GET /ok answers 200.
async fn start_target() -> Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/ok", listener.local_addr()?);
    let router = axum::Router::new().route("/ok", axum::routing::get(|| async { "ok" }));
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(url)
}

fn one_step_flow(url: &str) -> Result<FlowSpec> {
    let text = format!(
        "name: bench\nsteps:\n  - id: call\n    action: http_request\n    config: {{method: GET, url: \"{url}\"}}\n    assert: [status == 200]\n"
    );
    let mut loaded = testmesh::flow::Loaded::default();
    testmesh::flow::load::load_text(&text, std::path::Path::new("bench.yaml"), &mut loaded);
    loaded
        .flows()
        .next()
        .map(|flow| flow.spec.clone())
        .context("the bench flow does not load")
}

fn message(run_id: String, spec: &FlowSpec) -> RunMessage {
    RunMessage {
        run_id,
        flow: FlowRef {
            namespace: "bench".into(),
            name: "one-step".into(),
            generation: 1,
            uid: None,
        },
        spec: spec.clone(),
        environment: None,
        trigger: Trigger {
            kind: TriggerKind::Manual,
            schedule: None,
            scheduled_time: None,
            token: None,
        },
        enqueued_at: Utc::now(),
        start_deadline: None,
        timeout_seconds: None,
        traceparent: None,
        draft: false,
    }
}

/// A fresh database (migrated) and a fresh Redis prefix.
async fn fresh(
    database_url: &str,
    redis_url: &str,
    name: &str,
) -> Result<(String, Store, RedisQueue, String)> {
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let db = format!("bench_{name}_{suffix}");
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(database_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{db}\"")))
        .execute(&mut admin)
        .await?;
    let mut url = url::Url::parse(database_url)?;
    url.set_path(&format!("/{db}"));
    let options = StoreOptions {
        max_connections: 8,
        ..StoreOptions::default()
    };
    let store = Store::connect(url.as_str(), options).await?;
    store.migrate().await?;
    let prefix = format!("bench:{name}:{suffix}:");
    let queue = RedisQueue::connect(
        redis_url,
        Streams::prefixed(&prefix),
        Duration::from_secs(10),
    )
    .await?;
    queue.ensure_group().await?;
    Ok((url.to_string(), store, queue, prefix))
}

/// Enqueues `runs` messages, all at once (pipelined by concurrency) or paced at `rate`/s.
async fn enqueue(queue: RedisQueue, spec: FlowSpec, runs: usize, rate: Option<f64>) -> Result<()> {
    match rate {
        None => {
            let mut pending = futures::stream::FuturesUnordered::new();
            for n in 0..runs {
                let queue = queue.clone();
                let run = message(format!("run-{n}"), &spec);
                pending.push(async move { queue.enqueue_run(&run).await });
                if pending.len() >= 256 {
                    futures::StreamExt::next(&mut pending).await.transpose()?;
                }
            }
            while let Some(done) = futures::StreamExt::next(&mut pending).await {
                done?;
            }
        }
        Some(rate) => {
            let start = Instant::now();
            for n in 0..runs {
                let due = start + Duration::from_secs_f64(n as f64 / rate);
                tokio::time::sleep_until(due.into()).await;
                let queue = queue.clone();
                let run = message(format!("run-{n}"), &spec);
                tokio::spawn(async move { queue.enqueue_run(&run).await });
            }
        }
    }
    Ok(())
}

/// Waits until `runs` rows are finished; answers the seconds since `start`.
async fn wait_committed(
    store: &Store,
    runs: usize,
    start: Instant,
    finished_sql: &'static str,
) -> Result<f64> {
    let deadline = start + Duration::from_secs(600);
    loop {
        let done: i64 = sqlx::query_scalar(finished_sql)
            .fetch_one(store.pool())
            .await?;
        if done as usize >= runs {
            return Ok(start.elapsed().as_secs_f64());
        }
        if Instant::now() > deadline {
            bail!("only {done} of {runs} runs committed after 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn latency(store: &Store) -> Result<(f64, f64)> {
    let (p50, p99): (f64, f64) = sqlx::query_as(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), \
         percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) FROM \
         (SELECT extract(epoch FROM started_at - queued_at) * 1000 AS ms FROM executions.runs) t",
    )
    .fetch_one(store.pool())
    .await?;
    Ok((p50, p99))
}

/// The baseline: the same queue and table, no engine, no executor process.
async fn baseline(
    database_url: &str,
    redis_url: &str,
    spec: &FlowSpec,
    runs: usize,
    rate: Option<f64>,
) -> Result<Measure> {
    let (_, store, queue, prefix) = fresh(database_url, redis_url, "baseline").await?;
    let consumer_store = store.clone();
    // Its own connection, as an executor has: a blocking read must not hold up the producer.
    let consumer_queue = RedisQueue::connect(
        redis_url,
        Streams::prefixed(&prefix),
        Duration::from_secs(10),
    )
    .await?;
    let consumer = tokio::spawn(async move {
        let mut done = 0;
        while done < runs {
            let deliveries = consumer_queue
                .read_runs("baseline", 500, Duration::from_millis(100))
                .await?;
            let messages: Vec<RunMessage> = deliveries
                .iter()
                .filter_map(|d| d.run.clone().ok())
                .collect();
            let refs: Vec<&RunMessage> = messages.iter().collect();
            consumer_store
                .start_runs(&refs, "baseline", Utc::now())
                .await?;
            let ids: Vec<String> = deliveries.iter().map(|d| d.id.clone()).collect();
            consumer_queue.settle(&ids, &[], &[]).await?;
            done += deliveries.len();
        }
        anyhow::Ok(())
    });
    let start = Instant::now();
    enqueue(queue, spec.clone(), runs, rate).await?;
    let seconds =
        wait_committed(&store, runs, start, "SELECT count(*) FROM executions.runs").await?;
    consumer.await??;
    let (p50_ms, p99_ms) = latency(&store).await?;
    Ok(Measure {
        runs,
        seconds,
        p50_ms,
        p99_ms,
        rate,
    })
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

/// The real executor process, enqueued to after it is ready.
async fn executor(
    database_url: &str,
    redis_url: &str,
    binary: &str,
    concurrency: &str,
    spec: &FlowSpec,
    runs: usize,
    rate: Option<f64>,
) -> Result<Measure> {
    let (db_url, store, queue, prefix) = fresh(database_url, redis_url, "executor").await?;
    let metrics_port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new(binary)
        .arg("executor")
        .args([
            "--database-url",
            &db_url,
            "--redis-url",
            redis_url,
            "--redis-prefix",
            &prefix,
        ])
        .args(["--executor-id", "bench", "--concurrency", concurrency])
        .args([
            "--metrics-addr",
            &format!("127.0.0.1:{metrics_port}"),
            "--log-format",
            "json",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .context("start the executor")?;
    let _child = Killed(child);
    let ready = format!("http://127.0.0.1:{metrics_port}/readyz");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !matches!(reqwest::get(&ready).await, Ok(r) if r.status().is_success()) {
        if Instant::now() > deadline {
            bail!("the executor did not become ready");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let start = Instant::now();
    enqueue(queue, spec.clone(), runs, rate).await?;
    let seconds = wait_committed(
        &store,
        runs,
        start,
        "SELECT count(*) FROM executions.runs WHERE status NOT IN ('queued', 'running')",
    )
    .await?;
    let (p50_ms, p99_ms) = latency(&store).await?;
    let failed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM executions.runs WHERE status <> 'passed'")
            .fetch_one(store.pool())
            .await?;
    if failed > 0 {
        bail!("{failed} runs did not pass");
    }
    Ok(Measure {
        runs,
        seconds,
        p50_ms,
        p99_ms,
        rate,
    })
}
