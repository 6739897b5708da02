//! The names of the streams and the group, gathered so that a test (or a second installation
//! on the same Redis) can use its own prefix.

use super::{
    DEAD_LETTER_STREAM, EVENTS_STREAM_PREFIX, EXECUTOR_GROUP, LIVE_STREAM, RESULTS_STREAM,
    RUNS_STREAM,
};

/// Every Redis key the queue uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Streams {
    pub runs: String,
    pub results: String,
    pub dead_letter: String,
    pub group: String,
    pub live: String,
    pub events_prefix: String,
}

impl Default for Streams {
    fn default() -> Self {
        Self {
            runs: RUNS_STREAM.into(),
            results: RESULTS_STREAM.into(),
            dead_letter: DEAD_LETTER_STREAM.into(),
            group: EXECUTOR_GROUP.into(),
            live: LIVE_STREAM.into(),
            events_prefix: EVENTS_STREAM_PREFIX.into(),
        }
    }
}

impl Streams {
    /// The default names with `prefix` in front of each key (the group name is kept).
    pub fn prefixed(prefix: &str) -> Self {
        let base = Self::default();
        Self {
            runs: format!("{prefix}{}", base.runs),
            results: format!("{prefix}{}", base.results),
            dead_letter: format!("{prefix}{}", base.dead_letter),
            group: base.group,
            live: format!("{prefix}{}", base.live),
            events_prefix: format!("{prefix}{}", base.events_prefix),
        }
    }

    /// The stream of one run's live events.
    pub fn events(&self, run_id: &str) -> String {
        format!("{}{run_id}", self.events_prefix)
    }
}
