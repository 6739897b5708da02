//! MySQL and MariaDB: runs one statement on a pool and turns its rows into JSON with the column
//! types kept: integers and decimals as numbers, JSON columns as JSON (MariaDB's too), TIMESTAMP as RFC 3339
//! text (sqlx reads it in UTC), DATETIME as ISO 8601 without a zone, binary columns as base64
//! unless they hold UTF-8 text, NULL as null.

use base64::Engine;
use futures::TryStreamExt;
use serde_json::{Map, Value};
use sqlx::mysql::{MySqlPool, MySqlRow};
use sqlx::types::BigDecimal;
use sqlx::types::chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use sqlx::{AssertSqlSafe, Column, Either, Executor, Row, TypeInfo, ValueRef};

use super::params::bind_mysql;
use super::{Outcome, decimal_number};

/// Runs `query` with `params`; returns its rows and the rows it changed.
pub async fn run(pool: &MySqlPool, query: &str, params: &[Value]) -> Result<Outcome, String> {
    let statement = bind_mysql(sqlx::query(AssertSqlSafe(query.to_string())), params);
    let mut stream = pool.fetch_many(statement);
    let mut outcome = Outcome::default();
    while let Some(item) = stream.try_next().await.map_err(|err| err.to_string())? {
        match item {
            Either::Left(done) => outcome.rows_affected += done.rows_affected(),
            Either::Right(row) => outcome.rows.push(row_to_json(&row)?),
        }
    }
    Ok(outcome)
}

fn row_to_json(row: &MySqlRow) -> Result<Map<String, Value>, String> {
    let mut map = Map::new();
    for (index, column) in row.columns().iter().enumerate() {
        let value = cell(row, index).map_err(|err| {
            format!(
                "column `{}` ({}): {err}; cast it in the query, e.g. CAST({} AS CHAR)",
                column.name(),
                column.type_info().name(),
                column.name()
            )
        })?;
        map.insert(column.name().to_string(), value);
    }
    Ok(map)
}

fn cell(row: &MySqlRow, index: usize) -> Result<Value, sqlx::Error> {
    let raw = row.try_get_raw(index)?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let type_name = raw.type_info().name().to_string();
    let value = match type_name.as_str() {
        "BOOLEAN" => Value::Bool(row.try_get(index)?),
        "TINYINT" | "SMALLINT" | "INT" | "MEDIUMINT" | "BIGINT" | "YEAR" => {
            Value::from(row.try_get_unchecked::<i64, _>(index)?)
        }
        name if name.ends_with("UNSIGNED") => Value::from(row.try_get_unchecked::<u64, _>(index)?),
        "FLOAT" => float(f64::from(row.try_get::<f32, _>(index)?)),
        "DOUBLE" => float(row.try_get::<f64, _>(index)?),
        "DECIMAL" => decimal_number(&row.try_get::<BigDecimal, _>(index)?),
        "JSON" => row.try_get::<sqlx::types::Json<Value>, _>(index)?.0,
        "TIMESTAMP" => Value::String(
            row.try_get::<DateTime<Utc>, _>(index)?
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        ),
        "DATETIME" => Value::String(
            row.try_get::<NaiveDateTime, _>(index)?
                .format("%Y-%m-%dT%H:%M:%S%.f")
                .to_string(),
        ),
        "DATE" => Value::String(row.try_get::<NaiveDate, _>(index)?.to_string()),
        "TIME" => Value::String(row.try_get::<NaiveTime, _>(index)?.to_string()),
        "BINARY" | "VARBINARY" | "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB" | "BIT" => {
            binary_or_text(row.try_get_unchecked::<Vec<u8>, _>(index)?)
        }
        _ => Value::String(row.try_get_unchecked::<String, _>(index)?),
    };
    Ok(value)
}

/// MySQL flags `_bin`-collated text as binary, and MariaDB's JSON columns are such text, so
/// bytes that are UTF-8 are text (JSON when they hold a JSON object or list); other bytes are
/// base64.
fn binary_or_text(bytes: Vec<u8>) -> Value {
    match String::from_utf8(bytes) {
        Ok(text) => {
            let trimmed = text.trim_start();
            if (trimmed.starts_with('{') || trimmed.starts_with('['))
                && let Ok(json) = serde_json::from_str::<Value>(&text)
            {
                return json;
            }
            Value::String(text)
        }
        Err(err) => {
            Value::String(base64::engine::general_purpose::STANDARD.encode(err.into_bytes()))
        }
    }
}

fn float(f: f64) -> Value {
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}
