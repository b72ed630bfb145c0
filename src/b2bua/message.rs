//! Out-of-dialog requests in the signaling task (shell glue, no I/O of its own): where a
//! SUBSCRIBE, MESSAGE, PUBLISH or unsolicited NOTIFY goes (the routes, like an INVITE: to a
//! peer, or to a phone registered through the SBC over the flow it registered on), the admission
//! step every one of them passes before it is relayed, and the relay of MESSAGE (RFC 3428),
//! PUBLISH (RFC 3903) and the unsolicited message-waiting NOTIFY (RFC 3842) as one transaction
//! each ([`oneshot`]).

use crate::b2bua::call::CallPlan;
use crate::b2bua::route::{self, RouteDecision, Source};
use crate::b2bua::subscription::{oneshot, state};
use crate::b2bua::task::Core;
use crate::metrics::labels::TransactionKind;
use crate::metrics::signaling::{OneShotMethod, RelayResult};
use crate::sip::header::{HeaderName, NameAddr};
use crate::sip::message::{Header, Message};
use crate::sip::method::Method;
use crate::sip::transaction::TxKey;
use crate::sip::uri::Uri;
use crate::transport::Target;
use bytes::Bytes;
use std::collections::HashMap;
use std::time::Instant;
use tracing::debug;

/// The request classes that admission (and the policy's rate limits) tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestClass {
    /// An initial SUBSCRIBE.
    Subscribe,
    /// An out-of-dialog MESSAGE: its own class, so instant messages cannot use up the budget of
    /// calls or registrations (and the reverse).
    Message,
    /// A PUBLISH.
    Publish,
    /// An unsolicited NOTIFY.
    Notify,
}

impl RequestClass {
    fn of(method: &Method) -> Option<RequestClass> {
        Some(match method {
            Method::Subscribe => RequestClass::Subscribe,
            Method::Message => RequestClass::Message,
            Method::Publish => RequestClass::Publish,
            Method::Notify => RequestClass::Notify,
            _ => return None,
        })
    }
}

/// Where an out-of-dialog request goes.
pub(crate) struct Routed {
    /// Identities, identifiers and header policy of the relay.
    pub(crate) plan: CallPlan,
    /// The flow toward the other side.
    pub(crate) to: Target,
    /// Whether it goes to a phone registered through the SBC.
    pub(crate) registered: bool,
}

/// A refusal: the status and the headers that explain it.
pub(crate) type Refusal = (u16, Vec<Header>);

/// A relayed one-transaction request waiting for its final response.
pub(crate) struct OneShot {
    tx: TxKey,
    request: Message,
    from: Target,
    plan: CallPlan,
    class: RequestClass,
}

/// Relayed one-transaction requests by the SBC's client transaction.
pub(crate) type OneShots = HashMap<TxKey, OneShot>;

impl Core {
    /// Where `request` (out of dialog, from `from`) goes, by the routes: a peer (first usable
    /// address), or the phone whose binding key is the Request-URI user.
    pub(crate) fn route_out_of_dialog(
        &self,
        request: &Message,
        from: &Target,
        now: Instant,
    ) -> Result<Routed, Refusal> {
        let Some(info) = self.transports.listener(from.listener).cloned() else {
            return Err((500, Vec::new()));
        };
        let uri = request.request_uri().map_err(|_| (400, Vec::new()))?;
        let source = Source {
            realm: &info.realm_name,
            peer: self.peer_of(from.remote),
        };
        let health = self.health.at(now);
        match route::route(
            &self.config.routes,
            &self.config.peers,
            &health,
            &source,
            &uri,
        ) {
            Ok(RouteDecision::Peer {
                user, candidates, ..
            }) => {
                let mut status = 503;
                for candidate in &candidates {
                    match self.plan_for(candidate, user.as_deref(), request, from.listener) {
                        Ok((plan, to)) => {
                            return Ok(Routed {
                                plan,
                                to,
                                registered: false,
                            });
                        }
                        Err(s) => status = s,
                    }
                }
                Err((status, Vec::new()))
            }
            Ok(RouteDecision::Registered { user, .. }) => {
                let binding = self
                    .registrar
                    .lookup(user.as_bytes())
                    .ok_or((404, Vec::new()))?;
                let aor =
                    Uri::parse(&Bytes::from(binding.aor.clone())).map_err(|_| (500, Vec::new()))?;
                let plan = self
                    .build_plan(
                        request,
                        from.listener,
                        binding.flow.listener,
                        binding.contact.clone(),
                        NameAddr::new(aor),
                    )
                    .map_err(|s| (s, Vec::new()))?;
                Ok(Routed {
                    plan,
                    to: binding.flow.clone(),
                    registered: true,
                })
            }
            Err(no) => Err((no.status(), no.headers())),
        }
    }

