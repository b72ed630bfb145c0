//! Integration tests: one binary, one module per area.

mod binary;
mod config;
mod conformance;
mod dashboard;
mod edge;
mod harness;
mod interop;
mod limits;
mod outbound;
mod peers;
mod policy;
mod registration;
mod tls;
mod trunk;
