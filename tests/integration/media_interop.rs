//! Media interop with implementations we did not write (shell, real sockets): SIPp sending RTP
//! from a pcap through the relay to a SIPp PBX that echoes it, hold and resume by re-INVITE, and
//! baresip as an SDES-SRTP phone over TLS bridged to a plain-RTP PBX. Media is checked by the
//! relay's packet counters and by the SDP each side received. Without `sipp` or `baresip` the
//! tests fail when `SBC_REQUIRE_INTEROP=1` (CI) and otherwise print a notice and do nothing.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicU16;
use std::time::Duration;

use sbc::app::Running;
use sbc::config::Transport;

use crate::baresip::{self, Phone};
use crate::harness::{self, repo};
use crate::interop::{free_port, port_block, sipp};

/// Packets in `tests/data/rtp/pcmu-3s.pcap`.
const PCAP_PACKETS: f64 = 150.0;

/// The relay's packet counter of `realm` in `direction`.
fn packets(metrics: &str, realm: &str, direction: &str) -> f64 {
    harness::series(
        metrics,
        &format!("sbc_media_packets_total{{realm=\"{realm}\",direction=\"{direction}\"}}"),
    )
}

/// The relay's drop counter of `realm` for `reason`.
fn dropped(metrics: &str, realm: &str, reason: &str) -> f64 {
    harness::series(
        metrics,
        &format!("sbc_media_dropped_total{{realm=\"{realm}\",reason=\"{reason}\"}}"),
    )
}

/// Four consecutive free UDP ports (RTP and RTCP, and SIPp's second echo pair) below the relay's
/// ranges (30000-39999), so no media address of a peer can be taken for one of the relay's.
/// Each call hands out a block no earlier call in this process had, so peers started by tests
/// running side by side never race for the same ports.
pub(crate) fn media_ports() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    port_block(&NEXT, 20_000, 2_500, 4, |p| {
        (p..p + 4).all(|q| std::net::UdpSocket::bind(("127.0.0.1", q)).is_ok())
    })
}

/// SIPp's summary lines, for failure messages.
pub(crate) fn summary(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| l.contains("Successful call") || l.contains("Failed call"))
        .chain(String::from_utf8_lossy(&output.stderr).lines().take(20))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `name`-uas.xml as the PBX (echoing RTP) on `pbx_port` and `name`-uac.xml as one call
