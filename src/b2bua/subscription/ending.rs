//! How a subscription ends when nobody ends it with a NOTIFY (pure): at expiry (RFC 6665
//! §4.2.2: the subscriber gets `terminated;reason=timeout`), and when the flow to one side is
//! gone (its TCP/TLS connection closed): the notifier gets an unsubscribe (§4.1.2.3), or the
//! subscriber a `terminated;reason=deactivated` NOTIFY, which invites it to subscribe again
//! (§4.1.3).

use super::{Phase, SubAction, SubEnd, Subscription};
use crate::b2bua::call::Leg;
use crate::b2bua::call::relay::stamp_agent;
use crate::sip::header::{HeaderName, MaxForwards};
use crate::sip::message::Header;
use crate::sip::method::Method;
use bytes::Bytes;
use std::time::Instant;

impl Subscription {
    /// A request of the SBC's own on `leg`, in that leg's dialog, with the subscription's
    /// `Event` and `extra` (name, value).
    fn own_request(
        &mut self,
        leg: Leg,
        method: Method,
        extra: (HeaderName, &'static [u8]),
    ) -> SubAction {
        let local = self.local(leg).clone();
        let via = self.ids.via(leg, &local);
        let mut request =
            self.dialog(leg)
                .request(method, &via, MaxForwards::DEFAULT, &local.contact);
        request
            .headers
            .push(Header::new(HeaderName::Event, self.event.clone()));
        request
            .headers
            .push(Header::new(extra.0, Bytes::from_static(extra.1)));
        stamp_agent(&mut request, &self.plan.user_agent);
        SubAction::SendRequest { leg, request }
    }

    pub(super) fn on_expired(&mut self, now: Instant, out: &mut Vec<SubAction>) {
        if self.expires_at.is_some_and(|at| at > now) {
            return;
        }
        if self.phase != Phase::Pending {
            let state = (
                HeaderName::SubscriptionState,
                &b"terminated;reason=timeout"[..],
            );
            out.push(self.own_request(Leg::A, Method::Notify, state));
        }
        self.end(SubEnd::Expired, out);
    }

    /// The flow toward `leg` is gone: the other side hears that the subscription is over.
    pub(super) fn on_gone(&mut self, leg: Leg, out: &mut Vec<SubAction>) {
        let established = self.b.remote_tag.is_some();
        match leg {
            Leg::A if established => {
                let expires = (HeaderName::Expires, &b"0"[..]);
                out.push(self.own_request(Leg::B, Method::Subscribe, expires));
            }
            Leg::A => {}
            Leg::B => {
                let state = (
                    HeaderName::SubscriptionState,
                    &b"terminated;reason=deactivated"[..],
                );
                out.push(self.own_request(Leg::A, Method::Notify, state));
            }
        }
        self.end(SubEnd::Failed, out);
    }
}
