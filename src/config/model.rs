//! The validated, typed configuration sections (pure). Values here have passed
//! [`super::validate()`]: addresses are parsed, references resolve, ranges hold and relative paths
//! are resolved against the configuration file's directory.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::address::{Host, Listener, PeerAddress};

/// Default RFC 3261 T1 (round-trip estimate): 500 ms.
pub const DEFAULT_T1_MS: u64 = 500;
/// Default RFC 3261 T2 (maximum non-INVITE retransmit interval): 4 s.
pub const DEFAULT_T2_MS: u64 = 4_000;
/// Default RFC 3261 T4 (maximum time a message stays in the network): 5 s.
pub const DEFAULT_T4_MS: u64 = 5_000;
/// Default User-Agent/Server header value: a bare product token with no version.
pub const DEFAULT_USER_AGENT: &str = "sbc";
/// Default Prometheus endpoint: loopback only.
pub const DEFAULT_METRICS_LISTEN: SocketAddr =
    SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9090);
/// Default policy directory, relative to the configuration file.
pub const DEFAULT_POLICY_DIR: &str = "policies";
/// Default log filter.
pub const DEFAULT_LOG_LEVEL: &str = "info";

/// One network side (e.g. `access` for phones, `core` for the PBX).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Realm {
    /// Unique name, referenced by peers and routes.
    pub name: String,
    /// SIP sockets; at least one.
    pub listeners: Vec<Listener>,
    /// Address put in Via/Contact instead of the listener's when behind 1:1 NAT. Default: none.
    pub advertised_address: Option<Host>,
    /// TLS server settings; present whenever a listener is `tls:`. Default: none.
    pub tls: Option<TlsConfig>,
    /// The media relay of this realm.
    pub media: MediaConfig,
    /// DSCP marking of the realm's SIP and media packets.
    pub dscp: super::signaling::DscpConfig,
}

/// TLS settings of a realm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// Certificate chain (PEM), checked readable at load time.
    pub cert: PathBuf,
    /// Private key (PEM), checked readable at load time.
    pub key: PathBuf,
    /// CA bundle (PEM) that verifies client certificates. Default: none.
    pub ca: Option<PathBuf>,
    /// Whether clients must present a certificate. Default: [`ClientAuth::None`].
    pub client_auth: ClientAuth,
}

/// Client certificate (mutual TLS) mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ClientAuth {
    /// No client certificate is requested.
    #[default]
    None,
    /// A client certificate is requested and verified if sent.
    Optional,
    /// Connections without a valid client certificate are refused.
    Required,
}

/// Media relay settings of a realm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaConfig {
    /// Local IP the relay binds.
    pub address: IpAddr,
    /// IP written into SDP `c=` lines when behind 1:1 NAT. Default: none (use `address`).
    pub advertised_address: Option<IpAddr>,
    /// First relay port; even.
    pub port_min: u16,
    /// Last relay port; greater than `port_min`.
    pub port_max: u16,
    /// SRTP policy on this realm's legs. Default: [`SrtpMode::Off`].
    pub srtp: SrtpMode,
}

impl MediaConfig {
    /// The address to publish in SDP: the advertised address, else the bound one.
    pub fn sdp_address(&self) -> IpAddr {
        self.advertised_address.unwrap_or(self.address)
    }

    /// How many RTP/RTCP port pairs the range holds.
    pub fn pair_count(&self) -> usize {
        let ports = usize::from(self.port_max) - usize::from(self.port_min) + 1;
        ports / 2
    }
}

/// SRTP (RFC 3711, SDES keys per RFC 4568) policy of a realm.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SrtpMode {
    /// Plain RTP only; `RTP/SAVP` offers are answered as RTP.
    #[default]
    Off,
    /// SRTP when the far end offers or accepts it, RTP otherwise.
    Optional,
    /// SRTP only; calls that cannot negotiate it are rejected.
    Mandatory,
}

