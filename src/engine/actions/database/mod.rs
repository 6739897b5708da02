//! `database_query` and `db_poll`: SQL against PostgreSQL or MySQL/MariaDB. The connection
//! string picks the driver; one pool per connection string is built the first time a run uses
//! it and closed when the run ends. Results: `rows`, `row_count`, `first_row`, `rows_affected`.
//! `db_poll` repeats the query until its `condition` holds; the runner drives that loop because
//! the condition is an expression over the result.

mod dsn;
mod mysql;
mod params;
mod postgres;

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Map, Value};
use sqlx::mysql::{MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::types::BigDecimal;
use tokio::sync::Mutex;

use super::fields::{duration, first_text, list, required_text};
use super::{ActionError, ActionOutput};
pub use dsn::{Dialect, Dsn};

const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const POOL_SIZE: u32 = 4;
/// How long closing a pool may wait for a query that a timeout abandoned; after it the
/// connections are dropped without the goodbye.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Names under which flow files give the connection string.
pub const CONNECTION_KEYS: [&str; 4] = ["connection", "dsn", "url", "connection_string"];

/// What a statement gave back.
#[derive(Debug, Default)]
pub struct Outcome {
    pub rows: Vec<Map<String, Value>>,
    pub rows_affected: u64,
}

#[derive(Clone)]
enum Pool {
    Postgres(PgPool),
    MySql(MySqlPool),
}

/// The pools of one run, by connection string.
#[derive(Default)]
pub struct DatabasePools {
    pools: Mutex<HashMap<String, Pool>>,
}

impl DatabasePools {
    async fn get(&self, dsn: &Dsn, connect_timeout: Duration) -> Result<Pool, ActionError> {
        let mut pools = self.pools.lock().await;
        if let Some(pool) = pools.get(&dsn.text) {
            return Ok(pool.clone());
        }
        let connected = match dsn.dialect {
            Dialect::Postgres => PgPoolOptions::new()
                .max_connections(POOL_SIZE)
                .acquire_timeout(connect_timeout)
                .connect(&dsn.text)
                .await
                .map(Pool::Postgres),
            Dialect::MySql => MySqlPoolOptions::new()
                .max_connections(POOL_SIZE)
                .acquire_timeout(connect_timeout)
                .connect(&dsn.text)
                .await
                .map(Pool::MySql),
        };
        let pool = connected.map_err(|err| {
            ActionError::Failed(format!(
                "cannot connect to {} at {} ({}): {}",
                dsn.dialect.label(),
                dsn.address,
                dsn.masked,
                mask_in(&err.to_string(), dsn)
            ))
        })?;
        pools.insert(dsn.text.clone(), pool.clone());
        Ok(pool)
    }

    /// Closes every pool; called when the run ends.
    pub async fn close_all(&self) {
        let pools: Vec<Pool> = self.pools.lock().await.drain().map(|(_, p)| p).collect();
        for pool in pools {
            let closing = async {
                match pool {
                    Pool::Postgres(pool) => pool.close().await,
                    Pool::MySql(pool) => pool.close().await,
                }
            };
            let _ = tokio::time::timeout(CLOSE_GRACE, closing).await;
        }
    }
}

/// `database_query`: runs one statement and returns its rows.
pub async fn query(
    config: &Map<String, Value>,
    pools: &DatabasePools,
) -> Result<ActionOutput, ActionError> {
    let Some((connection, _)) = first_text(config, &CONNECTION_KEYS)? else {
        return Err(ActionError::invalid(
            "connection",
            "is required: a postgres:// or mysql:// URL",
        ));
    };
    let dsn = Dsn::parse(&connection)?;
    let sql = required_text(config, "query")?;
    let params = list(config, "params");
    let timeout = duration(config, "timeout", DEFAULT_QUERY_TIMEOUT)?;
    let connect_timeout = duration(config, "connect_timeout", DEFAULT_CONNECT_TIMEOUT)?;
    let pool = pools.get(&dsn, connect_timeout).await?;
    // The query is the flow author's own SQL, run as written; values go in as bound params.
    let work = async {
        match &pool {
            Pool::Postgres(pool) => postgres::run(pool, &sql, &params).await,
            Pool::MySql(pool) => mysql::run(pool, &sql, &params).await,
        }
    };
    let outcome = match tokio::time::timeout(timeout, work).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(err)) => {
            return Err(ActionError::Failed(format!(
                "{} query on {} failed: {}",
                dsn.dialect.label(),
                dsn.address,
                mask_in(&err, &dsn)
            )));
        }
        Err(_) => {
            return Err(ActionError::Failed(format!(
                "{} query on {} did not finish within the query timeout of {}",
                dsn.dialect.label(),
                dsn.address,
                humantime::format_duration(timeout)
            )));
        }
    };
    let mut request = Map::new();
    request.insert("connection".into(), Value::String(dsn.masked.clone()));
    request.insert("query".into(), Value::String(sql));
    request.insert("params".into(), Value::Array(params));
    Ok(ActionOutput::with_request(
        result_of(outcome),
        Value::Object(request),
    ))
}

fn result_of(outcome: Outcome) -> Map<String, Value> {
    let mut result = Map::new();
    let first_row = outcome
        .rows
        .first()
        .cloned()
        .map_or(Value::Null, Value::Object);
    result.insert("row_count".into(), Value::from(outcome.rows.len()));
    result.insert("rows_affected".into(), Value::from(outcome.rows_affected));
    result.insert("first_row".into(), first_row);
    result.insert(
        "rows".into(),
        Value::Array(outcome.rows.into_iter().map(Value::Object).collect()),
    );
    result
}

/// A decimal as a JSON number: an integer when it is whole and fits, a float otherwise.
pub fn decimal_number(decimal: &BigDecimal) -> Value {
    let text = decimal.normalized().to_string();
    if let Ok(int) = text.parse::<i64>() {
        return Value::from(int);
    }
    match text
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
    {
        Some(number) => Value::Number(number),
        None => Value::String(text),
    }
}

/// Removes the password from a driver message that may quote the connection string.
fn mask_in(message: &str, dsn: &Dsn) -> String {
    match url::Url::parse(&dsn.text)
        .ok()
        .and_then(|u| u.password().map(str::to_string))
    {
        Some(password) if !password.is_empty() => message.replace(&password, "***"),
        _ => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn decimals_become_numbers() {
        let cases = [
            ("12.50", "12.5"),
            ("3", "3"),
            ("-0.25", "-0.25"),
            ("1e3", "1000"),
        ];
        for (input, expected) in cases {
            let value = decimal_number(&BigDecimal::from_str(input).unwrap());
            assert_eq!(value.to_string(), expected, "{input}");
        }
    }

    #[tokio::test]
    async fn a_refused_connection_names_the_address_and_hides_the_password() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let mut config = Map::new();
        config.insert(
            "connection".into(),
            Value::String(format!("postgres://app:hunter2@127.0.0.1:{port}/db")),
        );
        config.insert("query".into(), Value::String("select 1".into()));
        config.insert("connect_timeout".into(), Value::String("2s".into()));
        let err = query(&config, &DatabasePools::default())
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
        assert!(err.contains("app:***@"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
}
