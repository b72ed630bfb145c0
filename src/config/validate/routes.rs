//! Route validation (pure): match criteria, references to realms and peers, exactly one target,
//! and the number manipulation (`strip`, `prepend`).

use super::{Ctx, Names};
use crate::config::address::Host;
use crate::config::error::{KeyPath, Problem};
use crate::config::file::RouteFile;
use crate::config::model::{Route, RouteTarget};

/// Most characters a route strips from the front of a user part.
const MAX_STRIP: i64 = 32;

/// Checks every route; returns the valid ones (all of them when nothing was reported).
pub(super) fn validate(ctx: &mut Ctx<'_>, routes: &[RouteFile], names: &Names<'_>) -> Vec<Route> {
    let list = KeyPath::root().key("routes");
    routes
        .iter()
        .enumerate()
        .filter_map(|(index, file)| route(ctx, file, &list.index(index), names))
        .collect()
}

fn route(ctx: &mut Ctx<'_>, file: &RouteFile, path: &KeyPath, names: &Names<'_>) -> Option<Route> {
    let mut ok = true;
    if file.from_realm.is_none() && file.from_peer.is_none() {
        ctx.report(path.clone(), Problem::NoRouteSource);
        ok = false;
    }
    ok &= realm_exists(
        ctx,
        file.from_realm.as_deref(),
        path.key("from_realm"),
        names,
    );
    if let Some(peer) = file.from_peer.as_deref() {
        match names.peers.get(peer) {
            None => {
                ctx.report(path.key("from_peer"), Problem::UnknownPeer(peer.to_owned()));
                ok = false;
            }
            Some(&peer_realm) => {
                if let (Some(from_realm), Some(peer_realm)) =
                    (file.from_realm.as_deref(), peer_realm)
                {
                    if from_realm != peer_realm {
                        let problem = Problem::PeerOutsideRealm {
                            peer: peer.to_owned(),
                            peer_realm: peer_realm.to_owned(),
                        };
                        ctx.report(path.key("from_peer"), problem);
                        ok = false;
                    }
                }
            }
        }
    }
    let user_prefix = file.user_prefix.as_ref().and_then(|prefix| {
        let valid = is_number_fragment(prefix);
        if !valid {
            ctx.report(
                path.key("user_prefix"),
                Problem::InvalidDigits(prefix.clone()),
            );
        }
        valid.then(|| prefix.clone())
    });
    ok &= file.user_prefix.is_none() || user_prefix.is_some();
    let domain = file
        .domain
        .as_ref()
        .and_then(|text| match text.parse::<Host>() {
            Ok(host) => Some(host.to_string()),
            Err(e) => {
                ctx.report(path.key("domain"), e);
                None
            }
        });
    ok &= file.domain.is_none() || domain.is_some();
    let target = target(ctx, file, path, names);
    let strip = match file.strip {
        Some(strip) => ctx.int_in(strip, 0, MAX_STRIP, path.key("strip")),
        None => Some(0),
    };
    let prepend = file.prepend.clone().unwrap_or_default();
    // A bare "+" is a useful prepend: strip a "00" international prefix and put "+" instead.
    if !prepend.is_empty() && prepend != "+" && !is_number_fragment(&prepend) {
        ctx.report(path.key("prepend"), Problem::InvalidDigits(prepend.clone()));
        ok = false;
    }
    let failover_peers = failover_peers(ctx, file, path, names, ok_target(&target));
    let route = Route {
        from_realm: file.from_realm.clone(),
        from_peer: file.from_peer.clone(),
        user_prefix,
        domain,
        target: target?,
        strip: usize::try_from(strip?).ok()?,
        prepend,
        failover_peers,
    };
    ok.then_some(route)
}

