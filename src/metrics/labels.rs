//! Typed, bounded label sets of the SBC's metric families (pure).
//!
//! Every label value is an enum with a fixed set of words, a `&'static str` from a bounded set
//! ([`StaticLabel`]), or a realm name from the configuration. Nothing derived from a message
//! (Call-ID, user, host, IP address) can become a label, so the number of series is bounded by
//! the configuration, not by traffic.

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use std::fmt::Write;

use crate::config::Transport;
use crate::sip::Method;

/// Implements `EncodeLabelValue` and `as_str` for a unit-variant enum from a word table.
macro_rules! label_words {
    ($type:ty { $($variant:ident => $word:literal),+ $(,)? }) => {
        impl $type {
            /// The label value written for this variant.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $word),+
                }
            }
        }

        impl prometheus_client::encoding::EncodeLabelValue for $type {
            fn encode(
                &self,
                encoder: &mut prometheus_client::encoding::LabelValueEncoder,
            ) -> Result<(), std::fmt::Error> {
                std::fmt::Write::write_str(encoder, self.as_str())
            }
        }
    };
}

pub(crate) use label_words;

impl EncodeLabelValue for Transport {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

/// A label value that must be a `&'static str` from a bounded set, such as
/// [`crate::error::SipError::metric_reason`]-style reasons. The `'static` bound keeps values
/// read off the wire out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StaticLabel(pub &'static str);

impl EncodeLabelValue for StaticLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.0)
    }
}

/// The method label: the known methods by name, everything else as `other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // the variants are the SIP methods of the same name
pub enum MethodLabel {
    Invite,
    Ack,
    Bye,
    Cancel,
    Register,
    Options,
    Prack,
    Update,
    Info,
    Message,
    Refer,
    Subscribe,
    Notify,
    Publish,
    /// An extension method; never its token, which the sender chooses.
    Other,
}

label_words!(MethodLabel {
    Invite => "INVITE", Ack => "ACK", Bye => "BYE", Cancel => "CANCEL",
    Register => "REGISTER", Options => "OPTIONS", Prack => "PRACK", Update => "UPDATE",
    Info => "INFO", Message => "MESSAGE", Refer => "REFER", Subscribe => "SUBSCRIBE",
    Notify => "NOTIFY", Publish => "PUBLISH", Other => "other",
});

impl From<&Method> for MethodLabel {
    fn from(method: &Method) -> Self {
        match method {
            Method::Invite => Self::Invite,
            Method::Ack => Self::Ack,
            Method::Bye => Self::Bye,
            Method::Cancel => Self::Cancel,
            Method::Register => Self::Register,
            Method::Options => Self::Options,
            Method::Prack => Self::Prack,
            Method::Update => Self::Update,
            Method::Info => Self::Info,
            Method::Message => Self::Message,
            Method::Refer => Self::Refer,
            Method::Subscribe => Self::Subscribe,
            Method::Notify => Self::Notify,
            Method::Publish => Self::Publish,
            Method::Other(_) => Self::Other,
        }
    }
}

/// Whether a message was received or sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Received from the network.
    In,
    /// Sent to the network.
    Out,
}

label_words!(Direction { In => "in", Out => "out" });

/// A response status class (RFC 3261 §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // the variants are the classes of the same name
pub enum StatusClass {
    Provisional1xx,
    Success2xx,
    Redirect3xx,
    ClientError4xx,
    ServerError5xx,
    GlobalFailure6xx,
}

label_words!(StatusClass {
    Provisional1xx => "1xx", Success2xx => "2xx", Redirect3xx => "3xx",
    ClientError4xx => "4xx", ServerError5xx => "5xx", GlobalFailure6xx => "6xx",
});

impl StatusClass {
    /// The class of a status code; `None` outside 100..=699 (the parser rejects those).
    pub fn of(code: u16) -> Option<Self> {
        Some(match code {
            100..=199 => Self::Provisional1xx,
            200..=299 => Self::Success2xx,
            300..=399 => Self::Redirect3xx,
            400..=499 => Self::ClientError4xx,
            500..=599 => Self::ServerError5xx,
            600..=699 => Self::GlobalFailure6xx,
            _ => return None,
        })
    }
}

/// The four RFC 3261 §17 transaction kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // the variants are the RFC 3261 §17.1.1, §17.1.2, §17.2.1, §17.2.2 kinds
pub enum TransactionKind {
    ClientInvite,
    ClientNonInvite,
    ServerInvite,
    ServerNonInvite,
}

label_words!(TransactionKind {
    ClientInvite => "client_invite", ClientNonInvite => "client_non_invite",
    ServerInvite => "server_invite", ServerNonInvite => "server_non_invite",
});

/// The RFC 3261 timer that ended a transaction (Table 4; L and M from RFC 6026).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // the variants are the timers of the same letter
pub enum TimerLabel {
    A,
    B,
    D,
    E,
    F,
    G,
    H,
    I,
    J,
    K,
    L,
    M,
}

label_words!(TimerLabel {
    A => "A", B => "B", D => "D", E => "E", F => "F", G => "G",
    H => "H", I => "I", J => "J", K => "K", L => "L", M => "M",
});

