//! Edge policy: source ACLs, rate limits, flood and scanner bans, toll-fraud rules and the
//! security-event log. Operator files live in `policies/` (see `policies/README.md`).
//!
//! | file | kind | what |
//! |---|---|---|
//! | [`file`](mod@file), [`compile`], [`load`], [`error`] | pure (+ file reads) | `policy.toml` and lists → [`Policy`], every problem with its file and key path |
//! | [`model`], [`sets`] | pure | the immutable compiled policy and its lookup sets |
//! | [`engine`] | pure | `evaluate(&ctx, now) -> Decision` per request, `admit_call` per call |
//! | [`limits`], [`bans`], [`fraud`] | pure | governor limiters, violation scores and bans, fraud counters |
//! | [`events`] | pure | security events as JSON lines for fail2ban |
//! | [`store`] | shell | `ArcSwap` of the policy, reload on file change and SIGHUP, event writer, pre-parse gate |
//!
//! The policy itself is immutable and swapped whole on reload; everything that counts
//! (limiters, scores, bans, fraud counters) is held outside it, keyed by rule name, so a reload
//! never resets counters of rules that stay.

pub mod admin;
pub mod bans;
pub mod compile;
pub mod engine;
pub mod error;
pub mod events;
pub mod file;
pub mod fraud;
pub mod limits;
pub mod load;
pub mod model;
pub mod sets;
pub mod store;

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;

pub use compile::Known;
pub use engine::{Decision, Engine, Event, EventAction, RequestCtx, Verdict};
pub use error::{PolicyError, PolicyErrors};
pub use fraud::{Admission, CallCtx, Ticket};
pub use load::{POLICY_FILE, load_dir};
pub use model::{MethodClass, Policy};
pub use store::{PolicyGate, PolicyStore};
