//! Event-package headers a subscription relay reads (pure): the `Event` package token (RFC 6665
//! §8.2.1), a requested `Expires` (§4.1.2.1), and `Subscription-State` with its `expires` and
//! `reason` parameters (§8.2.3). Parsing never panics; anything unreadable is `None`.

use crate::sip::header::HeaderName;
use crate::sip::message::Message;
use crate::sip::scan;
use bytes::Bytes;

/// The event package of `msg`'s `Event` header: the token before any parameter, lower case.
pub fn package(msg: &Message) -> Option<Bytes> {
    let value = msg.headers.get(HeaderName::Event)?;
    let token = value.split(|b| *b == b';').next()?;
    let token = scan::trim_lws(&Bytes::copy_from_slice(token));
    scan::is_token(&token).then(|| Bytes::from(token.to_ascii_lowercase()))
}

/// The `Expires` of `msg` in seconds, `default` when absent, `None` when malformed.
pub fn expires(msg: &Message, default: u32) -> Option<u32> {
    match msg.expires() {
        Ok(Some(e)) => Some(e.0),
        Ok(None) => Some(default),
        Err(_) => None,
    }
}

/// A `Subscription-State` value (RFC 6665 §8.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubState {
    /// `active` or `pending` (or an extension value, treated alike), with `expires` if given.
    Live(Option<u32>),
    /// `terminated`: the notifier ended the subscription.
    Terminated,
}

/// The `Subscription-State` of a NOTIFY; `None` when absent or empty.
pub fn subscription_state(msg: &Message) -> Option<SubState> {
    let value = msg.headers.get(HeaderName::SubscriptionState)?;
    let mut parts = value.split(|b| *b == b';');
    let state = scan::trim_lws(&Bytes::copy_from_slice(parts.next()?));
    if state.is_empty() {
        return None;
    }
    if state.eq_ignore_ascii_case(b"terminated") {
        return Some(SubState::Terminated);
    }
    let expires = parts.find_map(|p| {
        let p = scan::trim_lws(&Bytes::copy_from_slice(p));
        let (name, value) = p.split_at(p.iter().position(|b| *b == b'=')?);
        let name = scan::trim_lws(&Bytes::copy_from_slice(name));
        let value = scan::trim_lws(&Bytes::copy_from_slice(&value[1..]));
        name.eq_ignore_ascii_case(b"expires")
            .then(|| scan::parse_u32_saturating(&value))
            .flatten()
    });
    Some(SubState::Live(expires))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notify(extra: &str) -> Message {
        let text = format!(
            "NOTIFY sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\n\
             To: <sip:a@b>;tag=2\r\nCall-ID: c\r\nCSeq: 1 NOTIFY\r\n{extra}Content-Length: 0\r\n\r\n"
        );
        crate::sip::parse_datagram(Bytes::from(text), &Default::default()).unwrap()
    }

    #[test]
    fn event_package_token() {
        let cases = [
            ("Event: message-summary\r\n", Some("message-summary")),
            ("Event: Presence;id=7\r\n", Some("presence")),
            ("o: dialog ; x=1\r\n", Some("dialog")),
            ("Event: a b\r\n", None),
            ("Event: ;id=1\r\n", None),
            ("", None),
        ];
        for (header, want) in cases {
            let got = package(&notify(header));
            assert_eq!(got.as_deref(), want.map(str::as_bytes), "{header:?}");
        }
    }

    #[test]
    fn subscription_state_values() {
        let cases = [
            (
                "Subscription-State: active;expires=600\r\n",
                Some(SubState::Live(Some(600))),
            ),
            (
                "Subscription-State: pending ; expires = 30\r\n",
                Some(SubState::Live(Some(30))),
            ),
            ("Subscription-State: active\r\n", Some(SubState::Live(None))),
            (
                "Subscription-State: active;expires=x\r\n",
                Some(SubState::Live(None)),
            ),
            (
                "Subscription-State: active;expires\r\n",
                Some(SubState::Live(None)),
            ),
            (
                "Subscription-State: TERMINATED;reason=timeout\r\n",
                Some(SubState::Terminated),
            ),
            ("Subscription-State: ;expires=1\r\n", None),
            ("", None),
        ];
        for (header, want) in cases {
            assert_eq!(subscription_state(&notify(header)), want, "{header:?}");
        }
    }

    #[test]
    fn expires_default_and_malformed() {
        assert_eq!(expires(&notify("Expires: 20\r\n"), 3600), Some(20));
        assert_eq!(expires(&notify(""), 3600), Some(3600));
    }
}
