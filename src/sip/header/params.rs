//! Parameter lists (pure): `*( SEMI generic-param )` of header fields (RFC 3261 §25.1
//! `generic-param`, with LWS around `;` and `=`) and `uri-parameters` of SIP URIs (§19.1.1,
//! no whitespace, `paramchar` with escapes).
//!
//! Names and values are zero-copy slices kept verbatim (quoted values keep their quotes), so a
//! parsed list prints back byte-exact apart from whitespace.

use crate::sip::error::SyntaxError;
use crate::sip::scan::{self, PARAM};
use bytes::{BufMut, Bytes, BytesMut};

/// An ordered parameter list; names compare case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    list: Vec<(Bytes, Option<Bytes>)>,
}

impl Params {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The first parameter called `name`: `None` if absent, `Some(None)` if present without a
    /// value, `Some(Some(v))` with its raw value.
    pub fn get(&self, name: &str) -> Option<Option<&Bytes>> {
        self.list
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.as_ref())
    }

    /// The value of `name` if it is present with a value.
    pub fn value(&self, name: &str) -> Option<&Bytes> {
        self.get(name).flatten()
    }

    /// Whether a parameter called `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Sets `name` to `value`: replaces the first existing parameter of that name in place
    /// (removing any duplicates), or appends it.
    pub fn set(&mut self, name: impl Into<Bytes>, value: Option<Bytes>) {
        let name = name.into();
        match self
            .list
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(&name))
        {
            Some(i) => {
                if let Some(slot) = self.list.get_mut(i) {
                    slot.1 = value;
                }
                let mut k = 0;
                self.list.retain(|(n, _)| {
                    k += 1;
                    k - 1 <= i || !n.eq_ignore_ascii_case(&name)
                });
            }
            None => self.list.push((name, value)),
        }
    }

    /// Appends a parameter without checking for an existing one.
    pub fn push(&mut self, name: impl Into<Bytes>, value: Option<Bytes>) {
        self.list.push((name.into(), value));
    }

    /// Removes every parameter called `name`; returns whether any was present.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.list.len();
        self.list
            .retain(|(n, _)| !n.eq_ignore_ascii_case(name.as_bytes()));
        self.list.len() != before
    }

    /// The parameters in order.
    pub fn iter(&self) -> impl Iterator<Item = (&Bytes, Option<&Bytes>)> {
        self.list.iter().map(|(n, v)| (n, v.as_ref()))
    }

    /// Writes `;name=value` / `;name` for every parameter.
    pub fn write_to(&self, out: &mut BytesMut) {
        for (n, v) in &self.list {
            out.put_u8(b';');
            out.put_slice(n);
            if let Some(v) = v {
                out.put_u8(b'=');
                out.put_slice(v);
            }
        }
    }

    /// Parses header parameters `*( SEMI generic-param )` starting at `i` in `src`, with LWS
    /// allowed around `;` and `=`. Returns the list and the offset where parsing stopped (the
    /// first non-LWS byte that does not start another `;` parameter). Empty parameters are errors.
    pub fn parse_header(src: &Bytes, i: usize) -> Result<(Params, usize), SyntaxError> {
        let s = src.as_ref();
        let mut params = Params::new();
        let mut i = i;
        loop {
            let j = scan::skip_lws(s, i);
            if s.get(j) != Some(&b';') {
                return Ok((params, j));
            }
            let ns = scan::skip_lws(s, j + 1);
            let mut ne = ns;
            while s.get(ne).is_some_and(|&b| scan::is_token_char(b)) {
                ne += 1;
            }
            if ne == ns {
                return Err(SyntaxError::new("empty parameter", ns));
            }
            let name = src.slice(ns..ne);
            let k = scan::skip_lws(s, ne);
            if s.get(k) == Some(&b'=') {
                let vs = scan::skip_lws(s, k + 1);
                let ve = scan_gen_value(s, vs)?;
                params.list.push((name, Some(src.slice(vs..ve))));
                i = ve;
            } else {
                params.list.push((name, None));
                i = ne;
            }
        }
    }

    /// Parses the `uri-parameters` of a URI: `src[start..end]` is everything from the first `;`
    /// up to (not including) `?` or the end. No whitespace; names and values are `paramchar`
    /// runs with `%HH` escapes; values, when present, are non-empty.
    pub fn parse_uri(src: &Bytes, start: usize, end: usize) -> Result<Params, SyntaxError> {
        let s = src
            .get(start..end)
            .ok_or(SyntaxError::new("uri parameters", start))?;
        let mut params = Params::new();
        if s.is_empty() {
            return Ok(params);
        }
        if s.first() != Some(&b';') {
            return Err(SyntaxError::new("uri parameters", start));
        }
        let mut off = start + 1;
        for part in s.get(1..).unwrap_or_default().split(|&b| b == b';') {
            let (name, value) = match part.iter().position(|&b| b == b'=') {
                Some(eq) => (
                    part.get(..eq).unwrap_or_default(),
                    Some(part.get(eq + 1..).unwrap_or_default()),
                ),
                None => (part, None),
            };
            if !scan::is_escaped_run(name, &PARAM) {
                return Err(SyntaxError::new("uri parameter name", off));
            }
            let name_b = src.slice(off..off + name.len());
            let value_b = match value {
                Some(v) if scan::is_escaped_run(v, &PARAM) => {
                    let vs = off + name.len() + 1;
                    Some(src.slice(vs..vs + v.len()))
                }
                Some(_) => {
                    return Err(SyntaxError::new(
                        "uri parameter value",
                        off + name.len() + 1,
                    ));
                }
                None => None,
            };
            params.list.push((name_b, value_b));
            off += part.len() + 1;
        }
        Ok(params)
    }
}

