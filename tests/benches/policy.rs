//! Edge-policy evaluation benchmarks (criterion) with the shipped example policy (`policies/`,
//! loaded as `deploy/sbc.toml` does). Run: `cargo bench --bench policy`.
//!
//! - `request/accept`: a clean INVITE (scanner patterns, then every rate-limit rule that applies)
//!   from 1,000 rotating sources, with time advancing 1 ms per request.
//! - `request/banned`: a request from a banned source (the ban check, as the receive tasks do).
//! - `acl/admit`: the pre-parse ACL check of the access realm (deny list lookup).
//! - `call/admit_release`: fraud admission of a call (lists and every rule) and its release.

use criterion::{Criterion, criterion_group, criterion_main};
use sbc::policy::bans::{BanKey, Bans};
use sbc::policy::{CallCtx, Engine, Known, MethodClass, RequestCtx, load_dir};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = sbc::config::load(&root.join("deploy/sbc.toml")).expect("reference config");
    let policy = load_dir(&root.join("policies"), &Known::of(&config)).expect("shipped policy");
    #[allow(clippy::disallowed_methods)] // the benchmark's one clock read; the rest is offsets
    let t0 = Instant::now();
    let bans = Arc::new(Bans::default());
    let mut engine = Engine::new(Arc::clone(&bans), t0);
    let sources: Vec<SocketAddr> = (0..1000u32)
        .map(|i| SocketAddr::new(IpAddr::V4(Ipv4Addr::from(0x0a64_0000 + i)), 5060))
        .collect();
    let mut group = c.benchmark_group("policy");
    let mut i = 0usize;
    group.bench_function("request/accept", |b| {
        b.iter(|| {
            i += 1;
            let ctx = RequestCtx {
                realm: "access",
                source: sources[i % sources.len()],
                registered: false,
                peer: None,
                method: MethodClass::Invite,
                user_agent: Some(b"Yealink SIP-T46S 66.86.0.15"),
                user: Some("sip:100@pbx.example.com"),
            };
            let now = t0 + Duration::from_millis(i as u64);
            black_box(engine.evaluate(&policy, black_box(&ctx), now))
        })
    });
    let banned: SocketAddr = "192.0.2.99:5060".parse().unwrap();
    bans.ban(
        BanKey::of(banned, false),
        t0 + Duration::from_secs(1_000_000),
    );
    group.bench_function("request/banned", |b| {
        b.iter(|| black_box(bans.is_banned(black_box(banned), t0)))
    });
    group.bench_function("acl/admit", |b| {
        b.iter(|| black_box(policy.acl.admits("access", black_box(sources[7].ip()))))
    });
    let mut n = 0u64;
    group.bench_function("call/admit_release", |b| {
        b.iter(|| {
            n += 1;
            let user = (n % 500).to_string();
            let ctx = CallCtx {
                realm: "access",
                source: sources[(n % 1000) as usize],
                peer: None,
                user: Some(&user),
                destination: Some("+33123456789"),
                unix_secs: 1_795_332_615,
            };
            let now = t0 + Duration::from_secs(n);
            let (admission, _) = engine.admit_call(&policy, &ctx, now);
            engine.call_ended(admission.ticket);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
