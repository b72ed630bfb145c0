//! RFC test vectors, parser cases and the retry rules of the Digest client.

use super::*;
use bytes::Bytes;

fn parse_one(value: &str) -> Vec<AuthChallenge> {
    parse_challenges([value.as_bytes()]).unwrap()
}

fn digest(value: &str) -> DigestChallenge {
    select(&parse_one(value)).unwrap()
}

/// RFC 2617 §3.5.
#[test]
fn rfc2617_md5_example() {
    let challenge = digest(
        r#"Digest
                 realm="testrealm@host.com",
                 qop="auth,auth-int",
                 nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
                 opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
    );
    assert_eq!(challenge.algorithm, Algorithm::Md5);
    assert_eq!(challenge.qop, Some(Qop::Auth));
    let credentials = Credentials::new("Mufasa", "Circle Of Life");
    let request = RequestInfo {
        method: "GET",
        uri: "/dir/index.html",
        body: b"",
    };
    let client = ClientNonce {
        cnonce: "0a4f113b",
        nc: 1,
    };
    assert_eq!(
        response(&challenge, &credentials, &request, &client),
        "6629fae49393a05397450978507c4ef1"
    );
    assert_eq!(
        authorization(&challenge, &credentials, &request, &client).unwrap(),
        "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", \
         nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", \
         response=\"6629fae49393a05397450978507c4ef1\", algorithm=MD5, cnonce=\"0a4f113b\", \
         qop=auth, nc=00000001, opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""
    );
}

const RFC7616_CHALLENGES: [&str; 2] = [
    r#"Digest
       realm="http-auth@example.org",
       qop="auth, auth-int",
       algorithm=SHA-256,
       nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
       opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#,
    r#"Digest
       realm="http-auth@example.org",
       qop="auth, auth-int",
       algorithm=MD5,
       nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
       opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#,
];

/// RFC 7616 §3.9.1: both answers, and SHA-256 chosen when both are offered.
#[test]
fn rfc7616_sha256_and_md5_examples() {
    let all = parse_challenges(RFC7616_CHALLENGES.iter().map(|v| v.as_bytes())).unwrap();
    assert_eq!(all.len(), 2);
    let credentials = Credentials::new("Mufasa", "Circle of Life");
    let request = RequestInfo {
        method: "GET",
        uri: "/dir/index.html",
        body: b"",
    };
    let client = ClientNonce {
        cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        nc: 1,
    };
    let best = select(&all).unwrap();
    assert_eq!(best.algorithm, Algorithm::Sha256);
    assert_eq!(
        response(&best, &credentials, &request, &client),
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    );
    let md5 = DigestChallenge::from_challenge(&all[1]).unwrap();
    assert_eq!(
        response(&md5, &credentials, &request, &client),
        "8ca523f5e9506fed4657c9700eebdbec"
    );
    // Listed the other way round, SHA-256 still wins.
    let reversed = [all[1].clone(), all[0].clone()];
    assert_eq!(select(&reversed).unwrap().algorithm, Algorithm::Sha256);
}

