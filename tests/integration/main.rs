//! Integration tests: one binary.

mod config;