fn target(
    ctx: &mut Ctx<'_>,
    file: &RouteFile,
    path: &KeyPath,
    names: &Names<'_>,
) -> Option<RouteTarget> {
    let registered = file.to_registered == Some(true);
    if file.to_realm.is_some() && !registered {
        ctx.report(path.key("to_realm"), Problem::StrayToRealm);
        return None;
    }
    match (&file.to_peer, registered) {
        (Some(peer), false) => {
            if !names.peers.contains_key(peer.as_str()) {
                ctx.report(path.key("to_peer"), Problem::UnknownPeer(peer.clone()));
                return None;
            }
            if file.from_peer.as_ref() == Some(peer) {
                ctx.report(path.key("to_peer"), Problem::RouteLoop(peer.clone()));
                return None;
            }
            Some(RouteTarget::Peer(peer.clone()))
        }
        (None, true) => {
            let realm = ctx.required(&file.to_realm, path.key("to_realm"))?.clone();
            realm_exists(ctx, Some(&realm), path.key("to_realm"), names)
                .then_some(RouteTarget::Registered { realm })
        }
        _ => {
            ctx.report(path.clone(), Problem::RouteTarget);
            None
        }
    }
}

/// Whether `target` sends to a peer (the only target `failover_peers` may follow).
fn ok_target(target: &Option<RouteTarget>) -> bool {
    matches!(target, Some(RouteTarget::Peer(_)))
}

/// `failover_peers`: defined peers, none of them the target or the source, only after a peer
/// target.
fn failover_peers(
    ctx: &mut Ctx<'_>,
    file: &RouteFile,
    path: &KeyPath,
    names: &Names<'_>,
    peer_target: bool,
) -> Vec<String> {
    if file.failover_peers.is_empty() {
        return Vec::new();
    }
    if !peer_target {
        if file.to_peer.is_none() {
            ctx.report(path.key("failover_peers"), Problem::FailoverWithoutPeer);
        }
        return Vec::new();
    }
    let mut list = Vec::new();
    for (i, peer) in file.failover_peers.iter().enumerate() {
        let at = path.key("failover_peers").index(i);
        if !names.peers.contains_key(peer.as_str()) {
            ctx.report(at, Problem::UnknownPeer(peer.clone()));
        } else if file.from_peer.as_ref() == Some(peer) {
            ctx.report(at, Problem::RouteLoop(peer.clone()));
        } else if file.to_peer.as_ref() != Some(peer) && !list.contains(peer) {
            list.push(peer.clone());
        }
    }
    list
}

/// `true` when `realm` is absent or names a defined realm; reports it otherwise.
fn realm_exists(ctx: &mut Ctx<'_>, realm: Option<&str>, path: KeyPath, names: &Names<'_>) -> bool {
    match realm {
        Some(realm) if !names.realms.contains_key(realm) => {
            ctx.report(path, Problem::UnknownRealm(realm.to_owned()));
            false
        }
        _ => true,
    }
}

