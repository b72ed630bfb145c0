//! Call records (CDR): one JSON object per line for every call, written exactly once when the
//! call ends, whatever ended it.
//!
//! [`CallDraft`] (pure) collects what the signaling task sees while the call lives — both legs'
//! identities as each side sees them, the peers and realms, ringing and answer times, who hung
//! up — and [`CallDraft::finish`] turns it into a [`CallRecord`]. The [`writer`] (shell) appends
//! records to the configured file off the signaling task, rotating it by size.
//!
//! # Record fields
//!
//! | field | meaning |
//! |---|---|
//! | `id` | number of the call in this process |
//! | `start`, `ring`, `answer`, `end` | RFC 3339 UTC; `ring`/`answer` are `null` when it never rang / was never answered |
//! | `duration_secs` | answer to end (0 when unanswered); `setup_secs`: start to answer or end |
//! | `status` | final status the caller's INVITE got (`null` if none was sent) |
//! | `ended_by` | `caller`, `callee` or `sbc:<reason>` (`sbc:no_answer`, `sbc:timeout`, `sbc:shutdown`, …) |
//! | `reason` | why the call ended, as the state machine saw it (`completed`, `cancelled`, `rejected`, …) |
//! | `caller`, `callee` | each leg as its own side sees it: `call_id`, `from`, `from_tag`, `to`, `to_tag`, `realm`, `peer`, `transport`, `remote` |
//! | `media` | per-leg packets and bytes in/out, drops, RTCP-reported loss and jitter, SRTP; `null` for a call whose media never reached the relay (no SDP, or refused before routing) |
//! | `policy` | policy decisions reported for the call (the duration rule that ended it, action `end`); **empty when none was** |
//!
//! A call is an INVITE the SBC routed (as counted by `sbc_calls_total`); INVITEs refused before
//! routing are counted in the metrics only.
//!
//! `media` and `policy` are filled only from what those layers report through
//! [`CallDraft::set_media`] and [`CallDraft::add_policy`]; nothing is ever estimated. New fields
//! are added as optional members so older readers keep working. Records never contain
//! credentials, SDP keys or message bodies.

pub mod time;
pub mod writer;

use crate::b2bua::call::{EndReason, Leg};
use crate::sip::message::Message;
use crate::sip::uri::Uri;
use bytes::BytesMut;
use serde::Serialize;
use std::time::Instant;
pub use time::WallClock;

/// One leg as its own side sees it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LegRecord {
    /// The leg's Call-ID.
    pub call_id: String,
    /// From URI.
    pub from: String,
    /// From tag.
    pub from_tag: Option<String>,
    /// To URI.
    pub to: String,
    /// To tag (`null` when the dialog was never established on this leg).
    pub to_tag: Option<String>,
    /// Realm of the SBC listener the leg uses.
    pub realm: String,
    /// The configured peer on the far end, if the far end is one.
    pub peer: Option<String>,
    /// `UDP`, `TCP` or `TLS`.
    pub transport: String,
    /// Signaling address of the far end.
    pub remote: String,
}

impl LegRecord {
    /// The identity fields of `request` (an initial INVITE): Call-ID, From, From tag, To.
    pub fn from_request(request: &Message) -> Self {
        let mut leg = Self::default();
        if let Ok(call_id) = request.call_id() {
            leg.call_id = String::from_utf8_lossy(call_id.as_bytes()).into_owned();
        }
        if let Ok(from) = request.from_header() {
            leg.from = uri_text(&from.uri);
            leg.from_tag = from.tag().map(|t| String::from_utf8_lossy(t).into_owned());
        }
        if let Ok(to) = request.to_header() {
            leg.to = uri_text(&to.uri);
            leg.to_tag = to.tag().map(|t| String::from_utf8_lossy(t).into_owned());
        }
        leg
    }

    /// Takes Call-ID, From, From tag and To from the leg's initial INVITE, keeping the realm,
    /// peer, transport and address already known.
    pub fn learn_identity(&mut self, request: &Message) {
        let identity = Self::from_request(request);
        self.call_id = identity.call_id;
        self.from = identity.from;
        self.from_tag = identity.from_tag;
        self.to = identity.to;
        self.to_tag = identity.to_tag;
    }

