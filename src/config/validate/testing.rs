//! Test support for the validation tables (pure): a complete valid configuration, a fake file
//! system, and cases that edit the configuration and list the exact problems expected.

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};

use crate::config::{Config, ConfigErrors, FileAccess, from_str_with};

/// A valid configuration touching every section; cases edit it.
pub(crate) const BASE: &str = r#"
[[realms]]
name = "access"
listeners = ["udp:127.0.0.1:5070", "tcp:127.0.0.1:5070", "tls:127.0.0.1:5071"]
advertised_address = "sbc.example.com"
[realms.tls]
cert = "server.crt"
key = "server.key"
ca = "ca.crt"
client_auth = "optional"
[realms.media]
address = "127.0.0.1"
port_min = 30000
port_max = 39999
srtp = "optional"

[[realms]]
name = "core"
listeners = ["udp:127.0.0.1:5072"]
[realms.media]
address = "127.0.0.1"
port_min = 40000
port_max = 49999

[[peers]]
name = "pbx"
realm = "core"
addresses = ["udp:127.0.0.1:5080"]
credentials_file = "pbx.secret"
options_ping_interval_secs = 30

[[peers]]
name = "trunk"
realm = "core"
addresses = ["tls:sip.example.net:5061", "tls:[2001:db8::5]"]

[[routes]]
from_realm = "access"
user_prefix = "00"
strip = 2
prepend = "+"
to_peer = "trunk"

[[routes]]
from_realm = "access"
to_peer = "pbx"

[[routes]]
from_peer = "pbx"
domain = "example.com"
to_registered = true
to_realm = "access"

[sip]
t1_ms = 500
t2_ms = 4000
t4_ms = 5000
user_agent = "sbc"

[sip.limits]
max_message_bytes = 65535
max_body_bytes = 32768
max_line_bytes = 8192

[metrics]
listen = "127.0.0.1:9090"

[log]
format = "text"
level = "info"
"#;

/// The directory the test configuration pretends to live in.
pub(crate) const BASE_DIR: &str = "/cfg";

/// A file system holding exactly the files and directories it was given.
#[derive(Debug, Default)]
pub(crate) struct FakeFiles {
    files: HashSet<PathBuf>,
    dirs: HashSet<PathBuf>,
}

impl FakeFiles {
    /// The files [`BASE`] refers to, plus a `policies` directory.
    pub(crate) fn base() -> Self {
        let under = |name: &str| Path::new(BASE_DIR).join(name);
        Self {
            files: ["server.crt", "server.key", "ca.crt", "pbx.secret"]
                .into_iter()
                .map(under)
                .collect(),
            dirs: [under("policies")].into_iter().collect(),
        }
    }
}

impl FileAccess for FakeFiles {
    fn check_file(&self, path: &Path) -> io::Result<()> {
        match self.files.contains(path) {
            true => Ok(()),
            false => Err(io::ErrorKind::NotFound.into()),
        }
    }

    fn check_dir(&self, path: &Path) -> io::Result<()> {
        match self.dirs.contains(path) {
            true => Ok(()),
            false => Err(io::ErrorKind::NotFound.into()),
        }
    }
}

/// How a case changes [`BASE`].
enum Edit {
    /// Text put before the first table (for top-level keys).
    Prepend(String),
    /// Text put after everything (for extra table-array entries and sections).
    Append(String),
    /// The first occurrence of `.0` replaced by `.1`.
    Replace(&'static str, &'static str),
    /// A whole document instead of the base.
    Whole(&'static str),
}

/// One row of a validation table.
pub(crate) struct Case {
    name: &'static str,
    edit: Edit,
    /// Each expected problem is the start of one reported line; the counts must match exactly.
    expected: Vec<&'static str>,
}

impl Case {
    /// A case that appends `extra` to the base configuration.
    pub(crate) fn new(name: &'static str, extra: &str, expected: &[&'static str]) -> Self {
        let edit = Edit::Append(extra.to_owned());
        Self::with(name, edit, expected)
    }

    /// A case that puts `top` before the base configuration's first table.
    pub(crate) fn prepend(name: &'static str, top: &str, expected: &[&'static str]) -> Self {
        Self::with(name, Edit::Prepend(top.to_owned()), expected)
    }

    /// A case that replaces `from` with `to` in the base configuration.
    pub(crate) fn replace(
        name: &'static str,
        from: &'static str,
        to: &'static str,
        expected: &[&'static str],
    ) -> Self {
        Self::with(name, Edit::Replace(from, to), expected)
    }

    /// A case that checks `text` on its own instead of the base configuration.
    pub(crate) fn whole(name: &'static str, text: &'static str, expected: &[&'static str]) -> Self {
        Self::with(name, Edit::Whole(text), expected)
    }

    /// A case that appends `extra` and expects no problem.
    pub(crate) fn ok(name: &'static str, extra: &str) -> Self {
        Self::new(name, extra, &[])
    }

    fn with(name: &'static str, edit: Edit, expected: &[&'static str]) -> Self {
        Self {
            name,
            edit,
            expected: expected.to_vec(),
        }
    }

    fn text(&self) -> String {
        match &self.edit {
            Edit::Prepend(top) => format!("{top}\n{BASE}"),
            Edit::Append(extra) => format!("{BASE}\n{extra}"),
            Edit::Replace(from, to) => {
                assert!(
                    BASE.contains(from),
                    "{}: {from:?} is not in BASE",
                    self.name
                );
                BASE.replacen(from, to, 1)
            }
            Edit::Whole(text) => (*text).to_owned(),
        }
    }
}

/// Parses the base configuration with the fake file system.
pub(crate) fn check(text: &str) -> Result<Config, ConfigErrors> {
    from_str_with(text, Path::new(BASE_DIR), &FakeFiles::base())
}

/// Runs every case and fails with all mismatches listed.
pub(crate) fn run_cases(cases: &[Case]) {
    let mut failures = Vec::new();
    for case in cases {
        let lines: Vec<String> = match check(&case.text()) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.iter().map(ToString::to_string).collect(),
        };
        let matched = lines.len() == case.expected.len()
            && case
                .expected
                .iter()
                .all(|want| lines.iter().any(|line| line.starts_with(want)));
        if !matched {
            failures.push(format!(
                "{}:\n  expected {:?}\n  got      {:?}",
                case.name, case.expected, lines
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// A realm named `name` with one listener and a media range on 127.0.0.3, to append to [`BASE`].
pub(crate) fn extra_realm(name: &str, listener: &str, min: &str, max: &str) -> String {
    extra_realm_raw(name, &format!("[\"{listener}\"]"), min, max)
}

/// Like [`extra_realm`], with the listeners array written out.
pub(crate) fn extra_realm_raw(name: &str, listeners: &str, min: &str, max: &str) -> String {
    format!(
        "[[realms]]\nname = \"{name}\"\nlisteners = {listeners}\n[realms.media]\n\
         address = \"127.0.0.3\"\nport_min = {min}\nport_max = {max}\n"
    )
}
