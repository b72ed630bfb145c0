//! Checks shared by the corpus and property tests: what the rewriter must copy byte-exact, and
//! what an independent parser (`rtc-sdp`) must read back from the rewritten description.

use crate::sdp::attr::{Direction, is_ice_attribute};
use crate::sdp::{CryptoPlan, Line, ProfilePlan, RewritePlan, RtcpPlan, Sdp};
use bytes::Bytes;
use rtc_sdp::SessionDescription;
use std::io::Cursor;

/// True for a line whose content the plan may change, drop or replace.
fn plan_controlled(line: &Line) -> bool {
    matches!(line.kind(), b'o' | b'c' | b'm')
        || line.attribute().is_some_and(|(name, value)| {
            is_ice_attribute(name)
                || [&b"rtcp"[..], b"rtcp-mux", b"crypto"]
                    .iter()
                    .any(|n| name.eq_ignore_ascii_case(n))
                || (value.is_none() && Direction::from_attribute(name).is_some())
        })
}

/// Lines of a body (blank lines dropped) that no plan controls, as raw bytes.
fn untouched(sdp: &Sdp) -> Vec<Bytes> {
    let sections = sdp.media().iter().flat_map(|m| m.lines());
    sdp.session_lines()
        .iter()
        .chain(sections)
        .filter(|l| !plan_controlled(l))
        .map(|l| l.raw().clone())
        .collect()
}

/// Asserts that `out` ends every line with CRLF and carries, in order and byte-exact, every
/// line of `input` that the plan does not control, and nothing else but the `s=-` / `t=0 0`
/// the rewriter adds when the input had none.
pub(super) fn assert_untouched_preserved(input: &Sdp, out: &Bytes) {
    assert!(out.ends_with(b"\r\n"), "output ends with CRLF");
    assert_eq!(
        out.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count(),
        out.windows(2).filter(|w| w == b"\r\n").count(),
        "every line ends with CRLF"
    );
    let again = Sdp::parse(out.clone(), &Default::default()).expect("output parses");
    let has = |k: u8| input.session_lines().iter().any(|l| l.kind() == k);
    let added = |l: &Bytes| (!has(b's') && l == "s=-") || (!has(b't') && l == "t=0 0");
    let kept: Vec<Bytes> = untouched(&again)
        .into_iter()
        .filter(|l| !added(l))
        .collect();
    assert_eq!(
        kept,
        untouched(input),
        "untouched lines are copied byte-exact"
    );
}

/// Parses `out` with `rtc-sdp` and checks what it reads against the plan.
pub(super) fn assert_independent_view(out: &Bytes, plan: &RewritePlan, input: &Sdp) {
    let text = std::str::from_utf8(out).expect("UTF-8 output");
    let desc = SessionDescription::unmarshal(&mut Cursor::new(text))
        .unwrap_or_else(|e| panic!("rtc-sdp refuses the output ({e}):\n{text}"));
    let address = plan.address.to_string();
    let ty = if plan.address.is_ipv4() { "IP4" } else { "IP6" };
    assert_eq!(desc.origin.unicast_address, address);
    assert_eq!(desc.origin.address_type, ty);
    assert_eq!(desc.media_descriptions.len(), plan.media.len());
    let session_c = desc.connection_information.as_ref();
    for ((md, p), section) in desc
        .media_descriptions
        .iter()
        .zip(&plan.media)
        .zip(input.media())
    {
        assert_eq!(md.media_name.port.value, p.port as isize);
        let c = md
            .connection_information
            .as_ref()
            .or(session_c)
            .expect("c=");
        assert_eq!(c.address_type, ty);
        assert_eq!(
            c.address.as_ref().map(|a| a.address.as_str()),
            Some(address.as_str())
        );
        let proto = md.media_name.protos.join("/");
        match (p.profile, section.proto().as_str()) {
            (ProfilePlan::Keep, _) | (_, None) => {
                assert_eq!(proto.as_bytes(), section.media_line().proto_raw.as_ref())
            }
            (profile, Some(_)) => {
                assert_eq!(
                    proto.contains("SAVP"),
                    profile == ProfilePlan::Srtp,
                    "{proto}"
                )
            }
        }
        let values = |key: &str| -> Vec<String> {
            md.attributes
                .iter()
                .filter(|a| a.key == key)
                .map(|a| a.value.clone().unwrap_or_default())
                .collect()
        };
        if let CryptoPlan::Replace(keys) = &p.crypto {
            let want: Vec<String> = keys
                .iter()
                .map(|k| String::from_utf8_lossy(k).into())
                .collect();
            assert_eq!(values("crypto"), want);
        }
        match p.rtcp {
            RtcpPlan::Keep => {}
            RtcpPlan::Remove => assert!(values("rtcp").is_empty()),
            RtcpPlan::Set { port, .. } => {
                let rtcp = values("rtcp");
                assert_eq!(rtcp.len(), 1);
                assert!(rtcp[0].starts_with(&port.to_string()), "{rtcp:?}");
            }
        }
        if plan.strip_ice {
            assert!(
                md.attributes
                    .iter()
                    .all(|a| !is_ice_attribute(a.key.as_bytes()))
            );
        }
    }
    if plan.strip_ice {
        assert!(
            desc.attributes
                .iter()
                .all(|a| !is_ice_attribute(a.key.as_bytes()))
        );
    }
}

/// True when `rtc-sdp` accepts a body.
pub(super) fn independent_accepts(body: &[u8]) -> bool {
    std::str::from_utf8(body)
        .is_ok_and(|t| SessionDescription::unmarshal(&mut Cursor::new(t)).is_ok())
}
