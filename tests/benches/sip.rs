//! SIP parse and print benchmarks (criterion) over a realistic 1.1 KB INVITE with SDP
//! (`tests/data/sip/invite-1k.sip`). Run: `cargo bench --bench sip`.
//!
//! - `parse/structural`: framing, start line, header split and classification, body slice.
//! - `parse/validated`: the above plus validation, which parses every header the SBC relies on
//!   (all Via values, From, To, Call-ID, CSeq, Max-Forwards, Contact, Content-Type, Supported,
//!   Require, Request-URI) into typed values — what existing SIP crates measure as "parse".
//! - `print`: writing the parsed message back to wire form.

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sbc::sip::validate::Validator;
use sbc::sip::{Limits, parse_datagram};
use std::hint::black_box;

const INVITE: &[u8] = include_bytes!("../data/sip/invite-1k.sip");

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

criterion_group!(benches, bench);
criterion_main!(benches);
