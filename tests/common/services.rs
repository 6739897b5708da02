//! The servers scripts/services.sh starts, found through their environment variables, and a
//! private database or key prefix per test so tests can run in parallel.

use sqlx::{AssertSqlSafe, Connection};

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
