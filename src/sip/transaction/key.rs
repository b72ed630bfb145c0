//! Transaction matching keys (pure): RFC 3261 §17.1.3 (responses to client transactions),
//! §17.2.3 (requests to server transactions), §9.2 (CANCEL), and the RFC 2543 fallback for
//! requests whose top Via branch lacks the `z9hG4bK` cookie.
//!
//! An RFC 3261 key is the top Via branch, its sent-by (host:port) and the method, where ACK
//! takes the INVITE's key. CANCEL has its own key (method CANCEL); the INVITE it cancels has the
//! same key with method INVITE ([`TxKey::with_method`]). The RFC 2543 key is the Request-URI,
//! To tag, From tag, Call-ID, CSeq number, top Via and method. Both forms compare the
//! Request-URI and top Via byte-exact, host names case-insensitively.

use crate::sip::error::ParseError;
use crate::sip::header::via::BRANCH_COOKIE;
use crate::sip::message::Message;
use crate::sip::method::Method;
use crate::sip::uri::Host;
use bytes::{BufMut, Bytes, BytesMut};

/// The sent-by of a Via: host (names lowercased) and port as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SentBy {
    /// Host; domain names are lowercased so comparison is case-insensitive.
    pub host: Host,
    /// Port, if the Via carried one (an absent port does not equal an explicit 5060).
    pub port: Option<u16>,
}

/// Identifies one transaction (RFC 3261 §17.1.3, §17.2.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TxKey {
    /// A top Via branch with the `z9hG4bK` cookie.
    Rfc3261 {
        /// The branch parameter, byte-exact.
        branch: Bytes,
        /// The top Via sent-by.
        sent_by: SentBy,
        /// The method (INVITE for an ACK).
        method: Method,
    },
    /// RFC 2543 fallback (§17.2.3): the branch is absent or lacks the cookie.
    Rfc2543 {
        /// Request-URI, byte-exact.
        request_uri: Bytes,
        /// To tag of the request.
        to_tag: Option<Bytes>,
        /// From tag.
        from_tag: Option<Bytes>,
        /// Call-ID.
        call_id: Bytes,
        /// CSeq number.
        cseq: u32,
        /// The top Via value, re-printed in canonical form.
        top_via: Bytes,
        /// The method (INVITE for an ACK).
        method: Method,
    },
}

impl TxKey {
    /// The key of a request as a server transaction sees it. An ACK yields the key of the INVITE
    /// it acknowledges.
    pub fn for_request(request: &Message) -> Result<TxKey, ParseError> {
        let method = match request.method().ok_or(ParseError::BadStartLine)? {
            Method::Ack => Method::Invite,
            m => m.clone(),
        };
        let via = request.top_via()?;
        if via.is_rfc3261_branch() {
            let branch = via.branch().cloned().unwrap_or_default();
            return Ok(TxKey::Rfc3261 {
                branch,
                sent_by: sent_by(&via.host, via.port),
                method,
            });
        }
        let line = request.request_line().ok_or(ParseError::BadStartLine)?;
        Ok(TxKey::Rfc2543 {
            request_uri: line.uri.clone(),
            to_tag: request.to_header()?.tag().cloned(),
            from_tag: request.from_header()?.tag().cloned(),
            call_id: request.call_id()?.as_bytes().clone(),
            cseq: request.cseq()?.seq,
            top_via: Bytes::from(via.to_string()),
            method,
        })
    }

    /// The key of the client transaction a response belongs to: its top Via branch and sent-by
    /// and its CSeq method (§17.1.3). `None` when the branch lacks the cookie: this layer only
    /// sends RFC 3261 branches, so such a response matches nothing.
    pub fn for_response(response: &Message) -> Result<Option<TxKey>, ParseError> {
        let via = response.top_via()?;
        let method = response.cseq()?.method;
        if !via.is_rfc3261_branch() {
            return Ok(None);
        }
        Ok(Some(TxKey::Rfc3261 {
            branch: via.branch().cloned().unwrap_or_default(),
            sent_by: sent_by(&via.host, via.port),
            method,
        }))
    }

    /// The transaction's method (INVITE for an INVITE transaction, whatever ACKs it).
    pub fn method(&self) -> &Method {
        match self {
            TxKey::Rfc3261 { method, .. } | TxKey::Rfc2543 { method, .. } => method,
        }
    }

    /// The same key for another method: a CANCEL's key with [`Method::Invite`] is the key of the
    /// INVITE it cancels (§9.2).
    pub fn with_method(&self, method: Method) -> TxKey {
        let mut key = self.clone();
        match &mut key {
            TxKey::Rfc3261 { method: m, .. } | TxKey::Rfc2543 { method: m, .. } => *m = method,
        }
        key
    }

