//! The gRPC connections of one run: one HTTP/2 channel per server (and TLS setting), opened by
//! the first step that calls it and dropped when the run ends, and the descriptors each server's
//! reflection service gave, so later steps ask only once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use prost_reflect::DescriptorPool;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio_rustls::TlsConnector;
use tonic::transport::{Channel, Endpoint, Uri};

use super::super::ActionError;
use super::call_spec::{Server, TlsOptions};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The channels and reflected descriptors of one run.
pub struct GrpcChannels {
    channels: Mutex<HashMap<String, Channel>>,
    reflected: Mutex<HashMap<String, DescriptorPool>>,
    base_dir: Option<PathBuf>,
}

impl GrpcChannels {
    /// `base_dir` is the flow's folder, where relative descriptor and certificate paths start.
    pub fn new(base_dir: Option<PathBuf>) -> Self {
        Self {
            channels: Mutex::default(),
            reflected: Mutex::default(),
            base_dir,
        }
    }

    pub fn base_dir(&self) -> Option<&Path> {
        self.base_dir.as_deref()
    }

    /// The channel to `server`, connected on first use.
    pub async fn channel(&self, server: &Server) -> Result<Channel, ActionError> {
        let key = format!("{server:?}");
        let mut channels = self.channels.lock().await;
        if let Some(channel) = channels.get(&key) {
            return Ok(channel.clone());
        }
        let channel = connect(server).await?;
        channels.insert(key, channel.clone());
        Ok(channel)
    }

    /// The descriptors a server's reflection service gave earlier in this run.
    pub async fn reflected(&self, server: &Server) -> Option<DescriptorPool> {
        self.reflected.lock().await.get(&server.authority).cloned()
    }

    /// Keeps what a server's reflection service gave, for the steps after.
    pub async fn keep_reflected(&self, server: &Server, pool: DescriptorPool) {
        self.reflected
            .lock()
            .await
            .insert(server.authority.clone(), pool);
    }

    /// Drops every channel; called when the run ends.
    pub async fn close_all(&self) {
        self.channels.lock().await.clear();
        self.reflected.lock().await.clear();
    }
}

/// Opens an HTTP/2 connection, over TLS when the step asks for it; a failure names the server.
async fn connect(server: &Server) -> Result<Channel, ActionError> {
    let failed = |err: &dyn std::error::Error| {
        ActionError::Failed(format!(
            "cannot connect to the gRPC server at {}: {}",
            server.authority,
            error_chain(err)
        ))
    };
    let plain = Endpoint::from_shared(format!("http://{}", server.authority))
        .map_err(|err| failed(&err))?
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("testmesh/", env!("CARGO_PKG_VERSION")))
        .map_err(|err| failed(&err))?;
    let (host, port) = (server.host.clone(), server.port);
    match &server.tls {
        None => plain
            .connect_with_connector(tower::service_fn(move |_: Uri| {
                let host = host.clone();
                async move { open_tcp(&host, port).await.map(TokioIo::new) }
            }))
            .await
            .map_err(|err| failed(&err)),
        Some(options) => {
            let connector = TlsConnector::from(Arc::new(tls_config(options, server)?));
            let name = options.server_name.clone().unwrap_or_else(|| host.clone());
            let server_name = ServerName::try_from(name.clone()).map_err(|err| {
                ActionError::invalid("tls.server_name", format!("{name:?}: {err}"))
            })?;
            // The origin keeps `https` in each request's :scheme; the connector does the TLS.
            let origin = Uri::try_from(format!("https://{}", server.authority))
                .map_err(|err| failed(&err))?;
            plain
                .origin(origin)
                .connect_with_connector(tower::service_fn(move |_: Uri| {
                    let (host, connector, server_name) =
                        (host.clone(), connector.clone(), server_name.clone());
                    async move {
                        let tcp = open_tcp(&host, port).await?;
                        let tls = connector.connect(server_name, tcp).await.map_err(|err| {
                            std::io::Error::other(format!("TLS handshake failed: {err}"))
                        })?;
                        Ok::<_, std::io::Error>(TokioIo::new(tls))
                    }
                }))
                .await
                .map_err(|err| failed(&err))
        }
    }
}

async fn open_tcp(host: &str, port: u16) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect((host, port)).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// An error and its causes, `outer: inner: root`, without repeating a cause that its parent
/// already printed.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}

/// The rustls configuration of one TLS server: its CA file, the system's roots, or no check.
fn tls_config(options: &TlsOptions, server: &Server) -> Result<ClientConfig, ActionError> {
    let mut config = if options.insecure_skip_verify {
        super::super::tls::accepting_any_certificate().map_err(ActionError::Failed)?
    } else if let Some(path) = &options.ca_cert {
        let mut roots = RootCertStore::empty();
        let certificates = CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|err| {
                ActionError::invalid("tls.ca_cert", format!("{}: {err}", path.display()))
            })?;
        if certificates.is_empty() {
            return Err(ActionError::invalid(
                "tls.ca_cert",
                format!("{}: no PEM certificate in the file", path.display()),
            ));
        }
        for certificate in certificates {
            roots.add(certificate).map_err(|err| {
                ActionError::invalid("tls.ca_cert", format!("{}: {err}", path.display()))
            })?;
        }
        super::super::tls::trusting_roots(roots).map_err(ActionError::Failed)?
    } else {
        super::super::tls::system_roots().map_err(|err| {
            ActionError::Failed(format!("cannot set up TLS for {}: {err}", server.authority))
        })?
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}
