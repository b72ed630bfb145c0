//! Answering a trunk's digest challenge on the B leg (pure): a `401`/`407` to B's INVITE is not
//! relayed when the plan carries credentials for the target peer; the INVITE is sent again with
//! a new branch, the next CSeq and the credentials (RFC 3261 §22.2, §8.1.3.5). The caller sees
//! nothing of it. A second challenge for the same realm without `stale=true` means the
//! credentials are wrong, and the challenge is mapped to A like any other failure.

use super::Leg;
use super::dialog::value;
use super::{Cx, Live, Outgoing, Purpose};
use crate::sip::auth::RequestInfo;
use crate::sip::header::{CSeq, HeaderName};
use crate::sip::message::{Header, Message};
use crate::sip::method::Method;
use tracing::debug;

impl Live {
    /// Sends B's INVITE again with credentials answering `challenge` (a 401/407 to it).
    /// Returns false, sending nothing, when there are no credentials or the challenge cannot
    /// (or must no longer) be answered.
    pub(super) fn answer_challenge(&mut self, cx: &mut Cx<'_>, challenge: &Message) -> bool {
        let Some(credentials) = cx.plan.credentials.as_ref() else {
            return false;
        };
        let Some(line) = self.b_invite.request_line() else {
            return false;
        };
        let uri = String::from_utf8_lossy(&line.uri).into_owned();
        let request = RequestInfo {
            method: "INVITE",
            uri: &uri,
            body: &self.b_invite.body,
        };
        let random = cx.ids.nonce();
        let answers = match self
            .auth
            .on_response(challenge, credentials, &request, &random)
        {
            Ok(answers) => answers.to_vec(),
            Err(error) => {
                debug!(%error, "trunk challenge not answered");
                return false;
            }
        };
        let mut invite = self.b_invite.clone();
        invite.headers.remove(HeaderName::Authorization);
        invite.headers.remove(HeaderName::ProxyAuthorization);
        for answer in answers {
            invite
                .headers
                .push(Header::new(answer.header, answer.value));
        }
        self.b.local_cseq += 1;
        let cseq = CSeq {
            seq: self.b.local_cseq,
            method: Method::Invite,
        };
        invite.headers.set(HeaderName::CSeq, value(&cseq));
        let via = cx.ids.via(Leg::B, &cx.plan.b_local);
        invite.headers.set(HeaderName::Via, value(&via));
        // A provisional before the challenge may have created an early dialog; the new INVITE
        // starts over (its To carries no tag).
        self.b.remote_tag = None;
        self.b.remote_cseq = None;
        let Some(tx) = cx.send(Leg::B, invite.clone()) else {
            return false;
        };
        self.out.remove(&self.b_tx);
        self.out.insert(
            tx.clone(),
            Outgoing {
                leg: Leg::B,
                purpose: Purpose::Invite,
            },
        );
        self.b_tx = tx;
        self.b_invite = invite;
        true
    }
}
