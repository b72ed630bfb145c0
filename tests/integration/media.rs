//! The media relay driven through `MediaControl` on loopback: two phones exchange RTP and RTCP
//! through it, an attacker is dropped before and after latching, inactivity is reported, ports
//! are released into quarantine and exhaustion is a typed error.
//!
//! Absence is proven without waiting on a clock: the relay's own drop counters are polled
//! until every attacker packet is accounted for, and only then are the phones' sockets checked
//! for anything queued.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use sbc::error::SipError;
use sbc::media::{
    Description, Leg, MediaControl, MediaDirection, MediaError, MediaEvent, MediaSpec, RealmRelay,
    RelayAddress, RelaySettings,
};
use sbc::metrics::Metrics;
use sbc::metrics::media::MediaDrop;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// Longest wait for something that must happen (a guard, not a measurement).
const PATIENCE: Duration = Duration::from_secs(10);

/// A relay with realms `access` and `core`, `pairs` port pairs each from `base`.
fn relay(
    base: u16,
    pairs: u16,
    settings: RelaySettings,
) -> (MediaControl, mpsc::Receiver<MediaEvent>, Arc<Metrics>) {
    let realm = |name: &str, min: u16| RealmRelay {
        name: name.to_owned(),
        bind: LOOPBACK,
        advertised: LOOPBACK,
        port_min: min,
        dscp: 46,
        port_max: min + 2 * pairs - 1,
    };
    let metrics = Arc::new(Metrics::new());
    let realms = vec![realm("access", base), realm("core", base + 2 * pairs)];
    let (control, events) =
        MediaControl::start(settings, realms, metrics.clone()).expect("relay starts");
    (control, events, metrics)
}

/// A phone's RTP and RTCP sockets on loopback.
struct Phone {
    rtp: UdpSocket,
    rtcp: UdpSocket,
}

impl Phone {
    async fn new() -> Self {
        Self {
            rtp: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            rtcp: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
        }
    }

    fn spec(&self, rtcp_mux: bool) -> MediaSpec {
        MediaSpec {
            remote: Some(self.rtp.local_addr().unwrap()),
            remote_rtcp: (!rtcp_mux).then(|| self.rtcp.local_addr().unwrap()),
            rtcp_mux,
            ..MediaSpec::default()
        }
    }

    fn description(&self, rtcp_mux: bool) -> Description {
        Description {
            signaling_ip: Some(LOOPBACK),
            media: vec![self.spec(rtcp_mux)],
        }
    }
}

fn rtp(ssrc: u32, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, 0];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// An RTCP receiver report from `ssrc` with one block: `fraction` lost, `jitter`.
fn receiver_report(ssrc: u32, fraction: u8, jitter: u32) -> Vec<u8> {
    let mut p = vec![0x81, 201, 0, 7];
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(&0x5555u32.to_be_bytes());
    p.extend_from_slice(&(u32::from(fraction) << 24 | 3).to_be_bytes());
    p.extend_from_slice(&100u32.to_be_bytes());
    p.extend_from_slice(&jitter.to_be_bytes());
    p.extend_from_slice(&[0; 8]);
    p
}

async fn recv(socket: &UdpSocket) -> (Vec<u8>, SocketAddr) {
    let mut buf = vec![0u8; 2048];
    let (len, from) = tokio::time::timeout(PATIENCE, socket.recv_from(&mut buf))
        .await
        .expect("a packet arrives")
        .unwrap();
    buf.truncate(len);
    (buf, from)
}

/// Nothing is queued on `socket` (call once the relay has accounted for every packet).
fn nothing_queued(socket: &UdpSocket) -> bool {
    let mut buf = [0u8; 2048];
    socket.try_recv_from(&mut buf).is_err()
}

/// Polls `condition` until it holds (bounded).
async fn until(what: &str, mut condition: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never happened: {what}");
}