/// 1-32 characters: an optional leading `+`, then digits (at least one).
fn is_number_fragment(text: &str) -> bool {
    let digits = text.strip_prefix('+').unwrap_or(text);
    (1..=32).contains(&text.len())
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use crate::config::model::RouteTarget;
    use crate::config::validate::testing::{BASE, Case, check, run_cases};

    const TO_PBX: &str = "from_realm = \"access\"\nto_peer = \"pbx\"";

    #[test]
    fn route_rules() {
        run_cases(&[
            Case::replace(
                "no source",
                TO_PBX,
                "to_peer = \"pbx\"",
                &["routes[1]: route needs `from_realm`, `from_peer` or both"],
            ),
            Case::replace(
                "unknown from_realm",
                TO_PBX,
                "from_realm = \"dmz\"\nto_peer = \"pbx\"",
                &["routes[1].from_realm: no realm named \"dmz\""],
            ),
            Case::replace(
                "unknown from_peer",
                TO_PBX,
                "from_peer = \"carrier\"\nto_peer = \"pbx\"",
                &["routes[1].from_peer: no peer named \"carrier\""],
            ),
            Case::replace(
                "peer outside realm",
                TO_PBX,
                "from_realm = \"access\"\nfrom_peer = \"trunk\"\nto_peer = \"pbx\"",
                &[
                    "routes[1].from_peer: peer \"trunk\" is in realm \"core\", so this route can never match",
                ],
            ),
            Case::replace(
                "failover peers: unknown, loop, or without a peer target",
                "from_realm = \"access\"\nto_peer = \"pbx\"",
                "from_realm = \"core\"\nfrom_peer = \"trunk\"\nto_peer = \"pbx\"\nfailover_peers = [\"nope\", \"trunk\", \"pbx\"]\n[[routes]]\nfrom_realm = \"core\"\nto_registered = true\nto_realm = \"access\"\nfailover_peers = [\"pbx\"]",
                &[
                    "routes[1].failover_peers[0]: no peer named \"nope\"",
                    "routes[1].failover_peers[1]: route sends calls from peer \"trunk\" back to the same peer",
                    "routes[2].failover_peers: failover_peers needs to_peer",
                ],
            ),
            Case::replace(
                "unknown to_peer",
                TO_PBX,
                "from_realm = \"access\"\nto_peer = \"pbx2\"",
                &["routes[1].to_peer: no peer named \"pbx2\""],
            ),
            Case::replace(
                "no target",
                TO_PBX,
                "from_realm = \"access\"",
                &["routes[1]: set exactly one target"],
            ),
            Case::replace(
                "two targets",
                TO_PBX,
                "from_realm = \"access\"\nto_peer = \"pbx\"\nto_registered = true\nto_realm = \"core\"",
                &["routes[1]: set exactly one target"],
            ),
            Case::replace(
                "to_realm without to_registered",
                TO_PBX,
                "from_realm = \"access\"\nto_peer = \"pbx\"\nto_realm = \"core\"",
                &[
                    "routes[1].to_realm: `to_realm` is only used together with `to_registered = true`",
                ],
            ),
            Case::replace(
                "to_registered without to_realm",
                "to_registered = true\nto_realm = \"access\"",
                "to_registered = true",
                &["routes[2].to_realm: required key is missing"],
            ),
            Case::replace(
                "unknown to_realm",
                "to_realm = \"access\"",
                "to_realm = \"dmz\"",
                &["routes[2].to_realm: no realm named \"dmz\""],
            ),
            Case::replace(
                "loop back to the source peer",
                TO_PBX,
                "from_peer = \"pbx\"\nto_peer = \"pbx\"",
                &["routes[1].to_peer: route sends calls from peer \"pbx\" back to the same peer"],
            ),
            Case::replace(
                "prefix with letters",
                "user_prefix = \"00\"",
                "user_prefix = \"00a\"",
                &["routes[0].user_prefix: \"00a\" must be 1-32 digits"],
            ),
            Case::replace(
                "empty prefix",
                "user_prefix = \"00\"",
                "user_prefix = \"\"",
                &["routes[0].user_prefix: \"\" must be 1-32 digits"],
            ),
            Case::replace(
                "plus inside prefix",
                "user_prefix = \"00\"",
                "user_prefix = \"0+0\"",
                &["routes[0].user_prefix: \"0+0\" must be 1-32 digits"],
            ),
            Case::replace(
                "international prefix",
                "user_prefix = \"00\"",
                "user_prefix = \"+49\"",
                &[],
            ),
            Case::replace(
                "strip too long",
                "strip = 2",
                "strip = 33",
                &["routes[0].strip: 33 is out of range 0..=32"],
            ),
            Case::replace(
                "negative strip",
                "strip = 2",
                "strip = -1",
                &["routes[0].strip: -1 is out of range 0..=32"],
            ),
            Case::replace(
                "bad prepend",
                "prepend = \"+\"",
                "prepend = \"+49 \"",
                &["routes[0].prepend: \"+49 \" must be 1-32 digits"],
            ),
            Case::replace(
                "bad domain",
                "domain = \"example.com\"",
                "domain = \"example..com\"",
                &[
                    "routes[2].domain: \"example..com\" is neither an IP address nor a valid host name",
                ],
            ),
        ]);
    }

    #[test]
    fn routes_keep_order_and_targets() {
        let config = check(BASE).expect("base config is valid");
        let targets: Vec<_> = config.routes.iter().map(|r| r.target.clone()).collect();
        assert_eq!(
            targets,
            [
                RouteTarget::Peer("trunk".into()),
                RouteTarget::Peer("pbx".into()),
                RouteTarget::Registered {
                    realm: "access".into()
                },
            ]
        );
        assert_eq!(config.routes[0].rewrite_user("004930123"), "+4930123");
        assert_eq!(config.routes[2].domain.as_deref(), Some("example.com"));
    }
}
