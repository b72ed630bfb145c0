//! The configuration document exactly as written (pure): the serde shape of `sbc.toml`.
//!
//! Every value that can be wrong in more than its TOML type is kept as written (strings for
//! addresses and keywords, `i64` for numbers, `Option` for required keys) so that a bad value
//! never stops deserialization: [`super::validate()`] then reports every problem at once and
//! builds the typed [`super::Config`]. Keys not defined here are collected while deserializing
//! (see [`super::from_str`]) and reported as errors too.

use std::path::PathBuf;

use serde::Deserialize;

/// The whole document.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ConfigFile {
    /// `[[realms]]`: network sides the SBC serves. At least one is required.
    pub realms: Vec<RealmFile>,
    /// `[[peers]]`: SIP servers the SBC talks to (PBX, trunks). Default: none.
    pub peers: Vec<PeerFile>,
    /// `[[routes]]`: ordered call routing rules; the first match wins. Default: none.
    pub routes: Vec<RouteFile>,
    /// `[sip]`: protocol timers, identity and message limits.
    pub sip: SipFile,
    /// `[transport]`: connection limits, timeouts and queue bounds.
    pub transport: TransportFile,
    /// `[metrics]`: the Prometheus endpoint.
    pub metrics: MetricsFile,
    /// `[media]`: media relay settings shared by every realm.
    pub media: super::media::RelayFile,
    /// Directory of policy files. Default: `policies` next to the configuration file.
    pub policy_dir: Option<PathBuf>,
    /// `[log]`: log format and filter.
    pub log: LogFile,
    /// `[registration]`: the registration relay.
    pub registration: super::registration::RegistrationFile,
    /// `[records]`: call records.
    pub records: super::ops::RecordsFile,
    /// `[admin]`: the admin API.
    pub admin: super::ops::AdminFile,
    /// `[shutdown]`: graceful drain.
    pub shutdown: super::ops::ShutdownFile,
    /// `[subscriptions]`: subscription and out-of-dialog request relay.
    pub subscriptions: super::signaling::SubscriptionsFile,
}

/// `[[realms]]`: one network side with its own listeners, addresses and media range.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RealmFile {
    /// Realm name used by peers and routes, e.g. `access`. Required.
    pub name: Option<String>,
    /// SIP sockets, `transport:ip:port`. At least one is required.
    pub listeners: Vec<String>,
    /// Address (IP or host name) put in Via/Contact when behind 1:1 NAT. Default: the listener's.
    pub advertised_address: Option<String>,
    /// `[realms.tls]`: certificate for `tls:` listeners. Required if any listener is `tls:`.
    pub tls: Option<TlsFile>,
    /// `[realms.media]`: the RTP relay for this realm. Required.
    pub media: Option<MediaFile>,
    /// `[realms.dscp]`: DSCP marking of SIP and media packets. Default: CS3 and EF.
    pub dscp: Option<super::signaling::DscpFile>,
}

/// `[realms.tls]`: PEM files and client-certificate mode.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TlsFile {
    /// Certificate chain (PEM). Required.
    pub cert: Option<PathBuf>,
    /// Private key (PEM). Required.
    pub key: Option<PathBuf>,
    /// CA bundle (PEM) that verifies client certificates. Default: none.
    pub ca: Option<PathBuf>,
    /// `none`, `optional` or `required`. Default: `none`.
    pub client_auth: Option<String>,
}

/// `[realms.media]`: relay address and ports.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MediaFile {
    /// Local IP the relay binds. Required.
    pub address: Option<String>,
    /// IP written into SDP when behind 1:1 NAT. Default: `address`.
    pub advertised_address: Option<String>,
    /// First relay port (even). Required.
    pub port_min: Option<i64>,
    /// Last relay port. Required.
    pub port_max: Option<i64>,
    /// `off`, `optional` or `mandatory`. Default: `off`.
    pub srtp: Option<String>,
}

/// `[[peers]]`: a SIP server reached from one realm.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PeerFile {
    /// Peer name used by routes, e.g. `pbx`. Required.
    pub name: Option<String>,
    /// The realm the peer is reached through. Required.
    pub realm: Option<String>,
    /// `transport:host[:port]` entries, tried in order. At least one is required.
    pub addresses: Vec<String>,
    /// File holding the digest username and password. Default: none.
    pub credentials_file: Option<PathBuf>,
    /// Seconds between OPTIONS keepalives. Default: no keepalives.
    pub options_ping_interval_secs: Option<i64>,
    /// `[peers.registration]`: register the SBC with this peer (a trunk). Default: none.
    pub registration: Option<RegistrationFile>,
}

