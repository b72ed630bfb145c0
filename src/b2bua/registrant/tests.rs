//! The SBC's registration with a trunk: request shape, challenge, refresh, 423, backoff.

use super::*;
use crate::sip::header::HeaderName;
use crate::sip::response::response_to;

#[allow(clippy::disallowed_methods)]
fn t0() -> Instant {
    Instant::now()
}

fn local() -> LegIdentity {
    LegIdentity {
        transport: Bytes::from_static(b"UDP"),
        host: Host::V4("192.0.2.10".parse().unwrap()),
        port: Some(5070),
        contact: Uri::parse(&Bytes::from_static(b"sip:192.0.2.10:5070")).unwrap(),
    }
}

fn registrant(credentials: bool, now: Instant) -> Registrant {
    Registrant::new(
        "acct",
        Host::Name(Bytes::from_static(b"trunk.example")),
        Duration::from_secs(3600),
        Duration::from_secs(30),
        credentials.then(|| Credentials::new("acct", "pw")),
        *b"0123456789abcdef",
        now,
    )
}

fn send(r: &mut Registrant, n: u32, now: Instant) -> Message {
    let branch = Bytes::from(format!("z9hG4bKtest{n}"));
    let m = r
        .poll_request(&local(), branch, &Bytes::from_static(b"SBC"), now)
        .expect("a REGISTER is due");
    crate::sip::parse_datagram(m.to_bytes(), &Default::default()).expect("valid REGISTER")
}

fn reply(request: &Message, code: u16, extra: &[(&str, &str)]) -> Message {
    let mut r = response_to(request, code, None, Some(b"srv"));
    for (n, v) in extra {
        r.headers.push(Header::raw(
            Bytes::copy_from_slice(n.as_bytes()),
            Bytes::copy_from_slice(v.as_bytes()),
        ));
    }
    r
}

fn header(m: &Message, name: HeaderName) -> String {
    String::from_utf8_lossy(m.headers.get(name).expect("header")).into_owned()
}

const CHALLENGE: (&str, &str) = (
    "WWW-Authenticate",
    "Digest realm=\"trunk.example\", nonce=\"abc\", qop=\"auth\"",
);

#[test]
fn register_then_challenge_then_registered_then_refresh() {
    let now = t0();
    let mut r = registrant(true, now);
    let first = send(&mut r, 1, now);
    assert_eq!(first.request_line().unwrap().uri, "sip:trunk.example");
    assert_eq!(header(&first, HeaderName::To), "<sip:acct@trunk.example>");
    assert_eq!(
        header(&first, HeaderName::Contact),
        "<sip:acct@192.0.2.10:5070>"
    );
    assert_eq!(header(&first, HeaderName::Expires), "3600");
    assert_eq!(first.cseq().unwrap().seq, 1);
    assert!(first.headers.get(HeaderName::Authorization).is_none());
    assert_eq!(r.next_due(), None, "nothing due while in flight");
    assert!(
        r.poll_request(&local(), Bytes::new(), &Bytes::new(), now)
            .is_none()
    );

    assert_eq!(
        r.on_response(&reply(&first, 401, &[CHALLENGE]), now),
        Outcome::Retry
    );
    let second = send(&mut r, 2, now);
    assert_eq!(second.cseq().unwrap().seq, 2);
    assert_eq!(second.call_id().unwrap(), first.call_id().unwrap());
    let auth = header(&second, HeaderName::Authorization);
    assert!(auth.contains("username=\"acct\"") && auth.contains("uri=\"sip:trunk.example\""));

    let granted = reply(
        &second,
        200,
        &[("Contact", "<sip:acct@192.0.2.10:5070>;expires=600")],
    );
    assert_eq!(
        r.on_response(&granted, now),
        Outcome::Registered {
            expires: Duration::from_secs(600)
        }
    );
    assert!(r.is_registered(now));
    assert_eq!(r.next_due(), Some(now + Duration::from_secs(540)));
    let later = now + Duration::from_secs(540);
    let refresh = send(&mut r, 3, later);
    assert_eq!(refresh.cseq().unwrap().seq, 3);
    assert!(
        refresh.headers.get(HeaderName::Authorization).is_none(),
        "a refresh starts without credentials"
    );
    assert!(r.is_registered(later), "still registered while refreshing");
    assert!(!r.is_registered(now + Duration::from_secs(600)));
}