fn drops(control: &MediaControl, call: &str, leg: Leg, reason: MediaDrop) -> u64 {
    control.query(call).unwrap().lines[0].as_ref().unwrap()[leg.index()].dropped(reason)
}

/// Offer from A, answer from B: the relay addresses given to B and to A.
fn connect(
    control: &MediaControl,
    call: &str,
    a: &Phone,
    b: &Phone,
    rtcp_mux: bool,
) -> (RelayAddress, RelayAddress) {
    let to_b = control
        .offer(call, "access", "core", Leg::A, a.description(rtcp_mux))
        .unwrap()[0]
        .expect("an address for B");
    let to_a = control
        .answer(call, Leg::B, b.description(rtcp_mux))
        .unwrap()[0]
        .expect("an address for A");
    (to_b, to_a)
}

#[tokio::test]
async fn rtp_and_rtcp_flow_both_ways_through_the_relay() {
    let (control, _events, _) = relay(21000, 4, RelaySettings::default());
    let (a, b) = (Phone::new().await, Phone::new().await);
    let (to_b, to_a) = connect(&control, "call-1", &a, &b, false);
    assert_ne!(to_a.rtp_port, to_b.rtp_port);
    assert_eq!((to_a.rtp_port % 2, to_a.rtcp_port), (0, to_a.rtp_port + 1));

    for seq in 0..10u16 {
        let packet = rtp(0xaaaa, seq, b"from a");
        a.rtp.send_to(&packet, to_a.rtp()).await.unwrap();
        let (got, from) = recv(&b.rtp).await;
        assert_eq!((got, from), (packet, to_b.rtp()));
        let packet = rtp(0xbbbb, seq, b"from b");
        b.rtp.send_to(&packet, to_b.rtp()).await.unwrap();
        let (got, from) = recv(&a.rtp).await;
        assert_eq!((got, from), (packet, to_a.rtp()));
    }
    // RTCP on the separate ports, each way; B's report carries loss and jitter.
    let rtcp_a = SocketAddr::new(LOOPBACK, to_a.rtcp_port);
    let rtcp_b = SocketAddr::new(LOOPBACK, to_b.rtcp_port);
    let report = receiver_report(0xaaaa, 0, 1);
    a.rtcp.send_to(&report, rtcp_a).await.unwrap();
    assert_eq!(recv(&b.rtcp).await, (report, rtcp_b));
    let report = receiver_report(0xbbbb, 25, 77);
    b.rtcp.send_to(&report, rtcp_b).await.unwrap();
    assert_eq!(recv(&a.rtcp).await, (report, rtcp_a));

    // The relay counts a packet right after sending it.
    let line = || control.query("call-1").unwrap().lines[0].clone().unwrap();
    until("every packet counted", || {
        line().iter().all(|s| s.packets_out == 11)
    })
    .await;
    let [leg_a, leg_b] = line();
    for leg in [&leg_a, &leg_b] {
        assert_eq!((leg.packets_in, leg.packets_out), (11, 11), "{leg:?}");
        assert!(leg.last_packet.is_some());
        assert_eq!(leg.drops.iter().sum::<u64>(), 0, "{leg:?}");
    }
    let figures = leg_b.rtcp.expect("B's receiver report");
    assert_eq!((figures.fraction_lost, figures.jitter), (25, 77));
    assert_eq!(leg_a.bytes_in, 10 * 18 + 32);
}

#[tokio::test]
async fn rtcp_mux_shares_the_rtp_port() {
    let (control, _events, _) = relay(21100, 4, RelaySettings::default());
    let (a, b) = (Phone::new().await, Phone::new().await);
    let (to_b, to_a) = connect(&control, "mux", &a, &b, true);
    let packet = rtp(1, 1, b"voice");
    a.rtp.send_to(&packet, to_a.rtp()).await.unwrap();
    assert_eq!(recv(&b.rtp).await, (packet, to_b.rtp()));
    let report = receiver_report(2, 0, 5);
    b.rtp.send_to(&report, to_b.rtp()).await.unwrap();
    assert_eq!(recv(&a.rtp).await, (report, to_a.rtp()));
    assert!(nothing_queued(&a.rtcp) && nothing_queued(&b.rtcp));
}

