//! The custom resources TestFlow, TestSchedule and TestEnvironment (group `testmesh.io`, version
//! `v1alpha1`), their status types and condition helpers, the CRDs generated from them, the
//! JSON Schemas editors read, and what a cache keeps of them.

pub mod cache;
pub mod common;
pub mod crd;
pub mod editor_schema;
pub mod testenvironment;
pub mod testflow;
pub mod testschedule;

pub use common::{
    ConcurrencyPolicy, ConditionUpdate, LocalRef, RUN_REQUESTED_ANNOTATION, RunHealth, RunSummary,
    resource_name, set_condition,
};
pub use testenvironment::{TestEnvironment, TestEnvironmentSpec, TestEnvironmentStatus};
pub use testflow::{TestFlow, TestFlowSpec, TestFlowStatus};
pub use testschedule::{TestSchedule, TestScheduleSpec, TestScheduleStatus};
