//! Header field names (pure): RFC 3261 §7.3 (case-insensitive names, compact forms §7.3.3)
//! and the compact forms registered since (RFC 3515, RFC 3892, RFC 4028, RFC 6665, RFC 8224).

use std::fmt;

macro_rules! header_names {
    ($( $variant:ident => $canon:literal, compact: $compact:expr, list: $list:literal; )*) => {
        /// A header field name the SBC knows by name. Unknown names are [`HeaderName::Other`];
        /// the raw spelling of every header is kept separately for byte-exact relay.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum HeaderName {
            $(
                #[doc = $canon]
                $variant,
            )*
            /// A header the SBC has no typed knowledge of.
            Other,
        }

        const TABLE: &[(HeaderName, &str, Option<u8>, bool)] = &[
            $( (HeaderName::$variant, $canon, $compact, $list), )*
        ];
    };
}

header_names! {
    Accept => "Accept", compact: None, list: true;
    AcceptContact => "Accept-Contact", compact: Some(b'a'), list: true;
    AcceptEncoding => "Accept-Encoding", compact: None, list: true;
    AcceptLanguage => "Accept-Language", compact: None, list: true;
    Allow => "Allow", compact: None, list: true;
    AllowEvents => "Allow-Events", compact: Some(b'u'), list: true;
    Authorization => "Authorization", compact: None, list: false;
    CallId => "Call-ID", compact: Some(b'i'), list: false;
    CallInfo => "Call-Info", compact: None, list: true;
    Contact => "Contact", compact: Some(b'm'), list: true;
    ContentDisposition => "Content-Disposition", compact: None, list: false;
    ContentEncoding => "Content-Encoding", compact: Some(b'e'), list: true;
    ContentLength => "Content-Length", compact: Some(b'l'), list: false;
    ContentType => "Content-Type", compact: Some(b'c'), list: false;
    CSeq => "CSeq", compact: None, list: false;
    Date => "Date", compact: None, list: false;
    Event => "Event", compact: Some(b'o'), list: false;
    Expires => "Expires", compact: None, list: false;
    From => "From", compact: Some(b'f'), list: false;
    Identity => "Identity", compact: Some(b'y'), list: false;
    MaxForwards => "Max-Forwards", compact: None, list: false;
    MinExpires => "Min-Expires", compact: None, list: false;
    MinSe => "Min-SE", compact: None, list: false;
    PAssertedIdentity => "P-Asserted-Identity", compact: None, list: true;
    PPreferredIdentity => "P-Preferred-Identity", compact: None, list: true;
    Path => "Path", compact: None, list: true;
    Privacy => "Privacy", compact: None, list: false;
    ProxyAuthenticate => "Proxy-Authenticate", compact: None, list: false;
    ProxyAuthorization => "Proxy-Authorization", compact: None, list: false;
    ProxyRequire => "Proxy-Require", compact: None, list: true;
    RAck => "RAck", compact: None, list: false;
    Reason => "Reason", compact: None, list: true;
    RecordRoute => "Record-Route", compact: None, list: true;
    ReferTo => "Refer-To", compact: Some(b'r'), list: false;
    ReferredBy => "Referred-By", compact: Some(b'b'), list: false;
    RejectContact => "Reject-Contact", compact: Some(b'j'), list: true;
    Replaces => "Replaces", compact: None, list: false;
    ReplyTo => "Reply-To", compact: None, list: false;
    RequestDisposition => "Request-Disposition", compact: Some(b'd'), list: true;
    Require => "Require", compact: None, list: true;
    RetryAfter => "Retry-After", compact: None, list: false;
    Route => "Route", compact: None, list: true;
    RSeq => "RSeq", compact: None, list: false;
    Server => "Server", compact: None, list: false;
    SessionExpires => "Session-Expires", compact: Some(b'x'), list: false;
    Subject => "Subject", compact: Some(b's'), list: false;
    SubscriptionState => "Subscription-State", compact: None, list: false;
    Supported => "Supported", compact: Some(b'k'), list: true;
    Timestamp => "Timestamp", compact: None, list: false;
    To => "To", compact: Some(b't'), list: false;
    Unsupported => "Unsupported", compact: None, list: true;
    UserAgent => "User-Agent", compact: None, list: false;
    Via => "Via", compact: Some(b'v'), list: true;
    Warning => "Warning", compact: None, list: true;
    WwwAuthenticate => "WWW-Authenticate", compact: None, list: false;
}

