//! What can go wrong with a mock server: a bad endpoint description, a port that cannot be
//! bound, a file that cannot be read or parsed, or the server failing while it runs.

use std::path::PathBuf;

/// A mock server could not be described, started or run.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    /// An endpoint description is wrong; `field` is its path (`endpoints[1].match.path_pattern`).
    #[error("{field}: {message}")]
    InvalidConfig { field: String, message: String },
    /// The requested port is taken.
    #[error(
        "port {port} on 127.0.0.1 is already in use; choose another port or leave it out to get a free one"
    )]
    PortInUse { port: u16 },
    /// Any other failure to listen.
    #[error("cannot listen on 127.0.0.1:{port}: {message}")]
    Bind { port: u16, message: String },
    /// A mock file could not be read.
    #[error("cannot read {}: {message}", path.display())]
    Read { path: PathBuf, message: String },
    /// A mock file is not valid YAML or does not hold endpoints.
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },
    /// The server stopped with an error while running.
    #[error("the mock server failed: {0}")]
    Serve(String),
}

impl MockError {
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        MockError::InvalidConfig {
            field: field.into(),
            message: message.into(),
        }
    }
}
