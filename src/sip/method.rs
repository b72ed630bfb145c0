//! SIP request methods (pure): RFC 3261 §7.1 and the extension methods an SBC relays
//! (RFC 3262 PRACK, RFC 3311 UPDATE, RFC 6086 INFO, RFC 3428 MESSAGE, RFC 3515 REFER,
//! RFC 6665 SUBSCRIBE/NOTIFY, RFC 3903 PUBLISH). Methods are case-sensitive (§7.1).

use bytes::Bytes;
use std::fmt;

/// A request method. Unknown methods are kept verbatim in [`Method::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// INVITE
    Invite,
    /// ACK
    Ack,
    /// BYE
    Bye,
    /// CANCEL
    Cancel,
    /// REGISTER
    Register,
    /// OPTIONS
    Options,
    /// PRACK (RFC 3262)
    Prack,
    /// UPDATE (RFC 3311)
    Update,
    /// INFO (RFC 6086)
    Info,
    /// MESSAGE (RFC 3428)
    Message,
    /// REFER (RFC 3515)
    Refer,
    /// SUBSCRIBE (RFC 6665)
    Subscribe,
    /// NOTIFY (RFC 6665)
    Notify,
    /// PUBLISH (RFC 3903)
    Publish,
    /// Any other token, byte-exact.
    Other(Bytes),
}

impl Method {
    /// Classifies a method token. The caller has checked it is a valid `token`.
    pub fn from_bytes(b: &Bytes) -> Method {
        match b.as_ref() {
            b"INVITE" => Method::Invite,
            b"ACK" => Method::Ack,
            b"BYE" => Method::Bye,
            b"CANCEL" => Method::Cancel,
            b"REGISTER" => Method::Register,
            b"OPTIONS" => Method::Options,
            b"PRACK" => Method::Prack,
            b"UPDATE" => Method::Update,
            b"INFO" => Method::Info,
            b"MESSAGE" => Method::Message,
            b"REFER" => Method::Refer,
            b"SUBSCRIBE" => Method::Subscribe,
            b"NOTIFY" => Method::Notify,
            b"PUBLISH" => Method::Publish,
            _ => Method::Other(b.clone()),
        }
    }

    /// The method as it appears on the wire.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Method::Invite => b"INVITE",
            Method::Ack => b"ACK",
            Method::Bye => b"BYE",
            Method::Cancel => b"CANCEL",
            Method::Register => b"REGISTER",
            Method::Options => b"OPTIONS",
            Method::Prack => b"PRACK",
            Method::Update => b"UPDATE",
            Method::Info => b"INFO",
            Method::Message => b"MESSAGE",
            Method::Refer => b"REFER",
            Method::Subscribe => b"SUBSCRIBE",
            Method::Notify => b"NOTIFY",
            Method::Publish => b"PUBLISH",
            Method::Other(b) => b,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(self.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_methods_round_trip() {
        for m in [
            "INVITE",
            "ACK",
            "BYE",
            "CANCEL",
            "REGISTER",
            "OPTIONS",
            "PRACK",
            "UPDATE",
            "INFO",
            "MESSAGE",
            "REFER",
            "SUBSCRIBE",
            "NOTIFY",
            "PUBLISH",
        ] {
            let method = Method::from_bytes(&Bytes::from_static(m.as_bytes()));
            assert!(!matches!(method, Method::Other(_)), "{m}");
            assert_eq!(method.as_bytes(), m.as_bytes());
        }
    }

    #[test]
    fn methods_are_case_sensitive() {
        let m = Method::from_bytes(&Bytes::from_static(b"invite"));
        assert_eq!(m, Method::Other(Bytes::from_static(b"invite")));
        assert_eq!(m.to_string(), "invite");
    }
}
