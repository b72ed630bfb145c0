//! Media the SBC cannot anchor, refused with the right SIP answer, against SIPp (a peer we did
//! not write): an offer of DTLS-SRTP only, and a plain offer into a realm whose SRTP policy is
//! mandatory, get 488 with a Warning and never reach the PBX; a call arriving when every relay
//! port pair is held gets 503 with Retry-After; a re-INVITE with an offer that cannot be anchored
//! gets 488 while the call and its media go on; a late offer in the PBX's 2xx that cannot be
//! anchored is answered in the ACK with every stream rejected, the PBX's call is ended and the
//! caller gets 488. Each refusal is counted in
//! `sbc_media_refused_total{reason}` and has its call record. Without `sipp` the tests fail when
//! `SBC_REQUIRE_INTEROP=1` (CI) and otherwise print a notice and do nothing.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicU16;
use std::time::Duration;

use sbc::app::Running;
use sbc::config::Transport;
use serde_json::Value;

use crate::drain::{finished, spawn_sipp};
use crate::harness::{self, access, repo};
use crate::interop::{free_port, port_block, run_scenario, sipp};
use crate::media_interop::{media_ports, summary};
use crate::ops::{records, temp_dir, wait_idle};

/// Packets in `tests/data/rtp/pcmu-3s.pcap`.
const PCAP_PACKETS: f64 = 150.0;

/// Starts an SBC whose `pbx` peer is on `pbx_port`, writing call records to `records`, with
/// `edit` applied to the configuration text.
async fn sbc_with(
    pbx_port: u16,
    records: &std::path::Path,
    edit: impl Fn(String) -> String,
) -> Running {
    let extra = format!("[records]\npath = \"{}\"\n", records.display());
    let text = edit(harness::config_text_with(
        &repo().join("certs/dev"),
        &extra,
        &format!("udp:127.0.0.1:{pbx_port}"),
    ));
    let config = sbc::config::from_str(&text, &repo()).unwrap_or_else(|e| panic!("config: {e}"));
    sbc::app::start(Arc::new(config)).await.expect("sbc starts")
}

/// `sbc_media_refused_total{reason}`.
fn refused(metrics: &str, reason: &str) -> f64 {
    harness::series(
        metrics,
        &format!("sbc_media_refused_total{{reason=\"{reason}\"}}"),
    )
}

/// INVITEs the SBC sent toward the PBX (core realm, UDP).
fn invites_to_pbx(metrics: &str) -> f64 {
    harness::series(
        metrics,
        "sbc_sip_requests_total{method=\"INVITE\",realm=\"core\",transport=\"udp\",direction=\"out\"}",
    )
}

/// The one record of a refused call: the SBC ended it with `status`, before any answer.
fn assert_refused_record(record: &Value, status: u16) {
    assert_eq!(record["status"], status, "{record}");
    assert_eq!(record["reason"], "media_refused", "{record}");
    assert_eq!(record["ended_by"], "sbc:media_refused", "{record}");
    assert!(record["answer"].is_null(), "{record}");
}

