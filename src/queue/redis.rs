//! Redis Streams producer and consumer. Runs go on the runs stream and are read by the
//! executors' consumer group (XREADGROUP, BLOCK); a run is acknowledged only after its result
//! is committed, and runs a dead consumer left pending are taken over with XAUTOCLAIM once idle
//! longer than the visibility timeout. Messages that cannot run go to the dead-letter stream.
//! Acknowledgements, results and live events are sent in pipelines.

use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::streams::{StreamAutoClaimReply, StreamId, StreamReadReply};
use ::redis::{Client, RedisError, Value};

use super::events::LiveEvent;
use super::message::{ResultMessage, RunMessage};
use super::streams::Streams;
use super::{EVENT_DATA_FIELD, EVENT_FIELD, PAYLOAD_FIELD, REASON_FIELD};

/// The results stream keeps about this many entries.
const RESULTS_MAXLEN: usize = 100_000;
/// The live feed keeps about this many entries.
const LIVE_MAXLEN: usize = 10_000;
/// A run's event stream keeps about this many entries...
const RUN_EVENTS_MAXLEN: usize = 1_000;
/// ...and expires this long after its last event.
const RUN_EVENTS_TTL_SECONDS: i64 = 24 * 3600;

/// An error talking to Redis, with what the queue was doing.
#[derive(Debug, thiserror::Error)]
#[error("Redis: cannot {what}: {source}")]
pub struct QueueError {
    pub what: &'static str,
    #[source]
    pub source: RedisError,
}

fn failed(what: &'static str) -> impl FnOnce(RedisError) -> QueueError {
    move |source| QueueError { what, source }
}

/// A message that cannot be run: its text and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Poison {
    pub raw: String,
    pub reason: String,
}

/// One entry read from the runs stream.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The stream entry id, used to acknowledge it.
    pub id: String,
    pub run: Result<RunMessage, Poison>,
}

impl Delivery {
    fn from_entry(entry: &StreamId) -> Self {
        let raw: Option<String> = entry.get(PAYLOAD_FIELD);
        let run = match raw {
            None => Err(Poison {
                raw: String::new(),
                reason: format!("the entry has no `{PAYLOAD_FIELD}` field"),
            }),
            Some(raw) => serde_json::from_str::<RunMessage>(&raw).map_err(|err| Poison {
                reason: format!("not a run message: {err}"),
                raw,
            }),
        };
        Self {
            id: entry.id.clone(),
            run,
        }
    }
}

/// One entry read from the results stream.
#[derive(Debug, Clone)]
pub struct ResultDelivery {
    /// The stream entry id, used to acknowledge it.
    pub id: String,
    pub result: Result<ResultMessage, Poison>,
}

impl ResultDelivery {
    fn from_entry(entry: &StreamId) -> Self {
        let raw: String = entry.get(PAYLOAD_FIELD).unwrap_or_default();
        let result = serde_json::from_str::<ResultMessage>(&raw).map_err(|err| Poison {
            reason: format!("not a result message: {err}"),
            raw,
        });
        Self {
            id: entry.id.clone(),
            result,
        }
    }
}

/// A connection to Redis and the stream names; cheap to clone. A blocking read holds the
/// connection, so a consumer keeps one queue for reading and another for the rest.
#[derive(Clone)]
pub struct RedisQueue {
    conn: ConnectionManager,
    streams: Streams,
}

