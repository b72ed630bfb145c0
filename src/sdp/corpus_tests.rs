//! The SDP corpus (`tests/data/sdp/`): realistic bodies from PBXs, phones, gateways and a
//! browser. Every file must parse into the expected views, and rewrite toward an IPv4 RTP leg
//! and an IPv6 SRTP leg with untouched lines byte-exact and an output `rtc-sdp` accepts.

use super::test_support::{
    assert_independent_view, assert_untouched_preserved, independent_accepts,
};
use super::*;
use Direction::{SendOnly, SendRecv};
use MediaType::{Audio, Image, Video};
use bytes::Bytes;
use std::path::Path;

/// One stream of a corpus file: type, proto, port, direction as the rewriter passes it on.
type Stream = (MediaType, Proto, u16, Direction);

struct Expect {
    file: &'static str,
    streams: &'static [Stream],
    /// `a=crypto` lines per stream, in order.
    crypto: &'static [usize],
    ice: bool,
    ipv6: bool,
    zero_hold: bool,
}

/// A single-stream, plain, IPv4 file without ICE or hold.
const BASE: Expect = Expect {
    file: "",
    streams: &[],
    crypto: &[0],
    ice: false,
    ipv6: false,
    zero_hold: false,
};

const CORPUS: &[Expect] = &[
    Expect {
        file: "asterisk-offer.sdp",
        streams: &[(Audio, Proto::RtpAvp, 14566, SendRecv)],
        ..BASE
    },
    Expect {
        file: "freeswitch-srtp-offer.sdp",
        streams: &[(Audio, Proto::RtpSavp, 24312, SendRecv)],
        crypto: &[2],
        ..BASE
    },
    Expect {
        file: "polycom-vvx-offer.sdp",
        streams: &[(Audio, Proto::RtpAvp, 2222, SendRecv)],
        ..BASE
    },
    Expect {
        file: "yealink-t46-srtp-offer.sdp",
        streams: &[(Audio, Proto::RtpSavp, 11790, SendRecv)],
        crypto: &[1],
        ..BASE
    },
    Expect {
        file: "cisco-cube-answer.sdp",
        streams: &[(Audio, Proto::RtpAvp, 16442, SendRecv)],
        ..BASE
    },
    Expect {
        file: "webrtc-chrome-offer.sdp",
        streams: &[
            (Audio, Proto::UdpTlsRtpSavpf, 50123, SendRecv),
            (Video, Proto::UdpTlsRtpSavpf, 50123, SendRecv),
        ],
        crypto: &[0, 0],
        ice: true,
        ..BASE
    },
    Expect {
        file: "linphone-ipv6-offer.sdp",
        streams: &[(Audio, Proto::RtpAvp, 7078, SendRecv)],
        ipv6: true,
        ..BASE
    },
    Expect {
        file: "bria-audio-video-offer.sdp",
        streams: &[
            (Audio, Proto::RtpAvp, 61470, SendRecv),
            (Video, Proto::RtpAvpf, 49826, SendRecv),
        ],
        crypto: &[0, 0],
        ..BASE
    },
    Expect {
        file: "hold-sendonly-reinvite.sdp",
        streams: &[(Audio, Proto::RtpAvp, 14566, SendOnly)],
        ..BASE
    },
    Expect {
        file: "hold-zero-address-reinvite.sdp",
        streams: &[(Audio, Proto::RtpAvp, 16442, SendOnly)],
        zero_hold: true,
        ..BASE
    },
    Expect {
        file: "rejected-video-answer.sdp",
        streams: &[
            (Audio, Proto::RtpAvp, 17234, SendRecv),
            (Video, Proto::RtpAvp, 0, SendRecv),
        ],
        crypto: &[0, 0],
        ..BASE
    },
    Expect {
        file: "t38-reinvite.sdp",
        streams: &[(Image, Proto::Other, 4406, SendRecv)],
        ..BASE
    },
    Expect {
        file: "legacy-gateway-disorder.sdp",
        streams: &[(Audio, Proto::RtpAvp, 30500, SendRecv)],
        ..BASE
    },
];

fn corpus_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sdp")
}

