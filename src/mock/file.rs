//! `testmesh mock FILE`: a mock server described by a YAML file (the `endpoints` list at the
//! top level or under `mock:` / `mock_server:`), served until the caller says stop.

use std::future::Future;
use std::path::Path;

use serde_json::{Map, Value};

use super::error::MockError;
use super::model::MockSpec;
use super::server::MockServer;
use crate::flow::source::parse_documents;

/// Serves the endpoints of the YAML file at `path` on `port` (else the file's `port`, else a
/// free one), printing the base URL and the endpoints, until `shutdown` completes.
pub async fn serve_file(
    path: &Path,
    port: Option<u16>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), MockError> {
    let text = tokio::fs::read_to_string(path)
        .await
        .map_err(|err| MockError::Read {
            path: path.to_path_buf(),
            message: err.to_string(),
        })?;
    let file_error = |message: String| MockError::File {
        path: path.to_path_buf(),
        message,
    };
    let documents = parse_documents(&text)
        .map_err(|err| file_error(format!("{}: {}", err.position, err.message)))?;
    let Some(Value::Object(root)) = documents.into_iter().next().map(|document| document.value)
    else {
        return Err(file_error("expected a map with an endpoints list".into()));
    };
    let (section, prefix) = locate_section(&root).ok_or_else(|| {
        file_error(
            "no endpoints list: put it at the top level or under mock: or mock_server:".into(),
        )
    })?;
    let file_port = match section.get("port") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            value
                .as_u64()
                .and_then(|port| u16::try_from(port).ok())
                .ok_or_else(|| file_error(format!("{prefix}port: {value} is not a port number")))?,
        ),
    };
    let mut only_endpoints = Map::new();
    if let Some(endpoints) = section.get("endpoints") {
        only_endpoints.insert("endpoints".into(), endpoints.clone());
    }
    let spec = MockSpec::from_value(Value::Object(only_endpoints), prefix)?;
    let server = MockServer::start_with_prefix(&spec, port.or(file_port), prefix).await?;
    println!("Mock server listening on {}", server.base_url());
    for endpoint in server.endpoints() {
        println!(
            "  {} -> {}",
            endpoint.summary(),
            endpoint.response.status_code
        );
    }
    shutdown.await;
    let requests = server.stop().await?;
    println!("Mock server stopped after {} requests", requests.len());
    Ok(())
}

/// The map holding `endpoints`, and the field prefix that leads to it.
fn locate_section(root: &Map<String, Value>) -> Option<(&Map<String, Value>, &'static str)> {
    if root.contains_key("endpoints") {
        return Some((root, ""));
    }
    [("mock", "mock."), ("mock_server", "mock_server.")]
        .into_iter()
        .find_map(|(key, prefix)| match root.get(key) {
            Some(Value::Object(section)) if section.contains_key("endpoints") => {
                Some((section, prefix))
            }
            _ => None,
        })
}
