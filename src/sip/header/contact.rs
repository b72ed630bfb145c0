//! The Contact header (pure): RFC 3261 §20.10 and §25.1 `Contact`, with the parameters an SBC
//! reads: `expires` (§10.2.1.1), `q` (§20.10), `+sip.instance` and `reg-id` (RFC 5626 §4.1).
//!
//! `*` is only valid as the whole header value (RFC 3261 §10.2.2). An `expires` value that does
//! not fit 32 bits saturates at `u32::MAX` (RFC 4475 `scalar02` shows the case); the
//! registrar policy clamps it anyway.

use super::name_addr::NameAddr;
use crate::sip::error::SyntaxError;
use crate::sip::scan;
use bytes::{BufMut, Bytes, BytesMut};

/// One Contact value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "`*` is rare and values are short-lived; boxing would cost an allocation per contact"
)]
pub enum Contact {
    /// `*` (remove all bindings, REGISTER only).
    Star,
    /// A contact address with its parameters.
    Addr(NameAddr),
}

impl Contact {
    /// Parses one Contact value (`*` or a name-addr / addr-spec with parameters).
    pub fn parse(value: &Bytes) -> Result<Contact, SyntaxError> {
        let v = scan::trim_lws(value);
        if v.as_ref() == b"*" {
            Ok(Contact::Star)
        } else {
            NameAddr::parse(&v).and_then(checked)
        }
    }

    /// Parses a whole Contact header value: `*` alone, or one or more comma-separated
    /// addresses. `*` inside a list and empty elements are errors.
    pub fn parse_list(value: &Bytes) -> Result<Vec<Contact>, SyntaxError> {
        if scan::trim_lws(value).as_ref() == b"*" {
            return Ok(vec![Contact::Star]);
        }
        scan::split_list(value)
            .map(|e| match e.as_ref() {
                b"" => Err(SyntaxError::new("empty contact", 0)),
                b"*" => Err(SyntaxError::new("contact * in a list", 0)),
                _ => NameAddr::parse(&e).and_then(checked),
            })
            .collect()
    }

    /// The address, unless this is `*`.
    pub fn addr(&self) -> Option<&NameAddr> {
        match self {
            Contact::Star => None,
            Contact::Addr(a) => Some(a),
        }
    }

    /// The address for rewriting, unless this is `*`.
    pub fn addr_mut(&mut self) -> Option<&mut NameAddr> {
        match self {
            Contact::Star => None,
            Contact::Addr(a) => Some(a),
        }
    }

    fn param(&self, name: &str) -> Option<&Bytes> {
        self.addr()?.params.value(name)
    }

    /// The `expires` parameter in seconds, saturating at `u32::MAX`; `None` if absent
    /// (the value is checked to be `delta-seconds` at parse time).
    pub fn expires(&self) -> Option<u32> {
        self.param("expires")
            .and_then(|v| scan::parse_u32_saturating(v))
    }

    /// The `q` parameter in thousandths (`q=0.33` is 330), `None` if absent
    /// (`qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, checked at parse time).
    pub fn q(&self) -> Option<u16> {
        parse_qvalue(self.param("q")?)
    }

    /// The `+sip.instance` value without its quotes (e.g. `<urn:uuid:...>`).
    pub fn sip_instance(&self) -> Option<Bytes> {
        let v = self.param("+sip.instance")?;
        if v.len() >= 2 && v.first() == Some(&b'"') && v.last() == Some(&b'"') {
            Some(v.slice(1..v.len() - 1))
        } else {
            Some(v.clone())
        }
    }

    /// The `reg-id` parameter (RFC 5626).
    pub fn reg_id(&self) -> Option<u32> {
        scan::parse_u64(self.param("reg-id")?).and_then(|v| u32::try_from(v).ok())
    }

    /// Writes the value.
    pub fn write_to(&self, out: &mut BytesMut) {
        match self {
            Contact::Star => out.put_u8(b'*'),
            Contact::Addr(a) => a.write_to(out),
        }
    }

    /// Writes a comma-separated list.
    pub fn write_list(list: &[Contact], out: &mut BytesMut) {
        for (k, c) in list.iter().enumerate() {
            if k > 0 {
                out.put_slice(b", ");
            }
            c.write_to(out);
        }
    }
}