/// Longest known header name plus one.
const MAX_LEN: usize = 24;
/// Most known names sharing one length.
const BUCKET: usize = 12;

/// `TABLE` indices grouped by name length, so a lookup compares only same-length names:
/// `BY_LEN[len][0]` is the count, followed by the indices.
const BY_LEN: [[u8; BUCKET + 1]; MAX_LEN] = {
    let mut out = [[0u8; BUCKET + 1]; MAX_LEN];
    let mut i = 0;
    while i < TABLE.len() {
        let len = TABLE[i].1.len();
        assert!(len < MAX_LEN, "raise MAX_LEN");
        let n = out[len][0] as usize;
        assert!(n < BUCKET, "raise BUCKET");
        out[len][n + 1] = i as u8;
        out[len][0] += 1;
        i += 1;
    }
    out
};

impl HeaderName {
    /// Classifies a raw header name, case-insensitively, including compact forms.
    pub fn from_bytes(raw: &[u8]) -> HeaderName {
        if raw.len() == 1 {
            let c = raw[0].to_ascii_lowercase();
            return TABLE
                .iter()
                .find(|(_, _, compact, _)| *compact == Some(c))
                .map_or(HeaderName::Other, |(name, ..)| *name);
        }
        let Some(bucket) = BY_LEN.get(raw.len()) else {
            return HeaderName::Other;
        };
        bucket[1..=usize::from(bucket[0])]
            .iter()
            .map(|i| &TABLE[usize::from(*i)])
            .find(|(_, canon, ..)| canon.as_bytes().eq_ignore_ascii_case(raw))
            .map_or(HeaderName::Other, |(name, ..)| *name)
    }

    fn entry(self) -> Option<&'static (HeaderName, &'static str, Option<u8>, bool)> {
        TABLE.iter().find(|(name, ..)| *name == self)
    }

    /// The canonical long-form spelling (`"Other"` has none and returns an empty string).
    pub fn as_str(self) -> &'static str {
        self.entry().map_or("", |e| e.1)
    }

    /// The compact form, if the header has one.
    pub fn compact(self) -> Option<char> {
        self.entry().and_then(|e| e.2).map(char::from)
    }

    /// Whether the header's grammar is a comma-separated list (RFC 3261 §7.3.1), so that
    /// several values may share one header line and may be split on top-level commas.
    pub fn is_list(self) -> bool {
        self.entry().is_some_and(|e| e.3)
    }

    /// Whether at most one instance may appear (the message is invalid otherwise).
    pub fn is_single(self) -> bool {
        matches!(
            self,
            HeaderName::CallId
                | HeaderName::CSeq
                | HeaderName::From
                | HeaderName::To
                | HeaderName::MaxForwards
                | HeaderName::ContentLength
                | HeaderName::ContentType
                | HeaderName::Expires
        )
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive_and_compact() {
        assert_eq!(
            HeaderName::from_bytes(b"MaX-fOrWaRdS"),
            HeaderName::MaxForwards
        );
        assert_eq!(HeaderName::from_bytes(b"v"), HeaderName::Via);
        assert_eq!(HeaderName::from_bytes(b"V"), HeaderName::Via);
        assert_eq!(HeaderName::from_bytes(b"i"), HeaderName::CallId);
        assert_eq!(HeaderName::from_bytes(b"L"), HeaderName::ContentLength);
        assert_eq!(HeaderName::from_bytes(b"m"), HeaderName::Contact);
        assert_eq!(HeaderName::from_bytes(b"call-id"), HeaderName::CallId);
        assert_eq!(HeaderName::from_bytes(b"C%6Fntact"), HeaderName::Other);
        assert_eq!(HeaderName::from_bytes(b"z"), HeaderName::Other);
    }

    #[test]
    fn every_entry_round_trips() {
        for (name, canon, compact, _) in TABLE {
            assert_eq!(HeaderName::from_bytes(canon.as_bytes()), *name);
            assert_eq!(name.as_str(), *canon);
            if let Some(c) = compact {
                assert_eq!(HeaderName::from_bytes(&[*c]), *name);
            }
        }
    }

    #[test]
    fn list_and_single() {
        assert!(HeaderName::Via.is_list());
        assert!(!HeaderName::Authorization.is_list());
        assert!(HeaderName::CSeq.is_single());
        assert!(!HeaderName::Via.is_single());
    }
}