/// into the SBC's access realm over UDP; both must report the call successful.
async fn sipp_media_call(sipp: &str, name: &str, sbc: &Running, pbx_port: u16) {
    let dir = repo().join("tests/interop");
    let common = |command: &mut Command, media_port: u16| {
        command
            .current_dir(&dir)
            .args(["-i", "127.0.0.1", "-mp", &media_port.to_string(), "-m", "1"])
            .args(["-nostdin", "-timeout", "60s", "-timeout_error", "-t", "u1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
    };
    let mut uas = Command::new(sipp);
    common(&mut uas, media_ports());
    let uas = uas
        .args(["-sf", &format!("{name}-uas.xml"), "-rtp_echo"])
        .args(["-p", &pbx_port.to_string()])
        .spawn()
        .expect("sipp uas starts");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut uac = Command::new(sipp);
    common(&mut uac, media_ports());
    uac.arg(harness::access(sbc, Transport::Udp).to_string())
        .args(["-sf", &format!("{name}-uac.xml")])
        .args(["-p", &free_port(Transport::Udp).to_string()]);
    let uac = tokio::task::spawn_blocking(move || uac.output())
        .await
        .unwrap()
        .expect("sipp uac runs");
    let uas = tokio::task::spawn_blocking(move || uas.wait_with_output())
        .await
        .unwrap()
        .expect("sipp uas runs");
    assert!(uac.status.success(), "caller {name}: {}", summary(&uac));
    assert!(uas.status.success(), "PBX {name}: {}", summary(&uas));
}

/// The metrics once the relay's counters stopped moving (the last echoes are in flight when
/// SIPp exits).
async fn settled_metrics(sbc: &Running) -> String {
    let mut last = harness::scrape(sbc.metrics_addr).await;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = harness::scrape(sbc.metrics_addr).await;
        if packets(&now, "access", "out") == packets(&last, "access", "out") {
            return now;
        }
        last = now;
    }
    last
}

/// Every packet counter of the relay at least `min`, with the counts in the failure message.
fn assert_both_ways(metrics: &str, min: f64) {
    let counts: Vec<(String, f64)> = ["access", "core"]
        .iter()
        .flat_map(|realm| {
            ["in", "out"].map(|d| (format!("{realm}/{d}"), packets(metrics, realm, d)))
        })
        .collect();
    assert!(
        counts.iter().all(|(_, n)| *n >= min),
        "relay packets below {min}: {counts:?}"
    );
}

/// One SIPp call `name` through an SBC of its own; returns the relay's settled metrics.
async fn sipp_media_metrics(sipp: &str, name: &str) -> String {
    let pbx_port = free_port(Transport::Udp);
    let sbc = harness::start_with_pbx("", &format!("udp:127.0.0.1:{pbx_port}")).await;
    sipp_media_call(sipp, name, &sbc, pbx_port).await;
    let metrics = settled_metrics(&sbc).await;
    sbc.shutdown().await;
    metrics
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_rtp_flows_both_ways_through_the_relay() {
    let Some(sipp) = sipp() else { return };
    let metrics = sipp_media_metrics(sipp, "media").await;
    // Caller -> access in -> core out -> echo -> core in -> access out -> caller: loopback may
    // lose a packet or two to a busy machine, never a direction.
    assert_both_ways(&metrics, PCAP_PACKETS * 0.95);
    assert!(
        packets(&metrics, "access", "in") <= PCAP_PACKETS,
        "more packets than the pcap holds:\n{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_media_keeps_flowing_after_hold_and_resume() {
    let Some(sipp) = sipp() else { return };
    let metrics = sipp_media_metrics(sipp, "media-hold").await;
    // The pcap plays once before the hold and once after the resume: the second half must make
    // it through both ways too.
    assert_both_ways(&metrics, 2.0 * PCAP_PACKETS * 0.95);
}

/// The `baresip` binary, or `None` (with a loud notice) when it is absent and not required.
fn baresip() -> Option<&'static str> {
    if Command::new("baresip").arg("-h").output().is_ok() {
        return Some("baresip");
    }
    if std::env::var("SBC_REQUIRE_INTEROP").is_ok_and(|v| v == "1") {
        panic!(
            "baresip is required (SBC_REQUIRE_INTEROP=1) but not installed: apt-get install -y baresip"
        );
    }
    eprintln!(
        "\n*** baresip not installed: SRTP interop test SKIPPED (apt-get install -y baresip) ***\n"
    );
    None
}

/// 10 s of a 440 Hz tone, 8 kHz mono 16-bit WAV, for baresip's `aufile` source.
fn write_tone(path: &Path) {
    let samples: Vec<u8> = (0..80_000u32)
        .flat_map(|i| {
            let x = (2.0 * std::f64::consts::PI * 440.0 * f64::from(i) / 8000.0).sin();
            ((x * 8000.0) as i16).to_le_bytes()
        })
        .collect();
    let mut wav = Vec::with_capacity(44 + samples.len());
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + samples.len() as u32).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    for field in [16u32, 1 | (1 << 16), 8000, 16_000, 2 | (16 << 16)] {
        wav.extend_from_slice(&field.to_le_bytes());
    }
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&(samples.len() as u32).to_le_bytes());
    wav.extend_from_slice(&samples);
    std::fs::write(path, wav).unwrap();
}

