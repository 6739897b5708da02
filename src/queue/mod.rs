//! Messages between the operator and the executors, carried on Redis Streams: a run request
//! goes out on the runs stream, a result comes back on the results stream. Both are plain data.

pub mod message;

pub use message::{
    EnvironmentRef, FlowRef, ResultMessage, RunMessage, ScheduleRef, Trigger, TriggerKind,
};

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
