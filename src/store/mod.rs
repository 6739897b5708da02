//! PostgreSQL access for every role: one pool, the migrations (applied under an advisory lock),
//! the TimescaleDB-or-plain storage path, the writes of the run lifecycle (queued, running,
//! finished) and retention. Roles call [`Store`]; nothing else in the crate writes to the
//! database (the read API in src/api reads these tables with its own queries).

mod error;
mod migrate;
mod payload;
mod retention;
mod runs;
mod steps;
mod timescale;

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

pub use error::StoreError;
pub use payload::truncate_payload;
pub use retention::{Retention, RetentionOutcome};
pub use runs::{FinishedRun, QueuedInsert, RejectedRun, RunRecord, StartedRun};
pub use timescale::StorageMode;

/// How a role's store behaves; the flags of the roles fill it in.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Most connections the pool opens.
    pub max_connections: u32,
    /// Largest request or response JSON kept per step; longer ones are cut with a marker.
    pub max_payload_bytes: usize,
    /// Executions, steps and metrics older than this are deleted.
    pub retention_days: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            max_payload_bytes: 64 * 1024,
            retention_days: 30,
        }
    }
}

/// The database of TestMesh, shared by every task of a role (cheap to clone).
#[derive(Debug, Clone)]
pub struct Store {
    pool: PgPool,
    options: StoreOptions,
}

impl Store {
    /// Opens a pool on `database_url`. It connects lazily, so a role can start (and report
    /// itself not ready) while PostgreSQL is away.
    pub fn connect_lazy(database_url: &str, options: StoreOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy(database_url)
            .map_err(|source| StoreError::Connect { source })?;
        Ok(Self { pool, options })
    }

    /// Opens a pool and checks that the database answers.
    pub async fn connect(database_url: &str, options: StoreOptions) -> Result<Self, StoreError> {
        let store = Self::connect_lazy(database_url, options)?;
        store.ping().await?;
        Ok(store)
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn options(&self) -> &StoreOptions {
        &self.options
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(|source| StoreError::Connect { source })
    }

    /// Applies the migrations and sets up the storage path, under an advisory lock so that
    /// roles starting together take turns. Safe to call at every start.
    pub async fn migrate(&self) -> Result<StorageMode, StoreError> {
        migrate::migrate(&self.pool, self.options.retention_days).await
    }
}