#[tokio::test]
async fn an_attacker_reaches_neither_party_before_or_after_latching() {
    let (control, _events, metrics) = relay(21200, 4, RelaySettings::default());
    let (a, b) = (Phone::new().await, Phone::new().await);
    let stranger = UdpSocket::bind("127.0.0.2:0").await.unwrap();
    let neighbour = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let call = "attacked";
    let to_b = control
        .offer(call, "access", "core", Leg::A, a.description(false))
        .unwrap()[0]
        .unwrap();
    // Before the answer nothing latches.
    for seq in 0..5 {
        stranger
            .send_to(&rtp(66, seq, b"x"), to_b.rtp())
            .await
            .unwrap();
    }
    until("5 not_latched drops", || {
        drops(&control, call, Leg::B, MediaDrop::NotLatched) == 5
    })
    .await;
    let to_a = control.answer(call, Leg::B, b.description(false)).unwrap()[0].unwrap();
    // While learning, a source on an IP signaling never named is not forwarded.
    for seq in 5..10 {
        stranger
            .send_to(&rtp(66, seq, b"x"), to_a.rtp())
            .await
            .unwrap();
        stranger
            .send_to(&rtp(66, seq, b"x"), to_b.rtp())
            .await
            .unwrap();
    }
    until("learning drops", || {
        drops(&control, call, Leg::A, MediaDrop::NotLatched) == 5
            && drops(&control, call, Leg::B, MediaDrop::NotLatched) == 10
    })
    .await;
    // The phones send from their signaled addresses and lock at once.
    a.rtp.send_to(&rtp(0xa, 1, b"a"), to_a.rtp()).await.unwrap();
    assert_eq!(recv(&b.rtp).await.0, rtp(0xa, 1, b"a"));
    b.rtp.send_to(&rtp(0xb, 1, b"b"), to_b.rtp()).await.unwrap();
    assert_eq!(recv(&a.rtp).await.0, rtp(0xb, 1, b"b"));
    // After latching, neither a stranger nor a neighbour on the phones' own IP gets through,
    // whatever SSRC and sequence numbers they try.
    for seq in 2..7 {
        for attacker in [&stranger, &neighbour] {
            attacker
                .send_to(&rtp(0xa, seq, b"x"), to_a.rtp())
                .await
                .unwrap();
            attacker
                .send_to(&rtp(0xb, seq, b"x"), to_b.rtp())
                .await
                .unwrap();
        }
    }
    until("foreign drops", || {
        drops(&control, call, Leg::A, MediaDrop::ForeignSource) == 10
            && drops(&control, call, Leg::B, MediaDrop::ForeignSource) == 10
    })
    .await;
    for socket in [&a.rtp, &b.rtp, &a.rtcp, &b.rtcp, &stranger, &neighbour] {
        assert!(nothing_queued(socket), "{:?}", socket.local_addr());
    }
    let stats = control.query(call).unwrap();
    let [leg_a, leg_b] = stats.lines[0].clone().unwrap();
    assert_eq!((leg_a.packets_in, leg_b.packets_out), (1, 1));
    assert_eq!((leg_b.packets_in, leg_a.packets_out), (1, 1));
    let text = metrics.encode().unwrap();
    for series in [
        r#"sbc_media_dropped_total{realm="core",reason="foreign_source"} 10"#,
        r#"sbc_media_dropped_total{realm="core",reason="not_latched"} 10"#,
        r#"sbc_media_dropped_total{realm="access",reason="foreign_source"} 10"#,
        r#"sbc_media_latch_events_total{realm="access",event="locked"} 1"#,
        r#"sbc_media_packets_total{realm="access",direction="in"} 1"#,
    ] {
        assert!(text.lines().any(|l| l == series), "{series}\n{text}");
    }
}

