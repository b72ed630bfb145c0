//! Every metric name the SBC exports, in one place (pure data).
//!
//! Names carry the `sbc_` prefix and their unit (`_bytes`, `_seconds`). Counters are registered
//! without `_total`: the OpenMetrics encoder appends it, so [`SIP_REQUESTS`] is scraped as
//! `sbc_sip_requests_total`. Gauges are scraped under exactly the name given here. Label sets are
//! in [`super::labels`]; none of them carries a Call-ID, a user or an IP address.

/// Counter `sbc_sip_requests_total{method, realm, transport, direction}`: SIP requests received
/// (`direction="in"`) or sent (`direction="out"`).
pub const SIP_REQUESTS: &str = "sbc_sip_requests";

/// Counter `sbc_sip_responses_total{status_class, method, realm, transport, direction}`: SIP
/// responses by class (`1xx`..`6xx`) and the method of the request they answer.
pub const SIP_RESPONSES: &str = "sbc_sip_responses";

/// Counter `sbc_sip_transactions_total{kind}`: transactions created (RFC 3261 §17), by kind.
pub const SIP_TRANSACTIONS: &str = "sbc_sip_transactions";

/// Gauge `sbc_sip_transactions_active{kind}`: transactions currently alive.
pub const SIP_TRANSACTIONS_ACTIVE: &str = "sbc_sip_transactions_active";

/// Counter `sbc_sip_transaction_timeouts_total{kind, timer}`: transactions ended by a timeout
/// timer (B, F, H, ...).
pub const SIP_TRANSACTION_TIMEOUTS: &str = "sbc_sip_transaction_timeouts";

/// Counter `sbc_sip_retransmissions_total{kind}`: retransmissions sent by the transaction layer.
pub const SIP_RETRANSMISSIONS: &str = "sbc_sip_retransmissions";

/// Counter `sbc_sip_parse_errors_total{reason, transport}`: messages that could not be parsed.
pub const SIP_PARSE_ERRORS: &str = "sbc_sip_parse_errors";

/// Counter `sbc_sip_dropped_total{reason}`: messages dropped without an answer.
pub const SIP_DROPPED: &str = "sbc_sip_dropped";

/// Gauge `sbc_connections_open{realm, transport}`: TCP/TLS connections currently open.
pub const CONNECTIONS_OPEN: &str = "sbc_connections_open";

/// Counter `sbc_connections_accepted_total{realm, transport}`: connections accepted (for TLS:
/// after a completed handshake).
pub const CONNECTIONS_ACCEPTED: &str = "sbc_connections_accepted";

/// Counter `sbc_connections_rejected_total{realm, transport, reason}`: connections refused.
pub const CONNECTIONS_REJECTED: &str = "sbc_connections_rejected";

/// Counter `sbc_connections_closed_total{realm, transport, reason}`: connections closed.
pub const CONNECTIONS_CLOSED: &str = "sbc_connections_closed";

/// Counter `sbc_tls_handshake_failures_total{realm}`: TLS handshakes that failed.
pub const TLS_HANDSHAKE_FAILURES: &str = "sbc_tls_handshake_failures";

/// Counter `sbc_tls_certificate_reloads_total{realm, result}`: certificate reloads, `ok` or
/// `error` (an error keeps the previous certificate).
pub const TLS_CERTIFICATE_RELOADS: &str = "sbc_tls_certificate_reloads";

/// Gauge `sbc_tls_certificate_expiry_timestamp_seconds{realm}`: not-after time of the loaded
/// server certificate, in seconds since the Unix epoch.
pub const TLS_CERTIFICATE_EXPIRY: &str = "sbc_tls_certificate_expiry_timestamp_seconds";

/// Gauge `sbc_build_info{version}`: always 1; the label carries the crate version.
pub const BUILD_INFO: &str = "sbc_build_info";

/// Calls routed to a peer (attempts), by peer.
pub const CALLS: &str = "sbc_calls";

/// Calls answered (2xx relayed to the caller), by peer.
pub const CALLS_ANSWERED: &str = "sbc_calls_answered";

