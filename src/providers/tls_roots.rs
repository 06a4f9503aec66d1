//! The CA certificates every HTTPS client of secretrun trusts (reqwest for Doppler, Vault,
//! Azure and GCP; the AWS SDK's own client): the system's bundle, found as OpenSSL finds it
//! (`SSL_CERT_FILE`, `SSL_CERT_DIR`, then the distributions' paths), or, where the system has
//! none (a `FROM scratch` or distroless image), Mozilla's root set compiled into the binary, so
//! the static binary reaches a public secret manager anywhere. A provider's own CA file
//! (`VAULT_CACERT`) is trusted in addition, by its provider.

use std::sync::OnceLock;

use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use aws_smithy_http_client::{proxy::ProxyConfig, Builder, ConnectorBuilder};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use base64::Engine as _;
use rustls::pki_types::CertificateDer;

/// The roots, loaded once per run when the first HTTPS client is built (a `.env`-only run never
/// reads a bundle). Certificates rustls cannot use are left out here, since one of them would
/// make reqwest refuse to build a client.
fn roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        for error in &found.errors {
            tracing::warn!("system CA certificates: {error}");
        }
        let usable: Vec<_> = found.certs.into_iter().filter(is_usable_root).collect();
        if usable.is_empty() {
            tracing::debug!("no system CA certificates: trusting the embedded Mozilla roots");
            webpki_root_certs::TLS_SERVER_ROOT_CERTS.to_vec()
        } else {
            tracing::debug!(
                count = usable.len(),
                "trusting the system's CA certificates"
            );
            usable
        }
    })
}

fn is_usable_root(certificate: &CertificateDer<'static>) -> bool {
    rustls::RootCertStore::empty()
        .add(certificate.clone())
        .is_ok()
}

/// The roots for [`reqwest::ClientBuilder::tls_certs_only`], which then checks certificates
/// against exactly these (and whatever the caller adds) instead of the platform's verifier,
/// which refuses to start without a system bundle.
pub fn for_reqwest() -> Vec<reqwest::Certificate> {
    roots()
        .iter()
        .filter_map(|der| reqwest::Certificate::from_der(der).ok())
        .collect()
}

/// The AWS SDK's default HTTPS client (hyper, rustls with aws-lc, proxies from the environment),
/// built the way the SDK builds it, but trusting [`roots`]: its own trust store holds only the
/// system's bundle.
pub fn aws_http_client() -> SharedHttpClient {
    let store = roots().iter().fold(TrustStore::empty(), |store, der| {
        store.with_pem_certificate(pem(der))
    });
    // `build` cannot fail with only a trust store set (it checks nothing yet).
    let context = TlsContext::builder()
        .with_trust_store(store)
        .build()
        .unwrap_or_default();
    Builder::new().build_with_connector_fn(move |settings, components| {
        let mut connector = ConnectorBuilder::default()
            .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
            .tls_context(context.clone());
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

/// A DER certificate as PEM, the only form the SDK's trust store takes.
fn pem(der: &CertificateDer<'_>) -> Vec<u8> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    let mut text = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in encoded.as_bytes().chunks(64) {
        text.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        text.push('\n');
    }
    text.push_str("-----END CERTIFICATE-----\n");
    text.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_roots_are_all_usable() {
        let embedded = webpki_root_certs::TLS_SERVER_ROOT_CERTS;
        assert!(embedded.len() > 100, "{} roots", embedded.len());
        assert!(embedded.iter().all(is_usable_root));
    }

    #[test]
    fn pem_round_trips_through_the_parser_the_sdk_uses() {
        use rustls::pki_types::pem::PemObject as _;
        let der = &webpki_root_certs::TLS_SERVER_ROOT_CERTS[0];
        let parsed: Vec<_> = CertificateDer::pem_slice_iter(&pem(der))
            .collect::<Result<_, _>>()
            .expect("valid PEM");
        assert_eq!(parsed, vec![der.clone()]);
    }

    #[test]
    fn a_reqwest_client_builds_with_the_roots() {
        assert!(!for_reqwest().is_empty());
        reqwest::Client::builder()
            .tls_certs_only(for_reqwest())
            .build()
            .expect("reqwest client");
    }
}
