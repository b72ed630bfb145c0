//! The back-to-back user agent: call table, call state machine, legs, routing and topology
//! hiding (pure), and the signaling task that executes their decisions (shell).
//!
//! - [`call`] (pure): one call as two independent legs (topology hiding built in);
//! - [`route`] (pure): which peer (and address, in failover order) a request goes to;
//!   [`health`] (pure): peer up/down from OPTIONS probes and call outcomes;
//! - [`registrar`] (pure): registration relay state (bindings per flow, caching);
//! - [`credentials`]: peer credentials files, for answering trunk digest challenges;
//! - [`registrant`] (pure + glue): the SBC's own registrations with trunks;
//! - [`resolve`] (shell): peer host names resolved in the background;
//! - [`keepalive`] (glue): keep-alives to registered phones, bindings withdrawn at the PBX;
//! - [`pipeline`] (pure): what the SBC answers itself (OPTIONS to the SBC → 200; requests it
//!   does not handle → 501);
//! - [`task`] and [`calls`] (shell): the signaling task — transaction layer, call table, timers;
//!   [`control`] (shell): its bounded request channel (admin queries, drain, reload);
//! - [`cdr`] (pure record, shell writer): one JSON call record per call.
//! - [`subscription`] (pure): one RFC 6665 subscription as two dialogs, and the one-transaction
//!   relay of MESSAGE, PUBLISH and unsolicited NOTIFY ([`subscription::oneshot`]);
//! - [`task`] and [`calls`] (shell): the signaling task — transaction layer, call table, timers;
//!   [`subs`] and [`message`] (shell): its subscription table, out-of-dialog routing, admission
//!   and relays.

pub mod call;
pub mod calls;
pub mod cdr;
pub mod control;
pub mod credentials;
pub mod health;
pub mod keepalive;
mod media;
pub mod message;
pub mod pipeline;
pub mod policy;
pub mod probe;
mod random;
pub mod register;
pub mod registrant;
pub mod registrar;
mod request;
pub mod resolve;
pub mod route;
pub mod subs;
pub mod subscription;
pub mod task;
