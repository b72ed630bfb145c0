//! Peer validation (pure): names, realm references, addresses, credential files and keepalive
//! intervals.

use std::time::Duration;

use super::{Ctx, Names};
use crate::config::address::{PeerAddress, Transport};
use crate::config::error::{KeyPath, Problem};
use crate::config::file::{PeerFile, RegistrationFile};
use crate::config::model::{Peer, PeerRegistration};

/// Longest OPTIONS keepalive interval: one day.
const MAX_PING_INTERVAL_SECS: i64 = 86_400;

/// Checks every peer; returns the valid ones (all of them when nothing was reported).
pub(super) fn validate(ctx: &mut Ctx<'_>, peers: &[PeerFile], names: &Names<'_>) -> Vec<Peer> {
    let list = KeyPath::root().key("peers");
    ctx.unique_names(&list, peers.iter().map(|p| p.name.as_deref()).enumerate());
    peers
        .iter()
        .enumerate()
        .filter_map(|(index, file)| peer(ctx, file, &list.index(index), names))
        .collect()
}

fn peer(ctx: &mut Ctx<'_>, file: &PeerFile, path: &KeyPath, names: &Names<'_>) -> Option<Peer> {
    let name = ctx.name(&file.name, path.key("name"));
    let realm = ctx.required(&file.realm, path.key("realm")).cloned();
    let realm_has_udp = match &realm {
        Some(realm) => match names.realms.get(realm.as_str()) {
            Some(&has_udp) => Some(has_udp),
            None => {
                ctx.report(path.key("realm"), Problem::UnknownRealm(realm.clone()));
                None
            }
        },
        None => None,
    };
    if file.addresses.is_empty() {
        ctx.report(path.key("addresses"), Problem::EmptyList);
    }
    let mut addresses = Vec::new();
    for (i, text) in file.addresses.iter().enumerate() {
        let at = path.key("addresses").index(i);
        match text.parse::<PeerAddress>() {
            Ok(address) => {
                // UDP requests leave from the realm's UDP listener so that responses and NAT
                // pinholes use the same socket; without one there is nothing to send from.
                if address.transport == Transport::Udp && realm_has_udp == Some(false) {
                    let realm = realm.clone().unwrap_or_default();
                    ctx.report(at, Problem::NoUdpListener(realm));
                }
                addresses.push(address);
            }
            Err(e) => ctx.report(at, e),
        }
    }
    let credentials_file = file
        .credentials_file
        .as_ref()
        .map(|p| ctx.readable_file(p, path.key("credentials_file")));
    let options_ping_interval = match file.options_ping_interval_secs {
        Some(secs) => Some(ctx.int_in(
            secs,
            1,
            MAX_PING_INTERVAL_SECS,
            path.key("options_ping_interval_secs"),
        )?),
        None => None,
    };
    let registration = match &file.registration {
        Some(r) => Some(registration(ctx, r, &path.key("registration"))?),
        None => None,
    };
    Some(Peer {
        name: name?,
        realm: realm?,
        addresses,
        credentials_file,
        options_ping_interval: options_ping_interval
            .map(|secs| Duration::from_secs(secs.unsigned_abs())),
        registration,
    })
}

/// `[peers.registration]`: a user of SIP user characters, an optional domain, and lifetimes in
/// range.
fn registration(
    ctx: &mut Ctx<'_>,
    file: &RegistrationFile,
    path: &KeyPath,
) -> Option<PeerRegistration> {
    let user = ctx.required(&file.user, path.key("user")).cloned();
    let user = user.filter(|u| {
        let ok = !u.is_empty() && u.bytes().all(is_user_char);
        if !ok {
            ctx.report(path.key("user"), Problem::InvalidUser(u.clone()));
        }
        ok
    });
    let domain = file.domain.clone().filter(|d| {
        let ok = d.parse::<crate::config::address::Host>().is_ok();
        if !ok {
            ctx.report(path.key("domain"), Problem::InvalidUser(d.clone()));
        }
        ok
    });
    let expires = ctx.int_in(
        file.expires_secs.unwrap_or(3600),
        MIN_REGISTRATION_SECS,
        MAX_PING_INTERVAL_SECS,
        path.key("expires_secs"),
    );
    let retry = ctx.int_in(
        file.retry_secs.unwrap_or(30),
        1,
        600,
        path.key("retry_secs"),
    );
    let invalid_domain = file.domain.is_some() && domain.is_none();
    if invalid_domain {
        return None;
    }
    Some(PeerRegistration {
        user: user?,
        domain,
        expires: Duration::from_secs(expires?.unsigned_abs()),
        retry: Duration::from_secs(retry?.unsigned_abs()),
    })
}

/// Shortest registration lifetime the SBC asks for (RFC 3261 §10.2.8 Min-Expires is usually 60).
const MIN_REGISTRATION_SECS: i64 = 60;

