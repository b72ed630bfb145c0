//! Far-end NAT handling (pure): telling whether a request comes from behind a NAT, from what the
//! request says about itself against where it really came from.
//!
//! - [`detect`](mod@detect): the tests, a useful subset of Kamailio's `nat_uac_test`;
//! - [`keepalive`](mod@keepalive): which registered flows get keep-alive pings, and when; the registration
//!   relay ([`crate::b2bua::register`]) sends them and removes bindings whose pings fail.

pub mod detect;
pub mod keepalive;

pub use detect::{NatTests, detect, is_private};
pub use keepalive::Watch;
