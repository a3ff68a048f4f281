//! Interop tests for the `zookeeper-client` crate (crates.io) against a running server.
//!
//! The tests live in `tests/` and are `#[ignore]`d so that `cargo test --workspace` needs no
//! server. `cargo xtask conformance` runs them against our server and Apache ZooKeeper:
//!
//! ```text
//! ZK_ADDR=127.0.0.1:22181 cargo test -p zk-interop -- --ignored --test-threads=1
//! ```
//!
//! This library itself is empty.
