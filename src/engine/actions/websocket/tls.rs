//! TLS for `wss://` connections: the rustls configuration `http_request` verifies with (system
//! roots, aws-lc-rs), speaking HTTP/1.1 as the WebSocket upgrade needs; or, with
//! `verify_ssl: false`, one that accepts any certificate but still checks the handshake's
//! signatures.

use std::sync::{Arc, OnceLock};

use tokio_tungstenite::Connector;

use super::super::tls;

/// The connector for `wss://` URLs; built once per process for each `verify_ssl` setting.
pub fn connector(verify_ssl: bool) -> Result<Connector, String> {
    static VERIFYING: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    static TRUSTING: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    let config = if verify_ssl {
        VERIFYING.get_or_init(|| http1(tls::system_roots()))
    } else {
        TRUSTING.get_or_init(|| http1(tls::accepting_any_certificate()))
    };
    config.clone().map(Connector::Rustls)
}

/// `config` speaking HTTP/1.1, as the WebSocket upgrade needs.
fn http1(
    config: Result<rustls::ClientConfig, String>,
) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut config = config?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
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
