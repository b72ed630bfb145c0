//! Realm validation (pure): names, listeners (and sockets bound twice), advertised addresses
//! and TLS files; the media section is checked in [`super::media`].

use super::{Ctx, Keywords, same_or_wildcard};
use crate::config::address::{Host, Listener, Transport};
use crate::config::error::{KeyPath, Problem};
use crate::config::file::{RealmFile, TlsFile};
use crate::config::model::{ClientAuth, Realm, TlsConfig};

const CLIENT_AUTH: Keywords<ClientAuth> = Keywords {
    table: &[
        ("none", ClientAuth::None),
        ("optional", ClientAuth::Optional),
        ("required", ClientAuth::Required),
    ],
    expected: "none, optional, required",
};

/// Checks every realm; returns the valid ones (all of them when nothing was reported).
pub(super) fn validate(ctx: &mut Ctx<'_>, realms: &[RealmFile]) -> Vec<Realm> {
    let list = KeyPath::root().key("realms");
    if realms.is_empty() {
        ctx.report(list.clone(), Problem::EmptyList);
    }
    ctx.unique_names(&list, realms.iter().map(|r| r.name.as_deref()).enumerate());
    let mut bound = Vec::new();
    let mut ranges = Vec::new();
    let mut valid = Vec::new();
    for (index, file) in realms.iter().enumerate() {
        let path = list.index(index);
        let name = ctx.name(&file.name, path.key("name"));
        let listeners = listeners(ctx, file, &path);
        bound.extend(
            listeners
                .iter()
                .copied()
                .enumerate()
                .map(|(i, listener)| (path.key("listeners").index(i), listener)),
        );
        let advertised_address = file.advertised_address.as_deref().and_then(|text| {
            let at = path.key("advertised_address");
            match text.parse::<Host>() {
                Ok(Host::Ip(ip)) if ip.is_unspecified() => {
                    ctx.report(at, Problem::UnspecifiedAdvertised(text.to_owned()));
                    None
                }
                Ok(host) => Some(host),
                Err(e) => {
                    ctx.report(at, e);
                    None
                }
            }
        });
        let tls = file.tls.as_ref().map(|t| tls(ctx, t, &path.key("tls")));
        let media = ctx
            .required(&file.media, path.key("media"))
            .and_then(|m| super::media::media(ctx, m, &path.key("media")));
        if let Some(media) = &media {
            ranges.push((path.key("media"), media.clone()));
        }
        let dscp = super::signaling::dscp(ctx, file.dscp.as_ref(), &path);
        if let (Some(name), Some(media)) = (name, media) {
            valid.push(Realm {
                name,
                listeners,
                advertised_address,
                tls,
                media,
                dscp,
            });
        }
    }
    listener_conflicts(ctx, &bound);
    super::media::overlaps(ctx, &ranges);
    valid
}

fn listeners(ctx: &mut Ctx<'_>, file: &RealmFile, path: &KeyPath) -> Vec<Listener> {
    if file.listeners.is_empty() {
        ctx.report(path.key("listeners"), Problem::EmptyList);
    }
    let mut parsed = Vec::new();
    for (i, text) in file.listeners.iter().enumerate() {
        let at = path.key("listeners").index(i);
        match text.parse::<Listener>() {
            Ok(listener) => {
                if listener.transport == Transport::Tls && file.tls.is_none() {
                    ctx.report(at, Problem::TlsWithoutSection);
                }
                parsed.push(listener);
            }
            Err(e) => ctx.report(at, e),
        }
    }
    parsed
}

fn tls(ctx: &mut Ctx<'_>, file: &TlsFile, path: &KeyPath) -> TlsConfig {
    let cert = ctx
        .required(&file.cert, path.key("cert"))
        .map(|p| ctx.readable_file(p, path.key("cert")));
    let key = ctx
        .required(&file.key, path.key("key"))
        .map(|p| ctx.readable_file(p, path.key("key")));
    let ca = file
        .ca
        .as_ref()
        .map(|p| ctx.readable_file(p, path.key("ca")));
    let client_auth = ctx.keyword(
        file.client_auth.as_deref(),
        &CLIENT_AUTH,
        ClientAuth::None,
        path.key("client_auth"),
    );
    if client_auth != ClientAuth::None && ca.is_none() {
        let word = file.client_auth.clone().unwrap_or_default();
        ctx.report(path.key("client_auth"), Problem::ClientAuthWithoutCa(word));
    }
    TlsConfig {
        cert: cert.unwrap_or_default(),
        key: key.unwrap_or_default(),
        ca,
        client_auth,
    }
}

