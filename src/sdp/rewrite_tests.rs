//! Unit tests for the rewriter: exact output for each plan element, RFC 3264 §8 versioning,
//! hold handling and byte-exact copying of untouched lines.

use super::*;
use crate::sdp::SdpLimits;

fn parse(s: &str) -> Sdp {
    Sdp::parse(Bytes::copy_from_slice(s.as_bytes()), &SdpLimits::DEFAULT).unwrap()
}

fn origin() -> OriginState {
    OriginState::new("sbc", 9, 1).unwrap()
}

fn plan(address: &str, media: Vec<MediaPlan>) -> RewritePlan {
    RewritePlan {
        address: address.parse().unwrap(),
        strip_ice: true,
        media,
    }
}

fn rewrite(sdp: &str, plan: &RewritePlan) -> String {
    let out = parse(sdp).rewrite(plan, &mut origin()).unwrap();
    String::from_utf8(out.to_vec()).unwrap()
}

const OFFER: &str = "v=0\n\
o=alice 2890844526 2890844526 IN IP4 10.0.0.5\n\
s=Talk  \n\
c=IN IP4 10.0.0.5\n\
t=0 0\n\
a=X-nat:0\n\
m=audio 49170 RTP/AVP 0 8 101\n\
a=rtpmap:101 telephone-event/8000\n\
a=fmtp:101 0-16\n\
a=rtcp:49171\n\
a=sendrecv\n\
m=video 51372/2 RTP/AVPF 97\n\
b=AS:512\n\
a=rtpmap:97 H264/90000\n\
a=rtcp-fb:97 nack pli\n";

#[test]
fn audio_and_video_to_ipv6_relay_copy_the_rest_byte_exact() {
    let p = plan(
        "2001:db8::10",
        vec![MediaPlan::new(30000), MediaPlan::new(30002)],
    );
    assert_eq!(
        rewrite(OFFER, &p),
        "v=0\r\n\
o=sbc 9 1 IN IP6 2001:db8::10\r\n\
s=Talk  \r\n\
c=IN IP6 2001:db8::10\r\n\
t=0 0\r\n\
a=X-nat:0\r\n\
m=audio 30000 RTP/AVP 0 8 101\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-16\r\n\
a=sendrecv\r\n\
m=video 30002/2 RTP/AVPF 97\r\n\
b=AS:512\r\n\
a=rtpmap:97 H264/90000\r\n\
a=rtcp-fb:97 nack pli\r\n"
    );
}

#[test]
fn rejected_stream_keeps_its_section_with_port_zero() {
    let p = plan("192.0.2.1", vec![MediaPlan::new(30000), MediaPlan::new(0)]);
    let out = rewrite(OFFER, &p);
    assert!(
        out.contains("\r\nm=video 0 RTP/AVPF 97\r\nb=AS:512\r\n"),
        "{out}"
    );
    let again = parse(&out);
    assert!(again.media()[1].is_rejected());
    assert_eq!(again.media()[1].port_count(), None);
}

#[test]
fn rtcp_plans() {
    let sdp =
        "v=0\nc=IN IP4 10.0.0.5\nm=audio 4000 RTP/AVP 0\na=rtcp:4001 IN IP4 10.0.0.5\na=ptime:20\n";
    let with = |rtcp| {
        let p = plan(
            "192.0.2.1",
            vec![MediaPlan {
                rtcp,
                ..MediaPlan::new(5000)
            }],
        );
        rewrite(sdp, &p)
    };
    assert!(with(RtcpPlan::Keep).contains("a=rtcp:4001 IN IP4 10.0.0.5\r\na=ptime:20\r\n"));
    assert!(!with(RtcpPlan::Remove).contains("a=rtcp"));
    let set = with(RtcpPlan::Set {
        port: 5001,
        address: None,
    });
    assert!(set.ends_with("a=ptime:20\r\na=rtcp:5001\r\n"), "{set}");
    let set6 = with(RtcpPlan::Set {
        port: 5003,
        address: Some("2001:db8::3".parse().unwrap()),
    });
    assert!(
        set6.ends_with("a=rtcp:5003 IN IP6 2001:db8::3\r\n"),
        "{set6}"
    );
    assert_eq!(set6.matches("a=rtcp").count(), 1);
}

