//! Query parameters, read by name so that a bad one answers a 400 that names it: RFC 3339
//! times, page sizes, sort order, time buckets, windows and lists of known values.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, Duration, Utc};

use super::error::ApiError;

/// Statuses a run can have.
pub const RUN_STATUSES: &[&str] = &[
    "queued",
    "running",
    "passed",
    "failed",
    "error",
    "cancelled",
    "timed_out",
];
/// What can start a run.
pub const TRIGGERS: &[&str] = &["schedule", "annotation", "change", "manual"];

/// The decoded query string of a request.
#[derive(Debug, Default, Clone)]
pub struct QueryParams(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        Ok(QueryParams(
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        ))
    }
}

/// Which way a list runs by queue time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Asc,
    Desc,
}

/// The width of a trend bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Hour,
    Day,
}

impl Bucket {
    /// The unit as PostgreSQL's date_trunc names it.
    pub fn unit(self) -> &'static str {
        match self {
            Bucket::Hour => "hour",
            Bucket::Day => "day",
        }
    }
}

impl QueryParams {
    #[cfg(test)]
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        QueryParams(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    /// The value of `name`; an empty value counts as absent.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.trim())
            .filter(|value| !value.is_empty())
    }

    /// An RFC 3339 instant such as `2026-01-15T09:00:00Z`.
    pub fn time(&self, name: &'static str) -> Result<Option<DateTime<Utc>>, ApiError> {
        self.text(name)
            .map(|text| {
                DateTime::parse_from_rfc3339(text)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|err| {
                        ApiError::bad(
                            name,
                            format!("expected an RFC 3339 time such as 2026-01-15T09:00:00Z, got {text:?} ({err})"),
                        )
                    })
            })
            .transpose()
    }

    /// `limit`: 1..=200, 50 when absent.
    pub fn limit(&self) -> Result<i64, ApiError> {
        let Some(text) = self.text("limit") else {
            return Ok(50);
        };
        match text.parse::<i64>() {
            Ok(n) if (1..=200).contains(&n) => Ok(n),
            _ => Err(ApiError::bad(
                "limit",
                format!("expected a whole number from 1 to 200, got {text:?}"),
            )),
        }
    }

    /// `sort`: `asc` or `desc` (newest first, the default). `queuedAt` and `-queuedAt` are
    /// accepted as the same two orders, as the dashboard writes them.
    pub fn sort(&self) -> Result<SortOrder, ApiError> {
        match self.text("sort") {
            None | Some("desc") | Some("-queuedAt") => Ok(SortOrder::Desc),
            Some("asc") | Some("queuedAt") => Ok(SortOrder::Asc),
            Some(other) => Err(ApiError::bad(
                "sort",
                format!("expected asc or desc, got {other:?}"),
            )),
        }
    }

    /// `bucket`: `hour` or `day`, `day` when absent.
    pub fn bucket(&self) -> Result<Bucket, ApiError> {
        match self.text("bucket") {
            None | Some("day") => Ok(Bucket::Day),
            Some("hour") => Ok(Bucket::Hour),
            Some(other) => Err(ApiError::bad(
                "bucket",
                format!("expected hour or day, got {other:?}"),
            )),
        }
    }

    /// A window such as `7d`, `24h` or `90m`, between one hour and 400 days.
    pub fn window(&self, name: &'static str, default: Duration) -> Result<Duration, ApiError> {
        let Some(text) = self.text(name) else {
            return Ok(default);
        };
        let bad = || {
            ApiError::bad(
                name,
                format!("expected a duration from 1h to 400d such as 7d or 24h, got {text:?}"),
            )
        };
        let parsed = humantime::parse_duration(text).map_err(|_| bad())?;
        let window = Duration::from_std(parsed).map_err(|_| bad())?;
        if window < Duration::hours(1) || window > Duration::days(400) {
            return Err(bad());
        }
        Ok(window)
    }

    /// A comma-separated list whose every item is one of `allowed`.
    pub fn one_of_list(
        &self,
        name: &'static str,
        allowed: &[&str],
    ) -> Result<Option<Vec<String>>, ApiError> {
        let Some(text) = self.text(name) else {
            return Ok(None);
        };
        let items: Vec<String> = text
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_string)
            .collect();
        if let Some(unknown) = items.iter().find(|item| !allowed.contains(&item.as_str())) {
            return Err(ApiError::bad(
                name,
                format!(
                    "unknown value {unknown:?}; expected one of {}",
                    allowed.join(", ")
                ),
            ));
        }
        Ok(Some(items))
    }
}

/// Checks that `from` is not after `to`, naming `from` when it is.
pub fn check_range(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Result<(), ApiError> {
    match (from, to) {
        (Some(from), Some(to)) if from > to => {
            Err(ApiError::bad("from", format!("{from} is after to ({to})")))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_outside_the_range_name_the_parameter() {
        let err = QueryParams::from_pairs(&[("limit", "0")])
            .limit()
            .unwrap_err();
        assert!(err.to_string().starts_with("limit:"), "{err}");
        assert_eq!(QueryParams::default().limit().unwrap(), 50);
        assert_eq!(
            QueryParams::from_pairs(&[("limit", "200")])
                .limit()
                .unwrap(),
            200
        );
    }

    #[test]
    fn times_are_rfc3339() {
        let params =
            QueryParams::from_pairs(&[("from", "2026-01-15T09:00:00+01:00"), ("to", "yesterday")]);
        assert_eq!(
            params.time("from").unwrap().unwrap().to_rfc3339(),
            "2026-01-15T08:00:00+00:00"
        );
        assert!(
            params
                .time("to")
                .unwrap_err()
                .to_string()
                .starts_with("to:")
        );
    }

    #[test]
    fn lists_reject_unknown_values_by_name() {
        let params = QueryParams::from_pairs(&[("status", "failed,weird")]);
        let err = params.one_of_list("status", RUN_STATUSES).unwrap_err();
        assert!(
            err.to_string().contains("status: unknown value \"weird\""),
            "{err}"
        );
    }

    #[test]
    fn windows_are_bounded() {
        let params = QueryParams::from_pairs(&[("window", "7d"), ("short", "5m")]);
        assert_eq!(
            params.window("window", Duration::days(1)).unwrap(),
            Duration::days(7)
        );
        assert!(params.window("short", Duration::days(1)).is_err());
    }
}
