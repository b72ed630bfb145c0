//! Registration relay in the signaling task (shell glue, no I/O of its own): RFC 3261 §10 through
//! the [`Registrar`](crate::b2bua::registrar::Registrar). A phone's REGISTER is answered from
//! cache or relayed to the PBX the routes name, with the SBC's own Via, a Call-ID and From tag
//! derived from the phone's (so refreshes stay one registration at the PBX, while nothing of the
//! phone's identifiers crosses), and Contacts `<sip:KEY@sbc>` whose opaque key finds the binding
//! again. Digest challenges (401/407) and the phone's credentials pass through untouched.

use crate::b2bua::keepalive::Upstream;
use crate::b2bua::random::{self, encode, hex};
use crate::b2bua::registrar::{Decision, ForwardContact};
use crate::b2bua::route::{self, RouteDecision, Source};
use crate::b2bua::task::Core;
use crate::metrics::labels::{RegistrationResult, TransactionKind};
use crate::sip::header::{Contact, HeaderName, NameAddr, Via};
use crate::sip::message::{Header, Headers, Message, RequestLine, SIP_2_0, StartLine};
use crate::sip::method::Method;
use crate::sip::transaction::{TxKey, branch_from};
use crate::sip::uri::{Host, SipUri, Uri};
use crate::transport::{ConnId, Target};
use aws_lc_rs::digest::{SHA256, digest};
use bytes::{Bytes, BytesMut};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;
use tracing::debug;

/// A REGISTER relayed to the PBX, waiting for its answer.
pub(crate) struct PendingRegister {
    phone_tx: TxKey,
    request: Message,
    from: Target,
    sent: Vec<ForwardContact>,
    /// Where the relayed REGISTER went, and its wire form (to withdraw the bindings later).
    upstream: Upstream,
}

/// Relayed REGISTERs by the SBC's client transaction.
pub(crate) type PendingRegisters = HashMap<TxKey, PendingRegister>;

impl Core {
    /// `secret`-keyed hash of `value`, hex, 32 characters: stable for the process, unlinkable.
    fn derive(&self, value: &[u8]) -> String {
        let mut input = self.secret.to_vec();
        input.extend_from_slice(value);
        hex(&digest(&SHA256, &input).as_ref()[..16])
    }

    /// A REGISTER from a phone.
    pub(crate) fn register(&mut self, key: TxKey, request: Message, from: Target, now: Instant) {
        let Some(info) = self.transports.listener(from.listener).cloned() else {
            return;
        };
        let Ok(uri) = request.request_uri() else {
            return self.reply(&key, &request, &from, 400, Vec::new());
        };
        let source = Source {
            realm: &info.realm_name,
            peer: None,
        };
        let candidate = match route::route(
            &self.config.routes,
            &self.config.peers,
            &self.health.at(now),
            &source,
            &uri,
        ) {
            Ok(RouteDecision::Peer { candidates, .. }) => candidates.into_iter().next(),
            Ok(RouteDecision::Registered { .. }) => None,
            Err(no) => return self.reply(&key, &request, &from, no.status(), Vec::new()),
        };
        let Some(candidate) = candidate else {
            return self.reply(&key, &request, &from, 404, Vec::new());
        };
        let Some(peer) = self.config.peer(&candidate.peer) else {
            return;
        };
        let Some(listener) = self.listener_for(&peer.realm, candidate.address.transport) else {
            return self.reply(&key, &request, &from, 503, Vec::new());
        };
        let local_ip = self.transports.listener(listener).map(|l| l.local.ip());
        let Some(ip) = local_ip.and_then(|l| self.peer_names.address(&candidate.address.host, l))
        else {
            return self.reply(&key, &request, &from, 503, Vec::new());
        };
        let reliable = from.reliable();
        let mut next_key = || Bytes::from(hex(&random::bytes::<12>()));
        let decision =
            self.registrar
                .on_register(&request, from.clone(), reliable, now, &mut next_key);
        let result = match &decision {
            Decision::Reject(_) => RegistrationResult::Rejected,
            Decision::Cached { .. } => RegistrationResult::Cached,
            Decision::Forward(_) => RegistrationResult::Relayed,
        };
        self.metrics.registration(result, self.registrar.len());
        match decision {
            Decision::Reject(status) => self.reply(&key, &request, &from, status, Vec::new()),
            Decision::Cached { expires } => {
                let contacts = phone_contacts(&request, expires);
                self.reply(&key, &request, &from, 200, contacts);
            }
            Decision::Forward(sent) => {
                self.forget_removed(&sent);
                let Some(local) = self.transports.listener(listener).map(|l| l.local) else {
                    return;
                };
                let relayed = self.relayed_register(
                    &request,
                    &sent,
                    local,
                    candidate.address.transport.as_str(),
                );
                let target = Target {
                    listener,
                    transport: candidate.address.transport,
                    remote: SocketAddr::new(ip, candidate.address.port),
                    conn: None,
                };
                let to_reliable = target.reliable();
                let upstream = Upstream {
                    target: target.clone(),
                    register: relayed.to_bytes(),
                };
                match self.layer.send_request(relayed, target, to_reliable, now) {
                    Ok(tx) => {
                        self.started(&tx, TransactionKind::ClientNonInvite);
                        self.pending_registers.insert(
                            tx,
                            PendingRegister {
                                phone_tx: key,
                                request,
                                from,
                                sent,
                                upstream,
                            },
                        );
                    }
                    Err(e) => {
                        debug!(error = %e, "relayed REGISTER refused by the transaction layer");
                        self.reply(&key, &request, &from, 500, Vec::new());
                    }
                }
            }
        }
    }

