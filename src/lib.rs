//! # sbc — a Session Border Controller
//!
//! A SIP back-to-back user agent for the network edge between an IP-PBX / SIP trunk and remote
//! phones on the internet. The crate is split into a **pure, sans-IO core** that takes bytes,
//! values and `now` and returns values, events or actions, and a **thin async shell** that owns
//! sockets, tasks and the clock.
//!
//! ```text
//!  socket ─► transport (framing) ─► sip::parse ─► pipeline (limits → policy → NAT → route)
//!         ─► transaction layer ─► b2bua::Call (pure) ─► actions ─► shell executes them
//! ```
//!
//! | module | kind | purpose |
//! |---|---|---|
//! | [`sip`] | pure | SIP messages: framing, parsing, typed headers, URIs, printing, limits, validation |
//! | [`sdp`] | pure | line-preserving SDP parser, typed media views, per-leg offer/answer rewriter |
//! | [`config`] | pure | TOML configuration model, defaults and `validate()` reporting every problem |
//! | [`error`] | pure | the one place where errors map to a SIP status, a side and a metric reason |
//! | [`policy`] | pure evaluation, shell reload | ACLs, rate limits, flood and scanner bans, toll fraud, security events |
//! | [`nat`] | pure | far-end NAT detection (Via, Contact and SDP against the observed source) |
//! | [`metrics`] | pure families, shell HTTP | Prometheus metric families and `/metrics`, `/healthz`, `/readyz`, the admin API |
//! | [`tls`] | shell | rustls server/client configurations, mutual TLS, certificate hot reload |
//! | [`transport`] | shell (+ pure routing) | UDP/TCP/TLS listeners, framing, connection table, response routing |
//! | [`b2bua`] | pure decisions, shell task | edge pipeline and the signaling task over the transaction layer; call records |
//! | [`media`] | pure model, shell relay | media anchoring: port pools, RTP/RTCP views, strict latching, relay threads, `MediaControl` |
//! | [`reload`] | shell | configuration reload (SIGHUP, `POST /admin/reload`) |
//! | [`app`] | shell | composition root: config → listeners and tasks; drain and shutdown, SIGHUP reload |
//!
//! The binary (`src/main.rs`) is the command line: `sbc run --config FILE` and
//! `sbc check-config FILE`.

pub mod app;
pub mod b2bua;
pub mod config;
pub mod error;
pub mod media;
pub mod metrics;
pub mod nat;
pub mod policy;
pub mod reload;
pub mod sdp;
pub mod sip;
pub mod tls;
pub mod transport;
