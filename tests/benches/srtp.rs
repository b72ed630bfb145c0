//! SRTP per-packet cost (criterion): protect and unprotect of a G.711 packet (12-byte header,
//! 160-byte payload, 20 ms of audio) for every crypto suite, against a plain copy of the same
//! packet as the baseline. Run: `cargo bench --bench srtp`; times are ns per packet.
//!
//! - `copy`: what an RTP-to-RTP relay does per packet here (copy into the send buffer).
//! - `protect/SUITE`: [`SrtpSender::protect_rtp`], sequence number advancing every packet.
//! - `unprotect/SUITE`: [`SrtpReceiver::unprotect_rtp`] of packets protected beforehand (outside
//!   the timed section, in chunks), each accepted once as replay protection requires.
//! - `rtc-srtp/protect/SUITE`, `rtc-srtp/unprotect/SUITE`: the same with the `rtc-srtp`
//!   context (webrtc-rs), the independent implementation the tests compare against, for scale.
//!
//! Both include the copy into the caller's buffer.

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
                timed_unprotect(
                    iters,
                    &mut seq,
                    &mut wire,
                    |seq| {
                        let mut protected = Vec::with_capacity(256);
                        sender
                            .protect_rtp(&g711(seq), &mut protected)
                            .expect("protects");
                        protected
                    },
                    |packet| {
                        receiver
                            .unprotect_rtp(black_box(packet), &mut out)
                            .expect("authentic and fresh");
                    },
                )
            })
        });
    }
    for suite in [CryptoSuite::AesCm128HmacSha1_80, CryptoSuite::AeadAes128Gcm] {
        let (mut sender, mut receiver) = (reference(suite), reference(suite));
        let mut packet = g711(0);
        let mut seq = 0u16;
        group.bench_function(format!("rtc-srtp/protect/{}", suite.name()), |b| {
            b.iter(|| {
                seq = seq.wrapping_add(1);
                packet[2..4].copy_from_slice(&seq.to_be_bytes());
                let protected = sender.encrypt_rtp(black_box(&packet)).expect("protects");
                out.clear();
                out.extend_from_slice(&protected);
                out.len()
            })
        });
        let mut wire: Vec<bytes::BytesMut> = Vec::with_capacity(CHUNK);
        let mut other = reference(suite);
        group.bench_function(format!("rtc-srtp/unprotect/{}", suite.name()), |b| {
            b.iter_custom(|iters| {
                timed_unprotect(
                    iters,
                    &mut seq,
                    &mut wire,
                    |seq| other.encrypt_rtp(&g711(seq)).expect("protects"),
                    |packet| {
                        let plain = receiver.decrypt_rtp(black_box(packet)).expect("authentic");
                        out.clear();
                        out.extend_from_slice(&plain);
                    },
                )
            })
        });
    }
    group.finish();
}

/// Times `unprotect` over `iters` packets that `protect` made beforehand (outside the timed
/// section, in chunks of [`CHUNK`], sequence numbers going on from `seq`).
fn timed_unprotect<P>(
    iters: u64,
    seq: &mut u16,
    wire: &mut Vec<P>,
    mut protect: impl FnMut(u16) -> P,
    mut unprotect: impl FnMut(&P),
) -> Duration {
    let mut elapsed = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        wire.clear();
        for _ in 0..n {
            *seq = seq.wrapping_add(1);
            wire.push(protect(*seq));
        }
        #[allow(clippy::disallowed_methods)] // a benchmark measures wall time
        let start = Instant::now();
        for packet in wire.iter() {
            unprotect(packet);
        }
        elapsed += start.elapsed();
        left -= n as u64;
    }
    elapsed
}

/// Key material of the reference runs (the cost does not depend on the key).
const MATERIAL: [u8; 46] = [0x5a; 46];

/// An `rtc-srtp` context for `suite` (one of the two 128-bit suites benchmarked) keyed with
/// [`MATERIAL`].
fn reference(suite: CryptoSuite) -> rtc_srtp::context::Context {
    use rtc_srtp::protection_profile::ProtectionProfile;
    let profile = match suite {
        CryptoSuite::AeadAes128Gcm => ProtectionProfile::AeadAes128Gcm,
        _ => ProtectionProfile::Aes128CmHmacSha1_80,
    };
    let (key, salt) = MATERIAL.split_at(suite.key_len());
    rtc_srtp::context::Context::new(
        key,
        &salt[..suite.salt_len()],
        profile,
        None,
        None,
        &rtc_srtp::crypto::providers::AwsLcRsCrypto,
    )
    .expect("engine accepts the key")
}

criterion_group!(benches, bench);
criterion_main!(benches);
