//! TLS at the edge (shell, real sockets): certificate reload through the running listener — new
//! handshakes see the new certificate, an established connection keeps working.

use crate::harness::{self, access, options, repo, status};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use sbc::config::Transport;
use std::path::{Path, PathBuf};
use std::time::Duration;

const ANSWER: Duration = Duration::from_secs(5);

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("sbc-test-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn cert_der(path: &Path) -> CertificateDer<'static> {
    CertificateDer::from_pem_file(path).unwrap()
}

/// Replaces `to` with a copy of `from` atomically (write beside, then rename), as deployment
/// tools and cert-manager do.
fn replace(from: &Path, to: &Path) {
    let tmp = to.with_extension("new");
    std::fs::copy(from, &tmp).unwrap();
    std::fs::rename(&tmp, to).unwrap();
}

fn presented(
    stream: &tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
) -> CertificateDer<'static> {
    stream
        .get_ref()
        .1
        .peer_certificates()
        .expect("server certificate")[0]
        .clone()
        .into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_reload_keeps_established_connections() {
    let dev = repo().join("certs/dev");
    let dir = TempDir::new("reload");
    std::fs::copy(dev.join("server.crt"), dir.0.join("server.crt")).unwrap();
    std::fs::copy(dev.join("server.key"), dir.0.join("server.key")).unwrap();
    let sbc = harness::start_with(&dir.0, "").await;
    let addr = access(&sbc, Transport::Tls);

    let mut before = harness::tls(addr).await;
    assert_eq!(presented(&before), cert_der(&dev.join("server.crt")));
    let reply = harness::stream_exchange(&mut before, &options("TLS", "pre-reload"), ANSWER).await;
    assert_eq!(reply.as_deref().and_then(status), Some(200));

    replace(&dev.join("server2.crt"), &dir.0.join("server.crt"));
    replace(&dev.join("server2.key"), &dir.0.join("server.key"));
    // The SIGHUP path; the file watcher may also have reloaded already, which is equivalent.
    sbc.reload_tls();

    let mut after = harness::tls(addr).await;
    assert_eq!(
        presented(&after),
        cert_der(&dev.join("server2.crt")),
        "new handshake got the old certificate"
    );
    let reply = harness::stream_exchange(&mut after, &options("TLS", "post-reload"), ANSWER).await;
    assert_eq!(reply.as_deref().and_then(status), Some(200));

    // The connection made before the reload still carries SIP.
    let reply = harness::stream_exchange(&mut before, &options("TLS", "old-conn"), ANSWER).await;
    assert_eq!(
        reply.as_deref().and_then(status),
        Some(200),
        "established connection broken by reload"
    );

    let metrics = harness::scrape(sbc.metrics_addr).await;
    assert!(
        harness::series(
            &metrics,
            "sbc_tls_certificate_reloads_total{realm=\"access\",result=\"ok\"}"
        ) >= 1.0
    );
    sbc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_replacement_keeps_the_current_certificate() {
    let dev = repo().join("certs/dev");
    let dir = TempDir::new("broken");
    std::fs::copy(dev.join("server.crt"), dir.0.join("server.crt")).unwrap();
    std::fs::copy(dev.join("server.key"), dir.0.join("server.key")).unwrap();
    let sbc = harness::start_with(&dir.0, "").await;
    std::fs::write(dir.0.join("server.crt"), b"not a certificate").unwrap();
    sbc.reload_tls();
    let mut conn = harness::tls(access(&sbc, Transport::Tls)).await;
    assert_eq!(presented(&conn), cert_der(&dev.join("server.crt")));
    let reply = harness::stream_exchange(&mut conn, &options("TLS", "kept"), ANSWER).await;
    assert_eq!(reply.as_deref().and_then(status), Some(200));
    let metrics = harness::scrape(sbc.metrics_addr).await;
    assert!(
        harness::series(
            &metrics,
            "sbc_tls_certificate_reloads_total{realm=\"access\",result=\"error\"}"
        ) >= 1.0
    );
    sbc.shutdown().await;
}
