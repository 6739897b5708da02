//! An in-process gRPC server for the grpc action's tests: the Orders service of
//! tests/fixtures/grpc (compiled with protox when the test runs), answered over dynamic messages
//! with the action's own codec, with server reflection in the version a test asks for. It binds
//! 127.0.0.1 on a free port and stops when dropped.

use std::convert::Infallible;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, ServiceDescriptor};
use serde_json::{Value, json};
use testmesh::engine::actions::grpc::codec::DynamicCodec;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

const SERVICE: &str = "testmesh.shop.v1.Orders";

/// Which reflection service the server offers.
#[derive(Clone, Copy, PartialEq)]
pub enum Reflection {
    None,
    V1,
    V1Alpha,
}

/// A running server.
pub struct GrpcServer {
    /// `127.0.0.1:port`.
    pub address: String,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for GrpcServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The folder of the test protos.
pub fn proto_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/grpc")
}

/// The test protos as an encoded FileDescriptorSet (imports included), as `protoc -o` writes.
pub fn descriptor_set() -> Vec<u8> {
    protox::compile(["testmesh/shop/v1/orders.proto"], [proto_dir()])
        .expect("the test protos compile")
        .encode_to_vec()
}

/// Starts the Orders service.
pub async fn start(reflection: Reflection) -> GrpcServer {
    let encoded = descriptor_set();
    let pool = DescriptorPool::decode(encoded.as_slice()).unwrap();
    let orders = OrdersService {
        service: pool.get_service_by_name(SERVICE).unwrap(),
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let mut router = tonic::transport::Server::builder().add_service(orders);
    let builder = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(&encoded);
    router = match reflection {
        Reflection::None => router,
        Reflection::V1 => router.add_service(builder.build_v1().unwrap()),
        Reflection::V1Alpha => router.add_service(builder.build_v1alpha().unwrap()),
    };
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = router
            .serve_with_incoming_shutdown(TcpIncoming::from(listener), async {
                let _ = stopped.await;
            })
            .await;
    });
    GrpcServer {
        address,
        stop: Some(stop),
    }
}

/// The Orders service over dynamic messages.
#[derive(Clone)]
struct OrdersService {
    service: ServiceDescriptor,
}

impl NamedService for OrdersService {
    const NAME: &'static str = SERVICE;
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl tower::Service<http::Request<Body>> for OrdersService {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let name = request.uri().path().rsplit('/').next().unwrap_or_default();
        let Some(method) = self.service.methods().find(|m| m.name() == name) else {
            let status = Status::unimplemented(format!("no method {name}"));
            return Box::pin(async move { Ok(status.into_http()) });
        };
        let output = method.output();
        let name = name.to_string();
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(DynamicCodec::new(method.input()));
            let handler = tower::service_fn(move |request: Request<DynamicMessage>| {
                answer(name.clone(), output.clone(), request)
            });
            Ok(grpc.unary(handler, request).await)
        })
    }
}

/// What each method answers; messages are read and written as JSON for brevity.
async fn answer(
    method: String,
    order: MessageDescriptor,
    request: Request<DynamicMessage>,
) -> Result<Response<DynamicMessage>, Status> {
    let tenant = request
        .metadata()
        .get("x-tenant")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let traceparent = request.metadata().get("traceparent").cloned();
    let fields = serde_json::to_value(request.get_ref()).unwrap();
    let text = |name: &str| fields[name].as_str().unwrap_or_default().to_string();
    let body = match method.as_str() {
        "GetOrder" if text("id") == "missing" => {
            return Err(Status::not_found("order missing does not exist"));
        }
        "GetOrder" => json!({
            "id": text("id"),
            "status": "SHIPPED",
            "items": [{"sku": "BOOK-1", "quantity": 2}],
            "customer": {"name": "Ada"},
            "totalCents": "5000000000",
            "tenant": tenant,
        }),
        "CreateOrder" => {
            let items = fields["items"].as_array().cloned().unwrap_or_default();
            let quantity: i64 = items
                .iter()
                .map(|i| i["quantity"].as_i64().unwrap_or(0))
                .sum();
            json!({
                "id": "ord-1",
                "status": fields.get("status").cloned().unwrap_or(Value::Null),
                "items": items,
                "customer": fields.get("customer").cloned().unwrap_or(Value::Null),
                "totalCents": (quantity * 250).to_string(),
                "tenant": tenant,
            })
        }
        _ => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            json!({"id": text("id")})
        }
    };
    let message = DynamicMessage::deserialize(order, body).unwrap();
    let mut response = Response::new(message);
    response
        .metadata_mut()
        .insert("x-served-by", "orders-test".parse().unwrap());
    if let Some(traceparent) = traceparent {
        response.metadata_mut().insert("x-traceparent", traceparent);
    }
    Ok(response)
}
