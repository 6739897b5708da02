//! The catalogue of actions: their names (with the aliases found in existing flow files) and the
//! config keys each one reads. The validator checks steps against it; the engine dispatches on it.

use std::fmt;

/// Every action this version can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionKind {
    HttpRequest,
    Assert,
    Log,
    Delay,
    Transform,
    MockServerStart,
    MockServerStop,
    MockServerVerify,
    MockServerUpdate,
    MockServerResetState,
    DatabaseQuery,
    DbPoll,
    RedisGet,
    RedisSet,
    RedisDel,
    RedisExists,
    RedisCommand,
    RedisXadd,
    RedisXread,
    WaitFor,
    WaitUntil,
    Condition,
    ForEach,
    Parallel,
    RunFlow,
    NatsPublish,
    NatsSubscribe,
    AmqpPublish,
    AmqpConsume,
    WebSocket,
    KafkaProduce,
    KafkaConsume,
    Grpc,
    PrometheusQuery,
    PrometheusAssert,
    LokiQuery,
    LokiAssert,
    OtelInject,
    OtelAssert,
    S3Put,
    S3Get,
    S3Delete,
    S3List,
    S3Assert,
    ContractGenerate,
    ContractVerify,
}

/// The type a config key's value must have, checked by the validator unless the value is a
/// single `${reference}` (whose type is only known when the step runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// Anything.
    Any,
    /// Text, a number or a boolean (printed as text).
    Text,
    /// `500ms`, `2s`, or a number.
    Duration,
    /// A whole number.
    Count,
    /// true or false.
    Flag,
    /// A list.
    List,
    /// A map.
    Map,
    /// true, false, or a map of settings.
    FlagOrMap,
}

impl KeyType {
    /// Describes the expected value, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            KeyType::Any => "any value",
            KeyType::Text => "text",
            KeyType::Duration => "a duration such as 500ms or 2s",
            KeyType::Count => "a whole number",
            KeyType::Flag => "true or false",
            KeyType::List => "a list",
            KeyType::Map => "a map",
            KeyType::FlagOrMap => "true, false or a map",
        }
    }
}

/// The connection keys every Redis action reads, followed by its own.
macro_rules! redis_keys {
    ($($own:literal),*) => {
        &[
            "url", "host", "port", "username", "password", "db", "tls", "connect_timeout",
            $($own),*
        ]
    };
}

/// The connection keys every Kafka action reads, followed by its own.
macro_rules! kafka_keys {
    ($($own:literal),*) => {
        &["brokers", "bootstrap_servers", "topic", "sasl", "tls", "timeout", $($own),*]
    };
}

/// The keys every action reading an observability backend's query API takes (see
/// `engine::actions::query_api`), followed by its own.
macro_rules! query_api_keys {
    ($($own:literal),*) => {
        &["url", "auth", "headers", "timeout", $($own),*]
    };
}

/// The keys every S3 action reads (the store, bucket and credentials, in our names and the
/// original platform's MinIO names), followed by its own.
macro_rules! s3_keys {
    ($($own:literal),*) => {
        &[
            "endpoint", "region", "bucket", "access_key", "access_key_id", "secret_key",
            "secret_access_key", "session_token", "path_style", "use_ssl", "timeout",
            $($own),*
        ]
    };
}

/// What the validator knows of one action's config.
pub struct ConfigKeys {
    /// Keys that must be present (any one of a `|`-separated group).
    pub required: &'static [&'static str],
    /// Every key the action reads.
    pub known: &'static [&'static str],
}

