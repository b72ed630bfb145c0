//! Integration tests: one binary, one module per area.

mod admin;
mod binary;
mod config;
mod conformance;
mod dashboard;
mod deploy;
mod drain;
mod dscp;
mod edge;
mod harness;
mod interop;
mod limits;
mod nat;
mod netlab;
mod ops;
mod outbound;
mod peers;
mod policy;
mod prometheus;
mod registration;
mod sipua;
mod subs;
mod subs_sipp;
mod tls;
mod trunk;
