//! Peer host names (shell): peers may be configured by DNS name (`tls:sip.trunk.example.net`).
//! A background task resolves every such name with the system resolver (A/AAAA through
//! `getaddrinfo`, so `/etc/hosts` and the local resolver's caching apply) at start and then
//! every [`REFRESH`]; the signaling task reads the latest answers without waiting. A failed
//! lookup keeps the previous answer (a resolver outage does not take trunks down) and is logged.
//! TLS connections to a named peer verify the certificate against the name, not the address.
//!
//! SRV and NAPTR (RFC 3263 §4.1–4.2) are not used: a peer's transport and port are configured.

use crate::app::Shutdown;
use crate::config::{Config, Host as ConfigHost};
use crate::transport::Transports;
use arc_swap::ArcSwap;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tracing::{debug, warn};

/// How often names are resolved again.
pub const REFRESH: Duration = Duration::from_secs(60);
/// The longest one lookup may take.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// The latest addresses of every peer host name.
#[derive(Debug, Default)]
pub struct PeerNames {
    answers: ArcSwap<HashMap<String, Vec<IpAddr>>>,
}

impl PeerNames {
    /// The address to use for `host` from a socket bound to `local`: itself when it is an IP,
    /// else the first address its name resolved to in `local`'s family (`None` before any
    /// successful lookup, or when the name has no address of that family).
    pub fn address(&self, host: &ConfigHost, local: IpAddr) -> Option<IpAddr> {
        match host {
            ConfigHost::Ip(ip) => Some(*ip),
            ConfigHost::Name(name) => self
                .answers
                .load()
                .get(name)?
                .iter()
                .find(|ip| ip.is_ipv4() == local.is_ipv4())
                .copied(),
        }
    }

    /// Whether `ip` is one of `host`'s addresses.
    pub fn matches(&self, host: &ConfigHost, ip: IpAddr) -> bool {
        match host {
            ConfigHost::Ip(own) => *own == ip,
            ConfigHost::Name(name) => self
                .answers
                .load()
                .get(name)
                .is_some_and(|list| list.contains(&ip)),
        }
    }

    /// Resolves every peer host name in `config` once, keeping earlier answers for names that
    /// fail; tells `transports` which name each address stands for (TLS verification).
    pub async fn refresh(&self, config: &Config, transports: &Transports) {
        let mut answers = (**self.answers.load()).clone();
        for name in names(config) {
            match lookup(&name).await {
                Ok(list) if !list.is_empty() => {
                    debug!(%name, addresses = ?list, "peer name resolved");
                    for ip in &list {
                        transports.set_server_name(*ip, &name);
                    }
                    answers.insert(name, list);
                }
                Ok(_) => warn!(%name, "peer name has no addresses; keeping the last answer"),
                Err(error) => {
                    warn!(%name, %error, "cannot resolve peer name; keeping the last answer")
                }
            }
        }
        self.answers.store(Arc::new(answers));
    }

    /// Sets answers directly (tests and tools).
    pub fn insert(&self, name: &str, addresses: Vec<IpAddr>) {
        let mut answers = (**self.answers.load()).clone();
        answers.insert(name.to_owned(), addresses);
        self.answers.store(Arc::new(answers));
    }
}

/// Every distinct host name among the peers' addresses.
fn names(config: &Config) -> Vec<String> {
    let mut list: Vec<String> = config
        .peers
        .iter()
        .flat_map(|p| &p.addresses)
        .filter_map(|a| match &a.host {
            ConfigHost::Name(name) => Some(name.clone()),
            ConfigHost::Ip(_) => None,
        })
        .collect();
    list.sort();
    list.dedup();
    list
}

async fn lookup(name: &str) -> std::io::Result<Vec<IpAddr>> {
    let query = tokio::net::lookup_host((name, 0));
    let found = tokio::time::timeout(LOOKUP_TIMEOUT, query)
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "lookup timed out"))??;
    let mut list: Vec<IpAddr> = Vec::new();
    for addr in found {
        if !list.contains(&addr.ip()) {
            list.push(addr.ip());
        }
    }
    Ok(list)
}

/// Resolves the peers' names every [`REFRESH`] until shutdown.
pub async fn run(
    names: Arc<PeerNames>,
    config: Arc<Config>,
    transports: Arc<Transports>,
    mut shutdown: Shutdown,
) {
    if self::names(&config).is_empty() {
        return;
    }
    loop {
        tokio::select! {
            () = tokio::time::sleep(REFRESH) => names.refresh(&config, &transports).await,
            _ = shutdown.triggered() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_in_the_sockets_family_and_ips_stand_for_themselves() {
        let names = PeerNames::default();
        let v4: IpAddr = "127.0.0.1".parse().unwrap();
        let v6: IpAddr = "::1".parse().unwrap();
        let trunk = ConfigHost::Name("trunk.example".into());
        assert_eq!(names.address(&trunk, v4), None, "nothing before a lookup");
        names.insert("trunk.example", vec![v6, "192.0.2.7".parse().unwrap()]);
        assert_eq!(
            names.address(&trunk, v4),
            Some("192.0.2.7".parse().unwrap())
        );
        assert_eq!(names.address(&trunk, v6), Some(v6));
        names.insert("trunk.example", vec![v6]);
        assert_eq!(names.address(&trunk, v4), None, "no address of that family");
        let ip = ConfigHost::Ip("198.51.100.1".parse().unwrap());
        assert_eq!(
            names.address(&ip, v6),
            Some("198.51.100.1".parse().unwrap())
        );
        assert!(names.matches(&trunk, v6));
        assert!(!names.matches(&trunk, v4));
        assert!(names.matches(&ip, "198.51.100.1".parse().unwrap()));
    }
}
