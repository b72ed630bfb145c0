//! Prometheus metrics: the metric families (plain data, [`Metrics`]) and the HTTP endpoint that
//! serves them ([`http`], shell).
//!
//! One [`Metrics`] is created at start-up by [`Metrics::new`], which registers every family
//! once, and is handed to the tasks that count as `Arc<Metrics>`; there is no global registry.
//! Names live in [`names`], typed label sets in [`labels`]. Labels are bounded: realm names come
//! from the configuration, everything else is an enum or a `&'static str`; a Call-ID, user or IP
//! address is never a label. Exposition is OpenMetrics 1.0 text.

pub mod admin;
pub mod http;
pub mod labels;
pub mod media;
pub mod names;
pub mod ops;
pub mod policy;
pub mod refused;
pub mod signaling;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::config::Transport;
use crate::sip::Method;

pub use http::{Readiness, bind, serve};
use labels::{
    BuildLabels, CloseLabels, CloseReason, ConnectionLabels, Direction, DropLabels, DropReason,
    KindLabels, MethodLabel, ParseErrorLabels, RealmLabels, RejectLabels, RejectReason,
    ReloadLabels, ReloadResult, RequestLabels, ResponseLabels, StaticLabel, StatusClass,
    TimeoutLabels, TimerLabel, TransactionKind,
};
use labels::{
    KeepaliveLabels, KeepaliveResult, PeerLabels, PeerStatusLabels, RegistrationLabels,
    RegistrationResult, SetupStage, StageLabels,
};

/// The content type of [`Metrics::encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The registry and every metric family of the SBC. Cheap to share as `Arc<Metrics>`; every
/// method takes `&self` and is safe to call from any task.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    sip_requests: Family<RequestLabels, Counter>,
    sip_responses: Family<ResponseLabels, Counter>,
    transactions: Family<KindLabels, Counter>,
    transactions_active: Family<KindLabels, Gauge>,
    transaction_timeouts: Family<TimeoutLabels, Counter>,
    retransmissions: Family<KindLabels, Counter>,
    parse_errors: Family<ParseErrorLabels, Counter>,
    dropped: Family<DropLabels, Counter>,
    connections_open: Family<ConnectionLabels, Gauge>,
    connections_accepted: Family<ConnectionLabels, Counter>,
    connections_rejected: Family<RejectLabels, Counter>,
    connections_closed: Family<CloseLabels, Counter>,
    tls_handshake_failures: Family<RealmLabels, Counter>,
    tls_reloads: Family<ReloadLabels, Counter>,
    tls_expiry: Family<RealmLabels, Gauge>,
    calls: Family<PeerLabels, Counter>,
    calls_answered: Family<PeerLabels, Counter>,
    calls_failed: Family<PeerStatusLabels, Counter>,
    calls_active: Gauge,
    call_setup: Family<StageLabels, Histogram, fn() -> Histogram>,
    peer_up: Family<PeerLabels, Gauge>,
    trunk_registered: Family<PeerLabels, Gauge>,
    registrations_active: Gauge,
    registrations: Family<RegistrationLabels, Counter>,
    registrations_behind_nat: Gauge,
    keepalives: Family<KeepaliveLabels, Counter>,
    bindings_withdrawn: Counter,
    policy: policy::PolicyMetrics,
    ops: ops::OpsMetrics,
    signaling: signaling::SignalingFamilies,
    media: media::MediaMetrics,
    media_refused: refused::RefusedMetrics,
}

/// Buckets of `sbc_call_setup_seconds`: 10 ms to about 164 s.
fn setup_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Registers a family under `name` with `help` and returns the handle kept in [`Metrics`].
fn family<F: prometheus_client::registry::Metric + Clone + Default>(
    registry: &mut Registry,
    name: &str,
    help: &str,
) -> F {
    let family = F::default();
    registry.register(name, help, family.clone());
    family
}

