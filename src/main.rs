//! The `testmesh` binary: parses the command line and hands it to one role.

use std::process::ExitCode;

fn main() -> ExitCode {
    testmesh::cli::main()
}
