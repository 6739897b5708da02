//! A client of the gRPC server reflection service: it asks for the file that defines a service,
//! then for every file that file imports, and builds a descriptor pool of them. It speaks
//! grpc.reflection.v1 and falls back to v1alpha (the same messages under an older name) when
//! the server does not know v1.

use std::collections::HashMap;

use prost::Message;
use prost_reflect::DescriptorPool;
use prost_types::FileDescriptorProto;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1::{ServerReflectionRequest, ServerReflectionResponse};

const VERSIONS: [&str; 2] = [
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

/// Why reflection gave no descriptors for a service.
pub enum ReflectionError {
    /// The server does not have the service; these are the ones it has.
    UnknownService { offered: Vec<String> },
    /// Reflection failed (not offered, a broken answer): the message says why.
    Failed(String),
}

/// The reflection service of one server, in the version it answered to.
struct Reflection {
    channel: Channel,
    path: &'static str,
}

impl Reflection {
    async fn ask(&self, request: MessageRequest) -> Result<MessageResponse, Status> {
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        grpc.ready()
            .await
            .map_err(|err| Status::unavailable(err.to_string()))?;
        let message = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(request),
        };
        let response = grpc
            .streaming(
                tonic::Request::new(futures::stream::iter([message])),
                PathAndQuery::from_static(self.path),
                tonic_prost::ProstCodec::<ServerReflectionRequest, ServerReflectionResponse>::default(),
            )
            .await?;
        let answer = response
            .into_inner()
            .message()
            .await?
            .and_then(|answer| answer.message_response);
        answer.ok_or_else(|| Status::internal("the reflection service sent no answer"))
    }

    /// The files of an answer, or the error it carries.
    async fn files(&self, request: MessageRequest) -> Result<Vec<FileDescriptorProto>, Status> {
        match self.ask(request).await? {
            MessageResponse::FileDescriptorResponse(found) => found
                .file_descriptor_proto
                .iter()
                .map(|bytes| {
                    FileDescriptorProto::decode(bytes.as_slice()).map_err(|err| {
                        Status::internal(format!("a file descriptor it sent is broken: {err}"))
                    })
                })
                .collect(),
            MessageResponse::ErrorResponse(error) => Err(Status::new(
                Code::from_i32(error.error_code),
                error.error_message,
            )),
            _ => Err(Status::internal(
                "the reflection service answered another question",
            )),
        }
    }

    async fn services(&self) -> Result<Vec<String>, Status> {
        match self
            .ask(MessageRequest::ListServices(String::new()))
            .await?
        {
            MessageResponse::ListServicesResponse(list) => Ok(list
                .service
                .into_iter()
                .map(|service| service.name)
                .collect()),
            _ => Err(Status::internal(
                "the reflection service did not list its services",
            )),
        }
    }
}

/// Adds the descriptors of `service`, and of every file they import, to `pool`.
pub async fn load_service(
    channel: &Channel,
    service: &str,
    pool: &mut DescriptorPool,
) -> Result<(), ReflectionError> {
    let mut last = None;
    for path in VERSIONS {
        let reflection = Reflection {
            channel: channel.clone(),
            path,
        };
        match reflection
            .files(MessageRequest::FileContainingSymbol(service.to_string()))
            .await
        {
            Ok(files) => return add_with_imports(&reflection, files, pool).await,
            Err(status) if status.code() == Code::NotFound => {
                let offered = reflection.services().await.map_err(|status| {
                    ReflectionError::Failed(format!(
                        "listing its services failed: {}",
                        status.message()
                    ))
                })?;
                return Err(ReflectionError::UnknownService { offered });
            }
            Err(status) if status.code() == Code::Unimplemented => last = Some(status),
            Err(status) => return Err(ReflectionError::Failed(describe(&status))),
        }
    }
    Err(ReflectionError::Failed(format!(
        "it offers no server reflection (grpc.reflection.v1 nor v1alpha: {}); give the step \
         `descriptor_set` or `proto` files instead",
        last.map(|status| describe(&status)).unwrap_or_default()
    )))
}

/// Asks for the imports the pool lacks until every file is there, then adds them all.
async fn add_with_imports(
    reflection: &Reflection,
    files: Vec<FileDescriptorProto>,
    pool: &mut DescriptorPool,
) -> Result<(), ReflectionError> {
    let mut found: HashMap<String, FileDescriptorProto> = files
        .into_iter()
        .map(|file| (file.name().to_string(), file))
        .collect();
    loop {
        let missing: Vec<String> = found
            .values()
            .flat_map(|file| file.dependency.iter())
            .filter(|name| !found.contains_key(*name) && pool.get_file_by_name(name).is_none())
            .cloned()
            .collect();
        let Some(name) = missing.into_iter().next() else {
            break;
        };
        let files = reflection
            .files(MessageRequest::FileByFilename(name.clone()))
            .await
            .map_err(|status| {
                ReflectionError::Failed(format!(
                    "asking for `{name}` failed: {}",
                    describe(&status)
                ))
            })?;
        if !files.iter().any(|file| file.name() == name) {
            return Err(ReflectionError::Failed(format!(
                "it did not send `{name}`, which its descriptors import"
            )));
        }
        for file in files {
            found.entry(file.name().to_string()).or_insert(file);
        }
    }
    pool.add_file_descriptor_protos(found.into_values())
        .map_err(|err| {
            ReflectionError::Failed(format!("its descriptors do not fit together: {err}"))
        })
}

fn describe(status: &Status) -> String {
    format!(
        "{} {}",
        super::status::code_name(status.code()),
        status.message()
    )
}
