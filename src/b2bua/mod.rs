//! The back-to-back user agent: call table, call state machine, legs, routing and topology
//! hiding (pure), and the signaling task that executes their decisions (shell).
//!
//! What exists now is the edge: [`pipeline`] decides, per request that reached the transaction
//! user, whether the SBC answers it itself (OPTIONS addressed to the SBC: 200; CANCEL: 200/481
//! and 487 on the INVITE) or cannot handle it yet (501), and [`task`] runs the transaction layer
//! against the transports, answering malformed requests with the status the validator mapped.

pub mod call;
pub mod health;
pub mod pipeline;
pub mod registrar;
pub mod route;
pub mod task;
