//! What a person reads of each action in the editor's palette: its group and a one-line
//! description. Kept beside the catalogue (src/flow/actions.rs) so that an action added there
//! fails to compile until it is described here.

use serde::Serialize;

use super::actions::ActionKind;

/// The palette's groups, in the order it shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionGroup {
    Http,
    Databases,
    Messaging,
    Observability,
    ControlFlow,
    Mocks,
    Utilities,
}

impl ActionGroup {
    pub const ALL: &[ActionGroup] = &[
        ActionGroup::Http,
        ActionGroup::Databases,
        ActionGroup::Messaging,
        ActionGroup::Observability,
        ActionGroup::ControlFlow,
        ActionGroup::Mocks,
        ActionGroup::Utilities,
    ];

    /// The heading the palette shows.
    pub fn label(self) -> &'static str {
        match self {
            ActionGroup::Http => "HTTP & API",
            ActionGroup::Databases => "Databases & storage",
            ActionGroup::Messaging => "Messaging",
            ActionGroup::Observability => "Metrics, logs & traces",
            ActionGroup::ControlFlow => "Control flow",
            ActionGroup::Mocks => "Mocks",
            ActionGroup::Utilities => "Utilities",
        }
    }
}

impl ActionKind {
    /// The palette group this action is listed under.
    pub fn group(self) -> ActionGroup {
        use ActionKind::*;
        match self {
            HttpRequest | WaitFor | WebSocket | Grpc | ContractGenerate | ContractVerify => {
                ActionGroup::Http
            }
            DatabaseQuery | DbPoll | RedisGet | RedisSet | RedisDel | RedisExists
            | RedisCommand | S3Put | S3Get | S3Delete | S3List | S3Assert => ActionGroup::Databases,
            PrometheusQuery | PrometheusAssert | LokiQuery | LokiAssert | OtelInject
            | OtelAssert => ActionGroup::Observability,
            RedisXadd | RedisXread | NatsPublish | NatsSubscribe | AmqpPublish | AmqpConsume
            | KafkaProduce | KafkaConsume => ActionGroup::Messaging,
            WaitUntil | Condition | ForEach | Parallel | RunFlow => ActionGroup::ControlFlow,
            MockServerStart | MockServerStop | MockServerVerify | MockServerUpdate
            | MockServerResetState => ActionGroup::Mocks,
            Assert | Log | Delay | Transform => ActionGroup::Utilities,
        }
    }

    /// One line saying what the action does.
    pub fn description(self) -> &'static str {
        use ActionKind::*;
        match self {
            HttpRequest => "Send an HTTP request and keep its status, headers and body.",
            Assert => "Check expressions over data or earlier results.",
            Log => "Print a message into the run's output.",
            Delay => "Wait for a fixed duration.",
            Transform => "Compute new values from earlier results.",
            MockServerStart => "Start an HTTP mock server with the given endpoints.",
            MockServerStop => "Stop a mock server started earlier.",
            MockServerVerify => "Check which requests a mock server received.",
            MockServerUpdate => "Change the endpoints of a running mock server.",
            MockServerResetState => "Clear a mock server's state and recorded calls.",
            DatabaseQuery => "Run an SQL query against PostgreSQL and keep its rows.",
            DbPoll => "Repeat an SQL query until its rows meet a condition.",
            RedisGet => "Read one or more Redis keys.",
            RedisSet => "Write a Redis key, with an optional time to live.",
            RedisDel => "Delete Redis keys.",
            RedisExists => "Check whether Redis keys exist.",
            RedisCommand => "Run any Redis command.",
            RedisXadd => "Append an entry to a Redis stream.",
            RedisXread => "Read entries of a Redis stream, waiting for a match.",
            WaitFor => "Wait until a URL answers or a TCP port accepts connections.",
            WaitUntil => "Repeat nested steps until a condition holds.",
            Condition => "Run the `then` or the `else` steps depending on an expression.",
            ForEach => "Run nested steps for each item of a list or range.",
            Parallel => "Run branches of steps at the same time.",
            RunFlow => "Run another flow file as a step.",
            NatsPublish => "Publish a message on a NATS subject.",
            NatsSubscribe => "Receive messages from a NATS subject or JetStream stream.",
            AmqpPublish => "Publish a message to a RabbitMQ (AMQP) queue or exchange.",
            AmqpConsume => "Receive messages from a RabbitMQ (AMQP) queue.",
            WebSocket => "Open a WebSocket, send messages and collect the replies.",
            KafkaProduce => "Produce messages to a Kafka topic.",
            KafkaConsume => "Read messages from a Kafka topic until a condition holds.",
            Grpc => "Call a gRPC method, by reflection or from a descriptor set.",
            PrometheusQuery => "Run a PromQL query, instant or over a range, and keep its series.",
            PrometheusAssert => "Repeat a PromQL query until its result meets a condition.",
            LokiQuery => "Fetch log lines matching a LogQL query over the run's time span.",
            LokiAssert => "Repeat a LogQL query until its lines meet a condition.",
            OtelInject => "Start a trace that the following steps' requests carry.",
            OtelAssert => "Fetch the run's trace from Jaeger or Tempo and check its spans.",
            S3Put => "Write an object to an S3-compatible store.",
            S3Get => "Read an object from an S3-compatible store.",
            S3Delete => "Delete an object from an S3-compatible store.",
            S3List => "List the objects of a bucket, under a prefix.",
            S3Assert => "Check that an object exists, or not, and its properties.",
            ContractGenerate => "Write a Pact contract from HTTP steps or given interactions.",
            ContractVerify => "Replay a Pact contract against a provider and name mismatches.",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_group_lists_an_action_and_every_description_is_one_line() {
        for group in ActionGroup::ALL {
            assert!(ActionKind::ALL.iter().any(|kind| kind.group() == *group));
        }
        for kind in ActionKind::ALL {
            let text = kind.description();
            assert!(!text.is_empty() && !text.contains('\n'), "{kind}");
        }
    }
}
