//! URI tests: RFC 4475 and RFC 5118 vectors, normal cases, and print/parse round trips.

use super::*;
use crate::sip::header::Params;
use proptest::prelude::*;
use std::net::{Ipv4Addr, Ipv6Addr};

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn parse(s: &str) -> Result<Uri, SyntaxError> {
    Uri::parse(&b(s))
}

fn sip(s: &str) -> SipUri {
    match parse(s) {
        Ok(Uri::Sip(u)) => u,
        other => panic!("{s}: {other:?}"),
    }
}

fn reprints(s: &str) {
    assert_eq!(parse(s).unwrap().to_string(), s);
}

#[test]
fn intmeth_user_and_password() {
    let u = sip(
        "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com",
    );
    assert_eq!(
        u.user,
        Some(b("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"))
    );
    assert_eq!(
        u.password,
        Some(b("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"))
    );
    assert_eq!(u.host, Host::Name(b("example.com")));
    assert!(u.params.is_empty() && u.headers.is_none());
    reprints("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com");
}

#[test]
fn semiuri_and_escapes() {
    let u = sip("sip:user;par=u%40example.net@example.com");
    assert_eq!(u.user, Some(b("user;par=u%40example.net")));
    assert!(u.params.is_empty());
    let u = sip("sip:null-%00-null@example.com");
    assert_eq!(u.user, Some(b("null-%00-null")));
    let u = sip("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31");
    assert_eq!(u.params.len(), 2);
    reprints("sip:sips%3Auser%40example.com@example.net");
    reprints("sip:I%20have%20spaces@example.net");
    assert!(parse("sip:I have spaces@example.net").is_err());
    assert!(parse("sip:bad%2@example.net").is_err());
}

#[test]
fn params_and_headers() {
    let u = sip("sip:services.example.com;lr;unknownwith=value;unknown-no-value");
    assert!(u.lr());
    assert_eq!(u.params.value("unknownwith"), Some(&b("value")));
    let u = sip("sip:user@example.com?Route=%3Csip:sip.example.com%3E");
    assert_eq!(u.headers, Some(b("Route=%3Csip:sip.example.com%3E")));
    let u = sip("SIP:UserB@example.com;maddr=ss1.example.com;transport=TCP;user=phone");
    assert_eq!(u.maddr(), Some(&b("ss1.example.com")));
    assert_eq!(u.transport(), Some(&b("TCP")));
    assert_eq!(u.user_param(), Some(&b("phone")));
    assert!(!u.secure);
    reprints("SIP:UserB@example.com;maddr=ss1.example.com;transport=TCP;user=phone");
    let u = sip("sips:a@b.example:5061;transport=tls?x=y&z=");
    assert!(u.secure);
    assert_eq!(u.port, Some(5061));
    reprints("sips:a@b.example:5061;transport=tls?x=y&z=");
    assert!(parse("sip:a@b;;x").is_err());
    assert!(parse("sip:a@b;x=").is_err());
    assert!(parse("sip:a@b x").is_err());
    assert!(parse("sip:a@b:5060x").is_err());
}

#[test]
fn rfc5118_hosts() {
    let u = sip("sip:[2001:db8::10:5070]");
    assert_eq!(
        u.host,
        Host::V6("2001:db8::10:5070".parse::<Ipv6Addr>().unwrap())
    );
    assert_eq!(u.port, None);
    let u = sip("sip:[2001:db8::10]:5070");
    assert_eq!(u.port, Some(5070));
    assert!(parse("sip:2001:db8::10").is_err());
    assert!(parse("sip:user@[2001:db8:::192.0.2.1]").is_err());
    assert!(parse("sip:user@[2001:db8::192.0.2.1]").is_ok());
    let u = sip("sip:ted@[::ffff:192.0.2.2]");
    assert_eq!(u.host.to_string(), "[::ffff:192.0.2.2]");
    let u = sip("sip:caller@192.0.2.1:5060");
    assert_eq!(u.host, Host::V4(Ipv4Addr::new(192, 0, 2, 1)));
    assert!(parse("sip:user@example.com:65536").is_err());
    assert!(parse("sip:user@example.com:").is_err());
    assert!(parse("sip:@example.com").is_err());
    assert!(parse("sip:").is_err());
}

