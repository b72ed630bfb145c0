//! Fuzz target: an SDP body through the parser, every typed view, and the rewriter. Whatever
//! parses must rewrite (toward an SRTP leg and a plain-RTP leg) into a body that parses again
//! with the same number of media sections, and nothing may panic.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sbc::sdp::{
    CryptoPlan, MediaPlan, MuxPlan, OriginState, ProfilePlan, RewritePlan, RtcpPlan, Sdp, SdpLimits,
};
use std::net::IpAddr;

const KEY: &[u8] = b"1 AES_CM_128_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj";

fn plan(sdp: &Sdp, address: IpAddr, srtp: bool) -> RewritePlan {
    let media = (0u16..)
        .zip(sdp.media())
        .map(|(i, m)| MediaPlan {
            rtcp: if srtp {
                RtcpPlan::Remove
            } else {
                RtcpPlan::Set {
                    port: 1001 + 2 * i,
                    address: Some(address),
                }
            },
            rtcp_mux: if srtp { MuxPlan::Add } else { MuxPlan::Remove },
            profile: if srtp {
                ProfilePlan::Srtp
            } else {
                ProfilePlan::Rtp
            },
            crypto: CryptoPlan::Replace(if srtp {
                vec![Bytes::from_static(KEY)]
            } else {
                vec![]
            }),
            ..MediaPlan::new(if m.is_rejected() { 0 } else { 1000 + 2 * i })
        })
        .collect();
    RewritePlan {
        address,
        strip_ice: true,
        media,
    }
}

fuzz_target!(|data: &[u8]| {
    let limits = SdpLimits::DEFAULT;
    let Ok(sdp) = Sdp::parse(Bytes::copy_from_slice(data), &limits) else {
        return;
    };
    let _ = (
        sdp.origin(),
        sdp.session_connection(),
        sdp.session_direction(),
    );
    for m in sdp.media() {
        let _ = (
            m.media_type(),
            m.port(),
            m.port_count(),
            m.proto(),
            m.formats().count(),
        );
        let _ = (
            m.connection(),
            m.is_zero_address_hold(),
            m.effective_direction(),
        );
        let _ = (
            m.rtcp(),
            m.rtcp_mux(),
            m.crypto().count(),
            m.has_ice(),
            m.ptime(),
        );
        let _ = m.rtpmaps().count();
    }
    let addresses: [IpAddr; 2] = ["192.0.2.1".parse().unwrap(), "2001:db8::1".parse().unwrap()];
    for (address, srtp) in [(addresses[0], true), (addresses[1], false)] {
        let plan = plan(&sdp, address, srtp);
        let mut origin = OriginState::new("sbc", 1, 1).expect("valid username");
        let out = sdp.rewrite(&plan, &mut origin).expect("plan fits");
        let again = Sdp::parse(out.clone(), &limits).expect("rewritten body parses");
        assert_eq!(again.media().len(), sdp.media().len());
        for m in again.media() {
            assert_eq!(m.connection().and_then(|c| c.ip()), Some(address));
            assert!(!m.has_ice());
        }
        assert_eq!(sdp.rewrite(&plan, &mut origin).expect("plan fits"), out);
        assert_eq!(origin.version(), 1);
    }
});
