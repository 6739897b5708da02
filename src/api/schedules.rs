//! `GET /schedules`: the schedules with their next run times, from the catalog.

use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::scope::Scoped;

/// A TestSchedule.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    pub namespace: String,
    pub name: String,
    /// Cron expressions (empty when only the store is known: it does not keep them).
    pub schedules: Vec<String>,
    pub time_zone: Option<String>,
    pub suspended: bool,
    /// The TestFlow it runs.
    pub flow: String,
    /// The next times it will run (empty when unknown).
    pub next_runs: Vec<DateTime<Utc>>,
    pub last_schedule_time: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleList {
    pub items: Vec<Schedule>,
}

#[utoipa::path(get, path = "/api/v1/schedules", tag = "definitions",
    responses((status = 200, body = ScheduleList), (status = 401, body = ErrorBody)))]
pub async fn list(Scoped(state): Scoped) -> Result<Json<ScheduleList>, ApiError> {
    let items = state.catalog.schedules(&state.scope).await?;
    Ok(Json(ScheduleList { items }))
}
