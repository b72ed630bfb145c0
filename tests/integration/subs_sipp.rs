//! Subscriptions and messaging against SIPp (shell, real sockets): a SIPp phone registers through
//! the SBC with a SIPp registrar, subscribes to message-summary at a SIPp notifier, takes its
//! NOTIFYs, refreshes, unsubscribes, and exchanges MESSAGEs with the PBX side; the PBX's
//! unsolicited message-waiting NOTIFY reaches the phone over its registration flow (UDP or its
//! TCP connection). Afterwards — and after an unrefreshed subscription expires — the
//! subscription table is idle again.

use crate::harness::{self, access, repo};
use crate::interop::{free_port, sipp};
use sbc::app::Running;
use sbc::config::Transport;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

const SUBSCRIPTIONS: &str = "sbc_subscriptions_active{event=\"message-summary\"}";

/// Three PBX-side SIPp instances on their own UDP ports: the registrar (`pbx`), the notifier
/// (`presence`, users 1…) and the messaging side (`im`, users 2…); `extra` TOML appended.
async fn start(ports: [u16; 3], extra: &str) -> Running {
    let [pbx, presence, im] = ports;
    let routes = format!(
        "[[routes]]\nfrom_realm = \"access\"\nuser_prefix = \"1\"\nto_peer = \"presence\"\n\n\
         [[routes]]\nfrom_realm = \"access\"\nuser_prefix = \"2\"\nto_peer = \"im\"\n\n\
         [[routes]]\nfrom_realm = \"access\"\nto_peer = \"pbx\"\n\n\
         [[routes]]\nfrom_realm = \"core\"\nto_registered = true\nto_realm = \"access\"\n\n\
         [[peers]]\nname = \"presence\"\nrealm = \"core\"\naddresses = [\"udp:127.0.0.1:{presence}\"]\n\n\
         [[peers]]\nname = \"im\"\nrealm = \"core\"\naddresses = [\"udp:127.0.0.1:{im}\"]\n"
    );
    let text = harness::config_text_with(
        &repo().join("certs/dev"),
        extra,
        &format!("udp:127.0.0.1:{pbx}"),
    )
    .replacen(
        "[[routes]]\nfrom_realm = \"access\"\nto_peer = \"pbx\"\n",
        &routes,
        1,
    );
    let config = sbc::config::from_str(&text, &repo()).expect("config");
    sbc::app::start(Arc::new(config)).await.expect("starts")
}

/// Starts a UAS scenario on 127.0.0.1:`port`.
fn spawn_uas(sipp: &str, scenario: &str, port: u16) -> Child {
    Command::new(sipp)
        .args([
            "-sf",
            &repo()
                .join("tests/interop")
                .join(scenario)
                .display()
                .to_string(),
        ])
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-m",
            "1",
            "-nostdin",
        ])
        .args(["-timeout", "30s", "-timeout_error"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("sipp {scenario}: {e}"))
}

/// Runs the phone scenario (with `ooc` answering out-of-call requests) over `transport`.
async fn run_phone(
    sipp: &'static str,
    sbc: &Running,
    scenario: &str,
    ooc: Option<&str>,
    transport: Transport,
) -> Output {
    let dir = repo().join("tests/interop");
    let mut args = vec![
        access(sbc, transport).to_string(),
        "-sf".into(),
        dir.join(scenario).display().to_string(),
    ];
    if let Some(ooc) = ooc {
        args.extend(["-oocsf".into(), dir.join(ooc).display().to_string()]);
    }
    let mode = if transport == Transport::Tcp {
        "t1"
    } else {
        "u1"
    };
    let port = free_port(transport).to_string();
    args.extend(
        [
            "-t",
            mode,
            "-i",
            "127.0.0.1",
            "-p",
            &port,
            "-m",
            "1",
            "-nostdin",
            "-timeout",
            "30s",
            "-timeout_error",
        ]
        .map(String::from),
    );
    tokio::task::spawn_blocking(move || Command::new(sipp).args(&args).output())
        .await
        .unwrap()
        .expect("sipp phone")
}

