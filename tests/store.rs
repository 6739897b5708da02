//! The store against a real PostgreSQL: migrations (repeated and concurrent), the run
//! lifecycle with duplicates and re-attempts, step rows with truncated payloads, retention, and
//! both storage paths. Each test has its own database.

mod common;

use chrono::{DateTime, Duration, DurationRound, Utc};
use indexmap::IndexMap;
use serde_json::json;
use testmesh::engine::result::{AttemptResult, Phase, StepResult};
use testmesh::engine::{FlowResult, FlowStatus, StepStatus};
use testmesh::queue::RunMessage;
use testmesh::store::{FinishedRun, QueuedInsert, StorageMode, Store, StoreOptions};

use common::services::{fresh_database, run_message, spec};

async fn store(test: &str) -> Option<Store> {
    let url = fresh_database(test).await?;
    let options = StoreOptions {
        max_payload_bytes: 200,
        ..StoreOptions::default()
    };
    let store = Store::connect(&url, options).await.unwrap();
    assert_eq!(store.migrate().await.unwrap(), StorageMode::Plain);
    Some(store)
}

fn one_step_spec() -> testmesh::flow::FlowSpec {
    spec("name: orders\nsteps:\n  - id: ping\n    action: log\n    config: {message: hi}\n")
}

fn result(run_id: &str, status: FlowStatus, response_bytes: usize) -> FlowResult {
    let now = Utc::now();
    let attempt = |n: u32, status: StepStatus| AttemptResult {
        attempt: n,
        status,
        started_at: now,
        duration_ms: 3,
        assertions: Vec::new(),
        error: None,
        request: Some(json!({"method": "GET", "url": "http://127.0.0.1/x"}).into()),
        response: Some(json!({"status": 200, "body": "x".repeat(response_bytes)}).into()),
    };
    FlowResult {
        execution_id: run_id.to_string(),
        flow_name: "orders".into(),
        source: None,
        status,
        started_at: now,
        finished_at: now + Duration::milliseconds(7),
        duration_ms: 7,
        steps: vec![StepResult {
            id: "ping".into(),
            name: None,
            action: "http_request".into(),
            phase: Phase::Main,
            status: StepStatus::Passed,
            started_at: now,
            duration_ms: 6,
            attempts: vec![
                attempt(1, StepStatus::Failed),
                attempt(2, StepStatus::Passed),
            ],
            captured: IndexMap::from([("id".to_string(), json!("ord-1"))]),
            reason: None,
        }],
        captured: IndexMap::new(),
        error: None,
    }
}

/// Starts `run` on one executor and records `result` as its first attempt; answers the run ids
/// the store accepted.
async fn start_and_finish(store: &Store, run: &RunMessage, result: FlowResult) -> Vec<String> {
    store
        .start_runs(&[run], "exec-a", Utc::now())
        .await
        .unwrap();
    let finished = FinishedRun {
        run_id: run.run_id.clone(),
        attempt: 1,
        result,
    };
    store.finish_runs(&[finished]).await.unwrap()
}

