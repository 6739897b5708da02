//! The flow language: the model types (serde + schemars, so they double as the TestFlow CRD
//! spec), loading YAML in both dialects with source positions, and static validation.
//!
//! Nothing here runs a step; the engine does.

pub mod action_defaults;
pub mod action_docs;
pub mod actions;
pub mod data_source;
pub mod diagnostic;
pub mod duration;
pub mod editor_schema;
pub mod expression;
pub mod json_schema;
pub mod load;
pub mod model;
pub mod output;
pub mod path;
pub mod positions;
pub mod reference;
pub mod schema;
pub mod source;
pub mod validate;

pub use diagnostic::{Diagnostic, Severity};
pub use duration::FlowDuration;
pub use load::{Loaded, LoadedDocument, LoadedFlow, load_paths};
pub use model::{Assertion, Backoff, FlowConfig, FlowSpec, OnError, RetryPolicy, Step};
