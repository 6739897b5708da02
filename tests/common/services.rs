//! The PostgreSQL and Redis servers the test command starts: a fresh database per test, and the
//! message builders the store and executor tests share. When a server is not configured the
//! helpers print `skipped: <reason>` and answer `None`.

use chrono::Utc;
use sqlx::{AssertSqlSafe, Connection};
use testmesh::flow::FlowSpec;
use testmesh::queue::{FlowRef, RunMessage, Trigger, TriggerKind};

/// The Redis URL, or `None` (after printing why the test is skipped).
pub fn redis_url() -> Option<String> {
    match std::env::var("TESTMESH_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            println!("skipped: TESTMESH_TEST_REDIS_URL is not set (run scripts/test.sh)");
            None
        }
    }
}

/// Creates a database with a unique name and answers its URL, or `None` when PostgreSQL is not
/// configured.
pub async fn fresh_database(test: &str) -> Option<String> {
    let base = match std::env::var("TESTMESH_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            println!("skipped: TESTMESH_TEST_DATABASE_URL is not set (run scripts/test.sh)");
            return None;
        }
    };
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let name = format!("tm_{test}_{}", &suffix[..12]);
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&base)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut admin)
        .await
        .unwrap();
    let mut url = url::Url::parse(&base).unwrap();
    url.set_path(&format!("/{name}"));
    Some(url.to_string())
}

/// A unique prefix for the Redis keys of one test.
pub fn unique_prefix(test: &str) -> String {
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("test:{test}:{}:", &suffix[..8])
}

/// A flow spec from YAML in the flow-file dialect (`name`, `steps`...).
pub fn spec(yaml: &str) -> FlowSpec {
    let mut loaded = testmesh::flow::load::Loaded::default();
    testmesh::flow::load::load_text(yaml, std::path::Path::new("test.yaml"), &mut loaded);
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    loaded.flows().next().unwrap().spec.clone()
}

/// A manual run of `spec` in namespace `qa`.
pub fn run_message(run_id: &str, flow_name: &str, spec: FlowSpec) -> RunMessage {
    RunMessage {
        run_id: run_id.to_string(),
        flow: FlowRef {
            namespace: "qa".into(),
            name: flow_name.to_string(),
            generation: 1,
            uid: None,
        },
        spec,
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

/// The URL in `var`, or None after printing why the test is skipped.
pub fn url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            println!(
                "skipped: {var} is not set (run `bash scripts/test.sh`, or source scripts/services.sh and start_services)"
            );
            None
        }
    }
}

fn unique_name(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// A fresh PostgreSQL database; returns its URL.
pub async fn postgres_database() -> Option<String> {
    let admin = url("TESTMESH_TEST_DATABASE_URL")?;
    let name = unique_name("tm");
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path(&format!("/{name}"));
    Some(url.to_string())
}

/// A fresh MySQL/MariaDB database; returns its URL.
pub async fn mysql_database() -> Option<String> {
    let admin = url("TESTMESH_TEST_MYSQL_URL")?;
    let name = unique_name("tm");
    let mut conn = sqlx::MySqlConnection::connect(&admin).await.unwrap();
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path(&format!("/{name}"));
    Some(url.to_string())
}

/// A key prefix no other test uses.
pub fn redis_prefix() -> String {
    unique_name("tm")
}
