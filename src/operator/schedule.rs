//! Schedule math, pure and without I/O: parsing cron expressions (5 fields, 6 with seconds
//! first, or descriptors such as `@hourly`) in an IANA time zone, the next run times, which run
//! is due now, and the deterministic run id of a scheduled run.
//!
//! The rules users can rely on:
//! - a missed tick is caught up at most once, and only within `startingDeadlineSeconds`;
//! - ticks count from `since` (the schedule's creation, last edit or resume), so editing or
//!   resuming a schedule never fires a run for a past time;
//! - daylight saving time follows croner: a fixed-time job whose wall-clock time falls in a
//!   spring-forward gap runs at the first instant after the gap, a fixed-time job in a fall-back
//!   overlap runs once (at the earlier instant), and an interval job runs at both instants.

use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use croner::Cron;

use crate::resources::TestScheduleSpec;

/// Why a schedule cannot be used; names the field and the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("{field}: cron expression {value:?} does not parse: {reason}")]
    Cron {
        field: String,
        value: String,
        reason: String,
    },
    #[error("spec.timeZone: {value:?} is not an IANA time zone (such as Europe/Berlin or UTC)")]
    UnknownZone { value: String },
    #[error("spec.schedule: set a cron expression in schedule or schedules")]
    Empty,
}

/// Parsed cron expressions and the zone they are read in.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    crons: Vec<Cron>,
    zone: Tz,
}

/// What is due at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// No tick since the last one handled.
    Nothing,
    /// Run for this scheduled time.
    Run(DateTime<Utc>),
    /// The latest tick is older than the starting deadline: skip it, run nothing.
    Missed(DateTime<Utc>),
}

