//! What can go wrong talking to PostgreSQL, with what the store was doing at the time.

/// An error of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot reach PostgreSQL: {source}")]
    Connect {
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot apply the migrations: {source}")]
    Migrate {
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    #[error("cannot {what}: {source}")]
    Query {
        what: &'static str,
        #[source]
        source: sqlx::Error,
    },
}

impl StoreError {
    pub(crate) fn query(what: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| StoreError::Query { what, source }
    }
}
