//! Peer credentials for answering digest challenges (trunk `401`/`407`, registrations to a
//! trunk): the files named by a peer's `credentials_file`.
//!
//! A credentials file is TOML with exactly two keys:
//!
//! ```toml
//! username = "trunk-user"
//! password = "s3cret"
//! ```
//!
//! Files are read once at start (and on reload); configuration validation only proves they are
//! readable, so their contents never pass through configuration code. Errors name the file and
//! the problem, never a value from it: a TOML syntax error is reported by line number only.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

use crate::config::model::Peer;
use crate::sip::auth::Credentials;

/// Why a credentials file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CredentialsError {
    /// The file cannot be read.
    #[error("peer {peer}: cannot read {}: {reason}", path.display())]
    Read {
        /// The peer.
        peer: String,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        reason: String,
    },
    /// The file is not a valid credentials file.
    #[error("peer {peer}: {}: {problem}", path.display())]
    Invalid {
        /// The peer.
        peer: String,
        /// The file.
        path: PathBuf,
        /// What is wrong (never a value from the file).
        problem: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialsFile {
    username: String,
    password: String,
}

/// Parses the text of a credentials file. The error describes the problem without quoting the
/// file.
pub fn parse(text: &str) -> Result<Credentials, String> {
    let file: CredentialsFile = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
        match line {
            Some(line) => format!("not a credentials file (line {line}): expected `username = \"...\"` and `password = \"...\"`"),
            None => "not a credentials file: expected `username = \"...\"` and `password = \"...\"`".to_owned(),
        }
    })?;
    if file.username.is_empty() {
        return Err("username is empty".to_owned());
    }
    if file.password.is_empty() {
        return Err("password is empty".to_owned());
    }
    Ok(Credentials::new(file.username, file.password))
}

/// The credentials of every peer that has a `credentials_file`.
#[derive(Debug, Clone, Default)]
pub struct CredentialStore {
    by_peer: HashMap<String, Credentials>,
}

impl CredentialStore {
    /// Reads the credentials files of `peers`; every unusable file is reported.
    pub fn load(peers: &[Peer]) -> Result<CredentialStore, Vec<CredentialsError>> {
        let mut by_peer = HashMap::new();
        let mut errors = Vec::new();
        for peer in peers {
            let Some(path) = &peer.credentials_file else {
                continue;
            };
            match read(&peer.name, path) {
                Ok(credentials) => {
                    by_peer.insert(peer.name.clone(), credentials);
                }
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(CredentialStore { by_peer })
        } else {
            Err(errors)
        }
    }

    /// The credentials of `peer`, if it has any.
    pub fn get(&self, peer: &str) -> Option<&Credentials> {
        self.by_peer.get(peer)
    }

    /// Adds (or replaces) the credentials of `peer`.
    pub fn insert(&mut self, peer: impl Into<String>, credentials: Credentials) {
        self.by_peer.insert(peer.into(), credentials);
    }
}

fn read(peer: &str, path: &Path) -> Result<Credentials, CredentialsError> {
    let text = fs::read_to_string(path).map_err(|e| CredentialsError::Read {
        peer: peer.to_owned(),
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    parse(&text).map_err(|problem| CredentialsError::Invalid {
        peer: peer.to_owned(),
        path: path.to_owned(),
        problem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_two_keys() {
        let c = parse("username = \"alice\"\npassword = \"pw\"\n").unwrap();
        assert_eq!(c, Credentials::new("alice", "pw"));
    }

    #[test]
    fn errors_never_quote_the_file() {
        let cases = [
            ("username = \"alice\"\npassword = s3cret-value\n", "line 2"),
            ("username = \"alice\"\n", "not a credentials file"),
            (
                "username = \"alice\"\npassword = \"pw\"\nrealm = \"x\"\n",
                "line 3",
            ),
            (
                "username = \"\"\npassword = \"s3cret-value\"\n",
                "username is empty",
            ),
            ("username = \"a\"\npassword = \"\"\n", "password is empty"),
        ];
        for (text, expected) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.contains(expected), "{text:?} gave {err:?}");
            assert!(!err.contains("s3cret"), "{err:?} quotes the file");
        }
    }
}
