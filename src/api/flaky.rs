//! `GET /flaky`: flows whose result keeps flipping. Over a window, for each flow with at least
//! two finished runs (cancelled ones do not count): the transition rate is the share of
//! consecutive runs whose outcome (passed or not) differs, and
//! flakiness = transition rate × (1 − 2·|pass rate − 0.5|). A flow that always fails or always
//! passes scores 0; one that alternates every run scores 1. Flaky at 0.10 or above.

use axum::Json;
use chrono::{DateTime, Duration, DurationRound, Utc};
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
///
/// Read from the flip rollups (`metrics.flow_flips`, see migrations/0005_flip_rollup.sql): the
/// window's whole days, then its whole hours before the first of them, then its runs before the
/// first whole hour, one by one (found through the flows of that hour's rollup rows, by the
/// index on flow and time), chained in time order with a flip wherever one piece ends on
/// another outcome than the next begins with. The counts are those of every run in the window.
pub async fn flaky_flows(
    state: &AppState,
    namespace: Option<&str>,
    window: Duration,
) -> Result<Vec<FlakyFlow>, ApiError> {
    let from = Utc::now() - window;
    let first_hour = ceil_to(from, Duration::hours(1));
    let first_day = ceil_to(from, Duration::days(1));
    let rows: Vec<(String, String, i64, f64, f64)> = sqlx::query_as(
        "WITH pieces AS ( \
           SELECT h.namespace, h.flow_name, r.time AS start, 1::int8 AS runs, \
             (CASE WHEN r.status = 'passed' THEN 1 ELSE 0 END)::int8 AS passed, 0::int8 AS flips, \
             r.status = 'passed' AS first_passed, r.status = 'passed' AS last_passed \
           FROM metrics.flow_flips h \
           CROSS JOIN LATERAL (SELECT time, status FROM metrics.run_metrics \
             WHERE namespace = h.namespace AND flow_name = h.flow_name \
               AND time >= $1 AND time < $2 AND status <> 'cancelled') AS r \
           WHERE h.grain = 'hour' AND h.bucket = $2 - interval '1 hour' AND h.runs > 0 \
             AND ($4::text IS NULL OR h.namespace = $4) \
             AND ($5::text[] IS NULL OR h.namespace = ANY($5)) \
           UNION ALL \
           SELECT namespace, flow_name, bucket, runs, passed, flips, first_passed, last_passed \
           FROM metrics.flow_flips \
           WHERE ((grain = 'hour' AND bucket >= $2 AND bucket < $3) \
               OR (grain = 'day' AND bucket >= $3)) AND runs > 0 \
             AND ($4::text IS NULL OR namespace = $4) \
             AND ($5::text[] IS NULL OR namespace = ANY($5))), \
         chained AS ( \
           SELECT *, lag(last_passed) OVER (PARTITION BY namespace, flow_name \
             ORDER BY start, first_passed) AS previous \
           FROM pieces) \
         SELECT namespace, flow_name, sum(runs)::int8 AS runs, \
           sum(passed)::float8 / sum(runs)::float8 AS pass_rate, \
           (sum(flips) + count(*) FILTER (WHERE previous <> first_passed))::float8 \
             / (sum(runs) - 1)::float8 AS transition_rate \
         FROM chained GROUP BY namespace, flow_name HAVING sum(runs) >= 2",
    )
    .bind(from)
    .bind(first_hour)
    .bind(first_day)
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

/// The first multiple of `unit` (counted from the Unix epoch, so whole UTC hours and days) at or
/// after `time`.
fn ceil_to(time: DateTime<Utc>, unit: Duration) -> DateTime<Utc> {
    let start = time.duration_trunc(unit).unwrap_or(time);
    if start < time { start + unit } else { start }
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

    #[test]
    fn whole_pieces_of_a_window_start_at_the_next_hour_and_day() {
        let at = |text: &str| text.parse::<DateTime<Utc>>().unwrap();
        let from = at("2026-01-02T03:04:05Z");
        assert_eq!(
            ceil_to(from, Duration::hours(1)),
            at("2026-01-02T04:00:00Z")
        );
        assert_eq!(ceil_to(from, Duration::days(1)), at("2026-01-03T00:00:00Z"));
        let whole = at("2026-01-02T03:00:00Z");
        assert_eq!(ceil_to(whole, Duration::hours(1)), whole);
    }
}