#[tokio::test]
async fn stray_stun_and_garbage_are_dropped_and_counted() {
    let (control, _events, _) = relay(21300, 4, RelaySettings::default());
    let (a, b) = (Phone::new().await, Phone::new().await);
    let (_, to_a) = connect(&control, "stun", &a, &b, false);
    // A STUN binding request, a DTLS record header and an RTP header cut short.
    let stun = [0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42];
    a.rtp.send_to(&stun, to_a.rtp()).await.unwrap();
    a.rtp
        .send_to(&[0x16, 0xfe, 0xfd], to_a.rtp())
        .await
        .unwrap();
    a.rtp
        .send_to(&[0x80, 0x00, 0x01], to_a.rtp())
        .await
        .unwrap();
    until("drops counted", || {
        drops(&control, "stun", Leg::A, MediaDrop::NotMedia) == 2
            && drops(&control, "stun", Leg::A, MediaDrop::Malformed) == 1
    })
    .await;
    assert!(nothing_queued(&b.rtp));
}

#[tokio::test]
async fn a_silent_call_is_reported_inactive_and_hold_is_not() {
    let settings = RelaySettings {
        inactivity_timeout: Duration::from_millis(300),
        ..RelaySettings::default()
    };
    let (control, mut events, metrics) = relay(21400, 4, settings);
    let (a, b) = (Phone::new().await, Phone::new().await);
    // A held call, answered first: it is never reported.
    let mut held = a.description(false);
    held.media[0].direction = MediaDirection::SendOnly;
    control
        .offer("held", "access", "core", Leg::A, held)
        .unwrap();
    control
        .answer("held", Leg::B, b.description(false))
        .unwrap();
    let (_, to_a) = connect(&control, "silent", &a, &b, false);
    a.rtp.send_to(&rtp(1, 1, b"hi"), to_a.rtp()).await.unwrap();
    recv(&b.rtp).await;
    let event = tokio::time::timeout(PATIENCE, events.recv()).await.unwrap();
    assert_eq!(
        event,
        Some(MediaEvent::Inactive {
            call: "silent".to_owned()
        })
    );
    until("the timeout counted", || {
        let text = metrics.encode().unwrap();
        text.lines()
            .any(|l| l == "sbc_media_inactivity_timeouts_total 1")
    })
    .await;
    // The held call had longer than the silent one and produced nothing.
    assert!(events.try_recv().is_err());
}

#[tokio::test]
async fn delete_releases_ports_into_quarantine_and_exhaustion_is_typed() {
    let settings = RelaySettings {
        port_quarantine: Duration::from_secs(3600),
        ..RelaySettings::default()
    };
    let (control, _events, metrics) = relay(21500, 2, settings);
    let (a, b) = (Phone::new().await, Phone::new().await);
    connect(&control, "one", &a, &b, false);
    connect(&control, "two", &a, &b, false);
    let usage = control.port_usage("access").unwrap();
    assert_eq!((usage.in_use, usage.quarantined, usage.capacity), (2, 0, 2));
    let exhausted = control
        .offer("three", "access", "core", Leg::A, a.description(false))
        .unwrap_err();
    assert!(
        matches!(exhausted, MediaError::Exhausted { .. }),
        "{exhausted}"
    );
    assert_eq!(exhausted.sip_status(), 503);
    assert!(
        control.query("three").is_none(),
        "a failed offer leaves nothing"
    );

    let last = control.delete("one").expect("the call had media");
    assert_eq!(last.lines.len(), 1);
    assert!(control.delete("one").is_none(), "delete is idempotent");
    for realm in ["access", "core"] {
        let usage = control.port_usage(realm).unwrap();
        assert_eq!((usage.in_use, usage.quarantined), (1, 1), "{realm}");
    }
    // The released pair rests: it is not handed to the next call.
    let refused = control
        .offer("three", "access", "core", Leg::A, a.description(false))
        .unwrap_err();
    assert!(matches!(refused, MediaError::Exhausted { .. }));
    control.delete("two");
    let usage = control.port_usage("core").unwrap();
    assert_eq!((usage.in_use, usage.quarantined), (0, 2));
    assert_eq!(control.calls(), 0);
    let text = metrics.encode().unwrap();
    for series in [
        r#"sbc_media_port_pairs{realm="core",state="in_use"} 0"#,
        r#"sbc_media_port_pairs{realm="core",state="quarantined"} 2"#,
        r#"sbc_media_streams_active{realm="access"} 0"#,
    ] {
        assert!(text.lines().any(|l| l == series), "{series}\n{text}");
    }
    let unknown = control.answer("nope", Leg::B, b.description(false));
    assert!(matches!(unknown, Err(MediaError::UnknownCall)));
}

