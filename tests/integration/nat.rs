//! NAT traversal through real Linux NATs (the lab in [`crate::netlab`]): phones in private
//! networks behind nftables MASQUERADE routers, the SBC on the public segment (or itself behind
//! a 1:1 NAT), the PBX on the core side, SIPp as phones and PBX, the `sbc` binary in its own
//! namespace.
//!
//! ```text
//!  p1 10.0.1.2 ─┐                                          ┌─ sbc 198.51.100.10 ── 10.99.0.1 ─ pbx 10.99.0.2
//!  p2 10.0.1.3 ─┴─ r1 (NAT) 198.51.100.2 ─┐                │   (or: cloud 1:1 NAT 198.51.100.10 ↔ sbc 172.16.0.10)
//!  p3 10.0.1.2 ─── r2 (NAT) 198.51.100.3 ─┴── public segment ┘
//!  p4 10.0.1.2 ─── r3 100.64.0.2 ─┐                         │
//!  p5 10.0.1.2 ─── r4 100.64.0.3 ─┴─ cgn (NAT) 198.51.100.4 ─┘   (carrier-grade NAT case)
//! ```

use crate::harness::repo;
use crate::netlab::{self, Lab};
use std::time::Duration;

pub(crate) const PUBLIC: &str = "198.51.100.10";

/// Where the SBC sits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum SbcSide {
    /// On the public segment itself.
    Public,
    /// Behind a 1:1 NAT (private 172.16.0.10, public 198.51.100.10), advertising the public one.
    BehindOneToOne,
}

/// The lab: homes with phones behind NATs, the SBC, the PBX.
pub(crate) fn build(side: SbcSide) -> Lab {
    let mut lab = Lab::new();
    for ns in ["sbc", "pbx", "r1", "r2", "p1", "p2", "p3"] {
        lab.ns(ns);
    }
    lab.link("sbc", "10.99.0.1/24", "pbx", "10.99.0.2/24");
    let segment = match side {
        SbcSide::Public => {
            lab.bridge("sbc", "inet", &format!("{PUBLIC}/24"));
            "sbc"
        }
        SbcSide::BehindOneToOne => {
            lab.ns("cloud");
            lab.bridge("cloud", "inet", "198.51.100.1/24");
            lab.exec(
                "cloud",
                &["ip", "addr", "add", &format!("{PUBLIC}/32"), "dev", "inet"],
            );
            lab.link("cloud", "172.16.0.1/24", "sbc", "172.16.0.10/24");
            lab.route("sbc", "default", "172.16.0.1");
            lab.one_to_one("cloud", PUBLIC, "172.16.0.10");
            "cloud"
        }
    };
    // Home 1: two phones on one LAN behind one router.
    lab.bridge("r1", "lan", "10.0.1.1/24");
    lab.link_to_bridge("p1", "10.0.1.2/24", "r1", "lan");
    lab.link_to_bridge("p2", "10.0.1.3/24", "r1", "lan");
    let wan1 = lab.link_to_bridge("r1", "198.51.100.2/24", segment, "inet");
    lab.masquerade("r1", &wan1);
    // Home 2: a phone with the same private address as p1, behind another router.
    let (_, _) = lab.link("p3", "10.0.1.2/24", "r2", "10.0.1.1/24");
    let wan2 = lab.link_to_bridge("r2", "198.51.100.3/24", segment, "inet");
    lab.masquerade("r2", &wan2);
    for phone in ["p1", "p2", "p3"] {
        lab.route(phone, "default", "10.0.1.1");
    }
    lab
}

/// The SBC's configuration for the lab, written to a temporary file.
pub(crate) fn config(side: SbcSide) -> tempfile_path::TempFile {
    let access = match side {
        SbcSide::Public => PUBLIC,
        SbcSide::BehindOneToOne => "172.16.0.10",
    };
    let advertised = match side {
        SbcSide::Public => String::new(),
        SbcSide::BehindOneToOne => format!("advertised_address = \"{PUBLIC}\"\n"),
    };
    let media_advertised = match side {
        SbcSide::Public => String::new(),
        SbcSide::BehindOneToOne => format!("advertised_address = \"{PUBLIC}\"\n"),
    };
    let certs = repo().join("certs/dev");
    let text = format!(
        r#"
[[realms]]
name = "access"
listeners = ["udp:{access}:5060", "tcp:{access}:5060", "tls:{access}:5061"]
{advertised}[realms.tls]
cert = "{certs}/server.crt"
key = "{certs}/server.key"
[realms.media]
address = "{access}"
{media_advertised}port_min = 30000
port_max = 30999

[[realms]]
name = "core"
listeners = ["udp:10.99.0.1:5060"]
[realms.media]
address = "10.99.0.1"
port_min = 31000
port_max = 31999

[[peers]]
name = "pbx"
realm = "core"
addresses = ["udp:10.99.0.2:5060"]

[[routes]]
from_realm = "access"
to_peer = "pbx"

[[routes]]
from_realm = "core"
from_peer = "pbx"
to_registered = true
to_realm = "access"

[registration]
keepalive_interval_secs = 0

[metrics]
listen = "127.0.0.1:9090"
"#,
        certs = certs.display(),
    );
    tempfile_path::TempFile::with(&text)
}