async fn count(store: &Store, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn migrations_run_twice_and_concurrently_without_harm() {
    let Some(url) = fresh_database("migrate").await else {
        return;
    };
    let first = Store::connect(&url, StoreOptions::default()).await.unwrap();
    let second = Store::connect(&url, StoreOptions::default()).await.unwrap();
    let (a, b) = tokio::join!(first.migrate(), second.migrate());
    assert_eq!(a.unwrap(), StorageMode::Plain);
    assert_eq!(b.unwrap(), StorageMode::Plain);
    assert_eq!(first.migrate().await.unwrap(), StorageMode::Plain);
    let shipped = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .filter(|entry| {
            entry.as_ref().unwrap().path().extension() == Some(std::ffi::OsStr::new("sql"))
        })
        .count();
    assert!(shipped >= 3, "the migrations folder holds {shipped} files");
    assert_eq!(
        count(
            &first,
            "SELECT count(*) FROM _sqlx_migrations WHERE success"
        )
        .await,
        i64::try_from(shipped).unwrap(),
        "every shipped migration applied once, however many roles ran them"
    );
    assert_eq!(
        count(&first, "SELECT count(*) FROM executions.runs").await,
        0
    );
    assert_eq!(
        count(&first, "SELECT count(*) FROM metrics.flow_hourly").await,
        0
    );
}

#[tokio::test]
async fn a_run_id_is_recorded_once_however_often_it_arrives() {
    let Some(store) = store("dupes").await else {
        return;
    };
    let run = run_message("run-1", "orders", one_step_spec());
    assert_eq!(
        store.insert_queued_run(&run).await.unwrap(),
        QueuedInsert::Inserted
    );
    assert_eq!(
        store.insert_queued_run(&run).await.unwrap(),
        QueuedInsert::Duplicate
    );

    let started = store
        .start_runs(&[&run], "exec-a", Utc::now())
        .await
        .unwrap();
    assert_eq!(started.len(), 1);
    assert_eq!(started[0].attempt, 1);
    let finished = FinishedRun {
        run_id: run.run_id.clone(),
        attempt: 1,
        result: result("run-1", FlowStatus::Passed, 10),
    };
    assert_eq!(
        store
            .finish_runs(std::slice::from_ref(&finished))
            .await
            .unwrap(),
        vec!["run-1"]
    );

    // Delivered again after it finished: it neither starts nor records a second time.
    assert!(
        store
            .start_runs(&[&run], "exec-b", Utc::now())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.finish_runs(&[finished]).await.unwrap().is_empty());
    assert_eq!(
        count(&store, "SELECT count(*) FROM executions.runs").await,
        1
    );
    assert_eq!(
        count(&store, "SELECT count(*) FROM executions.steps").await,
        2
    );
    assert_eq!(
        count(&store, "SELECT count(*) FROM metrics.run_metrics").await,
        1
    );
    let status: String = sqlx::query_scalar("SELECT status FROM executions.runs")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(status, "passed");
}

#[tokio::test]
async fn a_draft_run_is_recorded_with_its_steps_but_stays_out_of_the_metrics() {
    let Some(store) = store("draft").await else {
        return;
    };
    let mut run = run_message("draft-1", "draft-orders", one_step_spec());
    run.draft = true;
    store.insert_queued_run(&run).await.unwrap();
    assert_eq!(
        start_and_finish(&store, &run, result("draft-1", FlowStatus::Failed, 10)).await,
        vec!["draft-1"]
    );
    assert_eq!(
        count(&store, "SELECT count(*) FROM executions.runs WHERE draft").await,
        1
    );
    assert_eq!(
        count(&store, "SELECT count(*) FROM executions.steps").await,
        2
    );
    let metrics = count(
        &store,
        "SELECT (SELECT count(*) FROM metrics.run_metrics) \
         + (SELECT count(*) FROM metrics.flow_rollup) \
         + (SELECT count(*) FROM metrics.namespace_rollup)",
    )
    .await;
    assert_eq!(metrics, 0, "no trend or flakiness row for a draft");
}

#[tokio::test]
async fn a_run_taken_over_runs_as_the_next_attempt_and_the_old_one_cannot_record() {
    let Some(store) = store("attempts").await else {
        return;
    };
    let run = run_message("run-2", "orders", one_step_spec());
    let first = store
        .start_runs(&[&run], "exec-a", Utc::now())
        .await
        .unwrap();
    let second = store
        .start_runs(&[&run], "exec-b", Utc::now())
        .await
        .unwrap();
    assert_eq!((first[0].attempt, second[0].attempt), (1, 2));
    let stale = FinishedRun {
        run_id: run.run_id.clone(),
        attempt: 1,
        result: result("run-2", FlowStatus::Failed, 10),
    };
    assert!(store.finish_runs(&[stale]).await.unwrap().is_empty());
    let current = FinishedRun {
        run_id: run.run_id.clone(),
        attempt: 2,
        result: result("run-2", FlowStatus::Passed, 10),
    };
    assert_eq!(store.finish_runs(&[current]).await.unwrap(), vec!["run-2"]);
    let (status, executor, attempt): (String, String, i32) =
        sqlx::query_as("SELECT status, executor_id, attempt FROM executions.runs")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(
        (status.as_str(), executor.as_str(), attempt),
        ("passed", "exec-b", 2)
    );
}

#[tokio::test]
async fn steps_keep_each_attempt_and_large_payloads_are_cut_with_a_marker() {
    let Some(store) = store("steps").await else {
        return;
    };
    let run = run_message("run-3", "orders", one_step_spec());
    start_and_finish(&store, &run, result("run-3", FlowStatus::Passed, 1000)).await;
    let rows: Vec<(
        i32,
        String,
        serde_json::Value,
        serde_json::Value,
        serde_json::Value,
    )> = sqlx::query_as(
        "SELECT attempt, status, request, response, captured FROM executions.steps \
             ORDER BY attempt",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0].0, rows[0].1.as_str()), (1, "failed"));
    assert_eq!((rows[1].0, rows[1].1.as_str()), (2, "passed"));
    assert_eq!(rows[1].2["method"], "GET", "small request kept whole");
    assert_eq!(rows[1].3["truncated"], true, "{}", rows[1].3);
    assert!(rows[1].3["excerpt"].as_str().unwrap().len() <= 200);
    assert_eq!(rows[1].4["id"], "ord-1");
    let (passed, failed): (i32, i32) =
        sqlx::query_as("SELECT passed_steps, failed_steps FROM executions.runs")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!((passed, failed), (1, 0));
}