/// A baresip configuration directory: SIP on loopback, SDES-SRTP mandatory, PCMU from a tone
/// file, received audio written to a file, the development CA trusted, calls out via `outbound`.
fn baresip_dir(outbound: std::net::SocketAddr) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sbc-baresip-{}-{}",
        std::process::id(),
        outbound.port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    write_tone(&dir.join("tone.wav"));
    let rtp = media_ports();
    let config = format!(
        "poll_method epoll\nnet_interface 127.0.0.1\nsip_listen 127.0.0.1:{sip}\n\
         sip_cafile {ca}\naudio_player aufile,{dir}/heard.wav\naudio_source aufile,{dir}/tone.wav\n\
         audio_alert aufile,/dev/null\naudio_srate 8000\naudio_channels 1\nrtp_ports {rtp}-{rtp_max}\n\
         module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule aufile.so\nmodule srtp.so\n\
         module stdio.so\nmodule_app account.so\nmodule_app menu.so\n",
        sip = baresip::sip_port(),
        ca = repo().join("certs/dev/ca.crt").display(),
        dir = dir.display(),
        rtp_max = rtp + 3,
    );
    std::fs::write(dir.join("config"), config).unwrap();
    std::fs::write(
        dir.join("accounts"),
        format!(
            "<sip:alice@127.0.0.1;transport=tls>;regint=0;mediaenc=srtp-mand;audio_codecs=PCMU;\
             outbound=\"sip:{outbound};transport=tls\"\n"
        ),
    )
    .unwrap();
    dir
}

/// The `m=audio` lines of every SDP baresip traced.
fn audio_lines(trace: &str) -> Vec<&str> {
    trace
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("m=audio "))
        .collect()
}

/// An SBC whose access realm requires SRTP, with the `pbx` peer on `pbx_port`.
async fn srtp_sbc(pbx_port: u16) -> Running {
    let text = harness::config_text_with(
        &repo().join("certs/dev"),
        "",
        &format!("udp:127.0.0.1:{pbx_port}"),
    )
    .replacen(
        "port_max = 34999\n",
        "port_max = 34999\nsrtp = \"mandatory\"\n",
        1,
    );
    let config = sbc::config::from_str(&text, &repo()).expect("test config");
    sbc::app::start(Arc::new(config)).await.expect("sbc starts")
}

