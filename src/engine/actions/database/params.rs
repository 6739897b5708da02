//! Query parameters: JSON values from the step config bound with the SQL type their JSON type
//! implies (integer, float, boolean, text, JSON). A `null` goes out untyped in PostgreSQL so the
//! server infers the column's type.

use serde_json::Value;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo};
use sqlx::{Encode, MySql, Postgres, Type};

/// A PostgreSQL NULL whose type the server infers from where it is used.
struct UntypedNull;

impl Type<Postgres> for UntypedNull {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(0))
    }
}

impl Encode<'_, Postgres> for UntypedNull {
    fn encode_by_ref(&self, _buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Ok(IsNull::Yes)
    }
}

/// Binds each parameter to a PostgreSQL query.
pub fn bind_postgres<'q>(
    mut query: sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>,
    params: &[Value],
) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
    for param in params {
        query = match param {
            Value::Null => query.bind(UntypedNull),
            Value::Bool(b) => query.bind(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => query.bind(i),
                None => query.bind(n.as_f64().unwrap_or_default()),
            },
            Value::String(text) => query.bind(text.clone()),
            other => query.bind(sqlx::types::Json(other.clone())),
        };
    }
    query
}

/// Binds each parameter to a MySQL query.
pub fn bind_mysql<'q>(
    mut query: sqlx::query::Query<'q, MySql, sqlx::mysql::MySqlArguments>,
    params: &[Value],
) -> sqlx::query::Query<'q, MySql, sqlx::mysql::MySqlArguments> {
    for param in params {
        query = match param {
            Value::Null => query.bind(Option::<String>::None),
            Value::Bool(b) => query.bind(*b),
            Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => query.bind(i),
                (None, Some(u)) => query.bind(u),
                _ => query.bind(n.as_f64().unwrap_or_default()),
            },
            Value::String(text) => query.bind(text.clone()),
            other => query.bind(other.to_string()),
        };
    }
    query
}
