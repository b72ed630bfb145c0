//! `[registration]` validation (pure).

use std::time::Duration;

use super::Ctx;
use crate::config::error::KeyPath;
use crate::config::registration::{RegistrationConfig, RegistrationFile};

/// Validates `[registration]`, reporting every value out of range.
pub(super) fn validate(ctx: &mut Ctx<'_>, file: &RegistrationFile) -> RegistrationConfig {
    let d = RegistrationConfig::default();
    let at = |key: &str| KeyPath::root().key("registration").key(key);
    let secs = |ctx: &mut Ctx<'_>, v: Option<i64>, min, max, key: &str, default: Duration| {
        v.map_or(Some(default), |v| {
            ctx.int_in(v, min, max, at(key))
                .map(|s| Duration::from_secs(s.unsigned_abs()))
        })
        .unwrap_or(default)
    };
    let count = |ctx: &mut Ctx<'_>, v: Option<i64>, max, key: &str, default: usize| {
        v.map_or(Some(default), |v| {
            ctx.int_in(v, 1, max, at(key))
                .map(|n| n.unsigned_abs() as usize)
        })
        .unwrap_or(default)
    };
    let keepalive = secs(
        ctx,
        file.keepalive_interval_secs,
        0,
        3600,
        "keepalive_interval_secs",
        Duration::from_secs(30),
    );
    RegistrationConfig {
        phone_expiry_udp: secs(
            ctx,
            file.phone_expiry_udp_secs,
            10,
            86_400,
            "phone_expiry_udp_secs",
            d.phone_expiry_udp,
        ),
        phone_expiry_stream: secs(
            ctx,
            file.phone_expiry_stream_secs,
            10,
            86_400,
            "phone_expiry_stream_secs",
            d.phone_expiry_stream,
        ),
        pbx_expiry: secs(
            ctx,
            file.pbx_expiry_secs,
            60,
            604_800,
            "pbx_expiry_secs",
            d.pbx_expiry,
        ),
        max_per_aor: count(ctx, file.max_per_aor, 1000, "max_per_aor", d.max_per_aor),
        max_bindings: count(
            ctx,
            file.max_bindings,
            10_000_000,
            "max_bindings",
            d.max_bindings,
        ),
        keepalive_interval: (!keepalive.is_zero()).then_some(keepalive),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::validate::testing::{Case, run_cases};

    #[test]
    fn registration_rules() {
        run_cases(&[Case::new(
            "every value out of range",
            "[registration]\nphone_expiry_udp_secs = 5\nphone_expiry_stream_secs = 0\n\
             pbx_expiry_secs = 30\nmax_per_aor = 0\nmax_bindings = -1\nkeepalive_interval_secs = 7200\n",
            &[
                "registration.keepalive_interval_secs: 7200 is out of range 0..=3600",
                "registration.phone_expiry_udp_secs: 5 is out of range 10..=86400",
                "registration.phone_expiry_stream_secs: 0 is out of range 10..=86400",
                "registration.pbx_expiry_secs: 30 is out of range 60..=604800",
                "registration.max_per_aor: 0 is out of range 1..=1000",
                "registration.max_bindings: -1 is out of range 1..=10000000",
            ],
        )]);
    }
}