fn summary(name: &str, out: &Output) -> String {
    let lines: Vec<&str> = std::str::from_utf8(&out.stdout)
        .unwrap_or("")
        .lines()
        .filter(|l| l.contains("Failed") || l.contains("Successful") || l.contains("Unexpected"))
        .collect();
    format!(
        "{name}: {}\n{}\n{}",
        out.status,
        lines.join("\n"),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Whether SIPp reported a failed check or an aborted call anywhere in its output.
fn complained(out: &Output) -> bool {
    [&out.stdout, &out.stderr].iter().any(|o| {
        let text = String::from_utf8_lossy(o);
        text.contains("Failed regexp match") || text.contains("Aborting call")
    })
}

/// Waits (bounded) until the subscription gauge reads 0; returns the last scrape.
async fn idle(sbc: &Running) -> (bool, String) {
    let mut metrics = String::new();
    for _ in 0..50 {
        metrics = harness::scrape(sbc.metrics_addr).await;
        if harness::series(&metrics, SUBSCRIPTIONS) == 0.0 {
            return (true, metrics);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (false, metrics)
}

async fn mwi_flow(sipp: &'static str, transport: Transport) -> Result<(), String> {
    let ports = [
        free_port(Transport::Udp),
        free_port(Transport::Udp),
        free_port(Transport::Udp),
    ];
    let sbc = start(ports, "").await;
    let uas: Vec<(&str, Child)> = ["pbx-mwi.xml", "pbx-presence.xml", "pbx-im.xml"]
        .into_iter()
        .zip(ports)
        .map(|(scenario, port)| (scenario, spawn_uas(sipp, scenario, port)))
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let phone = run_phone(
        sipp,
        &sbc,
        "phone-mwi.xml",
        Some("phone-inbox.xml"),
        transport,
    )
    .await;
    let mut failures = Vec::new();
    // The out-of-call scenario's checks do not change SIPp's exit status: read its log.
    if !phone.status.success() || complained(&phone) {
        failures.push(summary("phone", &phone));
    }
    for (scenario, child) in uas {
        let out = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .unwrap()
            .expect("sipp uas");
        if !out.status.success() || complained(&out) {
            failures.push(summary(scenario, &out));
        }
    }
    let (is_idle, metrics) = idle(&sbc).await;
    sbc.shutdown().await;
    if !is_idle {
        failures.push(format!("subscriptions left over {transport}:\n{metrics}"));
    }
    for (series, want) in [
        ("sbc_notifies_total{result=\"relayed\"}", 4.0),
        (
            "sbc_messages_total{method=\"MESSAGE\",result=\"relayed\"}",
            2.0,
        ),
    ] {
        let got = harness::series(&metrics, series);
        if got != want {
            failures.push(format!(
                "{series} = {got}, expected {want} over {transport}"
            ));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n\n"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_phone_subscribes_and_messages_over_udp_and_tcp() {
    let Some(sipp) = sipp() else { return };
    let mut failures = Vec::new();
    for transport in [Transport::Udp, Transport::Tcp] {
        if let Err(e) = mwi_flow(sipp, transport).await {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

/// A 2-second subscription never refreshed: the phone hears the SBC's own terminating NOTIFY and
/// the table is idle again, with no unsubscribe from anyone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_unrefreshed_subscription_expires_to_an_idle_table() {
    let Some(sipp) = sipp() else { return };
    let ports = [
        free_port(Transport::Udp),
        free_port(Transport::Udp),
        free_port(Transport::Udp),
    ];
    let sbc = start(
        ports,
        "[subscriptions]\nmin_expires_secs = 1\ngrace_secs = 1\n",
    )
    .await;
    let notifier = spawn_uas(sipp, "pbx-presence-expire.xml", ports[1]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let phone = run_phone(sipp, &sbc, "phone-mwi-expire.xml", None, Transport::Udp).await;
    let notifier = tokio::task::spawn_blocking(move || notifier.wait_with_output())
        .await
        .unwrap()
        .expect("sipp notifier");
    let (is_idle, metrics) = idle(&sbc).await;
    sbc.shutdown().await;
    assert!(
        phone.status.success() && !complained(&phone),
        "{}",
        summary("phone", &phone)
    );
    assert!(
        notifier.status.success(),
        "{}",
        summary("notifier", &notifier)
    );
    assert!(is_idle, "subscription left after expiry:\n{metrics}");
}
