//! `grpc`: one unary call to a gRPC server, with the request written as JSON and the message
//! types taken from the server's reflection service, a descriptor set file or `.proto` files.
//! The answer's status is part of the result (`status: NOT_FOUND`, `code: 5`) for assertions to
//! check; only what keeps a call from being made (no connection, no such method, a request
//! that does not fit the message) fails the step. One channel per server per run.

mod call_spec;
mod channels;
pub mod codec;
mod descriptors;
mod json;
mod reflection;
mod status;

use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use prost_reflect::{DynamicMessage, MethodDescriptor};
use serde_json::{Map, Value, json};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::metadata::{
    AsciiMetadataValue, BinaryMetadataValue, KeyAndValueRef, MetadataKey, MetadataMap,
};
use tonic::transport::Channel;
use tonic::{Code, Status};

pub use call_spec::CallSpec;
pub use channels::GrpcChannels;

use super::{ActionError, ActionOutput};
use codec::DynamicCodec;

/// Metadata whose values are credentials, masked in reports.
const SECRET_METADATA: &[&str] = &["authorization", "cookie", "x-api-key", "api-key"];

/// Runs one `grpc` step.
pub async fn execute(
    config: &Map<String, Value>,
    channels: &GrpcChannels,
    traceparent: Option<String>,
) -> Result<ActionOutput, ActionError> {
    let spec = CallSpec::parse(config, channels.base_dir())?;
    let mut metadata = metadata_map(&spec.metadata)?;
    // The run's trace context (`otel.inject`), unless the step sends its own.
    if let Some(traceparent) = traceparent
        && !metadata.contains_key("traceparent")
        && let Ok(value) = AsciiMetadataValue::try_from(traceparent.as_str())
    {
        metadata.insert("traceparent", value);
    }
    let channel = channels.channel(&spec.server).await?;
    let method = descriptors::find_method(&spec, channels, &channel).await?;
    let request = json::request_message(&spec.request, &method.input())?;
    let started = Instant::now();
    let answer = tokio::time::timeout(
        spec.timeout,
        call(channel, &method, request, metadata, spec.timeout),
    )
    .await
    .unwrap_or_else(|_| {
        Answer::failed(Status::deadline_exceeded(format!(
            "no answer within {:?} (the step's timeout)",
            spec.timeout
        )))
    });
    let answer = answer.at_deadline(started.elapsed() >= spec.timeout, spec.timeout);
    let elapsed = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(ActionOutput::with_request(
        answer.into_result(&spec, elapsed),
        request_excerpt(&spec),
    ))
}

/// What the server answered: its status, headers, message and trailers.
struct Answer {
    code: Code,
    message: String,
    headers: MetadataMap,
    body: Option<DynamicMessage>,
    trailers: MetadataMap,
}

impl Answer {
    /// An answer of only a status (its metadata holds what the server sent beside it).
    fn failed(status: Status) -> Self {
        Self {
            code: status.code(),
            message: status.message().to_string(),
            headers: MetadataMap::new(),
            body: None,
            trailers: status.metadata().clone(),
        }
    }

    /// Servers that stop a call at the deadline its grpc-timeout header gave may say CANCELLED
    /// (tonic's servers do); past the step's deadline, that is the deadline.
    fn at_deadline(self, past_deadline: bool, timeout: std::time::Duration) -> Self {
        if past_deadline && self.code == Code::Cancelled {
            Self {
                code: Code::DeadlineExceeded,
                message: format!(
                    "no answer within {timeout:?} (the step's timeout); the server cancelled the call at that deadline: {}",
                    self.message
                ),
                ..self
            }
        } else {
            self
        }
    }

    fn into_result(self, spec: &CallSpec, elapsed_ms: u64) -> Map<String, Value> {
        // `response` (status, body, time) is this map itself: see `variables::child`.
        let mut result = Map::new();
        result.insert("status".into(), json!(status::code_name(self.code)));
        result.insert("code".into(), json!(self.code as i32));
        result.insert("message".into(), json!(self.message));
        result.insert("error_message".into(), json!(self.message));
        result.insert(
            "body".into(),
            self.body.as_ref().map_or(Value::Null, json::response_json),
        );
        let headers = metadata_json(&self.headers);
        result.insert("metadata".into(), headers.clone());
        result.insert("headers".into(), headers);
        result.insert("trailers".into(), metadata_json(&self.trailers));
        result.insert("duration_ms".into(), json!(elapsed_ms));
        result.insert("method".into(), json!(spec.full_method()));
        result.insert("address".into(), json!(spec.server.authority));
        result
    }
}

