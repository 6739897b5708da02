//! The operator role: controllers for TestFlow, TestSchedule and TestEnvironment, schedule math,
//! leader election, the run queue producer and the results consumer.

pub mod schedule;
