//! The `testmesh` binary: parses the command line and hands it to one role.

use std::process::ExitCode;

/// mimalloc rather than the system allocator: a flow run allocates and frees small values at
/// every step (parsed YAML, captured values, headers), where glibc's malloc spent a quarter of
/// a thousand-step run's instructions.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    testmesh::cli::main()
}
