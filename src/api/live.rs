//! Live events over SSE, read from the Redis streams the executors write.
//!
//! **What executors publish** (the contract between `testmesh executor` and this module):
//! - `testmesh:events:{run_id}` — every event of one run; `testmesh:live` — the `started` and
//!   `finished` events of every run.
//! - Each stream entry has two fields: `event` (`started`, `step` or `finished`) and `data`, a
//!   JSON text. (`message` is read when `data` is absent: executors before this contract was
//!   followed wrote that name, and their entries stay in Redis for a day or until trimmed, and
//!   are still written during a rolling upgrade.)
//! - `step`: `{"runId", "stepIndex", "step"}` with `step` the engine's StepResult (every attempt,
//!   secrets masked); a `data` that already is an API step object (it has `stepId`) is passed on.
//! - `started`: at least `{"runId"}`; `finished`: the run's ResultMessage (camelCase: runId,
//!   status, startedAt, finishedAt, durationMs, passedSteps, failedSteps, error).
//!
//! **What the API answers:**
//! - `GET /api/v1/executions/{runId}/events`: `step` events (one API step object per attempt),
//!   then one `finished` event with the Execution, then the stream ends. The run's stream is read
//!   from its start, so a late subscriber still sees every step. A run that has already finished
//!   is replayed from the store (its steps, then `finished`), with or without Redis.
//! - `GET /api/v1/live`: a `run` event with the Execution each time a run starts or finishes.
//! - The Execution of an event is read from the store; while the store still shows the run as
//!   queued or running, the event's own fields (status, times, counts, error) are laid over it.
//! - When Redis is not configured or does not answer, both answer 503 with the JSON error.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::Path;
use axum::response::sse::{Event, KeepAlive, KeepAliveStream, Sse};
use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;
use redis::streams::StreamReadReply;
use serde_json::Value;
use tokio::sync::mpsc;

use super::app::AppState;
use super::error::{ApiError, ErrorBody};
use super::executions::{Execution, ExecutionStep, find, steps_of};
use super::scope::Scoped;
use crate::engine::result::StepResult;

/// The stream of one run's events.
pub const RUN_EVENTS_PREFIX: &str = "testmesh:events:";
/// The stream of every run's `started` and `finished` events.
pub const LIVE_STREAM: &str = "testmesh:live";
/// The field of an entry that names the event.
pub const EVENT_FIELD: &str = "event";
/// The field of an entry that holds the event's JSON.
pub const DATA_FIELD: &str = crate::queue::EVENT_DATA_FIELD;
/// Read as [`DATA_FIELD`] when that is absent: the name older executors wrote.
const DATA_FIELD_ALIAS: &str = "message";

/// How long one XREAD waits for entries before the run's state is checked again.
const BLOCK: Duration = Duration::from_secs(10);
/// How long connecting to Redis may take before the answer is a 503.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Entries read at a time.
const BATCH: usize = 100;

/// Where live events come from: a Redis server, with the stream names (a prefix lets tests and
/// second installations keep apart).
#[derive(Debug, Clone)]
pub struct LiveSource {
    client: redis::Client,
    prefix: String,
}

impl LiveSource {
    pub fn new(redis_url: &str, prefix: &str) -> Result<Self, redis::RedisError> {
        Ok(Self {
            client: redis::Client::open(redis_url)?,
            prefix: prefix.to_string(),
        })
    }

    pub fn run_stream(&self, run_id: &str) -> String {
        format!("{}{RUN_EVENTS_PREFIX}{run_id}", self.prefix)
    }

    pub fn live_stream(&self) -> String {
        format!("{}{LIVE_STREAM}", self.prefix)
    }

    /// A connection of its own (a blocking XREAD would stall a shared one).
    async fn connect(&self) -> Result<MultiplexedConnection, ApiError> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(BLOCK + Duration::from_secs(5)));
        let unavailable = |reason: String| ApiError::Unavailable {
            what: "live events (Redis)",
            reason,
        };
        let mut conn = tokio::time::timeout(
            CONNECT_TIMEOUT,
            self.client
                .get_multiplexed_async_connection_with_config(&config),
        )
        .await
        .map_err(|_| unavailable("connecting timed out".into()))?
        .map_err(|err| unavailable(err.to_string()))?;
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map_err(|err| unavailable(err.to_string()))?;
        Ok(conn)
    }

    /// Answers when Redis does (for readiness details).
    pub async fn ping(&self) -> Result<(), ApiError> {
        self.connect().await.map(|_| ())
    }
}

/// One entry of a stream: its id, event name and JSON.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    id: String,
    event: String,
    data: Value,
}

