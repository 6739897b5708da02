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
    pub const ALL: [ActionKind; 7] = [
        ActionKind::HttpRequest,
        ActionKind::Assert,
        ActionKind::Log,
        ActionKind::Delay,
        ActionKind::Transform,
        ActionKind::MockServerStart,
        ActionKind::MockServerStop,
    ];

    /// Looks an action up by its name or one of its aliases.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
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
        }
    }

    /// Other names existing flow files use for the same action.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            ActionKind::HttpRequest => &["http"],
            ActionKind::Delay => &["sleep", "wait"],
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
                known: &["name", "port", "endpoints"],
            },
            ActionKind::MockServerStop => ConfigKeys {
                required: &["name|server_id"],
                known: &["name", "server_id"],
            },
        }
    }

    /// Every accepted name, canonical names first, for "unknown action" messages.
    pub fn known_names() -> Vec<&'static str> {
        Self::ALL.iter().map(|kind| kind.name()).collect()
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Actions of the flow language that this version does not run yet.
pub const PLANNED_ACTIONS: &[&str] = &[
    "database_query",
    "db_poll",
    "redis.get",
    "redis.set",
    "redis.del",
    "redis.exists",
    "redis_get",
    "redis_set",
    "wait_for",
    "wait_until",
    "condition",
    "for_each",
    "parallel",
    "run_flow",
    "grpc",
    "websocket",
    "kafka_producer",
    "kafka_consumer",
    "kafka_publish",
    "kafka_consume",
];

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
        for kind in ActionKind::ALL {
            assert_eq!(ActionKind::from_name(kind.name()), Some(kind));
            for required in kind.config_keys().required {
                for key in required.split('|') {
                    assert!(kind.config_keys().known.contains(&key), "{kind}: {key}");
                }
            }
        }
    }
}
