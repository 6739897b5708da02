//! What a `grpc` step asks for, read from its interpolated config: the server (`address`, with
//! `tls`), the method, the request message as JSON, `metadata`, the deadline (`timeout`) and
//! where the method's descriptors come from (`descriptor_set`, `proto` files, or the server's
//! reflection service).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};
use url::Url;

use super::super::ActionError;
use super::super::fields::{duration, first_text, flag, list, optional_text, text_map};
use crate::flow::source::kind_of;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The keys of a `tls` map.
const TLS_KEYS: [&str; 3] = ["ca_cert", "insecure_skip_verify", "server_name"];

/// One unary call.
#[derive(Debug, Clone)]
pub struct CallSpec {
    pub server: Server,
    /// The fully qualified service name, `package.Service`.
    pub service: String,
    /// The method's name within the service.
    pub method: String,
    /// The request message in the protobuf JSON mapping.
    pub request: Map<String, Value>,
    pub metadata: Vec<(String, String)>,
    pub timeout: Duration,
    pub descriptors: DescriptorSource,
}

/// The server a step calls.
#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    /// `host:port`, as messages name it.
    pub authority: String,
    pub host: String,
    pub port: u16,
    pub tls: Option<TlsOptions>,
}

/// How a TLS connection checks the server.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TlsOptions {
    /// A PEM file of the certificates to trust instead of the system's.
    pub ca_cert: Option<PathBuf>,
    /// Accept any certificate (test servers with self-signed certificates).
    pub insecure_skip_verify: bool,
    /// The name to check the certificate against, when it is not the address's host.
    pub server_name: Option<String>,
}

/// Where the service's message types are described.
#[derive(Debug, Clone, PartialEq)]
pub enum DescriptorSource {
    /// Ask the server (grpc.reflection.v1, then v1alpha).
    Reflection,
    /// A binary FileDescriptorSet (`protoc -o`, `buf build -o`).
    DescriptorSet(PathBuf),
    /// `.proto` files, compiled when the step runs.
    Protos {
        files: Vec<PathBuf>,
        import_paths: Vec<PathBuf>,
    },
}

impl CallSpec {
    /// Reads a step's config; relative file paths are taken from `base_dir` (the flow's folder).
    pub fn parse(
        config: &Map<String, Value>,
        base_dir: Option<&Path>,
    ) -> Result<Self, ActionError> {
        let server = Server::parse(config, base_dir)?;
        let (service, method) = method_name(config)?;
        let request = match ["request", "message", "body"]
            .into_iter()
            .find_map(|key| config.get(key).map(|value| (key, value)))
        {
            None | Some((_, Value::Null)) => Map::new(),
            Some((_, Value::Object(map))) => map.clone(),
            Some((key, Value::String(text))) => match serde_json::from_str(text) {
                Ok(Value::Object(map)) => map,
                _ => {
                    return Err(ActionError::invalid(
                        key,
                        format!("expected a map of the message's fields, found text {text:?}"),
                    ));
                }
            },
            Some((key, other)) => {
                return Err(ActionError::invalid(
                    key,
                    format!(
                        "expected a map of the message's fields, found {} {other}",
                        kind_of(other)
                    ),
                ));
            }
        };
        let metadata: Vec<(String, String)> = text_map(config, "metadata")?
            .into_iter()
            .map(|(name, text)| (name.to_ascii_lowercase(), text))
            .collect();
        Ok(Self {
            server,
            service,
            method,
            request,
            metadata,
            timeout: duration(config, "timeout", DEFAULT_TIMEOUT)?,
            descriptors: DescriptorSource::parse(config, base_dir)?,
        })
    }

    /// `package.Service/Method`, as messages and results name the method.
    pub fn full_method(&self) -> String {
        format!("{}/{}", self.service, self.method)
    }
}

/// The service and method from `method` (`package.Service/Method`, also with a leading `/` or
/// a `.` before the method) or from `service` plus `method`.
fn method_name(config: &Map<String, Value>) -> Result<(String, String), ActionError> {
    let method = optional_text(config, "method")?
        .map(|text| text.trim().trim_start_matches('/').to_string())
        .filter(|text| !text.is_empty())
        .ok_or_else(|| ActionError::invalid("method", "is required: `package.Service/Method`"))?;
    if let Some(service) = optional_text(config, "service")? {
        let service = service.trim().trim_start_matches('/').to_string();
        if method.contains('/') {
            return Err(ActionError::invalid(
                "method",
                format!(
                    "{method:?} names a service too; with `service` set, give only the method's name"
                ),
            ));
        }
        return Ok((service, method));
    }
    let split = method.rsplit_once('/').or_else(|| method.rsplit_once('.'));
    match split {
        Some((service, name)) if !service.is_empty() && !name.is_empty() => {
            Ok((service.to_string(), name.to_string()))
        }
        _ => Err(ActionError::invalid(
            "method",
            format!("{method:?} is not `package.Service/Method` (or set `service` beside it)"),
        )),
    }
}

