//! Property tests for the rewriter: whatever it emits parses with an independent SDP parser
//! (`rtc-sdp`) that reads back the planned addresses, ports, profiles and attributes, and every
//! line the plan does not control is copied byte-exact. A second property feeds line soup
//! (garbage, disorder, odd line ends) and checks that parsing never panics and that whatever
//! parses rewrites into something that parses again, untouched lines intact.

use super::test_support::{assert_independent_view, assert_untouched_preserved};
use super::*;
use bytes::Bytes;
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|a| IpAddr::V4(Ipv4Addr::from(a))),
        any::<[u16; 8]>().prop_map(|a| IpAddr::V6(Ipv6Addr::from(a))),
        Just(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
    ]
}

fn connection() -> impl Strategy<Value = String> {
    ip().prop_map(|ip| format!("c=IN {} {ip}", AddrType::of(ip).as_str()))
}

fn direction() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["sendrecv", "sendonly", "recvonly", "inactive"])
        .prop_map(|d| format!("a={d}"))
}

/// A vendor attribute, sometimes with trailing whitespace (kept byte-exact).
fn vendor() -> impl Strategy<Value = String> {
    (
        "x-[a-z]{1,8}",
        prop::option::of("[!-~][ -~]{0,24}"),
        "[ \t]{0,2}",
    )
        .prop_map(|(n, v, ws)| match v {
            Some(v) => format!("a={n}:{v}{ws}"),
            None => format!("a={n}{ws}"),
        })
}

fn media_attribute() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u8..128, "[A-Za-z0-9-]{1,12}", 1u32..100_000)
            .prop_map(|(pt, c, r)| format!("a=rtpmap:{pt} {c}/{r}")),
        (1u32..200).prop_map(|p| format!("a=ptime:{p}")),
        (any::<u16>(), prop::option::of(ip())).prop_map(|(p, a)| match a {
            Some(a) => format!("a=rtcp:{p} IN {} {a}", AddrType::of(a).as_str()),
            None => format!("a=rtcp:{p}"),
        }),
        Just("a=rtcp-mux".to_owned()),
        "[A-Za-z0-9+/]{40}".prop_map(|k| format!("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{k}")),
        (ip(), any::<u16>())
            .prop_map(|(a, p)| format!("a=candidate:1 1 UDP 2130706431 {a} {p} typ host")),
        "[A-Za-z0-9+/]{4,24}".prop_map(|t| format!("a=ice-ufrag:{t}")),
        "[A-Za-z0-9+/]{22,32}".prop_map(|t| format!("a=ice-pwd:{t}")),
        Just("a=end-of-candidates".to_owned()),
        direction(),
        vendor(),
        (0u8..128, "[a-z0-9=;-]{1,20}").prop_map(|(pt, f)| format!("a=fmtp:{pt} {f}")),
    ]
}

fn session_attribute() -> impl Strategy<Value = String> {
    prop_oneof![
        vendor(),
        direction(),
        Just("a=ice-lite".to_owned()),
        Just("a=ice-options:trickle".to_owned()),
        Just("a=group:BUNDLE 0 1".to_owned()),
    ]
}

/// One media section in RFC 4566 order: m=, i=, c=, b=, a=*.
fn media_section() -> impl Strategy<Value = Vec<String>> {
    let media = prop::sample::select(vec!["audio", "video", "text", "image", "application"]);
    let proto = prop::sample::select(vec![
        "RTP/AVP",
        "RTP/SAVP",
        "RTP/AVPF",
        "RTP/SAVPF",
        "UDP/TLS/RTP/SAVP",
        "UDP/TLS/RTP/SAVPF",
        "udptl",
        "TCP/MSRP",
    ]);
    (
        (media, any::<u16>(), prop::option::of(1u16..4), proto),
        prop::collection::vec("[0-9]{1,3}", 1..5),
        prop::option::of("i=[ -~]{1,20}"),
        prop::option::of(connection()),
        prop::option::of((1u32..10_000).prop_map(|n| format!("b=AS:{n}"))),
        prop::collection::vec(media_attribute(), 0..10),
    )
        .prop_map(|((m, port, count, proto), fmts, i, c, b, attrs)| {
            let count = count.map(|n| format!("/{n}")).unwrap_or_default();
            let mut lines = vec![format!("m={m} {port}{count} {proto} {}", fmts.join(" "))];
            lines.extend(i.into_iter().chain(c).chain(b).chain(attrs));
            lines
        })
}

/// A well-formed body in RFC 4566 order; `o=`, `s=`, `t=` and `c=` may be missing, line ends
/// are CRLF or LF.
fn sdp_body() -> impl Strategy<Value = (String, usize)> {
    (
        prop::option::of((any::<u32>(), any::<u32>(), ip())),
        prop::option::of("s=[ -~]{0,20}"),
        prop::option::of(connection()),
        any::<bool>(),
        prop::collection::vec(session_attribute(), 0..4),
        prop::collection::vec(media_section(), 0..4),
        prop::bool::ANY,
    )
        .prop_map(|(o, s, c, t, attrs, media, lf)| {
            let mut lines = vec!["v=0".to_owned()];
            if let Some((id, v, a)) = o {
                lines.push(format!("o=- {id} {v} IN {} {a}", AddrType::of(a).as_str()));
            }
            lines.extend(s.into_iter().chain(c));
            if t {
                lines.push("t=0 0".to_owned());
            }
            lines.extend(attrs);
            let n = media.len();
            lines.extend(media.into_iter().flatten());
            let end = if lf { "\n" } else { "\r\n" };
            (lines.into_iter().map(|l| l + end).collect(), n)
        })
}

