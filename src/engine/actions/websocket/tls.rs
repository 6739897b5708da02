//! TLS for `wss://` connections: the rustls configuration `http_request` verifies with (system
//! roots, aws-lc-rs), speaking HTTP/1.1 as the WebSocket upgrade needs; or, with
//! `verify_ssl: false`, one that accepts any certificate but still checks the handshake's
//! signatures.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio_tungstenite::Connector;

use super::super::http::shared_tls;

/// The connector for `wss://` URLs; built once per process for each `verify_ssl` setting.
pub fn connector(verify_ssl: bool) -> Result<Connector, String> {
    static VERIFYING: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    static TRUSTING: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    let config = if verify_ssl {
        VERIFYING.get_or_init(|| {
            let mut config = shared_tls()?;
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            Ok(Arc::new(config))
        })
    } else {
        TRUSTING.get_or_init(trusting)
    };
    config.clone().map(Connector::Rustls)
}

fn trusting() -> Result<Arc<rustls::ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = AnyCertificate {
        algorithms: provider.signature_verification_algorithms,
    };
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|err| format!("cannot set up TLS: {err}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Accepts whatever certificate the server shows (`verify_ssl: false`).
#[derive(Debug)]
struct AnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_settings_speak_http1_over_aws_lc_rs() {
        for verify_ssl in [true, false] {
            let Connector::Rustls(config) = connector(verify_ssl).unwrap() else {
                panic!("not a rustls connector");
            };
            assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
            let aws = rustls::crypto::aws_lc_rs::default_provider();
            assert_eq!(
                config.crypto_provider().cipher_suites.len(),
                aws.cipher_suites.len()
            );
        }
    }
}