/// Two listeners collide when they need the same kind of socket (datagram for UDP, stream for
/// TCP and TLS) on the same port and their addresses are equal or one is the wildcard of the
/// same family. Port 0 (ephemeral) never collides.
fn listener_conflicts(ctx: &mut Ctx<'_>, bound: &[(KeyPath, Listener)]) {
    for (i, (path, listener)) in bound.iter().enumerate() {
        let clash = bound[..i].iter().find(|(_, earlier)| {
            earlier.transport.is_stream() == listener.transport.is_stream()
                && earlier.addr.port() == listener.addr.port()
                && listener.addr.port() != 0
                && same_or_wildcard(earlier.addr.ip(), listener.addr.ip())
        });
        if let Some((first, _)) = clash {
            let problem = Problem::ListenerConflict {
                listener: listener.to_string(),
                first: first.clone(),
            };
            ctx.report(path.clone(), problem);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::validate::testing::{Case, extra_realm, extra_realm_raw, run_cases};

    #[test]
    fn realm_rules() {
        run_cases(&[
            Case::ok("valid base config", ""),
            Case::whole(
                "no realms",
                "[metrics]\nlisten = \"127.0.0.1:9090\"\n",
                &["realms: must list at least one entry"],
            ),
            Case::whole(
                "empty document",
                "",
                &["realms: must list at least one entry"],
            ),
            Case::new(
                "duplicate realm name",
                r#"
                [[realms]]
                name = "access"
                listeners = ["udp:127.0.0.1:6000"]
                [realms.media]
                address = "127.0.0.2"
                port_min = 20000
                port_max = 20099
            "#,
                &["realms[2].name: duplicate name \"access\" (first used at realms[0].name)"],
            ),
            Case::new(
                "invalid realm name",
                &extra_realm("bad name", "udp:127.0.0.1:6000", "20000", "20099"),
                &["realms[2].name: invalid name \"bad name\""],
            ),
            Case::new(
                "bad listener address",
                &extra_realm("r3", "udp:127.0.0.300:6000", "20000", "20099"),
                &["realms[2].listeners[0]: \"127.0.0.300:6000\" is not an IP:PORT socket address"],
            ),
            Case::new(
                "unknown transport",
                &extra_realm("r3", "sctp:127.0.0.1:6000", "20000", "20099"),
                &["realms[2].listeners[0]: unknown transport \"sctp\""],
            ),
            Case::new(
                "tls listener without tls section",
                &extra_realm("r3", "tls:127.0.0.1:6001", "20000", "20099"),
                &["realms[2].listeners[0]: tls listener requires a `tls` section"],
            ),
            Case::new(
                "same socket twice",
                &extra_realm("r3", "udp:127.0.0.1:5070", "20000", "20099"),
                &[
                    "realms[2].listeners[0]: udp:127.0.0.1:5070 binds the same socket as realms[0].listeners[0]",
                ],
            ),
            Case::new(
                "tls and tcp share the stream socket",
                &extra_realm("r3", "tcp:127.0.0.1:5071", "20000", "20099"),
                &[
                    "realms[2].listeners[0]: tcp:127.0.0.1:5071 binds the same socket as realms[0].listeners[2]",
                ],
            ),
            Case::new(
                "wildcard collides with specific address",
                &extra_realm("r3", "udp:0.0.0.0:5072", "20000", "20099"),
                &[
                    "realms[2].listeners[0]: udp:0.0.0.0:5072 binds the same socket as realms[1].listeners[0]",
                ],
            ),
            Case::ok(
                "udp and tcp on one port",
                &extra_realm("r3", "tcp:127.0.0.1:5072", "20000", "20099"),
            ),
            Case::ok(
                "ephemeral ports never collide",
                &format!(
                    "{}{}",
                    extra_realm("r3", "udp:127.0.0.1:0", "20000", "20099"),
                    extra_realm("r4", "udp:127.0.0.1:0", "21000", "21099")
                ),
            ),
            Case::new(
                "no listeners",
                &extra_realm_raw("r3", "[]", "20000", "20099"),
                &["realms[2].listeners: must list at least one entry"],
            ),
            Case::new(
                "bad advertised address",
                "[[realms]]\nname = \"r3\"\nlisteners = [\"udp:127.0.0.1:6000\"]\nadvertised_address = \"sbc..example.com\"\n[realms.media]\naddress = \"127.0.0.3\"\nport_min = 20000\nport_max = 20099\n",
                &[
                    "realms[2].advertised_address: \"sbc..example.com\" is neither an IP address nor a valid host name",
                ],
            ),
            Case::replace(
                "unspecified advertised address",
                "advertised_address = \"sbc.example.com\"",
                "advertised_address = \"0.0.0.0\"",
                &["realms[0].advertised_address: \"0.0.0.0\" is unspecified"],
            ),
            Case::new(
                "missing media section",
                "[[realms]]\nname = \"r3\"\nlisteners = [\"udp:127.0.0.1:6000\"]\n",
                &["realms[2].media: required key is missing"],
            ),
        ]);
    }

    #[test]
    fn tls_rules() {
        run_cases(&[
            Case::replace(
                "missing cert file",
                "cert = \"server.crt\"",
                "cert = \"missing.crt\"",
                &["realms[0].tls.cert: cannot read file /cfg/missing.crt"],
            ),
            Case::replace(
                "missing key entry",
                "key = \"server.key\"",
                "",
                &["realms[0].tls.key: required key is missing"],
            ),
            Case::replace(
                "unknown client_auth",
                "client_auth = \"optional\"",
                "client_auth = \"sometimes\"",
                &[
                    "realms[0].tls.client_auth: unknown value \"sometimes\" (expected one of: none, optional, required)",
                ],
            ),
            Case::replace(
                "client auth without ca",
                "ca = \"ca.crt\"",
                "",
                &["realms[0].tls.client_auth: client_auth = \"optional\" needs `ca`"],
            ),
            Case::replace(
                "missing ca file",
                "ca = \"ca.crt\"",
                "ca = \"/etc/none/ca.crt\"",
                &["realms[0].tls.ca: cannot read file /etc/none/ca.crt"],
            ),
        ]);
    }
}
