//! `GET /flaky`: flows whose result keeps flipping. Over a window, for each flow with at least
//! two finished runs (cancelled ones do not count): the transition rate is the share of
//! consecutive runs whose outcome (passed or not) differs, and
//! flakiness = transition rate × (1 − 2·|pass rate − 0.5|). A flow that always fails or always
//! passes scores 0; one that alternates every run scores 1. Flaky at 0.10 or above.

use axum::Json;
use chrono::{Duration, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::app::AppState;
use super::error::{ApiError, ErrorBody};
use super::params::QueryParams;
use super::scope::Scoped;

/// The flakiness at and above which a flow is flaky.
pub const FLAKY_THRESHOLD: f64 = 0.10;

/// A flow's flakiness over the window.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FlakyFlow {
    pub namespace: String,
    pub flow_name: String,
    pub runs: i64,
    pub pass_rate: f64,
    pub transition_rate: f64,
    pub flakiness: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FlakyReport {
    pub threshold: f64,
    /// Flaky flows, flakiest first.
    pub items: Vec<FlakyFlow>,
}

/// transition rate × (1 − 2·|pass rate − 0.5|).
pub fn flakiness(pass_rate: f64, transition_rate: f64) -> f64 {
    transition_rate * (1.0 - 2.0 * (pass_rate - 0.5).abs())
}

#[utoipa::path(get, path = "/api/v1/flaky", tag = "trends",
    params(
        ("window" = Option<String>, Query, description = "How far back, such as 7d or 24h (default 7d)"),
        ("namespace" = Option<String>, Query, description = "Only this namespace"),
    ),
    responses((status = 200, body = FlakyReport), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn get(
    Scoped(state): Scoped,
    params: QueryParams,
) -> Result<Json<FlakyReport>, ApiError> {
    let namespace = params.text("namespace");
    state.scope.check_filter(namespace)?;
    let window = params.window("window", Duration::days(7))?;
    let items = flaky_flows(&state, namespace, window).await?;
    Ok(Json(FlakyReport {
        threshold: FLAKY_THRESHOLD,
        items,
    }))
}

/// The flaky flows that finished runs in the last `window`, flakiest first.
pub async fn flaky_flows(
    state: &AppState,
    namespace: Option<&str>,
    window: Duration,
) -> Result<Vec<FlakyFlow>, ApiError> {
    let rows: Vec<(String, String, i64, f64, f64)> = sqlx::query_as(
        "WITH ordered AS ( \
           SELECT namespace, flow_name, status = 'passed' AS passed, \
             lag(status = 'passed') OVER (PARTITION BY namespace, flow_name ORDER BY time) \
               AS previous \
           FROM metrics.run_metrics \
           WHERE time >= $1 AND status <> 'cancelled' \
             AND ($2::text IS NULL OR namespace = $2) \
             AND ($3::text[] IS NULL OR namespace = ANY($3))) \
         SELECT namespace, flow_name, count(*) AS runs, \
           avg(CASE WHEN passed THEN 1.0 ELSE 0.0 END)::float8 AS pass_rate, \
           (count(*) FILTER (WHERE previous IS DISTINCT FROM passed AND previous IS NOT NULL))::float8 \
             / (count(*) - 1) AS transition_rate \
         FROM ordered GROUP BY namespace, flow_name HAVING count(*) >= 2",
    )
    .bind(Utc::now() - window)
    .bind(namespace)
    .bind(state.scope.sql())
    .fetch_all(state.store.pool())
    .await
    .map_err(ApiError::query("compute flakiness"))?;
    let mut items: Vec<FlakyFlow> = rows
        .into_iter()
        .map(
            |(namespace, flow_name, runs, pass_rate, transition_rate)| FlakyFlow {
                namespace,
                flow_name,
                runs,
                pass_rate,
                transition_rate,
                flakiness: flakiness(pass_rate, transition_rate),
            },
        )
        .filter(|flow| flow.flakiness >= FLAKY_THRESHOLD)
        .collect();
    items.sort_by(|a, b| {
        b.flakiness
            .total_cmp(&a.flakiness)
            .then_with(|| (&a.namespace, &a.flow_name).cmp(&(&b.namespace, &b.flow_name)))
    });
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_flows_score_zero_and_alternating_ones_score_one() {
        assert_eq!(flakiness(1.0, 0.0), 0.0);
        assert_eq!(flakiness(0.0, 0.0), 0.0);
        assert_eq!(flakiness(0.5, 1.0), 1.0);
        let one_blip = flakiness(0.9, 2.0 / 9.0);
        assert!(one_blip > 0.04 && one_blip < FLAKY_THRESHOLD, "{one_blip}");
    }
}
