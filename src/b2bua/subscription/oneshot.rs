//! Out-of-dialog requests relayed as one transaction each (pure): RFC 3428 MESSAGE, RFC 3903
//! PUBLISH and the unsolicited NOTIFY of message waiting (RFC 3842 §3.1, out of any
//! subscription). The B2BUA acts like a stateless proxy that hides both sides: the request on the
//! other side has its own Call-ID, From tag, Via and CSeq, carries only allow-listed headers plus
//! what the method needs (`Expires`, `SIP-If-Match`), and the body untouched; the final response
//! is mapped back onto the original request ([`map_final`]) with what the sender needs
//! (`SIP-ETag`, `Expires`, `Min-Expires`).

use crate::b2bua::call::ids::Ids;
use crate::b2bua::call::relay::{carry_headers, copy_body, stamp_agent};
use crate::b2bua::call::{CallPlan, Dialog, Leg, map_final};
use crate::sip::header::{HeaderName, MaxForwards};
use crate::sip::message::Message;
use crate::sip::method::Method;
use crate::sip::response::response_to;

/// RFC 3903 §11.3.1: the entity tag of a publication, in responses.
const SIP_ETAG: &[u8] = b"SIP-ETag";
/// RFC 3903 §11.3.2: the entity tag a refresh, modify or remove applies to.
const SIP_IF_MATCH: &[u8] = b"SIP-If-Match";

/// Why a request cannot be relayed: the status answering it.
pub fn refuse(request: &Message) -> Option<u16> {
    let method = request.method()?;
    if !matches!(method, Method::Message | Method::Publish | Method::Notify) {
        return Some(405);
    }
    match request.max_forwards() {
        Ok(Some(mf)) if mf.decremented().is_none() => Some(483),
        Ok(_) => None,
        Err(_) => Some(400),
    }
}

/// The B side's dialog before its first request: the plan's From, To, Request-URI and route,
/// the Call-ID and tag minted by `ids`.
pub(super) fn b_dialog(ids: &Ids, plan: &CallPlan) -> Dialog {
    Dialog {
        call_id: ids.b_call_id(),
        local_tag: ids.tag(Leg::B),
        remote_tag: None,
        local_uri: plan.b_from.clone(),
        remote_uri: plan.b_to.clone(),
        local_cseq: 0,
        remote_cseq: None,
        remote_target: plan.request_uri.clone(),
        route_set: plan.b_route.clone(),
    }
}

/// The request sent on the other side for `request`, along `plan` (its secret mints the
/// Call-ID, From tag and branch).
pub fn relay_request(request: &Message, plan: &CallPlan) -> Message {
    let mut ids = Ids::new(plan.secret);
    let method = request.method().cloned().unwrap_or(Method::Message);
    let mut dialog = b_dialog(&ids, plan);
    let max_forwards = request
        .max_forwards()
        .ok()
        .flatten()
        .and_then(MaxForwards::decremented)
        .unwrap_or(MaxForwards::DEFAULT);
    let via = ids.via(Leg::B, &plan.b_local);
    let mut out = dialog.request(method.clone(), &via, max_forwards, &plan.b_local.contact);
    carry_headers(request, &mut out, &plan.headers);
    for h in &request.headers {
        let extra = h.name == HeaderName::Expires
            || (h.name == HeaderName::Other && h.raw_name.eq_ignore_ascii_case(SIP_IF_MATCH));
        if extra {
            out.headers.push(h.clone());
        }
    }
    copy_body(request, &mut out);
    stamp_agent(&mut out, &plan.user_agent);
    out
}

/// The answer to `original` for the other side's final `response`, with To tag `tag`: the
/// status mapped for this side ([`map_final`], 2xx kept), and the headers that tell the sender
/// how long its request holds (`Expires`, `Min-Expires`, `SIP-ETag`).
pub fn mapped_response(original: &Message, response: &Message, tag: &[u8]) -> Message {
    let code = response.status().unwrap_or(500);
    let reason = response
        .status_line()
        .map(|s| s.reason.clone())
        .unwrap_or_default();
    let (code, reason) = if (200..300).contains(&code) {
        (code, String::from_utf8_lossy(&reason).into_owned())
    } else {
        map_final(code, &reason)
    };
    let reason = Some(reason.as_str()).filter(|r| !r.is_empty() && !r.contains(['\r', '\n']));
    let mut out = response_to(original, code, reason, Some(tag));
    for h in &response.headers {
        let extra = matches!(h.name, HeaderName::Expires | HeaderName::MinExpires)
            || (h.name == HeaderName::Other && h.raw_name.eq_ignore_ascii_case(SIP_ETAG));
        if extra {
            out.headers.push(h.clone());
        }
    }
    out
}

/// [`mapped_response`] with the allow-listed headers and the SBC's `Server`.
pub fn relay_response(
    original: &Message,
    response: &Message,
    tag: &[u8],
    plan: &CallPlan,
) -> Message {
    let mut out = mapped_response(original, response, tag);
    carry_headers(response, &mut out, &plan.headers);
    stamp_agent(&mut out, &plan.user_agent);
    out
}