impl RedisQueue {
    /// Connects to `url`. The connection reconnects by itself after Redis comes back;
    /// `response_timeout` must exceed the longest blocking read made with it.
    pub async fn connect(
        url: &str,
        streams: Streams,
        response_timeout: Duration,
    ) -> Result<Self, QueueError> {
        let client = Client::open(url).map_err(failed("parse the Redis URL"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(3)))
            .set_response_timeout(Some(response_timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(2));
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(failed("connect"))?;
        Ok(Self { conn, streams })
    }

    pub fn streams(&self) -> &Streams {
        &self.streams
    }

    /// Answers when Redis does.
    pub async fn ping(&self) -> Result<(), QueueError> {
        let mut conn = self.conn.clone();
        ::redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map(|_| ())
            .map_err(failed("ping"))
    }

    /// Puts a run on the runs stream; answers the entry id.
    pub async fn enqueue_run(&self, run: &RunMessage) -> Result<String, QueueError> {
        let text = serde_json::to_string(run).map_err(|err| QueueError {
            what: "encode a run message",
            source: RedisError::from(std::io::Error::other(err)),
        })?;
        self.enqueue_raw(&text).await
    }

    /// Puts any text on the runs stream (the operator uses [`Self::enqueue_run`]; tests use
    /// this to send malformed messages).
    pub async fn enqueue_raw(&self, text: &str) -> Result<String, QueueError> {
        let mut conn = self.conn.clone();
        ::redis::cmd("XADD")
            .arg(&self.streams.runs)
            .arg("*")
            .arg(PAYLOAD_FIELD)
            .arg(text)
            .query_async(&mut conn)
            .await
            .map_err(failed("enqueue a run"))
    }

    /// Creates the consumer group (and the stream) unless they exist. The group starts at the
    /// beginning of the stream, so runs enqueued before any executor started are not missed.
    pub async fn ensure_group(&self) -> Result<(), QueueError> {
        self.create_group(&self.streams.runs, &self.streams.group)
            .await
    }

    async fn create_group(&self, stream: &str, group: &str) -> Result<(), QueueError> {
        let mut conn = self.conn.clone();
        let created: Result<Value, RedisError> = ::redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(stream)
            .arg(group)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut conn)
            .await;
        match created {
            Ok(_) => Ok(()),
            Err(err) if err.code() == Some("BUSYGROUP") => Ok(()),
            Err(err) => Err(failed("create a consumer group")(err)),
        }
    }

    async fn read_group(
        &self,
        stream: &str,
        group: &str,
        consumer: &str,
        count: usize,
        block: Duration,
    ) -> Result<Vec<StreamId>, RedisError> {
        let mut conn = self.conn.clone();
        let reply: Option<StreamReadReply> = ::redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(group)
            .arg(consumer)
            .arg("COUNT")
            .arg(count)
            .arg("BLOCK")
            .arg(u64::try_from(block.as_millis()).unwrap_or(u64::MAX))
            .arg("STREAMS")
            .arg(stream)
            .arg(">")
            .query_async(&mut conn)
            .await?;
        Ok(reply
            .map(|reply| reply.keys.into_iter().flat_map(|key| key.ids).collect())
            .unwrap_or_default())
    }

    /// The operator's side of the results stream: creates its consumer group `group` (from
    /// the beginning of the stream) unless it exists.
    pub async fn ensure_results_group(&self, group: &str) -> Result<(), QueueError> {
        self.create_group(&self.streams.results, group).await
    }

    /// Reads up to `count` results for `consumer` of `group`, waiting up to `block`; acknowledge
    /// each with [`Self::ack_results`] once handled.
    pub async fn read_results(
        &self,
        group: &str,
        consumer: &str,
        count: usize,
        block: Duration,
    ) -> Result<Vec<ResultDelivery>, QueueError> {
        match self
            .read_group(&self.streams.results, group, consumer, count, block)
            .await
        {
            Ok(entries) => Ok(entries.iter().map(ResultDelivery::from_entry).collect()),
            Err(err) if err.code() == Some("NOGROUP") => {
                self.ensure_results_group(group).await?;
                Ok(Vec::new())
            }
            Err(err) => Err(failed("read results")(err)),
        }
    }

