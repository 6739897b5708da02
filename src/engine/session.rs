//! Per-run state shared by the steps of one flow run: the HTTP connection pool and cookie jar
//! (and the trace context the steps carry), the mock servers the run started, the
//! database pools, Redis connections, NATS clients, AMQP connections, WebSocket connections,
//! Kafka clients, gRPC channels and S3 clients. Built once when a run starts, dropped when it
//! ends.

use std::path::PathBuf;

use indexmap::IndexMap;

use super::actions::amqp::AmqpClients;
use super::actions::database::DatabasePools;
use super::actions::grpc::GrpcChannels;
use super::actions::http::HttpSession;
use super::actions::kafka::KafkaClients;
use super::actions::mock_server::MockRegistry;
use super::actions::nats::NatsClients;
use super::actions::redis::RedisClients;
use super::actions::s3::S3Clients;
use super::actions::websocket::WebSockets;

/// Everything the actions of one run share.
pub struct Session {
    pub http: HttpSession,
    pub mocks: MockRegistry,
    /// SQL connection pools, one per connection string.
    pub databases: DatabasePools,
    /// Redis connections, one per server.
    pub redis: RedisClients,
    /// NATS clients, one per server.
    pub nats: NatsClients,
    /// AMQP connections, one per broker.
    pub amqp: AmqpClients,
    /// WebSocket connections, by the name steps give them.
    pub websockets: WebSockets,
    /// Kafka clients, one per broker list and credentials; also when the run began.
    pub kafka: KafkaClients,
    /// gRPC channels, one per server.
    pub grpc: GrpcChannels,
    /// S3 clients, one per store, bucket and credentials.
    pub s3: S3Clients,
    /// The flow's name, for log lines.
    pub flow_name: String,
    /// The flow file's folder: where the files steps name are found.
    pub base_dir: Option<PathBuf>,
    /// When the run began: where the time window of a log query starts unless told otherwise.
    pub started: chrono::DateTime<chrono::Utc>,
}

impl Session {
    /// A fresh session; `default_headers` are sent by every HTTP step unless it sets its own,
    /// and files the steps name (descriptor sets, certificates) are found from `base_dir`.
    pub fn new(
        flow_name: &str,
        default_headers: IndexMap<String, String>,
        base_dir: Option<PathBuf>,
    ) -> Self {
        Self {
            http: HttpSession::new(default_headers),
            mocks: MockRegistry::default(),
            databases: DatabasePools::default(),
            redis: RedisClients::default(),
            nats: NatsClients::default(),
            amqp: AmqpClients::default(),
            websockets: WebSockets::default(),
            kafka: KafkaClients::default(),
            s3: S3Clients::new(base_dir.clone()),
            grpc: GrpcChannels::new(base_dir.clone()),
            flow_name: flow_name.to_string(),
            started: chrono::Utc::now(),
            base_dir: base_dir.clone(),
        }
    }

    /// Stops what the run left running (mock servers, connection pools); called after teardown.
    pub async fn close(&self) {
        self.mocks.stop_all().await;
        self.databases.close_all().await;
        self.redis.close_all().await;
        self.nats.close_all().await;
        self.amqp.close_all().await;
        self.websockets.close_all().await;
        self.kafka.close_all().await;
        self.grpc.close_all().await;
    }
}
