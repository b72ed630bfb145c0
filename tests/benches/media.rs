//! Media relay throughput on loopback with real sockets: one relay thread forwards RTP from
//! phone A to phone B; the figures are packets per second end to end and the relay thread's
//! own CPU time per packet (from `/proc/self/task/*/stat`, Linux). Run:
//! `cargo bench --bench media` (optionally `-- PACKETS`).
//!
//! The sender writes a burst, the receiver reads it back before the next one, so socket
//! buffers never overflow and every packet is accounted for (a lost one is reported).

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sbc::media::{Description, Leg, MediaControl, MediaSpec, RealmRelay, RelaySettings};
use sbc::metrics::Metrics;

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const BURST: usize = 32;
/// A 20 ms G.711 frame: 12-byte header and 160 bytes of payload.
const PAYLOAD: usize = 160;

/// Total user + system CPU ticks of this process's thread named `name`.
fn thread_ticks(name: &str) -> Option<u64> {
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let path = task.ok()?.path();
        let comm = std::fs::read_to_string(path.join("comm")).ok()?;
        if comm.trim() != name {
            continue;
        }
        let stat = std::fs::read_to_string(path.join("stat")).ok()?;
        // Fields after the parenthesised command: state is field 3, utime 14, stime 15.
        let rest = stat.rsplit_once(')')?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let utime: u64 = fields.get(11)?.parse().ok()?;
        let stime: u64 = fields.get(12)?.parse().ok()?;
        return Some(utime + stime);
    }
    None
}

#[allow(clippy::disallowed_methods)] // a benchmark reads the clock
fn now() -> Instant {
    Instant::now()
}

fn main() {
    let packets: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(400_000);
    let realm = |name: &str, min: u16| RealmRelay {
        name: name.to_owned(),
        bind: LOOPBACK,
        advertised: LOOPBACK,
        port_min: min,
        dscp: 46,
        port_max: min + 1999,
    };
    let settings = RelaySettings {
        relay_threads: 1,
        socket_buffer_bytes: 1 << 20,
        ..RelaySettings::default()
    };
    let metrics = Arc::new(Metrics::new());
    let (control, _events) = MediaControl::start(
        settings,
        vec![realm("access", 22600), realm("core", 24600)],
        metrics,
    )
    .expect("relay starts");
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    b.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let describe = |socket: &UdpSocket| Description {
        signaling_ip: Some(LOOPBACK),
        media: vec![MediaSpec {
            remote: Some(socket.local_addr().unwrap()),
            ..MediaSpec::default()
        }],
    };
    control
        .offer("bench", "access", "core", Leg::A, describe(&a))
        .unwrap();
    let to_a: SocketAddr = control.answer("bench", Leg::B, describe(&b)).unwrap()[0]
        .unwrap()
        .rtp();

    let mut packet = vec![0x80u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd];
    packet.resize(12 + PAYLOAD, 0xd5);
    let mut buf = [0u8; 2048];
    let mut seq = 0u16;
    let mut send = |socket: &UdpSocket| {
        seq = seq.wrapping_add(1);
        packet[2..4].copy_from_slice(&seq.to_be_bytes());
        socket.send_to(&packet, to_a).unwrap();
    };
    // Latch, then measure.
    send(&a);
    b.recv(&mut buf).expect("the first packet is relayed");
    let ticks_before = thread_ticks("media-relay-0");
    let started = now();
    let mut received = 0usize;
    let mut lost = 0usize;
    for _ in 0..packets / BURST {
        for _ in 0..BURST {
            send(&a);
        }
        for _ in 0..BURST {
            match b.recv(&mut buf) {
                Ok(_) => received += 1,
                Err(_) => lost += 1,
            }
        }
    }
    let elapsed = started.elapsed();
    let ticks = ticks_before.zip(thread_ticks("media-relay-0"));
    let pps = received as f64 / elapsed.as_secs_f64();
    println!(
        "media relay, 1 thread, {}-byte RTP: {received} packets in {:.2?} ({pps:.0} packets/s end to end, {:.0} ns/packet wall), {lost} lost",
        packet.len(),
        elapsed,
        elapsed.as_nanos() as f64 / received.max(1) as f64,
    );
    if let Some((before, after)) = ticks {
        // Clock ticks are 10 ms on Linux (USER_HZ = 100).
        let cpu = Duration::from_millis((after - before) * 10);
        println!(
            "relay thread CPU: {:.2?} ({:.0} ns/packet)",
            cpu,
            cpu.as_nanos() as f64 / received.max(1) as f64
        );
    }
    // Signaling cost: offer + answer + delete of a one-line call (binds and closes 4
    // sockets, spawns and stops one relay task).
    let rounds = 500;
    let setup_ticks = thread_ticks("media-relay-0");
    let started = now();
    for i in 0..rounds {
        let call = format!("setup-{i}");
        control
            .offer(&call, "access", "core", Leg::A, describe(&a))
            .unwrap();
        control.answer(&call, Leg::B, describe(&b)).unwrap();
        control.delete(&call);
    }
    let per_call = started.elapsed() / rounds;
    std::thread::sleep(Duration::from_millis(300));
    let relay_cpu = setup_ticks
        .zip(thread_ticks("media-relay-0"))
        .map(|(before, after)| Duration::from_millis((after - before) * 10) / rounds);
    println!(
        "offer + answer + delete: {per_call:.2?} per call on the signaling side, relay thread {relay_cpu:.2?} per call ({rounds} calls)"
    );
    let stats = control.delete("bench").unwrap();
    let [leg_a, leg_b] = stats.lines[0].clone().unwrap();
    println!(
        "relay counters: {} in from A, {} out to B, drops {:?}",
        leg_a.packets_in, leg_b.packets_out, leg_a.drops
    );
}
