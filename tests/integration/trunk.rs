//! Trunks (shell, real sockets, SIPp as the trunk): digest challenges to the SBC's INVITEs are
//! answered with the peer's configured credentials, and SIPp's own digest code verifies them.

use crate::harness::{self, repo};
use crate::interop::{free_port, run_pair_with, sipp};
use sbc::config::Transport;
use std::sync::Arc;

/// The loopback configuration with the `pbx` peer at `pbx` using `credentials` (file text).
async fn start_with_credentials(pbx: &str, credentials: &str) -> (sbc::app::Running, PathGuard) {
    let dir = std::env::temp_dir().join(format!("sbc-trunk-{}", free_port(Transport::Udp)));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("trunk.credentials");
    std::fs::write(&file, credentials).expect("credentials file");
    let peer = format!("addresses = [\"{pbx}\"]");
    let text = harness::config_text_with(&repo().join("certs/dev"), "", pbx).replace(
        &peer,
        &format!("{peer}\ncredentials_file = \"{}\"", file.display()),
    );
    let config = sbc::config::from_str(&text, &repo()).expect("config");
    let sbc = sbc::app::start(Arc::new(config)).await.expect("starts");
    (sbc, PathGuard(dir))
}

/// Removes a temporary directory when dropped.
struct PathGuard(std::path::PathBuf);

impl Drop for PathGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trunk_challenges_are_answered_with_configured_credentials() {
    if sipp().is_none() {
        return;
    }
    for transport in [Transport::Udp, Transport::Tcp] {
        let port = free_port(transport);
        let pbx = format!(
            "{}:127.0.0.1:{port}",
            transport.as_str().to_ascii_lowercase()
        );
        let (sbc, _dir) =
            start_with_credentials(&pbx, "username = \"trunkuser\"\npassword = \"trunkpass\"\n")
                .await;
        let result = run_pair_with(
            "call-uac.xml",
            "trunkauth-uas.xml",
            &sbc,
            port,
            transport,
            5,
            10,
        )
        .await;
        let metrics = harness::scrape(sbc.metrics_addr).await;
        sbc.shutdown().await;
        result.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            harness::series(&metrics, "sbc_calls_answered_total{peer=\"pbx\"}"),
            5.0,
            "{transport}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_credentials_file_stops_start_up_without_quoting_it() {
    let dir = std::env::temp_dir().join(format!("sbc-badcred-{}", free_port(Transport::Udp)));
    std::fs::create_dir_all(&dir).unwrap();
    let _guard = PathGuard(dir.clone());
    let file = dir.join("trunk.credentials");
    std::fs::write(&file, "username = \"u\"\npassword = s3cret\n").unwrap();
    let peer = "addresses = [\"udp:127.0.0.1:5080\"]";
    let text = harness::config_text_with(&repo().join("certs/dev"), "", "udp:127.0.0.1:5080")
        .replace(
            peer,
            &format!("{peer}\ncredentials_file = \"{}\"", file.display()),
        );
    let config = sbc::config::from_str(&text, &repo()).expect("config");
    let error = match sbc::app::start(Arc::new(config)).await {
        Ok(_) => panic!("started with a malformed credentials file"),
        Err(e) => e.to_string(),
    };
    assert!(
        error.contains("peer pbx") && error.contains("line 2"),
        "{error}"
    );
    assert!(!error.contains("s3cret"), "{error}");
}
