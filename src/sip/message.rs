//! The SIP message model (pure): RFC 3261 §7. A message is a start line, an ordered list of
//! header fields and a body; every part is a zero-copy [`Bytes`] slice of the received buffer
//! until the B2BUA replaces it. Typed access is lazy: a header is parsed only when asked for.

use crate::sip::header::HeaderName;
use crate::sip::method::Method;
use bytes::Bytes;

/// `SIP/2.0`, the only version this implementation speaks.
pub const SIP_2_0: &[u8] = b"SIP/2.0";

/// A request line: `Method SP Request-URI SP SIP-Version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLine {
    /// The method token.
    pub method: Method,
    /// The Request-URI, raw (parse it with [`crate::sip::uri::Uri::parse`]).
    pub uri: Bytes,
    /// The SIP-Version as received (validation answers 505 unless it is `SIP/2.0`).
    pub version: Bytes,
}

/// A status line: `SIP-Version SP Status-Code SP Reason-Phrase`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    /// The SIP-Version as received.
    pub version: Bytes,
    /// Status code, 100..=699.
    pub code: u16,
    /// Reason phrase (may be empty, may be UTF-8).
    pub reason: Bytes,
}

/// The first line of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    /// A request.
    Request(RequestLine),
    /// A response.
    Response(StatusLine),
}

/// One header field. `raw_name` is the spelling that arrived (or the canonical one for headers
/// the SBC adds), so unknown and compact headers relay byte-exact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Classified name.
    pub name: HeaderName,
    /// The name as written on the wire.
    pub raw_name: Bytes,
    /// The value with surrounding whitespace trimmed; may contain folded line breaks.
    pub value: Bytes,
}

impl Header {
    /// A header with the canonical spelling of a known name.
    pub fn new(name: HeaderName, value: impl Into<Bytes>) -> Header {
        Header {
            name,
            raw_name: Bytes::from_static(name.as_str().as_bytes()),
            value: value.into(),
        }
    }

    /// A header with an arbitrary name (classified; unknown names become `Other`).
    pub fn raw(raw_name: impl Into<Bytes>, value: impl Into<Bytes>) -> Header {
        let raw_name = raw_name.into();
        Header {
            name: HeaderName::from_bytes(&raw_name),
            raw_name,
            value: value.into(),
        }
    }
}

/// The ordered header fields of a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<Header>);

impl Headers {
    /// An empty header list with room for `n` fields.
    pub fn with_capacity(n: usize) -> Headers {
        Headers(Vec::with_capacity(n))
    }

    /// All fields in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Header> {
        self.0.iter()
    }

    /// Number of header fields.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no header fields.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of the first field named `name`.
    pub fn get(&self, name: HeaderName) -> Option<&Bytes> {
        self.0.iter().find(|h| h.name == name).map(|h| &h.value)
    }

    /// The value of the first field whose name matches `raw` case-insensitively (for headers
    /// without a [`HeaderName`] of their own).
    pub fn get_raw(&self, raw: &[u8]) -> Option<&Bytes> {
        self.0
            .iter()
            .find(|h| h.raw_name.eq_ignore_ascii_case(raw))
            .map(|h| &h.value)
    }

    /// The values of every field named `name`, in order (one per header line).
    pub fn get_all(&self, name: HeaderName) -> impl Iterator<Item = &Bytes> {
        self.0
            .iter()
            .filter(move |h| h.name == name)
            .map(|h| &h.value)
    }

    /// How many header lines carry `name`.
    pub fn count(&self, name: HeaderName) -> usize {
        self.0.iter().filter(|h| h.name == name).count()
    }

    /// Appends a field.
    pub fn push(&mut self, header: Header) {
        self.0.push(header);
    }

    /// Inserts a field before every other one (a new top Via).
    pub fn push_front(&mut self, header: Header) {
        self.0.insert(0, header);
    }

    /// Removes every field named `name`; returns how many were removed.
    pub fn remove(&mut self, name: HeaderName) -> usize {
        let before = self.0.len();
        self.0.retain(|h| h.name != name);
        before - self.0.len()
    }

    /// Replaces every field named `name` by one with `value`, at the position of the first one
    /// (or at the end when there was none).
    pub fn set(&mut self, name: HeaderName, value: impl Into<Bytes>) {
        let value = value.into();
        match self.0.iter().position(|h| h.name == name) {
            Some(pos) => {
                self.0[pos].value = value;
                let mut index = 0;
                self.0.retain(|h| {
                    let keep = h.name != name || index == pos;
                    index += 1;
                    keep
                });
            }
            None => self.0.push(Header::new(name, value)),
        }
    }

    /// Keeps only the fields for which `keep` returns true.
    pub fn retain(&mut self, keep: impl FnMut(&Header) -> bool) {
        self.0.retain(keep);
    }

    /// Mutable access to the fields (for in-place rewriting).
    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, Header> {
        self.0.iter_mut()
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = &'a Header;
    type IntoIter = std::slice::Iter<'a, Header>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// A SIP request or response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Request line or status line.
    pub start: StartLine,
    /// Header fields in order.
    pub headers: Headers,
    /// The body (exactly `Content-Length` bytes once framed).
    pub body: Bytes,
}

