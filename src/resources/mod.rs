//! The custom resources TestFlow, TestSchedule and TestEnvironment (group `testmesh.io`, version
//! `v1alpha1`), their status types and condition helpers, and the CRDs generated from them.

pub mod common;
pub mod crd;
pub mod testenvironment;
pub mod testflow;
pub mod testschedule;

pub use common::{
    ConcurrencyPolicy, ConditionUpdate, LocalRef, RUN_REQUESTED_ANNOTATION, RunHealth, RunSummary,
    set_condition,
};
pub use testenvironment::{TestEnvironment, TestEnvironmentSpec, TestEnvironmentStatus};
pub use testflow::{TestFlow, TestFlowSpec, TestFlowStatus};
pub use testschedule::{TestSchedule, TestScheduleSpec, TestScheduleStatus};
