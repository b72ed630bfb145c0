//! Configuration of subscriptions, out-of-dialog messaging and DSCP marking (pure): the
//! `[subscriptions]` table and each realm's `[realms.dscp]` table, as written ([`SubscriptionsFile`],
//! [`DscpFile`]) and validated ([`SubscriptionsConfig`], [`DscpConfig`]).
//!
//! ```toml
//! [subscriptions]
//! events = ["message-summary", "dialog", "presence", "refer"]  # RFC 6665 packages relayed
//! default_expires_secs = 3600   # a SUBSCRIBE without Expires
//! min_expires_secs = 60         # shorter non-zero Expires → 423 Interval Too Brief
//! max_expires_secs = 3600       # longer Expires are cut to this
//! grace_secs = 10               # a subscription outlives its expiry by at most this
//! max_subscriptions = 100000    # dialogs held; beyond → 503
//! max_pending_requests = 10000  # relayed MESSAGE/PUBLISH/NOTIFY transactions; beyond → 503
//!
//! [[realms]]
//! [realms.dscp]
//! sip = 24      # CS3: SIP sockets of the realm (UDP, TCP/TLS listeners and connections)
//! media = 46    # EF: RTP/RTCP sockets of the realm's media relay
//! ```

use serde::Deserialize;
use std::time::Duration;

/// DSCP class selector 3 (RFC 4594 signaling): the default for SIP.
pub const DSCP_CS3: u8 = 24;
/// DSCP expedited forwarding (RFC 3246): the default for RTP/RTCP.
pub const DSCP_EF: u8 = 46;
/// Largest DSCP value (six bits).
pub const DSCP_MAX: u8 = 63;

/// The event packages relayed by default: RFC 3842 message-summary, RFC 4235 dialog, RFC 3856
/// presence and RFC 3515 refer.
pub const DEFAULT_EVENTS: &[&str] = &["message-summary", "dialog", "presence", "refer"];

/// `[subscriptions]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SubscriptionsFile {
    /// Event packages relayed (lower case tokens). Default: [`DEFAULT_EVENTS`].
    pub events: Option<Vec<String>>,
    /// Expiry of a SUBSCRIBE without Expires, seconds. Default: 3600.
    pub default_expires_secs: Option<i64>,
    /// Shortest non-zero expiry accepted, seconds. Default: 60.
    pub min_expires_secs: Option<i64>,
    /// Longest expiry granted, seconds. Default: 3600.
    pub max_expires_secs: Option<i64>,
    /// Time a subscription may outlive its expiry, seconds. Default: 10.
    pub grace_secs: Option<i64>,
    /// Subscription dialogs held at once. Default: 100000.
    pub max_subscriptions: Option<i64>,
    /// Relayed out-of-dialog MESSAGE/PUBLISH/NOTIFY transactions at once. Default: 10000.
    pub max_pending_requests: Option<i64>,
}

/// `[realms.dscp]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DscpFile {
    /// DSCP of SIP packets, 0..=63. Default: 24 (CS3).
    pub sip: Option<i64>,
    /// DSCP of RTP/RTCP packets, 0..=63. Default: 46 (EF).
    pub media: Option<i64>,
}

/// Validated `[subscriptions]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionsConfig {
    /// Event packages relayed, lower case.
    pub events: Vec<String>,
    /// Expiry of a SUBSCRIBE without Expires.
    pub default_expires: Duration,
    /// Shortest non-zero expiry accepted (423 below).
    pub min_expires: Duration,
    /// Longest expiry granted.
    pub max_expires: Duration,
    /// Time a subscription may outlive its expiry before the SBC ends it.
    pub grace: Duration,
    /// Subscription dialogs held at once.
    pub max_subscriptions: usize,
    /// Relayed out-of-dialog request transactions at once.
    pub max_pending_requests: usize,
}

impl Default for SubscriptionsConfig {
    fn default() -> Self {
        SubscriptionsConfig {
            events: DEFAULT_EVENTS.iter().map(|e| (*e).to_owned()).collect(),
            default_expires: Duration::from_secs(3600),
            min_expires: Duration::from_secs(60),
            max_expires: Duration::from_secs(3600),
            grace: Duration::from_secs(10),
            max_subscriptions: 100_000,
            max_pending_requests: 10_000,
        }
    }
}

impl SubscriptionsConfig {
    /// Whether the event package `package` (any case) is relayed.
    pub fn allows(&self, package: &[u8]) -> bool {
        self.events
            .iter()
            .any(|e| e.as_bytes().eq_ignore_ascii_case(package))
    }
}

/// Validated `[realms.dscp]`: DSCP code points (six bits, not yet shifted into the TOS byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DscpConfig {
    /// SIP packets of the realm.
    pub sip: u8,
    /// RTP/RTCP packets of the realm's media relay.
    pub media: u8,
}

impl Default for DscpConfig {
    fn default() -> Self {
        DscpConfig {
            sip: DSCP_CS3,
            media: DSCP_EF,
        }
    }
}
