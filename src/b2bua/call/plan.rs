//! What the shell decides for a call before it starts (pure): the B-leg target and identities,
//! the SBC's own identity on each leg, the per-call secret, timers and the header allow-list.
//! Topology hiding (DESIGN §1.3) is enforced here by construction: only allow-listed headers
//! cross between legs, and a fixed deny-list wins over any allow-list entry.

use crate::sip::auth::Credentials;
use crate::sip::header::{HeaderName, NameAddr};
use crate::sip::message::Header;
use crate::sip::uri::{Host, Uri};
use bytes::Bytes;
use std::time::Duration;

/// RFC 3261 §16.6 item 11 recommends Timer C above 3 minutes; the call uses exactly that by
/// default.
pub const TIMER_C: Duration = Duration::from_secs(180);

/// The SBC as it presents itself on one leg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegIdentity {
    /// Via transport token (`UDP`, `TCP`, `TLS`).
    pub transport: Bytes,
    /// Via sent-by host (the advertised address of the listener serving this leg).
    pub host: Host,
    /// Via sent-by port.
    pub port: Option<u16>,
    /// The Contact URI the SBC puts in requests and responses on this leg.
    pub contact: Uri,
}

/// Call timers (RFC 3261 §16.6 Timer C, §17 T1/T2 for 2xx retransmission).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallTimers {
    /// Time to wait for B's final answer before CANCEL + 480 to A (`None`: no limit).
    pub no_answer: Option<Duration>,
    /// Time without a provisional from B before CANCEL + 408 to A (Timer C).
    pub timer_c: Duration,
    /// RFC 3261 T1: first 2xx retransmission interval; 64*T1 bounds the wait for ACK and for
    /// the final response after a CANCEL (§9.1, §13.3.1.4).
    pub t1: Duration,
    /// RFC 3261 T2: the 2xx retransmission interval cap.
    pub t2: Duration,
}

impl Default for CallTimers {
    fn default() -> Self {
        CallTimers {
            no_answer: None,
            timer_c: TIMER_C,
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
        }
    }
}

/// Which headers cross from one leg to the other. Everything not listed is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderPolicy {
    /// Known header names that are copied.
    pub names: Vec<HeaderName>,
    /// Extra header names (case-insensitive, e.g. `X-Account`) that are copied.
    pub raw: Vec<Bytes>,
}

impl Default for HeaderPolicy {
    fn default() -> Self {
        HeaderPolicy {
            names: vec![
                HeaderName::ContentDisposition,
                HeaderName::Allow,
                HeaderName::Supported,
                HeaderName::Require,
                HeaderName::SessionExpires,
                HeaderName::MinSe,
                HeaderName::Event,
                HeaderName::SubscriptionState,
                HeaderName::AllowEvents,
                HeaderName::Reason,
                HeaderName::Accept,
                HeaderName::Unsupported,
                HeaderName::RetryAfter,
            ],
            raw: Vec::new(),
        }
    }
}

impl HeaderPolicy {
    /// Whether `header` may be copied to the other leg: listed, and not on the deny-list.
    pub fn allows(&self, header: &Header) -> bool {
        if never_copied(header) {
            return false;
        }
        if header.name == HeaderName::Other {
            self.raw
                .iter()
                .any(|r| r.eq_ignore_ascii_case(&header.raw_name))
        } else {
            self.names.contains(&header.name)
        }
    }
}

/// Headers that never cross, whatever the allow-list says: routing and dialog identity
/// (each leg has its own), hop-by-hop and framing headers, software versions, credentials and
/// every `P-` header (trust-domain assertions, RFC 3325 §5).
fn never_copied(header: &Header) -> bool {
    use HeaderName as H;
    matches!(
        header.name,
        H::Via
            | H::Route
            | H::RecordRoute
            | H::Path
            | H::Contact
            | H::CallId
            | H::From
            | H::To
            | H::CSeq
            | H::MaxForwards
            | H::ContentLength
            | H::ContentType
            | H::RSeq
            | H::RAck
            | H::UserAgent
            | H::Server
            | H::Warning
            | H::Authorization
            | H::ProxyAuthorization
            | H::PAssertedIdentity
            | H::PPreferredIdentity
    ) || header
        .raw_name
        .get(..2)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"P-"))
}

/// Everything the call needs from routing and configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallPlan {
    /// Request-URI of the B-leg INVITE.
    pub request_uri: Uri,
    /// From of the B leg as the SBC presents it (display name and URI; the tag is the call's).
    pub b_from: NameAddr,
    /// To of the B leg (no tag).
    pub b_to: NameAddr,
    /// A pre-loaded route set for the B-leg INVITE (outbound proxy), top first; usually empty.
    pub b_route: Vec<NameAddr>,
    /// The SBC on leg A.
    pub a_local: LegIdentity,
    /// The SBC on leg B.
    pub b_local: LegIdentity,
    /// Per-call random secret: B Call-ID, tags and branches derive from it.
    pub secret: [u8; 16],
    /// Call timers.
    pub timers: CallTimers,
    /// Headers copied between legs.
    pub headers: HeaderPolicy,
    /// The User-Agent / Server value the SBC sends on both legs.
    pub user_agent: Bytes,
    /// Whether REFER is relayed (otherwise it is refused with 403).
    pub allow_refer: bool,
    /// Credentials for the B-leg target: a `401`/`407` to B's INVITE is answered with them
    /// instead of being relayed. `None`: challenges go back to A (mapped like any failure).
    pub credentials: Option<Credentials>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list_and_deny_list() {
        let policy = HeaderPolicy {
            raw: vec![
                Bytes::from_static(b"X-Account"),
                Bytes::from_static(b"P-Foo"),
            ],
            ..HeaderPolicy::default()
        };
        let cases = [
            ("Supported", "100rel", true),
            ("Require", "100rel", true),
            ("x-account", "42", true),
            ("X-Other", "1", false),
            ("P-Foo", "1", false),
            ("P-Asserted-Identity", "<sip:a@b>", false),
            ("Via", "SIP/2.0/UDP h", false),
            ("Record-Route", "<sip:h;lr>", false),
            ("User-Agent", "x", false),
            ("Warning", "399 h \"x\"", false),
            ("Contact", "<sip:h>", false),
            ("k", "timer", true),
        ];
        for (name, value, expected) in cases {
            assert_eq!(policy.allows(&Header::raw(name, value)), expected, "{name}");
        }
    }
}
