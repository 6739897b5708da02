//! The actions a step can run, one file per family, and the dispatch from an [`ActionKind`] to
//! its implementation. An action gets its config already interpolated and returns the step
//! result: a map whose keys assertions and captures read.

pub mod amqp;
pub mod basic;
pub mod contract;
pub mod database;
pub mod fields;
pub mod grpc;
pub mod http;
pub mod kafka;
pub mod loki;
pub mod mock_contract;
pub mod mock_server;
pub mod nats;
pub mod otel;
pub mod prometheus;
pub mod query_api;
pub mod received;
pub mod redis;
pub mod s3;
pub mod tls;
pub mod transform;
pub mod wait_for;
pub mod websocket;

use serde_json::{Map, Value};

use crate::flow::actions::ActionKind;

use super::recorded::Recorded;
use super::session::Session;

/// What an action gives back.
#[derive(Debug, Clone, Default)]
pub struct ActionOutput {
    /// The step result: the keys assertions see and captures read.
    pub result: Map<String, Value>,
    /// What was sent, for reports (for HTTP: method, url, headers, body).
    pub request: Option<Recorded>,
    /// What the step's record keeps of the result when the action has a form of it more
    /// compact than `result` (an HTTP exchange); `result` itself when `None`.
    pub record: Option<Recorded>,
    /// Keys of the result that `result` leaves out and only `record` holds: costly to build
    /// and read by few steps (an HTTP response's `headers` and `cookies`). The runner renders
    /// the record when a step reads one. Empty without a record; never `body`.
    pub deferred: &'static [&'static str],
}

impl ActionOutput {
    pub fn from_result(result: Map<String, Value>) -> Self {
        Self {
            result,
            request: None,
            record: None,
            deferred: &[],
        }
    }

    /// A result, and what was sent to get it.
    pub fn with_request(result: Map<String, Value>, request: Value) -> Self {
        Self {
            result,
            request: Some(Recorded::from(request)),
            record: None,
            deferred: &[],
        }
    }
}

/// The keys an action left out of its result, with the record that holds them (see
/// [`ActionOutput::deferred`]).
#[derive(Clone, Copy)]
pub struct Deferred<'a> {
    keys: &'static [&'static str],
    record: &'a Recorded,
}

impl<'a> Deferred<'a> {
    /// What an action's output defers; `None` when it left out nothing.
    pub fn new(keys: &'static [&'static str], record: Option<&'a Recorded>) -> Option<Self> {
        record
            .filter(|_| !keys.is_empty())
            .map(|record| Self { keys, record })
    }

    /// The keys left out.
    pub fn keys(&self) -> &'static [&'static str] {
        self.keys
    }

    /// Whether `key` is one of them.
    pub fn holds(&self, key: &str) -> bool {
        self.keys.contains(&key)
    }

    /// The whole result, every key, rendered on first read.
    pub fn whole(&self) -> &'a Value {
        self.record
    }
}

/// Why an action could not produce a result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ActionError {
    /// The config, once interpolated, is not what the action needs; names the key and value.
    #[error("config.{field}: {message}")]
    InvalidConfig { field: String, message: String },
    /// The action ran and failed: a refused connection, a timeout, a server gone away.
    #[error("{0}")]
    Failed(String),
    /// A step nested in a control-flow action failed; the action fails as an assertion does.
    #[error("{0}")]
    NestedFailed(String),
    /// What the action checks did not hold (a mock server did not receive the requests asked
    /// for): the step fails as an assertion does, and a `retry` runs it again.
    #[error("{0}")]
    Unmet(String),
}

