//! Operations control of the signaling task (shell): the bounded request channel through which
//! the admin API, the drain and the configuration reload reach the task that owns the call table,
//! each request answered on a oneshot; and the task's operations state — call records, the drain.
//!
//! The task stays the only owner of its tables: nobody else reads them, they ask. Requests wait
//! at most [`REQUEST_TIMEOUT`] for room in the channel and for the answer.
//!
//! Draining: once [`ControlHandle::drain`] is called, new INVITEs outside a dialog and new
//! REGISTERs get 503 with `Retry-After` (a draining instance takes no new work; phones and
//! trunks move to another instance), while in-dialog requests of established calls go on as
//! before. The returned receiver resolves when the last call has ended.
//! [`ControlHandle::end_calls`] makes the SBC end every remaining call itself (BYE on both legs
//! of answered calls, 503 + CANCEL before the answer), each with its call record.

use crate::b2bua::call::EndReason;
use crate::b2bua::cdr::writer::RecordSink;
use crate::b2bua::cdr::{CallDraft, LegRecord, WallClock};
use crate::b2bua::task::Core;
use crate::config::Config;
use crate::sip::header::HeaderName;
use crate::sip::message::{Header, Message};
use crate::sip::transaction::Timers;
use crate::sip::transaction::TxKey;
use crate::transport::Target;
use bytes::Bytes;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tracing::info;

/// Requests waiting for the signaling task.
pub const CONTROL_QUEUE: usize = 16;
/// Longest wait for room in the channel, and for the answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// A request to the signaling task.
#[derive(Debug)]
pub enum Control {
    /// List the live calls.
    Calls(oneshot::Sender<Vec<CallSummary>>),
    /// List the registrations held.
    Registrations(oneshot::Sender<Vec<RegistrationSummary>>),
    /// Start draining; `idle` is answered once no call is left.
    Drain {
        /// Retry-After of the 503 new requests get.
        retry_after: Duration,
        /// Answered when the call table is empty.
        idle: oneshot::Sender<()>,
    },
    /// End every call now (drain timeout).
    EndCalls,
    /// Use this configuration from now on (reload of the settings that can change live).
    Apply(Arc<Config>, oneshot::Sender<()>),
}

/// One live call, as listed by `GET /admin/calls`.
#[derive(Debug, Clone, Serialize)]
pub struct CallSummary {
    /// Number of the call in this process (as in its call record).
    pub id: u64,
    /// `calling`, `ringing` or `answered`.
    pub state: &'static str,
    /// When the caller's INVITE arrived (RFC 3339 UTC).
    pub start: String,
    /// The peer the call was routed to.
    pub peer: String,
    /// The caller's leg.
    pub caller: LegRecord,
    /// The callee's leg.
    pub callee: LegRecord,
}

/// One registration, as listed by `GET /admin/registrations`.
#[derive(Debug, Clone, Serialize)]
pub struct RegistrationSummary {
    /// The phone's address of record.
    pub aor: String,
    /// `UDP`, `TCP` or `TLS`: the flow the phone registered on.
    pub transport: String,
    /// The phone's address.
    pub remote: String,
    /// Seconds until the phone's registration expires.
    pub expires_in_secs: u64,
    /// Whether the PBX has confirmed the registration.
    pub registered_at_pbx: bool,
}

/// The sending side, held by the application and the admin API. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ControlHandle {
    tx: mpsc::Sender<Control>,
}

/// The receiving side, handed to [`Core::with_control`].
#[derive(Debug)]
pub struct ControlReceiver(pub(crate) mpsc::Receiver<Control>);

/// A control channel.
pub fn channel() -> (ControlHandle, ControlReceiver) {
    let (tx, rx) = mpsc::channel(CONTROL_QUEUE);
    (ControlHandle { tx }, ControlReceiver(rx))
}

impl ControlHandle {
    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Control) -> Option<T> {
        let (reply, answer) = oneshot::channel();
        tokio::time::timeout(REQUEST_TIMEOUT, self.tx.send(make(reply)))
            .await
            .ok()?
            .ok()?;
        tokio::time::timeout(REQUEST_TIMEOUT, answer)
            .await
            .ok()?
            .ok()
    }

    /// The live calls; `None` when the task does not answer in time (or has stopped).
    pub async fn calls(&self) -> Option<Vec<CallSummary>> {
        self.ask(Control::Calls).await
    }

    /// The registrations held; `None` when the task does not answer in time.
    pub async fn registrations(&self) -> Option<Vec<RegistrationSummary>> {
        self.ask(Control::Registrations).await
    }

    /// Starts draining; the receiver resolves when no call is left (or errs if the task stopped).
    pub async fn drain(&self, retry_after: Duration) -> oneshot::Receiver<()> {
        let (idle, done) = oneshot::channel();
        let _ = self.tx.send(Control::Drain { retry_after, idle }).await;
        done
    }

    /// Ends every remaining call now.
    pub async fn end_calls(&self) {
        let _ = self.tx.send(Control::EndCalls).await;
    }

    /// Makes the task use `config`; true once it has.
    pub async fn apply(&self, config: Arc<Config>) -> bool {
        self.ask(|reply| Control::Apply(config, reply))
            .await
            .is_some()
    }
}

