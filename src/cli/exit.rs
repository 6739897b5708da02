//! Exit codes. They are distinct so that CI can tell a failing test from a broken setup.

use std::process::ExitCode;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything passed (0).
    Passed,
    /// At least one assertion failed (1).
    TestsFailed,
    /// The input is invalid: a malformed flow, an unknown action, a bad argument (2).
    InvalidInput,
    /// A step could not run: a refused connection, a timeout, a missing file at run time (3).
    RuntimeError,
    /// Interrupted by Ctrl-C (130, as shells report SIGINT).
    Interrupted,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Passed => 0,
            Exit::TestsFailed => 1,
            Exit::InvalidInput => 2,
            Exit::RuntimeError => 3,
            Exit::Interrupted => 130,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit.code())
    }
}
