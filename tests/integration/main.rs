//! Integration tests: one binary, one module per area.

mod binary;
mod config;
mod conformance;
mod dashboard;
mod dscp;
mod edge;
mod harness;
mod interop;
mod limits;
mod nat;
mod netlab;
mod outbound;
mod peers;
mod policy;
mod registration;
mod sipua;
mod subs;
mod subs_sipp;
mod tls;
mod trunk;
