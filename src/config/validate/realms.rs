//! Realm validation (pure): names, listeners (and sockets bound twice), advertised addresses,
//! TLS files and media port ranges (and ranges of different realms that overlap).

use std::net::IpAddr;

use super::{Ctx, Keywords};
use crate::config::address::{Host, Listener, Transport};
use crate::config::error::{KeyPath, Problem};
use crate::config::file::{MediaFile, RealmFile, TlsFile};
use crate::config::model::{ClientAuth, MediaConfig, Realm, SrtpMode, TlsConfig};

const CLIENT_AUTH: Keywords<ClientAuth> = Keywords {
    table: &[
        ("none", ClientAuth::None),
        ("optional", ClientAuth::Optional),
        ("required", ClientAuth::Required),
    ],
    expected: "none, optional, required",
};

const SRTP: Keywords<SrtpMode> = Keywords {
    table: &[
        ("off", SrtpMode::Off),
        ("optional", SrtpMode::Optional),
        ("mandatory", SrtpMode::Mandatory),
    ],
    expected: "off, optional, mandatory",
};

/// Lowest media port: relays stay out of the privileged range.
const MEDIA_PORT_MIN: i64 = 1024;

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
        let listeners = listeners(ctx, file, &path);
        bound.extend(
            listeners
                .iter()
                .copied()
                .enumerate()
                .map(|(i, listener)| (path.key("listeners").index(i), listener)),
        );
        let name = ctx.name(&file.name, path.key("name"));
        let advertised_address = file.advertised_address.as_deref().and_then(|text| {
            text.parse::<Host>()
                .map_err(|e| ctx.report(path.key("advertised_address"), e))
                .ok()
        });
        let tls = file.tls.as_ref().map(|t| tls(ctx, t, &path.key("tls")));
        let media = ctx
            .required(&file.media, path.key("media"))
            .and_then(|m| media(ctx, m, &path.key("media")));
        if let Some(media) = &media {
            ranges.push((path.key("media"), media.clone()));
        }
        if let (Some(name), Some(media)) = (name, media) {
            valid.push(Realm {
                name,
                listeners,
                advertised_address,
                tls,
                media,
            });
        }
    }
    listener_conflicts(ctx, &bound);
    media_overlaps(ctx, &ranges);
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

fn media(ctx: &mut Ctx<'_>, file: &MediaFile, path: &KeyPath) -> Option<MediaConfig> {
    let address = ip(ctx, &file.address, path.key("address"), true);
    let advertised_address = ip(
        ctx,
        &file.advertised_address,
        path.key("advertised_address"),
        false,
    );
    if let Some(address) = address {
        if address.is_unspecified() && file.advertised_address.is_none() {
            ctx.report(path.key("address"), Problem::UnspecifiedMediaAddress);
        }
    }
    let port = |ctx: &mut Ctx<'_>, value: &Option<i64>, key: &str| {
        let value = *ctx.required(value, path.key(key))?;
        ctx.int_in(value, MEDIA_PORT_MIN, i64::from(u16::MAX), path.key(key))
    };
    let port_min = port(ctx, &file.port_min, "port_min");
    let port_max = port(ctx, &file.port_max, "port_max");
    let srtp = ctx.keyword(file.srtp.as_deref(), &SRTP, SrtpMode::Off, path.key("srtp"));
    let (port_min, port_max) = (port_min?, port_max?);
    let mut ok = true;
    if port_min % 2 != 0 {
        ctx.report(path.key("port_min"), Problem::OddPort(port_min));
        ok = false;
    }
    // An even `port_min` below `port_max` leaves room for at least the pair port_min, port_min+1.
    if port_min >= port_max {
        let problem = Problem::NotLess {
            value: port_min,
            other_key: "port_max",
            other: port_max,
        };
        ctx.report(path.key("port_min"), problem);
        ok = false;
    }
    Some(MediaConfig {
        address: address?,
        advertised_address: match file.advertised_address {
            Some(_) => Some(advertised_address?),
            None => None,
        },
        port_min: u16::try_from(port_min).ok().filter(|_| ok)?,
        port_max: u16::try_from(port_max).ok()?,
        srtp,
    })
}

