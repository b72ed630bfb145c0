//! The Grafana dashboard and the Prometheus files against the metrics the SBC exports (pure: reads
//! files, opens no socket).
//!
//! The sample names the SBC exposes come from its own encoder: [`sbc::metrics::Metrics::encode`]
//! writes a `# TYPE <family> <type>` line for every family that has a series (the test puts one in
//! each), and the type says which sample names Prometheus sees (`<family>_total` for a counter, `<family>` for a gauge, ...). A
//! PromQL expression may only name those samples, and every family in
//! [`sbc::metrics::names::ALL`] must appear on the dashboard.

use sbc::config::Transport;
use sbc::metrics::labels::{
    CloseReason, Direction, DropReason, RejectReason, ReloadResult, TimerLabel, TransactionKind,
};
use sbc::metrics::{Metrics, names};
use sbc::sip::Method;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const DASHBOARD: &str = "grafana/dashboards/sbc.json";
const ALERTS: &str = "deploy/alerts.yml";
const PROMETHEUS: &str = "deploy/prometheus.yml";
const REFERENCE_CONFIG: &str = "deploy/sbc.toml";

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The SBC's exposition with one series in every family (a family without a series is not
/// written at all).
fn exposition() -> String {
    let m = Metrics::new();
    m.sip_request(&Method::Invite, "access", Transport::Udp, Direction::In);
    m.sip_response(
        200,
        &Method::Invite,
        "access",
        Transport::Udp,
        Direction::Out,
    );
    m.transaction_started(TransactionKind::ServerInvite);
    m.transaction_timeout(TransactionKind::ServerInvite, TimerLabel::H);
    m.retransmission(TransactionKind::ServerInvite);
    m.parse_error("bad_start_line", Transport::Udp);
    m.dropped(DropReason::QueueFull);
    m.connection_accepted("access", Transport::Tls);
    m.connection_rejected("access", Transport::Tcp, RejectReason::PerSourceLimit);
    m.connection_closed("access", Transport::Tls, CloseReason::Idle);
    m.tls_handshake_failed("access");
    m.tls_reload("access", ReloadResult::Error);
    m.tls_certificate_expiry("access", 2_000_000_000);
    m.peer_up("pbx", false);
    m.trunk_registered("trunk", false);
    m.registrations_behind_nat(1);
    m.keepalive(true);
    m.keepalive(false);
    m.binding_withdrawn();
    m.registration(sbc::metrics::labels::RegistrationResult::Cached, 3);
    m.call_started("pbx");
    m.call_ringing(std::time::Duration::from_millis(80));
    m.call_answered("pbx", std::time::Duration::from_millis(900));
    m.call_ended("pbx", Some(486));
    m.policy_decision("scanner", "ban");
    m.policy_reload(ReloadResult::Error);
    m.policy_tables(1, 2, 3, 4);
    m.call_record(sbc::metrics::ops::RecordResult::Dropped);
    m.config_reload(ReloadResult::Error);
    m.draining(true);
    m.subscriptions_active("message-summary", 1);
    let media = m.media();
    media.stream_counters("access").packets_in.inc();
    media.stream_active("access", 1);
    media.port_pairs("access", 1, 0, 9);
    media.inactivity_timeout();
    m.media_refused("ports_exhausted");
    m.encode().expect("metrics encode")
}

/// Sample name → family name, for every family in the SBC's exposition.
fn exposed_samples() -> BTreeMap<String, String> {
    let text = exposition();
    let mut samples = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("# TYPE ") else {
            continue;
        };
        let (family, kind) = rest.split_once(' ').expect("# TYPE <name> <type>");
        let suffixes: &[&str] = match kind {
            "counter" => &["_total"],
            "histogram" | "gaugehistogram" => &["_bucket", "_sum", "_count"],
            "summary" => &["", "_sum", "_count"],
            "info" => &["_info"],
            _ => &[""],
        };
        for suffix in suffixes {
            samples.insert(format!("{family}{suffix}"), family.to_owned());
        }
    }
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let name = line.split(['{', ' ']).next().unwrap_or(line);
        assert!(
            samples.contains_key(name),
            "sample {name} of no declared type"
        );
    }
    let families: BTreeSet<&str> = samples.values().map(String::as_str).collect();
    let declared: BTreeSet<&str> = names::ALL.iter().copied().collect();
    assert_eq!(
        families, declared,
        "the registry and names::ALL disagree on the metric families"
    );
    samples
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b':'
}