async fn read(
    conn: &mut MultiplexedConnection,
    stream: &str,
    after: &str,
) -> Result<Vec<Entry>, redis::RedisError> {
    let reply: Option<StreamReadReply> = redis::cmd("XREAD")
        .arg("COUNT")
        .arg(BATCH)
        .arg("BLOCK")
        .arg(BLOCK.as_millis() as u64)
        .arg("STREAMS")
        .arg(stream)
        .arg(after)
        .query_async(conn)
        .await?;
    Ok(reply
        .into_iter()
        .flat_map(|reply| reply.keys)
        .flat_map(|key| key.ids)
        .map(|entry| {
            let event = entry.get::<String>(EVENT_FIELD).unwrap_or_default();
            let data = entry
                .get::<String>(DATA_FIELD)
                .or_else(|| entry.get::<String>(DATA_FIELD_ALIAS))
                .and_then(|text| serde_json::from_str(&text).ok())
                .unwrap_or(Value::Null);
            Entry {
                id: entry.id,
                event,
                data,
            }
        })
        .collect())
}

/// The API steps of a `step` event's data.
fn steps_of_event(data: &Value) -> Vec<Value> {
    if data.get("stepId").is_some() {
        return vec![data.clone()];
    }
    let Some(step) = data.get("step") else {
        return Vec::new();
    };
    let index = data
        .get("stepIndex")
        .and_then(Value::as_i64)
        .and_then(|i| i32::try_from(i).ok())
        .unwrap_or(0);
    match serde_json::from_value::<StepResult>(step.clone()) {
        Ok(step) => ExecutionStep::from_engine(index, &step)
            .into_iter()
            .filter_map(|step| serde_json::to_value(step).ok())
            .collect(),
        Err(err) => {
            tracing::debug!(error = %err, "a step event that is not a step result was skipped");
            Vec::new()
        }
    }
}

const ACTIVE: [&str; 2] = ["queued", "running"];
const OVERLAID: [&str; 7] = [
    "status",
    "startedAt",
    "finishedAt",
    "durationMs",
    "passedSteps",
    "failedSteps",
    "error",
];

/// The Execution as the store has it; while the store still shows it active, the event's own
/// fields are laid over it (with `status` running for a `started` event without one).
fn execution_with(execution: &Execution, event: &str, data: &Value) -> Value {
    let mut value = serde_json::to_value(execution).unwrap_or(Value::Null);
    if !ACTIVE.contains(&execution.status.as_str()) {
        return value;
    }
    if let (Some(target), Some(source)) = (value.as_object_mut(), data.as_object()) {
        for key in OVERLAID {
            if let Some(field) = source.get(key) {
                target.insert(key.to_string(), field.clone());
            }
        }
        if event == "started" && !source.contains_key("status") {
            target.insert("status".into(), Value::from("running"));
        }
    }
    value
}

fn sse_event(name: &str, data: &Value) -> Event {
    Event::default().event(name).data(data.to_string())
}

type EventStream =
    Sse<KeepAliveStream<futures::stream::BoxStream<'static, Result<Event, Infallible>>>>;

fn stream_of(receiver: mpsc::Receiver<Event>) -> EventStream {
    let stream = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|event| (Ok(event), receiver))
    });
    let boxed: futures::stream::BoxStream<'static, Result<Event, Infallible>> = Box::pin(stream);
    Sse::new(boxed).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

fn live_source(state: &AppState) -> Result<LiveSource, ApiError> {
    state.live.clone().ok_or(ApiError::Unavailable {
        what: "live events (Redis)",
        reason: "the API was started without --redis-url".into(),
    })
}

