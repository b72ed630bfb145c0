//! Media through the relay in the NAT lab ([`crate::nat`]): a phone behind a MASQUERADE router
//! calls the PBX with its private address in the SDP, SIPp plays 10 s of RTP from it and the
//! PBX's SIPp (`-rtp_echo`) returns every packet. nftables counters in the namespaces count what
//! really arrives at each end (and whatever the SBC sends toward the private network); the
//! relay's own counters say what it accepted, sent, dropped and how it latched. Mid-call, the
//! router can be made to rebind the phone's media flow to a new public port.

use std::time::Duration;

use crate::harness::repo;
use crate::nat::{PUBLIC, SbcSide, build, config, metric, sipp_args, start_sbc, summary};
use crate::netlab::{self, Lab};

/// Packets in `tests/data/rtp/pcmu-10s.pcap`.
const PCAP_PACKETS: u64 = 500;
/// The phone's media port (its SDP says 10.0.1.2:6000).
const PHONE_MEDIA: &str = "6000";

/// A call with media under way in the lab.
struct MediaCall {
    lab: Lab,
    _config: crate::nat::tempfile_path::TempFile,
    sbc: usize,
    phone: usize,
    pbx: usize,
}

/// The relay's counter `family` (`packets`, `dropped`, `latch_events`) of `realm` with the
/// label `label`.
fn relay(lab: &Lab, family: &str, realm: &str, label: &str) -> f64 {
    metric(
        lab,
        &format!("sbc_media_{family}_total{{realm=\"{realm}\",{label}}}"),
    )
}

/// Polls `done` every 100 ms for at most `secs` seconds; panics with `what` if it never holds.
async fn until(lab: &Lab, secs: u64, what: &str, done: impl Fn(&Lab) -> bool) {
    for _ in 0..secs * 10 {
        if done(lab) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let metrics = lab.http_get("sbc", "127.0.0.1:9090", "/metrics");
    let media: Vec<String> = metrics
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("sbc_media_"))
        .map(str::to_owned)
        .collect();
    panic!(
        "{what} did not happen within {secs} s; relay:\n{}",
        media.join("\n")
    );
}

/// The lab with counters in place, the SBC running, the PBX waiting and phone p1 calling it.
/// Counters: `to_private` (in the SBC's namespace: packets it sends toward 10.0.1.0/24, routed
/// into a sink), `phone_rtp` (RTP arriving at the phone's media port), `pbx_rtp` (at the PBX's).
async fn media_call() -> MediaCall {
    let mut lab = build(SbcSide::Public);
    lab.sink("sbc", "10.0.1.0/24");
    lab.count("sbc", "to_private", "output", "ip daddr 10.0.1.0/24");
    lab.count(
        "p1",
        "phone_rtp",
        "input",
        &format!("udp dport {PHONE_MEDIA}"),
    );
    lab.count("pbx", "pbx_rtp", "input", "udp dport 7000");
    let config = config(SbcSide::Public);
    let interop = repo().join("tests/interop");
    let pbx = {
        let mut args = sipp_args("nat-media-uas.xml", "10.99.0.2", "5060");
        args.extend(["-rtp_echo", "-mp", "7000", "-m", "1"].map(String::from));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        lab.spawn_in("pbx", &interop, &args)
    };
    let sbc = start_sbc(&mut lab, &config.0).await;
    let phone = {
        let mut args = sipp_args("nat-media-uac.xml", "10.0.1.2", "5060");
        args.push(format!("{PUBLIC}:5060"));
        args.extend(["-s", "2000", "-mp", PHONE_MEDIA, "-m", "1"].map(String::from));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        lab.spawn_in("p1", &interop, &args)
    };
    MediaCall {
        lab,
        _config: config,
        sbc,
        phone,
        pbx,
    }
}

impl MediaCall {
    /// Waits for both SIPp ends, stops the SBC, and checks both calls succeeded. Returns the
    /// relay's metrics as they were when the call was over.
    fn finish(&mut self) -> String {
        let phone = self.lab.wait(self.phone);
        let pbx = self.lab.wait(self.pbx);
        let metrics = self
            .lab
            .http_get("sbc", "127.0.0.1:9090", "/metrics")
            .unwrap_or_default();
        self.lab.terminate(self.sbc);
        let _ = self.lab.wait(self.sbc);
        assert!(phone.status.success(), "phone: {}", summary(&phone));
        assert!(pbx.status.success(), "pbx: {}", summary(&pbx));
        metrics
    }
}

