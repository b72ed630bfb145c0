//! Prometheus for real (shell, loopback): a Prometheus server (Debian's `prometheus` package)
//! scrapes the running SBC with `deploy/prometheus.yml` adapted to the test's ports while SIPp
//! places calls, and its query API must show the scrape up and the call counters right. The
//! alert rules pass `promtool check rules` and their unit tests (`deploy/alerts.test.yml`), which
//! must cover every alert. Without `prometheus`/`promtool` the tests fail when
//! `SBC_REQUIRE_INTEROP=1` (CI) and otherwise print a notice and do nothing.

use crate::harness::{self, repo};
use crate::interop::{free_port, run_pair, sipp};
use crate::ops::{temp_dir, wait_idle};
use sbc::config::Transport;
use serde_json::Value;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Whether `tool` runs; `None` (with a loud notice) when absent and not required.
fn tool(tool: &'static str) -> Option<&'static str> {
    if Command::new(tool).arg("--version").output().is_ok() {
        return Some(tool);
    }
    if std::env::var("SBC_REQUIRE_INTEROP").is_ok_and(|v| v == "1") {
        panic!(
            "{tool} is required (SBC_REQUIRE_INTEROP=1) but not installed: apt-get install -y prometheus"
        );
    }
    eprintln!(
        "\n*** {tool} not installed: Prometheus tests SKIPPED (apt-get install -y prometheus) ***\n"
    );
    None
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{program} {args:?} failed:\n{text}");
    text
}

/// The alert names in a rules file or a rules test file.
fn alert_names(text: &str, key: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.trim().trim_start_matches("- ").strip_prefix(key))
        .map(|name| name.trim().to_owned())
        .collect()
}

#[test]
fn alert_rules_check_and_every_alert_has_a_passing_unit_test() {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    let checked = run(promtool, &["check", "rules", "deploy/alerts.yml"]);
    assert!(checked.contains("SUCCESS"), "{checked}");
    run(promtool, &["check", "config", "deploy/prometheus.yml"]);
    let tested = run(promtool, &["test", "rules", "deploy/alerts.test.yml"]);
    assert!(tested.contains("SUCCESS"), "{tested}");
    let read = |p: &str| std::fs::read_to_string(repo().join(p)).unwrap();
    let alerts = alert_names(&read("deploy/alerts.yml"), "alert:");
    let covered = alert_names(&read("deploy/alerts.test.yml"), "alertname:");
    assert_eq!(alerts.len(), 15, "{alerts:?}");
    assert_eq!(
        alerts, covered,
        "every alert needs a unit test in deploy/alerts.test.yml"
    );
}

/// A Prometheus server that is killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `GET path` (HTTP/1.0, so the answer is not chunked): status and body.
async fn get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    s.write_all(request.as_bytes()).await.ok()?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.ok()?;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
    Some((status, body))
}

/// Percent-encodes a PromQL query for a URL.
fn encode(query: &str) -> String {
    query
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The single value of an instant query, or `None` if the result is not one sample.
async fn query(prometheus: SocketAddr, promql: &str) -> Option<f64> {
    let (status, body) = get(
        prometheus,
        &format!("/api/v1/query?query={}", encode(promql)),
    )
    .await?;
    let json: Value = serde_json::from_str(&body).ok()?;
    assert_eq!(status, 200, "{promql}: {body}");
    let result = json["data"]["result"].as_array()?;
    (result.len() == 1)
        .then(|| result[0]["value"][1].as_str()?.parse().ok())
        .flatten()
}

/// Polls `promql` until it equals `want` (bounded); returns the last value seen.
async fn settle(prometheus: SocketAddr, promql: &str, want: f64) -> Option<f64> {
    let mut last = None;
    for _ in 0..120 {
        last = query(prometheus, promql).await;
        if last == Some(want) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    println!("prometheus query `{promql}` = {last:?}");
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_the_sbc_while_calls_go_through() {
    let Some(prometheus) = tool("prometheus") else {
        return;
    };
    if sipp().is_none() {
        return;
    }
    let dir = temp_dir("prometheus");
    let pbx_port = free_port(Transport::Udp);
    let sbc = harness::start_with_pbx("", &format!("udp:127.0.0.1:{pbx_port}")).await;
    // deploy/prometheus.yml, pointed at this SBC, scraping every second.
    let reference = std::fs::read_to_string(repo().join("deploy/prometheus.yml")).unwrap();
    assert!(
        reference.contains("- 127.0.0.1:9090"),
        "the reference target moved"
    );
    let config = reference
        .replace("- 127.0.0.1:9090", &format!("- {}", sbc.metrics_addr))
        .replace("scrape_interval: 15s", "scrape_interval: 1s")
        .replace("evaluation_interval: 15s", "evaluation_interval: 1s")
        .replace("scrape_timeout: 10s", "scrape_timeout: 1s");
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    std::fs::copy(repo().join("deploy/alerts.yml"), dir.join("alerts.yml")).unwrap();
    let listen: SocketAddr = format!("127.0.0.1:{}", free_port(Transport::Tcp))
        .parse()
        .unwrap();
    let server = Server(
        Command::new(prometheus)
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={listen}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus starts"),
    );
    let mut ready = false;
    for _ in 0..120 {
        if get(listen, "/-/ready").await.is_some_and(|(s, _)| s == 200) {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(ready, "prometheus never got ready on {listen}");

    const CALLS: u32 = 8;
    run_pair("call", &sbc, pbx_port, Transport::Udp, CALLS, 10)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(wait_idle(&sbc).await, 0.0);
    let calls = f64::from(CALLS);
    let up = settle(listen, "up{job=\"sbc\"}", 1.0).await;
    let attempts = settle(listen, "sum(sbc_calls_total{job=\"sbc\"})", calls).await;
    let answered = settle(listen, "sum(sbc_calls_answered_total{job=\"sbc\"})", calls).await;
    let active = settle(listen, "sbc_calls_active{job=\"sbc\"}", 0.0).await;
    let invites = settle(
        listen,
        "sum(sbc_sip_requests_total{job=\"sbc\",method=\"INVITE\",realm=\"access\",direction=\"in\"})",
        calls,
    )
    .await;
    let build = settle(listen, "count(sbc_build_info{job=\"sbc\"} == 1)", 1.0).await;
    // The alert rules loaded next to the scrape, and evaluate without errors.
    let mut rules = Vec::new();
    for _ in 0..40 {
        let (_, body) = get(listen, "/api/v1/rules?type=alert")
            .await
            .expect("rules");
        let json: Value = serde_json::from_str(&body).expect("rules JSON");
        rules = json["data"]["groups"][0]["rules"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !rules.is_empty() && rules.iter().all(|r| r["health"] == "ok") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    println!("prometheus alert rules loaded: {}", rules.len());
    drop(server);
    sbc.shutdown().await;
    assert_eq!(up, Some(1.0), "up");
    assert_eq!(attempts, Some(calls), "call attempts");
    assert_eq!(answered, Some(calls), "calls answered");
    assert_eq!(active, Some(0.0), "active calls back to 0");
    assert_eq!(invites, Some(calls), "INVITEs received on the access realm");
    assert_eq!(build, Some(1.0), "build info");
    assert_eq!(rules.len(), 15, "alert rules loaded");
    for rule in &rules {
        assert_eq!(rule["health"], "ok", "{rule}");
    }
    let sbc_down = rules
        .iter()
        .find(|r| r["name"] == "SbcDown")
        .expect("SbcDown");
    assert_eq!(sbc_down["state"], "inactive", "the SBC is up: {sbc_down}");
    let _ = std::fs::remove_dir_all(dir);
}
