//! Interop with SIPp, an implementation we did not write (shell, real sockets): scenario files in
//! `tests/interop/` run against an in-process SBC. Without `sipp` the tests fail when
//! `SBC_REQUIRE_INTEROP=1` (CI) and otherwise print a notice and do nothing.

use crate::harness::{self, access, repo};
use sbc::config::Transport;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicU16, Ordering};

/// The `sipp` binary, or `None` (with a loud notice) when it is absent and not required.
pub fn sipp() -> Option<&'static str> {
    let found = Command::new("sipp").arg("-v").output().is_ok();
    if found {
        return Some("sipp");
    }
    if std::env::var("SBC_REQUIRE_INTEROP").is_ok_and(|v| v == "1") {
        panic!(
            "sipp is required (SBC_REQUIRE_INTEROP=1) but not installed: apt-get install -y sip-tester"
        );
    }
    eprintln!(
        "\n*** sipp not installed: SIPp interop tests SKIPPED (apt-get install -y sip-tester) ***\n"
    );
    None
}

/// The first port of a block of `width` ports in `base..base + blocks * width` that `free`
/// accepts and that no earlier call with the same `next` handed out, so peers started by tests
/// running side by side never race for the same ports. Processes start at different blocks.
pub fn port_block(
    next: &AtomicU16,
    base: u16,
    blocks: u16,
    width: u16,
    free: impl Fn(u16) -> bool,
) -> u16 {
    let start = (std::process::id() % u32::from(blocks)) as u16;
    loop {
        let block = next.fetch_add(1, Ordering::Relaxed);
        assert!(block < blocks, "a free block of {width} ports from {base}");
        let p = base + (start + block) % blocks * width;
        if free(p) {
            return p;
        }
    }
}

/// A free local port for SIPp (or another peer) to bind, free for UDP and TCP alike. Ports come
/// from 10000-14999, below the kernel's ephemeral range, so no outgoing socket can take one
/// between this check and the peer's bind, and apart from the ranges other tests use (baresip
/// SIP 15000-17999, tiny relay ranges 18000-19999, peer media 20000-29999, relay 30000-39999);
/// each call hands out a port no earlier call in this process had. The transport only says what
/// the caller will bind: every port is checked for both.
pub fn free_port(_transport: Transport) -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    port_block(&NEXT, 10_000, 5_000, 1, |p| {
        std::net::UdpSocket::bind(("127.0.0.1", p)).is_ok()
            && std::net::TcpListener::bind(("127.0.0.1", p)).is_ok()
    })
}

/// Runs `scenario` `calls` times against `target`; returns SIPp's output when it reports a
/// failure.
pub async fn run_scenario(
    scenario: &str,
    target: SocketAddr,
    transport: Transport,
    calls: u32,
) -> Result<(), String> {
    run_scenario_at(scenario, target, transport, calls, 50).await
}

