//! TLS tests with the development certificates in `certs/dev/`: real handshakes over in-memory
//! duplex streams, mutual TLS, reload by rename, the file watcher and failed reloads.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::{ClientConfig, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio_rustls::{TlsAcceptor, TlsConnector, client, server};

use super::*;
use crate::app::shutdown_channel;
use crate::config::{ClientAuth, TlsConfig};
use crate::metrics::Metrics;

/// Bound on every handshake and read so a broken peer fails a test instead of hanging it.
const WAIT: Duration = Duration::from_secs(10);

fn dev(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("certs/dev")
        .join(name)
}

fn der(path: &Path) -> CertificateDer<'static> {
    CertificateDer::from_pem_file(path).expect("certificate")
}

fn tls_config(dir: &Path, client_auth: ClientAuth) -> TlsConfig {
    TlsConfig {
        cert: dir.join("server.crt"),
        key: dir.join("server.key"),
        ca: Some(dev("ca.crt")),
        client_auth,
    }
}

fn client(identity: bool) -> Arc<ClientConfig> {
    let (crt, key) = (dev("client.crt"), dev("client.key"));
    let identity = identity.then_some((crt.as_path(), key.as_path()));
    Arc::new(client_config(Some(&dev("ca.crt")), identity).expect("client config"))
}

type Pair = (
    std::io::Result<server::TlsStream<DuplexStream>>,
    std::io::Result<client::TlsStream<DuplexStream>>,
);

/// Runs a handshake between the two configurations over an in-memory stream.
async fn handshake(server: Arc<ServerConfig>, client: Arc<ClientConfig>) -> Pair {
    let (server_io, client_io) = tokio::io::duplex(64 * 1024);
    let name = ServerName::try_from("localhost").unwrap();
    let both = async {
        tokio::join!(
            TlsAcceptor::from(server).accept(server_io),
            TlsConnector::from(client).connect(name, client_io)
        )
    };
    tokio::time::timeout(WAIT, both)
        .await
        .expect("handshake in time")
}

/// Sends `bytes` from the client and echoes them back from the server.
async fn round_trip(
    server: &mut server::TlsStream<DuplexStream>,
    client: &mut client::TlsStream<DuplexStream>,
    bytes: &[u8],
) {
    let exchange = async {
        client.write_all(bytes).await.unwrap();
        client.flush().await.unwrap();
        let mut buf = vec![0; bytes.len()];
        server.read_exact(&mut buf).await.unwrap();
        server.write_all(&buf).await.unwrap();
        server.flush().await.unwrap();
        let mut back = vec![0; bytes.len()];
        client.read_exact(&mut back).await.unwrap();
        back
    };
    let back = tokio::time::timeout(WAIT, exchange)
        .await
        .expect("echo in time");
    assert_eq!(back, bytes);
}

fn peer_cert(client: &client::TlsStream<DuplexStream>) -> CertificateDer<'static> {
    client
        .get_ref()
        .1
        .peer_certificates()
        .expect("server certificate")[0]
        .clone()
}

