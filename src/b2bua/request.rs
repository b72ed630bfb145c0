//! Requests the SBC originates outside any dialog (pure helpers): OPTIONS probes to peers,
//! keep-alives to phones, its own REGISTERs. The mandatory headers in RFC 3261 §8.1.1 order,
//! then the caller's own, then `User-Agent` and `Content-Length: 0`.

use crate::b2bua::random::encode;
use crate::sip::header::{CSeq, HeaderName, NameAddr, Via};
use crate::sip::message::{Header, Headers, Message, RequestLine, SIP_2_0, StartLine};
use crate::sip::method::Method;
use crate::sip::uri::Uri;
use bytes::Bytes;

/// Via, Max-Forwards (70), From, To, Call-ID and CSeq of a new request.
pub(crate) fn base_headers(
    via: &Via,
    from: &NameAddr,
    to: &NameAddr,
    call_id: Bytes,
    cseq: &CSeq,
) -> Headers {
    let mut headers = Headers::with_capacity(12);
    headers.push(Header::new(HeaderName::Via, encode(via, Via::write_to)));
    headers.push(Header::new(
        HeaderName::MaxForwards,
        Bytes::from_static(b"70"),
    ));
    headers.push(Header::new(
        HeaderName::From,
        encode(from, NameAddr::write_to),
    ));
    headers.push(Header::new(HeaderName::To, encode(to, NameAddr::write_to)));
    headers.push(Header::new(HeaderName::CallId, call_id));
    headers.push(Header::new(HeaderName::CSeq, encode(cseq, CSeq::write_to)));
    headers
}

/// The request: `headers` plus `User-Agent` (unless empty) and `Content-Length: 0`.
pub(crate) fn finish(
    method: Method,
    uri: &Uri,
    mut headers: Headers,
    user_agent: &Bytes,
) -> Message {
    if !user_agent.is_empty() {
        headers.push(Header::new(HeaderName::UserAgent, user_agent.clone()));
    }
    headers.push(Header::new(
        HeaderName::ContentLength,
        Bytes::from_static(b"0"),
    ));
    Message {
        start: StartLine::Request(RequestLine {
            method,
            uri: encode(uri, Uri::write_to),
            version: Bytes::from_static(SIP_2_0),
        }),
        headers,
        body: Bytes::new(),
    }
}
