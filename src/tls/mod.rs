//! TLS: rustls server and client configurations, mutual TLS and certificate hot reload (shell).
