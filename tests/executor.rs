//! The executor end to end, as the real binary against real PostgreSQL and Redis: the full path
//! (queue → HTTP flow → rows, metrics, result and live events), secrets masked, crash recovery
//! after SIGKILL, SIGTERM draining, duplicates, poison messages, and Redis restarted mid-run.

mod common;

use std::time::Duration;

use redis::AsyncCommands;
use redis::streams::StreamRangeReply;
use sqlx::PgPool;
use testmesh::queue::{EnvironmentRef, RedisQueue, ResultMessage, RunMessage, Streams};
use testmesh::store::{Store, StoreOptions};

use common::executor_process::{ExecutorProcess, ExecutorSetup, eventually};
use common::services::{fresh_database, redis_url, run_message, spec, unique_prefix};

const WAIT: Duration = Duration::from_secs(60);

struct World {
    database_url: String,
    redis_url: String,
    prefix: String,
    store: Store,
    queue: RedisQueue,
}

async fn world(test: &str) -> Option<World> {
    let redis_url = redis_url()?;
    let database_url = fresh_database(test).await?;
    world_on(test, database_url, redis_url).await
}

async fn world_on(test: &str, database_url: String, redis_url: String) -> Option<World> {
    let prefix = unique_prefix(test);
    let store = Store::connect(&database_url, StoreOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let queue = RedisQueue::connect(
        &redis_url,
        Streams::prefixed(&prefix),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    Some(World {
        database_url,
        redis_url,
        prefix,
        store,
        queue,
    })
}

impl World {
    fn executor(&self, id: &str, extra: &[&str]) -> ExecutorProcess {
        ExecutorProcess::spawn(&ExecutorSetup {
            database_url: &self.database_url,
            redis_url: &self.redis_url,
            prefix: &self.prefix,
            executor_id: id,
            extra,
            env: &[],
        })
    }

    fn pool(&self) -> &PgPool {
        self.store.pool()
    }

    async fn status(&self, run_id: &str) -> Option<String> {
        sqlx::query_scalar("SELECT status FROM executions.runs WHERE run_id = $1")
            .bind(run_id)
            .fetch_optional(self.pool())
            .await
            .ok()
            .flatten()
    }

    async fn wait_status(
        &self,
        run_id: &str,
        wanted: &[&str],
        process: &ExecutorProcess,
    ) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(status) = self.status(run_id).await
                && wanted.contains(&status.as_str())
            {
                return status;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "run {run_id} never reached {wanted:?}; log:\n{}",
                process.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn stream(&self, key: &str) -> StreamRangeReply {
        let client = redis::Client::open(self.redis_url.as_str()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        conn.xrange_all(key).await.unwrap()
    }

    async fn results(&self) -> Vec<ResultMessage> {
        let key = self.queue.streams().results.clone();
        self.stream(&key)
            .await
            .ids
            .iter()
            .map(|entry| {
                let text: String = entry.get("message").unwrap();
                serde_json::from_str(&text).unwrap()
            })
            .collect()
    }

    async fn pending(&self) -> usize {
        let client = redis::Client::open(self.redis_url.as_str()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let streams = self.queue.streams();
        let reply: redis::Value = redis::cmd("XPENDING")
            .arg(&streams.runs)
            .arg(&streams.group)
            .query_async(&mut conn)
            .await
            .unwrap();
        match reply {
            redis::Value::Array(items) => match items.first() {
                Some(redis::Value::Int(n)) => *n as usize,
                _ => 0,
            },
            _ => 0,
        }
    }
}

fn http_run(run_id: &str, url: &str) -> RunMessage {
    run_message(
        run_id,
        "orders",
        spec(&format!(
            "name: orders\nsteps:\n  - id: call\n    action: http_request\n    config:\n      method: GET\n      url: \"{url}\"\n    assert: [status == 200]\n"
        )),
    )
}

#[tokio::test]
async fn a_queued_run_is_executed_recorded_and_reported() {
    let Some(world) = world("full").await else {
        return;
    };
    let server = common::http_server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let environments = dir.path().join("envs.json");
    std::fs::write(
        &environments,
        r#"{"qa/staging": {"variables": {"who": "ada"}, "secrets": {"TOKEN": "hunter2-secret"}}}"#,
    )
    .unwrap();
    let mut run = run_message(
        "full-1",
        "orders",
        spec(&format!(
            "name: orders\nsteps:\n  - id: call\n    action: http_request\n    config:\n      method: POST\n      url: \"{}\"\n      headers: {{Authorization: \"Bearer ${{TOKEN}}\"}}\n      body: {{who: \"${{who}}\"}}\n    assert: [status == 200, body.json.who == \"ada\"]\n",
            server.url("/echo")
        )),
    );
    run.environment = Some(EnvironmentRef {
        namespace: "qa".into(),
        name: "staging".into(),
    });
    world.store.insert_queued_run(&run).await.unwrap();
    world.queue.enqueue_run(&run).await.unwrap();
    let env_arg = environments.to_str().unwrap();
    let executor = world.executor("exec-full", &["--environments-file", env_arg]);

    world
        .wait_status("full-1", &["passed", "failed", "error"], &executor)
        .await;
    let (status, executor_id, attempt, passed): (String, String, i32, i32) = sqlx::query_as(
        "SELECT status, executor_id, attempt, passed_steps FROM executions.runs WHERE run_id = 'full-1'",
    )
    .fetch_one(world.pool())
    .await
    .unwrap();
    assert_eq!(
        (status.as_str(), executor_id.as_str(), attempt, passed),
        ("passed", "exec-full", 1, 1),
        "log:\n{}",
        executor.log_text()
    );
    let (request, response): (serde_json::Value, serde_json::Value) =
        sqlx::query_as("SELECT request, response FROM executions.steps WHERE run_id = 'full-1'")
            .fetch_one(world.pool())
            .await
            .unwrap();
    let stored = format!("{request}{response}");
    assert!(stored.contains("ada"), "{stored}");
    assert!(
        !stored.contains("hunter2-secret"),
        "a secret reached the store: {stored}"
    );
    let metrics: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM metrics.run_metrics WHERE flow_name = 'orders' AND status = 'passed'",
    )
    .fetch_one(world.pool())
    .await
    .unwrap();
    assert_eq!(metrics, 1);

    let results = eventually("the result message", WAIT, || async {
        let results = world.results().await;
        (!results.is_empty()).then_some(results)
    })
    .await;
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].run_id, "full-1");
    assert_eq!(results[0].status.as_str(), "passed");
    assert_eq!(results[0].executor_id, "exec-full");

    let events_key = world.queue.streams().events("full-1");
    let kinds = eventually("the finished event", WAIT, || async {
        let kinds: Vec<String> = world
            .stream(&events_key)
            .await
            .ids
            .iter()
            .map(|entry| entry.get::<String>("event").unwrap())
            .collect();
        kinds.contains(&"finished".to_string()).then_some(kinds)
    })
    .await;
    assert_eq!(kinds, vec!["started", "step", "finished"]);
    let entries = world.stream(&events_key).await;
    let finished: String = entries.ids[2].get("data").unwrap();
    let finished: serde_json::Value = serde_json::from_str(&finished).unwrap();
    assert_eq!(
        finished["runId"], "full-1",
        "the JSON is in the `data` field"
    );
    assert_eq!(finished["status"], "passed");
    assert_eq!(world.pending().await, 0, "the run was acknowledged");

    let metrics_text = reqwest::get(&executor.metrics_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics_text.contains(
            r#"testmesh_runs_total{flow="orders",namespace="qa",result="passed",trigger="manual"} 1"#
        ),
        "{metrics_text}"
    );
    assert!(metrics_text.contains("testmesh_queue_to_start_seconds_count 1"));
}

#[tokio::test]
async fn a_run_held_by_a_killed_executor_is_run_again_by_another_and_recorded_once() {
    let Some(world) = world("crash").await else {
        return;
    };
    let server = common::http_server::start().await;
    let run = http_run("crash-1", &server.url("/slow?ms=1500"));
    world.queue.enqueue_run(&run).await.unwrap();
    let mut first = world.executor("exec-a", &[]);
    eventually("the slow request to arrive", WAIT, || async {
        (server.slow_requests() >= 1).then_some(())
    })
    .await;
    assert_eq!(world.status("crash-1").await.as_deref(), Some("running"));
    first.kill();

    let second = world.executor("exec-b", &[]);
    world.wait_status("crash-1", &["passed"], &second).await;
    let rows: Vec<(String, i32)> =
        sqlx::query_as("SELECT executor_id, attempt FROM executions.runs WHERE run_id = 'crash-1'")
            .fetch_all(world.pool())
            .await
            .unwrap();
    assert_eq!(rows, vec![("exec-b".to_string(), 2)]);
    let results = eventually("the result message", WAIT, || async {
        let results = world.results().await;
        (!results.is_empty()).then_some(results)
    })
    .await;
    assert_eq!(results.len(), 1, "one result for one run");
    assert_eq!(results[0].executor_id, "exec-b");
    eventually("the claimed run to be acknowledged", WAIT, || async {
        (world.pending().await == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn sigterm_lets_the_running_flow_finish_and_record() {
    let Some(world) = world("sigterm").await else {
        return;
    };
    let server = common::http_server::start().await;
    let run = http_run("term-1", &server.url("/slow?ms=1000"));
    world.queue.enqueue_run(&run).await.unwrap();
    let mut executor = world.executor("exec-term", &["--shutdown-grace", "20s"]);
    eventually("the slow request to arrive", WAIT, || async {
        (server.slow_requests() >= 1).then_some(())
    })
    .await;
    let status = executor.terminate(WAIT).await;
    assert!(
        status.success(),
        "exit status {status}; log:\n{}",
        executor.log_text()
    );
    assert_eq!(world.status("term-1").await.as_deref(), Some("passed"));
    assert_eq!(world.pending().await, 0);
    assert_eq!(world.results().await.len(), 1);
}

#[tokio::test]
async fn a_data_source_runs_each_row_as_a_case_of_one_execution() {
    let Some(world) = world("cases").await else {
        return;
    };
    let run = run_message(
        "cases-1",
        "greet",
        spec(
            "name: greet\ndata_source:\n  - {who: ada}\n  - {who: bob}\nsteps:\n  - id: check\n    action: assert\n    config: {data: \"hello ${who}\"}\n    assert: ['data == \"hello ada\"']\n    output: {said: data}\n",
        ),
    );
    world.queue.enqueue_run(&run).await.unwrap();
    let executor = world.executor("exec-cases", &[]);
    world
        .wait_status("cases-1", &["passed", "failed", "error"], &executor)
        .await;
    let (status, passed, failed): (String, i32, i32) = sqlx::query_as(
        "SELECT status, passed_steps, failed_steps FROM executions.runs WHERE run_id = 'cases-1'",
    )
    .fetch_one(world.pool())
    .await
    .unwrap();
    assert_eq!(
        (status.as_str(), passed, failed),
        ("failed", 1, 1),
        "log:\n{}",
        executor.log_text()
    );
    let steps: Vec<(String, String, Option<serde_json::Value>)> = sqlx::query_as(
        "SELECT step_id, status, captured FROM executions.steps WHERE run_id = 'cases-1' \
         ORDER BY step_index",
    )
    .fetch_all(world.pool())
    .await
    .unwrap();
    assert_eq!(
        steps,
        vec![
            (
                "row1.check".to_string(),
                "passed".to_string(),
                Some(serde_json::json!({"said": "hello ada"}))
            ),
            ("row2.check".to_string(), "failed".to_string(), None),
        ]
    );
    let results = world.results().await;
    assert_eq!(results.len(), 1);
}

#[tokio::test]
async fn a_run_delivered_twice_is_recorded_once() {
    let Some(world) = world("dupes").await else {
        return;
    };
    let server = common::http_server::start().await;
    let run = http_run("dup-1", &server.url("/status/200"));
    world.queue.enqueue_run(&run).await.unwrap();
    world.queue.enqueue_run(&run).await.unwrap();
    let executor = world.executor("exec-dup", &[]);
    world.wait_status("dup-1", &["passed"], &executor).await;
    world.queue.enqueue_run(&run).await.unwrap();
    eventually("every copy to be acknowledged", WAIT, || async {
        let entries = world.stream(&world.queue.streams().runs).await.ids.len();
        let backlog = world.queue.backlog().await.unwrap();
        (entries == 3 && backlog == Some(0)).then_some(())
    })
    .await;
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM executions.runs")
        .fetch_one(world.pool())
        .await
        .unwrap();
    assert_eq!(rows, 1);
    let steps: i64 = sqlx::query_scalar("SELECT count(*) FROM executions.steps")
        .fetch_one(world.pool())
        .await
        .unwrap();
    assert_eq!(steps, 1);
    assert_eq!(world.results().await.len(), 1);
}

#[tokio::test]
async fn a_run_past_its_start_deadline_is_refused_as_an_error_and_never_runs() {
    let Some(world) = world("deadline").await else {
        return;
    };
    let server = common::http_server::start().await;
    let mut late = http_run("late-1", &server.url("/slow?ms=10"));
    late.start_deadline = Some(chrono::Utc::now() - chrono::Duration::seconds(1));
    let mut on_time = http_run("on-time-1", &server.url("/status/200"));
    on_time.start_deadline = Some(chrono::Utc::now() + chrono::Duration::minutes(10));
    world.queue.enqueue_run(&late).await.unwrap();
    world.queue.enqueue_run(&on_time).await.unwrap();
    let executor = world.executor("exec-deadline", &[]);
    world.wait_status("on-time-1", &["passed"], &executor).await;
    world.wait_status("late-1", &["error"], &executor).await;
    let error: Option<String> =
        sqlx::query_scalar("SELECT error FROM executions.runs WHERE run_id = 'late-1'")
            .fetch_one(world.pool())
            .await
            .unwrap();
    let error = error.unwrap_or_default();
    assert!(
        error.contains("missed: not started before its deadline"),
        "{error}"
    );
    assert_eq!(server.slow_requests(), 0, "the late run's step never ran");
}

#[tokio::test]
async fn poison_messages_go_to_the_dead_letter_stream_and_are_recorded_when_they_name_a_run() {
    let Some(world) = world("poison").await else {
        return;
    };
    world.queue.enqueue_raw("this is not json").await.unwrap();
    let mut bad = run_message(
        "poison-1",
        "orders",
        spec("name: orders\nsteps:\n  - id: ok\n    action: log\n    config: {message: hi}\n"),
    );
    bad.spec.steps[0].action = "teleport".into();
    world.queue.enqueue_run(&bad).await.unwrap();
    let executor = world.executor("exec-poison", &[]);
    world.wait_status("poison-1", &["error"], &executor).await;
    let error: String =
        sqlx::query_scalar("SELECT error FROM executions.runs WHERE run_id = 'poison-1'")
            .fetch_one(world.pool())
            .await
            .unwrap();
    assert!(error.contains("teleport"), "{error}");
    let dead_key = world.queue.streams().dead_letter.clone();
    let dead = eventually("two dead letters", WAIT, || async {
        let dead = world.stream(&dead_key).await;
        (dead.ids.len() == 2).then_some(dead)
    })
    .await;
    let reasons: Vec<String> = dead.ids.iter().map(|e| e.get("reason").unwrap()).collect();
    assert!(reasons[0].starts_with("not a run message"), "{reasons:?}");
    assert!(reasons[1].contains("teleport"), "{reasons:?}");
    assert_eq!(
        world.pending().await,
        0,
        "poison is acknowledged, not retried"
    );
    // The operator hears of the run that could not start, so it is no longer active.
    let results = eventually("an error result for the poison run", WAIT, || async {
        let results = world.results().await;
        (!results.is_empty()).then_some(results)
    })
    .await;
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(results[0].run_id, "poison-1");
    assert_eq!(results[0].status.as_str(), "error");
    assert!(
        results[0]
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("teleport")
    );
}

/// Enqueues `count` slow runs named `{prefix}-{n}`; answers their ids.
async fn enqueue_slow(world: &World, prefix: &str, url: &str, count: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for n in 0..count {
        let run = http_run(&format!("{prefix}-{n}"), url);
        eventually("the run to be enqueued", WAIT, || async {
            world.queue.enqueue_run(&run).await.ok()
        })
        .await;
        ids.push(run.run_id);
    }
    ids
}

/// Every run passed, once, with one result message each.
async fn assert_recorded_once(world: &World, ids: &[String], executor: &ExecutorProcess) {
    for id in ids {
        world.wait_status(id, &["passed"], executor).await;
    }
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM executions.runs")
        .fetch_one(world.pool())
        .await
        .unwrap();
    assert_eq!(rows as usize, ids.len());
    let results = eventually("a result for every run", WAIT, || async {
        let results = world.results().await;
        (results.len() >= ids.len()).then_some(results)
    })
    .await;
    let mut distinct: Vec<String> = results.iter().map(|r| r.run_id.clone()).collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), ids.len(), "{results:?}");
}

#[tokio::test]
async fn runs_in_flight_survive_a_redis_restart_and_new_runs_flow_after_it() {
    let Some(database_url) = fresh_database("redis_restart").await else {
        return;
    };
    let Some(mut redis) = common::own_services::OwnRedis::start() else {
        return;
    };
    let world = world_on("redisrestart", database_url, redis.url())
        .await
        .unwrap();
    let server = common::http_server::start().await;
    let slow = server.url("/slow?ms=300");
    let mut ids = enqueue_slow(&world, "before", &slow, 12).await;
    let executor = world.executor("exec-redis", &["--concurrency", "4"]);
    eventually("the first slow request", WAIT, || async {
        (server.slow_requests() >= 1).then_some(())
    })
    .await;
    redis.restart(Duration::from_millis(1500)).await;
    ids.extend(enqueue_slow(&world, "after", &slow, 3).await);
    assert_recorded_once(&world, &ids, &executor).await;
}

#[tokio::test]
async fn runs_in_flight_survive_a_postgres_restart_and_new_runs_flow_after_it() {
    let Some(redis_url) = redis_url() else {
        return;
    };
    if std::env::var("TESTMESH_TEST_DATABASE_URL").is_err() {
        println!("skipped: TESTMESH_TEST_DATABASE_URL is not set (run scripts/test.sh)");
        return;
    }
    let Some(postgres) = common::own_services::OwnPostgres::start() else {
        return;
    };
    let world = world_on("pgrestart", postgres.url(), redis_url)
        .await
        .unwrap();
    let server = common::http_server::start().await;
    let slow = server.url("/slow?ms=300");
    let mut ids = enqueue_slow(&world, "before", &slow, 12).await;
    let executor = world.executor("exec-pg", &["--concurrency", "4"]);
    eventually("the first slow request", WAIT, || async {
        (server.slow_requests() >= 1).then_some(())
    })
    .await;
    postgres.restart(Duration::from_millis(1500)).await;
    ids.extend(enqueue_slow(&world, "after", &slow, 3).await);
    assert_recorded_once(&world, &ids, &executor).await;
}
