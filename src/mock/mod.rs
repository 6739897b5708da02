//! The in-process HTTP mock server: endpoints described as data (the `mock_server_start`
//! config, or a file for `testmesh mock FILE`), matched against each request, answered with a
//! canned response (its templates filled from the request and the server's state values), and
//! every request recorded for the steps that verify, reset or stop the server. Its endpoints
//! can be changed while it runs.

pub mod error;
pub mod file;
pub mod matching;
pub mod model;
pub mod path;
pub mod server;
pub mod state;
pub mod template;
pub mod verify;

pub use error::MockError;
pub use file::serve_file;
pub use model::{Endpoint, EndpointMatch, MockResponse, MockSpec};
pub use server::{Answer, EndpointChanges, MockServer, RecordedRequest};
pub use verify::RequestCheck;
