//! The operator's side of the Redis Streams: enqueueing runs exactly once, asking for a run to be
//! cancelled, reading results, the queue depth, and which runs the queue still holds (for the
//! lost-run check). An in-memory twin with the same behaviour serves the reconciler tests.
//!
//! Exactly once: a run is added by one Lua script that sets `testmesh:run:{run_id}` with NX and
//! only then XADDs, so two replicas, a restart or a retry that enqueue the same run id add one
//! stream entry between them. Only the lost-run check adds a run id again, once it has seen that
//! no entry of that run is left in the queue.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::{
    StreamInfoGroupsReply, StreamPendingCountReply, StreamRangeReply, StreamReadOptions,
    StreamReadReply,
};
use serde::Deserialize;

use crate::queue::{
    EXECUTOR_GROUP, PAYLOAD_FIELD, RESULTS_STREAM, RUNS_STREAM, ResultMessage, RunMessage,
};

/// Prefix of the key that marks a run id as enqueued.
pub const RUN_KEY_PREFIX: &str = "testmesh:run:";
/// Prefix of the key that asks executors to cancel a run (Replace policy); also published on
/// [`CANCEL_CHANNEL`] with the run id as the message.
pub const CANCEL_KEY_PREFIX: &str = "testmesh:cancel:";
pub const CANCEL_CHANNEL: &str = "testmesh:cancel";
/// The consumer group of the operators on the results stream.
pub const OPERATOR_GROUP: &str = "operators";
/// How long the enqueued and cancel marks are kept.
const MARK_SECONDS: u64 = 7 * 24 * 3600;
/// Entries read per request while listing the runs the queue holds.
const SCAN_PAGE: usize = 500;

const ENQUEUE_ONCE: &str = r#"
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  return redis.call('XADD', KEYS[2], '*', ARGV[2], ARGV[3])
end
return false
"#;

/// A queue operation failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("cannot encode run {run_id}: {source}")]
    Encode {
        run_id: String,
        source: serde_json::Error,
    },
}

/// Whether an enqueue added a stream entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    /// Added with this stream entry id.
    Added(String),
    /// The run id was enqueued before; nothing was added.
    Duplicate,
}

/// Where runs go: Redis, or memory in tests.
#[derive(Clone)]
pub enum RunQueue {
    Redis(RedisQueue),
    Memory(MemoryQueue),
}

impl RunQueue {
    /// Adds `run` unless its id was enqueued before.
    pub async fn enqueue(&self, run: &RunMessage) -> Result<Enqueued, QueueError> {
        match self {
            RunQueue::Redis(queue) => queue.enqueue(run).await,
            RunQueue::Memory(queue) => Ok(queue.enqueue(run)),
        }
    }

    /// Adds `run` again under its id, whatever was enqueued before: only for a run whose entry
    /// the queue no longer holds.
    pub async fn enqueue_again(&self, run: &RunMessage) -> Result<(), QueueError> {
        match self {
            RunQueue::Redis(queue) => queue.enqueue_again(run).await,
            RunQueue::Memory(queue) => {
                let mut state = queue.lock();
                state.seen.insert(run.run_id.clone());
                state.runs.push(run.clone());
                Ok(())
            }
        }
    }

    /// The ids of the runs the queue holds: waiting for an executor, or delivered to one and
    /// not yet acknowledged.
    pub async fn held_run_ids(&self) -> Result<HashSet<String>, QueueError> {
        match self {
            RunQueue::Redis(queue) => queue.held_run_ids().await,
            RunQueue::Memory(queue) => Ok(queue
                .lock()
                .runs
                .iter()
                .map(|run| run.run_id.clone())
                .collect()),
        }
    }

    /// Which Redis server answers (its `run_id`, new at each start): a change means the server
    /// restarted, possibly without its data.
    pub async fn server_identity(&self) -> Result<String, QueueError> {
        match self {
            RunQueue::Redis(queue) => queue.server_identity().await,
            RunQueue::Memory(_) => Ok("memory".into()),
        }
    }

    /// Asks the executors to cancel `run_id`.
    pub async fn cancel(&self, run_id: &str) -> Result<(), QueueError> {
        match self {
            RunQueue::Redis(queue) => queue.cancel(run_id).await,
            RunQueue::Memory(queue) => {
                queue.lock().cancelled.push(run_id.to_string());
                Ok(())
            }
        }
    }
}

/// Redis Streams with a key prefix (empty in production; tests use their own).
#[derive(Clone)]
pub struct RedisQueue {
    connection: ConnectionManager,
    /// For blocking reads of results: no response timeout, and never holding up enqueues.
    reader: ConnectionManager,
    prefix: String,
    script: Arc<redis::Script>,
}

