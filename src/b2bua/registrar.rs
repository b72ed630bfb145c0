//! Registration relay state (pure): RFC 3261 §10 seen from an SBC in front of a registrar.
//!
//! Phones in the access realm REGISTER through the SBC; the PBX sees the SBC as the contact. For
//! every phone contact the SBC keeps a [`Binding`]: the phone's own Contact, the *flow* it
//! registered on (the TCP/TLS connection, or the NAT'd UDP source — the only way a call can reach
//! it), `+sip.instance`/`reg-id`, and two clocks: when the phone must refresh (short, to keep NAT
//! pinholes open) and when the PBX registration lapses (long). The Contact shown to the PBX
//! carries a random, opaque binding key as its user part: no state is encoded in the URI, so there
//! is nothing to forge — an unknown key simply matches nothing.
//!
//! Registration caching: a refresh from the same flow, with the same Call-ID and a higher CSeq,
//! for bindings the PBX still holds for longer than one more phone interval, is answered by the
//! SBC itself and never reaches the PBX. Anything else — a new binding, a changed flow, a removal,
//! a query, a refresh without a live PBX registration — is forwarded, so digest challenges from
//! the PBX reach the phone untouched and only an authenticated registration creates a binding.

use crate::sip::header::Contact;
use crate::sip::message::Message;
use crate::sip::uri::Uri;
use bytes::Bytes;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Registration relay settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrarConfig {
    /// Expiry granted to phones on UDP (keeps NAT bindings alive). Default 60 s.
    pub phone_expiry_udp: Duration,
    /// Expiry granted to phones on TCP/TLS (the connection itself is kept alive). Default 300 s.
    pub phone_expiry_stream: Duration,
    /// Expiry asked of the PBX. Default 3600 s.
    pub pbx_expiry: Duration,
    /// Bindings per address of record. Default 10.
    pub max_per_aor: usize,
    /// Bindings in total. Default 100 000.
    pub max_bindings: usize,
}

impl Default for RegistrarConfig {
    fn default() -> Self {
        RegistrarConfig {
            phone_expiry_udp: Duration::from_secs(60),
            phone_expiry_stream: Duration::from_secs(300),
            pbx_expiry: Duration::from_secs(3600),
            max_per_aor: 10,
            max_bindings: 100_000,
        }
    }
}

/// One phone contact registered through the SBC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding<F> {
    /// Opaque key: the user part of the Contact the PBX sees.
    pub key: Bytes,
    /// Canonical address of record (`sip:user@host`, host lowercased).
    pub aor: String,
    /// The phone's Contact URI as it sent it.
    pub contact: Uri,
    /// The flow it registered on.
    pub flow: F,
    /// `+sip.instance`, if given (RFC 5626).
    pub instance: Option<Bytes>,
    /// `reg-id`, if given (RFC 5626).
    pub reg_id: Option<u32>,
    /// Call-ID of the phone's registrations.
    pub call_id: Bytes,
    /// Highest CSeq seen from the phone.
    pub cseq: u32,
    /// When the phone must have refreshed.
    pub phone_expires: Instant,
    /// When the PBX registration lapses; `None` until the PBX accepted it.
    pub pbx_expires: Option<Instant>,
}

/// A contact to put in the REGISTER relayed to the PBX.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardContact {
    /// `<sip:KEY@sbc>;expires=N`.
    Binding {
        /// The binding key (user part).
        key: Bytes,
        /// Expiry to ask the PBX for (0 removes).
        expires: u32,
    },
    /// `*` with `Expires: 0`: remove every binding of the AoR.
    RemoveAll,
}

/// What to do with a REGISTER from a phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Relay to the PBX with these contacts (empty: a query).
    Forward(Vec<ForwardContact>),
    /// Answer 200 from cache with this expiry; the PBX is not involved.
    Cached {
        /// Expiry granted to the phone, seconds.
        expires: u32,
    },
    /// Refuse with this status (400 malformed, 403 too many bindings, 503 table full).
    Reject(u16),
}

/// The registration table.
#[derive(Debug)]
pub struct Registrar<F> {
    config: RegistrarConfig,
    bindings: HashMap<Bytes, Binding<F>>,
}

/// The canonical AoR of a To URI: scheme, user and lowercased host; `None` for non-SIP URIs.
pub fn aor_of(uri: &Uri) -> Option<String> {
    let Uri::Sip(sip) = uri else { return None };
    let user = sip
        .user
        .as_deref()
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    let scheme = if sip.secure { "sips" } else { "sip" };
    Some(format!(
        "{scheme}:{user}@{}",
        sip.host.to_string().to_ascii_lowercase()
    ))
}

impl<F: Clone + PartialEq> Registrar<F> {
    /// An empty table.
    pub fn new(config: RegistrarConfig) -> Self {
        Registrar {
            config,
            bindings: HashMap::new(),
        }
    }