#[test]
fn granted_lifetime_comes_from_contact_then_expires_header_then_request() {
    let now = t0();
    let cases: [(&[(&str, &str)], u64); 4] = [
        (&[("Contact", "<sip:acct@192.0.2.10:5070>;expires=100")], 50),
        (
            &[
                ("Contact", "<sip:other@198.51.100.1>;expires=7"),
                ("Expires", "300"),
            ],
            240,
        ),
        (&[], 3540),
        (&[("Expires", "0")], 3540),
    ];
    for (extra, refresh) in cases {
        let mut r = registrant(false, now);
        let req = send(&mut r, 1, now);
        assert!(matches!(
            r.on_response(&reply(&req, 200, extra), now),
            Outcome::Registered { .. }
        ));
        assert_eq!(
            r.next_due(),
            Some(now + Duration::from_secs(refresh)),
            "{extra:?}"
        );
    }
}

#[test]
fn interval_too_brief_raises_the_lifetime() {
    let now = t0();
    let mut r = registrant(false, now);
    let req = send(&mut r, 1, now);
    let too_brief = reply(&req, 423, &[("Min-Expires", "7200")]);
    assert_eq!(r.on_response(&too_brief, now), Outcome::Retry);
    let again = send(&mut r, 2, now);
    assert_eq!(header(&again, HeaderName::Expires), "7200");
}

#[test]
fn failures_back_off_exponentially_and_honour_retry_after() {
    let now = t0();
    let mut r = registrant(true, now);
    let mut at = now;
    for expected in [30, 60, 120, 240, 480, 600, 600] {
        let req = send(&mut r, 1, at);
        let outcome = r.on_response(&reply(&req, 500, &[]), at);
        assert_eq!(
            outcome,
            Outcome::Failed {
                status: Some(500),
                retry_in: Duration::from_secs(expected)
            }
        );
        at += Duration::from_secs(expected);
        assert_eq!(r.next_due(), Some(at));
    }
    let req = send(&mut r, 1, at);
    assert_eq!(
        r.on_response(&reply(&req, 503, &[("Retry-After", "90;duration=10")]), at),
        Outcome::Failed {
            status: Some(503),
            retry_in: Duration::from_secs(90)
        }
    );
    at += Duration::from_secs(90);
    send(&mut r, 1, at);
    assert_eq!(
        r.on_no_response(at),
        Outcome::Failed {
            status: None,
            retry_in: Duration::from_secs(600)
        }
    );
    // Success resets the backoff.
    at += Duration::from_secs(600);
    let req = send(&mut r, 1, at);
    r.on_response(&reply(&req, 200, &[]), at);
    let at = at + Duration::from_secs(3540);
    let req = send(&mut r, 1, at);
    assert_eq!(
        r.on_response(&reply(&req, 500, &[]), at),
        Outcome::Failed {
            status: Some(500),
            retry_in: Duration::from_secs(30)
        }
    );
}

#[test]
fn rejected_or_missing_credentials_fail_instead_of_looping() {
    let now = t0();
    let mut r = registrant(false, now);
    let req = send(&mut r, 1, now);
    assert!(matches!(
        r.on_response(&reply(&req, 401, &[CHALLENGE]), now),
        Outcome::Failed {
            status: Some(401),
            ..
        }
    ));
    let mut r = registrant(true, now);
    let req = send(&mut r, 1, now);
    assert_eq!(
        r.on_response(&reply(&req, 401, &[CHALLENGE]), now),
        Outcome::Retry
    );
    let req = send(&mut r, 2, now);
    assert!(matches!(
        r.on_response(&reply(&req, 401, &[CHALLENGE]), now),
        Outcome::Failed {
            status: Some(401),
            ..
        }
    ));
}

#[test]
fn provisional_responses_wait() {
    let now = t0();
    let mut r = registrant(false, now);
    let req = send(&mut r, 1, now);
    assert_eq!(
        r.on_response(&reply(&req, 100, &[]), now),
        Outcome::Provisional
    );
    assert_eq!(r.next_due(), None);
}
