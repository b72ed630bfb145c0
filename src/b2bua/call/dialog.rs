//! One leg's dialog state and the messages built from it (pure): RFC 3261 §12 (dialog state:
//! Call-ID, tags, CSeq, remote target, route set), §12.2.1.1 (in-dialog requests), §13.2.2.4
//! (ACK for a 2xx), §9.1 (CANCEL), §12.1.1 (UAS copies Record-Route into dialog-creating
//! responses).

use crate::sip::header::{CSeq, HeaderName, MaxForwards, NameAddr, Via};
use crate::sip::message::{Header, Headers, Message, RequestLine, SIP_2_0, StartLine};
use crate::sip::method::Method;
use crate::sip::uri::Uri;
use bytes::Bytes;

/// The dialog the SBC holds with the peer of one leg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    /// Call-ID of this leg.
    pub call_id: Bytes,
    /// The SBC's tag on this leg.
    pub local_tag: Bytes,
    /// The peer's tag, once known.
    pub remote_tag: Option<Bytes>,
    /// The SBC's URI on this leg (From of its requests), without tag.
    pub local_uri: NameAddr,
    /// The peer's URI (To of the SBC's requests), without tag.
    pub remote_uri: NameAddr,
    /// The last CSeq the SBC used on this leg.
    pub local_cseq: u32,
    /// The last CSeq the peer used, once it sent a request.
    pub remote_cseq: Option<u32>,
    /// Where in-dialog requests go (the peer's Contact).
    pub remote_target: Uri,
    /// Route set for in-dialog requests, first hop first.
    pub route_set: Vec<NameAddr>,
}

/// Why an in-dialog request does not fit the dialog.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialogError {
    /// Call-ID or tags do not match (481, RFC 3261 §12.2.2).
    #[error("request does not match the dialog")]
    NoMatch,
    /// The CSeq is not higher than the last one (500, §12.2.2).
    #[error("CSeq out of order")]
    OutOfOrder,
    /// A mandatory header does not parse (400).
    #[error("malformed request")]
    Malformed,
}

impl DialogError {
    /// The status answering the request.
    pub fn status(&self) -> u16 {
        match self {
            DialogError::NoMatch => 481,
            DialogError::OutOfOrder => 500,
            DialogError::Malformed => 400,
        }
    }
}

fn tagged(addr: &NameAddr, tag: Option<&Bytes>) -> Bytes {
    let mut a = addr.clone();
    if let Some(t) = tag {
        a.set_tag(t.clone());
    }
    Bytes::from(a.to_string())
}

/// Prints `v` as a header value.
pub(crate) fn value(v: impl std::fmt::Display) -> Bytes {
    Bytes::from(v.to_string())
}

impl Dialog {
    /// Checks a request from the peer against the dialog and records its CSeq (RFC 3261
    /// §12.2.2). CANCEL and ACK do not advance the CSeq.
    pub fn accept_request(&mut self, request: &Message) -> Result<(), DialogError> {
        let call_id = request.call_id().map_err(|_| DialogError::Malformed)?;
        let from = request.from_header().map_err(|_| DialogError::Malformed)?;
        let to = request.to_header().map_err(|_| DialogError::Malformed)?;
        let cseq = request.cseq().map_err(|_| DialogError::Malformed)?;
        let remote_ok = match &self.remote_tag {
            Some(tag) => from.tag() == Some(tag),
            None => true,
        };
        if call_id.as_bytes() != &self.call_id || to.tag() != Some(&self.local_tag) || !remote_ok {
            return Err(DialogError::NoMatch);
        }
        if matches!(cseq.method, Method::Ack | Method::Cancel) {
            return Ok(());
        }
        if self.remote_cseq.is_some_and(|last| cseq.seq <= last) {
            return Err(DialogError::OutOfOrder);
        }
        self.remote_cseq = Some(cseq.seq);
        Ok(())
    }

    /// Takes the peer's Contact as the new remote target (target refresh, §12.2).
    pub fn refresh_target(&mut self, message: &Message) {
        if let Some(addr) = message
            .contacts()
            .ok()
            .and_then(|c| c.into_iter().next())
            .and_then(|c| c.addr().cloned())
        {
            self.remote_target = addr.uri;
        }
    }

    /// A new request on this leg with the next CSeq: Via, Max-Forwards, Route, From, To,
    /// Call-ID, CSeq, and Contact for target-refresh and dialog-creating methods.
    pub fn request(
        &mut self,
        method: Method,
        via: &Via,
        max_forwards: MaxForwards,
        contact: &Uri,
    ) -> Message {
        self.local_cseq += 1;
        self.build(method, self.local_cseq, via, max_forwards, contact)
    }