impl RedisQueue {
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, QueueError> {
        let client = redis::Client::open(url)?;
        let connection = ConnectionManager::new(client.clone()).await?;
        let reader = ConnectionManager::new_with_config(
            client,
            ConnectionManagerConfig::new().set_response_timeout(None),
        )
        .await?;
        Ok(Self {
            connection,
            reader,
            prefix: prefix.to_string(),
            script: Arc::new(redis::Script::new(ENQUEUE_ONCE)),
        })
    }

    /// A stream or key name with this queue's prefix.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    pub async fn enqueue(&self, run: &RunMessage) -> Result<Enqueued, QueueError> {
        let payload = serde_json::to_string(run).map_err(|source| QueueError::Encode {
            run_id: run.run_id.clone(),
            source,
        })?;
        let mut connection = self.connection.clone();
        let added: Option<String> = self
            .script
            .key(self.key(&format!("{RUN_KEY_PREFIX}{}", run.run_id)))
            .key(self.key(RUNS_STREAM))
            .arg(MARK_SECONDS)
            .arg(PAYLOAD_FIELD)
            .arg(payload)
            .invoke_async(&mut connection)
            .await?;
        Ok(added.map_or(Enqueued::Duplicate, Enqueued::Added))
    }

    pub async fn enqueue_again(&self, run: &RunMessage) -> Result<(), QueueError> {
        let payload = serde_json::to_string(run).map_err(|source| QueueError::Encode {
            run_id: run.run_id.clone(),
            source,
        })?;
        let mut connection = self.connection.clone();
        let _: () = redis::pipe()
            .atomic()
            .set_ex(
                self.key(&format!("{RUN_KEY_PREFIX}{}", run.run_id)),
                "1",
                MARK_SECONDS,
            )
            .ignore()
            .xadd(self.key(RUNS_STREAM), "*", &[(PAYLOAD_FIELD, payload)])
            .ignore()
            .query_async(&mut connection)
            .await?;
        Ok(())
    }

    /// The run ids of the entries after the executors' group's last delivered entry (all of
    /// them before the group exists) and of the group's pending entries. Acknowledged entries
    /// stay in the stream but are not counted: their runs have results.
    pub async fn held_run_ids(&self) -> Result<HashSet<String>, QueueError> {
        let mut connection = self.connection.clone();
        let stream = self.key(RUNS_STREAM);
        let mut held = HashSet::new();
        let length: u64 = connection.xlen(&stream).await?;
        if length == 0 {
            return Ok(held);
        }
        let groups: StreamInfoGroupsReply = connection.xinfo_groups(&stream).await?;
        let group = groups.groups.iter().find(|g| g.name == EXECUTOR_GROUP);
        let mut from =
            group.map_or_else(|| "-".to_string(), |g| format!("({}", g.last_delivered_id));
        loop {
            let page: StreamRangeReply = connection
                .xrange_count(&stream, &from, "+", SCAN_PAGE)
                .await?;
            held.extend(page.ids.iter().filter_map(|entry| run_id_of(&entry.map)));
            match page.ids.last() {
                Some(last) if page.ids.len() == SCAN_PAGE => from = format!("({}", last.id),
                _ => break,
            }
        }
        if group.is_none() {
            return Ok(held);
        }
        let mut from = "-".to_string();
        loop {
            let pending: StreamPendingCountReply = connection
                .xpending_count(&stream, EXECUTOR_GROUP, &from, "+", SCAN_PAGE)
                .await?;
            let mut pipe = redis::pipe();
            for entry in &pending.ids {
                pipe.xrange_count(&stream, &entry.id, &entry.id, 1);
            }
            let entries: Vec<StreamRangeReply> = if pending.ids.is_empty() {
                Vec::new()
            } else {
                pipe.query_async(&mut connection).await?
            };
            held.extend(
                entries
                    .iter()
                    .flat_map(|reply| &reply.ids)
                    .filter_map(|entry| run_id_of(&entry.map)),
            );
            match pending.ids.last() {
                Some(last) if pending.ids.len() == SCAN_PAGE => from = format!("({}", last.id),
                _ => break,
            }
        }
        Ok(held)
    }

    pub async fn server_identity(&self) -> Result<String, QueueError> {
        let mut connection = self.connection.clone();
        let info: String = redis::cmd("INFO")
            .arg("server")
            .query_async(&mut connection)
            .await?;
        Ok(info
            .lines()
            .find_map(|line| line.strip_prefix("run_id:"))
            .map_or_else(String::new, |id| id.trim().to_string()))
    }

    pub async fn cancel(&self, run_id: &str) -> Result<(), QueueError> {
        let mut connection = self.connection.clone();
        let _: () = connection
            .set_ex(
                self.key(&format!("{CANCEL_KEY_PREFIX}{run_id}")),
                "1",
                MARK_SECONDS,
            )
            .await?;
        let _: i64 = connection.publish(self.key(CANCEL_CHANNEL), run_id).await?;
        Ok(())
    }

    /// Runs waiting for an executor: the executors' group lag, or the stream length before the
    /// group exists.
    pub async fn depth(&self) -> Result<u64, QueueError> {
        let mut connection = self.connection.clone();
        let stream = self.key(RUNS_STREAM);
        let groups: Result<redis::streams::StreamInfoGroupsReply, _> =
            connection.xinfo_groups(&stream).await;
        if let Ok(groups) = groups
            && let Some(group) = groups.groups.iter().find(|g| g.name == EXECUTOR_GROUP)
            && let Some(lag) = group.lag
        {
            return Ok(lag as u64);
        }
        Ok(connection.xlen(&stream).await?)
    }

    /// Creates the operators' group on the results stream (idempotent).
    pub async fn ensure_results_group(&self) -> Result<(), QueueError> {
        let mut connection = self.connection.clone();
        let created: Result<(), _> = connection
            .xgroup_create_mkstream(self.key(RESULTS_STREAM), OPERATOR_GROUP, "0")
            .await;
        match created {
            Ok(()) => Ok(()),
            Err(err) if err.code() == Some("BUSYGROUP") => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    /// Reads up to `count` results for `consumer`: its delivered but unacknowledged entries when
    /// `pending`, else new ones, waiting at most `block_ms`. Entries that do not decode are
    /// returned as errors beside their id so the caller can acknowledge them.
    pub async fn read_results(
        &self,
        consumer: &str,
        pending: bool,
        count: usize,
        block_ms: usize,
    ) -> Result<Vec<(String, Result<ResultMessage, String>)>, QueueError> {
        let mut connection = self.reader.clone();
        let mut options = StreamReadOptions::default()
            .group(OPERATOR_GROUP, consumer)
            .count(count);
        if !pending {
            options = options.block(block_ms);
        }
        let from = if pending { "0" } else { ">" };
        let reply: StreamReadReply = connection
            .xread_options(&[self.key(RESULTS_STREAM)], &[from], &options)
            .await?;
        Ok(reply
            .keys
            .into_iter()
            .flat_map(|key| key.ids)
            .map(|entry| {
                let decoded = match entry.map.get(PAYLOAD_FIELD) {
                    Some(value) => redis::from_redis_value_ref::<String>(value)
                        .map_err(|err| err.to_string())
                        .and_then(|text| {
                            serde_json::from_str(&text).map_err(|err| err.to_string())
                        }),
                    None => Err(format!("no `{PAYLOAD_FIELD}` field")),
                };
                (entry.id, decoded)
            })
            .collect())
    }

    pub async fn ack_result(&self, id: &str) -> Result<(), QueueError> {
        let mut connection = self.connection.clone();
        let _: i64 = connection
            .xack(self.key(RESULTS_STREAM), OPERATOR_GROUP, &[id])
            .await?;
        Ok(())
    }
}

/// The run id of a runs-stream entry; none when the entry is not a run message.
fn run_id_of(fields: &std::collections::HashMap<String, redis::Value>) -> Option<String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Addressed {
        run_id: String,
    }
    let text: String = redis::from_redis_value_ref(fields.get(PAYLOAD_FIELD)?).ok()?;
    serde_json::from_str::<Addressed>(&text)
        .ok()
        .map(|message| message.run_id)
}

/// What the in-memory queue holds.
#[derive(Debug, Default)]
pub struct MemoryState {
    pub runs: Vec<RunMessage>,
    pub cancelled: Vec<String>,
    seen: HashSet<String>,
}

/// The in-memory twin: same exactly-once rule, inspectable by tests.
#[derive(Clone, Default)]
pub struct MemoryQueue(Arc<Mutex<MemoryState>>);

impl MemoryQueue {
    pub fn lock(&self) -> std::sync::MutexGuard<'_, MemoryState> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn enqueue(&self, run: &RunMessage) -> Enqueued {
        let mut state = self.lock();
        if !state.seen.insert(run.run_id.clone()) {
            return Enqueued::Duplicate;
        }
        state.runs.push(run.clone());
        Enqueued::Added(format!("{}-0", state.runs.len()))
    }
}
