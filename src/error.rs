//! Errors that cross module boundaries and the one place they map to a SIP status, the side at
//! fault and a metric reason (pure). Modules keep their own typed errors (`thiserror`); this file
//! decides what the network sees.

use crate::sip::error::ParseError;

/// Which party an error is attributed to (for logs and metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The peer that sent us the message.
    Downstream,
    /// The peer we forwarded to.
    Upstream,
    /// The SBC itself (configuration, resources).
    Internal,
}

/// What an error means on the wire.
pub trait SipError {
    /// The status a request that failed this way is answered with. Responses that fail are
    /// dropped silently (RFC 3261 §18.1.2 / §18.2.2), whatever this says.
    fn sip_status(&self) -> u16;
    /// Who is at fault.
    fn side(&self) -> Side;
    /// Bounded metric label.
    fn metric_reason(&self) -> &'static str;
}

impl SipError for ParseError {
    fn sip_status(&self) -> u16 {
        match self {
            // 513 Message Too Large (RFC 3261 §21.5.14): the message as a whole, or one of its
            // lines or its header count, exceeds what we accept.
            ParseError::MessageTooLarge(_)
            | ParseError::TooManyHeaders
            | ParseError::LineTooLong => 513,
            // 413 Request Entity Too Large (§21.4.11): the body.
            ParseError::BodyTooLarge(_) => 413,
            // 483 Too Many Hops (§21.4.23): Max-Forwards exhausted, or a Via stack deeper than
            // any sane path (a loop or an amplification attempt).
            ParseError::TooManyHops | ParseError::TooManyVias => 483,
            // 416 Unsupported URI Scheme (§21.4.14).
            ParseError::UnsupportedUriScheme => 416,
            // 420 Bad Extension (§21.4.15), with an Unsupported header listing the tags.
            ParseError::BadExtension(_) => 420,
            // 505 Version Not Supported (§21.5.6).
            ParseError::UnsupportedVersion => 505,
            ParseError::BadStartLine
            | ParseError::BadRequestUri(_)
            | ParseError::BadStatusCode
            | ParseError::BadHeaderLine(_)
            | ParseError::BadHeader { .. }
            | ParseError::MissingHeader(_)
            | ParseError::DuplicateHeader(_)
            | ParseError::BadContentLength
            | ParseError::MissingContentLength
            | ParseError::CSeqMethodMismatch => 400,
        }
    }

    fn side(&self) -> Side {
        Side::Downstream
    }

    fn metric_reason(&self) -> &'static str {
        self.reason()
    }
}

/// The standard reason phrase for a status code (RFC 3261 §21 and extensions).
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        305 => "Use Proxy",
        380 => "Alternative Service",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        410 => "Gone",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        421 => "Extension Required",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        484 => "Address Incomplete",
        485 => "Ambiguous",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        489 => "Bad Event",
        491 => "Request Pending",
        493 => "Undecipherable",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        600 => "Busy Everywhere",
        603 => "Decline",
        604 => "Does Not Exist Anywhere",
        606 => "Not Acceptable",
        _ => match code / 100 {
            1 => "Progress",
            2 => "Success",
            3 => "Redirection",
            4 => "Client Error",
            5 => "Server Error",
            _ => "Global Failure",
        },
    }
}

impl SipError for crate::media::MediaError {
    fn sip_status(&self) -> u16 {
        use crate::media::MediaError::*;
        match self {
            // 503 Service Unavailable (RFC 3261 §21.5.4): a temporary shortage of relay ports
            // or relay capacity; another SBC (or a retry) may succeed.
            Exhausted { .. } | Bind { .. } | Busy => 503,
            // 500: the SBC's own configuration or state is at fault.
            UnknownRealm(_) | UnknownCall => 500,
        }
    }

    fn side(&self) -> Side {
        Side::Internal
    }

    fn metric_reason(&self) -> &'static str {
        use crate::media::MediaError::*;
        match self {
            UnknownRealm(_) => "media_unknown_realm",
            Exhausted { .. } => "media_ports_exhausted",
            Bind { .. } => "media_bind",
            Busy => "media_busy",
            UnknownCall => "media_unknown_call",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::error::SyntaxError;

    #[test]
    fn every_parse_error_has_a_status_in_the_documented_set() {
        let all = [
            ParseError::MessageTooLarge(1),
            ParseError::BodyTooLarge(1),
            ParseError::TooManyHeaders,
            ParseError::LineTooLong,
            ParseError::TooManyVias,
            ParseError::BadStartLine,
            ParseError::BadRequestUri(SyntaxError::new("uri", 0)),
            ParseError::BadStatusCode,
            ParseError::UnsupportedVersion,
            ParseError::BadHeaderLine(0),
            ParseError::BadHeader {
                name: "Via",
                error: SyntaxError::new("via", 0),
            },
            ParseError::MissingHeader("To"),
            ParseError::DuplicateHeader("To"),
            ParseError::BadContentLength,
            ParseError::MissingContentLength,
            ParseError::CSeqMethodMismatch,
            ParseError::UnsupportedUriScheme,
            ParseError::BadExtension(vec![]),
            ParseError::TooManyHops,
        ];
        for e in &all {
            assert!(
                [400, 413, 416, 420, 483, 505, 513].contains(&e.sip_status()),
                "{e:?}"
            );
            assert!(!e.metric_reason().is_empty());
            assert_eq!(e.side(), Side::Downstream);
        }
        assert_eq!(reason_phrase(420), "Bad Extension");
        assert_eq!(reason_phrase(599), "Server Error");
    }
}