impl Message {
    /// True for requests.
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request(_))
    }

    /// The request line, if this is a request.
    pub fn request_line(&self) -> Option<&RequestLine> {
        match &self.start {
            StartLine::Request(r) => Some(r),
            StartLine::Response(_) => None,
        }
    }

    /// The status line, if this is a response.
    pub fn status_line(&self) -> Option<&StatusLine> {
        match &self.start {
            StartLine::Response(s) => Some(s),
            StartLine::Request(_) => None,
        }
    }

    /// The request method, if this is a request.
    pub fn method(&self) -> Option<&Method> {
        self.request_line().map(|r| &r.method)
    }

    /// The status code, if this is a response.
    pub fn status(&self) -> Option<u16> {
        self.status_line().map(|s| s.code)
    }

    /// Replaces the body and keeps `Content-Length` (and `Content-Type`, when given) in step.
    pub fn set_body(&mut self, body: Bytes, content_type: Option<Bytes>) {
        self.headers
            .set(HeaderName::ContentLength, body.len().to_string());
        match content_type {
            Some(ct) => self.headers.set(HeaderName::ContentType, ct),
            None if body.is_empty() => {
                self.headers.remove(HeaderName::ContentType);
            }
            None => {}
        }
        self.body = body;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers() -> Headers {
        let mut h = Headers::default();
        h.push(Header::raw("v", "SIP/2.0/UDP a"));
        h.push(Header::raw("X-Custom", "1"));
        h.push(Header::raw("Via", "SIP/2.0/UDP b"));
        h
    }

    #[test]
    fn get_and_count_by_name() {
        let h = headers();
        assert_eq!(h.get(HeaderName::Via).unwrap(), "SIP/2.0/UDP a");
        assert_eq!(h.count(HeaderName::Via), 2);
        assert_eq!(h.get_raw(b"x-custom").unwrap(), "1");
        assert_eq!(h.get_all(HeaderName::Via).count(), 2);
    }

    #[test]
    fn set_replaces_all_at_first_position() {
        let mut h = headers();
        h.set(HeaderName::Via, "SIP/2.0/UDP c");
        let names: Vec<_> = h.iter().map(|x| x.value.clone()).collect();
        assert_eq!(names, vec!["SIP/2.0/UDP c", "1"]);
        h.set(HeaderName::MaxForwards, "70");
        assert_eq!(h.iter().last().unwrap().raw_name, "Max-Forwards");
    }

    #[test]
    fn push_front_and_remove() {
        let mut h = headers();
        h.push_front(Header::new(HeaderName::Via, "SIP/2.0/UDP top"));
        assert_eq!(h.get(HeaderName::Via).unwrap(), "SIP/2.0/UDP top");
        assert_eq!(h.remove(HeaderName::Via), 3);
        assert_eq!(h.len(), 1);
    }
}