/// One call of `scenario` refused before it reaches a PBX that only listens on its port:
/// the refusal is counted under `reason`, no INVITE leaves toward the PBX, and the record says
/// 488 and why.
async fn refused_before_the_pbx(scenario: &str, reason: &str, edit: impl Fn(String) -> String) {
    let dir = temp_dir(&format!("refuse-{reason}"));
    let file = dir.join("calls.jsonl");
    let pbx = std::net::UdpSocket::bind("127.0.0.1:0").expect("pbx socket");
    let pbx_port = pbx.local_addr().unwrap().port();
    let sbc = sbc_with(pbx_port, &file, edit).await;
    run_scenario(scenario, access(&sbc, Transport::Udp), Transport::Udp, 1)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(wait_idle(&sbc).await, 0.0);
    let metrics = harness::scrape(sbc.metrics_addr).await;
    sbc.shutdown().await;
    assert_eq!(refused(&metrics, reason), 1.0, "{metrics}");
    assert_eq!(invites_to_pbx(&metrics), 0.0, "an INVITE reached the PBX");
    // Whatever reached the PBX's socket (peer health OPTIONS at most), never an INVITE.
    pbx.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 4096];
    while let Ok(n) = pbx.recv(&mut buf) {
        assert!(!buf[..n].starts_with(b"INVITE"), "the PBX saw an INVITE");
    }
    let all = records(&file);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_refused_record(&all[0], 488);
    assert!(all[0]["media"].is_null(), "{}", all[0]);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_dtls_only_offer_gets_488_with_warning_and_the_pbx_no_invite() {
    if sipp().is_none() {
        return;
    }
    refused_before_the_pbx("refuse-dtls-uac.xml", "transport", |text| text).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_plain_offer_where_srtp_is_mandatory_gets_488() {
    if sipp().is_none() {
        return;
    }
    refused_before_the_pbx("refuse-plain-uac.xml", "srtp_policy", |text| {
        text.replacen(
            "port_max = 34999\n",
            "port_max = 34999\nsrtp = \"mandatory\"\n",
            1,
        )
    })
    .await;
}

/// Eight consecutive free UDP ports below the ephemeral range and apart from the ranges other
/// tests use (relay 30000-39999, SIPp media 20000-29999), for two realms of two pairs; never
/// the same block twice in one test process.
fn tiny_ranges() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    port_block(&NEXT, 18_000, 250, 8, |p| {
        (p..p + 8).all(|q| std::net::UdpSocket::bind(("127.0.0.1", q)).is_ok())
    })
}

