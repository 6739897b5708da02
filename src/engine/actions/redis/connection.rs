//! Where a Redis step connects: a `url` (`redis://`, `rediss://` for TLS) or `host`/`port`,
//! with `username`, `password`, `db` and `tls` on top. One connection manager per address per
//! run, built on first use; errors name host:port and the URL with its password masked.

use std::collections::HashMap;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::{AsyncConnectionConfig, Client};
use serde_json::{Map, Value};
use tokio::sync::Mutex;
use url::Url;

use crate::engine::actions::ActionError;
use crate::engine::actions::fields::{count, duration, flag, optional_text};

const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);

/// A Redis server as a step names it.
#[derive(Debug, Clone)]
pub struct Target {
    /// The URL to connect with (password included).
    pub url: String,
    /// The URL with its password masked, for messages.
    pub masked: String,
    /// `host:port`, for messages.
    pub address: String,
    pub connect_timeout: Duration,
}

impl Target {
    /// Reads `url` or `host`/`port`, then `username`, `password`, `db` and `tls` over it.
    pub fn parse(config: &Map<String, Value>) -> Result<Self, ActionError> {
        let mut url = match optional_text(config, "url")? {
            Some(text) => Url::parse(&text).map_err(|err| {
                ActionError::invalid(
                    "url",
                    format!("{err}: expected redis://host:6379/0 or rediss://host:6380/0"),
                )
            })?,
            None => {
                let host = optional_text(config, "host")?.unwrap_or_else(|| "127.0.0.1".into());
                let port = count(config, "port", 1)?.unwrap_or(6379);
                Url::parse(&format!("redis://{host}:{port}/"))
                    .map_err(|err| ActionError::invalid("host", format!("{host:?}: {err}")))?
            }
        };
        if !matches!(url.scheme(), "redis" | "rediss") {
            return Err(ActionError::invalid(
                "url",
                format!(
                    "unsupported scheme `{}://`: use redis:// or rediss://",
                    url.scheme()
                ),
            ));
        }
        if flag(config, "tls", false)? {
            let rest = url.as_str()["redis".len()..].to_string();
            if url.scheme() == "redis" {
                url = Url::parse(&format!("rediss{rest}"))
                    .map_err(|err| ActionError::invalid("tls", err.to_string()))?;
            }
        }
        if let Some(username) = optional_text(config, "username")? {
            url.set_username(&username)
                .map_err(|()| ActionError::invalid("username", "cannot be set on this URL"))?;
        }
        if let Some(password) = optional_text(config, "password")? {
            url.set_password(Some(&password))
                .map_err(|()| ActionError::invalid("password", "cannot be set on this URL"))?;
        }
        if let Some(db) = count(config, "db", 0)? {
            url.set_path(&format!("/{db}"));
        }
        let mut masked = url.clone();
        if masked.password().is_some() {
            let _ = masked.set_password(Some("***"));
        }
        let address = format!(
            "{}:{}",
            url.host_str().unwrap_or("127.0.0.1"),
            url.port().unwrap_or(6379)
        );
        Ok(Self {
            url: url.to_string(),
            masked: masked.to_string(),
            address,
            connect_timeout: duration(config, "connect_timeout", DEFAULT_CONNECT_TIMEOUT)?,
        })
    }

    fn failed(&self, doing: &str, err: &redis::RedisError) -> ActionError {
        ActionError::Failed(format!(
            "Redis {doing} at {} ({}): {err}",
            self.address, self.masked
        ))
    }

    /// An error from a command sent to this server.
    pub fn command_failed(&self, command: &str, err: &redis::RedisError) -> ActionError {
        self.failed(&format!("`{command}` failed"), err)
    }
}

/// The Redis connections of one run, by URL.
#[derive(Default)]
pub struct RedisClients {
    managers: Mutex<HashMap<String, ConnectionManager>>,
}

impl RedisClients {
    /// The shared connection to `target`, connecting on first use.
    pub async fn shared(&self, target: &Target) -> Result<ConnectionManager, ActionError> {
        let mut managers = self.managers.lock().await;
        if let Some(manager) = managers.get(&target.url) {
            return Ok(manager.clone());
        }
        let client = client(target)?;
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(1)
            .set_connection_timeout(Some(target.connect_timeout))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        let manager = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|err| target.failed("connection refused or failed", &err))?;
        managers.insert(target.url.clone(), manager.clone());
        Ok(manager)
    }

    /// A connection of its own, for blocking reads that would hold up the shared one.
    pub async fn dedicated(
        &self,
        target: &Target,
        response_timeout: Duration,
    ) -> Result<MultiplexedConnection, ActionError> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(target.connect_timeout))
            .set_response_timeout(Some(response_timeout));
        client(target)?
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|err| target.failed("connection refused or failed", &err))
    }

    /// Forgets every connection; called when the run ends.
    pub async fn close_all(&self) {
        self.managers.lock().await.clear();
    }
}

fn client(target: &Target) -> Result<Client, ActionError> {
    Client::open(target.url.as_str())
        .map_err(|err| ActionError::invalid("url", format!("{}: {err}", target.masked)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target(config: Value) -> Target {
        Target::parse(config.as_object().unwrap()).unwrap()
    }

    #[test]
    fn host_port_password_db_and_tls_make_one_url() {
        let t =
            target(json!({"host": "cache", "port": 6380, "password": "pw", "db": 2, "tls": true}));
        assert_eq!(t.url, "rediss://:pw@cache:6380/2");
        assert_eq!(t.masked, "rediss://:***@cache:6380/2");
        assert_eq!(t.address, "cache:6380");
        let t = target(json!({"url": "redis://127.0.0.1:7000/", "db": 3}));
        assert_eq!(t.url, "redis://127.0.0.1:7000/3");
    }
}