/// Calls that ended without an answer, by peer and final status class.
pub const CALLS_FAILED: &str = "sbc_calls_failed";

/// Calls in progress (either leg alive).
pub const CALLS_ACTIVE: &str = "sbc_calls_active";

/// Phone registrations held by the registration relay.
pub const REGISTRATIONS_ACTIVE: &str = "sbc_registrations_active";

/// Phone registrations whose REGISTER looked NAT'd (Via, Contact or SDP against the source).
pub const REGISTRATIONS_BEHIND_NAT: &str = "sbc_registrations_behind_nat";

/// Keep-alive OPTIONS to registered phones, sent and failed (no response: binding removed).
pub const KEEPALIVES: &str = "sbc_keepalives";

/// Phone bindings withdrawn at the PBX after they went (keep-alives failed, connection closed,
/// phone stopped refreshing).
pub const BINDINGS_WITHDRAWN: &str = "sbc_bindings_withdrawn";

/// REGISTERs from phones by outcome: relayed to the PBX, answered from cache, or rejected.
pub const REGISTRATIONS: &str = "sbc_registrations";

/// Whether a peer has at least one address available (1) or none (0), from OPTIONS probes and
/// call outcomes.
pub const PEER_UP: &str = "sbc_peer_up";

/// Whether the SBC's own registration with a trunk is in force (1) or not (0).
pub const TRUNK_REGISTERED: &str = "sbc_trunk_registered";

/// Time from the caller's INVITE to the first ringing (180/183) and to the answer (2xx).
pub const CALL_SETUP_SECONDS: &str = "sbc_call_setup_seconds";

/// Counter `sbc_policy_decisions_total{rule, action}`: edge-policy decisions by what fired
/// (`acl`, `ban`, `scanner`, `rate_limit`, `auth_failure`, fraud kinds) and what was done
/// (`drop`, `reject`, `ban`, `warn`, `shadow`, `end`).
pub const POLICY_DECISIONS: &str = "sbc_policy_decisions";

/// Counter `sbc_policy_reload_total{result}`: policy loads after start, `ok` or `error` (an
/// error keeps the previous policy in force).
pub const POLICY_RELOAD: &str = "sbc_policy_reload";

/// Gauge `sbc_policy_bans_active`: sources currently banned.
pub const POLICY_BANS_ACTIVE: &str = "sbc_policy_bans_active";

/// Gauge `sbc_policy_table_keys{table}`: keys held by the bounded policy tables (`limiter`,
/// `scores`, `fraud`).
pub const POLICY_TABLE_KEYS: &str = "sbc_policy_table_keys";
/// Counter `sbc_call_records_total{result}`: call records `written`, `dropped` (writer queue
/// full) or `failed` (write error).
pub const CALL_RECORDS: &str = "sbc_call_records";

/// Counter `sbc_config_reloads_total{result}`: configuration reloads, `ok` or `error` (an error
/// keeps the running configuration).
pub const CONFIG_RELOADS: &str = "sbc_config_reloads";

/// Gauge `sbc_draining`: 1 while the SBC drains before stopping, else 0.
pub const DRAINING: &str = "sbc_draining";
/// Gauge `sbc_subscriptions_active{event}`: subscription dialogs held, by event package.
pub const SUBSCRIPTIONS_ACTIVE: &str = "sbc_subscriptions_active";

/// Counter `sbc_notifies_total{result}`: NOTIFYs toward subscribers, `relayed` or `failed`.
pub const NOTIFIES: &str = "sbc_notifies";

/// Counter `sbc_messages_total{method, result}`: out-of-dialog MESSAGE and PUBLISH, `relayed`,
/// `blocked` (refused by the SBC) or `failed`.
pub const MESSAGES: &str = "sbc_messages";
/// Gauge `sbc_media_streams_active{realm}`: media streams relayed, counted once per leg in the
/// leg's realm.
pub const MEDIA_STREAMS_ACTIVE: &str = "sbc_media_streams_active";

