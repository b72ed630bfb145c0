//! OPTIONS health probing of peers (shell glue, no I/O of its own): sends an OPTIONS to every
//! peer address whose `options_ping_interval_secs` is due, through the transaction layer, and
//! feeds the outcome to the [`PeerHealthTable`](crate::b2bua::health::PeerHealthTable) that
//! routing reads: any final answer but 408/503 means the peer is alive; a timeout, a transport
//! error or 408/503 counts as a failure. `sbc_peer_up{peer}` follows the result.

use crate::b2bua::health::{AddressKey, HealthView};
use crate::b2bua::random::{self, hex};
use crate::b2bua::request;
use crate::b2bua::task::Core;
use crate::metrics::labels::TransactionKind;
use crate::sip::header::{CSeq, NameAddr, Via};
use crate::sip::message::Message;
use crate::sip::method::Method;
use crate::sip::transaction::{TxKey, branch_from};
use crate::sip::uri::{Host, SipUri, Uri};
use crate::transport::Target;
use bytes::Bytes;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;
use tracing::debug;

/// Probes in flight: transaction → the address probed.
pub(crate) type Probes = HashMap<TxKey, AddressKey>;

impl Core {
    /// The next probe deadline.
    pub(crate) fn next_probe(&self) -> Option<Instant> {
        self.health.next_due()
    }

    /// Sends every probe that is due.
    pub(crate) fn send_probes(&mut self, now: Instant) {
        for probe in self.health.due_probes(now) {
            let Some(peer) = self.config.peer(&probe.key.peer) else {
                continue;
            };
            let Some(listener) = self.transports.listeners().iter().position(|l| {
                *l.realm_name == *peer.realm && l.transport == probe.address.transport
            }) else {
                self.health.on_probe_result(&probe.key, false, now);
                continue;
            };
            let info = &self.transports.listeners()[listener];
            let Some(ip) = self
                .peer_names
                .address(&probe.address.host, info.local.ip())
            else {
                // A name that never resolved: the peer cannot be reached.
                self.health.on_probe_result(&probe.key, false, now);
                continue;
            };
            let remote = SocketAddr::new(ip, probe.address.port);
            let request = options_request(
                info.local,
                info.transport.as_str(),
                remote,
                self.server.clone(),
            );
            let target = Target {
                listener: listener as u16,
                transport: probe.address.transport,
                remote,
                conn: None,
            };
            let reliable = target.reliable();
            match self.layer.send_request(request, target, reliable, now) {
                Ok(key) => {
                    self.started(&key, TransactionKind::ClientNonInvite);
                    self.probes.insert(key, probe.key);
                }
                Err(e) => {
                    debug!(error = %e, "probe refused by the transaction layer");
                    self.health.on_probe_result(&probe.key, false, now);
                }
            }
        }
    }

    /// Takes the outcome of a probe transaction; `None` status means timeout or transport error.
    /// Returns false when `key` is not a probe.
    pub(crate) fn probe_result(&mut self, key: &TxKey, status: Option<u16>, now: Instant) -> bool {
        if matches!(status, Some(100..=199)) {
            return self.probes.contains_key(key);
        }
        let Some(address) = self.probes.remove(key) else {
            return false;
        };
        let ok = status.is_some_and(|s| s != 408 && s != 503);
        self.health.on_probe_result(&address, ok, now);
        let up = (0..self
            .config
            .peer(&address.peer)
            .map_or(0, |p| p.addresses.len()))
            .any(|i| self.health.at(now).is_available(&address.peer, i));
        self.metrics.peer_up(&address.peer, up);
        true
    }
}

/// An OPTIONS from the SBC's `local` listener to `remote`.
fn options_request(
    local: SocketAddr,
    transport: &str,
    remote: SocketAddr,
    user_agent: Bytes,
) -> Message {
    let local_host = Host::from(local.ip());
    let via = Via::new(
        Bytes::from(transport.to_ascii_uppercase()),
        local_host.clone(),
        Some(local.port()),
        branch_from(&random::bytes::<16>()),
    );
    let target = Uri::Sip(SipUri::new(Host::from(remote.ip()), Some(remote.port())));
    let mut from = NameAddr::new(Uri::Sip(SipUri::new(local_host, Some(local.port()))));
    from.set_tag(Bytes::from(hex(&random::bytes::<8>())));
    let to = NameAddr::new(target.clone());
    let call_id = Bytes::from(format!("{}@{}", hex(&random::bytes::<12>()), local.ip()));
    let headers = request::base_headers(&via, &from, &to, call_id, &CSeq::new(1, Method::Options));
    request::finish(Method::Options, &target, headers, &user_agent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_request_is_valid() {
        let req = options_request(
            "127.0.0.1:5072".parse().unwrap(),
            "udp",
            "127.0.0.1:5080".parse().unwrap(),
            Bytes::from_static(b"sbc"),
        );
        let parsed = crate::sip::parse_datagram(req.to_bytes(), &Default::default()).unwrap();
        crate::sip::validate::Validator::default()
            .validate(&parsed)
            .unwrap();
        assert!(parsed.top_via().unwrap().is_rfc3261_branch());
        assert_eq!(parsed.cseq().unwrap().method, Method::Options);
        assert_eq!(parsed.request_line().unwrap().uri, "sip:127.0.0.1:5080");
    }
}
