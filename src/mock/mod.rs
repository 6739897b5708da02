//! The in-process HTTP mock server: endpoints described as data (the `mock_server_start`
//! config, or a file for `testmesh mock FILE`), matched against each request, answered with a
//! canned response, and every request recorded for the step that stops the server.

pub mod error;
pub mod file;
pub mod matching;
pub mod model;
pub mod path;
pub mod server;

pub use error::MockError;
pub use file::serve_file;
pub use model::{Endpoint, EndpointMatch, MockResponse, MockSpec};
pub use server::{MockServer, RecordedRequest};