#[tokio::test]
async fn retention_deletes_what_is_old_and_nothing_else() {
    let Some(store) = store("retention").await else {
        return;
    };
    let now = Utc::now();
    for (run_id, age_days) in [("old-1", 40), ("old-2", 31), ("new-1", 29), ("new-2", 0)] {
        let mut run = run_message(run_id, "orders", one_step_spec());
        run.enqueued_at = now - Duration::days(age_days);
        store.start_runs(&[&run], "exec-a", now).await.unwrap();
        let mut outcome = result(run_id, FlowStatus::Passed, 10);
        outcome.started_at = run.enqueued_at;
        store
            .finish_runs(&[FinishedRun {
                run_id: run_id.into(),
                attempt: 1,
                result: outcome,
            }])
            .await
            .unwrap();
    }
    let deleted = store
        .delete_older_than(now - Duration::days(30), StorageMode::Plain)
        .await
        .unwrap();
    assert_eq!((deleted.runs, deleted.metrics), (2, 2));
    let left: Vec<String> =
        sqlx::query_scalar("SELECT run_id FROM executions.runs ORDER BY run_id")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(left, vec!["new-1", "new-2"]);
    let step_runs: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT run_id FROM executions.steps ORDER BY run_id")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(step_runs, vec!["new-1", "new-2"]);
    assert_eq!(
        count(&store, "SELECT count(*) FROM metrics.run_metrics").await,
        2
    );
    for table in ["metrics.flow_rollup", "metrics.namespace_rollup"] {
        let oldest: DateTime<Utc> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT min(bucket) FROM {table}"
        )))
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert!(oldest > now - Duration::days(31), "{table} keeps {oldest}");
        let runs: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT sum(runs)::int8 FROM {table} WHERE grain = 'day'"
        )))
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(runs, 2, "{table} counts the runs left");
    }
}

#[tokio::test]
async fn finished_runs_land_in_the_trend_rollups_with_their_duration_bins() {
    let Some(store) = store("rollups").await else {
        return;
    };
    let durations = [0_u64, 1, 40, 45, 1000, 1000];
    let at = Utc::now();
    for (i, duration) in durations.iter().enumerate() {
        let run_id = format!("r{i}");
        let run = run_message(&run_id, "orders", one_step_spec());
        store
            .start_runs(&[&run], "exec-a", Utc::now())
            .await
            .unwrap();
        let status = if i == 2 {
            FlowStatus::Failed
        } else {
            FlowStatus::Passed
        };
        let mut outcome = result(&run_id, status, 10);
        outcome.duration_ms = *duration;
        outcome.started_at = at;
        store
            .finish_runs(&[FinishedRun {
                run_id,
                attempt: 1,
                result: outcome,
            }])
            .await
            .unwrap();
    }
    let bins: Vec<(f64, i64, i64)> = sqlx::query_as(
        "SELECT metrics.bin_duration(bin), runs, passed FROM metrics.flow_rollup \
         WHERE grain = 'hour' AND flow_name = 'orders' ORDER BY bin",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let counts: Vec<(i64, i64)> = bins
        .iter()
        .map(|(_, runs, passed)| (*runs, *passed))
        .collect();
    assert_eq!(counts, [(1, 1), (1, 1), (1, 0), (1, 1), (2, 2)]);
    for ((value, ..), exact) in bins.iter().zip([0.0, 1.0, 40.0, 45.0, 1000.0]) {
        assert!(
            (value - exact).abs() <= 0.02 * exact + 1e-9,
            "{exact} ms reads back as {value}"
        );
    }
    for table in ["metrics.flow_rollup", "metrics.namespace_rollup"] {
        let per_grain: Vec<(String, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT grain, sum(runs)::int8, sum(passed)::int8 FROM {table} GROUP BY grain ORDER BY grain"
        )))
        .fetch_all(store.pool())
        .await
        .unwrap();
        assert_eq!(
            per_grain,
            [("day".to_string(), 6, 5), ("hour".to_string(), 6, 5)],
            "{table}"
        );
    }
}