/// Makes the call as a server-streaming one of one message (the same exchange on the wire),
/// which keeps the headers apart from the trailers.
async fn call(
    channel: Channel,
    method: &MethodDescriptor,
    request: DynamicMessage,
    metadata: MetadataMap,
    timeout: std::time::Duration,
) -> Answer {
    let mut grpc = tonic::client::Grpc::new(channel);
    if let Err(err) = grpc.ready().await {
        return Answer::failed(Status::unavailable(err.to_string()));
    }
    let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
    let path = match PathAndQuery::try_from(path) {
        Ok(path) => path,
        Err(err) => return Answer::failed(Status::internal(err.to_string())),
    };
    let mut request = tonic::Request::new(request);
    *request.metadata_mut() = metadata;
    request.set_timeout(timeout);
    let response = match grpc
        .server_streaming(request, path, DynamicCodec::new(method.output()))
        .await
    {
        Ok(response) => response,
        Err(status) => return Answer::failed(status),
    };
    let (headers, mut stream, _) = response.into_parts();
    let body = match stream.message().await {
        Ok(Some(body)) => body,
        Ok(None) => {
            return Answer {
                headers,
                ..Answer::failed(Status::internal(
                    "the server ended the call without a message",
                ))
            };
        }
        Err(status) => {
            return Answer {
                headers,
                ..Answer::failed(status)
            };
        }
    };
    match stream.trailers().await {
        Ok(trailers) => Answer {
            code: Code::Ok,
            message: String::new(),
            headers,
            body: Some(body),
            trailers: trailers.unwrap_or_default(),
        },
        Err(status) => Answer {
            headers,
            ..Answer::failed(status)
        },
    }
}

/// The step's metadata as gRPC metadata; names ending in `-bin` take base64 values.
fn metadata_map(entries: &[(String, String)]) -> Result<MetadataMap, ActionError> {
    let mut metadata = MetadataMap::new();
    for (name, value) in entries {
        let field = format!("metadata.{name}");
        if name.ends_with("-bin") {
            let key = MetadataKey::from_bytes(name.as_bytes())
                .map_err(|_| ActionError::invalid(&field, "is not a valid metadata name"))?;
            let bytes = BASE64.decode(value.trim()).map_err(|err| {
                ActionError::invalid(&field, format!("a -bin value is base64: {err}"))
            })?;
            metadata.append_bin(key, BinaryMetadataValue::from_bytes(&bytes));
        } else {
            let key = MetadataKey::from_bytes(name.as_bytes()).map_err(|_| {
                ActionError::invalid(
                    &field,
                    "is not a valid metadata name (lowercase letters, digits, - _ .)",
                )
            })?;
            let value = AsciiMetadataValue::try_from(value.as_str()).map_err(|_| {
                ActionError::invalid(&field, format!("{value:?} is not printable ASCII"))
            })?;
            metadata.append(key, value);
        }
    }
    Ok(metadata)
}

/// Metadata as a JSON map; repeated names are joined with ", ", binary values are base64.
fn metadata_json(metadata: &MetadataMap) -> Value {
    let mut map = Map::new();
    for entry in metadata.iter() {
        let (name, text) = match entry {
            KeyAndValueRef::Ascii(name, value) => (
                name.as_str(),
                String::from_utf8_lossy(value.as_encoded_bytes()).into_owned(),
            ),
            KeyAndValueRef::Binary(name, value) => (
                name.as_str(),
                value
                    .to_bytes()
                    .map(|bytes| BASE64.encode(bytes))
                    .unwrap_or_default(),
            ),
        };
        match map.get_mut(name) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&text);
            }
            _ => {
                map.insert(name.to_string(), Value::String(text));
            }
        }
    }
    Value::Object(map)
}

/// What was sent, for reports: credentials in the metadata masked.
fn request_excerpt(spec: &CallSpec) -> Value {
    let metadata: Map<String, Value> = spec
        .metadata
        .iter()
        .map(|(name, value)| {
            let shown = if SECRET_METADATA.contains(&name.as_str()) {
                "***".to_string()
            } else {
                value.clone()
            };
            (name.clone(), Value::String(shown))
        })
        .collect();
    json!({
        "address": spec.server.authority,
        "method": spec.full_method(),
        "metadata": metadata,
        "request": spec.request,
        "timeout_ms": u64::try_from(spec.timeout.as_millis()).unwrap_or(u64::MAX),
    })
}