    /// Admission of an out-of-dialog request of `class` from `from`, the last step before it is
    /// relayed: the bounds on what the SBC holds (subscription dialogs, relayed transactions;
    /// 503 with `Retry-After` beyond them). The edge policy (ACL, bans, rate limits per method
    /// class, MESSAGE a class of its own) has already screened the request when it arrived
    /// ([`Core::policy_screen`]); verdicts that depend on the route (the target peer or phone)
    /// belong here.
    pub(crate) fn admit(
        &self,
        class: RequestClass,
        from: &Target,
        request: &Message,
    ) -> Result<(), Refusal> {
        let limits = &self.config.subscriptions;
        let full = match class {
            RequestClass::Subscribe => self.subs.len() >= limits.max_subscriptions,
            _ => self.subs.one_shots.len() >= limits.max_pending_requests,
        };
        if full {
            debug!(?class, remote = %from.remote, method = ?request.method(), "refused: table full");
            let retry = Header::new(HeaderName::RetryAfter, Bytes::from_static(b"5"));
            return Err((503, vec![retry]));
        }
        Ok(())
    }

    fn count_one_shot(&self, class: RequestClass, result: RelayResult) {
        match class {
            RequestClass::Message => self.metrics.one_shot(OneShotMethod::Message, result),
            RequestClass::Publish => self.metrics.one_shot(OneShotMethod::Publish, result),
            RequestClass::Notify => self.metrics.notify(result),
            RequestClass::Subscribe => {}
        }
    }

    /// An out-of-dialog MESSAGE, PUBLISH or NOTIFY (server transaction `key`) from `from`.
    pub(crate) fn one_shot(&mut self, key: TxKey, request: Message, from: Target, now: Instant) {
        let Some(class) = request.method().and_then(RequestClass::of) else {
            return self.reply(&key, &request, &from, 405, Vec::new());
        };
        let decision = self.one_shot_route(class, &request, &from, now);
        let routed = match decision {
            Ok(routed) => routed,
            Err((status, extra)) => {
                self.count_one_shot(class, RelayResult::Blocked);
                return self.reply(&key, &request, &from, status, extra);
            }
        };
        let relayed = oneshot::relay_request(&request, &routed.plan);
        self.count_out(&relayed, &routed.to);
        let reliable = routed.to.reliable();
        match self.layer.send_request(relayed, routed.to, reliable, now) {
            Ok(client) => {
                self.started(&client, TransactionKind::ClientNonInvite);
                self.subs.one_shots.insert(
                    client,
                    OneShot {
                        tx: key,
                        request,
                        from,
                        plan: routed.plan,
                        class,
                    },
                );
            }
            Err(e) => {
                debug!(error = %e, "relayed request refused by the transaction layer");
                self.count_one_shot(class, RelayResult::Failed);
                self.reply(&key, &request, &from, 500, Vec::new());
            }
        }
    }

    /// The checks and the route of a one-transaction request.
    fn one_shot_route(
        &self,
        class: RequestClass,
        request: &Message,
        from: &Target,
        now: Instant,
    ) -> Result<Routed, Refusal> {
        if let Some(status) = oneshot::refuse(request) {
            return Err((status, Vec::new()));
        }
        if class == RequestClass::Notify {
            // Out of any subscription only message waiting is relayed (RFC 3842 §3.1).
            let mwi = state::package(request).is_some_and(|p| {
                p.as_ref() == b"message-summary" && self.config.subscriptions.allows(&p)
            });
            if !mwi {
                let allow = Header::new(
                    HeaderName::AllowEvents,
                    Bytes::from_static(b"message-summary"),
                );
                return Err((489, vec![allow]));
            }
        }
        self.admit(class, from, request)?;
        let routed = self.route_out_of_dialog(request, from, now)?;
        if class == RequestClass::Notify && !routed.registered {
            // An unsolicited NOTIFY only goes from the PBX to a phone registered through the SBC.
            return Err((403, Vec::new()));
        }
        Ok(routed)
    }

    /// The final response (or, with `None`, the failure `status`) of a relayed one-transaction
    /// request; false when `key` is not one.
    pub(crate) fn one_shot_response(
        &mut self,
        key: &TxKey,
        response: Option<&Message>,
        status: u16,
    ) -> bool {
        if response.and_then(Message::status).is_some_and(|c| c < 200) {
            return self.subs.one_shots.contains_key(key);
        }
        let Some(pending) = self.subs.one_shots.remove(key) else {
            return false;
        };
        let tag = crate::b2bua::random::hex(&crate::b2bua::random::bytes::<8>());
        let answer = match response {
            Some(r) => oneshot::relay_response(&pending.request, r, tag.as_bytes(), &pending.plan),
            None => oneshot::own_response(
                &pending.request,
                status,
                tag.as_bytes(),
                &pending.plan.user_agent,
            ),
        };
        // A NOTIFY the phone refuses is a failed notification; any answer to a MESSAGE or
        // PUBLISH is the far end's, relayed.
        let result = match (response, answer.status()) {
            (None, _) => RelayResult::Failed,
            (Some(_), Some(200..=299)) => RelayResult::Relayed,
            (Some(_), _) if pending.class == RequestClass::Notify => RelayResult::Failed,
            (Some(_), _) => RelayResult::Relayed,
        };
        self.count_one_shot(pending.class, result);
        self.respond_on(&pending.tx, answer, &pending.from);
        true
    }
}
