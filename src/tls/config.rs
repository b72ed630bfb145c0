//! Building rustls configurations from PEM files (shell: reads files).
//!
//! One crypto provider (aws-lc-rs), the safe default protocol versions (TLS 1.2, RFC 5246, and
//! TLS 1.3, RFC 8446) and rustls' default cipher suites, session cache and no ALPN (SIP over TLS,
//! RFC 3261 §26.2, negotiates none). PEM is read with `rustls-pki-types`' [`PemObject`]. Errors
//! name the file and the problem; nothing from a private key file is ever put in an error.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::{KeyError, TlsError};
use crate::config::{ClientAuth, TlsConfig};

/// The crypto provider every configuration uses.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Builds the server configuration of a realm: its certificate chain and key, and client
/// certificate verification per [`ClientAuth`] against the `ca` file.
pub fn server_config(tls: &TlsConfig) -> Result<ServerConfig, TlsError> {
    let certs = load_certs(&tls.cert)?;
    server_config_with(tls, certs)
}

/// [`server_config`] with the chain already read from `tls.cert` (so callers can inspect it).
pub(super) fn server_config_with(
    tls: &TlsConfig,
    certs: Vec<CertificateDer<'static>>,
) -> Result<ServerConfig, TlsError> {
    let key = load_key(&tls.key)?;
    let provider = provider();
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Protocol)?;
    let builder = match tls.client_auth {
        ClientAuth::None => builder.with_no_client_auth(),
        mode @ (ClientAuth::Optional | ClientAuth::Required) => {
            let ca = tls.ca.as_deref().ok_or(TlsError::ClientAuthWithoutCa)?;
            let roots = Arc::new(load_roots(ca)?);
            let mut verifier = WebPkiClientVerifier::builder_with_provider(roots, provider);
            if mode == ClientAuth::Optional {
                verifier = verifier.allow_unauthenticated();
            }
            let verifier = verifier.build().map_err(|source| TlsError::Verifier {
                path: ca.to_owned(),
                source,
            })?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    builder
        .with_single_cert(certs, key)
        .map_err(|source| TlsError::CertifiedKey {
            cert: tls.cert.clone(),
            key: tls.key.clone(),
            source,
        })
}

/// Builds the configuration for TLS connections to peers. Server certificates are verified,
/// including the server name, against the CA certificates in `ca`; there are no built-in or
/// system roots, so `ca` is required (`None` is [`TlsError::NoTrustAnchors`]). With
/// `client_identity = Some((cert, key))` the SBC presents that certificate (mutual TLS).
pub fn client_config(
    ca: Option<&Path>,
    client_identity: Option<(&Path, &Path)>,
) -> Result<ClientConfig, TlsError> {
    let ca = ca.ok_or(TlsError::NoTrustAnchors)?;
    let roots = load_roots(ca)?;
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Protocol)?
        .with_root_certificates(roots);
    match client_identity {
        None => Ok(builder.with_no_client_auth()),
        Some((cert, key)) => builder
            .with_client_auth_cert(load_certs(cert)?, load_key(key)?)
            .map_err(|source| TlsError::CertifiedKey {
                cert: cert.to_owned(),
                key: key.to_owned(),
                source,
            }),
    }
}

/// Reads every certificate of a PEM file; at least one.
pub(super) fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|source| TlsError::Certificates {
            path: path.to_owned(),
            source,
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificates {
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

/// Reads the first private key (PKCS#8, PKCS#1 or SEC1) of a PEM file. The PEM error is reduced
/// to a category so no line of the key file can reach a log.
fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| TlsError::PrivateKey {
        path: path.to_owned(),
        source: match e {
            pem::Error::Io(io) => KeyError::Io(io),
            pem::Error::NoItemsFound => KeyError::NoKey,
            _ => KeyError::Malformed,
        },
    })
}

/// Reads a CA bundle into a root store; every certificate in it must be usable.
fn load_roots(path: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in load_certs(path)? {
        roots.add(cert).map_err(|source| TlsError::CaCertificate {
            path: PathBuf::from(path),
            source,
        })?;
    }
    Ok(roots)
}
