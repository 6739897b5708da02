//! Runtime failures of a request as a user can act on them: the cause found by walking the
//! error's source chain (refused connection, unknown host, TLS), naming the host and port and
//! the request, never reqwest's debug text.

use std::error::Error as StdError;
use std::io;

use reqwest::Method;
use url::Url;

/// `GET http://host/path`, the suffix of every message.
pub fn request_label(method: &Method, url: &Url) -> String {
    format!("{method} {url}")
}

/// `host:port` of `url`, with the scheme's default port when none is written.
pub fn host_port(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// A message for a failed send to `url`.
pub fn describe(err: &reqwest::Error, method: &Method, url: &Url) -> String {
    let label = request_label(method, url);
    let target = host_port(url);
    let chain = source_chain(err);
    let innermost = chain.last().cloned().unwrap_or_else(|| err.to_string());
    if let Some(kind) = io_error_kind(err) {
        match kind {
            io::ErrorKind::ConnectionRefused => {
                return format!("connection refused by {target} ({label})");
            }
            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
                return format!("connection reset by {target} ({label})");
            }
            io::ErrorKind::TimedOut => {
                return format!("connecting to {target} timed out ({label})");
            }
            _ => {}
        }
    }
    let lower: Vec<String> = chain.iter().map(|text| text.to_ascii_lowercase()).collect();
    if lower
        .iter()
        .any(|text| text.contains("dns error") || text.contains("failed to lookup address"))
    {
        let host = url.host_str().unwrap_or_default();
        return format!("cannot resolve host {host:?} ({label}): {innermost}");
    }
    if lower.iter().any(|text| text.contains("certificate")) {
        return format!(
            "TLS certificate of {target} was rejected ({label}): {innermost}; set verify_ssl: false to skip the check"
        );
    }
    if err.is_connect() {
        return format!("cannot connect to {target} ({label}): {innermost}");
    }
    if lower
        .iter()
        .any(|text| text.contains("connection closed") || text.contains("incomplete message"))
    {
        return format!("{target} closed the connection before answering ({label})");
    }
    format!("request failed ({label}): {innermost}")
}

/// The messages of `err`'s sources, outermost first, without repeats.
fn source_chain(err: &reqwest::Error) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current: Option<&(dyn StdError + 'static)> = err.source();
    while let Some(source) = current {
        let text = source.to_string();
        if !text.is_empty() && out.last() != Some(&text) {
            out.push(text);
        }
        current = source.source();
    }
    out
}

/// The kind of the first I/O error in the chain.
fn io_error_kind(err: &reqwest::Error) -> Option<io::ErrorKind> {
    let mut current: Option<&(dyn StdError + 'static)> = err.source();
    while let Some(source) = current {
        if let Some(io_err) = source.downcast_ref::<io::Error>() {
            return Some(io_err.kind());
        }
        current = source.source();
    }
    None
}
