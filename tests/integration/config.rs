//! `sbc check-config` end to end (shell): runs the built binary on the shipped configurations
//! and on a file with three problems, and checks exit status and output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn check_config(relative: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sbc"))
        .arg("check-config")
        .arg(repo_file(relative))
        .env_remove("RUST_LOG")
        .output()
        .expect("the sbc binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn reference_config_is_valid() {
    let output = check_config("deploy/sbc.toml");
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.starts_with("config OK: 2 realms, 2 peers, 5 routes; policy OK: "),
        "{stdout}"
    );
    assert!(output.stderr.is_empty(), "stderr: {}", text(&output.stderr));
}

#[test]
fn loopback_config_is_valid() {
    let output = check_config("tests/data/configs/loopback.toml");
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.starts_with("config OK: 2 realms, 1 peers, 1 routes; policy OK: "),
        "{stdout}"
    );
}

#[test]
fn every_problem_is_reported_in_one_run() {
    let output = check_config("tests/data/configs/invalid-three-errors.toml");
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "stdout: {}", text(&output.stdout));
    let stderr = text(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "stderr:\n{stderr}");
    let expected = [
        "realms[0].advertise_address: unknown key",
        "realms[0].tls.cert: cannot read file ",
        "realms[1].listeners[0]: \"127.0.0.256:5072\" is not an IP:PORT socket address",
    ];
    for (line, want) in lines.iter().zip(expected) {
        assert!(line.contains(want), "{line:?} does not contain {want:?}");
        assert!(line.starts_with(&*repo_file("tests/data/configs").to_string_lossy()));
    }
    assert!(lines[1].contains("missing.crt"), "{}", lines[1]);
}

#[test]
fn unreadable_file_fails() {
    let output = check_config("tests/data/configs/does-not-exist.toml");
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("cannot read configuration file"),
        "stderr: {stderr}"
    );
}

#[test]
fn run_refuses_an_invalid_config_before_starting() {
    let output = Command::new(env!("CARGO_BIN_EXE_sbc"))
        .args(["run", "--config"])
        .arg(repo_file("tests/data/configs/invalid-three-errors.toml"))
        .output()
        .expect("the sbc binary runs");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(text(&output.stderr).lines().count(), 3);
}