/// Polls the metrics (bounded) until `series` reaches `n`; returns the last scrape.
async fn wait_for(sbc: &Running, series: &str, n: f64) -> String {
    let mut metrics = String::new();
    for _ in 0..200 {
        metrics = harness::scrape(sbc.metrics_addr).await;
        if harness::series(&metrics, series) >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    metrics
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_call_when_every_port_pair_is_held_gets_503_with_retry_after() {
    if sipp().is_none() {
        return;
    }
    let dir = temp_dir("refuse-exhausted");
    let file = dir.join("calls.jsonl");
    let pbx_port = free_port(Transport::Udp);
    let base = tiny_ranges();
    let sbc = sbc_with(pbx_port, &file, |text| {
        text.replacen(
            "port_min = 30000\nport_max = 34999",
            &format!("port_min = {}\nport_max = {}", base, base + 3),
            1,
        )
        .replacen(
            "port_min = 35000\nport_max = 39999",
            &format!("port_min = {}\nport_max = {}", base + 4, base + 7),
            1,
        )
    })
    .await;
    let target = access(&sbc, Transport::Udp).to_string();
    // Two calls hold both pairs of each realm until the SBC's drain ends them with BYE.
    let pbx = spawn_sipp("call-uas.xml", pbx_port, None, 2);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let holders = spawn_sipp("ended-uac.xml", free_port(Transport::Udp), Some(target), 2);
    let held = wait_for(&sbc, "sbc_calls_answered_total", 2.0).await;
    let in_use = "sbc_media_port_pairs{realm=\"access\",state=\"in_use\"}";
    assert_eq!(harness::series(&held, in_use), 2.0, "{held}");
    run_scenario(
        "refuse-busy-uac.xml",
        access(&sbc, Transport::Udp),
        Transport::Udp,
        1,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let metrics = harness::scrape(sbc.metrics_addr).await;
    assert_eq!(refused(&metrics, "ports_exhausted"), 1.0, "{metrics}");
    assert_eq!(
        invites_to_pbx(&metrics),
        2.0,
        "the refused call reached the PBX"
    );
    // The refused call took no pair and left none behind.
    assert_eq!(harness::series(&metrics, in_use), 2.0, "{metrics}");
    for realm in ["access", "core"] {
        let series = format!("sbc_media_port_pairs{{realm=\"{realm}\",state=\"in_use\"}}");
        assert_eq!(harness::series(&metrics, &series), 2.0, "{metrics}");
    }
    tokio::time::timeout(Duration::from_secs(60), sbc.shutdown())
        .await
        .expect("shutdown ends after the drain timeout");
    finished(holders, "holders")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    finished(pbx, "PBX").await.unwrap_or_else(|e| panic!("{e}"));
    let all = records(&file);
    assert_eq!(all.len(), 3, "{all:?}");
    let refused: Vec<&Value> = all.iter().filter(|r| r["status"] == 503).collect();
    assert_eq!(refused.len(), 1, "{all:?}");
    assert_refused_record(refused[0], 503);
    let _ = std::fs::remove_dir_all(dir);
}

/// SIPp as a media peer: `scenario` once from `tests/interop`, SIP on `port`, media on ports
/// of its own, `args` added.
fn media_sipp(scenario: &str, port: u16, args: &[&str]) -> Command {
    let mut command = Command::new("sipp");
    command
        .current_dir(repo().join("tests/interop"))
        .args(args)
        .args(["-sf", scenario, "-i", "127.0.0.1", "-m", "1"])
        .args(["-p", &port.to_string(), "-mp", &media_ports().to_string()])
        .args(["-nostdin", "-timeout", "60s", "-timeout_error", "-t", "u1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Starts `pbx`, then one call of `caller` through the SBC's UDP access listener; both SIPp
/// runs must succeed.
async fn call_through(sbc: &Running, mut pbx: Command, caller: &str) {
    let pbx = pbx.spawn().expect("sipp pbx starts");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let target = access(sbc, Transport::Udp).to_string();
    let mut caller = media_sipp(caller, free_port(Transport::Udp), &[&target]);
    let caller = tokio::task::spawn_blocking(move || caller.output())
        .await
        .unwrap()
        .expect("sipp caller runs");
    let pbx = tokio::task::spawn_blocking(move || pbx.wait_with_output())
        .await
        .unwrap()
        .expect("sipp pbx runs");
    assert!(caller.status.success(), "caller: {}", summary(&caller));
    assert!(pbx.status.success(), "PBX: {}", summary(&pbx));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_refused_reinvite_gets_488_and_the_call_and_media_go_on() {
    if sipp().is_none() {
        return;
    }
    let dir = temp_dir("refuse-reinvite");
    let file = dir.join("calls.jsonl");
    let pbx_port = free_port(Transport::Udp);
    let sbc = sbc_with(pbx_port, &file, |text| text).await;
    // The PBX (echoing RTP) takes exactly one INVITE: a relayed re-INVITE would fail it.
    let pbx = media_sipp("media-uas.xml", pbx_port, &["-rtp_echo"]);
    call_through(&sbc, pbx, "refuse-reinvite-uac.xml").await;
    assert_eq!(wait_idle(&sbc).await, 0.0);
    let metrics = harness::scrape(sbc.metrics_addr).await;
    sbc.shutdown().await;
    assert_eq!(refused(&metrics, "transport"), 1.0, "{metrics}");
    assert_eq!(
        invites_to_pbx(&metrics),
        1.0,
        "the re-INVITE reached the PBX"
    );
    // The pcap played before and after the refused re-INVITE: both plays made it through
    // both ways (loopback may lose a packet or two to a busy machine, never a play).
    for realm in ["access", "core"] {
        for direction in ["in", "out"] {
            let series =
                format!("sbc_media_packets_total{{realm=\"{realm}\",direction=\"{direction}\"}}");
            let n = harness::series(&metrics, &series);
            assert!(n >= 2.0 * PCAP_PACKETS * 0.95, "{series} = {n}");
        }
    }
    let all = records(&file);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["status"], 200, "{}", all[0]);
    assert_eq!(all[0]["reason"], "completed", "{}", all[0]);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_late_offer_refused_in_the_2xx_is_acked_with_every_stream_rejected() {
    if sipp().is_none() {
        return;
    }
    let dir = temp_dir("refuse-late");
    let file = dir.join("calls.jsonl");
    let pbx_port = free_port(Transport::Udp);
    let sbc = sbc_with(pbx_port, &file, |text| text).await;
    // The PBX checks the ACK's answer: both of its streams rejected, nothing of anyone's
    // addresses or keys in it; then it takes the BYE.
    let pbx = media_sipp("refuse-late-uas.xml", pbx_port, &[]);
    call_through(&sbc, pbx, "refuse-late-uac.xml").await;
    assert_eq!(wait_idle(&sbc).await, 0.0);
    let metrics = harness::scrape(sbc.metrics_addr).await;
    sbc.shutdown().await;
    assert_eq!(refused(&metrics, "transport"), 1.0, "{metrics}");
    let all = records(&file);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["status"], 488, "{}", all[0]);
    assert_eq!(all[0]["reason"], "media_refused", "{}", all[0]);
    let _ = std::fs::remove_dir_all(dir);
}
