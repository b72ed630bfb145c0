//! Trunks (shell, real sockets, SIPp as the trunk): digest challenges to the SBC's INVITEs are
//! answered with the peer's configured credentials, and SIPp's own digest code verifies them.

use crate::harness::{self, repo};
use crate::interop::{free_port, run_pair_with, sipp, spawn_unavailable};
use sbc::config::Transport;
use std::sync::Arc;

/// The loopback configuration with the `pbx` peer at `pbx` using `credentials` (file text).
async fn start_with_credentials(pbx: &str, credentials: &str) -> (sbc::app::Running, PathGuard) {
    start_with_credentials_and(pbx, credentials, "").await
}

/// [`start_with_credentials`] with `peer_extra` TOML appended to the peer's table.
async fn start_with_credentials_and(
    pbx: &str,
    credentials: &str,
    peer_extra: &str,
) -> (sbc::app::Running, PathGuard) {
    let dir = std::env::temp_dir().join(format!("sbc-trunk-{}", free_port(Transport::Udp)));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("trunk.credentials");
    std::fs::write(&file, credentials).expect("credentials file");
    let peer = format!("addresses = [\"{pbx}\"]");
    let text = harness::config_text_with(&repo().join("certs/dev"), "", pbx).replace(
        &peer,
        &format!(
            "{peer}\ncredentials_file = \"{}\"{peer_extra}",
            file.display()
        ),
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

/// The SBC registers itself with a trunk (SIPp as the registrar): the challenge is answered with
/// the configured credentials, the short lifetime granted is refreshed in time, and
/// `sbc_trunk_registered` shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sbc_registers_with_a_trunk_and_refreshes() {
    let Some(sipp) = sipp() else { return };
    let port = free_port(Transport::Udp);
    let pbx = format!("udp:127.0.0.1:{port}");
    let dir = repo().join("tests/interop");
    let registrar = std::process::Command::new(sipp)
        .args([
            "-sf",
            &dir.join("trunk-registrar.xml").display().to_string(),
        ])
        .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-m", "1"])
        .args(["-nostdin", "-timeout", "30s", "-timeout_error"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("sipp registrar");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (sbc, _dir) = start_with_credentials_and(
        &pbx,
        "username = \"trunkuser\"\npassword = \"trunkpass\"\n",
        "\n[peers.registration]\nuser = \"trunkuser\"\ndomain = \"127.0.0.1\"\nretry_secs = 1\n",
    )
    .await;
    let mut registered = f64::NAN;
    for _ in 0..50 {
        let metrics = harness::scrape(sbc.metrics_addr).await;
        registered = harness::series(&metrics, "sbc_trunk_registered{peer=\"pbx\"}");
        if registered == 1.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let output = tokio::task::spawn_blocking(move || registrar.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    sbc.shutdown().await;
    assert_eq!(registered, 1.0, "never registered");
    assert!(
        output.status.success(),
        "registrar saw a bad REGISTER or no refresh:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Failover across peers: the route's target answers every INVITE with 503, its
/// `failover_peers` entry works; every call succeeds and is answered by the backup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_fail_over_to_the_routes_backup_peer() {
    let Some(sipp) = sipp() else { return };
    let bad = free_port(Transport::Udp);
    let good = free_port(Transport::Udp);
    let extra = format!(
        "[[peers]]\nname = \"backup\"\nrealm = \"core\"\naddresses = [\"udp:127.0.0.1:{good}\"]\n"
    );
    let text = harness::config_text_with(
        &repo().join("certs/dev"),
        &extra,
        &format!("udp:127.0.0.1:{bad}"),
    )
    .replace(
        "to_peer = \"pbx\"",
        "to_peer = \"pbx\"\nfailover_peers = [\"backup\"]",
    );
    let config = sbc::config::from_str(&text, &repo()).expect("config");
    let sbc = sbc::app::start(Arc::new(config)).await.expect("starts");
    let mut unavailable = spawn_unavailable(sipp, bad);
    let result = run_pair_with(
        "call-uac.xml",
        "call-uas.xml",
        &sbc,
        good,
        Transport::Udp,
        5,
        10,
    )
    .await;
    let metrics = harness::scrape(sbc.metrics_addr).await;
    let _ = unavailable.kill();
    let _ = unavailable.wait();
    sbc.shutdown().await;
    result.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        harness::series(&metrics, "sbc_calls_answered_total{peer=\"backup\"}"),
        5.0,
        "{metrics}"
    );
}

/// A peer configured by host name (`localhost`, resolved through the system resolver) takes
/// calls, and sees its name in the Request-URI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_configured_by_host_name_takes_calls() {
    if sipp().is_none() {
        return;
    }
    let port = free_port(Transport::Udp);
    let sbc = harness::start_with_pbx("", &format!("udp:localhost:{port}")).await;
    let result = run_pair_with(
        "call-uac.xml",
        "named-uas.xml",
        &sbc,
        port,
        Transport::Udp,
        3,
        10,
    )
    .await;
    let metrics = harness::scrape(sbc.metrics_addr).await;
    sbc.shutdown().await;
    result.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        harness::series(&metrics, "sbc_calls_answered_total{peer=\"pbx\"}"),
        3.0
    );
}
