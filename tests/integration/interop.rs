//! Interop with SIPp, an implementation we did not write (shell, real sockets): scenario files in
//! `tests/interop/` run against an in-process SBC. Without `sipp` the tests fail when
//! `SBC_REQUIRE_INTEROP=1` (CI) and otherwise print a notice and do nothing.

use crate::harness::{self, access, repo};
use sbc::config::Transport;
use std::net::SocketAddr;
use std::process::Command;

/// The `sipp` binary, or `None` (with a loud notice) when it is absent and not required.
fn sipp() -> Option<&'static str> {
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

/// A free local port for SIPp to bind.
fn free_port(transport: Transport) -> u16 {
    match transport {
        Transport::Udp => std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port(),
        _ => std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port(),
    }
}

/// Runs `scenario` `calls` times against `target`; returns SIPp's output when it reports a
/// failure.
pub async fn run_scenario(
    scenario: &str,
    target: SocketAddr,
    transport: Transport,
    calls: u32,
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
        "50".into(),
        "-t".into(),
        mode.into(),
        "-i".into(),
        "127.0.0.1".into(),
        "-p".into(),
        port.to_string(),
        "-timeout".into(),
        "30s".into(),
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

/// Runs a caller scenario against the SBC's access realm and a PBX scenario as the `pbx` peer,
/// `calls` times, over `transport` on both legs; both SIPp instances must report no failure.
async fn call_flow(name: &str, transport: Transport, calls: u32) -> Result<(), String> {
    let Some(sipp) = sipp() else { return Ok(()) };
    let pbx_port = free_port(transport);
    let pbx = format!(
        "{}:127.0.0.1:{pbx_port}",
        transport.as_str().to_ascii_lowercase()
    );
    let sbc = harness::start_with_pbx("", &pbx).await;
    let mode = if transport == Transport::Tcp {
        "t1"
    } else {
        "u1"
    };
    let dir = repo().join("tests/interop");
    let uas = Command::new(sipp)
        .args([
            "-sf",
            &dir.join(format!("{name}-uas.xml")).display().to_string(),
        ])
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
            "40s",
            "-timeout_error",
            "-bind_local",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start sipp uas: {e}"))?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let caller = run_scenario(
        &format!("{name}-uac.xml"),
        access(&sbc, transport),
        transport,
        calls,
    )
    .await;
    let uas = tokio::task::spawn_blocking(move || uas.wait_with_output())
        .await
        .unwrap();
    let calls_left = harness::series(&harness::scrape(sbc.metrics_addr).await, "sbc_calls_active");
    sbc.shutdown().await;
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
