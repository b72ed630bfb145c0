//! Configuration errors (pure): where a problem is ([`KeyPath`]), what it is ([`Problem`]), and
//! the list of every problem found in one run ([`ConfigErrors`]), displayed one per line.

use std::fmt;
use std::io;
use std::path::PathBuf;

use thiserror::Error;

use super::address::AddressError;

/// A location in the configuration document, e.g. `realms[1].listeners[0]` or `sip.limits`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPath(Vec<Segment>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

impl KeyPath {
    /// The document root (displayed as `.`).
    pub fn root() -> Self {
        Self::default()
    }

    /// This path extended by a table key.
    pub fn key(&self, key: &str) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Key(key.to_owned()));
        Self(segments)
    }

    /// This path extended by an array index.
    pub fn index(&self, index: usize) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Index(index));
        Self(segments)
    }

    /// Builds the path of a key the model does not know, as reported by `serde_ignored`.
    pub(crate) fn from_ignored(path: &serde_ignored::Path<'_>) -> Self {
        use serde_ignored::Path;
        match path {
            Path::Root => Self::root(),
            Path::Seq { parent, index } => Self::from_ignored(parent).index(*index),
            Path::Map { parent, key } => Self::from_ignored(parent).key(key),
            Path::Some { parent }
            | Path::NewtypeStruct { parent }
            | Path::NewtypeVariant { parent } => Self::from_ignored(parent),
        }
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str(".");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if i == 0 => f.write_str(key)?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// One problem in a configuration, with its location.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The configuration file itself could not be read.
    #[error("cannot read configuration file {}: {source}", path.display())]
    Read {
        /// The file that was asked for.
        path: PathBuf,
        /// Why reading failed.
        #[source]
        source: io::Error,
    },
    /// The document is not valid TOML, or a value has the wrong TOML type. Parsing stops here.
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line of the offending text.
        line: usize,
        /// 1-based column (in characters) of the offending text.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// A key the model does not define (often a typo); unknown keys are never ignored.
    #[error("{path}: unknown key")]
    UnknownKey {
        /// Where the key is.
        path: KeyPath,
    },
    /// A value that parsed but is not acceptable.
    #[error("{path}: {problem}")]
    Invalid {
        /// Where the value is.
        path: KeyPath,
        /// What is wrong with it.
        problem: Problem,
    },
}

impl ConfigError {
    /// The key path of the problem, when it has one.
    pub fn path(&self) -> Option<&KeyPath> {
        match self {
            Self::UnknownKey { path } | Self::Invalid { path, .. } => Some(path),
            Self::Read { .. } | Self::Syntax { .. } => None,
        }
    }
}