/// Records one finished run of `qa/orders` at `time` on `conn`.
async fn record_run(conn: &mut sqlx::PgConnection, time: DateTime<Utc>, status: &str) {
    sqlx::query(
        "SELECT metrics.record_runs(ARRAY[$1::timestamptz], ARRAY['qa'], ARRAY['orders'], \
         ARRAY[NULL::text], ARRAY[$2::text], ARRAY[5::int8])",
    )
    .bind(time)
    .bind(status)
    .execute(conn)
    .await
    .unwrap();
}

#[tokio::test]
async fn a_recorder_waits_for_another_one_recording_the_same_hour_and_counts_its_run() {
    let Some(store) = store("flip_race").await else {
        return;
    };
    let hour = Utc::now().duration_trunc(Duration::hours(1)).unwrap() - Duration::hours(2);
    let mut conn = store.pool().acquire().await.unwrap();
    record_run(&mut conn, hour, "passed").await;
    let mut first = store.pool().begin().await.unwrap();
    record_run(&mut first, hour + Duration::seconds(1), "failed").await;
    let pool = store.pool().clone();
    let second = tokio::spawn(async move {
        let mut tx = pool.begin().await.unwrap();
        record_run(&mut tx, hour + Duration::seconds(2), "passed").await;
        tx.commit().await.unwrap();
    });
    // The second recorder waits on the first one's lock of the hour.
    let mut waiting = 0_i64;
    for _ in 0..500 {
        waiting = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock'",
        )
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        if waiting > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(waiting, 1, "the second recorder never waited");
    first.commit().await.unwrap();
    second.await.unwrap();
    let rolled: Vec<(String, i64, i64, i64, bool, bool)> = sqlx::query_as(
        "SELECT grain, runs, passed, flips, first_passed, last_passed FROM metrics.flow_flips \
         WHERE flow_name = 'orders' ORDER BY grain",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let expected = |grain: &str| (grain.to_string(), 3, 2, 2, true, true);
    assert_eq!(rolled, [expected("day"), expected("hour")]);
}

#[tokio::test]
async fn the_plain_path_serves_the_hourly_view() {
    let Some(store) = store("plain").await else {
        return;
    };
    for (run_id, status) in [("a", FlowStatus::Passed), ("b", FlowStatus::Failed)] {
        let run = run_message(run_id, "orders", one_step_spec());
        store
            .start_runs(&[&run], "exec-a", Utc::now())
            .await
            .unwrap();
        store
            .finish_runs(&[FinishedRun {
                run_id: run_id.into(),
                attempt: 1,
                result: result(run_id, status, 10),
            }])
            .await
            .unwrap();
    }
    let (runs, pass_rate): (i64, f64) = sqlx::query_as(
        "SELECT sum(runs)::int8, avg(pass_rate)::float8 FROM metrics.flow_hourly \
         WHERE flow_name = 'orders'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(runs, 2);
    assert!((pass_rate - 0.5).abs() < 1e-9, "{pass_rate}");
}

#[tokio::test]
async fn the_timescale_path_makes_a_hypertable_when_the_extension_exists() {
    let Some(url) = fresh_database("timescale").await else {
        return;
    };
    let store = Store::connect(&url, StoreOptions::default()).await.unwrap();
    let available: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    if !available {
        println!("skipped: the timescaledb extension is not installed on this PostgreSQL");
        return;
    }
    let mode = store.migrate().await.unwrap();
    if mode == StorageMode::Plain {
        println!("skipped: timescaledb is installed but not loaded (shared_preload_libraries)");
        return;
    }
    assert_eq!(mode, StorageMode::Timescale);
    let hypertables = count(
        &store,
        "SELECT count(*) FROM timescaledb_information.hypertables \
         WHERE hypertable_schema = 'metrics' AND hypertable_name = 'run_metrics'",
    )
    .await;
    assert_eq!(hypertables, 1);
    assert_eq!(store.migrate().await.unwrap(), StorageMode::Timescale);
}
