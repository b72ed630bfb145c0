//! Configuration (pure, except [`load`] and [`HostFiles`], which read the file system): the TOML
//! model, its documented defaults and validation that reports every problem at once.
//!
//! # Shape
//!
//! ```toml
//! policy_dir = "policies"              # optional; default "policies" beside this file
//!
//! [[realms]]                           # one per network side; at least one
//! name = "access"
//! listeners = ["udp:0.0.0.0:5060", "tls:0.0.0.0:5061"]
//! advertised_address = "203.0.113.10" # optional, for 1:1 NAT
//! [realms.tls]                         # required when a listener is tls:
//! cert = "certs/server.crt"
//! key = "certs/server.key"
//! [realms.media]
//! address = "10.0.0.10"
//! port_min = 30000
//! port_max = 39999
//!
//! [[peers]]
//! name = "pbx"
//! realm = "core"
//! addresses = ["udp:10.0.1.5:5060"]
//!
//! [[routes]]                           # tried in order, first match wins
//! from_realm = "access"
//! to_peer = "pbx"
//! ```
//!
//! `deploy/sbc.toml` documents every key. Sections `[sip]`, `[sip.limits]`, `[metrics]`,
//! `[media]`, `[log]` and the operations sections of [`ops`] (`[records]`, `[admin]`,
//! `[shutdown]`) are optional; their defaults are listed on the fields of [`SipConfig`],
//! [`SipLimits`], [`MetricsConfig`], [`RelayConfig`] and [`LogConfig`].
//!
//! # Errors
//!
//! Loading happens in two steps. The document is deserialized into [`file::ConfigFile`], which
//! keeps addresses, keywords and numbers as written so a bad value never stops the parse; keys
//! the model does not define are collected on the way (with `serde_ignored`). Then
//! [`validate()`](validate::validate) checks every value and cross-reference and builds the typed
//! [`Config`]. Unknown keys and validation findings are returned together in [`ConfigErrors`],
//! each with its key path, e.g. `realms[1].listeners[0]`. Only TOML syntax errors (and values of
//! the wrong TOML type) stop early, because nothing after them can be trusted.
//!
//! Relative paths (`cert`, `key`, `ca`, `credentials_file`, `policy_dir`) are resolved against
//! the directory of the configuration file. `policy_dir`, when set explicitly, must be an
//! existing directory; the default `policies` may be absent, in which case the SBC runs with
//! built-in policy only.

pub mod address;
pub mod diff;
pub mod error;
pub mod file;
pub mod media;
pub mod model;
pub mod ops;
pub mod registration;
pub mod signaling;
pub mod validate;

#[cfg(test)]
mod tests;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use address::{AddressError, Host, Listener, PeerAddress, Transport};
pub use error::{ConfigError, ConfigErrors, KeyPath, Problem};
pub use media::RelayConfig;
pub use model::{
    ClientAuth, LogConfig, LogFormat, MediaConfig, MetricsConfig, Peer, Realm, Route, RouteTarget,
    SipConfig, SipLimits, SrtpMode, TlsConfig, TransportConfig,
};
pub use ops::{AdminConfig, RecordsConfig, ShutdownConfig};
pub use registration::RegistrationConfig;
pub use signaling::{DscpConfig, SubscriptionsConfig};
pub use validate::validate;

use file::ConfigFile;