    /// Acknowledges results handled by `group`.
    pub async fn ack_results(&self, group: &str, ids: &[String]) -> Result<(), QueueError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn.clone();
        ::redis::cmd("XACK")
            .arg(&self.streams.results)
            .arg(group)
            .arg(ids)
            .query_async::<Value>(&mut conn)
            .await
            .map(|_| ())
            .map_err(failed("acknowledge results"))
    }

    /// Reads up to `count` new runs for `consumer`, waiting up to `block` for the first.
    /// When Redis lost the group (a restart without persistence), the group is made again.
    pub async fn read_runs(
        &self,
        consumer: &str,
        count: usize,
        block: Duration,
    ) -> Result<Vec<Delivery>, QueueError> {
        let read = self
            .read_group(
                &self.streams.runs,
                &self.streams.group,
                consumer,
                count,
                block,
            )
            .await;
        match read {
            Ok(entries) => Ok(entries.iter().map(Delivery::from_entry).collect()),
            Err(err) if err.code() == Some("NOGROUP") => {
                self.ensure_group().await?;
                Ok(Vec::new())
            }
            Err(err) => Err(failed("read runs")(err)),
        }
    }

    /// Takes over up to `count` runs that other consumers have held for longer than `min_idle`
    /// without acknowledging them (their executor died).
    pub async fn claim_idle(
        &self,
        consumer: &str,
        min_idle: Duration,
        count: usize,
    ) -> Result<Vec<Delivery>, QueueError> {
        let mut conn = self.conn.clone();
        let reply: Result<StreamAutoClaimReply, RedisError> = ::redis::cmd("XAUTOCLAIM")
            .arg(&self.streams.runs)
            .arg(&self.streams.group)
            .arg(consumer)
            .arg(u64::try_from(min_idle.as_millis()).unwrap_or(u64::MAX))
            .arg("0-0")
            .arg("COUNT")
            .arg(count)
            .query_async(&mut conn)
            .await;
        match reply {
            Ok(reply) => Ok(reply.claimed.iter().map(Delivery::from_entry).collect()),
            Err(err) if err.code() == Some("NOGROUP") => {
                self.ensure_group().await?;
                Ok(Vec::new())
            }
            Err(err) => Err(failed("claim idle runs")(err)),
        }
    }

    /// Resets the idle time of runs `consumer` is still working on, so that nobody else
    /// claims them.
    pub async fn keep_claimed(&self, consumer: &str, ids: &[String]) -> Result<(), QueueError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn.clone();
        ::redis::cmd("XCLAIM")
            .arg(&self.streams.runs)
            .arg(&self.streams.group)
            .arg(consumer)
            .arg(0)
            .arg(ids)
            .arg("JUSTID")
            .query_async::<Value>(&mut conn)
            .await
            .map(|_| ())
            .map_err(failed("refresh claimed runs"))
    }

    /// In one pipeline: acknowledges `acks`, publishes `results` and `events`.
    pub async fn settle(
        &self,
        acks: &[String],
        results: &[ResultMessage],
        events: &[LiveEvent],
    ) -> Result<(), QueueError> {
        if acks.is_empty() && results.is_empty() && events.is_empty() {
            return Ok(());
        }
        let mut pipe = ::redis::pipe();
        if !acks.is_empty() {
            pipe.cmd("XACK")
                .arg(&self.streams.runs)
                .arg(&self.streams.group)
                .arg(acks)
                .ignore();
        }
        for result in results {
            self.add_result(&mut pipe, result);
        }
        self.add_events(&mut pipe, events);
        let mut conn = self.conn.clone();
        pipe.query_async::<()>(&mut conn)
            .await
            .map_err(failed("acknowledge runs and publish results"))
    }

    /// Publishes live events in one pipeline.
    pub async fn publish_events(&self, events: &[LiveEvent]) -> Result<(), QueueError> {
        if events.is_empty() {
            return Ok(());
        }
        let mut pipe = ::redis::pipe();
        self.add_events(&mut pipe, events);
        let mut conn = self.conn.clone();
        pipe.query_async::<()>(&mut conn)
            .await
            .map_err(failed("publish live events"))
    }

    fn add_result(&self, pipe: &mut ::redis::Pipeline, result: &ResultMessage) {
        pipe.cmd("XADD")
            .arg(&self.streams.results)
            .arg("MAXLEN")
            .arg("~")
            .arg(RESULTS_MAXLEN)
            .arg("*")
            .arg(PAYLOAD_FIELD)
            .arg(serde_json::to_string(result).unwrap_or_default())
            .ignore();
    }

    fn add_events(&self, pipe: &mut ::redis::Pipeline, events: &[LiveEvent]) {
        for event in events {
            let text = event.message.to_string();
            let stream = self.streams.events(&event.run_id);
            pipe.cmd("XADD")
                .arg(&stream)
                .arg("MAXLEN")
                .arg("~")
                .arg(RUN_EVENTS_MAXLEN)
                .arg("*")
                .arg(EVENT_FIELD)
                .arg(event.kind.as_str())
                .arg(EVENT_DATA_FIELD)
                .arg(&text)
                .ignore();
            pipe.cmd("EXPIRE")
                .arg(&stream)
                .arg(RUN_EVENTS_TTL_SECONDS)
                .ignore();
            if event.kind.on_feed() {
                pipe.cmd("XADD")
                    .arg(&self.streams.live)
                    .arg("MAXLEN")
                    .arg("~")
                    .arg(LIVE_MAXLEN)
                    .arg("*")
                    .arg(EVENT_FIELD)
                    .arg(event.kind.as_str())
                    .arg(EVENT_DATA_FIELD)
                    .arg(&text)
                    .ignore();
            }
        }
    }

    /// Moves a message to the dead-letter stream with the reason, and acknowledges it, in one
    /// transaction; with `result`, also publishes that result, so the operator stops counting
    /// the run as active (a Forbid schedule would otherwise skip every later run).
    pub async fn dead_letter(
        &self,
        id: &str,
        raw: &str,
        reason: &str,
        result: Option<&ResultMessage>,
    ) -> Result<(), QueueError> {
        let mut pipe = ::redis::pipe();
        pipe.atomic();
        if let Some(result) = result {
            self.add_result(&mut pipe, result);
        }
        pipe.cmd("XADD")
            .arg(&self.streams.dead_letter)
            .arg("*")
            .arg(PAYLOAD_FIELD)
            .arg(raw)
            .arg(REASON_FIELD)
            .arg(reason)
            .arg("source_id")
            .arg(id)
            .ignore()
            .cmd("XACK")
            .arg(&self.streams.runs)
            .arg(&self.streams.group)
            .arg(id)
            .ignore();
        let mut conn = self.conn.clone();
        pipe.query_async::<()>(&mut conn)
            .await
            .map_err(failed("move a message to the dead-letter stream"))
    }

    /// How many runs wait in the group: entries not yet delivered plus delivered and not
    /// acknowledged (Redis 7's `lag` + `pending`). `None` when Redis does not report it.
    pub async fn backlog(&self) -> Result<Option<u64>, QueueError> {
        let mut conn = self.conn.clone();
        let groups: Vec<Vec<Value>> = ::redis::cmd("XINFO")
            .arg("GROUPS")
            .arg(&self.streams.runs)
            .query_async(&mut conn)
            .await
            .map_err(failed("read the group's lag"))?;
        for group in groups {
            let mut name = None;
            let mut lag = None;
            let mut pending = None;
            for pair in group.chunks(2) {
                let [key, value] = pair else { continue };
                let key: Option<String> = ::redis::from_redis_value(key.clone()).ok();
                match key.as_deref() {
                    Some("name") => name = ::redis::from_redis_value::<String>(value.clone()).ok(),
                    Some("lag") => lag = ::redis::from_redis_value::<u64>(value.clone()).ok(),
                    Some("pending") => {
                        pending = ::redis::from_redis_value::<u64>(value.clone()).ok()
                    }
                    _ => {}
                }
            }
            if name.as_deref() == Some(self.streams.group.as_str()) {
                return Ok(lag.map(|lag| lag + pending.unwrap_or(0)));
            }
        }
        Ok(None)
    }
}
