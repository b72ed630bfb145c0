//! Peer health from OPTIONS probes (shell, real sockets): a peer that never answers is marked
//! down and calls routed to it get 503 with Retry-After; a peer that answers (another SBC here)
//! is marked up.

use crate::harness::{self, access, status};
use sbc::config::Transport;
use std::time::Duration;

/// Fast timers (64×T1 = 3.2 s) and a 1 s probe interval.
const EXTRA: &str = "[sip]\nt1_ms = 50\nt2_ms = 400\n";

async fn peer_up(sbc: &sbc::app::Running) -> Option<f64> {
    let metrics = harness::scrape(sbc.metrics_addr).await;
    metrics
        .lines()
        .find(|l| l.starts_with("sbc_peer_up{peer=\"pbx\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// An SBC whose `pbx` peer is at `pbx` and probed every second.
async fn start_probing(pbx: &str) -> sbc::app::Running {
    let text = harness::config_text_with(&harness::repo().join("certs/dev"), EXTRA, pbx).replace(
        "realm = \"core\"\naddresses",
        "realm = \"core\"\noptions_ping_interval_secs = 1\naddresses",
    );
    let config = sbc::config::from_str(&text, &harness::repo()).expect("config");
    sbc::app::start(std::sync::Arc::new(config))
        .await
        .expect("starts")
}

/// Whether `sbc_peer_up{peer="pbx"}` reaches `want` within `tries` × 100 ms.
async fn peer_up_becomes(sbc: &sbc::app::Running, want: f64, tries: u32) -> bool {
    for _ in 0..tries {
        if peer_up(sbc).await == Some(want) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

fn invite(tag: &str) -> bytes::Bytes {
    bytes::Bytes::from(format!(
        "INVITE sip:2000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-{tag};rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:1001@127.0.0.1>;tag={tag}\r\nTo: <sip:2000@127.0.0.1>\r\n\
         Call-ID: {tag}@test\r\nCSeq: 1 INVITE\r\nContact: <sip:1001@127.0.0.1:9>\r\nContent-Length: 0\r\n\r\n"
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_peer_goes_down_and_calls_get_503() {
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let sbc = start_probing(&format!("udp:127.0.0.1:{port}")).await;
    let down = peer_up_becomes(&sbc, 0.0, 200).await;
    assert!(down, "silent peer never marked down");
    // The probes really went out: the silent socket received OPTIONS.
    silent.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 2048];
    let (n, _) = silent.recv_from(&mut buf).expect("a probe arrived");
    assert!(buf[..n].starts_with(b"OPTIONS sip:127.0.0.1:"));

    let reply = harness::udp_exchange(
        access(&sbc, Transport::Udp),
        &invite("down-1"),
        Duration::from_secs(5),
    )
    .await
    .expect("an answer");
    assert_eq!(
        status(&reply),
        Some(503),
        "{}",
        String::from_utf8_lossy(&reply)
    );
    assert!(String::from_utf8_lossy(&reply).contains("Retry-After: "));
    sbc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answering_peer_is_up() {
    // Another SBC plays the PBX: it answers OPTIONS addressed to it with 200.
    let pbx = harness::start("").await;
    let pbx_addr = access(&pbx, Transport::Udp);
    let sbc = start_probing(&format!("udp:{pbx_addr}")).await;
    let up = peer_up_becomes(&sbc, 1.0, 100).await;
    assert!(up, "answering peer never marked up");
    sbc.shutdown().await;
    pbx.shutdown().await;
}
