//! The PostgreSQL flags shared by the roles that use the store (migrate, executor, and the
//! operator and api when they land).

use crate::store::StoreOptions;

#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// PostgreSQL URL, e.g. postgres://user:pass@host:5432/testmesh.
    #[arg(long, env = "TESTMESH_DATABASE_URL", hide_env_values = true)]
    pub database_url: String,
    /// Executions, steps and metrics older than this many days are deleted.
    #[arg(long, env = "TESTMESH_RETENTION_DAYS", default_value_t = 30)]
    pub retention_days: u32,
    /// Largest request or response JSON stored per step; longer ones are cut with a marker.
    #[arg(long, env = "TESTMESH_MAX_PAYLOAD_BYTES", default_value_t = 64 * 1024)]
    pub max_payload_bytes: usize,
}

impl StoreArgs {
    /// The store options for a pool of `max_connections`.
    pub fn options(&self, max_connections: u32) -> StoreOptions {
        StoreOptions {
            max_connections,
            max_payload_bytes: self.max_payload_bytes,
            retention_days: self.retention_days,
        }
    }
}
