//! The policy document exactly as written (pure): the serde shape of `policy.toml`.
//!
//! Addresses, keywords and numbers stay as written so one bad value never stops the parse:
//! [`super::compile`] reports every problem at once. Unknown keys are collected while
//! deserializing and reported as errors too. `policies/README.md` documents every key.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The whole `policy.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PolicyFile {
    /// `[events]`: the security-event log.
    pub events: EventsFile,
    /// `[acl]`: source address allow/deny lists.
    pub acl: AclFile,
    /// `[[rate_limits]]`: request rate limits.
    pub rate_limits: Vec<RateLimitFile>,
    /// `[flood]`: violation scoring and temporary bans.
    pub flood: FloodFile,
    /// `[scanner]`: User-Agent patterns of SIP scanners.
    pub scanner: ScannerFile,
    /// `[fraud]`: toll-fraud rules for new calls.
    pub fraud: FraudFile,
}

/// `[events]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EventsFile {
    /// JSON-lines file for security events (relative to the policy directory). Default: none.
    pub log: Option<String>,
}

/// `[acl]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AclFile {
    /// `[acl.realms.NAME]`: per realm.
    pub realms: BTreeMap<String, RealmAclFile>,
    /// `[acl.peers.NAME]`: per peer.
    pub peers: BTreeMap<String, PeerAclFile>,
}

/// `[acl.realms.NAME]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RealmAclFile {
    /// Networks allowed to send (empty: any).
    pub allow: Vec<String>,
    /// Networks always refused.
    pub deny: Vec<String>,
    /// List files of networks always refused.
    pub deny_lists: Vec<String>,
    /// Only configured peers (and their `acl.peers.*.allow`) may send on this realm.
    pub peers_only: bool,
}

/// `[acl.peers.NAME]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PeerAclFile {
    /// Networks this peer's requests may come from, beyond its configured addresses.
    pub allow: Vec<String>,
    /// Networks refused on this peer's realm.
    pub deny: Vec<String>,
}

/// `[[rate_limits]]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RateLimitFile {
    /// Rule name (events and logs). Required.
    pub name: Option<String>,
    /// `source`, `user`, `peer` or `realm`. Required.
    pub key: Option<String>,
    /// Method classes: `INVITE`, `REGISTER`, `OPTIONS`, `MESSAGE`, `other`. Empty: all.
    pub methods: Vec<String>,
    /// Realms the rule applies to. Empty: all.
    pub realms: Vec<String>,
    /// Sustained rate, requests per `per`. Required.
    pub rate: Option<i64>,
    /// `second`, `minute` or `hour`. Default: `second`.
    pub per: Option<String>,
    /// Burst size. Default: `rate`.
    pub burst: Option<i64>,
    /// `reject` (503 + Retry-After) or `drop`. Default: `reject`.
    pub action: Option<String>,
    /// Evaluate and log, never enforce.
    pub shadow: bool,
}

/// `[flood]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FloodFile {
    /// Score at which a source is banned. Default 10.
    pub ban_score: Option<i64>,
    /// A source's score resets after this many idle seconds. Default 60.
    pub score_window_secs: Option<i64>,
    /// First ban length. Default 60.
    pub ban_secs: Option<i64>,
    /// Longest ban (each repeat doubles). Default 3600.
    pub max_ban_secs: Option<i64>,
    /// Sources tracked at most. Default 100000.
    pub max_sources: Option<i64>,
    /// Networks never scored or banned (configured peers never are).
    pub exempt: Vec<String>,
    /// `[flood.scores]`.
    pub scores: ScoresFile,
}

/// `[flood.scores]`: points per violation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ScoresFile {
    /// A request over a rate limit. Default 1.
    pub rate_limited: Option<i64>,
    /// A request with a scanner User-Agent. Default 10.
    pub scanner: Option<i64>,
    /// A failed authentication relayed to the source. Default 2.
    pub auth_failure: Option<i64>,
    /// A call refused by a fraud rule. Default 1.
    pub fraud: Option<i64>,
}

/// `[scanner]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ScannerFile {
    /// User-Agent substrings (case-insensitive).
    pub user_agents: Vec<String>,
    /// List files of User-Agent substrings.
    pub user_agent_lists: Vec<String>,
    /// `drop` or `reject` (403). Default: `drop`.
    pub action: Option<String>,
    /// Answer REGISTERs for unknown users (404/484/604 from the PBX) like those of existing users
    /// without credentials: a 401 challenge. Default: true.
    pub uniform_register_failures: Option<bool>,
}

/// `[fraud]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FraudFile {
    /// Offset of local time from UTC for time windows, minutes. Default 0.
    pub utc_offset_minutes: Option<i64>,
    /// Keys tracked at most per counter kind. Default 100000.
    pub max_keys: Option<i64>,
    /// Destination prefixes always refused.
    pub deny_prefixes: Vec<String>,
    /// List files of destination prefixes always refused.
    pub deny_prefix_lists: Vec<String>,
    /// `[[fraud.allow]]`: destination allow lists.
    pub allow: Vec<AllowFile>,
    /// `[[fraud.rules]]`: counting rules.
    pub rules: Vec<FraudRuleFile>,
}

/// `[[fraud.allow]]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AllowFile {
    /// Realms it applies to. Empty: all.
    pub realms: Vec<String>,
    /// Calling users it applies to. Empty: all.
    pub users: Vec<String>,
    /// Allowed destination prefixes.
    pub prefixes: Vec<String>,
    /// List files of allowed destination prefixes.
    pub prefix_lists: Vec<String>,
}

/// `[[fraud.rules]]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FraudRuleFile {
    /// Rule name. Required.
    pub name: Option<String>,
    /// `calls_per_minute`, `calls_per_day`, `concurrent`, `repeated`, `duration`. Required.
    pub kind: Option<String>,
    /// `user`, `peer`, `source`, `prefix` or `realm`. Default: `user`.
    pub key: Option<String>,
    /// Warning threshold (event + metric).
    pub warn: Option<i64>,
    /// Critical threshold: above it the call is refused (or ended, for `duration`). Required.
    pub limit: Option<i64>,
    /// Window of `repeated`, seconds. Default 3600.
    pub window_secs: Option<i64>,
    /// Realms the rule applies to. Empty: all.
    pub realms: Vec<String>,
    /// Peers the rule applies to (calls from them). Empty: any source.
    pub peers: Vec<String>,
    /// Destination prefixes the rule applies to. Empty: every destination.
    pub prefixes: Vec<String>,
    /// Days it applies: `mon` … `sun`. Empty: every day.
    pub days: Vec<String>,
    /// Local time span it applies, `HH:MM-HH:MM` (may wrap midnight). Default: all day.
    pub hours: Option<String>,
    /// Reason phrase of the 403. Default: `Forbidden`.
    pub reason: Option<String>,
    /// Evaluate and log, never enforce.
    pub shadow: bool,
}