#[tokio::test]
async fn an_srtp_leg_interworks_with_a_plain_leg_and_forgeries_never_latch() {
    use sbc::media::srtp::{CryptoSuite, SrtpKey, SrtpSession, SrtpTransform};
    use sbc::media::{SrtpLeg, TransformSpec};

    let (control, _events, _) = relay(21600, 4, RelaySettings::default());
    let (a, b) = (Phone::new().await, Phone::new().await);
    let suite = CryptoSuite::AesCm128HmacSha1_80;
    let (phone_key, relay_key) = (
        SrtpKey::generate(suite).unwrap(),
        SrtpKey::generate(suite).unwrap(),
    );
    let mut phone = SrtpSession::new(&phone_key, &relay_key).unwrap();
    let relay_side = SrtpSession::new(&relay_key, &phone_key).unwrap();
    let mut srtp_offer = a.description(false);
    srtp_offer.media[0].transform = TransformSpec::Install(Box::new(SrtpLeg::new(relay_side)));
    let to_b = control
        .offer("srtp", "access", "core", Leg::A, srtp_offer)
        .unwrap()[0]
        .unwrap();
    let to_a = control
        .answer("srtp", Leg::B, b.description(false))
        .unwrap()[0]
        .unwrap();

    // A forger on A's own signaled address, without the key: dropped, and nothing latches.
    let mut forger = SrtpSession::new(&SrtpKey::generate(suite).unwrap(), &relay_key).unwrap();
    let mut wire = Vec::new();
    forger
        .protect_rtp(&rtp(0xa, 1, b"forged"), &mut wire)
        .unwrap();
    a.rtp.send_to(&wire, to_a.rtp()).await.unwrap();
    until("the forgery counted", || {
        drops(&control, "srtp", Leg::A, MediaDrop::SrtpAuth) == 1
    })
    .await;
    assert!(nothing_queued(&b.rtp));

    // SRTP from A arrives at B as plain RTP; plain RTP from B arrives at A as SRTP.
    let plain = rtp(0xa, 1, b"secret voice");
    phone.protect_rtp(&plain, &mut wire).unwrap();
    a.rtp.send_to(&wire, to_a.rtp()).await.unwrap();
    assert_eq!(recv(&b.rtp).await, (plain.clone(), to_b.rtp()));
    let reply = rtp(0xb, 1, b"plain voice");
    b.rtp.send_to(&reply, to_b.rtp()).await.unwrap();
    let (protected, _) = recv(&a.rtp).await;
    assert_eq!(protected.len(), reply.len() + 10);
    let mut out = Vec::new();
    phone.unprotect_rtp(&protected, &mut out).unwrap();
    assert_eq!(out, reply);
    // A replay of A's packet is dropped.
    a.rtp.send_to(&wire, to_a.rtp()).await.unwrap();
    until("the replay counted", || {
        drops(&control, "srtp", Leg::A, MediaDrop::Replay) == 1
    })
    .await;
    assert!(nothing_queued(&b.rtp));
    // Bytes are counted as they crossed the wire: protected on A's leg, plain on B's.
    let [leg_a, leg_b] = control.query("srtp").unwrap().lines[0].clone().unwrap();
    assert_eq!(
        (leg_a.bytes_in, leg_a.bytes_out),
        (wire.len() as u64, protected.len() as u64)
    );
    assert_eq!(
        (leg_b.bytes_in, leg_b.bytes_out),
        (reply.len() as u64, plain.len() as u64)
    );
}