/// What is wrong with a value.
#[derive(Debug, Error)]
pub enum Problem {
    /// A required key is absent.
    #[error("required key is missing")]
    Required,
    /// A list that needs at least one entry is empty.
    #[error("must list at least one entry")]
    EmptyList,
    /// A realm or peer name with characters that do not belong in logs and metric labels.
    #[error("invalid name {0:?}: use 1-64 letters, digits, '-' or '_'")]
    InvalidName(String),
    /// A SIP user or domain that cannot be put into a URI.
    #[error("invalid value {0:?} for a SIP URI part")]
    InvalidUser(String),
    /// `failover_peers` on a route that does not send to a peer.
    #[error("failover_peers needs to_peer")]
    FailoverWithoutPeer,
    /// A realm or peer name used twice.
    #[error("duplicate name {name:?} (first used at {first})")]
    DuplicateName {
        /// The repeated name.
        name: String,
        /// Where it was first defined.
        first: KeyPath,
    },
    /// An address, listener or host name that does not parse.
    #[error(transparent)]
    Address(#[from] AddressError),
    /// A `tls:` listener in a realm without a `tls` section.
    #[error("tls listener requires a `tls` section in this realm")]
    TlsWithoutSection,
    /// Two listeners would bind the same socket.
    #[error("{listener} binds the same socket as {first}")]
    ListenerConflict {
        /// The listener, as written.
        listener: String,
        /// The listener it collides with.
        first: KeyPath,
    },
    /// A file that must exist and be readable is not.
    #[error("cannot read file {}: {source}", path.display())]
    File {
        /// The resolved path.
        path: PathBuf,
        /// Why it cannot be read.
        #[source]
        source: io::Error,
    },
    /// A directory that must exist is not there.
    #[error("not a usable directory {}: {source}", path.display())]
    Directory {
        /// The resolved path.
        path: PathBuf,
        /// Why it cannot be used.
        #[source]
        source: io::Error,
    },
    /// A keyword outside its allowed set.
    #[error("unknown value {value:?} (expected one of: {expected})")]
    Keyword {
        /// The value as written.
        value: String,
        /// The allowed values, comma separated.
        expected: &'static str,
    },
    /// Client certificates are requested but there is no CA to verify them.
    #[error("client_auth = {0:?} needs `ca` to verify client certificates")]
    ClientAuthWithoutCa(String),
    /// A media relay bound to a wildcard address with nothing to put into SDP.
    #[error("unspecified address needs `advertised_address`, SDP must carry a reachable address")]
    UnspecifiedMediaAddress,
    /// An advertised address that is a wildcard, which no far end can send to.
    #[error("{0:?} is unspecified; advertise an address the far end can reach")]
    UnspecifiedAdvertised(String),
    /// A number outside its range.
    #[error("{value} is out of range {min}..={max}")]
    OutOfRange {
        /// The value as written.
        value: i64,
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// An odd first media port.
    #[error("{0} must be even (RTP uses the even port, RTCP the odd one above it)")]
    OddPort(i64),
    /// A value that must be below another one is not.
    #[error("{value} must be less than {other_key} ({other})")]
    NotLess {
        /// The value as written.
        value: i64,
        /// The key it is compared with.
        other_key: &'static str,
        /// That key's value.
        other: i64,
    },
    /// A value that must not exceed another one does.
    #[error("{value} must not exceed {other_key} ({other})")]
    Exceeds {
        /// The value as written.
        value: i64,
        /// The key it is compared with.
        other_key: &'static str,
        /// That key's value.
        other: i64,
    },
    /// Two realms' media port ranges on one address overlap.
    #[error("port range {min}-{max} overlaps {other} on the same address")]
    MediaOverlap {
        /// First port of this range.
        min: u16,
        /// Last port of this range.
        max: u16,
        /// The media section it collides with.
        other: KeyPath,
    },
    /// The admin API is reachable off loopback without a bearer token.
    #[error(
        "the admin API listens on a non-loopback address: set `token_file` or `enabled = false`"
    )]
    AdminWithoutToken,
    /// A reference to a realm that is not defined.
    #[error("no realm named {0:?}")]
    UnknownRealm(String),
    /// A reference to a peer that is not defined.
    #[error("no peer named {0:?}")]
    UnknownPeer(String),
    /// A route whose `from_peer` lives in another realm than its `from_realm`.
    #[error("peer {peer:?} is in realm {peer_realm:?}, so this route can never match")]
    PeerOutsideRealm {
        /// The peer named by the route.
        peer: String,
        /// The realm that peer belongs to.
        peer_realm: String,
    },
    /// A UDP peer address in a realm with no UDP listener to send from.
    #[error("udp address needs a udp listener in realm {0:?} to send from")]
    NoUdpListener(String),
    /// A route without `from_realm` or `from_peer`.
    #[error("route needs `from_realm`, `from_peer` or both")]
    NoRouteSource,
    /// A route with no target or with two.
    #[error("set exactly one target: `to_peer = \"...\"` or `to_registered = true`")]
    RouteTarget,
    /// `to_realm` given without `to_registered = true`.
    #[error("`to_realm` is only used together with `to_registered = true`")]
    StrayToRealm,
    /// A route that sends calls back to the peer they came from.
    #[error("route sends calls from peer {0:?} back to the same peer")]
    RouteLoop(String),
    /// A number prefix or prepend string that is not a telephone number fragment.
    #[error("{0:?} must be 1-32 digits with an optional leading '+'")]
    InvalidDigits(String),
    /// A header value the SBC would send that is not safe to put on the wire.
    #[error("must be 1-128 printable ASCII characters")]
    InvalidHeaderValue,
    /// A tracing filter that does not parse.
    #[error("invalid log filter: {0}")]
    LogFilter(String),
}

/// Every problem found in a configuration, in document order where possible.
///
/// Displays one problem per line.
#[derive(Debug, Default)]
pub struct ConfigErrors(Vec<ConfigError>);

impl ConfigErrors {
    /// Wraps a list of problems.
    pub fn new(errors: Vec<ConfigError>) -> Self {
        Self(errors)
    }

    /// The problems.
    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.0.iter()
    }

    /// How many problems there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the list is empty (a valid configuration never produces an empty list).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The problems, owned.
    pub fn into_vec(self) -> Vec<ConfigError> {
        self.0
    }
}

impl From<ConfigError> for ConfigErrors {
    fn from(error: ConfigError) -> Self {
        Self(vec![error])
    }
}

impl<'a> IntoIterator for &'a ConfigErrors {
    type Item = &'a ConfigError;
    type IntoIter = std::slice::Iter<'a, ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths_display_like_the_document() {
        let cases = [
            (KeyPath::root(), "."),
            (KeyPath::root().key("sip").key("limits"), "sip.limits"),
            (
                KeyPath::root()
                    .key("realms")
                    .index(1)
                    .key("listeners")
                    .index(0),
                "realms[1].listeners[0]",
            ),
        ];
        for (path, expected) in cases {
            assert_eq!(path.to_string(), expected);
        }
    }

    #[test]
    fn errors_display_one_per_line() {
        let errors = ConfigErrors::new(vec![
            ConfigError::UnknownKey {
                path: KeyPath::root().key("sip").key("t3_ms"),
            },
            ConfigError::Invalid {
                path: KeyPath::root().key("realms"),
                problem: Problem::EmptyList,
            },
        ]);
        assert_eq!(
            errors.to_string(),
            "sip.t3_ms: unknown key\nrealms: must list at least one entry"
        );
        assert_eq!(errors.len(), 2);
    }
}
