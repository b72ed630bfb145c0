//! The media glue's refusals against a real relay on loopback: what no line of can be carried
//! is refused with the right reason, leaves no media session and no port behind, keeps a call's
//! media state as it was, and is counted; what some line of can be carried still goes on with
//! the others at port 0 (RFC 3264 §6).

use super::*;
use crate::media::{RealmRelay, RelaySettings};
use crate::sip::method::Method;
use std::net::Ipv4Addr;

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Eight consecutive UDP ports free now, below the ephemeral range and apart from the ranges
/// the integration tests use; `slot` spreads the tests of one run.
fn free_ports(slot: u16) -> u16 {
    let start = (std::process::id() % 1_000) as u16 * 8 + slot * 1_000;
    (0..1_000u16)
        .map(|i| 10_000 + (start + i * 8) % 8_000)
        .find(|&p| (p..p + 8).all(|q| std::net::UdpSocket::bind((LOOPBACK, q)).is_ok()))
        .expect("eight free UDP ports")
}

/// A relay with realms `access` and `core` of `pairs` (at most 2) port pairs each.
fn relay(slot: u16, pairs: u16) -> (MediaControl, Arc<Metrics>) {
    let base = free_ports(slot);
    let realm = |name: &str, min: u16| RealmRelay {
        name: name.to_owned(),
        bind: LOOPBACK,
        advertised: LOOPBACK,
        port_min: min,
        port_max: min + 2 * pairs - 1,
        dscp: 0,
    };
    let metrics = Arc::new(Metrics::new());
    let realms = vec![realm("access", base), realm("core", base + 4)];
    let (control, _events) =
        MediaControl::start(RelaySettings::default(), realms, metrics.clone()).expect("relay");
    (control, metrics)
}

fn legs(key: &str, srtp: [SrtpMode; 2]) -> MediaLegs {
    MediaLegs {
        key: key.to_owned(),
        realms: ["access".to_owned(), "core".to_owned()],
        srtp,
        sdp_ip: [LOOPBACK, LOOPBACK],
        signaling_ip: [Some(LOOPBACK), Some(LOOPBACK)],
    }
}

const OFF: [SrtpMode; 2] = [SrtpMode::Off, SrtpMode::Off];

fn sdp(lines: &str) -> Bytes {
    Bytes::from(format!(
        "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n{lines}"
    ))
}

const RTP: &str = "m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
const DTLS: &str =
    "m=audio 4000 UDP/TLS/RTP/SAVPF 0\r\na=setup:actpass\r\na=fingerprint:sha-256 AB:CD\r\n";

/// Feeds `body` from `from` in `method` (a response when `status` is set).
fn feed(
    t: &mut BodyTransform,
    from: Leg,
    method: Method,
    status: Option<u16>,
    body: Bytes,
) -> Result<Bytes, MediaRefusal> {
    let ct = Bytes::from_static(b"application/sdp");
    let ctx = BodyContext {
        from,
        method: &method,
        status,
        content_type: Some(&ct),
    };
    t(&ctx, body)
}

/// The count of `sbc_media_refused_total{reason}`.
fn refused(metrics: &Metrics, reason: &str) -> u64 {
    let text = metrics.encode().unwrap();
    let prefix = format!("sbc_media_refused_total{{reason=\"{reason}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0, |v| v.parse().unwrap())
}

#[test]
fn offers_with_no_line_to_carry_are_refused_and_leave_nothing() {
    let (control, metrics) = relay(0, 1);
    let cases = [
        (OFF, sdp(DTLS), MediaRefusal::Transport),
        (
            OFF,
            sdp("m=message 4000 TCP/MSRP *\r\n"),
            MediaRefusal::Transport,
        ),
        (
            [SrtpMode::Mandatory, SrtpMode::Off],
            sdp(RTP),
            MediaRefusal::SrtpPolicy,
        ),
        (
            OFF,
            Bytes::from_static(b"not sdp at all"),
            MediaRefusal::BadSdp,
        ),
    ];
    let mut counted = std::collections::HashMap::new();
    for (i, (srtp, body, want)) in cases.into_iter().enumerate() {
        let key = format!("refuse-{i}");
        let mut t = transform(control.clone(), legs(&key, srtp), metrics.clone()).unwrap();
        let got = feed(&mut t, Leg::A, Method::Invite, None, body);
        assert_eq!(got, Err(want), "case {i}");
        assert!(
            control.query(&key).is_none(),
            "case {i}: media session left"
        );
        *counted.entry(want).or_insert(0) += 1;
        assert_eq!(refused(&metrics, want.as_str()), counted[&want], "case {i}");
    }
    let usage = control.port_usage("access").unwrap();
    assert_eq!(usage.in_use, 0);
}

#[test]
fn a_body_that_does_not_negotiate_is_withheld_not_refused() {
    let (control, metrics) = relay(1, 1);
    let mut t = transform(control, legs("info", OFF), metrics.clone()).unwrap();
    let got = feed(
        &mut t,
        Leg::A,
        Method::Info,
        None,
        Bytes::from_static(b"junk"),
    );
    assert_eq!(got, Ok(Bytes::new()));
    for reason in MediaRefusal::ALL {
        assert_eq!(refused(&metrics, reason.as_str()), 0, "{reason:?}");
    }
}

#[test]
fn a_line_that_cannot_be_carried_is_port_0_beside_one_that_can() {
    let (control, metrics) = relay(2, 2);
    let mut t = transform(control, legs("mixed", OFF), metrics).unwrap();
    let out = feed(
        &mut t,
        Leg::A,
        Method::Invite,
        None,
        sdp(&format!("{DTLS}{RTP}")),
    )
    .unwrap();
    let text = String::from_utf8_lossy(&out);
    let ports: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("m=audio "))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(ports.len(), 2, "{text}");
    assert_eq!(ports[0], "0", "{text}");
    assert_ne!(ports[1], "0", "{text}");
}

