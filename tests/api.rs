//! `testmesh api` over a seeded PostgreSQL (and Redis for live events), as a client sees it:
//! the shape of every endpoint, filters, cursor pages without duplicates, 400s that name the
//! parameter, 404s, auth (a static token, and Kubernetes sign-in against a fake API server:
//! callers with different namespaces see disjoint data everywhere, live events included),
//! namespace scope, CORS, the OpenAPI document, SSE and the dashboard files. Each test has its
//! own database and Redis key prefix.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, DurationRound, Utc};
use indexmap::IndexMap;
use serde_json::{Value, json};
use testmesh::api::{
    AUDIT_TARGET, ApiError, AppState, AuthMode, Authentication, CatalogFlow, DraftRuns,
    Environment, FlowCatalog, FlowCondition, KubernetesAccess, LiveSource, RouterOptions, Schedule,
    Scope, SignInLimit, StoreCatalog, router,
};
use testmesh::engine::result::{AssertionOutcome, AttemptResult, Phase, StepResult};
use testmesh::engine::{FlowResult, FlowStatus, StepStatus};
use testmesh::flow::actions::ActionKind;
use testmesh::flow::editor_schema::config_schema;
use testmesh::operator::lost_runs::LOST_FROM_QUEUE;
use testmesh::store::{FinishedRun, Store, StoreOptions};
use testmesh::telemetry::{Health, ops_router};

use common::fake_kube::{FakeKube, FakeUser};
use common::services::{fresh_database, redis_url, run_message, spec, unique_prefix};

