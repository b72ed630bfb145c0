//! Table tests of the latch with virtual time.

use super::*;

const SSRC: u32 = 0x1234_5678;

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

fn rtp(source: &str, ssrc: u32, seq: u16) -> LatchPacket {
    LatchPacket {
        source: addr(source),
        ssrc,
        seq: Some(seq),
        authenticated: false,
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// One step: at `t` ms after opening, `packet` gets `verdict`.
struct Step {
    at: u64,
    packet: LatchPacket,
    verdict: Verdict,
}

fn step(at: u64, packet: LatchPacket, verdict: Verdict) -> Step {
    Step {
        at,
        packet,
        verdict,
    }
}

const ACCEPT: Verdict = Verdict::Accept(None);
const FOREIGN: Verdict = Verdict::Drop(LatchDrop::Foreign);
const NOT_LATCHED: Verdict = Verdict::Drop(LatchDrop::NotLatched);

fn locked(source: &str) -> Verdict {
    Verdict::Accept(Some(LatchEvent::Locked(addr(source))))
}

fn relatched(from: &str, to: &str) -> Verdict {
    Verdict::Accept(Some(LatchEvent::Relatched {
        from: addr(from),
        to: addr(to),
    }))
}

fn run(name: &str, expected: Expected, steps: &[Step]) {
    let t0 = crate::media::testing::t0();
    let mut latch = Latch::new(LatchSettings::default(), false);
    latch.open(expected, t0);
    for (i, s) in steps.iter().enumerate() {
        let verdict = latch.check(&s.packet, t0 + ms(s.at));
        assert_eq!(verdict, s.verdict, "{name}: step {i} ({:?})", s.packet);
    }
}

const PHONE: &str = "198.51.100.7:40000";
const NAT: &str = "203.0.113.5:61000";
const NAT_REBOUND: &str = "203.0.113.5:61010";
const ATTACKER: &str = "192.0.2.66:5004";

fn sdp(address: &str) -> Expected {
    Expected {
        address: Some(addr(address)),
        signaling_ip: None,
    }
}

/// A phone behind NAT: a private SDP address, signaling from the NAT's public IP.
fn behind_nat() -> Expected {
    Expected {
        address: Some(addr("10.0.0.5:4000")),
        signaling_ip: Some(addr(NAT).ip()),
    }
}

#[test]
fn a_packet_from_the_sdp_address_locks_at_once() {
    run(
        "signaled",
        sdp(PHONE),
        &[
            step(0, rtp(ATTACKER, 1, 1), NOT_LATCHED),
            step(10, rtp(PHONE, SSRC, 100), locked(PHONE)),
            step(20, rtp(ATTACKER, 1, 2), FOREIGN),
            step(30, rtp(PHONE, SSRC, 101), ACCEPT),
        ],
    );
}

#[test]
fn a_nated_source_locks_after_consistent_packets() {
    run(
        "nat",
        behind_nat(),
        &[
            step(0, rtp(NAT, SSRC, 10), ACCEPT),
            step(20, rtp(ATTACKER, SSRC, 11), FOREIGN),
            step(40, rtp(NAT, SSRC, 11), ACCEPT),
            step(60, rtp(NAT, SSRC, 12), locked(NAT)),
            step(80, rtp(ATTACKER, SSRC, 13), FOREIGN),
        ],
    );
}

#[test]
fn an_ssrc_change_while_learning_restarts_the_count() {
    run(
        "ssrc",
        behind_nat(),
        &[
            step(0, rtp(NAT, SSRC, 10), ACCEPT),
            step(20, rtp(NAT, SSRC, 11), ACCEPT),
            step(40, rtp(NAT, 99, 12), ACCEPT),
            step(60, rtp(NAT, 99, 13), ACCEPT),
            step(80, rtp(NAT, 99, 14), locked(NAT)),
        ],
    );
}

#[test]
fn the_signaling_ip_displaces_a_stranger_while_learning() {
    let expected = Expected {
        address: Some(addr("10.0.0.5:4000")),
        signaling_ip: Some(addr(NAT).ip()),
    };
    run(
        "trusted ip",
        expected,
        &[
            step(0, rtp(ATTACKER, 7, 1), NOT_LATCHED),
            step(10, rtp(NAT, SSRC, 50), ACCEPT),
            step(20, rtp(ATTACKER, 7, 2), FOREIGN),
            step(30, rtp(NAT, SSRC, 51), ACCEPT),
            step(40, rtp(NAT, SSRC, 52), locked(NAT)),
        ],
    );
}

#[test]
fn the_window_end_locks_the_candidate_or_leaves_only_the_sdp_address() {
    run(
        "an untrusted source is not forwarded before the window ends",
        sdp("10.0.0.5:4000"),
        &[
            step(0, rtp(NAT, SSRC, 10), NOT_LATCHED),
            step(20, rtp(ATTACKER, SSRC, 10), FOREIGN),
            step(40, rtp(NAT, SSRC, 11), NOT_LATCHED),
            step(60, rtp(NAT, SSRC, 12), NOT_LATCHED),
            step(80, rtp(NAT, SSRC, 13), NOT_LATCHED),
            step(3_000, rtp(NAT, SSRC, 500), locked(NAT)),
            step(3_020, rtp(ATTACKER, SSRC, 501), FOREIGN),
        ],
    );
    run(
        "an untrusted source that sent too little expires",
        sdp("10.0.0.5:4000"),
        &[
            step(0, rtp(NAT, SSRC, 10), NOT_LATCHED),
            step(3_000, rtp(NAT, SSRC, 500), NOT_LATCHED),
        ],
    );
    run(
        "a trusted candidate locks at the window end",
        behind_nat(),
        &[
            step(0, rtp(NAT, SSRC, 10), ACCEPT),
            step(3_000, rtp(NAT, SSRC, 500), locked(NAT)),
        ],
    );
    run(
        "window end without candidate",
        sdp(PHONE),
        &[
            step(3_000, rtp(NAT, SSRC, 10), NOT_LATCHED),
            step(3_010, rtp(ATTACKER, SSRC, 10), NOT_LATCHED),
            step(9_000, rtp(PHONE, SSRC, 10), locked(PHONE)),
        ],
    );
}

#[test]
fn nothing_is_accepted_before_the_window_opens() {
    let mut latch = Latch::new(LatchSettings::default(), false);
    let t0 = crate::media::testing::t0();
    assert_eq!(latch.check(&rtp(PHONE, SSRC, 1), t0), NOT_LATCHED);
    assert_eq!(latch.current(), None);
}

/// Locks NAT with SSRC 1000.., then runs `steps` (times after the lock at 40 ms).
fn after_lock(name: &str, steps: &[Step]) {
    let mut all = vec![
        step(0, rtp(NAT, SSRC, 1000), ACCEPT),
        step(20, rtp(NAT, SSRC, 1001), ACCEPT),
        step(40, rtp(NAT, SSRC, 1002), locked(NAT)),
    ];
    all.extend(steps.iter().map(|s| step(s.at, s.packet, s.verdict)));
    run(name, behind_nat(), &all);
}

#[test]
fn nat_rebinding_relatches_with_the_live_ssrc_and_sequence_after_silence() {
    after_lock(
        "rebinding",
        &[
            step(1_100, rtp(NAT_REBOUND, SSRC, 1004), FOREIGN),
            step(1_120, rtp(NAT_REBOUND, SSRC, 1005), FOREIGN),
            step(1_140, rtp(NAT_REBOUND, SSRC, 1006), FOREIGN),
            step(1_160, rtp(NAT_REBOUND, SSRC, 1007), FOREIGN),
            step(
                1_180,
                rtp(NAT_REBOUND, SSRC, 1008),
                relatched(NAT, NAT_REBOUND),
            ),
            step(1_200, rtp(NAT, SSRC, 1009), FOREIGN),
        ],
    );
}

#[test]
fn relatch_attempts_that_fail_a_condition() {
    // The locked source is still talking: the attempt never completes.
    let mut steps = Vec::new();
    for i in 0..10u16 {
        let t = 1_100 + u64::from(i) * 20;
        steps.push(step(t, rtp(ATTACKER, SSRC, 1003 + 2 * i), FOREIGN));
        steps.push(step(t + 10, rtp(NAT, SSRC, 1004 + 2 * i), ACCEPT));
    }
    after_lock("live source", &steps);
    // Wrong SSRC, even with the right sequence numbers after silence; the right SSRC with
    // sequence numbers that do not continue the stream; continuing packets while the locked
    // source went quiet too recently.
    let attempts: [(&str, &str, u32, u16, u64, u16); 3] = [
        ("wrong ssrc", ATTACKER, 0xbad, 1003, 2_000, 10),
        ("wrong sequence", ATTACKER, SSRC, 30_000, 2_000, 10),
        ("not silent", NAT_REBOUND, SSRC, 1003, 100, 5),
    ];
    for (name, source, ssrc, first_seq, start, count) in attempts {
        let steps: Vec<_> = (0..count)
            .map(|i| {
                let at = start + u64::from(i) * 20;
                step(at, rtp(source, ssrc, first_seq + i), FOREIGN)
            })
            .collect();
        after_lock(name, &steps);
    }
}

#[test]
fn rtcp_never_relatches_by_itself_but_follows_the_rtp_ip() {
    let t0 = crate::media::testing::t0();
    let rtcp = |source: &str| LatchPacket {
        source: addr(source),
        ssrc: SSRC,
        seq: None,
        authenticated: false,
    };
    let mut latch = Latch::new(LatchSettings::default(), false);
    latch.open(behind_nat(), t0);
    assert_eq!(latch.check(&rtcp("203.0.113.5:61001"), t0), ACCEPT);
    assert_eq!(latch.check(&rtcp("203.0.113.5:61001"), t0 + ms(5)), ACCEPT);
    assert_eq!(
        latch.check(&rtcp("203.0.113.5:61001"), t0 + ms(10)),
        locked("203.0.113.5:61001")
    );
    for i in 0..10 {
        let at = t0 + ms(5_000 + i * 100);
        assert_eq!(latch.check(&rtcp("203.0.113.5:61011"), at), FOREIGN);
    }
    latch.follow(addr(NAT).ip(), t0 + ms(7_000));
    assert_eq!(latch.check(&rtcp(ATTACKER), t0 + ms(7_001)), FOREIGN);
    assert_eq!(
        latch.check(&rtcp("203.0.113.5:61011"), t0 + ms(7_002)),
        ACCEPT
    );
    assert_eq!(latch.current(), Some(addr("203.0.113.5:61011")));
}

#[test]
fn srtp_legs_learn_only_from_authenticated_packets() {
    let t0 = crate::media::testing::t0();
    let mut latch = Latch::new(LatchSettings::default(), true);
    latch.open(sdp(PHONE), t0);
    let mut packet = rtp(PHONE, SSRC, 1);
    assert_eq!(
        latch.check(&packet, t0),
        Verdict::Drop(LatchDrop::Unauthenticated)
    );
    assert_eq!(latch.source(), None);
    packet.authenticated = true;
    assert_eq!(latch.check(&packet, t0), locked(PHONE));
}

#[test]
fn reopening_keeps_a_lock_unless_the_sdp_address_changed() {
    let t0 = crate::media::testing::t0();
    let mut latch = Latch::new(LatchSettings::default(), false);
    latch.open(sdp(PHONE), t0);
    assert_eq!(latch.check(&rtp(PHONE, SSRC, 1), t0), locked(PHONE));
    latch.open(sdp(PHONE), t0 + ms(10_000));
    assert_eq!(latch.source(), Some(addr(PHONE)));
    latch.open(sdp("198.51.100.8:40000"), t0 + ms(20_000));
    assert_eq!(latch.source(), None);
    assert_eq!(
        latch.check(&rtp("198.51.100.8:40000", 5, 1), t0 + ms(20_010)),
        locked("198.51.100.8:40000")
    );
}

#[test]
fn media_goes_to_a_trusted_candidate_never_to_an_untrusted_one() {
    let t0 = crate::media::testing::t0();
    let mut latch = Latch::new(LatchSettings::default(), false);
    latch.open(behind_nat(), t0);
    assert_eq!(latch.destination(), None);
    // A source on neither the SDP's nor the signaling's IP: a candidate, not a destination.
    assert_eq!(latch.check(&rtp(ATTACKER, 7, 1), t0), NOT_LATCHED);
    assert_eq!(latch.destination(), None);
    // The phone's NAT mapping (the signaling IP): the destination from its first packet, not
    // the private address of its SDP.
    assert_eq!(latch.check(&rtp(NAT, SSRC, 1), t0 + ms(20)), ACCEPT);
    assert_eq!(latch.destination(), Some(addr(NAT)));
    assert_eq!(latch.check(&rtp(NAT, SSRC, 2), t0 + ms(40)), ACCEPT);
    assert_eq!(latch.check(&rtp(NAT, SSRC, 3), t0 + ms(60)), locked(NAT));
    assert_eq!(latch.destination(), Some(addr(NAT)));
}

#[test]
fn nothing_goes_to_a_private_sdp_address_behind_a_nat_until_the_phone_is_heard() {
    let t0 = crate::media::testing::t0();
    let private = addr("10.0.0.5:4000");
    let mut latch = Latch::new(LatchSettings::default(), false);
    latch.open(behind_nat(), t0);
    assert_eq!(
        latch.send_to(private),
        None,
        "held until the phone's first packet"
    );
    assert_eq!(latch.check(&rtp(ATTACKER, 7, 1), t0), NOT_LATCHED);
    assert_eq!(
        latch.send_to(private),
        None,
        "an untrusted source changes nothing"
    );
    assert_eq!(latch.check(&rtp(NAT, SSRC, 1), t0 + ms(20)), ACCEPT);
    assert_eq!(latch.send_to(private), Some(addr(NAT)));
}

#[test]
fn a_signaled_address_is_used_unless_it_is_private_behind_a_public_signaling_source() {
    let cases = [
        // (SDP address, signaling IP, sent there)
        ("10.0.0.5:4000", Some("203.0.113.5"), false),
        ("100.64.1.2:4000", Some("203.0.113.5"), false),
        ("[fd00::5]:4000", Some("2001:db8::5"), false),
        // The same private network (a PBX on the core LAN), or the same host.
        ("10.0.0.5:4000", Some("10.0.0.9"), true),
        ("10.0.0.5:4000", Some("10.0.0.5"), true),
        ("10.0.0.5:4000", None, true),
        ("203.0.113.7:4000", Some("203.0.113.5"), true),
        ("127.0.0.1:4000", Some("127.0.0.1"), true),
    ];
    for (sdp, signaling, sent) in cases {
        let signaled = addr(sdp);
        let signaling = signaling.map(|ip| ip.parse().unwrap());
        assert_eq!(
            reachable(signaled, signaling),
            sent.then_some(signaled),
            "{sdp} signaled from {signaling:?}"
        );
    }
}
