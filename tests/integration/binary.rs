//! The `sbc` binary on the loopback contract (`tests/data/configs/loopback.toml`, fixed ports):
//! it serves SIP over UDP, TCP and TLS, exposes live metrics, reloads certificates on SIGHUP and
//! drains on SIGTERM. Also measures the resident memory one idle TLS connection costs the
//! process (printed, not asserted).

use crate::harness::{self, options, repo, status};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const UDP: &str = "127.0.0.1:5070";
const TLS: &str = "127.0.0.1:5071";
const METRICS: &str = "127.0.0.1:9090";
const ANSWER: Duration = Duration::from_secs(5);

struct Sbc(Child);

impl Drop for Sbc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name} failed");
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_serves_the_loopback_contract() {
    let child = Command::new(env!("CARGO_BIN_EXE_sbc"))
        .args(["run", "--config"])
        .arg(repo().join("tests/data/configs/loopback.toml"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sbc starts");
    let mut sbc = Sbc(child);
    let udp: SocketAddr = UDP.parse().unwrap();
    let mut up = false;
    for i in 0..100 {
        if let Some(reply) = harness::udp_exchange(
            udp,
            &options("UDP", &format!("boot-{i}")),
            Duration::from_millis(100),
        )
        .await
        {
            up = status(&reply) == Some(200);
            break;
        }
    }
    assert!(
        up,
        "sbc did not answer OPTIONS on {UDP} (is the port free?)"
    );
    let mut tcp = harness::tcp(udp).await;
    let reply = harness::stream_exchange(&mut tcp, &options("TCP", "bin-tcp"), ANSWER).await;
    assert_eq!(reply.as_deref().and_then(status), Some(200));
    let tls_addr: SocketAddr = TLS.parse().unwrap();
    let mut tls = harness::tls(tls_addr).await;
    let reply = harness::stream_exchange(&mut tls, &options("TLS", "bin-tls"), ANSWER).await;
    assert_eq!(reply.as_deref().and_then(status), Some(200));

    let metrics = harness::scrape(METRICS.parse().unwrap()).await;
    for transport in ["udp", "tcp", "tls"] {
        let series = format!(
            "sbc_sip_requests_total{{method=\"OPTIONS\",realm=\"access\",transport=\"{transport}\",direction=\"in\"}}"
        );
        assert!(
            harness::series(&metrics, &series) >= 1.0,
            "{series} missing:\n{metrics}"
        );
    }
    assert!(metrics.contains("sbc_build_info{version=\""));

    // Memory per idle TLS connection, measured on the server process. 250 connections: all from
    // one source address, and the contract keeps the default cap of 256 per source.
    const IDLE: u64 = 250;
    let pid = sbc.0.id();
    let before = rss_kib(pid);
    let mut idle = Vec::with_capacity(IDLE as usize);
    for _ in 0..IDLE {
        idle.push(harness::tls(tls_addr).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = rss_kib(pid);
    eprintln!(
        "memory per idle TLS connection: {:.1} KiB ({} KiB RSS for {IDLE} connections)",
        after.saturating_sub(before) as f64 / IDLE as f64,
        after.saturating_sub(before)
    );
    drop(idle);

    // SIGHUP reloads the certificates.
    signal(&sbc.0, "HUP");
    let mut reloaded = false;
    for _ in 0..50 {
        let metrics = harness::scrape(METRICS.parse().unwrap()).await;
        if harness::series(
            &metrics,
            "sbc_tls_certificate_reloads_total{realm=\"access\",result=\"ok\"}",
        ) >= 1.0
        {
            reloaded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reloaded, "SIGHUP did not reload the certificate");

    // SIGTERM drains and exits cleanly.
    signal(&sbc.0, "TERM");
    let mut exited = None;
    // Bounded by the drain (nothing to drain here) and the task shutdown bound of the binary.
    for _ in 0..400 {
        if let Some(status) = sbc.0.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        exited.is_some_and(|s| s.success()),
        "sbc did not exit cleanly on SIGTERM: {exited:?}"
    );
}