struct TestApi {
    base: String,
    client: reqwest::Client,
    store: Store,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestApi {
    async fn get(&self, path: &str) -> (u16, Value) {
        self.get_as(None, path).await
    }

    /// GET with `token` as the bearer token, when given.
    async fn get_as(&self, token: Option<&str>, path: &str) -> (u16, Value) {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// POSTs `body` as YAML.
    async fn post_yaml(&self, path: &str, body: &str) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/yaml")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }
}

#[derive(Default)]
struct Setup {
    options: RouterOptions,
    scope: Vec<String>,
    live: Option<LiveSource>,
    /// Sign in with Kubernetes, against a fake API server that knows these users.
    kube_users: Option<Vec<FakeUser>>,
    /// The catalog of definitions; the store's when None.
    catalog: Option<Arc<dyn FlowCatalog>>,
    drafts: Option<DraftRuns>,
}

async fn start(test: &str, setup: Setup) -> Option<TestApi> {
    let url = fresh_database(test).await?;
    let store = Store::connect(&url, StoreOptions::default()).await.unwrap();
    store.migrate().await.unwrap();
    let store_catalog = Arc::new(StoreCatalog {
        store: store.clone(),
    });
    let catalog = setup.catalog.unwrap_or(store_catalog.clone());
    let scope = Scope::new(&setup.scope);
    let mut options = setup.options;
    if let Some(users) = setup.kube_users {
        let access = KubernetesAccess::new(
            FakeKube::default().serve(users),
            store_catalog,
            scope.clone(),
            StdDuration::from_secs(600),
        );
        options.auth = Authentication::new(
            AuthMode::Kubernetes(Arc::new(access)),
            SignInLimit::new(std::num::NonZeroU32::new(100).unwrap()),
        );
    }
    let state = AppState {
        catalog,
        store: store.clone(),
        live: setup.live,
        scope,
        drafts: setup.drafts.map(|drafts| DraftRuns {
            access: match options.auth.mode() {
                AuthMode::Kubernetes(access) => Some(access.clone()),
                _ => None,
            },
            ..drafts
        }),
    };
    let health = Health::default();
    health.set_ready(true);
    let app = router(
        state,
        &options,
        ops_router(prometheus::Registry::new(), health),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap();
    });
    Some(TestApi {
        base,
        client: reqwest::Client::new(),
        store,
        server,
    })
}

/// A run written with SQL, and its metrics row (and trend rollups) when it finished.
#[allow(clippy::too_many_arguments)]
async fn seed_run(
    store: &Store,
    run_id: &str,
    namespace: &str,
    flow: &str,
    status: &str,
    trigger: &str,
    environment: Option<&str>,
    queued_at: DateTime<Utc>,
    duration_ms: i64,
) {
    let finished = !matches!(status, "queued" | "running");
    let spec = json!({"name": format!("{flow} display"), "tags": [format!("tag-{namespace}")], "steps": [{"id": "a", "action": "log"}]});
    let detail = json!({"kind": trigger, "schedule": {"namespace": namespace, "name": format!("{flow}-nightly"), "uid": "u1"}});
    sqlx::query(
        "INSERT INTO executions.runs (run_id, namespace, flow_name, generation, spec, environment, \
         trigger, trigger_detail, status, queued_at, started_at, finished_at, duration_ms, \
         passed_steps, failed_steps) VALUES ($1, $2, $3, 2, $4, $5, $6, $7, $8, $9, \
         $9 + interval '1 second', CASE WHEN $10 THEN $9 + interval '2 seconds' END, \
         CASE WHEN $10 THEN $11 END, 1, CASE WHEN $8 = 'failed' THEN 1 ELSE 0 END)",
    )
    .bind(run_id)
    .bind(namespace)
    .bind(flow)
    .bind(&spec)
    .bind(environment)
    .bind(trigger)
    .bind(&detail)
    .bind(status)
    .bind(queued_at)
    .bind(finished)
    .bind(duration_ms)
    .execute(store.pool())
    .await
    .unwrap();
    if finished {
        sqlx::query(
            "SELECT metrics.record_runs(ARRAY[$1 + interval '1 second'], ARRAY[$2], ARRAY[$3], \
             ARRAY[$4::text], ARRAY[$5], ARRAY[$6::int8])",
        )
        .bind(queued_at)
        .bind(namespace)
        .bind(flow)
        .bind(environment)
        .bind(status)
        .bind(duration_ms)
        .execute(store.pool())
        .await
        .unwrap();
    }
}

/// 60 runs in `qa` (orders: alternating pass/fail; users: always passing) and 20 in `ops`,
/// three runs per queue time so pages must break ties by run id.
async fn seed_many(store: &Store) -> DateTime<Utc> {
    let now = Utc::now().duration_trunc(Duration::hours(1)).unwrap();
    for i in 0..80 {
        let queued = now - Duration::minutes(10 * (i / 3) as i64 + 5);
        let (ns, flow, status) = match i % 4 {
            0 => ("qa", "orders", "passed"),
            1 => ("qa", "orders", "failed"),
            2 => ("qa", "users", "passed"),
            _ => ("ops", "backup", if i % 8 == 3 { "error" } else { "passed" }),
        };
        let trigger = if i % 2 == 0 { "schedule" } else { "manual" };
        seed_run(
            store,
            &format!("run-{i:03}"),
            ns,
            flow,
            status,
            trigger,
            Some("staging"),
            queued,
            100 + i as i64,
        )
        .await;
    }
    now
}

#[tokio::test]
async fn executions_filter_and_page_without_duplicates() {
    let Some(api) = start("exec_list", Setup::default()).await else {
        return;
    };
    seed_many(&api.store).await;
    let page = api.ok("/api/v1/executions?limit=5").await;
    let first = &page["items"][0];
    for key in [
        "runId",
        "namespace",
        "flowName",
        "generation",
        "environment",
        "trigger",
        "status",
        "queuedAt",
        "startedAt",
        "finishedAt",
        "durationMs",
        "passedSteps",
        "failedSteps",
        "error",
    ] {
        assert!(first.get(key).is_some(), "Execution has {key}: {first}");
    }
    assert!(page["nextCursor"].is_string());

    for sort in ["desc", "asc"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..50 {
            let mut path = format!("/api/v1/executions?limit=7&sort={sort}&namespace=qa");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={}", urlencode(c)));
            }
            let page = api.ok(&path).await;
            for item in page["items"].as_array().unwrap() {
                seen.push((
                    item["queuedAt"].as_str().unwrap().to_string(),
                    item["runId"].as_str().unwrap().to_string(),
                ));
            }
            match page["nextCursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
        }
        assert_eq!(seen.len(), 60, "every qa run once ({sort})");
        assert_eq!(
            seen.iter().collect::<HashSet<_>>().len(),
            60,
            "no duplicates ({sort})"
        );
        let mut sorted = seen.clone();
        sorted.sort();
        if sort == "desc" {
            sorted.reverse();
        }
        let times: Vec<_> = seen.iter().map(|(t, _)| t.clone()).collect();
        let sorted_times: Vec<_> = sorted.iter().map(|(t, _)| t.clone()).collect();
        assert_eq!(times, sorted_times, "ordered by queue time ({sort})");
    }

    let failed = api.ok("/api/v1/executions?status=failed&limit=200").await;
    let items = failed["items"].as_array().unwrap();
    assert_eq!(items.len(), 20);
    assert!(
        items
            .iter()
            .all(|r| r["status"] == "failed" && r["flowName"] == "orders")
    );
    let two = api
        .ok("/api/v1/executions?status=failed,error&limit=200")
        .await;
    assert_eq!(two["items"].as_array().unwrap().len(), 30);
    let manual_backup = api
        .ok("/api/v1/executions?flow=backup&trigger=manual&environment=staging&limit=200")
        .await;
    assert!(
        manual_backup["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["trigger"] == "manual" && r["flowName"] == "backup")
    );
    assert_eq!(manual_backup["items"].as_array().unwrap().len(), 20);
    let none = api.ok("/api/v1/executions?environment=prod").await;
    assert_eq!(none["items"], json!([]));
    assert_eq!(none["nextCursor"], Value::Null);

    let newest = api.ok("/api/v1/executions?limit=1").await["items"][0]["queuedAt"]
        .as_str()
        .unwrap()
        .to_string();
    let newest: DateTime<Utc> = newest.parse().unwrap();
    let from = (newest - Duration::minutes(15)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let recent = api
        .ok(&format!("/api/v1/executions?from={}", urlencode(&from)))
        .await;
    assert_eq!(
        recent["items"].as_array().unwrap().len(),
        6,
        "two queue times of three runs"
    );
    let to = api
        .ok(&format!(
            "/api/v1/executions?to={}&limit=200",
            urlencode(&from)
        ))
        .await;
    assert_eq!(to["items"].as_array().unwrap().len(), 74);
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn bad_parameters_answer_400_naming_them_and_unknown_ids_404() {
    let Some(api) = start("bad_params", Setup::default()).await else {
        return;
    };
    for (path, name) in [
        ("/api/v1/executions?limit=0", "limit"),
        ("/api/v1/executions?limit=201", "limit"),
        ("/api/v1/executions?limit=ten", "limit"),
        ("/api/v1/executions?sort=sideways", "sort"),
        ("/api/v1/executions?status=failed,bogus", "status"),
        ("/api/v1/executions?trigger=cron", "trigger"),
        ("/api/v1/executions?from=yesterday", "from"),
        ("/api/v1/executions?to=2026-13-01", "to"),
        ("/api/v1/executions?cursor=abc", "cursor"),
        (
            "/api/v1/executions?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
            "from",
        ),
        ("/api/v1/trends?bucket=week", "bucket"),
        (
            "/api/v1/trends?bucket=hour&from=2020-01-01T00:00:00Z",
            "from",
        ),
        ("/api/v1/flaky?window=5m", "window"),
        ("/api/v1/flaky?window=soon", "window"),
    ] {
        let (status, body) = api.get(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"]["code"], "bad_parameter", "{path}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("{name}:")),
            "{path} names {name}: {message}"
        );
    }
    for path in [
        "/api/v1/executions/no-such-run",
        "/api/v1/executions/no-such-run/events",
        "/api/v1/flows/qa/nothing",
        "/api/v1/no-such-route",
    ] {
        let (status, body) = api.get(path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["error"]["code"], "not_found");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not found")
        );
    }
}

fn flow_result(run_id: &str, status: FlowStatus) -> FlowResult {
    let now = Utc::now();
    let failed = status == FlowStatus::Failed;
    FlowResult {
        execution_id: run_id.into(),
        flow_name: "checkout".into(),
        source: None,
        status,
        started_at: now,
        finished_at: now + Duration::milliseconds(40),
        duration_ms: 40,
        steps: vec![
            StepResult {
                id: "create".into(),
                name: Some("Create cart".into()),
                action: "http_request".into(),
                phase: Phase::Main,
                status: StepStatus::Passed,
                started_at: now,
                duration_ms: 10,
                attempts: vec![AttemptResult {
                    attempt: 1,
                    status: StepStatus::Passed,
                    started_at: now,
                    duration_ms: 10,
                    assertions: vec![],
                    error: None,
                    request: Some(json!({"method": "POST"}).into()),
                    response: Some(json!({"status": 201, "body": {"id": "c1"}}).into()),
                }],
                captured: IndexMap::from([("cart_id".to_string(), json!("c1"))]),
                reason: None,
            },
            StepResult {
                id: "pay".into(),
                name: None,
                action: "http_request".into(),
                phase: Phase::Main,
                status: if failed {
                    StepStatus::Failed
                } else {
                    StepStatus::Passed
                },
                started_at: now,
                duration_ms: 20,
                attempts: vec![AttemptResult {
                    attempt: 1,
                    status: if failed {
                        StepStatus::Failed
                    } else {
                        StepStatus::Passed
                    },
                    started_at: now,
                    duration_ms: 20,
                    assertions: vec![AssertionOutcome {
                        expression: "status == 201".into(),
                        passed: !failed,
                        message: None,
                        actual: IndexMap::from([(
                            "status".to_string(),
                            json!(if failed { 500 } else { 201 }),
                        )]),
                        error: None,
                    }],
                    error: None,
                    request: None,
                    response: Some(json!({"status": 500}).into()),
                }],
                captured: IndexMap::new(),
                reason: None,
            },
        ],
        captured: IndexMap::new(),
        error: None,
    }
}

/// Records a run through the store's own lifecycle writes.
async fn record(store: &Store, run_id: &str, status: FlowStatus) {
    let flow = spec(
        "name: Checkout happy path\ntags: [smoke]\nsteps:\n  - id: create\n    action: log\n  - id: pay\n    action: log\n",
    );
    let message = run_message(run_id, "checkout", flow);
    store.insert_queued_run(&message).await.unwrap();
    let started = store
        .start_runs(&[&message], "exec-1", Utc::now())
        .await
        .unwrap();
    store
        .finish_runs(&[FinishedRun {
            run_id: run_id.into(),
            attempt: started[0].attempt,
            result: flow_result(run_id, status),
        }])
        .await
        .unwrap();
}

#[tokio::test]
async fn an_execution_shows_its_steps_assertions_and_payloads() {
    let Some(api) = start("exec_detail", Setup::default()).await else {
        return;
    };
    record(&api.store, "checkout-1", FlowStatus::Failed).await;
    let run = api.ok("/api/v1/executions/checkout-1").await;
    assert_eq!(run["status"], "failed");
    assert_eq!(run["flowName"], "checkout");
    assert_eq!(run["failedSteps"], 1);
    let steps = run["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    for key in [
        "stepIndex",
        "stepId",
        "name",
        "action",
        "phase",
        "status",
        "attempt",
        "startedAt",
        "durationMs",
        "assertions",
        "captured",
        "request",
        "response",
        "error",
    ] {
        assert!(steps[0].get(key).is_some(), "step has {key}");
    }
    assert_eq!(steps[0]["captured"]["cart_id"], "c1");
    assert_eq!(steps[0]["assertions"], json!([]));
    assert_eq!(steps[1]["stepIndex"], 1);
    assert_eq!(steps[1]["captured"], json!({}));
    let assertion = &steps[1]["assertions"][0];
    assert_eq!(assertion["expression"], "status == 201");
    assert_eq!(assertion["passed"], false);
    assert_eq!(assertion["actual"]["status"], 500);
    assert_eq!(steps[1]["response"]["status"], 500);
}

#[tokio::test]
async fn a_run_the_queue_lost_reads_as_an_error_with_its_message() {
    let Some(api) = start("exec_lost", Setup::default()).await else {
        return;
    };
    let run = run_message(
        "lost-1",
        "checkout",
        spec("name: checkout\nsteps:\n  - id: a\n    action: log\n"),
    );
    api.store.insert_queued_run(&run).await.unwrap();
    let seen = api
        .store
        .run_records(&["lost-1".to_string()])
        .await
        .unwrap()
        .remove(0);
    let ended = api
        .store
        .end_lost_run(&seen, Utc::now(), LOST_FROM_QUEUE)
        .await
        .unwrap();
    assert!(ended);
    let detail = api.ok("/api/v1/executions/lost-1").await;
    assert_eq!(detail["status"], "error");
    assert_eq!(detail["error"], LOST_FROM_QUEUE);
    assert!(detail["finishedAt"].is_string(), "{detail}");
    let list = api.ok("/api/v1/executions?status=error").await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["runId"], "lost-1");
    assert_eq!(items[0]["error"], LOST_FROM_QUEUE);
}

#[tokio::test]
async fn flows_carry_their_last_run_pass_rate_history_and_trend() {
    let Some(api) = start("flows", Setup::default()).await else {
        return;
    };
    seed_many(&api.store).await;
    record(&api.store, "checkout-1", FlowStatus::Passed).await;
    record(&api.store, "checkout-2", FlowStatus::Failed).await;
    let list = api.ok("/api/v1/flows").await;
    let names: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}/{}",
                f["namespace"].as_str().unwrap(),
                f["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        names,
        ["ops/backup", "qa/checkout", "qa/orders", "qa/users"]
    );
    let orders = &list["items"][2];
    assert_eq!(orders["displayName"], "orders display");
    assert_eq!(orders["tags"], json!(["tag-qa"]));
    assert_eq!(orders["runs"], 40);
    assert_eq!(orders["passRate"], 0.5);
    assert!(orders["lastRun"]["runId"].is_string() && orders["lastRun"]["status"].is_string());
    assert_eq!(
        api.ok("/api/v1/flows?namespace=ops").await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        api.ok("/api/v1/flows?tag=smoke").await["items"][0]["name"],
        "checkout"
    );
    assert_eq!(
        api.ok("/api/v1/flows?q=HAPPY").await["items"][0]["displayName"],
        "Checkout happy path"
    );