#[utoipa::path(get, path = "/api/v1/executions/{runId}/events", tag = "live",
    params(("runId" = String, Path)),
    responses(
        (status = 200, content_type = "text/event-stream",
         description = "`step` events with a step object, then `finished` with the Execution"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn run_events(
    Scoped(state): Scoped,
    Path(run_id): Path<String>,
) -> Result<EventStream, ApiError> {
    let execution = find(&state, &run_id).await?;
    let (sender, receiver) = mpsc::channel(64);
    if !ACTIVE.contains(&execution.status.as_str()) {
        let steps = steps_of(&state, &run_id).await?;
        tokio::spawn(async move {
            for step in steps {
                let data = serde_json::to_value(step).unwrap_or(Value::Null);
                if sender.send(sse_event("step", &data)).await.is_err() {
                    return;
                }
            }
            let data = serde_json::to_value(execution).unwrap_or(Value::Null);
            let _ = sender.send(sse_event("finished", &data)).await;
        });
        return Ok(stream_of(receiver));
    }
    let source = live_source(&state)?;
    let conn = source.connect().await?;
    let stream = source.run_stream(&run_id);
    tokio::spawn(follow_run(state, run_id, stream, conn, sender));
    Ok(stream_of(receiver))
}

/// Sends a run's step events until its `finished` one (or until the store shows it finished,
/// when its events have expired), or until the client goes away.
async fn follow_run(
    state: AppState,
    run_id: String,
    stream: String,
    mut conn: MultiplexedConnection,
    sender: mpsc::Sender<Event>,
) {
    let mut after = "0".to_string();
    loop {
        let entries = match read(&mut conn, &stream, &after).await {
            Ok(entries) => entries,
            Err(err) => {
                tracing::warn!(error = %err, %run_id, "reading live events failed; closing the stream");
                return;
            }
        };
        if entries.is_empty() {
            match find(&state, &run_id).await {
                Ok(run) if !ACTIVE.contains(&run.status.as_str()) => {
                    let data = serde_json::to_value(run).unwrap_or(Value::Null);
                    let _ = sender.send(sse_event("finished", &data)).await;
                    return;
                }
                Ok(_) => {}
                Err(_) => return,
            }
            if sender.is_closed() {
                return;
            }
        }
        for entry in entries {
            after = entry.id.clone();
            match entry.event.as_str() {
                "step" => {
                    for step in steps_of_event(&entry.data) {
                        if sender.send(sse_event("step", &step)).await.is_err() {
                            return;
                        }
                    }
                }
                "finished" => {
                    let Ok(run) = find(&state, &run_id).await else {
                        return;
                    };
                    let data = execution_with(&run, "finished", &entry.data);
                    let _ = sender.send(sse_event("finished", &data)).await;
                    return;
                }
                _ => {}
            }
        }
    }
}

#[utoipa::path(get, path = "/api/v1/live", tag = "live",
    responses(
        (status = 200, content_type = "text/event-stream",
         description = "`run` events with the Execution as runs start and finish"),
        (status = 503, body = ErrorBody)))]
pub async fn live(Scoped(state): Scoped) -> Result<EventStream, ApiError> {
    let source = live_source(&state)?;
    let conn = source.connect().await?;
    let (sender, receiver) = mpsc::channel(64);
    tokio::spawn(follow_live(state, source.live_stream(), conn, sender));
    Ok(stream_of(receiver))
}

/// Sends a `run` event for every run that starts or finishes from now on.
async fn follow_live(
    state: AppState,
    stream: String,
    mut conn: MultiplexedConnection,
    sender: mpsc::Sender<Event>,
) {
    let mut after = "$".to_string();
    loop {
        let entries = match read(&mut conn, &stream, &after).await {
            Ok(entries) => entries,
            Err(err) => {
                tracing::warn!(error = %err, "reading the live feed failed; closing the stream");
                return;
            }
        };
        if entries.is_empty() && sender.is_closed() {
            return;
        }
        for entry in entries {
            after = entry.id.clone();
            let Some(run_id) = entry.data.get("runId").and_then(Value::as_str) else {
                continue;
            };
            let Ok(run) = find(&state, run_id).await else {
                continue;
            };
            let data = execution_with(&run, &entry.event, &entry.data);
            if sender.send(sse_event("run", &data)).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn running() -> Execution {
        serde_json::from_value(json!({
            "runId": "r1", "namespace": "shop", "flowName": "checkout", "generation": 1,
            "environment": null, "trigger": "manual", "status": "running",
            "queuedAt": "2026-01-15T09:00:00Z", "startedAt": "2026-01-15T09:00:01Z",
            "finishedAt": null, "durationMs": null, "passedSteps": 0, "failedSteps": 0,
            "error": null
        }))
        .unwrap()
    }

    #[test]
    fn a_finished_event_completes_a_run_the_store_still_shows_running() {
        let data = json!({"runId": "r1", "status": "failed", "durationMs": 12, "executorId": "x"});
        let merged = execution_with(&running(), "finished", &data);
        assert_eq!(merged["status"], "failed");
        assert_eq!(merged["durationMs"], 12);
        assert!(merged.get("executorId").is_none());
    }

    #[test]
    fn engine_steps_become_one_api_step_per_attempt() {
        let data = json!({"runId": "r1", "stepIndex": 2, "step": {
        "id": "pay", "action": "http_request", "phase": "main", "status": "passed",
        "started_at": "2026-01-15T09:00:01Z", "duration_ms": 30,
        "attempts": [
            {"attempt": 1, "status": "failed", "started_at": "2026-01-15T09:00:01Z", "duration_ms": 10},
            {"attempt": 2, "status": "passed", "started_at": "2026-01-15T09:00:02Z", "duration_ms": 20}
        ]}});
        let steps = steps_of_event(&data);
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[1]["stepIndex"], 2);
        assert_eq!(steps[1]["attempt"], 2);
        assert_eq!(steps[0]["status"], "failed");
        assert_eq!(steps[0]["stepId"], "pay");
    }
}