impl Metrics {
    /// Creates the registry and registers every family, with `sbc_build_info` set to 1 and the
    /// series whose labels are all known in advance (transaction kinds, drop reasons) at 0, so
    /// `rate()` sees them from the first scrape. Families are exposed once they have a series.
    pub fn new() -> Self {
        let mut r = Registry::default();
        let build_info: Family<BuildLabels, Gauge> =
            family(&mut r, names::BUILD_INFO, "Build information; always 1");
        build_info
            .get_or_create(&BuildLabels {
                version: StaticLabel(env!("CARGO_PKG_VERSION")),
            })
            .set(1);
        Self {
            sip_requests: family(&mut r, names::SIP_REQUESTS, "SIP requests received or sent"),
            sip_responses: family(
                &mut r,
                names::SIP_RESPONSES,
                "SIP responses received or sent",
            ),
            transactions: family(&mut r, names::SIP_TRANSACTIONS, "SIP transactions created"),
            transactions_active: family(
                &mut r,
                names::SIP_TRANSACTIONS_ACTIVE,
                "SIP transactions currently alive",
            ),
            transaction_timeouts: family(
                &mut r,
                names::SIP_TRANSACTION_TIMEOUTS,
                "SIP transactions ended by a timeout timer",
            ),
            retransmissions: family(
                &mut r,
                names::SIP_RETRANSMISSIONS,
                "SIP retransmissions sent by the transaction layer",
            ),
            parse_errors: family(&mut r, names::SIP_PARSE_ERRORS, "SIP messages not parsed"),
            dropped: family(
                &mut r,
                names::SIP_DROPPED,
                "SIP messages dropped unanswered",
            ),
            connections_open: family(&mut r, names::CONNECTIONS_OPEN, "Connections open"),
            connections_accepted: family(
                &mut r,
                names::CONNECTIONS_ACCEPTED,
                "Connections accepted (TLS: after the handshake)",
            ),
            connections_rejected: family(
                &mut r,
                names::CONNECTIONS_REJECTED,
                "Connections refused",
            ),
            connections_closed: family(&mut r, names::CONNECTIONS_CLOSED, "Connections closed"),
            tls_handshake_failures: family(
                &mut r,
                names::TLS_HANDSHAKE_FAILURES,
                "TLS handshakes that failed",
            ),
            tls_reloads: family(
                &mut r,
                names::TLS_CERTIFICATE_RELOADS,
                "TLS certificate reloads; an error keeps the previous certificate",
            ),
            tls_expiry: family(
                &mut r,
                names::TLS_CERTIFICATE_EXPIRY,
                "Not-after time of the loaded TLS server certificate, Unix seconds",
            ),
            calls: family(&mut r, names::CALLS, "Calls routed to a peer"),
            calls_answered: family(&mut r, names::CALLS_ANSWERED, "Calls answered"),
            calls_failed: family(
                &mut r,
                names::CALLS_FAILED,
                "Calls that ended without an answer, by final status class",
            ),
            calls_active: family(&mut r, names::CALLS_ACTIVE, "Calls in progress"),
            call_setup: {
                let f: Family<StageLabels, Histogram, fn() -> Histogram> =
                    Family::new_with_constructor(setup_histogram);
                r.register(
                    names::CALL_SETUP_SECONDS,
                    "Time from the caller's INVITE to ringing and to answer",
                    f.clone(),
                );
                f
            },
            peer_up: family(
                &mut r,
                names::PEER_UP,
                "Whether a peer has an available address (1) or none (0)",
            ),
            trunk_registered: family(
                &mut r,
                names::TRUNK_REGISTERED,
                "Whether the SBC's registration with a trunk is in force (1) or not (0)",
            ),
            registrations_active: family(
                &mut r,
                names::REGISTRATIONS_ACTIVE,
                "Phone registrations held by the registration relay",
            ),
            registrations_behind_nat: family(
                &mut r,
                names::REGISTRATIONS_BEHIND_NAT,
                "Phone registrations that came from behind a NAT",
            ),
            keepalives: family(
                &mut r,
                names::KEEPALIVES,
                "Keep-alive OPTIONS to registered phones, sent and failed",
            ),
            bindings_withdrawn: family(
                &mut r,
                names::BINDINGS_WITHDRAWN,
                "Phone bindings withdrawn at the PBX after they went",
            ),
            registrations: family(
                &mut r,
                names::REGISTRATIONS,
                "REGISTERs from phones by outcome",
            ),
            policy: policy::PolicyMetrics::register(&mut r),
            ops: ops::OpsMetrics::register(&mut r),
            signaling: signaling::SignalingFamilies::register(&mut r),
            media: media::MediaMetrics::register(&mut r),
            media_refused: refused::RefusedMetrics::register(&mut r),
            registry: r,
        }
        .with_known_series()
    }

