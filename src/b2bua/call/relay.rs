//! Carrying content from one leg to the other (pure): the header allow-list, the body seam for
//! media anchoring, and the mapping of B's final responses to what A may see (RFC 3261 §16.7
//! items 6 and 9 as guidance for an element in the middle, §21 for the status classes).

use super::Leg;
use super::plan::HeaderPolicy;
use super::refusal::MediaRefusal;
use crate::error::reason_phrase;
use crate::sip::header::HeaderName;
use crate::sip::message::{Header, Message};
use crate::sip::method::Method;
use bytes::Bytes;

/// What a body is, for the body transform: which leg it came from, and in which message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyContext<'a> {
    /// The leg the body arrived on (it leaves on the other one).
    pub from: Leg,
    /// The request method, or the method of the request the response answers.
    pub method: &'a Method,
    /// The response status, `None` for requests (ACK included).
    pub status: Option<u16>,
    /// The body's Content-Type, if any.
    pub content_type: Option<&'a Bytes>,
}

/// The seam for media anchoring: every non-empty body crossing between legs (SDP offers and
/// answers in INVITE, 18x, 2xx, ACK, UPDATE, PRACK) passes through it. The default carries bodies
/// unchanged; the media layer installs one that rewrites `c=`/`m=` to the relay's addresses
/// (offer on requests and on 2xx/18x of a late offer, answer otherwise). It must be synchronous
/// and pure with respect to the call: it sees a body, returns a body — or a [`MediaRefusal`]
/// when no line of it can be anchored, which the call turns into a final response toward the
/// leg that sent it (and leaves the transform's state as it was before the body).
pub type BodyTransform =
    Box<dyn FnMut(&BodyContext<'_>, Bytes) -> Result<Bytes, MediaRefusal> + Send>;

/// Copies the allow-listed headers of `src` onto `dst`.
pub(crate) fn carry_headers(src: &Message, dst: &mut Message, policy: &HeaderPolicy) {
    for h in &src.headers {
        if policy.allows(h) {
            dst.headers.push(h.clone());
        }
    }
}

/// Puts `src`'s body and Content-Type on `dst` unchanged (messages that carry no session
/// description, such as NOTIFY and MESSAGE).
pub(crate) fn copy_body(src: &Message, dst: &mut Message) {
    if !src.body.is_empty() {
        let content_type = src.headers.get(HeaderName::ContentType).cloned();
        dst.set_body(src.body.clone(), content_type);
    }
}

/// Puts `src`'s body (through `transform`) and Content-Type on `dst`; when the transform
/// refuses the body, `dst` is left without one and the refusal is returned.
pub(crate) fn carry_body(
    src: &Message,
    dst: &mut Message,
    from: Leg,
    method: &Method,
    transform: &mut Option<BodyTransform>,
) -> Result<(), MediaRefusal> {
    if src.body.is_empty() {
        return Ok(());
    }
    let content_type = src.headers.get(HeaderName::ContentType).cloned();
    let ctx = BodyContext {
        from,
        method,
        status: src.status(),
        content_type: content_type.as_ref(),
    };
    let body = match transform {
        Some(f) => f(&ctx, src.body.clone())?,
        None => src.body.clone(),
    };
    dst.set_body(body, content_type);
    Ok(())
}

/// The SDP offer a 2xx `response` to `request` carries when `request` went without a body
/// (late offer): its ACK must carry an answer (RFC 3261 §13.2.2.4), so if the SBC will not
/// keep the 2xx, [`rejecting_answer`] answers it. `None` when there is no offer or it is not
/// SDP. Only a reference-counted copy of the body; nothing is parsed here.
pub(crate) fn late_offer(request: &Message, response: &Message) -> Option<Bytes> {
    let sdp = declares_sdp(response.headers.get(HeaderName::ContentType));
    (sdp && request.body.is_empty() && !response.body.is_empty()).then(|| response.body.clone())
}

/// Whether a body with this `Content-Type` value is read as SDP: `application/sdp` (any case,
/// any parameters) or no type at all. The media transform and [`late_offer`] both go by it, so
/// an offer the transform refused as SDP is the one the ACK answers.
pub(crate) fn declares_sdp(content_type: Option<&Bytes>) -> bool {
    content_type.is_none_or(|ct| ct.to_ascii_lowercase().starts_with(b"application/sdp"))
}

/// The answer to a late `offer` that rejects every stream (RFC 3264 §6), for an ACK after
/// which the dialog ends; `None` when the offer cannot be read.
pub(crate) fn rejecting_answer(offer: &Bytes) -> Option<Bytes> {
    crate::sdp::reject_all(offer, &crate::sdp::SdpLimits::DEFAULT)
}

/// Adds the configured software name: `User-Agent` on requests, `Server` on responses.
pub(crate) fn stamp_agent(msg: &mut Message, agent: &Bytes) {
    let name = if msg.is_request() {
        HeaderName::UserAgent
    } else {
        HeaderName::Server
    };
    if !agent.is_empty() {
        msg.headers.push(Header::new(name, agent.clone()));
    }
}

/// What A sees for B's final non-2xx status `code` with reason `reason`:
/// - 3xx becomes `480 Temporarily Unavailable`: a redirect would hand A the callee side's
///   Contact (topology), and the SBC does not recurse on redirects itself;
/// - 401/407 become `403 Forbidden`: a challenge for B's realm means nothing to A, and the
///   digest would not verify across the rewritten URIs;
/// - 503 becomes `500`: a 503 would tell A that the SBC itself is overloaded (§16.7 item 6);
/// - every other code is kept with its reason phrase, if the phrase is printable text.
pub fn map_final(code: u16, reason: &Bytes) -> (u16, String) {
    let mapped = match code {
        300..=399 => 480,
        401 | 407 => 403,
        503 => 500,
        c => c,
    };
    let text = std::str::from_utf8(reason)
        .ok()
        .filter(|t| !t.is_empty() && !t.chars().any(char::is_control));
    match text {
        Some(t) if mapped == code => (code, t.to_owned()),
        _ => (mapped, reason_phrase(mapped).to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_status_mapping() {
        let cases: [(u16, &str, u16, &str); 8] = [
            (486, "Busy Here", 486, "Busy Here"),
            (404, "Nicht gefunden", 404, "Nicht gefunden"),
            (302, "Moved Temporarily", 480, "Temporarily Unavailable"),
            (407, "Proxy Authentication Required", 403, "Forbidden"),
            (503, "Service Unavailable", 500, "Server Internal Error"),
            (603, "Decline", 603, "Decline"),
            (480, "", 480, "Temporarily Unavailable"),
            (486, "bad\r\nphrase", 486, "Busy Here"),
        ];
        for (code, reason, want, want_reason) in cases {
            let (c, r) = map_final(code, &Bytes::copy_from_slice(reason.as_bytes()));
            assert_eq!((c, r.as_str()), (want, want_reason), "{code}");
        }
    }
}
