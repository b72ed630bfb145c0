//! Tests of the metric families and their OpenMetrics text (pure: no sockets, no clock).

use super::labels::*;
use super::*;
use bytes::Bytes;

fn text(m: &Metrics) -> String {
    m.encode().expect("encoding into a String cannot fail")
}

/// The value of the one sample line that starts with `series` (name plus labels).
fn sample(text: &str, series: &str) -> Option<String> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(str::to_owned)
}

/// Puts one sample into every family.
pub(super) fn touch_all(m: &Metrics) {
    m.peer_up("pbx", true);
    m.trunk_registered("trunk", true);
    m.registrations_behind_nat(2);
    m.keepalive(true);
    m.keepalive(false);
    m.binding_withdrawn();
    m.registration(crate::metrics::labels::RegistrationResult::Relayed, 1);
    m.call_started("pbx");
    m.call_ringing(std::time::Duration::from_millis(50));
    m.call_answered("pbx", std::time::Duration::from_millis(700));
    m.call_ended("pbx", Some(486));
    m.sip_request(&Method::Ack, "access", Transport::Udp, Direction::In);
    m.sip_response(200, &Method::Bye, "access", Transport::Udp, Direction::Out);
    m.transaction_started(TransactionKind::ServerInvite);
    m.transaction_timeout(TransactionKind::ServerInvite, TimerLabel::H);
    m.retransmission(TransactionKind::ServerInvite);
    m.parse_error("bad_start_line", Transport::Udp);
    m.dropped(DropReason::QueueFull);
    m.connection_accepted("access", Transport::Tls);
    m.connection_closed("access", Transport::Tls, CloseReason::Shutdown);
    m.tls_handshake_failed("access");
    m.tls_reload("access", ReloadResult::Ok);
    m.tls_certificate_expiry("access", 1);
    m.policy_decision("scanner", "ban");
    m.policy_reload(ReloadResult::Ok);
    m.policy_tables(1, 2, 3, 4);
    m.call_record(crate::metrics::ops::RecordResult::Written);
    m.config_reload(crate::metrics::labels::ReloadResult::Ok);
    m.draining(false);
    m.subscriptions_active("message-summary", 1);
    touch_media(m);
    m.media_refused("transport");
}

/// Puts one sample into every media family.
pub(super) fn touch_media(m: &Metrics) {
    let media = m.media();
    let counters = media.stream_counters("access");
    counters.packets_in.inc();
    media.stream_active("access", 1);
    media.port_pairs("access", 1, 0, 9);
    media.inactivity_timeout();
}

#[test]
fn known_series_start_at_zero() {
    let t = text(&Metrics::new());
    for series in [
        r#"sbc_sip_transactions_total{kind="server_non_invite"}"#,
        r#"sbc_sip_transactions_active{kind="client_invite"}"#,
        r#"sbc_sip_retransmissions_total{kind="client_non_invite"}"#,
        r#"sbc_sip_dropped_total{reason="broadcast_target"}"#,
    ] {
        assert_eq!(sample(&t, series).as_deref(), Some("0"), "{series}\n{t}");
    }
}

#[test]
fn every_family_is_declared_with_build_info_set() {
    let m = Metrics::new();
    touch_all(&m);
    let t = text(&m);
    for name in names::ALL {
        assert!(
            t.contains(&format!("# TYPE {name} ")),
            "{name} missing:\n{t}"
        );
    }
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        sample(&t, &format!("sbc_build_info{{version=\"{version}\"}}")).as_deref(),
        Some("1")
    );
    assert!(t.ends_with("# EOF\n"));
}

#[test]
fn sip_messages_are_counted_with_bounded_labels() {
    let m = Metrics::new();
    m.sip_request(&Method::Invite, "access", Transport::Tls, Direction::In);
    m.sip_request(&Method::Invite, "access", Transport::Tls, Direction::In);
    m.sip_request(
        &Method::Other(Bytes::from_static(b"X-CALLID-abc123")),
        "core",
        Transport::Udp,
        Direction::Out,
    );
    m.sip_response(
        180,
        &Method::Invite,
        "access",
        Transport::Tls,
        Direction::Out,
    );
    m.sip_response(
        486,
        &Method::Invite,
        "access",
        Transport::Tls,
        Direction::Out,
    );
    m.sip_response(
        99,
        &Method::Invite,
        "access",
        Transport::Tls,
        Direction::Out,
    );
    let t = text(&m);
    assert_eq!(
        sample(
            &t,
            r#"sbc_sip_requests_total{method="INVITE",realm="access",transport="tls",direction="in"}"#
        )
        .as_deref(),
        Some("2")
    );
    assert_eq!(
        sample(
            &t,
            r#"sbc_sip_requests_total{method="other",realm="core",transport="udp",direction="out"}"#
        )
        .as_deref(),
        Some("1")
    );
    assert!(
        !t.contains("X-CALLID"),
        "an unknown method token leaked into a label"
    );
    for class in ["1xx", "4xx"] {
        let series = format!(
            r#"sbc_sip_responses_total{{status_class="{class}",method="INVITE",realm="access",transport="tls",direction="out"}}"#
        );
        assert_eq!(sample(&t, &series).as_deref(), Some("1"), "{series}");
    }
    assert_eq!(t.matches("sbc_sip_responses_total{").count(), 2);
}

