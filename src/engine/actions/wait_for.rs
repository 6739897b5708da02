//! `wait_for`: polls until a service is ready, an HTTP endpoint answering with a success status
//! (or the `status` asked for) or a TCP port accepting connections, every `interval` until
//! `timeout`. Result: `success`, `attempts`, and for HTTP the last `status`.

use std::time::Duration;

use serde_json::{Map, Value};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::fields::{count, duration, flag, optional_text};
use super::http::HttpSession;
use super::{ActionError, ActionOutput};

const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest a single probe may take.
const PROBE_LIMIT: Duration = Duration::from_secs(5);

/// What is being waited for.
enum Probe {
    Http {
        url: String,
        status: Option<u64>,
        verify_ssl: bool,
    },
    Tcp {
        address: String,
    },
}

impl Probe {
    fn parse(config: &Map<String, Value>) -> Result<Self, ActionError> {
        let kind = optional_text(config, "type")?;
        if let Some(url) = optional_text(config, "url")?
            && kind.as_deref() != Some("tcp")
        {
            return Ok(Probe::Http {
                url,
                status: count(config, "status", 100)?,
                verify_ssl: flag(config, "verify_ssl", true)?,
            });
        }
        if let Some(address) = optional_text(config, "tcp")? {
            return Ok(Probe::Tcp { address });
        }
        let host = optional_text(config, "host")?;
        let port = count(config, "port", 1)?;
        match (host, port) {
            (host, Some(port)) => Ok(Probe::Tcp {
                address: format!("{}:{port}", host.unwrap_or_else(|| "127.0.0.1".into())),
            }),
            _ => Err(ActionError::invalid(
                "url",
                "wait_for needs `url` (HTTP), `tcp: host:port`, or `host` and `port`",
            )),
        }
    }

    fn describe(&self) -> String {
        match self {
            Probe::Http { url, .. } => format!("HTTP endpoint {url}"),
            Probe::Tcp { address } => format!("TCP port {address}"),
        }
    }

    /// One try: Ok with the HTTP status (if any) when ready, Err with why not.
    async fn once(&self, http: &HttpSession) -> Result<Option<u16>, String> {
        match self {
            Probe::Http {
                url,
                status,
                verify_ssl,
            } => {
                let client = http.client(*verify_ssl).map_err(|err| err.to_string())?;
                let request = client
                    .get(url)
                    .timeout(PROBE_LIMIT)
                    .build()
                    .map_err(|err| err.to_string())?;
                let response = http
                    .send(request, client)
                    .await
                    .map_err(|err| err.to_string())?;
                let got = response.status().as_u16();
                let ready = match status {
                    Some(wanted) => u64::from(got) == *wanted,
                    None => got < 400,
                };
                if ready {
                    Ok(Some(got))
                } else {
                    Err(format!("answered {got}"))
                }
            }
            Probe::Tcp { address } => {
                match tokio::time::timeout(PROBE_LIMIT, TcpStream::connect(address)).await {
                    Ok(Ok(_)) => Ok(None),
                    Ok(Err(err)) => Err(err.to_string()),
                    Err(_) => Err(format!("no answer within {PROBE_LIMIT:?}")),
                }
            }
        }
    }
}

/// Runs a `wait_for` step.
pub async fn execute(
    config: &Map<String, Value>,
    http: &HttpSession,
) -> Result<ActionOutput, ActionError> {
    let probe = Probe::parse(config)?;
    let interval = duration(config, "interval", DEFAULT_INTERVAL)?;
    let limit = duration(config, "timeout", DEFAULT_TIMEOUT)?;
    let started = Instant::now();
    let mut attempts = 0u64;
    loop {
        attempts += 1;
        let last = match probe.once(http).await {
            Ok(status) => {
                let mut result = Map::new();
                result.insert("success".into(), Value::Bool(true));
                result.insert("attempts".into(), Value::from(attempts));
                if let Some(status) = status {
                    result.insert("status".into(), Value::from(status));
                }
                return Ok(ActionOutput::from_result(result));
            }
            Err(why) => why,
        };
        if started.elapsed() + interval > limit {
            return Err(ActionError::Failed(format!(
                "{} was not ready within {} ({attempts} attempts); last try: {last}",
                probe.describe(),
                humantime::format_duration(limit)
            )));
        }
        tokio::time::sleep(interval).await;
    }
}
