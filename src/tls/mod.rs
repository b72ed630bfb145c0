//! TLS for SIP (RFC 3261 §26.2, RFC 5630): rustls server and client configurations, mutual TLS
//! and certificate hot reload (shell: reads files, watches directories, spawns a task).
//!
//! - [`server_config`] builds a realm's server configuration from its [`TlsConfig`]: certificate
//!   chain, private key and, per [`ClientAuth`], client certificate verification against the
//!   realm's `ca` file. [`client_config`] builds the configuration for connections to peers.
//! - [`ReloadableServerConfig`] holds the current server configuration in an `ArcSwap`. Listeners
//!   build a `TlsAcceptor` from [`ReloadableServerConfig::current`] for every accepted
//!   connection, so a reload changes the certificate for new handshakes while established
//!   connections (and calls on them) keep theirs. A reload that fails keeps the old configuration.
//! - [`watch`] reloads when the certificate, key or CA file changes on disk; the application also
//!   calls [`ReloadableServerConfig::reload_and_record`] on SIGHUP.
//!
//! Defaults: aws-lc-rs, TLS 1.2 and 1.3, rustls' cipher suites and session cache, no ALPN.
//!
//! [`TlsConfig`]: crate::config::TlsConfig
//! [`ClientAuth`]: crate::config::ClientAuth

mod config;
mod reload;
pub mod x509;

use std::path::PathBuf;

use thiserror::Error;

pub use config::{client_config, server_config};
pub use reload::{DEBOUNCE, ReloadableServerConfig, watch};

/// Why a TLS configuration could not be built.
#[derive(Debug, Error)]
pub enum TlsError {
    /// A certificate file could not be read or is not valid PEM.
    #[error("cannot read certificates from {}: {source}", path.display())]
    Certificates {
        /// The file.
        path: PathBuf,
        /// The PEM or I/O problem.
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    /// A certificate file holds no `CERTIFICATE` section.
    #[error("no certificate found in {}", path.display())]
    NoCertificates {
        /// The file.
        path: PathBuf,
    },
    /// A private key file could not be used.
    #[error("cannot read the private key from {}: {source}", path.display())]
    PrivateKey {
        /// The file.
        path: PathBuf,
        /// What is wrong, without any of the file's contents.
        #[source]
        source: KeyError,
    },
    /// A certificate in the CA file cannot serve as a trust anchor.
    #[error("unusable CA certificate in {}: {source}", path.display())]
    CaCertificate {
        /// The CA file.
        path: PathBuf,
        /// rustls' reason.
        #[source]
        source: rustls::Error,
    },
    /// The client certificate verifier could not be built from the CA file.
    #[error("cannot verify client certificates with {}: {source}", path.display())]
    Verifier {
        /// The CA file.
        path: PathBuf,
        /// rustls' reason.
        #[source]
        source: rustls::server::VerifierBuilderError,
    },
    /// The certificate chain and private key do not form a usable identity (e.g. the key does
    /// not belong to the certificate).
    #[error("certificate {} with key {} is unusable: {source}", cert.display(), key.display())]
    CertifiedKey {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// rustls' reason.
        #[source]
        source: rustls::Error,
    },
    /// Client certificates are requested (`client_auth`) but no `ca` file is configured.
    #[error("client_auth needs a `ca` file to verify client certificates")]
    ClientAuthWithoutCa,
    /// A client configuration was requested without a CA file; there are no built-in roots.
    #[error("TLS to peers needs a CA file: there are no built-in trust anchors")]
    NoTrustAnchors,
    /// The crypto provider does not support the protocol versions.
    #[error("TLS protocol versions unsupported by the crypto provider: {0}")]
    Protocol(#[source] rustls::Error),
    /// The directory of a certificate file could not be watched.
    #[error("cannot watch {} for certificate changes: {source}", path.display())]
    Watch {
        /// The directory.
        path: PathBuf,
        /// notify's reason.
        #[source]
        source: notify::Error,
    },
}

/// What is wrong with a private key file. Deliberately carries none of the file's contents.
#[derive(Debug, Error)]
pub enum KeyError {
    /// The file could not be read.
    #[error("{0}")]
    Io(#[source] std::io::Error),
    /// The file holds no private key section.
    #[error("no private key found")]
    NoKey,
    /// The file is not valid PEM.
    #[error("malformed PEM")]
    Malformed,
}

#[cfg(test)]
mod tests;