#[test]
fn rtcp_mux_plans() {
    let with_mux = "v=0\nc=IN IP4 10.0.0.5\nm=audio 4000 RTP/AVP 0\na=rtcp-mux\n";
    let without = "v=0\nc=IN IP4 10.0.0.5\nm=audio 4000 RTP/AVP 0\n";
    let run = |sdp, rtcp_mux| {
        let p = plan(
            "192.0.2.1",
            vec![MediaPlan {
                rtcp_mux,
                ..MediaPlan::new(5000)
            }],
        );
        rewrite(sdp, &p).matches("a=rtcp-mux\r\n").count()
    };
    assert_eq!(run(with_mux, MuxPlan::Keep), 1);
    assert_eq!(run(without, MuxPlan::Keep), 0);
    assert_eq!(run(with_mux, MuxPlan::Add), 1);
    assert_eq!(run(without, MuxPlan::Add), 1);
    assert_eq!(run(with_mux, MuxPlan::Remove), 0);
}

#[test]
fn rtp_to_srtp_with_new_crypto_and_back() {
    let key = Bytes::from_static(b"1 AES_CM_128_HMAC_SHA1_80 inline:NEWKEY");
    let p = plan(
        "192.0.2.1",
        vec![
            MediaPlan {
                profile: ProfilePlan::Srtp,
                crypto: CryptoPlan::Replace(vec![key.clone()]),
                ..MediaPlan::new(30000)
            },
            MediaPlan {
                profile: ProfilePlan::Srtp,
                crypto: CryptoPlan::Replace(vec![key]),
                ..MediaPlan::new(30002)
            },
        ],
    );
    let out = rewrite(OFFER, &p);
    assert!(out.contains("m=audio 30000 RTP/SAVP 0 8 101\r\n"), "{out}");
    assert!(out.contains("m=video 30002/2 RTP/SAVPF 97\r\n"), "{out}");
    assert_eq!(
        out.matches("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:NEWKEY\r\n")
            .count(),
        2
    );

    let srtp = "v=0\nc=IN IP4 10.0.0.5\nm=audio 4000 RTP/SAVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:OLD\na=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:OLD2\nm=image 4002 udptl t38\n";
    let back = plan(
        "192.0.2.1",
        vec![
            MediaPlan {
                profile: ProfilePlan::Rtp,
                crypto: CryptoPlan::Replace(vec![]),
                ..MediaPlan::new(5000)
            },
            MediaPlan {
                profile: ProfilePlan::Rtp,
                ..MediaPlan::new(5002)
            },
        ],
    );
    let out = rewrite(srtp, &back);
    assert!(out.contains("m=audio 5000 RTP/AVP 0\r\n"));
    assert!(!out.contains("crypto"));
    assert!(
        out.ends_with("m=image 5002 udptl t38\r\n"),
        "other protocols stay: {out}"
    );
    let keep = plan(
        "192.0.2.1",
        vec![MediaPlan::new(5000), MediaPlan::new(5002)],
    );
    assert_eq!(rewrite(srtp, &keep).matches("inline:OLD").count(), 2);
}

const WEBRTC: &str = "v=0\r\n\
o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n\
s=-\r\n\
t=0 0\r\n\
a=ice-lite\r\n\
a=msid-semantic: WMS\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n\
c=IN IP4 0.0.0.0\r\n\
a=rtcp:9 IN IP4 0.0.0.0\r\n\
a=candidate:1 1 udp 2122260223 192.168.1.7 50000 typ host\r\n\
a=end-of-candidates\r\n\
a=ice-ufrag:abcd\r\n\
a=ice-pwd:0123456789abcdef012345\r\n\
a=ice-options:trickle\r\n\
a=remote-candidates:1 192.168.1.7 50000\r\n\
a=fingerprint:sha-256 AA:BB\r\n\
a=sendrecv\r\n\
a=rtcp-mux\r\n\
a=rtpmap:111 opus/48000/2\r\n";