/// The signaling task's operations state.
#[derive(Debug)]
pub(crate) struct Ops {
    pub(crate) records: Option<RecordSink>,
    pub(crate) clock: WallClock,
    pub(crate) control: Option<ControlReceiver>,
    draining: Option<Duration>,
    idle: Option<oneshot::Sender<()>>,
}

impl Ops {
    /// No records, no control channel, not draining; `clock` anchors record timestamps.
    pub(crate) fn new(clock: WallClock) -> Self {
        Self {
            records: None,
            clock,
            control: None,
            draining: None,
            idle: None,
        }
    }
}

impl Core {
    /// Writes call records to `sink`.
    pub fn with_records(mut self, sink: Option<RecordSink>) -> Self {
        self.ops.records = sink;
        self
    }

    /// Serves requests from `control`.
    pub fn with_control(mut self, control: ControlReceiver) -> Self {
        self.ops.control = Some(control);
        self
    }

    /// Answers one control request.
    pub(crate) fn on_control(&mut self, request: Control, now: Instant) {
        match request {
            Control::Calls(reply) => {
                let _ = reply.send(self.calls.summaries(&self.ops.clock));
            }
            Control::Registrations(reply) => {
                let _ = reply.send(self.registration_summaries(now));
            }
            Control::Drain { retry_after, idle } => {
                info!(
                    calls = self.calls.len(),
                    "draining: refusing new calls and registrations"
                );
                self.metrics.draining(true);
                self.ops.draining = Some(retry_after);
                self.ops.idle = Some(idle);
            }
            Control::EndCalls => {
                info!(calls = self.calls.len(), "ending the remaining calls");
                for id in self.calls.ids() {
                    self.shut_down_call(id, now);
                }
                self.flush(false);
            }
            Control::Apply(config, reply) => {
                self.server = Bytes::from(config.sip.user_agent.clone());
                self.layer.set_timers(Timers {
                    t1: config.sip.t1,
                    t2: config.sip.t2,
                    t4: config.sip.t4,
                });
                self.config = config;
                if let Some(records) = &self.ops.records {
                    records.reopen();
                }
                let _ = reply.send(());
            }
        }
        self.check_idle();
    }

    /// Answers `idle` once draining and the call table is empty.
    pub(crate) fn check_idle(&mut self) {
        if self.ops.draining.is_some() && self.calls.len() == 0 {
            if let Some(idle) = self.ops.idle.take() {
                let _ = idle.send(());
            }
        }
    }

    /// While draining, answers a new INVITE or REGISTER with 503 + Retry-After; true if it did.
    pub(crate) fn refuse_while_draining(
        &mut self,
        key: &TxKey,
        request: &Message,
        from: &Target,
    ) -> bool {
        let Some(retry_after) = self.ops.draining else {
            return false;
        };
        let retry = Header::new(
            HeaderName::RetryAfter,
            Bytes::from(retry_after.as_secs().max(1).to_string()),
        );
        self.reply(key, request, from, 503, vec![retry]);
        true
    }

    /// The caller-side or callee-side leg record for a leg over `target` to `peer`.
    pub(crate) fn leg_record(
        &self,
        request: Option<&Message>,
        target: &Target,
        peer: Option<&str>,
    ) -> LegRecord {
        let mut leg = request.map(LegRecord::from_request).unwrap_or_default();
        let (realm, transport) = self.labels(target);
        leg.realm = realm.to_string();
        leg.transport = transport.as_str().to_ascii_uppercase();
        leg.remote = target.remote.to_string();
        leg.peer = peer.map(str::to_owned);
        leg
    }

    /// Finishes a call's record and hands it to the writer.
    pub(crate) fn write_record(
        &self,
        draft: CallDraft,
        reason: EndReason,
        status: Option<u16>,
        now: Instant,
    ) {
        if let Some(sink) = &self.ops.records {
            sink.submit(draft.finish(reason, status, now, &self.ops.clock));
        }
    }

    fn registration_summaries(&self, now: Instant) -> Vec<RegistrationSummary> {
        self.registrar
            .iter()
            .map(|b| RegistrationSummary {
                aor: b.aor.clone(),
                transport: b.flow.transport.as_str().to_ascii_uppercase(),
                remote: b.flow.remote.to_string(),
                expires_in_secs: b.phone_expires.saturating_duration_since(now).as_secs(),
                registered_at_pbx: b.pbx_expires.is_some_and(|t| t > now),
            })
            .collect()
    }
}