/// `[peers.registration]`: the SBC's own registration with a peer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RegistrationFile {
    /// The user part of the address-of-record, e.g. the trunk account. Required.
    pub user: Option<String>,
    /// The host part of the address-of-record (the trunk's domain). Default: the peer's first
    /// address.
    pub domain: Option<String>,
    /// Requested registration lifetime in seconds. Default: 3600.
    pub expires_secs: Option<i64>,
    /// First retry delay after a failed registration, doubled per failure up to 600 s.
    /// Default: 30.
    pub retry_secs: Option<i64>,
}

/// `[[routes]]`: one routing rule.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RouteFile {
    /// Match calls arriving in this realm. Default: any realm.
    pub from_realm: Option<String>,
    /// Match calls arriving from this peer. Default: any source.
    pub from_peer: Option<String>,
    /// Match Request-URI users starting with these digits. Default: any user.
    pub user_prefix: Option<String>,
    /// Match this Request-URI host. Default: any domain.
    pub domain: Option<String>,
    /// Send matching calls to this peer.
    pub to_peer: Option<String>,
    /// Send matching calls to the registered user of `to_realm`. Default: `false`.
    pub to_registered: Option<bool>,
    /// The realm whose registered users receive the call (with `to_registered`).
    pub to_realm: Option<String>,
    /// Digits removed from the front of the user. Default: 0.
    pub strip: Option<i64>,
    /// Text put in front of the user after stripping. Default: empty.
    pub prepend: Option<String>,
    /// Peers tried, in order, when every address of `to_peer` failed. Default: none.
    pub failover_peers: Vec<String>,
}

/// `[sip]`: timers and identity.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SipFile {
    /// RFC 3261 T1 in milliseconds. Default: 500.
    pub t1_ms: Option<i64>,
    /// RFC 3261 T2 in milliseconds. Default: 4000.
    pub t2_ms: Option<i64>,
    /// RFC 3261 T4 in milliseconds. Default: 5000.
    pub t4_ms: Option<i64>,
    /// User-Agent/Server header value. Default: `sbc`.
    pub user_agent: Option<String>,
    /// `[sip.limits]`: message size limits.
    pub limits: LimitsFile,
}

/// `[sip.limits]`: bounds on incoming messages.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LimitsFile {
    /// Whole message, bytes. Default: 65535.
    pub max_message_bytes: Option<i64>,
    /// Body, bytes. Default: 32768.
    pub max_body_bytes: Option<i64>,
    /// Header fields per message. Default: 100.
    pub max_headers: Option<i64>,
    /// One header line, bytes. Default: 8192.
    pub max_line_bytes: Option<i64>,
    /// Via header values per message. Default: 70 (the usual initial Max-Forwards: no honest request crosses more hops).
    pub max_via: Option<i64>,
}

/// `[transport]`: how the SIP listeners bound what the network can make them hold.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TransportFile {
    /// Open TCP/TLS connections, all listeners together. Default: 10000.
    pub max_connections: Option<i64>,
    /// Open TCP/TLS connections from one source IP. Default: 256.
    pub max_connections_per_source: Option<i64>,
    /// Seconds without a byte in either direction before a connection is closed. Default: 600.
    pub idle_timeout_secs: Option<i64>,
    /// Seconds a TLS handshake may take. Default: 10.
    pub tls_handshake_timeout_secs: Option<i64>,
    /// Seconds a TCP/TLS connection may spend delivering one incomplete message. Default: 30.
    pub message_timeout_secs: Option<i64>,
    /// Messages queued for sending on one connection before it is closed as stalled. Default: 256.
    pub write_queue_messages: Option<i64>,
    /// Received messages queued for the signaling core before new ones are dropped. Default: 8192.
    pub inbound_queue_messages: Option<i64>,
    /// Receive buffer requested for each UDP socket, bytes. Default: 4194304.
    pub udp_recv_buffer_bytes: Option<i64>,
    /// UDP sockets per listener sharing the port with SO_REUSEPORT. Default: 1.
    pub udp_sockets_per_listener: Option<i64>,
}

/// `[metrics]`: Prometheus endpoint.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MetricsFile {
    /// `ip:port` of the HTTP endpoint. Default: `127.0.0.1:9090`.
    pub listen: Option<String>,
}

/// `[log]`: log output.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LogFile {
    /// `text` or `json`. Default: `text`.
    pub format: Option<String>,
    /// Tracing filter, e.g. `info,sbc::sip=debug`. Default: `info`.
    pub level: Option<String>,
}