/// Scans a `gen-value` at `i`: a quoted-string, an IPv6 reference `[...]`, or a run of token
/// characters and `:` (so `received=2001:db8::9` is accepted as RFC 5118 `via-received-param-no-delim` needs).
fn scan_gen_value(s: &[u8], i: usize) -> Result<usize, SyntaxError> {
    match s.get(i) {
        Some(b'"') => scan::scan_quoted(s, i),
        Some(b'[') => {
            let mut j = i + 1;
            while s
                .get(j)
                .is_some_and(|b| b.is_ascii_hexdigit() || *b == b':' || *b == b'.')
            {
                j += 1;
            }
            if s.get(j) == Some(&b']') && j > i + 1 {
                Ok(j + 1)
            } else {
                Err(SyntaxError::new("parameter value", j))
            }
        }
        _ => {
            let mut j = i;
            while s
                .get(j)
                .is_some_and(|&b| scan::is_token_char(b) || b == b':')
            {
                j += 1;
            }
            if j == i {
                Err(SyntaxError::new("parameter value", i))
            } else {
                Ok(j)
            }
        }
    }
}

crate::sip::display_via_write_to!(Params);

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &'static str) -> Bytes {
        Bytes::from_static(s.as_bytes())
    }

    #[test]
    fn header_params_with_lws() {
        let v = b(";   tag    = 1918181833n");
        let (p, end) = Params::parse_header(&v, 0).unwrap();
        assert_eq!(end, v.len());
        assert_eq!(p.get("TAG"), Some(Some(&b("1918181833n"))));

        let v = b(" ; newparam =\r\n      newvalue ;\r\n  secondparam ; q = 0.33");
        let (p, end) = Params::parse_header(&v, 0).unwrap();
        assert_eq!(end, v.len());
        assert_eq!(p.len(), 3);
        assert_eq!(p.get("secondparam"), Some(None));
        assert_eq!(p.value("q"), Some(&b("0.33")));
        assert_eq!(p.to_string(), ";newparam=newvalue;secondparam;q=0.33");
    }

    #[test]
    fn header_param_values() {
        let v = b(";received=[2001:db8::9:255];r2=2001:db8::9:255;x=\"a;b\";tag=x");
        let (p, end) = Params::parse_header(&v, 0).unwrap();
        assert_eq!(end, v.len());
        assert_eq!(p.value("received"), Some(&b("[2001:db8::9:255]")));
        assert_eq!(p.value("r2"), Some(&b("2001:db8::9:255")));
        assert_eq!(p.value("x"), Some(&b("\"a;b\"")));
        let v = b(";x=\"unterminated");
        assert!(Params::parse_header(&v, 0).is_err());
    }

    #[test]
    fn empty_header_params_are_errors() {
        assert!(Params::parse_header(&b(";;"), 0).is_err());
        assert!(Params::parse_header(&b(";;;;"), 0).is_err());
        assert!(Params::parse_header(&b(";a="), 0).is_err());
        assert!(Params::parse_header(&b(";"), 0).is_err());
        let (p, end) = Params::parse_header(&b(" x"), 0).unwrap();
        assert!(p.is_empty());
        assert_eq!(end, 1);
    }

    #[test]
    fn uri_params() {
        let v = b(";%6C%72;n%61me=v%61lue%25%34%31;lr;transport=tcp");
        let p = Params::parse_uri(&v, 0, v.len()).unwrap();
        assert_eq!(p.len(), 4);
        assert_eq!(p.value("n%61me"), Some(&b("v%61lue%25%34%31")));
        assert!(p.contains("LR"));
        let mut out = BytesMut::new();
        p.write_to(&mut out);
        assert_eq!(&out[..], &v[..]);
        for bad in [";;", ";a=", "; a", ";a b", ";a=%4", "a"] {
            let v = Bytes::from(bad);
            assert!(Params::parse_uri(&v, 0, v.len()).is_err(), "{bad}");
        }
    }

    #[test]
    fn set_and_remove() {
        let mut p = Params::new();
        p.set("rport", None);
        p.push("Branch", Some(b("1")));
        p.push("branch", Some(b("2")));
        p.set("BRANCH", Some(b("3")));
        assert_eq!(p.to_string(), ";rport;Branch=3");
        p.set("rport", Some(b("5060")));
        assert_eq!(p.value("rport"), Some(&b("5060")));
        assert!(p.remove("RPORT"));
        assert!(!p.remove("rport"));
        assert_eq!(p.iter().count(), 1);
    }

    proptest::proptest! {
        #[test]
        fn header_params_round_trip(p in crate::sip::header::name_addr::tests::header_params()) {
            let mut out = BytesMut::new();
            p.write_to(&mut out);
            let out = out.freeze();
            proptest::prop_assert_eq!(Params::parse_header(&out, 0), Ok((p, out.len())));
        }

        #[test]
        fn uri_params_round_trip(p in crate::sip::uri::tests::strategy::uri_params()) {
            let mut out = BytesMut::new();
            p.write_to(&mut out);
            let out = out.freeze();
            proptest::prop_assert_eq!(Params::parse_uri(&out, 0, out.len()), Ok(p));
        }
    }
}