    /// Creates the series with fixed label sets at 0.
    fn with_known_series(self) -> Self {
        use TransactionKind::*;
        for kind in [ClientInvite, ClientNonInvite, ServerInvite, ServerNonInvite] {
            let labels = KindLabels { kind };
            let _ = self.transactions.get_or_create(&labels);
            let _ = self.transactions_active.get_or_create(&labels);
            let _ = self.retransmissions.get_or_create(&labels);
        }
        use DropReason::*;
        for reason in [StrayResponse, InvalidResponse, QueueFull, BroadcastTarget] {
            let _ = self.dropped.get_or_create(&DropLabels { reason });
        }
        use RegistrationResult::*;
        for result in [Relayed, Cached, Rejected] {
            let _ = self
                .registrations
                .get_or_create(&RegistrationLabels { result });
        }
        self
    }

    /// A call was routed to `peer`.
    pub fn call_started(&self, peer: &str) {
        self.calls
            .get_or_create(&PeerLabels {
                peer: peer.to_owned(),
            })
            .inc();
        self.calls_active.inc();
    }

    /// A call to `peer` was answered, `setup` after its INVITE.
    pub fn call_answered(&self, peer: &str, setup: std::time::Duration) {
        self.calls_answered
            .get_or_create(&PeerLabels {
                peer: peer.to_owned(),
            })
            .inc();
        self.call_setup
            .get_or_create(&StageLabels {
                stage: SetupStage::Answer,
            })
            .observe(setup.as_secs_f64());
    }

    /// A call started ringing, `setup` after its INVITE.
    pub fn call_ringing(&self, setup: std::time::Duration) {
        self.call_setup
            .get_or_create(&StageLabels {
                stage: SetupStage::Ringing,
            })
            .observe(setup.as_secs_f64());
    }

    /// A call ended; `failed_status` is the final status of a call that was never answered
    /// (`None` when it was answered).
    pub fn call_ended(&self, peer: &str, failed_status: Option<u16>) {
        self.calls_active.dec();
        if let Some(status_class) = failed_status.and_then(StatusClass::of) {
            self.calls_failed
                .get_or_create(&PeerStatusLabels {
                    peer: peer.to_owned(),
                    status_class,
                })
                .inc();
        }
    }

    /// Records whether `peer` has an available address.
    pub fn peer_up(&self, peer: &str, up: bool) {
        self.peer_up
            .get_or_create(&PeerLabels {
                peer: peer.to_owned(),
            })
            .set(i64::from(up));
    }

    /// Sets whether the SBC's registration with `peer` is in force.
    pub fn trunk_registered(&self, peer: &str, registered: bool) {
        self.trunk_registered
            .get_or_create(&PeerLabels {
                peer: peer.to_owned(),
            })
            .set(i64::from(registered));
    }

    /// Counts a phone's REGISTER by outcome and sets the number of bindings held.
    pub fn registration(&self, result: RegistrationResult, bindings: usize) {
        self.registrations
            .get_or_create(&RegistrationLabels { result })
            .inc();
        self.registrations_active(bindings);
    }

    /// Sets the number of bindings held.
    pub fn registrations_active(&self, bindings: usize) {
        self.registrations_active
            .set(i64::try_from(bindings).unwrap_or(i64::MAX));
    }

    /// Sets the number of phone registrations that came from behind a NAT.
    pub fn registrations_behind_nat(&self, bindings: usize) {
        self.registrations_behind_nat
            .set(i64::try_from(bindings).unwrap_or(i64::MAX));
    }

    /// Counts a keep-alive sent (`true`) or failed (`false`).
    pub fn keepalive(&self, sent: bool) {
        let result = if sent {
            KeepaliveResult::Sent
        } else {
            KeepaliveResult::Failed
        };
        self.keepalives
            .get_or_create(&KeepaliveLabels { result })
            .inc();
    }

    /// Counts a binding withdrawn at the PBX.
    pub fn binding_withdrawn(&self) {
        self.bindings_withdrawn.inc();
    }

    /// Calls in progress.
    pub fn calls_active(&self) -> i64 {
        self.calls_active.get()
    }

    /// The media relay's families.
    pub fn media(&self) -> &media::MediaMetrics {
        &self.media
    }

    /// Counts media refused at the anchoring seam; `reason` is a bounded, static word.
    pub fn media_refused(&self, reason: &'static str) {
        self.media_refused.refused(reason);
    }