impl ActionKind {
    /// Every action, in the order the documentation lists them.
    pub const ALL: &[ActionKind] = &[
        ActionKind::HttpRequest,
        ActionKind::Assert,
        ActionKind::Log,
        ActionKind::Delay,
        ActionKind::Transform,
        ActionKind::MockServerStart,
        ActionKind::MockServerStop,
        ActionKind::MockServerVerify,
        ActionKind::MockServerUpdate,
        ActionKind::MockServerResetState,
        ActionKind::DatabaseQuery,
        ActionKind::DbPoll,
        ActionKind::RedisGet,
        ActionKind::RedisSet,
        ActionKind::RedisDel,
        ActionKind::RedisExists,
        ActionKind::RedisCommand,
        ActionKind::RedisXadd,
        ActionKind::RedisXread,
        ActionKind::WaitFor,
        ActionKind::WaitUntil,
        ActionKind::Condition,
        ActionKind::ForEach,
        ActionKind::Parallel,
        ActionKind::RunFlow,
        ActionKind::NatsPublish,
        ActionKind::NatsSubscribe,
        ActionKind::AmqpPublish,
        ActionKind::AmqpConsume,
        ActionKind::WebSocket,
        ActionKind::KafkaProduce,
        ActionKind::KafkaConsume,
        ActionKind::Grpc,
        ActionKind::PrometheusQuery,
        ActionKind::PrometheusAssert,
        ActionKind::LokiQuery,
        ActionKind::LokiAssert,
        ActionKind::OtelInject,
        ActionKind::OtelAssert,
        ActionKind::S3Put,
        ActionKind::S3Get,
        ActionKind::S3Delete,
        ActionKind::S3List,
        ActionKind::S3Assert,
        ActionKind::ContractGenerate,
        ActionKind::ContractVerify,
    ];

