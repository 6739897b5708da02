//! Runs one flow: variables and interpolation, expressions, captures, retries, timeouts,
//! setup/steps/teardown and cancellation. It knows nothing of Kubernetes, Redis or PostgreSQL.

pub mod actions;
pub mod result;
pub mod session;
