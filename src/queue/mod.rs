//! Messages between the operator and the executors, carried on Redis Streams: a run request
//! goes out on the runs stream, a result comes back on the results stream, live events go to
//! the dashboard. [`RedisQueue`] is the producer and consumer for every role.

pub mod events;
pub mod message;
pub mod redis;
pub mod streams;

pub use self::redis::{Delivery, Poison, QueueError, RedisQueue, ResultDelivery};
pub use events::{LiveEvent, LiveEventKind};
pub use message::{
    EnvironmentRef, FlowRef, ResultMessage, RunMessage, ScheduleRef, Trigger, TriggerKind,
};
pub use streams::Streams;

/// The stream runs are enqueued on; executors read it through a consumer group.
pub const RUNS_STREAM: &str = "testmesh:runs";
/// The stream executors publish finished runs on; the operator reads it.
pub const RESULTS_STREAM: &str = "testmesh:results";
/// Where messages that cannot be processed are kept for a person to look at.
pub const DEAD_LETTER_STREAM: &str = "testmesh:runs:dead";
/// The consumer group of the executors on [`RUNS_STREAM`].
pub const EXECUTOR_GROUP: &str = "executors";
/// The field of a stream entry that holds the JSON message.
pub const PAYLOAD_FIELD: &str = "message";
/// The feed of runs starting and finishing, for the dashboard.
pub const LIVE_STREAM: &str = "testmesh:live";
/// Followed by a run id: the stream of that run's live events.
pub const EVENTS_STREAM_PREFIX: &str = "testmesh:events:";
/// The field of a live event entry that names its kind.
pub const EVENT_FIELD: &str = "event";
/// The field of a live event entry that holds its JSON (the read API's contract, src/api/live.rs).
pub const EVENT_DATA_FIELD: &str = "data";
/// The field of a dead-letter entry that says why the message could not be processed.
pub const REASON_FIELD: &str = "reason";