/// The relay's packet counters of both realms, both directions.
fn relay_packets(metrics: &str) -> Vec<(String, f64)> {
    ["access", "core"]
        .iter()
        .flat_map(|realm| {
            ["in", "out"].map(|d| {
                let series =
                    format!("sbc_media_packets_total{{realm=\"{realm}\",direction=\"{d}\"}}");
                (
                    format!("{realm}/{d}"),
                    crate::harness::series(metrics, &series),
                )
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_from_a_private_sdp_address_flows_both_ways_through_the_relay() {
    if !netlab::available() {
        return;
    }
    let mut call = media_call().await;
    let metrics = call.finish();
    let lab = &call.lab;
    // The phone's 500 packets reach the PBX through the NAT and the relay, and their echoes come
    // back to the phone through the NAT's mapping: a busy machine may lose a few, never a
    // direction.
    let (phone, pbx) = (
        lab.counted("p1", "phone_rtp"),
        lab.counted("pbx", "pbx_rtp"),
    );
    let least = PCAP_PACKETS * 95 / 100;
    assert!(
        (least..=PCAP_PACKETS).contains(&pbx) && (least..=PCAP_PACKETS).contains(&phone),
        "RTP at the PBX {pbx}, back at the phone {phone} (of {PCAP_PACKETS})"
    );
    let counts = relay_packets(&metrics);
    eprintln!("RTP at the PBX {pbx}, back at the phone {phone}; relay {counts:?}");
    assert!(
        counts.iter().all(|(_, n)| *n >= least as f64),
        "relay packets: {counts:?}"
    );
    // The relay latched onto the NAT's mapping, and never sent anything to the SDP's private
    // address.
    let locked = crate::harness::series(
        &metrics,
        "sbc_media_latch_events_total{realm=\"access\",event=\"locked\"}",
    );
    assert_eq!(locked, 1.0, "access latch locked");
    assert_eq!(
        lab.counted("sbc", "to_private"),
        0,
        "packets the SBC sent to the phone's private network"
    );
}

/// `count` RTP packets (PCMU, 160 bytes of silence) with SSRC `ssrc` and sequence numbers from
/// `first`.
fn rtp_packets(ssrc: u32, first: u16, count: u16) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| {
            let seq = first.wrapping_add(i);
            let mut packet = vec![0x80, 0x00];
            packet.extend_from_slice(&seq.to_be_bytes());
            packet.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
            packet.extend_from_slice(&ssrc.to_be_bytes());
            packet.resize(12 + 160, 0xff);
            packet
        })
        .collect()
}

/// The router r1's mapping of the phone's media flow: (relay port, public port), from its
/// connection-tracking entry (`... dport=RELAY src=... dport=PUBLIC ...`).
fn media_mapping(lab: &Lab) -> Option<(u16, u16)> {
    let flows = lab.flows(
        "r1",
        &[
            "-p",
            "udp",
            "--orig-src",
            "10.0.1.2",
            "--orig-port-src",
            PHONE_MEDIA,
        ],
    );
    let line = flows.lines().next()?;
    let ports: Vec<u16> = line
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("dport="))
        .filter_map(|p| p.parse().ok())
        .collect();
    Some((*ports.first()?, *ports.get(1)?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_recovers_when_the_nat_rebinds_mid_call_and_a_foreign_source_cannot_take_it() {
    if !netlab::available() {
        return;
    }
    let mut call = media_call().await;
    // A host on the public segment that knows the relay's port but not the stream.
    call.lab.ns("x");
    call.lab
        .link_to_bridge("x", "198.51.100.66/24", "sbc", "inet");
    call.lab
        .count("x", "x_in", "input", &format!("ip saddr {PUBLIC}"));
    let lab = &call.lab;
    let accepted = |lab: &Lab| relay(lab, "packets", "access", "direction=\"in\"");
    let foreign = |lab: &Lab| relay(lab, "dropped", "access", "reason=\"foreign_source\"");
    let relatched = |lab: &Lab| relay(lab, "latch_events", "access", "event=\"relatched\"");
    until(lab, 10, "a second of media from the phone", |lab| {
        accepted(lab) >= 50.0
    })
    .await;
    let (relay_port, public) = media_mapping(lab).expect("the NAT maps the phone's media");
    let target = format!("{PUBLIC}:{relay_port}");

    // While the phone's mapping is alive, a foreign source is dropped and counted.
    let before = foreign(lab);
    lab.send_udp("x", &target, &rtp_packets(0x0bad_f00d, 1, 20));
    until(lab, 5, "20 foreign packets dropped", |lab| {
        foreign(lab) >= before + 20.0
    })
    .await;
    assert_eq!(relatched(lab), 0.0);

    // The router loses its mapping and maps the flow anew, to another port: the old public port
    // goes silent, the phone's packets arrive from a new one.
    let dropped_before = foreign(lab);
    lab.masquerade_to("r1", "40000-40099");
    assert!(lab.forget("r1", &["-p", "udp", "--orig-port-src", PHONE_MEDIA]) >= 1);
    // The foreign source tries again while the latch waits out the old source's silence.
    lab.send_udp("x", &target, &rtp_packets(0x0bad_f00d, 21, 20));
    until(lab, 10, "a re-latch", |lab| relatched(lab) >= 1.0).await;
    eprintln!(
        "NAT rebinding: {} packets dropped as foreign until the re-latch (20 of them the foreign \
         host's, the rest the phone's new mapping while the old one had not been silent long enough)",
        foreign(lab) - dropped_before
    );
    let (_, rebound) = media_mapping(lab).expect("the NAT maps the phone's media again");
    assert!(
        rebound != public && (40_000..40_100).contains(&rebound),
        "the mapping moved from port {public} to {rebound}"
    );

    // Media flows both ways again through the new mapping.
    let (phone, pbx) = (
        lab.counted("p1", "phone_rtp"),
        lab.counted("pbx", "pbx_rtp"),
    );
    until(lab, 10, "media both ways after the re-latch", |lab| {
        lab.counted("p1", "phone_rtp") >= phone + 50 && lab.counted("pbx", "pbx_rtp") >= pbx + 50
    })
    .await;
    let metrics = call.finish();
    let relatched = crate::harness::series(
        &metrics,
        "sbc_media_latch_events_total{realm=\"access\",event=\"relatched\"}",
    );
    assert_eq!(
        relatched, 1.0,
        "re-latches: only to the phone's new mapping"
    );
    assert_eq!(
        call.lab.counted("x", "x_in"),
        0,
        "packets the relay sent to the foreign host"
    );
    assert_eq!(call.lab.counted("sbc", "to_private"), 0);
}