    /// A request with an explicit CSeq number (ACK reuses its INVITE's).
    pub fn build(
        &self,
        method: Method,
        seq: u32,
        via: &Via,
        max_forwards: MaxForwards,
        contact: &Uri,
    ) -> Message {
        let mut headers = Headers::with_capacity(12);
        headers.push(Header::new(HeaderName::Via, value(via)));
        headers.push(Header::new(HeaderName::MaxForwards, value(max_forwards)));
        for route in &self.route_set {
            headers.push(Header::new(HeaderName::Route, value(route)));
        }
        headers.push(Header::new(
            HeaderName::From,
            tagged(&self.local_uri, Some(&self.local_tag)),
        ));
        headers.push(Header::new(
            HeaderName::To,
            tagged(&self.remote_uri, self.remote_tag.as_ref()),
        ));
        headers.push(Header::new(HeaderName::CallId, self.call_id.clone()));
        headers.push(Header::new(
            HeaderName::CSeq,
            value(CSeq::new(seq, method.clone())),
        ));
        if matches!(
            method,
            Method::Invite | Method::Update | Method::Subscribe | Method::Refer | Method::Notify
        ) {
            headers.push(Header::new(
                HeaderName::Contact,
                value(NameAddr::new(contact.clone())),
            ));
        }
        headers.push(Header::new(
            HeaderName::ContentLength,
            Bytes::from_static(b"0"),
        ));
        Message {
            start: StartLine::Request(RequestLine {
                method,
                uri: value(&self.remote_target),
                version: Bytes::from_static(SIP_2_0),
            }),
            headers,
            body: Bytes::new(),
        }
    }
}

/// The CANCEL for `invite` (RFC 3261 §9.1): same Request-URI, top Via, Route, Call-ID, From,
/// To and CSeq number.
pub fn cancel_for(invite: &Message) -> Message {
    let mut headers = Headers::with_capacity(8);
    if let Ok(via) = invite.top_via() {
        headers.push(Header::new(HeaderName::Via, value(via)));
    }
    headers.push(Header::new(
        HeaderName::MaxForwards,
        Bytes::from_static(b"70"),
    ));
    for h in &invite.headers {
        if matches!(
            h.name,
            HeaderName::Route | HeaderName::From | HeaderName::To | HeaderName::CallId
        ) {
            headers.push(h.clone());
        }
    }
    let seq = invite.cseq().map(|c| c.seq).unwrap_or(1);
    headers.push(Header::new(
        HeaderName::CSeq,
        value(CSeq::new(seq, Method::Cancel)),
    ));
    headers.push(Header::new(
        HeaderName::ContentLength,
        Bytes::from_static(b"0"),
    ));
    let uri = invite
        .request_line()
        .map(|l| l.uri.clone())
        .unwrap_or_default();
    Message {
        start: StartLine::Request(RequestLine {
            method: Method::Cancel,
            uri,
            version: Bytes::from_static(SIP_2_0),
        }),
        headers,
        body: Bytes::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::uri::{Host, SipUri};

    fn dialog() -> Dialog {
        let uri = |h: &str| Uri::Sip(SipUri::new(Host::Name(Bytes::from(h.to_owned())), None));
        Dialog {
            call_id: Bytes::from_static(b"c1"),
            local_tag: Bytes::from_static(b"l"),
            remote_tag: Some(Bytes::from_static(b"r")),
            local_uri: NameAddr::new(uri("sbc.example")),
            remote_uri: NameAddr::new(uri("peer.example")),
            local_cseq: 4,
            remote_cseq: Some(10),
            remote_target: uri("target.example"),
            route_set: vec![NameAddr::parse(&Bytes::from_static(b"<sip:p1;lr>")).unwrap()],
        }
    }

    #[test]
    fn in_dialog_request_shape() {
        let mut d = dialog();
        let via = Via::new(
            Bytes::from_static(b"UDP"),
            Host::Name(Bytes::from_static(b"sbc")),
            None,
            Bytes::from_static(b"z9hG4bKx"),
        );
        let contact = Uri::parse(&Bytes::from_static(b"sip:sbc")).unwrap();
        let bye = d.request(Method::Bye, &via, MaxForwards::DEFAULT, &contact);
        assert_eq!(bye.request_line().unwrap().uri, "sip:target.example");
        assert_eq!(bye.cseq().unwrap(), CSeq::new(5, Method::Bye));
        assert_eq!(bye.from_header().unwrap().tag().unwrap(), "l");
        assert_eq!(bye.to_header().unwrap().tag().unwrap(), "r");
        assert_eq!(bye.routes().unwrap().len(), 1);
        assert!(bye.contacts().unwrap().is_empty());
        let cancel = cancel_for(&bye);
        assert_eq!(cancel.cseq().unwrap(), CSeq::new(5, Method::Cancel));
        assert_eq!(cancel.top_via().unwrap().branch().unwrap(), "z9hG4bKx");
    }
}