    /// For an RFC 2543 key, the same key with no To tag: an ACK carries the tag of the response
    /// it acknowledges while the INVITE that created the transaction usually carried none.
    pub(crate) fn without_to_tag(&self) -> Option<TxKey> {
        match self {
            TxKey::Rfc2543 {
                to_tag: Some(_), ..
            } => {
                let mut key = self.clone();
                if let TxKey::Rfc2543 { to_tag, .. } = &mut key {
                    *to_tag = None;
                }
                Some(key)
            }
            _ => None,
        }
    }

    /// For an RFC 2543 key, the request's To tag.
    pub(crate) fn to_tag(&self) -> Option<&Bytes> {
        match self {
            TxKey::Rfc2543 { to_tag, .. } => to_tag.as_ref(),
            TxKey::Rfc3261 { .. } => None,
        }
    }
}

fn sent_by(host: &Host, port: Option<u16>) -> SentBy {
    let host = match host {
        Host::Name(name) if name.iter().any(u8::is_ascii_uppercase) => {
            Host::Name(Bytes::from(name.to_ascii_lowercase()))
        }
        other => other.clone(),
    };
    SentBy { host, port }
}

/// A fresh RFC 3261 branch (`z9hG4bK` + 32 hex digits) from caller-supplied random bytes; the
/// layer has no random number generator of its own.
pub fn branch_from(random: &[u8; 16]) -> Bytes {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = BytesMut::with_capacity(BRANCH_COOKIE.len() + 32);
    out.put_slice(BRANCH_COOKIE);
    for b in random {
        out.put_u8(HEX[usize::from(b >> 4)]);
        out.put_u8(HEX[usize::from(b & 0x0f)]);
    }
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::transaction::testing::{INV2543, parse, request};

    #[test]
    fn branch_has_cookie_and_hex() {
        let b = branch_from(&[0xab; 16]);
        assert!(b.starts_with(BRANCH_COOKIE));
        assert_eq!(b.len(), 7 + 32);
        assert!(b[7..].iter().all(|&c| c == b'a' || c == b'b'));
    }

    #[test]
    fn ack_takes_the_invite_key_and_cancel_links_to_it() {
        let invite = request("INVITE", "z9hG4bKx", "192.0.2.1:5060");
        let ack = request("ACK", "z9hG4bKx", "192.0.2.1:5060");
        let cancel = request("CANCEL", "z9hG4bKx", "192.0.2.1:5060");
        let ik = TxKey::for_request(&invite).unwrap();
        assert_eq!(TxKey::for_request(&ack).unwrap(), ik);
        let ck = TxKey::for_request(&cancel).unwrap();
        assert_ne!(ck, ik);
        assert_eq!(ck.with_method(Method::Invite), ik);
        assert_eq!(ck.method(), &Method::Cancel);
    }

    #[test]
    fn sent_by_is_part_of_the_key() {
        let a = TxKey::for_request(&request("BYE", "z9hG4bKx", "192.0.2.1:5060")).unwrap();
        let b = TxKey::for_request(&request("BYE", "z9hG4bKx", "192.0.2.2:5060")).unwrap();
        let c = TxKey::for_request(&request("BYE", "z9hG4bKx", "192.0.2.1")).unwrap();
        let d = TxKey::for_request(&request("BYE", "z9hG4bKx", "PBX.example.com")).unwrap();
        let e = TxKey::for_request(&request("BYE", "z9hG4bKx", "pbx.EXAMPLE.com")).unwrap();
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(d, e);
    }

    #[test]
    fn rfc2543_request_gets_the_fallback_key() {
        let inv = parse(INV2543);
        let TxKey::Rfc2543 {
            cseq,
            to_tag,
            call_id,
            ..
        } = TxKey::for_request(&inv).unwrap()
        else {
            panic!("expected a fallback key");
        };
        assert_eq!(cseq, 56);
        assert_eq!(to_tag, None);
        assert_eq!(call_id, "inv2543.1717@ift.client.example.com");
    }

    #[test]
    fn response_key_uses_cseq_method() {
        let req = request("CANCEL", "z9hG4bKx", "192.0.2.1:5060");
        let resp = crate::sip::response::response_to(&req, 200, None, Some(b"t"));
        assert_eq!(
            TxKey::for_response(&resp).unwrap(),
            Some(TxKey::for_request(&req).unwrap())
        );
        let old = request("OPTIONS", "1234", "192.0.2.1");
        let resp = crate::sip::response::response_to(&old, 200, None, Some(b"t"));
        assert_eq!(TxKey::for_response(&resp).unwrap(), None);
    }
}
