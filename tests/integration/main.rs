//! Integration tests: one binary, one module per area.

mod admin;
mod binary;
mod config;
mod conformance;
mod dashboard;
mod deploy;
mod drain;
mod edge;
mod harness;
mod interop;
mod limits;
mod ops;
mod outbound;
mod peers;
mod prometheus;
mod tls;