impl Server {
    fn parse(config: &Map<String, Value>, base_dir: Option<&Path>) -> Result<Self, ActionError> {
        let (address, key) = first_text(config, &["address", "url", "target", "host"])?
            .filter(|(text, _)| !text.trim().is_empty())
            .ok_or_else(|| ActionError::invalid("address", "is required: `host:port`"))?;
        let address = address.trim();
        let (url_text, scheme_tls) = match address.split_once("://") {
            Some(("http" | "grpc", _)) => (address.to_string(), false),
            Some(("https" | "grpcs", _)) => (address.to_string(), true),
            Some((scheme, _)) => {
                return Err(ActionError::invalid(
                    key,
                    format!(
                        "{address:?}: unknown scheme `{scheme}` (use host:port, http:// or https://)"
                    ),
                ));
            }
            None => (format!("http://{address}"), false),
        };
        let url = Url::parse(&url_text)
            .map_err(|err| ActionError::invalid(key, format!("{address:?}: {err}")))?;
        let host = url
            .host_str()
            .filter(|host| !host.is_empty())
            .ok_or_else(|| ActionError::invalid(key, format!("{address:?} names no host")))?;
        let port = match url.port() {
            Some(port) => port,
            None if scheme_tls => 443,
            None if address.contains("://") => 80,
            None => {
                return Err(ActionError::invalid(
                    key,
                    format!("{address:?} names no port: write host:port"),
                ));
            }
        };
        if !matches!(url.path(), "" | "/") {
            return Err(ActionError::invalid(
                key,
                format!("{address:?}: a gRPC address has no path; name the method in `method`"),
            ));
        }
        let tls = TlsOptions::parse(config, scheme_tls, base_dir)?;
        Ok(Self {
            authority: format!("{host}:{port}"),
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port,
            tls,
        })
    }
}

impl TlsOptions {
    /// `tls: true`, or a map of `ca_cert`, `insecure_skip_verify` and `server_name`; an
    /// `https://` address means TLS too.
    fn parse(
        config: &Map<String, Value>,
        scheme_tls: bool,
        base_dir: Option<&Path>,
    ) -> Result<Option<Self>, ActionError> {
        match config.get("tls") {
            None | Some(Value::Null) => Ok(scheme_tls.then(Self::default)),
            Some(Value::Bool(_) | Value::String(_)) => {
                Ok((flag(config, "tls", false)? || scheme_tls).then(Self::default))
            }
            Some(Value::Object(map)) => {
                for key in map.keys() {
                    if !TLS_KEYS.contains(&key.as_str()) {
                        let hint = crate::flow::diagnostic::did_you_mean(key, TLS_KEYS)
                            .map(|s| format!(" (did you mean `{s}`?)"))
                            .unwrap_or_default();
                        return Err(ActionError::invalid(
                            format!("tls.{key}"),
                            format!(
                                "unknown key{hint}; tls reads ca_cert, insecure_skip_verify, server_name"
                            ),
                        ));
                    }
                }
                let field = |key: &str| format!("tls.{key}");
                let text = |key: &str| {
                    optional_text(map, key).map_err(|err| rename_field(err, &field(key)))
                };
                Ok(Some(Self {
                    ca_cert: text("ca_cert")?.map(|path| resolve(base_dir, &path)),
                    insecure_skip_verify: flag(map, "insecure_skip_verify", false)
                        .map_err(|err| rename_field(err, &field("insecure_skip_verify")))?,
                    server_name: text("server_name")?,
                }))
            }
            Some(other) => Err(ActionError::invalid(
                "tls",
                format!(
                    "expected true, false or a map, found {} {other}",
                    kind_of(other)
                ),
            )),
        }
    }
}

impl DescriptorSource {
    fn parse(config: &Map<String, Value>, base_dir: Option<&Path>) -> Result<Self, ActionError> {
        if let Some(path) = optional_text(config, "descriptor_set")? {
            return Ok(Self::DescriptorSet(resolve(base_dir, &path)));
        }
        let files = paths(config, "proto", base_dir)?;
        if files.is_empty() {
            return Ok(Self::Reflection);
        }
        let mut import_paths = paths(config, "import_paths", base_dir)?;
        if import_paths.is_empty() {
            let folders = files.iter().filter_map(|file| file.parent());
            for folder in folders {
                if !import_paths.iter().any(|known| known == folder) {
                    import_paths.push(folder.to_path_buf());
                }
            }
        }
        Ok(Self::Protos {
            files,
            import_paths,
        })
    }
}

/// A list of file paths (one text stands for a list of one).
fn paths(
    config: &Map<String, Value>,
    key: &str,
    base_dir: Option<&Path>,
) -> Result<Vec<PathBuf>, ActionError> {
    list(config, key)
        .into_iter()
        .enumerate()
        .map(|(index, item)| match item {
            Value::String(path) if !path.trim().is_empty() => Ok(resolve(base_dir, &path)),
            other => Err(ActionError::invalid(
                format!("{key}[{index}]"),
                format!("expected a file path, found {} {other}", kind_of(&other)),
            )),
        })
        .collect()
}