/// A file in the system's temporary directory, removed on drop.
pub(crate) mod tempfile_path {
    pub struct TempFile(pub std::path::PathBuf);

    impl TempFile {
        pub fn with(text: &str) -> TempFile {
            static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let path =
                std::env::temp_dir().join(format!("sbc-nat-{}-{n}.toml", std::process::id()));
            std::fs::write(&path, text).expect("temp config");
            TempFile(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

/// Starts the SBC binary in the lab and waits until it is ready.
pub(crate) async fn start_sbc(lab: &mut Lab, config: &std::path::Path) -> usize {
    let bin = env!("CARGO_BIN_EXE_sbc");
    let id = lab.spawn(
        "sbc",
        &[bin, "run", "--config", &config.display().to_string()],
    );
    for _ in 0..100 {
        if lab.http_get("sbc", "127.0.0.1:9090", "/readyz").is_some() {
            return id;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let out = lab.wait(id);
    panic!(
        "sbc did not become ready:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The value of one series on the SBC's /metrics (NaN when absent).
pub(crate) fn metric(lab: &Lab, series: &str) -> f64 {
    let text = lab
        .http_get("sbc", "127.0.0.1:9090", "/metrics")
        .unwrap_or_default();
    crate::harness::series(&text, series)
}

/// SIPp arguments common to every run: scenario, address, port, bounds, failure on timeout.
pub(crate) fn sipp_args(scenario: &str, ip: &str, port: &str) -> Vec<String> {
    let dir = repo().join("tests/interop");
    [
        "sipp",
        "-sf",
        &dir.join(scenario).display().to_string(),
        "-i",
        ip,
        "-p",
        port,
        "-nostdin",
        "-timeout",
        "30s",
        "-timeout_error",
        "-trace_err",
        "-error_file",
        &std::env::temp_dir()
            .join(format!("sipp-nat-{ip}-{scenario}.err"))
            .display()
            .to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// SIPp's summary lines and its standard error, for failure messages.
pub(crate) fn summary(out: &std::process::Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains("Failed") || l.contains("Successful"))
            .collect::<Vec<_>>()
            .join("\n"),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Phones in `phones` (namespace, address, user, SIPp transport mode) register through their
/// NATs and each receives a call from the PBX over the flow it registered on.
async fn register_and_receive(side: SbcSide, phones: &[(&str, &str, &str, &str)]) {
    register_and_receive_in(build(side), side, phones).await;
}

/// As [`register_and_receive`], in a lab the caller built.
async fn register_and_receive_in(mut lab: Lab, side: SbcSide, phones: &[(&str, &str, &str, &str)]) {
    let config = config(side);
    let pbx = {
        let mut args = sipp_args("nat-pbx.xml", "10.99.0.2", "5060");
        args.extend(["-m".into(), phones.len().to_string()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        lab.spawn("pbx", &args)
    };
    let sbc = start_sbc(&mut lab, &config.0).await;
    let mut ids = Vec::new();
    for (ns, ip, user, mode) in phones {
        let target = if *mode == "l1" {
            format!("{PUBLIC}:5061")
        } else {
            format!("{PUBLIC}:5060")
        };
        let mut args = sipp_args("nat-phone-register.xml", ip, "5060");
        let answer = repo().join("tests/interop/nat-phone-answer.xml");
        args.extend([
            target,
            "-oocsf".into(),
            answer.display().to_string(),
            "-s".into(),
            (*user).into(),
            "-t".into(),
            (*mode).into(),
            "-m".into(),
            "1".into(),
        ]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ids.push(lab.spawn(ns, &args));
    }
    // While the phones wait for their calls, every registration shows as behind a NAT.
    let mut behind_nat = 0.0;
    for _ in 0..40 {
        behind_nat = metric(&lab, "sbc_registrations_behind_nat");
        if behind_nat == phones.len() as f64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut failures = Vec::new();
    for (id, (ns, ..)) in ids.into_iter().zip(phones) {
        let out = lab.wait(id);
        if !out.status.success() {
            failures.push(format!("phone {ns}: {}", summary(&out)));
        }
    }
    let out = lab.wait(pbx);
    if !out.status.success() {
        failures.push(format!("pbx: {}", summary(&out)));
    }
    let answered = metric(&lab, "sbc_calls_answered_total{peer=\"registered\"}");
    lab.terminate(sbc);
    let _ = lab.wait(sbc);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(answered, phones.len() as f64);
    assert_eq!(behind_nat, phones.len() as f64, "registrations behind NAT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phones_behind_nats_register_over_udp_and_receive_calls() {
    if !netlab::available() {
        return;
    }
    // p1 and p2 share a NAT (and SIP port 5060); p3 has p1's private address behind another.
    register_and_receive(
        SbcSide::Public,
        &[
            ("p1", "10.0.1.2", "1001", "u1"),
            ("p2", "10.0.1.3", "1002", "u1"),
            ("p3", "10.0.1.2", "1003", "u1"),
        ],
    )
    .await;
}

/// Adds two homes behind one carrier-grade NAT to a lab whose SBC is public: `p4` and `p5`
/// both at 10.0.1.2 behind home routers `r3` (100.64.0.2) and `r4` (100.64.0.3), which both
/// sit behind `cgn` (198.51.100.4) — two phones with one private address behind one public
/// address, told apart only by the ports the NATs chose.
fn add_carrier_nat(lab: &mut Lab) {
    for ns in ["cgn", "r3", "r4", "p4", "p5"] {
        lab.ns(ns);
    }
    lab.bridge("cgn", "shared", "100.64.0.1/24");
    let wan = lab.link_to_bridge("cgn", "198.51.100.4/24", "sbc", "inet");
    lab.masquerade("cgn", &wan);
    for (router, outside, phone) in [("r3", "100.64.0.2/24", "p4"), ("r4", "100.64.0.3/24", "p5")] {
        let wan = lab.link_to_bridge(router, outside, "cgn", "shared");
        lab.route(router, "default", "100.64.0.1");
        lab.link(phone, "10.0.1.2/24", router, "10.0.1.1/24");
        lab.masquerade(router, &wan);
        lab.route(phone, "default", "10.0.1.1");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_phones_with_one_private_address_behind_one_carrier_nat_work_independently() {
    if !netlab::available() {
        return;
    }
    let mut lab = build(SbcSide::Public);
    add_carrier_nat(&mut lab);
    // Same private address, same SIP port, same public address: each gets its own call.
    register_and_receive_in(
        lab,
        SbcSide::Public,
        &[
            ("p4", "10.0.1.2", "1004", "u1"),
            ("p5", "10.0.1.2", "1005", "u1"),
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_behind_a_nat_registers_over_tcp_and_receives_a_call() {
    if !netlab::available() {
        return;
    }
    register_and_receive(SbcSide::Public, &[("p1", "10.0.1.2", "1001", "t1")]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sbc_behind_a_one_to_one_nat_advertises_its_public_address() {
    if !netlab::available() {
        return;
    }
    register_and_receive(SbcSide::BehindOneToOne, &[("p1", "10.0.1.2", "1001", "u1")]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_behind_a_nat_places_a_call() {
    if !netlab::available() {
        return;
    }
    let mut lab = build(SbcSide::Public);
    let config = config(SbcSide::Public);
    let pbx = {
        let mut args = sipp_args("call-uas.xml", "10.99.0.2", "5060");
        args.extend(["-m".into(), "3".into()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        lab.spawn("pbx", &args)
    };
    let sbc = start_sbc(&mut lab, &config.0).await;
    let mut args = sipp_args("call-uac.xml", "10.0.1.2", "5060");
    args.extend([
        format!("{PUBLIC}:5060"),
        "-m".into(),
        "3".into(),
        "-r".into(),
        "5".into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let phone = lab.spawn("p1", &args);
    let phone = lab.wait(phone);
    let pbx = lab.wait(pbx);
    lab.terminate(sbc);
    let _ = lab.wait(sbc);
    assert!(phone.status.success(), "phone: {}", summary(&phone));
    assert!(pbx.status.success(), "pbx: {}", summary(&pbx));
}

/// A baresip configuration directory for phone `user` at 10.0.1.2 in the lab: SIP over TLS to
/// the SBC's public address (the development CA trusted), auto-answer, PCMU from a sine
/// silent WAV file, RTP from port 6000.
fn tls_phone_dir(user: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sbc-nat-baresip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("baresip directory");
    let config = format!(
        "poll_method epoll\nsip_listen 10.0.1.2:5060\nsip_cafile {ca}\n\
         audio_player aufile,{dir}/heard.wav\naudio_source aufile,{dir}/silence.wav\naudio_alert aufile,/dev/null\n\
         audio_srate 8000\naudio_channels 1\nrtp_ports 6000-6003\n\
         module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule aufile.so\n\
         module_app account.so\nmodule_app menu.so\n",
        ca = repo().join("certs/dev/ca.crt").display(),
        dir = dir.display(),
    );
    std::fs::write(dir.join("config"), config).expect("baresip config");
    // One second of silence: 8 kHz mono 16-bit PCM in a RIFF/WAVE header.
    let samples = 16_000u32;
    let mut wav = [
        b"RIFF".as_slice(),
        &(36 + samples).to_le_bytes(),
        b"WAVEfmt ",
    ]
    .concat();
    for field in [16u32, 1 | (1 << 16), 8000, 16_000, 2 | (16 << 16)] {
        wav.extend_from_slice(&field.to_le_bytes());
    }
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&samples.to_le_bytes());
    wav.resize(wav.len() + samples as usize, 0);
    std::fs::write(dir.join("silence.wav"), wav).expect("baresip audio");
    let account = format!(
        "<sip:{user}@pbx.example.com;transport=tls>;regint=600;answermode=auto;\
         audio_codecs=PCMU;outbound=\"sip:{PUBLIC}:5061;transport=tls\"\n"
    );
    std::fs::write(dir.join("accounts"), account).expect("baresip accounts");
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_behind_a_nat_registers_over_tls_and_receives_a_call() {
    if !netlab::available() || !netlab::has("baresip") {
        return;
    }
    let mut lab = build(SbcSide::Public);
    let config = config(SbcSide::Public);
    let pbx = {
        let mut args = sipp_args("nat-pbx.xml", "10.99.0.2", "5060");
        args.extend(["-m".into(), "1".into()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        lab.spawn("pbx", &args)
    };
    let sbc = start_sbc(&mut lab, &config.0).await;
    let dir = tls_phone_dir("1001");
    let phone = lab.spawn(
        "p1",
        &["timeout", "60", "baresip", "-f", &dir.display().to_string()],
    );
    // The PBX's scenario ends once its call to the phone was answered and hung up.
    let pbx = lab.wait(pbx);
    let registrations = lab
        .http_get("sbc", "127.0.0.1:9090", "/admin/registrations")
        .unwrap_or_default();
    let behind_nat = metric(&lab, "sbc_registrations_behind_nat");
    let answered = metric(&lab, "sbc_calls_answered_total{peer=\"registered\"}");
    let tls = metric(
        &lab,
        "sbc_connections_accepted_total{realm=\"access\",transport=\"tls\"}",
    );
    let invites_over_tls = metric(
        &lab,
        "sbc_sip_requests_total{method=\"INVITE\",realm=\"access\",transport=\"tls\",direction=\"out\"}",
    );
    // The SBC first: the phone's unregistration then fails at once instead of timing out.
    lab.terminate(sbc);
    let _ = lab.wait(sbc);
    lab.terminate(phone);
    let phone = lab.wait(phone);
    std::fs::remove_dir_all(&dir).ok();
    let trace = String::from_utf8_lossy(&phone.stdout).into_owned()
        + &String::from_utf8_lossy(&phone.stderr);
    let tail: Vec<&str> = trace.lines().rev().take(30).collect();
    assert!(
        pbx.status.success(),
        "pbx: {}\nphone:\n{tail:#?}",
        summary(&pbx)
    );
    assert_eq!(answered, 1.0, "calls answered by the phone");
    assert_eq!(behind_nat, 1.0, "registrations behind NAT");
    assert_eq!(tls, 1.0, "TLS connections accepted");
    assert_eq!(invites_over_tls, 1.0, "INVITEs sent to the phone over TLS");
    assert!(
        registrations.contains("\"transport\": \"TLS\"") && registrations.contains("198.51.100.2:"),
        "the registration is not on a TLS flow from the NAT: {registrations}\n{trace}"
    );
}