/// A SIP server the SBC talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// Unique name, referenced by routes.
    pub name: String,
    /// The realm the peer is reached through.
    pub realm: String,
    /// Addresses tried in order; at least one.
    pub addresses: Vec<PeerAddress>,
    /// File with the digest credentials; only its path is kept here. Default: none.
    pub credentials_file: Option<PathBuf>,
    /// OPTIONS keepalive interval. Default: none (no keepalives).
    pub options_ping_interval: Option<Duration>,
    /// The SBC's own registration with this peer. Default: none.
    pub registration: Option<PeerRegistration>,
}

/// The SBC registering itself with a peer (a trunk that expects a REGISTER).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerRegistration {
    /// The address-of-record's user part.
    pub user: String,
    /// The address-of-record's host part; `None`: the peer's first address.
    pub domain: Option<String>,
    /// Requested lifetime.
    pub expires: Duration,
    /// First retry delay after a failure (doubled per failure, at most 600 s).
    pub retry: Duration,
}

/// One routing rule; rules are tried in order and the first match wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Realm the call must arrive in. Default: any.
    pub from_realm: Option<String>,
    /// Peer the call must arrive from. Default: any.
    pub from_peer: Option<String>,
    /// Request-URI user prefix (digits, optional leading `+`). Default: any.
    pub user_prefix: Option<String>,
    /// Request-URI host (lower case). Default: any.
    pub domain: Option<String>,
    /// Where matching calls go.
    pub target: RouteTarget,
    /// Characters removed from the front of the user. Default: 0.
    pub strip: usize,
    /// Text put in front of the user after stripping. Default: empty.
    pub prepend: String,
    /// Peers tried in order after every address of the target peer failed (408, 503, timeout
    /// or transport error) or is down. Only with a peer target. Default: none.
    pub failover_peers: Vec<String>,
}

impl Route {
    /// Applies the number manipulation (`strip`, then `prepend`) to a Request-URI user.
    pub fn rewrite_user(&self, user: &str) -> String {
        let cut = user
            .char_indices()
            .nth(self.strip)
            .map_or(user.len(), |(i, _)| i);
        format!("{}{}", self.prepend, &user[cut..])
    }
}

/// The destination of a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteTarget {
    /// A configured peer.
    Peer(String),
    /// The registered contacts of the called user in a realm.
    Registered {
        /// The realm whose registrations are looked up.
        realm: String,
    },
}

/// `[sip]` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipConfig {
    /// RFC 3261 T1. Default: [`DEFAULT_T1_MS`].
    pub t1: Duration,
    /// RFC 3261 T2. Default: [`DEFAULT_T2_MS`].
    pub t2: Duration,
    /// RFC 3261 T4. Default: [`DEFAULT_T4_MS`].
    pub t4: Duration,
    /// User-Agent/Server header value. Default: [`DEFAULT_USER_AGENT`].
    pub user_agent: String,
    /// Bounds on incoming messages.
    pub limits: SipLimits,
}

impl Default for SipConfig {
    fn default() -> Self {
        Self {
            t1: Duration::from_millis(DEFAULT_T1_MS),
            t2: Duration::from_millis(DEFAULT_T2_MS),
            t4: Duration::from_millis(DEFAULT_T4_MS),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            limits: SipLimits::default(),
        }
    }
}

/// `[sip.limits]`: bounds enforced by the parser on every incoming message. The same type the
/// parser uses, so a default can only be written in one place ([`crate::sip::Limits::DEFAULT`]).
pub use crate::sip::limits::Limits as SipLimits;