#[test]
fn tel_and_other_schemes() {
    let Ok(Uri::Tel(t)) = parse("tel:+1-201-555-0123;ext=1234") else {
        panic!()
    };
    assert!(t.is_global());
    assert_eq!(t.digits(), "12015550123");
    assert_eq!(t.params.value("ext"), Some(&b("1234")));
    reprints("tel:+1-201-555-0123;ext=1234");
    assert!(parse("tel:7042;phone-context=example.com").is_ok());
    assert!(parse("tel:+").is_err());
    assert!(parse("tel:+12a").is_err());
    for s in [
        "isbn:2983792873",
        "http://www.example.com",
        "name:John_Smith",
        "soap.beep://192.0.2.103:3002",
        "nobodyKnowsThisScheme:totallyopaquecontent",
    ] {
        let u = parse(s).unwrap();
        assert!(matches!(u, Uri::Other { .. }), "{s}");
        assert_eq!(u.to_string(), s);
    }
    assert_eq!(parse("NAME:x").unwrap().scheme(), &b("NAME"));
    for bad in [
        "",
        ":x",
        "1x:y",
        "x:",
        "a b:c",
        "<sip:a@b>",
        " sip:a@b",
        "x:a b",
        "x:a>",
    ] {
        assert!(parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn builders() {
    let mut u = SipUri::new(Host::V4(Ipv4Addr::new(192, 0, 2, 9)), Some(5060));
    u.set_user(Some(b("alice")));
    u.params_mut().set("transport", Some(b("udp")));
    u.params_mut().set("lr", None);
    assert_eq!(u.to_string(), "sip:alice@192.0.2.9:5060;transport=udp;lr");
    u.set_secure(true);
    assert_eq!(
        Uri::from(u.clone()).to_string(),
        "sips:alice@192.0.2.9:5060;transport=udp;lr"
    );
    assert!(Uri::from(u).needs_angle_brackets());
}

/// Strategies shared with the header round-trip tests.
pub(crate) mod strategy {
    use super::*;

    /// A host in canonical form.
    pub fn host() -> impl Strategy<Value = Host> {
        prop_oneof![
            "[a-z][a-z0-9-]{0,8}[a-z0-9](\\.[a-z][a-z0-9]{0,5}){0,2}"
                .prop_map(|s| Host::Name(Bytes::from(s))),
            any::<[u8; 4]>().prop_map(|o| Host::V4(Ipv4Addr::from(o))),
            any::<[u16; 8]>().prop_map(|s| Host::V6(Ipv6Addr::from(s))),
        ]
    }

    fn escaped(set: &'static str) -> impl Strategy<Value = Bytes> {
        proptest::collection::vec(
            prop_oneof![
                4 => proptest::sample::select(set.as_bytes().to_vec()).prop_map(|c| vec![c]),
                1 => any::<u8>().prop_map(|c| format!("%{c:02X}").into_bytes()),
            ],
            1..8,
        )
        .prop_map(|v| Bytes::from(v.concat()))
    }

    /// URI parameters.
    pub fn uri_params() -> impl Strategy<Value = Params> {
        let pc = "abcXYZ09-_.!~*'()[]/:&+$";
        proptest::collection::vec((escaped(pc), proptest::option::of(escaped(pc))), 0..4).prop_map(
            |v| {
                let mut p = Params::new();
                for (n, val) in v {
                    p.push(n, val);
                }
                p
            },
        )
    }

    /// A `sip:`/`sips:` URI.
    pub fn sip_uri() -> impl Strategy<Value = SipUri> {
        let user = escaped("abcXYZ09-_.!~*'()&=+$,;?/");
        let password = escaped("abcXYZ09-_.!~*'()&=+$,");
        (
            any::<bool>(),
            proptest::option::of((user, proptest::option::of(password))),
            host(),
            proptest::option::of(any::<u16>()),
            uri_params(),
            proptest::option::of(escaped("abcXYZ09-_.!~*'()[]/?:+$&=")),
        )
            .prop_map(|(secure, up, host, port, params, headers)| {
                let mut u = if secure {
                    SipUri::new_secure(host, port)
                } else {
                    SipUri::new(host, port)
                };
                if let Some((user, pw)) = up {
                    u.user = Some(user);
                    u.password = pw;
                }
                u.params = params;
                u.headers = headers;
                u
            })
    }
}

proptest! {
    #[test]
    fn sip_uri_round_trip(u in strategy::sip_uri()) {
        let printed = Uri::Sip(u.clone()).to_string();
        let parsed = Uri::parse(&Bytes::from(printed.clone()));
        prop_assert_eq!(parsed, Ok(Uri::Sip(u)), "{}", printed);
    }

    #[test]
    fn uri_parse_never_panics(v in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = Uri::parse(&Bytes::from(v));
    }

    #[test]
    fn uri_parse_never_panics_sipish(s in "(sip|sips|tel|x):[a-z0-9@:;=?%\\[\\]&.+-]{0,40}") {
        if let Ok(u) = Uri::parse(&Bytes::from(s.clone())) {
            prop_assert_eq!(Uri::parse(&Bytes::from(u.to_string())), Ok(u));
        }
    }
}
