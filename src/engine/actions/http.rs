//! `http_request` (placeholder until the HTTP action lands).

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::{ActionError, ActionOutput};

/// One run's HTTP state.
pub struct HttpSession {
    pub default_headers: IndexMap<String, String>,
}

impl HttpSession {
    pub fn new(default_headers: IndexMap<String, String>) -> Self {
        Self { default_headers }
    }
}

pub async fn execute(
    _config: &Map<String, Value>,
    _session: &HttpSession,
) -> Result<ActionOutput, ActionError> {
    Err(ActionError::Failed("http_request is not built yet".into()))
}