fn media_plan() -> impl Strategy<Value = MediaPlan> {
    let key = "[1-9] AES_CM_128_HMAC_SHA1_(80|32) inline:[A-Za-z0-9+/]{40}";
    (
        any::<u16>(),
        prop_oneof![
            Just(RtcpPlan::Keep),
            Just(RtcpPlan::Remove),
            (any::<u16>(), prop::option::of(ip()))
                .prop_map(|(port, address)| RtcpPlan::Set { port, address }),
        ],
        prop::sample::select(vec![MuxPlan::Keep, MuxPlan::Add, MuxPlan::Remove]),
        prop::sample::select(vec![ProfilePlan::Keep, ProfilePlan::Rtp, ProfilePlan::Srtp]),
        prop_oneof![
            Just(CryptoPlan::Keep),
            prop::collection::vec(key.prop_map(Bytes::from), 0..3).prop_map(CryptoPlan::Replace),
        ],
    )
        .prop_map(|(port, rtcp, rtcp_mux, profile, crypto)| MediaPlan {
            port,
            rtcp,
            rtcp_mux,
            profile,
            crypto,
        })
}

fn plan(n: usize) -> impl Strategy<Value = RewritePlan> {
    (ip(), any::<bool>(), prop::collection::vec(media_plan(), n)).prop_map(
        |(address, strip_ice, media)| RewritePlan {
            address,
            strip_ice,
            media,
        },
    )
}

fn body_and_plan() -> impl Strategy<Value = (String, RewritePlan)> {
    sdp_body().prop_flat_map(|(body, n)| (Just(body), plan(n)))
}

/// Lines from anywhere: structural lines, attributes, garbage, blank and whitespace lines.
fn line_soup() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        media_section().prop_map(|l| l.join("\n")),
        media_attribute(),
        session_attribute(),
        connection(),
        Just("v=0".to_owned()),
        Just("o=- 1 1 IN IP4 192.0.2.9".to_owned()),
        "[ -~]{0,30}",
        "[a-z]=[ -~]{0,30}",
    ];
    let end = prop::sample::select(vec!["\r\n", "\n", "\r\r\n", " \n", "\t\r\n"]);
    prop::collection::vec((line, end), 0..30).prop_map(|lines| {
        let mut body = b"v=0\n".to_vec();
        for (l, e) in lines {
            body.extend_from_slice(l.as_bytes());
            body.extend_from_slice(e.as_bytes());
        }
        body
    })
}

proptest! {
    // Failures are reported, not written to a regressions directory beside the sources.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(512) })]

    #[test]
    fn rewritten_sdp_parses_independently_with_untouched_lines_intact(
        (body, plan) in body_and_plan()
    ) {
        let sdp = Sdp::parse(Bytes::from(body), &SdpLimits::DEFAULT).unwrap();
        let mut origin = OriginState::new("sbc", 1, 1).unwrap();
        let out = sdp.rewrite(&plan, &mut origin).unwrap();
        assert_untouched_preserved(&sdp, &out);
        assert_independent_view(&out, &plan, &sdp);
        prop_assert_eq!(sdp.rewrite(&plan, &mut origin).unwrap(), out);
        prop_assert_eq!(origin.version(), 1);
    }

    #[test]
    fn line_soup_never_panics_and_what_parses_rewrites(
        body in line_soup(),
        address in ip(),
        ports in prop::collection::vec(any::<u16>(), 32),
    ) {
        if let Ok(sdp) = Sdp::parse(Bytes::from(body), &SdpLimits::DEFAULT) {
            let media = sdp.media().iter().zip(&ports).map(|(_, p)| MediaPlan::new(*p)).collect();
            let plan = RewritePlan { address, strip_ice: true, media };
            let out = sdp.rewrite(&plan, &mut OriginState::new("-", 0, 0).unwrap()).unwrap();
            assert_untouched_preserved(&sdp, &out);
        }
    }

    #[test]
    fn rejecting_answer_keeps_every_line_at_port_0_and_parses_independently(
        (body, n) in sdp_body()
    ) {
        let offer = Bytes::from(body);
        match reject_all(&offer, &SdpLimits::DEFAULT) {
            None => prop_assert_eq!(n, 0),
            Some(answer) => assert_rejects_every_stream(&offer, &answer),
        }
    }

    #[test]
    fn what_parses_from_line_soup_gets_a_rejecting_answer(body in line_soup()) {
        let offer = Bytes::from(body);
        if let Some(answer) = reject_all(&offer, &SdpLimits::DEFAULT) {
            assert_rejects_every_stream(&offer, &answer);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Sdp::parse(Bytes::from(body), &SdpLimits::DEFAULT);
    }
}

/// `answer` parses with rtc-sdp and has `offer`'s `m=` lines, in order, each at port 0 with
/// the offer's media and transport.
fn assert_rejects_every_stream(offer: &Bytes, answer: &Bytes) {
    use rtc_sdp::SessionDescription;
    let text = std::str::from_utf8(answer).expect("UTF-8 answer");
    let desc = SessionDescription::unmarshal(&mut std::io::Cursor::new(text))
        .unwrap_or_else(|e| panic!("rtc-sdp refuses the answer ({e}):\n{text}"));
    let offer = Sdp::parse(offer.clone(), &SdpLimits::DEFAULT).unwrap();
    assert_eq!(desc.media_descriptions.len(), offer.media().len(), "{text}");
    for (md, section) in desc.media_descriptions.iter().zip(offer.media()) {
        assert_eq!(md.media_name.port.value, 0, "{text}");
        assert_eq!(
            md.media_name.media.as_bytes(),
            section.media_line().media.as_ref()
        );
        assert_eq!(
            md.media_name.protos.join("/").as_bytes(),
            section.media_line().proto_raw.as_ref()
        );
        assert_eq!(md.media_name.formats.len(), 1, "{text}");
    }
}
