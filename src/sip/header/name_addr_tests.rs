//! Tests for `name-addr` values: RFC 4475 vectors (wsinv, intmeth, lwsdisp, quotbal,
//! badaspec, baddn, badinv01, regbadct, unksm2, esc01) and print/parse round trips.

use super::*;
use crate::sip::uri::tests::strategy;
use proptest::prelude::*;

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn parse(s: &str) -> Result<NameAddr, SyntaxError> {
    NameAddr::parse(&b(s))
}

#[test]
fn wsinv_values() {
    let to = parse("\r\n sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n").unwrap();
    assert!(!to.angle && to.display.is_none());
    assert_eq!(to.tag(), Some(&b("1918181833n")));
    assert_eq!(to.uri.to_string(), "sip:vivekg@chair-dnrc.example.com");

    let from =
        parse("\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8")
            .unwrap();
    assert_eq!(from.display, Some(b("\"J Rosenberg \\\\\\\"\"")));
    assert_eq!(
        from.display_name_unquoted().as_deref(),
        Some("J Rosenberg \\\"")
    );
    assert_eq!(from.tag(), Some(&b("98asjd8")));

    let r = NameAddr::parse_list(&b(
        "\r\n <sip:services.example.com;lr;unknownwith=value;unknown-no-value>",
    ))
    .unwrap();
    assert_eq!(r.len(), 1);
    assert!(r[0].uri.as_sip().unwrap().lr());
    assert!(r[0].params.is_empty());
}

#[test]
fn intmeth_and_lwsdisp_display_names() {
    let from = parse(
        "token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%=\"\u{0440}\u{0430}\u{0431}\u{043e}\u{0442}\u{0430}\u{044e}\u{0449}\u{0438}\u{0439}\";tag=_token~1'+`*%!-.",
    )
    .unwrap();
    assert_eq!(from.display, Some(b("token1~` token2'+_ token3*%!.-")));
    assert_eq!(from.tag(), Some(&b("_token~1'+`*%!-.")));
    assert!(from.params.contains("FROMPARAM''~+*_!.-%"));

    let to = parse("\"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f\" <sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>").unwrap();
    assert!(to.display.is_some());

    let from = parse("caller<sip:caller@example.com>;tag=323").unwrap();
    assert_eq!(from.display, Some(b("caller")));
    assert_eq!(from.to_string(), "caller <sip:caller@example.com>;tag=323");
}

#[test]
fn invalid_values() {
    for bad in [
        "\"Mr. J. User <sip:j.user@example.com>",
        "\"Bell, Alexander\" <sip:a.g.bell@example.com>;tag=433423 x",
        "\"Watson, Thomas\" < sip:t.watson@example.org >",
        "\"Watson, Thomas\" <sip:t.watson@example.org >",
        "Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
        "\"Joe\" <sip:joe@example.org>;;;;",
        "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
        "<sip:a@b",
        "<sip:a@b>>",
        "",
        "sip:a@b c",
        "<>",
    ] {
        assert!(parse(bad).is_err(), "{bad:?}");
    }
    assert!(NameAddr::parse_list(&b("Watson, Thomas <sip:t.watson@example.org>")).is_err());
    assert!(NameAddr::parse_list(&b("<sip:a@b>,")).is_err());
}

#[test]
fn other_schemes_and_escapes() {
    let to = parse("isbn:2983792873").unwrap();
    assert!(matches!(to.uri, Uri::Other { .. }));
    let from = parse("<http://www.example.com>;tag=3234233").unwrap();
    assert_eq!(from.to_string(), "<http://www.example.com>;tag=3234233");
    let c = parse("<name:John_Smith>").unwrap();
    assert_eq!(c.uri.scheme(), &b("name"));
    let to = parse("sip:%75se%72@example.com").unwrap();
    assert_eq!(to.uri.as_sip().unwrap().user, Some(b("%75se%72")));
    let t = parse("sip:+16505552222@ss1.example.net;user=phone").unwrap();
    assert_eq!(
        t.params.value("user"),
        Some(&b("phone")),
        "addr-spec params are header params"
    );
    assert!(t.uri.as_sip().unwrap().params.is_empty());
}

#[test]
fn lists() {
    let l = NameAddr::parse_list(&b(
        "<sip:p1.example.com;lr>, \"A, B\" <sip:p2.example.com;lr>;x=1 ,sip:p3.example.com",
    ))
    .unwrap();
    assert_eq!(l.len(), 3);
    assert_eq!(l[1].display_name_unquoted().as_deref(), Some("A, B"));
    let mut out = BytesMut::new();
    NameAddr::write_list(&l, &mut out);
    assert_eq!(
        &out[..],
        b"<sip:p1.example.com;lr>, \"A, B\" <sip:p2.example.com;lr>;x=1, sip:p3.example.com"
    );
}

/// Header parameters: `token [= token / quoted-string]`.
pub(crate) fn header_params() -> impl Strategy<Value = Params> {
    proptest::collection::vec(
        (
            "[a-zA-Z0-9.!%*_+`'~-]{1,8}",
            proptest::option::of(prop_oneof![
                "[a-zA-Z0-9.!%*_+`'~-]{1,8}",
                "\"[a-z ,;<>@]{0,8}\"",
            ]),
        ),
        0..4,
    )
    .prop_map(|v| {
        let mut p = Params::new();
        for (n, val) in v {
            p.push(Bytes::from(n), val.map(Bytes::from));
        }
        p
    })
}

fn name_addr() -> impl Strategy<Value = NameAddr> {
    (
        proptest::option::of(prop_oneof![
            "\"[a-zA-Z ,;<>]{0,10}\"",
            "[a-zA-Z0-9]{1,6}( [a-z~]{1,4}){0,2}"
        ]),
        strategy::sip_uri(),
        any::<bool>(),
        header_params(),
    )
        .prop_map(|(display, uri, angle, params)| {
            let uri = Uri::Sip(uri);
            let angle = angle || display.is_some() || uri.needs_angle_brackets();
            NameAddr {
                display: display.map(Bytes::from),
                uri,
                angle,
                params,
            }
        })
}

proptest! {
    #[test]
    fn round_trip(na in name_addr()) {
        let printed = na.to_string();
        prop_assert_eq!(NameAddr::parse(&Bytes::from(printed.clone())), Ok(na), "{}", printed);
    }

    #[test]
    fn never_panics(v in proptest::collection::vec(any::<u8>(), 0..64)) {
        let v = Bytes::from(v);
        let _ = NameAddr::parse(&v);
        let _ = NameAddr::parse_list(&v);
    }
}