    /// The registry, for encoders other than [`Metrics::encode`].
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Renders every family as OpenMetrics text (content type [`CONTENT_TYPE`]).
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::with_capacity(8 * 1024);
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }

    /// Counts a SIP request on a realm's transport. `realm` must be a configured realm name.
    pub fn sip_request(&self, method: &Method, realm: &str, transport: Transport, dir: Direction) {
        self.sip_requests
            .get_or_create(&RequestLabels {
                method: method.into(),
                realm: realm.to_owned(),
                transport,
                direction: dir,
            })
            .inc();
    }

    /// Counts a SIP response with status `code` to a `method` request. Codes outside 100..=699
    /// are not counted (the parser rejects them).
    pub fn sip_response(
        &self,
        code: u16,
        method: &Method,
        realm: &str,
        transport: Transport,
        dir: Direction,
    ) {
        let Some(status_class) = StatusClass::of(code) else {
            return;
        };
        self.sip_responses
            .get_or_create(&ResponseLabels {
                status_class,
                method: MethodLabel::from(method),
                realm: realm.to_owned(),
                transport,
                direction: dir,
            })
            .inc();
    }

    /// Counts a new transaction and adds it to the active gauge; pair with
    /// [`Metrics::transaction_ended`].
    pub fn transaction_started(&self, kind: TransactionKind) {
        let labels = KindLabels { kind };
        self.transactions.get_or_create(&labels).inc();
        self.transactions_active.get_or_create(&labels).inc();
    }

    /// Removes a transaction from the active gauge (whatever ended it).
    pub fn transaction_ended(&self, kind: TransactionKind) {
        self.transactions_active
            .get_or_create(&KindLabels { kind })
            .dec();
    }

    /// Counts a transaction ended by `timer` (call [`Metrics::transaction_ended`] too).
    pub fn transaction_timeout(&self, kind: TransactionKind, timer: TimerLabel) {
        self.transaction_timeouts
            .get_or_create(&TimeoutLabels { kind, timer })
            .inc();
    }

    /// Counts a retransmission sent by a transaction.
    pub fn retransmission(&self, kind: TransactionKind) {
        self.retransmissions
            .get_or_create(&KindLabels { kind })
            .inc();
    }

    /// Counts a message that failed to parse; `reason` is a bounded, static word such as
    /// `SipError::metric_reason()`.
    pub fn parse_error(&self, reason: &'static str, transport: Transport) {
        self.parse_errors
            .get_or_create(&ParseErrorLabels {
                reason: StaticLabel(reason),
                transport,
            })
            .inc();
    }

    /// Counts a message dropped without an answer.
    pub fn dropped(&self, reason: DropReason) {
        self.dropped.get_or_create(&DropLabels { reason }).inc();
    }

    /// Counts an accepted connection (for TLS: once the handshake completed) and adds it to the
    /// open gauge; pair with [`Metrics::connection_closed`].
    pub fn connection_accepted(&self, realm: &str, transport: Transport) {
        let labels = ConnectionLabels {
            realm: realm.to_owned(),
            transport,
        };
        self.connections_accepted.get_or_create(&labels).inc();
        self.connections_open.get_or_create(&labels).inc();
    }

    /// Counts a closed connection and removes it from the open gauge.
    pub fn connection_closed(&self, realm: &str, transport: Transport, reason: CloseReason) {
        let labels = ConnectionLabels {
            realm: realm.to_owned(),
            transport,
        };
        self.connections_open.get_or_create(&labels).dec();
        self.connections_closed
            .get_or_create(&CloseLabels {
                realm: labels.realm,
                transport,
                reason,
            })
            .inc();
    }

    /// Counts a connection refused before it was accepted.
    pub fn connection_rejected(&self, realm: &str, transport: Transport, reason: RejectReason) {
        self.connections_rejected
            .get_or_create(&RejectLabels {
                realm: realm.to_owned(),
                transport,
                reason,
            })
            .inc();
    }

    /// Counts a failed TLS handshake, both as a handshake failure and as a connection rejected
    /// with reason `tls_handshake` (such a connection is never counted as accepted).
    pub fn tls_handshake_failed(&self, realm: &str) {
        self.tls_handshake_failures
            .get_or_create(&RealmLabels {
                realm: realm.to_owned(),
            })
            .inc();
        self.connection_rejected(realm, Transport::Tls, RejectReason::TlsHandshake);
    }

    /// Counts a certificate reload attempt of a realm.
    pub fn tls_reload(&self, realm: &str, result: ReloadResult) {
        self.tls_reloads
            .get_or_create(&ReloadLabels {
                realm: realm.to_owned(),
                result,
            })
            .inc();
    }

    /// Sets the not-after time (Unix seconds) of a realm's loaded server certificate.
    pub fn tls_certificate_expiry(&self, realm: &str, not_after_unix: i64) {
        self.tls_expiry
            .get_or_create(&RealmLabels {
                realm: realm.to_owned(),
            })
            .set(not_after_unix);
    }
}

#[cfg(test)]
mod http_tests;
#[cfg(test)]
mod tests;
