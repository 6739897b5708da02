//! TestMesh: end-to-end integration tests as flows.
//!
//! The library holds every role of the `testmesh` binary so that integration tests and benches
//! can drive them directly. Dependencies point one way: `flow` (the language) is used by `engine`
//! (runs one flow), which is used by `report` and the command line.

pub mod api;
pub mod checks;
pub mod cli;
pub mod engine;
pub mod executor;
pub mod export;
pub mod flow;
pub mod import;
pub mod mock;
pub mod operator;
pub mod queue;
pub mod report;
pub mod resources;
pub mod store;
pub mod telemetry;