#[test]
fn strips_ice_at_both_levels_only_when_asked() {
    let mut p = plan("192.0.2.1", vec![MediaPlan::new(30000)]);
    let out = rewrite(WEBRTC, &p);
    for ice in ICE_NAMES {
        assert!(!out.contains(ice), "{ice} left in {out}");
    }
    assert!(out.contains("a=msid-semantic: WMS\r\n"));
    assert!(out.contains("a=fingerprint:sha-256 AA:BB\r\n"));
    assert!(!parse(&out).media()[0].has_ice());
    p.strip_ice = false;
    let kept = rewrite(WEBRTC, &p);
    for ice in ICE_NAMES {
        assert!(kept.contains(ice), "{ice} missing in {kept}");
    }
}

const ICE_NAMES: [&str; 7] = [
    "a=ice-lite",
    "a=candidate",
    "a=end-of-candidates",
    "a=ice-ufrag",
    "a=ice-pwd",
    "a=ice-options",
    "a=remote-candidates",
];

#[test]
fn zero_address_hold_becomes_relay_address_and_explicit_direction() {
    let held = "v=0\nc=IN IP4 0.0.0.0\nt=0 0\nm=audio 4000 RTP/AVP 0\na=sendrecv\nm=audio 4002 RTP/AVP 0\na=recvonly\nm=audio 4004 RTP/AVP 0\nm=audio 4006 RTP/AVP 0\n";
    let p = plan(
        "192.0.2.1",
        vec![
            MediaPlan::new(5000),
            MediaPlan::new(5002),
            MediaPlan::new(5004),
            MediaPlan::new(0),
        ],
    );
    let out = rewrite(held, &p);
    assert!(!out.contains("0.0.0.0"), "{out}");
    let sdp = parse(&out);
    let dirs: Vec<Direction> = sdp.media().iter().map(MediaSection::direction).collect();
    use Direction::*;
    assert_eq!(dirs, [SendOnly, Inactive, SendOnly, SendRecv]);
    assert!(
        out.contains("m=audio 5000 RTP/AVP 0\r\na=sendonly\r\n"),
        "{out}"
    );
    assert!(
        out.ends_with("m=audio 0 RTP/AVP 0\r\n"),
        "no direction on a rejected stream"
    );
}

#[test]
fn standard_hold_passes_untouched() {
    let held = "v=0\nc=IN IP4 10.0.0.5\nt=0 0\nm=audio 4000 RTP/AVP 0\na=sendonly\n";
    let out = rewrite(held, &plan("192.0.2.1", vec![MediaPlan::new(5000)]));
    assert!(
        out.ends_with("m=audio 5000 RTP/AVP 0\r\na=sendonly\r\n"),
        "{out}"
    );
}

#[test]
fn connection_lines_replaced_inserted_and_deduplicated() {
    // No c= anywhere: each section gets one, after its m= and i= lines.
    let none = "v=0\nm=audio 4000 RTP/AVP 0\ni=voice\na=ptime:20\nm=audio 4002 RTP/AVP 8\n";
    let out = rewrite(
        none,
        &plan("192.0.2.1", vec![MediaPlan::new(1), MediaPlan::new(2)]),
    );
    assert!(
        out.contains("m=audio 1 RTP/AVP 0\r\ni=voice\r\nc=IN IP4 192.0.2.1\r\na=ptime:20\r\n"),
        "{out}"
    );
    assert!(
        out.ends_with("m=audio 2 RTP/AVP 8\r\nc=IN IP4 192.0.2.1\r\n"),
        "{out}"
    );
    // Several c= lines in a section (multicast layers): one remains.
    let many = "v=0\nm=audio 4000 RTP/AVP 0\nc=IN IP4 224.2.1.1/127\nc=IN IP4 224.2.1.2/127\n";
    let out = rewrite(many, &plan("192.0.2.1", vec![MediaPlan::new(1)]));
    assert_eq!(out.matches("c=").count(), 1);
}