impl CronSchedule {
    /// Parses `expressions`, reporting the field of the one that fails (`spec.schedule` when
    /// `single`, `spec.schedules[i]` otherwise), and the zone.
    pub fn parse(expressions: &[String], single: bool, zone: &str) -> Result<Self, ScheduleError> {
        let zone = Tz::from_str(zone.trim()).map_err(|_| ScheduleError::UnknownZone {
            value: zone.to_string(),
        })?;
        if expressions.is_empty() {
            return Err(ScheduleError::Empty);
        }
        let crons = expressions
            .iter()
            .enumerate()
            .map(|(index, expression)| {
                let field = if single {
                    "spec.schedule".to_string()
                } else {
                    format!("spec.schedules[{index}]")
                };
                parse_cron(expression).map_err(|reason| ScheduleError::Cron {
                    field,
                    value: expression.clone(),
                    reason,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { crons, zone })
    }

    /// The first `n` run times strictly after `after`, in order, without duplicates.
    pub fn next_runs(&self, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut runs = Vec::with_capacity(n);
        let mut cursor = after;
        while runs.len() < n {
            let Some(next) = self.next_after(cursor) else {
                break;
            };
            runs.push(next);
            cursor = next;
        }
        runs
    }

    /// The earliest run time strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = after.with_timezone(&self.zone);
        self.crons
            .iter()
            .filter_map(|cron| cron.find_next_occurrence(&local, false).ok())
            .map(|t| t.with_timezone(&Utc))
            .min()
    }

    /// The latest run time at or before `at`.
    pub fn latest_at_or_before(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = at.with_timezone(&self.zone);
        self.crons
            .iter()
            .filter_map(|cron| cron.find_previous_occurrence(&local, true).ok())
            .map(|t| t.with_timezone(&Utc))
            .max()
    }

    /// Which run is due at `now`, given the last scheduled time handled and the time ticks
    /// count from (`since`: creation, last edit or resume). Only the latest tick in
    /// `(max(last, since), now]` can run, so a missed run is caught up at most once; when it is
    /// older than `deadline` it is skipped.
    pub fn due(
        &self,
        last: Option<DateTime<Utc>>,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
        deadline: Option<Duration>,
    ) -> Due {
        let floor = last.map_or(since, |last| last.max(since));
        match self.latest_at_or_before(now) {
            Some(tick) if tick > floor => match deadline {
                Some(deadline) if now - tick > deadline => Due::Missed(tick),
                _ => Due::Run(tick),
            },
            _ => Due::Nothing,
        }
    }
}

/// Checks a TestSchedule spec as written in a file: its shape (the CRD's rules: exactly one of
/// schedule and schedules, exactly one of flowRef and flowSelector), its cron expressions and
/// its time zone. Each problem comes with the JSON pointer below `spec` it is about.
pub fn check_manifest_spec(spec: &serde_json::Value) -> Vec<(String, String)> {
    let parsed: TestScheduleSpec = match serde_json::from_value(spec.clone()) {
        Ok(parsed) => parsed,
        Err(err) => return vec![(String::new(), format!("spec: {err}"))],
    };
    let mut problems = Vec::new();
    if parsed.schedule.is_some() == parsed.schedules.is_some() {
        problems.push((
            String::new(),
            "spec: set exactly one of schedule and schedules".to_string(),
        ));
    }
    if parsed.flow_ref.is_some() == parsed.flow_selector.is_some() {
        problems.push((
            String::new(),
            "spec: set exactly one of flowRef and flowSelector".to_string(),
        ));
    }
    if let Err(err) = CronSchedule::parse(
        &parsed.expressions(),
        parsed.schedule.is_some(),
        parsed.zone(),
    ) {
        let pointer = match &err {
            ScheduleError::Cron { field, .. } => field
                .trim_start_matches("spec.")
                .replace('[', "/")
                .replace(']', ""),
            ScheduleError::UnknownZone { .. } => "timeZone".into(),
            ScheduleError::Empty => String::new(),
        };
        let pointer = if pointer.is_empty() {
            pointer
        } else {
            format!("/{pointer}")
        };
        problems.push((pointer, err.to_string()));
    }
    problems
}

/// The run id of a scheduled run: the same schedule and time always give the same id, so a
/// second replica, a restart or a retry cannot enqueue the run twice.
pub fn run_id(schedule_uid: &str, scheduled: DateTime<Utc>) -> String {
    let short: String = schedule_uid
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(8)
        .collect();
    format!("sch-{short}-{}", scheduled.timestamp())
}

/// Parses one expression: 5 fields (minute first), 6 (seconds first) or a descriptor.
fn parse_cron(expression: &str) -> Result<Cron, String> {
    let text = expression.trim();
    if !text.starts_with('@') {
        let fields = text.split_whitespace().count();
        if !(5..=6).contains(&fields) {
            return Err(format!(
                "expected 5 fields (minute hour day-of-month month day-of-week), 6 with seconds first, or a descriptor such as @hourly; found {fields}"
            ));
        }
    }
    Cron::from_str(text).map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn schedule(expression: &str, zone: &str) -> CronSchedule {
        CronSchedule::parse(&[expression.to_string()], true, zone).unwrap()
    }

    fn texts(times: &[DateTime<Utc>]) -> Vec<String> {
        times.iter().map(|t| t.to_rfc3339()).collect()
    }

    #[test]
    fn five_and_six_fields_and_descriptors() {
        let after = utc("2026-01-01T00:00:00Z");
        assert_eq!(
            texts(&schedule("*/15 * * * *", "UTC").next_runs(after, 2)),
            ["2026-01-01T00:15:00+00:00", "2026-01-01T00:30:00+00:00"]
        );
        assert_eq!(
            texts(&schedule("30 0 12 * * *", "UTC").next_runs(after, 1)),
            ["2026-01-01T12:00:30+00:00"]
        );
        assert_eq!(
            texts(&schedule("@hourly", "UTC").next_runs(after, 1)),
            ["2026-01-01T01:00:00+00:00"]
        );
        assert_eq!(
            texts(&schedule("@daily", "Europe/Berlin").next_runs(after, 1)),
            ["2026-01-01T23:00:00+00:00"]
        );
        assert_eq!(
            texts(&schedule("@weekly", "UTC").next_runs(after, 1)),
            ["2026-01-04T00:00:00+00:00"]
        );
    }

    #[test]
    fn several_expressions_merge_in_order() {
        let both =
            CronSchedule::parse(&["0 9 * * *".into(), "0 7 * * *".into()], false, "UTC").unwrap();
        assert_eq!(
            texts(&both.next_runs(utc("2026-01-01T08:00:00Z"), 3)),
            [
                "2026-01-01T09:00:00+00:00",
                "2026-01-02T07:00:00+00:00",
                "2026-01-02T09:00:00+00:00"
            ]
        );
    }

    #[test]
    fn bad_cron_and_unknown_zone_name_the_field_and_value() {
        let err = CronSchedule::parse(&["61 * * * *".into()], true, "UTC").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("spec.schedule: cron expression \"61 * * * *\""),
            "{text}"
        );
        let err = CronSchedule::parse(&["@hourly".into(), "* * *".into()], false, "UTC")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("spec.schedules[1]: cron expression \"* * *\""),
            "{err}"
        );
        assert!(err.contains("found 3"), "{err}");
        let err = CronSchedule::parse(&["* * * * * * 2030".into()], true, "UTC")
            .unwrap_err()
            .to_string();
        assert!(err.contains("found 7"), "{err}");
        let err = CronSchedule::parse(&["@hourly".into()], true, "Mars/Olympus_Mons")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "spec.timeZone: \"Mars/Olympus_Mons\" is not an IANA time zone (such as Europe/Berlin or UTC)"
        );
    }

    #[test]
    fn new_york_spring_forward_gap_runs_once_after_the_gap() {
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist that day.
        let daily = schedule("30 2 * * *", "America/New_York");
        assert_eq!(
            texts(&daily.next_runs(utc("2026-03-07T12:00:00Z"), 3)),
            [
                "2026-03-08T07:00:00+00:00", // 03:00 EDT, the first instant after the gap
                "2026-03-09T06:30:00+00:00", // 02:30 EDT
                "2026-03-10T06:30:00+00:00"
            ]
        );
        // An hourly job simply has no 02:00 that night.
        let hourly = schedule("0 * * * *", "America/New_York");
        assert_eq!(
            texts(&hourly.next_runs(utc("2026-03-08T05:30:00Z"), 3)),
            [
                "2026-03-08T06:00:00+00:00", // 01:00 EST
                "2026-03-08T07:00:00+00:00", // 03:00 EDT
                "2026-03-08T08:00:00+00:00"
            ]
        );
    }

    #[test]
    fn new_york_fall_back_overlap_runs_a_fixed_job_once_and_an_interval_job_twice() {
        // 2026-11-01: 02:00 EDT falls back to 01:00 EST; 01:00–01:59 happens twice.
        let daily = schedule("30 1 * * *", "America/New_York");
        assert_eq!(
            texts(&daily.next_runs(utc("2026-10-31T12:00:00Z"), 2)),
            ["2026-11-01T05:30:00+00:00", "2026-11-02T06:30:00+00:00"]
        );
        let half_hourly = schedule("*/30 * * * *", "America/New_York");
        assert_eq!(
            texts(&half_hourly.next_runs(utc("2026-11-01T04:45:00Z"), 4)),
            [
                "2026-11-01T05:00:00+00:00",
                "2026-11-01T05:30:00+00:00",
                "2026-11-01T06:00:00+00:00",
                "2026-11-01T06:30:00+00:00"
            ]
        );
    }

    #[test]
    fn berlin_gap_and_overlap() {
        // 2026-03-29: 02:00 CET jumps to 03:00 CEST.
        let gap = schedule("15 2 * * *", "Europe/Berlin");
        assert_eq!(
            texts(&gap.next_runs(utc("2026-03-28T12:00:00Z"), 2)),
            ["2026-03-29T01:00:00+00:00", "2026-03-30T00:15:00+00:00"]
        );
        // 2026-10-25: 03:00 CEST falls back to 02:00 CET.
        let overlap = schedule("15 2 * * *", "Europe/Berlin");
        assert_eq!(
            texts(&overlap.next_runs(utc("2026-10-24T12:00:00Z"), 2)),
            ["2026-10-25T00:15:00+00:00", "2026-10-26T01:15:00+00:00"]
        );
    }

    #[test]
    fn sydney_gap_and_overlap() {
        // 2026-04-05: 03:00 AEDT falls back to 02:00 AEST.
        let overlap = schedule("30 2 * * *", "Australia/Sydney");
        assert_eq!(
            texts(&overlap.next_runs(utc("2026-04-04T00:00:00Z"), 2)),
            ["2026-04-04T15:30:00+00:00", "2026-04-05T16:30:00+00:00"]
        );
        // 2026-10-04: 02:00 AEST jumps to 03:00 AEDT.
        let gap = schedule("30 2 * * *", "Australia/Sydney");
        assert_eq!(
            texts(&gap.next_runs(utc("2026-10-03T00:00:00Z"), 2)),
            ["2026-10-03T16:00:00+00:00", "2026-10-04T15:30:00+00:00"]
        );
    }

    #[test]
    fn a_missed_run_is_caught_up_once_within_the_deadline() {
        let hourly = schedule("0 * * * *", "UTC");
        let since = utc("2026-01-01T00:00:00Z");
        let last = Some(utc("2026-01-01T01:00:00Z"));
        // Down from 01:30 to 04:10: 02:00, 03:00 and 04:00 were missed; only 04:00 runs.
        let now = utc("2026-01-01T04:10:00Z");
        assert_eq!(
            hourly.due(last, since, now, Some(Duration::minutes(15))),
            Due::Run(utc("2026-01-01T04:00:00Z"))
        );
        // Beyond the deadline the latest tick is skipped too.
        assert_eq!(
            hourly.due(last, since, now, Some(Duration::minutes(5))),
            Due::Missed(utc("2026-01-01T04:00:00Z"))
        );
        // Once 04:00 is handled, nothing more is due until 05:00.
        let handled = Some(utc("2026-01-01T04:00:00Z"));
        assert_eq!(hourly.due(handled, since, now, None), Due::Nothing);
    }

    #[test]
    fn editing_or_resuming_never_fires_a_past_time() {
        let hourly = schedule("0 * * * *", "UTC");
        // The schedule was edited (or resumed) at 04:10; its last run was at 01:00.
        let since = utc("2026-01-01T04:10:00Z");
        let last = Some(utc("2026-01-01T01:00:00Z"));
        assert_eq!(
            hourly.due(last, since, utc("2026-01-01T04:20:00Z"), None),
            Due::Nothing
        );
        assert_eq!(
            hourly.due(last, since, utc("2026-01-01T05:00:00Z"), None),
            Due::Run(utc("2026-01-01T05:00:00Z"))
        );
        // A new schedule does not run for the tick just before it was created.
        assert_eq!(
            hourly.due(None, since, utc("2026-01-01T04:30:00Z"), None),
            Due::Nothing
        );
    }

    #[test]
    fn a_manifest_spec_is_checked_for_shape_cron_and_zone_with_pointers() {
        let good = serde_json::json!({"schedule": "@hourly", "timeZone": "Europe/Berlin",
                                      "flowRef": {"name": "orders"}});
        assert!(check_manifest_spec(&good).is_empty());
        let bad = serde_json::json!({"schedules": ["@hourly", "0 25 * * *"],
                                     "flowRef": {"name": "a"}, "flowSelector": {}});
        let problems = check_manifest_spec(&bad);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(
            problems[0].1,
            "spec: set exactly one of flowRef and flowSelector"
        );
        assert_eq!(problems[1].0, "/schedules/1");
        assert!(
            problems[1]
                .1
                .starts_with("spec.schedules[1]: cron expression \"0 25 * * *\"")
        );
        let zone = serde_json::json!({"schedule": "@daily", "timeZone": "Nowhere/City",
                                      "flowRef": {"name": "a"}});
        assert_eq!(check_manifest_spec(&zone)[0].0, "/timeZone");
    }

    #[test]
    fn run_ids_are_deterministic_and_differ_per_instant() {
        let uid = "4f1c2a9e-1111-2222-3333-444455556666";
        let t = utc("2026-11-01T05:30:00Z");
        assert_eq!(run_id(uid, t), "sch-4f1c2a9e-1793511000");
        assert_eq!(run_id(uid, t), run_id(uid, t));
        // Both instants of an ambiguous wall-clock time get their own id.
        assert_ne!(run_id(uid, t), run_id(uid, utc("2026-11-01T06:30:00Z")));
    }
}
