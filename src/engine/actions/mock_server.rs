//! `mock_server_start` / `mock_server_stop` (placeholder until the mock server lands).

use serde_json::{Map, Value};

use super::{ActionError, ActionOutput};

/// The mock servers one run started.
#[derive(Default)]
pub struct MockRegistry;

impl MockRegistry {
    pub async fn stop_all(&self) {}
}

pub async fn start(
    _config: &Map<String, Value>,
    _mocks: &MockRegistry,
) -> Result<ActionOutput, ActionError> {
    Err(ActionError::Failed(
        "mock_server_start is not built yet".into(),
    ))
}

pub async fn stop(
    _config: &Map<String, Value>,
    _mocks: &MockRegistry,
) -> Result<ActionOutput, ActionError> {
    Err(ActionError::Failed(
        "mock_server_stop is not built yet".into(),
    ))
}