    /// A TCP/TLS connection closed: the phones registered over it cannot be reached any more,
    /// so their bindings go (RFC 5626 §4.4.1 treats a failed flow the same way). Calls the PBX
    /// then places to them get `480` instead of waiting for a flow that is gone.
    pub(crate) fn connection_closed(&mut self, conn: ConnId, now: Instant) {
        let gone = self.registrar.remove_where(|flow| flow.conn == Some(conn));
        for binding in &gone {
            debug!(aor = %binding.aor, "connection closed; binding removed");
        }
        if !gone.is_empty() {
            self.metrics.registrations_active(self.registrar.len());
            self.bindings_gone(gone, now);
        }
    }

    /// The PBX accepted `pending`: watch its new and refreshed bindings (keep-alives, and what
    /// withdraws them later), forget the removed ones.
    fn watch_bindings(&mut self, pending: &PendingRegister, now: Instant) {
        let source = pending.from.remote;
        let stream = pending.from.reliable();
        let nat = crate::nat::detect(&pending.request, source, !stream).behind_nat();
        for contact in &pending.sent {
            if let ForwardContact::Binding { key, expires } = contact {
                if *expires > 0 {
                    self.watch
                        .track(key.clone(), nat, stream, pending.upstream.clone(), now);
                }
            }
        }
        self.forget_removed(&pending.sent);
    }

    /// Stops watching the bindings a phone's REGISTER removes. The registrar dropped them as
    /// the request arrived, so they stop counting (and being pinged) then, whatever the PBX
    /// answers or if it never does.
    fn forget_removed(&mut self, sent: &[ForwardContact]) {
        for contact in sent {
            match contact {
                ForwardContact::Binding { key, expires: 0 } => {
                    self.watch.forget(key);
                }
                ForwardContact::Binding { .. } => {}
                ForwardContact::RemoveAll => {
                    let registrar = &self.registrar;
                    self.watch.retain(|k| registrar.lookup(k).is_some());
                }
            }
        }
        self.metrics
            .registrations_behind_nat(self.watch.behind_nat());
    }

    /// The answer (or, with `None`, the timeout) of a relayed REGISTER; false when `key` is not
    /// one.
    pub(crate) fn register_response(
        &mut self,
        key: &TxKey,
        response: Option<&Message>,
        now: Instant,
    ) -> bool {
        if let Some(code) = response.and_then(Message::status) {
            if code < 200 {
                return self.pending_registers.contains_key(key);
            }
        }
        let Some(pending) = self.pending_registers.remove(key) else {
            return false;
        };
        let reliable = pending.from.reliable();
        match response {
            None => self.reply(
                &pending.phone_tx,
                &pending.request,
                &pending.from,
                504,
                Vec::new(),
            ),
            Some(response) => {
                let code = response.status().unwrap_or(500);
                self.policy_final_response(&pending.request, response, &pending.from);
                match self
                    .registrar
                    .on_pbx_response(&pending.sent, response, reliable, now)
                {
                    Some(expires) => {
                        self.watch_bindings(&pending, now);
                        let contacts = phone_contacts(&pending.request, expires);
                        self.reply(
                            &pending.phone_tx,
                            &pending.request,
                            &pending.from,
                            200,
                            contacts,
                        );
                    }
                    None => {
                        // Challenges and failures reach the phone with what it needs to react.
                        let extra = response
                            .headers
                            .iter()
                            .filter(|h| {
                                matches!(
                                    h.name,
                                    HeaderName::WwwAuthenticate
                                        | HeaderName::ProxyAuthenticate
                                        | HeaderName::MinExpires
                                        | HeaderName::RetryAfter
                                )
                            })
                            .cloned()
                            .collect();
                        let (code, extra) = self.policy_register_failure(code, extra);
                        self.reply(
                            &pending.phone_tx,
                            &pending.request,
                            &pending.from,
                            code,
                            extra,
                        );
                    }
                }
            }
        }
        self.metrics.registrations_active(self.registrar.len());
        true
    }