fn load(file: &str) -> Bytes {
    let path = corpus_dir().join(file);
    Bytes::from(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

#[test]
fn every_corpus_file_is_listed() {
    let mut files: Vec<String> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|f| f.ends_with(".sdp"))
        .collect();
    files.sort();
    let mut listed: Vec<&str> = CORPUS.iter().map(|e| e.file).collect();
    listed.sort();
    assert_eq!(files, listed);
}

#[test]
fn corpus_parses_into_the_expected_views() {
    for e in CORPUS {
        let sdp = Sdp::parse(load(e.file), &SdpLimits::DEFAULT)
            .unwrap_or_else(|err| panic!("{}: {err}", e.file));
        let got: Vec<Stream> = sdp
            .media()
            .iter()
            .map(|m| (m.media_type(), m.proto(), m.port(), m.effective_direction()))
            .collect();
        assert_eq!(got, e.streams, "{}", e.file);
        let crypto: Vec<usize> = sdp.media().iter().map(|m| m.crypto().count()).collect();
        assert_eq!(crypto, e.crypto, "{}", e.file);
        for m in sdp.media() {
            assert_eq!(m.has_ice(), e.ice, "{}", e.file);
            assert_eq!(m.is_zero_address_hold(), e.zero_hold, "{}", e.file);
            let c = m
                .connection()
                .expect("every corpus stream has a connection");
            assert_eq!(c.addr_type == AddrType::Ip6, e.ipv6, "{}", e.file);
        }
    }
}

/// Toward a plain-RTP IPv4 leg: relay ports, explicit RTCP port, no crypto, no ICE.
fn rtp_plan(sdp: &Sdp) -> RewritePlan {
    let media = (0u16..)
        .zip(sdp.media())
        .map(|(i, m)| {
            let port = if m.is_rejected() { 0 } else { 40_000 + 2 * i };
            MediaPlan {
                rtcp: RtcpPlan::Set {
                    port: port + 1,
                    address: None,
                },
                profile: ProfilePlan::Rtp,
                crypto: CryptoPlan::Replace(vec![]),
                ..MediaPlan::new(port)
            }
        })
        .collect();
    RewritePlan {
        address: "192.0.2.1".parse().unwrap(),
        strip_ice: true,
        media,
    }
}

/// Toward an SDES-SRTP IPv6 leg: relay ports, rtcp-mux, the SBC's own key.
fn srtp_plan(sdp: &Sdp) -> RewritePlan {
    let key = Bytes::from_static(
        b"1 AES_CM_128_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj",
    );
    let media = (0u16..)
        .zip(sdp.media())
        .map(|(i, m)| MediaPlan {
            rtcp_mux: MuxPlan::Add,
            profile: ProfilePlan::Srtp,
            crypto: CryptoPlan::Replace(vec![key.clone()]),
            ..MediaPlan::new(if m.is_rejected() { 0 } else { 50_000 + 2 * i })
        })
        .collect();
    RewritePlan {
        address: "2001:db8::1".parse().unwrap(),
        strip_ice: true,
        media,
    }
}

#[test]
fn corpus_rewrites_toward_rtp_and_srtp_legs() {
    for e in CORPUS {
        let input = load(e.file);
        let sdp = Sdp::parse(input.clone(), &SdpLimits::DEFAULT).unwrap();
        let accepted = independent_accepts(&input);
        assert_eq!(
            accepted,
            e.file != "legacy-gateway-disorder.sdp",
            "{}",
            e.file
        );
        for plan in [rtp_plan(&sdp), srtp_plan(&sdp)] {
            let mut origin = OriginState::new("sbc", 77, 5).unwrap();
            let out = sdp.rewrite(&plan, &mut origin).unwrap();
            assert_untouched_preserved(&sdp, &out);
            if accepted {
                assert_independent_view(&out, &plan, &sdp);
            }
            let again = Sdp::parse(out.clone(), &SdpLimits::DEFAULT).unwrap();
            for ((m, p), before) in again.media().iter().zip(&plan.media).zip(sdp.media()) {
                assert_eq!(m.port(), p.port, "{}", e.file);
                assert_eq!(m.connection().and_then(Connection::ip), Some(plan.address));
                assert!(!m.has_ice() && !m.is_zero_address_hold(), "{}", e.file);
                if p.port != 0 {
                    assert_eq!(m.direction(), before.effective_direction(), "{}", e.file);
                }
            }
            // Sending the same description again leaves the version alone.
            assert_eq!(sdp.rewrite(&plan, &mut origin).unwrap(), out);
            assert_eq!(origin.version(), 5);
        }
    }
}

#[test]
fn zero_address_hold_reaches_the_other_leg_as_sendonly() {
    let sdp = Sdp::parse(load("hold-zero-address-reinvite.sdp"), &SdpLimits::DEFAULT).unwrap();
    let out = sdp
        .rewrite(&rtp_plan(&sdp), &mut OriginState::new("sbc", 1, 1).unwrap())
        .unwrap();
    let text = String::from_utf8(out.to_vec()).unwrap();
    assert!(!text.contains("0.0.0.0"), "{text}");
    assert!(text.ends_with("a=sendonly\r\n"), "{text}");
}
