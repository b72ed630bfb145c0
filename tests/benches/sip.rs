//! SIP parse and print benchmarks (criterion) over a realistic 1.1 KB INVITE with SDP
//! (`tests/data/sip/invite-1k.sip`). Run: `cargo bench --bench sip`.
//!
//! - `parse/structural`: framing, start line, header split and classification, body slice.
//! - `parse/validated`: the above plus validation, which parses every header the SBC relies on
//!   (all Via values, From, To, Call-ID, CSeq, Max-Forwards, Contact, Content-Type, Supported,
//!   Require, Request-URI) into typed values — what existing SIP crates measure as "parse".
//! - `print`: writing the parsed message back to wire form.
//!
//! SDP, over a typical audio offer (`tests/data/sdp/asterisk-offer.sdp`, 302 bytes, 15 lines):
//!
//! - `sdp/parse`: line split, media sections, `c=`/`m=` checks.
//! - `sdp/parse+rewrite`: the above plus rewriting it toward an SRTP leg (relay address and
//!   port, `RTP/SAVP`, a new `a=crypto`, rtcp-mux, the leg's origin version check).

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sbc::sdp::{
    CryptoPlan, MediaPlan, MuxPlan, OriginState, ProfilePlan, RewritePlan, Sdp, SdpLimits,
};
use sbc::sip::validate::Validator;
use sbc::sip::{Limits, parse_datagram};
use std::hint::black_box;

const INVITE: &[u8] = include_bytes!("../data/sip/invite-1k.sip");
const AUDIO_OFFER: &[u8] = include_bytes!("../data/sdp/asterisk-offer.sdp");

fn bench(c: &mut Criterion) {
    let limits = Limits::DEFAULT;
    let buf = Bytes::from_static(INVITE);
    let parsed = parse_datagram(buf.clone(), &limits).expect("fixture parses");

    let mut group = c.benchmark_group("sip");
    group.throughput(Throughput::Bytes(INVITE.len() as u64));
    group.bench_function("parse/structural", |b| {
        b.iter(|| parse_datagram(black_box(buf.clone()), &limits).map(|m| m.headers.len()))
    });
    let validator = Validator::default();
    validator.validate(&parsed).expect("fixture is valid");
    group.bench_function("parse/validated", |b| {
        b.iter(|| {
            let msg = parse_datagram(black_box(buf.clone()), &limits).expect("parses");
            validator.validate(&msg).map(|()| msg.headers.len())
        })
    });
    group.bench_function("print", |b| b.iter(|| black_box(&parsed).to_bytes()));
    group.finish();
}

fn bench_sdp(c: &mut Criterion) {
    let limits = SdpLimits::DEFAULT;
    let buf = Bytes::from_static(AUDIO_OFFER);
    let key = Bytes::from_static(
        b"1 AES_CM_128_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj",
    );
    let plan = RewritePlan {
        address: "192.0.2.1".parse().expect("address"),
        strip_ice: true,
        media: vec![MediaPlan {
            rtcp_mux: MuxPlan::Add,
            profile: ProfilePlan::Srtp,
            crypto: CryptoPlan::Replace(vec![key]),
            ..MediaPlan::new(30000)
        }],
    };
    let mut origin = OriginState::new("sbc", 4711, 1).expect("origin");

    let mut group = c.benchmark_group("sdp");
    group.throughput(Throughput::Bytes(AUDIO_OFFER.len() as u64));
    group.bench_function("parse", |b| {
        b.iter(|| Sdp::parse(black_box(buf.clone()), &limits).map(|s| s.media().len()))
    });
    group.bench_function("parse+rewrite", |b| {
        b.iter(|| {
            let sdp = Sdp::parse(black_box(buf.clone()), &limits).expect("fixture parses");
            sdp.rewrite(&plan, &mut origin).expect("plan fits")
        })
    });
    group.finish();
}

criterion_group!(benches, bench, bench_sdp);
criterion_main!(benches);