#[test]
fn transactions_count_and_track_the_active_gauge() {
    let m = Metrics::new();
    m.transaction_started(TransactionKind::ClientInvite);
    m.transaction_started(TransactionKind::ClientInvite);
    m.transaction_ended(TransactionKind::ClientInvite);
    m.retransmission(TransactionKind::ClientInvite);
    m.transaction_timeout(TransactionKind::ClientNonInvite, TimerLabel::F);
    let t = text(&m);
    let get = |s: &str| sample(&t, s);
    assert_eq!(
        get(r#"sbc_sip_transactions_total{kind="client_invite"}"#).as_deref(),
        Some("2")
    );
    assert_eq!(
        get(r#"sbc_sip_transactions_active{kind="client_invite"}"#).as_deref(),
        Some("1")
    );
    assert_eq!(
        get(r#"sbc_sip_retransmissions_total{kind="client_invite"}"#).as_deref(),
        Some("1")
    );
    assert_eq!(
        get(r#"sbc_sip_transaction_timeouts_total{kind="client_non_invite",timer="F"}"#).as_deref(),
        Some("1")
    );
}

#[test]
fn errors_drops_and_connections_are_counted() {
    let m = Metrics::new();
    m.parse_error("bad_content_length", Transport::Tcp);
    m.dropped(DropReason::StrayResponse);
    m.connection_accepted("access", Transport::Tcp);
    m.connection_accepted("access", Transport::Tcp);
    m.connection_closed("access", Transport::Tcp, CloseReason::Idle);
    m.connection_rejected("access", Transport::Tcp, RejectReason::PerSourceLimit);
    m.tls_handshake_failed("access");
    m.tls_reload("access", ReloadResult::Error);
    m.tls_certificate_expiry("access", 2_000_000_000);
    let t = text(&m);
    for (series, value) in [
        (
            r#"sbc_sip_parse_errors_total{reason="bad_content_length",transport="tcp"}"#,
            "1",
        ),
        (r#"sbc_sip_dropped_total{reason="stray_response"}"#, "1"),
        (
            r#"sbc_connections_accepted_total{realm="access",transport="tcp"}"#,
            "2",
        ),
        (
            r#"sbc_connections_open{realm="access",transport="tcp"}"#,
            "1",
        ),
        (
            r#"sbc_connections_closed_total{realm="access",transport="tcp",reason="idle"}"#,
            "1",
        ),
        (
            r#"sbc_connections_rejected_total{realm="access",transport="tcp",reason="per_source_limit"}"#,
            "1",
        ),
        (
            r#"sbc_connections_rejected_total{realm="access",transport="tls",reason="tls_handshake"}"#,
            "1",
        ),
        (r#"sbc_tls_handshake_failures_total{realm="access"}"#, "1"),
        (
            r#"sbc_tls_certificate_reloads_total{realm="access",result="error"}"#,
            "1",
        ),
        (
            r#"sbc_tls_certificate_expiry_timestamp_seconds{realm="access"}"#,
            "2000000000",
        ),
    ] {
        assert_eq!(sample(&t, series).as_deref(), Some(value), "{series}\n{t}");
    }
}

#[test]
fn status_classes_cover_exactly_100_to_699() {
    assert_eq!(StatusClass::of(99), None);
    assert_eq!(StatusClass::of(100), Some(StatusClass::Provisional1xx));
    assert_eq!(StatusClass::of(699), Some(StatusClass::GlobalFailure6xx));
    assert_eq!(StatusClass::of(700), None);
}

#[test]
fn every_known_method_has_its_wire_name() {
    for token in [
        "INVITE",
        "ACK",
        "BYE",
        "CANCEL",
        "REGISTER",
        "OPTIONS",
        "PRACK",
        "UPDATE",
        "INFO",
        "MESSAGE",
        "REFER",
        "SUBSCRIBE",
        "NOTIFY",
        "PUBLISH",
    ] {
        let method = Method::from_bytes(&Bytes::from_static(token.as_bytes()));
        assert_eq!(MethodLabel::from(&method).as_str(), token);
    }
}

#[test]
fn call_families_count_attempts_answers_failures_and_setup() {
    let m = Metrics::new();
    m.call_started("pbx");
    m.call_started("pbx");
    assert_eq!(m.calls_active(), 2);
    m.call_ringing(std::time::Duration::from_millis(80));
    m.call_answered("pbx", std::time::Duration::from_millis(900));
    m.call_ended("pbx", None);
    m.call_ended("pbx", Some(486));
    assert_eq!(m.calls_active(), 0);
    let t = text(&m);
    assert_eq!(
        sample(&t, r#"sbc_calls_total{peer="pbx"}"#).as_deref(),
        Some("2")
    );
    assert_eq!(
        sample(&t, r#"sbc_calls_answered_total{peer="pbx"}"#).as_deref(),
        Some("1")
    );
    assert_eq!(
        sample(
            &t,
            r#"sbc_calls_failed_total{peer="pbx",status_class="4xx"}"#
        )
        .as_deref(),
        Some("1")
    );
    assert_eq!(
        sample(&t, r#"sbc_call_setup_seconds_count{stage="answer"}"#).as_deref(),
        Some("1")
    );
    assert_eq!(
        sample(&t, r#"sbc_call_setup_seconds_count{stage="ringing"}"#).as_deref(),
        Some("1")
    );
}