#[tokio::test]
async fn a_re_offer_that_changes_one_key_keeps_the_other_directions_context() {
    use sbc::media::srtp::{CryptoSuite, Negotiated, SrtpKey, SrtpSession, SrtpTransform};
    use sbc::media::{SrtpLeg, TransformSpec};

    let (control, _events, _) = relay(21700, 4, RelaySettings::default());
    let (a, b) = (Phone::new().await, Phone::new().await);
    let suite = CryptoSuite::AesCm128HmacSha1_80;
    let phone_key = SrtpKey::generate(suite).unwrap();
    let relay_key = SrtpKey::generate(suite).unwrap();
    let mut phone = SrtpSession::new(&phone_key, &relay_key).unwrap();
    let mut offer = a.description(false);
    let session = SrtpSession::new(&relay_key, &phone_key).unwrap();
    offer.media[0].transform = TransformSpec::Install(Box::new(SrtpLeg::new(session)));
    let to_b = control
        .offer("rekey", "access", "core", Leg::A, offer)
        .unwrap()[0]
        .unwrap();
    let to_a = control
        .answer("rekey", Leg::B, b.description(false))
        .unwrap()[0]
        .unwrap();

    let mut sent = Vec::new();
    for seq in 1..=3u16 {
        let mut wire = Vec::new();
        phone
            .protect_rtp(&rtp(0xa, seq, b"voice"), &mut wire)
            .unwrap();
        a.rtp.send_to(&wire, to_a.rtp()).await.unwrap();
        assert_eq!(recv(&b.rtp).await.0, rtp(0xa, seq, b"voice"));
        sent.push(wire);
    }

    // A re-offer from A keeps the phone's key; the SBC's key toward A changes.
    let new_relay_key = SrtpKey::generate(suite).unwrap();
    let keys = Negotiated {
        tag: 1,
        local: new_relay_key.clone(),
        remote: phone_key.clone(),
    };
    let fresh = SrtpSession::new(&keys.local, &keys.remote).unwrap();
    let mut reoffer = a.description(false);
    reoffer.media[0].transform = TransformSpec::Rekey {
        keys: Box::new(keys),
        fresh: Box::new(SrtpLeg::new(fresh)),
    };
    control.update("rekey", Leg::A, reoffer).unwrap();
    control
        .answer("rekey", Leg::B, b.description(false))
        .unwrap();

    // The receiving context was kept: a replay of a packet from before the re-offer is still
    // refused (a fresh context would have taken it), and the next packet flows.
    a.rtp.send_to(&sent[0], to_a.rtp()).await.unwrap();
    until("the replay counted", || {
        drops(&control, "rekey", Leg::A, MediaDrop::Replay) == 1
    })
    .await;
    let mut wire = Vec::new();
    phone
        .protect_rtp(&rtp(0xa, 4, b"voice"), &mut wire)
        .unwrap();
    a.rtp.send_to(&wire, to_a.rtp()).await.unwrap();
    assert_eq!(recv(&b.rtp).await.0, rtp(0xa, 4, b"voice"));
    assert!(nothing_queued(&b.rtp));

    // What goes to A is now protected with the new key.
    b.rtp
        .send_to(&rtp(0xb, 1, b"reply"), to_b.rtp())
        .await
        .unwrap();
    let (protected, _) = recv(&a.rtp).await;
    let mut out = Vec::new();
    assert!(phone.unprotect_rtp(&protected, &mut out).is_err());
    let mut updated = SrtpSession::new(&phone_key, &new_relay_key).unwrap();
    updated.unprotect_rtp(&protected, &mut out).unwrap();
    assert_eq!(out, rtp(0xb, 1, b"reply"));
}