#[test]
fn exhausted_ports_are_refused_as_unavailable_and_leak_nothing() {
    let (control, metrics) = relay(3, 1);
    let mut first = transform(control.clone(), legs("first", OFF), metrics.clone()).unwrap();
    feed(&mut first, Leg::A, Method::Invite, None, sdp(RTP)).unwrap();
    let mut second = transform(control.clone(), legs("second", OFF), metrics.clone()).unwrap();
    let got = feed(&mut second, Leg::A, Method::Invite, None, sdp(RTP));
    assert_eq!(got, Err(MediaRefusal::Exhausted));
    assert_eq!(got.unwrap_err().status(), 503);
    assert!(control.query("second").is_none());
    assert_eq!(refused(&metrics, "ports_exhausted"), 1);
    assert_eq!(control.port_usage("access").unwrap().in_use, 1);
    assert_eq!(control.port_usage("core").unwrap().in_use, 1);
}

#[test]
fn plain_answer_where_srtp_is_mandatory_is_refused() {
    let (control, metrics) = relay(4, 1);
    let srtp = [SrtpMode::Off, SrtpMode::Mandatory];
    let mut t = transform(control, legs("answer", srtp), metrics.clone()).unwrap();
    let offer = feed(&mut t, Leg::A, Method::Invite, None, sdp(RTP)).unwrap();
    assert!(String::from_utf8_lossy(&offer).contains("RTP/SAVP"));
    let got = feed(&mut t, Leg::B, Method::Invite, Some(200), sdp(RTP));
    assert_eq!(got, Err(MediaRefusal::SrtpPolicy));
    assert_eq!(refused(&metrics, "srtp_policy"), 1);
}

#[test]
fn a_refused_reoffer_leaves_the_negotiation_as_it_was() {
    let (control, metrics) = relay(5, 1);
    let mut t = transform(control.clone(), legs("reoffer", OFF), metrics).unwrap();
    feed(&mut t, Leg::A, Method::Invite, None, sdp(RTP)).unwrap();
    let answer = sdp(&RTP.replace("4000", "5000"));
    feed(&mut t, Leg::B, Method::Invite, Some(200), answer.clone()).unwrap();
    let lines = control.query("reoffer").unwrap().lines.len();
    assert_eq!(
        feed(&mut t, Leg::A, Method::Invite, None, sdp(DTLS)),
        Err(MediaRefusal::Transport)
    );
    // Nothing is pending from the refused offer: B's next body is an offer of its own (taken
    // as the answer to the refused offer, its line would come out at port 0), and the call
    // still has its one line.
    let from_b = feed(&mut t, Leg::B, Method::Invite, None, answer).unwrap();
    let text = String::from_utf8_lossy(&from_b);
    assert!(
        text.contains("m=audio ") && !text.contains("m=audio 0 "),
        "{text}"
    );
    let back = feed(&mut t, Leg::A, Method::Invite, Some(200), sdp(RTP)).unwrap();
    assert!(!back.is_empty());
    assert_eq!(control.query("reoffer").unwrap().lines.len(), lines);
}