impl ActionError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ActionError::InvalidConfig {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Runs one action with its interpolated config.
///
/// Each action's future is boxed: awaited inline, this match would be as large as the largest
/// action's state (tens of KiB with gRPC and Kafka), and every step would copy that much
/// memory several times as its futures are built and moved.
pub async fn execute(
    kind: ActionKind,
    config: &Map<String, Value>,
    session: &Session,
) -> Result<ActionOutput, ActionError> {
    match kind {
        ActionKind::HttpRequest => Box::pin(http::execute(config, &session.http)).await,
        ActionKind::Assert => basic::assert_data(config),
        ActionKind::Log => basic::log(config, session),
        ActionKind::Delay => Box::pin(basic::delay(config)).await,
        ActionKind::Transform => transform::execute(config),
        ActionKind::MockServerStart => {
            Box::pin(mock_server::start(
                config,
                &session.mocks,
                session.base_dir.as_deref(),
            ))
            .await
        }
        ActionKind::MockServerStop => Box::pin(mock_server::stop(config, &session.mocks)).await,
        ActionKind::MockServerVerify => Box::pin(mock_server::verify(config, &session.mocks)).await,
        ActionKind::MockServerUpdate => Box::pin(mock_server::update(config, &session.mocks)).await,
        ActionKind::MockServerResetState => {
            Box::pin(mock_server::reset_state(config, &session.mocks)).await
        }
        ActionKind::DatabaseQuery => Box::pin(database::query(config, &session.databases)).await,
        ActionKind::RedisGet => Box::pin(redis::get(config, &session.redis)).await,
        ActionKind::RedisSet => Box::pin(redis::set(config, &session.redis)).await,
        ActionKind::RedisDel => Box::pin(redis::del(config, &session.redis)).await,
        ActionKind::RedisExists => Box::pin(redis::exists(config, &session.redis)).await,
        ActionKind::RedisCommand => Box::pin(redis::command(config, &session.redis)).await,
        ActionKind::RedisXadd => Box::pin(redis::xadd(config, &session.redis)).await,
        ActionKind::RedisXread => Box::pin(redis::xread(config, &session.redis)).await,
        ActionKind::WaitFor => Box::pin(wait_for::execute(config, &session.http)).await,
        ActionKind::NatsPublish => {
            let config = otel::with_trace_headers(config, session);
            Box::pin(nats::publish(&config, &session.nats)).await
        }
        ActionKind::NatsSubscribe => Box::pin(nats::subscribe(config, &session.nats)).await,
        ActionKind::AmqpPublish => {
            let config = otel::with_trace_headers(config, session);
            Box::pin(amqp::publish(&config, &session.amqp)).await
        }
        ActionKind::AmqpConsume => Box::pin(amqp::consume(config, &session.amqp)).await,
        ActionKind::KafkaProduce => {
            let config = otel::with_trace_headers(config, session);
            Box::pin(kafka::produce::produce(&config, &session.kafka)).await
        }
        ActionKind::Grpc => {
            let traceparent = session
                .http
                .trace
                .get()
                .map(|context| context.traceparent());
            Box::pin(grpc::execute(config, &session.grpc, traceparent)).await
        }
        // An assert runs its query once here; the runner repeats it until its condition holds.
        ActionKind::PrometheusQuery | ActionKind::PrometheusAssert => {
            Box::pin(prometheus::query(config, session)).await
        }
        ActionKind::LokiQuery | ActionKind::LokiAssert => {
            Box::pin(loki::query(config, session)).await
        }
        ActionKind::OtelInject => otel::inject(config, session),
        ActionKind::OtelAssert => Box::pin(otel::fetch(config, session)).await,
        ActionKind::S3Put => Box::pin(s3::put(config, &session.s3)).await,
        ActionKind::S3Get => Box::pin(s3::get(config, &session.s3)).await,
        ActionKind::S3Delete => Box::pin(s3::delete(config, &session.s3)).await,
        ActionKind::S3List => Box::pin(s3::list(config, &session.s3)).await,
        ActionKind::S3Assert => Box::pin(s3::inspect(config, &session.s3)).await,
        ActionKind::ContractGenerate => contract::generate(config, Vec::new(), session),
        ActionKind::ContractVerify => Box::pin(contract::verify(config, session)).await,
        ActionKind::DbPoll
        | ActionKind::WaitUntil
        | ActionKind::Condition
        | ActionKind::ForEach
        | ActionKind::Parallel
        | ActionKind::RunFlow
        | ActionKind::WebSocket
        | ActionKind::KafkaConsume => Err(ActionError::Failed(format!(
            "{kind} runs expressions or steps of its own, so the engine's runner drives it"
        ))),
    }
}