    /// Takes the To tag of `response` if the leg has none yet.
    pub fn learn_to_tag(&mut self, response: &Message) {
        if self.to_tag.is_some() {
            return;
        }
        if let Some(tag) = response.to_header().ok().and_then(|t| t.tag().cloned()) {
            self.to_tag = Some(String::from_utf8_lossy(&tag).into_owned());
        }
    }
}

/// Media statistics of one leg, as reported by the media relay (summed over the call's media
/// lines).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MediaLegRecord {
    /// RTP/RTCP packets accepted from this leg's far end.
    pub packets_in: u64,
    /// RTP/RTCP packets sent to this leg's far end.
    pub packets_out: u64,
    /// Bytes accepted from this leg's far end.
    pub bytes_in: u64,
    /// Bytes sent to this leg's far end.
    pub bytes_out: u64,
    /// Packets arriving for this leg that were dropped (foreign source, SRTP authentication,
    /// replay, malformed, ...).
    pub packets_dropped: u64,
    /// Packets the far end reported lost of what the SBC sent it (cumulative, from its last
    /// RTCP reception report); `null` when it sent none.
    pub rtcp_lost: Option<i64>,
    /// Interarrival jitter the far end reported (RFC 3550 §6.4.1), in RTP timestamp units;
    /// `null` when it sent no report.
    pub rtcp_jitter: Option<u32>,
    /// Whether this leg's media was SRTP at the end of the call.
    pub srtp: bool,
}

/// Media statistics of both legs.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MediaRecord {
    /// The caller's leg.
    pub caller: MediaLegRecord,
    /// The callee's leg.
    pub callee: MediaLegRecord,
}

/// One policy decision taken for the call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyRecord {
    /// The rule that decided.
    pub rule: String,
    /// What it decided (`allow`, `reject`, `limit`, …).
    pub action: String,
}

/// One finished call: the line written to the record file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallRecord {
    /// Number of the call in this process.
    pub id: u64,
    /// When the caller's INVITE arrived.
    pub start: String,
    /// First 180/183 relayed to the caller.
    pub ring: Option<String>,
    /// 2xx relayed to the caller.
    pub answer: Option<String>,
    /// When the call left the call table.
    pub end: String,
    /// Answer to end, seconds (0 when unanswered).
    pub duration_secs: f64,
    /// Start to answer (answered) or to end (unanswered), seconds.
    pub setup_secs: f64,
    /// Final status sent to the caller's INVITE.
    pub status: Option<u16>,
    /// `caller`, `callee` or `sbc:<reason>`.
    pub ended_by: String,
    /// Why the call ended.
    pub reason: &'static str,
    /// The caller's leg (A) as the caller sees it.
    pub caller: LegRecord,
    /// The callee's leg (B) as the callee sees it.
    pub callee: LegRecord,
    /// Media statistics; `null` while media is not anchored.
    pub media: Option<MediaRecord>,
    /// Policy decisions; empty until the policy layer reports one.
    pub policy: Vec<PolicyRecord>,
}

impl CallRecord {
    /// The record as one JSON line (with the trailing newline).
    pub fn to_line(&self) -> String {
        // Serializing plain structs of strings and numbers cannot fail.
        let mut line = serde_json::to_string(self).unwrap_or_default();
        line.push('\n');
        line
    }
}

/// What is known about a live call, until it ends.
#[derive(Debug, Clone)]
pub struct CallDraft {
    id: u64,
    started: Instant,
    rang: Option<Instant>,
    answered: Option<Instant>,
    /// The leg whose BYE (or CANCEL) ended the call, first one wins.
    hung_up_by: Option<Leg>,
    /// The final status relayed to the caller's INVITE.
    status: Option<u16>,
    /// The caller's leg.
    pub caller: LegRecord,
    /// The callee's leg (replaced on failover).
    pub callee: LegRecord,
    media: Option<MediaRecord>,
    policy: Vec<PolicyRecord>,
}

