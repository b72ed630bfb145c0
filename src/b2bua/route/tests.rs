//! Table tests for [`super::route`] and failover.

use super::*;
use bytes::Bytes;

/// Health where the listed addresses are down, with an optional retry estimate in milliseconds.
struct Down(Vec<(&'static str, usize, Option<u64>)>);

impl HealthView for Down {
    fn is_available(&self, peer: &str, index: usize) -> bool {
        !self.0.iter().any(|(p, i, _)| *p == peer && *i == index)
    }

    fn retry_after(&self, peer: &str, index: usize) -> Option<Duration> {
        self.0
            .iter()
            .find(|(p, i, _)| *p == peer && *i == index)
            .and_then(|(_, _, ms)| ms.map(Duration::from_millis))
    }
}

fn rule(
    from_realm: &str,
    from_peer: Option<&str>,
    user_prefix: Option<&str>,
    domain: Option<&str>,
    target: RouteTarget,
    strip: usize,
    prepend: &str,
) -> Route {
    Route {
        from_realm: Some(from_realm.into()),
        from_peer: from_peer.map(Into::into),
        user_prefix: user_prefix.map(Into::into),
        domain: domain.map(Into::into),
        target,
        strip,
        prepend: prepend.into(),
        failover_peers: Vec::new(),
    }
}

fn peer_target(name: &str) -> RouteTarget {
    RouteTarget::Peer(name.into())
}

fn registered(realm: &str) -> RouteTarget {
    RouteTarget::Registered {
        realm: realm.into(),
    }
}

fn routes() -> Vec<Route> {
    vec![
        // 0: DIDs from the trunk to registered phones.
        rule(
            "core",
            Some("trunk"),
            Some("+4930555"),
            None,
            registered("access"),
            8,
            "",
        ),
        // 1: international dialing.
        rule(
            "access",
            None,
            Some("00"),
            None,
            peer_target("trunk"),
            2,
            "+",
        ),
        // 2: national dialing.
        rule(
            "access",
            None,
            Some("0"),
            None,
            peer_target("trunk"),
            1,
            "+4930",
        ),
        // 3: anything for the PBX domain.
        rule(
            "access",
            None,
            None,
            Some("pbx.example.com"),
            peer_target("pbx"),
            0,
            "",
        ),
        // 4: E.164 as dialed.
        rule("access", None, Some("+"), None, peer_target("trunk"), 0, ""),
        // 5, 6: outside line, with a backup trunk.
        rule("access", None, Some("9"), None, peer_target("trunk"), 1, ""),
        rule(
            "access",
            None,
            Some("9"),
            None,
            peer_target("backup"),
            1,
            "",
        ),
        // 7: the PBX's own calls to phones.
        rule("core", Some("pbx"), None, None, registered("access"), 0, ""),
        // 8: an IPv6 literal domain.
        rule(
            "access",
            None,
            None,
            Some("[2001:db8::1]"),
            peer_target("pbx"),
            0,
            "",
        ),
        // 9: strip more than there is.
        rule(
            "access",
            None,
            Some("7"),
            None,
            peer_target("trunk"),
            5,
            "+1",
        ),
        // 10: strip everything, prepend nothing.
        rule("access", None, Some("8"), None, peer_target("trunk"), 9, ""),
        // 11: registered target for requests that may lack a user.
        rule("edge", None, None, None, registered("access"), 0, ""),
        // 12: fallback in the same realm.
        rule("edge", None, None, None, peer_target("pbx"), 0, ""),
    ]
}

fn peers() -> Vec<Peer> {
    let peer = |name: &str, addresses: &[&str]| Peer {
        name: name.into(),
        realm: "core".into(),
        addresses: addresses.iter().map(|a| a.parse().unwrap()).collect(),
        credentials_file: None,
        options_ping_interval: None,
        srtp: None,
        registration: None,
    };
    vec![
        peer("trunk", &["udp:192.0.2.1", "udp:192.0.2.2:5080"]),
        peer("backup", &["tls:backup.example.net"]),
        peer("pbx", &["udp:10.0.0.1"]),
    ]
}

fn uri(text: &str) -> Uri {
    Uri::parse(&Bytes::copy_from_slice(text.as_bytes())).unwrap()
}

fn to_peer(route: usize, user: Option<&str>, candidates: &[(&str, usize)]) -> RouteDecision {
    let peers = peers();
    RouteDecision::Peer {
        route,
        user: user.map(Into::into),
        candidates: candidates
            .iter()
            .map(|(name, index)| Candidate {
                peer: (*name).into(),
                index: *index,
                address: peers.iter().find(|p| p.name == *name).unwrap().addresses[*index].clone(),
            })
            .collect(),
    }
}

fn to_registered(route: usize, user: &str) -> RouteDecision {
    RouteDecision::Registered {
        route,
        realm: "access".into(),
        user: user.into(),
    }
}

const TRUNK: &[(&str, usize)] = &[("trunk", 0), ("trunk", 1)];

#[test]
fn rules_match_in_order() {
    let phone = Source {
        realm: "access",
        peer: None,
    };
    let from_trunk = Source {
        realm: "core",
        peer: Some("trunk"),
    };
    let from_pbx = Source {
        realm: "core",
        peer: Some("pbx"),
    };
    let core_unknown = Source {
        realm: "core",
        peer: None,
    };
    let edge = Source {
        realm: "edge",
        peer: None,
    };
    let all_up = Down(Vec::new());
    let cases: Vec<(&str, Source<'_>, &str, Result<RouteDecision, NoRoute>)> = vec![
        (
            "international",
            phone,
            "sip:00441234@sbc.example.com",
            Ok(to_peer(1, Some("+441234"), TRUNK)),
        ),
        (
            "national before local prefix",
            phone,
            "sip:0301234@sbc",
            Ok(to_peer(2, Some("+4930301234"), TRUNK)),
        ),
        (
            "separators in a sip user",
            phone,
            "sip:030-12.34@sbc",
            Ok(to_peer(2, Some("+4930301234"), TRUNK)),
        ),
        (
            "tel local number",
            phone,
            "tel:(030)1234;phone-context=+49",
            Ok(to_peer(2, Some("+4930301234"), TRUNK)),
        ),
        (
            "tel global number",
            phone,
            "tel:+49-30-1234",
            Ok(to_peer(4, Some("+49301234"), TRUNK)),
        ),
        (
            "user=phone with a user parameter",
            phone,
            "sip:+49301234;npdi@sbc;user=phone",
            Ok(to_peer(4, Some("+49301234"), TRUNK)),
        ),
        (
            "domain, case-insensitive",
            phone,
            "sip:alice@PBX.Example.COM",
            Ok(to_peer(3, Some("alice"), &[("pbx", 0)])),
        ),
        (
            "domain with trailing dot, no user",
            phone,
            "sip:pbx.example.com.",
            Ok(to_peer(3, None, &[("pbx", 0)])),
        ),
        (
            "a name user is not a number",
            phone,
            "sip:0.alice@pbx.example.com",
            Ok(to_peer(2, Some("+4930.alice"), TRUNK)),
        ),
        (
            "IPv6 domain",
            phone,
            "sip:x@[2001:DB8:0::1]:5060",
            Ok(to_peer(8, Some("x"), &[("pbx", 0)])),
        ),
        (
            "outside line",
            phone,
            "sip:9555@sbc",
            Ok(to_peer(5, Some("555"), TRUNK)),
        ),
        (
            "strip longer than the number",
            phone,
            "sip:7123@sbc",
            Ok(to_peer(9, Some("+1"), TRUNK)),
        ),
        (
            "nothing left",
            phone,
            "sip:888@sbc",
            Err(NoRoute::AddressIncomplete),
        ),
        (
            "DID from the trunk",
            from_trunk,
            "sip:+49305551234@sbc;user=phone",
            Ok(to_registered(0, "1234")),
        ),
        (
            "escaped plus",
            from_trunk,
            "sip:%2B49305551234@sbc",
            Ok(to_registered(0, "1234")),
        ),
        (
            "plus is significant",
            from_trunk,
            "sip:49305551234@sbc",
            Err(NoRoute::NotFound),
        ),
        (
            "from_peer pbx",
            from_pbx,
            "sip:1001@sbc",
            Ok(to_registered(7, "1001")),
        ),
        (
            "from_peer needs that peer",
            core_unknown,
            "sip:+49305551234@sbc",
            Err(NoRoute::NotFound),
        ),
        (
            "from_realm",
            core_unknown,
            "sip:0049301234@sbc",
            Err(NoRoute::NotFound),
        ),
        (
            "unmatched user",
            phone,
            "sip:alice@sbc.example.com",
            Err(NoRoute::NotFound),
        ),
        (
            "tel never matches a domain",
            phone,
            "tel:5551234;phone-context=pbx.example.com",
            Err(NoRoute::NotFound),
        ),
        (
            "other schemes have no user",
            phone,
            "urn:service:sos",
            Err(NoRoute::NotFound),
        ),
        (
            "registered needs a user",
            edge,
            "sip:sbc.example.com",
            Ok(to_peer(12, None, &[("pbx", 0)])),
        ),
        (
            "registered with a user",
            edge,
            "sips:bob@sbc.example.com",
            Ok(to_registered(11, "bob")),
        ),
    ];
    for (name, source, text, expected) in cases {
        let got = route(&routes(), &peers(), &all_up, &source, &uri(text));
        assert_eq!(got, expected, "{name}: {text}");
    }
}

#[test]
fn down_addresses_are_skipped_and_later_rules_take_over() {
    let phone = Source {
        realm: "access",
        peer: None,
    };
    let cases: Vec<(&str, Down, Result<RouteDecision, NoRoute>)> = vec![
        (
            "first address down",
            Down(vec![("trunk", 0, None)]),
            Ok(to_peer(5, Some("555"), &[("trunk", 1)])),
        ),
        (
            "second address down",
            Down(vec![("trunk", 1, None)]),
            Ok(to_peer(5, Some("555"), &[("trunk", 0)])),
        ),
        (
            "trunk down: the backup rule",
            Down(vec![("trunk", 0, None), ("trunk", 1, None)]),
            Ok(to_peer(6, Some("555"), &[("backup", 0)])),
        ),
        (
            "all down: soonest estimate, rounded up",
            Down(vec![
                ("trunk", 0, Some(12_000)),
                ("trunk", 1, Some(7_500)),
                ("backup", 0, Some(9_000)),
            ]),
            Err(NoRoute::Unavailable {
                retry_after: Duration::from_secs(8),
            }),
        ),
        (
            "all down, no estimate",
            Down(vec![
                ("trunk", 0, None),
                ("trunk", 1, None),
                ("backup", 0, None),
            ]),
            Err(NoRoute::Unavailable {
                retry_after: DEFAULT_RETRY_AFTER,
            }),
        ),
        (
            "an estimate below a second becomes one second",
            Down(vec![
                ("trunk", 0, Some(10)),
                ("trunk", 1, None),
                ("backup", 0, None),
            ]),
            Err(NoRoute::Unavailable {
                retry_after: Duration::from_secs(1),
            }),
        ),
    ];
    for (name, health, expected) in cases {
        let got = route(&routes(), &peers(), &health, &phone, &uri("sip:9555@sbc"));
        assert_eq!(got, expected, "{name}");
    }
}

#[test]
fn a_rule_for_an_unknown_peer_is_unavailable() {
    let rules = [rule(
        "access",
        None,
        None,
        None,
        peer_target("nobody"),
        0,
        "",
    )];
    let source = Source {
        realm: "access",
        peer: None,
    };
    let got = route(
        &rules,
        &peers(),
        &Down(Vec::new()),
        &source,
        &uri("sip:1@x"),
    );
    assert_eq!(
        got,
        Err(NoRoute::Unavailable {
            retry_after: DEFAULT_RETRY_AFTER
        })
    );
}

#[test]
fn no_route_maps_to_status_and_reason() {
    let cases = [
        (NoRoute::NotFound, 404, "no_route"),
        (
            NoRoute::Unavailable {
                retry_after: DEFAULT_RETRY_AFTER,
            },
            503,
            "targets_down",
        ),
        (NoRoute::AddressIncomplete, 484, "address_incomplete"),
    ];
    for (error, status, reason) in cases {
        assert_eq!(
            (error.status(), error.reason()),
            (status, reason),
            "{error}"
        );
    }
}

#[test]
fn failover_only_on_timeouts_408_and_503() {
    let cases = [
        (None, true),
        (Some(408), true),
        (Some(503), true),
        (Some(500), false),
        (Some(486), false),
        (Some(404), false),
        (Some(480), false),
        (Some(603), false),
        (Some(200), false),
    ];
    for (status, expected) in cases {
        assert_eq!(should_failover(status), expected, "{status:?}");
    }
}

#[test]
fn failover_cursor_walks_the_candidates() {
    let RouteDecision::Peer { candidates, .. } =
        to_peer(0, None, &[("trunk", 0), ("trunk", 1), ("backup", 0)])
    else {
        unreachable!()
    };
    let mut cursor = Failover::new(candidates.clone());
    assert_eq!(cursor.remaining(), 3);
    assert_eq!(cursor.next(), Some(candidates[0].clone()));
    assert_eq!(cursor.after(Some(503)), Some(candidates[1].clone()));
    assert_eq!(cursor.after(Some(486)), None);
    assert_eq!(cursor.remaining(), 1);
    assert_eq!(cursor.after(None), Some(candidates[2].clone()));
    assert_eq!(cursor.after(Some(408)), None);
    assert_eq!(cursor.remaining(), 0);
}

#[test]
fn failover_peers_follow_the_target_in_order() {
    let mut rule = rule("access", None, None, None, peer_target("pbx"), 0, "");
    rule.failover_peers = vec!["trunk".into(), "backup".into()];
    let phone = Source {
        realm: "access",
        peer: None,
    };
    let all = [("pbx", 0), ("trunk", 0), ("trunk", 1), ("backup", 0)];
    let cases: Vec<(Down, Result<RouteDecision, NoRoute>)> = vec![
        (Down(Vec::new()), Ok(to_peer(0, Some("bob"), &all))),
        (
            Down(vec![("pbx", 0, None), ("trunk", 1, None)]),
            Ok(to_peer(0, Some("bob"), &[("trunk", 0), ("backup", 0)])),
        ),
        (
            Down(vec![
                ("pbx", 0, Some(20_000)),
                ("trunk", 0, None),
                ("trunk", 1, Some(5_000)),
                ("backup", 0, None),
            ]),
            Err(NoRoute::Unavailable {
                retry_after: Duration::from_secs(5),
            }),
        ),
    ];
    for (health, expected) in cases {
        let got = route(
            std::slice::from_ref(&rule),
            &peers(),
            &health,
            &phone,
            &uri("sip:bob@sbc"),
        );
        assert_eq!(got, expected, "{:?}", health.0);
    }
}

#[test]
fn only_unavailable_targets_answer_with_retry_after_in_whole_seconds() {
    let retry = |d: Duration| {
        let headers = NoRoute::Unavailable { retry_after: d }.headers();
        assert_eq!(headers.len(), 1);
        assert_eq!(headers[0].name, HeaderName::RetryAfter);
        headers[0].value.clone()
    };
    assert_eq!(retry(Duration::from_secs(8)), Bytes::from_static(b"8"));
    assert_eq!(retry(Duration::from_millis(400)), Bytes::from_static(b"1"));
    assert!(NoRoute::NotFound.headers().is_empty());
    assert!(NoRoute::AddressIncomplete.headers().is_empty());
}
