//! SRTP per-packet cost (criterion): protect and unprotect of a G.711 packet (12-byte header,
//! 160-byte payload, 20 ms of audio) for every crypto suite, against a plain copy of the same
//! packet as the baseline. Run: `cargo bench --bench srtp`; times are ns per packet.
//!
//! - `copy`: what an RTP-to-RTP relay does per packet here (copy into the send buffer).
//! - `alloc_copy`: a fresh `BytesMut` filled with the packet and dropped — the allocation and
//!   copy the engine makes per packet (it has no in-place API), to tell their share.
//! - `protect/SUITE`: [`SrtpSender::protect_rtp`], sequence number advancing every packet.
//! - `unprotect/SUITE`: [`SrtpReceiver::unprotect_rtp`] of packets protected beforehand (outside
//!   the timed section, in chunks), each accepted once as replay protection requires.
//!
//! Both include the engine's own per-packet allocation and the copy into the caller's buffer.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sbc::media::srtp::{CryptoSuite, SrtpKey, SrtpReceiver, SrtpSender};
use std::hint::black_box;
use std::time::{Duration, Instant};

const PAYLOAD: usize = 160;
const CHUNK: usize = 4096;

fn g711(seq: u16) -> Vec<u8> {
    let mut packet = vec![0x80, 0x00];
    packet.extend_from_slice(&seq.to_be_bytes());
    packet.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    packet.extend_from_slice(&0x5eed_cafe_u32.to_be_bytes());
    packet.extend((0..PAYLOAD).map(|i| i as u8 ^ 0xd5));
    packet
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("srtp");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));

    let packet = g711(1);
    let mut out = Vec::with_capacity(1500);
    group.bench_function("copy", |b| {
        b.iter(|| {
            out.clear();
            out.extend_from_slice(black_box(&packet));
            out.len()
        })
    });

    group.bench_function("alloc_copy", |b| {
        b.iter(|| {
            let mut fresh = bytes::BytesMut::with_capacity(packet.len() + 16);
            fresh.extend_from_slice(black_box(&packet));
            black_box(fresh).len()
        })
    });

    for suite in CryptoSuite::ALL {
        let key = SrtpKey::generate(suite).expect("random source");
        let mut sender = SrtpSender::new(&key).expect("engine accepts the key");
        let mut packet = g711(0);
        let mut seq = 0u16;
        group.bench_function(format!("protect/{}", suite.name()), |b| {
            b.iter(|| {
                seq = seq.wrapping_add(1);
                packet[2..4].copy_from_slice(&seq.to_be_bytes());
                sender
                    .protect_rtp(black_box(&packet), &mut out)
                    .expect("protects");
                out.len()
            })
        });

        let mut sender = SrtpSender::new(&key).expect("engine accepts the key");
        let mut receiver = SrtpReceiver::new(&key).expect("engine accepts the key");
        let mut seq = 0u16;
        let mut wire: Vec<Vec<u8>> = Vec::with_capacity(CHUNK);
        group.bench_function(format!("unprotect/{}", suite.name()), |b| {
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let n = left.min(CHUNK as u64) as usize;
                    wire.clear();
                    for _ in 0..n {
                        seq = seq.wrapping_add(1);
                        let mut protected = Vec::with_capacity(256);
                        sender
                            .protect_rtp(&g711(seq), &mut protected)
                            .expect("protects");
                        wire.push(protected);
                    }
                    #[allow(clippy::disallowed_methods)] // a benchmark measures wall time
                    let start = Instant::now();
                    for packet in &wire {
                        receiver
                            .unprotect_rtp(black_box(packet), &mut out)
                            .expect("authentic and fresh");
                    }
                    elapsed += start.elapsed();
                    left -= n as u64;
                }
                elapsed
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
