//! Finds the method a step calls: in a descriptor set file, in `.proto` files compiled with
//! protox, or through the server's reflection service (kept for the run). A name that is not
//! there gets an error listing what is, with the nearest name as a suggestion.

use prost_reflect::{DescriptorPool, MethodDescriptor, ServiceDescriptor};
use tonic::transport::Channel;

use super::super::ActionError;
use super::call_spec::{CallSpec, DescriptorSource};
use super::channels::GrpcChannels;
use super::reflection::{self, ReflectionError};
use crate::flow::diagnostic::did_you_mean;

/// The descriptor of the step's method, which must be unary.
pub async fn find_method(
    spec: &CallSpec,
    channels: &GrpcChannels,
    channel: &Channel,
) -> Result<MethodDescriptor, ActionError> {
    let (pool, origin) = match &spec.descriptors {
        DescriptorSource::DescriptorSet(path) => {
            let bytes = tokio::fs::read(path).await.map_err(|err| {
                ActionError::invalid("descriptor_set", format!("{}: {err}", path.display()))
            })?;
            let pool = DescriptorPool::decode(bytes.as_slice()).map_err(|err| {
                ActionError::invalid(
                    "descriptor_set",
                    format!(
                        "{} is not a binary FileDescriptorSet (protoc -o, buf build -o): {err}",
                        path.display()
                    ),
                )
            })?;
            (pool, format!("the descriptor set {}", path.display()))
        }
        DescriptorSource::Protos {
            files,
            import_paths,
        } => {
            let set = protox::compile(files, import_paths)
                .map_err(|err| ActionError::invalid("proto", err.to_string()))?;
            let pool = DescriptorPool::from_file_descriptor_set(set)
                .map_err(|err| ActionError::invalid("proto", err.to_string()))?;
            (pool, "the proto files".to_string())
        }
        DescriptorSource::Reflection => (
            reflected_pool(spec, channels, channel).await?,
            format!("the server at {}", spec.server.authority),
        ),
    };
    let verb = match spec.descriptors {
        DescriptorSource::Reflection => "offers",
        _ => "defines",
    };
    let service = find_service(&pool, &spec.service, &origin, verb)?;
    let method = service
        .methods()
        .find(|method| method.name() == spec.method)
        .ok_or_else(|| {
            let names: Vec<String> = service.methods().map(|m| m.name().to_string()).collect();
            let hint = did_you_mean(&spec.method, names.iter().map(String::as_str))
                .map(|name| format!(" (did you mean `{name}`?)"))
                .unwrap_or_default();
            ActionError::invalid(
                "method",
                format!(
                    "service {} has no method `{}`{hint}; its methods are {}",
                    service.full_name(),
                    spec.method,
                    names.join(", ")
                ),
            )
        })?;
    if method.is_client_streaming() || method.is_server_streaming() {
        return Err(ActionError::invalid(
            "method",
            format!(
                "{} is a streaming method; the grpc action makes unary calls",
                spec.full_method()
            ),
        ));
    }
    Ok(method)
}

/// The reflected descriptors of the step's server, asked for when the service is not yet among
/// those this run has.
async fn reflected_pool(
    spec: &CallSpec,
    channels: &GrpcChannels,
    channel: &Channel,
) -> Result<DescriptorPool, ActionError> {
    let mut pool = channels.reflected(&spec.server).await.unwrap_or_default();
    if pool.get_service_by_name(&spec.service).is_some() {
        return Ok(pool);
    }
    let authority = &spec.server.authority;
    let loaded = tokio::time::timeout(
        spec.timeout,
        reflection::load_service(channel, &spec.service, &mut pool),
    )
    .await
    .map_err(|_| {
        ActionError::Failed(format!(
            "the gRPC server at {authority} did not answer reflection within {:?}",
            spec.timeout
        ))
    })?;
    match loaded {
        Ok(()) => {
            channels.keep_reflected(&spec.server, pool.clone()).await;
            Ok(pool)
        }
        Err(ReflectionError::UnknownService { offered }) => {
            let offered: Vec<String> = offered
                .into_iter()
                .filter(|name| !name.starts_with("grpc.reflection."))
                .collect();
            Err(unknown_service(
                &spec.service,
                &offered,
                &format!("the server at {authority}"),
                "offers",
            ))
        }
        Err(ReflectionError::Failed(reason)) => Err(ActionError::Failed(format!(
            "server reflection at {authority}: {reason}"
        ))),
    }
}

fn find_service(
    pool: &DescriptorPool,
    name: &str,
    origin: &str,
    verb: &str,
) -> Result<ServiceDescriptor, ActionError> {
    pool.get_service_by_name(name).ok_or_else(|| {
        let names: Vec<String> = pool
            .services()
            .map(|service| service.full_name().to_string())
            .collect();
        unknown_service(name, &names, origin, verb)
    })
}

fn unknown_service(name: &str, known: &[String], origin: &str, verb: &str) -> ActionError {
    let hint = did_you_mean(name, known.iter().map(String::as_str))
        .map(|known| format!(" (did you mean `{known}`?)"))
        .unwrap_or_default();
    let listing = if known.is_empty() {
        "no service".to_string()
    } else {
        known.join(", ")
    };
    ActionError::invalid(
        "method",
        format!("no service `{name}` in {origin}{hint}; it {verb} {listing}"),
    )
}