#[test]
fn variants_change_the_response() {
    let credentials = Credentials::new("alice", "secret");
    let request = RequestInfo {
        method: "INVITE",
        uri: "sip:bob@example.com",
        body: b"v=0\r\n",
    };
    let client = ClientNonce {
        cnonce: "abc",
        nc: 1,
    };
    let base = digest(r#"Digest realm="r", nonce="n", qop="auth""#);
    let answer = |c: &DigestChallenge| response(c, &credentials, &request, &client);
    let h = |a: Algorithm, s: &str| a.hash_hex(s.as_bytes());
    let md5 = Algorithm::Md5;
    let ha1 = h(md5, "alice:r:secret");
    let ha2 = h(md5, "INVITE:sip:bob@example.com");
    // Each case: a challenge and the response computed by hand from RFC 7616 §3.4.
    let sess_ha1 = h(md5, &format!("{ha1}:n:abc"));
    let int_ha2 = h(
        md5,
        &format!("INVITE:sip:bob@example.com:{}", h(md5, "v=0\r\n")),
    );
    let s256 = Algorithm::Sha256Sess;
    let s256_ha1 = h(s256, &format!("{}:n:abc", h(s256, "alice:r:secret")));
    let s256_ha2 = h(s256, "INVITE:sip:bob@example.com");
    let cases = [
        (
            base.clone(),
            h(md5, &format!("{ha1}:n:00000001:abc:auth:{ha2}")),
        ),
        (
            digest(r#"Digest realm="r", nonce="n""#),
            h(md5, &format!("{ha1}:n:{ha2}")),
        ),
        (
            digest(r#"Digest realm="r", nonce="n", qop="auth", algorithm=md5-SESS"#),
            h(md5, &format!("{sess_ha1}:n:00000001:abc:auth:{ha2}")),
        ),
        (
            digest(r#"Digest realm="r", nonce="n", qop="auth-int""#),
            h(md5, &format!("{ha1}:n:00000001:abc:auth-int:{int_ha2}")),
        ),
        (
            digest(r#"Digest realm="r", nonce="n", qop=auth, algorithm=SHA-256-sess"#),
            h(s256, &format!("{s256_ha1}:n:00000001:abc:auth:{s256_ha2}")),
        ),
    ];
    for (challenge, expected) in cases {
        assert_eq!(answer(&challenge), expected, "{challenge:?}");
    }
    let mut twice = client;
    twice.nc = 0x1a;
    assert_eq!(
        response(&base, &credentials, &request, &twice),
        h(md5, &format!("{ha1}:n:0000001a:abc:auth:{ha2}"))
    );
}

#[test]
fn rfc2069_answer_has_no_cnonce_or_nc() {
    let challenge = digest(r#"Digest realm="r", nonce="n""#);
    let value = authorization(
        &challenge,
        &Credentials::new("alice", "secret"),
        &RequestInfo {
            method: "REGISTER",
            uri: "sip:example.com",
            body: b"",
        },
        &ClientNonce {
            cnonce: "abc",
            nc: 1,
        },
    )
    .unwrap();
    assert!(!value.contains("cnonce") && !value.contains("nc=") && !value.contains("qop"));
}

#[test]
fn userhash_sends_the_hashed_username() {
    let challenge = digest(
        r#"Digest realm="api@example.org", nonce="n", qop=auth, algorithm=SHA-256, userhash=true"#,
    );
    assert!(challenge.userhash);
    let value = authorization(
        &challenge,
        &Credentials::new("J\u{e4}s\u{f8}n Doe", "Secret, or not?"),
        &RequestInfo {
            method: "GET",
            uri: "/doe.json",
            body: b"",
        },
        &ClientNonce { cnonce: "c", nc: 1 },
    )
    .unwrap();
    let hashed = Algorithm::Sha256.hash_hex("J\u{e4}s\u{f8}n Doe:api@example.org".as_bytes());
    assert!(
        value.starts_with(&format!("Digest username=\"{hashed}\", ")),
        "{value}"
    );
    assert!(value.ends_with(", userhash=true"), "{value}");
}

#[test]
fn quoted_values_are_escaped_and_controls_refused() {
    let challenge = digest(r#"Digest realm="a \"quoted\" realm", nonce="n\\1""#);
    assert_eq!(challenge.realm, "a \"quoted\" realm");
    assert_eq!(challenge.nonce, "n\\1");
    let request = RequestInfo {
        method: "INVITE",
        uri: "sip:x@y",
        body: b"",
    };
    let client = ClientNonce { cnonce: "c", nc: 1 };
    let value = authorization(&challenge, &Credentials::new("u", "p"), &request, &client).unwrap();
    assert!(
        value.contains(r#"realm="a \"quoted\" realm", nonce="n\\1""#),
        "{value}"
    );
    let bad = Credentials::new("u\r\nX-Injected: 1", "p");
    assert_eq!(
        authorization(&challenge, &bad, &request, &client),
        Err(AuthError::InvalidCharacter("username"))
    );
}

#[test]
fn challenge_parsing() {
    let p = |name: &str, value: &str| (name.to_owned(), value.to_owned());
    let cases: Vec<(&str, Vec<AuthChallenge>)> = vec![
        (
            "Digest realm=atlanta.com, NONCE=\"a,b\" ,algorithm=MD5",
            vec![AuthChallenge {
                scheme: "Digest".into(),
                params: vec![
                    p("realm", "atlanta.com"),
                    p("nonce", "a,b"),
                    p("algorithm", "MD5"),
                ],
                token68: None,
            }],
        ),
        (
            "Basic realm=\"x\", Digest realm=\"y\",\r\n nonce=\"z\", Negotiate abc==, Bearer",
            vec![
                AuthChallenge {
                    scheme: "Basic".into(),
                    params: vec![p("realm", "x")],
                    token68: None,
                },
                AuthChallenge {
                    scheme: "Digest".into(),
                    params: vec![p("realm", "y"), p("nonce", "z")],
                    token68: None,
                },
                AuthChallenge {
                    scheme: "Negotiate".into(),
                    params: vec![],
                    token68: Some("abc==".into()),
                },
                AuthChallenge {
                    scheme: "Bearer".into(),
                    params: vec![],
                    token68: None,
                },
            ],
        ),
        (
            "Digest realm=\"r\", nonce=\"n\", Digest realm=\"r\", nonce=\"m\", algorithm=SHA-256",
            vec![
                AuthChallenge {
                    scheme: "Digest".into(),
                    params: vec![p("realm", "r"), p("nonce", "n")],
                    token68: None,
                },
                AuthChallenge {
                    scheme: "Digest".into(),
                    params: vec![p("realm", "r"), p("nonce", "m"), p("algorithm", "SHA-256")],
                    token68: None,
                },
            ],
        ),
        ("", vec![]),
    ];
    for (value, expected) in cases {
        assert_eq!(parse_one(value), expected, "{value}");
    }
    for bad in [
        "realm=\"r\"",
        "Digest realm=\"unterminated",
        "Digest realm=\"r\" nonce=\"n\"",
        "Digest realm=@",
        "Digest (x)",
    ] {
        assert!(parse_challenges([bad.as_bytes()]).is_err(), "{bad}");
    }
}

#[test]
fn challenge_selection() {
    use Algorithm::{Md5, Sha256};
    let cases = [
        (
            r#"Digest realm="r", nonce="n", qop="auth-int, auth""#,
            Ok((Md5, Some(Qop::Auth))),
        ),
        (
            r#"Digest realm="r", nonce="n", qop="auth-int""#,
            Ok((Md5, Some(Qop::AuthInt))),
        ),
        (
            r#"Digest realm="r", nonce="n", qop="auth-conf""#,
            Err(AuthError::UnsupportedQop("auth-conf".into())),
        ),
        (
            r#"Digest realm="r", nonce="n", algorithm=SHA-512-256"#,
            Err(AuthError::UnsupportedAlgorithm("SHA-512-256".into())),
        ),
        (r#"Digest nonce="n""#, Err(AuthError::MissingParam("realm"))),
        (r#"Digest realm="r""#, Err(AuthError::MissingParam("nonce"))),
        (r#"Basic realm="r""#, Err(AuthError::NoDigestChallenge)),
        (
            r#"Digest realm="r", nonce="n", algorithm=SHA-512-256, digest realm="r", nonce="n", algorithm=md5"#,
            Ok((Md5, None)),
        ),
        (
            r#"Digest realm="r", nonce="n", algorithm=sha-256, Digest realm="r", nonce="m", algorithm=SHA-256-sess"#,
            Ok((Sha256, None)),
        ),
    ];
    for (value, expected) in cases {
        let got = select(&parse_one(value)).map(|c| (c.algorithm, c.qop));
        assert_eq!(got, expected, "{value}");
    }
    let stale = digest(r#"Digest realm="r", nonce="n", stale=TRUE"#);
    assert!(stale.stale);
    assert!(!digest(r#"Digest realm="r", nonce="n", stale=false"#).stale);
}

#[test]
fn credentials_debug_redacts_the_password() {
    let text = format!("{:?}", Credentials::new("alice", "hunter2"));
    assert!(
        text.contains("alice") && !text.contains("hunter2"),
        "{text}"
    );
}

fn challenge_response(status: u16, headers: &[(&str, &str)]) -> crate::sip::Message {
    let mut text = format!(
        "SIP/2.0 {status} Challenge\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
         From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n"
    );
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("Content-Length: 0\r\n\r\n");
    crate::sip::parse_datagram(Bytes::from(text), &Default::default()).unwrap()
}

const INVITE: RequestInfo<'static> = RequestInfo {
    method: "INVITE",
    uri: "sip:+4930123@trunk.example.net",
    body: b"",
};

fn nc_of(value: &str) -> &str {
    value.split("nc=").nth(1).map_or("", |v| &v[..8])
}

#[test]
fn stale_nonce_is_answered_and_rejection_is_final() {
    let credentials = Credentials::new("alice", "secret");
    let www = |nonce: &str, stale: bool| {
        let value = format!(r#"Digest realm="trunk", nonce="{nonce}", qop=auth, stale={stale}"#);
        challenge_response(401, &[("WWW-Authenticate", &value)])
    };
    // A fresh challenge, then stale with a new nonce: answered.
    let mut client = DigestClient::new();
    let first = client
        .on_response(&www("n1", false), &credentials, &INVITE, &[1; 16])
        .unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(
        first[0].header,
        crate::sip::header::HeaderName::Authorization
    );
    assert!(first[0].value.contains("nonce=\"n1\""));
    assert!(
        first[0]
            .value
            .contains(&format!("cnonce=\"{}\"", "01".repeat(16)))
    );
    let second = client
        .on_response(&www("n2", true), &credentials, &INVITE, &[2; 16])
        .unwrap();
    assert!(second[0].value.contains("nonce=\"n2\""));
    assert_eq!(nc_of(&second[0].value), "00000001");
    // Stale again with the same nonce: the count goes up.
    let third = client
        .on_response(&www("n2", true), &credentials, &INVITE, &[3; 16])
        .unwrap();
    assert_eq!(nc_of(&third[0].value), "00000002");
    // Stale forever: give up.
    assert_eq!(
        client.on_response(&www("n3", true), &credentials, &INVITE, &[4; 16]),
        Err(AuthError::StaleLoop {
            realm: "trunk".into()
        })
    );
    // Challenged again without stale, same or new nonce: rejected.
    for nonce in ["n1", "n9"] {
        let mut client = DigestClient::new();
        client
            .on_response(&www("n1", false), &credentials, &INVITE, &[1; 16])
            .unwrap();
        assert_eq!(
            client.on_response(&www(nonce, false), &credentials, &INVITE, &[1; 16]),
            Err(AuthError::Rejected {
                realm: "trunk".into()
            }),
            "{nonce}"
        );
    }
}

#[test]
fn proxy_and_server_challenges_accumulate() {
    let credentials = Credentials::new("alice", "secret");
    let mut client = DigestClient::new();
    let proxy = challenge_response(
        407,
        &[("Proxy-Authenticate", r#"Digest realm="proxy", nonce="p""#)],
    );
    let server = challenge_response(
        401,
        &[
            ("WWW-Authenticate", r#"Basic realm="server""#),
            (
                "WWW-Authenticate",
                r#"Digest realm="server", nonce="s", algorithm=SHA-256"#,
            ),
        ],
    );
    client
        .on_response(&proxy, &credentials, &INVITE, &[0; 16])
        .unwrap();
    let answers = client
        .on_response(&server, &credentials, &INVITE, &[0; 16])
        .unwrap();
    let summary: Vec<_> = answers
        .iter()
        .map(|a| (a.header, a.realm.as_str()))
        .collect();
    use crate::sip::header::HeaderName;
    assert_eq!(
        summary,
        [
            (HeaderName::ProxyAuthorization, "proxy"),
            (HeaderName::Authorization, "server")
        ]
    );
    assert!(answers[1].value.contains("algorithm=SHA-256"));
    assert_eq!(client.answers().len(), 2);
}

#[test]
fn responses_without_usable_challenges() {
    let credentials = Credentials::new("alice", "secret");
    let cases = [
        (challenge_response(403, &[]), AuthError::NoDigestChallenge),
        (challenge_response(401, &[]), AuthError::NoDigestChallenge),
        (
            challenge_response(401, &[("WWW-Authenticate", "Digest realm=\"r\" nonce")]),
            AuthError::Syntax(crate::sip::SyntaxError::new("auth-param separator", 17)),
        ),
        (
            challenge_response(
                407,
                &[(
                    "Proxy-Authenticate",
                    r#"Digest realm="r", nonce="n", algorithm=SHA-512-256"#,
                )],
            ),
            AuthError::UnsupportedAlgorithm("SHA-512-256".into()),
        ),
    ];
    for (response, expected) in cases {
        let mut client = DigestClient::new();
        assert_eq!(
            client.on_response(&response, &credentials, &INVITE, &[0; 16]),
            Err(expected.clone())
        );
        assert!(!expected.reason().is_empty());
    }
}

#[test]
fn same_realm_for_proxy_and_server_are_separate_answers() {
    let credentials = Credentials::new("alice", "secret");
    let mut client = DigestClient::new();
    let proxy = challenge_response(
        407,
        &[(
            "Proxy-Authenticate",
            r#"Digest realm="example.com", nonce="p""#,
        )],
    );
    let server = challenge_response(
        401,
        &[(
            "WWW-Authenticate",
            r#"Digest realm="example.com", nonce="s""#,
        )],
    );
    client
        .on_response(&proxy, &credentials, &INVITE, &[0; 16])
        .unwrap();
    assert_eq!(
        client
            .on_response(&server, &credentials, &INVITE, &[0; 16])
            .unwrap()
            .len(),
        2
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parse_never_panics(v in proptest::collection::vec(any::<u8>(), 0..96)) {
            let _ = parse_challenges([v.as_slice()]);
        }

        #[test]
        fn parse_never_panics_digestish(s in "[A-Za-z]{0,8}( [a-z=\",\\\\ \r\n-]{0,60})?") {
            if let Ok(challenges) = parse_challenges([s.as_bytes()]) {
                let _ = select(&challenges);
            }
        }

        /// The answer is itself an auth-param list: parsed back, the quoted values come out as
        /// they went in, whatever quotes and backslashes they hold.
        #[test]
        fn authorization_parses_back(
            username in "[ -~]{1,20}",
            realm in "[ -~]{0,20}",
            nonce in "[ -~]{1,20}",
            uri in "sip:[a-z0-9@.]{1,20}",
        ) {
            let challenge = DigestChallenge {
                realm: realm.clone(),
                nonce: nonce.clone(),
                opaque: Some("o\"p".into()),
                algorithm: Algorithm::Sha256,
                qop: Some(Qop::Auth),
                stale: false,
                userhash: false,
            };
            let request = RequestInfo { method: "INVITE", uri: &uri, body: b"" };
            let client = ClientNonce { cnonce: "c", nc: 1 };
            let value = authorization(
                &challenge,
                &Credentials::new(username.clone(), "p"),
                &request,
                &client,
            )
            .unwrap();
            let parsed = parse_challenges([value.as_bytes()]).unwrap();
            prop_assert_eq!(parsed.len(), 1);
            let back = &parsed[0];
            prop_assert_eq!(back.param("username"), Some(username.as_str()));
            prop_assert_eq!(back.param("realm"), Some(realm.as_str()));
            prop_assert_eq!(back.param("nonce"), Some(nonce.as_str()));
            prop_assert_eq!(back.param("uri"), Some(uri.as_str()));
            prop_assert_eq!(back.param("opaque"), Some("o\"p"));
            prop_assert_eq!(back.param("nc"), Some("00000001"));
        }
    }
}
