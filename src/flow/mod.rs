//! The flow language: the model types (serde + schemars, so they double as the TestFlow CRD
//! spec), loading YAML in both dialects with source positions, and static validation.
//!
//! Nothing here runs a step; the engine does.

pub mod actions;
pub mod duration;
pub mod model;
pub mod schema;
pub mod source;

pub use duration::FlowDuration;
pub use model::{Assertion, Backoff, FlowConfig, FlowSpec, OnError, RetryPolicy, Step};