    /// The required key groups (as [`ConfigKeys::required`] writes them) that an environment's
    /// action defaults may supply: the connection of the server the action talks to.
    pub fn environment_keys(self) -> &'static [&'static str] {
        match self {
            ActionKind::DatabaseQuery | ActionKind::DbPoll => {
                &["connection|dsn|url|connection_string"]
            }
            ActionKind::Grpc => &["address|url|target|host"],
            _ => &[],
        }
    }

    /// A connection key that is not required because it has a fallback, which an environment's
    /// action defaults usually supply: the key group and the fallback.
    pub fn defaulted_connection_key(self) -> Option<(&'static str, &'static str)> {
        match self {
            ActionKind::KafkaProduce | ActionKind::KafkaConsume => {
                Some(("brokers|bootstrap_servers", "127.0.0.1:9092"))
            }
            _ => None,
        }
    }

    /// Looks an action up by its name or one of its aliases.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|kind| kind.name() == name || kind.aliases().contains(&name))
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            ActionKind::HttpRequest => "http_request",
            ActionKind::Assert => "assert",
            ActionKind::Log => "log",
            ActionKind::Delay => "delay",
            ActionKind::Transform => "transform",
            ActionKind::MockServerStart => "mock_server_start",
            ActionKind::MockServerStop => "mock_server_stop",
            ActionKind::MockServerVerify => "mock_server_verify",
            ActionKind::MockServerUpdate => "mock_server_update",
            ActionKind::MockServerResetState => "mock_server_reset_state",
            ActionKind::DatabaseQuery => "database_query",
            ActionKind::DbPoll => "db_poll",
            ActionKind::RedisGet => "redis.get",
            ActionKind::RedisSet => "redis.set",
            ActionKind::RedisDel => "redis.del",
            ActionKind::RedisExists => "redis.exists",
            ActionKind::RedisCommand => "redis.command",
            ActionKind::RedisXadd => "redis.xadd",
            ActionKind::RedisXread => "redis.xread",
            ActionKind::WaitFor => "wait_for",
            ActionKind::WaitUntil => "wait_until",
            ActionKind::Condition => "condition",
            ActionKind::ForEach => "for_each",
            ActionKind::Parallel => "parallel",
            ActionKind::RunFlow => "run_flow",
            ActionKind::NatsPublish => "nats.publish",
            ActionKind::NatsSubscribe => "nats.subscribe",
            ActionKind::AmqpPublish => "amqp.publish",
            ActionKind::AmqpConsume => "amqp.consume",
            ActionKind::WebSocket => "websocket",
            ActionKind::KafkaProduce => "kafka_producer",
            ActionKind::KafkaConsume => "kafka_consumer",
            ActionKind::Grpc => "grpc",
            ActionKind::PrometheusQuery => "prometheus.query",
            ActionKind::PrometheusAssert => "prometheus.assert",
            ActionKind::LokiQuery => "loki.query",
            ActionKind::LokiAssert => "loki.assert",
            ActionKind::OtelInject => "otel.inject",
            ActionKind::OtelAssert => "otel.assert",
            ActionKind::S3Put => "s3.put",
            ActionKind::S3Get => "s3.get",
            ActionKind::S3Delete => "s3.delete",
            ActionKind::S3List => "s3.list",
            ActionKind::S3Assert => "s3.assert",
            ActionKind::ContractGenerate => "contract_generate",
            ActionKind::ContractVerify => "contract_verify",
        }
    }

    /// Other names existing flow files use for the same action.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            ActionKind::HttpRequest => &["http"],
            ActionKind::Delay => &["sleep", "wait"],
            ActionKind::MockServerUpdate => &["mock_server_configure"],
            ActionKind::DatabaseQuery => &["db_query", "sql", "database"],
            ActionKind::RedisGet => &["redis_get"],
            ActionKind::RedisSet => &["redis_set"],
            ActionKind::RedisDel => &["redis_del", "redis.delete", "redis_delete"],
            ActionKind::RedisExists => &["redis_exists"],
            ActionKind::RedisCommand => &["redis_command", "redis"],
            ActionKind::RedisXadd => &["redis_xadd", "redis.stream_add"],
            ActionKind::RedisXread => &["redis_xread", "redis.stream_read", "redis.stream_wait"],
            ActionKind::Condition => &["if"],
            ActionKind::ForEach => &["loop", "foreach"],
            ActionKind::RunFlow => &["call_flow", "include"],
            ActionKind::PrometheusQuery => &["prometheus_query"],
            ActionKind::PrometheusAssert => &["prometheus_assert"],
            ActionKind::LokiQuery => &["loki_query"],
            ActionKind::LokiAssert => &["loki_assert"],
            ActionKind::OtelInject => &["otel_inject"],
            ActionKind::OtelAssert => &["otel_assert", "trace_assert"],
            ActionKind::S3Put => &["minio.put", "s3_put", "minio_put"],
            ActionKind::S3Get => &["minio.get", "s3_get", "minio_get"],
            ActionKind::S3Delete => &["minio.delete", "s3_delete", "minio_delete"],
            ActionKind::S3List => &["minio.list", "s3_list", "minio_list"],
            ActionKind::S3Assert => &["minio.assert", "s3_assert", "minio_assert"],
            ActionKind::ContractGenerate => &["contract.generate", "pact_generate"],
            ActionKind::ContractVerify => &["contract.verify", "pact_verify"],
            ActionKind::NatsPublish => &["nats_publish"],
            ActionKind::NatsSubscribe => &["nats_subscribe", "nats.consume", "nats_consume"],
            ActionKind::AmqpPublish => &["amqp_publish", "rabbitmq.publish"],
            ActionKind::AmqpConsume => &["amqp_consume", "rabbitmq.consume"],
            ActionKind::WebSocket => &["ws"],
            ActionKind::KafkaProduce => &["kafka_publish", "kafka.produce", "kafka.publish"],
            ActionKind::KafkaConsume => &["kafka_consume", "kafka.consume"],
            ActionKind::Grpc => &["grpc_call", "grpc.call"],
            _ => &[],
        }
    }

    /// The config keys of this action.
    pub fn config_keys(self) -> ConfigKeys {
        match self {
            ActionKind::HttpRequest => ConfigKeys {
                required: &["url"],
                known: &[
                    "method",
                    "url",
                    "headers",
                    "params",
                    "query",
                    "body",
                    "json",
                    "form",
                    "auth",
                    "cookies",
                    "timeout",
                    "follow_redirects",
                    "max_redirects",
                    "verify_ssl",
                ],
            },
            ActionKind::Assert => ConfigKeys {
                required: &[],
                known: &["data", "assertions"],
            },
            ActionKind::Log => ConfigKeys {
                required: &["message"],
                known: &["message", "level"],
            },
            ActionKind::Delay => ConfigKeys {
                required: &["duration"],
                known: &["duration"],
            },
            ActionKind::Transform => ConfigKeys {
                required: &["transforms"],
                known: &["input", "transforms"],
            },
            ActionKind::MockServerStart => ConfigKeys {
                required: &["endpoints"],
                known: &[
                    "name",
                    "port",
                    "endpoints",
                    "record_contract",
                    "consumer",
                    "provider",
                ],
            },
            ActionKind::MockServerStop | ActionKind::MockServerResetState => ConfigKeys {
                required: &["server|name|server_id"],
                known: &["server", "name", "server_id"],
            },
            ActionKind::MockServerVerify => ConfigKeys {
                required: &["server|name|server_id"],
                known: &[
                    "server",
                    "name",
                    "server_id",
                    "method",
                    "path",
                    "endpoint",
                    "path_pattern",
                    "headers",
                    "query_params",
                    "query",
                    "body",
                    "body_json",
                    "times",
                    "count",
                    "expected_calls",
                    "at_least",
                    "count_min",
                    "min_times",
                    "at_most",
                    "count_max",
                    "max_times",
                    "assertions",
                ],
            },
            ActionKind::MockServerUpdate => ConfigKeys {
                required: &["server|name|server_id", "endpoints|endpoint"],
                known: &["server", "name", "server_id", "endpoints", "endpoint"],
            },
            ActionKind::DatabaseQuery => ConfigKeys {
                required: &["connection|dsn|url|connection_string", "query"],
                known: &[
                    "connection",
                    "dsn",
                    "url",
                    "connection_string",
                    "query",
                    "params",
                    "timeout",
                    "connect_timeout",
                ],
            },
            ActionKind::DbPoll => ConfigKeys {
                required: &["connection|dsn|url|connection_string", "query"],
                known: &[
                    "connection",
                    "dsn",
                    "url",
                    "connection_string",
                    "query",
                    "params",
                    "condition",
                    "interval",
                    "timeout",
                    "query_timeout",
                    "connect_timeout",
                ],
            },
            ActionKind::RedisGet | ActionKind::RedisExists => ConfigKeys {
                required: &["key|keys"],
                known: redis_keys!("key", "keys"),
            },
            ActionKind::RedisSet => ConfigKeys {
                required: &["key", "value"],
                known: redis_keys!("key", "value", "ttl", "nx"),
            },
            ActionKind::RedisDel => ConfigKeys {
                required: &["key|keys"],
                known: redis_keys!("key", "keys"),
            },
            ActionKind::RedisCommand => ConfigKeys {
                required: &["command"],
                known: redis_keys!("command", "args"),
            },
            ActionKind::RedisXadd => ConfigKeys {
                required: &["stream", "fields"],
                known: redis_keys!("stream", "fields", "id", "maxlen"),
            },
            ActionKind::RedisXread => ConfigKeys {
                required: &["stream"],
                known: redis_keys!("stream", "match", "from", "timeout", "count"),
            },
            ActionKind::WaitFor => ConfigKeys {
                required: &["url|tcp|port"],
                known: &[
                    "type",
                    "url",
                    "status",
                    "verify_ssl",
                    "tcp",
                    "host",
                    "port",
                    "interval",
                    "timeout",
                ],
            },
            ActionKind::WaitUntil => ConfigKeys {
                required: &["steps"],
                known: &["steps", "condition", "interval", "timeout", "max_attempts"],
            },
            ActionKind::Condition => ConfigKeys {
                required: &["condition|if|expression", "then|else"],
                known: &["condition", "if", "expression", "then", "else"],
            },
            ActionKind::ForEach => ConfigKeys {
                required: &["items|range|count", "steps"],
                known: &[
                    "items",
                    "range",
                    "count",
                    "as",
                    "item",
                    "index",
                    "steps",
                    "max_concurrent",
                    "parallelism",
                    "fail_fast",
                ],
            },
            ActionKind::Parallel => ConfigKeys {
                required: &["branches|steps"],
                known: &["branches", "steps", "fail_fast", "max_concurrent"],
            },
            ActionKind::RunFlow => ConfigKeys {
                required: &["flow|file|path"],
                known: &["flow", "file", "path", "inputs", "variables"],
            },
            ActionKind::NatsPublish => ConfigKeys {
                required: &["subject", "data|payload|message|body"],
                known: &[
                    "url",
                    "subject",
                    "data",
                    "payload",
                    "message",
                    "body",
                    "headers",
                    "jetstream",
                ],
            },
            ActionKind::NatsSubscribe => ConfigKeys {
                required: &["subject"],
                known: &["url", "subject", "stream", "match", "count", "timeout"],
            },
            ActionKind::AmqpPublish => ConfigKeys {
                required: &["queue|routing_key", "data|payload|message|body"],
                known: &[
                    "url",
                    "exchange",
                    "routing_key",
                    "queue",
                    "durable",
                    "data",
                    "payload",
                    "message",
                    "body",
                    "headers",
                    "content_type",
                ],
            },
            ActionKind::AmqpConsume => ConfigKeys {
                required: &["queue"],
                known: &["url", "queue", "durable", "match", "count", "timeout"],
            },
            ActionKind::WebSocket => ConfigKeys {
                required: &[],
                known: &[
                    "url",
                    "connection",
                    "headers",
                    "subprotocols",
                    "connect_timeout",
                    "verify_ssl",
                    "send",
                    "send_binary",
                    "until",
                    "count",
                    "timeout",
                    "close",
                    "close_code",
                    "close_reason",
                ],
            },
            ActionKind::KafkaProduce => ConfigKeys {
                required: &["topic", "value|messages"],
                known: kafka_keys!(
                    "key",
                    "value",
                    "headers",
                    "partition",
                    "messages",
                    "compression"
                ),
            },
            ActionKind::KafkaConsume => ConfigKeys {
                required: &["topic"],
                known: kafka_keys!(
                    "partition",
                    "partitions",
                    "from",
                    "until",
                    "count",
                    "group_id"
                ),
            },
            ActionKind::PrometheusQuery => ConfigKeys {
                required: &["url", "query"],
                known: query_api_keys!("query", "time", "start", "end", "step"),
            },
            ActionKind::PrometheusAssert => ConfigKeys {
                required: &["url", "query"],
                known: query_api_keys!(
                    "query",
                    "time",
                    "start",
                    "end",
                    "step",
                    "condition",
                    "assert",
                    "within",
                    "interval"
                ),
            },
            ActionKind::LokiQuery => ConfigKeys {
                required: &["url", "query"],
                known: query_api_keys!("query", "start", "end", "limit", "direction"),
            },
            ActionKind::LokiAssert => ConfigKeys {
                required: &["url", "query"],
                known: query_api_keys!(
                    "query",
                    "start",
                    "end",
                    "limit",
                    "direction",
                    "condition",
                    "assert",
                    "within",
                    "interval"
                ),
            },
            ActionKind::OtelInject => ConfigKeys {
                required: &[],
                known: &["trace_id", "span", "name", "sampled"],
            },
            ActionKind::OtelAssert => ConfigKeys {
                required: &["backend_url|url"],
                known: &[
                    "backend",
                    "backend_url",
                    "url",
                    "auth",
                    "headers",
                    "timeout",
                    "trace_id",
                    "service",
                    "operation",
                    "span_name",
                    "attributes",
                    "condition",
                    "assert",
                    "within",
                    "interval",
                ],
            },
            ActionKind::S3Put => ConfigKeys {
                required: &[
                    "endpoint",
                    "bucket",
                    "key|object",
                    "body|data|body_base64|file",
                ],
                known: s3_keys!(
                    "key",
                    "object",
                    "body",
                    "data",
                    "body_base64",
                    "file",
                    "content_type",
                    "metadata"
                ),
            },
            ActionKind::S3Get => ConfigKeys {
                required: &["endpoint", "bucket", "key|object"],
                known: s3_keys!("key", "object", "as"),
            },
            ActionKind::S3Delete => ConfigKeys {
                required: &["endpoint", "bucket", "key|object"],
                known: s3_keys!("key", "object"),
            },
            ActionKind::S3List => ConfigKeys {
                required: &["endpoint", "bucket"],
                known: s3_keys!("prefix"),
            },
            ActionKind::S3Assert => ConfigKeys {
                required: &["endpoint", "bucket", "key|object"],
                known: s3_keys!(
                    "key",
                    "object",
                    "exists",
                    "size",
                    "size_gte",
                    "content_type",
                    "metadata",
                    "condition",
                    "assert",
                    "within",
                    "interval"
                ),
            },
            ActionKind::ContractGenerate => ConfigKeys {
                required: &["file|path", "consumer", "provider", "interactions|steps"],
                known: &[
                    "file",
                    "path",
                    "consumer",
                    "provider",
                    "interactions",
                    "steps",
                ],
            },
            ActionKind::ContractVerify => ConfigKeys {
                required: &["file|path", "provider_url|url"],
                known: &[
                    "file",
                    "path",
                    "provider_url",
                    "provider_states_url",
                    "url",
                    "headers",
                    "auth",
                    "timeout",
                ],
            },
            ActionKind::Grpc => ConfigKeys {
                required: &["address|url|target|host", "method"],
                known: &[
                    "address",
                    "url",
                    "target",
                    "host",
                    "service",
                    "method",
                    "request",
                    "message",
                    "body",
                    "metadata",
                    "timeout",
                    "tls",
                    "descriptor_set",
                    "proto",
                    "import_paths",
                ],
            },
        }
    }

    /// What `validate` says, as a warning, of a key this action accepts but does not honour as
    /// the original platform did.
    pub fn key_caveat(self, key: &str) -> Option<&'static str> {
        match (self, key) {
            (ActionKind::KafkaConsume, "group_id") => Some(
                "accepted, but no consumer group is joined: the partitions are read directly and no offsets are committed, so another consumer of the group still sees these messages",
            ),
            _ => None,
        }
    }

    /// Config keys the engine reads as written, not interpolated before the step runs:
    /// expressions (checked against each result) and nested steps (interpolated as they run).
    pub fn raw_config_keys(self) -> &'static [&'static str] {
        match self {
            ActionKind::DbPoll => &["condition"],
            ActionKind::KafkaConsume => &["until"],
            ActionKind::WaitUntil => &["steps", "condition"],
            ActionKind::Condition => &["condition", "if", "expression", "then", "else"],
            ActionKind::ForEach => &["steps"],
            ActionKind::Parallel => &["branches", "steps"],
            ActionKind::WebSocket => &["until"],
            ActionKind::PrometheusAssert
            | ActionKind::LokiAssert
            | ActionKind::OtelAssert
            | ActionKind::S3Assert => &["condition", "assert"],
            _ => &[],
        }
    }

    /// The references in this action's config the action fills itself, for each thing it
    /// handles, rather than the engine before the step runs.
    pub fn late_references(self) -> Option<&'static LateReferences> {
        match self {
            ActionKind::MockServerStart | ActionKind::MockServerUpdate => {
                Some(&MOCK_RESPONSE_TEMPLATES)
            }
            _ => None,
        }
    }

    /// The config keys that hold lists of nested steps.
    pub fn nested_step_keys(self) -> &'static [&'static str] {
        match self {
            ActionKind::WaitUntil | ActionKind::ForEach => &["steps"],
            ActionKind::Condition => &["then", "else"],
            ActionKind::Parallel => &["steps"],
            _ => &[],
        }
    }

    /// Whether this action reads an observability backend's query API.
    pub fn reads_a_query_api(self) -> bool {
        matches!(
            self,
            ActionKind::PrometheusQuery
                | ActionKind::PrometheusAssert
                | ActionKind::LokiQuery
                | ActionKind::LokiAssert
                | ActionKind::OtelAssert
        )
    }

    /// Whether this is one of the S3 actions.
    pub fn is_s3(self) -> bool {
        matches!(
            self,
            ActionKind::S3Put
                | ActionKind::S3Get
                | ActionKind::S3Delete
                | ActionKind::S3List
                | ActionKind::S3Assert
        )
    }

    /// Whether this action repeats a query until its `condition` (or `assert`) holds.
    pub fn polls_a_query_api(self) -> bool {
        matches!(
            self,
            ActionKind::PrometheusAssert
                | ActionKind::LokiAssert
                | ActionKind::OtelAssert
                | ActionKind::S3Assert
        )
    }

    /// The type the value of `key` must have.
    pub fn key_type(self, key: &str) -> KeyType {
        if self.nested_step_keys().contains(&key)
            || (self == ActionKind::Parallel && key == "branches")
        {
            return KeyType::List;
        }
        match key {
            "timeout" | "connect_timeout" | "query_timeout" | "interval" | "duration"
            | "within" => KeyType::Duration,
            "step" if self.reads_a_query_api() => KeyType::Duration,
            "time" | "start" | "end" | "assert" if self.reads_a_query_api() => KeyType::Any,
            "limit" if self.reads_a_query_api() => KeyType::Count,
            "direction" | "backend" | "backend_url" | "trace_id" | "operation" | "span_name"
                if self.reads_a_query_api() =>
            {
                KeyType::Text
            }
            "attributes" if self == ActionKind::OtelAssert => KeyType::Map,
            "sampled" => KeyType::Flag,
            "steps" | "interactions" if self == ActionKind::ContractGenerate => KeyType::List,
            "consumer"
            | "provider"
            | "provider_url"
            | "provider_states_url"
            | "record_contract" => KeyType::Text,
            "endpoint" | "region" | "bucket" | "object" | "access_key" | "access_key_id"
            | "secret_key" | "secret_access_key" | "session_token" | "prefix" | "body_base64"
                if self.is_s3() =>
            {
                KeyType::Text
            }
            "path_style" | "use_ssl" | "exists" if self.is_s3() => KeyType::Flag,
            "size" | "size_gte" if self.is_s3() => KeyType::Count,
            "metadata" if self.is_s3() => KeyType::Map,
            "assert" if self == ActionKind::S3Assert => KeyType::Any,
            "trace_id" | "span" if self == ActionKind::OtelInject => KeyType::Text,
            "status" if self == ActionKind::WaitFor => KeyType::Count,
            "times" | "expected_calls" | "at_least" | "count_min" | "min_times" | "at_most"
            | "count_max" | "max_times"
                if self == ActionKind::MockServerVerify =>
            {
                KeyType::Count
            }
            "query_params" | "query" if self == ActionKind::MockServerVerify => KeyType::Map,
            "assertions" if self == ActionKind::MockServerVerify => KeyType::List,
            "endpoint" if self == ActionKind::MockServerUpdate => KeyType::Map,
            "endpoint" if self == ActionKind::MockServerVerify => KeyType::Text,
            "server" | "path_pattern" => KeyType::Text,
            "max_concurrent" | "parallelism" | "max_attempts" => KeyType::Count,
            "fail_fast" => KeyType::Flag,
            "tls" if self == ActionKind::Grpc => KeyType::FlagOrMap,
            "request" | "metadata" if self == ActionKind::Grpc => KeyType::Map,
            "message" | "body" if self == ActionKind::Grpc => KeyType::Map,
            "service" | "descriptor_set" | "address" | "target" => KeyType::Text,
            "import_paths" => KeyType::List,
            "inputs" | "variables" => KeyType::Map,
            "brokers" | "bootstrap_servers" | "value" | "partition" | "partitions"
                if matches!(self, ActionKind::KafkaProduce | ActionKind::KafkaConsume) =>
            {
                KeyType::Any
            }
            "topic" | "group_id" | "compression" | "until" => KeyType::Text,
            "messages" => KeyType::List,
            "sasl" => KeyType::Map,
            "connection" | "dsn" | "connection_string" | "query" | "condition" | "url" | "if"
            | "expression" | "flow" | "file" | "path" | "as" | "tcp" | "type" | "method"
            | "name" | "server_id" | "message" | "level" | "close_reason" => KeyType::Text,
            "params" if matches!(self, ActionKind::DatabaseQuery | ActionKind::DbPoll) => {
                KeyType::List
            }
            "max_redirects" | "port" | "db" | "maxlen" | "close_code" => KeyType::Count,
            "count" if self != ActionKind::ForEach => KeyType::Count,
            "follow_redirects" | "verify_ssl" | "tls" | "nx" | "jetstream" | "durable"
            | "close" => KeyType::Flag,
            "subject" | "exchange" | "routing_key" | "queue" | "content_type" => KeyType::Text,
            "key" | "stream" | "host" | "username" | "password" | "from" | "id" => KeyType::Text,
            "ttl" => KeyType::Duration,
            "headers" | "transforms" | "auth" | "fields" | "match" => KeyType::Map,
            "endpoints" | "subprotocols" => KeyType::List,
            _ => KeyType::Any,
        }
    }

    /// Every accepted name, canonical names first, for "unknown action" messages.
    pub fn known_names() -> Vec<&'static str> {
        Self::ALL.iter().map(|kind| kind.name()).collect()
    }
}