/// Characters of a SIP URI user part (RFC 3261 §25.1 unreserved and user-unreserved).
fn is_user_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.!~*'()&=+$,;?/".contains(&b)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::config::validate::testing::{BASE, Case, check, run_cases};

    #[test]
    fn peer_rules() {
        run_cases(&[
            Case::new(
                "duplicate peer name",
                "[[peers]]\nname = \"pbx\"\nrealm = \"core\"\naddresses = [\"udp:127.0.0.1:5090\"]\n",
                &["peers[2].name: duplicate name \"pbx\" (first used at peers[0].name)"],
            ),
            Case::new(
                "missing name",
                "[[peers]]\nrealm = \"core\"\naddresses = [\"udp:127.0.0.1:5090\"]\n",
                &["peers[2].name: required key is missing"],
            ),
            Case::replace(
                "unknown realm",
                "realm = \"core\"\naddresses = [\"udp:127.0.0.1:5080\"]",
                "realm = \"dmz\"\naddresses = [\"udp:127.0.0.1:5080\"]",
                &["peers[0].realm: no realm named \"dmz\""],
            ),
            Case::new(
                "missing realm",
                "[[peers]]\nname = \"p3\"\naddresses = [\"udp:127.0.0.1:5090\"]\n",
                &["peers[2].realm: required key is missing"],
            ),
            Case::new(
                "no addresses",
                "[[peers]]\nname = \"p3\"\nrealm = \"core\"\naddresses = []\n",
                &["peers[2].addresses: must list at least one entry"],
            ),
            Case::replace(
                "bad address",
                "udp:127.0.0.1:5080",
                "udp:127.0.0.1:99999",
                &["peers[0].addresses[0]: \"99999\" is not a port number"],
            ),
            Case::replace(
                "bad host name",
                "tls:sip.example.net:5061",
                "tls:sip_example.net:5061",
                &[
                    "peers[1].addresses[0]: \"sip_example.net\" is neither an IP address nor a valid host name",
                ],
            ),
            Case::replace(
                "unbracketed IPv6",
                "tls:[2001:db8::5]",
                "tls:2001:db8::5",
                &["peers[1].addresses[1]: \"2001:db8::5\": put IPv6 addresses in brackets"],
            ),
            Case::new(
                "udp peer in a realm without udp listener",
                "[[realms]]\nname = \"tlsonly\"\nlisteners = [\"tcp:127.0.0.1:6000\"]\n[realms.media]\naddress = \"127.0.0.4\"\nport_min = 20000\nport_max = 20099\n\
                 [[peers]]\nname = \"p3\"\nrealm = \"tlsonly\"\naddresses = [\"udp:127.0.0.1:5090\", \"tcp:127.0.0.1:5090\"]\n",
                &["peers[2].addresses[0]: udp address needs a udp listener in realm \"tlsonly\""],
            ),
            Case::replace(
                "missing credentials file",
                "credentials_file = \"pbx.secret\"",
                "credentials_file = \"nope.secret\"",
                &["peers[0].credentials_file: cannot read file /cfg/nope.secret"],
            ),
            Case::replace(
                "zero ping interval",
                "options_ping_interval_secs = 30",
                "options_ping_interval_secs = 0",
                &["peers[0].options_ping_interval_secs: 0 is out of range 1..=86400"],
            ),
            Case::new(
                "registration problems, all reported",
                "[[peers]]\nname = \"p3\"\nrealm = \"core\"\naddresses = [\"udp:127.0.0.1:5090\"]\n\
                 [peers.registration]\nuser = \"acct 1\"\nexpires_secs = 10\nretry_secs = 0\n",
                &[
                    "peers[2].registration.user: invalid value \"acct 1\" for a SIP URI part",
                    "peers[2].registration.expires_secs: 10 is out of range 60..=86400",
                    "peers[2].registration.retry_secs: 0 is out of range 1..=600",
                ],
            ),
            Case::new(
                "registration without user",
                "[[peers]]\nname = \"p3\"\nrealm = \"core\"\naddresses = [\"udp:127.0.0.1:5090\"]\n\
                 [peers.registration]\ndomain = \"trunk.example\"\n",
                &["peers[2].registration.user: required key is missing"],
            ),
            Case::replace(
                "negative ping interval",
                "options_ping_interval_secs = 30",
                "options_ping_interval_secs = -5",
                &["peers[0].options_ping_interval_secs: -5 is out of range 1..=86400"],
            ),
        ]);
    }

    #[test]
    fn peers_are_typed() {
        let config = check(BASE).expect("base config is valid");
        let pbx = config.peer("pbx").expect("pbx");
        assert_eq!(pbx.realm, "core");
        assert_eq!(pbx.addresses[0].to_string(), "udp:127.0.0.1:5080");
        assert_eq!(pbx.options_ping_interval, Some(Duration::from_secs(30)));
        assert_eq!(
            pbx.credentials_file.as_deref(),
            Some(std::path::Path::new("/cfg/pbx.secret"))
        );
        let trunk = config.peer("trunk").expect("trunk");
        assert_eq!(trunk.addresses[1].to_string(), "tls:[2001:db8::5]:5061");
        assert_eq!(trunk.options_ping_interval, None);
    }
}