fn resolve(base_dir: Option<&Path>, path: &str) -> PathBuf {
    match base_dir {
        Some(dir) if Path::new(path).is_relative() => dir.join(path),
        _ => PathBuf::from(path),
    }
}

fn rename_field(err: ActionError, field: &str) -> ActionError {
    match err {
        ActionError::InvalidConfig { message, .. } => ActionError::invalid(field, message),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(config: Value) -> Result<CallSpec, ActionError> {
        CallSpec::parse(config.as_object().unwrap(), Some(Path::new("/flows")))
    }

    fn error(config: Value) -> String {
        parse(config).unwrap_err().to_string()
    }

    #[test]
    fn addresses_name_host_port_and_tls() {
        let plain = parse(json!({"address": "orders:50051", "method": "a.B/C"})).unwrap();
        assert_eq!(plain.server.authority, "orders:50051");
        assert_eq!(plain.server.tls, None);
        let https = parse(json!({"url": "https://api.example.com", "method": "a.B/C"})).unwrap();
        assert_eq!(https.server.authority, "api.example.com:443");
        assert_eq!(https.server.tls, Some(TlsOptions::default()));
        let v6 = parse(json!({"target": "[::1]:9000", "method": "a.B/C", "tls": true})).unwrap();
        let host = parse(json!({"host": "orders:50051", "method": "a.B/C"})).unwrap();
        assert_eq!(
            host.server.authority, "orders:50051",
            "`host` is the original platform's name"
        );
        assert_eq!((v6.server.host.as_str(), v6.server.port), ("::1", 9000));
        assert!(v6.server.tls.is_some());
        assert_eq!(
            error(json!({"address": "orders", "method": "a.B/C"})),
            r#"config.address: "orders" names no port: write host:port"#
        );
        assert_eq!(
            error(json!({"address": "ftp://x:1", "method": "a.B/C"})),
            r#"config.address: "ftp://x:1": unknown scheme `ftp` (use host:port, http:// or https://)"#
        );
    }

    #[test]
    fn tls_settings_are_read_and_checked() {
        let spec = parse(json!({
            "address": "x:1", "method": "a.B/C",
            "tls": {"ca_cert": "certs/ca.pem", "server_name": "orders.internal"}
        }))
        .unwrap();
        let tls = spec.server.tls.unwrap();
        assert_eq!(tls.ca_cert, Some(PathBuf::from("/flows/certs/ca.pem")));
        assert_eq!(tls.server_name.as_deref(), Some("orders.internal"));
        assert!(!tls.insecure_skip_verify);
        assert_eq!(
            error(json!({"address": "x:1", "method": "a.B/C", "tls": {"insecure": true}})),
            "config.tls.insecure: unknown key (did you mean `insecure_skip_verify`?); tls reads ca_cert, insecure_skip_verify, server_name"
        );
    }

    #[test]
    fn methods_are_split_into_service_and_name() {
        let spec = parse(json!({"address": "x:1", "method": "/shop.v1.Orders/Get"})).unwrap();
        assert_eq!(
            (spec.service.as_str(), spec.method.as_str()),
            ("shop.v1.Orders", "Get")
        );
        let dotted = parse(json!({"address": "x:1", "method": "shop.v1.Orders.Get"})).unwrap();
        assert_eq!(dotted.full_method(), "shop.v1.Orders/Get");
        let apart =
            parse(json!({"address": "x:1", "service": "shop.v1.Orders", "method": "Get"})).unwrap();
        assert_eq!(apart.full_method(), "shop.v1.Orders/Get");
        assert_eq!(
            error(json!({"address": "x:1", "method": "Get"})),
            r#"config.method: "Get" is not `package.Service/Method` (or set `service` beside it)"#
        );
    }

    #[test]
    fn requests_metadata_and_descriptor_sources() {
        let spec = parse(json!({
            "address": "x:1", "method": "a.B/C", "body": {"id": 1},
            "metadata": {"X-Tenant": "acme", "retries": 2}, "timeout": "250ms",
            "proto": ["protos/orders.proto"]
        }))
        .unwrap();
        assert_eq!(spec.request, json!({"id": 1}).as_object().cloned().unwrap());
        assert_eq!(
            spec.metadata,
            vec![
                ("x-tenant".into(), "acme".into()),
                ("retries".into(), "2".into())
            ]
        );
        assert_eq!(spec.timeout, Duration::from_millis(250));
        assert_eq!(
            spec.descriptors,
            DescriptorSource::Protos {
                files: vec![PathBuf::from("/flows/protos/orders.proto")],
                import_paths: vec![PathBuf::from("/flows/protos")],
            }
        );
        assert_eq!(
            error(json!({"address": "x:1", "method": "a.B/C", "request": [1]})),
            "config.request: expected a map of the message's fields, found a list [1]"
        );
        assert_eq!(
            error(json!({"address": "x:1", "method": "a.B/C", "metadata": {"k": [1]}})),
            "config.metadata.k: expected text, found a list [1]"
        );
    }
}