/// A PromQL expression with the contents of its string literals removed (`"..."` becomes `""`),
/// so label values are never mistaken for metric names or range selectors.
fn without_strings(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut chars = expr.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if matches!(c, '"' | '\'' | '`') {
            while let Some(inner) = chars.next() {
                if inner == c {
                    out.push(c);
                    break;
                }
                if inner == '\\' && c != '`' {
                    chars.next();
                }
            }
        }
    }
    out
}

/// Every identifier starting with `sbc_` in a PromQL expression, outside string literals.
fn sbc_identifiers(expr: &str) -> Vec<String> {
    without_strings(expr)
        .split(|c: char| !(c.is_ascii() && is_name_byte(c as u8)))
        .filter(|word| word.starts_with("sbc_"))
        .map(str::to_owned)
        .collect()
}

/// Every range selector (`[...]`) in a PromQL expression, outside string literals.
fn range_selectors(expr: &str) -> Vec<String> {
    without_strings(expr)
        .split('[')
        .skip(1)
        .map(|rest| format!("[{}]", rest.split(']').next().unwrap_or(rest)))
        .collect()
}

/// Checks that every `sbc_` name in `exprs` is an exposed sample; returns the families used.
fn families_used(exprs: &[String], samples: &BTreeMap<String, String>) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    let mut unknown = Vec::new();
    for expr in exprs {
        for name in sbc_identifiers(expr) {
            match samples.get(&name) {
                Some(family) => {
                    used.insert(family.clone());
                }
                None => unknown.push(format!("{name} in `{expr}`")),
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "names the SBC does not export (exposed: {:?}):\n{}",
        samples.keys().collect::<Vec<_>>(),
        unknown.join("\n")
    );
    used
}

/// Every value under an `"expr"` key, at any depth (rows may nest panels).
fn collect_exprs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("expr", Value::String(expr)) => out.push(expr.clone()),
                    _ => collect_exprs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_exprs(v, out)),
        _ => {}
    }
}

/// Every panel, rows' nested panels included.
fn collect_panels<'a>(panels: &'a [Value], out: &mut Vec<&'a Value>) {
    for panel in panels {
        out.push(panel);
        if let Some(nested) = panel["panels"].as_array() {
            collect_panels(nested, out);
        }
    }
}

fn dashboard() -> Value {
    serde_json::from_str(&read(DASHBOARD)).expect("the dashboard is valid JSON")
}

fn variable<'a>(dashboard: &'a Value, name: &str) -> &'a Value {
    dashboard["templating"]["list"]
        .as_array()
        .expect("templating.list")
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no template variable {name}"))
}

#[test]
fn dashboard_uses_exported_names_and_every_family() {
    let samples = exposed_samples();
    let dashboard = dashboard();

    let mut exprs = Vec::new();
    collect_exprs(&dashboard["panels"], &mut exprs);
    assert!(!exprs.is_empty(), "no panel has an expr");
    for var in dashboard["templating"]["list"].as_array().unwrap() {
        if var["type"] == "query" {
            let query = &var["query"];
            let text = query["query"].as_str().or(query.as_str());
            exprs.push(text.expect("a query variable has a query").to_owned());
        }
    }

    let used = families_used(&exprs, &samples);
    let missing: Vec<&str> = names::ALL
        .iter()
        .copied()
        .filter(|family| !used.contains(*family))
        .collect();
    assert!(missing.is_empty(), "families with no panel: {missing:?}");
}

#[test]
fn dashboard_rates_use_the_rate_interval() {
    let mut exprs = Vec::new();
    collect_exprs(&dashboard()["panels"], &mut exprs);
    for expr in &exprs {
        for range in range_selectors(expr) {
            assert_eq!(range, "[$__rate_interval]", "in `{expr}`");
        }
    }
}

#[test]
fn dashboard_panels_use_the_datasource_variable() {
    let dashboard = dashboard();
    assert_eq!(variable(&dashboard, "DS_PROMETHEUS")["type"], "datasource");
    assert_eq!(variable(&dashboard, "DS_PROMETHEUS")["query"], "prometheus");
    assert_eq!(
        variable(&dashboard, "realm")["query"]["query"],
        "label_values(sbc_sip_requests_total, realm)"
    );

    let mut panels = Vec::new();
    collect_panels(dashboard["panels"].as_array().expect("panels"), &mut panels);
    let mut ids = BTreeSet::new();
    for panel in panels {
        let title = panel["title"].as_str().unwrap_or("?");
        assert!(ids.insert(panel["id"].as_u64()), "duplicate id: {title}");
        if panel["type"] == "row" {
            continue;
        }
        assert_eq!(panel["datasource"]["uid"], "${DS_PROMETHEUS}", "{title}");
        let targets = panel["targets"].as_array();
        assert!(targets.is_some_and(|t| !t.is_empty()), "{title}: no query");
        for target in targets.unwrap() {
            assert_eq!(target["datasource"]["uid"], "${DS_PROMETHEUS}", "{title}");
        }
    }
}

