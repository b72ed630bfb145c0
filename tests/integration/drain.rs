//! Graceful drain (shell, SIPp on loopback): after the shutdown starts, calls established before
//! it complete normally, new INVITEs and REGISTERs get 503 with Retry-After, `/readyz` is
//! unready; calls still up when the drain timeout passes are ended by the SBC with BYE on both
//! legs, each with its call record. The binary exits 0 on SIGTERM.

use crate::harness::{self, access, repo};
use crate::interop::{free_port, sipp};
use crate::ops::{records, temp_dir};
use sbc::config::Transport;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Starts SIPp with `scenario` from `tests/interop/` for `calls` calls on 127.0.0.1:`port`;
/// `target` for a caller, `None` for a callee.
pub(crate) fn spawn_sipp(scenario: &str, port: u16, target: Option<String>, calls: u32) -> Child {
    let mut command = Command::new("sipp");
    if let Some(target) = target {
        command.arg(target);
    }
    command
        .arg("-sf")
        .arg(repo().join("tests/interop").join(scenario))
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-m",
            &calls.to_string(),
        ])
        .args([
            "-r",
            "10",
            "-t",
            "u1",
            "-nostdin",
            "-timeout",
            "90s",
            "-timeout_error",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sipp starts")
}

/// Waits for SIPp; returns its summary when it failed.
pub(crate) async fn finished(child: Child, who: &str) -> Result<(), String> {
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .expect("sipp ran");
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{who} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains("Failed") || l.contains("Successful"))
            .collect::<Vec<_>>()
            .join("\n"),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// Waits (bounded) until `n` calls are answered and active.
async fn wait_answered(sbc: &sbc::app::Running, n: f64) {
    for _ in 0..100 {
        let m = harness::scrape(sbc.metrics_addr).await;
        if harness::series(&m, "sbc_calls_answered_total{peer=\"pbx\"}") >= n
            && harness::series(&m, "sbc_calls_active") == n
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{n} calls never got established");
}

/// `GET path` on the metrics listener: the status code.
async fn http_status(addr: std::net::SocketAddr, path: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let head = String::from_utf8_lossy(&out);
    let mut words = head.split(' ');
    (words.next() == Some("HTTP/1.1"))
        .then(|| words.next()?.parse().ok())
        .flatten()
        .unwrap_or(0)
}

fn new_request(method: &str, tag: &str) -> Vec<u8> {
    format!(
        "{method} sip:100@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-{tag};rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:late@127.0.0.1>;tag={tag}\r\nTo: <sip:100@127.0.0.1>\r\n\
         Call-ID: {tag}@test\r\nCSeq: 1 {method}\r\nContact: <sip:late@127.0.0.1:9>\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn established_calls_finish_during_the_drain_and_new_ones_get_503() {
    if sipp().is_none() {
        return;
    }
    let dir = temp_dir("drain");
    let file = dir.join("calls.jsonl");
    let pbx_port = free_port(Transport::Udp);
    let extra = format!(
        "[records]\npath = \"{}\"\n\n[shutdown]\ndrain_timeout_secs = 60\nretry_after_secs = 7\n",
        file.display()
    );
    let sbc = harness::start_with_pbx(&extra, &format!("udp:127.0.0.1:{pbx_port}")).await;
    let (metrics_addr, target) = (sbc.metrics_addr, access(&sbc, Transport::Udp));
    let pbx = spawn_sipp("call-uas.xml", pbx_port, None, 2);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let caller = spawn_sipp(
        "drain-uac.xml",
        free_port(Transport::Udp),
        Some(target.to_string()),
        2,
    );
    wait_answered(&sbc, 2.0).await;
    assert_eq!(http_status(metrics_addr, "/readyz").await, 200);

    let stopping = tokio::spawn(sbc.shutdown());
    let mut unready = false;
    for _ in 0..100 {
        if http_status(metrics_addr, "/readyz").await == 503 {
            unready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(unready, "/readyz stays ready while draining");
    for (method, tag) in [("INVITE", "late-invite"), ("REGISTER", "late-register")] {
        let reply =
            harness::udp_exchange(target, &new_request(method, tag), Duration::from_secs(5))
                .await
                .unwrap_or_else(|| panic!("no answer to a new {method} while draining"));
        let text = String::from_utf8_lossy(&reply);
        assert_eq!(harness::status(&reply), Some(503), "{method}: {text}");
        assert!(text.contains("Retry-After: 7\r\n"), "{method}: {text}");
    }
    finished(caller, "caller")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    finished(pbx, "PBX").await.unwrap_or_else(|e| panic!("{e}"));
    tokio::time::timeout(Duration::from_secs(30), stopping)
        .await
        .expect("shutdown ends once the calls have")
        .unwrap();
    let all = records(&file);
    assert_eq!(all.len(), 2, "{all:?}");
    for r in &all {
        assert_eq!(r["ended_by"], "caller", "{r}");
        assert_eq!(r["reason"], "completed", "{r}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_left_at_the_drain_timeout_are_ended_with_bye_on_both_legs() {
    if sipp().is_none() {
        return;
    }
    let dir = temp_dir("drain-timeout");
    let file = dir.join("calls.jsonl");
    let pbx_port = free_port(Transport::Udp);
    let extra = format!(
        "[records]\npath = \"{}\"\n\n[shutdown]\ndrain_timeout_secs = 1\n",
        file.display()
    );
    let sbc = harness::start_with_pbx(&extra, &format!("udp:127.0.0.1:{pbx_port}")).await;
    let target = access(&sbc, Transport::Udp);
    // The PBX waits for a BYE (call-uas.xml), the caller too (ended-uac.xml): only the SBC
    // hanging up lets both finish successfully.
    let pbx = spawn_sipp("call-uas.xml", pbx_port, None, 3);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let caller = spawn_sipp(
        "ended-uac.xml",
        free_port(Transport::Udp),
        Some(target.to_string()),
        3,
    );
    wait_answered(&sbc, 3.0).await;
    tokio::time::timeout(Duration::from_secs(60), sbc.shutdown())
        .await
        .expect("shutdown ends after the drain timeout");
    finished(caller, "caller")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    finished(pbx, "PBX").await.unwrap_or_else(|e| panic!("{e}"));
    let all = records(&file);
    assert_eq!(all.len(), 3, "{all:?}");
    for r in &all {
        assert_eq!(r["ended_by"], "sbc:shutdown", "{r}");
        assert_eq!(r["status"], 200, "{r}");
        assert!(r["answer"].is_string(), "{r}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// The binary on ephemeral ports: SIGHUP re-reads the configuration (live keys — the Server
/// value and the log level — applied, a restart key reported), SIGTERM drains and the process
/// exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_reloads_on_sighup_and_exits_0_on_sigterm() {
    let dir = temp_dir("binary-drain");
    let config = dir.join("sbc.toml");
    let text = harness::config_text(
        &repo().join("certs/dev"),
        "[sip]\nuser_agent = \"edge-a\"\n\n[log]\nlevel = \"info\"\n",
    );
    std::fs::write(&config, &text).unwrap();
    let log = dir.join("log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sbc"))
        .args(["run", "--config"])
        .arg(&config)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("sbc starts");
    let wait_log = |needle: &'static str| {
        let log = log.clone();
        async move {
            for _ in 0..200 {
                if std::fs::read_to_string(&log)
                    .unwrap_or_default()
                    .contains(needle)
                {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            false
        }
    };
    assert!(
        wait_log("ready").await,
        "the binary never got ready:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let changed = text
        .replace("user_agent = \"edge-a\"", "user_agent = \"edge-b\"")
        .replace("level = \"info\"", "level = \"debug\"")
        + "\n[transport]\nmax_connections = 500\n";
    std::fs::write(&config, changed).unwrap();
    let signal = |name: &str| {
        let ok = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(child.id().to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{name}");
    };
    signal("HUP");
    assert!(
        wait_log("configuration reloaded").await,
        "no reload after SIGHUP"
    );
    signal("TERM");
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    let out = std::fs::read_to_string(&log).unwrap();
    assert_eq!(status.code(), Some(0), "{out}");
    assert!(out.contains("sip.user_agent"), "live key applied:\n{out}");
    // A debug line only the reloaded log level lets through.
    assert!(
        out.contains("metrics endpoint stopped accepting"),
        "log.level applied:\n{out}"
    );
    assert!(out.contains("transport"), "restart key reported:\n{out}");
    assert!(out.contains("takes effect after a restart"), "{out}");
    assert!(out.contains("draining"), "{out}");
    assert!(out.contains("stopped"), "{out}");
    let _ = std::fs::remove_dir_all(dir);
}

/// The status of the next SIP response `phone` receives (bounded wait).
async fn next_status(phone: &tokio::net::UdpSocket) -> Option<u16> {
    let mut buf = vec![0u8; 65_535];
    let (n, _) = tokio::time::timeout(Duration::from_secs(10), phone.recv_from(&mut buf))
        .await
        .expect("an answer")
        .unwrap();
    harness::status(&buf[..n])
}

/// A call toward a PBX that never answers is still setting up when the drain ends: the caller
/// gets 503 and the call its record, even though the PBX never completes the CANCEL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_still_setting_up_gets_503_and_its_record() {
    let dir = temp_dir("drain-setup");
    let file = dir.join("calls.jsonl");
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let pbx = silent.local_addr().unwrap();
    let extra = format!(
        "[records]\npath = \"{}\"\n\n[shutdown]\ndrain_timeout_secs = 0\n",
        file.display()
    );
    let sbc = harness::start_with_pbx(&extra, &format!("udp:{pbx}")).await;
    let phone = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let invite = String::from_utf8(new_request("INVITE", "setting-up"))
        .unwrap()
        .replace("127.0.0.1:9", &phone.local_addr().unwrap().to_string());
    phone
        .send_to(invite.as_bytes(), access(&sbc, Transport::Udp))
        .await
        .unwrap();
    assert_eq!(next_status(&phone).await, Some(100));
    let stopping = tokio::spawn(sbc.shutdown());
    let mut last = None;
    for _ in 0..5 {
        last = next_status(&phone).await;
        if last == Some(503) {
            break;
        }
    }
    assert_eq!(last, Some(503), "the caller hears the shutdown");
    tokio::time::timeout(Duration::from_secs(30), stopping)
        .await
        .expect("shutdown does not wait for the silent PBX")
        .unwrap();
    let all = records(&file);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["ended_by"], "sbc:shutdown", "{}", all[0]);
    assert_eq!(all[0]["status"], 503, "{}", all[0]);
    assert_eq!(all[0]["answer"], serde_json::Value::Null);
    drop(silent);
    let _ = std::fs::remove_dir_all(dir);
}