/// The validated configuration of one SBC instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Network sides, in file order; at least one, names unique.
    pub realms: Vec<Realm>,
    /// SIP servers the SBC talks to; names unique.
    pub peers: Vec<Peer>,
    /// Routing rules in file order; the first match wins.
    pub routes: Vec<Route>,
    /// Protocol timers, identity and message limits.
    pub sip: SipConfig,
    /// Connection limits, timeouts and queue bounds of the SIP listeners.
    pub transport: TransportConfig,
    /// The Prometheus endpoint.
    pub metrics: MetricsConfig,
    /// The media relay's timers, threads and buffers (`[media]`).
    pub media: RelayConfig,
    /// Directory of policy files, resolved against the configuration file's directory.
    /// Default: `policies` beside the configuration file (which may be absent).
    pub policy_dir: PathBuf,
    /// Log format and filter.
    pub log: LogConfig,
    /// The registration relay's lifetimes, bounds and keep-alives.
    pub registration: RegistrationConfig,
    /// Call records (`[records]`).
    pub records: RecordsConfig,
    /// The admin API (`[admin]`).
    pub admin: AdminConfig,
    /// Graceful shutdown (`[shutdown]`).
    pub shutdown: ShutdownConfig,
    /// Subscription dialogs and out-of-dialog request relay.
    pub subscriptions: SubscriptionsConfig,
}

impl Config {
    /// The realm with this name.
    pub fn realm(&self, name: &str) -> Option<&Realm> {
        self.realms.iter().find(|realm| realm.name == name)
    }

    /// The peer with this name.
    pub fn peer(&self, name: &str) -> Option<&Peer> {
        self.peers.iter().find(|peer| peer.name == name)
    }
}

/// Reads, parses and validates the configuration file at `path`.
///
/// Relative paths inside it are resolved against the file's directory.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let text = fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let base_dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    from_str(&text, base_dir)
}

/// Parses and validates configuration text; relative paths are resolved against `base_dir`,
/// and referenced files are checked on the host file system.
pub fn from_str(text: &str, base_dir: &Path) -> Result<Config, ConfigErrors> {
    from_str_with(text, base_dir, &HostFiles)
}

/// Parses and validates configuration text, checking referenced files through `files`.
pub fn from_str_with(
    text: &str,
    base_dir: &Path,
    files: &dyn FileAccess,
) -> Result<Config, ConfigErrors> {
    let mut errors = Vec::new();
    let deserializer = toml::Deserializer::parse(text).map_err(|e| syntax_error(text, &e))?;
    let document: ConfigFile = serde_ignored::deserialize(deserializer, |path| {
        errors.push(ConfigError::UnknownKey {
            path: KeyPath::from_ignored(&path),
        });
    })
    .map_err(|e| syntax_error(text, &e))?;
    match validate::validate(&document, base_dir, files) {
        Ok(config) if errors.is_empty() => Ok(config),
        Ok(_) => Err(ConfigErrors::new(errors)),
        Err(found) => {
            errors.extend(found.into_vec());
            Err(ConfigErrors::new(errors))
        }
    }
}

/// Turns a TOML error into a one-line [`ConfigError::Syntax`] with a 1-based position.
fn syntax_error(text: &str, error: &toml::de::Error) -> ConfigError {
    let offset = error.span().map_or(0, |span| span.start).min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    ConfigError::Syntax {
        line,
        column,
        message: error.message().trim().replace('\n', " "),
    }
}

/// How validation checks the files and directories a configuration refers to.
///
/// Validation itself never touches the file system; [`HostFiles`] does, and tests substitute a
/// fake.
pub trait FileAccess {
    /// `Ok` if `path` is a regular file this process can open for reading.
    fn check_file(&self, path: &Path) -> io::Result<()>;
    /// `Ok` if `path` is an existing directory.
    fn check_dir(&self, path: &Path) -> io::Result<()>;
}

/// [`FileAccess`] on the real file system. Files are opened to prove they are readable, never
/// read: credential and key contents do not pass through configuration code.
#[derive(Debug, Clone, Copy, Default)]
pub struct HostFiles;

impl FileAccess for HostFiles {
    fn check_file(&self, path: &Path) -> io::Result<()> {
        if !fs::metadata(path)?.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        fs::File::open(path).map(drop)
    }

    fn check_dir(&self, path: &Path) -> io::Result<()> {
        if fs::metadata(path)?.is_dir() {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a directory",
            ))
        }
    }
}
