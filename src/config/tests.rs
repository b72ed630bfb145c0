//! Tests of the configuration entry points (pure, except the cases that load the shipped files
//! from the repository): unknown keys, syntax errors, error collection across kinds, and the
//! reference and loopback configurations.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::validate::testing::{BASE, check};
use super::*;

fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn lines(errors: &ConfigErrors) -> Vec<String> {
    errors.iter().map(ToString::to_string).collect()
}

#[test]
fn base_config_is_valid() {
    let config = check(BASE).expect("base config is valid");
    assert_eq!(config.realms.len(), 2);
    assert_eq!(config.peers.len(), 2);
    assert_eq!(config.routes.len(), 3);
    let access = config.realm("access").expect("access realm");
    assert_eq!(
        access.advertised_address,
        Some(Host::Name("sbc.example.com".into()))
    );
    let tls = access.tls.as_ref().expect("tls section");
    assert_eq!(tls.cert, Path::new("/cfg/server.crt"));
    assert_eq!(tls.client_auth, ClientAuth::Optional);
    assert_eq!(access.media.srtp, SrtpMode::Optional);
    assert_eq!(
        config.realm("core").expect("core").media.srtp,
        SrtpMode::Off
    );
}

#[test]
fn unknown_keys_are_reported_with_their_paths() {
    let text = BASE
        .replacen("ca = \"ca.crt\"", "ca = \"ca.crt\"\ncertificate = \"x\"", 1)
        .replacen("[sip]", "[sip]\nt3_ms = 100", 1)
        .replacen(
            "to_peer = \"pbx\"",
            "to_peer = \"pbx\"\nto_peers = \"pbx\"",
            1,
        );
    let text = format!("listen = \"0.0.0.0:5060\"\n{text}");
    let errors = check(&text).expect_err("unknown keys are errors");
    let mut got = lines(&errors);
    got.sort();
    assert_eq!(
        got,
        [
            "listen: unknown key",
            "realms[0].tls.certificate: unknown key",
            "routes[1].to_peers: unknown key",
            "sip.t3_ms: unknown key",
        ]
    );
}

#[test]
fn unknown_key_bad_address_and_missing_cert_are_all_reported() {
    let text = BASE
        .replacen("udp:127.0.0.1:5072", "udp:127.0.0.1:5o72", 1)
        .replacen(
            "name = \"core\"",
            "name = \"core\"\nlisten = \"udp:127.0.0.1:5072\"",
            1,
        )
        .replacen("cert = \"server.crt\"", "cert = \"missing.crt\"", 1);
    let errors = check(&text).expect_err("three problems");
    let got = lines(&errors);
    assert_eq!(got.len(), 3, "{got:#?}");
    assert_eq!(got[0], "realms[1].listen: unknown key");
    assert!(got[1].starts_with("realms[0].tls.cert: cannot read file /cfg/missing.crt"));
    assert!(got[2].starts_with("realms[1].listeners[0]: \"127.0.0.1:5o72\" is not"));
    assert_eq!(errors.to_string().lines().count(), 3);
}

#[test]
fn syntax_errors_stop_with_a_position() {
    let text = "[[realms]]\nname = \"access\"\nlisteners = [\"udp:127.0.0.1:5070\"\n";
    let errors = check(text).expect_err("unterminated array");
    assert_eq!(errors.len(), 1);
    let Some(ConfigError::Syntax { line, .. }) = errors.iter().next() else {
        panic!("expected a syntax error, got {errors}");
    };
    assert!(*line >= 3, "line {line}");
    assert_eq!(errors.to_string().lines().count(), 1);
}

#[test]
fn wrong_value_types_are_syntax_errors() {
    let text = BASE.replacen("port_min = 30000", "port_min = \"30000\"", 1);
    let errors = check(&text).expect_err("string where a number belongs");
    let line = errors.to_string();
    assert!(line.starts_with("line 13, column 12: "), "{line}");
}

#[test]
fn load_reports_an_unreadable_file() {
    let errors = load(Path::new("/nonexistent/sbc.toml")).expect_err("no such file");
    assert!(matches!(
        errors.iter().next(),
        Some(ConfigError::Read { .. })
    ));
    assert!(
        errors
            .to_string()
            .starts_with("cannot read configuration file /nonexistent/sbc.toml")
    );
}

#[test]
fn reference_config_loads() {
    let config = load(&repo_file("deploy/sbc.toml")).unwrap_or_else(|e| panic!("{e}"));
    let access = config.realm("access").expect("access realm");
    assert!(access.tls.is_some());
    assert!(access.advertised_address.is_some());
    assert!(config.realm("core").is_some());
    assert!(config.peer("pbx").is_some());
    assert!(config.peer("trunk").is_some());
    assert!(!config.routes.is_empty());
}

#[test]
fn loopback_contract_holds() {
    let config =
        load(&repo_file("tests/data/configs/loopback.toml")).unwrap_or_else(|e| panic!("{e}"));
    let listeners = |realm: &str| -> Vec<String> {
        let realm = config.realm(realm).expect("realm");
        realm.listeners.iter().map(ToString::to_string).collect()
    };
    assert_eq!(
        listeners("access"),
        [
            "udp:127.0.0.1:5070",
            "tcp:127.0.0.1:5070",
            "tls:127.0.0.1:5071"
        ]
    );
    assert_eq!(listeners("core"), ["udp:127.0.0.1:5072"]);
    let tls = config
        .realm("access")
        .and_then(|r| r.tls.as_ref())
        .expect("tls");
    assert!(tls.cert.ends_with("certs/dev/server.crt"));
    let pbx = config.peer("pbx").expect("pbx peer");
    assert_eq!(pbx.realm, "core");
    assert_eq!(pbx.addresses[0].to_string(), "udp:127.0.0.1:5080");
    let route = &config.routes[0];
    assert_eq!(route.from_realm.as_deref(), Some("access"));
    assert_eq!(route.target, RouteTarget::Peer("pbx".into()));
    for realm in &config.realms {
        assert_eq!(
            realm.media.address,
            "127.0.0.1".parse::<std::net::IpAddr>().unwrap()
        );
        assert!(realm.media.port_min >= 30_000 && realm.media.port_max <= 39_999);
    }
    let metrics: SocketAddr = "127.0.0.1:9090".parse().unwrap();
    assert_eq!(config.metrics.listen, metrics);
}

#[test]
fn invalid_example_reports_three_problems() {
    let errors = load(&repo_file("tests/data/configs/invalid-three-errors.toml"))
        .expect_err("the example is invalid");
    assert_eq!(errors.len(), 3, "{errors}");
    let kinds: Vec<&str> = errors
        .iter()
        .map(|e| match e {
            ConfigError::UnknownKey { .. } => "unknown",
            ConfigError::Invalid {
                problem: Problem::Address(_),
                ..
            } => "address",
            ConfigError::Invalid {
                problem: Problem::File { .. },
                ..
            } => "file",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["unknown", "file", "address"]);
}