/// Checks the `c-p-q` and `c-p-expires` grammar (§25.1) of a parsed address.
fn checked(addr: NameAddr) -> Result<Contact, SyntaxError> {
    for (name, value) in addr.params.iter() {
        let ok = if name.eq_ignore_ascii_case(b"q") {
            value.is_some_and(|v| parse_qvalue(v).is_some())
        } else if name.eq_ignore_ascii_case(b"expires") {
            value.is_some_and(|v| scan::parse_u32_saturating(v).is_some())
        } else {
            true
        };
        if !ok {
            return Err(SyntaxError::new("contact parameter", 0));
        }
    }
    Ok(Contact::Addr(addr))
}

/// Parses a `qvalue` into thousandths.
fn parse_qvalue(v: &[u8]) -> Option<u16> {
    let (int, frac) = match v.iter().position(|&b| b == b'.') {
        Some(p) => (v.get(..p)?, v.get(p + 1..)?),
        None => (v, &b""[..]),
    };
    if frac.len() > 3 || !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut thousandths = 0u16;
    for k in 0..3 {
        thousandths = thousandths * 10 + frac.get(k).map_or(0, |d| u16::from(d - b'0'));
    }
    match int {
        b"0" => Some(thousandths),
        b"1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

crate::sip::display_via_write_to!(Contact);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::uri::Uri;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn corpus_contacts() {
        let l = Contact::parse_list(&b("\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =\r\n      newvalue ;\r\n  secondparam ; q = 0.33")).unwrap();
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].q(), Some(330));
        let c = Contact::parse(&b(
            "<sip:user@host129.example.com>\r\n  ;expires=280297596632815",
        ))
        .unwrap();
        assert_eq!(c.expires(), Some(u32::MAX));
        let c = Contact::parse(&b("sip:+19725552222@gw1.example.net;unknownparam")).unwrap();
        assert!(c.addr().unwrap().params.contains("unknownparam"));
        let c = Contact::parse(&b("<sip:+19725552222@gw1.example.net;unknownparam>")).unwrap();
        assert!(c.addr().unwrap().params.is_empty());
        let c =
            Contact::parse(&b("<sip:user@example.com?Route=%3Csip:sip.example.com%3E>")).unwrap();
        assert!(matches!(&c.addr().unwrap().uri, Uri::Sip(u) if u.headers.is_some()));
        assert!(
            Contact::parse(&b("sip:user@example.com?Route=%3Csip:sip.example.com%3E")).is_err()
        );
        assert!(Contact::parse(&b("<sip:%00%00@host5.example.com>")).is_ok());
        assert!(Contact::parse(&b("<name:John_Smith>")).is_ok());
        assert!(Contact::parse_list(&b("\"Joe\" <sip:joe@example.org>;;;;")).is_err());
        for bad in [
            "<sip:a@b>;q=2",
            "<sip:a@b>;q",
            "<sip:a@b>;expires=soon",
            "<sip:a@b>;EXPIRES",
        ] {
            assert!(Contact::parse(&b(bad)).is_err(), "{bad}");
            assert!(Contact::parse_list(&b(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn star_and_lists() {
        assert_eq!(Contact::parse_list(&b(" * ")), Ok(vec![Contact::Star]));
        assert!(Contact::parse_list(&b("*, <sip:a@b>")).is_err());
        assert!(Contact::parse_list(&b("<sip:a@b>,")).is_err());
        let l = Contact::parse_list(&b("<sip:a@b>;expires=60, sip:c@d;q=1")).unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!((l[0].expires(), l[1].q()), (Some(60), Some(1000)));
        let mut out = BytesMut::new();
        Contact::write_list(&l, &mut out);
        assert_eq!(&out[..], b"<sip:a@b>;expires=60, sip:c@d;q=1");
        assert_eq!(Contact::Star.to_string(), "*");
        assert_eq!(Contact::Star.expires(), None);
    }

    #[test]
    fn outbound_params() {
        let c = Contact::parse(&b("<sip:a@192.0.2.1:5060;ob>;reg-id=1;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\"")).unwrap();
        assert_eq!(c.reg_id(), Some(1));
        assert_eq!(
            c.sip_instance(),
            Some(b("<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>"))
        );
    }

    #[test]
    fn qvalues() {
        for (v, q) in [
            ("0", Some(0)),
            ("0.5", Some(500)),
            ("0.123", Some(123)),
            ("1", Some(1000)),
            ("1.000", Some(1000)),
        ] {
            assert_eq!(parse_qvalue(v.as_bytes()), q, "{v}");
        }
        for v in ["1.5", "2", "0.1234", ".5", "0.a", ""] {
            assert_eq!(parse_qvalue(v.as_bytes()), None, "{v}");
        }
    }
}
