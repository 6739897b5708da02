//! PostgreSQL: runs one statement on a pool and turns its rows into JSON with the column types
//! kept: integers and numerics as numbers, `json`/`jsonb` as JSON, timestamps as RFC 3339 text,
//! `bytea` as base64, arrays as lists, NULL as null.

use base64::Engine;
use futures::TryStreamExt;
use serde_json::{Map, Value};
use sqlx::postgres::{PgPool, PgRow, PgTypeKind};
use sqlx::types::BigDecimal;
use sqlx::types::chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use sqlx::{AssertSqlSafe, Column, Either, Executor, Row, TypeInfo, ValueRef};

use super::params::bind_postgres;
use super::{Outcome, decimal_number};

/// Runs `query` with `params`; returns its rows and the rows it changed.
pub async fn run(pool: &PgPool, query: &str, params: &[Value]) -> Result<Outcome, String> {
    let statement = bind_postgres(sqlx::query(AssertSqlSafe(query.to_string())), params);
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

fn row_to_json(row: &PgRow) -> Result<Map<String, Value>, String> {
    let mut map = Map::new();
    for (index, column) in row.columns().iter().enumerate() {
        let value = cell(row, index).map_err(|err| {
            format!(
                "column `{}` ({}): {err}; cast it in the query, e.g. `{}::text`",
                column.name(),
                column.type_info().name(),
                column.name()
            )
        })?;
        map.insert(column.name().to_string(), value);
    }
    Ok(map)
}

fn cell(row: &PgRow, index: usize) -> Result<Value, sqlx::Error> {
    let raw = row.try_get_raw(index)?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let type_info = raw.type_info().into_owned();
    let value = match type_info.name() {
        "BOOL" => Value::Bool(row.try_get(index)?),
        "INT2" => Value::from(row.try_get::<i16, _>(index)?),
        "INT4" => Value::from(row.try_get::<i32, _>(index)?),
        "INT8" => Value::from(row.try_get::<i64, _>(index)?),
        "OID" => Value::from(row.try_get::<sqlx::postgres::types::Oid, _>(index)?.0),
        "FLOAT4" => float(f64::from(row.try_get::<f32, _>(index)?)),
        "FLOAT8" => float(row.try_get::<f64, _>(index)?),
        "NUMERIC" => decimal_number(&row.try_get::<BigDecimal, _>(index)?),
        "JSON" | "JSONB" => row.try_get::<sqlx::types::Json<Value>, _>(index)?.0,
        "TIMESTAMPTZ" => Value::String(
            row.try_get::<DateTime<Utc>, _>(index)?
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        ),
        "TIMESTAMP" => Value::String(
            row.try_get::<NaiveDateTime, _>(index)?
                .format("%Y-%m-%dT%H:%M:%S%.f")
                .to_string(),
        ),
        "DATE" => Value::String(row.try_get::<NaiveDate, _>(index)?.to_string()),
        "TIME" => Value::String(row.try_get::<NaiveTime, _>(index)?.to_string()),
        "UUID" => Value::String(row.try_get::<sqlx::types::Uuid, _>(index)?.to_string()),
        "BYTEA" => Value::String(
            base64::engine::general_purpose::STANDARD.encode(row.try_get::<Vec<u8>, _>(index)?),
        ),
        "BOOL[]" => list(row.try_get::<Vec<Option<bool>>, _>(index)?),
        "INT2[]" => list(row.try_get::<Vec<Option<i16>>, _>(index)?),
        "INT4[]" => list(row.try_get::<Vec<Option<i32>>, _>(index)?),
        "INT8[]" => list(row.try_get::<Vec<Option<i64>>, _>(index)?),
        "FLOAT8[]" => list(row.try_get::<Vec<Option<f64>>, _>(index)?),
        "TEXT[]" | "VARCHAR[]" => list(row.try_get::<Vec<Option<String>>, _>(index)?),
        "JSONB[]" | "JSON[]" => Value::Array(
            row.try_get::<Vec<sqlx::types::Json<Value>>, _>(index)?
                .into_iter()
                .map(|json| json.0)
                .collect(),
        ),
        _ if matches!(type_info.kind(), PgTypeKind::Enum(_)) => {
            let text = std::str::from_utf8(raw.as_bytes().map_err(sqlx::Error::Decode)?)
                .map_err(|err| sqlx::Error::Decode(Box::new(err)))?;
            Value::String(text.to_string())
        }
        _ => Value::String(row.try_get_unchecked::<String, _>(index)?),
    };
    Ok(value)
}

fn float(f: f64) -> Value {
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

fn list<T: Into<Value>>(items: Vec<Option<T>>) -> Value {
    Value::Array(
        items
            .into_iter()
            .map(|item| item.map_or(Value::Null, Into::into))
            .collect(),
    )
}
