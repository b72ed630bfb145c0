//! Registrations of the SBC with trunks (shell glue, no I/O of its own): builds one
//! [`Registrant`] per peer with a `[peers.registration]` section, sends what is due through the
//! transaction layer from the peer realm's listener to the peer's first address, and feeds the
//! outcome back. `sbc_trunk_registered{peer}` follows the result.

use super::{Outcome, Registrant};
use crate::b2bua::random;
use crate::b2bua::task::Core;
use crate::config::Config;
use crate::config::Host as ConfigHost;
use crate::metrics::labels::TransactionKind;
use crate::sip::message::Message;
use crate::sip::transaction::{TxKey, branch_from};
use crate::sip::uri::Host;
use crate::transport::Target;
use bytes::Bytes;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;
use tracing::{info, warn};

/// Every registration of the SBC, by peer name, with the transactions in flight.
#[derive(Debug, Default)]
pub(crate) struct Registrants {
    list: Vec<(String, Registrant)>,
    pending: HashMap<TxKey, usize>,
}

impl Registrants {
    /// One registration per peer that asks for one.
    pub(crate) fn from_config(
        config: &Config,
        credentials: &crate::b2bua::credentials::CredentialStore,
        now: Instant,
    ) -> Registrants {
        let list = config
            .peers
            .iter()
            .filter_map(|peer| {
                let r = peer.registration.as_ref()?;
                let domain = match &r.domain {
                    Some(d) => match d.parse::<std::net::IpAddr>() {
                        Ok(ip) => Host::from(ip),
                        Err(_) => Host::Name(Bytes::from(d.clone())),
                    },
                    None => match peer.addresses.first()?.host.clone() {
                        ConfigHost::Ip(ip) => Host::from(ip),
                        ConfigHost::Name(name) => Host::Name(Bytes::from(name)),
                    },
                };
                let registrant = Registrant::new(
                    &r.user,
                    domain,
                    r.expires,
                    r.retry,
                    credentials.get(&peer.name).cloned(),
                    random::bytes(),
                    now,
                );
                Some((peer.name.clone(), registrant))
            })
            .collect();
        Registrants {
            list,
            pending: HashMap::new(),
        }
    }

    /// The earliest time a registration needs attention.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.list.iter().filter_map(|(_, r)| r.next_due()).min()
    }
}

impl Core {
    /// Sends every REGISTER that is due.
    pub(crate) fn send_registrations(&mut self, now: Instant) {
        for index in 0..self.registrants.list.len() {
            let Some((peer_name, registrant)) = self.registrants.list.get(index) else {
                continue;
            };
            if registrant.next_due().is_none_or(|at| at > now) {
                continue;
            }
            let peer_name = peer_name.clone();
            let Some((target, local)) = self.registration_route(&peer_name) else {
                let (_, registrant) = &mut self.registrants.list[index];
                if let Outcome::Failed { retry_in, .. } = registrant.on_no_response(now) {
                    warn!(peer = %peer_name, ?retry_in, "no address or listener to register from");
                }
                continue;
            };
            let branch = branch_from(&random::bytes::<16>());
            let (_, registrant) = &mut self.registrants.list[index];
            let Some(request) = registrant.poll_request(&local, branch, &self.server, now) else {
                continue;
            };
            let reliable = target.reliable();
            match self.layer.send_request(request, target, reliable, now) {
                Ok(key) => {
                    self.started(&key, TransactionKind::ClientNonInvite);
                    self.registrants.pending.insert(key, index);
                }
                Err(error) => {
                    warn!(peer = %peer_name, %error, "REGISTER refused by the transaction layer");
                    let (_, registrant) = &mut self.registrants.list[index];
                    registrant.on_no_response(now);
                }
            }
        }
    }

    /// Where REGISTERs to `peer` go: its first address (an IP), from its realm's listener of
    /// that transport.
    fn registration_route(&self, peer: &str) -> Option<(Target, crate::b2bua::call::LegIdentity)> {
        let peer = self.config.peer(peer)?;
        let address = peer.addresses.first()?;
        let listener = self.listener_for(&peer.realm, address.transport)?;
        let local_ip = self.transports.listener(listener)?.local.ip();
        let ip = self.peer_names.address(&address.host, local_ip)?;
        let local = self.leg_identity(listener)?;
        let target = Target {
            listener,
            transport: address.transport,
            remote: SocketAddr::new(ip, address.port),
            conn: None,
        };
        Some((target, local))
    }

    /// Takes the outcome of a REGISTER of the SBC's own (`None`: timeout or transport error).
    /// Returns false when `key` is not one.
    pub(crate) fn registrant_result(
        &mut self,
        key: &TxKey,
        response: Option<&Message>,
        now: Instant,
    ) -> bool {
        if response.is_some_and(|r| r.status().is_some_and(|s| s < 200)) {
            return self.registrants.pending.contains_key(key);
        }
        let Some(index) = self.registrants.pending.remove(key) else {
            return false;
        };
        let Some((peer, registrant)) = self.registrants.list.get_mut(index) else {
            return true;
        };
        let outcome = match response {
            Some(r) => registrant.on_response(r, now),
            None => registrant.on_no_response(now),
        };
        match outcome {
            Outcome::Registered { expires } => {
                info!(peer = %peer, expires = expires.as_secs(), "registered with trunk");
            }
            Outcome::Failed { status, retry_in } => {
                warn!(peer = %peer, ?status, retry_in = retry_in.as_secs(), "trunk registration failed");
            }
            Outcome::Retry | Outcome::Provisional => {}
        }
        let registered = registrant.is_registered(now);
        let peer = peer.clone();
        self.metrics.trunk_registered(&peer, registered);
        if matches!(outcome, Outcome::Retry) {
            self.send_registrations(now);
        }
        true
    }
}
