//! Integration tests: one binary, one module per area.

mod config;
mod conformance;
mod edge;
mod harness;
