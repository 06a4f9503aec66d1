//! The CA certificates every HTTPS client of secretrun trusts (reqwest for Doppler, Vault,
//! Azure and GCP; the AWS SDK's own client): the system's bundle, found as OpenSSL finds it
//! (`SSL_CERT_FILE`, `SSL_CERT_DIR`, then the distributions' paths), or, where the system has
//! none (a `FROM scratch` or distroless image), Mozilla's root set compiled into the binary, so
//! the static binary reaches a public secret manager anywhere. A provider's own CA file
//! (`VAULT_CACERT`) is trusted in addition, by its provider.
//!
//! Reading and parsing the roots is most of the CPU a remote run spends (≈150 certificates,
//! ≈200 KB of PEM), so it happens once per run, and only when a TLS handshake needs it: a run
//! that talks plain HTTP to a local server (a dev-mode Vault, an emulator) never reads them.

use std::sync::{Arc, OnceLock};

use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use aws_smithy_http_client::{proxy::ProxyConfig, Builder, ConnectorBuilder};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use base64::Engine as _;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

/// The trusted roots, each parsed once: as DER (the AWS SDK takes them as PEM) and as the
/// store rustls checks against.
struct Roots {
    der: Vec<CertificateDer<'static>>,
    store: RootCertStore,
}

/// The roots, loaded on the first TLS handshake of the run. Certificates rustls cannot use are
/// left out, since one of them would make the AWS SDK's client panic.
fn roots() -> &'static Roots {
    static ROOTS: OnceLock<Roots> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = system_certificates();
        for error in &found.errors {
            tracing::warn!("system CA certificates: {error}");
        }
        let roots = usable(found.certs);
        if roots.der.is_empty() {
            tracing::debug!("no system CA certificates: trusting the embedded Mozilla roots");
            usable(webpki_root_certs::TLS_SERVER_ROOT_CERTS.to_vec())
        } else {
            tracing::debug!(
                count = roots.der.len(),
                "trusting the system's CA certificates"
            );
            roots
        }
    })
}

/// The system's certificates as OpenSSL reads them by default: the bundle file, and the hashed
/// directory only where there is no file. OpenSSL looks a certificate up in the directory by its
/// subject's hash, one file per lookup, and distributions fill both from one list
/// (`update-ca-certificates`), so reading all of the directory too (≈290 files on Debian)
/// doubled the cost for nothing. `SSL_CERT_FILE` and `SSL_CERT_DIR`, when set, are read as
/// given, both of them.
fn system_certificates() -> rustls_native_certs::CertificateResult {
    let named = |variable| std::env::var_os(variable).is_some();
    if named("SSL_CERT_FILE") || named("SSL_CERT_DIR") {
        return rustls_native_certs::load_native_certs();
    }
    match openssl_probe::probe().cert_file {
        Some(file) => rustls_native_certs::load_certs_from_paths(Some(&file), None),
        None => rustls_native_certs::load_native_certs(),
    }
}

fn usable(certificates: Vec<CertificateDer<'static>>) -> Roots {
    let mut roots = Roots {
        der: Vec::with_capacity(certificates.len()),
        store: RootCertStore::empty(),
    };
    for certificate in certificates {
        if roots.store.add(certificate.clone()).is_ok() {
            roots.der.push(certificate);
        }
    }
    roots
}

/// Whether `certificate` can be a trust anchor: for a caller's own CA file, checked when it is
/// read rather than at the first handshake.
pub fn is_usable_root(certificate: &CertificateDer<'static>) -> bool {
    RootCertStore::empty().add(certificate.clone()).is_ok()
}

/// The TLS configuration for a reqwest client (`tls_backend_preconfigured`): HTTP/1.1, the
/// safe default protocol versions, and certificates checked against [`roots`] plus `extra`,
/// which are loaded at the first handshake, not here.
pub fn reqwest_tls(extra: Vec<CertificateDer<'static>>) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(LazyVerifier {
        provider: provider.clone(),
        extra,
        verifier: OnceLock::new(),
    });
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("aws-lc-rs supports TLS 1.2 and 1.3")
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

/// rustls's own certificate check, with its roots built on first use. The handshake signatures
/// are checked with the provider's algorithms, which need no roots.
#[derive(Debug)]
struct LazyVerifier {
    provider: Arc<CryptoProvider>,
    extra: Vec<CertificateDer<'static>>,
    verifier: OnceLock<Result<Arc<WebPkiServerVerifier>, rustls::Error>>,
}

impl LazyVerifier {
    fn verifier(&self) -> Result<&Arc<WebPkiServerVerifier>, rustls::Error> {
        self.verifier
            .get_or_init(|| {
                let mut store = roots().store.clone();
                // Checked when the CA file was read (`is_usable_root`).
                store.add_parsable_certificates(self.extra.iter().cloned());
                WebPkiServerVerifier::builder_with_provider(Arc::new(store), self.provider.clone())
                    .build()
                    .map_err(|error| rustls::Error::General(error.to_string()))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl ServerCertVerifier for LazyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.verifier()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The AWS SDK's HTTP client: requests to an `http://` endpoint (a local emulator, the ECS or
/// EC2 credential endpoints) go over plain connections; the rest over the SDK's default HTTPS
/// client (hyper, rustls with aws-lc, proxies from the environment), built on the first HTTPS
/// request and trusting [`roots`]: the SDK's own trust store holds only the system's bundle.
pub fn aws_http_client() -> SharedHttpClient {
    let plain = Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector = ConnectorBuilder::default();
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build_http()
    });
    SharedHttpClient::new(AwsClient {
        plain,
        https: Arc::new(OnceLock::new()),
    })
}

#[derive(Debug)]
struct AwsClient {
    plain: SharedHttpClient,
    https: Arc<OnceLock<SharedHttpClient>>,
}

impl HttpClient for AwsClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(AwsConnector {
            plain: self.plain.http_connector(settings, components),
            https: self.https.clone(),
            settings: settings.clone(),
            components: components.clone(),
        })
    }
}

/// Picks the plain or the HTTPS connector by the request's scheme.
#[derive(Debug)]
struct AwsConnector {
    plain: SharedHttpConnector,
    https: Arc<OnceLock<SharedHttpClient>>,
    settings: HttpConnectorSettings,
    components: RuntimeComponents,
}

impl HttpConnector for AwsConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        if request.uri().starts_with("http://") {
            return self.plain.call(request);
        }
        // The SDK's client keeps one connector (and its pool) per settings.
        self.https
            .get_or_init(aws_https_client)
            .http_connector(&self.settings, &self.components)
            .call(request)
    }
}

fn aws_https_client() -> SharedHttpClient {
    let store = roots().der.iter().fold(TrustStore::empty(), |store, der| {
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
        assert_eq!(usable(embedded.to_vec()).der.len(), embedded.len());
    }

    #[test]
    fn an_unusable_certificate_is_left_out() {
        let mut certificates = webpki_root_certs::TLS_SERVER_ROOT_CERTS[..2].to_vec();
        certificates.push(CertificateDer::from(b"not a certificate".to_vec()));
        let roots = usable(certificates);
        assert_eq!(roots.der.len(), 2);
        assert_eq!(roots.store.len(), 2);
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
    fn a_reqwest_client_builds_with_the_lazy_verifier() {
        reqwest::Client::builder()
            .tls_backend_preconfigured(reqwest_tls(Vec::new()))
            .build()
            .expect("reqwest client");
    }
}
