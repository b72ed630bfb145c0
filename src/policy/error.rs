//! Policy errors (pure): every problem found while loading the policy directory, each with the
//! file it is in and the key path inside that file (`rate_limits[2].rate`), or the line of a
//! plain-text list. A load that finds any problem yields [`PolicyErrors`], never a half policy.

use std::fmt;
use std::path::PathBuf;

use crate::config::KeyPath;

/// One problem, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// The file (as resolved) the problem is in.
    pub file: PathBuf,
    /// Where in the file: a key path for TOML, `line N` for lists, empty for the whole file.
    pub location: String,
    /// What is wrong.
    pub problem: String,
}

impl PolicyError {
    /// A problem at key path `path` of `file`.
    pub fn at(file: &std::path::Path, path: &KeyPath, problem: impl Into<String>) -> Self {
        PolicyError {
            file: file.to_owned(),
            location: path.to_string(),
            problem: problem.into(),
        }
    }

    /// A problem on 1-based `line` of a list file.
    pub fn line(file: &std::path::Path, line: usize, problem: impl Into<String>) -> Self {
        PolicyError {
            file: file.to_owned(),
            location: format!("line {line}"),
            problem: problem.into(),
        }
    }

    /// A problem with a whole file (unreadable, not TOML).
    pub fn file(file: &std::path::Path, problem: impl Into<String>) -> Self {
        PolicyError {
            file: file.to_owned(),
            location: String::new(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.is_empty() {
            write!(f, "{}: {}", self.file.display(), self.problem)
        } else {
            write!(
                f,
                "{}: {}: {}",
                self.file.display(),
                self.location,
                self.problem
            )
        }
    }
}

impl std::error::Error for PolicyError {}

/// Every problem of one load, in the order found; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyErrors(pub Vec<PolicyError>);

impl PolicyErrors {
    /// Number of problems.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none (never true for a returned error).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The problems.
    pub fn iter(&self) -> std::slice::Iter<'_, PolicyError> {
        self.0.iter()
    }
}

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PolicyErrors {}