/// The PromQL of every `expr:` in a rules file: the rest of the line, or the indented block
/// after `expr: >-` / `expr: |`.
fn rule_exprs(yaml: &str) -> Vec<String> {
    let mut exprs = Vec::new();
    let mut lines = yaml.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(at) = line.find("expr:") else {
            continue;
        };
        if line.trim_start().starts_with('#') {
            continue;
        }
        let rest = line[at + "expr:".len()..].trim();
        if !rest.starts_with(['>', '|']) {
            exprs.push(rest.to_owned());
            continue;
        }
        let indent = at;
        let mut block = Vec::new();
        while let Some(next) = lines.peek() {
            let depth = next.len() - next.trim_start().len();
            if !next.trim().is_empty() && depth <= indent {
                break;
            }
            block.push(next.trim());
            lines.next();
        }
        exprs.push(block.join(" ").trim().to_owned());
    }
    exprs
}

/// Samples of the media relay and policy families the alert rules use
/// (`MediaPortPoolNearlyExhausted`, `PolicyReloadFailed`, `BanStorm`,
/// `SrtpAuthenticationFailures`); a build that does not export them yet still ships the rules.
const MEDIA_AND_POLICY_SAMPLES: &[&str] = &[
    "sbc_media_port_pool_in_use",
    "sbc_media_port_pool_capacity",
    "sbc_media_dropped_packets_total",
    "sbc_policy_reload_total",
    "sbc_policy_bans_active",
];

#[test]
fn alerts_reference_only_exported_names() {
    let mut samples = exposed_samples();
    for sample in MEDIA_AND_POLICY_SAMPLES {
        samples
            .entry((*sample).to_owned())
            .or_insert_with(|| (*sample).to_owned());
    }
    let yaml = read(ALERTS);
    let exprs = rule_exprs(&yaml);
    let alerts: BTreeSet<&str> = yaml
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert:"))
        .map(str::trim)
        .collect();
    assert_eq!(exprs.len(), alerts.len(), "one expr per alert");
    for alert in [
        "SbcDown",
        "TlsCertificateExpiringSoon",
        "TlsCertificateReloadFailed",
        "HighParseErrorRate",
        "SignalingQueueFull",
        "ConnectionsRejected",
        "PeerDown",
        "AnswerSeizureRatioLow",
        "CallFailuresHigh",
        "MediaPortPoolNearlyExhausted",
        "PolicyReloadFailed",
        "ConfigReloadFailed",
        "BanStorm",
        "SrtpAuthenticationFailures",
        "CallRecordsLost",
    ] {
        assert!(alerts.contains(alert), "missing alert {alert}");
    }
    let used = families_used(&exprs, &samples);
    assert!(used.contains(names::TLS_CERTIFICATE_EXPIRY), "{used:?}");
}

#[test]
fn prometheus_scrapes_the_reference_metrics_listener() {
    let config: toml::Table = toml::from_str(&read(REFERENCE_CONFIG)).expect("sbc.toml");
    let listen = config["metrics"]["listen"]
        .as_str()
        .expect("metrics.listen");
    let prometheus = read(PROMETHEUS);
    let lines: Vec<&str> = prometheus.lines().map(str::trim).collect();
    assert!(lines.contains(&"- job_name: sbc"), "job sbc");
    assert!(
        lines.contains(&format!("- {listen}").as_str()),
        "target {listen}"
    );
    assert!(lines.contains(&"- alerts.yml"), "rule_files alerts.yml");
}

#[test]
fn extraction_skips_strings_and_finds_every_name() {
    assert_eq!(
        sbc_identifiers(r#"sum(rate(sbc_a_total{job="sbc_x", r=~"a\"sbc_y"}[5m])) / sbc_b"#),
        ["sbc_a_total", "sbc_b"]
    );
    assert_eq!(sbc_identifiers("xsbc_a + sbc_b:rate5m"), ["sbc_b:rate5m"]);
    assert_eq!(
        range_selectors(r#"rate(a{l="[x]"}[1m]) + b[$__rate_interval]"#),
        ["[1m]", "[$__rate_interval]"]
    );
    let yaml = "  - alert: A\n    expr: up == 0\n  - alert: B\n    expr: >-\n      sum(\n      sbc_x)\n    for: 1m\n";
    assert_eq!(rule_exprs(yaml), ["up == 0", "sum( sbc_x)"]);
}