impl CallDraft {
    /// A call numbered `id` whose INVITE arrived at `started`.
    pub fn new(id: u64, started: Instant, caller: LegRecord) -> Self {
        Self {
            id,
            started,
            rang: None,
            answered: None,
            hung_up_by: None,
            status: None,
            caller,
            callee: LegRecord::default(),
            media: None,
            policy: Vec::new(),
        }
    }

    /// The first ringing response was relayed to the caller at `now`.
    pub fn ringing(&mut self, now: Instant) {
        self.rang.get_or_insert(now);
    }

    /// The answer was relayed to the caller at `now`.
    pub fn answered(&mut self, now: Instant) {
        self.answered.get_or_insert(now);
    }

    /// A final response `code` was sent to the caller's INVITE.
    pub fn final_status(&mut self, code: u16) {
        if code >= 200 {
            self.status.get_or_insert(code);
        }
    }

    /// A request arrived on `leg`: a BYE or CANCEL names who hangs up.
    pub fn request(&mut self, leg: Leg, request: &Message) {
        use crate::sip::Method;
        if matches!(request.method(), Some(Method::Bye | Method::Cancel)) {
            self.hung_up_by.get_or_insert(leg);
        }
    }

    /// The media relay's statistics for the call.
    pub fn set_media(&mut self, media: MediaRecord) {
        self.media = Some(media);
    }

    /// A policy decision taken for the call.
    pub fn add_policy(&mut self, decision: PolicyRecord) {
        self.policy.push(decision);
    }

    /// The record of the call, ended at `now` for `reason` with `status` sent to the caller
    /// (when `None`, the final status seen by [`CallDraft::final_status`]).
    pub fn finish(
        self,
        reason: EndReason,
        status: Option<u16>,
        now: Instant,
        clock: &WallClock,
    ) -> CallRecord {
        let secs = |from: Instant, to: Instant| to.saturating_duration_since(from).as_secs_f64();
        CallRecord {
            id: self.id,
            start: clock.rfc3339(self.started),
            ring: self.rang.map(|t| clock.rfc3339(t)),
            answer: self.answered.map(|t| clock.rfc3339(t)),
            end: clock.rfc3339(now),
            duration_secs: self.answered.map_or(0.0, |a| secs(a, now)),
            setup_secs: secs(self.started, self.answered.unwrap_or(now)),
            status: status.or(self.status),
            ended_by: ended_by(reason, self.hung_up_by),
            reason: reason_word(reason),
            caller: self.caller,
            callee: self.callee,
            media: self.media,
            policy: self.policy,
        }
    }
}

/// Who ended the call: the side whose BYE/CANCEL did, the callee for a refusal, else the SBC.
pub fn ended_by(reason: EndReason, hung_up_by: Option<Leg>) -> String {
    match (reason, hung_up_by) {
        (EndReason::Completed | EndReason::Cancelled, Some(Leg::A)) => "caller".to_owned(),
        (EndReason::Completed, Some(Leg::B)) => "callee".to_owned(),
        (EndReason::Rejected, _) => "callee".to_owned(),
        (reason, _) => format!("sbc:{}", reason_word(reason)),
    }
}

/// The record's word for an end reason.
pub fn reason_word(reason: EndReason) -> &'static str {
    match reason {
        EndReason::Completed => "completed",
        EndReason::Cancelled => "cancelled",
        EndReason::Rejected => "rejected",
        EndReason::NoAnswer => "no_answer",
        EndReason::TimerC => "timer_c",
        EndReason::Timeout => "timeout",
        EndReason::TransportError => "transport_error",
        EndReason::AckTimeout => "ack_timeout",
        EndReason::Loop => "loop",
        EndReason::TooManyHops => "too_many_hops",
        EndReason::BadRequest => "bad_request",
        EndReason::Shutdown => "shutdown",
        EndReason::MaxDuration => "max_duration",
        EndReason::MediaTimeout => "media_timeout",
        EndReason::MediaRefused => "media_refused",
    }
}

/// A URI as text.
fn uri_text(uri: &Uri) -> String {
    let mut out = BytesMut::new();
    uri.write_to(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests;
