//! Building responses from a request (pure): RFC 3261 §8.2.6.2 — the response copies Via (all of
//! them, in order), From, To, Call-ID and CSeq, and the UAS adds a To tag unless one is present
//! (a 100 Trying carries none). Works from a request *head* too, so malformed requests can be
//! answered with whatever headers parsed.

use crate::error::reason_phrase;
use crate::sip::error::ParseError;
use crate::sip::header::{HeaderName, NameAddr};
use crate::sip::message::{Header, Headers, Message, SIP_2_0, StartLine, StatusLine};
use bytes::{BufMut, Bytes, BytesMut};

/// Builds the response `code` to `request`. `to_tag` is added to To when To has no tag (pass
/// `None` for 100 Trying); `reason` overrides the standard reason phrase.
pub fn response_to(
    request: &Message,
    code: u16,
    reason: Option<&str>,
    to_tag: Option<&[u8]>,
) -> Message {
    let mut headers = Headers::with_capacity(8);
    for h in &request.headers {
        match h.name {
            HeaderName::Via | HeaderName::From | HeaderName::CallId | HeaderName::CSeq => {
                headers.push(h.clone())
            }
            HeaderName::To => headers.push(Header {
                value: with_tag(&h.value, to_tag),
                ..h.clone()
            }),
            _ => {}
        }
    }
    headers.push(Header::new(
        HeaderName::ContentLength,
        Bytes::from_static(b"0"),
    ));
    Message {
        start: StartLine::Response(StatusLine {
            version: Bytes::from_static(SIP_2_0),
            code,
            reason: Bytes::copy_from_slice(reason.unwrap_or(reason_phrase(code)).as_bytes()),
        }),
        headers,
        body: Bytes::new(),
    }
}

/// The error response for a refused request: the mapped status, plus `Unsupported` for 420
/// (RFC 3261 §8.2.2.3).
pub fn error_response(
    request_head: &Message,
    error: &ParseError,
    status: u16,
    to_tag: &[u8],
) -> Message {
    let mut resp = response_to(request_head, status, None, Some(to_tag));
    if let ParseError::BadExtension(tags) = error {
        let mut value = BytesMut::new();
        for (i, tag) in tags.iter().enumerate() {
            if i > 0 {
                value.put_slice(b", ");
            }
            value.put_slice(tag);
        }
        resp.headers
            .push(Header::new(HeaderName::Unsupported, value.freeze()));
    }
    resp
}

/// Appends `;tag=` to a To value that has none. A To that does not parse is copied as it is.
fn with_tag(to: &Bytes, tag: Option<&[u8]>) -> Bytes {
    let Some(tag) = tag else { return to.clone() };
    match NameAddr::parse(to) {
        Ok(addr) if addr.tag().is_none() => {
            let mut out = BytesMut::with_capacity(to.len() + 5 + tag.len());
            out.put_slice(to);
            out.put_slice(b";tag=");
            out.put_slice(tag);
            out.freeze()
        }
        _ => to.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::validate::{Disposition, Validator};

    const REQ: &[u8] = b"OPTIONS sip:sbc@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport\r\n\
Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK0\r\n\
From: <sip:alice@example.org>;tag=a1\r\n\
To: <sip:sbc@example.com>\r\n\
Call-ID: c1@192.0.2.1\r\n\
CSeq: 7 OPTIONS\r\n\
Require: foo, bar\r\n\
Content-Length: 0\r\n\r\n";

    #[test]
    fn copies_dialog_headers_and_adds_a_tag() {
        let req = crate::sip::parse_datagram(Bytes::from_static(REQ), &Default::default()).unwrap();
        let resp = response_to(&req, 200, None, Some(b"xyz"));
        assert_eq!(resp.status(), Some(200));
        assert_eq!(resp.headers.count(HeaderName::Via), 2);
        assert_eq!(resp.to_header().unwrap().tag().unwrap(), "xyz");
        assert_eq!(resp.call_id().unwrap().as_bytes(), "c1@192.0.2.1");
        assert_eq!(resp.headers.get(HeaderName::ContentLength).unwrap(), "0");
        assert!(resp.headers.get(HeaderName::Require).is_none());
        let trying = response_to(&req, 100, None, None);
        assert!(trying.to_header().unwrap().tag().is_none());
    }

    #[test]
    fn bad_extension_lists_unsupported_tags() {
        let Disposition::Reject {
            status,
            error,
            head,
        } = Validator::default().inspect_datagram(Bytes::from_static(REQ))
        else {
            panic!("not rejected");
        };
        let resp = error_response(&head, &error, status, b"t");
        assert_eq!(resp.status(), Some(420));
        assert_eq!(
            resp.headers.get(HeaderName::Unsupported).unwrap(),
            "foo, bar"
        );
        assert_eq!(resp.status_line().unwrap().reason, "Bad Extension");
    }
}
