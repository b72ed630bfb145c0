//! Validation (pure): checks a [`ConfigFile`] as written and builds the typed [`Config`],
//! collecting every problem with its key path instead of stopping at the first.
//!
//! Cross-references (peer → realm, route → realm/peer) are checked against the names as
//! written, so a realm with a bad listener still counts as defined and one mistake does not
//! cascade into a page of follow-up errors.

mod general;
mod media;
mod ops;
mod peers;
mod realms;
mod registration;
mod relay;
mod routes;
mod signaling;
mod transport;

#[cfg(test)]
pub(crate) mod testing;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::error::{ConfigError, ConfigErrors, KeyPath, Problem};
use super::file::ConfigFile;
use super::{Config, FileAccess};

/// Checks `file` and builds the typed configuration, or returns every problem found.
///
/// Relative paths are resolved against `base_dir`; referenced files are checked via `files`.
pub fn validate(
    file: &ConfigFile,
    base_dir: &Path,
    files: &dyn FileAccess,
) -> Result<Config, ConfigErrors> {
    let mut ctx = Ctx {
        base_dir,
        files,
        errors: Vec::new(),
    };
    let names = Names::of(file);
    let realms = realms::validate(&mut ctx, &file.realms);
    let peers = peers::validate(&mut ctx, &file.peers, &names);
    let routes = routes::validate(&mut ctx, &file.routes, &names);
    let sip = general::sip(&mut ctx, &file.sip);
    let transport = transport::validate(&mut ctx, &file.transport);
    let metrics = general::metrics(&mut ctx, &file.metrics);
    let media = relay::validate(&mut ctx, &file.media);
    let policy_dir = general::policy_dir(&mut ctx, file.policy_dir.as_deref());
    let log = general::log(&mut ctx, &file.log);
    let registration = registration::validate(&mut ctx, &file.registration);
    let records = ops::records(&mut ctx, &file.records);
    let admin = ops::admin(&mut ctx, &file.admin, &metrics);
    let shutdown = ops::shutdown(&mut ctx, &file.shutdown);
    let subscriptions = signaling::subscriptions(&mut ctx, &file.subscriptions);
    if !ctx.errors.is_empty() {
        return Err(ConfigErrors::new(ctx.errors));
    }
    Ok(Config {
        realms,
        peers,
        routes,
        sip,
        transport,
        metrics,
        media,
        policy_dir,
        log,
        registration,
        records,
        admin,
        shutdown,
        subscriptions,
    })
}

/// The realm and peer names as written, for cross-reference checks.
struct Names<'a> {
    /// Realm name → whether it has at least one UDP listener as written.
    realms: HashMap<&'a str, bool>,
    /// Peer name → its realm as written.
    peers: HashMap<&'a str, Option<&'a str>>,
}

impl<'a> Names<'a> {
    fn of(file: &'a ConfigFile) -> Self {
        let realms = file
            .realms
            .iter()
            .filter_map(|realm| {
                let has_udp = realm.listeners.iter().any(|l| l.starts_with("udp:"));
                Some((realm.name.as_deref()?, has_udp))
            })
            .collect();
        let peers = file
            .peers
            .iter()
            .filter_map(|peer| Some((peer.name.as_deref()?, peer.realm.as_deref())))
            .collect();
        Self { realms, peers }
    }
}

/// The validation context: where relative paths start, how files are checked, and the problems
/// found so far.
struct Ctx<'a> {
    base_dir: &'a Path,
    files: &'a dyn FileAccess,
    errors: Vec<ConfigError>,
}

impl Ctx<'_> {
    fn report(&mut self, path: KeyPath, problem: impl Into<Problem>) {
        self.errors.push(ConfigError::Invalid {
            path,
            problem: problem.into(),
        });
    }

    /// The value of a required key, reporting [`Problem::Required`] when it is absent.
    fn required<'v, T>(&mut self, value: &'v Option<T>, path: KeyPath) -> Option<&'v T> {
        if value.is_none() {
            self.report(path, Problem::Required);
        }
        value.as_ref()
    }

    /// A realm or peer name: 1-64 letters, digits, `-` or `_` (names become log fields and
    /// metric labels, so they stay short and plain).
    fn name(&mut self, value: &Option<String>, path: KeyPath) -> Option<String> {
        let name = self.required(value, path.clone())?;
        let valid = (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            self.report(path, Problem::InvalidName(name.clone()));
            return None;
        }
        Some(name.clone())
    }

    /// Reports every name after its first use; `names` yields (index, name) per entry of the
    /// table array at `list`.
    fn unique_names<'n>(
        &mut self,
        list: &KeyPath,
        names: impl Iterator<Item = (usize, Option<&'n str>)>,
    ) {
        let mut first_seen: HashMap<&str, usize> = HashMap::new();
        for (index, name) in names {
            let Some(name) = name else { continue };
            match first_seen.get(name) {
                Some(&first) => self.report(
                    list.index(index).key("name"),
                    Problem::DuplicateName {
                        name: name.to_owned(),
                        first: list.index(first).key("name"),
                    },
                ),
                None => {
                    first_seen.insert(name, index);
                }
            }
        }
    }

    /// An integer within `min..=max`, reporting [`Problem::OutOfRange`] otherwise.
    fn int_in(&mut self, value: i64, min: i64, max: i64, path: KeyPath) -> Option<i64> {
        if (min..=max).contains(&value) {
            Some(value)
        } else {
            self.report(path, Problem::OutOfRange { value, min, max });
            None
        }
    }

    /// A keyword from a fixed set; `None` (absent) yields `default`.
    fn keyword<T: Copy>(
        &mut self,
        value: Option<&str>,
        keywords: &Keywords<T>,
        default: T,
        path: KeyPath,
    ) -> T {
        let Some(value) = value else { return default };
        if let Some((_, parsed)) = keywords.table.iter().find(|(word, _)| *word == value) {
            return *parsed;
        }
        self.report(
            path,
            Problem::Keyword {
                value: value.to_owned(),
                expected: keywords.expected,
            },
        );
        default
    }

    /// `path` resolved against the configuration file's directory.
    fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_owned()
        } else {
            self.base_dir.join(path)
        }
    }

    /// Resolves a path that must name a readable file, reporting [`Problem::File`] if not.
    fn readable_file(&mut self, value: &Path, path: KeyPath) -> PathBuf {
        let resolved = self.resolve(value);
        if let Err(source) = self.files.check_file(&resolved) {
            self.report(
                path,
                Problem::File {
                    path: resolved.clone(),
                    source,
                },
            );
        }
        resolved
    }
}

/// Whether two sockets on these addresses compete for the same ports: equal addresses, or
/// one is the wildcard (`0.0.0.0`, `::`) of the other's family.
pub(super) fn same_or_wildcard(a: IpAddr, b: IpAddr) -> bool {
    a == b || (a.is_ipv4() == b.is_ipv4() && (a.is_unspecified() || b.is_unspecified()))
}

/// The words a keyword key accepts and the values they stand for.
struct Keywords<T: 'static> {
    table: &'static [(&'static str, T)],
    /// The words, comma separated, for error messages.
    expected: &'static str,
}
