//! The TLS client configurations the actions share, all on rustls with aws-lc-rs: one that
//! verifies against the system's roots, built once per process (loading those roots takes
//! milliseconds, too much to repeat for each run of a busy executor), one that trusts only the
//! roots of a CA file a step names, and one that accepts any certificate for
//! `verify_ssl: false` / `insecure_skip_verify`, still checking the handshake's signatures. Callers set the ALPN protocols their transport speaks.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ConfigBuilder, RootCertStore, WantsVerifier};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// The crypto provider of every TLS connection the actions make.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A configuration with our provider and the safe protocol versions, waiting for its verifier.
fn builder() -> Result<ConfigBuilder<ClientConfig, WantsVerifier>, String> {
    ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|err| format!("cannot set up TLS: {err}"))
}

/// Verifies servers against the system's root certificates; no ALPN protocols set.
pub fn system_roots() -> Result<ClientConfig, String> {
    static TLS: OnceLock<Result<ClientConfig, String>> = OnceLock::new();
    TLS.get_or_init(|| {
        use rustls_platform_verifier::BuilderVerifierExt;
        Ok(builder()?
            .with_platform_verifier()
            .map_err(|err| format!("cannot set up TLS: {err}"))?
            .with_no_client_auth())
    })
    .clone()
}

/// Verifies servers against `roots` only (a CA file a step names); no ALPN protocols set.
pub fn trusting_roots(roots: RootCertStore) -> Result<ClientConfig, String> {
    Ok(builder()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Accepts whatever certificate the server shows; no ALPN protocols set.
pub fn accepting_any_certificate() -> Result<ClientConfig, String> {
    let verifier = AnyCertificate {
        algorithms: provider().signature_verification_algorithms,
    };
    Ok(builder()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

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
