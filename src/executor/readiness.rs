//! Readiness of an executor: ready while both PostgreSQL and Redis answer. Each dependency's
//! last state is shown in the `/readyz` details.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;

use crate::telemetry::Health;

/// A dependency of the executor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dependency {
    Postgres,
    Redis,
}

impl Dependency {
    fn key(self) -> &'static str {
        match self {
            Dependency::Postgres => "postgres",
            Dependency::Redis => "redis",
        }
    }
}

/// Tracks both dependencies and sets the role's [`Health`].
#[derive(Debug, Clone)]
pub struct Readiness {
    health: Health,
    postgres: Arc<AtomicBool>,
    redis: Arc<AtomicBool>,
}

impl Readiness {
    pub fn new(health: Health) -> Self {
        Self {
            health,
            postgres: Arc::new(AtomicBool::new(false)),
            redis: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Records that `dependency` answered (`error` is `None`) or failed.
    pub fn report(&self, dependency: Dependency, error: Option<&str>) {
        let flag = match dependency {
            Dependency::Postgres => &self.postgres,
            Dependency::Redis => &self.redis,
        };
        let ok = error.is_none();
        if flag.swap(ok, Ordering::SeqCst) != ok || !ok {
            self.health.set_detail(
                dependency.key(),
                json!(error.map_or_else(|| "ok".to_string(), |e| format!("error: {e}"))),
            );
        }
        self.health
            .set_ready(self.postgres.load(Ordering::SeqCst) && self.redis.load(Ordering::SeqCst));
    }
}
