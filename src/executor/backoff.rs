//! Retrying an operation on PostgreSQL or Redis with exponential backoff, reporting the
//! dependency not ready while it fails, until it succeeds or the executor is told to stop.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::readiness::{Dependency, Readiness};

const FIRST_DELAY: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_secs(5);

/// Runs `operation` until it succeeds (`Some`) or `stop` is cancelled (`None`).
pub async fn retry<T, E: Display, F, Fut>(
    what: &str,
    dependency: Dependency,
    readiness: &Readiness,
    stop: &CancellationToken,
    mut operation: F,
) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut delay = FIRST_DELAY;
    loop {
        match operation().await {
            Ok(value) => {
                readiness.report(dependency, None);
                return Some(value);
            }
            Err(err) => {
                let message = err.to_string();
                tracing::warn!(error = %message, retry_in_ms = delay.as_millis() as u64, "cannot {what}");
                readiness.report(dependency, Some(&message));
            }
        }
        tokio::select! {
            () = stop.cancelled() => return None,
            () = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(MAX_DELAY);
    }
}
