//! Call records against real peers (shell, SIPp on loopback): every call through the SBC leaves
//! exactly one JSON line, whatever ended it — the caller's BYE, the callee's BYE, a CANCEL, a
//! refusal, a callee that never answers — and the line says who ended it.

use crate::harness;
use crate::interop::{free_port, run_pair, run_scenario, sipp};
use sbc::config::Transport;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A fresh directory for one test's files.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sbc-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Every record in `path`, parsed.
pub fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad record {l}: {e}")))
        .collect()
}

/// Waits (bounded) until the SBC has no call left.
pub async fn wait_idle(sbc: &sbc::app::Running) -> f64 {
    let mut left = f64::NAN;
    for _ in 0..100 {
        left = harness::series(&harness::scrape(sbc.metrics_addr).await, "sbc_calls_active");
        if left == 0.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    left
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_record_per_call_on_every_end_path() {
    if sipp().is_none() {
        return;
    }
    let dir = temp_dir("cdr");
    let file = dir.join("calls.jsonl");
    let pbx_port = free_port(Transport::Udp);
    let extra = format!(
        "[sip]\nt1_ms = 50\nt2_ms = 400\n\n[records]\npath = \"{}\"\n",
        file.display()
    );
    let sbc = harness::start_with_pbx(&extra, &format!("udp:127.0.0.1:{pbx_port}")).await;
    // flow, calls, the record's ended_by, reason and status.
    let flows = [
        ("call", 3, "caller", "completed", 200),
        ("busy", 3, "callee", "rejected", 486),
        ("cancel", 3, "caller", "cancelled", 487),
        ("early", 3, "callee", "completed", 200),
        ("hold", 2, "caller", "completed", 200),
    ];
    let mut expected = Vec::new();
    for (name, calls, ..) in flows {
        run_pair(name, &sbc, pbx_port, Transport::Udp, calls, 10)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        expected.push(calls);
    }
    // A PBX that takes the INVITE and never answers: Timer B (64*T1) ends the call with 408.
    let silent = std::net::UdpSocket::bind(("127.0.0.1", pbx_port)).expect("silent pbx");
    run_scenario(
        "timeout-uac.xml",
        harness::access(&sbc, Transport::Udp),
        Transport::Udp,
        2,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    drop(silent);
    assert_eq!(wait_idle(&sbc).await, 0.0);
    let metrics = harness::scrape(sbc.metrics_addr).await;
    sbc.shutdown().await;

    let all = records(&file);
    let total: u32 = expected.iter().sum::<u32>() + 2;
    assert_eq!(all.len() as u32, total, "one line per call");
    assert_eq!(
        harness::series(&metrics, "sbc_call_records_total{result=\"written\"}") as u32,
        total
    );
    let mut per_call_id: HashMap<String, usize> = HashMap::new();
    for r in &all {
        *per_call_id
            .entry(r["caller"]["call_id"].as_str().unwrap().to_owned())
            .or_default() += 1;
        *per_call_id
            .entry(r["callee"]["call_id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(
        per_call_id.len() as u32,
        2 * total,
        "Call-IDs differ per leg and per call"
    );
    assert!(per_call_id.values().all(|n| *n == 1), "{per_call_id:?}");

    // Records come in call order; check each flow's block.
    let mut at = 0;
    let mut blocks: Vec<(&str, u32, &str, &str, u64)> = flows
        .iter()
        .map(|(n, c, by, reason, status)| (*n, *c, *by, *reason, *status))
        .collect();
    blocks.push(("timeout", 2, "sbc:timeout", "timeout", 408));
    for (name, calls, by, reason, status) in blocks {
        for r in &all[at..at + calls as usize] {
            assert_eq!(r["ended_by"], by, "{name}: {r}");
            assert_eq!(r["reason"], reason, "{name}: {r}");
            assert_eq!(r["status"], status, "{name}: {r}");
            assert_eq!(r["caller"]["realm"], "access", "{name}");
            assert_eq!(r["callee"]["realm"], "core", "{name}");
            assert_eq!(r["callee"]["peer"], "pbx", "{name}");
            // Every call offered SDP, so its media went through the relay (SIPp sends no RTP
            // here: the counts are zero, but they are the relay's, not invented).
            let media = &r["media"];
            for leg in ["caller", "callee"] {
                assert!(media[leg]["packets_in"].is_u64(), "{name}: {r}");
                assert_eq!(media[leg]["srtp"], false, "{name}: {r}");
            }
            assert_eq!(r["policy"], serde_json::json!([]), "{name}");
            assert!(
                r["caller"]["from_tag"]
                    .as_str()
                    .unwrap()
                    .contains("SIPpTag00")
            );
            assert!(r["end"].as_str().unwrap().ends_with('Z'));
            let answered = status == 200;
            assert_eq!(r["answer"].is_string(), answered, "{name}: {r}");
            if answered {
                assert!(
                    r["callee"]["to_tag"]
                        .as_str()
                        .unwrap()
                        .contains("SIPpTag01")
                );
                assert!(r["caller"]["to_tag"].is_string());
            }
        }
        at += calls as usize;
    }
    let raw = std::fs::read_to_string(&file).unwrap();
    println!("sample record: {}", raw.lines().next().unwrap_or_default());
    let _ = std::fs::remove_dir_all(dir);
}

/// A call the policy's duration limit ends: the record says the SBC ended it for that reason and
/// lists the policy decision (the rule and its action).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_ended_call_records_the_decision() {
    if sipp().is_none() {
        return;
    }
    let dir = temp_dir("cdr-policy");
    let policies = dir.join("policies");
    std::fs::create_dir_all(&policies).unwrap();
    std::fs::write(
        policies.join("policy.toml"),
        "[[fraud.rules]]\nname = \"short\"\nkind = \"duration\"\nlimit = 1\n",
    )
    .unwrap();
    let file = dir.join("calls.jsonl");
    let pbx_port = free_port(Transport::Udp);
    let text = harness::config_text_policy(
        &harness::repo().join("certs/dev"),
        &format!("[records]\npath = \"{}\"\n", file.display()),
        &format!("udp:127.0.0.1:{pbx_port}"),
        &policies,
    );
    let config = sbc::config::from_str(&text, &harness::repo()).unwrap_or_else(|e| panic!("{e}"));
    let sbc = sbc::app::start(std::sync::Arc::new(config))
        .await
        .expect("starts");
    let target = harness::access(&sbc, Transport::Udp).to_string();
    // Both sides wait for the SBC's BYE.
    let pbx = crate::drain::spawn_sipp("call-uas.xml", pbx_port, None, 1);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let caller =
        crate::drain::spawn_sipp("ended-uac.xml", free_port(Transport::Udp), Some(target), 1);
    crate::drain::finished(caller, "caller")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    crate::drain::finished(pbx, "PBX")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(wait_idle(&sbc).await, 0.0);
    sbc.shutdown().await;
    let all = records(&file);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["ended_by"], "sbc:max_duration", "{}", all[0]);
    assert_eq!(all[0]["status"], 200, "{}", all[0]);
    assert_eq!(
        all[0]["policy"],
        serde_json::json!([{"rule": "short", "action": "end"}]),
        "{}",
        all[0]
    );
    let _ = std::fs::remove_dir_all(dir);
}
