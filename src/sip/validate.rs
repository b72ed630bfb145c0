//! Message validation (pure): the checks an edge element makes before any expensive work, in
//! the order of RFC 3261 §16.3 / §8.2 — version (505), syntax of every header the SBC relies on
//! (400), Request-URI scheme (416), Max-Forwards (483), required extensions (420) — plus the
//! size limits already enforced while framing. [`Validator::inspect_datagram`] combines framing and
//! validation into the one decision the transport needs: process, answer with a status, or
//! drop silently (invalid responses, unreadable start lines).

use crate::error::SipError;
use crate::sip::error::ParseError;
use crate::sip::header::HeaderName;
use crate::sip::limits::Limits;
use crate::sip::message::{Message, SIP_2_0, StartLine};
use crate::sip::method::Method;
use crate::sip::parse::{ParseFailure, parse_datagram};
use crate::sip::uri::Uri;
use bytes::Bytes;

/// Option tags the SBC can honour in `Require` by default: reliable provisionals relayed end
/// to end (RFC 3262), session timers (RFC 4028), Replaces (RFC 3891), Path (RFC 3327),
/// outbound (RFC 5626) and GRUU (RFC 5627).
pub const DEFAULT_SUPPORTED: &[&str] = &["100rel", "timer", "replaces", "path", "outbound", "gruu"];

/// IANA-registered URI schemes other than sip/sips/tel that a Request-URI may carry: such a
/// request is well formed and goes on to routing (which answers 404/416 when it has no route);
/// any other scheme is answered 416 here.
const REGISTERED_SCHEMES: &[&str] = &[
    "im",
    "pres",
    "mailto",
    "http",
    "https",
    "urn",
    "h323",
    "xmpp",
    "fax",
    "modem",
    "cid",
    "mid",
    "data",
    "ldap",
    "soap.beep",
    "soap.beeps",
    "xmlrpc.beep",
    "xmlrpc.beeps",
    "iris.beep",
    "service",
    "tip",
    "go",
    "crid",
    "dns",
    "ipp",
    "snmp",
    "tftp",
    "msrp",
    "msrps",
    "ws",
    "wss",
    "coap",
    "geo",
];

/// Validation settings.
#[derive(Debug, Clone)]
pub struct Validator {
    /// Parser limits (`max_via` is enforced here).
    pub limits: Limits,
    /// Option tags accepted in `Require` / `Proxy-Require`.
    pub supported: Vec<Bytes>,
}

impl Default for Validator {
    fn default() -> Self {
        Validator {
            limits: Limits::DEFAULT,
            supported: DEFAULT_SUPPORTED
                .iter()
                .map(|t| Bytes::from_static(t.as_bytes()))
                .collect(),
        }
    }
}

/// What to do with a received datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Well formed: hand it on.
    Process(Message),
    /// A request that must be answered with `status`; `head` is what the response is built from.
    Reject {
        /// The status to answer with.
        status: u16,
        /// Why.
        error: ParseError,
        /// The request head (start line and the header fields that parsed).
        head: Box<Message>,
    },
    /// Drop without answering: an invalid response or an unreadable start line.
    Drop(ParseError),
}

impl Validator {
    /// Checks a framed message; requests and responses have their own rules.
    pub fn validate(&self, msg: &Message) -> Result<(), ParseError> {
        match &msg.start {
            StartLine::Request(_) => self.validate_request(msg),
            StartLine::Response(_) => self.validate_response(msg),
        }
    }

