//! Media section validation (pure): relay address, advertised address, RTP/RTCP port range and
//! SRTP mode of each realm, and port ranges of different realms that would collide.

use std::net::IpAddr;

use super::{Ctx, Keywords, same_or_wildcard};
use crate::config::address::AddressError;
use crate::config::error::{KeyPath, Problem};
use crate::config::file::MediaFile;
use crate::config::model::{MediaConfig, SrtpMode};

pub(super) const SRTP: Keywords<SrtpMode> = Keywords {
    table: &[
        ("off", SrtpMode::Off),
        ("optional", SrtpMode::Optional),
        ("mandatory", SrtpMode::Mandatory),
    ],
    expected: "off, optional, mandatory",
};

/// Lowest media port: relays stay out of the privileged range.
const MEDIA_PORT_MIN: i64 = 1024;

/// Checks one `[realms.media]` section.
pub(super) fn media(ctx: &mut Ctx<'_>, file: &MediaFile, path: &KeyPath) -> Option<MediaConfig> {
    let address = ctx
        .required(&file.address, path.key("address"))
        .and_then(|text| ip(ctx, text, path.key("address")));
    // `Some(None)`: written but invalid (already reported).
    let advertised = file
        .advertised_address
        .as_ref()
        .map(|text| ip(ctx, text, path.key("advertised_address")));
    if let Some(advertised) = advertised.flatten().filter(IpAddr::is_unspecified) {
        let problem = Problem::UnspecifiedAdvertised(advertised.to_string());
        ctx.report(path.key("advertised_address"), problem);
    }
    if address.is_some_and(|a| a.is_unspecified()) && advertised.is_none() {
        ctx.report(path.key("address"), Problem::UnspecifiedMediaAddress);
    }
    let srtp = ctx.keyword(file.srtp.as_deref(), &SRTP, SrtpMode::Off, path.key("srtp"));
    let (port_min, port_max) = port_range(ctx, file, path)?;
    let advertised_address = match advertised {
        Some(parsed) => Some(parsed?),
        None => None,
    };
    Some(MediaConfig {
        address: address?,
        advertised_address,
        port_min,
        port_max,
        srtp,
    })
}

/// `port_min` and `port_max`: both within 1024..=65535, `port_min` even and below `port_max`.
/// An even `port_min` below `port_max` always leaves room for the pair `port_min`, `port_min + 1`.
fn port_range(ctx: &mut Ctx<'_>, file: &MediaFile, path: &KeyPath) -> Option<(u16, u16)> {
    let mut port = |value: &Option<i64>, key: &str| {
        let value = *ctx.required(value, path.key(key))?;
        ctx.int_in(value, MEDIA_PORT_MIN, i64::from(u16::MAX), path.key(key))?;
        u16::try_from(value).ok()
    };
    let (min, max) = (
        port(&file.port_min, "port_min"),
        port(&file.port_max, "port_max"),
    );
    let (min, max) = (min?, max?);
    let mut ok = true;
    if min % 2 != 0 {
        ctx.report(path.key("port_min"), Problem::OddPort(i64::from(min)));
        ok = false;
    }
    if min >= max {
        let problem = Problem::NotLess {
            value: i64::from(min),
            other_key: "port_max",
            other: i64::from(max),
        };
        ctx.report(path.key("port_min"), problem);
        ok = false;
    }
    ok.then_some((min, max))
}

/// An IP address value.
fn ip(ctx: &mut Ctx<'_>, text: &str, path: KeyPath) -> Option<IpAddr> {
    text.parse::<IpAddr>()
        .map_err(|_| ctx.report(path, AddressError::Ip(text.to_owned())))
        .ok()
}

/// Media ranges of different realms must not share ports on the same (or a wildcard) address.
pub(super) fn overlaps(ctx: &mut Ctx<'_>, ranges: &[(KeyPath, MediaConfig)]) {
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

#[cfg(test)]
mod tests {
    use crate::config::validate::testing::{Case, extra_realm, run_cases};

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
                "wildcard media address with advertised address",
                "address = \"127.0.0.1\"\nport_min = 40000",
                "address = \"0.0.0.0\"\nadvertised_address = \"192.0.2.1\"\nport_min = 40000",
                &[],
            ),
            Case::replace(
                "unspecified advertised media address",
                "address = \"127.0.0.1\"\nport_min = 40000",
                "address = \"0.0.0.0\"\nadvertised_address = \"::\"\nport_min = 40000",
                &["realms[1].media.advertised_address: \"::\" is unspecified"],
            ),
            Case::replace(
                "bad advertised address does not hide port problems",
                "address = \"127.0.0.1\"\nport_min = 40000",
                "address = \"127.0.0.1\"\nadvertised_address = \"public\"\nport_min = 40001",
                &[
                    "realms[1].media.advertised_address: \"public\" is not an IP address",
                    "realms[1].media.port_min: 40001 must be even",
                ],
            ),
            Case::replace(
                "same range on different addresses",
                "address = \"127.0.0.1\"\nport_min = 40000",
                "address = \"127.0.0.2\"\nport_min = 30000",
                &[],
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
}