/// Counter `sbc_media_packets_total{realm, direction}`: RTP/RTCP packets received from
/// (`in`) or sent to (`out`) the far ends of a realm.
pub const MEDIA_PACKETS: &str = "sbc_media_packets";

/// Counter `sbc_media_bytes_total{realm, direction}`: the bytes of those packets.
pub const MEDIA_BYTES: &str = "sbc_media_bytes";

/// Counter `sbc_media_dropped_total{realm, reason}`: media packets dropped (foreign source, not
/// latched, SRTP authentication, replay, malformed, not media, no destination, send error).
pub const MEDIA_DROPPED: &str = "sbc_media_dropped";

/// Gauge `sbc_media_port_pairs{realm, state}`: relay port pairs `in_use`, `quarantined` or
/// `free`; their sum is the realm's capacity.
pub const MEDIA_PORT_PAIRS: &str = "sbc_media_port_pairs";

/// Counter `sbc_media_latch_events_total{realm, event}`: sources `locked` and `relatched`.
pub const MEDIA_LATCH_EVENTS: &str = "sbc_media_latch_events";

/// Counter `sbc_media_inactivity_timeouts_total`: calls reported for ending because no media
/// flowed for the inactivity timeout.
pub const MEDIA_INACTIVITY_TIMEOUTS: &str = "sbc_media_inactivity_timeouts";

/// Counter `sbc_media_refused_total{reason}`: offers and answers refused because no line could
/// be anchored (`transport`, `srtp_policy`, `bad_sdp`, `multipart`: 488) or the relay had no
/// resources (`ports_exhausted`, `relay_unavailable`: 503; `internal`: 500).
pub const MEDIA_REFUSED: &str = "sbc_media_refused";

/// Every name above, for tests and documentation tooling.
pub const ALL: &[&str] = &[
    SIP_REQUESTS,
    SIP_RESPONSES,
    SIP_TRANSACTIONS,
    SIP_TRANSACTIONS_ACTIVE,
    SIP_TRANSACTION_TIMEOUTS,
    SIP_RETRANSMISSIONS,
    SIP_PARSE_ERRORS,
    SIP_DROPPED,
    CONNECTIONS_OPEN,
    CONNECTIONS_ACCEPTED,
    CONNECTIONS_REJECTED,
    CONNECTIONS_CLOSED,
    TLS_HANDSHAKE_FAILURES,
    TLS_CERTIFICATE_RELOADS,
    TLS_CERTIFICATE_EXPIRY,
    BUILD_INFO,
    CALLS,
    CALLS_ANSWERED,
    CALLS_FAILED,
    CALLS_ACTIVE,
    CALL_SETUP_SECONDS,
    PEER_UP,
    TRUNK_REGISTERED,
    REGISTRATIONS_ACTIVE,
    REGISTRATIONS_BEHIND_NAT,
    KEEPALIVES,
    BINDINGS_WITHDRAWN,
    REGISTRATIONS,
    POLICY_DECISIONS,
    POLICY_RELOAD,
    POLICY_BANS_ACTIVE,
    POLICY_TABLE_KEYS,
    CALL_RECORDS,
    CONFIG_RELOADS,
    DRAINING,
    SUBSCRIPTIONS_ACTIVE,
    NOTIFIES,
    MESSAGES,
    MEDIA_STREAMS_ACTIVE,
    MEDIA_PACKETS,
    MEDIA_BYTES,
    MEDIA_DROPPED,
    MEDIA_PORT_PAIRS,
    MEDIA_LATCH_EVENTS,
    MEDIA_INACTIVITY_TIMEOUTS,
    MEDIA_REFUSED,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_prefixed_unique_and_counters_lack_total() {
        let mut seen = std::collections::HashSet::new();
        for name in ALL {
            assert!(name.starts_with("sbc_"), "{name}");
            assert!(!name.ends_with("_total"), "{name}: the encoder adds _total");
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{name}"
            );
            assert!(seen.insert(*name), "duplicate {name}");
        }
    }
}