/// A scratch directory holding copies of the dev server certificate, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("sbc-tls-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for file in ["server.crt", "server.key"] {
            std::fs::copy(dev(file), dir.join(file)).unwrap();
        }
        Self(dir)
    }

    /// Replaces `server.*` with `server2.*` the way certificate tooling does: write, rename.
    fn swap_in_server2(&self) {
        for (from, to) in [("server2.key", "server.key"), ("server2.crt", "server.crt")] {
            let tmp = self.0.join(format!(".{to}.tmp"));
            std::fs::copy(dev(from), &tmp).unwrap();
            std::fs::rename(&tmp, self.0.join(to)).unwrap();
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn handshake_with_dev_certificates_and_data_flows() {
    let reloadable = ReloadableServerConfig::new(tls_config(&dev(""), ClientAuth::None)).unwrap();
    let (server, client) = handshake(reloadable.current(), client(false)).await;
    let (mut server, mut client) = (server.expect("server side"), client.expect("client side"));
    assert_eq!(peer_cert(&client), der(&dev("server.crt")));
    assert!(server.get_ref().1.alpn_protocol().is_none());
    round_trip(
        &mut server,
        &mut client,
        b"OPTIONS sip:localhost SIP/2.0\r\n",
    )
    .await;
}

#[tokio::test]
async fn required_client_auth_rejects_a_client_without_certificate() {
    let config = ReloadableServerConfig::new(tls_config(&dev(""), ClientAuth::Required)).unwrap();
    let (server, _client) = handshake(config.current(), client(false)).await;
    assert!(
        server.is_err(),
        "handshake without a client certificate succeeded"
    );

    let (server, client) = handshake(config.current(), client(true)).await;
    let (mut server, mut client) = (server.expect("server side"), client.expect("client side"));
    let presented = server.get_ref().1.peer_certificates().expect("client cert");
    assert_eq!(presented[0], der(&dev("client.crt")));
    round_trip(&mut server, &mut client, b"ping").await;
}

#[tokio::test]
async fn optional_client_auth_accepts_both() {
    let config = ReloadableServerConfig::new(tls_config(&dev(""), ClientAuth::Optional)).unwrap();
    let (server, _) = handshake(config.current(), client(false)).await;
    assert!(
        server
            .expect("anonymous client")
            .get_ref()
            .1
            .peer_certificates()
            .is_none()
    );
    let (server, _) = handshake(config.current(), client(true)).await;
    assert!(
        server
            .expect("client with cert")
            .get_ref()
            .1
            .peer_certificates()
            .is_some()
    );
}

#[tokio::test]
async fn reload_changes_new_handshakes_and_keeps_established_connections() {
    let scratch = Scratch::new("reload");
    let config = ReloadableServerConfig::new(tls_config(&scratch.0, ClientAuth::None)).unwrap();
    let (server, client_side) = handshake(config.current(), client(false)).await;
    let (mut old_server, mut old_client) = (server.unwrap(), client_side.unwrap());
    assert_eq!(peer_cert(&old_client), der(&dev("server.crt")));

    scratch.swap_in_server2();
    config.reload().expect("reload");
    assert_eq!(config.generation(), 1);

    let (_, client_side) = handshake(config.current(), client(false)).await;
    assert_eq!(peer_cert(&client_side.unwrap()), der(&dev("server2.crt")));
    round_trip(
        &mut old_server,
        &mut old_client,
        b"still here after the reload",
    )
    .await;
}

#[tokio::test]
async fn failed_reload_keeps_the_previous_configuration() {
    let scratch = Scratch::new("failed");
    let config = ReloadableServerConfig::new(tls_config(&scratch.0, ClientAuth::None)).unwrap();
    let metrics = Metrics::new();

    std::fs::write(
        scratch.0.join("server.crt"),
        "-----BEGIN CERTIFICATE-----\ngarbage!\n",
    )
    .unwrap();
    let error = config.reload_and_record("access", &metrics).unwrap_err();
    assert!(error.to_string().contains("server.crt"), "{error}");

    // A key that belongs to another certificate is refused too.
    std::fs::copy(dev("server.crt"), scratch.0.join("server.crt")).unwrap();
    std::fs::copy(dev("server2.key"), scratch.0.join("server.key")).unwrap();
    assert!(matches!(
        config.reload(),
        Err(TlsError::CertifiedKey { .. })
    ));

    assert_eq!(config.generation(), 0);
    let (_, client_side) = handshake(config.current(), client(false)).await;
    assert_eq!(peer_cert(&client_side.unwrap()), der(&dev("server.crt")));
    let text = metrics.encode().unwrap();
    assert!(text.contains(r#"sbc_tls_certificate_reloads_total{realm="access",result="error"} 1"#));
}

#[tokio::test]
async fn watcher_reloads_after_a_rename() {
    let scratch = Scratch::new("watch");
    let config =
        Arc::new(ReloadableServerConfig::new(tls_config(&scratch.0, ClientAuth::None)).unwrap());
    let metrics = Arc::new(Metrics::new());
    let (trigger, shutdown) = shutdown_channel();
    let task = watch(
        Arc::clone(&config),
        "access".into(),
        Arc::clone(&metrics),
        shutdown,
    )
    .unwrap();

    scratch.swap_in_server2();
    // Real time: the watcher reacts to the file system. Poll for at most 10 s.
    for _ in 0..200 {
        if config.generation() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(config.generation() >= 1, "no reload after the rename");
    let (_, client_side) = handshake(config.current(), client(false)).await;
    assert_eq!(peer_cert(&client_side.unwrap()), der(&dev("server2.crt")));
    let text = metrics.encode().unwrap();
    assert!(text.contains(r#"sbc_tls_certificate_reloads_total{realm="access",result="ok"}"#));
    let expected = x509::validity(&der(&dev("server2.crt"))).unwrap().not_after;
    assert!(text.contains(&format!(
        "sbc_tls_certificate_expiry_timestamp_seconds{{realm=\"access\"}} {expected}\n"
    )));

    trigger.trigger();
    tokio::time::timeout(WAIT, task)
        .await
        .expect("watcher stops")
        .unwrap();
}

#[test]
fn configuration_errors_name_the_problem() {
    let missing = TlsConfig {
        cert: dev("missing.crt"),
        ..tls_config(&dev(""), ClientAuth::None)
    };
    let error = server_config(&missing).unwrap_err().to_string();
    assert!(error.contains("missing.crt"), "{error}");

    let key_is_cert = TlsConfig {
        key: dev("server.crt"),
        ..tls_config(&dev(""), ClientAuth::None)
    };
    let error = server_config(&key_is_cert).unwrap_err();
    assert!(
        matches!(
            error,
            TlsError::PrivateKey {
                source: KeyError::NoKey,
                ..
            }
        ),
        "{error}"
    );

    let no_ca = TlsConfig {
        ca: None,
        ..tls_config(&dev(""), ClientAuth::Required)
    };
    assert!(matches!(
        server_config(&no_ca),
        Err(TlsError::ClientAuthWithoutCa)
    ));
    assert!(matches!(
        client_config(None, None),
        Err(TlsError::NoTrustAnchors)
    ));
}

#[test]
fn key_errors_never_quote_the_key_file() {
    let scratch = Scratch::new("secret");
    let secret = "-----BEGIN PRIVATE KEY-----\nTOPSECRET@@@\n-----END PRIVATE KEY-----\n";
    std::fs::write(scratch.0.join("server.key"), secret).unwrap();
    let error = server_config(&tls_config(&scratch.0, ClientAuth::None)).unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("TOPSECRET"), "{shown}");
    assert!(shown.contains("server.key"), "{shown}");
}

#[tokio::test]
async fn tls_1_2_and_1_3_are_both_offered() {
    let server = ReloadableServerConfig::new(tls_config(&dev(""), ClientAuth::None)).unwrap();
    let roots = {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(der(&dev("ca.crt"))).unwrap();
        roots
    };
    for version in [&rustls::version::TLS12, &rustls::version::TLS13] {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let only = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[version])
            .unwrap()
            .with_root_certificates(roots.clone())
            .with_no_client_auth();
        let (server_side, client_side) = handshake(server.current(), Arc::new(only)).await;
        let server_side = server_side.expect("server side");
        client_side.expect("client side");
        assert_eq!(
            server_side.get_ref().1.protocol_version(),
            Some(version.version)
        );
    }
}