    /// Number of bindings (pending and confirmed).
    pub fn len(&self) -> usize {
        self.bindings.len()
    }

    /// True when no binding is held.
    pub fn is_empty(&self) -> bool {
        self.bindings.is_empty()
    }

    /// The binding a PBX-originated request to `sip:KEY@sbc` is for.
    pub fn lookup(&self, key: &[u8]) -> Option<&Binding<F>> {
        self.bindings.get(key)
    }

    /// The flows of bindings the PBX has accepted.
    pub fn confirmed_flows(&self) -> impl Iterator<Item = &F> + '_ {
        self.bindings
            .values()
            .filter(|b| b.pbx_expires.is_some())
            .map(|b| &b.flow)
    }

    /// Every binding (pending and confirmed).
    pub fn iter(&self) -> impl Iterator<Item = &Binding<F>> {
        self.bindings.values()
    }

    /// Bindings of an address of record.
    pub fn by_aor<'a>(&'a self, aor: &'a str) -> impl Iterator<Item = &'a Binding<F>> + 'a {
        self.bindings.values().filter(move |b| b.aor == aor)
    }

    fn phone_expiry(&self, reliable: bool) -> Duration {
        if reliable {
            self.config.phone_expiry_stream
        } else {
            self.config.phone_expiry_udp
        }
    }

    /// Decides what to do with a phone's REGISTER arriving on `flow`. New bindings get keys from
    /// `new_key` (random, from the shell) and stay pending until [`Registrar::on_pbx_response`].
    pub fn on_register(
        &mut self,
        request: &Message,
        flow: F,
        reliable: bool,
        now: Instant,
        new_key: &mut dyn FnMut() -> Bytes,
    ) -> Decision {
        let (Ok(to), Ok(call_id), Ok(cseq), Ok(contacts)) = (
            request.to_header(),
            request.call_id(),
            request.cseq(),
            request.contacts(),
        ) else {
            return Decision::Reject(400);
        };
        // RFC 3261 §10.3 step 3: an address of record that is not one (not a SIP URI) → 404.
        let Some(aor) = aor_of(&to.uri) else {
            return Decision::Reject(404);
        };
        let default_expires = match request.expires() {
            Ok(e) => e.map_or(3600, |e| e.0),
            Err(_) => return Decision::Reject(400),
        };
        if contacts.is_empty() {
            return Decision::Forward(Vec::new());
        }
        if contacts.iter().any(|c| matches!(c, Contact::Star)) {
            if contacts.len() != 1 || default_expires != 0 {
                return Decision::Reject(400);
            }
            self.bindings.retain(|_, b| b.aor != aor);
            return Decision::Forward(vec![ForwardContact::RemoveAll]);
        }
        let phone_expiry = self.phone_expiry(reliable);
        let mut forward = Vec::new();
        let mut all_cached = true;
        for contact in &contacts {
            let Some(addr) = contact.addr() else { continue };
            let expires = contact.expires().unwrap_or(default_expires);
            let instance = contact.sip_instance();
            let reg_id = contact.reg_id();
            let existing = self
                .bindings
                .values()
                .find(|b| {
                    b.aor == aor
                        && match (&instance, &b.instance) {
                            (Some(i), Some(j)) => i == j && reg_id == b.reg_id,
                            _ => b.contact == addr.uri,
                        }
                })
                .map(|b| b.key.clone());
            if expires == 0 {
                if let Some(key) = existing {
                    self.bindings.remove(&key);
                    forward.push(ForwardContact::Binding { key, expires: 0 });
                }
                all_cached = false;
                continue;
            }
            let key = match existing {
                Some(key) => key,
                None => {
                    if self.bindings.len() >= self.config.max_bindings {
                        return Decision::Reject(503);
                    }
                    if self.by_aor(&aor).count() >= self.config.max_per_aor {
                        return Decision::Reject(403);
                    }
                    let key = new_key();
                    self.bindings.insert(
                        key.clone(),
                        Binding {
                            key: key.clone(),
                            aor: aor.clone(),
                            contact: addr.uri.clone(),
                            flow: flow.clone(),
                            instance: instance.clone(),
                            reg_id,
                            call_id: call_id.as_bytes().clone(),
                            cseq: cseq.seq,
                            phone_expires: now + phone_expiry,
                            pbx_expires: None,
                        },
                    );
                    all_cached = false;
                    forward.push(ForwardContact::Binding {
                        key,
                        expires: self.config.pbx_expiry.as_secs() as u32,
                    });
                    continue;
                }
            };
            let Some(binding) = self.bindings.get_mut(&key) else {
                continue;
            };
            let cacheable = binding.flow == flow
                && binding.call_id == *call_id.as_bytes()
                && cseq.seq > binding.cseq
                && binding
                    .pbx_expires
                    .is_some_and(|t| t > now + phone_expiry + phone_expiry);
            binding.cseq = binding.cseq.max(cseq.seq);
            if cacheable {
                binding.phone_expires = now + phone_expiry;
            } else {
                all_cached = false;
                binding.flow = flow.clone();
                binding.call_id = call_id.as_bytes().clone();
                binding.contact = addr.uri.clone();
                forward.push(ForwardContact::Binding {
                    key,
                    expires: self.config.pbx_expiry.as_secs() as u32,
                });
            }
        }
        if all_cached && forward.is_empty() {
            Decision::Cached {
                expires: phone_expiry.as_secs() as u32,
            }
        } else {
            Decision::Forward(forward)
        }
    }

    /// The PBX answered a REGISTER relayed with `sent` contacts. On 2xx the bindings are
    /// confirmed with the expiry the PBX granted (per contact, else `Expires`, else what was
    /// asked); on a failure, bindings that were never confirmed are dropped (a 401/407 is relayed
    /// to the phone untouched by the caller, and the authenticated retry creates them again).
    /// Returns the expiry to grant the phone, on success.
    pub fn on_pbx_response(
        &mut self,
        sent: &[ForwardContact],
        response: &Message,
        reliable: bool,
        now: Instant,
    ) -> Option<u32> {
        let code = response.status()?;
        let keys = sent.iter().filter_map(|c| match c {
            ForwardContact::Binding { key, expires } if *expires > 0 => Some(key),
            _ => None,
        });
        if !(200..300).contains(&code) {
            for key in keys {
                if self
                    .bindings
                    .get(key)
                    .is_some_and(|b| b.pbx_expires.is_none())
                {
                    self.bindings.remove(key);
                }
            }
            return None;
        }
        let header_expires = response.expires().ok().flatten().map(|e| e.0);
        let granted_contacts = response.contacts().unwrap_or_default();
        let mut granted_min: Option<u32> = None;
        for key in keys {
            let granted = granted_contacts
                .iter()
                .filter_map(Contact::addr)
                .find(|a| matches!(&a.uri, Uri::Sip(s) if s.user.as_deref() == Some(key.as_ref())))
                .and_then(|a| Contact::Addr(a.clone()).expires())
                .or(header_expires)
                .unwrap_or(self.config.pbx_expiry.as_secs() as u32);
            if let Some(b) = self.bindings.get_mut(key) {
                b.pbx_expires = Some(now + Duration::from_secs(u64::from(granted)));
                granted_min = Some(granted_min.map_or(granted, |m| m.min(granted)));
            }
        }
        let phone = self.phone_expiry(reliable).as_secs() as u32;
        Some(granted_min.map_or(phone, |g| g.min(phone)))
    }

    /// Removes bindings whose phone stopped refreshing (with one interval of grace) or whose PBX
    /// registration lapsed; the caller withdraws them at the PBX.
    pub fn expire(&mut self, now: Instant) -> Vec<Binding<F>> {
        let grace = self.config.phone_expiry_udp;
        let dead: Vec<Bytes> = self
            .bindings
            .values()
            .filter(|b| b.phone_expires + grace <= now || b.pbx_expires.is_some_and(|t| t <= now))
            .map(|b| b.key.clone())
            .collect();
        dead.iter()
            .filter_map(|k| self.bindings.remove(k))
            .collect()
    }

    /// Removes the binding with `key`.
    pub fn remove_key(&mut self, key: &[u8]) -> Option<Binding<F>> {
        self.bindings.remove(key)
    }

    /// Removes every binding on `flow` (its connection closed, or its keep-alives failed).
    pub fn remove_flow(&mut self, flow: &F) -> Vec<Binding<F>> {
        let dead: Vec<Bytes> = self
            .bindings
            .values()
            .filter(|b| b.flow == *flow)
            .map(|b| b.key.clone())
            .collect();
        dead.iter()
            .filter_map(|k| self.bindings.remove(k))
            .collect()
    }

    /// Removes every binding whose flow `on_conn` says is on the closed connection.
    pub fn remove_where(&mut self, mut on_conn: impl FnMut(&F) -> bool) -> Vec<Binding<F>> {
        let dead: Vec<Bytes> = self
            .bindings
            .values()
            .filter(|b| on_conn(&b.flow))
            .map(|b| b.key.clone())
            .collect();
        dead.iter()
            .filter_map(|k| self.bindings.remove(k))
            .collect()
    }

    /// The next instant at which [`Registrar::expire`] has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let grace = self.config.phone_expiry_udp;
        self.bindings
            .values()
            .flat_map(|b| [Some(b.phone_expires + grace), b.pbx_expires])
            .flatten()
            .min()
    }
}

#[cfg(test)]
#[path = "registrar_tests.rs"]
mod tests;
