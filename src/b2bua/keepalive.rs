//! Keep-alives and withdrawal of phone bindings (shell glue, no I/O of its own).
//!
//! Once the PBX accepted a phone's registration, its binding is watched
//! ([`Watch`](crate::nat::Watch)): the SBC sends an OPTIONS over the phone's flow every
//! `[registration] keepalive_interval_secs` when the phone is behind a NAT (UDP) or on TCP/TLS.
//! No response at all means the flow is dead: the binding goes and is withdrawn at the PBX. A
//! binding that goes for any reason — failed keep-alives, its connection closed, the phone
//! stopped refreshing — is withdrawn the same way: the REGISTER last relayed for it is sent again
//! with only that contact, `expires=0`, the next CSeq and a new branch, without credentials. A
//! PBX that insists on a challenge keeps the binding until its own expiry; calls to it then get
//! `480` from the SBC, as the binding is gone here.

use crate::b2bua::random::{self, encode, hex};
use crate::b2bua::registrar::Binding;
use crate::b2bua::request;
use crate::b2bua::task::Core;
use crate::metrics::labels::TransactionKind;
use crate::sip::header::{CSeq, HeaderName, NameAddr, Via};
use crate::sip::message::{Header, Message};
use crate::sip::method::Method;
use crate::sip::transaction::{TxKey, branch_from};
use crate::sip::uri::{Host, SipUri, Uri};
use crate::transport::Target;
use bytes::Bytes;
use std::time::Instant;
use tracing::debug;

/// What the SBC keeps to withdraw a binding at the PBX: where the REGISTER went, and the
/// REGISTER itself as last relayed (wire form).
#[derive(Debug, Clone)]
pub(crate) struct Upstream {
    pub(crate) target: Target,
    pub(crate) register: Bytes,
}

impl Core {
    /// Sends the keep-alives that are due.
    pub(crate) fn send_keepalives(&mut self, now: Instant) {
        for key in self.watch.due(now) {
            let Some(binding) = self.registrar.lookup(&key) else {
                self.watch.forget(&key);
                continue;
            };
            let (flow, contact) = (binding.flow.clone(), binding.contact.clone());
            let Some(request) = self.keepalive_request(&flow, &contact) else {
                self.watch.answered(&key, now);
                continue;
            };
            let reliable = flow.reliable();
            match self.layer.send_request(request, flow, reliable, now) {
                Ok(tx) => {
                    self.started(&tx, TransactionKind::ClientNonInvite);
                    self.metrics.keepalive(true);
                    self.pings.insert(tx, key);
                }
                Err(e) => debug!(error = %e, "keep-alive refused by the transaction layer"),
            }
        }
    }

    /// The outcome of a keep-alive (`None`: no response). False when `tx` is not one.
    pub(crate) fn keepalive_result(
        &mut self,
        tx: &TxKey,
        status: Option<u16>,
        now: Instant,
    ) -> bool {
        if status.is_some_and(|s| s < 200) {
            return self.pings.contains_key(tx);
        }
        let Some(key) = self.pings.remove(tx) else {
            return false;
        };
        if status.is_some() {
            self.watch.answered(&key, now);
            return true;
        }
        self.metrics.keepalive(false);
        if let Some(binding) = self.registrar.remove_key(&key) {
            debug!(aor = %binding.aor, "keep-alive unanswered; binding removed");
            self.metrics.registrations_active(self.registrar.len());
        }
        if let Some(upstream) = self.watch.failed(&key) {
            self.withdraw(&key, upstream, now);
        }
        self.metrics
            .registrations_behind_nat(self.watch.behind_nat());
        true
    }

    /// Bindings that went (expired, connection closed): stop watching them and withdraw them
    /// at the PBX while the PBX still holds them.
    pub(crate) fn bindings_gone(&mut self, gone: Vec<Binding<Target>>, now: Instant) {
        for binding in gone {
            let Some(upstream) = self.watch.forget(&binding.key) else {
                continue;
            };
            if binding.pbx_expires.is_some_and(|t| t > now) {
                self.withdraw(&binding.key, upstream, now);
            }
        }
        self.metrics
            .registrations_behind_nat(self.watch.behind_nat());
    }

    /// Sends the de-registration of binding `key` to the PBX.
    fn withdraw(&mut self, key: &[u8], upstream: Upstream, now: Instant) {
        let Ok(mut register) =
            crate::sip::parse_datagram(upstream.register, &crate::sip::Limits::DEFAULT)
        else {
            return;
        };
        let contact = register
            .headers
            .get_all(HeaderName::Contact)
            .find(|v| v.windows(key.len()).any(|w| w == key))
            .cloned();
        let Some(contact) = contact else { return };
        let uri_end = contact
            .iter()
            .position(|b| *b == b'>')
            .map_or(contact.len(), |i| i + 1);
        let mut value = contact.slice(..uri_end).to_vec();
        value.extend_from_slice(b";expires=0");
        register.headers.remove(HeaderName::Contact);
        register.headers.remove(HeaderName::Authorization);
        register.headers.remove(HeaderName::ProxyAuthorization);
        register
            .headers
            .push(Header::new(HeaderName::Contact, Bytes::from(value)));
        register
            .headers
            .set(HeaderName::Expires, Bytes::from_static(b"0"));
        let seq = register
            .cseq()
            .map(|c| c.seq.saturating_add(1))
            .unwrap_or(1);
        register.headers.set(
            HeaderName::CSeq,
            encode(&CSeq::new(seq, Method::Register), CSeq::write_to),
        );
        if let Ok(old) = register.top_via() {
            let via = Via::new(
                old.transport,
                old.host,
                old.port,
                branch_from(&random::bytes::<16>()),
            );
            register
                .headers
                .set(HeaderName::Via, encode(&via, Via::write_to));
        }
        let reliable = upstream.target.reliable();
        match self
            .layer
            .send_request(register, upstream.target, reliable, now)
        {
            Ok(tx) => {
                self.started(&tx, TransactionKind::ClientNonInvite);
                self.metrics.binding_withdrawn();
            }
            Err(e) => debug!(error = %e, "withdrawal refused by the transaction layer"),
        }
    }

    /// An OPTIONS from the SBC to a phone over `flow`, addressed to its registered `contact`.
    fn keepalive_request(&self, flow: &Target, contact: &Uri) -> Option<Message> {
        let local = self.leg_identity(flow.listener)?;
        let via = Via::new(
            local.transport.clone(),
            local.host.clone(),
            local.port,
            branch_from(&random::bytes::<16>()),
        );
        let mut from = NameAddr::new(Uri::Sip(SipUri::new(local.host.clone(), local.port)));
        from.set_tag(Bytes::from(hex(&random::bytes::<8>())));
        let host = match &local.host {
            Host::Name(n) => String::from_utf8_lossy(n).into_owned(),
            other => other.to_string(),
        };
        let call_id = Bytes::from(format!("{}@{host}", hex(&random::bytes::<12>())));
        let to = NameAddr::new(contact.clone());
        let headers =
            request::base_headers(&via, &from, &to, call_id, &CSeq::new(1, Method::Options));
        Some(request::finish(
            Method::Options,
            contact,
            headers,
            &self.server,
        ))
    }
}
