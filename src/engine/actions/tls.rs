//! The TLS client configurations the actions share, all on rustls with aws-lc-rs: one that
//! verifies against the system's roots, built once per process and loading those roots at the
//! first certificate it checks (parsing them takes milliseconds, most of a short run's start, and
//! a run that speaks plain HTTP never needs them), one that trusts only the
//! roots of a CA file a step names, and one that accepts any certificate for
//! `verify_ssl: false` / `insecure_skip_verify`, still checking the handshake's signatures. Callers set the ALPN protocols their transport speaks.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ConfigBuilder, RootCertStore, WantsVerifier};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_platform_verifier::Verifier;

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
        Ok(builder()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(SystemRoots::new()))
            .with_no_client_auth())
    })
    .clone()
}

/// The platform's verifier (the system's roots), made at the first certificate to check.
#[derive(Debug)]
struct SystemRoots {
    algorithms: WebPkiSupportedAlgorithms,
    provider: Arc<CryptoProvider>,
    loaded: OnceLock<Result<Verifier, rustls::Error>>,
}

impl SystemRoots {
    fn new() -> Self {
        let provider = provider();
        SystemRoots {
            algorithms: provider.signature_verification_algorithms,
            provider,
            loaded: OnceLock::new(),
        }
    }
}

impl ServerCertVerifier for SystemRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let loaded = self
            .loaded
            .get_or_init(|| Verifier::new(self.provider.clone()));
        match loaded {
            Ok(verifier) => verifier.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ),
            Err(err) => Err(err.clone()),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_roots_load_at_the_first_certificate_checked() {
        let verifier = SystemRoots::new();
        assert!(verifier.loaded.get().is_none());
        let not_a_certificate = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x01]);
        let checked = verifier.verify_server_cert(
            &not_a_certificate,
            &[],
            &ServerName::try_from("example.com").unwrap(),
            &[],
            UnixTime::now(),
        );
        assert!(checked.is_err());
        assert!(verifier.loaded.get().is_some());
    }
}
