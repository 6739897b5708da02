//! The operator role: controllers for TestFlow, TestSchedule and TestEnvironment, schedule math,
//! leader election, the run queue producer, the results consumer and the lost-run check.

pub mod cached_flow;
pub mod context;
pub mod leader;
pub mod lost_runs;
pub mod metrics;
pub mod queue;
pub mod results;
pub mod role;
pub mod runs;
pub mod schedule;
pub mod settled;
pub mod status;
pub mod testenvironment;
pub mod testflow;
pub mod testschedule;
