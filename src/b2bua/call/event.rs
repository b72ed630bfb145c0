//! The call's inputs and outputs (pure): the legs, the events the shell feeds in (requests,
//! responses, 2xx ACKs, transaction failures, timers) and the actions it executes in order
//! (RFC 3261 §17 transactions stay in the shell; §13.2.2.4 ACKs for 2xx go out stateless).

use crate::sip::message::Message;
use crate::sip::transaction::TxKey;
use std::time::Instant;

/// One side of the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Leg {
    /// The caller side: the INVITE arrived here; the SBC is UAS.
    A,
    /// The callee side: the SBC is UAC.
    B,
}

impl Leg {
    /// The other leg.
    pub fn other(self) -> Leg {
        match self {
            Leg::A => Leg::B,
            Leg::B => Leg::A,
        }
    }
}

/// The call's own timers. Setting a timer that is already armed moves its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallTimer {
    /// The configured no-answer timeout: CANCEL B, 480 to A.
    NoAnswer,
    /// RFC 3261 §16.6 Timer C: no provisional for 3 minutes: CANCEL B, 408 to A.
    TimerC,
    /// 64*T1 after a CANCEL to B without B's final response: give the INVITE up (§9.1).
    CancelWait,
    /// Retransmit the 2xx sent on this leg until its ACK comes (§13.3.1.4).
    Resend2xx(Leg),
    /// The policy's longest duration since the answer: BYE on both legs.
    MaxDuration,
    /// The policy's duration warning point (the shell logs it; the call ignores it).
    DurationWarning,
}

/// Why a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndReason {
    /// Answered, then hung up with BYE.
    Completed,
    /// A cancelled before the answer.
    Cancelled,
    /// B refused with a final non-2xx response.
    Rejected,
    /// The no-answer timeout fired.
    NoAnswer,
    /// Timer C fired.
    TimerC,
    /// A transaction timed out (no response, §8.1.3.1) or a peer reported the dialog gone.
    Timeout,
    /// A transport could not deliver a request.
    TransportError,
    /// The 2xx was never acknowledged (§13.3.1.4).
    AckTimeout,
    /// The INVITE had already passed through this SBC (482).
    Loop,
    /// Max-Forwards reached zero (483).
    TooManyHops,
    /// The INVITE lacked what a call needs (400), or could not be answered at all.
    BadRequest,
    /// The policy's longest call duration was reached; the SBC hung up both legs.
    MaxDuration,
    /// The SBC stopped and ended the call itself (drain timeout).
    Shutdown,
    /// Answered, then the media stopped flowing for the relay's inactivity timeout.
    MediaTimeout,
    /// The media-anchoring seam refused the media (see [`MediaRefusal`](super::MediaRefusal)):
    /// an offer no line of which can be carried, exhausted media ports, or an answer from B
    /// that cannot be accepted.
    MediaRefused,
}

/// An input for the call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "events are moved once from the shell to the call; boxing would only allocate"
)]
pub enum CallEvent {
    /// A request on a leg (in-dialog requests and CANCEL), with its server transaction.
    Request {
        /// The leg it arrived on.
        leg: Leg,
        /// The request.
        request: Message,
        /// Its server transaction (answer with [`Action::SendResponse`]).
        tx: TxKey,
    },
    /// A response to a request the call sent on `leg`.
    Response {
        /// The leg.
        leg: Leg,
        /// The response (100 included; the call ignores it apart from §9.1).
        response: Message,
        /// The client transaction ([`TxKey::for_request`] of the request the call sent).
        tx: TxKey,
    },
    /// An ACK for a 2xx on `leg` (it belongs to no transaction).
    Ack {
        /// The leg.
        leg: Leg,
        /// The ACK.
        request: Message,
    },
    /// A client transaction of the call timed out (Timer B or F): act as on 408.
    TxTimeout {
        /// The leg.
        leg: Leg,
        /// The transaction.
        tx: TxKey,
    },
    /// A transport failed to deliver a request of the call.
    TransportError {
        /// The leg.
        leg: Leg,
        /// The transaction.
        tx: TxKey,
    },
    /// One of the call's timers fired.
    Timer(CallTimer),
    /// The media relay saw no media for its inactivity timeout: an answered call is hung up on
    /// both legs; a call not yet answered is left to its own timers.
    MediaTimeout,
}

/// An output of the call, for the shell to execute in order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "actions are moved once from the call to the shell; boxing would only allocate"
)]
pub enum Action {
    /// Start a client transaction with `request` on `leg` (a CANCEL reuses its INVITE's
    /// branch). Its key is [`TxKey::for_request`]`(&request)`.
    SendRequest {
        /// The leg.
        leg: Leg,
        /// The request, complete (Via with the SBC's branch, Route, Contact, Content-Length).
        request: Message,
    },
    /// Answer the server transaction `tx` on `leg` (2xx retransmissions come this way too).
    SendResponse {
        /// The leg.
        leg: Leg,
        /// The server transaction.
        tx: TxKey,
        /// The response.
        response: Message,
    },
    /// Send an ACK for a 2xx on `leg`, outside any transaction.
    SendAck {
        /// The leg.
        leg: Leg,
        /// The ACK.
        ack: Message,
    },
    /// Arm (or move) `timer` to fire at `at`; feed [`CallEvent::Timer`] then.
    SetTimer {
        /// The timer.
        timer: CallTimer,
        /// When.
        at: Instant,
    },
    /// Disarm a timer.
    CancelTimer(CallTimer),
    /// Both legs are released; the call holds nothing and the shell may drop it once it has
    /// terminated any client INVITE transaction of the call still open (§9.1).
    Ended {
        /// Why.
        reason: EndReason,
        /// The final status A's INVITE got, if it got one.
        status: Option<u16>,
    },
}
