//! The admin API on the metrics listener (shell, real sockets): bearer-token authentication,
//! the live call list during a SIPp call, registrations, status, and `POST /admin/reload`
//! applying a live setting (the Server header changes) and reporting restart-only keys.

use crate::drain::{finished, spawn_sipp};
use crate::harness::{self, access, repo};
use crate::interop::{free_port, sipp};
use crate::ops::temp_dir;
use sbc::app::{self, RunOptions, Running};
use sbc::config::Transport;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN: &str = "0123456789abcdef-admin";

/// One HTTP/1.1 request; the status and the body parsed as JSON (`Null` if it is not).
pub async fn http(addr: SocketAddr, method: &str, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// Starts the SBC from a configuration file in `dir` (so reloads re-read it), with `extra`.
async fn start_from_file(dir: &Path, extra: &str, pbx: &str) -> Running {
    let path = dir.join("sbc.toml");
    let text = harness::config_text_with(&repo().join("certs/dev"), extra, pbx);
    std::fs::write(&path, text).unwrap();
    let config = sbc::config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let options = RunOptions {
        config_path: Some(path),
        log: None,
    };
    app::start_with(Arc::new(config), options)
        .await
        .expect("sbc starts")
}

fn token_config(dir: &Path) -> String {
    let token = dir.join("admin.token");
    std::fs::write(&token, format!("{TOKEN}\n")).unwrap();
    format!("[admin]\ntoken_file = \"{}\"\n", token.display())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_is_required_and_checked() {
    let dir = temp_dir("admin-token");
    let sbc = start_from_file(&dir, &token_config(&dir), "udp:127.0.0.1:5080").await;
    let addr = sbc.metrics_addr;
    for path in ["/admin/status", "/admin/calls", "/admin/registrations"] {
        assert_eq!(http(addr, "GET", path, None).await.0, 401, "{path}");
        assert_eq!(
            http(addr, "GET", path, Some("wrong")).await.0,
            401,
            "{path}"
        );
        assert_eq!(http(addr, "GET", path, Some(TOKEN)).await.0, 200, "{path}");
    }
    assert_eq!(http(addr, "POST", "/admin/reload", None).await.0, 401);
    assert_eq!(
        http(addr, "GET", "/admin/nothing", Some(TOKEN)).await.0,
        404
    );
    assert_eq!(http(addr, "POST", "/admin/calls", Some(TOKEN)).await.0, 405);
    assert_eq!(http(addr, "GET", "/admin/reload", Some(TOKEN)).await.0, 405);
    // /metrics and the probes stay open.
    assert_eq!(http(addr, "GET", "/healthz", None).await.0, 200);
    let (_, status) = http(addr, "GET", "/admin/status", Some(TOKEN)).await;
    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(status["ready"], true);
    assert!(
        status["config_path"]
            .as_str()
            .unwrap()
            .ends_with("sbc.toml")
    );
    assert!(status["started"].as_str().unwrap().ends_with('Z'));
    assert_eq!(status["last_reload"], Value::Null);
    let (_, registrations) = http(addr, "GET", "/admin/registrations", Some(TOKEN)).await;
    assert_eq!(registrations, serde_json::json!([]));
    sbc.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_api_can_be_disabled() {
    let sbc = harness::start("[admin]\nenabled = false\n").await;
    assert_eq!(
        http(sbc.metrics_addr, "GET", "/admin/status", None).await.0,
        404
    );
    assert_eq!(http(sbc.metrics_addr, "GET", "/readyz", None).await.0, 200);
    sbc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_calls_are_listed_while_they_last() {
    if sipp().is_none() {
        return;
    }
    let dir = temp_dir("admin-calls");
    let pbx_port = free_port(Transport::Udp);
    let sbc = start_from_file(&dir, "", &format!("udp:127.0.0.1:{pbx_port}")).await;
    let addr = sbc.metrics_addr;
    let calls = async {
        // drain-uac.xml holds the call for 3 s after the answer.
        for _ in 0..100 {
            let (code, list) = http(addr, "GET", "/admin/calls", None).await;
            assert_eq!(code, 200);
            if list
                .as_array()
                .is_some_and(|l| l.iter().any(|c| c["state"] == "answered"))
            {
                return list;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no answered call listed");
    };
    let pbx = spawn_sipp("call-uas.xml", pbx_port, None, 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let target = access(&sbc, Transport::Udp).to_string();
    let caller = spawn_sipp("drain-uac.xml", free_port(Transport::Udp), Some(target), 1);
    let list = calls.await;
    finished(caller, "caller")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    finished(pbx, "PBX").await.unwrap_or_else(|e| panic!("{e}"));
    let call = &list[0];
    assert_eq!(call["peer"], "pbx");
    assert_eq!(call["caller"]["realm"], "access");
    assert_eq!(call["callee"]["realm"], "core");
    assert!(
        call["caller"]["call_id"]
            .as_str()
            .unwrap()
            .contains("@127.0.0.1")
    );
    assert_ne!(call["caller"]["call_id"], call["callee"]["call_id"]);
    assert!(call["start"].as_str().unwrap().ends_with('Z'));
    let text = list.to_string().to_ascii_lowercase();
    for secret in ["password", "authorization", "a=crypto", "secret"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    crate::ops::wait_idle(&sbc).await;
    let (_, after) = http(addr, "GET", "/admin/calls", None).await;
    assert_eq!(after, serde_json::json!([]));
    sbc.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// The Server header of the SBC's answer to an OPTIONS.
async fn server_header(sbc: &Running) -> String {
    let reply = harness::udp_exchange(
        access(sbc, Transport::Udp),
        &harness::options("UDP", &format!("ua-{}", rand_tag())),
        Duration::from_secs(5),
    )
    .await
    .expect("OPTIONS answered");
    String::from_utf8_lossy(&reply)
        .lines()
        .find_map(|l| l.strip_prefix("Server: "))
        .unwrap_or_default()
        .to_owned()
}

fn rand_tag() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_applies_live_keys_and_reports_the_rest() {
    let dir = temp_dir("admin-reload");
    let path = dir.join("sbc.toml");
    let sbc = start_from_file(
        &dir,
        "[sip]\nuser_agent = \"edge-a\"\n",
        "udp:127.0.0.1:5080",
    )
    .await;
    let addr = sbc.metrics_addr;
    assert_eq!(server_header(&sbc).await, "edge-a");
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = text.replace("edge-a", "edge-b") + "\n[transport]\nmax_connections = 500\n";
    std::fs::write(&path, &edited).unwrap();
    let (code, report) = http(addr, "POST", "/admin/reload", None).await;
    assert_eq!(code, 200, "{report}");
    assert_eq!(report["result"], "ok");
    assert_eq!(report["trigger"], "admin");
    assert_eq!(report["applied"], serde_json::json!(["sip.user_agent"]));
    assert_eq!(report["restart_required"], serde_json::json!(["transport"]));
    assert_eq!(
        server_header(&sbc).await,
        "edge-b",
        "the new User-Agent is in use"
    );

    std::fs::write(&path, edited.replace("edge-b", "bad\\r\\nagent")).unwrap();
    let (code, report) = http(addr, "POST", "/admin/reload", None).await;
    assert_eq!(code, 422, "{report}");
    assert_eq!(report["result"], "error");
    assert!(
        report["errors"][0]
            .as_str()
            .unwrap()
            .contains("sip.user_agent"),
        "{report}"
    );
    assert_eq!(
        server_header(&sbc).await,
        "edge-b",
        "a bad file changes nothing"
    );
    let (_, status) = http(addr, "GET", "/admin/status", None).await;
    assert_eq!(status["last_reload"]["result"], "error");
    let metrics = harness::scrape(addr).await;
    assert_eq!(
        harness::series(&metrics, "sbc_config_reloads_total{result=\"ok\"}"),
        1.0
    );
    assert_eq!(
        harness::series(&metrics, "sbc_config_reloads_total{result=\"error\"}"),
        1.0
    );
    sbc.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}
