//! The policy's admin endpoints (shell), served by the admin API behind its token:
//!
//! - `GET /admin/policy`: the policy version in force (1 at start, one more per reload that
//!   applied), its directory, and the last reload's result with its problems;
//! - `GET /admin/bans`: the sources banned now, with the seconds each ban has left;
//! - `DELETE /admin/bans`: lifts every ban; `DELETE /admin/bans/<source>` lifts one, where
//!   source is `ip` (every port; IPv6 per /64) or `ip:port` (`[v6]:port`) as listed.
//!
//! A lifted ban does not reset the source's violation score: a source that keeps misbehaving is
//! banned again.

use crate::metrics::admin::{AdminExtension, json};
use crate::policy::PolicyStore;
use crate::policy::bans::BanKey;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Response, StatusCode};
use serde::Serialize;
use std::sync::Arc;
use tracing::info;

/// The policy's admin endpoints.
pub struct PolicyAdmin {
    store: Arc<PolicyStore>,
}

impl PolicyAdmin {
    /// Endpoints over `store`.
    pub fn new(store: Arc<PolicyStore>) -> Self {
        Self { store }
    }
}

#[derive(Serialize)]
struct Ban {
    source: String,
    remaining_secs: u64,
}

#[derive(Serialize)]
struct PolicyStatus {
    version: u64,
    dir: String,
    bans_active: usize,
    last_reload: Option<LastReload>,
}

#[derive(Serialize)]
struct LastReload {
    result: &'static str,
    errors: Vec<String>,
}

#[derive(Serialize)]
struct Lifted {
    lifted: usize,
}

#[derive(Serialize)]
struct Problem {
    error: &'static str,
}

fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

impl AdminExtension for PolicyAdmin {
    fn respond(&self, method: &Method, path: &str) -> Option<Response<Full<Bytes>>> {
        let bans = self.store.bans();
        match (method, path) {
            (&Method::GET, "/admin/policy") => {
                let last = self.store.last_reload().map(|errors| LastReload {
                    result: if errors.is_empty() { "ok" } else { "error" },
                    errors: errors.to_vec(),
                });
                let status = PolicyStatus {
                    version: self.store.version(),
                    dir: self.store.dir().display().to_string(),
                    bans_active: bans.list(now()).len(),
                    last_reload: last,
                };
                Some(json(StatusCode::OK, &status))
            }
            (&Method::GET, "/admin/bans") => {
                let list: Vec<Ban> = bans
                    .list(now())
                    .into_iter()
                    .map(|(key, left)| Ban {
                        source: key.to_string(),
                        remaining_secs: left.as_secs().max(1),
                    })
                    .collect();
                Some(json(StatusCode::OK, &list))
            }
            (&Method::DELETE, "/admin/bans") => {
                let lifted = bans.clear();
                info!(lifted, "every ban lifted through the admin API");
                Some(json(StatusCode::OK, &Lifted { lifted }))
            }
            (&Method::DELETE, p) if p.starts_with("/admin/bans/") => {
                let text = &p["/admin/bans/".len()..];
                let Some(key) = BanKey::parse(text) else {
                    return Some(json(
                        StatusCode::BAD_REQUEST,
                        &Problem {
                            error: "not an ip or ip:port",
                        },
                    ));
                };
                if bans.lift(&key) {
                    info!(source = %key, "ban lifted through the admin API");
                    Some(json(StatusCode::OK, &Lifted { lifted: 1 }))
                } else {
                    Some(json(
                        StatusCode::NOT_FOUND,
                        &Problem {
                            error: "no such ban",
                        },
                    ))
                }
            }
            (_, "/admin/policy" | "/admin/bans") => Some(json(
                StatusCode::METHOD_NOT_ALLOWED,
                &Problem {
                    error: "method not allowed",
                },
            )),
            _ => None,
        }
    }
}