/// [`run_scenario`] at `rate` calls per second.
pub async fn run_scenario_at(
    scenario: &str,
    target: SocketAddr,
    transport: Transport,
    calls: u32,
    rate: u32,
) -> Result<(), String> {
    let Some(sipp) = sipp() else { return Ok(()) };
    let path = repo().join("tests/interop").join(scenario);
    let mode = match transport {
        Transport::Udp => "u1",
        Transport::Tcp => "t1",
        Transport::Tls => "l1",
    };
    let port = free_port(transport);
    let args: Vec<String> = vec![
        target.to_string(),
        "-sf".into(),
        path.display().to_string(),
        "-m".into(),
        calls.to_string(),
        "-r".into(),
        rate.to_string(),
        "-l".into(),
        "2000".into(),
        "-buff_size".into(),
        "4194304".into(),
        "-t".into(),
        mode.into(),
        "-i".into(),
        "127.0.0.1".into(),
        "-p".into(),
        port.to_string(),
        "-timeout".into(),
        "120s".into(),
        "-timeout_error".into(),
        "-nostdin".into(),
        "-trace_err".into(),
        "-error_file".into(),
        std::env::temp_dir()
            .join(format!("sipp-{scenario}-{port}.err"))
            .display()
            .to_string(),
    ];
    let output = tokio::task::spawn_blocking(move || Command::new(sipp).args(&args).output())
        .await
        .unwrap()
        .map_err(|e| format!("cannot run sipp: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "sipp {scenario} over {transport} failed ({}):\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .filter(|l| l.contains("Failed") || l.contains("Successful") || l.contains("error"))
                .collect::<Vec<_>>()
                .join("\n"),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_options_get_200_over_udp_and_tcp() {
    let sbc = harness::start("").await;
    for transport in [Transport::Udp, Transport::Tcp] {
        run_scenario("options.xml", access(&sbc, transport), transport, 20)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    sbc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_unsupported_require_gets_420() {
    let sbc = harness::start("").await;
    run_scenario(
        "require-420.xml",
        access(&sbc, Transport::Udp),
        Transport::Udp,
        5,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    sbc.shutdown().await;
}

/// Runs `name`-uac.xml against the SBC's access realm and `name`-uas.xml as the `pbx` peer on
/// `pbx_port`, `calls` times at `rate` calls/s, over `transport` on both legs; both SIPp
/// instances must report no failed call.
pub(crate) async fn run_pair(
    name: &str,
    sbc: &sbc::app::Running,
    pbx_port: u16,
    transport: Transport,
    calls: u32,
    rate: u32,
) -> Result<(), String> {
    run_pair_with(
        &format!("{name}-uac.xml"),
        &format!("{name}-uas.xml"),
        sbc,
        pbx_port,
        transport,
        calls,
        rate,
    )
    .await
}

/// [`run_pair`] with the caller's and the PBX's scenario files named separately.
pub async fn run_pair_with(
    uac_file: &str,
    uas_file: &str,
    sbc: &sbc::app::Running,
    pbx_port: u16,
    transport: Transport,
    calls: u32,
    rate: u32,
) -> Result<(), String> {
    let name = uas_file.trim_end_matches(".xml");
    let Some(sipp) = sipp() else { return Ok(()) };
    let mode = if transport == Transport::Tcp {
        "t1"
    } else {
        "u1"
    };
    let dir = repo().join("tests/interop");
    let uas = Command::new(sipp)
        .args(["-sf", &dir.join(uas_file).display().to_string()])
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            &pbx_port.to_string(),
            "-t",
            mode,
            "-m",
            &calls.to_string(),
        ])
        .args([
            "-nostdin",
            "-timeout",
            "120s",
            "-timeout_error",
            "-buff_size",
            "4194304",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start sipp uas: {e}"))?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let caller = run_scenario_at(uac_file, access(sbc, transport), transport, calls, rate).await;
    let uas = tokio::task::spawn_blocking(move || uas.wait_with_output())
        .await
        .unwrap();
    caller?;
    let uas = uas.map_err(|e| format!("sipp uas: {e}"))?;
    if !uas.status.success() {
        return Err(format!(
            "PBX side of {name} over {transport} failed ({}):\n{}",
            uas.status,
            String::from_utf8_lossy(&uas.stdout)
                .lines()
                .filter(|l| l.contains("Failed") || l.contains("Successful"))
                .collect::<Vec<_>>()
                .join("\n")
        ));
    }
    Ok(())
}

/// One flow, 5 calls, on an SBC of its own; the call table must be empty afterwards.
async fn call_flow(name: &str, transport: Transport, calls: u32) -> Result<(), String> {
    if sipp().is_none() {
        return Ok(());
    }
    let pbx_port = free_port(transport);
    let pbx = format!(
        "{}:127.0.0.1:{pbx_port}",
        transport.as_str().to_ascii_lowercase()
    );
    let sbc = harness::start_with_pbx("", &pbx).await;
    let result = run_pair(name, &sbc, pbx_port, transport, calls, 50).await;
    // The caller may finish a moment before the PBX's last answer closes the B leg.
    let mut calls_left = f64::NAN;
    for _ in 0..50 {
        calls_left = harness::series(&harness::scrape(sbc.metrics_addr).await, "sbc_calls_active");
        if calls_left == 0.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    sbc.shutdown().await;
    result?;
    if calls_left != 0.0 {
        return Err(format!("{calls_left} calls still active after {name}"));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_call_flows_through_the_sbc() {
    let mut failures = Vec::new();
    for (name, transport) in [
        ("call", Transport::Udp),
        ("call", Transport::Tcp),
        ("busy", Transport::Udp),
        ("cancel", Transport::Udp),
        ("early", Transport::Udp),
        ("hold", Transport::Udp),
        ("hold", Transport::Tcp),
    ] {
        if let Err(e) = call_flow(name, transport, 5).await {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

/// After 10,000 calls through one SBC (answered, busy, cancelled, early media, hold/resume) the
/// call and transaction tables are back to idle, media included (every call is anchored). T1 is
/// 300 ms here, so the RFC 3261 timers that keep finished transactions around (64×T1) run out
/// in under 20 s; Timer D stays 32 s on UDP. 100 calls/s and this T1 keep a debug build clear
/// of retransmissions even when the machine is busy (a retransmitted INVITE that crosses the
/// PBX's 200 makes SIPp count a failed call).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_return_to_idle_after_ten_thousand_calls() {
    if sipp().is_none() {
        return;
    }
    let pbx_port = free_port(Transport::Udp);
    let sbc = harness::start_with_pbx(
        // Released media ports are reused at once: 10,000 calls in seconds would otherwise
        // need more pairs than the ranges hold while the default quarantine runs.
        "[sip]\nt1_ms = 300\nt2_ms = 2000\n[media]\nport_quarantine_secs = 0\n",
        &format!("udp:127.0.0.1:{pbx_port}"),
    )
    .await;
    let mut total = 0;
    for (name, calls) in [
        ("call", 6000),
        ("busy", 1000),
        ("cancel", 1000),
        ("early", 1000),
        ("hold", 1000),
    ] {
        total += calls;
        run_pair(name, &sbc, pbx_port, Transport::Udp, calls, 100)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(total, 10_000);
    let mut idle = false;
    let mut metrics = String::new();
    for _ in 0..90 {
        metrics = harness::scrape(sbc.metrics_addr).await;
        let active: f64 = [
            "server_invite",
            "server_non_invite",
            "client_invite",
            "client_non_invite",
        ]
        .iter()
        .map(|k| {
            harness::series(
                &metrics,
                &format!("sbc_sip_transactions_active{{kind=\"{k}\"}}"),
            )
        })
        .sum::<f64>()
            + harness::series(&metrics, "sbc_calls_active");
        if active == 0.0 {
            idle = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert!(idle, "tables not idle after {total} calls:\n{metrics}");
    assert_eq!(
        harness::series(&metrics, "sbc_calls_total{peer=\"pbx\"}"),
        10_000.0
    );
    sbc.shutdown().await;
}

/// Topology hiding with the realms on different addresses: the access realm on 127.0.0.1, the
/// core realm and the PBX on 127.0.0.2. The PBX-side scenario fails on any 127.0.0.1, caller tag
/// or caller Call-ID in the headers it receives; the caller-side one on any 127.0.0.2, PBX tag or
/// PBX Contact user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_of_one_side_reaches_the_other() {
    let Some(sipp) = sipp() else { return };
    let pbx_port = std::net::UdpSocket::bind("127.0.0.2:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let text = harness::config_text_with(
        &repo().join("certs/dev"),
        "",
        &format!("udp:127.0.0.2:{pbx_port}"),
    )
    .replace(
        r#"listeners = ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"]"#,
        r#"listeners = ["udp:127.0.0.2:0", "tcp:127.0.0.2:0"]"#,
    )
    .replacen(
        "address = \"127.0.0.1\"\nport_min = 35000",
        "address = \"127.0.0.2\"\nport_min = 35000",
        1,
    );
    let config = sbc::config::from_str(&text, &repo()).expect("config");
    let sbc = sbc::app::start(std::sync::Arc::new(config))
        .await
        .expect("starts");
    let dir = repo().join("tests/interop");
    let uas = Command::new(sipp)
        .args(["-sf", &dir.join("topo-uas.xml").display().to_string()])
        .args([
            "-i",
            "127.0.0.2",
            "-p",
            &pbx_port.to_string(),
            "-m",
            "5",
            "-nostdin",
        ])
        .args(["-timeout", "60s", "-timeout_error"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sipp uas");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let caller = run_scenario(
        "topo-uac.xml",
        access(&sbc, Transport::Udp),
        Transport::Udp,
        5,
    )
    .await;
    let uas = tokio::task::spawn_blocking(move || uas.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    sbc.shutdown().await;
    caller.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        uas.status.success(),
        "PBX side saw the caller's side:\n{}",
        String::from_utf8_lossy(&uas.stdout)
    );
}

/// A SIPp UAS on `port` that answers every INVITE with 503 (stop it with `kill`).
pub fn spawn_unavailable(sipp: &str, port: u16) -> std::process::Child {
    let dir = repo().join("tests/interop");
    Command::new(sipp)
        .args([
            "-sf",
            &dir.join("unavailable-uas.xml").display().to_string(),
        ])
        .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-nostdin"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("sipp")
}

/// Failover: the PBX's first address answers every INVITE with 503, the second works. Every call
/// succeeds — the caller never sees the 503 — and the 503s were really received.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_to_the_next_address_on_503() {
    let Some(sipp) = sipp() else { return };
    let bad = free_port(Transport::Udp);
    let good = free_port(Transport::Udp);
    let sbc = harness::start_with_pbx(
        "",
        &format!("udp:127.0.0.1:{bad}\", \"udp:127.0.0.1:{good}"),
    )
    .await;
    let mut unavailable = spawn_unavailable(sipp, bad);
    let result = run_pair("call", &sbc, good, Transport::Udp, 5, 10).await;
    let metrics = harness::scrape(sbc.metrics_addr).await;
    let _ = unavailable.kill();
    let _ = unavailable.wait();
    sbc.shutdown().await;
    result.unwrap_or_else(|e| panic!("{e}"));
    let refused = harness::series(
        &metrics,
        "sbc_sip_responses_total{status_class=\"5xx\",method=\"INVITE\",realm=\"core\",transport=\"udp\",direction=\"in\"}",
    );
    assert!(
        refused >= 1.0,
        "the first address never answered 503:\n{metrics}"
    );
    assert_eq!(
        harness::series(&metrics, "sbc_calls_answered_total{peer=\"pbx\"}"),
        5.0
    );
}

/// Registration relay: a phone registers through the SBC (the PBX's 401 challenge and the phone's
/// credentials pass through), gets the short phone-side expiry, and a call the PBX then places to
/// the Contact it was given reaches the phone over the flow it registered on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_through_a_challenge_then_receive_a_call() {
    let Some(sipp) = sipp() else { return };
    let pbx_port = free_port(Transport::Udp);
    let extra = "[[routes]]\nfrom_realm = \"core\"\nto_registered = true\nto_realm = \"access\"\n";
    let sbc = harness::start_with_pbx(extra, &format!("udp:127.0.0.1:{pbx_port}")).await;
    let dir = repo().join("tests/interop");
    let pbx = Command::new(sipp)
        .args(["-sf", &dir.join("pbx-registrar.xml").display().to_string()])
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            &pbx_port.to_string(),
            "-m",
            "1",
            "-nostdin",
        ])
        .args(["-timeout", "30s", "-timeout_error"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sipp pbx");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let phone_port = free_port(Transport::Udp);
    let access_addr = access(&sbc, Transport::Udp).to_string();
    let phone = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || {
            Command::new(sipp)
                .arg(access_addr)
                .args(["-sf", &dir.join("phone-register.xml").display().to_string()])
                .args([
                    "-oocsf",
                    &dir.join("phone-answer.xml").display().to_string(),
                ])
                .args([
                    "-i",
                    "127.0.0.1",
                    "-p",
                    &phone_port.to_string(),
                    "-m",
                    "1",
                    "-nostdin",
                ])
                .args(["-timeout", "30s", "-timeout_error"])
                .output()
        }
    })
    .await
    .unwrap()
    .expect("sipp phone");
    let pbx = tokio::task::spawn_blocking(move || pbx.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let metrics = harness::scrape(sbc.metrics_addr).await;
    let (code, registrations) =
        crate::admin::http(sbc.metrics_addr, "GET", "/admin/registrations", None).await;
    sbc.shutdown().await;
    assert_eq!(code, 200);
    assert_eq!(
        registrations.as_array().map(Vec::len),
        Some(1),
        "{registrations}"
    );
    assert_eq!(registrations[0]["transport"], "UDP", "{registrations}");
    assert_eq!(
        registrations[0]["registered_at_pbx"], true,
        "{registrations}"
    );
    assert!(
        registrations[0]["aor"]
            .as_str()
            .unwrap()
            .starts_with("sip:"),
        "{registrations}"
    );
    let summary = |out: &[u8]| {
        String::from_utf8_lossy(out)
            .lines()
            .filter(|l| l.contains("Failed") || l.contains("Successful"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        phone.status.success(),
        "phone side failed:\n{}\n{}",
        summary(&phone.stdout),
        String::from_utf8_lossy(&phone.stderr)
    );
    assert!(
        pbx.status.success(),
        "PBX side failed:\n{}",
        summary(&pbx.stdout)
    );
    assert_eq!(
        harness::series(&metrics, "sbc_calls_answered_total{peer=\"registered\"}"),
        1.0,
        "{metrics}"
    );
}
