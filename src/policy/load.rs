//! Loading the policy directory: `policy.toml` plus the plain-text lists it names (relative to
//! the directory). Reading files is the only I/O here; parsing and validation are pure and
//! report every problem with its file and key path (or list line). A directory without
//! `policy.toml` (or no directory at all) means the built-in policy: no limits, no lists.

use crate::config::KeyPath;
use crate::policy::compile::{Known, compile};
use crate::policy::error::{PolicyError, PolicyErrors};
use crate::policy::file::PolicyFile;
use crate::policy::model::Policy;
use std::path::{Path, PathBuf};

/// The main policy file's name inside the policy directory.
pub const POLICY_FILE: &str = "policy.toml";

/// Loads and validates the policy of `dir`.
pub fn load_dir(dir: &Path, known: &Known) -> Result<Policy, PolicyErrors> {
    let file = dir.join(POLICY_FILE);
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Policy::default()),
        Err(e) => return Err(PolicyErrors(vec![PolicyError::file(&file, e.to_string())])),
    };
    let read = |name: &str| {
        let path = resolve(dir, name);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read list {}: {e}", path.display()));
        (path, text)
    };
    parse(&text, &file, known, &read)
}

fn resolve(dir: &Path, name: &str) -> PathBuf {
    let p = Path::new(name);
    if p.is_absolute() {
        p.to_owned()
    } else {
        dir.join(p)
    }
}

/// Parses and validates `text` (the contents of `file`), reading lists through `read`.
pub fn parse(
    text: &str,
    file: &Path,
    known: &Known,
    read: &crate::policy::compile::ReadList<'_>,
) -> Result<Policy, PolicyErrors> {
    let mut errors = Vec::new();
    let deserializer =
        toml::Deserializer::parse(text).map_err(|e| PolicyErrors(vec![syntax(text, file, &e)]))?;
    let doc: PolicyFile = serde_ignored::deserialize(deserializer, |path| {
        errors.push(PolicyError::at(
            file,
            &KeyPath::from_ignored(&path),
            "unknown key",
        ))
    })
    .map_err(|e| PolicyErrors(vec![syntax(text, file, &e)]))?;
    match compile(&doc, file, known, read) {
        Ok(policy) if errors.is_empty() => Ok(policy),
        Ok(_) => Err(PolicyErrors(errors)),
        Err(found) => {
            errors.extend(found);
            Err(PolicyErrors(errors))
        }
    }
}

fn syntax(text: &str, file: &Path, error: &toml::de::Error) -> PolicyError {
    let offset = error.span().map_or(0, |s| s.start).min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    PolicyError {
        file: file.to_owned(),
        location: format!("line {line}"),
        problem: error.message().to_owned(),
    }
}