    fn validate_request(&self, msg: &Message) -> Result<(), ParseError> {
        let Some(line) = msg.request_line() else {
            return Err(ParseError::BadStartLine);
        };
        check_version(&line.version)?;
        self.check_common(msg)?;
        let cseq = msg.cseq()?;
        if cseq.method != line.method {
            return Err(ParseError::CSeqMethodMismatch);
        }
        let max_forwards = msg.max_forwards()?;
        msg.contacts()?;
        msg.routes()?;
        msg.record_routes()?;
        msg.expires()?;
        msg.content_type()?;
        msg.supported()?;
        let require = msg.require()?;
        let proxy_require = msg.proxy_require()?;
        match msg.request_uri()? {
            Uri::Sip(_) | Uri::Tel(_) => {}
            other => {
                let scheme = other.scheme();
                if !REGISTERED_SCHEMES
                    .iter()
                    .any(|s| s.as_bytes().eq_ignore_ascii_case(scheme))
                {
                    return Err(ParseError::UnsupportedUriScheme);
                }
            }
        }
        if max_forwards.is_some_and(|mf| mf.0 == 0) {
            return Err(ParseError::TooManyHops);
        }
        // RFC 3261 §8.2.2.3: Require is not processed for ACK and CANCEL.
        if !matches!(line.method, Method::Ack | Method::Cancel) {
            let unsupported: Vec<Bytes> = require
                .into_iter()
                .chain(proxy_require)
                .filter(|tag| !self.supported.iter().any(|s| s.eq_ignore_ascii_case(tag)))
                .collect();
            if !unsupported.is_empty() {
                return Err(ParseError::BadExtension(unsupported));
            }
        }
        Ok(())
    }

    fn validate_response(&self, msg: &Message) -> Result<(), ParseError> {
        let Some(line) = msg.status_line() else {
            return Err(ParseError::BadStartLine);
        };
        check_version(&line.version)?;
        self.check_common(msg)?;
        msg.cseq()?;
        msg.contacts()?;
        msg.record_routes()?;
        Ok(())
    }

    /// Checks shared by requests and responses: single-instance headers, the mandatory five,
    /// and the Via stack.
    fn check_common(&self, msg: &Message) -> Result<(), ParseError> {
        for name in [
            HeaderName::CallId,
            HeaderName::CSeq,
            HeaderName::From,
            HeaderName::To,
            HeaderName::MaxForwards,
            HeaderName::ContentType,
            HeaderName::Expires,
        ] {
            if msg.headers.count(name) > 1 {
                return Err(ParseError::DuplicateHeader(name.as_str()));
            }
        }
        let vias = msg.vias()?;
        if vias.len() > self.limits.max_via {
            return Err(ParseError::TooManyVias);
        }
        if vias
            .iter()
            .any(|v| !v.protocol.eq_ignore_ascii_case(b"SIP") || v.version.as_ref() != b"2.0")
        {
            return Err(ParseError::UnsupportedVersion);
        }
        msg.from_header()?;
        msg.to_header()?;
        msg.call_id()?;
        Ok(())
    }

    /// Frames and validates one datagram and decides what the transport does with it.
    pub fn inspect_datagram(&self, buf: Bytes) -> Disposition {
        match parse_datagram(buf, &self.limits) {
            Ok(msg) => match self.validate(&msg) {
                Ok(()) => Disposition::Process(msg),
                Err(error) => self.reject_parsed(msg, error),
            },
            Err(failure) => self.reject_failure(failure),
        }
    }

    /// Decides what to do with a framed message that failed validation: a request is answered,
    /// a response dropped.
    pub fn reject_parsed(&self, msg: Message, error: ParseError) -> Disposition {
        if msg.is_request() {
            Disposition::Reject {
                status: error.sip_status(),
                error,
                head: Box::new(msg),
            }
        } else {
            Disposition::Drop(error)
        }
    }

    /// Decides what to do with a framing failure (datagram or stream).
    pub fn reject_failure(&self, failure: ParseFailure) -> Disposition {
        match failure.head {
            Some(head) if head.is_request() => Disposition::Reject {
                status: failure.error.sip_status(),
                error: failure.error,
                head,
            },
            _ => Disposition::Drop(failure.error),
        }
    }
}

/// 505 unless `SIP/2.0` ("SIP" is case-insensitive, RFC 3261 §25.1).
fn check_version(version: &[u8]) -> Result<(), ParseError> {
    if version.eq_ignore_ascii_case(SIP_2_0) {
        Ok(())
    } else {
        Err(ParseError::UnsupportedVersion)
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