/// Why a message was dropped without an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// A response that matches no client transaction (RFC 3261 §18.1.2).
    StrayResponse,
    /// A response that cannot be answered and failed validation.
    InvalidResponse,
    /// A per-source or per-task queue was full.
    QueueFull,
    /// A request from or to a broadcast/multicast address.
    BroadcastTarget,
}

label_words!(DropReason {
    StrayResponse => "stray_response", InvalidResponse => "invalid_response",
    QueueFull => "queue_full", BroadcastTarget => "broadcast_target",
});

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// The source address has too many connections.
    PerSourceLimit,
    /// The listener has too many connections.
    GlobalLimit,
    /// The TLS handshake failed.
    TlsHandshake,
}

label_words!(RejectReason {
    PerSourceLimit => "per_source_limit", GlobalLimit => "global_limit",
    TlsHandshake => "tls_handshake",
});

/// Why a connection was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// No traffic for the idle timeout.
    Idle,
    /// The peer closed it.
    PeerClosed,
    /// A read or write error, or a framing error.
    Error,
    /// The peer did not read fast enough and the write queue filled up.
    WriteQueueFull,
    /// One message took longer than the message timeout to arrive (slowloris).
    MessageTimeout,
    /// The byte stream broke SIP framing (answered, then closed).
    BadFraming,
    /// The SBC is shutting down.
    Shutdown,
}

label_words!(CloseReason {
    Idle => "idle", PeerClosed => "peer_closed", Error => "error",
    WriteQueueFull => "write_queue_full", MessageTimeout => "message_timeout",
    BadFraming => "bad_framing", Shutdown => "shutdown",
});

/// The outcome of a certificate reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReloadResult {
    /// The new certificate is in use.
    Ok,
    /// The files could not be loaded; the previous certificate stays in use.
    Error,
}

label_words!(ReloadResult { Ok => "ok", Error => "error" });

/// What happened to a keep-alive OPTIONS to a registered phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeepaliveResult {
    /// Sent over the phone's flow.
    Sent,
    /// No response: the flow is dead and the binding was removed.
    Failed,
}

label_words!(KeepaliveResult { Sent => "sent", Failed => "failed" });

/// Labels of `sbc_keepalives_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct KeepaliveLabels {
    pub result: KeepaliveResult,
}

/// Labels of `sbc_sip_requests_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct RequestLabels {
    pub method: MethodLabel,
    pub realm: String,
    pub transport: Transport,
    pub direction: Direction,
}

/// Labels of `sbc_sip_responses_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct ResponseLabels {
    pub status_class: StatusClass,
    pub method: MethodLabel,
    pub realm: String,
    pub transport: Transport,
    pub direction: Direction,
}

/// Labels of the transaction families that only carry the kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct KindLabels {
    pub kind: TransactionKind,
}

/// Labels of `sbc_sip_transaction_timeouts_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct TimeoutLabels {
    pub kind: TransactionKind,
    pub timer: TimerLabel,
}

/// Labels of `sbc_sip_parse_errors_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct ParseErrorLabels {
    pub reason: StaticLabel,
    pub transport: Transport,
}

/// Labels of `sbc_sip_dropped_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct DropLabels {
    pub reason: DropReason,
}

/// Labels of `sbc_connections_open` and `sbc_connections_accepted_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct ConnectionLabels {
    pub realm: String,
    pub transport: Transport,
}

/// Labels of `sbc_connections_rejected_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct RejectLabels {
    pub realm: String,
    pub transport: Transport,
    pub reason: RejectReason,
}

/// Labels of `sbc_connections_closed_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct CloseLabels {
    pub realm: String,
    pub transport: Transport,
    pub reason: CloseReason,
}

/// Labels of the TLS families that only carry the realm.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct RealmLabels {
    pub realm: String,
}

/// Labels of `sbc_tls_certificate_reloads_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct ReloadLabels {
    pub realm: String,
    pub result: ReloadResult,
}

/// Labels of `sbc_build_info`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct BuildLabels {
    pub version: StaticLabel,
}

/// Labels of the per-peer call families.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct PeerLabels {
    pub peer: String,
}

/// Labels of `sbc_calls_failed_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct PeerStatusLabels {
    pub peer: String,
    pub status_class: StatusClass,
}

/// A call-setup milestone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetupStage {
    /// INVITE → first 180/183 relayed to the caller.
    Ringing,
    /// INVITE → 2xx relayed to the caller.
    Answer,
}

label_words!(SetupStage { Ringing => "ringing", Answer => "answer" });

/// Labels of `sbc_call_setup_seconds`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct StageLabels {
    pub stage: SetupStage,
}

/// What happened to a phone's REGISTER.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegistrationResult {
    /// Relayed to the PBX.
    Relayed,
    /// Answered by the SBC from its registration cache.
    Cached,
    /// Refused by the SBC.
    Rejected,
}

label_words!(RegistrationResult { Relayed => "relayed", Cached => "cached", Rejected => "rejected" });

/// Labels of `sbc_registrations_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct RegistrationLabels {
    pub result: RegistrationResult,
}
