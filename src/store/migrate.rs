//! Migrations under a PostgreSQL advisory lock: the first role to start applies them and sets
//! up the storage path while the others wait, then they all find nothing left to do.

use sqlx::PgPool;
use sqlx::migrate::Migrator;

use super::error::StoreError;
use super::timescale::{self, StorageMode};

/// The advisory lock key of TestMesh's migrations ("testmesh" in ASCII, as a number).
const MIGRATION_LOCK: i64 = 0x7465_7374_6d65_7368;

/// Applies every pending migration, then the TimescaleDB or plain setup, holding the lock.
pub async fn migrate(pool: &PgPool, retention_days: u32) -> Result<StorageMode, StoreError> {
    let mut conn = pool
        .acquire()
        .await
        .map_err(|source| StoreError::Connect { source })?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await
        .map_err(StoreError::query("take the migration lock"))?;
    let outcome = migrate_locked(&mut conn, retention_days).await;
    let unlock = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await;
    let mode = outcome?;
    unlock.map_err(StoreError::query("release the migration lock"))?;
    Ok(mode)
}

async fn migrate_locked(
    conn: &mut sqlx::PgConnection,
    retention_days: u32,
) -> Result<StorageMode, StoreError> {
    let mut migrator: Migrator = sqlx::migrate!("./migrations");
    migrator.set_locking(false);
    migrator
        .run(&mut *conn)
        .await
        .map_err(|source| StoreError::Migrate { source })?;
    timescale::set_up(conn, retention_days).await
}