/// An optional (or, with `required`, mandatory) IP address value.
fn ip(ctx: &mut Ctx<'_>, value: &Option<String>, path: KeyPath, required: bool) -> Option<IpAddr> {
    let text = if required {
        ctx.required(value, path.clone())?
    } else {
        value.as_ref()?
    };
    text.parse::<IpAddr>()
        .map_err(|_| ctx.report(path, crate::config::AddressError::Ip(text.clone())))
        .ok()
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

/// Media ranges of different realms must not share ports on the same (or a wildcard) address.
fn media_overlaps(ctx: &mut Ctx<'_>, ranges: &[(KeyPath, MediaConfig)]) {
    for (i, (path, media)) in ranges.iter().enumerate() {
        let clash = ranges[..i].iter().find(|(_, earlier)| {
            same_or_wildcard(earlier.address, media.address)
                && earlier.port_min <= media.port_max
                && media.port_min <= earlier.port_max
        });
        if let Some((other, _)) = clash {
            let problem = Problem::MediaOverlap {
                min: media.port_min,
                max: media.port_max,
                other: other.clone(),
            };
            ctx.report(path.clone(), problem);
        }
    }
}

fn same_or_wildcard(a: IpAddr, b: IpAddr) -> bool {
    a == b || (a.is_ipv4() == b.is_ipv4() && (a.is_unspecified() || b.is_unspecified()))
}

#[cfg(test)]
mod tests {
    use crate::config::validate::testing::{Case, run_cases};

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

    #[test]
    fn media_rules() {
        let port_case = |name: &'static str, min: &str, max: &str, expected: &'static str| {
            Case::new(
                name,
                &extra_realm("r3", "udp:127.0.0.1:6000", min, max),
                &[expected],
            )
        };
        run_cases(&[
            port_case(
                "odd port_min",
                "20001",
                "20099",
                "realms[2].media.port_min: 20001 must be even",
            ),
            port_case(
                "min equals max",
                "20000",
                "20000",
                "realms[2].media.port_min: 20000 must be less than port_max (20000)",
            ),
            port_case(
                "min above max",
                "20100",
                "20000",
                "realms[2].media.port_min: 20100 must be less than port_max (20000)",
            ),
            port_case(
                "privileged port",
                "1000",
                "2000",
                "realms[2].media.port_min: 1000 is out of range 1024..=65535",
            ),
            port_case(
                "port beyond 65535",
                "20000",
                "70000",
                "realms[2].media.port_max: 70000 is out of range 1024..=65535",
            ),
            Case::ok(
                "smallest range: one pair",
                &extra_realm("r3", "udp:127.0.0.1:6000", "20000", "20001"),
            ),
            Case::replace(
                "overlapping ranges on one address",
                "port_min = 40000",
                "port_min = 39000",
                &[
                    "realms[1].media: port range 39000-49999 overlaps realms[0].media on the same address",
                ],
            ),
            Case::replace(
                "wildcard media address needs advertised address",
                "address = \"127.0.0.1\"",
                "address = \"0.0.0.0\"",
                &["realms[0].media.address: unspecified address needs `advertised_address`"],
            ),
            Case::replace(
                "media address is not an IP",
                "address = \"127.0.0.1\"",
                "address = \"media.example.com\"",
                &["realms[0].media.address: \"media.example.com\" is not an IP address"],
            ),
            Case::replace(
                "unknown srtp mode",
                "srtp = \"optional\"",
                "srtp = \"always\"",
                &[
                    "realms[0].media.srtp: unknown value \"always\" (expected one of: off, optional, mandatory)",
                ],
            ),
            Case::replace(
                "missing port_max",
                "port_max = 39999",
                "",
                &["realms[0].media.port_max: required key is missing"],
            ),
        ]);
    }

    fn extra_realm(name: &str, listener: &str, min: &str, max: &str) -> String {
        extra_realm_raw(name, &format!("[\"{listener}\"]"), min, max)
    }

    fn extra_realm_raw(name: &str, listeners: &str, min: &str, max: &str) -> String {
        format!(
            "[[realms]]\nname = \"{name}\"\nlisteners = {listeners}\n[realms.media]\n\
             address = \"127.0.0.3\"\nport_min = {min}\nport_max = {max}\n"
        )
    }
}