/// True when a `parallel` step's `branches` lists steps (each with an `action`, none with
/// `steps`), as the original platform's files write it: each step is then a branch of its own.
pub fn branches_are_steps(items: &[serde_json::Value]) -> bool {
    !items.is_empty()
        && items
            .iter()
            .all(|item| item.get("action").is_some() && item.get("steps").is_none())
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// References an action fills itself: those whose root is one of `roots`, standing under one
/// of `places` (config key paths, `[]` for any item of a list).
#[derive(Debug)]
pub struct LateReferences {
    pub roots: &'static [&'static str],
    pub places: &'static [&'static [&'static str]],
}

impl LateReferences {
    /// Whether the reference `name`, standing at `place` (config keys and `[]` for list
    /// items, `endpoints`, `[]`, `response`, ...), is left for the action.
    pub fn leaves(&self, name: &str, place: &[&str]) -> bool {
        self.roots.contains(&super::reference::root_of(name))
            && self.places.iter().any(|prefix| {
                place.len() >= prefix.len() && prefix.iter().zip(place).all(|(a, b)| a == b)
            })
    }
}

/// The mock server's response templates (`{{request.body.name}}`, `{{state.counter}}`),
/// filled for each request it answers: in endpoint responses and `set` state values.
const MOCK_RESPONSE_TEMPLATES: LateReferences = LateReferences {
    roots: &crate::mock::template::TEMPLATE_ROOTS,
    places: &[
        &["endpoints", "[]", "response"],
        &["endpoints", "[]", "state"],
        &["endpoint", "response"],
        &["endpoint", "state"],
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_resolve() {
        assert_eq!(ActionKind::from_name("http"), Some(ActionKind::HttpRequest));
        assert_eq!(
            ActionKind::from_name("http_request"),
            Some(ActionKind::HttpRequest)
        );
        assert_eq!(
            ActionKind::from_name("mock_server_stop"),
            Some(ActionKind::MockServerStop)
        );
        assert_eq!(ActionKind::from_name("HTTP"), None);
        for &kind in ActionKind::ALL {
            assert_eq!(ActionKind::from_name(kind.name()), Some(kind));
            for required in kind.config_keys().required {
                for key in required.split('|') {
                    assert!(kind.config_keys().known.contains(&key), "{kind}: {key}");
                }
            }
        }
    }
}
