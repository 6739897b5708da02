//! Runs one flow: variables and interpolation, expressions, captures, retries, timeouts,
//! setup/steps/teardown and cancellation. It knows nothing of Kubernetes, Redis or PostgreSQL.

pub mod actions;
pub mod builtins;
pub mod capture;
pub mod evaluate;
pub mod flow_resolver;
pub mod interpolate;
pub mod mask;
pub mod panics;
pub mod recorded;
pub mod result;
pub mod retry;
pub mod runner;
pub mod schema_check;
pub mod session;
mod shortcut;
pub mod trace;
pub mod variables;

pub use flow_resolver::{CalledFlow, FlowFiles, FlowResolver};
pub use result::{FlowResult, FlowStatus, StepResult, StepStatus};
pub use runner::{RunEvent, RunOptions, run_flow};
pub use trace::RunTrace;