#[test]
fn origin_session_name_and_time_added_when_missing() {
    let bare = "v=0\na=tool:x\nm=audio 4000 RTP/AVP 0\nc=IN IP4 10.0.0.5\n";
    let out = rewrite(bare, &plan("192.0.2.1", vec![MediaPlan::new(1)]));
    assert!(
        out.starts_with("v=0\r\no=sbc 9 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\na=tool:x\r\n"),
        "{out}"
    );
    let no_name = "v=0\no=x 1 1 IN IP4 1.2.3.4\no=y 2 2 IN IP4 1.2.3.4\nt=0 0\n";
    let out = rewrite(no_name, &plan("192.0.2.1", vec![]));
    assert_eq!(out, "v=0\r\no=sbc 9 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n");
}

#[test]
fn version_follows_what_the_leg_receives() {
    let mut o = origin();
    let p = plan(
        "192.0.2.1",
        vec![MediaPlan::new(30000), MediaPlan::new(30002)],
    );
    let sdp = parse(OFFER);
    sdp.rewrite(&p, &mut o).unwrap();
    assert_eq!(o.version(), 1);
    // The far end bumps its own version without changing anything we pass on: no change.
    let bumped = parse(&OFFER.replace("2890844526 2890844526", "2890844526 2890844527"));
    let out = bumped.rewrite(&p, &mut o).unwrap();
    assert_eq!(o.version(), 1);
    assert!(out.starts_with(b"v=0\r\no=sbc 9 1 IN IP4 192.0.2.1\r\n"));
    // A new port is a change.
    let moved = plan(
        "192.0.2.1",
        vec![MediaPlan::new(30004), MediaPlan::new(30002)],
    );
    let out = sdp.rewrite(&moved, &mut o).unwrap();
    assert!(out.starts_with(b"v=0\r\no=sbc 9 2 IN IP4 192.0.2.1\r\n"));
    // Hold by the far end is a change.
    let held = parse(&OFFER.replace("a=sendrecv", "a=sendonly"));
    held.rewrite(&moved, &mut o).unwrap();
    assert_eq!(o.version(), 3);
}

#[test]
fn plan_errors() {
    let sdp = parse(OFFER);
    let mut o = origin();
    assert_eq!(
        sdp.rewrite(&plan("192.0.2.1", vec![MediaPlan::new(1)]), &mut o),
        Err(RewriteError::MediaCountMismatch { sdp: 2, plan: 1 })
    );
    for bad in ["", "1 X inline:a\r\na=evil", "a\nb", "a\0"] {
        let crypto = CryptoPlan::Replace(vec![Bytes::copy_from_slice(bad.as_bytes())]);
        let p = plan(
            "192.0.2.1",
            vec![
                MediaPlan {
                    crypto,
                    ..MediaPlan::new(1)
                },
                MediaPlan::new(2),
            ],
        );
        assert_eq!(
            sdp.rewrite(&p, &mut o),
            Err(RewriteError::UnwritableValue("crypto attribute")),
            "{bad:?}"
        );
    }
    assert_eq!(o.version(), 1, "failed rewrites stamp nothing");
}

#[test]
fn keys_never_pass_or_print_when_replaced() {
    let sdp = "v=0\nc=IN IP4 10.0.0.5\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:SESSIONKEY\nm=audio 4000 RTP/SAVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:MEDIAKEY\n";
    let replace = MediaPlan {
        crypto: CryptoPlan::Replace(vec![Bytes::from_static(
            b"1 AES_CM_128_HMAC_SHA1_80 inline:OURS",
        )]),
        ..MediaPlan::new(5000)
    };
    let out = rewrite(sdp, &plan("192.0.2.1", vec![replace.clone()]));
    assert!(
        !out.contains("SESSIONKEY") && !out.contains("MEDIAKEY"),
        "{out}"
    );
    assert!(out.ends_with("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:OURS\r\n"));
    let kept = rewrite(sdp, &plan("192.0.2.1", vec![MediaPlan::new(5000)]));
    assert!(kept.contains("SESSIONKEY") && kept.contains("MEDIAKEY"));
    let debug = format!("{:?} {:?}", parse(sdp), replace);
    assert!(!debug.contains("KEY") && !debug.contains("OURS"), "{debug}");
    assert!(debug.contains("Replace(<1 redacted>)"), "{debug}");
}