    /// The REGISTER the PBX receives for a phone's `request`.
    fn relayed_register(
        &self,
        request: &Message,
        sent: &[ForwardContact],
        local: SocketAddr,
        transport: &str,
    ) -> Message {
        let host = Host::from(local.ip());
        let via = Via::new(
            Bytes::from(transport.to_ascii_uppercase()),
            host.clone(),
            Some(local.port()),
            branch_from(&random::bytes::<16>()),
        );
        let mut headers = Headers::with_capacity(12);
        headers.push(Header::new(HeaderName::Via, encode(&via, Via::write_to)));
        let max_forwards = request
            .max_forwards()
            .ok()
            .flatten()
            .and_then(|m| m.decremented())
            .map_or(70, |m| m.0);
        headers.push(Header::new(
            HeaderName::MaxForwards,
            Bytes::from(max_forwards.to_string()),
        ));
        if let Ok(mut from) = request.from_header() {
            let tag = from
                .tag()
                .map(|t| self.derive(t))
                .unwrap_or_else(|| self.derive(b"tag"));
            from.set_tag(Bytes::from(tag));
            headers.push(Header::new(
                HeaderName::From,
                encode(&from, NameAddr::write_to),
            ));
        }
        if let Some(to) = request.headers.get(HeaderName::To) {
            headers.push(Header::new(HeaderName::To, to.clone()));
        }
        let call_id = request
            .call_id()
            .map(|c| self.derive(c.as_bytes()))
            .unwrap_or_default();
        headers.push(Header::new(
            HeaderName::CallId,
            Bytes::from(format!("{call_id}@{}", local.ip())),
        ));
        if let Some(cseq) = request.headers.get(HeaderName::CSeq) {
            headers.push(Header::new(HeaderName::CSeq, cseq.clone()));
        }
        for contact in sent {
            let value = match contact {
                ForwardContact::RemoveAll => {
                    headers.push(Header::new(HeaderName::Expires, Bytes::from_static(b"0")));
                    Bytes::from_static(b"*")
                }
                ForwardContact::Binding { key, expires } => {
                    let mut uri = SipUri::new(host.clone(), Some(local.port()));
                    uri.set_user(Some(key.clone()));
                    if !transport.eq_ignore_ascii_case("udp") {
                        uri.params_mut().set(
                            "transport",
                            Some(Bytes::from(transport.to_ascii_lowercase())),
                        );
                    }
                    let mut out = BytesMut::new();
                    out.extend_from_slice(b"<");
                    Uri::Sip(uri).write_to(&mut out);
                    out.extend_from_slice(format!(">;expires={expires}").as_bytes());
                    out.freeze()
                }
            };
            headers.push(Header::new(HeaderName::Contact, value));
        }
        for h in &request.headers {
            if matches!(
                h.name,
                HeaderName::Authorization | HeaderName::ProxyAuthorization
            ) {
                headers.push(h.clone());
            }
        }
        headers.push(Header::new(HeaderName::UserAgent, self.server.clone()));
        headers.push(Header::new(
            HeaderName::ContentLength,
            Bytes::from_static(b"0"),
        ));
        let uri = request
            .request_line()
            .map(|r| r.uri.clone())
            .unwrap_or_default();
        Message {
            start: StartLine::Request(RequestLine {
                method: Method::Register,
                uri,
                version: Bytes::from_static(SIP_2_0),
            }),
            headers,
            body: Bytes::new(),
        }
    }
}

/// The phone's own Contacts (those not being removed) with `expires`, for its 200 OK.
fn phone_contacts(request: &Message, expires: u32) -> Vec<Header> {
    request
        .contacts()
        .unwrap_or_default()
        .iter()
        .filter(|c| c.expires() != Some(0))
        .filter_map(Contact::addr)
        .map(|addr| {
            let mut out = BytesMut::new();
            out.extend_from_slice(b"<");
            addr.uri.write_to(&mut out);
            out.extend_from_slice(format!(">;expires={expires}").as_bytes());
            Header::new(HeaderName::Contact, out.freeze())
        })
        .collect()
}