/// SIPp as a plain-RTP PBX echoing media, running `scenario` once on `pbx_port`.
fn echo_pbx(sipp: &str, scenario: &str, pbx_port: u16) -> Child {
    Command::new(sipp)
        .current_dir(repo().join("tests/interop"))
        .args(["-sf", scenario, "-rtp_echo", "-i", "127.0.0.1"])
        .args([
            "-p",
            &pbx_port.to_string(),
            "-mp",
            &media_ports().to_string(),
        ])
        .args(["-m", "1", "-nostdin", "-timeout", "60s", "-timeout_error"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sipp uas starts")
}

/// Waits (at most 20 s) until every packet counter of the relay grew by `n` over `base`; on
/// failure shows the relay's counters and what the phone printed.
async fn flowing(sbc: &Running, phone: &mut Phone, base: &str, n: f64) -> String {
    let mut now = String::new();
    for _ in 0..200 {
        now = harness::scrape(sbc.metrics_addr).await;
        let grown = ["access", "core"].iter().all(|realm| {
            ["in", "out"]
                .iter()
                .all(|d| packets(&now, realm, d) - packets(base, realm, d) >= n)
        });
        if grown {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let media: Vec<&str> = now
        .lines()
        .filter(|l| l.starts_with("sbc_media_") || l.starts_with("sbc_calls_active"))
        .collect();
    panic!(
        "media did not grow by {n} packets each way:\n{}\nbaresip:\n{}",
        media.join("\n"),
        phone.tail(80)
    );
}

/// Ends baresip with `/quit` and the PBX with it; checks both ended well, baresip negotiated
/// SRTP with the relay's access address, and no SRTP packet failed authentication.
async fn finish_srtp_call(sbc: Running, phone: Phone, pbx: Child, dir: PathBuf) {
    let (status, trace) = phone.quit().await;
    let pbx = tokio::task::spawn_blocking(move || pbx.wait_with_output())
        .await
        .unwrap()
        .expect("sipp uas runs");
    let metrics = settled_metrics(&sbc).await;
    sbc.shutdown().await;
    std::fs::remove_dir_all(&dir).ok();
    let tail = baresip::tail(&trace, 40);
    assert!(status.success(), "baresip failed ({status}):\n{tail}");
    assert!(pbx.status.success(), "PBX: {}", summary(&pbx));
    assert!(
        trace.contains("SRTP is Enabled"),
        "no SRTP in baresip:\n{tail}"
    );
    // The answers baresip got carry the access relay's port with SRTP, never the PBX's; the
    // plain leg's SDP was checked by the PBX's scenario (core relay port, no a=crypto).
    let answers: Vec<&str> = audio_lines(&trace)
        .into_iter()
        .filter(|l| {
            let mut f = l.split(' ').skip(1);
            let port: u16 = f.next().and_then(|p| p.parse().ok()).unwrap_or(0);
            (30_000..35_000).contains(&port) && f.next() == Some("RTP/SAVP")
        })
        .collect();
    assert!(
        !answers.is_empty(),
        "no SRTP answer from the relay: {:?}",
        audio_lines(&trace)
    );
    // baresip sends its last RTCP BYE unprotected, its SRTP context already gone: that one
    // packet is dropped as unauthenticated; nothing else may be.
    assert!(
        dropped(&metrics, "access", "srtp_auth") <= 1.0,
        "SRTP authentication failures:\n{metrics}"
    );
    assert_eq!(dropped(&metrics, "core", "srtp_auth"), 0.0);
}

/// An SRTP call under way: the SBC, baresip dialing the PBX (SIPp running `scenario`) through
/// the SBC's TLS listener. `None` when a peer is missing (and not required).
async fn srtp_call(scenario: &str) -> Option<(Running, Phone, Child, PathBuf)> {
    let (sipp, baresip) = (sipp()?, baresip()?);
    let pbx_port = free_port(Transport::Udp);
    let sbc = srtp_sbc(pbx_port).await;
    let pbx = echo_pbx(sipp, scenario, pbx_port);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let tls = harness::access(&sbc, Transport::Tls);
    let dir = baresip_dir(tls);
    let mut phone = Phone::start(baresip, &dir).await;
    phone.command(&format!("/dial sip:pbx@{tls};transport=tls"));
    Some((sbc, phone, pbx, dir))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_srtp_phone_bridges_to_a_plain_rtp_pbx() {
    let Some((sbc, mut phone, pbx, dir)) = srtp_call("media-uas.xml").await else {
        return;
    };
    // 3 s of audio each way: decrypted from the phone, relayed to the PBX, echoed, encrypted
    // back to the phone.
    flowing(&sbc, &mut phone, "", 150.0).await;
    finish_srtp_call(sbc, phone, pbx, dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_srtp_media_flows_again_after_hold_and_resume() {
    let Some((sbc, mut phone, pbx, dir)) = srtp_call("media-hold-uas.xml").await else {
        return;
    };
    flowing(&sbc, &mut phone, "", 50.0).await;
    phone.command("/hold");
    tokio::time::sleep(Duration::from_secs(1)).await;
    phone.command("/resume");
    tokio::time::sleep(Duration::from_millis(500)).await;
    // After the resume (a re-INVITE offering SDES again), media flows both ways again.
    let resumed = harness::scrape(sbc.metrics_addr).await;
    flowing(&sbc, &mut phone, &resumed, 100.0).await;
    finish_srtp_call(sbc, phone, pbx, dir).await;
}

#[test]
fn the_media_benchmark_configuration_is_valid() {
    let path = repo().join("tests/data/configs/media-bench.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let config = sbc::config::from_str(&text, path.parent().unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let access = config.realm("access").expect("access realm");
    assert_eq!(access.media.srtp, sbc::config::SrtpMode::Optional);
}
