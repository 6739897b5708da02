//! Readiness of `testmesh api`: the migrations are applied (under the store's advisory lock)
//! as soon as PostgreSQL answers, and `/readyz` stays false until then and whenever PostgreSQL
//! stops answering. Redis's state is shown as a detail: without it only live events fail.

use std::time::Duration;

use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::live::LiveSource;
use crate::store::Store;
use crate::telemetry::Health;

/// How often the dependencies are checked.
const EVERY: Duration = Duration::from_secs(5);

/// Applies the migrations once PostgreSQL answers, then keeps `health` up to date until `stop`.
pub async fn watch_readiness(
    store: Store,
    live: Option<LiveSource>,
    health: Health,
    stop: CancellationToken,
) {
    health.set_ready(false);
    loop {
        match store.migrate().await {
            Ok(mode) => {
                tracing::info!(storage = mode.as_str(), "migrations applied");
                health.set_detail("storage", json!(mode.as_str()));
                break;
            }
            Err(err) => {
                tracing::warn!(error = %err, "PostgreSQL is not ready; trying again");
                health.set_detail("postgres", json!(err.to_string()));
            }
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(EVERY) => {}
        }
    }
    loop {
        let postgres = store.ping().await;
        health.set_detail(
            "postgres",
            json!(
                postgres
                    .as_ref()
                    .map_or_else(|e| e.to_string(), |()| "ok".into())
            ),
        );
        health.set_ready(postgres.is_ok());
        if let Some(live) = &live {
            let redis = live.ping().await;
            health.set_detail(
                "redis",
                json!(redis.map_or_else(|e| e.to_string(), |()| "ok".into())),
            );
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}