/// A response the SBC gives itself to `request`.
pub fn own_response(
    request: &Message,
    code: u16,
    tag: &[u8],
    plan_agent: &bytes::Bytes,
) -> Message {
    let mut out = response_to(request, code, None, Some(tag));
    stamp_agent(&mut out, plan_agent);
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::{parse, plan, wire};
    use super::*;
    use crate::sip::message::Header as H;

    fn message(method: &str, extra: &str, body: &str) -> Message {
        parse(&format!(
            "{method} sip:2000@sbc.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKm1;rport\r\n\
Max-Forwards: 70\r\n\
From: \"Alice\" <sip:1001@example.org>;tag=mtag\r\n\
To: <sip:2000@example.org>\r\n\
Call-ID: m-1@198.51.100.7\r\n\
CSeq: 7 {method}\r\n\
User-Agent: Phone/9.1\r\n\
P-Asserted-Identity: <sip:1001@example.org>\r\n\
{extra}Content-Type: text/plain\r\n\
Content-Length: {}\r\n\r\n{body}",
            body.len()
        ))
    }

    #[test]
    fn message_crosses_with_new_identifiers_and_its_body() {
        let original = message("MESSAGE", "Expires: 30\r\n", "hello 👋");
        let out = wire(&relay_request(&original, &plan()));
        let text = String::from_utf8_lossy(&out.to_bytes()).into_owned();
        for leak in ["m-1@", "mtag", "198.51.100.7", "Phone/9.1", "P-Asserted"] {
            assert!(!text.contains(leak), "{leak} leaked:\n{text}");
        }
        assert_eq!(out.method(), Some(&Method::Message));
        assert_eq!(out.request_line().unwrap().uri, "sip:1001@10.0.0.9:5080");
        assert_eq!(out.cseq().unwrap().seq, 1);
        assert!(out.to_header().unwrap().tag().is_none());
        assert_eq!(out.body, "hello 👋".as_bytes());
        assert_eq!(
            out.headers.get(HeaderName::ContentType).unwrap(),
            "text/plain"
        );
        assert_eq!(out.expires().unwrap().unwrap().0, 30);
        assert_eq!(out.max_forwards().unwrap().unwrap().0, 69);
        assert!(
            out.contacts().unwrap().is_empty(),
            "MESSAGE carries no Contact"
        );
    }

    #[test]
    fn publish_keeps_its_entity_tag_both_ways() {
        let original = message(
            "PUBLISH",
            "Event: presence\r\nExpires: 3600\r\nSIP-If-Match: dx200xyz\r\n",
            "<presence/>",
        );
        let out = wire(&relay_request(&original, &plan()));
        assert_eq!(out.headers.get(HeaderName::Event).unwrap(), "presence");
        assert_eq!(out.headers.get_raw(SIP_IF_MATCH).unwrap(), "dx200xyz");
        let mut ok = response_to(&out, 200, None, Some(b"ptag"));
        ok.headers.push(H::raw("SIP-ETag", "kwj449x"));
        ok.headers.push(H::raw("Expires", "1800"));
        ok.headers.push(H::raw("Server", "PBX/1.0"));
        let back = wire(&relay_response(&original, &ok, b"sbctag", &plan()));
        assert_eq!(back.status(), Some(200));
        assert_eq!(back.call_id().unwrap().as_bytes(), "m-1@198.51.100.7");
        assert_eq!(back.to_header().unwrap().tag().unwrap(), "sbctag");
        assert_eq!(back.headers.get_raw(SIP_ETAG).unwrap(), "kwj449x");
        assert_eq!(back.expires().unwrap().unwrap().0, 1800);
        assert_eq!(back.headers.get(HeaderName::Server).unwrap(), "SBC");
    }

    #[test]
    fn failures_are_mapped_and_refusals_listed() {
        let original = message("MESSAGE", "", "x");
        let out = relay_request(&original, &plan());
        for (code, want) in [(404, 404), (503, 500), (407, 403), (302, 480), (423, 423)] {
            let mut r = response_to(&out, code, None, Some(b"t"));
            r.headers.push(H::raw("Min-Expires", "60"));
            let back = relay_response(&original, &r, b"s", &plan());
            assert_eq!(back.status(), Some(want), "{code}");
        }
        assert_eq!(refuse(&message("MESSAGE", "", "")), None);
        assert_eq!(refuse(&message("INFO", "", "")), Some(405));
        let zero = parse(
            &String::from_utf8_lossy(&message("MESSAGE", "", "").to_bytes())
                .replace("Max-Forwards: 70", "Max-Forwards: 0"),
        );
        assert_eq!(refuse(&zero), Some(483));
        let own = own_response(&zero, 483, b"t", &plan().user_agent);
        assert_eq!(own.status(), Some(483));
    }
}