/// `[transport]`: bounds on what the network can make the SIP listeners hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportConfig {
    /// Open TCP/TLS connections, all listeners together. Default: 10000.
    pub max_connections: usize,
    /// Open TCP/TLS connections from one source IP. Default: 256 (phones behind one office NAT
    /// share a source address, each with its own connection).
    pub max_connections_per_source: usize,
    /// A connection with no traffic either way for this long is closed. Default: 600 s (RFC 5626
    /// keep-alives every 2 minutes or so keep a registered phone's connection open).
    pub idle_timeout: Duration,
    /// Longest TLS handshake. Default: 10 s.
    pub tls_handshake_timeout: Duration,
    /// Longest time one message may take to arrive once its first byte has (slowloris guard).
    /// Default: 30 s.
    pub message_timeout: Duration,
    /// Messages queued for one connection before it is closed as stalled. Default: 256.
    pub write_queue_messages: usize,
    /// Received messages queued for the signaling core before new ones are dropped. Default: 8192.
    pub inbound_queue_messages: usize,
    /// Receive buffer requested for each UDP socket (the kernel caps it at `net.core.rmem_max`).
    /// Default: 4 MiB.
    pub udp_recv_buffer_bytes: usize,
    /// UDP sockets per listener, sharing the port with SO_REUSEPORT. Default: 1.
    pub udp_sockets_per_listener: usize,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            max_connections: 10_000,
            max_connections_per_source: 256,
            idle_timeout: Duration::from_secs(600),
            tls_handshake_timeout: Duration::from_secs(10),
            message_timeout: Duration::from_secs(30),
            write_queue_messages: 256,
            inbound_queue_messages: 8192,
            udp_recv_buffer_bytes: 4 << 20,
            udp_sockets_per_listener: 1,
        }
    }
}

/// `[metrics]` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsConfig {
    /// HTTP endpoint serving `/metrics` and `/healthz`. Default: [`DEFAULT_METRICS_LISTEN`].
    pub listen: SocketAddr,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            listen: DEFAULT_METRICS_LISTEN,
        }
    }
}

/// `[log]` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// Output format. Default: [`LogFormat::Text`].
    pub format: LogFormat,
    /// Tracing env-filter directive; `RUST_LOG` overrides it. Default: [`DEFAULT_LOG_LEVEL`].
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: DEFAULT_LOG_LEVEL.to_owned(),
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Displays a keyword enum as the word the configuration uses for it.
macro_rules! display_as_keyword {
    ($type:ty { $($variant:ident => $word:literal),+ $(,)? }) => {
        impl $type {
            /// The word the configuration uses for this value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $word),+
                }
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

display_as_keyword!(ClientAuth { None => "none", Optional => "optional", Required => "required" });
display_as_keyword!(SrtpMode { Off => "off", Optional => "optional", Mandatory => "mandatory" });
display_as_keyword!(LogFormat { Text => "text", Json => "json" });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrite_user_strips_then_prepends() {
        let route = |strip, prepend: &str| Route {
            from_realm: Some("access".into()),
            from_peer: None,
            user_prefix: None,
            domain: None,
            target: RouteTarget::Peer("pbx".into()),
            strip,
            prepend: prepend.into(),
            failover_peers: Vec::new(),
        };
        let cases = [
            (0, "", "1001", "1001"),
            (1, "", "01711234567", "1711234567"),
            (1, "+49", "01711234567", "+491711234567"),
            (0, "9", "1001", "91001"),
            (9, "+", "123", "+"),
        ];
        for (strip, prepend, user, expected) in cases {
            assert_eq!(route(strip, prepend).rewrite_user(user), expected);
        }
    }

    #[test]
    fn keywords_display_as_written() {
        assert_eq!(ClientAuth::Required.to_string(), "required");
        assert_eq!(SrtpMode::Mandatory.to_string(), "mandatory");
        assert_eq!(LogFormat::Json.as_str(), "json");
    }

    #[test]
    fn media_pairs_and_sdp_address() {
        let media = MediaConfig {
            address: "10.0.0.1".parse().unwrap(),
            advertised_address: Some("203.0.113.7".parse().unwrap()),
            port_min: 30_000,
            port_max: 39_999,
            srtp: SrtpMode::Off,
        };
        assert_eq!(media.pair_count(), 5_000);
        assert_eq!(
            media.sdp_address(),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
    }
}