    let detail = api.ok("/api/v1/flows/qa/checkout").await;
    assert_eq!(detail["runs"], 2);
    assert_eq!(detail["passRate"], 0.5);
    assert_eq!(detail["lastRun"]["runId"], "checkout-2");
    assert_eq!(detail["spec"]["steps"][1]["id"], "pay");
    assert_eq!(detail["history"].as_array().unwrap().len(), 2);
    assert_eq!(detail["history"][0]["runId"], "checkout-2");
    let trend = detail["trend"].as_array().unwrap();
    assert_eq!(trend.len(), 1);
    assert_eq!(trend[0]["runs"], 2);
    assert_eq!(trend[0]["passRate"], 0.5);
    assert_within_histogram(trend[0]["p50Ms"].as_f64().unwrap(), 40.0);
}

/// Trend percentiles come from histogram bins with 2 % relative accuracy.
fn assert_within_histogram(actual: f64, exact: f64) {
    assert!(
        (actual - exact).abs() <= 0.02 * exact + 1e-9,
        "{actual} is not within 2 % of {exact}"
    );
}

#[tokio::test]
async fn trends_give_pass_rate_and_percentiles_per_bucket() {
    let Some(api) = start("trends", Setup::default()).await else {
        return;
    };
    let hour = Utc::now().duration_trunc(Duration::hours(1)).unwrap() - Duration::hours(3);
    for (i, duration) in [100, 200, 300, 400, 1000].iter().enumerate() {
        let status = if i < 4 { "passed" } else { "failed" };
        seed_run(
            &api.store,
            &format!("t{i}"),
            "qa",
            "orders",
            status,
            "manual",
            None,
            hour + Duration::minutes(i as i64),
            *duration,
        )
        .await;
    }
    seed_run(
        &api.store,
        "t9",
        "qa",
        "orders",
        "passed",
        "manual",
        None,
        hour + Duration::hours(1),
        50,
    )
    .await;
    let from = urlencode(&(hour - Duration::hours(1)).to_rfc3339());
    for path in [
        format!("/api/v1/trends?namespace=qa&flow=orders&bucket=hour&from={from}"),
        format!("/api/v1/trends?namespace=qa&bucket=hour&from={from}"),
    ] {
        let buckets = api.ok(&path).await["buckets"].as_array().unwrap().clone();
        assert_eq!(buckets.len(), 2, "{path}");
        let first = &buckets[0];
        assert_eq!(
            first["start"]
                .as_str()
                .unwrap()
                .parse::<DateTime<Utc>>()
                .unwrap(),
            hour
        );
        assert_eq!(first["runs"], 5);
        assert_eq!(first["passRate"], 0.8);
        assert_within_histogram(first["p50Ms"].as_f64().unwrap(), 300.0);
        // Between the ranks of 400 and 1000 ms, as percentile_cont interpolates.
        assert_within_histogram(first["p95Ms"].as_f64().unwrap(), 880.0);
        assert_eq!(buckets[1]["runs"], 1);
    }
    let days = api.ok("/api/v1/trends?bucket=day&flow=orders").await;
    let total: i64 = days["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["runs"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 6);
}

#[tokio::test]
async fn trends_of_every_shape_agree_with_exact_percentiles_over_the_runs() {
    let Some(api) = start("trends_exact", Setup::default()).await else {
        return;
    };
    let start_hour = Utc::now().duration_trunc(Duration::hours(1)).unwrap() - Duration::hours(36);
    for i in 0..150_i64 {
        let namespace = ["qa", "ops"][(i % 2) as usize];
        let flow = ["orders", "users", "backup"][(i % 3) as usize];
        let status = if i % 7 == 0 { "failed" } else { "passed" };
        let duration = match i % 10 {
            0 => 0,
            1 => 1,
            _ => (i * 7919) % 5000,
        };
        seed_run(
            &api.store,
            &format!("x{i}"),
            namespace,
            flow,
            status,
            "manual",
            None,
            start_hour + Duration::minutes(13 * i),
            duration,
        )
        .await;
    }
    let from = start_hour - Duration::hours(1);
    for (filters, unit) in [
        ("namespace=qa&flow=orders", "hour"),
        ("namespace=qa&flow=orders", "day"),
        ("flow=users", "day"),
        ("namespace=ops", "hour"),
        ("", "hour"),
        ("", "day"),
    ] {
        let path = format!(
            "/api/v1/trends?{filters}&bucket={unit}&from={}",
            urlencode(&from.to_rfc3339())
        );
        let buckets = api.ok(&path).await["buckets"].as_array().unwrap().clone();
        let namespace = filters
            .split('&')
            .find_map(|f| f.strip_prefix("namespace="));
        let flow = filters.split('&').find_map(|f| f.strip_prefix("flow="));
        let exact: Vec<(DateTime<Utc>, i64, f64, f64, f64)> = sqlx::query_as(
            "SELECT date_trunc($1, time, 'UTC'), count(*), \
             avg(CASE WHEN status = 'passed' THEN 1.0 ELSE 0.0 END)::float8, \
             percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms), \
             percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) \
             FROM metrics.run_metrics WHERE ($2::text IS NULL OR namespace = $2) \
             AND ($3::text IS NULL OR flow_name = $3) GROUP BY 1 ORDER BY 1",
        )
        .bind(unit)
        .bind(namespace)
        .bind(flow)
        .fetch_all(api.store.pool())
        .await
        .unwrap();
        assert!(exact.len() >= 2, "{path}: several buckets");
        assert_eq!(buckets.len(), exact.len(), "{path}");
        for (bucket, (start, runs, pass_rate, p50, p95)) in buckets.iter().zip(exact) {
            let got_start: DateTime<Utc> = bucket["start"].as_str().unwrap().parse().unwrap();
            assert_eq!(got_start, start, "{path}");
            assert_eq!(bucket["runs"], runs, "{path} at {start}");
            let got_rate = bucket["passRate"].as_f64().unwrap();
            assert!((got_rate - pass_rate).abs() < 1e-9, "{path} at {start}");
            assert_within_histogram(bucket["p50Ms"].as_f64().unwrap(), p50);
            assert_within_histogram(bucket["p95Ms"].as_f64().unwrap(), p95);
        }
    }
}

#[tokio::test]
async fn flaky_flows_flip_and_steady_ones_do_not() {
    let Some(api) = start("flaky", Setup::default()).await else {
        return;
    };
    let now = seed_many(&api.store).await;
    for i in 0..10 {
        let status = if i == 4 { "failed" } else { "passed" };
        seed_run(
            &api.store,
            &format!("blip-{i}"),
            "qa",
            "blip",
            status,
            "manual",
            None,
            now - Duration::hours(2) + Duration::minutes(i),
            10,
        )
        .await;
    }
    let report = api.ok("/api/v1/flaky?window=7d").await;
    assert_eq!(report["threshold"], 0.1);
    let items = report["items"].as_array().unwrap();
    let names: Vec<&str> = items
        .iter()
        .map(|f| f["flowName"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"orders"), "{names:?}");
    assert!(
        !names.contains(&"users") && !names.contains(&"blip"),
        "{names:?}"
    );
    let orders = items.iter().find(|f| f["flowName"] == "orders").unwrap();
    assert_eq!(orders["runs"], 40);
    assert_eq!(orders["passRate"], 0.5);
    assert!(orders["transitionRate"].as_f64().unwrap() > 0.5, "{orders}");
    for flow in items {
        let expected = testmesh::api::flakiness(
            flow["passRate"].as_f64().unwrap(),
            flow["transitionRate"].as_f64().unwrap(),
        );
        assert_eq!(flow["flakiness"].as_f64().unwrap(), expected);
        assert!(expected >= 0.1);
    }
    assert_eq!(
        api.ok("/api/v1/flaky?namespace=ops").await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// Finished runs of four flows over five days, every 7 minutes and 13 seconds off the minute
/// (so no window edge in this test's seconds falls on one), each flow's outcomes drawn from its
/// own odds, and recorded out of order in batches, as executors finishing runs late record them.
async fn seed_shuffled_history(store: &Store) {
    let now = Utc::now();
    let mut seed: u64 = 7;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        seed >> 33
    };
    let flows = [
        ("qa", "orders", 50),
        ("qa", "users", 97),
        ("ops", "backup", 70),
        ("ops", "restore", 30),
    ];
    let mut runs: Vec<(u64, DateTime<Utc>, &str, &str, &str)> = (0..1030)
        .map(|k| {
            let (namespace, flow, pass_percent) = flows[(next() % 4) as usize];
            let status = match next() % 100 {
                roll if roll < pass_percent => "passed",
                roll if roll % 10 == 0 => "cancelled",
                roll if roll % 3 == 0 => "error",
                _ => "failed",
            };
            let time = now - Duration::minutes(7 * k) - Duration::seconds(13);
            (next(), time, namespace, flow, status)
        })
        .collect();
    runs.sort_by_key(|run| run.0);
    for batch in runs.chunks(25) {
        sqlx::query(
            "SELECT metrics.record_runs($1::timestamptz[], $2::text[], $3::text[], \
             array_fill(NULL::text, ARRAY[cardinality($1)]), $4::text[], \
             array_fill(100::int8, ARRAY[cardinality($1)]))",
        )
        .bind(batch.iter().map(|run| run.1).collect::<Vec<_>>())
        .bind(batch.iter().map(|run| run.2).collect::<Vec<_>>())
        .bind(batch.iter().map(|run| run.3).collect::<Vec<_>>())
        .bind(batch.iter().map(|run| run.4).collect::<Vec<_>>())
        .execute(store.pool())
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn flaky_flows_count_every_run_of_the_window_exactly() {
    let Some(api) = start("flaky_exact", Setup::default()).await else {
        return;
    };
    seed_shuffled_history(&api.store).await;
    for (window, hours) in [("1h", 1), ("5h", 5), ("30h", 30), ("3d", 72), ("7d", 168)] {
        for namespace in [None, Some("ops")] {
            let path = match namespace {
                Some(namespace) => format!("/api/v1/flaky?window={window}&namespace={namespace}"),
                None => format!("/api/v1/flaky?window={window}"),
            };
            let report = api.ok(&path).await;
            let exact: Vec<(String, String, i64, f64, f64)> = sqlx::query_as(
                "WITH ordered AS ( \
                   SELECT namespace, flow_name, status = 'passed' AS passed, \
                     lag(status = 'passed') OVER (PARTITION BY namespace, flow_name ORDER BY time) \
                       AS previous \
                   FROM metrics.run_metrics \
                   WHERE time >= now() - make_interval(hours => $1) AND status <> 'cancelled' \
                     AND ($2::text IS NULL OR namespace = $2)) \
                 SELECT namespace, flow_name, count(*), \
                   avg(CASE WHEN passed THEN 1.0 ELSE 0.0 END)::float8, \
                   (count(*) FILTER (WHERE previous <> passed))::float8 / (count(*) - 1) \
                 FROM ordered GROUP BY namespace, flow_name HAVING count(*) >= 2",
            )
            .bind(hours)
            .bind(namespace)
            .fetch_all(api.store.pool())
            .await
            .unwrap();
            let mut expected: Vec<(String, String, i64, f64, f64)> = exact
                .into_iter()
                .filter(|row| testmesh::api::flakiness(row.3, row.4) >= 0.1)
                .collect();
            expected.sort_by(|a, b| {
                testmesh::api::flakiness(b.3, b.4).total_cmp(&testmesh::api::flakiness(a.3, a.4))
            });
            let items = report["items"].as_array().unwrap();
            let got: Vec<(&str, &str, i64)> = items
                .iter()
                .map(|f| {
                    (
                        f["namespace"].as_str().unwrap(),
                        f["flowName"].as_str().unwrap(),
                        f["runs"].as_i64().unwrap(),
                    )
                })
                .collect();
            let want: Vec<(&str, &str, i64)> = expected
                .iter()
                .map(|row| (row.0.as_str(), row.1.as_str(), row.2))
                .collect();
            assert_eq!(got, want, "{path}");
            for (item, row) in items.iter().zip(&expected) {
                let pass_rate = item["passRate"].as_f64().unwrap();
                let transition_rate = item["transitionRate"].as_f64().unwrap();
                assert!(
                    (pass_rate - row.3).abs() < 1e-12,
                    "{path}: {item} against {row:?}"
                );
                assert_eq!(transition_rate, row.4, "{path}: {item} against {row:?}");
            }
        }
    }
    let week = api.ok("/api/v1/flaky?window=7d").await;
    let names: Vec<&str> = week["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["flowName"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"orders") && !names.contains(&"users"),
        "{names:?}"
    );
}

#[tokio::test]
async fn overview_schedules_and_environments_have_the_contract_shape() {
    let Some(api) = start("overview", Setup::default()).await else {
        return;
    };
    seed_many(&api.store).await;
    let overview = api.ok("/api/v1/overview").await;
    assert_eq!(overview["runs24h"], 80);
    assert!(overview["passRate24h"].as_f64().unwrap() > 0.0);
    assert_eq!(overview["recentRuns"].as_array().unwrap().len(), 10);
    let failing: Vec<&str> = overview["failingFlows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(
        failing
            .iter()
            .all(|name| ["orders", "backup"].contains(name)),
        "{failing:?}"
    );
    assert!(
        overview["failingFlows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["lastRun"]["runId"].is_string() && f["namespace"].is_string())
    );
    let flaky: Vec<&str> = overview["flakyFlows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["flowName"].as_str().unwrap())
        .collect();
    assert!(
        flaky.contains(&"orders") && !flaky.contains(&"users"),
        "{flaky:?}"
    );

    let schedules = api.ok("/api/v1/schedules").await["items"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(schedules.len(), 2);
    for key in [
        "namespace",
        "name",
        "schedules",
        "timeZone",
        "suspended",
        "flow",
        "nextRuns",
        "lastScheduleTime",
    ] {
        assert!(schedules[0].get(key).is_some(), "schedule has {key}");
    }
    assert_eq!(schedules[0]["name"], "orders-nightly");
    let environments = api.ok("/api/v1/environments").await["items"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(environments.len(), 2);
    assert_eq!(
        environments[1],
        json!({"namespace": "qa", "name": "staging", "variables": {}, "secretRefs": [], "flows": ["orders", "users"]})
    );
}

#[tokio::test]
async fn a_token_guards_the_api_but_not_health_or_the_document() {
    let setup = Setup {
        options: RouterOptions {
            auth: Authentication::token("s3cret-token"),
            ..RouterOptions::default()
        },
        ..Setup::default()
    };
    let Some(api) = start("auth_on", setup).await else {
        return;
    };
    let (status, body) = api.get("/api/v1/executions").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthorized");
    let wrong = api
        .client
        .get(format!("{}/api/v1/executions", api.base))
        .bearer_auth("s3cret-tokex")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let right = api
        .client
        .get(format!("{}/api/v1/executions", api.base))
        .bearer_auth("s3cret-token")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    assert_eq!(api.get("/healthz").await.0, 200);
    assert_eq!(api.get("/api/v1/openapi.json").await.0, 200);
    let Some(open) = start("auth_off", Setup::default()).await else {
        return;
    };
    assert_eq!(open.get("/api/v1/executions").await.0, 200);
}

#[tokio::test]
async fn cors_answers_the_configured_origins_only() {
    let setup = Setup {
        options: RouterOptions {
            cors_origins: vec!["https://tests.example.com".into()],
            ..RouterOptions::default()
        },
        ..Setup::default()
    };
    let Some(api) = start("cors", setup).await else {
        return;
    };
    let allowed = api
        .client
        .get(format!("{}/api/v1/flows", api.base))
        .header("Origin", "https://tests.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://tests.example.com"
    );
    let other = api
        .client
        .get(format!("{}/api/v1/flows", api.base))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let preflight = api
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/v1/flows", api.base),
        )
        .header("Origin", "https://tests.example.com")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert!(
        preflight.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("authorization")
    );
    let Some(plain) = start("cors_off", Setup::default()).await else {
        return;
    };
    let response = plain
        .client
        .get(format!("{}/api/v1/flows", plain.base))
        .header("Origin", "https://tests.example.com")
        .send()
        .await
        .unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn namespace_scope_hides_other_namespaces() {
    let setup = Setup {
        scope: vec!["ops".into()],
        ..Setup::default()
    };
    let Some(api) = start("scope", setup).await else {
        return;
    };
    seed_many(&api.store).await;
    let runs = api.ok("/api/v1/executions?limit=200").await;
    assert!(
        runs["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["namespace"] == "ops")
    );
    assert_eq!(runs["items"].as_array().unwrap().len(), 20);
    let (status, body) = api.get("/api/v1/executions?namespace=qa").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let (status, body) = api.get("/api/v1/executions/run-000").await;
    assert_eq!(
        (status, body["error"]["message"].as_str()),
        (403, Some("you do not have access to namespace qa")),
        "a direct link to a qa run"
    );
    assert_eq!(api.get("/api/v1/flows/qa/orders").await.0, 403);
    assert_eq!(api.get("/api/v1/executions/no-such-run").await.0, 404);
    assert_eq!(
        api.ok("/api/v1/flows").await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(api.ok("/api/v1/overview").await["runs24h"], 20);
}

fn two_teams() -> Vec<FakeUser> {
    vec![
        FakeUser {
            token: "qa-token",
            name: "qa-dev",
            groups: vec!["team-qa"],
            readable: vec!["qa"],
            patchable: Vec::new(),
        },
        FakeUser {
            token: "ops-token",
            name: "ops-dev",
            groups: vec!["team-ops"],
            readable: vec!["ops"],
            patchable: Vec::new(),
        },
    ]
}

/// The namespaces of every object in `items` that has one.
fn namespaces_of(items: &Value) -> HashSet<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["namespace"].as_str().unwrap().to_string())
        .collect()
}

/// Collects what is logged on this thread (the API's tasks share it on a current-thread
/// runtime).
#[derive(Clone, Default)]
struct LogLines(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogLines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn two_callers_see_disjoint_namespaces_everywhere() {
    let logs = LogLines::default();
    let writer = logs.clone();
    let _logging = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_writer(move || writer.clone())
            .finish(),
    );
    let setup = Setup {
        kube_users: Some(two_teams()),
        ..Setup::default()
    };
    let Some(api) = start("kube_two_callers", setup).await else {
        return;
    };
    seed_many(&api.store).await;
    for (token, own, runs) in [("qa-token", "qa", 60), ("ops-token", "ops", 20)] {
        let me = Some(token);
        let ok = |path: &'static str| {
            let api = &api;
            async move {
                let (status, body) = api.get_as(me, path).await;
                assert_eq!(status, 200, "{token} GET {path}: {body}");
                body
            }
        };
        let only_own = HashSet::from([own.to_string()]);
        let executions = ok("/api/v1/executions?limit=200").await;
        assert_eq!(
            executions["items"].as_array().unwrap().len(),
            runs,
            "{token}"
        );
        assert_eq!(namespaces_of(&executions["items"]), only_own);
        assert_eq!(namespaces_of(&ok("/api/v1/flows").await["items"]), only_own);
        // Only qa's runs came from schedules.
        let schedules = namespaces_of(&ok("/api/v1/schedules").await["items"]);
        assert_eq!(schedules.is_empty(), own == "ops", "{token}: {schedules:?}");
        assert!(schedules.is_subset(&only_own), "{token}: {schedules:?}");
        assert_eq!(
            namespaces_of(&ok("/api/v1/environments").await["items"]),
            only_own
        );
        let trend_runs: i64 = ok("/api/v1/trends").await["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|bucket| bucket["runs"].as_i64().unwrap())
            .sum();
        assert_eq!(
            trend_runs, runs as i64,
            "{token}: trends count only own runs"
        );
        let overview = ok("/api/v1/overview").await;
        assert_eq!(overview["runs24h"], runs, "{token}");
        assert!(namespaces_of(&overview["recentRuns"]).is_subset(&only_own));
        let failing: Vec<Value> = overview["failingFlows"].as_array().unwrap().to_vec();
        assert!(
            failing.iter().all(|flow| flow["namespace"] == own),
            "{failing:?}"
        );
        let flaky = ok("/api/v1/flaky").await;
        assert!(namespaces_of(&flaky["items"]).is_subset(&only_own));
        let session = ok("/api/v1/session").await;
        assert_eq!(session["namespaces"], json!([own]));
    }
    // qa's orders flow alternates, so it is flaky, and only qa-dev sees it.
    let (_, flaky) = api.get_as(Some("qa-token"), "/api/v1/flaky").await;
    assert!(!flaky["items"].as_array().unwrap().is_empty());
    let (_, flaky) = api.get_as(Some("ops-token"), "/api/v1/flaky").await;
    assert!(namespaces_of(&flaky["items"]).is_disjoint(&HashSet::from(["qa".to_string()])));

    let (_, session) = api.get_as(Some("qa-token"), "/api/v1/session").await;
    assert_eq!(
        session,
        json!({"user": "qa-dev", "groups": ["team-qa"], "namespaces": ["qa"]})
    );
    for path in [
        "/api/v1/executions?namespace=ops",
        "/api/v1/executions/run-003",
        "/api/v1/executions/run-003/events",
        "/api/v1/flows/ops/backup",
        "/api/v1/trends?namespace=ops",
        "/api/v1/flaky?namespace=ops",
    ] {
        let (status, body) = api.get_as(Some("qa-token"), path).await;
        assert_eq!(
            (status, body["error"]["message"].as_str()),
            (403, Some("you do not have access to namespace ops")),
            "qa-dev GET {path}"
        );
    }
    let (status, body) = api.get("/api/v1/executions").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    assert_eq!(api.get_as(Some("forged"), "/api/v1/overview").await.0, 401);

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(!text.contains("qa-token") && !text.contains("ops-token") && !text.contains("forged"));
    let audit: Vec<Value> = text
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["target"] == AUDIT_TARGET)
        .collect();
    let denied = audit
        .iter()
        .find(|line| line["path"] == "/api/v1/flows/ops/backup")
        .expect("an audit line for the refused flow");
    assert_eq!(denied["user"], "qa-dev");
    assert_eq!(denied["groups"], "team-qa");
    assert_eq!(denied["verb"], "GET");
    assert_eq!(denied["namespace"], "ops");
    assert_eq!(denied["decision"], "deny");
    assert_eq!(denied["status"], 403);
    let allowed = audit
        .iter()
        .find(|line| line["path"] == "/api/v1/executions" && line["user"] == "ops-dev")
        .expect("an audit line for ops-dev's list");
    assert_eq!(
        (allowed["decision"].as_str(), allowed["status"].as_u64()),
        (Some("allow"), Some(200))
    );
    let anonymous = audit
        .iter()
        .find(|line| line["status"] == 401)
        .expect("an audit line for the request without a token");
    assert_eq!(anonymous["decision"], "deny");
    assert!(anonymous.get("user").is_none_or(Value::is_null));
}

#[tokio::test]
async fn the_live_feed_of_a_caller_carries_only_their_namespaces() {
    let Some(redis) = redis_url() else { return };
    let prefix = unique_prefix("live_scoped");
    let live = LiveSource::new(&redis, &prefix).unwrap();
    let setup = Setup {
        kube_users: Some(two_teams()),
        live: Some(live.clone()),
        ..Setup::default()
    };
    let Some(api) = start("kube_live", setup).await else {
        return;
    };
    for (run_id, namespace) in [("qa-run", "qa"), ("ops-run", "ops")] {
        seed_run(
            &api.store,
            run_id,
            namespace,
            "orders",
            "running",
            "manual",
            None,
            Utc::now(),
            0,
        )
        .await;
    }
    let follow = |token: &'static str| {
        api.client
            .get(format!("{}/api/v1/live", api.base))
            .bearer_auth(token)
            .send()
    };
    let qa_feed = follow("qa-token").await.unwrap();
    let ops_feed = follow("ops-token").await.unwrap();
    assert_eq!(
        (qa_feed.status().as_u16(), ops_feed.status().as_u16()),
        (200, 200)
    );
    let publisher = keep_publishing(
        &redis,
        &live,
        vec![
            json!({"runId": "ops-run", "status": "passed"}),
            json!({"runId": "qa-run", "status": "passed"}),
        ],
    )
    .await;
    let (qa_text, ops_text) = tokio::join!(
        read_sse(qa_feed, "\"runId\":\"qa-run\""),
        read_sse(ops_feed, "\"runId\":\"ops-run\"")
    );
    publisher.abort();
    let qa_runs: Vec<Value> = events(&qa_text, "run");
    let ops_runs: Vec<Value> = events(&ops_text, "run");
    assert!(
        !qa_runs.is_empty() && !ops_runs.is_empty(),
        "{qa_text}\n{ops_text}"
    );
    assert!(
        qa_runs.iter().all(|run| run["namespace"] == "qa"),
        "{qa_text}"
    );
    assert!(
        ops_runs.iter().all(|run| run["namespace"] == "ops"),
        "{ops_text}"
    );
}

/// Every `$ref` in `value` names a schema in `components`.
fn refs(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                found.push(target.clone());
            }
            map.values().for_each(|v| refs(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
        _ => {}
    }
}

#[tokio::test]
async fn the_openapi_document_is_valid_and_lists_every_endpoint() {
    let Some(api) = start("openapi", Setup::default()).await else {
        return;
    };
    let document = api.ok("/api/v1/openapi.json").await;
    assert_eq!(document["openapi"], "3.1.0");
    let parsed: utoipa::openapi::OpenApi =
        serde_json::from_value(document.clone()).expect("parses as an OpenAPI document");
    assert_eq!(parsed.info.title, "TestMesh API");
    for path in [
        "/api/v1/flows",
        "/api/v1/flows/{namespace}/{name}",
        "/api/v1/executions",
        "/api/v1/executions/{runId}",
        "/api/v1/executions/{runId}/events",
        "/api/v1/live",
        "/api/v1/trends",
        "/api/v1/flaky",
        "/api/v1/schedules",
        "/api/v1/environments",
        "/api/v1/overview",
        "/api/v1/openapi.json",
    ] {
        assert!(
            document["paths"][path]["get"].is_object(),
            "{path} is documented"
        );
    }
    let schemas = document["components"]["schemas"].as_object().unwrap();
    let mut found = Vec::new();
    refs(&document, &mut found);
    assert!(!found.is_empty());
    for target in found {
        let name = target
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("local schema ref: {target}"));
        assert!(schemas.contains_key(name), "{target} resolves");
    }
    let execution = &schemas["Execution"]["properties"];
    for key in ["runId", "flowName", "queuedAt", "passedSteps"] {
        assert!(execution.get(key).is_some(), "Execution documents {key}");
    }
    let params: Vec<&str> = document["paths"]["/api/v1/executions"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        params,
        [
            "namespace",
            "flow",
            "environment",
            "status",
            "trigger",
            "from",
            "to",
            "cursor",
            "limit",
            "sort"
        ]
    );
}

/// Reads an SSE body until `until` appears (or 10 seconds pass).
async fn read_sse(response: reqwest::Response, until: &str) -> String {
    let mut response = response;
    let mut text = String::new();
    let _ = tokio::time::timeout(StdDuration::from_secs(10), async {
        while let Ok(Some(chunk)) = response.chunk().await {
            text.push_str(&String::from_utf8_lossy(&chunk));
            if text.contains(until) {
                break;
            }
        }
    })
    .await;
    text
}

/// The `data:` lines of the events named `name`.
fn events(text: &str, name: &str) -> Vec<Value> {
    text.split("\n\n")
        .filter(|block| block.lines().any(|l| l == format!("event: {name}")))
        .filter_map(|block| block.lines().find_map(|l| l.strip_prefix("data: ")))
        .map(|data| serde_json::from_str(data).unwrap())
        .collect()
}

/// Publishes each of `finished` to the live feed every 200 ms, 20 times: the feed starts at its
/// newest entry, so a reader that subscribes a little later still gets some. Abort it once read.
async fn keep_publishing(
    redis: &str,
    live: &LiveSource,
    finished: Vec<Value>,
) -> tokio::task::JoinHandle<()> {
    let mut conn = redis::Client::open(redis)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let feed = live.live_stream();
    tokio::spawn(async move {
        for _ in 0..20 {
            tokio::time::sleep(StdDuration::from_millis(200)).await;
            for data in &finished {
                xadd(&mut conn, &feed, "finished", data).await;
            }
        }
    })
}

async fn xadd(
    conn: &mut redis::aio::MultiplexedConnection,
    stream: &str,
    event: &str,
    data: &Value,
) {
    redis::cmd("XADD")
        .arg(stream)
        .arg("*")
        .arg("event")
        .arg(event)
        .arg("data")
        .arg(data.to_string())
        .query_async::<String>(conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_running_execution_streams_published_steps_then_finished() {
    let Some(redis) = redis_url() else { return };
    let prefix = unique_prefix("sse");
    let live = LiveSource::new(&redis, &prefix).unwrap();
    let Some(api) = start(
        "sse",
        Setup {
            live: Some(live.clone()),
            ..Setup::default()
        },
    )
    .await
    else {
        return;
    };
    let now = Utc::now();
    seed_run(
        &api.store, "live-1", "qa", "checkout", "running", "manual", None, now, 0,
    )
    .await;
    let mut conn = redis::Client::open(redis.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let stream = live.run_stream("live-1");
    let step = serde_json::to_value(&flow_result("live-1", FlowStatus::Failed).steps[1]).unwrap();
    xadd(&mut conn, &stream, "started", &json!({"runId": "live-1"})).await;
    xadd(
        &mut conn,
        &stream,
        "step",
        &json!({"runId": "live-1", "stepIndex": 1, "step": step}),
    )
    .await;

    let response = api
        .client
        .get(format!("{}/api/v1/executions/live-1/events", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let publisher = {
        let stream = stream.clone();
        tokio::spawn(async move {
            tokio::time::sleep(StdDuration::from_millis(300)).await;
            xadd(&mut conn, &stream, "finished", &json!({"runId": "live-1", "status": "failed", "durationMs": 40, "passedSteps": 1, "failedSteps": 1, "executorId": "e1"})).await;
        })
    };
    let text = read_sse(response, "event: finished").await;
    publisher.await.unwrap();
    let steps = events(&text, "step");
    assert_eq!(steps.len(), 1, "{text}");
    assert_eq!(steps[0]["stepId"], "pay");
    assert_eq!(steps[0]["stepIndex"], 1);
    assert_eq!(steps[0]["assertions"][0]["actual"]["status"], 500);
    let finished = events(&text, "finished");
    assert_eq!(finished.len(), 1, "{text}");
    assert_eq!(finished[0]["runId"], "live-1");
    assert_eq!(finished[0]["status"], "failed");
    assert_eq!(finished[0]["durationMs"], 40);
    assert_eq!(finished[0]["namespace"], "qa");
}

#[tokio::test]
async fn a_finished_execution_replays_from_the_store() {
    let Some(api) = start("sse_done", Setup::default()).await else {
        return;
    };
    record(&api.store, "done-1", FlowStatus::Passed).await;
    let response = api
        .client
        .get(format!("{}/api/v1/executions/done-1/events", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = read_sse(response, "event: finished").await;
    assert_eq!(events(&text, "step").len(), 2);
    assert_eq!(events(&text, "finished")[0]["status"], "passed");
}

#[tokio::test]
async fn the_live_feed_sends_runs_as_they_start_and_finish() {
    let Some(redis) = redis_url() else { return };
    let prefix = unique_prefix("live");
    let live = LiveSource::new(&redis, &prefix).unwrap();
    let Some(api) = start(
        "live_feed",
        Setup {
            live: Some(live.clone()),
            ..Setup::default()
        },
    )
    .await
    else {
        return;
    };
    seed_run(
        &api.store,
        "feed-1",
        "qa",
        "orders",
        "running",
        "manual",
        None,
        Utc::now(),
        0,
    )
    .await;
    let response = api
        .client
        .get(format!("{}/api/v1/live", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let publisher = keep_publishing(
        &redis,
        &live,
        vec![json!({"runId": "feed-1", "status": "passed", "durationMs": 9})],
    )
    .await;
    let text = read_sse(response, "event: run").await;
    publisher.abort();
    let runs = events(&text, "run");
    assert!(!runs.is_empty(), "{text}");
    assert_eq!(runs[0]["runId"], "feed-1");
    assert_eq!(runs[0]["status"], "passed");
    assert_eq!(runs[0]["flowName"], "orders");
}

#[tokio::test]
async fn live_endpoints_answer_503_without_redis() {
    let unreachable = LiveSource::new("redis://127.0.0.1:1/", "").unwrap();
    let Some(api) = start(
        "sse_503",
        Setup {
            live: Some(unreachable),
            ..Setup::default()
        },
    )
    .await
    else {
        return;
    };
    seed_run(
        &api.store,
        "r-1",
        "qa",
        "orders",
        "running",
        "manual",
        None,
        Utc::now(),
        0,
    )
    .await;
    for path in ["/api/v1/live", "/api/v1/executions/r-1/events"] {
        let (status, body) = api.get(path).await;
        assert_eq!(status, 503, "{path}: {body}");
        assert_eq!(body["error"]["code"], "unavailable");
    }
    let Some(none) = start("sse_none", Setup::default()).await else {
        return;
    };
    let (status, body) = none.get("/api/v1/live").await;
    assert_eq!(status, 503);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--redis-url")
    );
}

#[tokio::test]
async fn the_dashboard_is_served_with_folder_index_pages_and_a_note_when_missing() {
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(site.path().join("flows/view")).unwrap();
    std::fs::write(site.path().join("index.html"), "<h1>Overview</h1>").unwrap();
    std::fs::write(site.path().join("flows/view/index.html"), "<h1>Flow</h1>").unwrap();
    std::fs::write(site.path().join("404.html"), "<h1>Lost</h1>").unwrap();
    let setup = Setup {
        options: RouterOptions {
            dashboard_dir: site.path().to_path_buf(),
            ..RouterOptions::default()
        },
        ..Setup::default()
    };
    let Some(api) = start("dashboard", setup).await else {
        return;
    };
    assert_eq!(
        api.get("/").await,
        (200, Value::String("<h1>Overview</h1>".into()))
    );
    assert_eq!(
        api.get("/flows/view/?ns=qa&name=orders").await,
        (200, Value::String("<h1>Flow</h1>".into()))
    );
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let bare = no_redirects
        .get(format!("{}/flows/view", api.base))
        .send()
        .await
        .unwrap();
    assert!(bare.status().is_redirection());
    assert_eq!(bare.headers()["location"], "/flows/view/");
    assert_eq!(
        api.get("/nowhere/").await,
        (404, Value::String("<h1>Lost</h1>".into()))
    );
    assert_eq!(
        api.get("/api/v1/flows").await.0,
        200,
        "the API is not shadowed"
    );

    let setup = Setup {
        options: RouterOptions {
            dashboard_dir: site.path().join("missing"),
            ..RouterOptions::default()
        },
        ..Setup::default()
    };
    let Some(bare_api) = start("dashboard_missing", setup).await else {
        return;
    };
    let (status, body) = bare_api.get("/").await;
    assert_eq!(status, 404);
    assert!(
        body.as_str()
            .unwrap()
            .contains("The dashboard is not installed")
    );
}

/// One key value per type that passes the validator's type check wherever the key stands.
fn sample_value(key_type: &str) -> Value {
    match key_type {
        "count" => json!(1),
        "flag" => json!(true),
        "list" => json!([]),
        "map" | "flag_or_map" => json!({}),
        "duration" => json!("1s"),
        _ => json!("x"),
    }
}

#[tokio::test]
async fn the_action_catalogue_is_the_one_the_validator_checks() {
    let Some(api) = start("actions", Setup::default()).await else {
        return;
    };
    let body = api.ok("/api/v1/actions").await;
    let groups: Vec<&str> = body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        groups,
        [
            "HTTP & API",
            "Databases & storage",
            "Messaging",
            "Metrics, logs & traces",
            "Control flow",
            "Mocks",
            "Utilities"
        ]
    );
    let actions = body["actions"].as_array().unwrap();
    let names: Vec<&str> = actions
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    let engine: Vec<&str> = ActionKind::ALL.iter().map(|k| k.name()).collect();
    assert_eq!(names, engine, "every action of the engine, in its order");
    for action in actions {
        let name = action["name"].as_str().unwrap();
        let kind = ActionKind::from_name(name).unwrap();
        let keys: Vec<&str> = action["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["name"].as_str().unwrap())
            .collect();
        assert_eq!(keys, kind.config_keys().known, "{name}: keys");
        assert_eq!(
            action["configSchema"],
            config_schema(kind),
            "{name}: schema"
        );
        assert!(!action["description"].as_str().unwrap().is_empty());
        for alias in kind.aliases() {
            assert!(
                action["aliases"]
                    .as_array()
                    .unwrap()
                    .contains(&json!(alias))
            );
        }

        // A step giving every key the catalogue lists, plus one it does not: the validator
        // accepts exactly the listed ones.
        let mut config = serde_json::Map::new();
        for key in action["keys"].as_array().unwrap() {
            let key_name = key["name"].as_str().unwrap();
            let nested = action["nestedStepKeys"]
                .as_array()
                .unwrap()
                .contains(&json!(key_name));
            let value = if nested || key_name == "branches" {
                json!([{"action": "log", "config": {"message": "inner"}}])
            } else {
                sample_value(key["type"].as_str().unwrap())
            };
            config.insert(key_name.into(), value);
        }
        config.insert("not_a_key".into(), json!("x"));
        let flow = json!({"name": "catalogue", "steps": [
            {"id": "probe", "action": name, "config": config}
        ]});
        // JSON is YAML too.
        let (status, report) = api.post_yaml("/api/v1/validate", &flow.to_string()).await;
        assert_eq!(status, 200);
        let refused: Vec<&str> = report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["message"].as_str().unwrap())
            .filter(|m| m.contains("does not read"))
            .collect();
        assert_eq!(refused.len(), 1, "{name}: {refused:?}");
        assert!(refused[0].contains("`not_a_key`"), "{name}: {refused:?}");
    }
}

const NESTED_TYPO: &str = "\
name: editor check
steps:
  - id: ping
    action: http_request
    config:
      url: http://127.0.0.1:1/
    assert:
      - status == 200
  - id: branch
    action: condition
    config:
      condition: \"true\"
      then:
        - id: inner
          action: http_request
          config:
            url: http://127.0.0.1:1/
          assert:
            - status === 200
";

#[tokio::test]
async fn validate_places_each_finding_on_its_step_and_field_in_both_dialects() {
    let Some(api) = start("validate", Setup::default()).await else {
        return;
    };
    let (status, report) = api.post_yaml("/api/v1/validate", NESTED_TYPO).await;
    assert_eq!(status, 200);
    assert_eq!(report["valid"], false, "{report}");
    assert_eq!(report["flows"], 1);
    let typo = &report["diagnostics"][0];
    assert_eq!(typo["severity"], "error", "{report}");
    assert_eq!(typo["step"], "branch.then.inner");
    assert_eq!(typo["field"], "steps[1].config.then[0].assert[0]");
    assert_eq!(typo["stepPath"], "steps[1].config.then[0]");
    assert_eq!(typo["stepField"], "assert[0]");
    assert_eq!(typo["line"], 19);
    assert!(typo["message"].as_str().unwrap().contains("==="), "{typo}");

    let indented: String = NESTED_TYPO
        .lines()
        .map(|line| format!("  {line}\n"))
        .collect();
    let manifest = format!(
        "apiVersion: testmesh.io/v1alpha1\nkind: TestFlow\nmetadata:\n  name: check\n  namespace: qa\nspec:\n{indented}"
    );
    let (_, report) = api.post_yaml("/api/v1/validate", &manifest).await;
    let typo = &report["diagnostics"][0];
    assert_eq!(typo["field"], "spec.steps[1].config.then[0].assert[0]");
    assert_eq!(typo["stepPath"], "steps[1].config.then[0]");
    assert_eq!(typo["line"], 25);

    let fixed = NESTED_TYPO.replace("===", "==");
    let (_, report) = api.post_yaml("/api/v1/validate", &fixed).await;
    assert_eq!(report["valid"], true, "{report}");
    assert_eq!(report["errors"], 0);

    let (_, report) = api
        .post_yaml("/api/v1/validate", "name: x\nsteps: [\n")
        .await;
    assert_eq!(report["valid"], false);
    let broken = &report["diagnostics"][0];
    assert!(
        broken["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid YAML")
    );
    assert!(broken["line"].as_u64().is_some(), "{broken}");

    let not_text = api
        .client
        .post(format!("{}/api/v1/validate", api.base))
        .body(vec![b'n', b':', 0xff, 0xfe])
        .send()
        .await
        .unwrap();
    assert_eq!(not_text.status(), 400);
    let body: Value = not_text.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "body: the YAML is not UTF-8 text (byte 2)"
    );

    let document = api.ok("/api/v1/openapi.json").await;
    assert!(document["paths"]["/api/v1/validate"]["post"].is_object());
    assert!(document["paths"]["/api/v1/actions"]["get"].is_object());
}

/// A cluster catalog's view: one valid flow and one the operator found invalid.
struct ConditionsCatalog;

fn conditions_flow(name: &str, ready: bool) -> CatalogFlow {
    let message = if ready {
        "the flow is valid and runnable".to_string()
    } else {
        "the flow is not valid: step `ping`: spec.steps[0].action: unknown action `htp`".into()
    };
    CatalogFlow {
        namespace: "qa".into(),
        name: name.into(),
        spec: json!({"name": name, "steps": [{"id": "ping", "action": "htp"}]}),
        conditions: vec![FlowCondition {
            type_: "Ready".into(),
            status: if ready { "True" } else { "False" }.into(),
            reason: if ready { "Ready" } else { "ValidationFailed" }.into(),
            message,
        }],
    }
}

impl FlowCatalog for ConditionsCatalog {
    fn flows<'a>(
        &'a self,
        _: &'a Scope,
    ) -> futures::future::BoxFuture<'a, Result<Vec<CatalogFlow>, ApiError>> {
        Box::pin(async {
            Ok(vec![
                conditions_flow("broken", false),
                conditions_flow("fine", true),
            ])
        })
    }

    fn flow<'a>(
        &'a self,
        _: &'a str,
        name: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<Option<CatalogFlow>, ApiError>> {
        Box::pin(async move { Ok(Some(conditions_flow(name, name != "broken"))) })
    }

    fn schedules<'a>(
        &'a self,
        _: &'a Scope,
    ) -> futures::future::BoxFuture<'a, Result<Vec<Schedule>, ApiError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn environments<'a>(
        &'a self,
        _: &'a Scope,
    ) -> futures::future::BoxFuture<'a, Result<Vec<Environment>, ApiError>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

#[tokio::test]
async fn an_invalid_flow_is_listed_as_not_ready_with_the_validators_message() {
    let setup = Setup {
        catalog: Some(Arc::new(ConditionsCatalog)),
        ..Setup::default()
    };
    let Some(api) = start("flow_conditions", setup).await else {
        return;
    };
    let list = api.ok("/api/v1/flows").await;
    let broken = &list["items"][0];
    assert_eq!(broken["name"], "broken");
    assert_eq!(broken["ready"], false);
    assert!(
        broken["notReadyReason"]
            .as_str()
            .unwrap()
            .contains("unknown action `htp`")
    );
    assert_eq!(broken["conditions"][0]["reason"], "ValidationFailed");
    assert_eq!(list["items"][1]["ready"], true);
    assert_eq!(list["items"][1]["notReadyReason"], Value::Null);
    let detail = api.ok("/api/v1/flows/qa/broken").await;
    assert_eq!(detail["ready"], false);
    assert_eq!(detail["conditions"][0]["type"], "Ready");
}

const DRAFT_FLOW: &str =
    "name: Draft check\nsteps:\n  - id: hello\n    action: log\n    config: {message: hi}\n";

/// POSTs a JSON body, with `token` as the bearer token when given.
async fn post_json_as(api: &TestApi, token: Option<&str>, path: &str, body: Value) -> (u16, Value) {
    let mut request = api.client.post(format!("{}{path}", api.base)).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn post_json(api: &TestApi, path: &str, body: Value) -> (u16, Value) {
    post_json_as(api, None, path, body).await
}

#[tokio::test]
async fn draft_runs_are_off_unless_allowed() {
    let Some(api) = start("drafts_off", Setup::default()).await else {
        return;
    };
    let (status, body) = post_json(&api, "/api/v1/runs", json!({"namespace": "qa"})).await;
    assert_eq!(status, 404, "off, whatever the request");
    assert_eq!(body["error"]["code"], "disabled");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--allow-draft-runs")
    );
    let page = api.ok("/api/v1/executions").await;
    assert_eq!(page["items"], json!([]), "nothing was recorded");
}

#[tokio::test]
async fn a_draft_run_is_enqueued_recorded_and_marked_as_a_draft() {
    let Some(redis) = redis_url() else {
        return;
    };
    let prefix = unique_prefix("drafts");
    let queue = testmesh::queue::RedisQueue::connect(
        &redis,
        testmesh::queue::Streams::prefixed(&prefix),
        StdDuration::from_secs(5),
    )
    .await
    .unwrap();
    let setup = Setup {
        drafts: Some(DraftRuns {
            queue,
            access: None,
        }),
        scope: vec!["qa".into()],
        ..Setup::default()
    };
    let Some(api) = start("drafts_on", setup).await else {
        return;
    };
    let (status, started) = post_json(
        &api,
        "/api/v1/runs",
        json!({"namespace": "qa", "environment": "staging", "flow": DRAFT_FLOW}),
    )
    .await;
    assert_eq!(status, 202, "{started}");
    let run_id = started["runId"].as_str().unwrap().to_string();
    assert!(run_id.starts_with("draft-"));
    assert_eq!(started["flowName"], "draft-draft-check");

    let page = api.ok("/api/v1/executions").await;
    let run = &page["items"][0];
    assert_eq!(run["runId"], run_id.as_str());
    assert_eq!(run["draft"], true);
    assert_eq!(run["trigger"], "manual");
    assert_eq!(run["status"], "queued");
    assert_eq!(run["environment"], "staging");
    assert_eq!(
        api.ok("/api/v1/flows").await["items"],
        json!([]),
        "a draft is not listed as a flow"
    );

    let mut conn = redis::Client::open(redis.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let entries: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg(format!("{prefix}{}", testmesh::queue::RUNS_STREAM))
        .arg("-")
        .arg("+")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    let message: Value = serde_json::from_str(&entries[0].1[0].1).unwrap();
    assert_eq!(message["runId"], run_id.as_str());
    assert_eq!(message["draft"], true);
    assert_eq!(message["trigger"]["kind"], "manual");
    assert_eq!(message["flow"]["uid"], run_id.as_str());

    let (status, body) = post_json(
        &api,
        "/api/v1/runs",
        json!({"namespace": "qa", "flow": "name: x\nsteps:\n  - action: htp\n"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("flow: the flow is not valid"),
        "{body}"
    );
    let (status, _) = post_json(
        &api,
        "/api/v1/runs",
        json!({"namespace": "billing", "flow": DRAFT_FLOW}),
    )
    .await;
    assert_eq!(status, 403, "a namespace out of scope");
    let (status, body) = post_json(&api, "/api/v1/runs", json!({"namespace": "qa"})).await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("body: expected {\"namespace\", \"environment\", \"flow\"} as JSON: missing field `flow`"),
        "{body}"
    );
}

#[tokio::test]
async fn with_kubernetes_sign_in_a_draft_run_needs_patch_on_testflows() {
    let Some(redis) = redis_url() else {
        return;
    };
    let queue = testmesh::queue::RedisQueue::connect(
        &redis,
        testmesh::queue::Streams::prefixed(&unique_prefix("drafts_kube")),
        StdDuration::from_secs(5),
    )
    .await
    .unwrap();
    let mut users = two_teams();
    users[0].patchable = vec!["qa/draft-draft-check"];
    users[1].readable = vec!["qa"];
    let setup = Setup {
        kube_users: Some(users),
        drafts: Some(DraftRuns {
            queue,
            access: None,
        }),
        ..Setup::default()
    };
    let Some(api) = start("drafts_kube", setup).await else {
        return;
    };
    // A flow's run makes `qa` a namespace the callers are reviewed for.
    api.store
        .insert_queued_run(&run_message("run-qa", "orders", spec(DRAFT_FLOW)))
        .await
        .unwrap();
    let body = json!({"namespace": "qa", "flow": DRAFT_FLOW});
    let (status, refused) =
        post_json_as(&api, Some("ops-token"), "/api/v1/runs", body.clone()).await;
    assert_eq!(status, 403, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ops-dev may not start runs in namespace qa"),
        "{refused}"
    );
    let (status, started) =
        post_json_as(&api, Some("qa-token"), "/api/v1/runs", body.clone()).await;
    assert_eq!(status, 202, "{started}");
    assert_eq!(post_json(&api, "/api/v1/runs", body).await.0, 401);
}
